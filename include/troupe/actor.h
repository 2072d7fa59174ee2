// SPDX-License-Identifier: MIT
//
// Actors: private state plus a handler, run by one thread at a time (a loop
// for light actors, a thread of its own for isolated ones), so the state
// needs no locks. This header holds the actor spec, spawn and stop, names,
// one-way messages (tell), monitors, links and timers. Requests and replies
// are in request.h; calls from threads that are not actors in client.h.
//
// Calls that take a troupe_ctx are valid only inside a callback that was
// given that ctx (handler, init, reply callback), on that actor's thread.
// Besides the codes each one lists, they return TROUPE_EINVAL for a NULL
// ctx and TROUPE_ESTATE when the actor can no longer send (while it ends).
#ifndef TROUPE_ACTOR_H
#define TROUPE_ACTOR_H

#include <stdarg.h>

#include "troupe/common.h"
#include "troupe/msg.h"
#include "troupe/node.h"

#ifdef __cplusplus
extern "C" {
#endif

// The running actor's view of the runtime, valid during one callback.
typedef struct troupe_ctx troupe_ctx;

// Handles one message. msg is borrowed until return. Return 0 to go on, or
// a negative code to crash with that code as exit reason (a positive value
// counts as TROUPE_EINVAL): monitors and links
// see it, and if msg was a request not yet replied to, its requester gets
// TROUPE_EDEAD. A request left without reply (and not deferred) when the
// handler returns 0 is answered TROUPE_EDEAD as well: requests never hang.
typedef int (*troupe_handler_fn)(troupe_ctx *cx, void *state,
                                 const troupe_msg *msg);

// Runs once before the first message, on the actor's thread. arg is the
// spec's arg. Return 0, or a negative code: the actor then never starts and
// the spawn reports that code (or, if the spawn did not wait, the actor
// exits with it as reason).
typedef int (*troupe_init_fn)(troupe_ctx *cx, void *state, void *arg);

// Runs once when the actor ends, whatever the reason (0 normal,
// TROUPE_ESHUTDOWN, or the crash code), after its last message. It must not
// send. Use it to free what state points to. Not run if init failed.
typedef void (*troupe_fini_fn)(void *state, int reason);

// Where an actor runs.
typedef enum troupe_placement {
    // On one of the node's loops, multiplexed with other light actors: no
    // thread and no socket of its own. For handlers that return quickly.
    TROUPE_SHARED = 0,
    // On a thread of its own with its own inbox socket: for CPU-bound or
    // blocking handlers, which then stall nobody else.
    TROUPE_ISOLATED = 1,
    // In a child process of its own (troupe/process.h): a crash there,
    // even a segfault, harms nothing else. The spec's `process` says what
    // to start; handler, init and fini are then the child's (from its
    // troupe_proc_kind table) and must be NULL here.
    TROUPE_PROCESS = 2,
} troupe_placement;

typedef struct troupe_proc_spec troupe_proc_spec;

// Loop choice for shared actors.
// Loop choice for shared actors, in troupe_actor_spec.loop. Zero (what a
// zero-initialised spec has) is automatic: the spawner's loop when an actor
// spawns, else round-robin. TROUPE_LOOP(i) pins to loop i (0-based).
#define TROUPE_LOOP_AUTO 0
#define TROUPE_LOOP(i) ((i) + 1)

// What to spawn. Zero-initialise and set what you need; zero is the default.
typedef struct troupe_actor_spec {
    const char *name;          // register under this name (copied); NULL: none
    troupe_handler_fn handler; // required
    troupe_init_fn init;       // optional
    troupe_fini_fn fini;       // optional
    // Private state: if state_size > 0 the runtime allocates that many
    // zeroed bytes, aligned for any type, and frees them after fini;
    // otherwise the handler gets `state` as is (the caller keeps it alive
    // until fini runs). At most UINT32_MAX bytes (else TROUPE_EINVAL).
    size_t state_size;
    void *state;
    void *arg;              // passed to init
    uint32_t mailbox_bound; // messages; 0: the node's default
    troupe_placement placement;
    int loop;       // TROUPE_LOOP_AUTO (0) or TROUPE_LOOP(i)
    bool trap_exit; // linked exits arrive as TROUPE_MSG_EXIT
    // Handler budget in ms (0: none). A handler run longer than this is
    // reported (a WARN log line naming the actor, tag and duration, and
    // the node's budget_overruns stat), while it still runs (the watchdog,
    // see troupe_node_opts.watchdog_ms) and when it returns. A supervised
    // isolated actor still running past its budget is replaced by its
    // supervisor: the hung thread is abandoned, its later output dropped.
    // A shared loop cannot be preempted: there it is only reported.
    // Budgets over UINT32_MAX ms (49 days) are taken as 49 days.
    int64_t budget_ms;
    // With placement TROUPE_PROCESS: how to start and watch the child
    // (copied at spawn). Ignored otherwise.
    const troupe_proc_spec *process;
} troupe_actor_spec;

// A spec with every field zero (so loop is TROUPE_LOOP_AUTO); kept for
// code that prefers a constructor to a designated initialiser.
TROUPE_API troupe_actor_spec troupe_actor_spec_default(void);

// Spawn from inside an actor. A shared actor spawned on the caller's own loop
// runs its init before this returns, and its result is returned. Otherwise
// (other loop, isolated) the actor starts asynchronously and this returns 0
// at once; if init then fails the actor exits with that reason. Set monitor
// to get a down message for it (monitor set atomically with the spawn;
// *ref receives the reference). With a monitor, a failing init on the
// caller's own loop is reported by the down message and the call returns 0.
// Returns 0 and writes *addr, or TROUPE_EINVAL (no handler, bad loop),
// TROUPE_EEXIST (name taken), TROUPE_ENOMEM, TROUPE_ESYS, TROUPE_ESHUTDOWN,
// or init's code.
TROUPE_API int troupe_spawn(troupe_ctx *cx, const troupe_actor_spec *spec,
                            troupe_addr *addr);
TROUPE_API int troupe_spawn_monitor(troupe_ctx *cx,
                                    const troupe_actor_spec *spec,
                                    troupe_addr *addr, uint64_t *ref);

// Spawn from a thread that is not one of the node's (main, a test). Waits
// until the actor's init ran, at most until deadline: returns 0 and writes
// *addr, init's code, TROUPE_ETIMEDOUT (the actor is then stopped as soon as
// init returns), TROUPE_EINVAL (also when called from a node thread: use
// troupe_spawn there), TROUPE_EEXIST, TROUPE_ENOMEM, TROUPE_ESYS,
// TROUPE_ESHUTDOWN. Actors spawned here are stopped first, in reverse order,
// by troupe_node_stop().
TROUPE_API int troupe_node_spawn(troupe_node *node,
                                 const troupe_actor_spec *spec,
                                 int64_t deadline, troupe_addr *addr);

// This actor's address.
TROUPE_API troupe_addr troupe_self(const troupe_ctx *cx);

// The node the actor runs on.
TROUPE_API troupe_node *troupe_ctx_node(const troupe_ctx *cx);

// The message being handled, or NULL in init and reply callbacks.
TROUPE_API const troupe_msg *troupe_ctx_msg(const troupe_ctx *cx);

// End this actor with reason once the current callback returns (0: normal).
// Messages still queued are dead-lettered; queued requests get TROUPE_EDEAD.
TROUPE_API int troupe_exit(troupe_ctx *cx, int reason);

// Hold this actor's mailbox: from now on its handler gets only what is not
// a tell or a request (answers to its own requests, its timers, fd events,
// down messages, trapped exits and stops), while tells and requests wait in
// the mailbox, in their order, until troupe_resume(). They still count
// against the mailbox bound: senders get TROUPE_EFULL when it is full, as
// when the actor is slow. A request's deadline keeps running meanwhile.
//
// Called in init, it also holds the end of the start, as OTP's
// proc_lib:init_ack does: the actor's timers, fd watches and requests run,
// but troupe_node_spawn() waits (up to its deadline) until the actor calls
// troupe_resume() and then returns 0, or until it ends and then returns its
// reason (TROUPE_EDEAD for a normal exit); a supervisor counts its child as
// started only then. An actor spawned with troupe_spawn() is not waited
// for: a failure of a held start reaches the spawner by its monitor.
// Use it for an actor that must reach something before it can serve (a
// process it starts, a connection), without blocking its loop.
// Returns 0, TROUPE_EINVAL (no actor: a client's ctx, NULL).
TROUPE_API int troupe_hold(troupe_ctx *cx);

// Let the held mailbox go: what waited is handled next, in order. After a
// hold in init, the actor is started now (its spawner and supervisor hear
// it). Returns 0 (also when not held), TROUPE_EINVAL (no actor).
TROUPE_API int troupe_resume(troupe_ctx *cx);

// Ask another actor to stop with reason (as if it called troupe_exit()
// after its current message). A stop is not an exit signal: trapping exits
// does not catch it, and fini sees the reason. Returns 0, TROUPE_EDEAD if it
// was already gone, TROUPE_ENOENT (no such slot), TROUPE_ENOMEM. Stopping a
// client handle does nothing (clients end with troupe_client_destroy).
// Asynchronous: monitor it to learn when it ended.
TROUPE_API int troupe_stop(troupe_ctx *cx, troupe_addr who, int reason);

// Same, from any thread (a client, main). Thread: any.
TROUPE_API int troupe_node_stop_actor(troupe_node *node, troupe_addr who,
                                      int reason);

// Names. A name maps to one live incarnation. A name given in the spec is
// dropped when the actor ends; one given with troupe_register is dropped at
// the first lookup or registration that finds its actor gone. Register returns
// 0, TROUPE_EEXIST (taken), TROUPE_EINVAL (empty or longer than max_tag_len),
// TROUPE_EDEAD (who is not alive). Thread: any.
TROUPE_API int troupe_register(troupe_node *node, const char *name,
                               troupe_addr who);
// Drop a name. 0 or TROUPE_ENOENT. Thread: any.
TROUPE_API int troupe_unregister(troupe_node *node, const char *name);
// Look up a name: 0 and *who, or TROUPE_ENOENT. Thread: any.
TROUPE_API int troupe_whereis(troupe_node *node, const char *name,
                              troupe_addr *who);

// Send a one-way message with a body packed from fmt (see msg.h; NULL or ""
// for no body). FIFO between any sender and receiver. Returns 0, or:
// TROUPE_EDEAD (to is gone), TROUPE_ENOENT (no such slot), TROUPE_EFULL (its
// mailbox is full), TROUPE_EMSGSIZE, TROUPE_EINVAL (bad format or tag).
// A refused message is counted and logged at debug level; nothing is queued.
TROUPE_API int troupe_tell(troupe_ctx *cx, troupe_addr to, const char *tag,
                           const char *fmt, ...);
// The same to a registered name (resolved now): also TROUPE_ENOENT.
TROUPE_API int troupe_tell_name(troupe_ctx *cx, const char *name,
                                const char *tag, const char *fmt, ...);
// The same with a body of raw msgpack bytes (one object, validated: else
// TROUPE_EBADMSG or TROUPE_ELIMIT), copied.
TROUPE_API int troupe_tell_raw(troupe_ctx *cx, troupe_addr to, const char *tag,
                               const void *body, size_t len);

// Monitors: when `who` ends, this actor gets a TROUPE_MSG_DOWN with sender
// who, code the reason and ref the returned reference. If who is already
// gone the down message comes at once with reason TROUPE_EDEAD. Returns 0.
TROUPE_API int troupe_monitor(troupe_ctx *cx, troupe_addr who, uint64_t *ref);
// Remove a monitor; a down message for it not yet handled is dropped.
// Returns 0 or TROUPE_ENOENT (unknown or already fired).
TROUPE_API int troupe_demonitor(troupe_ctx *cx, uint64_t ref);

// Links: both ways, as in Erlang. When one ends with any reason but 0
// (normal), the other ends with the same reason, unless it traps exits: then
// it gets a TROUPE_MSG_EXIT message instead (also for reason 0). Linking to a
// dead actor delivers the exit at once with reason TROUPE_EDEAD. Returns 0,
// TROUPE_EINVAL (linking to itself or to nobody).
TROUPE_API int troupe_link(troupe_ctx *cx, troupe_addr who);
TROUPE_API int troupe_unlink(troupe_ctx *cx, troupe_addr who);
// Turn exit trapping on or off for this actor.
TROUPE_API void troupe_trap_exit(troupe_ctx *cx, bool on);

// Timers: after delay_ms (then every period_ms if > 0) this actor gets a
// TROUPE_MSG_TIMER with the tag (copied). *id (may be NULL) identifies it.
// Never before delay_ms have passed (to the nanosecond); on an idle thread
// within microseconds after. Timers end with their actor. Returns 0,
// TROUPE_EINVAL (delay < 0, bad tag), TROUPE_ENOMEM.
TROUPE_API int troupe_timer_start(troupe_ctx *cx, int64_t delay_ms,
                                  int64_t period_ms, const char *tag,
                                  uint64_t *id);
// Cancel: the timer will not fire again. 0 or TROUPE_ENOENT.
TROUPE_API int troupe_timer_cancel(troupe_ctx *cx, uint64_t id);

// Per-actor counters. handler_ns_p99 is approximate (within 2x).
typedef struct troupe_actor_stats {
    uint64_t received;       // messages handed to the handler
    uint64_t sent;           // messages it sent
    uint64_t refused;        // its own sends that were refused (full, size)
    uint64_t mailbox_depth;  // messages queued now
    uint64_t handler_ns_max; // slowest handler run
    uint64_t handler_ns_p99; // 99th percentile of handler runs: never under,
                             // at most 2x over (log2 buckets)
} troupe_actor_stats;

// This actor's counters.
TROUPE_API int troupe_actor_stats_get(troupe_ctx *cx, troupe_actor_stats *st);

#ifdef __cplusplus
}
#endif
#endif
