// SPDX-License-Identifier: MIT
//
// Monitors and links, with Erlang's semantics: one down message per monitor
// with the exit reason (TROUPE_EDEAD for a target already gone), demonitor
// flushes, links propagate abnormal exits both ways unless trapped, normal
// exits do not propagate, and troupe_stop ends an actor with a reason.
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

static troupe_msg *expect_kind(troupe_msg_kind kind)
{
    troupe_msg *m = NULL;
    TR_CK_OK(troupe_client_recv(cl, troupe_deadline_in(5000), &m));
    ck_assert_int_eq(troupe_msg_kind_of(m), kind);
    return m;
}

static void expect_nothing(void)
{
    troupe_msg *m = NULL;
    TR_CK_ERR(troupe_client_recv(cl, troupe_deadline_in(50), &m),
              TROUPE_ETIMEDOUT);
}

START_TEST(down_carries_reason_of_stop)
{
    troupe_addr a = tr_spawn_echo(node, TROUPE_SHARED, NULL);
    uint64_t ref;
    TR_CK_OK(troupe_client_monitor(cl, a, &ref));
    TR_CK_OK(troupe_node_stop_actor(node, a, TROUPE_EUSER - 5));
    troupe_msg *m = expect_kind(TROUPE_MSG_DOWN);
    ck_assert_int_eq(troupe_msg_code(m), TROUPE_EUSER - 5);
    ck_assert(troupe_addr_eq(troupe_msg_sender(m), a));
    ck_assert_uint_eq(troupe_msg_ref(m), ref);
    troupe_msg_destroy(&m);
    expect_nothing();
}
END_TEST

START_TEST(monitor_of_dead_actor_gets_edead_down_at_once)
{
    troupe_addr a = tr_spawn_echo(node, TROUPE_ISOLATED, NULL);
    uint64_t ref;
    TR_CK_OK(troupe_client_monitor(cl, a, &ref));
    TR_CK_OK(troupe_node_stop_actor(node, a, 0));
    troupe_msg *m = expect_kind(TROUPE_MSG_DOWN);
    ck_assert_int_eq(troupe_msg_code(m), 0);
    troupe_msg_destroy(&m);
    TR_CK_OK(troupe_client_monitor(cl, a, &ref));
    m = expect_kind(TROUPE_MSG_DOWN);
    ck_assert_int_eq(troupe_msg_code(m), TROUPE_EDEAD);
    ck_assert_uint_eq(troupe_msg_ref(m), ref);
    troupe_msg_destroy(&m);
}
END_TEST

// An actor that links to or monitors whom it is told, and reports what it
// sees to the client.
typedef struct watcher {
    troupe_addr report; // the client
    int trap;           // trap exits
    uint64_t ref;       // its monitor
} watcher;

static int s_settled(troupe_ctx *cx, void *state, int status,
                     const troupe_msg *reply, void *arg)
{
    (void)state;
    (void)status; // who may have died meanwhile: the order still holds
    (void)reply;
    troupe_deferred *d = arg;
    return troupe_deferred_reply(cx, &d, "i", 0);
}

static int watcher_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    watcher *w = state;
    troupe_addr who;
    if (troupe_msg_is(msg, "quit"))
        return troupe_exit(cx, TROUPE_EUSER - 9);
    if (troupe_msg_is(msg, "unlink")) {
        TR_CK_OK(troupe_msg_read(msg, "[uuu]", &who.node, &who.slot,
                                 &who.incarnation));
        return troupe_reply(cx, msg, "i", troupe_unlink(cx, who));
    }
    if (troupe_msg_is(msg, "link") || troupe_msg_is(msg, "monitor") ||
        troupe_msg_is(msg, "demonitor")) {
        TR_CK_OK(troupe_msg_read(msg, "[uuu]", &who.node, &who.slot,
                                 &who.incarnation));
        troupe_trap_exit(cx, w->trap);
        int rc = troupe_msg_is(msg, "link") ? troupe_link(cx, who)
                 : troupe_msg_is(msg, "monitor")
                     ? troupe_monitor(cx, who, &w->ref)
                     : troupe_demonitor(cx, w->ref);
        troupe_deferred *d;
        if (rc || troupe_defer(cx, msg, &d))
            return troupe_reply(cx, msg, "i", rc);
        // Answer after a round trip to who: the link or monitor request went
        // first on the same path, so who has it before the test's next
        // message to who (senders are ordered per pair only).
        if (troupe_request(cx, who, "echo", TROUPE_DEADLINE_DEFAULT, s_settled,
                           d, NULL, "{s:I}", "x", (int64_t)0))
            return troupe_deferred_reply(cx, &d, "i", 0); // who is gone
        return 0;
    }
    if (troupe_msg_kind_of(msg) == TROUPE_MSG_EXIT ||
        troupe_msg_kind_of(msg) == TROUPE_MSG_DOWN)
        return troupe_tell(cx, w->report, troupe_msg_tag(msg), "i",
                           troupe_msg_code(msg));
    return 0;
}

static troupe_addr spawn_watcher(watcher *w, int loop)
{
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = watcher_handler;
    s.state = w;
    s.loop = TROUPE_LOOP(loop);
    troupe_addr a;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &a));
    return a;
}

static void order(troupe_addr w, const char *what, troupe_addr who)
{
    troupe_msg *r = NULL;
    TR_CK_OK(troupe_call(cl, w, what, troupe_deadline_in(5000), &r, "[uuu]",
                         who.node, who.slot, who.incarnation));
    int rc = -1;
    TR_CK_OK(troupe_msg_read(r, "i", &rc));
    TR_CK_OK(rc);
    troupe_msg_destroy(&r);
}

START_TEST(link_propagates_crash_to_untrapped_peer)
{
    static watcher w;
    w = (watcher){troupe_client_addr(cl), 0, 0};
    troupe_addr wa = spawn_watcher(&w, 0);
    troupe_addr victim = tr_spawn_echo(node, TROUPE_SHARED, NULL);
    order(wa, "link", victim);
    uint64_t ref;
    TR_CK_OK(troupe_client_monitor(cl, wa, &ref));
    troupe_msg *r = NULL;
    TR_CK_ERR(
        troupe_call(cl, victim, "crash", troupe_deadline_in(5000), &r, NULL),
        TROUPE_EDEAD);
    troupe_msg *m = expect_kind(TROUPE_MSG_DOWN);
    ck_assert(troupe_addr_eq(troupe_msg_sender(m), wa));
    ck_assert_int_eq(troupe_msg_code(m), TROUPE_EUSER - 1);
    troupe_msg_destroy(&m);
}
END_TEST

START_TEST(trapping_peer_gets_exit_message_and_lives)
{
    static watcher w;
    w = (watcher){troupe_client_addr(cl), 1, 0};
    troupe_addr wa = spawn_watcher(&w, 1);
    troupe_addr victim = tr_spawn_echo(node, TROUPE_ISOLATED, NULL);
    order(wa, "link", victim);
    troupe_msg *r = NULL;
    TR_CK_ERR(
        troupe_call(cl, victim, "crash", troupe_deadline_in(5000), &r, NULL),
        TROUPE_EDEAD);
    troupe_msg *m = expect_kind(TROUPE_MSG_TELL);
    ck_assert_str_eq(troupe_msg_tag(m), "exit");
    int code = 0;
    TR_CK_OK(troupe_msg_read(m, "i", &code));
    ck_assert_int_eq(code, TROUPE_EUSER - 1);
    troupe_msg_destroy(&m);
    order(wa, "monitor", victim); // still alive: it answers
}
END_TEST

START_TEST(trapping_peer_gets_a_killed_exit_as_a_message_too)
{
    static watcher w;
    w = (watcher){troupe_client_addr(cl), 1, 0};
    troupe_addr wa = spawn_watcher(&w, 1);
    troupe_addr victim = tr_spawn_echo(node, TROUPE_SHARED, NULL);
    order(wa, "link", victim);
    TR_CK_OK(troupe_node_stop_actor(node, victim, TROUPE_EKILLED));
    troupe_msg *m = expect_kind(TROUPE_MSG_TELL); // as Erlang's `killed`
    ck_assert_str_eq(troupe_msg_tag(m), "exit");
    int code = 0;
    TR_CK_OK(troupe_msg_read(m, "i", &code));
    ck_assert_int_eq(code, TROUPE_EKILLED);
    troupe_msg_destroy(&m);
    order(wa, "monitor", victim); // the trapping peer lives on
}
END_TEST

START_TEST(normal_exit_does_not_kill_linked_peer)
{
    static watcher w;
    w = (watcher){troupe_client_addr(cl), 0, 0};
    troupe_addr wa = spawn_watcher(&w, 0);
    troupe_addr other = tr_spawn_echo(node, TROUPE_SHARED, NULL);
    order(wa, "link", other);
    TR_CK_OK(troupe_node_stop_actor(node, other, 0));
    uint64_t ref;
    TR_CK_OK(troupe_client_monitor(cl, other, &ref));
    troupe_msg *m = expect_kind(TROUPE_MSG_DOWN); // other is gone...
    troupe_msg_destroy(&m);
    order(wa, "monitor", other); // ...and the watcher is not
    m = expect_kind(TROUPE_MSG_TELL);
    ck_assert_str_eq(troupe_msg_tag(m), "down");
    troupe_msg_destroy(&m);
}
END_TEST

START_TEST(link_to_dead_actor_kills_linker_with_edead)
{
    static watcher w;
    w = (watcher){troupe_client_addr(cl), 0, 0};
    troupe_addr wa = spawn_watcher(&w, 1);
    troupe_addr gone = tr_spawn_echo(node, TROUPE_SHARED, NULL);
    TR_CK_OK(troupe_node_stop_actor(node, gone, 0));
    uint64_t ref;
    TR_CK_OK(troupe_client_monitor(cl, gone, &ref));
    troupe_msg *m = expect_kind(TROUPE_MSG_DOWN);
    troupe_msg_destroy(&m);
    TR_CK_OK(troupe_client_monitor(cl, wa, &ref));
    order(wa, "link", gone);
    m = expect_kind(TROUPE_MSG_DOWN);
    ck_assert(troupe_addr_eq(troupe_msg_sender(m), wa));
    ck_assert_int_eq(troupe_msg_code(m), TROUPE_EDEAD);
    troupe_msg_destroy(&m);
}
END_TEST

START_TEST(demonitor_means_no_down_message)
{
    static watcher w;
    w = (watcher){troupe_client_addr(cl), 0, 0};
    troupe_addr wa = spawn_watcher(&w, 0);
    troupe_addr t = tr_spawn_echo(node, TROUPE_SHARED, NULL);
    order(wa, "monitor", t);
    order(wa, "demonitor", t);
    TR_CK_OK(troupe_node_stop_actor(node, t, TROUPE_EUSER));
    uint64_t ref;
    TR_CK_OK(troupe_client_monitor(cl, t, &ref));
    troupe_msg *m = expect_kind(TROUPE_MSG_DOWN); // the client's own
    ck_assert_uint_eq(troupe_msg_ref(m), ref);
    troupe_msg_destroy(&m);
    expect_nothing(); // nothing from the watcher
}
END_TEST

START_TEST(unlinked_peer_survives_crash)
{
    static watcher w;
    w = (watcher){troupe_client_addr(cl), 0, 0};
    troupe_addr wa = spawn_watcher(&w, 1);
    troupe_addr victim = tr_spawn_echo(node, TROUPE_SHARED, NULL);
    order(wa, "link", victim);
    order(wa, "unlink", victim);
    troupe_msg *r = NULL;
    TR_CK_ERR(
        troupe_call(cl, victim, "crash", troupe_deadline_in(5000), &r, NULL),
        TROUPE_EDEAD);
    order(wa, "monitor", victim);                 // alive: it answers
    troupe_msg *m = expect_kind(TROUPE_MSG_TELL); // its down (EDEAD)
    troupe_msg_destroy(&m);
}
END_TEST

START_TEST(exit_ends_actor_with_its_reason)
{
    static watcher w;
    w = (watcher){troupe_client_addr(cl), 0, 0};
    troupe_addr wa = spawn_watcher(&w, 0);
    uint64_t ref;
    TR_CK_OK(troupe_client_monitor(cl, wa, &ref));
    TR_CK_OK(troupe_client_tell(cl, wa, "quit", NULL));
    troupe_msg *m = expect_kind(TROUPE_MSG_DOWN);
    ck_assert_int_eq(troupe_msg_code(m), TROUPE_EUSER - 9);
    troupe_msg_destroy(&m);
}
END_TEST

Suite *make_suite(void);
Suite *make_suite(void)
{
    Suite *s = suite_create("monitor");
    TCase *tc = tcase_create("monitor");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, down_carries_reason_of_stop);
    tcase_add_test(tc, monitor_of_dead_actor_gets_edead_down_at_once);
    tcase_add_test(tc, demonitor_means_no_down_message);
    suite_add_tcase(s, tc);
    tc = tcase_create("link");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, link_propagates_crash_to_untrapped_peer);
    tcase_add_test(tc, trapping_peer_gets_exit_message_and_lives);
    tcase_add_test(tc, trapping_peer_gets_a_killed_exit_as_a_message_too);
    tcase_add_test(tc, normal_exit_does_not_kill_linked_peer);
    tcase_add_test(tc, link_to_dead_actor_kills_linker_with_edead);
    tcase_add_test(tc, unlinked_peer_survives_crash);
    tcase_add_test(tc, exit_ends_actor_with_its_reason);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tr_run_suite(make_suite());
}
