/* statements.c — the statements of a derivation (given, let, claim) and
 * the whole file: expr_parse, the accessors, expr_free. A claim is
 * resolved here once: its index letters and conditions, the closure of
 * quantities it needs in definition order, and its work per point, which
 * is refused beyond EXPR_MAX_NODES / EXPR_MAX_WORK / EXPR_MAX_FILE_WORK.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "expr_impl.h"


/* The stamp array, grown with the quantities. A let marks with −2 − id and
 * a claim with its number, so marks never need clearing. */
int *stamp_array(parser *P)
{
    expr_prog *p = P->p;
    if (p->capstamp < p->capq) {
        int *s = realloc(p->stamp, (size_t)p->capq * sizeof *s);
        if (!s) FAIL_TOK(P, "out of memory");
        for (int i = p->capstamp; i < p->capq; i++) s[i] = -1;
        p->stamp = s;
        p->capstamp = p->capq;
    }
    return p->stamp;
}

static int cmp_int(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    return (a > b) - (a < b);
}

/* ---- statements ----------------------------------------------------------------- */

static void parse_bound(parser *P, double *v)
{
    char b[64];
    int neg = 0;
    if (is_op(P, '-') || is_op(P, '+')) { neg = P->t.c == '-'; lex_next(P); }
    if (P->t.kind == T_NUM) *v = P->t.num;
    else if (is_name(P, "pi")) *v = 3.141592653589793;
    else if (is_name(P, "e")) *v = 2.718281828459045;
    else FAIL_TOK(P, "expected a number for the range, found %s", tok_desc(&P->t, b, sizeof b));
    if (neg) *v = -*v;
    lex_next(P);
}

/* The values of a literal input at one level of its indices: a number,
 * or [v, v, …] with as many entries as that index has. */
static void parse_literal_level(parser *P, qty *q, int level, int *n)
{
    char b[64];
    if (level == q->rank) {
        double v;
        if (!(P->t.kind == T_NUM || is_op(P, '-') || is_op(P, '+')))
            FAIL_TOK(P, "expected a number in the values of %.*s, found %s", q->nlen, q->name,
                     tok_desc(&P->t, b, sizeof b));
        parse_bound(P, &v);
        q->lit[(*n)++] = v;
        return;
    }
    tok open = P->t;
    expect_op(P, '[', "'[' and the values of the next index");
    for (int i = 0; i < q->dim[level]; i++) {
        if (i) {
            if (is_op(P, ']'))
                FAIL_TOK(P, "the list opened at %d:%d has %d values; index %d of %.*s has %d", open.line, open.col,
                         i, level + 1, q->nlen, q->name, q->dim[level]);
            expect_op(P, ',', "',' between the values");
        }
        parse_literal_level(P, q, level + 1, n);
    }
    if (is_op(P, ','))
        FAIL_TOK(P, "too many values: index %d of %.*s has %d", level + 1, q->nlen, q->name, q->dim[level]);
    expect_op(P, ']', "']' to close the values");
}

/* given x[2] = [1, -1], W[2][3] = [[1, 1, 1], [-1, -1, -1]]: a fixed point
 * (a table of values can be checked); a claim on it is checked there only. */
static void parse_literal(parser *P, qty *q)
{
    int n = 0;
    q->lit = palloc(P, (size_t)q->size * sizeof *q->lit);
    parse_literal_level(P, q, 0, &n);
    q->dist = D_LITERAL;
}

static void parse_given(parser *P)
{
    char b[64];
    expr_prog *p = P->p;
    for (;;) {
        tok nm = P->t;
        if (nm.kind != T_NAME) FAIL_TOK(P, "expected a name after given, found %s", tok_desc(&nm, b, sizeof b));
        if (nm.raw) { nm.s = nm.raw; nm.n = nm.rawn; }     /* given \sigma: the name sigma */
        else check_new_name(P, &nm, "quantity");
        lex_next(P);
        int rank = 0, dim[EXPR_MAX_RANK] = {0};
        long size = 1;
        while (is_op(P, '[')) {
            tok open = P->t;
            lex_next(P);
            if (rank == EXPR_MAX_RANK)
                lex_fail(P, open.line, open.col, "at most %d indices per quantity", EXPR_MAX_RANK);
            if (P->t.kind != T_NUM)
                FAIL_TOK(P, "expected the number of entries (a whole number), found %s", tok_desc(&P->t, b, sizeof b));
            double n = P->t.num;
            if (n != floor(n) || n < 1 || n > EXPR_MAX_ENTRIES)
                FAIL_TOK(P, "size %.*s is out of range: sizes are whole numbers from 1 to %d", P->t.n > 40 ? 40 : P->t.n,
                         P->t.s, EXPR_MAX_ENTRIES);
            dim[rank++] = (int)n;
            size *= (long)n;
            if (size > EXPR_MAX_ENTRIES)
                FAIL_TOK(P, "'%.*s' would have %ld entries; the limit is %d per quantity", nm.n, nm.s, size,
                         EXPR_MAX_ENTRIES);
            lex_next(P);
            expect_op(P, ']', "']' after the size");
        }
        int id = add_qty(P, &nm, Q_GIVEN);
        qty *q = &p->q[id];
        q->kval = NAN;
        q->rank = rank;
        memcpy(q->dim, dim, sizeof dim);
        q->size = (int)size;
        p->inputs += q->size;
        if (p->inputs > EXPR_MAX_INPUTS)
            lex_fail(P, nm.line, nm.col, "too many inputs: the givens have more than %d entries together",
                    EXPR_MAX_INPUTS);
        q->dist = D_NORMAL;
        if (is_op(P, '=')) {
            lex_next(P);
            parse_literal(P, q);
        } else if (is_name(P, "in")) {
            lex_next(P);
            tok open = P->t;
            if (!is_op(P, '(') && !is_op(P, '['))
                FAIL_TOK(P, "expected '(' after in: given x in (-4, 4)");
            lex_next(P);
            parse_bound(P, &q->lo);
            expect_op(P, ',', "',' between the ends of the range");
            parse_bound(P, &q->hi);
            if (!is_op(P, ')') && !is_op(P, ']'))
                FAIL_TOK(P, "expected ')' to close the range opened at %d:%d, found %s", open.line, open.col,
                         tok_desc(&P->t, b, sizeof b));
            lex_next(P);
            if (!(q->lo < q->hi))
                lex_fail(P, open.line, open.col, "empty range: the lower end must be below the upper end");
            q->dist = D_UNIFORM;
        } else if (is_name(P, "onehot") || is_name(P, "simplex")) {
            if (rank == 0)
                FAIL_TOK(P, "%.*s needs a vector or a matrix (given t[3] %.*s)", P->t.n, P->t.s, P->t.n, P->t.s);
            q->dist = is_name(P, "onehot") ? D_ONEHOT : D_SIMPLEX;
            lex_next(P);
        }
        if (!is_op(P, ',')) break;
        lex_next(P);
    }
}

/* A let's d A / d B: numbered in the program (MAX_DTERMS + k), so each
 * has its own cache in every claim that builds the let. */
static void let_dterms(parser *P, qty *q)
{
    expr_prog *p = P->p;
    if (p->nldterm + P->ndterms > p->capldterm) {
        int cap = 2 * (p->nldterm + P->ndterms) + 16;
        const ast **d = realloc(p->ldterm, (size_t)cap * sizeof *d);
        if (!d) FAIL_TOK(P, "out of memory");
        p->ldterm = d;
        p->capldterm = cap;
    }
    q->dterm0 = p->nldterm;
    q->nlderiv = P->ndterms;
    for (int k = 0; k < P->ndterms; k++) {
        ((ast *)P->dterm[k])->dterm = MAX_DTERMS + p->nldterm;
        p->ldterm[p->nldterm++] = P->dterm[k];
    }
    q->deriv = P->dterm[0];
}

static void parse_let(parser *P)
{
    char b[64];
    expr_prog *p = P->p;
    tok nm = P->t;
    if (nm.kind != T_NAME) FAIL_TOK(P, "expected a name after let, found %s", tok_desc(&nm, b, sizeof b));
    if (nm.raw) { nm.s = nm.raw; nm.n = nm.rawn; }         /* let \sigma_i: the name sigma */
    else check_new_name(P, &nm, "quantity");
    int old = find_qty(p, nm.s, nm.n);
    if (old >= 0)
        lex_fail(P, nm.line, nm.col, "'%.*s' is already defined at %d:%d", nm.n, nm.s, p->q[old].line, p->q[old].col);
    lex_next(P);
    if (is_op(P, '(')) { latex_fn_def(P, &nm); return; }  /* let f(x) = ... (latex.c) */
    int rank = 0;
    int open_sub = nm.n > 1 && nm.s[nm.n - 1] == '_' && is_op(P, '{');   /* let y_{ij} = ... */
    nm.n -= open_sub;
    if (is_op(P, '_') || open_sub) rank = latex_let_subs(P);
    while (is_op(P, '[')) {
        tok open = P->t;
        lex_next(P);
        if (rank == EXPR_MAX_RANK) lex_fail(P, open.line, open.col, "at most %d indices per quantity", EXPR_MAX_RANK);
        tok it = P->t;
        if (it.kind != T_NAME)
            FAIL_TOK(P, "expected an index letter on the left side (let y[i] = ...), found %s", tok_desc(&it, b, sizeof b));
        check_index_name(P, &it);
        int prev = find_scope(P, it.s, it.n);
        if (prev >= 0)
            FAIL_TOK(P, "index '%.*s' appears twice on the left side", it.n, it.s);
        P->scope[P->nscope++] = new_slot(P, &it);
        lex_next(P);
        expect_op(P, ']', "']' after the index");
        rank++;
    }
    if (!is_op(P, '=')) FAIL_TOK(P, "expected '=' after let %.*s, found %s", nm.n, nm.s, tok_desc(&P->t, b, sizeof b));
    lex_next(P);
    P->defining = nm.s;
    P->defining_n = nm.n;
    ast *rhs = parse_expr(P);
    if (is_name(P, "for")) rhs = latex_partial(P, rhs);  /* let g = x \text{ for } x > 0 (latex.c) */
    P->defining = NULL;
    if (rhs->rows) rank = mat_let(P, &rhs, rank, &nm);   /* let h = W x: a matrix expression */
    long size = 1;
    int dim[EXPR_MAX_RANK] = {0};
    for (int k = 0; k < rank; k++) {
        slot *s = &P->slots[k];
        if (!s->range)
            lex_fail(P, s->line, s->col, "cannot infer the range of index '%.*s': no quantity is indexed by it in "
                    "the definition of %.*s", s->nlen, s->name, nm.n, nm.s);
        dim[k] = s->range;
        size *= s->range;
        if (size > EXPR_MAX_ENTRIES)
            lex_fail(P, nm.line, nm.col, "'%.*s' would have %ld entries; the limit is %d per quantity", nm.n, nm.s,
                    size, EXPR_MAX_ENTRIES);
    }
    double cost = (double)size * (ast_cost(P, rhs) + 1);
    if (cost > EXPR_MAX_NODES)
        lex_fail(P, nm.line, nm.col, "'%.*s' needs about %.0f graph nodes per point; the limit is %d", nm.n, nm.s,
                cost, EXPR_MAX_NODES);
    int id = add_qty(P, &nm, Q_LET);
    qty *q = &p->q[id];
    q->rank = rank;
    memcpy(q->dim, dim, sizeof dim);
    q->size = (int)size;
    q->rhs = rhs;
    q->konst = rhs->konst;
    q->slots = P->slots;
    q->nslots = P->nslots;
    q->cost = cost;
    q->kval = rank ? NAN : latex_const(p, rhs);
    if (P->ndterms) let_dterms(P, q);
    int nrefs = ast_count_refs(rhs);
    stamp_array(P);
    if (nrefs) {
        q = &p->q[id];
        q->deps = palloc(P, (size_t)nrefs * sizeof *q->deps);
        ast_refs(p, rhs, -2 - id, q->deps, &q->ndeps);
    }
}

static void parse_conds(parser *P, claim *c, tok *names, int *nnames)
{
    char b[64];
    for (;;) {
        if (c->ncond == MAX_COND || c->nvcond == MAX_COND) FAIL_TOK(P, "at most %d conditions per claim", MAX_COND);
        if (!latex_index_like(P, &P->t)) {        /* on values: 'for x > 0' (latex.c) */
            ast *v = latex_cond(P, P->t.line, P->t.col);
            c->vcond = mk(P, E_WHEN, v->line, v->col, v, c->vcond);
            c->nvcond++;
            if (!is_op(P, ',') && !is_name(P, "and")) return;
            lex_next(P);
            continue;
        }
        tok x = P->t;
        if (x.kind != T_NAME) FAIL_TOK(P, "expected an index letter in the condition, found %s", tok_desc(&x, b, sizeof b));
        lex_next(P);
        int op;
        if (is_op(P, 'N')) op = C_NE;
        else if (is_op(P, 'E') || is_op(P, '=')) op = C_EQ;
        else if (is_op(P, '<')) op = C_LT;
        else if (is_op(P, '>')) op = C_GT;
        else if (is_op(P, 'L')) op = C_LE;
        else if (is_op(P, 'G')) op = C_GE;
        else FAIL_TOK(P, "expected '!=', '==', '<', '>', '<=' or '>=' in the condition, found %s",
                      tok_desc(&P->t, b, sizeof b));
        lex_next(P);
        tok y = P->t;
        if (y.kind == T_NUM) {
            c->cond[c->ncond].y.lit = 1;
            c->cond[c->ncond].y.v = latex_cond_number(P, &y);   /* from 1 after \text{for } */
        } else if (y.kind != T_NAME) {
            FAIL_TOK(P, "expected an index letter or a whole number, found %s", tok_desc(&y, b, sizeof b));
        }
        lex_next(P);
        c->cond[c->ncond].op = op;
        names[(*nnames)++] = x;
        names[(*nnames)++] = y;
        c->ncond++;
        if (!is_op(P, ',') && !is_name(P, "and")) return;
        lex_next(P);
    }
}

/* x op y for a condition's C_* operator (indices and values alike; latex.c too). */
int cond_true(int op, double x, double y)
{
    switch (op) {
    case C_EQ: return x == y;
    case C_NE: return x != y;
    case C_LT: return x < y;
    case C_GT: return x > y;
    case C_LE: return x <= y;
    default: return x >= y;
    }
}

static int conds_hold(const claim *c, const int *env)
{
    for (int k = 0; k < c->ncond; k++) {
        int x = c->cond[k].x.lit ? c->cond[k].x.v : env[c->cond[k].x.v];   /* slots */
        int y = c->cond[k].y.lit ? c->cond[k].y.v : env[c->cond[k].y.v];
        if (!cond_true(c->cond[k].op, x, y)) return 0;
    }
    return 1;
}

/* The odometer over the claim's letters, the last fastest; skips entries the
 * conditions exclude. Returns 0 when done. env must start all zero with
 * *started = 0. */
int pairs_next(const claim *c, int *env, int *started)
{
    for (;;) {
        if (*started) {
            int k = c->nletters;
            while (k-- > 0) {
                int l = c->letter[k];
                if (++env[l] < c->slots[l].range) break;
                env[l] = 0;
            }
            if (k < 0) return 0;
        }
        *started = 1;
        if (conds_hold(c, env)) return 1;
    }
}

static char *claim_text(parser *P, size_t from, size_t to)
{
    char *t = palloc(P, to - from + 1);
    size_t n = 0;
    int space = 0, nl = 0, cases = 0;
    for (size_t k = from; k < to; k++) {
        char ch = P->src[k];
        if (ch == '#') { while (k < to && P->src[k] != '\n') k++; nl = 1; space = 1; continue; }
        if (ch == '\\' && k + 1 < to && strchr(",;!:", P->src[k + 1])) { k++; space = 1; continue; }   /* \, */
        int cmd = ch == '\\' && k + 1 < to && ((P->src[k + 1] >= 'a' && P->src[k + 1] <= 'z') ||
                                              (P->src[k + 1] >= 'A' && P->src[k + 1] <= 'Z'));
        int rows = 0;
        if (ch == '\\' && k + 13 <= to && !memcmp(P->src + k, "\\begin{cases}", 13)) cases++;
        if (ch == '\\' && k + 11 <= to && !memcmp(P->src + k, "\\end{cases}", 11) && cases) cases--;
        if (ch == '\\' && k + 1 < to && P->src[k + 1] == '\\') {   /* \\ between cases, or inside a line */
            size_t e = k + 2;
            while (e < to && (P->src[e] == ' ' || P->src[e] == '\t' || P->src[e] == '\r' || P->src[e] == '$')) e++;
            cmd = rows = cases || (e < to && P->src[e] != '\n');
        }
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || (ch == '\\' && !cmd)) {
            if (ch == '\n' || ch == '\\') nl = 1;
            space = 1;
            continue;
        }
        if (space) {
            if (nl) t[n++] = ' ';
            else {                                 /* keep the author's spacing */
                size_t s = k;
                while (s > from && (P->src[s - 1] == ' ' || P->src[s - 1] == '\t')) s--;
                memcpy(t + n, P->src + s, k - s);
                n += k - s;
            }
        }
        space = nl = 0;
        t[n++] = ch;
        if (rows) t[n++] = P->src[++k];
    }
    t[n] = '\0';
    return t;
}

/* The closure of claim cl: every quantity it needs, found by a walk over
 * the definitions, then put in definition order. */
static void claim_closure(parser *P, claim *cl_)
{
    expr_prog *p = P->p;
    claim cl = *cl_;
    int mark = p->nc;
    int *stamp = p->stamp;
    int *stack = malloc((size_t)(p->nq ? p->nq : 1) * sizeof *stack);   /* each quantity is pushed once */
    int *list = malloc((size_t)p->nq * sizeof *list);
    if (!stack || !list) { free(stack); free(list); FAIL_TOK(P, "out of memory"); }
    int ns = 0, nl = 0;
    for (int s = 0; s < cl.nsides; s++) ast_refs(p, cl.side[s], mark, stack, &ns);
    if (cl.vcond) ast_refs(p, cl.vcond, mark, stack, &ns);
    while (ns) {
        int q = stack[--ns];
        list[nl++] = q;
        for (int d = 0; d < p->q[q].ndeps; d++) {
            int r = p->q[q].deps[d];
            if (stamp[r] != mark) { stamp[r] = mark; stack[ns++] = r; }
        }
    }
    free(stack);
    qsort(list, (size_t)nl, sizeof *list, cmp_int);
    cl.closure = arena_alloc(p, (size_t)nl * sizeof *cl.closure);
    if (!cl.closure) { free(list); FAIL_TOK(P, "out of memory"); }
    memcpy(cl.closure, list, (size_t)nl * sizeof *list);
    cl.nclosure = nl;
    free(list);

    *cl_ = cl;
}

/* The let on a path from A down to B (not B) that holds a derivative, or
 * −1: on[] marks what depends on B, reach[] what A depends on. */
static int second_through(parser *P, int A, int B)
{
    const expr_prog *p = P->p;
    if (A < B) return -1;                       /* B defined after A: no path */
    int n = A - B + 1, hit = -1;
    unsigned char *on = calloc((size_t)n, 1), *reach = calloc((size_t)n, 1);
    if (!on || !reach) { free(on); free(reach); FAIL_TOK(P, "out of memory"); }
    on[0] = 1;
    for (int q = B + 1; q <= A; q++)
        for (int d = 0; d < p->q[q].ndeps && !on[q - B]; d++)
            if (p->q[q].deps[d] >= B) on[q - B] = on[p->q[q].deps[d] - B];
    reach[n - 1] = 1;
    for (int q = A; q > B; q--) {
        if (!reach[q - B] || !on[q - B]) continue;
        if (p->q[q].deriv) hit = q;
        for (int d = 0; d < p->q[q].ndeps; d++)
            if (p->q[q].deps[d] >= B) reach[p->q[q].deps[d] - B] = 1;
    }
    free(on);
    free(reach);
    return hit;
}

/* d A / d B through a let that holds a derivative would differentiate that
 * derivative again: the engine has no second derivatives, and the tape
 * holds the inner one as a number (its derivative would be 0). Refused. */
static void claim_no_second(parser *P, const claim *cl)
{
    const expr_prog *p = P->p;
    for (int d = 0; d < cl->ndterms; d++) {
        const ast *e = cl->dterm[d];
        int L = second_through(P, e->q, e->dq);
        if (L < 0) continue;
        const qty *Q = &p->q[L], *I = &p->q[Q->deriv->q], *J = &p->q[Q->deriv->dq];
        lex_fail(P, e->line, e->col, "d %.*s / d %.*s goes through %.*s, which holds a derivative (d %.*s / d %.*s, "
                 "line %d): verify cannot differentiate it again; write %.*s's formula out", p->q[e->q].nlen,
                 p->q[e->q].name, p->q[e->dq].nlen, p->q[e->dq].name, Q->nlen, Q->name, I->nlen, I->name,
                 J->nlen, J->name, Q->deriv->line, Q->nlen, Q->name);
    }
}

/* The work of claim cl per point: a forward pass, one sweep per entry of
 * A, one evaluation of the claimed expression per entry pair; refused
 * beyond the limits. */
static void claim_work(parser *P, claim *cl_, const tok *kw)
{
    expr_prog *p = P->p;
    claim cl = *cl_;
    int nl = cl.nclosure;
    double nodes = 0;
    for (int k = 0; k < nl; k++) {
        const qty *q = &p->q[cl.closure[k]];
        nodes += q->kind == Q_GIVEN ? q->size : q->cost;
    }
    double pairs = 1;
    for (int l = 0; l < cl.nletters; l++) pairs *= P->slots[cl.letter[l]].range;
    cl.nodes = nodes;
    cl.pairs = pairs;
    /* a sweep per entry of A used (a bare d A / d B on the left: the
     * entries it names), each side evaluated at every entry */
    double sweeps = 0, evals = 0;
    for (int d = 0; d < cl.ndterms; d++) {
        const ast *e = cl.dterm[d];
        double asize = p->q[e->q].size;
        if (claim_pure_dterm(&cl, 0) && e == cl.side[0] && pairs < asize) asize = pairs;
        sweeps += asize * (nodes + p->q[e->dq].size);
    }
    for (int k = 0; k < nl; k++)             /* a let's own d A / d B: a sweep per entry of A */
        for (int d = 0; d < p->q[cl.closure[k]].nlderiv; d++) {
            const ast *e = p->ldterm[p->q[cl.closure[k]].dterm0 + d];
            sweeps += p->q[e->q].size * (nodes + p->q[e->dq].size);
        }
    for (int s = 0; s < cl.nsides; s++)
        if (!claim_pure_dterm(&cl, s)) evals += pairs * (ast_cost(P, cl.side[s]) + 2);
    if (cl.vcond) evals += pairs * (ast_cost(P, cl.vcond) + 1);
    cl.work = nodes + sweeps + evals;
    if (nodes > EXPR_MAX_NODES)
        lex_fail(P, kw->line, kw->col, "this claim needs about %.0f graph nodes per point; the limit is %d", nodes,
                EXPR_MAX_NODES);
    if (cl.work > EXPR_MAX_WORK)
        lex_fail(P, kw->line, kw->col, "this claim needs about %.3g node visits per point; the limit is %.3g",
                cl.work, EXPR_MAX_WORK);
    p->file_work += cl.work;
    if (p->file_work > EXPR_MAX_FILE_WORK)
        lex_fail(P, kw->line, kw->col, "the claims up to here need about %.3g node visits per point; the limit "
                "for a file is %.3g", p->file_work, EXPR_MAX_FILE_WORK);
    *cl_ = cl;
}

int claim_pure_dterm(const claim *c, int s) { return c->side[s]->kind == E_DERIV; }

/* The conditions' letters, resolved against the claim's letters. */
static void claim_conds(parser *P, claim *cl, const tok *cnames)
{
    for (int k = 0; k < cl->ncond; k++)
        for (int side = 0; side < 2; side++) {
            const tok *t = &cnames[2 * k + side];
            sub *s = side ? &cl->cond[k].y : &cl->cond[k].x;
            if (t->kind == T_NUM) continue;
            int sl = -1;
            for (int l = 0; l < cl->nletters; l++) {
                const slot *L = &P->slots[cl->letter[l]];
                if (L->nlen == t->n && memcmp(L->name, t->s, (size_t)t->n) == 0) sl = cl->letter[l];
            }
            if (sl < 0)
                lex_fail(P, t->line, t->col, "'%.*s' in the condition is not an index of %s", t->n, t->s,
                         P->side0_dterm ? "d A / d B" : "the claim's left side");
            s->lit = 0;
            s->v = sl;
        }
}

/* The sides after the first: '=' and an expression, as many as written. */
static void claim_sides(parser *P, claim *cl)
{
    char b[64];
    if (!is_op(P, '='))
        FAIL_TOK(P, "expected '=' and the claimed %s, found %s", P->side0_dterm ? "derivative" : "value",
                 tok_desc(&P->t, b, sizeof b));
    while (is_op(P, '=')) {
        if (cl->nsides == MAX_SIDES)
            FAIL_TOK(P, "at most %d links (A = B = ...) in one claim", EXPR_MAX_LINKS);
        lex_next(P);
        size_t from = P->t.at;
        cl->side[cl->nsides] = parse_expr(P);
        cl->side_text[cl->nsides++] = claim_text(P, from, P->prev_end);
    }
}

/* claim [for CONDS:] SIDE = SIDE [= SIDE …] [for CONDS]: the index letters
 * come from the first side; each '=' is a link checked on its own. */
static void parse_claim(parser *P, const tok *kw)
{
    expr_prog *p = P->p;
    if (p->nc == p->capc) {
        int cap = p->capc ? 2 * p->capc : 16;
        claim *c = realloc(p->c, (size_t)cap * sizeof *c);
        if (!c) FAIL_TOK(P, "out of memory");
        p->c = c;
        p->capc = cap;
    }
    claim cl;
    memset(&cl, 0, sizeof cl);
    cl.line = kw->line;
    cl.col = kw->col;
    size_t text_from = P->t.at;
    tok cnames[2 * MAX_COND];
    int ncnames = 0;
    if (is_name(P, "for")) {
        P->cond_from1 = latex_text_for(P);
        lex_next(P);
        parse_conds(P, &cl, cnames, &ncnames);
        P->cond_from1 = 0;
        expect_op(P, ':', "':' after the conditions (claim for i != j: d y[i] / d o[j] = ...)");
    }
    P->claim_mode = 1;
    P->dterm_first = 1;
    size_t from = P->t.at;
    cl.side[0] = parse_expr(P);
    cl.side_text[0] = claim_text(P, from, P->prev_end);
    cl.nsides = 1;
    P->claim_mode = P->dterm_first = 0;
    P->side0_dterm = claim_pure_dterm(&cl, 0);
    claim_sides(P, &cl);
    mat_claim(P, cl.side, cl.side_text, cl.nsides);     /* d L / d W = x d^T: entry by entry */
    if (is_name(P, "for")) {
        if (cl.ncond) FAIL_TOK(P, "conditions are given once, before or after the claim");
        P->cond_from1 = latex_text_for(P);
        lex_next(P);
        parse_conds(P, &cl, cnames, &ncnames);
        P->cond_from1 = 0;
    }
    cl.text = claim_text(P, text_from, P->prev_end);
    cl.nletters = P->nletters;
    memcpy(cl.letter, P->letter, sizeof cl.letter);
    cl.ndterms = P->ndterms;
    memcpy(cl.dterm, P->dterm, sizeof cl.dterm);
    claim_conds(P, &cl, cnames);
    cl.slots = P->slots;
    cl.nslots = P->nslots;
    claim_closure(P, &cl);
    if (p->nldterm) claim_no_second(P, &cl);
    claim_work(P, &cl, kw);
    int *env = palloc(P, (size_t)(cl.nslots ? cl.nslots : 1) * sizeof *env), started = 0;
    if (!pairs_next(&cl, env, &started)) {
        const ast *d = cl.side[0];
        if (P->side0_dterm)
            lex_fail(P, kw->line, kw->col, "no entry of d %.*s / d %.*s satisfies the conditions",
                     p->q[d->q].nlen, p->q[d->q].name, p->q[d->dq].nlen, p->q[d->dq].name);
        lex_fail(P, kw->line, kw->col, "no entry of the claim satisfies the conditions");
    }
    p->c[p->nc++] = cl;
}

expr_options expr_defaults(void)
{
    expr_options o = {20, 1, EXPR_TOL, 100};
    return o;
}

/* The statements, one per line. A parse error longjmps back here. */
static int parse_all(parser *P)
{
    if (setjmp(P->jb)) return -1;
    lex_next(P);
    for (;;) {
        char b[64];
        if (P->t.kind == T_EOF) break;
        if (P->t.kind == T_NL) { lex_next(P); continue; }
        tok kw = P->t;
        P->nslots = 0;
        P->capslots = 0;
        P->slots = NULL;
        P->nscope = 0;
        P->nest = 0;
        P->lx.depth = 0;
        P->nletters = P->ndterms = P->side0_dterm = P->cond_from1 = 0;
        P->lx.nenv = P->lx.display = 0;
        P->lx.skip_end = 0;
        if (is_name(P, "given")) { lex_next(P); parse_given(P); }
        else if (is_name(P, "let")) { lex_next(P); parse_let(P); }
        else if (is_name(P, "claim")) {
            lex_next(P);
            if (P->t.kind == T_NL || P->t.kind == T_EOF)
                FAIL_TOK(P, "expected d A / d B = ... after claim, found %s", tok_desc(&P->t, b, sizeof b));
            stamp_array(P);
            parse_claim(P, &kw);
        } else {
            FAIL_TOK(P, "expected given, let or claim at the start of a statement, found %s",
                     tok_desc(&P->t, b, sizeof b));
        }
        if (P->t.kind != T_NL && P->t.kind != T_EOF)
            FAIL_TOK(P, "expected the end of the line, found %s", tok_desc(&P->t, b, sizeof b));
    }
    return 0;
}

expr_prog *expr_parse(const char *src, size_t len, expr_error *err)
{
    expr_error dummy;
    if (!err) err = &dummy;
    memset(err, 0, sizeof *err);
    expr_prog *p = calloc(1, sizeof *p);
    if (!p) { snprintf(err->msg, sizeof err->msg, "out of memory"); err->line = err->col = 1; return NULL; }
    parser *P = calloc(1, sizeof *P);
    if (!P) { free(p); snprintf(err->msg, sizeof err->msg, "out of memory"); err->line = err->col = 1; return NULL; }
    P->p = p;
    P->src = src ? src : "";
    P->len = src ? len : 0;
    P->lx.line = 1;
    P->lx.col = 1;
    P->err = err;
    int bad = parse_all(P);
    free(P);
    if (bad) { expr_free(p); return NULL; }
    return p;
}


int expr_claims(const expr_prog *p) { return p ? p->nc : 0; }
const char *expr_claim_text(const expr_prog *p, int c) { return p->c[c].text; }
int expr_claim_links(const expr_prog *p, int c) { return p->c[c].nsides - 1; }

int expr_claim_same_target(const expr_prog *p, int c1, int c2)
{
    const ast *a = p->c[c1].side[0], *b = p->c[c2].side[0];
    if (a->kind != b->kind) return 0;
    if (a->kind == E_DERIV) return a->q == b->q && a->dq == b->dq;
    return a->kind == E_REF && a->q == b->q;
}
const char *expr_claim_side(const expr_prog *p, int c, int s) { return p->c[c].side_text[s]; }
int expr_claim_line(const expr_prog *p, int c) { return p->c[c].line; }
double expr_claim_work(const expr_prog *p, int c) { return p->c[c].work; }

void expr_free(expr_prog *p)
{
    if (!p) return;
    for (chunk *c = p->arena, *n; c; c = n) { n = c->next; free(c); }
    free(p->q);
    free(p->c);
    free(p->ldterm);
    free(p->hash);
    free(p->stamp);
    free(p->tab);
    free(p->base);
    graph_free(p->g);
    free(p);
}
