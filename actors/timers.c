// SPDX-License-Identifier: MIT
//
// The indexed timer heap of a port (see timers.h), actors layer.
#include <stdint.h>
#include <stdlib.h>

#include "timers.h"
#include "troupe/error.h"

void tr_timers_init(tr_timers *t)
{
    t->heap = NULL;
    t->len = t->cap = 0;
    t->seq = 0;
}

void tr_timers_fini(tr_timers *t)
{
    free(t->heap);
    tr_timers_init(t);
}

static int s_less(const tr_timer *a, const tr_timer *b)
{
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void s_place(tr_timers *h, size_t i, tr_timer *t)
{
    h->heap[i] = t;
    t->index = i;
}

static void s_up(tr_timers *h, size_t i)
{
    tr_timer *t = h->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!s_less(t, h->heap[p]))
            break;
        s_place(h, i, h->heap[p]);
        i = p;
    }
    s_place(h, i, t);
}

static void s_down(tr_timers *h, size_t i)
{
    tr_timer *t = h->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->len)
            break;
        if (c + 1 < h->len && s_less(h->heap[c + 1], h->heap[c]))
            c++;
        if (!s_less(h->heap[c], t))
            break;
        s_place(h, i, h->heap[c]);
        i = c;
    }
    s_place(h, i, t);
}

int tr_timers_add(tr_timers *h, tr_timer *t)
{
    if (h->len == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        tr_timer **n = realloc(h->heap, cap * sizeof *n);
        if (!n)
            return TROUPE_ENOMEM;
        h->heap = n;
        h->cap = cap;
    }
    t->seq = h->seq++;
    s_place(h, h->len++, t);
    s_up(h, t->index);
    return 0;
}

void tr_timers_remove(tr_timers *h, tr_timer *t)
{
    size_t i = t->index;
    if (i == SIZE_MAX || i >= h->len || h->heap[i] != t)
        return;
    t->index = SIZE_MAX;
    tr_timer *last = h->heap[--h->len];
    if (i == h->len)
        return;
    s_place(h, i, last);
    s_up(h, i);
    s_down(h, last->index);
}

tr_timer *tr_timers_peek(const tr_timers *h)
{
    return h->len ? h->heap[0] : NULL;
}
