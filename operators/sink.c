/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sink.c - the `sink` operator: encodes alerts (or plain events) and hands them to an output.
 *
 * Dataflow: any stream in, nothing out. Alerts are encoded as JSON (one object per record
 * or line), Avro binary (schemas/alert.avsc) or one readable text line; events that are not
 * alerts are written as their fields (a map's output) or their original payload. Kafka
 * records are keyed by the alert key so one key's alerts stay in one partition. The output
 * itself (Kafka producer with delivery tracking, file, stdout) belongs to the engine:
 * ctx->write copies the record and the engine commits source offsets only once it is
 * acknowledged.
 *
 * Thread: create on main; open/process/close on a stream thread, which owns its encoder.
 */
#include "compile.h"
#include "vg_op.h"

#include <string.h>

enum sink_format { FMT_JSON, FMT_AVRO, FMT_TEXT };

struct sink_conf {
    int out;
    enum sink_format format;
    struct vg_avro_schema *schema;
    const struct vg_scope *in;
};

struct sink_state {
    const struct sink_conf *conf;
    struct vg_avro_encoder *avro;
    struct vg_buf buf;
};

static const struct vg_key_spec sink_keys[] = {
    {.name = "input", .type = VG_K_INPUTS, .required = true, .doc = "upstream node(s)"},
    {.name = "topic", .type = VG_K_STRING, .doc = "kafka: the topic to write (required)"},
    {.name = "path", .type = VG_K_STRING, .doc = "file: the file to append to (required)"},
    {.name = "format", .type = VG_K_ENUM, .enum_values = "json|avro|text", .defval = "json",
     .doc = "json lines, Avro binary (schemas/alert.avsc) or one readable line per alert"},
    {.name = "schema", .type = VG_K_STRING, .defval = "schemas/alert.avsc",
     .doc = "avro: the alert schema file"},
    {0},
};

static void sink_destroy(void *conf);

static int sink_create(const struct vg_node *node, struct vg_op_env *env, void **confp)
{
    const char *kind = node->op->str;
    struct sink_conf *sc = vg_xcalloc(1, sizeof(*sc));
    sc->in = env->in;
    const char *format = vg_node_str(node, "format", "json");
    sc->format = strcmp(format, "avro") == 0 ? FMT_AVRO
                 : strcmp(format, "text") == 0 ? FMT_TEXT
                                                : FMT_JSON;
    bool ok = true;
    enum vg_output_kind out_kind = VG_OUT_STDOUT;
    const char *target = NULL;
    if (strcmp(kind, "kafka") == 0) {
        out_kind = VG_OUT_KAFKA;
        if (!(target = vg_node_str(node, "topic", NULL))) {
            vg_diag_add(env->diag, node->mark, NULL,
                        "node '%s': missing required key 'topic' (a kafka sink writes a topic)",
                        node->name);
            ok = false;
        }
    } else if (strcmp(kind, "file") == 0) {
        out_kind = VG_OUT_FILE;
        if (!(target = vg_node_str(node, "path", NULL))) {
            vg_diag_add(env->diag, node->mark, NULL,
                        "node '%s': missing required key 'path' (a file sink writes a file)",
                        node->name);
            ok = false;
        }
    }
    if (sc->format == FMT_AVRO) {
        const char *schema = vg_node_str(node, "schema", "schemas/alert.avsc");
        char *path = vg_compile_find_file(env->topo, schema);
        struct vg_err err = {0};
        const struct vg_ynode *sy = vg_ynode_get(node->body, "schema");
        struct vg_mark mark = sy ? sy->mark : node->mark;
        if (!path) {
            vg_diag_add(env->diag, mark, NULL, "node '%s': key 'schema': file '%s' not found",
                        node->name, schema);
            ok = false;
        } else if (!(sc->schema = vg_avro_schema_load(path, &err))) {
            vg_diag_add(env->diag, mark, NULL, "node '%s': key 'schema': %s", node->name,
                        err.msg);
            ok = false;
        } else {
            /* check now that it is the alert schema, rather than on the first alert */
            struct vg_avro_encoder *enc = vg_avro_encoder_new(sc->schema, &err);
            if (!enc) {
                vg_diag_add(env->diag, mark, NULL, "node '%s': key 'schema': %s", node->name,
                            err.msg);
                ok = false;
            }
            vg_avro_encoder_free(enc);
        }
        vg_free(path);
    }
    if (!ok) {
        sink_destroy(sc);
        return VG_ECONFIG;
    }
    sc->out = vg_compile_add_output(env, node, out_kind, target);
    env->out = NULL; /* a sink has no output stream */
    *confp = sc;
    return 0;
}

static int sink_open(const void *conf, struct vg_op_ctx *ctx, void **stp)
{
    (void)ctx;
    const struct sink_conf *sc = conf;
    struct sink_state *st = vg_xcalloc(1, sizeof(*st));
    st->conf = sc;
    vg_buf_init(&st->buf);
    if (sc->format == FMT_AVRO) {
        struct vg_err err;
        st->avro = vg_avro_encoder_new(sc->schema, &err);
        if (!st->avro) {
            vg_buf_fini(&st->buf);
            vg_free(st);
            return VG_ECONFIG;
        }
    }
    *stp = st;
    return 0;
}

static void encode_event(const struct sink_conf *sc, const struct vg_event *ev,
                         struct vg_buf *buf)
{
    if (vg_scope_write_json(sc->in, ev, buf))
        return;
    if (sc->format == FMT_AVRO || !vg_event_fields(ev, buf))
        vg_buf_append(buf, ev->payload, ev->len);
}

static int sink_process(void *stp, struct vg_batch *b, const struct vg_sel *in,
                        struct vg_sel *out, struct vg_op_ctx *ctx)
{
    (void)out;
    struct sink_state *st = stp;
    const struct sink_conf *sc = st->conf;
    for (size_t i = 0; i < in->n; i++) {
        const struct vg_event *ev = &b->ev[in->idx[i]];
        const struct vg_alert *a = ev->alert;
        vg_buf_clear(&st->buf);
        const char *key = NULL;
        size_t key_len = 0;
        if (a) {
            struct vg_err err;
            if (ctx->replay) {
                vg_alert_to_json(a, &st->buf);
            } else if (sc->format == FMT_AVRO) {
                if (vg_avro_encode_alert(st->avro, a, &st->buf, &err) != 0)
                    return VG_EINVAL; /* our own record does not fit our schema: a bug */
            } else if (sc->format == FMT_TEXT) {
                vg_alert_to_text(a, &st->buf);
            } else {
                vg_alert_to_json(a, &st->buf);
            }
            if (a->key_text && a->key_text[0]) {
                key = a->key_text;
                key_len = strlen(key);
            }
        } else {
            encode_event(sc, ev, &st->buf);
        }
        int rc = ctx->write(ctx, sc->out, key, key_len, st->buf.data, st->buf.len, ev);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void sink_close(void *stp)
{
    struct sink_state *st = stp;
    if (!st)
        return;
    vg_avro_encoder_free(st->avro);
    vg_buf_fini(&st->buf);
    vg_free(st);
}

static void sink_destroy(void *conf)
{
    struct sink_conf *sc = conf;
    if (!sc)
        return;
    vg_avro_schema_free(sc->schema);
    vg_free(sc);
}

const struct vg_op_type vg_op_sink = {
    .name = "sink",
    .summary = "write alerts or events to Kafka, a file or stdout",
    .flags = VG_OP_SINK | VG_OP_STATELESS,
    .keys = sink_keys,
    .op_key_type = VG_K_ENUM,
    .op_key_values = "kafka|file|stdout",
    .create = sink_create,
    .open = sink_open,
    .process = sink_process,
    .close = sink_close,
    .destroy = sink_destroy,
};
