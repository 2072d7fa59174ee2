// SPDX-License-Identifier: MIT
//
// Supervisors: actors that start children, watch them, and restart them when
// they fail, with the semantics of Erlang/OTP's supervisor (strategies,
// restart types, restart intensity, shutdown order and timeouts, trees of
// supervisors) plus backoff between restarts. A restarted child keeps its
// address, its registered name and the messages queued for it: senders
// need not look it up again, and per-sender FIFO holds across the restart.
// See docs/supervisor.md for the semantics and how they differ from OTP.
#ifndef TROUPE_SUPERVISOR_H
#define TROUPE_SUPERVISOR_H

#include "troupe/actor.h"

#ifdef __cplusplus
extern "C" {
#endif

// Which children a failure restarts.
typedef enum troupe_sup_strategy {
    TROUPE_ONE_FOR_ONE = 0,  // only the failed child
    TROUPE_ONE_FOR_ALL = 1,  // every child: the others are stopped first
    TROUPE_REST_FOR_ONE = 2, // the failed child and those started after it
    // Like one_for_one, for children of one spec started at run time with
    // troupe_sup_start_child; none are started with the supervisor.
    TROUPE_SIMPLE_ONE_FOR_ONE = 3,
} troupe_sup_strategy;

// When a child that ended is restarted.
typedef enum troupe_restart {
    TROUPE_PERMANENT = 0, // always
    TROUPE_TRANSIENT = 1, // after an abnormal exit (not 0, not ESHUTDOWN)
    TROUPE_TEMPORARY = 2, // never; forgotten when it ends
} troupe_restart;

// shutdown_ms values: stop at once without waiting / wait without limit.
#define TROUPE_SHUTDOWN_BRUTAL 0
#define TROUPE_SHUTDOWN_INFINITY (-1)

typedef struct troupe_sup_spec troupe_sup_spec;

// One child. Initialise with troupe_child_spec_init() (defaults below),
// then set id and either actor (a worker) or sup (a nested supervisor).
typedef struct troupe_child_spec {
    // Unique among the supervisor's children (copied). Required, except for
    // the children of a simple_one_for_one supervisor.
    const char *id;
    // A worker: the actor to start, copied. Give it state_size (fresh
    // zeroed state for each run) rather than a shared state pointer, so a
    // restart does not inherit what a crash left behind. Placement shared,
    // isolated, or process (troupe/process.h: a crash there, even a
    // segfault, stays in its process; a restart starts a new one).
    troupe_actor_spec actor;
    // A supervisor child instead (when not NULL): the spec of the nested
    // supervisor, copied (with its children) when the child is added.
    const troupe_sup_spec *sup;
    troupe_restart restart; // default TROUPE_PERMANENT
    // Time the child gets to stop before it is forced, in ms, or
    // TROUPE_SHUTDOWN_BRUTAL / TROUPE_SHUTDOWN_INFINITY. Default 5000. For
    // a supervisor child OTP's advice holds: TROUPE_SHUTDOWN_INFINITY, so
    // that it has the time its own children's timeouts add up to.
    int64_t shutdown_ms;
    // Time its init may take, in ms; past it the start failed with
    // TROUPE_ETIMEDOUT (an isolated child's init can be cut short, and a
    // start held with troupe_hold on any loop; a shared loop cannot be
    // preempted inside an init). Default 5000; <= 0: no limit.
    int64_t start_timeout_ms;
} troupe_child_spec;

// A supervisor. Initialise with troupe_sup_spec_init() (defaults below).
struct troupe_sup_spec {
    troupe_sup_strategy strategy; // default TROUPE_ONE_FOR_ONE
    // Restart intensity: more than `intensity` restarts within `period_ms`
    // and the supervisor gives up: it stops its children in reverse start
    // order and exits with TROUPE_EINTENSITY, which its own supervisor
    // handles (escalation). Defaults 1 and 5000 ms, as in OTP; intensity
    // at most 10000.
    uint32_t intensity;
    int64_t period_ms;
    // Backoff between restarts (beyond OTP): the first restart of a child
    // waits backoff_min_ms, each next one twice as long up to
    // backoff_max_ms, each delay drawn uniformly in [d/2, d] (jitter);
    // a child up for backoff_reset_ms starts again at the minimum.
    // Defaults 0 (restart at once, as in OTP), 0 (= min) and period_ms.
    int64_t backoff_min_ms;
    int64_t backoff_max_ms;
    int64_t backoff_reset_ms;
    // Seed for the jitter; 0: a fixed default (runs are replayable).
    uint64_t seed;
    // The children, started in this order and stopped in reverse. For
    // simple_one_for_one exactly one: the spec of every dynamic child.
    const troupe_child_spec *children;
    size_t n_children;
    // Register the supervisor under this name (copied); NULL: none.
    const char *name;
    // Loop of the supervisor actor itself (TROUPE_LOOP_AUTO or
    // TROUPE_LOOP(i)); shared children without a loop of their own go on
    // the supervisor's loop.
    int loop;
};

// Fill s / c with the defaults above. Thread: any.
TROUPE_API void troupe_sup_spec_init(troupe_sup_spec *s);
TROUPE_API void troupe_child_spec_init(troupe_child_spec *c);

// Start a supervisor and its children from a thread that is not one of the
// node's (main, a test), as a root of the node (stopped, with its tree,
// by troupe_node_stop). Waits until every child started, at most until
// deadline. Returns 0 and *sup; TROUPE_EINVAL (bad spec: no children, a
// child without handler, duplicate or missing ids, bad strategy or
// intensity period...); a child's start failure code (then nothing is
// left running); TROUPE_ETIMEDOUT; TROUPE_ENOMEM; TROUPE_ESHUTDOWN.
TROUPE_API int troupe_node_sup_start(troupe_node *node,
                                     const troupe_sup_spec *spec,
                                     int64_t deadline, troupe_addr *sup);

// The same from inside an actor: the supervisor is linked to the caller
// and starts its children asynchronously; if that fails it exits with the
// failure's code (the caller, linked, hears it). Returns 0 and *sup, or
// TROUPE_EINVAL / TROUPE_ENOMEM / TROUPE_ESHUTDOWN.
TROUPE_API int troupe_sup_start(troupe_ctx *cx, const troupe_sup_spec *spec,
                                troupe_addr *sup);

// Add a child at run time and start it (for simple_one_for_one, child may
// be NULL: the supervisor's own child spec). Waits for its start, at most
// until deadline. Returns 0 and *addr; TROUPE_EINVAL (bad spec),
// TROUPE_EEXIST (id taken), the child's start failure code,
// TROUPE_ETIMEDOUT, TROUPE_EDEAD / TROUPE_ENOENT (no such supervisor),
// TROUPE_ESTATE (the supervisor is starting or shutting down).
// Thread: not one of the node's threads.
TROUPE_API int troupe_sup_start_child(troupe_node *node, troupe_addr sup,
                                      const troupe_child_spec *child,
                                      int64_t deadline, troupe_addr *addr);

// Stop child (by address) and do not restart it; with forget, drop its
// spec too (OTP's terminate_child + delete_child; dynamic children are
// always forgotten). Waits until it ended, at most until deadline. Returns
// 0, TROUPE_ENOENT (not a child of sup), TROUPE_ETIMEDOUT, TROUPE_EDEAD.
// Thread: not one of the node's threads.
TROUPE_API int troupe_sup_stop_child(troupe_node *node, troupe_addr sup,
                                     troupe_addr child, bool forget,
                                     int64_t deadline);

// Start again the child with this id that is stopped (by
// troupe_sup_stop_child without forget, or because it ended and its
// restart type said no), as OTP's restart_child; it gets a new address.
// Waits for its start, at most until deadline. Returns 0 and *addr (may
// be NULL); TROUPE_EALREADY (it is running or restarting), TROUPE_ENOENT
// (no such id), its start failure code (it then stays stopped, its spec
// kept), TROUPE_ETIMEDOUT, TROUPE_ESTATE (the supervisor is starting or
// shutting down), TROUPE_EDEAD. Thread: not one of the node's threads.
TROUPE_API int troupe_sup_restart_child(troupe_node *node, troupe_addr sup,
                                        const char *id, int64_t deadline,
                                        troupe_addr *addr);

// Drop the spec of the stopped child with this id, as OTP's delete_child.
// Returns 0, TROUPE_EALREADY (running: stop it first), TROUPE_ENOENT,
// TROUPE_ETIMEDOUT, TROUPE_ESTATE, TROUPE_EDEAD. Thread: not one of the
// node's threads.
TROUPE_API int troupe_sup_delete_child(troupe_node *node, troupe_addr sup,
                                       const char *id, int64_t deadline);

// The address of the child with this id: 0 and *addr, TROUPE_ENOENT (no
// such child), TROUPE_EAGAIN (known but not running now: stopped, or
// waiting for a restart). Thread: not one of the node's threads.
TROUPE_API int troupe_sup_which_child(troupe_node *node, troupe_addr sup,
                                      const char *id, int64_t deadline,
                                      troupe_addr *addr);

// A supervisor's counters (OTP's count_children plus restarts).
typedef struct troupe_sup_stats {
    uint32_t children;    // known children
    uint32_t running;     // of which up now
    uint32_t workers;     // of which workers
    uint32_t supervisors; // of which supervisors
    uint64_t restarts;    // restarts done since it started
} troupe_sup_stats;

// Read them. Returns 0, TROUPE_EDEAD / TROUPE_ENOENT, TROUPE_ETIMEDOUT.
// Thread: not one of the node's threads.
TROUPE_API int troupe_sup_stats_get(troupe_node *node, troupe_addr sup,
                                    int64_t deadline, troupe_sup_stats *st);

#ifdef __cplusplus
}
#endif
#endif
