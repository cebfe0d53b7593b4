/* SPDX-License-Identifier: Apache-2.0 */
/*
 * file_envelope.h - one line of `kcat -C -J` output (a Kafka record in a JSON envelope) read
 * back into the record: its partition, offset, timestamp and value; see file_envelope.c.
 *
 * Thread: any (no state of its own).
 */
#ifndef VG_FILE_ENVELOPE_H
#define VG_FILE_ENVELOPE_H

#include "arena.h"

/* A record read from an envelope line. Pointers point into the line, or into the buffer
 * given to vg_file_envelope_parse, and are valid as long as both. */
struct vg_file_envelope {
    const char *topic;          /* "topic" as written (escapes not undone), NULL: absent/null */
    size_t topic_len;
    int32_t partition;          /* "partition": 0 .. 2^31-1 */
    int64_t offset;             /* "offset": >= 0 */
    vg_time_ms ts;              /* "ts" (Kafka timestamp, ms); INT64_MIN when absent or null */
    const char *payload;        /* "payload" unescaped: the record value; NULL when null */
    size_t payload_len;
    bool payload_copied;        /* payload was unescaped into the buffer (else in the line) */
};

/* Is line (len bytes, no newline) an envelope: one well-formed JSON object with the
 * top-level keys "partition", "offset" and "payload" (of any type)? The test a file's first
 * non-empty line is put to. Thread: any. */
bool vg_file_envelope_is(const char *line, size_t len);

/* Read an envelope line into env. The payload is handed out in place when it has no escapes,
 * else unescaped into buf (cleared first; the caller owns it). Fields other than topic,
 * partition, offset, ts and payload (tstype, broker, key, headers, ...) must be well-formed
 * JSON and are skipped. Returns 0, or VG_EINVAL with err->msg the reason for the dead letter
 * ("envelope: ..."). Thread: any. */
int vg_file_envelope_parse(const char *line, size_t len, struct vg_buf *buf,
                           struct vg_file_envelope *env, struct vg_err *err);

#endif
