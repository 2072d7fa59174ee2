// SPDX-License-Identifier: MIT
//
// The baselines: what a careful programmer writes with libzmq (and msgpack-c)
// by hand for the same workloads, measured in the same run as troupe. Every
// socket is created, used and closed by one thread; the sockets keep
// libzmq's defaults (high-water marks of 1000), as a plain program would.
#include <dirent.h>
#include <errno.h>
#include <msgpack.h>
#include <pthread.h>
#include <stdlib.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "bench.h"

// ---- helpers ----

static char s_dir[64];

static void s_rm_dir(void)
{
    if (!s_dir[0])
        return;
    DIR *d = opendir(s_dir);
    if (d) {
        struct dirent *e;
        char path[512];
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "%s/%s", s_dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(s_dir);
}

const char *bl_ipc_dir(void)
{
    if (!s_dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(s_dir, sizeof s_dir, "%s/troupe-bench-XXXXXX",
                 tmp && *tmp && strlen(tmp) < 30 ? tmp : "/tmp");
        if (!mkdtemp(s_dir))
            bench_fail("mkdtemp %s: %s", s_dir, strerror(errno));
        atexit(s_rm_dir);
    }
    return s_dir;
}

// A socket whose receives give up after 60 s, so that a lost message fails
// the run instead of hanging it.
static void *s_socket(void *ctx, int type)
{
    void *s = zmq_socket(ctx, type);
    if (!s)
        bench_fail("zmq_socket: %s", zmq_strerror(zmq_errno()));
    int ms = 60000;
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &ms, sizeof ms);
    return s;
}

// Send or receive with EINTR retried; fail the run on any other error.
static void s_send(void *s, const void *buf, size_t len)
{
    while (zmq_send(s, buf, len, 0) != (int)len) {
        if (zmq_errno() != EINTR)
            bench_fail("zmq_send: %s", zmq_strerror(zmq_errno()));
    }
}

static int s_recv(void *s, void *buf, size_t cap)
{
    for (;;) {
        int n = zmq_recv(s, buf, cap, 0);
        if (n >= 0) {
            if ((size_t)n > cap)
                bench_fail("zmq_recv: message of %d bytes truncated", n);
            return n;
        }
        if (zmq_errno() == EAGAIN)
            bench_fail("zmq_recv: nothing for 60 s (a message was lost)");
        if (zmq_errno() != EINTR)
            bench_fail("zmq_recv: %s", zmq_strerror(zmq_errno()));
    }
}

static void s_ctx_term(void *ctx)
{
    while (zmq_ctx_term(ctx) != 0 && zmq_errno() == EINTR)
        ;
}

// ---- W1: ping-pong ----

typedef struct s_peer {
    void *ctx;            // shared context
    const char *ep;       // endpoint to connect to
    long n;               // messages (stream) or unused
    enum bl_encoding enc; // stream encoding
    int64_t t0;           // stream: first send, ns
    int report_t0;        // stream: send t0 after the stream (the peer is
                          // another process, which cannot read p->t0)
} s_peer;

static void *s_echo_main(void *arg)
{
    s_peer *p = arg;
    void *s = s_socket(p->ctx, ZMQ_PAIR);
    if (zmq_connect(s, p->ep) != 0)
        bench_fail("zmq_connect %s: %s", p->ep, zmq_strerror(zmq_errno()));
    for (;;) {
        int64_t v;
        if (s_recv(s, &v, sizeof v) != sizeof v)
            bench_fail("echo: bad message size");
        if (v < 0) // the stop signal
            break;
        v++;
        s_send(s, &v, sizeof v);
    }
    zmq_close(s);
    return NULL;
}

// The pinging side: warmup + rounds round trips on s, each of the last
// rounds timed into samples (µs); then the stop signal. Returns the
// counter.
static int64_t s_ping_loop(void *s, long warmup, long rounds, double *samples)
{
    int64_t v = 0;
    for (long i = 0; i < warmup + rounds; i++) {
        int64_t t0 = bench_now_ns();
        s_send(s, &v, sizeof v);
        int64_t back;
        if (s_recv(s, &back, sizeof back) != sizeof back || back != v + 1)
            bench_fail("raw ping-pong: got a wrong counter");
        int64_t t1 = bench_now_ns();
        v = back;
        if (i >= warmup)
            samples[i - warmup] = (double)(t1 - t0) / 1e3;
    }
    int64_t stop = -1;
    s_send(s, &stop, sizeof stop);
    return v;
}

int64_t bl_pingpong(const char *endpoint, long warmup, long rounds,
                    double *samples)
{
    void *ctx = zmq_ctx_new();
    void *s = s_socket(ctx, ZMQ_PAIR);
    if (zmq_bind(s, endpoint) != 0)
        bench_fail("zmq_bind %s: %s", endpoint, zmq_strerror(zmq_errno()));
    s_peer peer = {.ctx = ctx, .ep = endpoint};
    pthread_t t;
    if (pthread_create(&t, NULL, s_echo_main, &peer) != 0)
        bench_fail("pthread_create");
    int64_t v = s_ping_loop(s, warmup, rounds, samples);
    pthread_join(t, NULL);
    zmq_close(s);
    s_ctx_term(ctx);
    return v;
}

int64_t bl_pingpong_proc(const char *endpoint, long warmup, long rounds,
                         double *samples)
{
    void *ctx = zmq_ctx_new();
    void *s = s_socket(ctx, ZMQ_PAIR);
    if (zmq_bind(s, endpoint) != 0)
        bench_fail("zmq_bind %s: %s", endpoint, zmq_strerror(zmq_errno()));
    char *argv[] = {"troupe-bench", "--child", "raw-echo", (char *)endpoint,
                    NULL};
    pid_t pid = bench_spawn_self(argv);
    int64_t v = s_ping_loop(s, warmup, rounds, samples);
    bench_wait_child(pid, "raw-echo");
    zmq_close(s);
    s_ctx_term(ctx);
    return v;
}

int bl_child_echo(const char *endpoint)
{
    s_peer peer = {.ctx = zmq_ctx_new(), .ep = endpoint};
    s_echo_main(&peer);
    s_ctx_term(peer.ctx);
    return 0;
}

// ---- W2: one-way stream ----

// The raw encoding: i, 'x', 2.5 copied into 17 bytes, about the size of the
// msgpack form (1 + 5 + 2 + 9 bytes at these values).
#define S_RAW_LEN 17

static void *s_sender_main(void *arg)
{
    s_peer *p = arg;
    void *s = s_socket(p->ctx, ZMQ_PAIR);
    if (zmq_connect(s, p->ep) != 0)
        bench_fail("zmq_connect %s: %s", p->ep, zmq_strerror(zmq_errno()));
    // Handshake, so that connecting is not timed.
    char c = 'h';
    s_send(s, &c, 1);
    s_recv(s, &c, 1);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    p->t0 = bench_now_ns();
    for (long i = 0; i < p->n; i++) {
        if (p->enc == BL_MSGPACK) {
            msgpack_sbuffer_clear(&sb);
            msgpack_pack_array(&pk, 3);
            msgpack_pack_int64(&pk, i);
            msgpack_pack_str(&pk, 1);
            msgpack_pack_str_body(&pk, "x", 1);
            msgpack_pack_double(&pk, 2.5);
            s_send(s, sb.data, sb.size);
        } else {
            unsigned char buf[S_RAW_LEN];
            int64_t v = i;
            double d = 2.5;
            memcpy(buf, &v, 8);
            buf[8] = 'x';
            memcpy(buf + 9, &d, 8);
            s_send(s, buf, sizeof buf);
        }
    }
    msgpack_sbuffer_destroy(&sb);
    if (p->report_t0)
        s_send(s, &p->t0, sizeof p->t0);
    // Wait for the receiver's word that it has everything: over ipc, closing
    // a PAIR right after the last send can lose the tail of the stream.
    s_recv(s, &c, 1);
    zmq_close(s);
    return NULL;
}

// The receiving side of a stream on s: the handshake (so that connecting
// is not timed), then n messages decoded and summed. Returns when the last
// one was in, ns; fails the run if one is wrong.
static int64_t s_recv_stream(void *s, const char *endpoint, long n,
                             enum bl_encoding enc)
{
    char c;
    s_recv(s, &c, 1);
    s_send(s, &c, 1);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int64_t sum = 0;
    long bad = 0;
    for (long k = 0; k < n; k++) {
        unsigned char buf[64];
        int len = zmq_recv(s, buf, sizeof buf, 0);
        if (len < 0 && zmq_errno() == EINTR) {
            k--;
            continue;
        }
        if (len < 0)
            bench_fail("raw stream %s: receive %ld of %ld: %s", endpoint, k, n,
                       zmq_strerror(zmq_errno()));
        if (enc == BL_MSGPACK) {
            size_t off = 0;
            if (msgpack_unpack_next(&u, (const char *)buf, (size_t)len, &off) !=
                MSGPACK_UNPACK_SUCCESS) {
                bad++;
                continue;
            }
            msgpack_object o = u.data;
            if (o.type != MSGPACK_OBJECT_ARRAY || o.via.array.size != 3) {
                bad++;
                continue;
            }
            msgpack_object *it = o.via.array.ptr;
            if (it[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER)
                sum += (int64_t)it[0].via.u64;
            else if (it[0].type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
                sum += it[0].via.i64;
            else
                bad++;
            if (it[1].type != MSGPACK_OBJECT_STR || it[1].via.str.size != 1 ||
                it[1].via.str.ptr[0] != 'x' ||
                it[2].type != MSGPACK_OBJECT_FLOAT64 || it[2].via.f64 != 2.5)
                bad++;
        } else {
            int64_t v;
            double d;
            if (len != S_RAW_LEN) {
                bad++;
                continue;
            }
            memcpy(&v, buf, 8);
            memcpy(&d, buf + 9, 8);
            sum += v;
            if (buf[8] != 'x' || d != 2.5)
                bad++;
        }
    }
    int64_t t1 = bench_now_ns();
    msgpack_unpacked_destroy(&u);
    int64_t want = (int64_t)n * (n - 1) / 2;
    if (bad || sum != want)
        bench_fail("raw stream %s: sum %lld (want %lld), %ld bad messages",
                   endpoint, (long long)sum, (long long)want, bad);
    return t1;
}

double bl_stream(const char *endpoint, long n, enum bl_encoding enc)
{
    void *ctx = zmq_ctx_new();
    void *s = s_socket(ctx, ZMQ_PAIR);
    if (zmq_bind(s, endpoint) != 0)
        bench_fail("zmq_bind %s: %s", endpoint, zmq_strerror(zmq_errno()));
    s_peer peer = {.ctx = ctx, .ep = endpoint, .n = n, .enc = enc};
    pthread_t t;
    if (pthread_create(&t, NULL, s_sender_main, &peer) != 0)
        bench_fail("pthread_create");
    int64_t t1 = s_recv_stream(s, endpoint, n, enc);
    char c = 'k';
    s_send(s, &c, 1); // the sender may close now
    pthread_join(t, NULL);
    zmq_close(s);
    s_ctx_term(ctx);
    return (double)n / ((double)(t1 - peer.t0) / 1e9);
}

double bl_stream_proc(const char *endpoint, long n, enum bl_encoding enc)
{
    void *ctx = zmq_ctx_new();
    void *s = s_socket(ctx, ZMQ_PAIR);
    if (zmq_bind(s, endpoint) != 0)
        bench_fail("zmq_bind %s: %s", endpoint, zmq_strerror(zmq_errno()));
    char nbuf[32], ebuf[8];
    snprintf(nbuf, sizeof nbuf, "%ld", n);
    snprintf(ebuf, sizeof ebuf, "%d", (int)enc);
    char *argv[] = {"troupe-bench", "--child", "raw-stream", (char *)endpoint,
                    nbuf,           ebuf,      NULL};
    pid_t pid = bench_spawn_self(argv);
    int64_t t1 = s_recv_stream(s, endpoint, n, enc);
    int64_t t0; // the sender's first send, on the same (system-wide) clock
    if (s_recv(s, &t0, sizeof t0) != sizeof t0)
        bench_fail("raw stream %s: no start time from the sender", endpoint);
    char c = 'k';
    s_send(s, &c, 1); // the sender may close now
    bench_wait_child(pid, "raw-stream");
    zmq_close(s);
    s_ctx_term(ctx);
    return (double)n / ((double)(t1 - t0) / 1e9);
}

int bl_child_stream(const char *endpoint, long n, int enc)
{
    s_peer peer = {.ctx = zmq_ctx_new(),
                   .ep = endpoint,
                   .n = n,
                   .enc = (enum bl_encoding)enc,
                   .report_t0 = 1};
    s_sender_main(&peer);
    s_ctx_term(peer.ctx);
    return 0;
}

// ---- W6: how soon a parent learns that a child process died ----

int bl_child_idle(const char *endpoint)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL); // never outlive the bench
    void *ctx = zmq_ctx_new();
    void *s = s_socket(ctx, ZMQ_PUSH);
    if (zmq_connect(s, endpoint) != 0)
        bench_fail("zmq_connect %s: %s", endpoint, zmq_strerror(zmq_errno()));
    char ready = 'r';
    s_send(s, &ready, 1);
    sleep(60); // killed long before
    zmq_close(s);
    s_ctx_term(ctx);
    return 0;
}

void bl_kill_detect(const char *endpoint, long warmup, long n, double *samples)
{
    void *ctx = zmq_ctx_new();
    void *s = s_socket(ctx, ZMQ_PULL);
    if (zmq_bind(s, endpoint) != 0)
        bench_fail("zmq_bind %s: %s", endpoint, zmq_strerror(zmq_errno()));
    char *argv[] = {"troupe-bench", "--child", "idle", (char *)endpoint, NULL};
    for (long i = 0; i < warmup + n; i++) {
        pid_t pid = bench_spawn_self(argv);
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (fd < 0)
            bench_fail("pidfd_open: %s", strerror(errno));
        char ready;
        s_recv(s, &ready, 1); // it runs, with its zmq threads
        int64_t t0 = bench_now_ns();
        if (kill(pid, SIGKILL) != 0)
            bench_fail("kill: %s", strerror(errno));
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int rc;
        while ((rc = poll(&pfd, 1, 60000)) < 0 && errno == EINTR)
            ;
        int64_t t1 = bench_now_ns();
        if (rc != 1)
            bench_fail("raw-pidfd: the killed child did not end within 60 s");
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        close(fd);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
            bench_fail("raw-pidfd: the child ended with status %d", status);
        if (i >= warmup)
            samples[i - warmup] = (double)(t1 - t0) / 1e3;
    }
    zmq_close(s);
    s_ctx_term(ctx);
}

// ---- W3: a thread and a socket pair per "actor" ----

typedef struct s_tactor {
    pthread_t thread; // the actor's thread
    void *front;      // the caller's end (PAIR, bound)
    void *back;       // the thread's end (PAIR, connected); handed over at
                      // thread creation, as zactor does
} s_tactor;

static void *s_tactor_main(void *arg)
{
    s_tactor *a = arg;
    char ready = 'r';
    s_send(a->back, &ready, 1);
    int64_t v;
    if (s_recv(a->back, &v, sizeof v) != sizeof v)
        bench_fail("thread actor: bad message size");
    v++;
    s_send(a->back, &v, sizeof v);
    zmq_close(a->back);
    return NULL;
}

int64_t bl_thread_sockets(long n)
{
    void *ctx = zmq_ctx_new();
    zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, (int)(2 * n + 64));
    s_tactor *as = calloc((size_t)n, sizeof *as);
    if (!as)
        bench_fail("out of memory");
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        char ep[64];
        snprintf(ep, sizeof ep, "inproc://bl-actor-%ld", i);
        as[i].front = s_socket(ctx, ZMQ_PAIR);
        as[i].back = s_socket(ctx, ZMQ_PAIR);
        if (zmq_bind(as[i].front, ep) != 0 || zmq_connect(as[i].back, ep) != 0)
            bench_fail("socket pair %ld: %s", i, zmq_strerror(zmq_errno()));
        if (pthread_create(&as[i].thread, NULL, s_tactor_main, &as[i]) != 0)
            bench_fail("pthread_create (thread %ld)", i);
        char ready;
        s_recv(as[i].front, &ready, 1); // spawn returns once it is ready
    }
    for (long i = 0; i < n; i++) {
        int64_t v = i;
        s_send(as[i].front, &v, sizeof v);
    }
    for (long i = 0; i < n; i++) {
        int64_t v;
        if (s_recv(as[i].front, &v, sizeof v) != sizeof v || v != i + 1)
            bench_fail("thread actor %ld: wrong reply", i);
    }
    for (long i = 0; i < n; i++) {
        pthread_join(as[i].thread, NULL);
        zmq_close(as[i].front);
    }
    int64_t t1 = bench_now_ns();
    free(as);
    s_ctx_term(ctx);
    return t1 - t0;
}
