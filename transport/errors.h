// SPDX-License-Identifier: MIT
//
// The one place where errno and zmq_errno() become TROUPE_E* codes,
// transport layer. Nothing else in troupe looks at errno after a failed call.
#ifndef TR_ERRORS_H
#define TR_ERRORS_H

// Translate an errno value (including zmq's own ETERM, EFSM, ...).
int tr_err_from_errno(int e);

// Translate zmq_errno() after a failed zmq call.
int tr_err_zmq(void);

#endif
