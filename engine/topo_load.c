/* SPDX-License-Identifier: Apache-2.0 */
/*
 * topo_load.c - YAML to a tree of struct vg_ynode with positions, with ${VAR} and
 * ${VAR:-default} taken from the environment; and loading a topology file (read, parse,
 * then topo_check.c).
 *
 * libyaml's event parser drives a small stack; anchors and aliases are rejected (a topology
 * should read the same to people as to the engine), tags are ignored, only the first
 * document is used.
 *
 * Thread: main (load time).
 */
#include "topo.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "arena.h"

static struct vg_ynode *ynode_new(enum vg_ytype type, const char *file, yaml_mark_t m)
{
    struct vg_ynode *y = vg_xcalloc(1, sizeof(*y));
    y->type = type;
    y->mark.file = file;
    y->mark.line = (int)m.line + 1;
    y->mark.col = (int)m.column + 1;
    return y;
}

void vg_ynode_free(struct vg_ynode *y)
{
    if (!y)
        return;
    for (size_t i = 0; i < y->n; i++) {
        vg_ynode_free(y->items[i]);
        if (y->keys)
            vg_ynode_free(y->keys[i]);
    }
    vg_free(y->items);
    vg_free(y->keys);
    vg_free(y->str);
    vg_free(y);
}

const struct vg_ynode *vg_ynode_get(const struct vg_ynode *map, const char *key)
{
    if (!map || map->type != VG_Y_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->keys[i]->str, key) == 0)
            return map->items[i];
    return NULL;
}

size_t vg_ylist_len(const struct vg_ynode *y)
{
    return !y ? 0 : y->type == VG_Y_SEQ ? y->n : 1;
}

const char *vg_ylist_str(const struct vg_ynode *y, size_t i)
{
    return y->type == VG_Y_SEQ ? y->items[i]->str : y->str;
}

/* Replace ${VAR} / ${VAR:-default} in s; `$${` is a literal `${`. Returns false after a
 * diagnostic when a variable without default is unset or the syntax is broken. */
static bool interpolate(struct vg_ynode *y, struct vg_diag *diag)
{
    const char *s = y->str;
    if (!strstr(s, "${"))
        return true;
    struct vg_buf b;
    vg_buf_init(&b);
    bool ok = true;
    for (size_t i = 0; s[i];) {
        if (s[i] == '$' && s[i + 1] == '$' && s[i + 2] == '{') {
            vg_buf_puts(&b, "${");
            i += 3;
            continue;
        }
        if (s[i] != '$' || s[i + 1] != '{') {
            vg_buf_putc(&b, s[i++]);
            continue;
        }
        const char *close = strchr(s + i + 2, '}');
        if (!close) {
            vg_diag_add(diag, y->mark, NULL, "unterminated ${ in '%s'", s);
            ok = false;
            break;
        }
        const char *name = s + i + 2;
        const char *dflt = strstr(name, ":-");
        if (dflt && dflt > close)
            dflt = NULL;
        size_t name_len = (size_t)((dflt ? dflt : close) - name);
        char var[256];
        bool valid = name_len > 0 && name_len < sizeof(var);
        for (size_t k = 0; valid && k < name_len; k++)
            valid = name[k] == '_' || (name[k] >= 'A' && name[k] <= 'Z') ||
                    (name[k] >= 'a' && name[k] <= 'z') || (k > 0 && name[k] >= '0' && name[k] <= '9');
        if (!valid) {
            vg_diag_add(diag, y->mark, NULL, "bad variable name in '${%.*s}'",
                        (int)(close - name), name);
            ok = false;
            break;
        }
        memcpy(var, name, name_len);
        var[name_len] = '\0';
        const char *val = getenv(var);
        if (val && (*val || !dflt)) { /* as in sh: the default also replaces "" */
            vg_buf_puts(&b, val);
        } else if (dflt) {
            vg_buf_append(&b, dflt + 2, (size_t)(close - dflt - 2));
        } else {
            vg_diag_add(diag, y->mark, NULL,
                        "environment variable '%s' is not set (write ${%s:-default} to give a "
                        "default)",
                        var, var);
            ok = false;
            break;
        }
        i = (size_t)(close - s) + 1;
    }
    if (ok) {
        vg_free(y->str);
        y->len = b.len;
        y->str = vg_xstrndup(b.data ? b.data : "", b.len);
        y->interpolated = true;
    }
    vg_buf_fini(&b);
    return ok;
}

static void push_child(struct vg_ynode *parent, struct vg_ynode *child, struct vg_ynode **pending)
{
    if (parent->type == VG_Y_SEQ) {
        parent->items = vg_xrealloc(parent->items, (parent->n + 1) * sizeof(*parent->items));
        parent->items[parent->n++] = child;
        return;
    }
    if (!*pending) { /* a key */
        *pending = child;
        return;
    }
    parent->keys = vg_xrealloc(parent->keys, (parent->n + 1) * sizeof(*parent->keys));
    parent->items = vg_xrealloc(parent->items, (parent->n + 1) * sizeof(*parent->items));
    parent->keys[parent->n] = *pending;
    parent->items[parent->n++] = child;
    *pending = NULL;
}

#define VG_YAML_MAX_DEPTH 64

struct vg_ynode *vg_yaml_load_string(const char *file, const char *text, size_t len,
                                     struct vg_diag *diag)
{
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    struct vg_ynode *stack[VG_YAML_MAX_DEPTH + 1];
    struct vg_ynode *pending[VG_YAML_MAX_DEPTH + 1];
    int depth = 0;
    struct vg_ynode *root = NULL;
    bool ok = true, done = false;
    size_t before = vg_diag_count(diag);
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            struct vg_mark m = {file, (int)parser.problem_mark.line + 1,
                                (int)parser.problem_mark.column + 1};
            if (parser.context)
                vg_diag_add(diag, m, NULL, "YAML: %s %s", parser.problem ? parser.problem : "error",
                            parser.context);
            else
                vg_diag_add(diag, m, NULL, "YAML: %s", parser.problem ? parser.problem : "error");
            ok = false;
            break;
        }
        struct vg_ynode *y = NULL;
        switch (ev.type) {
        case YAML_SCALAR_EVENT: {
            y = ynode_new(VG_Y_SCALAR, file, ev.start_mark);
            y->str = vg_xstrndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
            y->len = ev.data.scalar.length;
            switch (ev.data.scalar.style) {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: y->quote = '\''; break;
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: y->quote = '"'; break;
            case YAML_LITERAL_SCALAR_STYLE: y->quote = '|'; break;
            case YAML_FOLDED_SCALAR_STYLE: y->quote = '>'; break;
            default: y->quote = 0; break;
            }
            if (!interpolate(y, diag))
                ok = false;
            break;
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (depth >= VG_YAML_MAX_DEPTH) {
                vg_diag_add(diag, (struct vg_mark){file, (int)ev.start_mark.line + 1,
                                                   (int)ev.start_mark.column + 1},
                            NULL, "YAML: nested more than %d levels", VG_YAML_MAX_DEPTH);
                ok = false;
                done = true;
                break;
            }
            y = ynode_new(ev.type == YAML_SEQUENCE_START_EVENT ? VG_Y_SEQ : VG_Y_MAP, file,
                          ev.start_mark);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            y = stack[--depth];
            break;
        case YAML_ALIAS_EVENT:
            vg_diag_add(diag, (struct vg_mark){file, (int)ev.start_mark.line + 1,
                                               (int)ev.start_mark.column + 1},
                        NULL, "YAML: aliases (*name) are not supported; write the value out");
            ok = false;
            done = true;
            break;
        case YAML_DOCUMENT_END_EVENT:
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        default:
            break;
        }
        bool opens = ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT;
        yaml_event_delete(&ev);
        if (!y || done)
            continue;
        if (opens) {
            pending[depth] = NULL;
            stack[depth++] = y;
            continue;
        }
        /* a finished scalar or collection: attach to its parent or make it the root */
        if (depth == 0) {
            root = y;
            continue;
        }
        struct vg_ynode *parent = stack[depth - 1];
        if (parent->type == VG_Y_MAP && !pending[depth - 1] && y->type != VG_Y_SCALAR) {
            vg_diag_add(diag, y->mark, NULL, "YAML: keys must be plain strings");
            vg_ynode_free(y);
            ok = false;
            done = true;
            continue;
        }
        push_child(parent, y, &pending[depth - 1]);
    }
    /* on errors, free what is still on the stack */
    while (depth > 0) {
        struct vg_ynode *y = stack[--depth];
        vg_ynode_free(pending[depth]);
        if (depth == 0)
            vg_ynode_free(y);
        else
            push_child(stack[depth - 1], y, &pending[depth - 1]);
    }
    yaml_parser_delete(&parser);
    if (!ok || vg_diag_count(diag) > before) {
        vg_ynode_free(root);
        return NULL;
    }
    if (!root) {
        vg_diag_add(diag, (struct vg_mark){file, 1, 1}, NULL, "empty YAML document");
        return NULL;
    }
    return root;
}

static char *read_file(const char *path, size_t *len, struct vg_diag *diag, const char *what)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        vg_diag_add(diag, (struct vg_mark){path, 0, 0}, NULL, "cannot read %s: %s", what,
                    strerror(errno));
        return NULL;
    }
    struct vg_buf b;
    vg_buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        vg_buf_append(&b, chunk, n);
    bool err = ferror(f);
    fclose(f);
    if (err) {
        vg_buf_fini(&b);
        vg_diag_add(diag, (struct vg_mark){path, 0, 0}, NULL, "cannot read %s: %s", what,
                    strerror(errno));
        return NULL;
    }
    *len = b.len;
    char *s = vg_xstrndup(b.data ? b.data : "", b.len);
    vg_buf_fini(&b);
    return s;
}

/* File names in marks must outlive the tree: keep one copy per loaded file for the process
 * (a handful of files per run). */
static const char *intern_name(const char *path)
{
    static struct { char **v; size_t n; } names;
    for (size_t i = 0; i < names.n; i++)
        if (strcmp(names.v[i], path) == 0)
            return names.v[i];
    names.v = vg_xrealloc(names.v, (names.n + 1) * sizeof(*names.v));
    return names.v[names.n++] = vg_xstrdup(path);
}

struct vg_ynode *vg_yaml_load(const char *path, struct vg_diag *diag)
{
    size_t len;
    char *text = read_file(path, &len, diag, "file");
    if (!text)
        return NULL;
    struct vg_ynode *y = vg_yaml_load_string(intern_name(path), text, len, diag);
    vg_free(text);
    return y;
}

struct vg_topology *vg_topo_load_string(const char *file, const char *text, size_t len,
                                        struct vg_diag *diag)
{
    file = intern_name(file);
    struct vg_ynode *root = vg_yaml_load_string(file, text, len, diag);
    if (!root)
        return NULL;
    struct vg_topology *topo = vg_topo_check(file, root, diag);
    if (!topo)
        return NULL;
    char *copy = vg_xstrdup(file);
    topo->dir = vg_xstrdup(dirname(copy));
    vg_free(copy);
    return topo;
}

struct vg_topology *vg_topo_load(const char *path, struct vg_diag *diag)
{
    size_t len;
    char *text = read_file(path, &len, diag, "topology");
    if (!text)
        return NULL;
    struct vg_topology *topo = vg_topo_load_string(path, text, len, diag);
    vg_free(text);
    return topo;
}
