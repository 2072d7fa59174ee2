// SPDX-License-Identifier: MIT
//
// Client handles, actors layer: a port without a thread, owned by whichever
// thread uses it, with an actor identity (an address) but no handler. Its
// calls send like an actor and then wait on the client's own inbox with
// zmq_poll until their deadline; messages that are not the awaited reply wait
// in the client's mailbox for troupe_client_recv().
#include <errno.h>
#include <stdlib.h>
#include <zmq.h>

#include "client_internal.h"
#include "node_internal.h"

struct troupe_client {
    troupe_node *node; // owner
    tr_port *port;     // inbox and outboxes, used by the calling thread
    tr_actor *self;    // the client's identity
    unsigned gathers;  // open gathers (gather.c): calls that would drop
                       // their replies are refused meanwhile
};

static int s_noop(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)cx;
    (void)state;
    (void)msg;
    return 0;
}

TROUPE_API int troupe_client_new(troupe_node *n, troupe_client **out)
{
    if (!n || !out)
        return TROUPE_EINVAL;
    if (atomic_load(&n->stopping))
        return TROUPE_ESHUTDOWN;
    troupe_client *c = calloc(1, sizeof *c);
    if (!c)
        return TROUPE_ENOMEM;
    int rc = tr_port_open(n, TR_PORT_CLIENT, &c->port);
    if (rc) {
        free(c);
        return rc;
    }
    troupe_actor_spec spec = troupe_actor_spec_default();
    spec.handler = s_noop;
    rc = tr_actor_new(n, &spec, c->port, &c->self);
    if (rc) {
        tr_port_close(c->port);
        free(c);
        return rc;
    }
    c->self->flags |= TR_ACT_CLIENT;
    tr_actor_start(c->port, c->self);
    c->node = n;
    atomic_fetch_add(&n->live_clients, 1);
    *out = c;
    return 0;
}

TROUPE_API void troupe_client_destroy(troupe_client **cp)
{
    if (!cp || !*cp)
        return;
    troupe_client *c = *cp;
    *cp = NULL;
    tr_actor_terminate(c->port, c->self, 0);
    tr_port_close(c->port);
    atomic_fetch_sub(&c->node->live_clients, 1);
    free(c);
}

TROUPE_API troupe_addr troupe_client_addr(const troupe_client *c)
{
    return c ? c->self->addr : TROUPE_ADDR_NONE;
}

static int s_send(troupe_client *c, troupe_msg *m, troupe_addr to)
{
    m->to = to;
    m->from = c->self->addr;
    return tr_route(c->node, c->port, m);
}

static int s_vtell(troupe_client *c, troupe_addr to, const char *tag,
                   const char *fmt, va_list *ap)
{
    troupe_msg *m;
    int rc = tr_msg_pack(TROUPE_MSG_TELL, tag, &c->node->limits, fmt, ap, &m);
    if (rc) {
        if (tr_is_refusal(rc))
            tr_offer_failed(c->port, tag, to, rc);
        return rc;
    }
    return s_send(c, m, to);
}

TROUPE_API int troupe_client_tell(troupe_client *c, troupe_addr to,
                                  const char *tag, const char *fmt, ...)
{
    if (!c)
        return TROUPE_EINVAL;
    va_list ap;
    va_start(ap, fmt);
    int rc = s_vtell(c, to, tag, fmt, &ap);
    va_end(ap);
    return rc;
}

TROUPE_API int troupe_client_tell_name(troupe_client *c, const char *name,
                                       const char *tag, const char *fmt, ...)
{
    if (!c)
        return TROUPE_EINVAL;
    troupe_addr to;
    int rc = troupe_whereis(c->node, name, &to);
    if (rc)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    rc = s_vtell(c, to, tag, fmt, &ap);
    va_end(ap);
    return rc;
}

// Wait for something in the inbox until deadline: 0 if drained something,
// TROUPE_ETIMEDOUT.
static int s_wait(troupe_client *c, int64_t deadline)
{
    for (;;) {
        if (tr_port_drain(c->port) > 0)
            return 0;
        int64_t left =
            deadline == TROUPE_FOREVER ? -1 : deadline - troupe_now();
        if (deadline != TROUPE_FOREVER && left <= 0)
            return TROUPE_ETIMEDOUT;
        int rc = tr_port_wait(c->port, left > 3600000 ? 3600000 : (long)left);
        if (rc < 0)
            return rc;
    }
}

// Unlink m (after prev) from the client's mailbox, and account for it.
static troupe_msg *s_take(troupe_client *c, troupe_msg *prev, troupe_msg *m)
{
    tr_actor *a = c->self;
    if (prev)
        prev->next = m->next;
    else
        a->mb_head = m->next;
    if (a->mb_tail == m)
        a->mb_tail = prev;
    m->next = NULL;
    if (m->flags & TR_MSG_COUNTED)
        tr_slot_take(tr_slots_get(&c->node->slots, a->addr.slot));
    return m;
}

// Find the answer to corr in the mailbox (dropping stale replies as late).
static troupe_msg *s_find_reply(troupe_client *c, uint64_t corr)
{
    troupe_msg *prev = NULL, *m = c->self->mb_head;
    while (m) {
        troupe_msg *next = m->next;
        if (m->kind == TROUPE_MSG_REPLY || m->kind == TROUPE_MSG_ERROR) {
            s_take(c, prev, m);
            if (m->corr == corr)
                return m;
            TR_BUMP(c->port->ctr.late);
            TR_BUMP(c->port->ctr.dead);
            tr_msg_free(m);
        } else {
            prev = m;
        }
        m = next;
    }
    return NULL;
}

static int s_vcall(troupe_client *c, troupe_addr to, const char *tag,
                   int64_t deadline, troupe_msg **reply, const char *fmt,
                   va_list *ap)
{
    if (!c || !reply)
        return TROUPE_EINVAL;
    *reply = NULL;
    if (c->gathers) // it would drop their replies
        return TROUPE_ESTATE;
    if (deadline == TROUPE_DEADLINE_DEFAULT)
        deadline = tr_default_deadline(c->node, NULL);
    uint64_t corr;
    int rc = tr_client_request(c, to, tag, deadline, fmt, ap, &corr);
    if (rc)
        return rc;
    for (;;) {
        troupe_msg *r = s_find_reply(c, corr);
        if (r) {
            TR_BUMP(c->port->ctr.delivered);
            if (r->kind == TROUPE_MSG_ERROR) {
                rc = r->code;
                tr_msg_free(r);
                return rc;
            }
            *reply = r;
            return 0;
        }
        rc = s_wait(c, deadline);
        if (rc)
            return rc; // a reply that comes later is counted as late
    }
}

TROUPE_API int troupe_call(troupe_client *c, troupe_addr to, const char *tag,
                           int64_t deadline, troupe_msg **reply,
                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = s_vcall(c, to, tag, deadline, reply, fmt, &ap);
    va_end(ap);
    return rc;
}

TROUPE_API int troupe_call_name(troupe_client *c, const char *name,
                                const char *tag, int64_t deadline,
                                troupe_msg **reply, const char *fmt, ...)
{
    if (!c || !reply)
        return TROUPE_EINVAL;
    *reply = NULL;
    troupe_addr to;
    int rc = troupe_whereis(c->node, name, &to);
    if (rc)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    rc = s_vcall(c, to, tag, deadline, reply, fmt, &ap);
    va_end(ap);
    return rc;
}

TROUPE_API int troupe_client_recv(troupe_client *c, int64_t deadline,
                                  troupe_msg **msg)
{
    if (!c || !msg)
        return TROUPE_EINVAL;
    *msg = NULL;
    if (c->gathers) // it would drop their replies
        return TROUPE_ESTATE;
    if (deadline == TROUPE_DEADLINE_DEFAULT)
        deadline = tr_default_deadline(c->node, NULL);
    for (;;) {
        troupe_msg *m = c->self->mb_head;
        if (m) {
            s_take(c, NULL, m);
            if (m->kind == TROUPE_MSG_REPLY || m->kind == TROUPE_MSG_ERROR) {
                // No call is waiting: the answer to one that ended is late.
                TR_BUMP(c->port->ctr.late);
                TR_BUMP(c->port->ctr.dead);
                tr_msg_free(m);
                continue;
            }
            if (m->kind != TROUPE_MSG_TIMER)
                TR_BUMP(c->port->ctr.delivered);
            if (m->kind == TROUPE_MSG_DOWN) {
                tr_watch **at = &c->self->monitors;
                while (*at && (*at)->ref != m->ref)
                    at = &(*at)->next;
                if (*at) {
                    tr_watch *w = *at;
                    *at = w->next;
                    free(w);
                }
            }
            *msg = m;
            return 0;
        }
        int rc = s_wait(c, deadline);
        if (rc)
            return rc;
    }
}

TROUPE_API int troupe_client_monitor(troupe_client *c, troupe_addr who,
                                     uint64_t *ref)
{
    if (!c || !troupe_addr_valid(who))
        return TROUPE_EINVAL;
    return tr_monitor(c->port, c->self, who, ref);
}

// ---- for gathers (gather.c) ----

troupe_node *tr_client_node(const troupe_client *c)
{
    return c->node;
}

int tr_client_request(troupe_client *c, troupe_addr to, const char *tag,
                      int64_t deadline, const char *fmt, va_list *ap,
                      uint64_t *corr)
{
    *corr = ++c->port->next_corr;
    if (deadline != TROUPE_FOREVER && deadline <= troupe_now())
        return TROUPE_ETIMEDOUT;
    troupe_msg *m;
    int rc =
        tr_msg_pack(TROUPE_MSG_REQUEST, tag, &c->node->limits, fmt, ap, &m);
    if (rc) {
        if (tr_is_refusal(rc))
            tr_offer_failed(c->port, tag, to, rc);
        return rc;
    }
    m->corr = *corr;
    m->deadline = deadline;
    return s_send(c, m, to);
}

troupe_msg *tr_client_take_reply(troupe_client *c,
                                 int (*mine)(void *arg, uint64_t corr),
                                 void *arg, int drop_others)
{
    troupe_msg *prev = NULL, *m = c->self->mb_head;
    while (m) {
        troupe_msg *next = m->next;
        if (m->kind != TROUPE_MSG_REPLY && m->kind != TROUPE_MSG_ERROR) {
            prev = m;
        } else if (mine(arg, m->corr)) {
            TR_BUMP(c->port->ctr.delivered);
            return s_take(c, prev, m);
        } else if (drop_others) {
            s_take(c, prev, m);
            TR_BUMP(c->port->ctr.late);
            TR_BUMP(c->port->ctr.dead);
            tr_msg_free(m);
        } else {
            prev = m;
        }
        m = next;
    }
    return NULL;
}

int tr_client_wait(troupe_client *c, int64_t deadline)
{
    return s_wait(c, deadline);
}

unsigned tr_client_gathers(troupe_client *c, int delta)
{
    c->gathers = (unsigned)((int)c->gathers + delta);
    return c->gathers;
}
