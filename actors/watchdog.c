// SPDX-License-Identifier: MIT
//
// The watchdog, actors layer (see watchdog.h). A port running a handler of
// an actor with a budget publishes, in a few relaxed atomics, which actor,
// which tag and since when; the watchdog thread reads them every
// watchdog_ms and reports a run past its budget once, while it still runs.
// Only budgeted actors pay for this (a handful of stores per message).
// Abandoning an isolated port is here too: it is what a supervisor does
// with an isolated child the watchdog found hung.
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "node_internal.h"

// ---- the port's side ----

// Inlined: called per message, where a call to memcmp or to the exported
// troupe_addr_eq showed in profiles of message streams.
static inline bool s_addr_eq(troupe_addr a, troupe_addr b)
{
    return a.slot == b.slot && a.incarnation == b.incarnation &&
           a.node == b.node;
}

static void s_tag_publish(tr_port *p, const troupe_msg *m)
{
    uint64_t w[8] = {0};
    size_t n = m->tag_len < sizeof w - 1 ? m->tag_len : sizeof w - 1;
    if (n == p->wd_tag_len) {
        const char *t = (const char *)p->wd_tag;
        size_t i = 0;
        while (i < n && m->data[i] == t[i])
            i++;
        if (i == n)
            return; // the watchdog sees it already
    }
    memcpy(w, m->data, n);
    memcpy(p->wd_tag, w, sizeof w);
    p->wd_tag_len = n;
    for (int i = 0; i < 8; i++)
        atomic_store_explicit(&p->busy_tag[i], w[i], memory_order_relaxed);
}

static void s_tag_read(tr_port *p, char out[64])
{
    uint64_t w[8];
    for (int i = 0; i < 8; i++)
        w[i] = atomic_load_explicit(&p->busy_tag[i], memory_order_relaxed);
    memcpy(out, w, 64);
    out[63] = '\0';
}

void tr_watchdog_enter(tr_port *p, tr_actor *a, const troupe_msg *m,
                       uint64_t t0)
{
    // The actor's identity, unless it is there from its last message. (Its
    // budget is set before it runs; its supervisor can change, when it is
    // adopted.)
    int sup = (a->flags & TR_ACT_KEEP) != 0;
    troupe_addr sup_addr = sup ? a->supervisor : TROUPE_ADDR_NONE;
    if (p->wd_actor != a || !s_addr_eq(p->wd_addr, a->addr) ||
        !s_addr_eq(p->wd_sup, sup_addr)) {
        atomic_store_explicit(&p->busy_slot, a->addr.slot,
                              memory_order_relaxed);
        atomic_store_explicit(&p->busy_inc, a->addr.incarnation,
                              memory_order_relaxed);
        atomic_store_explicit(&p->busy_sup_slot, sup_addr.slot,
                              memory_order_relaxed);
        atomic_store_explicit(&p->busy_sup_inc, sup_addr.incarnation,
                              memory_order_relaxed);
        atomic_store_explicit(&p->busy_budget_ns,
                              (uint64_t)a->budget_ms * 1000000u,
                              memory_order_relaxed);
        p->wd_actor = a;
        p->wd_addr = a->addr;
        p->wd_sup = sup_addr;
    }
    s_tag_publish(p, m);
    TR_BUMP(p->busy_runs);
    atomic_store_explicit(&p->busy_t0, t0 ? t0 : 1, memory_order_release);
}

static void s_report(troupe_node *n, const char *when, uint32_t slot,
                     uint32_t inc, const char *tag, uint64_t ns,
                     uint64_t budget_ns, int shared)
{
    tr_logf(&n->log, TROUPE_LOG_WARN,
            "actor %u.%u: handler for \"%s\" %s %llu ms, past its budget of "
            "%llu ms%s",
            slot, inc, tag, when, (unsigned long long)(ns / 1000000),
            (unsigned long long)(budget_ns / 1000000),
            shared ? " (a shared loop cannot be preempted: every actor on "
                     "it waited; make this actor isolated)"
                   : "");
    atomic_fetch_add(&n->budget_overruns, 1); // after the log: as stats say
}

void tr_watchdog_leave(tr_port *p, tr_actor *a, const troupe_msg *m,
                       uint64_t t0, uint64_t t1)
{
    atomic_store_explicit(&p->busy_t0, 0, memory_order_release);
    if (!p->ticks_per_ms) // once: a clock read is dearer than a handler
        p->ticks_per_ms = tr_ns_to_ticks(1000000);
    uint64_t budget_ns = (uint64_t)a->budget_ms * 1000000u;
    if (t1 - t0 <= a->budget_ms * p->ticks_per_ms)
        return;
    uint64_t ns = tr_ticks_to_ns(t1 - t0);
    if (ns <= budget_ns)
        return;
    uint64_t run = atomic_load_explicit(&p->busy_runs, memory_order_relaxed);
    if (atomic_load_explicit(&p->busy_reported, memory_order_relaxed) == run)
        return; // the watchdog reported it while it ran
    atomic_store_explicit(&p->busy_reported, run, memory_order_relaxed);
    s_report(p->node, "took", a->addr.slot, a->addr.incarnation, m->data, ns,
             budget_ns, p->kind == TR_PORT_LOOP);
}

// ---- the watchdog's thread ----

// Tell the supervisor of a hung isolated actor ("$hung", body: the actor).
static void s_tell_supervisor(troupe_node *n, troupe_addr who, troupe_addr sup)
{
    troupe_msg *m = tr_msg_new(TROUPE_MSG_TELL, "$hung", 5, NULL, 0);
    if (!m)
        return;
    m->from = who;
    m->to = sup;
    tr_route(n, NULL, m);
}

int tr_overrun_now(troupe_node *n, troupe_addr who)
{
    tr_slot *s = tr_slots_get(&n->slots, who.slot);
    if (!s || who.node != 0 || tr_slot_check(s, who.incarnation) != 0)
        return 0;
    uint32_t pid = atomic_load_explicit(&s->port, memory_order_relaxed);
    tr_port *p = pid < n->max_ports ? atomic_load(&n->ports[pid]) : NULL;
    if (!p)
        return 0;
    uint64_t t0 = atomic_load_explicit(&p->busy_t0, memory_order_acquire);
    uint64_t now = tr_ticks();
    if (!t0 || t0 > now ||
        atomic_load_explicit(&p->busy_slot, memory_order_relaxed) != who.slot ||
        atomic_load_explicit(&p->busy_inc, memory_order_relaxed) !=
            who.incarnation)
        return 0;
    return tr_ticks_to_ns(now - t0) >
           atomic_load_explicit(&p->busy_budget_ns, memory_order_relaxed);
}

static void s_check_port(troupe_node *n, tr_port *p, uint64_t now)
{
    uint64_t run = atomic_load_explicit(&p->busy_runs, memory_order_acquire);
    uint64_t t0 = atomic_load_explicit(&p->busy_t0, memory_order_acquire);
    if (!t0 || t0 > now ||
        atomic_load_explicit(&p->busy_reported, memory_order_relaxed) == run)
        return;
    uint64_t ns = tr_ticks_to_ns(now - t0);
    uint64_t budget =
        atomic_load_explicit(&p->busy_budget_ns, memory_order_relaxed);
    if (ns <= budget)
        return;
    troupe_addr who = {
        0, atomic_load_explicit(&p->busy_slot, memory_order_relaxed),
        atomic_load_explicit(&p->busy_inc, memory_order_relaxed)};
    troupe_addr sup = {
        0, atomic_load_explicit(&p->busy_sup_slot, memory_order_relaxed),
        atomic_load_explicit(&p->busy_sup_inc, memory_order_relaxed)};
    char tag[64];
    s_tag_read(p, tag);
    // What we read belongs to one run only if no other run began meanwhile.
    if (atomic_load_explicit(&p->busy_runs, memory_order_acquire) != run ||
        atomic_load_explicit(&p->busy_t0, memory_order_acquire) != t0)
        return;
    atomic_store_explicit(&p->busy_reported, run, memory_order_relaxed);
    s_report(
        n, "still running after", who.slot, who.incarnation, tag, ns, budget,
        atomic_load_explicit(&p->kind, memory_order_relaxed) == TR_PORT_LOOP);
    if (atomic_load_explicit(&p->kind, memory_order_relaxed) ==
            TR_PORT_ISOLATED &&
        sup.slot)
        s_tell_supervisor(n, who, sup); // it replaces the actor
}

static void *s_main(void *arg)
{
    troupe_node *n = arg;
    tr_watchdog *w = &n->watchdog;
    pthread_mutex_lock(&w->lock);
    while (!w->quit) {
        int64_t at = tr_now_ns() + n->opts.watchdog_ms * 1000000;
        struct timespec ts = {at / 1000000000, at % 1000000000};
        pthread_cond_timedwait(&w->cv, &w->lock, &ts);
        if (w->quit)
            break;
        pthread_mutex_unlock(&w->lock);
        uint64_t now = tr_ticks();
        for (uint32_t i = 0; i < n->max_ports; i++) {
            tr_port *p =
                atomic_load_explicit(&n->ports[i], memory_order_acquire);
            if (p &&
                atomic_load_explicit(&p->state, memory_order_acquire) ==
                    TR_PORT_OPEN &&
                atomic_load_explicit(&p->kind, memory_order_relaxed) !=
                    TR_PORT_CLIENT)
                s_check_port(n, p, now);
        }
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int tr_watchdog_start(troupe_node *n)
{
    tr_watchdog *w = &n->watchdog;
    if (n->opts.watchdog_ms == 0)
        return 0;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); // as tr_now_ns
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&w->lock, NULL);
    w->quit = 0;
    atomic_fetch_add(&n->live_threads, 1);
    if (pthread_create(&w->thread, NULL, s_main, n) != 0) {
        atomic_fetch_sub(&n->live_threads, 1);
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->lock);
        return TROUPE_ESYS;
    }
    w->running = 1;
    return 0;
}

void tr_watchdog_stop(troupe_node *n)
{
    tr_watchdog *w = &n->watchdog;
    if (!w->running)
        return;
    pthread_mutex_lock(&w->lock);
    w->quit = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    w->running = 0;
    atomic_fetch_sub(&n->live_threads, 1);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->lock);
}

// ---- abandoning an isolated port ----

int tr_abandon(troupe_node *n, troupe_addr who, const char *name)
{
    tr_slot *s = tr_slots_get(&n->slots, who.slot);
    if (!s || who.node != 0 || tr_slot_check(s, who.incarnation) != 0)
        return TROUPE_EDEAD;
    uint32_t pid = atomic_load_explicit(&s->port, memory_order_relaxed);
    tr_port *p = pid < n->max_ports ? atomic_load(&n->ports[pid]) : NULL;
    if (!p || p->kind != TR_PORT_ISOLATED)
        return TROUPE_ENOTSUP;
    // The flag first: from now on the port drops what its thread sends.
    atomic_store(&p->abandoned, 1);
    if (tr_slot_kill_inc(s, who.incarnation) != 0)
        return TROUPE_EDEAD; // it ended by itself meanwhile
    if (name)
        tr_registry_drop(&n->names, name, who);
    tr_logf(&n->log, TROUPE_LOG_WARN,
            "isolated actor %u.%u%s%s abandoned: its thread ends on its own "
            "if it ever returns, and whatever it sends is dropped",
            who.slot, who.incarnation, name ? " " : "", name ? name : "");
    // If its thread is only waiting, a quit ends it now.
    troupe_msg *q = tr_msg_new(TROUPE_MSG_SYSTEM, "", 0, NULL, 0);
    if (q) {
        q->code = TR_SYS_QUIT;
        if (tr_port_push_foreign(n, pid, q) != 0)
            tr_msg_free(q);
    }
    return 0;
}

void tr_port_abandoned(tr_port *p)
{
    for (tr_actor *a = p->first; a; a = a->port_next) {
        // Its slot was killed by tr_abandon; nobody is told of its end.
        a->flags |= TR_ACT_FINAL | TR_ACT_SLOT_DEAD;
        tr_watch_free_all(&a->links);
        tr_watch_free_all(&a->watchers);
        tr_watch_free_all(&a->monitors);
    }
    p->quit = 1;
}
