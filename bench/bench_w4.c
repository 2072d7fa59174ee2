// SPDX-License-Identifier: MIT
//
// W4 ring: a token goes round a ring of actors, each telling the next one
// the count of hops left, until it reaches 0; hops per second. `ring-1000`
// spreads the ring round-robin over every loop (actor i on loop i % loops,
// so on 2 loops every hop crosses threads); `ring-1000-blocks` spreads it
// in one run of neighbours per loop (actor i on loop i * loops / size: a
// round crosses threads `loops` times, as where chatty actors are placed
// together); `ring-1000-one-loop` keeps it on loop 0. No baseline. The run
// checks which actor ends the token and that the actors together saw every hop.
#include <stdlib.h>

#include "bench.h"

// One ring member's state, owned by the benchmark (spec.state). `next` and
// `client` are written before the token starts and only read after.
typedef struct w4_member {
    troupe_addr next;   // the next member
    troupe_addr client; // told when the token reaches 0
    long index;         // position in the ring
    long received;      // tokens handled
} w4_member;

static int s_member(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    w4_member *m = state;
    int64_t left;
    int rc = troupe_msg_read(msg, "[I]", &left);
    if (rc)
        return rc;
    m->received++;
    if (left == 0)
        return troupe_tell(cx, m->client, "done", "[I]", (int64_t)m->index);
    return troupe_tell(cx, m->next, "tok", "[I]", left - 1);
}

typedef enum w4_layout {
    W4_ROUND_ROBIN, // member i on loop i % loops
    W4_BLOCKS,      // member i on loop i * loops / size
    W4_ONE_LOOP,    // all on loop 0
} w4_layout;

typedef struct w4_variant {
    const char *name; // JSON variant
    w4_layout layout; // where the members live
} w4_variant;

static int s_loop_of(const w4_variant *v, long i, long size, unsigned loops)
{
    switch (v->layout) {
    case W4_ROUND_ROBIN:
        return (int)(i % (long)loops);
    case W4_BLOCKS:
        return (int)(i * (long)loops / size);
    default:
        return 0;
    }
}

static double s_run(const bench_cfg *cfg, const w4_variant *v)
{
    troupe_node *node = bench_node_new(0);
    unsigned loops = troupe_node_loops(node);
    long size = cfg->w4_ring;
    w4_member *ring = calloc((size_t)size, sizeof *ring);
    troupe_addr *addr = calloc((size_t)size, sizeof *addr);
    if (!ring || !addr)
        bench_fail("out of memory");
    troupe_client *c;
    bench_ok(troupe_client_new(node, &c), "client");
    for (long i = 0; i < size; i++) {
        troupe_actor_spec spec = troupe_actor_spec_default();
        spec.handler = s_member;
        spec.state = &ring[i];
        spec.loop = TROUPE_LOOP(s_loop_of(v, i, size, loops));
        ring[i].index = i;
        ring[i].client = troupe_client_addr(c);
        bench_ok(
            troupe_node_spawn(node, &spec, troupe_deadline_in(10000), &addr[i]),
            "spawn ring member");
    }
    for (long i = 0; i < size; i++)
        ring[i].next = addr[(i + 1) % size];
    int64_t hops = cfg->w4_hops;
    int64_t t0 = bench_now_ns();
    bench_ok(troupe_client_tell(c, addr[0], "tok", "[I]", hops), "W4 start");
    troupe_msg *m;
    bench_ok(troupe_client_recv(c, troupe_deadline_in(600000), &m), "W4 wait");
    int64_t dt = bench_now_ns() - t0;
    int64_t last = -1;
    if (!troupe_msg_is(m, "done") || troupe_msg_read(m, "[I]", &last) != 0)
        bench_fail("W4: unexpected message %s", troupe_msg_tag(m));
    troupe_msg_destroy(&m);
    long seen = 0;
    for (long i = 0; i < size; i++)
        seen += ring[i].received;
    if (last != hops % size || seen != hops + 1)
        bench_fail("W4 %s: token ended at %lld (want %lld), %ld handled "
                   "(want %lld)",
                   v->name, (long long)last, (long long)(hops % size), seen,
                   (long long)(hops + 1));
    troupe_client_destroy(&c);
    bench_ok(troupe_node_destroy(&node), "node destroy");
    free(addr);
    free(ring);
    return (double)hops / ((double)dt / 1e9);
}

void bench_w4(const bench_cfg *cfg)
{
    static const w4_variant vs[] = {
        {"ring-1000", W4_ROUND_ROBIN},
        {"ring-1000-blocks", W4_BLOCKS},
        {"ring-1000-one-loop", W4_ONE_LOOP},
    };
    enum {
        NV = sizeof vs / sizeof vs[0]
    };
    double t[NV][16];
    for (int r = 0; r < cfg->reps; r++) {
        for (size_t i = 0; i < NV; i++) {
            if (!bench_want(cfg, vs[i].name))
                continue;
            t[i][r] = s_run(cfg, &vs[i]);
            bench_note("W4 %-18s rep %d: %.0f hops/s", vs[i].name, r + 1,
                       t[i][r]);
        }
    }
    for (size_t i = 0; i < NV; i++)
        if (bench_want(cfg, vs[i].name))
            bench_add("W4", vs[i].name, "hops_per_s", "hops/s",
                      bench_median(t[i], (size_t)cfg->reps), NULL, 0);
}
