// SPDX-License-Identifier: MIT
//
// I/O watches inside a port (see troupe/io.h): the port's thread polls the
// armed fds beside its inbox and turns readiness into TROUPE_MSG_IO
// messages for the watching actors.
#ifndef TR_IO_INTERNAL_H
#define TR_IO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

typedef struct tr_port tr_port;
typedef struct tr_actor tr_actor;
typedef struct troupe_msg troupe_msg;

// One watch.
typedef struct tr_io_watch {
    tr_actor *actor; // who watches
    uint64_t id;     // returned to the user
    int fd;          // the fd
    short events;    // ZMQ_POLLIN / ZMQ_POLLOUT
    int armed;       // polled (no notification pending)
    char tag[];      // NUL-terminated copy
} tr_io_watch;

// A port's watches.
typedef struct tr_io_set {
    tr_io_watch **w; // watches, unordered
    size_t n, cap;   // used, allocated
    size_t armed;    // how many are polled now
    void *items;     // zmq_pollitem_t[cap + 4], for tr_io_wait
} tr_io_set;

// Wait like tr_port_wait (inbox, foreign eventfd, watched socket) and also
// on the timers' fd when tr_timers_wait_fd() says so and on the armed fds,
// at most timeout ms; ready fds become messages for their actors. Returns
// the TR_READY_* bits or TROUPE_ESYS.
int tr_io_wait(tr_port *p, long timeout);
// The IO message m was handled (or dropped): poll its fd again. Returns 1
// if its watch still exists (the message is to be handled), else 0.
int tr_io_rearm(tr_port *p, const troupe_msg *m);
// Actor a ends: its watches go.
void tr_io_actor_end(tr_port *p, tr_actor *a);
// The port ends: free everything.
void tr_io_fini(tr_io_set *s);
#endif
