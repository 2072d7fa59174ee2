// SPDX-License-Identifier: MIT
//
// The offload pool, actors layer (see troupe/offload.h). An offload is a
// request to the pool: troupe_offload registers a pending request of the
// actor exactly as troupe_request does, so its deadline, cancel, the
// actor's end and late answers need nothing new; a worker runs the job and
// answers with a reply (status 0) or an error message (its code) through
// tr_route, as any thread outside the node does. A small atomic state per
// job lets the actor's side drop a job that has not started yet. Owns no
// socket; must not include anything from supervisor/.
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "node_internal.h"

// Where a job is (tr_job.state). QUEUED -> RUNNING is the worker's move,
// QUEUED -> DROPPED the actor's (its wait ended first) or the stop's; the
// first to move wins.
enum tr_job_state {
    TR_JOB_QUEUED = 0,
    TR_JOB_RUNNING = 1,
    TR_JOB_DROPPED = 2,
};

struct tr_job {
    tr_job *next;                // in the pool's queue
    troupe_job_fn fn;            // what to run
    void *arg;                   // its argument (the caller's memory)
    troupe_job_free_fn free_arg; // frees arg when both sides let go
    troupe_reply_fn on_done;     // the actor's callback
    void *cb_arg;                // its argument
    troupe_addr actor;           // who asked: where the answer goes
    uint64_t corr;               // the actor's pending request
    int64_t deadline;            // not started by then: not run
    _Atomic int state;           // tr_job_state
    _Atomic int refs;            // the pending request's and the pool's
};

// Let go of j; the last one frees arg (through free_arg) and j.
static void s_release(tr_job *j)
{
    if (atomic_fetch_sub_explicit(&j->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (j->free_arg)
        j->free_arg(j->arg);
    free(j);
}

// ---- the actor's side ----

// The callback of the pending request behind a job: runs on the actor's
// thread once the wait has ended, for whatever reason.
static int s_done(troupe_ctx *cx, void *state, int status,
                  const troupe_msg *reply, void *arg)
{
    (void)reply;
    tr_job *j = arg;
    int queued = TR_JOB_QUEUED;
    // Not started yet (deadline, cancel, the actor's end): it never will be.
    atomic_compare_exchange_strong(&j->state, &queued, TR_JOB_DROPPED);
    int rc = j->on_done(cx, state, status, NULL, j->cb_arg);
    s_release(j);
    return rc;
}

static void *s_worker(void *arg);

// Start one more worker. Returns 0, TROUPE_ENOMEM or TROUPE_ESYS (logged).
// Called with q->lock held.
static int s_start_worker(troupe_node *n)
{
    tr_offload *q = &n->offload;
    if (!q->threads) {
        q->threads = calloc(q->max_threads, sizeof *q->threads);
        if (!q->threads)
            return TROUPE_ENOMEM;
    }
    atomic_fetch_add(&n->live_threads, 1);
    if (pthread_create(&q->threads[q->started], NULL, s_worker, n) != 0) {
        atomic_fetch_sub(&n->live_threads, 1);
        tr_logf(&n->log, TROUPE_LOG_ERROR,
                "offload pool: could not start a worker thread (%u running)",
                q->started);
        return TROUPE_ESYS;
    }
    q->started++;
    return 0;
}

// Queue j, starting a worker if the queued jobs outnumber the idle ones.
// Returns 0, TROUPE_ESHUTDOWN, TROUPE_EFULL, or (no worker at all could be
// started) TROUPE_ENOMEM / TROUPE_ESYS.
static int s_enqueue(troupe_node *n, tr_job *j)
{
    tr_offload *q = &n->offload;
    int rc = 0;
    pthread_mutex_lock(&q->lock);
    if (q->quit) {
        rc = TROUPE_ESHUTDOWN;
    } else if (q->queued >= q->max_queued) {
        rc = TROUPE_EFULL;
    } else {
        if (q->queued >= q->idle && q->started < q->max_threads) {
            int s = s_start_worker(n);
            if (s && q->started == 0)
                rc = s; // nobody would ever run it
        }
        if (rc == 0) {
            if (q->tail)
                q->tail->next = j;
            else
                q->head = j;
            q->tail = j;
            q->queued++;
            if (q->idle)
                pthread_cond_signal(&q->cv);
        }
    }
    pthread_mutex_unlock(&q->lock);
    return rc;
}

TROUPE_API int troupe_offload(troupe_ctx *cx, troupe_job_fn fn, void *arg,
                              troupe_job_free_fn free_arg, int64_t deadline,
                              troupe_reply_fn on_done, void *cb_arg,
                              uint64_t *id)
{
    int rc = tr_ctx_check(cx);
    if (rc)
        return rc;
    if (!fn || !on_done)
        return TROUPE_EINVAL;
    tr_port *p = cx->port;
    troupe_node *n = p->node;
    if (deadline == TROUPE_DEADLINE_DEFAULT)
        deadline = tr_default_deadline(n, cx);
    if (deadline != TROUPE_FOREVER && deadline <= troupe_now())
        return TROUPE_ETIMEDOUT;
    tr_job *j = calloc(1, sizeof *j);
    if (!j)
        return TROUPE_ENOMEM;
    j->fn = fn;
    j->arg = arg;
    j->free_arg = free_arg;
    j->on_done = on_done;
    j->cb_arg = cb_arg;
    j->actor = cx->actor->addr;
    j->deadline = deadline;
    atomic_init(&j->state, TR_JOB_QUEUED);
    atomic_init(&j->refs, 2);
    tr_pending *pd;
    if (tr_pending_open(cx, deadline, s_done, j, &pd)) {
        free(j);
        return TROUPE_ENOMEM;
    }
    uint64_t corr = pd->corr;
    j->corr = corr;
    rc = s_enqueue(n, j);
    if (rc) { // neither on_done nor free_arg will run
        tr_pending_discard(cx, corr);
        free(j);
        if (rc == TROUPE_EFULL) { // offered, and refused
            tr_offer_failed(p, "offload", cx->actor->addr, rc);
            TR_BUMP(cx->actor->n_sent); // only its port writes these
            TR_BUMP(cx->actor->n_refused);
            atomic_fetch_add(&n->offload.refused, 1);
        }
        return rc;
    }
    // Counted as a message to the pool: sent now, then delivered when a
    // worker starts it or dead-lettered when it is dropped unrun.
    TR_BUMP(p->ctr.sent);
    TR_BUMP(cx->actor->n_sent); // only its port writes it
    if (id)
        *id = corr;
    return 0;
}

// ---- the pool's side ----

// Answer j's actor with status (0: a reply, else an error message), from a
// thread that is not a port. What finds the actor gone or no longer waiting
// is dead-lettered and counted as a late reply by the usual paths.
static void s_answer(troupe_node *n, tr_job *j, int status)
{
    troupe_msg *m = tr_msg_new(status ? TROUPE_MSG_ERROR : TROUPE_MSG_REPLY, "",
                               0, NULL, 0);
    if (!m) {
        tr_logf(&n->log, TROUPE_LOG_ERROR,
                "out of memory: the end of an offloaded job is lost (its "
                "actor waits until its deadline)");
        return;
    }
    m->to = j->actor;
    m->corr = j->corr;
    m->code = status;
    tr_route(n, NULL, m);
}

static void s_run(troupe_node *n, tr_job *j)
{
    int queued = TR_JOB_QUEUED;
    if ((j->deadline != TROUPE_FOREVER && troupe_now() >= j->deadline) ||
        !atomic_compare_exchange_strong(&j->state, &queued, TR_JOB_RUNNING)) {
        // Too late or no longer wanted: the actor has its answer (from its
        // deadline timer, a cancel or its end) or is about to get it.
        atomic_fetch_add(&n->retired.dead, 1);
        s_release(j);
        return;
    }
    atomic_fetch_add(&n->retired.delivered, 1);
    int rc = j->fn(j->arg);
    if (rc > 0)
        rc = TROUPE_EINVAL; // as a handler's
    atomic_fetch_add(&n->offload.jobs, 1);
    s_answer(n, j, rc);
    s_release(j);
}

static void *s_worker(void *arg)
{
    troupe_node *n = arg;
    tr_offload *q = &n->offload;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (!q->head && !q->quit) {
            q->idle++;
            pthread_cond_wait(&q->cv, &q->lock);
            q->idle--;
        }
        if (q->quit) // the stop took what was queued
            break;
        tr_job *j = q->head;
        q->head = j->next;
        if (!q->head)
            q->tail = NULL;
        q->queued--;
        pthread_mutex_unlock(&q->lock);
        s_run(n, j);
        pthread_mutex_lock(&q->lock);
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

// ---- node life ----

void tr_offload_init(troupe_node *n)
{
    tr_offload *q = &n->offload;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->cv, NULL);
    if (n->opts.offload_threads == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n->opts.offload_threads = c > 0 ? (unsigned)c : 1;
    }
    q->max_threads = n->opts.offload_threads;
    q->max_queued = n->opts.offload_queue;
}

// Join t by deadline (monotonic ms). Returns 0 or TROUPE_ETIMEDOUT.
static int s_join_by(pthread_t t, int64_t deadline)
{
    if (deadline == TROUPE_FOREVER)
        return pthread_join(t, NULL) == 0 ? 0 : TROUPE_ESYS;
    int64_t left = deadline - troupe_now();
    if (left < 0)
        left = 0;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts); // timedjoin takes CLOCK_REALTIME
    int64_t at = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + left * 1000000;
    ts.tv_sec = at / 1000000000;
    ts.tv_nsec = at % 1000000000;
    return pthread_timedjoin_np(t, NULL, &ts) == 0 ? 0 : TROUPE_ETIMEDOUT;
}

int tr_offload_stop(troupe_node *n, int64_t deadline)
{
    tr_offload *q = &n->offload;
    pthread_mutex_lock(&q->lock);
    if (q->quit) {
        pthread_mutex_unlock(&q->lock);
        return 0;
    }
    q->quit = 1;
    tr_job *left = q->head;
    q->head = q->tail = NULL;
    q->queued = 0;
    unsigned started = q->started;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->lock);
    while (left) {
        tr_job *j = left;
        left = j->next;
        int queued = TR_JOB_QUEUED;
        // Normally its actor has ended, and its wait with it; one that
        // still waits (its loop did not stop in time) hears why.
        if (atomic_compare_exchange_strong(&j->state, &queued, TR_JOB_DROPPED))
            s_answer(n, j, TROUPE_ESHUTDOWN);
        atomic_fetch_add(&n->retired.dead, 1);
        s_release(j);
    }
    int rc = 0;
    for (unsigned i = 0; i < started; i++) {
        if (s_join_by(q->threads[i], deadline) == 0) {
            atomic_fetch_sub(&n->live_threads, 1);
            continue;
        }
        tr_logf(&n->log, TROUPE_LOG_ERROR,
                "offload worker %u still running a job at the deadline: "
                "abandoned, node memory leaked",
                i);
        pthread_detach(q->threads[i]);
        n->leaked = 1;
        rc = TROUPE_ETIMEDOUT;
    }
    return rc;
}

void tr_offload_fini(troupe_node *n)
{
    tr_offload *q = &n->offload;
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->lock);
    free(q->threads);
    q->threads = NULL;
}

void tr_offload_stats(troupe_node *n, troupe_node_stats *st)
{
    tr_offload *q = &n->offload;
    pthread_mutex_lock(&q->lock);
    st->offload_queued = q->queued;
    pthread_mutex_unlock(&q->lock);
    st->offload_jobs = atomic_load(&q->jobs);
    st->offload_refused = atomic_load(&q->refused);
}
