/* SPDX-License-Identifier: Apache-2.0 */
/*
 * file_input.c - archived events for vigil replay: JSON lines (plain or gzip: zlib reads
 * both) and Avro object container files (each record re-encoded as the plain binary datum a
 * Kafka source with format avro receives). A file is taken for a container when it starts
 * with the container magic "Obj\1", else for JSON lines. Several files are read one after
 * the other, in the order given. A plain (not gzip) JSON lines file is mapped and its lines
 * handed out in place: no read copy, no line copy; what was handed out stays mapped until
 * vg_file_input_release, which also lets go of the pages behind it.
 *
 * Thread: one owner.
 */
#include "file_input.h"

#include "arena.h"

#include <avro.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* a mapped file's pages are filled ahead of the reader, and let go behind the records in
 * use, in steps of this */
#define MAP_STEP (8u << 20)

struct vg_file_input {
    char **paths;
    size_t n, cur;
    bool open;
    /* JSON lines: gzip (or unmappable) through zlib, plain mapped */
    gzFile gz;
    struct vg_buf line;
    const char *map;
    size_t map_len, pos, released;  /* next line at pos; pages before released let go */
    size_t populated;               /* pages before it are mapped in (ahead of pos) */
    struct mapping { void *p; size_t len; } *done; /* read to the end, unmapped at release */
    size_t n_done;
    /* Avro container */
    avro_file_reader_t avro;
    avro_schema_t schema;
    avro_value_iface_t *iface;
    avro_value_t value;
    bool have_value;
    struct vg_buf datum;
};

struct vg_file_input *vg_file_input_new(const char *const *paths, size_t n)
{
    struct vg_file_input *fi = vg_xcalloc(1, sizeof(*fi));
    fi->paths = vg_xcalloc(n + 1, sizeof(*fi->paths));
    for (size_t i = 0; i < n; i++)
        fi->paths[i] = vg_xstrdup(paths[i]);
    fi->n = n;
    vg_buf_init(&fi->line);
    vg_buf_init(&fi->datum);
    return fi;
}

static void close_current(struct vg_file_input *fi)
{
    if (fi->gz)
        gzclose(fi->gz);
    fi->gz = NULL;
    if (fi->map) { /* its last records may still be in use */
        fi->done = vg_xrealloc(fi->done, (fi->n_done + 1) * sizeof(*fi->done));
        fi->done[fi->n_done++] = (struct mapping){(void *)fi->map, fi->map_len};
    }
    fi->map = NULL;
    fi->map_len = fi->pos = fi->released = fi->populated = 0;
    if (fi->have_value)
        avro_value_decref(&fi->value);
    fi->have_value = false;
    if (fi->iface)
        avro_value_iface_decref(fi->iface);
    fi->iface = NULL;
    if (fi->schema)
        avro_schema_decref(fi->schema);
    fi->schema = NULL;
    if (fi->avro)
        avro_file_reader_close(fi->avro);
    fi->avro = NULL;
    fi->open = false;
}

void vg_file_input_free(struct vg_file_input *fi)
{
    if (!fi)
        return;
    close_current(fi);
    vg_file_input_release(fi);
    vg_free(fi->done);
    for (size_t i = 0; i < fi->n; i++)
        vg_free(fi->paths[i]);
    vg_free(fi->paths);
    vg_buf_fini(&fi->line);
    vg_buf_fini(&fi->datum);
    vg_free(fi);
}

/* A plain file (fd, size bytes) mapped for its lines in place; false when it cannot be (zlib
 * reads it then). */
static bool map_plain(struct vg_file_input *fi, int fd, size_t size)
{
    void *p = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    if (p == MAP_FAILED)
        return false;
    madvise(p, size, MADV_SEQUENTIAL);
    fi->map = p;
    fi->map_len = size;
    fi->pos = fi->released = fi->populated = 0;
    return true;
}

static int open_current(struct vg_file_input *fi, struct vg_err *err)
{
    const char *path = fi->paths[fi->cur];
    unsigned char magic[4] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return VG_ERR_SET(err, VG_EIO, "%s: %s", path, strerror(errno));
    ssize_t got = read(fd, magic, sizeof(magic));
    struct stat sb;
    bool regular = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
    bool avro = got == 4 && !memcmp(magic, "Obj\x01", 4);
    bool gzip = got >= 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    bool mapped = !avro && !gzip && regular && map_plain(fi, fd, (size_t)sb.st_size);
    close(fd);
    if (avro) {
        if (avro_file_reader(path, &fi->avro) != 0)
            return VG_ERR_SET(err, VG_EIO, "%s: not a readable Avro container file: %s", path,
                              avro_strerror());
        fi->schema = avro_file_reader_get_writer_schema(fi->avro);
        fi->iface = avro_generic_class_from_schema(fi->schema);
        if (!fi->iface || avro_generic_value_new(fi->iface, &fi->value) != 0)
            return VG_ERR_SET(err, VG_EIO, "%s: %s", path, avro_strerror());
        fi->have_value = true;
    } else if (!mapped) {
        if (!(fi->gz = gzopen(path, "rb")))
            return VG_ERR_SET(err, VG_EIO, "%s: %s", path, strerror(errno));
        gzbuffer(fi->gz, 1 << 20);
    }
    fi->open = true;
    return 0;
}

/* One line of the current mapped file, without its newline; 0 at its end. */
static int next_mapped(struct vg_file_input *fi, const char **data, size_t *len)
{
    if (fi->pos >= fi->map_len)
        return 0;
#ifdef MADV_POPULATE_READ
    if (fi->pos >= fi->populated && fi->populated < fi->map_len) {
        /* the next step's page table entries in one call, not a fault per page */
        size_t n = VG_MIN((size_t)MAP_STEP, fi->map_len - fi->populated);
        madvise((char *)fi->map + fi->populated, n, MADV_POPULATE_READ);
        fi->populated += n;
    }
#endif
    const char *s = fi->map + fi->pos;
    const char *nl = memchr(s, '\n', fi->map_len - fi->pos);
    size_t n = nl ? (size_t)(nl - s) : fi->map_len - fi->pos;
    fi->pos += n + (nl != NULL);
    *data = s;
    *len = n;
    return 1;
}

void vg_file_input_release(struct vg_file_input *fi)
{
    for (size_t i = 0; i < fi->n_done; i++)
        munmap(fi->done[i].p, fi->done[i].len);
    fi->n_done = 0;
    if (fi->map && fi->pos - fi->released >= MAP_STEP) {
        size_t upto = fi->pos & ~(size_t)(MAP_STEP - 1);
        if (upto > fi->released) {
            madvise((char *)fi->map + fi->released, upto - fi->released, MADV_DONTNEED);
            fi->released = upto;
        }
    }
}

/* One line of the current JSON lines file, without its newline; 0 at its end. */
static int next_line(struct vg_file_input *fi, const char **data, size_t *len, struct vg_err *err)
{
    vg_buf_clear(&fi->line);
    for (;;) {
        vg_buf_reserve(&fi->line, 4096);
        char *at = fi->line.data + fi->line.len;
        if (!gzgets(fi->gz, at, 4096)) {
            int e;
            const char *msg = gzerror(fi->gz, &e);
            if (e != Z_OK && e != Z_STREAM_END)
                return VG_ERR_SET(err, VG_EIO, "%s: %s", fi->paths[fi->cur], msg);
            break;
        }
        size_t n = strlen(at);
        fi->line.len += n;
        if (n && at[n - 1] == '\n')
            break;
    }
    if (!fi->line.len)
        return 0;
    if (fi->line.data[fi->line.len - 1] == '\n')
        fi->line.len--;
    *data = fi->line.data;
    *len = fi->line.len;
    return 1;
}

/* The current container's next record as a binary datum; 0 at its end. */
static int next_datum(struct vg_file_input *fi, const char **data, size_t *len,
                      struct vg_err *err)
{
    int rc = avro_file_reader_read_value(fi->avro, &fi->value);
    if (rc == EOF)
        return 0;
    size_t size = 0;
    if (rc != 0 || avro_value_sizeof(&fi->value, &size) != 0)
        return VG_ERR_SET(err, VG_EIO, "%s: %s", fi->paths[fi->cur], avro_strerror());
    vg_buf_clear(&fi->datum);
    vg_buf_reserve(&fi->datum, size + 1);
    avro_writer_t w = avro_writer_memory(fi->datum.data, (int64_t)size + 1);
    rc = avro_value_write(w, &fi->value);
    avro_writer_free(w);
    if (rc != 0)
        return VG_ERR_SET(err, VG_EIO, "%s: %s", fi->paths[fi->cur], avro_strerror());
    fi->datum.len = size;
    *data = fi->datum.data;
    *len = size;
    return 1;
}

int vg_file_input_next(struct vg_file_input *fi, const char **data, size_t *len,
                       const char **path, bool *kept, struct vg_err *err)
{
    while (fi->cur < fi->n) {
        if (!fi->open) {
            int rc = open_current(fi, err);
            if (rc)
                return rc;
        }
        int rc = fi->avro  ? next_datum(fi, data, len, err)
                 : fi->map ? next_mapped(fi, data, len)
                           : next_line(fi, data, len, err);
        if (rc < 0)
            return rc;
        if (rc > 0) {
            if (*len == 0 && !fi->avro)
                continue; /* a blank line */
            *path = fi->paths[fi->cur];
            *kept = fi->map != NULL;
            return 1;
        }
        close_current(fi);
        fi->cur++;
    }
    return 0;
}
