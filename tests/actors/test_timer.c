// SPDX-License-Identifier: MIT
//
// Timers: one-shot and periodic timers arrive as TROUPE_MSG_TIMER with their
// tag and id, not before their delay (to the nanosecond, not only in whole
// milliseconds); a canceled timer never fires; timers end with their actor.
#include <time.h>

#include "tr_actors.h"
#include "tr_check.h"

static troupe_node *node;
static troupe_client *cl;

static void setup(void)
{
    node = tr_node_new(1);
    TR_CK_OK(troupe_client_new(node, &cl));
}

static void teardown(void)
{
    troupe_client_destroy(&cl);
    tr_node_destroy_clean(&node);
}

typedef struct ticker {
    troupe_addr report; // told "tick" with the timer's id at each firing
    int64_t started;    // when the timers were started
    int fired;          // timer messages seen
    uint64_t cancel_id; // a timer to cancel before it fires
} ticker;

static int ticker_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    ticker *t = state;
    if (troupe_msg_kind_of(msg) == TROUPE_MSG_TIMER) {
        t->fired++;
        return troupe_tell(cx, t->report, troupe_msg_tag(msg), "[IU]",
                           troupe_now() - t->started, troupe_msg_ref(msg));
    }
    if (troupe_msg_is(msg, "start")) {
        int64_t delay, period;
        TR_CK_OK(troupe_msg_read(msg, "[II]", &delay, &period));
        t->started = troupe_now();
        uint64_t id;
        int rc = troupe_timer_start(cx, delay, period, "tick", &id);
        return rc ? rc : troupe_reply(cx, msg, "U", id);
    }
    if (troupe_msg_is(msg, "start-and-cancel")) {
        TR_CK_OK(troupe_timer_start(cx, 20, 0, "never", &t->cancel_id));
        TR_CK_OK(troupe_timer_cancel(cx, t->cancel_id));
        TR_CK_ERR(troupe_timer_cancel(cx, t->cancel_id), TROUPE_ENOENT);
        TR_CK_ERR(troupe_timer_start(cx, -1, 0, "bad", NULL), TROUPE_EINVAL);
        return troupe_timer_start(cx, 60, 0, "after", NULL);
    }
    return 0;
}

static troupe_addr spawn_ticker(ticker *t)
{
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = ticker_handler;
    s.state = t;
    troupe_addr a;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &a));
    return a;
}

static uint64_t start(troupe_addr a, int64_t delay, int64_t period)
{
    troupe_msg *r = NULL;
    TR_CK_OK(troupe_call(cl, a, "start", troupe_deadline_in(5000), &r, "[II]",
                         delay, period));
    uint64_t id = 0;
    TR_CK_OK(troupe_msg_read(r, "U", &id));
    troupe_msg_destroy(&r);
    return id;
}

static int64_t next_tick(const char *tag, uint64_t *id)
{
    troupe_msg *m = NULL;
    TR_CK_OK(troupe_client_recv(cl, troupe_deadline_in(5000), &m));
    ck_assert_str_eq(troupe_msg_tag(m), tag);
    int64_t at = -1;
    TR_CK_OK(troupe_msg_read(m, "[IU]", &at, id));
    troupe_msg_destroy(&m);
    return at;
}

START_TEST(one_shot_timer_fires_once_after_its_delay)
{
    static ticker t;
    t = (ticker){troupe_client_addr(cl), 0, 0, 0};
    troupe_addr a = spawn_ticker(&t);
    uint64_t id = start(a, 30, 0), got = 0;
    ck_assert_int_ge(next_tick("tick", &got), 30);
    ck_assert_uint_eq(got, id);
    troupe_msg *m = NULL;
    TR_CK_ERR(troupe_client_recv(cl, troupe_deadline_in(100), &m),
              TROUPE_ETIMEDOUT);
}
END_TEST

START_TEST(periodic_timer_keeps_its_period)
{
    static ticker t;
    t = (ticker){troupe_client_addr(cl), 0, 0, 0};
    troupe_addr a = spawn_ticker(&t);
    uint64_t got;
    start(a, 10, 10);
    for (int i = 1; i <= 5; i++)
        ck_assert_int_ge(next_tick("tick", &got), 10 * i);
}
END_TEST

START_TEST(canceled_timer_never_fires)
{
    static ticker t;
    t = (ticker){troupe_client_addr(cl), 0, 0, 0};
    troupe_addr a = spawn_ticker(&t);
    t.started = troupe_now();
    TR_CK_OK(troupe_client_tell(cl, a, "start-and-cancel", NULL));
    uint64_t got;
    next_tick("after", &got); // fires at 60 ms, the canceled one at 20 ms
    ck_assert_uint_ne(got, t.cancel_id);
}
END_TEST

START_TEST(timers_end_with_their_actor)
{
    static ticker t;
    t = (ticker){troupe_client_addr(cl), 0, 0, 0};
    troupe_addr a = spawn_ticker(&t);
    start(a, 5, 5);
    uint64_t got;
    next_tick("tick", &got);
    uint64_t ref;
    TR_CK_OK(troupe_client_monitor(cl, a, &ref));
    TR_CK_OK(troupe_node_stop_actor(node, a, 0));
    for (;;) { // ticks already sent may come before the down message
        troupe_msg *m = NULL;
        TR_CK_OK(troupe_client_recv(cl, troupe_deadline_in(5000), &m));
        int down = troupe_msg_kind_of(m) == TROUPE_MSG_DOWN;
        troupe_msg_destroy(&m);
        if (down)
            break;
    }
    troupe_msg *m = NULL;
    TR_CK_ERR(troupe_client_recv(cl, troupe_deadline_in(50), &m),
              TROUPE_ETIMEDOUT);
}
END_TEST

// CLOCK_MONOTONIC in ns, the clock timers are due on.
static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// On "go" [delay ms] it starts a one-shot timer, reading the clock just
// before; when the timer fires it tells `report` "fired" [elapsed ns] since
// then, read first thing in the handler. On "ask" [ms] it sends `silent`
// (a hold actor, which holds it unanswered) a request with a deadline ms from
// now, and when that ends tells `report` "ended" [status, troupe_now() -
// deadline].
typedef struct stopwatch {
    troupe_addr report; // told "fired" and "ended"
    troupe_addr silent; // a hold actor, asked "hold"
    int64_t started;    // ns, just before troupe_timer_start
    int64_t deadline;   // of the request asked, ms on troupe_now()
} stopwatch;

static int stopwatch_ended(troupe_ctx *cx, void *state, int status,
                           const troupe_msg *reply, void *arg)
{
    (void)reply;
    (void)arg;
    stopwatch *w = state;
    return troupe_tell(cx, w->report, "ended", "[iI]", status,
                       troupe_now() - w->deadline);
}

static int stopwatch_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    int64_t now = now_ns();
    stopwatch *w = state;
    if (troupe_msg_kind_of(msg) == TROUPE_MSG_TIMER)
        return troupe_tell(cx, w->report, "fired", "[I]", now - w->started);
    int64_t ms;
    if (troupe_msg_is(msg, "go")) {
        TR_CK_OK(troupe_msg_read(msg, "[I]", &ms));
        w->started = now_ns();
        return troupe_timer_start(cx, ms, 0, "t", NULL);
    }
    if (troupe_msg_is(msg, "ask")) {
        TR_CK_OK(troupe_msg_read(msg, "[I]", &ms));
        w->deadline = troupe_deadline_in(ms);
        return troupe_request(cx, w->silent, "hold", w->deadline,
                              stopwatch_ended, NULL, NULL, "{s:I}", "x", ms);
    }
    return 0;
}

static troupe_addr spawn_stopwatch(stopwatch *w)
{
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = stopwatch_handler;
    s.state = w;
    troupe_addr a;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &a));
    return a;
}

START_TEST(timer_never_fires_before_its_delay_in_ns)
{
    static stopwatch w;
    w = (stopwatch){.report = troupe_client_addr(cl)};
    troupe_addr a = spawn_stopwatch(&w);
    // Several rounds: the due time falls at a different point of a
    // millisecond each time, where a millisecond-grained clock would round.
    for (int i = 0; i < 10; i++) {
        TR_CK_OK(troupe_client_tell(cl, a, "go", "[I]", (int64_t)5));
        troupe_msg *m = NULL;
        TR_CK_OK(troupe_client_recv(cl, troupe_deadline_in(5000), &m));
        ck_assert_str_eq(troupe_msg_tag(m), "fired");
        int64_t elapsed = -1;
        TR_CK_OK(troupe_msg_read(m, "[I]", &elapsed));
        troupe_msg_destroy(&m);
        ck_assert_int_ge(elapsed, 5000000);    // never early
        ck_assert_int_lt(elapsed, 1000000000); // it fired (no speed check)
    }
}
END_TEST

START_TEST(request_deadline_never_ends_before_it)
{
    static tr_hold_state held; // holds every request: none is answered
    static stopwatch w;
    held = (tr_hold_state){0};
    w = (stopwatch){.report = troupe_client_addr(cl),
                    .silent = tr_spawn_hold(node, 0, &held)};
    troupe_addr a = spawn_stopwatch(&w);
    for (int i = 0; i < 10; i++) {
        TR_CK_OK(troupe_client_tell(cl, a, "ask", "[I]", (int64_t)5));
        troupe_msg *m = NULL;
        TR_CK_OK(troupe_client_recv(cl, troupe_deadline_in(5000), &m));
        ck_assert_str_eq(troupe_msg_tag(m), "ended");
        int status = 0;
        int64_t past = -1;
        TR_CK_OK(troupe_msg_read(m, "[iI]", &status, &past));
        troupe_msg_destroy(&m);
        TR_CK_ERR(status, TROUPE_ETIMEDOUT);
        ck_assert_int_ge(past, 0);    // troupe_now() had reached it
        ck_assert_int_lt(past, 1000); // it ended (no speed check)
    }
}
END_TEST

Suite *make_suite(void);
Suite *make_suite(void)
{
    Suite *s = suite_create("timer");
    TCase *tc = tcase_create("timer");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, one_shot_timer_fires_once_after_its_delay);
    tcase_add_test(tc, periodic_timer_keeps_its_period);
    tcase_add_test(tc, canceled_timer_never_fires);
    tcase_add_test(tc, timers_end_with_their_actor);
    tcase_add_test(tc, timer_never_fires_before_its_delay_in_ns);
    tcase_add_test(tc, request_deadline_never_ends_before_it);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tr_run_suite(make_suite());
}
