// SPDX-License-Identifier: MIT
//
// The actor table (see slots.h), actors layer. Chunks of slots are created on
// demand and never moved or freed before the node ends, so any thread may
// read a slot without a lock; only handing slots out and back takes one.
#include <stdlib.h>

#include "slots.h"
#include "troupe/error.h"

int tr_slots_init(tr_slots *t, uint32_t max_actors)
{
    t->max_chunks = (max_actors + TR_SLOT_CHUNK - 1) / TR_SLOT_CHUNK;
    if (t->max_chunks == 0)
        return TROUPE_EINVAL;
    t->chunks = calloc(t->max_chunks, sizeof *t->chunks);
    if (!t->chunks)
        return TROUPE_ENOMEM;
    pthread_mutex_init(&t->lock, NULL);
    t->free_head = 0;
    t->next_new = 1; // slot 0 is never used: the zero address is nobody
    return 0;
}

void tr_slots_fini(tr_slots *t)
{
    if (!t->chunks)
        return;
    for (uint32_t i = 0; i < t->max_chunks; i++)
        free(atomic_load(&t->chunks[i]));
    free(t->chunks);
    t->chunks = NULL;
    pthread_mutex_destroy(&t->lock);
}

tr_slot *tr_slots_get(tr_slots *t, uint32_t i)
{
    uint32_t c = i / TR_SLOT_CHUNK;
    if (i == 0 || c >= t->max_chunks)
        return NULL;
    tr_slot *chunk = atomic_load_explicit(&t->chunks[c], memory_order_acquire);
    return chunk ? &chunk[i % TR_SLOT_CHUNK] : NULL;
}

// One free slot from the table, under its lock: 0, TROUPE_ELIMIT or
// TROUPE_ENOMEM.
static int s_take(tr_slots *t, uint32_t *index)
{
    uint32_t i = t->free_head;
    if (i) {
        t->free_head = tr_slots_get(t, i)->next_free;
        *index = i;
        return 0;
    }
    i = t->next_new;
    uint32_t c = i / TR_SLOT_CHUNK;
    if (c >= t->max_chunks)
        return TROUPE_ELIMIT;
    if (!atomic_load_explicit(&t->chunks[c], memory_order_relaxed)) {
        tr_slot *chunk = calloc(TR_SLOT_CHUNK, sizeof *chunk);
        if (!chunk)
            return TROUPE_ENOMEM;
        atomic_store_explicit(&t->chunks[c], chunk, memory_order_release);
    }
    t->next_new++;
    *index = i;
    return 0;
}

int tr_slots_alloc(tr_slots *t, tr_slot_cache *cache, uint32_t *index)
{
    if (cache && cache->n) {
        *index = cache->idx[--cache->n];
        return 0;
    }
    pthread_mutex_lock(&t->lock);
    int rc = s_take(t, index);
    // A port thread takes a batch: its next spawns need no lock.
    for (uint32_t k = 1; rc == 0 && cache && k < TR_SLOT_BATCH; k++) {
        uint32_t i;
        if (s_take(t, &i) != 0)
            break; // what is left stays for others
        cache->idx[cache->n++] = i;
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

// Put index on the table's free list, under its lock.
static void s_give(tr_slots *t, uint32_t index)
{
    tr_slots_get(t, index)->next_free = t->free_head;
    t->free_head = index;
}

// Move the n last indices of cache back to the table.
static void s_give_back(tr_slots *t, tr_slot_cache *cache, uint32_t n)
{
    pthread_mutex_lock(&t->lock);
    for (uint32_t k = 0; k < n && cache->n; k++)
        s_give(t, cache->idx[--cache->n]);
    pthread_mutex_unlock(&t->lock);
}

void tr_slots_release(tr_slots *t, tr_slot_cache *cache, uint32_t index)
{
    tr_slot *s = tr_slots_get(t, index);
    atomic_store_explicit(&s->actor, NULL, memory_order_relaxed);
    if (cache) {
        if (cache->n == TR_SLOT_CACHE_MAX)
            s_give_back(t, cache, TR_SLOT_BATCH);
        cache->idx[cache->n++] = index;
        return;
    }
    pthread_mutex_lock(&t->lock);
    s_give(t, index);
    pthread_mutex_unlock(&t->lock);
}

void tr_slots_cache_drain(tr_slots *t, tr_slot_cache *cache)
{
    if (cache->n)
        s_give_back(t, cache, cache->n);
}

uint32_t tr_slot_activate(tr_slot *s)
{
    uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
    uint32_t inc = (uint32_t)(w >> 32);
    if (inc == 0) // incarnation 0 never names anyone
        inc = 1;
    atomic_store_explicit(&s->word, (uint64_t)inc << 32 | TR_SLOT_ALIVE,
                          memory_order_release);
    return inc;
}

uint32_t tr_slot_kill(tr_slot *s)
{
    uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
    uint64_t next;
    do {
        uint32_t inc = (uint32_t)(w >> 32) + 1;
        if (inc == 0)
            inc = 1;
        next = (uint64_t)inc << 32;
    } while (!atomic_compare_exchange_weak_explicit(
        &s->word, &w, next, memory_order_acq_rel, memory_order_relaxed));
    return (uint32_t)(w & TR_SLOT_DEPTH_MASK);
}

void tr_slot_give_n(tr_slot *s, uint32_t n)
{
    atomic_fetch_add_explicit(&s->word, n, memory_order_relaxed);
}

int tr_slot_kill_inc(tr_slot *s, uint32_t inc)
{
    uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
    uint64_t next;
    do {
        if ((uint32_t)(w >> 32) != inc || !(w & TR_SLOT_ALIVE))
            return TROUPE_EDEAD;
        uint32_t n = inc + 1 ? inc + 1 : 1;
        next = (uint64_t)n << 32;
    } while (!atomic_compare_exchange_weak_explicit(
        &s->word, &w, next, memory_order_acq_rel, memory_order_relaxed));
    return 0;
}

int tr_slot_reserve(tr_slot *s, uint32_t inc)
{
    uint64_t w = atomic_load_explicit(&s->word, memory_order_acquire);
    for (;;) {
        if ((uint32_t)(w >> 32) != inc || !(w & TR_SLOT_ALIVE))
            return TROUPE_EDEAD;
        if ((w & TR_SLOT_DEPTH_MASK) >=
            atomic_load_explicit(&s->bound, memory_order_relaxed))
            return TROUPE_EFULL;
        if (atomic_compare_exchange_weak_explicit(&s->word, &w, w + 1,
                                                  memory_order_acq_rel,
                                                  memory_order_acquire))
            return 0;
    }
}

int tr_slot_check(const tr_slot *s, uint32_t inc)
{
    uint64_t w = atomic_load_explicit(&s->word, memory_order_acquire);
    if ((uint32_t)(w >> 32) != inc || !(w & TR_SLOT_ALIVE))
        return TROUPE_EDEAD;
    return 0;
}

void tr_slot_take(tr_slot *s)
{
    atomic_fetch_sub_explicit(&s->word, 1, memory_order_relaxed);
}

void tr_slot_take_n(tr_slot *s, uint32_t n)
{
    atomic_fetch_sub_explicit(&s->word, n, memory_order_relaxed);
}

void tr_slot_untake_n(tr_slot *s, uint32_t n)
{
    atomic_fetch_add_explicit(&s->word, n, memory_order_relaxed);
}

uint32_t tr_slot_depth(const tr_slot *s)
{
    return (uint32_t)(atomic_load_explicit(&s->word, memory_order_relaxed) &
                      TR_SLOT_DEPTH_MASK);
}
