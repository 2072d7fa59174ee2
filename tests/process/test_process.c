// SPDX-License-Identifier: MIT
//
// Process actors (troupe/process.h): actors in child processes of this very
// test binary (main() serves them first, see proc_common.c), reached with
// the ordinary calls. This suite: messages both ways (by address and by
// name), exit reasons and their decoding, the private runtime directory
// (mode, stale ones swept, endpoints that cannot be taken over), no fd
// left behind by 64 children, and the pidfd layer (tr_child) that never
// signals a PID number. Crashes, hangs and supervision are in
// test_process_faults.c.
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc_common.h"
#include "proc_shim.h"
#include "tr_actors.h"

// ---- messages both ways ----

START_TEST(request_reaches_the_child_and_comes_back)
{
    troupe_proc_spec ps = pt_proc("worker");
    troupe_addr w = pt_spawn(&ps, "w");
    int pid = pt_pid(cl, w);
    ck_assert_int_eq(pid, troupe_proc_pid(node, w));
    ck_assert_int_eq(troupe_proc_pid(node, troupe_client_addr(cl)), 0);
    troupe_msg *r;
    TR_CK_OK(troupe_call_name(cl, "w", "echo", troupe_deadline_in(pt_ms(5000)),
                              &r, "{s:s}", "k", "v"));
    const char *v;
    size_t vn;
    TR_CK_OK(troupe_msg_read(r, "{s:s}", "k", &v, &vn));
    ck_assert_int_eq((int)vn, 1);
    ck_assert_int_eq(v[0], 'v');
    troupe_msg_destroy(&r);
}
END_TEST

START_TEST(a_child_behind_holds_its_senders_back_and_not_the_loop)
{
    // The child's actor naps (takes nothing until SIGUSR1) with a mailbox
    // of 8: its bridge stops reading, the link's pipe fills, the proxy
    // keeps the frame it could not send and holds its own mailbox (64
    // here), and the sender gets TROUPE_EFULL. The proxy's loop is not
    // blocked meanwhile, and nothing accepted is lost.
    troupe_proc_spec ps = pt_proc("small-mailbox");
    troupe_actor_spec s = pt_actor(&ps, "behind");
    s.mailbox_bound = 64;
    s.loop = TROUPE_LOOP(0);
    troupe_addr w;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(pt_ms(8000)), &w));
    int pid = pt_pid(cl, w);
    troupe_actor_spec es = tr_echo_spec(TROUPE_SHARED, NULL);
    es.loop = TROUPE_LOOP(0);
    troupe_addr echo;
    TR_CK_OK(troupe_node_spawn(node, &es, troupe_deadline_in(5000), &echo));
    TR_CK_OK(troupe_client_tell(cl, w, "nap", NULL));
    int64_t sent = 0, refused = 0;
    int64_t until = troupe_now() + pt_ms(30000);
    while (refused == 0 && troupe_now() < until) {
        int rc = troupe_client_tell(cl, w, "tick", NULL);
        if (rc == TROUPE_EFULL) {
            refused++;
            continue;
        }
        TR_CK_OK(rc);
        sent++;
    }
    ck_assert_msg(refused > 0, "no TROUPE_EFULL after %lld tells",
                  (long long)sent);
    tr_check_echo(cl, echo, 5); // the loop beside the proxy answers
    ck_assert_int_eq(kill(pid, SIGUSR1), 0);
    // "count" queues behind every accepted "tick": retried while full.
    troupe_msg *r = NULL;
    int rc;
    until = troupe_now() + pt_ms(30000);
    while ((rc = troupe_call(cl, w, "count", troupe_deadline_in(pt_ms(30000)),
                             &r, NULL)) == TROUPE_EFULL &&
           troupe_now() < until)
        sched_yield();
    TR_CK_OK(rc);
    int64_t ticks = -1;
    TR_CK_OK(troupe_msg_read(r, "I", &ticks));
    troupe_msg_destroy(&r);
    ck_assert_int_eq(ticks, sent);
}
END_TEST

START_TEST(segfault_is_the_exit_reason_and_requests_end)
{
    troupe_proc_spec ps = pt_proc("worker");
    troupe_addr w = pt_spawn(&ps, "w");
    int pid = pt_pid(cl, w);
    TR_CK_OK(troupe_client_monitor(cl, w, NULL));
    troupe_msg *r = NULL;
    TR_CK_ERR(
        troupe_call(cl, w, "segv", troupe_deadline_in(pt_ms(5000)), &r, NULL),
        TROUPE_EDEAD);
    int reason = pt_down(cl, w);
    ck_assert_int_eq(troupe_proc_signal_of(reason), SIGSEGV);
    ck_assert_int_eq(reason, TROUPE_EPROC_SIGNAL(SIGSEGV));
    ck_assert(pt_gone(pid));
    ck_assert_int_eq(troupe_proc_pid(node, w), 0);
}
END_TEST

START_TEST(child_tells_a_name_that_only_the_parent_knows)
{
    TR_CK_OK(troupe_register(node, "parent-sink", troupe_client_addr(cl)));
    troupe_proc_spec ps = pt_proc("worker");
    troupe_addr w = pt_spawn(&ps, NULL);
    int pid = pt_pid(cl, w);
    TR_CK_OK(troupe_client_tell(cl, w, "up", NULL));
    troupe_msg *m = NULL;
    TR_CK_OK(troupe_client_recv(cl, troupe_deadline_in(pt_ms(5000)), &m));
    ck_assert_int_eq(troupe_msg_kind_of(m), TROUPE_MSG_TELL);
    ck_assert_str_eq(troupe_msg_tag(m), "from-child");
    ck_assert(troupe_addr_eq(troupe_msg_sender(m), w)); // as the proxy
    int from = 0;
    TR_CK_OK(troupe_msg_read(m, "i", &from));
    ck_assert_int_eq(from, pid);
    troupe_msg_destroy(&m);
}
END_TEST

START_TEST(child_requests_a_parent_actor_by_name_and_gets_its_reply)
{
    troupe_actor_spec es = tr_echo_spec(TROUPE_SHARED, NULL);
    es.name = "parent-echo";
    troupe_addr e;
    TR_CK_OK(troupe_node_spawn(node, &es, troupe_deadline_in(pt_ms(5000)), &e));
    troupe_proc_spec ps = pt_proc("worker");
    troupe_addr w = pt_spawn(&ps, NULL);
    troupe_msg *r = NULL;
    // Child -> "$up" -> proxy -> parent-echo, and the reply back down.
    TR_CK_OK(troupe_call(cl, w, "upcall", troupe_deadline_in(pt_ms(5000)), &r,
                         "[ssI]", "parent-echo", "echo", (int64_t)41));
    int64_t x = 0;
    TR_CK_OK(troupe_msg_read(r, "{s:I}", "x", &x));
    ck_assert_int_eq(x, 42);
    troupe_msg_destroy(&r);
    // The parent actor's error reply comes down unchanged ("fail" replies
    // TROUPE_EUSER), and is passed on to us.
    TR_CK_ERR(troupe_call(cl, w, "upcall", troupe_deadline_in(pt_ms(5000)), &r,
                          "[ssI]", "parent-echo", "fail", (int64_t)1),
              TROUPE_EUSER);
    // A name the parent does not know either: TROUPE_ENOENT.
    TR_CK_ERR(troupe_call(cl, w, "upcall", troupe_deadline_in(pt_ms(5000)), &r,
                          "[ssI]", "nobody-here", "echo", (int64_t)1),
              TROUPE_ENOENT);
    ck_assert_int_eq(pt_pid(cl, w), troupe_proc_pid(node, w)); // still up
}
END_TEST

// ---- exit reasons ----

START_TEST(handler_error_in_the_child_is_the_exact_down_reason)
{
    troupe_proc_spec ps = pt_proc("worker");
    troupe_addr w = pt_spawn(&ps, NULL);
    int pid = pt_pid(cl, w);
    TR_CK_OK(troupe_client_monitor(cl, w, NULL));
    TR_CK_OK(troupe_client_tell(cl, w, "fail", NULL));
    int reason = pt_down(cl, w);
    ck_assert_msg(reason == TROUPE_EUSER - 7, "down reason %d (%s)", reason,
                  troupe_errname(reason));
    ck_assert_int_eq(troupe_proc_signal_of(reason), 0);
    ck_assert_int_eq(troupe_proc_status_of(reason), 0);
    ck_assert(pt_gone(pid));
    // An actor that ends normally: reason 0, exit status 0.
    troupe_addr w2 = pt_spawn(&ps, NULL);
    TR_CK_OK(troupe_client_monitor(cl, w2, NULL));
    TR_CK_OK(troupe_client_tell(cl, w2, "normal", NULL));
    ck_assert_int_eq(pt_down(cl, w2), 0);
}
END_TEST

START_TEST(init_error_in_the_child_is_the_spawn_error)
{
    troupe_proc_spec ps = pt_proc("fail-init");
    troupe_actor_spec s = pt_actor(&ps, "f");
    troupe_addr a;
    TR_CK_ERR(troupe_node_spawn(node, &s, troupe_deadline_in(pt_ms(5000)), &a),
              TROUPE_EUSER - 3);
    TR_CK_ERR(troupe_whereis(node, "f", &a), TROUPE_ENOENT);
}
END_TEST

START_TEST(unknown_kind_exits_with_status_2)
{
    troupe_proc_spec ps = pt_proc("no-such-kind");
    troupe_actor_spec s = pt_actor(&ps, NULL);
    troupe_addr a;
    int rc = troupe_node_spawn(node, &s, troupe_deadline_in(pt_ms(5000)), &a);
    ck_assert_msg(rc == TROUPE_EPROC_EXIT(2), "spawn returned %d (%s)", rc,
                  troupe_errname(rc));
    ck_assert_int_eq(troupe_proc_status_of(rc), 2);
    ck_assert_int_eq(troupe_proc_signal_of(rc), 0);
    ck_assert_str_eq(troupe_errname(rc), "TROUPE_EPROC_EXIT");
}
END_TEST

START_TEST(other_programs_fail_the_start_with_what_they_did)
{
    troupe_actor_spec s;
    troupe_addr a;
    // A program that exits at once, without a word: its status.
    troupe_proc_spec ps = pt_proc("worker");
    ps.program = "/bin/false";
    s = pt_actor(&ps, NULL);
    TR_CK_ERR(troupe_node_spawn(node, &s, troupe_deadline_in(pt_ms(5000)), &a),
              TROUPE_EPROC_EXIT(1));
    // A program killed by a signal before its hello: the signal.
    const char *args[] = {"-c", "kill -TERM $$", NULL};
    ps.program = "/bin/sh";
    ps.argv = args;
    s = pt_actor(&ps, NULL);
    TR_CK_ERR(troupe_node_spawn(node, &s, troupe_deadline_in(pt_ms(5000)), &a),
              TROUPE_EPROC_SIGNAL(SIGTERM));
    // No such program.
    ps.program = "/nonexistent/troupe-child";
    ps.argv = NULL;
    s = pt_actor(&ps, NULL);
    TR_CK_ERR(troupe_node_spawn(node, &s, troupe_deadline_in(pt_ms(5000)), &a),
              TROUPE_ENOENT);
    // A process spec without a kind, or with handlers of the parent's.
    ps = pt_proc(NULL);
    s = pt_actor(&ps, NULL);
    TR_CK_ERR(troupe_node_spawn(node, &s, troupe_deadline_in(pt_ms(5000)), &a),
              TROUPE_EINVAL);
    ps = pt_proc("worker");
    s = pt_actor(&ps, NULL);
    s.handler = tr_echo_handler;
    TR_CK_ERR(troupe_node_spawn(node, &s, troupe_deadline_in(pt_ms(5000)), &a),
              TROUPE_EINVAL);
    s = pt_actor(NULL, NULL);
    TR_CK_ERR(troupe_node_spawn(node, &s, troupe_deadline_in(pt_ms(5000)), &a),
              TROUPE_EINVAL);
}
END_TEST

START_TEST(exit_reason_codes_decode)
{
    for (int sig = 1; sig <= 64; sig++) {
        int r = TROUPE_EPROC_SIGNAL(sig);
        ck_assert_int_eq(troupe_proc_signal_of(r), sig);
        ck_assert_int_eq(troupe_proc_status_of(r), 0);
        ck_assert_str_eq(troupe_errname(r), "TROUPE_EPROC_SIGNAL");
        ck_assert_str_eq(troupe_strerror(r),
                         "process actor killed by a signal");
    }
    for (int st = 1; st <= 255; st++) {
        int r = TROUPE_EPROC_EXIT(st);
        ck_assert_int_eq(troupe_proc_status_of(r), st);
        ck_assert_int_eq(troupe_proc_signal_of(r), 0);
        ck_assert_str_eq(troupe_errname(r), "TROUPE_EPROC_EXIT");
    }
    // Just outside the ranges, and codes of other kinds.
    const int others[] = {0,
                          TROUPE_EPROC_SIGNAL(0),
                          TROUPE_EPROC_SIGNAL(65),
                          TROUPE_EPROC_EXIT(0),
                          TROUPE_EPROC_EXIT(256),
                          TROUPE_EDEAD,
                          TROUPE_ETIMEDOUT,
                          TROUPE_EUSER - 7,
                          TROUPE_EUSER - 3};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        ck_assert_int_eq(troupe_proc_signal_of(others[i]), 0);
        ck_assert_int_eq(troupe_proc_status_of(others[i]), 0);
    }
    ck_assert_str_ne(troupe_errname(TROUPE_EPROC_EXIT(0)), "TROUPE_EPROC_EXIT");
    ck_assert_str_ne(troupe_errname(TROUPE_EPROC_SIGNAL(65)),
                     "TROUPE_EPROC_SIGNAL");
    ck_assert_str_eq(troupe_errname(TROUPE_ETIMEDOUT), "TROUPE_ETIMEDOUT");
    // The spec's defaults.
    troupe_proc_spec ps;
    memset(&ps, 0xff, sizeof ps);
    troupe_proc_spec_init(&ps);
    ck_assert_ptr_null(ps.kind);
    ck_assert_ptr_null(ps.program);
    ck_assert_ptr_null(ps.argv);
    ck_assert_int_eq(ps.heartbeat_ms, 1000);
    ck_assert_int_eq(ps.start_timeout_ms, 5000);
    ck_assert_int_eq(ps.shutdown_ms, 5000);
    troupe_proc_spec_init(NULL); // accepted
}
END_TEST

// ---- the runtime directory ----

static void s_assert_private(const char *dir)
{
    struct stat st;
    ck_assert_msg(lstat(dir, &st) == 0, "%s: %s", dir, strerror(errno));
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_msg((st.st_mode & 07777) == 0700, "%s has mode %o", dir,
                  (unsigned)(st.st_mode & 07777));
    ck_assert_uint_eq(st.st_uid, getuid());
}

// The one ipc socket in the node's runtime directory: its path.
static void s_only_socket(const char *dir, char *out, size_t cap)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(out, cap, "%s/%s", dir, e->d_name);
            n++;
        }
    closedir(d);
    ck_assert_int_eq(n, 1);
    struct stat st;
    ck_assert_int_eq(lstat(out, &st), 0);
    ck_assert(S_ISSOCK(st.st_mode));
}

START_TEST(runtime_dir_is_ours_with_mode_0700)
{
    char dir[300];
    ck_assert(!pt_node_dir(dir, sizeof dir)); // made on first use only
    troupe_proc_spec ps = pt_proc("worker");
    troupe_addr w = pt_spawn(&ps, NULL);
    s_assert_private(pt_rundir); // the base, made by the library
    ck_assert(pt_node_dir(dir, sizeof dir));
    s_assert_private(dir);
    char sock[400];
    s_only_socket(dir, sock, sizeof sock);
    // Stopping the actor removes its endpoint: once the node has stopped
    // (which waits for every actor to end, fini included), the directory
    // is empty; destroying the node removes it (the teardown checks).
    TR_CK_OK(troupe_client_monitor(cl, w, NULL));
    TR_CK_OK(troupe_node_stop_actor(node, w, TROUPE_ESHUTDOWN));
    ck_assert_int_eq(pt_down(cl, w), TROUPE_ESHUTDOWN);
    troupe_client_destroy(&cl);
    TR_CK_OK(troupe_node_stop(node, troupe_deadline_in(pt_ms(5000))));
    struct stat st;
    ck_assert_int_ne(lstat(sock, &st), 0);
    ck_assert_int_eq(lstat(dir, &st), 0);
}
END_TEST

START_TEST(double_bind_is_refused)
{
    // Two nodes on one ipc path: the second is refused (the same node
    // listening twice is in tests/actors/test_remote.c).
    char ep[512];
    snprintf(ep, sizeof ep, "ipc://%s/listen", pt_tmp);
    troupe_node *other = tr_node_new(1);
    TR_CK_OK(troupe_node_listen(node, ep, NULL, 0));
    TR_CK_ERR(troupe_node_listen(other, ep, NULL, 0), TROUPE_EEXIST);
    // Nor can another node take over a process actor's endpoint: the
    // child stays reachable.
    troupe_proc_spec ps = pt_proc("worker");
    troupe_addr w = pt_spawn(&ps, NULL);
    int pid = pt_pid(cl, w);
    char dir[300], sock[400];
    ck_assert(pt_node_dir(dir, sizeof dir));
    s_only_socket(dir, sock, sizeof sock);
    snprintf(ep, sizeof ep, "ipc://%s", sock);
    TR_CK_ERR(troupe_node_listen(other, ep, NULL, 0), TROUPE_EEXIST);
    ck_assert_int_eq(pt_pid(cl, w), pid);
    tr_node_destroy_clean(&other);
}
END_TEST

START_TEST(stale_runtime_dirs_of_dead_processes_are_removed)
{
    // A pid that is dead for sure: a child of ours, reaped.
    pt_child *c;
    TR_CK_OK(pt_child_spawn("/bin/true", NULL, NULL, &c));
    int reason = -1;
    ck_assert_int_eq(pt_child_reap(c, pt_ms(5000), &reason), 1);
    pid_t dead = pt_child_pid(c);
    pt_child_free(&c);
    ck_assert(pt_gone(dead));
    ck_assert_int_eq(mkdir(pt_rundir, 0700), 0);
    char stale[300], file[400], live[300], other[300];
    snprintf(stale, sizeof stale, "%s/%ld.1", pt_rundir, (long)dead);
    snprintf(file, sizeof file, "%s/9.1.1", stale);
    snprintf(live, sizeof live, "%s/%ld.1", pt_rundir, (long)getppid());
    snprintf(other, sizeof other, "%s/keep-me", pt_rundir);
    ck_assert_int_eq(mkdir(stale, 0700), 0);
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(mkdir(live, 0700), 0);
    ck_assert_int_eq(mkdir(other, 0700), 0);
    troupe_proc_spec ps = pt_proc("worker");
    pt_spawn(&ps, NULL);
    struct stat st;
    ck_assert_msg(lstat(stale, &st) != 0 && errno == ENOENT,
                  "%s is still there", stale);
    ck_assert_int_eq(lstat(live, &st), 0);  // its process lives
    ck_assert_int_eq(lstat(other, &st), 0); // not a node's
}
END_TEST

START_TEST(runtime_dir_open_to_others_is_refused)
{
    ck_assert_int_eq(mkdir(pt_rundir, 0755), 0);
    ck_assert_int_eq(chmod(pt_rundir, 0755), 0); // whatever the umask
    node = tr_node_new(1);
    troupe_proc_spec ps = pt_proc("worker");
    troupe_actor_spec s = pt_actor(&ps, NULL);
    troupe_addr a;
    TR_CK_ERR(troupe_node_spawn(node, &s, troupe_deadline_in(pt_ms(5000)), &a),
              TROUPE_ESYS);
    tr_node_destroy_clean(&node);
}
END_TEST

// ---- no fd left behind ----

#define S_NODES 8
#define S_PER_NODE 8 // 64 children in all
#define S_SIDE_BY_SIDE 4

typedef struct s_spawner {
    pthread_t t;
    troupe_addr addr;
    int rc;
} s_spawner;

static void *s_spawn_thread(void *arg)
{
    s_spawner *sp = arg;
    troupe_proc_spec ps = pt_proc("worker");
    troupe_actor_spec s = pt_actor(&ps, NULL);
    sp->rc =
        troupe_node_spawn(node, &s, troupe_deadline_in(pt_ms(8000)), &sp->addr);
    return NULL;
}

START_TEST(sixty_four_children_leave_no_fd_behind)
{
    int before = pt_fd_count();
    for (int k = 0; k < S_NODES; k++) {
        node = tr_node_new(2);
        TR_CK_OK(troupe_client_new(node, &cl));
        // Started a few side by side (a start is mostly waiting for an
        // exec and a hello).
        s_spawner sp[S_PER_NODE];
        for (int j = 0; j < S_PER_NODE; j += S_SIDE_BY_SIDE) {
            for (int i = j; i < j + S_SIDE_BY_SIDE; i++)
                ck_assert_int_eq(
                    pthread_create(&sp[i].t, NULL, s_spawn_thread, &sp[i]), 0);
            for (int i = j; i < j + S_SIDE_BY_SIDE; i++)
                ck_assert_int_eq(pthread_join(sp[i].t, NULL), 0);
        }
        int pid[S_PER_NODE];
        for (int i = 0; i < S_PER_NODE; i++) {
            TR_CK_OK(sp[i].rc);
            pid[i] = pt_pid(cl, sp[i].addr);
        }
        // Half are stopped one by one (side by side), the rest by the
        // node's stop.
        for (int i = 0; i < S_PER_NODE / 2; i++) {
            TR_CK_OK(troupe_client_monitor(cl, sp[i].addr, NULL));
            TR_CK_OK(
                troupe_node_stop_actor(node, sp[i].addr, TROUPE_ESHUTDOWN));
        }
        for (int i = 0; i < S_PER_NODE / 2; i++) {
            troupe_msg *m = NULL;
            TR_CK_OK(
                troupe_client_recv(cl, troupe_deadline_in(pt_ms(5000)), &m));
            ck_assert_int_eq(troupe_msg_kind_of(m), TROUPE_MSG_DOWN);
            ck_assert_int_eq(troupe_msg_code(m), TROUPE_ESHUTDOWN);
            troupe_msg_destroy(&m);
        }
        for (int i = 0; i < S_PER_NODE / 2; i++)
            ck_assert_msg(pt_wait_exit(pid[i], pt_ms(5000)),
                          "child %d still runs", pid[i]);
        troupe_client_destroy(&cl);
        tr_node_destroy_clean(&node);
        for (int i = 0; i < S_PER_NODE; i++)
            ck_assert_msg(pt_gone(pid[i]), "child %d still there", pid[i]);
        char dir[300];
        ck_assert_msg(!pt_node_dir(dir, sizeof dir), "%s left", dir);
        ck_assert_int_eq(pt_fd_count(), before);
    }
}
END_TEST

// ---- the pidfd layer ----

START_TEST(reaped_child_is_never_signalled_by_its_number)
{
    pt_child *c;
    TR_CK_OK(pt_child_spawn("/bin/true", NULL, NULL, &c));
    ck_assert_int_gt(pt_child_pid(c), 0);
    ck_assert_int_ge(pt_child_pidfd(c), 0);
    int reason = -1;
    ck_assert_int_eq(pt_child_reap(c, pt_ms(5000), &reason), 1);
    ck_assert_int_eq(reason, 0);
    ck_assert_int_eq(pt_child_reap(c, 0, &reason), 1); // again: still 1
    TR_CK_ERR(pt_child_signal(c, SIGKILL), TROUPE_EDEAD);
    // Its number may be reused at once by a stranger. That cannot be
    // forced, so play it: a live process (ours, to check on) under that
    // number. Signals go through the pidfd, never to the number.
    const char *args[] = {"30", NULL};
    pt_child *stranger;
    TR_CK_OK(pt_child_spawn("/bin/sleep", args, NULL, &stranger));
    pt_child_set_pid(c, pt_child_pid(stranger));
    TR_CK_ERR(pt_child_signal(c, SIGKILL), TROUPE_EDEAD);
    TR_CK_ERR(pt_child_signal(c, SIGTERM), TROUPE_EDEAD);
    ck_assert_int_eq(pt_child_reap(stranger, 0, &reason), 0); // untouched
    ck_assert(!pt_gone(pt_child_pid(stranger)));
    pt_child_close(c); // reaped already: closes the pidfd, kills nothing
    ck_assert_int_eq(pt_child_pidfd(c), -1);
    TR_CK_ERR(pt_child_signal(c, SIGKILL), TROUPE_EDEAD);
    ck_assert_int_eq(pt_child_reap(stranger, 0, &reason), 0);
    pt_child_free(&c);
    // A child that exited but is not reaped yet (a zombie keeps its
    // number, so nothing else can have it): reaping it gives its status.
    pt_child *z;
    TR_CK_OK(pt_child_spawn("/bin/true", NULL, NULL, &z));
    siginfo_t si;
    memset(&si, 0, sizeof si);
    ck_assert_int_eq(
        waitid(P_PID, (id_t)pt_child_pid(z), &si, WEXITED | WNOWAIT), 0);
    ck_assert_int_eq(pt_child_reap(z, 0, &reason), 1);
    ck_assert_int_eq(reason, 0);
    TR_CK_ERR(pt_child_signal(z, SIGKILL), TROUPE_EDEAD);
    pt_child_free(&z);
    // Closing a running child kills and reaps it.
    pid_t sp = pt_child_pid(stranger);
    pt_child_free(&stranger);
    ck_assert(pt_gone(sp));
}
END_TEST

START_TEST(child_exit_status_and_signal_become_reasons)
{
    int reason = 0;
    pt_child *c;
    const char *exit5[] = {"-c", "exit 5", NULL};
    TR_CK_OK(pt_child_spawn("/bin/sh", exit5, NULL, &c));
    ck_assert_int_eq(pt_child_reap(c, -1, &reason), 1);
    ck_assert_int_eq(reason, TROUPE_EPROC_EXIT(5));
    pt_child_free(&c);
    // The environment given is the child's, over the inherited one.
    ck_assert_int_eq(setenv("PT_STATUS", "6", 1), 0);
    const char *env_args[] = {"-c", "exit $PT_STATUS", NULL};
    const char *env[] = {"PT_STATUS=7", NULL};
    TR_CK_OK(pt_child_spawn("/bin/sh", env_args, env, &c));
    ck_assert_int_eq(pt_child_reap(c, -1, &reason), 1);
    ck_assert_int_eq(reason, TROUPE_EPROC_EXIT(7));
    pt_child_free(&c);
    TR_CK_OK(pt_child_spawn("/bin/sh", env_args, NULL, &c)); // inherited
    ck_assert_int_eq(pt_child_reap(c, -1, &reason), 1);
    ck_assert_int_eq(reason, TROUPE_EPROC_EXIT(6));
    pt_child_free(&c);
    const char *args[] = {"30", NULL};
    TR_CK_OK(pt_child_spawn("/bin/sleep", args, NULL, &c));
    ck_assert_int_eq(pt_child_reap(c, 0, &reason), 0);  // runs
    ck_assert_int_eq(pt_child_reap(c, 20, &reason), 0); // still
    TR_CK_OK(pt_child_signal(c, SIGKILL));
    ck_assert_int_eq(pt_child_reap(c, pt_ms(5000), &reason), 1);
    ck_assert_int_eq(reason, TROUPE_EPROC_SIGNAL(SIGKILL));
    pt_child_free(&c);
    TR_CK_ERR(pt_child_spawn("/nonexistent/prog", NULL, NULL, &c),
              TROUPE_ENOENT);
    ck_assert_ptr_null(c);
}
END_TEST

Suite *make_suite(void);
Suite *make_suite(void)
{
    Suite *s = suite_create("process");
    TCase *tc = tcase_create("basics");
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_checked_fixture(tc, pt_setup, pt_teardown);
    tcase_add_test(tc, request_reaches_the_child_and_comes_back);
    tcase_add_test(tc, a_child_behind_holds_its_senders_back_and_not_the_loop);
    tcase_add_test(tc, segfault_is_the_exit_reason_and_requests_end);
    tcase_add_test(tc, child_tells_a_name_that_only_the_parent_knows);
    tcase_add_test(tc,
                   child_requests_a_parent_actor_by_name_and_gets_its_reply);
    tcase_add_test(tc, handler_error_in_the_child_is_the_exact_down_reason);
    tcase_add_test(tc, init_error_in_the_child_is_the_spawn_error);
    tcase_add_test(tc, unknown_kind_exits_with_status_2);
    tcase_add_test(tc, other_programs_fail_the_start_with_what_they_did);
    tcase_add_test(tc, runtime_dir_is_ours_with_mode_0700);
    tcase_add_test(tc, double_bind_is_refused);
    tcase_add_test(tc, stale_runtime_dirs_of_dead_processes_are_removed);
    suite_add_tcase(s, tc);

    tc = tcase_create("no node yet");
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_checked_fixture(tc, pt_env_setup, pt_env_teardown);
    tcase_add_test(tc, runtime_dir_open_to_others_is_refused);
    suite_add_tcase(s, tc);

    // 64 process starts: a second or more each under a sanitizer, on a
    // machine that runs other suites beside it.
    tc = tcase_create("many children");
    tcase_set_timeout(tc, 6 * TR_TCASE_TIMEOUT);
    tcase_add_checked_fixture(tc, pt_env_setup, pt_env_teardown);
    tcase_add_test(tc, sixty_four_children_leave_no_fd_behind);
    suite_add_tcase(s, tc);

    tc = tcase_create("pidfd");
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, exit_reason_codes_decode);
    tcase_add_test(tc, reaped_child_is_never_signalled_by_its_number);
    tcase_add_test(tc, child_exit_status_and_signal_become_reasons);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    return pt_main(argc, argv, make_suite);
}
