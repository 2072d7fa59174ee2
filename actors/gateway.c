// SPDX-License-Identifier: MIT
//
// The gateway, actors layer: an isolated actor that owns a zmq ROUTER bound
// to an ipc:// or tcp:// endpoint and turns wire frames from remote clients
// into local tells and requests (by name or address), and the ends of those
// requests back into frames. A frame is decoded and validated in full
// (transport/wire.c) before anything else reads it; a bad one is refused and
// counted as malformed. Requests go through the ordinary request machinery,
// so a remote call ends exactly once, as a local one does.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "errors.h"
#include "node_internal.h"
#include "wire.h"

typedef struct gw_state {
    void *router;       // the ROUTER socket, owned by the gateway's thread
    tr_actor *self;     // the gateway actor
    tr_port *port;      // its port (and thread)
    tr_buf out;         // frame being encoded
    char endpoint[256]; // what it is bound to (unbound, file removed, at end)
    int quiet;          // nothing to read, nothing sent since (io_internal.h)
} gw_state;

// What troupe_node_listen hands to the gateway's thread at its creation.
typedef struct gw_start {
    void *router;       // bound ROUTER
    char endpoint[256]; // the endpoint bound
} gw_start;

// What a remote request needs for its answer to find its way back.
typedef struct gw_call {
    gw_state *gw;          // the gateway
    uint64_t remote_corr;  // the remote client's correlation id
    troupe_addr remote;    // its sender address (often [0,0,0])
    size_t id_len;         // bytes of the zmq routing id
    unsigned char id[256]; // the routing id of its connection
} gw_call;

static void s_send_frame(gw_state *gw, const unsigned char *id, size_t id_len,
                         const tr_env *env)
{
    gw->out.len = 0;
    if (tr_wire_encode(env, &gw->out) != 0)
        return;
    gw->quiet = 0; // a send may take in the news of a frame (io_internal.h)
    if (zmq_send(gw->router, id, id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return; // the peer is gone: nothing to do
    zmq_send(gw->router, gw->out.data, gw->out.len, ZMQ_DONTWAIT);
}

static void s_answer(gw_state *gw, const gw_call *c, int status,
                     const troupe_msg *reply, troupe_addr from)
{
    tr_env e =
        tr_wire_answer(status, c->remote_corr, c->remote, from,
                       reply ? reply->body : NULL, reply ? reply->body_len : 0);
    s_send_frame(gw, c->id, c->id_len, &e);
}

static int s_on_reply(troupe_ctx *cx, void *state, int status,
                      const troupe_msg *reply, void *arg)
{
    gw_state *gw = state;
    gw_call *c = arg;
    // Cancelled means the gateway is ending: the client hears it.
    s_answer(gw, c, status == TROUPE_ECANCELED ? TROUPE_ESHUTDOWN : status,
             reply, reply ? troupe_msg_sender(reply) : troupe_self(cx));
    free(c);
    return 0;
}

static void s_frame(tr_port *p, gw_state *gw, const unsigned char *id,
                    size_t id_len, const void *data, size_t len)
{
    troupe_node *n = p->node;
    tr_env env;
    int rc = len > (size_t)n->limits.max_msg_size + 256
                 ? TROUPE_EMSGSIZE
                 : tr_wire_decode(data, len, &n->limits, &env);
    if (rc == 0 && env.kind != TROUPE_MSG_TELL &&
        env.kind != TROUPE_MSG_REQUEST)
        rc = TROUPE_EBADMSG; // remote clients only tell and request
    if (rc) {
        TR_BUMP(p->ctr.malformed);
        tr_logf(&n->log, TROUPE_LOG_DEBUG, "gateway: frame refused: %s",
                troupe_errname(rc));
        return;
    }
    gw_call c = {.gw = gw,
                 .remote_corr = env.corr,
                 .remote = env.from,
                 .id_len = id_len};
    memcpy(c.id, id, id_len);
    troupe_addr to = env.to;
    if (env.to_name_len)
        rc = tr_whereis_n(n, env.to_name, env.to_name_len, &to);
    troupe_msg *m = NULL;
    if (rc == 0) {
        m = tr_msg_new(env.kind, env.tag, env.tag_len, env.body, env.body_len);
        rc = m ? 0 : TROUPE_ENOMEM;
    }
    if (env.kind == TROUPE_MSG_TELL) {
        if (rc) { // offered, and dead on arrival
            tr_offer_failed(p, "", to, rc);
            return;
        }
        m->to = to;
        m->from = gw->self->addr;
        tr_route(n, p, m);
        return;
    }
    int64_t deadline = env.ttl_ms < 0
                           ? troupe_deadline_in(n->opts.request_timeout_ms)
                           : troupe_deadline_in(env.ttl_ms);
    gw_call *call = NULL;
    if (rc == 0) {
        call = malloc(sizeof *call);
        if (call) {
            *call = c;
            rc =
                tr_request_msg(&p->cx, to, m, deadline, s_on_reply, call, NULL);
            m = NULL;
        } else {
            rc = TROUPE_ENOMEM;
        }
    }
    tr_msg_free(m);
    if (rc) {
        free(call);
        if (rc == TROUPE_ENOENT) // unknown name: offered, dead-lettered
            tr_offer_failed(p, "", to, rc);
        s_answer(gw, &c, rc, NULL, gw->self->addr);
    }
}

// Read what the ROUTER has, a bounded batch per turn.
static void s_ready(tr_port *p, void *arg, short revents)
{
    (void)revents;
    gw_state *gw = arg;
    tr_port_ctx_for(p, gw->self);
    for (int i = 0; i < 256; i++) {
        zmq_msg_t id, fr;
        zmq_msg_init(&id);
        if (zmq_msg_recv(&id, gw->router, ZMQ_DONTWAIT) < 0) {
            gw->quiet = zmq_errno() == EAGAIN;
            zmq_msg_close(&id);
            return;
        }
        gw->quiet = 0;
        zmq_msg_init(&fr);
        int ok = zmq_msg_more(&id) &&
                 zmq_msg_recv(&fr, gw->router, ZMQ_DONTWAIT) >= 0 &&
                 !zmq_msg_more(&fr) && zmq_msg_size(&id) <= 256;
        if (ok)
            s_frame(p, gw, zmq_msg_data(&id), zmq_msg_size(&id),
                    zmq_msg_data(&fr), zmq_msg_size(&fr));
        else
            TR_BUMP(p->ctr.malformed);
        while (zmq_msg_more(&fr)) { // drop the rest of a multipart message
            zmq_msg_close(&fr);
            zmq_msg_init(&fr);
            if (zmq_msg_recv(&fr, gw->router, ZMQ_DONTWAIT) < 0)
                break;
        }
        zmq_msg_close(&fr);
        zmq_msg_close(&id);
    }
}

static int s_init(troupe_ctx *cx, void *state, void *arg)
{
    gw_state *gw = state;
    gw_start *st = arg; // handed over at thread creation: now ours
    gw->router = st->router;
    memcpy(gw->endpoint, st->endpoint, sizeof gw->endpoint);
    free(st);
    gw->self = cx->actor;
    gw->port = cx->port;
    tr_buf_init(&gw->out);
    int rc = tr_io_watch_sock(cx->port, gw->router, ZMQ_POLLIN, &gw->quiet,
                              s_ready, gw);
    if (rc)
        return rc;
    // The gateway never blocks in a handler: it may batch what it forwards
    // (flushed at the end of each turn of its loop).
    cx->port->batch_sends = 1;
    return 0;
}

static int s_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)cx;
    (void)state;
    (void)msg;
    return 0; // the gateway takes no messages of its own
}

static void s_fini(void *state, int reason)
{
    (void)reason;
    gw_state *gw = state;
    tr_port *p = gw->port;
    tr_io_unwatch_sock(p, gw->router);
    if (gw->endpoint[0])
        tr_sock_unbind(gw->router, gw->endpoint);
    tr_sock_close(&p->node->zctx, &gw->router);
    tr_buf_fini(&gw->out);
}

TROUPE_API int troupe_node_listen(troupe_node *n, const char *endpoint,
                                  char *bound, size_t cap)
{
    if (!n || !endpoint ||
        (strncmp(endpoint, "ipc://", 6) != 0 &&
         strncmp(endpoint, "tcp://", 6) != 0))
        return TROUPE_EINVAL;
    tr_port *here = tr_port_current();
    if (here && here->node == n)
        return TROUPE_EINVAL;
    if (atomic_load(&n->stopping))
        return TROUPE_ESHUTDOWN;
    void *router = NULL;
    int rc = tr_sock_open(&n->zctx, ZMQ_ROUTER, &router);
    if (rc)
        return rc;
    // Frames a little over the limit reach the gateway to be refused and
    // counted; absurd ones make zmq drop the connection before buffering.
    int64_t max = (int64_t)n->limits.max_msg_size * 4 + 256;
    int linger = 100;
    zmq_setsockopt(router, ZMQ_MAXMSGSIZE, &max, sizeof max);
    zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger);
    rc = tr_sock_bind(router, endpoint);
    if (rc) {
        tr_sock_close(&n->zctx, &router);
        return rc;
    }
    gw_start *st = calloc(1, sizeof *st);
    if (!st) {
        tr_sock_close(&n->zctx, &router);
        return TROUPE_ENOMEM;
    }
    st->router = router;
    size_t len = sizeof st->endpoint;
    if (zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, st->endpoint, &len) != 0)
        st->endpoint[0] = '\0';
    st->endpoint[sizeof st->endpoint - 1] = '\0';
    if (bound && cap) {
        strncpy(bound, st->endpoint, cap - 1);
        bound[cap - 1] = '\0';
    }
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = s_handler;
    s.init = s_init;
    s.fini = s_fini;
    s.state_size = sizeof(gw_state);
    s.arg = st;
    s.placement = TROUPE_ISOLATED;
    troupe_addr a;
    rc = troupe_node_spawn(n, &s, troupe_deadline_in(5000), &a);
    if (rc && rc != TROUPE_ETIMEDOUT) { // a timed-out init still owns it
        tr_sock_close(&n->zctx, &router);
        free(st);
    }
    return rc;
}
