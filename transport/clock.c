// SPDX-License-Identifier: MIT
//
// Monotonic time, transport layer: troupe_now() in milliseconds for deadlines
// and tr_now_ns() for handler timing. CLOCK_MONOTONIC is system-wide, so
// deadlines mean the same in every process of one machine.
#include <time.h>

#include "clock.h"
#include "troupe/common.h"

int64_t tr_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
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

TROUPE_API bool troupe_addr_valid(troupe_addr a) { return a.slot != 0; }
