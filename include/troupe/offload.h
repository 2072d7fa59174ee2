// SPDX-License-Identifier: MIT
//
// The offload pool: worker threads that run a plain C function for an actor
// (CPU-heavy work, or a blocking library call) so that the actor's loop
// never stalls, like libuv's uv_queue_work or asyncio's run_in_executor.
// The result comes back to the actor that asked, as a callback on its own
// thread: the actor never blocks. See docs/offload.md.
#ifndef TROUPE_OFFLOAD_H
#define TROUPE_OFFLOAD_H

#include "troupe/request.h"

#ifdef __cplusplus
extern "C" {
#endif

// A job: runs once on a pool thread, with no troupe_ctx (it must not call
// troupe functions that take one). Returns 0 or a negative code (a positive
// value is taken as TROUPE_EINVAL, as a handler's is). It reads its input
// from arg and may write its result there.
typedef int (*troupe_job_fn)(void *arg);

// Frees a job's argument once nobody uses it any more (see troupe_offload).
// Called on whichever thread lets go of it last: the actor's, a pool
// thread, or the one stopping the node.
typedef void (*troupe_job_free_fn)(void *arg);

// Run fn(arg) on the node's offload pool, and then on_done(cx, state,
// status, NULL, cb_arg) on the calling actor's thread, with its state,
// exactly once. status is:
// - fn's return value (0 or its negative code): fn has returned, and what
//   it wrote into arg may be read;
// - TROUPE_ETIMEDOUT: the deadline passed. A job not started by then is not
//   run at all; one still running is not waited for, and what it returns
//   later is dropped (counted in late_replies);
// - TROUPE_ECANCELED: troupe_request_cancel(cx, *id) ended it, or the actor
//   is ending (stop, crash, exit); a job not started yet is then not run;
// - TROUPE_ESHUTDOWN: the node is stopping and the job was never started.
// After TROUPE_ETIMEDOUT or TROUPE_ECANCELED the job may still be running:
// on_done must then neither free arg nor read or write what fn may write.
// That is what free_arg is for: if not NULL it is called with arg exactly
// once, after on_done has run and fn has returned (or is known never to
// run), so arg is freed whichever side ends first. With free_arg NULL, arg
// must outlive the job on its own (NULL, static data...).
// deadline is absolute, or TROUPE_DEADLINE_DEFAULT (inherit the deadline of
// the request being handled, else the node's request_timeout_ms), or
// TROUPE_FOREVER. on_done's rules are troupe_reply_fn's: after
// TROUPE_ECANCELED its return value is ignored, otherwise a negative return
// crashes the actor. *id (may be NULL) receives the job's id, a request id
// of this actor: troupe_request_cancel(cx, id) ends the wait at once.
// Returns 0 and then on_done (and free_arg) run exactly once; or an error,
// and then neither runs and arg is still the caller's: TROUPE_EFULL (the
// pool's queue holds troupe_node_opts.offload_queue jobs already; counted
// in the node's refused and offload_refused stats), TROUPE_ETIMEDOUT
// (deadline already passed), TROUPE_EINVAL (no fn or on_done, no actor),
// TROUPE_ESTATE (the actor is ending), TROUPE_ESHUTDOWN (the pool has
// stopped), TROUPE_ENOMEM, TROUPE_ESYS (no pool thread could be started).
// Never waits: pool threads start on demand, up to offload_threads.
// Thread: the actor's (in one of its callbacks).
TROUPE_API int troupe_offload(troupe_ctx *cx, troupe_job_fn fn, void *arg,
                              troupe_job_free_fn free_arg, int64_t deadline,
                              troupe_reply_fn on_done, void *cb_arg,
                              uint64_t *id);

#ifdef __cplusplus
}
#endif
#endif
