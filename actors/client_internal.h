// SPDX-License-Identifier: MIT
//
// What gather.c needs of a client handle, actors layer: sending a request
// without waiting, taking the replies it wants from the client's mailbox,
// waiting on the inbox, and the count of open gathers that keeps
// troupe_call() and troupe_client_recv() from dropping their replies.
#ifndef TR_CLIENT_INTERNAL_H
#define TR_CLIENT_INTERNAL_H

#include <stdarg.h>

#include "node_internal.h"

troupe_node *tr_client_node(const troupe_client *c);

// Pack and send a request from c, as troupe_call() does before it waits.
// *corr always receives the correlation id reserved for it (ids grow with
// each call). Returns 0 or troupe_call()'s codes (nothing was sent).
int tr_client_request(troupe_client *c, troupe_addr to, const char *tag,
                      int64_t deadline, const char *fmt, va_list *ap,
                      uint64_t *corr);

// Take the first reply or error in c's mailbox whose correlation id mine()
// accepts, counted as delivered; the caller owns it. Other replies are left
// in place, or with drop_others dropped as late. NULL if there is none.
troupe_msg *tr_client_take_reply(troupe_client *c,
                                 int (*mine)(void *arg, uint64_t corr),
                                 void *arg, int drop_others);

// Wait until something arrives in c's inbox (0) or deadline passes
// (TROUPE_ETIMEDOUT), or TROUPE_ESYS.
int tr_client_wait(troupe_client *c, int64_t deadline);

// Add delta to c's open gathers and return how many are open.
unsigned tr_client_gathers(troupe_client *c, int delta);

#endif
