// SPDX-License-Identifier: MIT
//
// Process actors: an actor that lives in a child process of its own, so
// that a crash there (a segfault, an abort, a kill) cannot take anything
// else down. In the parent it is an ordinary address: the same tells,
// requests, monitors, links and child specs reach it, through a proxy
// actor that forwards over an ipc:// zmq socket in a private runtime
// directory (mode 0700). The child is a fresh program (posix_spawn of this
// program, or of another one), never a fork of a process running a zmq
// context. The proxy watches it through a pidfd (never a PID that may be
// reused) and heartbeats, and ends with a reason that says how the child
// ended, so that a supervisor restarts it as any other child.
// See docs/processes.md.
#ifndef TROUPE_PROCESS_H
#define TROUPE_PROCESS_H

#include "troupe/actor.h"

#ifdef __cplusplus
extern "C" {
#endif

// How a process actor is started and watched: what troupe_actor_spec's
// `process` points to when its placement is TROUPE_PROCESS. Initialise with
// troupe_proc_spec_init() (defaults below). Copied at spawn (and by a
// supervisor's child spec), strings included.
typedef struct troupe_proc_spec {
    // Which actor the child serves: a kind name the child program lists in
    // the table it gives troupe_proc_child(). Required.
    const char *kind;
    // The program to start; NULL (the default): this very program
    // (/proc/self/exe), whose main() must call troupe_proc_child() first.
    const char *program;
    // Extra arguments after argv[0], NULL-terminated; NULL: none.
    const char *const *argv;
    // The child tells the parent it lives every heartbeat_ms / 2; a child
    // silent for two intervals (stopped, or its process hung) is killed
    // and the actor ends with TROUPE_ETIMEDOUT. Default 1000 (a loaded or
    // sanitized machine can be silent for hundreds of ms); <= 0: none.
    int64_t heartbeat_ms;
    // Time from spawn to the child's hello; past it the start fails with
    // TROUPE_ETIMEDOUT and the child is killed. Default 5000.
    int64_t start_timeout_ms;
    // Stopping: the child is asked to stop; if it has not exited after
    // half of shutdown_ms it gets SIGTERM, and SIGKILL at shutdown_ms.
    // Default 5000 (a supervisor's own shutdown timeout may come first:
    // then it is killed at once). 0: SIGKILL at once.
    int64_t shutdown_ms;
} troupe_proc_spec;

// Fill p with the defaults above (kind, program, argv NULL). Thread: any.
TROUPE_API void troupe_proc_spec_init(troupe_proc_spec *p);

// Exit reasons of a process actor, besides the codes its actor exits with
// (which the child reports before it exits, so they arrive unchanged):
// killed by a signal, or exited with a status without saying why.
#define TROUPE_EPROC_SIGNAL_BASE (-600)
#define TROUPE_EPROC_EXIT_BASE (-700)
#define TROUPE_EPROC_SIGNAL(sig) (TROUPE_EPROC_SIGNAL_BASE - (sig))
#define TROUPE_EPROC_EXIT(status) (TROUPE_EPROC_EXIT_BASE - (status))

// The signal that killed a process actor, if reason says so (1..64), else
// 0. Thread: any.
TROUPE_API int troupe_proc_signal_of(int reason);

// The exit status (1..255) a process actor's child exited with without
// reporting a reason, if reason says so, else 0. Thread: any.
TROUPE_API int troupe_proc_status_of(int reason);

// One kind of actor a program can serve as a child process.
typedef struct troupe_proc_kind {
    const char *kind;        // the name parents give in troupe_proc_spec
    troupe_actor_spec actor; // what the child runs (shared or isolated)
    // Options of the child's node; NULL: defaults with one loop.
    const troupe_node_opts *opts;
} troupe_proc_kind;

// Call at the top of main(), before anything else starts threads. If this
// process was started as a process actor, serve it: start a node, the
// actor of the matching kind and its link to the parent, and return true
// once the parent stopped it or went away (the process should then exit
// with *exit_code). Otherwise return false at once: an ordinary start.
// A child whose kind is not in kinds, or whose parent is already gone,
// returns true with a non-zero *exit_code. Thread: main, once.
//
// In the child, sends and requests by name (troupe_tell_name,
// troupe_request_name) to names the child's node does not know go to the
// parent's node, which resolves them there: process actors reach each
// other, and anything in the parent, by their registered names.
TROUPE_API bool troupe_proc_child(const troupe_proc_kind *kinds, size_t n,
                                  int *exit_code);

// The process id of the child behind a process actor, for logs and tests,
// from its spawn (it may not have said hello yet) until it was reaped; or
// 0 (not a process actor, or no child now). Thread: any.
TROUPE_API int troupe_proc_pid(troupe_node *node, troupe_addr who);

#ifdef __cplusplus
}
#endif
#endif
