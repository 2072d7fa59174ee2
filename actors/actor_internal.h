// SPDX-License-Identifier: MIT
//
// Actors, actors layer: the actor struct and what an actor owns (its
// monitors and links, its requests in flight, the replies it owes, its
// timers), the waiters that threads outside the node block on, and the
// functions of actor.c, dispatch.c and watch.c that other files call.
// Everything in an actor is touched only by its port's thread, except the
// few atomics marked "any thread". Must not include anything from
// supervisor/.
#ifndef TR_ACTOR_INTERNAL_H
#define TR_ACTOR_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "timers.h"
#include "troupe/troupe.h"

typedef struct tr_port tr_port;
typedef struct tr_actor tr_actor;

// A one-shot completion that a thread outside the node waits on (spawn
// handshake, stop of an actor, quit of a port). Reference-counted, because
// the waiter may give up at its deadline before the port signals.
typedef struct tr_waiter {
    pthread_mutex_t mu;     // guards done, rc, refs
    pthread_cond_t cv;      // signalled when done
    int done;               // 1 once signalled
    int rc;                 // the result
    int refs;               // holders: the waiter and the port
    int abandoned;          // the waiter gave up (timed out)
    struct tr_waiter *next; // in an actor's list of exit waiters
} tr_waiter;

tr_waiter *tr_waiter_new(void); // refs = 2
// Wait until signalled or deadline: returns rc or TROUPE_ETIMEDOUT, and
// drops the waiter's reference.
int tr_waiter_wait(tr_waiter *w, int64_t deadline);
// Signal rc (first signal wins); returns 1 if the waiter gave up already.
int tr_waiter_signal(tr_waiter *w, int rc);
void tr_waiter_release(tr_waiter *w);

// A monitor or link entry.
typedef struct tr_watch {
    struct tr_watch *next; // list link
    troupe_addr who;       // the other side
    uint64_t ref;          // monitor reference (0 for links)
} tr_watch;

// A request this actor made and that has not ended.
typedef struct tr_pending {
    struct tr_pending *next, *prev; // the actor's list
    struct tr_pending *hnext;       // the port's hash chain
    uint64_t corr;                  // correlation id, unique in the port
    tr_actor *actor;                // the requester
    troupe_reply_fn cb;             // its callback
    void *arg;                      // the callback's argument
    tr_timer timer;                 // the deadline
} tr_pending;

// What a timer in a port's heap is for (tr_timer.type).
enum tr_timer_type {
    TR_TIMER_USER = 1,
    TR_TIMER_REQUEST = 2,
    TR_TIMER_FAULT = 3, // messages a fault plan's delay holds (fault.c)
};

// A user timer.
typedef struct tr_utimer {
    tr_timer t;             // in the port's heap
    struct tr_utimer *next; // the actor's list
    tr_actor *actor;        // owner
    uint64_t id;            // returned to the user
    int64_t period;         // ms, 0: one-shot
    char tag[];             // NUL-terminated copy
} tr_utimer;

struct troupe_deferred {
    struct troupe_deferred *next, *prev; // the actor's list
    tr_actor *actor;                     // who owes the reply
    troupe_addr to;                      // the requester
    uint64_t corr;                       // its correlation id
};

enum tr_actor_flag {
    TR_ACT_QUEUED = 1,      // in its port's run queue
    TR_ACT_RUNNING = 2,     // a callback of it is on the stack
    TR_ACT_STARTED = 4,     // init succeeded
    TR_ACT_TRAP = 8,        // traps exits
    TR_ACT_EXITING = 16,    // will end after the current callback
    TR_ACT_CLIENT = 32,     // the identity of a client handle: no handler
    TR_ACT_OWNS_STATE = 64, // state is inline and freed with the actor
    TR_ACT_SLOT_DEAD = 256, // its slot was killed already (ending)
    // Supervised restart in place (restart.c):
    TR_ACT_KEEP = 512,          // supervised: an exit parks it (slot, name and
                                // mailbox kept) instead of ending it
    TR_ACT_PARKED = 1024,       // parked: between two incarnations
    TR_ACT_FINAL = 2048,        // its next exit ends it for good
    TR_ACT_TRAP_STOP = 4096,    // a stop arrives as a "stop" exit message
    TR_ACT_SPEC_TRAP = 8192,    // its spec trapped exits (restored on revive)
    TR_ACT_LATE_START = 16384,  // reports "$started" itself (tr_restart.h)
    TR_ACT_QUIET_START = 32768, // revived inline: its supervisor knows
    // troupe_hold (actor.h):
    TR_ACT_HELD = 65536,        // tells and requests wait in the mailbox
    TR_ACT_START_HELD = 131072, // held in init: started at troupe_resume
};

struct tr_actor {
    tr_actor *rq_next;               // run queue link
    tr_actor *port_prev, *port_next; // the port's actors, in spawn order
    tr_port *port;                   // where it lives
    troupe_addr addr;                // its address
    uint32_t state_size;             // inline state, zeroed on revive
    troupe_handler_fn handler;       // from the spec
    troupe_init_fn init;             // from the spec
    troupe_fini_fn fini;             // from the spec
    void *state;                     // private state
    void *arg;                       // init's argument
    troupe_msg *mb_head, *mb_tail;   // mailbox
    uint32_t flags;                  // tr_actor_flag
    int exit_reason;                 // valid with TR_ACT_EXITING
    tr_watch *watchers;              // who monitors it
    tr_watch *monitors;              // whom it monitors
    tr_watch *links;                 // linked actors
    tr_pending *pending;             // its requests in flight
    troupe_deferred *deferred;       // replies it owes
    tr_utimer *timers;               // its timers
    char *name;                      // registered name (owned) or NULL
    tr_waiter *start_waiter;         // troupe_node_spawn's handshake
    tr_waiter *exit_waiters;         // signalled when it has ended
    _Atomic uint64_t n_received;     // stats, written by the owner
    _Atomic uint64_t n_sent;
    _Atomic uint64_t n_refused;
    _Atomic uint64_t handler_ticks_max; // slowest run, in tr_ticks
    // Handler ticks, log2 buckets from 256; all halved when one is full, so
    // they keep the shape (the p99) in 48 bytes.
    uint16_t hist[24];
    troupe_addr supervisor;       // TR_ACT_KEEP: who restarts it
    uint32_t budget_ms;           // handler budget, 0: none
    uint64_t sup_ref;             // parked: its monitor on supervisor
    struct tr_fault_actor *fault; // bound to a fault plan, or NULL
    void (*arg_free)(void *arg);  // frees arg with the actor, or NULL
    _Alignas(max_align_t) unsigned char inline_state[];
};

// ---- actor.c ----
// troupe_whereis for a name of len bytes, not NUL-terminated (a wire
// frame's destination). A name too long to be registered: TROUPE_ENOENT.
int tr_whereis_n(troupe_node *n, const char *name, size_t len,
                 troupe_addr *who);
// The actor at `to` if it is alive and lives on port p, else NULL.
tr_actor *tr_lookup(tr_port *p, troupe_addr to);
// A message arrived at port p (from its inbox or from a sender on p).
void tr_accept(tr_port *p, troupe_msg *m);
// The same for a batch of k messages taken from the inbox in one frame.
void tr_accept_n(tr_port *p, void *const *v, size_t k);
// Let actor a handle up to `batch` messages.
void tr_actor_run(tr_port *p, tr_actor *a);
// A timer of port p fired.
void tr_timer_fire(tr_port *p, tr_timer *t);
// End actor a now (not running): see the header for what that does.
void tr_actor_terminate(tr_port *p, tr_actor *a, int reason);
// Ask a to end after its current callback.
void tr_actor_exit(tr_port *p, tr_actor *a, int reason);
// The end of one incarnation, shared by ending for good and parking:
// counts and logs it, ends its requests, deferred replies, timers and
// monitors, tells links and watchers, runs fini, wakes exit waiters and
// takes it off the run queue. Leaves slot, name, mailbox and port list.
void tr_actor_end_run(tr_port *p, tr_actor *a, int reason);
// Put a on its port's list (spawn order) / run init on it. tr_actor_init
// returns init's code (0 if none); it does not start or end the actor.
void tr_actor_list_add(tr_port *p, tr_actor *a);
int tr_actor_init(tr_port *p, tr_actor *a);
// After init succeeded: mark started, schedule, tell a supervisor.
void tr_actor_started(tr_port *p, tr_actor *a);
// Drop a message nobody will handle: count it, answer a request EDEAD.
void tr_dead_letter(tr_port *p, troupe_msg *m);
// Allocate an actor for spec in a fresh slot on port `on` (not started).
int tr_actor_new(troupe_node *n, const troupe_actor_spec *spec, tr_port *on,
                 tr_actor **out);
// Start a (published) actor on its own port's thread: run init.
int tr_actor_start(tr_port *p, tr_actor *a);
// Free an actor that never went alive.
void tr_actor_discard(troupe_node *n, tr_actor *a);
void tr_actor_schedule(tr_port *p, tr_actor *a);
// Stop every actor of p, newest first.
void tr_port_stop_actors(tr_port *p, int reason);

// ---- watch.c ----
// Watch lists (monitors, watchers, links). Add who (and a monitor ref, 0
// for links) in front: 0 or TROUPE_ENOMEM. _once: not if who is there
// already (links are not counted). _free_all: empty the list.
int tr_watch_add(tr_watch **list, troupe_addr who, uint64_t ref);
int tr_watch_add_once(tr_watch **list, troupe_addr who);
void tr_watch_free_all(tr_watch **list);
// Monitor who on behalf of actor a of port p (actors and clients alike).
int tr_monitor(tr_port *p, tr_actor *a, troupe_addr who, uint64_t *ref);

#endif
