// SPDX-License-Identifier: MIT
//
// troupe-bench-codec: a tight-loop microbenchmark of the transport codec's
// format-string packer and reader (tr_pack_fmt, tr_read_fmt) on the small
// formats that carry most messages, beside msgpack-c's own packer and
// unpacker on the same values. Never run under ctest; build it -O2 without
// sanitizers and run `troupe-bench-codec [iterations] [filter]` (filter: run
// only the cases whose name starts with it, e.g. under perf). Prints ns per
// call, the best of several repetitions (the least disturbed by the machine).
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec.h"

#define S_REPS 7

static int64_t s_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void s_check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "bench-codec: %s failed: %d\n", what, rc);
        exit(1);
    }
}

// The variadic front ends, as troupe_tell() and troupe_msg_read() call them.
static int s_pack(tr_buf *b, const tr_limits *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = tr_pack_fmt(b, l, fmt, &ap);
    va_end(ap);
    return rc;
}

static int s_read(const tr_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = tr_read_fmt(b->data, b->len, fmt, &ap);
    va_end(ap);
    return rc;
}

// One measured case: runs `iters` calls and returns how long they took.
typedef int64_t (*s_case)(long iters);

static tr_limits s_lim;
static tr_buf s_buf;
static volatile int64_t s_sink; // keeps read results alive

static int64_t s_pack_array(long iters)
{
    int64_t t0 = s_now_ns();
    for (long i = 0; i < iters; i++) {
        s_buf.len = 0;
        s_check(s_pack(&s_buf, &s_lim, "[Isd]", (int64_t)i, "hello", 2.5),
                "pack [Isd]");
    }
    return s_now_ns() - t0;
}

static int64_t s_read_array(long iters)
{
    s_buf.len = 0;
    s_check(s_pack(&s_buf, &s_lim, "[Isd]", (int64_t)123456, "hello", 2.5),
            "pack [Isd]");
    int64_t I = 0, sum = 0;
    const char *s = NULL;
    size_t n = 0;
    double d = 0;
    int64_t t0 = s_now_ns();
    for (long i = 0; i < iters; i++) {
        s_check(s_read(&s_buf, "[Isd]", &I, &s, &n, &d), "read [Isd]");
        sum += I + (int64_t)n;
    }
    int64_t t = s_now_ns() - t0;
    s_sink = sum;
    return t;
}

static int64_t s_pack_map(long iters)
{
    int64_t t0 = s_now_ns();
    for (long i = 0; i < iters; i++) {
        s_buf.len = 0;
        s_check(s_pack(&s_buf, &s_lim, "{s:I}", "n", (int64_t)i), "pack {s:I}");
    }
    return s_now_ns() - t0;
}

static int64_t s_read_map(long iters)
{
    s_buf.len = 0;
    s_check(s_pack(&s_buf, &s_lim, "{s:I}", "n", (int64_t)70000), "pack {s:I}");
    int64_t I = 0, sum = 0;
    int64_t t0 = s_now_ns();
    for (long i = 0; i < iters; i++) {
        s_check(s_read(&s_buf, "{s:I}", "n", &I), "read {s:I}");
        sum += I;
    }
    int64_t t = s_now_ns() - t0;
    s_sink = sum;
    return t;
}

static int64_t s_pack_int(long iters)
{
    int64_t t0 = s_now_ns();
    for (long i = 0; i < iters; i++) {
        s_buf.len = 0;
        s_check(s_pack(&s_buf, &s_lim, "I", (int64_t)i), "pack I");
    }
    return s_now_ns() - t0;
}

static int64_t s_read_int(long iters)
{
    s_buf.len = 0;
    s_check(s_pack(&s_buf, &s_lim, "I", (int64_t)1 << 40), "pack I");
    int64_t I = 0, sum = 0;
    int64_t t0 = s_now_ns();
    for (long i = 0; i < iters; i++) {
        s_check(s_read(&s_buf, "I", &I), "read I");
        sum += I;
    }
    int64_t t = s_now_ns() - t0;
    s_sink = sum;
    return t;
}

// msgpack-c by hand on the values of "[Isd]": what the format costs on top.
static int64_t s_msgpack_c_pack_array(long iters)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    int64_t t0 = s_now_ns();
    for (long i = 0; i < iters; i++) {
        sb.size = 0;
        msgpack_pack_array(&pk, 3);
        msgpack_pack_int64(&pk, (int64_t)i);
        msgpack_pack_str_with_body(&pk, "hello", 5);
        msgpack_pack_double(&pk, 2.5);
    }
    int64_t t = s_now_ns() - t0;
    msgpack_sbuffer_destroy(&sb);
    return t;
}

static int64_t s_msgpack_c_unpack_array(long iters)
{
    s_buf.len = 0;
    s_check(s_pack(&s_buf, &s_lim, "[Isd]", (int64_t)123456, "hello", 2.5),
            "pack [Isd]");
    msgpack_zone zone;
    msgpack_zone_init(&zone, 256);
    int64_t sum = 0;
    int64_t t0 = s_now_ns();
    for (long i = 0; i < iters; i++) {
        msgpack_object o;
        size_t off = 0;
        if (msgpack_unpack((const char *)s_buf.data, s_buf.len, &off, &zone,
                           &o) != MSGPACK_UNPACK_SUCCESS)
            s_check(-1, "msgpack_unpack");
        sum += o.via.array.ptr[0].via.i64 + o.via.array.ptr[1].via.str.size;
        msgpack_zone_clear(&zone);
    }
    int64_t t = s_now_ns() - t0;
    msgpack_zone_destroy(&zone);
    s_sink = sum;
    return t;
}

static const char *s_filter;

static void s_run(const char *name, s_case fn, long iters)
{
    if (s_filter != NULL && strncmp(name, s_filter, strlen(s_filter)) != 0)
        return;
    fn(iters / 10 + 1); // warm up caches and the branch predictor
    double best = 0;
    for (int r = 0; r < S_REPS; r++) {
        double ns = (double)fn(iters) / (double)iters;
        if (r == 0 || ns < best)
            best = ns;
    }
    printf("%-28s %8.1f ns/op\n", name, best);
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 2000000;
    if (iters <= 0) {
        fprintf(stderr, "usage: %s [iterations] [filter]\n", argv[0]);
        return 2;
    }
    s_filter = argc > 2 ? argv[2] : NULL;
    tr_limits_default(&s_lim);
    s_run("pack [Isd]", s_pack_array, iters);
    s_run("read [Isd]", s_read_array, iters);
    s_run("pack {s:I}", s_pack_map, iters);
    s_run("read {s:I}", s_read_map, iters);
    s_run("pack I", s_pack_int, iters);
    s_run("read I", s_read_int, iters);
    s_run("msgpack-c pack [Isd]", s_msgpack_c_pack_array, iters);
    s_run("msgpack-c unpack [Isd]", s_msgpack_c_unpack_array, iters);
    tr_buf_fini(&s_buf);
    return 0;
}
