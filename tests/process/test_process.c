// SPDX-License-Identifier: MIT
//
// Process actors (troupe/process.h): actors in child processes of this very
// test binary (main() serves them first, see the bottom), reached with the
// ordinary calls, supervised through pidfds and heartbeats.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tr_check.h"

// ---- what the children serve ----

static int worker_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)state;
    if (troupe_msg_is(msg, "pid"))
        return troupe_reply(cx, msg, "i", (int)getpid());
    if (troupe_msg_is(msg, "echo")) {
        const void *b;
        size_t n;
        troupe_msg_body(msg, &b, &n);
        return troupe_reply(cx, msg, "r", b, n);
    }
    if (troupe_msg_is(msg, "segv"))
        raise(SIGSEGV);
    if (troupe_msg_is(msg, "fail"))
        return TROUPE_EUSER - 7;
    if (troupe_msg_is(msg, "up")) // ask a name in the parent
        return troupe_tell_name(cx, "parent-sink", "from-child", "i",
                                (int)getpid());
    return 0;
}

static const troupe_proc_kind kinds[] = {
    {.kind = "worker",
     .actor = {.handler = worker_handle, .name = "worker-in-child"}},
};

// ---- tests ----

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

static troupe_addr spawn_worker(const char *name)
{
    troupe_proc_spec ps;
    troupe_proc_spec_init(&ps);
    ps.kind = "worker";
    troupe_actor_spec s = troupe_actor_spec_default();
    s.name = name;
    s.placement = TROUPE_PROCESS;
    s.process = &ps;
    troupe_addr a;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &a));
    return a;
}

START_TEST(request_reaches_the_child_and_comes_back)
{
    troupe_addr w = spawn_worker("w");
    troupe_msg *r;
    TR_CK_OK(troupe_call(cl, w, "pid", troupe_deadline_in(2000), &r, NULL));
    int pid = 0;
    TR_CK_OK(troupe_msg_read(r, "i", &pid));
    troupe_msg_destroy(&r);
    ck_assert_int_ne(pid, getpid());
    ck_assert_int_eq(pid, troupe_proc_pid(node, w));
    TR_CK_OK(troupe_call_name(cl, "w", "echo", troupe_deadline_in(2000), &r,
                              "{s:s}", "k", "v"));
    const char *v;
    size_t vn;
    TR_CK_OK(troupe_msg_read(r, "{s:s}", "k", &v, &vn));
    ck_assert_int_eq((int)vn, 1);
    troupe_msg_destroy(&r);
}
END_TEST

START_TEST(segfault_is_the_exit_reason_and_requests_end)
{
    troupe_addr w = spawn_worker("w");
    uint64_t ref;
    TR_CK_OK(troupe_client_monitor(cl, w, &ref));
    troupe_msg *r = NULL;
    TR_CK_ERR(troupe_call(cl, w, "segv", troupe_deadline_in(5000), &r, NULL),
              TROUPE_EDEAD);
    TR_CK_OK(troupe_client_recv(cl, troupe_deadline_in(5000), &r));
    ck_assert_int_eq(troupe_msg_kind_of(r), TROUPE_MSG_DOWN);
    ck_assert_int_eq(troupe_proc_signal_of(troupe_msg_code(r)), SIGSEGV);
    troupe_msg_destroy(&r);
}
END_TEST

Suite *make_suite(void);
Suite *make_suite(void)
{
    Suite *s = suite_create("process");
    TCase *tc = tcase_create("basics");
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, request_reaches_the_child_and_comes_back);
    tcase_add_test(tc, segfault_is_the_exit_reason_and_requests_end);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int code;
    if (troupe_proc_child(kinds, sizeof kinds / sizeof kinds[0], &code))
        return code;
    return tr_run_suite(make_suite());
}
