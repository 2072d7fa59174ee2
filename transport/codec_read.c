// SPDX-License-Identifier: MIT
//
// The reading half of the codec, transport layer: tr_read_fmt() walks bytes
// that tr_mp_validate() already accepted with a cursor and hands out typed
// values and borrowed pointers, with no allocation and no msgpack_unpack().
// The format is checked whole before any argument is taken. Every read is
// still bounds-checked, so bytes that skipped validation give TROUPE_EBADMSG,
// never a read past the end. Knows nothing of envelopes or actors.
#include "codec.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "troupe/error.h"

// The type of one decoded msgpack header.
enum {
    S_NIL,
    S_BOOL,
    S_UINT,
    S_INT, // a signed encoding; the value may still be >= 0
    S_FLOAT,
    S_STR,
    S_BIN,
    S_EXT,
    S_ARRAY,
    S_MAP,
};

// One decoded header, and for scalars and blobs the value itself.
typedef struct s_obj {
    int type;            // S_*
    uint64_t u;          // S_UINT: the value; S_BOOL: 0 or 1
    int64_t i;           // S_INT: the value
    double d;            // S_FLOAT: the value
    const uint8_t *data; // S_STR, S_BIN, S_EXT: the payload (borrowed)
    uint32_t len;        // S_STR, S_BIN, S_EXT: bytes; S_ARRAY, S_MAP: count
} s_obj;

// One tr_read_fmt() call in progress.
typedef struct s_reader {
    const uint8_t *p; // the object's bytes
    size_t n;         // their count
    va_list *ap;      // the caller's outputs
} s_reader;

static uint64_t s_load(const uint8_t *p, size_t width)
{
    uint64_t v = 0;
    for (size_t i = 0; i < width; i++)
        v = (v << 8) | p[i];
    return v;
}

// Take `width` big-endian bytes at *at into *v.
static int s_field(const s_reader *r, size_t *at, size_t width, uint64_t *v)
{
    if (r->n - *at < width)
        return TROUPE_EBADMSG;
    *v = s_load(r->p + *at, width);
    *at += width;
    return 0;
}

// Take a blob payload of len bytes at *at.
static int s_payload(const s_reader *r, size_t *at, uint64_t len, s_obj *o)
{
    if (r->n - *at < len)
        return TROUPE_EBADMSG;
    o->data = r->p + *at;
    o->len = (uint32_t)len;
    *at += (size_t)len;
    return 0;
}

// Decode the header at *pos into o and move past it: past the whole value
// for scalars and blobs, to the first item for containers.
static int s_head(const s_reader *r, size_t *pos, s_obj *o)
{
    size_t at = *pos;
    uint64_t v = 0;
    int rc = 0;
    if (at >= r->n)
        return TROUPE_EBADMSG;
    uint8_t c = r->p[at++];
    memset(o, 0, sizeof *o);
    if (c <= 0x7f) {
        o->type = S_UINT;
        o->u = c;
    } else if (c >= 0xe0) {
        o->type = S_INT;
        o->i = (int64_t)c - 256;
    } else if (c <= 0x9f) {
        o->type = c <= 0x8f ? S_MAP : S_ARRAY;
        o->len = c & 0x0f;
    } else if (c <= 0xbf) {
        o->type = S_STR;
        rc = s_payload(r, &at, c & 0x1f, o);
    } else if (c == 0xc0) {
        o->type = S_NIL;
    } else if (c == 0xc2 || c == 0xc3) {
        o->type = S_BOOL;
        o->u = c == 0xc3;
    } else if (c >= 0xc4 && c <= 0xc6) {
        o->type = S_BIN;
        if ((rc = s_field(r, &at, (size_t)1 << (c - 0xc4), &v)) == 0)
            rc = s_payload(r, &at, v, o);
    } else if (c >= 0xc7 && c <= 0xc9) {
        o->type = S_EXT;
        if ((rc = s_field(r, &at, (size_t)1 << (c - 0xc7), &v)) == 0)
            rc = s_payload(r, &at, v + 1, o); // the type byte, then data
    } else if (c == 0xca) {
        float f;
        uint32_t bits;
        o->type = S_FLOAT;
        if ((rc = s_field(r, &at, 4, &v)) == 0) {
            bits = (uint32_t)v;
            memcpy(&f, &bits, sizeof f);
            o->d = f;
        }
    } else if (c == 0xcb) {
        o->type = S_FLOAT;
        if ((rc = s_field(r, &at, 8, &v)) == 0)
            memcpy(&o->d, &v, sizeof o->d);
    } else if (c >= 0xcc && c <= 0xcf) {
        o->type = S_UINT;
        rc = s_field(r, &at, (size_t)1 << (c - 0xcc), &o->u);
    } else if (c >= 0xd0 && c <= 0xd3) {
        size_t width = (size_t)1 << (c - 0xd0);
        o->type = S_INT;
        if ((rc = s_field(r, &at, width, &v)) == 0 && width == 8) {
            memcpy(&o->i, &v, sizeof o->i);
        } else if (rc == 0) {
            o->i = (int64_t)v;
            if (v >> (8 * width - 1)) // negative: sign-extend
                o->i -= (int64_t)1 << (8 * width);
        }
    } else if (c >= 0xd4 && c <= 0xd8) {
        o->type = S_EXT;
        rc = s_payload(r, &at, 1 + ((uint64_t)1 << (c - 0xd4)), o);
    } else if (c >= 0xd9 && c <= 0xdb) {
        o->type = S_STR;
        if ((rc = s_field(r, &at, (size_t)1 << (c - 0xd9), &v)) == 0)
            rc = s_payload(r, &at, v, o);
    } else if (c >= 0xdc) {
        // 0xdc, 0xdd: array 16/32; 0xde, 0xdf: map 16/32
        o->type = c <= 0xdd ? S_ARRAY : S_MAP;
        rc = s_field(r, &at, (size_t)2 << ((c - 0xdc) & 1), &v);
        o->len = (uint32_t)v;
    } else {
        return TROUPE_EBADMSG; // 0xc1
    }
    if (rc < 0)
        return rc;
    *pos = at;
    return 0;
}

// Move *pos past one whole object. A counter of pending objects is enough
// to skip: no stack, no recursion.
static int s_skip(const s_reader *r, size_t *pos)
{
    uint64_t pending = 1;
    while (pending > 0) {
        s_obj o;
        int rc = s_head(r, pos, &o);
        if (rc < 0)
            return rc;
        pending--;
        if (o.type == S_ARRAY)
            pending += o.len;
        else if (o.type == S_MAP)
            pending += 2 * (uint64_t)o.len;
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
    return c != '\0' && strchr("nbiIuUdsSyr*", c) != NULL;
}

// Check the format value at *fp and move past it: 0 or TROUPE_EINVAL.
static int s_check(const char **fp, uint32_t depth)
{
    const char *f = s_skip_ignored(*fp);
    char c = *f;
    if (s_scalar(c)) {
        *fp = f + 1;
        return 0;
    }
    // The format is the programmer's, but bound the recursion anyway.
    if ((c != '[' && c != '{') || depth >= TR_MAX_DEPTH_CAP)
        return TROUPE_EINVAL;
    char close = c == '[' ? ']' : '}';
    for (f++;;) {
        f = s_skip_ignored(f);
        if (*f == close)
            break;
        if (c == '{') {
            if (*f++ != 's')
                return TROUPE_EINVAL; // keys are strings
            f = s_skip_ignored(f);
            if (*f == '?')
                f++;
        }
        int rc = s_check(&f, depth + 1);
        if (rc < 0)
            return rc;
    }
    *fp = f + 1;
    return 0;
}

// Consume the arguments of the format value at *fp without writing to them:
// an optional key that is missing. The format is already checked.
static void s_skip_args(const char **fp, va_list *ap)
{
    const char *f = s_skip_ignored(*fp);
    char c = *f++;
    switch (c) {
    case 'b':
        (void)va_arg(*ap, bool *);
        break;
    case 'i':
        (void)va_arg(*ap, int *);
        break;
    case 'I':
        (void)va_arg(*ap, int64_t *);
        break;
    case 'u':
        (void)va_arg(*ap, unsigned *);
        break;
    case 'U':
        (void)va_arg(*ap, uint64_t *);
        break;
    case 'd':
        (void)va_arg(*ap, double *);
        break;
    case 's':
        (void)va_arg(*ap, const char **);
        (void)va_arg(*ap, size_t *);
        break;
    case 'S':
        (void)va_arg(*ap, char *);
        (void)va_arg(*ap, size_t);
        break;
    case 'y':
    case 'r':
        (void)va_arg(*ap, const void **);
        (void)va_arg(*ap, size_t *);
        break;
    case '[':
    case '{':
        for (;;) {
            f = s_skip_ignored(f);
            if (*f == ']' || *f == '}') {
                f++;
                break;
            }
            if (c == '{') {
                f++; // the `s` of the key
                (void)va_arg(*ap, const char *);
                f = s_skip_ignored(f);
                if (*f == '?')
                    f++;
            }
            s_skip_args(&f, ap);
        }
        break;
    default: // 'n', '*': no arguments
        break;
    }
    *fp = f;
}

// o's integer value if it lies in [lo, hi].
static int s_signed(const s_obj *o, int64_t lo, int64_t hi, int64_t *v)
{
    if (o->type == S_UINT && o->u <= (uint64_t)hi)
        *v = (int64_t)o->u;
    else if (o->type == S_INT && o->i >= lo && o->i <= hi)
        *v = o->i;
    else
        return TROUPE_ETYPE;
    return 0;
}

// o's integer value if it lies in [0, hi].
static int s_unsigned(const s_obj *o, uint64_t hi, uint64_t *v)
{
    if (o->type == S_UINT && o->u <= hi)
        *v = o->u;
    else if (o->type == S_INT && o->i >= 0 && (uint64_t)o->i <= hi)
        *v = (uint64_t)o->i;
    else
        return TROUPE_ETYPE;
    return 0;
}

static int s_read_value(s_reader *r, const char **fp, size_t *pos);

// Read the array at *pos with the format `[ ... ]` at *fp.
static int s_read_array(s_reader *r, const char **fp, size_t *pos)
{
    // Count the format's items; a last `*` means "and possibly more".
    const char *f = *fp + 1;
    size_t want = 0;
    bool more = false;
    for (const char *g = f;;) {
        g = s_skip_ignored(g);
        if (*g == ']')
            break;
        more = *g == '*';
        want++;
        if (*g == '[' || *g == '{') {
            // Only the count matters here: step over the nested value.
            size_t nest = 0;
            do {
                if (*g == '[' || *g == '{')
                    nest++;
                else if (*g == ']' || *g == '}')
                    nest--;
                g++;
            } while (nest > 0);
        } else {
            g++;
        }
    }
    if (more)
        want--;

    s_obj o;
    int rc = s_head(r, pos, &o);
    if (rc < 0)
        return rc;
    if (o.type != S_ARRAY || (more ? o.len < want : o.len != want))
        return TROUPE_ETYPE;
    for (size_t i = 0; i < want; i++)
        if ((rc = s_read_value(r, &f, pos)) < 0)
            return rc;
    for (size_t i = want; i < o.len; i++)
        if ((rc = s_skip(r, pos)) < 0)
            return rc;
    f = s_skip_ignored(f);
    if (more)
        f = s_skip_ignored(f + 1);
    *fp = f + 1; // past the ']'
    return 0;
}

// Find key among the count entries at entries; *value: where its value is.
// The first match wins.
static int s_find(const s_reader *r, size_t entries, uint32_t count,
                  const char *key, size_t *value)
{
    size_t klen = strlen(key);
    size_t at = entries;
    for (uint32_t i = 0; i < count; i++) {
        s_obj k;
        size_t key_at = at;
        int rc = s_head(r, &at, &k);
        if (rc < 0)
            return rc;
        if (k.type == S_STR && k.len == klen &&
            memcmp(k.data, key, klen) == 0) {
            *value = at;
            return 1;
        }
        at = key_at;
        if ((rc = s_skip(r, &at)) < 0 || (rc = s_skip(r, &at)) < 0)
            return rc;
    }
    return 0;
}

// Read the map at *pos with the format `{ ... }` at *fp.
static int s_read_map(s_reader *r, const char **fp, size_t *pos)
{
    const char *f = *fp + 1;
    size_t start = *pos;
    s_obj o;
    int rc = s_head(r, pos, &o);
    if (rc < 0)
        return rc;
    if (o.type != S_MAP)
        return TROUPE_ETYPE;
    size_t entries = *pos;
    for (;;) {
        f = s_skip_ignored(f);
        if (*f == '}')
            break;
        f++; // the `s` of the key
        const char *key = va_arg(*r->ap, const char *);
        if (key == NULL)
            return TROUPE_EINVAL;
        f = s_skip_ignored(f);
        bool optional = *f == '?';
        if (optional)
            f++;
        size_t value;
        rc = s_find(r, entries, o.len, key, &value);
        if (rc < 0)
            return rc;
        if (rc > 0)
            rc = s_read_value(r, &f, &value);
        else if (optional)
            s_skip_args(&f, r->ap);
        else
            return TROUPE_ETYPE;
        if (rc < 0)
            return rc;
    }
    *fp = f + 1;
    *pos = start;
    return s_skip(r, pos);
}

// Write a (pointer, length) pair of outputs.
static int s_put_bytes(va_list *ap, const void *p, size_t n)
{
    const void **out = va_arg(*ap, const void **);
    size_t *len = va_arg(*ap, size_t *);
    if (out == NULL || len == NULL)
        return TROUPE_EINVAL;
    *out = p;
    *len = n;
    return 0;
}

// Read a string into the caller's (char *buf, size_t cap).
static int s_copy_str(va_list *ap, const s_obj *o)
{
    char *buf = va_arg(*ap, char *);
    size_t cap = va_arg(*ap, size_t);
    if (buf == NULL)
        return TROUPE_EINVAL;
    if (o->type != S_STR)
        return TROUPE_ETYPE;
    // An embedded NUL would silently cut the C string short ("admin\0x").
    if (memchr(o->data, '\0', o->len) != NULL)
        return TROUPE_ETYPE;
    if ((size_t)o->len + 1 > cap)
        return TROUPE_EMSGSIZE;
    memcpy(buf, o->data, o->len);
    buf[o->len] = '\0';
    return 0;
}

// Read the integer o into the output for format letter c (i I u U).
static int s_put_int(va_list *ap, char c, const s_obj *o)
{
    int64_t i = 0;
    uint64_t u = 0;
    int rc;
    switch (c) {
    case 'i': {
        int *out = va_arg(*ap, int *);
        if (out == NULL)
            return TROUPE_EINVAL;
        if ((rc = s_signed(o, INT_MIN, INT_MAX, &i)) == 0)
            *out = (int)i;
        return rc;
    }
    case 'I': {
        int64_t *out = va_arg(*ap, int64_t *);
        if (out == NULL)
            return TROUPE_EINVAL;
        if ((rc = s_signed(o, INT64_MIN, INT64_MAX, &i)) == 0)
            *out = i;
        return rc;
    }
    case 'u': {
        unsigned *out = va_arg(*ap, unsigned *);
        if (out == NULL)
            return TROUPE_EINVAL;
        if ((rc = s_unsigned(o, UINT_MAX, &u)) == 0)
            *out = (unsigned)u;
        return rc;
    }
    default: {
        uint64_t *out = va_arg(*ap, uint64_t *);
        if (out == NULL)
            return TROUPE_EINVAL;
        if ((rc = s_unsigned(o, UINT64_MAX, &u)) == 0)
            *out = u;
        return rc;
    }
    }
}

// Read the value at *pos with the format value at *fp; move both past it.
static int s_read_value(s_reader *r, const char **fp, size_t *pos)
{
    const char *f = s_skip_ignored(*fp);
    char c = *f;
    if (c == '[' || c == '{') {
        *fp = f;
        return c == '[' ? s_read_array(r, fp, pos) : s_read_map(r, fp, pos);
    }
    *fp = f + 1;
    if (c == '*')
        return s_skip(r, pos);
    size_t start = *pos;
    if (c == 'r') {
        int rc = s_skip(r, pos);
        return rc < 0 ? rc : s_put_bytes(r->ap, r->p + start, *pos - start);
    }

    s_obj o;
    int rc = s_head(r, pos, &o);
    if (rc < 0)
        return rc;
    switch (c) {
    case 'n':
        return o.type == S_NIL ? 0 : TROUPE_ETYPE;
    case 'b': {
        bool *out = va_arg(*r->ap, bool *);
        if (out == NULL)
            return TROUPE_EINVAL;
        if (o.type != S_BOOL)
            return TROUPE_ETYPE;
        *out = o.u != 0;
        return 0;
    }
    case 'd': {
        double *out = va_arg(*r->ap, double *);
        if (out == NULL)
            return TROUPE_EINVAL;
        if (o.type == S_FLOAT)
            *out = o.d;
        else if (o.type == S_UINT)
            *out = (double)o.u;
        else if (o.type == S_INT)
            *out = (double)o.i;
        else
            return TROUPE_ETYPE;
        return 0;
    }
    case 's':
        // nil reads as (NULL, 0): the packer packs a NULL string as nil.
        if (o.type != S_STR && o.type != S_NIL)
            return TROUPE_ETYPE;
        return s_put_bytes(r->ap, o.data, o.len);
    case 'S':
        return s_copy_str(r->ap, &o);
    case 'y':
        if (o.type != S_BIN)
            return TROUPE_ETYPE;
        return s_put_bytes(r->ap, o.data, o.len);
    default: // i I u U
        return s_put_int(r->ap, c, &o);
    }
}

int tr_read_fmt(const uint8_t *p, size_t n, const char *fmt, va_list *ap)
{
    // An absent body reads as nil.
    static const uint8_t nil[1] = {0xc0};

    if (fmt == NULL || *s_skip_ignored(fmt) == '\0')
        return 0;
    const char *f = fmt;
    int rc = s_check(&f, 0);
    if (rc == 0 && *s_skip_ignored(f) != '\0')
        rc = TROUPE_EINVAL; // more than one top-level value
    if (rc < 0)
        return rc;
    if (n == 0) {
        p = nil;
        n = sizeof nil;
    }
    if (p == NULL)
        return TROUPE_EINVAL;

    s_reader r = {.p = p, .n = n, .ap = ap};
    size_t pos = 0;
    f = fmt;
    return s_read_value(&r, &f, &pos);
}
