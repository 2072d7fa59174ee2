// SPDX-License-Identifier: MIT
//
// The pidfd layer of process actors (actors/proc_spawn.c, tr_child_*) for
// the tests. check.h declares a function tr_ctx, which the library's
// internal headers use as a type name, so no suite can include both: this
// shim includes proc_internal.h alone and passes the calls through.
#ifndef PROC_SHIM_H
#define PROC_SHIM_H

#include <stdint.h>

typedef struct pt_child pt_child; // a tr_child

// tr_child_spawn into a new pt_child (freed by pt_child_free); *c is NULL
// when it fails.
int pt_child_spawn(const char *program, const char *const *args,
                   const char *const *env, pt_child **c);
int pt_child_signal(pt_child *c, int sig);                    // tr_child_signal
int pt_child_reap(pt_child *c, int64_t wait_ms, int *reason); // tr_child_reap
void pt_child_close(pt_child *c);                             // tr_child_close
void pt_child_free(pt_child **c); // tr_child_close, then free
int pt_child_pid(const pt_child *c);
int pt_child_pidfd(const pt_child *c);
// Overwrite the pid the child is known by for logs: what a PID reuse
// would make of a stale number.
void pt_child_set_pid(pt_child *c, int pid);

#endif
