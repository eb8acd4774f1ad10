/* eval.c — an AST in an index environment → scalar graph nodes at one
 * point, noting (when watched) values that make the draw unusable: nan,
 * inf, division by zero, a kink; and the inputs' sampling.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "expr_impl.h"
#include "ops.h"

void note_bad(evctx *c, const char *fmt, ...)
{
    if (c->bad) return;
    c->bad = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof c->why, fmt, ap);
    va_end(ap);
}

int flat_index(const qty *q, const sub *s, const int *env)
{
    int f = 0;
    for (int k = 0; k < q->rank; k++) f = f * q->dim[k] + (s[k].lit ? s[k].v : env[s[k].v]);
    return f;
}

const char *nonfinite(double v) { return isnan(v) ? "nan" : v > 0 ? "inf" : "-inf"; }

/* max(x, y) = y + relu(x − y), min(x, y) = x − relu(x − y): the kink
 * where x = y makes the draw unusable, as relu's does. */
static node ev_maxmin(evctx *c, const ast *e, node x)
{
    graph *g = c->g;
    node y = ev(c, e->b);
    node d = op_sub(g, x, y);
    if (c->watch && graph_get(g, d, 0) == 0.0 && !(e->a->konst && e->b->konst))
        note_bad(c, "%s at %d:%d has equal arguments: its kink", fn_names[e->fn], e->line, e->col);
    node r = op_relu(g, d);
    return e->fn == F_MAX ? op_add(g, y, r) : op_sub(g, x, r);
}

/* f'(x) of a built-in f, composed of the engine's ops one statement at a
 * time (the tape's order never depends on the compiler). */
static node ev_prime(graph *g, int fn, node x)
{
    node one = graph_scalar(g, 1.0), t;
    switch (fn) {
    case F_DEXP: return op_exp(g, x);
    case F_DLOG: return op_div(g, one, x);                          /* 1/x */
    case F_DSQRT: t = op_sqrt(g, x); return op_div(g, graph_scalar(g, 0.5), t);   /* 1/(2 sqrt x) */
    case F_DSIN: return op_cos(g, x);
    case F_DCOS: t = op_sin(g, x); return op_neg(g, t);
    case F_DSINH: return op_cosh(g, x);
    case F_DCOSH: return op_sinh(g, x);
    case F_DSIGMOID: t = op_sigmoid(g, x); return op_mul(g, t, op_sub(g, one, t));   /* s(1 - s) */
    default:                     /* F_DTANH: 1 − tanh²(x); F_DSTANH: 1.7159·2/3·(1 − tanh²(2x/3)) */
        if (fn == F_DSTANH) x = op_scale(g, x, 2.0 / 3.0);
        t = op_tanh(g, x);
        t = op_sub(g, one, op_mul(g, t, t));
        return fn == F_DSTANH ? op_scale(g, t, 1.7159 * 2.0 / 3.0) : t;
    }
}

/* A function of one argument; a kink at exactly 0 makes the draw unusable
 * (the derivative there is not defined). */
static node ev_fn(evctx *c, const ast *e)
{
    graph *g = c->g;
    node r, x, y;
    x = ev(c, e->a);
    if (e->b) return ev_maxmin(c, e, x);
    double v = graph_get(g, x, 0);
    int kinked = e->fn == F_RELU || e->fn == F_ABS || e->fn == F_STEP || e->fn == F_SIGN || e->fn == F_DRELU ||
                 e->fn == F_DABS;
    if (c->watch && kinked && v == 0.0 && !e->a->konst)
        note_bad(c, "%s(0) at %d:%d is at its kink", fn_names[e->fn], e->line, e->col);
    switch (e->fn) {
    case F_EXP: r = op_exp(g, x); break;
    case F_LOG: r = op_log(g, x); break;
    case F_SQRT: r = op_sqrt(g, x); break;
    case F_ABS: r = op_abs(g, x); break;
    case F_SIN: r = op_sin(g, x); break;
    case F_COS: r = op_cos(g, x); break;
    case F_TANH: r = op_tanh(g, x); break;
    case F_SINH: r = op_sinh(g, x); break;
    case F_COSH: r = op_cosh(g, x); break;
    case F_SECH: y = graph_scalar(g, 1.0); r = op_div(g, y, op_cosh(g, x)); break;
    case F_SIGMOID: r = op_sigmoid(g, x); break;
    case F_RELU: r = op_relu(g, x); break;
    case F_STANH: r = op_stanh(g, x); break;
    /* piecewise constant: the derivative is 0 away from the jump */
    case F_STEP: case F_DRELU: r = graph_scalar(g, v > 0 ? 1.0 : 0.0); break;
    case F_SIGN: case F_DABS: r = graph_scalar(g, (double)((v > 0) - (v < 0))); break;
    default: r = ev_prime(g, e->fn, x); break;
    }
    if (c->watch && !isfinite(graph_get(g, r, 0)))
        note_bad(c, "%s(%.3g) at %d:%d is %s", fn_names[e->fn], v, e->line, e->col,
                 nonfinite(graph_get(g, r, 0)));
    return r;
}

/* A non-finite value where one is watched makes the draw unusable. */
static void ev_watch(evctx *c, const ast *e, node r)
{
    if (!c->watch || isfinite(graph_get(c->g, r, 0))) return;
    static const char *const sym[] = {[E_NEG] = "-", [E_ADD] = "+", [E_SUB] = "-", [E_MUL] = "*",
                                      [E_DIV] = "/", [E_SUM] = "sum", [E_PROD] = "prod"};
    note_bad(c, "'%s' at %d:%d gives %s", sym[e->kind] ? sym[e->kind] : "?", e->line, e->col,
             nonfinite(graph_get(c->g, r, 0)));
}

/* a+b-c*d…: the chain's left spine is pushed on c->spine and applied
 * bottom up, so the recursion only goes into the right operands (bounded
 * by the nesting) while the tape gets the order of x = ev(a); y = ev(b). */
static node ev_chain(evctx *c, const ast *e)
{
    graph *g = c->g;
    int bottom = c->top;
    for (; e->kind >= E_ADD && e->kind <= E_DIV; e = e->a) c->spine[c->top++] = e;
    node r = ev(c, e);
    while (c->top > bottom) {
        const ast *op = c->spine[--c->top];
        node y = ev(c, op->b);
        r = op->kind == E_ADD ? op_add(g, r, y) : op->kind == E_SUB ? op_sub(g, r, y)
          : op->kind == E_MUL ? op_mul(g, r, y) : op_div(g, r, y);
        if (c->watch && op->kind == E_DIV && graph_get(g, y, 0) == 0.0)
            note_bad(c, "division by zero at %d:%d", op->line, op->col);
        ev_watch(c, op, r);
    }
    return r;
}

/* Evaluates e in the current index environment into a new scalar node
 * (or the node of the entry it refers to). Operands are evaluated one
 * statement at a time so the tape's order never depends on the compiler. */
node ev(evctx *c, const ast *e)
{
    graph *g = c->g;
    node r, x, y;
    switch (e->kind) {
    case E_NUM:
        return graph_scalar(g, e->num);
    case E_REF:
        return (node){c->tab[c->base[e->q] + flat_index(&c->p->q[e->q], e->s, c->env)]};
    case E_DELTA: {
        int i = e->s[0].lit ? e->s[0].v : c->env[e->s[0].v];
        int j = e->s[1].lit ? e->s[1].v : c->env[e->s[1].v];
        return graph_scalar(g, i == j ? 1.0 : 0.0);
    }
    case E_NEG:
        r = op_neg(g, ev(c, e->a));
        break;
    case E_ADD: case E_SUB: case E_MUL: case E_DIV:
        return ev_chain(c, e);
    case E_POW:
        x = ev(c, e->a);
        y = ev(c, e->b);
        if (e->b->konst) r = op_pow(g, x, graph_get(g, y, 0));   /* x^p, p fixed */
        else r = op_exp(g, op_mul(g, y, op_log(g, x)));          /* x^y = e^(y log x) */
        if (c->watch && !isfinite(graph_get(g, r, 0)))
            note_bad(c, "%.3g^%.3g at %d:%d is %s", graph_get(g, x, 0), graph_get(g, y, 0), e->line, e->col,
                     nonfinite(graph_get(g, r, 0)));
        break;
    case E_FN:
        return ev_fn(c, e);
    case E_DERIV: {
        /* a value on the tape, not a function of the inputs: the claim's
         * sides are compared, never differentiated */
        double d = c->deriv(c->dctx, e, c->env);
        if (!isfinite(d)) {
            sbuf nb = {0};
            sb_printf(&nb, "the derivative d ");
            sb_ref(&nb, &c->p->q[e->q], e->s, c->env);
            sb_printf(&nb, " / d ");
            sb_ref(&nb, &c->p->q[e->dq], e->ds, c->env);
            note_bad(c, "%s is %s there", nb.s ? nb.s : "", nonfinite(d));
            free(nb.s);
            d = 0;
        }
        return graph_scalar(g, d);
    }
    case E_SUM: case E_PROD: {
        int sl = e->slot, n = c->slots[sl].range, keep = c->env[sl], first = 1;
        /* sum(j != i, ...): the entry equal to the excluded index is skipped */
        int skip = !e->nsub ? -1 : e->s[0].lit ? e->s[0].v : c->env[e->s[0].v];
        r = (node){0};
        for (int k = 0; k < n; k++) {
            if (k == skip) continue;
            c->env[sl] = k;
            x = ev(c, e->a);
            r = first ? x : e->kind == E_SUM ? op_add(g, r, x) : op_mul(g, r, x);
            first = 0;
        }
        if (first) r = graph_scalar(g, e->kind == E_SUM ? 0.0 : 1.0);   /* nothing left: empty sum */
        c->env[sl] = keep;
        break;
    }
    default:                                     /* piecewise values, functions (latex.c) */
        return ev_latex(c, e);
    }
    ev_watch(c, e, r);
    return r;
}

/* ---- sampling ------------------------------------------------------------------- */

void sample(rng *r, const qty *q, double *x)
{
    int n = q->size, row = q->rank ? q->dim[q->rank - 1] : 1;
    switch (q->dist) {
    case D_LITERAL:
        memcpy(x, q->lit, (size_t)n * sizeof *x);
        break;
    case D_UNIFORM:
        for (int k = 0; k < n; k++) x[k] = rng_range(r, q->lo, q->hi);
        break;
    case D_ONEHOT:                 /* one 1 per row (along the last index) */
        for (int s = 0; s < n; s += row) {
            uint32_t hot = rng_below(r, (uint32_t)row);
            for (int k = 0; k < row; k++) x[s + k] = (uint32_t)k == hot ? 1.0 : 0.0;
        }
        break;
    case D_SIMPLEX:                /* exponentials normalised: uniform on the simplex */
        for (int s = 0; s < n; s += row) {
            double sum = 0;
            for (int k = 0; k < row; k++) { x[s + k] = -log(1.0 - rng_uniform(r)); sum += x[s + k]; }
            if (!(sum > 0)) { for (int k = 0; k < row; k++) x[s + k] = 1.0; sum = row; }
            for (int k = 0; k < row; k++) x[s + k] /= sum;
        }
        break;
    default:
        for (int k = 0; k < n; k++) x[k] = rng_normal(r);
    }
}
