/* SPDX-License-Identifier: Apache-2.0 */
/*
 * expr_vm.c - evaluation of compiled expressions against an event's slots.
 *
 * A recursive walk of the compiled tree (fields are slot reads, constants are folded, so the
 * walk is short). Nothing is allocated per evaluation except strings made by lower, upper
 * and `+`, which go to the context's arena and are released by vg_expr_ctx_reset. Null rules
 * are those of expr.h; nothing an event contains can make evaluation fail.
 *
 * Thread: the owner of ctx; the program is read-only.
 */
#include "expr_int.h"

#include <arpa/inet.h>
#include <math.h>
#include <string.h>

struct vg_expr_ctx {
    struct vg_arena scratch;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jit;
};

struct vg_expr_ctx *vg_expr_ctx_new(void)
{
    struct vg_expr_ctx *ctx = vg_xcalloc(1, sizeof(*ctx));
    vg_arena_init(&ctx->scratch, 4096);
    ctx->md = pcre2_match_data_create(1, NULL);
    ctx->mctx = pcre2_match_context_create(NULL);
    pcre2_set_match_limit(ctx->mctx, VG_EXPR_MATCH_LIMIT);
    ctx->jit = pcre2_jit_stack_create(32 * 1024, 512 * 1024, NULL);
    if (ctx->jit)
        pcre2_jit_stack_assign(ctx->mctx, NULL, ctx->jit);
    if (!ctx->md || !ctx->mctx)
        vg_xmalloc((size_t)-1); /* aborts with a message, as every failed allocation does */
    return ctx;
}

void vg_expr_ctx_free(struct vg_expr_ctx *ctx)
{
    if (!ctx)
        return;
    vg_arena_fini(&ctx->scratch);
    pcre2_match_data_free(ctx->md);
    pcre2_match_context_free(ctx->mctx);
    if (ctx->jit)
        pcre2_jit_stack_free(ctx->jit);
    vg_free(ctx);
}

void vg_expr_ctx_reset(struct vg_expr_ctx *ctx)
{
    vg_arena_reset(&ctx->scratch);
}

static bool is_num(const struct vg_value *v)
{
    return v->type == VG_T_INT || v->type == VG_T_FLOAT;
}

static double as_f(const struct vg_value *v)
{
    return v->type == VG_T_INT ? (double)v->u.i : v->u.f;
}

/* <0, 0, >0, or 2 when the two cannot be ordered */
static int order(const struct vg_value *a, const struct vg_value *b)
{
    if (is_num(a) && is_num(b)) {
        if (a->type == VG_T_INT && b->type == VG_T_INT)
            return (a->u.i > b->u.i) - (a->u.i < b->u.i);
        double x = as_f(a), y = as_f(b);
        if (x != x || y != y)
            return 2;
        return (x > y) - (x < y);
    }
    if (a->type == VG_T_STR && b->type == VG_T_STR) {
        size_t n = VG_MIN(a->len, b->len);
        int r = n ? memcmp(a->u.s, b->u.s, n) : 0;
        if (r)
            return r < 0 ? -1 : 1;
        return (a->len > b->len) - (a->len < b->len);
    }
    if (a->type == VG_T_BOOL && b->type == VG_T_BOOL)
        return (a->u.b > b->u.b) - (a->u.b < b->u.b);
    return 2;
}

static bool list_has(const struct vg_value *list, const struct vg_value *x)
{
    for (uint32_t i = 0; i < list->len; i++)
        if (vg_value_equal(&list->u.list[i], x))
            return true;
    return false;
}

static bool contains_str(const struct vg_value *s, const struct vg_value *sub)
{
    if (sub->len == 0)
        return true;
    return s->len >= sub->len && memmem(s->u.s, s->len, sub->u.s, sub->len) != NULL;
}

static void arith(const struct vg_expr_node *n, const struct vg_value *a,
                  const struct vg_value *b, struct vg_expr_ctx *ctx, struct vg_value *out)
{
    if (n->op == E_ADD && a->type == VG_T_STR && b->type == VG_T_STR) {
        char *s = vg_arena_alloc(&ctx->scratch, (size_t)a->len + b->len + 1);
        if (a->len)
            memcpy(s, a->u.s, a->len);
        if (b->len)
            memcpy(s + a->len, b->u.s, b->len);
        s[a->len + b->len] = '\0';
        *out = vg_value_str(s, (size_t)a->len + b->len);
        return;
    }
    if (!is_num(a) || !is_num(b)) {
        *out = VG_NULL_VALUE;
        return;
    }
    if (a->type == VG_T_INT && b->type == VG_T_INT) {
        uint64_t x = (uint64_t)a->u.i, y = (uint64_t)b->u.i;
        switch (n->op) {
        case E_ADD: *out = vg_value_int((int64_t)(x + y)); return;
        case E_SUB: *out = vg_value_int((int64_t)(x - y)); return;
        case E_MUL: *out = vg_value_int((int64_t)(x * y)); return;
        default:
            if (b->u.i == 0 || (a->u.i == INT64_MIN && b->u.i == -1)) {
                *out = b->u.i == 0 ? VG_NULL_VALUE
                                   : (n->op == E_DIV ? vg_value_int(INT64_MIN) : vg_value_int(0));
                return;
            }
            *out = vg_value_int(n->op == E_DIV ? a->u.i / b->u.i : a->u.i % b->u.i);
            return;
        }
    }
    double x = as_f(a), y = as_f(b), r;
    switch (n->op) {
    case E_ADD: r = x + y; break;
    case E_SUB: r = x - y; break;
    case E_MUL: r = x * y; break;
    case E_DIV:
        if (y == 0) {
            *out = VG_NULL_VALUE;
            return;
        }
        r = x / y;
        break;
    default:
        if (y == 0) {
            *out = VG_NULL_VALUE;
            return;
        }
        r = fmod(x, y);
        break;
    }
    *out = isfinite(r) ? vg_value_float(r) : VG_NULL_VALUE;
}

static bool cidr_match(const struct vg_expr_node *n, const struct vg_value *ip)
{
    char buf[64];
    if (ip->len == 0 || ip->len >= sizeof(buf))
        return false;
    memcpy(buf, ip->u.s, ip->len);
    buf[ip->len] = '\0';
    uint8_t addr[16];
    if (n->cidr_family == 4) {
        if (inet_pton(AF_INET, buf, addr) != 1)
            return false;
    } else if (inet_pton(AF_INET6, buf, addr) != 1) {
        return false;
    }
    int bits = n->cidr_bits;
    for (int i = 0; bits > 0; i++, bits -= 8) {
        uint8_t mask = bits >= 8 ? 0xFF : (uint8_t)(0xFF << (8 - bits));
        if ((addr[i] & mask) != n->cidr[i])
            return false;
    }
    return true;
}

static void change_case(const struct vg_value *s, bool upper, struct vg_expr_ctx *ctx,
                        struct vg_value *out)
{
    char *d = vg_arena_alloc(&ctx->scratch, (size_t)s->len + 1);
    for (uint32_t i = 0; i < s->len; i++) {
        char c = s->u.s[i];
        if (upper && c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        else if (!upper && c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        d[i] = c;
    }
    d[s->len] = '\0';
    *out = vg_value_str(d, s->len);
}

static void call(const struct vg_expr_node *n, const struct vg_value *slots,
                 struct vg_expr_ctx *ctx, struct vg_value *out)
{
    struct vg_value a, b;
    *out = VG_NULL_VALUE;
    if (n->fn == F_EXISTS) {
        *out = vg_value_bool(slots && slots[n->args[0]->slot].type != VG_T_NULL);
        return;
    }
    if (n->fn == F_COALESCE) {
        for (size_t i = 0; i < n->n_args; i++) {
            vg_expr_eval_node(n->args[i], slots, ctx, out);
            if (out->type != VG_T_NULL)
                return;
        }
        return;
    }
    vg_expr_eval_node(n->args[0], slots, ctx, &a);
    if (a.type == VG_T_NULL)
        return;
    switch (n->fn) {
    case F_LOWER:
    case F_UPPER:
        if (a.type == VG_T_STR)
            change_case(&a, n->fn == F_UPPER, ctx, out);
        return;
    case F_LEN:
        if (a.type == VG_T_STR || a.type == VG_T_LIST)
            *out = vg_value_int(a.len);
        return;
    case F_MATCHES: {
        if (a.type != VG_T_STR)
            return;
        int rc = pcre2_match(n->re, (PCRE2_SPTR)(a.len ? a.u.s : ""), a.len, 0, 0, ctx->md,
                             ctx->mctx);
        *out = vg_value_bool(rc >= 0);
        return;
    }
    case F_CIDR_MATCH:
        if (a.type == VG_T_STR)
            *out = vg_value_bool(cidr_match(n, &a));
        return;
    default:
        break;
    }
    vg_expr_eval_node(n->args[1], slots, ctx, &b);
    if (b.type == VG_T_NULL)
        return;
    switch (n->fn) {
    case F_CONTAINS:
        if (a.type == VG_T_LIST)
            *out = vg_value_bool(list_has(&a, &b));
        else if (a.type == VG_T_STR && b.type == VG_T_STR)
            *out = vg_value_bool(contains_str(&a, &b));
        return;
    case F_STARTSWITH:
        if (a.type == VG_T_STR && b.type == VG_T_STR)
            *out = vg_value_bool(a.len >= b.len && (b.len == 0 || memcmp(a.u.s, b.u.s, b.len) == 0));
        return;
    case F_ENDSWITH:
        if (a.type == VG_T_STR && b.type == VG_T_STR)
            *out = vg_value_bool(a.len >= b.len &&
                                 (b.len == 0 || memcmp(a.u.s + a.len - b.len, b.u.s, b.len) == 0));
        return;
    default:
        return;
    }
}

void vg_expr_eval_node(const struct vg_expr_node *n, const struct vg_value *slots,
                       struct vg_expr_ctx *ctx, struct vg_value *out)
{
    struct vg_value a, b;
    switch (n->op) {
    case E_CONST:
        *out = n->v;
        return;
    case E_FIELD:
        *out = slots ? slots[n->slot] : VG_NULL_VALUE;
        return;
    case E_NOT:
        vg_expr_eval_node(n->args[0], slots, ctx, &a);
        *out = a.type == VG_T_BOOL ? vg_value_bool(!a.u.b) : VG_NULL_VALUE;
        return;
    case E_NEG:
        vg_expr_eval_node(n->args[0], slots, ctx, &a);
        if (a.type == VG_T_INT)
            *out = vg_value_int((int64_t)(0 - (uint64_t)a.u.i));
        else if (a.type == VG_T_FLOAT)
            *out = vg_value_float(-a.u.f);
        else
            *out = VG_NULL_VALUE;
        return;
    case E_AND:
    case E_OR: {
        bool is_or = n->op == E_OR;
        vg_expr_eval_node(n->args[0], slots, ctx, &a);
        if (a.type == VG_T_BOOL && a.u.b == is_or) {
            *out = a;
            return;
        }
        vg_expr_eval_node(n->args[1], slots, ctx, &b);
        if (b.type == VG_T_BOOL && b.u.b == is_or)
            *out = b;
        else if (a.type == VG_T_BOOL && b.type == VG_T_BOOL)
            *out = vg_value_bool(!is_or);
        else
            *out = VG_NULL_VALUE;
        return;
    }
    case E_EQ:
    case E_NE: {
        vg_expr_eval_node(n->args[0], slots, ctx, &a);
        vg_expr_eval_node(n->args[1], slots, ctx, &b);
        bool eq;
        if (a.type == VG_T_NULL || b.type == VG_T_NULL)
            eq = a.type == b.type;
        else
            eq = vg_value_equal(&a, &b);
        *out = vg_value_bool(n->op == E_EQ ? eq : !eq);
        return;
    }
    case E_LT:
    case E_LE:
    case E_GT:
    case E_GE: {
        vg_expr_eval_node(n->args[0], slots, ctx, &a);
        vg_expr_eval_node(n->args[1], slots, ctx, &b);
        int o = order(&a, &b);
        bool r = false;
        if (o != 2 && a.type != VG_T_NULL && b.type != VG_T_NULL) {
            switch (n->op) {
            case E_LT: r = o < 0; break;
            case E_LE: r = o <= 0; break;
            case E_GT: r = o > 0; break;
            default: r = o >= 0; break;
            }
        }
        *out = vg_value_bool(r);
        return;
    }
    case E_ADD:
    case E_SUB:
    case E_MUL:
    case E_DIV:
    case E_MOD:
        vg_expr_eval_node(n->args[0], slots, ctx, &a);
        vg_expr_eval_node(n->args[1], slots, ctx, &b);
        arith(n, &a, &b, ctx, out);
        return;
    case E_IN:
        vg_expr_eval_node(n->args[0], slots, ctx, &a);
        vg_expr_eval_node(n->args[1], slots, ctx, &b);
        if (a.type == VG_T_NULL)
            *out = vg_value_bool(false);
        else if (b.type == VG_T_LIST)
            *out = vg_value_bool(list_has(&b, &a));
        else if (b.type == VG_T_STR && a.type == VG_T_STR)
            *out = vg_value_bool(contains_str(&b, &a));
        else
            *out = vg_value_bool(false);
        return;
    case E_CALL:
        call(n, slots, ctx, out);
        return;
    default:
        *out = VG_NULL_VALUE;
        return;
    }
}

void vg_expr_eval(const struct vg_expr *e, const struct vg_value *slots, struct vg_expr_ctx *ctx,
                  struct vg_value *out)
{
    vg_expr_eval_node(e->root, slots, ctx, out);
}

bool vg_expr_test(const struct vg_expr *e, const struct vg_value *slots, struct vg_expr_ctx *ctx)
{
    struct vg_value v;
    vg_expr_eval_node(e->root, slots, ctx, &v);
    return v.type == VG_T_BOOL && v.u.b;
}
