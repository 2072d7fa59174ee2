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

// Hold: a "hold" request {s:I x} is deferred and answered {s:I x} later: all
// held ones on a "release" tell; the oldest whenever release_at are held (if
// release_at > 0); all once `total` have come (if total > 0). Otherwise it
// is never answered (a target that hangs, without blocking a thread). A
// "when" request is answered at once with {s:I} its own deadline. Records
// how many it held at most at once and the x of each "hold", in arrival
// order (the first TR_HOLD_MAX).
#define TR_HOLD_MAX 1024
typedef struct tr_hold_state {
    int release_at;                  // config: answer the oldest at this many
    int total;                       // config: answer all after this many
    int held;                        // held now
    int max_held;                    // most held at once
    int received;                    // "hold" requests received
    int64_t order[TR_HOLD_MAX];      // their x, in arrival order
    troupe_deferred *d[TR_HOLD_MAX]; // held, oldest first
    int64_t x[TR_HOLD_MAX];          // their x
} tr_hold_state;

int tr_hold_handler(troupe_ctx *cx, void *state, const troupe_msg *msg);

// Spawn a hold actor on loop `loop` with state st (zeroed by the caller).
troupe_addr tr_spawn_hold(troupe_node *node, int loop, tr_hold_state *st);

#endif
