// SPDX-License-Identifier: MIT
//
// The msgpack validator, transport layer: one pass over untrusted bytes that
// proves they hold one well-formed object within the limits before anything
// else (msgpack-c, the reader, a handler) looks at them. It never allocates
// and never recurses: open containers are a fixed stack of remaining-item
// counts, and every step consumes at least one byte, so the cost is linear in
// the input whatever sizes the input claims. Depends only on limits.h.
#include "codec.h"

#include <stdbool.h>

#include "troupe/error.h"

// What a header byte introduces.
enum {
    S_FIXED, // a scalar with `fixed` payload bytes
    S_BLOB,  // str/bin/ext: a length, then `fixed` + length bytes
    S_ARRAY, // an array: a count, then that many objects
    S_MAP,   // a map: a count, then twice that many objects
};

// Classify header byte c: its kind, the width of its length or count field
// (0: the count is in c itself, returned in *inline_count), and its fixed
// payload. Returns false for the reserved byte 0xc1.
static bool s_classify(uint8_t c, int *kind, size_t *width, size_t *fixed,
                       uint32_t *inline_count)
{
    *width = 0;
    *fixed = 0;
    *inline_count = 0;
    *kind = S_FIXED;
    if (c <= 0x7f || c >= 0xe0) // positive and negative fixint
        return true;
    if (c <= 0x8f) {
        *kind = S_MAP;
        *inline_count = c & 0x0f;
        return true;
    }
    if (c <= 0x9f) {
        *kind = S_ARRAY;
        *inline_count = c & 0x0f;
        return true;
    }
    if (c <= 0xbf) {
        *kind = S_BLOB;
        *inline_count = c & 0x1f;
        return true;
    }
    switch (c) {
    case 0xc0: // nil
    case 0xc2: // false
    case 0xc3: // true
        return true;
    case 0xc1: // never used
        return false;
    case 0xc4: // bin 8/16/32
    case 0xc5:
    case 0xc6:
        *kind = S_BLOB;
        *width = (size_t)1 << (c - 0xc4);
        return true;
    case 0xc7: // ext 8/16/32: the type byte follows the length
    case 0xc8:
    case 0xc9:
        *kind = S_BLOB;
        *width = (size_t)1 << (c - 0xc7);
        *fixed = 1;
        return true;
    case 0xca: // float 32/64
        *fixed = 4;
        return true;
    case 0xcb:
        *fixed = 8;
        return true;
    case 0xcc: // uint 8/16/32/64
    case 0xcd:
    case 0xce:
    case 0xcf:
        *fixed = (size_t)1 << (c - 0xcc);
        return true;
    case 0xd0: // int 8/16/32/64
    case 0xd1:
    case 0xd2:
    case 0xd3:
        *fixed = (size_t)1 << (c - 0xd0);
        return true;
    case 0xd4: // fixext 1/2/4/8/16: a type byte and the data
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
        *fixed = 1 + ((size_t)1 << (c - 0xd4));
        return true;
    case 0xd9: // str 8/16/32
    case 0xda:
    case 0xdb:
        *kind = S_BLOB;
        *width = (size_t)1 << (c - 0xd9);
        return true;
    case 0xdc: // array 16/32
    case 0xdd:
        *kind = S_ARRAY;
        *width = (size_t)2 << (c - 0xdc);
        return true;
    default: // 0xde, 0xdf: map 16/32
        *kind = S_MAP;
        *width = (size_t)2 << (c - 0xde);
        return true;
    }
}

static uint32_t s_load(const uint8_t *p, size_t width)
{
    uint32_t v = 0;
    for (size_t i = 0; i < width; i++)
        v = (v << 8) | p[i];
    return v;
}

int tr_mp_validate(const uint8_t *p, size_t n, const tr_limits *l, size_t *used)
{
    // Items still expected in each open container (a map's keys and values
    // both count). Uninitialised on purpose: only [0, depth) is ever read.
    uint64_t open[TR_MAX_DEPTH_CAP];
    uint32_t max_depth =
        l->max_depth < TR_MAX_DEPTH_CAP ? l->max_depth : TR_MAX_DEPTH_CAP;
    uint32_t depth = 0;
    size_t pos = 0;

    if (p == NULL && n > 0)
        return TROUPE_EINVAL;
    for (;;) {
        int kind;
        size_t width, fixed;
        uint32_t count;

        if (pos >= n)
            return TROUPE_EBADMSG;
        if (!s_classify(p[pos++], &kind, &width, &fixed, &count))
            return TROUPE_EBADMSG;
        if (width > 0) {
            if (n - pos < width)
                return TROUPE_EBADMSG;
            count = s_load(p + pos, width);
            pos += width;
        }
        size_t left = n - pos;
        if (kind == S_FIXED) {
            if (left < fixed)
                return TROUPE_EBADMSG;
            pos += fixed;
        } else if (kind == S_BLOB) {
            // Limits first: a frame that claims 4 GiB is over the limit
            // whether or not its bytes happen to be there.
            if (count > l->max_msg_size)
                return TROUPE_ELIMIT;
            if (left < fixed || left - fixed < count)
                return TROUPE_EBADMSG;
            pos += fixed + count;
        } else {
            if (count > l->max_items || depth >= max_depth)
                return TROUPE_ELIMIT;
            uint64_t items = kind == S_MAP ? 2 * (uint64_t)count : count;
            // Every item takes at least one byte: a count the rest of the
            // input cannot hold is a truncation, found without walking it.
            if (items > left)
                return TROUPE_EBADMSG;
            if (items > 0) {
                open[depth++] = items;
                continue;
            }
        }
        // One object is complete; it may complete its containers too.
        for (;;) {
            if (depth == 0) {
                if (used != NULL)
                    *used = pos;
                return 0;
            }
            if (--open[depth - 1] > 0)
                break;
            depth--;
        }
    }
}

int tr_mp_validate_exact(const uint8_t *p, size_t n, const tr_limits *l)
{
    size_t used = 0;
    if (n == 0)
        return 0;
    int rc = tr_mp_validate(p, n, l, &used);
    if (rc < 0)
        return rc;
    return used == n ? 0 : TROUPE_EBADMSG;
}
