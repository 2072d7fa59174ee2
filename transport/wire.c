// SPDX-License-Identifier: MIT
//
// The wire envelope, transport layer: one message as one msgpack array, the
// frame that crosses ipc and tcp (docs/protocol.md is its specification).
// Decoding checks the version first, validates the whole frame without
// allocating, then reads each field with the codec's own reader; the body
// and the tag stay borrowed from the frame. Knows nothing of actors.
#include "wire.h"

#include <msgpack.h>

#include "troupe/error.h"
#include "troupe/msg.h"

// Fields of a frame: version, kind, to, from, corr, ttl_ms, code, ref, tag,
// and the body when there is one.
#define S_FIELDS_NO_BODY 9u
#define S_FIELDS_BODY 10u
// Room a frame needs beyond its body and tag (docs/protocol.md).
#define S_FRAME_OVERHEAD 256u

static int s_write(void *data, const char *buf, size_t len)
{
    return tr_buf_append(data, buf, len) < 0 ? -1 : 0;
}

static int s_pack_addr(msgpack_packer *pk, troupe_addr a)
{
    if (msgpack_pack_array(pk, 3) < 0 || msgpack_pack_uint32(pk, a.node) < 0 ||
        msgpack_pack_uint32(pk, a.slot) < 0)
        return -1;
    return msgpack_pack_uint32(pk, a.incarnation);
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
    size_t start = out->len;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, s_write);
    int rc = msgpack_pack_array(&pk, env->body_len > 0 ? S_FIELDS_BODY
                                                       : S_FIELDS_NO_BODY);
    if (rc == 0)
        rc = msgpack_pack_uint32(&pk, TR_WIRE_VERSION);
    if (rc == 0)
        rc = msgpack_pack_uint8(&pk, env->kind);
    if (rc == 0)
        rc = env->to_name_len > 0 ? msgpack_pack_str_with_body(
                                        &pk, env->to_name, env->to_name_len)
                                  : s_pack_addr(&pk, env->to);
    if (rc == 0)
        rc = s_pack_addr(&pk, env->from);
    if (rc == 0)
        rc = msgpack_pack_uint64(&pk, env->corr);
    if (rc == 0)
        rc = msgpack_pack_int64(&pk, env->ttl_ms);
    if (rc == 0)
        rc = msgpack_pack_int32(&pk, env->code);
    if (rc == 0)
        rc = msgpack_pack_uint64(&pk, env->ref);
    if (rc == 0)
        rc = msgpack_pack_str_with_body(&pk, env->tag, env->tag_len);
    // The body is already one msgpack object: it goes in as it is.
    if (rc == 0)
        rc = tr_buf_append(out, env->body, env->body_len);
    if (rc < 0) {
        out->len = start;
        return TROUPE_ENOMEM;
    }
    return 0;
}

// Read the array header and the version, before the rest is validated, so a
// later version with another layout is told apart from garbage.
static int s_version(const uint8_t *p, size_t n, uint32_t *count,
                     uint64_t *version)
{
    size_t at = 1;
    size_t width = 0;
    if (n == 0)
        return TROUPE_EBADMSG;
    if (p[0] >= 0x90 && p[0] <= 0x9f)
        *count = p[0] & 0x0f;
    else if (p[0] == 0xdc || p[0] == 0xdd)
        width = p[0] == 0xdc ? 2 : 4;
    else
        return TROUPE_EBADMSG;
    if (n - at < width)
        return TROUPE_EBADMSG;
    if (width > 0) {
        *count = 0;
        for (size_t i = 0; i < width; i++)
            *count = (*count << 8) | p[at++];
    }
    if (*count == 0 || at >= n)
        return TROUPE_EBADMSG;
    uint8_t c = p[at++];
    if (c <= 0x7f) {
        *version = c;
        return 0;
    }
    if (c < 0xcc || c > 0xcf)
        return TROUPE_EBADMSG;
    width = (size_t)1 << (c - 0xcc);
    if (n - at < width)
        return TROUPE_EBADMSG;
    *version = 0;
    for (size_t i = 0; i < width; i++)
        *version = (*version << 8) | p[at++];
    return 0;
}

// tr_read_fmt() with variadic outputs. A field of another type is a
// malformed frame here, not a caller's type error.
static int s_read(const void *p, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = tr_read_fmt(p, n, fmt, &ap);
    va_end(ap);
    return rc == TROUPE_ETYPE ? TROUPE_EBADMSG : rc;
}

static int s_read_addr(const void *p, size_t n, troupe_addr *a, bool allow_none)
{
    uint64_t node, slot, incarnation;
    int rc = s_read(p, n, "[U U U]", &node, &slot, &incarnation);
    if (rc < 0)
        return rc;
    bool none = node == 0 && slot == 0 && incarnation == 0;
    if (node > UINT32_MAX || (slot == 0 && !(allow_none && none)) ||
        slot > UINT32_MAX || incarnation > UINT32_MAX)
        return TROUPE_EBADMSG;
    *a = (troupe_addr){(uint32_t)node, (uint32_t)slot, (uint32_t)incarnation};
    return 0;
}

// The destination: an address array or a name.
static int s_read_to(const void *p, size_t n, const tr_limits *l, tr_env *env,
                     bool allow_none)
{
    if (*(const uint8_t *)p != 0xc0 &&
        s_read(p, n, "s", &env->to_name, &env->to_name_len) == 0) {
        // "s" reads nil as NULL; only a real, non-empty string is a name.
        if (env->to_name_len == 0 || env->to_name_len > l->max_tag_len)
            return TROUPE_EBADMSG;
        return 0;
    }
    env->to_name = NULL;
    env->to_name_len = 0;
    return s_read_addr(p, n, &env->to, allow_none);
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
    uint32_t count;
    uint64_t version;
    int rc = s_version(frame, n, &count, &version);
    if (rc < 0)
        return rc;
    if (version != TR_WIRE_VERSION)
        return TROUPE_EPROTO;
    bool exact;
    tr_limits fl = s_frame_limits(l, &exact);
    if ((rc = tr_mp_validate_exact(frame, n, &fl)) < 0)
        return rc;
    if (count != S_FIELDS_BODY && count != S_FIELDS_NO_BODY)
        return TROUPE_EBADMSG;

    const void *to, *from;
    size_t to_len, from_len;
    unsigned kind;
    int64_t code;
    tr_env e = {0};
    rc = s_read(frame, n,
                count == S_FIELDS_BODY ? "[* u r r U I I U s r]"
                                       : "[* u r r U I I U s]",
                &kind, &to, &to_len, &from, &from_len, &e.corr, &e.ttl_ms,
                &code, &e.ref, &e.tag, &e.tag_len, &e.body, &e.body_len);
    if (rc < 0)
        return rc;
    if (kind < TROUPE_MSG_TELL || kind > TROUPE_MSG_SYSTEM || e.ttl_ms < -1 ||
        code < INT32_MIN || code > INT32_MAX || e.tag == NULL ||
        e.tag_len > l->max_tag_len)
        return TROUPE_EBADMSG;
    // Answers may go back to an anonymous sender ([0, 0, 0]).
    bool answer = kind == TROUPE_MSG_REPLY || kind == TROUPE_MSG_ERROR;
    rc = s_read_to(to, to_len, l, &e, answer);
    if (rc == 0)
        rc = s_read_addr(from, from_len, &e.from, true);
    if (rc < 0)
        return rc;
    if (e.body_len + e.tag_len > l->max_msg_size)
        return TROUPE_EMSGSIZE;
    if (!exact && (rc = tr_mp_validate_exact(e.body, e.body_len, l)) < 0)
        return rc;
    e.kind = (uint8_t)kind;
    e.code = (int32_t)code;
    *env = e;
    return 0;
}
