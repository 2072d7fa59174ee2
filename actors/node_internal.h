// SPDX-License-Identifier: MIT
//
// The node, actors layer: what a node holds (its ports, the actor table,
// names, the watchdog, the offload pool, process actors' state), and the
// routing functions of send.c. Includes port_internal.h and
// actor_internal.h, so that a file of the runtime includes this one. Must
// not include anything from supervisor/.
#ifndef TR_NODE_INTERNAL_H
#define TR_NODE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "actor_mem.h"
#include "decode_limits.h"
#include "log.h"
#include "msg_internal.h"
#include "offload_internal.h"
#include "port_internal.h"
#include "registry.h"
#include "slots.h"
#include "watchdog.h"
#include "troupe/troupe.h"
#include "zsock.h"

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

// ---- node.c ----
void tr_node_retire_counters(troupe_node *n, tr_counters *c);

#endif
