// SPDX-License-Identifier: MIT
//
// Process actors, the OS side: starting a child with posix_spawn (a fresh
// program, never a fork of a process that runs zmq threads), holding it by
// a pidfd (signals and waits go through the pidfd, so a PID reused by a
// stranger is never signalled), and the node's private runtime directory
// where the ipc endpoints live (mode 0700: other users cannot connect).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc_internal.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

extern char **environ;

// Per node: its runtime directory and which child serves which actor.
struct tr_proc_node {
    pthread_mutex_t lock;
    char dir[200]; // "" until made
    struct {
        troupe_addr who;
        pid_t pid;
    } * pids;
    size_t n_pids, cap_pids;
};

static int s_pidfd_open(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int tr_child_spawn(const char *program, const char *const *args,
                   const char *const *env, tr_child *c)
{
    return tr_child_spawn_fd(program, args, env, -1, -1, c);
}

int tr_child_spawn_fd(const char *program, const char *const *args,
                      const char *const *env, int fd, int as, tr_child *c)
{
    *c = (tr_child){.pid = 0, .pidfd = -1};
    const char *path = program ? program : "/proc/self/exe";
    size_t na = 0, ne = 0, nenv = 0;
    while (args && args[na])
        na++;
    while (env && env[ne])
        ne++;
    while (environ && environ[nenv])
        nenv++;
    char **argv = calloc(na + 2, sizeof *argv);
    char **envp = calloc(nenv + ne + 1, sizeof *envp);
    if (!argv || !envp) {
        free(argv);
        free(envp);
        return TROUPE_ENOMEM;
    }
    argv[0] = (char *)path;
    for (size_t i = 0; i < na; i++)
        argv[i + 1] = (char *)args[i];
    size_t k = 0;
    for (size_t i = 0; i < nenv; i++) { // ours override inherited ones
        const char *eq = strchr(environ[i], '=');
        size_t key = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
        int shadowed = 0;
        for (size_t j = 0; j < ne && !shadowed; j++)
            shadowed = strncmp(environ[i], env[j], key) == 0;
        if (!shadowed)
            envp[k++] = environ[i];
    }
    for (size_t j = 0; j < ne; j++)
        envp[k++] = (char *)env[j];
    // The child starts with default signal dispositions and no blocked
    // signals, whatever this thread has.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr,
                             POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    // fd becomes the child's `as`, without FD_CLOEXEC (dup2 clears it; for
    // fd == as glibc's adddup2 clears it too).
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, fd, as);
    pid_t pid;
    int err = posix_spawn(&pid, path, &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    free(argv);
    free(envp);
    if (err)
        return err == ENOENT || err == EACCES ? TROUPE_ENOENT : TROUPE_ESYS;
    // Nobody else reaps it (unless SIGCHLD is ignored, see processes.md),
    // so until it is waited for, this PID is still the child's.
    int pfd = s_pidfd_open(pid);
    if (pfd < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return TROUPE_ESYS;
    }
    c->pid = pid;
    c->pidfd = pfd;
    return 0;
}

int tr_child_signal(tr_child *c, int sig)
{
    if (c->pidfd < 0 || c->reaped)
        return TROUPE_EDEAD;
    if (syscall(SYS_pidfd_send_signal, c->pidfd, sig, NULL, 0) != 0)
        return errno == ESRCH ? TROUPE_EDEAD : TROUPE_ESYS;
    return 0;
}

static int s_reason(const siginfo_t *si)
{
    switch (si->si_code) {
    case CLD_EXITED:
        return si->si_status == 0 ? 0 : TROUPE_EPROC_EXIT(si->si_status & 255);
    case CLD_KILLED:
    case CLD_DUMPED:
        return TROUPE_EPROC_SIGNAL(si->si_status);
    default:
        return TROUPE_ESYS;
    }
}

int tr_child_reap(tr_child *c, int64_t wait_ms, int *reason)
{
    if (c->pidfd < 0)
        return TROUPE_ESYS;
    if (c->reaped)
        return 1;
    int64_t until = wait_ms > 0 ? troupe_now() + wait_ms : 0;
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid((idtype_t)P_PIDFD, (id_t)c->pidfd, &si, WEXITED | WNOHANG) !=
            0) {
            if (errno == EINTR)
                continue;
            return TROUPE_ESYS;
        }
        if (si.si_pid != 0) {
            c->reaped = 1;
            *reason = s_reason(&si);
            return 1;
        }
        int timeout = -1;
        if (wait_ms == 0)
            return 0;
        if (wait_ms > 0) {
            int64_t left = until - troupe_now();
            if (left <= 0)
                return 0;
            timeout = (int)left;
        }
        struct pollfd pfd = {.fd = c->pidfd, .events = POLLIN};
        poll(&pfd, 1, timeout);
    }
}

void tr_child_close(tr_child *c)
{
    if (c->pidfd < 0)
        return;
    if (!c->reaped) {
        int reason;
        tr_child_signal(c, SIGKILL);
        tr_child_reap(c, -1, &reason);
    }
    close(c->pidfd);
    c->pidfd = -1;
}

// ---- the runtime directory ----

static struct tr_proc_node *s_proc(troupe_node *n)
{
    struct tr_proc_node *pn = atomic_load(&n->proc);
    if (pn)
        return pn;
    pthread_mutex_lock(&n->lock);
    pn = atomic_load(&n->proc);
    if (!pn) {
        pn = calloc(1, sizeof *pn);
        if (pn) {
            pthread_mutex_init(&pn->lock, NULL);
            atomic_store(&n->proc, pn);
        }
    }
    pthread_mutex_unlock(&n->lock);
    return pn;
}

// The directory all of this user's nodes put theirs in: $TROUPE_RUNTIME_DIR,
// else $XDG_RUNTIME_DIR/troupe, else /tmp/troupe-<uid>.
static int s_base(char *out, size_t cap)
{
    const char *t = getenv("TROUPE_RUNTIME_DIR");
    const char *x = getenv("XDG_RUNTIME_DIR");
    int k = t && *t ? snprintf(out, cap, "%s", t)
            : x && *x
                ? snprintf(out, cap, "%s/troupe", x)
                : snprintf(out, cap, "/tmp/troupe-%u", (unsigned)getuid());
    return k < 0 || (size_t)k >= cap ? TROUPE_EMSGSIZE : 0;
}

// Make dir with mode 0700, or accept it if it is ours and 0700 already.
static int s_private_dir(troupe_node *n, const char *dir)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        tr_logf(&n->log, TROUPE_LOG_ERROR, "runtime dir %s: %s", dir,
                strerror(errno));
        return TROUPE_ESYS;
    }
    struct stat st;
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
        (st.st_mode & 077) != 0) {
        tr_logf(&n->log, TROUPE_LOG_ERROR,
                "runtime dir %s is not a directory of ours with mode 0700: "
                "refused",
                dir);
        return TROUPE_ESYS;
    }
    return 0;
}

static void s_remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char path[512];
            int k = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (k > 0 && (size_t)k < sizeof path)
                unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

// Remove the directories of nodes whose process is gone (names
// "<pid>.<node id>"): what a killed parent left behind.
static void s_sweep_stale(const char *base)
{
    DIR *d = opendir(base);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (pid <= 0 || *end != '.' || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; // alive, or not ours to judge
        char path[512];
        int k = snprintf(path, sizeof path, "%s/%s", base, e->d_name);
        if (k > 0 && (size_t)k < sizeof path)
            s_remove_tree(path);
    }
    closedir(d);
}

int tr_proc_rundir(troupe_node *n, char *out, size_t cap)
{
    struct tr_proc_node *pn = s_proc(n);
    if (!pn)
        return TROUPE_ENOMEM;
    pthread_mutex_lock(&pn->lock);
    int rc = 0;
    if (!pn->dir[0]) {
        char base[160];
        rc = s_base(base, sizeof base);
        if (rc == 0)
            rc = s_private_dir(n, base);
        if (rc == 0) {
            s_sweep_stale(base);
            int k = snprintf(pn->dir, sizeof pn->dir, "%s/%ld.%u", base,
                             (long)getpid(), n->id);
            rc = k < 0 || (size_t)k >= sizeof pn->dir
                     ? TROUPE_EMSGSIZE
                     : s_private_dir(n, pn->dir);
            if (rc)
                pn->dir[0] = '\0';
        }
    }
    if (rc == 0) {
        size_t len = strlen(pn->dir);
        if (len >= cap)
            rc = TROUPE_EMSGSIZE;
        else
            memcpy(out, pn->dir, len + 1);
    }
    pthread_mutex_unlock(&pn->lock);
    return rc;
}

void tr_proc_pid_set(troupe_node *n, troupe_addr who, pid_t pid)
{
    struct tr_proc_node *pn = s_proc(n);
    if (!pn)
        return;
    pthread_mutex_lock(&pn->lock);
    size_t i = 0;
    while (i < pn->n_pids && !troupe_addr_eq(pn->pids[i].who, who))
        i++;
    if (pid == 0) {
        if (i < pn->n_pids)
            pn->pids[i] = pn->pids[--pn->n_pids];
    } else if (i < pn->n_pids) {
        pn->pids[i].pid = pid;
    } else {
        if (pn->n_pids == pn->cap_pids) {
            size_t cap = pn->cap_pids ? pn->cap_pids * 2 : 8;
            void *p = realloc(pn->pids, cap * sizeof *pn->pids);
            if (!p) {
                pthread_mutex_unlock(&pn->lock);
                return; // only troupe_proc_pid is the poorer for it
            }
            pn->pids = p;
            pn->cap_pids = cap;
        }
        pn->pids[pn->n_pids].who = who;
        pn->pids[pn->n_pids++].pid = pid;
    }
    pthread_mutex_unlock(&pn->lock);
}

TROUPE_API int troupe_proc_pid(troupe_node *n, troupe_addr who)
{
    struct tr_proc_node *pn = n ? atomic_load(&n->proc) : NULL;
    if (!pn)
        return 0;
    int pid = 0;
    pthread_mutex_lock(&pn->lock);
    for (size_t i = 0; i < pn->n_pids; i++)
        if (troupe_addr_eq(pn->pids[i].who, who))
            pid = (int)pn->pids[i].pid;
    pthread_mutex_unlock(&pn->lock);
    return pid;
}

void tr_proc_node_fini(troupe_node *n)
{
    struct tr_proc_node *pn = atomic_load(&n->proc);
    if (!pn)
        return;
    if (pn->dir[0])
        s_remove_tree(pn->dir);
    free(pn->pids);
    pthread_mutex_destroy(&pn->lock);
    free(pn);
    atomic_store(&n->proc, NULL);
}

TROUPE_API int troupe_proc_signal_of(int reason)
{
    int sig = TROUPE_EPROC_SIGNAL_BASE - reason;
    return sig >= 1 && sig <= 64 ? sig : 0;
}

TROUPE_API int troupe_proc_status_of(int reason)
{
    int st = TROUPE_EPROC_EXIT_BASE - reason;
    return st >= 1 && st <= 255 ? st : 0;
}
