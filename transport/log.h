// SPDX-License-Identifier: MIT
//
// Logging through the user's hook, transport layer. The library never writes
// to stdout; the default hook writes to stderr.
#ifndef TR_LOG_H
#define TR_LOG_H

#include "troupe/node.h"

typedef struct tr_log {
    troupe_log_fn fn;       // never NULL once set up
    void *arg;              // passed to fn
    troupe_log_level level; // lines less severe than this are not formatted
} tr_log;

// Set up *l from the options (a NULL fn picks the stderr hook).
void tr_log_init(tr_log *l, troupe_log_fn fn, void *arg,
                 troupe_log_level level);

// Format and hand one line to the hook, if level is enabled.
void tr_logf(const tr_log *l, troupe_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
