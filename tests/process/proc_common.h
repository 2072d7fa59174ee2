// SPDX-License-Identifier: MIT
//
// What the process suites share: the kinds of actor their children serve
// (each suite's binary is its own child program: main() hands over to
// pt_main, which serves a child first), a fixture with a private runtime
// directory ($TROUPE_RUNTIME_DIR), and helpers that wait on events with
// bounded deadlines.
#ifndef PROC_COMMON_H
#define PROC_COMMON_H

#include <stdbool.h>
#include <sys/types.h>

#include "tr_check.h"

// The node and client of the fixture (pt_setup).
extern troupe_node *node;
extern troupe_client *cl;
// The fixture's private directory, and the runtime directory in it that
// TROUPE_RUNTIME_DIR names (not made: the library makes it).
extern char pt_tmp[128];
extern char pt_rundir[160];

// Serve as a child if started as one, else run the suite: every process
// suite's main() is `return pt_main(argc, argv, make_suite);`. Extra
// arguments a child may get (troupe_proc_spec.argv): "--pidfile=PATH"
// (the child writes its pid there first thing, for a test that cannot
// ask it), "--linger-ms=N" (once its node is done and its keepalive pipe
// closed, the child waits N ms before it exits).
int pt_main(int argc, char **argv, Suite *(*make)(void));

// ms scaled by CK_TIMEOUT_MULTIPLIER (sanitizer builds run slower): for
// timeouts a slow child must not miss, never for what a test asserts.
int64_t pt_ms(int64_t ms);

// Fixtures: pt_env_setup makes pt_tmp and points TROUPE_RUNTIME_DIR at
// pt_rundir (before any thread exists); pt_setup adds a node (2 loops) and
// a client. Their teardowns assert the node removed its runtime directory
// and then remove pt_tmp.
void pt_env_setup(void);
void pt_env_teardown(void);
void pt_setup(void);
void pt_teardown(void);

// A process spec for kind with the defaults, but a heartbeat of
// pt_ms(2000) and a start timeout of pt_ms(5000).
troupe_proc_spec pt_proc(const char *kind);
// An actor spec for a process actor (name may be NULL).
troupe_actor_spec pt_actor(const troupe_proc_spec *ps, const char *name);
// Spawn on the fixture node, asserting success.
troupe_addr pt_spawn(const troupe_proc_spec *ps, const char *name);

// Ask a worker at `who` for its child's pid (a request that crosses).
int pt_pid(troupe_client *c, troupe_addr who);
// The next message of c must be the DOWN of who: its reason.
int pt_down(troupe_client *c, troupe_addr who);

// True if no process has this pid (kill(pid, 0) fails with ESRCH).
bool pt_gone(pid_t pid);
// Wait up to ms for process pid to end (through a pidfd: an event, not a
// poll of the number). True if it has ended (or was gone already). A
// monitor hears a stopped process actor end before the child has exited
// (the proxy stops it in its fini, which runs after the down messages
// went out): wait for the process with this.
bool pt_wait_exit(pid_t pid, int64_t ms);
// Count the open fds of this process.
int pt_fd_count(void);
// Remove dir and what it holds, two levels deep.
void pt_rm_tree(const char *dir);
// Path of the fixture node's runtime directory (pt_rundir/<pid>.<id>):
// true if it exists, its path in out.
bool pt_node_dir(char *out, size_t cap);

#endif
