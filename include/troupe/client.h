// SPDX-License-Identifier: MIT
//
// Client handles: how a thread that is not an actor (main, a test, a worker
// of another library) talks to actors. A client has an address of its own, so
// actors can reply to it, tell it things and monitor it; its calls block, but
// always with a deadline. A client belongs to the thread that uses it: one
// thread at a time, like a zmq socket.
#ifndef TROUPE_CLIENT_H
#define TROUPE_CLIENT_H

#include <stdarg.h>

#include "troupe/actor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct troupe_client troupe_client;

// Create a client on node. Returns 0 and *client (free it with
// troupe_client_destroy()), TROUPE_ENOMEM, TROUPE_ESYS, TROUPE_ESHUTDOWN.
// Thread: any.
TROUPE_API int troupe_client_new(troupe_node *node, troupe_client **client);

// Free a client. Messages still queued to it are dead-lettered; actors that
// monitor it see it end with reason 0. Accepts NULL; sets *client to NULL.
TROUPE_API void troupe_client_destroy(troupe_client **client);

// The client's address.
TROUPE_API troupe_addr troupe_client_addr(const troupe_client *client);

// One-way message, as troupe_tell(). Does not wait.
TROUPE_API int troupe_client_tell(troupe_client *client, troupe_addr to,
                                  const char *tag, const char *fmt, ...);
TROUPE_API int troupe_client_tell_name(troupe_client *client, const char *name,
                                       const char *tag, const char *fmt, ...);

// Send a request and wait for its end, at most until deadline
// (TROUPE_DEADLINE_DEFAULT: the node's request_timeout_ms). Returns 0 and
// *reply (the caller owns it: troupe_msg_destroy()), or with *reply NULL:
// the replier's error code, TROUPE_ETIMEDOUT, TROUPE_EDEAD (target gone or
// died), TROUPE_ENOENT, TROUPE_EFULL, TROUPE_EMSGSIZE, TROUPE_EINVAL,
// TROUPE_ESTATE (a gather of this client is open: see gather.h).
// Messages that are not this request's reply and arrive meanwhile are kept
// for troupe_client_recv(), in order.
TROUPE_API int troupe_call(troupe_client *client, troupe_addr to,
                           const char *tag, int64_t deadline,
                           troupe_msg **reply, const char *fmt, ...);
TROUPE_API int troupe_call_name(troupe_client *client, const char *name,
                                const char *tag, int64_t deadline,
                                troupe_msg **reply, const char *fmt, ...);

// Wait for the next message sent to the client (a tell, a down message, ...)
// until deadline. Returns 0 and *msg (caller owns it), or TROUPE_ETIMEDOUT,
// TROUPE_ESTATE (a gather of this client is open: see gather.h).
TROUPE_API int troupe_client_recv(troupe_client *client, int64_t deadline,
                                  troupe_msg **msg);

// Monitor an actor from the client: a TROUPE_MSG_DOWN comes to
// troupe_client_recv() when it ends (at once, reason TROUPE_EDEAD, if gone).
TROUPE_API int troupe_client_monitor(troupe_client *client, troupe_addr who,
                                     uint64_t *ref);

#ifdef __cplusplus
}
#endif
#endif
