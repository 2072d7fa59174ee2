// SPDX-License-Identifier: MIT
//
// Messages as a handler and a client see them: envelope accessors, raw body
// access that msgpack-c can unpack, reading with a va_list, and the small
// value helpers (addresses, clock, deadlines, error names).
#include <msgpack.h>
#include <stdarg.h>
#include <string.h>

#include "tr_actors.h"
#include "tr_check.h"

static troupe_node *node;
static troupe_client *cl;

static void setup(void)
{
    node = tr_node_new(1);
    TR_CK_OK(troupe_client_new(node, &cl));
}

static void teardown(void)
{
    troupe_client_destroy(&cl);
    tr_node_destroy_clean(&node);
}

static troupe_msg *tell_self(const char *tag)
{
    TR_CK_OK(troupe_client_tell(cl, troupe_client_addr(cl), tag, "{s:I s:s}",
                                "n", (int64_t)-7, "who", "me"));
    troupe_msg *m = NULL;
    TR_CK_OK(troupe_client_recv(cl, troupe_deadline_in(5000), &m));
    return m;
}

START_TEST(envelope_says_kind_tag_sender_and_no_deadline)
{
    troupe_msg *m = tell_self("hello");
    ck_assert_int_eq(troupe_msg_kind_of(m), TROUPE_MSG_TELL);
    ck_assert_str_eq(troupe_msg_tag(m), "hello");
    ck_assert(troupe_msg_is(m, "hello"));
    ck_assert(!troupe_msg_is(m, "hell"));
    ck_assert(troupe_addr_eq(troupe_msg_sender(m), troupe_client_addr(cl)));
    ck_assert_int_eq(troupe_msg_deadline(m), TROUPE_FOREVER);
    ck_assert_int_eq(troupe_msg_code(m), 0);
    ck_assert_uint_eq(troupe_msg_ref(m), 0);
    troupe_msg_destroy(&m);
    ck_assert_ptr_null(m);
    troupe_msg_destroy(&m); // NULL is fine
    troupe_msg_destroy(NULL);
}
END_TEST

START_TEST(raw_body_unpacks_with_msgpack_c)
{
    troupe_msg *m = tell_self("raw");
    const void *data;
    size_t len;
    troupe_msg_body(m, &data, &len);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    ck_assert_int_eq(msgpack_unpack_next(&u, data, len, &off),
                     MSGPACK_UNPACK_SUCCESS);
    ck_assert_uint_eq(off, len);
    ck_assert_int_eq(u.data.type, MSGPACK_OBJECT_MAP);
    ck_assert_uint_eq(u.data.via.map.size, 2);
    msgpack_unpacked_destroy(&u);
    troupe_msg_destroy(&m);
}
END_TEST

static int read_via_va_list(const troupe_msg *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = troupe_msg_vread(m, fmt, ap);
    va_end(ap);
    return rc;
}

START_TEST(vread_reads_like_read)
{
    troupe_msg *m = tell_self("v");
    int64_t n = 0;
    char who[8];
    TR_CK_OK(read_via_va_list(m, "{s:I s:S}", "n", &n, "who", who, sizeof who));
    ck_assert_int_eq(n, -7);
    ck_assert_str_eq(who, "me");
    unsigned u = 0;
    TR_CK_ERR(read_via_va_list(m, "{s:u}", "n", &u), TROUPE_ETYPE);
    TR_CK_ERR(read_via_va_list(m, "{s:I}", "missing", &n), TROUPE_ETYPE);
    TR_CK_ERR(read_via_va_list(m, "{s:", "n"), TROUPE_EINVAL);
    troupe_msg_destroy(&m);
}
END_TEST

START_TEST(addresses_clock_and_error_names_behave)
{
    troupe_addr a = {0, 3, 1}, b = {0, 3, 2};
    ck_assert(troupe_addr_eq(a, a));
    ck_assert(!troupe_addr_eq(a, b));
    ck_assert(troupe_addr_valid(a));
    ck_assert(!troupe_addr_valid(TROUPE_ADDR_NONE));
    int64_t t = troupe_now();
    ck_assert_int_gt(t, 0);
    ck_assert_int_ge(troupe_deadline_in(10), t + 10);
    ck_assert_int_eq(troupe_deadline_in(TROUPE_FOREVER), TROUPE_FOREVER);
    for (int rc = 0; rc >= TROUPE_EINTENSITY; rc--) {
        ck_assert_str_ne(troupe_errname(rc), "TROUPE_E?");
        ck_assert_str_ne(troupe_strerror(rc), "unknown error");
    }
    ck_assert_str_eq(troupe_errname(-999), "TROUPE_E?");
    ck_assert_str_eq(troupe_strerror(TROUPE_EUSER - 1), "application error");
    ck_assert_str_eq(troupe_errname(TROUPE_EFULL), "TROUPE_EFULL");
}
END_TEST

Suite *make_suite(void);
Suite *make_suite(void)
{
    Suite *s = suite_create("msg");
    TCase *tc = tcase_create("msg");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, envelope_says_kind_tag_sender_and_no_deadline);
    tcase_add_test(tc, raw_body_unpacks_with_msgpack_c);
    tcase_add_test(tc, vread_reads_like_read);
    tcase_add_test(tc, addresses_clock_and_error_names_behave);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tr_run_suite(make_suite());
}
