// SPDX-License-Identifier: MIT
//
// Per-thread message pools, actors layer (see msg_pool.h). A pool has a
// free list only its thread touches and a lock-free stack that other
// threads push given-back chunks onto; the owner takes the whole stack at
// once when its free list runs dry (push + take-all has no ABA problem).
// When the owner ends, it marks the stack with a sentinel; later frees see
// it and let go of their chunk instead. Chunks are carved from the pool's
// own regions (mem_region.h: 2 MiB huge pages after a first 64 KiB), never
// freed one by one: `refs` counts chunks not let go of plus one for the
// owner, and whoever brings it to zero unmaps the regions and frees the
// pool. So a thread keeps the chunks of its peak until it ends.
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "mem_region.h"
#include "msg_pool.h"
#include "troupe/error.h"

// Bytes of a pool's first region (mem_region.h); the next are 2 MiB.
#define S_FIRST (64u << 10)

typedef struct s_chunk {
    struct s_chunk *next; // free-list link, while the chunk is free
} s_chunk;

// The owner's fields and the shared ones live on separate cache lines:
// other threads push onto `returned` while the owner pops from `local`.
struct tr_msg_pool {
    size_t chunk;            // bytes of its chunks (its size class)
    s_chunk *local;          // owner's free list
    s_chunk *stash;          // taken from `returned`, not walked
    tr_regions regions;      // where its chunks are carved from
    char *carve, *carve_end; // what the newest region has left
    _Alignas(64) _Atomic(s_chunk *) returned; // given back by other threads
    atomic_size_t refs; // chunks not freed, + 1 for the owner
};

// Chunks this thread gives back to another thread's pool wait in a short
// chain and go back in one CAS (tr_msg_pool_flush): a stream from one loop
// to another then moves the pool's shared line once per batch, not once
// per message.
#define S_BACK_MAX 64
typedef struct s_back {
    tr_msg_pool *home; // whose chunks, or NULL
    s_chunk *head, *tail;
    size_t n;
} s_back;
static _Thread_local s_back s_back_chain
    __attribute__((tls_model("initial-exec")));

static s_chunk s_orphan;       // `returned` of a pool whose owner has ended
static atomic_size_t s_mapped; // bytes in the regions of all pools
// A thread's pools, one per size class: most messages (a short tag and a
// small body) fit the small chunks, and a mailbox of them then costs half.
#define S_CLASSES 2
static const size_t s_chunk_size[S_CLASSES] = {TR_MSG_POOL_CHUNK / 2,
                                               TR_MSG_POOL_CHUNK};
static _Thread_local tr_msg_pool *s_pools[S_CLASSES]
    __attribute__((tls_model("initial-exec")));

// Ask for the lines of chunk c (if any) for writing, ahead of time. The
// chunk was last written by the thread that gave it back; a plain prefetch
// would bring its lines shared, and the first store would then wait for
// the other core once more. (PREFETCHW: a no-op on x86 CPUs without it.)
static inline void s_prefetch_w(const s_chunk *c, size_t bytes)
{
    if (!c)
        return;
    for (size_t off = 0; off < bytes; off += 64) {
#if defined(__x86_64__) || defined(__i386__)
        __asm__ volatile("prefetchw %0" ::"m"(((const char *)c)[off]));
#else
        __builtin_prefetch((const char *)c + off, 1, 3);
#endif
    }
}

// Drop n chunk references; the one that reaches zero frees the pool and
// its regions (every chunk is back).
static void s_unref(tr_msg_pool *p, size_t n)
{
    if (atomic_fetch_sub_explicit(&p->refs, n, memory_order_acq_rel) == n) {
        atomic_fetch_sub_explicit(&s_mapped, p->regions.mapped,
                                  memory_order_relaxed);
        tr_regions_unmap(&p->regions);
        free(p);
    }
}

// A fresh chunk, carved from the pool's regions (a new one if need be), or
// NULL.
static s_chunk *s_carve(tr_msg_pool *p)
{
    if ((size_t)(p->carve_end - p->carve) < p->chunk) {
        size_t before = p->regions.mapped;
        char *end, *at = tr_region_new(&p->regions, S_FIRST, &end);
        if (!at)
            return NULL;
        p->carve = at;
        p->carve_end = end;
        atomic_fetch_add_explicit(&s_mapped, p->regions.mapped - before,
                                  memory_order_relaxed);
    }
    s_chunk *c = (s_chunk *)p->carve;
    p->carve += p->chunk;
    return c;
}

void *tr_msg_pool_alloc(size_t size, tr_msg_pool **home)
{
    tr_msg_pool *p = size <= s_chunk_size[0] ? s_pools[0] : s_pools[1];
    if (!p || size > TR_MSG_POOL_CHUNK) {
        *home = NULL;
        return malloc(size);
    }
    // Reuse the owner's own free list first, then what other threads gave
    // back (taken all at once, and popped one by one: walking it would
    // pull every chunk's cache line across at once).
    // The next chunk's line is fetched while this one is filled: a chunk
    // given back by another thread is a cache miss, and popping them one
    // by one would take each miss in turn.
    s_chunk *c = p->local;
    if (c) {
        p->local = c->next;
        s_prefetch_w(p->local, p->chunk);
    } else if (p->stash || (p->stash = atomic_exchange_explicit(
                                &p->returned, NULL, memory_order_acquire))) {
        c = p->stash;
        p->stash = c->next;
        s_prefetch_w(p->stash, p->chunk);
    } else {
        if (!(c = s_carve(p))) {
            *home = NULL;
            return malloc(size); // NULL too, most likely
        }
        atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    }
    *home = p;
    return c;
}

// Push the chain head..tail of n chunks back onto home's stack, or free
// them if home's thread has ended.
static void s_push_back(tr_msg_pool *home, s_chunk *head, s_chunk *tail,
                        size_t n)
{
    s_chunk *top = atomic_load_explicit(&home->returned, memory_order_relaxed);
    do {
        if (top == &s_orphan) { // its thread has ended: let go of them
            s_unref(home, n);
            return;
        }
        tail->next = top;
    } while (!atomic_compare_exchange_weak_explicit(&home->returned, &top, head,
                                                    memory_order_release,
                                                    memory_order_relaxed));
}

void tr_msg_pool_free(void *mem, tr_msg_pool *home)
{
    if (!mem)
        return;
    if (!home) {
        free(mem);
        return;
    }
    s_chunk *c = mem;
    if (home == s_pools[0] || home == s_pools[1]) { // this thread's
        c->next = home->local;
        home->local = c;
        return;
    }
    if (!s_pools[0]) { // a thread without pools has no turns to flush at
        s_push_back(home, c, c, 1);
        return;
    }
    s_back *b = &s_back_chain;
    if (b->home != home || b->n >= S_BACK_MAX)
        tr_msg_pool_flush();
    c->next = b->head;
    b->head = c;
    if (!b->tail)
        b->tail = c;
    b->home = home;
    b->n++;
}

void tr_msg_pool_flush(void)
{
    s_back *b = &s_back_chain;
    if (b->home)
        s_push_back(b->home, b->head, b->tail, b->n);
    *b = (s_back){0};
}

int tr_msg_pool_enter(void)
{
    if (!TR_MSG_POOLED || s_pools[0])
        return 0;
    for (int k = 0; k < S_CLASSES; k++) {
        tr_msg_pool *p = calloc(1, sizeof *p);
        if (!p) {
            tr_msg_pool_leave(); // what was made; this thread mallocs
            return TROUPE_ENOMEM;
        }
        p->chunk = s_chunk_size[k];
        atomic_init(&p->returned, NULL);
        atomic_init(&p->refs, 1);
        s_pools[k] = p;
    }
    return 0;
}

static size_t s_count(const s_chunk *c)
{
    size_t n = 0;
    for (; c; c = c->next)
        n++;
    return n;
}

void tr_msg_pool_leave(void)
{
    tr_msg_pool_flush(); // before this thread's own pools go
    for (int k = 0; k < S_CLASSES; k++) {
        tr_msg_pool *p = s_pools[k];
        if (!p)
            continue;
        s_pools[k] = NULL;
        s_chunk *back = atomic_exchange_explicit(&p->returned, &s_orphan,
                                                 memory_order_acquire);
        // The chunks it holds are let go of; those other threads hold
        // are when they give them back (s_push_back).
        s_unref(p, s_count(p->local) + s_count(p->stash) + s_count(back) + 1);
    }
}

size_t tr_msg_pool_mapped(void)
{
    return atomic_load_explicit(&s_mapped, memory_order_relaxed);
}
