/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state_redis.c - operator state in Redis (state.h), with hiredis's blocking API: each stream
 * thread has its own connection, used only between batches.
 *
 * Thread: the owning stream thread.
 */
#include "state.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

struct op {
    int32_t partition;
    int kind; /* OP_DEL, OP_PUT, OP_OFFSET: the order within a bucket */
    const char *node;
    const char *bucket; /* in ops_arena */
    const char *key;    /* field, in ops_arena */
    size_t klen;
    const char *val;
    size_t len;
    int64_t ttl_ms;
    size_t idx; /* queue order */
};

enum { OP_DEL, OP_PUT, OP_OFFSET };

/* offsets last written, so an idle partition's are not rewritten every checkpoint */
struct written {
    struct written *next;
    char *id; /* node \x1f partition \x1f field */
    char *val;
    int64_t at_ms;
};
#define WRITTEN_BUCKETS 1024
#define OFFSETS_REFRESH_MS (3600 * 1000) /* rewritten at least this often (their TTL) */

struct vg_state {
    char *host;
    int port;
    char *user;
    char *password;
    int db;
    char *topology;
    redisContext *c;
    uint64_t epoch;
    uint64_t commands;
    struct op *ops;
    size_t n_ops, cap_ops;
    struct vg_arena ops_arena;
    struct written *written[WRITTEN_BUCKETS];
    /* argv of the command being built */
    const char **argv;
    size_t *argl;
    size_t cap_argv;
};

struct vg_state *vg_state_new(const char *url, const char *topology, struct vg_err *err)
{
    const char *p = url;
    if (strncmp(p, "redis://", 8) != 0) {
        VG_ERR_SET(err, VG_ECONFIG, "redis url '%s': expected redis://[:password@]host[:port][/db]",
                   url);
        return NULL;
    }
    p += 8;
    struct vg_state *s = vg_xcalloc(1, sizeof(*s));
    s->port = 6379;
    vg_arena_init(&s->ops_arena, 0);
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon) {
            if (colon > p)
                s->user = vg_xstrndup(p, (size_t)(colon - p));
            s->password = vg_xstrndup(colon + 1, (size_t)(at - colon - 1));
        } else {
            s->password = vg_xstrndup(p, (size_t)(at - p));
        }
        p = at + 1;
    }
    const char *slash = strchr(p, '/');
    const char *hostend = slash ? slash : p + strlen(p);
    const char *colon = memchr(p, ':', (size_t)(hostend - p));
    s->host = vg_xstrndup(p, (size_t)((colon ? colon : hostend) - p));
    bool ok = s->host[0] != '\0';
    if (colon) {
        char *end;
        long port = strtol(colon + 1, &end, 10);
        ok = ok && end == hostend && port > 0 && port < 65536;
        s->port = (int)port;
    }
    if (slash && slash[1]) {
        char *end;
        long db = strtol(slash + 1, &end, 10);
        ok = ok && !*end && db >= 0 && db < 100000;
        s->db = (int)db;
    }
    if (!ok) {
        VG_ERR_SET(err, VG_ECONFIG, "redis url '%s': expected redis://[:password@]host[:port][/db]",
                   url);
        vg_state_free(s);
        return NULL;
    }
    s->topology = vg_xstrdup(topology);
    return s;
}

static void drop_ops(struct vg_state *s)
{
    s->n_ops = 0;
    vg_arena_reset(&s->ops_arena);
}

static void forget_written(struct vg_state *s)
{
    for (size_t i = 0; i < WRITTEN_BUCKETS; i++) {
        for (struct written *w = s->written[i], *next; w; w = next) {
            next = w->next;
            vg_free(w->id);
            vg_free(w->val);
            vg_free(w);
        }
        s->written[i] = NULL;
    }
}

static void disconnect(struct vg_state *s)
{
    if (s->c)
        redisFree(s->c);
    s->c = NULL;
}

void vg_state_free(struct vg_state *s)
{
    if (!s)
        return;
    disconnect(s);
    drop_ops(s);
    vg_arena_fini(&s->ops_arena);
    forget_written(s);
    vg_free(s->ops);
    vg_free(s->argv);
    vg_free(s->argl);
    vg_free(s->host);
    vg_free(s->user);
    vg_free(s->password);
    vg_free(s->topology);
    vg_free(s);
}

/* Run one command; returns the reply or NULL (connection closed, err filled). */
static redisReply *cmd(struct vg_state *s, struct vg_err *err, int argc, const char **argv,
                       const size_t *lens)
{
    redisReply *r = redisCommandArgv(s->c, argc, argv, lens);
    s->commands++;
    if (!r) {
        VG_ERR_SET(err, VG_EREDIS, "redis %s:%d: %s", s->host, s->port,
                   s->c->errstr[0] ? s->c->errstr : "connection lost");
        disconnect(s);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        VG_ERR_SET(err, VG_EREDIS, "redis %s:%d: %s", s->host, s->port, r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

int vg_state_connect(struct vg_state *s, struct vg_err *err)
{
    disconnect(s);
    forget_written(s); /* a new connection may be a Redis that lost everything */
    struct timeval tv = {2, 0};
    s->c = redisConnectWithTimeout(s->host, s->port, tv);
    if (!s->c || s->c->err) {
        VG_ERR_SET(err, VG_EREDIS, "redis %s:%d: %s", s->host, s->port,
                   s->c ? s->c->errstr : "cannot allocate a connection");
        disconnect(s);
        return VG_EREDIS;
    }
    struct timeval io = {5, 0};
    redisSetTimeout(s->c, io);
    redisReply *r;
    if (s->password) {
        const char *argv[3] = {"AUTH", s->user ? s->user : s->password, s->password};
        size_t lens[3] = {4, strlen(argv[1]), strlen(argv[2])};
        if (!(r = cmd(s, err, s->user ? 3 : 2, argv, lens)))
            goto fail;
        freeReplyObject(r);
    }
    if (s->db) {
        char db[16];
        snprintf(db, sizeof(db), "%d", s->db);
        const char *argv[2] = {"SELECT", db};
        size_t lens[2] = {6, strlen(db)};
        if (!(r = cmd(s, err, 2, argv, lens)))
            goto fail;
        freeReplyObject(r);
    }
    s->epoch++;
    return 0;
fail:
    disconnect(s);
    return VG_EREDIS;
}

bool vg_state_connected(const struct vg_state *s)
{
    return s->c != NULL;
}

uint64_t vg_state_epoch(const struct vg_state *s)
{
    return s->epoch;
}

uint64_t vg_state_commands(const struct vg_state *s)
{
    return s->commands;
}

static struct op *push(struct vg_state *s, const char *node, int32_t partition, int kind,
                       const char *bucket, const char *key, size_t klen, const void *val,
                       size_t len, int64_t ttl_ms)
{
    if (s->n_ops == s->cap_ops) {
        s->cap_ops = s->cap_ops ? 2 * s->cap_ops : 256;
        s->ops = vg_xrealloc(s->ops, s->cap_ops * sizeof(*s->ops));
    }
    struct op *o = &s->ops[s->n_ops];
    *o = (struct op){.partition = partition, .kind = kind, .node = node, .klen = klen,
                     .len = len, .ttl_ms = ttl_ms > 0 ? ttl_ms : 1, .idx = s->n_ops};
    o->bucket = vg_arena_strndup(&s->ops_arena, bucket, strlen(bucket));
    o->key = vg_arena_strndup(&s->ops_arena, key, klen);
    o->val = val ? vg_arena_strndup(&s->ops_arena, val, len) : NULL;
    s->n_ops++;
    return o;
}

void vg_state_put(struct vg_state *s, const char *node, int32_t partition, const char *bucket,
                  const char *field, size_t flen, const void *val, size_t len, int64_t ttl_ms)
{
    push(s, node, partition, OP_PUT, bucket, field, flen, val, len, ttl_ms);
}

void vg_state_del(struct vg_state *s, const char *node, int32_t partition, const char *bucket,
                  const char *field, size_t flen)
{
    push(s, node, partition, OP_DEL, bucket, field, flen, NULL, 0, 0);
}

static uint64_t hash_str(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static struct written **written_slot(struct vg_state *s, const char *id, size_t n)
{
    struct written **pp = &s->written[hash_str(id, n) % WRITTEN_BUCKETS];
    while (*pp && strcmp((*pp)->id, id) != 0)
        pp = &(*pp)->next;
    return pp;
}

static void offset_id(struct vg_buf *b, const char *node, int32_t partition, const char *field,
                      size_t flen)
{
    vg_buf_clear(b);
    vg_buf_printf(b, "%s\x1f%d\x1f", node, (int)partition);
    vg_buf_append(b, field, flen);
}

void vg_state_offset(struct vg_state *s, const char *node, int32_t partition, const char *topic,
                     int64_t next_offset, vg_time_ms max_ts, int64_t ttl_ms)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%lld %lld", (long long)next_offset, (long long)max_ts);
    struct vg_buf id;
    vg_buf_init(&id);
    offset_id(&id, node, partition, topic, strlen(topic));
    struct written *w = *written_slot(s, vg_buf_cstr(&id), id.len);
    vg_buf_fini(&id);
    if (w && !strcmp(w->val, buf) && vg_now_ms() - w->at_ms < OFFSETS_REFRESH_MS)
        return; /* unchanged and stored */
    push(s, node, partition, OP_OFFSET, "@offsets", topic, strlen(topic), buf, strlen(buf),
         ttl_ms);
}

/* After a good commit: the offsets now stored. */
static void note_written(struct vg_state *s)
{
    struct vg_buf id;
    vg_buf_init(&id);
    int64_t now = vg_now_ms();
    for (size_t i = 0; i < s->n_ops; i++) {
        const struct op *o = &s->ops[i];
        if (o->kind != OP_OFFSET)
            continue;
        offset_id(&id, o->node, o->partition, o->key, o->klen);
        struct written **pp = written_slot(s, vg_buf_cstr(&id), id.len);
        if (!*pp) {
            *pp = vg_xcalloc(1, sizeof(**pp));
            (*pp)->id = vg_xstrndup(id.data, id.len);
        }
        vg_free((*pp)->val);
        (*pp)->val = vg_xstrndup(o->val, o->len);
        (*pp)->at_ms = now;
    }
    vg_buf_fini(&id);
}

static void prefix(struct vg_buf *b, const struct vg_state *s, const char *node, int32_t part)
{
    vg_buf_clear(b);
    vg_buf_printf(b, "vg:{%s:%s:%d}:", s->topology, node, (int)part);
}

/* (partition, node, offsets last, bucket, deletes before puts, queue order) */
static int cmp_op(const void *a, const void *b)
{
    const struct op *x = a, *y = b;
    if (x->partition != y->partition)
        return x->partition < y->partition ? -1 : 1;
    int r = x->node == y->node ? 0 : strcmp(x->node, y->node);
    if (r)
        return r;
    if ((x->kind == OP_OFFSET) != (y->kind == OP_OFFSET))
        return x->kind == OP_OFFSET ? 1 : -1;
    if ((r = strcmp(x->bucket, y->bucket)))
        return r;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

static void argv_need(struct vg_state *s, size_t n)
{
    if (n <= s->cap_argv)
        return;
    s->cap_argv = VG_MAX(n, 2 * s->cap_argv);
    s->argv = vg_xrealloc(s->argv, s->cap_argv * sizeof(*s->argv));
    s->argl = vg_xrealloc(s->argl, s->cap_argv * sizeof(*s->argl));
}

#define FIELDS_PER_COMMAND 512

/* HDEL or HSET key with ops[i..j) (all deletes or all puts of one bucket), in commands of at
 * most FIELDS_PER_COMMAND fields; returns the commands appended. */
static size_t append_fields(struct vg_state *s, const char *cmdname, const struct vg_buf *key,
                            const struct op *ops, size_t i, size_t j)
{
    size_t sent = 0;
    while (i < j) {
        size_t k = VG_MIN(j, i + FIELDS_PER_COMMAND);
        argv_need(s, 2 + 2 * (k - i));
        size_t n = 0;
        s->argv[n] = cmdname;
        s->argl[n++] = strlen(cmdname);
        s->argv[n] = key->data;
        s->argl[n++] = key->len;
        for (; i < k; i++) {
            s->argv[n] = ops[i].key;
            s->argl[n++] = ops[i].klen;
            if (ops[i].kind != OP_DEL) {
                s->argv[n] = ops[i].val;
                s->argl[n++] = ops[i].len;
            }
        }
        redisAppendCommandArgv(s->c, (int)n, s->argv, s->argl);
        sent++;
    }
    return sent;
}

int vg_state_commit(struct vg_state *s, struct vg_err *err)
{
    if (s->n_ops == 0)
        return 0;
    if (!s->c) {
        drop_ops(s);
        return VG_ERR_SET(err, VG_EREDIS, "redis %s:%d: not connected", s->host, s->port);
    }
    qsort(s->ops, s->n_ops, sizeof(*s->ops), cmp_op);
    struct vg_buf key;
    vg_buf_init(&key);
    size_t sent = 0;
    const struct op *ops = s->ops;
    for (size_t i = 0; i < s->n_ops;) {
        /* one (partition, node): one transaction */
        size_t end = i;
        while (end < s->n_ops && ops[end].partition == ops[i].partition &&
               !strcmp(ops[end].node, ops[i].node))
            end++;
        redisAppendCommand(s->c, "MULTI");
        sent++;
        while (i < end) {
            size_t j = i; /* one bucket and kind */
            int64_t ttl = 0;
            while (j < end && ops[j].kind == ops[i].kind && !strcmp(ops[j].bucket, ops[i].bucket)) {
                ttl = VG_MAX(ttl, ops[j].ttl_ms);
                j++;
            }
            prefix(&key, s, ops[i].node, ops[i].partition);
            vg_buf_puts(&key, ops[i].bucket);
            sent += append_fields(s, ops[i].kind == OP_DEL ? "HDEL" : "HSET", &key, ops, i, j);
            if (ops[i].kind != OP_DEL) {
                redisAppendCommand(s->c, "PEXPIRE %b %lld", key.data, key.len, (long long)ttl);
                sent++;
            }
            i = j;
        }
        redisAppendCommand(s->c, "EXEC");
        sent++;
    }
    vg_buf_fini(&key);
    s->commands += sent;
    int rc = 0;
    for (size_t i = 0; i < sent; i++) {
        redisReply *r = NULL;
        if (redisGetReply(s->c, (void **)&r) != REDIS_OK || !r) {
            rc = VG_ERR_SET(err, VG_EREDIS, "redis %s:%d: %s", s->host, s->port,
                            s->c->errstr[0] ? s->c->errstr : "connection lost");
            disconnect(s);
            drop_ops(s);
            return rc;
        }
        if (r->type == REDIS_REPLY_ERROR && !rc)
            rc = VG_ERR_SET(err, VG_EREDIS, "redis %s:%d: %s", s->host, s->port, r->str);
        if (r->type == REDIS_REPLY_NIL && !rc) /* EXEC aborted */
            rc = VG_ERR_SET(err, VG_EREDIS, "redis %s:%d: transaction aborted", s->host, s->port);
        freeReplyObject(r);
    }
    if (rc == 0)
        note_written(s);
    drop_ops(s);
    return rc;
}

int vg_state_load(struct vg_state *s, const char *node, int32_t partition,
                  int (*cb)(void *ud, const char *key, size_t klen, const char *val, size_t len),
                  void (*ocb)(void *ud, const char *topic, int64_t next_offset, vg_time_ms max_ts),
                  void *ud, struct vg_err *err)
{
    if (!s->c)
        return VG_ERR_SET(err, VG_EREDIS, "redis %s:%d: not connected", s->host, s->port);
    struct vg_buf pre;
    vg_buf_init(&pre);
    prefix(&pre, s, node, partition);
    size_t plen = pre.len;
    /* MATCH needs the glob specials of the prefix escaped ({ } are not special) */
    struct vg_buf pat;
    vg_buf_init(&pat);
    for (size_t i = 0; i < plen; i++) {
        char c = pre.data[i];
        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\')
            vg_buf_putc(&pat, '\\');
        vg_buf_putc(&pat, c);
    }
    vg_buf_putc(&pat, '*');
    char cursor[32] = "0";
    int rc = 0;
    do {
        const char *argv[6] = {"SCAN", cursor, "MATCH", vg_buf_cstr(&pat), "COUNT", "1000"};
        size_t lens[6] = {4, strlen(cursor), 5, pat.len, 5, 4};
        redisReply *r = cmd(s, err, 6, argv, lens);
        if (!r) {
            rc = VG_EREDIS;
            break;
        }
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            freeReplyObject(r);
            rc = VG_ERR_SET(err, VG_EREDIS, "redis: unexpected SCAN reply");
            break;
        }
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        redisReply *keys = r->element[1];
        for (size_t i = 0; i < keys->elements && rc == 0; i++) {
            const redisReply *k = keys->element[i];
            if (k->len <= plen)
                continue;
            const char *name = k->str + plen;
            size_t nlen = k->len - plen;
            bool offsets = nlen == 8 && !memcmp(name, "@offsets", 8);
            const char *av[2] = {"HGETALL", k->str};
            size_t al[2] = {7, k->len};
            redisReply *h = redisCommandArgv(s->c, 2, av, al);
            s->commands++;
            if (!h) {
                rc = VG_ERR_SET(err, VG_EREDIS, "redis %s:%d: %s", s->host, s->port,
                                s->c->errstr[0] ? s->c->errstr : "connection lost");
                disconnect(s);
                break;
            }
            /* not a hash (WRONGTYPE): not ours, skipped */
            for (size_t f = 0; h->type == REDIS_REPLY_ARRAY && f + 1 < h->elements && rc == 0;
                 f += 2) {
                const redisReply *fk = h->element[f], *fv = h->element[f + 1];
                if (!offsets) {
                    rc = cb(ud, fk->str, fk->len, fv->str, fv->len);
                    continue;
                }
                long long off = 0, ts = 0;
                if (sscanf(fv->str, "%lld %lld", &off, &ts) == 2)
                    ocb(ud, fk->str, off, ts);
            }
            freeReplyObject(h);
        }
        freeReplyObject(r);
    } while (rc == 0 && strcmp(cursor, "0") != 0);
    vg_buf_fini(&pre);
    vg_buf_fini(&pat);
    return rc;
}
