/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alert.h - one alert as the rules operator produces it and the sinks encode it.
 *
 * The field set is the contract of docs/topology.md (Alerts): alert_id is deterministic
 * (vg_alert_id), times are Unix epoch milliseconds, key_json is the key as JSON (a string
 * for one key field, an object for several, null when the stream has no key), fields_json
 * is the matched event or aggregate as a JSON object. All strings live in the batch arena
 * or in the compiled topology.
 *
 * Thread: stream (built and encoded by the thread that owns the batch).
 */
#ifndef VG_ALERT_H
#define VG_ALERT_H

#include "arena.h"

struct vg_alert {
    char alert_id[33];          /* 32 lowercase hex digits + NUL */
    const char *rule_id;
    const char *title;
    const char *severity;       /* info | low | medium | high | critical */
    const char *const *tags;
    size_t n_tags;
    const char *topology;
    const char *key_json;       /* "null", "\"alice\"" or {"user":"alice","host":"h1"} */
    const char *key_text;       /* human form: alice / alice,h1 / "" */
    vg_time_ms window_start;    /* -1: none (encoded as null) */
    vg_time_ms window_end;      /* -1: none */
    vg_time_ms event_time;
    vg_time_ms detected_at;
    const char *src_topic;
    int32_t src_partition;
    int64_t src_offset;
    uint64_t src_ident;         /* the event's ident (vg_event), 0 for most */
    int64_t latency_ms;         /* detected_at - source append time */
    const char *fields_json;    /* a JSON object */
    size_t fields_len;
    bool replay;                /* made by vigil replay: "replay":true in JSON */
};

/* Deterministic id: the same (topology, rule, key, window) give the same id; for alerts on
 * single events (no window) the source position stands in for the window, so reprocessing
 * the same event after a crash gives the same id. Writes 32 hex digits and a NUL to out.
 * Thread: any. */
void vg_alert_id(const struct vg_alert *a, char out[33]);

/* Append a as one JSON object (no newline). Thread: any. */
void vg_alert_to_json(const struct vg_alert *a, struct vg_buf *out);
/* Append a as one readable line (no newline): "[high] AUTH-001 key=alice latency=12ms Title". */
void vg_alert_to_text(const struct vg_alert *a, struct vg_buf *out);

#endif
