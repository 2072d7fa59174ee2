// SPDX-License-Identifier: MIT
//
// Timers of one port, actors layer: an indexed binary min-heap of absolute
// due times in nanoseconds on CLOCK_MONOTONIC (tr_now_ns). Each entry knows
// its heap index, so a request that ends early removes its deadline in
// O(log n) instead of leaving a corpse behind. Owned by one port thread; no
// locks.
//
// Precise waits: a port sleeps until its earliest timer in three steps.
// While the timer is more than about a millisecond away it sleeps the cheap,
// millisecond-grained way (zmq_recv with ZMQ_RCVTIMEO, or zmq_poll), ending
// a margin before the due time. For the last stretch tr_timers_timeout arms
// a timerfd, which the port polls beside its inbox, at the due time minus
// `lead`: how late a sleeping thread tends to wake (measured at each such
// wake; tens of us in a VM, where the timer interrupt of an idle vCPU goes
// through the host). The last `lead` ns it spins: turns with timeout 0 until
// the clock says the timer is due. So the timer fires within microseconds
// after its due time, never before. Only the waits that a timer ends pay
// (one timerfd_settime, a zmq_poll instead of a zmq_recv, a spin of at most
// TR_TIMERS_LEAD_MAX, 0.2 ms, during which the inbox waits); a port busy
// with messages pays nothing.
#ifndef TR_TIMERS_H
#define TR_TIMERS_H

#include <stddef.h>
#include <stdint.h>

typedef struct tr_timer {
    int64_t when; // for tr_timers_add: the deadline, ms on troupe_now()
    int64_t due;  // when it fires: ns on tr_now_ns()'s clock (the heap key)
    uint64_t seq; // tie-breaker: equal due times fire in start order
    size_t index; // position in the heap; SIZE_MAX when not in it
    int type;     // what to do when it fires (the port decides)
    void *ptr;    // the owner of the timer (an actor, a request, ...)
} tr_timer;

typedef struct tr_timers {
    tr_timer **heap; // heap[0] is the earliest
    size_t len;      // entries in the heap
    size_t cap;      // entries allocated
    uint64_t seq;    // next seq
    int fd;          // timerfd for precise waits; -1 until one is needed
    int fd_wait;     // the coming wait must poll fd (tr_timers_timeout)
    int64_t fd_due;  // the time fd is armed for (ns); 0: not armed
    int64_t lead;    // how late the thread tends to wake from fd, ns
} tr_timers;

void tr_timers_init(tr_timers *t);
// Does not free the entries; closes the timerfd.
void tr_timers_fini(tr_timers *t);
// Insert t (which must not be in the heap), due when troupe_now() reaches
// t->when (a deadline in ms). 0 or TROUPE_ENOMEM.
int tr_timers_add(tr_timers *h, tr_timer *t);
// Insert t (which must not be in the heap), due at due_ns (ns on
// tr_now_ns()'s clock). 0 or TROUPE_ENOMEM.
int tr_timers_add_ns(tr_timers *h, tr_timer *t, int64_t due_ns);
// from_ns + ms milliseconds, in ns, saturating at INT64_MAX.
int64_t tr_timers_after(int64_t from_ns, int64_t ms);
// Remove t if it is in the heap.
void tr_timers_remove(tr_timers *h, tr_timer *t);
// The earliest entry, or NULL.
tr_timer *tr_timers_peek(const tr_timers *h);
// How long the port may sleep before its earliest timer is due, in ms:
// -1 no limit, 0 one is due now. Reads the clock if there is a timer. When
// the timer is due within about a millisecond it returns -1 and arms the
// timerfd (`lead` before the due time): the wait must then poll
// tr_timers_wait_fd(); within `lead` it returns 0 (spin).
// A wait that ends early just leads to another turn: a timer fires only
// once tr_now_ns() >= its due time.
long tr_timers_timeout(tr_timers *h);
// The wait ended with the timerfd readable: learn how late it woke.
void tr_timers_woke(tr_timers *h);

// The fd the coming wait must poll (readable once the earliest timer is
// due), or -1 if a ms timeout alone ends the wait in time.
static inline int tr_timers_wait_fd(const tr_timers *h)
{
    return h->fd_wait ? h->fd : -1;
}

#endif
