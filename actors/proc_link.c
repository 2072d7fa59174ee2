// SPDX-License-Identifier: MIT
//
// Process actors: one end of the frame link between a proxy (in the parent)
// and the child that serves the actor. Both ends are actors owning a zmq
// DEALER; frames are the wire format of docs/protocol.md. A request that
// crosses the link is deferred at the sending end (its reply duty waits in
// a table, keyed by the correlation id the frame carries) and made again
// as an ordinary request at the receiving end, whose end travels back as
// an answer frame. So a request across processes still ends exactly once:
// with the answer, or TROUPE_EDEAD when the end that owes it dies.
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "msg_internal.h"
#include "proc_internal.h"
#include "slots.h"
#include "zsock.h"

int tr_link_sock_open(troupe_node *n, int linger_ms, void **sock)
{
    int rc = tr_sock_open(&n->zctx, ZMQ_DEALER, sock);
    if (rc)
        return rc;
    int64_t max = (int64_t)n->limits.max_msg_size * 4 + 256;
    int hwm = TR_LINK_HWM;
    zmq_setsockopt(*sock, ZMQ_MAXMSGSIZE, &max, sizeof max);
    zmq_setsockopt(*sock, ZMQ_LINGER, &linger_ms, sizeof linger_ms);
    zmq_setsockopt(*sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(*sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    return 0;
}

void tr_link_init(tr_link *l, void *sock, tr_actor *self, const tr_limits *lim)
{
    memset(l, 0, sizeof *l);
    l->sock = sock;
    l->self = self;
    l->limits = lim;
    l->last_heard = troupe_now();
    tr_buf_init(&l->out);
    tr_buf_init(&l->batch);
}

void tr_link_fini(tr_link *l)
{
    // The deferred replies still owed belong to the actor: the runtime
    // answers them TROUPE_EDEAD and frees them when it ends.
    free(l->calls);
    tr_buf_fini(&l->out);
    tr_buf_fini(&l->batch);
    if (l->in_live)
        zmq_msg_close(&l->in);
    l->in_live = 0;
    l->calls = NULL;
    l->n_calls = l->cap_calls = l->free_head = 0;
}

// Send the batch as one frame. On a full pipe (the far end is behind),
// with keep_full set, the batch stays for a later tr_link_flush and the
// link is `stalled`: its owner then holds what it would forward until the
// socket takes frames again (ZMQ_POLLOUT), and nothing is lost. Otherwise
// the batch is dropped: TROUPE_EFULL, or TROUPE_EDEAD if the far end is
// gone.
static int s_send_batch(tr_link *l)
{
    if (!l->batch.len) {
        l->stalled = 0;
        return 0;
    }
    l->quiet = 0; // a send may take in the news of a frame (io_internal.h)
    if (zmq_send(l->sock, l->batch.data, l->batch.len, ZMQ_DONTWAIT) >= 0) {
        l->batch.len = 0;
        l->sent++;
        l->stalled = 0;
        return 0;
    }
    int err = zmq_errno();
    int gone = err != EAGAIN || (l->peer_gone && l->peer_gone(l->peer_arg));
    if (!gone && l->keep_full) {
        l->stalled = 1;
        return 0;
    }
    l->batch.len = 0;
    l->refused++;
    return gone ? TROUPE_EDEAD : TROUPE_EFULL;
}

int tr_link_flush(tr_link *l)
{
    return s_send_batch(l);
}

// A batch this large leaves without waiting for the end of the turn.
#define S_BATCH_MAX (64 * 1024)

static int s_send(tr_link *l, const tr_env *e)
{
    l->out.len = 0;
    int rc = tr_wire_encode(e, &l->out);
    if (rc)
        return rc;
    uint32_t n = (uint32_t)l->out.len;
    uint8_t len[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16),
                      (uint8_t)(n >> 24)};
    size_t had = l->batch.len;
    if (tr_buf_append(&l->batch, len, 4) != 0 ||
        tr_buf_append(&l->batch, l->out.data, l->out.len) != 0) {
        l->batch.len = had;
        return TROUPE_ENOMEM;
    }
    if (l->batching && l->batch.len < S_BATCH_MAX)
        return 0;
    return s_send_batch(l);
}

// A free entry of the call table: its index, or -1.
static int64_t s_call_slot(tr_link *l)
{
    if (!l->free_head) {
        if (l->n_calls == l->cap_calls) {
            uint32_t cap = l->cap_calls ? l->cap_calls * 2 : 64;
            tr_link_call *c = realloc(l->calls, cap * sizeof *c);
            if (!c)
                return -1;
            memset(c + l->cap_calls, 0, (cap - l->cap_calls) * sizeof *c);
            l->calls = c;
            l->cap_calls = cap;
        }
        return l->n_calls++;
    }
    uint32_t i = l->free_head - 1;
    l->free_head = l->calls[i].next_free;
    return i;
}

static void s_call_free(tr_link *l, uint32_t i)
{
    l->calls[i].d = NULL;
    l->calls[i].gen++;
    l->calls[i].next_free = l->free_head;
    l->free_head = i + 1;
}

int tr_link_forward(tr_link *l, troupe_ctx *cx, const troupe_msg *msg,
                    const char *name, size_t name_len, const char *tag,
                    size_t tag_len, const void *body, size_t body_len)
{
    tr_env e = {0};
    e.kind = msg->kind;
    e.to_name = name;
    e.to_name_len = name_len;
    e.from = l->self->addr;
    e.tag = tag;
    e.tag_len = tag_len;
    e.body = body;
    e.body_len = body_len;
    e.ttl_ms = -1;
    if (msg->kind != TROUPE_MSG_REQUEST)
        return s_send(l, &e);
    if (msg->deadline != TROUPE_FOREVER) {
        int64_t left = msg->deadline - troupe_now();
        e.ttl_ms = left > 0 ? left : 0;
    }
    int64_t i = s_call_slot(l);
    troupe_deferred *d;
    if (i < 0 || troupe_defer(cx, msg, &d) != 0) {
        if (i >= 0)
            s_call_free(l, (uint32_t)i);
        troupe_reply_error(cx, msg, TROUPE_ENOMEM);
        return TROUPE_ENOMEM;
    }
    // corr: the entry's index and generation, so a stale answer misses.
    e.corr = ((uint64_t)l->calls[i].gen << 32) | (uint64_t)i;
    l->calls[i].d = d;
    int rc = s_send(l, &e);
    if (rc) {
        s_call_free(l, (uint32_t)i);
        troupe_deferred_error(cx, &d, rc);
    }
    return rc;
}

int tr_link_control(tr_link *l, const char *tag, const char *fmt, ...)
{
    troupe_msg *m = NULL;
    if (fmt && *fmt) {
        va_list ap;
        va_start(ap, fmt);
        int rc = tr_msg_pack(TROUPE_MSG_TELL, tag, l->limits, fmt, &ap, &m);
        va_end(ap);
        if (rc)
            return rc;
    }
    tr_env e = {0};
    e.kind = TROUPE_MSG_TELL;
    e.to_name = TR_PROC_CTL;
    e.to_name_len = 1;
    e.from = l->self->addr;
    e.ttl_ms = -1;
    e.tag = tag;
    e.tag_len = strlen(tag);
    if (m) {
        e.body = m->body;
        e.body_len = m->body_len;
    }
    int rc = s_send(l, &e);
    if (rc == 0)
        rc = s_send_batch(l); // control words do not wait for the turn
    tr_msg_free(m);
    return rc;
}

int tr_link_recv(tr_link *l, tr_env *env)
{
    for (;;) {
        if (l->in_live) {
            const uint8_t *p = zmq_msg_data(&l->in);
            size_t size = zmq_msg_size(&l->in);
            if (l->in_off < size) {
                size_t left = size - l->in_off;
                uint32_t n = 0;
                if (left >= 4)
                    n = (uint32_t)p[l->in_off] |
                        (uint32_t)p[l->in_off + 1] << 8 |
                        (uint32_t)p[l->in_off + 2] << 16 |
                        (uint32_t)p[l->in_off + 3] << 24;
                if (left < 4 || n > left - 4) { // broken framing: drop it
                    l->in_off = size;
                    return TROUPE_EBADMSG;
                }
                const uint8_t *e = p + l->in_off + 4;
                l->in_off += 4 + (size_t)n;
                int rc = n > (size_t)l->limits->max_msg_size + 256
                             ? TROUPE_EMSGSIZE
                             : tr_wire_decode(e, n, l->limits, env);
                return rc ? rc : 1;
            }
            zmq_msg_close(&l->in);
            l->in_live = 0;
        }
        zmq_msg_init(&l->in);
        if (zmq_msg_recv(&l->in, l->sock, ZMQ_DONTWAIT) < 0) {
            l->quiet = zmq_errno() == EAGAIN;
            zmq_msg_close(&l->in);
            return 0;
        }
        l->quiet = 0;
        l->in_live = 1;
        l->in_off = 0;
        l->last_heard = troupe_now();
        if (zmq_msg_more(&l->in)) { // not ours: drop the whole message
            do {
                zmq_msg_close(&l->in);
                zmq_msg_init(&l->in);
            } while (zmq_msg_recv(&l->in, l->sock, ZMQ_DONTWAIT) >= 0 &&
                     zmq_msg_more(&l->in));
            zmq_msg_close(&l->in);
            l->in_live = 0;
            return TROUPE_EBADMSG;
        }
    }
}

void tr_link_answered(tr_link *l, troupe_ctx *cx, const tr_env *env)
{
    uint32_t i = (uint32_t)(env->corr & 0xffffffffu);
    if (i >= l->n_calls || l->calls[i].gen != (uint32_t)(env->corr >> 32) ||
        !l->calls[i].d)
        return; // late or stray
    troupe_deferred *d = l->calls[i].d;
    s_call_free(l, i);
    if (env->kind == TROUPE_MSG_ERROR)
        troupe_deferred_error(cx, &d,
                              env->code < 0 ? env->code : TROUPE_EBADMSG);
    else if (env->body_len)
        troupe_deferred_reply(cx, &d, "r", env->body, env->body_len);
    else
        troupe_deferred_reply(cx, &d, NULL);
}

void tr_link_answer(tr_link *l, uint64_t corr, int status,
                    const troupe_msg *reply)
{
    // The far end knows whom by corr.
    tr_env e =
        tr_wire_answer(status, corr, l->self->addr, l->self->addr,
                       reply ? reply->body : NULL, reply ? reply->body_len : 0);
    s_send(l, &e);
}

typedef struct link_call {
    tr_link *link;
    uint64_t corr;
} link_call;

static int s_on_end(troupe_ctx *cx, void *state, int status,
                    const troupe_msg *reply, void *arg)
{
    (void)cx;
    (void)state;
    link_call *c = arg;
    // Cancelled: this end is ending; the far end hears of it on its own
    // (the link's actor dies with it).
    if (status != TROUPE_ECANCELED)
        tr_link_answer(c->link, c->corr, status, reply);
    free(c);
    return 0;
}

int tr_link_deliver(tr_link *l, troupe_ctx *cx, const tr_env *env,
                    troupe_addr to, bool hold)
{
    tr_port *p = cx->port;
    troupe_node *n = p->node;
    if (hold && env->kind == TROUPE_MSG_TELL) {
        // Room in its mailbox? Only the target takes from it meanwhile, so
        // a yes stays true (unless another sender fills it: then refused).
        tr_slot *s = tr_slots_get(&n->slots, to.slot);
        if (s && tr_slot_check(s, to.incarnation) == 0 &&
            tr_slot_depth(s) >=
                atomic_load_explicit(&s->bound, memory_order_relaxed))
            return TROUPE_EAGAIN;
    }
    troupe_msg *m =
        tr_msg_new(env->kind, env->tag, env->tag_len, env->body, env->body_len);
    if (env->kind == TROUPE_MSG_TELL) {
        if (!m)
            return 0;
        m->to = to;
        m->from = l->self->addr;
        tr_route(n, p, m);
        return 0;
    }
    int rc = m ? 0 : TROUPE_ENOMEM;
    link_call *c = NULL;
    if (rc == 0) {
        c = malloc(sizeof *c);
        rc = c ? 0 : TROUPE_ENOMEM;
    }
    if (rc == 0) {
        *c = (link_call){l, env->corr};
        int64_t deadline = env->ttl_ms < 0 ? tr_default_deadline(n, NULL)
                                           : troupe_now() + env->ttl_ms;
        rc = tr_request_msg(cx, to, m, deadline, s_on_end, c, NULL);
        m = NULL;
    }
    if (rc) {
        tr_msg_free(m);
        free(c);
        tr_link_answer(l, env->corr, rc, NULL);
    }
    return 0;
}
