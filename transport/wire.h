// SPDX-License-Identifier: MIT
//
// The wire envelope, transport layer: how one message is framed as msgpack
// bytes when it leaves the process (ipc, tcp). Versioned; specified in
// docs/protocol.md. In-process hops hand messages over in memory and do not
// use this encoding.
#ifndef TR_WIRE_H
#define TR_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "troupe/common.h"
#include "troupe/msg.h"

#define TR_WIRE_VERSION 1

// A decoded (or to-be-encoded) envelope. Pointers are borrowed from the
// frame (decode) or from the caller (encode).
typedef struct tr_env {
    uint8_t kind;        // troupe_msg_kind
    troupe_addr to;      // destination address, or...
    const char *to_name; // ...a destination name (to_name_len bytes)
    size_t to_name_len;  // 0 when `to` is used
    troupe_addr from;    // sender
    uint64_t corr;       // correlation id (0: none)
    int64_t ttl_ms;      // time left to the deadline; -1: none
    int32_t code;        // error code / exit reason; 0 otherwise
    uint64_t ref;        // monitor ref / timer id; 0 otherwise
    const char *tag;     // tag bytes (tag_len), not NUL-terminated
    size_t tag_len;
    const uint8_t *body; // one msgpack object (body_len bytes), or none
    size_t body_len;
} tr_env;

// The envelope of an answer to request corr: a reply (status 0, with body
// if body_len) or an error with code status.
static inline tr_env tr_wire_answer(int status, uint64_t corr, troupe_addr to,
                                    troupe_addr from, const uint8_t *body,
                                    size_t body_len)
{
    tr_env e = {0};
    e.kind = status == 0 ? TROUPE_MSG_REPLY : TROUPE_MSG_ERROR;
    e.to = to;
    e.from = from;
    e.corr = corr;
    e.ttl_ms = -1;
    e.code = status;
    e.tag = "";
    e.body = body_len ? body : NULL;
    e.body_len = body_len;
    return e;
}

// Append the frame for env to out. Returns 0, TROUPE_ENOMEM, TROUPE_EINVAL
// (whatever tr_wire_decode() would refuse: kind outside 1..8, no name and a
// `to` with slot 0, a `from` with slot 0, ttl_ms < -1, a NULL to_name, tag
// or body with a length). The body must already be one valid msgpack object:
// it is copied as it is, not validated again. On failure out->len is
// unchanged.
int tr_wire_encode(const tr_env *env, tr_buf *out);

// Decode one frame. Checks the size, then the version, then validates all of
// it against l (the body as if it stood alone) before reading: returns 0,
// TROUPE_EBADMSG (malformed, truncated, trailing bytes, wrong field types or
// counts, unknown kind, slot 0, a tag or name over max_tag_len),
// TROUPE_EPROTO (another version), TROUPE_ELIMIT, TROUPE_EMSGSIZE (frame
// over max_msg_size + 256, or body plus tag over max_msg_size). env's
// pointers borrow from frame; with a name destination env->to is
// TROUPE_ADDR_NONE, without a body env->body is NULL. On failure *env is
// untouched.
int tr_wire_decode(const uint8_t *frame, size_t n, const tr_limits *l,
                   tr_env *env);

#endif
