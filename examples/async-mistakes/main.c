// SPDX-License-Identifier: MIT
//
// troupe-async-mistakes: the five classic async/await mistakes, each run the
// wrong way and the troupe way on a real node, with both figures printed
// side by side and a table at the end. This file holds main, the final
// table and the helpers every mistake shares (mistakes.h); each mistake is
// in its own file. Only the public API (troupe/troupe.h) is used. The
// program checks outcomes (nothing lost, every failure typed), never speed:
// it exits 1 only if an outcome is wrong, so CTest runs it on slow builds.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE // clock_gettime, CLOCK_THREAD_CPUTIME_ID
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mistakes.h"

am_opts am_opt;

static int checks;   // outcomes checked
static int failures; // outcomes that did not hold

// ---- reporting ----

void am_fact(bool held, const char *fmt, ...)
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
    fflush(stdout);
}

void am_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("       ");
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
    fflush(stdout);
}

bool am_ok(int rc, const char *what)
{
    if (rc == 0)
        return true;
    am_fact(false, "%s: %s (%s)", what, troupe_errname(rc),
            troupe_strerror(rc));
    return false;
}

// ---- nodes with a captured log ----

// The node's log hook: keep the warn lines (the blocking detector's reports
// among them) for the mistake to show; with -v, echo every line to stderr.
// Called from any of the node's threads, so it takes the lock.
static void s_log(void *arg, troupe_log_level level, const char *line)
{
    am_log *l = arg;
    if (am_opt.verbose)
        fprintf(stderr, "[troupe %s] %s\n",
                level <= TROUPE_LOG_WARN ? "warn" : "info", line);
    if (level > TROUPE_LOG_WARN)
        return;
    pthread_mutex_lock(&l->mu);
    l->warn++;
    if (l->kept < AM_LOG_KEEP)
        snprintf(l->line[l->kept++], sizeof l->line[0], "%s", line);
    pthread_mutex_unlock(&l->mu);
}

bool am_node_start(am_node *n, unsigned loops, const troupe_node_opts *o)
{
    troupe_node_opts opts;
    if (o)
        opts = *o;
    else
        troupe_node_opts_init(&opts);
    opts.loops = loops;
    opts.log = s_log;
    opts.log_arg = &n->log;
    opts.log_level = am_opt.verbose ? TROUPE_LOG_INFO : TROUPE_LOG_WARN;
    memset(n, 0, sizeof *n);
    pthread_mutex_init(&n->log.mu, NULL);
    if (!am_ok(troupe_node_new(&n->node, &opts), "troupe_node_new")) {
        pthread_mutex_destroy(&n->log.mu);
        return false;
    }
    if (!am_ok(troupe_client_new(n->node, &n->me), "troupe_client_new")) {
        troupe_node_destroy(&n->node);
        pthread_mutex_destroy(&n->log.mu);
        return false;
    }
    return true;
}

void am_node_finish(am_node *n)
{
    troupe_client_destroy(&n->me);
    if (!n->node)
        return;
    int rc = troupe_node_stop(n->node, troupe_deadline_in(5000));
    troupe_node_stats st = {0};
    troupe_node_stats_get(n->node, &st);
    troupe_node_destroy(&n->node);
    pthread_mutex_destroy(&n->log.mu);
    if (st.sent != st.delivered + st.dead_lettered + st.refused)
        am_fact(false,
                "every message accounted for: sent %llu != delivered %llu + "
                "dead_lettered %llu + refused %llu",
                (unsigned long long)st.sent, (unsigned long long)st.delivered,
                (unsigned long long)st.dead_lettered,
                (unsigned long long)st.refused);
    if (rc != 0 || st.live_actors || st.live_threads || st.live_sockets)
        am_fact(false,
                "node stopped clean: %s, %llu actors, %llu threads, %llu "
                "sockets left",
                troupe_errname(rc), (unsigned long long)st.live_actors,
                (unsigned long long)st.live_threads,
                (unsigned long long)st.live_sockets);
}

bool am_log_find(am_node *n, char *out, size_t cap, const char *a,
                 const char *b, const char *c)
{
    bool found = false;
    pthread_mutex_lock(&n->log.mu);
    for (unsigned i = 0; i < n->log.kept && !found; i++) {
        const char *l = n->log.line[i];
        if ((!a || strstr(l, a)) && (!b || strstr(l, b)) &&
            (!c || strstr(l, c))) {
            snprintf(out, cap, "%s", l);
            found = true;
        }
    }
    pthread_mutex_unlock(&n->log.mu);
    return found;
}

void am_addr_label(troupe_addr addr, char *out, size_t cap)
{
    snprintf(out, cap, "actor %u.%u:", (unsigned)addr.slot,
             (unsigned)addr.incarnation);
}

bool am_spawn(am_node *n, troupe_handler_fn handler, void *state,
              const char *name, int loop, troupe_addr *addr)
{
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = handler;
    s.state = state;
    s.name = name;
    s.loop = loop;
    char what[96];
    snprintf(what, sizeof what, "spawn %s", name ? name : "an actor");
    return am_ok(troupe_node_spawn(n->node, &s, troupe_deadline_in(5000), addr),
                 what);
}

// ---- time and statistics ----

int64_t am_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t am_cpu_used_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double am_percentile(double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, s_cmp_double);
    size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

double am_median(double *v, size_t n)
{
    return am_percentile(v, n, 50);
}

// ---- CPU work ----

uint64_t am_cpu_work(uint64_t iters, uint64_t seed)
{
    uint64_t x = seed | 1;
    for (uint64_t i = 0; i < iters; i++) { // one long dependency chain
        x = x * 6364136223846793005u + 1442695040888963407u;
        x ^= x >> 29;
    }
    return x;
}

static int64_t s_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double rounds_per_ms; // measured once, by main, before any node

static void s_cpu_calibrate(void)
{
    const uint64_t probe = 1u << 22;
    volatile uint64_t sink = 0;
    for (int i = 0; i < 3; i++) { // the fastest of three
        int64_t t0 = s_cpu_ns();
        sink += am_cpu_work(probe, (uint64_t)i);
        int64_t ns = s_cpu_ns() - t0;
        double r = (double)probe * 1e6 / (double)(ns > 0 ? ns : 1);
        if (r > rounds_per_ms)
            rounds_per_ms = r;
    }
    (void)sink;
}

uint64_t am_cpu_iters(int64_t ms)
{
    return (uint64_t)(rounds_per_ms * (double)ms);
}

// ---- a gate main opens ----

void am_gate_init(am_gate *g)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, &ca);
    pthread_condattr_destroy(&ca);
    g->open = false;
}

void am_gate_fini(am_gate *g)
{
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
}

void am_gate_open(am_gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

bool am_gate_wait(am_gate *g)
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

// ---- main ----

static void s_usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--quick] [-v] [--only N[,N...]]\n"
            "  --quick  smaller sizes (what the test suite runs)\n"
            "  -v       show troupe's log lines on stderr as they come\n"
            "  --only   run only these mistakes (1-5)\n",
            argv0);
}

int main(int argc, char **argv)
{
    bool only[6] = {false};
    bool any_only = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            am_opt.quick = true;
        } else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
            am_opt.verbose = true;
        } else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
            for (const char *p = argv[++i]; *p; p++)
                if (*p >= '1' && *p <= '5') {
                    only[*p - '0'] = true;
                    any_only = true;
                }
        } else {
            s_usage(argv[0]);
            return 2;
        }
    }

    static const struct {
        void (*run)(am_row *);
        const char *name;
    } mistakes[] = {
        {mistake1_cpu, "1. CPU work on the loop"},
        {mistake2_sequential, "2. sequential awaits"},
        {mistake3_blocking, "3. blocking call in a handler"},
        {mistake4_batch, "4. one failure sinks the batch"},
        {mistake5_timeout, "5. no timeouts"},
    };
    am_row rows[5];
    memset(rows, 0, sizeof rows);

    int64_t t0 = am_now_us();
    s_cpu_calibrate();
    printf("troupe %d.%d.%d: the five async/await mistakes, the wrong way and "
           "the troupe way\n",
           TROUPE_VERSION_MAJOR, TROUPE_VERSION_MINOR, TROUPE_VERSION_PATCH);
    printf("Each mistake runs on a fresh node; \"ok\" marks an outcome "
           "checked (never a speed).%s\n",
           am_opt.quick ? " Quick sizes." : "");
    printf("50 ms of CPU work here = %.1fM rounds of arithmetic.\n",
           (double)am_cpu_iters(50) / 1e6);

    for (int i = 0; i < 5; i++) {
        if (any_only && !only[i + 1])
            continue;
        rows[i].mistake = mistakes[i].name;
        mistakes[i].run(&rows[i]);
    }

    printf("\n| mistake | wrong | troupe way | ratio |\n");
    printf("|---|---|---|---|\n");
    for (int i = 0; i < 5; i++)
        if (rows[i].mistake)
            printf("| %s | %s | %s | %s |\n", rows[i].mistake, rows[i].wrong,
                   rows[i].right, rows[i].ratio);
    printf("\n%d outcomes checked, %d failed, in %.1f s\n", checks, failures,
           (double)(am_now_us() - t0) / 1e6);
    return failures ? 1 : 0;
}
