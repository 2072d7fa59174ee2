// SPDX-License-Identifier: MIT
//
// The node and the actor lifecycle: options, spawn paths (init ok, init
// error, init hang past the deadline, bad specs), names, isolated actors on
// their own threads, spawning from actors, stats, logging, and the ordered
// shutdown that leaves nothing behind.
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "tr_actors.h"
#include "tr_check.h"

static troupe_node *node;
static troupe_client *cl;

static void setup(void)
{
    node = tr_node_new(2);
    TR_CK_OK(troupe_client_new(node, &cl));
}

static void teardown(void)
{
    troupe_client_destroy(&cl);
    tr_node_destroy_clean(&node);
}

START_TEST(bad_options_are_einval)
{
    troupe_node_opts o;
    troupe_node_opts_init(&o);
    ck_assert_uint_eq(o.mailbox_bound, 65536);
    ck_assert_uint_eq(o.max_msg_size, 1u << 20);
    troupe_node *n = NULL;
    o.mailbox_bound = 0;
    TR_CK_ERR(troupe_node_new(&n, &o), TROUPE_EINVAL);
    troupe_node_opts_init(&o);
    o.batch = 0;
    TR_CK_ERR(troupe_node_new(&n, &o), TROUPE_EINVAL);
    ck_assert_ptr_null(n);
    TR_CK_ERR(troupe_node_new(NULL, NULL), TROUPE_EINVAL);
}
END_TEST

START_TEST(default_node_has_a_loop_per_core_and_destroys_clean)
{
    troupe_node *n = NULL;
    TR_CK_OK(troupe_node_new(&n, NULL));
    ck_assert_uint_ge(troupe_node_loops(n), 1);
    troupe_node_stats st;
    TR_CK_OK(troupe_node_stats_get(n, &st));
    // The loops and the watchdog (troupe_node_opts.watchdog_ms).
    ck_assert_uint_eq(st.live_threads, troupe_node_loops(n) + 1);
    TR_CK_OK(troupe_node_destroy(&n));
    ck_assert_ptr_null(n);
    TR_CK_OK(troupe_node_destroy(&n)); // twice is fine
    TR_CK_OK(troupe_node_destroy(NULL));
}
END_TEST

START_TEST(bad_specs_are_einval)
{
    troupe_actor_spec s = troupe_actor_spec_default();
    troupe_addr a;
    TR_CK_ERR(troupe_node_spawn(node, &s, troupe_deadline_in(1000), &a),
              TROUPE_EINVAL);
    s.handler = tr_echo_handler;
    s.loop = TROUPE_LOOP(7);
    TR_CK_ERR(troupe_node_spawn(node, &s, troupe_deadline_in(1000), &a),
              TROUPE_EINVAL);
    s.loop = TROUPE_LOOP_AUTO;
    s.placement = (troupe_placement)9;
    TR_CK_ERR(troupe_node_spawn(node, &s, troupe_deadline_in(1000), &a),
              TROUPE_EINVAL);
    TR_CK_ERR(troupe_node_spawn(node, NULL, troupe_deadline_in(1000), &a),
              TROUPE_EINVAL);
    s.placement = TROUPE_SHARED;
    if (SIZE_MAX > UINT32_MAX) { // inline state is at most 4 GiB - 1
        s.state_size = (size_t)UINT32_MAX + 1;
        TR_CK_ERR(troupe_node_spawn(node, &s, troupe_deadline_in(1000), &a),
                  TROUPE_EINVAL);
    }
    s.state_size = 0;
    s.budget_ms = INT64_MAX; // taken as 49 days: a budget, not an error
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(1000), &a));
    troupe_msg *r = NULL;
    TR_CK_OK(troupe_call(cl, a, "echo", troupe_deadline_in(5000), &r, "{s:I}",
                         "x", (int64_t)1));
    troupe_msg_destroy(&r);
}
END_TEST

static int init_fails(troupe_ctx *cx, void *state, void *arg)
{
    (void)cx;
    (void)state;
    (void)arg;
    return TROUPE_EUSER - 3;
}

START_TEST(init_error_is_returned_by_spawn_and_leaves_nothing)
{
    for (int iso = 0; iso < 2; iso++) {
        troupe_actor_spec s =
            tr_echo_spec(iso ? TROUPE_ISOLATED : TROUPE_SHARED, NULL);
        s.init = init_fails;
        s.name = "never";
        troupe_addr a = TROUPE_ADDR_NONE;
        TR_CK_ERR(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &a),
                  TROUPE_EUSER - 3);
        ck_assert(!troupe_addr_valid(a));
        TR_CK_ERR(troupe_whereis(node, "never", &a), TROUPE_ENOENT);
    }
    troupe_node_stats st;
    TR_CK_OK(troupe_node_stats_get(node, &st));
    ck_assert_uint_eq(st.live_actors, 1); // the client's identity only
    ck_assert_uint_eq(st.spawned, 0);
}
END_TEST

static int init_blocks(troupe_ctx *cx, void *state, void *arg)
{
    (void)cx;
    (void)state;
    tr_gate_wait(arg, 10000, "release of a blocked init");
    return 0;
}

START_TEST(init_that_hangs_past_deadline_is_etimedout)
{
    tr_gate release;
    tr_gate_init(&release);
    troupe_actor_spec s = tr_echo_spec(TROUPE_ISOLATED, NULL);
    s.init = init_blocks;
    s.arg = &release;
    troupe_addr a;
    int64_t t0 = troupe_now();
    TR_CK_ERR(troupe_node_spawn(node, &s, t0 + 50, &a), TROUPE_ETIMEDOUT);
    ck_assert_int_ge(troupe_now(), t0 + 50);
    tr_gate_open(&release); // it then stops itself; teardown checks
    troupe_client_destroy(&cl);
    TR_CK_OK(troupe_node_stop(node, troupe_deadline_in(5000)));
    tr_gate_fini(&release);
}
END_TEST

START_TEST(names_register_resolve_and_drop_with_their_actor)
{
    troupe_actor_spec s = tr_echo_spec(TROUPE_SHARED, NULL);
    s.name = "echo";
    troupe_addr a, b;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &a));
    TR_CK_ERR(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &b),
              TROUPE_EEXIST);
    TR_CK_OK(troupe_whereis(node, "echo", &b));
    ck_assert(troupe_addr_eq(a, b));
    troupe_msg *r = NULL;
    TR_CK_OK(troupe_call_name(cl, "echo", "echo", troupe_deadline_in(5000), &r,
                              "{s:I}", "x", (int64_t)1));
    troupe_msg_destroy(&r);
    TR_CK_ERR(troupe_register(node, "echo", a), TROUPE_EEXIST);
    TR_CK_OK(troupe_register(node, "alias", a));
    TR_CK_OK(troupe_client_tell_name(cl, "alias", "hello", NULL));
    TR_CK_OK(troupe_unregister(node, "alias"));
    TR_CK_ERR(troupe_unregister(node, "alias"), TROUPE_ENOENT);
    char longname[200];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    TR_CK_ERR(troupe_register(node, longname, a), TROUPE_EINVAL);
    uint64_t ref;
    TR_CK_OK(troupe_client_monitor(cl, a, &ref));
    TR_CK_OK(troupe_node_stop_actor(node, a, 0));
    TR_CK_OK(troupe_client_recv(cl, troupe_deadline_in(5000), &r));
    troupe_msg_destroy(&r);
    TR_CK_ERR(troupe_whereis(node, "echo", &b), TROUPE_ENOENT);
    TR_CK_ERR(troupe_register(node, "echo", a), TROUPE_EDEAD);
}
END_TEST

// Records the thread its handler runs on and can hold it busy.
typedef struct where {
    pthread_t thread; // where the last message ran
    tr_gate *entered, *release;
} where;

static int where_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    where *w = state;
    w->thread = pthread_self();
    if (troupe_msg_is(msg, "block")) {
        tr_gate_open(w->entered);
        tr_gate_wait(w->release, 10000, "release");
        return 0;
    }
    return troupe_reply(cx, msg, NULL);
}

START_TEST(isolated_actor_blocks_only_itself)
{
    tr_gate entered, release;
    tr_gate_init(&entered);
    tr_gate_init(&release);
    static where iso, light;
    iso = (where){0, &entered, &release};
    light = (where){0, NULL, NULL};
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = where_handler;
    s.state = &iso;
    s.placement = TROUPE_ISOLATED;
    troupe_addr ia, la;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &ia));
    s.state = &light;
    s.placement = TROUPE_SHARED;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &la));
    TR_CK_OK(troupe_client_tell(cl, ia, "block", NULL));
    tr_gate_wait(&entered, 5000, "the isolated handler to block");
    troupe_msg *r = NULL;
    for (int i = 0; i < 10; i++) { // light actors answer meanwhile
        TR_CK_OK(
            troupe_call(cl, la, "ping", troupe_deadline_in(5000), &r, NULL));
        troupe_msg_destroy(&r);
    }
    ck_assert(!pthread_equal(iso.thread, light.thread));
    tr_gate_open(&release);
    TR_CK_OK(troupe_call(cl, ia, "ping", troupe_deadline_in(5000), &r, NULL));
    troupe_msg_destroy(&r);
    tr_gate_fini(&entered);
    tr_gate_fini(&release);
}
END_TEST

// ---- spawning from actors ----

typedef struct parent {
    troupe_addr child;
    uint64_t ref;
    troupe_addr report;
} parent;

static int parent_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    parent *p = state;
    if (troupe_msg_kind_of(msg) == TROUPE_MSG_DOWN)
        return troupe_tell(cx, p->report, "child-down", "i",
                           troupe_msg_code(msg));
    troupe_actor_spec s = tr_echo_spec(TROUPE_SHARED, NULL);
    if (troupe_msg_is(msg, "same-loop")) {
        int rc = troupe_spawn(cx, &s, &p->child);
        return troupe_reply(cx, msg, "i", rc);
    }
    if (troupe_msg_is(msg, "bad-init")) {
        s.init = init_fails;
        s.loop = TROUPE_LOOP(
            1); // another loop: asynchronous, the monitor reports it
        int rc = troupe_spawn_monitor(cx, &s, &p->child, &p->ref);
        return troupe_reply(cx, msg, "i", rc);
    }
    if (troupe_msg_is(msg, "bad-init-here")) {
        s.init = init_fails;
        troupe_addr a;
        return troupe_reply(cx, msg, "i", troupe_spawn(cx, &s, &a));
    }
    return 0;
}

START_TEST(actor_spawns_children_sync_on_its_loop_async_elsewhere)
{
    static parent p;
    p = (parent){.report = troupe_client_addr(cl)};
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = parent_handler;
    s.state = &p;
    s.loop = TROUPE_LOOP(0);
    troupe_addr pa;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &pa));
    troupe_msg *r = NULL;
    int rc = -1;
    TR_CK_OK(
        troupe_call(cl, pa, "same-loop", troupe_deadline_in(5000), &r, NULL));
    TR_CK_OK(troupe_msg_read(r, "i", &rc));
    TR_CK_OK(rc);
    troupe_msg_destroy(&r);
    tr_check_echo(cl, p.child, 3);
    TR_CK_OK(troupe_call(cl, pa, "bad-init-here", troupe_deadline_in(5000), &r,
                         NULL));
    TR_CK_OK(troupe_msg_read(r, "i", &rc));
    ck_assert_int_eq(rc, TROUPE_EUSER - 3);
    troupe_msg_destroy(&r);
    TR_CK_OK(
        troupe_call(cl, pa, "bad-init", troupe_deadline_in(5000), &r, NULL));
    troupe_msg_destroy(&r);
    TR_CK_OK(troupe_client_recv(cl, troupe_deadline_in(5000), &r));
    ck_assert_str_eq(troupe_msg_tag(r), "child-down");
    TR_CK_OK(troupe_msg_read(r, "i", &rc));
    ck_assert_int_eq(rc, TROUPE_EUSER - 3);
    troupe_msg_destroy(&r);
}
END_TEST

// ---- shutdown ----

static int fini_order[8];
static int fini_count;

static void record_fini(void *state, int reason)
{
    ck_assert_int_eq(reason, TROUPE_ESHUTDOWN);
    fini_order[fini_count++] = *(int *)state;
}

START_TEST(stop_ends_root_actors_newest_first)
{
    static int ids[4] = {0, 1, 2, 3};
    for (int i = 0; i < 4; i++) {
        troupe_actor_spec s =
            tr_echo_spec(i == 2 ? TROUPE_ISOLATED : TROUPE_SHARED, NULL);
        s.state = &ids[i];
        s.handler = where_handler;
        s.fini = record_fini;
        troupe_addr a;
        TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &a));
    }
    troupe_client_destroy(&cl);
    TR_CK_OK(troupe_node_stop(node, troupe_deadline_in(5000)));
    ck_assert_int_eq(fini_count, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(fini_order[i], 3 - i);
    TR_CK_ERR(troupe_client_new(node, &cl), TROUPE_ESHUTDOWN);
    troupe_addr a;
    troupe_actor_spec s = tr_echo_spec(TROUPE_SHARED, NULL);
    TR_CK_ERR(troupe_node_spawn(node, &s, troupe_deadline_in(100), &a),
              TROUPE_ESHUTDOWN);
}
END_TEST

// ---- context, stats and logging ----

static int introspect(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)state;
    ck_assert_ptr_eq(troupe_ctx_msg(cx), msg);
    ck_assert_ptr_nonnull(troupe_ctx_node(cx));
    troupe_actor_stats st;
    TR_CK_OK(troupe_actor_stats_get(cx, &st));
    return troupe_reply(cx, msg, "[UUU]", st.received, st.handler_ns_max,
                        (uint64_t)troupe_self(cx).slot);
}

// "go" [n]: handle n "spin" messages told to itself, then answer "go" with
// its stats [received, handler_ns_p99, handler_ns_max].
typedef struct spinner {
    int64_t left;
    troupe_deferred *go;
} spinner;

static int spin(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    spinner *sp = state;
    if (troupe_msg_is(msg, "go")) {
        TR_CK_OK(troupe_msg_read(msg, "[I]", &sp->left));
        TR_CK_OK(troupe_defer(cx, msg, &sp->go));
    } else if (--sp->left == 0) {
        troupe_actor_stats st;
        TR_CK_OK(troupe_actor_stats_get(cx, &st));
        return troupe_deferred_reply(cx, &sp->go, "[UUU]", st.received,
                                     st.handler_ns_p99, st.handler_ns_max);
    }
    return troupe_tell(cx, troupe_self(cx), "spin", NULL);
}

START_TEST(handler_p99_holds_past_65535_runs)
{
    // The handler-time histogram's buckets are 16 bits and halve when one
    // is full: past that, the counts and the p99 must still make sense.
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = spin;
    s.state_size = sizeof(spinner);
    troupe_addr a;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &a));
    troupe_msg *r = NULL;
    TR_CK_OK(troupe_call(cl, a, "go", troupe_deadline_in(60000), &r, "[I]",
                         (int64_t)200000));
    uint64_t received = 0, p99 = 0, max = 0;
    TR_CK_OK(troupe_msg_read(r, "[UUU]", &received, &p99, &max));
    troupe_msg_destroy(&r);
    ck_assert_uint_eq(received, 200001); // "go" and 200,000 spins
    ck_assert_uint_gt(p99, 0);
    ck_assert_uint_le(p99, max);
}
END_TEST

// ---- a busy loop ----

// Tells itself "spin" at every message until `stop`: its loop's run queue
// never empties, so the loop never sleeps, without any handler blocking.
// Opens `going` at its 1000th spin.
typedef struct busy {
    _Atomic int stop;
    _Atomic long spins;
    tr_gate *going;
} busy;

static int busy_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)msg;
    busy *b = state;
    if (atomic_fetch_add(&b->spins, 1) + 1 == 1000)
        tr_gate_open(b->going);
    if (atomic_load(&b->stop))
        return 0;
    return troupe_tell(cx, troupe_self(cx), "spin", NULL);
}

// "go" {s:x}: asks the echo actor `state` with x and answers with its reply.
static int relay_answered(troupe_ctx *cx, void *state, int status,
                          const troupe_msg *reply, void *arg)
{
    (void)state;
    troupe_deferred *d = arg;
    int64_t y = 0;
    if (status == 0)
        status = troupe_msg_read(reply, "{s:I}", "x", &y);
    if (status)
        return troupe_deferred_error(cx, &d, status);
    return troupe_deferred_reply(cx, &d, "{s:I}", "x", y);
}

static int relay(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    const troupe_addr *echo = state;
    int64_t x = 0;
    troupe_deferred *d = NULL;
    int rc = troupe_msg_read(msg, "{s:I}", "x", &x);
    if (rc == 0)
        rc = troupe_defer(cx, msg, &d);
    if (rc == 0)
        rc = troupe_request(cx, *echo, "echo", troupe_deadline_in(5000),
                            relay_answered, d, NULL, "{s:I}", "x", x);
    return rc;
}

START_TEST(a_busy_loop_still_hears_other_threads)
{
    // A loop never sleeps while actors are ready: it reads its inbox after
    // TR_INBOX_EVERY messages when senders counted a frame into it (and at
    // least every millisecond). Messages from a client, from another loop
    // and from a thread outside the node (a spawn) all reach loop 0 while
    // an actor there keeps it busy.
    tr_gate going;
    tr_gate_init(&going);
    static busy b;
    atomic_store(&b.stop, 0);
    atomic_store(&b.spins, 0);
    b.going = &going;
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = busy_handler;
    s.state = &b;
    s.loop = TROUPE_LOOP(0);
    troupe_addr busy_actor;
    TR_CK_OK(
        troupe_node_spawn(node, &s, troupe_deadline_in(5000), &busy_actor));
    TR_CK_OK(troupe_client_tell(cl, busy_actor, "spin", NULL));
    tr_gate_wait(&going, 5000, "the spinner to keep loop 0 busy");

    s = tr_echo_spec(TROUPE_SHARED, NULL); // spawned from outside: foreign
    s.loop = TROUPE_LOOP(0);
    static troupe_addr echo;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &echo));
    s = troupe_actor_spec_default();
    s.handler = relay;
    s.state = &echo;
    s.loop = TROUPE_LOOP(1);
    troupe_addr via;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &via));
    for (int64_t i = 0; i < 20; i++) {
        long before = atomic_load(&b.spins);
        tr_check_echo(cl, echo, i); // client thread -> loop 0
        troupe_msg *r = NULL;       // loop 1 -> loop 0 and back
        TR_CK_OK(troupe_call(cl, via, "go", troupe_deadline_in(5000), &r,
                             "{s:I}", "x", i));
        int64_t y = 0;
        TR_CK_OK(troupe_msg_read(r, "{s:I}", "x", &y));
        ck_assert_int_eq(y, i + 1);
        troupe_msg_destroy(&r);
        ck_assert_msg(atomic_load(&b.spins) > before,
                      "loop 0 was not busy meanwhile");
    }
    atomic_store(&b.stop, 1);
    tr_gate_fini(&going);
}
END_TEST

START_TEST(actor_sees_its_context_and_stats)
{
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = introspect;
    troupe_addr a;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &a));
    troupe_msg *r = NULL;
    uint64_t received = 0, max = 0, slot = 0;
    for (int i = 0; i < 3; i++) {
        TR_CK_OK(troupe_call(cl, a, "q", troupe_deadline_in(5000), &r, NULL));
        TR_CK_OK(troupe_msg_read(r, "[UUU]", &received, &max, &slot));
        troupe_msg_destroy(&r);
    }
    ck_assert_uint_eq(received, 3);
    ck_assert_uint_gt(max, 0);
    ck_assert_uint_eq(slot, a.slot);
}
END_TEST

static int log_lines;
static void count_log(void *arg, troupe_log_level level, const char *line)
{
    (void)arg;
    (void)level;
    if (strstr(line, "ended"))
        __atomic_fetch_add(&log_lines, 1, __ATOMIC_RELAXED);
}

START_TEST(log_hook_hears_about_crashes)
{
    troupe_client_destroy(&cl);
    tr_node_destroy_clean(&node);
    troupe_node_opts o;
    troupe_node_opts_init(&o);
    o.loops = 1;
    o.log = count_log;
    o.log_level = TROUPE_LOG_INFO;
    node = tr_node_new_opts(&o);
    TR_CK_OK(troupe_client_new(node, &cl));
    troupe_addr a = tr_spawn_echo(node, TROUPE_SHARED, NULL);
    uint64_t ref;
    TR_CK_OK(troupe_client_monitor(cl, a, &ref));
    troupe_msg *r = NULL;
    TR_CK_ERR(troupe_call(cl, a, "crash", troupe_deadline_in(5000), &r, NULL),
              TROUPE_EDEAD);
    TR_CK_OK(troupe_client_recv(cl, troupe_deadline_in(5000), &r)); // down
    troupe_msg_destroy(&r);
    ck_assert_int_eq(__atomic_load_n(&log_lines, __ATOMIC_RELAXED), 1);
    troupe_node_stats st;
    TR_CK_OK(troupe_node_stats_get(node, &st));
    ck_assert_uint_eq(st.crashed, 1);
}
END_TEST

START_TEST(max_ports_and_max_actors_are_elimit_and_counted)
{
    troupe_client_destroy(&cl);
    tr_node_destroy_clean(&node);
    troupe_node_opts o;
    troupe_node_opts_init(&o);
    o.loops = 1;
    o.max_ports = 3; // the loop and two clients
    o.max_actors = 4096;
    node = tr_node_new_opts(&o);
    troupe_client *c2 = NULL, *c3 = NULL;
    TR_CK_OK(troupe_client_new(node, &cl));
    TR_CK_OK(troupe_client_new(node, &c2));
    TR_CK_ERR(troupe_client_new(node, &c3), TROUPE_ELIMIT);
    troupe_client_destroy(&c2);
    troupe_actor_spec s = tr_echo_spec(TROUPE_SHARED, NULL);
    troupe_addr a;
    int rc = 0, n = 0;
    while (n < 5000 && (rc = troupe_node_spawn(
                            node, &s, troupe_deadline_in(5000), &a)) == 0)
        n++;
    TR_CK_ERR(rc, TROUPE_ELIMIT);
    ck_assert_int_ge(n, 4000);
    troupe_node_stats st;
    TR_CK_OK(troupe_node_stats_get(node, &st));
    ck_assert_uint_eq(st.limits_hit, 2);
}
END_TEST

static int destroy_from_handler(troupe_ctx *cx, void *state,
                                const troupe_msg *msg)
{
    (void)state;
    troupe_node *n = troupe_ctx_node(cx);
    int rc = troupe_node_destroy(&n);
    ck_assert_ptr_nonnull(n); // refused: the node is still there
    return troupe_reply(cx, msg, "i", rc);
}

START_TEST(node_destroy_from_a_handler_is_einval)
{
    troupe_actor_spec s = {.handler = destroy_from_handler};
    troupe_addr a;
    TR_CK_OK(troupe_node_spawn(node, &s, troupe_deadline_in(5000), &a));
    troupe_msg *r = NULL;
    TR_CK_OK(troupe_call(cl, a, "x", troupe_deadline_in(5000), &r, NULL));
    int rc = 0;
    TR_CK_OK(troupe_msg_read(r, "i", &rc));
    TR_CK_ERR(rc, TROUPE_EINVAL);
    troupe_msg_destroy(&r);
}
END_TEST

START_TEST(registered_name_of_dead_actor_can_be_taken_again)
{
    troupe_addr a = tr_spawn_echo(node, TROUPE_SHARED, NULL);
    troupe_addr b = tr_spawn_echo(node, TROUPE_SHARED, NULL);
    TR_CK_OK(troupe_register(node, "svc", a));
    uint64_t ref;
    TR_CK_OK(troupe_client_monitor(cl, a, &ref));
    TR_CK_OK(troupe_node_stop_actor(node, a, 0));
    troupe_msg *m = NULL;
    TR_CK_OK(troupe_client_recv(cl, troupe_deadline_in(5000), &m));
    troupe_msg_destroy(&m);
    TR_CK_OK(troupe_register(node, "svc", b)); // the stale entry gives way
    troupe_addr got;
    TR_CK_OK(troupe_whereis(node, "svc", &got));
    ck_assert(troupe_addr_eq(got, b));
}
END_TEST

Suite *make_suite(void);
Suite *make_suite(void)
{
    Suite *s = suite_create("node");
    TCase *tc = tcase_create("options");
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, bad_options_are_einval);
    tcase_add_test(tc, default_node_has_a_loop_per_core_and_destroys_clean);
    suite_add_tcase(s, tc);
    tc = tcase_create("spawn");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, bad_specs_are_einval);
    tcase_add_test(tc, init_error_is_returned_by_spawn_and_leaves_nothing);
    tcase_add_test(tc, init_that_hangs_past_deadline_is_etimedout);
    tcase_add_test(tc, names_register_resolve_and_drop_with_their_actor);
    tcase_add_test(tc, isolated_actor_blocks_only_itself);
    tcase_add_test(tc, actor_spawns_children_sync_on_its_loop_async_elsewhere);
    tcase_add_test(tc, actor_sees_its_context_and_stats);
    tcase_add_test(tc, handler_p99_holds_past_65535_runs);
    tcase_add_test(tc, a_busy_loop_still_hears_other_threads);
    tcase_add_test(tc, log_hook_hears_about_crashes);
    tcase_add_test(tc, max_ports_and_max_actors_are_elimit_and_counted);
    tcase_add_test(tc, node_destroy_from_a_handler_is_einval);
    tcase_add_test(tc, registered_name_of_dead_actor_can_be_taken_again);
    suite_add_tcase(s, tc);
    tc = tcase_create("shutdown");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, TR_TCASE_TIMEOUT);
    tcase_add_test(tc, stop_ends_root_actors_newest_first);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tr_run_suite(make_suite());
}
