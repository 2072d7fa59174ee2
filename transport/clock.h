// SPDX-License-Identifier: MIT
//
// Monotonic time, transport layer: milliseconds for deadlines (troupe_now) and
// nanoseconds for handler timing.
#ifndef TR_CLOCK_H
#define TR_CLOCK_H

#include <stdint.h>

// Nanoseconds on CLOCK_MONOTONIC.
int64_t tr_now_ns(void);

#endif
