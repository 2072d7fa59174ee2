// SPDX-License-Identifier: MIT
//
// W5 gather: a requester actor sends three requests at once (troupe_gather,
// mode all) to three services that answer after timers of 80, 120 and 60 ms
// (troupe_timer_start and troupe_defer: nobody sleeps); the sample is the
// time from the gather's start to its continuation, so the overhead over
// the slowest service (120 ms) is what the runtime adds. The `sequential`
// variant awaits the same three one after another (260 ms) to show what a
// gather saves. Timed inside the node with the monotonic clock.
#include <math.h>
#include <stdlib.h>

#include "bench.h"

#define S_NSVC 3

// The services' delays, in the order they are asked.
static const int64_t s_delay_ms[S_NSVC] = {80, 120, 60};

// ---- a service: answers each request after its delay ----

// A service's state, owned by the benchmark (spec.state). Each sample asks
// a service once, so one deferred reply at a time is enough.
typedef struct w5_service {
    int64_t delay_ms;   // how long it "works"
    troupe_deferred *d; // the request being answered, or NULL
} w5_service;

static int s_service(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    w5_service *s = state;
    if (troupe_msg_kind_of(msg) == TROUPE_MSG_TIMER && s->d)
        return troupe_deferred_reply(cx, &s->d, "[I]", s->delay_ms);
    if (troupe_msg_kind_of(msg) != TROUPE_MSG_REQUEST)
        return TROUPE_ENOTSUP;
    if (s->d) // a second request while one is pending: not in W5
        return troupe_reply_error(cx, msg, TROUPE_EFULL);
    int rc = troupe_defer(cx, msg, &s->d);
    if (rc == 0)
        rc = troupe_timer_start(cx, s->delay_ms, 0, "due", NULL);
    return rc;
}

// ---- the requester ----

// The requester's state, owned by the benchmark (spec.state), written only
// on its loop while a "go" request is running.
typedef struct w5_requester {
    troupe_addr svc[S_NSVC]; // the services, in s_delay_ms order
    int sequential;          // 1: await one after another; 0: gather
    long warmup;             // samples not kept
    long total;              // warmup + kept samples
    double *samples;         // total - warmup entries, ms
    long done;               // samples completed in this run
    int step;                // sequential: the service being awaited
    int64_t t0;              // when the current sample began, ns
    troupe_deferred *go;     // the client's "go", answered at the end
} w5_requester;

static int s_sample(troupe_ctx *cx, w5_requester *q);

// A sample ended at t1: keep it, then the next one starts from the
// mailbox (so that nothing of this one is on the stack any more).
static int s_sampled(troupe_ctx *cx, w5_requester *q, int64_t t1)
{
    if (q->done >= q->warmup)
        q->samples[q->done - q->warmup] = (double)(t1 - q->t0) / 1e6;
    if (++q->done == q->total)
        return troupe_deferred_reply(cx, &q->go, "[I]", (int64_t)q->done);
    return troupe_tell(cx, troupe_self(cx), "next", NULL);
}

// A wrong outcome ends the run: the client gets the code as an error.
static int s_failed(troupe_ctx *cx, w5_requester *q, int code)
{
    return q->go ? troupe_deferred_error(cx, &q->go, code) : 0;
}

// Service i's reply must be its delay.
static int s_check(const troupe_msg *reply, int i)
{
    int64_t v = -1;
    int rc = troupe_msg_read(reply, "[I]", &v);
    return rc ? rc : v == s_delay_ms[i] ? 0 : TROUPE_EBADMSG;
}

static int s_gathered(troupe_ctx *cx, void *state, troupe_gather *g, void *arg)
{
    (void)arg;
    int64_t t1 = bench_now_ns();
    w5_requester *q = state;
    int rc = troupe_gather_result(g);
    if (rc == TROUPE_ECANCELED) // the requester is ending
        return 0;
    if (rc == 0 && troupe_gather_size(g) != S_NSVC)
        rc = TROUPE_EBADMSG;
    for (int i = 0; rc == 0 && i < S_NSVC; i++)
        rc = s_check(troupe_gather_reply(g, (size_t)i), i);
    return rc ? s_failed(cx, q, rc) : s_sampled(cx, q, t1);
}

static int s_seq_reply(troupe_ctx *cx, void *state, int status,
                       const troupe_msg *reply, void *arg)
{
    (void)arg;
    int64_t t1 = bench_now_ns();
    w5_requester *q = state;
    if (status == TROUPE_ECANCELED)
        return 0;
    int rc = status ? status : s_check(reply, q->step);
    if (rc)
        return s_failed(cx, q, rc);
    if (++q->step == S_NSVC)
        return s_sampled(cx, q, t1);
    rc = troupe_request(cx, q->svc[q->step], "work", troupe_deadline_in(5000),
                        s_seq_reply, NULL, NULL, NULL);
    return rc ? s_failed(cx, q, rc) : 0;
}

static int s_sample(troupe_ctx *cx, w5_requester *q)
{
    int rc;
    q->t0 = bench_now_ns();
    if (q->sequential) {
        q->step = 0;
        rc = troupe_request(cx, q->svc[0], "work", troupe_deadline_in(5000),
                            s_seq_reply, NULL, NULL, NULL);
        return rc ? s_failed(cx, q, rc) : 0;
    }
    troupe_gather *g;
    rc = troupe_gather_new(cx, TROUPE_GATHER_ALL, 0, troupe_deadline_in(5000),
                           s_gathered, NULL, &g);
    if (rc)
        return s_failed(cx, q, rc);
    for (int i = 0; i < S_NSVC; i++) {
        rc = troupe_gather_request(g, q->svc[i], "work", NULL);
        if (rc < 0) {
            troupe_gather_destroy(&g);
            return s_failed(cx, q, rc);
        }
    }
    rc = troupe_gather_start(g);
    if (rc) {
        troupe_gather_destroy(&g);
        return s_failed(cx, q, rc);
    }
    return 0;
}

static int s_requester(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    w5_requester *q = state;
    if (troupe_msg_is(msg, "go")) {
        int rc = troupe_defer(cx, msg, &q->go);
        if (rc)
            return rc;
        q->done = 0;
        return s_sample(cx, q);
    }
    if (troupe_msg_is(msg, "next") && q->go)
        return s_sample(cx, q);
    return TROUPE_ENOTSUP;
}

// One run of a variant on a fresh node: the requester on loop 0, the three
// services on loop 1 (each request and reply crosses threads, as calls to
// services elsewhere do). Writes cfg->w5_samples samples, in ms.
static void s_run(const bench_cfg *cfg, const char *name, int sequential,
                  double *samples)
{
    troupe_node *node = bench_node_new(2);
    w5_service svc[S_NSVC];
    w5_requester q = {.sequential = sequential,
                      .warmup = 1,
                      .total = 1 + cfg->w5_samples,
                      .samples = samples};
    for (int i = 0; i < S_NSVC; i++) {
        svc[i] = (w5_service){.delay_ms = s_delay_ms[i]};
        troupe_actor_spec spec = troupe_actor_spec_default();
        spec.handler = s_service;
        spec.state = &svc[i];
        spec.loop = TROUPE_LOOP(1);
        bench_ok(troupe_node_spawn(node, &spec, troupe_deadline_in(10000),
                                   &q.svc[i]),
                 "spawn service");
    }
    troupe_actor_spec spec = troupe_actor_spec_default();
    spec.handler = s_requester;
    spec.state = &q;
    spec.loop = TROUPE_LOOP(0);
    troupe_addr requester;
    bench_ok(
        troupe_node_spawn(node, &spec, troupe_deadline_in(10000), &requester),
        "spawn requester");
    troupe_client *c;
    bench_ok(troupe_client_new(node, &c), "client");
    troupe_msg *reply;
    int rc = troupe_call(c, requester, "go", troupe_deadline_in(600000), &reply,
                         NULL);
    if (rc)
        bench_fail("W5 %s: %s after %ld samples (a lost or wrong reply)", name,
                   troupe_errname(rc), q.done);
    int64_t done = -1;
    bench_ok(troupe_msg_read(reply, "[I]", &done), "W5 reply");
    troupe_msg_destroy(&reply);
    if (done != q.total)
        bench_fail("W5 %s: %lld samples, want %ld", name, (long long)done,
                   q.total);
    troupe_client_destroy(&c);
    bench_ok(troupe_node_destroy(&node), "node destroy");
}

void bench_w5(const bench_cfg *cfg)
{
    static const struct {
        const char *name; // JSON variant
        int sequential;   // await one after another
        double ideal_ms;  // what the services' timers alone take
    } variants[] = {{"gather", 0, 120}, {"sequential", 1, 260}};
    size_t n = (size_t)cfg->w5_samples;
    double *samples = malloc(n * sizeof *samples);
    if (!samples)
        bench_fail("out of memory");
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        if (!bench_want(cfg, variants[i].name))
            continue;
        s_run(cfg, variants[i].name, variants[i].sequential, samples);
        double med = bench_median(samples, n);
        bench_sort(samples, n);
        bench_note("W5 %-10s %zu samples: median %.2f ms, min %.2f, max %.2f",
                   variants[i].name, n, med, samples[0], samples[n - 1]);
        bench_add("W5", variants[i].name, "total_ms", "ms", med, NULL, 0);
        bench_add("W5", variants[i].name, "overhead_ms", "ms",
                  med - variants[i].ideal_ms, NULL, 0);
    }
    free(samples);
}
