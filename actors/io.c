// SPDX-License-Identifier: MIT
//
// I/O watches, actors layer (troupe/io.h, io_internal.h). A port with armed
// watches sleeps in one poll() over its inbox, its foreign eventfd, its
// watched sockets (the gateway's, process links'), its timers' timerfd when
// a timer is due soon (timers.h) and the armed fds, instead of in a
// blocking zmq_recv. Its turn-end hooks are kept here too. A
// ready fd is disarmed and becomes one TROUPE_MSG_IO message; it is armed
// again when that message was handled, so an actor never has more than one
// notification per watch in its mailbox.
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "node_internal.h"

static tr_io_watch *s_find(tr_io_set *s, const tr_actor *a, uint64_t id,
                           size_t *at)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->w[i]->id == id && (!a || s->w[i]->actor == a)) {
            if (at)
                *at = i;
            return s->w[i];
        }
    return NULL;
}

static void s_remove(tr_io_set *s, size_t i)
{
    tr_io_watch *w = s->w[i];
    if (w->armed)
        s->armed--;
    s->w[i] = s->w[--s->n];
    free(w);
}

// Room in the poll items for the fixed ones (inbox, foreign eventfd,
// timerfd), every fd watch and every socket watch.
static int s_items_reserve(tr_io_set *s, size_t fds, size_t socks)
{
    size_t need = fds + socks + 4;
    if (need <= s->items_cap)
        return 0;
    size_t cap = s->items_cap ? s->items_cap : 8;
    while (cap < need)
        cap *= 2;
    void *items = realloc(s->items, cap * sizeof(struct pollfd));
    if (!items)
        return TROUPE_ENOMEM;
    s->items = items;
    s->items_cap = cap;
    return 0;
}

TROUPE_API int troupe_io_watch(troupe_ctx *cx, int fd, unsigned events,
                               const char *tag, uint64_t *id)
{
    if (!cx || !cx->actor || fd < 0 || !events ||
        (events & ~(TROUPE_IO_READ | TROUPE_IO_WRITE)))
        return TROUPE_EINVAL;
    if (cx->no_send)
        return TROUPE_ESTATE;
    tr_port *p = cx->port;
    size_t tag_len;
    if (tr_tag_check(tag, &p->node->limits, &tag_len))
        return TROUPE_EINVAL;
    tr_io_set *s = &p->io;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        tr_io_watch **w = realloc(s->w, cap * sizeof *w);
        if (!w)
            return TROUPE_ENOMEM;
        s->w = w;
        if (s_items_reserve(s, cap, s->n_socks) < 0)
            return TROUPE_ENOMEM;
        s->cap = cap;
    }
    tr_io_watch *w = calloc(1, sizeof *w + tag_len + 1);
    if (!w)
        return TROUPE_ENOMEM;
    w->actor = cx->actor;
    w->id = ++p->next_id;
    w->fd = fd;
    w->events = (short)(((events & TROUPE_IO_READ) ? ZMQ_POLLIN : 0) |
                        ((events & TROUPE_IO_WRITE) ? ZMQ_POLLOUT : 0));
    w->armed = 1;
    if (tag_len)
        memcpy(w->tag, tag, tag_len);
    s->w[s->n++] = w;
    s->armed++;
    if (id)
        *id = w->id;
    return 0;
}

TROUPE_API int troupe_io_unwatch(troupe_ctx *cx, uint64_t id)
{
    if (!cx || !cx->actor)
        return TROUPE_EINVAL;
    size_t at;
    if (!s_find(&cx->port->io, cx->actor, id, &at))
        return TROUPE_ENOENT;
    s_remove(&cx->port->io, at);
    return 0;
}

// Turn a ready watch into a message for its actor.
static void s_fire(tr_port *p, tr_io_watch *w, short revents)
{
    unsigned ready = ((revents & ZMQ_POLLIN) ? TROUPE_IO_READ : 0) |
                     ((revents & ZMQ_POLLOUT) ? TROUPE_IO_WRITE : 0) |
                     ((revents & ZMQ_POLLERR) ? TROUPE_IO_ERROR : 0);
    troupe_msg *m = tr_msg_new(TROUPE_MSG_IO, w->tag, strlen(w->tag), NULL, 0);
    if (!m) {
        tr_logf(&p->node->log, TROUPE_LOG_ERROR,
                "out of memory: readiness of fd %d not told", w->fd);
        return; // stays armed: told at the next wait
    }
    w->armed = 0;
    p->io.armed--;
    m->to = w->actor->addr;
    m->from = w->actor->addr;
    m->code = (int32_t)ready;
    m->ref = w->id;
    tr_accept(p, m);
}

// Ask libzmq what sock is ready for of `want` (ZMQ_EVENTS takes in the
// socket's commands: the news of frames, of room), and note in *quiet
// whether it has anything to read. The events, or -1.
static int s_zmq_events(void *sock, short want, int *quiet)
{
    uint32_t ev = 0;
    size_t len = sizeof ev;
    if (zmq_getsockopt(sock, ZMQ_EVENTS, &ev, &len) != 0)
        return -1;
    if (quiet)
        *quiet = !(ev & ZMQ_POLLIN);
    return (int)(ev & (uint32_t)want);
}

// The fd that libzmq signals when commands reach sock (ZMQ_FD).
static int s_zmq_fd(void *sock)
{
    int fd = -1;
    size_t len = sizeof fd;
    zmq_getsockopt(sock, ZMQ_FD, &fd, &len);
    return fd;
}

static int s_polled(const tr_sock_watch *w)
{
    return w->sock && w->events;
}

// Sleep on the zmq sockets' ZMQ_FD, the foreign eventfd, the timerfd and
// the armed fds in one poll(). ZMQ_FD is edge-triggered: libzmq signals it
// only when a command reaches a socket whose command queue was seen empty,
// and a frame makes a command only when the reader had seen its pipe
// empty. So a socket may be slept on only when a receive (or ZMQ_EVENTS)
// found nothing since its last receive and since its last send: the quiet
// flags. Any other socket is asked (ZMQ_EVENTS) first, and one that has
// what it waits for ends the wait at once. After the poll, only sockets
// whose fd woke are asked.
int tr_io_wait(tr_port *p, long timeout)
{
    tr_io_set *s = &p->io;
    struct pollfd fixed[4], *pf = s->items ? s->items : fixed;
    int inbox = 0, now = 0;
    if (!p->inbox_quiet &&
        (inbox = s_zmq_events(p->inbox, ZMQ_POLLIN, &p->inbox_quiet)) < 0)
        goto fail;
    now = inbox;
    for (size_t i = 0; i < s->n_socks; i++) {
        tr_sock_watch *w = &s->socks[i];
        w->revents = 0;
        if (!s_polled(w) || (w->events == ZMQ_POLLIN && w->quiet && *w->quiet))
            continue;
        int e = s_zmq_events(w->sock, w->events, w->quiet);
        if (e < 0)
            goto fail;
        w->revents = (short)e;
        now |= e;
    }
    nfds_t k = 0;
    pf[k++] = (struct pollfd){.fd = s_zmq_fd(p->inbox), .events = POLLIN};
    pf[k++] = (struct pollfd){.fd = p->efd, .events = POLLIN};
    nfds_t first_sock = k;
    for (size_t i = 0; i < s->n_socks; i++)
        if (s_polled(&s->socks[i]))
            pf[k++] = (struct pollfd){.fd = s_zmq_fd(s->socks[i].sock),
                                      .events = POLLIN};
    // A timer due within a millisecond: its timerfd ends the wait just
    // before it is due (the turns that follow fire it; nothing to read).
    int tfd = tr_timers_wait_fd(&p->timers);
    nfds_t tfd_at = k;
    if (tfd >= 0)
        pf[k++] = (struct pollfd){.fd = tfd, .events = POLLIN};
    nfds_t first_fd = k;
    for (size_t i = 0; i < s->n; i++)
        if (s->w[i]->armed) {
            short ev = s->w[i]->events;
            pf[k++] = (struct pollfd){
                .fd = s->w[i]->fd,
                .events = (short)(((ev & ZMQ_POLLIN) ? POLLIN : 0) |
                                  ((ev & ZMQ_POLLOUT) ? POLLOUT : 0))};
        }
    // Something is there already: the fds are only looked at, and not at
    // all when no fd watch is armed (the caller checks the foreign queue's
    // flag; a timer fires by the clock).
    if (!now || s->armed) {
        int t = now ? 0 : timeout > INT_MAX ? INT_MAX : (int)timeout;
        if (poll(pf, k, t) < 0) {
            if (errno != EINTR) {
                tr_logf(&p->node->log, TROUPE_LOG_ERROR, "port %u: poll: %s",
                        p->id, strerror(errno));
                return TROUPE_ESYS;
            }
            for (nfds_t j = 0; j < k; j++)
                pf[j].revents = 0;
        }
    } else {
        for (nfds_t j = 0; j < k; j++)
            pf[j].revents = 0;
    }
    if (pf[0].revents && !inbox &&
        (inbox = s_zmq_events(p->inbox, ZMQ_POLLIN, &p->inbox_quiet)) < 0)
        goto fail;
    int ready = (inbox ? TR_READY_INBOX : 0) |
                ((pf[1].revents & POLLIN) ? TR_READY_FOREIGN : 0);
    nfds_t j = first_sock;
    for (size_t i = 0; i < s->n_socks; i++) {
        tr_sock_watch *w = &s->socks[i];
        if (!s_polled(w))
            continue;
        if (pf[j++].revents && !w->revents) {
            int e = s_zmq_events(w->sock, w->events, w->quiet);
            if (e < 0)
                goto fail;
            w->revents = (short)e;
        }
        if (w->revents)
            ready |= TR_READY_WATCH;
    }
    if (tfd >= 0 && (pf[tfd_at].revents & POLLIN))
        tr_timers_woke(&p->timers);
    j = first_fd;
    for (size_t i = 0; i < s->n; i++) {
        tr_io_watch *w = s->w[i];
        w->revents = 0;
        if (!w->armed)
            continue;
        short r = pf[j++].revents;
        w->revents = (short)(((r & POLLIN) ? ZMQ_POLLIN : 0) |
                             ((r & POLLOUT) ? ZMQ_POLLOUT : 0) |
                             ((r & ~(POLLIN | POLLOUT)) ? ZMQ_POLLERR : 0));
    }
    // By index, rereading the entry: firing only queues a message, but the
    // set is not to be trusted across calls out of this file.
    for (size_t i = 0; i < s->n; i++) {
        tr_io_watch *w = s->w[i];
        short r = w->revents;
        w->revents = 0;
        if (r && w->armed)
            s_fire(p, w, r);
    }
    return ready;
fail:
    tr_logf(&p->node->log, TROUPE_LOG_ERROR, "port %u: zmq events: %s", p->id,
            zmq_strerror(zmq_errno()));
    return TROUPE_ESYS;
}

static tr_sock_watch *s_find_sock(tr_io_set *s, const void *sock)
{
    for (size_t i = 0; i < s->n_socks; i++)
        if (s->socks[i].sock == sock)
            return &s->socks[i];
    return NULL;
}

static void s_recount_socks(tr_io_set *s)
{
    s->polled_socks = 0;
    for (size_t i = 0; i < s->n_socks; i++)
        if (s->socks[i].sock && s->socks[i].events)
            s->polled_socks++;
}

int tr_io_watch_sock(tr_port *p, void *sock, short events, int *quiet,
                     void (*ready)(tr_port *p, void *arg, short revents),
                     void *arg)
{
    tr_io_set *s = &p->io;
    tr_sock_watch *w = s_find_sock(s, sock);
    if (!w)
        w = s_find_sock(s, NULL); // a removed one's slot
    if (!w) {
        if (s_items_reserve(s, s->cap, s->n_socks + 1) < 0)
            return TROUPE_ENOMEM;
        tr_sock_watch *v = realloc(s->socks, (s->n_socks + 1) * sizeof *v);
        if (!v)
            return TROUPE_ENOMEM;
        s->socks = v;
        w = &s->socks[s->n_socks++];
    }
    *w = (tr_sock_watch){.sock = sock,
                         .events = events,
                         .quiet = quiet,
                         .ready = ready,
                         .arg = arg};
    s_recount_socks(s);
    return 0;
}

void tr_io_sock_events(tr_port *p, void *sock, short events)
{
    tr_sock_watch *w = sock ? s_find_sock(&p->io, sock) : NULL;
    if (!w)
        return;
    w->events = events;
    if (!events)
        w->revents = 0;
    s_recount_socks(&p->io);
}

void tr_io_unwatch_sock(tr_port *p, void *sock)
{
    tr_sock_watch *w = sock ? s_find_sock(&p->io, sock) : NULL;
    if (!w)
        return;
    *w = (tr_sock_watch){0};
    s_recount_socks(&p->io);
}

void tr_io_fire_socks(tr_port *p)
{
    // By index, rereading the entry each time: a callback may watch or
    // unwatch sockets (a removed entry is zeroed, an added one takes a
    // zeroed slot or goes at the end, and has nothing noted yet).
    for (size_t i = 0; i < p->io.n_socks; i++) {
        tr_sock_watch *w = &p->io.socks[i];
        short r = w->revents;
        w->revents = 0;
        if (r && w->sock && (r & (w->events | ZMQ_POLLERR)))
            w->ready(p, w->arg, r);
    }
}

int tr_io_polls_more(const tr_port *p)
{
    return p->io.polled_socks > 0 || p->io.armed > 0;
}

int tr_port_add_turn_hook(tr_port *p, void (*fn)(tr_port *, void *), void *arg)
{
    tr_io_set *s = &p->io;
    for (size_t i = 0; i < s->n_hooks; i++)
        if (!s->hooks[i].fn) {
            s->hooks[i] = (tr_turn_hook){fn, arg};
            return 0;
        }
    tr_turn_hook *h = realloc(s->hooks, (s->n_hooks + 1) * sizeof *h);
    if (!h)
        return TROUPE_ENOMEM;
    s->hooks = h;
    s->hooks[s->n_hooks++] = (tr_turn_hook){fn, arg};
    return 0;
}

void tr_port_remove_turn_hook(tr_port *p, void (*fn)(tr_port *, void *),
                              void *arg)
{
    tr_io_set *s = &p->io;
    for (size_t i = 0; i < s->n_hooks; i++)
        if (s->hooks[i].fn == fn && s->hooks[i].arg == arg)
            s->hooks[i] = (tr_turn_hook){0};
}

void tr_port_run_turn_hooks(tr_port *p)
{
    for (size_t i = 0; i < p->io.n_hooks; i++) {
        tr_turn_hook h = p->io.hooks[i];
        if (h.fn)
            h.fn(p, h.arg);
    }
}

int tr_io_rearm(tr_port *p, const troupe_msg *m)
{
    tr_io_watch *w = s_find(&p->io, NULL, m->ref, NULL);
    if (!w || !troupe_addr_eq(w->actor->addr, m->to))
        return 0;
    if (!w->armed) {
        w->armed = 1;
        p->io.armed++;
    }
    return 1;
}

void tr_io_actor_end(tr_port *p, tr_actor *a)
{
    tr_io_set *s = &p->io;
    for (size_t i = s->n; i-- > 0;)
        if (s->w[i]->actor == a)
            s_remove(s, i);
}

void tr_io_fini(tr_io_set *s)
{
    while (s->n)
        s_remove(s, s->n - 1);
    free(s->w);
    free(s->socks);
    free(s->hooks);
    free(s->items);
    memset(s, 0, sizeof *s);
}
