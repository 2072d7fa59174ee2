// SPDX-License-Identifier: MIT
//
// Error names and messages, and the one place where errno / zmq_errno()
// become TROUPE_E* codes (transport layer). Keep the table in step with
// include/troupe/error.h and docs/errors.md.
#include <errno.h>
#include <zmq.h>

#include "errors.h"
#include "troupe/error.h"
#include "troupe/process.h"

typedef struct s_entry {
    int code;         // the TROUPE_E* value
    const char *name; // its symbol
    const char *text; // one short line for humans
} s_entry;

static const s_entry s_table[] = {
    {TROUPE_OK, "TROUPE_OK", "success"},
    {TROUPE_EINVAL, "TROUPE_EINVAL", "invalid argument"},
    {TROUPE_ENOMEM, "TROUPE_ENOMEM", "out of memory"},
    {TROUPE_EFULL, "TROUPE_EFULL", "mailbox or queue full"},
    {TROUPE_EDEAD, "TROUPE_EDEAD", "target is dead or did not reply"},
    {TROUPE_ENOENT, "TROUPE_ENOENT", "no such destination or name"},
    {TROUPE_ETIMEDOUT, "TROUPE_ETIMEDOUT", "deadline passed"},
    {TROUPE_EMSGSIZE, "TROUPE_EMSGSIZE", "message too large"},
    {TROUPE_EBADMSG, "TROUPE_EBADMSG", "malformed message"},
    {TROUPE_ELIMIT, "TROUPE_ELIMIT", "limit exceeded"},
    {TROUPE_ETYPE, "TROUPE_ETYPE", "field missing or of another type"},
    {TROUPE_ENOTSUP, "TROUPE_ENOTSUP", "not supported"},
    {TROUPE_ECANCELED, "TROUPE_ECANCELED", "canceled"},
    {TROUPE_ESHUTDOWN, "TROUPE_ESHUTDOWN", "node is shutting down"},
    {TROUPE_EEXIST, "TROUPE_EEXIST", "name already registered"},
    {TROUPE_EPROTO, "TROUPE_EPROTO", "unsupported protocol version"},
    {TROUPE_EKILLED, "TROUPE_EKILLED", "killed"},
    {TROUPE_EAGAIN, "TROUPE_EAGAIN", "try again"},
    {TROUPE_ESYS, "TROUPE_ESYS", "system error"},
    {TROUPE_EALREADY, "TROUPE_EALREADY", "already done"},
    {TROUPE_ESTATE, "TROUPE_ESTATE", "not valid in this state or thread"},
    {TROUPE_EINTENSITY, "TROUPE_EINTENSITY",
     "supervisor gave up: too many restarts"},
};

// The ranges of troupe/process.h's exit reasons.
static int s_proc_signal(int rc)
{
    return rc <= TROUPE_EPROC_SIGNAL(1) && rc >= TROUPE_EPROC_SIGNAL(64);
}

static int s_proc_status(int rc)
{
    return rc <= TROUPE_EPROC_EXIT(1) && rc >= TROUPE_EPROC_EXIT(255);
}

static const s_entry *s_find(int rc)
{
    for (size_t i = 0; i < sizeof s_table / sizeof s_table[0]; i++)
        if (s_table[i].code == rc)
            return &s_table[i];
    return NULL;
}

TROUPE_API const char *troupe_strerror(int rc)
{
    const s_entry *e = s_find(rc);
    if (e)
        return e->text;
    if (s_proc_signal(rc))
        return "process actor killed by a signal";
    if (s_proc_status(rc))
        return "process actor exited with a non-zero status";
    return rc <= TROUPE_EUSER ? "application error" : "unknown error";
}

TROUPE_API const char *troupe_errname(int rc)
{
    const s_entry *e = s_find(rc);
    if (e)
        return e->name;
    if (s_proc_signal(rc))
        return "TROUPE_EPROC_SIGNAL";
    if (s_proc_status(rc))
        return "TROUPE_EPROC_EXIT";
    return "TROUPE_E?";
}

int tr_err_from_errno(int e)
{
    switch (e) {
    case 0:
        return TROUPE_ESYS; // a failure without a reason is still a failure
    case EINVAL:
    case EFAULT:
    case ENOTSOCK:
    case EPROTONOSUPPORT:
        return TROUPE_EINVAL;
    case ENOMEM:
    case ENOBUFS:
        return TROUPE_ENOMEM;
    case EAGAIN:
    case EINTR:
        return TROUPE_EAGAIN;
    case EMSGSIZE:
        return TROUPE_EMSGSIZE;
    case ETERM:
    case ESHUTDOWN:
        return TROUPE_ESHUTDOWN;
    case EADDRINUSE:
        return TROUPE_EEXIST;
    case ENOENT:
    case ECONNREFUSED:
    case EHOSTUNREACH:
        return TROUPE_ENOENT;
    case ETIMEDOUT:
        return TROUPE_ETIMEDOUT;
    case ENOTSUP:
        return TROUPE_ENOTSUP;
    case EFSM:
        return TROUPE_ESTATE;
    default:
        return TROUPE_ESYS;
    }
}

int tr_err_zmq(void)
{
    return tr_err_from_errno(zmq_errno());
}
