// SPDX-License-Identifier: MIT
//
// Message memory, actors layer: small messages come from a per-thread pool
// and go back to the pool of the thread that allocated them, so that a
// stream from one loop to another neither mallocs nor takes a malloc arena
// lock per message. Only port threads (loops, isolated actors, the gateway)
// have a pool; other threads (clients, main) use malloc. A pool's chunks
// are carved from regions on huge pages (mem_region.h): a million messages
// queued at once take one page fault per 2 MiB, not one per 4 KiB (W3). A
// thread keeps the chunks of its peak for reuse until it ends. Knows
// nothing of loops or actors.
#ifndef TR_MSG_POOL_H
#define TR_MSG_POOL_H

#include <stddef.h>

// Bytes of the largest pooled chunk (message header, tag and body); there
// are chunks of half that size too, for the small messages most are.
// Larger messages are malloc'd.
#define TR_MSG_POOL_CHUNK 256

// Under AddressSanitizer there are no pools, so that a use after free of a
// message is still caught.
#if defined(__SANITIZE_ADDRESS__)
#define TR_MSG_POOLED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TR_MSG_POOLED 0
#endif
#endif
#ifndef TR_MSG_POOLED
#define TR_MSG_POOLED 1
#endif

typedef struct tr_msg_pool tr_msg_pool;

// Memory for a message of `size` bytes. *home is the pool it came from
// (NULL: malloc'd), to be passed back to tr_msg_pool_free. NULL on ENOMEM.
// Thread: any.
void *tr_msg_pool_alloc(size_t size, tr_msg_pool **home);

// Give back memory from tr_msg_pool_alloc. On the pool's own thread it is
// kept for reuse; from any other thread it goes back to its pool (one CAS
// per chain of up to 64, see tr_msg_pool_flush), or is freed if that
// pool's thread has ended. Thread: any.
void tr_msg_pool_free(void *mem, tr_msg_pool *home);

// Chunks this thread gave back to other threads' pools wait in a short
// chain (one CAS per chain, not per chunk); send them home now. Port
// threads call it at the end of each turn. Thread: any.
void tr_msg_pool_flush(void);

// Give the calling thread a pool (port threads call it at start; without
// it the thread mallocs). Returns 0 or TROUPE_ENOMEM (then it mallocs).
int tr_msg_pool_enter(void);

// The calling thread ends: free its cached chunks. Chunks still held by
// other threads are freed when they are given back; the last one frees the
// pool. Safe to call without tr_msg_pool_enter.
void tr_msg_pool_leave(void);
// Bytes mapped for the chunks of every pool of the process (regions of
// pools whose thread has ended and whose chunks all came back are
// unmapped). Thread: any.
size_t tr_msg_pool_mapped(void);

#endif
