// SPDX-License-Identifier: MIT
//
// Actor lifecycle, actors layer: creating an actor in a slot, starting it
// (init) on its port's thread, ending it (mailbox dead-lettered, requests
// answered TROUPE_EDEAD, monitors and links told, fini), and the public spawn
// and stop calls. Dispatch of messages is in dispatch.c.
#include <stdlib.h>
#include <string.h>

#include "invariant.h"
#include "fault_internal.h"
#include "node_internal.h"
#include "proc_internal.h"
#include "restart.h"

tr_actor *tr_lookup(tr_port *p, troupe_addr to)
{
    tr_slot *s = tr_slots_get(&p->node->slots, to.slot);
    if (!s || to.node != 0 || tr_slot_check(s, to.incarnation) != 0 ||
        atomic_load_explicit(&s->port, memory_order_relaxed) != p->id)
        return NULL;
    return atomic_load_explicit(&s->actor, memory_order_relaxed);
}

void tr_actor_schedule(tr_port *p, tr_actor *a)
{
    if (a->flags & (TR_ACT_QUEUED | TR_ACT_CLIENT | TR_ACT_RUNNING))
        return;
    a->flags |= TR_ACT_QUEUED;
    a->rq_next = NULL;
    if (p->rq_tail)
        p->rq_tail->rq_next = a;
    else
        p->rq_head = a;
    p->rq_tail = a;
}

// The calling thread's port if it is a port thread of node n, whose caches
// of actor structs (actor_mem.h) and slots (slots.h) it may use; else NULL.
static tr_port *s_own_port(troupe_node *n)
{
    tr_port *p = tr_port_current();
    return p && p->node == n ? p : NULL;
}

static tr_actor_cache *s_cache(troupe_node *n)
{
    tr_port *p = s_own_port(n);
    return p ? &p->acache : NULL;
}

static tr_slot_cache *s_slot_cache(troupe_node *n)
{
    tr_port *p = s_own_port(n);
    return p ? &p->scache : NULL;
}

static void s_actor_free(troupe_node *n, tr_actor *a)
{
    tr_actor_mem_free(&n->amem, s_cache(n), a, sizeof *a + a->state_size);
}

int tr_actor_new(troupe_node *n, const troupe_actor_spec *spec, tr_port *on,
                 tr_actor **out)
{
    size_t name_len = 0;
    if (spec->name) {
        if (tr_tag_check(spec->name, &n->limits, &name_len) || !name_len)
            return TROUPE_EINVAL;
    }
    size_t extra = spec->state_size;
    if (extra > UINT32_MAX)
        return TROUPE_EINVAL;
    tr_actor *a = tr_actor_mem_alloc(&n->amem, s_cache(n), sizeof *a + extra);
    if (!a)
        return TROUPE_ENOMEM;
    uint32_t idx;
    int rc = tr_slots_alloc(&n->slots, s_slot_cache(n), &idx);
    if (rc) {
        tr_actor_mem_free(&n->amem, s_cache(n), a, sizeof *a + extra);
        if (rc == TROUPE_ELIMIT) {
            atomic_fetch_add(&n->limits_hit, 1);
            tr_logf(&n->log, TROUPE_LOG_WARN,
                    "max_actors (%u) reached: spawn refused",
                    n->opts.max_actors);
        }
        return rc;
    }
    a->port = on;
    a->handler = spec->handler;
    a->init = spec->init;
    a->fini = spec->fini;
    a->arg = spec->arg;
    if (extra) {
        a->state = a->inline_state;
        a->flags |= TR_ACT_OWNS_STATE;
    } else {
        a->state = spec->state;
    }
    if (spec->trap_exit)
        a->flags |= TR_ACT_TRAP | TR_ACT_SPEC_TRAP;
    a->state_size = (uint32_t)extra;
    int64_t budget = spec->budget_ms > 0        ? spec->budget_ms
                     : on->kind == TR_PORT_LOOP ? n->opts.block_warn_ms
                                                : 0;
    if (budget > 0) // 49 days and longer: 49 days
        a->budget_ms = budget > UINT32_MAX ? UINT32_MAX : (uint32_t)budget;
    tr_slot *s = tr_slots_get(&n->slots, idx);
    atomic_store_explicit(&s->actor, a, memory_order_relaxed);
    atomic_store_explicit(&s->port, on->id, memory_order_relaxed);
    atomic_store_explicit(&s->bound,
                          spec->mailbox_bound ? spec->mailbox_bound
                                              : n->opts.mailbox_bound,
                          memory_order_relaxed);
    a->addr = (troupe_addr){0, idx, tr_slot_activate(s)};
    atomic_fetch_add(&n->live_actors, 1);
    if (spec->name) {
        rc = tr_registry_add(&n->names, spec->name, name_len, a->addr);
        troupe_addr old;
        if (rc == TROUPE_EEXIST &&
            troupe_whereis(n, spec->name, &old) == TROUPE_ENOENT)
            rc = tr_registry_add(&n->names, spec->name, name_len, a->addr);
        if (rc == 0)
            a->name = strndup(spec->name, name_len);
        if (rc == 0 && !a->name) {
            tr_registry_drop(&n->names, spec->name, a->addr);
            rc = TROUPE_ENOMEM;
        }
        if (rc) {
            tr_actor_discard(n, a);
            return rc;
        }
    }
    *out = a;
    return 0;
}

void tr_actor_discard(troupe_node *n, tr_actor *a)
{
    tr_slot *s = tr_slots_get(&n->slots, a->addr.slot);
    tr_slot_kill(s);
    if (a->name) {
        tr_registry_drop(&n->names, a->name, a->addr);
        free(a->name);
    }
    tr_watch_free_all(&a->watchers);
    tr_watch_free_all(&a->links);
    tr_slots_release(&n->slots, s_slot_cache(n), a->addr.slot);
    atomic_fetch_sub(&n->live_actors, 1);
    if (a->arg_free)
        a->arg_free(a->arg);
    s_actor_free(n, a);
}

static void s_port_list_add(tr_port *p, tr_actor *a)
{
    a->port_prev = p->last;
    a->port_next = NULL;
    if (p->last)
        p->last->port_next = a;
    else
        p->first = a;
    p->last = a;
    p->n_actors++;
}

static void s_port_list_remove(tr_port *p, tr_actor *a)
{
    if (a->port_prev)
        a->port_prev->port_next = a->port_next;
    else
        p->first = a->port_next;
    if (a->port_next)
        a->port_next->port_prev = a->port_prev;
    else
        p->last = a->port_prev;
    p->n_actors--;
}

void tr_actor_list_add(tr_port *p, tr_actor *a)
{
    s_port_list_add(p, a);
}

int tr_actor_init(tr_port *p, tr_actor *a)
{
    int rc = 0;
    if (a->flags & TR_ACT_EXITING) {
        rc = a->exit_reason ? a->exit_reason : TROUPE_ESHUTDOWN;
    } else if ((rc = tr_fault_init(p, a)) != 0) {
        // a fault plan failed it (fault.c): init does not run
    } else if (a->init) {
        troupe_ctx saved = p->cx;
        p->cx = (troupe_ctx){.port = p, .actor = a};
        a->flags |= TR_ACT_RUNNING;
        rc = a->init(&p->cx, a->state, a->arg);
        a->flags &= ~(uint32_t)TR_ACT_RUNNING;
        p->cx = saved;
        if (rc > 0)
            rc = TROUPE_EINVAL; // init must return 0 or a TROUPE_E* code
        if (rc == 0 && (a->flags & TR_ACT_EXITING))
            rc = a->exit_reason ? a->exit_reason : TROUPE_ESHUTDOWN;
    }
    return rc;
}

// Answer whoever waits for a's start (troupe_node_spawn), once. What init
// (or the held start) sent leaves first: causality as the spawner sees it.
static void s_answer_spawner(tr_port *p, tr_actor *a, int rc)
{
    tr_waiter *w = a->start_waiter;
    a->start_waiter = NULL;
    if (!w)
        return;
    tr_port_flush(p);
    if (tr_waiter_signal(w, rc) && rc == 0)
        tr_actor_exit(p, a, TROUPE_ETIMEDOUT); // the spawner gave up
    tr_waiter_release(w);
}

void tr_actor_started(tr_port *p, tr_actor *a)
{
    // An init that held its mailbox: started for the runtime (its timers,
    // fd events and answers reach it), but its supervisor hears "$started"
    // when it resumes (troupe_resume), as its spawner does.
    if ((a->flags & (TR_ACT_START_HELD | TR_ACT_KEEP)) ==
        (TR_ACT_START_HELD | TR_ACT_KEEP))
        a->flags |= TR_ACT_LATE_START;
    a->flags |= TR_ACT_STARTED;
    if (!(a->flags & TR_ACT_CLIENT))
        TR_BUMP(p->ctr.spawned);
    if (a->mb_head)
        tr_actor_schedule(p, a);
    if ((a->flags & (TR_ACT_KEEP | TR_ACT_LATE_START | TR_ACT_QUIET_START)) ==
        TR_ACT_KEEP)
        tr_restart_started(p, a); // its supervisor hears "$started"
}

int tr_actor_start(tr_port *p, tr_actor *a)
{
    s_port_list_add(p, a);
    int rc = tr_actor_init(p, a);
    if (rc) {
        tr_waiter *w = a->start_waiter;
        a->start_waiter = NULL;
        tr_actor_terminate(p, a, rc);
        a = NULL; // freed, or parked: the waiter is answered below
        if (w) {
            tr_port_flush(p);
            tr_waiter_signal(w, rc);
            tr_waiter_release(w);
        }
        return rc;
    }
    tr_actor_started(p, a);
    if (!(a->flags & TR_ACT_START_HELD)) // else troupe_resume or its end
        s_answer_spawner(p, a, 0);
    return 0;
}

void tr_actor_exit(tr_port *p, tr_actor *a, int reason)
{
    if (a->flags & TR_ACT_EXITING)
        return;
    a->flags |= TR_ACT_EXITING;
    a->exit_reason = reason;
    if (a->flags & TR_ACT_STARTED)
        tr_actor_schedule(p, a);
}

static void s_send_signal(tr_port *p, tr_actor *a, uint8_t kind, troupe_addr to,
                          int reason, uint64_t ref)
{
    troupe_msg *m =
        tr_msg_new(kind, kind == TROUPE_MSG_DOWN ? "down" : "exit", 4, NULL, 0);
    if (!m) {
        tr_logf(&p->node->log, TROUPE_LOG_ERROR,
                "out of memory: %s signal lost",
                kind == TROUPE_MSG_DOWN ? "down" : "exit");
        return;
    }
    m->to = to;
    m->from = a->addr;
    m->code = reason;
    m->ref = ref;
    tr_route(p->node, p, m);
}

static void s_wake_exit_waiters(tr_port *p, tr_actor *a, int reason)
{
    if (a->exit_waiters)
        tr_port_flush(p); // its last words leave before the waiter wakes
    while (a->exit_waiters) {
        tr_waiter *w = a->exit_waiters;
        a->exit_waiters = w->next;
        tr_waiter_signal(w, reason);
        tr_waiter_release(w);
    }
}

void tr_actor_end_run(tr_port *p, tr_actor *a, int reason)
{
    troupe_node *n = p->node;
    // Ended while its start was held: its spawner hears why (a normal
    // exit before it was ever ready is TROUPE_EDEAD to it).
    a->flags &= ~(uint32_t)(TR_ACT_HELD | TR_ACT_START_HELD);
    s_answer_spawner(p, a, reason ? reason : TROUPE_EDEAD);
    // Counted and logged before monitors hear of it, so that a down message
    // is never seen before the stats say why.
    if (!(a->flags & TR_ACT_CLIENT))
        TR_BUMP(p->ctr.exited);
    if (reason != 0 && reason != TROUPE_ESHUTDOWN &&
        !(a->flags & TR_ACT_CLIENT)) {
        TR_BUMP(p->ctr.crashed);
        tr_logf(&n->log, TROUPE_LOG_WARN, "actor %u.%u%s%s ended: %s (%d)",
                a->addr.slot, a->addr.incarnation, a->name ? " " : "",
                a->name ? a->name : "",
                reason <= TROUPE_EUSER ? "application error"
                                       : troupe_errname(reason),
                reason);
    }
    // A supervisor leaves no parked child behind on its port, and they are
    // gone before anyone hears that it ended.
    if (a->flags & TR_ACT_TRAP_STOP)
        tr_restart_orphans(p, a);
    // Pending requests end first: their callbacks may still answer deferred
    // replies (a proxy passes its troupe_deferred as the callback's arg).
    troupe_ctx saved = p->cx;
    p->cx = (troupe_ctx){.port = p, .actor = a};
    while (a->pending)
        tr_pending_finish(p, a->pending, TROUPE_ECANCELED, NULL);
    p->cx = saved;
    while (a->deferred) { // what nobody answered: the requesters hear EDEAD
        troupe_deferred *d = a->deferred;
        a->deferred = d->next;
        troupe_msg req = {.kind = TROUPE_MSG_REQUEST,
                          .from = d->to,
                          .to = a->addr,
                          .corr = d->corr};
        tr_reply_code(n, p, &req, TROUPE_EDEAD);
        free(d);
    }
    tr_io_actor_end(p, a);
    while (a->timers) {
        tr_utimer *t = a->timers;
        a->timers = t->next;
        tr_timers_remove(&p->timers, &t->t);
        free(t);
    }
    for (tr_watch *w = a->monitors; w; w = w->next)
        tr_send_system_as(n, a->addr, w->who, TR_SYS_DEMONITOR, w->ref, NULL);
    for (tr_watch *w = a->links; w; w = w->next)
        s_send_signal(p, a, TROUPE_MSG_EXIT, w->who, reason, 0);
    for (tr_watch *w = a->watchers; w; w = w->next)
        s_send_signal(p, a, TROUPE_MSG_DOWN, w->who, reason, w->ref);
    tr_watch_free_all(&a->monitors);
    tr_watch_free_all(&a->links);
    tr_watch_free_all(&a->watchers);
    if ((a->flags & TR_ACT_STARTED) && a->fini)
        a->fini(a->state, reason);
    s_wake_exit_waiters(p, a, reason);
    if (a->flags & TR_ACT_QUEUED) { // unlink from the run queue
        tr_actor **pp = &p->rq_head, *prev = NULL;
        while (*pp && *pp != a) {
            prev = *pp;
            pp = &(*pp)->rq_next;
        }
        if (*pp) {
            *pp = a->rq_next;
            if (p->rq_tail == a)
                p->rq_tail = prev;
        }
        a->flags &= ~(uint32_t)TR_ACT_QUEUED;
    }
}

void tr_actor_terminate(tr_port *p, tr_actor *a, int reason)
{
    if ((a->flags & (TR_ACT_KEEP | TR_ACT_FINAL)) == TR_ACT_KEEP) {
        tr_restart_park(p, a, reason); // its supervisor decides
        return;
    }
    troupe_node *n = p->node;
    if (!(a->flags & TR_ACT_SLOT_DEAD))
        tr_slot_kill(tr_slots_get(&n->slots, a->addr.slot));
    a->flags |= TR_ACT_EXITING | TR_ACT_SLOT_DEAD;
    if (a->name) {
        tr_registry_drop(&n->names, a->name, a->addr);
        free(a->name);
        a->name = NULL;
    }
    while (a->mb_head) {
        troupe_msg *m = a->mb_head;
        a->mb_head = m->next;
        tr_dead_letter(p, m);
    }
    a->mb_tail = NULL;
    if (a->fault) // what a fault plan's delay holds for it, too
        tr_fault_end(p, a);
    if (a->flags & TR_ACT_PARKED) { // its run ended already, when it parked
        tr_restart_unpark(p, a);
        s_wake_exit_waiters(p, a, reason);
    } else
        tr_actor_end_run(p, a, reason);
    s_port_list_remove(p, a);
    tr_slots_release(&n->slots, s_slot_cache(n), a->addr.slot);
    atomic_fetch_sub(&n->live_actors, 1);
    if (a->arg_free)
        a->arg_free(a->arg);
    s_actor_free(n, a);
    if (p->kind == TR_PORT_ISOLATED && p->n_actors == 0)
        p->quit = 1;
}

void tr_port_stop_actors(tr_port *p, int reason)
{
    // Newest first. Ending one may end others on this port (links); restart
    // from the tail each time rather than trusting a saved pointer.
    while (p->last) {
        tr_actor *a = p->last;
        if (TR_NEVER(a->flags & TR_ACT_RUNNING)) // not from the loop
            break;
        a->flags |= TR_ACT_FINAL; // the port ends: no parking
        tr_actor_terminate(
            p, a, (a->flags & TR_ACT_EXITING) ? a->exit_reason : reason);
    }
}

// ---- public: spawn and stop ----

TROUPE_API troupe_actor_spec troupe_actor_spec_default(void)
{
    troupe_actor_spec s;
    memset(&s, 0, sizeof s);
    s.loop = TROUPE_LOOP_AUTO;
    return s;
}

static int s_check_spec(troupe_node *n, const troupe_actor_spec *spec)
{
    if (!spec || !spec->handler)
        return TROUPE_EINVAL;
    if (spec->placement != TROUPE_SHARED && spec->placement != TROUPE_ISOLATED)
        return TROUPE_EINVAL; // TROUPE_PROCESS became an isolated proxy
    if (spec->loop != TROUPE_LOOP_AUTO &&
        (spec->loop < 0 || (unsigned)spec->loop > n->n_loops))
        return TROUPE_EINVAL;
    if (atomic_load(&n->stopping))
        return TROUPE_ESHUTDOWN;
    return 0;
}

static tr_port *s_pick_loop(troupe_node *n, const troupe_actor_spec *spec,
                            tr_port *here)
{
    unsigned i;
    if (spec->loop != TROUPE_LOOP_AUTO)
        i = (unsigned)spec->loop - 1; // TROUPE_LOOP(i) is i + 1
    else if (here && here->kind == TR_PORT_LOOP)
        return here;
    else
        i = atomic_fetch_add(&n->rr, 1) % n->n_loops;
    return atomic_load(&n->ports[i]);
}

static troupe_msg *s_adopt_msg(tr_actor *a)
{
    troupe_msg *m = tr_msg_new(TROUPE_MSG_SYSTEM, "", 0, NULL, 0);
    if (m) {
        m->code = TR_SYS_ADOPT;
        m->to = a->addr;
        m->ptr = a;
    }
    return m;
}

static int s_spawn_inner(troupe_node *n, tr_port *here,
                         const troupe_actor_spec *spec, tr_waiter *w,
                         uint64_t monitor_ref, troupe_addr watcher,
                         const troupe_addr *supervisor, tr_actor **out,
                         troupe_addr *addr, int *inline_start,
                         void (*arg_free)(void *));

// A process actor is an isolated proxy (proc_proxy.c) whose arg, a copy of
// the process spec, lives as long as the actor.
static int s_spawn_process(troupe_node *n, tr_port *here,
                           const troupe_actor_spec *spec, tr_waiter *w,
                           uint64_t monitor_ref, troupe_addr watcher,
                           const troupe_addr *supervisor, tr_actor **out,
                           troupe_addr *addr, int *inline_start)
{
    if (spec->handler || spec->init || spec->fini)
        return TROUPE_EINVAL; // the child's table has those
    troupe_actor_spec proxy;
    void (*arg_free)(void *);
    int rc = tr_proc_proxy_spec(spec, &proxy, &arg_free);
    if (rc)
        return rc;
    // From here s_spawn_inner owns proxy.arg (freed on failure too).
    return s_spawn_inner(n, here, &proxy, w, monitor_ref, watcher, supervisor,
                         out, addr, inline_start, arg_free);
}

// Create the actor for spec and hand it to its port. `here` is the calling
// port (NULL: a foreign thread). *inline_start tells whether the caller must
// start it itself (same port).
static int s_spawn(troupe_node *n, tr_port *here, const troupe_actor_spec *spec,
                   tr_waiter *w, uint64_t monitor_ref, troupe_addr watcher,
                   const troupe_addr *supervisor, tr_actor **out,
                   troupe_addr *addr, int *inline_start)
{
    if (spec && spec->placement == TROUPE_PROCESS) {
        if (atomic_load(&n->stopping))
            return TROUPE_ESHUTDOWN;
        return s_spawn_process(n, here, spec, w, monitor_ref, watcher,
                               supervisor, out, addr, inline_start);
    }
    return s_spawn_inner(n, here, spec, w, monitor_ref, watcher, supervisor,
                         out, addr, inline_start, NULL);
}

// s_spawn's work. With arg_free, the actor owns spec->arg: freed with it,
// or here if the spawn fails.
static int s_spawn_inner(troupe_node *n, tr_port *here,
                         const troupe_actor_spec *spec, tr_waiter *w,
                         uint64_t monitor_ref, troupe_addr watcher,
                         const troupe_addr *supervisor, tr_actor **out,
                         troupe_addr *addr, int *inline_start,
                         void (*arg_free)(void *))
{
    int rc = s_check_spec(n, spec);
    if (rc) {
        if (arg_free)
            arg_free(spec->arg);
        return rc;
    }
    tr_port *on;
    if (spec->placement == TROUPE_ISOLATED) {
        rc = tr_port_open(n, TR_PORT_ISOLATED, &on);
        if (rc) {
            if (arg_free)
                arg_free(spec->arg);
            return rc;
        }
    } else {
        on = s_pick_loop(n, spec, here);
    }
    tr_actor *a;
    rc = tr_actor_new(n, spec, on, &a);
    if (rc) {
        if (arg_free)
            arg_free(spec->arg);
        goto fail_port;
    }
    a->arg_free = arg_free; // discarded from here on: freed with it
    // A monitor, and a supervisor's link, are in place before it runs.
    if ((monitor_ref && tr_watch_add(&a->watchers, watcher, monitor_ref)) ||
        (supervisor && tr_watch_add(&a->links, *supervisor, 0))) {
        tr_actor_discard(n, a); // frees what was added
        rc = TROUPE_ENOMEM;
        goto fail_port;
    }
    if (supervisor) { // parked when it ends
        a->supervisor = *supervisor;
        a->flags |= TR_ACT_KEEP;
    }
    a->start_waiter = w;
    *out = a; // valid only for an inline start: another port may free it
    *addr = a->addr;
    *inline_start = 0;
    if (on == here) {
        *inline_start = 1;
        return 0;
    }
    troupe_msg *m = s_adopt_msg(a);
    if (!m) {
        a->start_waiter = NULL;
        tr_actor_discard(n, a);
        rc = TROUPE_ENOMEM;
        goto fail_port;
    }
    if (spec->placement == TROUPE_ISOLATED) {
        tr_port_post_local(on, m);
        rc = tr_port_start_thread(on);
        if (rc) {
            on->local_head = on->local_tail = NULL;
            tr_msg_free(m);
            a->start_waiter = NULL;
            tr_actor_discard(n, a);
            tr_port_close(on);
        }
        return rc;
    }
    rc = here ? tr_port_push(here, on->id, m)
              : tr_port_push_foreign(n, on->id, m);
    if (rc) {
        tr_msg_free(m);
        a->start_waiter = NULL;
        tr_actor_discard(n, a);
        return rc == TROUPE_EDEAD ? TROUPE_ESHUTDOWN : rc;
    }
    return 0;
fail_port:
    if (spec->placement == TROUPE_ISOLATED)
        tr_port_close(on);
    return rc;
}

static int s_spawn_ctx(troupe_ctx *cx, const troupe_actor_spec *spec,
                       troupe_addr *addr, uint64_t *ref)
{
    if (!cx || !addr || cx->no_send)
        return cx && cx->no_send ? TROUPE_ESTATE : TROUPE_EINVAL;
    tr_port *p = cx->port;
    troupe_node *n = p->node;
    uint64_t r = 0;
    tr_watch *mon = NULL;
    if (ref) {
        mon = malloc(sizeof *mon);
        if (!mon)
            return TROUPE_ENOMEM;
        r = ++p->next_id;
    }
    tr_actor *a;
    troupe_addr who;
    int inl;
    int rc =
        s_spawn(n, p, spec, NULL, r, cx->actor->addr, NULL, &a, &who, &inl);
    if (rc) {
        free(mon);
        return rc;
    }
    if (mon) {
        *mon = (tr_watch){.next = cx->actor->monitors, .who = who, .ref = r};
        cx->actor->monitors = mon;
        *ref = r;
    }
    if (inl) {
        troupe_ctx saved = p->cx;
        rc = tr_actor_start(p, a);
        p->cx = saved;
        if (rc && !ref)
            return rc;
        rc = 0; // with a monitor, the down message reports init's failure
    }
    *addr = who;
    return 0;
}

TROUPE_API int troupe_spawn(troupe_ctx *cx, const troupe_actor_spec *spec,
                            troupe_addr *addr)
{
    return s_spawn_ctx(cx, spec, addr, NULL);
}

TROUPE_API int troupe_spawn_monitor(troupe_ctx *cx,
                                    const troupe_actor_spec *spec,
                                    troupe_addr *addr, uint64_t *ref)
{
    if (!ref)
        return TROUPE_EINVAL;
    return s_spawn_ctx(cx, spec, addr, ref);
}

int tr_spawn_supervised(troupe_ctx *cx, const troupe_actor_spec *spec,
                        troupe_addr *addr)
{
    if (!cx || !addr || cx->no_send)
        return cx && cx->no_send ? TROUPE_ESTATE : TROUPE_EINVAL;
    tr_port *p = cx->port;
    tr_actor *sup = cx->actor;
    tr_watch *ln = malloc(sizeof *ln);
    if (!ln)
        return TROUPE_ENOMEM;
    tr_actor *a;
    troupe_addr who;
    int inl;
    int rc = s_spawn(p->node, p, spec, NULL, 0, TROUPE_ADDR_NONE, &sup->addr,
                     &a, &who, &inl);
    if (rc) {
        free(ln);
        return rc;
    }
    // Our side of the link, before the child can run and end.
    *ln = (tr_watch){.next = sup->links, .who = who};
    sup->links = ln;
    if (inl) {
        troupe_ctx saved = p->cx;
        tr_actor_start(p, a); // a failure parks it: we hear its exit
        p->cx = saved;
    }
    *addr = who;
    return 0;
}

TROUPE_API int troupe_node_spawn(troupe_node *n, const troupe_actor_spec *spec,
                                 int64_t deadline, troupe_addr *addr)
{
    if (!n || !addr)
        return TROUPE_EINVAL;
    tr_port *here = tr_port_current();
    if (here && here->node == n && here->kind != TR_PORT_CLIENT)
        return TROUPE_EINVAL;
    tr_waiter *w = tr_waiter_new();
    if (!w)
        return TROUPE_ENOMEM;
    pthread_mutex_lock(&n->lock);
    if (n->n_roots == n->cap_roots) {
        size_t cap = n->cap_roots ? n->cap_roots * 2 : 16;
        troupe_addr *r = realloc(n->roots, cap * sizeof *r);
        if (!r) {
            pthread_mutex_unlock(&n->lock);
            tr_waiter_release(w);
            tr_waiter_release(w);
            return TROUPE_ENOMEM;
        }
        n->roots = r;
        n->cap_roots = cap;
    }
    pthread_mutex_unlock(&n->lock);
    tr_actor *a;
    troupe_addr who;
    int inl;
    int rc =
        s_spawn(n, NULL, spec, w, 0, TROUPE_ADDR_NONE, NULL, &a, &who, &inl);
    if (rc) {
        tr_waiter_release(w);
        tr_waiter_release(w);
        return rc;
    }
    pthread_mutex_lock(&n->lock);
    n->roots[n->n_roots++] = who;
    pthread_mutex_unlock(&n->lock);
    rc = tr_waiter_wait(w, deadline);
    if (rc == 0)
        *addr = who;
    else if (rc == TROUPE_ETIMEDOUT)
        // An init still running ends when it returns (its answer finds
        // nobody waiting); a start held by troupe_hold has no such moment:
        // stop it. (Gone already: the stop finds nobody, and is dropped.)
        (void)troupe_node_stop_actor(n, who, TROUPE_ETIMEDOUT);
    return rc;
}

TROUPE_API troupe_addr troupe_self(const troupe_ctx *cx)
{
    return cx && cx->actor ? cx->actor->addr : TROUPE_ADDR_NONE;
}

TROUPE_API troupe_node *troupe_ctx_node(const troupe_ctx *cx)
{
    return cx ? cx->port->node : NULL;
}

TROUPE_API const troupe_msg *troupe_ctx_msg(const troupe_ctx *cx)
{
    return cx ? cx->msg : NULL;
}

TROUPE_API int troupe_exit(troupe_ctx *cx, int reason)
{
    if (!cx || !cx->actor)
        return TROUPE_EINVAL;
    tr_actor_exit(cx->port, cx->actor, reason);
    return 0;
}

TROUPE_API int troupe_hold(troupe_ctx *cx)
{
    if (!cx || !cx->actor || (cx->actor->flags & TR_ACT_CLIENT))
        return TROUPE_EINVAL;
    tr_actor *a = cx->actor;
    if (!(a->flags & TR_ACT_STARTED)) // in init
        a->flags |= TR_ACT_START_HELD;
    a->flags |= TR_ACT_HELD;
    return 0;
}

TROUPE_API int troupe_resume(troupe_ctx *cx)
{
    if (!cx || !cx->actor || (cx->actor->flags & TR_ACT_CLIENT))
        return TROUPE_EINVAL;
    tr_actor *a = cx->actor;
    if (!(a->flags & TR_ACT_HELD))
        return 0;
    a->flags &= ~(uint32_t)TR_ACT_HELD;
    if (!(a->flags & TR_ACT_STARTED)) { // held and resumed in init
        a->flags &= ~(uint32_t)TR_ACT_START_HELD;
        return 0;
    }
    if (a->flags & TR_ACT_START_HELD) {
        a->flags &= ~(uint32_t)TR_ACT_START_HELD;
        tr_report_started(cx); // supervised: "$started" now
        s_answer_spawner(cx->port, a, 0);
    }
    if (a->mb_head)
        tr_actor_schedule(cx->port, a);
    return 0;
}

TROUPE_API int troupe_stop(troupe_ctx *cx, troupe_addr who, int reason)
{
    if (!cx || !troupe_addr_valid(who))
        return TROUPE_EINVAL;
    if (cx->no_send)
        return TROUPE_ESTATE;
    if (troupe_addr_eq(who, cx->actor->addr))
        return troupe_exit(cx, reason);
    return tr_send_system(cx->port->node, who, TR_SYS_STOP, (uint64_t)reason,
                          NULL);
}

TROUPE_API int troupe_node_stop_actor(troupe_node *n, troupe_addr who,
                                      int reason)
{
    if (!n || !troupe_addr_valid(who))
        return TROUPE_EINVAL;
    return tr_send_system(n, who, TR_SYS_STOP, (uint64_t)reason, NULL);
}

TROUPE_API int troupe_register(troupe_node *n, const char *name,
                               troupe_addr who)
{
    troupe_addr old;
    size_t len;
    if (!n || !name || tr_tag_check(name, &n->limits, &len) || len == 0)
        return TROUPE_EINVAL;
    tr_slot *s = tr_slots_get(&n->slots, who.slot);
    if (!s || tr_slot_check(s, who.incarnation))
        return TROUPE_EDEAD;
    // A name given here is not the actor's own, so it is not dropped when
    // the actor ends; a stale one is dropped by the lookup below.
    int rc = tr_registry_add(&n->names, name, len, who);
    if (rc == TROUPE_EEXIST && troupe_whereis(n, name, &old) == TROUPE_ENOENT)
        rc = tr_registry_add(&n->names, name, len, who);
    return rc;
}

TROUPE_API int troupe_unregister(troupe_node *n, const char *name)
{
    if (!n || !name)
        return TROUPE_EINVAL;
    return tr_registry_remove(&n->names, name);
}

int tr_whereis_n(troupe_node *n, const char *name, size_t len, troupe_addr *who)
{
    // No name registered here is that long, or holds a NUL byte (which
    // would make it another, shorter name).
    if (len == 0 || len > n->limits.max_tag_len || memchr(name, 0, len))
        return TROUPE_ENOENT;
    char small[256];
    char *buf = len < sizeof small ? small : malloc(len + 1);
    if (!buf)
        return TROUPE_ENOMEM;
    memcpy(buf, name, len);
    buf[len] = '\0';
    int rc = troupe_whereis(n, buf, who);
    if (buf != small)
        free(buf);
    return rc;
}

TROUPE_API int troupe_whereis(troupe_node *n, const char *name,
                              troupe_addr *who)
{
    if (!n || !name || !who)
        return TROUPE_EINVAL;
    troupe_addr a;
    int rc = tr_registry_find(&n->names, name, &a);
    if (rc)
        return rc;
    tr_slot *s = tr_slots_get(&n->slots, a.slot);
    if (!s || tr_slot_check(s, a.incarnation)) {
        tr_registry_drop(&n->names, name, a); // a stale name from outside
        return TROUPE_ENOENT;
    }
    *who = a;
    return 0;
}
