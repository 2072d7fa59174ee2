// SPDX-License-Identifier: MIT
//
// A supervision tree under seeded random faults: 1,000 requests in flight
// at once against workers of a one_for_one root and a nested one_for_all
// supervisor, while a fault plan crashes about one handled message in ten.
// Every request must end (answered, or TROUPE_EDEAD for the message a
// worker crashed on), none may time out or be lost, the crashes the plan
// counts must match the EDEAD answers, and the node's counters must
// balance. A failure prints the seed; TROUPE_FAULT_SEED=<seed> replays it.
#include <stdio.h>

#include "tr_check.h"

#define S_REQUESTS 1000
#define S_WORKERS 6

static const char *s_names[S_WORKERS] = {"r0", "r1", "r2", "r3", "n0", "n1"};

static int s_worker(troupe_ctx *cx, void *state, const troupe_msg *m)
{
    (void)state;
    int64_t v;
    if (troupe_msg_read(m, "[I]", &v))
        return troupe_reply_error(cx, m, TROUPE_EINVAL);
    return troupe_reply(cx, m, "[I]", v + 1);
}

static troupe_child_spec s_worker_spec(int i)
{
    troupe_child_spec c;
    troupe_child_spec_init(&c);
    c.id = s_names[i];
    c.actor.name = s_names[i]; // fault counts are per name
    c.actor.handler = s_worker;
    return c;
}

// The driver fires every request at once and answers "go" when all ended.
typedef struct s_driver {
    troupe_addr to[S_WORKERS];
    int ok, dead, timedout, other, pending;
    int other_status; // the first unexpected status, for the message
    troupe_deferred *done;
} s_driver;

static int s_on_reply(troupe_ctx *cx, void *state, int status,
                      const troupe_msg *reply, void *arg)
{
    s_driver *d = state;
    int64_t v;
    if (status == 0 && troupe_msg_read(reply, "[I]", &v) == 0 &&
        v == (int64_t)(intptr_t)arg + 1)
        d->ok++;
    else if (status == TROUPE_EDEAD)
        d->dead++;
    else if (status == TROUPE_ETIMEDOUT)
        d->timedout++;
    else if (d->other++ == 0)
        d->other_status = status;
    if (--d->pending == 0)
        return troupe_deferred_reply(cx, &d->done, "[iiii]", d->ok, d->dead,
                                     d->timedout, d->other);
    return 0;
}

static int s_driver_handler(troupe_ctx *cx, void *state, const troupe_msg *m)
{
    s_driver *d = state;
    int rc = troupe_defer(cx, m, &d->done);
    for (int i = 0; rc == 0 && i < S_REQUESTS; i++) {
        d->pending++;
        rc = troupe_request(cx, d->to[i % S_WORKERS], "inc",
                            troupe_deadline_in(20000), s_on_reply,
                            (void *)(intptr_t)i, NULL, "[I]", (int64_t)i);
        if (rc) { // say why, rather than crash the driver
            fprintf(stderr, "request %d to %s: %s\n", i, s_names[i % S_WORKERS],
                    troupe_errname(rc));
            d->pending--;
            return troupe_deferred_error(cx, &d->done, rc);
        }
    }
    return rc;
}

static troupe_child_spec s_root_kids[5], s_nested_kids[2];
static troupe_sup_spec s_nested;

START_TEST(a_thousand_requests_under_random_crashes_all_end_accounted)
{
    troupe_node *node = tr_node_new(2);
    troupe_fault_plan *plan;
    TR_CK_OK(troupe_fault_plan_new(0, &plan)); // TROUPE_FAULT_SEED or clock
    unsigned long long seed = (unsigned long long)troupe_fault_plan_seed(plan);
    fprintf(stderr, "sup_faults: seed %llu (TROUPE_FAULT_SEED=%llu replays)\n",
            seed, seed);
    for (int i = 0; i < S_WORKERS; i++)
        TR_CK_OK(troupe_fault_random_crash(plan, s_names[i], 100000,
                                           TROUPE_EUSER - 1));
    TR_CK_OK(troupe_node_set_fault_plan(node, plan));

    for (int i = 0; i < 2; i++)
        s_nested_kids[i] = s_worker_spec(4 + i);
    troupe_sup_spec_init(&s_nested);
    s_nested.strategy = TROUPE_ONE_FOR_ALL;
    s_nested.children = s_nested_kids;
    s_nested.n_children = 2;
    s_nested.intensity = 10000;
    for (int i = 0; i < 4; i++)
        s_root_kids[i] = s_worker_spec(i);
    troupe_child_spec_init(&s_root_kids[4]);
    s_root_kids[4].id = "nested";
    s_root_kids[4].sup = &s_nested;
    troupe_sup_spec root;
    troupe_sup_spec_init(&root);
    root.children = s_root_kids;
    root.n_children = 5;
    root.intensity = 10000;
    troupe_addr sup, nested;
    TR_CK_OK(
        troupe_node_sup_start(node, &root, troupe_deadline_in(5000), &sup));
    TR_CK_OK(troupe_sup_which_child(node, sup, "nested",
                                    troupe_deadline_in(5000), &nested));

    static s_driver d;
    for (int i = 0; i < S_WORKERS; i++)
        TR_CK_OK(troupe_sup_which_child(node, i < 4 ? sup : nested, s_names[i],
                                        troupe_deadline_in(5000), &d.to[i]));
    troupe_actor_spec ds = troupe_actor_spec_default();
    ds.handler = s_driver_handler;
    ds.state = &d;
    troupe_addr driver;
    TR_CK_OK(troupe_node_spawn(node, &ds, troupe_deadline_in(5000), &driver));
    troupe_client *cl;
    TR_CK_OK(troupe_client_new(node, &cl));
    troupe_msg *r = NULL;
    TR_CK_OK(
        troupe_call(cl, driver, "go", troupe_deadline_in(30000), &r, NULL));
    int ok, dead, timedout, other;
    TR_CK_OK(troupe_msg_read(r, "[iiii]", &ok, &dead, &timedout, &other));
    troupe_msg_destroy(&r);
    troupe_fault_stats fs;
    TR_CK_OK(troupe_fault_plan_stats_get(plan, &fs));
    ck_assert_msg(ok + dead == S_REQUESTS && timedout == 0 && other == 0,
                  "seed %llu: %d ok, %d dead, %d timed out, %d other (%s)",
                  seed, ok, dead, timedout, other,
                  troupe_errname(d.other_status));
    ck_assert_msg(fs.crashed == (uint64_t)dead && dead > 0,
                  "seed %llu: %llu crashes injected, %d requests dead", seed,
                  (unsigned long long)fs.crashed, dead);
    troupe_client_destroy(&cl);
    tr_node_destroy_clean(&node); // sent == delivered + dead + refused
    troupe_fault_plan_destroy(&plan);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("sup_faults");
    TCase *tc = tcase_create("random");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc,
                   a_thousand_requests_under_random_crashes_all_end_accounted);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tr_run_suite(make_suite());
}
