// SPDX-License-Identifier: MIT
//
// Actors that several suites use: an echo service, a gate that a handler
// waits on (to hold an actor busy without sleeping), and spec shortcuts.
#ifndef TR_ACTORS_H
#define TR_ACTORS_H

#include <pthread.h>
#include <semaphore.h>

#include "troupe/troupe.h"

// A counting semaphore with a bounded wait that fails the test on timeout.
typedef struct tr_gate {
    sem_t sem; // posted by tr_gate_open
} tr_gate;

void tr_gate_init(tr_gate *g);
void tr_gate_fini(tr_gate *g);
void tr_gate_open(tr_gate *g);
// Wait for one opening, at most ms; ck_assert on timeout with `what`.
void tr_gate_wait(tr_gate *g, int ms, const char *what);

// Echo: "echo" {s:x} replies {s:x} with x+1; "fail" replies error
// TROUPE_EUSER; "notify" tells the sender "noted"; "silent" returns without
// replying; "crash" returns TROUPE_EUSER-1 (a crash); "block" opens
// state->entered then waits on state->release (if state is a tr_echo_state).
typedef struct tr_echo_state {
    tr_gate *entered; // opened when a "block" message starts
    tr_gate *release; // waited for by a "block" message
    int handled;      // messages handled
} tr_echo_state;

int tr_echo_handler(troupe_ctx *cx, void *state, const troupe_msg *msg);

// A spec for the echo actor with the given placement and state.
troupe_actor_spec tr_echo_spec(troupe_placement where, tr_echo_state *st);

// Spawn an echo actor from outside, asserting success.
troupe_addr tr_spawn_echo(troupe_node *node, troupe_placement where,
                          tr_echo_state *st);

// Call "echo" with x and check the reply is x + 1.
void tr_check_echo(troupe_client *c, troupe_addr to, int64_t x);

#endif
