// SPDX-License-Identifier: MIT
//
// Fault injection, actors layer: the hooks through which the runtime asks a
// fault plan (troupe/fault.h) what to do. Each is called from one line at
// its hook point, and only for an actor bound to a plan (tr_actor.fault is
// not NULL), except tr_fault_init, which does the binding; all the logic is
// in fault.c. Every hook runs on the actor's own port thread.
#ifndef TR_FAULT_INTERNAL_H
#define TR_FAULT_INTERNAL_H

#include "node_internal.h"

// Before actor a's init runs (tr_actor_init), on its port p. Binds a to
// the node's plan if the node has one and a rule matches a's name (once: a
// restarted actor stays bound), then counts this init. Returns 0 (go on
// with init), the reason of a troupe_fault_fail_init rule (init must not
// run, the actor fails with it), or TROUPE_ENOMEM. Cheap without a plan.
int tr_fault_init(tr_port *p, tr_actor *a);

// Called instead of a->handler(cx, a->state, m) for a bound actor, inside
// the handler's timed region: counts the message, blocks for a hang, and
// returns a crash reason without calling the handler, or the handler's
// result.
int tr_fault_handle(troupe_ctx *cx, tr_actor *a, const troupe_msg *m);

// Message m (not a system message) was accepted by port p for bound actor
// a. Returns 1 if a delay rule holds it (m is then the plan's until it is
// accepted again, or dead-lettered), 0 to go on.
int tr_fault_hold(tr_port *p, tr_actor *a, troupe_msg *m);

// A TR_TIMER_FAULT timer of port p fired: the messages held that are due
// are accepted again, in order.
void tr_fault_timer(tr_port *p, tr_timer *t);

// Bound actor a is about to answer a request of `to`, with reply m (owned
// by the caller) or, if m is NULL, with an error code. Returns 1 if a
// troupe_fault_drop_reply rule drops the answer: it was counted as sent and
// dead-lettered, and m freed. Returns 0 to send it.
int tr_fault_drop(tr_port *p, tr_actor *a, troupe_addr to, troupe_msg *m);

// Bound actor a ends for good (its mailbox was just dead-lettered): the
// messages it holds are dead-lettered too, and a is unbound.
void tr_fault_end(tr_port *p, tr_actor *a);

#endif
