// SPDX-License-Identifier: MIT
//
// Restart in place, actors layer: what the supervisor layer needs from the
// runtime to restart an actor under the same address. A supervised actor
// (spawned with tr_spawn_supervised) that ends *parks* instead: its
// incarnation's run ends as any exit does (requests, timers, monitors,
// links and fini), but its slot, name and mailbox stay, so messages keep
// arriving for its next run. Its supervisor then revives it (init runs
// again on fresh state, the queued messages follow in order) or finishes it
// (it ends for good: mailbox dead-lettered, address dead). A parked actor
// whose supervisor dies is finished. Knows nothing of supervisor/.
#ifndef TR_RESTART_H
#define TR_RESTART_H

#include "node_internal.h"

// Spawn spec as a supervised child of the calling actor: linked both ways
// before it starts, parked instead of ended. On the caller's own loop init
// runs before this returns; elsewhere it runs later. Either way the
// outcome reaches the caller as a message: a tell "$started" from the
// child, or an exit message from it with init's code. Returns 0 and *addr,
// or the codes of troupe_spawn (the child then never existed).
int tr_spawn_supervised(troupe_ctx *cx, const troupe_actor_spec *spec,
                        troupe_addr *addr);
// Ask parked child to start again (its supervisor only). The answer comes
// as above: "$started" or an exit message; except that a child on the
// caller's own loop is revived at once, and if it is up then, *started is
// 1 and no "$started" follows. Returns 0 or a send code.
int tr_restart_revive(troupe_ctx *cx, troupe_addr child, int *started);
// End child for good with reason (parked: at once; running: after its
// current message, with an exit message to the caller as usual).
int tr_restart_finish(troupe_ctx *cx, troupe_addr child, int reason);
// From now on a stop asked of the calling actor (troupe_stop,
// troupe_node_stop...) arrives as a TROUPE_MSG_EXIT tagged "stop" with the
// reason as code, and the actor ends itself when ready (troupe_exit). For
// supervisors, which stop their children first. Cleared when it parks.
void tr_trap_stop(troupe_ctx *cx);
// Called in init: do not tell the supervisor "$started" when init returns;
// the actor calls tr_report_started when it is really up (a supervisor,
// once its own children are). Cleared when it parks.
void tr_defer_started(troupe_ctx *cx);
// Tell the supervisor "$started" now (once per run; nothing if the actor
// is not supervised or deferred nothing).
void tr_report_started(troupe_ctx *cx);
// Who supervises the calling actor (TROUPE_ADDR_NONE if nobody).
troupe_addr tr_ctx_supervisor(const troupe_ctx *cx);

// ---- for actors/ only ----
// Park a (called by tr_actor_terminate for a supervised actor).
void tr_restart_park(tr_port *p, tr_actor *a, int reason);
// Undo what parking set up, before a parked actor ends for good.
void tr_restart_unpark(tr_port *p, tr_actor *a);
// Supervisor sup's run ends: finish its parked children on this port (those
// elsewhere watch it with a monitor).
void tr_restart_orphans(tr_port *p, tr_actor *sup);
// A supervised actor's init succeeded: tell its supervisor.
void tr_restart_started(tr_port *p, tr_actor *a);
// TR_SYS_REVIVE / TR_SYS_FINISH for actor a.
void tr_restart_system(tr_port *p, tr_actor *a, troupe_msg *m);
// A message for parked actor a that parking handles itself (the down
// message of its supervisor): returns 1 if m was consumed.
int tr_restart_intercept(tr_port *p, tr_actor *a, troupe_msg *m);
#endif
