// SPDX-License-Identifier: MIT
//
// Process actors, the child's side. troupe_proc_child() (called first in
// main) sees from its environment that it was started as a process actor,
// starts a node with the actor of the requested kind, and a bridge: an
// isolated actor with a DEALER connected to the proxy's ipc endpoint. The
// bridge says hello once the actor's init succeeded (or reports why it
// failed); the main thread meanwhile writes to a keepalive pipe every half
// heartbeat (so a busy actor still counts as alive, a stopped process does
// not),
// hands the parent's tells and requests to the actor, and sends up what the
// actor sends to names this node does not know ("$up" messages, see send.c).
// When the actor ends, the bridge reports its reason ("$exit") and the process
// exits: the parent's proxy ends with that reason.
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "msg_internal.h"
#include "proc_internal.h"
#include "troupe/client.h"
#include "watchdog.h"
#include "zsock.h"

// Shared by troupe_proc_child (main thread) and the bridge.
typedef struct bridge_ctl {
    const char *endpoint;
    pid_t ppid;
    int64_t hb_ms;
    int alive_fd;  // keepalive pipe to the parent, or -1
    int budgeted;  // the actor's spec has a budget_ms of its own
    int exit_code; // written by the bridge before it ends
} bridge_ctl;

typedef struct bridge {
    bridge_ctl *ctl;
    tr_port *port;
    void *sock;
    tr_link link;
    troupe_addr hosted; // the served actor; slot 0 until "$go"
    int ending;
    // Backpressure: a tell for the actor whose mailbox was full, kept
    // while the bridge stops reading the link (and tried again each ms).
    int holding;
    tr_env held_env; // borrows from the link's frame
} bridge;

static void s_report_exit(troupe_ctx *cx, bridge *b, int reason)
{
    tr_link_control(&b->link, "$exit", "{s:i}", "reason", reason);
    b->ctl->exit_code =
        reason == 0 || reason == TROUPE_ESHUTDOWN ? 0 : TR_PROC_STATUS_REPORTED;
    b->ending = 1;
    troupe_exit(cx, 0);
}

static void s_stop_hosted(troupe_ctx *cx, bridge *b)
{
    if (b->hosted.slot && !b->ending)
        troupe_stop(cx, b->hosted, TROUPE_ESHUTDOWN);
    else if (!b->ending)
        s_report_exit(cx, b, TROUPE_ESHUTDOWN);
}

static int s_frame(troupe_ctx *cx, bridge *b, const tr_env *env)
{
    if (env->kind == TROUPE_MSG_REPLY || env->kind == TROUPE_MSG_ERROR) {
        tr_link_answered(&b->link, cx, env);
        return 0;
    }
    if (env->kind != TROUPE_MSG_TELL && env->kind != TROUPE_MSG_REQUEST) {
        TR_BUMP(b->port->ctr.malformed);
        return 0;
    }
    if (tr_link_is_control(env)) {
        if (env->tag_len == 5 && !memcmp(env->tag, "$stop", 5))
            s_stop_hosted(cx, b);
        return 0;
    }
    if (!b->hosted.slot) {
        if (env->kind == TROUPE_MSG_REQUEST)
            tr_link_answer(&b->link, env->corr, TROUPE_EDEAD, NULL);
        return 0;
    }
    return tr_link_deliver(&b->link, cx, env, b->hosted, true);
}

// Read frames until none is left or one must wait (the actor's mailbox is
// full): that one is held, the link is not read (zmq's pipe fills, and the
// parent's proxy waits), and a timer tries again.
static void s_read(troupe_ctx *cx, bridge *b, int max)
{
    for (int i = 0; (i < max || tr_link_pending(&b->link)) && !b->holding;
         i++) {
        tr_env env;
        int rc = tr_link_recv(&b->link, &env);
        if (rc == 0)
            return;
        if (rc == 1 && s_frame(cx, b, &env) == TROUPE_EAGAIN) {
            b->held_env = env; // borrows from the link's frame, kept
            b->holding = 1;
            tr_io_sock_events(b->port, b->sock, 0);
            troupe_timer_start(cx, 1, 0, "$retry", NULL);
            return;
        }
        if (rc != 1)
            TR_BUMP(b->port->ctr.malformed);
    }
}

// Try the held tell again; once it went, read the link again.
static void s_retry(troupe_ctx *cx, bridge *b)
{
    if (!b->holding)
        return;
    if (s_frame(cx, b, &b->held_env) == TROUPE_EAGAIN) {
        troupe_timer_start(cx, 1, 0, "$retry", NULL);
        return;
    }
    b->holding = 0;
    tr_io_sock_events(b->port, b->sock, ZMQ_POLLIN);
    s_read(cx, b, 256);
}

static void s_ready(tr_port *p, void *arg, short revents)
{
    (void)revents;
    bridge *b = arg;
    // One frame per wake-up: the loop's wait asks whether there is more
    // after the turn that answers it (io_internal.h).
    s_read(tr_port_ctx_for(p, b->link.self), b, 1);
}

static int s_init(troupe_ctx *cx, void *state, void *arg)
{
    bridge *b = state;
    b->ctl = arg;
    b->port = cx->port;
    troupe_node *n = cx->port->node;
    // Lingers at close: the last "$exit" leaves.
    int rc = tr_link_sock_open(n, 2000, &b->sock);
    if (rc)
        return rc;
    rc = tr_sock_connect(b->sock, b->ctl->endpoint);
    if (rc) {
        tr_sock_close(&n->zctx, &b->sock);
        return rc;
    }
    tr_link_init(&b->link, b->sock, cx->actor, &n->limits);
    rc = tr_io_watch_sock(cx->port, b->sock, ZMQ_POLLIN, &b->link.quiet,
                          s_ready, b);
    if (rc) {
        tr_link_fini(&b->link);
        tr_sock_close(&n->zctx, &b->sock);
    }
    return rc;
}

// "$up": what the actor sent to a name unknown here goes to the parent.
static void s_up(troupe_ctx *cx, bridge *b, const troupe_msg *msg)
{
    const char *name, *tag;
    size_t name_len, tag_len;
    bool has_body = false;
    const void *body = NULL;
    size_t body_len = 0;
    int rc = troupe_msg_read(msg, "[ssbr]", &name, &name_len, &tag, &tag_len,
                             &has_body, &body, &body_len);
    if (rc) {
        if (msg->kind == TROUPE_MSG_REQUEST)
            troupe_reply_error(cx, msg, rc);
        return;
    }
    tr_link_forward(&b->link, cx, msg, name, name_len, tag, tag_len,
                    has_body ? body : NULL, has_body ? body_len : 0);
}

static int s_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    bridge *b = state;
    switch (msg->kind) {
    case TROUPE_MSG_DOWN:
        if (troupe_addr_eq(msg->from, b->hosted) && !b->ending)
            s_report_exit(cx, b, msg->code);
        return 0;
    case TROUPE_MSG_TIMER:
        if (troupe_msg_is(msg, "$retry"))
            s_retry(cx, b);
        return 0;
    case TROUPE_MSG_TELL:
    case TROUPE_MSG_REQUEST:
        if (troupe_msg_is(msg, "$up")) {
            s_up(cx, b, msg);
        } else if (troupe_msg_is(msg, "$go") && !b->hosted.slot) {
            int rc = 0;
            unsigned slot = 0, inc = 0;
            troupe_msg_read(msg, "{s:i s:u s:u}", "rc", &rc, "slot", &slot,
                            "inc", &inc);
            if (rc) {
                s_report_exit(cx, b, rc);
                return 0;
            }
            b->hosted = (troupe_addr){0, slot, inc};
            troupe_monitor(cx, b->hosted, NULL);
            tr_link_control(&b->link, "$hello", "{s:i}", "pid", (int)getpid());
        }
        return 0;
    default:
        return 0;
    }
}

static void s_fini(void *state, int reason)
{
    (void)reason;
    bridge *b = state;
    if (!b->sock)
        return;
    tr_io_unwatch_sock(b->port, b->sock);
    b->holding = 0; // the actor is gone: so is what it did not take
    tr_link_fini(&b->link);
    tr_sock_close(&b->port->node->zctx, &b->sock); // lingers: "$exit" leaves
}

static int s_serve(const troupe_proc_kind *k, bridge_ctl *ctl)
{
    troupe_node_opts o;
    if (k->opts)
        o = *k->opts;
    else {
        troupe_node_opts_init(&o);
        o.loops = 1;
    }
    troupe_node *n;
    if (troupe_node_new(&n, &o) != 0)
        return 1;
    troupe_client *cl = NULL;
    troupe_actor_spec bs = troupe_actor_spec_default();
    bs.handler = s_handler;
    bs.init = s_init;
    bs.fini = s_fini;
    bs.state_size = sizeof(bridge);
    bs.arg = ctl;
    // On the loop of a shared actor: frames reach it with no thread hop.
    bs.placement = TROUPE_SHARED;
    bs.loop = TROUPE_LOOP(0);
    troupe_addr br, hosted = TROUPE_ADDR_NONE;
    int code = 1;
    if (troupe_client_new(n, &cl) != 0 ||
        troupe_node_spawn(n, &bs, troupe_deadline_in(5000), &br) != 0)
        goto out;
    n->uplink = br; // before the actor exists: it may send up at once
    troupe_actor_spec as = k->actor;
    if (as.placement == TROUPE_SHARED && as.loop == TROUPE_LOOP_AUTO)
        as.loop = TROUPE_LOOP(0); // beside the bridge
    int rc = troupe_node_spawn(n, &as, troupe_deadline_in(60000), &hosted);
    uint64_t ref;
    troupe_client_monitor(cl, br, &ref);
    troupe_client_tell(cl, br, "$go", "{s:i s:u s:u}", "rc", rc, "slot",
                       rc ? 0u : hosted.slot, "inc",
                       rc ? 0u : hosted.incarnation);
    // Until the bridge ends, every half heartbeat: tell the parent we live
    // (from this thread, whatever the actor's loop does, unless the actor
    // is stuck in a handler past its own budget: then silence, and the
    // parent replaces the process), and check that the parent still does.
    int64_t every = ctl->hb_ms > 1 ? ctl->hb_ms / 2 : 500;
    bool stopping = false;
    for (;;) {
        if (!stopping && getppid() != ctl->ppid) { // orphaned: end
            stopping = true;
            if (rc == 0)
                troupe_node_stop_actor(n, hosted, TROUPE_ESHUTDOWN);
        }
        if (ctl->alive_fd >= 0 &&
            !(ctl->budgeted && rc == 0 && tr_overrun_now(n, hosted)))
            (void)!write(ctl->alive_fd, "", 1);
        troupe_msg *m = NULL;
        if (troupe_client_recv(cl, troupe_deadline_in(every), &m) == 0) {
            bool down = troupe_msg_kind_of(m) == TROUPE_MSG_DOWN &&
                        troupe_msg_ref(m) == ref;
            troupe_msg_destroy(&m);
            if (down)
                break;
        }
    }
    code = ctl->exit_code;
out:
    troupe_client_destroy(&cl);
    troupe_node_stop(n, troupe_deadline_in(5000));
    troupe_node_destroy(&n);
    return code;
}

TROUPE_API bool troupe_proc_child(const troupe_proc_kind *kinds, size_t nk,
                                  int *exit_code)
{
    const char *ep = getenv(TR_PROC_ENV_ENDPOINT);
    const char *kind = getenv(TR_PROC_ENV_KIND);
    const char *ppid = getenv(TR_PROC_ENV_PPID);
    const char *hb = getenv(TR_PROC_ENV_HB);
    if (!ep || !kind || !ppid)
        return false;
    int code = 2;
    // If the thread that started us ends (the parent died), so do we; if
    // it already did, the parent is not who it was.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    const char *alive = getenv(TR_PROC_ENV_ALIVE);
    bridge_ctl ctl = {.endpoint = strdup(ep),
                      .ppid = (pid_t)strtol(ppid, NULL, 10),
                      .hb_ms = hb ? strtoll(hb, NULL, 10) : 0,
                      .alive_fd = alive ? (int)strtol(alive, NULL, 10) : -1};
    if (ctl.alive_fd >= 0) // not for our own children
        fcntl(ctl.alive_fd, F_SETFD, FD_CLOEXEC);
    char *want = strdup(kind);
    // Our own children are not process actors unless started as such.
    unsetenv(TR_PROC_ENV_ENDPOINT);
    unsetenv(TR_PROC_ENV_KIND);
    unsetenv(TR_PROC_ENV_PPID);
    unsetenv(TR_PROC_ENV_HB);
    unsetenv(TR_PROC_ENV_ALIVE);
    if (ctl.endpoint && want && getppid() == ctl.ppid) {
        for (size_t i = 0; kinds && i < nk; i++)
            if (kinds[i].kind && !strcmp(kinds[i].kind, want)) {
                ctl.budgeted = kinds[i].actor.budget_ms > 0;
                code = s_serve(&kinds[i], &ctl);
                break;
            }
    }
    free((char *)ctl.endpoint);
    free(want);
    if (ctl.alive_fd >= 0)
        close(ctl.alive_fd);
    if (exit_code)
        *exit_code = code;
    return true;
}
