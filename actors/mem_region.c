// SPDX-License-Identifier: MIT
//
// Memory regions (see mem_region.h), actors layer.
#include "mem_region.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>

// The head of each region.
typedef struct region_head {
    char *next;  // the region made before, or NULL
    size_t size; // bytes mapped
} region_head;

_Static_assert(sizeof(region_head) <= TR_REGION_HEAD, "region head");

char *tr_region_new(tr_regions *list, size_t first, char **end)
{
    bool huge = list->last != NULL;
    size_t size = huge ? TR_REGION_SIZE : first;
    // Twice the size, to cut an aligned region out of it.
    size_t len = huge ? 2 * size : size;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    char *r = p;
    if (huge) {
        r = (char *)(((uintptr_t)p + size - 1) & ~(uintptr_t)(size - 1));
        if (r > p)
            munmap(p, (size_t)(r - p));
        if (r + size < p + len)
            munmap(r + size, (size_t)(p + len - (r + size)));
        // One fault then covers 512 pages, but zeroes 2 MiB at once (about
        // 1.7 ms on the VMs troupe is measured on, perf over W6 process
        // restarts): too dear for the first region. A hint: fine if
        // refused.
        (void)madvise(r, size, MADV_HUGEPAGE);
    }
    *(region_head *)r = (region_head){.next = list->last, .size = size};
    list->last = r;
    list->mapped += size;
    *end = r + size;
    return r + TR_REGION_HEAD;
}

void tr_regions_unmap(tr_regions *list)
{
    char *r = list->last;
    while (r) {
        const region_head *h = (const region_head *)r;
        char *next = h->next;
        munmap(r, h->size);
        r = next;
    }
    list->last = NULL;
    list->mapped = 0;
}
