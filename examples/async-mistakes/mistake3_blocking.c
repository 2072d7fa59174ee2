// SPDX-License-Identifier: MIT
//
// Mistake 3: a blocking library call inside a handler. A "db" actor answers
// "query" with a call into a synchronous driver: a blocking read() that
// returns after 200 ms (a timerfd stands in for the driver's socket). Made
// in the handler, it stalls the shared loop, so a "light" actor on the same
// loop stops answering pings, and the blocking detector (block_warn_ms)
// reports the loop lag, naming db and the tag. The troupe ways: the same
// blocking call in the offload pool, or, since the fd is ours, no blocking
// call at all: watch it with troupe_io_watch and read it when it is ready.
// Figures: the time two queries took, and the light actor's ping latency.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE // timerfd
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "mistakes.h"

#define M3_QUERY_MS 200 // what one driver call blocks for
#define M3_QUERIES 2    // asked at once by main
#define M3_PINGS 1000   // most pings in one run
#define M3_PING_MS 5    // one ping every 5 ms

typedef enum m3_mode {
    M3_BLOCKING, // the mistake: the blocking read in the handler
    M3_OFFLOAD,  // the same blocking read in the offload pool
    M3_WATCH,    // a non-blocking read when the loop says the fd is ready
} m3_mode;

// ---- the "driver": a file descriptor that becomes readable in 200 ms ----

// A timerfd armed to expire once, M3_QUERY_MS from now. -1 on failure.
static int s_driver_open(int flags)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, flags | TFD_CLOEXEC);
    struct itimerspec its = {.it_value = {0, M3_QUERY_MS * 1000000L}};
    if (fd >= 0 && timerfd_settime(fd, 0, &its, NULL) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

// What a synchronous driver does: block in read() until its answer is in.
static int s_driver_query_blocking(void)
{
    int fd = s_driver_open(0);
    if (fd < 0)
        return TROUPE_ESYS;
    uint64_t expirations;
    ssize_t n;
    do
        n = read(fd, &expirations, sizeof expirations); // blocks 200 ms
    while (n < 0 && errno == EINTR);
    close(fd);
    return n == (ssize_t)sizeof expirations ? 0 : TROUPE_ESYS;
}

// ---- db (shared, loop 0) ----

#define M3_WATCHES 8

typedef struct m3_watch {
    uint64_t id;        // troupe_io_watch's id, 0: free
    int fd;             // the driver's fd
    troupe_deferred *d; // the query to answer
} m3_watch;

typedef struct m3_db {
    m3_mode mode;
    m3_watch w[M3_WATCHES]; // M3_WATCH: queries waiting for their fd
} m3_db;

typedef struct m3_job {
    troupe_deferred *d; // the callback's: the query to answer
} m3_job;

static int s_job_run(void *arg) // on a pool thread: blocking is fine here
{
    (void)arg;
    return s_driver_query_blocking();
}

static int s_job_done(troupe_ctx *cx, void *state, int status,
                      const troupe_msg *reply, void *arg)
{
    (void)state;
    (void)reply;
    m3_job *j = arg;
    if (status < 0)
        troupe_deferred_error(cx, &j->d, status);
    else
        troupe_deferred_reply(cx, &j->d, NULL);
    return 0;
}

static int s_query_offload(troupe_ctx *cx, const troupe_msg *msg)
{
    m3_job *j = calloc(1, sizeof *j);
    if (!j)
        return troupe_reply_error(cx, msg, TROUPE_ENOMEM);
    int rc = troupe_defer(cx, msg, &j->d);
    if (rc == 0)
        rc = troupe_offload(cx, s_job_run, j, free, TROUPE_DEADLINE_DEFAULT,
                            s_job_done, j, NULL);
    if (rc < 0) { // neither the job nor the callback will run: j is ours
        if (j->d)
            troupe_deferred_error(cx, &j->d, rc);
        else
            troupe_reply_error(cx, msg, rc);
        free(j);
    }
    return 0;
}

static int s_query_watch(troupe_ctx *cx, m3_db *db, const troupe_msg *msg)
{
    m3_watch *w = NULL;
    for (int i = 0; i < M3_WATCHES && !w; i++)
        if (!db->w[i].id)
            w = &db->w[i];
    if (!w)
        return troupe_reply_error(cx, msg, TROUPE_EFULL);
    int fd = s_driver_open(TFD_NONBLOCK);
    if (fd < 0)
        return troupe_reply_error(cx, msg, TROUPE_ESYS);
    int rc = troupe_defer(cx, msg, &w->d);
    if (rc == 0)
        rc = troupe_io_watch(cx, fd, TROUPE_IO_READ, "driver", &w->id);
    if (rc < 0) {
        close(fd);
        if (w->d)
            troupe_deferred_error(cx, &w->d, rc);
        else
            troupe_reply_error(cx, msg, rc);
        w->id = 0;
        return 0;
    }
    w->fd = fd;
    return 0;
}

// The driver's fd is readable: read it without blocking, answer the query.
static int s_db_ready(troupe_ctx *cx, m3_db *db, const troupe_msg *msg)
{
    for (int i = 0; i < M3_WATCHES; i++) {
        m3_watch *w = &db->w[i];
        if (!w->id || w->id != troupe_msg_ref(msg))
            continue;
        uint64_t expirations;
        ssize_t n = read(w->fd, &expirations, sizeof expirations);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return 0; // not yet: the watch fires again when it is
        troupe_io_unwatch(cx, w->id);
        close(w->fd);
        w->id = 0;
        if (n == (ssize_t)sizeof expirations)
            troupe_deferred_reply(cx, &w->d, NULL);
        else
            troupe_deferred_error(cx, &w->d, TROUPE_ESYS);
    }
    return 0;
}

static int s_db_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    m3_db *db = state;
    if (troupe_msg_kind_of(msg) == TROUPE_MSG_IO)
        return s_db_ready(cx, db, msg);
    if (!troupe_msg_is(msg, "query"))
        return troupe_reply_error(cx, msg, TROUPE_ENOTSUP);
    switch (db->mode) {
    case M3_BLOCKING: { // the mistake: the whole loop waits in read()
        int rc = s_driver_query_blocking();
        return rc ? troupe_reply_error(cx, msg, rc)
                  : troupe_reply(cx, msg, NULL);
    }
    case M3_OFFLOAD:
        return s_query_offload(cx, msg);
    case M3_WATCH:
        return s_query_watch(cx, db, msg);
    }
    return troupe_reply_error(cx, msg, TROUPE_EINVAL);
}

// Watches end with the actor; the fds are ours to close.
static void s_db_fini(void *state, int reason)
{
    (void)reason;
    m3_db *db = state;
    for (int i = 0; i < M3_WATCHES; i++)
        if (db->w[i].id) {
            close(db->w[i].fd);
            db->w[i].id = 0;
        }
}

// ---- light (shared, loop 0, beside db) and the prober (loop 1) ----

static int s_light_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    (void)state;
    return troupe_reply(cx, msg, NULL);
}

typedef struct m3_prober {
    troupe_addr light;
    uint64_t timer;
    int outstanding;       // pings in flight
    bool stopped;          // main said "stop": no more pings
    troupe_deferred *stop; // main's "stop", answered once none is in flight
    int sent;              // pings sent
    int64_t sent_us[M3_PINGS];
    double rtt_ms[M3_PINGS]; // of the answered ones
    size_t answered;
    int failed;
    int first_error; // the first failed ping's code
} m3_prober;

static int s_pong(troupe_ctx *cx, void *state, int status,
                  const troupe_msg *reply, void *arg)
{
    (void)reply;
    m3_prober *p = state;
    int i = (int)(intptr_t)arg;
    p->outstanding--;
    if (status == 0)
        p->rtt_ms[p->answered++] =
            (double)(am_now_us() - p->sent_us[i]) / 1000.0;
    else if (!p->failed++)
        p->first_error = status;
    if (p->stop && p->outstanding == 0)
        troupe_deferred_reply(cx, &p->stop, NULL);
    return 0;
}

static int s_prober_handle(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    m3_prober *p = state;
    if (troupe_msg_kind_of(msg) == TROUPE_MSG_TIMER) {
        if (p->stopped || p->sent == M3_PINGS)
            return 0; // (a tick queued before the cancel still comes)
        int i = p->sent++;
        p->sent_us[i] = am_now_us();
        int rc = troupe_request(cx, p->light, "ping", troupe_deadline_in(5000),
                                s_pong, (void *)(intptr_t)i, NULL, NULL);
        if (rc < 0 && !p->failed++)
            p->first_error = rc;
        else if (rc == 0)
            p->outstanding++;
        return 0;
    }
    if (troupe_msg_is(msg, "start"))
        return troupe_timer_start(cx, M3_PING_MS, M3_PING_MS, "tick",
                                  &p->timer);
    if (troupe_msg_is(msg, "stop")) {
        p->stopped = true;
        troupe_timer_cancel(cx, p->timer);
        if (p->outstanding == 0)
            return troupe_reply(cx, msg, NULL);
        return troupe_defer(cx, msg, &p->stop);
    }
    return 0;
}

// ---- one variant on a fresh node ----

typedef struct m3_result {
    double query_ms;      // both queries, asked at once
    double p50, p99, max; // the pings, ms
    unsigned reports;     // the blocking detector's lines
    bool ran;
} m3_result;

static m3_result s_variant(m3_mode mode)
{
    static const char *titles[] = {
        "blocking read in the handler (the mistake):",
        "the same blocking read in the offload pool:",
        "non-blocking read on troupe_io_watch:",
    };
    m3_result res = {0};
    am_node n; // default options: block_warn_ms 100
    if (!am_node_start(&n, 2, NULL))
        return res;
    static m3_db db;
    static m3_prober pr;
    memset(&db, 0, sizeof db);
    memset(&pr, 0, sizeof pr);
    db.mode = mode;
    troupe_addr dba, prober;
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = s_db_handle;
    s.fini = s_db_fini;
    s.state = &db;
    s.name = "db";
    s.loop = TROUPE_LOOP(0);
    bool up =
        am_ok(troupe_node_spawn(n.node, &s, troupe_deadline_in(5000), &dba),
              "spawn db");
    up = up &&
         am_spawn(&n, s_light_handle, NULL, "light", TROUPE_LOOP(0), &pr.light);
    up = up &&
         am_spawn(&n, s_prober_handle, &pr, "prober", TROUPE_LOOP(1), &prober);
    troupe_gather *g = NULL;
    int rc = up ? troupe_client_gather_new(n.me, TROUPE_GATHER_ALL, 0,
                                           troupe_deadline_in(5000), &g)
                : TROUPE_ESTATE;
    if (up && am_ok(rc, "troupe_client_gather_new")) {
        am_ok(troupe_client_tell(n.me, prober, "start", NULL), "start pings");
        int64_t t0 = am_now_us();
        for (int i = 0; i < M3_QUERIES; i++)
            troupe_gather_request(g, dba, "query", NULL);
        troupe_gather_wait(g);
        res.query_ms = (double)(am_now_us() - t0) / 1000.0;
        size_t ok = troupe_gather_count(g, 0);
        int first = troupe_gather_result(g);
        troupe_gather_destroy(&g);
        troupe_msg *r = NULL;
        rc = troupe_call(n.me, prober, "stop", troupe_deadline_in(10000), &r,
                         NULL);
        troupe_msg_destroy(&r);
        if (am_ok(rc, "stop pings")) {
            res.ran = true;
            res.p50 = am_percentile(pr.rtt_ms, pr.answered, 50);
            res.p99 = am_percentile(pr.rtt_ms, pr.answered, 99);
            res.max = am_percentile(pr.rtt_ms, pr.answered, 100);
            pthread_mutex_lock(&n.log.mu);
            res.reports = n.log.warn;
            pthread_mutex_unlock(&n.log.mu);
            am_info("%s", titles[mode]);
            am_info("  %d queries asked at once took %6.1f ms; pings to light "
                    "(same loop): p50 %6.2f  p99 %6.2f  max %6.2f ms",
                    M3_QUERIES, res.query_ms, res.p50, res.p99, res.max);
            am_fact(ok == M3_QUERIES && pr.failed == 0 &&
                        pr.answered == (size_t)pr.sent,
                    "both queries answered (%zu ok%s%s), %zu of %d pings "
                    "answered%s%s",
                    ok, ok == M3_QUERIES ? "" : ", first failure ",
                    ok == M3_QUERIES ? "" : troupe_errname(first), pr.answered,
                    pr.sent, pr.failed ? ", first failure " : "",
                    pr.failed ? troupe_errname(pr.first_error) : "");
            char who[32], line[320];
            am_addr_label(dba, who, sizeof who);
            if (mode == M3_BLOCKING) {
                bool named =
                    am_log_find(&n, line, sizeof line, who, "\"query\"", NULL);
                am_fact(named,
                        "the loop-lag report (block_warn_ms 100) named db "
                        "(%s) and the tag, %u reports:",
                        who, res.reports);
                if (named)
                    am_info("  \"%s\"", line);
            } else {
                am_info("  the blocking detector: %u reports", res.reports);
            }
        }
    }
    am_node_finish(&n);
    return res;
}

void mistake3_blocking(am_row *row)
{
    printf("\n[3] A blocking library call inside a handler\n");
    am_info("db answers \"query\" with a driver call that blocks %d ms in "
            "read(); light shares db's loop;",
            M3_QUERY_MS);
    am_info("a prober on the other loop pings light every %d ms while main "
            "asks db %d queries at once",
            M3_PING_MS, M3_QUERIES);
    m3_result wrong = s_variant(M3_BLOCKING);
    m3_result off = s_variant(M3_OFFLOAD);
    m3_result watch = s_variant(M3_WATCH);
    if (!wrong.ran || !off.ran)
        return;
    double ratio = wrong.p99 / (off.p99 > 0.001 ? off.p99 : 0.001);
    am_info("offloaded: ping p99 %.0fx lower, queries %.1fx faster (they ran "
            "side by side)",
            ratio, wrong.query_ms / off.query_ms);
    if (watch.ran)
        am_info("watched:   ping p99 %.0fx lower, no thread blocked at all",
                wrong.p99 / (watch.p99 > 0.001 ? watch.p99 : 0.001));
    snprintf(row->wrong, sizeof row->wrong, "ping p99 %.1f ms, queries %.0f ms",
             wrong.p99, wrong.query_ms);
    snprintf(row->right, sizeof row->right,
             "ping p99 %.2f ms, queries %.0f ms (offload)", off.p99,
             off.query_ms);
    snprintf(row->ratio, sizeof row->ratio, "p99 %.0fx lower", ratio);
}
