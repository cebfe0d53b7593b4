/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.c - timestamped log lines on stderr (see log.h).
 *
 * Thread: any.
 */
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum vg_log_level min_level = VG_LOG_INFO;
static int level_from_env = -1;

void vg_log_set_level(enum vg_log_level level)
{
    min_level = level;
}

static enum vg_log_level effective_level(void)
{
    if (level_from_env < 0) {
        const char *e = getenv("VIGIL_LOG");
        level_from_env = !e                        ? (int)min_level
                         : strcmp(e, "debug") == 0 ? VG_LOG_DEBUG
                         : strcmp(e, "warn") == 0  ? VG_LOG_WARN
                         : strcmp(e, "error") == 0 ? VG_LOG_ERROR
                                                   : VG_LOG_INFO;
        if (e)
            min_level = (enum vg_log_level)level_from_env;
    }
    return min_level;
}

void vg_log(enum vg_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    if (level < effective_level())
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    vg_time_ms now = vg_now_ms();
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char ts[32];
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03dZ vigil %s: %s\n", ts, (int)(now % 1000), names[level], msg);
}
