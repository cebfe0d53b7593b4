/* SPDX-License-Identifier: Apache-2.0 */
/*
 * expr_compile.c - from a parsed expression to an immutable program: field paths resolved
 * to slots, function names and arities checked, static types checked, regexes and CIDRs
 * prepared, constants folded (including `false && x` and `true || x`).
 *
 * Thread: main (load time). The result is shared read-only by every evaluating thread.
 */
#include "expr_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const vg_expr_fn_names[F_COUNT_] = {
    [F_CONTAINS] = "contains", [F_STARTSWITH] = "startswith", [F_ENDSWITH] = "endswith",
    [F_MATCHES] = "matches",   [F_LOWER] = "lower",           [F_UPPER] = "upper",
    [F_LEN] = "len",           [F_EXISTS] = "exists",         [F_COALESCE] = "coalesce",
    [F_CIDR_MATCH] = "cidr_match",
};

/* arity: exact count, or -1 for "at least one" */
static const int fn_arity[F_COUNT_] = {
    [F_CONTAINS] = 2, [F_STARTSWITH] = 2, [F_ENDSWITH] = 2, [F_MATCHES] = 2, [F_LOWER] = 1,
    [F_UPPER] = 1,    [F_LEN] = 1,        [F_EXISTS] = 1,   [F_COALESCE] = -1,
    [F_CIDR_MATCH] = 2,
};

struct compiler {
    struct vg_expr *e;
    const char *src;
    const struct vg_expr_opts *opts;
    struct vg_diag *diag;
    struct vg_expr_ctx *fold;   /* for evaluating constant subtrees */
    bool failed;
};

static void cerr(struct compiler *c, const struct vg_expr_node *n, const char *hint,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void cerr(struct compiler *c, const struct vg_expr_node *n, const char *hint,
                 const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    vg_expr_error(c->diag, c->opts, c->src, n->pos, hint, "%s", msg);
    c->failed = true;
}

static const char *ty_name(int ty)
{
    switch (ty) {
    case TY_NULL: return "null";
    case TY_BOOL: return "a boolean";
    case TY_INT: return "an integer";
    case TY_FLOAT: return "a number";
    case TY_STR: return "a string";
    case TY_LIST: return "a list";
    default: return "a field";
    }
}

static int ty_of_value(const struct vg_value *v)
{
    switch (v->type) {
    case VG_T_BOOL: return TY_BOOL;
    case VG_T_INT: return TY_INT;
    case VG_T_FLOAT: return TY_FLOAT;
    case VG_T_STR: return TY_STR;
    case VG_T_LIST: return TY_LIST;
    default: return TY_NULL;
    }
}

static bool is_num(int ty) { return ty == TY_INT || ty == TY_FLOAT; }

static void add_slot(struct vg_expr *e, int slot)
{
    for (size_t i = 0; i < e->n_slots; i++)
        if (e->slots[i] == slot)
            return;
    e->slots = vg_xrealloc(e->slots, (e->n_slots + 1) * sizeof(*e->slots));
    e->slots[e->n_slots++] = slot;
}

/* Turn n into a constant holding v (copied into the program's constants). */
static void make_const(struct compiler *c, struct vg_expr_node *n, const struct vg_value *v)
{
    for (size_t i = 0; i < n->n_args; i++)
        vg_expr_node_free(n->args[i]);
    vg_free(n->args);
    n->args = NULL;
    n->n_args = 0;
    vg_free(n->path);
    n->path = NULL;
    if (n->re) {
        pcre2_code_free(n->re);
        n->re = NULL;
    }
    n->op = E_CONST;
    n->v = *v;
    if (v->type == VG_T_STR)
        n->v.u.s = vg_arena_strndup(&c->e->consts, v->u.s, v->len);
    n->ty = (uint8_t)ty_of_value(&n->v);
}

static int parse_cidr(const char *s, size_t len, uint8_t addr[16], int *bits, int *family)
{
    char buf[80];
    if (len >= sizeof(buf))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *slash = strchr(buf, '/');
    int b = -1;
    if (slash) {
        *slash = '\0';
        char *end;
        long v = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || v < 0 || v > 128)
            return -1;
        b = (int)v;
    }
    memset(addr, 0, 16);
    if (inet_pton(AF_INET, buf, addr) == 1) {
        *family = 4;
        if (b > 32)
            return -1;
        *bits = b < 0 ? 32 : b;
    } else if (inet_pton(AF_INET6, buf, addr) == 1) {
        *family = 6;
        *bits = b < 0 ? 128 : b;
    } else {
        return -1;
    }
    /* keep only the network part */
    for (int i = 0; i < 16; i++) {
        int keep = *bits - 8 * i;
        if (keep <= 0)
            addr[i] = 0;
        else if (keep < 8)
            addr[i] &= (uint8_t)(0xFF << (8 - keep));
    }
    return 0;
}

static void compile_node(struct compiler *c, struct vg_expr_node *n);

static void compile_call(struct compiler *c, struct vg_expr_node *n)
{
    int fn = -1;
    for (int i = 0; i < F_COUNT_; i++)
        if (strcmp(n->path, vg_expr_fn_names[i]) == 0)
            fn = i;
    if (fn < 0) {
        const char *close = vg_diag_closest(n->path, vg_expr_fn_names, F_COUNT_);
        char hint[128];
        snprintf(hint, sizeof(hint), "did you mean '%s'?", close ? close : "");
        cerr(c, n, close ? hint : NULL, "unknown function '%s'", n->path);
        return;
    }
    n->fn = (uint8_t)fn;
    int want = fn_arity[fn];
    if ((want >= 0 && (int)n->n_args != want) || (want < 0 && n->n_args == 0)) {
        if (want < 0)
            cerr(c, n, NULL, "'%s' takes at least 1 argument, got 0", n->path);
        else
            cerr(c, n, NULL, "'%s' takes %d argument%s, got %zu", n->path, want,
                 want == 1 ? "" : "s", n->n_args);
        return;
    }
    if (fn == F_EXISTS && n->args[0]->op != E_FIELD) {
        cerr(c, n->args[0], NULL, "'exists' takes a field, like exists(user)");
        return;
    }
    for (size_t i = 0; i < n->n_args; i++)
        compile_node(c, n->args[i]);
    if (c->failed)
        return;
    switch (fn) {
    case F_LOWER:
    case F_UPPER:
        n->ty = TY_STR;
        break;
    case F_LEN:
        n->ty = TY_INT;
        break;
    case F_COALESCE:
        n->ty = TY_ANY;
        break;
    default:
        n->ty = TY_BOOL;
        break;
    }
    if (fn == F_MATCHES) {
        const struct vg_expr_node *pat = n->args[1];
        if (pat->op != E_CONST || pat->v.type != VG_T_STR) {
            cerr(c, pat, NULL, "matches: the pattern must be a string constant");
            return;
        }
        int code;
        PCRE2_SIZE off;
        n->re = pcre2_compile((PCRE2_SPTR)pat->v.u.s, pat->v.len,
                              PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &off, NULL);
        if (!n->re) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(code, msg, sizeof(msg));
            cerr(c, pat, NULL, "matches: invalid regular expression: %s at offset %zu",
                 (const char *)msg, (size_t)off);
            return;
        }
        pcre2_jit_compile(n->re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
    }
    if (fn == F_CIDR_MATCH) {
        const struct vg_expr_node *net = n->args[1];
        if (net->op != E_CONST || net->v.type != VG_T_STR) {
            cerr(c, net, NULL, "cidr_match: the network must be a string constant");
            return;
        }
        if (parse_cidr(net->v.u.s, net->v.len, n->cidr, &n->cidr_bits, &n->cidr_family) != 0) {
            cerr(c, net, NULL, "cidr_match: invalid CIDR '%.*s'", (int)net->v.len, net->v.u.s);
            return;
        }
    }
    for (size_t i = 0; i < n->n_args; i++) {
        int ty = n->args[i]->ty;
        bool str_arg = (fn == F_STARTSWITH || fn == F_ENDSWITH || fn == F_MATCHES ||
                        fn == F_LOWER || fn == F_UPPER || fn == F_CIDR_MATCH) ||
                       (fn == F_CONTAINS && i == 1);
        if (str_arg && (is_num(ty) || ty == TY_BOOL || (ty == TY_LIST && fn != F_CONTAINS)))
            cerr(c, n->args[i], NULL, "'%s' needs a string, this is %s", n->path, ty_name(ty));
    }
}

static void check_arith(struct compiler *c, struct vg_expr_node *n)
{
    static const char *const sym[] = {[E_ADD] = "+", [E_SUB] = "-", [E_MUL] = "*",
                                      [E_DIV] = "/", [E_MOD] = "%"};
    int a = n->args[0]->ty, b = n->args[1]->ty;
    if (n->op == E_ADD && (a == TY_STR || b == TY_STR)) {
        int other = a == TY_STR ? b : a;
        if (other != TY_STR && other != TY_ANY && other != TY_NULL) {
            cerr(c, n, NULL, "'+' joins two strings or adds two numbers, not a string and %s",
                 ty_name(other));
            return;
        }
        n->ty = TY_STR;
        return;
    }
    for (int i = 0; i < 2; i++) {
        int t = n->args[i]->ty;
        if (t == TY_STR || t == TY_BOOL || t == TY_LIST) {
            cerr(c, n->args[i], NULL, "'%s' needs numbers, this is %s", sym[n->op], ty_name(t));
            return;
        }
    }
    if (a == TY_INT && b == TY_INT)
        n->ty = TY_INT;
    else if (a == TY_ANY && b == TY_ANY && n->op == E_ADD)
        n->ty = TY_ANY; /* two fields: numbers or strings */
    else
        n->ty = TY_FLOAT; /* a number */
}

static bool all_const(const struct vg_expr_node *n)
{
    for (size_t i = 0; i < n->n_args; i++)
        if (n->args[i]->op != E_CONST)
            return false;
    return true;
}

static void compile_node(struct compiler *c, struct vg_expr_node *n)
{
    if (c->failed)
        return;
    switch (n->op) {
    case E_CONST:
        n->ty = (uint8_t)ty_of_value(&n->v);
        return;
    case E_FIELD: {
        char hint[256] = "";
        int slot = -1;
        if (!c->opts->resolve ||
            c->opts->resolve(c->opts->resolve_ud, n->path, &slot, hint, sizeof(hint)) != 0) {
            cerr(c, n, hint[0] ? hint : NULL, "unknown field '%s'", n->path);
            return;
        }
        n->slot = slot;
        n->ty = TY_ANY;
        add_slot(c->e, slot);
        return;
    }
    case E_LIST: {
        for (size_t i = 0; i < n->n_args; i++) {
            compile_node(c, n->args[i]);
            if (c->failed)
                return;
            if (n->args[i]->op != E_CONST || n->args[i]->v.type == VG_T_LIST) {
                cerr(c, n->args[i], NULL, "list items must be constants");
                return;
            }
        }
        struct vg_value *items =
            vg_arena_alloc(&c->e->consts, (n->n_args ? n->n_args : 1) * sizeof(*items));
        for (size_t i = 0; i < n->n_args; i++) {
            items[i] = n->args[i]->v;
            if (items[i].type == VG_T_STR)
                items[i].u.s = vg_arena_strndup(&c->e->consts, items[i].u.s, items[i].len);
        }
        struct vg_value v = {.type = VG_T_LIST, .len = (uint32_t)n->n_args};
        v.u.list = items;
        make_const(c, n, &v);
        return;
    }
    case E_CALL:
        compile_call(c, n);
        break;
    default:
        for (size_t i = 0; i < n->n_args; i++)
            compile_node(c, n->args[i]);
        if (c->failed)
            return;
        switch (n->op) {
        case E_NOT:
        case E_AND:
        case E_OR:
            for (size_t i = 0; i < n->n_args; i++) {
                int t = n->args[i]->ty;
                if (t != TY_BOOL && t != TY_ANY && t != TY_NULL) {
                    cerr(c, n->args[i], NULL, "'%s' needs conditions, this is %s",
                         n->op == E_NOT ? "!" : n->op == E_AND ? "&&" : "||", ty_name(t));
                    return;
                }
            }
            n->ty = TY_BOOL;
            /* false && x, true || x */
            const struct vg_expr_node *l = n->args[0];
            if (n->op != E_NOT && l->op == E_CONST && l->v.type == VG_T_BOOL &&
                l->v.u.b == (n->op == E_OR)) {
                struct vg_value v = vg_value_bool(n->op == E_OR);
                make_const(c, n, &v);
                return;
            }
            break;
        case E_NEG:
            if (n->args[0]->ty == TY_STR || n->args[0]->ty == TY_BOOL ||
                n->args[0]->ty == TY_LIST) {
                cerr(c, n->args[0], NULL, "'-' needs a number, this is %s",
                     ty_name(n->args[0]->ty));
                return;
            }
            n->ty = n->args[0]->ty;
            break;
        case E_ADD:
        case E_SUB:
        case E_MUL:
        case E_DIV:
        case E_MOD:
            check_arith(c, n);
            break;
        case E_IN: {
            const struct vg_expr_node *r = n->args[1];
            if (r->ty != TY_LIST && r->ty != TY_ANY && r->ty != TY_STR) {
                cerr(c, r, NULL, "'in' needs a list like [\"a\", \"b\"] or a list field, "
                                 "this is %s", ty_name(r->ty));
                return;
            }
            n->ty = TY_BOOL;
            break;
        }
        default:
            n->ty = TY_BOOL; /* comparisons */
            break;
        }
    }
    if (c->failed)
        return;
    if (n->op != E_CALL || n->fn != F_EXISTS) {
        if (all_const(n)) {
            struct vg_value v;
            vg_expr_eval_node(n, NULL, c->fold, &v);
            make_const(c, n, &v);
            vg_expr_ctx_reset(c->fold);
        }
    }
}

struct vg_expr *vg_expr_compile(const char *src, size_t len, const struct vg_expr_opts *opts,
                                struct vg_diag *diag)
{
    struct vg_expr *e = vg_xcalloc(1, sizeof(*e));
    vg_arena_init(&e->consts, 1024);
    e->root = vg_expr_parse(src, len, &e->consts, opts, diag);
    if (!e->root) {
        vg_expr_free(e);
        return NULL;
    }
    struct compiler c = {.e = e, .src = src, .opts = opts, .diag = diag,
                         .fold = vg_expr_ctx_new()};
    compile_node(&c, e->root);
    if (!c.failed && opts->want == VG_EXPR_BOOL) {
        int ty = e->root->ty;
        if (ty != TY_BOOL && ty != TY_ANY) {
            struct vg_expr_node at = {.pos = 0};
            cerr(&c, &at, NULL, "the condition must be true or false, this is %s", ty_name(ty));
        }
    }
    vg_expr_ctx_free(c.fold);
    if (c.failed) {
        vg_expr_free(e);
        return NULL;
    }
    return e;
}

void vg_expr_free(struct vg_expr *e)
{
    if (!e)
        return;
    vg_expr_node_free(e->root);
    vg_arena_fini(&e->consts);
    vg_free(e->slots);
    vg_free(e);
}

bool vg_expr_is_const(const struct vg_expr *e)
{
    return e->root->op == E_CONST;
}

bool vg_expr_field(const struct vg_expr *e, int *slot)
{
    if (e->root->op != E_FIELD)
        return false;
    *slot = e->root->slot;
    return true;
}

static bool index_term(const struct vg_expr_node *n, int *slot, const struct vg_value **lits,
                       size_t *n_lits)
{
    if (n->op == E_AND)
        return index_term(n->args[0], slot, lits, n_lits) ||
               index_term(n->args[1], slot, lits, n_lits);
    if (n->op == E_EQ) {
        for (int i = 0; i < 2; i++) {
            const struct vg_expr_node *f = n->args[i], *k = n->args[1 - i];
            if (f->op == E_FIELD && k->op == E_CONST && k->v.type == VG_T_STR) {
                *slot = f->slot;
                *lits = &k->v;
                *n_lits = 1;
                return true;
            }
        }
        return false;
    }
    if (n->op == E_IN && n->args[0]->op == E_FIELD && n->args[1]->op == E_CONST &&
        n->args[1]->v.type == VG_T_LIST) {
        const struct vg_value *list = &n->args[1]->v;
        for (uint32_t i = 0; i < list->len; i++)
            if (list->u.list[i].type != VG_T_STR)
                return false;
        *slot = n->args[0]->slot;
        *lits = list->u.list;
        *n_lits = list->len;
        return true;
    }
    return false;
}

bool vg_expr_index_term(const struct vg_expr *e, int *slot, const struct vg_value **lits,
                        size_t *n_lits)
{
    return index_term(e->root, slot, lits, n_lits);
}

static bool floor_of(const struct vg_expr_node *n, int slot, int64_t *floor)
{
    int64_t a, b;
    if (n->op == E_AND) {
        bool fa = floor_of(n->args[0], slot, &a), fb = floor_of(n->args[1], slot, &b);
        *floor = fa && fb ? VG_MAX(a, b) : fa ? a : b;
        return fa || fb;
    }
    if (n->op == E_OR) {
        if (!floor_of(n->args[0], slot, &a) || !floor_of(n->args[1], slot, &b))
            return false;
        *floor = VG_MIN(a, b);
        return true;
    }
    if (n->op != E_GE && n->op != E_GT && n->op != E_LE && n->op != E_LT && n->op != E_EQ)
        return false;
    /* the field on the left: GE, GT, EQ; on the right: LE, LT (10 <= slot), EQ */
    bool left = n->args[0]->op == E_FIELD && n->args[0]->slot == slot;
    bool right = n->args[1]->op == E_FIELD && n->args[1]->slot == slot;
    const struct vg_expr_node *k = left ? n->args[1] : n->args[0];
    if ((!left && !right) || k->op != E_CONST || k->v.type != VG_T_INT)
        return false;
    int64_t v = k->v.u.i;
    if (n->op == E_EQ || (left && n->op == E_GE) || (right && n->op == E_LE))
        *floor = v;
    else if ((left && n->op == E_GT) || (right && n->op == E_LT))
        *floor = v == INT64_MAX ? v : v + 1;
    else
        return false;
    return true;
}

bool vg_expr_floor(const struct vg_expr *e, int slot, int64_t *floor)
{
    return floor_of(e->root, slot, floor);
}

size_t vg_expr_slots(const struct vg_expr *e, const int **slots)
{
    *slots = e->slots;
    return e->n_slots;
}
