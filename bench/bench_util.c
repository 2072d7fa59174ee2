// SPDX-License-Identifier: MIT
//
// Helpers of troupe's benchmarks: clock, order statistics, the list of
// results and its two outputs (one Markdown table on stdout, a JSON list for
// comparing runs between commits), /proc readers, and calibrated CPU work.
// Knows nothing of troupe, libzmq or msgpack.
#include "bench_util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int bench_listed(const char *list, const char *id)
{
    if (!list)
        return 1;
    size_t len = strlen(id);
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, ",");
        if (k == len && strncasecmp(p, id, len) == 0)
            return 1;
        p += k;
        if (*p == ',')
            p++;
    }
    return 0;
}

int bench_want(const bench_cfg *cfg, const char *name)
{
    return bench_listed(cfg->only_variants, name);
}

int64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

void bench_sort(double *v, size_t n)
{
    qsort(v, n, sizeof *v, s_cmp_double);
}

double bench_quantile_sorted(const double *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    double rank = ceil(q * (double)n);
    size_t i = rank < 1 ? 0 : (size_t)rank - 1;
    return v[i < n ? i : n - 1];
}

double bench_median(const double *v, size_t n)
{
    if (n == 0)
        return NAN;
    double *c = malloc(n * sizeof *c);
    if (!c)
        bench_fail("out of memory");
    memcpy(c, v, n * sizeof *c);
    bench_sort(c, n);
    double m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    free(c);
    return m;
}

void bench_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("troupe-bench: FAILED: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

void bench_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("  ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

// posix_spawn, never fork: the caller may run zmq contexts and a node's
// threads, and a forked copy of those must not run any code at all.
static pid_t s_spawn_self(char *const argv[], int out_fd)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (out_fd >= 0) {
        posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&fa, out_fd);
    }
    fflush(NULL);
    pid_t pid;
    int e = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e)
        bench_fail("posix_spawn %s %s: %s", argv[1] ? argv[1] : "",
                   argv[1] && argv[2] ? argv[2] : "", strerror(e));
    return pid;
}

pid_t bench_spawn_self(char *const argv[])
{
    return s_spawn_self(argv, -1);
}

void bench_wait_child(pid_t pid, const char *what)
{
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            bench_fail("waitpid (%s): %s", what, strerror(errno));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        bench_fail("child %s failed (status %d)", what, status);
}

void bench_run_child(char *const argv[], char *out, size_t cap)
{
    int fd[2];
    if (cap == 0 || pipe2(fd, O_CLOEXEC) != 0)
        bench_fail("pipe: %s", strerror(errno));
    pid_t pid = s_spawn_self(argv, fd[1]);
    close(fd[1]);
    size_t len = 0;
    for (;;) {
        char buf[256];
        ssize_t k = read(fd[0], buf, sizeof buf);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        for (ssize_t i = 0; i < k && len + 1 < cap; i++)
            out[len++] = buf[i];
    }
    out[len] = '\0';
    close(fd[0]);
    char what[128];
    snprintf(what, sizeof what, "%s %s", argv[1] ? argv[1] : "",
             argv[1] && argv[2] ? argv[2] : "");
    bench_wait_child(pid, what);
}

uint64_t bench_cpu_work(uint64_t iters, uint64_t seed)
{
    uint64_t x = seed | 1;
    for (uint64_t i = 0; i < iters; i++) { // each round needs the last
        x = x * 6364136223846793005u + 1442695040888963407u;
        x ^= x >> 29;
    }
    return x;
}

static int64_t s_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t bench_cpu_iters(double ms)
{
    static double rounds_per_ms; // measured once
    if (rounds_per_ms == 0) {
        // CPU time, not wall time: a probe that loses its core for a while
        // still measures the core's speed. The fastest of three.
        const uint64_t probe = 1u << 23;
        volatile uint64_t sink = 0;
        for (int i = 0; i < 3; i++) {
            int64_t t0 = s_thread_cpu_ns();
            sink += bench_cpu_work(probe, (uint64_t)i);
            int64_t ns = s_thread_cpu_ns() - t0;
            double r = (double)probe * 1e6 / (double)(ns > 0 ? ns : 1);
            if (r > rounds_per_ms)
                rounds_per_ms = r;
        }
        (void)sink;
    }
    return (uint64_t)(rounds_per_ms * ms);
}

long bench_status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    size_t len = strlen(field);
    long kb = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, len) == 0 && line[len] == ':') {
            kb = strtol(line + len + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

// ---- results ----

typedef struct s_result {
    char id[8];            // "W1"
    char variant[48];      // "same-loop"
    char metric[32];       // "rtt_us_p50"
    char unit[16];         // "us"
    double value;          // NaN: not measured (variant not implemented)
    char baseline[48];     // "" if none
    double baseline_value; // valid if baseline[0]
    int json_only;         // not in the printed table
} s_result;

static s_result *s_results;
static size_t s_n_results, s_cap_results;
static char **s_notes;
static size_t s_n_notes;

static void s_copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void s_add(const char *id, const char *variant, const char *metric,
                  const char *unit, double value, const char *baseline,
                  double baseline_value, int json_only)
{
    if (s_n_results == s_cap_results) {
        size_t cap = s_cap_results ? 2 * s_cap_results : 64;
        s_result *r = realloc(s_results, cap * sizeof *r);
        if (!r)
            bench_fail("out of memory");
        s_results = r;
        s_cap_results = cap;
    }
    s_result *r = &s_results[s_n_results++];
    s_copy(r->id, sizeof r->id, id);
    s_copy(r->variant, sizeof r->variant, variant);
    s_copy(r->metric, sizeof r->metric, metric);
    s_copy(r->unit, sizeof r->unit, unit);
    r->value = value;
    s_copy(r->baseline, sizeof r->baseline, baseline);
    r->baseline_value = baseline ? baseline_value : NAN;
    r->json_only = json_only;
}

void bench_add(const char *id, const char *variant, const char *metric,
               const char *unit, double value, const char *baseline,
               double baseline_value)
{
    s_add(id, variant, metric, unit, value, baseline, baseline_value, 0);
}

void bench_add_json(const char *id, const char *variant, const char *metric,
                    const char *unit, double value, const char *baseline,
                    double baseline_value)
{
    s_add(id, variant, metric, unit, value, baseline, baseline_value, 1);
}

void bench_add_note(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **n = realloc(s_notes, (s_n_notes + 1) * sizeof *n);
    if (!n || !(n[s_n_notes] = strdup(buf)))
        bench_fail("out of memory");
    s_notes = n;
    s_n_notes++;
}

static double s_ratio(const s_result *r)
{
    if (!r->baseline[0] || isnan(r->value) || isnan(r->baseline_value) ||
        r->baseline_value == 0)
        return NAN;
    return r->value / r->baseline_value;
}

// ---- machine ----

void bench_meta_fill(bench_meta *m)
{
    m->nproc = sysconf(_SC_NPROCESSORS_ONLN);
    s_copy(m->cpu, sizeof m->cpu, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                char *v = strchr(line, ':');
                if (v) {
                    v++;
                    while (*v == ' ' || *v == '\t')
                        v++;
                    v[strcspn(v, "\n")] = '\0';
                    s_copy(m->cpu, sizeof m->cpu, v);
                }
                break;
            }
        }
        fclose(f);
    }
    struct utsname u;
    s_copy(m->kernel, sizeof m->kernel, uname(&u) == 0 ? u.release : "?");
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(m->date, sizeof m->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

// ---- output ----

// Format a figure with about 4 significant digits, no exponent for the
// ranges benchmarks produce.
static void s_fmt(char *buf, size_t cap, double v)
{
    if (isnan(v)) {
        snprintf(buf, cap, "n/a");
        return;
    }
    double a = fabs(v);
    if (a >= 1e6)
        snprintf(buf, cap, "%.3fM", v / 1e6);
    else if (a >= 1000)
        snprintf(buf, cap, "%.0f", v);
    else if (a >= 100)
        snprintf(buf, cap, "%.1f", v);
    else if (a >= 1)
        snprintf(buf, cap, "%.2f", v);
    else
        snprintf(buf, cap, "%.3f", v);
}

void bench_print_table(FILE *f, const bench_meta *m)
{
    fprintf(f, "## troupe bench: commit %s, %s run (median of %d)\n\n",
            m->commit, m->mode, m->reps);
    fprintf(f, "Machine: %ld cores, %s, Linux %s; %s; wall %.1f s\n\n",
            m->nproc, m->cpu, m->kernel, m->date, m->wall_s);
    fprintf(f, "| workload | variant | metric | troupe | baseline | "
               "baseline value | ratio |\n");
    fprintf(f, "|---|---|---|---:|---|---:|---:|\n");
    for (size_t i = 0; i < s_n_results; i++) {
        const s_result *r = &s_results[i];
        if (r->json_only)
            continue;
        char v[32], bv[32], ra[32];
        s_fmt(v, sizeof v, r->value);
        s_fmt(bv, sizeof bv, r->baseline_value);
        double ratio = s_ratio(r);
        if (isnan(ratio))
            snprintf(ra, sizeof ra, "%s", r->baseline[0] ? "n/a" : "-");
        else
            snprintf(ra, sizeof ra, "%.3f", ratio);
        fprintf(f, "| %s | %s | %s | %s | %s | %s | %s |\n", r->id, r->variant,
                r->metric, v, r->baseline[0] ? r->baseline : "-",
                r->baseline[0] ? bv : "-", ra);
    }
    fprintf(f, "\nratio = troupe / baseline. Lower is better for rtt_us_*, "
               "restart_us_*, bytes_per_actor, total_ms, overhead_ms, "
               "light_us_* and light_ms_p99; higher is better for "
               "msgs_per_s, actors_per_s, hops_per_s and req_per_s.\n");
    for (size_t i = 0; i < s_n_notes; i++)
        fprintf(f, "\n%s\n", s_notes[i]);
}

static void s_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void s_json_num(FILE *f, double v)
{
    if (isnan(v) || isinf(v))
        fputs("null", f);
    else
        fprintf(f, "%.6g", v);
}

int bench_write_json(const char *path, const bench_meta *m)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs("[\n", f);
    for (size_t i = 0; i < s_n_results; i++) {
        const s_result *r = &s_results[i];
        fputs("  {\"id\": ", f);
        s_json_str(f, r->id);
        fputs(", \"variant\": ", f);
        s_json_str(f, r->variant);
        fputs(", \"metric\": ", f);
        s_json_str(f, r->metric);
        fputs(", \"unit\": ", f);
        s_json_str(f, r->unit);
        fputs(", \"value\": ", f);
        s_json_num(f, r->value);
        fputs(", \"baseline\": ", f);
        if (r->baseline[0])
            s_json_str(f, r->baseline);
        else
            fputs("null", f);
        fputs(", \"baseline_value\": ", f);
        s_json_num(f, r->baseline_value);
        fputs(", \"ratio\": ", f);
        s_json_num(f, s_ratio(r));
        fprintf(f, "}%s\n", i + 1 < s_n_results ? "," : "");
    }
    fputs("]\n", f);
    if (fclose(f) != 0)
        return -1;

    size_t len = strlen(path) + sizeof ".meta.json";
    char *mp = malloc(len);
    if (!mp)
        return -1;
    snprintf(mp, len, "%s.meta.json", path);
    f = fopen(mp, "w");
    free(mp);
    if (!f)
        return -1;
    fputs("{\"commit\": ", f);
    s_json_str(f, m->commit);
    fprintf(f, ", \"nproc\": %ld, \"cpu\": ", m->nproc);
    s_json_str(f, m->cpu);
    fputs(", \"kernel\": ", f);
    s_json_str(f, m->kernel);
    fputs(", \"date\": ", f);
    s_json_str(f, m->date);
    fputs(", \"mode\": ", f);
    s_json_str(f, m->mode);
    fprintf(f, ", \"reps\": %d, \"wall_s\": %.1f, \"notes\": [", m->reps,
            m->wall_s);
    for (size_t i = 0; i < s_n_notes; i++) {
        if (i)
            fputs(", ", f);
        s_json_str(f, s_notes[i]);
    }
    fputs("]}\n", f);
    return fclose(f) == 0 ? 0 : -1;
}

int bench_pin_one_cpu(cpu_set_t *saved)
{
    if (pthread_getaffinity_np(pthread_self(), sizeof *saved, saved) != 0)
        return -1;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, saved)) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            return pthread_setaffinity_np(pthread_self(), sizeof one, &one) ? -1
                                                                            : 0;
        }
    return -1;
}

void bench_unpin_cpu(const cpu_set_t *saved)
{
    pthread_setaffinity_np(pthread_self(), sizeof *saved, saved);
}
