// SPDX-License-Identifier: MIT
//
// I/O readiness on an actor's loop: watch a file descriptor (a socket, a
// pipe, an eventfd...) and get a message when it can be read or written,
// so an actor does non-blocking I/O without ever blocking its loop.
// Blocking calls belong in an isolated actor or the offload pool instead.
#ifndef TROUPE_IO_H
#define TROUPE_IO_H

#include "troupe/actor.h"

#ifdef __cplusplus
extern "C" {
#endif

// Readiness, in the events of troupe_io_watch and in the code of a
// TROUPE_MSG_IO message.
#define TROUPE_IO_READ 1u  // readable (or at end of file)
#define TROUPE_IO_WRITE 2u // writable
#define TROUPE_IO_ERROR 4u // an error or hang-up (reported, never asked)

// Watch fd (non-blocking, owned by the caller, kept open while watched)
// for events (TROUPE_IO_READ and/or TROUPE_IO_WRITE). When it is ready the
// actor gets a TROUPE_MSG_IO message with the given tag (copied), code the
// TROUPE_IO_* bits that are ready and ref the watch's id. Level-triggered,
// one at a time: while such a message waits or is being handled the fd is
// not looked at, and once its handler returned the fd is looked at again,
// so the handler need not drain the fd (but it may, up to EAGAIN). An fd at
// end of file or hung up stays ready: unwatch it when read() returns 0, or
// it is told again at every turn of the loop. The watch ends with
// troupe_io_unwatch or with the actor. Returns 0 and *id (may be NULL);
// TROUPE_EINVAL (fd < 0, no or unknown events, bad tag), TROUPE_ENOMEM.
TROUPE_API int troupe_io_watch(troupe_ctx *cx, int fd, unsigned events,
                               const char *tag, uint64_t *id);

// Stop watching: no message for it is handled after this returns (one
// already queued is dropped). Returns 0 or TROUPE_ENOENT.
TROUPE_API int troupe_io_unwatch(troupe_ctx *cx, uint64_t id);

#ifdef __cplusplus
}
#endif
#endif
