// SPDX-License-Identifier: MIT
//
// The runtime's shared structures, actors layer: node, ports (a thread's
// inbox and outboxes: a loop, an isolated actor, or a client handle), actors,
// requests and the other objects a port owns. Split by owner: everything in a
// port is touched only by that port's thread, except the few atomics marked
// "any thread". Must not include anything from supervisor/.
#ifndef TR_NODE_INTERNAL_H
#define TR_NODE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "actor_mem.h"
#include "decode_limits.h"
#include "io_internal.h"
#include "log.h"
#include "msg_internal.h"
#include "offload_internal.h"
#include "registry.h"
#include "slots.h"
#include "timers.h"
#include "watchdog.h"
#include "troupe/troupe.h"
#include "zsock.h"

// Counters a port's thread writes and any thread reads (relaxed).
typedef struct tr_counters {
    _Atomic uint64_t sent, delivered, dead, refused, late, malformed;
    _Atomic uint64_t spawned, exited, crashed;
} tr_counters;

// Add 1 to a counter only its owner thread writes: no locked instruction.
#define TR_BUMP(c)                                                             \
    atomic_store_explicit(                                                     \
        &(c), atomic_load_explicit(&(c), memory_order_relaxed) + 1,            \
        memory_order_relaxed)

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

enum tr_port_kind {
    TR_PORT_LOOP,
    TR_PORT_ISOLATED,
    TR_PORT_CLIENT
};
enum tr_port_state {
    TR_PORT_FREE,
    TR_PORT_OPEN,
    TR_PORT_CLOSING
};

// A cached connection from this port to another port's inbox, and the
// messages waiting to go through it together (see tr_port_flush).
typedef struct tr_outbox {
    void *sock;         // PUSH socket, owned by this port's thread
    uint32_t gen;       // generation of the port it is connected to
    uint32_t n;         // messages in batch
    troupe_msg **batch; // TR_SOCK_BATCH_MAX slots, allocated on first use
} tr_outbox;

struct troupe_ctx {
    tr_port *port;         // the running port
    tr_actor *actor;       // the running actor
    const troupe_msg *msg; // the message being handled, or NULL
    int no_send;           // set while ending: sends refused
};

struct tr_port {
    troupe_node *node;           // owner
    uint32_t id;                 // index in node->ports
    _Atomic uint32_t gen;        // bumped on each reuse (any thread reads)
    _Atomic int state;           // tr_port_state (any thread reads)
    _Atomic int inflight;        // senders inside a send to it (any thread)
    _Atomic int kind;            // tr_port_kind (the watchdog reads it)
    void *inbox;                 // PULL socket
    tr_outbox *out;              // indexed by port id
    uint32_t n_out;              // entries in out
    int batch_sends;             // batch outgoing messages (loops, gateway)
    long rcvtimeo;               // ZMQ_RCVTIMEO now set on the inbox
    uint32_t *dirty;             // ids of outboxes with a batch waiting
    uint32_t n_dirty, cap_dirty; // entries used and allocated
    pthread_t thread;            // loop and isolated ports
    int has_thread;              // thread must be joined
    _Atomic int thread_done;     // the thread has returned
    tr_actor *rq_head, *rq_tail; // run queue
    tr_actor *first, *last;      // actors living here, spawn order
    size_t n_actors;             // how many
    tr_timers timers;            // deadlines and user timers
    tr_pending **pend;           // hash of pending requests by corr
    size_t pend_cap, pend_len;   // buckets (power of 2), entries
    uint64_t next_corr;          // correlation ids
    uint64_t next_id;            // timer ids and monitor refs
    troupe_ctx cx;               // the ctx handed to callbacks
    unsigned since_inbox;        // messages handled since the inbox read
    uint64_t inbox_ticks;        // tr_ticks at that read
    int quit;                    // end the loop
    tr_waiter *quit_waiter;      // signalled once the port ended
    troupe_msg *local_head, *local_tail; // system msgs to self, deferred
    // Messages from threads that are not ports (main calling
    // troupe_node_spawn, troupe_node_stop...): a locked list and an eventfd
    // that the port polls beside its inbox. Such threads own no socket.
    pthread_mutex_t fq_lock;       // guards fq_head / fq_tail
    troupe_msg *fq_head, *fq_tail; // foreign messages, in order
    _Atomic int fq_pending;        // fq is not empty (any thread)
    int efd;                       // eventfd, written after an append
    // One more zmq socket the port's thread polls and owns (the gateway's
    // ROUTER), and what to call when it is readable. NULL: none.
    void *watch_sock;
    void (*watch_ready)(tr_port *p, void *arg);
    void *watch_arg;
    // Called at the end of each turn, after the port's own batches left
    // (the process proxy sends its link's batch then). NULL: none.
    void (*turn_end)(tr_port *p, void *arg);
    void *turn_end_arg;
    tr_counters ctr; // this port's counters
    // What the watchdog (watchdog.c) sees of the budgeted handler running
    // now: written by the port's thread, read by the watchdog's.
    _Atomic uint64_t busy_t0;        // tr_ticks at its start; 0: none
    _Atomic uint64_t busy_budget_ns; // its actor's budget
    _Atomic uint64_t busy_runs;      // budgeted runs begun (identifies one)
    _Atomic uint64_t busy_reported;  // the run the watchdog reported last
    _Atomic uint32_t busy_slot, busy_inc;         // the actor
    _Atomic uint32_t busy_sup_slot, busy_sup_inc; // its supervisor, if any
    _Atomic uint64_t busy_tag[8]; // its tag (64 bytes, NUL-padded)
    // The port thread's own note of what it last published above, so that
    // a run of messages to one actor with one tag stores only t0.
    const tr_actor *wd_actor; // whose identity is in busy_slot..., or NULL
    troupe_addr wd_addr;      // ...and its address then
    troupe_addr wd_sup;       // ...and its supervisor (or none)
    char wd_tag[64];          // what busy_tag holds...
    size_t wd_tag_len;        // ...up to here (the rest NUL)
    // tr_ticks at the end of the last handler of the actor's run under way
    // (the next handler's start: one clock read per message), 0: none.
    uint64_t run_ticks;
    uint64_t ticks_per_ms; // tr_ticks in a millisecond (0: not yet known)
    tr_io_set io;          // fds its actors watch (io.c)
    tr_actor_cache acache; // actor structs its thread freed (actor_mem.h)
    tr_slot_cache scache;  // free slot indices its thread holds (slots.h)
    // An isolated port given up on (tr_abandon): its actor is dead to the
    // world; whatever it still does is dropped and it ends when it can.
    _Atomic int abandoned;
};

struct troupe_node {
    troupe_node_opts opts;     // as given, defaults filled
    tr_limits limits;          // decode limits from opts
    tr_log log;                // logging
    tr_ctx zctx;               // zmq context
    tr_slots slots;            // actor table
    tr_actor_mem amem;         // actor structs (actor_mem.h)
    tr_registry names;         // name registry
    uint32_t id;               // unique in the process (endpoint names)
    _Atomic(tr_port *) *ports; // max_ports entries
    uint32_t max_ports;        // capacity
    pthread_mutex_t lock;      // guards port allocation, roots, retired
    unsigned n_loops;          // ports 0..n_loops-1 are loops
    _Atomic unsigned rr;       // round-robin placement
    _Atomic int stopping;      // no new actors or clients
    int stopped;               // troupe_node_stop ran (under lock)
    int stop_rc;               // its result
    int leaked;                // a thread was abandoned: never free
    troupe_addr *roots;        // actors from troupe_node_spawn, in order
    size_t n_roots, cap_roots;
    tr_counters retired; // counters of ports that closed
    _Atomic uint64_t live_actors, live_threads, live_clients;
    _Atomic uint64_t limits_hit;      // max_actors / max_ports reached
    _Atomic uint64_t budget_overruns; // handler runs past their budget
    tr_watchdog watchdog;             // see watchdog.h
    // Installed fault plan (fault.c), or NULL; set under lock, holds a
    // reference.
    _Atomic(troupe_fault_plan *) faults;
    tr_offload offload; // the offload pool (offload.c)
    // Process actors (proc_proxy.c): runtime directory and children, made
    // at the first process spawn. NULL until then.
    _Atomic(struct tr_proc_node *) proc;
    // In a process actor's child (proc_child.c): the link to the parent,
    // where sends by names unknown here go. TROUPE_ADDR_NONE otherwise.
    troupe_addr uplink;
};

// May the callback holding cx send or start something? 0, TROUPE_EINVAL
// (no ctx), or TROUPE_ESTATE: the actor is ending (cx->no_send), or its
// isolated port was abandoned (watchdog.c), whose late output is dropped.
static inline int tr_ctx_check(const troupe_ctx *cx)
{
    if (!cx || !cx->actor)
        return TROUPE_EINVAL;
    return cx->no_send || atomic_load_explicit(&cx->port->abandoned,
                                               memory_order_relaxed)
               ? TROUPE_ESTATE
               : 0;
}

// The ctx for a callback of actor a that the port runs outside of any
// message (a watched socket's ready callback): a's, with no message.
static inline troupe_ctx *tr_port_ctx_for(tr_port *p, tr_actor *a)
{
    p->cx.port = p;
    p->cx.actor = a;
    p->cx.msg = NULL;
    p->cx.no_send = 0;
    return &p->cx;
}

// The port whose thread is running now, or NULL on a foreign thread.
tr_port *tr_port_current(void);

// ---- port.c ----
// Take a free port of `kind` and open its inbox (bound). Returns 0 and *out.
int tr_port_open(troupe_node *n, int kind, tr_port **out);
// Start the port's thread (loop or isolated).
int tr_port_start_thread(tr_port *p);
// Close a port from its own thread: refuse new sends, drain and dead-letter
// what came, close sockets, give the port back.
void tr_port_close(tr_port *p);
// Hand m to port pid's inbox from port `from` (NULL: a foreign thread).
// Returns 0 (m now belongs to the receiver), or TROUPE_EDEAD (the port is
// closing; m still belongs to the caller), or another code.
int tr_port_push(tr_port *from, uint32_t pid, troupe_msg *m);
// Send every batch waiting in p's outboxes. Called by the port's thread at
// the end of each turn and before it waits; what cannot be delivered (the
// destination closed meanwhile) is dead-lettered here.
void tr_port_flush(tr_port *p);
// The same from a thread that is not a port (the port's foreign queue).
int tr_port_push_foreign(troupe_node *n, uint32_t pid, troupe_msg *m);
// Queue m for port p's own thread to accept on its next turn (used before
// the thread starts, and by a port for itself).
void tr_port_post_local(tr_port *p, troupe_msg *m);
// Take everything in the inbox, then the foreign queue. Returns how many
// messages.
int tr_port_drain(tr_port *p);
// Wait until the inbox or the foreign queue may have something, at most
// timeout ms (-1: no limit). Returns which are ready (TR_READY_* bits, 0 on
// timeout), or TROUPE_ESYS.
enum {
    TR_READY_INBOX = 1,
    TR_READY_FOREIGN = 2,
    TR_READY_WATCH = 4
};
int tr_port_wait(tr_port *p, long timeout);
// Run one turn of a thread port: due timers, ready actors. Returns the poll
// timeout in ms for the next wait (-1: none, 0: more to do).
long tr_port_turn(tr_port *p);
// Pending-request hash of the port.
int tr_pend_add(tr_port *p, tr_pending *pd);
tr_pending *tr_pend_take(tr_port *p, uint64_t corr);

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

// ---- send.c ----
// Send m (to, from, kind set; owned). Counts it. Returns 0 or a code; m is
// consumed either way. p: the sending port (NULL on a foreign thread).
int tr_route(troupe_node *n, tr_port *p, troupe_msg *m);
// A message that was offered and never left its sender (refused: rc is
// TROUPE_EFULL, TROUPE_EMSGSIZE, TROUPE_EBADMSG, ...; or dead: TROUPE_EDEAD,
// TROUPE_ENOENT): count it as sent and as refused or dead-lettered, and log
// it at debug level. Nothing is refused silently.
void tr_offer_failed(tr_port *p, const char *tag, troupe_addr to, int rc);
// True for the codes with which packing refuses a body (bad input), as
// opposed to API misuse (TROUPE_EINVAL): those are counted as refused.
static inline int tr_is_refusal(int rc)
{
    return rc == TROUPE_EMSGSIZE || rc == TROUPE_EBADMSG || rc == TROUPE_ELIMIT;
}
// A system message from a thread that may be foreign, signed by the actor
// whose callback runs now (none: TROUPE_ADDR_NONE) / by `from`.
int tr_send_system(troupe_node *n, troupe_addr to, int op, uint64_t ref,
                   void *ptr);
int tr_send_system_as(troupe_node *n, troupe_addr from, troupe_addr to, int op,
                      uint64_t ref, void *ptr);
// Answer a request m (still owned by the caller) with code, from `from`.
void tr_reply_code(troupe_node *n, tr_port *p, const troupe_msg *m, int code);
// End a pending request with status (reply may be NULL). Frees pd.
void tr_pending_finish(tr_port *p, tr_pending *pd, int status,
                       const troupe_msg *reply);
// The deadline a new request gets from TROUPE_DEADLINE_DEFAULT.
int64_t tr_default_deadline(troupe_node *n, const troupe_ctx *cx);

// Send a prepared request m (owned; consumed even on failure) from the
// actor of cx: as troupe_request, with a body already packed.
int tr_request_msg(troupe_ctx *cx, troupe_addr to, troupe_msg *m,
                   int64_t deadline, troupe_reply_fn cb, void *arg,
                   uint64_t *corr);
// Register a pending request of the actor of cx (its corr, its deadline
// timer unless TROUPE_FOREVER), without sending anything: what
// tr_request_msg and troupe_offload build on. From then on it ends exactly
// once through cb (reply, error, deadline, cancel, the actor's end).
// Returns 0 and *out (owned by the port), or TROUPE_ENOMEM.
int tr_pending_open(troupe_ctx *cx, int64_t deadline, troupe_reply_fn cb,
                    void *arg, tr_pending **out);
// Undo tr_pending_open for a call that failed: remove the entry without
// running its callback (nothing if it ended already).
void tr_pending_discard(troupe_ctx *cx, uint64_t corr);

// ---- watch.c ----
// Watch lists (monitors, watchers, links). Add who (and a monitor ref, 0
// for links) in front: 0 or TROUPE_ENOMEM. _once: not if who is there
// already (links are not counted). _free_all: empty the list.
int tr_watch_add(tr_watch **list, troupe_addr who, uint64_t ref);
int tr_watch_add_once(tr_watch **list, troupe_addr who);
void tr_watch_free_all(tr_watch **list);
// Monitor who on behalf of actor a of port p (actors and clients alike).
int tr_monitor(tr_port *p, tr_actor *a, troupe_addr who, uint64_t *ref);

// ---- node.c ----
void tr_node_retire_counters(troupe_node *n, tr_counters *c);

#endif
