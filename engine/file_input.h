/* SPDX-License-Identifier: Apache-2.0 */
/*
 * file_input.h - archived events as records for a source node (vigil replay --input):
 * JSON lines, plain or gzip, and Avro object container files; see file_input.c.
 *
 * Thread: one owner.
 */
#ifndef VG_FILE_INPUT_H
#define VG_FILE_INPUT_H

#include "vg_common.h"

struct vg_file_input;

/* The files are read in the order given (copied). */
struct vg_file_input *vg_file_input_new(const char *const *paths, size_t n);
void vg_file_input_free(struct vg_file_input *fi);
/* The next record: *data, *len valid until the next call, or, when *kept is set (a line of
 * a mapped plain file), until vg_file_input_release; *path the file it came from. Returns 1,
 * 0 once every file is read, or a negative VG_E* with err naming the file. */
int vg_file_input_next(struct vg_file_input *fi, const char **data, size_t *len,
                       const char **path, bool *kept, struct vg_err *err);
/* The records handed out so far are no longer in use. */
void vg_file_input_release(struct vg_file_input *fi);

#endif
