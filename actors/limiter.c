// SPDX-License-Identifier: MIT
//
// Concurrency limiters, actors layer (troupe/limiter.h): at most N requests
// of one actor in flight, the rest waiting in a FIFO queue. Built on
// troupe_request's machinery (tr_request_msg) with one trampoline callback
// per request, and on one alarm (pending.h) that expires waiting requests at
// their deadline and tells the limiter when its actor's run ends. Everything
// here runs on the owner's thread; nothing is locked.
#include <stdlib.h>

#include "invariant.h"
#include "limiter_internal.h"
#include "pending.h"

// Where an entry is. An entry that ends unsent is first moved to the
// "ending" list and then its callback runs: a callback may cancel another
// entry of the same batch, which must still be findable and unlinkable.
enum {
    S_QUEUED = 1, // waiting in the queue
    S_ENDING,     // in the ending list, its callback about to run
    S_FLYING,     // sent: in the in-flight list
};

// One request made through a limiter, from submit until its callback ran.
typedef struct s_entry {
    struct s_entry *next, *prev; // in the list that `where` says
    troupe_limiter *lim;         // owner
    uint64_t id;                 // for troupe_limiter_cancel
    uint64_t corr;               // in flight: the request's correlation id
    troupe_addr to;              // destination
    troupe_msg *m;               // waiting: the packed request (owned)
    int64_t deadline;            // absolute
    troupe_reply_fn cb;          // the user's callback
    void *arg;                   // its argument
    int where;                   // S_QUEUED, S_ENDING or S_FLYING
    int end_status;              // S_ENDING: the status it ends with
    int canceling;               // we cancel it: not the end of the actor
} s_entry;

struct troupe_limiter {
    tr_port *port;            // the owner's port
    tr_actor *actor;          // the owner
    size_t max_in_flight;     // the limit
    size_t max_queued;        // the queue's bound
    s_entry *q_head, *q_tail; // waiting, oldest first
    s_entry *e_head, *e_tail; // ending unsent, in order
    s_entry *flying;          // in flight, any order
    uint64_t next_id;         // ids of requests
    uint64_t alarm;           // corr of the alarm; 0: none
    int64_t alarm_when;       // its deadline (TROUPE_FOREVER: none)
    int refs;                 // the user's until destroy, + gathers
    int busy;                 // our code is on the stack: do not free
    int closed;               // destroyed or the run ended: no sends
    troupe_limiter_stats st;  // in_flight, queued and the counters
};

static int s_on_reply(troupe_ctx *cx, void *state, int status,
                      const troupe_msg *reply, void *arg);
static int s_on_alarm(troupe_ctx *cx, void *state, int status,
                      const troupe_msg *reply, void *arg);

static void s_maybe_free(troupe_limiter *lim)
{
    if (lim->busy || lim->refs || lim->st.in_flight)
        return;
    TR_ALWAYS(!lim->q_head && !lim->e_head);
    tr_alarm_stop(lim->port, lim->actor, lim->alarm);
    free(lim);
}

// The owner's ctx can send (it is not ending, its port not abandoned).
static int s_can_send(const troupe_ctx *cx)
{
    return !cx->no_send &&
           !atomic_load_explicit(&cx->port->abandoned, memory_order_relaxed);
}

// ---- lists ----

static void s_append(s_entry **head, s_entry **tail, s_entry *e)
{
    e->next = NULL;
    e->prev = *tail;
    if (*tail)
        (*tail)->next = e;
    else
        *head = e;
    *tail = e;
}

static void s_unlink(s_entry **head, s_entry **tail, s_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        *head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        *tail = e->prev;
    e->next = e->prev = NULL;
}

static void s_queue_append(troupe_limiter *lim, s_entry *e)
{
    e->where = S_QUEUED;
    s_append(&lim->q_head, &lim->q_tail, e);
    if (++lim->st.queued > lim->st.peak_queued)
        lim->st.peak_queued = lim->st.queued;
}

static void s_queue_remove(troupe_limiter *lim, s_entry *e)
{
    s_unlink(&lim->q_head, &lim->q_tail, e);
    e->where = 0;
    lim->st.queued--;
}

static void s_flying_add(troupe_limiter *lim, s_entry *e)
{
    e->where = S_FLYING;
    e->prev = NULL;
    e->next = lim->flying;
    if (e->next)
        e->next->prev = e;
    lim->flying = e;
    if (++lim->st.in_flight > lim->st.peak_in_flight)
        lim->st.peak_in_flight = lim->st.in_flight;
    lim->st.sent++;
}

static void s_flying_remove(troupe_limiter *lim, s_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        lim->flying = e->next;
    if (e->next)
        e->next->prev = e->prev;
    e->next = e->prev = NULL;
    e->where = 0;
    lim->st.in_flight--;
}

// ---- ending requests that were never sent ----

// End e (in no list) with status, without sending it.
static void s_end_unsent(troupe_limiter *lim, s_entry *e, int status)
{
    tr_msg_free(e->m);
    if (status == TROUPE_ETIMEDOUT)
        lim->st.expired++;
    else if (status == TROUPE_ECANCELED)
        lim->st.canceled++;
    tr_reply_invoke(lim->port, lim->actor, e->cb, status, NULL, e->arg);
    free(e);
}

// End every waiting request whose deadline is at or before `due` (all of
// them for TROUPE_FOREVER), in order. They move to the ending list first,
// then their callbacks run: a callback may cancel, add or close.
static void s_end_waiting(troupe_limiter *lim, int64_t due, int status)
{
    for (s_entry *e = lim->q_head, *next; e; e = next) {
        next = e->next;
        if (due == TROUPE_FOREVER ||
            (e->deadline != TROUPE_FOREVER && e->deadline <= due)) {
            s_queue_remove(lim, e);
            e->where = S_ENDING;
            e->end_status = status;
            s_append(&lim->e_head, &lim->e_tail, e);
        }
    }
    while (lim->e_head) {
        s_entry *e = lim->e_head;
        s_unlink(&lim->e_head, &lim->e_tail, e);
        e->where = 0;
        s_end_unsent(lim, e, e->end_status);
    }
}

// No more sends: waiting requests end ECANCELED; the alarm goes.
static void s_close(troupe_limiter *lim)
{
    if (lim->closed)
        return;
    lim->closed = 1;
    tr_alarm_stop(lim->port, lim->actor, lim->alarm);
    lim->alarm = 0;
    s_end_waiting(lim, TROUPE_FOREVER, TROUPE_ECANCELED);
}

// ---- the alarm ----

// (Re)start the alarm at `when`. Returns 0 or TROUPE_ENOMEM (the old alarm
// is then kept).
static int s_arm(troupe_limiter *lim, int64_t when)
{
    uint64_t corr;
    int rc =
        tr_alarm_start(lim->port, lim->actor, when, s_on_alarm, lim, &corr);
    if (rc)
        return rc;
    tr_alarm_stop(lim->port, lim->actor, lim->alarm);
    lim->alarm = corr;
    lim->alarm_when = when;
    return 0;
}

static int64_t s_earliest(const troupe_limiter *lim)
{
    int64_t when = TROUPE_FOREVER;
    for (const s_entry *e = lim->q_head; e; e = e->next)
        if (e->deadline < when)
            when = e->deadline;
    return when;
}

// The alarm ended: at the earliest deadline of a waiting request
// (TROUPE_ETIMEDOUT), or because the actor's run ends (TROUPE_ECANCELED).
static int s_on_alarm(troupe_ctx *cx, void *state, int status,
                      const troupe_msg *reply, void *arg)
{
    (void)cx;
    (void)state;
    (void)reply;
    troupe_limiter *lim = arg;
    lim->alarm = 0;
    lim->busy++;
    if (status == TROUPE_ECANCELED) {
        s_close(lim);
    } else {
        s_end_waiting(lim, troupe_now(), TROUPE_ETIMEDOUT);
        if (!lim->closed && s_arm(lim, s_earliest(lim)))
            tr_logf(&lim->port->node->log, TROUPE_LOG_ERROR,
                    "out of memory: a limiter's queue no longer expires");
    }
    lim->busy--;
    s_maybe_free(lim);
    return 0;
}

// ---- sending ----

// Send e (out of the queue) now. Returns 0, or the send's code: then e->m
// was consumed and e is still the caller's.
static int s_send(troupe_limiter *lim, troupe_ctx *cx, s_entry *e)
{
    troupe_msg *m = e->m;
    e->m = NULL;
    if (!s_can_send(cx)) {
        tr_msg_free(m); // never offered: not counted
        return TROUPE_ESTATE;
    }
    int rc = tr_request_msg(cx, e->to, m, e->deadline, s_on_reply, e, &e->corr);
    if (rc == 0)
        s_flying_add(lim, e);
    return rc;
}

// Send waiting requests while there is room, oldest first.
static void s_pump(troupe_limiter *lim, troupe_ctx *cx)
{
    lim->busy++;
    while (!lim->closed && lim->q_head &&
           lim->st.in_flight < lim->max_in_flight) {
        s_entry *e = lim->q_head;
        s_queue_remove(lim, e);
        int rc = e->deadline != TROUPE_FOREVER && e->deadline <= troupe_now()
                     ? TROUPE_ETIMEDOUT
                     : s_send(lim, cx, e);
        if (rc)
            s_end_unsent(lim, e, rc);
    }
    lim->busy--;
}

// A request in flight ended: the user's callback, then the next one goes.
static int s_on_reply(troupe_ctx *cx, void *state, int status,
                      const troupe_msg *reply, void *arg)
{
    s_entry *e = arg;
    troupe_limiter *lim = e->lim;
    s_flying_remove(lim, e);
    lim->busy++;
    // An ECANCELED we did not ask for comes from the end of the actor's run
    // (a limiter's ids are not request ids, so nobody else can cancel).
    int run_ends = status == TROUPE_ECANCELED && !e->canceling;
    int rc = e->cb(cx, state, status, reply, e->arg);
    free(e);
    if (run_ends)
        s_close(lim); // what waits is canceled, not sent
    else if (rc >= 0 || status == TROUPE_ECANCELED)
        s_pump(lim, cx); // (a crash instead ends the run, and closes lim)
    lim->busy--;
    s_maybe_free(lim);
    return rc;
}

int tr_limiter_submit(troupe_limiter *lim, troupe_ctx *cx, troupe_addr to,
                      troupe_msg *m, int64_t deadline, troupe_reply_fn cb,
                      void *arg, void **handle)
{
    int rc = 0;
    if (lim->closed || !s_can_send(cx))
        rc = TROUPE_ESTATE;
    else if (deadline != TROUPE_FOREVER && deadline <= troupe_now())
        rc = TROUPE_ETIMEDOUT;
    int wait = lim->q_head || lim->st.in_flight >= lim->max_in_flight;
    if (rc == 0 && wait && lim->st.queued >= lim->max_queued) {
        lim->st.refused++;
        rc = TROUPE_EFULL;
    }
    s_entry *e = rc ? NULL : calloc(1, sizeof *e);
    if (!e) {
        tr_msg_free(m);
        return rc ? rc : TROUPE_ENOMEM;
    }
    *e = (s_entry){.lim = lim,
                   .id = ++lim->next_id,
                   .to = to,
                   .m = m,
                   .deadline = deadline,
                   .cb = cb,
                   .arg = arg};
    if (!wait) {
        rc = s_send(lim, cx, e);
        if (rc) {
            free(e);
            return rc;
        }
    } else {
        if (deadline < lim->alarm_when && s_arm(lim, deadline)) {
            tr_msg_free(m);
            free(e);
            return TROUPE_ENOMEM;
        }
        s_queue_append(lim, e);
    }
    *handle = e;
    return 0;
}

void tr_limiter_cancel_handle(troupe_limiter *lim, void *handle)
{
    s_entry *e = handle;
    if (e->canceling || !e->where) // its callback is running already
        return;
    lim->busy++;
    if (e->where == S_FLYING) {
        e->canceling = 1;
        TR_ALWAYS(tr_pending_cancel(lim->port, lim->actor, e->corr) == 0);
    } else {
        if (e->where == S_QUEUED)
            s_queue_remove(lim, e);
        else if (TR_ALWAYS(e->where == S_ENDING))
            s_unlink(&lim->e_head, &lim->e_tail, e);
        e->where = 0;
        e->canceling = 1;
        s_end_unsent(lim, e, TROUPE_ECANCELED);
    }
    lim->busy--;
    s_maybe_free(lim);
}

int tr_limiter_usable(const troupe_limiter *lim, const tr_port *p,
                      const tr_actor *a)
{
    return lim->port == p && lim->actor == a && !lim->closed;
}

void tr_limiter_hold(troupe_limiter *lim)
{
    lim->refs++;
}

void tr_limiter_release(troupe_limiter *lim)
{
    lim->refs--;
    s_maybe_free(lim);
}

// ---- public ----

TROUPE_API int troupe_limiter_new(troupe_ctx *cx, size_t max_in_flight,
                                  size_t max_queued, troupe_limiter **out)
{
    if (!cx || !cx->actor || !out || max_in_flight == 0)
        return TROUPE_EINVAL;
    if (!s_can_send(cx))
        return TROUPE_ESTATE;
    troupe_limiter *lim = calloc(1, sizeof *lim);
    if (!lim)
        return TROUPE_ENOMEM;
    lim->port = cx->port;
    lim->actor = cx->actor;
    lim->max_in_flight = max_in_flight;
    lim->max_queued = max_queued;
    lim->alarm_when = TROUPE_FOREVER;
    lim->refs = 1;
    // The alarm also tells the limiter when the run ends, queue or not.
    if (tr_alarm_start(lim->port, lim->actor, TROUPE_FOREVER, s_on_alarm, lim,
                       &lim->alarm)) {
        free(lim);
        return TROUPE_ENOMEM;
    }
    *out = lim;
    return 0;
}

TROUPE_API int troupe_limiter_request(troupe_limiter *lim, troupe_addr to,
                                      const char *tag, int64_t deadline,
                                      troupe_reply_fn on_reply, void *arg,
                                      uint64_t *id, const char *fmt, ...)
{
    if (!lim || !on_reply)
        return TROUPE_EINVAL;
    troupe_ctx *cx = tr_owner_ctx(lim->port, lim->actor);
    if (!cx)
        return TROUPE_EINVAL;
    if (lim->closed || !s_can_send(cx))
        return TROUPE_ESTATE;
    troupe_node *n = lim->port->node;
    if (deadline == TROUPE_DEADLINE_DEFAULT)
        deadline = tr_default_deadline(n, cx);
    if (deadline != TROUPE_FOREVER && deadline <= troupe_now())
        return TROUPE_ETIMEDOUT;
    if ((lim->q_head || lim->st.in_flight >= lim->max_in_flight) &&
        lim->st.queued >= lim->max_queued) {
        lim->st.refused++; // full: refused before packing
        return TROUPE_EFULL;
    }
    troupe_msg *m;
    va_list ap;
    va_start(ap, fmt);
    int rc = tr_msg_pack(TROUPE_MSG_REQUEST, tag, &n->limits, fmt, &ap, &m);
    va_end(ap);
    if (rc) {
        if (tr_is_refusal(rc))
            tr_offer_failed(lim->port, tag, to, rc);
        return rc;
    }
    void *handle;
    rc = tr_limiter_submit(lim, cx, to, m, deadline, on_reply, arg, &handle);
    if (rc == 0 && id)
        *id = ((s_entry *)handle)->id;
    return rc;
}

TROUPE_API int troupe_limiter_cancel(troupe_limiter *lim, uint64_t id)
{
    if (!lim || !tr_owner_ctx(lim->port, lim->actor))
        return TROUPE_EINVAL;
    s_entry *lists[] = {lim->q_head, lim->e_head, lim->flying}, *e = NULL;
    for (size_t i = 0; i < 3 && !e; i++)
        for (e = lists[i]; e && e->id != id; e = e->next)
            ;
    if (!e || e->canceling)
        return TROUPE_ENOENT;
    tr_limiter_cancel_handle(lim, e);
    return 0;
}

TROUPE_API void troupe_limiter_destroy(troupe_limiter **lp)
{
    if (!lp || !*lp)
        return;
    troupe_limiter *lim = *lp;
    *lp = NULL;
    // Waiting requests need their callbacks, so the owner's ctx; from fini
    // the limiter was closed with the run already.
    if (!lim->closed && lim->q_head &&
        TR_NEVER(!tr_owner_ctx(lim->port, lim->actor)))
        return; // another thread: leaked rather than broken
    if (TR_NEVER(tr_port_current() != lim->port))
        return;
    lim->busy++;
    s_close(lim);
    lim->refs--;
    lim->busy--;
    s_maybe_free(lim);
}

TROUPE_API int troupe_limiter_stats_get(const troupe_limiter *lim,
                                        troupe_limiter_stats *st)
{
    if (!lim || !st)
        return TROUPE_EINVAL;
    *st = lim->st;
    return 0;
}
