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
//
// Process children (placement TROUPE_PROCESS, kind BENCH_KIND_W6: this
// program as the child) differ in one way: the proxy forwards "ping" to
// the dying child at once instead of keeping it until the next run, so it
// may come back TROUPE_EDEAD (or TROUPE_EFULL); the driver then pings again
// at once, until the new incarnation answers. Their spawn baseline also
// measures death detection: once the fresh child answered, the driver
// kills its process (SIGKILL) and times how long the DOWN of its monitor
// takes to arrive. The child's first answer carries when its main() began
// and when its init ran, so that a process start splits into stages.
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

// The supervised actor. Its state is fresh for each run (state_size), so
// the answer to the first message of a run is 1: a reply of 1 to a ping
// sent right after "boom" proves that a new incarnation answered.
typedef struct w6_child {
    int64_t handled; // messages handled in this run
    int64_t ready;   // set by init
    int64_t init_ns; // process kind: when init ran
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

// The process kind: the same, and its first answer also says when this
// process's main() began and when init ran (CLOCK_MONOTONIC is one clock
// for every process), so that a process start splits into its stages.
static int s_pchild_init(troupe_ctx *cx, void *state, void *arg)
{
    ((w6_child *)state)->init_ns = bench_now_ns();
    return s_child_init(cx, state, arg);
}

static int s_pchild(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    w6_child *c = state;
    if (troupe_msg_is(msg, "ping") && c->ready)
        return troupe_reply(cx, msg, "[III]", ++c->handled, bench_main_ns,
                            c->init_ns);
    return s_child(cx, state, msg);
}

static troupe_actor_spec s_child_spec(troupe_placement where)
{
    troupe_actor_spec s = troupe_actor_spec_default();
    s.placement = where;
    if (where == TROUPE_PROCESS)
        return s; // the handler is the child's; the caller sets `process`
    s.handler = s_child;
    s.init = s_child_init;
    s.state_size = sizeof(w6_child);
    return s;
}

// What a process actor of kind BENCH_KIND_W6 runs in its child process.
troupe_actor_spec bench_w6_proc_actor(void)
{
    troupe_actor_spec s = s_child_spec(TROUPE_SHARED);
    s.handler = s_pchild;
    s.init = s_pchild_init;
    return s;
}

// The driver's state, owned by the benchmark (spec.state), written only on
// the driver's loop while a "go" request is running.
typedef struct w6_driver {
    int spawn;               // 1: the spawn baseline; 0: restart
    int process;             // the child is a process actor
    troupe_addr target;      // restart: the supervised child
    troupe_actor_spec child; // spawn: what to spawn
    troupe_proc_spec ps;     // process: what child.process points to
    troupe_addr fresh;       // spawn: the actor of the current sample
    uint64_t mon;            // spawn-process: monitor of fresh
    long warmup;             // samples not kept
    long total;              // warmup + kept samples
    double *samples;         // total - warmup entries, µs
    double *detect;          // spawn-process: kill to DOWN, µs, likewise
    long done;               // samples completed in this run
    long retries;            // process restart: pings answered EDEAD/EFULL
    int64_t t0;              // when the current sample began, ns
    int64_t t_kill;          // spawn-process: when the child was killed
    double *kernel;          // spawn-process: kill to a readable pidfd, µs
    double *stage[3];        // process: start to main(), main() to init,
                             // init to the answer, µs
    pthread_t watcher;       // spawn-process: waits on its own pidfd
    int pidfd;               // ...for the child of this sample
    _Atomic int64_t t_pidfd; // ...and says when it became readable
    troupe_deferred *go;     // the client's "go", answered at the end
} w6_driver;

static int s_sample(troupe_ctx *cx, w6_driver *d);
static int s_on_pong(troupe_ctx *cx, void *state, int status,
                     const troupe_msg *reply, void *arg);

// spawn-process: a thread outside the node that waits on a pidfd of its
// own for the killed child and notes when it became readable, so that
// detection splits into the kernel's part (kill to a readable pidfd: the
// process must die first) and troupe's (pidfd to DOWN).
static void *s_watch_main(void *arg)
{
    w6_driver *d = arg;
    struct pollfd pfd = {.fd = d->pidfd, .events = POLLIN};
    while (poll(&pfd, 1, 60000) < 0 && errno == EINTR)
        ;
    atomic_store(&d->t_pidfd, bench_now_ns());
    return NULL;
}

static int s_ping(troupe_ctx *cx, troupe_addr to)
{
    return troupe_request(cx, to, "ping", TROUPE_DEADLINE_DEFAULT, s_on_pong,
                          NULL, NULL, NULL);
}

// The sample is complete: the next one, or the answer to "go".
static int s_sample_done(troupe_ctx *cx, w6_driver *d)
{
    if (++d->done == d->total)
        return troupe_deferred_reply(cx, &d->go, "[I]", (int64_t)d->done);
    // The next sample starts from the driver's mailbox, so that what the
    // restart left queued (the child's "$started" to its supervisor) is
    // handled first and does not overlap the next crash.
    return troupe_tell(cx, troupe_self(cx), "next", NULL);
}

static int s_on_pong(troupe_ctx *cx, void *state, int status,
                     const troupe_msg *reply, void *arg)
{
    (void)arg;
    int64_t t1 = bench_now_ns();
    w6_driver *d = state;
    if (status == TROUPE_ECANCELED)
        return 0;
    if ((status == TROUPE_EDEAD || status == TROUPE_EFULL) && d->process &&
        !d->spawn) {
        // The proxy handed this ping to the dying child (TROUPE_EDEAD), or
        // could not (TROUPE_EFULL: zmq refuses a frame for a DEALER whose
        // peer has disconnected, before the pidfd says the process is
        // gone): ping again. A restart keeps the address, so a ping that
        // finds the proxy restarting waits in its mailbox for the new one.
        if (++d->retries > 1000000)
            return troupe_deferred_error(cx, &d->go, TROUPE_ETIMEDOUT);
        int rc = s_ping(cx, d->target);
        return rc ? troupe_deferred_error(cx, &d->go, rc) : 0;
    }
    int64_t n = 0, main_ns = 0, init_ns = 0;
    if (status ||
        (d->process ? troupe_msg_read(reply, "[III]", &n, &main_ns, &init_ns)
                    : troupe_msg_read(reply, "[I]", &n)) ||
        n != 1)
        return troupe_deferred_error(cx, &d->go,
                                     status ? status : TROUPE_EUSER - 1);
    if (d->done >= d->warmup) {
        long k = d->done - d->warmup;
        d->samples[k] = (double)(t1 - d->t0) / 1e3;
        if (d->process) {
            d->stage[0][k] = (double)(main_ns - d->t0) / 1e3;
            d->stage[1][k] = (double)(init_ns - main_ns) / 1e3;
            d->stage[2][k] = (double)(t1 - init_ns) / 1e3;
        }
    }
    if (d->spawn && d->process) {
        // Outside the timed part: kill the child's process; the sample
        // ends with the DOWN of the monitor (death detection).
        int pid = troupe_proc_pid(troupe_ctx_node(cx), d->fresh);
        if (pid <= 0)
            return troupe_deferred_error(cx, &d->go, TROUPE_ESTATE);
        d->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        atomic_store(&d->t_pidfd, 0);
        if (d->pidfd < 0 ||
            pthread_create(&d->watcher, NULL, s_watch_main, d) != 0)
            return troupe_deferred_error(cx, &d->go, TROUPE_ESYS);
        d->t_kill = bench_now_ns();
        if (kill(pid, SIGKILL) != 0)
            return troupe_deferred_error(cx, &d->go, TROUPE_ESYS);
        return 0;
    }
    if (d->spawn) { // outside the timed part: this sample's actor ends
        int rc = troupe_stop(cx, d->fresh, 0);
        if (rc)
            return troupe_deferred_error(cx, &d->go, rc);
    }
    return s_sample_done(cx, d);
}

// spawn-process: the killed child's DOWN came.
static int s_on_down(troupe_ctx *cx, w6_driver *d, const troupe_msg *msg)
{
    int64_t t1 = bench_now_ns();
    if (troupe_msg_ref(msg) != d->mon)
        return 0; // not this sample's
    if (troupe_proc_signal_of(troupe_msg_code(msg)) != SIGKILL)
        return troupe_deferred_error(cx, &d->go, TROUPE_EUSER - 2);
    pthread_join(d->watcher, NULL); // it is done, or about to be
    close(d->pidfd);
    int64_t tp = atomic_load(&d->t_pidfd);
    if (d->done >= d->warmup) {
        d->detect[d->done - d->warmup] = (double)(t1 - d->t_kill) / 1e3;
        d->kernel[d->done - d->warmup] = (double)(tp - d->t_kill) / 1e3;
    }
    return s_sample_done(cx, d);
}

static int s_sample(troupe_ctx *cx, w6_driver *d)
{
    int rc;
    d->t0 = bench_now_ns();
    if (d->spawn) {
        rc = d->process
                 ? troupe_spawn_monitor(cx, &d->child, &d->fresh, &d->mon)
                 : troupe_spawn(cx, &d->child, &d->fresh);
        if (rc == 0)
            rc = s_ping(cx, d->fresh);
    } else {
        rc = troupe_tell(cx, d->target, "boom", NULL);
        if (rc == 0)
            rc = s_ping(cx, d->target);
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
    if (troupe_msg_kind_of(msg) == TROUPE_MSG_DOWN && d->go)
        return s_on_down(cx, d, msg);
    return TROUPE_ENOTSUP;
}

// A variant: restart or spawn, of a shared or an isolated actor.
typedef struct w6_variant {
    const char *name;       // JSON variant or baseline name
    int spawn;              // baseline: spawn instead of restart
    troupe_placement child; // where the measured actor runs
} w6_variant;

// Each restart variant is followed by its spawn baseline (the rows pair
// them so); the process pair comes last (the death detection rows use it).
static const w6_variant s_variants[] = {
    {"shared", 0, TROUPE_SHARED},           // restart on the same loop
    {"spawn-shared", 1, TROUPE_SHARED},     // its baseline
    {"isolated", 0, TROUPE_ISOLATED},       // restart on its own thread
    {"spawn-isolated", 1, TROUPE_ISOLATED}, // its baseline
    {"process", 0, TROUPE_PROCESS},         // restart in a new process
    {"spawn-process", 1, TROUPE_PROCESS},   // its baseline, and detection
};
#define S_NV (sizeof s_variants / sizeof s_variants[0])

typedef struct w6_figs {
    double p50[16], p99[16];     // per repetition, µs
    double det50[16], det99[16]; // spawn-process: kill to DOWN, µs
    double ker50[16], ker99[16]; // ...of which kill to a readable pidfd
    double stage50[3][16];       // process: the stages' p50, µs
    double retries[16];          // process: failed pings per restart
} w6_figs;

// One repetition of variant v on a fresh node: `total` samples of which
// the first `warmup` are dropped; p50 and p99 into f->p50[rep], f->p99[rep].
static void s_run(const bench_cfg *cfg, const w6_variant *v, double *samples,
                  double *detect, double *kernel, double *stage[3], w6_figs *f,
                  int rep)
{
    int proc = v->child == TROUPE_PROCESS;
    long kept = proc ? cfg->w6_proc_restarts : cfg->w6_restarts;
    long warmup = proc ? cfg->w6_proc_warmup : cfg->w6_warmup;
    troupe_node_opts o;
    troupe_node_opts_init(&o);
    o.loops = 2;
    o.log_level = TROUPE_LOG_ERROR; // no WARN line per crash
    troupe_node *node;
    bench_ok(troupe_node_new(&node, &o), "troupe_node_new");
    w6_driver d = {.spawn = v->spawn,
                   .process = proc,
                   .child = s_child_spec(v->child),
                   .warmup = warmup,
                   .total = warmup + kept,
                   .samples = samples,
                   .detect = detect,
                   .kernel = kernel,
                   .stage = {stage[0], stage[1], stage[2]}};
    d.child.loop = TROUPE_LOOP(0);
    if (proc) {
        troupe_proc_spec_init(&d.ps);
        d.ps.kind = BENCH_KIND_W6;
        d.child.loop = TROUPE_LOOP_AUTO;
        d.child.process = &d.ps;
    }
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
    bench_sort(samples, (size_t)kept);
    f->p50[rep] = bench_quantile_sorted(samples, (size_t)kept, 0.50);
    f->p99[rep] = bench_quantile_sorted(samples, (size_t)kept, 0.99);
    f->retries[rep] = (double)d.retries / (double)d.total;
    for (int j = 0; proc && j < 3; j++) {
        bench_sort(stage[j], (size_t)kept);
        f->stage50[j][rep] = bench_quantile_sorted(stage[j], (size_t)kept, 0.5);
    }
    if (proc && v->spawn) {
        bench_sort(detect, (size_t)kept);
        f->det50[rep] = bench_quantile_sorted(detect, (size_t)kept, 0.50);
        f->det99[rep] = bench_quantile_sorted(detect, (size_t)kept, 0.99);
        bench_sort(kernel, (size_t)kept);
        f->ker50[rep] = bench_quantile_sorted(kernel, (size_t)kept, 0.50);
        f->ker99[rep] = bench_quantile_sorted(kernel, (size_t)kept, 0.99);
    }
}

void bench_w6(const bench_cfg *cfg)
{
    long most = cfg->w6_restarts > cfg->w6_proc_restarts
                    ? cfg->w6_restarts
                    : cfg->w6_proc_restarts;
    double *samples = malloc((size_t)most * sizeof *samples);
    double *detect = malloc((size_t)most * sizeof *detect);
    double *kernel = malloc((size_t)most * sizeof *kernel);
    double *stage[3];
    for (int j = 0; j < 3; j++)
        if (!(stage[j] = malloc((size_t)most * sizeof *stage[j])))
            bench_fail("out of memory");
    w6_figs *f = calloc(S_NV, sizeof *f);
    double raw50[16], raw99[16]; // raw-pidfd, per repetition
    char ipc[128];
    snprintf(ipc, sizeof ipc, "ipc://%s/w6-idle.sock", bl_ipc_dir());
    if (!samples || !detect || !kernel || !f)
        bench_fail("out of memory");
    // Repetitions go round every variant and baseline in turn, so that a
    // slow spell of the machine hits all of them rather than one.
    for (int r = 0; r < cfg->reps; r++) {
        for (size_t i = 0; i < S_NV; i++) {
            if (!bench_want(cfg, s_variants[i].name))
                continue;
            const w6_variant *v = &s_variants[i];
            s_run(cfg, v, samples, detect, kernel, stage, &f[i], r);
            if (v->child != TROUPE_PROCESS)
                bench_note("W6 %-14s rep %d: p50 %.2f us, p99 %.2f us", v->name,
                           r + 1, f[i].p50[r], f[i].p99[r]);
            else if (!v->spawn)
                bench_note("W6 %-14s rep %d: p50 %.2f us, p99 %.2f us "
                           "(%.1f pings answered EDEAD or EFULL per "
                           "restart)",
                           v->name, r + 1, f[i].p50[r], f[i].p99[r],
                           f[i].retries[r]);
            else
                bench_note("W6 %-14s rep %d: p50 %.2f us, p99 %.2f us; "
                           "kill to DOWN p50 %.2f us, p99 %.2f us (kill to "
                           "a readable pidfd p50 %.2f us, p99 %.2f us)",
                           v->name, r + 1, f[i].p50[r], f[i].p99[r],
                           f[i].det50[r], f[i].det99[r], f[i].ker50[r],
                           f[i].ker99[r]);
        }
        if (bench_want(cfg, "raw-pidfd")) {
            size_t k = (size_t)cfg->w6_proc_restarts;
            bl_kill_detect(ipc, cfg->w6_proc_warmup, cfg->w6_proc_restarts,
                           detect);
            bench_sort(detect, k);
            raw50[r] = bench_quantile_sorted(detect, k, 0.50);
            raw99[r] = bench_quantile_sorted(detect, k, 0.99);
            bench_note("W6 %-14s rep %d: kill to pidfd p50 %.2f us, p99 %.2f "
                       "us",
                       "raw-pidfd", r + 1, raw50[r], raw99[r]);
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
    // Death detection of a process child (measured in spawn-process): the
    // time from kill(SIGKILL) to the monitor's DOWN, against the time from
    // kill(SIGKILL) to a readable pidfd for a bare libzmq process.
    int sp = bench_want(cfg, "spawn-process"),
        rp = bench_want(cfg, "raw-pidfd");
    if (sp || rp) {
        bench_add("W6", "process", "detect_us_p50", "us",
                  sp ? bench_median(f[S_NV - 1].det50, n) : NAN, "raw-pidfd",
                  rp ? bench_median(raw50, n) : NAN);
        bench_add("W6", "process", "detect_us_p99", "us",
                  sp ? bench_median(f[S_NV - 1].det99, n) : NAN, "raw-pidfd",
                  rp ? bench_median(raw99, n) : NAN);
    }
    if (bench_want(cfg, "process"))
        bench_add_note("W6 process: a restart took %.1f pings answered "
                       "TROUPE_EDEAD or TROUPE_EFULL (handed to, or refused "
                       "for, the dying child) before the new incarnation "
                       "answered (median over the repetitions of the mean "
                       "per restart).",
                       bench_median(f[S_NV - 2].retries, n));
    if (sp)
        bench_add_note("W6 process: death detection (kill to DOWN) p50 %.0f "
                       "us, p99 %.0f us, of which kill to a readable pidfd "
                       "(the process's own end, in the kernel) p50 %.0f us, "
                       "p99 %.0f us (medians over the repetitions).",
                       bench_median(f[S_NV - 1].det50, n),
                       bench_median(f[S_NV - 1].det99, n),
                       bench_median(f[S_NV - 1].ker50, n),
                       bench_median(f[S_NV - 1].ker99, n));
    for (size_t i = S_NV - 2; i < S_NV; i++)
        if (bench_want(cfg, s_variants[i].name))
            bench_add_note(
                "W6 %s: where the time goes (p50 of each stage, medians over "
                "the repetitions): %s to the new child's main() %.0f us "
                "(%s, posix_spawn, exec and the dynamic loader), main() to "
                "the actor's init %.0f us (the child's node and bridge), "
                "init to the answer %.0f us (hello, the ping's way there and "
                "back).",
                s_variants[i].name, s_variants[i].spawn ? "spawn" : "boom",
                bench_median(f[i].stage50[0], n),
                s_variants[i].spawn ? "the proxy's thread"
                                    : "the crash, the old child's end and "
                                      "its detection, the restart",
                bench_median(f[i].stage50[1], n),
                bench_median(f[i].stage50[2], n));
    for (int j = 0; j < 3; j++)
        free(stage[j]);
    free(f);
    free(kernel);
    free(detect);
    free(samples);
}
