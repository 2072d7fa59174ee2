// SPDX-License-Identifier: MIT
//
// troupe-workers: a worker-pool service whose workers are processes. A
// front actor in the parent spreads requests over N worker processes
// (placement TROUPE_PROCESS) under a one_for_one supervisor, while a chaos
// timer kills random workers with SIGKILL or makes them segfault. A client
// actor sends 10,000 requests, each with a deadline, at most 32 in flight
// through a limiter. At the end the program prints how many were answered,
// how many failed and with which code, how many workers were restarted,
// and checks that every request ended exactly once; it exits non-zero
// otherwise. The program is its own worker: main() first asks
// troupe_proc_child() whether it was started as one. Uses only the public
// API (troupe/troupe.h).
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
#define WK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define WK_PRINTF(f, a)
#endif

#define MAX_WORKERS 64
#define WINDOW 32        // requests the client keeps in flight
#define DEADLINE_MS 3000 // each request's deadline, from when it is made
#define SHOWN_EVENTS 16  // event lines printed before going quiet
#define MAX_PIDS 4096    // worker processes the client tells apart

// ---- printing ------------------------------------------------------------

static int64_t s_t0_us;
static bool s_verbose;
static int s_shown; // event lines printed so far
static pthread_mutex_t s_print_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t s_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

// "[  12.345 ms] what   text", for the first SHOWN_EVENTS events (all of
// them with --verbose). Called from the node's threads, so one lock keeps
// each line whole.
WK_PRINTF(2, 3) static void s_event(const char *what, const char *fmt, ...)
{
    pthread_mutex_lock(&s_print_lock);
    if (s_verbose || s_shown < SHOWN_EVENTS) {
        char text[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
        printf("[%9.3f ms] %-6s %s\n", (double)(s_now_us() - s_t0_us) / 1000.0,
               what, text);
    } else if (s_shown == SHOWN_EVENTS) {
        printf("             ...    (more of the same; --verbose prints "
               "every event)\n");
    }
    s_shown++;
    fflush(stdout);
    pthread_mutex_unlock(&s_print_lock);
}

// The library never prints: it hands its log lines to this hook. At
// TROUPE_LOG_INFO those are each worker process that ended (and why) and
// each restart its supervisor made.
static void s_log(void *arg, troupe_log_level level, const char *line)
{
    (void)arg;
    (void)level;
    s_event("log", "%s", line);
}

static int checks, failures;

// One checked outcome: "  ok   text" or "  FAIL text".
WK_PRINTF(2, 3) static void s_check(bool held, const char *fmt, ...)
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

// ---- the work: what a worker process computes -----------------------------

// The number of request i: an odd 32-bit number, scattered (splitmix64).
static uint64_t s_number(uint64_t i)
{
    uint64_t z = i * 0x9e3779b97f4a7c15u + 0x2545f4914f6cdd1du;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return ((z ^ (z >> 31)) >> 32) | 1;
}

// Its smallest prime factor, by trial division: n itself when n is prime
// (up to 32,768 divisions). Real work, but small; and the client can check
// an answer with one division.
static uint32_t s_smallest_factor(uint32_t n)
{
    if (n % 2 == 0)
        return 2;
    for (uint32_t d = 3; (uint64_t)d * d <= n; d += 2)
        if (n % d == 0)
            return d;
    return n;
}

// ---- the worker: runs in a child process ----------------------------------

static int worker_init(troupe_ctx *cx, void *state, void *arg)
{
    (void)cx;
    (void)state;
    (void)arg;
    // Chaos makes workers segfault hundreds of times: no core files.
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    return 0;
}

// "work [n]" -> [n, smallest factor of n, pid]; "ping" -> pid. "segv":
// crash the way a bug would, with a segmentation fault (chaos sends it).
static int worker_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)state;
    if (troupe_msg_is(msg, "work")) {
        uint32_t n;
        int rc = troupe_msg_read(msg, "[u]", &n);
        if (rc)
            return troupe_reply_error(cx, msg, rc);
        return troupe_reply(cx, msg, "[uui]", n, s_smallest_factor(n),
                            (int)getpid());
    }
    if (troupe_msg_is(msg, "ping"))
        return troupe_reply(cx, msg, "i", (int)getpid());
    if (troupe_msg_is(msg, "segv")) {
        // The default action, as in a program with no handler for it (a
        // sanitizer's handler would print a report and abort instead).
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV); // the process ends here: nothing below runs
    }
    if (troupe_msg_kind_of(msg) == TROUPE_MSG_REQUEST)
        return troupe_reply_error(cx, msg, TROUPE_ENOTSUP);
    return 0;
}

// What this program serves when started as a process actor.
static const troupe_proc_kind s_kinds[] = {
    {.kind = "worker",
     .actor = {.handler = worker_handle, .init = worker_init}},
};

// ---- the front: spreads requests over the workers (in the parent) ---------

typedef struct front {
    troupe_node *node;
    troupe_addr workers[MAX_WORKERS];
    int up_pid[MAX_WORKERS]; // the process of each that answered last
    int probes[MAX_WORKERS]; // requests in flight to a process not known up
    int n_workers;
    int next;       // round robin
    long forwarded; // requests sent to a worker, retries included
    long retried;   // requests whose worker died, sent to another one
    long retry_ok;  // ...and answered there
} front;

// One client request the front owes an answer to.
typedef struct job {
    troupe_deferred *reply; // the client's answer, owed
    uint32_t n;
    int64_t deadline; // the client's, kept for a retry
    int worker;       // where it went last (-1: nowhere yet)
    bool probe;       // ...to a process not known to be up
    int tries;
} job;

// Whom to send to: the next worker in turn, skipping `avoid` (where a
// retry comes from), that is up or may be. troupe_proc_pid() says which
// process serves a worker now (0: none; it died and its supervisor has
// not started the next yet). The worker is up when that process has
// answered the front before (up_pid). A new process that has not answered
// yet may still be starting, and what is sent to a starting worker waits
// in its mailbox until it is up: it gets one request at a time (a probe),
// and the others go on to the next worker. If no worker qualifies, the
// next in turn all the same: its mailbox keeps the request.
static int front_pick(front *f, int avoid, bool *probe)
{
    int n = f->n_workers;
    for (int k = 0; k < n; k++) {
        int w = (f->next + k) % n;
        int pid = troupe_proc_pid(f->node, f->workers[w]);
        if (w == avoid || pid == 0)
            continue;
        *probe = pid != f->up_pid[w];
        if (!*probe || f->probes[w] == 0) {
            f->next = w + 1;
            return w;
        }
    }
    int w = f->next % n;
    if (w == avoid && n > 1)
        w = (w + 1) % n;
    f->next = w + 1;
    *probe = false;
    return w;
}

static int front_on_answer(troupe_ctx *cx, void *state, int status,
                           const troupe_msg *reply, void *arg);

// Send job j to a worker (another one than last time). 0, or the code the
// send failed with (then its callback will not run).
static int front_send(troupe_ctx *cx, front *f, job *j)
{
    j->worker = front_pick(f, j->worker, &j->probe);
    j->tries++;
    f->forwarded++;
    int rc = troupe_request(cx, f->workers[j->worker], "work", j->deadline,
                            front_on_answer, j, NULL, "[u]", j->n);
    if (rc == 0 && j->probe)
        f->probes[j->worker]++;
    return rc;
}

// A worker's answer, or how its request ended. TROUPE_EDEAD means the
// worker's process died before it answered: the work is a pure function,
// so it is safe to do again, and the front retries once on another worker.
// TROUPE_EFULL is retried too: in the moment between a worker process's
// death and its proxy noticing, a request may be refused with it rather
// than TROUPE_EDEAD (see the README). Anything else (an answer, a second
// failure, TROUPE_ETIMEDOUT at the client's deadline) goes back to the client
// as it is.
static int front_on_answer(troupe_ctx *cx, void *state, int status,
                           const troupe_msg *reply, void *arg)
{
    front *f = state;
    job *j = arg;
    if (j->probe)
        f->probes[j->worker]--;
    if ((status == TROUPE_EDEAD || status == TROUPE_EFULL) && j->tries < 2) {
        f->retried++;
        status = front_send(cx, f, j);
        if (status == 0)
            return 0; // this callback runs again with the retry's end
    } else if (status == 0 && j->tries == 2) {
        f->retry_ok++;
    }
    if (status == 0) {
        uint32_t n, factor;
        int pid;
        if (troupe_msg_read(reply, "[uui]", &n, &factor, &pid) == 0)
            f->up_pid[j->worker] = pid; // that process is up
        const void *body;
        size_t len;
        troupe_msg_body(reply, &body, &len);
        troupe_deferred_reply(cx, &j->reply, "r", body, len);
    } else {
        troupe_deferred_error(cx, &j->reply, status);
    }
    free(j);
    return 0;
}

static int front_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    front *f = state;
    if (troupe_msg_is(msg, "work")) {
        job *j = calloc(1, sizeof *j);
        if (!j)
            return troupe_reply_error(cx, msg, TROUPE_ENOMEM);
        int rc = troupe_msg_read(msg, "[u]", &j->n);
        if (rc == 0)
            rc = troupe_defer(cx, msg, &j->reply);
        if (rc) {
            free(j);
            return troupe_reply_error(cx, msg, rc);
        }
        j->deadline = troupe_msg_deadline(msg);
        j->worker = -1;
        rc = front_send(cx, f, j);
        if (rc) {
            troupe_deferred_error(cx, &j->reply, rc);
            free(j);
        }
        return 0;
    }
    if (troupe_msg_is(msg, "stats"))
        return troupe_reply(cx, msg, "[III]", (int64_t)f->forwarded,
                            (int64_t)f->retried, (int64_t)f->retry_ok);
    return troupe_reply_error(cx, msg, TROUPE_ENOTSUP);
}

// ---- chaos: kills workers from a timer, and watches them die --------------

typedef struct chaos {
    troupe_node *node;
    troupe_addr workers[MAX_WORKERS];
    int n_workers;
    bool on;
    int64_t every_ms;
    uint64_t rng;
    uint64_t timer;
    int down;          // the worker killed last, until it answers (-1: none)
    int64_t killed_at; // when
    int sigkills;      // kill(pid, SIGKILL) done
    int segvs;         // "segv" sent: the worker segfaults itself
    int back;          // killed workers that answered again
    int64_t back_ms;   // ...the sum of the times that took
    int64_t back_max;  // ...and the longest
    int downs;         // worker runs that ended (down messages)
    int died_kill;     // ...of which killed by SIGKILL
    int died_segv;     // ...by SIGSEGV
    int died_other;    // ...some other way
    int other_reason;  // ...the last such reason
} chaos;

// splitmix64: the same seed gives the same choices on every machine.
static uint64_t s_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static int chaos_init(troupe_ctx *cx, void *state, void *arg)
{
    (void)arg;
    chaos *c = state;
    c->down = -1;
    // A monitor on each worker: its down message says how its process
    // ended. A worker keeps its address through its restarts, so the same
    // address is monitored again after each down message.
    for (int w = 0; w < c->n_workers; w++) {
        int rc = troupe_monitor(cx, c->workers[w], NULL);
        if (rc)
            return rc;
    }
    if (!c->on)
        return 0;
    return troupe_timer_start(cx, c->every_ms, c->every_ms, "kill", &c->timer);
}

static void chaos_ping(troupe_ctx *cx, chaos *c);

// The killed worker answered "ping": it is back, with a new process. An
// answer that did not come (TROUPE_EDEAD, or TROUPE_EFULL, see the front)
// means the ping reached the process that was dying: ask again; it waits
// in the worker's mailbox until the next process is up.
static int chaos_on_pong(troupe_ctx *cx, void *state, int status,
                         const troupe_msg *reply, void *arg)
{
    (void)reply;
    (void)arg;
    chaos *c = state;
    if (status == TROUPE_ECANCELED)
        return 0; // chaos is ending
    if (status == TROUPE_EDEAD || status == TROUPE_EFULL) {
        chaos_ping(cx, c);
        return 0;
    }
    int64_t took = troupe_now() - c->killed_at;
    if (status == 0) {
        c->back++;
        c->back_ms += took;
        c->back_max = took > c->back_max ? took : c->back_max;
    }
    c->down = -1;
    return 0;
}

static void chaos_ping(troupe_ctx *cx, chaos *c)
{
    if (troupe_request(cx, c->workers[c->down], "ping",
                       troupe_deadline_in(30000), chaos_on_pong, NULL, NULL,
                       NULL) != 0)
        c->down = -1;
}

// One tick: a random worker, by SIGKILL from here or by a segfault of its
// own. One at a time: while the worker killed last has not answered
// again, ticks pass. So kills come every every_ms, or as fast as the pool
// brings workers back if that takes longer.
static void chaos_kill_one(troupe_ctx *cx, chaos *c)
{
    if (c->down >= 0)
        return;
    int w = (int)(s_random(&c->rng) % (uint64_t)c->n_workers);
    bool segv = s_random(&c->rng) & 1;
    int pid = troupe_proc_pid(c->node, c->workers[w]);
    if (pid == 0)
        return;
    if (segv) {
        s_event("chaos", "worker %d (pid %d): told to segfault", w, pid);
        if (troupe_tell(cx, c->workers[w], "segv", NULL) != 0)
            return;
        c->segvs++;
    } else {
        s_event("chaos", "worker %d (pid %d): kill -KILL", w, pid);
        if (kill(pid, SIGKILL) != 0)
            return;
        c->sigkills++;
    }
    c->down = w;
    c->killed_at = troupe_now();
    chaos_ping(cx, c);
}

static int chaos_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    chaos *c = state;
    switch (troupe_msg_kind_of(msg)) {
    case TROUPE_MSG_TIMER:
        chaos_kill_one(cx, c);
        return 0;
    case TROUPE_MSG_DOWN: {
        int reason = troupe_msg_code(msg);
        int sig = troupe_proc_signal_of(reason);
        c->downs++;
        if (sig == SIGKILL) {
            c->died_kill++;
        } else if (sig == SIGSEGV) {
            c->died_segv++;
        } else {
            c->died_other++;
            c->other_reason = reason;
        }
        return troupe_monitor(cx, troupe_msg_sender(msg), NULL);
    }
    default:
        break;
    }
    if (troupe_msg_is(msg, "stop")) { // no more kills: how many were made
        if (c->on)
            troupe_timer_cancel(cx, c->timer);
        c->on = false;
        return troupe_reply(cx, msg, "[ii]", c->sigkills, c->segvs);
    }
    if (troupe_msg_is(msg, "report")) // how the processes ended, and came back
        return troupe_reply(cx, msg, "{s:i s:i s:i s:i s:i s:i s:I s:I}",
                            "downs", c->downs, "kill", c->died_kill, "segv",
                            c->died_segv, "other", c->died_other,
                            "other_reason", c->other_reason, "back", c->back,
                            "back_ms", c->back_ms, "back_max", c->back_max);
    return troupe_reply_error(cx, msg, TROUPE_ENOTSUP);
}

// ---- the client: 10,000 requests, 32 in flight (in the parent) -----------

typedef struct client {
    troupe_addr front;
    troupe_limiter *lim;
    long total;           // requests to make
    long sent, ended;     // made; ended (callback, or refused at once)
    long answered, wrong; // answers; answers that do not check out
    long primes;          // answers saying n is prime
    long failed[32];      // failures by code: [-code] for -31..-1
    long failed_other;    // failures with other codes
    int pids[MAX_PIDS];   // worker processes that answered
    int n_pids;
    troupe_deferred *go; // main's "go", answered once every request ended
} client;

static void client_pump(troupe_ctx *cx, client *c);

static void client_failed(client *c, int code)
{
    if (code < 0 && code > -32)
        c->failed[-code]++;
    else
        c->failed_other++;
}

static void client_saw_pid(client *c, int pid)
{
    for (int k = 0; k < c->n_pids; k++)
        if (c->pids[k] == pid)
            return;
    if (c->n_pids < MAX_PIDS)
        c->pids[c->n_pids++] = pid;
}

// The end of one request: an answer or an error, exactly once.
static int client_on_reply(troupe_ctx *cx, void *state, int status,
                           const troupe_msg *reply, void *arg)
{
    client *c = state;
    uint32_t n = (uint32_t)(uintptr_t)arg, got, factor;
    int pid;
    c->ended++;
    if (status) {
        client_failed(c, status);
    } else if (troupe_msg_read(reply, "[uui]", &got, &factor, &pid) != 0 ||
               got != n || factor < 2 || n % factor != 0) {
        c->wrong++;
    } else {
        c->answered++;
        c->primes += factor == n;
        client_saw_pid(c, pid);
    }
    if (status != TROUPE_ECANCELED) // canceled: the client is ending
        client_pump(cx, c);
    return 0;
}

// Make requests until the limiter's queue is full (WINDOW in flight and
// WINDOW waiting); each end makes room for the next. Answer "go" when
// every request has ended.
static void client_pump(troupe_ctx *cx, client *c)
{
    while (c->sent < c->total) {
        uint32_t n = (uint32_t)s_number((uint64_t)c->sent);
        int rc = troupe_limiter_request(
            c->lim, c->front, "work", troupe_deadline_in(DEADLINE_MS),
            client_on_reply, (void *)(uintptr_t)n, NULL, "[u]", n);
        if (rc == TROUPE_EFULL)
            break; // room comes with the next end
        c->sent++;
        if (rc) { // refused at once: its callback will not run
            c->ended++;
            client_failed(c, rc);
        }
    }
    if (c->go && c->ended == c->total)
        troupe_deferred_reply(cx, &c->go, NULL);
}

static int client_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    client *c = state;
    if (!troupe_msg_is(msg, "go"))
        return troupe_reply_error(cx, msg, TROUPE_ENOTSUP);
    int rc = troupe_limiter_new(cx, WINDOW, WINDOW, &c->lim);
    if (rc == 0)
        rc = troupe_defer(cx, msg, &c->go);
    if (rc)
        return troupe_reply_error(cx, msg, rc);
    client_pump(cx, c);
    return 0;
}

static void client_fini(void *state, int reason)
{
    (void)reason;
    troupe_limiter_destroy(&((client *)state)->lim);
}

// ---- main -------------------------------------------------------------------

typedef struct opts {
    int workers;
    long requests;
    bool chaos;
    int64_t kill_every_ms;
    uint64_t seed;
} opts;

static void s_usage(void)
{
    fprintf(stderr,
            "usage: troupe-workers [--workers N] [--requests M] [--seed S]\n"
            "                      [--no-chaos] [--kill-every MS] "
            "[--verbose]\n");
    exit(2);
}

static opts s_parse(int argc, char **argv)
{
    opts o = {
        .workers = 4, .requests = 10000, .chaos = true, .kill_every_ms = 50};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if (strcmp(a, "--workers") == 0 && more)
            o.workers = atoi(argv[++i]);
        else if (strcmp(a, "--requests") == 0 && more)
            o.requests = strtol(argv[++i], NULL, 0);
        else if (strcmp(a, "--seed") == 0 && more)
            o.seed = strtoull(argv[++i], NULL, 0);
        else if (strcmp(a, "--kill-every") == 0 && more)
            o.kill_every_ms = strtoll(argv[++i], NULL, 0);
        else if (strcmp(a, "--no-chaos") == 0)
            o.chaos = false;
        else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0)
            s_verbose = true;
        else
            s_usage();
    }
    if (o.workers < 1 || o.workers > MAX_WORKERS || o.requests < 1 ||
        o.kill_every_ms < 1)
        s_usage();
    if (o.seed == 0)
        o.seed = (uint64_t)s_now_us() ^ ((uint64_t)getpid() << 32);
    return o;
}

// The pool: one_for_one over N process actors of kind "worker".
static int s_start_pool(troupe_node *node, const opts *o, troupe_addr *pool)
{
    troupe_proc_spec ps;
    troupe_proc_spec_init(&ps);
    ps.kind = "worker";    // what troupe_proc_child serves in the child
    ps.shutdown_ms = 2000; // at the end: "$stop", SIGTERM at 1 s, SIGKILL
    // A worker silent for two heartbeats is taken for hung: killed and
    // restarted. The default (200 ms) is quick to notice; 1 s leaves room
    // for a loaded machine (sanitizers, CI), where a healthy process can go
    // unscheduled for half a second.
    ps.heartbeat_ms = 1000;

    char ids[MAX_WORKERS][24];
    troupe_child_spec kids[MAX_WORKERS];
    for (int w = 0; w < o->workers; w++) {
        snprintf(ids[w], sizeof ids[w], "worker-%d", w);
        troupe_child_spec_init(&kids[w]);
        kids[w].id = ids[w];
        kids[w].actor.name = ids[w]; // registered in this process's node
        kids[w].actor.placement = TROUPE_PROCESS;
        kids[w].actor.process = &ps;
    }
    troupe_sup_spec sup;
    troupe_sup_spec_init(&sup);
    sup.strategy = TROUPE_ONE_FOR_ONE;
    // Chaos kills about 50 workers a second. OTP's default (1 restart in
    // 5 s) would make the pool give up at the second kill; 1000 restarts
    // in 1 s is far above what chaos does and still stops a worker that
    // cannot start at all (one crashing at once, in a loop) within a
    // second or so.
    sup.intensity = 1000;
    sup.period_ms = 1000;
    sup.children = kids;
    sup.n_children = (size_t)o->workers;
    sup.name = "pool";
    sup.seed = o->seed;
    return troupe_node_sup_start(node, &sup, troupe_deadline_in(30000), pool);
}

// The pool's counters once it is whole again: every worker running, and
// at least `want` restarts counted (a restart lands a little after the
// down message that announced it).
static troupe_sup_stats s_pool_stats(troupe_node *node, troupe_addr pool,
                                     int workers, uint64_t want)
{
    troupe_sup_stats st = {0};
    int64_t until = troupe_deadline_in(10000);
    while (troupe_sup_stats_get(node, pool, until, &st) == 0 &&
           (st.running < (uint32_t)workers || st.restarts < want) &&
           troupe_now() < until) {
        struct timespec ms = {0, 2000000};
        nanosleep(&ms, NULL);
    }
    return st;
}

// Everything between the node's start and its stop.
static bool s_run(troupe_node *node, const opts *o, front *fr, chaos *ch,
                  client *cl)
{
    troupe_addr pool;
    if (!s_ok(s_start_pool(node, o, &pool), "start the pool"))
        return false;
    int64_t dl = troupe_deadline_in(10000);
    fr->node = ch->node = node;
    fr->n_workers = ch->n_workers = o->workers;
    for (int w = 0; w < o->workers; w++) {
        char id[24];
        snprintf(id, sizeof id, "worker-%d", w);
        // By name: a name stays with its worker through restarts, as its
        // address does, even while it waits for one.
        if (!s_ok(troupe_whereis(node, id, &fr->workers[w]), "troupe_whereis"))
            return false;
        ch->workers[w] = fr->workers[w];
    }
    s_event("start", "%d workers up, pids %d .. %d", o->workers,
            troupe_proc_pid(node, fr->workers[0]),
            troupe_proc_pid(node, fr->workers[o->workers - 1]));

    troupe_actor_spec s = troupe_actor_spec_default();
    troupe_addr front_addr, chaos_addr, client_addr;
    s.name = "front";
    s.handler = front_handle;
    s.state = fr;
    if (!s_ok(troupe_node_spawn(node, &s, dl, &front_addr), "spawn front"))
        return false;
    s.name = NULL;
    s.handler = chaos_handle;
    s.init = chaos_init;
    s.state = ch;
    if (!s_ok(troupe_node_spawn(node, &s, dl, &chaos_addr), "spawn chaos"))
        return false;
    cl->front = front_addr;
    s.handler = client_handle;
    s.init = NULL;
    s.fini = client_fini;
    s.state = cl;
    if (!s_ok(troupe_node_spawn(node, &s, dl, &client_addr), "spawn client"))
        return false;

    // Run: the client answers "go" once every request ended; then chaos
    // stops and answers once every kill it made was seen to land.
    troupe_client *me;
    if (!s_ok(troupe_client_new(node, &me), "troupe_client_new"))
        return false;
    int64_t t0 = troupe_now();
    troupe_msg *r = NULL;
    int rc = troupe_call(me, client_addr, "go", troupe_deadline_in(120000), &r,
                         NULL);
    int64_t run_ms = troupe_now() - t0;
    troupe_msg_destroy(&r);
    // Chaos stops; the pool settles (a restart for each kill, every worker
    // running); then chaos says how the processes ended.
    int sigkills = 0, segvs = 0, downs = 0, d_kill = 0, d_segv = 0, d_other = 0,
        other_reason = 0, back = 0;
    int64_t back_ms = 0, back_max = 0;
    int64_t forwarded = 0, retried = 0, retry_ok = 0;
    if (s_ok(rc, "the run (client \"go\")") &&
        s_ok(troupe_call(me, chaos_addr, "stop", troupe_deadline_in(5000), &r,
                         NULL),
             "chaos \"stop\""))
        troupe_msg_read(r, "[ii]", &sigkills, &segvs);
    troupe_msg_destroy(&r);
    int kills = sigkills + segvs;
    troupe_sup_stats ps = s_pool_stats(node, pool, o->workers, (uint64_t)kills);
    if (rc == 0 && s_ok(troupe_call(me, chaos_addr, "report",
                                    troupe_deadline_in(5000), &r, NULL),
                        "chaos \"report\""))
        troupe_msg_read(r, "{s:i s:i s:i s:i s:i s:i s:I s:I}", "downs", &downs,
                        "kill", &d_kill, "segv", &d_segv, "other", &d_other,
                        "other_reason", &other_reason, "back", &back, "back_ms",
                        &back_ms, "back_max", &back_max);
    troupe_msg_destroy(&r);
    if (rc == 0 && s_ok(troupe_call(me, front_addr, "stats",
                                    troupe_deadline_in(5000), &r, NULL),
                        "front \"stats\""))
        troupe_msg_read(r, "[III]", &forwarded, &retried, &retry_ok);
    troupe_msg_destroy(&r);
    troupe_client_destroy(&me);
    if (rc)
        return false;

    long failed = cl->failed_other;
    for (int k = 1; k < 32; k++)
        failed += cl->failed[k];
    printf("\nsummary: %ld requests in %.2f s (%.0f/s)\n", cl->sent,
           (double)run_ms / 1000.0,
           run_ms ? (double)cl->sent * 1000.0 / (double)run_ms : 0.0);
    printf("  answered %6ld  by %d worker processes; %ld of the numbers are "
           "prime\n",
           cl->answered, cl->n_pids, cl->primes);
    printf("  failed   %6ld", failed + cl->wrong);
    for (int k = 1; k < 32; k++)
        if (cl->failed[k])
            printf("  %s %ld (%s)", troupe_errname(-k), cl->failed[k],
                   troupe_strerror(-k));
    if (cl->failed_other)
        printf("  other codes %ld", cl->failed_other);
    if (cl->wrong)
        printf("  wrong answers %ld", cl->wrong);
    printf("\n  front    %6" PRId64 " sends to workers; %" PRId64
           " retried on another worker after the first one died (%" PRId64
           " answered there)\n",
           forwarded, retried, retry_ok);
    if (!o->chaos) {
        printf("  chaos       off\n");
    } else {
        printf(
            "  chaos    %6d workers killed, one at a time: %d by kill -KILL, "
            "%d told to segfault\n",
            kills, sigkills, segvs);
        if (back)
            printf("                   each answered again %.0f ms after its "
                   "kill on average (at most %" PRId64 " ms)\n",
                   (double)back_ms / back, back_max);
    }
    if (o->chaos || downs) {
        printf("  down     %6d worker processes ended (monitors): %d by "
               "SIGKILL, %d by SIGSEGV",
               downs, d_kill, d_segv);
        if (d_other)
            printf(", %d otherwise (the last with %s)", d_other,
                   troupe_errname(other_reason));
        putchar('\n');
    }
    printf("  pool     %6" PRIu64 " restarts (troupe_sup_stats_get); %u of "
           "%u workers running\n",
           ps.restarts, ps.running, ps.children);

    printf("\nchecks\n");
    s_check(cl->sent == o->requests && cl->ended == cl->sent &&
                cl->answered + failed + cl->wrong == cl->sent,
            "none went unanswered: %ld sent = %ld answered + %ld failed",
            cl->sent, cl->answered, failed + cl->wrong);
    s_check(cl->wrong == 0,
            "every answer checks out (its factor divides the number): %ld "
            "wrong",
            cl->wrong);
    long expected = cl->failed[-TROUPE_EDEAD] + cl->failed[-TROUPE_EFULL] +
                    cl->failed[-TROUPE_ETIMEDOUT];
    s_check(failed == expected,
            "every failure is one that dying workers explain (TROUPE_EDEAD "
            "or TROUPE_EFULL: both tries died; TROUPE_ETIMEDOUT): %ld of %ld",
            expected, failed);
    if (o->chaos) {
        s_check(kills > 0 && ps.restarts >= (uint64_t)kills &&
                    ps.running == (uint32_t)o->workers,
                "chaos killed %d workers for real; the pool restarted each "
                "(%" PRIu64 " restarts) and runs all %d",
                kills, ps.restarts, o->workers);
    } else {
        s_check(failed == 0 && ps.restarts == 0,
                "without chaos: every request answered, no restart (%ld "
                "failed, %" PRIu64 " restarts)",
                failed, ps.restarts);
    }
    return true;
}

int main(int argc, char **argv)
{
    // Started as a worker process? Then serve, and exit when the parent
    // stops us (or goes away). Before anything else starts a thread.
    int code;
    if (troupe_proc_child(s_kinds, sizeof s_kinds / sizeof s_kinds[0], &code))
        return code;

    opts o = s_parse(argc, argv);
    s_t0_us = s_now_us();
    printf("troupe-workers: %ld requests (%d in flight, each with a %d ms "
           "deadline) to a front actor\n"
           "  over %d worker processes under a one_for_one supervisor "
           "(1000 restarts in 1 s)\n",
           o.requests, WINDOW, DEADLINE_MS, o.workers);
    if (o.chaos)
        printf("  chaos: every %" PRId64 " ms a random worker is killed "
               "(SIGKILL) or made to segfault; seed %" PRIu64
               " (replay: --seed %" PRIu64 ")\n\n",
               o.kill_every_ms, o.seed, o.seed);
    else
        printf("  chaos: off\n\n");

    troupe_node_opts no;
    troupe_node_opts_init(&no);
    no.loops = 2;
    no.log = s_log;
    no.log_level = TROUPE_LOG_INFO; // worker ends and restarts
    troupe_node *node;
    if (!s_ok(troupe_node_new(&node, &no), "troupe_node_new"))
        return 1;

    static front fr;
    static chaos ch;
    static client cl;
    ch.on = o.chaos;
    ch.every_ms = o.kill_every_ms;
    ch.rng = o.seed;
    cl.total = o.requests;
    bool ran = s_run(node, &o, &fr, &ch, &cl);

    // Stop: the client, chaos and the front, then the pool, whose workers
    // are asked to stop and their processes waited for.
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
