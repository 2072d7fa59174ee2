// SPDX-License-Identifier: MIT
//
// The decode and size limits of the transport layer and their defaults. The
// numbers themselves live in decode_limits.h so that troupe_node_opts_init()
// and the docs can name them; this file only fills a tr_limits. It depends on
// nothing but its own header.
#include "decode_limits.h"

void tr_limits_default(tr_limits *l)
{
    l->max_msg_size = TR_DEFAULT_MAX_MSG_SIZE;
    l->max_depth = TR_DEFAULT_MAX_DEPTH;
    l->max_items = TR_DEFAULT_MAX_ITEMS;
    l->max_tag_len = TR_DEFAULT_MAX_TAG_LEN;
}
