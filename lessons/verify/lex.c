/* lex.c — characters → tokens for the derivation language, the program's
 * arena, and the one way a parse ends early: lex_fail, a located message
 * and a longjmp back to expr_parse (nothing leaks: every allocation lives
 * in the arena or in arrays the program owns).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "expr_impl.h"

/* ---- arena ---------------------------------------------------------------- */

void *arena_alloc(expr_prog *p, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    chunk *c = p->arena;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->next = p->arena;
        c->used = 0;
        c->cap = cap;
        p->arena = c;
    }
    void *r = c->data + c->used;
    c->used += n;
    return r;
}

/* ---- tokens ------------------------------------------------------------------ */

_Noreturn void lex_fail(parser *P, int line, int col, const char *fmt, ...)
{
    va_list ap;
    P->err->line = line;
    P->err->col = col;
    va_start(ap, fmt);
    vsnprintf(P->err->msg, sizeof P->err->msg, fmt, ap);
    va_end(ap);
    longjmp(P->jb, 1);
}

void *palloc(parser *P, size_t n)
{
    void *r = arena_alloc(P->p, n);
    if (!r) lex_fail(P, P->t.line, P->t.col, "out of memory");
    memset(r, 0, n);
    return r;
}

/* A readable name for a token in messages: 'x', '(', number 2, end of line. */
const char *tok_desc(const tok *t, char *buf, size_t n)
{
    switch (t->kind) {
    case T_EOF: return "end of file";
    case T_NL: return "end of line";
    case T_NUM: snprintf(buf, n, "number '%.*s'", t->n > 40 ? 40 : t->n, t->s); return buf;
    case T_NAME: snprintf(buf, n, "'%.*s'", t->n > 40 ? 40 : t->n, t->s); return buf;
    default: snprintf(buf, n, "'%.*s'", t->n, t->s); return buf;
    }
}

static void lx_advance(parser *P, size_t n)
{
    for (size_t k = 0; k < n && P->lx.pos < P->len; k++) {
        unsigned char ch = (unsigned char)P->src[P->lx.pos++];
        if (ch == '\n') { P->lx.line++; P->lx.col = 1; }
        else if ((ch & 0xC0) != 0x80) P->lx.col++;
    }
}

static int is_alpha(int ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_'; }
static int is_digit(int ch) { return ch >= '0' && ch <= '9'; }

/* Unicode a student may paste from notes: some are read as ASCII, the
 * others are refused with the ASCII to write instead. */
static const struct { const char *utf8, *ascii; int op; } unicode[] = {
    {"\xE2\x88\x92", "-", '-'}, {"\xC2\xB7", "*", '*'}, {"\xC3\x97", "*", '*'},
    {"\xE2\x8B\x85", "*", '*'}, {"\xE2\x88\x82", "d", 0}, {"\xCE\xA3", "sum(k, ...)", 0},
    {"\xE2\x88\x91", "sum(k, ...)", 0}, {"\xCE\xB4", "delta(i, j)", 0},
    {"\xCF\x83", "sigmoid(x)", 0}, {"\xE2\x89\xA0", "!=", 0}, {"\xE2\x80\x93", "-", '-'},
};

/* Skips blanks, comments, a backslash line continuation, and newlines
 * inside ( ) or [ ]. */
static void lex_skip(parser *P)
{
    const char *s = P->src;
    while (P->lx.pos < P->len) {
        char ch = s[P->lx.pos];
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v') lx_advance(P, 1);
        else if (ch == '#') {
            while (P->lx.pos < P->len && s[P->lx.pos] != '\n') lx_advance(P, 1);
        } else if (ch == '\\') {             /* a line continued with a backslash */
            size_t k = P->lx.pos + 1;
            while (k < P->len && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r')) k++;
            if (k < P->len && s[k] == '\n') lx_advance(P, k + 1 - P->lx.pos);
            else return;
        } else if (ch == '\n' && P->lx.depth > 0) lx_advance(P, 1);
        else return;
    }
}

/* 12, 0.5, .5, 1e-3: digits, a fraction, an exponent; never followed by a
 * letter (2x is refused with the product to write). */
static void lex_number(parser *P, tok *t)
{
    const char *s = P->src;
    size_t st = P->lx.pos, k = st;
    while (k < P->len && is_digit((unsigned char)s[k])) k++;
    if (k < P->len && s[k] == '.') { k++; while (k < P->len && is_digit((unsigned char)s[k])) k++; }
    if (k < P->len && (s[k] == 'e' || s[k] == 'E')) {
        size_t e = k + 1;
        if (e < P->len && (s[e] == '+' || s[e] == '-')) e++;
        if (e < P->len && is_digit((unsigned char)s[e])) {
            while (e < P->len && is_digit((unsigned char)s[e])) e++;
            k = e;
        } else {
            lex_fail(P, t->line, t->col, "malformed number '%.*s': expected digits after the exponent",
                    (int)(e - st > 40 ? 40 : e - st), s + st);
        }
    }
    if (k < P->len && (is_alpha((unsigned char)s[k]) || s[k] == '.'))
        lex_fail(P, t->line, t->col, "malformed number '%.*s' (write 2*x for a product)",
                (int)(k + 1 - st > 40 ? 40 : k + 1 - st), s + st);
    if (k - st > 100) FAIL_TOK(P, "number too long (more than 100 characters)");
    char buf[128];
    memcpy(buf, s + st, k - st);
    buf[k - st] = '\0';
    t->num = strtod(buf, NULL);
    if (!isfinite(t->num)) FAIL_TOK(P, "number '%s' is too large", buf);
    t->kind = T_NUM; t->n = (int)(k - st);
    lx_advance(P, k - st);
}

/* A character from notes that reads as an operator, or the ASCII to write. */
static void lex_unicode(parser *P, tok *t)
{
    const char *s = P->src;
    size_t st = P->lx.pos;
    for (size_t u = 0; u < sizeof unicode / sizeof unicode[0]; u++) {
        size_t ul = strlen(unicode[u].utf8);
        if (st + ul <= P->len && memcmp(s + st, unicode[u].utf8, ul) == 0) {
            if (!unicode[u].op)
                FAIL_TOK(P, "unexpected character '%.*s': write %s", (int)ul, s + st, unicode[u].ascii);
            t->kind = T_OP; t->c = unicode[u].op; t->n = (int)ul;
            lx_advance(P, ul);
            return;
        }
    }
    FAIL_TOK(P, "unexpected byte 0x%02X: only ASCII is understood here", (unsigned char)s[st]);
}

/* An operator: one of + - * / ^ ( ) [ ] , : = < > or != == <= >=. */
static void lex_symbol(parser *P, tok *t)
{
    static const char two[][3] = {"!=", "==", "<=", ">="};
    static const char code[] = "NELG";
    const char *s = P->src;
    size_t st = P->lx.pos;
    unsigned char ch = (unsigned char)s[st];
    for (int k = 0; k < 4; k++)
        if (st + 1 < P->len && s[st] == two[k][0] && s[st + 1] == two[k][1]) {
            t->kind = T_OP; t->c = code[k]; t->n = 2;
            lx_advance(P, 2);
            return;
        }
    if (!strchr("+-*/^()[],:=<>", ch) || ch == '\0') {
        if (ch >= 0x20 && ch < 0x7F) FAIL_TOK(P, "unexpected character '%c'", ch);
        FAIL_TOK(P, "unexpected byte 0x%02X", ch);
    }
    if (ch == '(' || ch == '[') P->lx.depth++;
    if ((ch == ')' || ch == ']') && P->lx.depth > 0) P->lx.depth--;
    t->kind = T_OP; t->c = ch; t->n = 1;
    lx_advance(P, 1);
}

void lex_next(parser *P)
{
    const char *s = P->src;
    P->prev_end = P->t.end;
    P->prev_line = P->t.line;
    lex_skip(P);
    tok *t = &P->t;
    memset(t, 0, sizeof *t);
    t->line = P->lx.line;
    t->col = P->lx.col;
    t->s = s + P->lx.pos;
    if (P->lx.pos >= P->len) { t->kind = T_EOF; t->end = P->len; return; }
    size_t st = P->lx.pos;
    unsigned char ch = (unsigned char)s[st];
    if (ch == '\n') {
        t->kind = T_NL; t->n = 1;
        lx_advance(P, 1);
    } else if (is_alpha(ch)) {
        size_t k = st;
        while (k < P->len && (is_alpha((unsigned char)s[k]) || is_digit((unsigned char)s[k]))) k++;
        if (k - st > 64) FAIL_TOK(P, "name too long (more than 64 characters)");
        t->kind = T_NAME; t->n = (int)(k - st);
        lx_advance(P, k - st);
    } else if (is_digit(ch) || (ch == '.' && st + 1 < P->len && is_digit((unsigned char)s[st + 1]))) {
        lex_number(P, t);
    } else if (ch >= 0x80) {
        lex_unicode(P, t);
    } else {
        lex_symbol(P, t);
    }
    t->end = P->lx.pos;
}

int is_op(const parser *P, int c) { return P->t.kind == T_OP && P->t.c == c; }
int is_name(const parser *P, const char *w)
{
    return P->t.kind == T_NAME && (size_t)P->t.n == strlen(w) && memcmp(P->t.s, w, (size_t)P->t.n) == 0;
}
int name_is(const char *s, int n, const char *w)
{
    return (size_t)n == strlen(w) && memcmp(s, w, (size_t)n) == 0;
}

void expect_op(parser *P, int c, const char *what)
{
    char b[64];
    if (!is_op(P, c)) FAIL_TOK(P, "expected %s, found %s", what, tok_desc(&P->t, b, sizeof b));
    lex_next(P);
}
