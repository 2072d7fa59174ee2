// SPDX-License-Identifier: MIT
//
// The name registry (see registry.h), actors layer: a chained hash table
// (FNV-1a) that doubles when it is three-quarters full.
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "troupe/error.h"

struct tr_name {
    tr_name *next;   // chain link
    troupe_addr who; // the actor the name maps to
    char name[];     // NUL-terminated copy
};

static size_t s_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)h;
}

int tr_registry_init(tr_registry *r)
{
    r->nbuckets = 64;
    r->count = 0;
    r->buckets = calloc(r->nbuckets, sizeof *r->buckets);
    if (!r->buckets)
        return TROUPE_ENOMEM;
    pthread_rwlock_init(&r->lock, NULL);
    return 0;
}

void tr_registry_fini(tr_registry *r)
{
    if (!r->buckets)
        return;
    for (size_t i = 0; i < r->nbuckets; i++) {
        tr_name *n = r->buckets[i];
        while (n) {
            tr_name *next = n->next;
            free(n);
            n = next;
        }
    }
    free(r->buckets);
    r->buckets = NULL;
    pthread_rwlock_destroy(&r->lock);
}

static tr_name **s_lookup(tr_registry *r, const char *name)
{
    tr_name **p = &r->buckets[s_hash(name) & (r->nbuckets - 1)];
    while (*p && strcmp((*p)->name, name) != 0)
        p = &(*p)->next;
    return p;
}

static void s_grow(tr_registry *r)
{
    size_t nb = r->nbuckets * 2;
    tr_name **b = calloc(nb, sizeof *b);
    if (!b)
        return; // longer chains, still correct
    for (size_t i = 0; i < r->nbuckets; i++) {
        tr_name *n = r->buckets[i];
        while (n) {
            tr_name *next = n->next;
            size_t h = s_hash(n->name) & (nb - 1);
            n->next = b[h];
            b[h] = n;
            n = next;
        }
    }
    free(r->buckets);
    r->buckets = b;
    r->nbuckets = nb;
}

int tr_registry_add(tr_registry *r, const char *name, size_t len,
                    troupe_addr who)
{
    tr_name *n = malloc(sizeof *n + len + 1);
    if (!n)
        return TROUPE_ENOMEM;
    memcpy(n->name, name, len);
    n->name[len] = '\0';
    n->who = who;
    pthread_rwlock_wrlock(&r->lock);
    tr_name **p = s_lookup(r, n->name);
    if (*p) {
        pthread_rwlock_unlock(&r->lock);
        free(n);
        return TROUPE_EEXIST;
    }
    n->next = NULL;
    *p = n;
    if (++r->count > r->nbuckets * 3 / 4)
        s_grow(r);
    pthread_rwlock_unlock(&r->lock);
    return 0;
}

static int s_remove(tr_registry *r, const char *name, const troupe_addr *who)
{
    pthread_rwlock_wrlock(&r->lock);
    tr_name **p = s_lookup(r, name);
    tr_name *n = *p;
    if (!n || (who && !troupe_addr_eq(n->who, *who))) {
        pthread_rwlock_unlock(&r->lock);
        return TROUPE_ENOENT;
    }
    *p = n->next;
    r->count--;
    pthread_rwlock_unlock(&r->lock);
    free(n);
    return 0;
}

int tr_registry_remove(tr_registry *r, const char *name)
{
    return s_remove(r, name, NULL);
}

void tr_registry_drop(tr_registry *r, const char *name, troupe_addr who)
{
    (void)s_remove(r, name, &who);
}

int tr_registry_find(tr_registry *r, const char *name, troupe_addr *who)
{
    pthread_rwlock_rdlock(&r->lock);
    tr_name *n = *s_lookup(r, name);
    if (n)
        *who = n->who;
    pthread_rwlock_unlock(&r->lock);
    return n ? 0 : TROUPE_ENOENT;
}
