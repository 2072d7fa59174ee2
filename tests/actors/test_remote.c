// SPDX-License-Identifier: MIT
//
// The transport conformance suite for endpoints that leave the process: the
// same behaviours run over ipc:// and tcp:// (inproc is what every other
// suite uses). Remote calls end exactly once like local ones, frames that
// are malformed are refused and counted while the node serves on, and
// stopping the node leaves no ipc file behind.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "tr_actors.h"
#include "tr_check.h"
#include "wire.h"

static troupe_node *node;
static troupe_client *cl;
static troupe_remote *rem;
static char dir[64];
static char endpoint[256];
static char ipc_path[128];

static int count_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    int64_t *n = state;
    if (troupe_msg_is(msg, "count"))
        return troupe_reply(cx, msg, "I", *n);
    int64_t i = -1;
    if (troupe_msg_read(msg, "I", &i) == 0 && i == *n)
        (*n)++; // counts only messages that come in order
    return 0;
}

static int64_t counted;

static void start(const char *ep)
{
    node = tr_node_new(2);
    TR_CK_OK(troupe_client_new(node, &cl));
    TR_CK_OK(troupe_node_listen(node, ep, endpoint, sizeof endpoint));
    troupe_actor_spec s = tr_echo_spec(TROUPE_SHARED, NULL);
    s.name = "echo";
    troupe_addr a;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &a));
    counted = 0;
    s = troupe_actor_spec_default();
    s.handler = count_handler;
    s.state = &counted;
    s.name = "counter";
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &a));
    TR_CK_OK(troupe_remote_new(&rem, endpoint, NULL));
}

static void setup_ipc(void)
{
    strcpy(dir, "/tmp/troupe-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(ipc_path, sizeof ipc_path, "%s/gw.sock", dir);
    char ep[160];
    snprintf(ep, sizeof ep, "ipc://%s", ipc_path);
    start(ep);
}

static void setup_tcp(void)
{
    dir[0] = ipc_path[0] = '\0';
    start("tcp://127.0.0.1:*");
}

static void teardown(void)
{
    troupe_remote_destroy(&rem);
    troupe_client_destroy(&cl);
    tr_node_destroy_clean(&node);
    if (ipc_path[0]) {
        struct stat st;
        ck_assert_msg(stat(ipc_path, &st) != 0, "ipc file left behind");
        rmdir(dir);
    }
}

START_TEST(remote_call_gets_reply)
{
    troupe_msg *r = NULL;
    TR_CK_OK(troupe_remote_call(rem, "echo", "echo", troupe_deadline_in(5000),
                                &r, "{s:I}", "x", (int64_t)41));
    int64_t x = 0;
    TR_CK_OK(troupe_msg_read(r, "{s:I}", "x", &x));
    ck_assert_int_eq(x, 42);
    troupe_msg_destroy(&r);
}
END_TEST

START_TEST(remote_call_ends_with_error_dead_or_enoent)
{
    troupe_msg *r = NULL;
    TR_CK_ERR(troupe_remote_call(rem, "echo", "fail", troupe_deadline_in(5000),
                                 &r, NULL),
              TROUPE_EUSER);
    TR_CK_ERR(troupe_remote_call(rem, "nobody", "echo",
                                 troupe_deadline_in(5000), &r, NULL),
              TROUPE_ENOENT);
    TR_CK_ERR(troupe_remote_call(rem, "echo", "crash", troupe_deadline_in(5000),
                                 &r, NULL),
              TROUPE_EDEAD);
    TR_CK_ERR(troupe_remote_call(rem, "echo", "echo", troupe_deadline_in(5000),
                                 &r, NULL),
              TROUPE_ENOENT); // name dropped
    ck_assert_ptr_null(r);
}
END_TEST

START_TEST(remote_call_to_blocked_actor_times_out)
{
    tr_gate entered, release;
    tr_gate_init(&entered);
    tr_gate_init(&release);
    // Static: the actor may still count a late message after the test
    // returned (messages from different senders may come in any order).
    static tr_echo_state st;
    st = (tr_echo_state){&entered, &release, 0};
    troupe_actor_spec s = tr_echo_spec(TROUPE_ISOLATED, &st);
    s.name = "slow";
    troupe_addr a;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &a));
    TR_CK_OK(troupe_client_tell(cl, a, "block", NULL));
    tr_gate_wait(&entered, 5000, "the handler to block");
    troupe_msg *r = NULL;
    int64_t t0 = troupe_now();
    TR_CK_ERR(troupe_remote_call(rem, "slow", "echo", t0 + 100, &r, NULL),
              TROUPE_ETIMEDOUT);
    ck_assert_int_ge(troupe_now(), t0 + 100);
    tr_gate_open(&release);
    tr_check_echo(cl, a, 1);
    tr_gate_fini(&entered);
    tr_gate_fini(&release);
}
END_TEST

START_TEST(remote_tells_arrive_in_order)
{
    for (int64_t i = 0; i < 200; i++)
        TR_CK_OK(troupe_remote_tell(rem, "counter", "n", "I", i));
    troupe_msg *r = NULL;
    TR_CK_OK(troupe_remote_call(rem, "counter", "count",
                                troupe_deadline_in(5000), &r, NULL));
    int64_t n = 0;
    TR_CK_OK(troupe_msg_read(r, "I", &n));
    ck_assert_int_eq(n, 200);
    troupe_msg_destroy(&r);
}
END_TEST

// Frames sent by hand on a raw DEALER, then one valid request: when its
// reply comes, the gateway has read everything before it.
static void send_raw(void *s, const void *p, size_t n, int more)
{
    ck_assert_int_eq(zmq_send(s, p, n, more ? ZMQ_SNDMORE : 0), (int)n);
}

START_TEST(malformed_frames_are_counted_and_node_serves_on)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    ck_assert_int_eq(zmq_connect(s, endpoint), 0);
    static const unsigned char huge_array[] = {0xdd, 0xff, 0x00, 0x00, 0x00};
    static const unsigned char v2[] = {0x92, 0x02, 0xc0};
    static const unsigned char reserved[] = {0xc1};
    send_raw(s, huge_array, sizeof huge_array, 0);
    send_raw(s, v2, sizeof v2, 0);
    send_raw(s, reserved, sizeof reserved, 0);
    send_raw(s, "a", 1, 1); // a two-part message
    send_raw(s, "b", 1, 0);
    tr_env e = {.kind = TROUPE_MSG_REQUEST,
                .to_name = "echo",
                .to_name_len = 4,
                .corr = 9,
                .ttl_ms = 5000,
                .tag = "echo",
                .tag_len = 4};
    tr_buf f = {0};
    TR_CK_OK(tr_wire_encode(&e, &f));
    send_raw(s, f.data, f.len - 1, 0); // truncated
    e.kind = TROUPE_MSG_REPLY;         // not something a client sends
    f.len = 0;
    TR_CK_OK(tr_wire_encode(&e, &f));
    send_raw(s, f.data, f.len, 0);
    e.kind = TROUPE_MSG_REQUEST;
    f.len = 0;
    TR_CK_OK(tr_wire_encode(&e, &f));
    send_raw(s, f.data, f.len, 0);
    unsigned char buf[512];
    int n = zmq_recv(s, buf, sizeof buf, 0); // the valid one's answer
    ck_assert_int_gt(n, 0);
    troupe_node_stats st;
    TR_CK_OK(troupe_node_stats_get(node, &st));
    ck_assert_uint_eq(st.malformed, 6);
    tr_buf_fini(&f);
    zmq_close(s);
    zmq_ctx_term(ctx);
    troupe_msg *r = NULL;
    TR_CK_ERR(troupe_remote_call(rem, "echo", "fail", troupe_deadline_in(5000),
                                 &r, NULL),
              TROUPE_EUSER);
}
END_TEST

// A name with a NUL byte in it is another name, not the one before the
// NUL: "echo\0x" must not reach "echo".
START_TEST(name_with_a_nul_byte_is_unknown)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    ck_assert_int_eq(zmq_connect(s, endpoint), 0);
    tr_env e = {.kind = TROUPE_MSG_REQUEST,
                .to_name = "echo\0x",
                .to_name_len = 6,
                .corr = 7,
                .ttl_ms = 5000,
                .tag = "echo",
                .tag_len = 4};
    tr_buf f = {0};
    TR_CK_OK(tr_wire_encode(&e, &f));
    send_raw(s, f.data, f.len, 0);
    unsigned char buf[512];
    int n = zmq_recv(s, buf, sizeof buf, 0);
    ck_assert_int_gt(n, 0);
    troupe_node_opts o;
    troupe_node_opts_init(&o);
    tr_limits l = {o.max_msg_size, o.max_depth, o.max_items, o.max_tag_len};
    tr_env a;
    TR_CK_OK(tr_wire_decode(buf, (size_t)n, &l, &a));
    ck_assert_int_eq(a.kind, TROUPE_MSG_ERROR);
    ck_assert_uint_eq(a.corr, 7);
    TR_CK_ERR(a.code, TROUPE_ENOENT);
    tr_buf_fini(&f);
    zmq_close(s);
    zmq_ctx_term(ctx);
}
END_TEST

START_TEST(listen_refuses_bad_endpoints)
{
    char b[64];
    TR_CK_ERR(troupe_node_listen(node, "inproc://x", b, sizeof b),
              TROUPE_EINVAL);
    TR_CK_ERR(troupe_node_listen(node, endpoint, NULL, 0), TROUPE_EEXIST);
    troupe_remote *bad = NULL;
    TR_CK_ERR(troupe_remote_new(&bad, "nonsense", NULL), TROUPE_EINVAL);
    ck_assert_ptr_null(bad);
}
END_TEST

static void add_tests(TCase *tc)
{
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, remote_call_gets_reply);
    tcase_add_test(tc, remote_call_ends_with_error_dead_or_enoent);
    tcase_add_test(tc, remote_call_to_blocked_actor_times_out);
    tcase_add_test(tc, remote_tells_arrive_in_order);
    tcase_add_test(tc, malformed_frames_are_counted_and_node_serves_on);
    tcase_add_test(tc, name_with_a_nul_byte_is_unknown);
    tcase_add_test(tc, listen_refuses_bad_endpoints);
}

Suite *make_suite(void);
Suite *make_suite(void)
{
    Suite *s = suite_create("remote");
    TCase *tc = tcase_create("ipc");
    tcase_add_checked_fixture(tc, setup_ipc, teardown);
    add_tests(tc);
    suite_add_tcase(s, tc);
    tc = tcase_create("tcp");
    tcase_add_checked_fixture(tc, setup_tcp, teardown);
    add_tests(tc);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tr_run_suite(make_suite());
}
