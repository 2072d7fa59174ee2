// SPDX-License-Identifier: MIT
//
// The wire envelope of the transport layer: frames round-trip for every
// kind and both kinds of destination, match the example in
// docs/protocol.md, and every wrong field, truncation, version or size is
// refused with its code rather than misread.
#include <stdlib.h>
#include <string.h>

#include "tr_check.h"
#include "wire.h"

// The fields of a frame, in order.
enum {
    F_VERSION,
    F_KIND,
    F_TO,
    F_FROM,
    F_CORR,
    F_TTL,
    F_CODE,
    F_REF,
    F_TAG,
    F_BODY,
    F_COUNT,
};

static tr_limits s_limits(void)
{
    tr_limits l;
    tr_limits_default(&l);
    return l;
}

static void s_pack(tr_buf *b, const char *fmt, ...)
{
    tr_limits l = s_limits();
    va_list ap;
    va_start(ap, fmt);
    TR_CK_OK(tr_pack_fmt(b, &l, fmt, &ap));
    va_end(ap);
}

// A request envelope with every field set; body borrowed from body.
static tr_env s_env(uint8_t kind, const tr_buf *body)
{
    tr_env e = {0};
    e.kind = kind;
    e.to = (troupe_addr){0, 3, 1};
    e.from = (troupe_addr){0, 7, 2};
    e.corr = 42;
    e.ttl_ms = 5000;
    e.code = kind == TROUPE_MSG_ERROR ? TROUPE_ENOENT : 0;
    e.ref = kind == TROUPE_MSG_DOWN ? 99 : 0;
    e.tag = "add";
    e.tag_len = 3;
    e.body = body != NULL ? body->data : NULL;
    e.body_len = body != NULL ? body->len : 0;
    return e;
}

static void s_assert_bytes_eq(const void *a, size_t an, const void *b,
                              size_t bn)
{
    ck_assert_uint_eq(an, bn);
    if (an > 0)
        ck_assert_mem_eq(a, b, an);
}

static void s_assert_env_eq(const tr_env *a, const tr_env *b)
{
    ck_assert_uint_eq(a->kind, b->kind);
    ck_assert(troupe_addr_eq(a->to, b->to));
    s_assert_bytes_eq(a->to_name, a->to_name_len, b->to_name, b->to_name_len);
    ck_assert(troupe_addr_eq(a->from, b->from));
    ck_assert(a->corr == b->corr && a->ttl_ms == b->ttl_ms);
    ck_assert(a->code == b->code && a->ref == b->ref);
    s_assert_bytes_eq(a->tag, a->tag_len, b->tag, b->tag_len);
    s_assert_bytes_eq(a->body, a->body_len, b->body, b->body_len);
}

// Encode env and decode it back into *out (borrowing from frame).
static void s_round_trip(const tr_env *env, tr_buf *frame, tr_env *out)
{
    tr_limits l = s_limits();
    TR_CK_OK(tr_wire_encode(env, frame));
    TR_CK_OK(tr_wire_decode(frame->data, frame->len, &l, out));
    s_assert_env_eq(env, out);
}

// Build a frame of `count` fields by hand: valid defaults, field `which`
// (if >= 0) replaced by the object packed from fmt, and nil past field 9.
static void s_vframe(tr_buf *out, unsigned count, int which, const char *fmt,
                     va_list *ap)
{
    tr_buf f[F_COUNT] = {{0}};
    tr_limits l = s_limits();
    s_pack(&f[F_VERSION], "u", 1u);
    s_pack(&f[F_KIND], "u", 1u);
    s_pack(&f[F_TO], "[u u u]", 0u, 3u, 1u);
    s_pack(&f[F_FROM], "[u u u]", 0u, 7u, 2u);
    s_pack(&f[F_CORR], "U", (uint64_t)42);
    s_pack(&f[F_TTL], "I", (int64_t)-1);
    s_pack(&f[F_CODE], "i", 0);
    s_pack(&f[F_REF], "U", (uint64_t)0);
    s_pack(&f[F_TAG], "s", "t");
    s_pack(&f[F_BODY], "{s:i}", "n", 5);
    if (which >= 0) {
        f[which].len = 0;
        TR_CK_OK(tr_pack_fmt(&f[which], &l, fmt, ap));
    }
    uint8_t head = (uint8_t)(0x90 | count);
    TR_CK_OK(tr_buf_append(out, &head, 1));
    for (unsigned i = 0; i < count; i++)
        TR_CK_OK(i < F_COUNT ? tr_buf_append(out, f[i].data, f[i].len)
                             : tr_buf_append(out, "\xc0", 1));
    for (unsigned i = 0; i < F_COUNT; i++)
        tr_buf_fini(&f[i]);
}

// s_vframe with the arguments inline.
static void s_frame(tr_buf *out, unsigned count, int which, const char *fmt,
                    ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vframe(out, count, which, fmt, &ap);
    va_end(ap);
}

// Decode a hand-built frame (see s_vframe) with the default limits.
static int s_decode_with(unsigned count, int which, const char *fmt, ...)
{
    tr_buf b = {0};
    tr_env e;
    tr_limits l = s_limits();
    va_list ap;
    va_start(ap, fmt);
    s_vframe(&b, count, which, fmt, &ap);
    va_end(ap);
    int rc = tr_wire_decode(b.data, b.len, &l, &e);
    tr_buf_fini(&b);
    return rc;
}

// --- round trips -----------------------------------------------------------

START_TEST(every_kind_round_trips)
{
    tr_buf body = {0};
    s_pack(&body, "{s:i}", "n", 5);
    for (uint8_t kind = TROUPE_MSG_TELL; kind <= TROUPE_MSG_SYSTEM; kind++) {
        tr_buf frame = {0};
        tr_env env = s_env(kind, &body), out;
        s_round_trip(&env, &frame, &out);
        ck_assert_uint_eq(frame.data[0], 0x9a); // ten fields
        tr_buf_fini(&frame);
    }
    tr_buf_fini(&body);
}
END_TEST

START_TEST(name_destination_round_trips)
{
    tr_buf frame = {0};
    tr_env env = s_env(TROUPE_MSG_TELL, NULL), out;
    env.to = TROUPE_ADDR_NONE;
    env.to_name = "store";
    env.to_name_len = 5;
    s_round_trip(&env, &frame, &out);
    ck_assert(!troupe_addr_valid(out.to));
    tr_buf_fini(&frame);
}
END_TEST

START_TEST(frame_without_body_has_nine_fields_and_no_body)
{
    tr_buf frame = {0};
    tr_env env = s_env(TROUPE_MSG_REPLY, NULL), out;
    s_round_trip(&env, &frame, &out);
    ck_assert_uint_eq(frame.data[0], 0x99);
    ck_assert_ptr_null(out.body);
    ck_assert_uint_eq(out.body_len, 0);
    tr_buf_fini(&frame);
}
END_TEST

START_TEST(extreme_field_values_round_trip)
{
    tr_buf frame = {0}, body = {0};
    s_pack(&body, "n");
    tr_env env = s_env(TROUPE_MSG_ERROR, &body), out;
    env.to = (troupe_addr){UINT32_MAX, UINT32_MAX, UINT32_MAX};
    env.from = (troupe_addr){0, 1, 0};
    env.corr = UINT64_MAX;
    env.ttl_ms = INT64_MAX;
    env.code = INT32_MIN;
    env.ref = UINT64_MAX;
    env.tag_len = 0;
    s_round_trip(&env, &frame, &out);
    env.ttl_ms = -1;
    env.code = INT32_MAX;
    frame.len = 0;
    s_round_trip(&env, &frame, &out);
    tr_buf_fini(&frame);
    tr_buf_fini(&body);
}
END_TEST

START_TEST(decoded_tag_name_and_body_borrow_from_the_frame)
{
    tr_buf frame = {0}, body = {0};
    s_pack(&body, "[i i]", 1, 2);
    tr_env env = s_env(TROUPE_MSG_TELL, &body), out;
    env.to = TROUPE_ADDR_NONE; // a name replaces the address
    env.to_name = "x";
    env.to_name_len = 1;
    s_round_trip(&env, &frame, &out);
    const char *lo = (const char *)frame.data, *hi = lo + frame.len;
    ck_assert((const char *)out.body > lo && (const char *)out.body < hi);
    ck_assert(out.tag > lo && out.tag < hi);
    ck_assert(out.to_name > lo && out.to_name < hi);
    ck_assert(out.body + out.body_len == frame.data + frame.len);
    tr_buf_fini(&frame);
    tr_buf_fini(&body);
}
END_TEST

START_TEST(frame_matches_the_example_in_the_protocol_doc)
{
    // docs/protocol.md, "An example frame".
    const uint8_t want[] = {0x9a, 0x01, 0x02, 0x93, 0x00, 0x03, 0x01,
                            0x93, 0x00, 0x07, 0x02, 0x2a, 0xcd, 0x13,
                            0x88, 0x00, 0x00, 0xa3, 0x61, 0x64, 0x64,
                            0x81, 0xa1, 0x6e, 0x05};
    tr_buf frame = {0}, body = {0};
    s_pack(&body, "{s:i}", "n", 5);
    tr_env env = s_env(TROUPE_MSG_REQUEST, &body);
    TR_CK_OK(tr_wire_encode(&env, &frame));
    s_assert_bytes_eq(frame.data, frame.len, want, sizeof want);
    tr_buf_fini(&frame);
    tr_buf_fini(&body);
}
END_TEST

START_TEST(encode_refuses_what_decode_would_refuse)
{
    tr_buf frame = {0};
    TR_CK_OK(tr_buf_append(&frame, "x", 1));
    tr_env bad[8];
    for (int i = 0; i < 8; i++)
        bad[i] = s_env(TROUPE_MSG_TELL, NULL);
    bad[0].kind = 0;
    bad[1].kind = TROUPE_MSG_SYSTEM + 1;
    bad[2].to.slot = 0;
    bad[3].to_name_len = 4; // to_name NULL
    bad[4].from.slot = 0;
    bad[5].ttl_ms = -2;
    bad[6].tag = NULL;
    bad[7].body_len = 1; // body NULL
    for (int i = 0; i < 8; i++)
        TR_CK_ERR(tr_wire_encode(&bad[i], &frame), TROUPE_EINVAL);
    ck_assert_uint_eq(frame.len, 1);
    tr_buf_fini(&frame);
}
END_TEST

START_TEST(hand_built_frames_decode_when_every_field_is_right)
{
    TR_CK_OK(s_decode_with(10, -1, NULL));
    TR_CK_OK(s_decode_with(9, -1, NULL));
    TR_CK_OK(s_decode_with(10, F_TO, "s", "name"));
    TR_CK_OK(s_decode_with(10, F_BODY, "n"));
    // Other encoders may write non-negative numbers in signed encodings.
    TR_CK_OK(s_decode_with(10, F_CORR, "r", "\xd0\x05", (size_t)2));
}
END_TEST

// --- refusals --------------------------------------------------------------

START_TEST(another_version_is_eproto_whatever_follows)
{
    const uint8_t v2_other_layout[] = {0x92, 0x02, 0xc1};
    const uint8_t v1000[] = {0x91, 0xcd, 0x03, 0xe8};
    tr_limits l = s_limits();
    tr_env e;
    TR_CK_ERR(s_decode_with(10, F_VERSION, "u", 2u), TROUPE_EPROTO);
    TR_CK_ERR(s_decode_with(10, F_VERSION, "u", 0u), TROUPE_EPROTO);
    TR_CK_ERR(tr_wire_decode(v2_other_layout, sizeof v2_other_layout, &l, &e),
              TROUPE_EPROTO);
    TR_CK_ERR(tr_wire_decode(v1000, sizeof v1000, &l, &e), TROUPE_EPROTO);
}
END_TEST

START_TEST(version_that_is_no_unsigned_integer_is_ebadmsg)
{
    const uint8_t map[] = {0x81, 0x01, 0x01}, empty[] = {0x90};
    tr_limits l = s_limits();
    tr_env e;
    TR_CK_ERR(s_decode_with(10, F_VERSION, "s", "1"), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_VERSION, "i", -1), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_VERSION, "d", 1.0), TROUPE_EBADMSG);
    TR_CK_ERR(tr_wire_decode(map, sizeof map, &l, &e), TROUPE_EBADMSG);
    TR_CK_ERR(tr_wire_decode(empty, sizeof empty, &l, &e), TROUPE_EBADMSG);
}
END_TEST

START_TEST(wrong_kind_is_ebadmsg)
{
    TR_CK_ERR(s_decode_with(10, F_KIND, "u", 0u), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_KIND, "u", 9u), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_KIND, "i", -1), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_KIND, "s", "tell"), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_KIND, "n"), TROUPE_EBADMSG);
}
END_TEST

START_TEST(wrong_destination_is_ebadmsg)
{
    char longname[TR_DEFAULT_MAX_TAG_LEN + 2];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    TR_CK_ERR(s_decode_with(10, F_TO, "[u u u]", 0u, 0u, 1u), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_TO, "[u u]", 0u, 1u), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_TO, "[u u u u]", 0u, 1u, 1u, 1u),
              TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_TO, "[s u u]", "a", 1u, 1u), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_TO, "[u U u]", 0u, (uint64_t)1 << 32, 1u),
              TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_TO, "s", ""), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_TO, "s", longname), TROUPE_EBADMSG);
    longname[TR_DEFAULT_MAX_TAG_LEN] = '\0';
    TR_CK_OK(s_decode_with(10, F_TO, "s", longname));
    TR_CK_ERR(s_decode_with(10, F_TO, "n"), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_TO, "u", 5u), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_TO, "{}"), TROUPE_EBADMSG);
}
END_TEST

START_TEST(wrong_sender_is_ebadmsg)
{
    TR_CK_ERR(s_decode_with(10, F_FROM, "s", "name"), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_FROM, "[u u u]", 0u, 0u, 1u), TROUPE_EBADMSG);
    // All zero is the anonymous sender of a remote client: allowed.
    TR_CK_OK(s_decode_with(10, F_FROM, "[u u u]", 0u, 0u, 0u));
    TR_CK_ERR(s_decode_with(10, F_FROM, "[i u u]", -1, 1u, 1u), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_FROM, "[u u U]", 0u, 1u, (uint64_t)1 << 32),
              TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_FROM, "[u u d]", 0u, 1u, 1.0),
              TROUPE_EBADMSG);
}
END_TEST

START_TEST(wrong_numbers_are_ebadmsg)
{
    TR_CK_ERR(s_decode_with(10, F_CORR, "i", -1), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_CORR, "s", "42"), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_CORR, "d", 42.0), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_TTL, "i", -2), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_TTL, "U", UINT64_MAX), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_TTL, "n"), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_CODE, "I", (int64_t)INT32_MAX + 1),
              TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_CODE, "I", (int64_t)INT32_MIN - 1),
              TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_CODE, "b", 0), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_REF, "i", -1), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_REF, "[]"), TROUPE_EBADMSG);
}
END_TEST

START_TEST(wrong_tag_is_ebadmsg)
{
    char longtag[TR_DEFAULT_MAX_TAG_LEN + 2];
    memset(longtag, 't', sizeof longtag - 1);
    longtag[sizeof longtag - 1] = '\0';
    TR_CK_ERR(s_decode_with(10, F_TAG, "u", 5u), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_TAG, "n"), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_TAG, "y", "t", (size_t)1), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(10, F_TAG, "s", longtag), TROUPE_EBADMSG);
    longtag[TR_DEFAULT_MAX_TAG_LEN] = '\0';
    TR_CK_OK(s_decode_with(10, F_TAG, "s", longtag));
    TR_CK_OK(s_decode_with(10, F_TAG, "s", ""));
}
END_TEST

START_TEST(wrong_field_count_is_ebadmsg)
{
    TR_CK_ERR(s_decode_with(8, -1, NULL), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(11, -1, NULL), TROUPE_EBADMSG);
    TR_CK_ERR(s_decode_with(1, -1, NULL), TROUPE_EBADMSG);
}
END_TEST

START_TEST(every_truncation_of_a_frame_is_ebadmsg)
{
    tr_buf frame = {0}, body = {0};
    tr_limits l = s_limits();
    tr_env out;
    s_pack(&body, "{s:[i s] s:d}", "a", 1, "two", "b", 3.0);
    tr_env env = s_env(TROUPE_MSG_REQUEST, &body);
    env.to = TROUPE_ADDR_NONE;
    env.to_name = "somewhere";
    env.to_name_len = 9;
    TR_CK_OK(tr_wire_encode(&env, &frame));
    for (size_t cut = 0; cut < frame.len; cut++)
        TR_CK_ERR(tr_wire_decode(frame.data, cut, &l, &out), TROUPE_EBADMSG);
    TR_CK_OK(tr_wire_decode(frame.data, frame.len, &l, &out));
    tr_buf_fini(&frame);
    tr_buf_fini(&body);
}
END_TEST

START_TEST(trailing_bytes_are_ebadmsg)
{
    tr_buf frame = {0};
    tr_limits l = s_limits();
    tr_env env = s_env(TROUPE_MSG_TELL, NULL), out;
    TR_CK_OK(tr_wire_encode(&env, &frame));
    TR_CK_OK(tr_buf_append(&frame, "\xc0", 1));
    TR_CK_ERR(tr_wire_decode(frame.data, frame.len, &l, &out), TROUPE_EBADMSG);
    tr_buf_fini(&frame);
}
END_TEST

START_TEST(oversized_frames_and_bodies_are_emsgsize)
{
    tr_limits l = s_limits();
    l.max_msg_size = 32;
    tr_env out;
    uint8_t big[32 + 256 + 1];
    memset(big, 0xc1, sizeof big); // refused on size before it is looked at
    TR_CK_ERR(tr_wire_decode(big, sizeof big, &l, &out), TROUPE_EMSGSIZE);
    tr_buf frame = {0}, body = {0};
    s_pack(&body, "y", big, (size_t)30); // 32 bytes, plus a 3-byte tag
    tr_env env = s_env(TROUPE_MSG_TELL, &body);
    TR_CK_OK(tr_wire_encode(&env, &frame));
    TR_CK_ERR(tr_wire_decode(frame.data, frame.len, &l, &out), TROUPE_EMSGSIZE);
    tr_buf_fini(&frame);
    tr_buf_fini(&body);
}
END_TEST

// Decode a frame whose body is [p, p+n) under limits l.
static int s_decode_body(const void *p, size_t n, const tr_limits *l)
{
    tr_buf frame = {0};
    tr_env env = s_env(TROUPE_MSG_TELL, NULL), out;
    env.body = p;
    env.body_len = n;
    TR_CK_OK(tr_wire_encode(&env, &frame));
    int rc = tr_wire_decode(frame.data, frame.len, l, &out);
    tr_buf_fini(&frame);
    return rc;
}

START_TEST(bodies_are_held_to_the_body_limits)
{
    const uint8_t bomb[] = {0xdd, 0xff, 0x00, 0x00, 0x00};
    const uint8_t deep2[] = {0x91, 0x91, 0x01}, deep3[] = {0x91, 0x91, 0x90};
    const uint8_t four[] = {0x94, 1, 2, 3, 4}, c1[] = {0xc1};
    tr_limits l = s_limits();
    TR_CK_ERR(s_decode_body(bomb, sizeof bomb, &l), TROUPE_ELIMIT);
    TR_CK_ERR(s_decode_body(c1, sizeof c1, &l), TROUPE_EBADMSG);
    l.max_depth = 2;
    TR_CK_OK(s_decode_body(deep2, sizeof deep2, &l));
    TR_CK_ERR(s_decode_body(deep3, sizeof deep3, &l), TROUPE_ELIMIT);
    l.max_items = 3; // the frame's own ten fields are not held to it
    TR_CK_ERR(s_decode_body(four, sizeof four, &l), TROUPE_ELIMIT);
    l.max_depth = 0; // scalar bodies only; address arrays still fine
    TR_CK_OK(s_decode_body(four + 1, 1, &l));
    TR_CK_ERR(s_decode_body(deep2 + 1, 2, &l), TROUPE_ELIMIT);
}
END_TEST

START_TEST(the_whole_frame_is_checked_before_its_fields)
{
    // Two faults: an unknown kind (step 4 of protocol.md's receiver) and a
    // body nested past the limit (step 3). Step 3 comes first: ELIMIT.
    tr_buf b = {0};
    s_frame(&b, 10, F_BODY, "[[[]]]");
    ck_assert_uint_eq(b.data[2], 1); // head, version, kind
    b.data[2] = 0;                   // no such kind
    tr_limits l = s_limits();
    l.max_depth = 2;
    tr_env e;
    TR_CK_ERR(tr_wire_decode(b.data, b.len, &l, &e), TROUPE_ELIMIT);
    l.max_depth = 3; // the body is fine: now the kind is what is wrong
    TR_CK_ERR(tr_wire_decode(b.data, b.len, &l, &e), TROUPE_EBADMSG);
    tr_buf_fini(&b);
}
END_TEST

START_TEST(mutated_frames_are_refused_or_decode_consistently)
{
    tr_buf frame = {0}, body = {0};
    tr_limits l = s_limits();
    s_pack(&body, "{s:[i s] s:{s:y}}", "a", 1, "x", "b", "c", "zz", (size_t)2);
    tr_env env = s_env(TROUPE_MSG_REQUEST, &body), out;
    TR_CK_OK(tr_wire_encode(&env, &frame));
    uint8_t *m = malloc(frame.len);
    ck_assert_ptr_nonnull(m);
    uint64_t rng = 12345;
    for (int i = 0; i < 20000; i++) {
        memcpy(m, frame.data, frame.len);
        for (int k = 0; k < 1 + i % 3; k++) {
            rng = rng * 6364136223846793005u + 1442695040888963407u;
            m[(rng >> 33) % frame.len] = (uint8_t)(rng >> 20);
        }
        int rc = tr_wire_decode(m, frame.len, &l, &out);
        ck_assert(rc == 0 || rc == TROUPE_EBADMSG || rc == TROUPE_EPROTO ||
                  rc == TROUPE_ELIMIT || rc == TROUPE_EMSGSIZE);
        if (rc == 0)
            TR_CK_OK(tr_mp_validate_exact(out.body, out.body_len, &l));
    }
    free(m);
    tr_buf_fini(&frame);
    tr_buf_fini(&body);
}
END_TEST

static Suite *s_suite(void)
{
    Suite *s = suite_create("wire");
    TCase *tc = tcase_create("round_trip");
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, every_kind_round_trips);
    tcase_add_test(tc, name_destination_round_trips);
    tcase_add_test(tc, frame_without_body_has_nine_fields_and_no_body);
    tcase_add_test(tc, extreme_field_values_round_trip);
    tcase_add_test(tc, decoded_tag_name_and_body_borrow_from_the_frame);
    tcase_add_test(tc, frame_matches_the_example_in_the_protocol_doc);
    tcase_add_test(tc, encode_refuses_what_decode_would_refuse);
    tcase_add_test(tc, hand_built_frames_decode_when_every_field_is_right);
    suite_add_tcase(s, tc);

    tc = tcase_create("refusals");
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, another_version_is_eproto_whatever_follows);
    tcase_add_test(tc, version_that_is_no_unsigned_integer_is_ebadmsg);
    tcase_add_test(tc, wrong_kind_is_ebadmsg);
    tcase_add_test(tc, wrong_destination_is_ebadmsg);
    tcase_add_test(tc, wrong_sender_is_ebadmsg);
    tcase_add_test(tc, wrong_numbers_are_ebadmsg);
    tcase_add_test(tc, wrong_tag_is_ebadmsg);
    tcase_add_test(tc, wrong_field_count_is_ebadmsg);
    tcase_add_test(tc, every_truncation_of_a_frame_is_ebadmsg);
    tcase_add_test(tc, trailing_bytes_are_ebadmsg);
    tcase_add_test(tc, oversized_frames_and_bodies_are_emsgsize);
    tcase_add_test(tc, bodies_are_held_to_the_body_limits);
    tcase_add_test(tc, the_whole_frame_is_checked_before_its_fields);
    tcase_add_test(tc, mutated_frames_are_refused_or_decode_consistently);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tr_run_suite(s_suite());
}
