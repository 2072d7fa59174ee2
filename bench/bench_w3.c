// SPDX-License-Identifier: MIT
//
// W3 spawn: N light actors, each sent one message, each replying and then
// exiting; actors per second and bytes per actor. Every N runs in a fresh
// child process (this executable again, --child), so that VmHWM, the peak
// resident size, counts this run only: bytes per actor = (VmHWM - VmRSS
// before the spawning) / N. One spawner actor per loop spawns its share from
// inside the loop (troupe_spawn on its own loop runs init inline: the
// cheapest path) and keeps all of them alive until it has sent every one its
// message, so the peak holds N live actors. Baseline: N = 1k threads, each
// with its own PAIR socket pair (what a CZMQ zactor costs). Also measures
// the memory floor: what the first touch of fresh pages costs here.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"

// ---- the child: troupe ----

static int s_light(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)state;
    int rc = troupe_tell(cx, troupe_msg_sender(msg), "done", NULL);
    troupe_exit(cx, 0);
    return rc;
}

// A spawner's state (runtime-owned, zeroed).
typedef struct w3_spawner {
    troupe_addr client; // whom to tell when done
    long n;             // actors to spawn
    long replies;       // "done" received
} w3_spawner;

static int s_spawner(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    w3_spawner *s = state;
    if (troupe_msg_is(msg, "done")) {
        if (++s->replies == s->n)
            return troupe_tell(cx, s->client, "done", "[I]",
                               (int64_t)s->replies);
        return 0;
    }
    if (!troupe_msg_is(msg, "spawn"))
        return TROUPE_ENOTSUP;
    int64_t n;
    int rc = troupe_msg_read(msg, "[I]", &n);
    if (rc)
        return rc;
    s->client = troupe_msg_sender(msg);
    s->n = (long)n;
    s->replies = 0;
    troupe_actor_spec spec = troupe_actor_spec_default();
    spec.handler = s_light; // loop AUTO: this loop, started inline
    for (long i = 0; i < s->n; i++) {
        troupe_addr a;
        if ((rc = troupe_spawn(cx, &spec, &a)) != 0 ||
            (rc = troupe_tell(cx, a, "hi", NULL)) != 0)
            return rc;
    }
    if (s->n == 0)
        return troupe_tell(cx, s->client, "done", "[I]", (int64_t)0);
    return 0;
}

static int64_t s_child_light(long n, long *rss0)
{
    troupe_node *node = bench_node_new(0);
    unsigned loops = troupe_node_loops(node);
    troupe_addr sp[64];
    if (loops > 64)
        loops = 64;
    troupe_actor_spec spec = troupe_actor_spec_default();
    spec.handler = s_spawner;
    spec.state_size = sizeof(w3_spawner);
    // Every light actor's "done" lands in its spawner's mailbox before the
    // spawner runs again: lift the bound for the spawners.
    spec.mailbox_bound = 0x7fffffff;
    for (unsigned i = 0; i < loops; i++) {
        spec.loop = TROUPE_LOOP((int)i);
        bench_ok(
            troupe_node_spawn(node, &spec, troupe_deadline_in(10000), &sp[i]),
            "spawn spawner");
    }
    troupe_client *c;
    bench_ok(troupe_client_new(node, &c), "client");
    troupe_node_stats st0, st1;
    bench_ok(troupe_node_stats_get(node, &st0), "stats");
    *rss0 = bench_status_kb("VmRSS"); // node, loops and spawners included
    int64_t t0 = bench_now_ns();
    for (unsigned i = 0; i < loops; i++) {
        long share = n / (long)loops + ((long)i < n % (long)loops ? 1 : 0);
        bench_ok(troupe_client_tell(c, sp[i], "spawn", "[I]", (int64_t)share),
                 "W3 spawn");
    }
    int64_t total = 0;
    for (unsigned i = 0; i < loops; i++) {
        troupe_msg *m;
        bench_ok(troupe_client_recv(c, troupe_deadline_in(600000), &m),
                 "W3 wait");
        int64_t k = 0;
        if (!troupe_msg_is(m, "done") || troupe_msg_read(m, "[I]", &k) != 0)
            bench_fail("W3: unexpected message %s", troupe_msg_tag(m));
        total += k;
        troupe_msg_destroy(&m);
    }
    int64_t dt = bench_now_ns() - t0;
    bench_ok(troupe_node_stats_get(node, &st1), "stats");
    if (total != n)
        bench_fail("W3: %lld replies, want %ld", (long long)total, n);
    if (st1.spawned - st0.spawned != (uint64_t)n ||
        st1.exited - st0.exited != (uint64_t)n ||
        st1.live_actors != st0.live_actors)
        bench_fail("W3: stats say %llu spawned, %llu exited, %llu live "
                   "(want %ld, %ld, %llu)",
                   (unsigned long long)(st1.spawned - st0.spawned),
                   (unsigned long long)(st1.exited - st0.exited),
                   (unsigned long long)st1.live_actors, n, n,
                   (unsigned long long)st0.live_actors);
    troupe_client_destroy(&c);
    bench_ok(troupe_node_destroy(&node), "node destroy");
    return dt;
}

int bench_w3_child(const char *kind, long n)
{
    long rss0;
    int64_t dt;
    if (strcmp(kind, "thread") == 0) {
        rss0 = bench_status_kb("VmRSS");
        dt = bl_thread_sockets(n);
    } else if (strcmp(kind, "light") == 0) {
        dt = s_child_light(n, &rss0);
    } else {
        fprintf(stderr, "troupe-bench: unknown child kind %s\n", kind);
        return 2;
    }
    long hwm = bench_status_kb("VmHWM");
    printf("W3CHILD %lld %ld %ld\n", (long long)dt, rss0, hwm);
    fflush(stdout);
    return 0;
}

// ---- the parent ----

// Run `argv0 --child kind n` and read its result line.
static void s_child(const bench_cfg *cfg, const char *kind, long n,
                    double *per_s, double *bytes)
{
    char nbuf[32], buf[256];
    snprintf(nbuf, sizeof nbuf, "%ld", n);
    char *argv[] = {(char *)cfg->argv0, "--child", (char *)kind, nbuf, NULL};
    bench_run_child(argv, buf, sizeof buf);
    long long dt;
    long rss0, hwm;
    if (sscanf(buf, "W3CHILD %lld %ld %ld", &dt, &rss0, &hwm) != 3 || dt <= 0 ||
        rss0 < 0 || hwm < 0)
        bench_fail("W3 child (%s %ld): bad output '%s'", kind, n, buf);
    // The kernel's RSS counters lag by up to 64 pages a thread: a small N
    // whose actors fit memory touched already (an actor region, docs/
    // design.md) can read a peak a few KiB under the start.
    if (hwm < rss0)
        hwm = rss0;
    *per_s = (double)n / ((double)dt / 1e9);
    *bytes = (double)(hwm - rss0) * 1024.0 / (double)n;
}

// µs to first-touch one 4 KiB page of a fresh 64 MiB mapping, with or
// without MADV_HUGEPAGE: the median of 5 mappings (the first touch of guest
// memory the VM never backed yet costs more than of memory it recycles).
static double s_touch_us(int huge)
{
    size_t len = 64u << 20;
    double us[5];
    for (int r = 0; r < 5; r++) {
        unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return NAN;
        if (huge)
            madvise(p, len, MADV_HUGEPAGE);
        int64_t t0 = bench_now_ns();
        for (size_t i = 0; i < len; i += 4096)
            p[i] = 1;
        int64_t dt = bench_now_ns() - t0;
        munmap(p, len);
        us[r] = (double)dt / 1e3 / (double)(len / 4096);
    }
    return bench_median(us, 5);
}

void bench_w3(const bench_cfg *cfg)
{
    struct {
        const char *variant; // JSON variant or baseline
        const char *kind;    // child kind
        long n;              // actors
        double per_s[16], bytes[16];
    } runs[] = {
        {"light-100k", "light", cfg->w3_small, {0}, {0}},
        {"light-1m", "light", cfg->w3_large, {0}, {0}},
        {"thread-socket-1k", "thread", cfg->w3_threads, {0}, {0}},
    };
    enum {
        NR = sizeof runs / sizeof runs[0]
    };
    for (int r = 0; r < cfg->reps; r++) {
        for (size_t i = 0; i < NR; i++) {
            if (!bench_want(cfg, runs[i].variant))
                continue;
            s_child(cfg, runs[i].kind, runs[i].n, &runs[i].per_s[r],
                    &runs[i].bytes[r]);
            bench_note("W3 %-18s n=%ld: %.0f actors/s, %.0f bytes/actor",
                       runs[i].variant, runs[i].n, runs[i].per_s[r],
                       runs[i].bytes[r]);
        }
    }
    size_t n = (size_t)cfg->reps;
    int base_ran = bench_want(cfg, runs[NR - 1].variant);
    double base_s = base_ran ? bench_median(runs[NR - 1].per_s, n) : NAN;
    double base_b = base_ran ? bench_median(runs[NR - 1].bytes, n) : NAN;
    for (size_t i = 0; i + 1 < NR; i++) {
        if (!bench_want(cfg, runs[i].variant))
            continue;
        bench_add("W3", runs[i].variant, "actors_per_s", "actors/s",
                  bench_median(runs[i].per_s, n), runs[NR - 1].variant, base_s);
        bench_add("W3", runs[i].variant, "bytes_per_actor", "bytes",
                  bench_median(runs[i].bytes, n), runs[NR - 1].variant, base_b);
    }
    // The floor: what fresh memory alone costs at the measured size.
    if (!bench_want(cfg, runs[0].variant))
        return;
    double plain = s_touch_us(0), huge = s_touch_us(1);
    double b = bench_median(runs[0].bytes, n);
    double pages = b / 4096.0;
    bench_add_note(
        "W3 memory floor: the first touch of a fresh 4 KiB page costs "
        "%.2f us here (%.2f us per 4 KiB with MADV_HUGEPAGE). At the %.0f "
        "bytes/actor of %s, fresh memory alone caps spawning at %.0f "
        "actors/s (%.0f with huge pages). WORKLOADS.md's yardstick: "
        "~14 us and ~3.6 us per page, i.e. ~290k/s and ~1.1M/s at 1 KiB "
        "per actor.",
        plain, huge, b, runs[0].variant, 1e6 / (pages * plain),
        1e6 / (pages * huge));
}
