// SPDX-License-Identifier: MIT
//
// Mistake 5: calls without timeouts hang forever. A dependency never
// answers half of its requests (it takes them and forgets them). A caller
// that sends without a deadline (TROUPE_FOREVER) is still waiting for those
// after a bounded demo time; with a deadline, each one ends at it with
// TROUPE_ETIMEDOUT. Then a handler that truly hangs: an isolated, supervised
// driver with a budget blocks in its handler; the caller's deadline ends
// its call, the watchdog reports the handler past its budget, and the
// supervisor abandons the hung instance and starts a fresh one.
#include <stdio.h>
#include <string.h>

#include "mistakes.h"

#define M5_N 10 // requests per caller; the odd ones are never answered
#define M5_DEADLINE_MS 250 // the troupe way's deadline
#define M5_BUDGET_MS 100   // the driver's handler budget
#define M5_CALL_MS 300     // main's deadline for a call to the driver

// ---- the flaky dependency ----

static int s_flaky_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)state;
    int64_t i;
    int rc = troupe_msg_read(msg, "{s:I}", "i", &i);
    if (rc < 0)
        return troupe_reply_error(cx, msg, rc);
    if (i % 2 == 0)
        return troupe_reply(cx, msg, "{s:I}", "i", i);
    troupe_deferred *d; // taken, never given: this request never ends here
    return troupe_defer(cx, msg, &d);
}

// ---- a caller: n requests, then a report when all ended or at the bound

typedef struct m5_caller {
    troupe_addr flaky;
    int64_t deadline_ms; // 0: TROUPE_FOREVER, the mistake
    troupe_deferred *d;  // main's "run"
    uint64_t bound;      // the demo's timer
    int64_t t0_us;
    int ended, answered, timed_out, other;
    double first_timeout_ms, last_timeout_ms;
} m5_caller;

static int s_report(troupe_ctx *cx, m5_caller *c)
{
    return troupe_deferred_reply(cx, &c->d, "{s:i s:i s:i s:i}", "answered",
                                 c->answered, "timed_out", c->timed_out,
                                 "other", c->other, "waiting", M5_N - c->ended);
}

static int s_caller_reply(troupe_ctx *cx, void *state, int status,
                          const troupe_msg *reply, void *arg)
{
    (void)reply;
    (void)arg;
    m5_caller *c = state;
    if (status == TROUPE_ECANCELED) // the node is stopping with it pending
        return 0;
    double ms = (double)(am_now_us() - c->t0_us) / 1000.0;
    c->ended++;
    if (status == 0) {
        c->answered++;
    } else if (status == TROUPE_ETIMEDOUT) {
        if (!c->timed_out++)
            c->first_timeout_ms = ms;
        c->last_timeout_ms = ms;
    } else {
        c->other++;
    }
    if (c->d && c->ended == M5_N) {
        troupe_timer_cancel(cx, c->bound);
        return s_report(cx, c);
    }
    return 0;
}

static int s_caller_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    m5_caller *c = state;
    if (troupe_msg_kind_of(msg) == TROUPE_MSG_TIMER) // the demo's bound
        return c->d ? s_report(cx, c) : 0;
    int64_t bound_ms;
    int rc = troupe_msg_read(msg, "{s:I}", "bound_ms", &bound_ms);
    if (rc == 0)
        rc = troupe_defer(cx, msg, &c->d);
    if (rc < 0)
        return troupe_reply_error(cx, msg, rc);
    c->t0_us = am_now_us();
    int64_t deadline = c->deadline_ms ? troupe_deadline_in(c->deadline_ms)
                                      : TROUPE_FOREVER; // the mistake
    for (int64_t i = 0; i < M5_N; i++) {
        rc = troupe_request(cx, c->flaky, "get", deadline, s_caller_reply, NULL,
                            NULL, "{s:I}", "i", i);
        if (rc < 0)
            s_caller_reply(cx, c, rc, NULL, NULL);
    }
    if (c->d)
        return troupe_timer_start(cx, bound_ms, 0, "bound", &c->bound);
    return 0;
}

// ---- the driver that hangs (isolated, supervised, with a budget) ----

static am_gate m5_release; // opened by main once the driver was replaced

static int s_driver_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)state;
    bool hang = false;
    troupe_msg_read(msg, "{s?b}", "hang", &hang);
    if (hang) // a driver call that does not come back
        am_gate_wait(&m5_release);
    return troupe_reply(cx, msg, NULL);
}

// ---- running it ----

static bool s_run_caller(am_node *n, troupe_addr caller, int64_t bound_ms,
                         int *answered, int *timed_out, int *waiting,
                         double *took_ms)
{
    troupe_msg *r = NULL;
    int other = 0;
    int64_t t0 = am_now_us();
    int rc = troupe_call(n->me, caller, "run", troupe_deadline_in(10000), &r,
                         "{s:I}", "bound_ms", bound_ms);
    *took_ms = (double)(am_now_us() - t0) / 1000.0;
    if (rc == 0)
        rc = troupe_msg_read(r, "{s:i s:i s:i s:i}", "answered", answered,
                             "timed_out", timed_out, "other", &other, "waiting",
                             waiting);
    troupe_msg_destroy(&r);
    if (rc == 0 && other != 0)
        rc = TROUPE_EBADMSG;
    return am_ok(rc, "the caller's run");
}

static void s_hung_driver(am_node *n)
{
    am_info("an isolated driver (supervised, budget %d ms) hangs in its "
            "handler; main calls it with a %d ms deadline",
            M5_BUDGET_MS, M5_CALL_MS);
    troupe_child_spec kid;
    troupe_child_spec_init(&kid);
    kid.id = "driver";
    kid.actor.handler = s_driver_handle;
    kid.actor.placement = TROUPE_ISOLATED; // a hang stalls only this thread
    kid.actor.budget_ms = M5_BUDGET_MS;    // past it: reported and replaced
    troupe_sup_spec sup;
    troupe_sup_spec_init(&sup);
    sup.children = &kid;
    sup.n_children = 1;
    sup.intensity = 3;
    troupe_addr sa, old, now = TROUPE_ADDR_NONE;
    if (!am_ok(
            troupe_node_sup_start(n->node, &sup, troupe_deadline_in(5000), &sa),
            "start the driver's supervisor") ||
        !am_ok(troupe_sup_which_child(n->node, sa, "driver",
                                      troupe_deadline_in(5000), &old),
               "find the driver"))
        return;
    troupe_msg *r = NULL;
    int64_t t0 = am_now_us();
    int rc = troupe_call(n->me, old, "query", troupe_deadline_in(M5_CALL_MS),
                         &r, "{s:b}", "hang", true);
    double ms = (double)(am_now_us() - t0) / 1000.0;
    troupe_msg_destroy(&r);
    am_fact(rc == TROUPE_ETIMEDOUT,
            "the call ended at its deadline: %s after %.1f ms",
            troupe_errname(rc), ms);
    // The supervisor replaces the hung instance at a new address; wait for
    // it (bounded), then ask the new one.
    int64_t until = troupe_deadline_in(5000);
    do {
        rc = troupe_sup_which_child(n->node, sa, "driver",
                                    troupe_deadline_in(1000), &now);
    } while ((rc != 0 || troupe_addr_eq(now, old)) && troupe_now() < until);
    char who[32], line[320];
    am_addr_label(old, who, sizeof who);
    bool named = am_log_find(n, line, sizeof line, who, "\"query\"", NULL);
    am_fact(named, "the watchdog reported the hung handler (%s):", who);
    if (named)
        am_info("  \"%s\"", line);
    if (am_log_find(n, line, sizeof line, "abandoned", NULL, NULL))
        am_info("  \"%s\"", line);
    rc = troupe_call(n->me, now, "query", troupe_deadline_in(M5_CALL_MS), &r,
                     NULL);
    troupe_msg_destroy(&r);
    troupe_sup_stats ss = {0};
    troupe_sup_stats_get(n->node, sa, troupe_deadline_in(1000), &ss);
    am_fact(!troupe_addr_eq(now, old) && rc == 0 && ss.restarts == 1,
            "its supervisor replaced it (%u.%u -> %u.%u, %llu restart) and "
            "the new driver answers: %s",
            (unsigned)old.slot, (unsigned)old.incarnation, (unsigned)now.slot,
            (unsigned)now.incarnation, (unsigned long long)ss.restarts,
            troupe_errname(rc));
}

void mistake5_timeout(am_row *row)
{
    int64_t bound_ms = am_opt.quick ? 500 : 1000;
    printf("\n[5] Calls without timeouts hang forever\n");
    am_info("a dependency never answers half of its requests; a caller sends "
            "it %d, then reports at %lld ms",
            M5_N, (long long)bound_ms);
    am_node n;
    if (!am_node_start(&n, 2, NULL))
        return;
    am_gate_init(&m5_release);
    static m5_caller forever, bounded;
    memset(&forever, 0, sizeof forever);
    memset(&bounded, 0, sizeof bounded);
    bounded.deadline_ms = M5_DEADLINE_MS;
    troupe_addr flaky, fa, ba;
    bool up =
        am_spawn(&n, s_flaky_handle, NULL, "flaky", TROUPE_LOOP(0), &flaky);
    forever.flaky = bounded.flaky = flaky;
    up = up && am_spawn(&n, s_caller_handle, &forever, "no-deadline",
                        TROUPE_LOOP(1), &fa);
    up = up && am_spawn(&n, s_caller_handle, &bounded, "deadline",
                        TROUPE_LOOP(1), &ba);
    int ans = 0, tmo = 0, wait = 0, ans2 = 0, tmo2 = 0, wait2 = 0;
    double took = 0, took2 = 0;
    bool ran = false;
    if (up && s_run_caller(&n, fa, bound_ms, &ans, &tmo, &wait, &took)) {
        am_info("without a deadline (TROUPE_FOREVER):");
        am_fact(ans == M5_N / 2 && wait == M5_N / 2,
                "  %d answered, %d still waiting after %.0f ms, and they "
                "would wait forever",
                ans, wait, took);
        ran = true;
    }
    if (up && s_run_caller(&n, ba, bound_ms, &ans2, &tmo2, &wait2, &took2)) {
        am_info("with a %d ms deadline:", M5_DEADLINE_MS);
        am_fact(ans2 == M5_N / 2 && tmo2 == M5_N / 2 && wait2 == 0,
                "  %d answered, %d ended TROUPE_ETIMEDOUT (at %.1f to %.1f "
                "ms), 0 waiting: done in %.0f ms",
                ans2, tmo2, bounded.first_timeout_ms, bounded.last_timeout_ms,
                took2);
    } else {
        ran = false;
    }
    if (up)
        s_hung_driver(&n);
    am_gate_open(&m5_release); // the abandoned thread returns and ends
    am_node_finish(&n);
    am_gate_fini(&m5_release);
    if (!ran)
        return;
    snprintf(row->wrong, sizeof row->wrong,
             "%d of %d calls still waiting at %.0f ms", wait, M5_N, took);
    snprintf(row->right, sizeof row->right,
             "%d ok + %d TROUPE_ETIMEDOUT at %.0f ms", ans2, tmo2,
             bounded.last_timeout_ms);
    snprintf(row->ratio, sizeof row->ratio, "never vs %.0f ms", took2);
}
