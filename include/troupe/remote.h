// SPDX-License-Identifier: MIT
//
// Reaching actors from other processes and machines. A node listens on an
// ipc:// or tcp:// endpoint (troupe_node_listen); a remote client in any
// process (troupe_remote, no node needed) tells and calls the node's actors
// by name over it. Frames use the versioned wire format of docs/protocol.md
// and are validated in full before anything else reads them: a malformed
// frame is refused, counted (troupe_node_stats.malformed) and the node goes
// on. The same promises hold as in-process: every call ends exactly once,
// with a reply, the replier's error, TROUPE_EDEAD, TROUPE_ENOENT or
// TROUPE_ETIMEDOUT at its deadline.
#ifndef TROUPE_REMOTE_H
#define TROUPE_REMOTE_H

#include "troupe/msg.h"
#include "troupe/node.h"

#ifdef __cplusplus
extern "C" {
#endif

// Listen on endpoint ("ipc:///path", "tcp://127.0.0.1:5555", or
// "tcp://127.0.0.1:*" for any free port). A gateway actor on a thread of its
// own then serves remote clients until the node stops; it is a root actor
// (stopped in reverse spawn order with the others). If bound is not NULL the
// endpoint actually bound (with the port chosen) is written there, NUL-
// terminated, cut to cap bytes. Returns 0, TROUPE_EINVAL (bad endpoint, or
// called from a node thread), TROUPE_EEXIST (address in use), TROUPE_ENOENT
// (ipc directory missing), TROUPE_ESHUTDOWN, TROUPE_ESYS.
// Frames over 4 * max_msg_size close the sender's connection (zmq's
// ZMQ_MAXMSGSIZE); smaller oversized ones are refused and counted.
// Thread: any thread that is not the node's.
TROUPE_API int troupe_node_listen(troupe_node *node, const char *endpoint,
                                  char *bound, size_t cap);

// A client of a listening node, in any process. Owned by one thread at a
// time. Opaque.
typedef struct troupe_remote troupe_remote;

// Connect to endpoint. Connecting does not wait for the node: calls made
// before it is reachable wait (up to their deadline) as zmq reconnects. The
// limits of opts (max_msg_size, max_depth, max_items, max_tag_len) bound
// what is sent and what is accepted back; NULL uses the defaults. Returns 0
// and *remote (free with troupe_remote_destroy), TROUPE_EINVAL (bad
// endpoint), TROUPE_ENOMEM, TROUPE_ESYS. Thread: any.
TROUPE_API int troupe_remote_new(troupe_remote **remote, const char *endpoint,
                                 const troupe_node_opts *opts);

// Close and free. Tells not yet sent get up to 1 s to leave. Accepts NULL;
// sets *remote to NULL.
TROUPE_API void troupe_remote_destroy(troupe_remote **remote);

// One-way message to the actor registered as name on the remote node.
// Returns 0 once queued for sending (an unknown name there is counted there
// as dead-lettered), TROUPE_EMSGSIZE, TROUPE_EINVAL, TROUPE_EAGAIN (zmq's
// send queue is full). Does not wait.
TROUPE_API int troupe_remote_tell(troupe_remote *remote, const char *name,
                                  const char *tag, const char *fmt, ...);

// Request to the actor registered as name; waits for its end until deadline
// (TROUPE_DEADLINE_DEFAULT: 5 s). Returns 0 and *reply (caller frees it with
// troupe_msg_destroy), or with *reply NULL: the replier's error code,
// TROUPE_EDEAD, TROUPE_ENOENT (no such name there), TROUPE_EFULL,
// TROUPE_ETIMEDOUT (also when the node cannot be reached),
// TROUPE_ESHUTDOWN (the node stopped), TROUPE_EMSGSIZE, TROUPE_EINVAL,
// TROUPE_EBADMSG (an error answer without a negative code). A malformed
// answer is dropped like a stray one, and the call goes on waiting until its
// deadline. A reply that comes after the deadline is dropped.
TROUPE_API int troupe_remote_call(troupe_remote *remote, const char *name,
                                  const char *tag, int64_t deadline,
                                  troupe_msg **reply, const char *fmt, ...);

#ifdef __cplusplus
}
#endif
#endif
