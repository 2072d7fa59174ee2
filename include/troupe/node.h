// SPDX-License-Identifier: MIT
//
// The node: troupe's runtime in one process. It owns the zmq context, the
// loops (threads that run light actors), the actor table, the name registry
// and the stats. One node per process is the normal case; tests may run more.
#ifndef TROUPE_NODE_H
#define TROUPE_NODE_H

#include "troupe/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct troupe_node troupe_node;

// Log levels, most severe first.
typedef enum troupe_log_level {
    TROUPE_LOG_ERROR = 0,
    TROUPE_LOG_WARN = 1,
    TROUPE_LOG_INFO = 2,
    TROUPE_LOG_DEBUG = 3,
} troupe_log_level;

// A log hook. Called from any of the node's threads, possibly at once from
// several: it must be thread-safe. `line` is one NUL-terminated line without
// a trailing newline, valid during the call.
typedef void (*troupe_log_fn)(void *arg, troupe_log_level level,
                              const char *line);

// Node options. Initialise with troupe_node_opts_init(), then set fields:
// new fields may be added, and _init gives each its documented default.
typedef struct troupe_node_opts {
    // Loops (threads for light actors). Default 0: one per online core.
    unsigned loops;
    // Default mailbox bound of an actor, in messages. Default 65536.
    uint32_t mailbox_bound;
    // Largest body in bytes. Default 1 MiB. Bigger: TROUPE_EMSGSIZE. (A wire
    // frame may be up to this plus 256 bytes of envelope and tag.)
    uint32_t max_msg_size;
    // Deepest nesting of arrays/maps in a body. Default 32 (msgpack-c's
    // own unpacker stops at 32 levels); at most 1024.
    uint32_t max_depth;
    // Most items in one array or map. Default 65536.
    uint32_t max_items;
    // Longest tag in bytes. Default 64.
    uint32_t max_tag_len;
    // Deadline used for requests made with TROUPE_DEADLINE_DEFAULT outside
    // any request. Default 5000 ms.
    int64_t request_timeout_ms;
    // Time troupe_node_destroy() gives the actors to stop. Default 5000 ms.
    int64_t shutdown_timeout_ms;
    // Messages an actor may handle in one turn of its loop before the others
    // get theirs. Default 64.
    uint32_t batch;
    // Threads and client handles the node can have at once: loops +
    // isolated actors + clients. Default 4096. Past it: TROUPE_ELIMIT.
    uint32_t max_ports;
    // Actors alive at once (rounded up to a multiple of 4096, less one).
    // Default 16777216. Past it: TROUPE_ELIMIT.
    uint32_t max_actors;
    // How often, in ms, the watchdog thread looks for handlers running past
    // their actor's budget (troupe_actor_spec.budget_ms). Default 10. 0: no
    // watchdog thread (an overrun is then only seen when the handler
    // returns).
    int64_t watchdog_ms;
    // The budget of every shared-loop actor that sets none, in ms: a
    // handler that holds its loop longer than this is reported like any
    // overrun (every other actor of that loop waited). Default 100 (as
    // asyncio's slow_callback_duration). 0: no default budget.
    int64_t block_warn_ms;
    // Most worker threads of the offload pool (troupe/offload.h), started
    // on demand: a node that never offloads has none. Default 0: one per
    // online core. At most 1024.
    unsigned offload_threads;
    // Most jobs waiting in the offload pool's queue. Default 1024. More:
    // TROUPE_EFULL (counted in refused and offload_refused). At least 1.
    uint32_t offload_queue;
    // Log hook and its argument. Default: lines at TROUPE_LOG_WARN or more
    // severe go to stderr (never stdout). Set log_level to choose the level.
    troupe_log_fn log;
    void *log_arg;
    troupe_log_level log_level; // default TROUPE_LOG_WARN
} troupe_node_opts;

// Fill opts with the defaults above. Thread: any.
TROUPE_API void troupe_node_opts_init(troupe_node_opts *opts);

// Create a node and start its loops. opts may be NULL for the defaults.
// Returns 0 and writes *node, or TROUPE_EINVAL (a bad option), TROUPE_ENOMEM,
// TROUPE_ESYS (a thread or socket could not be made). On failure nothing is
// left behind. The caller owns the node: free it with troupe_node_destroy().
// Thread: any.
TROUPE_API int troupe_node_new(troupe_node **node,
                               const troupe_node_opts *opts);

// Stop the node: actors spawned with troupe_node_spawn() stop one by one in
// reverse spawn order, then every other actor (each loop stops its actors in
// reverse spawn order), then the loops end, then the offload pool (queued
// jobs are dropped, running ones waited for). Each actor gets the time left
// until deadline. Returns 0 when everything stopped, TROUPE_ETIMEDOUT if some
// handler or offloaded job was still running at the deadline (its thread is
// then abandoned and the node's memory is leaked rather than freed under
// it), TROUPE_ESTATE if client handles were still open (destroy them first;
// the node is then leaked, since their sockets belong to other threads),
// TROUPE_ENOMEM, TROUPE_EINVAL if called from one of the node's own threads.
// Calling it again returns the first result. Thread: any thread that is not
// the node's.
TROUPE_API int troupe_node_stop(troupe_node *node, int64_t deadline);

// Stop the node (if not stopped yet, with its shutdown_timeout_ms) and free
// it. Leaves no thread, socket or file behind. Accepts NULL and *node == NULL;
// sets *node to NULL. Returns what troupe_node_stop() returned (its first
// result if it was already stopped); after TROUPE_ETIMEDOUT or TROUPE_ESTATE
// the memory is not freed. From one of the node's own threads it returns
// TROUPE_EINVAL and leaves *node alone. Thread: any.
TROUPE_API int troupe_node_destroy(troupe_node **node);

// Node-wide counters. All monotonic except the `live` ones. At rest,
// sent == delivered + dead_lettered + refused.
typedef struct troupe_node_stats {
    uint64_t sent;            // messages offered by any actor or client
    uint64_t delivered;       // handed to a handler, callback or client
    uint64_t dead_lettered;   // destination dead or gone; dropped on death
    uint64_t refused;         // refused at send: full, oversized, malformed
    uint64_t late_replies;    // replies that came after their request ended
                              // (these are counted in dead_lettered too)
    uint64_t malformed;       // frames from outside refused by the decoder or
                              // the gateway (bad input), and failed inbox reads
    uint64_t limits_hit;      // max_actors or max_ports reached (TROUPE_ELIMIT)
    uint64_t spawned;         // actors started
    uint64_t exited;          // actors ended (any reason)
    uint64_t crashed;         // actors ended with an abnormal reason
    uint64_t budget_overruns; // handler runs past their actor's budget
    uint64_t live_actors;     // actors alive now
    uint64_t live_threads;    // threads the node runs now
    uint64_t live_sockets;    // zmq sockets open now
    uint64_t live_clients;    // client handles open now
    uint64_t offload_jobs;    // offloaded jobs run to their end
    uint64_t offload_queued;  // offloaded jobs waiting for a worker now
    uint64_t offload_refused; // jobs refused, queue full (TROUPE_EFULL;
                              // these are counted in refused too)
} troupe_node_stats;

// Fill *stats. Counters are read one by one while the node runs, so the
// identity above holds only at rest. Thread: any.
TROUPE_API int troupe_node_stats_get(troupe_node *node,
                                     troupe_node_stats *stats);

// The number of loops the node runs. Thread: any.
TROUPE_API unsigned troupe_node_loops(const troupe_node *node);

#ifdef __cplusplus
}
#endif
#endif
