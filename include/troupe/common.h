// SPDX-License-Identifier: MIT
//
// Types and helpers shared by every public header: the export macro, actor
// addresses, the monotonic clock and deadlines. Every call in troupe that may
// wait takes an absolute deadline in milliseconds on troupe_now()'s clock.
#ifndef TROUPE_COMMON_H
#define TROUPE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(TROUPE_BUILDING) && defined(__GNUC__)
#define TROUPE_API __attribute__((visibility("default")))
#else
#define TROUPE_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

// The address of one incarnation of an actor. A value type: copy it freely.
// An address names a slot and the incarnation living in it, so a message sent
// to an incarnation that has died is never handed to a later one that reuses
// the slot. The zero address (TROUPE_ADDR_NONE) names nobody.
typedef struct troupe_addr {
    uint32_t node;        // 0: this process's node (other values: reserved)
    uint32_t slot;        // index in the node's actor table, never 0
    uint32_t incarnation; // bumped each time the slot is reused
} troupe_addr;

#define TROUPE_ADDR_NONE ((troupe_addr){0, 0, 0})

// True if a and b name the same incarnation of the same actor.
// Thread: any.
TROUPE_API bool troupe_addr_eq(troupe_addr a, troupe_addr b);

// True if a names somebody (is not TROUPE_ADDR_NONE). Thread: any.
TROUPE_API bool troupe_addr_valid(troupe_addr a);

// Deadline that never passes.
#define TROUPE_FOREVER INT64_MAX
// Deadline that has always passed: the call does not wait.
#define TROUPE_NOWAIT ((int64_t)-1)
// For requests: inherit the deadline of the message being handled, or else
// use the node's default request timeout (troupe_node_opts.request_timeout_ms).
#define TROUPE_DEADLINE_DEFAULT ((int64_t)0)

// Milliseconds on the system's monotonic clock. Always > 0. Thread: any.
TROUPE_API int64_t troupe_now(void);

// troupe_now() + ms, saturating at TROUPE_FOREVER. Thread: any.
TROUPE_API int64_t troupe_deadline_in(int64_t ms);

#ifdef __cplusplus
}
#endif
#endif
