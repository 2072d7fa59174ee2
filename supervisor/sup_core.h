// SPDX-License-Identifier: MIT
//
// The supervisor's decisions, supervisor layer: a state x event -> action
// table in the manner of s6-supervise. It owns no thread, socket, clock or
// actor: the glue (supervisor.c) feeds it events with the current time and
// carries out the actions it returns (start, stop, kill, forget a child;
// exit the supervisor; arm a timer). Unit-tested with fed events and a fake
// clock (tests/supervisor/test_sup_core.c). Knows nothing of actors/.
#ifndef TR_SUP_CORE_H
#define TR_SUP_CORE_H

#include <stddef.h>
#include <stdint.h>

// The largest intensity tr_sup_core_init accepts: the core keeps the times of
// the last `intensity` restarts, so the bound keeps that memory small.
#define TR_SUP_MAX_INTENSITY 10000

// Strategy (same values as troupe_sup_strategy in troupe/supervisor.h).
enum tr_sup_strategy {
    TR_SUP_ONE_FOR_ONE = 0,
    TR_SUP_ONE_FOR_ALL = 1,
    TR_SUP_REST_FOR_ONE = 2,
    TR_SUP_SIMPLE_ONE_FOR_ONE = 3,
};

// Restart type (same values as troupe_restart in troupe/supervisor.h).
enum tr_sup_restart {
    TR_SUP_PERMANENT = 0, // always restarted
    TR_SUP_TRANSIENT = 1, // restarted only after an abnormal exit
    TR_SUP_TEMPORARY = 2, // never restarted; forgotten when it ends
};

// Exit reasons the core tells apart. 0 is a normal exit; `shutdown` (the
// caller passes TROUPE_ESHUTDOWN) is also normal for a transient child, as
// OTP's `shutdown`; every other value is abnormal.
typedef struct tr_sup_policy {
    int strategy;             // tr_sup_strategy
    uint32_t intensity;       // restarts allowed within period_ms (OTP: 1)
    int64_t period_ms;        // OTP: 5000
    int64_t backoff_min_ms;   // first delay before a restart; 0: none
    int64_t backoff_max_ms;   // delays double up to this
    int64_t backoff_reset_ms; // a child up this long starts again at min
    uint64_t seed;            // jitter: delay is uniform in [d/2, d]
    int shutdown_reason;      // the code meaning "shutdown" (TROUPE_ESHUTDOWN)
    int intensity_reason;     // exit reason on giving up (TROUPE_EINTENSITY)
    int timeout_reason;       // start failure by timeout (TROUPE_ETIMEDOUT)
} tr_sup_policy;

// A child's state in the table.
enum tr_sup_child_state {
    TR_SUP_CHILD_FREE = 0, // unused entry
    TR_SUP_CHILD_IDLE,     // known, not running, no restart planned
    TR_SUP_CHILD_STARTING, // START issued; STARTED or START_FAILED due
    TR_SUP_CHILD_RUNNING,  // up
    TR_SUP_CHILD_STOPPING, // STOP issued; EXIT due, KILL at `deadline`
    TR_SUP_CHILD_WAITING,  // restart planned at `deadline` (backoff)
};

// One child. The glue reads state; only the core writes it.
typedef struct tr_sup_child {
    int state;                // tr_sup_child_state
    int restart;              // tr_sup_restart
    int64_t shutdown_ms;      // 0: brutal (KILL at once); < 0: no limit
    int64_t start_timeout_ms; // STARTING longer than this: start failed
    int64_t deadline;         // STARTING/STOPPING/WAITING: when, ms
    uint64_t seq;             // start order (rest_for_one, shutdown order)
    int64_t up_since;         // when it last became RUNNING
    int64_t backoff_ms;       // next backoff delay (0: min)
    int restart_after_stop;   // part of the restart in progress (a group
                              // restart or the initial start): once it has
                              // ended it is started again, in start order
    int last_reason;          // how it last ended
    int seq_start;            // STARTING: the one start the plan waits for
    int manual;               // STARTING by start_child: a failure ends it
                              // (OTP start_child/restart_child give an
                              // error), it is not retried
    int forget;               // stop_child(forget): FORGET once it ended
} tr_sup_child;

// What the glue must do, in order.
enum tr_sup_action_kind {
    TR_SUP_DO_START = 1, // start child i (answer with STARTED/START_FAILED)
    TR_SUP_DO_STOP,      // ask child i to stop (answer with EXIT)
    TR_SUP_DO_KILL,      // force child i to end now (answer with EXIT;
                         // but a KILL for a start timeout needs no answer:
                         // the core already counts that instance as failed)
    TR_SUP_DO_FORGET,    // child i is gone for good: drop it (entry FREE)
    TR_SUP_DO_EXIT,      // the supervisor itself ends with `reason`
};

typedef struct tr_sup_action {
    int kind;   // tr_sup_action_kind
    size_t i;   // child index (not for EXIT)
    int reason; // EXIT: the supervisor's exit reason
} tr_sup_action;

// The supervisor's own state.
enum tr_sup_state {
    TR_SUP_STARTING = 0, // starting the initial children in order
    TR_SUP_RUNNING,      // all up (or restarting some)
    TR_SUP_SHUTTING,     // stopping every child in reverse order, then EXIT
    TR_SUP_DONE,         // EXIT was returned; every event is ignored
};

typedef struct tr_sup_core {
    tr_sup_policy pol;
    int state;                 // tr_sup_state
    int exit_reason;           // reason for the EXIT after shutting down
    tr_sup_child *child;       // entries (FREE ones may be reused)
    size_t n_child, cap_child; // used prefix, allocated
    uint64_t next_seq;         // start order counter
    int64_t *restarts;         // times of recent restarts (ring)
    size_t n_restarts;         // how many of them are stored
    size_t restart_head;       // index of the oldest one
    int begun;                 // tr_sup_core_start was called
    uint64_t rng;              // jitter state (from pol.seed)
    tr_sup_action *out;        // actions of the last call
    size_t n_out, cap_out;     // used, allocated
} tr_sup_core;

// Set up a core with policy pol. Returns 0 or TROUPE_ENOMEM /
// TROUPE_EINVAL (bad strategy, period_ms <= 0, intensity above
// TR_SUP_MAX_INTENSITY, a negative backoff setting, backoff max < min).
// tr_sup_core_fini frees it; it may be called twice.
int tr_sup_core_init(tr_sup_core *c, const tr_sup_policy *pol);
void tr_sup_core_fini(tr_sup_core *c);

// Add a child (not started): returns 0 and *i, or TROUPE_ENOMEM /
// TROUPE_EINVAL (bad restart type). Its start order is after every child
// added before it. It may reuse a FREE entry, and it may move c->child (so
// hold indexes, not pointers). It reserves room in c->out, so that the
// events below never allocate.
int tr_sup_core_add(tr_sup_core *c, int restart, int64_t shutdown_ms,
                    int64_t start_timeout_ms, size_t *i);

// Events. Each returns 0 (then c->out[0..n_out) holds the actions, in the
// order they must be carried out) or TROUPE_EINVAL (i out of range or
// FREE; an event that does not fit the child's state, e.g. STARTED for a
// RUNNING child, is ignored and returns 0 with no action, because a late
// answer from an earlier incarnation is normal). `now` is in ms on any
// monotonic clock; it must never go back. Once the core is DONE every call
// returns 0 with no action, whatever the index.
//
// The core cannot tell incarnations apart: the glue must drop what an
// instance sends after it was killed for a start timeout or forgotten.
//
// start: start every IDLE child in start order, one at a time (the next
//   START after the previous STARTED). When all are up: RUNNING. If one
//   fails to start: stop the started ones in reverse order, then EXIT with
//   its reason (OTP: the supervisor fails to start).
int tr_sup_core_start(tr_sup_core *c, int64_t now);
// A started child is up / failed to start (init error, crash, timeout).
// In RUNNING, a start failure of a restart counts as a crash of the child:
// restarted per strategy and intensity (OTP's restart loop). A start asked
// for by start_child is not retried: the child ends (IDLE, or FORGET if
// dynamic or temporary), as OTP's start_child returns the error. An EXIT
// while STARTING is a start failure; a start answer while STOPPING is
// ignored, except START_FAILED, which is then the child's EXIT.
int tr_sup_core_started(tr_sup_core *c, size_t i, int64_t now);
int tr_sup_core_start_failed(tr_sup_core *c, size_t i, int reason, int64_t now);
// Child i ended with reason (for any cause: crash, normal, after STOP or
// KILL). Applies restart type, strategy, intensity and backoff.
int tr_sup_core_exited(tr_sup_core *c, size_t i, int reason, int64_t now);
// Time passed: start timeouts (-> start failed with timeout_reason),
// shutdown timeouts (-> KILL), planned restarts (-> START).
int tr_sup_core_tick(tr_sup_core *c, int64_t now);
// Start child i now (a dynamic child just added, or restart_child). Only an
// IDLE child is started; in any other state, or while shutting down, the
// call is ignored (the glue reads c->child[i].state to report "running").
int tr_sup_core_start_child(tr_sup_core *c, size_t i, int64_t now);
// Stop child i and do not restart it (terminate_child); with forget, drop
// it once it ended (delete_child; dynamic children are always forgotten).
// A planned restart (WAITING, or queued in a group restart) is dropped.
int tr_sup_core_stop_child(tr_sup_core *c, size_t i, int forget, int64_t now);
// Shut down: stop every child in reverse start order, one at a time
// (each within its shutdown_ms, else KILL), then EXIT with reason. Works in
// any state; WAITING children just end. Ignored when already shutting down.
int tr_sup_core_shutdown(tr_sup_core *c, int reason, int64_t now);

// The earliest deadline the glue must call tick at, or INT64_MAX if none.
int64_t tr_sup_core_next_deadline(const tr_sup_core *c);

// Names for logs and tests ("start", "RUNNING", ...).
const char *tr_sup_action_name(int kind);
const char *tr_sup_child_state_name(int state);
#endif
