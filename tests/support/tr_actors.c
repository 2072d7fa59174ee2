// SPDX-License-Identifier: MIT
//
// Actors shared by the suites (see tr_actors.h).
#include "tr_actors.h"

#include <errno.h>
#include <time.h>

#include "tr_check.h"

void tr_gate_init(tr_gate *g)
{
    sem_init(&g->sem, 0, 0);
}
void tr_gate_fini(tr_gate *g)
{
    sem_destroy(&g->sem);
}
void tr_gate_open(tr_gate *g)
{
    sem_post(&g->sem);
}

void tr_gate_wait(tr_gate *g, int ms, const char *what)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    int rc;
    do
        rc = sem_timedwait(&g->sem, &ts);
    while (rc != 0 && errno == EINTR);
    ck_assert_msg(rc == 0, "timed out after %d ms waiting for %s", ms, what);
}

int tr_echo_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    tr_echo_state *st = state;
    if (st)
        st->handled++;
    if (troupe_msg_is(msg, "echo")) {
        int64_t x = 0;
        int rc = troupe_msg_read(msg, "{s:I}", "x", &x);
        if (rc)
            return troupe_reply_error(cx, msg, rc);
        return troupe_reply(cx, msg, "{s:I}", "x", x + 1);
    }
    if (troupe_msg_is(msg, "fail"))
        return troupe_reply_error(cx, msg, TROUPE_EUSER);
    if (troupe_msg_is(msg, "notify"))
        return troupe_tell(cx, troupe_msg_sender(msg), "noted", NULL);
    if (troupe_msg_is(msg, "silent"))
        return 0;
    if (troupe_msg_is(msg, "crash"))
        return TROUPE_EUSER - 1;
    if (troupe_msg_is(msg, "block") && st) {
        tr_gate_open(st->entered);
        tr_gate_wait(st->release, 10000, "release of a blocked handler");
        return 0;
    }
    return 0;
}

troupe_actor_spec tr_echo_spec(troupe_placement where, tr_echo_state *st)
{
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = tr_echo_handler;
    s.placement = where;
    s.state = st;
    return s;
}

troupe_addr tr_spawn_echo(troupe_node *node, troupe_placement where,
                          tr_echo_state *st)
{
    troupe_actor_spec s = tr_echo_spec(where, st);
    troupe_addr a;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &a));
    return a;
}

void tr_check_echo(troupe_client *c, troupe_addr to, int64_t x)
{
    troupe_msg *r = NULL;
    TR_CK_OK(troupe_call(c, to, "echo", troupe_deadline_in(5000), &r, "{s:I}",
                         "x", x));
    int64_t y = 0;
    TR_CK_OK(troupe_msg_read(r, "{s:I}", "x", &y));
    ck_assert_int_eq(y, x + 1);
    troupe_msg_destroy(&r);
}

static void s_hold_answer(troupe_ctx *cx, tr_hold_state *st, int i)
{
    troupe_deferred *d = st->d[i];
    int64_t x = st->x[i];
    for (int k = i; k + 1 < st->held; k++) {
        st->d[k] = st->d[k + 1];
        st->x[k] = st->x[k + 1];
    }
    st->held--;
    TR_CK_OK(troupe_deferred_reply(cx, &d, "{s:I}", "x", x));
}

int tr_hold_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    tr_hold_state *st = state;
    if (troupe_msg_is(msg, "when"))
        return troupe_reply(cx, msg, "{s:I}", "deadline",
                            troupe_msg_deadline(msg));
    if (troupe_msg_is(msg, "release")) {
        while (st->held)
            s_hold_answer(cx, st, 0);
        return 0;
    }
    if (!troupe_msg_is(msg, "hold"))
        return 0;
    int64_t x = 0;
    troupe_msg_read(msg, "{s:I}", "x", &x);
    ck_assert_int_lt(st->held, TR_HOLD_MAX);
    if (st->received < TR_HOLD_MAX)
        st->order[st->received] = x;
    st->received++;
    TR_CK_OK(troupe_defer(cx, msg, &st->d[st->held]));
    st->x[st->held++] = x;
    if (st->held > st->max_held)
        st->max_held = st->held;
    if (st->total > 0 && st->received >= st->total) {
        while (st->held)
            s_hold_answer(cx, st, 0);
    } else if (st->release_at > 0 && st->held >= st->release_at) {
        s_hold_answer(cx, st, 0);
    }
    return 0;
}

troupe_addr tr_spawn_hold(troupe_node *node, int loop, tr_hold_state *st)
{
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = tr_hold_handler;
    s.state = st;
    s.loop = TROUPE_LOOP(loop);
    troupe_addr a;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &a));
    return a;
}
