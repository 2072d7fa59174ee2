// SPDX-License-Identifier: MIT
//
// See proc_shim.h.
#include "proc_shim.h"

#include <stdlib.h>

#include "proc_internal.h"

struct pt_child {
    tr_child c;
};

int pt_child_spawn(const char *program, const char *const *args,
                   const char *const *env, pt_child **c)
{
    *c = calloc(1, sizeof **c);
    if (!*c)
        return TROUPE_ENOMEM;
    int rc = tr_child_spawn(program, args, env, &(*c)->c);
    if (rc) {
        free(*c);
        *c = NULL;
    }
    return rc;
}

int pt_child_signal(pt_child *c, int sig)
{
    return tr_child_signal(&c->c, sig);
}

int pt_child_reap(pt_child *c, int64_t wait_ms, int *reason)
{
    return tr_child_reap(&c->c, wait_ms, reason);
}

void pt_child_close(pt_child *c)
{
    tr_child_close(&c->c);
}

void pt_child_free(pt_child **c)
{
    if (*c) {
        tr_child_close(&(*c)->c);
        free(*c);
        *c = NULL;
    }
}

int pt_child_pid(const pt_child *c)
{
    return (int)c->c.pid;
}

int pt_child_pidfd(const pt_child *c)
{
    return c->c.pidfd;
}

void pt_child_set_pid(pt_child *c, int pid)
{
    c->c.pid = (pid_t)pid;
}
