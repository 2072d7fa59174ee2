// SPDX-License-Identifier: MIT
//
// Monotonic time, transport layer: troupe_now() in milliseconds for deadlines
// and tr_now_ns() for handler timing. CLOCK_MONOTONIC is system-wide, so
// deadlines mean the same in every process of one machine.
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "clock.h"
#include "troupe/common.h"

int64_t tr_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t tr_ticks(void)
{
#if defined(__x86_64__)
    return __rdtsc();
#else
    return (uint64_t)tr_now_ns();
#endif
}

#if defined(__x86_64__)
// The first reading, taken once (tr_clock_start, or the first conversion);
// the rate is measured from there on.
static uint64_t s_base_ticks;
static int64_t s_base_ns;
static pthread_once_t s_base_once = PTHREAD_ONCE_INIT;

// A (clock, TSC) pair read together: the TSC read on both sides of the
// clock read, the tightest bracket of a few tries, so that a preemption
// between the two reads cannot skew the rate.
static void s_pair(int64_t *ns, uint64_t *ticks)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 4; i++) {
        uint64_t t0 = __rdtsc();
        int64_t n = tr_now_ns();
        uint64_t t1 = __rdtsc();
        if (i == 0 || t1 - t0 < best) {
            best = t1 - t0;
            *ns = n;
            *ticks = t0 + (t1 - t0) / 2;
        }
    }
}

static void s_take_base(void)
{
    s_pair(&s_base_ns, &s_base_ticks);
}
#endif

void tr_clock_start(void)
{
#if defined(__x86_64__)
    pthread_once(&s_base_once, s_take_base);
#endif
}

#if defined(__x86_64__)
// Nanoseconds per tick, as the bits of a double, kept once the base is
// 50 ms old (the rate is then good to well under 0.1 %); 0: not yet.
static _Atomic uint64_t s_ns_per_tick;

// Nanoseconds per tick: the kept rate, or one measured now, from the base
// to a pair at least 100 us after it (pairs are good to some 50 ns each,
// so the rate to 0.1 %, plenty for budgets and a loop's 1 ms inbox
// cadence; waiting 1 ms, as this once did, cost every process child a
// spin at its first handler).
static double s_rate(void)
{
    uint64_t bits = atomic_load_explicit(&s_ns_per_tick, memory_order_relaxed);
    double rate;
    if (bits) {
        memcpy(&rate, &bits, sizeof rate);
        return rate;
    }
    pthread_once(&s_base_once, s_take_base);
    int64_t ns;
    uint64_t now;
    do
        s_pair(&ns, &now);
    while (ns - s_base_ns < 100000);
    if (now == s_base_ticks)
        return 1.0;
    rate = (double)(ns - s_base_ns) / (double)(now - s_base_ticks);
    if (ns - s_base_ns > 50000000) {
        memcpy(&bits, &rate, sizeof bits);
        atomic_store_explicit(&s_ns_per_tick, bits, memory_order_relaxed);
    }
    return rate;
}
#endif

uint64_t tr_ticks_to_ns(uint64_t ticks)
{
#if defined(__x86_64__)
    return (uint64_t)((double)ticks * s_rate());
#else
    return ticks;
#endif
}

uint64_t tr_ns_to_ticks(uint64_t ns)
{
#if defined(__x86_64__)
    return (uint64_t)((double)ns / s_rate());
#else
    return ns;
#endif
}

TROUPE_API int64_t troupe_now(void)
{
    // +1 keeps the value > 0 even right after boot: 0 is
    // TROUPE_DEADLINE_DEFAULT and negative values mean "no wait".
    return tr_now_ns() / 1000000 + 1;
}

TROUPE_API int64_t troupe_deadline_in(int64_t ms)
{
    int64_t now = troupe_now();
    if (ms >= TROUPE_FOREVER - now)
        return TROUPE_FOREVER;
    return now + ms;
}

TROUPE_API bool troupe_addr_eq(troupe_addr a, troupe_addr b)
{
    return a.node == b.node && a.slot == b.slot &&
           a.incarnation == b.incarnation;
}

TROUPE_API bool troupe_addr_valid(troupe_addr a)
{
    return a.slot != 0;
}
