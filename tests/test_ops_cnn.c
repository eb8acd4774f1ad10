/* test_ops_cnn.c — the convolutional ops of the graph: conv2d, maxpool2d,
 * batch norm (fused and composite, training and inference), reshape and
 * dropout-as-a-mask. Values against numbers worked out by hand, gradients
 * against central differences, fused against composite to 1e-10, the side
 * array rewound with the tape, and every bad shape stopping with file:line
 * and both shapes. */
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "check_stops.h"
#include "gradcheck.h"
#include "ops.h"
#include "rng.h"
#include "tape.h"

_Static_assert(sizeof(nrec) == 32, "the node record stays 32 bytes");

static graph *g;
static rng r;

static node rand_leaf(int rows, int cols, double lo, double hi)
{
    node n = graph_leaf(g, rows, cols, NULL);
    for (int e = 0; e < rows * cols; e++) graph_val(g, n)[e] = rng_range(&r, lo, hi);
    return n;
}

/* Sums y with fixed weights w_e = 0.5 + 0.25·(e mod 7) − (e mod 3)·0.4, so
 * every output element carries a different gradient, then checks dL/dleaves. */
static void grad_ok(node y, node *leaves, int n, const char *what)
{
    node w = graph_leaf(g, graph_rows(g, y), graph_cols(g, y), NULL);
    for (int e = 0; e < graph_size(g, y); e++) graph_val(g, w)[e] = 0.5 + 0.25 * (e % 7) - 0.4 * (e % 3);
    node L = op_sum(g, op_mul(g, y, w));
    gradcheck_report rep = gradcheck(g, L, leaves, n, 1e-6, 1e-6);
    if (!rep.ok)
        printf("%s: worst relative error %.3g at leaf %d element %d (analytic %.12g, numeric %.12g)\n",
               what, rep.worst_rel, rep.worst_leaf, rep.worst_index, rep.analytic, rep.numeric);
    CHECK(rep.ok);
}

/* Largest |difference| of values of y1, y2 and of the leaves' gradients of
 * the same weighted sum through each. */
static double fused_vs_composite(node y1, node y2, node *leaves, int n)
{
    double worst = 0;
    for (int e = 0; e < graph_size(g, y1); e++) worst = fmax(worst, fabs(graph_get(g, y1, e) - graph_get(g, y2, e)));
    double *g1[4];
    for (int pass = 0; pass < 2; pass++) {
        node y = pass ? y2 : y1;
        node w = graph_leaf(g, graph_rows(g, y), graph_cols(g, y), NULL);
        for (int e = 0; e < graph_size(g, y); e++) graph_val(g, w)[e] = sin(1.0 + e);
        node L = op_sum(g, op_mul(g, y, w));
        graph_zero_grad(g);
        graph_backward(g, L);
        for (int i = 0; i < n; i++) {
            int sz = graph_size(g, leaves[i]);
            if (!pass) { g1[i] = malloc((size_t)sz * sizeof(double)); memcpy(g1[i], graph_grad(g, leaves[i]), (size_t)sz * sizeof(double)); }
            else {
                for (int e = 0; e < sz; e++) worst = fmax(worst, fabs(g1[i][e] - graph_grad(g, leaves[i])[e]));
                free(g1[i]);
            }
        }
    }
    return isfinite(worst) ? worst : INFINITY;
}

static void test_conv_values(void)
{
    graph_mark_t m = graph_mark(g);
    /* x = 1…9 on a 3×3 image, one channel */
    double xv[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    node x = graph_leaf(g, 1, 9, xv), w = graph_leaf(g, 9, 1, ones), b = graph_scalar(g, 0.5);
    op_shape in = {3, 3, 1};
    node y = op_conv2d(g, x, in, w, 3, b, PAD_SAME);
    CHECK(graph_rows(g, y) == 1 && graph_cols(g, y) == 9);
    /* SAME, all-ones kernel: a corner sums its 2×2 neighbourhood, the centre all 9 */
    CHECK_NEAR(graph_get(g, y, 0), 1 + 2 + 4 + 5 + 0.5, 0);
    CHECK_NEAR(graph_get(g, y, 4), 45 + 0.5, 0);
    CHECK_NEAR(graph_get(g, y, 5), 2 + 3 + 5 + 6 + 8 + 9 + 0.5, 0);
    /* cross-correlation, not convolution: w[0][0] = 1 reads x[y−1][x−1] */
    double tl[9] = {1, 0, 0, 0, 0, 0, 0, 0, 0}, br[9] = {0, 0, 0, 0, 0, 0, 0, 0, 1};
    node wt = graph_leaf(g, 9, 1, tl), wb = graph_leaf(g, 9, 1, br);
    node ys = op_conv2d(g, x, in, wt, 3, NODE_NONE, PAD_SAME);
    CHECK_NEAR(graph_get(g, ys, 0), 0, 0);
    CHECK_NEAR(graph_get(g, ys, 4), 1, 0);
    CHECK_NEAR(graph_get(g, ys, 8), 5, 0);
    node yv = op_conv2d(g, x, in, wt, 3, NODE_NONE, PAD_VALID), yb = op_conv2d(g, x, in, wb, 3, NODE_NONE, PAD_VALID);
    CHECK(graph_cols(g, yv) == 1);
    CHECK_NEAR(graph_get(g, yv, 0), 1, 0);
    CHECK_NEAR(graph_get(g, yb, 0), 9, 0);
    /* HWIO with two input channels and two filters: filter f reads channel f
     * at the kernel's centre, times (f + 1); image 1×1×2 = (3, 7) */
    double x2[2] = {3, 7}, w2[9 * 2 * 2] = {0};
    w2[(4 * 2 + 0) * 2 + 0] = 1;   /* w[1][1][c=0][f=0] */
    w2[(4 * 2 + 1) * 2 + 1] = 2;   /* w[1][1][c=1][f=1] */
    node y2 = op_conv2d(g, graph_leaf(g, 1, 2, x2), (op_shape){1, 1, 2}, graph_leaf(g, 18, 2, w2), 3, NODE_NONE, PAD_SAME);
    CHECK_NEAR(graph_get(g, y2, 0), 3, 0);
    CHECK_NEAR(graph_get(g, y2, 1), 14, 0);
    graph_rewind(g, m);
}

static void test_conv_grads(void)
{
    graph_mark_t m = graph_mark(g);
    /* B 2, a 5×4 image (not square), 2 channels → 3 filters */
    op_shape in = {5, 4, 2};
    node x = rand_leaf(2, 5 * 4 * 2, -1, 1), w = rand_leaf(3 * 3 * 2, 3, -1, 1), b = rand_leaf(1, 3, -1, 1);
    node xwb[3] = {x, w, b};
    node ys = op_conv2d(g, x, in, w, 3, b, PAD_SAME);
    CHECK(graph_cols(g, ys) == 5 * 4 * 3);
    grad_ok(ys, xwb, 3, "conv2d SAME");
    node yv = op_conv2d(g, x, in, w, 3, b, PAD_VALID);
    CHECK(graph_cols(g, yv) == 3 * 2 * 3);
    grad_ok(yv, xwb, 3, "conv2d VALID");
    node w1 = rand_leaf(2, 4, -1, 1), x1w[2] = {x, w1};
    grad_ok(op_conv2d(g, x, in, w1, 1, NODE_NONE, PAD_SAME), x1w, 2, "conv2d 1x1");
    node w5 = rand_leaf(5 * 5 * 2, 2, -1, 1), x5w[2] = {x, w5};
    grad_ok(op_conv2d(g, x, in, w5, 5, NODE_NONE, PAD_SAME), x5w, 2, "conv2d 5x5 SAME");
    op_shape os = op_conv2d_shape(in, 3, 3, PAD_VALID);
    CHECK(os.h == 3 && os.w == 2 && os.c == 3);
    graph_rewind(g, m);
}

static void test_pool(void)
{
    graph_mark_t m = graph_mark(g);
    /* one 4×4 image, one channel; 2×2 windows */
    double xv[16] = {1, 5, 2, 2,
                     3, 4, 2, 2,
                     -1, -2, 0, 7,
                     -3, -4, 7, 1};
    node x = graph_leaf(g, 1, 16, xv);
    node y = op_maxpool2d(g, x, (op_shape){4, 4, 1}, 2);
    double want[4] = {5, 2, -1, 7};
    for (int e = 0; e < 4; e++) CHECK_NEAR(graph_get(g, y, e), want[e], 0);
    /* ties: all gradient to the FIRST maximum in row-major window order */
    double seed[4] = {10, 20, 30, 40};
    graph_zero_grad(g);
    graph_backward_seed(g, y, seed);
    double gwant[16] = {0, 10, 20, 0,  0, 0, 0, 0,  30, 0, 0, 40,  0, 0, 0, 0};
    for (int e = 0; e < 16; e++) CHECK_NEAR(graph_grad(g, x)[e], gwant[e], 0);
    /* two channels, B 2, 5×6 with k 2 (the last row dropped), and k 3 */
    node xr = rand_leaf(2, 5 * 6 * 2, -1, 1);
    node p2 = op_maxpool2d(g, xr, (op_shape){5, 6, 2}, 2), p3 = op_maxpool2d(g, xr, (op_shape){5, 6, 2}, 3);
    CHECK(graph_cols(g, p2) == 2 * 3 * 2 && graph_cols(g, p3) == 1 * 2 * 2);
    /* channel 1 of window (0,0) of image 0 is the max of its 4 entries */
    const double *v = graph_val(g, xr);
    double mx = fmax(fmax(v[1], v[3]), fmax(v[13], v[15]));
    CHECK_NEAR(graph_get(g, p2, 1), mx, 0);
    grad_ok(p2, &xr, 1, "maxpool2d k 2");
    grad_ok(p3, &xr, 1, "maxpool2d k 3");
    graph_rewind(g, m);
}

static void test_reshape_dropout(void)
{
    graph_mark_t m = graph_mark(g);
    node x = rand_leaf(2, 6, -1, 1);
    node y = op_reshape(g, x, 4, 3);
    CHECK(graph_rows(g, y) == 4 && graph_cols(g, y) == 3);
    CHECK_NEAR(graph_get(g, y, 7), graph_get(g, x, 7), 0);
    grad_ok(y, &x, 1, "reshape");
    /* dropout, keep 0.5: a mask leaf of 0 and 1/keep, multiplied in */
    double mk[12] = {2, 0, 2, 2, 0, 0, 2, 0, 2, 2, 2, 0};
    node mask = graph_leaf(g, 2, 6, mk), d = op_mul(g, x, mask);
    CHECK_NEAR(graph_get(g, d, 1), 0, 0);
    CHECK_NEAR(graph_get(g, d, 2), 2 * graph_get(g, x, 2), 0);
    grad_ok(d, &x, 1, "dropout mask");
    graph_rewind(g, m);
}

static void test_batchnorm(void)
{
    graph_mark_t m = graph_mark(g);
    /* per feature over the batch, no γ/β: column (1, 3) has mean 2 and
     * variance 1 → (−1, 1)/√(1 + ε); column (10, 30): (−10, 10)/√(100 + ε) */
    double xv[4] = {1, 10, 3, 30};
    node x = graph_leaf(g, 2, 2, xv);
    node y = op_batchnorm(g, x, 2, NODE_NONE, NODE_NONE, 1e-9);
    CHECK_NEAR(graph_get(g, y, 0), -1 / sqrt(1 + 1e-9), 1e-15);
    CHECK_NEAR(graph_get(g, y, 3), 10 / sqrt(100 + 1e-9), 1e-15);
    node yc = op_batchnorm_composite(g, x, 2, NODE_NONE, NODE_NONE, 1e-9);
    CHECK_NEAR(graph_get(g, yc, 1), -10 / sqrt(100 + 1e-9), 1e-15);

    /* feature mode on B 3 × (2·2·3): the lesson's tf.nn.moments(h, axes=[0]) */
    node h = rand_leaf(3, 12, -2, 2);
    node f1 = op_batchnorm(g, h, 12, NODE_NONE, NODE_NONE, 1e-9);
    node f2 = op_batchnorm_composite(g, h, 12, NODE_NONE, NODE_NONE, 1e-9);
    grad_ok(f1, &h, 1, "batchnorm feature fused");
    grad_ok(f2, &h, 1, "batchnorm feature composite");
    double dfe = fused_vs_composite(f1, f2, &h, 1);
    if (!(dfe <= 1e-10)) printf("batchnorm feature: fused and composite differ by %.3g\n", dfe);
    CHECK(dfe <= 1e-10);

    /* channel mode (BatchNorm2d): B 2 of 3×2 images with 3 channels, γ and β */
    node xc = rand_leaf(2, 3 * 2 * 3, -2, 2), gam = rand_leaf(1, 3, 0.5, 1.5), bet = rand_leaf(1, 3, -1, 1);
    node xgb[3] = {xc, gam, bet};
    node c1 = op_batchnorm(g, xc, 3, gam, bet, 1e-3);
    node c2 = op_batchnorm_composite(g, xc, 3, gam, bet, 1e-3);
    CHECK(graph_rows(g, c1) == 2 && graph_cols(g, c1) == 18);
    /* every channel of the output has mean β_c and variance γ_c²·var/(var + ε) */
    double s = 0;
    for (int b = 0; b < 2; b++) for (int p = 0; p < 6; p++) s += graph_get(g, c1, b * 18 + p * 3 + 1);
    CHECK_NEAR(s / 12, graph_get(g, bet, 1), 1e-14);
    grad_ok(c1, xgb, 3, "batchnorm channel fused");
    grad_ok(c2, xgb, 3, "batchnorm channel composite");
    double dch = fused_vs_composite(c1, c2, xgb, 3);
    if (!(dch <= 1e-10)) printf("batchnorm channel: fused and composite differ by %.3g\n", dch);
    CHECK(dch <= 1e-10);

    /* inference mode with given statistics: (x − μ)/√(v + ε)·γ + β */
    double sv[6] = {0.3, -0.2, 0.1, 1.5, 0.7, 2.0};
    node st = graph_leaf(g, 2, 3, sv);
    node xsgb[4] = {xc, st, gam, bet};
    node i1 = op_batchnorm_infer(g, xc, 3, st, gam, bet, 1e-3);
    node i2 = op_batchnorm_infer_composite(g, xc, 3, st, gam, bet, 1e-3);
    double want = (graph_get(g, xc, 4) + 0.2) / sqrt(0.7 + 1e-3) * graph_get(g, gam, 1) + graph_get(g, bet, 1);
    CHECK_NEAR(graph_get(g, i1, 4), want, 1e-14);
    grad_ok(i1, xsgb, 4, "batchnorm inference fused");
    grad_ok(i2, xsgb, 4, "batchnorm inference composite");
    double din = fused_vs_composite(i1, i2, xsgb, 4);
    if (!(din <= 1e-10)) printf("batchnorm inference: fused and composite differ by %.3g\n", din);
    CHECK(din <= 1e-10);
    graph_rewind(g, m);
}

/* The lesson's chain in miniature, whole: conv, ReLU, batch norm, pool,
 * dense, softmax cross-entropy — one gradient check through all of it. */
static void test_chain(void)
{
    graph_mark_t m = graph_mark(g);
    op_shape in = {4, 4, 1};
    node x = rand_leaf(2, 16, 0, 1), w = rand_leaf(9, 2, -1, 1), b = rand_leaf(1, 2, -0.5, 0.5);
    node gam = rand_leaf(1, 2, 0.5, 1.5), bet = rand_leaf(1, 2, -1, 1);
    node W1 = rand_leaf(8, 3, -1, 1);
    double tv[6] = {1, 0, 0, 0, 0, 1};
    node t = graph_leaf(g, 2, 3, tv);
    node a = op_relu(g, op_conv2d(g, x, in, w, 3, b, PAD_SAME));
    node n = op_batchnorm(g, a, 2, gam, bet, 1e-3);
    node p = op_maxpool2d(g, n, (op_shape){4, 4, 2}, 2);
    node L = op_softmax_ce(g, op_matmul(g, p, W1), t);
    node leaves[6] = {x, w, b, gam, bet, W1};
    gradcheck_report rep = gradcheck(g, L, leaves, 6, 1e-6, 1e-5);
    if (!rep.ok) printf("chain: worst %.3g at leaf %d element %d\n", rep.worst_rel, rep.worst_leaf, rep.worst_index);
    CHECK(rep.ok);
    graph_rewind(g, m);
}

/* The side array is rewound with the tape: a step built after a mark and
 * rewound, many times, leaves it where it was; a replay gives the same. */
static void test_rewind(void)
{
    graph_mark_t m = graph_mark(g);
    uint32_t na = g->na;
    node x = rand_leaf(1, 16, -1, 1), w = rand_leaf(9, 2, -1, 1);
    graph_mark_t m2 = graph_mark(g);
    double first = 0;
    for (int step = 0; step < 100; step++) {
        node y = op_maxpool2d(g, op_conv2d(g, x, (op_shape){4, 4, 1}, w, 3, NODE_NONE, PAD_SAME), (op_shape){4, 4, 2}, 2);
        node L = op_sum(g, y);
        if (step == 0) first = graph_get(g, L, 0);
        CHECK(graph_get(g, L, 0) == first || step > 0);
        if (step == 99) {
            graph_forward(g);
            CHECK(graph_get(g, L, 0) == first);
            CHECK(g->na == na + 7 + 4);
        }
        graph_rewind(g, m2);
    }
    CHECK(g->na == na);
    graph_rewind(g, m);
    CHECK(g->na == na);
}

/* Runs fn in a child and checks that it stops by abort() with a message
 * containing want, and ops.c's file:line, on stderr. */
static void check_stops(void (*fn)(void), const char *want)
{
    check_stops_in(fn, want, "ops.c:", NULL);
}

static void bad_valid(void)
{
    graph *h = graph_new();
    op_conv2d(h, graph_leaf(h, 2, 3 * 3, NULL), (op_shape){3, 3, 1}, graph_leaf(h, 25, 4, NULL), 5, NODE_NONE, PAD_VALID);
}
static void bad_channels(void)
{
    graph *h = graph_new();
    op_conv2d(h, graph_leaf(h, 2, 8 * 8 * 3, NULL), (op_shape){8, 8, 3}, graph_leaf(h, 18, 4, NULL), 3, NODE_NONE, PAD_SAME);
}
static void bad_bias(void)
{
    graph *h = graph_new();
    op_conv2d(h, graph_leaf(h, 2, 64, NULL), (op_shape){8, 8, 1}, graph_leaf(h, 9, 4, NULL), 3, graph_leaf(h, 1, 5, NULL), PAD_SAME);
}
static void bad_image(void)
{
    graph *h = graph_new();
    op_conv2d(h, graph_leaf(h, 2, 60, NULL), (op_shape){8, 8, 1}, graph_leaf(h, 9, 4, NULL), 3, NODE_NONE, PAD_SAME);
}
static void bad_pool(void)
{
    graph *h = graph_new();
    op_maxpool2d(h, graph_leaf(h, 1, 4, NULL), (op_shape){2, 2, 1}, 3);
}
static void bad_bn(void)
{
    graph *h = graph_new();
    op_batchnorm(h, graph_leaf(h, 2, 10, NULL), 3, NODE_NONE, NODE_NONE, 1e-3);
}
static void bad_gamma(void)
{
    graph *h = graph_new();
    op_batchnorm(h, graph_leaf(h, 2, 12, NULL), 3, graph_leaf(h, 1, 4, NULL), NODE_NONE, 1e-3);
}
static void bad_reshape(void)
{
    graph *h = graph_new();
    op_reshape(h, graph_leaf(h, 2, 6, NULL), 5, 2);
}

int main(void)
{
    g = graph_new();
    rng_seed(&r, 2024);
    test_conv_values();
    test_conv_grads();
    test_pool();
    test_reshape_dropout();
    test_batchnorm();
    test_chain();
    test_rewind();
    check_stops(bad_valid, "op_conv2d: kernel 5x5 is larger than the input 3x3x1 (HxWxC) with VALID padding");
    check_stops(bad_channels, "op_conv2d: input 2x8x8x3 (NHWC) and weight 18x4 = (k·k·C_in) x F do not fit");
    check_stops(bad_bias, "op_conv2d: bias 1x5 does not fit weight 9x4");
    check_stops(bad_image, "op_conv2d: input 2x60 is not B x (H·W·C) for the image shape 8x8x1");
    check_stops(bad_pool, "op_maxpool2d: window 3x3 does not fit the input 1x2x2x1");
    check_stops(bad_bn, "op_batchnorm: input 2x10 does not split into 3 channels");
    check_stops(bad_gamma, "op_batchnorm: gamma is 1x4, input 2x12 with 3 channels needs 1x3");
    check_stops(bad_reshape, "op_reshape: 2x6 has 12 elements, 5x2 would have 10");
    graph_free(g);
    return check_report("test_ops_cnn");
}
