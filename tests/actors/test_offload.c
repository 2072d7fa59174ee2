// SPDX-License-Identifier: MIT
//
// The offload pool: a job runs on a pool thread and its end comes back to
// the actor that asked, on the actor's own thread, exactly once (the job's
// code, TROUPE_ETIMEDOUT, TROUPE_ECANCELED); the actor stays responsive
// meanwhile; a full queue refuses; canceled, expired and orphaned jobs never
// run; the node stops clean with jobs queued and running; pool threads start
// only when needed.
#include <stdatomic.h>
#include <stdlib.h>

#include "tr_actors.h"
#include "tr_check.h"

static troupe_node *node;
static troupe_client *cl;
static tr_gate entered, release; // a gated job opens / waits for these
static _Atomic int runs;         // jobs whose fn ran
static _Atomic int accepted;     // troupe_offload calls that returned 0
static _Atomic int freed;        // job arguments freed through free_arg

// ---- the job ----

typedef struct job {
    int64_t x, y;       // input; output y = 2 * x
    int code;           // what fn returns
    int gated;          // open `entered`, wait for `release`
    pthread_t worker;   // the thread fn ran on
    troupe_addr client; // who hears "done" (never written by fn)
} job;

static int job_run(void *arg)
{
    job *j = arg;
    atomic_fetch_add(&runs, 1);
    j->worker = pthread_self();
    if (j->gated) {
        tr_gate_open(&entered);
        tr_gate_wait(&release, 10000, "release of a gated job");
    }
    j->y = 2 * j->x;
    return j->code;
}

static void job_free(void *arg)
{
    atomic_fetch_add(&freed, 1);
    free(arg);
}

// ---- the actor that offloads ----

typedef struct owner {
    pthread_t thread; // the actor's thread, seen by its handler
    int open_on_end;  // its fini opens `release`
} owner;

static owner the_owner; // the state of every offloader in a test

// Tells the client "done" {status, y, loop: on the actor's thread, worker:
// fn ran on another thread, state: on_done got the actor's state}.
static int on_done(troupe_ctx *cx, void *state, int status,
                   const troupe_msg *reply, void *arg)
{
    owner *o = state;
    job *j = arg;
    ck_assert_ptr_null(reply);
    int from_fn = status != TROUPE_ETIMEDOUT && status != TROUPE_ECANCELED;
    troupe_tell(cx, j->client, "done", "{s:i,s:I,s:b,s:b,s:b}", "status",
                status, "y", from_fn ? j->y : -1, "loop",
                pthread_equal(o->thread, pthread_self()) != 0, "worker",
                from_fn && !pthread_equal(j->worker, pthread_self()), "state",
                o == &the_owner);
    return 0;
}

// "start" {x, code, gated, ms}: offload a job (ms: its deadline from now,
// 0: the default); replies {rc, id}.
static int start_job(troupe_ctx *cx, const troupe_msg *msg)
{
    job *j = calloc(1, sizeof *j);
    ck_assert_ptr_nonnull(j);
    int64_t ms = 0;
    TR_CK_OK(troupe_msg_read(msg, "{s:I,s:i,s:b,s:I}", "x", &j->x, "code",
                             &j->code, "gated", &j->gated, "ms", &ms));
    j->client = troupe_msg_sender(msg);
    uint64_t id = 0;
    int rc = troupe_offload(cx, job_run, j, job_free,
                            ms ? troupe_deadline_in(ms) : TROUPE_FOREVER,
                            on_done, j, &id);
    if (rc == 0)
        atomic_fetch_add(&accepted, 1);
    else
        free(j); // still ours
    return troupe_reply(cx, msg, "{s:i,s:U}", "rc", rc, "id", id);
}

static int ignore_done(troupe_ctx *cx, void *state, int status,
                       const troupe_msg *reply, void *arg)
{
    (void)cx, (void)state, (void)status, (void)reply, (void)arg;
    return 0;
}

// Calls that must fail, and leave no job behind.
static int misuse(troupe_ctx *cx, const troupe_msg *msg)
{
    TR_CK_ERR(troupe_offload(NULL, job_run, NULL, NULL, TROUPE_FOREVER,
                             ignore_done, NULL, NULL),
              TROUPE_EINVAL);
    TR_CK_ERR(troupe_offload(cx, NULL, NULL, NULL, TROUPE_FOREVER, ignore_done,
                             NULL, NULL),
              TROUPE_EINVAL);
    TR_CK_ERR(troupe_offload(cx, job_run, NULL, NULL, TROUPE_FOREVER, NULL,
                             NULL, NULL),
              TROUPE_EINVAL);
    TR_CK_ERR(troupe_offload(cx, job_run, NULL, NULL, TROUPE_NOWAIT,
                             ignore_done, NULL, NULL),
              TROUPE_ETIMEDOUT);
    return troupe_reply(cx, msg, NULL);
}

static int owner_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    owner *o = state;
    o->thread = pthread_self();
    if (troupe_msg_is(msg, "start"))
        return start_job(cx, msg);
    if (troupe_msg_is(msg, "cancel")) {
        uint64_t id = 0;
        TR_CK_OK(troupe_msg_read(msg, "{s:U}", "id", &id));
        return troupe_reply(cx, msg, "{s:i}", "rc",
                            troupe_request_cancel(cx, id));
    }
    if (troupe_msg_is(msg, "misuse"))
        return misuse(cx, msg);
    if (troupe_msg_is(msg, "exit"))
        return troupe_exit(cx, 0);
    return troupe_reply(cx, msg, NULL); // "ping"
}

// Runs once every wait of the actor has ended.
static void owner_fini(void *state, int reason)
{
    (void)reason;
    owner *o = state;
    if (o->open_on_end)
        tr_gate_open(&release);
}

static troupe_addr spawn_owner(troupe_placement where)
{
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = owner_handler;
    s.fini = owner_fini;
    s.state = &the_owner;
    s.placement = where;
    troupe_addr a;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &a));
    return a;
}

// ---- helpers on the test's side ----

// Ask a to start a job; returns troupe_offload's code (and *id).
static int start(troupe_addr a, int64_t x, int code, int gated, int64_t ms,
                 uint64_t *id)
{
    troupe_msg *r = NULL;
    TR_CK_OK(troupe_call(cl, a, "start", troupe_deadline_in(5000), &r,
                         "{s:I,s:i,s:b,s:I}", "x", x, "code", code, "gated",
                         gated, "ms", ms));
    int rc = 0;
    uint64_t got = 0;
    TR_CK_OK(troupe_msg_read(r, "{s:i,s:U}", "rc", &rc, "id", &got));
    troupe_msg_destroy(&r);
    if (id)
        *id = got;
    return rc;
}

typedef struct done {
    int status;
    int64_t y;
    int loop, worker, state;
} done;

// The next "done" the client hears.
static done wait_done(void)
{
    troupe_msg *m = NULL;
    TR_CK_OK(troupe_client_recv(cl, troupe_deadline_in(5000), &m));
    ck_assert(troupe_msg_is(m, "done"));
    done d;
    TR_CK_OK(troupe_msg_read(m, "{s:i,s:I,s:b,s:b,s:b}", "status", &d.status,
                             "y", &d.y, "loop", &d.loop, "worker", &d.worker,
                             "state", &d.state));
    troupe_msg_destroy(&m);
    return d;
}

static void ping(troupe_addr a)
{
    troupe_msg *r = NULL;
    TR_CK_OK(troupe_call(cl, a, "ping", troupe_deadline_in(5000), &r, NULL));
    troupe_msg_destroy(&r);
}

static troupe_node_stats stats(void)
{
    troupe_node_stats st;
    TR_CK_OK(troupe_node_stats_get(node, &st));
    return st;
}

// Stop the node inside a test (the client goes first), so that what the
// pool did can be checked at rest; teardown then finds it stopped.
static troupe_node_stats stop_node(void)
{
    troupe_client_destroy(&cl);
    TR_CK_OK(troupe_node_stop(node, troupe_deadline_in(5000)));
    return stats();
}

static void setup(void)
{
    troupe_node_opts o;
    troupe_node_opts_init(&o);
    o.loops = 2;
    o.offload_threads = 1; // one worker: a gated job holds the queue
    o.offload_queue = 2;
    node = tr_node_new_opts(&o);
    TR_CK_OK(troupe_client_new(node, &cl));
    tr_gate_init(&entered);
    tr_gate_init(&release);
    the_owner = (owner){0};
}

static void teardown(void)
{
    troupe_client_destroy(&cl);
    tr_node_destroy_clean(&node);
    // Every accepted job's argument was freed, once.
    ck_assert_int_eq(atomic_load(&freed), atomic_load(&accepted));
    tr_gate_fini(&entered);
    tr_gate_fini(&release);
}

// ---- results ----

START_TEST(result_comes_back_on_the_actors_thread_with_its_state)
{
    troupe_addr a = spawn_owner(TROUPE_SHARED);
    TR_CK_OK(start(a, 21, 0, 0, 0, NULL));
    done d = wait_done();
    TR_CK_OK(d.status);
    ck_assert_int_eq(d.y, 42);
    ck_assert(d.loop && d.worker && d.state);
    ck_assert_uint_eq(stats().offload_jobs, 1);
}
END_TEST

START_TEST(isolated_actor_gets_its_result_on_its_own_thread)
{
    troupe_addr a = spawn_owner(TROUPE_ISOLATED);
    TR_CK_OK(start(a, 5, 0, 0, 0, NULL));
    done d = wait_done();
    TR_CK_OK(d.status);
    ck_assert_int_eq(d.y, 10);
    ck_assert(d.loop && d.worker && d.state);
}
END_TEST

START_TEST(job_code_is_the_status_and_positive_is_einval)
{
    troupe_addr a = spawn_owner(TROUPE_SHARED);
    TR_CK_OK(start(a, 1, TROUPE_EUSER, 0, 0, NULL));
    done d = wait_done();
    ck_assert_int_eq(d.status, TROUPE_EUSER);
    ck_assert_int_eq(d.y, 2); // written all the same
    TR_CK_OK(start(a, 1, 7, 0, 0, NULL));
    ck_assert_int_eq(wait_done().status, TROUPE_EINVAL);
}
END_TEST

START_TEST(actor_answers_requests_while_its_job_runs)
{
    troupe_addr a = spawn_owner(TROUPE_SHARED);
    TR_CK_OK(start(a, 3, 0, 1, 0, NULL));
    tr_gate_wait(&entered, 5000, "the job to start");
    ping(a); // answered while the job is blocked
    ping(a);
    tr_gate_open(&release);
    done d = wait_done();
    TR_CK_OK(d.status);
    ck_assert_int_eq(d.y, 6);
}
END_TEST

START_TEST(bad_arguments_are_refused_and_leave_nothing)
{
    troupe_addr a = spawn_owner(TROUPE_SHARED);
    troupe_msg *r = NULL;
    TR_CK_OK(troupe_call(cl, a, "misuse", troupe_deadline_in(5000), &r, NULL));
    troupe_msg_destroy(&r);
    troupe_node_stats st = stats();
    ck_assert_uint_eq(st.offload_jobs + st.offload_queued, 0);
}
END_TEST

START_TEST(bad_pool_options_are_einval)
{
    troupe_node_opts o;
    troupe_node_opts_init(&o);
    ck_assert_uint_eq(o.offload_threads, 0);
    ck_assert_uint_eq(o.offload_queue, 1024);
    troupe_node *n = NULL;
    o.offload_queue = 0;
    TR_CK_ERR(troupe_node_new(&n, &o), TROUPE_EINVAL);
    o.offload_queue = 1;
    o.offload_threads = 1025;
    TR_CK_ERR(troupe_node_new(&n, &o), TROUPE_EINVAL);
    ck_assert_ptr_null(n);
}
END_TEST

// ---- limits, deadlines, cancel ----

START_TEST(full_queue_refuses_with_efull_and_counts_it)
{
    troupe_addr a = spawn_owner(TROUPE_SHARED);
    TR_CK_OK(start(a, 1, 0, 1, 0, NULL)); // runs, holds the only worker
    tr_gate_wait(&entered, 5000, "the job to start");
    TR_CK_OK(start(a, 2, 0, 0, 0, NULL)); // queued
    TR_CK_OK(start(a, 3, 0, 0, 0, NULL)); // queued: the queue is full
    TR_CK_ERR(start(a, 4, 0, 0, 0, NULL), TROUPE_EFULL);
    troupe_node_stats st = stats();
    ck_assert_uint_eq(st.offload_refused, 1);
    ck_assert_uint_ge(st.refused, 1);
    ck_assert_uint_eq(st.offload_queued, 2);
    tr_gate_open(&release);
    for (int i = 0; i < 3; i++)
        TR_CK_OK(wait_done().status);
    ck_assert_int_eq(atomic_load(&runs), 3);
}
END_TEST

START_TEST(job_not_started_by_its_deadline_never_runs)
{
    troupe_addr a = spawn_owner(TROUPE_SHARED);
    TR_CK_OK(start(a, 1, 0, 1, 0, NULL));
    tr_gate_wait(&entered, 5000, "the job to start");
    int64_t t0 = troupe_now();
    TR_CK_OK(start(a, 2, 0, 0, 50, NULL)); // waits behind the gated one
    ck_assert_int_eq(wait_done().status, TROUPE_ETIMEDOUT);
    ck_assert_int_ge(troupe_now(), t0 + 50);
    tr_gate_open(&release);
    TR_CK_OK(wait_done().status);
    stop_node(); // the worker has seen the expired job by now
    ck_assert_int_eq(atomic_load(&runs), 1);
}
END_TEST

START_TEST(running_job_past_its_deadline_ends_the_wait_and_is_late)
{
    troupe_addr a = spawn_owner(TROUPE_SHARED);
    // Time enough to start (else it would not run, and the gate stays shut).
    TR_CK_OK(start(a, 1, 0, 1, 300, NULL));
    tr_gate_wait(&entered, 5000, "the job to start");
    done d = wait_done(); // while the job still runs
    ck_assert_int_eq(d.status, TROUPE_ETIMEDOUT);
    ck_assert_int_eq(d.y, -1);
    tr_gate_open(&release);
    troupe_node_stats st = stop_node();
    ck_assert_uint_eq(st.late_replies, 1);
    ck_assert_uint_eq(st.offload_jobs, 1);
}
END_TEST

START_TEST(canceled_queued_job_ends_ecanceled_and_never_runs)
{
    troupe_addr a = spawn_owner(TROUPE_SHARED);
    TR_CK_OK(start(a, 1, 0, 1, 0, NULL));
    tr_gate_wait(&entered, 5000, "the job to start");
    uint64_t id = 0;
    TR_CK_OK(start(a, 2, 0, 0, 0, &id));
    troupe_msg *r = NULL;
    TR_CK_OK(troupe_call(cl, a, "cancel", troupe_deadline_in(5000), &r, "{s:U}",
                         "id", id));
    int rc = -1;
    TR_CK_OK(troupe_msg_read(r, "{s:i}", "rc", &rc));
    troupe_msg_destroy(&r);
    TR_CK_OK(rc);
    ck_assert_int_eq(wait_done().status, TROUPE_ECANCELED); // at once
    tr_gate_open(&release);
    TR_CK_OK(wait_done().status);
    stop_node();
    ck_assert_int_eq(atomic_load(&runs), 1);
}
END_TEST

// ---- ends ----

START_TEST(actor_ending_cancels_its_jobs_and_queued_ones_never_run)
{
    troupe_addr a = spawn_owner(TROUPE_SHARED);
    TR_CK_OK(start(a, 1, 0, 1, 0, NULL));
    tr_gate_wait(&entered, 5000, "the job to start");
    TR_CK_OK(start(a, 2, 0, 0, 0, NULL));
    TR_CK_OK(start(a, 3, 0, 0, 0, NULL));
    TR_CK_OK(troupe_client_tell(cl, a, "exit", NULL));
    for (int i = 0; i < 3; i++) { // the running one and the two queued
        done d = wait_done();
        ck_assert_int_eq(d.status, TROUPE_ECANCELED);
        ck_assert(d.loop);
    }
    tr_gate_open(&release);
    troupe_node_stats st = stop_node();
    ck_assert_int_eq(atomic_load(&runs), 1);
    ck_assert_uint_eq(st.late_replies, 1); // the running job's end
}
END_TEST

START_TEST(node_stop_with_jobs_running_and_queued_ends_clean)
{
    the_owner.open_on_end = 1; // the actor's end releases the job
    troupe_addr a = spawn_owner(TROUPE_SHARED);
    TR_CK_OK(start(a, 1, 0, 1, 0, NULL));
    tr_gate_wait(&entered, 5000, "the job to start");
    TR_CK_OK(start(a, 2, 0, 0, 0, NULL));
    TR_CK_OK(start(a, 3, 0, 0, 0, NULL));
    troupe_node_stats st = stop_node(); // and teardown checks it is clean
    ck_assert_uint_eq(st.live_threads, 0);
    ck_assert_uint_eq(st.offload_queued, 0);
    ck_assert_int_eq(atomic_load(&runs), 1);
}
END_TEST

START_TEST(fresh_node_has_no_pool_thread_until_the_first_job)
{
    unsigned loops = troupe_node_loops(node);
    ck_assert_uint_eq(stats().live_threads, loops + 1); // + the watchdog
    troupe_addr a = spawn_owner(TROUPE_SHARED);
    ping(a);
    ck_assert_uint_eq(stats().live_threads, loops + 1);
    TR_CK_OK(start(a, 1, 0, 0, 0, NULL));
    TR_CK_OK(wait_done().status);
    ck_assert_uint_eq(stats().live_threads, loops + 2);
}
END_TEST

Suite *make_suite(void);
Suite *make_suite(void)
{
    Suite *s = suite_create("offload");
    TCase *tc = tcase_create("results");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, result_comes_back_on_the_actors_thread_with_its_state);
    tcase_add_test(tc, isolated_actor_gets_its_result_on_its_own_thread);
    tcase_add_test(tc, job_code_is_the_status_and_positive_is_einval);
    tcase_add_test(tc, actor_answers_requests_while_its_job_runs);
    tcase_add_test(tc, bad_arguments_are_refused_and_leave_nothing);
    tcase_add_test(tc, bad_pool_options_are_einval);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, full_queue_refuses_with_efull_and_counts_it);
    tcase_add_test(tc, job_not_started_by_its_deadline_never_runs);
    tcase_add_test(tc, running_job_past_its_deadline_ends_the_wait_and_is_late);
    tcase_add_test(tc, canceled_queued_job_ends_ecanceled_and_never_runs);
    suite_add_tcase(s, tc);
    tc = tcase_create("ends");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, actor_ending_cancels_its_jobs_and_queued_ones_never_run);
    tcase_add_test(tc, node_stop_with_jobs_running_and_queued_ends_clean);
    tcase_add_test(tc, fresh_node_has_no_pool_thread_until_the_first_job);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tr_run_suite(make_suite());
}
