// SPDX-License-Identifier: MIT
//
// Requests end exactly once: reply, the replier's error, a timeout at the
// deadline, or TROUPE_EDEAD as soon as the target is known dead, from a
// client and between actors on one loop, across loops and to isolated actors.
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

START_TEST(call_to_shared_actor_gets_reply)
{
    troupe_addr a = tr_spawn_echo(node, TROUPE_SHARED, NULL);
    tr_check_echo(cl, a, 41);
}
END_TEST

START_TEST(call_to_isolated_actor_gets_reply)
{
    troupe_addr a = tr_spawn_echo(node, TROUPE_ISOLATED, NULL);
    tr_check_echo(cl, a, 7);
}
END_TEST

START_TEST(error_reply_reaches_caller_with_its_code)
{
    troupe_addr a = tr_spawn_echo(node, TROUPE_SHARED, NULL);
    troupe_msg *r = NULL;
    TR_CK_ERR(troupe_call(cl, a, "fail", troupe_deadline_in(5000), &r, NULL),
              TROUPE_EUSER);
    ck_assert_ptr_null(r);
}
END_TEST

START_TEST(handler_without_reply_gives_edead)
{
    troupe_addr a = tr_spawn_echo(node, TROUPE_SHARED, NULL);
    troupe_msg *r = NULL;
    TR_CK_ERR(troupe_call(cl, a, "silent", troupe_deadline_in(5000), &r, NULL),
              TROUPE_EDEAD);
    tr_check_echo(cl, a, 1); // and the actor lives on
}
END_TEST

START_TEST(crash_while_handling_gives_edead_and_ends_actor)
{
    troupe_addr a = tr_spawn_echo(node, TROUPE_SHARED, NULL);
    uint64_t ref;
    TR_CK_OK(troupe_client_monitor(cl, a, &ref));
    troupe_msg *r = NULL;
    TR_CK_ERR(troupe_call(cl, a, "crash", troupe_deadline_in(5000), &r, NULL),
              TROUPE_EDEAD);
    troupe_msg *down = NULL;
    TR_CK_OK(troupe_client_recv(cl, troupe_deadline_in(5000), &down));
    ck_assert_int_eq(troupe_msg_kind_of(down), TROUPE_MSG_DOWN);
    ck_assert_int_eq(troupe_msg_code(down), TROUPE_EUSER - 1);
    ck_assert_uint_eq(troupe_msg_ref(down), ref);
    troupe_msg_destroy(&down);
    TR_CK_ERR(troupe_call(cl, a, "echo", troupe_deadline_in(5000), &r, "{s:I}",
                          "x", (int64_t)1),
              TROUPE_EDEAD);
}
END_TEST

START_TEST(call_to_never_used_slot_is_enoent)
{
    troupe_addr nobody = {0, 999999, 1};
    troupe_msg *r = NULL;
    TR_CK_ERR(
        troupe_call(cl, nobody, "echo", troupe_deadline_in(1000), &r, NULL),
        TROUPE_ENOENT);
    TR_CK_ERR(troupe_call_name(cl, "no-such-name", "echo",
                               troupe_deadline_in(1000), &r, NULL),
              TROUPE_ENOENT);
}
END_TEST

START_TEST(blocked_target_times_out_at_deadline_then_reply_is_late)
{
    tr_gate entered, release;
    tr_gate_init(&entered);
    tr_gate_init(&release);
    // Static: the actor may still count a late message after the test
    // returned (messages from different senders may come in any order).
    static tr_echo_state st;
    st = (tr_echo_state){&entered, &release, 0};
    troupe_addr a = tr_spawn_echo(node, TROUPE_ISOLATED, &st);
    TR_CK_OK(troupe_client_tell(cl, a, "block", NULL));
    tr_gate_wait(&entered, 5000, "the handler to block");
    troupe_msg *r = NULL;
    int64_t t0 = troupe_now();
    TR_CK_ERR(troupe_call(cl, a, "echo", t0 + 50, &r, "{s:I}", "x", (int64_t)1),
              TROUPE_ETIMEDOUT);
    ck_assert_int_ge(troupe_now(), t0 + 50);
    tr_gate_open(&release);
    tr_check_echo(cl, a, 5); // the expired request is dropped, not replied
    troupe_node_stats s;
    TR_CK_OK(troupe_node_stats_get(node, &s));
    ck_assert_uint_ge(s.dead_lettered, 1);
    tr_gate_fini(&entered);
    tr_gate_fini(&release);
}
END_TEST

START_TEST(deadline_already_passed_is_refused_at_once)
{
    troupe_addr a = tr_spawn_echo(node, TROUPE_SHARED, NULL);
    troupe_msg *r = NULL;
    TR_CK_ERR(troupe_call(cl, a, "echo", TROUPE_NOWAIT, &r, NULL),
              TROUPE_ETIMEDOUT);
}
END_TEST

// ---- actor to actor ----

typedef struct proxy {
    troupe_addr backend;         // where requests go
    troupe_deferred *waiting[8]; // callers waiting for the backend
    int n;                       // how many
} proxy;

static int proxy_on_reply(troupe_ctx *cx, void *state, int status,
                          const troupe_msg *reply, void *arg)
{
    (void)state;
    troupe_deferred *d = arg;
    if (status)
        return troupe_deferred_error(cx, &d, status);
    int64_t x;
    TR_CK_OK(troupe_msg_read(reply, "{s:I}", "x", &x));
    return troupe_deferred_reply(cx, &d, "{s:I}", "x", x * 10);
}

static int proxy_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    proxy *p = state;
    int64_t x = 0;
    troupe_msg_read(msg, "{s:I}", "x", &x);
    troupe_deferred *d;
    int rc = troupe_defer(cx, msg, &d);
    if (rc)
        return rc;
    rc = troupe_request(cx, p->backend, troupe_msg_tag(msg),
                        TROUPE_DEADLINE_DEFAULT, proxy_on_reply, d, NULL,
                        "{s:I}", "x", x);
    if (rc)
        return troupe_deferred_error(cx, &d, rc);
    return 0;
}

static troupe_addr spawn_proxy(proxy *p, int loop, troupe_placement where)
{
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = proxy_handler;
    s.state = p;
    s.loop = TROUPE_LOOP(loop);
    s.placement = where;
    troupe_addr a;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &a));
    return a;
}

static void check_proxy(int backend_loop, troupe_placement backend_where)
{
    troupe_actor_spec e = tr_echo_spec(backend_where, NULL);
    e.loop = backend_where == TROUPE_SHARED ? TROUPE_LOOP(backend_loop)
                                            : TROUPE_LOOP_AUTO;
    static proxy p;
    p = (proxy){.n = 0};
    TR_CK_OK(troupe_node_spawn(node, &e, troupe_deadline_in(5000), &p.backend));
    troupe_addr px = spawn_proxy(&p, 0, TROUPE_SHARED);
    troupe_msg *r = NULL;
    TR_CK_OK(troupe_call(cl, px, "echo", troupe_deadline_in(5000), &r, "{s:I}",
                         "x", (int64_t)4));
    int64_t y;
    TR_CK_OK(troupe_msg_read(r, "{s:I}", "x", &y));
    ck_assert_int_eq(y, 50);
    troupe_msg_destroy(&r);
    TR_CK_ERR(troupe_call(cl, px, "fail", troupe_deadline_in(5000), &r, NULL),
              TROUPE_EUSER);
    TR_CK_ERR(troupe_call(cl, px, "crash", troupe_deadline_in(5000), &r, NULL),
              TROUPE_EDEAD);
}

START_TEST(deferred_reply_through_actor_on_same_loop)
{
    check_proxy(0, TROUPE_SHARED);
}
END_TEST

START_TEST(deferred_reply_through_actor_on_other_loop)
{
    check_proxy(1, TROUPE_SHARED);
}
END_TEST

START_TEST(deferred_reply_through_isolated_actor)
{
    check_proxy(0, TROUPE_ISOLATED);
}
END_TEST

START_TEST(request_to_dead_backend_is_edead_through_proxy)
{
    static proxy p;
    p = (proxy){.backend = tr_spawn_echo(node, TROUPE_SHARED, NULL)};
    troupe_addr px = spawn_proxy(&p, 1, TROUPE_SHARED);
    troupe_msg *r = NULL;
    TR_CK_ERR(
        troupe_call(cl, p.backend, "crash", troupe_deadline_in(5000), &r, NULL),
        TROUPE_EDEAD);
    TR_CK_ERR(troupe_call(cl, px, "echo", troupe_deadline_in(5000), &r, "{s:I}",
                          "x", (int64_t)1),
              TROUPE_EDEAD);
}
END_TEST

// A request's deadline travels: the proxy passes TROUPE_DEADLINE_DEFAULT and
// the backend sees the client's deadline.
static int64_t seen_deadline;

static int deadline_probe(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)state;
    seen_deadline = troupe_msg_deadline(msg);
    return troupe_reply(cx, msg, "{s:I}", "x", (int64_t)0);
}

START_TEST(deadline_travels_through_three_hops)
{
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = deadline_probe;
    static proxy p1, p2;
    p1 = (proxy){0};
    p2 = (proxy){0};
    TR_CK_OK(
        troupe_node_spawn(node, &s, troupe_deadline_in(5000), &p2.backend));
    p1.backend = spawn_proxy(&p2, 1, TROUPE_SHARED);
    troupe_addr front = spawn_proxy(&p1, 0, TROUPE_SHARED);
    int64_t deadline = troupe_deadline_in(4000);
    troupe_msg *r = NULL;
    TR_CK_OK(
        troupe_call(cl, front, "echo", deadline, &r, "{s:I}", "x", (int64_t)1));
    troupe_msg_destroy(&r);
    ck_assert_int_eq(seen_deadline, deadline);
}
END_TEST

// Stops its target when its timer fires: a stop that comes while the test
// thread is blocked in a call.
static int killer_init(troupe_ctx *cx, void *state, void *arg)
{
    (void)state;
    (void)arg;
    return troupe_timer_start(cx, 50, 0, "kill", NULL);
}

static int killer_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)msg;
    return troupe_stop(cx, *(troupe_addr *)state, TROUPE_EUSER);
}

START_TEST(proxy_stopped_mid_request_still_answers_its_caller)
{
    tr_gate entered, release;
    tr_gate_init(&entered);
    tr_gate_init(&release);
    // Static: the actor may still count a late message after the test
    // returned (messages from different senders may come in any order).
    static tr_echo_state st;
    st = (tr_echo_state){&entered, &release, 0};
    static proxy p;
    p = (proxy){.backend = tr_spawn_echo(node, TROUPE_ISOLATED, &st)};
    TR_CK_OK(troupe_client_tell(cl, p.backend, "block", NULL));
    tr_gate_wait(&entered, 5000, "the backend to block");
    troupe_addr px = spawn_proxy(&p, 0, TROUPE_SHARED);
    troupe_actor_spec k = {
        .handler = killer_handler, .init = killer_init, .state = &px};
    troupe_addr ka;
    TR_CK_OK(troupe_node_spawn(node, &k, troupe_deadline_in(5000), &ka));
    // The proxy defers, asks the blocked backend, and is stopped meanwhile:
    // its pending request is canceled, and the callback answers the
    // deferred reply, so the caller hears TROUPE_ECANCELED, not a timeout.
    troupe_msg *r = NULL;
    int64_t t0 = troupe_now();
    TR_CK_ERR(troupe_call(cl, px, "echo", troupe_deadline_in(5000), &r, "{s:I}",
                          "x", (int64_t)1),
              TROUPE_ECANCELED);
    ck_assert_int_lt(troupe_now() - t0, 4000);
    tr_gate_open(&release);
    tr_check_echo(cl, p.backend, 1);
    tr_gate_fini(&entered);
    tr_gate_fini(&release);
}
END_TEST

// ---- cancel and names ----

typedef struct asker {
    troupe_addr slow; // an actor that will not answer in time
    int status;       // what the callback saw
    int calls;        // how many times it ran
} asker;

static int asker_cb(troupe_ctx *cx, void *state, int status,
                    const troupe_msg *reply, void *arg)
{
    (void)cx;
    (void)reply;
    (void)arg;
    asker *a = state;
    a->status = status;
    a->calls++;
    return 0;
}

static int asker_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    asker *a = state;
    if (troupe_msg_is(msg, "cancel")) {
        uint64_t corr = 0;
        TR_CK_OK(troupe_request(cx, a->slow, "echo", troupe_deadline_in(5000),
                                asker_cb, NULL, &corr, "{s:I}", "x",
                                (int64_t)1));
        TR_CK_OK(troupe_request_cancel(cx, corr)); // runs the callback now
        TR_CK_ERR(troupe_request_cancel(cx, corr), TROUPE_ENOENT);
        return troupe_reply(cx, msg, "[ii]", a->status, a->calls);
    }
    if (troupe_msg_is(msg, "by-name")) {
        TR_CK_OK(troupe_tell_name(cx, "named-echo", "nothing", NULL));
        TR_CK_ERR(troupe_tell_name(cx, "no-such", "x", NULL), TROUPE_ENOENT);
        TR_CK_ERR(troupe_request_name(cx, "no-such", "x",
                                      TROUPE_DEADLINE_DEFAULT, asker_cb, NULL,
                                      NULL, NULL),
                  TROUPE_ENOENT);
        troupe_deferred *d;
        TR_CK_OK(troupe_defer(cx, msg, &d));
        return troupe_request_name(cx, "named-echo", "echo",
                                   TROUPE_DEADLINE_DEFAULT, proxy_on_reply, d,
                                   NULL, "{s:I}", "x", (int64_t)2);
    }
    return 0;
}

START_TEST(canceled_request_ends_once_with_ecanceled)
{
    tr_gate entered, release;
    tr_gate_init(&entered);
    tr_gate_init(&release);
    // Static: the actor may still count a late message after the test
    // returned (messages from different senders may come in any order).
    static tr_echo_state st;
    st = (tr_echo_state){&entered, &release, 0};
    static asker a;
    a = (asker){.slow = tr_spawn_echo(node, TROUPE_ISOLATED, &st)};
    TR_CK_OK(troupe_client_tell(cl, a.slow, "block", NULL));
    tr_gate_wait(&entered, 5000, "the handler to block");
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = asker_handler;
    s.state = &a;
    troupe_addr aa;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &aa));
    troupe_msg *r = NULL;
    TR_CK_OK(troupe_call(cl, aa, "cancel", troupe_deadline_in(5000), &r, NULL));
    int status = 0, calls = 0;
    TR_CK_OK(troupe_msg_read(r, "[ii]", &status, &calls));
    troupe_msg_destroy(&r);
    ck_assert_int_eq(status, TROUPE_ECANCELED);
    ck_assert_int_eq(calls, 1);
    tr_gate_open(&release);
    tr_check_echo(cl, a.slow, 3); // the late reply is dropped, not delivered
    ck_assert_int_eq(a.calls, 1);
    tr_gate_fini(&entered);
    tr_gate_fini(&release);
}
END_TEST

START_TEST(tell_and_request_by_name_from_an_actor)
{
    troupe_actor_spec e = tr_echo_spec(TROUPE_SHARED, NULL);
    e.name = "named-echo";
    e.loop = TROUPE_LOOP(1);
    troupe_addr ea;
    TR_CK_OK(troupe_node_spawn(node, &e, troupe_deadline_in(5000), &ea));
    static asker a;
    a = (asker){0};
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = asker_handler;
    s.state = &a;
    s.loop = TROUPE_LOOP(0);
    troupe_addr aa;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &aa));
    troupe_msg *r = NULL;
    TR_CK_OK(
        troupe_call(cl, aa, "by-name", troupe_deadline_in(5000), &r, NULL));
    int64_t y = 0;
    TR_CK_OK(troupe_msg_read(r, "{s:I}", "x", &y));
    ck_assert_int_eq(y, 30); // (2 + 1) * 10 through proxy_on_reply
    troupe_msg_destroy(&r);
}
END_TEST

Suite *make_suite(void);
Suite *make_suite(void)
{
    Suite *s = suite_create("request");
    TCase *tc = tcase_create("client");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, call_to_shared_actor_gets_reply);
    tcase_add_test(tc, call_to_isolated_actor_gets_reply);
    tcase_add_test(tc, error_reply_reaches_caller_with_its_code);
    tcase_add_test(tc, handler_without_reply_gives_edead);
    tcase_add_test(tc, crash_while_handling_gives_edead_and_ends_actor);
    tcase_add_test(tc, call_to_never_used_slot_is_enoent);
    tcase_add_test(tc, blocked_target_times_out_at_deadline_then_reply_is_late);
    tcase_add_test(tc, deadline_already_passed_is_refused_at_once);
    suite_add_tcase(s, tc);
    tc = tcase_create("between_actors");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, deferred_reply_through_actor_on_same_loop);
    tcase_add_test(tc, deferred_reply_through_actor_on_other_loop);
    tcase_add_test(tc, deferred_reply_through_isolated_actor);
    tcase_add_test(tc, request_to_dead_backend_is_edead_through_proxy);
    tcase_add_test(tc, deadline_travels_through_three_hops);
    tcase_add_test(tc, canceled_request_ends_once_with_ecanceled);
    tcase_add_test(tc, proxy_stopped_mid_request_still_answers_its_caller);
    tcase_add_test(tc, tell_and_request_by_name_from_an_actor);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tr_run_suite(make_suite());
}
