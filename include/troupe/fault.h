// SPDX-License-Identifier: MIT
//
// Fault injection for tests: a seeded, replayable fault plan that a test
// installs on a node, so that supervisors, retries and timeouts can be
// driven through every failure path (SQLite's *fault suites, in troupe's
// terms). A plan is a list of rules (crash an actor at its k-th message,
// hang it, fail its init, drop a reply, delay its mailbox, crash it at
// random) matched by the name an actor was spawned with. Nothing fires on a
// node without a plan, and a message then pays one pointer test where it
// arrives and one where it is handled.
#ifndef TROUPE_FAULT_H
#define TROUPE_FAULT_H

#include "troupe/common.h"
#include "troupe/node.h"

#ifdef __cplusplus
extern "C" {
#endif

// A fault plan. Opaque; made by troupe_fault_plan_new(), freed with
// troupe_fault_plan_destroy().
//
// Rules match an actor by the name in its spec (troupe_actor_spec.name),
// or every actor if the rule's actor is NULL (client handles never match;
// the gateway of troupe_node_listen() does). Message, init and answer counts
// are kept per name, across every actor spawned or restarted under that
// name, so "its 3rd message" stays the 3rd after a restart and does not
// crash the restarted actor again. An actor without a name is counted on
// its own. "Messages" are those handed to the handler (tell, request,
// timer, down, trapped exit), numbered from 1.
//
// Thread rule: add every rule from one thread before the plan is first
// installed (after that, adding one returns TROUPE_ESTATE), and install it
// before spawning the actors it targets: an actor is bound to the node's
// plan when its init runs (also at a restart), and an actor spawned before
// keeps running without faults. From then on the plan is read-only but for
// its counters, which are atomic, so actors on any number of threads share
// it, and the stats may be read from any thread.
typedef struct troupe_fault_plan troupe_fault_plan;

// Make an empty plan. A seed of 0 takes one from the environment variable
// TROUPE_FAULT_SEED (decimal, or hex with 0x), else from the clock: print
// troupe_fault_plan_seed() when a test fails, and run it again with
// TROUPE_FAULT_SEED set to that value to replay the same faults. Returns 0
// and *plan (the caller owns it: troupe_fault_plan_destroy()), TROUPE_EINVAL
// (plan NULL, or TROUPE_FAULT_SEED set but not a non-zero number),
// TROUPE_ENOMEM. Thread: any.
TROUPE_API int troupe_fault_plan_new(uint64_t seed, troupe_fault_plan **plan);

// Drop the caller's hold on a plan and set *plan to NULL. A node the plan
// is installed on, and each actor bound to it, hold it too: it is freed
// when the last of them lets go, so destroying it while installed is safe
// (the faults keep firing). Accepts NULL and *plan == NULL. Thread: any.
TROUPE_API void troupe_fault_plan_destroy(troupe_fault_plan **plan);

// The plan's seed (never 0), to print when a test fails. 0 if plan is NULL.
// Thread: any.
TROUPE_API uint64_t troupe_fault_plan_seed(const troupe_fault_plan *plan);

// Every rule below returns 0, TROUPE_EINVAL (plan NULL, actor "" or a
// bad argument as listed), TROUPE_ESTATE (the plan was installed already)
// or TROUPE_ENOMEM. actor is the name to match (copied), NULL for any
// actor. A crash reason must be negative and not TROUPE_ESHUTDOWN (an
// ordinary stop), so that every injected fault counts as a crash.

// The actor's kth message (kth >= 1) is not handled: instead the actor
// ends with reason, as if its handler had returned it (monitors and links
// see reason; a request among those messages is answered TROUPE_EDEAD).
TROUPE_API int troupe_fault_crash(troupe_fault_plan *plan, const char *actor,
                                  uint64_t kth, int reason);

// Before the actor's kth message (kth >= 1) its thread blocks for ms
// (1 <= ms <= INT32_MAX): a hung handler. The time counts as the handler's
// (troupe_actor_stats.handler_ns_max), and everything else on its loop
// waits, as it would behind a real hang. The message is then handled.
TROUPE_API int troupe_fault_hang(troupe_fault_plan *plan, const char *actor,
                                 uint64_t kth, int64_t ms);

// The actor's first `times` inits (times >= 1) fail with reason, as if its
// init returned it (the spawn returns reason; an actor without init counts
// too). Its init callback does not run then.
TROUPE_API int troupe_fault_fail_init(troupe_fault_plan *plan,
                                      const char *actor, unsigned times,
                                      int reason);

// The answer to the kth request the actor answers (kth >= 1; by
// troupe_reply, troupe_reply_error or a deferred reply or error) is lost:
// counted as sent and dead-lettered, so the requester ends at its deadline
// with TROUPE_ETIMEDOUT. The handler's call returns 0.
TROUPE_API int troupe_fault_drop_reply(troupe_fault_plan *plan,
                                       const char *actor, uint64_t kth);

// Every message to the actor (tells, requests, replies, down and exit
// messages; not its own timers, nor stops) is held on arrival and reaches
// its mailbox ms later (1 <= ms <= INT32_MAX), in arrival order: it is
// handled no earlier than ms after it arrived. Nothing sleeps: the held
// messages wait on the port's timers. Held messages count against the
// mailbox bound, and are dead-lettered if the actor ends first. With
// several matching delay rules the longest applies.
TROUPE_API int troupe_fault_delay(troupe_fault_plan *plan, const char *actor,
                                  int64_t ms);

// Each message (as for troupe_fault_crash) crashes the actor with reason
// with probability per_million / 1000000 (1 <= per_million <= 1000000).
// The draw is a hash of (seed, actor name, message number, rule), not a
// random stream, so the same seed crashes the same names at the same
// message numbers whatever the threads and their interleaving. Unnamed
// actors all draw with the name "".
TROUPE_API int troupe_fault_random_crash(troupe_fault_plan *plan,
                                         const char *actor,
                                         uint32_t per_million, int reason);

// Install plan on node (NULL removes the node's plan). The node holds the
// plan until it is removed or replaced, or the node is destroyed; actors
// bound to it keep it, and keep firing its faults, until they end. Returns
// 0 or TROUPE_EINVAL (node NULL). Thread: any; see the thread rule above.
TROUPE_API int troupe_node_set_fault_plan(troupe_node *node,
                                          troupe_fault_plan *plan);

// How many faults of each kind fired.
typedef struct troupe_fault_stats {
    uint64_t crashed;         // actors ended by troupe_fault_crash or
                              // troupe_fault_random_crash
    uint64_t hung;            // handler runs delayed by troupe_fault_hang
    uint64_t init_failed;     // inits failed by troupe_fault_fail_init
    uint64_t replies_dropped; // answers lost by troupe_fault_drop_reply
    uint64_t delayed;         // messages held by troupe_fault_delay
} troupe_fault_stats;

// Fill *stats with the plan's counters (read one by one: exact once the
// actors are at rest). Returns 0 or TROUPE_EINVAL. Thread: any.
TROUPE_API int troupe_fault_plan_stats_get(const troupe_fault_plan *plan,
                                           troupe_fault_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
