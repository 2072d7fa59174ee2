// SPDX-License-Identifier: MIT
//
// Mistake 2: independent calls awaited one after another. Three
// dependencies answer after 80, 120 and 60 ms (on timers: nothing sleeps).
// A front actor asks all three, first one after another (each request sent
// from the previous one's callback, as `await a; await b; await c` does),
// then with one gather (all three in flight at once, one continuation).
// Figures: 260 ms against the slowest one, 120 ms.
#include <stdio.h>
#include <string.h>

#include "mistakes.h"

#define M2_DEPS 3
#define M2_QUEUE 16 // requests a dependency holds at once

static const int64_t m2_delay_ms[M2_DEPS] = {80, 120, 60};

// ---- a dependency: answers each "get" after its delay, on a timer ----

typedef struct m2_dep {
    int64_t delay_ms;
    troupe_deferred *q[M2_QUEUE]; // requests waiting for their timer, FIFO
    unsigned head, len;
} m2_dep;

static int s_dep_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    m2_dep *d = state;
    if (troupe_msg_kind_of(msg) == TROUPE_MSG_TIMER) {
        // Same delay for every request: timers fire in the order they began.
        if (d->len == 0)
            return 0;
        troupe_deferred *r = d->q[d->head];
        d->head = (d->head + 1) % M2_QUEUE;
        d->len--;
        troupe_deferred_reply(cx, &r, "{s:I}", "ms", d->delay_ms);
        return 0;
    }
    if (d->len == M2_QUEUE)
        return troupe_reply_error(cx, msg, TROUPE_EFULL);
    troupe_deferred *r = NULL;
    int rc = troupe_defer(cx, msg, &r);
    if (rc == 0)
        rc = troupe_timer_start(cx, d->delay_ms, 0, "due", NULL);
    if (rc < 0)
        return r ? troupe_deferred_error(cx, &r, rc)
                 : troupe_reply_error(cx, msg, rc);
    d->q[(d->head + d->len++) % M2_QUEUE] = r;
    return 0;
}

// ---- the front: asks the three, one after another or gathered ----

typedef struct m2_front {
    troupe_addr dep[M2_DEPS];
    // the sequential chain in progress
    troupe_deferred *d; // main's request
    int step;           // the dependency being asked
    int64_t sum;        // of the answers so far
} m2_front;

static int s_seq_next(troupe_ctx *cx, m2_front *f);

static int s_seq_reply(troupe_ctx *cx, void *state, int status,
                       const troupe_msg *reply, void *arg)
{
    (void)arg;
    m2_front *f = state;
    int64_t ms = 0;
    if (status == 0)
        status = troupe_msg_read(reply, "{s:I}", "ms", &ms);
    if (status < 0) {
        troupe_deferred_error(cx, &f->d, status);
        return 0;
    }
    f->sum += ms;
    f->step++;
    return s_seq_next(cx, f);
}

// `await dep[step]`: the next request leaves only when the previous ended.
static int s_seq_next(troupe_ctx *cx, m2_front *f)
{
    if (f->step == M2_DEPS)
        return troupe_deferred_reply(cx, &f->d, "{s:I s:i}", "sum", f->sum,
                                     "ok", M2_DEPS);
    int rc =
        troupe_request(cx, f->dep[f->step], "get", troupe_deadline_in(2000),
                       s_seq_reply, NULL, NULL, NULL);
    if (rc < 0)
        troupe_deferred_error(cx, &f->d, rc);
    return 0;
}

// The gather's continuation: every item is in, each with its own outcome.
static int s_gathered(troupe_ctx *cx, void *state, troupe_gather *g, void *arg)
{
    (void)state;
    troupe_deferred *d = arg;
    int64_t sum = 0;
    for (size_t i = 0; i < troupe_gather_size(g); i++) {
        int64_t ms = 0;
        const troupe_msg *r = troupe_gather_reply(g, i); // NULL if it failed
        if (r && troupe_msg_read(r, "{s:I}", "ms", &ms) == 0)
            sum += ms;
    }
    return troupe_deferred_reply(cx, &d, "{s:I s:i}", "sum", sum, "ok",
                                 (int)troupe_gather_count(g, 0));
}

static int s_front_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    m2_front *f = state;
    troupe_deferred *d;
    int rc = troupe_defer(cx, msg, &d);
    if (rc < 0)
        return troupe_reply_error(cx, msg, rc);
    if (troupe_msg_is(msg, "sequential")) {
        f->d = d;
        f->step = 0;
        f->sum = 0;
        return s_seq_next(cx, f);
    }
    // "gathered": all three in flight at once, under the caller's deadline
    // (TROUPE_DEADLINE_DEFAULT inherits it: deadlines travel).
    troupe_gather *g;
    rc = troupe_gather_new(cx, TROUPE_GATHER_ALL, 0, TROUPE_DEADLINE_DEFAULT,
                           s_gathered, d, &g);
    if (rc < 0)
        return troupe_deferred_error(cx, &d, rc);
    for (int i = 0; i < M2_DEPS; i++)
        troupe_gather_request(g, f->dep[i], "get", NULL);
    rc = troupe_gather_start(g); // s_gathered answers d
    if (rc < 0) {
        troupe_gather_destroy(&g);
        return troupe_deferred_error(cx, &d, rc);
    }
    return 0;
}

// Ask the front once: the call's time in ms, or -1 (reported) on failure.
static double s_ask(am_node *n, troupe_addr front, const char *how)
{
    troupe_msg *r = NULL;
    int64_t t0 = am_now_us();
    int rc = troupe_call(n->me, front, how, troupe_deadline_in(2000), &r, NULL);
    double ms = (double)(am_now_us() - t0) / 1000.0;
    int64_t sum = 0;
    int ok = 0;
    if (rc == 0)
        rc = troupe_msg_read(r, "{s:I s:i}", "sum", &sum, "ok", &ok);
    troupe_msg_destroy(&r);
    if (rc != 0 || sum != 260 || ok != M2_DEPS) {
        am_fact(false,
                "%s: three answers adding up to 260 (got %s, %d ok, "
                "sum %lld)",
                how, troupe_errname(rc), ok, (long long)sum);
        return -1;
    }
    return ms;
}

void mistake2_sequential(am_row *row)
{
    int reps = am_opt.quick ? 1 : 5;
    printf("\n[2] Independent calls awaited one after another\n");
    am_info("three dependencies answer after 80, 120 and 60 ms (timers); a "
            "front actor asks all three, %d time%s each way",
            reps, reps == 1 ? "" : "s");
    am_node n;
    if (!am_node_start(&n, 2, NULL))
        return;
    static m2_dep deps[M2_DEPS];
    static m2_front front;
    memset(deps, 0, sizeof deps);
    memset(&front, 0, sizeof front);
    troupe_addr fa;
    bool up = true;
    for (int i = 0; i < M2_DEPS && up; i++) {
        deps[i].delay_ms = m2_delay_ms[i];
        up = am_spawn(&n, s_dep_handle, &deps[i], NULL, TROUPE_LOOP(i % 2),
                      &front.dep[i]);
    }
    up = up &&
         am_spawn(&n, s_front_handle, &front, "front", TROUPE_LOOP(0), &fa);
    double seq[5], gat[5];
    int good = 0;
    for (int k = 0; k < reps && up; k++) {
        seq[k] = s_ask(&n, fa, "sequential");
        gat[k] = s_ask(&n, fa, "gathered");
        good += seq[k] >= 0 && gat[k] >= 0;
    }
    if (up && good == reps) {
        double s = am_median(seq, (size_t)reps);
        double g = am_median(gat, (size_t)reps);
        am_fact(true, "both ways: every call got all three answers "
                      "(80 + 120 + 60 = 260)");
        am_info("one after another (await, await, await): %7.1f ms  "
                "(median of %d)",
                s, reps);
        am_info("gathered (troupe_gather, mode all):      %7.1f ms  "
                "(overhead over the slowest: %.2f ms)",
                g, g - 120.0);
        am_info("gathered is %.1fx faster", s / g);
        snprintf(row->wrong, sizeof row->wrong, "%.1f ms sequential", s);
        snprintf(row->right, sizeof row->right, "%.1f ms gathered", g);
        snprintf(row->ratio, sizeof row->ratio, "%.2fx", s / g);
    }
    am_node_finish(&n);
}
