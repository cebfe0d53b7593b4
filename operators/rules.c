/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rules.c - the `rules` operator: evaluates detection rules and emits alerts.
 *
 * Dataflow: any stream in; alerts out. Rules come inline (a list) or from a YAML file
 * (`rules: rules/auth.yaml`, a list or a mapping with a `rules` list). Each rule has an id,
 * title, severity, a `when` condition, optional `suppress` span and tags. Every match
 * becomes an alert event appended to the batch. The alert key is the node's `key:` fields,
 * else the key its input is grouped by (a window's `key:`, a join's `on`: compile.h), else
 * none. `suppress` holds back repeats per rule, key and partition, measured in the
 * partition's event time so a replay suppresses exactly as the live run did; what it holds
 * is operator state, saved with the source offsets it covers and restored with them
 * (state_save ... state_drop), so a restart or a move to another process changes no alert.
 *
 * DESIGN: rules are split at load time into VG_RULES_TASKS shards; each shard has an index
 * from (field, string literal) to the rules whose condition requires that field to equal
 * that literal (vg_expr_index_term), plus the list of rules it cannot index. A batch is
 * evaluated as one task per shard on the engine's rule pool (ctx->parallel); each task walks
 * the events in order and, per event, only the rules its index selects, so most rules are
 * skipped for most events. Each task records (event, rule) matches in order; the stream
 * thread merges them by (event position, rule number), so the alert order for a partition is
 * the same whatever the pool size. Suppression and alert building run on the stream thread.
 *
 * Suppression is per partition (the partition the matching event came through: for a rules
 * node after a window, the window's state partition) so that it moves with the partition
 * between threads and processes, and does not depend on which partitions a thread happens to
 * own: a key must keep to one partition for suppression to span the whole topic.
 *
 * Thread: create on main (shards and indexes are immutable, shared); open/process/close on a
 * stream thread; task bodies on pool threads, each touching only its own task state.
 */
#include "compile.h"
#include "vg_op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VG_RULES_TASKS 8
#define STATE_MARGIN_MS (10 * 60 * 1000) /* saved suppression outlives its span by this */
#define SUP_BUCKET "suppress"            /* the state store's hash of a partition's entries */
#define SUP_TIME "@time"                 /* its field holding the partition's event time */
#define SUP_KEY_MAX 1023                 /* longer keys are cut (rule id and key JSON) */

static const struct vg_key_spec rules_keys[] = {
    {.name = "input", .type = VG_K_INPUTS, .required = true, .doc = "upstream node(s)"},
    {.name = "key", .type = VG_K_STRLIST,
     .doc = "field(s) forming the alert key (default: the upstream window's or join's key)"},
    {0},
};

static const struct vg_key_spec rule_keys[] = {
    {.name = "id", .type = VG_K_STRING, .required = true, .doc = "unique rule id"},
    {.name = "title", .type = VG_K_STRING, .required = true, .doc = "one line for the alert"},
    {.name = "severity", .type = VG_K_ENUM, .required = true,
     .enum_values = "info|low|medium|high|critical", .doc = "alert severity"},
    {.name = "when", .type = VG_K_EXPR, .required = true, .doc = "the condition"},
    {.name = "suppress", .type = VG_K_DURATION,
     .doc = "at most one alert per rule and key in this span (event time)"},
    {.name = "tags", .type = VG_K_STRLIST, .doc = "labels copied into the alert"},
    {.name = "description", .type = VG_K_STRING, .doc = "free text"},
    {.name = "enabled", .type = VG_K_BOOL, .defval = "true", .doc = "false skips the rule"},
    {0},
};

struct rule {
    char *id;
    char *title;
    char *severity;
    char **tags;
    size_t n_tags;
    int64_t suppress_ms;
    struct vg_expr *when;
};

/* One bucket of a shard's index: a literal and the rules (ascending) that require it. */
struct bucket {
    uint64_t hash;
    const char *s;
    uint32_t len;
    uint32_t *rules;
    size_t n;
};

struct slot_index {
    int slot;
    struct bucket *tab;     /* open addressing, power-of-two size */
    size_t mask;
};

struct shard {
    uint32_t *always;       /* rules evaluated for every event, ascending */
    size_t n_always;
    struct slot_index *idx;
    size_t n_idx;
};

struct rules_conf {
    bool broken;                    /* create: a rule did not check */
    const struct vg_topology *topo;
    const struct vg_scope *in;
    struct rule *rules;
    size_t n_rules;
    /* the alert key: n_keys fields, each the first non-null of its n_alt slots (several only
     * after several inputs keyed alike: struct vg_stream_key) */
    int *key_slots;
    char **key_names;
    size_t n_keys, n_alt;
    bool suppress;                  /* a rule suppresses: the node keeps state */
    int64_t ttl_ms;                 /* of its saved state: longest span + lateness + margin */
    struct shard shards[VG_RULES_TASKS];
    struct vg_ynode *file_tree;     /* rules file, when rules come from one */
};

struct match {
    uint32_t pos;           /* position in the input selection */
    uint32_t rule;
};

struct task {
    struct vg_expr_ctx *expr;
    struct match *m;
    size_t n, cap;
    uint32_t *cand;         /* scratch for candidate rules of one event */
    size_t cand_cap;
};

/* Suppression of (rule, key) in one partition until event time `until`. */
struct sup_entry {
    char *key;              /* "<rule id>\x1f<key JSON>": the state store's field too */
    uint32_t klen;
    int32_t partition;
    uint64_t hash;          /* of key and partition: probes compare it first */
    vg_time_ms until;
    bool dirty;             /* changed since the last confirmed save */
    bool saved;             /* in the state store */
};

/* A partition's event time as this node sees it: the latest event time of a match. */
struct sup_part {
    int32_t partition;
    vg_time_ms time;        /* VG_TIME_NONE before the first */
    bool dirty;
};

struct sup_del {
    int32_t partition;
    char *key;
    uint32_t klen;
};

struct rules_state {
    const struct rules_conf *conf;
    struct task tasks[VG_RULES_TASKS];
    struct sup_entry *sup;          /* open addressing */
    size_t sup_n, sup_cap;
    struct sup_part *parts;
    size_t n_parts, cap_parts, last_part;
    struct sup_del *dels;           /* saved entries gone since the last confirmed save */
    size_t n_dels, cap_dels;
    struct vg_buf buf;
    /* per batch, read by tasks */
    const struct vg_batch *b;
    const struct vg_sel *in;
};

static uint64_t hash_bytes(const char *s, size_t n)
{
    return vg_hash_mem(s, n);
}

/* ---- load time ---- */

static void index_add(struct shard *sh, int slot, const struct vg_value *lit, uint32_t rule)
{
    struct slot_index *si = NULL;
    for (size_t i = 0; i < sh->n_idx; i++)
        if (sh->idx[i].slot == slot)
            si = &sh->idx[i];
    if (!si) {
        sh->idx = vg_xrealloc(sh->idx, (sh->n_idx + 1) * sizeof(*sh->idx));
        si = &sh->idx[sh->n_idx++];
        si->slot = slot;
        si->mask = 255;
        si->tab = vg_xcalloc(si->mask + 1, sizeof(*si->tab));
    }
    size_t used = 0;
    for (size_t i = 0; i <= si->mask; i++)
        used += si->tab[i].s != NULL;
    if ((used + 1) * 2 > si->mask + 1) { /* grow at half full */
        size_t old_mask = si->mask;
        struct bucket *old = si->tab;
        si->mask = old_mask * 2 + 1;
        si->tab = vg_xcalloc(si->mask + 1, sizeof(*si->tab));
        for (size_t i = 0; i <= old_mask; i++) {
            if (!old[i].s)
                continue;
            size_t j = old[i].hash & si->mask;
            while (si->tab[j].s)
                j = (j + 1) & si->mask;
            si->tab[j] = old[i];
        }
        vg_free(old);
    }
    uint64_t h = hash_bytes(lit->u.s, lit->len);
    size_t j = h & si->mask;
    while (si->tab[j].s &&
           !(si->tab[j].hash == h && si->tab[j].len == lit->len &&
             memcmp(si->tab[j].s, lit->u.s, lit->len) == 0))
        j = (j + 1) & si->mask;
    struct bucket *bk = &si->tab[j];
    if (!bk->s) {
        bk->hash = h;
        bk->s = lit->u.s;
        bk->len = lit->len;
    }
    if (bk->n && bk->rules[bk->n - 1] == rule)
        return; /* the same literal twice in one list */
    bk->rules = vg_xrealloc(bk->rules, (bk->n + 1) * sizeof(*bk->rules));
    bk->rules[bk->n++] = rule;
}

static void build_shards(struct rules_conf *rc)
{
    for (uint32_t r = 0; r < rc->n_rules; r++) {
        struct shard *sh = &rc->shards[r % VG_RULES_TASKS];
        int slot;
        const struct vg_value *lits;
        size_t n_lits;
        if (vg_expr_index_term(rc->rules[r].when, &slot, &lits, &n_lits) && n_lits > 0) {
            for (size_t k = 0; k < n_lits; k++)
                index_add(sh, slot, &lits[k], r);
        } else {
            sh->always = vg_xrealloc(sh->always, (sh->n_always + 1) * sizeof(uint32_t));
            sh->always[sh->n_always++] = r;
        }
    }
}

static char *scalar_dup(const struct vg_ynode *y)
{
    return vg_xstrdup(y && y->type == VG_Y_SCALAR ? y->str : "");
}

static bool load_rule(struct rules_conf *rc, const struct vg_ynode *y, struct vg_op_env *env,
                      const struct vg_node *node)
{
    char what[256];
    const struct vg_ynode *id = vg_ynode_get(y, "id");
    if (id && id->type == VG_Y_SCALAR)
        snprintf(what, sizeof(what), "node '%s': rule '%s'", node->name, id->str);
    else
        snprintf(what, sizeof(what), "node '%s': rule %zu", node->name, rc->n_rules + 1);
    if (y->type != VG_Y_MAP) {
        vg_diag_add(env->diag, y->mark, NULL, "%s: expected a mapping with id, title, severity, when",
                    what);
        return false;
    }
    if (!vg_keys_check(y, rule_keys, NULL, what, env->diag))
        return false;
    const struct vg_ynode *en = vg_ynode_get(y, "enabled");
    if (en && strcmp(en->str, "false") == 0)
        return true;
    for (size_t i = 0; i < rc->n_rules; i++)
        if (strcmp(rc->rules[i].id, id->str) == 0) {
            vg_diag_add(env->diag, id->mark, NULL, "node '%s': duplicate rule id '%s'",
                        node->name, id->str);
            return false;
        }
    const struct vg_ynode *sup = vg_ynode_get(y, "suppress");
    bool no_store = sup && !vg_ynode_get(env->topo->root, "redis");
    if (no_store) /* in memory only, a restart would forget what was suppressed: alerts again */
        vg_diag_add(env->diag, sup->mark, "redis: {url: 'redis://127.0.0.1:6379/0'}",
                    "%s: key 'suppress' needs a top-level 'redis:': what was suppressed is "
                    "state, kept in Redis so that a restart changes no alert", what);
    struct vg_expr *when = vg_op_env_expr(env, vg_ynode_get(y, "when"), VG_EXPR_BOOL);
    if (!when || no_store) {
        vg_expr_free(when);
        return false;
    }
    rc->rules = vg_xrealloc(rc->rules, (rc->n_rules + 1) * sizeof(*rc->rules));
    struct rule *r = &rc->rules[rc->n_rules++];
    memset(r, 0, sizeof(*r));
    r->id = scalar_dup(id);
    r->title = scalar_dup(vg_ynode_get(y, "title"));
    r->severity = scalar_dup(vg_ynode_get(y, "severity"));
    r->when = when;
    if (sup)
        vg_duration_parse(sup->str, sup->len, &r->suppress_ms);
    const struct vg_ynode *tags = vg_ynode_get(y, "tags");
    if (tags) {
        size_t n = tags->type == VG_Y_SEQ ? tags->n : 1;
        r->tags = vg_xcalloc(n, sizeof(char *));
        for (size_t i = 0; i < n; i++)
            r->tags[i] = scalar_dup(tags->type == VG_Y_SEQ ? tags->items[i] : tags);
        r->n_tags = n;
    }
    return true;
}

/* The largest `lateness` of the sources upstream of node. */
static int64_t max_lateness(const struct vg_node *node)
{
    if (node->type && (node->type->flags & VG_OP_SOURCE))
        return vg_node_duration_ms(node, "lateness", 0);
    int64_t m = 0;
    for (size_t i = 0; i < node->n_inputs; i++)
        m = VG_MAX(m, max_lateness(node->inputs[i]));
    return m;
}

static void rules_destroy(void *conf);

static int rules_create(const struct vg_node *node, struct vg_op_env *env, void **confp)
{
    struct rules_conf *rc = vg_xcalloc(1, sizeof(*rc));
    rc->topo = env->topo;
    rc->in = env->in;
    const struct vg_ynode *list = node->op;
    bool ok = true;
    if (list->type == VG_Y_SCALAR) { /* a rules file */
        char *path = vg_compile_find_file(env->topo, list->str);
        if (!path) {
            vg_diag_add(env->diag, list->mark, NULL, "node '%s': rules file '%s' not found",
                        node->name, list->str);
            ok = false;
        } else {
            rc->file_tree = vg_yaml_load(path, env->diag);
            vg_free(path);
            list = rc->file_tree;
            if (list && list->type == VG_Y_MAP)
                list = vg_ynode_get(list, "rules");
            if (!list || list->type != VG_Y_SEQ) {
                if (rc->file_tree)
                    vg_diag_add(env->diag, rc->file_tree->mark, NULL,
                                "rules file: expected a list of rules or a 'rules' list");
                ok = false;
            }
        }
    } else if (list->type != VG_Y_SEQ) {
        vg_diag_add(env->diag, list->mark, NULL,
                    "node '%s': key 'rules': expected a list of rules or a rules file path",
                    node->name);
        ok = false;
    }
    for (size_t i = 0; ok && list && i < list->n; i++)
        if (!load_rule(rc, list->items[i], env, node))
            rc->broken = true; /* keep checking the other rules */
    ok = ok && !rc->broken;
    const struct vg_ynode *key = vg_ynode_get(node->body, "key");
    const struct vg_stream_key *up = vg_compile_in_key(env);
    rc->n_alt = 1;
    if (key) {
        size_t n = key->type == VG_Y_SEQ ? key->n : 1;
        rc->key_slots = vg_xcalloc(n, sizeof(int));
        rc->key_names = vg_xcalloc(n, sizeof(char *));
        rc->n_keys = n;
        for (size_t i = 0; i < n; i++) {
            const struct vg_ynode *k = key->type == VG_Y_SEQ ? key->items[i] : key;
            rc->key_names[i] = scalar_dup(k);
            if ((rc->key_slots[i] = vg_compile_resolve(env, k->str, k)) < 0)
                ok = false;
        }
    } else if (up && up->mixed) {
        vg_diag_add(env->diag, node->mark,
                    "name the alert key with key:, or give each input a rules node of its own",
                    "node '%s': its inputs are keyed differently (%s), and an alert has one key",
                    node->name, up->why);
        ok = false;
    } else if (up && up->n > 0) { /* after a window or a join: its key */
        rc->n_keys = up->n;
        rc->n_alt = up->n_alt;
        rc->key_names = vg_xcalloc(up->n, sizeof(char *));
        rc->key_slots = vg_xcalloc(up->n * up->n_alt, sizeof(int));
        for (size_t i = 0; i < up->n; i++)
            rc->key_names[i] = vg_xstrdup(up->names[i]);
        memcpy(rc->key_slots, up->slots, up->n * up->n_alt * sizeof(int));
    }
    if (!ok) {
        rules_destroy(rc);
        return VG_ECONFIG;
    }
    int64_t longest = 0;
    for (size_t i = 0; i < rc->n_rules; i++)
        longest = VG_MAX(longest, rc->rules[i].suppress_ms);
    rc->suppress = longest > 0;
    rc->ttl_ms = longest + max_lateness(node) + STATE_MARGIN_MS;
    env->stateful = rc->suppress;
    build_shards(rc);
    vg_compile_alert_scope(env);
    *confp = rc;
    return 0;
}

/* ---- run time ---- */

static int rules_open(const void *conf, struct vg_op_ctx *ctx, void **stp)
{
    (void)ctx;
    struct rules_state *st = vg_xcalloc(1, sizeof(*st));
    st->conf = conf;
    for (size_t i = 0; i < VG_RULES_TASKS; i++)
        st->tasks[i].expr = vg_expr_ctx_new();
    vg_buf_init(&st->buf);
    *stp = st;
    return 0;
}

static const struct bucket *index_find(const struct slot_index *si, const struct vg_value *v)
{
    uint64_t h = hash_bytes(v->u.s, v->len);
    for (size_t j = h & si->mask; si->tab[j].s; j = (j + 1) & si->mask)
        if (si->tab[j].hash == h && si->tab[j].len == v->len &&
            memcmp(si->tab[j].s, v->u.s, v->len) == 0)
            return &si->tab[j];
    return NULL;
}

static void task_match(struct task *t, uint32_t pos, uint32_t rule)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 256;
        t->m = vg_xrealloc(t->m, t->cap * sizeof(*t->m));
    }
    t->m[t->n++] = (struct match){pos, rule};
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* One shard over the whole input selection. Runs on a pool thread. */
static void run_shard(void *arg, size_t i)
{
    struct rules_state *st = arg;
    const struct rules_conf *rc = st->conf;
    const struct shard *sh = &rc->shards[i];
    struct task *t = &st->tasks[i];
    t->n = 0;
    if (sh->n_always == 0 && sh->n_idx == 0)
        return;
    for (uint32_t pos = 0; pos < st->in->n; pos++) {
        const struct vg_value *slots = st->b->ev[st->in->idx[pos]].slots;
        size_t nc = 0;
        for (size_t k = 0; k < sh->n_idx; k++) {
            const struct vg_value *v = &slots[sh->idx[k].slot];
            if (v->type != VG_T_STR)
                continue;
            const struct bucket *bk = index_find(&sh->idx[k], v);
            if (!bk)
                continue;
            if (t->cand_cap < nc + bk->n) {
                t->cand_cap = (nc + bk->n) * 2;
                t->cand = vg_xrealloc(t->cand, t->cand_cap * sizeof(uint32_t));
            }
            memcpy(t->cand + nc, bk->rules, bk->n * sizeof(uint32_t));
            nc += bk->n;
        }
        if (nc > 1)
            qsort(t->cand, nc, sizeof(uint32_t), cmp_u32);
        /* merge the always-list and the candidates, both ascending */
        size_t a = 0, c = 0;
        while (a < sh->n_always || c < nc) {
            uint32_t r;
            if (c >= nc || (a < sh->n_always && sh->always[a] < t->cand[c]))
                r = sh->always[a++];
            else
                r = t->cand[c++];
            if (vg_expr_test(rc->rules[r].when, slots, t->expr))
                task_match(t, pos, r);
        }
        vg_expr_ctx_reset(t->expr);
    }
}

/* ---- suppression ----
 * An entry (rule, key, partition) suppresses the rule's alerts of that key from that partition
 * while `until` (its last alert's event time + the span) is later than the partition's event
 * time: the latest event time of a match this node saw from the partition. In order that is
 * "less than the span after the last alert"; an entry whose span has passed in its partition's
 * time can never suppress again, so when it is dropped (at a rehash, at a save) changes nothing,
 * and the alerts of a partition depend only on its events and the state restored with it. */

static uint64_t sup_hash(const char *key, size_t klen, int32_t partition)
{
    return hash_bytes(key, klen) ^ ((uint64_t)(uint32_t)partition * 0x9e3779b97f4a7c15ull);
}

static struct sup_part *part_get(struct rules_state *st, int32_t partition)
{
    if (st->last_part < st->n_parts && st->parts[st->last_part].partition == partition)
        return &st->parts[st->last_part];
    for (size_t i = 0; i < st->n_parts; i++)
        if (st->parts[i].partition == partition) {
            st->last_part = i;
            return &st->parts[i];
        }
    if (st->n_parts == st->cap_parts) {
        st->cap_parts = st->cap_parts ? 2 * st->cap_parts : 16;
        st->parts = vg_xrealloc(st->parts, st->cap_parts * sizeof(*st->parts));
    }
    st->parts[st->n_parts] = (struct sup_part){partition, VG_TIME_NONE, false};
    st->last_part = st->n_parts;
    return &st->parts[st->n_parts++];
}

static bool sup_expired(struct rules_state *st, const struct sup_entry *e)
{
    vg_time_ms t = part_get(st, e->partition)->time;
    return t != VG_TIME_NONE && e->until <= t;
}

/* The saved entry (partition, key) is to be deleted at the next save. Takes key. */
static void sup_del_take(struct rules_state *st, int32_t partition, char *key, size_t klen)
{
    if (st->n_dels == st->cap_dels) {
        st->cap_dels = st->cap_dels ? 2 * st->cap_dels : 64;
        st->dels = vg_xrealloc(st->dels, st->cap_dels * sizeof(*st->dels));
    }
    st->dels[st->n_dels++] = (struct sup_del){partition, key, (uint32_t)klen};
}

enum sup_keep { SUP_KEEP_LIVE, SUP_KEEP_OTHER_PARTITIONS };

/* Rebuild the table at a size that follows what it keeps: for SUP_KEEP_LIVE the entries that
 * can still suppress (a saved one that cannot is deleted at the next save), for
 * SUP_KEEP_OTHER_PARTITIONS those not of `partition` (revoked: its saved entries stay in the
 * store for its next owner). */
static void sup_rebuild(struct rules_state *st, enum sup_keep keep, int32_t partition)
{
    size_t old_cap = st->sup_cap, live = 0;
    struct sup_entry *old = st->sup;
    for (size_t i = 0; i < old_cap; i++)
        live += old[i].key != NULL;
    st->sup_cap = 1024;
    while (st->sup_cap < 4 * (live + 1))
        st->sup_cap *= 2;
    st->sup = vg_xcalloc(st->sup_cap, sizeof(*st->sup));
    st->sup_n = 0;
    for (size_t i = 0; i < old_cap; i++) {
        struct sup_entry *e = &old[i];
        if (!e->key)
            continue;
        bool gone = keep == SUP_KEEP_LIVE ? sup_expired(st, e) : e->partition == partition;
        if (gone) {
            if (keep == SUP_KEEP_LIVE && e->saved)
                sup_del_take(st, e->partition, e->key, e->klen);
            else
                vg_free(e->key);
            continue;
        }
        size_t j = e->hash & (st->sup_cap - 1);
        while (st->sup[j].key)
            j = (j + 1) & (st->sup_cap - 1);
        st->sup[j] = *e;
        st->sup_n++;
    }
    vg_free(old);
}

/* The entry of (partition, key), added (until VG_TIME_NONE) when missing. */
static struct sup_entry *sup_get(struct rules_state *st, int32_t partition, const char *key,
                                 size_t klen)
{
    if (st->sup_n * 2 >= st->sup_cap)
        sup_rebuild(st, SUP_KEEP_LIVE, 0); /* entries seen once long ago hold no memory */
    uint64_t h = sup_hash(key, klen, partition);
    size_t j = h & (st->sup_cap - 1);
    for (; st->sup[j].key; j = (j + 1) & (st->sup_cap - 1)) {
        struct sup_entry *e = &st->sup[j];
        if (e->hash == h && e->partition == partition && e->klen == klen &&
            !memcmp(e->key, key, klen))
            return e;
    }
    struct sup_entry *e = &st->sup[j];
    *e = (struct sup_entry){vg_xstrndup(key, klen), (uint32_t)klen, partition, h, VG_TIME_NONE,
                            false, false};
    st->sup_n++;
    return e;
}

/* The entry name of rule r and the alert key (JSON): "<rule id>\x1f<key>", cut to
 * SUP_KEY_MAX bytes, in st->buf. */
static void sup_key(struct rules_state *st, const struct rule *r, const char *key_json)
{
    struct vg_buf *kb = &st->buf; /* make_alert is done with it */
    vg_buf_clear(kb);
    vg_buf_append(kb, r->id, strnlen(r->id, SUP_KEY_MAX / 2));
    vg_buf_putc(kb, '\x1f');
    vg_buf_append(kb, key_json, strnlen(key_json, SUP_KEY_MAX - kb->len));
}

/* True when rule r's alert with key_json at event time ts from partition pp is suppressed
 * (pp->time already counts ts); else the alert goes out and suppresses the span after it. */
static bool suppressed(struct rules_state *st, const struct rule *r, const char *key_json,
                       const struct sup_part *pp, vg_time_ms ts)
{
    int32_t partition = pp->partition; /* (pp moves when sup_get adds a partition) */
    vg_time_ms now = pp->time;
    sup_key(st, r, key_json);
    struct sup_entry *e = sup_get(st, partition, st->buf.data, st->buf.len);
    if (e->until != VG_TIME_NONE && e->until > now)
        return true;
    e->until = ts + r->suppress_ms;
    e->dirty = true;
    return false;
}

/* Parse a state value: a decimal integer. */
static bool parse_time(const char *s, size_t len, vg_time_ms *out)
{
    if (len == 0 || len > 20)
        return false;
    char buf[24];
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    long long v = strtoll(buf, &end, 10);
    if (*end || end == buf)
        return false;
    *out = v;
    return true;
}

/* State store layout (engine state.h): per partition one hash, bucket "suppress", with a field
 * per entry, "<rule id>\x1f<key JSON>" = until (decimal epoch ms), and "@time" = the
 * partition's event time, in the same MULTI/EXEC as the offsets they cover. Expired entries
 * are deleted as they are dropped; the hash's TTL (longest span + lateness + 10 minutes after
 * the last write) clears what a crash left behind. */
static int rules_state_save(void *stp, struct vg_state_out *out, bool all)
{
    struct rules_state *st = stp;
    const struct rules_conf *rc = st->conf;
    char num[32];
    bool moved = all; /* entries expire only when their partition's time moves */
    for (size_t i = 0; i < st->n_parts; i++)
        moved |= st->parts[i].dirty;
    if (st->sup_n && moved)
        sup_rebuild(st, SUP_KEEP_LIVE, 0); /* what expired goes from the store too */
    for (size_t i = 0; i < st->n_dels; i++)
        out->del(out, st->dels[i].partition, SUP_BUCKET, st->dels[i].key, st->dels[i].klen);
    for (size_t i = 0; i < st->sup_cap; i++) {
        const struct sup_entry *e = &st->sup[i];
        if (!e->key || !(e->dirty || all))
            continue;
        int n = snprintf(num, sizeof(num), "%lld", (long long)e->until);
        out->put(out, e->partition, SUP_BUCKET, e->key, e->klen, num, (size_t)n, rc->ttl_ms);
    }
    for (size_t i = 0; i < st->n_parts; i++) {
        const struct sup_part *pp = &st->parts[i];
        if (pp->time == VG_TIME_NONE || !(pp->dirty || all))
            continue;
        int n = snprintf(num, sizeof(num), "%lld", (long long)pp->time);
        out->put(out, pp->partition, SUP_BUCKET, SUP_TIME, strlen(SUP_TIME), num, (size_t)n,
                 rc->ttl_ms);
    }
    return 0;
}

static void rules_state_saved(void *stp)
{
    struct rules_state *st = stp;
    for (size_t i = 0; i < st->n_dels; i++)
        vg_free(st->dels[i].key);
    st->n_dels = 0;
    for (size_t i = 0; i < st->sup_cap; i++)
        if (st->sup[i].key && st->sup[i].dirty) {
            st->sup[i].dirty = false;
            st->sup[i].saved = true;
        }
    for (size_t i = 0; i < st->n_parts; i++)
        st->parts[i].dirty = false;
}

static int rules_state_load(void *stp, int32_t partition, const char *key, size_t klen,
                            const char *val, size_t len)
{
    struct rules_state *st = stp;
    const struct rules_conf *rc = st->conf;
    vg_time_ms v;
    if (!parse_time(val, len, &v))
        return VG_EINVAL;
    struct sup_part *pp = part_get(st, partition);
    if (klen == strlen(SUP_TIME) && !memcmp(key, SUP_TIME, klen)) {
        if (pp->time == VG_TIME_NONE || v > pp->time)
            pp->time = v;
        return 0;
    }
    const char *sep = memchr(key, '\x1f', klen);
    if (!sep)
        return VG_EINVAL;
    bool suppressing = false; /* its rule is still here and still suppresses */
    for (size_t r = 0; r < rc->n_rules && !suppressing; r++)
        suppressing = rc->rules[r].suppress_ms > 0 &&
                      strlen(rc->rules[r].id) == (size_t)(sep - key) &&
                      !memcmp(rc->rules[r].id, key, (size_t)(sep - key));
    if (!suppressing || (pp->time != VG_TIME_NONE && v <= pp->time)) {
        sup_del_take(st, partition, vg_xstrndup(key, klen), klen); /* dropped */
        return 0;
    }
    struct sup_entry *e = sup_get(st, partition, key, klen);
    if (e->until == VG_TIME_NONE || v > e->until)
        e->until = v;
    e->saved = true;
    return 0;
}

static void rules_state_drop(void *stp, int32_t partition)
{
    struct rules_state *st = stp;
    if (st->sup_cap)
        sup_rebuild(st, SUP_KEEP_OTHER_PARTITIONS, partition);
    size_t kept = 0; /* what was to be deleted stays for the next owner, as saved */
    for (size_t i = 0; i < st->n_dels; i++) {
        if (st->dels[i].partition == partition)
            vg_free(st->dels[i].key);
        else
            st->dels[kept++] = st->dels[i];
    }
    st->n_dels = kept;
    for (size_t i = 0; i < st->n_parts; i++)
        if (st->parts[i].partition == partition) {
            st->parts[i] = st->parts[--st->n_parts];
            break;
        }
    st->last_part = 0;
}

static const char *arena_copy(struct vg_batch *b, const struct vg_buf *buf, size_t from)
{
    return vg_arena_strndup(&b->arena, buf->data + from, buf->len - from);
}

/* Key field k of ev: the first of its slots with a value (null when none has one). */
static const struct vg_value *key_value(const struct rules_conf *rc, const struct vg_event *ev,
                                        size_t k)
{
    const int *alt = &rc->key_slots[k * rc->n_alt];
    for (size_t a = 0; a + 1 < rc->n_alt; a++)
        if (ev->slots[alt[a]].type != VG_T_NULL)
            return &ev->slots[alt[a]];
    return &ev->slots[alt[rc->n_alt - 1]];
}

static void make_alert(struct rules_state *st, struct vg_batch *b, uint32_t src_idx,
                       const struct rule *r, struct vg_alert *a)
{
    const struct rules_conf *rc = st->conf;
    const struct vg_event *ev = &b->ev[src_idx];
    struct vg_buf *buf = &st->buf;
    vg_buf_clear(buf);
    /* key as text, then as JSON */
    for (size_t k = 0; k < rc->n_keys; k++) {
        if (k)
            vg_buf_putc(buf, ',');
        vg_value_text(buf, key_value(rc, ev, k));
    }
    a->key_text = arena_copy(b, buf, 0);
    vg_buf_clear(buf);
    if (rc->n_keys == 0) {
        vg_buf_puts(buf, "null");
    } else if (rc->n_keys == 1) {
        size_t at = buf->len;
        vg_value_text(buf, key_value(rc, ev, 0));
        char *text = vg_xstrndup(buf->data + at, buf->len - at);
        buf->len = at;
        vg_buf_json_str(buf, text, strlen(text));
        vg_free(text);
    } else {
        vg_buf_putc(buf, '{');
        for (size_t k = 0; k < rc->n_keys; k++) {
            if (k)
                vg_buf_putc(buf, ',');
            vg_buf_json_str(buf, rc->key_names[k], strlen(rc->key_names[k]));
            vg_buf_putc(buf, ':');
            size_t at = buf->len;
            vg_value_text(buf, key_value(rc, ev, k));
            char *text = vg_xstrndup(buf->data + at, buf->len - at);
            buf->len = at;
            vg_buf_json_str(buf, text, strlen(text));
            vg_free(text);
        }
        vg_buf_putc(buf, '}');
    }
    a->key_json = arena_copy(b, buf, 0);
    vg_buf_clear(buf);
    if (vg_scope_write_json(rc->in, ev, buf)) {
        a->fields_json = arena_copy(b, buf, 0);
        a->fields_len = buf->len;
    } else if (ev->fields_fn) {
        vg_event_fields(ev, buf);
        a->fields_json = arena_copy(b, buf, 0);
        a->fields_len = buf->len;
    } else if (ev->fields_json) {
        a->fields_json = ev->fields_json;
        a->fields_len = ev->fields_len;
    } else {
        a->fields_json = ev->payload;
        a->fields_len = ev->len;
    }
    a->rule_id = r->id;
    a->title = r->title;
    a->severity = r->severity;
    a->tags = (const char *const *)r->tags;
    a->n_tags = r->n_tags;
    a->topology = rc->topo->name;
    a->window_start = ev->windowed ? ev->win_start : -1;
    a->window_end = ev->windowed ? ev->win_end : -1;
    a->event_time = ev->ts;
    a->detected_at = vg_now_ms();
    a->src_topic = ev->origin_topic ? ev->origin_topic : ev->topic; /* the source record */
    a->src_partition = ev->origin_topic ? ev->origin_partition : ev->partition;
    a->src_offset = ev->origin_topic ? ev->origin_offset : ev->offset;
    a->src_ident = ev->ident;
    a->latency_ms = a->detected_at - ev->append_ms;
    vg_alert_id(a, a->alert_id);
}

static int rules_process(void *stp, struct vg_batch *b, const struct vg_sel *in,
                         struct vg_sel *out, struct vg_op_ctx *ctx)
{
    struct rules_state *st = stp;
    const struct rules_conf *rc = st->conf;
    if (in->n == 0)
        return 0;
    st->b = b;
    st->in = in;
    if (rc->n_rules < VG_RULES_TASKS) {
        /* shards 0 .. n_rules-1 hold one rule each: too little to hand over to other
         * threads (the hand-off, and the batch travelling to another core, cost more) */
        for (size_t i = 0; i < VG_RULES_TASKS; i++)
            run_shard(st, i);
    } else {
        ctx->parallel(ctx, run_shard, st, VG_RULES_TASKS);
    }
    /* merge the tasks' ordered match lists by (position, rule) */
    size_t head[VG_RULES_TASKS] = {0};
    for (;;) {
        int best = -1;
        for (int t = 0; t < VG_RULES_TASKS; t++) {
            if (head[t] >= st->tasks[t].n)
                continue;
            const struct match *m = &st->tasks[t].m[head[t]];
            if (best < 0)
                best = t;
            else {
                const struct match *bm = &st->tasks[best].m[head[best]];
                if (m->pos < bm->pos || (m->pos == bm->pos && m->rule < bm->rule))
                    best = t;
            }
        }
        if (best < 0)
            break;
        struct match m = st->tasks[best].m[head[best]++];
        const struct rule *r = &rc->rules[m.rule];
        uint32_t src_idx = in->idx[m.pos];
        const struct vg_event *ev = &b->ev[src_idx];
        struct sup_part *pp = NULL;
        if (rc->suppress) { /* the partition's event time: every match counts */
            pp = part_get(st, ev->partition);
            if (pp->time == VG_TIME_NONE || ev->ts > pp->time) {
                pp->time = ev->ts;
                pp->dirty = true;
            }
        }
        struct vg_alert *a = vg_arena_alloc(&b->arena, sizeof(*a));
        memset(a, 0, sizeof(*a));
        make_alert(st, b, src_idx, r, a);
        a->replay = ctx->replay;
        if (r->suppress_ms > 0 && suppressed(st, r, a->key_json, pp, ev->ts))
            continue;
        uint32_t idx = vg_batch_add(b);
        struct vg_event *src = &b->ev[src_idx], *al = &b->ev[idx];
        *al = *src; /* keeps the source position, times and payload for sinks and commits */
        al->alert = a;
        vg_sel_push(b, out, idx);
    }
    return 0;
}

static void rules_close(void *stp)
{
    struct rules_state *st = stp;
    if (!st)
        return;
    for (size_t i = 0; i < VG_RULES_TASKS; i++) {
        vg_expr_ctx_free(st->tasks[i].expr);
        vg_free(st->tasks[i].m);
        vg_free(st->tasks[i].cand);
    }
    for (size_t i = 0; i < st->sup_cap; i++)
        vg_free(st->sup[i].key);
    vg_free(st->sup);
    for (size_t i = 0; i < st->n_dels; i++)
        vg_free(st->dels[i].key);
    vg_free(st->dels);
    vg_free(st->parts);
    vg_buf_fini(&st->buf);
    vg_free(st);
}

static void rules_destroy(void *conf)
{
    struct rules_conf *rc = conf;
    if (!rc)
        return;
    for (size_t i = 0; i < rc->n_rules; i++) {
        struct rule *r = &rc->rules[i];
        vg_free(r->id);
        vg_free(r->title);
        vg_free(r->severity);
        for (size_t k = 0; k < r->n_tags; k++)
            vg_free(r->tags[k]);
        vg_free(r->tags);
        vg_expr_free(r->when);
    }
    vg_free(rc->rules);
    for (size_t k = 0; k < rc->n_keys; k++)
        vg_free(rc->key_names[k]);
    vg_free(rc->key_names);
    vg_free(rc->key_slots);
    for (size_t s = 0; s < VG_RULES_TASKS; s++) {
        struct shard *sh = &rc->shards[s];
        vg_free(sh->always);
        for (size_t k = 0; k < sh->n_idx; k++) {
            for (size_t j = 0; j <= sh->idx[k].mask; j++)
                vg_free(sh->idx[k].tab[j].rules);
            vg_free(sh->idx[k].tab);
        }
        vg_free(sh->idx);
    }
    vg_ynode_free(rc->file_tree);
    vg_free(rc);
}

/* No rule can match a record whose integer `slot` is below the smallest floor any rule's
 * condition puts on it (none when one rule puts none). */
static bool rules_input_floor(const void *confp, int slot, int64_t *floor)
{
    const struct rules_conf *rc = confp;
    if (!rc->n_rules)
        return false;
    for (size_t i = 0; i < rc->n_rules; i++) {
        int64_t f;
        if (!rc->rules[i].when || !vg_expr_floor(rc->rules[i].when, slot, &f))
            return false;
        *floor = i == 0 ? f : VG_MIN(*floor, f);
    }
    return true;
}

const struct vg_op_type vg_op_rules = {
    .name = "rules",
    .summary = "evaluate detection rules and emit alerts",
    .flags = VG_OP_STATELESS,
    .keys = rules_keys,
    .op_key_type = VG_K_ANY,
    .create = rules_create,
    .open = rules_open,
    .process = rules_process,
    .input_floor = rules_input_floor,
    .close = rules_close,
    .destroy = rules_destroy,
    .state_save = rules_state_save,
    .state_saved = rules_state_saved,
    .state_load = rules_state_load,
    .state_drop = rules_state_drop,
};
