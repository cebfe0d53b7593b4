/* SPDX-License-Identifier: Apache-2.0 */
/*
 * table.c - the `table` operator: rows looked up by key, not a stream.
 *
 * `table: redis` names a Redis hash per key (key_pattern, "{}" is the key); a join with the
 * table as its right side fetches rows on a cache miss (join.c keeps the cache, the engine
 * the connection: vg_op_ctx.lookup). A table has no input and no output of its own.
 * `table: kafka` names a compacted topic whose records are the rows (key: the row's key,
 * value: a JSON object, no value: deleted); the engine holds it in memory in every process
 * and keeps it current (engine/ktable.h), and joins read it without a cache of their own.
 *
 * Thread: create on main; the config is read by the joins' stream threads.
 */
#include "table.h"

#include "vg_op.h"

#include <string.h>

static const struct vg_key_spec table_keys[] = {
    {.name = "key_pattern", .type = VG_K_STRING, .defval = "<node>:{}",
     .doc = "redis: key of a row's hash, {} is the join key"},
    {.name = "cache_rows", .type = VG_K_INT, .min = 1, .max = 100000000, .defval = "100000",
     .doc = "redis: rows cached per join and stream thread (oldest dropped first)"},
    {.name = "cache_ttl", .type = VG_K_DURATION, .defval = "60s",
     .doc = "redis: a cached row, or its absence, is fetched again after this"},
    {.name = "topic", .type = VG_K_STRING, .doc = "kafka: the compacted topic (required)"},
    {.name = "format", .type = VG_K_ENUM, .enum_values = "json", .defval = "json",
     .doc = "kafka: record values are JSON objects"},
    {0},
};

size_t vg_table_key(const struct vg_table_conf *t, const char *key, size_t klen, char *out,
                    size_t cap)
{
    const char *at = strstr(t->key_pattern, "{}");
    size_t pre = at ? (size_t)(at - t->key_pattern) : strlen(t->key_pattern);
    const char *post = at ? at + 2 : "";
    size_t n = 0;
    for (size_t i = 0; i < pre && n + 1 < cap; i++)
        out[n++] = t->key_pattern[i];
    for (size_t i = 0; at && i < klen && n + 1 < cap; i++)
        out[n++] = key[i];
    for (size_t i = 0; post[i] && n + 1 < cap; i++)
        out[n++] = post[i];
    out[n] = '\0';
    return n;
}

static int table_create(const struct vg_node *node, struct vg_op_env *env, void **conf)
{
    bool kafka = !strcmp(node->op->str, "kafka");
    const char *topic = vg_node_str(node, "topic", NULL);
    static const char *const only[2][3] = {{"topic", "format", NULL},
                                           {"key_pattern", "cache_rows", "cache_ttl"}};
    for (int i = 0; i < 3; i++) { /* the other kind's keys */
        const char *k = only[kafka][i];
        const struct vg_ynode *y = k ? vg_ynode_get(node->body, k) : NULL;
        if (y) {
            vg_diag_add(env->diag, y->mark, NULL, "node '%s': %s: is for table: %s", node->name,
                        k, kafka ? "redis" : "kafka");
            return VG_ECONFIG;
        }
    }
    if (kafka && !topic) {
        vg_diag_add(env->diag, node->op->mark, NULL,
                    "node '%s': table: kafka needs topic: (a compacted topic)", node->name);
        return VG_ECONFIG;
    }
    struct vg_table_conf *t = vg_xcalloc(1, sizeof(*t));
    t->name = node->name;
    t->kafka = kafka;
    t->topic = topic;
    if (kafka) { /* rows are in memory: no cache in front of them */
        t->key_pattern = vg_xstrdup("{}");
        t->cache_rows = 1;
        *conf = t;
        env->out = NULL;
        return 0;
    }
    char def[300];
    snprintf(def, sizeof(def), "%s:{}", node->name);
    t->key_pattern = vg_xstrdup(vg_node_str(node, "key_pattern", def));
    t->cache_rows = (size_t)vg_node_int(node, "cache_rows", 100000);
    t->cache_ttl_ms = vg_node_duration_ms(node, "cache_ttl", 60000);
    if (!strstr(t->key_pattern, "{}")) {
        const struct vg_ynode *y = vg_ynode_get(node->body, "key_pattern");
        vg_diag_add(env->diag, y ? y->mark : node->mark, NULL,
                    "node '%s': key_pattern '%s' has no {} for the key", node->name,
                    t->key_pattern);
        vg_free((char *)t->key_pattern);
        vg_free(t);
        return VG_ECONFIG;
    }
    *conf = t;
    env->out = NULL;
    return 0;
}

static void table_destroy(void *conf)
{
    struct vg_table_conf *t = conf;
    if (!t)
        return;
    vg_free((char *)t->key_pattern);
    vg_free(t);
}

const struct vg_op_type vg_op_table = {
    .name = "table",
    .summary = "rows by key from Redis hashes or a compacted topic (the right side of a join)",
    .flags = VG_OP_TABLE,
    .keys = table_keys,
    .op_key_type = VG_K_ENUM,
    .op_key_values = "redis|kafka",
    .create = table_create,
    .destroy = table_destroy,
};
