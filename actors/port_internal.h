// SPDX-License-Identifier: MIT
//
// Ports, actors layer: a thread's inbox and outboxes (a loop, an isolated
// actor, or a client handle), the ctx handed to callbacks, the counters a
// port keeps, and the functions of port.c that other files call. A port's
// fields are touched only by its own thread, except those marked "any
// thread".
#ifndef TR_PORT_INTERNAL_H
#define TR_PORT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "actor_internal.h"
#include "actor_mem.h"
#include "io_internal.h"
#include "slots.h"
#include "timers.h"
#include "troupe/troupe.h"

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
    troupe_node *node;    // owner
    uint32_t id;          // index in node->ports
    _Atomic uint32_t gen; // bumped on each reuse (any thread reads)
    _Atomic int state;    // tr_port_state (any thread reads)
    _Atomic int inflight; // senders inside a send to it (any thread)
    // Frames sent to its inbox and not yet taken: counted up by senders
    // after the send, down by the port after the receive (so it may dip
    // below 0 for a moment). A busy loop skips its inbox read (a poll() and
    // a getpid() in libzmq) while it is <= 0.
    _Atomic long inbox_frames;
    _Atomic int kind;            // tr_port_kind (the watchdog reads it)
    void *inbox;                 // PULL socket
    int inbox_quiet;             // its last receive found nothing (io.h)
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
    tr_counters ctr;               // this port's counters
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
    tr_io_set io;          // fds and sockets it polls, turn hooks (io.c)
    tr_actor_cache acache; // actor structs its thread freed (actor_mem.h)
    tr_slot_cache scache;  // free slot indices its thread holds (slots.h)
    // An isolated port given up on (tr_abandon): its actor is dead to the
    // world; whatever it still does is dropped and it ends when it can.
    _Atomic int abandoned;
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

#endif
