// SPDX-License-Identifier: MIT
//
// What the supervisor layer's files share: the actor spec of a supervisor
// (supervisor.c) that the public calls (sup_api.c) and nested children
// spawn.
#ifndef TR_SUP_INTERNAL_H
#define TR_SUP_INTERNAL_H

#include "sup_spec.h"

// The actor that runs a supervisor with this spec (borrowed by the actor's
// init, which takes its own reference). Not started.
void tr_sup_actor_spec(tr_sup_copy *spec, troupe_actor_spec *out);
#endif
