// SPDX-License-Identifier: MIT
//
// Supervisor specs, supervisor layer (see sup_spec.h): the documented
// defaults, the checks that make a bad spec TROUPE_EINVAL before anything
// starts, and reference-counted deep copies.
#include <stdlib.h>
#include <string.h>

#include "proc_internal.h"
#include "sup_core.h"
#include "sup_spec.h"

// Deepest nesting of supervisor specs checked and copied (a loop in the
// caller's specs would otherwise recurse without end).
#define S_MAX_NEST 64

TROUPE_API void troupe_sup_spec_init(troupe_sup_spec *s)
{
    if (!s)
        return;
    memset(s, 0, sizeof *s);
    s->strategy = TROUPE_ONE_FOR_ONE;
    s->intensity = 1;
    s->period_ms = 5000;
    s->loop = TROUPE_LOOP_AUTO;
}

TROUPE_API void troupe_child_spec_init(troupe_child_spec *c)
{
    if (!c)
        return;
    memset(c, 0, sizeof *c);
    c->restart = TROUPE_PERMANENT;
    c->shutdown_ms = 5000;
    c->start_timeout_ms = 5000;
}

static int s_check(const troupe_sup_spec *spec, int depth);

static int s_child_check(const troupe_child_spec *c, int dynamic, int depth)
{
    if (!c || !(dynamic || (c->id && *c->id)) ||
        (c->restart != TROUPE_PERMANENT && c->restart != TROUPE_TRANSIENT &&
         c->restart != TROUPE_TEMPORARY) ||
        c->shutdown_ms < TROUPE_SHUTDOWN_INFINITY)
        return TROUPE_EINVAL;
    if (c->sup)
        return s_check(c->sup, depth + 1);
    if (c->actor.placement == TROUPE_PROCESS) // the child has the handler
        return c->actor.process && c->actor.process->kind &&
                       *c->actor.process->kind && !c->actor.handler
                   ? 0
                   : TROUPE_EINVAL;
    return c->actor.handler ? 0 : TROUPE_EINVAL;
}

int tr_child_spec_check(const troupe_child_spec *c, int dynamic)
{
    return s_child_check(c, dynamic, 0);
}

static int s_check(const troupe_sup_spec *spec, int depth)
{
    if (!spec || depth > S_MAX_NEST || spec->period_ms <= 0 ||
        spec->intensity > TR_SUP_MAX_INTENSITY ||
        (unsigned)spec->strategy > TROUPE_SIMPLE_ONE_FOR_ONE ||
        spec->backoff_min_ms < 0 || spec->backoff_reset_ms < 0 ||
        (spec->backoff_max_ms && spec->backoff_max_ms < spec->backoff_min_ms) ||
        (spec->n_children && !spec->children))
        return TROUPE_EINVAL;
    int dynamic = spec->strategy == TROUPE_SIMPLE_ONE_FOR_ONE;
    if (dynamic && spec->n_children != 1)
        return TROUPE_EINVAL;
    for (size_t i = 0; i < spec->n_children; i++) {
        const troupe_child_spec *c = &spec->children[i];
        if (s_child_check(c, dynamic, depth))
            return TROUPE_EINVAL;
        for (size_t j = 0; !dynamic && j < i; j++)
            if (strcmp(spec->children[j].id, c->id) == 0)
                return TROUPE_EINVAL; // ids are unique
    }
    return 0;
}

int tr_sup_spec_check(const troupe_sup_spec *spec)
{
    return s_check(spec, 0);
}

static char *s_dup(const char *s, int *failed)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *failed = 1;
    return d;
}

int tr_child_copy_init(tr_child_copy *out, const troupe_child_spec *c)
{
    int failed = 0;
    memset(out, 0, sizeof *out);
    out->id = s_dup(c->id, &failed);
    out->restart = c->restart;
    out->shutdown_ms = c->shutdown_ms;
    out->start_timeout_ms = c->start_timeout_ms;
    if (c->sup) {
        if (!(out->sup = tr_sup_copy_new(c->sup)))
            failed = 1;
    } else {
        out->actor = c->actor;
        out->actor.name = s_dup(c->actor.name, &failed);
        out->actor.process = NULL;
        if (c->actor.placement == TROUPE_PROCESS &&
            !(out->actor.process = tr_proc_spec_dup(c->actor.process)))
            failed = 1;
    }
    if (failed) {
        tr_child_copy_fini(out);
        return TROUPE_ENOMEM;
    }
    return 0;
}

void tr_child_copy_fini(tr_child_copy *c)
{
    free(c->id);
    free((char *)c->actor.name);
    tr_proc_spec_free((troupe_proc_spec *)c->actor.process);
    tr_sup_copy_unref(c->sup);
    memset(c, 0, sizeof *c);
}

tr_sup_copy *tr_sup_copy_new(const troupe_sup_spec *spec)
{
    tr_sup_copy *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    atomic_init(&c->refs, 1);
    c->spec = *spec;
    int failed = 0;
    c->name = s_dup(spec->name, &failed);
    c->spec.name = c->name;
    if (spec->n_children &&
        !(c->children = calloc(spec->n_children, sizeof *c->children)))
        failed = 1;
    for (size_t i = 0; !failed && i < spec->n_children; i++)
        if (tr_child_copy_init(&c->children[i], &spec->children[i]))
            failed = 1;
    c->spec.children = NULL; // read c->children instead
    if (failed) {
        tr_sup_copy_unref(c);
        return NULL;
    }
    return c;
}

void tr_sup_copy_ref(tr_sup_copy *c)
{
    atomic_fetch_add(&c->refs, 1);
}

void tr_sup_copy_unref(tr_sup_copy *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    for (size_t i = 0; c->children && i < c->spec.n_children; i++)
        tr_child_copy_fini(&c->children[i]);
    free(c->children);
    free(c->name);
    free(c);
}
