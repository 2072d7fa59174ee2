// SPDX-License-Identifier: MIT
//
// Dispatch, actors layer: what a port does with a message that arrived
// (system operations, exit signals, mailboxes), how an actor handles its
// mailbox in batches, timers firing, and dead letters. Never frees an actor
// inside its own callback: an actor that is ending is marked, and ended by
// its next run.
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fault_internal.h"
#include "invariant.h"
#include "node_internal.h"
#include "restart.h"

static int s_is_counted_kind(uint8_t kind)
{
    return kind != TROUPE_MSG_SYSTEM && kind != TROUPE_MSG_TIMER &&
           kind != TROUPE_MSG_IO;
}

void tr_dead_letter(tr_port *p, troupe_msg *m)
{
    troupe_node *n = p->node;
    switch (m->kind) {
    case TROUPE_MSG_REQUEST:
        tr_reply_code(n, p, m, TROUPE_EDEAD);
        break;
    case TROUPE_MSG_REPLY:
    case TROUPE_MSG_ERROR:
        TR_BUMP(p->ctr.late);
        break;
    case TROUPE_MSG_SYSTEM:
        if (m->code == TR_SYS_ADOPT) { // the port closed before adopting
            tr_actor *a = m->ptr;
            tr_waiter *w = a->start_waiter;
            a->start_waiter = NULL;
            tr_actor_discard(n, a);
            if (w) {
                tr_waiter_signal(w, TROUPE_ESHUTDOWN);
                tr_waiter_release(w);
            }
        } else if (m->ptr) { // a stop or quit that someone waits for
            tr_waiter *w = m->ptr;
            tr_waiter_signal(w, m->code == TR_SYS_QUIT ? 0 : TROUPE_EDEAD);
            tr_waiter_release(w);
        } else if (m->code == TR_SYS_MONITOR) { // answer: it is gone
            troupe_msg *d = tr_msg_new(TROUPE_MSG_DOWN, "down", 4, NULL, 0);
            if (d) {
                d->to = m->from;
                d->from = m->to;
                d->code = TROUPE_EDEAD;
                d->ref = m->ref;
                tr_route(n, p, d);
            }
        } else if (m->code == TR_SYS_LINK) {
            troupe_msg *d = tr_msg_new(TROUPE_MSG_EXIT, "exit", 4, NULL, 0);
            if (d) {
                d->to = m->from;
                d->from = m->to;
                d->code = TROUPE_EDEAD;
                tr_route(n, p, d);
            }
        }
        break;
    default:
        break;
    }
    if (s_is_counted_kind(m->kind)) {
        TR_BUMP(p->ctr.dead);
        tr_logf(&n->log, TROUPE_LOG_DEBUG,
                "message \"%s\" (kind %d) to %u.%u.%u dead-lettered", m->data,
                m->kind, m->to.node, m->to.slot, m->to.incarnation);
    }
    tr_msg_free(m);
}

static tr_watch **s_find_watch(tr_watch **list, troupe_addr who, uint64_t ref)
{
    while (*list && !(troupe_addr_eq((*list)->who, who) &&
                      (ref == 0 || (*list)->ref == ref)))
        list = &(*list)->next;
    return list;
}

static tr_watch **s_find_ref(tr_watch **list, uint64_t ref)
{
    while (*list && (*list)->ref != ref)
        list = &(*list)->next;
    return list;
}

static void s_remove_watch(tr_watch **at)
{
    tr_watch *w = *at;
    if (w) {
        *at = w->next;
        free(w);
    }
}

static void s_enqueue(tr_port *p, tr_actor *a, troupe_msg *m);

// A stop for an actor that traps stops: an exit message tagged "stop" with
// the reason, from the stopper. Returns 0 if it could not be made (out of
// memory: the stop then applies as usual).
static int s_stop_as_message(tr_port *p, tr_actor *a, const troupe_msg *stop)
{
    troupe_msg *m = tr_msg_new(TROUPE_MSG_EXIT, "stop", 4, NULL, 0);
    if (!m)
        return 0;
    m->to = a->addr;
    m->from = stop->from;
    m->code = (int)(int64_t)stop->ref;
    TR_BUMP(p->ctr.sent); // made here, delivered or dead-lettered later
    s_enqueue(p, a, m);
    return 1;
}

static void s_system(tr_port *p, troupe_msg *m)
{
    if (m->code == TR_SYS_QUIT) {
        p->quit = 1;
        p->quit_waiter = m->ptr;
        tr_msg_free(m);
        return;
    }
    if (m->code == TR_SYS_ADOPT) {
        tr_actor *a = m->ptr;
        tr_msg_free(m);
        tr_actor_start(p, a);
        return;
    }
    tr_actor *a = tr_lookup(p, m->to);
    if (!a) {
        tr_dead_letter(p, m);
        return;
    }
    switch (m->code) {
    case TR_SYS_REVIVE:
    case TR_SYS_FINISH:
        tr_restart_system(p, a, m);
        break;
    case TR_SYS_STOP:
        if (m->ptr) {
            tr_waiter *w = m->ptr;
            w->next = a->exit_waiters;
            a->exit_waiters = w;
        }
        if ((a->flags & (TR_ACT_TRAP_STOP | TR_ACT_FINAL)) ==
                TR_ACT_TRAP_STOP &&
            (int)(int64_t)m->ref != TROUPE_EKILLED && // a kill is a kill
            s_stop_as_message(p, a, m))
            break; // a supervisor: it stops its children first
        if (a->flags & TR_ACT_PARKED) { // between two runs
            if (troupe_addr_eq(m->from, a->supervisor))
                break; // its supervisor: it ended already, its exit is on
                       // the way, and a revive may follow
            a->flags |= TR_ACT_FINAL; // anybody else: it ends for good
            tr_actor_terminate(p, a, (int)(int64_t)m->ref);
            break;
        }
        if (!(a->flags & TR_ACT_CLIENT))
            tr_actor_exit(p, a, (int)(int64_t)m->ref);
        else if (m->ptr) { // clients end only by troupe_client_destroy
            a->exit_waiters = ((tr_waiter *)m->ptr)->next;
            tr_waiter_signal(m->ptr, TROUPE_EINVAL);
            tr_waiter_release(m->ptr);
        }
        break;
    case TR_SYS_MONITOR:
        if (tr_watch_add(&a->watchers, m->from, m->ref))
            tr_logf(&p->node->log, TROUPE_LOG_ERROR,
                    "out of memory: monitor lost");
        break;
    case TR_SYS_DEMONITOR: // refs are unique per port: match the watcher too
        s_remove_watch(s_find_watch(&a->watchers, m->from, m->ref));
        break;
    case TR_SYS_LINK:
        if (tr_watch_add_once(&a->links, m->from))
            tr_logf(&p->node->log, TROUPE_LOG_ERROR,
                    "out of memory: link lost");
        break;
    case TR_SYS_UNLINK:
        s_remove_watch(s_find_watch(&a->links, m->from, 0));
        break;
    default:
        break;
    }
    tr_msg_free(m);
}

// What a held actor (troupe_hold) leaves in its mailbox.
static int s_is_held_kind(uint8_t kind)
{
    return kind == TROUPE_MSG_TELL || kind == TROUPE_MSG_REQUEST;
}

static void s_enqueue(tr_port *p, tr_actor *a, troupe_msg *m)
{
    m->next = NULL;
    if (a->mb_tail)
        a->mb_tail->next = m;
    else
        a->mb_head = m;
    a->mb_tail = m;
    if ((a->flags & TR_ACT_STARTED) &&
        !((a->flags & TR_ACT_HELD) && s_is_held_kind(m->kind)))
        tr_actor_schedule(p, a);
}

// An exit signal from a linked actor, applied on arrival as in Erlang: it
// does not wait behind the mailbox unless the actor traps exits.
static void s_exit_signal(tr_port *p, tr_actor *a, troupe_msg *m)
{
    tr_watch **at = s_find_watch(&a->links, m->from, 0);
    if (!*at) { // unlinked meanwhile
        TR_BUMP(p->ctr.dead);
        tr_msg_free(m);
        return;
    }
    s_remove_watch(at);
    if ((a->flags & TR_ACT_KEEP) && troupe_addr_eq(m->from, a->supervisor) &&
        m->code != 0)
        a->flags |= TR_ACT_FINAL; // its supervisor ended: no restart
    if (a->flags & TR_ACT_TRAP) {
        s_enqueue(p, a, m);
        return;
    }
    TR_BUMP(p->ctr.delivered);
    if (m->code != 0 && !(a->flags & TR_ACT_CLIENT))
        tr_actor_exit(p, a, m->code);
    tr_msg_free(m);
}

// Give m to a, an actor of this port that is alive.
static void s_accept_to(tr_port *p, tr_actor *a, troupe_msg *m)
{
    if ((a->flags & TR_ACT_PARKED) && tr_restart_intercept(p, a, m))
        return;
    if (a->fault && tr_fault_hold(p, a, m)) // a fault plan's delay
        return;
    if (m->kind == TROUPE_MSG_EXIT)
        s_exit_signal(p, a, m);
    else
        s_enqueue(p, a, m);
}

void tr_accept(tr_port *p, troupe_msg *m)
{
    if (m->kind == TROUPE_MSG_SYSTEM) {
        s_system(p, m);
        return;
    }
    tr_actor *a = tr_lookup(p, m->to);
    if (!a) {
        tr_dead_letter(p, m);
        return;
    }
    s_accept_to(p, a, m);
}

void tr_accept_n(tr_port *p, void *const *v, size_t k)
{
    // A batch from one sender's run is mostly for one actor: look it up
    // once per run of messages to the same address. The lookup reads the
    // slot word, the cache line that senders on other threads write with
    // each reservation: once per batch, not once per message. Only tells
    // and requests reuse it (nothing else in the batch can end the actor
    // while it runs: exits and system messages take the full path and
    // forget it).
    tr_actor *a = NULL;
    troupe_addr to = TROUPE_ADDR_NONE;
    for (size_t i = 0; i < k; i++) {
        troupe_msg *m = v[i];
        if (m->kind != TROUPE_MSG_TELL && m->kind != TROUPE_MSG_REQUEST) {
            a = NULL;
            tr_accept(p, m);
            continue;
        }
        if (!a || !troupe_addr_eq(m->to, to)) {
            to = m->to;
            if (!(a = tr_lookup(p, to))) {
                tr_dead_letter(p, m);
                continue;
            }
        }
        if (a->flags & TR_ACT_PARKED || a->fault) {
            s_accept_to(p, a, m);
            a = NULL;
            continue;
        }
        s_enqueue(p, a, m);
    }
}

// ---- handling ----

// Handler times are kept in ticks (tr_ticks) and turned into nanoseconds
// only when stats are read: two rdtsc per message instead of two
// clock_gettime calls.
static void s_record_time(tr_actor *a, uint64_t ticks)
{
    if (ticks >
        atomic_load_explicit(&a->handler_ticks_max, memory_order_relaxed))
        atomic_store_explicit(&a->handler_ticks_max, ticks,
                              memory_order_relaxed);
    unsigned b = 0;
    for (uint64_t x = ticks >> 8; x && b < 23; x >>= 1)
        b++;
    if (a->hist[b] == UINT16_MAX)
        for (int i = 0; i < 24; i++)
            a->hist[i] /= 2;
    a->hist[b]++;
}

static void s_call_handler(tr_port *p, tr_actor *a, troupe_msg *m)
{
    troupe_ctx *cx = &p->cx;
    cx->port = p;
    cx->actor = a;
    cx->msg = m;
    cx->no_send = 0;
    a->flags |= TR_ACT_RUNNING;
    // In a run, the last handler's end is this one's start (what lies
    // between, taking the message off the mailbox, counts to this one).
    uint64_t t0 = p->run_ticks ? p->run_ticks : tr_ticks();
    if (a->budget_ms) // the watchdog may look at this run
        tr_watchdog_enter(p, a, m, t0);
    int rc = a->fault ? tr_fault_handle(cx, a, m) // a fault plan's turn
                      : a->handler(cx, a->state, m);
    uint64_t t1 = tr_ticks();
    p->run_ticks = t1;
    s_record_time(a, t1 - t0);
    if (a->budget_ms)
        tr_watchdog_leave(p, a, m, t0, t1);
    a->flags &= ~(uint32_t)TR_ACT_RUNNING;
    cx->msg = NULL;
    cx->actor = NULL; // no callback runs: nothing may be signed by it
    if (rc > 0)
        rc = TROUPE_EINVAL;
    if (rc < 0)
        tr_actor_exit(p, a, rc);
    if ((a->flags & TR_ACT_EXITING) &&
        (a->flags & (TR_ACT_KEEP | TR_ACT_FINAL)) != TR_ACT_KEEP) {
        // Dead to senders now, before anyone hears of it: a requester told
        // TROUPE_EDEAD below must find the actor gone if it sends again.
        // (A supervised actor parks instead: its mailbox waits for the
        // next run, so a requester that tries again reaches that one.)
        tr_slot_kill(tr_slots_get(&p->node->slots, a->addr.slot));
        a->flags |= TR_ACT_SLOT_DEAD;
    }
    if (m->kind == TROUPE_MSG_REQUEST &&
        !(m->flags & (TR_MSG_REPLIED | TR_MSG_DEFERRED)))
        tr_reply_code(p->node, p, m, TROUPE_EDEAD); // never silence
}

static void s_handle(tr_port *p, tr_actor *a, troupe_msg *m)
{
    // The run gave the mailbox room back for m already (tr_actor_run).
    troupe_node *n = p->node;
    switch (m->kind) {
    case TROUPE_MSG_REPLY:
    case TROUPE_MSG_ERROR: {
        tr_pending *pd = tr_pend_take(p, m->corr);
        if (pd && TR_NEVER(pd->actor != a)) { // ids are unique per port
            tr_pend_add(p, pd);
            pd = NULL;
        }
        if (!pd) {
            TR_BUMP(p->ctr.late);
            TR_BUMP(p->ctr.dead);
            break;
        }
        TR_BUMP(p->ctr.delivered);
        tr_pending_finish(p, pd, m->kind == TROUPE_MSG_REPLY ? 0 : m->code,
                          m->kind == TROUPE_MSG_REPLY ? m : NULL);
        p->run_ticks = 0; // its callback's time is not the next handler's
        break;
    }
    case TROUPE_MSG_DOWN: {
        tr_watch **at = s_find_ref(&a->monitors, m->ref);
        if (!*at) { // demonitored: flushed
            TR_BUMP(p->ctr.dead);
            break;
        }
        s_remove_watch(at);
        TR_BUMP(p->ctr.delivered);
        TR_BUMP(a->n_received); // only its port writes it
        s_call_handler(p, a, m);
        break;
    }
    case TROUPE_MSG_IO:
        // Its fd is polled again after this run; if it was unwatched
        // meanwhile, the message is dropped.
        if (tr_io_rearm(p, m))
            s_call_handler(p, a, m);
        break;
    case TROUPE_MSG_REQUEST:
        if (m->deadline != TROUPE_FOREVER && m->deadline < troupe_now()) {
            // Expired before its handler ran: nobody waits for the answer.
            tr_reply_code(n, p, m, TROUPE_ETIMEDOUT);
            TR_BUMP(p->ctr.dead);
            break;
        }
        // fall through
    default:
        if (s_is_counted_kind(m->kind))
            TR_BUMP(p->ctr.delivered);
        TR_BUMP(a->n_received); // only its port writes it
        s_call_handler(p, a, m);
        break;
    }
    tr_msg_free(m);
}

// A held actor's run: up to a batch of what is not a tell or a request
// (answers to its requests, timers, fd events, down and exit messages),
// taken from wherever it is in the mailbox; tells and requests keep their
// places and their order. Stops early if the actor resumes or ends.
// Returns 1 if it may have left something it takes.
static int s_run_held(tr_port *p, tr_actor *a)
{
    uint32_t batch = p->node->opts.batch, k = 0;
    troupe_msg **at = &a->mb_head, *prev = NULL;
    p->run_ticks = 0;
    while (*at && (a->flags & (TR_ACT_HELD | TR_ACT_EXITING)) == TR_ACT_HELD) {
        troupe_msg *m = *at;
        if (s_is_held_kind(m->kind)) {
            prev = m;
            at = &m->next;
            continue;
        }
        if (k++ == batch)
            return 1;
        *at = m->next; // appending while m is handled goes after prev
        if (a->mb_tail == m)
            a->mb_tail = prev;
        if ((m->flags & TR_MSG_COUNTED) && !(a->flags & TR_ACT_SLOT_DEAD))
            tr_slot_take_n(tr_slots_get(&p->node->slots, a->addr.slot), 1);
        m->flags &= (uint8_t)~TR_MSG_COUNTED;
        p->since_inbox++;
        s_handle(p, a, m);
        if (atomic_load_explicit(&p->abandoned, memory_order_relaxed))
            break;
    }
    p->run_ticks = 0;
    return !(a->flags & TR_ACT_HELD) && a->mb_head; // resumed meanwhile
}

void tr_actor_run(tr_port *p, tr_actor *a)
{
    if (a->flags & TR_ACT_CLIENT)
        return;
    if ((a->flags & (TR_ACT_HELD | TR_ACT_STARTED | TR_ACT_EXITING)) ==
        (TR_ACT_HELD | TR_ACT_STARTED)) {
        int more = s_run_held(p, a);
        if (atomic_load_explicit(&p->abandoned, memory_order_relaxed))
            return; // given up on meanwhile: the loop ends it (watchdog.c)
        if (a->flags & TR_ACT_EXITING)
            tr_actor_terminate(p, a, a->exit_reason);
        else if (more)
            tr_actor_schedule(p, a);
        tr_port_flush(p);
        return;
    }
    uint32_t batch = p->node->opts.batch;
    // Give the mailbox room back for the whole batch at once: one atomic
    // write on the slot (a cache line the senders also write) per run, not
    // one per message. These messages are handled in this run, unless the
    // actor ends, and then its death resets the depth anyway.
    uint32_t taken = 0, k = 0;
    if (a->flags & TR_ACT_STARTED)
        for (troupe_msg *m = a->mb_head; m && k < batch; m = m->next, k++)
            if (m->flags & TR_MSG_COUNTED) {
                m->flags =
                    (uint8_t)((m->flags & ~TR_MSG_COUNTED) | TR_MSG_TAKEN);
                taken++;
            }
    if (taken && !(a->flags & TR_ACT_SLOT_DEAD))
        tr_slot_take_n(tr_slots_get(&p->node->slots, a->addr.slot), taken);
    // Only what was there when the run began (k messages): what the actor
    // sends itself meanwhile waits for its next run, after the others had
    // theirs. A sender that tells itself "continue" cannot starve the
    // receivers it is filling.
    p->run_ticks = 0; // read at the first handler, then once per message
    // A handler that holds the mailbox (troupe_hold) ends the run: the
    // rest of the batch waits, and counts in the mailbox's depth again.
    uint32_t i = 0;
    for (; i < k && !(a->flags & (TR_ACT_EXITING | TR_ACT_HELD)); i++) {
        troupe_msg *m = a->mb_head;
        if (!m || !(a->flags & TR_ACT_STARTED))
            break;
        a->mb_head = m->next;
        if (!a->mb_head)
            a->mb_tail = NULL;
        p->since_inbox++;
        s_handle(p, a, m);
        if (atomic_load_explicit(&p->abandoned, memory_order_relaxed)) {
            p->run_ticks = 0;
            return; // given up on meanwhile: the loop ends it (watchdog.c)
        }
    }
    p->run_ticks = 0;
    if (a->flags & TR_ACT_EXITING) {
        if (a->flags & TR_ACT_STARTED)
            tr_actor_terminate(p, a, a->exit_reason);
        return;
    }
    if (i < k) { // held: the rest of this run's batch is at the head
        uint32_t back = 0;
        troupe_msg *m = a->mb_head;
        for (uint32_t j = i; m && j < k; j++, m = m->next)
            if (m->flags & TR_MSG_TAKEN) {
                m->flags =
                    (uint8_t)((m->flags & ~TR_MSG_TAKEN) | TR_MSG_COUNTED);
                back++;
            }
        if (back && !(a->flags & TR_ACT_SLOT_DEAD))
            tr_slot_untake_n(tr_slots_get(&p->node->slots, a->addr.slot), back);
    }
    if (a->mb_head)
        tr_actor_schedule(p, a);
    tr_port_flush(p); // what it sent leaves when its run ends
}

// ---- timers ----

void tr_timer_fire(tr_port *p, tr_timer *t)
{
    if (t->type == TR_TIMER_FAULT) { // held messages are due (fault.c)
        tr_fault_timer(p, t);
        return;
    }
    if (t->type == TR_TIMER_REQUEST) {
        tr_pending *pd = t->ptr;
        tr_pend_take(p, pd->corr);
        tr_actor *a = pd->actor;
        tr_pending_finish(p, pd, TROUPE_ETIMEDOUT, NULL);
        if (a->flags & TR_ACT_EXITING)
            tr_actor_schedule(p, a);
        return;
    }
    tr_utimer *u = (tr_utimer *)t;
    tr_actor *a = u->actor;
    troupe_msg *m =
        tr_msg_new(TROUPE_MSG_TIMER, u->tag, strlen(u->tag), NULL, 0);
    if (m) {
        m->to = a->addr;
        m->ref = u->id;
        s_enqueue(p, a, m);
    } else {
        tr_logf(&p->node->log, TROUPE_LOG_ERROR, "out of memory: timer lost");
    }
    if (u->period > 0) {
        int64_t due = tr_timers_after(u->t.due, u->period);
        int64_t now = tr_now_ns();
        if (due < now) // fell behind: skip, do not burst
            due = tr_timers_after(now, u->period);
        if (tr_timers_add_ns(&p->timers, &u->t, due) == 0)
            return;
    }
    tr_utimer **pp = &a->timers;
    while (*pp && *pp != u)
        pp = &(*pp)->next;
    if (*pp)
        *pp = u->next;
    free(u);
}
