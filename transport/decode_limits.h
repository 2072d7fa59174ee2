// SPDX-License-Identifier: MIT
//
// Decode and size limits, transport layer. Every bound that protects the
// node from bad input lives here, filled from troupe_node_opts; nothing in
// this layer knows about actors.

#ifndef TR_LIMITS_H
#define TR_LIMITS_H

#include <stdint.h>

typedef struct tr_limits {
    uint32_t max_msg_size; // bytes of one body (and of one wire frame + 256)
    uint32_t max_depth;    // nesting of arrays and maps
    uint32_t max_items;    // items in one array or map
    uint32_t max_tag_len;  // bytes of a tag or name
} tr_limits;

// The documented defaults (see troupe_node_opts).
#define TR_DEFAULT_MAX_MSG_SIZE (1u << 20)
#define TR_DEFAULT_MAX_DEPTH 32u
#define TR_DEFAULT_MAX_ITEMS 65536u
#define TR_DEFAULT_MAX_TAG_LEN 64u

// The deepest nesting the validator can track: it keeps one counter per open
// container on the C stack, so max_depth above this acts as this. Node
// options should refuse larger values. Note that msgpack-c's own unpacker
// (msgpack_unpack_next) stops at MSGPACK_EMBED_STACK_SIZE (32) levels.
#define TR_MAX_DEPTH_CAP 1024u

// Fill *l with the defaults.
void tr_limits_default(tr_limits *l);

#endif
