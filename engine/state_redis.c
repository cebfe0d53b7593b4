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
    char *node;
    int kind; /* 0 put, 1 del, 2 offset */
    char *key;
    size_t klen;
    char *val;
    size_t len;
    int64_t ttl_ms;
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
    struct op *ops;
    size_t n_ops, cap_ops;
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
    for (size_t i = 0; i < s->n_ops; i++) {
        vg_free(s->ops[i].node);
        vg_free(s->ops[i].key);
        vg_free(s->ops[i].val);
    }
    s->n_ops = 0;
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
    vg_free(s->ops);
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

static struct op *push(struct vg_state *s, const char *node, int32_t partition, int kind)
{
    if (s->n_ops == s->cap_ops) {
        s->cap_ops = s->cap_ops ? 2 * s->cap_ops : 256;
        s->ops = vg_xrealloc(s->ops, s->cap_ops * sizeof(*s->ops));
    }
    struct op *o = &s->ops[s->n_ops++];
    memset(o, 0, sizeof(*o));
    o->node = vg_xstrdup(node);
    o->partition = partition;
    o->kind = kind;
    return o;
}

void vg_state_put(struct vg_state *s, const char *node, int32_t partition, const char *key,
                  size_t klen, const void *val, size_t len, int64_t ttl_ms)
{
    struct op *o = push(s, node, partition, 0);
    o->key = vg_xstrndup(key, klen);
    o->klen = klen;
    o->val = vg_xmalloc(len ? len : 1);
    if (len)
        memcpy(o->val, val, len);
    o->len = len;
    o->ttl_ms = ttl_ms > 0 ? ttl_ms : 1;
}

void vg_state_del(struct vg_state *s, const char *node, int32_t partition, const char *key,
                  size_t klen)
{
    struct op *o = push(s, node, partition, 1);
    o->key = vg_xstrndup(key, klen);
    o->klen = klen;
}

void vg_state_offset(struct vg_state *s, const char *node, int32_t partition, const char *topic,
                     int64_t next_offset, vg_time_ms max_ts, int64_t ttl_ms)
{
    struct op *o = push(s, node, partition, 2);
    o->key = vg_xstrdup(topic);
    o->klen = strlen(topic);
    char buf[64];
    snprintf(buf, sizeof(buf), "%lld %lld", (long long)next_offset, (long long)max_ts);
    o->val = vg_xstrdup(buf);
    o->len = strlen(buf);
    o->ttl_ms = ttl_ms > 0 ? ttl_ms : 1;
}

static void prefix(struct vg_buf *b, const struct vg_state *s, const char *node, int32_t part)
{
    vg_buf_clear(b);
    vg_buf_printf(b, "vg:{%s:%s:%d}:", s->topology, node, (int)part);
}

static int cmp_op(const void *a, const void *b)
{
    const struct op *x = a, *y = b;
    if (x->partition != y->partition)
        return x->partition < y->partition ? -1 : 1;
    int r = strcmp(x->node, y->node);
    if (r)
        return r;
    return (x->kind == 2) - (y->kind == 2); /* offsets last within a group */
}

struct op_at {
    struct op o;
    size_t idx; /* queue order */
};

static int cmp_op_at(const void *a, const void *b)
{
    const struct op_at *x = a, *y = b;
    int r = cmp_op(&x->o, &y->o);
    if (r)
        return r;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

int vg_state_commit(struct vg_state *s, struct vg_err *err)
{
    if (s->n_ops == 0)
        return 0;
    if (!s->c) {
        drop_ops(s);
        return VG_ERR_SET(err, VG_EREDIS, "redis %s:%d: not connected", s->host, s->port);
    }
    /* group by (partition, node), offsets last; a stable sort keeps each group's puts and
     * deletes in the order they were queued */
    struct op_at *tmp = vg_xmalloc(s->n_ops * sizeof(*tmp));
    for (size_t i = 0; i < s->n_ops; i++) {
        tmp[i].o = s->ops[i];
        tmp[i].idx = i;
    }
    qsort(tmp, s->n_ops, sizeof(*tmp), cmp_op_at); /* stable through idx */
    struct vg_buf key;
    vg_buf_init(&key);
    size_t sent = 0;
    for (size_t i = 0; i < s->n_ops;) {
        size_t j = i;
        while (j < s->n_ops && tmp[j].o.partition == tmp[i].o.partition &&
               !strcmp(tmp[j].o.node, tmp[i].o.node))
            j++;
        redisAppendCommand(s->c, "MULTI");
        sent++;
        for (size_t k = i; k < j; k++) {
            const struct op *o = &tmp[k].o;
            prefix(&key, s, o->node, o->partition);
            if (o->kind == 2) {
                vg_buf_puts(&key, "@offsets");
                redisAppendCommand(s->c, "HSET %b %b %b", key.data, key.len, o->key, o->klen,
                                   o->val, o->len);
                redisAppendCommand(s->c, "PEXPIRE %b %lld", key.data, key.len,
                                   (long long)o->ttl_ms);
                sent += 2;
                continue;
            }
            vg_buf_append(&key, o->key, o->klen);
            if (o->kind == 0)
                redisAppendCommand(s->c, "SET %b %b PX %lld", key.data, key.len, o->val, o->len,
                                   (long long)o->ttl_ms);
            else
                redisAppendCommand(s->c, "DEL %b", key.data, key.len);
            sent++;
        }
        redisAppendCommand(s->c, "EXEC");
        sent++;
        i = j;
    }
    vg_buf_fini(&key);
    vg_free(tmp);
    drop_ops(s);
    s->commands += sent;
    int rc = 0;
    for (size_t i = 0; i < sent; i++) {
        redisReply *r = NULL;
        if (redisGetReply(s->c, (void **)&r) != REDIS_OK || !r) {
            rc = VG_ERR_SET(err, VG_EREDIS, "redis %s:%d: %s", s->host, s->port,
                            s->c->errstr[0] ? s->c->errstr : "connection lost");
            disconnect(s);
            return rc;
        }
        if (r->type == REDIS_REPLY_ERROR && !rc)
            rc = VG_ERR_SET(err, VG_EREDIS, "redis %s:%d: %s", s->host, s->port, r->str);
        if (r->type == REDIS_REPLY_NIL && !rc) /* EXEC aborted */
            rc = VG_ERR_SET(err, VG_EREDIS, "redis %s:%d: transaction aborted", s->host, s->port);
        freeReplyObject(r);
    }
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
            if (nlen == 8 && !memcmp(name, "@offsets", 8)) {
                const char *av[2] = {"HGETALL", k->str};
                size_t al[2] = {7, k->len};
                redisReply *h = cmd(s, err, 2, av, al);
                if (!h) {
                    rc = VG_EREDIS;
                    break;
                }
                for (size_t f = 0; h->type == REDIS_REPLY_ARRAY && f + 1 < h->elements; f += 2) {
                    long long off = 0, ts = 0;
                    if (sscanf(h->element[f + 1]->str, "%lld %lld", &off, &ts) == 2)
                        ocb(ud, h->element[f]->str, off, ts);
                }
                freeReplyObject(h);
                continue;
            }
            const char *av[2] = {"GET", k->str};
            size_t al[2] = {3, k->len};
            redisReply *v = cmd(s, err, 2, av, al);
            if (!v) {
                rc = VG_EREDIS;
                break;
            }
            if (v->type == REDIS_REPLY_STRING)
                rc = cb(ud, name, nlen, v->str, v->len);
            freeReplyObject(v);
        }
        freeReplyObject(r);
    } while (rc == 0 && strcmp(cursor, "0") != 0);
    vg_buf_fini(&pre);
    vg_buf_fini(&pat);
    return rc;
}
