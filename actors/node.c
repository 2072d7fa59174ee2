// SPDX-License-Identifier: MIT
//
// The node, actors layer: options and their defaults, creation (zmq context,
// actor table, registry, loops), the ordered stop (root actors newest first,
// then every port), destruction and node-wide stats.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "node_internal.h"
#include "proc_internal.h"

#define TR_DEFAULT_MAX_PORTS 4096u
#define TR_DEFAULT_MAX_ACTORS (1u << 24)

static _Atomic uint32_t s_node_ids;

TROUPE_API void troupe_node_opts_init(troupe_node_opts *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->loops = 0;
    o->mailbox_bound = 65536;
    o->max_msg_size = TR_DEFAULT_MAX_MSG_SIZE;
    o->max_depth = TR_DEFAULT_MAX_DEPTH;
    o->max_items = TR_DEFAULT_MAX_ITEMS;
    o->max_tag_len = TR_DEFAULT_MAX_TAG_LEN;
    o->request_timeout_ms = 5000;
    o->shutdown_timeout_ms = 5000;
    o->batch = 64;
    o->max_ports = TR_DEFAULT_MAX_PORTS;
    o->max_actors = TR_DEFAULT_MAX_ACTORS;
    o->log = NULL;
    o->log_arg = NULL;
    o->log_level = TROUPE_LOG_WARN;
    o->watchdog_ms = 10;
    o->block_warn_ms = 100;
    o->offload_threads = 0;
    o->offload_queue = 1024;
}

static int s_check_opts(const troupe_node_opts *o)
{
    if (o->mailbox_bound == 0 || o->mailbox_bound > TR_SLOT_DEPTH_MASK ||
        o->max_msg_size < 16 || o->max_depth == 0 ||
        o->max_depth > TR_MAX_DEPTH_CAP || o->max_items == 0 ||
        o->max_tag_len == 0 || o->max_tag_len > 65535 ||
        o->request_timeout_ms <= 0 || o->shutdown_timeout_ms < 0 ||
        o->batch == 0 || o->loops > 1024 || o->max_ports == 0 ||
        o->max_actors == 0 || o->watchdog_ms < 0 || o->block_warn_ms < 0 ||
        o->offload_threads > 1024 || o->offload_queue == 0)
        return TROUPE_EINVAL;
    unsigned loops = o->loops ? o->loops : 1;
    if (o->max_ports <= loops)
        return TROUPE_EINVAL;
    return 0;
}

static void s_free(troupe_node *n)
{
    troupe_node_set_fault_plan(n, NULL); // drop its hold on a fault plan
    for (uint32_t i = 0; n->ports && i < n->max_ports; i++) {
        tr_port *p = atomic_load(&n->ports[i]);
        if (p) {
            close(p->efd);
            pthread_mutex_destroy(&p->fq_lock);
            free(p);
        }
    }
    free(n->ports);
    free(n->roots);
    tr_registry_fini(&n->names);
    tr_slots_fini(&n->slots);
    tr_ctx_fini(&n->zctx);
    tr_offload_fini(n);
    tr_proc_node_fini(n);
    tr_actor_mem_fini(&n->amem); // every actor has been freed
    pthread_mutex_destroy(&n->lock);
    free(n);
}

TROUPE_API int troupe_node_new(troupe_node **out, const troupe_node_opts *opts)
{
    if (!out)
        return TROUPE_EINVAL;
    *out = NULL;
    troupe_node_opts o;
    if (opts)
        o = *opts;
    else
        troupe_node_opts_init(&o);
    int rc = s_check_opts(&o);
    if (rc)
        return rc;
    tr_clock_start(); // handler timing is calibrated by the first handler
    if (o.loops == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        o.loops = c > 0 ? (unsigned)c : 1;
        if (o.loops >= o.max_ports)
            o.loops = o.max_ports - 1;
    }
    troupe_node *n = calloc(1, sizeof *n);
    if (!n)
        return TROUPE_ENOMEM;
    n->opts = o;
    n->limits =
        (tr_limits){o.max_msg_size, o.max_depth, o.max_items, o.max_tag_len};
    tr_log_init(&n->log, o.log, o.log_arg, o.log_level);
    pthread_mutex_init(&n->lock, NULL);
    tr_actor_mem_init(&n->amem, sizeof(tr_actor)); // fails only with ESYS
    tr_offload_init(n); // no thread until the first job
    n->id = atomic_fetch_add(&s_node_ids, 1) + 1;
    n->max_ports = o.max_ports;
    n->n_loops = o.loops;
    n->ports = calloc(n->max_ports, sizeof *n->ports);
    if (!n->ports || (rc = tr_ctx_init(&n->zctx, o.max_msg_size + 256)) ||
        (rc = tr_slots_init(&n->slots, o.max_actors)) ||
        (rc = tr_registry_init(&n->names))) {
        rc = rc ? rc : TROUPE_ENOMEM;
        s_free(n);
        return rc;
    }
    for (unsigned i = 0; i < n->n_loops; i++) {
        tr_port *p;
        rc = tr_port_open(n, TR_PORT_LOOP, &p);
        if (rc == 0)
            rc = tr_port_start_thread(p);
        if (rc) {
            if (rc && p && !p->has_thread && atomic_load(&p->state))
                tr_port_close(p);
            n->n_loops = i;
            troupe_node_stop(n, troupe_deadline_in(1000));
            n->n_loops = o.loops;
            if (!n->leaked)
                s_free(n);
            return rc;
        }
    }
    if ((rc = tr_watchdog_start(n)) != 0) {
        troupe_node_stop(n, troupe_deadline_in(1000));
        if (!n->leaked)
            s_free(n);
        return rc;
    }
    *out = n;
    return 0;
}

TROUPE_API unsigned troupe_node_loops(const troupe_node *n)
{
    return n ? n->n_loops : 0;
}

static int s_stop_roots(troupe_node *n, int64_t deadline)
{
    int rc = 0;
    for (size_t i = n->n_roots; i-- > 0;) {
        tr_waiter *w = tr_waiter_new();
        if (!w)
            return TROUPE_ENOMEM;
        int s = tr_send_system(n, n->roots[i], TR_SYS_STOP,
                               (uint64_t)(int64_t)TROUPE_ESHUTDOWN, w);
        // On failure tr_route has signalled and dropped the port's share.
        int r = tr_waiter_wait(w, s ? TROUPE_NOWAIT : deadline);
        if (!s && r == TROUPE_ETIMEDOUT) {
            tr_logf(&n->log, TROUPE_LOG_WARN,
                    "actor %u.%u did not stop by the deadline",
                    n->roots[i].slot, n->roots[i].incarnation);
            rc = TROUPE_ETIMEDOUT;
        }
    }
    return rc;
}

static int s_quit_ports(troupe_node *n, int kind, int64_t deadline)
{
    int rc = 0;
    tr_waiter *ws[64];
    for (uint32_t base = 0; base < n->max_ports; base += 64) {
        size_t k = 0;
        for (uint32_t i = base; i < base + 64 && i < n->max_ports; i++) {
            tr_port *p = atomic_load(&n->ports[i]);
            if (!p || p->kind != kind || !p->has_thread ||
                atomic_load(&p->state) != TR_PORT_OPEN)
                continue;
            tr_waiter *w = tr_waiter_new();
            troupe_msg *m = tr_msg_new(TROUPE_MSG_SYSTEM, "", 0, NULL, 0);
            if (!w || !m) {
                free(m);
                if (w) {
                    tr_waiter_release(w);
                    tr_waiter_release(w);
                }
                return TROUPE_ENOMEM;
            }
            m->code = TR_SYS_QUIT;
            m->ptr = w;
            if (tr_port_push_foreign(n, i, m) != 0) {
                tr_msg_free(m); // ended by itself meanwhile
                tr_waiter_release(w);
                tr_waiter_release(w);
                continue;
            }
            ws[k++] = w;
        }
        for (size_t j = 0; j < k; j++)
            if (tr_waiter_wait(ws[j], deadline) == TROUPE_ETIMEDOUT)
                rc = TROUPE_ETIMEDOUT;
    }
    return rc;
}

static int s_join(troupe_node *n, int64_t deadline)
{
    int rc = 0;
    for (uint32_t i = 0; i < n->max_ports; i++) {
        tr_port *p = atomic_load(&n->ports[i]);
        if (!p || !p->has_thread)
            continue;
        int64_t ns = tr_now_ns();
        int64_t left =
            deadline == TROUPE_FOREVER ? 3600000 : deadline - troupe_now();
        if (left < 0)
            left = 0;
        ns += left * 1000000;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts); // timedjoin takes CLOCK_REALTIME
        int64_t real =
            (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + (ns - tr_now_ns());
        ts.tv_sec = real / 1000000000;
        ts.tv_nsec = real % 1000000000;
        int e = pthread_timedjoin_np(p->thread, NULL, &ts);
        if (e == 0) {
            p->has_thread = 0;
        } else {
            tr_logf(&n->log, TROUPE_LOG_ERROR,
                    "thread of port %u still running at the deadline: "
                    "abandoned, node memory leaked",
                    i);
            pthread_detach(p->thread);
            p->has_thread = 0;
            n->leaked = 1;
            rc = TROUPE_ETIMEDOUT;
        }
    }
    return rc;
}

TROUPE_API int troupe_node_stop(troupe_node *n, int64_t deadline)
{
    if (!n)
        return TROUPE_EINVAL;
    tr_port *here = tr_port_current();
    if (here && here->node == n && here->kind != TR_PORT_CLIENT)
        return TROUPE_EINVAL;
    pthread_mutex_lock(&n->lock);
    if (n->stopped) {
        pthread_mutex_unlock(&n->lock);
        return n->stop_rc;
    }
    n->stopped = 1;
    atomic_store(&n->stopping, 1);
    pthread_mutex_unlock(&n->lock);
    int rc = s_stop_roots(n, deadline);
    tr_logf(&n->log, TROUPE_LOG_DEBUG, "stop: roots stopped (%s)",
            troupe_errname(rc));
    int r = s_quit_ports(n, TR_PORT_ISOLATED, deadline);
    tr_logf(&n->log, TROUPE_LOG_DEBUG, "stop: isolated ports quit (%s)",
            troupe_errname(r));
    rc = rc ? rc : r;
    r = s_quit_ports(n, TR_PORT_LOOP, deadline);
    tr_logf(&n->log, TROUPE_LOG_DEBUG, "stop: loops quit (%s)",
            troupe_errname(r));
    rc = rc ? rc : r;
    // After every actor that could submit a job: their waits have ended.
    r = tr_offload_stop(n, deadline);
    rc = rc ? rc : r;
    tr_watchdog_stop(n); // before the ports it reads can be freed
    r = s_join(n, deadline);
    rc = rc ? rc : r;
    if (atomic_load(&n->live_clients) != 0) {
        tr_logf(&n->log, TROUPE_LOG_ERROR,
                "node stopped with client handles still open: destroy them "
                "first; the node's memory is leaked");
        n->leaked = 1;
        rc = rc ? rc : TROUPE_ESTATE;
    }
    n->stop_rc = rc;
    return rc;
}

TROUPE_API int troupe_node_destroy(troupe_node **np)
{
    if (!np || !*np)
        return 0;
    troupe_node *n = *np;
    tr_port *here = tr_port_current();
    if (here && here->node == n && here->kind != TR_PORT_CLIENT)
        return TROUPE_EINVAL; // from a handler: the node would be freed
                              // under its own feet
    *np = NULL;
    int rc =
        troupe_node_stop(n, troupe_deadline_in(n->opts.shutdown_timeout_ms));
    if (n->leaked)
        return rc ? rc : TROUPE_ETIMEDOUT;
    s_free(n);
    return rc;
}

void tr_node_retire_counters(troupe_node *n, tr_counters *c)
{
    _Atomic uint64_t *from = &c->sent, *to = &n->retired.sent;
    size_t k = sizeof *c / sizeof c->sent;
    pthread_mutex_lock(&n->lock);
    for (size_t i = 0; i < k; i++) {
        atomic_fetch_add(&to[i], atomic_load(&from[i]));
        atomic_store(&from[i], 0);
    }
    pthread_mutex_unlock(&n->lock);
}

TROUPE_API int troupe_node_stats_get(troupe_node *n, troupe_node_stats *st)
{
    if (!n || !st)
        return TROUPE_EINVAL;
    tr_counters sum;
    memset(&sum, 0, sizeof sum);
    _Atomic uint64_t *to = &sum.sent;
    size_t k = sizeof sum / sizeof sum.sent;
    pthread_mutex_lock(&n->lock);
    _Atomic uint64_t *from = &n->retired.sent;
    for (size_t i = 0; i < k; i++)
        to[i] += atomic_load(&from[i]);
    for (uint32_t p = 0; p < n->max_ports; p++) {
        tr_port *port = atomic_load(&n->ports[p]);
        if (!port)
            continue;
        from = &port->ctr.sent;
        for (size_t i = 0; i < k; i++)
            to[i] += atomic_load(&from[i]);
    }
    pthread_mutex_unlock(&n->lock);
    memset(st, 0, sizeof *st);
    tr_offload_stats(n, st);
    st->sent = sum.sent;
    st->delivered = sum.delivered;
    st->dead_lettered = sum.dead;
    st->refused = sum.refused;
    st->late_replies = sum.late;
    st->malformed = sum.malformed;
    st->spawned = sum.spawned;
    st->exited = sum.exited;
    st->crashed = sum.crashed;
    st->budget_overruns = atomic_load(&n->budget_overruns);
    st->live_actors = atomic_load(&n->live_actors);
    st->live_threads = atomic_load(&n->live_threads);
    st->live_sockets = atomic_load(&n->zctx.live);
    st->live_clients = atomic_load(&n->live_clients);
    st->limits_hit = atomic_load(&n->limits_hit);
    return 0;
}
