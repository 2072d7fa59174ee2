// SPDX-License-Identifier: MIT
//
// The watchdog, actors layer: one thread per node that looks, every
// watchdog_ms, at the budgeted handler each port is running and reports the
// ones past their budget (log, stats) while they still run; a supervised
// isolated actor is reported to its supervisor, which replaces it. Also
// abandoning an isolated port whose thread will not come back (tr_abandon).
#ifndef TR_WATCHDOG_H
#define TR_WATCHDOG_H

#include <pthread.h>
#include <stdint.h>

#include "troupe/common.h"

typedef struct troupe_node troupe_node;
typedef struct tr_port tr_port;
typedef struct tr_actor tr_actor;
typedef struct troupe_msg troupe_msg;

typedef struct tr_watchdog {
    pthread_t thread;     // the watchdog's thread
    int running;          // thread started, to be joined
    int quit;             // asked to end (under lock)
    pthread_mutex_t lock; // guards quit
    pthread_cond_t cv;    // signalled to end it early
} tr_watchdog;

// Start / stop node n's watchdog (nothing if watchdog_ms is 0). Start
// returns 0 or TROUPE_ESYS.
int tr_watchdog_start(troupe_node *n);
void tr_watchdog_stop(troupe_node *n);

// Port side, around a handler run of actor a (called only when a has a
// budget): publish it for the watchdog / end it, and report an overrun the
// watchdog did not see.
void tr_watchdog_enter(tr_port *p, tr_actor *a, const troupe_msg *m,
                       uint64_t t0);
void tr_watchdog_leave(tr_port *p, tr_actor *a, const troupe_msg *m,
                       uint64_t t0, uint64_t t1);

// Give up on the isolated actor `who`, whose thread is stuck (from any
// thread): it is dead to senders at once (its name, if given, is dropped),
// its port drops whatever the thread still sends, and the thread ends
// quietly when (if) it returns; what was queued for it is dead-lettered
// then. Returns 0, TROUPE_EDEAD (ended already), TROUPE_ENOTSUP (not an
// isolated actor).
int tr_abandon(troupe_node *n, troupe_addr who, const char *name);

// Is actor `who` running a handler past its budget now (the watchdog's
// view)? 1 or 0. Thread: any.
int tr_overrun_now(troupe_node *n, troupe_addr who);

// The port's thread noticed it was abandoned: end its actors without a
// word to anyone, and make the port quit.
void tr_port_abandoned(tr_port *p);
#endif
