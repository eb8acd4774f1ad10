/* 02_local_derivatives.c — the local derivatives backprop is made of:
 * the softmax Jacobian, the cross-entropy gradient y − t, and the
 * activations' derivatives, each from the engine beside the hand formula. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "gradcheck.h"
#include "ops.h"
#include "print.h"
#include "tapeview.h"

enum { C = 4 };

static void vec(const char *label, const double *v, int n)
{
    printf("%-10s ", label);
    print_vec(stdout, v, n);
    putchar('\n');
}

static void matrix(const char *label, const double *m, int r, int c)
{
    printf("%s\n", label);
    for (int i = 0; i < r; i++) {
        printf("  ");
        print_vec(stdout, m + i * c, c);
        putchar('\n');
    }
}

static double maxdiff(const double *a, const double *b, int n)
{
    double w = 0;
    for (int i = 0; i < n; i++) w = fmax(w, fabs(a[i] - b[i]));
    return w;
}

typedef struct {
    const char *name, *formula;
    node (*f)(graph *, node);
    double (*hand)(double x, double y);     /* f′ from x and y = f(x) */
} activation;

static double d_sigmoid(double x, double y) { (void)x; return y * (1 - y); }
static double d_tanh(double x, double y) { (void)x; return 1 - y * y; }
static double d_relu(double x, double y) { (void)y; return x > 0 ? 1.0 : 0.0; }
static double d_stanh(double x, double y)
{
    (void)y;
    double t = tanh(2.0 * x / 3.0);
    return 1.7159 * 2.0 / 3.0 * (1 - t * t);
}

/* The picture of sections 1–2: the composite softmax and cross-entropy on
 * their own tape, every node named, values and gradients after the sweep
 * from l (so dl/do = y − t shows on o). make plots draws it. */
static void draw_softmax(const double *ov, const double *tv)
{
    graph *g = graph_new();
    if (!g) cli_fail("out of memory");
    node o = graph_leaf(g, 1, C, ov), t = graph_leaf(g, 1, C, tv);
    size_t first = graph_count(g);
    node y = op_softmax_composite(g, o);                  // max leaf, sub, exp, sum_rows, div
    node ly = op_log(g, y), tly = op_mul(g, t, ly), s = op_sum(g, tly), l = op_neg(g, s);
    /* the composite's own nodes, named by what their op computes there */
    const char *ops[] = {"leaf", "sub", "exp", "sum_rows", "div"};
    const char *inner[] = {"max(o) (constant)", "o − max", "e = exp(o − max)", "Σ e", "y = e / Σ e"};
    int bad = graph_name(g, o, "o") | graph_name(g, t, "t (target)") | graph_name(g, ly, "log y") |
              graph_name(g, tly, "t · log y") | graph_name(g, s, "Σ t log y") | graph_name(g, l, "l");
    for (size_t i = first; i <= y.id; i++)
        for (int k = 0; k < 5; k++)
            if (strcmp(graph_op_name(g, graph_node(g, i)), ops[k]) == 0)
                bad |= graph_name(g, graph_node(g, i), inner[k]);
    if (bad) cli_fail("out of memory");
    graph_backward(g, l);
    const char *path = tapeview_dot(g, "02_local_derivatives_graph.dot",
                                    "softmax and cross-entropy from explicit nodes: dl/do = y − t");
    printf("wrote %s (the composite softmax as a picture: make plots)\n\n", path);
    graph_free(g);
}

int main(int argc, char **argv)
{
    int quick = 0, seed = 1;
    cli_opt opts[] = {
        {"--quick", CLI_FLAG, &quick, NULL, "skip the data table for the plot"},
        {"--seed", CLI_INT, &seed, "N", "accepted for symmetry; nothing here is random"},
        {0}};
    cli_no_positional(cli_parse(argc, argv,
        "02 local derivatives — softmax Jacobian, cross-entropy gradient, activations.", opts),
        argc, argv);

    printf("02 local derivatives\n\n");
    printf("Backprop multiplies local derivatives. Here each one is computed twice: by\n"
           "the engine (reverse sweeps over explicit nodes) and by the formula you derive\n"
           "on paper. They must agree to rounding.\n\n");

    graph *g = graph_new();
    if (!g) cli_fail("out of memory");

    /* 1. softmax from explicit nodes: exp, a row sum, a divide */
    double ov[C] = {2.0, 1.0, 0.1, -1.0};
    node o = graph_leaf(g, 1, C, ov);
    node y = op_softmax_composite(g, o);
    printf("1. softmax built from nodes: y_i = exp(o_i) / sum_k exp(o_k)\n");
    vec("o", ov, C);
    vec("y", graph_val(g, y), C);
    double J[C * C], Jh[C * C];
    gradcheck_jacobian(g, y, o, J);
    const double *yv = graph_val(g, y);
    for (int i = 0; i < C; i++)
        for (int j = 0; j < C; j++) Jh[i * C + j] = yv[i] * ((i == j) - yv[j]);
    matrix("dy_i/do_j from the engine (one reverse sweep per output):", J, C, C);
    matrix("y_i (delta_ij - y_j) by hand:", Jh, C, C);
    double dj = maxdiff(J, Jh, C * C);
    printf("largest difference %.1e\n\n", dj);

    /* 2. cross-entropy on top: l = −Σ t_i log y_i */
    double tv[C] = {0, 1, 0, 0};
    node t = graph_leaf(g, 1, C, tv);
    node l = op_neg(g, op_sum(g, op_mul(g, t, op_log(g, y))));
    graph_zero_grad(g);
    graph_backward(g, l);
    double dl[C], ymt[C];
    for (int i = 0; i < C; i++) { dl[i] = graph_grad(g, o)[i]; ymt[i] = yv[i] - tv[i]; }
    printf("2. cross-entropy l = -sum_i t_i log y_i, target class 1\n");
    vec("t", tv, C);
    printf("%-10s ", "l");
    print_num(stdout, graph_get(g, l, 0));
    putchar('\n');
    vec("dl/do", dl, C);
    vec("y - t", ymt, C);
    double dce = maxdiff(dl, ymt, C);
    printf("largest difference %.1e (the softmax Jacobian times -t/y collapses to y - t)\n\n", dce);
    draw_softmax(ov, tv);

    /* 3. activations */
    activation acts[] = {
        {"sigmoid", "s(1 - s)", op_sigmoid, d_sigmoid},
        {"tanh", "1 - tanh^2", op_tanh, d_tanh},
        {"relu", "[x > 0]", op_relu, d_relu},
        {"stanh", "1.7159 (2/3) (1 - tanh^2(2x/3))", op_stanh, d_stanh},
    };
    enum { NA = sizeof acts / sizeof acts[0] };
    double xs[] = {-2.0, -0.5, 0.0, 0.5, 2.0};
    enum { NX = sizeof xs / sizeof xs[0] };
    printf("3. activations f(x) and f'(x): engine beside the formula\n");
    printf("   (stanh is LeCun's scaled tanh 1.7159 tanh(2x/3); relu' at the kink 0 is taken as 0)\n");
    double dact = 0;
    for (int a = 0; a < NA; a++) {
        printf("%-8s f' = %s\n", acts[a].name, acts[a].formula);
        printf("  %10s %11s %11s %11s\n", "x", "f(x)", "engine f'", "formula f'");
        for (int k = 0; k < NX; k++) {
            graph_mark_t m = graph_mark(g);
            node x = graph_scalar(g, xs[k]);
            node fx = acts[a].f(g, x);
            graph_backward(g, fx);
            double fy = graph_get(g, fx, 0), de = graph_grad_get(g, x, 0);
            double dh = acts[a].hand(xs[k], fy);
            dact = fmax(dact, fabs(de - dh));
            char b1[64], b2[64], b3[64], b4[64];
            printf("  %10s %11s %11s %11s\n", print_fmt(b1, xs[k], 7), print_fmt(b2, fy, 7),
                   print_fmt(b3, de, 7), print_fmt(b4, dh, 7));
            graph_rewind(g, m);
        }
    }
    printf("largest difference %.1e\n\n", dact);

    /* 4. the fused softmax node with its hand-derived backward */
    node yf = op_softmax(g, o);
    double Jf[C * C];
    gradcheck_jacobian(g, yf, o, Jf);
    double dfused = maxdiff(Jf, J, C * C), dval = maxdiff(graph_val(g, yf), graph_val(g, y), C);
    printf("4. softmax as one fused node, backward dL/do = y * (g - sum_k g_k y_k)\n");
    printf("values: largest difference from the composite %.1e\n", dval);
    printf("Jacobian: largest difference from the composite %.1e\n", dfused);
    node cef = op_softmax_ce(g, o, t);
    graph_zero_grad(g);
    graph_backward(g, cef);
    double dcef = maxdiff(graph_grad(g, o), dl, C);
    printf("fused softmax + cross-entropy: loss ");
    print_num(stdout, graph_get(g, cef, 0));
    printf(", gradient largest difference from the composite %.1e\n\n", dcef);

    /* the picture: each activation and its engine derivative over [−4, 4] */
    if (!quick) {
        const char *name = "02_local_derivatives.dat";
        FILE *f = cli_data_file(name);
        fprintf(f, "# x");
        for (int a = 0; a < NA; a++) fprintf(f, " %s d_%s", acts[a].name, acts[a].name);
        fprintf(f, "\n");
        for (int k = 0; k <= 160; k++) {
            double x = -4.0 + k * 0.05;
            fprintf(f, "%.4f", x);
            for (int a = 0; a < NA; a++) {
                graph_mark_t m = graph_mark(g);
                node xn = graph_scalar(g, x);
                node fx = acts[a].f(g, xn);
                graph_backward(g, fx);
                fprintf(f, " %.9g %.9g", graph_get(g, fx, 0), graph_grad_get(g, xn, 0));
                graph_rewind(g, m);
            }
            fprintf(f, "\n");
        }
        cli_data_close(f, name);
        printf("wrote build/data/%s (picture: make plots)\n\n", name);
    }

    double worst = fmax(fmax(dj, dce), fmax(fmax(dact, dfused), fmax(dval, dcef)));
    printf("summary: engine and hand formulas agree to %.1e across the softmax Jacobian,\n"
           "y - t, four activations and the fused softmax.\n", worst);
    graph_free(g);
    return worst < 1e-12 ? 0 : 1;
}
