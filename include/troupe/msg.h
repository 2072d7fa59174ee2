// SPDX-License-Identifier: MIT
//
// Messages: an envelope (kind, sender, tag, correlation, deadline, code) and
// a msgpack body. Bodies are written and read with a small format language
// (like Jansson's json_pack or CZMQ's zsock_send); the raw msgpack bytes stay
// available for msgpack-c. Every body is bounded and validated before a
// handler sees it.
//
// Format language (packing and reading):
//   n        nil                     b  bool   (int / bool *)
//   i        int     (int / int *)   I  int64_t (int64_t / int64_t *)
//   u        unsigned (unsigned / unsigned *)
//   U        uint64_t (uint64_t / uint64_t *)
//   d        double  (double / double *)
//   s        string: pack (const char *, NUL-terminated; NULL packs nil);
//            read (const char **, size_t *): borrowed, NOT NUL-terminated,
//            valid as long as the message; nil reads as (NULL, 0)
//   S        read only: copy a string into (char *buf, size_t cap) with a
//            terminating NUL; TROUPE_EMSGSIZE if it does not fit,
//            TROUPE_ETYPE if the string holds a NUL byte
//   y        bytes: pack (const void *, size_t); read (const void **, size_t *)
//   r        raw msgpack: pack (const void *, size_t), validated; read
//            (const void **, size_t *) the bytes of one object, borrowed
//   [ ... ]  array; in reads, the array must have exactly that many items
//            unless the list ends with '*' ("and possibly more")
//   { k:v }  map. In packs each key is a `s` argument; in reads each key is
//            given as `s` (const char *) and matched by value, in any order;
//            keys not named are ignored; if a key appears twice the first
//            wins. `?` before a key's value makes it optional: a missing
//            key leaves the output untouched (a present one must still
//            have the right type).
//   *        read only: skip one value (anywhere a value may stand)
// Spaces, ',' and ':' are ignored. Reads return TROUPE_ETYPE when a value has
// another type or a required key is missing, TROUPE_EINVAL for a bad format.
// Integers are range-checked on read (a 300 read into `i` is fine, 2^40 is
// TROUPE_ETYPE); `d` accepts float and integer values.
#ifndef TROUPE_MSG_H
#define TROUPE_MSG_H

#include <stdarg.h>

#include "troupe/common.h"

#ifdef __cplusplus
extern "C" {
#endif

// A message. Opaque. Handlers receive borrowed messages valid until they
// return; calls that give a message to the caller say so, and the caller
// frees it with troupe_msg_destroy().
typedef struct troupe_msg troupe_msg;

// What a message is. A handler sees tell, request, timer, down and exit
// (exit only when trapping exits); replies and errors go to the request's
// callback instead.
typedef enum troupe_msg_kind {
    TROUPE_MSG_TELL = 1,    // one-way message
    TROUPE_MSG_REQUEST = 2, // expects exactly one reply or error
    TROUPE_MSG_REPLY = 3,   // the answer to a request
    TROUPE_MSG_ERROR = 4,   // an error answer: troupe_msg_code() says which
    TROUPE_MSG_DOWN = 5,    // a monitored actor ended: code() is its reason
    TROUPE_MSG_EXIT = 6,    // a linked actor ended (trapped): code() reason
    TROUPE_MSG_TIMER = 7,   // a timer fired; the tag is the timer's tag
    TROUPE_MSG_SYSTEM = 8,  // runtime-internal; never reaches a handler
    TROUPE_MSG_IO = 9,      // a watched fd is ready (troupe/io.h)
} troupe_msg_kind;

// The message's kind. Thread: any (the message is immutable).
TROUPE_API troupe_msg_kind troupe_msg_kind_of(const troupe_msg *msg);

// The tag, NUL-terminated, borrowed for the message's life. Never NULL (an
// untagged message has ""). Down and exit messages have tag "down"/"exit".
TROUPE_API const char *troupe_msg_tag(const troupe_msg *msg);

// True if the message's tag equals tag.
TROUPE_API bool troupe_msg_is(const troupe_msg *msg, const char *tag);

// The sender. For down/exit messages: the actor that ended. For messages
// from a client handle: the client's address. TROUPE_ADDR_NONE for timers.
TROUPE_API troupe_addr troupe_msg_sender(const troupe_msg *msg);

// The absolute deadline carried by the message (TROUPE_FOREVER if none).
TROUPE_API int64_t troupe_msg_deadline(const troupe_msg *msg);

// For error messages: the error code. For down/exit: the exit reason (0 is
// normal). Otherwise 0.
TROUPE_API int troupe_msg_code(const troupe_msg *msg);

// For down messages: the monitor reference that troupe_monitor() returned.
// For timers: the timer id. Otherwise 0.
TROUPE_API uint64_t troupe_msg_ref(const troupe_msg *msg);

// The body's msgpack bytes (one object; len 0 if the message has no body),
// borrowed for the message's life. Already validated against the node's
// limits, so msgpack_unpack() on them is safe.
TROUPE_API void troupe_msg_body(const troupe_msg *msg, const void **data,
                                size_t *len);

// Read the body with the format language above. Returns 0, TROUPE_ETYPE,
// TROUPE_EMSGSIZE (an `S` buffer too small) or TROUPE_EINVAL. On failure some
// outputs may have been written. Thread: any.
TROUPE_API int troupe_msg_read(const troupe_msg *msg, const char *fmt, ...);
TROUPE_API int troupe_msg_vread(const troupe_msg *msg, const char *fmt,
                                va_list ap);

// Free a message the caller owns (from troupe_call() or troupe_client_recv()).
// Accepts NULL and *msg == NULL; sets *msg to NULL. Never call it on a
// message a handler was given.
TROUPE_API void troupe_msg_destroy(troupe_msg **msg);

#ifdef __cplusplus
}
#endif
#endif
