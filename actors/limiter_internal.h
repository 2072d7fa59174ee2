// SPDX-License-Identifier: MIT
//
// What gather.c needs of a limiter, actors layer: submitting a request that
// is already packed, cancelling it through a handle, and keeping the limiter
// alive while a gather still has requests in it. Only gather.c uses it.
#ifndef TR_LIMITER_INTERNAL_H
#define TR_LIMITER_INTERNAL_H

#include "node_internal.h"
#include "troupe/limiter.h"

// Submit request m (owned, consumed even on failure; kind, tag and body set)
// to `to` through lim from its owner's ctx cx, as troupe_limiter_request()
// does after packing. Returns 0 and *handle (valid until cb has run), or the
// codes of troupe_limiter_request() and cb never runs.
int tr_limiter_submit(troupe_limiter *lim, troupe_ctx *cx, troupe_addr to,
                      troupe_msg *m, int64_t deadline, troupe_reply_fn cb,
                      void *arg, void **handle);

// End the request behind handle now with TROUPE_ECANCELED (its callback runs
// before this returns), whether it waits or is in flight.
void tr_limiter_cancel_handle(troupe_limiter *lim, void *handle);

// True if lim belongs to actor a of port p and is still open.
int tr_limiter_usable(const troupe_limiter *lim, const tr_port *p,
                      const tr_actor *a);

// Keep lim's memory alive (a gather uses it) / let it go. A destroyed
// limiter is freed at the last release once nothing is in flight.
void tr_limiter_hold(troupe_limiter *lim);
void tr_limiter_release(troupe_limiter *lim);

#endif
