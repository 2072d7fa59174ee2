// SPDX-License-Identifier: MIT
//
// The offload pool inside a node (see troupe/offload.h and offload.c): a
// locked FIFO of jobs and the worker threads that run them, started on
// demand and stopped by troupe_node_stop after the loops. Owns no socket:
// a worker answers through tr_route, as any thread outside the node does.
#ifndef TR_OFFLOAD_INTERNAL_H
#define TR_OFFLOAD_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

typedef struct troupe_node troupe_node;
typedef struct troupe_node_stats troupe_node_stats;
typedef struct tr_job tr_job;

typedef struct tr_offload {
    pthread_mutex_t lock;     // guards every field but the counters
    pthread_cond_t cv;        // signalled when a job is queued or on quit
    tr_job *head, *tail;      // queued jobs, oldest first
    uint32_t queued;          // jobs in the queue
    uint32_t max_queued;      // offload_queue: more is TROUPE_EFULL
    unsigned idle;            // workers waiting on cv
    unsigned started;         // workers started: threads[0..started-1]
    unsigned max_threads;     // offload_threads, resolved
    pthread_t *threads;       // max_threads entries, made on first start
    int quit;                 // stopping: no new jobs, workers end
    _Atomic uint64_t jobs;    // jobs run to their end (stats)
    _Atomic uint64_t refused; // jobs refused, queue full (stats)
} tr_offload;

// Set up node n's pool from n->opts (no thread yet; offload_threads 0 is
// resolved to the number of online cores and written back to n->opts).
void tr_offload_init(troupe_node *n);
// Stop the pool: refuse new jobs, drop the queued ones (an actor still
// waiting for one gets TROUPE_ESHUTDOWN), and join the workers, each of
// which may be finishing a job, until deadline. Returns 0 or
// TROUPE_ETIMEDOUT: a worker still running then is detached and n->leaked
// is set (the node's memory must not be freed under it). Called by
// troupe_node_stop once the loops are gone, so that no actor can still
// submit. Calling it again does nothing.
int tr_offload_stop(troupe_node *n, int64_t deadline);
// Free what init made (after stop, or if no job was ever submitted).
void tr_offload_fini(troupe_node *n);
// Fill the offload_* fields of *st.
void tr_offload_stats(troupe_node *n, troupe_node_stats *st);

#endif
