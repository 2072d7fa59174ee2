// SPDX-License-Identifier: MIT
//
// The indexed timer heap of a port and its precise waits (see timers.h),
// actors layer.
#include <stdint.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "timers.h"
#include "troupe/error.h"

// A millisecond-grained sleep is asked to end this long (plus 1/128 of its
// length) before the due time, so that it ends in time even though poll()
// may wake up to max(50 us, 0.1% of the timeout) late (0.5% for a nice'd
// thread) and libzmq counts its timeout on a coarse clock. The rest of the
// way is a precise wait on the timerfd, then a spin.
#define TR_TIMERS_MARGIN_NS 1000000

// Bounds of `lead` (timers.h), and where it starts. The bound caps the spin
// before each timer when wake-ups are slow (a loaded host).
#define TR_TIMERS_LEAD_MAX 200000
#define TR_TIMERS_LEAD_START 50000

void tr_timers_init(tr_timers *t)
{
    t->heap = NULL;
    t->len = t->cap = 0;
    t->seq = 0;
    t->fd = -1;
    t->fd_wait = 0;
    t->fd_due = 0;
    t->lead = TR_TIMERS_LEAD_START;
}

void tr_timers_fini(tr_timers *t)
{
    free(t->heap);
    if (t->fd >= 0)
        close(t->fd);
    tr_timers_init(t);
}

static int s_less(const tr_timer *a, const tr_timer *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
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

int64_t tr_timers_after(int64_t from_ns, int64_t ms)
{
    if (ms <= 0)
        return from_ns;
    if (ms > (INT64_MAX - (from_ns > 0 ? from_ns : 0)) / 1000000)
        return INT64_MAX;
    return from_ns + ms * 1000000;
}

int tr_timers_add(tr_timers *h, tr_timer *t)
{
    // troupe_now() is tr_now_ns() / 1e6 + 1 (whole ms): it reaches `when`
    // at the first ns of millisecond when - 1.
    int64_t due = t->when <= 1                    ? 0
                  : t->when > INT64_MAX / 1000000 ? INT64_MAX
                                                  : (t->when - 1) * 1000000;
    return tr_timers_add_ns(h, t, due);
}

int tr_timers_add_ns(tr_timers *h, tr_timer *t, int64_t due_ns)
{
    if (h->len == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        tr_timer **n = realloc(h->heap, cap * sizeof *n);
        if (!n)
            return TROUPE_ENOMEM;
        h->heap = n;
        h->cap = cap;
    }
    t->due = due_ns;
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

// Arm the timerfd at `at` (absolute, CLOCK_MONOTONIC). 0 or -1 (no timerfd:
// the caller falls back to a millisecond timeout).
static int s_arm(tr_timers *h, int64_t at)
{
    // Armed for this very time already: fine even if it has expired (it
    // stays readable until re-armed), since the port then spins instead.
    if (h->fd >= 0 && h->fd_due == at)
        return 0;
    if (h->fd < 0) {
        h->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (h->fd < 0)
            return -1;
    }
    struct itimerspec its = {
        .it_value = {.tv_sec = at / 1000000000, .tv_nsec = at % 1000000000}};
    if (timerfd_settime(h->fd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
        h->fd_due = 0;
        return -1;
    }
    h->fd_due = at;
    return 0;
}

long tr_timers_timeout(tr_timers *h)
{
    h->fd_wait = 0;
    tr_timer *t = tr_timers_peek(h);
    if (!t)
        return -1;
    int64_t left = t->due - tr_now_ns();
    if (left <= 0)
        return 0;
    int64_t ms = (left - TR_TIMERS_MARGIN_NS - left / 128) / 1000000;
    if (ms > 0) // far yet: the cheap wait, ending before the due time
        return ms > 3600000 ? 3600000 : (long)ms;
    if (left <= h->lead) // nearly due: spin rather than wake up late
        return 0;
    if (s_arm(h, t->due - h->lead) == 0) { // near: the precise wait
        h->fd_wait = 1;
        return -1;
    }
    return (long)((left + 999999) / 1000000); // no timerfd: whole ms
}

void tr_timers_woke(tr_timers *h)
{
    if (!h->fd_due)
        return;
    int64_t late = tr_now_ns() - h->fd_due;
    if (late < 0)
        late = 0;
    // Up fast, down slowly: `lead` follows the slow end of the wake-ups.
    if (late > h->lead)
        h->lead += (late - h->lead) / 2;
    else
        h->lead -= (h->lead - late) / 16;
    if (h->lead > TR_TIMERS_LEAD_MAX)
        h->lead = TR_TIMERS_LEAD_MAX;
}
