// SPDX-License-Identifier: MIT
//
// Defensive checks of internal invariants, transport layer, in SQLite's
// ALWAYS()/NEVER() style: in test and debug builds (TROUPE_DEBUG_CHECKS) a
// broken invariant stops the program at once, where it broke; in release
// builds the expression is just evaluated, so the caller's recovery path runs
// and the shipped library never aborts.
#ifndef TR_INVARIANT_H
#define TR_INVARIANT_H

#ifdef TROUPE_DEBUG_CHECKS
#include <stdio.h>
#include <stdlib.h>
// Not assert(): NDEBUG is set in RelWithDebInfo, which is what tests use.
static inline int tr_invariant_broken(const char *what, const char *file,
                                      int line)
{
    fprintf(stderr, "troupe: invariant broken at %s:%d: %s\n", file, line,
            what);
    abort();
    return 0;
}
#define TR_ALWAYS(x) ((x) ? 1 : tr_invariant_broken(#x, __FILE__, __LINE__))
#define TR_NEVER(x) ((x) ? !tr_invariant_broken(#x, __FILE__, __LINE__) : 0)
#else
// Functions, not bare expressions, so that a check written as a statement
// does not warn ("value computed is not used") in release builds.
static inline int tr_invariant_value(int x)
{
    return x;
}
#define TR_ALWAYS(x) tr_invariant_value(!!(x))
#define TR_NEVER(x) tr_invariant_value(!!(x))
#endif

#endif
