// SPDX-License-Identifier: MIT
//
// The actor table, actors layer: slots indexed by troupe_addr.slot, each with
// one 64-bit word that packs the incarnation, an alive bit and the mailbox
// depth, so that a sender checks "is this incarnation alive, is its mailbox
// full" and reserves room in one compare-and-swap, and an actor's death
// (incarnation + 1, depth 0) is one store that every later send sees.
#ifndef TR_SLOTS_H
#define TR_SLOTS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "troupe/common.h"

#define TR_SLOT_CHUNK 4096u

// word = incarnation << 32 | alive << 31 | depth (31 bits)
#define TR_SLOT_ALIVE (1ull << 31)
#define TR_SLOT_DEPTH_MASK (TR_SLOT_ALIVE - 1)

typedef struct tr_slot {
    _Atomic uint64_t word;  // see above
    _Atomic uint32_t port;  // id of the port that owns the actor
    _Atomic uint32_t bound; // mailbox bound, set before the slot goes alive
    _Atomic(void *) actor;  // the tr_actor; read only by the owning port
    uint32_t next_free;     // free-list link, under the table's lock
} tr_slot;

typedef struct tr_slots {
    _Atomic(tr_slot *) *chunks; // max_chunks pointers, chunks made on demand
    uint32_t max_chunks;        // capacity / TR_SLOT_CHUNK
    pthread_mutex_t lock;       // guards the free list and chunk creation
    uint32_t free_head;         // first free slot, 0: none
    uint32_t next_new;          // next never-used slot index
} tr_slots;

int tr_slots_init(tr_slots *t, uint32_t max_actors);
void tr_slots_fini(tr_slots *t);

// The slot at index i, or NULL if i was never handed out. Thread: any.
tr_slot *tr_slots_get(tr_slots *t, uint32_t i);

// A port thread's own free slot indices (only its thread touches it):
// slots go between it and the table TR_SLOT_BATCH at a time, so that a
// loop spawning and ending actors takes the table's lock once per batch,
// not twice per actor (two loops spawning contended on it, W3).
#define TR_SLOT_BATCH 32u
#define TR_SLOT_CACHE_MAX (2 * TR_SLOT_BATCH)
typedef struct tr_slot_cache {
    uint32_t n;                      // indices in idx
    uint32_t idx[TR_SLOT_CACHE_MAX]; // free, dead slots
} tr_slot_cache;

// Take a free slot (from cache when it has one; cache may be NULL): returns
// 0 and *index with the slot dead (alive bit 0) and its incarnation fresh,
// or TROUPE_ELIMIT / TROUPE_ENOMEM. max_actors counts the slots cached by
// port threads as taken (at most TR_SLOT_CACHE_MAX per port).
int tr_slots_alloc(tr_slots *t, tr_slot_cache *cache, uint32_t *index);
// Give a dead slot back (to cache when there is one and it has room).
void tr_slots_release(tr_slots *t, tr_slot_cache *cache, uint32_t index);
// Give every slot of cache back to the table (a port thread ending).
void tr_slots_cache_drain(tr_slots *t, tr_slot_cache *cache);

// Make the slot alive: sets its incarnation's alive bit, depth 0. Returns
// the incarnation.
uint32_t tr_slot_activate(tr_slot *s);
// Kill the incarnation: next incarnation, not alive, depth 0. Returns the
// depth it had (messages reserved and not yet taken).
uint32_t tr_slot_kill(tr_slot *s);

// Kill incarnation inc only if it is the one alive (from a thread that
// does not own the actor): 0, or TROUPE_EDEAD if it ended already.
int tr_slot_kill_inc(tr_slot *s, uint32_t inc);

// Sender side: reserve one place in the mailbox of incarnation inc. Returns
// 0, TROUPE_EDEAD (not that incarnation or not alive), TROUPE_EFULL.
int tr_slot_reserve(tr_slot *s, uint32_t inc);
// Sender side, for messages that are never refused (control): 0 or
// TROUPE_EDEAD.
int tr_slot_check(const tr_slot *s, uint32_t inc);
// Owner side: one reserved message was taken (handled or dropped) while
// incarnation inc is alive.
void tr_slot_take(tr_slot *s);
// The same for n messages at once.
void tr_slot_take_n(tr_slot *s, uint32_t n);
// Count n messages taken back into the depth (a run that gave their room
// back ended before handling them). May go past the bound for a moment.
void tr_slot_untake_n(tr_slot *s, uint32_t n);
// Owner side: put n messages back into the count (taken for a run that
// did not handle them).
void tr_slot_give_n(tr_slot *s, uint32_t n);
// Current mailbox depth.
uint32_t tr_slot_depth(const tr_slot *s);

#endif
