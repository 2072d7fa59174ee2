// SPDX-License-Identifier: MIT
//
// I/O watches (troupe/io.h): a watched pipe becomes TROUPE_MSG_IO messages
// on the actor's loop, one at a time and level-triggered (an actor that
// reads one byte per message gets one message per byte, in order), write
// readiness is reported, unwatching and the actor's end stop the messages,
// and bad arguments are refused.
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "tr_actors.h"
#include "tr_check.h"

static troupe_node *node;
static troupe_client *cl;
static int fds[2]; // a non-blocking pipe: read end, write end

typedef struct s_watcher {
    troupe_addr client; // who hears "got"
    int per_message;    // bytes read per IO message
} s_watcher;

static int s_watcher_handler(troupe_ctx *cx, void *state, const troupe_msg *m)
{
    s_watcher *w = state;
    if (troupe_msg_kind_of(m) == TROUPE_MSG_IO) {
        char buf[64];
        ssize_t n = 0;
        if (troupe_msg_code(m) & TROUPE_IO_READ)
            n = read(fds[0], buf, (size_t)w->per_message);
        return troupe_tell(cx, w->client, "got", "[sy]", troupe_msg_tag(m), buf,
                           (size_t)(n > 0 ? n : 0));
    }
    if (troupe_msg_is(m, "watch")) { // [fd events per_message]
        int fd, per;
        unsigned events;
        uint64_t id = 0;
        TR_CK_OK(troupe_msg_read(m, "[iui]", &fd, &events, &per));
        w->client = troupe_msg_sender(m);
        w->per_message = per;
        int rc = troupe_io_watch(cx, fd, events,
                                 events == TROUPE_IO_WRITE ? "out" : "in", &id);
        return rc ? troupe_reply_error(cx, m, rc)
                  : troupe_reply(cx, m, "[U]", id);
    }
    if (troupe_msg_is(m, "unwatch")) {
        uint64_t id;
        TR_CK_OK(troupe_msg_read(m, "[U]", &id));
        int rc = troupe_io_unwatch(cx, id);
        return rc ? troupe_reply_error(cx, m, rc) : troupe_reply(cx, m, NULL);
    }
    return TROUPE_ENOTSUP;
}

static troupe_addr watcher;

static void setup(void)
{
    node = tr_node_new(1);
    TR_CK_OK(troupe_client_new(node, &cl));
    ck_assert_int_eq(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
    troupe_actor_spec spec = troupe_actor_spec_default();
    spec.handler = s_watcher_handler;
    spec.state_size = sizeof(s_watcher);
    TR_CK_OK(
        troupe_node_spawn(node, &spec, troupe_deadline_in(5000), &watcher));
}

static void teardown(void)
{
    troupe_client_destroy(&cl);
    tr_node_destroy_clean(&node);
    close(fds[0]);
    close(fds[1]);
}

static int s_watch(int fd, unsigned events, int per, uint64_t *id)
{
    troupe_msg *r = NULL;
    int rc = troupe_call(cl, watcher, "watch", troupe_deadline_in(5000), &r,
                         "[iui]", fd, events, per);
    if (rc == 0)
        TR_CK_OK(troupe_msg_read(r, "[U]", id));
    troupe_msg_destroy(&r);
    return rc;
}

// The next "got": its watch tag and the bytes read, as a string.
static void s_expect_got(const char *tag, const char *bytes)
{
    troupe_msg *m = NULL;
    TR_CK_OK(troupe_client_recv(cl, troupe_deadline_in(5000), &m));
    ck_assert(troupe_msg_is(m, "got"));
    const char *t;
    const void *b;
    size_t tl, bl;
    TR_CK_OK(troupe_msg_read(m, "[sy]", &t, &tl, &b, &bl));
    ck_assert_int_eq(tl, strlen(tag));
    ck_assert(memcmp(t, tag, tl) == 0);
    ck_assert_int_eq(bl, strlen(bytes));
    ck_assert(memcmp(b, bytes, bl) == 0);
    troupe_msg_destroy(&m);
}

static void s_expect_nothing(void)
{
    troupe_msg *m = NULL;
    TR_CK_ERR(troupe_client_recv(cl, troupe_deadline_in(50), &m),
              TROUPE_ETIMEDOUT);
}

START_TEST(readable_pipe_becomes_a_message_with_its_tag)
{
    uint64_t id;
    TR_CK_OK(s_watch(fds[0], TROUPE_IO_READ, 64, &id));
    ck_assert_int_eq(write(fds[1], "hello", 5), 5);
    s_expect_got("in", "hello");
    s_expect_nothing(); // drained: no more readiness
}
END_TEST

START_TEST(one_message_at_a_time_level_triggered_in_order)
{
    uint64_t id;
    TR_CK_OK(s_watch(fds[0], TROUPE_IO_READ, 1, &id)); // one byte each
    ck_assert_int_eq(write(fds[1], "abc", 3), 3);
    s_expect_got("in", "a");
    s_expect_got("in", "b");
    s_expect_got("in", "c");
    s_expect_nothing();
}
END_TEST

START_TEST(write_readiness_is_reported)
{
    uint64_t id;
    TR_CK_OK(s_watch(fds[1], TROUPE_IO_WRITE, 0, &id));
    s_expect_got("out", "");
    troupe_msg *r = NULL;
    TR_CK_OK(troupe_call(cl, watcher, "unwatch", troupe_deadline_in(5000), &r,
                         "[U]", id));
    troupe_msg_destroy(&r);
}
END_TEST

START_TEST(unwatched_fd_sends_nothing_more)
{
    uint64_t id;
    TR_CK_OK(s_watch(fds[0], TROUPE_IO_READ, 64, &id));
    troupe_msg *r = NULL;
    TR_CK_OK(troupe_call(cl, watcher, "unwatch", troupe_deadline_in(5000), &r,
                         "[U]", id));
    troupe_msg_destroy(&r);
    ck_assert_int_eq(write(fds[1], "x", 1), 1);
    s_expect_nothing();
    TR_CK_ERR(troupe_call(cl, watcher, "unwatch", troupe_deadline_in(5000), &r,
                          "[U]", id),
              TROUPE_ENOENT);
}
END_TEST

START_TEST(watch_ends_with_its_actor)
{
    uint64_t id;
    TR_CK_OK(s_watch(fds[0], TROUPE_IO_READ, 64, &id));
    TR_CK_OK(troupe_client_monitor(cl, watcher, NULL));
    TR_CK_OK(troupe_node_stop_actor(node, watcher, 0));
    troupe_msg *m = NULL;
    TR_CK_OK(troupe_client_recv(cl, troupe_deadline_in(5000), &m));
    ck_assert_int_eq(troupe_msg_kind_of(m), TROUPE_MSG_DOWN);
    troupe_msg_destroy(&m);
    ck_assert_int_eq(write(fds[1], "x", 1), 1);
    s_expect_nothing();
}
END_TEST

START_TEST(bad_watches_are_einval)
{
    uint64_t id;
    TR_CK_ERR(s_watch(-1, TROUPE_IO_READ, 1, &id), TROUPE_EINVAL);
    TR_CK_ERR(s_watch(fds[0], 0, 1, &id), TROUPE_EINVAL);
    TR_CK_ERR(s_watch(fds[0], TROUPE_IO_ERROR, 1, &id), TROUPE_EINVAL);
    TR_CK_ERR(troupe_io_watch(NULL, fds[0], TROUPE_IO_READ, "x", &id),
              TROUPE_EINVAL);
    TR_CK_ERR(troupe_io_unwatch(NULL, 1), TROUPE_EINVAL);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("io");
    TCase *tc = tcase_create("watch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, readable_pipe_becomes_a_message_with_its_tag);
    tcase_add_test(tc, one_message_at_a_time_level_triggered_in_order);
    tcase_add_test(tc, write_readiness_is_reported);
    tcase_add_test(tc, unwatched_fd_sends_nothing_more);
    tcase_add_test(tc, watch_ends_with_its_actor);
    tcase_add_test(tc, bad_watches_are_einval);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tr_run_suite(make_suite());
}
