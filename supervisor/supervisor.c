// SPDX-License-Identifier: MIT
//
// The supervisor actor, supervisor layer: glue between the decision table
// (sup_core.c), which says what to do, and the runtime (actors/restart.h),
// which does it. A supervisor is an ordinary shared actor that traps exits
// and stops: its children are spawned linked to it and park when they end,
// so that a restart revives them under the same address with their
// mailbox. Everything a supervisor learns arrives as a message ("$started"
// from a child, an exit message, its tick timer, the requests of the
// public calls in sup_api.c), and each one is fed to the core, whose
// actions are carried out here in order.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_internal.h"
#include "restart.h"
#include "sup_core.h"
#include "sup_internal.h"
#include "sup_spec.h"
#include "troupe/request.h"

// One child as the glue sees it; index = its index in the core.
typedef struct s_child {
    const tr_child_copy *spec;    // static: in the supervisor's spec; dynamic:
    tr_child_copy own;            // its own copy, here
    troupe_addr addr;             // its actor (running or parked), or NONE
    int parked;                   // its run ended and we heard of it
    int ran;                      // it started once: next START is a restart
    troupe_deferred *start_reply; // start_child / restart_child waiting
    int added;                    // added by start_child: a failed first
                                  // start drops it (restart_child keeps it)
    troupe_deferred *stop_reply;  // troupe_sup_stop_child waiting
} s_child;

typedef struct s_sup {
    tr_sup_core core;   // the decisions
    tr_sup_copy *spec;  // one reference for this run
    s_child *kids;      // parallel to core.child
    size_t n_kids;      // allocated entries
    uint64_t timer;     // the armed "$sup.tick" timer, 0: none
    int64_t timer_when; // when it fires
    tr_waiter *ready;   // troupe_node_sup_start waiting for RUNNING
    uint64_t restarts;  // restarts done
    int core_ok;        // core initialised
} s_sup;

static void s_apply(troupe_ctx *cx, s_sup *s);
static void s_fini(void *state, int reason);

static int s_grow(s_sup *s)
{
    if (s->n_kids >= s->core.cap_child)
        return 0;
    s_child *k = realloc(s->kids, s->core.cap_child * sizeof *k);
    if (!k)
        return TROUPE_ENOMEM;
    memset(k + s->n_kids, 0, (s->core.cap_child - s->n_kids) * sizeof *k);
    s->kids = k;
    s->n_kids = s->core.cap_child;
    return 0;
}

// Add a child to core and glue. spec is borrowed (static) or copied into
// the entry (own != NULL). Returns 0 and *i, or a code.
static int s_add(s_sup *s, const tr_child_copy *spec,
                 const troupe_child_spec *own, size_t *i)
{
    const tr_child_copy *c = spec;
    tr_child_copy tmp;
    if (own) {
        int rc = tr_child_copy_init(&tmp, own);
        if (rc)
            return rc;
        c = &tmp;
    }
    int rc = tr_sup_core_add(&s->core, c->restart, c->shutdown_ms,
                             c->start_timeout_ms, i);
    if (rc == 0)
        rc = s_grow(s);
    if (rc) {
        if (own)
            tr_child_copy_fini(&tmp);
        return rc; // (a core entry added without glue stays IDLE, unused)
    }
    s_child *k = &s->kids[*i];
    memset(k, 0, sizeof *k);
    if (own) {
        k->own = tmp;
        k->spec = &k->own;
    } else {
        k->spec = spec;
    }
    return 0;
}

static long s_find(const s_sup *s, troupe_addr a)
{
    for (size_t i = 0; i < s->core.n_child && i < s->n_kids; i++)
        if (s->core.child[i].state != TR_SUP_CHILD_FREE &&
            troupe_addr_eq(s->kids[i].addr, a))
            return (long)i;
    return -1;
}

static long s_find_id(const s_sup *s, const char *id, size_t len)
{
    for (size_t i = 0; i < s->core.n_child && i < s->n_kids; i++) {
        const char *cid = s->kids[i].spec ? s->kids[i].spec->id : NULL;
        if (s->core.child[i].state != TR_SUP_CHILD_FREE && cid &&
            strlen(cid) == len && memcmp(cid, id, len) == 0)
            return (long)i;
    }
    return -1;
}

static int s_spawn_child(troupe_ctx *cx, s_child *k)
{
    troupe_actor_spec as;
    if (k->spec->sup)
        tr_sup_actor_spec(k->spec->sup, &as);
    else
        as = k->spec->actor;
    return tr_spawn_supervised(cx, &as, &k->addr);
}

// Log a line about this supervisor ("supervisor 3.1 web: ...").
static void s_log(troupe_ctx *cx, s_sup *s, troupe_log_level level,
                  const char *what, const s_child *k, int reason)
{
    troupe_addr self = troupe_self(cx);
    char anon[32];
    const char *id = k && k->spec->id ? k->spec->id : "";
    if (k && !k->spec->id) { // a dynamic child: its address
        snprintf(anon, sizeof anon, "%u.%u", k->addr.slot, k->addr.incarnation);
        id = anon;
    }
    char why[64] = "";
    if (reason)
        snprintf(why, sizeof why, " after %s (%d)",
                 reason <= TROUPE_EUSER ? "application error"
                                        : troupe_errname(reason),
                 reason);
    tr_logf(&troupe_ctx_node(cx)->log, level, "supervisor %u.%u%s%s: %s%s%s%s",
            self.slot, self.incarnation, s->spec->name ? " " : "",
            s->spec->name ? s->spec->name : "", what, k ? " " : "", id, why);
}

// A start_child / restart_child caller waits for child i: answer it once
// the child is up.
static void s_answer_start(troupe_ctx *cx, s_sup *s, size_t i)
{
    s_child *k = &s->kids[i];
    if (!k->start_reply || s->core.child[i].state != TR_SUP_CHILD_RUNNING)
        return;
    k->added = 0; // from now on a failed start is a restart's
    troupe_deferred_reply(cx, &k->start_reply, "[uuu]", k->addr.node,
                          k->addr.slot, k->addr.incarnation);
}

static void s_start(troupe_ctx *cx, s_sup *s, size_t i)
{
    s_child *k = &s->kids[i];
    int rc = TROUPE_EDEAD;
    if (k->ran) {
        s->restarts++;
        s_log(cx, s, TROUPE_LOG_INFO, "restarts child", k,
              s->core.child[i].last_reason);
    }
    k->ran = 1;
    int up = 0;
    if (troupe_addr_valid(k->addr) && k->parked) {
        k->parked = 0;
        rc = tr_restart_revive(cx, k->addr, &up); // same address and mailbox
    }
    if (rc == TROUPE_EDEAD || rc == TROUPE_ENOENT) { // none, or finished
        k->addr = TROUPE_ADDR_NONE;
        rc = s_spawn_child(cx, k);
    }
    if (rc) {
        k->addr = TROUPE_ADDR_NONE;
        tr_sup_core_start_failed(&s->core, i, rc, troupe_now());
        s_apply(cx, s);
    } else if (up) { // revived on our loop and up: no "$started" to wait for
        tr_sup_core_started(&s->core, i, troupe_now());
        s_answer_start(cx, s, i);
        s_apply(cx, s);
    }
}

// STOP / KILL: a parked child has ended already, so it is told to the core
// at once; a running one parks and its exit message follows.
static void s_stop(troupe_ctx *cx, s_sup *s, size_t i, int reason)
{
    s_child *k = &s->kids[i];
    if (k->parked || !troupe_addr_valid(k->addr) ||
        troupe_stop(cx, k->addr, reason) != 0) {
        k->parked = 1;
        tr_sup_core_exited(&s->core, i, reason, troupe_now());
        s_apply(cx, s);
    }
}

static int s_isolated(const s_child *k)
{
    return !k->spec->sup && (k->spec->actor.placement == TROUPE_ISOLATED ||
                             k->spec->actor.placement == TROUPE_PROCESS);
}

// Let go of child k's current instance for good without hearing from it
// again: unlinked first, so that its end (if it ever comes) is not taken
// for a parent's. An isolated one whose thread is stuck is abandoned.
static void s_drop_instance(troupe_ctx *cx, s_child *k, int reason)
{
    if (troupe_addr_valid(k->addr)) {
        troupe_unlink(cx, k->addr);
        if (!s_isolated(k) || tr_abandon(troupe_ctx_node(cx), k->addr,
                                         k->spec->actor.name) == TROUPE_ENOTSUP)
            tr_restart_finish(cx, k->addr, reason);
    }
    k->addr = TROUPE_ADDR_NONE;
    k->parked = 0;
}

// KILL. While STOPPING (shutdown deadline, or brutal) the core waits for
// the exit; after a start timeout it has moved on already. A shared loop
// cannot be preempted: there a kill is a stop no trap catches
// (TROUPE_EKILLED), applied after the current message. An isolated child
// is abandoned, so a hung thread does not hold the supervisor.
static void s_kill(troupe_ctx *cx, s_sup *s, size_t i)
{
    s_child *k = &s->kids[i];
    if (s->core.child[i].state != TR_SUP_CHILD_STOPPING) {
        s_drop_instance(cx, k, TROUPE_EKILLED);
        return;
    }
    if (!s_isolated(k) || k->parked) {
        s_stop(cx, s, i, TROUPE_EKILLED);
        return;
    }
    s_drop_instance(cx, k, TROUPE_EKILLED);
    k->parked = 1; // nothing left to revive: START spawns afresh
    tr_sup_core_exited(&s->core, i, TROUPE_EKILLED, troupe_now());
    s_apply(cx, s);
}

// The watchdog found child `who` running past its handler budget. An
// isolated one is replaced (it counts as a crash with TROUPE_ETIMEDOUT); a
// shared one was only reported (it cannot be preempted).
static void s_on_hung(troupe_ctx *cx, s_sup *s, troupe_addr who)
{
    long i = s_find(s, who);
    if (i < 0 || !s_isolated(&s->kids[i]))
        return;
    int st = s->core.child[i].state;
    if (st != TR_SUP_CHILD_RUNNING && st != TR_SUP_CHILD_STARTING)
        return; // stopping: its shutdown deadline deals with it
    s_drop_instance(cx, &s->kids[i], TROUPE_ETIMEDOUT);
    s->kids[i].parked = 1;
    if (st == TR_SUP_CHILD_STARTING)
        tr_sup_core_start_failed(&s->core, (size_t)i, TROUPE_ETIMEDOUT,
                                 troupe_now());
    else
        tr_sup_core_exited(&s->core, (size_t)i, TROUPE_ETIMEDOUT, troupe_now());
}

// A child that will not run again under this address: end it for good,
// and answer whoever waits on it.
static void s_release(troupe_ctx *cx, s_child *k, int rc)
{
    if (troupe_addr_valid(k->addr))
        tr_restart_finish(cx, k->addr, TROUPE_ESHUTDOWN);
    k->addr = TROUPE_ADDR_NONE;
    k->parked = 0;
    if (k->stop_reply)
        troupe_deferred_reply(cx, &k->stop_reply, NULL);
    if (k->start_reply)
        troupe_deferred_error(cx, &k->start_reply, rc ? rc : TROUPE_ESHUTDOWN);
}

static void s_forget(troupe_ctx *cx, s_sup *s, size_t i)
{
    s_child *k = &s->kids[i];
    s_release(cx, k, s->core.child[i].last_reason);
    if (k->spec == &k->own)
        tr_child_copy_fini(&k->own);
    memset(k, 0, sizeof *k);
}

// Tell a waiting troupe_node_sup_start how the start went (once).
static void s_ready(s_sup *s, int rc)
{
    if (s->ready) {
        tr_waiter_signal(s->ready, rc);
        tr_waiter_release(s->ready);
        s->ready = NULL;
    }
}

static void s_do(troupe_ctx *cx, s_sup *s, const tr_sup_action *a)
{
    switch (a->kind) {
    case TR_SUP_DO_START:
        s_start(cx, s, a->i);
        break;
    case TR_SUP_DO_STOP:
        s_stop(cx, s, a->i, TROUPE_ESHUTDOWN);
        break;
    case TR_SUP_DO_KILL:
        s_kill(cx, s, a->i);
        break;
    case TR_SUP_DO_FORGET:
        s_forget(cx, s, a->i);
        break;
    case TR_SUP_DO_EXIT:
        if (a->reason == TROUPE_EINTENSITY) {
            char what[128];
            snprintf(what, sizeof what,
                     "gives up with TROUPE_EINTENSITY: more than %u restarts "
                     "in %lld ms, children stopped",
                     s->spec->spec.intensity,
                     (long long)s->spec->spec.period_ms);
            s_log(cx, s, TROUPE_LOG_WARN, what, NULL, 0);
        }
        s_ready(s, a->reason ? a->reason : TROUPE_ESHUTDOWN);
        troupe_exit(cx, a->reason);
        break;
    default:
        break;
    }
}

static void s_arm_timer(troupe_ctx *cx, s_sup *s)
{
    int64_t when = tr_sup_core_next_deadline(&s->core);
    if (s->timer && s->timer_when == when)
        return;
    if (s->timer)
        troupe_timer_cancel(cx, s->timer);
    s->timer = 0;
    if (when == INT64_MAX || s->core.state == TR_SUP_DONE)
        return;
    int64_t delay = when - troupe_now();
    if (troupe_timer_start(cx, delay > 0 ? delay : 0, 0, "$sup.tick",
                           &s->timer) == 0)
        s->timer_when = when;
}

// Carry out the core's last actions (a copy: carrying them out feeds the
// core again), then tidy: children the core no longer runs release their
// address, and a waiting troupe_node_sup_start hears RUNNING.
static void s_apply(troupe_ctx *cx, s_sup *s)
{
    size_t n = s->core.n_out;
    tr_sup_action small[8], *act = small;
    if (n > 8 && !(act = malloc(n * sizeof *act))) {
        act = small; // out of memory: carry out what fits, in order
        n = 8;
    }
    memcpy(act, s->core.out, n * sizeof *act);
    s->core.n_out = 0;
    for (size_t k = 0; k < n; k++)
        s_do(cx, s, &act[k]);
    if (act != small)
        free(act);
    for (size_t i = 0; i < s->core.n_child && i < s->n_kids; i++) {
        s_child *k = &s->kids[i];
        if (s->core.child[i].state != TR_SUP_CHILD_IDLE ||
            s->core.child[i].restart_after_stop)
            continue; // running, or queued to start again in a group
        int start_failed = k->start_reply != NULL;
        if ((troupe_addr_valid(k->addr) && k->parked) || start_failed)
            s_release(cx, k, s->core.child[i].last_reason);
        if (start_failed && k->added && s->core.state != TR_SUP_DONE) {
            // As OTP's start_child: a child that failed its first start is
            // not kept.
            tr_sup_core_stop_child(&s->core, i, 1, troupe_now());
            s_apply(cx, s);
            return;
        }
    }
    if (s->core.state == TR_SUP_RUNNING) {
        s_ready(s, 0);
        tr_report_started(cx); // a nested one is up once its children are
    }
    s_arm_timer(cx, s);
}

// ---- the actor ----

static int s_init(troupe_ctx *cx, void *state, void *arg)
{
    s_sup *s = state;
    tr_sup_copy *spec = arg;
    tr_sup_copy_ref(spec);
    s->spec = spec;
    s->ready = spec->ready; // only the first run has one
    spec->ready = NULL;
    tr_sup_policy pol = {
        .strategy = (int)spec->spec.strategy,
        .intensity = spec->spec.intensity,
        .period_ms = spec->spec.period_ms,
        .backoff_min_ms = spec->spec.backoff_min_ms,
        .backoff_max_ms = spec->spec.backoff_max_ms ? spec->spec.backoff_max_ms
                                                    : spec->spec.backoff_min_ms,
        .backoff_reset_ms = spec->spec.backoff_reset_ms
                                ? spec->spec.backoff_reset_ms
                                : spec->spec.period_ms,
        .seed = spec->spec.seed ? spec->spec.seed : 0x5eed5eed5eed5eedull,
        .shutdown_reason = TROUPE_ESHUTDOWN,
        .intensity_reason = TROUPE_EINTENSITY,
        .timeout_reason = TROUPE_ETIMEDOUT,
    };
    int rc = tr_sup_core_init(&s->core, &pol);
    s->core_ok = rc == 0;
    tr_trap_stop(cx);
    tr_defer_started(cx);
    if (spec->spec.strategy != TROUPE_SIMPLE_ONE_FOR_ONE)
        for (size_t i = 0; rc == 0 && i < spec->spec.n_children; i++) {
            size_t at;
            rc = s_add(s, &spec->children[i], NULL, &at);
        }
    if (rc) { // fini will not run: undo here
        s_ready(s, rc);
        s_fini(s, rc);
        return rc;
    }
    tr_sup_core_start(&s->core, troupe_now());
    s_apply(cx, s);
    return 0;
}

static void s_fini(void *state, int reason)
{
    (void)reason;
    s_sup *s = state;
    s_ready(s, reason ? reason : TROUPE_ESHUTDOWN);
    for (size_t i = 0; i < s->n_kids; i++)
        if (s->kids[i].spec == &s->kids[i].own)
            tr_child_copy_fini(&s->kids[i].own);
    free(s->kids);
    if (s->core_ok)
        tr_sup_core_fini(&s->core);
    tr_sup_copy_unref(s->spec);
}

static void s_on_exit(s_sup *s, const troupe_msg *m)
{
    int reason = troupe_msg_code(m);
    int64_t now = troupe_now();
    if (troupe_msg_is(m, "stop")) { // asked to stop: children first
        tr_sup_core_shutdown(&s->core, reason, now);
        return;
    }
    long i = s_find(s, troupe_msg_sender(m));
    if (i < 0) {
        // A linked actor that is not a child: our parent or starter. As in
        // OTP, its abnormal end takes the tree down, children first.
        if (reason != 0)
            tr_sup_core_shutdown(&s->core, reason, now);
        return;
    }
    s->kids[i].parked = 1;
    if (s->core.child[i].state == TR_SUP_CHILD_STARTING)
        tr_sup_core_start_failed(&s->core, (size_t)i, reason, now);
    else
        tr_sup_core_exited(&s->core, (size_t)i, reason, now);
}

static void s_on_started(troupe_ctx *cx, s_sup *s, const troupe_msg *m)
{
    troupe_addr from = troupe_msg_sender(m);
    long i = s_find(s, from);
    if (i < 0)
        return; // from a child forgotten meanwhile
    s->kids[i].parked = 0;
    tr_sup_core_started(&s->core, (size_t)i, troupe_now());
    s_answer_start(cx, s, (size_t)i);
}

static int s_on_request(troupe_ctx *cx, s_sup *s, const troupe_msg *m)
{
    int64_t now = troupe_now();
    if (troupe_msg_is(m, "$sup.start_child")) {
        uint64_t ptr;
        if (troupe_msg_read(m, "[U]", &ptr))
            return troupe_reply_error(cx, m, TROUPE_EINVAL);
        const troupe_child_spec *c = (const troupe_child_spec *)(uintptr_t)ptr;
        int dynamic = s->spec->spec.strategy == TROUPE_SIMPLE_ONE_FOR_ONE;
        if (s->core.state != TR_SUP_RUNNING)
            return troupe_reply_error(cx, m, TROUPE_ESTATE);
        if (!c && !dynamic)
            return troupe_reply_error(cx, m, TROUPE_EINVAL);
        if (c && tr_child_spec_check(c, dynamic))
            return troupe_reply_error(cx, m, TROUPE_EINVAL);
        if (c && c->id && s_find_id(s, c->id, strlen(c->id)) >= 0)
            return troupe_reply_error(cx, m, TROUPE_EEXIST);
        size_t i;
        int rc = s_add(s, c ? NULL : &s->spec->children[0], c, &i);
        if (rc == 0)
            rc = troupe_defer(cx, m, &s->kids[i].start_reply);
        if (rc == 0)
            s->kids[i].added = 1;
        if (rc)
            return troupe_reply_error(cx, m, rc);
        tr_sup_core_start_child(&s->core, i, now);
        return 0;
    }
    if (troupe_msg_is(m, "$sup.stop_child")) {
        troupe_addr who;
        bool forget;
        if (troupe_msg_read(m, "[uuub]", &who.node, &who.slot, &who.incarnation,
                            &forget))
            return troupe_reply_error(cx, m, TROUPE_EINVAL);
        long i = s_find(s, who);
        if (i < 0 || s->kids[i].stop_reply)
            return troupe_reply_error(cx, m, TROUPE_ENOENT);
        int rc = troupe_defer(cx, m, &s->kids[i].stop_reply);
        if (rc)
            return troupe_reply_error(cx, m, rc);
        tr_sup_core_stop_child(&s->core, (size_t)i, forget, now);
        return 0;
    }
    if (troupe_msg_is(m, "$sup.restart_child") ||
        troupe_msg_is(m, "$sup.delete_child")) {
        const char *id;
        size_t len;
        if (troupe_msg_read(m, "[s]", &id, &len) || !id)
            return troupe_reply_error(cx, m, TROUPE_EINVAL);
        long i = s_find_id(s, id, len);
        if (i < 0)
            return troupe_reply_error(cx, m, TROUPE_ENOENT);
        if (s->core.state != TR_SUP_RUNNING)
            return troupe_reply_error(cx, m, TROUPE_ESTATE);
        if (s->core.child[i].state != TR_SUP_CHILD_IDLE ||
            s->core.child[i].restart_after_stop)
            return troupe_reply_error(cx, m, TROUPE_EALREADY); // running
        if (troupe_msg_is(m, "$sup.delete_child")) {
            tr_sup_core_stop_child(&s->core, (size_t)i, 1, now); // FORGET
            return troupe_reply(cx, m, NULL);
        }
        int rc = troupe_defer(cx, m, &s->kids[i].start_reply);
        if (rc)
            return troupe_reply_error(cx, m, rc);
        tr_sup_core_start_child(&s->core, (size_t)i, now);
        return 0;
    }
    if (troupe_msg_is(m, "$sup.which")) {
        const char *id;
        size_t len;
        if (troupe_msg_read(m, "[s]", &id, &len) || !id)
            return troupe_reply_error(cx, m, TROUPE_EINVAL);
        long i = s_find_id(s, id, len);
        if (i < 0)
            return troupe_reply_error(cx, m, TROUPE_ENOENT);
        troupe_addr a = s->kids[i].addr;
        if (s->core.child[i].state != TR_SUP_CHILD_RUNNING)
            return troupe_reply_error(cx, m, TROUPE_EAGAIN);
        return troupe_reply(cx, m, "[uuu]", a.node, a.slot, a.incarnation);
    }
    if (troupe_msg_is(m, "$sup.stats")) {
        unsigned children = 0, running = 0, workers = 0, sups = 0;
        for (size_t i = 0; i < s->core.n_child && i < s->n_kids; i++) {
            int st = s->core.child[i].state;
            if (st == TR_SUP_CHILD_FREE || !s->kids[i].spec)
                continue;
            children++;
            running += st == TR_SUP_CHILD_RUNNING;
            if (s->kids[i].spec->sup)
                sups++;
            else
                workers++;
        }
        return troupe_reply(cx, m, "[uuuuU]", children, running, workers, sups,
                            s->restarts);
    }
    return troupe_reply_error(cx, m, TROUPE_ENOTSUP);
}

static int s_handle(troupe_ctx *cx, void *state, const troupe_msg *m)
{
    s_sup *s = state;
    int rc = 0;
    switch (troupe_msg_kind_of(m)) {
    case TROUPE_MSG_EXIT:
        s_on_exit(s, m);
        break;
    case TROUPE_MSG_TIMER:
        s->timer = 0;
        tr_sup_core_tick(&s->core, troupe_now());
        break;
    case TROUPE_MSG_REQUEST:
        rc = s_on_request(cx, s, m);
        break;
    default:
        if (troupe_msg_is(m, "$started"))
            s_on_started(cx, s, m);
        else if (troupe_msg_is(m, "$hung"))
            s_on_hung(cx, s, troupe_msg_sender(m));
        break; // anything else is not for a supervisor: ignored
    }
    s_apply(cx, s);
    return rc == TROUPE_EALREADY ? 0 : rc;
}

void tr_sup_actor_spec(tr_sup_copy *spec, troupe_actor_spec *out)
{
    memset(out, 0, sizeof *out);
    out->name = spec->name;
    out->handler = s_handle;
    out->init = s_init;
    out->fini = s_fini;
    out->state_size = sizeof(s_sup);
    out->arg = spec;
    out->trap_exit = true;
    out->loop = spec->spec.loop;
}
