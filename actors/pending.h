// SPDX-License-Identifier: MIT
//
// Helpers over a port's table of pending requests, actors layer, for the
// objects built on requests (gather.c, limiter.c): alarms, cancelling a
// request without the public checks, and running a reply callback the way
// the runtime does. Nothing here adds runtime machinery: an alarm is an
// ordinary pending entry (tr_pending_open) that was sent to nobody.
#ifndef TR_PENDING_H
#define TR_PENDING_H

#include "node_internal.h"

// Start an alarm for actor a of port p: a pending entry that no message
// answers, so it ends the way a request to a silent target would, exactly
// once: with TROUPE_ETIMEDOUT at deadline (TROUPE_FOREVER: never), with
// TROUPE_ECANCELED when its actor ends (before fini, with sends still
// allowed), or never if tr_alarm_stop() takes it first. That makes it both a
// timer and a hook on the end of the actor's run, without a new kind of
// timer or a new list in the actor. Returns 0 and *corr, or TROUPE_ENOMEM.
// Called on p's thread.
int tr_alarm_start(tr_port *p, tr_actor *a, int64_t deadline,
                   troupe_reply_fn cb, void *arg, uint64_t *corr);

// Remove alarm corr of actor a without running its callback. Does nothing if
// it already ended (or corr is 0). Called on p's thread.
void tr_alarm_stop(tr_port *p, tr_actor *a, uint64_t corr);

// End actor a's pending request corr now with TROUPE_ECANCELED: its callback
// runs before this returns and a later reply is dropped as late. Unlike
// troupe_request_cancel() it works while the actor's port is abandoned or the
// actor is ending, so that an object that must not outlive its requests can
// always take them back. Returns 0 or TROUPE_ENOENT.
int tr_pending_cancel(tr_port *p, tr_actor *a, uint64_t corr);

// Run a reply callback of actor a (status, reply borrowed) as the runtime
// runs one: a ctx for a with no current message, and a negative return
// value crashes the actor unless status is TROUPE_ECANCELED. May be called
// from inside another callback of a (the ctx and the running flag are
// restored afterwards).
void tr_reply_invoke(tr_port *p, tr_actor *a, troupe_reply_fn cb, int status,
                     const troupe_msg *reply, void *arg);

// The ctx of the callback running now on this thread if it is actor a's on
// port p, else NULL (a call from another thread, another actor, or outside
// any callback). Lets the objects that belong to one actor check that they
// are used by their owner without taking a ctx argument.
troupe_ctx *tr_owner_ctx(tr_port *p, tr_actor *a);

#endif
