// SPDX-License-Identifier: MIT
//
// The actor table (actors/slots.c): slots are handed out once each, a port
// thread's cache moves them to and from the table in batches, released
// slots come back, the capacity holds with caches in play, and everything
// cached goes back when a cache drains.
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "slots.h"
#include "tr_check.h"
#include "troupe/error.h"

#define S_CAP (2 * TR_SLOT_CHUNK) // capacity of the tables here

// Take every slot the table has through alloc (cache may be NULL): how
// many, each index checked unique; ends with TROUPE_ELIMIT.
static uint32_t s_take_all(tr_slots *t, tr_slot_cache *c, bool *seen)
{
    uint32_t n = 0, i;
    int rc;
    while ((rc = tr_slots_alloc(t, c, &i)) == 0) {
        ck_assert_msg(i > 0 && i < S_CAP, "slot %u out of range", i);
        ck_assert_msg(!seen[i], "slot %u handed out twice", i);
        ck_assert_ptr_nonnull(tr_slots_get(t, i));
        seen[i] = true;
        n++;
    }
    ck_assert_int_eq(rc, TROUPE_ELIMIT);
    return n;
}

START_TEST(a_cache_takes_a_batch_and_hands_it_out_without_the_table)
{
    tr_slots t;
    ck_assert_int_eq(tr_slots_init(&t, S_CAP), 0);
    tr_slot_cache c = {0};
    uint32_t first;
    ck_assert_int_eq(tr_slots_alloc(&t, &c, &first), 0);
    ck_assert_uint_eq(c.n, TR_SLOT_BATCH - 1); // the rest of its batch
    uint32_t next_new = t.next_new;
    for (uint32_t k = 1; k < TR_SLOT_BATCH; k++) {
        uint32_t i;
        ck_assert_int_eq(tr_slots_alloc(&t, &c, &i), 0);
        ck_assert_uint_ne(i, first);
    }
    ck_assert_uint_eq(c.n, 0);
    ck_assert_uint_eq(t.next_new, next_new); // none came from the table
    tr_slots_fini(&t);
}
END_TEST

START_TEST(released_slots_fill_the_cache_then_go_back_in_batches)
{
    tr_slots t;
    ck_assert_int_eq(tr_slots_init(&t, S_CAP), 0);
    tr_slot_cache c = {0};
    static uint32_t idx[3 * TR_SLOT_CACHE_MAX];
    uint32_t n = sizeof idx / sizeof idx[0];
    for (uint32_t k = 0; k < n; k++)
        ck_assert_int_eq(tr_slots_alloc(&t, NULL, &idx[k]), 0);
    ck_assert_uint_eq(t.free_head, 0);
    for (uint32_t k = 0; k < n; k++) {
        tr_slots_release(&t, &c, idx[k]);
        ck_assert_uint_le(c.n, TR_SLOT_CACHE_MAX);
    }
    ck_assert_uint_ne(t.free_head, 0); // the overflow went to the table
    uint32_t cached = c.n;
    tr_slots_cache_drain(&t, &c);
    ck_assert_uint_eq(c.n, 0);
    // All of them are free in the table again: taken without a cache,
    // every one comes back before any new slot.
    uint32_t next_new = t.next_new;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i;
        ck_assert_int_eq(tr_slots_alloc(&t, NULL, &i), 0);
        ck_assert_uint_lt(i, next_new);
    }
    ck_assert_uint_eq(t.next_new, next_new);
    ck_assert_uint_gt(cached, 0);
    tr_slots_fini(&t);
}
END_TEST

START_TEST(capacity_holds_with_caches_and_nothing_is_handed_out_twice)
{
    tr_slots t;
    ck_assert_int_eq(tr_slots_init(&t, S_CAP), 0);
    bool *seen = calloc(S_CAP, sizeof *seen);
    ck_assert_ptr_nonnull(seen);
    tr_slot_cache a = {0}, b = {0};
    uint32_t got = s_take_all(&t, &a, seen) + s_take_all(&t, &b, seen) +
                   s_take_all(&t, NULL, seen);
    ck_assert_uint_eq(got, S_CAP - 1); // slot 0 names nobody
    // Given back through one cache and drained, all of them serve again.
    for (uint32_t i = 1; i < S_CAP; i++) {
        seen[i] = false;
        tr_slots_release(&t, &a, i);
    }
    tr_slots_cache_drain(&t, &a);
    ck_assert_uint_eq(s_take_all(&t, &b, seen), S_CAP - 1);
    free(seen);
    tr_slots_fini(&t);
}
END_TEST

// Two threads, each with its cache, spawning and ending (as two loops).
typedef struct s_share {
    tr_slots *t;
    uint32_t taken; // slots taken and given back
} s_share;

static void *s_churn(void *arg)
{
    s_share *s = arg;
    tr_slot_cache c = {0};
    uint32_t held[100];
    for (int round = 0; round < 200; round++) {
        for (int k = 0; k < 100; k++)
            if (tr_slots_alloc(s->t, &c, &held[k]) == 0)
                s->taken++;
            else
                held[k] = 0;
        for (int k = 0; k < 100; k++)
            if (held[k])
                tr_slots_release(s->t, &c, held[k]);
    }
    tr_slots_cache_drain(s->t, &c);
    return NULL;
}

START_TEST(two_threads_with_caches_share_the_table)
{
    tr_slots t;
    ck_assert_int_eq(tr_slots_init(&t, S_CAP), 0);
    s_share a = {&t, 0}, b = {&t, 0};
    pthread_t ta, tb;
    ck_assert_int_eq(pthread_create(&ta, NULL, s_churn, &a), 0);
    ck_assert_int_eq(pthread_create(&tb, NULL, s_churn, &b), 0);
    ck_assert_int_eq(pthread_join(ta, NULL), 0);
    ck_assert_int_eq(pthread_join(tb, NULL), 0);
    ck_assert_uint_eq(a.taken, 200 * 100);
    ck_assert_uint_eq(b.taken, 200 * 100);
    // Everything came back: the whole capacity can be taken at once.
    bool *seen = calloc(S_CAP, sizeof *seen);
    ck_assert_ptr_nonnull(seen);
    ck_assert_uint_eq(s_take_all(&t, NULL, seen), S_CAP - 1);
    free(seen);
    tr_slots_fini(&t);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("slots");
    TCase *tc = tcase_create("slots");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc,
                   a_cache_takes_a_batch_and_hands_it_out_without_the_table);
    tcase_add_test(tc, released_slots_fill_the_cache_then_go_back_in_batches);
    tcase_add_test(tc,
                   capacity_holds_with_caches_and_nothing_is_handed_out_twice);
    tcase_add_test(tc, two_threads_with_caches_share_the_table);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tr_run_suite(make_suite());
}
