// SPDX-License-Identifier: MIT
//
// Messages, actors layer: allocation of the in-memory message and the public
// accessors of troupe_msg (msg.h). Bodies are packed by the transport codec;
// nothing here knows about loops or actors.
#include <stdlib.h>
#include <string.h>

#include "msg_internal.h"
#include "troupe/error.h"

troupe_msg *tr_msg_new(uint8_t kind, const char *tag, size_t tag_len,
                       const void *body, size_t body_len)
{
    tr_msg_pool *home;
    troupe_msg *m =
        tr_msg_pool_alloc(sizeof *m + tag_len + 1 + body_len, &home);
    if (!m)
        return NULL;
    memset(m, 0, sizeof *m);
    m->home = home;
    m->kind = kind;
    m->tag_len = (uint16_t)tag_len;
    m->body_len = (uint32_t)body_len;
    m->deadline = TROUPE_FOREVER;
    if (tag_len)
        memcpy(m->data, tag, tag_len);
    m->data[tag_len] = '\0';
    m->body = (uint8_t *)m->data + tag_len + 1;
    if (body_len)
        memcpy(m->body, body, body_len);
    return m;
}

int tr_tag_check(const char *tag, const tr_limits *l, size_t *len)
{
    // A loop, not strnlen: tags are a few bytes, and the call showed in
    // profiles of message streams.
    size_t n = 0;
    if (tag)
        while (n <= l->max_tag_len && tag[n] != '\0')
            n++;
    if (n > l->max_tag_len)
        return TROUPE_EINVAL;
    *len = n;
    return 0;
}

// Per-thread scratch buffer for packing, so that a steady stream of sends
// allocates only the message itself.
static _Thread_local tr_buf s_scratch
    __attribute__((tls_model("initial-exec")));

int tr_msg_pack(uint8_t kind, const char *tag, const tr_limits *l,
                const char *fmt, va_list *ap, troupe_msg **out)
{
    size_t tag_len;
    int rc = tr_tag_check(tag, l, &tag_len);
    if (rc)
        return rc;
    s_scratch.len = 0;
    if (fmt && *fmt) {
        rc = tr_pack_fmt(&s_scratch, l, fmt, ap);
        if (rc)
            return rc;
    }
    troupe_msg *m =
        tr_msg_new(kind, tag, tag_len, s_scratch.data, s_scratch.len);
    if (s_scratch.cap > 65536) // do not keep a huge buffer per thread
        tr_buf_fini(&s_scratch);
    if (!m)
        return TROUPE_ENOMEM;
    *out = m;
    return 0;
}

void tr_msg_free(troupe_msg *m)
{
    if (m)
        tr_msg_pool_free(m, m->home);
}

TROUPE_API troupe_msg_kind troupe_msg_kind_of(const troupe_msg *msg)
{
    return (troupe_msg_kind)msg->kind;
}

TROUPE_API const char *troupe_msg_tag(const troupe_msg *msg)
{
    return msg->data;
}

TROUPE_API bool troupe_msg_is(const troupe_msg *msg, const char *tag)
{
    if (!msg || !tag)
        return false;
    // strcmp, inlined: tags are short, and a call to strcmp showed in
    // profiles of message streams.
    const char *a = msg->data;
    for (size_t i = 0;; i++) {
        if (a[i] != tag[i])
            return false;
        if (a[i] == '\0')
            return true;
    }
}

TROUPE_API troupe_addr troupe_msg_sender(const troupe_msg *msg)
{
    return msg->from;
}

TROUPE_API int64_t troupe_msg_deadline(const troupe_msg *msg)
{
    return msg->deadline;
}

TROUPE_API int troupe_msg_code(const troupe_msg *msg)
{
    return msg->code;
}

TROUPE_API uint64_t troupe_msg_ref(const troupe_msg *msg)
{
    return msg->ref;
}

TROUPE_API void troupe_msg_body(const troupe_msg *msg, const void **data,
                                size_t *len)
{
    if (data)
        *data = msg->body;
    if (len)
        *len = msg->body_len;
}

TROUPE_API int troupe_msg_vread(const troupe_msg *msg, const char *fmt,
                                va_list ap)
{
    if (!msg || !fmt)
        return TROUPE_EINVAL;
    va_list cp;
    va_copy(cp, ap);
    int rc = tr_read_fmt(msg->body, msg->body_len, fmt, &cp);
    va_end(cp);
    return rc;
}

TROUPE_API int troupe_msg_read(const troupe_msg *msg, const char *fmt, ...)
{
    if (!msg || !fmt)
        return TROUPE_EINVAL;
    // Its own va_list, by address: going through troupe_msg_vread's
    // va_copy reloaded the list whole just after it was stored in parts,
    // a store-forwarding stall that cost 5% of a message stream.
    va_list ap;
    va_start(ap, fmt);
    int rc = tr_read_fmt(msg->body, msg->body_len, fmt, &ap);
    va_end(ap);
    return rc;
}

TROUPE_API void troupe_msg_destroy(troupe_msg **msg)
{
    if (!msg || !*msg)
        return;
    tr_msg_free(*msg);
    *msg = NULL;
}

void tr_msg_scratch_release(void)
{
    tr_buf_fini(&s_scratch);
}
