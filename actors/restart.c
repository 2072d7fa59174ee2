// SPDX-License-Identifier: MIT
//
// Restart in place, actors layer (see restart.h): parking a supervised
// actor when it ends, reviving it under the same address with its mailbox,
// and finishing it for good. The decisions (whether, when) are the
// supervisor's; this file only carries them out on the actor's own port.
#include <stdlib.h>
#include <string.h>

#include "restart.h"

// The run took mailbox room back for a batch it will not handle now:
// count those messages again, so the bound holds while it is parked.
static void s_recount(tr_port *p, tr_actor *a)
{
    uint32_t n = 0;
    for (troupe_msg *m = a->mb_head; m; m = m->next)
        if ((m->kind == TROUPE_MSG_TELL || m->kind == TROUPE_MSG_REQUEST) &&
            !(m->flags & TR_MSG_COUNTED)) {
            m->flags |= TR_MSG_COUNTED;
            n++;
        }
    if (n)
        tr_slot_give_n(tr_slots_get(&p->node->slots, a->addr.slot), n);
}

void tr_restart_park(tr_port *p, tr_actor *a, int reason)
{
    tr_actor_end_run(p, a, reason); // its supervisor hears the exit
    a->flags &=
        ~(uint32_t)(TR_ACT_STARTED | TR_ACT_EXITING | TR_ACT_TRAP |
                    TR_ACT_TRAP_STOP | TR_ACT_LATE_START | TR_ACT_QUIET_START |
                    TR_ACT_HELD | TR_ACT_START_HELD);
    s_recount(p, a);
    a->flags |= TR_ACT_PARKED;
    a->exit_reason = reason;
    // If the supervisor is gone (or goes) before it decides, nobody ever
    // will. On this port it finishes its parked children itself when it
    // ends (tr_restart_orphans): no monitor, no message. Elsewhere its
    // down message finishes the parked actor.
    a->sup_ref = 0;
    if (tr_lookup(p, a->supervisor))
        return;
    if (tr_monitor(p, a, a->supervisor, &a->sup_ref) != 0) {
        a->flags |= TR_ACT_FINAL;
        tr_actor_terminate(p, a, reason);
    }
}

void tr_restart_orphans(tr_port *p, tr_actor *sup)
{
    for (int again = 1; again;) { // ending one may end others: rescan
        again = 0;
        for (tr_actor *c = p->first; c; c = c->port_next)
            if ((c->flags & TR_ACT_PARKED) && !c->sup_ref && c != sup &&
                troupe_addr_eq(c->supervisor, sup->addr)) {
                c->flags |= TR_ACT_FINAL;
                tr_actor_terminate(p, c, c->exit_reason);
                again = 1;
                break;
            }
    }
}

void tr_restart_unpark(tr_port *p, tr_actor *a)
{
    tr_watch **at = &a->monitors;
    while (*at && (*at)->ref != a->sup_ref)
        at = &(*at)->next;
    if (*at) {
        tr_watch *w = *at;
        *at = w->next;
        tr_send_system_as(p->node, a->addr, w->who, TR_SYS_DEMONITOR, w->ref,
                          NULL);
        free(w);
    }
    a->sup_ref = 0;
    a->flags &= ~(uint32_t)TR_ACT_PARKED;
}

void tr_defer_started(troupe_ctx *cx)
{
    if (cx && cx->actor && (cx->actor->flags & TR_ACT_KEEP))
        cx->actor->flags |= TR_ACT_LATE_START;
}

void tr_report_started(troupe_ctx *cx)
{
    if (!cx || !cx->actor || !(cx->actor->flags & TR_ACT_LATE_START))
        return;
    cx->actor->flags &= ~(uint32_t)TR_ACT_LATE_START;
    tr_restart_started(cx->port, cx->actor);
}

void tr_restart_started(tr_port *p, tr_actor *a)
{
    if (atomic_load_explicit(&p->abandoned, memory_order_relaxed))
        return; // given up on while in init: its supervisor moved on
    troupe_msg *m = tr_msg_new(TROUPE_MSG_TELL, "$started", 8, NULL, 0);
    if (!m) {
        tr_logf(&p->node->log, TROUPE_LOG_ERROR,
                "out of memory: start of %u.%u not reported", a->addr.slot,
                a->addr.incarnation);
        return;
    }
    m->to = a->supervisor;
    m->from = a->addr;
    TR_BUMP(a->n_sent);
    tr_route(p->node, p, m);
}

// Start parked actor a again. Returns 1 if it is up now (init succeeded
// and it does not report its start itself later), else 0: a failed init
// parked it again (its supervisor hears the exit), or it reports later.
static int s_revive(tr_port *p, tr_actor *a)
{
    tr_restart_unpark(p, a);
    if (a->flags & TR_ACT_SPEC_TRAP)
        a->flags |= TR_ACT_TRAP;
    a->exit_reason = 0;
    if (a->flags & TR_ACT_OWNS_STATE)
        memset(a->inline_state, 0, a->state_size);
    int rc = tr_watch_add_once(&a->links, a->supervisor);
    tr_actor *sup = tr_lookup(p, a->supervisor);
    if (rc == 0 && sup) // on this port: its side of the link, directly
        rc = tr_watch_add_once(&sup->links, a->addr);
    else if (rc == 0)
        rc = tr_send_system_as(p->node, a->addr, a->supervisor, TR_SYS_LINK, 0,
                               NULL);
    if (rc == 0)
        rc = tr_actor_init(p, a);
    if (rc) {
        tr_actor_terminate(p, a, rc); // parks again: the supervisor hears
        return 0;
    }
    tr_actor_started(p, a);
    return !(a->flags & TR_ACT_LATE_START);
}

void tr_restart_system(tr_port *p, tr_actor *a, troupe_msg *m)
{
    if (!(a->flags & TR_ACT_KEEP) || !troupe_addr_eq(m->from, a->supervisor))
        return; // only its supervisor decides
    if (m->code == TR_SYS_REVIVE) {
        if (a->flags & TR_ACT_PARKED)
            (void)s_revive(p, a);
        return;
    }
    int reason = (int)(int64_t)m->ref;
    a->flags |= TR_ACT_FINAL;
    if (a->flags & TR_ACT_PARKED)
        tr_actor_terminate(p, a, reason);
    else
        tr_actor_exit(p, a, reason);
}

int tr_restart_intercept(tr_port *p, tr_actor *a, troupe_msg *m)
{
    if (m->kind != TROUPE_MSG_DOWN || m->ref != a->sup_ref)
        return 0;
    TR_BUMP(p->ctr.delivered);
    tr_msg_free(m);
    a->flags |= TR_ACT_FINAL; // its supervisor is gone
    tr_actor_terminate(p, a, a->exit_reason);
    return 1;
}

int tr_restart_revive(troupe_ctx *cx, troupe_addr child, int *started)
{
    *started = 0;
    if (!cx || !cx->actor)
        return TROUPE_EINVAL;
    tr_port *p = cx->port;
    tr_actor *a = tr_lookup(p, child);
    if (a && (a->flags & TR_ACT_PARKED) && (a->flags & TR_ACT_KEEP) &&
        troupe_addr_eq(a->supervisor, cx->actor->addr)) {
        // On the caller's own loop: revive it now, as a spawn on one's own
        // loop runs init at once, and say so instead of a "$started".
        troupe_ctx saved = p->cx;
        a->flags |= TR_ACT_QUIET_START;
        int up = s_revive(p, a); // a may be gone if this returns 0
        if (up)
            a->flags &= ~(uint32_t)TR_ACT_QUIET_START;
        p->cx = saved;
        *started = up;
        return 0;
    }
    return tr_send_system(cx->port->node, child, TR_SYS_REVIVE, 0, NULL);
}

int tr_restart_finish(troupe_ctx *cx, troupe_addr child, int reason)
{
    if (!cx || !cx->actor)
        return TROUPE_EINVAL;
    return tr_send_system(cx->port->node, child, TR_SYS_FINISH,
                          (uint64_t)(int64_t)reason, NULL);
}

void tr_trap_stop(troupe_ctx *cx)
{
    if (cx && cx->actor)
        cx->actor->flags |= TR_ACT_TRAP_STOP;
}

troupe_addr tr_ctx_supervisor(const troupe_ctx *cx)
{
    if (!cx || !cx->actor || !(cx->actor->flags & TR_ACT_KEEP))
        return TROUPE_ADDR_NONE;
    return cx->actor->supervisor;
}
