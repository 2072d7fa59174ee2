// SPDX-License-Identifier: MIT
//
// Sockets a loop watches (actors/io.c, io_internal.h). The loop sleeps on
// their ZMQ_FD, which libzmq signals on an edge only: when a command
// reaches a socket whose commands were all taken in. So a socket is slept
// on at once only while its owner's `quiet` flag says that its last read
// found nothing and nothing was sent on it since; any other is asked first.
// Here an actor owns a watched DEALER and the DEALER that feeds it:
// - a frame to a quiet socket wakes the loop, each time;
// - a send after the empty read makes the loop ask, and the frame whose
//   news that send took in is read;
// - and the hazard the rule is for: an owner that keeps saying "quiet"
//   after its send never hears of that frame.
#include <stdio.h>
#include <string.h>
#include <zmq.h>

// Check declares a function tr_ctx, the name of troupe's zmq context type:
// its declaration is renamed here (the test never calls it).
#define tr_ctx ck_tr_ctx
#include "tr_actors.h"
#include "tr_check.h"
#undef tr_ctx

#include "node_internal.h"

static troupe_node *node;
static troupe_client *cl;
static void *zctx; // the actor's sockets live in the test's own context

typedef struct s_owner {
    tr_actor *self;
    troupe_addr client; // who hears "got"
    void *in;           // watched by the loop
    void *feed;         // connected to `in`: frames for it
    int quiet;          // the watch's flag, kept by the rule of io_internal.h
    int keep_quiet;     // break the rule: the flag is not cleared on a send
} s_owner;

// Read `in` to the end, telling the client each frame; the empty read at
// the end makes the socket quiet.
static void s_ready(tr_port *p, void *arg, short revents)
{
    (void)revents;
    s_owner *o = arg;
    troupe_ctx *cx = tr_port_ctx_for(p, o->self);
    char buf[64];
    int n;
    while ((n = zmq_recv(o->in, buf, sizeof buf, ZMQ_DONTWAIT)) >= 0) {
        o->quiet = 0;
        troupe_tell(cx, o->client, "got", "[y]", buf, (size_t)n);
    }
    o->quiet = zmq_errno() == EAGAIN;
}

static int s_init(troupe_ctx *cx, void *state, void *arg)
{
    (void)arg;
    s_owner *o = state;
    o->self = cx->actor;
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://sock-watch-%p", state);
    o->in = zmq_socket(zctx, ZMQ_DEALER);
    o->feed = zmq_socket(zctx, ZMQ_DEALER);
    ck_assert_ptr_nonnull(o->in);
    ck_assert_ptr_nonnull(o->feed);
    ck_assert_int_eq(zmq_bind(o->in, ep), 0);
    ck_assert_int_eq(zmq_connect(o->feed, ep), 0);
    return tr_io_watch_sock(cx->port, o->in, ZMQ_POLLIN, &o->quiet, s_ready, o);
}

static void s_fini(void *state, int reason)
{
    (void)reason;
    s_owner *o = state;
    tr_io_unwatch_sock(o->self->port, o->in);
    int linger = 0;
    zmq_setsockopt(o->in, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(o->feed, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(o->in);
    zmq_close(o->feed);
}

static int s_handler(troupe_ctx *cx, void *state, const troupe_msg *m)
{
    s_owner *o = state;
    const void *b;
    size_t bl;
    if (troupe_msg_is(m, "quiet?")) // replies [i] the flag
        return troupe_reply(cx, m, "[i]", o->quiet);
    if (troupe_msg_is(m, "keep-quiet")) {
        o->keep_quiet = 1;
        return troupe_reply(cx, m, NULL);
    }
    TR_CK_OK(troupe_msg_read(m, "[y]", &b, &bl));
    o->client = troupe_msg_sender(m);
    // "push" [y]: a frame for `in`.
    ck_assert_int_eq(zmq_send(o->feed, b, bl, ZMQ_DONTWAIT), (int)bl);
    if (troupe_msg_is(m, "push-then-send")) {
        // Then a send on `in` itself, past libzmq's command throttle: a
        // send takes in the socket's commands when about a millisecond (3M
        // TSC ticks) passed since it last did. This spin is not a wait for
        // an event: it is that time passing.
        int64_t until = troupe_now() + 10;
        while (troupe_now() < until) {
        }
        ck_assert_int_eq(zmq_send(o->in, "x", 1, ZMQ_DONTWAIT), 1);
        if (!o->keep_quiet)
            o->quiet = 0; // the rule
    }
    return 0;
}

static troupe_addr owner;

static void setup(void)
{
    zctx = zmq_ctx_new();
    ck_assert_ptr_nonnull(zctx);
    node = tr_node_new(1);
    TR_CK_OK(troupe_client_new(node, &cl));
    troupe_actor_spec spec = troupe_actor_spec_default();
    spec.init = s_init;
    spec.handler = s_handler;
    spec.fini = s_fini;
    spec.state_size = sizeof(s_owner);
    TR_CK_OK(troupe_node_spawn(node, &spec, troupe_deadline_in(5000), &owner));
}

static void teardown(void)
{
    troupe_client_destroy(&cl);
    tr_node_destroy_clean(&node);
    zmq_ctx_term(zctx);
}

static void s_tell(const char *tag, const char *bytes)
{
    TR_CK_OK(troupe_client_tell(cl, owner, tag, "[y]", bytes, strlen(bytes)));
}

// The next "got" carries `bytes`; none within ms fails the test.
static void s_expect_got(const char *bytes, int ms)
{
    troupe_msg *m = NULL;
    int rc = troupe_client_recv(cl, troupe_deadline_in(ms), &m);
    ck_assert_msg(rc == 0, "no frame \"%s\" read within %d ms: %s", bytes, ms,
                  troupe_errname(rc));
    const void *b;
    size_t bl;
    ck_assert(troupe_msg_is(m, "got"));
    TR_CK_OK(troupe_msg_read(m, "[y]", &b, &bl));
    ck_assert_int_eq(bl, strlen(bytes));
    ck_assert(memcmp(b, bytes, bl) == 0);
    troupe_msg_destroy(&m);
}

static int s_quiet(void)
{
    troupe_msg *r = NULL;
    int q = -1;
    TR_CK_OK(
        troupe_call(cl, owner, "quiet?", troupe_deadline_in(5000), &r, NULL));
    TR_CK_OK(troupe_msg_read(r, "[i]", &q));
    troupe_msg_destroy(&r);
    return q;
}

START_TEST(a_frame_to_a_quiet_socket_wakes_the_loop)
{
    s_tell("push", "a"); // (a pipe never read makes a frame no signal)
    s_expect_got("a", 5000);
    ck_assert_int_eq(s_quiet(), 1); // the read ended empty
    s_tell("push", "b");            // the loop sleeps on the fd: it wakes
    s_expect_got("b", 5000);
    for (int i = 0; i < 100; i++) { // and again, each time
        char s[8];
        snprintf(s, sizeof s, "%d", i);
        s_tell("push", s);
        s_expect_got(s, 5000);
    }
}
END_TEST

START_TEST(a_send_since_the_empty_read_makes_the_loop_ask_first)
{
    s_tell("push", "a");
    s_expect_got("a", 5000);
    ck_assert_int_eq(s_quiet(), 1);
    s_tell("push-then-send", "b");
    s_expect_got("b", 5000);
}
END_TEST

START_TEST(without_the_rule_a_send_hides_the_frame_from_the_loop)
{
    troupe_msg *r = NULL;
    TR_CK_OK(troupe_call(cl, owner, "keep-quiet", troupe_deadline_in(5000), &r,
                         NULL));
    troupe_msg_destroy(&r);
    s_tell("push", "a");
    s_expect_got("a", 5000);
    s_tell("push-then-send", "b");
    // Its news went in with the send: no signal comes, and the loop, told
    // the socket is quiet, sleeps on. (Were this ever read, the rule would
    // be needless, not wrong.)
    TR_CK_ERR(troupe_client_recv(cl, troupe_deadline_in(300), &r),
              TROUPE_ETIMEDOUT);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("sock_watch");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_frame_to_a_quiet_socket_wakes_the_loop);
    tcase_add_test(tc, a_send_since_the_empty_read_makes_the_loop_ask_first);
    tcase_add_test(tc, without_the_rule_a_send_hides_the_frame_from_the_loop);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tr_run_suite(make_suite());
}
