// SPDX-License-Identifier: MIT
//
// Process actors, actors layer (troupe/process.h): what the proxy
// (proc_proxy.c), the child side (proc_child.c), their frame link
// (proc_link.c) and the OS side (proc_spawn.c) share.
#ifndef TR_PROC_INTERNAL_H
#define TR_PROC_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>
#include <zmq.h>

#include "node_internal.h"
#include "troupe/process.h"
#include "wire.h"

// Environment a child process actor is started with.
#define TR_PROC_ENV_ENDPOINT "TROUPE_PROC_ENDPOINT" // ipc:// to connect to
#define TR_PROC_ENV_KIND "TROUPE_PROC_KIND"         // which actor to serve
#define TR_PROC_ENV_PPID "TROUPE_PROC_PPID"         // the parent's pid
#define TR_PROC_ENV_HB "TROUPE_PROC_HB"             // heartbeat, ms
#define TR_PROC_ENV_ALIVE "TROUPE_PROC_ALIVE_FD"    // keepalive pipe

// The fd of the keepalive pipe's write end in the child.
#define TR_PROC_ALIVE_FD 3

// Exit status of a child whose actor ended abnormally: the reason itself
// went to the parent in a "$exit" frame just before.
#define TR_PROC_STATUS_REPORTED 3

// Control frames between proxy and child: tells to the name "$".
#define TR_PROC_CTL "$"
// Frames from the parent for the child's actor go to the name ".".
#define TR_PROC_SERVED "."

// ---- proc_spawn.c: the OS side ----

// A child process, known by a pidfd so that it is never confused with
// another process that got its PID later.
typedef struct tr_child {
    pid_t pid;  // for logs; 0: none
    int pidfd;  // -1: none
    int reaped; // waited for: pid and pidfd no longer name it
} tr_child;

// Start program (NULL: /proc/self/exe) with argv[0] and extra args, and
// the environment plus env (NULL-terminated "K=V" strings). Returns 0 and
// *c, TROUPE_ENOENT (no such program), TROUPE_ENOMEM, TROUPE_ESYS.
int tr_child_spawn(const char *program, const char *const *args,
                   const char *const *env, tr_child *c);

// The same, and give the child fd as its fd `as` (-1: nothing).
int tr_child_spawn_fd(const char *program, const char *const *args,
                      const char *const *env, int fd, int as, tr_child *c);

// Send sig through the pidfd. 0, or TROUPE_EDEAD if it exited already.
int tr_child_signal(tr_child *c, int sig);

// Wait up to wait_ms (0: just look, < 0: without limit) for the child to
// exit, and reap it. Returns 1 and *reason (the exit reason its status
// means, see troupe/process.h), 0 if it still runs, or TROUPE_ESYS.
int tr_child_reap(tr_child *c, int64_t wait_ms, int *reason);

// Close the pidfd (a child not reaped is killed and reaped first).
void tr_child_close(tr_child *c);

// The per-node runtime directory (mode 0700, made on first use; stale
// ones of dead processes are removed then): writes its path. 0,
// TROUPE_ESYS (logged), TROUPE_EMSGSIZE (path too long).
int tr_proc_rundir(troupe_node *n, char *out, size_t cap);

// Remember / forget which child serves actor who (troupe_proc_pid).
void tr_proc_pid_set(troupe_node *n, troupe_addr who, pid_t pid);

// Free the node's process state and remove its runtime directory (node
// destroy).
void tr_proc_node_fini(troupe_node *n);

// ---- proc_link.c: one end of the frame link between proxy and child ----

typedef struct tr_link_call {
    uint32_t gen;       // bumped on each use of the entry
    uint32_t next_free; // free list (index + 1; 0: end)
    troupe_deferred *d; // the reply owed, or NULL
} tr_link_call;

typedef struct tr_link {
    void *sock;     // DEALER, owned by the actor's thread
    tr_actor *self; // the actor at this end
    const tr_limits *limits;
    tr_buf out;          // frame being encoded
    tr_link_call *calls; // requests forwarded, waiting for their answer
    uint32_t n_calls, cap_calls, free_head;
    int64_t last_heard; // troupe_now() at the last frame received
    // Frames carry one or more envelopes, each after its length (4 bytes,
    // little-endian). With batching on, what this end sends waits in
    // `batch` until tr_link_flush (the end of its port's turn) or until
    // the batch is large; otherwise each send leaves at once.
    int batching;
    tr_buf batch;
    zmq_msg_t in;           // the frame being read
    int in_live;            // `in` holds a frame
    size_t in_off;          // next envelope's offset in it
    uint64_t sent, refused; // frames out, frames zmq refused (full)
    // Asked when zmq refuses a frame: is the far end gone (then the
    // refusal is TROUPE_EDEAD, not TROUPE_EFULL)? NULL: never.
    int (*peer_gone)(void *arg);
    void *peer_arg;
    // A frame zmq refuses because the far end is behind is kept (not
    // dropped) and the link is stalled until a flush gets it out: the
    // owner holds its mailbox meanwhile (backpressure without blocking).
    int keep_full;
    int stalled;
    // Its last receive found nothing and nothing was sent since: the
    // port's wait sleeps on the socket without asking libzmq first
    // (tr_sock_watch in io_internal.h).
    int quiet;
} tr_link;

// Open the DEALER of one end of a link, with the link's options: frames
// up to 4 * max_msg_size, TR_LINK_HWM frames queued each way, linger_ms
// at close. 0 and *sock, or the socket's error.
int tr_link_sock_open(troupe_node *n, int linger_ms, void **sock);

// Frames each end may queue for the other (a frame holds one turn's
// messages, up to 64 KiB): past it the sender waits (backpressure).
#define TR_LINK_HWM 1000

void tr_link_init(tr_link *l, void *sock, tr_actor *self, const tr_limits *lim);
void tr_link_fini(tr_link *l);

// Forward msg (the tell or request being handled by cx) over the link to
// name (name_len bytes), with this tag and body. A request's reply duty is
// deferred and given back when the answer comes (or TROUPE_EFULL now if
// zmq refused the frame). Returns 0 or an error code (a tell is then lost,
// and counted).
int tr_link_forward(tr_link *l, troupe_ctx *cx, const troupe_msg *msg,
                    const char *name, size_t name_len, const char *tag,
                    size_t tag_len, const void *body, size_t body_len);

// Send a control tell (name "$") with this tag and a body packed from fmt
// (NULL: none). 0 or an error code.
int tr_link_control(tr_link *l, const char *tag, const char *fmt, ...);

// Receive one envelope without waiting: 1 and *env (borrowing from the
// link until the next tr_link_recv or tr_link_fini), 0 if none, or
// TROUPE_EBADMSG... for one refused (counted as malformed by the caller;
// the rest of a frame whose framing is broken is dropped).
int tr_link_recv(tr_link *l, tr_env *env);

// Send what batching held back. 0 (also when it stays, stalled, with
// keep_full) or the send's error.
int tr_link_flush(tr_link *l);

// Does the frame being read hold envelopes not read yet? (zmq's socket may
// then have nothing left to wake a poll: read on before waiting.)
static inline bool tr_link_pending(tr_link *l)
{
    return l->in_live && l->in_off < zmq_msg_size(&l->in);
}

// An answer (reply or error frame) to a request this end forwarded: give
// the deferred reply. Unknown or late ones are dropped.
void tr_link_answered(tr_link *l, troupe_ctx *cx, const tr_env *env);

// Deliver a tell or request that came over the link to `to` here, as the
// link's actor. A request's end goes back over the link as an answer.
// With hold set, a tell for a full mailbox is not refused: the call
// returns TROUPE_EAGAIN and the caller keeps the frame and tries again
// later (backpressure: it stops reading the link meanwhile). Else 0.
int tr_link_deliver(tr_link *l, troupe_ctx *cx, const tr_env *env,
                    troupe_addr to, bool hold);

// Answer over the link a request that came over it.
void tr_link_answer(tr_link *l, uint64_t corr, int status,
                    const troupe_msg *reply);

// True if env is a control frame ("$" destination); its tag is then the
// control word.
static inline bool tr_link_is_control(const tr_env *env)
{
    return env->to_name_len == 1 && env->to_name[0] == '$';
}

// ---- proc_proxy.c ----

// For troupe_spawn & co with placement TROUPE_PROCESS: the isolated proxy
// spec that stands for spec (its arg and arg_free own a copy of what the
// proxy needs). 0, TROUPE_EINVAL (no process spec or kind), TROUPE_ENOMEM.
int tr_proc_proxy_spec(const troupe_actor_spec *spec, troupe_actor_spec *out,
                       void (**arg_free)(void *));

// Deep copy / free of a troupe_proc_spec (strings and argv included).
troupe_proc_spec *tr_proc_spec_dup(const troupe_proc_spec *p);
void tr_proc_spec_free(troupe_proc_spec *p);

#endif
