// SPDX-License-Identifier: MIT
//
// The workloads of troupe-bench (see the project's shared WORKLOADS.md and
// bench/README.md) and the hand-written libzmq baselines they are compared
// with. Each workload records its figures with bench_add() and exits the
// process non-zero if a measured run produced a wrong result.
#ifndef BENCH_BENCH_H
#define BENCH_BENCH_H

#include <stdint.h>

#include "bench_util.h"
#include "troupe/troupe.h"

// Fail the run unless a troupe call returned 0.
static inline void bench_ok(int rc, const char *what)
{
    if (rc != 0)
        bench_fail("%s: %s (%s)", what, troupe_errname(rc),
                   troupe_strerror(rc));
}

// A node with `loops` loops (0: one per core) and the defaults otherwise.
troupe_node *bench_node_new(unsigned loops);

// ---- workloads (bench_w*.c) ----

// W1 ping-pong: µs per round trip, p50 and p99.
void bench_w1(const bench_cfg *cfg);
// W2 one-way stream of msgpack [i, "x", 2.5]: messages per second.
void bench_w2(const bench_cfg *cfg);
// W3 spawn N light actors, one message and one reply each: actors per
// second and bytes per actor, each N in a fresh child process.
void bench_w3(const bench_cfg *cfg);
// W4 a token around a ring of actors: hops per second.
void bench_w4(const bench_cfg *cfg);
// W5 gather of three requests answered after 80, 120 and 60 ms, against
// awaiting them one after another: total ms and ms over the ideal.
void bench_w5(const bench_cfg *cfg);
// W6 restart of a supervised child to the first answer of its next
// incarnation, against a fresh spawn plus its first answer: µs, p50 and p99.
void bench_w6(const bench_cfg *cfg);
// W7 CPU isolation: a light actor's ping round trip, p50 and p99 in µs,
// while a heavy actor runs 200 ms CPU jobs on its loop, isolated or in the
// offload pool, against no heavy actor.
void bench_w7(const bench_cfg *cfg);
// W8 the seed's service: requests per second and the trivial requests' p99
// in ms, with the 50 ms CPU jobs on the loop, isolated or offloaded.
void bench_w8(const bench_cfg *cfg);

// ---- process actors: what this program serves as a child process ----

// The kinds of process actor (troupe/process.h) this program serves; main()
// gives them to troupe_proc_child() before anything else.
#define BENCH_KIND_W1 "w1-pong"     // W1's pong
#define BENCH_KIND_W2 "w2-receiver" // W2's receiver
#define BENCH_KIND_W6 "w6-child"    // W6's crashing child

// When this process's main() began (CLOCK_MONOTONIC, ns): a process
// actor's child reports it, so that a process start splits into stages.
extern int64_t bench_main_ns;

// The actor each kind runs in the child (handler, init, state).
troupe_actor_spec bench_w1_proc_actor(void);
troupe_actor_spec bench_w2_proc_actor(void);
troupe_actor_spec bench_w6_proc_actor(void);

// W1's remote-ipc child (troupe-bench --child w1-remote ENDPOINT WARMUP
// ROUNDS): call the pong actor by name through troupe_remote and print
// "W1REMOTE <p50_us> <p99_us> <final counter>". Returns the exit status.
int bench_w1_remote_child(const char *ep, long warmup, long rounds);

// W2's remote-ipc child (troupe-bench --child w2-remote ENDPOINT N): stream
// N messages with troupe_remote_tell, then call "result"; print "W2REMOTE
// <ns> <count> <sum> <bad>". Returns the exit status.
int bench_w2_remote_child(const char *ep, long n);

// W3's child mode (troupe-bench --child KIND N): run one spawn of n actors
// (kind "light") or n thread+socket pairs (kind "thread") in this fresh
// process and print "W3CHILD <elapsed_ns> <rss_before_kb> <hwm_kb>" on
// stdout. Returns the exit status.
int bench_w3_child(const char *kind, long n);

// ---- raw libzmq baselines (baseline_zmq.c) ----

// A temporary directory for ipc endpoints, made on first use and removed at
// exit.
const char *bl_ipc_dir(void);

// W1: a PAIR ping-pong between the calling thread and an echo thread over
// endpoint (the caller binds). The echo side increments an 8-byte integer.
// Runs warmup round trips, then rounds more, writing each of those in µs to
// samples[0..rounds-1]. Returns the final counter (warmup + rounds).
int64_t bl_pingpong(const char *endpoint, long warmup, long rounds,
                    double *samples);

// W1 across two processes: the same ping-pong with the echo side in a
// fresh process (this program again, `--child raw-echo ENDPOINT`, started
// with posix_spawn) over an ipc endpoint that the caller binds.
int64_t bl_pingpong_proc(const char *endpoint, long warmup, long rounds,
                         double *samples);

// The echo process of bl_pingpong_proc: connect to endpoint and echo until
// the stop signal. Returns the exit status.
int bl_child_echo(const char *endpoint);

// How bl_stream encodes each message.
enum bl_encoding {
    BL_RAW = 0,     // a 17-byte struct copied in and out: no msgpack
    BL_MSGPACK = 1, // msgpack-c pack [i, "x", 2.5], unpack and check
};

// W2: a sender thread streams n messages over a PAIR at endpoint to the
// calling thread, which decodes them and sums i. Returns messages per
// second (first send to last receive); fails the run if the sum is wrong.
double bl_stream(const char *endpoint, long n, enum bl_encoding enc);

// W2 across two processes: the sender is a fresh process (this program
// again, `--child raw-stream ENDPOINT N ENC`, started with posix_spawn),
// which reports its start time (CLOCK_MONOTONIC is system-wide) after the
// stream. Returns messages per second; fails the run if the sum is wrong.
double bl_stream_proc(const char *endpoint, long n, enum bl_encoding enc);

// The sending process of bl_stream_proc. Returns the exit status.
int bl_child_stream(const char *endpoint, long n, int enc);

// W6's death detection baseline: warmup + n times, start a fresh process
// (this program again, `--child idle ENDPOINT`: a libzmq context and a PUSH
// socket that says it is ready, then sleep), kill it with SIGKILL and time
// until its pidfd is readable (the kernel's part of noticing a death); the
// last n into samples, µs. The caller's endpoint is bound here (PULL).
void bl_kill_detect(const char *endpoint, long warmup, long n, double *samples);

// The process of bl_kill_detect. Returns the exit status (never, killed).
int bl_child_idle(const char *endpoint);

// W3's baseline: n threads, each with its own PAIR socket pair (created and
// connected as a zactor does, with a ready handshake), all alive at once,
// then one message and one reply each, then all end. Returns the elapsed
// ns; fails the run if a reply is wrong.
int64_t bl_thread_sockets(long n);

#endif
