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
static const struct { const char *utf8, *ascii; int op; const char *name; } unicode[] = {
    {"\xE2\x88\x92", "-", '-', NULL}, {"\xC2\xB7", "*", '*', NULL}, {"\xC3\x97", "*", '*', NULL},
    {"\xE2\x8B\x85", "*", '*', NULL}, {"\xE2\x80\x93", "-", '-', NULL}, {"\xE2\x89\xA0", "!=", 'N', NULL},
    {"\xE2\x89\xA4", "<=", 'L', NULL}, {"\xE2\x89\xA5", ">=", 'G', NULL},
    {"\xE2\x88\x82", "d", 0, "d"}, {"\xCE\xA3", "sum", 0, "sum"}, {"\xE2\x88\x91", "sum", 0, "sum"},
    {"\xCE\xA0", "prod", 0, "prod"}, {"\xE2\x88\x8F", "prod", 0, "prod"}, {"\xCE\xB4", "delta", 0, "delta"},
    {"\xCF\x83", "sigmoid", 0, "sigmoid"}, {"\xCE\x94", "Delta", 0, "Delta"}, {"\xC2\xB2", "^2", '2', NULL},
    {"\xE2\x80\xB2", "'", '\'', NULL}, {"\xE1\xB5\x80", "^T", 't', NULL},
    {"\xE2\x8A\x99", ".*", 'O', NULL}, {"\xE2\x88\x98", ".*", 'O', NULL},   /* ⊙ ∘: entry by entry */
};

/* LaTeX commands as reports write them. A command is read as an operator
 * (op), as a built-in name (name), or skipped (skip: spacing and sizing);
 * DECOR takes a name in braces (\mathbf{x} is x); TEXT reads \text{for}
 * as the word and skips other text; anything else is refused by name. */
enum { L_OP = 1, L_NAME, L_SKIP, L_DECOR, L_TEXT, L_GROUP_SKIP, L_GREEK, L_ENV, L_QUAD };
static const struct { const char *cmd; int kind; int op; const char *name; } latex[] = {
    {"cdot", L_OP, '*', NULL}, {"times", L_OP, '*', NULL}, {"neq", L_OP, 'N', NULL}, {"ne", L_OP, 'N', NULL},
    {"odot", L_OP, 'O', NULL}, {"circ", L_OP, 'O', NULL},                  /* matrix claims: entry by entry, */
    {"top", L_NAME, 0, "T"}, {"intercal", L_NAME, 0, "T"},                 /* and X^\top (shape.c) */
    {"leq", L_OP, 'L', NULL}, {"le", L_OP, 'L', NULL}, {"geq", L_OP, 'G', NULL}, {"ge", L_OP, 'G', NULL},
    {"leqslant", L_OP, 'L', NULL}, {"geqslant", L_OP, 'G', NULL}, {"lt", L_OP, '<', NULL}, {"gt", L_OP, '>', NULL},
    {"lvert", L_OP, '|', NULL}, {"rvert", L_OP, '|', NULL}, {"vert", L_OP, '|', NULL}, {"prime", L_OP, '\'', NULL},
    {"begin", L_ENV, 0, NULL}, {"end", L_ENV, 1, NULL},
    {"partial", L_NAME, 0, "d"}, {"exp", L_NAME, 0, "exp"}, {"log", L_NAME, 0, "log"}, {"ln", L_NAME, 0, "log"},
    {"tanh", L_NAME, 0, "tanh"}, {"sinh", L_NAME, 0, "sinh"}, {"cosh", L_NAME, 0, "cosh"},
    {"sin", L_NAME, 0, "sin"}, {"cos", L_NAME, 0, "cos"}, {"sqrt", L_NAME, 0, "sqrt"},
    {"sigma", L_NAME, 0, "sigmoid"}, {"sum", L_NAME, 0, "sum"}, {"prod", L_NAME, 0, "prod"},
    {"delta", L_NAME, 0, "delta"}, {"frac", L_NAME, 0, "\\frac"}, {"dfrac", L_NAME, 0, "\\frac"},
    {"tfrac", L_NAME, 0, "\\frac"}, {"max", L_NAME, 0, "max"}, {"min", L_NAME, 0, "min"},
    {"left", L_SKIP, 0, NULL}, {"right", L_SKIP, 0, NULL}, {"big", L_SKIP, 0, NULL}, {"Big", L_SKIP, 0, NULL},
    {"bigl", L_SKIP, 0, NULL}, {"bigr", L_SKIP, 0, NULL}, {"Bigl", L_SKIP, 0, NULL}, {"Bigr", L_SKIP, 0, NULL},
    {"quad", L_QUAD, 0, NULL}, {"qquad", L_QUAD, 0, NULL}, {"displaystyle", L_SKIP, 0, NULL},
    {"limits", L_SKIP, 0, NULL}, {"nonumber", L_SKIP, 0, NULL},
    {"mathrm", L_DECOR, 0, NULL}, {"mathbf", L_DECOR, 0, NULL}, {"boldsymbol", L_DECOR, 0, NULL},
    {"operatorname", L_DECOR, 0, NULL}, {"mathit", L_DECOR, 0, NULL}, {"bm", L_DECOR, 0, NULL},
    {"vec", L_DECOR, 0, NULL}, {"hat", L_DECOR, 1, NULL}, {"bar", L_DECOR, 1, NULL}, {"tilde", L_DECOR, 1, NULL},
    {"text", L_TEXT, 0, NULL}, {"textrm", L_TEXT, 0, NULL}, {"mbox", L_TEXT, 0, NULL},
    {"tag", L_GROUP_SKIP, 0, NULL}, {"label", L_GROUP_SKIP, 0, NULL},
    {"alpha", L_GREEK, 0, NULL}, {"beta", L_GREEK, 0, NULL}, {"gamma", L_GREEK, 0, NULL},
    {"eta", L_GREEK, 0, NULL}, {"theta", L_GREEK, 0, NULL}, {"lambda", L_GREEK, 0, NULL},
    {"mu", L_GREEK, 0, NULL}, {"nu", L_GREEK, 0, NULL}, {"rho", L_GREEK, 0, NULL}, {"tau", L_GREEK, 0, NULL},
    {"phi", L_GREEK, 0, NULL}, {"psi", L_GREEK, 0, NULL}, {"omega", L_GREEK, 0, NULL},
    {"epsilon", L_GREEK, 0, NULL}, {"varepsilon", L_GREEK, 0, NULL}, {"xi", L_GREEK, 0, NULL},
    {"kappa", L_GREEK, 0, NULL}, {"zeta", L_GREEK, 0, NULL}, {"pi", L_GREEK, 0, NULL},
    {"chi", L_GREEK, 0, NULL}, {"iota", L_GREEK, 0, NULL}, {"upsilon", L_GREEK, 0, NULL},
    {"varphi", L_GREEK, 0, NULL}, {"vartheta", L_GREEK, 0, NULL}, {"varrho", L_GREEK, 0, NULL},
    {"Sigma", L_GREEK, 0, NULL}, {"Delta", L_GREEK, 0, NULL}, {"Gamma", L_GREEK, 0, NULL},
    {"Lambda", L_GREEK, 0, NULL}, {"Omega", L_GREEK, 0, NULL}, {"Phi", L_GREEK, 0, NULL},
    {"Psi", L_GREEK, 0, NULL}, {"Theta", L_GREEK, 0, NULL}, {"Xi", L_GREEK, 0, NULL}, {"ell", L_GREEK, 0, NULL},
};

/* The environment on top: 'c' cases, 'a' aligned (and the like), 0 none. */
static int top_env(const parser *P) { return P->lx.nenv ? P->lx.env[P->lx.nenv - 1] : 0; }

/* Inside an environment or $$ … $$ a newline is a space, unless the next
 * line starts a statement (an unclosed block ends at the next one). */
static int newline_is_space(const parser *P)
{
    if (!P->lx.nenv && !P->lx.display) return 0;
    const char *s = P->src;
    size_t k = P->lx.pos + 1;
    while (k < P->len && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r')) k++;
    static const char *const kw[] = {"given", "let", "claim"};
    for (int w = 0; w < 3; w++) {
        size_t n = strlen(kw[w]);
        if (k + n <= P->len && memcmp(s + k, kw[w], n) == 0 &&
            (k + n == P->len || !((s[k + n] >= 'a' && s[k + n] <= 'z') || (s[k + n] >= 'A' && s[k + n] <= 'Z') ||
                                  s[k + n] == '_' || (s[k + n] >= '0' && s[k + n] <= '9'))))
            return 0;
    }
    return 1;
}

/* Skips blanks, comments, a backslash line continuation, and newlines
 * inside ( ) or [ ]. */
static void lex_skip(parser *P)
{
    const char *s = P->src;
    while (P->lx.pos < P->len) {
        char ch = s[P->lx.pos];
        char nx = P->lx.pos + 1 < P->len ? s[P->lx.pos + 1] : '\0';
        if (P->lx.skip_end && P->lx.pos == P->lx.skip_at) {    /* the layer label of the name before */
            lx_advance(P, P->lx.skip_end - P->lx.skip_at);
            P->lx.skip_end = 0;
            continue;
        }
        if (top_env(P) == 'c' && (ch == '&' || (ch == '\\' && nx == '\\'))) return;   /* a case's separators */
        if (ch == '$' && nx == '$') {
            if (!P->lx.display) { P->lx.dline = P->lx.line; P->lx.dcol = P->lx.col; }
            P->lx.display = !P->lx.display;
            lx_advance(P, 2);
        } else if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v' || ch == '$' || ch == '&')
            lx_advance(P, 1);                /* $ … $ and the & of an aligned block are layout */
        else if (ch == '#') {
            while (P->lx.pos < P->len && s[P->lx.pos] != '\n') lx_advance(P, 1);
        } else if (ch == '\\' && (nx == ',' || nx == ';' || nx == '!' || nx == ' ' || nx == ':')) {
            lx_advance(P, 2);                /* LaTeX spacing */
        } else if (ch == '\\' && !((nx >= 'a' && nx <= 'z') || (nx >= 'A' && nx <= 'Z'))) {
            /* a line continued with \ (or an aligned block's \\): the next
             * line belongs to the same statement */
            size_t k = P->lx.pos + 1 + (nx == '\\');
            while (k < P->len && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r' || s[k] == '$')) k++;
            if (k < P->len && s[k] == '\n') lx_advance(P, k + 1 - P->lx.pos);
            else if (nx == '\\') lx_advance(P, 2);
            else return;
        } else if (ch == '\n' && (P->lx.depth > 0 || newline_is_space(P))) lx_advance(P, 1);
        else return;
    }
}

/* 12, 0.5, .5, 1e-3: digits, a fraction, an exponent. */
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
    if (k < P->len && s[k] == '.')                /* 2x is 2*x, read by the parser; 1.2.3 is not a number */
        lex_fail(P, t->line, t->col, "malformed number '%.*s'", (int)(k + 1 - st > 40 ? 40 : k + 1 - st), s + st);
    if (k - st > 100) FAIL_TOK(P, "number too long (more than 100 characters)");
    char buf[128];
    memcpy(buf, s + st, k - st);
    buf[k - st] = '\0';
    t->num = strtod(buf, NULL);
    if (!isfinite(t->num)) FAIL_TOK(P, "number '%s' is too large", buf);
    t->kind = T_NUM; t->n = (int)(k - st);
    /* a decimal written without exponent keeps its precision: 1 + digits after '.' */
    const char *dot = memchr(buf, '.', k - st);
    if (dot && !strpbrk(buf, "eE")) t->c = 1 + (int)(k - st - (size_t)(dot - buf) - 1);
    lx_advance(P, k - st);
}

/* The name a Unicode letter at s (n bytes left) is read as (δ: delta, σ:
 * sigma, Δ: Delta), its length in *len; NULL for any other character. */
const char *lex_unicode_name(const char *s, size_t n, int *len)
{
    static const char *const greek[][2] = {{"\xCE\xB4", "delta"}, {"\xCF\x83", "sigma"}, {"\xCE\x94", "Delta"}};
    for (size_t g = 0; g < sizeof greek / sizeof greek[0]; g++)
        if (n >= 2 && memcmp(s, greek[g][0], 2) == 0) { *len = (int)strlen(greek[g][1]); return greek[g][1]; }
    return NULL;
}

/* A character from notes that reads as an operator, or the ASCII to write. */
static void lex_unicode(parser *P, tok *t)
{
    const char *s = P->src;
    size_t st = P->lx.pos;
    for (size_t u = 0; u < sizeof unicode / sizeof unicode[0]; u++) {
        size_t ul = strlen(unicode[u].utf8);
        if (st + ul <= P->len && memcmp(s + st, unicode[u].utf8, ul) == 0) {
            if (unicode[u].name) {
                t->kind = T_NAME; t->s = unicode[u].name; t->n = (int)strlen(unicode[u].name);
                if (!strcmp(unicode[u].name, "delta") || !strcmp(unicode[u].name, "sigmoid")) {   /* δ, σ */
                    t->raw = unicode[u].name[0] == 'd' ? "delta" : "sigma";
                    t->rawn = 5;
                }
            } else if (unicode[u].op == '2') {       /* x² is x^2: '^' now, 2 next */
                t->kind = T_OP; t->c = '^'; t->n = (int)ul;
                P->lx.pend2 = 1;
            } else if (unicode[u].op) {
                t->kind = T_OP; t->c = unicode[u].op; t->n = (int)ul;
            } else {
                FAIL_TOK(P, "'%.*s' is not read", (int)ul, s + st);   /* (every entry above is an operator or a name) */
            }
            lx_advance(P, ul);
            return;
        }
    }
    FAIL_TOK(P, "unexpected byte 0x%02X: only ASCII, LaTeX and the symbols in --help are understood here",
             (unsigned char)s[st]);
}

/* {name} after a decorating command, or \text{…}: the name inside, or
 * NULL; *end is just after the '}'. */
static const char *lex_braced(parser *P, size_t k, int *n, size_t *end)
{
    const char *s = P->src;
    while (k < P->len && (s[k] == ' ' || s[k] == '\t')) k++;
    if (k >= P->len || s[k] != '{') return NULL;
    size_t a = ++k;
    while (k < P->len && s[k] != '}' && s[k] != '\n' && k - a < 200) k++;
    if (k >= P->len || s[k] != '}') return NULL;
    *end = k + 1;
    while (a < k && (s[a] == ' ' || s[a] == '~')) a++;
    while (k > a && (s[k - 1] == ' ' || s[k - 1] == '~')) k--;
    *n = (int)(k - a);
    return s + a;
}

/* The word of \text{...} with blanks and punctuation around it trimmed. */
static int text_is(const char *in, int n, const char *w)
{
    while (n > 0 && strchr(" ~,.:;", in[0])) { in++; n--; }
    while (n > 0 && strchr(" ~,.:;", in[n - 1])) n--;
    return name_is(in, n, w);
}

/* \text{for}, \text{if }, \text{when } read as 'for'; \text{and}; inside
 * cases \text{otherwise} and \text{else}; other text is skipped (0). */
static int lex_text(parser *P, tok *t, const char *in, int n)
{
    if (text_is(in, n, "for") || text_is(in, n, "if") || text_is(in, n, "when") || text_is(in, n, "for all")) {
        t->kind = T_NAME; t->s = "for"; t->n = 3;
    } else if (text_is(in, n, "and")) {
        t->kind = T_NAME; t->s = "and"; t->n = 3;
    } else if (top_env(P) == 'c' && (text_is(in, n, "otherwise") || text_is(in, n, "else"))) {
        t->kind = T_NAME; t->s = "otherwise"; t->n = 9;
    } else {
        return 0;                                 /* other text: words between formulas */
    }
    return 1;
}

/* \begin{cases} … \end{cases} (tokens for the parser); \begin{aligned},
 * align, split, equation, gather: layout whose newlines are spaces. */
static int lex_env(parser *P, tok *t, int end_, size_t k, size_t *end)
{
    static const char *const layout[] = {"aligned", "align", "align*", "split", "equation", "equation*",
                                         "gather", "gather*", "gathered", "alignat", "alignat*"};
    int n = 0;
    const char *in = lex_braced(P, k, &n, end);
    if (!in) FAIL_TOK(P, "\\%s takes the environment's name in braces: \\%s{cases}", end_ ? "end" : "begin",
                      end_ ? "end" : "begin");
    int kind = name_is(in, n, "cases") ? 'c' : 0;
    for (size_t l = 0; l < sizeof layout / sizeof layout[0]; l++)
        if (name_is(in, n, layout[l])) kind = 'a';
    if (!kind)
        FAIL_TOK(P, "'\\%s{%.*s}' is not read: piecewise values are \\begin{cases}, lines of a chain "
                 "\\begin{aligned}; write a matrix entry by entry (W_{ij})", end_ ? "end" : "begin", n > 30 ? 30 : n, in);
    if (end_) {
        if (top_env(P) != kind)
            FAIL_TOK(P, "\\end{%.*s} closes no \\begin{%.*s}", n, in, n, in);
        P->lx.nenv--;
    } else {
        if (P->lx.nenv == (int)sizeof P->lx.env) FAIL_TOK(P, "environments nested too deeply");
        if (!P->lx.nenv) { P->lx.eline = t->line; P->lx.ecol = t->col; }
        P->lx.env[P->lx.nenv++] = (unsigned char)kind;
    }
    if (kind == 'a') return 0;
    t->kind = T_NAME;
    t->s = end_ ? "\\endcases" : "\\cases";
    t->n = (int)strlen(t->s);
    return 1;
}

/* \quad (7) at the end of a line: an equation number, skipped with the
 * spacing. */
static void lex_quad(parser *P, size_t k)
{
    const char *s = P->src;
    size_t st = P->lx.pos, cmd_end = k;
    while (k < P->len && (s[k] == ' ' || s[k] == '\t')) k++;
    if (k < P->len && s[k] == '(') {
        size_t d = ++k;
        while (k < P->len && ((s[k] >= '0' && s[k] <= '9') || s[k] == '.')) k++;
        if (k > d && k < P->len && s[k] == ')') {
            size_t e = k + 1;
            while (e < P->len && (s[e] == ' ' || s[e] == '\t' || s[e] == '\r' || s[e] == '$')) e++;
            if (e == P->len || s[e] == '\n' || s[e] == '#') { lx_advance(P, k + 1 - st); return; }
        }
    }
    lx_advance(P, cmd_end - st);                  /* just the \quad */
}

/* A Greek command as a name: \alpha is alpha; \sigma and \delta are the
 * built-ins sigmoid and delta unless a quantity takes their own name. */
static int greek_name(tok *t, const char *cmd, int cn)
{
    for (size_t c = 0; c < sizeof latex / sizeof latex[0]; c++) {
        if (!name_is(cmd, cn, latex[c].cmd)) continue;
        if (latex[c].kind == L_GREEK) { t->kind = T_NAME; t->s = cmd; t->n = cn; return 1; }
        if (latex[c].kind == L_NAME && (name_is(cmd, cn, "sigma") || name_is(cmd, cn, "delta"))) {
            t->kind = T_NAME; t->s = latex[c].name; t->n = (int)strlen(latex[c].name);
            t->raw = cmd; t->rawn = cn;
            return 1;
        }
        return 0;
    }
    return 0;
}

/* \mathbf{x}, \boldsymbol{\delta}: the name inside. */
static void lex_decor(parser *P, tok *t, const char *cmd, size_t k, size_t *end)
{
    int n = 0;
    const char *in = lex_braced(P, k, &n, end);
    if (in && n > 1 && in[0] == '\\' && greek_name(t, in + 1, n - 1)) return;
    if (!in || n < 1 || n > 64 || in[0] == '\\')
        FAIL_TOK(P, "\\%s takes a name in braces: \\%s{x}", cmd, cmd);
    t->kind = T_NAME; t->s = in; t->n = n;
    if (name_is(in, n, "d")) t->s = "d";
    if (!strcmp(cmd, "hat") || !strcmp(cmd, "bar") || !strcmp(cmd, "tilde")) {
        char *w = palloc(P, (size_t)n + strlen(cmd) + 1);   /* \hat{y} is the name yhat */
        memcpy(w, in, (size_t)n);
        memcpy(w + n, cmd, strlen(cmd));
        t->s = w;
        t->n = n + (int)strlen(cmd);
    }
}

/* \command: an operator, a name, a decorated name, or skipped (then the
 * caller lexes on). Returns 0 when the command was skipped. */
static int lex_command(parser *P, tok *t)
{
    const char *s = P->src;
    size_t st = P->lx.pos, k = st + 1;
    if (k < P->len && s[k] == '\\') {            /* \\ between the rows of cases */
        t->kind = T_OP; t->c = 'R'; t->n = 2;
        lx_advance(P, 2);
        return 1;
    }
    while (k < P->len && ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z'))) k++;
    int cn = (int)(k - st - 1);
    for (size_t c = 0; c < sizeof latex / sizeof latex[0]; c++) {
        if (!name_is(s + st + 1, cn, latex[c].cmd)) continue;
        size_t end = k;
        int n = 0;
        const char *in = NULL;
        switch (latex[c].kind) {
        case L_OP: t->kind = T_OP; t->c = latex[c].op; t->n = cn + 1; break;
        case L_NAME: case L_GREEK: greek_name(t, s + st + 1, cn);
            if (latex[c].kind == L_NAME && !t->raw) {
                t->kind = T_NAME;
                t->s = latex[c].name;
                t->n = (int)strlen(t->s);
            }
            break;
        case L_SKIP: lx_advance(P, k - st); return 0;
        case L_QUAD: lex_quad(P, k); return 0;
        case L_ENV:
            if (!lex_env(P, t, latex[c].op, k, &end)) { lx_advance(P, end - st); return 0; }
            break;
        case L_GROUP_SKIP:
            if (!lex_braced(P, k, &n, &end)) FAIL_TOK(P, "\\%s takes its text in braces", latex[c].cmd);
            lx_advance(P, end - st);
            return 0;
        case L_DECOR: lex_decor(P, t, latex[c].cmd, k, &end); break;
        default:                                  /* L_TEXT */
            in = lex_braced(P, k, &n, &end);
            if (!in) FAIL_TOK(P, "\\%s takes its text in braces", latex[c].cmd);
            if (!lex_text(P, t, in, n)) { lx_advance(P, end - st); return 0; }
        }
        lx_advance(P, end - st);
        return 1;
    }
    static const struct { const char *cmd, *instead; } hint[] = {
        {"nabla", "write the gradient entry by entry, \\frac{\\partial L}{\\partial w_i}"},
        {"mathbb", "write \\mathbb{1}[i = j] as \\delta_{ij}, an indicator of values with \\begin{cases}"},
        {"forall", "write the condition after the claim: \\quad \\text{for } i \\neq j"},
        {"in", "a range is declared with given: given x in (-4, 4)"},
        {"approx", "a claim is an equality; its numbers are compared at their printed precision"},
        {"int", "integrals are not read"}, {"lim", "limits are not read"},
    };
    for (size_t h = 0; h < sizeof hint / sizeof hint[0]; h++)
        if (name_is(s + st + 1, cn, hint[h].cmd)) FAIL_TOK(P, "'\\%s' is not read: %s", hint[h].cmd, hint[h].instead);
    FAIL_TOK(P, "'\\%.*s' is not read (try --help for the LaTeX verify reads)", cn > 40 ? 40 : cn, s + st + 1);
}

/* An operator: one of + - * / ^ ( ) [ ] , : = < > or != == <= >= .* (⊙). */
static void lex_symbol(parser *P, tok *t)
{
    static const char two[][3] = {"!=", "==", "<=", ">=", ".*"};
    static const char code[] = "NELGO";           /* .* is ⊙, the product entry by entry */
    const char *s = P->src;
    size_t st = P->lx.pos;
    unsigned char ch = (unsigned char)s[st];
    for (int k = 0; k < 5; k++)
        if (st + 1 < P->len && s[st] == two[k][0] && s[st + 1] == two[k][1]) {
            t->kind = T_OP; t->c = code[k]; t->n = 2;
            lx_advance(P, 2);
            return;
        }
    static const char *const primes[] = {"^{\\prime}", "^\\prime", "^{'}"};   /* f^{\prime}: f' */
    for (int k = 0; k < 3; k++) {
        size_t n = strlen(primes[k]);
        if (st + n <= P->len && memcmp(s + st, primes[k], n) == 0 &&
            (k != 1 || st + n == P->len || !is_alpha((unsigned char)s[st + n]))) {   /* ^\prime, not ^\primes */
            t->kind = T_OP; t->c = '\''; t->n = (int)n;
            lx_advance(P, n);
            return;
        }
    }
    if (!strchr("+-*/^()[],:=<>{}_'|&", ch) || ch == '\0') {
        if (ch >= 0x20 && ch < 0x7F) FAIL_TOK(P, "unexpected character '%c'", ch);
        FAIL_TOK(P, "unexpected byte 0x%02X", ch);
    }
    if (ch == '(' || ch == '[' || ch == '{') P->lx.depth++;
    if ((ch == ')' || ch == ']' || ch == '}') && P->lx.depth > 0) P->lx.depth--;
    t->kind = T_OP; t->c = ch; t->n = 1;
    lx_advance(P, 1);
}

/* NAME^{(o)}, NAME_j^{(o)}, NAME_{jk}^{(o)}: a layer label belongs to the
 * name (W_o, s_h), the subscript stays a subscript: the name token ends
 * before it and the label is skipped when the lexer reaches it. */
static void lex_label(parser *P, tok *t)
{
    const char *s = P->src;
    if (P->lx.skip_end) return;                    /* the subscript of a labelled name */
    int plain = t->s >= s && t->s < s + P->len && t->s == s + t->at;
    size_t base = P->lx.pos, k;
    if (plain) {
        const char *u = memchr(t->s, '_', (size_t)t->n);
        if (u && u > t->s) base = t->at + (size_t)(u - t->s);
    }
    k = base;
    if (k < P->len && s[k] == '_') {
        k++;
        if (k < P->len && s[k] == '{') {
            while (k < P->len && s[k] != '}' && s[k] != '\n' && k - base < 64) k++;
            if (k >= P->len || s[k] != '}') return;
            k++;
        } else {
            if (k < P->len && s[k] == '\\') k++;
            while (k < P->len && (is_alpha((unsigned char)s[k]) || is_digit((unsigned char)s[k])) && s[k] != '_') k++;
        }
    }
    size_t at = k;
    static const char open[] = "^{(";
    for (int i = 0; i < 3; i++) {
        while (i && k < P->len && s[k] == ' ') k++;
        if (k >= P->len || s[k] != open[i]) return;
        k++;
    }
    size_t l0 = k;
    while (k < P->len && (is_alpha((unsigned char)s[k]) || is_digit((unsigned char)s[k])) && s[k] != '_' && k - l0 < 16) k++;
    size_t l1 = k;
    while (k < P->len && s[k] == ' ') k++;
    if (l1 == l0 || k + 1 >= P->len || s[k] != ')') return;
    k++;
    while (k < P->len && s[k] == ' ') k++;
    if (k >= P->len || s[k] != '}') return;
    const char *nm = t->raw ? t->raw : t->s;
    int nn = t->raw ? t->rawn : plain ? (int)(base - t->at) : t->n;
    char *w = palloc(P, (size_t)nn + (l1 - l0) + 2);
    memcpy(w, nm, (size_t)nn);
    w[nn] = '_';
    memcpy(w + nn + 1, s + l0, l1 - l0);
    t->s = w;
    t->n = nn + 1 + (int)(l1 - l0);
    t->raw = NULL;
    if (base < P->lx.pos) { P->lx.pos = base; P->lx.col = t->col + (int)(base - t->at); }
    P->lx.skip_at = at;
    P->lx.skip_end = k + 1;
}

void lex_next(parser *P)
{
    const char *s = P->src;
    P->prev_end = P->t.end;
    P->prev_line = P->t.line;
    tok *t = &P->t;
    if (P->lx.pend2) {                        /* the 2 of x² */
        P->lx.pend2 = 0;
        t->kind = T_NUM; t->num = 2; t->n = 0; t->c = 0;
        return;
    }
    for (;;) {
        lex_skip(P);
        memset(t, 0, sizeof *t);
        t->line = P->lx.line;
        t->col = P->lx.col;
        t->s = s + P->lx.pos;
        t->at = P->lx.pos;
        if (P->lx.pos >= P->len) { t->kind = T_EOF; t->end = P->len; return; }
        if (s[P->lx.pos] != '\\' || lex_command(P, t)) break;
    }
    if (t->kind) {
        if (t->kind == T_NAME) lex_label(P, t);
        t->end = P->lx.pos;
        return;
    }
    size_t st = P->lx.pos;
    unsigned char ch = (unsigned char)s[st];
    if (ch == '\n') {
        t->kind = T_NL; t->n = 1;
        lx_advance(P, 1);
    } else if (is_alpha(ch) && ch != '_') {
        size_t k = st;
        while (k < P->len && (is_alpha((unsigned char)s[k]) || is_digit((unsigned char)s[k]))) k++;
        if (k - st > 64) FAIL_TOK(P, "name too long (more than 64 characters)");
        t->kind = T_NAME; t->n = (int)(k - st);
        lx_advance(P, k - st);
        lex_label(P, t);
    } else if (is_digit(ch) || (ch == '.' && st + 1 < P->len && is_digit((unsigned char)s[st + 1]))) {
        lex_number(P, t);
    } else if (ch >= 0x80) {
        lex_unicode(P, t);
    } else {
        lex_symbol(P, t);
    }
    if (P->lx.skip_end && P->lx.pos == P->lx.skip_at) {   /* s_j^{(h)}: the label, read into s_h */
        lx_advance(P, P->lx.skip_end - P->lx.skip_at);
        P->lx.skip_end = 0;
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
