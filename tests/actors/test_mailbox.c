// SPDX-License-Identifier: MIT
//
// Mailboxes: bounded (a full one refuses with TROUPE_EFULL and nothing is
// queued), FIFO per sender and receiver across loops and threads, control
// messages never refused, and the count identity
// sent == delivered + dead_lettered + refused.
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

START_TEST(full_mailbox_refuses_tell)
{
    tr_gate entered, release;
    tr_gate_init(&entered);
    tr_gate_init(&release);
    // Static: the actor may still count a late message after the test
    // returned (messages from different senders may come in any order).
    static tr_echo_state st;
    st = (tr_echo_state){&entered, &release, 0};
    troupe_actor_spec s = tr_echo_spec(TROUPE_ISOLATED, &st);
    s.mailbox_bound = 2;
    troupe_addr a;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &a));
    TR_CK_OK(troupe_client_tell(cl, a, "block", NULL));
    tr_gate_wait(&entered, 5000, "the handler to block");
    TR_CK_OK(troupe_client_tell(cl, a, "one", NULL));
    TR_CK_OK(troupe_client_tell(cl, a, "notify", NULL));
    TR_CK_ERR(troupe_client_tell(cl, a, "three", NULL), TROUPE_EFULL);
    troupe_msg *r = NULL;
    TR_CK_ERR(troupe_call(cl, a, "echo", troupe_deadline_in(1000), &r, NULL),
              TROUPE_EFULL);
    troupe_node_stats ns;
    TR_CK_OK(troupe_node_stats_get(node, &ns));
    ck_assert_uint_eq(ns.refused, 2);
    tr_gate_open(&release);
    troupe_msg *noted = NULL;
    TR_CK_OK(troupe_client_recv(cl, troupe_deadline_in(5000), &noted));
    ck_assert_str_eq(troupe_msg_tag(noted), "noted");
    troupe_msg_destroy(&noted);
    tr_check_echo(cl, a, 1); // room again once the queue drained
    ck_assert_int_eq(st.handled, 4);
    tr_gate_fini(&entered);
    tr_gate_fini(&release);
}
END_TEST

START_TEST(client_mailbox_is_bounded_too)
{
    troupe_client_destroy(&cl);
    tr_node_destroy_clean(&node);
    troupe_node_opts o;
    troupe_node_opts_init(&o);
    o.loops = 1;
    o.mailbox_bound = 3;
    node = tr_node_new_opts(&o);
    TR_CK_OK(troupe_client_new(node, &cl));
    troupe_addr me = troupe_client_addr(cl);
    for (int i = 0; i < 3; i++)
        TR_CK_OK(troupe_client_tell(cl, me, "x", "i", i));
    TR_CK_ERR(troupe_client_tell(cl, me, "x", "i", 3), TROUPE_EFULL);
    // Control messages are never refused: a down message gets through.
    troupe_addr a = tr_spawn_echo(node, TROUPE_SHARED, NULL);
    uint64_t ref;
    TR_CK_OK(troupe_client_monitor(cl, a, &ref));
    TR_CK_OK(troupe_node_stop_actor(node, a, 0));
    for (int i = 0; i < 3; i++) {
        troupe_msg *m = NULL;
        TR_CK_OK(troupe_client_recv(cl, troupe_deadline_in(1000), &m));
        int v = -1;
        TR_CK_OK(troupe_msg_read(m, "i", &v));
        ck_assert_int_eq(v, i);
        troupe_msg_destroy(&m);
    }
    troupe_msg *down = NULL;
    TR_CK_OK(troupe_client_recv(cl, troupe_deadline_in(5000), &down));
    ck_assert_int_eq(troupe_msg_kind_of(down), TROUPE_MSG_DOWN);
    ck_assert_uint_eq(troupe_msg_ref(down), ref);
    troupe_msg_destroy(&down);
}
END_TEST

// A sink that checks per-sender order: each sender numbers its messages.
typedef struct sink {
    int64_t next[4]; // next expected number per sender id
    int64_t total;   // messages seen
    int bad;         // out-of-order count
} sink;

static int sink_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    sink *s = state;
    if (troupe_msg_is(msg, "total"))
        return troupe_reply(cx, msg, "{s:I s:i}", "total", s->total, "bad",
                            s->bad);
    int id;
    int64_t n;
    if (troupe_msg_read(msg, "[iI]", &id, &n) || id < 0 || id > 3)
        return TROUPE_EBADMSG;
    if (n != s->next[id])
        s->bad++;
    s->next[id] = n + 1;
    s->total++;
    return 0;
}

typedef struct pump {
    troupe_addr to; // the sink
    int id;         // sender id
    int64_t count;  // messages to send
} pump;

static int pump_done(troupe_ctx *cx, void *state, int status,
                     const troupe_msg *reply, void *arg)
{
    (void)state;
    (void)reply;
    troupe_deferred *d = arg;
    return status ? troupe_deferred_error(cx, &d, status)
                  : troupe_deferred_reply(cx, &d, NULL);
}

// Sends its numbers, then asks the sink for its total: FIFO between the
// two means the answer comes after the sink took every number.
static int pump_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    pump *p = state;
    for (int64_t i = 0; i < p->count; i++) {
        int rc = troupe_tell(cx, p->to, "n", "[iI]", p->id, i);
        if (rc)
            return rc;
    }
    troupe_deferred *d;
    int rc = troupe_defer(cx, msg, &d);
    if (rc == 0)
        rc = troupe_request(cx, p->to, "total", TROUPE_DEADLINE_DEFAULT,
                            pump_done, d, NULL, NULL);
    return rc;
}

START_TEST(order_holds_per_sender_across_loops_and_threads)
{
    static sink sk;
    sk = (sink){{0}, 0, 0};
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = sink_handler;
    s.state = &sk;
    s.loop = TROUPE_LOOP(0);
    troupe_addr to;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &to));
    static pump pumps[3];
    for (int i = 0; i < 3; i++)
        pumps[i] = (pump){to, i, 2000};
    troupe_addr pa[3];
    for (int i = 0; i < 3; i++) {
        troupe_actor_spec ps = troupe_actor_spec_default();
        ps.handler = pump_handler;
        ps.state = &pumps[i];
        ps.loop = i < 2 ? TROUPE_LOOP(i) : TROUPE_LOOP_AUTO;
        ps.placement = i == 2 ? TROUPE_ISOLATED : TROUPE_SHARED;
        TR_CK_OK(
            troupe_node_spawn(node, &ps, troupe_deadline_in(5000), &pa[i]));
    }
    for (int i = 0; i < 3; i++) {
        troupe_msg *r = NULL;
        TR_CK_OK(
            troupe_call(cl, pa[i], "go", troupe_deadline_in(5000), &r, NULL));
        troupe_msg_destroy(&r);
    }
    for (int64_t i = 0; i < 500; i++)
        TR_CK_OK(troupe_client_tell(cl, to, "n", "[iI]", 3, i));
    troupe_msg *r = NULL;
    TR_CK_OK(troupe_call(cl, to, "total", troupe_deadline_in(5000), &r, NULL));
    int64_t total = 0;
    int bad = -1;
    TR_CK_OK(troupe_msg_read(r, "{s:I s:i}", "total", &total, "bad", &bad));
    troupe_msg_destroy(&r);
    ck_assert_int_eq(total, 6500);
    ck_assert_int_eq(bad, 0);
}
END_TEST

START_TEST(stats_identity_holds_after_mixed_traffic)
{
    troupe_addr a = tr_spawn_echo(node, TROUPE_SHARED, NULL);
    troupe_addr b = tr_spawn_echo(node, TROUPE_ISOLATED, NULL);
    troupe_msg *r = NULL;
    for (int i = 0; i < 20; i++) {
        tr_check_echo(cl, i % 2 ? a : b, i);
        TR_CK_OK(troupe_client_tell(cl, a, "nothing", NULL));
    }
    TR_CK_ERR(troupe_call(cl, a, "crash", troupe_deadline_in(5000), &r, NULL),
              TROUPE_EDEAD);
    TR_CK_ERR(troupe_client_tell(cl, a, "late", NULL), TROUPE_EDEAD);
    // tr_node_destroy_clean asserts the identity at rest.
}
END_TEST

Suite *make_suite(void);
Suite *make_suite(void)
{
    Suite *s = suite_create("mailbox");
    TCase *tc = tcase_create("mailbox");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, full_mailbox_refuses_tell);
    tcase_add_test(tc, client_mailbox_is_bounded_too);
    tcase_add_test(tc, order_holds_per_sender_across_loops_and_threads);
    tcase_add_test(tc, stats_identity_holds_after_mixed_traffic);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tr_run_suite(make_suite());
}
