// SPDX-License-Identifier: MIT
//
// The zmq context and sockets, transport layer. Every socket gets linger 0
// and no high-water mark (troupe bounds mailboxes itself, and drains in-
// process hand-overs before closing), a bounded ZMQ_MAXMSGSIZE, and is
// counted so that a test can assert none is left open.
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

#include "errors.h"
#include "troupe/error.h"
#include "zsock.h"

// libzmq is not built with ThreadSanitizer, so TSan cannot see that handing
// a pointer through an inproc pipe orders the sender's writes before the
// receiver's reads. Tell it, for exactly that pointer.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TR_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define TR_TSAN 1
#endif
#ifdef TR_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define TR_HANDOFF_RELEASE(p) __tsan_release(p)
#define TR_HANDOFF_ACQUIRE(p) __tsan_acquire(p)
#else
#define TR_HANDOFF_RELEASE(p) ((void)(p))
#define TR_HANDOFF_ACQUIRE(p) ((void)(p))
#endif

int tr_ctx_init(tr_ctx *c, int64_t max_msg_size)
{
    memset(c, 0, sizeof *c);
    c->zmq = zmq_ctx_new();
    if (!c->zmq)
        return tr_err_zmq();
    atomic_init(&c->live, 0);
    c->max_msg_size = max_msg_size;
    // Sockets are many (one per thread pair): lift zmq's default of 1023.
    zmq_ctx_set(c->zmq, ZMQ_MAX_SOCKETS, 65535);
    return 0;
}

int tr_ctx_fini(tr_ctx *c)
{
    if (!c->zmq)
        return 0;
    if (atomic_load(&c->live) != 0)
        return TROUPE_ESTATE;
    int rc;
    do
        rc = zmq_ctx_term(c->zmq);
    while (rc != 0 && zmq_errno() == EINTR);
    c->zmq = NULL;
    return rc == 0 ? 0 : tr_err_zmq();
}

int tr_sock_open(tr_ctx *c, int type, void **sock)
{
    void *s = zmq_socket(c->zmq, type);
    if (!s)
        return tr_err_zmq();
    int zero = 0;
    int64_t max = c->max_msg_size;
    if (zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(s, ZMQ_SNDHWM, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(s, ZMQ_RCVHWM, &zero, sizeof zero) != 0 ||
        (max > 0 && zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max, sizeof max) != 0)) {
        int rc = tr_err_zmq();
        zmq_close(s);
        return rc;
    }
    atomic_fetch_add(&c->live, 1);
    *sock = s;
    return 0;
}

void tr_sock_close(tr_ctx *c, void **sock)
{
    if (!sock || !*sock)
        return;
    zmq_close(*sock);
    *sock = NULL;
    atomic_fetch_sub(&c->live, 1);
}

// Is someone listening on the unix socket at path? 0: no (a stale file is
// removed), TROUPE_EEXIST: yes, other codes: cannot tell.
static int s_ipc_free(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return TROUPE_EINVAL;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return tr_err_from_errno(errno);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    int e = errno;
    close(fd);
    if (rc == 0)
        return TROUPE_EEXIST;
    if (e == ECONNREFUSED) // a file without a listener: left by a crash
        unlink(path);
    return 0;
}

int tr_sock_bind(void *sock, const char *endpoint)
{
    if (strncmp(endpoint, "ipc://", 6) == 0 && endpoint[6] != '@') {
        int rc = s_ipc_free(endpoint + 6);
        if (rc)
            return rc;
    }
    return zmq_bind(sock, endpoint) == 0 ? 0 : tr_err_zmq();
}

void tr_sock_unbind(void *sock, const char *endpoint)
{
    zmq_unbind(sock, endpoint);
    if (strncmp(endpoint, "ipc://", 6) == 0 && endpoint[6] != '@')
        unlink(endpoint + 6);
}

int tr_sock_connect(void *sock, const char *endpoint)
{
    return zmq_connect(sock, endpoint) == 0 ? 0 : tr_err_zmq();
}

int tr_sock_send_ptr(void *sock, void *p, int flags)
{
    TR_HANDOFF_RELEASE(p);
    for (;;) {
        if (zmq_send(sock, &p, sizeof p, flags) == (int)sizeof p)
            return 0;
        if (zmq_errno() != EINTR)
            return tr_err_zmq();
    }
}

int tr_sock_send_ptrs(void *sock, void *const *v, size_t n, int flags)
{
    for (size_t i = 0; i < n; i++)
        TR_HANDOFF_RELEASE(v[i]);
    for (;;) {
        if (zmq_send(sock, v, n * sizeof *v, flags) == (int)(n * sizeof *v))
            return 0;
        if (zmq_errno() != EINTR)
            return tr_err_zmq();
    }
}

int tr_sock_recv_ptrs(void *sock, void **v, size_t *n, int flags)
{
    // Into a buffer one byte larger than a full batch: a bigger frame shows
    // as truncated (zmq_recv returns its real size).
    unsigned char buf[TR_SOCK_BATCH_MAX * sizeof(void *) + 1];
    int r;
    for (;;) {
        r = zmq_recv(sock, buf, sizeof buf, flags);
        if (r >= 0)
            break;
        if (zmq_errno() != EINTR)
            return tr_err_zmq();
    }
    size_t size = (size_t)r;
    if (size % sizeof(void *) != 0 || size >= sizeof buf)
        return TROUPE_EBADMSG;
    *n = size / sizeof(void *);
    memcpy(v, buf, size); // the buffer need not be aligned for pointers
    for (size_t i = 0; i < *n; i++)
        TR_HANDOFF_ACQUIRE(v[i]);
    return 0;
}
