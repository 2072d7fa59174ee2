// SPDX-License-Identifier: MIT
//
// troupe-bench: runs the workloads of WORKLOADS.md that troupe can run today
// and prints one Markdown table (and, with --json, a JSON list). bench/run is
// the entry point people use; it builds this in Release and passes the
// commit. Usage:
//   troupe-bench [--quick|--long|--smoke] [--only W1,W3] [--json FILE]
//                [--reps N] [--commit HASH] [--variant NAME,...]
// --variant runs only the named variants and baselines (to profile one).
// --smoke is --quick at the smallest sizes that still run every variant,
// once: what the bench_quick test runs to check that every workload
// completes and the output parses. Its figures mean nothing.
//   troupe-bench --child KIND ARGS...  (internal: the fresh processes of
//                                       W3, of the remote-ipc variants and
//                                       of the raw two-process baselines)
// It is also the program of its own process actors (W1 and W2
// process-ipc, W6 process): main() hands them to troupe_proc_child() first.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bench.h"

troupe_node *bench_node_new(unsigned loops)
{
    troupe_node_opts o;
    troupe_node_opts_init(&o);
    o.loops = loops;
    troupe_node *n;
    bench_ok(troupe_node_new(&n, &o), "troupe_node_new");
    return n;
}

// The workloads, in the order they run, with the ids, variants and metrics
// of WORKLOADS.md's "Names in the JSON output". A workload whose feature is
// missing would have NULL here and be skipped.
static const struct {
    const char *id;
    void (*run)(const bench_cfg *cfg);
    const char *what;
} s_workloads[] = {
    {"W1", bench_w1, "ping-pong"},
    {"W2", bench_w2, "one-way stream"},
    {"W3", bench_w3, "spawn"},
    {"W4", bench_w4, "ring"},
    {"W5", bench_w5, "gather"},
    {"W6", bench_w6, "restart"},
    {"W7", bench_w7, "CPU isolation"},
    {"W8", bench_w8, "the seed's service (CPU jobs among trivial requests)"},
};
#define S_NW (sizeof s_workloads / sizeof s_workloads[0])

static void s_usage(void)
{
    fprintf(stderr, "usage: troupe-bench [--quick|--long|--smoke] "
                    "[--only W1,W3] [--json FILE] [--reps N]\n"
                    "                    [--commit HASH] [--variant NAME,...]"
                    "\n");
    exit(2);
}

// If this process was started as a process actor (W1 process-ipc, W2
// process-ipc, W6 process), serve it and return true with the exit status.
static bool s_proc_child(int *code)
{
    // W6's child crashes on purpose, a thousand times: no WARN line each.
    troupe_node_opts quiet;
    troupe_node_opts_init(&quiet);
    quiet.loops = 1;
    quiet.log_level = TROUPE_LOG_ERROR;
    const troupe_proc_kind kinds[] = {
        {.kind = BENCH_KIND_W1, .actor = bench_w1_proc_actor()},
        {.kind = BENCH_KIND_W2, .actor = bench_w2_proc_actor()},
        {.kind = BENCH_KIND_W6, .actor = bench_w6_proc_actor(), .opts = &quiet},
    };
    return troupe_proc_child(kinds, sizeof kinds / sizeof kinds[0], code);
}

int64_t bench_main_ns;

int main(int argc, char **argv)
{
    bench_main_ns = bench_now_ns(); // a clock read: no thread, no state
    // First of all: a process actor's child serves its actor and exits.
    int code;
    if (s_proc_child(&code))
        return code;
    // Fresh processes that a workload starts (internal).
    if (argc == 4 && strcmp(argv[1], "--child") == 0 &&
        strcmp(argv[2], "raw-echo") == 0)
        return bl_child_echo(argv[3]);
    if (argc == 4 && strcmp(argv[1], "--child") == 0 &&
        strcmp(argv[2], "idle") == 0)
        return bl_child_idle(argv[3]);
    if (argc == 6 && strcmp(argv[1], "--child") == 0 &&
        strcmp(argv[2], "raw-stream") == 0)
        return bl_child_stream(argv[3], strtol(argv[4], NULL, 10),
                               (int)strtol(argv[5], NULL, 10));
    if (argc == 6 && strcmp(argv[1], "--child") == 0 &&
        strcmp(argv[2], "w1-remote") == 0)
        return bench_w1_remote_child(argv[3], strtol(argv[4], NULL, 10),
                                     strtol(argv[5], NULL, 10));
    if (argc == 5 && strcmp(argv[1], "--child") == 0 &&
        strcmp(argv[2], "w2-remote") == 0)
        return bench_w2_remote_child(argv[3], strtol(argv[4], NULL, 10));
    if (argc == 4 && strcmp(argv[1], "--child") == 0)
        return bench_w3_child(argv[2], strtol(argv[3], NULL, 10));

    bench_cfg cfg = {.argv0 = argv[0]};
    const char *only = NULL, *json = NULL, *commit = "unknown";
    int reps = 0, long_mode = 0, smoke = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            cfg.quick = 1;
        else if (strcmp(argv[i], "--long") == 0)
            long_mode = 1;
        else if (strcmp(argv[i], "--smoke") == 0)
            smoke = cfg.quick = 1;
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc)
            json = argv[++i];
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--variant") == 0 && i + 1 < argc)
            cfg.only_variants = argv[++i];
        else if (strcmp(argv[i], "--commit") == 0 && i + 1 < argc)
            commit = argv[++i];
        else
            s_usage();
    }
    if (only) { // every listed id must exist
        for (const char *p = only; *p;) {
            size_t k = strcspn(p, ",");
            int found = 0;
            for (size_t w = 0; w < S_NW; w++)
                found |= strlen(s_workloads[w].id) == k &&
                         strncasecmp(p, s_workloads[w].id, k) == 0;
            if (!found) {
                fprintf(stderr, "troupe-bench: unknown workload '%.*s'\n",
                        (int)k, p);
                return 2;
            }
            p += k;
            if (*p == ',')
                p++;
        }
    }
    // Sizes of WORKLOADS.md. In a full run the repetitions share the
    // stated size (W1 200k round trips = 5 x 40k, W2 5M messages = 5 x 1M,
    // W4 1M hops = 5 x 200k, W8 1,000 requests = 5 x 200), so that the run
    // stays under 5 minutes on 2 cores, where a cross-thread round trip
    // costs 20-40 us; --long runs the stated size in every repetition.
    // W3's N is what it measures: never shared. --quick (a smoke run: under
    // 30 s): 3 repetitions, W1 12k round trips, W4 100k hops and W8 200
    // requests shared the same way, W1 warm-up 200, W2 100k messages per
    // repetition, W3 N = 10k and 100k. W6's 1,000 restarts are a sample
    // size (for p99), not a total: every repetition takes 1,000 (200 with
    // --quick) after 100 (20) of warm-up; a process child's restart or
    // spawn starts a process (10-30 ms), so those take 50 (20; --smoke 5)
    // after 5 (2; 1). W5 takes 10 samples (3 with
    // --quick) after one of warm-up. W7's 3 s is not split: how long a
    // light actor can wait behind a heavy one depends on it; one 3 s run
    // (about 3,000 pings) per variant (600 ms with --quick), and --long runs
    // `reps` of them. --smoke: one repetition, a tenth of --quick or less.
    cfg.reps = smoke ? 1 : cfg.quick ? 3 : 5;
    if (reps > 0)
        cfg.reps = reps;
    if (cfg.reps > 16)
        cfg.reps = 16;
    long share = long_mode ? 1 : cfg.reps;
    long w1 = smoke ? 2000 : cfg.quick ? 12000 : 200000;
    long w2 = smoke ? 10000 : cfg.quick ? 100000 * share : 5000000;
    long w4 = smoke ? 10000 : cfg.quick ? 100000 : 1000000;
    long w8 = smoke ? 60 : cfg.quick ? 200 : 1000;
    cfg.w1_warmup = smoke ? 100 : cfg.quick ? 200 : 1000;
    cfg.w1_rounds = (w1 + share - 1) / share;
    cfg.w2_msgs = (w2 + share - 1) / share;
    cfg.w3_small = smoke ? 1000 : cfg.quick ? 10000 : 100000;
    cfg.w3_large = smoke ? 10000 : cfg.quick ? 100000 : 1000000;
    cfg.w3_threads = smoke ? 100 : 1000;
    cfg.w4_ring = 1000;
    cfg.w4_hops = (w4 + share - 1) / share;
    cfg.w5_samples = smoke ? 1 : cfg.quick ? 3 : 10;
    cfg.w6_restarts = smoke ? 50 : cfg.quick ? 200 : 1000;
    cfg.w6_warmup = smoke ? 5 : cfg.quick ? 20 : 100;
    cfg.w6_proc_restarts = smoke ? 5 : cfg.quick ? 20 : 50;
    cfg.w6_proc_warmup = smoke ? 1 : cfg.quick ? 2 : 5;
    cfg.w7_ms = smoke ? 200 : cfg.quick ? 600 : 3000;
    cfg.w7_reps = long_mode ? cfg.reps : 1;
    cfg.w8_requests = (w8 + share - 1) / share;
    bench_add_note("Sizes: %d repetitions of W1 %ld round trips (after %ld "
                   "of warm-up each), W2 %ld messages, W3 N = %ld and %ld "
                   "(baseline %ld threads), W4 %ld hops round %ld actors, "
                   "W5 %ld samples, W6 %ld restarts or spawns (after %ld of "
                   "warm-up; process children %ld after %ld), W8 %ld "
                   "requests; W7 %d run(s) of %ld ms of heavy jobs. Each "
                   "figure is the median of the repetitions.",
                   cfg.reps, cfg.w1_rounds, cfg.w1_warmup, cfg.w2_msgs,
                   cfg.w3_small, cfg.w3_large, cfg.w3_threads, cfg.w4_hops,
                   cfg.w4_ring, cfg.w5_samples, cfg.w6_restarts, cfg.w6_warmup,
                   cfg.w6_proc_restarts, cfg.w6_proc_warmup, cfg.w8_requests,
                   cfg.w7_reps, cfg.w7_ms);

    bench_meta meta = {.mode = smoke       ? "smoke"
                               : cfg.quick ? "quick"
                               : long_mode ? "long"
                                           : "full",
                       .reps = cfg.reps};
    bench_meta_fill(&meta);
    snprintf(meta.commit, sizeof meta.commit, "%s", commit);
    fprintf(stderr, "troupe-bench: %s run, %d repetitions, commit %s\n",
            meta.mode, cfg.reps, meta.commit);

    int64_t t0 = bench_now_ns();
    for (size_t w = 0; w < S_NW; w++) {
        if (!bench_listed(only, s_workloads[w].id))
            continue;
        if (!s_workloads[w].run) {
            fprintf(stderr, "%s %s: not implemented yet, skipped\n",
                    s_workloads[w].id, s_workloads[w].what);
            continue;
        }
        int64_t ws = bench_now_ns();
        fprintf(stderr, "%s %s\n", s_workloads[w].id, s_workloads[w].what);
        s_workloads[w].run(&cfg);
        fprintf(stderr, "%s done in %.1f s\n", s_workloads[w].id,
                (double)(bench_now_ns() - ws) / 1e9);
    }
    meta.wall_s = (double)(bench_now_ns() - t0) / 1e9;

    bench_print_table(stdout, &meta);
    fflush(stdout);
    if (json && bench_write_json(json, &meta) != 0) {
        perror(json);
        return 1;
    }
    return 0;
}
