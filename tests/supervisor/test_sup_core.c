// SPDX-License-Identifier: MIT
//
// The supervisor core (supervisor/sup_core.c) driven by fed events and a
// fake clock: no thread, actor or sleep. Each test checks the exact actions
// the core returns, rendered as "stop 2, start 0, exit intensity", for the
// restart types, the strategies, intensity, start and shutdown, timeouts,
// failures during a group restart, backoff, dynamic children and misuse.
#include <stdio.h>
#include <string.h>

#include "sup_core.h"
#include "tr_check.h"

#define S_CRASH (TROUPE_EUSER - 1)     // an abnormal exit reason
#define S_INTENSITY (TROUPE_EUSER - 2) // the policy's "gave up" reason

static tr_sup_core s_c;  // the core under test, freed by the teardown
static char s_buf[2048]; // what s_out and s_run render
static char s_num[32];   // a reason without a name

static void s_teardown(void)
{
    tr_sup_core_fini(&s_c);
}

static tr_sup_policy s_policy(int strategy)
{
    return (tr_sup_policy){
        .strategy = strategy,
        .intensity = 10,
        .period_ms = 1000,
        .seed = 42,
        .shutdown_reason = TROUPE_ESHUTDOWN,
        .intensity_reason = S_INTENSITY,
        .timeout_reason = TROUPE_ETIMEDOUT,
    };
}

// A one_for_one policy with backoff from 100 to 800 ms, reset after 1 s.
static tr_sup_policy s_backoff_policy(int strategy, uint64_t seed)
{
    tr_sup_policy pol = s_policy(strategy);
    pol.intensity = 100;
    pol.backoff_min_ms = 100;
    pol.backoff_max_ms = 800;
    pol.backoff_reset_ms = 1000;
    pol.seed = seed;
    return pol;
}

static size_t s_add(tr_sup_core *c, int restart, int64_t shutdown_ms,
                    int64_t start_timeout_ms)
{
    size_t i = SIZE_MAX;
    TR_CK_OK(tr_sup_core_add(c, restart, shutdown_ms, start_timeout_ms, &i));
    return i;
}

// s_c with policy pol and n children of type restart (shutdown_ms 100).
static tr_sup_core *s_core_pol(const tr_sup_policy *pol, size_t n, int restart)
{
    TR_CK_OK(tr_sup_core_init(&s_c, pol));
    for (size_t k = 0; k < n; k++)
        s_add(&s_c, restart, 100, 0);
    return &s_c;
}

static tr_sup_core *s_core(int strategy, size_t n, int restart)
{
    tr_sup_policy pol = s_policy(strategy);
    return s_core_pol(&pol, n, restart);
}

// s_c with strategy, n permanent children and intensity restarts a second.
static tr_sup_core *s_core_intensity(int strategy, size_t n, uint32_t intensity)
{
    tr_sup_policy pol = s_policy(strategy);
    pol.intensity = intensity;
    return s_core_pol(&pol, n, TR_SUP_PERMANENT);
}

static const char *s_reason(int r)
{
    switch (r) {
    case 0:
        return "normal";
    case S_CRASH:
        return "crash";
    case S_INTENSITY:
        return "intensity";
    case TROUPE_ESHUTDOWN:
        return "shutdown";
    case TROUPE_ETIMEDOUT:
        return "timeout";
    default:
        snprintf(s_num, sizeof s_num, "%d", r);
        return s_num;
    }
}

static void s_render(const tr_sup_action *a)
{
    size_t len = strlen(s_buf);
    snprintf(s_buf + len, sizeof s_buf - len, "%s%s ", len ? ", " : "",
             tr_sup_action_name(a->kind));
    len = strlen(s_buf);
    if (a->kind == TR_SUP_DO_EXIT)
        snprintf(s_buf + len, sizeof s_buf - len, "%s", s_reason(a->reason));
    else
        snprintf(s_buf + len, sizeof s_buf - len, "%zu", a->i);
}

// The actions of the last call, e.g. "stop 2, start 0".
static const char *s_out(const tr_sup_core *c)
{
    s_buf[0] = '\0';
    for (size_t k = 0; k < c->n_out; k++)
        s_render(&c->out[k]);
    return s_buf;
}

// Play a glue whose children answer at once: carry out the last call's
// actions, answering START with STARTED and STOP/KILL with EXIT, until
// nothing is left. Returns every action, in order.
static const char *s_run(tr_sup_core *c, int64_t now)
{
    tr_sup_action q[256];
    size_t head = 0, n = 0;
    for (size_t k = 0; k < c->n_out; k++)
        q[n++] = c->out[k];
    s_buf[0] = '\0';
    while (head < n) {
        tr_sup_action a = q[head++];
        s_render(&a);
        if (a.kind == TR_SUP_DO_START)
            TR_CK_OK(tr_sup_core_started(c, a.i, now));
        else if (a.kind == TR_SUP_DO_STOP)
            TR_CK_OK(tr_sup_core_exited(c, a.i, TROUPE_ESHUTDOWN, now));
        else if (a.kind == TR_SUP_DO_KILL)
            TR_CK_OK(tr_sup_core_exited(c, a.i, TROUPE_EKILLED, now));
        else
            continue;
        for (size_t k = 0; k < c->n_out && n < 256; k++)
            q[n++] = c->out[k];
    }
    return s_buf;
}

// Start the supervisor at time 0 and bring every child up.
static void s_boot(tr_sup_core *c)
{
    TR_CK_OK(tr_sup_core_start(c, 0));
    s_run(c, 0);
    ck_assert_int_eq(c->state, TR_SUP_RUNNING);
}

static void s_ck_state(const tr_sup_core *c, size_t i, int want)
{
    ck_assert_str_eq(tr_sup_child_state_name(c->child[i].state),
                     tr_sup_child_state_name(want));
}

// ---- restart types ------------------------------------------------------

static const struct {
    int restart, reason;
    const char *out;
} s_matrix[] = {
    {TR_SUP_PERMANENT, 0, "start 0"},
    {TR_SUP_PERMANENT, TROUPE_ESHUTDOWN, "start 0"},
    {TR_SUP_PERMANENT, S_CRASH, "start 0"},
    {TR_SUP_TRANSIENT, 0, ""},
    {TR_SUP_TRANSIENT, TROUPE_ESHUTDOWN, ""},
    {TR_SUP_TRANSIENT, S_CRASH, "start 0"},
    {TR_SUP_TEMPORARY, 0, "forget 0"},
    {TR_SUP_TEMPORARY, TROUPE_ESHUTDOWN, "forget 0"},
    {TR_SUP_TEMPORARY, S_CRASH, "forget 0"},
};

START_TEST(restart_type_and_exit_reason_decide_the_restart)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ONE, 1, s_matrix[_i].restart);
    s_boot(c);
    TR_CK_OK(tr_sup_core_exited(c, 0, s_matrix[_i].reason, 10));
    ck_assert_str_eq(s_out(c), s_matrix[_i].out);
}
END_TEST

START_TEST(child_that_is_not_restarted_stays_idle_unless_temporary)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ONE, 1, TR_SUP_TRANSIENT);
    s_add(c, TR_SUP_TEMPORARY, 100, 0);
    s_boot(c);
    TR_CK_OK(tr_sup_core_exited(c, 0, 0, 10));
    TR_CK_OK(tr_sup_core_exited(c, 1, 0, 10));
    s_ck_state(c, 0, TR_SUP_CHILD_IDLE);
    s_ck_state(c, 1, TR_SUP_CHILD_FREE);
    ck_assert_int_eq(c->child[0].last_reason, 0);
}
END_TEST

// ---- strategies -----------------------------------------------------------

START_TEST(one_for_one_restarts_only_the_failed_child)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ONE, 3, TR_SUP_PERMANENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_exited(c, 1, S_CRASH, 10));
    ck_assert_str_eq(s_run(c, 10), "start 1");
    s_ck_state(c, 0, TR_SUP_CHILD_RUNNING);
    s_ck_state(c, 2, TR_SUP_CHILD_RUNNING);
}
END_TEST

START_TEST(one_for_all_stops_the_others_newest_first_then_starts_all)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ALL, 3, TR_SUP_PERMANENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_exited(c, 1, S_CRASH, 10));
    ck_assert_str_eq(s_run(c, 10), "stop 2, stop 0, start 0, start 1, start 2");
}
END_TEST

START_TEST(rest_for_one_restarts_the_failed_child_and_those_after_it)
{
    tr_sup_core *c = s_core(TR_SUP_REST_FOR_ONE, 4, TR_SUP_PERMANENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_exited(c, 1, S_CRASH, 10));
    ck_assert_str_eq(s_run(c, 10), "stop 3, stop 2, start 1, start 2, start 3");
    s_ck_state(c, 0, TR_SUP_CHILD_RUNNING);
}
END_TEST

START_TEST(rest_for_one_failure_of_the_newest_child_restarts_only_it)
{
    tr_sup_core *c = s_core(TR_SUP_REST_FOR_ONE, 3, TR_SUP_PERMANENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_exited(c, 2, S_CRASH, 10));
    ck_assert_str_eq(s_run(c, 10), "start 2");
}
END_TEST

START_TEST(group_restart_waits_for_each_answer_before_its_next_step)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ALL, 3, TR_SUP_PERMANENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_exited(c, 1, S_CRASH, 10));
    ck_assert_str_eq(s_out(c), "stop 2");
    TR_CK_OK(tr_sup_core_exited(c, 2, TROUPE_ESHUTDOWN, 11));
    ck_assert_str_eq(s_out(c), "stop 0");
    TR_CK_OK(tr_sup_core_exited(c, 0, TROUPE_ESHUTDOWN, 12));
    ck_assert_str_eq(s_out(c), "start 0");
    TR_CK_OK(tr_sup_core_started(c, 0, 13));
    ck_assert_str_eq(s_out(c), "start 1");
    TR_CK_OK(tr_sup_core_started(c, 1, 14));
    ck_assert_str_eq(s_out(c), "start 2");
}
END_TEST

START_TEST(temporary_sibling_stopped_in_a_group_restart_is_forgotten)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ALL, 1, TR_SUP_PERMANENT);
    s_add(c, TR_SUP_TEMPORARY, 100, 0);
    s_add(c, TR_SUP_PERMANENT, 100, 0);
    s_boot(c);
    TR_CK_OK(tr_sup_core_exited(c, 0, S_CRASH, 10));
    ck_assert_str_eq(s_run(c, 10),
                     "stop 2, stop 1, forget 1, start 0, start 2");
}
END_TEST

START_TEST(brutal_sibling_is_killed_at_once_in_a_group_restart)
{
    tr_sup_policy pol = s_policy(TR_SUP_ONE_FOR_ALL);
    TR_CK_OK(tr_sup_core_init(&s_c, &pol));
    s_add(&s_c, TR_SUP_PERMANENT, 0, 0);
    s_add(&s_c, TR_SUP_PERMANENT, 0, 0);
    s_boot(&s_c);
    TR_CK_OK(tr_sup_core_exited(&s_c, 0, S_CRASH, 10));
    ck_assert_str_eq(s_run(&s_c, 10), "kill 1, start 0, start 1");
}
END_TEST

START_TEST(sibling_ignoring_stop_is_killed_at_its_shutdown_deadline)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ALL, 2, TR_SUP_PERMANENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_exited(c, 0, S_CRASH, 10));
    ck_assert_str_eq(s_out(c), "stop 1");
    ck_assert_int_eq(tr_sup_core_next_deadline(c), 110);
    TR_CK_OK(tr_sup_core_tick(c, 109));
    ck_assert_str_eq(s_out(c), "");
    TR_CK_OK(tr_sup_core_tick(c, 110));
    ck_assert_str_eq(s_out(c), "kill 1");
    ck_assert_int_eq(tr_sup_core_next_deadline(c), INT64_MAX);
    TR_CK_OK(tr_sup_core_exited(c, 1, TROUPE_EKILLED, 111));
    ck_assert_str_eq(s_out(c), "start 0");
}
END_TEST

// ---- intensity ----------------------------------------------------------

START_TEST(restarts_up_to_intensity_within_the_period_are_allowed)
{
    tr_sup_core *c = s_core_intensity(TR_SUP_ONE_FOR_ONE, 1, 3);
    s_boot(c);
    for (int64_t t = 1; t <= 3; t++) {
        TR_CK_OK(tr_sup_core_exited(c, 0, S_CRASH, t));
        ck_assert_str_eq(s_run(c, t), "start 0");
    }
    ck_assert_int_eq(c->state, TR_SUP_RUNNING);
}
END_TEST

START_TEST(one_restart_too_many_stops_newest_first_then_exits)
{
    tr_sup_core *c = s_core_intensity(TR_SUP_ONE_FOR_ONE, 3, 1);
    s_boot(c);
    TR_CK_OK(tr_sup_core_exited(c, 0, S_CRASH, 1));
    ck_assert_str_eq(s_run(c, 1), "start 0");
    TR_CK_OK(tr_sup_core_exited(c, 0, S_CRASH, 2));
    ck_assert_str_eq(s_run(c, 2), "stop 2, stop 1, exit intensity");
    ck_assert_int_eq(c->state, TR_SUP_DONE);
}
END_TEST

START_TEST(failures_spaced_beyond_the_period_never_escalate)
{
    tr_sup_core *c = s_core_intensity(TR_SUP_ONE_FOR_ONE, 1, 1);
    s_boot(c);
    for (int64_t t = 0; t < 10 * 1001; t += 1001) {
        TR_CK_OK(tr_sup_core_exited(c, 0, S_CRASH, t));
        ck_assert_str_eq(s_run(c, t), "start 0");
    }
}
END_TEST

START_TEST(a_restart_exactly_one_period_later_still_counts)
{
    tr_sup_core *c = s_core_intensity(TR_SUP_ONE_FOR_ONE, 1, 1);
    s_boot(c);
    TR_CK_OK(tr_sup_core_exited(c, 0, S_CRASH, 0));
    ck_assert_str_eq(s_run(c, 0), "start 0");
    TR_CK_OK(tr_sup_core_exited(c, 0, S_CRASH, 1000)); // OTP: inclusive
    ck_assert_str_eq(s_out(c), "exit intensity");
}
END_TEST

START_TEST(intensity_zero_escalates_on_the_first_restart)
{
    tr_sup_policy pol = s_policy(TR_SUP_ONE_FOR_ONE);
    pol.intensity = 0;
    tr_sup_core *c = s_core_pol(&pol, 2, TR_SUP_TRANSIENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_exited(c, 1, 0, 5)); // normal: no restart needed
    ck_assert_str_eq(s_out(c), "");
    TR_CK_OK(tr_sup_core_exited(c, 0, S_CRASH, 6));
    ck_assert_str_eq(s_out(c), "exit intensity");
}
END_TEST

START_TEST(a_group_restart_counts_as_one_restart)
{
    tr_sup_core *c = s_core_intensity(TR_SUP_ONE_FOR_ALL, 3, 1);
    s_boot(c);
    TR_CK_OK(tr_sup_core_exited(c, 1, S_CRASH, 1));
    ck_assert_str_eq(s_run(c, 1), "stop 2, stop 0, start 0, start 1, start 2");
    TR_CK_OK(tr_sup_core_exited(c, 1, S_CRASH, 2));
    ck_assert_str_eq(s_run(c, 2), "stop 2, stop 0, exit intensity");
}
END_TEST

// ---- initial start ------------------------------------------------------

START_TEST(start_starts_children_one_at_a_time_in_order)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ONE, 3, TR_SUP_PERMANENT);
    TR_CK_OK(tr_sup_core_start(c, 0));
    ck_assert_str_eq(s_out(c), "start 0");
    TR_CK_OK(tr_sup_core_started(c, 0, 1));
    ck_assert_str_eq(s_out(c), "start 1");
    TR_CK_OK(tr_sup_core_started(c, 1, 2));
    ck_assert_str_eq(s_out(c), "start 2");
    ck_assert_int_eq(c->state, TR_SUP_STARTING);
    TR_CK_OK(tr_sup_core_started(c, 2, 3));
    ck_assert_str_eq(s_out(c), "");
    ck_assert_int_eq(c->state, TR_SUP_RUNNING);
}
END_TEST

START_TEST(next_child_waits_for_started_whatever_happens_meanwhile)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ONE, 3, TR_SUP_PERMANENT);
    TR_CK_OK(tr_sup_core_start(c, 0));
    TR_CK_OK(tr_sup_core_tick(c, 5));
    TR_CK_OK(tr_sup_core_exited(c, 2, S_CRASH, 6)); // late: idle
    ck_assert_str_eq(s_out(c), "");
    TR_CK_OK(tr_sup_core_started(c, 0, 8));
    ck_assert_str_eq(s_out(c), "start 1");
}
END_TEST

START_TEST(start_with_no_children_is_running_at_once)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ONE, 0, TR_SUP_PERMANENT);
    TR_CK_OK(tr_sup_core_start(c, 0));
    ck_assert_str_eq(s_out(c), "");
    ck_assert_int_eq(c->state, TR_SUP_RUNNING);
}
END_TEST

START_TEST(start_failure_stops_the_started_ones_then_exits_with_its_reason)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ONE, 3, TR_SUP_PERMANENT);
    TR_CK_OK(tr_sup_core_start(c, 0));
    TR_CK_OK(tr_sup_core_started(c, 0, 1));
    TR_CK_OK(tr_sup_core_started(c, 1, 2));
    TR_CK_OK(tr_sup_core_start_failed(c, 2, S_CRASH, 3));
    ck_assert_str_eq(s_run(c, 3), "stop 1, stop 0, exit crash");
    ck_assert_int_eq(c->state, TR_SUP_DONE);
}
END_TEST

START_TEST(child_crashing_during_the_initial_start_is_restarted)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ONE, 2, TR_SUP_PERMANENT);
    TR_CK_OK(tr_sup_core_start(c, 0));
    TR_CK_OK(tr_sup_core_started(c, 0, 1));
    TR_CK_OK(tr_sup_core_exited(c, 0, S_CRASH, 2));
    ck_assert_str_eq(s_out(c), "start 0");
    TR_CK_OK(tr_sup_core_started(c, 0, 3));
    TR_CK_OK(tr_sup_core_started(c, 1, 4));
    ck_assert_int_eq(c->state, TR_SUP_RUNNING);
}
END_TEST

START_TEST(start_called_again_is_ignored)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ONE, 2, TR_SUP_PERMANENT);
    TR_CK_OK(tr_sup_core_start(c, 0));
    TR_CK_OK(tr_sup_core_start(c, 0));
    ck_assert_str_eq(s_out(c), "");
    ck_assert_str_eq(s_run(c, 0), "");
    TR_CK_OK(tr_sup_core_started(c, 0, 1));
    ck_assert_str_eq(s_out(c), "start 1");
}
END_TEST

// ---- start timeout --------------------------------------------------------

START_TEST(start_timeout_kills_then_restarts_the_child)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ONE, 0, TR_SUP_PERMANENT);
    s_add(c, TR_SUP_PERMANENT, 100, 50);
    s_boot(c);
    TR_CK_OK(tr_sup_core_exited(c, 0, S_CRASH, 100));
    ck_assert_str_eq(s_out(c), "start 0");
    ck_assert_int_eq(tr_sup_core_next_deadline(c), 150);
    TR_CK_OK(tr_sup_core_tick(c, 149));
    ck_assert_str_eq(s_out(c), "");
    TR_CK_OK(tr_sup_core_tick(c, 150));
    ck_assert_str_eq(s_out(c), "kill 0, start 0");
    ck_assert_int_eq(c->child[0].last_reason, TROUPE_ETIMEDOUT);
}
END_TEST

START_TEST(start_timeout_during_the_initial_start_fails_the_supervisor)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ONE, 0, TR_SUP_PERMANENT);
    s_add(c, TR_SUP_PERMANENT, 100, 50);
    s_add(c, TR_SUP_PERMANENT, 100, 50);
    TR_CK_OK(tr_sup_core_start(c, 0));
    TR_CK_OK(tr_sup_core_started(c, 0, 10));
    ck_assert_int_eq(tr_sup_core_next_deadline(c), 60);
    TR_CK_OK(tr_sup_core_tick(c, 60));
    ck_assert_str_eq(s_out(c), "kill 1, stop 0");
    TR_CK_OK(tr_sup_core_exited(c, 0, TROUPE_ESHUTDOWN, 61));
    ck_assert_str_eq(s_out(c), "exit timeout");
}
END_TEST

START_TEST(start_answer_after_a_timeout_is_ignored)
{
    tr_sup_policy pol = s_backoff_policy(TR_SUP_ONE_FOR_ONE, 1);
    TR_CK_OK(tr_sup_core_init(&s_c, &pol));
    s_add(&s_c, TR_SUP_PERMANENT, 100, 50);
    s_boot(&s_c);
    TR_CK_OK(tr_sup_core_exited(&s_c, 0, S_CRASH, 10));
    int64_t t = tr_sup_core_next_deadline(&s_c);
    TR_CK_OK(tr_sup_core_tick(&s_c, t));
    TR_CK_OK(tr_sup_core_tick(&s_c, t + 50));
    ck_assert_str_eq(s_out(&s_c), "kill 0");
    TR_CK_OK(tr_sup_core_started(&s_c, 0, t + 51));
    ck_assert_str_eq(s_out(&s_c), "");
    s_ck_state(&s_c, 0, TR_SUP_CHILD_WAITING);
}
END_TEST

// ---- shutdown -------------------------------------------------------------

START_TEST(shutdown_stops_children_newest_first_one_at_a_time)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ONE, 3, TR_SUP_PERMANENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_shutdown(c, TROUPE_ESHUTDOWN, 10));
    ck_assert_str_eq(s_out(c), "stop 2");
    TR_CK_OK(tr_sup_core_exited(c, 2, TROUPE_ESHUTDOWN, 11));
    ck_assert_str_eq(s_out(c), "stop 1");
    TR_CK_OK(tr_sup_core_exited(c, 1, TROUPE_ESHUTDOWN, 12));
    ck_assert_str_eq(s_out(c), "stop 0");
    TR_CK_OK(tr_sup_core_exited(c, 0, TROUPE_ESHUTDOWN, 13));
    ck_assert_str_eq(s_out(c), "exit shutdown");
    ck_assert_int_eq(c->state, TR_SUP_DONE);
}
END_TEST

START_TEST(child_not_stopping_in_time_is_killed_via_tick)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ONE, 2, TR_SUP_PERMANENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_shutdown(c, TROUPE_ESHUTDOWN, 10));
    ck_assert_int_eq(tr_sup_core_next_deadline(c), 110);
    TR_CK_OK(tr_sup_core_tick(c, 110));
    ck_assert_str_eq(s_out(c), "kill 1");
    TR_CK_OK(tr_sup_core_tick(c, 500)); // killed once only
    ck_assert_str_eq(s_out(c), "");
    TR_CK_OK(tr_sup_core_exited(c, 1, TROUPE_EKILLED, 501));
    ck_assert_str_eq(s_out(c), "stop 0");
}
END_TEST

START_TEST(brutal_shutdown_kills_at_once)
{
    tr_sup_policy pol = s_policy(TR_SUP_ONE_FOR_ONE);
    TR_CK_OK(tr_sup_core_init(&s_c, &pol));
    s_add(&s_c, TR_SUP_PERMANENT, 0, 0);
    s_add(&s_c, TR_SUP_PERMANENT, 0, 0);
    s_boot(&s_c);
    TR_CK_OK(tr_sup_core_shutdown(&s_c, TROUPE_ESHUTDOWN, 10));
    ck_assert_int_eq(tr_sup_core_next_deadline(&s_c), INT64_MAX);
    ck_assert_str_eq(s_run(&s_c, 10), "kill 1, kill 0, exit shutdown");
}
END_TEST

START_TEST(child_with_no_shutdown_limit_is_waited_for_forever)
{
    tr_sup_policy pol = s_policy(TR_SUP_ONE_FOR_ONE);
    TR_CK_OK(tr_sup_core_init(&s_c, &pol));
    s_add(&s_c, TR_SUP_PERMANENT, -1, 0);
    s_boot(&s_c);
    TR_CK_OK(tr_sup_core_shutdown(&s_c, TROUPE_ESHUTDOWN, 10));
    ck_assert_str_eq(s_out(&s_c), "stop 0");
    ck_assert_int_eq(tr_sup_core_next_deadline(&s_c), INT64_MAX);
    TR_CK_OK(tr_sup_core_tick(&s_c, INT64_MAX - 1));
    ck_assert_str_eq(s_out(&s_c), "");
}
END_TEST

START_TEST(child_exiting_on_its_own_during_shutdown_is_just_marked_done)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ONE, 3, TR_SUP_PERMANENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_shutdown(c, TROUPE_ESHUTDOWN, 10));
    ck_assert_str_eq(s_out(c), "stop 2");
    TR_CK_OK(tr_sup_core_exited(c, 0, S_CRASH, 11));
    ck_assert_str_eq(s_out(c), "");
    s_ck_state(c, 0, TR_SUP_CHILD_IDLE);
    TR_CK_OK(tr_sup_core_exited(c, 2, TROUPE_ESHUTDOWN, 12));
    ck_assert_str_eq(s_run(c, 12), "stop 1, exit shutdown");
}
END_TEST

START_TEST(shutdown_forgets_temporary_children)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ONE, 1, TR_SUP_PERMANENT);
    s_add(c, TR_SUP_TEMPORARY, 100, 0);
    s_boot(c);
    TR_CK_OK(tr_sup_core_shutdown(c, TROUPE_ESHUTDOWN, 10));
    ck_assert_str_eq(s_run(c, 10), "stop 1, forget 1, stop 0, exit shutdown");
}
END_TEST

START_TEST(shutdown_stops_a_starting_child_too)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ONE, 2, TR_SUP_PERMANENT);
    TR_CK_OK(tr_sup_core_start(c, 0));
    TR_CK_OK(tr_sup_core_shutdown(c, TROUPE_ESHUTDOWN, 1));
    ck_assert_str_eq(s_out(c), "stop 0");
    TR_CK_OK(tr_sup_core_started(c, 0, 2)); // late: already stopping
    ck_assert_str_eq(s_out(c), "");
    TR_CK_OK(tr_sup_core_exited(c, 0, TROUPE_ESHUTDOWN, 3));
    ck_assert_str_eq(s_out(c), "exit shutdown");
}
END_TEST

START_TEST(shutdown_during_a_group_restart_waits_then_stops_the_rest)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ALL, 3, TR_SUP_PERMANENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_exited(c, 1, S_CRASH, 10));
    ck_assert_str_eq(s_out(c), "stop 2");
    TR_CK_OK(tr_sup_core_shutdown(c, TROUPE_ESHUTDOWN, 11));
    ck_assert_str_eq(s_out(c), "");
    TR_CK_OK(tr_sup_core_exited(c, 2, TROUPE_ESHUTDOWN, 12));
    ck_assert_str_eq(s_run(c, 12), "stop 0, exit shutdown");
}
END_TEST

START_TEST(after_exit_every_event_is_ignored)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ONE, 1, TR_SUP_TEMPORARY);
    s_boot(c);
    TR_CK_OK(tr_sup_core_shutdown(c, TROUPE_ESHUTDOWN, 1));
    ck_assert_str_eq(s_run(c, 1), "stop 0, forget 0, exit shutdown");
    TR_CK_OK(tr_sup_core_exited(c, 0, S_CRASH, 2));
    TR_CK_OK(tr_sup_core_started(c, 0, 2));
    TR_CK_OK(tr_sup_core_start_child(c, 7, 2));
    TR_CK_OK(tr_sup_core_stop_child(c, 0, 1, 2));
    TR_CK_OK(tr_sup_core_tick(c, 2));
    TR_CK_OK(tr_sup_core_shutdown(c, S_CRASH, 2));
    TR_CK_OK(tr_sup_core_start(c, 2));
    ck_assert_uint_eq(c->n_out, 0);
    ck_assert_int_eq(tr_sup_core_next_deadline(c), INT64_MAX);
}
END_TEST

// ---- failures during a group restart ---------------------------------

START_TEST(another_failure_while_siblings_stop_is_folded_into_the_restart)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ALL, 3, TR_SUP_PERMANENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_exited(c, 1, S_CRASH, 10));
    ck_assert_str_eq(s_out(c), "stop 2");
    TR_CK_OK(tr_sup_core_exited(c, 0, S_CRASH, 11));
    ck_assert_str_eq(s_out(c), "");
    ck_assert_uint_eq(c->n_restarts, 2);
    TR_CK_OK(tr_sup_core_exited(c, 2, TROUPE_ESHUTDOWN, 12));
    ck_assert_str_eq(s_run(c, 12), "start 0, start 1, start 2");
}
END_TEST

START_TEST(failure_while_the_group_starts_again_restarts_it_once_more)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ALL, 3, TR_SUP_PERMANENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_exited(c, 1, S_CRASH, 10));
    TR_CK_OK(tr_sup_core_exited(c, 2, TROUPE_ESHUTDOWN, 11));
    TR_CK_OK(tr_sup_core_exited(c, 0, TROUPE_ESHUTDOWN, 12));
    TR_CK_OK(tr_sup_core_started(c, 0, 13));
    ck_assert_str_eq(s_out(c), "start 1");
    TR_CK_OK(tr_sup_core_exited(c, 0, S_CRASH, 14));
    ck_assert_str_eq(s_out(c), "stop 1");
    TR_CK_OK(tr_sup_core_started(c, 1, 15)); // late answer
    ck_assert_str_eq(s_out(c), "");
    TR_CK_OK(tr_sup_core_exited(c, 1, TROUPE_ESHUTDOWN, 16));
    ck_assert_str_eq(s_run(c, 16), "start 0, start 1, start 2");
}
END_TEST

START_TEST(failed_start_during_a_group_restart_restarts_the_group)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ALL, 3, TR_SUP_PERMANENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_exited(c, 2, S_CRASH, 10));
    TR_CK_OK(tr_sup_core_exited(c, 1, TROUPE_ESHUTDOWN, 11));
    TR_CK_OK(tr_sup_core_exited(c, 0, TROUPE_ESHUTDOWN, 12));
    TR_CK_OK(tr_sup_core_started(c, 0, 13));
    TR_CK_OK(tr_sup_core_start_failed(c, 1, S_CRASH, 14));
    ck_assert_str_eq(s_run(c, 14), "stop 0, start 0, start 1, start 2");
}
END_TEST

START_TEST(failure_before_a_rest_for_one_group_widens_it)
{
    tr_sup_core *c = s_core(TR_SUP_REST_FOR_ONE, 3, TR_SUP_PERMANENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_exited(c, 1, S_CRASH, 10));
    ck_assert_str_eq(s_out(c), "stop 2");
    TR_CK_OK(tr_sup_core_exited(c, 0, S_CRASH, 11));
    ck_assert_str_eq(s_out(c), "");
    TR_CK_OK(tr_sup_core_exited(c, 2, TROUPE_ESHUTDOWN, 12));
    ck_assert_str_eq(s_run(c, 12), "start 0, start 1, start 2");
}
END_TEST

START_TEST(failures_folded_into_a_group_restart_count_toward_intensity)
{
    tr_sup_core *c = s_core_intensity(TR_SUP_ONE_FOR_ALL, 3, 1);
    s_boot(c);
    TR_CK_OK(tr_sup_core_exited(c, 1, S_CRASH, 10));
    ck_assert_str_eq(s_out(c), "stop 2");
    TR_CK_OK(tr_sup_core_exited(c, 0, S_CRASH, 11));
    ck_assert_str_eq(s_out(c), "");
    TR_CK_OK(tr_sup_core_exited(c, 2, TROUPE_ESHUTDOWN, 12));
    ck_assert_str_eq(s_out(c), "exit intensity");
}
END_TEST

// ---- restart loop and backoff ---------------------------------------------

// Child i is WAITING: at its deadline it is started and fails again. Returns
// the delay it had waited; *now moves to its deadline.
static int64_t s_retry_fails(tr_sup_core *c, size_t i, int64_t *now)
{
    int64_t delay = c->child[i].deadline - *now;
    *now = c->child[i].deadline;
    TR_CK_OK(tr_sup_core_tick(c, *now));
    ck_assert_uint_eq(c->n_out, 1);
    ck_assert_int_eq(c->out[0].kind, TR_SUP_DO_START);
    TR_CK_OK(tr_sup_core_start_failed(c, i, S_CRASH, *now));
    return delay;
}

// A backoff core with n permanent children, up, then child 0 crashed at 10.
static tr_sup_core *s_crashed(int strategy, uint64_t seed, size_t n)
{
    tr_sup_policy pol = s_backoff_policy(strategy, seed);
    tr_sup_core *c = s_core_pol(&pol, n, TR_SUP_PERMANENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_exited(c, 0, S_CRASH, 10));
    return c;
}

START_TEST(failing_restart_keeps_waiting_and_retrying)
{
    tr_sup_core *c = s_crashed(TR_SUP_ONE_FOR_ONE, 1, 1);
    int64_t now = 10;
    for (int k = 0; k < 8; k++) {
        s_ck_state(c, 0, TR_SUP_CHILD_WAITING);
        ck_assert_int_gt(s_retry_fails(c, 0, &now), 0);
    }
    ck_assert_int_eq(c->state, TR_SUP_RUNNING);
}
END_TEST

START_TEST(shutdown_while_a_restart_waits_exits_at_once)
{
    tr_sup_core *c = s_crashed(TR_SUP_ONE_FOR_ONE, 1, 1);
    int64_t now = 10;
    s_retry_fails(c, 0, &now);
    TR_CK_OK(tr_sup_core_shutdown(c, TROUPE_ESHUTDOWN, now + 1));
    ck_assert_str_eq(s_out(c), "exit shutdown");
    s_ck_state(c, 0, TR_SUP_CHILD_IDLE);
}
END_TEST

START_TEST(shutdown_while_a_restart_is_starting_stops_it)
{
    tr_sup_core *c = s_crashed(TR_SUP_ONE_FOR_ONE, 1, 2);
    int64_t now = 10;
    s_retry_fails(c, 0, &now);
    TR_CK_OK(tr_sup_core_tick(c, c->child[0].deadline));
    TR_CK_OK(tr_sup_core_shutdown(c, TROUPE_ESHUTDOWN, now + 1000));
    ck_assert_str_eq(s_out(c), "stop 1");
    TR_CK_OK(tr_sup_core_exited(c, 1, TROUPE_ESHUTDOWN, now + 1001));
    ck_assert_str_eq(s_out(c), "stop 0");
    TR_CK_OK(tr_sup_core_start_failed(c, 0, S_CRASH, now + 1002));
    ck_assert_str_eq(s_out(c), "exit shutdown");
}
END_TEST

START_TEST(backoff_delays_double_within_half_to_full_and_cap_at_max)
{
    tr_sup_core *c = s_crashed(TR_SUP_ONE_FOR_ONE, 1, 1);
    static const int64_t d[] = {100, 200, 400, 800, 800, 800};
    int64_t now = 10;
    for (size_t k = 0; k < sizeof d / sizeof d[0]; k++) {
        int64_t delay = s_retry_fails(c, 0, &now);
        ck_assert_int_ge(delay, d[k] / 2);
        ck_assert_int_le(delay, d[k]);
    }
}
END_TEST

START_TEST(backoff_delays_spread_over_half_to_full)
{
    tr_sup_policy pol = s_backoff_policy(TR_SUP_ONE_FOR_ONE, 3);
    pol.backoff_max_ms = 100;
    tr_sup_core *c = s_core_pol(&pol, 1, TR_SUP_PERMANENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_exited(c, 0, S_CRASH, 10));
    int64_t now = 10, lo = 100, hi = 0;
    for (int k = 0; k < 200; k++) {
        int64_t delay = s_retry_fails(c, 0, &now);
        lo = delay < lo ? delay : lo;
        hi = delay > hi ? delay : hi;
    }
    ck_assert_int_ge(lo, 50);
    ck_assert_int_lt(lo, 60);
    ck_assert_int_gt(hi, 90);
    ck_assert_int_le(hi, 100);
}
END_TEST

// Child 0 of c is WAITING: start it, run it for run_ms, crash it; returns
// the next delay.
static int64_t s_run_then_crash(tr_sup_core *c, int64_t run_ms)
{
    int64_t t = c->child[0].deadline;
    TR_CK_OK(tr_sup_core_tick(c, t));
    TR_CK_OK(tr_sup_core_started(c, 0, t));
    TR_CK_OK(tr_sup_core_exited(c, 0, S_CRASH, t + run_ms));
    return c->child[0].deadline - (t + run_ms);
}

START_TEST(backoff_goes_back_to_min_after_a_stable_run)
{
    tr_sup_core *c = s_crashed(TR_SUP_ONE_FOR_ONE, 1, 1);
    int64_t now = 10;
    s_retry_fails(c, 0, &now);
    s_retry_fails(c, 0, &now); // d is 400 now
    int64_t delay = s_run_then_crash(c, 1000);
    ck_assert_int_ge(delay, 50);
    ck_assert_int_le(delay, 100);
}
END_TEST

START_TEST(backoff_keeps_growing_after_a_short_run)
{
    tr_sup_core *c = s_crashed(TR_SUP_ONE_FOR_ONE, 1, 1);
    int64_t now = 10;
    s_retry_fails(c, 0, &now);
    s_retry_fails(c, 0, &now);
    int64_t delay = s_run_then_crash(c, 999);
    ck_assert_int_ge(delay, 400);
    ck_assert_int_le(delay, 800);
}
END_TEST

// The first n delays of a failing restart loop with this seed.
static void s_delays(uint64_t seed, int64_t *out, int n)
{
    tr_sup_core *c = s_crashed(TR_SUP_ONE_FOR_ONE, seed, 1);
    int64_t now = 10;
    for (int k = 0; k < n; k++)
        out[k] = s_retry_fails(c, 0, &now);
    tr_sup_core_fini(c);
}

START_TEST(same_seed_gives_the_same_delays)
{
    int64_t a[6], b[6], other[6];
    s_delays(7, a, 6);
    s_delays(7, b, 6);
    s_delays(8, other, 6);
    ck_assert_mem_eq(a, b, sizeof a);
    ck_assert_int_ne(memcmp(a, other, sizeof a), 0);
}
END_TEST

START_TEST(group_restart_starts_after_the_failed_child_backoff)
{
    tr_sup_core *c = s_crashed(TR_SUP_ONE_FOR_ALL, 1, 2);
    ck_assert_str_eq(s_out(c), "stop 1");
    TR_CK_OK(tr_sup_core_exited(c, 1, TROUPE_ESHUTDOWN, 11));
    ck_assert_str_eq(s_out(c), "");
    int64_t t = tr_sup_core_next_deadline(c);
    ck_assert_int_ge(t, 10 + 50);
    ck_assert_int_le(t, 10 + 100);
    TR_CK_OK(tr_sup_core_tick(c, t - 1));
    ck_assert_str_eq(s_out(c), "");
    TR_CK_OK(tr_sup_core_tick(c, t));
    ck_assert_str_eq(s_run(c, t), "start 0, start 1");
}
END_TEST

// ---- dynamic children (simple_one_for_one) ------------------------------

// s_c as a running simple_one_for_one with one dynamic child of type
// restart, added and started with start_child.
static tr_sup_core *s_dynamic(int restart)
{
    tr_sup_core *c = s_core(TR_SUP_SIMPLE_ONE_FOR_ONE, 0, restart);
    s_boot(c);
    size_t i = s_add(c, restart, 100, 0);
    TR_CK_OK(tr_sup_core_start_child(c, i, 1));
    ck_assert_str_eq(s_run(c, 1), "start 0");
    return c;
}

START_TEST(dynamic_child_is_forgotten_when_it_ends_for_good)
{
    tr_sup_core *c = s_dynamic(TR_SUP_TRANSIENT);
    TR_CK_OK(tr_sup_core_exited(c, 0, 0, 10));
    ck_assert_str_eq(s_out(c), "forget 0");
    s_ck_state(c, 0, TR_SUP_CHILD_FREE);
}
END_TEST

START_TEST(forgotten_entry_is_reused_by_the_next_child)
{
    tr_sup_core *c = s_dynamic(TR_SUP_TEMPORARY);
    uint64_t old = c->child[0].seq;
    TR_CK_OK(tr_sup_core_exited(c, 0, S_CRASH, 10));
    ck_assert_uint_eq(s_add(c, TR_SUP_TEMPORARY, 100, 0), 0);
    ck_assert_uint_gt(c->child[0].seq, old);
    s_ck_state(c, 0, TR_SUP_CHILD_IDLE);
}
END_TEST

START_TEST(dynamic_permanent_child_is_restarted_alone)
{
    tr_sup_core *c = s_core(TR_SUP_SIMPLE_ONE_FOR_ONE, 2, TR_SUP_PERMANENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_exited(c, 1, S_CRASH, 10));
    ck_assert_str_eq(s_out(c), "start 1");
}
END_TEST

START_TEST(dynamic_child_failing_its_first_start_is_forgotten)
{
    tr_sup_core *c = s_core(TR_SUP_SIMPLE_ONE_FOR_ONE, 0, TR_SUP_PERMANENT);
    s_boot(c);
    size_t i = s_add(c, TR_SUP_PERMANENT, 100, 0);
    TR_CK_OK(tr_sup_core_start_child(c, i, 1));
    ck_assert_str_eq(s_out(c), "start 0");
    TR_CK_OK(tr_sup_core_start_failed(c, i, S_CRASH, 2));
    ck_assert_str_eq(s_out(c), "forget 0");
    ck_assert_uint_eq(c->n_restarts, 0);
}
END_TEST

START_TEST(shutdown_forgets_dynamic_children)
{
    tr_sup_core *c = s_core(TR_SUP_SIMPLE_ONE_FOR_ONE, 2, TR_SUP_PERMANENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_shutdown(c, TROUPE_ESHUTDOWN, 10));
    ck_assert_str_eq(s_run(c, 10),
                     "stop 1, forget 1, stop 0, forget 0, exit shutdown");
}
END_TEST

// ---- start_child and stop_child ---------------------------------------

START_TEST(stop_child_stops_without_restart_and_leaves_it_idle)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ONE, 2, TR_SUP_PERMANENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_stop_child(c, 1, 0, 10));
    ck_assert_str_eq(s_run(c, 10), "stop 1");
    s_ck_state(c, 1, TR_SUP_CHILD_IDLE);
}
END_TEST

START_TEST(stop_child_with_forget_forgets_it_once_ended)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ONE, 2, TR_SUP_PERMANENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_stop_child(c, 1, 1, 10));
    ck_assert_str_eq(s_run(c, 10), "stop 1, forget 1");
    TR_CK_OK(tr_sup_core_stop_child(c, 0, 0, 11));
    TR_CK_OK(tr_sup_core_exited(c, 0, TROUPE_ESHUTDOWN, 12));
    TR_CK_OK(tr_sup_core_stop_child(c, 0, 1, 13)); // delete an idle child
    ck_assert_str_eq(s_out(c), "forget 0");
}
END_TEST

START_TEST(start_child_starts_an_idle_child_and_nothing_else)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ONE, 1, TR_SUP_PERMANENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_start_child(c, 0, 5)); // running: ignored
    ck_assert_str_eq(s_out(c), "");
    TR_CK_OK(tr_sup_core_stop_child(c, 0, 0, 10));
    s_run(c, 10);
    TR_CK_OK(tr_sup_core_start_child(c, 0, 11));
    ck_assert_str_eq(s_run(c, 11), "start 0");
    s_ck_state(c, 0, TR_SUP_CHILD_RUNNING);
}
END_TEST

START_TEST(failed_start_child_is_not_retried)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ONE, 1, TR_SUP_PERMANENT);
    TR_CK_OK(tr_sup_core_start_child(c, 0, 1));
    TR_CK_OK(tr_sup_core_start_failed(c, 0, S_CRASH, 2));
    ck_assert_str_eq(s_out(c), "");
    s_ck_state(c, 0, TR_SUP_CHILD_IDLE);
}
END_TEST

START_TEST(stop_child_cancels_a_planned_restart)
{
    tr_sup_core *c = s_crashed(TR_SUP_ONE_FOR_ONE, 1, 1);
    TR_CK_OK(tr_sup_core_stop_child(c, 0, 0, 20));
    ck_assert_str_eq(s_out(c), "");
    s_ck_state(c, 0, TR_SUP_CHILD_IDLE);
    ck_assert_int_eq(tr_sup_core_next_deadline(c), INT64_MAX);
}
END_TEST

START_TEST(stop_child_keeps_a_group_member_down_after_its_group_stop)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ALL, 3, TR_SUP_PERMANENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_exited(c, 1, S_CRASH, 10));
    TR_CK_OK(tr_sup_core_stop_child(c, 2, 0, 11));
    ck_assert_str_eq(s_out(c), "stop 0"); // 2 left the group
    TR_CK_OK(tr_sup_core_exited(c, 2, TROUPE_ESHUTDOWN, 12));
    ck_assert_str_eq(s_out(c), "");
    TR_CK_OK(tr_sup_core_exited(c, 0, TROUPE_ESHUTDOWN, 13));
    ck_assert_str_eq(s_run(c, 13), "start 0, start 1");
    s_ck_state(c, 2, TR_SUP_CHILD_IDLE);
}
END_TEST

START_TEST(group_restart_leaves_a_stopped_child_down)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ALL, 3, TR_SUP_PERMANENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_stop_child(c, 2, 0, 10));
    s_run(c, 10);
    TR_CK_OK(tr_sup_core_exited(c, 0, S_CRASH, 11));
    ck_assert_str_eq(s_run(c, 11), "stop 1, start 0, start 1");
    s_ck_state(c, 2, TR_SUP_CHILD_IDLE);
}
END_TEST

// ---- misuse and late events ---------------------------------------------

START_TEST(late_answers_are_ignored)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ONE, 1, TR_SUP_PERMANENT);
    s_boot(c);
    TR_CK_OK(tr_sup_core_started(c, 0, 1));
    TR_CK_OK(tr_sup_core_start_failed(c, 0, S_CRASH, 1));
    ck_assert_str_eq(s_out(c), "");
    TR_CK_OK(tr_sup_core_stop_child(c, 0, 0, 2));
    TR_CK_OK(tr_sup_core_exited(c, 0, TROUPE_ESHUTDOWN, 3));
    TR_CK_OK(tr_sup_core_exited(c, 0, S_CRASH, 4)); // idle
    ck_assert_str_eq(s_out(c), "");
    s_ck_state(c, 0, TR_SUP_CHILD_IDLE);
}
END_TEST

START_TEST(bad_index_is_einval)
{
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ONE, 1, TR_SUP_TEMPORARY);
    s_boot(c);
    TR_CK_ERR(tr_sup_core_exited(c, 1, S_CRASH, 1), TROUPE_EINVAL);
    TR_CK_ERR(tr_sup_core_started(c, SIZE_MAX, 1), TROUPE_EINVAL);
    TR_CK_OK(tr_sup_core_exited(c, 0, S_CRASH, 1)); // forgotten: FREE
    TR_CK_ERR(tr_sup_core_start_child(c, 0, 2), TROUPE_EINVAL);
    TR_CK_ERR(tr_sup_core_stop_child(c, 0, 0, 2), TROUPE_EINVAL);
    TR_CK_ERR(tr_sup_core_start_failed(c, 0, S_CRASH, 2), TROUPE_EINVAL);
    ck_assert_uint_eq(c->n_out, 0);
}
END_TEST

START_TEST(init_and_add_reject_bad_settings)
{
    tr_sup_policy pol = s_policy(4);
    TR_CK_ERR(tr_sup_core_init(&s_c, &pol), TROUPE_EINVAL);
    pol = s_policy(TR_SUP_ONE_FOR_ONE);
    pol.period_ms = 0;
    TR_CK_ERR(tr_sup_core_init(&s_c, &pol), TROUPE_EINVAL);
    pol = s_backoff_policy(TR_SUP_ONE_FOR_ONE, 1);
    pol.backoff_max_ms = 50;
    TR_CK_ERR(tr_sup_core_init(&s_c, &pol), TROUPE_EINVAL);
    pol = s_policy(TR_SUP_ONE_FOR_ONE);
    pol.intensity = TR_SUP_MAX_INTENSITY + 1;
    TR_CK_ERR(tr_sup_core_init(&s_c, &pol), TROUPE_EINVAL);
    tr_sup_core *c = s_core(TR_SUP_ONE_FOR_ONE, 0, TR_SUP_PERMANENT);
    size_t i;
    TR_CK_ERR(tr_sup_core_add(c, 3, 100, 0, &i), TROUPE_EINVAL);
}
END_TEST

START_TEST(one_call_keeps_every_action_of_many_children)
{
    tr_sup_policy pol = s_backoff_policy(TR_SUP_SIMPLE_ONE_FOR_ONE, 1);
    tr_sup_core *c = s_core_pol(&pol, 100, TR_SUP_PERMANENT);
    s_boot(c);
    for (size_t i = 0; i < 100; i++)
        TR_CK_OK(tr_sup_core_exited(c, i, S_CRASH, 10));
    TR_CK_OK(tr_sup_core_shutdown(c, TROUPE_ESHUTDOWN, 11));
    ck_assert_uint_eq(c->n_out, 101); // 100 forget, then exit
    ck_assert_int_eq(c->out[99].kind, TR_SUP_DO_FORGET);
    ck_assert_int_eq(c->out[100].kind, TR_SUP_DO_EXIT);
}
END_TEST

START_TEST(names_read_well)
{
    ck_assert_str_eq(tr_sup_action_name(TR_SUP_DO_KILL), "kill");
    ck_assert_str_eq(tr_sup_action_name(0), "?");
    ck_assert_str_eq(tr_sup_child_state_name(TR_SUP_CHILD_WAITING), "WAITING");
    ck_assert_str_eq(tr_sup_child_state_name(99), "?");
}
END_TEST

static TCase *s_tcase(Suite *s, const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, NULL, s_teardown);
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    suite_add_tcase(s, tc);
    return tc;
}

static Suite *make_suite(void)
{
    Suite *s = suite_create("sup_core");
    TCase *tc = s_tcase(s, "restart_types");
    tcase_add_loop_test(tc, restart_type_and_exit_reason_decide_the_restart, 0,
                        (int)(sizeof s_matrix / sizeof s_matrix[0]));
    tcase_add_test(tc, child_that_is_not_restarted_stays_idle_unless_temporary);
    tc = s_tcase(s, "strategies");
    tcase_add_test(tc, one_for_one_restarts_only_the_failed_child);
    tcase_add_test(tc,
                   one_for_all_stops_the_others_newest_first_then_starts_all);
    tcase_add_test(tc,
                   rest_for_one_restarts_the_failed_child_and_those_after_it);
    tcase_add_test(tc,
                   rest_for_one_failure_of_the_newest_child_restarts_only_it);
    tcase_add_test(tc,
                   group_restart_waits_for_each_answer_before_its_next_step);
    tcase_add_test(tc,
                   temporary_sibling_stopped_in_a_group_restart_is_forgotten);
    tcase_add_test(tc, brutal_sibling_is_killed_at_once_in_a_group_restart);
    tcase_add_test(tc,
                   sibling_ignoring_stop_is_killed_at_its_shutdown_deadline);
    tc = s_tcase(s, "intensity");
    tcase_add_test(tc, restarts_up_to_intensity_within_the_period_are_allowed);
    tcase_add_test(tc, one_restart_too_many_stops_newest_first_then_exits);
    tcase_add_test(tc, failures_spaced_beyond_the_period_never_escalate);
    tcase_add_test(tc, a_restart_exactly_one_period_later_still_counts);
    tcase_add_test(tc, intensity_zero_escalates_on_the_first_restart);
    tcase_add_test(tc, a_group_restart_counts_as_one_restart);
    tc = s_tcase(s, "initial_start");
    tcase_add_test(tc, start_starts_children_one_at_a_time_in_order);
    tcase_add_test(tc, next_child_waits_for_started_whatever_happens_meanwhile);
    tcase_add_test(tc, start_with_no_children_is_running_at_once);
    tcase_add_test(
        tc, start_failure_stops_the_started_ones_then_exits_with_its_reason);
    tcase_add_test(tc, child_crashing_during_the_initial_start_is_restarted);
    tcase_add_test(tc, start_called_again_is_ignored);
    tc = s_tcase(s, "start_timeout");
    tcase_add_test(tc, start_timeout_kills_then_restarts_the_child);
    tcase_add_test(tc,
                   start_timeout_during_the_initial_start_fails_the_supervisor);
    tcase_add_test(tc, start_answer_after_a_timeout_is_ignored);
    tc = s_tcase(s, "shutdown");
    tcase_add_test(tc, shutdown_stops_children_newest_first_one_at_a_time);
    tcase_add_test(tc, child_not_stopping_in_time_is_killed_via_tick);
    tcase_add_test(tc, brutal_shutdown_kills_at_once);
    tcase_add_test(tc, child_with_no_shutdown_limit_is_waited_for_forever);
    tcase_add_test(
        tc, child_exiting_on_its_own_during_shutdown_is_just_marked_done);
    tcase_add_test(tc, shutdown_forgets_temporary_children);
    tcase_add_test(tc, shutdown_stops_a_starting_child_too);
    tcase_add_test(tc,
                   shutdown_during_a_group_restart_waits_then_stops_the_rest);
    tcase_add_test(tc, after_exit_every_event_is_ignored);
    tc = s_tcase(s, "group_restart_failures");
    tcase_add_test(
        tc, another_failure_while_siblings_stop_is_folded_into_the_restart);
    tcase_add_test(tc,
                   failure_while_the_group_starts_again_restarts_it_once_more);
    tcase_add_test(tc, failed_start_during_a_group_restart_restarts_the_group);
    tcase_add_test(tc, failure_before_a_rest_for_one_group_widens_it);
    tcase_add_test(tc,
                   failures_folded_into_a_group_restart_count_toward_intensity);
    tc = s_tcase(s, "backoff");
    tcase_add_test(tc, failing_restart_keeps_waiting_and_retrying);
    tcase_add_test(tc, shutdown_while_a_restart_waits_exits_at_once);
    tcase_add_test(tc, shutdown_while_a_restart_is_starting_stops_it);
    tcase_add_test(tc,
                   backoff_delays_double_within_half_to_full_and_cap_at_max);
    tcase_add_test(tc, backoff_delays_spread_over_half_to_full);
    tcase_add_test(tc, backoff_goes_back_to_min_after_a_stable_run);
    tcase_add_test(tc, backoff_keeps_growing_after_a_short_run);
    tcase_add_test(tc, same_seed_gives_the_same_delays);
    tcase_add_test(tc, group_restart_starts_after_the_failed_child_backoff);
    tc = s_tcase(s, "dynamic");
    tcase_add_test(tc, dynamic_child_is_forgotten_when_it_ends_for_good);
    tcase_add_test(tc, forgotten_entry_is_reused_by_the_next_child);
    tcase_add_test(tc, dynamic_permanent_child_is_restarted_alone);
    tcase_add_test(tc, dynamic_child_failing_its_first_start_is_forgotten);
    tcase_add_test(tc, shutdown_forgets_dynamic_children);
    tc = s_tcase(s, "start_stop_child");
    tcase_add_test(tc, stop_child_stops_without_restart_and_leaves_it_idle);
    tcase_add_test(tc, stop_child_with_forget_forgets_it_once_ended);
    tcase_add_test(tc, start_child_starts_an_idle_child_and_nothing_else);
    tcase_add_test(tc, failed_start_child_is_not_retried);
    tcase_add_test(tc, stop_child_cancels_a_planned_restart);
    tcase_add_test(tc,
                   stop_child_keeps_a_group_member_down_after_its_group_stop);
    tcase_add_test(tc, group_restart_leaves_a_stopped_child_down);
    tc = s_tcase(s, "misuse");
    tcase_add_test(tc, late_answers_are_ignored);
    tcase_add_test(tc, bad_index_is_einval);
    tcase_add_test(tc, init_and_add_reject_bad_settings);
    tcase_add_test(tc, one_call_keeps_every_action_of_many_children);
    tcase_add_test(tc, names_read_well);
    return s;
}

int main(void)
{
    return tr_run_suite(make_suite());
}
