// SPDX-License-Identifier: MIT
//
// Implementation of the shared test helpers (see tr_check.h).
#include "tr_check.h"

#include <stdio.h>
#include <stdlib.h>

int tr_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    if (!getenv("CK_FORK")) // CK_FORK=no in the environment, for gdb
        srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

static void s_log_stderr(void *arg, troupe_log_level level, const char *line)
{
    (void)arg;
    // Tests run forked; what a failing test logged helps explain it.
    fprintf(stderr, "[troupe %d] %s\n", (int)level, line);
}

troupe_node *tr_node_new_opts(const troupe_node_opts *opts)
{
    troupe_node *node = NULL;
    TR_CK_OK(troupe_node_new(&node, opts));
    ck_assert_ptr_nonnull(node);
    return node;
}

troupe_node *tr_node_new(unsigned loops)
{
    troupe_node_opts o;
    troupe_node_opts_init(&o);
    o.loops = loops;
    o.log = s_log_stderr;
    o.log_level = TROUPE_LOG_WARN;
    return tr_node_new_opts(&o);
}

void tr_node_destroy_clean(troupe_node **node)
{
    ck_assert_ptr_nonnull(*node);
    TR_CK_OK(troupe_node_stop(*node, troupe_deadline_in(5000)));
    troupe_node_stats st;
    TR_CK_OK(troupe_node_stats_get(*node, &st));
    ck_assert_uint_eq(st.live_actors, 0);
    ck_assert_uint_eq(st.live_threads, 0);
    ck_assert_uint_eq(st.live_sockets, 0);
    ck_assert_uint_eq(st.live_clients, 0);
    ck_assert_msg(st.sent == st.delivered + st.dead_lettered + st.refused,
                  "sent %llu != delivered %llu + dead %llu + refused %llu",
                  (unsigned long long)st.sent, (unsigned long long)st.delivered,
                  (unsigned long long)st.dead_lettered,
                  (unsigned long long)st.refused);
    TR_CK_OK(troupe_node_destroy(node));
    ck_assert_ptr_null(*node);
}
