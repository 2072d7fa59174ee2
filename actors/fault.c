// SPDX-License-Identifier: MIT
//
// Fault plans, actors layer (troupe/fault.h): the rules a test sets, the
// binding of an actor to the rules that match its name, and the hooks of
// fault_internal.h that fire them (crash, hang, failed init, dropped reply,
// delay, random crash). Counters that actors on several threads share are
// atomics; everything else in a binding belongs to the actor's port thread.
// Knows the node's structures, not supervisor/; the runtime calls in
// through one-line hooks only.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fault_internal.h"

// What a rule does.
enum {
    S_CRASH,     // n: k-th message
    S_HANG,      // n: k-th message; ms
    S_FAIL_INIT, // n: how many inits fail
    S_DROP,      // n: k-th answer
    S_DELAY,     // ms
    S_RANDOM,    // n: per million
};

// Longest hang or delay, in ms.
#define S_MS_MAX INT32_MAX

typedef struct tr_fault_rule {
    struct tr_fault_rule *next; // the plan's list, in the order added
    int kind;                   // S_*
    unsigned index;             // position in the plan: salts random draws
    char *actor;                // name matched (owned), NULL: any actor
    uint64_t n;                 // k-th, times or per million (see S_*)
    int64_t ms;                 // hang or delay
    int reason;                 // crash or init failure reason
} tr_fault_rule;

// Counts shared by every actor of one name, across restarts; an unnamed
// actor has its own (in its binding).
typedef struct tr_fault_count {
    struct tr_fault_count *next; // the plan's list (named counts only)
    char *name;                  // owned; NULL in an unnamed actor's own
    _Atomic uint64_t messages;   // handed to the handler (or crashed on)
    _Atomic uint64_t inits;      // inits begun
    _Atomic uint64_t answers;    // requests answered (or dropped)
} tr_fault_count;

struct troupe_fault_plan {
    uint64_t seed;         // never 0
    _Atomic unsigned refs; // the caller, installing nodes, bound actors
    _Atomic int frozen;    // installed once: the rules are read-only
    tr_fault_rule *rules;  // in the order added
    tr_fault_rule *last;   // where the next one goes
    unsigned n_rules;      // how many
    pthread_mutex_t lock;  // guards names
    tr_fault_count *names; // counts per actor name, made at binding
    // What fired (troupe_fault_stats).
    _Atomic uint64_t crashed, hung, init_failed, replies_dropped, delayed;
};

// A message a delay rule holds.
typedef struct tr_fault_held {
    struct tr_fault_held *next; // arrival order
    troupe_msg *m;              // the message (owned)
    int64_t due_ns;             // tr_now_ns() from which it may go on
} tr_fault_held;

// An actor bound to a plan (tr_actor.fault). Owned by the actor's port
// thread; only *count and the plan's counters are shared.
struct tr_fault_actor {
    troupe_fault_plan *plan;         // holds a reference
    tr_fault_count *count;           // its name's counts, or &own
    tr_fault_count own;              // counts of an unnamed actor
    uint64_t name_hash;              // of its name ("" if none)
    int64_t delay_ms;                // longest delay rule, 0: none
    tr_fault_held *held, *held_last; // messages held, arrival order
    tr_timer timer;                  // in the port's heap while held
    int releasing;                   // tr_fault_timer is on the stack
    int ended;                       // it ended during the release
    size_t n_rules;                  // entries in rules
    const tr_fault_rule *rules[];    // the rules that match it
};

// ---- helpers ----

// splitmix64's finaliser: a 64-bit mix where every input bit moves every
// output bit, so consecutive message numbers give unrelated draws.
static uint64_t s_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// FNV-1a: names hash the same in every run and process.
static uint64_t s_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

static const char *s_reason_name(int reason)
{
    return reason <= TROUPE_EUSER ? "application error"
                                  : troupe_errname(reason);
}

// One WARN line for a fault that fired, with what replays it.
static void s_warn(tr_port *p, const tr_actor *a, const char *what)
{
    tr_logf(&p->node->log, TROUPE_LOG_WARN,
            "fault plan: actor %u.%u%s%s %s (replay: TROUPE_FAULT_SEED=%llu)",
            a->addr.slot, a->addr.incarnation, a->name ? " " : "",
            a->name ? a->name : "", what,
            (unsigned long long)a->fault->plan->seed);
}

static void s_plan_release(troupe_fault_plan *plan)
{
    if (!plan || atomic_fetch_sub(&plan->refs, 1) != 1)
        return;
    while (plan->rules) {
        tr_fault_rule *r = plan->rules;
        plan->rules = r->next;
        free(r->actor);
        free(r);
    }
    while (plan->names) {
        tr_fault_count *c = plan->names;
        plan->names = c->next;
        free(c->name);
        free(c);
    }
    pthread_mutex_destroy(&plan->lock);
    free(plan);
}

// Block the calling thread for ms, on the monotonic clock.
static void s_block(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

// ---- public: the plan ----

static int s_seed_from_env(uint64_t *seed)
{
    const char *s = getenv("TROUPE_FAULT_SEED");
    if (!s)
        return 1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (*s == '-' || *s == '\0' || *end != '\0' || errno || v == 0)
        return TROUPE_EINVAL;
    *seed = v;
    return 0;
}

TROUPE_API int troupe_fault_plan_new(uint64_t seed, troupe_fault_plan **out)
{
    if (!out)
        return TROUPE_EINVAL;
    *out = NULL;
    troupe_fault_plan *plan = calloc(1, sizeof *plan);
    if (!plan)
        return TROUPE_ENOMEM;
    if (seed == 0) {
        int rc = s_seed_from_env(&seed);
        if (rc < 0) {
            free(plan);
            return rc;
        }
        if (rc > 0) // not set: the clock, the process and this plan
            seed = s_mix((uint64_t)tr_now_ns() ^ ((uint64_t)getpid() << 32) ^
                         (uintptr_t)plan);
        if (seed == 0)
            seed = 1;
    }
    plan->seed = seed;
    atomic_init(&plan->refs, 1);
    pthread_mutex_init(&plan->lock, NULL);
    *out = plan;
    return 0;
}

TROUPE_API void troupe_fault_plan_destroy(troupe_fault_plan **plan)
{
    if (!plan || !*plan)
        return;
    s_plan_release(*plan);
    *plan = NULL;
}

TROUPE_API uint64_t troupe_fault_plan_seed(const troupe_fault_plan *plan)
{
    return plan ? plan->seed : 0;
}

static int s_bad_reason(int reason)
{
    return reason >= 0 || reason == TROUPE_ESHUTDOWN;
}

static int s_add(troupe_fault_plan *plan, int kind, const char *actor,
                 uint64_t n, int64_t ms, int reason)
{
    if (!plan || (actor && !*actor))
        return TROUPE_EINVAL;
    if (atomic_load(&plan->frozen))
        return TROUPE_ESTATE;
    tr_fault_rule *r = calloc(1, sizeof *r);
    if (!r)
        return TROUPE_ENOMEM;
    if (actor && !(r->actor = strdup(actor))) {
        free(r);
        return TROUPE_ENOMEM;
    }
    r->kind = kind;
    r->index = plan->n_rules++;
    r->n = n;
    r->ms = ms;
    r->reason = reason;
    if (plan->last)
        plan->last->next = r;
    else
        plan->rules = r;
    plan->last = r;
    return 0;
}

TROUPE_API int troupe_fault_crash(troupe_fault_plan *plan, const char *actor,
                                  uint64_t kth, int reason)
{
    if (kth == 0 || s_bad_reason(reason))
        return TROUPE_EINVAL;
    return s_add(plan, S_CRASH, actor, kth, 0, reason);
}

TROUPE_API int troupe_fault_hang(troupe_fault_plan *plan, const char *actor,
                                 uint64_t kth, int64_t ms)
{
    if (kth == 0 || ms < 1 || ms > S_MS_MAX)
        return TROUPE_EINVAL;
    return s_add(plan, S_HANG, actor, kth, ms, 0);
}

TROUPE_API int troupe_fault_fail_init(troupe_fault_plan *plan,
                                      const char *actor, unsigned times,
                                      int reason)
{
    if (times == 0 || s_bad_reason(reason))
        return TROUPE_EINVAL;
    return s_add(plan, S_FAIL_INIT, actor, times, 0, reason);
}

TROUPE_API int troupe_fault_drop_reply(troupe_fault_plan *plan,
                                       const char *actor, uint64_t kth)
{
    if (kth == 0)
        return TROUPE_EINVAL;
    return s_add(plan, S_DROP, actor, kth, 0, 0);
}

TROUPE_API int troupe_fault_delay(troupe_fault_plan *plan, const char *actor,
                                  int64_t ms)
{
    if (ms < 1 || ms > S_MS_MAX)
        return TROUPE_EINVAL;
    return s_add(plan, S_DELAY, actor, 0, ms, 0);
}

TROUPE_API int troupe_fault_random_crash(troupe_fault_plan *plan,
                                         const char *actor,
                                         uint32_t per_million, int reason)
{
    if (per_million == 0 || per_million > 1000000 || s_bad_reason(reason))
        return TROUPE_EINVAL;
    return s_add(plan, S_RANDOM, actor, per_million, 0, reason);
}

TROUPE_API int troupe_node_set_fault_plan(troupe_node *n,
                                          troupe_fault_plan *plan)
{
    if (!n)
        return TROUPE_EINVAL;
    if (plan) {
        atomic_store(&plan->frozen, 1);
        atomic_fetch_add(&plan->refs, 1); // the node's
    }
    // Under the node's lock, so that a binding actor takes its reference
    // before a plan that was just replaced can be freed.
    pthread_mutex_lock(&n->lock);
    troupe_fault_plan *old = atomic_exchange(&n->faults, plan);
    pthread_mutex_unlock(&n->lock);
    s_plan_release(old);
    return 0;
}

TROUPE_API int troupe_fault_plan_stats_get(const troupe_fault_plan *plan,
                                           troupe_fault_stats *st)
{
    if (!plan || !st)
        return TROUPE_EINVAL;
    // The plan is const to the caller; its counters are atomics.
    troupe_fault_plan *p = (troupe_fault_plan *)plan;
    *st = (troupe_fault_stats){
        .crashed = atomic_load(&p->crashed),
        .hung = atomic_load(&p->hung),
        .init_failed = atomic_load(&p->init_failed),
        .replies_dropped = atomic_load(&p->replies_dropped),
        .delayed = atomic_load(&p->delayed),
    };
    return 0;
}

// ---- binding ----

static int s_matches(const tr_fault_rule *r, const char *name)
{
    return !r->actor || (name && strcmp(r->actor, name) == 0);
}

// The counts of name, made on first use.
static tr_fault_count *s_name_count(troupe_fault_plan *plan, const char *name)
{
    pthread_mutex_lock(&plan->lock);
    tr_fault_count *c = plan->names;
    while (c && strcmp(c->name, name) != 0)
        c = c->next;
    if (!c && (c = calloc(1, sizeof *c)) != NULL) {
        if ((c->name = strdup(name)) != NULL) {
            c->next = plan->names;
            plan->names = c;
        } else {
            free(c);
            c = NULL;
        }
    }
    pthread_mutex_unlock(&plan->lock);
    return c;
}

static void s_binding_free(struct tr_fault_actor *fa)
{
    s_plan_release(fa->plan);
    free(fa);
}

// Bind a to the node's plan if one is installed and a rule matches it.
// Returns 0 (bound or not: see a->fault) or TROUPE_ENOMEM.
static int s_bind(tr_port *p, tr_actor *a)
{
    troupe_node *n = p->node;
    if (!atomic_load_explicit(&n->faults, memory_order_relaxed))
        return 0;
    pthread_mutex_lock(&n->lock);
    troupe_fault_plan *plan = atomic_load(&n->faults);
    if (plan)
        atomic_fetch_add(&plan->refs, 1);
    pthread_mutex_unlock(&n->lock);
    if (!plan)
        return 0;
    size_t k = 0;
    for (const tr_fault_rule *r = plan->rules; r; r = r->next)
        k += (size_t)s_matches(r, a->name);
    struct tr_fault_actor *fa = NULL;
    if (k)
        fa = calloc(1, sizeof *fa + k * sizeof fa->rules[0]);
    if (fa)
        fa->count = a->name ? s_name_count(plan, a->name) : &fa->own;
    if (!k || !fa || !fa->count) {
        free(fa);
        s_plan_release(plan);
        return k ? TROUPE_ENOMEM : 0;
    }
    fa->plan = plan;
    fa->name_hash = s_hash(a->name ? a->name : "");
    fa->timer =
        (tr_timer){.index = SIZE_MAX, .type = TR_TIMER_FAULT, .ptr = fa};
    for (const tr_fault_rule *r = plan->rules; r; r = r->next) {
        if (!s_matches(r, a->name))
            continue;
        fa->rules[fa->n_rules++] = r;
        if (r->kind == S_DELAY && r->ms > fa->delay_ms)
            fa->delay_ms = r->ms;
    }
    a->fault = fa;
    return 0;
}

// ---- hooks ----

int tr_fault_init(tr_port *p, tr_actor *a)
{
    if (!a->fault) {
        if (a->flags & TR_ACT_CLIENT)
            return 0;
        int rc = s_bind(p, a);
        if (rc || !a->fault)
            return rc;
    }
    struct tr_fault_actor *fa = a->fault;
    uint64_t k =
        atomic_fetch_add_explicit(&fa->count->inits, 1, memory_order_relaxed) +
        1;
    for (size_t i = 0; i < fa->n_rules; i++) {
        const tr_fault_rule *r = fa->rules[i];
        if (r->kind != S_FAIL_INIT || k > r->n)
            continue;
        atomic_fetch_add(&fa->plan->init_failed, 1);
        char what[96];
        snprintf(what, sizeof what, "fails its init %llu: %s (%d)",
                 (unsigned long long)k, s_reason_name(r->reason), r->reason);
        s_warn(p, a, what);
        return r->reason;
    }
    return 0;
}

// Does random rule r crash a at its message k? A pure function of the
// seed, the name, the rule and k: the same in every run with that seed.
static int s_draw(const struct tr_fault_actor *fa, const tr_fault_rule *r,
                  uint64_t k)
{
    uint64_t h = s_mix(fa->plan->seed ^ s_mix(fa->name_hash + r->index));
    return s_mix(h + k) % 1000000u < r->n;
}

int tr_fault_handle(troupe_ctx *cx, tr_actor *a, const troupe_msg *m)
{
    struct tr_fault_actor *fa = a->fault;
    uint64_t k = atomic_fetch_add_explicit(&fa->count->messages, 1,
                                           memory_order_relaxed) +
                 1;
    char what[96];
    int crash = 0;
    for (size_t i = 0; i < fa->n_rules; i++) {
        const tr_fault_rule *r = fa->rules[i];
        if (r->kind == S_HANG && r->n == k) {
            atomic_fetch_add(&fa->plan->hung, 1);
            snprintf(what, sizeof what, "hangs %lld ms at its message %llu",
                     (long long)r->ms, (unsigned long long)k);
            s_warn(cx->port, a, what);
            s_block(r->ms);
        } else if (!crash && ((r->kind == S_CRASH && r->n == k) ||
                              (r->kind == S_RANDOM && s_draw(fa, r, k)))) {
            crash = r->reason;
        }
    }
    if (!crash)
        return a->handler(cx, a->state, m);
    atomic_fetch_add(&fa->plan->crashed, 1);
    snprintf(what, sizeof what, "crashes at its message %llu: %s (%d)",
             (unsigned long long)k, s_reason_name(crash), crash);
    s_warn(cx->port, a, what);
    return crash;
}

// The timer's deadline on troupe_now()'s clock (ns / 1e6 + 1) for due_ns:
// the first millisecond at which troupe_now() says due_ns has passed.
static int64_t s_when(int64_t due_ns)
{
    return (due_ns + 999999) / 1000000 + 1;
}

int tr_fault_hold(tr_port *p, tr_actor *a, troupe_msg *m)
{
    struct tr_fault_actor *fa = a->fault;
    if (!fa->delay_ms || fa->releasing)
        return 0;
    tr_fault_held *h = malloc(sizeof *h);
    if (!h) {
        tr_logf(&p->node->log, TROUPE_LOG_ERROR,
                "out of memory: a delayed message goes on at once");
        return 0;
    }
    *h =
        (tr_fault_held){.m = m, .due_ns = tr_now_ns() + fa->delay_ms * 1000000};
    if (!fa->held) {
        fa->timer.when = s_when(h->due_ns);
        if (tr_timers_add(&p->timers, &fa->timer)) {
            free(h);
            tr_logf(&p->node->log, TROUPE_LOG_ERROR,
                    "out of memory: a delayed message goes on at once");
            return 0;
        }
        fa->held = h;
    } else {
        fa->held_last->next = h;
    }
    fa->held_last = h;
    atomic_fetch_add(&fa->plan->delayed, 1);
    return 1;
}

// Accept again, in order, the held messages due by until_ns. Returns 1 if
// the actor ended meanwhile (the binding is then freed). Accepting a
// message may end the actor (a parked actor whose supervisor died):
// tr_fault_end then only marks the binding, which is freed here, once this
// loop is done with it.
static int s_release(tr_port *p, struct tr_fault_actor *fa, int64_t until_ns)
{
    fa->releasing = 1;
    while (fa->held && !fa->ended && fa->held->due_ns <= until_ns) {
        tr_fault_held *h = fa->held;
        fa->held = h->next;
        troupe_msg *m = h->m;
        free(h);
        tr_accept(p, m);
    }
    fa->releasing = 0;
    if (!fa->ended)
        return 0;
    s_binding_free(fa);
    return 1;
}

void tr_fault_timer(tr_port *p, tr_timer *t)
{
    struct tr_fault_actor *fa = t->ptr;
    if (s_release(p, fa, tr_now_ns()) || !fa->held)
        return;
    fa->timer.when = s_when(fa->held->due_ns);
    if (tr_timers_add(&p->timers, &fa->timer) == 0)
        return;
    // No room to wait: let the rest go now rather than hold it forever.
    tr_logf(&p->node->log, TROUPE_LOG_ERROR,
            "out of memory: delayed messages go on early");
    s_release(p, fa, INT64_MAX);
}

int tr_fault_drop(tr_port *p, tr_actor *a, troupe_addr to, troupe_msg *m)
{
    struct tr_fault_actor *fa = a->fault;
    uint64_t k = atomic_fetch_add_explicit(&fa->count->answers, 1,
                                           memory_order_relaxed) +
                 1;
    size_t i = 0;
    while (i < fa->n_rules &&
           !(fa->rules[i]->kind == S_DROP && fa->rules[i]->n == k))
        i++;
    if (i == fa->n_rules)
        return 0;
    atomic_fetch_add(&fa->plan->replies_dropped, 1);
    char what[96];
    snprintf(what, sizeof what, "loses its answer %llu, to %u.%u.%u",
             (unsigned long long)k, to.node, to.slot, to.incarnation);
    s_warn(p, a, what);
    TR_BUMP(a->n_sent); // only its port writes it
    tr_offer_failed(p, m ? m->data : "", to, TROUPE_EDEAD); // sent, dead
    if (m)
        tr_msg_free(m);
    return 1;
}

void tr_fault_end(tr_port *p, tr_actor *a)
{
    struct tr_fault_actor *fa = a->fault;
    a->fault = NULL;
    tr_timers_remove(&p->timers, &fa->timer);
    while (fa->held) {
        tr_fault_held *h = fa->held;
        fa->held = h->next;
        tr_dead_letter(p, h->m);
        free(h);
    }
    if (fa->releasing)
        fa->ended = 1; // tr_fault_timer frees it
    else
        s_binding_free(fa);
}
