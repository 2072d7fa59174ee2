// SPDX-License-Identifier: MIT
//
// troupe_hold / troupe_resume: a held mailbox keeps tells and requests in
// order while answers, timers and stops still come through; a hold in init
// holds the start too (the spawner and the supervisor wait for the resume,
// or hear why the actor ended), and a spawner that gives up stops it.
#include <sched.h>
#include <string.h>

#include "tr_actors.h"
#include "tr_check.h"

static troupe_node *node;
static troupe_client *cl;

static void setup(void)
{
    node = tr_node_new(2);
    TR_CK_OK(troupe_client_new(node, &cl));
}

static void teardown(void)
{
    troupe_client_destroy(&cl);
    tr_node_destroy_clean(&node);
}

// An actor whose init holds its mailbox, asks an echo actor (whose address
// is the spawn's arg) for 41 + 1 and tells itself "num" 1, 2 and 3; the
// answer resumes it, unless `fail_with` is set (then it ends with that) or
// `never` (then it stays held). "num" {s:x} is recorded in order; "report"
// answers [handled_before_resume, y, n, order...].
typedef struct gated {
    troupe_addr echo; // whom init asks
    int fail_with;    // config: end with this instead of resuming
    int never;        // config: never resume
    int resumed;      // set just before troupe_resume
    int64_t y;        // the echo's answer
    int early;        // "num" handled before the resume: must stay 0
    int n;            // "num" handled
    int64_t order[8]; // their x, in order
} gated;

static int gated_answered(troupe_ctx *cx, void *state, int status,
                          const troupe_msg *reply, void *arg)
{
    (void)arg;
    gated *g = state;
    ck_assert_int_eq(status, 0);
    TR_CK_OK(troupe_msg_read(reply, "{s:I}", "x", &g->y));
    if (g->fail_with)
        return troupe_exit(cx, g->fail_with);
    if (g->never)
        return 0;
    g->resumed = 1;
    return troupe_resume(cx);
}

static int gated_init(troupe_ctx *cx, void *state, void *arg)
{
    gated *g = state;
    g->echo = *(const troupe_addr *)arg;
    TR_CK_OK(troupe_hold(cx));
    for (int64_t x = 1; x <= 3; x++)
        TR_CK_OK(troupe_tell(cx, troupe_self(cx), "num", "{s:I}", "x", x));
    return troupe_request(cx, g->echo, "echo", troupe_deadline_in(5000),
                          gated_answered, NULL, NULL, "{s:I}", "x",
                          (int64_t)41);
}

static int gated_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    gated *g = state;
    if (troupe_msg_is(msg, "num")) {
        int64_t x = 0;
        TR_CK_OK(troupe_msg_read(msg, "{s:I}", "x", &x));
        if (!g->resumed)
            g->early++;
        if (g->n < 8)
            g->order[g->n] = x;
        g->n++;
        return 0;
    }
    if (troupe_msg_is(msg, "report"))
        return troupe_reply(cx, msg, "[iIiIII]", g->early, g->y, g->n,
                            g->order[0], g->order[1], g->order[2]);
    return TROUPE_ENOTSUP;
}

static troupe_actor_spec gated_spec(gated *g, const troupe_addr *echo, int loop)
{
    troupe_actor_spec s = troupe_actor_spec_default();
    s.init = gated_init;
    s.handler = gated_handler;
    s.state = g;
    s.arg = (void *)echo;
    s.loop = TROUPE_LOOP(loop);
    return s;
}

START_TEST(a_held_start_returns_once_the_actor_resumes)
{
    TR_CK_ERR(troupe_hold(NULL), TROUPE_EINVAL);
    TR_CK_ERR(troupe_resume(NULL), TROUPE_EINVAL);
    // The echo on the other loop: the answer crosses threads while held.
    static troupe_addr echo;
    troupe_actor_spec es = tr_echo_spec(TROUPE_SHARED, NULL);
    es.loop = TROUPE_LOOP(1);
    TR_CK_OK(troupe_node_spawn(node, &es, troupe_deadline_in(5000), &echo));
    static gated g;
    memset(&g, 0, sizeof g);
    troupe_actor_spec s = gated_spec(&g, &echo, 0);
    troupe_addr a;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &a));
    // The spawn came back after the resume (the waiter orders the writes).
    ck_assert_int_eq(g.resumed, 1);
    ck_assert_int_eq(g.y, 42);
    troupe_msg *r = NULL;
    TR_CK_OK(troupe_call(cl, a, "report", troupe_deadline_in(5000), &r, NULL));
    int early = -1, n = 0;
    int64_t y = 0, o1 = 0, o2 = 0, o3 = 0;
    TR_CK_OK(troupe_msg_read(r, "[iIiIII]", &early, &y, &n, &o1, &o2, &o3));
    troupe_msg_destroy(&r);
    ck_assert_int_eq(early, 0); // held: none ran before the resume
    ck_assert_int_eq(n, 3);     // none lost
    ck_assert(o1 == 1 && o2 == 2 && o3 == 3); // in order
}
END_TEST

START_TEST(a_held_start_that_ends_gives_the_spawner_its_reason)
{
    static troupe_addr echo;
    echo = tr_spawn_echo(node, TROUPE_SHARED, NULL);
    static gated g;
    memset(&g, 0, sizeof g);
    g.fail_with = TROUPE_EUSER - 7;
    troupe_actor_spec s = gated_spec(&g, &echo, 0);
    troupe_addr a;
    TR_CK_ERR(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &a),
              TROUPE_EUSER - 7);
    ck_assert_int_eq(g.y, 42); // it got as far as the answer
    ck_assert_int_eq(g.n, 0);  // and its held tells went with it
}
END_TEST

START_TEST(a_spawner_that_gives_up_on_a_held_start_stops_it)
{
    static troupe_addr echo;
    echo = tr_spawn_echo(node, TROUPE_SHARED, NULL);
    static gated g;
    memset(&g, 0, sizeof g);
    g.never = 1;
    troupe_actor_spec s = gated_spec(&g, &echo, 0);
    s.name = "held-forever";
    troupe_addr a;
    TR_CK_ERR(troupe_node_spawn(node, &s, troupe_deadline_in(200), &a),
              TROUPE_ETIMEDOUT);
    // It is stopped: its name goes with it (bounded wait on an event the
    // client can observe: a call to the name fails once it is gone).
    troupe_addr who;
    int64_t until = troupe_now() + 5000;
    while (troupe_whereis(node, "held-forever", &who) == 0 &&
           troupe_now() < until) {
        troupe_msg *r = NULL;
        int rc =
            troupe_call(cl, who, "report", troupe_deadline_in(50), &r, NULL);
        troupe_msg_destroy(&r);
        ck_assert_int_ne(rc, 0); // held, then gone: never an answer
    }
    ck_assert_msg(troupe_whereis(node, "held-forever", &who) == TROUPE_ENOENT,
                  "the held actor was not stopped within 5 s");
}
END_TEST

// On "hold" it holds its mailbox and asks the hold service svc
// (tr_hold_handler) "hold", whose answer, when the test releases it,
// resumes it; its timer "tick" (1 ms) fires meanwhile and is counted.
// "num" {s:x} is recorded; "report" answers [n, fired, order...].
typedef struct toggled {
    troupe_addr svc; // set before the spawn
    int n;
    int fired;
    int64_t order[8];
} toggled;

static int toggled_answered(troupe_ctx *cx, void *state, int status,
                            const troupe_msg *reply, void *arg)
{
    (void)state;
    (void)reply;
    (void)arg;
    ck_assert_int_eq(status, 0);
    return troupe_resume(cx);
}

static int toggled_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    toggled *t = state;
    if (troupe_msg_kind_of(msg) == TROUPE_MSG_TIMER) {
        t->fired++;
        return 0;
    }
    if (troupe_msg_is(msg, "hold")) {
        TR_CK_OK(troupe_hold(cx));
        TR_CK_OK(troupe_timer_start(cx, 1, 0, "tick", NULL));
        return troupe_request(cx, t->svc, "hold", troupe_deadline_in(10000),
                              toggled_answered, NULL, NULL, "{s:I}", "x",
                              (int64_t)0);
    }
    if (troupe_msg_is(msg, "num")) {
        int64_t x = 0;
        TR_CK_OK(troupe_msg_read(msg, "{s:I}", "x", &x));
        if (t->n < 8)
            t->order[t->n] = x;
        t->n++;
        return 0;
    }
    if (troupe_msg_is(msg, "report"))
        return troupe_reply(cx, msg, "[iiIII]", t->n, t->fired, t->order[0],
                            t->order[1], t->order[2]);
    return TROUPE_ENOTSUP;
}
START_TEST(a_held_mailbox_keeps_tells_and_requests_in_order)
{
    static tr_hold_state hs;
    memset(&hs, 0, sizeof hs);
    troupe_addr svc = tr_spawn_hold(node, 1, &hs);
    static toggled t;
    memset(&t, 0, sizeof t);
    t.svc = svc;
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = toggled_handler;
    s.state = &t;
    s.mailbox_bound = 6;
    troupe_addr a;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &a));
    TR_CK_OK(troupe_client_tell(cl, a, "hold", NULL));
    for (int64_t x = 1; x <= 3; x++)
        TR_CK_OK(troupe_client_tell(cl, a, "num", "{s:I}", "x", x));
    // A request waits too: its deadline passes while it is held.
    troupe_msg *r = NULL;
    TR_CK_ERR(troupe_call(cl, a, "report", troupe_deadline_in(100), &r, NULL),
              TROUPE_ETIMEDOUT);
    // The bound still holds while held: three "num" and the expired
    // "report" wait ("hold" was taken); two more fit, the next is refused.
    TR_CK_OK(troupe_client_tell(cl, a, "num", "{s:I}", "x", (int64_t)4));
    TR_CK_OK(troupe_client_tell(cl, a, "num", "{s:I}", "x", (int64_t)5));
    TR_CK_ERR(troupe_client_tell(cl, a, "num", "{s:I}", "x", (int64_t)6),
              TROUPE_EFULL);
    // The answer (not a tell: those wait) resumes it; until its mailbox
    // has room again a sender gets TROUPE_EFULL, and retries.
    TR_CK_OK(troupe_client_tell(cl, svc, "release", NULL));
    int64_t until = troupe_now() + 5000;
    int rc;
    while ((rc = troupe_call(cl, a, "report", troupe_deadline_in(5000), &r,
                             NULL)) == TROUPE_EFULL &&
           troupe_now() < until)
        sched_yield();
    TR_CK_OK(rc);
    int n = 0, fired = 0;
    int64_t o1 = 0, o2 = 0, o3 = 0;
    TR_CK_OK(troupe_msg_read(r, "[iiIII]", &n, &fired, &o1, &o2, &o3));
    troupe_msg_destroy(&r);
    ck_assert_int_eq(n, 5); // none lost, the refused one not queued
    ck_assert(o1 == 1 && o2 == 2 && o3 == 3);
    ck_assert_int_eq(fired, 1); // its timer came through while held
}
END_TEST

static Suite *s_suite(void)
{
    Suite *s = suite_create("hold");
    TCase *tc = tcase_create("start");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, a_held_start_returns_once_the_actor_resumes);
    tcase_add_test(tc, a_held_start_that_ends_gives_the_spawner_its_reason);
    tcase_add_test(tc, a_spawner_that_gives_up_on_a_held_start_stops_it);
    suite_add_tcase(s, tc);
    tc = tcase_create("mailbox");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, a_held_mailbox_keeps_tells_and_requests_in_order);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tr_run_suite(s_suite());
}
