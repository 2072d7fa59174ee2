// SPDX-License-Identifier: MIT
//
// Monitors, links, timers and per-actor stats, actors layer: the public calls
// an actor makes about other actors' lives and about time. The far side of a
// monitor or link is set up by a system message to the target's port
// (dispatch.c), so each side's lists are only touched by its own thread.
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "node_internal.h"

int tr_watch_add(tr_watch **list, troupe_addr who, uint64_t ref)
{
    tr_watch *w = malloc(sizeof *w);
    if (!w)
        return TROUPE_ENOMEM;
    *w = (tr_watch){.next = *list, .who = who, .ref = ref};
    *list = w;
    return 0;
}

int tr_watch_add_once(tr_watch **list, troupe_addr who)
{
    for (tr_watch *w = *list; w; w = w->next)
        if (troupe_addr_eq(w->who, who))
            return 0;
    return tr_watch_add(list, who, 0);
}

void tr_watch_free_all(tr_watch **list)
{
    while (*list) {
        tr_watch *w = *list;
        *list = w->next;
        free(w);
    }
}

int tr_monitor(tr_port *p, tr_actor *a, troupe_addr who, uint64_t *ref)
{
    tr_watch *w = malloc(sizeof *w);
    if (!w)
        return TROUPE_ENOMEM;
    uint64_t r = ++p->next_id;
    *w = (tr_watch){.next = a->monitors, .who = who, .ref = r};
    a->monitors = w;
    // If who is gone, the send fails and its port (or ours) answers with a
    // down message carrying TROUPE_EDEAD: tr_route dead-letters system
    // messages through the port, which does exactly that.
    troupe_msg *m = tr_msg_new(TROUPE_MSG_SYSTEM, "", 0, NULL, 0);
    if (!m) {
        a->monitors = w->next;
        free(w);
        return TROUPE_ENOMEM;
    }
    m->code = TR_SYS_MONITOR;
    m->to = who;
    m->from = a->addr;
    m->ref = r;
    tr_route(p->node, p, m);
    if (ref)
        *ref = r;
    return 0;
}

TROUPE_API int troupe_monitor(troupe_ctx *cx, troupe_addr who, uint64_t *ref)
{
    int rc = tr_ctx_check(cx);
    if (rc)
        return rc;
    if (!troupe_addr_valid(who))
        return TROUPE_EINVAL;
    return tr_monitor(cx->port, cx->actor, who, ref);
}

TROUPE_API int troupe_demonitor(troupe_ctx *cx, uint64_t ref)
{
    int rc = tr_ctx_check(cx);
    if (rc)
        return rc;
    tr_watch **at = &cx->actor->monitors;
    while (*at && (*at)->ref != ref)
        at = &(*at)->next;
    if (!*at)
        return TROUPE_ENOENT;
    tr_watch *w = *at;
    *at = w->next;
    tr_send_system(cx->port->node, w->who, TR_SYS_DEMONITOR, ref, NULL);
    free(w);
    return 0;
}

TROUPE_API int troupe_link(troupe_ctx *cx, troupe_addr who)
{
    int rc = tr_ctx_check(cx);
    if (rc)
        return rc;
    if (!troupe_addr_valid(who) || troupe_addr_eq(who, cx->actor->addr))
        return TROUPE_EINVAL;
    tr_actor *a = cx->actor;
    for (tr_watch *w = a->links; w; w = w->next)
        if (troupe_addr_eq(w->who, who))
            return 0;
    tr_watch *w = malloc(sizeof *w);
    if (!w)
        return TROUPE_ENOMEM;
    *w = (tr_watch){.next = a->links, .who = who};
    a->links = w;
    tr_send_system(cx->port->node, who, TR_SYS_LINK, 0, NULL);
    return 0;
}

TROUPE_API int troupe_unlink(troupe_ctx *cx, troupe_addr who)
{
    int rc = tr_ctx_check(cx);
    if (rc)
        return rc;
    tr_watch **at = &cx->actor->links;
    while (*at && !troupe_addr_eq((*at)->who, who))
        at = &(*at)->next;
    if (!*at)
        return TROUPE_ENOENT;
    tr_watch *w = *at;
    *at = w->next;
    free(w);
    tr_send_system(cx->port->node, who, TR_SYS_UNLINK, 0, NULL);
    return 0;
}

TROUPE_API void troupe_trap_exit(troupe_ctx *cx, bool on)
{
    if (!cx || !cx->actor)
        return;
    if (on)
        cx->actor->flags |= TR_ACT_TRAP;
    else
        cx->actor->flags &= ~(uint32_t)TR_ACT_TRAP;
}

TROUPE_API int troupe_timer_start(troupe_ctx *cx, int64_t delay_ms,
                                  int64_t period_ms, const char *tag,
                                  uint64_t *id)
{
    int rc = tr_ctx_check(cx);
    if (rc)
        return rc;
    size_t len;
    if (delay_ms < 0 || period_ms < 0 ||
        tr_tag_check(tag, &cx->port->node->limits, &len))
        return TROUPE_EINVAL;
    tr_utimer *t = calloc(1, sizeof *t + len + 1);
    if (!t)
        return TROUPE_ENOMEM;
    if (len)
        memcpy(t->tag, tag, len);
    t->actor = cx->actor;
    t->id = ++cx->port->next_id;
    t->period = period_ms;
    t->t.type = TR_TIMER_USER;
    t->t.ptr = t;
    t->t.index = SIZE_MAX;
    // Due delay_ms from now to the nanosecond: it never fires early, and
    // the port's precise wait (timers.h) fires it on time.
    if (tr_timers_add_ns(&cx->port->timers, &t->t,
                         tr_timers_after(tr_now_ns(), delay_ms))) {
        free(t);
        return TROUPE_ENOMEM;
    }
    t->next = cx->actor->timers;
    cx->actor->timers = t;
    if (id)
        *id = t->id;
    return 0;
}

TROUPE_API int troupe_timer_cancel(troupe_ctx *cx, uint64_t id)
{
    if (!cx || !cx->actor)
        return TROUPE_EINVAL;
    tr_utimer **at = &cx->actor->timers;
    while (*at && (*at)->id != id)
        at = &(*at)->next;
    if (!*at)
        return TROUPE_ENOENT;
    tr_utimer *t = *at;
    *at = t->next;
    tr_timers_remove(&cx->port->timers, &t->t);
    free(t);
    return 0;
}

TROUPE_API int troupe_actor_stats_get(troupe_ctx *cx, troupe_actor_stats *st)
{
    if (!cx || !cx->actor || !st)
        return TROUPE_EINVAL;
    tr_actor *a = cx->actor;
    memset(st, 0, sizeof *st);
    st->received = atomic_load(&a->n_received);
    st->sent = atomic_load(&a->n_sent);
    st->refused = atomic_load(&a->n_refused);
    st->handler_ns_max = tr_ticks_to_ns(atomic_load(&a->handler_ticks_max));
    st->mailbox_depth =
        tr_slot_depth(tr_slots_get(&cx->port->node->slots, a->addr.slot));
    uint64_t total = 0;
    for (int i = 0; i < 24; i++)
        total += a->hist[i];
    uint64_t want = total - total / 100, seen = 0;
    for (int i = 0; i < 24 && total; i++) {
        seen += a->hist[i];
        if (seen >= want) {
            // Bucket i holds runs shorter than 256 << i ticks.
            st->handler_ns_p99 = tr_ticks_to_ns((uint64_t)256 << i);
            if (st->handler_ns_p99 > st->handler_ns_max)
                st->handler_ns_p99 = st->handler_ns_max;
            break;
        }
    }
    return 0;
}
