/* SPDX-License-Identifier: Apache-2.0 */
/*
 * file_input.c - archived events for vigil replay: JSON lines (plain or gzip), lines of kcat
 * JSON envelopes (plain or gzip), and Avro object container files (each record re-encoded as
 * the plain binary datum a Kafka source with format avro receives). Several files are read
 * one after the other, in the order given; "-" is standard input.
 *
 * What a file holds is told by its first bytes: the gzip magic (1f 8b) means gzip, read
 * through zlib; the container magic "Obj\1" (after gzip is undone) an Avro container; else
 * JSON lines. A JSON lines file whose first non-empty line is a kcat envelope
 * (vg_file_envelope_is: an object with the keys partition, offset and payload) is read as
 * envelopes, every line of it: each record keeps its partition, offset and timestamp, and
 * its value is the payload unescaped; a line that does not parse is handed out with the
 * reason in `bad`, for the dead letters.
 *
 * Regular files: a plain one is mapped and its lines handed out in place: no read copy, no
 * line copy; what was handed out stays mapped until vg_file_input_release, which also lets go
 * of the pages behind it. Everything else (gzip files, and any pipe, FIFO, character device
 * or standard input, which are never mapped and never opened twice) is read as a stream: zlib
 * reads the descriptor (gzip, or plain bytes as they are), the first bytes are read from it
 * to tell Avro from JSON lines, and the reader (getline, or the Avro container reader) reads
 * a stdio stream that gives those bytes back first, then the rest from zlib. Nothing is
 * reopened by its name, so a pipe loses nothing.
 *
 * Thread: one owner.
 */
#include "file_input.h"

#include "arena.h"
#include "file_envelope.h"

#include <avro.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
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
    uint64_t line;                  /* lines (Avro: records) of the current file read so far */
    bool sniffed, envelope;         /* its first non-empty line was seen, and is an envelope */
    /* a stream: zlib over the descriptor; `in` gives the sniffed bytes, then zlib's */
    gzFile gz;
    unsigned char sniff[4];
    size_t n_sniff, sniff_pos;
    FILE *in;                       /* JSON lines (getline) or an Avro container */
    char *text;                     /* getline's line */
    size_t text_cap;
    /* a plain regular file, mapped */
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
    /* envelopes: the last payload unescaped, the last bad line's reason */
    struct vg_buf payload;
    char why[VG_ERR_MSG_MAX + 32];
};

struct vg_file_input *vg_file_input_new(const char *const *paths, size_t n)
{
    struct vg_file_input *fi = vg_xcalloc(1, sizeof(*fi));
    fi->paths = vg_xcalloc(n + 1, sizeof(*fi->paths));
    for (size_t i = 0; i < n; i++)
        fi->paths[i] = vg_xstrdup(paths[i]);
    fi->n = n;
    vg_buf_init(&fi->datum);
    vg_buf_init(&fi->payload);
    return fi;
}

bool vg_file_input_rereadable(const char *path)
{
    struct stat sb;
    if (strcmp(path, "-") == 0)
        return false;
    return stat(path, &sb) != 0 || S_ISREG(sb.st_mode);
}

static void close_current(struct vg_file_input *fi)
{
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
    if (fi->avro) /* (it does not close `in`) */
        avro_file_reader_close(fi->avro);
    fi->avro = NULL;
    if (fi->in)
        fclose(fi->in);
    fi->in = NULL;
    if (fi->gz) /* and its descriptor */
        gzclose(fi->gz);
    fi->gz = NULL;
    fi->n_sniff = fi->sniff_pos = 0;
    fi->line = 0;
    fi->sniffed = fi->envelope = false;
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
    free(fi->text); /* getline's */
    vg_buf_fini(&fi->datum);
    vg_buf_fini(&fi->payload);
    vg_free(fi);
}

/* A plain file (fd, size bytes) mapped for its lines in place; false when it cannot be (it
 * is read as a stream then). */
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

/* `in`'s bytes: the sniffed ones first, then zlib's. */
static ssize_t stream_read(void *cookie, char *buf, size_t size)
{
    struct vg_file_input *fi = cookie;
    if (fi->sniff_pos < fi->n_sniff) {
        size_t n = VG_MIN(size, fi->n_sniff - fi->sniff_pos);
        memcpy(buf, fi->sniff + fi->sniff_pos, n);
        fi->sniff_pos += n;
        return (ssize_t)n;
    }
    int got = gzread(fi->gz, buf, (unsigned)VG_MIN(size, (size_t)INT_MAX));
    if (got < 0) {
        errno = EIO;
        return -1;
    }
    return got;
}

/* Why zlib failed, for a message. */
static const char *gz_why(struct vg_file_input *fi)
{
    int e = Z_OK;
    const char *msg = fi->gz ? gzerror(fi->gz, &e) : "";
    return e == Z_ERRNO ? strerror(errno) : e != Z_OK ? msg : "read error";
}

/* Read fd (taken) as a stream: through zlib, its first bytes sniffed, then a stdio stream
 * over them and the rest for getline or the Avro container reader. */
static int open_stream(struct vg_file_input *fi, int fd, const char *path, struct vg_err *err)
{
    if (!(fi->gz = gzdopen(fd, "rb"))) {
        close(fd);
        return VG_ERR_SET(err, VG_EIO, "%s: %s", path, strerror(errno ? errno : ENOMEM));
    }
    gzbuffer(fi->gz, 1 << 20);
    int got = gzread(fi->gz, fi->sniff, sizeof(fi->sniff)); /* waits for 4 bytes or the end */
    if (got < 0)
        return VG_ERR_SET(err, VG_EIO, "%s: %s", path, gz_why(fi));
    fi->n_sniff = (size_t)got;
    fi->sniff_pos = 0;
    cookie_io_functions_t io = {.read = stream_read};
    if (!(fi->in = fopencookie(fi, "r", io)))
        return VG_ERR_SET(err, VG_EIO, "%s: %s", path, strerror(errno));
    setvbuf(fi->in, NULL, _IOFBF, 1 << 20);
    if (fi->n_sniff == 4 && !memcmp(fi->sniff, "Obj\x01", 4) &&
        avro_file_reader_fp(fi->in, path, 0, &fi->avro) != 0)
        return VG_ERR_SET(err, VG_EIO, "%s: not a readable Avro container file: %s", path,
                          avro_strerror());
    return 0;
}

static int open_current(struct vg_file_input *fi, struct vg_err *err)
{
    const char *path = fi->paths[fi->cur];
    bool std_in = strcmp(path, "-") == 0;
    int fd = std_in ? fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return VG_ERR_SET(err, VG_EIO, "%s: %s", std_in ? "standard input" : path,
                          strerror(errno));
    int rc = 0;
    struct stat sb;
    unsigned char magic[4] = {0};
    /* a regular file is sniffed without moving its offset; a stream as it is read */
    ssize_t got = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ? pread(fd, magic, 4, 0) : -1;
    if (got == 4 && !memcmp(magic, "Obj\x01", 4)) {
        if (!(fi->in = fdopen(fd, "rb"))) {
            close(fd);
            rc = VG_ERR_SET(err, VG_EIO, "%s: %s", path, strerror(errno));
        } else if (avro_file_reader_fp(fi->in, path, 0, &fi->avro) != 0) {
            rc = VG_ERR_SET(err, VG_EIO, "%s: not a readable Avro container file: %s", path,
                            avro_strerror());
        }
    } else if (got >= 0 && !(got >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) &&
               map_plain(fi, fd, (size_t)sb.st_size)) {
        close(fd); /* the mapping stays */
    } else {
        rc = open_stream(fi, fd, path, err);
    }
    if (rc == 0 && fi->avro) {
        fi->schema = avro_file_reader_get_writer_schema(fi->avro);
        fi->iface = avro_generic_class_from_schema(fi->schema);
        if (!fi->iface || avro_generic_value_new(fi->iface, &fi->value) != 0)
            rc = VG_ERR_SET(err, VG_EIO, "%s: %s", path, avro_strerror());
        else
            fi->have_value = true;
    }
    if (rc) {
        close_current(fi);
        return rc;
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

/* One line of the current stream, without its newline; 0 at its end. */
static int next_line(struct vg_file_input *fi, const char **data, size_t *len, struct vg_err *err)
{
    ssize_t n = getline(&fi->text, &fi->text_cap, fi->in);
    if (n < 0) {
        if (ferror(fi->in))
            return VG_ERR_SET(err, VG_EIO, "%s: %s", fi->paths[fi->cur], gz_why(fi));
        return 0;
    }
    if (n > 0 && fi->text[n - 1] == '\n')
        n--;
    *data = fi->text;
    *len = (size_t)n;
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

/* rec holds an envelope line: the record inside it, or the line with why it is bad. */
static void unwrap(struct vg_file_input *fi, struct vg_file_rec *rec)
{
    struct vg_file_envelope env;
    struct vg_err err = {0};
    rec->envelope = true;
    if (vg_file_envelope_parse(rec->data, rec->len, &fi->payload, &env, &err) != 0) {
        snprintf(fi->why, sizeof(fi->why), "%s (line %llu)", err.msg,
                 (unsigned long long)rec->line);
        rec->bad = fi->why;
        return;
    }
    rec->partition = env.partition;
    rec->offset = env.offset;
    rec->ts = env.ts;
    rec->topic = env.topic;
    rec->topic_len = env.topic_len;
    rec->data = env.payload;
    rec->len = env.payload_len;
    rec->kept &= !env.payload_copied;
}

int vg_file_input_next(struct vg_file_input *fi, struct vg_file_rec *rec, struct vg_err *err)
{
    while (fi->cur < fi->n) {
        if (!fi->open) {
            int rc = open_current(fi, err);
            if (rc)
                return rc;
        }
        const char *data = NULL;
        size_t len = 0;
        int rc = fi->avro  ? next_datum(fi, &data, &len, err)
                 : fi->map ? next_mapped(fi, &data, &len)
                           : next_line(fi, &data, &len, err);
        if (rc < 0)
            return rc;
        if (rc > 0) {
            fi->line++;
            if (len == 0 && !fi->avro)
                continue; /* a blank line */
            *rec = (struct vg_file_rec){.data = data, .len = len, .path = fi->paths[fi->cur],
                                        .line = fi->line, .kept = fi->map != NULL,
                                        .offset = -1, .ts = INT64_MIN};
            if (!fi->avro && !fi->sniffed) {
                fi->sniffed = true;
                fi->envelope = vg_file_envelope_is(data, len);
            }
            if (fi->envelope)
                unwrap(fi, rec);
            return 1;
        }
        close_current(fi);
        fi->cur++;
    }
    return 0;
}
