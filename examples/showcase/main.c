// SPDX-License-Identifier: MIT
//
// troupe-showcase: a guided tour of troupe that runs real actors and prints,
// section by section, what happened and how long it took. Each section starts
// a fresh node so its numbers stand alone: (1) actors with private state and
// msgpack messages, (2) requests that always end exactly once, (3) CPU work
// kept off the shared loops, (4) refusals that are never silent, (5) monitors
// and links. It uses only the public API (troupe/troupe.h) and exits non-zero
// if any expected outcome does not happen, so CTest can run it.
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <troupe/troupe.h>

#if defined(__GNUC__)
#define SHOW_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SHOW_PRINTF(f, a)
#endif

// ---- reporting --------------------------------------------------------------

static int checks;            // expected outcomes checked
static int failures;          // expected outcomes that did not happen
static bool verbose;          // -v: show the library's log lines on stderr
static atomic_uint log_lines; // lines the library logged (any node)

// One fact: "  ok   text" if it held, "  FAIL text" if not (and count it).
SHOW_PRINTF(2, 3) static void s_fact(bool held, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    checks++;
    if (!held)
        failures++;
    printf("  %-4s ", held ? "ok" : "FAIL");
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
}

// A plain line of information (a measurement, not a check).
SHOW_PRINTF(1, 2) static void s_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("       ");
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
}

// For set-up calls that must work: report a failure by error name.
static bool s_ok(int rc, const char *what)
{
    if (rc == 0)
        return true;
    s_fact(false, "%s: %s (%s)", what, troupe_errname(rc), troupe_strerror(rc));
    return false;
}

// The library never prints; it hands its log lines to this hook, from any
// of the node's threads (so it must be thread-safe: stdio is). With -v the
// nodes log at debug level: actor exits, shutdown steps and the like.
static void s_log(void *arg, troupe_log_level level, const char *line)
{
    (void)arg;
    atomic_fetch_add(&log_lines, 1);
    if (verbose)
        fprintf(stderr, "[troupe log %d] %s\n", (int)level, line);
}

// Microseconds on the monotonic clock, for latencies finer than troupe_now().
static int64_t s_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double s_ms_since(int64_t t0_us)
{
    return (double)(s_now_us() - t0_us) / 1000.0;
}

// ---- nodes ------------------------------------------------------------------

// A node with two loops (threads for shared actors) and the log hook above,
// and a client handle for main. false (reported) if either failed.
static bool s_node_start(troupe_node **node, troupe_client **me)
{
    troupe_node_opts o;
    troupe_node_opts_init(&o);
    o.loops = 2;
    o.log = s_log;
    o.log_level = verbose ? TROUPE_LOG_DEBUG : TROUPE_LOG_WARN;
    *node = NULL;
    *me = NULL;
    if (!s_ok(troupe_node_new(node, &o), "troupe_node_new"))
        return false;
    if (!s_ok(troupe_client_new(*node, me), "troupe_client_new")) {
        troupe_node_destroy(node);
        return false;
    }
    return true;
}

// Stop the node, check that every message it counted ended somewhere
// (sent == delivered + dead_lettered + refused, which holds at rest) and
// that nothing was left running, then free it. Prints the counters if asked.
static void s_node_finish(troupe_node **node, troupe_client **me, bool print)
{
    troupe_client_destroy(me);
    if (!*node)
        return;
    int rc = troupe_node_stop(*node, troupe_deadline_in(5000));
    troupe_node_stats st = {0};
    troupe_node_stats_get(*node, &st);
    troupe_node_destroy(node);
    bool same = st.sent == st.delivered + st.dead_lettered + st.refused;
    if (print) {
        s_info("node stats: sent %llu, delivered %llu, dead_lettered %llu, "
               "refused %llu",
               (unsigned long long)st.sent, (unsigned long long)st.delivered,
               (unsigned long long)st.dead_lettered,
               (unsigned long long)st.refused);
        s_fact(same,
               "sent == delivered + dead_lettered + refused "
               "(%llu == %llu + %llu + %llu)",
               (unsigned long long)st.sent, (unsigned long long)st.delivered,
               (unsigned long long)st.dead_lettered,
               (unsigned long long)st.refused);
    } else if (!same) {
        s_fact(false,
               "message identity broken: sent %llu != %llu + %llu + %llu",
               (unsigned long long)st.sent, (unsigned long long)st.delivered,
               (unsigned long long)st.dead_lettered,
               (unsigned long long)st.refused);
    }
    if (rc != 0 || st.live_actors || st.live_threads || st.live_sockets)
        s_fact(false,
               "node stopped clean: %s, %llu actors, %llu threads, "
               "%llu sockets left",
               troupe_errname(rc), (unsigned long long)st.live_actors,
               (unsigned long long)st.live_threads,
               (unsigned long long)st.live_sockets);
}

static troupe_actor_spec s_spec(troupe_handler_fn handler, void *state)
{
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = handler;
    s.state = state;
    return s;
}

// Wait for the next message to the client that has this tag (other
// messages are dropped). 0 and *out (caller frees it), or an error code.
static int s_await(troupe_client *me, const char *tag, int64_t deadline,
                   troupe_msg **out)
{
    for (;;) {
        int rc = troupe_client_recv(me, deadline, out);
        if (rc)
            return rc;
        if (troupe_msg_is(*out, tag))
            return 0;
        troupe_msg_destroy(out);
    }
}

// ---- a gate: how main releases a handler it made wait -----------------------

// Handlers below that "hang" wait on a gate that main opens once it has seen
// what it wanted to show. The wait is bounded so nothing can hang for real.
typedef struct gate {
    pthread_mutex_t mu; // guards open
    pthread_cond_t cv;  // signalled when open turns true
    bool open;          // the waiters may go
} gate;

static void s_gate_init(gate *g)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, &ca);
    pthread_condattr_destroy(&ca);
    g->open = false;
}

static void s_gate_fini(gate *g)
{
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
}

static void s_gate_open(gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

// Wait until the gate opens, at most 10 s. true if it opened.
static bool s_gate_wait(gate *g)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&g->mu);
    int rc = 0;
    while (!g->open && rc == 0)
        rc = pthread_cond_timedwait(&g->cv, &g->mu, &until);
    bool open = g->open;
    pthread_mutex_unlock(&g->mu);
    return open;
}

// ---- 1. actors with private state ----------------------------------------

// A counter service. Its state is private: only its handler touches it, and
// always on the same thread, so it needs no lock.
typedef struct counter {
    int64_t count; // the running total
    int64_t adds;  // "add" messages applied
} counter;

static int counter_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    counter *c = state;
    bool request = troupe_msg_kind_of(msg) == TROUPE_MSG_REQUEST;
    if (troupe_msg_is(msg, "add")) {
        int64_t n;
        int rc = troupe_msg_read(msg, "{s:I}", "n", &n); // typed, bounded
        if (rc == 0) {
            c->count += n;
            c->adds++;
        }
        if (!request)
            return 0; // a tell: nobody to answer (a bad one is dropped)
        if (rc)
            return troupe_reply_error(cx, msg, rc);
        return troupe_reply(cx, msg, "{s:I}", "count", c->count);
    }
    if (troupe_msg_is(msg, "get"))
        return troupe_reply(cx, msg, "{s:I s:I}", "count", c->count, "adds",
                            c->adds);
    return request ? troupe_reply_error(cx, msg, TROUPE_ENOTSUP) : 0;
}

// Ask a counter for its total: 0 and *count, or the call's error.
static int s_counter_get(troupe_client *me, troupe_addr who, int64_t *count)
{
    troupe_msg *r = NULL;
    int rc = troupe_call(me, who, "get", troupe_deadline_in(1000), &r, NULL);
    if (rc == 0)
        rc = troupe_msg_read(r, "{s:I}", "count", count);
    troupe_msg_destroy(&r);
    return rc;
}

static void s_section_state(void)
{
    printf("\n[1] Actors own their state and talk in msgpack messages\n");
    troupe_node *node;
    troupe_client *me;
    if (!s_node_start(&node, &me))
        return;
    troupe_actor_spec s = s_spec(counter_handler, NULL);
    s.state_size = sizeof(counter); // the runtime allocates it, zeroed
    s.name = "counter";
    troupe_addr a, b;
    if (!s_ok(troupe_node_spawn(node, &s, troupe_deadline_in(1000), &a),
              "spawn counter"))
        goto out;
    s.name = NULL;
    if (!s_ok(troupe_node_spawn(node, &s, troupe_deadline_in(1000), &b),
              "spawn second counter"))
        goto out;
    s_info("spawned two counters on shared loops; the first is registered "
           "as \"counter\"");

    // tell: one-way, no waiting. 1000 of them, body {"n": i}.
    int64_t t0 = s_now_us();
    int told = 0;
    for (int64_t i = 0; i < 1000; i++)
        told +=
            troupe_client_tell_name(me, "counter", "add", "{s:I}", "n", i) == 0;
    double tell_ms = s_ms_since(t0);
    s_fact(told == 1000,
           "1000 tells \"add\" {n: i} sent without waiting (%.2f ms)", tell_ms);

    // call: a request with a deadline; FIFO means it sees every add above.
    t0 = s_now_us();
    troupe_msg *r = NULL;
    int rc = troupe_call_name(me, "counter", "get", troupe_deadline_in(1000),
                              &r, NULL);
    int64_t count = -1, adds = -1;
    if (rc == 0)
        rc = troupe_msg_read(r, "{s:I s:I}", "count", &count, "adds", &adds);
    troupe_msg_destroy(&r);
    s_fact(rc == 0 && count == 499500 && adds == 1000,
           "call \"get\" -> {count: %lld, adds: %lld} = 0+1+...+999, "
           "in %.2f ms",
           (long long)count, (long long)adds, s_ms_since(t0));

    // The same handler, another actor: its own state.
    rc = troupe_call(me, b, "add", troupe_deadline_in(1000), &r, "{s:I}", "n",
                     (int64_t)7);
    troupe_msg_destroy(&r);
    int64_t other = -1;
    if (rc == 0)
        rc = s_counter_get(me, b, &other);
    s_fact(rc == 0 && other == 7,
           "the second counter has its own state: count %lld",
           (long long)other);
out:
    s_node_finish(&node, &me, false);
}

// ---- 2. every request ends exactly once -----------------------------------

// Divides, and crashes on a division by zero: the handler returns an error
// code instead of replying. The actor ends with that code as its reason.
static int divider_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)state;
    int64_t a, b;
    int rc = troupe_msg_read(msg, "{s:I s:I}", "a", &a, "b", &b);
    if (rc)
        return troupe_reply_error(cx, msg, rc);
    if (b == 0)
        return TROUPE_EUSER - 1; // crash (an application's exit reason)
    return troupe_reply(cx, msg, "{s:I}", "q", a / b);
}

// An isolated actor whose "nap" handler blocks until main opens the gate,
// then answers: too late, its caller has already timed out.
static int sloth_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    gate *g = state;
    if (troupe_msg_is(msg, "nap") && !s_gate_wait(g))
        return TROUPE_ETIMEDOUT;
    return troupe_reply(cx, msg, "{s:s}", "says", "yawn");
}

static void s_section_requests(void)
{
    printf("\n[2] Every request ends exactly once: reply, error, dead or "
           "timeout\n");
    troupe_node *node;
    troupe_client *me;
    gate g;
    s_gate_init(&g);
    if (!s_node_start(&node, &me))
        goto out_gate;
    troupe_actor_spec s = s_spec(counter_handler, NULL);
    s.state_size = sizeof(counter);
    troupe_addr ctr, div, sloth;
    if (!s_ok(troupe_node_spawn(node, &s, troupe_deadline_in(1000), &ctr),
              "spawn counter"))
        goto out;
    s = s_spec(divider_handler, NULL);
    if (!s_ok(troupe_node_spawn(node, &s, troupe_deadline_in(1000), &div),
              "spawn divider"))
        goto out;
    s = s_spec(sloth_handler, &g);
    s.placement = TROUPE_ISOLATED; // its own thread: blocking is allowed
    if (!s_ok(troupe_node_spawn(node, &s, troupe_deadline_in(1000), &sloth),
              "spawn sloth"))
        goto out;

    troupe_msg *r = NULL;
    int64_t t0 = s_now_us();
    int rc = troupe_call(me, ctr, "add", troupe_deadline_in(1000), &r, "{s:I}",
                         "n", (int64_t)5);
    int64_t count = -1;
    if (rc == 0)
        troupe_msg_read(r, "{s:I}", "count", &count);
    troupe_msg_destroy(&r);
    s_fact(rc == 0 && count == 5,
           "reply:   \"add\" {n: 5} -> {count: %lld} in %.2f ms",
           (long long)count, s_ms_since(t0));

    t0 = s_now_us();
    rc = troupe_call(me, ctr, "add", troupe_deadline_in(1000), &r, "{s:s}", "n",
                     "five");
    s_fact(rc == TROUPE_ETYPE,
           "error:   \"add\" {n: \"five\"} -> %s (%s) in %.2f ms",
           troupe_errname(rc), troupe_strerror(rc), s_ms_since(t0));

    t0 = s_now_us();
    rc = troupe_call(me, div, "divide", troupe_deadline_in(2000), &r,
                     "{s:I s:I}", "a", (int64_t)1, "b", (int64_t)0);
    double crash_ms = s_ms_since(t0);
    s_fact(rc == TROUPE_EDEAD && crash_ms < 1000,
           "crash:   \"divide\" {a: 1, b: 0} -> %s after %.2f ms, not at the "
           "2000 ms deadline",
           troupe_errname(rc), crash_ms);

    t0 = s_now_us();
    int64_t deadline = troupe_deadline_in(200);
    rc = troupe_call(me, sloth, "nap", deadline, &r, NULL);
    double nap_ms = s_ms_since(t0);
    s_fact(rc == TROUPE_ETIMEDOUT && troupe_now() >= deadline,
           "hang:    \"nap\" to a blocked isolated actor -> %s after %.1f ms "
           "(deadline 200 ms)",
           troupe_errname(rc), nap_ms);

    t0 = s_now_us();
    rc = troupe_call_name(me, "nobody", "hello", troupe_deadline_in(1000), &r,
                          NULL);
    s_fact(rc == TROUPE_ENOENT,
           "no one: \"hello\" to the unregistered name "
           "\"nobody\" -> %s in %.2f ms",
           troupe_errname(rc), s_ms_since(t0));

    // Wake the sloth: it answers the "nap" that already ended. The answer
    // must not be taken for the next reply, so it is dropped and counted.
    s_gate_open(&g);
    rc = troupe_call(me, sloth, "hello", troupe_deadline_in(1000), &r, NULL);
    troupe_msg_destroy(&r);
    troupe_node_stats st = {0};
    troupe_node_stats_get(node, &st);
    s_fact(rc == 0 && st.late_replies == 1,
           "the sloth's late answer was dropped, not delivered: "
           "late_replies = %llu",
           (unsigned long long)st.late_replies);
out:
    // On every way out: never stop a node while a handler waits on the gate.
    s_gate_open(&g);
    s_node_finish(&node, &me, false);
out_gate:
    s_gate_fini(&g);
}

// ---- 3. CPU work off the loop (mistake 1) ---------------------------------

#define PINGS 200       // pings per measurement
#define PING_EVERY_MS 2 // one ping every 2 ms: 400 ms of steady traffic
#define JOB_MS 300      // the CPU job's length

// A CPU-bound job: mixes numbers until ms have passed (a stand-in for
// parsing, compressing or hashing). Returns the mix so it is not optimised
// away.
static uint64_t s_crunch(int64_t ms)
{
    int64_t end = troupe_now() + ms;
    uint64_t x = 88172645463325252u;
    do {
        for (int i = 0; i < 100000; i++) { // xorshift64
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
    } while (troupe_now() < end);
    return x;
}

// The light actor whose latency is measured: it answers "ping" at once.
static int ping_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)state;
    return troupe_reply(cx, msg, NULL);
}

// Runs the CPU job when told "crunch", then tells the sender "crunched".
static int cruncher_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)state;
    int64_t ms = 0;
    int rc = troupe_msg_read(msg, "{s:I}", "ms", &ms);
    if (rc)
        return rc;
    int64_t t0 = s_now_us();
    uint64_t mix = s_crunch(ms);
    return troupe_tell(cx, troupe_msg_sender(msg), "crunched", "{s:I s:U}",
                       "us", s_now_us() - t0, "mix", mix);
}

// The prober: on "probe", pings the target every PING_EVERY_MS from a
// timer, PINGS times, and replies with the latency percentiles in us. It
// lives on another loop than the target, so it keeps its own pace whatever
// happens to the target's loop: like clients arriving at a steady rate.
typedef struct prober {
    troupe_addr target;      // the ping actor
    troupe_deferred *waiter; // the "probe" request, answered at the end
    uint64_t timer;          // the tick timer
    int sent, done, errors;  // pings sent, ended, ended with an error
    int64_t t_sent[PINGS];   // when each ping left (us)
    int64_t lat[PINGS];      // how long each took (us)
} prober;

static int s_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int s_prober_finish(troupe_ctx *cx, prober *p)
{
    if (p->done < PINGS || !p->waiter)
        return 0;
    qsort(p->lat, PINGS, sizeof p->lat[0], s_cmp_i64);
    return troupe_deferred_reply(cx, &p->waiter, "{s:I s:I s:I s:i}", "p50",
                                 p->lat[PINGS / 2], "p99",
                                 p->lat[PINGS * 99 / 100], "max",
                                 p->lat[PINGS - 1], "errors", p->errors);
}

static int s_on_pong(troupe_ctx *cx, void *state, int status,
                     const troupe_msg *reply, void *arg)
{
    (void)reply;
    prober *p = state;
    if (status == TROUPE_ECANCELED)
        return 0; // the prober is ending
    int i = (int)(intptr_t)arg;
    p->lat[i] = s_now_us() - p->t_sent[i];
    p->errors += status != 0;
    p->done++;
    return s_prober_finish(cx, p);
}

static int prober_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    prober *p = state;
    if (troupe_msg_kind_of(msg) == TROUPE_MSG_TIMER) {
        if (p->sent == PINGS)
            return 0;
        int i = p->sent++;
        if (p->sent == PINGS)
            troupe_timer_cancel(cx, p->timer);
        p->t_sent[i] = s_now_us();
        int rc = troupe_request(cx, p->target, "ping", troupe_deadline_in(5000),
                                s_on_pong, (void *)(intptr_t)i, NULL, NULL);
        if (rc) { // never sent: counts as an error, and as done
            p->lat[i] = 0;
            p->errors++;
            p->done++;
        }
        return s_prober_finish(cx, p);
    }
    if (troupe_msg_is(msg, "probe")) {
        if (p->waiter)
            return troupe_reply_error(cx, msg, TROUPE_EAGAIN);
        int rc = troupe_defer(cx, msg, &p->waiter);
        if (rc)
            return rc;
        p->sent = p->done = p->errors = 0;
        return troupe_timer_start(cx, PING_EVERY_MS, PING_EVERY_MS, "tick",
                                  &p->timer);
    }
    return 0;
}

// Latency percentiles of one measurement, in microseconds.
typedef struct latency {
    int64_t p50, p99, max; // percentiles and worst
    int errors;            // pings that failed
} latency;

// Measure ping latency; if job is valid, tell it to crunch JOB_MS first and
// wait for it to finish as well. true if everything ended as it should.
static bool s_measure(troupe_client *me, troupe_addr prober_addr,
                      troupe_addr job, latency *out)
{
    if (troupe_addr_valid(job) &&
        !s_ok(troupe_client_tell(me, job, "crunch", "{s:I}", "ms",
                                 (int64_t)JOB_MS),
              "tell crunch"))
        return false;
    troupe_msg *r = NULL;
    int rc = troupe_call(me, prober_addr, "probe", troupe_deadline_in(5000), &r,
                         NULL);
    if (rc == 0)
        rc = troupe_msg_read(r, "{s:I s:I s:I s:i}", "p50", &out->p50, "p99",
                             &out->p99, "max", &out->max, "errors",
                             &out->errors);
    troupe_msg_destroy(&r);
    if (!s_ok(rc, "probe"))
        return false;
    if (troupe_addr_valid(job)) {
        rc = s_await(me, "crunched", troupe_deadline_in(5000), &r);
        troupe_msg_destroy(&r);
        if (!s_ok(rc, "wait for the job's end"))
            return false;
    }
    return out->errors == 0;
}

static void s_print_latency(const char *what, const latency *l)
{
    s_info("%-34s p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms", what,
           (double)l->p50 / 1000, (double)l->p99 / 1000, (double)l->max / 1000);
}

static void s_section_offload(void)
{
    printf("\n[3] CPU work off the loop: a %d ms job next to a light "
           "actor\n",
           JOB_MS);
    troupe_node *node;
    troupe_client *me;
    if (!s_node_start(&node, &me))
        return;
    static prober p; // large (3 KiB): kept off the stack
    memset(&p, 0, sizeof p);
    troupe_actor_spec s = s_spec(ping_handler, NULL);
    s.loop = TROUPE_LOOP(0);
    troupe_addr job_iso, job_shared, pa;
    if (!s_ok(troupe_node_spawn(node, &s, troupe_deadline_in(1000), &p.target),
              "spawn ping"))
        goto out;
    s = s_spec(prober_handler, &p);
    s.loop = TROUPE_LOOP(1);
    if (!s_ok(troupe_node_spawn(node, &s, troupe_deadline_in(1000), &pa),
              "spawn prober"))
        goto out;
    s = s_spec(cruncher_handler, NULL);
    s.placement = TROUPE_ISOLATED;
    if (!s_ok(troupe_node_spawn(node, &s, troupe_deadline_in(1000), &job_iso),
              "spawn isolated cruncher"))
        goto out;
    s.placement = TROUPE_SHARED;
    s.loop = TROUPE_LOOP(0); // the ping actor's loop
    if (!s_ok(
            troupe_node_spawn(node, &s, troupe_deadline_in(1000), &job_shared),
            "spawn shared cruncher"))
        goto out;
    s_info("ping actor on loop 0; a prober on loop 1 pings it every %d ms, "
           "%d times",
           PING_EVERY_MS, PINGS);

    latency idle, iso, shared;
    if (!s_measure(me, pa, TROUPE_ADDR_NONE, &idle) ||
        !s_measure(me, pa, job_iso, &iso) ||
        !s_measure(me, pa, job_shared, &shared)) {
        s_fact(false, "all pings answered");
        goto out;
    }
    s_print_latency("no job running:", &idle);
    s_print_latency("job on an ISOLATED actor:", &iso);
    s_print_latency("job on a SHARED actor, same loop:", &shared);
    // Behaviour, not speed: no ping waited for the job to end (a slow or
    // loaded machine may still make every ping slow).
    s_fact(iso.max < (JOB_MS - 100) * 1000,
           "isolated job: the loop kept answering (slowest ping %.2f ms, "
           "never behind the %d ms job)",
           (double)iso.max / 1000, JOB_MS);
    s_fact(shared.max >= (JOB_MS - 100) * 1000,
           "same job on the loop: pings waited up to %.0f ms behind it "
           "(mistake 1)",
           (double)shared.max / 1000);
out:
    s_node_finish(&node, &me, false);
}

// ---- 4. no silent loss -----------------------------------------------------

// An isolated actor that, told "block", tells its sender "blocked" and
// waits on the gate. It acknowledges each "work" with a "done" to its
// sender, counts every message it handles, and answers "count".
typedef struct stuck {
    gate *gate;  // what "block" waits on
    int handled; // messages handled
} stuck;

static int stuck_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    stuck *s = state;
    s->handled++;
    if (troupe_msg_is(msg, "block")) {
        int rc = troupe_tell(cx, troupe_msg_sender(msg), "blocked", NULL);
        if (rc == 0 && !s_gate_wait(s->gate))
            rc = TROUPE_ETIMEDOUT;
        return rc;
    }
    if (troupe_msg_is(msg, "work"))
        return troupe_tell(cx, troupe_msg_sender(msg), "done", NULL);
    if (troupe_msg_is(msg, "count"))
        return troupe_reply(cx, msg, "i", s->handled);
    return 0;
}

// On "raw", an actor tries to tell its target a body of raw msgpack bytes,
// and answers with what troupe_tell_raw() returned. Raw bodies can only be
// sent from actors.
static int relay_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    troupe_addr to = *(troupe_addr *)state;
    const void *body;
    size_t len;
    int rc = troupe_msg_read(msg, "{s:y}", "bytes", &body, &len);
    if (rc == 0)
        rc = troupe_tell_raw(cx, to, "x", body, len);
    return troupe_reply(cx, msg, "i", rc);
}

static void s_section_loss(void)
{
    printf("\n[4] No silent loss: every refusal is a code and a count\n");
    troupe_node *node;
    troupe_client *me;
    gate g;
    s_gate_init(&g);
    stuck st = {&g, 0};
    if (!s_node_start(&node, &me))
        goto out_gate;
    troupe_actor_spec s = s_spec(stuck_handler, &st);
    s.placement = TROUPE_ISOLATED;
    s.mailbox_bound = 4;
    troupe_addr busy, temp, relay;
    if (!s_ok(troupe_node_spawn(node, &s, troupe_deadline_in(1000), &busy),
              "spawn busy actor"))
        goto out;

    // A full mailbox: block the actor, fill its 4 places, try a 5th.
    troupe_msg *m = NULL;
    int rc = troupe_client_tell(me, busy, "block", NULL);
    if (rc == 0)
        rc = s_await(me, "blocked", troupe_deadline_in(2000), &m);
    troupe_msg_destroy(&m);
    if (!s_ok(rc, "block the busy actor"))
        goto out;
    int queued = 0;
    for (int i = 0; i < 4; i++)
        queued += troupe_client_tell(me, busy, "work", NULL) == 0;
    rc = troupe_client_tell(me, busy, "work", NULL);
    s_fact(queued == 4 && rc == TROUPE_EFULL,
           "mailbox bound 4: 4 tells queued, the 5th -> %s (%s)",
           troupe_errname(rc), troupe_strerror(rc));
    int64_t t0 = s_now_us();
    rc = troupe_call(me, busy, "count", troupe_deadline_in(1000), &m, NULL);
    double full_ms = s_ms_since(t0);
    s_fact(rc == TROUPE_EFULL && full_ms < 500,
           "a call to it fails at once, not at its deadline -> %s in %.2f ms",
           troupe_errname(rc), full_ms);
    // Release it, and wait until it acknowledged the 4 queued messages.
    s_gate_open(&g);
    rc = 0;
    for (int i = 0; i < 4 && rc == 0; i++) {
        rc = s_await(me, "done", troupe_deadline_in(2000), &m);
        troupe_msg_destroy(&m);
    }
    int handled = -1;
    if (rc == 0)
        rc = troupe_call(me, busy, "count", troupe_deadline_in(1000), &m, NULL);
    if (rc == 0)
        rc = troupe_msg_read(m, "i", &handled);
    troupe_msg_destroy(&m);
    s_fact(rc == 0 && handled == 6,
           "released, it handled what was queued: "
           "%d messages (block, 4 work, count)",
           handled);

    // A dead actor: stop one, wait for its down message, then tell it.
    s = s_spec(ping_handler, NULL);
    uint64_t ref;
    rc = troupe_node_spawn(node, &s, troupe_deadline_in(1000), &temp);
    if (rc == 0)
        rc = troupe_client_monitor(me, temp, &ref);
    if (rc == 0)
        rc = troupe_node_stop_actor(node, temp, 0);
    if (rc == 0)
        rc = s_await(me, "down", troupe_deadline_in(2000), &m);
    troupe_msg_destroy(&m);
    if (!s_ok(rc, "stop an actor"))
        goto out;
    rc = troupe_client_tell(me, temp, "hello", NULL);
    s_fact(rc == TROUPE_EDEAD, "tell to an actor that ended -> %s (%s)",
           troupe_errname(rc), troupe_strerror(rc));

    // A malformed body: a map32 header that claims 4294967295 entries.
    static const unsigned char bad[] = {0xdd, 0xff, 0x00, 0x00, 0x00};
    s = s_spec(relay_handler, &busy);
    if (!s_ok(troupe_node_spawn(node, &s, troupe_deadline_in(1000), &relay),
              "spawn relay"))
        goto out;
    int raw_rc = 1;
    rc = troupe_call(me, relay, "raw", troupe_deadline_in(1000), &m, "{s:y}",
                     "bytes", bad, sizeof bad);
    if (rc == 0)
        rc = troupe_msg_read(m, "i", &raw_rc);
    troupe_msg_destroy(&m);
    s_fact(rc == 0 && raw_rc == TROUPE_ELIMIT,
           "tell_raw(dd ff 00 00 00), a map claiming 2^32-1 entries -> %s (%s)",
           troupe_errname(raw_rc), troupe_strerror(raw_rc));

    troupe_node_stats ns = {0};
    troupe_node_stats_get(node, &ns);
    s_fact(ns.refused == 3 && ns.dead_lettered >= 1,
           "counted: refused %llu (full, full, malformed), dead_lettered %llu",
           (unsigned long long)ns.refused,
           (unsigned long long)ns.dead_lettered);
out:
    s_gate_open(&g); // as in section 2
    s_node_finish(&node, &me, true);
out_gate:
    s_gate_fini(&g);
}

// ---- 5. monitors and links -------------------------------------------------

// Parses {n: int}; a body it cannot read makes it crash with the read's
// code. Crashing is fine: someone watches it.
static int parser_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)cx;
    (void)state;
    int n;
    return troupe_msg_read(msg, "{s:i}", "n", &n);
}

// One of a linked pair. Its init links it to its partner (if any). Told
// "crash" {code}, it crashes with that code. Trapping exits, it reports the
// exit message to `report` and goes on.
typedef struct buddy {
    troupe_addr partner; // linked to at init, if valid
    troupe_addr report;  // where trapped exits are told
} buddy;

static int buddy_init(troupe_ctx *cx, void *state, void *arg)
{
    (void)arg;
    buddy *b = state;
    return troupe_addr_valid(b->partner) ? troupe_link(cx, b->partner) : 0;
}

// The partner answered "ping": the link, sent before the ping on the same
// path, is in place on its side too.
static int buddy_synced(troupe_ctx *cx, void *state, int status,
                        const troupe_msg *reply, void *arg)
{
    (void)state;
    (void)reply;
    troupe_deferred *d = arg;
    return status ? troupe_deferred_error(cx, &d, status)
                  : troupe_deferred_reply(cx, &d, NULL);
}

static int buddy_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    buddy *b = state;
    if (troupe_msg_is(msg, "sync")) {
        // Messages from different senders are ordered only per pair (as in
        // Erlang): main's next message to the partner could overtake the
        // link request. A round trip to the partner settles it.
        troupe_deferred *d;
        int rc = troupe_defer(cx, msg, &d);
        if (rc == 0)
            rc = troupe_request(cx, b->partner, "ping", TROUPE_DEADLINE_DEFAULT,
                                buddy_synced, d, NULL, NULL);
        return rc;
    }
    if (troupe_msg_kind_of(msg) == TROUPE_MSG_EXIT)
        return troupe_tell(cx, b->report, "exit-seen", "i",
                           troupe_msg_code(msg));
    if (troupe_msg_is(msg, "crash")) {
        int code = 0;
        int rc = troupe_msg_read(msg, "{s:i}", "code", &code);
        return rc ? rc : code;
    }
    return troupe_reply(cx, msg, NULL); // "ping"
}

static troupe_addr s_spawn_buddy(troupe_node *node, buddy *b, bool trap)
{
    troupe_actor_spec s = s_spec(buddy_handler, b);
    s.init = buddy_init;
    s.trap_exit = trap;
    troupe_addr a = TROUPE_ADDR_NONE;
    s_ok(troupe_node_spawn(node, &s, troupe_deadline_in(1000), &a),
         "spawn buddy");
    return a;
}

// Wait for down messages until both a and b have ended; their reasons go to
// *ra and *rb. Returns 0 or the wait's error.
static int s_await_two_downs(troupe_client *me, troupe_addr a, int *ra,
                             troupe_addr b, int *rb)
{
    int seen = 0;
    while (seen != 3) {
        troupe_msg *m = NULL;
        int rc = s_await(me, "down", troupe_deadline_in(2000), &m);
        if (rc)
            return rc;
        troupe_addr who = troupe_msg_sender(m);
        if (troupe_addr_eq(who, a)) {
            *ra = troupe_msg_code(m);
            seen |= 1;
        } else if (troupe_addr_eq(who, b)) {
            *rb = troupe_msg_code(m);
            seen |= 2;
        }
        troupe_msg_destroy(&m);
    }
    return 0;
}

static void s_section_monitors(void)
{
    printf("\n[5] Monitors and links: failures travel, as in Erlang\n");
    troupe_node *node;
    troupe_client *me;
    if (!s_node_start(&node, &me))
        return;
    troupe_addr me_addr = troupe_client_addr(me);

    // A monitor: main watches a parser and feeds it a body it cannot read.
    troupe_actor_spec s = s_spec(parser_handler, NULL);
    troupe_addr parser;
    uint64_t ref;
    troupe_msg *m = NULL;
    int rc = troupe_node_spawn(node, &s, troupe_deadline_in(1000), &parser);
    if (rc == 0)
        rc = troupe_client_monitor(me, parser, &ref);
    if (!s_ok(rc, "spawn and monitor the parser"))
        goto out;
    int64_t t0 = s_now_us();
    rc = troupe_client_tell(me, parser, "parse", "{s:s}", "n", "seven");
    if (rc == 0)
        rc = s_await(me, "down", troupe_deadline_in(2000), &m);
    int reason = rc ? 0 : troupe_msg_code(m);
    bool same_ref = rc == 0 && troupe_msg_ref(m) == ref &&
                    troupe_addr_eq(troupe_msg_sender(m), parser);
    troupe_msg_destroy(&m);
    s_fact(rc == 0 && same_ref && reason == TROUPE_ETYPE,
           "monitored parser fed {n: \"seven\"}: down message after %.2f ms, "
           "reason %s",
           s_ms_since(t0), troupe_errname(reason));

    // A link: b is linked to a; a crashes, b goes down with the same reason.
    buddy ba = {TROUPE_ADDR_NONE, me_addr}, bb = {TROUPE_ADDR_NONE, me_addr};
    troupe_addr a = s_spawn_buddy(node, &ba, false);
    bb.partner = a;
    troupe_addr b = s_spawn_buddy(node, &bb, false);
    uint64_t ra_ref, rb_ref;
    rc = troupe_addr_valid(b) ? 0 : TROUPE_EINVAL;
    if (rc == 0)
        rc = troupe_call(me, b, "sync", troupe_deadline_in(1000), &m, NULL);
    troupe_msg_destroy(&m);
    if (rc == 0)
        rc = troupe_client_monitor(me, a, &ra_ref);
    if (rc == 0)
        rc = troupe_client_monitor(me, b, &rb_ref);
    // A round trip to b after the monitor request, on the same path: b has
    // the monitor before a's exit can reach it (senders are ordered per
    // pair only, and a's exit comes from another thread).
    if (rc == 0)
        rc = troupe_call(me, b, "sync", troupe_deadline_in(1000), &m, NULL);
    troupe_msg_destroy(&m);
    if (rc == 0)
        rc =
            troupe_client_tell(me, a, "crash", "{s:i}", "code", TROUPE_EBADMSG);
    int ra = 0, rb = 0;
    if (rc == 0)
        rc = s_await_two_downs(me, a, &ra, b, &rb);
    s_fact(rc == 0 && ra == TROUPE_EBADMSG && rb == TROUPE_EBADMSG,
           "linked pair, A crashes with %s: B goes down too, reason %s",
           troupe_errname(ra), troupe_errname(rb));

    // The same, but c traps exits: it gets a message and lives on.
    buddy bd = {TROUPE_ADDR_NONE, me_addr}, bc = {TROUPE_ADDR_NONE, me_addr};
    troupe_addr d = s_spawn_buddy(node, &bd, false);
    bc.partner = d;
    troupe_addr c = s_spawn_buddy(node, &bc, true);
    rc = troupe_addr_valid(c) ? 0 : TROUPE_EINVAL;
    if (rc == 0)
        rc = troupe_call(me, c, "sync", troupe_deadline_in(1000), &m, NULL);
    troupe_msg_destroy(&m);
    if (rc == 0)
        rc =
            troupe_client_tell(me, d, "crash", "{s:i}", "code", TROUPE_EBADMSG);
    int trapped = 0;
    if (rc == 0)
        rc = s_await(me, "exit-seen", troupe_deadline_in(2000), &m);
    if (rc == 0)
        rc = troupe_msg_read(m, "i", &trapped);
    troupe_msg_destroy(&m);
    if (rc == 0)
        rc = troupe_call(me, c, "ping", troupe_deadline_in(1000), &m, NULL);
    troupe_msg_destroy(&m);
    s_fact(rc == 0 && trapped == TROUPE_EBADMSG,
           "linked pair, C traps exits: it got an exit message (%s) and "
           "still answers",
           troupe_errname(trapped));
out:
    s_node_finish(&node, &me, false);
}

// ---- main ------------------------------------------------------------------

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
            verbose = true;
        } else {
            fprintf(stderr,
                    "usage: %s [-v]  (-v: show troupe's debug log on stderr)\n",
                    argv[0]);
            return 2;
        }
    }
    printf("troupe %d.%d.%d showcase: actors in C over ZeroMQ, msgpack "
           "messages, deadlines\n",
           TROUPE_VERSION_MAJOR, TROUPE_VERSION_MINOR, TROUPE_VERSION_PATCH);
    printf("Each section runs on a fresh node with 2 loops; \"ok\" marks an "
           "outcome checked.\n");
    int64_t t0 = s_now_us();
    s_section_state();
    s_section_requests();
    s_section_offload();
    s_section_loss();
    s_section_monitors();
    printf("\n%d outcomes checked, %d failed, in %.2f s; the library logged "
           "%u lines%s\n",
           checks, failures, s_ms_since(t0) / 1000, atomic_load(&log_lines),
           verbose ? " at debug level" : " at warn level (-v: debug)");
    return failures ? 1 : 0;
}
