// SPDX-License-Identifier: MIT
//
// Logging through the user's hook, transport layer. Lines are formatted only
// when their level is enabled, into a stack buffer (no allocation), and the
// default hook writes to stderr: the library never writes to stdout.
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static const char *const s_level_names[] = {"error", "warn", "info", "debug"};

static void s_stderr_hook(void *arg, troupe_log_level level, const char *line)
{
    (void)arg;
    const char *name =
        (unsigned)level < 4 ? s_level_names[(unsigned)level] : "?";
    fprintf(stderr, "troupe %s: %s\n", name, line);
}

void tr_log_init(tr_log *l, troupe_log_fn fn, void *arg, troupe_log_level level)
{
    l->fn = fn ? fn : s_stderr_hook;
    l->arg = fn ? arg : NULL;
    l->level = level;
}

void tr_logf(const tr_log *l, troupe_log_level level, const char *fmt, ...)
{
    if (!l || level > l->level)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    l->fn(l->arg, level, line);
}
