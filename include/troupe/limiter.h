// SPDX-License-Identifier: MIT
//
// Concurrency limiters: at most N requests of one actor in flight at once,
// the others waiting in a bounded FIFO queue. Sending a thousand requests at
// once to a service that handles ten at a time is the other half of the
// "sequential awaits" mistake; a limiter bounds the fan-out without changing
// how a request ends: each one still ends exactly once, as in request.h.
#ifndef TROUPE_LIMITER_H
#define TROUPE_LIMITER_H

#include "troupe/request.h"

#ifdef __cplusplus
extern "C" {
#endif

// A limiter. Opaque; owned by the actor that made it (see troupe_limiter_new).
typedef struct troupe_limiter troupe_limiter;

// max_queued for a queue bounded only by memory.
#define TROUPE_LIMITER_UNBOUNDED SIZE_MAX

// Create a limiter for the actor of cx: at most max_in_flight (>= 1) of the
// requests made through it are in flight at once, and at most max_queued
// more wait for their turn (0: none waits, so a request over the limit is
// refused; TROUPE_LIMITER_UNBOUNDED: no bound but memory). Returns 0 and
// *lim, or TROUPE_EINVAL (NULL cx or lim, max_in_flight 0), TROUPE_ENOMEM,
// TROUPE_ESTATE (the actor is ending). The caller owns the limiter: free it
// with troupe_limiter_destroy(), from a callback of the same actor or from
// its fini. When the actor's run ends first, the limiter is closed with it
// (waiting requests end with TROUPE_ECANCELED, requests in flight end with
// TROUPE_ECANCELED as every pending request does) but not freed: destroy it
// in fini. Thread: the actor's, in one of its callbacks.
TROUPE_API int troupe_limiter_new(troupe_ctx *cx, size_t max_in_flight,
                                  size_t max_queued, troupe_limiter **lim);

// Make a request through lim, with the contract of troupe_request(): returns
// 0 and then on_reply runs exactly once, on the owner's thread; or an error
// and on_reply never runs. The body is packed now. If fewer than
// max_in_flight requests of lim are in flight and none waits, it is sent
// now; otherwise it waits in FIFO order and is sent when a request in
// flight ends. deadline is absolute, or TROUPE_DEADLINE_DEFAULT, resolved
// now as troupe_request() does (the handled request's deadline, else the
// node's request_timeout_ms); time spent waiting counts. A waiting request
// ends without being sent: TROUPE_ETIMEDOUT at its deadline;
// TROUPE_ECANCELED from troupe_limiter_cancel(), troupe_limiter_destroy() or
// the end of the actor's run; and when its turn comes, with the code the
// send failed with (TROUPE_EDEAD, TROUPE_ENOENT, TROUPE_EFULL for a full
// mailbox...). Once sent it ends as any request does. Errors (on_reply never
// runs): TROUPE_EFULL (max_queued requests already wait; counted in
// refused), TROUPE_ETIMEDOUT (deadline already passed), TROUPE_EINVAL (NULL
// lim or on_reply, a bad format or tag, a call that is not from the
// owner's callbacks), TROUPE_ESTATE (lim closed, actor ending),
// TROUPE_EMSGSIZE, TROUPE_ELIMIT, TROUPE_EBADMSG, TROUPE_ENOMEM, and when
// sent at once the codes of troupe_request() (TROUPE_EDEAD, TROUPE_ENOENT,
// TROUPE_EFULL...). *id (may be NULL) receives an id for
// troupe_limiter_cancel(), unique in lim. Thread: the owner's callbacks.
TROUPE_API int troupe_limiter_request(troupe_limiter *lim, troupe_addr to,
                                      const char *tag, int64_t deadline,
                                      troupe_reply_fn on_reply, void *arg,
                                      uint64_t *id, const char *fmt, ...);

// End request id of lim now with TROUPE_ECANCELED: its callback runs before
// this returns. A waiting request is never sent; a request in flight is
// canceled as by troupe_request_cancel() (a later reply is dropped as late)
// and frees its place for the next one. Returns 0, TROUPE_ENOENT (unknown or
// already ended), TROUPE_EINVAL (NULL lim, not from the owner's callbacks).
TROUPE_API int troupe_limiter_cancel(troupe_limiter *lim, uint64_t id);

// Close and free a limiter: the requests still waiting end now with
// TROUPE_ECANCELED, in order, without being sent (their callbacks run before
// this returns); requests in flight go on and end as they would have (their
// callbacks still run; the memory is freed after the last one). Accepts NULL
// and *lim == NULL; sets *lim to NULL. Thread: the owner's, in one of its
// callbacks or in its fini (by then the limiter was closed with the run, so
// no callback runs). Never from another thread.
TROUPE_API void troupe_limiter_destroy(troupe_limiter **lim);

// A limiter's counters.
typedef struct troupe_limiter_stats {
    size_t in_flight;      // requests sent that have not ended
    size_t queued;         // requests waiting to be sent
    size_t peak_in_flight; // most in flight at once so far (<= the limit)
    size_t peak_queued;    // most waiting at once so far
    uint64_t sent;         // requests sent through it
    uint64_t refused;      // refused with TROUPE_EFULL: the queue was full
    uint64_t expired;      // ended TROUPE_ETIMEDOUT while waiting (not sent)
    uint64_t canceled;     // ended TROUPE_ECANCELED while waiting (not sent)
} troupe_limiter_stats;

// Fill *st. Returns 0 or TROUPE_EINVAL (NULL argument). Thread: the owner's.
TROUPE_API int troupe_limiter_stats_get(const troupe_limiter *lim,
                                        troupe_limiter_stats *st);

#ifdef __cplusplus
}
#endif
#endif
