// SPDX-License-Identifier: MIT
//
// The process suites' shared part (see proc_common.h): the child side (the
// kinds of actor a child serves) and the parent side (fixture, helpers).
#include "proc_common.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// ---- the child side: what the children serve ----

// "worker": answers, counts, holds, crashes and talks to the parent on
// request. Its state is fresh for each child (state_size).
#define PT_HOLD_MAX 256
typedef struct pt_worker {
    int64_t ticks;                      // "tick" tells received
    int held;                           // "hold" requests held
    troupe_deferred *hold[PT_HOLD_MAX]; // never answered
} pt_worker;

// The end of an "upcall": the parent's answer goes back to our requester.
static int s_upcall_done(troupe_ctx *cx, void *state, int status,
                         const troupe_msg *reply, void *arg)
{
    (void)state;
    troupe_deferred *d = arg;
    if (status != 0) {
        troupe_deferred_error(cx, &d, status);
        return 0;
    }
    const void *b;
    size_t n;
    troupe_msg_body(reply, &b, &n);
    if (n)
        troupe_deferred_reply(cx, &d, "r", b, n);
    else
        troupe_deferred_reply(cx, &d, NULL);
    return 0;
}

// "nap": the child's actor takes nothing more until SIGUSR1 comes.
// An atomic (lock-free, so safe in a handler): the signal may land on any
// of the child's threads.
static atomic_int s_woken;

static void s_on_usr1(int sig)
{
    (void)sig;
    atomic_store(&s_woken, 1);
}

static int s_worker(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    pt_worker *w = state;
    if (troupe_msg_is(msg, "nap")) { // the test wakes it with SIGUSR1
        while (!atomic_load(&s_woken))
            usleep(1000);
        atomic_store(&s_woken, 0);
        return 0;
    }
    if (troupe_msg_is(msg, "pid"))
        return troupe_reply(cx, msg, "i", (int)getpid());
    if (troupe_msg_is(msg, "echo")) {
        const void *b;
        size_t n;
        troupe_msg_body(msg, &b, &n);
        return troupe_reply(cx, msg, "r", b, n);
    }
    if (troupe_msg_is(msg, "segv"))
        raise(SIGSEGV);
    if (troupe_msg_is(msg, "fail"))
        return TROUPE_EUSER - 7;
    if (troupe_msg_is(msg, "normal"))
        return troupe_exit(cx, 0);
    if (troupe_msg_is(msg, "busy")) { // [ms]: a long CPU-bound handler
        int64_t ms = 0;
        troupe_msg_read(msg, "[I]", &ms);
        for (int64_t until = troupe_now() + ms; troupe_now() < until;)
            ;
        return troupe_reply(cx, msg, "i", (int)getpid());
    }
    if (troupe_msg_is(msg, "tick")) {
        w->ticks++;
        return 0;
    }
    if (troupe_msg_is(msg, "count"))
        return troupe_reply(cx, msg, "I", w->ticks);
    if (troupe_msg_is(msg, "up")) // tell a name only the parent knows
        return troupe_tell_name(cx, "parent-sink", "from-child", "i",
                                (int)getpid());
    if (troupe_msg_is(msg, "upcall")) { // [name, tag, x]: ask the parent
        char name[64], tag[64];
        int64_t x;
        int rc = troupe_msg_read(msg, "[SSI]", name, sizeof name, tag,
                                 sizeof tag, &x);
        troupe_deferred *d;
        if (rc == 0)
            rc = troupe_defer(cx, msg, &d);
        if (rc == 0) {
            rc = troupe_request_name(cx, name, tag, TROUPE_DEADLINE_DEFAULT,
                                     s_upcall_done, d, NULL, "{s:I}", "x", x);
            if (rc)
                troupe_deferred_error(cx, &d, rc);
            return 0;
        }
        return troupe_reply_error(cx, msg, rc);
    }
    if (troupe_msg_is(msg, "hold")) { // [i, notify_at]: never answered
        int i, notify_at;
        int rc = troupe_msg_read(msg, "[ii]", &i, &notify_at);
        if (rc || w->held == PT_HOLD_MAX)
            return troupe_reply_error(cx, msg, rc ? rc : TROUPE_EFULL);
        rc = troupe_defer(cx, msg, &w->hold[w->held]);
        if (rc)
            return troupe_reply_error(cx, msg, rc);
        if (++w->held == notify_at) // tell the test (by a parent's name)
            troupe_tell_name(cx, "parent-sink", "held", "i", w->held);
        return 0;
    }
    return TROUPE_ENOTSUP;
}

// "small-mailbox": SIGUSR1 ends a "nap", from the start (a wake-up that
// comes before the nap is kept, not fatal).
static int s_usr1_init(troupe_ctx *cx, void *state, void *arg)
{
    (void)cx;
    (void)state;
    (void)arg;
    struct sigaction sa = {.sa_handler = s_on_usr1};
    return sigaction(SIGUSR1, &sa, NULL) == 0 ? 0 : TROUPE_ESYS;
}

// "hang-init": an init that never returns.
static int s_hang_init(troupe_ctx *cx, void *state, void *arg)
{
    (void)cx;
    (void)state;
    (void)arg;
    for (;;)
        pause();
    return 0;
}

// "fail-init": an init that fails with a code of its own.
static int s_fail_init(troupe_ctx *cx, void *state, void *arg)
{
    (void)cx;
    (void)state;
    (void)arg;
    return TROUPE_EUSER - 3;
}

// "stubborn": ignores SIGTERM, and its "block" request is answered and
// then never returns: a child that does not stop when asked.
static int s_stubborn_init(troupe_ctx *cx, void *state, void *arg)
{
    (void)cx;
    (void)state;
    (void)arg;
    signal(SIGTERM, SIG_IGN);
    return 0;
}

static int s_stubborn(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)state;
    if (troupe_msg_is(msg, "pid"))
        return troupe_reply(cx, msg, "i", (int)getpid());
    if (troupe_msg_is(msg, "block")) {
        // Isolated: the reply leaves now, not when the handler returns.
        troupe_reply(cx, msg, "i", (int)getpid());
        for (;;)
            pause(); // SIGTERM is ignored: it does not even wake us
    }
    return TROUPE_ENOTSUP;
}

static const troupe_proc_kind s_kinds[] = {
    {.kind = "worker",
     .actor = {.handler = s_worker,
               .name = "worker-in-child",
               .state_size = sizeof(pt_worker)}},
    {.kind = "small-mailbox",
     .actor = {.handler = s_worker,
               .init = s_usr1_init,
               .state_size = sizeof(pt_worker),
               .mailbox_bound = 8}},
    {.kind = "hang-init", .actor = {.handler = s_worker, .init = s_hang_init}},
    {.kind = "fail-init", .actor = {.handler = s_worker, .init = s_fail_init}},
    {.kind = "stubborn",
     .actor = {.handler = s_stubborn,
               .init = s_stubborn_init,
               .placement = TROUPE_ISOLATED}},
};

static void s_write_pidfile(const char *path)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    fprintf(f, "%ld\n", (long)getpid());
    if (fclose(f) == 0)
        rename(tmp, path); // whole or not at all
}

// The sanitizers' option variables; the children inherit them.
static const char *const s_san_vars[] = {"ASAN_OPTIONS", "TSAN_OPTIONS",
                                         "UBSAN_OPTIONS"};

// Append opt to each of them (before any thread exists).
static void s_san_env_add(const char *opt)
{
    for (size_t i = 0; i < sizeof s_san_vars / sizeof s_san_vars[0]; i++) {
        const char *old = getenv(s_san_vars[i]);
        char buf[1024];
        snprintf(buf, sizeof buf, "%s%s%s", old ? old : "",
                 old && *old ? ":" : "", opt);
        setenv(s_san_vars[i], buf, 1);
    }
}

static int64_t s_mult = 1;

int pt_main(int argc, char **argv, Suite *(*make)(void))
{
    long linger_ms = 0;
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "--pidfile=", 10))
            s_write_pidfile(argv[i] + 10);
        if (!strncmp(argv[i], "--linger-ms=", 12))
            linger_ms = strtol(argv[i] + 12, NULL, 10);
    }
    int code;
    if (troupe_proc_child(s_kinds, sizeof s_kinds / sizeof s_kinds[0], &code)) {
        // A slow end (as atexit handlers may make it): the keepalive pipe
        // is closed, the process is still there.
        struct timespec ts = {linger_ms / 1000, linger_ms % 1000 * 1000000};
        while (linger_ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        return code;
    }
    const char *m = getenv("CK_TIMEOUT_MULTIPLIER");
    if (m && atoi(m) > 1)
        s_mult = atoi(m);
    // Under ASan/TSan a SIGSEGV is caught by the sanitizer, which reports
    // and exits with a status of its own: children should die of the
    // signal, as in a plain build. (Options are read at start: this is
    // for the children only.)
    s_san_env_add("handle_segv=0");
    return tr_run_suite(make());
}

int64_t pt_ms(int64_t ms)
{
    return ms * s_mult;
}

// ---- the parent side ----

troupe_node *node;
troupe_client *cl;
char pt_tmp[128];
char pt_rundir[160];

void pt_rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char path[512];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (unlink(path) != 0 && (errno == EISDIR || errno == EPERM))
                pt_rm_tree(path); // a directory (Linux says EISDIR)
        }
        closedir(d);
    }
    rmdir(dir);
}

void pt_env_setup(void)
{
    snprintf(pt_tmp, sizeof pt_tmp, "/tmp/troupe-ptest-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(pt_tmp));
    snprintf(pt_rundir, sizeof pt_rundir, "%s/rt", pt_tmp);
    ck_assert_int_eq(setenv("TROUPE_RUNTIME_DIR", pt_rundir, 1), 0);
    // What a sanitizer finds in a child goes to a file there, so that the
    // teardown fails the test (a child's stderr fails nothing).
    char opt[200];
    snprintf(opt, sizeof opt, "log_path=%s/sanitizer", pt_tmp);
    s_san_env_add(opt);
}

// A sanitizer's report from a child, if there is one: fail with it.
static void s_no_child_reports(void)
{
    DIR *d = opendir(pt_tmp);
    if (!d)
        return;
    char path[512] = "";
    struct dirent *e;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "sanitizer", 9))
            snprintf(path, sizeof path, "%s/%s", pt_tmp, e->d_name);
    closedir(d);
    if (!path[0])
        return;
    char text[4096] = "";
    FILE *f = fopen(path, "r");
    if (f) {
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = '\0';
        fclose(f);
    }
    fprintf(stderr, "%s:\n%s\n", path, text);
    pt_rm_tree(pt_tmp);
    ck_abort_msg("a child's sanitizer reported (%s): %.300s", path, text);
}

bool pt_node_dir(char *out, size_t cap)
{
    char prefix[32];
    int k = snprintf(prefix, sizeof prefix, "%ld.", (long)getpid());
    DIR *d = opendir(pt_rundir);
    bool found = false;
    if (!d)
        return false;
    struct dirent *e;
    while (!found && (e = readdir(d)))
        if (!strncmp(e->d_name, prefix, (size_t)k)) {
            snprintf(out, cap, "%s/%s", pt_rundir, e->d_name);
            found = true;
        }
    closedir(d);
    return found;
}

void pt_env_teardown(void)
{
    char dir[300];
    bool left = pt_node_dir(dir, sizeof dir);
    s_no_child_reports();
    pt_rm_tree(pt_tmp);
    ck_assert_msg(!left, "the node left its runtime directory %s", dir);
}

void pt_setup(void)
{
    pt_env_setup();
    node = tr_node_new(2);
    TR_CK_OK(troupe_client_new(node, &cl));
}

void pt_teardown(void)
{
    troupe_client_destroy(&cl);
    tr_node_destroy_clean(&node);
    pt_env_teardown();
}

troupe_proc_spec pt_proc(const char *kind)
{
    troupe_proc_spec ps;
    troupe_proc_spec_init(&ps);
    ps.kind = kind;
    // Heartbeats are tested where a test sets them: elsewhere a machine
    // loaded by other suites must not get a slow child taken for hung.
    ps.heartbeat_ms = pt_ms(2000);
    ps.start_timeout_ms = pt_ms(5000); // sanitized children start slowly
    return ps;
}

troupe_actor_spec pt_actor(const troupe_proc_spec *ps, const char *name)
{
    troupe_actor_spec s = troupe_actor_spec_default();
    s.name = name;
    s.placement = TROUPE_PROCESS;
    s.process = ps;
    return s;
}

troupe_addr pt_spawn(const troupe_proc_spec *ps, const char *name)
{
    troupe_actor_spec s = pt_actor(ps, name);
    troupe_addr a;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(pt_ms(8000)), &a));
    return a;
}

int pt_pid(troupe_client *c, troupe_addr who)
{
    troupe_msg *r = NULL;
    TR_CK_OK(
        troupe_call(c, who, "pid", troupe_deadline_in(pt_ms(5000)), &r, NULL));
    int pid = 0;
    TR_CK_OK(troupe_msg_read(r, "i", &pid));
    troupe_msg_destroy(&r);
    ck_assert_int_gt(pid, 0);
    ck_assert_int_ne(pid, getpid());
    return pid;
}

int pt_down(troupe_client *c, troupe_addr who)
{
    troupe_msg *m = NULL;
    TR_CK_OK(troupe_client_recv(c, troupe_deadline_in(pt_ms(5000)), &m));
    ck_assert_msg(troupe_msg_kind_of(m) == TROUPE_MSG_DOWN,
                  "wanted a down message, got kind %d tag '%s'",
                  (int)troupe_msg_kind_of(m), troupe_msg_tag(m));
    ck_assert(troupe_addr_eq(troupe_msg_sender(m), who));
    int code = troupe_msg_code(m);
    troupe_msg_destroy(&m);
    return code;
}

bool pt_gone(pid_t pid)
{
    return kill(pid, 0) != 0 && errno == ESRCH;
}

bool pt_wait_exit(pid_t pid, int64_t ms)
{
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0)
        return errno == ESRCH;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int64_t until = troupe_now() + ms;
    int rc;
    do
        rc = poll(&p, 1,
                  (int)(until - troupe_now() > 0 ? until - troupe_now() : 0));
    while (rc < 0 && errno == EINTR);
    close(fd);
    return rc == 1;
}

int pt_fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; // the one opendir holds
}
