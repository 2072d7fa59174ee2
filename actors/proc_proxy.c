// SPDX-License-Identifier: MIT
//
// Process actors, the parent's side: the proxy. A spawn with placement
// TROUPE_PROCESS makes a shared-loop actor (this one, on the spec's loop)
// that starts the child process in its init and holds its mailbox
// (troupe_hold) until the child says hello; from then on it forwards what
// it is sent to the child over an ipc:// DEALER in the node's runtime
// directory, which its loop polls beside its inbox, so a requester on the
// same loop reaches the child with no thread of the parent in between. It
// watches the child through its pidfd (an fd watch), hears it every
// heartbeat, and ends with the reason the child ended with, so a
// supervisor restarts it like any other child: a restart is the proxy's
// restart in place, whose init starts a fresh child, while the messages
// queued for it wait in its mailbox. Nothing here blocks its loop: the
// start, the stop ("$stop", then SIGTERM, then SIGKILL, from timers) and
// a child that is behind (the link keeps the frame and the proxy holds its
// mailbox until the socket takes frames again) all end in events.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg_internal.h"
#include "proc_internal.h"
#include "restart.h"
#include "zsock.h"

// One run's state (zeroed on each restart).
typedef struct proc_state {
    const troupe_proc_spec *spec; // the spawn's arg: kept across restarts
    tr_port *port;
    tr_link link;
    void *sock;           // DEALER bound to endpoint
    char endpoint[256];   // ipc://<runtime dir>/<slot>.<incarnation>.<run>
    tr_child child;       // the process
    int ready;            // it said hello: the start is over
    int reported;         // the child said why it ends ("$exit")
    int report;           // ...and that was its reason
    uint64_t hb_timer;    // heartbeat timer id
    troupe_addr self;     // the proxy
    int alive_fd;         // read end of the child's keepalive pipe, or -1
    uint64_t alive_watch; // its fd watch
    int stopping;         // asked to stop: ends once the child is gone
    int stop_reason;      // ...with this reason
    int stall_held;       // held because the link is stalled
    int gone;             // the child exited: waiting for its "$exit"
    int gone_reason;      // ...what its exit status says meanwhile
} proc_state;

static _Atomic uint64_t s_runs; // makes each run's endpoint unique

void troupe_proc_spec_init(troupe_proc_spec *p)
{
    if (!p)
        return;
    memset(p, 0, sizeof *p);
    p->heartbeat_ms = 1000;
    p->start_timeout_ms = 5000;
    p->shutdown_ms = 5000;
}

void tr_proc_spec_free(troupe_proc_spec *p)
{
    if (!p)
        return;
    free((char *)p->kind);
    free((char *)p->program);
    if (p->argv) {
        for (size_t i = 0; p->argv[i]; i++)
            free((char *)p->argv[i]);
        free((void *)p->argv);
    }
    free(p);
}

troupe_proc_spec *tr_proc_spec_dup(const troupe_proc_spec *p)
{
    if (!p || !p->kind || !*p->kind)
        return NULL;
    troupe_proc_spec *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    *c = *p;
    c->kind = strdup(p->kind);
    c->program = p->program ? strdup(p->program) : NULL;
    c->argv = NULL;
    int failed = !c->kind || (p->program && !c->program);
    if (p->argv && !failed) {
        size_t n = 0;
        while (p->argv[n])
            n++;
        const char **v = calloc(n + 1, sizeof *v);
        failed = !v;
        for (size_t i = 0; v && i < n; i++) {
            v[i] = strdup(p->argv[i]);
            failed |= !v[i];
        }
        c->argv = v;
    }
    if (failed) {
        tr_proc_spec_free(c);
        return NULL;
    }
    return c;
}

static void s_spec_free(void *arg)
{
    tr_proc_spec_free(arg);
}

// ---- the child's end ----

static void s_turn_end(tr_port *p, void *arg);
static void s_ready(tr_port *p, void *arg, short revents);

// Close the socket and forget the endpoint.
static void s_close_sock(proc_state *st)
{
    if (!st->sock)
        return;
    if (st->port) {
        tr_io_unwatch_sock(st->port, st->sock);
        tr_port_remove_turn_hook(st->port, s_turn_end, st);
    }
    tr_sock_unbind(st->sock, st->endpoint);
    tr_sock_close(&st->port->node->zctx, &st->sock);
}

static void s_forget_child(proc_state *st)
{
    if (st->child.pid)
        tr_proc_pid_set(st->port->node, st->self, 0);
    tr_child_close(&st->child);
}

// Let go of everything a run holds: the child (killed if still there),
// the socket and its endpoint, the link, the keepalive pipe.
static void s_release(proc_state *st)
{
    s_forget_child(st);
    s_close_sock(st);
    tr_link_fini(&st->link);
    if (st->alive_fd >= 0)
        close(st->alive_fd);
    st->alive_fd = -1;
}

// The child is gone and its last word is in (or will not come): end, with
// the reason it reported, else its exit status's, unless a stop asked for
// this end (then the stop's reason: a supervisor's shutdown order holds).
static int s_finish(troupe_ctx *cx, proc_state *st)
{
    int reason = st->reported ? st->report : st->gone_reason;
    if (st->stopping)
        reason = st->stop_reason;
    troupe_node *n = cx->port->node;
    tr_logf(&n->log, reason ? TROUPE_LOG_INFO : TROUPE_LOG_DEBUG,
            "process actor %s (pid %ld) ended: %s", st->spec->kind,
            (long)st->child.pid, troupe_errname(reason));
    s_forget_child(st);
    st->gone = 0;
    return troupe_exit(cx, reason);
}

// It said hello: the start is over, what waited is forwarded from now on,
// many envelopes to a frame, at the end of each turn of the loop.
static void s_hello(troupe_ctx *cx, proc_state *st)
{
    if (st->ready)
        return;
    st->ready = 1;
    st->link.batching = 1;
    if (tr_port_add_turn_hook(cx->port, s_turn_end, st) != 0) {
        tr_logf(&cx->port->node->log, TROUPE_LOG_ERROR,
                "process actor %s: out of memory", st->spec->kind);
        troupe_exit(cx, TROUPE_ENOMEM);
        return;
    }
    troupe_resume(cx);
}

// Handle one frame from the child.
static void s_frame(troupe_ctx *cx, proc_state *st, const tr_env *env)
{
    troupe_node *n = st->port->node;
    if (env->kind == TROUPE_MSG_REPLY || env->kind == TROUPE_MSG_ERROR) {
        tr_link_answered(&st->link, cx, env);
        return;
    }
    if (env->kind != TROUPE_MSG_TELL && env->kind != TROUPE_MSG_REQUEST) {
        TR_BUMP(st->port->ctr.malformed);
        return;
    }
    if (tr_link_is_control(env)) {
        if (env->tag_len == 6 && !memcmp(env->tag, "$hello", 6)) {
            s_hello(cx, st);
        } else if (env->tag_len == 5 && !memcmp(env->tag, "$exit", 5)) {
            int code = 0;
            troupe_msg *m =
                tr_msg_new(TROUPE_MSG_TELL, "", 0, env->body, env->body_len);
            if (m && troupe_msg_read(m, "{s:i}", "reason", &code) == 0) {
                st->reported = 1;
                st->report = code;
            }
            tr_msg_free(m);
            if (st->gone) // it exited already: this was all we waited for
                s_finish(cx, st);
        }
        return; // "$alive" and the rest: being heard is what counts
    }
    // Sent by the child to a name (or address) here.
    troupe_addr to = env->to;
    int rc = 0;
    if (env->to_name_len)
        rc = tr_whereis_n(n, env->to_name, env->to_name_len, &to);
    if (rc) {
        tr_offer_failed(st->port, "", to, rc);
        if (env->kind == TROUPE_MSG_REQUEST)
            tr_link_answer(&st->link, env->corr, rc, NULL);
        return;
    }
    tr_link_deliver(&st->link, cx, env, to, false);
}

// Read what the child sent, up to max envelopes (and the rest of a frame
// begun).
static void s_drain(troupe_ctx *cx, proc_state *st, int max)
{
    for (int i = 0; (i < max || tr_link_pending(&st->link)) && st->sock; i++) {
        tr_env env;
        int rc = tr_link_recv(&st->link, &env);
        if (rc == 0)
            return;
        if (rc == 1)
            s_frame(cx, st, &env);
        else
            TR_BUMP(st->port->ctr.malformed);
    }
}

// Follow the link's stall: when it kept a frame the child's pipe had no
// room for, hold the mailbox (its senders see TROUPE_EFULL once it fills)
// and poll the socket for room too; once any flush got the frame out, let
// the mailbox go again. Called after everything that may flush.
static void s_follow_stall(troupe_ctx *cx, proc_state *st)
{
    if (!st->sock || st->link.stalled == st->stall_held)
        return;
    st->stall_held = st->link.stalled;
    if (st->stall_held) {
        troupe_hold(cx);
        tr_io_sock_events(st->port, st->sock, ZMQ_POLLIN | ZMQ_POLLOUT);
        return;
    }
    tr_io_sock_events(st->port, st->sock, ZMQ_POLLIN);
    if (st->ready && !st->stopping)
        troupe_resume(cx);
}

// The loop calls this when the socket is readable (or, stalled, writable).
static void s_ready(tr_port *p, void *arg, short revents)
{
    proc_state *st = arg;
    troupe_ctx *cx = tr_port_ctx_for(p, st->link.self);
    if ((revents & ZMQ_POLLOUT) && st->link.stalled)
        tr_link_flush(&st->link);
    // One frame per wake-up (answers may flush too): the loop's wait asks
    // whether there is more (io_internal.h), as a read to the end would,
    // and one look after this turn's send does for both.
    if (revents & ZMQ_POLLIN)
        s_drain(cx, st, 1);
    s_follow_stall(cx, st);
}

// The link's question when zmq refuses a frame: has the child exited?
static int s_peer_gone(void *arg)
{
    proc_state *st = arg;
    struct pollfd pfd = {.fd = st->child.pidfd, .events = POLLIN};
    return st->child.reaped || poll(&pfd, 1, 0) == 1;
}

// Read the keepalive pipe dry: the child's main thread writes a byte to it
// every half heartbeat, whatever its actor's loop is doing. At its end of
// file (the child is exiting: its last thread closed its files) stop
// watching it: a pipe at its end stays readable, and a watch that fired
// at every turn would keep this loop busy while the child's last thread
// still tears the process down, on the same few cores (with 2 vCPUs it
// held death detection back by up to 6 ms). The pidfd says the rest.
static void s_heard_alive(troupe_ctx *cx, proc_state *st)
{
    char buf[64];
    ssize_t got;
    while ((got = read(st->alive_fd, buf, sizeof buf)) > 0)
        st->link.last_heard = troupe_now();
    if (got == 0) {
        troupe_io_unwatch(cx, st->alive_watch);
        close(st->alive_fd);
        st->alive_fd = -1;
    }
}

// Has the child been silent for two heartbeats? Then kill it: it ends,
// when its pidfd says so, with TROUPE_ETIMEDOUT.
static void s_silent_kill(proc_state *st)
{
    int64_t hb = st->spec->heartbeat_ms;
    int64_t quiet = troupe_now() - st->link.last_heard;
    if (hb <= 0 || quiet <= 2 * hb || st->child.reaped)
        return;
    tr_logf(&st->port->node->log, TROUPE_LOG_WARN,
            "process actor %s (pid %ld): silent for %lld ms (heartbeat %lld "
            "ms): killed",
            st->spec->kind, (long)st->child.pid, (long long)quiet,
            (long long)hb);
    st->reported = 1; // whatever its status says: it hung
    st->report = TROUPE_ETIMEDOUT;
    tr_child_signal(&st->child, SIGKILL);
}

// The end of each turn of the proxy's loop: what this turn forwarded
// leaves, in one frame.
static void s_turn_end(tr_port *p, void *arg)
{
    proc_state *st = arg;
    if (!st->sock || !st->link.batch.len)
        return;
    tr_link_flush(&st->link);
    s_follow_stall(tr_port_ctx_for(p, st->link.self), st);
}

// Start the child (its hello comes later, as a frame). 0, or why not.
static int s_start_child(troupe_ctx *cx, proc_state *st)
{
    troupe_node *n = cx->port->node;
    const troupe_proc_spec *ps = st->spec;
    char dir[200];
    int rc = tr_proc_rundir(n, dir, sizeof dir);
    if (rc)
        return rc;
    troupe_addr self = cx->actor->addr;
    snprintf(st->endpoint, sizeof st->endpoint, "ipc://%s/%u.%u.%llu", dir,
             self.slot, self.incarnation,
             (unsigned long long)(atomic_fetch_add(&s_runs, 1) + 1));
    rc = tr_link_sock_open(n, 0, &st->sock);
    if (rc)
        return rc;
    rc = tr_sock_bind(st->sock, st->endpoint);
    if (rc) {
        tr_sock_close(&n->zctx, &st->sock);
        return rc;
    }
    tr_link_init(&st->link, st->sock, cx->actor, &n->limits);
    st->link.peer_gone = s_peer_gone;
    st->link.peer_arg = st;
    st->link.keep_full = 1;
    char e_ep[300], e_kind[300], e_ppid[64], e_hb[64], e_alive[64];
    snprintf(e_ep, sizeof e_ep, "%s=%s", TR_PROC_ENV_ENDPOINT, st->endpoint);
    snprintf(e_kind, sizeof e_kind, "%s=%s", TR_PROC_ENV_KIND, ps->kind);
    snprintf(e_ppid, sizeof e_ppid, "%s=%ld", TR_PROC_ENV_PPID, (long)getpid());
    snprintf(e_hb, sizeof e_hb, "%s=%lld", TR_PROC_ENV_HB,
             (long long)ps->heartbeat_ms);
    snprintf(e_alive, sizeof e_alive, "%s=%d", TR_PROC_ENV_ALIVE,
             TR_PROC_ALIVE_FD);
    const char *env[] = {e_ep, e_kind, e_ppid, e_hb, e_alive, NULL};
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) != 0)
        return TROUPE_ESYS;
    st->alive_fd = pipefd[0];
    rc = tr_child_spawn_fd(ps->program, ps->argv, env, pipefd[1],
                           TR_PROC_ALIVE_FD, &st->child);
    close(pipefd[1]); // the child has it: EOF once it is gone
    if (rc) {
        tr_logf(&n->log, TROUPE_LOG_ERROR, "process actor %s: spawn of %s: %s",
                ps->kind, ps->program ? ps->program : "/proc/self/exe",
                troupe_errname(rc));
        return rc;
    }
    tr_proc_pid_set(n, self, st->child.pid);
    return 0;
}

static int s_init(troupe_ctx *cx, void *state, void *arg)
{
    proc_state *st = state;
    st->spec = arg;
    st->port = cx->port;
    st->self = cx->actor->addr;
    st->child = (tr_child){.pid = 0, .pidfd = -1};
    st->alive_fd = -1;
    tr_trap_stop(cx); // stops arrive as messages: see s_handler
    // Until the hello: tells and requests wait, the spawner and the
    // supervisor too; the child's death, the start timeout and a stop
    // still come through.
    troupe_hold(cx);
    int rc = s_start_child(cx, st);
    if (rc == 0)
        rc = tr_io_watch_sock(cx->port, st->sock, ZMQ_POLLIN, &st->link.quiet,
                              s_ready, st);
    if (rc == 0)
        rc = troupe_io_watch(cx, st->child.pidfd, TROUPE_IO_READ, "$pidfd",
                             NULL);
    if (rc == 0)
        rc = troupe_io_watch(cx, st->alive_fd, TROUPE_IO_READ, "$alive",
                             &st->alive_watch);
    int64_t hb = st->spec->heartbeat_ms;
    if (rc == 0 && hb > 0)
        rc = troupe_timer_start(cx, hb, hb, "$hb", &st->hb_timer);
    if (rc == 0 && st->spec->start_timeout_ms > 0)
        rc = troupe_timer_start(cx, st->spec->start_timeout_ms, 0, "$start",
                                NULL);
    if (rc) {
        s_release(st); // kills the child
        return rc < 0 ? rc : TROUPE_ESYS;
    }
    return 0;
}

// The child ended (its pidfd is readable): read what it sent last, and
// end with its reason. An exit status that says it reported a reason
// ("$exit") which has not come yet: the frame is still between the
// sockets (in the kernel, or zmq's I/O thread); wait for it, up to a
// second, with the socket's watch (s_frame finishes then).
static int s_child_gone(troupe_ctx *cx, proc_state *st)
{
    int reason = TROUPE_EDEAD;
    if (tr_child_reap(&st->child, 0, &reason) != 1)
        return 0; // not yet (a spurious readiness)
    st->gone = 1;
    st->gone_reason = reason;
    s_drain(cx, st, 256);
    if (!st->gone) // the drain read its "$exit": finished
        return 0;
    if (!st->reported &&
        troupe_proc_status_of(reason) == TR_PROC_STATUS_REPORTED)
        return troupe_timer_start(cx, 1000, 0, "$report", NULL);
    return s_finish(cx, st);
}

// Stop the child without blocking the loop: "$stop" now, SIGTERM at half
// of shutdown_ms, SIGKILL at shutdown_ms (at once for a kill), each from a
// timer; the proxy ends when the pidfd says the child is gone.
static int s_stop(troupe_ctx *cx, proc_state *st, int reason)
{
    st->stopping = 1;
    st->stop_reason = reason;
    troupe_hold(cx); // nothing more goes to a child that is stopping
    if (st->child.pidfd < 0 || st->child.reaped)
        return s_finish(cx, st);
    int64_t ms = st->spec->shutdown_ms;
    if (reason == TROUPE_EKILLED || ms <= 0) {
        tr_child_signal(&st->child, SIGKILL);
        return 0;
    }
    tr_link_control(&st->link, "$stop", NULL);
    tr_link_flush(&st->link);
    int64_t half = ms / 2 > 0 ? ms / 2 : 1;
    int rc = troupe_timer_start(cx, half, 0, "$term", NULL);
    if (rc == 0)
        rc = troupe_timer_start(cx, ms, 0, "$kill", NULL);
    if (rc) // no timer: no waiting either
        tr_child_signal(&st->child, SIGKILL);
    return 0;
}

static int s_timer(troupe_ctx *cx, proc_state *st, const troupe_msg *msg)
{
    if (msg->ref == st->hb_timer) {
        // The child's main thread writes to the keepalive pipe every half
        // heartbeat: silence means stopped or wedged.
        if (!st->child.reaped) {
            s_drain(cx, st, 256); // a busy loop may not have looked yet
            s_silent_kill(st);
        }
        return 0;
    }
    if (troupe_msg_is(msg, "$start") && !st->ready && !st->child.reaped) {
        tr_logf(&cx->port->node->log, TROUPE_LOG_WARN,
                "process actor %s (pid %ld): no hello within %lld ms: killed",
                st->spec->kind, (long)st->child.pid,
                (long long)st->spec->start_timeout_ms);
        st->reported = 1;
        st->report = TROUPE_ETIMEDOUT;
        tr_child_signal(&st->child, SIGKILL);
    } else if (troupe_msg_is(msg, "$term") && !st->child.reaped) {
        tr_child_signal(&st->child, SIGTERM);
    } else if (troupe_msg_is(msg, "$kill") && !st->child.reaped) {
        tr_child_signal(&st->child, SIGKILL);
    } else if (troupe_msg_is(msg, "$report") && st->gone) {
        return s_finish(cx, st); // its "$exit" never came
    }
    return 0;
}

static int s_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    proc_state *st = state;
    switch (msg->kind) {
    case TROUPE_MSG_IO:
        if (msg->ref == st->alive_watch) {
            s_heard_alive(cx, st);
            return 0;
        }
        return st->child.reaped ? 0 : s_child_gone(cx, st);
    case TROUPE_MSG_TIMER:
        return s_timer(cx, st, msg);
    case TROUPE_MSG_TELL:
    case TROUPE_MSG_REQUEST: {
        int rc = tr_link_forward(&st->link, cx, msg, TR_PROC_SERVED, 1,
                                 troupe_msg_tag(msg), msg->tag_len, msg->body,
                                 msg->body_len);
        // A request heard its error; a tell to a child that just died is
        // lost with it, as a message to any actor that dies (logged).
        if (rc && msg->kind == TROUPE_MSG_TELL)
            tr_logf(&cx->port->node->log, TROUPE_LOG_DEBUG,
                    "process actor %s: tell %s not forwarded: %s",
                    st->spec->kind, troupe_msg_tag(msg), troupe_errname(rc));
        s_follow_stall(cx, st); // a full batch may have met a full pipe
        return 0;
    }
    case TROUPE_MSG_EXIT:
        // A stop (stops are trapped, see s_init): the child goes first, so
        // that whoever watches this actor hears of its end only once the
        // process is gone (a supervisor's shutdown order and timeout hold).
        if (troupe_msg_is(msg, "stop") && !st->stopping)
            return s_stop(cx, st, troupe_msg_code(msg));
        return 0;
    default:
        return 0; // down: not the child's business
    }
}

// The proxy ended otherwise than by its child's end or a stop (its node
// is ending, it crashed): stop the child here, bounded by shutdown_ms,
// "$stop", then SIGTERM at half of it, then SIGKILL, and reap it. This is
// the only wait of the proxy; its loop is ending or its actor is gone.
static void s_stop_child(proc_state *st, int reason)
{
    if (st->child.pidfd < 0 || st->child.reaped)
        return;
    int64_t ms = st->spec->shutdown_ms;
    int r;
    if (reason == TROUPE_EKILLED || ms <= 0) {
        tr_child_signal(&st->child, SIGKILL);
    } else {
        if (st->sock) {
            tr_link_control(&st->link, "$stop", NULL);
            tr_link_flush(&st->link);
        }
        int64_t t0 = troupe_now(), half = ms / 2 > 0 ? ms / 2 : 1;
        int term = 0;
        while (tr_child_reap(&st->child, 10, &r) == 0) {
            int64_t t = troupe_now() - t0;
            if (t >= ms) {
                tr_child_signal(&st->child, SIGKILL);
                break;
            }
            if (!term && t >= half) {
                tr_child_signal(&st->child, SIGTERM);
                term = 1;
            }
        }
    }
    tr_child_reap(&st->child, -1, &r);
}

static void s_fini(void *state, int reason)
{
    proc_state *st = state;
    s_stop_child(st, reason);
    s_release(st);
}

int tr_proc_proxy_spec(const troupe_actor_spec *spec, troupe_actor_spec *out,
                       void (**arg_free)(void *))
{
    if (!spec->process || !spec->process->kind || !*spec->process->kind)
        return TROUPE_EINVAL;
    troupe_proc_spec *c = tr_proc_spec_dup(spec->process);
    if (!c)
        return TROUPE_ENOMEM;
    *out = *spec;
    out->handler = s_handler;
    out->init = s_init;
    out->fini = s_fini;
    out->state = NULL;
    out->state_size = sizeof(proc_state);
    out->arg = c;
    out->placement = TROUPE_SHARED; // on spec->loop: see the top
    out->process = NULL;
    *arg_free = s_spec_free;
    return 0;
}
