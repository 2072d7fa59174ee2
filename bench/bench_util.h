// SPDX-License-Identifier: MIT
//
// Shared helpers of troupe's benchmarks (bench/, never run under ctest): the
// run's configuration, timing, medians and percentiles, the result list with
// its Markdown table and JSON output, and reading /proc. Depends only on
// libc: the workloads include troupe's public headers, libzmq and msgpack-c
// themselves. Also the CPU work of W7 and W8: pure arithmetic, calibrated.
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stddef.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

// What one run of troupe-bench measures, filled by main from its flags.
typedef struct bench_cfg {
    int quick;                 // --quick: small sizes
    int reps;                  // repetitions per figure (median taken)
    const char *argv0;         // our own executable, for W3's fresh children
    const char *only_variants; // --variant a,b: run only these variants and
                               // baselines (for profiling); NULL: all
    long w1_warmup;            // W1 round trips before sampling
    long w1_rounds;            // W1 round trips sampled, per repetition
    long w2_msgs;              // W2 messages per repetition
    long w3_small;             // W3 first N (light-100k)
    long w3_large;             // W3 second N (light-1m)
    long w3_threads;           // W3 baseline N (thread-socket-1k)
    long w4_hops;              // W4 hops per repetition
    long w4_ring;              // W4 ring size
    long w6_restarts;          // W6 restarts (or spawns) sampled per rep
    long w6_warmup;            // W6 restarts (or spawns) before sampling
    long w6_proc_restarts;     // W6 process children: the same, fewer
    long w6_proc_warmup;       // (each takes milliseconds, not µs)
    long w5_samples;           // W5 gathers (and sequential runs) sampled
    long w7_ms;                // W7 ms of heavy jobs (and pings) per run
    int w7_reps;               // W7 runs per variant (median taken)
    long w8_requests;          // W8 requests per repetition
} bench_cfg;

// True if a list like "W1,W3" names id (case-insensitive); NULL names all.
int bench_listed(const char *list, const char *id);

// True if variant (or baseline) name is to be run (see --variant).
int bench_want(const bench_cfg *cfg, const char *name);

// Monotonic clock (CLOCK_MONOTONIC) in nanoseconds.
int64_t bench_now_ns(void);

// Sort v ascending, in place.
void bench_sort(double *v, size_t n);
// The q-quantile (0 <= q <= 1) of sorted values, nearest rank: the smallest
// sample with at least q * n samples at or below it. 0 if n is 0.
double bench_quantile_sorted(const double *v, size_t n, double q);
// The median of n values (copied, v is left as it was); NaN if n is 0.
double bench_median(const double *v, size_t n);

// Print a message to stderr and exit(1): a measured run got a wrong result
// or the runtime failed. Never returns.
__attribute__((noreturn, format(printf, 1, 2))) void bench_fail(const char *fmt,
                                                                ...);

// Print a progress line to stderr (the table goes to stdout).
__attribute__((format(printf, 1, 2))) void bench_note(const char *fmt, ...);

// Run this executable again (/proc/self/exe) with argv (argv[0] included,
// NULL-terminated) in a fresh process (posix_spawn), and read what it prints on
// stdout into out (NUL-terminated, cut to cap). Fails the run unless it exits
// 0.
void bench_run_child(char *const argv[], char *out, size_t cap);

// Start this executable again (/proc/self/exe) with argv (argv[0]
// included, NULL-terminated) with posix_spawn (never fork: the caller may
// run zmq contexts), stdout inherited. Returns its pid; fails the run if it
// cannot be started.
pid_t bench_spawn_self(char *const argv[]);

// Wait for a child of bench_spawn_self; fail the run (naming what) unless
// it exited 0.
void bench_wait_child(pid_t pid, const char *what);

// Pure arithmetic: iters rounds of a 64-bit mix of seed, one long dependency
// chain (no memory, no system call, no yield), as a parser or a hash keeps
// a core busy. Returns the mix, so the work cannot be optimised away.
uint64_t bench_cpu_work(uint64_t iters, uint64_t seed);

// Rounds of bench_cpu_work() that take ms of CPU time on this machine: the
// rate is measured on the first call (the fastest of three probes on the
// calling thread's CPU clock, about 50 ms in all), so make that call before
// any timed part, from one thread.
uint64_t bench_cpu_iters(double ms);

// Run the calling thread on one CPU, the lowest it may use (so that every
// variant of a run gets the same one); what it creates from now on (threads,
// child processes) inherits that. 0, or -1 if the mask could not be set.
// bench_unpin_cpu gives the thread its former mask back.
int bench_pin_one_cpu(cpu_set_t *saved);
void bench_unpin_cpu(const cpu_set_t *saved);

// A field of /proc/self/status ("VmRSS", "VmHWM") in KiB, or -1.
long bench_status_kb(const char *field);

// Record one figure. baseline NULL: the workload has no baseline (the JSON
// then holds nulls). value may be NaN for a variant not implemented yet
// (printed as "n/a", written as null). The ratio is value / baseline_value.
void bench_add(const char *id, const char *variant, const char *metric,
               const char *unit, double value, const char *baseline,
               double baseline_value);
// The same, for the JSON only (not in the printed table): the extra
// quantiles of a latency distribution, which the table would drown in.
void bench_add_json(const char *id, const char *variant, const char *metric,
                    const char *unit, double value, const char *baseline,
                    double baseline_value);

// A free-form line printed under the table (e.g. W3's memory floor), also
// kept in the meta file as "notes".
__attribute__((format(printf, 1, 2))) void bench_add_note(const char *fmt, ...);

// The machine and the commit, printed above the table and written beside
// the JSON.
typedef struct bench_meta {
    char commit[64];  // git rev-parse --short HEAD, or "unknown"
    char cpu[128];    // model name from /proc/cpuinfo
    char kernel[128]; // uname -r
    long nproc;       // online cores
    char date[40];    // UTC, ISO 8601
    const char *mode; // "full" or "quick"
    int reps;         // repetitions per figure
    double wall_s;    // seconds the whole run took
} bench_meta;

// Fill the machine fields of m (commit is set by the caller).
void bench_meta_fill(bench_meta *m);

// Print every recorded figure as one Markdown table, with m above it.
void bench_print_table(FILE *f, const bench_meta *m);

// Write the figures as a JSON list to path, and m plus the notes to
// path.meta.json. Returns 0, or -1 (errno set) if a file cannot be written.
int bench_write_json(const char *path, const bench_meta *m);

#endif
