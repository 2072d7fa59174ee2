// SPDX-License-Identifier: MIT
//
// Sending, actors layer: routing a message to the port that owns its
// destination (in memory on the same port, a pointer over zmq inproc to
// another), and the public tell / request / reply / defer calls. Every
// message offered is counted once as sent and ends counted once as delivered,
// dead-lettered or refused.
#include <stdlib.h>

#include "fault_internal.h"
#include "node_internal.h"

int64_t tr_default_deadline(troupe_node *n, const troupe_ctx *cx)
{
    if (cx && cx->msg && cx->msg->kind == TROUPE_MSG_REQUEST &&
        cx->msg->deadline != TROUPE_FOREVER)
        return cx->msg->deadline; // deadlines travel down request chains
    return troupe_deadline_in(n->opts.request_timeout_ms);
}

static tr_counters *s_counters(troupe_node *n, tr_port *p)
{
    return p ? &p->ctr : &n->retired;
}

static void s_count(tr_port *p, _Atomic uint64_t *field)
{
    if (p)
        TR_BUMP(*field);
    else
        atomic_fetch_add(field, 1); // a foreign thread: shared counters
}

static int s_is_dead_code(int rc)
{
    return rc == TROUPE_EDEAD || rc == TROUPE_ENOENT || rc == TROUPE_ESHUTDOWN;
}

static void s_log_failed(troupe_node *n, const char *tag, troupe_addr to,
                         int rc)
{
    tr_logf(&n->log, TROUPE_LOG_DEBUG, "message \"%s\" to %u.%u.%u %s: %s", tag,
            to.node, to.slot, to.incarnation,
            s_is_dead_code(rc) ? "dead-lettered" : "refused",
            troupe_errname(rc));
}

void tr_offer_failed(tr_port *p, const char *tag, troupe_addr to, int rc)
{
    TR_BUMP(p->ctr.sent);
    if (s_is_dead_code(rc))
        TR_BUMP(p->ctr.dead);
    else
        TR_BUMP(p->ctr.refused);
    s_log_failed(p->node, tag ? tag : "", to, rc);
}

int tr_route(troupe_node *n, tr_port *p, troupe_msg *m)
{
    tr_counters *c = s_counters(n, p);
    int counted = m->kind != TROUPE_MSG_SYSTEM && m->kind != TROUPE_MSG_TIMER &&
                  m->kind != TROUPE_MSG_IO;
    if (counted)
        s_count(p, &c->sent);
    tr_slot *s = tr_slots_get(&n->slots, m->to.slot);
    int rc;
    if (!s || m->to.node != 0)
        rc = TROUPE_ENOENT;
    else if (m->kind == TROUPE_MSG_TELL || m->kind == TROUPE_MSG_REQUEST)
        rc = tr_slot_reserve(s, m->to.incarnation);
    else
        rc = tr_slot_check(s, m->to.incarnation);
    if (rc == 0) {
        if (m->kind == TROUPE_MSG_TELL || m->kind == TROUPE_MSG_REQUEST)
            m->flags |= TR_MSG_COUNTED;
        uint32_t pid = atomic_load_explicit(&s->port, memory_order_relaxed);
        if (p && pid == p->id) {
            tr_accept(p, m);
            return 0;
        }
        rc = p ? tr_port_push(p, pid, m) : tr_port_push_foreign(n, pid, m);
        if (rc == 0)
            return 0;
        if (rc != TROUPE_EDEAD)
            tr_logf(&n->log, TROUPE_LOG_ERROR, "send to port %u failed: %s",
                    pid, troupe_errname(rc));
    }
    if (m->kind == TROUPE_MSG_SYSTEM && p) {
        // The target is gone: the port answers for it (down, exit, ...).
        tr_dead_letter(p, m);
        return rc;
    }
    if (counted) {
        s_count(p, s_is_dead_code(rc) ? &c->dead : &c->refused);
        s_log_failed(n, m->data, m->to, rc);
    }
    if (m->kind == TROUPE_MSG_REPLY || m->kind == TROUPE_MSG_ERROR)
        s_count(p, &c->late);
    if (m->kind == TROUPE_MSG_SYSTEM && m->ptr && m->code != TR_SYS_ADOPT) {
        tr_waiter *w = m->ptr; // a foreign stop: nobody will signal it
        tr_waiter_signal(w, rc);
        tr_waiter_release(w);
    }
    tr_msg_free(m);
    return rc;
}

int tr_send_system_as(troupe_node *n, troupe_addr from, troupe_addr to, int op,
                      uint64_t ref, void *ptr)
{
    troupe_msg *m = tr_msg_new(TROUPE_MSG_SYSTEM, "", 0, NULL, 0);
    if (!m)
        return TROUPE_ENOMEM;
    tr_port *p = tr_port_current();
    if (p && p->node != n)
        p = NULL;
    m->code = op;
    m->to = to;
    m->from = from;
    m->ref = ref;
    m->ptr = ptr;
    return tr_route(n, p, m);
}

int tr_send_system(troupe_node *n, troupe_addr to, int op, uint64_t ref,
                   void *ptr)
{
    // Signed by the actor whose callback is running, if any: p->cx.actor
    // is set only during a callback (NULL between them).
    tr_port *p = tr_port_current();
    troupe_addr from = TROUPE_ADDR_NONE;
    if (p && p->node == n && p->cx.actor)
        from = p->cx.actor->addr;
    return tr_send_system_as(n, from, to, op, ref, ptr);
}

void tr_reply_code(troupe_node *n, tr_port *p, const troupe_msg *req, int code)
{
    troupe_msg *m = tr_msg_new(TROUPE_MSG_ERROR, "", 0, NULL, 0);
    if (!m) {
        tr_logf(&n->log, TROUPE_LOG_ERROR, "out of memory: error reply lost");
        return;
    }
    m->to = req->from;
    m->from = req->to;
    m->corr = req->corr;
    m->code = code;
    tr_route(n, p, m);
}

void tr_pending_finish(tr_port *p, tr_pending *pd, int status,
                       const troupe_msg *reply)
{
    tr_actor *a = pd->actor;
    if (pd->prev)
        pd->prev->next = pd->next;
    else
        a->pending = pd->next;
    if (pd->next)
        pd->next->prev = pd->prev;
    tr_timers_remove(&p->timers, &pd->timer);
    tr_pend_take(p, pd->corr); // no-op if already taken
    troupe_ctx saved = p->cx;
    p->cx.port = p;
    p->cx.actor = a;
    p->cx.msg = NULL;
    a->flags |= TR_ACT_RUNNING;
    int rc = pd->cb(&p->cx, a->state, status, reply, pd->arg);
    a->flags &= ~(uint32_t)TR_ACT_RUNNING;
    p->cx = saved;
    free(pd);
    if (rc < 0 && status != TROUPE_ECANCELED)
        tr_actor_exit(p, a, rc);
}

// ---- names unknown in a process actor's child: up to the parent ----

static int s_pack(uint8_t kind, const char *tag, const tr_limits *l,
                  troupe_msg **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = tr_msg_pack(kind, tag, l, fmt, &ap, out);
    va_end(ap);
    return rc;
}

static int s_send_new(troupe_ctx *cx, troupe_msg *m, troupe_addr to);

// Wrap the message for name as a "$up" message to the node's uplink
// (proc_child.c), which forwards it to the parent's node: body
// [name, tag, has_body, body or nil].
static int s_vsend_up(troupe_ctx *cx, uint8_t kind, const char *name,
                      const char *tag, int64_t deadline, troupe_reply_fn cb,
                      void *arg, uint64_t *corr, const char *fmt, va_list *ap)
{
    troupe_node *n = cx->port->node;
    if (kind == TROUPE_MSG_REQUEST) {
        if (!cb)
            return TROUPE_EINVAL;
        if (deadline == TROUPE_DEADLINE_DEFAULT)
            deadline = tr_default_deadline(n, cx);
        if (deadline != TROUPE_FOREVER && deadline <= troupe_now())
            return TROUPE_ETIMEDOUT;
    }
    troupe_msg *inner, *m;
    int rc = tr_msg_pack(kind, tag, &n->limits, fmt, ap, &inner);
    if (rc) {
        if (tr_is_refusal(rc)) // offered, and refused
            tr_offer_failed(cx->port, tag, n->uplink, rc);
        return rc;
    }
    rc = inner->body_len ? s_pack(kind, "$up", &n->limits, &m, "[ssbr]", name,
                                  troupe_msg_tag(inner), true, inner->body,
                                  (size_t)inner->body_len)
                         : s_pack(kind, "$up", &n->limits, &m, "[ssbn]", name,
                                  troupe_msg_tag(inner), false);
    tr_msg_free(inner);
    if (rc) { // the name and tag made it too large
        if (tr_is_refusal(rc))
            tr_offer_failed(cx->port, tag, n->uplink, rc);
        return rc;
    }
    if (kind == TROUPE_MSG_TELL)
        return s_send_new(cx, m, n->uplink);
    return tr_request_msg(cx, n->uplink, m, deadline, cb, arg, corr);
}

// ---- public: tell ----

static int s_send_new(troupe_ctx *cx, troupe_msg *m, troupe_addr to)
{
    m->to = to;
    m->from = cx->actor->addr;
    TR_BUMP(cx->actor->n_sent); // only its port writes it
    int rc = tr_route(cx->port->node, cx->port, m);
    if (rc == TROUPE_EFULL || rc == TROUPE_EMSGSIZE)
        TR_BUMP(cx->actor->n_refused); // only its port writes it
    return rc;
}

static int s_vtell(troupe_ctx *cx, troupe_addr to, const char *tag,
                   const char *fmt, va_list *ap)
{
    int rc = tr_ctx_check(cx);
    if (rc)
        return rc;
    troupe_msg *m;
    rc =
        tr_msg_pack(TROUPE_MSG_TELL, tag, &cx->port->node->limits, fmt, ap, &m);
    if (rc) {
        if (tr_is_refusal(rc)) // offered, and refused
            tr_offer_failed(cx->port, tag, to, rc);
        return rc;
    }
    return s_send_new(cx, m, to);
}

TROUPE_API int troupe_tell(troupe_ctx *cx, troupe_addr to, const char *tag,
                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = s_vtell(cx, to, tag, fmt, &ap);
    va_end(ap);
    return rc;
}

TROUPE_API int troupe_tell_name(troupe_ctx *cx, const char *name,
                                const char *tag, const char *fmt, ...)
{
    int rc = tr_ctx_check(cx);
    if (rc)
        return rc;
    troupe_addr to;
    rc = troupe_whereis(cx->port->node, name, &to);
    va_list ap;
    va_start(ap, fmt);
    if (rc == TROUPE_ENOENT && cx->port->node->uplink.slot)
        rc = s_vsend_up(cx, TROUPE_MSG_TELL, name, tag, 0, NULL, NULL, NULL,
                        fmt, &ap);
    else if (rc == 0)
        rc = s_vtell(cx, to, tag, fmt, &ap);
    va_end(ap);
    return rc;
}

TROUPE_API int troupe_tell_raw(troupe_ctx *cx, troupe_addr to, const char *tag,
                               const void *body, size_t len)
{
    int rc = tr_ctx_check(cx);
    if (rc)
        return rc;
    troupe_node *n = cx->port->node;
    size_t tag_len;
    if (tr_tag_check(tag, &n->limits, &tag_len) || (len && !body))
        return TROUPE_EINVAL;
    rc = len > n->limits.max_msg_size
             ? TROUPE_EMSGSIZE
             : tr_mp_validate_exact(body, len, &n->limits);
    if (rc) {
        tr_offer_failed(cx->port, tag, to, rc);
        return rc;
    }
    troupe_msg *m = tr_msg_new(TROUPE_MSG_TELL, tag, tag_len, body, len);
    if (!m)
        return TROUPE_ENOMEM;
    return s_send_new(cx, m, to);
}

// ---- public: request ----

static int s_vrequest(troupe_ctx *cx, troupe_addr to, const char *tag,
                      int64_t deadline, troupe_reply_fn cb, void *arg,
                      uint64_t *corr, const char *fmt, va_list *ap)
{
    int rc = tr_ctx_check(cx);
    if (rc)
        return rc;
    if (!cb)
        return TROUPE_EINVAL;
    tr_port *p = cx->port;
    troupe_node *n = p->node;
    if (deadline == TROUPE_DEADLINE_DEFAULT)
        deadline = tr_default_deadline(n, cx);
    if (deadline != TROUPE_FOREVER && deadline <= troupe_now())
        return TROUPE_ETIMEDOUT;
    troupe_msg *m;
    rc = tr_msg_pack(TROUPE_MSG_REQUEST, tag, &n->limits, fmt, ap, &m);
    if (rc) {
        if (tr_is_refusal(rc))
            tr_offer_failed(p, tag, to, rc);
        return rc;
    }
    return tr_request_msg(cx, to, m, deadline, cb, arg, corr);
}

int tr_pending_open(troupe_ctx *cx, int64_t deadline, troupe_reply_fn cb,
                    void *arg, tr_pending **out)
{
    tr_port *p = cx->port;
    tr_pending *pd = calloc(1, sizeof *pd);
    if (!pd)
        return TROUPE_ENOMEM;
    pd->corr = ++p->next_corr;
    pd->actor = cx->actor;
    pd->cb = cb;
    pd->arg = arg;
    pd->timer.index = SIZE_MAX;
    pd->timer.type = TR_TIMER_REQUEST;
    pd->timer.ptr = pd;
    pd->timer.when = deadline;
    if (tr_pend_add(p, pd) ||
        (deadline != TROUPE_FOREVER && tr_timers_add(&p->timers, &pd->timer))) {
        tr_pend_take(p, pd->corr);
        free(pd);
        return TROUPE_ENOMEM;
    }
    pd->next = cx->actor->pending;
    if (pd->next)
        pd->next->prev = pd;
    cx->actor->pending = pd;
    *out = pd;
    return 0;
}

void tr_pending_discard(troupe_ctx *cx, uint64_t corr)
{
    tr_pending *back = tr_pend_take(cx->port, corr);
    if (!back)
        return;
    if (back->prev)
        back->prev->next = back->next;
    else
        cx->actor->pending = back->next;
    if (back->next)
        back->next->prev = back->prev;
    tr_timers_remove(&cx->port->timers, &back->timer);
    free(back);
}

int tr_request_msg(troupe_ctx *cx, troupe_addr to, troupe_msg *m,
                   int64_t deadline, troupe_reply_fn cb, void *arg,
                   uint64_t *corr)
{
    // Register before sending: a same-loop target may answer at once.
    tr_pending *pd;
    if (tr_pending_open(cx, deadline, cb, arg, &pd)) {
        tr_msg_free(m);
        return TROUPE_ENOMEM;
    }
    uint64_t id = pd->corr;
    m->corr = id;
    m->deadline = deadline;
    int rc = s_send_new(cx, m, to);
    if (rc) { // the callback never runs when the call fails
        tr_pending_discard(cx, id);
        return rc;
    }
    if (corr)
        *corr = id;
    return 0;
}

TROUPE_API int troupe_request(troupe_ctx *cx, troupe_addr to, const char *tag,
                              int64_t deadline, troupe_reply_fn on_reply,
                              void *arg, uint64_t *corr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = s_vrequest(cx, to, tag, deadline, on_reply, arg, corr, fmt, &ap);
    va_end(ap);
    return rc;
}

TROUPE_API int troupe_request_name(troupe_ctx *cx, const char *name,
                                   const char *tag, int64_t deadline,
                                   troupe_reply_fn on_reply, void *arg,
                                   uint64_t *corr, const char *fmt, ...)
{
    int rc = tr_ctx_check(cx);
    if (rc)
        return rc;
    troupe_addr to;
    rc = troupe_whereis(cx->port->node, name, &to);
    va_list ap;
    va_start(ap, fmt);
    if (rc == TROUPE_ENOENT && cx->port->node->uplink.slot)
        rc = s_vsend_up(cx, TROUPE_MSG_REQUEST, name, tag, deadline, on_reply,
                        arg, corr, fmt, &ap);
    else if (rc == 0)
        rc = s_vrequest(cx, to, tag, deadline, on_reply, arg, corr, fmt, &ap);
    va_end(ap);
    return rc;
}

TROUPE_API int troupe_request_cancel(troupe_ctx *cx, uint64_t corr)
{
    int rc = tr_ctx_check(cx);
    if (rc)
        return rc;
    tr_pending *pd = tr_pend_take(cx->port, corr);
    if (!pd)
        return TROUPE_ENOENT;
    if (pd->actor != cx->actor) { // another actor's: put it back
        tr_pend_add(cx->port, pd);
        return TROUPE_ENOENT;
    }
    tr_pending_finish(cx->port, pd, TROUPE_ECANCELED, NULL);
    return 0;
}

// ---- public: reply ----

static int s_check_req(const troupe_ctx *cx, const troupe_msg *req)
{
    int rc = tr_ctx_check(cx);
    if (rc)
        return rc;
    if (!req || req->kind != TROUPE_MSG_REQUEST)
        return TROUPE_EINVAL;
    if (req->flags & (TR_MSG_REPLIED | TR_MSG_DEFERRED))
        return TROUPE_EALREADY;
    return 0;
}

static int s_vreply(troupe_ctx *cx, troupe_addr to, uint64_t corr,
                    const char *fmt, va_list *ap)
{
    troupe_msg *m;
    int rc =
        tr_msg_pack(TROUPE_MSG_REPLY, "", &cx->port->node->limits, fmt, ap, &m);
    if (rc) {
        if (tr_is_refusal(rc)) // counted; the caller's request gets EDEAD
            tr_offer_failed(cx->port, "", to, rc);
        return rc;
    }
    m->corr = corr;
    // A fault plan may lose it: the requester then times out (fault.c).
    if (cx->actor->fault && tr_fault_drop(cx->port, cx->actor, to, m))
        return 0;
    s_send_new(cx, m, to); // a requester that is gone is not our error
    return 0;
}

static int s_error(troupe_ctx *cx, troupe_addr to, uint64_t corr, int code)
{
    if (code >= 0)
        return TROUPE_EINVAL;
    // A fault plan may lose it: the requester then times out (fault.c).
    if (cx->actor->fault && tr_fault_drop(cx->port, cx->actor, to, NULL))
        return 0;
    troupe_msg req = {.kind = TROUPE_MSG_REQUEST,
                      .from = to,
                      .to = cx->actor->addr,
                      .corr = corr};
    TR_BUMP(cx->actor->n_sent); // only its port writes it
    tr_reply_code(cx->port->node, cx->port, &req, code);
    return 0;
}

TROUPE_API int troupe_reply(troupe_ctx *cx, const troupe_msg *req,
                            const char *fmt, ...)
{
    int rc = s_check_req(cx, req);
    if (rc)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    rc = s_vreply(cx, req->from, req->corr, fmt, &ap);
    va_end(ap);
    if (rc == 0)
        ((troupe_msg *)req)->flags |= TR_MSG_REPLIED;
    return rc;
}

TROUPE_API int troupe_reply_error(troupe_ctx *cx, const troupe_msg *req,
                                  int code)
{
    int rc = s_check_req(cx, req);
    if (rc)
        return rc;
    rc = s_error(cx, req->from, req->corr, code);
    if (rc == 0)
        ((troupe_msg *)req)->flags |= TR_MSG_REPLIED;
    return rc;
}

TROUPE_API int troupe_defer(troupe_ctx *cx, const troupe_msg *req,
                            troupe_deferred **d)
{
    int rc = s_check_req(cx, req);
    if (rc)
        return rc;
    if (!d)
        return TROUPE_EINVAL;
    troupe_deferred *x = calloc(1, sizeof *x);
    if (!x)
        return TROUPE_ENOMEM;
    x->actor = cx->actor;
    x->to = req->from;
    x->corr = req->corr;
    x->next = cx->actor->deferred;
    if (x->next)
        x->next->prev = x;
    cx->actor->deferred = x;
    ((troupe_msg *)req)->flags |= TR_MSG_DEFERRED;
    *d = x;
    return 0;
}

static int s_take_deferred(troupe_ctx *cx, troupe_deferred **d)
{
    int rc = tr_ctx_check(cx);
    if (rc)
        return rc;
    if (!d || !*d || (*d)->actor != cx->actor)
        return TROUPE_EINVAL;
    troupe_deferred *x = *d;
    if (x->prev)
        x->prev->next = x->next;
    else
        cx->actor->deferred = x->next;
    if (x->next)
        x->next->prev = x->prev;
    return 0;
}

TROUPE_API int troupe_deferred_reply(troupe_ctx *cx, troupe_deferred **d,
                                     const char *fmt, ...)
{
    int rc = s_take_deferred(cx, d);
    if (rc)
        return rc;
    troupe_deferred *x = *d;
    va_list ap;
    va_start(ap, fmt);
    rc = s_vreply(cx, x->to, x->corr, fmt, &ap);
    va_end(ap);
    if (rc) // a bad body: the requester still gets an answer
        s_error(cx, x->to, x->corr, rc);
    free(x);
    *d = NULL;
    return rc;
}

TROUPE_API int troupe_deferred_error(troupe_ctx *cx, troupe_deferred **d,
                                     int code)
{
    if (code >= 0)
        return TROUPE_EINVAL;
    int rc = s_take_deferred(cx, d);
    if (rc)
        return rc;
    troupe_deferred *x = *d;
    s_error(cx, x->to, x->corr, code);
    free(x);
    *d = NULL;
    return 0;
}
