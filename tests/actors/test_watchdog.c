// SPDX-License-Identifier: MIT
//
// The watchdog and handler budgets: a handler running past its actor's
// budget is reported while it still runs (log line naming actor and tag,
// budget_overruns stat), or when it returns if there is no watchdog; the
// watchdog is a thread of its own that watchdog_ms = 0 turns off. Replacing
// a hung isolated child is the supervisor's part (test_supervisor.c).
#include <pthread.h>
#include <string.h>

#include "tr_actors.h"
#include "tr_check.h"

static char s_log[4096];
static pthread_mutex_t s_log_lock = PTHREAD_MUTEX_INITIALIZER;

static void s_keep_log(void *arg, troupe_log_level level, const char *line)
{
    (void)arg;
    (void)level;
    pthread_mutex_lock(&s_log_lock);
    size_t n = strlen(s_log);
    if (n + strlen(line) + 2 < sizeof s_log) {
        strcat(s_log, line);
        strcat(s_log, "\n");
    }
    pthread_mutex_unlock(&s_log_lock);
}

static int s_logged(const char *what)
{
    pthread_mutex_lock(&s_log_lock);
    int found = strstr(s_log, what) != NULL;
    pthread_mutex_unlock(&s_log_lock);
    return found;
}

static troupe_node *s_node_opts(int64_t watchdog_ms, int64_t block_warn_ms)
{
    troupe_node_opts o;
    troupe_node_opts_init(&o);
    o.loops = 1;
    o.watchdog_ms = watchdog_ms;
    o.block_warn_ms = block_warn_ms;
    o.log = s_keep_log;
    s_log[0] = '\0';
    return tr_node_new_opts(&o);
}

static troupe_node *s_node(int64_t watchdog_ms)
{
    return s_node_opts(watchdog_ms, 0);
}

static uint64_t s_overruns(troupe_node *n)
{
    troupe_node_stats st;
    TR_CK_OK(troupe_node_stats_get(n, &st));
    return st.budget_overruns;
}

// An echo actor with a budget of 20 ms; "block" holds it on a gate.
static troupe_addr s_spawn_budgeted(troupe_node *n, tr_echo_state *st)
{
    troupe_actor_spec spec = tr_echo_spec(TROUPE_SHARED, st);
    spec.budget_ms = 20;
    troupe_addr a;
    TR_CK_OK(troupe_node_spawn(n, &spec, troupe_deadline_in(5000), &a));
    return a;
}

START_TEST(handler_past_its_budget_is_reported_while_it_runs)
{
    static tr_gate entered, release;
    static tr_echo_state st = {.entered = &entered, .release = &release};
    tr_gate_init(&entered);
    tr_gate_init(&release);
    troupe_node *n = s_node(5);
    troupe_client *c;
    TR_CK_OK(troupe_client_new(n, &c));
    troupe_addr a = s_spawn_budgeted(n, &st);
    TR_CK_OK(troupe_client_tell(c, a, "block", NULL));
    tr_gate_wait(&entered, 5000, "block handler entered");
    int64_t until = troupe_deadline_in(5000);
    while (s_overruns(n) == 0 && troupe_now() < until)
        sched_yield(); // the handler is still blocked: only the watchdog
    ck_assert_uint_eq(s_overruns(n), 1);
    ck_assert(s_logged("handler for \"block\" still running after"));
    ck_assert(s_logged("make this actor isolated"));
    tr_gate_open(&release);
    tr_check_echo(c, a, 1); // it goes on; the overrun is counted once
    ck_assert_uint_eq(s_overruns(n), 1);
    troupe_client_destroy(&c);
    tr_node_destroy_clean(&n);
}
END_TEST

START_TEST(without_watchdog_an_overrun_is_reported_when_it_returns)
{
    static tr_gate entered, release;
    static tr_echo_state st = {.entered = &entered, .release = &release};
    tr_gate_init(&entered);
    tr_gate_init(&release);
    troupe_node *n = s_node(0);
    troupe_node_stats ns;
    TR_CK_OK(troupe_node_stats_get(n, &ns));
    ck_assert_uint_eq(ns.live_threads, 1); // the loop only
    troupe_client *c;
    TR_CK_OK(troupe_client_new(n, &c));
    troupe_addr a = s_spawn_budgeted(n, &st);
    TR_CK_OK(troupe_client_tell(c, a, "block", NULL));
    tr_gate_wait(&entered, 5000, "block handler entered");
    int64_t t0 = troupe_now();
    while (troupe_now() - t0 < 40) // let it overrun: nobody is watching
        sched_yield();
    ck_assert_uint_eq(s_overruns(n), 0);
    tr_gate_open(&release);
    tr_check_echo(c, a, 1); // after "block" returned
    ck_assert_uint_eq(s_overruns(n), 1);
    ck_assert(s_logged("handler for \"block\" took"));
    troupe_client_destroy(&c);
    tr_node_destroy_clean(&n);
}
END_TEST

START_TEST(handler_holding_its_loop_past_block_warn_ms_is_reported)
{
    static tr_gate entered, release;
    static tr_echo_state st = {.entered = &entered, .release = &release};
    tr_gate_init(&entered);
    tr_gate_init(&release);
    troupe_node *n = s_node_opts(5, 20); // no budget of its own: the loop's
    troupe_client *c;
    TR_CK_OK(troupe_client_new(n, &c));
    troupe_addr a = tr_spawn_echo(n, TROUPE_SHARED, &st);
    TR_CK_OK(troupe_client_tell(c, a, "block", NULL));
    tr_gate_wait(&entered, 5000, "block handler entered");
    int64_t until = troupe_deadline_in(5000);
    while (s_overruns(n) == 0 && troupe_now() < until)
        sched_yield();
    ck_assert_uint_eq(s_overruns(n), 1);
    ck_assert(s_logged("handler for \"block\" still running after"));
    tr_gate_open(&release);
    tr_check_echo(c, a, 1);
    troupe_client_destroy(&c);
    tr_node_destroy_clean(&n);
}
END_TEST

// Spins for ms of CPU time without yielding ("busy"), or answers at once.
static int s_busy_handler(troupe_ctx *cx, void *state, const troupe_msg *m)
{
    (void)state;
    if (troupe_msg_is(m, "busy")) {
        int64_t until = troupe_now() + 150;
        volatile uint64_t x = 0;
        while (troupe_now() < until)
            x++;
    }
    return troupe_reply(cx, m, NULL);
}

START_TEST(detector_fires_on_a_busy_handler_and_not_on_fast_ones)
{
    troupe_node *n = s_node_opts(10, 100); // the defaults
    troupe_client *c;
    TR_CK_OK(troupe_client_new(n, &c));
    troupe_actor_spec spec = troupe_actor_spec_default();
    spec.handler = s_busy_handler;
    troupe_addr a;
    TR_CK_OK(troupe_node_spawn(n, &spec, troupe_deadline_in(5000), &a));
    troupe_msg *r = NULL;
    for (int i = 0; i < 200; i++) { // fast handlers: nothing to report
        TR_CK_OK(troupe_call(c, a, "fast", troupe_deadline_in(5000), &r, NULL));
        troupe_msg_destroy(&r);
    }
    ck_assert_uint_eq(s_overruns(n), 0);
    TR_CK_OK(troupe_call(c, a, "busy", troupe_deadline_in(5000), &r, NULL));
    troupe_msg_destroy(&r);
    ck_assert_uint_eq(s_overruns(n), 1); // 150 ms on the loop: named
    ck_assert(s_logged("handler for \"busy\""));
    troupe_client_destroy(&c);
    tr_node_destroy_clean(&n);
}
END_TEST

START_TEST(negative_intervals_are_einval)
{
    troupe_node_opts o;
    troupe_node_opts_init(&o);
    ck_assert_int_eq(o.watchdog_ms, 10);
    ck_assert_int_eq(o.block_warn_ms, 100);
    o.watchdog_ms = -1;
    troupe_node *n = NULL;
    TR_CK_ERR(troupe_node_new(&n, &o), TROUPE_EINVAL);
    o.watchdog_ms = 10;
    o.block_warn_ms = -1;
    TR_CK_ERR(troupe_node_new(&n, &o), TROUPE_EINVAL);
    ck_assert_ptr_null(n);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("watchdog");
    TCase *tc = tcase_create("budget");
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, handler_past_its_budget_is_reported_while_it_runs);
    tcase_add_test(tc, without_watchdog_an_overrun_is_reported_when_it_returns);
    tcase_add_test(tc, handler_holding_its_loop_past_block_warn_ms_is_reported);
    tcase_add_test(tc, detector_fires_on_a_busy_handler_and_not_on_fast_ones);
    tcase_add_test(tc, negative_intervals_are_einval);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tr_run_suite(make_suite());
}
