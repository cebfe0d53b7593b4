/* SPDX-License-Identifier: Apache-2.0 */
/*
 * duration.c - durations as written in topologies and expressions: 500ms, 30s, 5m, 1h, 2d,
 * and sums of them such as 1h30m. Units: ms, s, m, h, d. No sign, no fractions, no spaces.
 * Also points in time as people write them (RFC 3339), for event times and vigil replay.
 *
 * Thread: any.
 */
#include "expr.h"

#include <limits.h>
#include <string.h>
#include <time.h>

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

/* Parse an RFC 3339 timestamp ("2026-11-01T00:00:00.123Z", "+02:00" offsets). */
bool vg_time_parse_rfc3339(const char *s, size_t n, vg_time_ms *out)
{
    char buf[64];
    if (n < 20 || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    struct tm tm = {0};
    const char *p = strptime(buf, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p && !(p = strptime(buf, "%Y-%m-%d %H:%M:%S", &tm)))
        return false;
    int64_t ms = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 3)
                ms = ms * 10 + (*p - '0');
        for (; digits < 3; digits++)
            ms *= 10;
    }
    int64_t offset_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        int hh, mm;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
            return false;
        offset_s = sign * (hh * 3600 + mm * 60);
        p += 6;
    } else {
        return false;
    }
    if (*p)
        return false;
    time_t t = timegm(&tm);
    *out = ((int64_t)t - offset_s) * 1000 + ms;
    return true;
}
