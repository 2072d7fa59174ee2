// SPDX-License-Identifier: MIT
//
// The packing half of the codec, transport layer: the growable tr_buf and
// tr_pack_fmt(), which turns a format string (see include/troupe/msg.h) and
// its arguments into msgpack bytes through msgpack-c's msgpack_packer. The
// whole format is checked before any argument is taken, so a bad format
// never misreads the va_list. Knows nothing of envelopes or actors.
#include "codec.h"

#include <msgpack.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "troupe/error.h"

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
    if (b->cap - b->len < n) {
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
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

// One tr_pack_fmt() call in progress.
typedef struct s_packer {
    msgpack_packer pk;  // writes through s_write into b
    tr_buf *b;          // the caller's buffer
    size_t start;       // b->len on entry: restored on failure
    const tr_limits *l; // the limits the result must meet
    int rc;             // why the last write failed
    bool nested_raw;    // an `r` sits in a container: recheck the whole
} s_packer;

// msgpack_packer's write callback. Refusing to grow past max_msg_size keeps
// a runaway string from costing memory before it is refused anyway.
static int s_write(void *data, const char *buf, size_t len)
{
    s_packer *s = data;
    size_t used = s->b->len - s->start;
    if (len > s->l->max_msg_size || used > s->l->max_msg_size - len) {
        s->rc = TROUPE_EMSGSIZE;
        return -1;
    }
    int rc = tr_buf_append(s->b, buf, len);
    if (rc < 0) {
        s->rc = rc;
        return -1;
    }
    return 0;
}

static bool s_ignored(char c)
{
    return c == ' ' || c == ',' || c == ':' || c == '\t' || c == '\n' ||
           c == '\r';
}

static const char *s_skip_ignored(const char *f)
{
    while (s_ignored(*f))
        f++;
    return f;
}

static bool s_scalar(char c)
{
    return c != '\0' && strchr("nbiIuUdsyr", c) != NULL;
}

// Check the value at *fp and move past it. Returns 0 or TROUPE_EINVAL; sets
// *too_big when the format itself nests deeper or holds more items than the
// limits allow (reported only once the format is known to be well formed).
static int s_check(const char **fp, uint32_t depth, const tr_limits *l,
                   bool *too_big)
{
    const char *f = s_skip_ignored(*fp);
    char c = *f;
    if (s_scalar(c)) {
        *fp = f + 1;
        return 0;
    }
    if (c != '[' && c != '{')
        return TROUPE_EINVAL;
    // The format is the programmer's, but bound the recursion anyway.
    if (depth >= TR_MAX_DEPTH_CAP)
        return TROUPE_EINVAL;
    if (depth >= l->max_depth)
        *too_big = true;
    bool map = c == '{';
    char close = map ? '}' : ']';
    size_t items = 0;
    for (f++;; items++) {
        f = s_skip_ignored(f);
        if (*f == close)
            break;
        if (map && items % 2 == 0 && *f != 's')
            return TROUPE_EINVAL; // keys are strings
        int rc = s_check(&f, depth + 1, l, too_big);
        if (rc < 0)
            return rc;
    }
    if (map && items % 2 != 0)
        return TROUPE_EINVAL;
    if ((map ? items / 2 : items) > l->max_items)
        *too_big = true;
    *fp = f + 1;
    return 0;
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
        } else if (nest == 0 && s_scalar(c)) {
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

static int s_pack_value(s_packer *s, const char **fp, uint32_t depth, bool key,
                        va_list *ap);

static int s_pack_container(s_packer *s, const char **fp, uint32_t depth,
                            va_list *ap)
{
    const char *f = *fp;
    bool map = *f == '{';
    uint32_t count = s_count(f + 1, map);
    int rc = map ? msgpack_pack_map(&s->pk, count)
                 : msgpack_pack_array(&s->pk, count);
    if (rc < 0)
        return s->rc;
    f++;
    for (uint64_t i = 0; i < (map ? 2 * (uint64_t)count : count); i++) {
        rc = s_pack_value(s, &f, depth + 1, map && i % 2 == 0, ap);
        if (rc < 0)
            return rc;
    }
    *fp = s_skip_ignored(f) + 1; // past the closing bracket
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

// Pack the value at *fp and move past it. key: it is a map key.
static int s_pack_value(s_packer *s, const char **fp, uint32_t depth, bool key,
                        va_list *ap)
{
    const char *f = s_skip_ignored(*fp);
    msgpack_packer *pk = &s->pk;
    int rc = 0;
    *fp = f + 1;
    switch (*f) {
    case 'n':
        rc = msgpack_pack_nil(pk);
        break;
    case 'b':
        rc = va_arg(*ap, int) ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
        break;
    case 'i':
        rc = msgpack_pack_int64(pk, va_arg(*ap, int));
        break;
    case 'I':
        rc = msgpack_pack_int64(pk, va_arg(*ap, int64_t));
        break;
    case 'u':
        rc = msgpack_pack_uint64(pk, va_arg(*ap, unsigned));
        break;
    case 'U':
        rc = msgpack_pack_uint64(pk, va_arg(*ap, uint64_t));
        break;
    case 'd':
        rc = msgpack_pack_double(pk, va_arg(*ap, double));
        break;
    case 's': {
        const char *str = va_arg(*ap, const char *);
        if (str == NULL) {
            if (key)
                return TROUPE_EINVAL; // a map key must be a string
            rc = msgpack_pack_nil(pk);
            break;
        }
        size_t len = strlen(str);
        if (len > UINT32_MAX)
            return TROUPE_EMSGSIZE;
        rc = msgpack_pack_str_with_body(pk, str, len);
        break;
    }
    case 'y': {
        const void *p;
        size_t n;
        if ((rc = s_take_bytes(ap, &p, &n)) < 0)
            return rc;
        rc = msgpack_pack_bin_with_body(pk, p, n);
        break;
    }
    case 'r':
        return s_pack_raw(s, depth, ap);
    default: // '[' or '{': s_check let nothing else through
        *fp = f;
        return s_pack_container(s, fp, depth, ap);
    }
    return rc < 0 ? s->rc : 0;
}

int tr_pack_fmt(tr_buf *b, const tr_limits *l, const char *fmt, va_list *ap)
{
    if (b == NULL || l == NULL)
        return TROUPE_EINVAL;
    if (fmt == NULL || *s_skip_ignored(fmt) == '\0')
        return 0;

    // Check all of the format before taking a single argument.
    bool too_big = false;
    const char *f = fmt;
    int rc = s_check(&f, 0, l, &too_big);
    if (rc == 0 && *s_skip_ignored(f) != '\0')
        rc = TROUPE_EINVAL; // more than one top-level value
    if (rc < 0)
        return rc;
    if (too_big)
        return TROUPE_ELIMIT;

    s_packer s = {.b = b, .start = b->len, .l = l, .rc = TROUPE_ENOMEM};
    msgpack_packer_init(&s.pk, &s, s_write);
    f = fmt;
    rc = s_pack_value(&s, &f, 0, false, ap);
    // Raw bytes inside containers add their depth to the containers'; only
    // the whole result can tell whether the receiver will take it.
    if (rc == 0 && s.nested_raw)
        rc = tr_mp_validate_exact(b->data + s.start, b->len - s.start, l);
    if (rc < 0)
        b->len = s.start;
    return rc;
}
