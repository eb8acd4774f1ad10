/* latex.c — the LaTeX of reports beyond the plain language, and its
 * evaluation: piecewise values (\begin{cases}, conditions on values after
 * a claim), user functions (let f(x) = ..., f(u), f'(x)), names written
 * the way reports write them (\sigma_i for a declared sigma, H(\mathbf{t},
 * \mathbf{s}) for H, Kx for K x), |x|, and sums with symbolic limits or
 * several indices (\sum_{k=1}^{K}, \sum_{k,j}).
 *
 * A condition on values decides a case, or which entries a claim checks;
 * a point exactly on its boundary (x > 0 at x = 0) is a kink: the draw is
 * thrown away, as at relu(0). f'(x) is the engine's derivative: f's body
 * is built on a tape of its own at the argument's value and swept once.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "expr_impl.h"
#include "ops.h"

#define MAX_CASES 16

/* ---- conditions --------------------------------------------------------------- */

static int cond_op(parser *P)
{
    static const char ops[] = "NE=<>LG";
    static const int code[] = {C_NE, C_EQ, C_EQ, C_LT, C_GT, C_LE, C_GE};
    for (int k = 0; k < 7; k++)
        if (is_op(P, ops[k])) { lex_next(P); return code[k]; }
    char b[64];
    FAIL_TOK(P, "expected '!=', '==', '<', '>', '<=' or '>=' in the condition (\\neq, \\le, \\ge), found %s",
             tok_desc(&P->t, b, sizeof b));
}

static int is_param(const parser *P, const tok *t)
{
    for (int k = 0; k < P->nfparams; k++)
        if (P->fparams[k].n == t->n && memcmp(P->fparams[k].s, t->s, (size_t)t->n) == 0) return k;
    return -1;
}

/* Does a condition on indices start at t (i != j), rather than one on
 * values (x > 0, o_i > 0, |a| <= 1)? A name that is no quantity, no
 * parameter, no function and no constant is taken as an index letter. */
int latex_index_like(parser *P, const tok *t)
{
    int u;
    if (t->kind != T_NAME || is_param(P, t) >= 0 || t->raw) return 0;
    if (t->s < P->src || t->s >= P->src + P->len) return 0;     /* a built-in's canonical name */
    if (qty_of(P, t, &u) >= 0 || find_qty(P->p, t->s, t->n) >= 0 || fn_lookup(t->s, t->n) >= 0) return 0;
    return !name_is(t->s, t->n, "e") && !name_is(t->s, t->n, "pi");
}

/* A whole number compared with an index: from 0 in the plain language
 * (for i != 0), from 1 after \text{for } and in cases, as a LaTeX
 * subscript (y_1 is y[0]). */
int latex_cond_number(parser *P, const tok *it)
{
    char b[64];
    int from = P->cond_from1;
    if (it->num != floor(it->num) || it->num < from || it->num >= EXPR_MAX_ENTRIES + from)
        lex_fail(P, it->line, it->col, "expected an index letter or a whole number%s, found %s",
                 from ? " (from 1 in LaTeX, as y_1)" : "", tok_desc(it, b, sizeof b));
    return (int)it->num - from;
}

int latex_text_for(const parser *P) { return P->t.s < P->src || P->t.s >= P->src + P->len; }

/* One index of a condition: a bound letter or a whole number. */
static void cond_index(parser *P, sub *s)
{
    tok it = P->t;
    if (it.kind == T_NUM) {
        s->lit = 1;
        s->v = latex_cond_number(P, &it);
    } else {
        parse_delta_arg_tok(P, &it, s);
    }
    lex_next(P);
}

/* x > 0 (E_COND, on values) or i != j (E_ICOND, on bound index letters). */
ast *latex_cond(parser *P, int line, int col)
{
    if (latex_index_like(P, &P->t)) {
        ast *e = mk(P, E_ICOND, line, col, NULL, NULL);
        cond_index(P, &e->s[0]);
        e->fn = (unsigned char)cond_op(P);
        cond_index(P, &e->s[1]);
        return e;
    }
    ast *x = parse_expr(P);
    int op = cond_op(P);
    ast *y = parse_expr(P);
    const ast *m = x->rows ? x : y->rows ? y : NULL;   /* a condition compares numbers, not matrices */
    if (m)
        lex_fail(P, m->line, m->col, "a condition compares numbers: this side is a %d-by-%d matrix; compare one "
                 "entry (b[i][j] > 0, b_{ij} > 0)", m->rows, m->cols);
    ast *e = mk(P, E_COND, line, col, x, y);
    e->fn = (unsigned char)op;
    return e;
}

/* ---- \begin{cases} ------------------------------------------------------------ */

/* \begin{cases} v & cond \\ v & \text{otherwise} \end{cases}: the first
 * case whose condition holds gives the value; none is undefined there. */
static ast *parse_cases(parser *P, const tok *open)
{
    char b[64];
    ast *val[MAX_CASES], *cond[MAX_CASES];
    int n = 0, other = 0;
    while (!is_name(P, "\\endcases")) {
        if (P->t.kind == T_NL || P->t.kind == T_EOF)
            FAIL_TOK(P, "the \\begin{cases} at %d:%d is not closed: end it with \\end{cases}", open->line, open->col);
        if (n == MAX_CASES) FAIL_TOK(P, "at most %d cases in one \\begin{cases}", MAX_CASES);
        if (other) FAIL_TOK(P, "the case 'otherwise' comes last: no case after it is ever used");
        val[n] = parse_expr(P);
        if (is_op(P, ',')) lex_next(P);
        if (!is_op(P, '&'))
            FAIL_TOK(P, "expected '&' and the condition of this case (1 & x > 0, 0 & \\text{otherwise}), found %s",
                     is_name(P, "\\endcases") ? "\\end{cases}" : tok_desc(&P->t, b, sizeof b));
        tok amp = P->t;
        lex_next(P);
        if (is_name(P, "otherwise") || is_name(P, "else")) {
            cond[n] = mk(P, E_NUM, P->t.line, P->t.col, NULL, NULL);
            other = 1;
            lex_next(P);
        } else {
            if (is_name(P, "for")) lex_next(P);
            if (is_op(P, 'R') || is_name(P, "\\endcases") || P->t.kind == T_NL || P->t.kind == T_EOF)
                lex_fail(P, amp.line, amp.col, "this case has no condition: write 1 & x > 0 (or 0 & \\text{otherwise})");
            int keep = P->cond_from1;
            P->cond_from1 = 1;
            cond[n] = latex_cond(P, amp.line, amp.col);
            P->cond_from1 = keep;
            if (is_op(P, ',')) lex_next(P);           /* x > 0, \\ */
            if (P->t.kind != T_OP ? !is_name(P, "\\endcases") : !is_op(P, 'R'))
                FAIL_TOK(P, "one condition per case: split the case in two (or nest a \\begin{cases})");
        }
        n++;
        if (is_op(P, 'R')) { lex_next(P); continue; }
        if (P->t.kind == T_NL || P->t.kind == T_EOF)
            FAIL_TOK(P, "the \\begin{cases} at %d:%d is not closed: end it with \\end{cases}", open->line, open->col);
        if (!is_name(P, "\\endcases"))
            FAIL_TOK(P, "expected '\\\\' and the next case, or \\end{cases}, found %s", tok_desc(&P->t, b, sizeof b));
    }
    if (!n) FAIL_TOK(P, "\\begin{cases} at %d:%d has no case", open->line, open->col);
    lex_next(P);
    ast *e = NULL;
    for (int k = n; k-- > 0;) {
        ast *w = mk(P, E_WHEN, cond[k]->line, cond[k]->col, cond[k], e);
        e = mk(P, E_CASE, open->line, open->col, val[k], w);
    }
    return e;
}

/* let g = value \quad \text{for } x > 0, i \neq j: a definition on part of
 * the inputs (a case without 'otherwise'); a draw outside is not used. */
ast *latex_partial(parser *P, ast *value)
{
    tok kw = P->t;
    int from1 = latex_text_for(P);
    lex_next(P);                                   /* 'for' */
    for (int n = 0;; n++) {
        if (n == MAX_COND) FAIL_TOK(P, "at most %d conditions per definition", MAX_COND);
        P->cond_from1 = from1;
        ast *c = latex_cond(P, P->t.line, P->t.col);
        P->cond_from1 = 0;
        value = mk(P, E_CASE, kw.line, kw.col, value, mk(P, E_WHEN, c->line, c->col, c, NULL));
        if (!is_op(P, ',') && !is_name(P, "and")) return value;
        lex_next(P);
    }
}

/* |x|: abs(x). */
ast *latex_bars(parser *P)
{
    char b[64];
    tok open = P->t;
    lex_next(P);
    ast *x = parse_expr(P);
    if (!is_op(P, '|'))
        FAIL_TOK(P, "expected '|' to close the '|' at %d:%d, found %s", open.line, open.col, tok_desc(&P->t, b, sizeof b));
    lex_next(P);
    ast *e = mk(P, E_FN, open.line, open.col, x, NULL);
    e->fn = F_ABS;
    return e;
}

/* ---- user functions ------------------------------------------------------------- */

/* let f(x) = body, let g(a, b) = body: the body uses its parameters,
 * numbers and functions (no quantity: pass it as a parameter). */
void latex_fn_def(parser *P, const tok *nm)
{
    char b[64];
    tok params[EXPR_MAX_RANK];
    int n = 0;
    lex_next(P);                                   /* '(' */
    for (;;) {
        tok it = P->t;
        if (it.kind != T_NAME)
            FAIL_TOK(P, "expected a parameter name in let %.*s(x) = ..., found %s", nm->n, nm->s,
                     tok_desc(&it, b, sizeof b));
        if (n == EXPR_MAX_RANK) FAIL_TOK(P, "at most %d parameters per function", EXPR_MAX_RANK);
        check_new_name(P, &it, "parameter");
        P->fparams = params;
        P->nfparams = n;
        if (is_param(P, &it) >= 0) FAIL_TOK(P, "parameter '%.*s' appears twice", it.n, it.s);
        params[n++] = it;
        lex_next(P);
        if (!is_op(P, ',')) break;
        lex_next(P);
    }
    expect_op(P, ')', "')' after the parameters");
    if (!is_op(P, '='))
        FAIL_TOK(P, "expected '=' after let %.*s(...), found %s", nm->n, nm->s, tok_desc(&P->t, b, sizeof b));
    lex_next(P);
    P->fparams = params;
    P->nfparams = n;
    P->defining = nm->s;
    P->defining_n = nm->n;
    P->maxnest = 0;
    int nd = P->ndterms;
    ast *body = parse_expr(P);
    if (P->ndterms != nd)
        lex_fail(P, nm->line, nm->col, "the body of %.*s takes no derivative d A / d B: use %.*s' in the claim, or a let",
                 nm->n, nm->s, nm->n, nm->s);
    P->fparams = NULL;
    P->nfparams = 0;
    P->defining = NULL;
    int id = add_qty(P, nm, Q_FN);
    qty *q = &P->p->q[id];
    q->rhs = body;
    q->nparams = n;
    q->nest = P->maxnest;
    q->cost = ast_cost(P, body);
    q->kval = NAN;
}

/* f(u), f(2*h[j]), g(a, b), and f'(x): the engine's derivative of f at x. */
static ast *parse_ucall(parser *P, const tok *t, int q)
{
    char b[64];
    const qty *F = &P->p->q[q];
    int deriv = is_op(P, '\'');
    if (deriv) {
        if (P->defining)
            FAIL_TOK(P, "%.*s'(x) is the engine's derivative at a point, for claims: a let is differentiated "
                     "itself, and %.*s' is not (write the claim with %.*s' instead)", t->n, t->s, t->n, t->s, t->n, t->s);
        if (F->nparams != 1)
            FAIL_TOK(P, "'%.*s' has %d parameters: %.*s' is the derivative of a function of one", t->n, t->s,
                     F->nparams, t->n, t->s);
        lex_next(P);
    }
    if (!is_op(P, '('))
        lex_fail(P, t->line, t->col, "'%.*s' is a function of %d parameter%s: write %.*s(...)", t->n, t->s,
                 F->nparams, F->nparams == 1 ? "" : "s", t->n, t->s);
    tok open = P->t;
    lex_next(P);
    ast *arg[EXPR_MAX_RANK];
    int n = 0;
    for (;;) {
        if (n == F->nparams)
            FAIL_TOK(P, "'%.*s' takes %d argument%s", t->n, t->s, F->nparams, F->nparams == 1 ? "" : "s");
        arg[n++] = parse_expr(P);
        if (!is_op(P, ',')) break;
        lex_next(P);
    }
    if (!is_op(P, ')'))
        FAIL_TOK(P, "expected ')' to close %.*s( at %d:%d, found %s", t->n, t->s, open.line, open.col,
                 tok_desc(&P->t, b, sizeof b));
    if (n != F->nparams)
        FAIL_TOK(P, "'%.*s' takes %d arguments, here %d", t->n, t->s, F->nparams, n);
    lex_next(P);
    ast *list = NULL;
    for (int k = n; k-- > 0;) list = mk(P, E_ARG, arg[k]->line, arg[k]->col, arg[k], list);
    ast *e = mk(P, deriv ? E_FDERIV : E_CALL, t->line, t->col, list, NULL);
    e->q = q;
    if (F->rhs->depth + 1 > e->depth) e->depth = F->rhs->depth + 1;
    if (e->depth > EXPR_MAX_DEPTH || P->nest + F->nest > EXPR_MAX_NESTING)
        lex_fail(P, t->line, t->col, "expression too deep with %.*s's body inlined (split it with let)", t->n, t->s);
    if (P->nest + F->nest > P->maxnest) P->maxnest = P->nest + F->nest;
    return e;
}

/* ---- names ---------------------------------------------------------------------- */

/* H(\mathbf{t}, \mathbf{s}) for a declared H: the arguments a report
 * writes after a name, skipped (two or more names, or one decorated). */
int latex_name_args(parser *P)
{
    lexstate lx = P->lx;
    tok t0 = P->t;
    size_t pe = P->prev_end;
    int pl = P->prev_line, n = 0, decor = 0, u;
    lex_next(P);
    for (;;) {
        int raw = P->t.raw && find_qty(P->p, P->t.raw, P->t.rawn) >= 0;
        if (P->t.kind != T_NAME || (qty_of(P, &P->t, &u) < 0 && !raw)) break;
        decor |= P->t.at < P->len && P->src[P->t.at] == '\\';
        n++;
        lex_next(P);
        if (is_op(P, ')') && (n >= 2 || decor)) { lex_next(P); return 1; }
        if (!is_op(P, ',')) break;
        lex_next(P);
    }
    P->lx = lx;
    P->t = t0;
    P->prev_end = pe;
    P->prev_line = pl;
    return 0;
}

static ast *ref_of(parser *P, const tok *t, int q)
{
    ast *e = mk(P, E_REF, t->line, t->col, NULL, NULL);
    int n;
    ref_subs(P, q, t, -1, e->s, &n);
    e->nsub = (unsigned char)n;
    e->q = q;
    e->konst = (unsigned char)P->p->q[q].konst;
    return e;
}

/* Kx, ab in LaTeX: a product of single-letter scalars when the run of
 * letters is no name of its own. */
static ast *juxtaposed(parser *P, const tok *t)
{
    int u;
    if (t->n < 2 || t->n > 4 || t->s < P->src || t->s >= P->src + P->len || qty_of(P, t, &u) >= 0 ||
        fn_lookup(t->s, t->n) >= 0 || find_scope(P, t->s, t->n) >= 0)
        return NULL;
    if (is_op(P, '(') || is_op(P, '_') || is_op(P, '[')) return NULL;
    for (int k = 0; k < t->n; k++) {
        int q = find_qty(P->p, t->s + k, 1);
        if (q < 0 || P->p->q[q].rank || P->p->q[q].kind == Q_FN) return NULL;
    }
    ast *e = NULL;
    for (int k = 0; k < t->n; k++) {
        tok one = *t;
        one.s += k; one.n = 1; one.col += k;
        ast *r = mk(P, E_REF, one.line, one.col, NULL, NULL);
        r->q = find_qty(P->p, one.s, 1);
        r->konst = (unsigned char)P->p->q[r->q].konst;
        e = e ? mk(P, E_MUL, one.line, one.col, e, r) : r;
    }
    return e;
}

/* The LaTeX forms of a name (t, the token after it current): cases,
 * parameters, functions and f', \sigma_i for a declared sigma, H(t, s),
 * Kx. NULL: the name is read as before. */
ast *latex_name(parser *P, tok *t)
{
    if (name_is(t->s, t->n, "\\cases")) return parse_cases(P, t);
    if (name_is(t->s, t->n, "\\endcases") || (name_is(t->s, t->n, "otherwise") && t->s != P->src + t->at))
        lex_fail(P, t->line, t->col, "expected '&' and the case's condition before %s",
                 t->s[0] == '\\' ? "\\end{cases}" : "\\text{otherwise}");
    int k = is_param(P, t), u;
    if (k >= 0) {
        ast *e = mk(P, E_PARAM, t->line, t->col, NULL, NULL);
        e->slot = k;
        e->konst = 0;
        return e;
    }
    int raw = t->raw && find_qty(P->p, t->raw, t->rawn) >= 0;
    if (raw) { t->s = t->raw; t->n = t->rawn; t->raw = NULL; }
    int q = find_qty(P->p, t->s, t->n);
    if (q >= 0 && P->p->q[q].kind == Q_FN) return parse_ucall(P, t, q);
    if (is_op(P, '\'') && !(q < 0 && fn_lookup(t->s, t->n) >= 0)) {   /* sigma'(z): parse_name's fn_prime */
        if (q < 0 && qty_of(P, t, &u) < 0)
            lex_fail(P, t->line, t->col, "'%.*s' is not a function: define it first (let %.*s(x) = ...) for %.*s'(x)",
                     t->n, t->s, t->n, t->s, t->n, t->s);
        FAIL_TOK(P, "'%.*s'' is not read: write the derivative as d f / d x (or, of a function defined with "
                 "let f(x) = ..., f'(x))", t->n, t->s);
    }
    if (P->fparams && qty_of(P, t, &u) >= 0)
        lex_fail(P, t->line, t->col, "the body of %.*s uses only its parameters and numbers: '%.*s' is a quantity "
                 "(make it a parameter: let %.*s(x, %.*s) = ...)", P->defining_n, P->defining, t->n, t->s,
                 P->defining_n, P->defining, t->n, t->s);
    if (q >= 0 && P->p->q[q].kind != Q_FN && is_op(P, '(') && latex_name_args(P)) return ref_of(P, t, q);
    if (raw) return ref_of(P, t, q);
    return q < 0 ? juxtaposed(P, t) : NULL;
}

/* let \sigma_i = ..., let y_{ij} = ...: the left side's letters (a run of
 * letters is a letter per index). Returns how many. */
int latex_let_subs(parser *P)
{
    char b[64];
    tok items[EXPR_MAX_RANK];
    qty any = {0};
    any.rank = 1;
    int n = 0;
    if (is_op(P, '_')) {
        tok us = P->t;
        n = latex_items(P, &any, &us, -1, items);
    } else {                                       /* y_{ij}: the name ended in '_' */
        tok us = P->t;
        us.kind = T_OP;
        n = latex_items(P, &any, &us, 0, items);
    }
    if (n == 1 && items[0].kind == T_NAME && items[0].n > 1 && items[0].n <= EXPR_MAX_RANK &&
        items[0].s >= P->src && items[0].s < P->src + P->len && items[0].s[-1] != '\\') {
        tok w = items[0];
        for (int i = 0; i < w.n; i++) {
            items[i] = w;
            items[i].s = w.s + i;
            items[i].n = 1;
            items[i].col = w.col + i;
        }
        n = w.n;
    }
    for (int i = 0; i < n; i++) {
        if (items[i].kind != T_NAME)
            lex_fail(P, items[i].line, items[i].col, "expected an index letter on the left side (let y_i = ...), found %s",
                     tok_desc(&items[i], b, sizeof b));
        check_index_name(P, &items[i]);
        if (find_scope(P, items[i].s, items[i].n) >= 0)
            lex_fail(P, items[i].line, items[i].col, "index '%.*s' appears twice on the left side", items[i].n, items[i].s);
        P->scope[P->nscope++] = new_slot(P, &items[i]);
    }
    return n;
}

/* ---- sums ----------------------------------------------------------------------- */

static int is_greek_word(const char *s, int n)
{
    static const char *const g[] = {"mu", "nu", "xi", "pi", "eta", "tau", "chi", "phi", "psi", "rho", "beta", "zeta",
                                    "iota", "alpha", "gamma", "delta", "theta", "kappa", "lambda", "sigma", "omega"};
    for (size_t k = 0; k < sizeof g / sizeof g[0]; k++)
        if (name_is(s, n, g[k])) return 1;
    return 0;
}

/* The indices of \sum_k, \sum_{k,j}, \sum_{k\mu}, \sum_{kj} (a run of
 * letters is a letter per index). Returns how many; *braced. */
static int sum_indices(parser *P, tok *idx, int *braced)
{
    char b[64];
    int n = 0;
    lex_next(P);                                   /* '_' */
    *braced = is_op(P, '{');
    if (*braced) lex_next(P);
    do {
        if (is_op(P, ',') && n) lex_next(P);
        if (P->t.kind != T_NAME)
            FAIL_TOK(P, "expected the index of the sum after '_', found %s", tok_desc(&P->t, b, sizeof b));
        if (n == EXPR_MAX_RANK) FAIL_TOK(P, "at most %d indices in one sum", EXPR_MAX_RANK);
        idx[n++] = P->t;
        lex_next(P);
    } while (*braced && (P->t.kind == T_NAME || is_op(P, ',')));
    tok w = idx[0];
    if (n == 1 && *braced && w.n > 1 && w.n <= EXPR_MAX_RANK && w.s >= P->src && w.s < P->src + P->len &&
        w.s[-1] != '\\' && !is_greek_word(w.s, w.n) && find_scope(P, w.s, w.n) < 0) {
        int letters = 1;
        for (int i = 0; i < w.n; i++) letters &= (w.s[i] >= 'a' && w.s[i] <= 'z') || (w.s[i] >= 'A' && w.s[i] <= 'Z');
        if (letters) {
            for (int i = 0; i < w.n; i++) { idx[i] = w; idx[i].s = w.s + i; idx[i].n = 1; idx[i].col = w.col + i; }
            n = w.n;
        }
    }
    for (int i = 0; i < n; i++) {
        check_index_name(P, &idx[i]);
        int prev = find_scope(P, idx[i].s, idx[i].n);
        for (int j = 0; j < i; j++)
            if (idx[j].n == idx[i].n && memcmp(idx[j].s, idx[i].s, (size_t)idx[i].n) == 0) prev = -2;
        if (prev == -2) lex_fail(P, idx[i].line, idx[i].col, "index '%.*s' appears twice in the sum", idx[i].n, idx[i].s);
        if (prev >= 0)
            lex_fail(P, idx[i].line, idx[i].col, "index '%.*s' is already bound at %d:%d; pick another letter",
                     idx[i].n, idx[i].s, P->slots[prev].line, P->slots[prev].col);
    }
    return n;
}

/* The count an upper limit names: a whole number, or a declared constant
 * (let K = 3); 0 when it names none (a symbol taken as the range). */
static int sum_count(parser *P, const tok *hi, const tok *k)
{
    if (hi->kind == T_NUM)
        return hi->num == floor(hi->num) && hi->num >= 1 && hi->num <= EXPR_MAX_ENTRIES ? (int)hi->num : -1;
    if (hi->kind != T_NAME) return 0;
    int q = find_qty(P->p, hi->s, hi->n);
    if (q < 0 || P->p->q[q].kind != Q_LET || !P->p->q[q].konst || P->p->q[q].rank) return 0;
    double v = P->p->q[q].kval;
    if (!(v == floor(v) && v >= 1 && v <= EXPR_MAX_ENTRIES))
        lex_fail(P, hi->line, hi->col, "the sum over '%.*s' stops at %.*s, which is not a whole number from 1 to %d",
                 k->n, k->s, hi->n, hi->s, EXPR_MAX_ENTRIES);
    return (int)v;
}

/* Checks the limit against the index's range, or gives an index the body
 * does not use its range (\sum_{k=1}^{K} x). */
static void sum_range(parser *P, int s, const tok *k, const tok *hi, int count)
{
    slot *sl = &P->slots[s];
    if (!sl->range) {
        if (count <= 0)
            lex_fail(P, k->line, k->col, "cannot infer the range of index '%.*s': no quantity is indexed by it in the "
                     "sum%s%.*s%s", k->n, k->s, hi->kind == T_NAME ? " (declare its upper limit: let " : "",
                     hi->kind == T_NAME ? hi->n : 0, hi->s, hi->kind == T_NAME ? " = 3)" : "");
        sl->range = count;
        sl->rline = hi->line;
        sl->rcol = hi->col;
        return;
    }
    if (count < 0 || (count > 0 && count != sl->range && hi->kind == T_NUM))
        lex_fail(P, hi->line, hi->col, "this sum stops at %.*s, but '%.*s' runs over %d entries: only sums over "
                 "the whole range are read", hi->n, hi->s, k->n, k->s, sl->range);
    if (count > 0 && count != sl->range) {
        const qty *R = &P->p->q[sl->rq];
        lex_fail(P, hi->line, hi->col, "this sum stops at %.*s = %d, but '%.*s' runs over %d entries (%.*s at %d:%d): "
                 "only sums over the whole range are read", hi->n, hi->s, count, k->n, k->s, sl->range, R->nlen,
                 R->name, sl->rline, sl->rcol);
    }
}

/* \sum_{k} body, \sum_{k=1}^{K} body, \sum_{j \neq i} body, \sum_{k,j}
 * body (also Σ, ∏): the body is the product that follows. Limits run from
 * 1 over the index's whole range; K may be a declared constant. */
ast *latex_sum(parser *P, const tok *nm)
{
    int kind = nm->s[0] == 's' ? E_SUM : E_PROD, braced, s[EXPR_MAX_RANK];
    tok k[EXPR_MAX_RANK], lo = {0}, hi = {0};
    if (P->fparams)
        FAIL_TOK(P, "the body of %.*s has no sums (its parameters are numbers): sum in the let that calls it",
                 P->defining_n, P->defining);
    int n = sum_indices(P, k, &braced);
    sub excl = {0, 0};
    int has_excl = 0;
    if (braced && n == 1 && is_op(P, 'N')) {
        tok at = P->t;
        lex_next(P);
        tok it = P->t;
        parse_delta_arg_tok(P, &it, &excl);
        lex_next(P);
        has_excl = 1;
        if (excl.lit && excl.v-- < 1)               /* LaTeX counts from 1, as its subscripts do */
            lex_fail(P, at.line, at.col, "numbers in a LaTeX sum count from 1: \\sum_{%.*s \\neq 1}", k[0].n, k[0].s);
    } else if (braced && n == 1 && is_op(P, '=')) {
        lex_next(P);
        lo = P->t;
        lex_next(P);
    }
    if (braced) expect_op(P, '}', "'}' to close the sum's subscript");
    if (is_op(P, '^')) {
        if (n > 1) FAIL_TOK(P, "limits on a sum over several indices are not read: write one sum per index");
        lex_next(P);
        int hb = is_op(P, '{');
        if (hb) lex_next(P);
        hi = P->t;
        lex_next(P);
        if (hb) expect_op(P, '}', "'}' to close the sum's upper limit");
    }
    if (lo.kind && !(lo.kind == T_NUM && lo.num == 1))
        lex_fail(P, lo.line, lo.col, "a sum runs from 1 (\\sum_{%.*s=1}^{K}): other lower limits are not read",
                 k[0].n, k[0].s);
    for (int i = 0; i < n; i++) {
        s[i] = new_slot(P, &k[i]);
        P->scope[P->nscope++] = s[i];
    }
    ast *e = parse_term(P);
    P->nscope -= n;
    if (n == 1) sum_range(P, s[0], &k[0], &hi, sum_count(P, &hi, &k[0]));
    for (int i = n; i-- > 0;) {
        if (!P->slots[s[i]].range)
            lex_fail(P, k[i].line, k[i].col, "cannot infer the range of index '%.*s': no quantity is indexed by it "
                     "in the sum", k[i].n, k[i].s);
        e = mk(P, kind, nm->line, nm->col, e, NULL);
        e->slot = s[i];
        e->nsub = (unsigned char)has_excl;
        e->s[0] = excl;
    }
    return e;
}

/* ---- what the statements need ----------------------------------------------------- */

double latex_cost(const parser *P, const ast *e)
{
    double a = e->a ? ast_cost(P, e->a) : 0, b = e->b ? ast_cost(P, e->b) : 0;
    switch (e->kind) {
    case E_CASE: case E_WHEN: case E_ARG: return a + b + 1;
    case E_COND: return a + b + 1;
    case E_CALL: return a + P->p->q[e->q].cost + 1;
    case E_FDERIV: return a + 1;                   /* the body goes on a tape of its own */
    default: return 1;                             /* E_ICOND, E_PARAM */
    }
}

/* The value of a fixed expression (let K = 3, let N = 2*K), or NAN. */
double latex_const(const expr_prog *p, const ast *e)
{
    if (!e->konst || e->depth > 64) return NAN;
    double a = e->a ? latex_const(p, e->a) : NAN, b = e->b ? latex_const(p, e->b) : NAN;
    switch (e->kind) {
    case E_NUM: return e->num;
    case E_REF: return p->q[e->q].rank ? NAN : p->q[e->q].kval;
    case E_NEG: return -a;
    case E_ADD: return a + b;
    case E_SUB: return a - b;
    case E_MUL: return a * b;
    case E_DIV: return a / b;
    case E_POW: return pow(a, b);
    default: return NAN;
    }
}

/* ---- evaluation ------------------------------------------------------------------- */

/* A condition at this point; exactly on its boundary (x > 0 at x = 0) the
 * draw cannot be used, as at a kink. */
static int ev_cond(evctx *c, const ast *e)
{
    if (e->kind == E_NUM) return 1;              /* otherwise */
    if (e->kind == E_ICOND) {
        int i = e->s[0].lit ? e->s[0].v : c->env[e->s[0].v];
        int j = e->s[1].lit ? e->s[1].v : c->env[e->s[1].v];
        return cond_true(e->fn, i, j);
    }
    double x = graph_get(c->g, ev(c, e->a), 0), y = graph_get(c->g, ev(c, e->b), 0);
    if (!isfinite(x) || !isfinite(y))
        note_bad(c, "the condition at %d:%d compares %s", e->line, e->col, nonfinite(isfinite(x) ? y : x));
    else if (x == y && !(e->a->konst && e->b->konst))
        note_bad(c, "the condition at %d:%d is on its boundary (both sides %.6g): a kink", e->line, e->col, x);
    return cond_true(e->fn, x, y);
}

static node ev_cases(evctx *c, const ast *e)
{
    for (const ast *k = e; k; k = k->b->b) {
        int holds = ev_cond(c, k->b->a);
        if (c->bad) return graph_scalar(c->g, 0.0);
        if (holds) return ev(c, k->a);
    }
    note_bad(c, "no case of the definition at %d:%d applies here", e->line, e->col);
    return graph_scalar(c->g, 0.0);
}

static node ev_call(evctx *c, const ast *e)
{
    node arg[EXPR_MAX_RANK];
    int n = 0;
    for (const ast *a = e->a; a; a = a->b) arg[n++] = ev(c, a->a);
    const node *keep = c->args;
    c->args = arg;
    node r = ev(c, c->p->q[e->q].rhs);
    c->args = keep;
    return r;
}

/* f'(x): f's body on a tape of its own, at x's value, swept once. */
static node ev_fderiv(evctx *c, const ast *e)
{
    double v = graph_get(c->g, ev(c, e->a->a), 0), d = 0, one = 1.0;
    if (!c->fg) {
        if (!(c->fg = graph_new())) { note_bad(c, "out of memory"); return graph_scalar(c->g, 0.0); }
        c->fgm = graph_mark(c->fg);
    }
    graph_rewind(c->fg, c->fgm);
    node leaf = graph_scalar(c->fg, v);
    evctx inner = *c;
    inner.g = c->fg;
    inner.args = &leaf;
    inner.watch = 1;
    inner.bad = 0;
    node r = ev(&inner, c->p->q[e->q].rhs);
    if (r.id == leaf.id) d = 1;
    else if (!inner.bad) {
        *graph_grad(c->fg, leaf) = 0.0;
        graph_backward_seed(c->fg, r, &one);
        d = *graph_grad(c->fg, leaf);
    }
    if (inner.bad) note_bad(c, "%s (in %.*s'(%.6g))", inner.why, c->p->q[e->q].nlen, c->p->q[e->q].name, v);
    else if (!isfinite(d)) note_bad(c, "%.*s'(%.6g) is %s", c->p->q[e->q].nlen, c->p->q[e->q].name, v, nonfinite(d));
    return graph_scalar(c->g, d);
}

node ev_latex(evctx *c, const ast *e)
{
    switch (e->kind) {
    case E_CASE: return ev_cases(c, e);
    case E_PARAM: return c->args[e->slot];
    case E_CALL: return ev_call(c, e);
    case E_FDERIV: return ev_fderiv(c, e);
    default: return graph_scalar(c->g, ev_cond(c, e));   /* a condition alone: 1 or 0 */
    }
}

int ev_vconds(evctx *c, const claim *cl)
{
    int all = 1;
    for (const ast *w = cl->vcond; w && !c->bad; w = w->b) all &= ev_cond(c, w->a);
    return all && !c->bad;
}

/* ---- \frac{\partial}{\partial x} (expr) ------------------------------------------ */

/* Does e use an index bound outside it (a slot below first)? */
static int outer_index(const ast *e, int first)
{
    for (; e; e = e->a) {
        int n = e->kind == E_REF ? e->nsub : e->kind == E_DELTA || e->kind == E_ICOND ? 2
              : (e->kind == E_SUM || e->kind == E_PROD) ? e->nsub : 0;
        for (int k = 0; k < n; k++)
            if (!e->s[k].lit && e->s[k].v < first) return 1;
        if (e->kind == E_DERIV || e->kind == E_FDERIV) return 1;
        if (e->b && outer_index(e->b, first)) return 1;
    }
    return 0;
}

/* A derivative in e (d A / d B, f'(x)), or NULL. */
static const ast *inner_deriv(const ast *e)
{
    for (; e; e = e->a) {
        if (e->kind == E_DERIV || e->kind == E_FDERIV) return e;
        const ast *d = e->b ? inner_deriv(e->b) : NULL;
        if (d) return d;
    }
    return NULL;
}

/* The expression as a quantity of its own, named by its text. */
static int dop_qty(parser *P, ast *x, size_t from, size_t to)
{
    expr_prog *p = P->p;
    int paren = P->src[from] == '(' && P->src[to - 1] == ')';
    int len = (int)(to - from) + (paren ? 0 : 2);
    if (len > 200) lex_fail(P, x->line, x->col, "the expression after \\frac{\\partial}{\\partial x} is long: define it with let");
    char *nm = palloc(P, (size_t)len + 1);
    nm[0] = '(';
    memcpy(nm + !paren, P->src + from, to - from);
    nm[len - 1] = ')';
    int q = find_qty(p, nm, len);
    if (q >= 0) return q;
    tok t = P->t;
    t.s = nm;
    t.n = len;
    t.line = x->line;
    t.col = x->col;
    q = add_qty(P, &t, Q_LET);
    qty *Q = &p->q[q];
    Q->rhs = x;
    Q->konst = x->konst;
    Q->slots = P->slots;
    Q->nslots = P->nslots;
    Q->cost = ast_cost(P, x) + 1;
    Q->kval = NAN;
    int nrefs = ast_count_refs(x);
    stamp_array(P);
    if (nrefs) {
        Q = &p->q[q];
        Q->deps = palloc(P, (size_t)nrefs * sizeof *Q->deps);
        ast_refs(p, x, -2 - q, Q->deps, &Q->ndeps);
    }
    return q;
}

/* \frac{\partial}{\partial x} (expr), \frac{d}{dx} expr: d (expr) / d x,
 * the expression taken as a quantity (in a claim, of no outer index). */
ast *latex_dop(parser *P)
{
    char b[64];
    tok at = P->t;
    int u, n;
    if (P->defining) FAIL_TOK(P, "\\frac{\\partial}{\\partial x}(...) is for claims: in a let, define the expression "
                              "first and write \\frac{\\partial f}{\\partial x} in the claim");
    if (P->ndterms == MAX_DTERMS) FAIL_TOK(P, "at most %d derivatives d A / d B in one claim", MAX_DTERMS);
    lex_next(P);
    expect_op(P, '}', "'}' after \\partial");
    expect_op(P, '{', "'{' and the quantity to differentiate by (\\frac{\\partial}{\\partial x})");
    tok bt = P->t;
    if (is_name(P, "d")) { lex_next(P); bt = P->t; }
    else if (bt.kind == T_NAME && bt.n > 1 && bt.s[0] == 'd') { bt.s++; bt.n--; bt.col++; }
    else FAIL_TOK(P, "expected '\\partial x' below the line, found %s", tok_desc(&bt, b, sizeof b));
    if (bt.kind != T_NAME) FAIL_TOK(P, "expected a quantity after '\\partial', found %s", tok_desc(&P->t, b, sizeof b));
    lex_next(P);
    ast *e = mk(P, E_DERIV, at.line, at.col, NULL, NULL);
    if (bt.raw && find_qty(P->p, bt.raw, bt.rawn) >= 0) { bt.s = bt.raw; bt.n = bt.rawn; }
    if ((e->dq = qty_of(P, &bt, &u)) < 0)
        lex_fail(P, bt.line, bt.col, "unknown quantity '%.*s': a claim is about quantities defined before it", bt.n, bt.s);
    ref_subs(P, e->dq, &bt, u, e->ds, &n);
    expect_op(P, '}', "'}' to close the derivative's denominator");
    int first = P->nslots, letters = P->nletters, mode = P->claim_mode;
    size_t from = P->t.at;
    P->claim_mode = 0;
    ast *x = parse_term(P);
    P->claim_mode = mode;
    const ast *in = inner_deriv(x);
    if (in)
        lex_fail(P, in->line, in->col, "\\frac{\\partial}{\\partial %.*s} of a derivative: verify cannot differentiate "
                 "it again (the engine has no second derivatives); write its formula out", bt.n, bt.s);
    if (outer_index(x, first) || P->nletters != letters)
        lex_fail(P, x->line, x->col, "the operator form takes an expression of no index of the claim: define it with "
                 "let (let f[i] = ...) and write \\frac{\\partial f_i}{\\partial x}");
    e->q = dop_qty(P, x, from, P->prev_end);
    e->konst = 0;
    e->dterm = P->ndterms;
    P->dterm[P->ndterms++] = e;
    return e;
}
