// SPDX-License-Identifier: MIT
//
// Mistake 4: one failure sinks a whole batch. 1,000 requests go to four
// supervised workers; 100 of them fail: 60 are refused with an application
// error, 30 crash their worker (restarted in place by its supervisor), 10
// are never answered. All-or-nothing (asyncio.gather without
// return_exceptions, Promise.all) fails the batch at the first failure and
// the caller gets no result at all. troupe_gather keeps every item's own
// outcome: 900 replies and 100 typed failures, nothing lost, at the
// deadline. The gather goes through a troupe_limiter, so at most 100
// requests are in flight at once.
#include <stdio.h>
#include <string.h>

#include "mistakes.h"

#define M4_N 1000
#define M4_WORKERS 4
#define M4_INFLIGHT 100                // the limiter's bound
#define M4_DEADLINE_MS 500             // of the whole batch
#define M4_EREFUSED (TROUPE_EUSER - 1) // the workers' own error: bad input
#define M4_ECRASH (TROUPE_EUSER - 2)   // a worker's crash reason (a bug)

typedef enum m4_fate {
    M4_OK,      // answered {i, sq: i*i}
    M4_REFUSED, // answered with M4_EREFUSED
    M4_CRASH,   // the worker crashes on it: its requester gets TROUPE_EDEAD
    M4_HANG,    // never answered: TROUPE_ETIMEDOUT at the deadline
} m4_fate;

// What happens to item i: one in ten fails (i % 10 == 7), and which way is
// decided by its tens digit. Item i goes to worker i % 4, which puts every
// crashing input on worker 3 and every hanging one on worker 1. That
// matters: a crash ends its worker's run, and the runtime then answers the
// requests that run had deferred with TROUPE_EDEAD; a hang held by a
// worker that crashes ends at the crash, not at the deadline.
static m4_fate s_fate(int i)
{
    if (i % 10 != 7)
        return M4_OK; // 900
    int k = (i / 10) % 10;
    if (k == 0 || k == 4 || k == 8)
        return M4_CRASH; // 30, all on worker 3
    if (k == 9)
        return M4_HANG; // 10, all on worker 1
    return M4_REFUSED;  // 60
}

// The outcome troupe must report for each fate.
static int s_expected(m4_fate f)
{
    static const int code[] = {0, M4_EREFUSED, TROUPE_EDEAD, TROUPE_ETIMEDOUT};
    return code[f];
}

static const char *s_code_name(int rc)
{
    if (rc == M4_EREFUSED)
        return "EREFUSED (app)";
    return troupe_errname(rc);
}

// ---- a worker (supervised, shared) ----

static int s_worker_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)state;
    int64_t i;
    int rc = troupe_msg_read(msg, "{s:I}", "i", &i);
    if (rc < 0)
        return troupe_reply_error(cx, msg, rc);
    switch (s_fate((int)i)) {
    case M4_OK:
        return troupe_reply(cx, msg, "{s:I s:I}", "i", i, "sq", i * i);
    case M4_REFUSED:
        return troupe_reply_error(cx, msg, M4_EREFUSED);
    case M4_CRASH:
        return M4_ECRASH; // the worker crashes; its supervisor restarts it
    case M4_HANG: {
        troupe_deferred *d; // taken and never given: the request hangs
        return troupe_defer(cx, msg, &d);
    }
    }
    return TROUPE_EINVAL;
}

// ---- the wrong way: all or nothing ----

typedef struct m4_all_or_nothing {
    troupe_addr worker[M4_WORKERS];
    troupe_deferred *d;     // main's "batch": failed at the first failure
    troupe_deferred *count; // main's "count": answered when all ended
    int ended;
    int ok;       // good answers received, all lost with the batch
    int ok_after; // of which after the batch had already failed
    int64_t t0_us;
    double failed_after_ms;
} m4_all_or_nothing;

static int s_aon_reply(troupe_ctx *cx, void *state, int status,
                       const troupe_msg *reply, void *arg)
{
    (void)reply;
    (void)arg;
    m4_all_or_nothing *a = state;
    a->ended++;
    if (status == 0) {
        a->ok++;
        a->ok_after += !a->d; // the batch already failed: nobody wants it
    } else if (a->d) { // the first failure: the whole batch fails with it
        a->failed_after_ms = (double)(am_now_us() - a->t0_us) / 1000.0;
        troupe_deferred_error(cx, &a->d, status);
    }
    if (a->d && a->ended == M4_N) // (never: 100 fail)
        troupe_deferred_reply(cx, &a->d, "{s:i}", "results", a->ok);
    if (a->count && a->ended == M4_N)
        troupe_deferred_reply(cx, &a->count, "{s:i s:i}", "ok", a->ok, "after",
                              a->ok_after);
    return 0;
}

static int s_aon_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    m4_all_or_nothing *a = state;
    if (troupe_msg_is(msg, "count")) { // once every request has ended
        if (a->ended == M4_N)
            return troupe_reply(cx, msg, "{s:i s:i}", "ok", a->ok, "after",
                                a->ok_after);
        return troupe_defer(cx, msg, &a->count);
    }
    int rc = troupe_defer(cx, msg, &a->d);
    if (rc < 0)
        return troupe_reply_error(cx, msg, rc);
    a->t0_us = am_now_us();
    int64_t deadline = troupe_deadline_in(M4_DEADLINE_MS);
    for (int64_t i = 0; i < M4_N; i++) {
        rc = troupe_request(cx, a->worker[i % M4_WORKERS], "item", deadline,
                            s_aon_reply, NULL, NULL, "{s:I}", "i", i);
        if (rc < 0)
            s_aon_reply(cx, a, rc, NULL, NULL);
    }
    return 0;
}

// ---- the troupe way: a gather, one outcome per item ----

typedef struct m4_gatherer {
    troupe_addr worker[M4_WORKERS];
    troupe_limiter *lim;
    int64_t t0_us;
    // what the continuation saw
    double settled_ms;
    size_t size, n_ok, n_refused, n_dead, n_timeout;
    int result;     // troupe_gather_result
    int as_planned; // items whose outcome is the one planned for them
    troupe_limiter_stats lim_st;
} m4_gatherer;

static int s_gathered(troupe_ctx *cx, void *state, troupe_gather *g, void *arg)
{
    m4_gatherer *G = state;
    troupe_deferred *d = arg;
    G->settled_ms = (double)(am_now_us() - G->t0_us) / 1000.0;
    G->size = troupe_gather_size(g);
    G->n_ok = troupe_gather_count(g, 0);
    G->n_refused = troupe_gather_count(g, M4_EREFUSED);
    G->n_dead = troupe_gather_count(g, TROUPE_EDEAD);
    G->n_timeout = troupe_gather_count(g, TROUPE_ETIMEDOUT);
    G->result = troupe_gather_result(g);
    for (size_t i = 0; i < G->size; i++) {
        int st = troupe_gather_status(g, i);
        const troupe_msg *r = troupe_gather_reply(g, i);
        int64_t ri = -1, sq = -1;
        if (r)
            troupe_msg_read(r, "{s:I s:I}", "i", &ri, "sq", &sq);
        bool right = st == s_expected(s_fate((int)i)) &&
                     (st != 0 || (ri == (int64_t)i && sq == ri * ri));
        G->as_planned += right;
    }
    troupe_limiter_stats_get(G->lim, &G->lim_st);
    troupe_limiter_destroy(&G->lim);
    return troupe_deferred_reply(cx, &d, NULL);
}

static int s_gatherer_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    m4_gatherer *G = state;
    troupe_deferred *d;
    int rc = troupe_defer(cx, msg, &d);
    if (rc < 0)
        return troupe_reply_error(cx, msg, rc);
    G->t0_us = am_now_us();
    troupe_gather *g = NULL;
    rc = troupe_limiter_new(cx, M4_INFLIGHT, TROUPE_LIMITER_UNBOUNDED, &G->lim);
    if (rc == 0)
        rc = troupe_gather_new(cx, TROUPE_GATHER_ALL, 0,
                               troupe_deadline_in(M4_DEADLINE_MS), s_gathered,
                               d, &g);
    if (rc == 0)
        rc = troupe_gather_set_limiter(g, G->lim);
    for (int64_t i = 0; i < M4_N && rc == 0; i++) {
        int k = troupe_gather_request(g, G->worker[i % M4_WORKERS], "item",
                                      "{s:I}", "i", i);
        rc = k < 0 ? k : 0;
    }
    if (rc == 0)
        rc = troupe_gather_start(g); // s_gathered answers d
    if (rc < 0) {
        troupe_gather_destroy(&g);
        troupe_limiter_destroy(&G->lim);
        troupe_deferred_error(cx, &d, rc);
    }
    return 0;
}

// ---- running both ----

void mistake4_batch(am_row *row)
{
    printf("\n[4] One failure sinks a whole batch\n");
    am_info("%d requests to %d supervised workers; 100 fail: 60 refused (an "
            "app error),",
            M4_N, M4_WORKERS);
    am_info("30 crash their worker (restarted in place), 10 are never "
            "answered; batch deadline %d ms",
            M4_DEADLINE_MS);
    am_node n;
    if (!am_node_start(&n, 2, NULL))
        return;

    troupe_child_spec kids[M4_WORKERS];
    char ids[M4_WORKERS][8];
    for (int w = 0; w < M4_WORKERS; w++) {
        troupe_child_spec_init(&kids[w]);
        snprintf(ids[w], sizeof ids[w], "w%d", w);
        kids[w].id = ids[w];
        kids[w].actor.handler = s_worker_handle; // on the supervisor's loop
    }
    troupe_sup_spec sup;
    troupe_sup_spec_init(&sup);
    sup.children = kids;
    sup.n_children = M4_WORKERS;
    sup.intensity = 200; // 30 crashes a run, two runs: well within
    sup.period_ms = 10000;
    sup.loop = TROUPE_LOOP(0);
    troupe_addr sa;
    static m4_all_or_nothing aon;
    static m4_gatherer G;
    memset(&aon, 0, sizeof aon);
    memset(&G, 0, sizeof G);
    bool up = am_ok(
        troupe_node_sup_start(n.node, &sup, troupe_deadline_in(5000), &sa),
        "start the workers' supervisor");
    for (int w = 0; w < M4_WORKERS && up; w++) {
        up = am_ok(troupe_sup_which_child(n.node, sa, ids[w],
                                          troupe_deadline_in(5000),
                                          &aon.worker[w]),
                   "find a worker");
        G.worker[w] = aon.worker[w]; // restarts keep the address
    }
    troupe_addr aa, ga;
    up = up && am_spawn(&n, s_aon_handle, &aon, "all-or-nothing",
                        TROUPE_LOOP(1), &aa);
    up = up &&
         am_spawn(&n, s_gatherer_handle, &G, "gatherer", TROUPE_LOOP(1), &ga);
    if (!up) {
        am_node_finish(&n);
        return;
    }

    // The wrong way.
    troupe_msg *r = NULL;
    int rc = troupe_call(n.me, aa, "batch", troupe_deadline_in(5000), &r, NULL);
    int results = 0;
    if (rc == 0)
        troupe_msg_read(r, "{s:i}", "results", &results);
    troupe_msg_destroy(&r);
    am_info("all or nothing (asyncio.gather, Promise.all):");
    am_fact(rc == M4_EREFUSED || rc == TROUPE_EDEAD,
            "  the batch failed with the first failure to come back (%s, "
            "after %.1f ms): 0 of %d results reached the caller",
            s_code_name(rc), aon.failed_after_ms, M4_N);

    // The troupe way.
    rc = troupe_call(n.me, ga, "gather", troupe_deadline_in(5000), &r, NULL);
    troupe_msg_destroy(&r);
    am_info("troupe_gather, mode all, through a limiter of %d in flight:",
            M4_INFLIGHT);
    if (am_ok(rc, "the gather")) {
        am_fact(G.size == M4_N && G.n_ok == 900 && G.n_refused == 60 &&
                    G.n_dead == 30 && G.n_timeout == 10,
                "  settled after %.1f ms: %zu ok + %zu EREFUSED (app) + %zu "
                "TROUPE_EDEAD + %zu TROUPE_ETIMEDOUT = %zu of %d",
                G.settled_ms, G.n_ok, G.n_refused, G.n_dead, G.n_timeout,
                G.n_ok + G.n_refused + G.n_dead + G.n_timeout, M4_N);
        am_fact(G.as_planned == M4_N,
                "  every item has the outcome planned for it (%d of %d), "
                "every reply its own i*i",
                G.as_planned, M4_N);
        am_fact(G.result == s_expected(s_fate(7)),
                "  the gather's result is the first failed item's (item 7: "
                "%s)",
                s_code_name(G.result));
        am_fact(G.lim_st.peak_in_flight <= M4_INFLIGHT && G.lim_st.sent == M4_N,
                "  the limiter sent all %llu, at most %zu in flight at once",
                (unsigned long long)G.lim_st.sent, G.lim_st.peak_in_flight);
    }
    // The good answers the wrong way threw away (asked once all its
    // requests ended: the hung ones at its deadline).
    int ok = -1, after = -1;
    rc = troupe_call(n.me, aa, "count", troupe_deadline_in(5000), &r, NULL);
    if (rc == 0)
        troupe_msg_read(r, "{s:i s:i}", "ok", &ok, "after", &after);
    troupe_msg_destroy(&r);
    am_fact(ok == 900,
            "all or nothing had %d good answers and threw every one away (%d "
            "came after the failure)",
            ok, after);
    troupe_sup_stats ss = {0};
    rc = troupe_sup_stats_get(n.node, sa, troupe_deadline_in(5000), &ss);
    am_fact(rc == 0 && ss.restarts == 60 && ss.running == M4_WORKERS,
            "the supervisor restarted the crashing worker %llu times (30 a "
            "run), all %u running",
            (unsigned long long)ss.restarts, ss.running);
    am_node_finish(&n);

    snprintf(row->wrong, sizeof row->wrong, "0 of %d results", M4_N);
    snprintf(row->right, sizeof row->right, "%zu ok + %zu typed failures",
             G.n_ok, G.n_refused + G.n_dead + G.n_timeout);
    snprintf(row->ratio, sizeof row->ratio, "%zu vs 0 results", G.n_ok);
}
