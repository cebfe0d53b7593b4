/* SPDX-License-Identifier: Apache-2.0 */
/*
 * file_input.h - archived events as records for a source node (vigil replay --input):
 * JSON lines, plain or gzip, kcat envelope lines (`kcat -C -J`), and Avro object container
 * files, from files, pipes or standard input ("-"); see file_input.c.
 *
 * Thread: one owner.
 */
#ifndef VG_FILE_INPUT_H
#define VG_FILE_INPUT_H

#include "vg_common.h"

struct vg_file_input;

/* One record as vg_file_input_next hands it out. */
struct vg_file_rec {
    const char *data;       /* the value: the line, the Avro datum, or an envelope's payload */
    size_t len;             /* unescaped (data NULL: an envelope's null payload, a tombstone) */
    const char *path;       /* the file it came from (the input's copy, lives as long) */
    uint64_t line;          /* its line in that file from 1, blank ones counted (Avro: its
                             * record number) */
    bool kept;              /* data stays valid until vg_file_input_release (a mapped plain
                             * file's line, or an unescaped payload in it); else until the next
                             * vg_file_input_next */
    bool envelope;          /* from a file of kcat envelopes: the fields below are the record's
                             * own; else partition 0, offset -1, no ts, no topic */
    int32_t partition;
    int64_t offset;
    vg_time_ms ts;          /* the envelope's "ts" (Kafka timestamp), INT64_MIN: none */
    const char *topic;      /* the envelope's "topic" as written (not unescaped), or NULL */
    size_t topic_len;
    const char *bad;        /* an envelope line that does not parse: why (valid as data is),
                             * and data, len are the whole line; NULL: a good record */
};

/* The files are read in the order given (copied); "-" is standard input. */
struct vg_file_input *vg_file_input_new(const char *const *paths, size_t n);
void vg_file_input_free(struct vg_file_input *fi);
/* The next record into *rec. Returns 1, 0 once every file is read, or a negative VG_E* with
 * err naming the file (a file that cannot be opened or read; the next call goes on with the
 * same file, so a caller stops there). Thread: the owner. */
int vg_file_input_next(struct vg_file_input *fi, struct vg_file_rec *rec, struct vg_err *err);
/* The records handed out so far are no longer in use. */
void vg_file_input_release(struct vg_file_input *fi);
/* Can several readers each open and read path on their own: a regular file (or a name that
 * does not exist yet: opening it reports that)? False for "-", pipes, FIFOs, sockets and
 * devices, which give their bytes once. Thread: any. */
bool vg_file_input_rereadable(const char *path);

#endif
