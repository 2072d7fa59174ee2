// SPDX-License-Identifier: MIT
//
// The in-memory message, actors layer: one allocation holding the envelope,
// the tag and the msgpack body. Inside a process a message is handed over as
// this struct (a pointer over zmq inproc between threads, a list link on the
// same loop); it is framed with transport/wire.h only when it leaves.
#ifndef TR_MSG_INTERNAL_H
#define TR_MSG_INTERNAL_H

#include <stdarg.h>

#include "codec.h"
#include "msg_pool.h"
#include "troupe/msg.h"

// System operations (kind TROUPE_MSG_SYSTEM, op in `code`).
enum tr_sys_op {
    TR_SYS_ADOPT = 1, // ptr: a tr_actor to start on this port
    TR_SYS_STOP,      // ref: reason; ptr: tr_waiter to signal when gone
    TR_SYS_MONITOR,   // from: watcher; ref: monitor ref
    TR_SYS_DEMONITOR, // from: watcher; ref: monitor ref
    TR_SYS_LINK,      // from: the actor linking to `to`
    TR_SYS_UNLINK,    // from: the actor unlinking from `to`
    TR_SYS_QUIT,      // the port stops its actors and ends; ptr: tr_waiter
    TR_SYS_REVIVE,    // from: its supervisor; a parked actor starts again
    TR_SYS_FINISH,    // ref: reason; a supervised actor ends for good
};

// Flags of a message being handled.
enum tr_msg_flag {
    TR_MSG_REPLIED = 1,  // a reply (or error) was sent for this request
    TR_MSG_DEFERRED = 2, // the reply duty moved to a troupe_deferred
    TR_MSG_COUNTED = 4,  // counted in the target's mailbox depth
    TR_MSG_TAKEN = 8,    // its room was given back by the run handling it
};

struct troupe_msg {
    struct troupe_msg *next; // mailbox link, owned by the holder
    uint8_t kind;            // troupe_msg_kind
    uint8_t flags;           // tr_msg_flag
    uint16_t tag_len;        // bytes of tag, without its NUL
    uint32_t body_len;       // bytes of body (0: none)
    int32_t code;            // error / reason / system op
    troupe_addr to;          // destination
    troupe_addr from;        // sender
    uint64_t corr;           // request correlation id (0: none)
    uint64_t ref;            // monitor ref, timer id, or system argument
    int64_t deadline;        // absolute ms, TROUPE_FOREVER if none
    void *ptr;               // system payload (in-process only)
    tr_msg_pool *home;       // pool the memory came from (NULL: malloc)
    uint8_t *body;           // points into data, after the tag
    char data[];             // tag, NUL, body
};

// Allocate a message with a copy of tag and body. Returns NULL on ENOMEM.
troupe_msg *tr_msg_new(uint8_t kind, const char *tag, size_t tag_len,
                       const void *body, size_t body_len);

// A message whose body is packed from fmt with limits l. Returns 0 and *out,
// or the packer's code (TROUPE_EINVAL, TROUPE_EMSGSIZE, TROUPE_ENOMEM...).
int tr_msg_pack(uint8_t kind, const char *tag, const tr_limits *l,
                const char *fmt, va_list *ap, troupe_msg **out);

void tr_msg_free(troupe_msg *m);

// Check a tag against the limits: TROUPE_EINVAL if too long. NULL is "".
int tr_tag_check(const char *tag, const tr_limits *l, size_t *len);

// Free this thread's packing scratch buffer (port threads call it on exit).
void tr_msg_scratch_release(void);
#endif
