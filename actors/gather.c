// SPDX-License-Identifier: MIT
//
// Gathers, actors layer (troupe/gather.h): many requests, one continuation.
// An actor's gather is built on the request machinery and nothing more: each
// item is a request (or a limiter entry) whose callback argument points at
// the item, and one alarm (pending.h) tells the gather when its actor's run
// ends. A client's gather sends through the client handle and takes its
// replies from the client's mailbox. Nothing here changes how one request
// ends; must not depend on supervisor/.
#include <limits.h>
#include <stdlib.h>

#include "client_internal.h"
#include "invariant.h"
#include "limiter_internal.h"
#include "pending.h"
#include "troupe/gather.h"

// Items live in chunks that never move, so a callback argument may point at
// an item while more items are added.
#define S_CHUNK 64

typedef struct s_item {
    troupe_gather *g;  // owner
    uint64_t corr;     // its request (actor gathers without limiter, clients)
    void *handle;      // its limiter entry while it has not ended
    troupe_msg *reply; // status 0: the reply (owned) until taken
    int status;        // TROUPE_EAGAIN until it ended
    int unneeded;      // canceled by the gather itself when it settled
} s_item;

struct troupe_gather {
    tr_port *port;           // actor gathers: the actor's port
    tr_actor *actor;         // and the actor
    troupe_client *client;   // client gathers: the client
    troupe_limiter *limiter; // items go through it, or NULL
    troupe_gather_mode mode; // when it settles
    size_t need;             // QUORUM and FIRST: successes needed
    int64_t deadline;        // every item's
    troupe_gather_fn done;   // actor gathers: the continuation
    void *arg;               // its argument
    s_item **chunks;         // items, S_CHUNK per chunk
    size_t n_chunks;         // chunks in use
    size_t cap_chunks;       // entries of chunks
    size_t n;                // items
    size_t n_ok;             // items that succeeded
    size_t n_pending;        // items that have not ended
    size_t found;            // client gathers: the item s_mine found
    uint64_t alarm;          // actor gathers: the alarm's corr (0: gone)
    int started;             // no more items
    int settling;            // settling now: cancels are the gather's own
    int settled;             // result is final
    int run_ended;           // settled by the end of its actor's run
    int result;              // troupe_gather_result
};

static s_item *s_at(const troupe_gather *g, size_t i)
{
    return &g->chunks[i / S_CHUNK][i % S_CHUNK];
}

// A new pending item, or NULL (*rc: TROUPE_ENOMEM, TROUPE_ELIMIT).
static s_item *s_add(troupe_gather *g, int *rc)
{
    if (g->n >= INT_MAX) {
        *rc = TROUPE_ELIMIT;
        return NULL;
    }
    *rc = TROUPE_ENOMEM;
    if (g->n == g->n_chunks * S_CHUNK) {
        if (g->n_chunks == g->cap_chunks) {
            size_t cap = g->cap_chunks ? g->cap_chunks * 2 : 4;
            s_item **c = realloc(g->chunks, cap * sizeof *c);
            if (!c)
                return NULL;
            g->chunks = c;
            g->cap_chunks = cap;
        }
        s_item *chunk = calloc(S_CHUNK, sizeof *chunk);
        if (!chunk)
            return NULL;
        g->chunks[g->n_chunks++] = chunk;
    }
    s_item *it = s_at(g, g->n++);
    *it = (s_item){.g = g, .status = TROUPE_EAGAIN};
    g->n_pending++;
    *rc = 0;
    return it;
}

// Item it ended with status (and, for 0, reply: owned).
static void s_end(troupe_gather *g, s_item *it, int status, troupe_msg *reply)
{
    if (TR_NEVER(it->status != TROUPE_EAGAIN)) { // ends exactly once
        tr_msg_free(reply);
        return;
    }
    it->status = status;
    it->handle = NULL;
    if (status == 0) {
        it->reply = reply;
        g->n_ok++;
    }
    g->n_pending--;
}

static int s_goal_met(const troupe_gather *g)
{
    return g->mode == TROUPE_GATHER_ALL ? g->n_ok == g->n : g->n_ok >= g->need;
}

static int s_can_settle(const troupe_gather *g)
{
    if (g->mode == TROUPE_GATHER_ALL)
        return g->n_pending == 0;
    return g->n_ok >= g->need || g->n_ok + g->n_pending < g->need;
}

static int s_result(const troupe_gather *g, int run_ended)
{
    if (run_ended)
        return TROUPE_ECANCELED;
    if (s_goal_met(g))
        return 0;
    for (size_t i = 0; i < g->n; i++) {
        const s_item *it = s_at(g, i);
        if (it->status < 0 && !it->unneeded)
            return it->status;
    }
    return TROUPE_ECANCELED; // only canceled items (a run that ended)
}

// End item it now with cancel_status, as the gather's own decision.
static void s_cancel(troupe_gather *g, s_item *it, int cancel_status)
{
    it->unneeded = cancel_status == TROUPE_ECANCELED;
    if (g->client) // its reply, if it comes, is dropped as late
        s_end(g, it, cancel_status, NULL);
    else if (g->limiter)
        tr_limiter_cancel_handle(g->limiter, it->handle);
    else if (TR_NEVER(tr_pending_cancel(g->port, g->actor, it->corr)))
        s_end(g, it, cancel_status, NULL);
    if (TR_NEVER(it->status == TROUPE_EAGAIN)) // the callback must have run
        s_end(g, it, cancel_status, NULL);
}

// Cancel what has not ended (newest first: in a limiter the newest are the
// ones still waiting, so none is sent just to be canceled), drop the alarm
// and fix the result.
static void s_settle(troupe_gather *g, int cancel_status, int run_ended)
{
    g->settling = 1;
    for (size_t i = g->n; i-- > 0 && g->n_pending;) {
        s_item *it = s_at(g, i);
        if (it->status == TROUPE_EAGAIN)
            s_cancel(g, it, cancel_status);
    }
    if (!g->client) {
        tr_alarm_stop(g->port, g->actor, g->alarm);
        g->alarm = 0;
    }
    g->run_ended = run_ended;
    g->result = s_result(g, run_ended);
    g->settled = 1;
}

static void s_free(troupe_gather *g)
{
    for (size_t i = 0; i < g->n; i++)
        tr_msg_free(s_at(g, i)->reply);
    for (size_t i = 0; i < g->n_chunks; i++)
        free(g->chunks[i]);
    free(g->chunks);
    if (g->limiter)
        tr_limiter_release(g->limiter);
    free(g);
}

// Settle an actor's gather, run its continuation as the runtime runs a
// callback, and free it.
static void s_finish(troupe_gather *g, int run_ended)
{
    s_settle(g, TROUPE_ECANCELED, run_ended);
    tr_port *p = g->port;
    tr_actor *a = g->actor;
    troupe_ctx saved = p->cx;
    p->cx.port = p;
    p->cx.actor = a;
    p->cx.msg = NULL;
    uint32_t running = a->flags & TR_ACT_RUNNING; // nested in a callback?
    a->flags |= TR_ACT_RUNNING;
    int rc = g->done(&p->cx, a->state, g, g->arg);
    a->flags = (a->flags & ~(uint32_t)TR_ACT_RUNNING) | running;
    p->cx = saved;
    if (rc < 0 && !g->run_ended) // an ending run ignores it
        tr_actor_exit(p, a, rc);
    s_free(g);
}

// ---- an actor's gather ----

static troupe_msg *s_copy(const troupe_msg *m)
{
    troupe_msg *c =
        tr_msg_new(m->kind, m->data, m->tag_len, m->body, m->body_len);
    if (c) {
        c->code = m->code;
        c->to = m->to;
        c->from = m->from;
        c->corr = m->corr;
        c->ref = m->ref;
        c->deadline = m->deadline;
    }
    return c;
}

// An item's request ended (directly or through the limiter).
static int s_on_item(troupe_ctx *cx, void *state, int status,
                     const troupe_msg *reply, void *arg)
{
    (void)cx;
    (void)state;
    s_item *it = arg;
    troupe_gather *g = it->g;
    troupe_msg *copy = NULL;
    if (status == 0 && !(copy = s_copy(reply)))
        status = TROUPE_ENOMEM;
    s_end(g, it, status, copy);
    if (g->settling)
        return 0;
    // A cancel we did not make while the actor is ending: its run ends, and
    // the gather with it, started or not.
    int run_ends =
        status == TROUPE_ECANCELED && (g->actor->flags & TR_ACT_EXITING) != 0;
    if (run_ends || (g->started && s_can_settle(g)))
        s_finish(g, run_ends);
    return 0;
}

// The alarm ends only with the actor's run (its deadline is never).
static int s_on_alarm(troupe_ctx *cx, void *state, int status,
                      const troupe_msg *reply, void *arg)
{
    (void)cx;
    (void)state;
    (void)reply;
    troupe_gather *g = arg;
    g->alarm = 0;
    if (TR_ALWAYS(status == TROUPE_ECANCELED) && !g->settling)
        s_finish(g, 1);
    return 0;
}

static int s_mode_ok(troupe_gather_mode mode, size_t quorum)
{
    return mode == TROUPE_GATHER_ALL || mode == TROUPE_GATHER_FIRST ||
           (mode == TROUPE_GATHER_QUORUM && quorum >= 1);
}

static troupe_gather *s_new(troupe_gather_mode mode, size_t quorum,
                            int64_t deadline)
{
    troupe_gather *g = calloc(1, sizeof *g);
    if (g) {
        g->mode = mode;
        g->need = mode == TROUPE_GATHER_QUORUM  ? quorum
                  : mode == TROUPE_GATHER_FIRST ? 1
                                                : 0;
        g->deadline = deadline;
        g->result = TROUPE_EAGAIN;
    }
    return g;
}

TROUPE_API int troupe_gather_new(troupe_ctx *cx, troupe_gather_mode mode,
                                 size_t quorum, int64_t deadline,
                                 troupe_gather_fn done, void *arg,
                                 troupe_gather **out)
{
    if (!cx || !cx->actor || !done || !out || !s_mode_ok(mode, quorum))
        return TROUPE_EINVAL;
    if (cx->no_send ||
        atomic_load_explicit(&cx->port->abandoned, memory_order_relaxed))
        return TROUPE_ESTATE;
    if (deadline == TROUPE_DEADLINE_DEFAULT)
        deadline = tr_default_deadline(cx->port->node, cx);
    if (deadline != TROUPE_FOREVER && deadline <= troupe_now())
        return TROUPE_ETIMEDOUT;
    troupe_gather *g = s_new(mode, quorum, deadline);
    if (!g)
        return TROUPE_ENOMEM;
    g->port = cx->port;
    g->actor = cx->actor;
    g->done = done;
    g->arg = arg;
    // The alarm never fires; it ends when the run does, started or not.
    if (tr_alarm_start(g->port, g->actor, TROUPE_FOREVER, s_on_alarm, g,
                       &g->alarm)) {
        free(g);
        return TROUPE_ENOMEM;
    }
    *out = g;
    return 0;
}

TROUPE_API int troupe_gather_set_limiter(troupe_gather *g, troupe_limiter *lim)
{
    if (!g || !lim || g->client || !tr_owner_ctx(g->port, g->actor) ||
        !tr_limiter_usable(lim, g->port, g->actor))
        return TROUPE_EINVAL;
    if (g->n || g->started)
        return TROUPE_ESTATE;
    tr_limiter_hold(lim);
    if (g->limiter)
        tr_limiter_release(g->limiter);
    g->limiter = lim;
    return 0;
}

// Send item it from the actor of cx: 0, or the code it ends with.
static int s_send_item(troupe_gather *g, troupe_ctx *cx, s_item *it,
                       troupe_addr to, const char *tag, const char *fmt,
                       va_list *ap)
{
    if (cx->no_send ||
        atomic_load_explicit(&cx->port->abandoned, memory_order_relaxed))
        return TROUPE_ESTATE;
    if (g->deadline != TROUPE_FOREVER && g->deadline <= troupe_now())
        return TROUPE_ETIMEDOUT;
    troupe_msg *m;
    int rc = tr_msg_pack(TROUPE_MSG_REQUEST, tag, &g->port->node->limits, fmt,
                         ap, &m);
    if (rc) {
        if (tr_is_refusal(rc))
            tr_offer_failed(g->port, tag, to, rc);
        return rc;
    }
    if (g->limiter)
        return tr_limiter_submit(g->limiter, cx, to, m, g->deadline, s_on_item,
                                 it, &it->handle);
    return tr_request_msg(cx, to, m, g->deadline, s_on_item, it, &it->corr);
}

TROUPE_API int troupe_gather_request(troupe_gather *g, troupe_addr to,
                                     const char *tag, const char *fmt, ...)
{
    if (!g || g->started)
        return TROUPE_EINVAL;
    troupe_ctx *cx = NULL;
    if (!g->client && !(cx = tr_owner_ctx(g->port, g->actor)))
        return TROUPE_EINVAL;
    int rc;
    s_item *it = s_add(g, &rc);
    if (!it)
        return rc;
    size_t index = g->n - 1;
    va_list ap;
    va_start(ap, fmt);
    if (g->client)
        rc = tr_client_request(g->client, to, tag, g->deadline, fmt, &ap,
                               &it->corr);
    else
        rc = s_send_item(g, cx, it, to, tag, fmt, &ap);
    va_end(ap);
    if (rc) // the batch keeps one outcome per call
        s_end(g, it, rc, NULL);
    return (int)index;
}

TROUPE_API int troupe_gather_start(troupe_gather *g)
{
    if (!g || g->client || g->started || !tr_owner_ctx(g->port, g->actor))
        return TROUPE_EINVAL;
    if (g->need > g->n) // the quorum could never be met
        return TROUPE_EINVAL;
    g->started = 1;
    if (s_can_settle(g))
        s_finish(g, 0);
    return 0;
}

TROUPE_API void troupe_gather_destroy(troupe_gather **gp)
{
    if (!gp || !*gp)
        return;
    troupe_gather *g = *gp;
    *gp = NULL;
    if (g->client) {
        if (!g->settled)
            tr_client_gathers(g->client, -1);
        s_free(g);
        return;
    }
    if (g->started) // the runtime's now
        return;
    // Its requests' callbacks run here: only the owner may.
    if (TR_NEVER(!tr_owner_ctx(g->port, g->actor)))
        return; // leaked rather than broken
    s_settle(g, TROUPE_ECANCELED, 0);
    s_free(g);
}

// ---- a client's gather ----

TROUPE_API int troupe_client_gather_new(troupe_client *c,
                                        troupe_gather_mode mode, size_t quorum,
                                        int64_t deadline, troupe_gather **out)
{
    if (!c || !out || !s_mode_ok(mode, quorum))
        return TROUPE_EINVAL;
    if (deadline == TROUPE_DEADLINE_DEFAULT)
        deadline = tr_default_deadline(tr_client_node(c), NULL);
    if (deadline != TROUPE_FOREVER && deadline <= troupe_now())
        return TROUPE_ETIMEDOUT;
    troupe_gather *g = s_new(mode, quorum, deadline);
    if (!g)
        return TROUPE_ENOMEM;
    g->client = c;
    tr_client_gathers(c, +1);
    *out = g;
    return 0;
}

// Is corr the request of one of g's pending items? (Correlation ids grow
// with the items, so a binary search finds it.) Sets g->found.
static int s_mine(void *arg, uint64_t corr)
{
    troupe_gather *g = arg;
    size_t lo = 0, hi = g->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t c = s_at(g, mid)->corr;
        if (c == corr) {
            g->found = mid;
            return s_at(g, mid)->status == TROUPE_EAGAIN;
        }
        if (c < corr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

// Take g's replies that are in the mailbox; stop once it can settle.
static void s_take_replies(troupe_gather *g)
{
    // With no other gather open, a reply nobody waits for is late: drop it.
    int drop_others = tr_client_gathers(g->client, 0) == 1;
    troupe_msg *m;
    while (!s_can_settle(g) &&
           (m = tr_client_take_reply(g->client, s_mine, g, drop_others))) {
        s_item *it = s_at(g, g->found);
        if (m->kind == TROUPE_MSG_REPLY) {
            s_end(g, it, 0, m);
        } else {
            s_end(g, it, m->code, NULL);
            tr_msg_free(m);
        }
    }
}

TROUPE_API int troupe_gather_wait(troupe_gather *g)
{
    if (!g || !g->client)
        return TROUPE_EINVAL;
    if (g->settled)
        return g->result;
    if (g->need > g->n) // the quorum could never be met
        return TROUPE_EINVAL;
    g->started = 1;
    int cancel_status = TROUPE_ECANCELED;
    for (;;) {
        s_take_replies(g);
        if (s_can_settle(g))
            break;
        int rc = tr_client_wait(g->client, g->deadline);
        if (rc) { // the deadline (or a failed wait) ends what is left
            cancel_status = rc;
            break;
        }
    }
    s_settle(g, cancel_status, 0);
    tr_client_gathers(g->client, -1);
    return g->result;
}

// ---- reading ----

TROUPE_API size_t troupe_gather_size(const troupe_gather *g)
{
    return g ? g->n : 0;
}

TROUPE_API int troupe_gather_status(const troupe_gather *g, size_t i)
{
    if (!g || i >= g->n)
        return TROUPE_EINVAL;
    return s_at(g, i)->status;
}

TROUPE_API const troupe_msg *troupe_gather_reply(const troupe_gather *g,
                                                 size_t i)
{
    if (!g || i >= g->n)
        return NULL;
    return s_at(g, i)->reply;
}

TROUPE_API int troupe_gather_take_reply(troupe_gather *g, size_t i,
                                        troupe_msg **reply)
{
    if (!reply)
        return TROUPE_EINVAL;
    *reply = NULL;
    if (!g || i >= g->n)
        return TROUPE_EINVAL;
    s_item *it = s_at(g, i);
    if (!it->reply)
        return TROUPE_ENOENT;
    *reply = it->reply;
    it->reply = NULL;
    return 0;
}

TROUPE_API size_t troupe_gather_count(const troupe_gather *g, int status)
{
    if (!g)
        return 0;
    if (status == 0)
        return g->n_ok;
    size_t k = 0;
    for (size_t i = 0; i < g->n; i++)
        k += s_at(g, i)->status == status;
    return k;
}

TROUPE_API int troupe_gather_result(const troupe_gather *g)
{
    return g ? g->result : TROUPE_EINVAL;
}
