/* test_ops.c — every operation: its value against a number computed by
 * hand, its gradient against central differences (away from kinks). */
#include <math.h>
#include <string.h>
#include "check.h"
#include "ops.h"
#include "gradcheck.h"

#define PI 3.14159265358979323846

static graph *g;

/* Sums the op's output with fixed weights w_e = e + 1, so every output
 * element carries a different gradient, then checks dL/dleaves. */
static void grad_ok(node y, node *leaves, int n, const char *what)
{
    node w = graph_leaf(g, graph_rows(g, y), graph_cols(g, y), NULL);
    for (int e = 0; e < graph_size(g, y); e++) graph_val(g, w)[e] = 0.5 + 0.25 * e;
    node L = op_sum(g, op_mul(g, y, w));
    gradcheck_report r = gradcheck(g, L, leaves, n, 1e-6, 1e-6);
    if (!r.ok)
        printf("%s: worst relative error %.3g at leaf %d element %d (analytic %.12g, numeric %.12g)\n",
               what, r.worst_rel, r.worst_leaf, r.worst_index, r.analytic, r.numeric);
    CHECK(r.ok);
}

static void unary(node (*f)(graph *, node), const char *name, double x, double want)
{
    graph_mark_t m = graph_mark(g);
    node a = graph_scalar(g, x);
    node y = f(g, a);
    if (fabs(graph_get(g, y, 0) - want) > 1e-12 * fmax(1, fabs(want)))
        printf("%s(%g) = %.17g, want %.17g\n", name, x, graph_get(g, y, 0), want);
    CHECK_NEAR(graph_get(g, y, 0), want, 1e-12 * fmax(1, fabs(want)));
    grad_ok(y, &a, 1, name);
    graph_rewind(g, m);
}

static node neg1(graph *gg, node a) { return op_neg(gg, a); }
static node scale3(graph *gg, node a) { return op_scale(gg, a, 3.0); }
static node pow3(graph *gg, node a) { return op_pow(gg, a, 3.0); }
static node powhalf(graph *gg, node a) { return op_pow(gg, a, -0.5); }

int main(void)
{
    g = graph_new();
    /* values worked out by hand: σ(0) = 1/2, tanh via (e^2x − 1)/(e^2x + 1) */
    unary(neg1, "neg", 1.5, -1.5);
    unary(scale3, "scale", 1.5, 4.5);
    unary(pow3, "pow", 1.5, 3.375);
    unary(powhalf, "pow", 4.0, 0.5);
    unary(op_exp, "exp", 1.0, 2.718281828459045);
    unary(op_log, "log", 2.718281828459045, 1.0);
    unary(op_sqrt, "sqrt", 2.25, 1.5);
    unary(op_abs, "abs", -0.75, 0.75);
    unary(op_sin, "sin", PI / 6, 0.5);
    unary(op_cos, "cos", PI / 3, 0.5);
    unary(op_sinh, "sinh", log(2.0), 0.75);      /* (2 − 1/2)/2 */
    unary(op_cosh, "cosh", log(2.0), 1.25);      /* (2 + 1/2)/2 */
    unary(op_tanh, "tanh", log(2.0), 0.6);       /* (4 − 1)/(4 + 1) */
    unary(op_sigmoid, "sigmoid", 0.0, 0.5);
    unary(op_sigmoid, "sigmoid", log(3.0), 0.75);     /* 1/(1 + 1/3) */
    unary(op_sigmoid, "sigmoid", -log(3.0), 0.25);
    unary(op_relu, "relu", 0.7, 0.7);
    unary(op_relu, "relu", -0.7, 0.0);
    unary(op_stanh, "stanh", 1.5 * log(2.0), 1.7159 * 0.6);

    /* binary element-wise, equal shapes and broadcasts */
    double av[6] = {1, 2, 3, 4, 5, 6}, bv[6] = {0.5, -1, 2, 4, -2, 1.5};
    node a = graph_leaf(g, 2, 3, av), b = graph_leaf(g, 2, 3, bv);
    node s = op_add(g, a, b), d = op_sub(g, a, b), p = op_mul(g, a, b), q = op_div(g, a, b);
    CHECK_NEAR(graph_get(g, s, 4), 3.0, 0);
    CHECK_NEAR(graph_get(g, d, 1), 3.0, 0);
    CHECK_NEAR(graph_get(g, p, 5), 9.0, 0);
    CHECK_NEAR(graph_get(g, q, 3), 1.0, 0);
    node ab[2] = {a, b};
    grad_ok(s, ab, 2, "add");
    grad_ok(d, ab, 2, "sub");
    grad_ok(p, ab, 2, "mul");
    grad_ok(q, ab, 2, "div");
    double rowv[3] = {10, 20, 30}, colv[2] = {100, 200};
    node row = graph_leaf(g, 1, 3, rowv), col = graph_leaf(g, 2, 1, colv), k = graph_scalar(g, 2.0);
    node br = op_add_row(g, a, row), bc = op_mul(g, col, a), bk = op_div(g, a, k);
    CHECK(graph_rows(g, br) == 2 && graph_cols(g, br) == 3);
    CHECK_NEAR(graph_get(g, br, 5), 36.0, 0);
    CHECK_NEAR(graph_get(g, bc, 4), 1000.0, 0);    /* 200·5 */
    CHECK_NEAR(graph_get(g, bk, 2), 1.5, 0);
    node arow[2] = {a, row}, acol[2] = {col, a}, ak[2] = {a, k};
    grad_ok(br, arow, 2, "add_row");
    grad_ok(bc, acol, 2, "mul by column");
    grad_ok(bk, ak, 2, "div by scalar");

    /* matmul and transpose: [[1,2,3],[4,5,6]]·[[1,0],[0,1],[1,1]] = [[4,5],[10,11]] */
    double mv[6] = {1, 0, 0, 1, 1, 1};
    node mm = graph_leaf(g, 3, 2, mv), c = op_matmul(g, a, mm), t = op_transpose(g, a);
    double want_c[4] = {4, 5, 10, 11};
    for (int e = 0; e < 4; e++) CHECK_NEAR(graph_get(g, c, e), want_c[e], 0);
    CHECK(graph_rows(g, t) == 3 && graph_cols(g, t) == 2);
    CHECK_NEAR(graph_get(g, t, 1), 4.0, 0);
    node amm[2] = {a, mm};
    grad_ok(c, amm, 2, "matmul");
    grad_ok(t, &a, 1, "transpose");

    /* reductions */
    node sa = op_sum(g, a), me = op_mean(g, a), sr = op_sum_rows(g, a), sc = op_sum_cols(g, a);
    CHECK_NEAR(graph_get(g, sa, 0), 21.0, 0);
    CHECK_NEAR(graph_get(g, me, 0), 3.5, 0);
    CHECK_NEAR(graph_get(g, sr, 1), 15.0, 0);
    CHECK_NEAR(graph_get(g, sc, 2), 9.0, 0);
    grad_ok(sa, &a, 1, "sum");
    grad_ok(me, &a, 1, "mean");
    grad_ok(sr, &a, 1, "sum_rows");
    grad_ok(sc, &a, 1, "sum_cols");

    /* softmax of (0, log 2, log 5) = (1, 2, 5)/8; log-softmax = log of it */
    double ov[6] = {0, log(2.0), log(5.0), 1, 1, 1}, tv[6] = {0, 1, 0, 0.25, 0.25, 0.5};
    node o = graph_leaf(g, 2, 3, ov), tt = graph_leaf(g, 2, 3, tv);
    node y = op_softmax(g, o), ls = op_log_softmax(g, o), yc = op_softmax_composite(g, o);
    CHECK_NEAR(graph_get(g, y, 0), 0.125, 1e-15);
    CHECK_NEAR(graph_get(g, y, 2), 0.625, 1e-15);
    CHECK_NEAR(graph_get(g, y, 4), 1.0 / 3, 1e-15);
    CHECK_NEAR(graph_get(g, ls, 1), log(0.25), 1e-15);
    CHECK_NEAR(graph_get(g, yc, 2), 0.625, 1e-15);
    grad_ok(y, &o, 1, "softmax");
    grad_ok(ls, &o, 1, "log_softmax");
    grad_ok(yc, &o, 1, "softmax composite");
    /* CE: row 0 −log(1/4) = log 4, row 1 −Σ t log(1/3) = log 3; mean */
    node ce = op_softmax_ce(g, o, tt), cec = op_softmax_ce_composite(g, o, tt);
    CHECK_NEAR(graph_get(g, ce, 0), (log(4.0) + log(3.0)) / 2, 1e-15);
    CHECK_NEAR(graph_get(g, cec, 0), graph_get(g, ce, 0), 1e-15);
    node ot[2] = {o, tt};
    grad_ok(ce, ot, 2, "softmax_ce");
    grad_ok(cec, ot, 2, "softmax_ce composite");
    /* MSE of a and b: Σ(a − b)² = 0.25 + 9 + 1 + 0 + 49 + 20.25 = 79.5 */
    node ms = op_mse(g, a, b);
    CHECK_NEAR(graph_get(g, ms, 0), 79.5 / 6, 1e-15);
    grad_ok(ms, ab, 2, "mse");

    /* fused and composite agree in value and gradient, at harder points */
    double hv[8] = {3.1, -2.2, 0.7, 8.5, -40, 1e-3, 2, 2};
    double hot[8] = {0, 0, 1, 0, 1, 0, 0, 0};
    node h = graph_leaf(g, 2, 4, hv), th = graph_leaf(g, 2, 4, hot);
    node f1 = op_softmax_ce(g, h, th);
    graph_zero_grad(g);
    graph_backward(g, f1);
    double gf[8];
    memcpy(gf, graph_grad(g, h), sizeof gf);
    node f2 = op_softmax_ce_composite(g, h, th);
    graph_zero_grad(g);
    graph_backward(g, f2);
    CHECK_NEAR(graph_get(g, f2, 0), graph_get(g, f1, 0), 1e-12);
    double worst = 0;
    for (int e = 0; e < 8; e++) worst = fmax(worst, fabs(gf[e] - graph_grad(g, h)[e]));
    CHECK(worst < 1e-12);
    /* for one-hot rows the fused gradient is (y − t)/R exactly as written */
    node yh = op_softmax(g, h);
    for (int e = 0; e < 8; e++) CHECK_NEAR(gf[e], (graph_get(g, yh, e) - hot[e]) / 2, 1e-15);

    graph_free(g);
    return check_report("test_ops");
}
