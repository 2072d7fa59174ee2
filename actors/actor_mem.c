// SPDX-License-Identifier: MIT
//
// Actor memory (see actor_mem.h): regions (mem_region.h) carved into
// structs of a few size classes; free lists per port thread in front of the
// node's, moved in batches so that the node's lock is taken once per batch,
// not once per spawn.
#include <stdlib.h>
#include <string.h>

#include "actor_mem.h"
#include "troupe/error.h"

#define S_ON TR_ACTOR_MEM_ON
#define S_FIRST (256u << 10) // bytes in a node's first region
#define S_BATCH 32           // structs moved between a cache and the node
#define S_CACHE_MAX 256      // a cache keeps at most this many per class

struct tr_actor_mem_obj {
    tr_actor_mem_obj *next; // free-list link, while free
};

// Room beyond the base struct for inline state, per class.
static const size_t s_extra[TR_ACTOR_MEM_CLASSES] = {0, 64, 192, 448};

static size_t s_round16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

static size_t s_class_size(const tr_actor_mem *m, int k)
{
    return s_round16(m->base + s_extra[k]);
}

// The class of a struct of `size` bytes, or -1: malloc'd.
static int s_class(const tr_actor_mem *m, size_t size)
{
    if (!S_ON)
        return -1;
    for (int k = 0; k < TR_ACTOR_MEM_CLASSES; k++)
        if (size <= s_class_size(m, k))
            return k;
    return -1;
}

int tr_actor_mem_init(tr_actor_mem *m, size_t base)
{
    memset(m, 0, sizeof *m);
    m->base = base;
    return pthread_mutex_init(&m->lock, NULL) ? TROUPE_ESYS : 0;
}

void tr_actor_mem_fini(tr_actor_mem *m)
{
    tr_regions_unmap(&m->regions);
    pthread_mutex_destroy(&m->lock);
}

// A new region, made the one to carve from. Under the lock. The first is
// S_FIRST bytes on small pages: a small node (a process child, a test, a
// tool with a few actors) touches a few of them (mem_region.h).
static int s_new_region(tr_actor_mem *m)
{
    char *end, *at = tr_region_new(&m->regions, S_FIRST, &end);
    if (!at)
        return TROUPE_ENOMEM;
    m->carve = at;
    m->carve_end = end;
    return 0;
}

// One struct of class k from the node: freed or freshly carved. Under the
// lock.
static tr_actor_mem_obj *s_take(tr_actor_mem *m, int k)
{
    tr_actor_mem_obj *o = m->free[k];
    if (o) {
        m->free[k] = o->next;
        return o;
    }
    size_t sz = s_class_size(m, k);
    if (m->carve + sz > m->carve_end && s_new_region(m))
        return NULL;
    o = (tr_actor_mem_obj *)m->carve;
    m->carve += sz;
    return o;
}

void *tr_actor_mem_alloc(tr_actor_mem *m, tr_actor_cache *cache, size_t size)
{
    int k = s_class(m, size);
    if (k < 0)
        return calloc(1, size);
    tr_actor_mem_obj *o = NULL;
    if (cache && cache->free[k]) {
        o = cache->free[k];
        cache->free[k] = o->next;
        cache->n[k]--;
    } else {
        pthread_mutex_lock(&m->lock);
        o = s_take(m, k);
        // A port thread takes a batch: the next spawns need no lock.
        for (int i = 1; cache && o && i < S_BATCH; i++) {
            tr_actor_mem_obj *x = s_take(m, k);
            if (!x)
                break;
            x->next = cache->free[k];
            cache->free[k] = x;
            cache->n[k]++;
        }
        pthread_mutex_unlock(&m->lock);
        if (!o)
            return NULL;
    }
    memset(o, 0, s_class_size(m, k));
    return o;
}

// Move n structs of class k from the cache to the node. Under no lock.
static void s_give_back(tr_actor_mem *m, tr_actor_cache *cache, int k,
                        uint32_t n)
{
    pthread_mutex_lock(&m->lock);
    for (uint32_t i = 0; i < n && cache->free[k]; i++) {
        tr_actor_mem_obj *o = cache->free[k];
        cache->free[k] = o->next;
        cache->n[k]--;
        o->next = m->free[k];
        m->free[k] = o;
    }
    pthread_mutex_unlock(&m->lock);
}

void tr_actor_mem_free(tr_actor_mem *m, tr_actor_cache *cache, void *p,
                       size_t size)
{
    if (!p)
        return;
    int k = s_class(m, size);
    if (k < 0) {
        free(p);
        return;
    }
    tr_actor_mem_obj *o = p;
    if (cache) {
        o->next = cache->free[k];
        cache->free[k] = o;
        if (++cache->n[k] > S_CACHE_MAX)
            s_give_back(m, cache, k, S_CACHE_MAX / 2);
        return;
    }
    pthread_mutex_lock(&m->lock);
    o->next = m->free[k];
    m->free[k] = o;
    pthread_mutex_unlock(&m->lock);
}

void tr_actor_cache_drain(tr_actor_mem *m, tr_actor_cache *cache)
{
    for (int k = 0; k < TR_ACTOR_MEM_CLASSES; k++)
        if (cache->n[k])
            s_give_back(m, cache, k, cache->n[k]);
}
