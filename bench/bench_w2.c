// SPDX-License-Identifier: MIT
//
// W2 one-way stream: a sender actor tells a receiver actor n messages
// [i, "x", 2.5] packed with troupe's format language; the receiver reads
// each with troupe_msg_read, checks it and sums i. Messages per second from
// the receiver's "go" to the last message. Baselines: raw libzmq PAIR with
// msgpack-c, inproc between two threads and ipc between two processes, and
// without msgpack (inproc). process-ipc (a process actor as the receiver)
// is further down.
//
// Flow control: the sender must not overrun the receiver's mailbox (default
// bound 65536). It sends in chunks of S_CHUNK tells and then tells itself
// "continue" so that the loop can run the receiver; a tell refused with
// TROUPE_EFULL ends the chunk early and is retried on the next "continue".
// That is the backpressure troupe offers today (the bound), with no message
// dropped and memory in flight bounded by the mailbox bound.
//
// The `-credit` variants use flow control between the two actors instead
// (as CAF and Akka streams do): the sender may run S_WINDOW messages ahead
// of what the receiver has handled, and the receiver grants more every
// S_GRANT messages. No tell is ever refused, so these show what a message
// costs without the EFULL retries.
#include <math.h>
#include <stdlib.h>

#include "bench.h"

// Tells per "continue". Small enough that a chunk's messages stay in cache,
// large enough that the "continue" tell costs little per message.
#define S_CHUNK 64
// Credit variants: messages the sender may have in flight, and how often
// the receiver grants more.
#define S_WINDOW 1024
#define S_GRANT 256

typedef struct w2_sender {
    troupe_addr to;   // the receiver
    long next;        // next i to send
    long n;           // messages in this run
    long credit;      // credit variants: may send while next < credit
    int use_credit;   // credit flow control instead of EFULL retries
    uint64_t refused; // tells refused with TROUPE_EFULL
} w2_sender;

typedef struct w2_receiver {
    troupe_addr sender;  // whom to start
    long expect;         // messages in this run
    long count;          // received
    long bad;            // malformed or wrong contents
    int64_t sum;         // of i
    int64_t t0;          // "go", ns
    int use_credit;      // grant credit every S_GRANT messages
    troupe_deferred *go; // answered after the last message
} w2_receiver;

static int s_pump(troupe_ctx *cx, w2_sender *s)
{
    for (int k = 0; k < S_CHUNK && s->next < s->n; k++) {
        int rc =
            troupe_tell(cx, s->to, "m", "[Isd]", (int64_t)s->next, "x", 2.5);
        if (rc == TROUPE_EFULL) {
            s->refused++;
            break;
        }
        if (rc)
            return rc;
        s->next++;
    }
    if (s->next < s->n)
        return troupe_tell(cx, troupe_self(cx), "continue", NULL);
    return 0;
}

// Credit variants: send everything the credit allows. A refusal is an
// error here: the window is far below the mailbox bound.
static int s_pump_credit(troupe_ctx *cx, w2_sender *s)
{
    long upto = s->credit < s->n ? s->credit : s->n;
    for (; s->next < upto; s->next++) {
        int rc =
            troupe_tell(cx, s->to, "m", "[Isd]", (int64_t)s->next, "x", 2.5);
        if (rc)
            return rc;
    }
    return 0;
}

static int s_sender(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    w2_sender *s = state;
    int64_t v;
    if (troupe_msg_is(msg, "continue"))
        return s_pump(cx, s);
    if (troupe_msg_is(msg, "more")) {
        int rc = troupe_msg_read(msg, "[I]", &v);
        if (rc)
            return rc;
        s->credit = (long)v;
        return s_pump_credit(cx, s);
    }
    if (troupe_msg_is(msg, "start")) {
        int rc = troupe_msg_read(msg, "[I]", &v);
        if (rc)
            return rc;
        s->to = troupe_msg_sender(msg);
        s->n = (long)v;
        s->next = 0;
        s->refused = 0;
        if (s->use_credit) {
            s->credit = S_WINDOW;
            return s_pump_credit(cx, s);
        }
        return s_pump(cx, s);
    }
    return TROUPE_ENOTSUP;
}

static int s_receiver(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    w2_receiver *r = state;
    if (troupe_msg_is(msg, "m")) {
        int64_t i;
        const char *x;
        size_t xlen;
        double d;
        int rc = troupe_msg_read(msg, "[Isd]", &i, &x, &xlen, &d);
        if (rc || xlen != 1 || x[0] != 'x' || d != 2.5)
            r->bad++;
        else
            r->sum += i;
        ++r->count;
        if (r->use_credit && r->count % S_GRANT == 0 &&
            (rc = troupe_tell(cx, r->sender, "more", "[I]",
                              (int64_t)(r->count + S_WINDOW))) != 0)
            return rc;
        if (r->count == r->expect) {
            int64_t dt = bench_now_ns() - r->t0;
            return troupe_deferred_reply(cx, &r->go, "[IIII]",
                                         (int64_t)r->count, r->sum,
                                         (int64_t)r->bad, dt);
        }
        return 0;
    }
    if (troupe_msg_is(msg, "result")) // remote-ipc: after the last tell
        return troupe_reply(cx, msg, "[III]", (int64_t)r->count, r->sum,
                            (int64_t)r->bad);
    if (troupe_msg_is(msg, "go")) {
        int64_t n;
        int rc = troupe_msg_read(msg, "[I]", &n);
        if (rc == 0)
            rc = troupe_defer(cx, msg, &r->go);
        if (rc)
            return rc;
        r->expect = (long)n;
        r->count = r->bad = 0;
        r->sum = 0;
        r->t0 = bench_now_ns();
        return troupe_tell(cx, r->sender, "start", "[I]", n);
    }
    return TROUPE_ENOTSUP;
}

typedef struct w2_variant {
    const char *name;  // JSON variant
    int receiver_loop; // the sender is on loop 0
    int use_credit;    // credit flow control instead of EFULL retries
} w2_variant;

static const w2_variant s_variants[] = {
    {"same-loop", 0, 0},
    {"cross-loop", 1, 0},
    {"same-loop-credit", 0, 1},
    {"cross-loop-credit", 1, 1},
};
#define S_NV (sizeof s_variants / sizeof s_variants[0])

static double s_run_troupe(const bench_cfg *cfg, const w2_variant *v)
{
    troupe_node *node = bench_node_new(2);
    w2_sender snd = {.use_credit = v->use_credit};
    w2_receiver rcv = {.use_credit = v->use_credit};
    troupe_actor_spec spec = troupe_actor_spec_default();
    spec.handler = s_sender;
    spec.state = &snd;
    spec.loop = TROUPE_LOOP(0);
    bench_ok(
        troupe_node_spawn(node, &spec, troupe_deadline_in(10000), &rcv.sender),
        "spawn sender");
    spec = troupe_actor_spec_default();
    spec.handler = s_receiver;
    spec.state = &rcv;
    spec.loop = TROUPE_LOOP(v->receiver_loop);
    troupe_addr to;
    bench_ok(troupe_node_spawn(node, &spec, troupe_deadline_in(10000), &to),
             "spawn receiver");
    troupe_client *c;
    bench_ok(troupe_client_new(node, &c), "client");
    troupe_msg *reply;
    bench_ok(troupe_call(c, to, "go", troupe_deadline_in(600000), &reply, "[I]",
                         (int64_t)cfg->w2_msgs),
             "W2 go");
    int64_t count, sum, bad, dt;
    bench_ok(troupe_msg_read(reply, "[IIII]", &count, &sum, &bad, &dt),
             "W2 reply");
    troupe_msg_destroy(&reply);
    int64_t n = cfg->w2_msgs, want = n * (n - 1) / 2;
    if (count != n || sum != want || bad != 0)
        bench_fail("W2 %s: %lld messages, sum %lld (want %lld), %lld bad",
                   v->name, (long long)count, (long long)sum, (long long)want,
                   (long long)bad);
    troupe_client_destroy(&c);
    bench_ok(troupe_node_destroy(&node), "node destroy");
    double rate = (double)n / ((double)dt / 1e9);
    bench_note("W2 %-24s %.3fM msgs/s (%llu tells refused: mailbox full)",
               v->name, rate / 1e6, (unsigned long long)snd.refused);
    return rate;
}

// remote-ipc: another process streams with troupe_remote_tell to the
// receiver, by name, over ipc through the node's gateway, then calls
// "result" (which the receiver answers after every earlier tell, FIFO). The
// receiver's bound is lifted: the gateway does not retry a refused tell.
#define S_REMOTE_NAME "w2-receiver"

static double s_run_remote(const bench_cfg *cfg)
{
    troupe_node *node = bench_node_new(2);
    w2_receiver rcv = {0};
    troupe_actor_spec spec = troupe_actor_spec_default();
    spec.handler = s_receiver;
    spec.state = &rcv;
    spec.name = S_REMOTE_NAME;
    spec.loop = TROUPE_LOOP(0);
    spec.mailbox_bound = 0x7fffffff;
    troupe_addr to;
    bench_ok(troupe_node_spawn(node, &spec, troupe_deadline_in(10000), &to),
             "spawn receiver");
    char ep[160], nbuf[32], out[256];
    snprintf(ep, sizeof ep, "ipc://%s/w2-remote.sock", bl_ipc_dir());
    bench_ok(troupe_node_listen(node, ep, NULL, 0), "troupe_node_listen");
    snprintf(nbuf, sizeof nbuf, "%ld", cfg->w2_msgs);
    char *argv[] = {(char *)cfg->argv0, "--child", "w2-remote", ep, nbuf, NULL};
    bench_run_child(argv, out, sizeof out);
    long long dt, count, sum, bad;
    long long n = cfg->w2_msgs, want = n * (n - 1) / 2;
    if (sscanf(out, "W2REMOTE %lld %lld %lld %lld", &dt, &count, &sum, &bad) !=
            4 ||
        dt <= 0)
        bench_fail("W2 remote-ipc: bad child output '%s'", out);
    if (count != n || sum != want || bad != 0)
        bench_fail("W2 remote-ipc: %lld messages, sum %lld (want %lld), "
                   "%lld bad",
                   count, sum, want, bad);
    bench_ok(troupe_node_destroy(&node), "node destroy");
    double rate = (double)n / ((double)dt / 1e9);
    bench_note("W2 %-24s %.3fM msgs/s", "remote-ipc", rate / 1e6);
    return rate;
}

int bench_w2_remote_child(const char *ep, long n)
{
    troupe_remote *r;
    bench_ok(troupe_remote_new(&r, ep, NULL), "troupe_remote_new");
    troupe_msg *reply;
    // A first call, so that connecting is not timed.
    bench_ok(troupe_remote_call(r, S_REMOTE_NAME, "result",
                                troupe_deadline_in(10000), &reply, NULL),
             "W2 remote warm-up");
    troupe_msg_destroy(&reply);
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        int rc;
        while ((rc = troupe_remote_tell(r, S_REMOTE_NAME, "m", "[Isd]",
                                        (int64_t)i, "x", 2.5)) == TROUPE_EAGAIN)
            ; // zmq's send queue is full: try again
        bench_ok(rc, "troupe_remote_tell");
    }
    bench_ok(troupe_remote_call(r, S_REMOTE_NAME, "result",
                                troupe_deadline_in(60000), &reply, NULL),
             "W2 remote result");
    int64_t dt = bench_now_ns() - t0;
    int64_t count, sum, bad;
    bench_ok(troupe_msg_read(reply, "[III]", &count, &sum, &bad),
             "W2 remote reply");
    troupe_msg_destroy(&reply);
    troupe_remote_destroy(&r);
    printf("W2REMOTE %lld %lld %lld %lld\n", (long long)dt, (long long)count,
           (long long)sum, (long long)bad);
    return 0;
}

// process-ipc: the receiver is a process actor (kind BENCH_KIND_W2, this
// program as its child). A sender actor on loop 0 streams to it in chunks
// of S_CHUNK tells, as same-loop does; what is refused with TROUPE_EFULL
// is retried 1 ms later (a timer, not a spin: the proxy's mailbox then
// holds tens of ms of work, and a spinning sender would take the CPU the
// proxy and the child need on two cores). The link has backpressure of its
// own (docs/processes.md): a child behind stops reading, its proxy waits,
// the proxy's mailbox fills and the sender hears TROUPE_EFULL. So there is
// no window: S_PWINDOW and S_PSYNC are set past any run, and the "sync"
// requests (which confirm the child's count so far) are kept only for
// runs that want them. The end of the run is the answer to a final
// "result" request, timed from the sender's "go".
#define S_PWINDOW (1L << 40)
#define S_PSYNC (1L << 40)

typedef struct w2_psender {
    troupe_addr to;      // the process actor
    long next;           // next i to send
    long n;              // messages in this run
    long acked;          // the child confirmed this many
    long syncs;          // "sync" requests answered
    int cont;            // a "continue" is queued
    int finishing;       // "result" requested
    long sync_due;       // a "sync" for this many is still to be sent
    uint64_t refused;    // tells refused with TROUPE_EFULL
    int64_t t0;          // "go", ns
    troupe_deferred *go; // answered with the child's result
} w2_psender;

// The child's receiver: fresh state in each child process.
typedef struct w2_precv {
    int64_t count, sum, bad;
} w2_precv;

static int s_precv(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    w2_precv *r = state;
    if (troupe_msg_is(msg, "m")) {
        int64_t i;
        const char *x;
        size_t xlen;
        double d;
        int rc = troupe_msg_read(msg, "[Isd]", &i, &x, &xlen, &d);
        if (rc || xlen != 1 || x[0] != 'x' || d != 2.5)
            r->bad++;
        else
            r->sum += i;
        r->count++;
        return 0;
    }
    if (troupe_msg_is(msg, "sync"))
        return troupe_reply(cx, msg, "[I]", r->count);
    if (troupe_msg_is(msg, "result"))
        return troupe_reply(cx, msg, "[III]", r->count, r->sum, r->bad);
    return TROUPE_ENOTSUP;
}

// What a process actor of kind BENCH_KIND_W2 runs in its child process.
troupe_actor_spec bench_w2_proc_actor(void)
{
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = s_precv;
    s.state_size = sizeof(w2_precv);
    return s;
}

static int s_ppump(troupe_ctx *cx, w2_psender *s);

static int s_on_result(troupe_ctx *cx, void *state, int status,
                       const troupe_msg *reply, void *arg)
{
    (void)arg;
    w2_psender *s = state;
    int64_t dt = bench_now_ns() - s->t0;
    int64_t count, sum, bad;
    if (status == 0)
        status = troupe_msg_read(reply, "[III]", &count, &sum, &bad);
    if (status)
        return troupe_deferred_error(cx, &s->go, status);
    return troupe_deferred_reply(cx, &s->go, "[IIII]", count, sum, bad, dt);
}

static int s_on_sync(troupe_ctx *cx, void *state, int status,
                     const troupe_msg *reply, void *arg)
{
    w2_psender *s = state;
    long upto = (long)(intptr_t)arg;
    int64_t count = -1;
    if (status == 0)
        status = troupe_msg_read(reply, "[I]", &count);
    if (status == 0 && count != upto)
        status = TROUPE_EUSER - 3; // the child saw another number
    if (status)
        return troupe_deferred_error(cx, &s->go, status);
    s->syncs++;
    if (upto > s->acked)
        s->acked = upto;
    return s->cont ? 0 : s_ppump(cx, s);
}

// Send the "sync" due, if any: 0, TROUPE_EFULL (the proxy's mailbox is
// full, as for a tell: try again later) or another error.
static int s_psync(troupe_ctx *cx, w2_psender *s)
{
    if (!s->sync_due)
        return 0;
    int rc =
        troupe_request(cx, s->to, "sync", troupe_deadline_in(60000), s_on_sync,
                       (void *)(intptr_t)s->sync_due, NULL, NULL);
    if (rc == 0)
        s->sync_due = 0;
    return rc;
}

static int s_ppump(troupe_ctx *cx, w2_psender *s)
{
    long limit = s->acked + S_PWINDOW < s->n ? s->acked + S_PWINDOW : s->n;
    int rc = s_psync(cx, s);
    for (int k = 0; rc == 0 && k < S_CHUNK && s->next < limit; k++) {
        rc = troupe_tell(cx, s->to, "m", "[Isd]", (int64_t)s->next, "x", 2.5);
        if (rc)
            break;
        s->next++;
        if (s->next % S_PSYNC == 0 && s->next < s->n) {
            s->sync_due = s->next;
            rc = s_psync(cx, s);
        }
    }
    if (rc == TROUPE_EFULL)
        s->refused++;
    else if (rc)
        return rc;
    if (s->next == s->n && !s->sync_due) { // all sent: the result, once
        if (s->finishing)
            return 0;
        s->finishing = 1;
        rc = troupe_request(cx, s->to, "result", troupe_deadline_in(120000),
                            s_on_result, NULL, NULL, NULL);
        if (rc != TROUPE_EFULL)
            return rc;
        s->finishing = 0; // the proxy is a mailbox behind: ask again
        s->refused++;
    }
    if (rc == TROUPE_EFULL) { // the proxy is a mailbox behind: let it be
        s->cont = 1;          // (the child drains it in tens of ms)
        return troupe_timer_start(cx, 1, 0, "continue", NULL);
    }
    if (s->next < limit) { // more now
        s->cont = 1;
        return troupe_tell(cx, troupe_self(cx), "continue", NULL);
    }
    return 0; // the window is full: the next "sync" answer goes on
}

static int s_psender(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    w2_psender *s = state;
    if (troupe_msg_is(msg, "continue")) {
        s->cont = 0;
        return s_ppump(cx, s);
    }
    if (troupe_msg_is(msg, "go")) {
        int64_t n;
        int rc = troupe_msg_read(msg, "[I]", &n);
        if (rc == 0)
            rc = troupe_defer(cx, msg, &s->go);
        if (rc)
            return rc;
        s->n = (long)n;
        s->next = s->acked = s->syncs = 0;
        s->finishing = 0;
        s->sync_due = 0;
        s->refused = 0;
        s->t0 = bench_now_ns();
        return s_ppump(cx, s);
    }
    return TROUPE_ENOTSUP;
}

static double s_run_process(const bench_cfg *cfg)
{
    troupe_node *node = bench_node_new(2);
    troupe_proc_spec ps;
    troupe_proc_spec_init(&ps);
    ps.kind = BENCH_KIND_W2;
    troupe_actor_spec spec = troupe_actor_spec_default();
    spec.placement = TROUPE_PROCESS;
    spec.process = &ps;
    // Its proxy on the other loop than the sender: a stream keeps both
    // busy (a request/reply pair would rather share one, W1).
    spec.loop = TROUPE_LOOP(1);
    w2_psender snd = {0};
    bench_ok(troupe_node_spawn(node, &spec, troupe_deadline_in(10000), &snd.to),
             "spawn the process receiver");
    spec = troupe_actor_spec_default();
    spec.handler = s_psender;
    spec.state = &snd;
    spec.loop = TROUPE_LOOP(0);
    troupe_addr sender;
    bench_ok(troupe_node_spawn(node, &spec, troupe_deadline_in(10000), &sender),
             "spawn sender");
    troupe_client *c;
    bench_ok(troupe_client_new(node, &c), "client");
    troupe_msg *reply;
    bench_ok(troupe_call(c, sender, "go", troupe_deadline_in(600000), &reply,
                         "[I]", (int64_t)cfg->w2_msgs),
             "W2 process-ipc go");
    int64_t count, sum, bad, dt;
    bench_ok(troupe_msg_read(reply, "[IIII]", &count, &sum, &bad, &dt),
             "W2 process-ipc reply");
    troupe_msg_destroy(&reply);
    int64_t n = cfg->w2_msgs, want = n * (n - 1) / 2;
    if (count != n || sum != want || bad != 0)
        bench_fail("W2 process-ipc: %lld messages, sum %lld (want %lld), "
                   "%lld bad",
                   (long long)count, (long long)sum, (long long)want,
                   (long long)bad);
    troupe_client_destroy(&c);
    bench_ok(troupe_node_destroy(&node), "node destroy");
    double rate = (double)n / ((double)dt / 1e9);
    bench_note("W2 %-24s %.3fM msgs/s (%ld syncs, %llu tells refused: "
               "mailbox full)",
               "process-ipc", rate / 1e6, snd.syncs,
               (unsigned long long)snd.refused);
    return rate;
}

// The baselines, in the order they are measured.
typedef struct w2_base {
    const char *name;     // JSON baseline
    const char *ep;       // endpoint (ipc: filled at run time)
    enum bl_encoding enc; // msgpack or raw bytes
    int two_procs;        // the sender in another process (ipc)
} w2_base;

void bench_w2(const bench_cfg *cfg)
{
    char ipc[128];
    snprintf(ipc, sizeof ipc, "ipc://%s/w2.sock", bl_ipc_dir());
    const w2_base bases[] = {
        {"raw-zmq-msgpack-inproc", "inproc://bench-w2", BL_MSGPACK, 0},
        {"raw-zmq-msgpack-ipc", ipc, BL_MSGPACK, 1},
        {"raw-zmq-inproc", "inproc://bench-w2", BL_RAW, 0},
    };
    enum {
        NB = sizeof bases / sizeof bases[0]
    };
    double t[S_NV][16], b[NB][16], remote[16], proc[16];
    for (int r = 0; r < cfg->reps; r++) {
        for (size_t i = 0; i < S_NV; i++)
            if (bench_want(cfg, s_variants[i].name))
                t[i][r] = s_run_troupe(cfg, &s_variants[i]);
        if (bench_want(cfg, "process-ipc"))
            proc[r] = s_run_process(cfg);
        if (bench_want(cfg, "remote-ipc"))
            remote[r] = s_run_remote(cfg);
        for (size_t i = 0; i < NB; i++) {
            if (!bench_want(cfg, bases[i].name))
                continue;
            b[i][r] =
                bases[i].two_procs
                    ? bl_stream_proc(bases[i].ep, cfg->w2_msgs, bases[i].enc)
                    : bl_stream(bases[i].ep, cfg->w2_msgs, bases[i].enc);
            bench_note("W2 %-24s %.3fM msgs/s", bases[i].name, b[i][r] / 1e6);
        }
    }
    size_t n = (size_t)cfg->reps;
    double bm[NB];
    for (size_t i = 0; i < NB; i++)
        bm[i] = bench_want(cfg, bases[i].name) ? bench_median(b[i], n) : NAN;
    for (size_t i = 0; i < S_NV; i++) {
        if (!bench_want(cfg, s_variants[i].name))
            continue;
        double v = bench_median(t[i], n);
        bench_add("W2", s_variants[i].name, "msgs_per_s", "msgs/s", v,
                  bases[0].name, bm[0]);
        bench_add("W2", s_variants[i].name, "msgs_per_s", "msgs/s", v,
                  bases[2].name, bm[2]);
    }
    if (bench_want(cfg, "process-ipc"))
        bench_add("W2", "process-ipc", "msgs_per_s", "msgs/s",
                  bench_median(proc, n), bases[1].name, bm[1]);
    if (bench_want(cfg, "remote-ipc"))
        bench_add("W2", "remote-ipc", "msgs_per_s", "msgs/s",
                  bench_median(remote, n), bases[1].name, bm[1]);
}
