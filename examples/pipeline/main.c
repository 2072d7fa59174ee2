// SPDX-License-Identifier: MIT
//
// troupe-pipeline: a pipeline across three processes. A producer, a
// transformer and a sink are process actors (placement TROUPE_PROCESS)
// under one rest_for_one supervisor. The producer sends 1,000 numbers to
// "transformer" by name, which squares each and sends it to "sink" by name,
// which sums them and answers "total". Each runs in a child process whose
// node knows none of these names: the sends go up to this process, whose
// node resolves them (the child specs registered them here). With --crash,
// the transformer is made to segfault half-way; the supervisor restarts it
// and the producer after it, and the producer starts its stream over. At
// the end the program checks the sink's totals against the formula and
// exits non-zero if they are wrong. The program is its own child: main()
// first asks troupe_proc_child() whether it was started as one. Uses only
// the public API (troupe/troupe.h).
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <troupe/troupe.h>

#if defined(__GNUC__)
#define PL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PL_PRINTF(f, a)
#endif

#define BURST 20      // items the producer sends per tick
#define TICK_MS 2     // between two bursts
#define WAIT_MS 30000 // the most main waits for the sink to be done

// ---- printing ------------------------------------------------------------

static int64_t s_t0_us;
static pthread_mutex_t s_print_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t s_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

// "[  12.345 ms] what   text". Called from main and the node's threads.
PL_PRINTF(2, 3) static void s_event(const char *what, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&s_print_lock);
    printf("[%9.3f ms] %-6s %s\n", (double)(s_now_us() - s_t0_us) / 1000.0,
           what, text);
    fflush(stdout);
    pthread_mutex_unlock(&s_print_lock);
}

// The library never prints: it hands its log lines to this hook. At
// TROUPE_LOG_INFO those are the processes that ended and the restarts.
static void s_log(void *arg, troupe_log_level level, const char *line)
{
    (void)arg;
    (void)level;
    s_event("log", "%s", line);
}

static int checks, failures;

// One checked outcome: "  ok   text" or "  FAIL text".
PL_PRINTF(2, 3) static void s_check(bool held, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    checks++;
    failures += !held;
    printf("  %-4s ", held ? "ok" : "FAIL");
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
}

static bool s_ok(int rc, const char *what)
{
    if (rc == 0)
        return true;
    s_check(false, "%s: %s (%s)", what, troupe_errname(rc),
            troupe_strerror(rc));
    return false;
}

// ---- the producer (a child process) ---------------------------------------

// One run of the producer: a stream of items 1..items, numbered by run.
typedef struct producer {
    int run;      // from the conductor; 0 until it answered
    int64_t next; // the next item's sequence number (0-based)
    int64_t items;
    uint64_t timer;
} producer;

// The conductor (in the parent) answered: [run, items]. Start sending.
static int producer_on_run(troupe_ctx *cx, void *state, int status,
                           const troupe_msg *reply, void *arg)
{
    (void)arg;
    producer *p = state;
    if (status)
        return status; // no run number: crash, and be restarted
    int rc = troupe_msg_read(reply, "[iI]", &p->run, &p->items);
    if (rc)
        return rc;
    return troupe_timer_start(cx, TICK_MS, TICK_MS, "burst", &p->timer);
}

static int producer_init(troupe_ctx *cx, void *state, void *arg)
{
    (void)state;
    (void)arg;
    // "conductor" is not a name this process's node knows: the request
    // goes up to the parent's node, which resolves it and carries the
    // answer back.
    return troupe_request_name(cx, "conductor", "run", TROUPE_DEADLINE_DEFAULT,
                               producer_on_run, NULL, NULL, "[i]",
                               (int)getpid());
}

// Each tick, BURST items [run, seq, value] to "transformer" (value =
// seq + 1); after the last one, "end [run, items]" by the same way, so
// it comes after them.
static int producer_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    producer *p = state;
    if (troupe_msg_kind_of(msg) != TROUPE_MSG_TIMER)
        return 0;
    for (int k = 0; k < BURST && p->next < p->items; k++, p->next++) {
        int rc = troupe_tell_name(cx, "transformer", "item", "[iII]", p->run,
                                  p->next, p->next + 1);
        if (rc)
            return rc; // an item lost here would be lost for good: crash
    }
    if (p->next < p->items)
        return 0;
    troupe_timer_cancel(cx, p->timer);
    return troupe_tell_name(cx, "transformer", "end", "[iI]", p->run, p->items);
}

// ---- the transformer (a child process) -------------------------------------

static int transformer_init(troupe_ctx *cx, void *state, void *arg)
{
    (void)cx;
    (void)state;
    (void)arg;
    struct rlimit no_core = {0, 0}; // --crash segfaults it: no core file
    setrlimit(RLIMIT_CORE, &no_core);
    return 0;
}

// "item [run, seq, v]" -> "item [run, seq, v*v]" to "sink"; "end" passes
// through; "crash" makes it segfault, the way a bug would.
static int transformer_handle(troupe_ctx *cx, void *state,
                              const troupe_msg *msg)
{
    (void)state;
    if (troupe_msg_is(msg, "item")) {
        int run;
        int64_t seq, v;
        int rc = troupe_msg_read(msg, "[iII]", &run, &seq, &v);
        return rc ? rc
                  : troupe_tell_name(cx, "sink", "item", "[iII]", run, seq,
                                     v * v);
    }
    if (troupe_msg_is(msg, "end")) {
        const void *body;
        size_t len;
        troupe_msg_body(msg, &body, &len);
        return troupe_tell_name(cx, "sink", "end", "r", body, len);
    }
    if (troupe_msg_is(msg, "crash")) {
        // The default action, as in a program with no handler for it (a
        // sanitizer's handler would print a report and abort instead).
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV); // the process ends here
    }
    return 0;
}

// ---- the sink (a child process) --------------------------------------------

// The totals of the latest run it has seen. An item of a newer run starts
// the totals over (the producer was restarted and sends its stream
// again); an item of an older run is dropped (stale).
typedef struct sink {
    int run;          // the run being counted (0: none yet)
    int runs;         // runs seen
    int64_t count;    // items of this run
    int64_t sum;      // their sum
    int64_t next_seq; // the sequence number expected next
    int64_t gaps;     // items that did not come in order (lost or extra)
    bool done;        // this run's "end" came
    int64_t cut;      // items counted of the last run that was cut short
    int64_t stale;    // items of an older run, dropped
} sink;

static void sink_new_run(sink *s, int run)
{
    if (s->run && !s->done)
        s->cut = s->count;
    s->run = run;
    s->runs++;
    s->count = s->sum = s->next_seq = s->gaps = 0;
    s->done = false;
}

// Is run the one being counted? An item of a newer run starts the totals
// over; one of an older run is stale.
static bool sink_counts(sink *s, int run)
{
    if (run < s->run) {
        s->stale++;
        return false;
    }
    if (run > s->run)
        sink_new_run(s, run);
    return true;
}

// "item [run, seq, v]": add it. "end [run, items]": the run is complete.
// "total" -> {run, runs, count, sum, gaps, done, cut, stale}.
static int sink_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    sink *s = state;
    int run;
    int64_t a, b;
    if (troupe_msg_is(msg, "item")) {
        int rc = troupe_msg_read(msg, "[iII]", &run, &a, &b); // seq, v
        if (rc)
            return rc;
        if (sink_counts(s, run)) {
            s->gaps += a != s->next_seq;
            s->next_seq = a + 1;
            s->count++;
            s->sum += b;
        }
        return 0;
    }
    if (troupe_msg_is(msg, "end")) {
        int rc = troupe_msg_read(msg, "[iI]", &run, &a); // items sent
        if (rc)
            return rc;
        if (sink_counts(s, run)) {
            s->done = true;
            s->gaps += a != s->count; // some never came
        }
        return 0;
    }
    if (troupe_msg_is(msg, "total"))
        return troupe_reply(cx, msg, "{s:i s:i s:I s:I s:I s:b s:I s:I}", "run",
                            s->run, "runs", s->runs, "count", s->count, "sum",
                            s->sum, "gaps", s->gaps, "done", s->done, "cut",
                            s->cut, "stale", s->stale);
    if (troupe_msg_kind_of(msg) == TROUPE_MSG_REQUEST)
        return troupe_reply_error(cx, msg, TROUPE_ENOTSUP);
    return 0;
}

// What this program serves when started as a process actor.
static const troupe_proc_kind s_kinds[] = {
    {.kind = "producer",
     .actor = {.handler = producer_handle,
               .init = producer_init,
               .state_size = sizeof(producer)}},
    {.kind = "transformer",
     .actor = {.handler = transformer_handle, .init = transformer_init}},
    {.kind = "sink",
     .actor = {.handler = sink_handle, .state_size = sizeof(sink)}},
};

// ---- the conductor (in this process) ---------------------------------------

// Hands each producer run its number and the stream's length.
typedef struct conductor {
    int64_t items;
    int runs;
} conductor;

static int conductor_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    conductor *c = state;
    if (!troupe_msg_is(msg, "run"))
        return troupe_reply_error(cx, msg, TROUPE_ENOTSUP);
    int pid = 0;
    troupe_msg_read(msg, "[i]", &pid);
    c->runs++;
    s_event("run", "run %d: the producer (pid %d) sends %" PRId64 " items",
            c->runs, pid, c->items);
    return troupe_reply(cx, msg, "[iI]", c->runs, c->items);
}

// ---- main -------------------------------------------------------------------

// The sink's "total".
typedef struct totals {
    int run, runs;
    int64_t count, sum, gaps, cut, stale;
    bool done;
} totals;

static int s_totals(troupe_client *me, totals *t)
{
    troupe_msg *r = NULL;
    int rc = troupe_call_name(me, "sink", "total", troupe_deadline_in(2000), &r,
                              NULL);
    if (rc == 0)
        rc = troupe_msg_read(r, "{s:i s:i s:I s:I s:I s:b s:I s:I}", "run",
                             &t->run, "runs", &t->runs, "count", &t->count,
                             "sum", &t->sum, "gaps", &t->gaps, "done", &t->done,
                             "cut", &t->cut, "stale", &t->stale);
    troupe_msg_destroy(&r);
    return rc;
}

static void s_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static troupe_child_spec s_stage(const char *name, const troupe_proc_spec *ps)
{
    troupe_child_spec c;
    troupe_child_spec_init(&c);
    c.id = name;
    c.actor.name = name; // registered in this process's node
    c.actor.placement = TROUPE_PROCESS;
    c.actor.process = ps;
    return c;
}

static void s_usage(void)
{
    fprintf(stderr, "usage: troupe-pipeline [--items N] [--crash]\n");
    exit(2);
}

static bool s_run(troupe_node *node, int64_t items, bool crash, conductor *cond)
{
    troupe_actor_spec s = troupe_actor_spec_default();
    s.name = "conductor";
    s.handler = conductor_handle;
    s.state = cond;
    troupe_addr cond_addr;
    if (!s_ok(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &cond_addr),
              "spawn conductor"))
        return false;

    // The three stages, each a process actor of its own kind. Started in
    // this order (each one's downstream first), stopped in reverse.
    troupe_proc_spec ps[3];
    const char *kinds[3] = {"sink", "transformer", "producer"};
    troupe_child_spec kids[3];
    for (int i = 0; i < 3; i++) {
        troupe_proc_spec_init(&ps[i]);
        ps[i].kind = kinds[i];
        ps[i].shutdown_ms = 2000;
        // Silent for two heartbeats: taken for hung, killed and restarted.
        // 1 s rather than the default 200 ms leaves room for a loaded
        // machine (sanitizers, CI).
        ps[i].heartbeat_ms = 1000;
        kids[i] = s_stage(kinds[i], &ps[i]);
    }
    troupe_sup_spec sup;
    troupe_sup_spec_init(&sup);
    sup.strategy = TROUPE_REST_FOR_ONE;
    sup.intensity = 5; // a stage in a crash loop: give up within 10 s
    sup.period_ms = 10000;
    sup.children = kids;
    sup.n_children = 3;
    sup.name = "pipeline";
    troupe_addr sup_addr;
    if (!s_ok(troupe_node_sup_start(node, &sup, troupe_deadline_in(30000),
                                    &sup_addr),
              "start the pipeline"))
        return false;
    int pid0[3];
    troupe_addr stage[3];
    for (int i = 0; i < 3; i++) {
        if (!s_ok(troupe_whereis(node, kinds[i], &stage[i]), "whereis"))
            return false;
        pid0[i] = troupe_proc_pid(node, stage[i]);
    }
    s_event("start", "sink pid %d, transformer pid %d, producer pid %d",
            pid0[0], pid0[1], pid0[2]);

    // Wait until the sink has the whole stream of the run that counts
    // (with --crash: of a run after the crash). Ask it every 5 ms; with
    // --crash, make the transformer segfault once a third has come.
    troupe_client *me;
    if (!s_ok(troupe_client_new(node, &me), "troupe_client_new"))
        return false;
    totals t = {0};
    int crashed_in_run = 0;
    int64_t until = troupe_deadline_in(WAIT_MS);
    int rc = 0;
    bool finished = false;
    while (!finished && troupe_now() < until) {
        // An error here (TROUPE_EDEAD...) means the sink is between two
        // processes: ask again.
        rc = s_totals(me, &t);
        if (rc == 0 && crash && !crashed_in_run && t.count >= items / 3) {
            s_event("crash",
                    "the sink has %" PRId64 " items of run %d: "
                    "the transformer (pid %d) is told to segfault",
                    t.count, t.run, troupe_proc_pid(node, stage[1]));
            if (troupe_client_tell_name(me, "transformer", "crash", NULL) == 0)
                crashed_in_run = t.run;
        }
        finished = rc == 0 && t.done &&
                   (!crash || (crashed_in_run && t.run > crashed_in_run));
        if (!finished)
            s_sleep_ms(5);
    }
    troupe_client_destroy(&me);
    if (!finished) {
        s_check(false, "the sink finished within %d s (its last answer: %s)",
                WAIT_MS / 1000, troupe_errname(rc));
        return false;
    }
    s_event("done", "the sink has run %d: %" PRId64 " items, sum %" PRId64,
            t.run, t.count, t.sum);
    int pid1[3];
    for (int i = 0; i < 3; i++)
        pid1[i] = troupe_proc_pid(node, stage[i]);
    troupe_sup_stats st = {0};
    s_ok(troupe_sup_stats_get(node, sup_addr, troupe_deadline_in(5000), &st),
         "troupe_sup_stats_get");

    // 1^2 + 2^2 + ... + n^2
    int64_t want = items * (items + 1) * (2 * items + 1) / 6;
    printf("\nsummary\n");
    printf("  sink: run %d of %d seen, %" PRId64
           " items, sum of squares %" PRId64 " (expected %" PRId64 ")\n",
           t.run, t.runs, t.count, t.sum, want);
    printf("        out of order or missing: %" PRId64 "; stale items dropped: "
           "%" PRId64 "; items of a run cut short: %" PRId64 "\n",
           t.gaps, t.stale, t.cut);
    printf("  pids: sink %d -> %d, transformer %d -> %d, producer %d -> %d\n",
           pid0[0], pid1[0], pid0[1], pid1[1], pid0[2], pid1[2]);
    printf("  pipeline supervisor: %" PRIu64 " restarts, %u of %u running\n",
           st.restarts, st.running, st.children);

    printf("\nchecks\n");
    s_check(t.done, "the sink got the end of the stream of run %d", t.run);
    s_check(t.count == items && t.sum == want,
            "its totals are exact: %" PRId64 " items (want %" PRId64
            "), sum %" PRId64 " (want %" PRId64 ")",
            t.count, items, t.sum, want);
    s_check(t.gaps == 0,
            "every item of that run came once and in order "
            "(%" PRId64 " out of place)",
            t.gaps);
    if (!crash) {
        s_check(t.run == 1 && st.restarts == 0 && pid1[0] == pid0[0] &&
                    pid1[1] == pid0[1] && pid1[2] == pid0[2],
                "no crash, no restart: one run, the same three processes");
    } else {
        s_check(pid1[1] != pid0[1] && pid1[2] != pid0[2] && st.restarts == 2,
                "the transformer's crash restarted it and the producer "
                "after it (rest_for_one): new pids, %" PRIu64 " restarts",
                st.restarts);
        s_check(pid1[0] == pid0[0],
                "the sink, started before the transformer, kept running "
                "(pid %d)",
                pid1[0]);
        s_check(t.run == crashed_in_run + 1,
                "the restarted producer sent its stream again as run %d, "
                "and the sink started its totals over (dropping the %" PRId64
                " items it had of run %d, cut short)",
                t.run, t.cut, crashed_in_run);
    }
    return true;
}

int main(int argc, char **argv)
{
    // Started as one of the stages? Then serve it, and exit when the
    // parent stops us (or goes away). Before anything else starts a thread.
    int code;
    if (troupe_proc_child(s_kinds, sizeof s_kinds / sizeof s_kinds[0], &code))
        return code;

    int64_t items = 1000;
    bool crash = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--items") == 0 && i + 1 < argc)
            items = strtoll(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--crash") == 0)
            crash = true;
        else
            s_usage();
    }
    if (items < 3 || items > 1000000)
        s_usage();
    s_t0_us = s_now_us();
    printf("troupe-pipeline: %" PRId64 " items through three processes%s\n"
           "  pipeline      rest_for_one supervisor of three process actors, "
           "started in this order:\n"
           "  |- sink         sums what comes; answers \"total\"\n"
           "  |- transformer  squares each item, tells it to \"sink\"\n"
           "  `- producer     asks \"conductor\" for a run number, then tells "
           "each item to \"transformer\"\n"
           "  conductor     an actor in this process: numbers the producer's "
           "runs\n\n",
           items, crash ? "; the transformer will crash once" : "");

    troupe_node_opts o;
    troupe_node_opts_init(&o);
    o.loops = 2;
    o.log = s_log;
    o.log_level = TROUPE_LOG_INFO; // processes that end, restarts
    troupe_node *node;
    if (!s_ok(troupe_node_new(&node, &o), "troupe_node_new"))
        return 1;
    static conductor cond;
    cond.items = items;
    bool ran = s_run(node, items, crash, &cond);

    int rc = troupe_node_stop(node, troupe_deadline_in(10000));
    troupe_node_stats st = {0};
    troupe_node_stats_get(node, &st);
    troupe_node_destroy(&node);
    s_check(rc == 0 && st.live_actors == 0 && st.live_threads == 0,
            "node stopped: %s, %" PRIu64 " actors and %" PRIu64 " threads left",
            troupe_errname(rc), st.live_actors, st.live_threads);
    if (!ran)
        failures++;
    printf("%d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
