// SPDX-License-Identifier: MIT
//
// What the five mistakes of troupe-async-mistakes share: how an outcome is
// checked and printed, the row each mistake adds to the final table, a node
// whose log lines are captured (so the blocking detector's report can be
// shown), latency statistics, CPU work that is pure arithmetic, and a gate
// that main opens to release a handler it made wait. main.c defines these;
// each mistakeN_*.c runs one mistake, the wrong way and the troupe way.
#ifndef ASYNC_MISTAKES_H
#define ASYNC_MISTAKES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <troupe/troupe.h>

#if defined(__GNUC__)
#define AM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define AM_PRINTF(f, a)
#endif

// ---- options and the final table ----

// Command-line options, read by every mistake.
typedef struct am_opts {
    bool quick;   // --quick: smaller sizes (for CTest and sanitizer builds)
    bool verbose; // -v: the library's log lines go to stderr as they come
} am_opts;

extern am_opts am_opt;

// One row of the final table. Each mistake fills its own.
typedef struct am_row {
    const char *mistake; // "1. CPU work on the loop"
    char wrong[80];      // the figure the wrong way printed
    char right[80];      // the figure the troupe way printed
    char ratio[48];      // how far apart they are
} am_row;

// ---- reporting outcomes ----

// One checked outcome: "  ok   text" if it held, "  FAIL text" if not. A
// failed outcome makes the program exit 1; figures are never checked.
AM_PRINTF(2, 3) void am_fact(bool held, const char *fmt, ...);

// A line of information (a figure, not a check).
AM_PRINTF(1, 2) void am_info(const char *fmt, ...);

// For set-up calls that must work: false (and a FAIL line naming the error)
// if rc is not 0.
bool am_ok(int rc, const char *what);

// ---- nodes with a captured log ----

#define AM_LOG_KEEP 16 // warn lines kept per node

// What the node's log hook kept: the library never prints, it hands each
// line to the hook, from any of its threads (hence the lock).
typedef struct am_log {
    pthread_mutex_t mu;          // guards the fields below
    unsigned warn;               // lines at TROUPE_LOG_WARN or worse
    unsigned kept;               // of which kept in line[]
    char line[AM_LOG_KEEP][320]; // the first AM_LOG_KEEP of them
} am_log;

// A node, main's client handle on it, and its captured log.
typedef struct am_node {
    troupe_node *node;
    troupe_client *me;
    am_log log;
} am_node;

// Start a node with `loops` loops and the options in *o (NULL: defaults;
// the log hook is always set here), and a client for main. false (reported)
// if that failed; then nothing is left to stop.
bool am_node_start(am_node *n, unsigned loops, const troupe_node_opts *o);

// Destroy main's client, stop the node and check that it stopped clean (no
// actor, thread or socket left, every message accounted for), then free it.
void am_node_finish(am_node *n);

// The first kept warn line that contains every one of the given strings
// (up to three; NULL ends the list early), copied into out (cap bytes).
// true if there was one.
bool am_log_find(am_node *n, char *out, size_t cap, const char *a,
                 const char *b, const char *c);

// "actor 3.1:" for addr, the way the library's log lines name an actor.
void am_addr_label(troupe_addr addr, char *out, size_t cap);

// Spawn a shared actor (handler, state pointer, name, loop) from main.
// false (reported) on failure.
bool am_spawn(am_node *n, troupe_handler_fn handler, void *state,
              const char *name, int loop, troupe_addr *addr);

// ---- time and statistics ----

// Microseconds on the monotonic clock.
int64_t am_now_us(void);

// Microseconds of CPU time the whole process (every thread) has used.
int64_t am_cpu_used_us(void);

// The p-th percentile (0..100) of v[0..n), sorted in place; 0 if n is 0.
double am_percentile(double *v, size_t n, double p);

// The median of v[0..n) (sorted in place).
double am_median(double *v, size_t n);

// ---- CPU work ----

// Pure arithmetic: iters rounds of a 64-bit mix of seed. No memory, no
// system call, no yield: what a parser or a hash does to a loop.
uint64_t am_cpu_work(uint64_t iters, uint64_t seed);

// Rounds of am_cpu_work that take about ms of CPU time on this machine
// (measured once at start-up, on the thread's CPU clock).
uint64_t am_cpu_iters(int64_t ms);

// ---- a gate main opens ----

// A handler that "hangs" waits on a gate until main opens it, at most 10 s,
// so nothing in the demo can hang for real.
typedef struct am_gate {
    pthread_mutex_t mu; // guards open
    pthread_cond_t cv;  // broadcast when open turns true
    bool open;          // the waiters may go
} am_gate;

void am_gate_init(am_gate *g);
void am_gate_fini(am_gate *g);
void am_gate_open(am_gate *g);
bool am_gate_wait(am_gate *g); // true if it opened within 10 s

// ---- the five mistakes ----

void mistake1_cpu(am_row *row);
void mistake2_sequential(am_row *row);
void mistake3_blocking(am_row *row);
void mistake4_batch(am_row *row);
void mistake5_timeout(am_row *row);

#endif
