// SPDX-License-Identifier: MIT
//
// Helpers shared by the Check suites: assertions that print error names, not
// numbers, a runner that every suite's main() uses, and a fixture-friendly
// node factory whose teardown asserts the node was left clean.
#ifndef TR_CHECK_H
#define TR_CHECK_H

#include <check.h>
#include <stdint.h>

#include "troupe/troupe.h"

// Assert that expr returns 0; on failure name the error.
#define TR_CK_OK(expr)                                                         \
    do {                                                                       \
        int tr_ck_rc_ = (expr);                                                \
        ck_assert_msg(tr_ck_rc_ == 0, "%s returned %s (%s)", #expr,            \
                      troupe_errname(tr_ck_rc_), troupe_strerror(tr_ck_rc_));  \
    } while (0)

// Assert that expr returns the code want.
#define TR_CK_ERR(expr, want)                                                  \
    do {                                                                       \
        int tr_ck_rc_ = (expr);                                                \
        ck_assert_msg(tr_ck_rc_ == (want), "%s returned %s, wanted %s", #expr, \
                      troupe_errname(tr_ck_rc_), troupe_errname(want));        \
    } while (0)

// Per-test timeout in seconds for a TCase, scaled by CK_TIMEOUT_MULTIPLIER
// (sanitizer builds export it) by Check itself.
#define TR_TCASE_TIMEOUT 10

// Run suite s with CK_FORK on; returns the process exit code (0 if all
// passed). Every suite's main() is `return tr_run_suite(make_suite());`.
int tr_run_suite(Suite *s);

// A new node with `loops` loops and a log hook that keeps lines in memory
// (printed only if a test fails). ck_assert on failure.
troupe_node *tr_node_new(unsigned loops);
troupe_node *tr_node_new_opts(const troupe_node_opts *opts);

// Stop and destroy the node, asserting it ends clean: stop returns 0, no live
// actor, thread, socket or client remains, and the message identity
// sent == delivered + dead_lettered + refused holds.
void tr_node_destroy_clean(troupe_node **node);

#endif
