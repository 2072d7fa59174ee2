// SPDX-License-Identifier: MIT
//
// The msgpack codec of message bodies, transport layer: a bounded validator
// that walks bytes before anything is allocated, the format-string packer
// (small encodings written directly, byte for byte as msgpack-c's
// msgpack_packer writes them, which packs the rest) and the format-string
// reader (a zero-copy cursor over validated bytes). See include/troupe/msg.h
// for the format language. Knows nothing of actors or envelopes.
#ifndef TR_CODEC_H
#define TR_CODEC_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "decode_limits.h"

// A growable byte buffer. Zero-initialise, or tr_buf_init(). `data` is owned.
typedef struct tr_buf {
    uint8_t *data; // NULL until first growth
    size_t len;    // bytes used
    size_t cap;    // bytes allocated
} tr_buf;

void tr_buf_init(tr_buf *b);
void tr_buf_fini(tr_buf *b);
// Append n bytes. 0 or TROUPE_ENOMEM.
int tr_buf_append(tr_buf *b, const void *p, size_t n);
// Room for n more bytes: where they go (b->len is unchanged: add what was
// written), or NULL (TROUPE_ENOMEM).
uint8_t *tr_buf_reserve(tr_buf *b, size_t n);

// Write one msgpack item at w, byte for byte as msgpack-c's packer would
// (the smallest encoding), and return the byte after it. w needs room for
// TR_MP_ITEM_MAX bytes; a string's or array's head is only its header.
#define TR_MP_ITEM_MAX 9
uint8_t *tr_mp_put_uint(uint8_t *w, uint64_t v);
uint8_t *tr_mp_put_int(uint8_t *w, int64_t v);
uint8_t *tr_mp_put_str_head(uint8_t *w, uint32_t len);
uint8_t *tr_mp_put_array_head(uint8_t *w, uint32_t count);

// Check that [p, p+n) starts with exactly one well-formed msgpack object
// within the limits, without allocating. *used (if not NULL) receives its
// size in bytes. Returns 0, TROUPE_EBADMSG (n == 0, truncated, reserved byte
// 0xc1, a str/bin/ext length that runs past the end, or a count the
// remaining bytes cannot hold), TROUPE_ELIMIT (nesting over max_depth, empty
// containers included; an array's items or a map's entries over max_items;
// a str/bin/ext length over max_msg_size), TROUPE_EINVAL (p NULL, n > 0).
// Limits are checked before truncation, so `dd ff 00 00 00` is ELIMIT.
// Recursion-free and linear in n: depth 10^5 costs no stack. max_depth above
// TR_MAX_DEPTH_CAP acts as TR_MAX_DEPTH_CAP.
int tr_mp_validate(const uint8_t *p, size_t n, const tr_limits *l,
                   size_t *used);

// Check that [p, p+n) is exactly one object (trailing bytes: TROUPE_EBADMSG).
// n == 0 is accepted as "no body". Other codes as tr_mp_validate().
int tr_mp_validate_exact(const uint8_t *p, size_t n, const tr_limits *l);

// Append the msgpack encoding of fmt's values to b. fmt NULL or "" appends
// nothing. `r` values are validated against l. Returns 0, TROUPE_EINVAL (bad
// format, a NULL map key, NULL bytes with a length), TROUPE_EBADMSG /
// TROUPE_ELIMIT (bad `r` bytes; an empty `r` inside a container is
// EBADMSG, at top level it appends nothing), TROUPE_ELIMIT (the format nests
// deeper or holds more items than l allows), TROUPE_ENOMEM, TROUPE_EMSGSIZE
// (result over l->max_msg_size; the buffer never grows past it). fmt must
// describe exactly one value (one scalar, one array or one map). The whole
// format is checked before any argument is taken. On failure b->len is back
// to what it was.
int tr_pack_fmt(tr_buf *b, const tr_limits *l, const char *fmt, va_list *ap);

// Read validated bytes [p, p+n) with fmt (see msg.h). n == 0 reads as nil.
// fmt NULL or "" reads nothing and returns 0. Returns 0, TROUPE_ETYPE,
// TROUPE_EMSGSIZE (`S` buffer too small), TROUPE_EINVAL (bad format, checked
// whole before any argument is taken; a NULL output or key), TROUPE_EBADMSG
// (only if the bytes were not validated: reads never pass p + n). Stops at
// the first error; outputs before it may have been written.
int tr_read_fmt(const uint8_t *p, size_t n, const char *fmt, va_list *ap);

#endif
