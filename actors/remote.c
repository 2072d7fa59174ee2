// SPDX-License-Identifier: MIT
//
// Remote clients, actors layer: a zmq DEALER connected to a node's gateway
// (gateway.c), in any process, with no node of its own. Calls encode a wire
// frame (transport/wire.c), wait on the socket until their deadline, and
// accept only a well-formed answer with their own correlation id; anything
// else is dropped. Owns its own zmq context, so it needs nothing else.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "errors.h"
#include "msg_internal.h"
#include "troupe/error.h"
#include "troupe/remote.h"
#include "wire.h"
#include "zsock.h"

struct troupe_remote {
    tr_ctx zctx;        // its own context: works without a node
    void *sock;         // DEALER, connected to the gateway
    tr_limits limits;   // what is sent and accepted back
    uint64_t next_corr; // correlation ids of its calls
    tr_buf body;        // scratch: the packed body
    tr_buf frame;       // scratch: the encoded frame
};

TROUPE_API int troupe_remote_new(troupe_remote **out, const char *endpoint,
                                 const troupe_node_opts *opts)
{
    if (!out || !endpoint)
        return TROUPE_EINVAL;
    *out = NULL;
    troupe_node_opts o;
    if (opts)
        o = *opts;
    else
        troupe_node_opts_init(&o);
    if (o.max_msg_size < 16 || o.max_depth == 0 ||
        o.max_depth > TR_MAX_DEPTH_CAP || o.max_items == 0 ||
        o.max_tag_len == 0)
        return TROUPE_EINVAL;
    troupe_remote *r = calloc(1, sizeof *r);
    if (!r)
        return TROUPE_ENOMEM;
    r->limits =
        (tr_limits){o.max_msg_size, o.max_depth, o.max_items, o.max_tag_len};
    int rc = tr_ctx_init(&r->zctx, (int64_t)o.max_msg_size * 4 + 256);
    if (rc == 0)
        rc = tr_sock_open(&r->zctx, ZMQ_DEALER, &r->sock);
    if (rc == 0) {
        int linger = 1000; // tells get a second to leave at destroy
        zmq_setsockopt(r->sock, ZMQ_LINGER, &linger, sizeof linger);
        rc = tr_sock_connect(r->sock, endpoint);
    }
    if (rc) {
        tr_sock_close(&r->zctx, &r->sock);
        tr_ctx_fini(&r->zctx);
        free(r);
        return rc;
    }
    *out = r;
    return 0;
}

TROUPE_API void troupe_remote_destroy(troupe_remote **rp)
{
    if (!rp || !*rp)
        return;
    troupe_remote *r = *rp;
    *rp = NULL;
    tr_sock_close(&r->zctx, &r->sock);
    tr_ctx_fini(&r->zctx);
    tr_buf_fini(&r->body);
    tr_buf_fini(&r->frame);
    free(r);
}

// Pack the body, encode the frame and send it.
static int s_send(troupe_remote *r, uint8_t kind, const char *name,
                  const char *tag, uint64_t corr, int64_t ttl, const char *fmt,
                  va_list *ap)
{
    size_t name_len = name ? strnlen(name, r->limits.max_tag_len + 1) : 0;
    size_t tag_len = tag ? strnlen(tag, r->limits.max_tag_len + 1) : 0;
    if (name_len == 0 || name_len > r->limits.max_tag_len ||
        tag_len > r->limits.max_tag_len)
        return TROUPE_EINVAL;
    r->body.len = 0;
    if (fmt && *fmt) {
        int rc = tr_pack_fmt(&r->body, &r->limits, fmt, ap);
        if (rc)
            return rc;
    }
    tr_env e = {0};
    e.kind = kind;
    e.to_name = name;
    e.to_name_len = name_len;
    e.corr = corr;
    e.ttl_ms = ttl;
    e.tag = tag ? tag : "";
    e.tag_len = tag_len;
    e.body = r->body.data;
    e.body_len = r->body.len;
    r->frame.len = 0;
    int rc = tr_wire_encode(&e, &r->frame);
    if (rc)
        return rc;
    if (zmq_send(r->sock, r->frame.data, r->frame.len, ZMQ_DONTWAIT) < 0)
        return tr_err_zmq();
    return 0;
}

TROUPE_API int troupe_remote_tell(troupe_remote *r, const char *name,
                                  const char *tag, const char *fmt, ...)
{
    if (!r)
        return TROUPE_EINVAL;
    va_list ap;
    va_start(ap, fmt);
    int rc = s_send(r, TROUPE_MSG_TELL, name, tag, 0, -1, fmt, &ap);
    va_end(ap);
    return rc;
}

// Take one answer frame: 1 if it ends call corr (*rc, *reply set), 0 if it
// was something else (dropped), or a negative code if receiving failed.
static int s_take(troupe_remote *r, uint64_t corr, int *rc, troupe_msg **reply)
{
    zmq_msg_t fr;
    zmq_msg_init(&fr);
    if (zmq_msg_recv(&fr, r->sock, ZMQ_DONTWAIT) < 0) {
        int e = tr_err_zmq();
        zmq_msg_close(&fr);
        return e;
    }
    tr_env env;
    int d =
        tr_wire_decode(zmq_msg_data(&fr), zmq_msg_size(&fr), &r->limits, &env);
    int done = 0;
    if (d == 0 && env.corr == corr &&
        (env.kind == TROUPE_MSG_REPLY || env.kind == TROUPE_MSG_ERROR)) {
        done = 1;
        if (env.kind == TROUPE_MSG_ERROR) {
            *rc = env.code < 0 ? env.code : TROUPE_EBADMSG;
        } else {
            troupe_msg *m = tr_msg_new(TROUPE_MSG_REPLY, env.tag, env.tag_len,
                                       env.body, env.body_len);
            *rc = m ? 0 : TROUPE_ENOMEM;
            if (m) {
                m->from = env.from;
                m->corr = env.corr;
            }
            *reply = m;
        }
    }
    zmq_msg_close(&fr);
    return done;
}

static int s_vcall(troupe_remote *r, const char *name, const char *tag,
                   int64_t deadline, troupe_msg **reply, const char *fmt,
                   va_list *ap)
{
    if (deadline == TROUPE_DEADLINE_DEFAULT)
        deadline = troupe_deadline_in(5000);
    int64_t now = troupe_now();
    if (deadline != TROUPE_FOREVER && deadline <= now)
        return TROUPE_ETIMEDOUT;
    uint64_t corr = ++r->next_corr;
    int rc = s_send(r, TROUPE_MSG_REQUEST, name, tag, corr,
                    deadline == TROUPE_FOREVER ? -1 : deadline - now, fmt, ap);
    if (rc)
        return rc == TROUPE_EAGAIN ? TROUPE_ETIMEDOUT : rc;
    for (;;) {
        int64_t left =
            deadline == TROUPE_FOREVER ? -1 : deadline - troupe_now();
        if (deadline != TROUPE_FOREVER && left <= 0)
            return TROUPE_ETIMEDOUT;
        zmq_pollitem_t it = {.socket = r->sock, .events = ZMQ_POLLIN};
        int n = zmq_poll(&it, 1, left > 3600000 ? 3600000 : (long)left);
        if (n < 0) {
            if (zmq_errno() == EINTR)
                continue;
            return tr_err_zmq();
        }
        while (n > 0) {
            int got = s_take(r, corr, &rc, reply);
            if (got == 1)
                return rc;
            if (got < 0)
                break; // EAGAIN: read all there was
        }
    }
}

TROUPE_API int troupe_remote_call(troupe_remote *r, const char *name,
                                  const char *tag, int64_t deadline,
                                  troupe_msg **reply, const char *fmt, ...)
{
    if (!r || !reply)
        return TROUPE_EINVAL;
    *reply = NULL;
    va_list ap;
    va_start(ap, fmt);
    int rc = s_vcall(r, name, tag, deadline, reply, fmt, &ap);
    va_end(ap);
    return rc;
}
