// SPDX-License-Identifier: MIT
//
// Supervisors on a live node, the kinds of OTP's supervisor_SUITE: start
// paths, restart types, strategies, restart intensity and escalation,
// nested trees, dynamic children, backoff, and restart in place (same
// address, queued messages kept in order, the requester of the crashing
// message told TROUPE_EDEAD). The decision table alone is tested with a
// fake clock in test_sup_core.c.
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "tr_actors.h"
#include "tr_check.h"

static troupe_node *node;
static troupe_client *cl;

// ---- a worker whose starts, stops and messages the tests can see ----

#define S_MAX_WORKERS 8

// Per worker id (the spec's arg): starts, and init failures still to give.
static atomic_int s_starts[S_MAX_WORKERS];
static atomic_int s_fail_init[S_MAX_WORKERS];
// Per worker id: inits still to hold on s_release (a hung init).
static atomic_int s_block_init[S_MAX_WORKERS];
// Per worker id: its init holds its start (troupe_hold) and, 20 ms later,
// resumes (S_HOLD_RESUME, traced "r"), or never does (S_HOLD_FOREVER).
enum {
    S_HOLD_NONE,
    S_HOLD_RESUME,
    S_HOLD_FOREVER
};
static atomic_int s_hold_start[S_MAX_WORKERS];
// A handler or init that hangs opens s_entered and waits for s_release.
static tr_gate s_entered, s_release;
// Order of inits and finis: "i0 i1 f1 f0 ".
static char s_trace[512];
static pthread_mutex_t s_trace_lock = PTHREAD_MUTEX_INITIALIZER;

static void s_trace_add(char what, int id)
{
    pthread_mutex_lock(&s_trace_lock);
    size_t n = strlen(s_trace);
    if (n + 4 < sizeof s_trace)
        snprintf(s_trace + n, sizeof s_trace - n, "%c%d ", what, id);
    pthread_mutex_unlock(&s_trace_lock);
}

typedef struct s_worker {
    int id;          // from arg
    int64_t seen[8]; // "m" values handled in this run, in order
    int n_seen;
} s_worker;

static int s_worker_init(troupe_ctx *cx, void *state, void *arg)
{
    s_worker *w = state;
    w->id = (int)(intptr_t)arg;
    if (atomic_load(&s_block_init[w->id]) > 0) {
        atomic_fetch_sub(&s_block_init[w->id], 1);
        tr_gate_open(&s_entered);
        tr_gate_wait(&s_release, 10000, "release of a hung init");
    }
    if (atomic_load(&s_fail_init[w->id]) > 0) {
        atomic_fetch_sub(&s_fail_init[w->id], 1);
        return TROUPE_EUSER - 7;
    }
    atomic_fetch_add(&s_starts[w->id], 1);
    s_trace_add('i', w->id);
    int hold = atomic_load(&s_hold_start[w->id]);
    if (hold != S_HOLD_NONE)
        TR_CK_OK(troupe_hold(cx));
    if (hold == S_HOLD_RESUME)
        TR_CK_OK(troupe_timer_start(cx, 20, 0, "ready", NULL));
    return 0;
}

static void s_worker_fini(void *state, int reason)
{
    (void)reason;
    s_trace_add('f', ((s_worker *)state)->id);
}

static int s_worker_handler(troupe_ctx *cx, void *state, const troupe_msg *m)
{
    s_worker *w = state;
    if (troupe_msg_kind_of(m) == TROUPE_MSG_TIMER &&
        troupe_msg_is(m, "ready")) { // a held start is over
        s_trace_add('r', w->id);
        return troupe_resume(cx);
    }
    if (troupe_msg_is(m, "crash") || troupe_msg_is(m, "crash_req"))
        return TROUPE_EUSER - 5;
    if (troupe_msg_is(m, "normal"))
        return troupe_exit(cx, 0);
    if (troupe_msg_is(m, "block")) { // a handler that hangs
        tr_gate_open(&s_entered);
        tr_gate_wait(&s_release, 10000, "release of a hung handler");
        return 0;
    }
    if (troupe_msg_is(m, "m")) {
        int64_t v;
        TR_CK_OK(troupe_msg_read(m, "[I]", &v));
        if (w->n_seen < 8)
            w->seen[w->n_seen++] = v;
        return 0;
    }
    if (troupe_msg_is(m, "get")) // starts of this id, and what it saw
        return troupe_reply(cx, m, "[ii[IIIIIIII]]",
                            atomic_load(&s_starts[w->id]), w->n_seen,
                            w->seen[0], w->seen[1], w->seen[2], w->seen[3],
                            w->seen[4], w->seen[5], w->seen[6], w->seen[7]);
    return TROUPE_ENOTSUP;
}

static troupe_child_spec s_worker_child(const char *id, int n)
{
    troupe_child_spec c;
    troupe_child_spec_init(&c);
    c.id = id;
    c.actor.handler = s_worker_handler;
    c.actor.init = s_worker_init;
    c.actor.fini = s_worker_fini;
    c.actor.state_size = sizeof(s_worker);
    c.actor.arg = (void *)(intptr_t)n;
    return c;
}

static troupe_child_spec s_kids[3];

static troupe_sup_spec s_three(troupe_sup_strategy strategy)
{
    s_kids[0] = s_worker_child("w0", 0);
    s_kids[1] = s_worker_child("w1", 1);
    s_kids[2] = s_worker_child("w2", 2);
    troupe_sup_spec s;
    troupe_sup_spec_init(&s);
    s.strategy = strategy;
    s.children = s_kids;
    s.n_children = 3;
    s.intensity = 10;
    return s;
}

static troupe_addr s_child(troupe_addr sup, const char *id)
{
    troupe_addr a;
    // A child being restarted is not RUNNING for a moment: ask again.
    int rc;
    int64_t until = troupe_deadline_in(5000);
    while ((rc = troupe_sup_which_child(node, sup, id, until, &a)) ==
               TROUPE_EAGAIN &&
           troupe_now() < until)
        ;
    TR_CK_OK(rc);
    return a;
}

// "get" from the worker at a: its start count and what it saw.
static int s_get(troupe_addr a, int *n_seen, int64_t seen[8])
{
    troupe_msg *r = NULL;
    TR_CK_OK(troupe_call(cl, a, "get", troupe_deadline_in(5000), &r, NULL));
    int starts, n;
    int64_t v[8];
    TR_CK_OK(troupe_msg_read(r, "[ii[IIIIIIII]]", &starts, &n, &v[0], &v[1],
                             &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]));
    troupe_msg_destroy(&r);
    if (n_seen)
        *n_seen = n;
    if (seen)
        memcpy(seen, v, sizeof v);
    return starts;
}

// Wait until worker `id` has started `want` times (a restart is
// asynchronous), bounded.
static void s_wait_starts(int id, int want)
{
    int64_t until = troupe_deadline_in(5000);
    while (atomic_load(&s_starts[id]) < want && troupe_now() < until)
        sched_yield();
    ck_assert_int_eq(atomic_load(&s_starts[id]), want);
}

static int s_down_reason(troupe_addr who)
{
    troupe_msg *m = NULL;
    TR_CK_OK(troupe_client_recv(cl, troupe_deadline_in(5000), &m));
    ck_assert_int_eq(troupe_msg_kind_of(m), TROUPE_MSG_DOWN);
    ck_assert(troupe_addr_eq(troupe_msg_sender(m), who));
    int code = troupe_msg_code(m);
    troupe_msg_destroy(&m);
    return code;
}

static void setup(void)
{
    for (int i = 0; i < S_MAX_WORKERS; i++) {
        atomic_store(&s_starts[i], 0);
        atomic_store(&s_fail_init[i], 0);
        atomic_store(&s_block_init[i], 0);
        atomic_store(&s_hold_start[i], S_HOLD_NONE);
    }
    tr_gate_init(&s_entered);
    tr_gate_init(&s_release);
    s_trace[0] = '\0';
    node = tr_node_new(2);
    TR_CK_OK(troupe_client_new(node, &cl));
}

static void teardown(void)
{
    troupe_client_destroy(&cl);
    tr_node_destroy_clean(&node);
}

// ---- start paths ----

START_TEST(children_start_in_order_and_stop_in_reverse)
{
    troupe_sup_spec s = s_three(TROUPE_ONE_FOR_ONE);
    troupe_addr sup;
    TR_CK_OK(troupe_node_sup_start(node, &s, troupe_deadline_in(5000), &sup));
    ck_assert_str_eq(s_trace, "i0 i1 i2 ");
    TR_CK_OK(troupe_client_monitor(cl, sup, NULL));
    TR_CK_OK(troupe_node_stop_actor(node, sup, TROUPE_ESHUTDOWN));
    ck_assert_int_eq(s_down_reason(sup), TROUPE_ESHUTDOWN);
    ck_assert_str_eq(s_trace, "i0 i1 i2 f2 f1 f0 ");
}
END_TEST

START_TEST(init_error_fails_the_start_and_leaves_nothing)
{
    troupe_sup_spec s = s_three(TROUPE_ONE_FOR_ONE);
    atomic_store(&s_fail_init[1], 1);
    s.intensity = 0;
    troupe_addr sup;
    TR_CK_ERR(troupe_node_sup_start(node, &s, troupe_deadline_in(5000), &sup),
              TROUPE_EUSER - 7);
    ck_assert_str_eq(s_trace, "i0 f0 "); // w0 stopped again, w2 never ran
}
END_TEST

START_TEST(a_child_that_holds_its_start_is_started_when_it_resumes)
{
    // w0's init holds (troupe_hold) until its timer resumes it: w1 starts
    // only then, as after an init that took that long, but w0's loop ran
    // meanwhile.
    troupe_sup_spec s = s_three(TROUPE_ONE_FOR_ONE);
    atomic_store(&s_hold_start[0], S_HOLD_RESUME);
    troupe_addr sup;
    TR_CK_OK(troupe_node_sup_start(node, &s, troupe_deadline_in(5000), &sup));
    ck_assert_str_eq(s_trace, "i0 r0 i1 i2 ");
}
END_TEST

START_TEST(a_held_start_past_the_start_timeout_fails_the_start)
{
    // A held start can be cut short, even on a shared loop: the loop is
    // not busy in it.
    troupe_sup_spec s = s_three(TROUPE_ONE_FOR_ONE);
    atomic_store(&s_hold_start[1], S_HOLD_FOREVER);
    s_kids[1].start_timeout_ms = 100;
    s.intensity = 0;
    troupe_addr sup;
    TR_CK_ERR(troupe_node_sup_start(node, &s, troupe_deadline_in(5000), &sup),
              TROUPE_ETIMEDOUT);
    ck_assert_str_eq(s_trace, "i0 i1 f1 f0 "); // w2 never ran
}
END_TEST

START_TEST(bad_specs_are_refused_with_einval)
{
    troupe_sup_spec s = s_three(TROUPE_ONE_FOR_ONE);
    troupe_addr sup;
    s_kids[1].id = "w0"; // duplicate id
    TR_CK_ERR(troupe_node_sup_start(node, &s, TROUPE_FOREVER, &sup),
              TROUPE_EINVAL);
    s = s_three(TROUPE_ONE_FOR_ONE);
    s_kids[2].actor.handler = NULL;
    TR_CK_ERR(troupe_node_sup_start(node, &s, TROUPE_FOREVER, &sup),
              TROUPE_EINVAL);
    s = s_three(TROUPE_ONE_FOR_ONE);
    s.intensity = 10001;
    TR_CK_ERR(troupe_node_sup_start(node, &s, TROUPE_FOREVER, &sup),
              TROUPE_EINVAL);
    s = s_three(TROUPE_ONE_FOR_ONE);
    s.period_ms = 0;
    TR_CK_ERR(troupe_node_sup_start(node, &s, TROUPE_FOREVER, &sup),
              TROUPE_EINVAL);
    s = s_three(TROUPE_SIMPLE_ONE_FOR_ONE); // needs exactly one template
    TR_CK_ERR(troupe_node_sup_start(node, &s, TROUPE_FOREVER, &sup),
              TROUPE_EINVAL);
    TR_CK_ERR(troupe_node_sup_start(node, NULL, TROUPE_FOREVER, &sup),
              TROUPE_EINVAL);
}
END_TEST

// ---- restart in place ----

START_TEST(crashed_child_restarts_under_the_same_address)
{
    troupe_sup_spec s = s_three(TROUPE_ONE_FOR_ONE);
    troupe_addr sup;
    TR_CK_OK(troupe_node_sup_start(node, &s, troupe_deadline_in(5000), &sup));
    troupe_addr w1 = s_child(sup, "w1");
    TR_CK_OK(troupe_client_tell(cl, w1, "crash", NULL));
    ck_assert_int_eq(s_get(w1, NULL, NULL), 2); // same address, new run
    ck_assert_int_eq(atomic_load(&s_starts[0]), 1);
    ck_assert_int_eq(atomic_load(&s_starts[2]), 1);
    ck_assert(troupe_addr_eq(s_child(sup, "w1"), w1));
}
END_TEST

START_TEST(messages_queued_behind_a_crash_reach_the_next_run_in_order)
{
    troupe_sup_spec s = s_three(TROUPE_ONE_FOR_ONE);
    troupe_addr sup;
    TR_CK_OK(troupe_node_sup_start(node, &s, troupe_deadline_in(5000), &sup));
    troupe_addr w0 = s_child(sup, "w0");
    TR_CK_OK(troupe_client_tell(cl, w0, "crash", NULL));
    for (int64_t v = 1; v <= 5; v++)
        TR_CK_OK(troupe_client_tell(cl, w0, "m", "[I]", v));
    int n;
    int64_t seen[8];
    ck_assert_int_eq(s_get(w0, &n, seen), 2);
    ck_assert_int_eq(n, 5);
    for (int k = 0; k < 5; k++)
        ck_assert_int_eq(seen[k], k + 1);
}
END_TEST

START_TEST(requester_of_the_crashing_message_gets_edead)
{
    troupe_sup_spec s = s_three(TROUPE_ONE_FOR_ONE);
    troupe_addr sup;
    TR_CK_OK(troupe_node_sup_start(node, &s, troupe_deadline_in(5000), &sup));
    troupe_addr w2 = s_child(sup, "w2");
    troupe_msg *r = NULL;
    TR_CK_ERR(
        troupe_call(cl, w2, "crash_req", troupe_deadline_in(5000), &r, NULL),
        TROUPE_EDEAD);
    ck_assert_int_eq(s_get(w2, NULL, NULL), 2);
}
END_TEST

// ---- restart types ----

START_TEST(transient_child_ending_normally_is_not_restarted)
{
    troupe_sup_spec s = s_three(TROUPE_ONE_FOR_ONE);
    s_kids[1].restart = TROUPE_TRANSIENT;
    troupe_addr sup, a;
    TR_CK_OK(troupe_node_sup_start(node, &s, troupe_deadline_in(5000), &sup));
    troupe_addr w1 = s_child(sup, "w1");
    TR_CK_OK(troupe_client_monitor(cl, w1, NULL));
    TR_CK_OK(troupe_client_tell(cl, w1, "normal", NULL));
    ck_assert_int_eq(s_down_reason(w1), 0);
    TR_CK_ERR(
        troupe_sup_which_child(node, sup, "w1", troupe_deadline_in(5000), &a),
        TROUPE_EAGAIN); // known, not running
    ck_assert_int_eq(atomic_load(&s_starts[1]), 1);
}
END_TEST

START_TEST(temporary_child_is_forgotten_when_it_crashes)
{
    troupe_sup_spec s = s_three(TROUPE_ONE_FOR_ONE);
    s_kids[0].restart = TROUPE_TEMPORARY;
    troupe_addr sup, a;
    TR_CK_OK(troupe_node_sup_start(node, &s, troupe_deadline_in(5000), &sup));
    troupe_addr w0 = s_child(sup, "w0");
    TR_CK_OK(troupe_client_monitor(cl, w0, NULL));
    TR_CK_OK(troupe_client_tell(cl, w0, "crash", NULL));
    ck_assert_int_eq(s_down_reason(w0), TROUPE_EUSER - 5);
    troupe_sup_stats st;
    TR_CK_OK(troupe_sup_stats_get(node, sup, troupe_deadline_in(5000), &st));
    ck_assert_uint_eq(st.children, 2);
    TR_CK_ERR(
        troupe_sup_which_child(node, sup, "w0", troupe_deadline_in(5000), &a),
        TROUPE_ENOENT);
}
END_TEST

// ---- strategies ----

START_TEST(one_for_all_restarts_every_child)
{
    troupe_sup_spec s = s_three(TROUPE_ONE_FOR_ALL);
    troupe_addr sup;
    TR_CK_OK(troupe_node_sup_start(node, &s, troupe_deadline_in(5000), &sup));
    TR_CK_OK(troupe_client_tell(cl, s_child(sup, "w1"), "crash", NULL));
    for (int i = 0; i < 3; i++)
        s_wait_starts(i, 2);
    ck_assert_int_eq(s_get(s_child(sup, "w2"), NULL, NULL), 2);
}
END_TEST

START_TEST(rest_for_one_restarts_the_failed_child_and_later_ones)
{
    troupe_sup_spec s = s_three(TROUPE_REST_FOR_ONE);
    troupe_addr sup;
    TR_CK_OK(troupe_node_sup_start(node, &s, troupe_deadline_in(5000), &sup));
    TR_CK_OK(troupe_client_tell(cl, s_child(sup, "w1"), "crash", NULL));
    s_wait_starts(1, 2);
    s_wait_starts(2, 2);
    ck_assert_int_eq(s_get(s_child(sup, "w0"), NULL, NULL), 1);
}
END_TEST

// ---- intensity, escalation, nesting ----

START_TEST(too_many_restarts_end_the_supervisor_with_eintensity)
{
    troupe_sup_spec s = s_three(TROUPE_ONE_FOR_ONE);
    s.intensity = 1;
    s.period_ms = 60000;
    troupe_addr sup;
    TR_CK_OK(troupe_node_sup_start(node, &s, troupe_deadline_in(5000), &sup));
    TR_CK_OK(troupe_client_monitor(cl, sup, NULL));
    troupe_addr w0 = s_child(sup, "w0");
    TR_CK_OK(troupe_client_tell(cl, w0, "crash", NULL));
    ck_assert_int_eq(s_get(w0, NULL, NULL), 2); // the first is allowed
    TR_CK_OK(troupe_client_tell(cl, w0, "crash", NULL));
    ck_assert_int_eq(s_down_reason(sup), TROUPE_EINTENSITY);
    ck_assert_str_eq(s_trace, "i0 i1 i2 f0 i0 f0 f2 f1 ");
}
END_TEST

static troupe_child_spec s_inner_kids[1];
static troupe_sup_spec s_inner;
static troupe_child_spec s_outer_kids[2];

START_TEST(nested_supervisor_escalates_and_its_parent_restarts_it)
{
    s_inner_kids[0] = s_worker_child("leaf", 3);
    troupe_sup_spec_init(&s_inner);
    s_inner.children = s_inner_kids;
    s_inner.n_children = 1;
    s_inner.intensity = 0; // any crash escalates
    s_outer_kids[0] = s_worker_child("w0", 0);
    troupe_child_spec_init(&s_outer_kids[1]);
    s_outer_kids[1].id = "inner";
    s_outer_kids[1].sup = &s_inner;
    s_outer_kids[1].shutdown_ms = TROUPE_SHUTDOWN_INFINITY;
    troupe_sup_spec s;
    troupe_sup_spec_init(&s);
    s.children = s_outer_kids;
    s.n_children = 2;
    s.intensity = 5;
    troupe_addr sup;
    TR_CK_OK(troupe_node_sup_start(node, &s, troupe_deadline_in(5000), &sup));
    troupe_addr inner = s_child(sup, "inner");
    TR_CK_OK(troupe_client_tell(cl, s_child(inner, "leaf"), "crash", NULL));
    s_wait_starts(3, 2); // the inner tree came back with a fresh leaf
    ck_assert_int_eq(s_get(s_child(inner, "leaf"), NULL, NULL), 2);
    ck_assert(troupe_addr_eq(s_child(sup, "inner"), inner));
    ck_assert_int_eq(atomic_load(&s_starts[0]), 1); // sibling untouched
    troupe_sup_stats st;
    TR_CK_OK(troupe_sup_stats_get(node, sup, troupe_deadline_in(5000), &st));
    ck_assert_uint_eq(st.restarts, 1);
    ck_assert_uint_eq(st.supervisors, 1);
    ck_assert_uint_eq(st.workers, 1);
}
END_TEST

START_TEST(brutally_killed_child_does_not_take_its_supervisor_down)
{
    troupe_sup_spec s = s_three(TROUPE_ONE_FOR_ONE);
    s_kids[1].shutdown_ms = TROUPE_SHUTDOWN_BRUTAL;
    troupe_addr sup;
    TR_CK_OK(troupe_node_sup_start(node, &s, troupe_deadline_in(5000), &sup));
    TR_CK_OK(troupe_sup_stop_child(node, sup, s_child(sup, "w1"), false,
                                   troupe_deadline_in(5000)));
    troupe_sup_stats st;
    TR_CK_OK(troupe_sup_stats_get(node, sup, troupe_deadline_in(5000), &st));
    ck_assert_uint_eq(st.children, 3);
    ck_assert_uint_eq(st.running, 2);
}
END_TEST

START_TEST(grandchild_failing_its_first_start_fails_the_whole_start)
{
    s_inner_kids[0] = s_worker_child("leaf", 3);
    atomic_store(&s_fail_init[3], 1);
    troupe_sup_spec_init(&s_inner);
    s_inner.children = s_inner_kids;
    s_inner.n_children = 1;
    s_outer_kids[0] = s_worker_child("w0", 0);
    troupe_child_spec_init(&s_outer_kids[1]);
    s_outer_kids[1].id = "inner";
    s_outer_kids[1].sup = &s_inner;
    troupe_sup_spec s;
    troupe_sup_spec_init(&s);
    s.children = s_outer_kids;
    s.n_children = 2;
    troupe_addr sup;
    TR_CK_ERR(troupe_node_sup_start(node, &s, troupe_deadline_in(5000), &sup),
              TROUPE_EUSER - 7);
    ck_assert_str_eq(s_trace, "i0 f0 "); // w0 stopped again, nothing left
}
END_TEST

START_TEST(parked_child_ends_for_good_when_its_supervisor_is_killed)
{
    troupe_sup_spec s = s_three(TROUPE_ONE_FOR_ONE);
    s.backoff_min_ms = 60000; // the crashed child stays parked
    s.backoff_max_ms = 60000;
    troupe_addr sup;
    TR_CK_OK(troupe_node_sup_start(node, &s, troupe_deadline_in(5000), &sup));
    troupe_addr w0 = s_child(sup, "w0");
    TR_CK_OK(troupe_client_monitor(cl, w0, NULL));
    TR_CK_OK(troupe_client_tell(cl, w0, "crash", NULL));
    ck_assert_int_eq(s_down_reason(w0), TROUPE_EUSER - 5); // parked now
    TR_CK_OK(troupe_client_monitor(cl, sup, NULL));
    TR_CK_OK(troupe_node_stop_actor(node, sup, TROUPE_EKILLED)); // no trap
    ck_assert_int_eq(s_down_reason(sup), TROUPE_EKILLED);
    TR_CK_ERR(troupe_client_tell(cl, w0, "m", "[I]", (int64_t)1),
              TROUPE_EDEAD); // finished, not left parked
}
END_TEST

START_TEST(children_on_another_loop_restart_and_the_tree_stops_clean)
{
    troupe_sup_spec s = s_three(TROUPE_ONE_FOR_ONE);
    s.loop = TROUPE_LOOP(0);
    s.backoff_min_ms = 60000; // w1 stays parked until the node stops
    s.backoff_max_ms = 60000;
    for (int i = 0; i < 3; i++)
        s_kids[i].actor.loop = TROUPE_LOOP(1); // parked ones monitor it
    troupe_addr sup;
    TR_CK_OK(troupe_node_sup_start(node, &s, troupe_deadline_in(5000), &sup));
    troupe_addr w0 = s_child(sup, "w0");
    TR_CK_OK(troupe_client_tell(cl, s_child(sup, "w1"), "crash", NULL));
    ck_assert_int_eq(s_get(w0, NULL, NULL), 1); // loop 1 ran a handler last
    // The teardown stops the node: w1 is finished while parked, on a loop
    // whose last callback belonged to another actor.
}
END_TEST

// ---- dynamic children ----

START_TEST(simple_one_for_one_starts_and_stops_children_at_run_time)
{
    s_kids[0] = s_worker_child(NULL, 4);
    troupe_sup_spec s;
    troupe_sup_spec_init(&s);
    s.strategy = TROUPE_SIMPLE_ONE_FOR_ONE;
    s.children = s_kids;
    s.n_children = 1;
    troupe_addr sup, a[3];
    TR_CK_OK(troupe_node_sup_start(node, &s, troupe_deadline_in(5000), &sup));
    for (int i = 0; i < 3; i++)
        TR_CK_OK(troupe_sup_start_child(node, sup, NULL,
                                        troupe_deadline_in(5000), &a[i]));
    ck_assert_int_eq(atomic_load(&s_starts[4]), 3);
    TR_CK_OK(
        troupe_sup_stop_child(node, sup, a[1], true, troupe_deadline_in(5000)));
    troupe_sup_stats st;
    TR_CK_OK(troupe_sup_stats_get(node, sup, troupe_deadline_in(5000), &st));
    ck_assert_uint_eq(st.children, 2);
    ck_assert_uint_eq(st.running, 2);
    TR_CK_ERR(
        troupe_sup_stop_child(node, sup, a[1], true, troupe_deadline_in(5000)),
        TROUPE_ENOENT);
}
END_TEST

START_TEST(start_child_reports_the_init_error_and_keeps_nothing)
{
    troupe_sup_spec s = s_three(TROUPE_ONE_FOR_ONE);
    troupe_addr sup, a;
    TR_CK_OK(troupe_node_sup_start(node, &s, troupe_deadline_in(5000), &sup));
    troupe_child_spec extra = s_worker_child("w5", 5);
    atomic_store(&s_fail_init[5], 1);
    TR_CK_ERR(
        troupe_sup_start_child(node, sup, &extra, troupe_deadline_in(5000), &a),
        TROUPE_EUSER - 7);
    TR_CK_OK(troupe_sup_start_child(node, sup, &extra, troupe_deadline_in(5000),
                                    &a));
    TR_CK_ERR(
        troupe_sup_start_child(node, sup, &extra, troupe_deadline_in(5000), &a),
        TROUPE_EEXIST);
    ck_assert_int_eq(s_get(a, NULL, NULL), 1);
}
END_TEST

START_TEST(stopped_child_is_restarted_or_deleted_by_id)
{
    troupe_sup_spec s = s_three(TROUPE_ONE_FOR_ONE);
    troupe_addr sup, a;
    int64_t dl = troupe_deadline_in(5000);
    TR_CK_OK(troupe_node_sup_start(node, &s, dl, &sup));
    TR_CK_OK(troupe_sup_stop_child(node, sup, s_child(sup, "w1"), false, dl));
    TR_CK_OK(troupe_sup_restart_child(node, sup, "w1", dl, &a));
    ck_assert_int_eq(s_get(a, NULL, NULL), 2);
    TR_CK_ERR(troupe_sup_restart_child(node, sup, "w1", dl, &a),
              TROUPE_EALREADY);
    TR_CK_ERR(troupe_sup_delete_child(node, sup, "w0", dl), TROUPE_EALREADY);
    TR_CK_OK(troupe_sup_stop_child(node, sup, a, false, dl));
    TR_CK_OK(troupe_sup_delete_child(node, sup, "w1", dl));
    TR_CK_ERR(troupe_sup_restart_child(node, sup, "w1", dl, &a), TROUPE_ENOENT);
    // A restart that fails its init keeps the spec, stopped.
    TR_CK_OK(troupe_sup_stop_child(node, sup, s_child(sup, "w2"), false, dl));
    atomic_store(&s_fail_init[2], 1);
    TR_CK_ERR(troupe_sup_restart_child(node, sup, "w2", dl, &a),
              TROUPE_EUSER - 7);
    troupe_sup_stats st;
    TR_CK_OK(troupe_sup_stats_get(node, sup, dl, &st));
    ck_assert_uint_eq(st.children, 2);
    ck_assert_uint_eq(st.running, 1);
    TR_CK_OK(troupe_sup_restart_child(node, sup, "w2", dl, &a));
}
END_TEST

// ---- backoff ----

START_TEST(backoff_delays_a_restart_by_at_least_half_the_minimum)
{
    troupe_sup_spec s = s_three(TROUPE_ONE_FOR_ONE);
    s.backoff_min_ms = 80;
    s.backoff_max_ms = 1000;
    troupe_addr sup;
    TR_CK_OK(troupe_node_sup_start(node, &s, troupe_deadline_in(5000), &sup));
    troupe_addr w0 = s_child(sup, "w0");
    int64_t t0 = troupe_now();
    TR_CK_OK(troupe_client_tell(cl, w0, "crash", NULL));
    ck_assert_int_eq(s_get(w0, NULL, NULL), 2); // waits in the mailbox
    ck_assert_int_ge(troupe_now() - t0, 40);    // jitter: [d/2, d]
}
END_TEST

// ---- timeouts the supervisor applies ----

START_TEST(hung_isolated_child_is_replaced_by_a_fresh_instance)
{
    troupe_sup_spec s = s_three(TROUPE_ONE_FOR_ONE);
    s_kids[1].actor.placement = TROUPE_ISOLATED;
    s_kids[1].actor.budget_ms = 30;
    troupe_addr sup, now;
    TR_CK_OK(troupe_node_sup_start(node, &s, troupe_deadline_in(5000), &sup));
    troupe_addr old = s_child(sup, "w1");
    TR_CK_OK(troupe_client_tell(cl, old, "block", NULL));
    tr_gate_wait(&s_entered, 5000, "hung handler entered");
    int64_t until = troupe_deadline_in(5000);
    do // the watchdog sees it past its budget; the supervisor replaces it
        now = s_child(sup, "w1");
    while (troupe_addr_eq(now, old) && troupe_now() < until);
    ck_assert(!troupe_addr_eq(now, old));
    ck_assert_int_eq(s_get(now, NULL, NULL), 2);
    TR_CK_ERR(troupe_client_tell(cl, old, "m", "[I]", (int64_t)1),
              TROUPE_EDEAD); // the hung one is dead to senders
    troupe_node_stats st;
    TR_CK_OK(troupe_node_stats_get(node, &st));
    ck_assert_uint_ge(st.budget_overruns, 1);
    tr_gate_open(&s_release); // its thread returns and ends quietly
}
END_TEST

START_TEST(init_hanging_past_the_start_timeout_fails_the_start)
{
    troupe_sup_spec s = s_three(TROUPE_ONE_FOR_ONE);
    s_kids[2].actor.placement = TROUPE_ISOLATED;
    s_kids[2].start_timeout_ms = 100;
    atomic_store(&s_block_init[2], 1);
    troupe_addr sup;
    int64_t t0 = troupe_now();
    TR_CK_ERR(troupe_node_sup_start(node, &s, troupe_deadline_in(5000), &sup),
              TROUPE_ETIMEDOUT);
    ck_assert_int_ge(troupe_now() - t0, 100);
    ck_assert_str_eq(s_trace, "i0 i1 f1 f0 ");
    tr_gate_open(&s_release);
}
END_TEST

START_TEST(shutdown_timeout_forces_a_child_that_does_not_stop)
{
    troupe_sup_spec s = s_three(TROUPE_ONE_FOR_ONE);
    s_kids[0].actor.placement = TROUPE_ISOLATED;
    s_kids[0].shutdown_ms = 100;
    troupe_addr sup;
    TR_CK_OK(troupe_node_sup_start(node, &s, troupe_deadline_in(5000), &sup));
    TR_CK_OK(troupe_client_tell(cl, s_child(sup, "w0"), "block", NULL));
    tr_gate_wait(&s_entered, 5000, "hung handler entered");
    TR_CK_OK(troupe_client_monitor(cl, sup, NULL));
    int64_t t0 = troupe_now();
    TR_CK_OK(troupe_node_stop_actor(node, sup, TROUPE_ESHUTDOWN));
    ck_assert_int_eq(s_down_reason(sup), TROUPE_ESHUTDOWN);
    ck_assert_int_ge(troupe_now() - t0, 100);
    ck_assert_str_eq(s_trace, "i0 i1 i2 f2 f1 "); // w0 was forced
    tr_gate_open(&s_release);
}
END_TEST

START_TEST(supervisor_stays_stoppable_while_restarts_keep_failing)
{
    troupe_sup_spec s = s_three(TROUPE_ONE_FOR_ONE);
    s.intensity = 10000;
    s.backoff_min_ms = 5;
    s.backoff_max_ms = 20;
    troupe_addr sup;
    TR_CK_OK(troupe_node_sup_start(node, &s, troupe_deadline_in(5000), &sup));
    atomic_store(&s_fail_init[0], 1 << 30); // every restart fails
    TR_CK_OK(troupe_client_tell(cl, s_child(sup, "w0"), "crash", NULL));
    troupe_sup_stats st = {0};
    int64_t until = troupe_deadline_in(5000);
    while (st.restarts < 5 && troupe_now() < until)
        TR_CK_OK(troupe_sup_stats_get(node, sup, until, &st));
    ck_assert_uint_ge(st.restarts, 5);
    TR_CK_OK(troupe_client_monitor(cl, sup, NULL));
    TR_CK_OK(troupe_node_stop_actor(node, sup, TROUPE_ESHUTDOWN));
    ck_assert_int_eq(s_down_reason(sup), TROUPE_ESHUTDOWN);
}
END_TEST

// ---- a supervisor started by an actor ----

static troupe_sup_spec s_from_actor;

static int s_starter(troupe_ctx *cx, void *state, const troupe_msg *m)
{
    (void)state;
    troupe_addr sup;
    int rc = troupe_sup_start(cx, &s_from_actor, &sup);
    if (rc)
        return troupe_reply_error(cx, m, rc);
    return troupe_reply(cx, m, "[uuu]", sup.node, sup.slot, sup.incarnation);
}

START_TEST(supervisor_started_by_an_actor_ends_with_it)
{
    s_from_actor = s_three(TROUPE_ONE_FOR_ONE);
    troupe_actor_spec spec = troupe_actor_spec_default();
    spec.handler = s_starter;
    troupe_addr starter, sup;
    TR_CK_OK(
        troupe_node_spawn(node, &spec, troupe_deadline_in(5000), &starter));
    troupe_msg *r = NULL;
    TR_CK_OK(
        troupe_call(cl, starter, "go", troupe_deadline_in(5000), &r, NULL));
    TR_CK_OK(
        troupe_msg_read(r, "[uuu]", &sup.node, &sup.slot, &sup.incarnation));
    troupe_msg_destroy(&r);
    ck_assert_int_eq(s_get(s_child(sup, "w2"), NULL, NULL), 1);
    TR_CK_OK(troupe_client_monitor(cl, sup, NULL));
    TR_CK_OK(troupe_node_stop_actor(node, starter, TROUPE_EUSER - 9));
    ck_assert_int_eq(s_down_reason(sup), TROUPE_EUSER - 9); // linked
    ck_assert_str_eq(s_trace, "i0 i1 i2 f2 f1 f0 ");
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("supervisor");
    TCase *tc = tcase_create("start");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, children_start_in_order_and_stop_in_reverse);
    tcase_add_test(tc, init_error_fails_the_start_and_leaves_nothing);
    tcase_add_test(tc, a_child_that_holds_its_start_is_started_when_it_resumes);
    tcase_add_test(tc, a_held_start_past_the_start_timeout_fails_the_start);
    tcase_add_test(tc, bad_specs_are_refused_with_einval);
    tcase_add_test(tc, supervisor_started_by_an_actor_ends_with_it);
    suite_add_tcase(s, tc);
    tc = tcase_create("restart");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, crashed_child_restarts_under_the_same_address);
    tcase_add_test(tc,
                   messages_queued_behind_a_crash_reach_the_next_run_in_order);
    tcase_add_test(tc, requester_of_the_crashing_message_gets_edead);
    tcase_add_test(tc, transient_child_ending_normally_is_not_restarted);
    tcase_add_test(tc, temporary_child_is_forgotten_when_it_crashes);
    tcase_add_test(tc, backoff_delays_a_restart_by_at_least_half_the_minimum);
    suite_add_tcase(s, tc);
    tc = tcase_create("strategy");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, one_for_all_restarts_every_child);
    tcase_add_test(tc, rest_for_one_restarts_the_failed_child_and_later_ones);
    tcase_add_test(tc, too_many_restarts_end_the_supervisor_with_eintensity);
    tcase_add_test(tc, nested_supervisor_escalates_and_its_parent_restarts_it);
    tcase_add_test(tc, brutally_killed_child_does_not_take_its_supervisor_down);
    tcase_add_test(tc,
                   parked_child_ends_for_good_when_its_supervisor_is_killed);
    tcase_add_test(tc,
                   children_on_another_loop_restart_and_the_tree_stops_clean);
    tcase_add_test(tc,
                   grandchild_failing_its_first_start_fails_the_whole_start);
    suite_add_tcase(s, tc);
    tc = tcase_create("timeouts");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, hung_isolated_child_is_replaced_by_a_fresh_instance);
    tcase_add_test(tc, init_hanging_past_the_start_timeout_fails_the_start);
    tcase_add_test(tc, shutdown_timeout_forces_a_child_that_does_not_stop);
    tcase_add_test(tc, supervisor_stays_stoppable_while_restarts_keep_failing);
    suite_add_tcase(s, tc);
    tc = tcase_create("dynamic");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc,
                   simple_one_for_one_starts_and_stops_children_at_run_time);
    tcase_add_test(tc, start_child_reports_the_init_error_and_keeps_nothing);
    tcase_add_test(tc, stopped_child_is_restarted_or_deleted_by_id);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tr_run_suite(make_suite());
}
