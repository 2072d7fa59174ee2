// SPDX-License-Identifier: MIT
//
// Monotonic time, transport layer: milliseconds for deadlines (troupe_now) and
// nanoseconds for handler timing.
#ifndef TR_CLOCK_H
#define TR_CLOCK_H

#include <stdint.h>

// Nanoseconds on CLOCK_MONOTONIC.
int64_t tr_now_ns(void);

// A cheap tick counter for timing handlers: the TSC on x86-64 (a few cycles
// where clock_gettime costs tens of ns in a VM), nanoseconds elsewhere.
// Ticks only make sense as differences; tr_ticks_to_ns converts them.
uint64_t tr_ticks(void);
// Start the calibration of ticks (a clock read; later calls do nothing):
// a node does, so that its first conversion need not wait.
void tr_clock_start(void);
// Convert a tick difference to nanoseconds, and back. Calibrated against
// CLOCK_MONOTONIC from the base (tr_clock_start, or the first conversion):
// while the base is under 50 ms old a conversion measures the rate (a few
// clock reads, waiting until 100 us have passed), after that it is one
// multiply by the rate kept then.
uint64_t tr_ticks_to_ns(uint64_t ticks);
uint64_t tr_ns_to_ticks(uint64_t ns);

#endif
