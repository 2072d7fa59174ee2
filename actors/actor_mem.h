// SPDX-License-Identifier: MIT
//
// Actor memory, actors layer: the structs of actors (with their inline
// state, when small) are carved in a few size classes from the node's
// regions (mem_region.h: a small first one, then 2 MiB ones on huge
// pages). Spawning a million actors touches a million fresh structs: one
// page fault per 2 MiB instead of one per 4 KiB.
//
// Freed structs are kept for the node's next actors (a port thread keeps a
// short list of its own, the node the rest); the regions go back to the
// system when the node is destroyed. So a node holds on to the memory of
// its peak of small live actors. Larger actors, and every actor under
// AddressSanitizer (so that a use after free is still caught), use malloc.
#ifndef TR_ACTOR_MEM_H
#define TR_ACTOR_MEM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "mem_region.h"

// Size classes: struct sizes up to the last are carved from regions.
#define TR_ACTOR_MEM_CLASSES 4

// Under AddressSanitizer every struct is malloc'd, so that a use after
// free is still reported (as with message pools, msg_pool.h).
#if defined(__SANITIZE_ADDRESS__)
#define TR_ACTOR_MEM_ON 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TR_ACTOR_MEM_ON 0
#endif
#endif
#ifndef TR_ACTOR_MEM_ON
#define TR_ACTOR_MEM_ON 1
#endif

typedef struct tr_actor_mem_obj tr_actor_mem_obj;

// A port thread's own free structs, per class (only its thread touches it).
typedef struct tr_actor_cache {
    tr_actor_mem_obj *free[TR_ACTOR_MEM_CLASSES];
    uint32_t n[TR_ACTOR_MEM_CLASSES];
} tr_actor_cache;

// A node's regions and free structs, under its lock.
typedef struct tr_actor_mem {
    pthread_mutex_t lock;
    size_t base;                                  // smallest struct size
    tr_actor_mem_obj *free[TR_ACTOR_MEM_CLASSES]; // freed structs
    tr_regions regions;                           // where structs come from
    char *carve, *carve_end;                      // what the newest has left
} tr_actor_mem;

// base: the size of an actor struct without inline state. Returns 0, or
// TROUPE_ESYS if the lock cannot be made.
int tr_actor_mem_init(tr_actor_mem *m, size_t base);
// Unmap every region: every struct from them must have been freed.
void tr_actor_mem_fini(tr_actor_mem *m);

// Zeroed memory for an actor struct of `size` bytes (16-byte aligned), or
// NULL. cache: the calling port thread's own (NULL from other threads).
void *tr_actor_mem_alloc(tr_actor_mem *m, tr_actor_cache *cache, size_t size);
// Give back what tr_actor_mem_alloc gave for `size` bytes.
void tr_actor_mem_free(tr_actor_mem *m, tr_actor_cache *cache, void *p,
                       size_t size);
// A port thread ends: its cached structs go back to the node.
void tr_actor_cache_drain(tr_actor_mem *m, tr_actor_cache *cache);

#endif
