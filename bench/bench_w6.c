// SPDX-License-Identifier: MIT
//
// W6 restart: how long a supervised child takes from a crash to the first
// answer of its next incarnation, against a fresh spawn of the same actor
// plus its first answer, measured in the same run. Everything is timed
// inside the node: a driver actor on the supervisor's loop tells the child
// "boom" (it crashes) and at once requests "ping", which waits in the
// child's mailbox and is answered by the next run; the time runs from the
// tell to the reply. The spawn baseline: the driver spawns the actor
// (troupe_spawn on its own loop; for isolated, spawn and then ping) and
// requests "ping". Crash log lines are off (log level ERROR), as a
// production node would not log each of a thousand crashes at WARN.
#include <math.h>
#include <stdlib.h>

#include "bench.h"

// The supervised actor. Its state is fresh for each run (state_size), so
// the answer to the first message of a run is 1: a reply of 1 to a ping
// sent right after "boom" proves that a new incarnation answered.
typedef struct w6_child {
    int64_t handled; // messages handled in this run
    int64_t ready;   // set by init
} w6_child;

static int s_child_init(troupe_ctx *cx, void *state, void *arg)
{
    (void)cx;
    (void)arg;
    ((w6_child *)state)->ready = 1;
    return 0;
}

static int s_child(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    w6_child *c = state;
    c->handled++;
    if (troupe_msg_is(msg, "boom"))
        return TROUPE_EUSER; // a crash: the supervisor restarts it
    if (troupe_msg_is(msg, "ping") && c->ready)
        return troupe_reply(cx, msg, "[I]", c->handled);
    return TROUPE_ENOTSUP;
}

static troupe_actor_spec s_child_spec(troupe_placement where)
{
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = s_child;
    s.init = s_child_init;
    s.state_size = sizeof(w6_child);
    s.placement = where;
    return s;
}

// The driver's state, owned by the benchmark (spec.state), written only on
// the driver's loop while a "go" request is running.
typedef struct w6_driver {
    int spawn;               // 1: the spawn baseline; 0: restart
    troupe_addr target;      // restart: the supervised child
    troupe_actor_spec child; // spawn: what to spawn
    troupe_addr fresh;       // spawn: the actor of the current sample
    long warmup;             // samples not kept
    long total;              // warmup + kept samples
    double *samples;         // total - warmup entries, µs
    long done;               // samples completed in this run
    int64_t t0;              // when the current sample began, ns
    troupe_deferred *go;     // the client's "go", answered at the end
} w6_driver;

static int s_sample(troupe_ctx *cx, w6_driver *d);

static int s_on_pong(troupe_ctx *cx, void *state, int status,
                     const troupe_msg *reply, void *arg)
{
    (void)arg;
    int64_t t1 = bench_now_ns();
    w6_driver *d = state;
    if (status == TROUPE_ECANCELED)
        return 0;
    int64_t n = 0;
    if (status || troupe_msg_read(reply, "[I]", &n) || n != 1)
        return troupe_deferred_error(cx, &d->go,
                                     status ? status : TROUPE_EUSER - 1);
    if (d->done >= d->warmup)
        d->samples[d->done - d->warmup] = (double)(t1 - d->t0) / 1e3;
    if (d->spawn) { // outside the timed part: this sample's actor ends
        int rc = troupe_stop(cx, d->fresh, 0);
        if (rc)
            return troupe_deferred_error(cx, &d->go, rc);
    }
    if (++d->done == d->total)
        return troupe_deferred_reply(cx, &d->go, "[I]", (int64_t)d->done);
    // The next sample starts from the driver's mailbox, so that what the
    // restart left queued (the child's "$started" to its supervisor) is
    // handled first and does not overlap the next crash.
    return troupe_tell(cx, troupe_self(cx), "next", NULL);
}

static int s_sample(troupe_ctx *cx, w6_driver *d)
{
    int rc;
    d->t0 = bench_now_ns();
    if (d->spawn) {
        rc = troupe_spawn(cx, &d->child, &d->fresh);
        if (rc == 0)
            rc = troupe_request(cx, d->fresh, "ping", TROUPE_DEADLINE_DEFAULT,
                                s_on_pong, NULL, NULL, NULL);
    } else {
        rc = troupe_tell(cx, d->target, "boom", NULL);
        if (rc == 0)
            rc = troupe_request(cx, d->target, "ping", TROUPE_DEADLINE_DEFAULT,
                                s_on_pong, NULL, NULL, NULL);
    }
    return rc ? troupe_deferred_error(cx, &d->go, rc) : 0;
}

static int s_driver(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    w6_driver *d = state;
    if (troupe_msg_is(msg, "go")) {
        int rc = troupe_defer(cx, msg, &d->go);
        if (rc)
            return rc;
        d->done = 0;
        return s_sample(cx, d);
    }
    if (troupe_msg_is(msg, "next") && d->go)
        return s_sample(cx, d);
    return TROUPE_ENOTSUP;
}

// A variant: restart or spawn, of a shared or an isolated actor.
typedef struct w6_variant {
    const char *name;       // JSON variant or baseline name
    int spawn;              // baseline: spawn instead of restart
    troupe_placement child; // where the measured actor runs
} w6_variant;

static const w6_variant s_variants[] = {
    {"shared", 0, TROUPE_SHARED},
    {"spawn-shared", 1, TROUPE_SHARED},
    {"isolated", 0, TROUPE_ISOLATED},
    {"spawn-isolated", 1, TROUPE_ISOLATED},
};
#define S_NV (sizeof s_variants / sizeof s_variants[0])

typedef struct w6_figs {
    double p50[16], p99[16]; // per repetition, µs
} w6_figs;

// One repetition of variant v on a fresh node: `total` samples of which
// the first `warmup` are dropped; p50 and p99 into f->p50[rep], f->p99[rep].
static void s_run(const bench_cfg *cfg, const w6_variant *v, double *samples,
                  w6_figs *f, int rep)
{
    troupe_node_opts o;
    troupe_node_opts_init(&o);
    o.loops = 2;
    o.log_level = TROUPE_LOG_ERROR; // no WARN line per crash
    troupe_node *node;
    bench_ok(troupe_node_new(&node, &o), "troupe_node_new");
    w6_driver d = {.spawn = v->spawn,
                   .child = s_child_spec(v->child),
                   .warmup = cfg->w6_warmup,
                   .total = cfg->w6_warmup + cfg->w6_restarts,
                   .samples = samples};
    d.child.loop = TROUPE_LOOP(0);
    troupe_addr sup = TROUPE_ADDR_NONE;
    if (!v->spawn) {
        // The supervisor on loop 0, its shared child beside it; intensity
        // at its largest, so that every crash of the run is restarted.
        troupe_child_spec c;
        troupe_child_spec_init(&c);
        c.id = "child";
        c.actor = d.child;
        troupe_sup_spec s;
        troupe_sup_spec_init(&s);
        s.children = &c;
        s.n_children = 1;
        s.intensity = 10000;
        s.period_ms = 60000;
        s.loop = TROUPE_LOOP(0);
        if (d.total > (long)s.intensity)
            bench_fail("W6: %ld restarts exceed the intensity", d.total);
        bench_ok(
            troupe_node_sup_start(node, &s, troupe_deadline_in(10000), &sup),
            "W6 supervisor start");
        bench_ok(troupe_sup_which_child(node, sup, "child",
                                        troupe_deadline_in(10000), &d.target),
                 "W6 which child");
    }
    troupe_actor_spec spec = troupe_actor_spec_default();
    spec.handler = s_driver;
    spec.state = &d;
    spec.loop = TROUPE_LOOP(0);
    troupe_addr driver;
    bench_ok(troupe_node_spawn(node, &spec, troupe_deadline_in(10000), &driver),
             "spawn driver");
    troupe_client *c;
    bench_ok(troupe_client_new(node, &c), "client");
    troupe_msg *reply;
    int rc =
        troupe_call(c, driver, "go", troupe_deadline_in(600000), &reply, NULL);
    if (rc)
        bench_fail("W6 %s: %s after %ld samples (a reply that was not the "
                   "first of a new incarnation, or a failed send)",
                   v->name, troupe_errname(rc), d.done);
    int64_t done = -1;
    bench_ok(troupe_msg_read(reply, "[I]", &done), "W6 reply");
    troupe_msg_destroy(&reply);
    if (done != d.total)
        bench_fail("W6 %s: %lld samples, want %ld", v->name, (long long)done,
                   d.total);
    if (!v->spawn) {
        troupe_sup_stats st;
        bench_ok(
            troupe_sup_stats_get(node, sup, troupe_deadline_in(10000), &st),
            "W6 supervisor stats");
        if (st.restarts != (uint64_t)d.total || st.running != 1)
            bench_fail("W6 %s: %llu restarts and %u running, want %ld and 1",
                       v->name, (unsigned long long)st.restarts, st.running,
                       d.total);
    }
    troupe_client_destroy(&c);
    bench_ok(troupe_node_destroy(&node), "node destroy");
    bench_sort(samples, (size_t)cfg->w6_restarts);
    f->p50[rep] =
        bench_quantile_sorted(samples, (size_t)cfg->w6_restarts, 0.50);
    f->p99[rep] =
        bench_quantile_sorted(samples, (size_t)cfg->w6_restarts, 0.99);
}

void bench_w6(const bench_cfg *cfg)
{
    double *samples = malloc((size_t)cfg->w6_restarts * sizeof *samples);
    w6_figs *f = calloc(S_NV, sizeof *f);
    if (!samples || !f)
        bench_fail("out of memory");
    // Repetitions go round every variant and baseline in turn, so that a
    // slow spell of the machine hits all of them rather than one.
    for (int r = 0; r < cfg->reps; r++) {
        for (size_t i = 0; i < S_NV; i++) {
            if (!bench_want(cfg, s_variants[i].name))
                continue;
            s_run(cfg, &s_variants[i], samples, &f[i], r);
            bench_note("W6 %-14s rep %d: p50 %.2f us, p99 %.2f us",
                       s_variants[i].name, r + 1, f[i].p50[r], f[i].p99[r]);
        }
    }
    size_t n = (size_t)cfg->reps;
    // Rows: each restart variant against the spawn of the same placement.
    for (size_t i = 0; i < S_NV; i += 2) {
        const w6_variant *v = &s_variants[i], *b = &s_variants[i + 1];
        int ran = bench_want(cfg, v->name), bran = bench_want(cfg, b->name);
        if (!ran && !bran)
            continue;
        double v50 = ran ? bench_median(f[i].p50, n) : NAN;
        double v99 = ran ? bench_median(f[i].p99, n) : NAN;
        double b50 = bran ? bench_median(f[i + 1].p50, n) : NAN;
        double b99 = bran ? bench_median(f[i + 1].p99, n) : NAN;
        bench_add("W6", v->name, "restart_us_p50", "us", v50, b->name, b50);
        bench_add("W6", v->name, "restart_us_p99", "us", v99, b->name, b99);
    }
    // Process children are not in troupe yet: the rows are kept, null.
    if (bench_want(cfg, "process")) {
        bench_add("W6", "process", "restart_us_p50", "us", NAN, "spawn-process",
                  NAN);
        bench_add("W6", "process", "restart_us_p99", "us", NAN, "spawn-process",
                  NAN);
    }
    free(f);
    free(samples);
}
