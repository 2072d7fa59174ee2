// SPDX-License-Identifier: MIT
//
// W1 ping-pong: a ping actor sends an integer to a pong actor, which tells
// back the integer plus one; ping times each round trip with the monotonic
// clock into a preallocated array. The hot path uses tell (a request adds a
// deadline timer and a pending-table entry: the `-request` variant shows
// what that costs). process-ipc: pong is a process actor (this program as
// its child, kind BENCH_KIND_W1) reached over ipc, with request/reply.
// Baselines: raw libzmq PAIR with an 8-byte integer that the echo side
// increments, inproc between two threads and ipc between two processes.
#include <math.h>
#include <stdlib.h>

#include "bench.h"

// Ping's state, owned by the benchmark (spec.state), written only on ping's
// loop while a "go" request is running.
typedef struct w1_ping {
    troupe_addr pong;    // whom to ping
    int use_request;     // troupe_request instead of troupe_tell
    long warmup;         // round trips not sampled
    long total;          // warmup + sampled round trips
    double *samples;     // total - warmup entries, µs
    long done;           // round trips completed in this run
    int64_t counter;     // the integer in flight
    int64_t t0;          // when the current ping left, ns
    troupe_deferred *go; // the client's "go", answered at the end
} w1_ping;

static int s_ping_send(troupe_ctx *cx, w1_ping *p);

static int s_pong(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)state;
    int64_t n;
    int rc = troupe_msg_read(msg, "[I]", &n);
    if (rc)
        return rc;
    if (troupe_msg_kind_of(msg) == TROUPE_MSG_REQUEST)
        return troupe_reply(cx, msg, "[I]", n + 1);
    return troupe_tell(cx, troupe_msg_sender(msg), "pong", "[I]", n + 1);
}

// A pong came back with n: sample it, then ping again or finish.
static int s_ping_got(troupe_ctx *cx, w1_ping *p, int64_t n)
{
    int64_t t1 = bench_now_ns();
    if (n != p->counter + 1)
        return TROUPE_EUSER; // crash: the client sees TROUPE_EDEAD
    p->counter = n;
    if (p->done >= p->warmup)
        p->samples[p->done - p->warmup] = (double)(t1 - p->t0) / 1e3;
    if (++p->done == p->total)
        return troupe_deferred_reply(cx, &p->go, "[I]", p->counter);
    return s_ping_send(cx, p);
}

static int s_on_reply(troupe_ctx *cx, void *state, int status,
                      const troupe_msg *reply, void *arg)
{
    (void)arg;
    if (status)
        return status;
    int64_t n;
    int rc = troupe_msg_read(reply, "[I]", &n);
    return rc ? rc : s_ping_got(cx, state, n);
}

static int s_ping_send(troupe_ctx *cx, w1_ping *p)
{
    p->t0 = bench_now_ns();
    if (p->use_request)
        return troupe_request(cx, p->pong, "ping", TROUPE_DEADLINE_DEFAULT,
                              s_on_reply, NULL, NULL, "[I]", p->counter);
    return troupe_tell(cx, p->pong, "ping", "[I]", p->counter);
}

static int s_ping(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    w1_ping *p = state;
    if (troupe_msg_is(msg, "go")) {
        int rc = troupe_defer(cx, msg, &p->go);
        if (rc)
            return rc;
        p->done = 0;
        p->counter = 0;
        return s_ping_send(cx, p);
    }
    if (troupe_msg_is(msg, "pong")) {
        int64_t n;
        int rc = troupe_msg_read(msg, "[I]", &n);
        return rc ? rc : s_ping_got(cx, p, n);
    }
    return TROUPE_ENOTSUP;
}

// What a process actor of kind BENCH_KIND_W1 runs in its child process.
troupe_actor_spec bench_w1_proc_actor(void)
{
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = s_pong;
    return s;
}

// A troupe variant of W1.
typedef struct w1_variant {
    const char *name;      // JSON variant
    int pong_loop;         // loop of the pong actor
    troupe_placement pong; // shared, isolated or a process
    int use_request;       // request/reply instead of tell
    int base;              // its baseline: an index in s_raw
    int one_cpu;           // every thread and process of it on one CPU
} w1_variant;

// process-ipc uses request/reply: a process actor's child answers a
// request over the link, while a tell back to the sender's address would
// not reach it (the sender is in another process). So it compares with
// same-loop-request and the raw ipc round trip.
//
// The -1cpu pair runs every thread of both processes on one CPU. Across
// two CPUs, a round trip's six thread wake-ups cost what the scheduler's
// placement makes them: each process's app and zmq I/O threads together
// on one CPU, or the two app threads on one and the two I/O threads on the
// other (four wake-ups across CPUs instead of two). The choice is made at
// the start and kept, so a repetition lands in one mode or the other (raw
// ipc here: about 80 or 115 us); on one CPU there is no choice, and the
// ratio is what each side's own work costs.
static const w1_variant s_variants[] = {
    {"same-loop", 0, TROUPE_SHARED, 0, 0, 0},
    {"cross-loop", 1, TROUPE_SHARED, 0, 0, 0},
    {"isolated", 0, TROUPE_ISOLATED, 0, 0, 0},
    {"same-loop-request", 0, TROUPE_SHARED, 1, 0, 0},
    {"process-ipc", 0, TROUPE_PROCESS, 1, 1, 0},
    {"process-ipc-1cpu", 0, TROUPE_PROCESS, 1, 2, 1},
};

// The baselines: raw zmq PAIR round trips.
typedef struct w1_raw {
    const char *name;
    int ipc;     // between two processes (else two threads, inproc)
    int one_cpu; // as the -1cpu variants
} w1_raw;

static const w1_raw s_raw[] = {
    {"raw-zmq-inproc", 0, 0},
    {"raw-zmq-ipc", 1, 0},
    {"raw-zmq-ipc-1cpu", 1, 1},
};
#define S_NRAW (sizeof s_raw / sizeof s_raw[0])
#define S_NV (sizeof s_variants / sizeof s_variants[0])

// The quantiles of the round trip kept per repetition: p50 and p99 go in
// the table, all of them in the JSON (bench/plot draws the distribution).
static const double s_q[] = {0.01, 0.10, 0.25, 0.50, 0.75, 0.90, 0.99, 0.999};
static const char *const s_qname[] = {"rtt_us_p1",  "rtt_us_p10", "rtt_us_p25",
                                      "rtt_us_p50", "rtt_us_p75", "rtt_us_p90",
                                      "rtt_us_p99", "rtt_us_p999"};
#define S_NQ (sizeof s_q / sizeof s_q[0])
#define S_P50 3
#define S_P99 6

// The quantiles of each repetition, in µs.
typedef struct w1_figs {
    double q[S_NQ][16]; // [quantile][repetition]
} w1_figs;

static void s_record(w1_figs *f, int rep, double *samples, long n)
{
    bench_sort(samples, (size_t)n);
    for (size_t k = 0; k < S_NQ; k++)
        f->q[k][rep] = bench_quantile_sorted(samples, (size_t)n, s_q[k]);
}

static void s_run_troupe(const bench_cfg *cfg, const w1_variant *v,
                         double *samples, w1_figs *f, int rep)
{
    troupe_node *node = bench_node_new(2);
    troupe_actor_spec spec = troupe_actor_spec_default();
    spec.handler = s_pong;
    spec.loop = TROUPE_LOOP(v->pong_loop);
    spec.placement = v->pong;
    troupe_proc_spec ps;
    if (v->pong == TROUPE_PROCESS) { // the handler is the child's
        troupe_proc_spec_init(&ps);
        ps.kind = BENCH_KIND_W1;
        spec.handler = NULL; // its proxy on the pinger's loop (0)
        spec.process = &ps;
    }
    w1_ping ping = {.use_request = v->use_request,
                    .warmup = cfg->w1_warmup,
                    .total = cfg->w1_warmup + cfg->w1_rounds,
                    .samples = samples};
    bench_ok(
        troupe_node_spawn(node, &spec, troupe_deadline_in(10000), &ping.pong),
        "spawn pong");
    spec = troupe_actor_spec_default();
    spec.handler = s_ping;
    spec.state = &ping;
    spec.loop = TROUPE_LOOP(0);
    troupe_addr pinger;
    bench_ok(troupe_node_spawn(node, &spec, troupe_deadline_in(10000), &pinger),
             "spawn ping");
    troupe_client *c;
    bench_ok(troupe_client_new(node, &c), "client");
    troupe_msg *reply;
    bench_ok(
        troupe_call(c, pinger, "go", troupe_deadline_in(600000), &reply, NULL),
        "W1 go");
    int64_t counter = -1;
    bench_ok(troupe_msg_read(reply, "[I]", &counter), "W1 reply");
    troupe_msg_destroy(&reply);
    if (counter != ping.total)
        bench_fail("W1 %s: final counter %lld, want %ld", v->name,
                   (long long)counter, ping.total);
    troupe_client_destroy(&c);
    bench_ok(troupe_node_destroy(&node), "node destroy");
    s_record(f, rep, samples, cfg->w1_rounds);
}

// remote-ipc: the pinging side is another process, a troupe_remote client
// calling (request and reply) the pong actor by name over ipc through the
// node's gateway: the other way across processes, beside process-ipc.
#define S_REMOTE_NAME "w1-pong"

static void s_run_remote(const bench_cfg *cfg, w1_figs *f, int rep)
{
    troupe_node *node = bench_node_new(2);
    troupe_actor_spec spec = troupe_actor_spec_default();
    spec.handler = s_pong;
    spec.name = S_REMOTE_NAME;
    spec.loop = TROUPE_LOOP(0);
    troupe_addr pong;
    bench_ok(troupe_node_spawn(node, &spec, troupe_deadline_in(10000), &pong),
             "spawn pong");
    char ep[160], warm[32], rounds[32], out[256];
    snprintf(ep, sizeof ep, "ipc://%s/w1-remote.sock", bl_ipc_dir());
    bench_ok(troupe_node_listen(node, ep, NULL, 0), "troupe_node_listen");
    snprintf(warm, sizeof warm, "%ld", cfg->w1_warmup);
    snprintf(rounds, sizeof rounds, "%ld", cfg->w1_rounds);
    char *argv[] = {
        (char *)cfg->argv0, "--child", "w1-remote", ep, warm, rounds, NULL};
    bench_run_child(argv, out, sizeof out);
    // "W1REMOTE counter q..." (the quantiles of s_q, in order).
    long long counter = -1;
    int used = 0;
    const char *at = out;
    if (sscanf(at, "W1REMOTE %lld%n", &counter, &used) != 1 ||
        counter != cfg->w1_warmup + cfg->w1_rounds)
        bench_fail("W1 remote-ipc: bad child output '%s'", out);
    for (size_t k = 0; k < S_NQ; k++) {
        at += used;
        if (sscanf(at, " %lf%n", &f->q[k][rep], &used) != 1)
            bench_fail("W1 remote-ipc: bad child output '%s'", out);
    }
    bench_ok(troupe_node_destroy(&node), "node destroy");
}

int bench_w1_remote_child(const char *ep, long warmup, long rounds)
{
    troupe_remote *r;
    bench_ok(troupe_remote_new(&r, ep, NULL), "troupe_remote_new");
    double *samples = malloc((size_t)rounds * sizeof *samples);
    if (!samples)
        bench_fail("out of memory");
    int64_t n = 0;
    for (long i = 0; i < warmup + rounds; i++) {
        int64_t t0 = bench_now_ns();
        troupe_msg *reply;
        bench_ok(troupe_remote_call(r, S_REMOTE_NAME, "ping",
                                    troupe_deadline_in(10000), &reply, "[I]",
                                    n),
                 "troupe_remote_call");
        int64_t back = -1;
        int rc = troupe_msg_read(reply, "[I]", &back);
        troupe_msg_destroy(&reply);
        int64_t t1 = bench_now_ns();
        if (rc || back != n + 1)
            bench_fail("W1 remote-ipc: got a wrong counter");
        n = back;
        if (i >= warmup)
            samples[i - warmup] = (double)(t1 - t0) / 1e3;
    }
    troupe_remote_destroy(&r);
    bench_sort(samples, (size_t)rounds);
    printf("W1REMOTE %lld", (long long)n);
    for (size_t k = 0; k < S_NQ; k++)
        printf(" %.4f", bench_quantile_sorted(samples, (size_t)rounds, s_q[k]));
    printf("\n");
    free(samples);
    return 0;
}

// The raw baselines: inproc between two threads, ipc between two
// processes (the echo side is this program again, posix_spawned).
static void s_run_raw(const bench_cfg *cfg, const char *ep, int two_procs,
                      double *samples, w1_figs *f, int rep)
{
    int64_t counter =
        two_procs
            ? bl_pingpong_proc(ep, cfg->w1_warmup, cfg->w1_rounds, samples)
            : bl_pingpong(ep, cfg->w1_warmup, cfg->w1_rounds, samples);
    if (counter != cfg->w1_warmup + cfg->w1_rounds)
        bench_fail("W1 raw %s: final counter %lld", ep, (long long)counter);
    s_record(f, rep, samples, cfg->w1_rounds);
}

void bench_w1(const bench_cfg *cfg)
{
    double *samples = malloc((size_t)cfg->w1_rounds * sizeof *samples);
    w1_figs *tf = calloc(S_NV, sizeof *tf);
    w1_figs *raw = calloc(S_NRAW, sizeof *raw);
    w1_figs *remote = calloc(1, sizeof *remote);
    if (!samples || !tf || !raw || !remote)
        bench_fail("out of memory");
    char ipc[128];
    snprintf(ipc, sizeof ipc, "ipc://%s/w1.sock", bl_ipc_dir());
    // Repetitions go round every variant in turn, so that a slow spell of
    // the machine hits all of them rather than one.
    for (int r = 0; r < cfg->reps; r++) {
        for (size_t i = 0; i < S_NV; i++) {
            if (!bench_want(cfg, s_variants[i].name))
                continue;
            cpu_set_t mask;
            int pinned = s_variants[i].one_cpu && bench_pin_one_cpu(&mask) == 0;
            if (s_variants[i].one_cpu && !pinned)
                bench_fail("W1 %s: cannot pin to one CPU", s_variants[i].name);
            s_run_troupe(cfg, &s_variants[i], samples, &tf[i], r);
            if (pinned)
                bench_unpin_cpu(&mask);
            bench_note("W1 %-18s rep %d: p50 %.2f us, p99 %.2f us",
                       s_variants[i].name, r + 1, tf[i].q[S_P50][r],
                       tf[i].q[S_P99][r]);
        }
        if (bench_want(cfg, "remote-ipc")) {
            s_run_remote(cfg, remote, r);
            bench_note("W1 %-18s rep %d: p50 %.2f us, p99 %.2f us",
                       "remote-ipc", r + 1, remote->q[S_P50][r],
                       remote->q[S_P99][r]);
        }
        for (size_t k = 0; k < S_NRAW; k++) {
            if (!bench_want(cfg, s_raw[k].name))
                continue;
            cpu_set_t mask;
            int pinned = s_raw[k].one_cpu && bench_pin_one_cpu(&mask) == 0;
            if (s_raw[k].one_cpu && !pinned)
                bench_fail("W1 %s: cannot pin to one CPU", s_raw[k].name);
            s_run_raw(cfg, s_raw[k].ipc ? ipc : "inproc://bench-w1",
                      s_raw[k].ipc, samples, &raw[k], r);
            if (pinned)
                bench_unpin_cpu(&mask);
            bench_note("W1 %-18s rep %d: p50 %.2f us, p99 %.2f us",
                       s_raw[k].name, r + 1, raw[k].q[S_P50][r],
                       raw[k].q[S_P99][r]);
        }
    }
    size_t n = (size_t)cfg->reps;
    double base[S_NRAW][S_NQ]; // the baselines' medians, per quantile
    for (size_t k = 0; k < S_NRAW; k++) {
        int ran = bench_want(cfg, s_raw[k].name);
        for (size_t j = 0; j < S_NQ; j++)
            base[k][j] = ran ? bench_median(raw[k].q[j], n) : NAN;
    }
    for (size_t i = 0; i <= S_NV; i++) { // the troupe variants, remote-ipc
        const char *name = i < S_NV ? s_variants[i].name : "remote-ipc";
        const w1_figs *f = i < S_NV ? &tf[i] : remote;
        int k = i < S_NV ? s_variants[i].base : 1;
        if (!bench_want(cfg, name))
            continue;
        for (size_t j = 0; j < S_NQ; j++)
            (j == S_P50 || j == S_P99 ? bench_add : bench_add_json)(
                "W1", name, s_qname[j], "us", bench_median(f->q[j], n),
                s_raw[k].name, base[k][j]);
    }
    free(remote);
    free(raw);
    free(tf);
    free(samples);
}
