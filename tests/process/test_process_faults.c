// SPDX-License-Identifier: MIT
//
// Process actors when things go wrong (docs/processes.md): children killed
// by SIGSEGV, SIGKILL and SIGSTOP under a one_for_one supervisor (only the
// failed one restarts, at the same address, on a fresh endpoint; what was
// sent meanwhile reaches the next child), requests in flight to a killed
// child (each ends: none is lost), a start that hangs, a child that ignores
// its stop, and a parent SIGKILLed (its children go with it). The children
// are this binary (main() serves them first, see proc_common.c).
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc_common.h"
#include "tr_actors.h"

// ---- a one_for_one supervisor over two process actors and a shared one ----

static troupe_proc_spec s_ps[2];
static troupe_child_spec s_kids[3];

// p1 and p2: process workers (p1 with heartbeat hb_ms); sh: a shared echo.
static troupe_addr s_sup_start(int64_t hb_ms, int64_t backoff_ms)
{
    for (int i = 0; i < 2; i++) {
        s_ps[i] = pt_proc("worker");
        troupe_child_spec_init(&s_kids[i]);
        s_kids[i].id = i == 0 ? "p1" : "p2";
        s_kids[i].actor = pt_actor(&s_ps[i], i == 0 ? "p1" : "p2");
        s_kids[i].start_timeout_ms = pt_ms(6000); // past the child's own
    }
    s_ps[0].heartbeat_ms = hb_ms;
    troupe_child_spec_init(&s_kids[2]);
    s_kids[2].id = "sh";
    s_kids[2].actor = tr_echo_spec(TROUPE_SHARED, NULL);
    troupe_sup_spec s;
    troupe_sup_spec_init(&s);
    s.strategy = TROUPE_ONE_FOR_ONE;
    s.children = s_kids;
    s.n_children = 3;
    s.intensity = 10;
    s.backoff_min_ms = backoff_ms;
    s.backoff_max_ms = backoff_ms;
    troupe_addr sup;
    TR_CK_OK(
        troupe_node_sup_start(node, &s, troupe_deadline_in(pt_ms(8000)), &sup));
    return sup;
}

static troupe_addr s_child(troupe_addr sup, const char *id)
{
    troupe_addr a;
    // A child being restarted is not RUNNING for a moment: ask again.
    int rc;
    int64_t until = troupe_deadline_in(pt_ms(5000));
    while ((rc = troupe_sup_which_child(node, sup, id, until, &a)) ==
               TROUPE_EAGAIN &&
           troupe_now() < until)
        ;
    TR_CK_OK(rc);
    return a;
}

static troupe_sup_stats s_stats(troupe_addr sup)
{
    troupe_sup_stats st;
    TR_CK_OK(
        troupe_sup_stats_get(node, sup, troupe_deadline_in(pt_ms(5000)), &st));
    return st;
}

// The heartbeat of the children that SIGSTOP tests stop: short, so that
// the test is quick, and not so short that a loaded machine gets a child
// that merely waited for a CPU taken for hung.
static int64_t s_stop_hb(void)
{
    return pt_ms(200) < 800 ? pt_ms(200) : 800;
}

typedef enum s_how {
    S_SEGV,
    S_KILL,
    S_STOP
} s_how;

// Crash p1 as `how` says; check that only p1 was restarted, at the same
// address, with a new child that answers.
static void s_crash_p1(s_how how)
{
    troupe_addr sup = s_sup_start(how == S_STOP ? s_stop_hb() : pt_ms(2000), 0);
    troupe_addr p1 = s_child(sup, "p1"), p2 = s_child(sup, "p2");
    troupe_addr sh = s_child(sup, "sh");
    int pid1 = pt_pid(cl, p1), pid2 = pt_pid(cl, p2);
    ck_assert_int_ne(pid1, pid2);
    // A run of the siblings that ended would be a down message here.
    TR_CK_OK(troupe_client_monitor(cl, p2, NULL));
    TR_CK_OK(troupe_client_monitor(cl, sh, NULL));
    TR_CK_OK(troupe_client_monitor(cl, p1, NULL));
    int want = 0;
    switch (how) {
    case S_SEGV:
        TR_CK_OK(troupe_client_tell(cl, p1, "segv", NULL));
        want = TROUPE_EPROC_SIGNAL(SIGSEGV);
        break;
    case S_KILL:
        ck_assert_int_eq(kill(pid1, SIGKILL), 0);
        want = TROUPE_EPROC_SIGNAL(SIGKILL);
        break;
    case S_STOP: // alive but silent: the heartbeats catch it
        ck_assert_int_eq(kill(pid1, SIGSTOP), 0);
        want = TROUPE_ETIMEDOUT;
        break;
    }
    int reason = pt_down(cl, p1);
    ck_assert_msg(reason == want, "p1 ended with %d (%s), wanted %d (%s)",
                  reason, troupe_errname(reason), want, troupe_errname(want));
    // The proxy reaped the child before it ended (a stopped one after
    // killing it): that pid is gone.
    ck_assert_msg(pt_gone(pid1), "the old child %d is still there", pid1);
    // The same address answers again, from a new child, whose endpoint is
    // a new one (a request crossing proves the bind and connect).
    int npid = pt_pid(cl, p1);
    ck_assert_int_ne(npid, pid1);
    ck_assert_int_eq(npid, troupe_proc_pid(node, p1));
    ck_assert(troupe_addr_eq(s_child(sup, "p1"), p1));
    // The siblings were not touched: the same process, the same actor, no
    // run of theirs ended (its down message would have come before these
    // replies, from the same sender).
    ck_assert_int_eq(pt_pid(cl, p2), pid2);
    ck_assert(troupe_addr_eq(s_child(sup, "p2"), p2));
    ck_assert(troupe_addr_eq(s_child(sup, "sh"), sh));
    tr_check_echo(cl, sh, 7);
    troupe_msg *m = NULL;
    int rc = troupe_client_recv(cl, troupe_deadline_in(0), &m);
    ck_assert_msg(rc == TROUPE_ETIMEDOUT, "a sibling ended: %s from %u.%u",
                  m ? troupe_msg_tag(m) : "-",
                  m ? troupe_msg_sender(m).slot : 0,
                  m ? troupe_msg_sender(m).incarnation : 0);
    troupe_sup_stats st = s_stats(sup);
    // A child taken for hung is replaced: on a very loaded machine a
    // heartbeat as short as the SIGSTOP case's may replace the new p1 once
    // more.
    if (how == S_STOP) {
        ck_assert_uint_ge(st.restarts, 1);
    } else {
        ck_assert_uint_eq(st.restarts, 1);
        ck_assert_uint_eq(st.running, 3);
    }
    ck_assert_uint_eq(st.children, 3);
}

START_TEST(segv_in_a_supervised_child_restarts_only_that_child)
{
    s_crash_p1(S_SEGV);
}
END_TEST

START_TEST(sigkill_of_a_supervised_child_restarts_it_on_a_new_endpoint)
{
    s_crash_p1(S_KILL);
}
END_TEST

START_TEST(sigstop_is_caught_by_heartbeats_and_the_child_replaced)
{
    s_crash_p1(S_STOP);
}
END_TEST

START_TEST(sigstopped_child_ends_with_etimedout_and_is_killed)
{
    troupe_proc_spec ps = pt_proc("worker");
    ps.heartbeat_ms = s_stop_hb();
    troupe_addr w = pt_spawn(&ps, "w");
    int pid = pt_pid(cl, w);
    TR_CK_OK(troupe_client_monitor(cl, w, NULL));
    ck_assert_int_eq(kill(pid, SIGSTOP), 0);
    int reason = pt_down(cl, w);
    ck_assert_msg(reason == TROUPE_ETIMEDOUT, "ended with %d (%s)", reason,
                  troupe_errname(reason));
    ck_assert_msg(pt_gone(pid), "the stopped child %d is still there", pid);
    ck_assert_int_eq(troupe_proc_pid(node, w), 0);
    troupe_msg *r = NULL;
    TR_CK_ERR(
        troupe_call(cl, w, "pid", troupe_deadline_in(pt_ms(2000)), &r, NULL),
        TROUPE_EDEAD);
}
END_TEST

// CPU time of this process (all threads), and monotonic time, in ns.
static int64_t s_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t s_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

START_TEST(a_slow_exit_does_not_keep_the_proxy_busy)
{
    // A child whose node is done has closed its keepalive pipe, and may
    // take a while to exit (here 300 ms; a killed child's teardown takes
    // about 1 ms). A pipe at its end stays readable: the proxy once was
    // told so at every turn until the pidfd said the rest, and on two
    // cores that busy thread held a dying child back by up to 6 ms.
    troupe_proc_spec ps = pt_proc("worker");
    const char *argv[] = {"--linger-ms=300", NULL};
    ps.argv = argv;
    troupe_addr w = pt_spawn(&ps, "w");
    int pid = pt_pid(cl, w);
    TR_CK_OK(troupe_client_monitor(cl, w, NULL));
    int64_t cpu0 = s_cpu_ns(), t0 = s_wall_ns();
    TR_CK_OK(troupe_client_tell(cl, w, "normal", NULL));
    int reason = pt_down(cl, w);
    int64_t cpu = s_cpu_ns() - cpu0, wall = s_wall_ns() - t0;
    ck_assert_msg(reason == 0, "ended with %d (%s)", reason,
                  troupe_errname(reason));
    ck_assert_msg(pt_wait_exit(pid, pt_ms(5000)), "child %d still there", pid);
    ck_assert_msg(wall >= 300000000,
                  "the down came %lld ms after the end, "
                  "before the child's exit",
                  (long long)(wall / 1000000));
    // Waiting for the pidfd is idle; a thread told of the pipe at every
    // turn would have spent about all of that time.
    ck_assert_msg(cpu < wall / 2,
                  "%lld ms of CPU in the %lld ms until the down: a busy "
                  "proxy",
                  (long long)(cpu / 1000000), (long long)(wall / 1000000));
}
END_TEST

START_TEST(busy_handler_is_not_taken_for_hung)
{
    // The child's keepalives come from its bridge, whatever its actor does:
    // a handler computing for three heartbeats is not a hung process.
    troupe_proc_spec ps = pt_proc("worker");
    ps.heartbeat_ms = s_stop_hb();
    troupe_addr w = pt_spawn(&ps, NULL);
    int pid = pt_pid(cl, w);
    TR_CK_OK(troupe_client_monitor(cl, w, NULL));
    troupe_msg *r = NULL;
    int rc = troupe_call(cl, w, "busy", troupe_deadline_in(pt_ms(10000)), &r,
                         "[I]", 3 * ps.heartbeat_ms);
    ck_assert_msg(rc == 0, "the busy child's call ended with %s",
                  troupe_errname(rc));
    int from = 0;
    TR_CK_OK(troupe_msg_read(r, "i", &from));
    troupe_msg_destroy(&r);
    ck_assert_int_eq(from, pid);
    ck_assert_int_eq(pt_pid(cl, w), pid);
    TR_CK_ERR(troupe_client_recv(cl, troupe_deadline_in(0), &r),
              TROUPE_ETIMEDOUT); // no down message
}
END_TEST

START_TEST(messages_sent_while_the_child_is_down_reach_the_next_one)
{
    int64_t backoff = pt_ms(300) < 1000 ? pt_ms(300) : 1000;
    troupe_addr sup = s_sup_start(pt_ms(2000), backoff);
    troupe_addr p1 = s_child(sup, "p1");
    for (int i = 0; i < 3; i++)
        TR_CK_OK(troupe_client_tell(cl, p1, "tick", NULL));
    troupe_msg *r = NULL;
    int64_t n = -1;
    TR_CK_OK(troupe_call(cl, p1, "count", troupe_deadline_in(pt_ms(5000)), &r,
                         NULL));
    TR_CK_OK(troupe_msg_read(r, "I", &n));
    troupe_msg_destroy(&r);
    ck_assert_int_eq(n, 3);
    int pid = pt_pid(cl, p1);
    TR_CK_OK(troupe_client_monitor(cl, p1, NULL));
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    ck_assert_int_eq(pt_down(cl, p1), TROUPE_EPROC_SIGNAL(SIGKILL));
    // Down now, for at least backoff / 2: these wait in the proxy's
    // mailbox, and the count below waits behind them.
    for (int i = 0; i < 10; i++)
        TR_CK_OK(troupe_client_tell(cl, p1, "tick", NULL));
    ck_assert_msg(troupe_proc_pid(node, p1) == 0,
                  "a new child was up before the tells were sent: the test "
                  "did not test the restart window");
    TR_CK_OK(troupe_call(cl, p1, "count",
                         troupe_deadline_in(pt_ms(5000) + backoff), &r, NULL));
    TR_CK_OK(troupe_msg_read(r, "I", &n));
    troupe_msg_destroy(&r);
    ck_assert_int_eq(n, 10); // the new child's count: all of them, no more
    int npid = pt_pid(cl, p1);
    ck_assert_int_ne(npid, pid);
    ck_assert_uint_eq(s_stats(sup).restarts, 1);
}
END_TEST

// ---- requests in flight ----

#define S_REQS 200
#define S_KILL_AT 20 // held requests when the child is killed

START_TEST(requests_in_flight_to_a_killed_child_each_end)
{
    troupe_client *sink;
    TR_CK_OK(troupe_client_new(node, &sink));
    TR_CK_OK(troupe_register(node, "parent-sink", troupe_client_addr(sink)));
    troupe_proc_spec ps = pt_proc("worker");
    troupe_addr w = pt_spawn(&ps, NULL);
    int pid = pt_pid(cl, w);
    // Even: "echo", answered at once. Odd: "hold", never answered (the
    // child tells "parent-sink" when it holds S_KILL_AT of them).
    troupe_gather *g;
    TR_CK_OK(troupe_client_gather_new(cl, TROUPE_GATHER_ALL, 0,
                                      troupe_deadline_in(pt_ms(8000)), &g));
    for (int i = 0; i < S_REQS; i++) {
        int k = i % 2
                    ? troupe_gather_request(g, w, "hold", "[ii]", i, S_KILL_AT)
                    : troupe_gather_request(g, w, "echo", "[i]", i);
        ck_assert_int_eq(k, i);
    }
    troupe_msg *m = NULL;
    TR_CK_OK(troupe_client_recv(sink, troupe_deadline_in(pt_ms(5000)), &m));
    ck_assert_str_eq(troupe_msg_tag(m), "held");
    troupe_msg_destroy(&m);
    ck_assert_int_eq(kill(pid, SIGKILL), 0); // the others still come in
    int rc = troupe_gather_wait(g);
    ck_assert_msg(rc == TROUPE_EDEAD, "gather ended with %s",
                  troupe_errname(rc));
    size_t ok = troupe_gather_count(g, 0);
    size_t dead = troupe_gather_count(g, TROUPE_EDEAD);
    ck_assert_msg(ok + dead == S_REQS,
                  "%zu replies + %zu TROUPE_EDEAD of %d: %zu timed out, "
                  "%zu TROUPE_EFULL",
                  ok, dead, S_REQS, troupe_gather_count(g, TROUPE_ETIMEDOUT),
                  troupe_gather_count(g, TROUPE_EFULL));
    for (int i = 0; i < S_REQS; i++) {
        int st = troupe_gather_status(g, (size_t)i);
        if (i % 2) {
            ck_assert_msg(st == TROUPE_EDEAD, "hold %d ended with %s", i,
                          troupe_errname(st));
        } else if (st == 0) { // an answer is the answer to this request
            int x = -1;
            TR_CK_OK(
                troupe_msg_read(troupe_gather_reply(g, (size_t)i), "[i]", &x));
            ck_assert_int_eq(x, i);
        }
    }
    ck_assert_int_ge(dead, S_REQS / 2);
    troupe_gather_destroy(&g);
    troupe_client_destroy(&sink);
}
END_TEST

// ---- starts and stops ----

START_TEST(start_that_hangs_times_out_and_leaves_no_process)
{
    char pidfile[256], arg[300];
    snprintf(pidfile, sizeof pidfile, "%s/hang.pid", pt_tmp);
    snprintf(arg, sizeof arg, "--pidfile=%s", pidfile);
    const char *argv[] = {arg, NULL};
    troupe_proc_spec ps = pt_proc("hang-init");
    ps.argv = argv;
    ps.start_timeout_ms = pt_ms(250);
    troupe_actor_spec s = pt_actor(&ps, "hung");
    troupe_addr a;
    int64_t t0 = troupe_now();
    TR_CK_ERR(troupe_node_spawn(node, &s, troupe_deadline_in(pt_ms(8000)), &a),
              TROUPE_ETIMEDOUT);
    ck_assert_int_ge(troupe_now() - t0, ps.start_timeout_ms);
    FILE *f = fopen(pidfile, "r");
    ck_assert_msg(f != NULL, "the child never wrote %s", pidfile);
    long pid = 0;
    ck_assert_int_eq(fscanf(f, "%ld", &pid), 1);
    fclose(f);
    ck_assert_int_gt(pid, 0);
    ck_assert_int_ne(pid, getpid());
    // Killed and reaped before the spawn returned.
    ck_assert_msg(pt_gone((pid_t)pid), "the hung child %ld is still there",
                  pid);
    TR_CK_ERR(troupe_whereis(node, "hung", &a), TROUPE_ENOENT);
}
END_TEST

START_TEST(child_ignoring_its_stop_is_killed_at_shutdown_ms)
{
    troupe_proc_spec ps = pt_proc("stubborn");
    ps.shutdown_ms = 300;
    troupe_addr w = pt_spawn(&ps, NULL);
    troupe_msg *r = NULL;
    TR_CK_OK(troupe_call(cl, w, "block", troupe_deadline_in(pt_ms(5000)), &r,
                         NULL)); // answered, and now never returns
    int pid = 0;
    TR_CK_OK(troupe_msg_read(r, "i", &pid));
    troupe_msg_destroy(&r);
    ck_assert_int_eq(pid, troupe_proc_pid(node, w));
    TR_CK_OK(troupe_client_monitor(cl, w, NULL));
    int64_t t0 = troupe_now();
    TR_CK_OK(troupe_node_stop_actor(node, w, TROUPE_ESHUTDOWN));
    ck_assert_int_eq(pt_down(cl, w), TROUPE_ESHUTDOWN);
    // The proxy stops its child before it ends: its down message comes
    // once the process is gone (reaped), not before.
    ck_assert_msg(pt_gone(pid), "down before the stubborn child %d ended", pid);
    // Neither "$stop" nor SIGTERM (at half) ended it: SIGKILL did, at
    // shutdown_ms.
    ck_assert_int_ge(troupe_now() - t0, ps.shutdown_ms);
}
END_TEST

START_TEST(supervisor_stops_process_children_in_reverse_order)
{
    // Two children that ignore their stop: each takes shutdown_ms to be
    // killed, and the supervisor asks the first only once the second is
    // gone, as OTP stops children in reverse start order.
    troupe_proc_spec ps[2];
    troupe_child_spec kids[2];
    const char *ids[2] = {"a", "b"};
    for (int i = 0; i < 2; i++) {
        ps[i] = pt_proc("stubborn");
        ps[i].shutdown_ms = 300;
        troupe_child_spec_init(&kids[i]);
        kids[i].id = ids[i];
        kids[i].actor = pt_actor(&ps[i], ids[i]);
        kids[i].start_timeout_ms = pt_ms(6000);
    }
    troupe_sup_spec s;
    troupe_sup_spec_init(&s);
    s.children = kids;
    s.n_children = 2;
    troupe_addr sup;
    TR_CK_OK(
        troupe_node_sup_start(node, &s, troupe_deadline_in(pt_ms(8000)), &sup));
    int pid[2];
    for (int i = 0; i < 2; i++) {
        troupe_msg *r = NULL;
        TR_CK_OK(troupe_call_name(cl, ids[i], "block",
                                  troupe_deadline_in(pt_ms(5000)), &r, NULL));
        TR_CK_OK(troupe_msg_read(r, "i", &pid[i]));
        troupe_msg_destroy(&r);
    }
    TR_CK_OK(troupe_client_monitor(cl, sup, NULL));
    TR_CK_OK(troupe_node_stop_actor(node, sup, TROUPE_ESHUTDOWN));
    ck_assert_msg(pt_wait_exit(pid[1], pt_ms(5000)), "b (%d) still runs",
                  pid[1]);
    // b went first; a is asked to stop only now, and needs shutdown_ms.
    ck_assert_msg(!pt_gone(pid[0]), "a (%d) ended before b was gone", pid[0]);
    pt_down(cl, sup);
    ck_assert_msg(pt_gone(pid[0]), "the supervisor ended before a (%d)",
                  pid[0]);
}
END_TEST

START_TEST(node_stop_kills_a_child_ignoring_its_stop)
{
    troupe_proc_spec ps = pt_proc("stubborn");
    ps.shutdown_ms = 300;
    troupe_addr w = pt_spawn(&ps, NULL);
    troupe_msg *r = NULL;
    TR_CK_OK(
        troupe_call(cl, w, "block", troupe_deadline_in(pt_ms(5000)), &r, NULL));
    int pid = 0;
    TR_CK_OK(troupe_msg_read(r, "i", &pid));
    troupe_msg_destroy(&r);
    troupe_client_destroy(&cl);
    int64_t t0 = troupe_now();
    TR_CK_OK(troupe_node_stop(node, troupe_deadline_in(pt_ms(5000))));
    // The stop waited for the proxy's fini: killed and reaped.
    ck_assert_msg(pt_gone(pid), "the stubborn child %d is still there", pid);
    ck_assert_int_ge(troupe_now() - t0, ps.shutdown_ms);
}
END_TEST

// ---- a parent SIGKILLed ----

#define S_ORPHANS 3

// True if dir has an entry whose name starts with prefix.
static bool s_has_entry(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)))
        found = strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return found;
}

// The parent to be killed: a node with S_ORPHANS process actors, whose
// pids go to fd; then it waits to be killed. Never returns to Check.
static void s_doomed_parent(int fd, pid_t test)
{
    // Should the test fail before it kills us, we and ours go with it.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != test)
        _exit(1);
    troupe_node_opts o;
    troupe_node_opts_init(&o);
    o.loops = 1;
    troupe_node *n;
    if (troupe_node_new(&n, &o) != 0)
        _exit(2);
    troupe_proc_spec ps = pt_proc("worker");
    troupe_actor_spec s = pt_actor(&ps, NULL);
    int pids[S_ORPHANS];
    for (int i = 0; i < S_ORPHANS; i++) {
        troupe_addr a;
        if (troupe_node_spawn(n, &s, troupe_deadline_in(pt_ms(8000)), &a) != 0)
            _exit(3);
        pids[i] = troupe_proc_pid(n, a);
    }
    if (write(fd, pids, sizeof pids) != (ssize_t)sizeof pids)
        _exit(4);
    for (;;)
        pause();
}

START_TEST(parent_killed_takes_its_children_along)
{
    // The orphans come to us (not to an init that may not reap them), so
    // that we can see them end and reap them.
    ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t test = getpid();
    pid_t parent = fork(); // no node or thread here yet: a plain fork
    ck_assert_int_ge(parent, 0);
    if (parent == 0) {
        close(fds[0]);
        s_doomed_parent(fds[1], test);
    }
    close(fds[1]);
    int pids[S_ORPHANS];
    size_t got = 0;
    int64_t until = troupe_deadline_in(pt_ms(8000));
    while (got < sizeof pids) {
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        int64_t left = until - troupe_now();
        ck_assert_msg(left > 0 && poll(&p, 1, (int)left) == 1,
                      "the parent did not report its children in time");
        ssize_t k = read(fds[0], (char *)pids + got, sizeof pids - got);
        ck_assert_msg(k > 0, "the parent died before it reported");
        got += (size_t)k;
    }
    close(fds[0]);
    int pfd[S_ORPHANS];
    for (int i = 0; i < S_ORPHANS; i++) {
        ck_assert_int_gt(pids[i], 0);
        pfd[i] = (int)syscall(SYS_pidfd_open, pids[i], 0);
        ck_assert_msg(pfd[i] >= 0, "child %d: %s", pids[i], strerror(errno));
    }
    ck_assert_int_eq(kill(parent, SIGKILL), 0);
    int status;
    ck_assert_int_eq(waitpid(parent, &status, 0), parent);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    for (int i = 0; i < S_ORPHANS; i++) {
        struct pollfd p = {.fd = pfd[i], .events = POLLIN};
        ck_assert_msg(poll(&p, 1, (int)pt_ms(5000)) == 1,
                      "child %d outlived its killed parent", pids[i]);
        close(pfd[i]);
        // Ended: reap it (it is ours now) so that its pid is gone too.
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert(pt_gone(pids[i]));
    }
    // The killed parent's runtime directory is still there; the next node
    // of this user that starts a process actor removes it.
    char stale[32];
    snprintf(stale, sizeof stale, "%ld.", (long)parent);
    ck_assert_msg(s_has_entry(pt_rundir, stale), "no %s* in %s", stale,
                  pt_rundir);
    node = tr_node_new(1);
    troupe_proc_spec ps = pt_proc("worker");
    pt_spawn(&ps, NULL);
    ck_assert_msg(!s_has_entry(pt_rundir, stale),
                  "the killed parent's %s* is still in %s", stale, pt_rundir);
    tr_node_destroy_clean(&node);
}
END_TEST

Suite *make_suite(void);
Suite *make_suite(void)
{
    Suite *s = suite_create("process_faults");
    TCase *tc = tcase_create("supervised");
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_checked_fixture(tc, pt_setup, pt_teardown);
    tcase_add_test(tc, segv_in_a_supervised_child_restarts_only_that_child);
    tcase_add_test(tc,
                   sigkill_of_a_supervised_child_restarts_it_on_a_new_endpoint);
    tcase_add_test(tc, sigstop_is_caught_by_heartbeats_and_the_child_replaced);
    tcase_add_test(tc, sigstopped_child_ends_with_etimedout_and_is_killed);
    tcase_add_test(tc, a_slow_exit_does_not_keep_the_proxy_busy);
    tcase_add_test(tc, busy_handler_is_not_taken_for_hung);
    tcase_add_test(tc,
                   messages_sent_while_the_child_is_down_reach_the_next_one);
    tcase_add_test(tc, requests_in_flight_to_a_killed_child_each_end);
    suite_add_tcase(s, tc);

    tc = tcase_create("starts and stops");
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_checked_fixture(tc, pt_setup, pt_teardown);
    tcase_add_test(tc, start_that_hangs_times_out_and_leaves_no_process);
    tcase_add_test(tc, child_ignoring_its_stop_is_killed_at_shutdown_ms);
    tcase_add_test(tc, node_stop_kills_a_child_ignoring_its_stop);
    tcase_add_test(tc, supervisor_stops_process_children_in_reverse_order);
    suite_add_tcase(s, tc);

    tc = tcase_create("orphans");
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_checked_fixture(tc, pt_env_setup, pt_env_teardown);
    tcase_add_test(tc, parent_killed_takes_its_children_along);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    return pt_main(argc, argv, make_suite);
}
