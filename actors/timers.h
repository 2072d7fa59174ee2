// SPDX-License-Identifier: MIT
//
// Timers of one port, actors layer: an indexed binary min-heap of absolute
// deadlines in ms. Each entry knows its heap index, so a request that ends
// early removes its deadline in O(log n) instead of leaving a corpse behind.
// Owned by one port thread; no locks.
#ifndef TR_TIMERS_H
#define TR_TIMERS_H

#include <stddef.h>
#include <stdint.h>

typedef struct tr_timer {
    int64_t when; // absolute deadline, ms
    uint64_t seq; // tie-breaker: equal deadlines fire in start order
    size_t index; // position in the heap; SIZE_MAX when not in it
    int type;     // what to do when it fires (the port decides)
    void *ptr;    // the owner of the timer (an actor, a request, ...)
} tr_timer;

typedef struct tr_timers {
    tr_timer **heap; // heap[0] is the earliest
    size_t len;      // entries in the heap
    size_t cap;      // entries allocated
    uint64_t seq;    // next seq
} tr_timers;

void tr_timers_init(tr_timers *t);
void tr_timers_fini(tr_timers *t); // does not free the entries
// Insert t (which must not be in the heap). 0 or TROUPE_ENOMEM.
int tr_timers_add(tr_timers *h, tr_timer *t);
// Remove t if it is in the heap.
void tr_timers_remove(tr_timers *h, tr_timer *t);
// The earliest entry, or NULL.
tr_timer *tr_timers_peek(const tr_timers *h);

#endif
