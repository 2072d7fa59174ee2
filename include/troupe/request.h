// SPDX-License-Identifier: MIT
//
// Requests and replies between actors. A request always ends exactly once:
// its callback runs with the reply, an error the replier chose, TROUPE_
// ETIMEDOUT at its deadline, TROUPE_EDEAD as soon as the target is known to
// be dead, or TROUPE_ECANCELED if the requester itself ends first. Replies
// that come after that are dropped and counted (late_replies).
#ifndef TROUPE_REQUEST_H
#define TROUPE_REQUEST_H

#include "troupe/actor.h"

#ifdef __cplusplus
extern "C" {
#endif

// The end of a request, on the requester's thread, with its state. status is
// 0 with reply set (borrowed until return), or a negative code with reply
// NULL: the replier's error code, TROUPE_ETIMEDOUT, TROUPE_EDEAD or
// TROUPE_ECANCELED. TROUPE_ECANCELED comes from troupe_request_cancel or when
// the requester is ending: the callback may still send (e.g. answer a
// troupe_deferred passed as arg, which is still valid), and must free what
// arg owns; its return value is then ignored. Otherwise returning a negative
// code crashes the requester, as a handler's would (positive: ignored).
typedef int (*troupe_reply_fn)(troupe_ctx *cx, void *state, int status,
                               const troupe_msg *reply, void *arg);

// Send a request with a body packed from fmt. deadline is absolute, or
// TROUPE_DEADLINE_DEFAULT to inherit the deadline of the message being
// handled (so deadlines travel through chains of requests) or else use the
// node's request_timeout_ms. Returns 0 and then on_reply runs exactly once;
// or an error and on_reply never runs: TROUPE_EDEAD, TROUPE_ENOENT,
// TROUPE_EFULL, TROUPE_EMSGSIZE, TROUPE_EINVAL (no callback, bad format),
// TROUPE_ETIMEDOUT (deadline already passed). *corr (may be NULL) receives
// the request's correlation id, for troupe_request_cancel().
TROUPE_API int troupe_request(troupe_ctx *cx, troupe_addr to, const char *tag,
                              int64_t deadline, troupe_reply_fn on_reply,
                              void *arg, uint64_t *corr, const char *fmt, ...);
// The same to a registered name, resolved now.
TROUPE_API int troupe_request_name(troupe_ctx *cx, const char *name,
                                   const char *tag, int64_t deadline,
                                   troupe_reply_fn on_reply, void *arg,
                                   uint64_t *corr, const char *fmt, ...);

// End a pending request now: its callback runs with TROUPE_ECANCELED before
// this returns, and a reply that comes later is dropped as late. Returns 0 or
// TROUPE_ENOENT (unknown or already ended).
TROUPE_API int troupe_request_cancel(troupe_ctx *cx, uint64_t corr);

// Reply to the request being handled (req must be the handler's msg).
// Returns 0, TROUPE_EALREADY (already replied or deferred), TROUPE_EINVAL
// (req is not a request), TROUPE_EMSGSIZE. A reply whose requester is gone
// is dead-lettered, not an error here.
TROUPE_API int troupe_reply(troupe_ctx *cx, const troupe_msg *req,
                            const char *fmt, ...);
// Reply with an error code (negative) instead of a body.
TROUPE_API int troupe_reply_error(troupe_ctx *cx, const troupe_msg *req,
                                  int code);

// A reply to be given later, after the handler returned (e.g. once a
// downstream request ended). Opaque; owned by the actor that deferred it.
typedef struct troupe_deferred troupe_deferred;

// Take over the duty to reply to req: the handler may return without
// replying. Returns 0 and *d, TROUPE_EALREADY, TROUPE_EINVAL, TROUPE_ENOMEM.
// If the actor ends with deferred replies not given, their requesters get
// TROUPE_EDEAD and the handles are freed.
TROUPE_API int troupe_defer(troupe_ctx *cx, const troupe_msg *req,
                            troupe_deferred **d);
// Give a deferred reply and free the handle (*d set to NULL), from any
// callback of the same actor. Returns 0; TROUPE_EINVAL (d is not this
// actor's, handle untouched); or the packer's code (TROUPE_EMSGSIZE,
// TROUPE_EINVAL for a bad format...), in which case the requester was
// answered with that code as an error and the handle was freed all the same.
TROUPE_API int troupe_deferred_reply(troupe_ctx *cx, troupe_deferred **d,
                                     const char *fmt, ...);
TROUPE_API int troupe_deferred_error(troupe_ctx *cx, troupe_deferred **d,
                                     int code);

#ifdef __cplusplus
}
#endif
#endif
