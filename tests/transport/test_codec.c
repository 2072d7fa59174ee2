// SPDX-License-Identifier: MIT
//
// The msgpack codec of the transport layer: the format-string packer and
// reader (every letter, nesting, format errors, range checks) and the
// validator that guards every message from outside the process (limits,
// truncations, and a differential test against msgpack-c's own unpacker).
#include <limits.h>
#include <msgpack.h>
#include <msgpack/unpack_define.h> // MSGPACK_EMBED_STACK_SIZE
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "tr_check.h"

static tr_limits s_limits(void)
{
    tr_limits l;
    tr_limits_default(&l);
    return l;
}

static int s_pack_l(tr_buf *b, const tr_limits *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = tr_pack_fmt(b, l, fmt, &ap);
    va_end(ap);
    return rc;
}

static int s_pack(tr_buf *b, const char *fmt, ...)
{
    tr_limits l = s_limits();
    va_list ap;
    va_start(ap, fmt);
    int rc = tr_pack_fmt(b, &l, fmt, &ap);
    va_end(ap);
    return rc;
}

static int s_read_raw(const void *p, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = tr_read_fmt(p, n, fmt, &ap);
    va_end(ap);
    return rc;
}

static int s_read(const tr_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = tr_read_fmt(b->data, b->len, fmt, &ap);
    va_end(ap);
    return rc;
}

static int s_validate(const void *p, size_t n)
{
    tr_limits l = s_limits();
    return tr_mp_validate_exact(p, n, &l);
}

// Every msgpack type, each length width, empty and non-empty containers.
// clang-format off
static const uint8_t s_all_types[] = {
    0xdf, 0, 0, 0, 2, 0xa1, 'a',          // map32 of 2; key "a"
    0xdd, 0, 0, 0, 34,                    // array32 of 34:
    0xc0, 0xc2, 0xc3, 0x05, 0xff,         // nil false true 5 -1
    0xcc, 0xff, 0xcd, 1, 0, 0xce, 0, 1, 0, 0, 0xcf, 0, 0, 0, 1, 0, 0, 0, 0,
    0xd0, 0x80, 0xd1, 0x80, 0, 0xd2, 0x80, 0, 0, 0, 0xd3, 0x80, 0, 0, 0, 0,
    0, 0, 0,                              // int 8/16/32/64
    0xca, 0x3f, 0xc0, 0, 0, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, // 1.5 1.5
    0xa2, 'h', 'i', 0xd9, 1, 'x', 0xda, 0, 1, 'y', 0xdb, 0, 0, 0, 1, 'z',
    0xc4, 1, 0, 0xc5, 0, 1, 0, 0xc6, 0, 0, 0, 1, 0, // bin 8/16/32
    0xd4, 1, 0, 0xd5, 1, 0, 0, 0xd6, 1, 0, 0, 0, 0, // fixext 1/2/4
    0xd7, 1, 0, 0, 0, 0, 0, 0, 0, 0,                // fixext 8
    0xd8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // fixext 16
    0xc7, 1, 5, 0xaa, 0xc8, 0, 1, 5, 0xaa, 0xc9, 0, 0, 0, 1, 5, 0xaa,
    0x90, 0xdc, 0, 1, 0xc0, 0x80, 0xde, 0, 1, 0xa1, 'k', 0xc0,
    0xa1, 'b', 0xc0,                      // key "b": nil
};
// clang-format on

// --- packing and reading back ---------------------------------------------

START_TEST(scalars_round_trip_at_their_extremes)
{
    tr_buf b = {0};
    bool t = false, f = true;
    int i;
    int64_t I;
    unsigned u;
    uint64_t U;
    TR_CK_OK(s_pack(&b, "[n b b i I u U]", 1, 0, INT_MIN, INT64_MIN, UINT_MAX,
                    UINT64_MAX));
    TR_CK_OK(s_validate(b.data, b.len));
    TR_CK_OK(s_read(&b, "[n b b i I u U]", &t, &f, &i, &I, &u, &U));
    ck_assert(t && !f);
    ck_assert_int_eq(i, INT_MIN);
    ck_assert(I == INT64_MIN);
    ck_assert_uint_eq(u, UINT_MAX);
    ck_assert(U == UINT64_MAX);
    tr_buf_fini(&b);
}
END_TEST

START_TEST(integers_pack_in_their_smallest_encoding)
{
    tr_buf b = {0};
    TR_CK_OK(s_pack(&b, "[i i I U]", 5, -1, (int64_t)300, (uint64_t)70000));
    const uint8_t want[] = {0x94, 0x05, 0xff, 0xcd, 0x01, 0x2c,
                            0xce, 0x00, 0x01, 0x11, 0x70};
    ck_assert_uint_eq(b.len, sizeof want);
    ck_assert_mem_eq(b.data, want, sizeof want);
    tr_buf_fini(&b);
}
END_TEST

START_TEST(doubles_round_trip_and_integers_read_as_doubles)
{
    tr_buf b = {0};
    double x = 0, y = 0, z = 0;
    TR_CK_OK(s_pack(&b, "[d i U]", 3.25, -7, (uint64_t)1 << 40));
    TR_CK_OK(s_read(&b, "[d d d]", &x, &y, &z));
    ck_assert(x == 3.25 && y == -7.0 && z == 1099511627776.0);
    const uint8_t f32[] = {0xca, 0x3f, 0xc0, 0x00, 0x00};
    TR_CK_OK(s_read_raw(f32, sizeof f32, "d", &x));
    ck_assert(x == 1.5);
    tr_buf_fini(&b);
}
END_TEST

START_TEST(strings_read_borrowed_or_copied)
{
    tr_buf b = {0};
    const char *s = NULL;
    size_t n = 99;
    char buf[8];
    TR_CK_OK(s_pack(&b, "[s s]", "hello", ""));
    TR_CK_OK(s_read(&b, "[s S]", &s, &n, buf, sizeof buf));
    ck_assert_uint_eq(n, 5);
    ck_assert_mem_eq(s, "hello", 5);
    ck_assert(s > (const char *)b.data && s < (const char *)b.data + b.len);
    ck_assert_str_eq(buf, "");
    tr_buf_fini(&b);
}
END_TEST

START_TEST(null_string_packs_nil_and_reads_back_as_null)
{
    tr_buf b = {0};
    const char *s = "untouched";
    size_t n = 99;
    TR_CK_OK(s_pack(&b, "s", (const char *)NULL));
    ck_assert_uint_eq(b.len, 1);
    ck_assert_uint_eq(b.data[0], 0xc0);
    TR_CK_OK(s_read(&b, "n"));
    TR_CK_OK(s_read(&b, "s", &s, &n));
    ck_assert_ptr_null(s);
    ck_assert_uint_eq(n, 0);
    tr_buf_fini(&b);
}
END_TEST

START_TEST(bytes_round_trip_with_embedded_zeros)
{
    tr_buf b = {0};
    const uint8_t in[] = {0, 1, 0, 255};
    const void *out = NULL;
    size_t n = 0;
    TR_CK_OK(s_pack(&b, "y", in, sizeof in));
    ck_assert_uint_eq(b.data[0], 0xc4); // bin, not str
    TR_CK_OK(s_read(&b, "y", &out, &n));
    ck_assert_uint_eq(n, sizeof in);
    ck_assert_mem_eq(out, in, sizeof in);
    TR_CK_OK(s_pack(&b, "y", NULL, (size_t)0)); // empty bytes are fine
    tr_buf_fini(&b);
}
END_TEST

START_TEST(raw_values_are_embedded_and_read_back_as_bytes)
{
    tr_buf inner = {0}, b = {0};
    const void *raw = NULL;
    size_t n = 0;
    int v = 0, k = 0;
    TR_CK_OK(s_pack(&inner, "{s:i}", "v", 42));
    TR_CK_OK(s_pack(&b, "[r i]", inner.data, inner.len, 7));
    TR_CK_OK(s_read(&b, "[r i]", &raw, &n, &k));
    ck_assert_uint_eq(n, inner.len);
    ck_assert_mem_eq(raw, inner.data, n);
    ck_assert_int_eq(k, 7);
    TR_CK_OK(s_read_raw(raw, n, "{s:i}", "v", &v));
    ck_assert_int_eq(v, 42);
    tr_buf_fini(&inner);
    tr_buf_fini(&b);
}
END_TEST

START_TEST(nested_arrays_and_maps_round_trip)
{
    tr_buf b = {0};
    int a = 0;
    const char *s;
    size_t n;
    bool t = false;
    double d = 0;
    TR_CK_OK(s_pack(&b, "{s:[i,[s,b]], s:{s:{s:d}}, s:[]}", "list", 1, "x", 1,
                    "map", "in", "deep", 2.5, "empty"));
    TR_CK_OK(s_validate(b.data, b.len));
    TR_CK_OK(s_read(&b, "{s:{s:{s:d}} s:[i [s b]] s:[]}", "map", "in", "deep",
                    &d, "list", &a, &s, &n, &t, "empty"));
    ck_assert(a == 1 && t && d == 2.5);
    ck_assert(n == 1 && s[0] == 'x');
    tr_buf_fini(&b);
}
END_TEST

START_TEST(separators_and_spaces_do_not_change_the_bytes)
{
    tr_buf a = {0}, b = {0};
    TR_CK_OK(s_pack(&a, "{s:[i,i],s:n}", "k", 1, 2, "z"));
    TR_CK_OK(s_pack(&b, " { s [ i i ] , s : n } ", "k", 1, 2, "z"));
    ck_assert_uint_eq(a.len, b.len);
    ck_assert_mem_eq(a.data, b.data, a.len);
    tr_buf_fini(&a);
    tr_buf_fini(&b);
}
END_TEST

START_TEST(empty_format_packs_nothing_and_reads_anything)
{
    tr_buf b = {0};
    TR_CK_OK(s_pack(&b, NULL));
    TR_CK_OK(s_pack(&b, ""));
    TR_CK_OK(s_pack(&b, "  "));
    ck_assert_uint_eq(b.len, 0);
    TR_CK_OK(s_read_raw(s_all_types, sizeof s_all_types, ""));
    tr_buf_fini(&b);
}
END_TEST

START_TEST(packing_appends_after_existing_content)
{
    tr_buf b = {0};
    TR_CK_OK(tr_buf_append(&b, "ab", 2));
    TR_CK_OK(s_pack(&b, "i", 1));
    ck_assert_uint_eq(b.len, 3);
    ck_assert_mem_eq(b.data, "ab\x01", 3);
    tr_buf_fini(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
}
END_TEST

// --- packing errors --------------------------------------------------------

START_TEST(unknown_letters_are_einval)
{
    tr_buf b = {0};
    TR_CK_ERR(s_pack(&b, "x"), TROUPE_EINVAL);
    TR_CK_ERR(s_pack(&b, "[i q]", 1), TROUPE_EINVAL);
    TR_CK_ERR(s_pack(&b, "S"), TROUPE_EINVAL); // read-only letters
    TR_CK_ERR(s_pack(&b, "[*]"), TROUPE_EINVAL);
    TR_CK_ERR(s_pack(&b, "{s:?i}", "k", 1), TROUPE_EINVAL);
    ck_assert_uint_eq(b.len, 0);
    tr_buf_fini(&b);
}
END_TEST

START_TEST(mismatched_brackets_are_einval)
{
    tr_buf b = {0};
    TR_CK_ERR(s_pack(&b, "[i}", 1), TROUPE_EINVAL);
    TR_CK_ERR(s_pack(&b, "{s:i]", "k", 1), TROUPE_EINVAL);
    TR_CK_ERR(s_pack(&b, "[i", 1), TROUPE_EINVAL);
    TR_CK_ERR(s_pack(&b, "i]", 1), TROUPE_EINVAL);
    TR_CK_ERR(s_pack(&b, "]"), TROUPE_EINVAL);
    TR_CK_ERR(s_pack(&b, "[[i]", 1), TROUPE_EINVAL);
    TR_CK_ERR(s_pack(&b, "[[i}]", 1), TROUPE_EINVAL);
    ck_assert_uint_eq(b.len, 0);
    tr_buf_fini(&b);
}
END_TEST

START_TEST(more_than_one_top_level_value_is_einval)
{
    tr_buf b = {0};
    TR_CK_ERR(s_pack(&b, "i i", 1, 2), TROUPE_EINVAL);
    TR_CK_ERR(s_pack(&b, "[i] n", 1), TROUPE_EINVAL);
    ck_assert_uint_eq(b.len, 0);
    tr_buf_fini(&b);
}
END_TEST

START_TEST(map_keys_must_be_non_null_strings)
{
    tr_buf b = {0};
    TR_CK_ERR(s_pack(&b, "{i:i}", 1, 2), TROUPE_EINVAL);
    TR_CK_ERR(s_pack(&b, "{s}", "k"), TROUPE_EINVAL);
    TR_CK_ERR(s_pack(&b, "{[s]:i}", "k", 1), TROUPE_EINVAL);
    TR_CK_ERR(s_pack(&b, "{s:i}", (const char *)NULL, 1), TROUPE_EINVAL);
    TR_CK_OK(s_pack(&b, "{s:s}", "k", (const char *)NULL)); // nil value
    tr_buf_fini(&b);
}
END_TEST

START_TEST(invalid_raw_bytes_are_refused_and_the_buffer_restored)
{
    tr_buf b = {0};
    const uint8_t c1[] = {0xc1}, cut[] = {0x92, 0x01}, two[] = {0x01, 0x02};
    TR_CK_OK(tr_buf_append(&b, "x", 1));
    TR_CK_ERR(s_pack(&b, "[i r]", 1, c1, sizeof c1), TROUPE_EBADMSG);
    TR_CK_ERR(s_pack(&b, "r", cut, sizeof cut), TROUPE_EBADMSG);
    TR_CK_ERR(s_pack(&b, "r", two, sizeof two), TROUPE_EBADMSG);
    TR_CK_ERR(s_pack(&b, "[r]", two, (size_t)0), TROUPE_EBADMSG);
    TR_CK_ERR(s_pack(&b, "r", NULL, (size_t)3), TROUPE_EINVAL);
    ck_assert_uint_eq(b.len, 1);
    TR_CK_OK(s_pack(&b, "r", NULL, (size_t)0)); // no body at all
    ck_assert_uint_eq(b.len, 1);
    tr_buf_fini(&b);
}
END_TEST

START_TEST(result_over_max_msg_size_is_emsgsize)
{
    tr_buf b = {0};
    tr_limits l = s_limits();
    l.max_msg_size = 16;
    char big[64];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    TR_CK_OK(tr_buf_append(&b, "xy", 2));
    TR_CK_ERR(s_pack_l(&b, &l, "[i s]", 1, big), TROUPE_EMSGSIZE);
    ck_assert_uint_eq(b.len, 2);
    big[15] = '\0'; // 1 + 1 + 15 bytes: one over
    TR_CK_ERR(s_pack_l(&b, &l, "[s]", big), TROUPE_EMSGSIZE);
    big[14] = '\0';
    TR_CK_OK(s_pack_l(&b, &l, "[s]", big));
    ck_assert_uint_eq(b.len, 2 + 16);
    tr_buf_fini(&b);
}
END_TEST

START_TEST(nesting_over_max_depth_is_elimit_even_through_raw)
{
    tr_buf b = {0}, raw = {0};
    tr_limits l = s_limits();
    l.max_depth = 2;
    TR_CK_OK(s_pack_l(&b, &l, "[[i]]", 1));
    TR_CK_ERR(s_pack_l(&b, &l, "[[[i]]]", 1), TROUPE_ELIMIT);
    TR_CK_ERR(s_pack_l(&b, &l, "[{}[[]]]"), TROUPE_ELIMIT);
    TR_CK_OK(s_pack_l(&raw, &l, "[[i]]", 1));
    TR_CK_ERR(s_pack_l(&b, &l, "[r]", raw.data, raw.len), TROUPE_ELIMIT);
    l.max_items = 2;
    TR_CK_ERR(s_pack_l(&b, &l, "[i i i]", 1, 2, 3), TROUPE_ELIMIT);
    tr_buf_fini(&b);
    tr_buf_fini(&raw);
}
END_TEST

// --- reading ---------------------------------------------------------------

START_TEST(map_keys_match_in_any_order_and_others_are_ignored)
{
    tr_buf b = {0};
    int x = 0, y = 0;
    TR_CK_OK(s_pack(&b, "{s:i s:[i i] s:i}", "x", 1, "junk", 2, 3, "y", 4));
    TR_CK_OK(s_read(&b, "{s:i s:i}", "y", &y, "x", &x));
    ck_assert_int_eq(x, 1);
    ck_assert_int_eq(y, 4);
    TR_CK_OK(s_read(&b, "{}"));
    tr_buf_fini(&b);
}
END_TEST

START_TEST(optional_missing_key_leaves_output_and_consumes_args)
{
    tr_buf b = {0};
    int gone = 42, here = 0;
    const char *s = "keep";
    size_t n = 7;
    char buf[4] = "abc";
    TR_CK_OK(s_pack(&b, "{s:i}", "here", 5));
    TR_CK_OK(s_read(&b, "{s:?s s:?{s:i s:[S]} s:i}", "nope", &s, &n, "gone",
                    "a", &gone, "b", buf, sizeof buf, "here", &here));
    ck_assert_int_eq(here, 5);
    ck_assert_int_eq(gone, 42);
    ck_assert_str_eq(s, "keep");
    ck_assert_uint_eq(n, 7);
    ck_assert_str_eq(buf, "abc");
    tr_buf_fini(&b);
}
END_TEST

START_TEST(missing_required_key_is_etype)
{
    tr_buf b = {0};
    int x = 0;
    TR_CK_OK(s_pack(&b, "{s:i}", "x", 1));
    TR_CK_ERR(s_read(&b, "{s:i}", "y", &x), TROUPE_ETYPE);
    TR_CK_ERR(s_read(&b, "{s:i}", "xx", &x), TROUPE_ETYPE);
    TR_CK_ERR(s_read(&b, "{s:*}", "", &x), TROUPE_ETYPE);
    TR_CK_ERR(s_read(&b, "{s:i}", (const char *)NULL, &x), TROUPE_EINVAL);
    ck_assert_int_eq(x, 0);
    tr_buf_fini(&b);
}
END_TEST

START_TEST(first_of_duplicate_keys_wins)
{
    tr_buf b = {0};
    int x = 0;
    TR_CK_OK(s_pack(&b, "{s:i s:i s:i}", "x", 1, "y", 2, "x", 3));
    TR_CK_OK(s_read(&b, "{s:i}", "x", &x));
    ck_assert_int_eq(x, 1);
    tr_buf_fini(&b);
}
END_TEST

START_TEST(values_of_another_type_are_etype)
{
    tr_buf b = {0};
    int i;
    bool t;
    const void *p;
    size_t n;
    TR_CK_OK(s_pack(&b, "[s i n d]", "str", 1, 2.0));
    TR_CK_ERR(s_read(&b, "[i * * *]", &i), TROUPE_ETYPE);
    TR_CK_ERR(s_read(&b, "[y * * *]", &p, &n), TROUPE_ETYPE);
    TR_CK_ERR(s_read(&b, "[* s * *]", &p, &n), TROUPE_ETYPE);
    TR_CK_ERR(s_read(&b, "[* * b *]", &t), TROUPE_ETYPE);
    TR_CK_ERR(s_read(&b, "[* n * *]"), TROUPE_ETYPE);
    TR_CK_ERR(s_read(&b, "[* * * i]", &i), TROUPE_ETYPE); // 2.0 is no int
    TR_CK_ERR(s_read(&b, "{}"), TROUPE_ETYPE);
    TR_CK_ERR(s_read(&b, "[* * * [i]]", &i), TROUPE_ETYPE);
    TR_CK_ERR(s_read(&b, "s", &p, &n), TROUPE_ETYPE);
    tr_buf_fini(&b);
}
END_TEST

START_TEST(integers_are_range_checked_into_their_c_type)
{
    tr_buf b = {0};
    int i = 0;
    int64_t I = 0;
    unsigned u = 0;
    uint64_t U = 0;
    TR_CK_OK(s_pack(&b, "[i I I i U]", 300, (int64_t)1 << 40,
                    (int64_t)INT_MIN - 1, -1, (uint64_t)INT64_MAX + 1));
    TR_CK_OK(s_read(&b, "[i * * * *]", &i));
    ck_assert_int_eq(i, 300);
    TR_CK_ERR(s_read(&b, "[* i * * *]", &i), TROUPE_ETYPE);
    TR_CK_ERR(s_read(&b, "[* u * * *]", &u), TROUPE_ETYPE);
    TR_CK_OK(s_read(&b, "[* I * * *]", &I));
    TR_CK_ERR(s_read(&b, "[* * i * *]", &i), TROUPE_ETYPE);
    TR_CK_ERR(s_read(&b, "[* * * u *]", &u), TROUPE_ETYPE);
    TR_CK_ERR(s_read(&b, "[* * * U *]", &U), TROUPE_ETYPE);
    TR_CK_ERR(s_read(&b, "[* * * * I]", &I), TROUPE_ETYPE);
    TR_CK_OK(s_read(&b, "[* * * * U]", &U));
    ck_assert(U == (uint64_t)INT64_MAX + 1 && I == (int64_t)1 << 40);
    tr_buf_fini(&b);
}
END_TEST

START_TEST(non_negative_signed_encodings_read_as_unsigned)
{
    // Other encoders may use int8..int64 for values >= 0.
    const uint8_t d0[] = {0xd0, 0x05}, d3[] = {0xd3, 0, 0, 0, 1, 0, 0, 0, 0};
    const uint8_t neg[] = {0xd1, 0xff, 0x38}; // -200
    unsigned u = 0;
    uint64_t U = 0;
    int i = 0;
    TR_CK_OK(s_read_raw(d0, sizeof d0, "u", &u));
    ck_assert_uint_eq(u, 5);
    TR_CK_OK(s_read_raw(d3, sizeof d3, "U", &U));
    ck_assert(U == (uint64_t)1 << 32);
    TR_CK_ERR(s_read_raw(d3, sizeof d3, "u", &u), TROUPE_ETYPE);
    TR_CK_OK(s_read_raw(neg, sizeof neg, "i", &i));
    ck_assert_int_eq(i, -200);
}
END_TEST

START_TEST(copied_string_needs_room_for_its_nul)
{
    tr_buf b = {0};
    char small[5] = "xxxx", fits[6];
    TR_CK_OK(s_pack(&b, "s", "hello"));
    TR_CK_ERR(s_read(&b, "S", small, sizeof small), TROUPE_EMSGSIZE);
    ck_assert_str_eq(small, "xxxx");
    TR_CK_OK(s_read(&b, "S", fits, sizeof fits));
    ck_assert_str_eq(fits, "hello");
    TR_CK_ERR(s_read(&b, "S", NULL, sizeof fits), TROUPE_EINVAL);
    tr_buf_fini(&b);
}
END_TEST

START_TEST(copied_string_refuses_an_embedded_nul)
{
    const uint8_t str[] = {0xa3, 'a', 0, 'b'};
    char buf[8];
    const char *s;
    size_t n;
    TR_CK_ERR(s_read_raw(str, sizeof str, "S", buf, sizeof buf), TROUPE_ETYPE);
    TR_CK_OK(s_read_raw(str, sizeof str, "s", &s, &n));
    ck_assert_uint_eq(n, 3);
}
END_TEST

START_TEST(array_length_must_match_unless_the_list_ends_with_star)
{
    tr_buf b = {0};
    int x = 0, y = 0;
    TR_CK_OK(s_pack(&b, "[i i i]", 1, 2, 3));
    TR_CK_ERR(s_read(&b, "[i i]", &x, &y), TROUPE_ETYPE);
    TR_CK_ERR(s_read(&b, "[i i i i]", &x, &y, &x, &y), TROUPE_ETYPE);
    TR_CK_OK(s_read(&b, "[i *]", &x));
    TR_CK_OK(s_read(&b, "[* i * *]", &y)); // a middle star skips one
    ck_assert(x == 1 && y == 2);
    TR_CK_OK(s_read(&b, "[i i i *]", &x, &x, &x)); // "*": zero or more
    TR_CK_ERR(s_read(&b, "[i i i i *]", &x, &x, &x, &x), TROUPE_ETYPE);
    TR_CK_OK(s_read(&b, "[*]"));
    tr_buf_fini(&b);
}
END_TEST

START_TEST(star_skips_whole_nested_values)
{
    tr_buf b = {0};
    int x = 0, y = 0;
    TR_CK_OK(s_pack(&b, "[[i {s:[i d]}] i {s:i}]", 1, "a", 2, 0.5, 5, "z", 6));
    TR_CK_OK(s_read(&b, "[* i {s:i}]", &x, "z", &y));
    ck_assert_int_eq(x, 5);
    ck_assert_int_eq(y, 6);
    TR_CK_OK(s_read(&b, "*"));
    tr_buf_fini(&b);
}
END_TEST

// The packer and the reader take one flat array of scalars ("[Isd]") on a
// path of their own. Whatever it holds, its bytes and its reading must be
// what the general path gives the same items one level down ("[[Isd]]").
START_TEST(flat_arrays_pack_and_read_as_nested_ones_do)
{
    static const size_t lens[] = {0, 1, 30, 31, 32, 33, 255, 256, 70000};
    static const int64_t ints[] = {0,         127,          128,   -32,
                                   -33,       INT16_MIN,    65536, INT64_MIN,
                                   INT64_MAX, -2147483649LL};
    char *str = malloc(70001);
    ck_assert_ptr_nonnull(str);
    memset(str, 'q', 70000);
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        const int64_t v = ints[i % (sizeof ints / sizeof *ints)];
        str[lens[i]] = '\0';
        tr_buf flat = {0}, nested = {0};
        TR_CK_OK(s_pack(&flat, "[I s d b n u]", v, str, 2.5, 1, 7u));
        TR_CK_OK(s_pack(&nested, "[[I s d b n u]]", v, str, 2.5, 1, 7u));
        ck_assert_uint_eq(nested.len, flat.len + 1);
        ck_assert_mem_eq(nested.data + 1, flat.data, flat.len);
        TR_CK_OK(s_validate(flat.data, flat.len));

        int64_t a = 0, b = 1;
        const char *sa = NULL, *sb = NULL;
        size_t na = 0, nb = 1;
        double da = 0, db = 1;
        bool ba = false, bb = false;
        unsigned ua = 0, ub = 1;
        TR_CK_OK(s_read(&flat, "[I s d b n u]", &a, &sa, &na, &da, &ba, &ua));
        TR_CK_OK(
            s_read(&nested, "[[I s d b n u]]", &b, &sb, &nb, &db, &bb, &ub));
        ck_assert(a == v && b == v && na == lens[i] && nb == lens[i]);
        ck_assert(sa >= (const char *)flat.data && // borrowed
                  sa + na <= (const char *)flat.data + flat.len);
        ck_assert_mem_eq(sa, str, na);
        ck_assert(da == 2.5 && db == 2.5 && ba && bb && ua == 7 && ub == 7);
        // The same errors, at the same item, with the same outputs before.
        a = b = 0;
        int ia = 0;
        TR_CK_ERR(s_read(&flat, "[I i d b n u]", &a, &ia, &da, &ba, &ua),
                  TROUPE_ETYPE);
        TR_CK_ERR(s_read(&nested, "[[I i d b n u]]", &b, &ia, &db, &bb, &ub),
                  TROUPE_ETYPE);
        ck_assert(a == v && b == v);
        TR_CK_ERR(s_read(&flat, "[I s d b n U]", &a, &sa, &na, &da, &ba, NULL),
                  TROUPE_EINVAL);
        TR_CK_ERR(s_read(&flat, "[I s d b n]", &a, &sa, &na, &da, &ba),
                  TROUPE_ETYPE);
        TR_CK_ERR(s_read_raw(flat.data, flat.len - 1, "[I s d b n u]", &a, &sa,
                             &na, &da, &ba, &ua),
                  TROUPE_EBADMSG); // bytes that skipped validation
        tr_buf_fini(&flat);
        tr_buf_fini(&nested);
        str[lens[i]] = 'q';
    }
    free(str);
    // Sixteen items no longer fit a fixarray: the general path, same result.
    tr_buf b = {0};
    int x[16] = {0};
    TR_CK_OK(s_pack(&b, "[iiiiiiiiiiiiiiii]", 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
                    11, 12, 13, 14, 15));
    ck_assert_uint_eq(b.data[0], 0xdc);
    TR_CK_OK(s_read(&b, "[iiiiiiiiiiiiiiii]", &x[0], &x[1], &x[2], &x[3], &x[4],
                    &x[5], &x[6], &x[7], &x[8], &x[9], &x[10], &x[11], &x[12],
                    &x[13], &x[14], &x[15]));
    ck_assert_int_eq(x[15], 15);
    tr_buf_fini(&b);
}
END_TEST

START_TEST(empty_body_reads_as_nil)
{
    int x = 7;
    const char *s = "x";
    size_t n = 1;
    const void *raw = NULL;
    TR_CK_OK(s_read_raw(NULL, 0, "n"));
    TR_CK_ERR(s_read_raw(NULL, 0, "i", &x), TROUPE_ETYPE);
    TR_CK_ERR(s_read_raw(NULL, 0, "{s:?i}", "k", &x), TROUPE_ETYPE);
    TR_CK_OK(s_read_raw(NULL, 0, "s", &s, &n));
    ck_assert(s == NULL && n == 0 && x == 7);
    TR_CK_OK(s_read_raw(NULL, 0, "r", &raw, &n));
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(*(const uint8_t *)raw, 0xc0);
}
END_TEST

START_TEST(bad_read_formats_are_einval_before_any_output)
{
    const uint8_t one[] = {0x91, 0x01};
    int x = 9;
    TR_CK_ERR(s_read_raw(one, sizeof one, "[i", &x), TROUPE_EINVAL);
    TR_CK_ERR(s_read_raw(one, sizeof one, "[i}", &x), TROUPE_EINVAL);
    TR_CK_ERR(s_read_raw(one, sizeof one, "[i] i", &x, &x), TROUPE_EINVAL);
    TR_CK_ERR(s_read_raw(one, sizeof one, "[q]", &x), TROUPE_EINVAL);
    TR_CK_ERR(s_read_raw(one, sizeof one, "{i:i}", &x, &x), TROUPE_EINVAL);
    TR_CK_ERR(s_read_raw(one, sizeof one, "{s:??i}", "k", &x), TROUPE_EINVAL);
    TR_CK_ERR(s_read_raw(one, sizeof one, "[?i]", &x), TROUPE_EINVAL);
    TR_CK_ERR(s_read_raw(one, sizeof one, "[i]", (int *)NULL), TROUPE_EINVAL);
    ck_assert_int_eq(x, 9);
}
END_TEST

START_TEST(every_type_reads_as_raw_and_skips)
{
    const void *raw = NULL;
    size_t n = 0;
    int a = 0;
    TR_CK_OK(s_validate(s_all_types, sizeof s_all_types));
    TR_CK_OK(s_read_raw(s_all_types, sizeof s_all_types, "r", &raw, &n));
    ck_assert_uint_eq(n, sizeof s_all_types);
    TR_CK_OK(s_read_raw(s_all_types, sizeof s_all_types, "{s:[* * * i *]}", "a",
                        &a));
    ck_assert_int_eq(a, 5);
    TR_CK_OK(s_read_raw(s_all_types, sizeof s_all_types, "{s:n}", "b"));
}
END_TEST

// --- the validator ---------------------------------------------------------

START_TEST(huge_container_counts_are_elimit_at_once)
{
    // Five bytes that claim 4 billion items (array32 and map32): msgpack-c
    // would try to allocate ~96 GB for them.
    const uint8_t arr[] = {0xdd, 0xff, 0x00, 0x00, 0x00};
    const uint8_t map[] = {0xdf, 0xff, 0x00, 0x00, 0x00};
    tr_limits l = s_limits();
    TR_CK_ERR(s_validate(arr, sizeof arr), TROUPE_ELIMIT);
    TR_CK_ERR(s_validate(map, sizeof map), TROUPE_ELIMIT);
    // With no item limit the count is still more than the bytes can hold.
    l.max_items = UINT32_MAX;
    TR_CK_ERR(tr_mp_validate_exact(map, sizeof map, &l), TROUPE_EBADMSG);
}
END_TEST

START_TEST(depth_of_a_hundred_thousand_is_elimit_without_recursion)
{
    size_t n = 100001;
    uint8_t *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    memset(p, 0x91, n - 1);
    p[n - 1] = 0xc0;
    tr_limits l = s_limits();
    TR_CK_ERR(tr_mp_validate_exact(p, n, &l), TROUPE_ELIMIT);
    l.max_depth = UINT32_MAX; // capped at TR_MAX_DEPTH_CAP
    TR_CK_ERR(tr_mp_validate_exact(p, n, &l), TROUPE_ELIMIT);
    l.max_depth = TR_MAX_DEPTH_CAP;
    TR_CK_OK(tr_mp_validate_exact(p + n - 1 - TR_MAX_DEPTH_CAP,
                                  TR_MAX_DEPTH_CAP + 1, &l));
    free(p);
}
END_TEST

START_TEST(depth_limit_counts_empty_containers)
{
    const uint8_t two[] = {0x91, 0x91, 0x01};
    const uint8_t empty3[] = {0x91, 0x91, 0x90};
    const uint8_t map3[] = {0x91, 0x81, 0xa1, 'k', 0x80};
    tr_limits l = s_limits();
    l.max_depth = 2;
    TR_CK_OK(tr_mp_validate_exact(two, sizeof two, &l));
    TR_CK_ERR(tr_mp_validate_exact(empty3, sizeof empty3, &l), TROUPE_ELIMIT);
    TR_CK_ERR(tr_mp_validate_exact(map3, sizeof map3, &l), TROUPE_ELIMIT);
    l.max_depth = 0;
    TR_CK_OK(tr_mp_validate_exact(two + 2, 1, &l));
    TR_CK_ERR(tr_mp_validate_exact(empty3 + 2, 1, &l), TROUPE_ELIMIT);
}
END_TEST

START_TEST(reserved_byte_c1_is_ebadmsg)
{
    const uint8_t alone[] = {0xc1}, inside[] = {0x92, 0x01, 0xc1};
    const uint8_t key[] = {0x81, 0xc1, 0x01};
    TR_CK_ERR(s_validate(alone, sizeof alone), TROUPE_EBADMSG);
    TR_CK_ERR(s_validate(inside, sizeof inside), TROUPE_EBADMSG);
    TR_CK_ERR(s_validate(key, sizeof key), TROUPE_EBADMSG);
}
END_TEST

START_TEST(every_truncation_of_valid_messages_is_ebadmsg)
{
    tr_buf a = {0}, b = {0};
    TR_CK_OK(s_pack(&a, "{s:[i I U d n b] s:{s:s} s:y}", "n", -5,
                    (int64_t)-70000, UINT64_MAX, 1.5, 1, "m", "k", "v", "b",
                    "xyz", (size_t)3));
    TR_CK_OK(s_pack(&b, "[s [[[]]] {}]", "a string long enough for str8.."));
    const struct {
        const uint8_t *p;
        size_t n;
    } msgs[] = {
        {a.data, a.len}, {b.data, b.len}, {s_all_types, sizeof s_all_types}};
    tr_limits l = s_limits();
    for (size_t m = 0; m < sizeof msgs / sizeof msgs[0]; m++) {
        TR_CK_OK(tr_mp_validate_exact(msgs[m].p, msgs[m].n, &l));
        for (size_t cut = 0; cut < msgs[m].n; cut++)
            TR_CK_ERR(tr_mp_validate(msgs[m].p, cut, &l, NULL), TROUPE_EBADMSG);
    }
    tr_buf_fini(&a);
    tr_buf_fini(&b);
}
END_TEST

START_TEST(trailing_bytes_are_ebadmsg_only_when_exact)
{
    const uint8_t two[] = {0x92, 0x01, 0x02, 0xc0};
    tr_limits l = s_limits();
    size_t used = 0;
    TR_CK_OK(tr_mp_validate(two, sizeof two, &l, &used));
    ck_assert_uint_eq(used, 3);
    TR_CK_ERR(tr_mp_validate_exact(two, sizeof two, &l), TROUPE_EBADMSG);
    TR_CK_OK(tr_mp_validate_exact(two, 3, &l));
}
END_TEST

START_TEST(empty_input_is_no_body_when_exact_and_truncated_otherwise)
{
    tr_limits l = s_limits();
    TR_CK_OK(tr_mp_validate_exact(NULL, 0, &l));
    TR_CK_ERR(tr_mp_validate((const uint8_t *)"", 0, &l, NULL), TROUPE_EBADMSG);
}
END_TEST

START_TEST(lengths_past_the_end_are_ebadmsg)
{
    const uint8_t str32[] = {0xdb, 0x00, 0x00, 0x00, 0x64, 'a', 'b'};
    const uint8_t bin16[] = {0xc5, 0x01, 0x00, 0x00};
    const uint8_t ext8[] = {0xc7, 0x02, 0x05, 0x00};
    const uint8_t fixstr[] = {0xa5, 'a', 'b'};
    TR_CK_ERR(s_validate(str32, sizeof str32), TROUPE_EBADMSG);
    TR_CK_ERR(s_validate(bin16, sizeof bin16), TROUPE_EBADMSG);
    TR_CK_ERR(s_validate(ext8, sizeof ext8), TROUPE_EBADMSG);
    TR_CK_ERR(s_validate(fixstr, sizeof fixstr), TROUPE_EBADMSG);
}
END_TEST

START_TEST(lengths_over_max_msg_size_are_elimit)
{
    const uint8_t str32[] = {0xdb, 0xff, 0xff, 0xff, 0xff};
    const uint8_t bin32[] = {0xc6, 0x00, 0x10, 0x00, 0x01};
    const uint8_t ext32[] = {0xc9, 0x80, 0x00, 0x00, 0x00, 0x01};
    const uint8_t str8[] = {0xd9, 0x05, 'a', 'b', 'c', 'd', 'e'};
    tr_limits l = s_limits();
    TR_CK_ERR(tr_mp_validate_exact(str32, sizeof str32, &l), TROUPE_ELIMIT);
    TR_CK_ERR(tr_mp_validate_exact(bin32, sizeof bin32, &l), TROUPE_ELIMIT);
    TR_CK_ERR(tr_mp_validate_exact(ext32, sizeof ext32, &l), TROUPE_ELIMIT);
    l.max_msg_size = 4;
    TR_CK_ERR(tr_mp_validate_exact(str8, sizeof str8, &l), TROUPE_ELIMIT);
    l.max_msg_size = 5;
    TR_CK_OK(tr_mp_validate_exact(str8, sizeof str8, &l));
}
END_TEST

START_TEST(item_counts_over_max_items_are_elimit)
{
    const uint8_t arr4[] = {0x94, 1, 2, 3, 4}, arr3[] = {0x93, 1, 2, 3};
    const uint8_t map4[] = {0x84, 1, 1, 2, 2, 3, 3, 4, 4};
    const uint8_t map3[] = {0x83, 1, 1, 2, 2, 3, 3};
    tr_limits l = s_limits();
    l.max_items = 3; // a map's limit counts entries, not keys plus values
    TR_CK_ERR(tr_mp_validate_exact(arr4, sizeof arr4, &l), TROUPE_ELIMIT);
    TR_CK_OK(tr_mp_validate_exact(arr3, sizeof arr3, &l));
    TR_CK_ERR(tr_mp_validate_exact(map4, sizeof map4, &l), TROUPE_ELIMIT);
    TR_CK_OK(tr_mp_validate_exact(map3, sizeof map3, &l));
}
END_TEST

// --- differential against msgpack-c ----------------------------------------

static uint64_t s_rng = 0x9e3779b97f4a7c15u;

static uint32_t s_rand(void)
{
    // xorshift64*: seeded, so a failure replays.
    s_rng ^= s_rng >> 12;
    s_rng ^= s_rng << 25;
    s_rng ^= s_rng >> 27;
    return (uint32_t)((s_rng * 0x2545f4914f6cdd1du) >> 32);
}

// Bytes that start msgpack objects, so random buffers are often valid.
static uint8_t s_rand_byte(void)
{
    static const uint8_t heads[] = {
        0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x90, 0x91, 0x92, 0x93,
        0x9f, 0xa0, 0xa1, 0xa2, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4,
        0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce,
        0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8,
        0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff};
    uint32_t r = s_rand();
    if (r & 1)
        return heads[(r >> 1) % sizeof heads];
    // Small values keep length and count fields within the buffer.
    return (r & 2) ? (uint8_t)(r >> 8) : (uint8_t)((r >> 8) & 3);
}

// If the validator accepts [p, p+n), msgpack-c must decode the same object
// of the same size, and the reader must skip exactly as far. msgpack-c only
// ever sees accepted bytes: on others it could try huge allocations.
static bool s_agrees(const uint8_t *p, size_t n, const tr_limits *l)
{
    size_t used = 0, rn = 0, off = 0;
    const void *raw = NULL;
    if (tr_mp_validate(p, n, l, &used) != 0)
        return false;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    msgpack_unpack_return ret =
        msgpack_unpack_next(&u, (const char *)p, n, &off);
    msgpack_unpacked_destroy(&u);
    ck_assert_msg(ret == MSGPACK_UNPACK_SUCCESS && off == used,
                  "validator took %zu bytes, msgpack-c said %d at %zu", used,
                  (int)ret, off);
    TR_CK_OK(s_read_raw(p, used, "r", &raw, &rn));
    ck_assert_uint_eq(rn, used);
    return true;
}

// msgpack-c's unpacker stops at MSGPACK_EMBED_STACK_SIZE levels.
static tr_limits s_msgpack_c_limits(void)
{
    tr_limits l = s_limits();
    l.max_depth = MSGPACK_EMBED_STACK_SIZE;
    return l;
}

START_TEST(random_bytes_the_validator_accepts_msgpack_c_accepts)
{
    uint8_t buf[64];
    tr_limits l = s_msgpack_c_limits();
    unsigned accepted = 0;
    for (int i = 0; i < 20000; i++) {
        size_t n = s_rand() % (sizeof buf + 1);
        for (size_t k = 0; k < n; k++)
            buf[k] = s_rand_byte();
        accepted += s_agrees(buf, n, &l);
    }
    ck_assert_uint_gt(accepted, 2000); // the test is not vacuous
}
END_TEST

// Pack a random object of at most `depth` levels with msgpack-c itself.
static void s_rand_object(msgpack_packer *pk, int depth)
{
    static const uint8_t blob[300] = {0};
    uint32_t r = s_rand();
    uint32_t len = (r >> 8) % 6;
    switch ((r >> 4) % (depth > 0 ? 10 : 7)) {
    case 0:
        msgpack_pack_nil(pk);
        break;
    case 1: // negative, of every magnitude
        msgpack_pack_int64(pk,
                           -(int64_t)(((uint64_t)s_rand() << 31) >> (r % 63)));
        break;
    case 2:
        msgpack_pack_uint64(pk, ((uint64_t)s_rand() << 32) >> (r % 64));
        break;
    case 3:
        if (r & 1)
            msgpack_pack_float(pk, 1.5f);
        else
            msgpack_pack_double(pk, -2.0);
        break;
    case 4:
        len = (r & 1) ? s_rand() % 300 : len;
        msgpack_pack_str_with_body(pk, blob, len);
        break;
    case 5:
        msgpack_pack_bin_with_body(pk, blob, s_rand() % 300);
        break;
    case 6:
        msgpack_pack_ext_with_body(pk, blob, s_rand() % 20, (int8_t)r);
        break;
    case 7:
    case 8:
        msgpack_pack_array(pk, len);
        for (uint32_t i = 0; i < len; i++)
            s_rand_object(pk, depth - 1);
        break;
    default:
        msgpack_pack_map(pk, len);
        for (uint32_t i = 0; i < 2 * len; i++)
            s_rand_object(pk, depth - 1);
        break;
    }
}

START_TEST(random_msgpack_c_objects_and_their_mutations_agree)
{
    tr_limits l = s_msgpack_c_limits();
    unsigned accepted = 0;
    for (int i = 0; i < 300; i++) {
        msgpack_sbuffer sb;
        msgpack_packer pk;
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        s_rand_object(&pk, 6);
        ck_assert(s_agrees((uint8_t *)sb.data, sb.size, &l));
        TR_CK_OK(tr_mp_validate_exact((uint8_t *)sb.data, sb.size, &l));
        uint8_t *m = malloc(sb.size + 1);
        ck_assert_ptr_nonnull(m);
        for (int k = 0; k < 60; k++) {
            memcpy(m, sb.data, sb.size);
            size_t n = sb.size, at = s_rand() % n;
            if (k % 3 == 0)
                m[at] = s_rand_byte();
            else if (k % 3 == 1)
                n = at; // cut short
            else
                m[at] ^= (uint8_t)(1u << (s_rand() % 8));
            accepted += s_agrees(m, n, &l);
        }
        free(m);
        msgpack_sbuffer_destroy(&sb);
    }
    ck_assert_uint_gt(accepted, 100);
}
END_TEST

// What msgpack-c's packer writes for one item, through its sbuffer.
typedef enum {
    S_UINT,
    S_INT,
    S_STR,
    S_ARRAY
} s_item;

static size_t s_msgpack_c(s_item k, uint64_t v, uint8_t *out)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    switch (k) {
    case S_UINT:
        msgpack_pack_uint64(&pk, v);
        break;
    case S_INT:
        msgpack_pack_int64(&pk, (int64_t)v);
        break;
    case S_STR:
        msgpack_pack_str(&pk, (size_t)v);
        break;
    case S_ARRAY:
        msgpack_pack_array(&pk, (size_t)v);
        break;
    }
    size_t n = sb.size;
    memcpy(out, sb.data, n);
    msgpack_sbuffer_destroy(&sb);
    return n;
}

START_TEST(item_writers_match_msgpack_c_byte_for_byte)
{
    // Every encoding's edges (the wire envelope is written with these).
    static const int64_t ints[] = {0,
                                   1,
                                   31,
                                   32,
                                   127,
                                   128,
                                   255,
                                   256,
                                   65535,
                                   65536,
                                   (int64_t)UINT32_MAX,
                                   (int64_t)UINT32_MAX + 1,
                                   INT64_MAX,
                                   -1,
                                   -32,
                                   -33,
                                   -128,
                                   -129,
                                   -32768,
                                   -32769,
                                   INT32_MIN,
                                   (int64_t)INT32_MIN - 1,
                                   INT64_MIN};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        for (int k = S_UINT; k <= S_ARRAY; k++) {
            uint64_t v = (uint64_t)ints[i];
            if (k == S_UINT && ints[i] < 0)
                v = UINT64_MAX - (uint64_t)(-(ints[i] + 1)); // the top too
            if ((k == S_STR || k == S_ARRAY) && (ints[i] < 0 || v > UINT32_MAX))
                continue;
            uint8_t want[16], got[16 + TR_MP_ITEM_MAX];
            size_t n = s_msgpack_c((s_item)k, v, want);
            uint8_t *end = k == S_UINT  ? tr_mp_put_uint(got, v)
                           : k == S_INT ? tr_mp_put_int(got, (int64_t)v)
                           : k == S_STR
                               ? tr_mp_put_str_head(got, (uint32_t)v)
                               : tr_mp_put_array_head(got, (uint32_t)v);
            ck_assert_msg((size_t)(end - got) == n && !memcmp(got, want, n),
                          "item kind %d of %lld: %zu bytes, msgpack-c %zu", k,
                          (long long)ints[i], (size_t)(end - got), n);
        }
    }
    // tr_buf_reserve gives room at the end and leaves len alone.
    tr_buf b;
    tr_buf_init(&b);
    ck_assert_int_eq(tr_buf_append(&b, "ab", 2), 0);
    uint8_t *w = tr_buf_reserve(&b, 1000);
    ck_assert_ptr_nonnull(w);
    ck_assert_ptr_eq(w, b.data + 2);
    ck_assert_uint_eq(b.len, 2);
    ck_assert_uint_ge(b.cap, 1002);
    tr_buf_fini(&b);
}
END_TEST

static Suite *s_suite(void)
{
    Suite *s = suite_create("codec");
    TCase *tc = tcase_create("pack_and_read");
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, scalars_round_trip_at_their_extremes);
    tcase_add_test(tc, integers_pack_in_their_smallest_encoding);
    tcase_add_test(tc, item_writers_match_msgpack_c_byte_for_byte);
    tcase_add_test(tc, doubles_round_trip_and_integers_read_as_doubles);
    tcase_add_test(tc, strings_read_borrowed_or_copied);
    tcase_add_test(tc, null_string_packs_nil_and_reads_back_as_null);
    tcase_add_test(tc, bytes_round_trip_with_embedded_zeros);
    tcase_add_test(tc, raw_values_are_embedded_and_read_back_as_bytes);
    tcase_add_test(tc, nested_arrays_and_maps_round_trip);
    tcase_add_test(tc, separators_and_spaces_do_not_change_the_bytes);
    tcase_add_test(tc, flat_arrays_pack_and_read_as_nested_ones_do);
    tcase_add_test(tc, empty_format_packs_nothing_and_reads_anything);
    tcase_add_test(tc, packing_appends_after_existing_content);
    suite_add_tcase(s, tc);

    tc = tcase_create("pack_errors");
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, unknown_letters_are_einval);
    tcase_add_test(tc, mismatched_brackets_are_einval);
    tcase_add_test(tc, more_than_one_top_level_value_is_einval);
    tcase_add_test(tc, map_keys_must_be_non_null_strings);
    tcase_add_test(tc, invalid_raw_bytes_are_refused_and_the_buffer_restored);
    tcase_add_test(tc, result_over_max_msg_size_is_emsgsize);
    tcase_add_test(tc, nesting_over_max_depth_is_elimit_even_through_raw);
    suite_add_tcase(s, tc);

    tc = tcase_create("read");
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, map_keys_match_in_any_order_and_others_are_ignored);
    tcase_add_test(tc, optional_missing_key_leaves_output_and_consumes_args);
    tcase_add_test(tc, missing_required_key_is_etype);
    tcase_add_test(tc, first_of_duplicate_keys_wins);
    tcase_add_test(tc, values_of_another_type_are_etype);
    tcase_add_test(tc, integers_are_range_checked_into_their_c_type);
    tcase_add_test(tc, non_negative_signed_encodings_read_as_unsigned);
    tcase_add_test(tc, copied_string_needs_room_for_its_nul);
    tcase_add_test(tc, copied_string_refuses_an_embedded_nul);
    tcase_add_test(tc, array_length_must_match_unless_the_list_ends_with_star);
    tcase_add_test(tc, star_skips_whole_nested_values);
    tcase_add_test(tc, empty_body_reads_as_nil);
    tcase_add_test(tc, bad_read_formats_are_einval_before_any_output);
    tcase_add_test(tc, every_type_reads_as_raw_and_skips);
    suite_add_tcase(s, tc);

    tc = tcase_create("validate");
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, huge_container_counts_are_elimit_at_once);
    tcase_add_test(tc, depth_of_a_hundred_thousand_is_elimit_without_recursion);
    tcase_add_test(tc, depth_limit_counts_empty_containers);
    tcase_add_test(tc, reserved_byte_c1_is_ebadmsg);
    tcase_add_test(tc, every_truncation_of_valid_messages_is_ebadmsg);
    tcase_add_test(tc, trailing_bytes_are_ebadmsg_only_when_exact);
    tcase_add_test(tc,
                   empty_input_is_no_body_when_exact_and_truncated_otherwise);
    tcase_add_test(tc, lengths_past_the_end_are_ebadmsg);
    tcase_add_test(tc, lengths_over_max_msg_size_are_elimit);
    tcase_add_test(tc, item_counts_over_max_items_are_elimit);
    suite_add_tcase(s, tc);

    tc = tcase_create("differential");
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, random_bytes_the_validator_accepts_msgpack_c_accepts);
    tcase_add_test(tc, random_msgpack_c_objects_and_their_mutations_agree);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tr_run_suite(s_suite());
}
