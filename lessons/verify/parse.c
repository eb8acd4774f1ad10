/* parse.c — one expression: recursive descent over + - * / ^, calls, sums,
 * delta and references with their subscripts; and what the statements need
 * to know of an AST (its cost in graph nodes, the quantities it uses).
 *
 * Every way down (parentheses, calls, signs, ^) passes parse_unary, which
 * counts the levels against EXPR_MAX_NESTING: deep input is a located
 * error, not a stack overflow; mk bounds a tree's height by EXPR_MAX_DEPTH,
 * so the recursive walks over an AST are bounded too.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "expr_impl.h"

static int is_digit_str(const char *s, int n)
{
    for (int i = 0; i < n; i++) if (s[i] < '0' || s[i] > '9') return 0;
    return n > 0 && n < 10;
}

static double strtod_n(const char *s, int n)
{
    double v = 0;
    for (int i = 0; i < n; i++) v = 10 * v + (s[i] - '0');
    return v;
}

ast *mk(parser *P, int kind, int line, int col, ast *a, ast *b)
{
    ast *e = palloc(P, sizeof *e);
    e->kind = (unsigned char)kind;
    e->line = line;
    e->col = col;
    e->a = a;
    e->b = b;
    int d = 0;
    if (a && a->depth > d) d = a->depth;
    if (b && b->depth > d) d = b->depth;
    e->depth = d + 1;
    e->konst = (unsigned char)((!a || a->konst) && (!b || b->konst));
    if (e->depth > EXPR_MAX_DEPTH)
        lex_fail(P, line, col, "expression too long: more than %d operations in one chain (split it with let)",
                EXPR_MAX_DEPTH);
    e->from = a ? a->from : (unsigned)P->t.at;
    e->to = (unsigned)P->prev_end;
    if ((a && a->rows) || (b && b->rows)) shape_node(P, e);
    return e;
}

static ast *parse_unary(parser *P);

static void enter(parser *P)
{
    if (++P->nest > EXPR_MAX_NESTING)
        FAIL_TOK(P, "expression nested too deeply (more than %d levels)", EXPR_MAX_NESTING);
    if (P->nest > P->maxnest) P->maxnest = P->nest;
}

/* A new index letter of the claim (on its left side): the claim checks
 * every value of it. */
static int claim_letter(parser *P, const tok *it)
{
    check_index_name(P, it);
    if (P->nletters == MAX_LETTERS)
        lex_fail(P, it->line, it->col, "at most %d index letters per claim", MAX_LETTERS);
    int s = new_slot(P, it);
    P->letter[P->nletters++] = s;
    return s;
}

/* One subscript of quantity q at position n: a whole number (1-based when
 * written as a LaTeX subscript) or an index letter, whose range it fixes. */
static void sub_item(parser *P, int q, int n, const tok *it, sub *out, int one_based)
{
    const qty *Q = &P->p->q[q];
    char b[64];
    if (it->kind == T_NUM) {
        double v = it->num - one_based;          /* y_1 in LaTeX is y[0] */
        if (v != floor(v) || v < 0 || v >= Q->dim[n])
            lex_fail(P, it->line, it->col, "index %.*s is out of range: %.*s has entries %d to %d here",
                    it->n > 40 ? 40 : it->n, it->s, Q->nlen, Q->name, one_based, Q->dim[n] - 1 + one_based);
        out->lit = 1;
        out->v = (int)v;
    } else if (it->kind == T_NAME) {
        int s = find_scope(P, it->s, it->n);
        if (s < 0 && P->claim_mode) s = claim_letter(P, it);
        if (s < 0) {
            if (find_qty(P->p, it->s, it->n) >= 0)
                lex_fail(P, it->line, it->col,
                        "'%.*s' is a quantity; an index is a letter (bound by the left side, a sum or the claim) "
                        "or a whole number", it->n, it->s);
            if (P->defining)
                lex_fail(P, it->line, it->col,
                        "index '%.*s' is not bound: put it on the left side (%.*s[%.*s]) or sum over it "
                        "(sum(%.*s, ...))", it->n, it->s, P->defining_n, P->defining, it->n, it->s, it->n, it->s);
            lex_fail(P, it->line, it->col,
                    "index '%.*s' is not bound: use it %s or sum over it (sum(%.*s, ...))",
                    it->n, it->s, P->side0_dterm ? "in d A / d B" : "on the left side of the claim",
                    it->n, it->s);
        }
        range_slot(P, s, q, n, it);
        out->lit = 0;
        out->v = s;
    } else {
        lex_fail(P, it->line, it->col, "expected an index (a letter or a whole number), found %s",
                 tok_desc(it, b, sizeof b));
    }
}

/* Parses the subscripts of quantity q after its name (token nm). In claim
 * mode a new letter becomes an index of the claim. */
void parse_subs(parser *P, int q, const tok *nm, sub *out, int *nout)
{
    const qty *Q = &P->p->q[q];
    int n = 0;
    char b[64];
    while (is_op(P, '[')) {
        tok open = P->t;
        lex_next(P);
        if (n == Q->rank) {
            if (Q->rank == 0)
                lex_fail(P, open.line, open.col, "'%.*s' is a scalar: it takes no index", Q->nlen, Q->name);
            lex_fail(P, open.line, open.col, "'%.*s' has %d ind%s, not more", Q->nlen, Q->name, Q->rank,
                    Q->rank == 1 ? "ex" : "ices");
        }
        tok it = P->t;
        sub_item(P, q, n, &it, &out[n], 0);
        lex_next(P);
        if (!is_op(P, ']'))
            FAIL_TOK(P, "expected ']' after the index (an index is a letter or a whole number), found %s",
                     tok_desc(&P->t, b, sizeof b));
        lex_next(P);
        n++;
    }
    if (n < Q->rank) subs_missing(P, q, nm, n);
    *nout = n;
}

/* Quantity q named at nm has n of its indices here, too few. */
void subs_missing(parser *P, int q, const tok *nm, int n)
{
    const qty *Q = &P->p->q[q];
    lex_fail(P, nm->line, nm->col, "'%.*s' has %d ind%s%s%.0d: write %.*s%s", Q->nlen, Q->name, Q->rank,
            Q->rank == 1 ? "ex" : "ices", n ? ", here " : "", n, Q->nlen, Q->name,
            Q->rank == 1 ? "[i]" : Q->rank == 2 ? "[i][j]" : Q->rank == 3 ? "[i][j][k]" : "[i][j][k][l]");
}

/* Was t written in LaTeX or Unicode (\log, \sigma, ∂)? Its text then is
 * not the source's, or follows a backslash. */
static int from_latex(const parser *P, const tok *t)
{
    return t->s < P->src || t->s >= P->src + P->len || (t->s > P->src && t->s[-1] == '\\');
}

/* The quantity a name denotes: the name itself if declared, else the
 * part before its first '_' when that is declared (y_i is y with the
 * subscript i): *u is then the offset of the '_', otherwise −1. */
int qty_of(const parser *P, const tok *t, int *u)
{
    *u = -1;
    int q = find_qty(P->p, t->s, t->n);
    if (q >= 0 || from_latex(P, t)) return q >= 0 && P->p->q[q].kind == Q_FN ? -1 : q;   /* f is no value */
    for (int k = 1; k < t->n; k++)
        if (t->s[k] == '_') {
            q = find_qty(P->p, t->s, k);
            if (q >= 0 && P->p->q[q].kind == Q_FN) q = -1;
            if (q >= 0) *u = k;
            return q;
        }
    return -1;
}

/* The items of a LaTeX subscript: the rest of the name after '_' (y_i,
 * w_hk), or a braced group after '_' ({hk}, {i,j}, {k 1}). A run of
 * letters is split into one letter per index when the quantity needs that
 * many. Returns the count. */
int latex_items(parser *P, const qty *Q, const tok *nm, int u, tok *items)
{
    char b[64];
    int n = 0;
    if (u >= 0 && u + 1 < nm->n) {
        items[0] = *nm;
        items[0].s = nm->s + u + 1;
        items[0].n = nm->n - u - 1;
        items[0].col = nm->col + u + 1;
        items[0].kind = is_digit_str(items[0].s, items[0].n) ? T_NUM : T_NAME;
        items[0].num = items[0].kind == T_NUM ? strtod_n(items[0].s, items[0].n) : 0;
        n = 1;
    } else {
        if (u < 0) lex_next(P);                    /* the '_' */
        if (!is_op(P, '{')) {                      /* \delta_i or y_1: one token */
            if (P->t.kind != T_NAME && P->t.kind != T_NUM)
                FAIL_TOK(P, "expected a subscript after '_', found %s", tok_desc(&P->t, b, sizeof b));
            items[n++] = P->t;
            lex_next(P);
        } else {
            tok open = P->t;
            lex_next(P);
            while (!is_op(P, '}')) {
                if (P->t.kind != T_NAME && P->t.kind != T_NUM)
                    FAIL_TOK(P, "expected an index in the subscript opened at %d:%d, found %s", open.line,
                             open.col, tok_desc(&P->t, b, sizeof b));
                if (n == EXPR_MAX_RANK) FAIL_TOK(P, "at most %d indices in a subscript", EXPR_MAX_RANK);
                items[n++] = P->t;
                lex_next(P);
                if (is_op(P, ',')) lex_next(P);
            }
            lex_next(P);
        }
    }
    if (n == 1 && Q->rank > 1 && items[0].kind == T_NAME && items[0].n == Q->rank) {
        tok w = items[0];                          /* w_{hk}: h and k */
        for (int i = 0; i < Q->rank; i++) {
            items[i] = w;
            items[i].s = w.s + i;
            items[i].n = 1;
            items[i].col = w.col + i;
        }
        n = Q->rank;
    }
    return n;
}

/* A LaTeX subscript on quantity q (nm its name token, u the '_' inside
 * it or −1 when a separate '_' follows). */
static void latex_subs(parser *P, int q, const tok *nm, int u, sub *out, int *nout)
{
    const qty *Q = &P->p->q[q];
    tok items[EXPR_MAX_RANK];
    if (Q->rank == 0)
        lex_fail(P, nm->line, nm->col, "'%.*s' is a scalar, so it takes no subscript (declare it with "
                 "indices, e.g. given %.*s[3], for %.*s_i)", Q->nlen, Q->name, Q->nlen, Q->name, Q->nlen, Q->name);
    int n = latex_items(P, Q, nm, u, items);
    if (n != Q->rank)
        lex_fail(P, nm->line, nm->col, "'%.*s' has %d ind%s, and this subscript gives %d (write %.*s_{%s})",
                 Q->nlen, Q->name, Q->rank, Q->rank == 1 ? "ex" : "ices", n, Q->nlen, Q->name,
                 Q->rank == 1 ? "i" : Q->rank == 2 ? "ij" : Q->rank == 3 ? "ijk" : "ijkl");
    for (int i = 0; i < n; i++) sub_item(P, q, i, &items[i], &out[i], 1);
    *nout = n;
}

/* The subscripts of a quantity in either form: [i][j] or _{ij}. */
NOINLINE void ref_subs(parser *P, int q, const tok *nm, int u, sub *out, int *nout)
{
    if (u >= 0 || is_op(P, '_')) latex_subs(P, q, nm, u, out, nout);
    else parse_subs(P, q, nm, out, nout);
    if (is_op(P, '(')) latex_name_args(P);        /* H(\mathbf{t}, \mathbf{s}) is H (latex.c) */
}

void parse_delta_arg_tok(parser *P, const tok *it, sub *s)
{
    char b[64];
    if (it->kind == T_NUM) {
        if (it->num != floor(it->num) || it->num < 0 || it->num > EXPR_MAX_ENTRIES)
            lex_fail(P, it->line, it->col, "expected an index letter or a whole number in delta, found %s",
                     tok_desc(it, b, sizeof b));
        s->lit = 1;
        s->v = (int)it->num;
    } else if (it->kind == T_NAME) {
        int k = find_scope(P, it->s, it->n);
        if (k < 0)
            lex_fail(P, it->line, it->col, "delta and sum(j != i, ...) take index letters bound here, and "
                     "'%.*s' is not one", it->n, it->s);
        s->lit = 0;
        s->v = k;
    } else {
        lex_fail(P, it->line, it->col, "expected an index letter in delta, found %s", tok_desc(it, b, sizeof b));
    }
}

static void parse_delta_arg(parser *P, sub *s)
{
    tok it = P->t;
    parse_delta_arg_tok(P, &it, s);
    lex_next(P);
}

NOINLINE static ast *parse_call(parser *P, const tok *nm)
{
    char b[64];
    lex_next(P);                                   /* '(' */
    if (name_is(nm->s, nm->n, "sum") || name_is(nm->s, nm->n, "prod")) {
        int kind = nm->s[0] == 's' ? E_SUM : E_PROD;
        tok k = P->t;
        if (k.kind != T_NAME)
            FAIL_TOK(P, "expected an index letter as the first argument of %.*s, found %s", nm->n, nm->s,
                     tok_desc(&k, b, sizeof b));
        check_index_name(P, &k);
        int prev = find_scope(P, k.s, k.n);
        if (prev >= 0)
            lex_fail(P, k.line, k.col, "index '%.*s' is already bound at %d:%d; pick another letter", k.n, k.s,
                    P->slots[prev].line, P->slots[prev].col);
        lex_next(P);
        sub excl = {0, 0};
        int has_excl = 0;
        if (is_op(P, 'N')) {                      /* sum(j != i, ...): all j but one */
            lex_next(P);
            parse_delta_arg(P, &excl);
            has_excl = 1;
        }
        expect_op(P, ',', "',' after the index of the sum");
        int s = new_slot(P, &k);
        P->scope[P->nscope++] = s;
        ast *body = parse_expr(P);
        P->nscope--;
        if (!is_op(P, ')'))
            FAIL_TOK(P, "expected ')' to close %.*s( at %d:%d, found %s", nm->n, nm->s, nm->line, nm->col,
                     tok_desc(&P->t, b, sizeof b));
        lex_next(P);
        if (!P->slots[s].range)
            lex_fail(P, k.line, k.col, "cannot infer the range of index '%.*s': no quantity is indexed by it in "
                    "the %.*s", k.n, k.s, nm->n, nm->s);
        ast *e = mk(P, kind, nm->line, nm->col, body, NULL);
        e->slot = s;
        e->nsub = (unsigned char)has_excl;
        e->s[0] = excl;
        return e;
    }
    if (name_is(nm->s, nm->n, "delta")) {
        ast *e = mk(P, E_DELTA, nm->line, nm->col, NULL, NULL);
        parse_delta_arg(P, &e->s[0]);
        expect_op(P, ',', "',' between the two indices of delta");
        parse_delta_arg(P, &e->s[1]);
        if (!is_op(P, ')'))
            FAIL_TOK(P, "expected ')' to close delta( at %d:%d, found %s", nm->line, nm->col,
                     tok_desc(&P->t, b, sizeof b));
        lex_next(P);
        return e;
    }
    int f = fn_lookup(nm->s, nm->n);
    if (f < 0) {
        if (find_qty(P->p, nm->s, nm->n) >= 0)
            lex_fail(P, nm->line, nm->col, "'%.*s' is a quantity, not a function (write %.*s*(...) for a product)",
                    nm->n, nm->s, nm->n, nm->s);
        lex_fail(P, nm->line, nm->col, "unknown function '%.*s' (try --help for the list)", nm->n, nm->s);
    }
    ast *x = parse_expr(P), *y = NULL;
    if (f == F_MAX || f == F_MIN) {
        expect_op(P, ',', f == F_MAX ? "',' between the two arguments of max" : "',' between the two arguments of min");
        y = parse_expr(P);
    }
    if (is_op(P, ','))
        FAIL_TOK(P, "%s takes %s", fn_names[f], y ? "two arguments" : "one argument");
    if (!is_op(P, ')'))
        FAIL_TOK(P, "expected ')' to close %s( at %d:%d, found %s", fn_names[f], nm->line, nm->col,
                 tok_desc(&P->t, b, sizeof b));
    lex_next(P);
    ast *e = mk(P, E_FN, nm->line, nm->col, x, y);
    e->fn = (unsigned char)f;
    return e;
}

/* 'd' then a quantity (or the shorthand dL): the quantity's name token. */
static tok parse_d(parser *P, const char *where)
{
    char b[64];
    tok t = P->t;
    if (t.kind == T_NAME && name_is(t.s, t.n, "d")) {
        lex_next(P);
        tok q = P->t;
        if (q.kind == T_OP && q.c == '(')
            FAIL_TOK(P, "d takes a quantity, not an expression: define it first (let f = ...), then d f / d x");
        if (q.kind == T_OP && q.c == '^')
            FAIL_TOK(P, "second derivatives (\\partial^2) are not read: claim the first derivative as a let "
                     "(let g = ...), then d g / d x");
        if (q.kind != T_NAME)
            FAIL_TOK(P, "expected a quantity after 'd', found %s", tok_desc(&q, b, sizeof b));
        lex_next(P);
        return q;
    }
    tok rest = t;
    rest.s++; rest.n--; rest.col++;
    int u;
    if (t.kind == T_NAME && t.n > 1 && t.s[0] == 'd' && qty_of(P, &rest, &u) >= 0) {   /* dL, do_i */
        lex_next(P);
        return rest;
    }
    FAIL_TOK(P, "expected 'd' and a quantity %s (claim d A / d B = ...), found %s", where, tok_desc(&t, b, sizeof b));
}

/* ---- matrix expressions: the hooks (the rest is in shape.c) ---------------------- */

/* The subscripts of A (which = 1) or B (2) of d A / d B, or none: the
 * quantity used whole (d L / d W), checked by mat_dterm once B is read. */
static void dterm_subs(parser *P, ast *e, int which, const tok *nm, int u, int *n)
{
    int q = which == 1 ? e->q : e->dq;
    if (mat_whole_ok(P, q, u)) { e->whole |= (unsigned char)which; *n = 0; return; }
    ref_subs(P, q, nm, u, which == 1 ? e->s : e->ds, n);
}

/* f'(x) for a built-in f (the ' just read): the derivative's code. */
int fn_prime(parser *P, const tok *nm, int f)
{
    static const unsigned char prime[F_COUNT] = {
        [F_EXP] = F_DEXP, [F_LOG] = F_DLOG, [F_SQRT] = F_DSQRT, [F_ABS] = F_DABS, [F_SIN] = F_DSIN,
        [F_COS] = F_DCOS, [F_TANH] = F_DTANH, [F_SINH] = F_DSINH, [F_COSH] = F_DCOSH,
        [F_SIGMOID] = F_DSIGMOID, [F_RELU] = F_DRELU, [F_STANH] = F_DSTANH};
    if (!prime[f])
        lex_fail(P, nm->line, nm->col, "%s' is not read (write the derivative out, or d f / d x)", fn_names[f]);
    lex_next(P);                                   /* the ' */
    return prime[f];
}

static int dterm_qty(parser *P, tok *t, int *u)
{
    if (t->raw && find_qty(P->p, t->raw, t->rawn) >= 0) { t->s = t->raw; t->n = t->rawn; }   /* \sigma_i */
    int q = qty_of(P, t, u);
    if (q < 0 && find_qty(P->p, t->s, t->n) >= 0)
        lex_fail(P, t->line, t->col, "'%.*s' is a function: its derivative is %.*s'(x); d A / d B takes quantities "
                 "(let y = %.*s(x), then d y / d x)", t->n, t->s, t->n, t->s, t->n, t->s);
    if (q < 0)
        lex_fail(P, t->line, t->col, "unknown quantity '%.*s': a claim is about quantities defined before it "
                "(with given or let)", t->n, t->s);
    return q;
}

/* Does the name t start d A / d B? 'd' followed by a name, or dL where L
 * is a quantity. A quantity's own name wins (a helper called dout), except
 * at the start of a claim, where dL/dx has always meant d L / d x. */
static int is_dterm(const parser *P, const tok *t, int first)
{
    if (name_is(t->s, t->n, "d") && find_qty(P->p, "d", 1) < 0) {
        /* peek: the next character that is not a blank starts a name */
        size_t k = t->end;
        while (k < P->len && (P->src[k] == ' ' || P->src[k] == '\t')) k++;
        unsigned char ch = k < P->len ? (unsigned char)P->src[k] : 0;
        if (ch == '\\' && k + 1 < P->len) ch = (unsigned char)P->src[k + 1];   /* \partial \sigma_i */
        int gn;
        const char *g = ch >= 0x80 ? lex_unicode_name(P->src + k, P->len - k, &gn) : NULL;
        if (g) return 1;          /* ∂δ_k, ∂σ: a Greek letter as a letter (unknown: dterm_qty says so) */
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
    }
    tok rest = *t;
    rest.s++; rest.n--;
    int u;
    if (t->n > 1 && t->s[0] == 'd' && qty_of(P, &rest, &u) >= 0)      /* dL, do_i */
        return first || qty_of(P, t, &u) < 0;
    return 0;
}

/* d A[..] / d B[..]: the engine's derivative at the point, through B with
 * everything else held fixed when B is defined. */
NOINLINE static ast *parse_dterm(parser *P)
{
    tok at = P->t;
    if (P->ndterms == MAX_DTERMS) FAIL_TOK(P, "at most %d derivatives d A / d B in one claim", MAX_DTERMS);
    ast *e = mk(P, E_DERIV, at.line, at.col, NULL, NULL);
    int n, u;
    tok a = parse_d(P, "to differentiate");
    e->q = dterm_qty(P, &a, &u);
    dterm_subs(P, e, 1, &a, u, &n);
    e->nsub = (unsigned char)n;
    expect_op(P, '/', "'/' between d A and d B");
    tok bt = parse_d(P, "after '/'");
    e->dq = dterm_qty(P, &bt, &u);
    dterm_subs(P, e, 2, &bt, u, &n);
    if (e->whole) mat_dterm(P, e, &a);
    e->konst = 0;
    e->dterm = P->ndterms;
    P->dterm[P->ndterms++] = e;
    return e;
}

/* \frac{\partial A}{\partial B}: the derivative; \frac{a}{b}: a / b. */
NOINLINE static ast *parse_frac(parser *P, const tok *nm)
{
    char b[64];
    if (!is_op(P, '{')) FAIL_TOK(P, "\\frac takes two groups: \\frac{a}{b}, found %s", tok_desc(&P->t, b, sizeof b));
    lex_next(P);
    if (is_name(P, "d") && find_qty(P->p, "d", 1) < 0 && P->t.end < P->len && P->src[P->t.end] == '}')
        return latex_dop(P);   /* \frac{d}{dx}(...) */
    if (is_name(P, "d") && P->t.end < P->len && P->src[P->t.end] == '^')
        FAIL_TOK(P, "second derivatives (\\partial^2) are not read: claim the first derivative as a let "
                 "(let g = ...), then d g / d x");
    if (P->t.kind == T_NAME && is_dterm(P, &P->t, 1)) {
        tok at = P->t;
        if (P->ndterms == MAX_DTERMS) FAIL_TOK(P, "at most %d derivatives d A / d B in one claim", MAX_DTERMS);
        ast *e = mk(P, E_DERIV, at.line, at.col, NULL, NULL);
        int n, u;
        tok a = parse_d(P, "to differentiate");
        e->q = dterm_qty(P, &a, &u);
        dterm_subs(P, e, 1, &a, u, &n);
        expect_op(P, '}', "'}' after the quantity differentiated (\\frac{\\partial A}{\\partial B})");
        expect_op(P, '{', "'{' and the quantity to differentiate by (\\frac{\\partial A}{\\partial B})");
        tok bt = parse_d(P, "below the line");
        e->dq = dterm_qty(P, &bt, &u);
        dterm_subs(P, e, 2, &bt, u, &n);
        if (e->whole) mat_dterm(P, e, &a);
        expect_op(P, '}', "'}' to close the derivative's denominator");
        e->dterm = P->ndterms;
        P->dterm[P->ndterms++] = e;
        return e;
    }
    ast *num = parse_expr(P);
    expect_op(P, '}', "'}' to close the numerator of \\frac");
    expect_op(P, '{', "'{' and the denominator of \\frac");
    ast *den = parse_expr(P);
    expect_op(P, '}', "'}' to close the denominator of \\frac");
    return mk(P, E_DIV, nm->line, nm->col, num, den);
}

/* A name that is not a quantity: the constants e and pi, or a located
 * error saying why the name is not a value here. */
NOINLINE static ast *parse_name_other(parser *P, const tok *t)
{
    int u;
    if (find_scope(P, t->s, t->n) >= 0)
        lex_fail(P, t->line, t->col, "'%.*s' is an index, not a value: use it inside [ ] or delta(%.*s, ...)",
                t->n, t->s, t->n, t->s);
    if (name_is(t->s, t->n, "e") || name_is(t->s, t->n, "pi")) {
        ast *e = mk(P, E_NUM, t->line, t->col, NULL, NULL);
        e->num = t->s[0] == 'e' ? 2.718281828459045 : 3.141592653589793;
        e->fn = t->s[0] == 'e';                    /* the name e: e^x is exp(x) */
        return e;
    }
    if (fn_lookup(t->s, t->n) >= 0 || name_is(t->s, t->n, "sum") || name_is(t->s, t->n, "prod") ||
        name_is(t->s, t->n, "delta"))
        lex_fail(P, t->line, t->col, "'%.*s' is a function: write %.*s(...)", t->n, t->s, t->n, t->s);
    if (P->defining && t->n == P->defining_n &&
        memcmp(t->s, P->defining, (size_t)t->n) == 0)
        lex_fail(P, t->line, t->col, "'%.*s' is being defined here: a let can only use quantities defined before it",
                t->n, t->s);
    for (u = 1; u < t->n && t->s[u] != '_'; u++) {}
    if (u + 1 < t->n && find_qty(P->p, t->s, u) < 0)
        lex_fail(P, t->line, t->col, "unknown name '%.*s': did you mean %.*s[%.*s]? (declare %.*s with indices "
                 "first, e.g. given %.*s[3])", t->n, t->s, u, t->s, t->n - u - 1, t->s + u + 1, u, t->s, u, t->s);
    lex_fail(P, t->line, t->col, "unknown name '%.*s' (define it with given or let first)", t->n, t->s);
}


static ast *parse_power(parser *P);
static ast *parse_primary(parser *P);

/* \delta_{ij}, δ_{ij}: the Kronecker delta of two bound letters. */
NOINLINE static ast *parse_latex_delta(parser *P, const tok *nm)
{
    tok items[EXPR_MAX_RANK];
    qty two = {0};
    two.rank = 2;
    int n = latex_items(P, &two, nm, -1, items);
    if (n != 2) lex_fail(P, nm->line, nm->col, "\\delta takes two indices: \\delta_{ij}");
    ast *e = mk(P, E_DELTA, nm->line, nm->col, NULL, NULL);
    for (int i = 0; i < 2; i++) parse_delta_arg_tok(P, &items[i], &e->s[i]);
    return e;
}

/* A function written in LaTeX: \sqrt{x}, \exp(x), or applied to what
 * follows, \log y_k, \tanh a_j. */
NOINLINE static ast *parse_latex_fn(parser *P, const tok *nm, int f)
{
    ast *x, *power = NULL;
    if (is_op(P, '^')) {                           /* \tanh^2 x: the square of tanh x */
        tok op = P->t;
        lex_next(P);
        power = parse_primary(P);
        if (!power->konst) lex_fail(P, op.line, op.col, "a function's power must be a fixed number (\\tanh^2 x)");
    }
    if (is_op(P, '(')) {
        lex_next(P);
        x = parse_expr(P);
        expect_op(P, ')', "')' to close the argument");
    } else if (is_op(P, '{')) {
        lex_next(P);
        x = parse_expr(P);
        expect_op(P, '}', "'}' to close the argument");
    } else {
        x = parse_power(P);
    }
    ast *e = mk(P, E_FN, nm->line, nm->col, x, NULL);
    e->fn = (unsigned char)f;
    return power ? mk(P, E_POW, nm->line, nm->col, e, power) : e;
}

/* A name: a call, a LaTeX construct, a quantity with its subscripts, a
 * constant; anything else is a located error. */
NOINLINE static ast *parse_name(parser *P, const tok *tp)
{
    tok t = *tp;
    int first = P->dterm_first;
    P->dterm_first = 0;
    if (is_dterm(P, &t, first)) return parse_dterm(P);
    lex_next(P);
    int latex = from_latex(P, &t);
    ast *h = latex_name(P, &t);                    /* cases, functions, declared LaTeX names (latex.c) */
    if (h) return h;
    if (name_is(t.s, t.n, "\\frac")) return parse_frac(P, &t);
    if ((name_is(t.s, t.n, "sum") || name_is(t.s, t.n, "prod")) && is_op(P, '_')) return latex_sum(P, &t);
    if (name_is(t.s, t.n, "delta") && is_op(P, '_')) return parse_latex_delta(P, &t);
    int u;
    int q = qty_of(P, &t, &u);
    /* a declared quantity followed by '(' is a product: s(1 - s) */
    if (is_op(P, '(') && q < 0) return parse_call(P, &t);
    int f = fn_lookup(t.s, t.n);
    if (f >= 0 && q < 0 && is_op(P, '\'')) return parse_latex_fn(P, &t, fn_prime(P, &t, f));   /* σ'(z) */
    if (f >= 0 && q < 0 && (latex || is_op(P, '{') || is_op(P, '^'))) return parse_latex_fn(P, &t, f);
    if (q >= 0 && mat_whole_ok(P, q, u)) return mat_ref(P, &t, q);
    if (q >= 0) {
        ast *e = mk(P, E_REF, t.line, t.col, NULL, NULL);
        int n;
        ref_subs(P, q, &t, u, e->s, &n);
        e->nsub = (unsigned char)n;
        e->q = q;
        e->konst = (unsigned char)P->p->q[q].konst;
        return e;
    }
    return parse_name_other(P, &t);
}

static ast *parse_primary(parser *P)
{
    char b[64];
    tok t = P->t;
    if (t.kind == T_NUM) {
        lex_next(P);
        ast *e = mk(P, E_NUM, t.line, t.col, NULL, NULL);
        e->num = t.num;
        e->nsub = (unsigned char)(t.c > 0 && t.c < 20 ? t.c : 0);   /* printed decimals + 1 */
        return e;
    }
    if (is_op(P, '(') || is_op(P, '{')) {
        int close = t.c == '(' ? ')' : '}';
        lex_next(P);
        ast *e = parse_expr(P);
        if (!is_op(P, close))
            FAIL_TOK(P, "expected '%c' to close '%c' at %d:%d, found %s", close, t.c, t.line, t.col,
                     tok_desc(&P->t, b, sizeof b));
        lex_next(P);
        return e;
    }
    if (is_op(P, '|')) return latex_bars(P);
    if (t.kind != T_NAME)
        FAIL_TOK(P, "expected a number, a name or '(', found %s", tok_desc(&t, b, sizeof b));
    return parse_name(P, &t);
}

/* power := primary ['^' unary]: right-associative, and -x^2 = -(x^2). */
static ast *parse_power(parser *P)
{
    ast *base = parse_primary(P);
    if (mat_transpose_next(P, base)) base = mat_transpose(P, base);
    if (is_op(P, '\''))                            /* x', f'(x) of a quantity: not a derivative verify reads */
        FAIL_TOK(P, "'%.*s' is not read: write the derivative as d f / d x", P->t.n, P->t.s);
    if (!is_op(P, '^')) return base;
    tok op = P->t;
    lex_next(P);
    ast *ex = parse_unary(P);
    if (base->kind == E_NUM && base->fn) {         /* e^{x}: exp(x), one node and its exact derivative */
        ast *e = mk(P, E_FN, op.line, op.col, ex, NULL);
        e->fn = F_EXP;
        return e;
    }
    return mk(P, E_POW, op.line, op.col, base, ex);
}

static ast *parse_unary(parser *P)
{
    enter(P);
    unsigned from = (unsigned)P->t.at;
    ast *e;
    if (is_op(P, '-') || is_op(P, '+')) {
        tok op = P->t;
        lex_next(P);
        ast *x = parse_unary(P);
        e = op.c == '-' ? mk(P, E_NEG, op.line, op.col, x, NULL) : x;
    } else {
        e = parse_power(P);
    }
    e->from = from;                                /* the text of a matrix expression, for messages */
    e->to = (unsigned)P->prev_end;
    P->nest--;
    return e;
}

/* Implicit multiplication where it is unambiguous: y_i(1 - y_i), 2x,
 * \delta_k a_j. A number after a name or a number (x 2) is refused. */
static int implicit_product(const parser *P)
{
    if (P->t.line != P->prev_line || is_name(P, "for") || is_name(P, "and") || is_name(P, "\\endcases")) return 0;
    return P->t.kind == T_NAME || is_op(P, '(') || is_op(P, '{');
}

ast *parse_term(parser *P)
{
    ast *e = parse_unary(P);
    for (;;) {
        if (is_op(P, '*') || is_op(P, '/') || is_op(P, 'O')) {
            tok op = P->t;
            lex_next(P);
            ast *r = parse_unary(P);
            int kind = op.c == '*' ? E_MUL : op.c == '/' ? E_DIV : e->rows || r->rows ? E_HAD : E_MUL;
            e = mk(P, kind, op.line, op.col, e, r);
        } else if (implicit_product(P)) {
            tok op = P->t;
            ast *r = parse_unary(P);
            e = mk(P, E_MUL, op.line, op.col, e, r);
        } else if (P->t.kind == T_NUM && P->t.line == P->prev_line) {
            char b[64];
            FAIL_TOK(P, "expected an operator before %s (write a*b for a product)", tok_desc(&P->t, b, sizeof b));
        } else {
            return e;
        }
    }
}

/* Every way down (parentheses, calls, signs, ^) passes parse_unary, which
 * counts the levels: deep input is an error, not a stack overflow. */
ast *parse_expr(parser *P)
{
    ast *e = parse_term(P);
    while (is_op(P, '+') || is_op(P, '-')) {
        tok op = P->t;
        lex_next(P);
        ast *r = parse_term(P);
        e = mk(P, op.c == '+' ? E_ADD : E_SUB, op.line, op.col, e, r);
    }
    return e;
}

static int is_binary(const ast *e) { return e->kind >= E_NEG && e->kind <= E_DIV; }

/* The walks below follow the left spine of a chain (a+b+c+… is
 * ((a+b)+c)+…) in a loop and recurse only into the other operands, so
 * their depth is bounded by the nesting, not by the chain's length. */

/* Graph nodes to evaluate e once (an estimate: a reference costs none). */
double ast_cost(const parser *P, const ast *e)
{
    double total = 0;
    for (; is_binary(e); e = e->a) total += 1 + (e->b ? ast_cost(P, e->b) : 0);
    switch (e->kind) {
    case E_REF: return total;
    case E_DERIV: return total + 1;
    case E_NUM: case E_DELTA: return total + 1;
    case E_SUM: case E_PROD: return total + P->slots[e->slot].range * (ast_cost(P, e->a) + 1);
    case E_POW: return total + 3 + ast_cost(P, e->a) + ast_cost(P, e->b);
    case E_FN: return total + 2 + ast_cost(P, e->a) + (e->b ? 2 + ast_cost(P, e->b) : 0);
    default: return total + latex_cost(P, e);      /* latex.c */
    }
}

/* Records each quantity e uses once into list (stamp marks the seen). */
void ast_refs(expr_prog *p, const ast *e, int mark, int *list, int *n)
{
    for (; e; e = e->a) {
        if ((e->kind == E_REF || e->kind == E_DERIV) && p->stamp[e->q] != mark) {
            p->stamp[e->q] = mark;
            list[(*n)++] = e->q;
        }
        if (e->kind == E_DERIV && p->stamp[e->dq] != mark) {
            p->stamp[e->dq] = mark;
            list[(*n)++] = e->dq;
        }
        if (e->b) ast_refs(p, e->b, mark, list, n);
    }
}

int ast_count_refs(const ast *e)
{
    int n = 0;
    for (; e; e = e->a) {
        n += (e->kind == E_REF) + 2 * (e->kind == E_DERIV);
        if (e->b) n += ast_count_refs(e->b);
    }
    return n;
}
