// SPDX-License-Identifier: MIT
//
// Ports, actors layer: the thread-side end of messaging. A port is an inbox
// (a zmq PULL socket bound at inproc://troupe-<node>-<port>-<gen>) plus the
// PUSH sockets its thread uses to reach other ports, and the run queue and
// timers of the actors it owns. Loops, isolated actors and client handles are
// all ports; in-process hops carry a message pointer, so nothing is encoded.
// Also: the waiter used by foreign threads, and the port's request table.
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <zmq.h>

#include "clock.h"
#include "node_internal.h"

static _Thread_local tr_port *s_current
    __attribute__((tls_model("initial-exec")));

// Messages handled between two reads of the inbox while actors are ready.
#define TR_INBOX_EVERY 256

tr_port *tr_port_current(void)
{
    return s_current;
}

// ---- waiters ----

tr_waiter *tr_waiter_new(void)
{
    tr_waiter *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    w->refs = 2;
    return w;
}

void tr_waiter_release(tr_waiter *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    int last = --w->refs == 0;
    pthread_mutex_unlock(&w->mu);
    if (last) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
    }
}

int tr_waiter_wait(tr_waiter *w, int64_t deadline)
{
    pthread_mutex_lock(&w->mu);
    while (!w->done) {
        if (deadline == TROUPE_FOREVER) {
            pthread_cond_wait(&w->cv, &w->mu);
            continue;
        }
        int64_t now = troupe_now();
        if (deadline <= now)
            break;
        int64_t ns = tr_now_ns() + (deadline - now) * 1000000;
        struct timespec ts = {.tv_sec = ns / 1000000000,
                              .tv_nsec = ns % 1000000000};
        pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    }
    int rc = w->done ? w->rc : TROUPE_ETIMEDOUT;
    if (!w->done)
        w->abandoned = 1;
    pthread_mutex_unlock(&w->mu);
    tr_waiter_release(w);
    return rc;
}

int tr_waiter_signal(tr_waiter *w, int rc)
{
    pthread_mutex_lock(&w->mu);
    int abandoned = w->abandoned;
    if (!w->done) {
        w->done = 1;
        w->rc = rc;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return abandoned;
}

// ---- the request table ----

int tr_pend_add(tr_port *p, tr_pending *pd)
{
    if (p->pend_len + 1 > p->pend_cap / 2) {
        size_t cap = p->pend_cap ? p->pend_cap * 2 : 64;
        tr_pending **b = calloc(cap, sizeof *b);
        if (!b)
            return TROUPE_ENOMEM;
        for (size_t i = 0; i < p->pend_cap; i++) {
            tr_pending *e = p->pend[i];
            while (e) {
                tr_pending *next = e->hnext;
                e->hnext = b[e->corr & (cap - 1)];
                b[e->corr & (cap - 1)] = e;
                e = next;
            }
        }
        free(p->pend);
        p->pend = b;
        p->pend_cap = cap;
    }
    tr_pending **head = &p->pend[pd->corr & (p->pend_cap - 1)];
    pd->hnext = *head;
    *head = pd;
    p->pend_len++;
    return 0;
}

tr_pending *tr_pend_take(tr_port *p, uint64_t corr)
{
    if (!p->pend_cap)
        return NULL;
    tr_pending **e = &p->pend[corr & (p->pend_cap - 1)];
    while (*e && (*e)->corr != corr)
        e = &(*e)->hnext;
    tr_pending *pd = *e;
    if (pd) {
        *e = pd->hnext;
        p->pend_len--;
    }
    return pd;
}

// ---- opening and closing ----

static void s_endpoint(const tr_port *p, uint32_t gen, char *buf, size_t n)
{
    snprintf(buf, n, "inproc://troupe-%u-%u-%u", p->node->id, p->id, gen);
}

int tr_port_open(troupe_node *n, int kind, tr_port **out)
{
    pthread_mutex_lock(&n->lock);
    // Loops take ids 0..n_loops-1 in order; other ports the first free id.
    uint32_t first = kind == TR_PORT_LOOP ? 0 : n->n_loops;
    tr_port *p = NULL;
    for (uint32_t i = first; i < n->max_ports; i++) {
        tr_port *c = atomic_load(&n->ports[i]);
        if (!c) {
            c = calloc(1, sizeof *c);
            if (!c) {
                pthread_mutex_unlock(&n->lock);
                return TROUPE_ENOMEM;
            }
            c->node = n;
            c->id = i;
            pthread_mutex_init(&c->fq_lock, NULL);
            c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
            if (c->efd < 0) {
                pthread_mutex_destroy(&c->fq_lock);
                free(c);
                pthread_mutex_unlock(&n->lock);
                return TROUPE_ESYS;
            }
            atomic_store(&n->ports[i], c);
        }
        if (atomic_load(&c->state) == TR_PORT_FREE &&
            (!c->has_thread || atomic_load(&c->thread_done))) {
            p = c;
            break;
        }
    }
    if (!p) {
        pthread_mutex_unlock(&n->lock);
        atomic_fetch_add(&n->limits_hit, 1);
        tr_logf(&n->log, TROUPE_LOG_WARN,
                "max_ports (%u) reached: no thread or client can be added",
                n->max_ports);
        return TROUPE_ELIMIT;
    }
    if (p->has_thread) { // the last user of this port id has returned
        pthread_join(p->thread, NULL);
        p->has_thread = 0;
    }
    p->kind = kind;
    uint32_t gen = atomic_load(&p->gen) + 1;
    char ep[96];
    s_endpoint(p, gen, ep, sizeof ep);
    int rc = tr_sock_open(&n->zctx, ZMQ_PULL, &p->inbox);
    if (rc == 0 && (rc = tr_sock_bind(p->inbox, ep)) != 0)
        tr_sock_close(&n->zctx, &p->inbox);
    if (rc) {
        pthread_mutex_unlock(&n->lock);
        return rc;
    }
    p->rq_head = p->rq_tail = NULL;
    p->first = p->last = NULL;
    p->n_actors = 0;
    p->quit = 0;
    p->quit_waiter = NULL;
    p->local_head = p->local_tail = NULL;
    p->watch_sock = NULL;
    p->next_corr = 0;
    p->next_id = 0;
    tr_timers_init(&p->timers);
    atomic_store(&p->thread_done, 0);
    atomic_store(&p->gen, gen);
    atomic_store(&p->state, TR_PORT_OPEN);
    pthread_mutex_unlock(&n->lock);
    *out = p;
    return 0;
}

static void s_close_outboxes(tr_port *p)
{
    for (uint32_t i = 0; i < p->n_out; i++)
        tr_sock_close(&p->node->zctx, &p->out[i].sock);
    free(p->out);
    p->out = NULL;
    p->n_out = 0;
}

void tr_port_close(tr_port *p)
{
    troupe_node *n = p->node;
    atomic_store(&p->state, TR_PORT_CLOSING);
    // Senders that saw the port open finish their zmq_send first; after
    // that nothing new can enter the inbox, and draining empties it.
    while (atomic_load(&p->inflight) != 0)
        sched_yield();
    while (tr_port_drain(p, 0) > 0)
        ;
    while (p->local_head) { // system messages to itself, not yet run
        troupe_msg *m = p->local_head;
        p->local_head = m->next;
        tr_dead_letter(p, m);
    }
    tr_sock_close(&n->zctx, &p->inbox);
    s_close_outboxes(p);
    tr_timers_fini(&p->timers);
    free(p->pend);
    p->pend = NULL;
    p->pend_cap = p->pend_len = 0;
    tr_node_retire_counters(n, &p->ctr);
    pthread_mutex_lock(&n->lock);
    atomic_store(&p->state, TR_PORT_FREE);
    pthread_mutex_unlock(&n->lock);
}

// ---- moving pointers between ports ----

static int s_outbox(tr_port *from, tr_port *to, uint32_t gen, void **sock)
{
    troupe_node *n = from->node;
    if (to->id >= from->n_out) {
        uint32_t cap = to->id + 8;
        tr_outbox *o = realloc(from->out, cap * sizeof *o);
        if (!o)
            return TROUPE_ENOMEM;
        memset(o + from->n_out, 0, (cap - from->n_out) * sizeof *o);
        from->out = o;
        from->n_out = cap;
    }
    tr_outbox *o = &from->out[to->id];
    if (o->sock && o->gen == gen) {
        *sock = o->sock;
        return 0;
    }
    tr_sock_close(&n->zctx, &o->sock);
    char ep[96];
    s_endpoint(to, gen, ep, sizeof ep);
    int rc = tr_sock_open(&n->zctx, ZMQ_PUSH, &o->sock);
    if (rc == 0 && (rc = tr_sock_connect(o->sock, ep)) != 0)
        tr_sock_close(&n->zctx, &o->sock);
    if (rc)
        return rc;
    o->gen = gen;
    *sock = o->sock;
    return 0;
}

int tr_port_push(tr_port *from, uint32_t pid, troupe_msg *m)
{
    troupe_node *n = from ? from->node : NULL;
    if (!n)
        return TROUPE_EINVAL;
    if (pid >= n->max_ports)
        return TROUPE_EDEAD;
    tr_port *to = atomic_load(&n->ports[pid]);
    if (!to)
        return TROUPE_EDEAD;
    atomic_fetch_add(&to->inflight, 1);
    int rc;
    if (atomic_load(&to->state) != TR_PORT_OPEN) {
        rc = TROUPE_EDEAD;
    } else {
        uint32_t gen = atomic_load(&to->gen);
        void *sock;
        rc = s_outbox(from, to, gen, &sock);
        if (rc == 0)
            rc = tr_sock_send_ptr(sock, m, 0);
    }
    atomic_fetch_sub(&to->inflight, 1);
    return rc;
}

void tr_port_post_local(tr_port *p, troupe_msg *m)
{
    m->next = NULL;
    if (p->local_tail)
        p->local_tail->next = m;
    else
        p->local_head = m;
    p->local_tail = m;
}

// For foreign threads (no port): same protocol, into the foreign queue.
int tr_port_push_foreign(troupe_node *n, uint32_t pid, troupe_msg *m)
{
    if (pid >= n->max_ports)
        return TROUPE_EDEAD;
    tr_port *to = atomic_load(&n->ports[pid]);
    if (!to)
        return TROUPE_EDEAD;
    atomic_fetch_add(&to->inflight, 1);
    int rc = TROUPE_EDEAD;
    if (atomic_load(&to->state) == TR_PORT_OPEN) {
        m->next = NULL;
        pthread_mutex_lock(&to->fq_lock);
        if (to->fq_tail)
            to->fq_tail->next = m;
        else
            to->fq_head = m;
        to->fq_tail = m;
        atomic_store(&to->fq_pending, 1);
        pthread_mutex_unlock(&to->fq_lock);
        uint64_t one = 1;
        rc = write(to->efd, &one, sizeof one) == sizeof one ? 0 : 0;
    }
    atomic_fetch_sub(&to->inflight, 1);
    return rc;
}

static int s_drain_foreign(tr_port *p)
{
    if (!atomic_load(&p->fq_pending))
        return 0;
    uint64_t v;
    if (read(p->efd, &v, sizeof v) < 0) { // nothing to clear: fine
    }
    pthread_mutex_lock(&p->fq_lock);
    troupe_msg *m = p->fq_head;
    p->fq_head = p->fq_tail = NULL;
    atomic_store(&p->fq_pending, 0);
    pthread_mutex_unlock(&p->fq_lock);
    int got = 0;
    while (m) {
        troupe_msg *next = m->next;
        tr_accept(p, m);
        m = next;
        got++;
    }
    return got;
}

int tr_port_wait(tr_port *p, long timeout)
{
    zmq_pollitem_t it[3] = {
        {.socket = p->inbox, .events = ZMQ_POLLIN},
        {.socket = NULL, .fd = p->efd, .events = ZMQ_POLLIN},
        {.socket = p->watch_sock, .events = ZMQ_POLLIN},
    };
    if (zmq_poll(it, p->watch_sock ? 3 : 2, timeout) < 0 &&
        zmq_errno() != EINTR) {
        tr_logf(&p->node->log, TROUPE_LOG_ERROR, "port %u: poll: %s", p->id,
                zmq_strerror(zmq_errno()));
        return TROUPE_ESYS;
    }
    return 0;
}

int tr_port_drain(tr_port *p, int max)
{
    int got = s_drain_foreign(p);
    while (max == 0 || got < max) {
        void *v;
        int rc = tr_sock_recv_ptr(p->inbox, &v, ZMQ_DONTWAIT);
        if (rc == TROUPE_EAGAIN)
            break;
        if (rc) {
            TR_BUMP(p->ctr.malformed);
            tr_logf(&p->node->log, TROUPE_LOG_ERROR,
                    "port %u: inbox receive failed: %s", p->id,
                    troupe_strerror(rc));
            break;
        }
        got++;
        tr_accept(p, v);
    }
    return got;
}

// ---- the loop ----

long tr_port_turn(tr_port *p)
{
    // System messages a port sent to itself run here, outside any handler.
    while (p->local_head) {
        troupe_msg *m = p->local_head;
        p->local_head = m->next;
        if (!p->local_head)
            p->local_tail = NULL;
        tr_accept(p, m);
    }
    tr_timer *t = tr_timers_peek(&p->timers);
    int64_t now = t ? troupe_now() : 0; // no clock read without timers
    while ((t = tr_timers_peek(&p->timers)) && t->when <= now) {
        tr_timers_remove(&p->timers, t);
        tr_timer_fire(p, t);
    }
    // Run the actors that were ready at the start of this turn; those that
    // become ready meanwhile wait for the next turn, after the inbox.
    tr_actor *end = p->rq_tail;
    while (p->rq_head) {
        tr_actor *a = p->rq_head;
        p->rq_head = a->rq_next;
        if (!p->rq_head)
            p->rq_tail = NULL;
        a->rq_next = NULL;
        a->flags &= ~(uint32_t)TR_ACT_QUEUED;
        tr_actor_run(p, a);
        if (a == end)
            break;
    }
    if (p->rq_head || p->local_head)
        return 0;
    t = tr_timers_peek(&p->timers);
    if (!t)
        return -1;
    int64_t wait = t->when - troupe_now();
    return wait < 0 ? 0 : (long)(wait > 3600000 ? 3600000 : wait);
}

static void *s_port_main(void *arg)
{
    tr_port *p = arg;
    troupe_node *n = p->node;
    s_current = p;
    // An empty zmq_recv costs zmq a poll() syscall, so while actors are
    // ready the inbox is read only after TR_INBOX_EVERY messages were
    // handled; before the loop sleeps it is always read.
    while (!p->quit) {
        if (!p->rq_head || p->since_inbox >= TR_INBOX_EVERY) {
            p->since_inbox = 0;
            tr_port_drain(p, 256);
            if (p->watch_sock)
                p->watch_ready(p, p->watch_arg);
        } else if (atomic_load_explicit(&p->fq_pending, memory_order_relaxed)) {
            tr_port_drain(p, 1); // the foreign queue is cheap to look at
        }
        long timeout = tr_port_turn(p);
        if (p->quit)
            break;
        if (timeout != 0 && tr_port_wait(p, timeout) != 0)
            break;
    }
    tr_port_stop_actors(p, TROUPE_ESHUTDOWN);
    tr_port_close(p); // may take in a quit that came meanwhile
    tr_waiter *w = p->quit_waiter;
    p->quit_waiter = NULL;
    tr_msg_scratch_release();
    s_current = NULL;
    atomic_fetch_sub(&n->live_threads, 1);
    if (w) {
        tr_waiter_signal(w, 0);
        tr_waiter_release(w);
    }
    atomic_store(&p->thread_done, 1);
    return NULL;
}

int tr_port_start_thread(tr_port *p)
{
    atomic_fetch_add(&p->node->live_threads, 1);
    p->has_thread = 1;
    int e = pthread_create(&p->thread, NULL, s_port_main, p);
    if (e) {
        p->has_thread = 0;
        atomic_fetch_sub(&p->node->live_threads, 1);
        return TROUPE_ESYS;
    }
    return 0;
}
