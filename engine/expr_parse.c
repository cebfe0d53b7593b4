/* SPDX-License-Identifier: Apache-2.0 */
/*
 * expr_parse.c - lexer and recursive-descent parser of the expression language.
 *
 * Precedence, loosest first: ||, &&, !, comparisons and `in`, + -, * / %, unary -.
 * Comparisons do not chain (`a < b < c` is an error). Literals: integers, floats, strings in
 * double quotes (JSON escapes, \uXXXX with surrogate pairs) or single quotes (\' and \\),
 * true, false, null, durations (5m -> 300000, integer milliseconds), and lists of literals
 * `[...]`. A field path is identifiers joined by `.` with optional `[N]` indexes; an
 * identifier followed by `(` is a function call.
 *
 * Thread: main (load time).
 */
#include "expr_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tok {
    T_END, T_INT, T_FLOAT, T_STR, T_IDENT, T_TRUE, T_FALSE, T_NULL, T_IN,
    T_LP, T_RP, T_LB, T_RB, T_COMMA,
    T_OR, T_AND, T_NOT, T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE,
    T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PCT,
    T_ERR,
};

struct parser {
    const char *src;
    size_t len;
    size_t at;              /* next unread byte */
    enum tok tok;           /* current token */
    size_t tok_pos, tok_len;
    int64_t ival;
    double fval;
    char *sval;             /* T_STR (arena) and T_IDENT (malloc'd path) */
    size_t slen;
    struct vg_arena *consts;
    const struct vg_expr_opts *opts;
    struct vg_diag *diag;
    bool failed;
    int depth;
};

#define VG_EXPR_MAX_DEPTH 200

void vg_expr_error(struct vg_diag *diag, const struct vg_expr_opts *opts, const char *src,
                   size_t pos, const char *hint, const char *fmt, ...)
{
    struct vg_mark m = opts->mark;
    size_t line_start = 0;
    int lines = 0;
    for (size_t i = 0; i < pos; i++)
        if (src[i] == '\n') {
            lines++;
            line_start = i + 1;
        }
    if (m.line > 0) {
        m.line += lines;
        m.col = lines ? (int)(pos - line_start) + 1 : m.col + (int)pos;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    vg_diag_add(diag, m, hint, "expression: %s", msg);
}

static void perr(struct parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void perr(struct parser *p, size_t pos, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = true;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    vg_expr_error(p->diag, p->opts, p->src, pos, NULL, "%s", msg);
}

/* ---- lexer ---- */

static bool ident_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static bool ident_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

static void put_utf8(struct vg_buf *b, uint32_t cp)
{
    if (cp < 0x80) {
        vg_buf_putc(b, (char)cp);
    } else if (cp < 0x800) {
        vg_buf_putc(b, (char)(0xC0 | (cp >> 6)));
        vg_buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        vg_buf_putc(b, (char)(0xE0 | (cp >> 12)));
        vg_buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        vg_buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    } else {
        vg_buf_putc(b, (char)(0xF0 | (cp >> 18)));
        vg_buf_putc(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
        vg_buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        vg_buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    }
}

static int hex4(const char *s, size_t n, uint32_t *out)
{
    if (n < 4)
        return -1;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static enum tok lex_string(struct parser *p)
{
    char q = p->src[p->at++];
    struct vg_buf b;
    vg_buf_init(&b);
    for (;;) {
        if (p->at >= p->len) {
            perr(p, p->tok_pos, "unterminated string");
            vg_buf_fini(&b);
            return T_ERR;
        }
        char c = p->src[p->at];
        if (c == q) {
            p->at++;
            break;
        }
        if (c != '\\') {
            vg_buf_putc(&b, c);
            p->at++;
            continue;
        }
        size_t esc = p->at;
        if (++p->at >= p->len)
            continue;
        c = p->src[p->at++];
        switch (c) {
        case '"': case '\\': case '/': case '\'': vg_buf_putc(&b, c); break;
        case 'b': vg_buf_putc(&b, '\b'); break;
        case 'f': vg_buf_putc(&b, '\f'); break;
        case 'n': vg_buf_putc(&b, '\n'); break;
        case 'r': vg_buf_putc(&b, '\r'); break;
        case 't': vg_buf_putc(&b, '\t'); break;
        case 'u': {
            uint32_t cp, lo;
            if (hex4(p->src + p->at, p->len - p->at, &cp) != 0) {
                perr(p, esc, "invalid \\u escape");
                vg_buf_fini(&b);
                return T_ERR;
            }
            p->at += 4;
            if (cp >= 0xD800 && cp < 0xDC00) {
                if (p->at + 6 <= p->len && p->src[p->at] == '\\' && p->src[p->at + 1] == 'u' &&
                    hex4(p->src + p->at + 2, p->len - p->at - 2, &lo) == 0 && lo >= 0xDC00 &&
                    lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p->at += 6;
                } else {
                    perr(p, esc, "unpaired surrogate in \\u escape");
                    vg_buf_fini(&b);
                    return T_ERR;
                }
            } else if (cp >= 0xDC00 && cp < 0xE000) {
                perr(p, esc, "unpaired surrogate in \\u escape");
                vg_buf_fini(&b);
                return T_ERR;
            }
            put_utf8(&b, cp);
            break;
        }
        default:
            perr(p, esc, "invalid escape '\\%c'", c);
            vg_buf_fini(&b);
            return T_ERR;
        }
    }
    p->slen = b.len;
    p->sval = vg_arena_strndup(p->consts, b.data ? b.data : "", b.len);
    vg_buf_fini(&b);
    return T_STR;
}

static enum tok lex_number(struct parser *p)
{
    size_t start = p->at;
    while (p->at < p->len && isdigit((unsigned char)p->src[p->at]))
        p->at++;
    bool is_float = false;
    if (p->at + 1 < p->len && p->src[p->at] == '.' && isdigit((unsigned char)p->src[p->at + 1])) {
        is_float = true;
        p->at++;
        while (p->at < p->len && isdigit((unsigned char)p->src[p->at]))
            p->at++;
    }
    if (p->at < p->len && (p->src[p->at] == 'e' || p->src[p->at] == 'E')) {
        size_t e = p->at + 1;
        if (e < p->len && (p->src[e] == '+' || p->src[e] == '-'))
            e++;
        if (e < p->len && isdigit((unsigned char)p->src[e])) {
            is_float = true;
            p->at = e;
            while (p->at < p->len && isdigit((unsigned char)p->src[p->at]))
                p->at++;
        }
    }
    if (!is_float && p->at < p->len && isalpha((unsigned char)p->src[p->at])) {
        /* a duration: 5m, 500ms, 1h30m */
        while (p->at < p->len && isalnum((unsigned char)p->src[p->at]))
            p->at++;
        int64_t ms;
        if (vg_duration_parse(p->src + start, p->at - start, &ms) != 0) {
            perr(p, start, "invalid number or duration '%.*s' (durations: 500ms, 30s, 5m, 1h, 2d)",
                 (int)(p->at - start), p->src + start);
            return T_ERR;
        }
        p->ival = ms;
        return T_INT;
    }
    char buf[64];
    size_t n = p->at - start;
    if (n >= sizeof(buf)) {
        perr(p, start, "number too long");
        return T_ERR;
    }
    memcpy(buf, p->src + start, n);
    buf[n] = '\0';
    errno = 0;
    if (is_float) {
        p->fval = strtod(buf, NULL);
        if (!isfinite(p->fval)) {
            perr(p, start, "number out of range '%s'", buf);
            return T_ERR;
        }
        return T_FLOAT;
    }
    long long v = strtoll(buf, NULL, 10);
    if (errno == ERANGE) {
        perr(p, start, "integer out of range '%s'", buf);
        return T_ERR;
    }
    p->ival = v;
    return T_INT;
}

static enum tok lex_ident(struct parser *p)
{
    size_t start = p->at;
    while (p->at < p->len && ident_char(p->src[p->at]))
        p->at++;
    size_t word = p->at - start;
#define KW(s, t)                                                                                 \
    if (word == sizeof(s) - 1 && memcmp(p->src + start, s, word) == 0)                           \
        return t;
    KW("true", T_TRUE)
    KW("false", T_FALSE)
    KW("null", T_NULL)
    KW("in", T_IN)
#undef KW
    /* the rest of a path: .name and [N] */
    for (;;) {
        if (p->at + 1 < p->len && p->src[p->at] == '.' && ident_start(p->src[p->at + 1])) {
            p->at++;
            while (p->at < p->len && ident_char(p->src[p->at]))
                p->at++;
        } else if (p->at < p->len && p->src[p->at] == '[' && p->at + 1 < p->len &&
                   isdigit((unsigned char)p->src[p->at + 1])) {
            size_t e = p->at + 1;
            while (e < p->len && isdigit((unsigned char)p->src[e]))
                e++;
            if (e >= p->len || p->src[e] != ']')
                break;
            p->at = e + 1;
        } else {
            break;
        }
    }
    p->sval = vg_xstrndup(p->src + start, p->at - start);
    p->slen = p->at - start;
    return T_IDENT;
}

static void next(struct parser *p)
{
    if (p->tok == T_IDENT) {
        vg_free(p->sval);
        p->sval = NULL;
    }
    while (p->at < p->len && isspace((unsigned char)p->src[p->at]))
        p->at++;
    p->tok_pos = p->at;
    if (p->at >= p->len) {
        p->tok = T_END;
        p->tok_len = 0;
        return;
    }
    char c = p->src[p->at], d = p->at + 1 < p->len ? p->src[p->at + 1] : '\0';
    enum tok t;
    if (c == '"' || c == '\'')
        t = lex_string(p);
    else if (isdigit((unsigned char)c))
        t = lex_number(p);
    else if (ident_start(c))
        t = lex_ident(p);
    else {
        size_t w = 1;
        switch (c) {
        case '(': t = T_LP; break;
        case ')': t = T_RP; break;
        case '[': t = T_LB; break;
        case ']': t = T_RB; break;
        case ',': t = T_COMMA; break;
        case '+': t = T_PLUS; break;
        case '-': t = T_MINUS; break;
        case '*': t = T_STAR; break;
        case '/': t = T_SLASH; break;
        case '%': t = T_PCT; break;
        case '|': t = d == '|' ? T_OR : T_ERR; w = 2; break;
        case '&': t = d == '&' ? T_AND : T_ERR; w = 2; break;
        case '=': t = d == '=' ? T_EQ : T_ERR; w = 2; break;
        case '!': t = d == '=' ? T_NE : T_NOT; w = d == '=' ? 2 : 1; break;
        case '<': t = d == '=' ? T_LE : T_LT; w = d == '=' ? 2 : 1; break;
        case '>': t = d == '=' ? T_GE : T_GT; w = d == '=' ? 2 : 1; break;
        default: t = T_ERR; break;
        }
        if (t == T_ERR) {
            if (c == '=')
                perr(p, p->at, "unexpected '=', expected '==' for a comparison");
            else if (c == '|' || c == '&')
                perr(p, p->at, "unexpected '%c', expected '%c%c'", c, c, c);
            else
                perr(p, p->at, "unexpected character '%c'", isprint((unsigned char)c) ? c : '?');
            w = 1;
        }
        p->at += w;
    }
    p->tok = t;
    p->tok_len = p->at - p->tok_pos;
}

static const char *tok_text(const struct parser *p, char *buf, size_t size)
{
    if (p->tok == T_END)
        return "end of expression";
    snprintf(buf, size, "'%.*s'", (int)VG_MIN(p->tok_len, (size_t)40), p->src + p->tok_pos);
    return buf;
}

static void unexpected(struct parser *p, const char *expected)
{
    char buf[64];
    if (p->tok == T_END)
        perr(p, p->tok_pos, "unexpected end, expected %s", expected);
    else
        perr(p, p->tok_pos, "unexpected %s, expected %s", tok_text(p, buf, sizeof(buf)),
             expected);
}

/* ---- tree ---- */

static struct vg_expr_node *node_new(uint8_t op, size_t pos)
{
    struct vg_expr_node *n = vg_xcalloc(1, sizeof(*n));
    n->op = op;
    n->pos = (uint32_t)pos;
    n->slot = -1;
    return n;
}

static void node_add(struct vg_expr_node *n, struct vg_expr_node *arg)
{
    n->args = vg_xrealloc(n->args, (n->n_args + 1) * sizeof(*n->args));
    n->args[n->n_args++] = arg;
}

static struct vg_expr_node *binary(uint8_t op, size_t pos, struct vg_expr_node *a,
                                   struct vg_expr_node *b)
{
    struct vg_expr_node *n = node_new(op, pos);
    node_add(n, a);
    node_add(n, b);
    return n;
}

void vg_expr_node_free(struct vg_expr_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n_args; i++)
        vg_expr_node_free(n->args[i]);
    vg_free(n->args);
    vg_free(n->path);
    if (n->re)
        pcre2_code_free(n->re);
    vg_free(n);
}

/* ---- grammar ---- */

static struct vg_expr_node *parse_or(struct parser *p);

static struct vg_expr_node *parse_primary(struct parser *p)
{
    struct vg_expr_node *n = NULL;
    size_t pos = p->tok_pos;
    switch (p->tok) {
    case T_INT:
        n = node_new(E_CONST, pos);
        n->v = vg_value_int(p->ival);
        next(p);
        return n;
    case T_FLOAT:
        n = node_new(E_CONST, pos);
        n->v = vg_value_float(p->fval);
        next(p);
        return n;
    case T_STR:
        n = node_new(E_CONST, pos);
        n->v = vg_value_str(p->sval, p->slen);
        next(p);
        return n;
    case T_TRUE:
    case T_FALSE:
        n = node_new(E_CONST, pos);
        n->v = vg_value_bool(p->tok == T_TRUE);
        next(p);
        return n;
    case T_NULL:
        n = node_new(E_CONST, pos);
        next(p);
        return n;
    case T_LP:
        next(p);
        n = parse_or(p);
        if (!n)
            return NULL;
        if (p->tok != T_RP) {
            unexpected(p, "')'");
            vg_expr_node_free(n);
            return NULL;
        }
        next(p);
        return n;
    case T_LB:
        n = node_new(E_LIST, pos);
        next(p);
        while (p->tok != T_RB) {
            struct vg_expr_node *item = parse_or(p);
            if (!item) {
                vg_expr_node_free(n);
                return NULL;
            }
            node_add(n, item);
            if (p->tok == T_COMMA) {
                next(p);
            } else if (p->tok != T_RB) {
                unexpected(p, "',' or ']'");
                vg_expr_node_free(n);
                return NULL;
            }
        }
        next(p);
        return n;
    case T_IDENT: {
        char *path = p->sval;
        p->sval = NULL;
        p->tok = T_END; /* so next() does not free the moved path */
        next(p);
        if (p->tok != T_LP) {
            n = node_new(E_FIELD, pos);
            n->path = path;
            return n;
        }
        n = node_new(E_CALL, pos);
        n->path = path; /* the function name until compiled */
        next(p);
        while (p->tok != T_RP) {
            struct vg_expr_node *arg = parse_or(p);
            if (!arg) {
                vg_expr_node_free(n);
                return NULL;
            }
            node_add(n, arg);
            if (p->tok == T_COMMA) {
                next(p);
            } else if (p->tok != T_RP) {
                unexpected(p, "',' or ')'");
                vg_expr_node_free(n);
                return NULL;
            }
        }
        next(p);
        return n;
    }
    case T_ERR:
        return NULL;
    default:
        unexpected(p, "an operand");
        return NULL;
    }
}

static struct vg_expr_node *parse_unary(struct parser *p)
{
    if (p->tok == T_MINUS) {
        size_t pos = p->tok_pos;
        next(p);
        if (++p->depth > VG_EXPR_MAX_DEPTH) {
            perr(p, pos, "expression nested too deeply");
            return NULL;
        }
        struct vg_expr_node *a = parse_unary(p);
        p->depth--;
        if (!a)
            return NULL;
        struct vg_expr_node *n = node_new(E_NEG, pos);
        node_add(n, a);
        return n;
    }
    if (++p->depth > VG_EXPR_MAX_DEPTH) {
        perr(p, p->tok_pos, "expression nested too deeply");
        return NULL;
    }
    struct vg_expr_node *n = parse_primary(p);
    p->depth--;
    return n;
}

static struct vg_expr_node *parse_mul(struct parser *p)
{
    struct vg_expr_node *a = parse_unary(p);
    while (a && (p->tok == T_STAR || p->tok == T_SLASH || p->tok == T_PCT)) {
        uint8_t op = p->tok == T_STAR ? E_MUL : p->tok == T_SLASH ? E_DIV : E_MOD;
        size_t pos = p->tok_pos;
        next(p);
        struct vg_expr_node *b = parse_unary(p);
        if (!b) {
            vg_expr_node_free(a);
            return NULL;
        }
        a = binary(op, pos, a, b);
    }
    return a;
}

static struct vg_expr_node *parse_add(struct parser *p)
{
    struct vg_expr_node *a = parse_mul(p);
    while (a && (p->tok == T_PLUS || p->tok == T_MINUS)) {
        uint8_t op = p->tok == T_PLUS ? E_ADD : E_SUB;
        size_t pos = p->tok_pos;
        next(p);
        struct vg_expr_node *b = parse_mul(p);
        if (!b) {
            vg_expr_node_free(a);
            return NULL;
        }
        a = binary(op, pos, a, b);
    }
    return a;
}

static int cmp_op(enum tok t)
{
    switch (t) {
    case T_EQ: return E_EQ;
    case T_NE: return E_NE;
    case T_LT: return E_LT;
    case T_LE: return E_LE;
    case T_GT: return E_GT;
    case T_GE: return E_GE;
    case T_IN: return E_IN;
    default: return -1;
    }
}

static struct vg_expr_node *parse_cmp(struct parser *p)
{
    struct vg_expr_node *a = parse_add(p);
    if (!a)
        return NULL;
    int op = cmp_op(p->tok);
    if (op < 0)
        return a;
    size_t pos = p->tok_pos;
    next(p);
    struct vg_expr_node *b = parse_add(p);
    if (!b) {
        vg_expr_node_free(a);
        return NULL;
    }
    a = binary((uint8_t)op, pos, a, b);
    if (cmp_op(p->tok) >= 0) {
        perr(p, p->tok_pos, "comparisons do not chain: use && between them");
        vg_expr_node_free(a);
        return NULL;
    }
    return a;
}

static struct vg_expr_node *parse_not(struct parser *p)
{
    if (p->tok == T_NOT) {
        size_t pos = p->tok_pos;
        next(p);
        if (++p->depth > VG_EXPR_MAX_DEPTH) {
            perr(p, pos, "expression nested too deeply");
            return NULL;
        }
        struct vg_expr_node *a = parse_not(p);
        p->depth--;
        if (!a)
            return NULL;
        struct vg_expr_node *n = node_new(E_NOT, pos);
        node_add(n, a);
        return n;
    }
    return parse_cmp(p);
}

static struct vg_expr_node *parse_and(struct parser *p)
{
    struct vg_expr_node *a = parse_not(p);
    while (a && p->tok == T_AND) {
        size_t pos = p->tok_pos;
        next(p);
        struct vg_expr_node *b = parse_not(p);
        if (!b) {
            vg_expr_node_free(a);
            return NULL;
        }
        a = binary(E_AND, pos, a, b);
    }
    return a;
}

static struct vg_expr_node *parse_or(struct parser *p)
{
    if (++p->depth > VG_EXPR_MAX_DEPTH) {
        perr(p, p->tok_pos, "expression nested too deeply");
        return NULL;
    }
    struct vg_expr_node *a = parse_and(p);
    while (a && p->tok == T_OR) {
        size_t pos = p->tok_pos;
        next(p);
        struct vg_expr_node *b = parse_and(p);
        if (!b) {
            vg_expr_node_free(a);
            return NULL;
        }
        a = binary(E_OR, pos, a, b);
    }
    p->depth--;
    return a;
}

struct vg_expr_node *vg_expr_parse(const char *src, size_t len, struct vg_arena *consts,
                                   const struct vg_expr_opts *opts, struct vg_diag *diag)
{
    struct parser p = {.src = src, .len = len, .consts = consts, .opts = opts, .diag = diag,
                       .tok = T_END};
    next(&p);
    if (p.tok == T_END && !p.failed) {
        perr(&p, 0, "empty expression");
        return NULL;
    }
    struct vg_expr_node *n = parse_or(&p);
    if (n && p.tok != T_END) {
        unexpected(&p, "an operator or the end");
        vg_expr_node_free(n);
        n = NULL;
    }
    if (p.tok == T_IDENT)
        vg_free(p.sval);
    if (p.failed) {
        vg_expr_node_free(n);
        return NULL;
    }
    return n;
}
