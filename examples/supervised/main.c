// SPDX-License-Identifier: MIT
//
// troupe-supervised: a supervised service that keeps answering while faults
// are injected into it live. A root one_for_one supervisor runs a pool of
// workers (a simple_one_for_one supervisor) and a nested one_for_all
// supervisor over a store and its journal. A client actor sends requests
// while a seeded chaos plan crashes workers by message and the store by a
// troupe_fault plan, until the nested supervisor reaches its restart
// intensity and escalates to the root, which restarts it. Every crash,
// restart and escalation is printed as it happens (from the node's log hook,
// the actors' init and a monitor); at the end the program checks that no
// request was lost and that the node's counters balance, and exits non-zero
// otherwise. Uses only the public API (troupe/troupe.h).
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <inttypes.h>
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
#define SUP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SUP_PRINTF(f, a)
#endif

// Application exit reasons (troupe leaves codes <= TROUPE_EUSER to us).
#define APP_EBOOM (TROUPE_EUSER - 1)     // a worker told "boom"
#define APP_EINJECTED (TROUPE_EUSER - 2) // the fault plan crashed the store

#define N_WORKERS 4
#define N_BOOMS 8
#define N_STORE_CRASHES 3 // the third one exceeds store-sup's intensity
#define WINDOW 16         // requests the client keeps in flight

// ---- printing: one line per event, with the time since start ------------

static int64_t s_t0_us;
static pthread_mutex_t s_print_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t s_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

// "[  12.345 ms] what   text". Called from main and from the node's
// threads, so one lock keeps each line whole.
SUP_PRINTF(2, 3) static void s_event(const char *what, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    double ms = (double)(s_now_us() - s_t0_us) / 1000.0;
    pthread_mutex_lock(&s_print_lock);
    printf("[%9.3f ms] %-6s %s\n", ms, what, text);
    fflush(stdout);
    pthread_mutex_unlock(&s_print_lock);
}

// The library never prints: it hands its log lines to this hook, from any
// of its threads. At TROUPE_LOG_INFO those are the crashes (an actor that
// ended with an abnormal reason, supervisors included: that is how an
// escalation shows), the supervisors' restarts and the reason they give
// up, and every fault the plan injects.
static void s_log(void *arg, troupe_log_level level, const char *line)
{
    (void)arg;
    (void)level;
    s_event("log", "%s%s", line,
            strstr(line, "ended: TROUPE_EINTENSITY")
                ? "  <- escalation: its parent decides"
                : "");
}

static int checks, failures;

// One expected outcome: "  ok   text" or "  FAIL text".
SUP_PRINTF(2, 3) static void s_check(bool held, const char *fmt, ...)
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

// ---- lives: each run of each actor, keyed by its address -----------------

// What main remembers about an address across runs: how many runs it had
// and when the last one ended. The address stays the same when a
// supervisor restarts a child in place; a label seen at a new address
// means its supervisor itself was restarted (and started it fresh).
typedef struct life {
    char label[16];   // "worker", "store", "journal"
    troupe_addr addr; // where it runs
    int runs;         // inits that succeeded at this address
    int64_t ended_us; // when its last run ended (fini), 0: running
    int reason;       // how it ended
} life;

static life s_lives[64];
static size_t s_n_lives;
static pthread_mutex_t s_lives_lock = PTHREAD_MUTEX_INITIALIZER;

// A run begins (called from init): count it and print how it came about.
// Returns the run number at this address (1 for the first).
static int s_life_begin(const char *label, troupe_addr a)
{
    pthread_mutex_lock(&s_lives_lock);
    life *l = NULL;
    troupe_addr before = TROUPE_ADDR_NONE; // the label's previous address
    for (size_t i = 0; i < s_n_lives; i++) {
        if (troupe_addr_eq(s_lives[i].addr, a))
            l = &s_lives[i];
        else if (strcmp(s_lives[i].label, label) == 0)
            before = s_lives[i].addr;
    }
    if (!l && s_n_lives < sizeof s_lives / sizeof s_lives[0]) {
        l = &s_lives[s_n_lives++];
        snprintf(l->label, sizeof l->label, "%s", label);
        l->addr = a;
    }
    int run = l ? ++l->runs : 1;
    int64_t down_us = l && l->ended_us ? s_now_us() - l->ended_us : -1;
    int reason = l ? l->reason : 0;
    if (l)
        l->ended_us = 0;
    pthread_mutex_unlock(&s_lives_lock);
    if (run > 1)
        s_event("start",
                "%s %" PRIu32 ".%" PRIu32 " restarted in place (run %d), "
                "%.3f ms after it ended with %s",
                label, a.slot, a.incarnation, run, (double)down_us / 1000.0,
                reason == APP_EBOOM       ? "APP_EBOOM"
                : reason == APP_EINJECTED ? "APP_EINJECTED"
                                          : troupe_errname(reason));
    else if (troupe_addr_valid(before) && strcmp(label, "worker") != 0)
        s_event("start",
                "%s %" PRIu32 ".%" PRIu32 " started fresh at a new address "
                "(%" PRIu32 ".%" PRIu32 " is gone, with what was queued "
                "there)",
                label, a.slot, a.incarnation, before.slot, before.incarnation);
    else
        s_event("start", "%s %" PRIu32 ".%" PRIu32 " started", label, a.slot,
                a.incarnation);
    return run;
}

// A run ended (called from fini): remember when and why.
static void s_life_end(troupe_addr a, int reason)
{
    pthread_mutex_lock(&s_lives_lock);
    for (size_t i = 0; i < s_n_lives; i++)
        if (troupe_addr_eq(s_lives[i].addr, a)) {
            s_lives[i].ended_us = s_now_us();
            s_lives[i].reason = reason;
        }
    pthread_mutex_unlock(&s_lives_lock);
}

// ---- the workers (children of "pool") -----------------------------------

// Fresh for every run (state_size): a restart does not inherit what the
// crash left behind.
typedef struct worker {
    troupe_addr self;
    int run;          // its run number at this address
    int64_t begun_us; // when this run began
} worker;

static int worker_init(troupe_ctx *cx, void *state, void *arg)
{
    (void)arg;
    worker *w = state;
    w->self = troupe_self(cx);
    w->begun_us = s_now_us();
    w->run = s_life_begin("worker", w->self);
    return 0;
}

static void worker_fini(void *state, int reason)
{
    s_life_end(((worker *)state)->self, reason);
}

// "work [n, sent_us]" -> [n*n, waited]: waited is true if the request was
// sent before this run began, i.e. it sat in the mailbox through a crash
// and restart and this run answered it.
static int worker_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    worker *w = state;
    if (troupe_msg_is(msg, "boom"))
        return APP_EBOOM; // a crash: the requester of "boom" gets EDEAD
    if (troupe_msg_is(msg, "work")) {
        int64_t n, sent_us;
        int rc = troupe_msg_read(msg, "[II]", &n, &sent_us);
        if (rc)
            return troupe_reply_error(cx, msg, rc);
        bool waited = w->run > 1 && sent_us < w->begun_us;
        return troupe_reply(cx, msg, "[Ib]", n * n, waited);
    }
    return troupe_reply_error(cx, msg, TROUPE_ENOTSUP);
}

// ---- the store and its journal (children of "store-sup") ----------------

typedef struct store {
    troupe_addr self;
    int64_t sum; // of this run only: a restart starts from 0
} store;

static int store_init(troupe_ctx *cx, void *state, void *arg)
{
    (void)arg;
    store *s = state;
    s->self = troupe_self(cx);
    s_life_begin("store", s->self);
    return 0;
}

static void store_fini(void *state, int reason)
{
    s_life_end(((store *)state)->self, reason);
}

// "add [n]" -> [sum]; each write is told to the journal.
static int store_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    store *s = state;
    if (!troupe_msg_is(msg, "add"))
        return troupe_reply_error(cx, msg, TROUPE_ENOTSUP);
    int64_t n;
    int rc = troupe_msg_read(msg, "[I]", &n);
    if (rc)
        return troupe_reply_error(cx, msg, rc);
    s->sum += n;
    // The journal restarts with the store (one_for_all); a tell that finds
    // it between two runs waits in its mailbox.
    (void)troupe_tell_name(cx, "journal", "wrote", "[I]", n);
    return troupe_reply(cx, msg, "[I]", s->sum);
}

typedef struct journal {
    troupe_addr self;
    int64_t writes;
} journal;

static int journal_init(troupe_ctx *cx, void *state, void *arg)
{
    (void)arg;
    journal *j = state;
    j->self = troupe_self(cx);
    s_life_begin("journal", j->self);
    return 0;
}

static void journal_fini(void *state, int reason)
{
    s_life_end(((journal *)state)->self, reason);
}

static int journal_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)cx;
    ((journal *)state)->writes++;
    (void)msg;
    return 0;
}

// ---- chaos: crashes workers by message, when the client says -------------

typedef struct chaos {
    troupe_addr workers[N_WORKERS];
    int sent;                // "boom" requests sent
    int dead;                // answered TROUPE_EDEAD (the worker crashed)
    int other;               // answered anything else (must stay 0)
    troupe_deferred *report; // main's "report", answered when none pending
} chaos;

static void chaos_maybe_report(troupe_ctx *cx, chaos *c)
{
    if (c->report && c->dead + c->other == c->sent)
        troupe_deferred_reply(cx, &c->report, "[iii]", c->sent, c->dead,
                              c->other);
}

static int chaos_on_answer(troupe_ctx *cx, void *state, int status,
                           const troupe_msg *reply, void *arg)
{
    (void)reply;
    (void)arg;
    chaos *c = state;
    if (status == TROUPE_EDEAD)
        c->dead++;
    else
        c->other++;
    chaos_maybe_report(cx, c);
    return 0;
}

static int chaos_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    chaos *c = state;
    if (troupe_msg_is(msg, "boom")) { // from the client: [worker index]
        int w;
        if (troupe_msg_read(msg, "[i]", &w) || w < 0 || w >= N_WORKERS)
            return 0;
        troupe_addr a = c->workers[w];
        s_event("chaos", "boom #%d -> worker %" PRIu32 ".%" PRIu32, c->sent + 1,
                a.slot, a.incarnation);
        int rc = troupe_request(cx, a, "boom", troupe_deadline_in(5000),
                                chaos_on_answer, NULL, NULL, NULL);
        c->sent++;
        if (rc) { // its callback will not run: count the end here
            c->other++;
            chaos_maybe_report(cx, c);
        }
        return 0;
    }
    if (troupe_msg_is(msg, "report")) {
        int rc = troupe_defer(cx, msg, &c->report);
        if (rc == 0)
            chaos_maybe_report(cx, c);
        return rc;
    }
    return troupe_reply_error(cx, msg, TROUPE_ENOTSUP);
}

// ---- watch: monitors the nested supervisors ------------------------------

// Monitors a supervisor; when it goes down, prints why and monitors it
// again. A restarted supervisor keeps its address, so the same address is
// watched through its restarts.
typedef struct watch {
    troupe_addr sups[2];
    const char *names[2];
} watch;

static int watch_init(troupe_ctx *cx, void *state, void *arg)
{
    (void)arg;
    watch *w = state;
    for (int i = 0; i < 2; i++) {
        int rc = troupe_monitor(cx, w->sups[i], NULL);
        if (rc)
            return rc;
    }
    return 0;
}

static int watch_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    watch *w = state;
    if (troupe_msg_kind_of(msg) != TROUPE_MSG_DOWN)
        return 0;
    troupe_addr who = troupe_msg_sender(msg);
    for (int i = 0; i < 2; i++) {
        if (!troupe_addr_eq(who, w->sups[i]))
            continue;
        s_event("watch",
                "%s %" PRIu32 ".%" PRIu32 " went down with %s; its parent "
                "decides (monitoring the same address again)",
                w->names[i], who.slot, who.incarnation,
                troupe_errname(troupe_msg_code(msg)));
        return troupe_monitor(cx, who, NULL);
    }
    return 0;
}

// ---- the client: requests with a window, and the chaos schedule ----------

typedef struct client {
    troupe_addr workers[N_WORKERS];
    troupe_addr chaos;
    long total;               // requests to make
    long boom_at[N_BOOMS];    // request index of each boom, ascending
    int boom_worker[N_BOOMS]; // and which worker
    int next_boom;            // index into boom_at
    long sent, ended;         // requests issued; ended (callback or error)
    long inflight;            // sent - ended
    long ok_work, ok_store;   // answered
    long waited;              // work answered by a run that began after
                              // the request was sent
    long wrong;               // answers with a wrong value (must be 0)
    long failed[2][32];       // failures, [0] worker / [1] store requests,
                              // by code: [-code] for -31..-1
    long failed_other;        // failures with other codes (must be 0)
    troupe_deferred *go;      // main's "go", answered once all ended
} client;

static int client_issue(troupe_ctx *cx, client *c);

static void client_failed(client *c, int code, bool to_worker)
{
    if (code < 0 && code > -32)
        c->failed[to_worker ? 0 : 1][-code]++;
    else
        c->failed_other++;
}

// Failures of worker (0) or store (1) requests, of any code.
static long client_failures(const client *c, int to)
{
    long n = 0;
    for (int k = 1; k < 32; k++)
        n += c->failed[to][k];
    return n;
}

// The end of request i: a reply or an error, exactly once.
static int client_on_reply(troupe_ctx *cx, void *state, int status,
                           const troupe_msg *reply, void *arg)
{
    client *c = state;
    int64_t n = (int64_t)(intptr_t)arg;
    bool to_worker = n % 4 != 3;
    c->ended++;
    c->inflight--;
    if (status) {
        client_failed(c, status, to_worker);
    } else if (to_worker) {
        int64_t sq;
        bool waited;
        if (troupe_msg_read(reply, "[Ib]", &sq, &waited) || sq != n * n)
            c->wrong++;
        c->ok_work++;
        c->waited += waited;
    } else {
        c->ok_store++;
    }
    if (status == TROUPE_ECANCELED) // we are ending: do not send more
        return 0;
    return client_issue(cx, c);
}

// Keep WINDOW requests in flight; answer "go" when every one has ended.
// Three in four go to a worker (by address, which stays valid through its
// restarts), one in four to the store by name.
static int client_issue(troupe_ctx *cx, client *c)
{
    while (c->inflight < WINDOW && c->sent < c->total) {
        long i = c->sent++;
        if (c->next_boom < N_BOOMS && c->boom_at[c->next_boom] == i) {
            (void)troupe_tell(cx, c->chaos, "boom", "[i]",
                              c->boom_worker[c->next_boom]);
            c->next_boom++;
        }
        void *arg = (void *)(intptr_t)i;
        int rc;
        if (i % 4 != 3)
            rc = troupe_request(cx, c->workers[(i - i / 4) % N_WORKERS], "work",
                                troupe_deadline_in(5000), client_on_reply, arg,
                                NULL, "[II]", (int64_t)i, s_now_us());
        else
            rc = troupe_request_name(cx, "store", "add",
                                     troupe_deadline_in(5000), client_on_reply,
                                     arg, NULL, "[I]", (int64_t)i);
        if (rc) { // the callback will not run: this request ended here
            c->ended++;
            client_failed(c, rc, i % 4 != 3);
        } else {
            c->inflight++;
        }
    }
    if (c->go && c->ended == c->total)
        return troupe_deferred_reply(cx, &c->go, NULL);
    return 0;
}

static int client_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    client *c = state;
    if (troupe_msg_is(msg, "go")) {
        int rc = troupe_defer(cx, msg, &c->go);
        return rc ? rc : client_issue(cx, c);
    }
    return troupe_reply_error(cx, msg, TROUPE_ENOTSUP);
}

// ---- the chaos plan, from a seed ----------------------------------------

static uint64_t s_rng;

// splitmix64: the same seed gives the same plan on every machine.
static uint64_t s_random(void)
{
    uint64_t z = (s_rng += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

// Uniform in [lo, hi].
static long s_between(long lo, long hi)
{
    return lo + (long)(s_random() % (uint64_t)(hi - lo + 1));
}

static int s_cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

// Booms at distinct requests in the first 70 % of the run; the store's
// crashes at its k-th messages, the last one at about 80 % of its share,
// so that the escalation comes last and the rest of the run shows the
// restarted subtree at work.
static void s_plan(client *c, long store_crash[N_STORE_CRASHES])
{
    for (int b = 0; b < N_BOOMS; b++) {
        bool dup;
        do {
            c->boom_at[b] = s_between(c->total / 20, c->total * 7 / 10);
            dup = false;
            for (int k = 0; k < b; k++)
                dup |= c->boom_at[k] == c->boom_at[b];
        } while (dup);
        c->boom_worker[b] = (int)(s_random() % N_WORKERS);
    }
    // Sort the indexes and keep each worker choice with its index.
    long pair[N_BOOMS][2];
    for (int b = 0; b < N_BOOMS; b++) {
        pair[b][0] = c->boom_at[b];
        pair[b][1] = c->boom_worker[b];
    }
    qsort(pair, N_BOOMS, sizeof pair[0], s_cmp_long);
    for (int b = 0; b < N_BOOMS; b++) {
        c->boom_at[b] = pair[b][0];
        c->boom_worker[b] = (int)pair[b][1];
    }
    long share = c->total / 4; // store requests
    store_crash[0] = s_between(share / 10, share * 3 / 10);
    store_crash[1] = s_between(share * 4 / 10, share * 6 / 10);
    store_crash[2] = s_between(share * 7 / 10, share * 8 / 10);
}

// ---- main ---------------------------------------------------------------

static bool s_ok(int rc, const char *what)
{
    if (rc == 0)
        return true;
    s_check(false, "%s: %s (%s)", what, troupe_errname(rc),
            troupe_strerror(rc));
    return false;
}

static troupe_child_spec s_worker_child(void)
{
    troupe_child_spec c;
    troupe_child_spec_init(&c);
    c.actor.handler = worker_handle;
    c.actor.init = worker_init;
    c.actor.fini = worker_fini;
    c.actor.state_size = sizeof(worker);
    return c;
}

static troupe_child_spec s_named_child(const char *id, troupe_handler_fn h,
                                       troupe_init_fn init, troupe_fini_fn fini,
                                       size_t state_size)
{
    troupe_child_spec c;
    troupe_child_spec_init(&c);
    c.id = id;
    c.actor.name = id; // registered: the client finds the store by name
    c.actor.handler = h;
    c.actor.init = init;
    c.actor.fini = fini;
    c.actor.state_size = state_size;
    return c;
}

// Read a supervisor's counters, waiting (bounded) until its restarts reach
// at least `want` (a restart after a backoff lands a little after the crash
// was answered).
static troupe_sup_stats s_stats(troupe_node *node, troupe_addr sup,
                                uint64_t want)
{
    troupe_sup_stats st = {0};
    int64_t until = troupe_deadline_in(2000);
    while (troupe_sup_stats_get(node, sup, until, &st) == 0 &&
           st.restarts < want && troupe_now() < until) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    return st;
}

static void s_usage(void)
{
    fprintf(stderr, "usage: troupe-supervised [--seed N] [--requests N]\n");
    exit(2);
}

// Everything below main's set-up: start the tree and the actors around
// it, run, and check. Returns false if something could not start.
static bool s_run(troupe_node *node, troupe_fault_plan *plan, client *cl,
                  chaos *ch, watch *wa)
{
    // The tree. Specs are copied by the start calls.
    troupe_child_spec worker_tpl = s_worker_child();
    troupe_sup_spec pool;
    troupe_sup_spec_init(&pool);
    pool.strategy = TROUPE_SIMPLE_ONE_FOR_ONE;
    pool.children = &worker_tpl;
    pool.n_children = 1;
    pool.intensity = 100;
    pool.period_ms = 10000;
    pool.backoff_min_ms = 2; // restarts wait 1-2 ms, then 2-4, ... up to 16
    pool.backoff_max_ms = 16;
    pool.seed = troupe_fault_plan_seed(plan); // replayable jitter
    pool.name = "pool";
    pool.loop = TROUPE_LOOP(1);

    troupe_child_spec store_kids[2] = {
        s_named_child("store", store_handle, store_init, store_fini,
                      sizeof(store)),
        s_named_child("journal", journal_handle, journal_init, journal_fini,
                      sizeof(journal)),
    };
    troupe_sup_spec stores;
    troupe_sup_spec_init(&stores);
    stores.strategy = TROUPE_ONE_FOR_ALL;
    stores.children = store_kids;
    stores.n_children = 2;
    stores.intensity = 2; // a third restart within 10 s: give up
    stores.period_ms = 10000;
    stores.name = "store-sup";
    stores.loop = TROUPE_LOOP(0);

    troupe_child_spec root_kids[2];
    troupe_child_spec_init(&root_kids[0]);
    root_kids[0].id = "pool";
    root_kids[0].sup = &pool;
    troupe_child_spec_init(&root_kids[1]);
    root_kids[1].id = "store-sup";
    root_kids[1].sup = &stores;
    troupe_sup_spec root;
    troupe_sup_spec_init(&root);
    root.children = root_kids;
    root.n_children = 2;
    root.intensity = 3;
    root.period_ms = 10000;
    root.name = "root";
    root.loop = TROUPE_LOOP(0);

    troupe_addr root_addr, pool_addr, stores_addr;
    int64_t dl = troupe_deadline_in(5000);
    if (!s_ok(troupe_node_sup_start(node, &root, dl, &root_addr),
              "troupe_node_sup_start") ||
        !s_ok(troupe_sup_which_child(node, root_addr, "pool", dl, &pool_addr),
              "which pool") ||
        !s_ok(troupe_sup_which_child(node, root_addr, "store-sup", dl,
                                     &stores_addr),
              "which store-sup"))
        return false;
    for (int i = 0; i < N_WORKERS; i++)
        if (!s_ok(troupe_sup_start_child(node, pool_addr, NULL, dl,
                                         &cl->workers[i]),
                  "troupe_sup_start_child"))
            return false;

    // The actors around the tree: chaos, the client, the watcher.
    memcpy(ch->workers, cl->workers, sizeof ch->workers);
    wa->sups[0] = pool_addr;
    wa->sups[1] = stores_addr;
    wa->names[0] = "pool";
    wa->names[1] = "store-sup";
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = chaos_handle;
    s.state = ch;
    s.loop = TROUPE_LOOP(1);
    troupe_addr chaos_addr, client_addr, watch_addr;
    if (!s_ok(troupe_node_spawn(node, &s, dl, &chaos_addr), "spawn chaos"))
        return false;
    cl->chaos = chaos_addr;
    s.handler = client_handle;
    s.state = cl;
    s.loop = TROUPE_LOOP(0);
    if (!s_ok(troupe_node_spawn(node, &s, dl, &client_addr), "spawn client"))
        return false;
    s.handler = watch_handle;
    s.init = watch_init;
    s.state = wa;
    if (!s_ok(troupe_node_spawn(node, &s, dl, &watch_addr), "spawn watch"))
        return false;

    // Run: the client answers "go" once every request ended.
    troupe_client *me;
    if (!s_ok(troupe_client_new(node, &me), "troupe_client_new"))
        return false;
    troupe_msg *r = NULL;
    int rc =
        troupe_call(me, client_addr, "go", troupe_deadline_in(20000), &r, NULL);
    troupe_msg_destroy(&r);
    int booms = 0, booms_dead = 0, booms_other = 0;
    if (rc == 0)
        rc = troupe_call(me, chaos_addr, "report", troupe_deadline_in(5000), &r,
                         NULL);
    if (rc == 0)
        rc = troupe_msg_read(r, "[iii]", &booms, &booms_dead, &booms_other);
    troupe_msg_destroy(&r);
    troupe_client_destroy(&me);
    if (!s_ok(rc, "the run"))
        return false;

    troupe_sup_stats rs = s_stats(node, root_addr, 1);
    troupe_sup_stats ps = s_stats(node, pool_addr, (uint64_t)booms);
    troupe_sup_stats ss = s_stats(node, stores_addr, 0);
    troupe_fault_stats fs = {0};
    troupe_fault_plan_stats_get(plan, &fs);

    long failed =
        client_failures(cl, 0) + client_failures(cl, 1) + cl->failed_other;
    printf("\nsummary\n");
    printf("  requests: %ld sent, %ld answered (%ld by workers, %ld by the "
           "store), %ld failed\n",
           cl->sent, cl->ok_work + cl->ok_store, cl->ok_work, cl->ok_store,
           failed);
    for (int to = 0; to < 2; to++)
        for (int k = 1; k < 32; k++)
            if (cl->failed[to][k])
                printf("    %s requests failed with %s: %ld (%s)\n",
                       to ? "store" : "worker", troupe_errname(-k),
                       cl->failed[to][k], troupe_strerror(-k));
    if (cl->failed_other)
        printf("    failed with other codes: %ld\n", cl->failed_other);
    printf("  %ld worker requests waited in a mailbox through a crash and "
           "were answered by the next run\n",
           cl->waited);
    printf("  chaos: %d booms sent, %d answered TROUPE_EDEAD; fault plan: "
           "%" PRIu64 " store crashes injected\n",
           booms, booms_dead, fs.crashed);
    printf("  supervisor  children running restarts\n");
    printf("  root        %8u %7u %8" PRIu64 "\n", rs.children, rs.running,
           rs.restarts);
    printf("  pool        %8u %7u %8" PRIu64 "\n", ps.children, ps.running,
           ps.restarts);
    printf("  store-sup   %8u %7u %8" PRIu64
           "  (counted since the root restarted it)\n",
           ss.children, ss.running, ss.restarts);

    printf("\nchecks\n");
    s_check(cl->sent == cl->total && cl->ended == cl->total &&
                cl->ok_work + cl->ok_store + failed == cl->total,
            "every request ended exactly once: %ld sent, %ld answered + %ld "
            "failed",
            cl->sent, cl->ok_work + cl->ok_store, failed);
    s_check(client_failures(cl, 0) == 0 && cl->wrong == 0,
            "every worker request was answered, and rightly (%ld failed, "
            "%ld wrong)",
            client_failures(cl, 0), cl->wrong);
    long store_dead = cl->failed[1][-TROUPE_EDEAD];
    long store_noent = cl->failed[1][-TROUPE_ENOENT];
    s_check(cl->failed_other == 0 &&
                store_dead + store_noent == client_failures(cl, 1) &&
                store_dead >= N_STORE_CRASHES,
            "store requests failed only with TROUPE_EDEAD (%ld: the crashing "
            "messages, and those queued when store-sup gave up) or "
            "TROUPE_ENOENT (%ld: no store registered at that moment)",
            store_dead, store_noent);
    s_check(booms == N_BOOMS && booms_dead == booms && booms_other == 0,
            "each boom crashed its worker and its requester got TROUPE_EDEAD "
            "(%d of %d)",
            booms_dead, booms);
    s_check(ps.restarts == (uint64_t)booms && ps.running == N_WORKERS,
            "pool restarted a worker per boom (%" PRIu64 ") and runs all %d",
            ps.restarts, N_WORKERS);
    s_check(fs.crashed == N_STORE_CRASHES,
            "the fault plan crashed the store %d times", N_STORE_CRASHES);
    s_check(rs.restarts == 1 && rs.running == 2 && ss.running == 2,
            "store-sup escalated once and the root restarted it with its "
            "children (root restarts %" PRIu64 ", store-sup running %u)",
            rs.restarts, ss.running);
    return true;
}

int main(int argc, char **argv)
{
    uint64_t seed = 0;
    long requests = 2400;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--requests") == 0 && i + 1 < argc)
            requests = strtol(argv[++i], NULL, 0);
        else
            s_usage();
    }
    if (requests < 400)
        s_usage(); // the plan needs room for its faults
    s_t0_us = s_now_us();

    // The plan: seeded, so that a run can be replayed. 0 takes the seed
    // from TROUPE_FAULT_SEED or the clock; either way it is printed.
    troupe_fault_plan *plan;
    if (!s_ok(troupe_fault_plan_new(seed, &plan), "troupe_fault_plan_new"))
        return 1;
    seed = troupe_fault_plan_seed(plan);
    s_rng = seed;
    static client cl;
    static chaos ch;
    static watch wa;
    cl.total = requests;
    long store_crash[N_STORE_CRASHES];
    s_plan(&cl, store_crash);
    for (int k = 0; k < N_STORE_CRASHES; k++)
        if (!s_ok(troupe_fault_crash(plan, "store", (uint64_t)store_crash[k],
                                     APP_EINJECTED),
                  "troupe_fault_crash"))
            return 1;

    printf("troupe-supervised: seed %" PRIu64 " (replay: troupe-supervised "
           "--seed %" PRIu64 ")\n",
           seed, seed);
    printf("  root       one_for_one, 3 restarts in 10 s\n"
           "  |- pool       simple_one_for_one, 100 restarts in 10 s, "
           "backoff 2-16 ms: %d workers\n"
           "  `- store-sup  one_for_all, 2 restarts in 10 s: store, journal\n",
           N_WORKERS);
    printf("  plan: %ld requests, %d in flight; booms at requests", requests,
           WINDOW);
    for (int b = 0; b < N_BOOMS; b++)
        printf(" %ld", cl.boom_at[b]);
    printf(";\n        store crashes at its messages %ld, %ld and %ld "
           "(the third exceeds store-sup's intensity)\n\n",
           store_crash[0], store_crash[1], store_crash[2]);

    troupe_node_opts o;
    troupe_node_opts_init(&o);
    o.loops = 2;
    o.log = s_log;
    o.log_level = TROUPE_LOG_INFO; // crashes, restarts, faults
    troupe_node *node;
    if (!s_ok(troupe_node_new(&node, &o), "troupe_node_new"))
        return 1;
    troupe_node_set_fault_plan(node, plan); // before the store is spawned

    bool ran = s_run(node, plan, &cl, &ch, &wa);

    // Stop the node: the roots in reverse (watch, client, chaos, then the
    // tree, children first), and check that every message it counted
    // ended somewhere.
    int rc = troupe_node_stop(node, troupe_deadline_in(5000));
    troupe_node_stats st = {0};
    troupe_node_stats_get(node, &st);
    troupe_node_destroy(&node);
    troupe_fault_plan_destroy(&plan);
    s_check(rc == 0 && st.live_actors == 0 && st.live_threads == 0,
            "node stopped: %s, %" PRIu64 " actors and %" PRIu64 " threads left",
            troupe_errname(rc), st.live_actors, st.live_threads);
    printf("  node: sent %" PRIu64 ", delivered %" PRIu64
           ", dead_lettered %" PRIu64 ", refused %" PRIu64 ", crashed %" PRIu64
           "\n",
           st.sent, st.delivered, st.dead_lettered, st.refused, st.crashed);
    s_check(st.sent == st.delivered + st.dead_lettered + st.refused,
            "sent == delivered + dead_lettered + refused");
    if (!ran)
        failures++;
    printf("%d checks, %d failed%s\n", checks, failures,
           failures ? "" : " (replay this run with the seed above)");
    return failures ? 1 : 0;
}
