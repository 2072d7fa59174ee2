// SPDX-License-Identifier: MIT
//
// Limiters: never more than N requests in flight, the rest sent in FIFO
// order; a full queue refuses with TROUPE_EFULL; a waiting request whose
// deadline passes ends TROUPE_ETIMEDOUT without being sent; cancel,
// destroy and the end of the actor end waiting requests TROUPE_ECANCELED.
// Every request made through a limiter ends exactly once. A driver actor
// owns the limiter and runs each scenario on a "run" request.
#include <string.h>

#include "tr_actors.h"
#include "tr_check.h"

#define T_MAX 64

static troupe_node *node;
static troupe_client *cl;
static tr_hold_state hold;
static troupe_addr hold_addr, echo_addr;

// What the driver saw (written on its thread, read after its answer).
static struct {
    int ended;               // callbacks run
    int order[T_MAX];        // which request each callback was for
    int status[T_MAX];       // by request
    int64_t at[T_MAX];       // troupe_now() at each end, by request
    int calls[T_MAX];        // callbacks per request
    troupe_limiter_stats st; // the limiter's, when the scenario ends
    uint64_t id[T_MAX];      // ids by request
    int expect;              // callbacks after which to answer
} out;

static troupe_limiter *lim;      // the driver's
static troupe_deferred *waiting; // the "run" request, answered at the end
static int64_t deadline_in;      // a scenario's deadline

typedef int (*scenario_fn)(troupe_ctx *cx);
static scenario_fn scenario;

static void setup(void)
{
    node = tr_node_new(2);
    TR_CK_OK(troupe_client_new(node, &cl));
    memset(&out, 0, sizeof out);
    memset(&hold, 0, sizeof hold);
    lim = NULL;
    waiting = NULL;
    hold_addr = tr_spawn_hold(node, 1, &hold);
    troupe_actor_spec e = tr_echo_spec(TROUPE_SHARED, NULL);
    e.loop = TROUPE_LOOP(1);
    TR_CK_OK(troupe_node_spawn(node, &e, troupe_deadline_in(5000), &echo_addr));
}

static void teardown(void)
{
    troupe_client_destroy(&cl);
    tr_node_destroy_clean(&node);
}

static void answer(troupe_ctx *cx)
{
    if (lim) // NULL once destroyed
        TR_CK_OK(troupe_limiter_stats_get(lim, &out.st));
    if (waiting)
        TR_CK_OK(troupe_deferred_reply(cx, &waiting, NULL));
}

// Each request's end: arg is its number.
static int on_end(troupe_ctx *cx, void *state, int status,
                  const troupe_msg *reply, void *arg)
{
    (void)state;
    int i = (int)(intptr_t)arg;
    ck_assert((status == 0) == (reply != NULL));
    out.order[out.ended++] = i;
    out.status[i] = status;
    out.at[i] = troupe_now();
    out.calls[i]++;
    if (out.ended == out.expect && status != TROUPE_ECANCELED)
        answer(cx);
    return 0;
}

static int req(troupe_addr to, const char *tag, int64_t deadline, int i)
{
    return troupe_limiter_request(lim, to, tag, deadline, on_end,
                                  (void *)(intptr_t)i, &out.id[i], "{s:I}", "x",
                                  (int64_t)i);
}

static int driver_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)state;
    if (!troupe_msg_is(msg, "run"))
        return 0;
    TR_CK_OK(troupe_defer(cx, msg, &waiting));
    return scenario(cx);
}

static void driver_fini(void *state, int reason)
{
    (void)state;
    (void)reason;
    troupe_limiter_destroy(&lim); // closed with the run already
}

static troupe_addr spawn_driver(void)
{
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = driver_handle;
    s.fini = driver_fini;
    s.loop = TROUPE_LOOP(0);
    troupe_addr a;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &a));
    return a;
}

static int run(scenario_fn f)
{
    scenario = f;
    troupe_addr drv = spawn_driver();
    troupe_msg *r = NULL;
    int rc = troupe_call(cl, drv, "run", troupe_deadline_in(5000), &r, NULL);
    troupe_msg_destroy(&r);
    return rc;
}

// ---- in flight and order ----

#define FIFO_N 4
#define FIFO_T 40

static int fifo(troupe_ctx *cx)
{
    TR_CK_OK(troupe_limiter_new(cx, FIFO_N, TROUPE_LIMITER_UNBOUNDED, &lim));
    out.expect = FIFO_T;
    for (int i = 0; i < FIFO_T; i++)
        TR_CK_OK(req(hold_addr, "hold", TROUPE_DEADLINE_DEFAULT, i));
    return 0;
}

START_TEST(never_more_than_n_in_flight_and_sent_in_fifo_order)
{
    // The target answers its oldest when it holds N, all at the end: it
    // holds N at once only if N are in flight, and more if more were.
    hold.release_at = FIFO_N;
    hold.total = FIFO_T;
    TR_CK_OK(run(fifo));
    ck_assert_int_eq(out.ended, FIFO_T);
    for (int i = 0; i < FIFO_T; i++) {
        ck_assert_int_eq(out.status[i], 0);
        ck_assert_int_eq(out.calls[i], 1);
        ck_assert_int_eq(hold.order[i], i); // sent in FIFO order
    }
    ck_assert_int_eq(hold.max_held, FIFO_N);
    ck_assert_uint_eq(out.st.peak_in_flight, FIFO_N);
    ck_assert_uint_eq(out.st.peak_queued, FIFO_T - FIFO_N);
    ck_assert_uint_eq(out.st.sent, FIFO_T);
    ck_assert_uint_eq(out.st.in_flight + out.st.queued, 0);
}
END_TEST

// ---- refusals ----

static int full(troupe_ctx *cx)
{
    TR_CK_OK(troupe_limiter_new(cx, 1, 2, &lim));
    TR_CK_OK(req(hold_addr, "hold", TROUPE_FOREVER, 0)); // in flight
    TR_CK_OK(req(hold_addr, "hold", TROUPE_FOREVER, 1)); // waits
    TR_CK_OK(req(hold_addr, "hold", TROUPE_FOREVER, 2)); // waits
    TR_CK_ERR(req(hold_addr, "hold", TROUPE_FOREVER, 3), TROUPE_EFULL);
    TR_CK_ERR(troupe_limiter_request(lim, hold_addr, "hold", TROUPE_FOREVER,
                                     NULL, NULL, NULL, NULL),
              TROUPE_EINVAL);
    answer(cx);
    return 0;
}

START_TEST(full_queue_refuses_with_efull)
{
    TR_CK_OK(run(full));
    ck_assert_uint_eq(out.st.refused, 1);
    ck_assert_uint_eq(out.st.in_flight, 1);
    ck_assert_uint_eq(out.st.queued, 2);
    ck_assert_int_eq(out.calls[3], 0); // refused: its callback never runs
}
END_TEST

static int expire(troupe_ctx *cx)
{
    TR_CK_OK(troupe_limiter_new(cx, 1, 8, &lim));
    TR_CK_OK(req(hold_addr, "hold", TROUPE_FOREVER, 0)); // never answered
    TR_CK_OK(req(echo_addr, "echo", deadline_in, 1));    // waits, expires
    out.expect = 1;
    return 0;
}

START_TEST(waiting_request_times_out_at_its_deadline_without_being_sent)
{
    deadline_in = troupe_deadline_in(100);
    TR_CK_OK(run(expire));
    ck_assert_int_eq(out.status[1], TROUPE_ETIMEDOUT);
    ck_assert_int_ge(out.at[1], deadline_in);
    ck_assert_int_le(out.at[1], deadline_in + 2000);
    ck_assert_uint_eq(out.st.sent, 1); // only the first went out
    ck_assert_uint_eq(out.st.expired, 1);
    ck_assert_uint_eq(out.st.queued, 0);
}
END_TEST

// ---- cancel, destroy, the end of the actor ----

static int cancel(troupe_ctx *cx)
{
    TR_CK_OK(troupe_limiter_new(cx, 1, 8, &lim));
    TR_CK_OK(req(hold_addr, "hold", TROUPE_FOREVER, 0)); // in flight
    TR_CK_OK(req(echo_addr, "echo", TROUPE_FOREVER, 1)); // waits
    TR_CK_OK(req(echo_addr, "echo", TROUPE_FOREVER, 2)); // waits
    out.expect = 3;
    TR_CK_OK(troupe_limiter_cancel(lim, out.id[1])); // never sent
    ck_assert_int_eq(out.status[1], TROUPE_ECANCELED);
    TR_CK_ERR(troupe_limiter_cancel(lim, out.id[1]), TROUPE_ENOENT);
    TR_CK_OK(troupe_limiter_cancel(lim, out.id[0])); // 2 goes out now
    ck_assert_int_eq(out.status[0], TROUPE_ECANCELED);
    return 0;
}

START_TEST(cancel_ends_a_waiting_or_flying_request_and_frees_its_place)
{
    TR_CK_OK(run(cancel));
    ck_assert_int_eq(out.status[2], 0);
    ck_assert_uint_eq(out.st.sent, 2);
    ck_assert_uint_eq(out.st.canceled, 1);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(out.calls[i], 1);
}
END_TEST

static int destroy(troupe_ctx *cx)
{
    TR_CK_OK(troupe_limiter_new(cx, 1, 8, &lim));
    for (int i = 0; i < 4; i++)
        TR_CK_OK(req(echo_addr, "echo", TROUPE_DEADLINE_DEFAULT, i));
    out.expect = 4;
    troupe_limiter *keep = lim;
    troupe_limiter_stats st;
    TR_CK_OK(troupe_limiter_stats_get(keep, &st));
    ck_assert_uint_eq(st.queued, 3);
    lim = NULL;
    troupe_limiter_destroy(&keep); // 1, 2, 3 end here, in order
    ck_assert_ptr_null(keep);
    ck_assert_int_eq(out.ended, 3);
    for (int i = 1; i < 4; i++) {
        ck_assert_int_eq(out.order[i - 1], i);
        ck_assert_int_eq(out.status[i], TROUPE_ECANCELED);
    }
    return 0; // 0 is still in flight and answers the caller when it ends
}

START_TEST(destroy_cancels_waiting_requests_in_order_and_lets_one_in_flight_end)
{
    TR_CK_OK(run(destroy));
    ck_assert_int_eq(out.order[3], 0);
    ck_assert_int_eq(out.status[0], 0);
}
END_TEST

static int end_run(troupe_ctx *cx)
{
    TR_CK_OK(troupe_limiter_new(cx, 1, 8, &lim));
    for (int i = 0; i < 3; i++)
        TR_CK_OK(req(hold_addr, "hold", TROUPE_FOREVER, i));
    return troupe_exit(cx, 0);
}

START_TEST(actor_ending_cancels_flying_and_waiting_requests)
{
    scenario = end_run;
    troupe_addr drv = spawn_driver();
    uint64_t ref;
    TR_CK_OK(troupe_client_monitor(cl, drv, &ref));
    troupe_msg *m = NULL;
    TR_CK_ERR(troupe_call(cl, drv, "run", troupe_deadline_in(5000), &m, NULL),
              TROUPE_EDEAD); // the run's deferred reply, never given
    TR_CK_OK(troupe_client_recv(cl, troupe_deadline_in(5000), &m));
    ck_assert_int_eq(troupe_msg_kind_of(m), TROUPE_MSG_DOWN);
    troupe_msg_destroy(&m);
    ck_assert_int_eq(out.ended, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(out.order[i], i); // the one in flight, then the rest
        ck_assert_int_eq(out.status[i], TROUPE_ECANCELED);
    }
}
END_TEST

// ---- misuse ----

static int misuse(troupe_ctx *cx)
{
    troupe_limiter *l = NULL;
    TR_CK_ERR(troupe_limiter_new(cx, 0, 8, &l), TROUPE_EINVAL);
    TR_CK_ERR(troupe_limiter_new(NULL, 1, 8, &l), TROUPE_EINVAL);
    TR_CK_OK(troupe_limiter_new(cx, 1, 0, &lim)); // nothing may wait
    TR_CK_OK(req(hold_addr, "hold", TROUPE_FOREVER, 0));
    TR_CK_ERR(req(hold_addr, "hold", TROUPE_FOREVER, 1), TROUPE_EFULL);
    TR_CK_ERR(req(hold_addr, "hold", TROUPE_NOWAIT, 2), TROUPE_ETIMEDOUT);
    answer(cx); // lim stays for the test thread to misuse; fini frees it
    return 0;
}

START_TEST(calls_from_outside_the_owner_are_refused)
{
    TR_CK_OK(run(misuse));
    // The test thread is not the owner's: refused, nothing touched.
    TR_CK_ERR(troupe_limiter_request(lim, hold_addr, "hold", TROUPE_FOREVER,
                                     on_end, NULL, NULL, NULL),
              TROUPE_EINVAL);
    TR_CK_ERR(troupe_limiter_cancel(lim, 1), TROUPE_EINVAL);
    TR_CK_ERR(troupe_limiter_stats_get(NULL, &out.st), TROUPE_EINVAL);
    troupe_limiter_destroy(NULL);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("limiter");
    TCase *t = tcase_create("limiter");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, TR_TCASE_TIMEOUT);
    tcase_add_test(t, never_more_than_n_in_flight_and_sent_in_fifo_order);
    tcase_add_test(t, full_queue_refuses_with_efull);
    tcase_add_test(
        t, waiting_request_times_out_at_its_deadline_without_being_sent);
    tcase_add_test(t,
                   cancel_ends_a_waiting_or_flying_request_and_frees_its_place);
    tcase_add_test(
        t,
        destroy_cancels_waiting_requests_in_order_and_lets_one_in_flight_end);
    tcase_add_test(t, actor_ending_cancels_flying_and_waiting_requests);
    tcase_add_test(t, calls_from_outside_the_owner_are_refused);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return tr_run_suite(make_suite());
}
