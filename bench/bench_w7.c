// SPDX-License-Identifier: MIT
//
// W7 CPU isolation: a heavy actor runs 200 ms CPU jobs (pure arithmetic,
// no yield) back to back while a driver pings a light actor every 1 ms; the
// figure is the light ping's round trip, p50 and p99, in µs. The light
// actor is on loop 0 and the driver on loop 1 (its 1 ms pacing timer must
// not wait behind the heavy jobs, or it would send fewer pings exactly when
// they would be slow). Variants: the heavy actor on loop 0 beside the light
// one (the mistake: the node's blocking detector must name it), isolated
// (a thread of its own), or a shared heavy actor on loop 0 whose jobs run in
// the offload pool. Baseline: the same pings with no heavy actor.
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define S_JOB_MS 200 // one heavy job, in ms of CPU on an idle core

// How the heavy work runs.
typedef enum w7_heavy {
    W7_NONE,     // no heavy actor: the baseline
    W7_ON_LOOP,  // a shared actor on the light actor's loop
    W7_ISOLATED, // a TROUPE_ISOLATED actor
    W7_OFFLOAD,  // a shared actor on that loop, jobs in the offload pool
} w7_heavy;

// ---- the node's log: the blocking detector's lines are kept ----

#define S_LOG_KEEP 8 // warn lines kept

// What the log hook kept. The hook runs on any node thread, hence the lock.
typedef struct w7_log {
    pthread_mutex_t mu;         // guards what follows
    unsigned lines;             // warn lines seen
    char line[S_LOG_KEEP][320]; // the first S_LOG_KEEP of them
} w7_log;

static void s_log(void *arg, troupe_log_level level, const char *line)
{
    w7_log *l = arg;
    if (level > TROUPE_LOG_WARN)
        return;
    pthread_mutex_lock(&l->mu);
    if (l->lines < S_LOG_KEEP)
        snprintf(l->line[l->lines], sizeof l->line[0], "%s", line);
    l->lines++;
    pthread_mutex_unlock(&l->mu);
}

// The first kept line that contains both a and b, or NULL. Call once the
// node is destroyed (no hook runs any more).
static const char *s_log_find(const w7_log *l, const char *a, const char *b)
{
    for (unsigned i = 0; i < l->lines && i < S_LOG_KEEP; i++)
        if (strstr(l->line[i], a) && strstr(l->line[i], b))
            return l->line[i];
    return NULL;
}

// ---- the light actor: echoes each ping to its sender ----

static int s_light(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)state;
    int64_t seq, t0;
    int rc = troupe_msg_read(msg, "[II]", &seq, &t0);
    if (rc)
        return rc;
    return troupe_tell(cx, troupe_msg_sender(msg), "pong", "[II]", seq, t0);
}

// ---- the heavy actor ----

// The heavy actor's state, owned by the benchmark (spec.state). Its jobs
// run one at a time, so one argument for the offloaded job is enough.
typedef struct w7_heavy_state {
    w7_heavy how;     // on the loop, isolated, or offloaded
    uint64_t iters;   // rounds of arithmetic per job
    troupe_addr boss; // the driver, told "heavy-done" at the end
    int64_t end_ns;   // no job starts after this
    int64_t jobs;     // jobs run so far
    uint64_t result;  // the last job's output (offload: written by the job)
    uint64_t seed;    // the offloaded job's input
} w7_heavy_state;

static int s_job_run(void *arg) // on a pool thread: no troupe_ctx here
{
    w7_heavy_state *h = arg;
    h->result = bench_cpu_work(h->iters, h->seed);
    return 0;
}

static int s_heavy_next(troupe_ctx *cx, w7_heavy_state *h);

static int s_job_done(troupe_ctx *cx, void *state, int status,
                      const troupe_msg *reply, void *arg)
{
    (void)reply;
    (void)arg;
    if (status == TROUPE_ECANCELED)
        return 0;
    if (status)
        return status; // a crash: the driver sees no "heavy-done"
    w7_heavy_state *h = state;
    h->jobs++;
    return s_heavy_next(cx, h);
}

// Start the next job, or report the end.
static int s_heavy_next(troupe_ctx *cx, w7_heavy_state *h)
{
    if (bench_now_ns() >= h->end_ns)
        return troupe_tell(cx, h->boss, "heavy-done", "[I]", h->jobs);
    if (h->how == W7_OFFLOAD) {
        h->seed = (uint64_t)h->jobs;
        return troupe_offload(cx, s_job_run, h, NULL, TROUPE_FOREVER,
                              s_job_done, NULL, NULL);
    }
    // The next job goes through the mailbox, so that a shared loop can run
    // others between two jobs. (It runs those whose messages are on the
    // loop already; the driver's pings come from another loop and wait in
    // its inbox, which a loop with work of its own reads only every 256
    // messages: see bench/README.md, W7.)
    return troupe_tell(cx, troupe_self(cx), "job", NULL);
}

static int s_heavy(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    w7_heavy_state *h = state;
    if (troupe_msg_is(msg, "start")) { // from the driver: [end_ns]
        int rc = troupe_msg_read(msg, "[I]", &h->end_ns);
        if (rc)
            return rc;
        h->boss = troupe_msg_sender(msg);
        h->jobs = 0;
        return s_heavy_next(cx, h);
    }
    if (!troupe_msg_is(msg, "job"))
        return TROUPE_ENOTSUP;
    // On the loop or isolated: 200 ms of arithmetic, right here.
    h->result = bench_cpu_work(h->iters, (uint64_t)h->jobs);
    h->jobs++;
    return s_heavy_next(cx, h);
}

// ---- the driver: a ping every 1 ms ----

// The driver's state, owned by the benchmark (spec.state), written only on
// its loop while a "go" request is running.
typedef struct w7_driver {
    troupe_addr light;   // whom to ping
    troupe_addr heavy;   // the heavy actor, or TROUPE_ADDR_NONE
    int64_t window_ns;   // how long the heavy jobs (and the pings) last
    int64_t end_ns;      // the window's end
    double *samples;     // µs per ping, indexed by its sequence number
    int64_t cap;         // entries of samples
    int64_t sent;        // pings sent
    int64_t received;    // pongs received
    int64_t heavy_jobs;  // jobs the heavy actor ran (-1: not over yet)
    int pinging;         // the tick timer runs
    uint64_t timer;      // its id
    troupe_deferred *go; // the client's "go", answered at the end
} w7_driver;

// Answer "go" once the pinging is over, every pong is back and the heavy
// actor (if any) has ended its last job.
static int s_driver_maybe_end(troupe_ctx *cx, w7_driver *d)
{
    if (d->pinging || d->received < d->sent || d->heavy_jobs < 0 || !d->go)
        return 0;
    return troupe_deferred_reply(cx, &d->go, "[III]", d->sent, d->received,
                                 d->heavy_jobs);
}

static int s_driver_stop_pinging(troupe_ctx *cx, w7_driver *d)
{
    if (d->pinging) {
        d->pinging = 0;
        troupe_timer_cancel(cx, d->timer);
    }
    return s_driver_maybe_end(cx, d);
}

static int s_driver(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    w7_driver *d = state;
    int rc;
    if (troupe_msg_kind_of(msg) == TROUPE_MSG_TIMER) {
        if (!d->pinging)
            return 0;
        int64_t now = bench_now_ns();
        // With no heavy actor the window ends by the clock; otherwise when
        // the heavy actor says its last job is done.
        if ((!troupe_addr_valid(d->heavy) && now >= d->end_ns) ||
            d->sent == d->cap)
            return s_driver_stop_pinging(cx, d);
        rc = troupe_tell(cx, d->light, "ping", "[II]", d->sent, now);
        if (rc == 0)
            d->sent++;
        return rc;
    }
    if (troupe_msg_is(msg, "pong")) {
        int64_t seq, t0;
        rc = troupe_msg_read(msg, "[II]", &seq, &t0);
        if (rc)
            return rc;
        if (seq < 0 || seq >= d->sent || d->samples[seq] >= 0)
            return TROUPE_EBADMSG; // unknown or repeated: a wrong outcome
        d->samples[seq] = (double)(bench_now_ns() - t0) / 1e3;
        d->received++;
        return s_driver_maybe_end(cx, d);
    }
    if (troupe_msg_is(msg, "heavy-done")) {
        rc = troupe_msg_read(msg, "[I]", &d->heavy_jobs);
        return rc ? rc : s_driver_stop_pinging(cx, d);
    }
    if (troupe_msg_is(msg, "go")) {
        rc = troupe_defer(cx, msg, &d->go);
        if (rc)
            return rc;
        for (int64_t i = 0; i < d->cap; i++)
            d->samples[i] = -1;
        d->sent = d->received = 0;
        d->heavy_jobs = troupe_addr_valid(d->heavy) ? -1 : 0;
        d->end_ns = bench_now_ns() + d->window_ns;
        rc = troupe_timer_start(cx, 1, 1, "tick", &d->timer);
        if (rc)
            return rc;
        d->pinging = 1;
        if (troupe_addr_valid(d->heavy))
            rc = troupe_tell(cx, d->heavy, "start", "[I]", d->end_ns);
        return rc;
    }
    return TROUPE_ENOTSUP;
}

// ---- one repetition ----

typedef struct w7_variant {
    const char *name; // JSON variant or baseline
    w7_heavy how;     // where the heavy jobs run
} w7_variant;

static const w7_variant s_variants[] = {
    {"no-heavy", W7_NONE},
    {"heavy-on-loop", W7_ON_LOOP},
    {"heavy-isolated", W7_ISOLATED},
    {"heavy-offload", W7_OFFLOAD},
};
#define S_NV (sizeof s_variants / sizeof s_variants[0])

typedef struct w7_figs {
    double p50[16], p99[16]; // per repetition, µs
    int64_t pings, jobs;     // in all repetitions
    uint64_t overruns;       // the node's budget_overruns, all repetitions
    char named[320];         // heavy-on-loop: the detector's first line
} w7_figs;

static void s_run(const bench_cfg *cfg, const w7_variant *v, double *samples,
                  int64_t cap, w7_figs *f, int rep)
{
    w7_log log = {.lines = 0};
    pthread_mutex_init(&log.mu, NULL);
    troupe_node_opts o;
    troupe_node_opts_init(&o);
    o.loops = 2;
    o.log = s_log; // the blocking detector's lines are kept, not printed
    o.log_arg = &log;
    troupe_node *node;
    bench_ok(troupe_node_new(&node, &o), "troupe_node_new");

    troupe_actor_spec spec = troupe_actor_spec_default();
    spec.handler = s_light;
    spec.loop = TROUPE_LOOP(0);
    troupe_addr light;
    bench_ok(troupe_node_spawn(node, &spec, troupe_deadline_in(10000), &light),
             "spawn light");

    w7_heavy_state heavy = {.how = v->how, .iters = bench_cpu_iters(S_JOB_MS)};
    troupe_addr heavy_addr = TROUPE_ADDR_NONE;
    if (v->how != W7_NONE) {
        spec = troupe_actor_spec_default();
        spec.handler = s_heavy;
        spec.state = &heavy;
        spec.loop = TROUPE_LOOP(0);
        spec.placement =
            v->how == W7_ISOLATED ? TROUPE_ISOLATED : TROUPE_SHARED;
        bench_ok(troupe_node_spawn(node, &spec, troupe_deadline_in(10000),
                                   &heavy_addr),
                 "spawn heavy");
    }

    w7_driver d = {.light = light,
                   .heavy = heavy_addr,
                   .window_ns = (int64_t)cfg->w7_ms * 1000000,
                   .samples = samples,
                   .cap = cap};
    spec = troupe_actor_spec_default();
    spec.handler = s_driver;
    spec.state = &d;
    spec.loop = TROUPE_LOOP(1);
    troupe_addr driver;
    bench_ok(troupe_node_spawn(node, &spec, troupe_deadline_in(10000), &driver),
             "spawn driver");

    troupe_client *c;
    bench_ok(troupe_client_new(node, &c), "client");
    troupe_msg *reply;
    int rc =
        troupe_call(c, driver, "go", troupe_deadline_in(600000), &reply, NULL);
    if (rc)
        bench_fail("W7 %s: %s (a lost pong, or the heavy actor failed)",
                   v->name, troupe_errname(rc));
    int64_t sent = -1, received = -2, jobs = -1;
    bench_ok(troupe_msg_read(reply, "[III]", &sent, &received, &jobs),
             "W7 reply");
    troupe_msg_destroy(&reply);
    if (sent < 1 || received != sent)
        bench_fail("W7 %s: %lld pings sent, %lld pongs back", v->name,
                   (long long)sent, (long long)received);
    if (v->how != W7_NONE && jobs < 1)
        bench_fail("W7 %s: the heavy actor ran no job", v->name);
    troupe_node_stats st;
    bench_ok(troupe_node_stats_get(node, &st), "W7 stats");
    troupe_client_destroy(&c);
    bench_ok(troupe_node_destroy(&node), "node destroy");

    f->pings += sent;
    f->jobs += jobs;
    f->overruns += st.budget_overruns;
    if (v->how == W7_ON_LOOP) {
        // The detector must have named the heavy actor and its tag.
        char who[48];
        snprintf(who, sizeof who, "actor %u.%u:", heavy_addr.slot,
                 heavy_addr.incarnation);
        const char *line = s_log_find(&log, who, "\"job\"");
        if (st.budget_overruns == 0 || !line)
            bench_fail("W7 %s: the blocking detector did not name the heavy "
                       "actor (%llu budget overruns, %u warn lines)",
                       v->name, (unsigned long long)st.budget_overruns,
                       log.lines);
        if (!f->named[0])
            snprintf(f->named, sizeof f->named, "%s", line);
    }
    pthread_mutex_destroy(&log.mu);

    bench_sort(samples, (size_t)sent);
    f->p50[rep] = bench_quantile_sorted(samples, (size_t)sent, 0.50);
    f->p99[rep] = bench_quantile_sorted(samples, (size_t)sent, 0.99);
}

void bench_w7(const bench_cfg *cfg)
{
    // A ping per ms for the window, plus the last job's overrun past it
    // and slack for a timer that fires twice in a ms.
    int64_t cap = 2 * (cfg->w7_ms + S_JOB_MS) + 1000;
    double *samples = malloc((size_t)cap * sizeof *samples);
    w7_figs *f = calloc(S_NV, sizeof *f);
    if (!samples || !f)
        bench_fail("out of memory");
    bench_cpu_iters(S_JOB_MS); // calibrate before any node runs
    // Repetitions go round every variant in turn, so that a slow spell of
    // the machine hits all of them rather than one.
    for (int r = 0; r < cfg->w7_reps; r++) {
        for (size_t i = 0; i < S_NV; i++) {
            if (!bench_want(cfg, s_variants[i].name))
                continue;
            s_run(cfg, &s_variants[i], samples, cap, &f[i], r);
            bench_note("W7 %-14s rep %d: p50 %.1f us, p99 %.1f us",
                       s_variants[i].name, r + 1, f[i].p50[r], f[i].p99[r]);
        }
    }
    size_t n = (size_t)cfg->w7_reps;
    const w7_variant *base = &s_variants[0];
    int bran = bench_want(cfg, base->name);
    double b50 = bran ? bench_median(f[0].p50, n) : NAN;
    double b99 = bran ? bench_median(f[0].p99, n) : NAN;
    for (size_t i = 1; i < S_NV; i++) {
        if (!bench_want(cfg, s_variants[i].name))
            continue;
        bench_add("W7", s_variants[i].name, "light_us_p50", "us",
                  bench_median(f[i].p50, n), base->name, b50);
        bench_add("W7", s_variants[i].name, "light_us_p99", "us",
                  bench_median(f[i].p99, n), base->name, b99);
    }
    char counts[256];
    int len = 0;
    for (size_t i = 0; i < S_NV; i++)
        if (bench_want(cfg, s_variants[i].name))
            len += snprintf(counts + len, sizeof counts - (size_t)len,
                            "%s%s %lld pings, %lld jobs, %llu overruns",
                            len ? "; " : "", s_variants[i].name,
                            (long long)f[i].pings, (long long)f[i].jobs,
                            (unsigned long long)f[i].overruns);
    bench_add_note("W7: %d run(s) of %ld ms of %d ms jobs (%.1fM rounds of "
                   "arithmetic each), a ping every 1 ms; in all: %s.",
                   cfg->w7_reps, cfg->w7_ms, S_JOB_MS,
                   (double)bench_cpu_iters(S_JOB_MS) / 1e6, counts);
    if (f[1].named[0])
        bench_add_note("W7 heavy-on-loop, the blocking detector: %s",
                       f[1].named);
    free(f);
    free(samples);
}
