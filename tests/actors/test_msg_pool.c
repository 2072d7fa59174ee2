// SPDX-License-Identifier: MIT
//
// Per-thread message pools (actors/msg_pool.c): memory freed on its own
// thread is reused, memory freed on another thread goes back to its pool
// and is reused there, and memory that outlives its pool's thread is still
// freed cleanly (under ASan/LSan and TSan a leak or a race here fails),
// also when a port thread gives them back in chains.
#include <pthread.h>
#include <semaphore.h>

#include "msg_pool.h"
#include "tr_check.h"

#define S_N 4096

typedef struct s_batch {
    void *mem[S_N];
    tr_msg_pool *home[S_N];
    int wait_back; // the thread waits for the batch to come back
    sem_t made;    // the batch is allocated
    sem_t back;    // the batch was given back
    int reused;    // the thread got a given-back chunk again
} s_batch;

static void *s_pool_thread(void *arg)
{
    s_batch *b = arg;
    tr_msg_pool_enter();
    for (int i = 0; i < S_N; i++) {
        b->mem[i] = tr_msg_pool_alloc(64, &b->home[i]);
        *(int *)b->mem[i] = i;
    }
    sem_post(&b->made);
    if (b->wait_back) {
        sem_wait(&b->back);
        tr_msg_pool *h;
        void *again = tr_msg_pool_alloc(64, &h);
        for (int i = 0; i < S_N; i++)
            b->reused |= again == b->mem[i];
        tr_msg_pool_free(again, h);
    }
    tr_msg_pool_leave();
    return NULL;
}

static void s_give_back(s_batch *b)
{
    for (int i = 0; i < S_N; i++) {
        ck_assert_int_eq(*(int *)b->mem[i], i);
        tr_msg_pool_free(b->mem[i], b->home[i]);
    }
}

START_TEST(memory_outliving_its_thread_is_freed_by_whoever_holds_it)
{
    static s_batch b;
    size_t mapped = tr_msg_pool_mapped();
    sem_init(&b.made, 0, 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, s_pool_thread, &b), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0); // the pool's thread ended
    if (TR_MSG_POOLED) // the chunks out keep their region
        ck_assert_uint_gt(tr_msg_pool_mapped(), mapped);
    s_give_back(&b); // the last frees the pool
    ck_assert_uint_eq(tr_msg_pool_mapped(), mapped);
}
END_TEST

START_TEST(memory_given_back_from_another_thread_is_reused_by_its_pool)
{
    static s_batch b = {.wait_back = 1};
    sem_init(&b.made, 0, 0);
    sem_init(&b.back, 0, 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, s_pool_thread, &b), 0);
    sem_wait(&b.made);
    s_give_back(&b); // pushed back while the pool's thread lives
    sem_post(&b.back);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(b.reused, TR_MSG_POOLED);
}
END_TEST

// A port thread gives chunks back: it has a pool of its own, so they wait
// in a chain that tr_msg_pool_flush (or its leave) sends home.
typedef struct s_freer {
    s_batch *b[2]; // batches to give back, interleaved (two homes)
    int flush;     // flush before leaving (else the leave does it)
} s_freer;

static void *s_freer_thread(void *arg)
{
    s_freer *f = arg;
    tr_msg_pool_enter();
    for (int i = 0; i < S_N; i++)
        for (int k = 0; k < 2 && f->b[k]; k++) {
            s_batch *b = f->b[k];
            ck_assert_int_eq(*(int *)b->mem[i], i);
            tr_msg_pool_free(b->mem[i], b->home[i]);
        }
    if (f->flush)
        tr_msg_pool_flush();
    tr_msg_pool_leave();
    return NULL;
}

static void s_run_freer(s_freer *f)
{
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, s_freer_thread, f), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
}

START_TEST(chunks_given_back_in_chains_reach_their_live_pools)
{
    static s_batch b1 = {.wait_back = 1}, b2 = {.wait_back = 1};
    s_batch *bs[2] = {&b1, &b2};
    pthread_t t[2];
    for (int k = 0; k < 2; k++) {
        sem_init(&bs[k]->made, 0, 0);
        sem_init(&bs[k]->back, 0, 0);
        ck_assert_int_eq(pthread_create(&t[k], NULL, s_pool_thread, bs[k]), 0);
        sem_wait(&bs[k]->made);
    }
    s_freer f = {.b = {&b1, &b2}, .flush = 1};
    s_run_freer(&f); // chains alternate between the two homes
    for (int k = 0; k < 2; k++) {
        sem_post(&bs[k]->back);
        ck_assert_int_eq(pthread_join(t[k], NULL), 0);
        ck_assert_int_eq(bs[k]->reused, TR_MSG_POOLED);
    }
}
END_TEST

START_TEST(chunks_in_a_chain_whose_pool_ended_are_freed)
{
    static s_batch b;
    size_t mapped = tr_msg_pool_mapped();
    sem_init(&b.made, 0, 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, s_pool_thread, &b), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0); // the pool's thread ended
    s_freer f = {.b = {&b, NULL}, .flush = 0};  // its leave flushes
    s_run_freer(&f); // the last chain frees the pool and its regions
    ck_assert_uint_eq(tr_msg_pool_mapped(), mapped);
}
END_TEST

START_TEST(own_memory_is_reused_and_large_memory_is_not_pooled)
{
    ck_assert_int_eq(tr_msg_pool_enter(), 0);
    tr_msg_pool *h1, *h2, *big;
    void *a = tr_msg_pool_alloc(100, &h1);
    ck_assert_int_eq(h1 != NULL, TR_MSG_POOLED);
    tr_msg_pool_free(a, h1);
    void *b = tr_msg_pool_alloc(90, &h2); // the same size class
    if (TR_MSG_POOLED)
        ck_assert_ptr_eq(a, b); // the chunk just freed comes back
    tr_msg_pool *h3;
    void *d = tr_msg_pool_alloc(TR_MSG_POOL_CHUNK, &h3); // the large class
    ck_assert_int_eq(h3 != NULL, TR_MSG_POOLED);
    if (TR_MSG_POOLED)
        ck_assert_ptr_ne(h3, h2);
    tr_msg_pool_free(d, h3);
    void *c = tr_msg_pool_alloc(TR_MSG_POOL_CHUNK + 1, &big);
    ck_assert_ptr_null(big); // too large: malloc'd
    tr_msg_pool_free(c, big);
    tr_msg_pool_free(b, h2);
    tr_msg_pool_leave();
    tr_msg_pool_leave(); // twice is harmless
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("msg_pool");
    TCase *tc = tcase_create("pool");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, own_memory_is_reused_and_large_memory_is_not_pooled);
    tcase_add_test(tc,
                   memory_given_back_from_another_thread_is_reused_by_its_pool);
    tcase_add_test(tc,
                   memory_outliving_its_thread_is_freed_by_whoever_holds_it);
    tcase_add_test(tc, chunks_given_back_in_chains_reach_their_live_pools);
    tcase_add_test(tc, chunks_in_a_chain_whose_pool_ended_are_freed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tr_run_suite(make_suite());
}
