// SPDX-License-Identifier: MIT
//
// Bad input never crashes a node and is never lost silently: malformed or
// hostile msgpack bodies, oversized messages, over-long tags, API misuse and
// double replies each get their TROUPE_E* code, are counted, and the node
// keeps serving.
#include <stdlib.h>
#include <string.h>

#include "tr_actors.h"
#include "tr_check.h"

static troupe_node *node;
static troupe_client *cl;

static int refusals_logged;

static void count_refusals(void *arg, troupe_log_level level, const char *line)
{
    (void)arg;
    if (level == TROUPE_LOG_DEBUG && strstr(line, "refused"))
        __atomic_fetch_add(&refusals_logged, 1, __ATOMIC_RELAXED);
}

static void setup(void)
{
    troupe_node_opts o;
    troupe_node_opts_init(&o);
    o.loops = 1;
    o.max_msg_size = 4096;
    o.log = count_refusals;
    o.log_level = TROUPE_LOG_DEBUG;
    node = tr_node_new_opts(&o);
    TR_CK_OK(troupe_client_new(node, &cl));
}

static void teardown(void)
{
    troupe_client_destroy(&cl);
    tr_node_destroy_clean(&node);
}

static int on_reply(troupe_ctx *cx, void *state, int status,
                    const troupe_msg *reply, void *arg)
{
    (void)cx;
    (void)state;
    (void)status;
    (void)reply;
    (void)arg;
    return 0;
}

// Runs the probe named by the tag against the echo actor in state and
// replies with the code it got.
static int prober(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    troupe_addr to = *(troupe_addr *)state;
    const char *t = troupe_msg_tag(msg);
    int rc = 0;
    if (!strcmp(t, "map32-4G")) {
        static const unsigned char b[] = {0xdd, 0xff, 0x00, 0x00, 0x00};
        rc = troupe_tell_raw(cx, to, "x", b, sizeof b);
    } else if (!strcmp(t, "deep")) {
        size_t n = 4000; // deeper than max_depth, within max_msg_size
        unsigned char *b = malloc(n + 1);
        memset(b, 0x91, n);
        b[n] = 0xc0;
        rc = troupe_tell_raw(cx, to, "x", b, n + 1);
        free(b);
    } else if (!strcmp(t, "reserved")) {
        static const unsigned char b[] = {0xc1};
        rc = troupe_tell_raw(cx, to, "x", b, 1);
    } else if (!strcmp(t, "truncated")) {
        static const unsigned char b[] = {0x92, 0x01};
        rc = troupe_tell_raw(cx, to, "x", b, sizeof b);
    } else if (!strcmp(t, "trailing")) {
        static const unsigned char b[] = {0x01, 0x02};
        rc = troupe_tell_raw(cx, to, "x", b, sizeof b);
    } else if (!strcmp(t, "oversized")) {
        char *big = malloc(8192);
        memset(big, 'a', 8191);
        big[8191] = '\0';
        rc = troupe_tell(cx, to, "x", "s", big);
        free(big);
    } else if (!strcmp(t, "long-tag")) {
        char tag[100];
        memset(tag, 't', 99);
        tag[99] = '\0';
        rc = troupe_tell(cx, to, tag, NULL);
    } else if (!strcmp(t, "bad-format")) {
        rc = troupe_tell(cx, to, "x", "{s:", "k");
    } else if (!strcmp(t, "no-callback")) {
        rc = troupe_request(cx, to, "echo", TROUPE_DEADLINE_DEFAULT, NULL, NULL,
                            NULL, NULL);
    } else if (!strcmp(t, "double-reply")) {
        TR_CK_OK(troupe_reply(cx, msg, "i", 0));
        TR_CK_ERR(troupe_reply(cx, msg, "i", 1), TROUPE_EALREADY);
        TR_CK_ERR(troupe_reply_error(cx, msg, TROUPE_EUSER), TROUPE_EALREADY);
        return 0;
    } else if (!strcmp(t, "bad-r-format")) {
        static const unsigned char b[] = {0xc1};
        rc = troupe_tell(cx, to, "x", "r", b, sizeof b);
    } else if (!strcmp(t, "valid-raw")) {
        static const unsigned char b[] = {0x81, 0xa1, 'x', 0x05};
        rc = troupe_tell_raw(cx, to, "x", b, sizeof b);
    } else if (!strcmp(t, "request-to-nobody")) {
        troupe_addr nobody = {0, 777777, 3};
        rc = troupe_request(cx, nobody, "x", TROUPE_DEADLINE_DEFAULT, on_reply,
                            NULL, NULL, NULL);
    }
    return troupe_reply(cx, msg, "i", rc);
}

static int probe(const char *what)
{
    static troupe_addr target;
    target = tr_spawn_echo(node, TROUPE_SHARED, NULL);
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = prober;
    s.state = &target;
    troupe_addr p;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &p));
    troupe_msg *r = NULL;
    TR_CK_OK(troupe_call(cl, p, what, troupe_deadline_in(5000), &r, NULL));
    int rc = 1;
    TR_CK_OK(troupe_msg_read(r, "i", &rc));
    troupe_msg_destroy(&r);
    tr_check_echo(cl, target, 1); // the node and the target still serve
    return rc;
}

static uint64_t refused(void)
{
    troupe_node_stats st;
    TR_CK_OK(troupe_node_stats_get(node, &st));
    return st.refused;
}

START_TEST(map_claiming_4g_entries_is_elimit)
{
    TR_CK_ERR(probe("map32-4G"), TROUPE_ELIMIT);
    ck_assert_uint_eq(refused(), 1);
    ck_assert_int_eq(__atomic_load_n(&refusals_logged, __ATOMIC_RELAXED), 1);
}
END_TEST

START_TEST(nesting_4000_deep_is_elimit)
{
    TR_CK_ERR(probe("deep"), TROUPE_ELIMIT);
    ck_assert_uint_eq(refused(), 1);
}
END_TEST

START_TEST(reserved_byte_truncation_and_trailing_are_ebadmsg)
{
    TR_CK_ERR(probe("reserved"), TROUPE_EBADMSG);
    TR_CK_ERR(probe("truncated"), TROUPE_EBADMSG);
    TR_CK_ERR(probe("trailing"), TROUPE_EBADMSG);
    ck_assert_uint_eq(refused(), 3);
}
END_TEST

START_TEST(oversized_body_is_emsgsize)
{
    TR_CK_ERR(probe("oversized"), TROUPE_EMSGSIZE);
    ck_assert_uint_eq(refused(), 1);
    ck_assert_int_eq(__atomic_load_n(&refusals_logged, __ATOMIC_RELAXED), 1);
}
END_TEST

START_TEST(bad_raw_value_in_format_is_refused_and_counted)
{
    TR_CK_ERR(probe("bad-r-format"), TROUPE_EBADMSG);
    ck_assert_uint_eq(refused(), 1);
}
END_TEST

START_TEST(misuse_is_einval)
{
    TR_CK_ERR(probe("long-tag"), TROUPE_EINVAL);
    TR_CK_ERR(probe("bad-format"), TROUPE_EINVAL);
    TR_CK_ERR(probe("no-callback"), TROUPE_EINVAL);
    TR_CK_ERR(probe("request-to-nobody"), TROUPE_ENOENT);
}
END_TEST

START_TEST(double_reply_is_ealready)
{
    TR_CK_OK(probe("double-reply"));
}
END_TEST

START_TEST(valid_raw_body_is_delivered)
{
    TR_CK_OK(probe("valid-raw"));
    ck_assert_uint_eq(refused(), 0);
}
END_TEST

START_TEST(client_oversized_call_is_refused_and_counted)
{
    troupe_addr a = tr_spawn_echo(node, TROUPE_SHARED, NULL);
    char *big = malloc(8192);
    memset(big, 'b', 8191);
    big[8191] = '\0';
    troupe_msg *r = NULL;
    TR_CK_ERR(
        troupe_call(cl, a, "echo", troupe_deadline_in(1000), &r, "s", big),
        TROUPE_EMSGSIZE);
    TR_CK_ERR(troupe_client_tell(cl, a, "echo", "s", big), TROUPE_EMSGSIZE);
    free(big);
    ck_assert_uint_eq(refused(), 2);
    tr_check_echo(cl, a, 2);
}
END_TEST

Suite *make_suite(void);
Suite *make_suite(void)
{
    Suite *s = suite_create("badinput");
    TCase *tc = tcase_create("badinput");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, map_claiming_4g_entries_is_elimit);
    tcase_add_test(tc, nesting_4000_deep_is_elimit);
    tcase_add_test(tc, reserved_byte_truncation_and_trailing_are_ebadmsg);
    tcase_add_test(tc, oversized_body_is_emsgsize);
    tcase_add_test(tc, misuse_is_einval);
    tcase_add_test(tc, bad_raw_value_in_format_is_refused_and_counted);
    tcase_add_test(tc, double_reply_is_ealready);
    tcase_add_test(tc, valid_raw_body_is_delivered);
    tcase_add_test(tc, client_oversized_call_is_refused_and_counted);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tr_run_suite(make_suite());
}
