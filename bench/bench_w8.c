// SPDX-License-Identifier: MIT
//
// W8 the seed's service: a service actor on loop 0 answers requests, one in
// ten of them a 50 ms CPU job (pure arithmetic), the rest trivial; a client
// actor on loop 1 sends them through a troupe_limiter that keeps 50 in
// flight. Figures: requests per second, and the p99 of the trivial ones in
// ms. Variants: the job runs in the service's handler (`cpu-on-loop`, the
// mistake, also the baseline), in a pool of isolated worker actors
// (`cpu-isolated`), or in the offload pool (`cpu-offload`); the pool and the
// offload threads both number one per core.
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"

#define S_JOB_MS 50         // one CPU job, in ms of CPU on an idle core
#define S_IN_FLIGHT 50      // the limiter's max_in_flight
#define S_SEED 0x5eedu      // every job mixes this, so its answer is known
#define S_MAX_WORKERS 16    // isolated workers at most
#define S_DEADLINE_MS 60000 // per request: generous, a timeout is a failure

// How the service runs its CPU jobs.
typedef enum w8_mode {
    W8_ON_LOOP,  // in its handler, on its shared loop
    W8_ISOLATED, // forwarded to isolated workers, round robin
    W8_OFFLOAD,  // in the offload pool
} w8_mode;

// Request i is a CPU job if this holds: one in ten.
static int s_heavy(int64_t i)
{
    return i % 10 == 0;
}

// ---- the service ----

// The service's state, owned by the benchmark (spec.state).
typedef struct w8_service {
    w8_mode mode;                       // where the jobs run
    uint64_t iters;                     // rounds of arithmetic per job
    troupe_addr workers[S_MAX_WORKERS]; // W8_ISOLATED: the workers
    unsigned n_workers;                 // how many
    unsigned next;                      // the worker to use next
} w8_service;

// An offloaded job: input, output, and the request to answer.
typedef struct w8_job {
    uint64_t iters;     // input
    uint64_t v;         // output, written by the pool thread
    int64_t i;          // the request's index (the callback's)
    troupe_deferred *d; // the request to answer (the callback's)
} w8_job;

static int s_job_run(void *arg) // on a pool thread: no troupe_ctx here
{
    w8_job *j = arg;
    j->v = bench_cpu_work(j->iters, S_SEED);
    return 0;
}

static int s_job_done(troupe_ctx *cx, void *state, int status,
                      const troupe_msg *reply, void *arg)
{
    (void)state;
    (void)reply;
    w8_job *j = arg; // freed by the pool (free_arg) once both sides are done
    if (status < 0)  // timed out or canceled: the job may still run
        troupe_deferred_error(cx, &j->d, status);
    else
        troupe_deferred_reply(cx, &j->d, "[IU]", j->i, j->v);
    return 0;
}

// A job forwarded to a worker ended: pass its answer on.
static int s_forward_done(troupe_ctx *cx, void *state, int status,
                          const troupe_msg *reply, void *arg)
{
    (void)state;
    troupe_deferred *d = arg;
    if (status < 0) {
        troupe_deferred_error(cx, &d, status);
        return 0;
    }
    const void *body;
    size_t len;
    troupe_msg_body(reply, &body, &len);
    troupe_deferred_reply(cx, &d, "r", body, len);
    return 0;
}

// The job of request i, away from the loop: answered later, from a callback.
static int s_job_elsewhere(troupe_ctx *cx, w8_service *s, const troupe_msg *msg,
                           int64_t i)
{
    troupe_deferred *d;
    int rc = troupe_defer(cx, msg, &d);
    if (rc)
        return troupe_reply_error(cx, msg, rc);
    if (s->mode == W8_ISOLATED) {
        troupe_addr w = s->workers[s->next++ % s->n_workers];
        rc = troupe_request(cx, w, "work", TROUPE_DEADLINE_DEFAULT,
                            s_forward_done, d, NULL, "[IU]", i, s->iters);
    } else {
        w8_job *j = malloc(sizeof *j);
        if (!j)
            return troupe_deferred_error(cx, &d, TROUPE_ENOMEM);
        *j = (w8_job){.iters = s->iters, .i = i, .d = d};
        rc = troupe_offload(cx, s_job_run, j, free, TROUPE_DEADLINE_DEFAULT,
                            s_job_done, j, NULL);
        if (rc)
            free(j); // neither the job nor the callback will run
    }
    if (rc)
        troupe_deferred_error(cx, &d, rc);
    return 0;
}

static int s_service(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    w8_service *s = state;
    int64_t i;
    int rc = troupe_msg_read(msg, "[I]", &i);
    if (rc)
        return troupe_reply_error(cx, msg, rc);
    if (troupe_msg_is(msg, "get"))
        return troupe_reply(cx, msg, "[I]", i);
    if (!troupe_msg_is(msg, "work"))
        return troupe_reply_error(cx, msg, TROUPE_ENOTSUP);
    if (s->mode != W8_ON_LOOP)
        return s_job_elsewhere(cx, s, msg, i);
    // The mistake: 50 ms of arithmetic right here, on the shared loop.
    uint64_t v = bench_cpu_work(s->iters, S_SEED);
    return troupe_reply(cx, msg, "[IU]", i, v);
}

// An isolated worker: its own thread, so its jobs stall nobody else.
static int s_worker(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)state;
    int64_t i;
    uint64_t iters;
    int rc = troupe_msg_read(msg, "[IU]", &i, &iters);
    if (rc)
        return troupe_reply_error(cx, msg, rc);
    return troupe_reply(cx, msg, "[IU]", i, bench_cpu_work(iters, S_SEED));
}

// ---- the client: every request at once, through a limiter ----

// The client's state, owned by the benchmark (spec.state), written only on
// its loop while a "go" request is running, read by main after it.
typedef struct w8_client {
    troupe_addr service; // whom to ask
    int64_t n;           // requests in all
    uint64_t expect;     // the right answer to a CPU job
    troupe_limiter *lim; // S_IN_FLIGHT at once; freed in fini
    int64_t t0, t1;      // first send, last reply, ns
    int64_t *sent_ns;    // n entries: when request i left the limiter
    int64_t ended;       // requests ended so far
    double *light_ms;    // latencies of the trivial requests
    size_t n_light;      // entries of light_ms written
    int failed;          // a wrong outcome was reported
    troupe_deferred *go; // main's "go", answered at the end
} w8_client;

// A wrong outcome: main's "go" gets the code, later replies are ignored.
static int s_client_fail(troupe_ctx *cx, w8_client *c, int code)
{
    if (!c->failed++ && c->go)
        return troupe_deferred_error(cx, &c->go, code);
    return 0;
}

static int s_client_reply(troupe_ctx *cx, void *state, int status,
                          const troupe_msg *reply, void *arg)
{
    int64_t now = bench_now_ns();
    w8_client *c = state;
    int64_t i = (int64_t)(intptr_t)arg;
    if (status == TROUPE_ECANCELED || c->failed)
        return 0;
    // The limiter is FIFO and every request was queued at once, so the
    // k-th request to end lets request S_IN_FLIGHT + k go, now.
    int64_t k = c->ended++;
    if (S_IN_FLIGHT + k < c->n)
        c->sent_ns[S_IN_FLIGHT + k] = now;
    int64_t got = -1;
    uint64_t v = 0;
    if (status == 0)
        status = s_heavy(i) ? troupe_msg_read(reply, "[IU]", &got, &v)
                            : troupe_msg_read(reply, "[I]", &got);
    if (status == 0 && (got != i || (s_heavy(i) && v != c->expect)))
        status = TROUPE_EBADMSG;
    if (status)
        return s_client_fail(cx, c, status);
    if (!s_heavy(i))
        c->light_ms[c->n_light++] = (double)(now - c->sent_ns[i]) / 1e6;
    if (c->ended < c->n)
        return 0;
    c->t1 = now;
    // The limiter is freed from the mailbox, not from its own callback.
    return troupe_tell(cx, troupe_self(cx), "finish", NULL);
}

static int s_client(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    w8_client *c = state;
    if (troupe_msg_is(msg, "go")) {
        int rc = troupe_defer(cx, msg, &c->go);
        if (rc == 0)
            rc = troupe_limiter_new(cx, S_IN_FLIGHT, TROUPE_LIMITER_UNBOUNDED,
                                    &c->lim);
        if (rc)
            return rc;
        c->t0 = bench_now_ns();
        int64_t deadline = troupe_deadline_in(S_DEADLINE_MS);
        for (int64_t i = 0; i < c->n; i++) {
            if (i < S_IN_FLIGHT)
                c->sent_ns[i] = bench_now_ns();
            rc = troupe_limiter_request(
                c->lim, c->service, s_heavy(i) ? "work" : "get", deadline,
                s_client_reply, (void *)(intptr_t)i, NULL, "[I]", i);
            if (rc)
                return s_client_fail(cx, c, rc);
        }
        return 0;
    }
    if (troupe_msg_is(msg, "finish") && c->go) {
        troupe_limiter_stats st;
        int rc = troupe_limiter_stats_get(c->lim, &st);
        if (rc == 0 &&
            (st.sent != (uint64_t)c->n || st.peak_in_flight > S_IN_FLIGHT ||
             st.refused || st.expired || st.canceled))
            rc = TROUPE_EBADMSG; // the limiter did not keep its word
        troupe_limiter_destroy(&c->lim);
        if (rc)
            return s_client_fail(cx, c, rc);
        return troupe_deferred_reply(cx, &c->go, "[I]", c->ended);
    }
    return TROUPE_ENOTSUP;
}

static void s_client_fini(void *state, int reason)
{
    (void)reason;
    w8_client *c = state;
    troupe_limiter_destroy(&c->lim);
}

// ---- one repetition ----

typedef struct w8_variant {
    const char *name; // JSON variant
    w8_mode mode;     // where the jobs run
} w8_variant;

static const w8_variant s_variants[] = {
    {"cpu-on-loop", W8_ON_LOOP},
    {"cpu-isolated", W8_ISOLATED},
    {"cpu-offload", W8_OFFLOAD},
};
#define S_NV (sizeof s_variants / sizeof s_variants[0])

typedef struct w8_figs {
    double rps[16];       // requests per second, per repetition
    double light_p50[16]; // trivial requests' p50 in ms, per repetition
    double light_p99[16]; // and p99
} w8_figs;

static void s_run(const bench_cfg *cfg, const w8_variant *v, w8_client *c,
                  unsigned n_workers, w8_figs *f, int rep)
{
    troupe_node *node = bench_node_new(2);
    w8_service svc = {.mode = v->mode,
                      .iters = bench_cpu_iters(S_JOB_MS),
                      .n_workers = n_workers};
    troupe_actor_spec spec;
    if (v->mode == W8_ISOLATED) {
        for (unsigned w = 0; w < n_workers; w++) {
            spec = troupe_actor_spec_default();
            spec.handler = s_worker;
            spec.placement = TROUPE_ISOLATED;
            bench_ok(troupe_node_spawn(node, &spec, troupe_deadline_in(10000),
                                       &svc.workers[w]),
                     "spawn worker");
        }
    }
    spec = troupe_actor_spec_default();
    spec.handler = s_service;
    spec.state = &svc;
    spec.loop = TROUPE_LOOP(0);
    bench_ok(
        troupe_node_spawn(node, &spec, troupe_deadline_in(10000), &c->service),
        "spawn service");

    c->n = cfg->w8_requests;
    c->ended = 0;
    c->n_light = 0;
    c->failed = 0;
    c->lim = NULL;
    spec = troupe_actor_spec_default();
    spec.handler = s_client;
    spec.fini = s_client_fini;
    spec.state = c;
    spec.loop = TROUPE_LOOP(1);
    troupe_addr client;
    bench_ok(troupe_node_spawn(node, &spec, troupe_deadline_in(10000), &client),
             "spawn client");

    troupe_client *me;
    bench_ok(troupe_client_new(node, &me), "client");
    troupe_msg *reply;
    int rc =
        troupe_call(me, client, "go", troupe_deadline_in(600000), &reply, NULL);
    if (rc)
        bench_fail("W8 %s: %s after %lld of %lld requests (a lost or wrong "
                   "reply, or the limiter let more than %d fly)",
                   v->name, troupe_errname(rc), (long long)c->ended,
                   (long long)c->n, S_IN_FLIGHT);
    int64_t ended = -1;
    bench_ok(troupe_msg_read(reply, "[I]", &ended), "W8 reply");
    troupe_msg_destroy(&reply);
    if (ended != c->n)
        bench_fail("W8 %s: %lld requests ended, want %lld", v->name,
                   (long long)ended, (long long)c->n);
    troupe_client_destroy(&me);
    bench_ok(troupe_node_destroy(&node), "node destroy");

    f->rps[rep] = (double)c->n * 1e9 / (double)(c->t1 - c->t0);
    bench_sort(c->light_ms, c->n_light);
    f->light_p50[rep] = bench_quantile_sorted(c->light_ms, c->n_light, 0.50);
    f->light_p99[rep] = bench_quantile_sorted(c->light_ms, c->n_light, 0.99);
}

void bench_w8(const bench_cfg *cfg)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned n_workers = ncpu < 1               ? 1
                         : ncpu > S_MAX_WORKERS ? S_MAX_WORKERS
                                                : (unsigned)ncpu;
    w8_client c = {
        .expect = bench_cpu_work(bench_cpu_iters(S_JOB_MS), S_SEED),
        .sent_ns = malloc((size_t)cfg->w8_requests * sizeof *c.sent_ns),
        .light_ms = malloc((size_t)cfg->w8_requests * sizeof *c.light_ms)};
    w8_figs *f = calloc(S_NV, sizeof *f);
    if (!c.sent_ns || !c.light_ms || !f)
        bench_fail("out of memory");
    // Repetitions go round every variant in turn, so that a slow spell of
    // the machine hits all of them rather than one.
    for (int r = 0; r < cfg->reps; r++) {
        for (size_t i = 0; i < S_NV; i++) {
            if (!bench_want(cfg, s_variants[i].name))
                continue;
            s_run(cfg, &s_variants[i], &c, n_workers, &f[i], r);
            bench_note("W8 %-12s rep %d: %.0f req/s, trivial p50 %.2f ms, "
                       "p99 %.2f ms",
                       s_variants[i].name, r + 1, f[i].rps[r],
                       f[i].light_p50[r], f[i].light_p99[r]);
        }
    }
    size_t n = (size_t)cfg->reps;
    const w8_variant *base = &s_variants[0];
    int bran = bench_want(cfg, base->name);
    double b_rps = bran ? bench_median(f[0].rps, n) : NAN;
    double b_p99 = bran ? bench_median(f[0].light_p99, n) : NAN;
    for (size_t i = 0; i < S_NV; i++) {
        if (!bench_want(cfg, s_variants[i].name))
            continue;
        bench_add("W8", s_variants[i].name, "req_per_s", "req/s",
                  bench_median(f[i].rps, n), base->name, b_rps);
        bench_add("W8", s_variants[i].name, "light_ms_p99", "ms",
                  bench_median(f[i].light_p99, n), base->name, b_p99);
    }
    bench_add_note("W8: %d repetitions of %ld requests (one in ten a %d ms "
                   "CPU job, %.1fM rounds of arithmetic), %d in flight; "
                   "cpu-isolated uses %u isolated workers, cpu-offload the "
                   "offload pool (one thread per core: %ld).",
                   cfg->reps, cfg->w8_requests, S_JOB_MS,
                   (double)bench_cpu_iters(S_JOB_MS) / 1e6, S_IN_FLIGHT,
                   n_workers, ncpu);
    free(f);
    free(c.light_ms);
    free(c.sent_ns);
}
