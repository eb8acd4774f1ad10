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

static ast *mk(parser *P, int kind, int line, int col, ast *a, ast *b)
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
    return e;
}

static ast *parse_unary(parser *P);

static void enter(parser *P)
{
    if (++P->nest > EXPR_MAX_NESTING)
        FAIL_TOK(P, "expression nested too deeply (more than %d levels)", EXPR_MAX_NESTING);
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
        if (it.kind == T_NUM) {
            if (it.num != floor(it.num) || it.num < 0 || it.num >= Q->dim[n])
                lex_fail(P, it.line, it.col, "index %.*s is out of range: %.*s has entries 0 to %d here",
                        it.n > 40 ? 40 : it.n, it.s, Q->nlen, Q->name, Q->dim[n] - 1);
            out[n].lit = 1;
            out[n].v = (int)it.num;
        } else if (it.kind == T_NAME) {
            int s = find_scope(P, it.s, it.n);
            if (s < 0 && P->claim_mode) s = claim_letter(P, &it);
            if (s < 0) {
                if (find_qty(P->p, it.s, it.n) >= 0)
                    lex_fail(P, it.line, it.col,
                            "'%.*s' is a quantity; an index is a letter (bound by the left side, a sum or the claim) "
                            "or a whole number", it.n, it.s);
                if (P->defining)
                    lex_fail(P, it.line, it.col,
                            "index '%.*s' is not bound: put it on the left side (%.*s[%.*s]) or sum over it "
                            "(sum(%.*s, ...))", it.n, it.s, P->defining_n, P->defining, it.n, it.s, it.n, it.s);
                lex_fail(P, it.line, it.col,
                        "index '%.*s' is not bound: use it %s or sum over it (sum(%.*s, ...))",
                        it.n, it.s, P->side0_dterm ? "in d A / d B" : "on the left side of the claim",
                        it.n, it.s);
            }
            range_slot(P, s, q, n, &it);
            out[n].lit = 0;
            out[n].v = s;
        } else {
            FAIL_TOK(P, "expected an index (a letter or a whole number), found %s", tok_desc(&P->t, b, sizeof b));
        }
        lex_next(P);
        if (!is_op(P, ']'))
            FAIL_TOK(P, "expected ']' after the index (an index is a letter or a whole number), found %s",
                     tok_desc(&P->t, b, sizeof b));
        lex_next(P);
        n++;
    }
    if (n < Q->rank)
        lex_fail(P, nm->line, nm->col, "'%.*s' has %d ind%s%s%.0d: write %.*s%s", Q->nlen, Q->name, Q->rank,
                Q->rank == 1 ? "ex" : "ices", n ? ", here " : "", n, Q->nlen, Q->name,
                Q->rank == 1 ? "[i]" : Q->rank == 2 ? "[i][j]" : Q->rank == 3 ? "[i][j][k]" : "[i][j][k][l]");
    *nout = n;
}

static void parse_delta_arg(parser *P, sub *s)
{
    char b[64];
    tok it = P->t;
    if (it.kind == T_NUM) {
        if (it.num != floor(it.num) || it.num < 0 || it.num > EXPR_MAX_ENTRIES)
            FAIL_TOK(P, "expected an index letter or a whole number in delta, found %s",
                     tok_desc(&it, b, sizeof b));
        s->lit = 1;
        s->v = (int)it.num;
    } else if (it.kind == T_NAME) {
        int k = find_scope(P, it.s, it.n);
        if (k < 0)
            FAIL_TOK(P, "delta takes index letters bound here, and '%.*s' is not one", it.n, it.s);
        s->lit = 0;
        s->v = k;
    } else {
        FAIL_TOK(P, "expected an index letter in delta, found %s", tok_desc(&it, b, sizeof b));
    }
    lex_next(P);
}

static ast *parse_call(parser *P, const tok *nm)
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
    ast *x = parse_expr(P);
    if (is_op(P, ','))
        FAIL_TOK(P, "%s takes one argument", fn_names[f]);
    if (!is_op(P, ')'))
        FAIL_TOK(P, "expected ')' to close %s( at %d:%d, found %s", fn_names[f], nm->line, nm->col,
                 tok_desc(&P->t, b, sizeof b));
    lex_next(P);
    ast *e = mk(P, E_FN, nm->line, nm->col, x, NULL);
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
        if (q.kind != T_NAME)
            FAIL_TOK(P, "expected a quantity after 'd', found %s", tok_desc(&q, b, sizeof b));
        lex_next(P);
        return q;
    }
    if (t.kind == T_NAME && t.n > 1 && t.s[0] == 'd' && find_qty(P->p, t.s + 1, t.n - 1) >= 0) {
        lex_next(P);
        tok q = t;
        q.s++; q.n--; q.col++;
        return q;
    }
    FAIL_TOK(P, "expected 'd' and a quantity %s (claim d A / d B = ...), found %s", where, tok_desc(&t, b, sizeof b));
}

static int dterm_qty(parser *P, const tok *t)
{
    int q = find_qty(P->p, t->s, t->n);
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
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
    }
    if (t->n > 1 && t->s[0] == 'd' && find_qty(P->p, t->s + 1, t->n - 1) >= 0)
        return first || find_qty(P->p, t->s, t->n) < 0;
    return 0;
}

/* d A[..] / d B[..]: the engine's derivative at the point, through B with
 * everything else held fixed when B is defined. */
static ast *parse_dterm(parser *P)
{
    tok at = P->t;
    if (P->ndterms == MAX_DTERMS) FAIL_TOK(P, "at most %d derivatives d A / d B in one claim", MAX_DTERMS);
    ast *e = mk(P, E_DERIV, at.line, at.col, NULL, NULL);
    tok a = parse_d(P, "to differentiate");
    e->q = dterm_qty(P, &a);
    int n;
    parse_subs(P, e->q, &a, e->s, &n);
    e->nsub = (unsigned char)n;
    expect_op(P, '/', "'/' between d A and d B");
    tok bt = parse_d(P, "after '/'");
    e->dq = dterm_qty(P, &bt);
    parse_subs(P, e->dq, &bt, e->ds, &n);
    e->konst = 0;
    e->dterm = P->ndterms;
    P->dterm[P->ndterms++] = e;
    return e;
}

static ast *parse_primary(parser *P)
{
    char b[64];
    tok t = P->t;
    if (t.kind == T_NUM) {
        lex_next(P);
        ast *e = mk(P, E_NUM, t.line, t.col, NULL, NULL);
        e->num = t.num;
        return e;
    }
    if (is_op(P, '(')) {
        lex_next(P);
        ast *e = parse_expr(P);
        if (!is_op(P, ')'))
            FAIL_TOK(P, "expected ')' to close '(' at %d:%d, found %s", t.line, t.col, tok_desc(&P->t, b, sizeof b));
        lex_next(P);
        return e;
    }
    if (t.kind != T_NAME)
        FAIL_TOK(P, "expected a number, a name or '(', found %s", tok_desc(&t, b, sizeof b));
    int first = P->dterm_first;
    P->dterm_first = 0;
    if (is_dterm(P, &t, first)) return parse_dterm(P);
    lex_next(P);
    if (is_op(P, '(')) return parse_call(P, &t);
    int q = find_qty(P->p, t.s, t.n);
    if (q >= 0) {
        ast *e = mk(P, E_REF, t.line, t.col, NULL, NULL);
        int n;
        parse_subs(P, q, &t, e->s, &n);
        e->nsub = (unsigned char)n;
        e->q = q;
        e->konst = (unsigned char)P->p->q[q].konst;
        return e;
    }
    if (find_scope(P, t.s, t.n) >= 0)
        lex_fail(P, t.line, t.col, "'%.*s' is an index, not a value: use it inside [ ] or delta(%.*s, ...)",
                t.n, t.s, t.n, t.s);
    if (name_is(t.s, t.n, "e") || name_is(t.s, t.n, "pi")) {
        ast *e = mk(P, E_NUM, t.line, t.col, NULL, NULL);
        e->num = t.s[0] == 'e' ? 2.718281828459045 : 3.141592653589793;
        return e;
    }
    if (fn_lookup(t.s, t.n) >= 0 || name_is(t.s, t.n, "sum") || name_is(t.s, t.n, "prod") ||
        name_is(t.s, t.n, "delta"))
        lex_fail(P, t.line, t.col, "'%.*s' is a function: write %.*s(...)", t.n, t.s, t.n, t.s);
    if (P->defining && t.n == P->defining_n &&
        memcmp(t.s, P->defining, (size_t)t.n) == 0)
        lex_fail(P, t.line, t.col, "'%.*s' is being defined here: a let can only use quantities defined before it",
                t.n, t.s);
    lex_fail(P, t.line, t.col, "unknown name '%.*s' (define it with given or let first)", t.n, t.s);
}

/* power := primary ['^' unary]: right-associative, and -x^2 = -(x^2). */
static ast *parse_power(parser *P)
{
    ast *base = parse_primary(P);
    if (!is_op(P, '^')) return base;
    tok op = P->t;
    lex_next(P);
    ast *ex = parse_unary(P);
    return mk(P, E_POW, op.line, op.col, base, ex);
}

static ast *parse_unary(parser *P)
{
    enter(P);
    ast *e;
    if (is_op(P, '-') || is_op(P, '+')) {
        tok op = P->t;
        lex_next(P);
        ast *x = parse_unary(P);
        e = op.c == '-' ? mk(P, E_NEG, op.line, op.col, x, NULL) : x;
    } else {
        e = parse_power(P);
    }
    P->nest--;
    return e;
}

static ast *parse_term(parser *P)
{
    ast *e = parse_unary(P);
    for (;;) {
        if (is_op(P, '*') || is_op(P, '/')) {
            tok op = P->t;
            lex_next(P);
            ast *r = parse_unary(P);
            e = mk(P, op.c == '*' ? E_MUL : E_DIV, op.line, op.col, e, r);
        } else if ((P->t.kind == T_NAME || P->t.kind == T_NUM || is_op(P, '(')) && P->t.line == P->prev_line &&
                   !is_name(P, "for")) {
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
    default: return total + 2 + ast_cost(P, e->a);                     /* E_FN */
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
