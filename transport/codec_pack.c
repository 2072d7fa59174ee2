// SPDX-License-Identifier: MIT
//
// The packing half of the codec, transport layer: the growable tr_buf and
// tr_pack_fmt(), which turns a format string (see include/troupe/msg.h) and
// its arguments into msgpack bytes. The whole format is checked before any
// argument is taken, so a bad format never misreads the va_list. The small
// encodings that carry most messages (scalars, short strings, short
// containers) are written straight into the buffer, byte for byte as
// msgpack-c's packer writes them; longer strings and containers and bytes
// go through msgpack-c's msgpack_packer, raw values are copied as they are.
// Knows nothing of envelopes or actors.
#include "codec.h"

#include <msgpack.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "troupe/error.h"

// Make room for n more bytes. Doubling keeps a run of appends linear.
static int s_grow(tr_buf *b, size_t n)
{
    if (n > SIZE_MAX - b->len)
        return TROUPE_ENOMEM;
    size_t need = b->len + n;
    size_t cap = b->cap > 0 ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *data = realloc(b->data, cap);
    if (data == NULL)
        return TROUPE_ENOMEM;
    b->data = data;
    b->cap = cap;
    return 0;
}

void tr_buf_init(tr_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void tr_buf_fini(tr_buf *b)
{
    free(b->data);
    tr_buf_init(b);
}

int tr_buf_append(tr_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (b->cap - b->len < n && s_grow(b, n) < 0)
        return TROUPE_ENOMEM;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

// What each format byte is: one table lookup, where a strchr() per letter
// showed up in profiles of message streams.
enum {
    S_BAD = 0, // not in the language (NUL included)
    S_SKIP,    // spaces and the separators ',' and ':'
    S_SCALAR,  // a letter that packs one value
    S_OPEN,    // '[' or '{'
};

// clang-format off
static const uint8_t s_class[256] = {
    [' '] = S_SKIP, [','] = S_SKIP, [':'] = S_SKIP,
    ['\t'] = S_SKIP, ['\n'] = S_SKIP, ['\r'] = S_SKIP,
    ['n'] = S_SCALAR, ['b'] = S_SCALAR, ['i'] = S_SCALAR, ['I'] = S_SCALAR,
    ['u'] = S_SCALAR, ['U'] = S_SCALAR, ['d'] = S_SCALAR, ['s'] = S_SCALAR,
    ['y'] = S_SCALAR, ['r'] = S_SCALAR,
    ['['] = S_OPEN, ['{'] = S_OPEN,
};
// clang-format on

static const char *s_skip(const char *f)
{
    while (s_class[(uint8_t)*f] == S_SKIP)
        f++;
    return f;
}

// Containers whose item counts the format check keeps for the packing pass;
// later ones (rare) are counted again when they are packed.
#define S_COUNTS 16

// The longest scalar encoding: a type byte and 8 bytes.
#define S_SMALL 9

// One tr_pack_fmt() call in progress.
typedef struct s_packer {
    msgpack_packer pk;         // writes through s_write into b
    tr_buf *b;                 // the caller's buffer
    size_t start;              // b->len on entry: restored on failure
    size_t left;               // bytes the result may still grow by
    const tr_limits *l;        // the limits the result must meet
    int rc;                    // why the last msgpack-c write failed
    bool nested_raw;           // an `r` sits in a container: recheck the whole
    bool too_big;              // the format is deeper or longer than l allows
    size_t containers;         // containers met so far, in format order
    uint32_t counts[S_COUNTS]; // items (map: pairs) of the first containers
} s_packer;

// Check that n more bytes keep the result within max_msg_size, then that
// reserve >= n bytes fit in the buffer. Refusing to grow past the limit
// keeps a runaway string from costing memory before it is refused anyway.
static int s_room(s_packer *s, size_t n, size_t reserve)
{
    tr_buf *b = s->b;
    if (n > s->left)
        return TROUPE_EMSGSIZE;
    if (b->cap - b->len < reserve && s_grow(b, reserve) < 0)
        return TROUPE_ENOMEM;
    return 0;
}

// n bytes written at the end of the buffer (after s_room) are now in.
static void s_took(s_packer *s, size_t n)
{
    s->b->len += n;
    s->left -= n;
}

// msgpack_packer's write callback, for what is not encoded here.
static int s_write(void *data, const char *buf, size_t len)
{
    s_packer *s = data;
    int rc = s_room(s, len, len);
    if (rc < 0) {
        s->rc = rc;
        return -1;
    }
    if (len > 0)
        memcpy(s->b->data + s->b->len, buf, len);
    s_took(s, len);
    return 0;
}

// Store v big-endian. Spelled out, compilers turn it into a byte swap and
// one store; as a loop, gcc -O2 keeps eight byte stores.
static void s_be64(uint8_t *p, uint64_t v)
{
    p[0] = (uint8_t)(v >> 56);
    p[1] = (uint8_t)(v >> 48);
    p[2] = (uint8_t)(v >> 40);
    p[3] = (uint8_t)(v >> 32);
    p[4] = (uint8_t)(v >> 24);
    p[5] = (uint8_t)(v >> 16);
    p[6] = (uint8_t)(v >> 8);
    p[7] = (uint8_t)v;
}

// Write a type byte and the low n (0, 1, 2, 4 or 8) bytes of v, big-endian,
// at w, and return the byte after them. Always 8 bytes after the type (the
// n that count first): w needs room for TR_MP_ITEM_MAX (= S_SMALL).
static uint8_t *s_put_at(uint8_t *w, uint8_t type, uint64_t v, size_t n)
{
    w[0] = type;
    s_be64(w + 1, n > 0 ? v << (64 - 8 * n) : 0);
    return w + 1 + n;
}

// Append a type byte and the low w bytes of v straight into the buffer:
// building them on the stack first and copying stalled on store
// forwarding.
static inline __attribute__((always_inline)) int
s_put(s_packer *s, uint8_t type, uint64_t v, size_t w)
{
    int rc = s_room(s, 1 + w, S_SMALL);
    if (rc < 0)
        return rc;
    s_put_at(s->b->data + s->b->len, type, v, w);
    s_took(s, 1 + w);
    return 0;
}

// How msgpack_pack_uint64() encodes u: the smallest of positive fixint,
// uint 8, 16, 32 and 64. Sets the type byte, returns the bytes after it.
static size_t s_uint(uint64_t u, uint8_t *type)
{
    if (u < 0x80) {
        *type = (uint8_t)u;
        return 0;
    }
    if (u <= UINT8_MAX) {
        *type = 0xcc;
        return 1;
    }
    if (u <= UINT16_MAX) {
        *type = 0xcd;
        return 2;
    }
    *type = u <= UINT32_MAX ? 0xce : 0xcf;
    return u <= UINT32_MAX ? 4 : 8;
}

// How msgpack_pack_int64() encodes v: values >= 0 as unsigned, -32..-1 as
// negative fixint, others in the smallest of int 8, 16, 32 and 64.
static size_t s_int(int64_t v, uint8_t *type)
{
    if (v >= 0)
        return s_uint((uint64_t)v, type);
    if (v >= -32) {
        *type = (uint8_t)v;
        return 0;
    }
    if (v >= INT8_MIN) {
        *type = 0xd0;
        return 1;
    }
    if (v >= INT16_MIN) {
        *type = 0xd1;
        return 2;
    }
    *type = v >= INT32_MIN ? 0xd2 : 0xd3;
    return v >= INT32_MIN ? 4 : 8;
}

uint8_t *tr_buf_reserve(tr_buf *b, size_t n)
{
    if (b->cap - b->len < n && s_grow(b, n) < 0)
        return NULL;
    return b->data + b->len;
}

uint8_t *tr_mp_put_uint(uint8_t *w, uint64_t v)
{
    uint8_t type;
    size_t n = s_uint(v, &type);
    return s_put_at(w, type, v, n);
}

uint8_t *tr_mp_put_int(uint8_t *w, int64_t v)
{
    uint8_t type;
    size_t n = s_int(v, &type);
    return s_put_at(w, type, (uint64_t)v, n);
}

// As msgpack_pack_str(): fixstr, str 8, 16 or 32.
uint8_t *tr_mp_put_str_head(uint8_t *w, uint32_t len)
{
    if (len < 32) {
        w[0] = (uint8_t)(0xa0 | len);
        return w + 1;
    }
    if (len <= UINT8_MAX)
        return s_put_at(w, 0xd9, len, 1);
    return len <= UINT16_MAX ? s_put_at(w, 0xda, len, 2)
                             : s_put_at(w, 0xdb, len, 4);
}

// As msgpack_pack_array(): fixarray, array 16 or 32.
uint8_t *tr_mp_put_array_head(uint8_t *w, uint32_t count)
{
    if (count < 16) {
        w[0] = (uint8_t)(0x90 | count);
        return w + 1;
    }
    return count <= UINT16_MAX ? s_put_at(w, 0xdc, count, 2)
                               : s_put_at(w, 0xdd, count, 4);
}

// Check the value at f: returns the format past it, or NULL if the format
// is bad (TROUPE_EINVAL). Notes containers' counts, and sets too_big when
// the format itself nests deeper or holds more items than the limits allow
// (reported only once the format is known to be well formed).
static const char *s_check(s_packer *s, const char *f, uint32_t depth)
{
    f = s_skip(f);
    uint8_t c = (uint8_t)*f;
    if (s_class[c] == S_SCALAR)
        return f + 1;
    // The format is the programmer's, but bound the recursion anyway.
    if (s_class[c] != S_OPEN || depth >= TR_MAX_DEPTH_CAP)
        return NULL;
    if (depth >= s->l->max_depth)
        s->too_big = true;
    size_t at = s->containers++;
    bool map = c == '{';
    char close = map ? '}' : ']';
    size_t items = 0;
    for (f++;; items++) {
        f = s_skip(f);
        if (*f == close)
            break;
        if (map && items % 2 == 0 && *f != 's')
            return NULL; // keys are strings
        if (s_class[(uint8_t)*f] == S_SCALAR)
            f++; // no call for the common case
        else if ((f = s_check(s, f, depth + 1)) == NULL)
            return NULL;
    }
    if (map && items % 2 != 0)
        return NULL;
    if (map)
        items /= 2;
    if (items > s->l->max_items)
        s->too_big = true;
    if (at < S_COUNTS)
        s->counts[at] = (uint32_t)items;
    return f + 1;
}

// Items of the container whose items start at f: values of an array,
// key-value pairs of a map. The format is already checked.
static uint32_t s_count(const char *f, bool map)
{
    size_t items = 0;
    size_t nest = 0;
    for (;; f++) {
        char c = *f;
        if (c == '[' || c == '{') {
            if (nest++ == 0)
                items++;
        } else if (c == ']' || c == '}') {
            if (nest-- == 0)
                break;
        } else if (nest == 0 && s_class[(uint8_t)c] == S_SCALAR) {
            items++;
        }
    }
    return (uint32_t)(map ? items / 2 : items);
}

// Take a (pointer, length) argument pair for `y` and `r`.
static int s_take_bytes(va_list *ap, const void **p, size_t *n)
{
    *p = va_arg(*ap, const void *);
    *n = va_arg(*ap, size_t);
    if (*p == NULL && *n > 0)
        return TROUPE_EINVAL;
    if (*n > UINT32_MAX)
        return TROUPE_EMSGSIZE;
    return 0;
}

static int s_pack_raw(s_packer *s, uint32_t depth, va_list *ap)
{
    const void *p;
    size_t n;
    int rc = s_take_bytes(ap, &p, &n);
    if (rc < 0)
        return rc;
    if (n == 0)
        // Nothing is "no body" on its own, but no object inside a container.
        return depth == 0 ? 0 : TROUPE_EBADMSG;
    rc = tr_mp_validate_exact(p, n, s->l);
    if (rc < 0)
        return rc;
    if (depth > 0)
        s->nested_raw = true;
    return s_write(s, p, n) < 0 ? s->rc : 0;
}

// Pack a string: a NULL one as nil, a short one as a fixstr written here,
// measured and copied in one pass (strlen and memcpy calls cost more than
// the few bytes most tags and fields hold).
static int s_pack_str(s_packer *s, const char *str, bool key)
{
    if (str == NULL)
        return key ? TROUPE_EINVAL : s_put(s, 0xc0, 0, 0); // keys are strings
    int rc = s_room(s, 0, 32);                             // the longest fixstr
    if (rc < 0)
        return rc;
    uint8_t *p = s->b->data + s->b->len;
    size_t len = 0;
    while (len < 31 && str[len] != '\0') {
        p[1 + len] = (uint8_t)str[len];
        len++;
    }
    if (str[len] == '\0') {
        if (1 + len > s->left)
            return TROUPE_EMSGSIZE;
        p[0] = (uint8_t)(0xa0 | len);
        s_took(s, 1 + len);
        return 0;
    }
    len += strlen(str + len);
    if (len > UINT32_MAX)
        return TROUPE_EMSGSIZE;
    return msgpack_pack_str_with_body(&s->pk, str, len) < 0 ? s->rc : 0;
}

// Pack a value of scalar letter c. key: it is a map key. Scalars end in
// the one s_put() below; inlined into the container loop, an item costs
// no call.
static inline __attribute__((always_inline)) int
s_pack_scalar(s_packer *s, char c, uint32_t depth, bool key, va_list *ap)
{
    uint8_t type = 0xc0; // nil
    uint64_t v = 0;
    size_t w = 0;
    switch (c) {
    case 'n':
        break;
    case 'b':
        type = va_arg(*ap, int) ? 0xc3 : 0xc2;
        break;
    case 'i':
    case 'I': {
        int64_t i = c == 'i' ? va_arg(*ap, int) : va_arg(*ap, int64_t);
        v = (uint64_t)i; // two's complement
        w = s_int(i, &type);
        break;
    }
    case 'u':
        v = va_arg(*ap, unsigned);
        w = s_uint(v, &type);
        break;
    case 'U':
        v = va_arg(*ap, uint64_t);
        w = s_uint(v, &type);
        break;
    case 'd': { // msgpack_pack_double(): always float 64
        double d = va_arg(*ap, double);
        memcpy(&v, &d, sizeof v);
        type = 0xcb;
        w = 8;
        break;
    }
    case 's':
        return s_pack_str(s, va_arg(*ap, const char *), key);
    case 'y': {
        const void *p;
        size_t n;
        int rc = s_take_bytes(ap, &p, &n);
        if (rc < 0)
            return rc;
        return msgpack_pack_bin_with_body(&s->pk, p, n) < 0 ? s->rc : 0;
    }
    default: // 'r': s_check let nothing else through
        return s_pack_raw(s, depth, ap);
    }
    return s_put(s, type, v, w);
}

// Pack the container at *fp and move past it.
static int s_pack_container(s_packer *s, const char **fp, uint32_t depth,
                            va_list *ap)
{
    const char *f = *fp;
    bool map = *f == '{';
    size_t at = s->containers++;
    uint32_t count = at < S_COUNTS ? s->counts[at] : s_count(f + 1, map);
    int rc;
    if (count < 16) { // fixmap, fixarray
        rc = s_put(s, (uint8_t)((map ? 0x80 : 0x90) | count), 0, 0);
    } else {
        rc = map ? msgpack_pack_map(&s->pk, count)
                 : msgpack_pack_array(&s->pk, count);
        rc = rc < 0 ? s->rc : 0;
    }
    if (rc < 0)
        return rc;
    f++;
    for (uint64_t i = 0; i < (map ? 2 * (uint64_t)count : count); i++) {
        f = s_skip(f);
        if (s_class[(uint8_t)*f] == S_OPEN)
            rc = s_pack_container(s, &f, depth + 1, ap);
        else
            rc = s_pack_scalar(s, *f++, depth + 1, map && i % 2 == 0, ap);
        if (rc < 0)
            return rc;
    }
    *fp = s_skip(f) + 1; // past the closing bracket
    return 0;
}

// The shape most messages have, one flat array of scalars ("[Isd]"),
// checked and packed in one loop: no recursion, no counts kept. Returns
// S_SLOW before taking any argument when the format is anything else (a
// nested value, an `r`, more than 15 items, limits that refuse it...): the
// general packer then does it all, errors included. Once it takes the
// arguments it packs them as the general packer would.
#define S_SLOW 1
#define S_FLAT_MAX 15 // items of a fixarray

static int s_pack_flat(s_packer *s, const char *f, va_list *ap)
{
    char letters[S_FLAT_MAX];
    size_t k = 0;
    for (f++; *f != ']'; f++) { // f was at '['
        uint8_t c = (uint8_t)*f;
        if (s_class[c] == S_SKIP)
            continue;
        if (s_class[c] != S_SCALAR || c == 'r' || k == S_FLAT_MAX)
            return S_SLOW;
        letters[k++] = (char)c;
    }
    if (*s_skip(f + 1) != '\0' || s->l->max_depth < 1 || k > s->l->max_items)
        return S_SLOW;
    int rc = s_put(s, (uint8_t)(0x90 | k), 0, 0);
    for (size_t i = 0; i < k && rc == 0; i++)
        rc = s_pack_scalar(s, letters[i], 1, false, ap);
    return rc;
}

int tr_pack_fmt(tr_buf *b, const tr_limits *l, const char *fmt, va_list *ap)
{
    if (b == NULL || l == NULL)
        return TROUPE_EINVAL;
    if (fmt == NULL)
        return 0;
    const char *f = s_skip(fmt);
    if (*f == '\0')
        return 0;

    // Check all of the format before taking a single argument. Fields are
    // set one by one: zeroing the whole struct (counts included) costs a
    // `rep stos` that showed up in profiles.
    s_packer s;
    s.b = b;
    s.start = b->len;
    s.left = l->max_msg_size;
    s.l = l;
    s.rc = TROUPE_ENOMEM;
    s.nested_raw = false;
    s.too_big = false;
    s.containers = 0;
    msgpack_packer_init(&s.pk, &s, s_write);
    if (*f == '[') {
        int rc = s_pack_flat(&s, f, ap);
        if (rc < 0)
            b->len = s.start;
        if (rc != S_SLOW)
            return rc;
    }
    const char *end = s_check(&s, f, 0);
    if (end == NULL || *s_skip(end) != '\0')
        return TROUPE_EINVAL; // or more than one top-level value
    if (s.too_big)
        return TROUPE_ELIMIT;

    s.containers = 0;
    int rc = s_class[(uint8_t)*f] == S_OPEN
                 ? s_pack_container(&s, &f, 0, ap)
                 : s_pack_scalar(&s, *f, 0, false, ap);
    // Raw bytes inside containers add their depth to the containers'; only
    // the whole result can tell whether the receiver will take it.
    if (rc == 0 && s.nested_raw)
        rc = tr_mp_validate_exact(b->data + s.start, b->len - s.start, l);
    if (rc < 0)
        b->len = s.start;
    return rc;
}
