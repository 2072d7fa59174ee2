// SPDX-License-Identifier: MIT
//
// The supervisor core, supervisor layer: OTP's strategies, restart types and
// restart intensity, plus restart backoff and start timeouts, as a state x
// event -> named-action table in the manner of s6-supervise. It is pure: no
// thread, clock, socket or actor, no allocation outside init and add, and no
// include from actors/ or transport/. supervisor.c feeds it events and
// carries out the actions it returns.
//
// A child event is looked up by (child state, event) in s_table and names
// one action ("-" is ignore: a late answer from an earlier incarnation):
//
//   state \ event  STARTED START_FAILED EXITED  DUE     START_CHILD STOP_CHILD
//   IDLE           -       -            -       -       start       cancel
//   STARTING       up      failed       failed  timeout -           stop
//   RUNNING        -       -            crashed -       -           stop
//   STOPPING       -       ended        ended   kill    -           unplan
//   WAITING        -       -            -       due     -           cancel
//
//   up       RUNNING since now.
//   failed   it did not start: a crash that never came up (s_failed).
//   crashed  it ended on its own (s_failed): no restart if shutting down or
//            by its restart type; failed start in the initial start or over
//            intensity: shut down; else restart it (one_for_one) or its
//            group (the others are marked to stop), now or after a backoff.
//   ended    the STOP/KILL was answered: restart it with its group, or
//            finish it (IDLE, or FORGET if temporary, dynamic or asked to).
//   timeout  KILL, then failed with pol.timeout_reason.
//   kill     shutdown deadline passed: KILL, then wait for the EXIT.
//   due      backoff over: START (a group's key joins the start queue).
//   start    START, manual: a failure is not retried (OTP start_child).
//   stop     STOP (KILL if shutdown_ms is 0) and do not restart it.
//   unplan   already stopping: just drop any restart planned after it.
//   cancel   drop any planned restart, then finish it.
//
// DUE is what tick feeds a child whose deadline passed. The supervisor's own
// states change in s_advance, run after every action: SHUTTING stops the
// newest child that is RUNNING or STARTING once none is STOPPING, then EXITs
// when all are down (DONE). Otherwise it moves the restart plan one step:
// while a marked child is STOPPING, wait; else stop the newest marked
// RUNNING/STARTING one; else, once no group key is WAITING and the previous
// plan START was answered, START the oldest queued IDLE one; when nothing is
// left, the initial start is over (RUNNING). A group member that fails on
// its own during a group restart counts as another restart event and is
// folded into the same plan, so no child is ever started twice or lost.
#include "sup_core.h"

#include <stdlib.h>
#include <string.h>

#include "troupe/error.h"

#define S_NEVER INT64_MAX
#define S_NONE SIZE_MAX

// clang-format off
// The table's columns and cells (see the file comment).
enum s_event {
    S_EV_STARTED, S_EV_START_FAILED, S_EV_EXITED, S_EV_DUE, S_EV_START_CHILD,
    S_EV_STOP_CHILD, S_N_EVENTS,
};

enum s_action {
    S_IGNORE = 0, S_UP, S_FAILED, S_CRASHED, S_ENDED, S_TIMEOUT, S_KILL, S_DUE,
    S_START, S_STOP, S_UNPLAN, S_CANCEL,
};

static const unsigned char s_table[][S_N_EVENTS] = {
    //                      STARTED START_FAILED EXITED    DUE
    //                      START_CHILD STOP_CHILD
    [TR_SUP_CHILD_FREE]     = {S_IGNORE, S_IGNORE, S_IGNORE, S_IGNORE,
                               S_IGNORE, S_IGNORE},
    [TR_SUP_CHILD_IDLE]     = {S_IGNORE, S_IGNORE, S_IGNORE, S_IGNORE,
                               S_START, S_CANCEL},
    [TR_SUP_CHILD_STARTING] = {S_UP, S_FAILED, S_FAILED, S_TIMEOUT,
                               S_IGNORE, S_STOP},
    [TR_SUP_CHILD_RUNNING]  = {S_IGNORE, S_IGNORE, S_CRASHED, S_IGNORE,
                               S_IGNORE, S_STOP},
    [TR_SUP_CHILD_STOPPING] = {S_IGNORE, S_ENDED, S_ENDED, S_KILL,
                               S_IGNORE, S_UNPLAN},
    [TR_SUP_CHILD_WAITING]  = {S_IGNORE, S_IGNORE, S_IGNORE, S_DUE,
                               S_IGNORE, S_CANCEL},
};
// clang-format on

static void s_begin_shutdown(tr_sup_core *c, int reason);

// now + ms (ms >= 0), saturating at S_NEVER.
static int64_t s_after(int64_t now, int64_t ms)
{
    return now > 0 && ms > S_NEVER - now ? S_NEVER : now + ms;
}

// Append an action. tr_sup_core_add reserved room for the most one call can
// produce (s_out_room), so the bound check never fails.
static void s_emit(tr_sup_core *c, int kind, size_t i, int reason)
{
    if (c->n_out < c->cap_out)
        c->out[c->n_out++] = (tr_sup_action){kind, i, reason};
}

// A call emits at most: per child its own event's two actions (KILL and
// START/FORGET) and one FORGET from a shutdown, plus one plan step after
// each event, plus the EXIT.
static size_t s_out_room(size_t n_child)
{
    return 4 * n_child + 8;
}

// STARTING, STOPPING and WAITING children have a deadline (maybe S_NEVER).
static int s_timed(int state)
{
    return state == TR_SUP_CHILD_STARTING || state == TR_SUP_CHILD_STOPPING ||
           state == TR_SUP_CHILD_WAITING;
}

static int s_dynamic(const tr_sup_core *c)
{
    return c->pol.strategy == TR_SUP_SIMPLE_ONE_FOR_ONE;
}

// splitmix64: small, fast, and replayable from pol.seed.
static uint64_t s_random(tr_sup_core *c)
{
    uint64_t z = (c->rng += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

// Issue START for child i; manual says start_child asked for it.
static void s_start(tr_sup_core *c, size_t i, int manual, int64_t now)
{
    tr_sup_child *ch = &c->child[i];
    ch->state = TR_SUP_CHILD_STARTING;
    ch->deadline =
        ch->start_timeout_ms > 0 ? s_after(now, ch->start_timeout_ms) : S_NEVER;
    ch->restart_after_stop = 0;
    ch->seq_start = 0;
    ch->manual = manual;
    s_emit(c, TR_SUP_DO_START, i, 0);
}

// Issue STOP for child i (KILL at once if brutal); the KILL deadline follows
// shutdown_ms (none if negative, or once killed).
static void s_stop(tr_sup_core *c, size_t i, int64_t now)
{
    tr_sup_child *ch = &c->child[i];
    ch->state = TR_SUP_CHILD_STOPPING;
    ch->seq_start = 0;
    ch->manual = 0;
    if (ch->shutdown_ms == 0) {
        ch->deadline = S_NEVER;
        s_emit(c, TR_SUP_DO_KILL, i, 0);
    } else {
        ch->deadline =
            ch->shutdown_ms > 0 ? s_after(now, ch->shutdown_ms) : S_NEVER;
        s_emit(c, TR_SUP_DO_STOP, i, 0);
    }
}

// Child i is down for good: FORGET (entry FREE) if temporary, dynamic or
// asked to by stop_child, else IDLE with nothing planned.
static void s_finish(tr_sup_core *c, size_t i)
{
    tr_sup_child *ch = &c->child[i];
    ch->restart_after_stop = 0;
    ch->seq_start = 0;
    ch->manual = 0;
    ch->deadline = S_NEVER;
    if (ch->forget || ch->restart == TR_SUP_TEMPORARY || s_dynamic(c)) {
        memset(ch, 0, sizeof *ch); // TR_SUP_CHILD_FREE
        s_emit(c, TR_SUP_DO_FORGET, i, 0);
    } else {
        ch->state = TR_SUP_CHILD_IDLE;
    }
}

static int s_wants_restart(const tr_sup_core *c, const tr_sup_child *ch,
                           int reason)
{
    if (ch->restart == TR_SUP_PERMANENT)
        return 1;
    if (ch->restart == TR_SUP_TRANSIENT)
        return reason != 0 && reason != c->pol.shutdown_reason;
    return 0;
}

// Record a restart at now. Returns 0 if that makes more than intensity
// restarts within period_ms (OTP keeps those at most period_ms old).
static int s_may_restart(tr_sup_core *c, int64_t now)
{
    size_t cap = c->pol.intensity;
    while (c->n_restarts > 0 &&
           now - c->restarts[c->restart_head] > c->pol.period_ms) {
        c->restart_head = (c->restart_head + 1) % cap;
        c->n_restarts--;
    }
    if (c->n_restarts == cap)
        return 0;
    c->restarts[(c->restart_head + c->n_restarts) % cap] = now;
    c->n_restarts++;
    return 1;
}

// The delay before restarting ch, which failed at now (was_up: it had been
// RUNNING). d starts at min, doubles up to max, and is back at min after a
// run of backoff_reset_ms; the delay is uniform in [d/2, d].
static int64_t s_backoff(tr_sup_core *c, tr_sup_child *ch, int was_up,
                         int64_t now)
{
    const tr_sup_policy *p = &c->pol;
    if (was_up && now - ch->up_since >= p->backoff_reset_ms)
        ch->backoff_ms = 0;
    int64_t d = ch->backoff_ms > 0 ? ch->backoff_ms : p->backoff_min_ms;
    ch->backoff_ms = d > p->backoff_max_ms / 2 ? p->backoff_max_ms : 2 * d;
    int64_t half = d / 2;
    return half + (int64_t)(s_random(c) % (uint64_t)(d - half + 1));
}

// Mark for a group restart the RUNNING/STARTING children of failed's group
// (all of them, or those started after it for rest_for_one).
static void s_mark_group(tr_sup_core *c, size_t failed)
{
    int rest = c->pol.strategy == TR_SUP_REST_FOR_ONE;
    for (size_t j = 0; j < c->n_child; j++) {
        tr_sup_child *ch = &c->child[j];
        if (ch->state != TR_SUP_CHILD_RUNNING &&
            ch->state != TR_SUP_CHILD_STARTING)
            continue;
        if (rest && ch->seq < c->child[failed].seq)
            continue;
        ch->restart_after_stop = 1;
        ch->seq_start = 0;
        ch->manual = 0;
    }
}

// Child i ended on its own with reason: it crashed (was_up), or its start
// failed or timed out. Decides per restart type, phase, intensity, strategy
// and backoff.
static void s_failed(tr_sup_core *c, size_t i, int reason, int was_up,
                     int64_t now)
{
    tr_sup_child *ch = &c->child[i];
    ch->last_reason = reason;
    if (c->state == TR_SUP_SHUTTING || ch->manual ||
        !s_wants_restart(c, ch, reason)) {
        s_finish(c, i);
        return;
    }
    if (c->state == TR_SUP_STARTING && !was_up) { // OTP: init fails
        s_finish(c, i);
        s_begin_shutdown(c, reason);
        return;
    }
    if (!s_may_restart(c, now)) {
        s_finish(c, i);
        s_begin_shutdown(c, c->pol.intensity_reason);
        return;
    }
    int group = c->pol.strategy == TR_SUP_ONE_FOR_ALL ||
                c->pol.strategy == TR_SUP_REST_FOR_ONE;
    if (group)
        s_mark_group(c, i);
    ch->seq_start = 0;
    ch->manual = 0;
    if (c->pol.backoff_min_ms > 0) {
        ch->state = TR_SUP_CHILD_WAITING;
        ch->deadline = s_after(now, s_backoff(c, ch, was_up, now));
        ch->restart_after_stop = group; // the group's key
    } else if (group) {
        ch->state = TR_SUP_CHILD_IDLE;
        ch->deadline = S_NEVER;
        ch->restart_after_stop = 1;
    } else {
        s_start(c, i, 0, now);
    }
}

// Enter SHUTTING: nothing planned is restarted, WAITING children just end.
static void s_begin_shutdown(tr_sup_core *c, int reason)
{
    c->state = TR_SUP_SHUTTING;
    c->exit_reason = reason;
    for (size_t j = 0; j < c->n_child; j++) {
        tr_sup_child *ch = &c->child[j];
        ch->restart_after_stop = 0;
        ch->seq_start = 0;
        if (ch->state == TR_SUP_CHILD_WAITING)
            s_finish(c, j);
    }
}

// Pick the newer (newest: 1) or older of best and j, by start order.
static size_t s_pick(const tr_sup_core *c, size_t best, size_t j, int newest)
{
    if (best == S_NONE)
        return j;
    uint64_t a = c->child[best].seq, b = c->child[j].seq;
    return (newest ? b > a : b < a) ? j : best;
}

// SHUTTING: one child at a time, newest first, then EXIT.
static void s_advance_shutdown(tr_sup_core *c, int64_t now)
{
    size_t stop = S_NONE;
    for (size_t j = 0; j < c->n_child; j++) {
        int st = c->child[j].state;
        if (st == TR_SUP_CHILD_STOPPING)
            return;
        if (st == TR_SUP_CHILD_RUNNING || st == TR_SUP_CHILD_STARTING)
            stop = s_pick(c, stop, j, 1);
    }
    if (stop != S_NONE) {
        s_stop(c, stop, now);
        return;
    }
    c->state = TR_SUP_DONE;
    s_emit(c, TR_SUP_DO_EXIT, 0, c->exit_reason);
}

// Move the supervisor one step: see the file comment.
static void s_advance(tr_sup_core *c, int64_t now)
{
    if (c->state == TR_SUP_SHUTTING) {
        s_advance_shutdown(c, now);
        return;
    }
    if (c->state == TR_SUP_DONE)
        return;
    size_t stop = S_NONE, start = S_NONE;
    int stopping = 0, waiting = 0, starting = 0;
    for (size_t j = 0; j < c->n_child; j++) {
        const tr_sup_child *ch = &c->child[j];
        if (ch->state == TR_SUP_CHILD_STARTING && ch->seq_start)
            starting = 1;
        if (!ch->restart_after_stop)
            continue;
        switch (ch->state) {
        case TR_SUP_CHILD_STOPPING:
            stopping = 1;
            break;
        case TR_SUP_CHILD_RUNNING:
        case TR_SUP_CHILD_STARTING:
            stop = s_pick(c, stop, j, 1);
            break;
        case TR_SUP_CHILD_WAITING:
            waiting = 1;
            break;
        case TR_SUP_CHILD_IDLE:
            start = s_pick(c, start, j, 0);
            break;
        }
    }
    if (stopping)
        return;
    if (stop != S_NONE) {
        s_stop(c, stop, now);
    } else if (waiting || starting) {
        return;
    } else if (start != S_NONE) {
        s_start(c, start, 0, now);
        c->child[start].seq_start = 1;
    } else if (c->state == TR_SUP_STARTING && c->begun) {
        c->state = TR_SUP_RUNNING;
    }
}

// Carry out the table's action for event ev on child i. arg is the reason
// (START_FAILED, EXITED) or forget (STOP_CHILD).
static void s_apply(tr_sup_core *c, size_t i, int ev, int arg, int64_t now)
{
    tr_sup_child *ch = &c->child[i];
    switch (s_table[ch->state][ev]) {
    case S_IGNORE:
        break;
    case S_UP:
        ch->state = TR_SUP_CHILD_RUNNING;
        ch->up_since = now;
        ch->deadline = S_NEVER;
        ch->seq_start = 0;
        ch->manual = 0;
        break;
    case S_FAILED:
        s_failed(c, i, arg, 0, now);
        break;
    case S_CRASHED:
        s_failed(c, i, arg, 1, now);
        break;
    case S_ENDED:
        ch->last_reason = arg;
        if (ch->restart_after_stop && ch->restart != TR_SUP_TEMPORARY) {
            ch->state = TR_SUP_CHILD_IDLE; // queued: restarted in order
            ch->deadline = S_NEVER;
        } else {
            s_finish(c, i);
        }
        break;
    case S_TIMEOUT:
        s_emit(c, TR_SUP_DO_KILL, i, 0);
        s_failed(c, i, c->pol.timeout_reason, 0, now);
        break;
    case S_KILL:
        ch->deadline = S_NEVER;
        s_emit(c, TR_SUP_DO_KILL, i, 0);
        break;
    case S_DUE:
        if (ch->restart_after_stop) { // a group's key: the plan starts it
            ch->state = TR_SUP_CHILD_IDLE;
            ch->deadline = S_NEVER;
        } else {
            s_start(c, i, 0, now);
        }
        break;
    case S_START:
        if (c->state != TR_SUP_SHUTTING)
            s_start(c, i, 1, now);
        break;
    case S_STOP:
        ch->restart_after_stop = 0;
        ch->forget |= arg;
        s_stop(c, i, now);
        break;
    case S_UNPLAN:
        ch->restart_after_stop = 0;
        ch->forget |= arg;
        break;
    case S_CANCEL:
        ch->forget |= arg;
        s_finish(c, i);
        break;
    }
}

// Feed one child event: check i, reset out, act, advance.
static int s_event(tr_sup_core *c, size_t i, int ev, int arg, int64_t now)
{
    c->n_out = 0;
    if (c->state == TR_SUP_DONE)
        return 0;
    if (i >= c->n_child || c->child[i].state == TR_SUP_CHILD_FREE)
        return TROUPE_EINVAL;
    s_apply(c, i, ev, arg, now);
    s_advance(c, now);
    return 0;
}

int tr_sup_core_init(tr_sup_core *c, const tr_sup_policy *pol)
{
    memset(c, 0, sizeof *c);
    if (pol->strategy < TR_SUP_ONE_FOR_ONE ||
        pol->strategy > TR_SUP_SIMPLE_ONE_FOR_ONE || pol->period_ms <= 0 ||
        pol->intensity > TR_SUP_MAX_INTENSITY || pol->backoff_min_ms < 0 ||
        pol->backoff_max_ms < pol->backoff_min_ms || pol->backoff_reset_ms < 0)
        return TROUPE_EINVAL;
    c->pol = *pol;
    c->rng = pol->seed;
    c->cap_out = s_out_room(0);
    c->out = malloc(c->cap_out * sizeof *c->out);
    c->restarts = malloc((pol->intensity + 1) * sizeof *c->restarts);
    if (!c->out || !c->restarts) {
        tr_sup_core_fini(c);
        return TROUPE_ENOMEM;
    }
    return 0;
}

void tr_sup_core_fini(tr_sup_core *c)
{
    free(c->child);
    free(c->restarts);
    free(c->out);
    memset(c, 0, sizeof *c);
}

int tr_sup_core_add(tr_sup_core *c, int restart, int64_t shutdown_ms,
                    int64_t start_timeout_ms, size_t *i)
{
    if (restart < TR_SUP_PERMANENT || restart > TR_SUP_TEMPORARY)
        return TROUPE_EINVAL;
    size_t at = 0;
    while (at < c->n_child && c->child[at].state != TR_SUP_CHILD_FREE)
        at++;
    size_t n = at < c->n_child ? c->n_child : c->n_child + 1;
    if (n > c->cap_child) {
        size_t cap = c->cap_child ? 2 * c->cap_child : 8;
        tr_sup_child *grown = realloc(c->child, cap * sizeof *grown);
        if (!grown)
            return TROUPE_ENOMEM;
        c->child = grown;
        c->cap_child = cap;
    }
    if (s_out_room(n) > c->cap_out) {
        size_t cap = s_out_room(c->cap_child);
        tr_sup_action *grown = realloc(c->out, cap * sizeof *grown);
        if (!grown)
            return TROUPE_ENOMEM;
        c->out = grown;
        c->cap_out = cap;
    }
    c->n_child = n;
    c->child[at] = (tr_sup_child){
        .state = TR_SUP_CHILD_IDLE,
        .restart = restart,
        .shutdown_ms = shutdown_ms,
        .start_timeout_ms = start_timeout_ms,
        .deadline = S_NEVER,
        .seq = c->next_seq++,
    };
    *i = at;
    return 0;
}

int tr_sup_core_start(tr_sup_core *c, int64_t now)
{
    c->n_out = 0;
    if (c->state != TR_SUP_STARTING || c->begun)
        return 0;
    c->begun = 1;
    for (size_t j = 0; j < c->n_child; j++)
        if (c->child[j].state == TR_SUP_CHILD_IDLE)
            c->child[j].restart_after_stop = 1;
    s_advance(c, now);
    return 0;
}

int tr_sup_core_started(tr_sup_core *c, size_t i, int64_t now)
{
    return s_event(c, i, S_EV_STARTED, 0, now);
}

int tr_sup_core_start_failed(tr_sup_core *c, size_t i, int reason, int64_t now)
{
    return s_event(c, i, S_EV_START_FAILED, reason, now);
}

int tr_sup_core_exited(tr_sup_core *c, size_t i, int reason, int64_t now)
{
    return s_event(c, i, S_EV_EXITED, reason, now);
}

int tr_sup_core_start_child(tr_sup_core *c, size_t i, int64_t now)
{
    return s_event(c, i, S_EV_START_CHILD, 0, now);
}

int tr_sup_core_stop_child(tr_sup_core *c, size_t i, int forget, int64_t now)
{
    return s_event(c, i, S_EV_STOP_CHILD, forget != 0, now);
}

int tr_sup_core_tick(tr_sup_core *c, int64_t now)
{
    c->n_out = 0;
    for (size_t j = 0; j < c->n_child && c->state != TR_SUP_DONE; j++) {
        if (s_timed(c->child[j].state) && c->child[j].deadline <= now) {
            s_apply(c, j, S_EV_DUE, 0, now);
            s_advance(c, now);
        }
    }
    return 0;
}

int tr_sup_core_shutdown(tr_sup_core *c, int reason, int64_t now)
{
    c->n_out = 0;
    if (c->state == TR_SUP_SHUTTING || c->state == TR_SUP_DONE)
        return 0;
    s_begin_shutdown(c, reason);
    s_advance(c, now);
    return 0;
}

int64_t tr_sup_core_next_deadline(const tr_sup_core *c)
{
    int64_t next = S_NEVER;
    for (size_t j = 0; j < c->n_child && c->state != TR_SUP_DONE; j++)
        if (s_timed(c->child[j].state) && c->child[j].deadline < next)
            next = c->child[j].deadline;
    return next;
}

const char *tr_sup_action_name(int kind)
{
    static const char *const names[] = {
        [TR_SUP_DO_START] = "start", [TR_SUP_DO_STOP] = "stop",
        [TR_SUP_DO_KILL] = "kill",   [TR_SUP_DO_FORGET] = "forget",
        [TR_SUP_DO_EXIT] = "exit",
    };
    if (kind < TR_SUP_DO_START || kind > TR_SUP_DO_EXIT)
        return "?";
    return names[kind];
}

const char *tr_sup_child_state_name(int state)
{
    static const char *const names[] = {
        [TR_SUP_CHILD_FREE] = "FREE",
        [TR_SUP_CHILD_IDLE] = "IDLE",
        [TR_SUP_CHILD_STARTING] = "STARTING",
        [TR_SUP_CHILD_RUNNING] = "RUNNING",
        [TR_SUP_CHILD_STOPPING] = "STOPPING",
        [TR_SUP_CHILD_WAITING] = "WAITING",
    };
    if (state < TR_SUP_CHILD_FREE || state > TR_SUP_CHILD_WAITING)
        return "?";
    return names[state];
}
