// SPDX-License-Identifier: MIT
//
// Mistake 1: CPU work blocks the event loop. A service answers two requests:
// "get" (trivial) and "hash" (50 ms of pure arithmetic). A client actor on
// another loop keeps 50 requests in flight, one in ten a "hash". Done on the
// service's shared loop, every hash holds the loop and the trivial requests
// queue behind it; the node's blocking detector names the service and the
// tag. Moved to isolated actors or to the offload pool, the loop stays free.
// Figures: requests/s, and p50/p99 of the trivial requests.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mistakes.h"

#define M1_SEED 42u // every hash hashes the same seed, so its answer is known
#define M1_MAX 1000 // most requests in one run
#define M1_INFLIGHT 50
#define M1_WORKERS 2 // isolated hashers (this machine has 2 cores)

typedef enum m1_mode {
    M1_ON_LOOP,  // the mistake: the hash runs in the service's handler
    M1_ISOLATED, // the service forwards it to isolated actors
    M1_OFFLOAD,  // the service runs it in the offload pool
} m1_mode;

// ---- the service (shared, loop 0) ----

typedef struct m1_service {
    m1_mode mode;
    uint64_t iters;                  // rounds of arithmetic per hash
    troupe_addr workers[M1_WORKERS]; // M1_ISOLATED: the hashers
    unsigned next;                   // the hasher to use next
} m1_service;

// An offloaded hash: input, output, and the request to answer.
typedef struct m1_job {
    uint64_t iters;     // input
    uint64_t v;         // output, written by the pool thread
    int64_t i;          // the request's index (the callback's)
    troupe_deferred *d; // the request to answer (the callback's)
} m1_job;

static int s_job_run(void *arg) // on a pool thread: no troupe_ctx here
{
    m1_job *j = arg;
    j->v = am_cpu_work(j->iters, M1_SEED);
    return 0;
}

static int s_job_done(troupe_ctx *cx, void *state, int status,
                      const troupe_msg *reply, void *arg)
{
    (void)state;
    (void)reply;
    m1_job *j = arg; // freed by the pool (free_arg) once both sides are done
    if (status < 0)  // timed out or canceled: the job may still run
        troupe_deferred_error(cx, &j->d, status);
    else
        troupe_deferred_reply(cx, &j->d, "{s:I s:U}", "i", j->i, "v", j->v);
    return 0;
}

// A hash forwarded to an isolated hasher ended: pass its answer on.
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

static int s_hash_elsewhere(troupe_ctx *cx, m1_service *s,
                            const troupe_msg *msg, int64_t i)
{
    troupe_deferred *d;
    int rc = troupe_defer(cx, msg, &d); // answered later, from a callback
    if (rc < 0)
        return troupe_reply_error(cx, msg, rc);
    if (s->mode == M1_ISOLATED) {
        troupe_addr w = s->workers[s->next++ % M1_WORKERS];
        rc = troupe_request(cx, w, "hash", TROUPE_DEADLINE_DEFAULT,
                            s_forward_done, d, NULL, "{s:I s:U}", "i", i,
                            "iters", s->iters);
    } else {
        m1_job *j = calloc(1, sizeof *j);
        if (!j)
            return troupe_deferred_error(cx, &d, TROUPE_ENOMEM);
        *j = (m1_job){.iters = s->iters, .i = i, .d = d};
        rc = troupe_offload(cx, s_job_run, j, free, TROUPE_DEADLINE_DEFAULT,
                            s_job_done, j, NULL);
        if (rc < 0)
            free(j); // neither the job nor the callback will run
    }
    if (rc < 0)
        troupe_deferred_error(cx, &d, rc);
    return 0;
}

static int s_service_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    m1_service *s = state;
    int64_t i;
    int rc = troupe_msg_read(msg, "{s:I}", "i", &i);
    if (rc < 0)
        return troupe_reply_error(cx, msg, rc);
    if (troupe_msg_is(msg, "get"))
        return troupe_reply(cx, msg, "{s:I}", "i", i);
    if (!troupe_msg_is(msg, "hash"))
        return troupe_reply_error(cx, msg, TROUPE_ENOTSUP);
    if (s->mode != M1_ON_LOOP)
        return s_hash_elsewhere(cx, s, msg, i);
    // The mistake: 50 ms of arithmetic right here, on the shared loop.
    uint64_t v = am_cpu_work(s->iters, M1_SEED);
    return troupe_reply(cx, msg, "{s:I s:U}", "i", i, "v", v);
}

// An isolated hasher: its own thread, so its 50 ms stall nobody else.
static int s_hasher_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)state;
    int64_t i;
    uint64_t iters;
    int rc = troupe_msg_read(msg, "{s:I s:U}", "i", &i, "iters", &iters);
    if (rc < 0)
        return troupe_reply_error(cx, msg, rc);
    uint64_t v = am_cpu_work(iters, M1_SEED);
    return troupe_reply(cx, msg, "{s:I s:U}", "i", i, "v", v);
}

// ---- the client (shared, loop 1): 50 in flight, each reply sends one more

typedef struct m1_client {
    troupe_addr service;
    int n;              // requests in all
    int sent, ended;    // so far
    troupe_deferred *d; // main's "run", answered when all n ended
    uint64_t expect;    // the right answer to a hash
    int64_t t0_us, t1_us;
    int64_t sent_us[M1_MAX];
    double light_ms[M1_MAX]; // latencies of the trivial requests
    size_t n_light;
    int ok;          // answered, with the right answer
    int hashes_ok;   // of which hashes
    int failed;      // ended with an error
    int first_error; // the first error's code
} m1_client;

static bool s_heavy(int i)
{
    return i % 10 == 5; // one in ten
}

static int s_client_send(troupe_ctx *cx, m1_client *c);

static int s_client_reply(troupe_ctx *cx, void *state, int status,
                          const troupe_msg *reply, void *arg)
{
    m1_client *c = state;
    int i = (int)(intptr_t)arg;
    double ms = (double)(am_now_us() - c->sent_us[i]) / 1000.0;
    c->ended++;
    int64_t got = -1;
    uint64_t v = 0;
    if (status == 0 && s_heavy(i))
        status = troupe_msg_read(reply, "{s:I s:U}", "i", &got, "v", &v);
    else if (status == 0)
        status = troupe_msg_read(reply, "{s:I}", "i", &got);
    if (status == 0 && got == i && (!s_heavy(i) || v == c->expect)) {
        c->ok++;
        c->hashes_ok += s_heavy(i);
        if (!s_heavy(i))
            c->light_ms[c->n_light++] = ms;
    } else {
        if (!c->failed++)
            c->first_error = status ? status : TROUPE_EBADMSG;
    }
    if (status == TROUPE_ECANCELED) // the client itself is ending
        return 0;
    if (c->ended == c->n) {
        c->t1_us = am_now_us();
        return troupe_deferred_reply(cx, &c->d, NULL);
    }
    return s_client_send(cx, c);
}

static int s_client_send(troupe_ctx *cx, m1_client *c)
{
    if (c->sent >= c->n)
        return 0;
    int i = c->sent++;
    c->sent_us[i] = am_now_us();
    int rc = troupe_request(
        cx, c->service, s_heavy(i) ? "hash" : "get", troupe_deadline_in(20000),
        s_client_reply, (void *)(intptr_t)i, NULL, "{s:I}", "i", (int64_t)i);
    if (rc < 0) // it ended at once: count it as ended (and failed) now
        return s_client_reply(cx, c, rc, NULL, (void *)(intptr_t)i);
    return 0;
}

static int s_client_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    m1_client *c = state;
    if (!troupe_msg_is(msg, "run"))
        return troupe_reply_error(cx, msg, TROUPE_ENOTSUP);
    int rc = troupe_defer(cx, msg, &c->d);
    if (rc < 0)
        return troupe_reply_error(cx, msg, rc);
    c->t0_us = am_now_us();
    for (int k = 0; k < M1_INFLIGHT && rc == 0; k++)
        rc = s_client_send(cx, c);
    return rc;
}

// ---- one variant on a fresh node ----

typedef struct m1_result {
    double req_per_s;
    double p50_ms, p99_ms; // of the trivial requests
    double cores;          // CPU time used / wall time: cores kept busy
    unsigned reports;      // the blocking detector's lines
    bool ran;
} m1_result;

static m1_result s_variant(m1_mode mode, int n, uint64_t expect)
{
    static const char *titles[] = {
        "hash on the shared loop (the mistake):",
        "hash on 2 isolated actors:",
        "hash in the offload pool:",
    };
    m1_result res = {0};
    troupe_node_opts o;
    troupe_node_opts_init(&o);
    // The blocking detector: a shared handler holding its loop past this is
    // reported. Default 100 ms (asyncio's slow_callback_duration); 20 here
    // so that a 50 ms hash shows.
    o.block_warn_ms = 20;
    am_node n2;
    if (!am_node_start(&n2, 2, &o))
        return res;

    static m1_service svc; // outlives the actors (they stop with the node)
    memset(&svc, 0, sizeof svc);
    svc.mode = mode;
    svc.iters = am_cpu_iters(50);
    bool up = true;
    for (int w = 0; mode == M1_ISOLATED && w < M1_WORKERS && up; w++) {
        troupe_actor_spec s = troupe_actor_spec_default();
        s.handler = s_hasher_handle;
        s.placement = TROUPE_ISOLATED; // a thread of its own
        up = am_ok(troupe_node_spawn(n2.node, &s, troupe_deadline_in(5000),
                                     &svc.workers[w]),
                   "spawn an isolated hasher");
    }
    troupe_addr service = TROUPE_ADDR_NONE, client = TROUPE_ADDR_NONE;
    up = up && am_spawn(&n2, s_service_handle, &svc, "service", TROUPE_LOOP(0),
                        &service);
    static m1_client cl;
    memset(&cl, 0, sizeof cl);
    cl.service = service;
    cl.n = n;
    cl.expect = expect;
    up = up &&
         am_spawn(&n2, s_client_handle, &cl, "client", TROUPE_LOOP(1), &client);
    troupe_msg *r = NULL;
    int64_t cpu0 = am_cpu_used_us(), wall0 = am_now_us();
    int rc = up ? troupe_call(n2.me, client, "run", troupe_deadline_in(30000),
                              &r, NULL)
                : TROUPE_ESTATE;
    res.cores =
        (double)(am_cpu_used_us() - cpu0) / (double)(am_now_us() - wall0 + 1);
    troupe_msg_destroy(&r);
    if (up && am_ok(rc, "the client's run")) {
        res.ran = true;
        res.req_per_s = n / ((double)(cl.t1_us - cl.t0_us) / 1e6);
        res.p99_ms = am_percentile(cl.light_ms, cl.n_light, 99);
        res.p50_ms = am_percentile(cl.light_ms, cl.n_light, 50);
        pthread_mutex_lock(&n2.log.mu);
        res.reports = n2.log.warn;
        pthread_mutex_unlock(&n2.log.mu);
        am_info("%-40s %4.0f req/s  trivial p50 %6.2f  p99 %6.2f ms  %.1f "
                "cores busy",
                titles[mode], res.req_per_s, res.p50_ms, res.p99_ms, res.cores);
        int hashes = n / 10;
        am_fact(cl.ok == n && cl.hashes_ok == hashes,
                "all %d requests answered, each of the %d hashes with the "
                "right value (%d failed%s%s)",
                n, hashes, cl.failed, cl.failed ? ", first: " : "",
                cl.failed ? troupe_errname(cl.first_error) : "");
        char who[32], line[320];
        am_addr_label(service, who, sizeof who);
        if (mode == M1_ON_LOOP) {
            bool named =
                am_log_find(&n2, line, sizeof line, who, "\"hash\"", NULL);
            am_fact(named,
                    "the blocking detector named the service (%s) and the "
                    "tag, %u reports:",
                    who, res.reports);
            if (named)
                am_info("  \"%s\"", line);
        } else {
            am_info("the blocking detector: %u reports", res.reports);
        }
    }
    am_node_finish(&n2);
    return res;
}

void mistake1_cpu(am_row *row)
{
    int n = am_opt.quick ? 100 : 200;
    printf("\n[1] CPU work blocks the event loop\n");
    am_info("a service on loop 0 answers \"get\" (trivial) and \"hash\" (50 ms "
            "of arithmetic);");
    am_info("a client on loop 1 keeps %d requests in flight, %d in all, one "
            "in ten a hash",
            M1_INFLIGHT, n);
    uint64_t expect = am_cpu_work(am_cpu_iters(50), M1_SEED);
    m1_result wrong = s_variant(M1_ON_LOOP, n, expect);
    m1_result iso = s_variant(M1_ISOLATED, n, expect);
    m1_result off = s_variant(M1_OFFLOAD, n, expect);
    if (!wrong.ran || !off.ran)
        return;
    double tput = off.req_per_s / wrong.req_per_s;
    double p99 = wrong.p99_ms / (off.p99_ms > 0.001 ? off.p99_ms : 0.001);
    am_info("offloaded vs on the loop: %.1fx the requests/s (2 cores bound "
            "it), trivial p99 %.0fx lower",
            tput, p99);
    if (iso.ran)
        am_info("isolated vs on the loop:  %.1fx the requests/s, trivial p99 "
                "%.0fx lower",
                iso.req_per_s / wrong.req_per_s,
                wrong.p99_ms / (iso.p99_ms > 0.001 ? iso.p99_ms : 0.001));
    snprintf(row->wrong, sizeof row->wrong, "%.0f req/s, trivial p99 %.1f ms",
             wrong.req_per_s, wrong.p99_ms);
    snprintf(row->right, sizeof row->right,
             "%.0f req/s, trivial p99 %.2f ms (offload)", off.req_per_s,
             off.p99_ms);
    snprintf(row->ratio, sizeof row->ratio, "%.1fx req/s, p99 %.0fx lower",
             tput, p99);
}
