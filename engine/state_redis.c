/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state_redis.c - operator state in Redis (state.h), with hiredis's blocking API: each stream
 * thread has its own connection, used only between batches.
 *
 * Thread: the owning stream thread.
 */
#include "state.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"

/* Queued writes are kept per (partition, node, bucket, kind) as the Redis protocol of their
 * fields, ready to send: a checkpoint with 100k changed entries formats them once, into
 * buffers that are reused, and sends one HSET per bucket (of at most FIELDS_PER_COMMAND). */
enum { OP_DEL, OP_PUT, OP_OFFSET }; /* the order within a (partition, node) */
#define FIELDS_PER_COMMAND 1024
#define BUCKET_MAX 64

struct group {
    int32_t partition;
    int kind;
    const char *node;
    char bucket[BUCKET_MAX];
    uint64_t hash;
    size_t seq;         /* groups of one identity, after the first filled up */
    size_t n;           /* fields */
    int64_t ttl_ms;
    struct vg_buf body; /* "$len\r\nfield\r\n" ("$len\r\nvalue\r\n") per field */
};

/* offsets last written, so an idle partition's are not rewritten every checkpoint */
struct written {
    struct written *next;
    char *id; /* node \x1f partition \x1f field */
    char *val;
    int64_t at_ms;
};
#define WRITTEN_BUCKETS 1024
#define OFFSETS_REFRESH_MS (3600 * 1000) /* rewritten at least this often (their TTL) */

struct pending_offset {
    char *id, *val;
};

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
    struct group *groups;       /* [0, n_groups) queued; the rest keep their buffers */
    size_t n_groups, cap_groups;
    size_t *index;              /* open addressing: group index + 1 of the open group */
    size_t cap_index;
    struct pending_offset *offs;
    size_t n_offs, cap_offs;
    struct written *written[WRITTEN_BUCKETS];
    struct vg_buf out;          /* the commit being sent */
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
    vg_buf_init(&s->out);
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
    for (size_t i = 0; i < s->n_groups; i++)
        vg_buf_clear(&s->groups[i].body);
    s->n_groups = 0;
    if (s->index)
        memset(s->index, 0, s->cap_index * sizeof(*s->index));
    for (size_t i = 0; i < s->n_offs; i++) {
        vg_free(s->offs[i].id);
        vg_free(s->offs[i].val);
    }
    s->n_offs = 0;
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
    for (size_t i = 0; i < s->cap_groups; i++)
        vg_buf_fini(&s->groups[i].body);
    vg_free(s->groups);
    vg_free(s->index);
    vg_free(s->offs);
    vg_buf_fini(&s->out);
    forget_written(s);
    vg_free(s->host);
    vg_free(s->user);
    vg_free(s->password);
    vg_free(s->topology);
    vg_free(s);
}

/* The connection failed: err says why, and it is closed. VG_EREDIS. */
static int lost(struct vg_state *s, struct vg_err *err)
{
    int rc = VG_ERR_SET(err, VG_EREDIS, "redis %s:%d: %s", s->host, s->port,
                        s->c->errstr[0] ? s->c->errstr : "connection lost");
    disconnect(s);
    return rc;
}

/* Run one command; returns the reply or NULL (connection closed, err filled). */
static redisReply *cmd(struct vg_state *s, struct vg_err *err, int argc, const char **argv,
                       const size_t *lens)
{
    redisReply *r = redisCommandArgv(s->c, argc, argv, lens);
    s->commands++;
    if (!r) {
        lost(s, err);
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

static bool group_is(const struct group *g, uint64_t hash, int32_t partition, int kind,
                     const char *node, const char *bucket)
{
    return g->hash == hash && g->partition == partition && g->kind == kind &&
           !strcmp(g->node, node) && !strcmp(g->bucket, bucket);
}

/* Index the open group of each identity: the latest made (groups are in creation order). */
static void index_rebuild(struct vg_state *s, size_t cap)
{
    vg_free(s->index);
    s->cap_index = cap;
    s->index = vg_xcalloc(cap, sizeof(*s->index));
    for (size_t i = 0; i < s->n_groups; i++) {
        const struct group *g = &s->groups[i];
        size_t at = g->hash & (cap - 1);
        while (s->index[at] &&
               !group_is(&s->groups[s->index[at] - 1], g->hash, g->partition, g->kind, g->node,
                         g->bucket))
            at = (at + 1) & (cap - 1);
        s->index[at] = i + 1;
    }
}

/* The open group of (node, partition, bucket, kind), made when missing or full. */
static struct group *group_get(struct vg_state *s, const char *node, int32_t partition,
                               const char *bucket, int kind)
{
    char name[BUCKET_MAX]; /* callers keep buckets short (state.h) */
    snprintf(name, sizeof(name), "%s", bucket);
    uint64_t h = vg_hash_bytes(VG_HASH_SEED, node, strlen(node));
    h = vg_hash_bytes(h, name, strlen(name));
    h ^= (uint64_t)(uint32_t)partition * 0x9e3779b97f4a7c15ull + (uint64_t)kind;
    if (s->n_groups * 2 >= s->cap_index)
        index_rebuild(s, s->cap_index ? 2 * s->cap_index : 256);
    size_t at = h & (s->cap_index - 1);
    struct group *g = NULL;
    for (; s->index[at]; at = (at + 1) & (s->cap_index - 1)) {
        struct group *c = &s->groups[s->index[at] - 1];
        if (group_is(c, h, partition, kind, node, name)) {
            g = c;
            break;
        }
    }
    if (g && g->n < FIELDS_PER_COMMAND)
        return g;
    size_t seq = g ? g->seq + 1 : 0;
    if (s->n_groups == s->cap_groups) {
        size_t cap = s->cap_groups ? 2 * s->cap_groups : 64;
        s->groups = vg_xrealloc(s->groups, cap * sizeof(*s->groups));
        for (size_t i = s->cap_groups; i < cap; i++)
            vg_buf_init(&s->groups[i].body);
        s->cap_groups = cap;
    }
    struct group *n = &s->groups[s->n_groups];
    n->partition = partition;
    n->kind = kind;
    n->node = node;
    memcpy(n->bucket, name, sizeof(name));
    n->hash = h;
    n->seq = seq;
    n->n = 0;
    n->ttl_ms = 1;
    vg_buf_clear(&n->body);
    s->index[at] = ++s->n_groups; /* replaces the full one, or takes the free slot */
    return n;
}

static void bulk(struct vg_buf *b, const void *p, size_t n)
{
    char head[32];
    int k = snprintf(head, sizeof(head), "$%zu\r\n", n);
    char *w = vg_buf_reserve(b, (size_t)k + n + 2);
    memcpy(w, head, (size_t)k);
    if (n)
        memcpy(w + k, p, n);
    memcpy(w + k + n, "\r\n", 2);
    b->len += (size_t)k + n + 2;
}

static void queue(struct vg_state *s, const char *node, int32_t partition, const char *bucket,
                  int kind, const char *field, size_t flen, const void *val, size_t len,
                  int64_t ttl_ms)
{
    struct group *g = group_get(s, node, partition, bucket, kind);
    bulk(&g->body, field, flen);
    if (kind != OP_DEL)
        bulk(&g->body, val, len);
    g->n++;
    g->ttl_ms = VG_MAX(g->ttl_ms, ttl_ms);
}

void vg_state_put(struct vg_state *s, const char *node, int32_t partition, const char *bucket,
                  const char *field, size_t flen, const void *val, size_t len, int64_t ttl_ms)
{
    queue(s, node, partition, bucket, OP_PUT, field, flen, val, len, ttl_ms);
}

void vg_state_del(struct vg_state *s, const char *node, int32_t partition, const char *bucket,
                  const char *field, size_t flen)
{
    queue(s, node, partition, bucket, OP_DEL, field, flen, NULL, 0, 0);
}

static struct written **written_slot(struct vg_state *s, const char *id)
{
    struct written **pp = &s->written[vg_hash_bytes(VG_HASH_SEED, id, strlen(id)) % WRITTEN_BUCKETS];
    while (*pp && strcmp((*pp)->id, id) != 0)
        pp = &(*pp)->next;
    return pp;
}

void vg_state_offset(struct vg_state *s, const char *node, int32_t partition, const char *topic,
                     int64_t next_offset, vg_time_ms max_ts, int64_t ttl_ms)
{
    char val[64];
    snprintf(val, sizeof(val), "%lld %lld", (long long)next_offset, (long long)max_ts);
    struct vg_buf id;
    vg_buf_init(&id);
    vg_buf_printf(&id, "%s\x1f%d\x1f%s", node, (int)partition, topic);
    const struct written *w = *written_slot(s, vg_buf_cstr(&id));
    if (w && !strcmp(w->val, val) && vg_now_ms() - w->at_ms < OFFSETS_REFRESH_MS) {
        vg_buf_fini(&id); /* unchanged and stored */
        return;
    }
    queue(s, node, partition, "@offsets", OP_OFFSET, topic, strlen(topic), val, strlen(val),
          ttl_ms);
    if (s->n_offs == s->cap_offs) {
        s->cap_offs = s->cap_offs ? 2 * s->cap_offs : 64;
        s->offs = vg_xrealloc(s->offs, s->cap_offs * sizeof(*s->offs));
    }
    s->offs[s->n_offs++] = (struct pending_offset){vg_xstrdup(vg_buf_cstr(&id)), vg_xstrdup(val)};
    vg_buf_fini(&id);
}

/* After a good commit: the offsets now stored. */
static void note_written(struct vg_state *s)
{
    int64_t now = vg_now_ms();
    for (size_t i = 0; i < s->n_offs; i++) {
        struct written **pp = written_slot(s, s->offs[i].id);
        if (!*pp) {
            *pp = vg_xcalloc(1, sizeof(**pp));
            (*pp)->id = s->offs[i].id;
        } else {
            vg_free(s->offs[i].id);
            vg_free((*pp)->val);
        }
        (*pp)->val = s->offs[i].val;
        (*pp)->at_ms = now;
    }
    s->n_offs = 0;
}

/* The length of node's home: all of it, or what comes before the '/' of a guest "H/G". */
static size_t home_len(const char *node)
{
    return strcspn(node, "/");
}

/* Do nodes x and y share a home (and so a partition's transaction)? */
static bool same_home(const char *x, const char *y)
{
    size_t n = home_len(x);
    return n == home_len(y) && !strncmp(x, y, n);
}

/* "vg:{T:N:P}:", or for a guest "H/G": "vg:{T:H:P}:/G/" (state.h) */
static void prefix(struct vg_buf *b, const struct vg_state *s, const char *node, int32_t part)
{
    vg_buf_clear(b);
    size_t h = home_len(node);
    vg_buf_printf(b, "vg:{%s:%.*s:%d}:", s->topology, (int)h, node, (int)part);
    if (node[h])
        vg_buf_printf(b, "%s/", node + h);
}

/* (partition, home, node, offsets last, bucket, deletes before puts, seq) */
static int cmp_group(const void *a, const void *b)
{
    const struct group *x = *(const struct group *const *)a, *y = *(const struct group *const *)b;
    if (x->partition != y->partition)
        return x->partition < y->partition ? -1 : 1;
    size_t hx = home_len(x->node), hy = home_len(y->node);
    int r = x->node == y->node ? 0 : strncmp(x->node, y->node, VG_MIN(hx, hy));
    if (r)
        return r;
    if (hx != hy)
        return hx < hy ? -1 : 1;
    r = x->node == y->node ? 0 : strcmp(x->node, y->node);
    if (r)
        return r;
    if ((x->kind == OP_OFFSET) != (y->kind == OP_OFFSET))
        return x->kind == OP_OFFSET ? 1 : -1;
    if ((r = strcmp(x->bucket, y->bucket)))
        return r;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static void command(struct vg_buf *out, size_t argc)
{
    vg_buf_printf(out, "*%zu\r\n", argc);
}

#define SEND_SLICE ((size_t)1 << 20)

/* Write all of out to the connection (its send timeout bounds a stall). */
static int send_all(struct vg_state *s, const struct vg_buf *out)
{
    size_t done = 0;
    while (done < out->len) {
        ssize_t w = write(s->c->fd, out->data + done, out->len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        done += (size_t)w;
    }
    return 0;
}

int vg_state_commit(struct vg_state *s, struct vg_err *err)
{
    if (s->n_groups == 0)
        return 0;
    if (!s->c) {
        drop_ops(s);
        return VG_ERR_SET(err, VG_EREDIS, "redis %s:%d: not connected", s->host, s->port);
    }
    /* one sort of the groups (thousands at most), not of the entries */
    const struct group **order = vg_xmalloc(s->n_groups * sizeof(*order));
    for (size_t i = 0; i < s->n_groups; i++)
        order[i] = &s->groups[i];
    qsort(order, s->n_groups, sizeof(*order), cmp_group);
    struct vg_buf key, *out = &s->out;
    vg_buf_init(&key);
    vg_buf_clear(out);
    size_t sent = 0;
    bool io_failed = false;
    for (size_t i = 0; i < s->n_groups && !io_failed;) {
        const struct group *first = order[i];
        command(out, 1); /* one (partition, home node): one transaction */
        bulk(out, "MULTI", 5);
        sent++;
        for (; i < s->n_groups; i++) {
            const struct group *g = order[i];
            if (g->partition != first->partition || !same_home(g->node, first->node))
                break;
            /* sent in slices: the commands are pipelined, Redis buffers the few replies */
            if (out->len >= SEND_SLICE) {
                io_failed = send_all(s, out) != 0;
                vg_buf_clear(out);
                if (io_failed)
                    break;
            }
            prefix(&key, s, g->node, g->partition);
            vg_buf_puts(&key, g->bucket);
            command(out, 2 + (g->kind == OP_DEL ? 1 : 2) * g->n);
            bulk(out, g->kind == OP_DEL ? "HDEL" : "HSET", 4);
            bulk(out, key.data, key.len);
            vg_buf_append(out, g->body.data, g->body.len);
            sent++;
            if (g->kind != OP_DEL) {
                char ttl[32];
                int n = snprintf(ttl, sizeof(ttl), "%lld", (long long)g->ttl_ms);
                command(out, 3);
                bulk(out, "PEXPIRE", 7);
                bulk(out, key.data, key.len);
                bulk(out, ttl, (size_t)n);
                sent++;
            }
        }
        command(out, 1);
        bulk(out, "EXEC", 4);
        sent++;
    }
    vg_buf_fini(&key);
    vg_free(order);
    s->commands += sent;
    int rc = 0;
    if (io_failed || send_all(s, out) != 0) {
        rc = VG_ERR_SET(err, VG_EREDIS, "redis %s:%d: %s", s->host, s->port, strerror(errno));
        disconnect(s);
        drop_ops(s);
        return rc;
    }
    for (size_t i = 0; i < sent; i++) {
        redisReply *r = NULL;
        if (redisGetReply(s->c, (void **)&r) != REDIS_OK || !r) {
            rc = lost(s, err);
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
            if (name[0] == '/')
                continue; /* a guest's (state.h) */
            bool offsets = nlen == 8 && !memcmp(name, "@offsets", 8);
            const char *av[2] = {"HGETALL", k->str};
            size_t al[2] = {7, k->len};
            redisReply *h = redisCommandArgv(s->c, 2, av, al);
            s->commands++;
            if (!h) {
                rc = lost(s, err);
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

int vg_state_hgetall(struct vg_state *s, const char *const *keys, const size_t *klens, size_t n,
                     void (*row)(void *ud, size_t i, const char *field, size_t flen,
                                 const char *val, size_t vlen),
                     void *ud, struct vg_err *err)
{
    if (!s->c)
        return VG_ERR_SET(err, VG_EREDIS, "redis %s:%d: not connected", s->host, s->port);
    for (size_t i = 0; i < n; i++) {
        const char *argv[2] = {"HGETALL", keys[i]};
        size_t lens[2] = {7, klens[i]};
        if (redisAppendCommandArgv(s->c, 2, argv, lens) != REDIS_OK)
            return lost(s, err);
    }
    s->commands += n;
    int rc = 0;
    for (size_t i = 0; i < n; i++) { /* read every reply, even after an error one */
        redisReply *r = NULL;
        if (redisGetReply(s->c, (void **)&r) != REDIS_OK || !r)
            return lost(s, err);
        if (r->type == REDIS_REPLY_ERROR && rc == 0)
            rc = VG_ERR_SET(err, VG_EREDIS, "redis %s:%d: HGETALL %.*s: %s", s->host, s->port,
                            (int)klens[i], keys[i], r->str);
        for (size_t f = 0; r->type == REDIS_REPLY_ARRAY && f + 1 < r->elements; f += 2)
            row(ud, i, r->element[f]->str, r->element[f]->len, r->element[f + 1]->str,
                r->element[f + 1]->len);
        freeReplyObject(r);
    }
    return rc;
}
