/* SPDX-License-Identifier: Apache-2.0 */
/*
 * expr_int.h - private to expr_parse.c, expr_compile.c and expr_vm.c: the expression tree.
 *
 * The parser builds the tree with field paths as text; the compiler resolves paths to slots,
 * checks types, folds constants (a folded node becomes E_CONST) and prepares regexes and
 * CIDRs; the VM walks the finished tree. The tree is the program: after compilation it is
 * immutable and holds no pointers into the source text.
 *
 * Thread: see expr.h.
 */
#ifndef VG_EXPR_INT_H
#define VG_EXPR_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "arena.h"
#include "expr.h"

enum vg_expr_op {
    E_CONST, E_FIELD, E_LIST,  /* E_LIST: [a, b, ...] of constants (folded to E_CONST) */
    E_NOT, E_NEG, E_AND, E_OR,
    E_EQ, E_NE, E_LT, E_LE, E_GT, E_GE,
    E_ADD, E_SUB, E_MUL, E_DIV, E_MOD,
    E_IN,
    E_CALL,
};

enum vg_expr_fn {
    F_CONTAINS, F_STARTSWITH, F_ENDSWITH, F_MATCHES, F_LOWER, F_UPPER, F_LEN, F_EXISTS,
    F_COALESCE, F_CIDR_MATCH, F_COUNT_,
};

/* Static result types, for checks at compile time. */
enum vg_expr_ty { TY_ANY, TY_NULL, TY_BOOL, TY_INT, TY_FLOAT, TY_STR, TY_LIST };

struct vg_expr_node {
    uint8_t op;                 /* enum vg_expr_op */
    uint8_t fn;                 /* E_CALL: enum vg_expr_fn */
    uint8_t ty;                 /* enum vg_expr_ty */
    uint32_t pos;               /* byte offset of the node's first character in the source */
    struct vg_value v;          /* E_CONST */
    char *path;                 /* E_FIELD: as written (until compiled) */
    int slot;                   /* E_FIELD */
    struct vg_expr_node **args; /* operands / call arguments / list items */
    size_t n_args;
    pcre2_code *re;             /* matches() */
    uint8_t cidr[16];           /* cidr_match(): network address */
    int cidr_bits;
    int cidr_family;            /* 4 or 6 */
};

struct vg_expr {
    struct vg_expr_node *root;
    struct vg_arena consts;     /* constant strings and lists */
    int *slots;
    size_t n_slots;
};

/* expr_parse.c: parse src into a tree (nodes malloc'd; E_CONST strings in *consts), or NULL
 * after a diagnostic at the offending character. */
struct vg_expr_node *vg_expr_parse(const char *src, size_t len, struct vg_arena *consts,
                                   const struct vg_expr_opts *opts, struct vg_diag *diag);
void vg_expr_node_free(struct vg_expr_node *n);
/* Report at byte offset pos of the expression (line/column worked out from opts->mark). */
void vg_expr_error(struct vg_diag *diag, const struct vg_expr_opts *opts, const char *src,
                   size_t pos, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* expr_vm.c: evaluate one node. */
void vg_expr_eval_node(const struct vg_expr_node *n, const struct vg_value *slots,
                       struct vg_expr_ctx *ctx, struct vg_value *out);
/* Function names, indexed by enum vg_expr_fn. */
extern const char *const vg_expr_fn_names[F_COUNT_];

#endif
