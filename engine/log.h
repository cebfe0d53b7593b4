/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.h - the engine's log lines on stderr: "2026-11-22T23:30:00.123Z vigil info: message".
 *
 * Thread: any (one fprintf per line, which stdio locks).
 */
#ifndef VG_LOG_H
#define VG_LOG_H

#include "vg_common.h"

enum vg_log_level { VG_LOG_DEBUG, VG_LOG_INFO, VG_LOG_WARN, VG_LOG_ERROR };

/* Lines below this level are dropped (default info; VIGIL_LOG=debug|info|warn|error). */
void vg_log_set_level(enum vg_log_level level);
void vg_log(enum vg_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
