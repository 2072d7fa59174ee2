// SPDX-License-Identifier: MIT
//
// The public supervisor calls, supervisor layer: starting a supervisor
// (from main or from an actor) and the calls that ask a running one to add,
// stop or find a child or report its counters. A running supervisor is an
// actor, so every call after the start is a request to it, made here
// through a short-lived client handle and answered by supervisor.c.
#include <stdlib.h>

#include "node_internal.h"
#include "sup_internal.h"
#include "troupe/client.h"
#include "troupe/request.h"

TROUPE_API int troupe_node_sup_start(troupe_node *node,
                                     const troupe_sup_spec *spec,
                                     int64_t deadline, troupe_addr *sup)
{
    if (!node || !sup || tr_sup_spec_check(spec) ||
        (spec->strategy != TROUPE_SIMPLE_ONE_FOR_ONE && !spec->n_children))
        return TROUPE_EINVAL;
    tr_sup_copy *copy = tr_sup_copy_new(spec);
    tr_waiter *ready = copy ? tr_waiter_new() : NULL;
    if (!ready) {
        tr_sup_copy_unref(copy);
        return TROUPE_ENOMEM;
    }
    copy->ready = ready; // the supervisor signals it and drops its reference
    troupe_actor_spec as;
    tr_sup_actor_spec(copy, &as);
    troupe_addr addr;
    int rc = troupe_node_spawn(node, &as, deadline, &addr);
    if (copy->ready) { // its init never took it: nobody will signal
        copy->ready = NULL;
        tr_waiter_release(ready);
    }
    tr_sup_copy_unref(copy); // the actor holds its own reference
    if (rc) {
        tr_waiter_release(ready);
        return rc;
    }
    // Until every child is up, or the first failure (the supervisor then
    // stopped what it had started and ended).
    rc = tr_waiter_wait(ready, deadline);
    if (rc) {
        troupe_node_stop_actor(node, addr, TROUPE_ESHUTDOWN);
        return rc;
    }
    *sup = addr;
    return 0;
}

TROUPE_API int troupe_sup_start(troupe_ctx *cx, const troupe_sup_spec *spec,
                                troupe_addr *sup)
{
    if (!cx || !sup || tr_sup_spec_check(spec) ||
        (spec->strategy != TROUPE_SIMPLE_ONE_FOR_ONE && !spec->n_children))
        return TROUPE_EINVAL;
    tr_sup_copy *copy = tr_sup_copy_new(spec);
    if (!copy)
        return TROUPE_ENOMEM;
    troupe_actor_spec as;
    tr_sup_actor_spec(copy, &as);
    troupe_addr addr;
    int rc = troupe_spawn(cx, &as, &addr);
    tr_sup_copy_unref(copy);
    if (rc == 0)
        rc = troupe_link(cx, addr);
    if (rc == 0)
        *sup = addr;
    return rc;
}

// A client handle to ask supervisor sup something (a request each).
static int s_client(troupe_node *node, troupe_addr sup, troupe_client **c)
{
    if (!node || !troupe_addr_valid(sup))
        return TROUPE_EINVAL;
    return troupe_client_new(node, c);
}

static int s_read_addr(troupe_msg **reply, troupe_addr *addr)
{
    troupe_addr a;
    int rc = troupe_msg_read(*reply, "[uuu]", &a.node, &a.slot, &a.incarnation);
    troupe_msg_destroy(reply);
    if (rc == 0 && addr)
        *addr = a;
    return rc;
}

TROUPE_API int troupe_sup_start_child(troupe_node *node, troupe_addr sup,
                                      const troupe_child_spec *child,
                                      int64_t deadline, troupe_addr *addr)
{
    troupe_client *c;
    troupe_msg *reply = NULL;
    int rc = s_client(node, sup, &c);
    if (rc)
        return rc;
    // The spec travels as a pointer: this call waits for the answer, and
    // the supervisor copies the spec before answering.
    rc = troupe_call(c, sup, "$sup.start_child", deadline, &reply, "[U]",
                     (uint64_t)(uintptr_t)child);
    troupe_client_destroy(&c);
    return rc ? rc : s_read_addr(&reply, addr);
}

TROUPE_API int troupe_sup_stop_child(troupe_node *node, troupe_addr sup,
                                     troupe_addr child, bool forget,
                                     int64_t deadline)
{
    troupe_client *c;
    troupe_msg *reply = NULL;
    int rc = s_client(node, sup, &c);
    if (rc)
        return rc;
    rc = troupe_call(c, sup, "$sup.stop_child", deadline, &reply, "[uuub]",
                     child.node, child.slot, child.incarnation, (int)forget);
    troupe_msg_destroy(&reply);
    troupe_client_destroy(&c);
    return rc;
}

// A request carrying a child's id; *reply (may be NULL) gets the answer.
static int s_ask_id(troupe_node *node, troupe_addr sup, const char *tag,
                    const char *id, int64_t deadline, troupe_msg **reply)
{
    if (!id)
        return TROUPE_EINVAL;
    troupe_client *c;
    troupe_msg *r = NULL;
    int rc = s_client(node, sup, &c);
    if (rc)
        return rc;
    rc = troupe_call(c, sup, tag, deadline, &r, "[s]", id);
    troupe_client_destroy(&c);
    if (reply)
        *reply = r;
    else
        troupe_msg_destroy(&r);
    return rc;
}

TROUPE_API int troupe_sup_restart_child(troupe_node *node, troupe_addr sup,
                                        const char *id, int64_t deadline,
                                        troupe_addr *addr)
{
    troupe_msg *reply = NULL;
    int rc = s_ask_id(node, sup, "$sup.restart_child", id, deadline, &reply);
    return rc ? rc : s_read_addr(&reply, addr);
}

TROUPE_API int troupe_sup_delete_child(troupe_node *node, troupe_addr sup,
                                       const char *id, int64_t deadline)
{
    return s_ask_id(node, sup, "$sup.delete_child", id, deadline, NULL);
}

TROUPE_API int troupe_sup_which_child(troupe_node *node, troupe_addr sup,
                                      const char *id, int64_t deadline,
                                      troupe_addr *addr)
{
    if (!addr)
        return TROUPE_EINVAL;
    troupe_msg *reply = NULL;
    int rc = s_ask_id(node, sup, "$sup.which", id, deadline, &reply);
    return rc ? rc : s_read_addr(&reply, addr);
}

TROUPE_API int troupe_sup_stats_get(troupe_node *node, troupe_addr sup,
                                    int64_t deadline, troupe_sup_stats *st)
{
    if (!st)
        return TROUPE_EINVAL;
    troupe_client *c;
    troupe_msg *reply = NULL;
    int rc = s_client(node, sup, &c);
    if (rc)
        return rc;
    rc = troupe_call(c, sup, "$sup.stats", deadline, &reply, NULL);
    troupe_client_destroy(&c);
    if (rc)
        return rc;
    unsigned kids, running, workers, sups;
    uint64_t restarts;
    rc = troupe_msg_read(reply, "[uuuuU]", &kids, &running, &workers, &sups,
                         &restarts);
    troupe_msg_destroy(&reply);
    if (rc == 0)
        *st = (troupe_sup_stats){kids, running, workers, sups, restarts};
    return rc;
}
