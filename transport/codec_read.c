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
    S_NONE, // the reserved byte 0xc1
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

// What each format byte is: one table lookup, where a strchr() per letter
// showed up in profiles of message streams.
enum {
    S_BAD = 0, // not in the language (NUL included)
    S_SKIP,    // spaces and the separators ',' and ':'
    S_SCALAR,  // a letter that reads one value
    S_OPEN,    // '[' or '{'
};

// clang-format off
static const uint8_t s_class[256] = {
    [' '] = S_SKIP, [','] = S_SKIP, [':'] = S_SKIP,
    ['\t'] = S_SKIP, ['\n'] = S_SKIP, ['\r'] = S_SKIP,
    ['n'] = S_SCALAR, ['b'] = S_SCALAR, ['i'] = S_SCALAR, ['I'] = S_SCALAR,
    ['u'] = S_SCALAR, ['U'] = S_SCALAR, ['d'] = S_SCALAR, ['s'] = S_SCALAR,
    ['S'] = S_SCALAR, ['y'] = S_SCALAR, ['r'] = S_SCALAR, ['*'] = S_SCALAR,
    ['['] = S_OPEN, ['{'] = S_OPEN,
};
// clang-format on

static const char *s_skip_ignored(const char *f)
{
    while (s_class[(uint8_t)*f] == S_SKIP)
        f++;
    return f;
}

// Arrays whose shape the format check keeps for the reading pass; later
// ones (rare) are measured again when they are read.
#define S_ARRAYS 16

// One tr_read_fmt() call in progress.
typedef struct s_reader {
    const uint8_t *p; // the object's bytes
    size_t n;         // their count
    va_list *ap;      // the caller's outputs
    size_t arrays;    // `[` met so far, in format order
    // 2 * items + 1 if the last is a `*`, of the first S_ARRAYS arrays
    size_t shape[S_ARRAYS];
} s_reader;

// Big-endian unsigned of width w (1, 2, 4 or 8) at p. Spelled out per
// width, compilers load and byte-swap in one go.
static uint64_t s_load(const uint8_t *p, size_t w)
{
    if (w < 4)
        return w == 1 ? p[0] : (uint64_t)p[0] << 8 | p[1];
    uint64_t v = (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 |
                 (uint64_t)p[2] << 8 | p[3];
    return w == 4 ? v : v << 32 | s_load(p + 4, 4);
}

// The header bytes 0xc0..0xdf: type (S_NONE: 0xc1, never used), width of
// the field after the byte (a value, or a length or count), and bytes of a
// blob beyond that length (ext's type byte; fixext's whole payload).
// clang-format off
static const struct {
    uint8_t type, width, extra;
} s_heads[32] = {
    {S_NIL, 0, 0}, {S_NONE, 0, 0}, {S_BOOL, 0, 0}, {S_BOOL, 0, 0},
    {S_BIN, 1, 0}, {S_BIN, 2, 0}, {S_BIN, 4, 0},
    {S_EXT, 1, 1}, {S_EXT, 2, 1}, {S_EXT, 4, 1},
    {S_FLOAT, 4, 0}, {S_FLOAT, 8, 0},
    {S_UINT, 1, 0}, {S_UINT, 2, 0}, {S_UINT, 4, 0}, {S_UINT, 8, 0},
    {S_INT, 1, 0}, {S_INT, 2, 0}, {S_INT, 4, 0}, {S_INT, 8, 0},
    {S_EXT, 0, 2}, {S_EXT, 0, 3}, {S_EXT, 0, 5}, {S_EXT, 0, 9}, {S_EXT, 0, 17},
    {S_STR, 1, 0}, {S_STR, 2, 0}, {S_STR, 4, 0},
    {S_ARRAY, 2, 0}, {S_ARRAY, 4, 0}, {S_MAP, 2, 0}, {S_MAP, 4, 0},
};
// clang-format on

// Decode the header at *pos into o and move past it: past the whole value
// for scalars and blobs, to the first item for containers. The type byte is
// decoded once, by range or by table, then one switch takes what follows.
static inline __attribute__((always_inline)) int s_head(const s_reader *r,
                                                        size_t *pos, s_obj *o)
{
    size_t at = *pos;
    if (at >= r->n)
        return TROUPE_EBADMSG;
    const uint8_t *p = r->p + at + 1;
    size_t left = r->n - at - 1; // bytes after the type byte
    uint8_t c = p[-1];
    size_t w = 0;
    uint64_t len = 0, v = 0;
    o->data = NULL; // nil reads as (NULL, 0) in `s`
    o->len = 0;
    if (c <= 0x7f || c >= 0xe0) { // positive and negative fixint
        o->type = c <= 0x7f ? S_UINT : S_INT;
        o->u = c;
        o->i = (int64_t)c - 256;
        *pos = at + 1;
        return 0;
    }
    if (c <= 0xbf) { // fixmap, fixarray, fixstr: the count inside
        o->type = c <= 0x8f ? S_MAP : c <= 0x9f ? S_ARRAY : S_STR;
        v = c & (c <= 0x9f ? 0x0f : 0x1f);
    } else {
        o->type = s_heads[c - 0xc0].type;
        w = s_heads[c - 0xc0].width;
        len = s_heads[c - 0xc0].extra;
        if (left < w || o->type == S_NONE)
            return TROUPE_EBADMSG;
        if (w > 0)
            v = s_load(p, w);
    }
    switch (o->type) {
    case S_UINT:
        o->u = v;
        break;
    case S_INT: { // sign-extend the low 8 * w bits, no overflow on the way
        uint64_t sign = (uint64_t)1 << (8 * w - 1), x = (v ^ sign) - sign;
        memcpy(&o->i, &x, sizeof o->i);
        break;
    }
    case S_FLOAT: {
        uint32_t bits = (uint32_t)v;
        float f; // float 32 widens to double exactly
        memcpy(&f, &bits, sizeof f);
        o->d = f;
        if (w == 8)
            memcpy(&o->d, &v, sizeof o->d);
        break;
    }
    case S_BOOL:
        o->u = c == 0xc3;
        break;
    case S_ARRAY:
    case S_MAP:
        o->len = (uint32_t)v;
        break;
    case S_STR:
    case S_BIN:
    case S_EXT:
        len += v;
        if (left - w < len)
            return TROUPE_EBADMSG;
        o->data = p + w;
        o->len = (uint32_t)len;
        w += (size_t)len;
        break;
    default: // nil
        break;
    }
    *pos = at + 1 + w;
    return 0;
}

// Move *pos past `pending` whole objects. A counter of pending objects is
// enough to skip: no stack, no recursion.
static int s_skip(const s_reader *r, size_t *pos, uint64_t pending)
{
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

// The shape (see s_reader) of the array whose items start at f, for arrays
// past the first S_ARRAYS. The format is already checked.
static size_t s_shape(const char *f)
{
    size_t items = 0, nest = 0;
    bool more = false;
    for (; nest > 0 || *f != ']'; f++) {
        if (nest == 0 && s_class[(uint8_t)*f] >= S_SCALAR) {
            items++;
            more = *f == '*';
        }
        if (*f == '[' || *f == '{')
            nest++;
        else if (*f == ']' || *f == '}')
            nest--;
    }
    return 2 * items + more;
}

// Check the format value at f: returns the format past it, or NULL if it is
// bad (TROUPE_EINVAL). Notes the shapes of the first arrays.
static const char *s_check(s_reader *r, const char *f, uint32_t depth)
{
    f = s_skip_ignored(f);
    char c = *f;
    if (s_class[(uint8_t)c] == S_SCALAR)
        return f + 1;
    // The format is the programmer's, but bound the recursion anyway.
    if (s_class[(uint8_t)c] != S_OPEN || depth >= TR_MAX_DEPTH_CAP)
        return NULL;
    size_t at = c == '[' ? r->arrays++ : 0;
    char close = c == '[' ? ']' : '}';
    size_t items = 0;
    bool more = false;
    for (f++;; items++) {
        f = s_skip_ignored(f);
        if (*f == close)
            break;
        if (c == '{') {
            if (*f++ != 's')
                return NULL; // keys are strings
            f = s_skip_ignored(f);
            if (*f == '?')
                f++;
            f = s_skip_ignored(f);
        }
        more = *f == '*';
        if (s_class[(uint8_t)*f] == S_SCALAR)
            f++; // no call for the common case
        else if ((f = s_check(r, f, depth + 1)) == NULL)
            return NULL;
    }
    if (c == '[' && at < S_ARRAYS)
        r->shape[at] = 2 * items + more;
    return f + 1;
}

// Consume the arguments of the format value at *fp without writing to them:
// an optional key that is missing. The format is already checked.
static void s_skip_args(s_reader *r, const char **fp)
{
    va_list *ap = r->ap;
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
        if (c == '[')
            r->arrays++; // keep the shapes in step
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
            s_skip_args(r, &f);
        }
        break;
    default: // 'n', '*': no arguments
        break;
    }
    *fp = f;
}

static int s_read_value(s_reader *r, const char **fp, size_t *pos);

// Read the array at *pos with the format `[ ... ]` at *fp.
static int s_read_array(s_reader *r, const char **fp, size_t *pos)
{
    // The format's items; a last `*` means "and possibly more".
    const char *f = *fp + 1;
    size_t at = r->arrays++;
    size_t shape = at < S_ARRAYS ? r->shape[at] : s_shape(f);
    bool more = shape & 1;
    size_t want = shape / 2 - more;

    s_obj o;
    int rc = s_head(r, pos, &o);
    if (rc < 0)
        return rc;
    if (o.type != S_ARRAY || (more ? o.len < want : o.len != want))
        return TROUPE_ETYPE;
    for (size_t i = 0; i < want; i++)
        if ((rc = s_read_value(r, &f, pos)) < 0)
            return rc;
    if ((rc = s_skip(r, pos, o.len - want)) < 0)
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
        if ((rc = s_skip(r, &at, 2)) < 0) // the key and its value
            return rc;
    }
    return 0;
}

// Read the map at *pos with the format `{ ... }` at *fp.
static int s_read_map(s_reader *r, const char **fp, size_t *pos)
{
    const char *f = *fp + 1;
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
            s_skip_args(r, &f);
        else
            return TROUPE_ETYPE;
        if (rc < 0)
            return rc;
    }
    *fp = f + 1;
    // *pos is still at the entries: step over them, not the header again.
    return s_skip(r, pos, 2 * (uint64_t)o.len);
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

// Read the integer o into the output for format letter c (i I u U), range
// checked into its C type: [lo, hi], lo 0 for the unsigned letters.
static int s_put_int(va_list *ap, char c, const s_obj *o)
{
    int64_t lo = c == 'i' ? INT_MIN : c == 'I' ? INT64_MIN : 0;
    uint64_t hi = c == 'i'   ? INT_MAX
                  : c == 'I' ? INT64_MAX
                  : c == 'u' ? UINT_MAX
                             : UINT64_MAX;
    bool ok = o->type == S_UINT ? o->u <= hi
                                : o->type == S_INT && o->i >= lo &&
                                      (o->i < 0 || (uint64_t)o->i <= hi);
    int rc = ok ? 0 : TROUPE_ETYPE;
    // When ok, both views hold the value (the mask keeps the conversion of
    // an out-of-range value, then unused, well defined).
    uint64_t u = o->type == S_INT ? (uint64_t)o->i : o->u;
    int64_t i = o->type == S_INT ? o->i : (int64_t)(u & INT64_MAX);
    switch (c) {
    case 'i': {
        int *out = va_arg(*ap, int *);
        if (out != NULL && ok)
            *out = (int)i;
        return out == NULL ? TROUPE_EINVAL : rc;
    }
    case 'I': {
        int64_t *out = va_arg(*ap, int64_t *);
        if (out != NULL && ok)
            *out = i;
        return out == NULL ? TROUPE_EINVAL : rc;
    }
    case 'u': {
        unsigned *out = va_arg(*ap, unsigned *);
        if (out != NULL && ok)
            *out = (unsigned)u;
        return out == NULL ? TROUPE_EINVAL : rc;
    }
    default: {
        uint64_t *out = va_arg(*ap, uint64_t *);
        if (out != NULL && ok)
            *out = u;
        return out == NULL ? TROUPE_EINVAL : rc;
    }
    }
}

// Write the scalar o to the output(s) for format letter c (any scalar
// letter but `*` and `r`, which read no header).
static int s_put_scalar(va_list *ap, char c, const s_obj *o)
{
    switch (c) {
    case 'n':
        return o->type == S_NIL ? 0 : TROUPE_ETYPE;
    case 'b': {
        bool *out = va_arg(*ap, bool *);
        if (out == NULL)
            return TROUPE_EINVAL;
        if (o->type != S_BOOL)
            return TROUPE_ETYPE;
        *out = o->u != 0;
        return 0;
    }
    case 'd': {
        double *out = va_arg(*ap, double *);
        if (out == NULL)
            return TROUPE_EINVAL;
        if (o->type == S_FLOAT)
            *out = o->d;
        else if (o->type == S_UINT)
            *out = (double)o->u;
        else if (o->type == S_INT)
            *out = (double)o->i;
        else
            return TROUPE_ETYPE;
        return 0;
    }
    case 's':
        // nil reads as (NULL, 0): the packer packs a NULL string as nil.
        if (o->type != S_STR && o->type != S_NIL)
            return TROUPE_ETYPE;
        return s_put_bytes(ap, o->data, o->len);
    case 'S':
        return s_copy_str(ap, o);
    case 'y':
        if (o->type != S_BIN)
            return TROUPE_ETYPE;
        return s_put_bytes(ap, o->data, o->len);
    default: // i I u U
        return s_put_int(ap, c, o);
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
        return s_skip(r, pos, 1);
    size_t start = *pos;
    if (c == 'r') {
        int rc = s_skip(r, pos, 1);
        return rc < 0 ? rc : s_put_bytes(r->ap, r->p + start, *pos - start);
    }

    s_obj o;
    int rc = s_head(r, pos, &o);
    return rc < 0 ? rc : s_put_scalar(r->ap, c, &o);
}

// The shape most messages have, one flat array of scalars ("[Isd]"),
// checked and read in one loop: no recursion, no shapes kept, the items'
// letters scanned once. Returns S_SLOW before taking any argument when the
// format or the bytes are anything else (a nested value, `*`, `r`, an
// array of another length, a nil body...): the general reader then does it
// all, errors included. Once it takes the message it answers as the
// general reader would, item by item.
#define S_SLOW 1
#define S_FLAT_MAX 15 // items of a fixarray

static int s_read_flat(const uint8_t *p, size_t n, const char *f, va_list *ap)
{
    char letters[S_FLAT_MAX];
    size_t k = 0;
    for (f++; *f != ']'; f++) { // f was at '['
        uint8_t c = (uint8_t)*f;
        if (s_class[c] == S_SKIP)
            continue;
        if (s_class[c] != S_SCALAR || c == '*' || c == 'r' || k == S_FLAT_MAX)
            return S_SLOW;
        letters[k++] = (char)c;
    }
    if (*s_skip_ignored(f + 1) != '\0' || n == 0 || p == NULL ||
        p[0] != (0x90 | k))
        return S_SLOW;
    s_reader r; // s_head reads p and n only: the shapes stay unset
    r.p = p;
    r.n = n;
    size_t pos = 1;
    for (size_t i = 0; i < k; i++) {
        s_obj o;
        int rc = s_head(&r, &pos, &o);
        if (rc < 0 || (rc = s_put_scalar(ap, letters[i], &o)) < 0)
            return rc;
    }
    return 0;
}

int tr_read_fmt(const uint8_t *p, size_t n, const char *fmt, va_list *ap)
{
    // An absent body reads as nil.
    static const uint8_t nil[1] = {0xc0};

    if (fmt == NULL)
        return 0;
    const char *f = s_skip_ignored(fmt);
    if (*f == '\0')
        return 0;
    if (*f == '[') {
        int rc = s_read_flat(p, n, f, ap);
        if (rc != S_SLOW)
            return rc;
    }
    // Check all of the format before taking a single argument. Fields are
    // set one by one: zeroing the shapes too costs a `rep stos`.
    s_reader r;
    r.arrays = 0;
    const char *end = s_check(&r, f, 0);
    if (end == NULL || *s_skip_ignored(end) != '\0')
        return TROUPE_EINVAL; // or more than one top-level value
    if (n == 0) {
        p = nil;
        n = sizeof nil;
    }
    if (p == NULL)
        return TROUPE_EINVAL;

    r.p = p;
    r.n = n;
    r.ap = ap;
    r.arrays = 0;
    size_t pos = 0;
    return s_read_value(&r, &f, &pos);
}
