// SPDX-License-Identifier: MIT
//
// Gathers: many requests in flight at once, one continuation when they have
// all settled, under one deadline. Every item keeps its own outcome (a
// reply, the replier's error, TROUPE_ETIMEDOUT, TROUPE_EDEAD, or
// TROUPE_ECANCELED when it was no longer needed), so one failure never loses
// the batch. An actor gathers with a continuation; a thread that is not an
// actor (main) gathers through its client handle and blocks until settled.
#ifndef TROUPE_GATHER_H
#define TROUPE_GATHER_H

#include "troupe/client.h"
#include "troupe/limiter.h"
#include "troupe/request.h"

#ifdef __cplusplus
extern "C" {
#endif

// A gather. Opaque.
typedef struct troupe_gather troupe_gather;

// When a gather settles.
typedef enum troupe_gather_mode {
    // When every item has ended. Its goal: every item ok.
    TROUPE_GATHER_ALL = 0,
    // As soon as `quorum` items succeeded (the others, no longer needed, are
    // canceled: TROUPE_ECANCELED), or as soon as that can no longer happen
    // (too many failed; the others are canceled too). Goal: quorum ok.
    TROUPE_GATHER_QUORUM = 1,
    // TROUPE_GATHER_QUORUM with quorum 1: the first success wins and the
    // others are canceled; if every item fails, every failure is there.
    TROUPE_GATHER_FIRST = 2,
} troupe_gather_mode;

// The continuation of an actor's gather: runs exactly once, on the actor's
// thread, with its state, once g has settled. g is valid until it returns
// (then the runtime frees it, with the replies not taken): read it with the
// accessors below. troupe_ctx_msg(cx) is NULL, as in a reply callback. When
// it runs because the actor's run is ending (see troupe_gather_new; its
// result is then TROUPE_ECANCELED) it may still send, must free what arg
// owns, and its return value is ignored; otherwise a negative return value
// crashes the actor, as a handler's would (positive: ignored).
typedef int (*troupe_gather_fn)(troupe_ctx *cx, void *state, troupe_gather *g,
                                void *arg);

// Start a gather in the actor of cx. mode and quorum say when it settles
// (quorum: successes needed with TROUPE_GATHER_QUORUM, >= 1; ignored
// otherwise). Every item is a request with deadline: absolute,
// TROUPE_FOREVER, or TROUPE_DEADLINE_DEFAULT for the deadline of the request
// being handled (so deadlines travel), else the node's request_timeout_ms
// from now. Add items with troupe_gather_request(), then call
// troupe_gather_start(). Returns 0 and *g, or TROUPE_EINVAL (NULL cx, done or
// g, a bad mode, quorum 0), TROUPE_ETIMEDOUT (deadline already passed),
// TROUPE_ENOMEM, TROUPE_ESTATE (the actor is ending); on error done never
// runs. On success done runs exactly once: after troupe_gather_start() when
// the gather settles; or, if the actor's run ends first (started or not),
// during its end, before fini, with troupe_gather_result(g) ==
// TROUPE_ECANCELED and every item that had not ended TROUPE_ECANCELED. Until
// troupe_gather_start() the caller may also abandon it with
// troupe_gather_destroy(). Thread: the actor's, in one of its callbacks.
TROUPE_API int troupe_gather_new(troupe_ctx *cx, troupe_gather_mode mode,
                                 size_t quorum, int64_t deadline,
                                 troupe_gather_fn done, void *arg,
                                 troupe_gather **g);

// Send the items of g through lim (of the same actor) instead of all at
// once, so that a gather of 1,000 items keeps at most lim's max_in_flight in
// flight. An item that must wait counts its wait against the gather's
// deadline; one that lim refuses (its queue full: TROUPE_EFULL) ends with
// that code. g keeps lim's memory alive until g is freed, but destroying lim
// still cancels the items waiting in it (they end TROUPE_ECANCELED, a
// failure like any other).
// Returns 0, TROUPE_EINVAL (NULL, a client's gather, lim of another actor or
// closed), TROUPE_ESTATE (items were already added). Not for client gathers.
TROUPE_API int troupe_gather_set_limiter(troupe_gather *g, troupe_limiter *lim);

// Add an item: a request to `to` with tag and a body packed from fmt (see
// msg.h), sent now (or queued in the limiter). Returns the item's index
// (0, 1, 2... in the order of the calls; >= 0), or a negative code when no
// item was added: TROUPE_EINVAL (NULL g, g already started, a call that is
// not from the owner's callbacks or thread), TROUPE_ENOMEM, TROUPE_ELIMIT
// (INT_MAX items). A request that cannot be sent is not an error here: the
// item is added and has already ended with the code troupe_request() would
// have returned (TROUPE_EDEAD, TROUPE_ENOENT, TROUPE_EFULL, TROUPE_EMSGSIZE,
// TROUPE_EINVAL for a bad format or tag, TROUPE_ETIMEDOUT...), so the batch
// keeps one outcome per call. Thread: the actor's callbacks, or the client's
// thread.
TROUPE_API int troupe_gather_request(troupe_gather *g, troupe_addr to,
                                     const char *tag, const char *fmt, ...);

// No more items: from now on g settles as its mode says. If it can settle
// at once (every item ended already, or an empty TROUPE_GATHER_ALL), done
// runs before this returns. After a successful call g belongs to the
// runtime: do not use it outside done. Returns 0, or TROUPE_EINVAL (NULL g,
// a client's gather, already started, not from the owner's callbacks, or
// fewer items than quorum: nothing happened and g is still the caller's).
TROUPE_API int troupe_gather_start(troupe_gather *g);

// Abandon g: a client's gather at any time (its replies still coming are
// dropped as late; replies not taken are freed), or an actor's gather before
// troupe_gather_start() (its requests are canceled; done never runs). After
// troupe_gather_start() an actor's gather is the runtime's and this only
// clears the caller's pointer. Accepts NULL and *g == NULL; sets *g to NULL.
// Thread: the owner's.
TROUPE_API void troupe_gather_destroy(troupe_gather **g);

// A gather from client handle c, for a thread that is not an actor: the same
// modes, deadline (TROUPE_DEADLINE_DEFAULT: the node's request_timeout_ms)
// and outcomes, with no continuation: add items with
// troupe_gather_request() (sent at once), then troupe_gather_wait(), read the
// items, and free g with troupe_gather_destroy() (the caller owns it). While
// a gather of c is open (made and not yet waited for or destroyed),
// troupe_call() and troupe_client_recv() on c return TROUPE_ESTATE, since
// they would drop its replies; several gathers of c may be open at once.
// Returns 0 and *g, TROUPE_EINVAL, TROUPE_ETIMEDOUT (deadline passed),
// TROUPE_ENOMEM. Thread: the client's.
TROUPE_API int troupe_client_gather_new(troupe_client *c,
                                        troupe_gather_mode mode, size_t quorum,
                                        int64_t deadline, troupe_gather **g);

// Wait until a client's gather has settled: at the latest at its deadline,
// when the items still pending end TROUPE_ETIMEDOUT. No more items can be
// added. Returns troupe_gather_result(g) (again at once if called again), or
// TROUPE_EINVAL (NULL g, an actor's gather, fewer items than quorum: then
// nothing happened), or TROUPE_ESYS (waiting failed; the pending items end
// with it). Thread: the client's.
TROUPE_API int troupe_gather_wait(troupe_gather *g);

// ---- reading a settled gather (in done, or after troupe_gather_wait) ----

// The number of items (0 for NULL).
TROUPE_API size_t troupe_gather_size(const troupe_gather *g);

// Item i's outcome: 0 (ok, see troupe_gather_reply), the replier's error
// code, TROUPE_ETIMEDOUT, TROUPE_EDEAD (target gone, died, or its handler
// did not reply), TROUPE_ECANCELED (no longer needed, or the actor is
// ending), a code its send failed with, or TROUPE_EAGAIN while it has not
// ended (before settling). TROUPE_EINVAL if i is out of range.
TROUPE_API int troupe_gather_status(const troupe_gather *g, size_t i);

// Item i's reply if its status is 0 (borrowed: valid until done returns, or
// until the client's gather is destroyed), else NULL (also after
// troupe_gather_take_reply).
TROUPE_API const troupe_msg *troupe_gather_reply(const troupe_gather *g,
                                                 size_t i);

// Take item i's reply: *reply is the caller's (troupe_msg_destroy()), and
// troupe_gather_reply(g, i) is NULL from now on; its status stays 0. Returns
// 0, or TROUPE_ENOENT (no reply: the item failed or it was taken) or
// TROUPE_EINVAL (i out of range, NULL argument), with *reply NULL.
TROUPE_API int troupe_gather_take_reply(troupe_gather *g, size_t i,
                                        troupe_msg **reply);

// How many items have the given status: troupe_gather_count(g, 0) is the
// number of successes, troupe_gather_count(g, TROUPE_ETIMEDOUT) of timeouts.
TROUPE_API size_t troupe_gather_count(const troupe_gather *g, int status);

// The gather's result once settled: TROUPE_ECANCELED if the actor's run
// ended before it settled; else 0 if its goal was met (see
// troupe_gather_mode); otherwise the status of the first failed item, in
// item order (an item canceled because it was no longer needed is not a
// failure). TROUPE_EAGAIN before it settled; TROUPE_EINVAL for NULL.
TROUPE_API int troupe_gather_result(const troupe_gather *g);

#ifdef __cplusplus
}
#endif
#endif
