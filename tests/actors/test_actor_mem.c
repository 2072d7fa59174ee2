// SPDX-License-Identifier: MIT
//
// Actor memory (actors/actor_mem.c): structs come zeroed and aligned, are
// reused once freed, move between a port thread's cache and the node in
// batches, large ones are malloc'd, and everything goes back when the
// allocator ends (under ASan/LSan a leak fails; under TSan a race does).
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "actor_mem.h"
#include "tr_check.h"

#define S_BASE 304 // as an actor struct without state
#define S_N 5000   // more than a cache keeps, fewer than a region holds

static int s_zeroed(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

START_TEST(structs_are_zeroed_aligned_and_reused)
{
    tr_actor_mem m;
    ck_assert_int_eq(tr_actor_mem_init(&m, S_BASE), 0);
    unsigned char *a = tr_actor_mem_alloc(&m, NULL, S_BASE);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq((uintptr_t)a % 16, 0);
    ck_assert(s_zeroed(a, S_BASE));
    memset(a, 0xab, S_BASE);
    tr_actor_mem_free(&m, NULL, a, S_BASE);
    unsigned char *b = tr_actor_mem_alloc(&m, NULL, S_BASE);
    if (TR_ACTOR_MEM_ON)
        ck_assert_ptr_eq(a, b);     // the struct just freed comes back...
    ck_assert(s_zeroed(b, S_BASE)); // ...zeroed again
    // With inline state: a larger class, still zeroed and aligned.
    unsigned char *c = tr_actor_mem_alloc(&m, NULL, S_BASE + 100);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq((uintptr_t)c % 16, 0);
    ck_assert(s_zeroed(c, S_BASE + 100));
    size_t mapped = m.regions.mapped; // a node's first region: 256 KiB
    ck_assert_uint_eq(mapped, TR_ACTOR_MEM_ON ? 256u << 10 : 0);
    // Too large for a class: malloc'd, no region touched.
    unsigned char *big = tr_actor_mem_alloc(&m, NULL, S_BASE + 4096);
    ck_assert_ptr_nonnull(big);
    ck_assert(s_zeroed(big, S_BASE + 4096));
    ck_assert_uint_eq(m.regions.mapped, mapped);
    tr_actor_mem_free(&m, NULL, big, S_BASE + 4096);
    tr_actor_mem_free(&m, NULL, c, S_BASE + 100);
    tr_actor_mem_free(&m, NULL, b, S_BASE);
    tr_actor_mem_fini(&m);
}
END_TEST

START_TEST(a_cache_takes_and_gives_back_in_batches)
{
    tr_actor_mem m;
    ck_assert_int_eq(tr_actor_mem_init(&m, S_BASE), 0);
    tr_actor_cache cache = {0};
    static void *p[S_N];
    for (int i = 0; i < S_N; i++) {
        p[i] = tr_actor_mem_alloc(&m, &cache, S_BASE);
        ck_assert_ptr_nonnull(p[i]);
        memset(p[i], i & 0xff, S_BASE); // each its own: no overlap
    }
    for (int i = 0; i < S_N; i++)
        ck_assert_uint_eq(((unsigned char *)p[i])[S_BASE - 1], i & 0xff);
    if (TR_ACTOR_MEM_ON) // the batch taken beyond what was asked
        ck_assert_uint_lt(cache.n[0], 32);
    for (int i = 0; i < S_N; i++)
        tr_actor_mem_free(&m, &cache, p[i], S_BASE);
    ck_assert_uint_le(cache.n[0], 256); // the rest went to the node
    tr_actor_cache_drain(&m, &cache);
    ck_assert_uint_eq(cache.n[0], 0);
    ck_assert_ptr_null(cache.free[0]);
    // All of it is reused: no region more for the same number again.
    size_t mapped = m.regions.mapped;
    for (int i = 0; i < S_N; i++)
        p[i] = tr_actor_mem_alloc(&m, NULL, S_BASE);
    ck_assert_uint_eq(m.regions.mapped, mapped);
    for (int i = 0; i < S_N; i++)
        tr_actor_mem_free(&m, NULL, p[i], S_BASE);
    tr_actor_mem_fini(&m);
}
END_TEST

// Structs allocated by one thread's cache and freed by another's (a
// spawner's loop and the actor's own loop).
typedef struct s_share {
    tr_actor_mem *m;
    void **p;
    int free_them;
} s_share;

static void *s_worker(void *arg)
{
    s_share *s = arg;
    tr_actor_cache cache = {0};
    for (int i = 0; i < S_N; i++) {
        if (s->free_them)
            tr_actor_mem_free(s->m, &cache, s->p[i], S_BASE + 64);
        else
            s->p[i] = tr_actor_mem_alloc(s->m, &cache, S_BASE + 64);
    }
    tr_actor_cache_drain(s->m, &cache);
    return NULL;
}

START_TEST(structs_freed_on_another_thread_go_back)
{
    tr_actor_mem m;
    ck_assert_int_eq(tr_actor_mem_init(&m, S_BASE), 0);
    static void *p[S_N];
    s_share a = {&m, p, 0}, b = {&m, p, 1};
    for (int round = 0; round < 3; round++) {
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, NULL, s_worker, &a), 0);
        ck_assert_int_eq(pthread_join(t, NULL), 0);
        for (int i = 0; i < S_N; i++)
            ck_assert_ptr_nonnull(p[i]);
        ck_assert_int_eq(pthread_create(&t, NULL, s_worker, &b), 0);
        ck_assert_int_eq(pthread_join(t, NULL), 0);
    }
    // Three rounds of S_N structs of 368 bytes: the first round's regions
    // (the first of 256 KiB, then one of 2 MiB) serve the next two.
    if (TR_ACTOR_MEM_ON)
        ck_assert_uint_eq(m.regions.mapped, (256u << 10) + (2u << 20));
    tr_actor_mem_fini(&m);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("actor_mem");
    TCase *tc = tcase_create("actor_mem");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, structs_are_zeroed_aligned_and_reused);
    tcase_add_test(tc, a_cache_takes_and_gives_back_in_batches);
    tcase_add_test(tc, structs_freed_on_another_thread_go_back);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tr_run_suite(make_suite());
}
