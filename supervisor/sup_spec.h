// SPDX-License-Identifier: MIT
//
// Supervisor specs, supervisor layer: defaults, validation, and the deep
// copies a supervisor keeps of what the caller passed (a spec, its child
// specs, nested supervisor specs, ids and names). A copy is reference
// counted: the supervisor actor holds one reference per run, and whoever
// made it (troupe_node_sup_start, or the parent's child entry) another.
#ifndef TR_SUP_SPEC_H
#define TR_SUP_SPEC_H

#include <stdatomic.h>

#include "troupe/error.h"
#include "troupe/supervisor.h"

typedef struct tr_sup_copy tr_sup_copy;

// A child spec as kept: strings owned, a nested supervisor as a copy.
typedef struct tr_child_copy {
    char *id;                // owned; NULL for dynamic children
    troupe_actor_spec actor; // name owned; unused for supervisor children
    tr_sup_copy *sup;        // nested supervisor (one reference), or NULL
    int restart;             // troupe_restart
    int64_t shutdown_ms;     // as in the spec, defaults filled
    int64_t start_timeout_ms;
} tr_child_copy;

struct tr_sup_copy {
    atomic_int refs;         // holders
    troupe_sup_spec spec;    // children / name point into this copy
    tr_child_copy *children; // n = spec.n_children
    char *name;              // owned, or NULL
    // troupe_node_sup_start's waiter (a tr_waiter), signalled by the
    // supervisor's first run once its children are up or it failed.
    void *ready;
};

// Check spec (recursively): 0 or TROUPE_EINVAL.
int tr_sup_spec_check(const troupe_sup_spec *spec);
// Check one child spec; dynamic: the child of a simple_one_for_one
// supervisor (no id needed). 0 or TROUPE_EINVAL.
int tr_child_spec_check(const troupe_child_spec *c, int dynamic);
// Deep copy of a checked spec, one reference. NULL on ENOMEM.
tr_sup_copy *tr_sup_copy_new(const troupe_sup_spec *spec);
void tr_sup_copy_ref(tr_sup_copy *c);
void tr_sup_copy_unref(tr_sup_copy *c); // NULL is fine
// Copy a checked child spec into *out: 0 or TROUPE_ENOMEM.
int tr_child_copy_init(tr_child_copy *out, const troupe_child_spec *c);
void tr_child_copy_fini(tr_child_copy *c);
#endif
