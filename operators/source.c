/* SPDX-License-Identifier: Apache-2.0 */
/*
 * source.c - the `source` operator: turns polled Kafka records into events.
 *
 * Dataflow: the runtime polls records from the source's topic into a batch (payload,
 * position, Kafka timestamp) and hands this operator the indices of the records polled for
 * it; it decodes the fields the topology uses (JSON or Avro) into the event's slots, sets the
 * event time, and passes the good events on. An oversize, undecodable or time-less record is
 * sent to the dead-letter output with its reason and goes no further.
 *
 * Thread: create on main; open/process/close on a stream thread, which owns the decoder.
 */
#include "compile.h"
#include "vg_op.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const struct vg_key_spec source_keys[] = {
    {.name = "topic", .type = VG_K_STRING, .doc = "kafka: the topic to consume (required)"},
    {.name = "format", .type = VG_K_ENUM, .enum_values = "json|avro", .defval = "json",
     .doc = "record format"},
    {.name = "schema", .type = VG_K_STRING,
     .doc = "Avro schema file (.avsc), required for avro; for json it declares the fields"},
    {.name = "fields", .type = VG_K_STRLIST,
     .doc = "json: the field paths events carry; expressions may use only these"},
    {.name = "time", .type = VG_K_STRING,
     .doc = "event-time field (epoch number or RFC 3339 string); absent: Kafka timestamp"},
    {.name = "time_unit", .type = VG_K_ENUM, .enum_values = "s|ms|us|ns", .defval = "ms",
     .doc = "unit of a numeric time field"},
    {.name = "lateness", .type = VG_K_DURATION, .defval = "0s",
     .doc = "allowed out-of-orderness of event time"},
    {.name = "idle_timeout", .type = VG_K_DURATION, .defval = "30s",
     .doc = "a partition idle this long stops holding event time back"},
    {.name = "start", .type = VG_K_ENUM, .enum_values = "earliest|latest", .defval = "earliest",
     .doc = "where a new consumer group begins"},
    {.name = "dead_letter", .type = VG_K_STRING,
     .doc = "topic for undecodable, oversize or late events (reason in headers)"},
    {.name = "max_event_bytes", .type = VG_K_INT, .min = 1, .max = 64 * 1024 * 1024,
     .defval = "1048576", .doc = "larger records are dead letters"},
    {.name = "partitioned_by", .type = VG_K_STRLIST,
     .doc = "fields the topic is already partitioned by"},
    {0},
};

/* ---- implementation ---- */

enum time_unit { UNIT_S, UNIT_MS, UNIT_US, UNIT_NS };

struct source_conf {
    const struct vg_compiled *compiled;
    int source_id;
    bool avro;
    struct vg_avro_schema *schema;
    char **declared;                /* `fields`, NULL-terminated copy, or NULL */
    size_t n_declared;
    int time_slot;                  /* -1: Kafka timestamp */
    const char *time_field;
    enum time_unit unit;
    int64_t max_event_bytes;
};

struct source_state {
    const struct source_conf *conf;
    struct vg_json_parser *json;
    struct vg_avro_decoder *avro;
    struct vg_buf scratch;
};

static void source_destroy(void *conf);

static int source_create(const struct vg_node *node, struct vg_op_env *env, void **confp)
{
    const char *kind = node->op->str;
    if (strcmp(kind, "kafka") != 0) {
        vg_diag_add(env->diag, node->op->mark, NULL,
                    "node '%s': source '%s' is not supported yet (use kafka)", node->name, kind);
        return VG_ECONFIG;
    }
    const char *topic = vg_node_str(node, "topic", NULL);
    if (!topic) {
        vg_diag_add(env->diag, node->mark, NULL,
                    "node '%s': missing required key 'topic' (a kafka source reads a topic)",
                    node->name);
        return VG_ECONFIG;
    }
    struct source_conf *sc = vg_xcalloc(1, sizeof(*sc));
    sc->compiled = env->compiled;
    sc->avro = strcmp(vg_node_str(node, "format", "json"), "avro") == 0;
    sc->max_event_bytes = vg_node_int(node, "max_event_bytes", 1024 * 1024);
    const char *unit = vg_node_str(node, "time_unit", "ms");
    sc->unit = unit[0] == 's' ? UNIT_S : unit[0] == 'm' ? UNIT_MS : unit[0] == 'u' ? UNIT_US
                                                                                : UNIT_NS;
    const struct vg_ynode *schema_y = vg_ynode_get(node->body, "schema");
    if (schema_y) {
        char *path = vg_compile_find_file(env->topo, schema_y->str);
        struct vg_err err = {0};
        if (!path)
            vg_diag_add(env->diag, schema_y->mark, NULL,
                        "node '%s': key 'schema': file '%s' not found", node->name,
                        schema_y->str);
        else if (!(sc->schema = vg_avro_schema_load(path, &err)))
            vg_diag_add(env->diag, schema_y->mark, NULL, "node '%s': key 'schema': %s",
                        node->name, err.msg);
        vg_free(path);
    } else if (sc->avro) {
        vg_diag_add(env->diag, node->mark, NULL,
                    "node '%s': missing required key 'schema' (format avro needs a schema file)",
                    node->name);
    }
    const struct vg_ynode *fields_y = vg_ynode_get(node->body, "fields");
    if (fields_y) {
        size_t n = fields_y->type == VG_Y_SEQ ? fields_y->n : 1;
        sc->declared = vg_xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
            sc->declared[i] =
                vg_xstrdup(fields_y->type == VG_Y_SEQ ? fields_y->items[i]->str : fields_y->str);
        sc->n_declared = n;
    }
    if ((schema_y && !sc->schema) || (sc->avro && !schema_y)) {
        source_destroy(sc);
        return VG_ECONFIG;
    }
    sc->source_id = vg_compile_add_source(env, node, topic, vg_node_str(node, "dead_letter", NULL),
                                          strcmp(vg_node_str(node, "start", "earliest"),
                                                 "latest") == 0);
    vg_compile_source_scope(env, sc->source_id, (const char *const *)sc->declared,
                            sc->n_declared, sc->schema);
    sc->time_slot = -1;
    const struct vg_ynode *time_y = vg_ynode_get(node->body, "time");
    if (time_y) {
        struct vg_op_env own = *env;
        own.in = env->out; /* the time field is one of this source's own fields */
        sc->time_slot = vg_compile_resolve(&own, time_y->str, time_y);
        sc->time_field = time_y->str;
        if (sc->time_slot < 0) {
            source_destroy(sc);
            return VG_ECONFIG;
        }
    }
    *confp = sc;
    return 0;
}

static int source_open(const void *conf, struct vg_op_ctx *ctx, void **stp)
{
    (void)ctx;
    const struct source_conf *sc = conf;
    struct source_state *st = vg_xcalloc(1, sizeof(*st));
    st->conf = sc;
    const struct vg_paths *paths = sc->compiled->sources[sc->source_id].paths;
    if (sc->avro)
        st->avro = vg_avro_decoder_new(sc->schema, paths);
    else
        st->json = vg_json_parser_new();
    vg_buf_init(&st->scratch);
    *stp = st;
    return 0;
}

static bool event_time(const struct source_conf *sc, const struct vg_value *v, vg_time_ms *ts)
{
    static const double per_ms[] = {[UNIT_S] = 1e-3, [UNIT_MS] = 1, [UNIT_US] = 1e3,
                                    [UNIT_NS] = 1e6};
    switch (v->type) {
    case VG_T_INT:
        switch (sc->unit) {
        case UNIT_S: *ts = v->u.i * 1000; break;
        case UNIT_MS: *ts = v->u.i; break;
        case UNIT_US: *ts = v->u.i / 1000; break;
        case UNIT_NS: *ts = v->u.i / 1000000; break;
        }
        return true;
    case VG_T_FLOAT:
        if (!(v->u.f == v->u.f) || v->u.f > 9e18 || v->u.f < -9e18)
            return false;
        *ts = (vg_time_ms)(v->u.f / per_ms[sc->unit]);
        return true;
    case VG_T_STR:
        return vg_time_parse_rfc3339(v->u.s, v->len, ts);
    default:
        return false;
    }
}

static int source_process(void *stp, struct vg_batch *b, const struct vg_sel *in,
                          struct vg_sel *out, struct vg_op_ctx *ctx)
{
    struct source_state *st = stp;
    const struct source_conf *sc = st->conf;
    const struct vg_paths *paths = sc->compiled->sources[sc->source_id].paths;
    char reason[VG_ERR_MSG_MAX + 64];
    vg_sel_reserve(b, out, in->n);
    struct vg_err err = {0}; /* read only after a failure, which sets it */
    for (size_t i = 0; i < in->n; i++) {
        struct vg_event *ev = &b->ev[in->idx[i]];
        if (i + 4 < in->n) { /* payloads come from the fetch thread, on the other core */
            const struct vg_event *ahead = &b->ev[in->idx[i + 4]];
            if (ahead->len)
                vg_prefetch(ahead->payload);
            if (ahead->len > 64)
                vg_prefetch(ahead->payload + 64);
        }
        if ((int64_t)ev->len > sc->max_event_bytes) {
            snprintf(reason, sizeof(reason), "oversize: %u bytes > max_event_bytes %lld",
                     ev->len, (long long)sc->max_event_bytes);
            ctx->dead_letter(ctx, ev, reason);
            continue;
        }
        int rc;
        if (sc->avro) {
            rc = vg_avro_decode(st->avro, ev->payload, ev->len, &b->arena, ev->slots, &err);
            if (rc == 0) {
                vg_buf_clear(&st->scratch);
                rc = vg_avro_to_json(st->avro, ev->payload, ev->len, &st->scratch, &err);
                if (rc == 0) {
                    ev->fields_json =
                        vg_arena_strndup(&b->arena, st->scratch.data, st->scratch.len);
                    ev->fields_len = (uint32_t)st->scratch.len;
                }
            }
        } else {
            rc = vg_json_decode(st->json, paths, ev->payload, ev->len, &b->arena, ev->slots,
                                &err);
        }
        if (rc != 0) {
            snprintf(reason, sizeof(reason), "undecodable: %s", err.msg);
            ctx->dead_letter(ctx, ev, reason);
            continue;
        }
        if (sc->time_slot >= 0) {
            if (!event_time(sc, &ev->slots[sc->time_slot], &ev->ts)) {
                snprintf(reason, sizeof(reason), "bad event time: field '%s' %s",
                         sc->time_field,
                         ev->slots[sc->time_slot].type == VG_T_NULL
                             ? "is missing"
                             : "is not an epoch number or RFC 3339 time");
                ctx->dead_letter(ctx, ev, reason);
                continue;
            }
        } else {
            ev->ts = ev->append_ms;
        }
        out->idx[out->n++] = in->idx[i];
    }
    return 0;
}

static void source_close(void *stp)
{
    struct source_state *st = stp;
    if (!st)
        return;
    vg_json_parser_free(st->json);
    vg_avro_decoder_free(st->avro);
    vg_buf_fini(&st->scratch);
    vg_free(st);
}

static void source_destroy(void *conf)
{
    struct source_conf *sc = conf;
    if (!sc)
        return;
    vg_avro_schema_free(sc->schema);
    for (size_t i = 0; i < sc->n_declared; i++)
        vg_free(sc->declared[i]);
    vg_free(sc->declared);
    vg_free(sc);
}

const struct vg_op_type vg_op_source = {
    .name = "source",
    .summary = "read events from a Kafka topic (JSON or Avro)",
    .flags = VG_OP_SOURCE | VG_OP_STATELESS,
    .keys = source_keys,
    .op_key_type = VG_K_ENUM,
    .op_key_values = "kafka|file",
    .create = source_create,
    .open = source_open,
    .process = source_process,
    .close = source_close,
    .destroy = source_destroy,
};
