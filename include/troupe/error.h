// SPDX-License-Identifier: MIT
//
// Error codes. Every troupe call returns 0 on success or one of these negative
// codes; errno and zmq_errno() never leak out raw. The same codes are used as
// exit reasons of actors (0 is a normal exit) and as the status of a request.
#ifndef TROUPE_ERROR_H
#define TROUPE_ERROR_H

#include "troupe/common.h"

#ifdef __cplusplus
extern "C" {
#endif

enum troupe_error {
    TROUPE_OK = 0,
    TROUPE_EINVAL = -1,      // invalid argument or API misuse
    TROUPE_ENOMEM = -2,      // out of memory
    TROUPE_EFULL = -3,       // a bounded mailbox or queue is full
    TROUPE_EDEAD = -4,       // the target is dead, died, or did not reply
    TROUPE_ENOENT = -5,      // no such destination or name
    TROUPE_ETIMEDOUT = -6,   // the deadline passed
    TROUPE_EMSGSIZE = -7,    // a message is over the size limit
    TROUPE_EBADMSG = -8,     // malformed msgpack, envelope or frame
    TROUPE_ELIMIT = -9,      // a limit was hit (decode depth or count,
                             // max_actors, max_ports)
    TROUPE_ETYPE = -10,      // a field is missing or has another type
    TROUPE_ENOTSUP = -11,    // not supported (e.g. unknown tag)
    TROUPE_ECANCELED = -12,  // canceled before it could finish
    TROUPE_ESHUTDOWN = -13,  // the node is stopping; also the exit reason
                             // of actors stopped by a shutdown
    TROUPE_EEXIST = -14,     // the name is already registered
    TROUPE_EPROTO = -15,     // unsupported protocol version
    TROUPE_EKILLED = -16,    // exit reason: killed (a stop with it is not
                             // trapped even by a supervisor)
    TROUPE_EAGAIN = -17,     // try again (would block)
    TROUPE_ESYS = -18,       // an unexpected system error (logged)
    TROUPE_EALREADY = -19,   // already done (e.g. request already replied)
    TROUPE_ESTATE = -20,     // the call is not valid in this state or thread
    TROUPE_EINTENSITY = -21, // exit reason: a supervisor reached its
                             // restart intensity and gave up
};

// Codes at or below this value are free for applications to use as error
// replies and exit reasons; troupe never produces them.
#define TROUPE_EUSER (-1000)

// A short English description of rc ("mailbox full"). Never NULL; an unknown
// code gives "unknown error". The string is static. Thread: any.
TROUPE_API const char *troupe_strerror(int rc);

// The symbolic name of rc ("TROUPE_EFULL"), or "TROUPE_E?" for an unknown
// code. The string is static. Thread: any.
TROUPE_API const char *troupe_errname(int rc);

#ifdef __cplusplus
}
#endif
#endif
