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
// Frames taken from the inbox at one look (64 messages each at most).
#define TR_TAKE_FRAMES_MAX 64

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
    p->batch_sends = kind == TR_PORT_LOOP;
    p->rcvtimeo = -1;   // zmq's default for a new socket
    p->inbox_quiet = 0; // not known yet
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
    p->next_corr = 0;
    p->next_id = 0;
    tr_timers_init(&p->timers);
    atomic_store(&p->thread_done, 0);
    atomic_store(&p->inbox_frames, 0);
    atomic_store(&p->gen, gen);
    atomic_store(&p->state, TR_PORT_OPEN);
    pthread_mutex_unlock(&n->lock);
    *out = p;
    return 0;
}

static void s_close_outboxes(tr_port *p)
{
    tr_port_flush(p);
    for (uint32_t i = 0; i < p->n_out; i++) {
        tr_sock_close(&p->node->zctx, &p->out[i].sock);
        free(p->out[i].batch);
    }
    free(p->out);
    p->out = NULL;
    p->n_out = 0;
    free(p->dirty);
    p->dirty = NULL;
    p->n_dirty = p->cap_dirty = 0;
}

void tr_port_close(tr_port *p)
{
    troupe_node *n = p->node;
    atomic_store(&p->state, TR_PORT_CLOSING);
    // Senders that saw the port open finish their zmq_send first; after
    // that nothing new can enter the inbox, and draining empties it.
    while (atomic_load(&p->inflight) != 0)
        sched_yield();
    while (tr_port_drain(p) > 0)
        ;
    while (p->local_head) { // system messages to itself, not yet run
        troupe_msg *m = p->local_head;
        p->local_head = m->next;
        tr_dead_letter(p, m);
    }
    tr_sock_close(&n->zctx, &p->inbox);
    s_close_outboxes(p);
    tr_timers_fini(&p->timers);
    tr_io_fini(&p->io);
    free(p->pend);
    p->pend = NULL;
    p->pend_cap = p->pend_len = 0;
    tr_node_retire_counters(n, &p->ctr);
    pthread_mutex_lock(&n->lock);
    atomic_store(&p->state, TR_PORT_FREE);
    pthread_mutex_unlock(&n->lock);
}

// ---- moving pointers between ports ----

// The outbox of `from` towards port id pid, grown on demand.
static tr_outbox *s_outbox_at(tr_port *from, uint32_t pid)
{
    if (pid >= from->n_out) {
        uint32_t cap = pid + 8;
        tr_outbox *o = realloc(from->out, cap * sizeof *o);
        if (!o)
            return NULL;
        memset(o + from->n_out, 0, (cap - from->n_out) * sizeof *o);
        from->out = o;
        from->n_out = cap;
    }
    return &from->out[pid];
}

static int s_outbox(tr_port *from, tr_port *to, uint32_t gen, void **sock)
{
    troupe_node *n = from->node;
    tr_outbox *o = s_outbox_at(from, to->id);
    if (!o)
        return TROUPE_ENOMEM;
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

// Send the batch waiting for port pid now, under the closing protocol: if
// that port closed meanwhile, its messages are dead-lettered here.
static void s_flush_one(tr_port *from, uint32_t pid)
{
    troupe_node *n = from->node;
    tr_outbox *o = &from->out[pid];
    uint32_t k = o->n;
    if (k == 0)
        return;
    o->n = 0;
    tr_port *to = atomic_load(&n->ports[pid]);
    atomic_fetch_add(&to->inflight, 1);
    int rc = TROUPE_EDEAD;
    if (atomic_load(&to->state) == TR_PORT_OPEN) {
        void *sock;
        rc = s_outbox(from, to, atomic_load(&to->gen), &sock);
        if (rc == 0)
            rc = tr_sock_send_ptrs(sock, (void *const *)o->batch, k, 0);
        if (rc == 0)
            atomic_fetch_add(&to->inbox_frames, 1);
    }
    atomic_fetch_sub(&to->inflight, 1);
    if (rc == 0)
        return;
    if (rc != TROUPE_EDEAD)
        tr_logf(&n->log, TROUPE_LOG_ERROR, "send to port %u failed: %s", pid,
                troupe_errname(rc));
    // Copy first: dead-lettering may send (an EDEAD answer) and so append
    // to this very outbox.
    troupe_msg *lost[TR_SOCK_BATCH_MAX];
    memcpy(lost, o->batch, k * sizeof *lost);
    for (uint32_t i = 0; i < k; i++)
        tr_dead_letter(from, lost[i]);
}

void tr_port_flush(tr_port *p)
{
    // Flushing may dead-letter, which may queue more: the list can grow
    // while it is walked, and an outbox may appear twice (then it is empty).
    for (uint32_t i = 0; i < p->n_dirty; i++)
        s_flush_one(p, p->dirty[i]);
    p->n_dirty = 0;
}

int tr_port_push(tr_port *from, uint32_t pid, troupe_msg *m)
{
    troupe_node *n = from ? from->node : NULL;
    if (!n)
        return TROUPE_EINVAL;
    if (pid >= n->max_ports)
        return TROUPE_EDEAD;
    tr_port *to = atomic_load(&n->ports[pid]);
    if (!to || atomic_load(&to->state) != TR_PORT_OPEN)
        return TROUPE_EDEAD;
    // Clients block next and isolated actors may block or compute in a
    // handler: what they send leaves at once. Loops (and the gateway)
    // batch, below.
    if (!from->batch_sends) {
        atomic_fetch_add(&to->inflight, 1);
        int rc = TROUPE_EDEAD;
        if (atomic_load(&to->state) == TR_PORT_OPEN) {
            void *sock;
            rc = s_outbox(from, to, atomic_load(&to->gen), &sock);
            if (rc == 0 && (rc = tr_sock_send_ptr(sock, m, 0)) == 0)
                atomic_fetch_add(&to->inbox_frames, 1);
        }
        atomic_fetch_sub(&to->inflight, 1);
        return rc;
    }
    // A loop batches: one zmq message, one wake-up, for what an actor's run
    // sends to one port (flushed when the run ends, or at 64 messages).
    tr_outbox *o = s_outbox_at(from, pid);
    if (!o)
        return TROUPE_ENOMEM;
    if (!o->batch) {
        o->batch = malloc(TR_SOCK_BATCH_MAX * sizeof *o->batch);
        if (!o->batch)
            return TROUPE_ENOMEM;
    }
    if (o->n == 0) {
        if (from->n_dirty == from->cap_dirty) {
            uint32_t cap = from->cap_dirty ? from->cap_dirty * 2 : 16;
            uint32_t *d = realloc(from->dirty, cap * sizeof *d);
            if (!d)
                return TROUPE_ENOMEM;
            from->dirty = d;
            from->cap_dirty = cap;
        }
        from->dirty[from->n_dirty++] = pid;
    }
    o->batch[o->n++] = m;
    if (o->n == TR_SOCK_BATCH_MAX)
        s_flush_one(from, pid);
    return 0;
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

static void s_wake(troupe_node *n, tr_port *to)
{
    void *s = NULL;
    char ep[96];
    s_endpoint(to, atomic_load(&to->gen), ep, sizeof ep);
    if (tr_sock_open(&n->zctx, ZMQ_PUSH, &s) != 0)
        return;
    int linger = 1000; // bounded; the frame is in the pipe already
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (tr_sock_connect(s, ep) == 0 && zmq_send(s, "", 0, 0) == 0)
        atomic_fetch_add(&to->inbox_frames, 1);
    tr_sock_close(&n->zctx, &s);
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
        // A port thread may be asleep inside zmq_recv, which the eventfd
        // cannot reach: wake it with an empty frame on a one-off socket.
        // The message itself is in the queue, which a closing port drains,
        // so a wake-up that finds the port gone loses nothing.
        if (to->kind != TR_PORT_CLIENT)
            s_wake(n, to);
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
    zmq_pollitem_t it[2] = {
        {.socket = p->inbox, .events = ZMQ_POLLIN},
        {.socket = NULL, .fd = p->efd, .events = ZMQ_POLLIN},
    };
    if (zmq_poll(it, 2, timeout) < 0) {
        if (zmq_errno() == EINTR)
            return 0;
        tr_logf(&p->node->log, TROUPE_LOG_ERROR, "port %u: poll: %s", p->id,
                zmq_strerror(zmq_errno()));
        return TROUPE_ESYS;
    }
    return ((it[0].revents & ZMQ_POLLIN) ? TR_READY_INBOX : 0) |
           ((it[1].revents & ZMQ_POLLIN) ? TR_READY_FOREIGN : 0);
}

// Take a frame (a batch of up to TR_SOCK_BATCH_MAX messages): one that
// zmq_poll said is there (flags ZMQ_DONTWAIT, no empty read, so no
// syscall), or waiting for one up to the inbox's ZMQ_RCVTIMEO (flags 0);
// then the others that senders counted in (inbox_frames), without an
// empty read to learn that there are none. Taking all of them before any
// actor runs keeps what one sender sent in order with what the loop hears
// meanwhile from elsewhere: a client's monitor sent just before it killed
// a process actor's child is in before the child's pidfd is handled.
// Receive one inbox frame and take its messages in: their count, or a
// negative code (TROUPE_EAGAIN: none there; others are counted and logged).
static int s_recv_frame(tr_port *p, int flags)
{
    void *v[TR_SOCK_BATCH_MAX];
    size_t k = 0;
    int rc = tr_sock_recv_ptrs(p->inbox, v, &k, flags);
    p->inbox_quiet = rc == TROUPE_EAGAIN; // see tr_io_wait
    if (rc == 0) {
        atomic_fetch_sub(&p->inbox_frames, 1);
        tr_accept_n(p, v, k);
        return (int)k;
    }
    if (rc != TROUPE_EAGAIN) {
        TR_BUMP(p->ctr.malformed);
        tr_logf(&p->node->log, TROUPE_LOG_ERROR,
                "port %u: inbox receive failed: %s", p->id,
                troupe_strerror(rc));
    }
    return rc;
}

static void s_take_frame(tr_port *p, int flags)
{
    // Bounded, so that senders that keep up cannot keep the actors from
    // running: the rest waits for the next look at the inbox.
    for (int frames = 0; frames < TR_TAKE_FRAMES_MAX; frames++) {
        if (s_recv_frame(p, flags) < 0 ||
            atomic_load_explicit(&p->inbox_frames, memory_order_relaxed) <= 0)
            return;
        flags = ZMQ_DONTWAIT;
    }
}

int tr_port_drain(tr_port *p)
{
    // The inbox before the foreign queue: a thread that sent through its
    // client handle and then called, say, troupe_node_stop_actor expects
    // the first to arrive first.
    int got = 0, k;
    while ((k = s_recv_frame(p, ZMQ_DONTWAIT)) >= 0)
        got += k;
    return got + s_drain_foreign(p);
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
    int64_t now = t ? tr_now_ns() : 0; // no clock read without timers
    while ((t = tr_timers_peek(&p->timers)) && t->due <= now) {
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
    if (p->rq_head || p->local_head) {
        p->timers.fd_wait = 0;
        return 0;
    }
    // -1 with tr_timers_wait_fd() >= 0: until that fd says a timer is due.
    return tr_timers_timeout(&p->timers);
}

// A busy loop looks at its inbox every TR_INBOX_EVERY messages or every
// millisecond, whichever comes first: long handlers must not keep messages
// from other threads waiting for 256 of them.
static uint64_t s_inbox_every_ticks(void)
{
    static _Atomic uint64_t ticks;
    uint64_t t = atomic_load_explicit(&ticks, memory_order_relaxed);
    if (!t) {
        t = tr_ns_to_ticks(1000000);
        atomic_store_explicit(&ticks, t, memory_order_relaxed);
    }
    return t;
}

static void *s_port_main(void *arg)
{
    tr_port *p = arg;
    troupe_node *n = p->node;
    s_current = p;
    tr_msg_pool_enter(); // without a pool this thread mallocs: still works
    // libzmq answers an empty zmq_recv with a poll() (and a getpid())
    // syscall, and zmq_poll costs several. So a loop sleeps inside a
    // blocking zmq_recv on its inbox (timed out at its next timer), as
    // hand-written zmq code does, and takes one frame each time it wakes;
    // threads outside the node wake it with an empty frame. While actors
    // are ready it does not look at all, except after every TR_INBOX_EVERY
    // messages, so that a busy loop still hears others. A port with
    // watched sockets (the gateway, process links) or armed fd watches
    // waits in zmq_poll
    // instead, and so does any port for the last millisecond before a timer
    // is due: then it polls a timerfd too, so that the timer fires on time
    // (timers.h), not at the next whole millisecond.
    while (!p->quit) {
        long timeout = tr_port_turn(p);
        if (atomic_load_explicit(&p->abandoned, memory_order_relaxed)) {
            tr_port_abandoned(p); // dropped, not flushed
            break;
        }
        tr_port_flush(p);    // what this turn sent leaves now, in batches
        tr_msg_pool_flush(); // and the blocks it freed go home
        tr_port_run_turn_hooks(p);
        if (p->quit)
            break;
        // Busy: the inbox waits for TR_INBOX_EVERY messages, and past them
        // for a frame to be in it (senders count them); the millisecond
        // holds either way, and for what a watched socket or fd brings.
        int skip_inbox =
            p->since_inbox < TR_INBOX_EVERY ||
            (!tr_io_polls_more(p) &&
             atomic_load_explicit(&p->inbox_frames, memory_order_relaxed) <= 0);
        if (timeout == 0 && skip_inbox &&
            tr_ticks() - p->inbox_ticks < s_inbox_every_ticks()) {
            if (atomic_load_explicit(&p->fq_pending, memory_order_relaxed))
                tr_port_drain(p); // inbox first, then the foreign queue
            continue;
        }
        p->since_inbox = 0;
        p->inbox_ticks = tr_ticks();
        if (!tr_io_polls_more(p) && tr_timers_wait_fd(&p->timers) < 0) {
            if (p->rcvtimeo != timeout) {
                int t = timeout > INT32_MAX ? INT32_MAX : (int)timeout;
                zmq_setsockopt(p->inbox, ZMQ_RCVTIMEO, &t, sizeof t);
                p->rcvtimeo = timeout;
            }
            s_take_frame(p, 0);
            if (atomic_load_explicit(&p->fq_pending, memory_order_relaxed))
                tr_port_drain(p); // inbox first, then the foreign queue
            continue;
        }
        int ready = tr_io_wait(p, timeout); // also the fds it watches
        if (ready < 0)
            break;
        if (ready & TR_READY_INBOX)
            s_take_frame(p, ZMQ_DONTWAIT);
        if ((ready & TR_READY_FOREIGN) ||
            atomic_load_explicit(&p->fq_pending, memory_order_relaxed))
            tr_port_drain(p); // inbox first, then the foreign queue
        if (ready & TR_READY_WATCH)
            tr_io_fire_socks(p);
    }
    tr_port_stop_actors(p, TROUPE_ESHUTDOWN);
    tr_port_close(p); // may take in a quit that came meanwhile
    tr_waiter *w = p->quit_waiter;
    p->quit_waiter = NULL;
    tr_msg_scratch_release();
    tr_msg_pool_leave();
    tr_actor_cache_drain(&n->amem, &p->acache);
    tr_slots_cache_drain(&n->slots, &p->scache);
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
