/* SPDX-License-Identifier: Apache-2.0 */
/*
 * duration.c - durations as written in topologies and expressions: 500ms, 30s, 5m, 1h, 2d,
 * and sums of them such as 1h30m. Units: ms, s, m, h, d. No sign, no fractions, no spaces.
 *
 * Thread: any.
 */
#include "expr.h"

#include <limits.h>

int vg_duration_parse(const char *s, size_t len, int64_t *ms)
{
    int64_t total = 0;
    size_t i = 0;
    if (len == 0)
        return -1;
    while (i < len) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        int64_t n = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (n > (INT64_MAX - 9) / 10)
                return -1;
            n = n * 10 + (s[i++] - '0');
        }
        int64_t unit;
        if (i + 1 < len && s[i] == 'm' && s[i + 1] == 's') {
            unit = 1;
            i += 2;
        } else if (i < len && s[i] == 's') {
            unit = 1000;
            i++;
        } else if (i < len && s[i] == 'm') {
            unit = 60 * 1000;
            i++;
        } else if (i < len && s[i] == 'h') {
            unit = 3600 * 1000;
            i++;
        } else if (i < len && s[i] == 'd') {
            unit = 86400 * 1000;
            i++;
        } else {
            return -1;
        }
        if (n > (INT64_MAX - total) / unit)
            return -1;
        total += n * unit;
    }
    *ms = total;
    return 0;
}
