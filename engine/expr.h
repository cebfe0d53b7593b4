/* SPDX-License-Identifier: Apache-2.0 */
/*
 * expr.h - the expression language of filter, map, when and join conditions.
 *
 * Source text is parsed (expr_parse.c) into a tree, compiled once (expr_compile.c) into a
 * flat program with field paths resolved to slots and constants folded, and evaluated per
 * event (expr_vm.c) without allocating. The language (docs/topology.md):
 *   literals 42, 1.5, "text" (JSON escapes), true, false, null, durations 5m (as integer
 *   milliseconds); field paths user, Event.EventData.Image, tags[0]; == != < <= > >=;
 *   && || ! (short-circuit); + - * / % (int or float; + also joins two strings);
 *   x in ["a", "b"] (constant list) and x in field (a list-valued field);
 *   functions contains(s, sub) startswith(s, p) endswith(s, p) matches(s, "re") lower(s)
 *   upper(s) len(s|list) exists(path) coalesce(a, b, ...) cidr_match(ip, "10.0.0.0/8").
 * Null safety: any operation on a missing (null) operand yields null; a comparison with
 * null is false, except `!=` against a non-null operand which is true, and `x == null` which
 * is true when x is missing; a null condition counts as false. Integer division by zero
 * yields null. Mixed int/float arithmetic and comparison promote to float.
 * matches() compiles its pattern once with PCRE2 (JIT where available) and runs with a
 * match limit (VG_EXPR_MATCH_LIMIT); a pattern hitting the limit does not match.
 *
 * Thread: compile on main (load time); a compiled struct vg_expr is immutable and shared;
 * each evaluating thread owns one struct vg_expr_ctx.
 */
#ifndef VG_EXPR_H
#define VG_EXPR_H

#include "diag.h"
#include "value.h"

#define VG_EXPR_MATCH_LIMIT 100000

struct vg_expr;
struct vg_expr_ctx;

/* Resolve a field path as written (e.g. "Event.EventData.Image", "tags[0]") to a slot.
 * Returns 0 and sets *slot, or -1 when the field is unknown here (the compiler then reports
 * "unknown field 'x'" followed by the resolver's optional hint written into hint[0..size)). */
typedef int (*vg_expr_resolve_fn)(void *ud, const char *path, int *slot, char *hint,
                                  size_t hint_size);

enum vg_expr_want {
    VG_EXPR_ANY = 0,  /* map values */
    VG_EXPR_BOOL,     /* filter, when: a result whose static type is not boolean is an error */
};

struct vg_expr_opts {
    vg_expr_resolve_fn resolve;
    void *resolve_ud;
    enum vg_expr_want want;
    /* Where the expression text starts in the topology file: errors are reported at
     * (line, col + offset of the bad character). */
    struct vg_mark mark;
};

/* Compile src[0..len). Returns the program, or NULL after adding one or more diagnostics
 * (syntax error at its column, unknown function, wrong arity, unknown field, type error such
 * as a non-constant regex, a bad regex or CIDR literal, arithmetic on a string constant).
 * The returned program owns copies of all it needs. Thread: main. */
struct vg_expr *vg_expr_compile(const char *src, size_t len, const struct vg_expr_opts *opts,
                                struct vg_diag *diag);
void vg_expr_free(struct vg_expr *e);

/* Per-thread evaluation context: a scratch arena for strings made by lower/upper/+ and the
 * PCRE2 match data. Thread: its owner. */
struct vg_expr_ctx *vg_expr_ctx_new(void);
void vg_expr_ctx_free(struct vg_expr_ctx *ctx);
/* Release strings produced by earlier evaluations (call between events or batches). */
void vg_expr_ctx_reset(struct vg_expr_ctx *ctx);

/* Evaluate against the slot array; *out may point into slots, into the program's constants
 * or into ctx's scratch (valid until vg_expr_ctx_reset). Never fails: errors yield null. */
void vg_expr_eval(const struct vg_expr *e, const struct vg_value *slots, struct vg_expr_ctx *ctx,
                  struct vg_value *out);
/* Evaluate as a condition: true only for boolean true. */
bool vg_expr_test(const struct vg_expr *e, const struct vg_value *slots, struct vg_expr_ctx *ctx);

/* True when the program is a constant (after folding). */
bool vg_expr_is_const(const struct vg_expr *e);

/* True when the program only reads a field: *slot is that field's (its value is the slot's,
 * no evaluation needed). */
bool vg_expr_field(const struct vg_expr *e, int *slot);

/* For rule indexing: when the expression is a conjunction (&&) one of whose top-level terms
 * is `field == "literal"` or `field in ["a", "b", ...]` (string literals only), fill *slot
 * and the literal list (owned by the program) and return true. Such an expression can only
 * be true for events whose field equals one of the literals. Picks the first such term. */
bool vg_expr_index_term(const struct vg_expr *e, int *slot, const struct vg_value **lits,
                        size_t *n_lits);

/* Number of slots read by the program, and the slot list (for dependency tracking). */
size_t vg_expr_slots(const struct vg_expr *e, const int **slots);

/* Can e be true only when the integer in slot is at least *floor? Found from conjuncts such
 * as `slot >= 10`, `slot > 9`, `10 <= slot`, `slot == 10` (through && and ||). */
bool vg_expr_floor(const struct vg_expr *e, int slot, int64_t *floor);

/* Compare two values for equality with the language's rules (int/float promote; null equals
 * nothing but null). Used by joins, rule indexes and tests. Thread: any. */
bool vg_value_equal(const struct vg_value *a, const struct vg_value *b);

/* Parse a duration such as 500ms, 30s, 5m, 1h, 2d (also "1h30m"); returns 0 and sets *ms,
 * or -1. Shared by the topology checker and the expression lexer. Thread: any. */
int vg_duration_parse(const char *s, size_t len, int64_t *ms);
/* Parse an RFC 3339 time ("2026-11-01T00:00:00.123Z", "+02:00" offsets; a space for the T
 * is accepted) into epoch milliseconds. Thread: any. */
bool vg_time_parse_rfc3339(const char *s, size_t n, vg_time_ms *out);

#endif
