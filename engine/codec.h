/* SPDX-License-Identifier: Apache-2.0 */
/*
 * codec.h - decoding events (JSON, Avro binary) into slot values and encoding values and
 * alerts back out.
 *
 * A struct vg_paths is the compiled set of field paths a topology reads from one source,
 * each with its slot; decoders fill only those slots, so an event costs what the topology
 * uses of it. Paths are written as in expressions: a.b.c, tags[0], a.list[2].name.
 *
 * JSON (codec_json.c + json_simd.cpp): simdjson On-Demand through a small extern "C" shim
 * (chosen by measurement, docs/decisions.md). The payload is copied into the parser's
 * padded buffer; strings without escapes point into the original payload, unescaped ones
 * are copied into the arena. Numbers become VG_T_INT when integral and in range, else
 * VG_T_FLOAT; arrays of scalars become VG_T_LIST; an object or an array of objects reached by
 * a path yields its raw JSON text as VG_T_STR.
 *
 * Avro (codec_avro.c): Apache Avro C, plain binary encoding of one record per message
 * against a schema file (no container header, no registry framing).
 *
 * Thread: schemas and paths are immutable after load and shared; parsers, decoders and
 * encoders are per thread.
 */
#ifndef VG_CODEC_H
#define VG_CODEC_H

#include "alert.h"
#include "arena.h"
#include "value.h"

/* ---- field paths ---- */

struct vg_paths;

struct vg_paths *vg_paths_new(void);
void vg_paths_free(struct vg_paths *p);
/* Add path -> slot. Returns 0, or VG_EINVAL with err filled when the path is malformed.
 * Adding the same path twice keeps the first slot. Thread: main. */
int vg_paths_add(struct vg_paths *p, const char *path, int slot, struct vg_err *err);
size_t vg_paths_count(const struct vg_paths *p);

/* ---- JSON ---- */

struct vg_json_parser;

struct vg_json_parser *vg_json_parser_new(void);
void vg_json_parser_free(struct vg_json_parser *jp);

/* Decode one JSON document, which must be an object, filling the slots named by p; slots of
 * paths absent from the document are set to null. Returns 0, or VG_EINVAL with err->msg
 * a short reason ("invalid JSON: ...", "not a JSON object") for the dead-letter header.
 * buf need not be padded or NUL-terminated and must outlive the use of the values. */
int vg_json_decode(struct vg_json_parser *jp, const struct vg_paths *p, const char *buf,
                   size_t len, struct vg_arena *arena, struct vg_value *slots,
                   struct vg_err *err);

/* Without decoding the document: the values of the top-level fields names[0..n) (n <= 8)
 * when each is a string without escapes (pointing into buf) or absent (null), as
 * vg_json_decode gives them for paths of those names when it decodes the document. Returns
 * 0, or -1 when that cannot be told so cheaply: not an object, a key or one of these values
 * escaped, one of them not a string, or the text invalid where it was read. Values before
 * them are checked and skipped, the fields after the last one found not looked at, so 0 says
 * nothing of whether the whole document decodes. Thread: any. */
int vg_json_top_strings(const char *buf, size_t len, const char *const *names,
                        const size_t *name_lens, size_t n, struct vg_value *vals);

/* Append v as JSON (null, true, 12, 1.5, "text", [..]). Floats print with enough digits to
 * round-trip; non-finite floats print as null. Thread: any. */
void vg_json_write_value(struct vg_buf *out, const struct vg_value *v);
/* Append v as text: a string's own bytes, anything else as JSON (keys of windows, rules and
 * tables). Thread: any. */
void vg_value_text(struct vg_buf *out, const struct vg_value *v);

/* ---- Avro ---- */

struct vg_avro_schema;
struct vg_avro_decoder;
struct vg_avro_encoder;

/* Load an .avsc file; its top level must be a record. NULL with err on failure. */
struct vg_avro_schema *vg_avro_schema_load(const char *path, struct vg_err *err);
void vg_avro_schema_free(struct vg_avro_schema *s);
/* True when path names a field of the schema (nested records and unions with null allowed). */
bool vg_avro_schema_has_path(const struct vg_avro_schema *s, const char *path);
/* The schema's field names at top level, for hints. */
size_t vg_avro_schema_fields(const struct vg_avro_schema *s, const char *const **names);

struct vg_avro_decoder *vg_avro_decoder_new(const struct vg_avro_schema *s,
                                            const struct vg_paths *p);
void vg_avro_decoder_free(struct vg_avro_decoder *d);
/* Decode one binary record, filling the slots of p (strings copied into arena). Returns 0, or
 * VG_EINVAL with a reason ("avro: truncated record", "avro: trailing bytes"). */
int vg_avro_decode(struct vg_avro_decoder *d, const char *buf, size_t len, struct vg_arena *arena,
                   struct vg_value *slots, struct vg_err *err);
/* Decode one record and append it as a JSON object (for alert fields). */
int vg_avro_to_json(struct vg_avro_decoder *d, const char *buf, size_t len, struct vg_buf *out,
                    struct vg_err *err);
/* Encode a JSON object's text as a binary record of schema s (used by generators and tests to
 * produce Avro events). Fields missing from the JSON take null if the schema allows it. */
int vg_avro_from_json(const struct vg_avro_schema *s, const char *json, size_t len,
                      struct vg_buf *out, struct vg_err *err);

/* Encoder for alerts against schemas/alert.avsc (the schema given must be that one). */
struct vg_avro_encoder *vg_avro_encoder_new(const struct vg_avro_schema *s, struct vg_err *err);
void vg_avro_encoder_free(struct vg_avro_encoder *e);
int vg_avro_encode_alert(struct vg_avro_encoder *e, const struct vg_alert *a, struct vg_buf *out,
                         struct vg_err *err);
/* Decode an alert record back to JSON (tests and tools). */
int vg_avro_alert_to_json(struct vg_avro_encoder *e, const char *buf, size_t len,
                          struct vg_buf *out, struct vg_err *err);

#endif
