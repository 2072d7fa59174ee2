// SPDX-License-Identifier: MIT
//
// Helpers over a port's pending requests, actors layer (see pending.h):
// alarms, cancelling without the public checks, and running a reply
// callback. They use only the request machinery of send.c
// (tr_pending_open and friends); they must not depend on gather or limiter.
#include "pending.h"

int tr_alarm_start(tr_port *p, tr_actor *a, int64_t deadline,
                   troupe_reply_fn cb, void *arg, uint64_t *corr)
{
    troupe_ctx owner = {.port = p, .actor = a};
    tr_pending *pd;
    int rc = tr_pending_open(&owner, deadline, cb, arg, &pd);
    if (rc)
        return rc;
    *corr = pd->corr; // the entry is the port's: keep only its id
    return 0;
}

void tr_alarm_stop(tr_port *p, tr_actor *a, uint64_t corr)
{
    if (!corr)
        return;
    troupe_ctx owner = {.port = p, .actor = a};
    tr_pending_discard(&owner, corr);
}

int tr_pending_cancel(tr_port *p, tr_actor *a, uint64_t corr)
{
    tr_pending *pd = tr_pend_take(p, corr);
    if (!pd)
        return TROUPE_ENOENT;
    if (pd->actor != a) { // another actor's: put it back
        tr_pend_add(p, pd);
        return TROUPE_ENOENT;
    }
    tr_pending_finish(p, pd, TROUPE_ECANCELED, NULL);
    return 0;
}

void tr_reply_invoke(tr_port *p, tr_actor *a, troupe_reply_fn cb, int status,
                     const troupe_msg *reply, void *arg)
{
    troupe_ctx saved = p->cx;
    p->cx.port = p;
    p->cx.actor = a;
    p->cx.msg = NULL;
    uint32_t running = a->flags & TR_ACT_RUNNING; // nested in a callback?
    a->flags |= TR_ACT_RUNNING;
    int rc = cb(&p->cx, a->state, status, reply, arg);
    a->flags = (a->flags & ~(uint32_t)TR_ACT_RUNNING) | running;
    p->cx = saved;
    if (rc < 0 && status != TROUPE_ECANCELED)
        tr_actor_exit(p, a, rc);
}

troupe_ctx *tr_owner_ctx(tr_port *p, tr_actor *a)
{
    if (!p || tr_port_current() != p || p->cx.actor != a)
        return NULL;
    return &p->cx;
}
