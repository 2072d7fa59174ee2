// SPDX-License-Identifier: MIT
//
// Memory regions, actors layer: the big blocks that the actor-struct and
// message allocators (actor_mem.h, msg_pool.h) carve their objects from. A
// list's first region is small and on small pages, so that a node or a
// thread that makes a few objects touches a few pages; the next are 2 MiB,
// aligned and advised for huge pages (MADV_HUGEPAGE), so that making
// millions of objects takes one page fault per 2 MiB, not one per 4 KiB
// (10-14 us each on the VMs troupe is measured on, docs/performance.md,
// W3). A region goes back to the system only with its whole list.
#ifndef TR_MEM_REGION_H
#define TR_MEM_REGION_H

#include <stddef.h>

// Bytes at the start of each region that are the list's (64: objects
// carved after it start on a cache line).
#define TR_REGION_HEAD 64
// Bytes of every region after the first, and their alignment.
#define TR_REGION_SIZE ((size_t)2 << 20)

// A list of regions. Zero-initialise.
typedef struct tr_regions {
    char *last;    // the newest region, linked to the one before
    size_t mapped; // bytes in all of them
} tr_regions;

// Map one more region: `first` bytes (> TR_REGION_HEAD) if the list is
// empty, TR_REGION_SIZE otherwise. Returns where objects may go (after the
// head) and sets *end, or NULL (out of memory).
char *tr_region_new(tr_regions *list, size_t first, char **end);
// Unmap every region of the list; it is empty again.
void tr_regions_unmap(tr_regions *list);

#endif
