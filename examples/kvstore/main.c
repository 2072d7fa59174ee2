// SPDX-License-Identifier: MIT
//
// troupe-kvstore: a small key-value service made of actors. A router,
// registered as "kv", hashes each key to one of N shards (shared actors
// spread over the loops, each owning a private hash map of string keys to
// int64 or string values) and forwards the request with a deferred reply, so
// the client's deadline travels with it. A snapshot actor, isolated on its own
// thread, gathers a dump of every shard at once, sorts it, checksums it and
// writes it to a file with blocking I/O, stalling no shard. A stats actor
// counts the operations. main() is the client: it runs a workload, checks
// every answer against its own model of the store, and exits non-zero if
// anything was off. Uses the public API and msgpack-c (for the dumps) only.
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <msgpack.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <troupe/troupe.h>

#if defined(__GNUC__)
#define KV_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define KV_PRINTF(f, a)
#endif

// The store's own error code for "no such key", as an error reply. Codes at
// or below TROUPE_EUSER belong to the application, so a client can tell it
// from TROUPE_ENOENT, which means there is no actor named "kv".
#define KV_ENOKEY (TROUPE_EUSER - 1)

#define KV_SHARDS 4      // shards in the store
#define KV_SHARDS_MAX 64 // most shards the router and snapshot can hold

// The operations, as request tags and as indexes of the stats counters.
enum {
    OP_GET,
    OP_PUT,
    OP_DEL,
    OP_INCR,
    OP_SNAPSHOT,
    OP_STATS,
    OP_N
};
static const char *const op_names[OP_N] = {"get",  "put",      "del",
                                           "incr", "snapshot", "stats"};

// FNV-1a, 64 bits: routes keys to shards and checksums dumps.
static uint64_t s_fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3u;
    return h;
}
#define FNV_SEED 0xcbf29ce484222325u

// ---- dump lines: shared by the snapshot actor and main's check ------------

// One key of a dump as a line "key<TAB>value\n", the value an integer in
// decimal or a string in double quotes. klen: the key's length in text.
typedef struct line {
    char *text;  // malloc'd, not NUL-terminated
    size_t len;  // bytes in text
    size_t klen; // the key's bytes at the start of text
} line;

// Make the line for a key and an int (s == NULL) or string value.
// 0 or TROUPE_ENOMEM.
static int s_line_make(line *l, const char *key, size_t klen, int64_t i,
                       const char *s, size_t slen)
{
    char num[24];
    size_t vlen =
        s ? slen + 2 : (size_t)snprintf(num, sizeof num, "%lld", (long long)i);
    l->len = klen + 1 + vlen + 1;
    l->klen = klen;
    l->text = malloc(l->len);
    if (!l->text)
        return TROUPE_ENOMEM;
    char *p = l->text;
    memcpy(p, key, klen);
    p += klen;
    *p++ = '\t';
    if (s) {
        *p++ = '"';
        memcpy(p, s, slen);
        p += slen;
        *p++ = '"';
    } else {
        memcpy(p, num, vlen);
        p += vlen;
    }
    *p = '\n';
    return 0;
}

static int s_line_cmp(const void *a, const void *b)
{
    const line *x = a, *y = b;
    int c = memcmp(x->text, y->text, x->klen < y->klen ? x->klen : y->klen);
    return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

// Sort the lines by key and checksum them in that order; *bytes gets the
// dump's size.
static uint64_t s_lines_checksum(line *lines, size_t n, size_t *bytes)
{
    qsort(lines, n, sizeof *lines, s_line_cmp);
    uint64_t h = FNV_SEED;
    *bytes = 0;
    for (size_t i = 0; i < n; i++) {
        h = s_fnv(h, lines[i].text, lines[i].len);
        *bytes += lines[i].len;
    }
    return h;
}

static void s_lines_free(line *lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(lines[i].text);
    free(lines);
}

// ---- shard: a private hash map ------------------------------------------

typedef struct entry {
    struct entry *next; // next in the bucket's chain
    uint64_t hash;      // s_fnv of the key
    size_t klen, slen;  // key length; string value length
    int64_t i;          // the value if s is NULL
    char *s;            // the value if a string (malloc'd, NUL-terminated)
    char key[];         // the key (klen bytes)
} entry;

typedef struct shard {
    entry **buckets; // chains; the count is a power of two
    size_t nbuckets; // bucket count
    size_t count;    // entries
} shard;

static int shard_init(troupe_ctx *cx, void *state, void *arg)
{
    (void)cx;
    (void)arg;
    shard *sh = state; // allocated and zeroed by the runtime
    sh->nbuckets = 64;
    sh->buckets = calloc(sh->nbuckets, sizeof *sh->buckets);
    return sh->buckets ? 0 : TROUPE_ENOMEM;
}

static void shard_fini(void *state, int reason)
{
    (void)reason;
    shard *sh = state;
    for (size_t b = 0; b < sh->nbuckets; b++) {
        for (entry *e = sh->buckets[b], *next; e; e = next) {
            next = e->next;
            free(e->s);
            free(e);
        }
    }
    free(sh->buckets);
}

// The link that points at key's entry (or at NULL where it would go).
static entry **s_find(shard *sh, const char *key, size_t klen, uint64_t h)
{
    entry **at = &sh->buckets[h & (sh->nbuckets - 1)];
    while (*at && !((*at)->hash == h && (*at)->klen == klen &&
                    memcmp((*at)->key, key, klen) == 0))
        at = &(*at)->next;
    return at;
}

// Double the buckets when the chains get long. Failing is harmless.
static void s_grow(shard *sh)
{
    size_t n = sh->nbuckets * 2;
    entry **b = calloc(n, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < sh->nbuckets; i++) {
        for (entry *e = sh->buckets[i], *next; e; e = next) {
            next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
        }
    }
    free(sh->buckets);
    sh->buckets = b;
    sh->nbuckets = n;
}

// "put" {k, v}: v an integer or a string (without NUL bytes).
static int s_shard_put(troupe_ctx *cx, shard *sh, const troupe_msg *msg,
                       const char *key, size_t klen, uint64_t h)
{
    int64_t i = 0;
    const char *s = NULL;
    size_t slen = 0;
    int rc = troupe_msg_read(msg, "{s:I}", "v", &i);
    if (rc == TROUPE_ETYPE) // not an integer: a string, then?
        rc = troupe_msg_read(msg, "{s:s}", "v", &s, &slen);
    if (rc == 0 && s && memchr(s, '\0', slen))
        rc = TROUPE_ETYPE;
    if (rc)
        return troupe_reply_error(cx, msg, rc);
    char *copy = NULL;
    if (s && !(copy = malloc(slen + 1)))
        return troupe_reply_error(cx, msg, TROUPE_ENOMEM);
    if (copy) {
        memcpy(copy, s, slen);
        copy[slen] = '\0';
    }
    entry **at = s_find(sh, key, klen, h);
    bool created = *at == NULL;
    if (created) {
        entry *e = calloc(1, sizeof *e + klen);
        if (!e) {
            free(copy);
            return troupe_reply_error(cx, msg, TROUPE_ENOMEM);
        }
        e->hash = h;
        e->klen = klen;
        memcpy(e->key, key, klen);
        *at = e;
        sh->count++;
    }
    entry *e = *at;
    free(e->s);
    e->s = copy;
    e->slen = slen;
    e->i = i;
    if (created && sh->count > sh->nbuckets)
        s_grow(sh);
    return troupe_reply(cx, msg, "{s:b}", "created", created);
}

// "dump": the whole map as one msgpack map, packed with msgpack-c: the
// format language packs fixed shapes, raw msgpack does the rest.
static int s_shard_dump(troupe_ctx *cx, shard *sh, const troupe_msg *msg)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    int bad = msgpack_pack_map(&pk, sh->count);
    for (size_t b = 0; b < sh->nbuckets; b++) {
        for (entry *e = sh->buckets[b]; e; e = e->next) {
            bad |= msgpack_pack_str_with_body(&pk, e->key, e->klen);
            if (e->s)
                bad |= msgpack_pack_str_with_body(&pk, e->s, e->slen);
            else
                bad |= msgpack_pack_int64(&pk, e->i);
        }
    }
    int rc = bad ? troupe_reply_error(cx, msg, TROUPE_ENOMEM)
                 : troupe_reply(cx, msg, "r", sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static int shard_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    shard *sh = state;
    if (troupe_msg_kind_of(msg) != TROUPE_MSG_REQUEST)
        return 0;
    if (troupe_msg_is(msg, "dump"))
        return s_shard_dump(cx, sh, msg);
    const char *key;
    size_t klen;
    int rc = troupe_msg_read(msg, "{s:s}", "k", &key, &klen);
    if (rc)
        return troupe_reply_error(cx, msg, rc);
    uint64_t h = s_fnv(FNV_SEED, key, klen);
    if (troupe_msg_is(msg, "put"))
        return s_shard_put(cx, sh, msg, key, klen, h);
    entry **at = s_find(sh, key, klen, h);
    entry *e = *at;
    if (troupe_msg_is(msg, "get")) {
        if (!e)
            return troupe_reply_error(cx, msg, KV_ENOKEY);
        return e->s ? troupe_reply(cx, msg, "{s:s}", "v", e->s)
                    : troupe_reply(cx, msg, "{s:I}", "v", e->i);
    }
    if (troupe_msg_is(msg, "del")) {
        if (!e)
            return troupe_reply_error(cx, msg, KV_ENOKEY);
        *at = e->next;
        sh->count--;
        free(e->s);
        free(e);
        return troupe_reply(cx, msg, NULL);
    }
    if (troupe_msg_is(msg, "incr")) { // {k, ?by}: a missing key counts as 0
        int64_t by = 1;
        rc = troupe_msg_read(msg, "{s:?I}", "by", &by);
        if (rc == 0 && e && e->s)
            rc = TROUPE_ETYPE; // not a number
        if (rc)
            return troupe_reply_error(cx, msg, rc);
        if (!e) {
            if (!(e = calloc(1, sizeof *e + klen)))
                return troupe_reply_error(cx, msg, TROUPE_ENOMEM);
            e->hash = h;
            e->klen = klen;
            memcpy(e->key, key, klen);
            *at = e;
            sh->count++;
        }
        e->i += by;
        return troupe_reply(cx, msg, "{s:I}", "v", e->i);
    }
    return troupe_reply_error(cx, msg, TROUPE_ENOTSUP);
}

// ---- stats: counts what the router reports -------------------------------

typedef struct kvstats {
    int64_t calls[OP_N]; // operations that reached a shard or actor
    int64_t misses;      // of which ended with KV_ENOKEY
    int64_t errors;      // other errors, requests the router refused too
} kvstats;

static int stats_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    kvstats *st = state;
    if (troupe_msg_is(msg, "op")) { // tell from the router: [op, status]
        int op, status;
        if (troupe_msg_read(msg, "[ii]", &op, &status) == 0) {
            if (op >= 0 && op < OP_N)
                st->calls[op]++;
            if (status == KV_ENOKEY)
                st->misses++;
            else if (status)
                st->errors++;
        }
        return 0;
    }
    if (troupe_msg_kind_of(msg) != TROUPE_MSG_REQUEST)
        return 0;
    return troupe_reply(cx, msg, "{s:I s:I s:I s:I s:I s:I s:I}", "get",
                        st->calls[OP_GET], "put", st->calls[OP_PUT], "del",
                        st->calls[OP_DEL], "incr", st->calls[OP_INCR],
                        "snapshot", st->calls[OP_SNAPSHOT], "misses",
                        st->misses, "errors", st->errors);
}

// ---- the tree's wiring, given to the router and snapshot at init ---------

typedef struct kv_tree {
    int nshards;                       // shards in use
    troupe_addr shards[KV_SHARDS_MAX]; // their addresses
    troupe_addr stats;                 // the stats actor
    troupe_addr snapshot;              // the snapshot actor
    const char *dir;                   // where snapshots are written
} kv_tree;

static int tree_init(troupe_ctx *cx, void *state, void *arg)
{
    (void)cx;
    *(kv_tree *)state = *(const kv_tree *)arg; // arg lives until init ends
    return 0;
}

// ---- snapshot: gathers, sorts, checksums and writes, on its own thread --

typedef struct snapshot {
    kv_tree tree;            // must stay first: tree_init fills it
    troupe_deferred *waiter; // the snapshot request being served
    int64_t deadline;        // and its deadline
    int pending;             // dumps not in yet
    int failed;              // first error of this round, or 0
    struct {
        void *data; // a shard's dump, msgpack (malloc'd)
        size_t len; // its bytes
    } parts[KV_SHARDS_MAX];
} snapshot;

static void s_parts_free(snapshot *sn)
{
    for (int i = 0; i < sn->tree.nshards; i++) {
        free(sn->parts[i].data);
        sn->parts[i].data = NULL;
    }
}

static void snapshot_fini(void *state, int reason)
{
    (void)reason;
    s_parts_free(state);
}

// Turn one shard's dump into lines, appended to *lines (grown as needed).
static int s_parse_part(const void *data, size_t len, line **lines, size_t *n,
                        size_t *cap)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int rc = 0;
    if (msgpack_unpack_next(&u, data, len, &off) != MSGPACK_UNPACK_SUCCESS ||
        u.data.type != MSGPACK_OBJECT_MAP)
        rc = TROUPE_EBADMSG;
    for (uint32_t i = 0; rc == 0 && i < u.data.via.map.size; i++) {
        const msgpack_object *k = &u.data.via.map.ptr[i].key;
        const msgpack_object *v = &u.data.via.map.ptr[i].val;
        if (*n == *cap) {
            size_t c = *cap ? *cap * 2 : 256;
            line *grown = realloc(*lines, c * sizeof *grown);
            if (!grown) {
                rc = TROUPE_ENOMEM;
                break;
            }
            *lines = grown;
            *cap = c;
        }
        if (k->type != MSGPACK_OBJECT_STR)
            rc = TROUPE_EBADMSG;
        else if (v->type == MSGPACK_OBJECT_STR)
            rc = s_line_make(&(*lines)[*n], k->via.str.ptr, k->via.str.size, 0,
                             v->via.str.ptr, v->via.str.size);
        else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            rc = s_line_make(&(*lines)[*n], k->via.str.ptr, k->via.str.size,
                             (int64_t)v->via.u64, NULL, 0);
        else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
            rc = s_line_make(&(*lines)[*n], k->via.str.ptr, k->via.str.size,
                             v->via.i64, NULL, 0);
        else
            rc = TROUPE_EBADMSG;
        if (rc == 0)
            (*n)++;
    }
    msgpack_unpacked_destroy(&u);
    return rc;
}

// Write the lines to a new file in dir with plain blocking I/O, fsync'd.
// On success *path (malloc'd) names it.
static int s_write_dump(const char *dir, const line *lines, size_t n,
                        char **path)
{
    size_t plen = strlen(dir) + sizeof "/kvstore-XXXXXX";
    char *p = malloc(plen);
    if (!p)
        return TROUPE_ENOMEM;
    snprintf(p, plen, "%s/kvstore-XXXXXX", dir);
    int fd = mkstemp(p);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
    bool ok = f != NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = fwrite(lines[i].text, 1, lines[i].len, f) == lines[i].len;
    ok = ok && fflush(f) == 0 && fsync(fd) == 0;
    if (f)
        ok = fclose(f) == 0 && ok;
    else if (fd >= 0)
        close(fd);
    if (!ok) {
        if (fd >= 0)
            unlink(p);
        free(p);
        return TROUPE_ESYS;
    }
    *path = p;
    return 0;
}

// Every dump is in: build the sorted dump, checksum it, write it, reply.
// This is the slow part, and it runs on the snapshot's own thread.
static int s_snapshot_finish(troupe_ctx *cx, snapshot *sn)
{
    line *lines = NULL;
    size_t n = 0, cap = 0, bytes = 0;
    char *path = NULL;
    // Nobody waits for a dump past its deadline: skip the slow part then.
    int rc = sn->failed                     ? sn->failed
             : troupe_now() >= sn->deadline ? TROUPE_ETIMEDOUT
                                            : 0;
    for (int i = 0; rc == 0 && i < sn->tree.nshards; i++)
        rc =
            s_parse_part(sn->parts[i].data, sn->parts[i].len, &lines, &n, &cap);
    s_parts_free(sn);
    uint64_t sum = 0;
    if (rc == 0) {
        sum = s_lines_checksum(lines, n, &bytes);
        rc = s_write_dump(sn->tree.dir, lines, n, &path);
    }
    s_lines_free(lines, n);
    if (rc)
        return troupe_deferred_error(cx, &sn->waiter, rc);
    rc = troupe_deferred_reply(cx, &sn->waiter, "{s:U s:U s:U s:s}", "keys",
                               (uint64_t)n, "bytes", (uint64_t)bytes,
                               "checksum", sum, "path", path);
    free(path);
    return rc;
}

static int s_on_dump(troupe_ctx *cx, void *state, int status,
                     const troupe_msg *reply, void *arg)
{
    snapshot *sn = state;
    if (status == TROUPE_ECANCELED)
        return 0; // the snapshot actor is ending; fini frees the parts
    int i = (int)(intptr_t)arg;
    if (status == 0) {
        const void *data;
        size_t len;
        troupe_msg_body(reply, &data, &len);
        sn->parts[i].data = malloc(len ? len : 1);
        sn->parts[i].len = len;
        if (sn->parts[i].data)
            memcpy(sn->parts[i].data, data, len);
        else
            status = TROUPE_ENOMEM;
    }
    if (status && !sn->failed)
        sn->failed = status;
    return --sn->pending == 0 ? s_snapshot_finish(cx, sn) : 0;
}

static int snapshot_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    snapshot *sn = state;
    if (troupe_msg_kind_of(msg) != TROUPE_MSG_REQUEST)
        return 0;
    if (sn->waiter) // one at a time
        return troupe_reply_error(cx, msg, TROUPE_EAGAIN);
    int rc = troupe_defer(cx, msg, &sn->waiter);
    if (rc)
        return troupe_reply_error(cx, msg, rc);
    // Ask every shard at once (not one after the other: mistake 2). The
    // requests inherit this request's deadline.
    sn->deadline = troupe_msg_deadline(msg);
    sn->failed = 0;
    sn->pending = sn->tree.nshards;
    for (int i = 0; i < sn->tree.nshards; i++) {
        rc = troupe_request(cx, sn->tree.shards[i], "dump",
                            TROUPE_DEADLINE_DEFAULT, s_on_dump,
                            (void *)(intptr_t)i, NULL, NULL);
        if (rc == 0)
            continue;
        // Never sent, so s_on_dump will not run for it: count it here.
        sn->failed = sn->failed ? sn->failed : rc;
        if (--sn->pending == 0)
            return s_snapshot_finish(cx, sn);
    }
    return 0;
}

// ---- router: "kv", the front door ------------------------------------------

// A request forwarded downstream, waiting for its answer.
typedef struct pending {
    troupe_deferred *reply; // the client's request, answered later
    int op;                 // which operation (for the stats)
} pending;

static void s_count(troupe_ctx *cx, const kv_tree *t, int op, int status)
{
    // A lost count is not worth failing a request over: ignore the code.
    (void)troupe_tell(cx, t->stats, "op", "[ii]", op, status);
}

static int s_on_forwarded(troupe_ctx *cx, void *state, int status,
                          const troupe_msg *reply, void *arg)
{
    kv_tree *t = state;
    pending *pd = arg;
    if (status != TROUPE_ECANCELED) { // else the router is ending
        // Count before replying: router and stats talk in FIFO order, so a
        // client that asks for stats after this reply finds it counted.
        if (pd->op != OP_STATS)
            s_count(cx, t, pd->op, status);
        const void *body = NULL;
        size_t len = 0;
        if (reply)
            troupe_msg_body(reply, &body, &len);
        int rc = status ? troupe_deferred_error(cx, &pd->reply, status)
                 : len  ? troupe_deferred_reply(cx, &pd->reply, "r", body, len)
                        : troupe_deferred_reply(cx, &pd->reply, NULL);
        if (rc && pd->reply)
            troupe_deferred_error(cx, &pd->reply, rc);
    }
    free(pd);
    return 0;
}

// Pass msg on to `to` as is (tag and body), and its answer back.
static int s_forward(troupe_ctx *cx, const kv_tree *t, const troupe_msg *msg,
                     troupe_addr to, int op)
{
    pending *pd = malloc(sizeof *pd);
    if (!pd)
        return troupe_reply_error(cx, msg, TROUPE_ENOMEM);
    pd->op = op;
    int rc = troupe_defer(cx, msg, &pd->reply);
    if (rc) {
        free(pd);
        return troupe_reply_error(cx, msg, rc);
    }
    const void *body;
    size_t len;
    troupe_msg_body(msg, &body, &len);
    const char *tag = troupe_msg_tag(msg);
    // TROUPE_DEADLINE_DEFAULT: the client's deadline travels on.
    rc = len ? troupe_request(cx, to, tag, TROUPE_DEADLINE_DEFAULT,
                              s_on_forwarded, pd, NULL, "r", body, len)
             : troupe_request(cx, to, tag, TROUPE_DEADLINE_DEFAULT,
                              s_on_forwarded, pd, NULL, NULL);
    if (rc) { // never sent: s_on_forwarded will not run
        s_count(cx, t, op, rc);
        troupe_deferred_error(cx, &pd->reply, rc);
        free(pd);
    }
    return 0;
}

static int router_handler(troupe_ctx *cx, void *state, const troupe_msg *msg)
{
    kv_tree *t = state;
    if (troupe_msg_kind_of(msg) != TROUPE_MSG_REQUEST)
        return 0;
    int op = 0;
    while (op < OP_N && !troupe_msg_is(msg, op_names[op]))
        op++;
    if (op == OP_SNAPSHOT)
        return s_forward(cx, t, msg, t->snapshot, op);
    if (op == OP_STATS)
        return s_forward(cx, t, msg, t->stats, op);
    const char *key;
    size_t klen;
    int rc = op == OP_N ? TROUPE_ENOTSUP
                        : troupe_msg_read(msg, "{s:s}", "k", &key, &klen);
    if (rc) { // refused here: unknown operation, or no string key
        s_count(cx, t, -1, rc);
        return troupe_reply_error(cx, msg, rc);
    }
    uint64_t i = s_fnv(FNV_SEED, key, klen) % (uint64_t)t->nshards;
    return s_forward(cx, t, msg, t->shards[i], op);
}

// ---- main: start the tree, then be a client ---------------------------------

static int checks, failures;

KV_PRINTF(2, 3) static void s_fact(bool held, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    checks++;
    failures += !held;
    printf("  %-4s ", held ? "ok" : "FAIL");
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
}

static bool s_ok(int rc, const char *what)
{
    if (rc)
        s_fact(false, "%s: %s (%s)", what, troupe_errname(rc),
               troupe_strerror(rc));
    return rc == 0;
}

static double s_us_per(int64_t t0_ms, int64_t n)
{
    return n ? (double)(troupe_now() - t0_ms) * 1000.0 / (double)n : 0;
}

// Spawn stats, the shards (spread over the loops), snapshot, then router.
// troupe_node_stop() stops them in reverse: the router first.
static int s_spawn_tree(troupe_node *node, kv_tree *t)
{
    int64_t deadline = troupe_deadline_in(2000);
    troupe_actor_spec s = troupe_actor_spec_default();
    s.handler = stats_handler;
    s.state_size = sizeof(kvstats);
    int rc = troupe_node_spawn(node, &s, deadline, &t->stats);
    for (int i = 0; rc == 0 && i < t->nshards; i++) {
        s = troupe_actor_spec_default();
        s.handler = shard_handler;
        s.init = shard_init;
        s.fini = shard_fini;
        s.state_size = sizeof(shard);
        s.loop = TROUPE_LOOP(i % (int)troupe_node_loops(node));
        rc = troupe_node_spawn(node, &s, deadline, &t->shards[i]);
    }
    if (rc == 0) {
        s = troupe_actor_spec_default();
        s.handler = snapshot_handler;
        s.init = tree_init;
        s.fini = snapshot_fini;
        s.arg = t;
        s.state_size = sizeof(snapshot);
        s.placement = TROUPE_ISOLATED; // blocking I/O and sorting: own thread
        rc = troupe_node_spawn(node, &s, deadline, &t->snapshot);
    }
    if (rc == 0) {
        s = troupe_actor_spec_default();
        s.name = "kv";
        s.handler = router_handler;
        s.init = tree_init;
        s.arg = t;
        s.state_size = sizeof(kv_tree);
        troupe_addr router;
        rc = troupe_node_spawn(node, &s, deadline, &router);
    }
    return rc;
}

// The client's model of the store: what it believes each key holds.
typedef struct model_key {
    char key[24]; // "user:17", "name:3", "hits"
    bool live;    // present in the store
    int64_t i;    // int value (if s[0] == 0)
    char s[16];   // string value, or ""
} model_key;

static int s_put_int(troupe_client *me, const char *key, int64_t v)
{
    troupe_msg *r = NULL;
    int rc = troupe_call_name(me, "kv", "put", troupe_deadline_in(1000), &r,
                              "{s:s s:I}", "k", key, "v", v);
    troupe_msg_destroy(&r);
    return rc;
}

static int s_put_str(troupe_client *me, const char *key, const char *v)
{
    troupe_msg *r = NULL;
    int rc = troupe_call_name(me, "kv", "put", troupe_deadline_in(1000), &r,
                              "{s:s s:s}", "k", key, "v", v);
    troupe_msg_destroy(&r);
    return rc;
}

// Get key and compare with the model: 0 if it matches, 1 if not, or the
// call's error.
static int s_get_check(troupe_client *me, const model_key *m)
{
    troupe_msg *r = NULL;
    int rc = troupe_call_name(me, "kv", "get", troupe_deadline_in(1000), &r,
                              "{s:s}", "k", m->key);
    if (rc)
        return rc;
    if (m->s[0]) {
        char buf[sizeof m->s];
        rc = troupe_msg_read(r, "{s:S}", "v", buf, sizeof buf);
        rc = rc ? rc : strcmp(buf, m->s) != 0;
    } else {
        int64_t v;
        rc = troupe_msg_read(r, "{s:I}", "v", &v);
        rc = rc ? rc : v != m->i;
    }
    troupe_msg_destroy(&r);
    return rc;
}

static int s_incr(troupe_client *me, const char *key, int64_t by, int64_t *v)
{
    troupe_msg *r = NULL;
    int rc = troupe_call_name(me, "kv", "incr", troupe_deadline_in(1000), &r,
                              "{s:s s:I}", "k", key, "by", by);
    if (rc == 0)
        rc = troupe_msg_read(r, "{s:I}", "v", v);
    troupe_msg_destroy(&r);
    return rc;
}

static int s_del(troupe_client *me, const char *key)
{
    troupe_msg *r = NULL;
    int rc = troupe_call_name(me, "kv", "del", troupe_deadline_in(1000), &r,
                              "{s:s}", "k", key);
    troupe_msg_destroy(&r);
    return rc;
}

// The checksum main expects: the model's live keys, dumped the same way.
static uint64_t s_model_checksum(const model_key *m, size_t n, size_t *keys,
                                 size_t *bytes)
{
    line *lines = calloc(n ? n : 1, sizeof *lines);
    size_t k = 0;
    for (size_t i = 0; lines && i < n; i++) {
        if (m[i].live &&
            s_line_make(&lines[k], m[i].key, strlen(m[i].key), m[i].i,
                        m[i].s[0] ? m[i].s : NULL, strlen(m[i].s)) == 0)
            k++;
    }
    uint64_t sum = lines ? s_lines_checksum(lines, k, bytes) : 0;
    s_lines_free(lines, k);
    *keys = k;
    return sum;
}

// The workload; every step is checked against the model.
static void s_workload(troupe_client *me, model_key *m, int nusers,
                       int64_t expect[OP_N], bool keep)
{
    int nnames = 10, n = nusers + nnames + 1, bad = 0, rc = 0;
    static const char *const names[] = {
        "ada",   "alan", "barbara", "dennis",   "edsger",
        "grace", "ken",  "linus",   "margaret", "niklaus"};
    int64_t t0 = troupe_now();
    for (int i = 0; i < nusers; i++) {
        model_key *k = &m[i];
        snprintf(k->key, sizeof k->key, "user:%d", i);
        k->i = (int64_t)i * 7;
        k->live = true;
        bad += s_put_int(me, k->key, k->i) != 0;
    }
    for (int i = 0; i < nnames; i++) {
        model_key *k = &m[nusers + i];
        snprintf(k->key, sizeof k->key, "name:%d", i);
        snprintf(k->s, sizeof k->s, "%s", names[i]);
        k->live = true;
        bad += s_put_str(me, k->key, k->s) != 0;
    }
    expect[OP_PUT] += nusers + nnames;
    s_fact(bad == 0,
           "put  %d int values user:N = 7N and %d strings name:N "
           "(%.1f us per call)",
           nusers, nnames, s_us_per(t0, nusers + nnames));

    t0 = troupe_now();
    for (int i = bad = 0; i < nusers / 2; i++) {
        int64_t v = 0;
        rc = s_incr(me, m[i].key, 3, &v);
        bad += rc != 0 || v != m[i].i + 3;
        m[i].i += 3;
    }
    model_key *hits = &m[n - 1];
    snprintf(hits->key, sizeof hits->key, "hits");
    hits->live = true;
    for (int i = 0; i < 100; i++)
        bad += s_incr(me, "hits", 1, &hits->i) != 0;
    expect[OP_INCR] += nusers / 2 + 100;
    s_fact(bad == 0 && hits->i == 100,
           "incr user:0..%d by 3, and the new key \"hits\" 100 times -> %lld",
           nusers / 2 - 1, (long long)hits->i);

    int ndel = nusers / 10;
    bad = 0;
    for (int i = nusers - ndel; i < nusers; i++) {
        bad += s_del(me, m[i].key) != 0;
        m[i].live = false;
    }
    expect[OP_DEL] += ndel;
    s_fact(bad == 0, "del  user:%d..%d (%d keys)", nusers - ndel, nusers - 1,
           ndel);

    t0 = troupe_now();
    int got = 0;
    for (int i = bad = 0; i < n; i++) {
        if (m[i].live) {
            bad += s_get_check(me, &m[i]) != 0;
            got++;
        }
    }
    expect[OP_GET] += got;
    s_fact(bad == 0,
           "get  all %d live keys: every value matches the model "
           "(%.1f us per call)",
           got, s_us_per(t0, got));

    // Failures are answers too, each with its own code.
    char gone[24];
    snprintf(gone, sizeof gone, "user:%d", nusers - 1);
    rc = s_get_check(me, &m[nusers - 1]);
    s_fact(rc == KV_ENOKEY,
           "get  %s (deleted) -> error %d, the store's "
           "KV_ENOKEY (TROUPE_EUSER - 1)",
           gone, rc);
    rc = s_del(me, gone);
    s_fact(rc == KV_ENOKEY, "del  %s again -> error %d (KV_ENOKEY)", gone, rc);
    expect[OP_GET]++;
    expect[OP_DEL]++;
    int64_t v = 0;
    rc = s_incr(me, "name:0", 1, &v);
    expect[OP_INCR]++;
    s_fact(rc == TROUPE_ETYPE, "incr name:0, a string -> %s (%s)",
           troupe_errname(rc), troupe_strerror(rc));
    troupe_msg *r = NULL;
    rc = troupe_call_name(me, "kv", "put", troupe_deadline_in(1000), &r,
                          "{s:I}", "v", (int64_t)1);
    s_fact(rc == TROUPE_ETYPE,
           "put  without a key -> %s, refused by the router",
           troupe_errname(rc));
    rc = troupe_call_name(me, "kv", "frobnicate", troupe_deadline_in(1000), &r,
                          "{s:s}", "k", "x");
    s_fact(rc == TROUPE_ENOTSUP, "frobnicate (no such operation) -> %s",
           troupe_errname(rc));

    // The snapshot: every shard's dump, gathered at once by the isolated
    // snapshot actor, sorted, checksummed and written to a file.
    t0 = troupe_now();
    uint64_t keys = 0, bytes = 0, sum = 0;
    const char *path = "";
    size_t plen = 0;
    rc = troupe_call_name(me, "kv", "snapshot", troupe_deadline_in(5000), &r,
                          NULL);
    if (rc == 0)
        rc = troupe_msg_read(r, "{s:U s:U s:U s:s}", "keys", &keys, "bytes",
                             &bytes, "checksum", &sum, "path", &path, &plen);
    expect[OP_SNAPSHOT]++;
    int64_t snap_ms = troupe_now() - t0;
    size_t want_keys = 0, want_bytes = 0;
    uint64_t want = s_model_checksum(m, (size_t)n, &want_keys, &want_bytes);
    char file[256] = "";
    struct stat sb;
    if (rc == 0 && plen < sizeof file)
        memcpy(file, path, plen);
    bool on_disk =
        file[0] && stat(file, &sb) == 0 && (uint64_t)sb.st_size == bytes;
    troupe_msg_destroy(&r);
    s_fact(rc == 0 && on_disk,
           "snapshot: %llu keys, %llu bytes written to %s in %lld ms",
           (unsigned long long)keys, (unsigned long long)bytes,
           rc ? troupe_errname(rc) : file, (long long)snap_ms);
    s_fact(rc == 0 && sum == want && keys == want_keys,
           "snapshot checksum %016llx = the client's model (%zu keys)",
           (unsigned long long)sum, want_keys);
    if (file[0] && !keep)
        unlink(file);
}

int main(int argc, char **argv)
{
    bool quick = false, keep = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            quick = true;
        } else if (!strcmp(argv[i], "--keep")) {
            keep = true;
        } else {
            fprintf(stderr,
                    "usage: %s [--quick] [--keep]\n"
                    "  --quick  a smaller workload\n"
                    "  --keep   keep the snapshot file\n",
                    argv[0]);
            return 2;
        }
    }
    int nusers = quick ? 500 : 5000;
    troupe_node *node = NULL;
    troupe_client *me = NULL;
    int64_t expect[OP_N] = {0}, got[OP_N] = {0}, misses = -1, errors = -1;
    troupe_msg *r = NULL;
    int rc;
    model_key *model = calloc((size_t)nusers + 11, sizeof *model);
    kv_tree tree = {.nshards = KV_SHARDS, .dir = getenv("TMPDIR")};
    if (!tree.dir || !tree.dir[0])
        tree.dir = "/tmp";
    if (!model || !s_ok(troupe_node_new(&node, NULL), "troupe_node_new"))
        return 1;
    if (!s_ok(s_spawn_tree(node, &tree), "spawn the tree") ||
        !s_ok(troupe_client_new(node, &me), "troupe_client_new"))
        goto out;
    printf("kvstore: router \"kv\", %d shards over %u loops, an isolated "
           "snapshot actor, stats\n",
           tree.nshards, troupe_node_loops(node));

    s_workload(me, model, nusers, expect, keep);

    rc =
        troupe_call_name(me, "kv", "stats", troupe_deadline_in(1000), &r, NULL);
    if (rc == 0)
        rc = troupe_msg_read(r, "{s:I s:I s:I s:I s:I s:I s:I}", "get",
                             &got[OP_GET], "put", &got[OP_PUT], "del",
                             &got[OP_DEL], "incr", &got[OP_INCR], "snapshot",
                             &got[OP_SNAPSHOT], "misses", &misses, "errors",
                             &errors);
    troupe_msg_destroy(&r);
    bool same = rc == 0;
    for (int op = 0; op < OP_STATS; op++)
        same = same && got[op] == expect[op];
    s_fact(same && misses == 2 && errors == 3,
           "stats: get %lld, put %lld, del %lld, incr %lld, snapshot %lld, "
           "misses %lld, errors %lld",
           (long long)got[OP_GET], (long long)got[OP_PUT],
           (long long)got[OP_DEL], (long long)got[OP_INCR],
           (long long)got[OP_SNAPSHOT], (long long)misses, (long long)errors);
out:
    troupe_client_destroy(&me);
    if (node) {
        rc = troupe_node_stop(node, troupe_deadline_in(5000));
        troupe_node_stats st;
        troupe_node_stats_get(node, &st);
        s_fact(rc == 0 && st.live_actors == 0 && st.live_threads == 0,
               "node stopped: %s, %llu actors and %llu threads left",
               troupe_errname(rc), (unsigned long long)st.live_actors,
               (unsigned long long)st.live_threads);
        printf("  node: sent %llu, delivered %llu, dead_lettered %llu, "
               "refused %llu\n",
               (unsigned long long)st.sent, (unsigned long long)st.delivered,
               (unsigned long long)st.dead_lettered,
               (unsigned long long)st.refused);
        s_fact(st.sent == st.delivered + st.dead_lettered + st.refused,
               "sent == delivered + dead_lettered + refused");
        troupe_node_destroy(&node);
    }
    free(model);
    printf("%d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
