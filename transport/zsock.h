// SPDX-License-Identifier: MIT
//
// The zmq context and sockets, transport layer: every socket troupe opens
// goes through here, so each gets a bounded linger and message size and is
// counted (the node's live_sockets stat). One socket, one thread: nothing
// here locks; the caller's thread owns what it opens.
#ifndef TR_ZSOCK_H
#define TR_ZSOCK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tr_ctx {
    void *zmq;                 // the zmq context
    atomic_uint_fast64_t live; // sockets open now
    int64_t max_msg_size;      // ZMQ_MAXMSGSIZE for stream sockets
} tr_ctx;

// Create the zmq context. Returns 0, TROUPE_ENOMEM or TROUPE_ESYS.
int tr_ctx_init(tr_ctx *c, int64_t max_msg_size);
// Terminate it; all sockets must be closed first (else this would block, and
// it returns TROUPE_ESTATE without terminating).
int tr_ctx_fini(tr_ctx *c);

// Open a socket of zmq type `type` with linger 0 (in-process hand-overs are
// drained by troupe before close; ipc/tcp ones use tr_sock_set_linger) and
// no high-water mark (troupe bounds mailboxes itself). Returns 0 and *sock,
// or a TROUPE_E* code.
int tr_sock_open(tr_ctx *c, int type, void **sock);
// Close *sock (NULL accepted) and set it to NULL.
void tr_sock_close(tr_ctx *c, void **sock);
// Bind. For ipc:// endpoints a live listener already on the path is
// detected first and refused with TROUPE_EEXIST (zmq itself would silently
// take the path over); a stale file nobody listens on is removed.
int tr_sock_bind(void *sock, const char *endpoint);
// Unbind endpoint and, for ipc://, remove its file.
void tr_sock_unbind(void *sock, const char *endpoint);
int tr_sock_connect(void *sock, const char *endpoint);

// Hand a pointer to another thread over an inproc socket. flags: 0 or
// ZMQ_DONTWAIT. Returns 0 or a TROUPE_E* code (TROUPE_EAGAIN).
int tr_sock_send_ptr(void *sock, void *p, int flags);

// Hand n pointers over in one zmq message (one wake-up, one syscall at
// most, for a whole batch). flags as for tr_sock_send_ptr.
int tr_sock_send_ptrs(void *sock, void *const *v, size_t n, int flags);
// The most pointers one batch carries.
#define TR_SOCK_BATCH_MAX 64
// Receive one batch into v[TR_SOCK_BATCH_MAX]; *n receives how many (0 for
// an empty frame: a wake-up).
// TROUPE_EAGAIN when none; TROUPE_EBADMSG (dropped) if its size is not a
// multiple of a pointer's or over the maximum.
int tr_sock_recv_ptrs(void *sock, void **v, size_t *n, int flags);

#endif
