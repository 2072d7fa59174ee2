// SPDX-License-Identifier: MIT
//
// The wire envelope, transport layer: one message as one msgpack array, the
// frame that crosses ipc and tcp (docs/protocol.md is its specification).
// Decoding checks the version first, validates the whole frame without
// allocating, then reads each field in place with a cursor; the body and
// the tag stay borrowed from the frame. Encoding writes the fields straight
// into the buffer. Knows nothing of actors.
#include "wire.h"

#include <stdbool.h>
#include <string.h>

#include "troupe/error.h"
#include "troupe/msg.h"

// Fields of a frame: version, kind, to, from, corr, ttl_ms, code, ref, tag,
// and the body when there is one.
#define S_FIELDS_NO_BODY 9u
#define S_FIELDS_BODY 10u
// Room a frame needs beyond its body and tag (docs/protocol.md).
#define S_FRAME_OVERHEAD 256u

// Write [node, slot, incarnation] at w.
static uint8_t *s_put_addr(uint8_t *w, troupe_addr a)
{
    w = tr_mp_put_array_head(w, 3);
    w = tr_mp_put_uint(w, a.node);
    w = tr_mp_put_uint(w, a.slot);
    return tr_mp_put_uint(w, a.incarnation);
}

// What tr_wire_decode() would refuse is refused here too, so a bad envelope
// is the sender's error and not a malformed count at the receiver.
static bool s_addr_none(troupe_addr a)
{
    return a.node == 0 && a.slot == 0 && a.incarnation == 0;
}

static bool s_env_ok(const tr_env *env)
{
    if (env->kind < TROUPE_MSG_TELL || env->kind > TROUPE_MSG_SYSTEM)
        return false;
    // A reply may go to the anonymous sender of its request: [0, 0, 0].
    bool reply = env->kind == TROUPE_MSG_REPLY || env->kind == TROUPE_MSG_ERROR;
    if (env->to_name_len == 0
            ? env->to.slot == 0 && !(reply && s_addr_none(env->to))
            : env->to_name == NULL)
        return false;
    // from is a real address, or all zero for an anonymous sender (a
    // remote client that has no node of its own).
    if ((env->from.slot == 0 && !s_addr_none(env->from)) || env->ttl_ms < -1)
        return false;
    if ((env->tag == NULL && env->tag_len > 0) ||
        (env->body == NULL && env->body_len > 0))
        return false;
    return env->to_name_len <= UINT32_MAX && env->tag_len <= UINT32_MAX &&
           env->body_len <= UINT32_MAX;
}

int tr_wire_encode(const tr_env *env, tr_buf *out)
{
    if (env == NULL || out == NULL || !s_env_ok(env))
        return TROUPE_EINVAL;
    // Written straight into the buffer (a packer's callback per field cost
    // more than the fields, perf over W2 process-ipc), byte for byte as
    // msgpack-c packs them. At most 16 items of TR_MP_ITEM_MAX bytes, then
    // the name, tag and body.
    size_t most =
        16 * TR_MP_ITEM_MAX + env->to_name_len + env->tag_len + env->body_len;
    uint8_t *w = tr_buf_reserve(out, most), *start = w;
    if (w == NULL)
        return TROUPE_ENOMEM;
    w = tr_mp_put_array_head(w, env->body_len > 0 ? S_FIELDS_BODY
                                                  : S_FIELDS_NO_BODY);
    w = tr_mp_put_uint(w, TR_WIRE_VERSION);
    w = tr_mp_put_uint(w, env->kind);
    if (env->to_name_len > 0) {
        w = tr_mp_put_str_head(w, (uint32_t)env->to_name_len);
        memcpy(w, env->to_name, env->to_name_len);
        w += env->to_name_len;
    } else {
        w = s_put_addr(w, env->to);
    }
    w = s_put_addr(w, env->from);
    w = tr_mp_put_uint(w, env->corr);
    w = tr_mp_put_int(w, env->ttl_ms);
    w = tr_mp_put_int(w, env->code);
    w = tr_mp_put_uint(w, env->ref);
    w = tr_mp_put_str_head(w, (uint32_t)env->tag_len);
    if (env->tag_len)
        memcpy(w, env->tag, env->tag_len);
    w += env->tag_len;
    // The body is already one msgpack object: it goes in as it is.
    if (env->body_len)
        memcpy(w, env->body, env->body_len);
    w += env->body_len;
    out->len += (size_t)(w - start);
    return 0;
}

// The envelope's fields are read in place with a cursor, each by its
// expected type (the frame is validated already): a frame per message
// crosses every process link, and the codec's general reader (a format
// string, then an object walk per field) cost twice as much as this per
// frame (perf over W2 process-ipc).
typedef struct s_cur {
    const uint8_t *p;
    size_t n, at;
} s_cur;

// An unsigned big-endian value of width bytes at the cursor.
static int s_cur_be(s_cur *c, size_t width, uint64_t *v)
{
    if (c->n - c->at < width)
        return TROUPE_EBADMSG;
    uint64_t x = 0;
    for (size_t i = 0; i < width; i++)
        x = (x << 8) | c->p[c->at + i];
    c->at += width;
    *v = x;
    return 0;
}

// Any msgpack integer, as a sign and a magnitude: *neg set for a negative
// value, whose two's complement is in *v.
static int s_cur_int(s_cur *c, uint64_t *v, bool *neg)
{
    if (c->at >= c->n)
        return TROUPE_EBADMSG;
    uint8_t b = c->p[c->at++];
    *neg = false;
    if (b <= 0x7f) {
        *v = b;
        return 0;
    }
    if (b >= 0xe0) { // negative fixint
        *v = (uint64_t)(int64_t)(int8_t)b;
        *neg = true;
        return 0;
    }
    if (b >= 0xcc && b <= 0xcf)
        return s_cur_be(c, (size_t)1 << (b - 0xcc), v);
    if (b >= 0xd0 && b <= 0xd3) {
        size_t w = (size_t)1 << (b - 0xd0);
        uint64_t x;
        if (s_cur_be(c, w, &x) < 0)
            return TROUPE_EBADMSG;
        if (w < 8 && (x >> (8 * w - 1)) & 1) // sign-extend
            x |= ~(uint64_t)0 << (8 * w);
        *v = x;
        *neg = (int64_t)x < 0;
        return 0;
    }
    return TROUPE_EBADMSG;
}

static int s_cur_uint(s_cur *c, uint64_t max, uint64_t *v)
{
    bool neg;
    if (s_cur_int(c, v, &neg) < 0 || neg || *v > max)
        return TROUPE_EBADMSG;
    return 0;
}

static int s_cur_sint(s_cur *c, int64_t min, int64_t max, int64_t *v)
{
    uint64_t x;
    bool neg;
    if (s_cur_int(c, &x, &neg) < 0 || (!neg && x > (uint64_t)INT64_MAX))
        return TROUPE_EBADMSG;
    *v = (int64_t)x;
    return *v < min || *v > max ? TROUPE_EBADMSG : 0;
}

// A string: 1 and its bytes; 0 (cursor unmoved) if the next object is not
// a string; TROUPE_EBADMSG if truncated.
static int s_cur_str(s_cur *c, const char **s, size_t *len)
{
    if (c->at >= c->n)
        return TROUPE_EBADMSG;
    uint8_t b = c->p[c->at];
    uint64_t l;
    size_t start = c->at;
    c->at++;
    if (b >= 0xa0 && b <= 0xbf) {
        l = b & 0x1f;
    } else if (b >= 0xd9 && b <= 0xdb) {
        if (s_cur_be(c, (size_t)1 << (b - 0xd9), &l) < 0)
            return TROUPE_EBADMSG;
    } else {
        c->at = start;
        return 0;
    }
    if (c->n - c->at < l)
        return TROUPE_EBADMSG;
    *s = (const char *)c->p + c->at;
    *len = (size_t)l;
    c->at += (size_t)l;
    return 1;
}

// An array header: its count.
static int s_cur_array(s_cur *c, uint64_t *count)
{
    if (c->at >= c->n)
        return TROUPE_EBADMSG;
    uint8_t b = c->p[c->at++];
    if (b >= 0x90 && b <= 0x9f) {
        *count = b & 0x0f;
        return 0;
    }
    if (b == 0xdc || b == 0xdd)
        return s_cur_be(c, b == 0xdc ? 2 : 4, count);
    return TROUPE_EBADMSG;
}

// [node, slot, incarnation]: slot 0 only in the all-zero anonymous address,
// and that only where allowed.
static int s_cur_addr(s_cur *c, troupe_addr *a, bool allow_none)
{
    uint64_t count, node, slot, inc;
    if (s_cur_array(c, &count) < 0 || count != 3 ||
        s_cur_uint(c, UINT32_MAX, &node) < 0 ||
        s_cur_uint(c, UINT32_MAX, &slot) < 0 ||
        s_cur_uint(c, UINT32_MAX, &inc) < 0)
        return TROUPE_EBADMSG;
    bool none = node == 0 && slot == 0 && inc == 0;
    if (slot == 0 && !(allow_none && none))
        return TROUPE_EBADMSG;
    *a = (troupe_addr){(uint32_t)node, (uint32_t)slot, (uint32_t)inc};
    return 0;
}

// The array header and the version, read before the rest, so that a later
// version with another layout is told apart from garbage: the version is
// an unsigned integer (fixint or uint 8-64) right after a non-empty array
// header. Leaves c after the version.
static int s_version(s_cur *c, uint64_t *count, uint64_t *version)
{
    if (s_cur_array(c, count) < 0 || *count == 0 || c->at >= c->n)
        return TROUPE_EBADMSG;
    uint8_t b = c->p[c->at++];
    if (b <= 0x7f) {
        *version = b;
        return 0;
    }
    if (b < 0xcc || b > 0xcf)
        return TROUPE_EBADMSG;
    return s_cur_be(c, (size_t)1 << (b - 0xcc), version);
}

// Limits for the frame as a whole: the body sits one level down and the
// envelope needs its own few items, depth and bytes.
static tr_limits s_frame_limits(const tr_limits *l, bool *exact)
{
    tr_limits f = *l;
    f.max_msg_size = l->max_msg_size > UINT32_MAX - S_FRAME_OVERHEAD
                         ? UINT32_MAX
                         : l->max_msg_size + S_FRAME_OVERHEAD;
    // The address arrays sit at depth 2 even when bodies must be scalars.
    f.max_depth = l->max_depth < 1 ? 1 : l->max_depth;
    if (f.max_depth < UINT32_MAX)
        f.max_depth++;
    f.max_items = l->max_items < S_FIELDS_BODY ? S_FIELDS_BODY : l->max_items;
    // Lengths within the body are bounded by the body's size, checked
    // later; only raised depth or items need a second look at the body.
    *exact = l->max_depth >= 1 && l->max_items >= S_FIELDS_BODY;
    return f;
}

int tr_wire_decode(const uint8_t *frame, size_t n, const tr_limits *l,
                   tr_env *env)
{
    if ((frame == NULL && n > 0) || l == NULL || env == NULL)
        return TROUPE_EINVAL;
    if ((uint64_t)n > (uint64_t)l->max_msg_size + S_FRAME_OVERHEAD)
        return TROUPE_EMSGSIZE;
    s_cur c = {frame, n, 0};
    uint64_t count, version;
    int rc = s_version(&c, &count, &version);
    if (rc < 0)
        return rc;
    if (version != TR_WIRE_VERSION)
        return TROUPE_EPROTO;
    // All of it in one pass before any field is looked at (protocol.md, "A
    // receiver and a bad frame": the steps and their order are promised).
    bool exact;
    tr_limits fl = s_frame_limits(l, &exact);
    if ((rc = tr_mp_validate_exact(frame, n, &fl)) < 0)
        return rc;
    if (count != S_FIELDS_BODY && count != S_FIELDS_NO_BODY)
        return TROUPE_EBADMSG;

    uint64_t kind, corr, ref;
    int64_t ttl, code;
    tr_env e = {0};
    if (s_cur_uint(&c, TROUPE_MSG_SYSTEM, &kind) < 0 || kind < TROUPE_MSG_TELL)
        return TROUPE_EBADMSG;
    // Answers may go back to an anonymous sender ([0, 0, 0]).
    bool answer = kind == TROUPE_MSG_REPLY || kind == TROUPE_MSG_ERROR;
    rc = s_cur_str(&c, &e.to_name, &e.to_name_len); // a name, or...
    if (rc < 0 ||
        (rc == 1 && (e.to_name_len == 0 || e.to_name_len > l->max_tag_len)))
        return TROUPE_EBADMSG;
    if (rc == 0) { // ...an address
        e.to_name = NULL;
        if (s_cur_addr(&c, &e.to, answer) < 0)
            return TROUPE_EBADMSG;
    }
    if (s_cur_addr(&c, &e.from, true) < 0 ||
        s_cur_uint(&c, UINT64_MAX, &corr) < 0 ||
        s_cur_sint(&c, -1, INT64_MAX, &ttl) < 0 ||
        s_cur_sint(&c, INT32_MIN, INT32_MAX, &code) < 0 ||
        s_cur_uint(&c, UINT64_MAX, &ref) < 0 ||
        s_cur_str(&c, &e.tag, &e.tag_len) != 1 || e.tag_len > l->max_tag_len)
        return TROUPE_EBADMSG;
    if (count == S_FIELDS_BODY) { // the rest: exactly one object
        if (c.at >= n)
            return TROUPE_EBADMSG;
        e.body = frame + c.at;
        e.body_len = n - c.at;
    } else if (c.at != n) {
        return TROUPE_EBADMSG; // trailing bytes
    }
    if (e.body_len + e.tag_len > l->max_msg_size)
        return TROUPE_EMSGSIZE;
    if (!exact && (rc = tr_mp_validate_exact(e.body, e.body_len, l)) < 0)
        return rc;
    e.kind = (uint8_t)kind;
    e.corr = corr;
    e.ttl_ms = ttl;
    e.code = (int32_t)code;
    e.ref = ref;
    *env = e;
    return 0;
}
