// SPDX-License-Identifier: MIT
//
// Gathers: one continuation for many requests, every item with its own typed
// outcome, in the modes all, quorum and first; under one deadline that may
// be inherited; when the actor ends first; through a limiter; and blocking
// from a client handle. A driver actor runs each scenario on a "run"
// request and answers it from the continuation.
#include <string.h>

#include "tr_actors.h"
#include "tr_check.h"

#define N_MAX 1000

static troupe_node *node;
static troupe_client *cl;

// What the continuation saw (written on the driver's thread, read by the
// test after the driver's answer).
static struct {
    int runs;                 // times the continuation ran
    int result;               // troupe_gather_result
    size_t size, ok;          // troupe_gather_size, count(0)
    int status[N_MAX];        // each item's
    int64_t x[N_MAX];         // each ok reply's x (or deadline)
    int64_t at;               // troupe_now() when it ran
    troupe_limiter_stats lim; // the limiter's, if any
} out;

// Targets and parameters of the scenario (set by the test before "run").
static struct {
    troupe_addr echo[8], hold, dead;
    troupe_gather_mode mode;
    size_t quorum;
    int64_t deadline;
    int exit_after; // the driver exits after starting
} in;

static troupe_limiter *lim; // the driver's, in the limiter scenario

typedef int (*scenario_fn)(troupe_ctx *cx, troupe_deferred *d);
static scenario_fn scenario;

static void setup(void)
{
    node = tr_node_new(2);
    TR_CK_OK(troupe_client_new(node, &cl));
    memset(&out, 0, sizeof out);
    memset(&in, 0, sizeof in);
    lim = NULL;
}

static void teardown(void)
{
    troupe_client_destroy(&cl);
    tr_node_destroy_clean(&node);
}

// The continuation: record everything, answer the driver's caller.
static int record(troupe_ctx *cx, void *state, troupe_gather *g, void *arg)
{
    (void)state;
    troupe_deferred *d = arg;
    out.runs++;
    out.result = troupe_gather_result(g);
    out.size = troupe_gather_size(g);
    out.ok = troupe_gather_count(g, 0);
    out.at = troupe_now();
    for (size_t i = 0; i < out.size && i < N_MAX; i++) {
        out.status[i] = troupe_gather_status(g, i);
        const troupe_msg *r = troupe_gather_reply(g, i);
        ck_assert((out.status[i] == 0) == (r != NULL));
        if (r)
            troupe_msg_read(r, "{s?I s?I}", "x", &out.x[i], "deadline",
                            &out.x[i]);
    }
    if (lim) {
        TR_CK_OK(troupe_limiter_stats_get(lim, &out.lim));
        troupe_limiter_destroy(&lim);
    }
    return d ? troupe_deferred_reply(cx, &d, NULL) : 0;
}

static int driver_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)state;
    if (troupe_msg_is(msg, "ping"))
        return troupe_reply(cx, msg, NULL);
    if (!troupe_msg_is(msg, "run"))
        return 0;
    troupe_deferred *d;
    TR_CK_OK(troupe_defer(cx, msg, &d));
    return scenario(cx, d);
}

static troupe_addr spawn_driver(void)
{
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = driver_handle;
    s.loop = TROUPE_LOOP(0);
    troupe_addr a;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &a));
    return a;
}

// Run scenario f in a new driver, wait for its answer, and make sure
// nothing more runs afterwards (a second continuation would show in a
// later ping's answer).
static void run(scenario_fn f, int64_t deadline)
{
    scenario = f;
    troupe_addr drv = spawn_driver();
    troupe_msg *r = NULL;
    TR_CK_OK(troupe_call(cl, drv, "run", deadline, &r, NULL));
    troupe_msg_destroy(&r);
    if (!in.exit_after)
        TR_CK_OK(
            troupe_call(cl, drv, "ping", troupe_deadline_in(5000), &r, NULL));
    troupe_msg_destroy(&r);
}

static void spawn_targets(void)
{
    for (int i = 0; i < 8; i++) {
        troupe_actor_spec s = tr_echo_spec(TROUPE_SHARED, NULL);
        s.loop = TROUPE_LOOP(i % 2);
        TR_CK_OK(
            troupe_node_spawn(node, &s, troupe_deadline_in(5000), &in.echo[i]));
    }
    static tr_hold_state hold;
    memset(&hold, 0, sizeof hold);
    in.hold = tr_spawn_hold(node, 1, &hold);
    // An address whose actor has ended.
    in.dead = tr_spawn_echo(node, TROUPE_SHARED, NULL);
    uint64_t ref;
    TR_CK_OK(troupe_client_monitor(cl, in.dead, &ref));
    TR_CK_OK(troupe_node_stop_actor(node, in.dead, 0));
    troupe_msg *down = NULL;
    TR_CK_OK(troupe_client_recv(cl, troupe_deadline_in(5000), &down));
    ck_assert_int_eq(troupe_msg_kind_of(down), TROUPE_MSG_DOWN);
    troupe_msg_destroy(&down);
}

// ---- all ----

// ok, the replier's error, dead at send, no reply, crash, never answered.
static int mixed(troupe_ctx *cx, troupe_deferred *d)
{
    troupe_gather *g;
    TR_CK_OK(troupe_gather_new(cx, TROUPE_GATHER_ALL, 0, in.deadline, record, d,
                               &g));
    ck_assert_int_eq(
        troupe_gather_request(g, in.echo[0], "echo", "{s:I}", "x", (int64_t)41),
        0);
    ck_assert_int_eq(troupe_gather_request(g, in.echo[1], "fail", NULL), 1);
    ck_assert_int_eq(troupe_gather_request(g, in.dead, "echo", NULL), 2);
    ck_assert_int_eq(troupe_gather_request(g, in.echo[2], "silent", NULL), 3);
    ck_assert_int_eq(troupe_gather_request(g, in.echo[3], "crash", NULL), 4);
    ck_assert_int_eq(troupe_gather_request(g, in.hold, "hold", NULL), 5);
    ck_assert_int_eq(troupe_gather_status(g, 2), TROUPE_EDEAD); // at once
    ck_assert_int_eq(troupe_gather_status(g, 0), TROUPE_EAGAIN);
    ck_assert_int_eq(troupe_gather_result(g), TROUPE_EAGAIN);
    TR_CK_OK(troupe_gather_start(g));
    TR_CK_ERR(troupe_gather_request(g, in.echo[0], "echo", NULL),
              TROUPE_EINVAL); // started: no more items
    return 0;
}

START_TEST(all_mode_gives_each_item_its_typed_outcome)
{
    spawn_targets();
    in.deadline = troupe_deadline_in(300);
    run(mixed, troupe_deadline_in(5000));
    ck_assert_int_eq(out.runs, 1);
    ck_assert_uint_eq(out.size, 6);
    ck_assert_uint_eq(out.ok, 1);
    ck_assert_int_eq(out.status[0], 0);
    ck_assert_int_eq(out.x[0], 42);
    ck_assert_int_eq(out.status[1], TROUPE_EUSER);
    ck_assert_int_eq(out.status[2], TROUPE_EDEAD);
    ck_assert_int_eq(out.status[3], TROUPE_EDEAD);
    ck_assert_int_eq(out.status[4], TROUPE_EDEAD);
    ck_assert_int_eq(out.status[5], TROUPE_ETIMEDOUT);
    ck_assert_int_eq(out.result, TROUPE_EUSER); // the first failure
    ck_assert_int_ge(out.at, in.deadline);      // it waited for the timeout
}
END_TEST

// 1,000 items, one in ten failing in one of four ways.
static int thousand(troupe_ctx *cx, troupe_deferred *d)
{
    troupe_gather *g;
    TR_CK_OK(troupe_gather_new(cx, TROUPE_GATHER_ALL, 0, in.deadline, record, d,
                               &g));
    for (int64_t i = 0; i < N_MAX; i++) {
        troupe_addr to = in.echo[i % 8];
        const char *tag = "echo";
        if (i % 10 == 0) {
            const char *tags[] = {"fail", "silent", "echo", "hold"};
            tag = tags[(i / 10) % 4];
            to = (i / 10) % 4 == 2 ? in.dead : (i / 10) % 4 == 3 ? in.hold : to;
        }
        ck_assert_int_eq(troupe_gather_request(g, to, tag, "{s:I}", "x", i),
                         (int)i);
    }
    return troupe_gather_start(g);
}

START_TEST(thousand_items_with_ten_percent_failing_keep_every_outcome)
{
    spawn_targets();
    in.deadline = troupe_deadline_in(1000);
    run(thousand, troupe_deadline_in(10000));
    ck_assert_int_eq(out.runs, 1);
    ck_assert_uint_eq(out.size, N_MAX);
    ck_assert_uint_eq(out.ok, 900);
    int user = 0, dead = 0, timedout = 0;
    for (int i = 0; i < N_MAX; i++) {
        if (out.status[i] == 0)
            ck_assert_int_eq(out.x[i], i + 1);
        user += out.status[i] == TROUPE_EUSER;
        dead += out.status[i] == TROUPE_EDEAD;
        timedout += out.status[i] == TROUPE_ETIMEDOUT;
    }
    ck_assert_int_eq(user, 25);
    ck_assert_int_eq(dead, 50);
    ck_assert_int_eq(timedout, 25);
    ck_assert_int_eq(out.result, TROUPE_EUSER); // item 0
    // Settled by the timeouts: at the deadline, plus a generous epsilon.
    ck_assert_int_ge(out.at, in.deadline);
    ck_assert_int_le(out.at, in.deadline + 2000);
}
END_TEST

// ---- quorum and first ----

// Two that answer at once, three that are held.
static int quorum(troupe_ctx *cx, troupe_deferred *d)
{
    troupe_gather *g;
    TR_CK_OK(
        troupe_gather_new(cx, in.mode, in.quorum, in.deadline, record, d, &g));
    troupe_gather_request(g, in.hold, "hold", "{s:I}", "x", (int64_t)0);
    troupe_gather_request(g, in.echo[0], "echo", "{s:I}", "x", (int64_t)1);
    troupe_gather_request(g, in.hold, "hold", "{s:I}", "x", (int64_t)2);
    troupe_gather_request(g, in.echo[1], "echo", "{s:I}", "x", (int64_t)3);
    troupe_gather_request(g, in.hold, "hold", "{s:I}", "x", (int64_t)4);
    return troupe_gather_start(g);
}

START_TEST(quorum_settles_at_k_and_cancels_the_rest)
{
    spawn_targets();
    in.mode = TROUPE_GATHER_QUORUM;
    in.quorum = 2;
    in.deadline = troupe_deadline_in(5000);
    run(quorum, troupe_deadline_in(5000));
    ck_assert_int_lt(out.at, in.deadline); // did not wait for the held ones
    ck_assert_int_eq(out.result, 0);
    ck_assert_uint_eq(out.ok, 2);
    ck_assert_int_eq(out.x[1], 2);
    ck_assert_int_eq(out.x[3], 4);
    for (int i = 0; i < 5; i += 2)
        ck_assert_int_eq(out.status[i], TROUPE_ECANCELED);
    // The held requests are answered now (or EDEAD at the end): late.
    TR_CK_OK(troupe_client_tell(cl, in.hold, "release", NULL));
    troupe_client_destroy(&cl);
    TR_CK_OK(troupe_node_stop(node, troupe_deadline_in(5000)));
    troupe_node_stats st;
    TR_CK_OK(troupe_node_stats_get(node, &st));
    ck_assert_uint_eq(st.late_replies, 3);
}
END_TEST

// Two failures first: a quorum of 2 out of 3 can no longer be met.
static int doomed(troupe_ctx *cx, troupe_deferred *d)
{
    troupe_gather *g;
    TR_CK_OK(
        troupe_gather_new(cx, in.mode, in.quorum, in.deadline, record, d, &g));
    troupe_gather_request(g, in.echo[0], "fail", NULL);
    troupe_gather_request(g, in.dead, "echo", NULL);
    troupe_gather_request(g, in.hold, "hold", NULL);
    return troupe_gather_start(g);
}

START_TEST(quorum_settles_early_when_it_can_no_longer_be_met)
{
    spawn_targets();
    in.mode = TROUPE_GATHER_QUORUM;
    in.quorum = 2;
    in.deadline = troupe_deadline_in(5000);
    run(doomed, troupe_deadline_in(5000));
    ck_assert_int_lt(out.at, in.deadline);
    ck_assert_int_eq(out.result, TROUPE_EUSER);
    ck_assert_int_eq(out.status[0], TROUPE_EUSER);
    ck_assert_int_eq(out.status[1], TROUPE_EDEAD);
    ck_assert_int_eq(out.status[2], TROUPE_ECANCELED);
}
END_TEST

START_TEST(first_success_wins_and_cancels_the_rest)
{
    spawn_targets();
    in.mode = TROUPE_GATHER_FIRST;
    in.deadline = troupe_deadline_in(5000);
    run(quorum, troupe_deadline_in(5000));
    ck_assert_int_eq(out.result, 0);
    ck_assert_uint_eq(out.ok, 1);
    ck_assert_int_eq(out.status[0], TROUPE_ECANCELED);
    ck_assert_int_eq(out.status[4], TROUPE_ECANCELED);
    ck_assert_int_eq(out.status[1] + out.status[3], TROUPE_ECANCELED);
}
END_TEST

// Every item fails.
static int all_fail(troupe_ctx *cx, troupe_deferred *d)
{
    troupe_gather *g;
    TR_CK_OK(troupe_gather_new(cx, TROUPE_GATHER_FIRST, 0, in.deadline, record,
                               d, &g));
    troupe_gather_request(g, in.echo[0], "silent", NULL);
    troupe_gather_request(g, in.echo[1], "fail", NULL);
    troupe_gather_request(g, in.dead, "echo", NULL);
    troupe_gather_request(g, in.echo[2], "echo", "[s]", "bad"); // ETYPE
    return troupe_gather_start(g);
}

START_TEST(first_with_every_item_failing_shows_every_failure)
{
    spawn_targets();
    in.deadline = troupe_deadline_in(5000);
    run(all_fail, troupe_deadline_in(5000));
    ck_assert_int_eq(out.result, TROUPE_EDEAD);
    ck_assert_int_eq(out.status[0], TROUPE_EDEAD);
    ck_assert_int_eq(out.status[1], TROUPE_EUSER);
    ck_assert_int_eq(out.status[2], TROUPE_EDEAD);
    ck_assert_int_eq(out.status[3], TROUPE_ETYPE);
}
END_TEST

// ---- edges ----

static int empty(troupe_ctx *cx, troupe_deferred *d)
{
    troupe_gather *g;
    TR_CK_OK(troupe_gather_new(cx, TROUPE_GATHER_FIRST, 0, in.deadline, record,
                               NULL, &g));
    TR_CK_ERR(troupe_gather_start(g), TROUPE_EINVAL); // nothing could win
    troupe_gather_destroy(&g);                        // done never runs
    ck_assert_ptr_null(g);
    ck_assert_int_eq(out.runs, 0);
    TR_CK_OK(troupe_gather_new(cx, TROUPE_GATHER_ALL, 0, in.deadline, record, d,
                               &g));
    TR_CK_OK(troupe_gather_start(g)); // settles here and now
    ck_assert_int_eq(out.runs, 1);
    return 0;
}

START_TEST(empty_all_gather_settles_at_start)
{
    in.deadline = TROUPE_FOREVER;
    run(empty, troupe_deadline_in(5000));
    ck_assert_int_eq(out.runs, 1);
    ck_assert_uint_eq(out.size, 0);
    ck_assert_int_eq(out.result, 0);
}
END_TEST

static int misuse(troupe_ctx *cx, troupe_deferred *d)
{
    troupe_gather *g = NULL;
    TR_CK_ERR(troupe_gather_new(cx, TROUPE_GATHER_QUORUM, 0, in.deadline,
                                record, d, &g),
              TROUPE_EINVAL);
    TR_CK_ERR(troupe_gather_new(cx, TROUPE_GATHER_ALL, 0, TROUPE_NOWAIT, record,
                                d, &g),
              TROUPE_ETIMEDOUT);
    TR_CK_OK(troupe_gather_new(cx, TROUPE_GATHER_QUORUM, 3, in.deadline, record,
                               d, &g));
    troupe_gather_request(g, in.hold, "hold", NULL);
    TR_CK_ERR(troupe_gather_start(g), TROUPE_EINVAL); // 1 item, quorum 3
    troupe_gather_destroy(&g); // its request is canceled, done never runs
    ck_assert_int_eq(out.runs, 0);
    return troupe_deferred_reply(cx, &d, NULL);
}

START_TEST(misuse_is_refused_and_an_unstarted_gather_can_be_dropped)
{
    spawn_targets();
    in.deadline = troupe_deadline_in(5000);
    run(misuse, troupe_deadline_in(5000));
    ck_assert_int_eq(out.runs, 0);
}
END_TEST

static int start_then_exit(troupe_ctx *cx, troupe_deferred *d)
{
    troupe_gather *g;
    TR_CK_OK(troupe_gather_new(cx, TROUPE_GATHER_ALL, 0, in.deadline, record, d,
                               &g));
    troupe_gather_request(g, in.echo[0], "echo", "{s:I}", "x", (int64_t)1);
    troupe_gather_request(g, in.hold, "hold", NULL);
    if (in.exit_after == 1)
        TR_CK_OK(troupe_gather_start(g));
    return troupe_exit(cx, 0); // ends after this handler
}

START_TEST(actor_ending_with_a_gather_runs_it_canceled)
{
    spawn_targets();
    in.deadline = troupe_deadline_in(5000);
    for (in.exit_after = 1; in.exit_after <= 2; in.exit_after++) {
        out.runs = 0; // 1: started; 2: never started
        run(start_then_exit, troupe_deadline_in(5000));
        ck_assert_int_eq(out.runs, 1);
        ck_assert_int_eq(out.result, TROUPE_ECANCELED);
        ck_assert_int_eq(out.status[1], TROUPE_ECANCELED);
        ck_assert_int_lt(out.at, in.deadline);
    }
}
END_TEST

// Items inherit the deadline of the "run" request being handled.
static int inherit(troupe_ctx *cx, troupe_deferred *d)
{
    troupe_gather *g;
    TR_CK_OK(troupe_gather_new(cx, TROUPE_GATHER_ALL, 0,
                               TROUPE_DEADLINE_DEFAULT, record, d, &g));
    troupe_gather_request(g, in.hold, "when", NULL);
    troupe_gather_request(g, in.hold, "when", NULL);
    return troupe_gather_start(g);
}

START_TEST(deadline_is_inherited_from_the_handled_request)
{
    spawn_targets();
    int64_t deadline = troupe_deadline_in(4321);
    run(inherit, deadline);
    ck_assert_int_eq(out.result, 0);
    ck_assert_int_eq(out.x[0], deadline);
    ck_assert_int_eq(out.x[1], deadline);
}
END_TEST

// ---- through a limiter ----

static int limited(troupe_ctx *cx, troupe_deferred *d)
{
    troupe_gather *g;
    TR_CK_OK(troupe_limiter_new(cx, 50, TROUPE_LIMITER_UNBOUNDED, &lim));
    TR_CK_OK(troupe_gather_new(cx, TROUPE_GATHER_ALL, 0, in.deadline, record, d,
                               &g));
    TR_CK_OK(troupe_gather_set_limiter(g, lim));
    for (int64_t i = 0; i < N_MAX; i++)
        troupe_gather_request(g, in.echo[i % 8], "echo", "{s:I}", "x", i);
    TR_CK_ERR(troupe_gather_set_limiter(g, lim), TROUPE_ESTATE);
    return troupe_gather_start(g);
}

START_TEST(gather_through_a_limiter_keeps_n_in_flight)
{
    spawn_targets();
    in.deadline = troupe_deadline_in(8000);
    run(limited, troupe_deadline_in(10000));
    ck_assert_int_eq(out.result, 0);
    ck_assert_uint_eq(out.ok, N_MAX);
    for (int i = 0; i < N_MAX; i++)
        ck_assert_int_eq(out.x[i], i + 1);
    ck_assert_uint_eq(out.lim.peak_in_flight, 50);
    ck_assert_uint_eq(out.lim.sent, N_MAX);
    ck_assert_uint_eq(out.lim.peak_queued, N_MAX - 50);
}
END_TEST

// The limiter goes while the gather still uses it.
static int limiter_gone(troupe_ctx *cx, troupe_deferred *d)
{
    troupe_gather *g;
    troupe_limiter *l;
    TR_CK_OK(troupe_limiter_new(cx, 1, 8, &l));
    TR_CK_OK(troupe_gather_new(cx, TROUPE_GATHER_ALL, 0, in.deadline, record, d,
                               &g));
    TR_CK_OK(troupe_gather_set_limiter(g, l));
    for (int64_t i = 0; i < 3; i++) // one in flight, two waiting
        troupe_gather_request(g, in.echo[0], "echo", "{s:I}", "x", i);
    troupe_limiter_destroy(&l); // the waiting ones end here
    ck_assert_int_eq(troupe_gather_status(g, 1), TROUPE_ECANCELED);
    TR_CK_ERR(troupe_gather_request(g, in.echo[0], "echo", NULL), 3);
    return troupe_gather_start(g); // settles when the first one ends
}

START_TEST(destroyed_limiter_cancels_the_items_still_waiting_in_it)
{
    spawn_targets();
    in.deadline = troupe_deadline_in(5000);
    run(limiter_gone, troupe_deadline_in(5000));
    ck_assert_int_eq(out.runs, 1);
    ck_assert_int_eq(out.status[0], 0);
    ck_assert_int_eq(out.status[1], TROUPE_ECANCELED);
    ck_assert_int_eq(out.status[2], TROUPE_ECANCELED);
    ck_assert_int_eq(out.status[3], TROUPE_ESTATE); // the limiter is closed
    ck_assert_int_eq(out.result, TROUPE_ECANCELED); // the first failure
}
END_TEST

static int fail_done(troupe_ctx *cx, void *state, troupe_gather *g, void *arg)
{
    record(cx, state, g, arg);
    return TROUPE_EUSER; // crashes the driver
}

static int crash(troupe_ctx *cx, troupe_deferred *d)
{
    troupe_gather *g;
    TR_CK_OK(troupe_gather_new(cx, TROUPE_GATHER_ALL, 0, in.deadline, fail_done,
                               d, &g));
    troupe_gather_request(g, in.echo[0], "echo", "{s:I}", "x", (int64_t)1);
    return troupe_gather_start(g);
}

START_TEST(continuation_returning_an_error_crashes_its_actor)
{
    spawn_targets();
    in.deadline = troupe_deadline_in(5000);
    in.exit_after = 1; // no ping: the driver is gone
    scenario = crash;
    troupe_addr drv = spawn_driver();
    uint64_t ref;
    TR_CK_OK(troupe_client_monitor(cl, drv, &ref));
    troupe_msg *m = NULL;
    TR_CK_OK(troupe_call(cl, drv, "run", troupe_deadline_in(5000), &m, NULL));
    troupe_msg_destroy(&m);
    TR_CK_OK(troupe_client_recv(cl, troupe_deadline_in(5000), &m));
    ck_assert_int_eq(troupe_msg_kind_of(m), TROUPE_MSG_DOWN);
    ck_assert_int_eq(troupe_msg_code(m), TROUPE_EUSER);
    troupe_msg_destroy(&m);
}
END_TEST

// ---- from a client ----

START_TEST(client_gather_keeps_each_outcome_until_its_deadline)
{
    spawn_targets();
    troupe_gather *g;
    int64_t deadline = troupe_deadline_in(300);
    TR_CK_OK(troupe_client_gather_new(cl, TROUPE_GATHER_ALL, 0, deadline, &g));
    ck_assert_int_eq(
        troupe_gather_request(g, in.echo[0], "echo", "{s:I}", "x", (int64_t)1),
        0);
    ck_assert_int_eq(troupe_gather_request(g, in.echo[1], "fail", NULL), 1);
    ck_assert_int_eq(troupe_gather_request(g, in.dead, "echo", NULL), 2);
    ck_assert_int_eq(troupe_gather_request(g, in.hold, "hold", NULL), 3);
    troupe_msg *r = NULL;
    TR_CK_ERR(troupe_call(cl, in.echo[0], "echo", deadline, &r, NULL),
              TROUPE_ESTATE); // it would drop the gather's replies
    TR_CK_ERR(troupe_gather_start(g), TROUPE_EINVAL); // actors only
    TR_CK_ERR(troupe_gather_set_limiter(g, NULL), TROUPE_EINVAL);
    TR_CK_ERR(troupe_gather_wait(g), TROUPE_EUSER);
    ck_assert_int_ge(troupe_now(), deadline);
    ck_assert_int_eq(troupe_gather_status(g, 2), TROUPE_EDEAD);
    ck_assert_int_eq(troupe_gather_status(g, 3), TROUPE_ETIMEDOUT);
    ck_assert_int_eq(troupe_gather_status(g, 4), TROUPE_EINVAL);
    ck_assert_uint_eq(troupe_gather_count(g, TROUPE_EUSER), 1);
    TR_CK_OK(troupe_gather_take_reply(g, 0, &r)); // ours now
    ck_assert_ptr_null(troupe_gather_reply(g, 0));
    int64_t x = 0;
    TR_CK_OK(troupe_msg_read(r, "{s:I}", "x", &x));
    ck_assert_int_eq(x, 2);
    troupe_msg_destroy(&r);
    TR_CK_ERR(troupe_gather_take_reply(g, 0, &r), TROUPE_ENOENT);
    troupe_gather_destroy(&g);
    troupe_gather_destroy(&g);        // twice is fine
    tr_check_echo(cl, in.echo[0], 5); // calls work again
}
END_TEST

START_TEST(client_gathers_may_overlap_and_settle_at_quorum)
{
    spawn_targets();
    troupe_gather *g1, *g2;
    int64_t deadline = troupe_deadline_in(5000);
    TR_CK_OK(
        troupe_client_gather_new(cl, TROUPE_GATHER_QUORUM, 2, deadline, &g1));
    TR_CK_OK(troupe_client_gather_new(cl, TROUPE_GATHER_FIRST, 0,
                                      TROUPE_DEADLINE_DEFAULT, &g2));
    troupe_gather_request(g1, in.echo[0], "echo", "{s:I}", "x", (int64_t)10);
    troupe_gather_request(g2, in.hold, "hold", NULL);
    troupe_gather_request(g1, in.hold, "hold", NULL);
    troupe_gather_request(g2, in.echo[1], "echo", "{s:I}", "x", (int64_t)20);
    troupe_gather_request(g1, in.echo[2], "echo", "{s:I}", "x", (int64_t)30);
    TR_CK_OK(troupe_gather_wait(g2)); // leaves g1's replies in place
    TR_CK_OK(troupe_gather_wait(g1));
    TR_CK_OK(troupe_gather_wait(g1)); // settled: the same at once
    ck_assert_int_lt(troupe_now(), deadline);
    ck_assert_int_eq(troupe_gather_status(g1, 1), TROUPE_ECANCELED);
    ck_assert_int_eq(troupe_gather_status(g2, 0), TROUPE_ECANCELED);
    int64_t x = 0;
    TR_CK_OK(troupe_msg_read(troupe_gather_reply(g1, 2), "{s:I}", "x", &x));
    ck_assert_int_eq(x, 31);
    TR_CK_OK(troupe_msg_read(troupe_gather_reply(g2, 1), "{s:I}", "x", &x));
    ck_assert_int_eq(x, 21);
    troupe_gather_destroy(&g1);
    troupe_gather_destroy(&g2);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("gather");
    TCase *t = tcase_create("actor");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, TR_TCASE_TIMEOUT);
    tcase_add_test(t, all_mode_gives_each_item_its_typed_outcome);
    tcase_add_test(t,
                   thousand_items_with_ten_percent_failing_keep_every_outcome);
    tcase_add_test(t, quorum_settles_at_k_and_cancels_the_rest);
    tcase_add_test(t, quorum_settles_early_when_it_can_no_longer_be_met);
    tcase_add_test(t, first_success_wins_and_cancels_the_rest);
    tcase_add_test(t, first_with_every_item_failing_shows_every_failure);
    tcase_add_test(t, empty_all_gather_settles_at_start);
    tcase_add_test(t, misuse_is_refused_and_an_unstarted_gather_can_be_dropped);
    tcase_add_test(t, actor_ending_with_a_gather_runs_it_canceled);
    tcase_add_test(t, deadline_is_inherited_from_the_handled_request);
    tcase_add_test(t, gather_through_a_limiter_keeps_n_in_flight);
    tcase_add_test(t, destroyed_limiter_cancels_the_items_still_waiting_in_it);
    tcase_add_test(t, continuation_returning_an_error_crashes_its_actor);
    suite_add_tcase(s, t);
    TCase *c = tcase_create("client");
    tcase_add_checked_fixture(c, setup, teardown);
    tcase_set_timeout(c, TR_TCASE_TIMEOUT);
    tcase_add_test(c, client_gather_keeps_each_outcome_until_its_deadline);
    tcase_add_test(c, client_gathers_may_overlap_and_settle_at_quorum);
    suite_add_tcase(s, c);
    return s;
}

int main(void)
{
    return tr_run_suite(make_suite());
}
