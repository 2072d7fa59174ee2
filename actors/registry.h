// SPDX-License-Identifier: MIT
//
// The name registry of a node, actors layer: name -> address, readable from
// any thread under a reader-writer lock. An actor's names are dropped by its
// port when it ends (tr_registry_drop_addr).
#ifndef TR_REGISTRY_H
#define TR_REGISTRY_H

#include <pthread.h>
#include <stddef.h>

#include "troupe/common.h"

typedef struct tr_name tr_name;

typedef struct tr_registry {
    pthread_rwlock_t lock; // guards everything below
    tr_name **buckets;     // chained hash table
    size_t nbuckets;       // power of two
    size_t count;          // names registered
} tr_registry;

int tr_registry_init(tr_registry *r);
void tr_registry_fini(tr_registry *r);
// 0, TROUPE_EEXIST, TROUPE_ENOMEM.
int tr_registry_add(tr_registry *r, const char *name, size_t len,
                    troupe_addr who);
// 0 or TROUPE_ENOENT.
int tr_registry_remove(tr_registry *r, const char *name);
// 0 and *who, or TROUPE_ENOENT.
int tr_registry_find(tr_registry *r, const char *name, troupe_addr *who);
// Remove name only if it still maps to who (an actor dropping its own name).
void tr_registry_drop(tr_registry *r, const char *name, troupe_addr who);

#endif
