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
    short revents;   // what the last wait found (ZMQ_POLL* bits)
    char tag[];      // NUL-terminated copy
} tr_io_watch;

// A zmq socket the port's thread owns and polls beside its inbox (the
// gateway's ROUTER, a process link's DEALER), and what to call when it is
// ready for what it is polled for.
//
// `quiet` (may be NULL) is the owner's word that the socket has nothing to
// read: the owner sets it to 1 when a zmq receive on it failed with
// EAGAIN, and to 0 after any receive that got something and after any
// zmq_send on it (a send may take in libzmq's commands, and with them the
// news of a frame, without a later wake-up). The wait keeps it too. A quiet
// socket is slept on at once; any other is asked first (ZMQ_EVENTS: a
// poll() and a getpid() inside libzmq). See tr_io_wait.
typedef struct tr_sock_watch {
    void *sock;    // NULL: removed (the slot is reused)
    short events;  // ZMQ_POLLIN | ZMQ_POLLOUT; 0: not polled for now
    short revents; // what the last wait found, until the call
    int *quiet;    // the owner's flag (above), or NULL: never known
    void (*ready)(tr_port *p, void *arg, short revents);
    void *arg;
} tr_sock_watch;

// What a port calls at the end of each turn, after its own batches left
// (a process proxy sends its link's batch then).
typedef struct tr_turn_hook {
    void (*fn)(tr_port *p, void *arg); // NULL: removed
    void *arg;
} tr_turn_hook;

// A port's watches.
typedef struct tr_io_set {
    tr_io_watch **w;      // fd watches, unordered
    size_t n, cap;        // used, allocated
    size_t armed;         // how many are polled now
    tr_sock_watch *socks; // socket watches
    size_t n_socks;       // slots used (some may be removed)
    size_t polled_socks;  // of them, with a socket and events
    tr_turn_hook *hooks;  // turn-end hooks
    size_t n_hooks;       // slots used (some may be removed)
    void *items;          // struct pollfd[items_cap], for tr_io_wait
    size_t items_cap;     // cap + n_socks + 4 at least
} tr_io_set;

// Poll sock for events (ZMQ_POLLIN, ZMQ_POLLOUT) on port p's thread and
// call ready with what was found (after the inbox and the foreign queue
// of that wait were taken in). quiet: the owner's flag (tr_sock_watch), or
// NULL. Watching a socket watched already changes its events, flag,
// callback and arg. 0 or TROUPE_ENOMEM. Thread: p's.
int tr_io_watch_sock(tr_port *p, void *sock, short events, int *quiet,
                     void (*ready)(tr_port *p, void *arg, short revents),
                     void *arg);
// Change what sock is polled for (0: nothing, for now). Thread: p's.
void tr_io_sock_events(tr_port *p, void *sock, short events);
// Stop polling sock (safe from its own callback). Thread: p's.
void tr_io_unwatch_sock(tr_port *p, void *sock);
// Call the callbacks of the sockets the last wait found ready.
void tr_io_fire_socks(tr_port *p);
// Does the port poll anything beside its inbox (sockets, armed fds)?
int tr_io_polls_more(const tr_port *p);

// Add / remove a turn-end hook (removing is safe from a hook). 0 or
// TROUPE_ENOMEM. Thread: p's.
int tr_port_add_turn_hook(tr_port *p, void (*fn)(tr_port *, void *), void *arg);
void tr_port_remove_turn_hook(tr_port *p, void (*fn)(tr_port *, void *),
                              void *arg);
// Run the turn-end hooks.
void tr_port_run_turn_hooks(tr_port *p);

// Wait like tr_port_wait (inbox, foreign eventfd) and also on the watched
// sockets, on the timers' fd when tr_timers_wait_fd() says so and on the
// armed fds, at most timeout ms; ready fds become messages for their
// actors, ready sockets are noted for tr_io_fire_socks (TR_READY_WATCH).
// Returns the TR_READY_* bits or TROUPE_ESYS. It sleeps in one poll() on
// the zmq sockets' ZMQ_FD beside the fds, and asks libzmq (ZMQ_EVENTS) only
// about sockets not known quiet before it and about those whose fd woke it
// after: zmq_poll asks about every socket twice before it sleeps and again
// after, each time a poll() and a getpid().
int tr_io_wait(tr_port *p, long timeout);
// The IO message m was handled (or dropped): poll its fd again. Returns 1
// if its watch still exists (the message is to be handled), else 0.
int tr_io_rearm(tr_port *p, const troupe_msg *m);
// Actor a ends: its watches go.
void tr_io_actor_end(tr_port *p, tr_actor *a);
// The port ends: free everything.
void tr_io_fini(tr_io_set *s);
#endif
