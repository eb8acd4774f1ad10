/* gradcheck_fd.c — the every-weight finite-difference check (gradcheck_fd.h). */
#include <math.h>
#include <stdlib.h>
#include "fail.h"
#include "gradcheck_fd.h"
#include "graph.h"
#include "ops.h"
#include "rng.h"

enum { D = 784, K = 10 };


static double act_d(act_kind a, double x)
{
    return a == ACT_SIGMOID ? 1 / (1 + exp(-x)) : 1.7159 * tanh(2 * x / 3);
}

/* Mean cross-entropy of logits O (n × K) against labels, in double. */
static double ce_rows(const double *O, const uint8_t *y, int n)
{
    double sum = 0;
    for (int b = 0; b < n; b++) {
        const double *o = O + b * K;
        double mx = o[0], s = 0;
        for (int c = 1; c < K; c++) mx = fmax(mx, o[c]);
        for (int c = 0; c < K; c++) s += exp(o[c] - mx);
        sum += mx + log(s) - o[y[b]];
    }
    return sum / n;
}

/* The full double forward pass of 785-H-10: X (n × 785), W1 (785 × H),
 * W2 (H × K); fills Z = X·W1, A = f(Z), O = A·W2 when not NULL. */
static double forward_d(const double *X, const uint8_t *y, int n, const double *W1,
                        const double *W2, int H, act_kind act, double *Z, double *A, double *O)
{
    for (int b = 0; b < n; b++) {
        for (int j = 0; j < H; j++) {
            double s = 0;
            for (int i = 0; i <= D; i++) s += X[b * (D + 1) + i] * W1[i * H + j];
            Z[b * H + j] = s;
            A[b * H + j] = act_d(act, s);
        }
        for (int c = 0; c < K; c++) {
            double s = 0;
            for (int j = 0; j < H; j++) s += A[b * H + j] * W2[j * K + c];
            O[b * K + c] = s;
        }
    }
    return ce_rows(O, y, n);
}

/* One forward pass of 785-H-10 in double, kept so that a nudged loss can be
 * recomputed from it. Per image b the logits o_b enter the loss as
 * mx_b + log Σ_c E_bc − o_b,y with E_bc = e^{o_bc − mx_b}. */
typedef struct {
    int n, H;
    act_kind act;
    const double *X, *W2;   /* (n, 785), (H, K) */
    const uint8_t *y;
    double *Z, *A, *O;      /* (n, H), (n, H), (n, K) */
    double *E, *mx;         /* (n, K), (n) */
} pass;

/* Image b's loss after W1[i][j] += d, where x = x_bi: z_bj gains d·x, so
 * a_bj changes by da and every logit c by da·W2[j][c] — a factor
 * e^{da·W2[j][c]} on E_bc. */
static double nudged_row_w1(const pass *p, int b, int j, double x, double d)
{
    const double *w2 = p->W2 + j * K;
    double da = act_d(p->act, p->Z[b * p->H + j] + d * x) - p->A[b * p->H + j];
    double S = 0;
    for (int c = 0; c < K; c++) S += p->E[b * K + c] * exp(da * w2[c]);
    return p->mx[b] + log(S) - (p->O[b * K + p->y[b]] + da * w2[p->y[b]]);
}

/* The mean loss after W1[i][j] += d. */
static double nudged_w1(const pass *p, int i, int j, double d)
{
    double sum = 0;
    for (int b = 0; b < p->n; b++) sum += nudged_row_w1(p, b, j, p->X[b * (D + 1) + i], d);
    return sum / p->n;
}

/* nudged_w1(p, i, j, ±d) for every i of one column j at once, into Lp[i]
 * and Lm[i]. The same sums in the same order — but a pixel that was 0
 * (most of an MNIST image) has one normalised value x0 in every image, so
 * its row loss is computed once per image and reused: 5× less work. */
static void nudged_w1_column(const pass *p, int j, double d, double x0, double *Lp, double *Lm)
{
    for (int i = 0; i <= D; i++) Lp[i] = Lm[i] = 0;
    for (int b = 0; b < p->n; b++) {
        double p0 = nudged_row_w1(p, b, j, x0, d), m0 = nudged_row_w1(p, b, j, x0, -d);
        for (int i = 0; i <= D; i++) {
            double x = p->X[b * (D + 1) + i];
            Lp[i] += x == x0 ? p0 : nudged_row_w1(p, b, j, x, d);
            Lm[i] += x == x0 ? m0 : nudged_row_w1(p, b, j, x, -d);
        }
    }
    for (int i = 0; i <= D; i++) Lp[i] /= p->n, Lm[i] /= p->n;
}

/* The mean loss after W2[j][c] += d: only logit c moves, by d·a_bj. */
static double nudged_w2(const pass *p, int j, int c, double d)
{
    double sum = 0;
    for (int b = 0; b < p->n; b++) {
        double dz = d * p->A[b * p->H + j], S = 0;
        for (int k = 0; k < K; k++) S += k == c ? p->E[b * K + k] * exp(dz) : p->E[b * K + k];
        sum += p->mx[b] + log(S) - (p->O[b * K + p->y[b]] + (c == p->y[b] ? dz : 0));
    }
    return sum / p->n;
}

/* The assignment's check on a 785-H-10 network m (bias trick) and the
 * first n images of x (float, normalised, n × 784): central differences
 * (L(w + ε) − L(w − ε)) / 2ε on the mean loss, every weight, against the
 * analytic gradient of a reverse sweep of the graph. Everything in double.
 *
 * A nudge of W1[i][j] changes only hidden unit j, a nudge of W2[j][c] only
 * logit c; so each nudged loss is recomputed from the stored pass (that
 * unit, the logits, the softmax) instead of the whole 100 × 785 × H
 * product — the same function, thousands of times cheaper. `shortcut`
 * says how well 8 nudged losses agree with full forward passes. x0 is the
 * normalised value of a 0 pixel (see nudged_w1_column). */
int gradcheck_fd(gcheck *out, mlp *m, const float *x, const uint8_t *y, int n, double eps,
                         double x0, uint64_t seed)
{
    ASSERT(m->L == 2 && m->cfg.bias_trick && m->cfg.sizes[0] == D && m->cfg.sizes[2] == K &&
           (m->cfg.act == ACT_SIGMOID || m->cfg.act == ACT_STANH) && n >= 1 && eps > 0,
           "gradcheck_fd: a 785-H-10 network with the bias trick, n >= 1, eps > 0");
    const int H = m->cfg.sizes[1], R = D + 1;
    size_t nR = (size_t)n * R, nH = (size_t)n * H, nK = (size_t)n * K;
    double *X = malloc(sizeof(double) * nR), *T = calloc(nK, sizeof(double));
    double *W1 = malloc(sizeof(double) * (size_t)R * H), *W2 = malloc(sizeof(double) * (size_t)H * K);
    double *Z = malloc(sizeof(double) * nH), *A = malloc(sizeof(double) * nH);
    double *O = malloc(sizeof(double) * nK), *E = malloc(sizeof(double) * nK);
    double *mx = malloc(sizeof(double) * (size_t)n);
    double *Z2 = malloc(sizeof(double) * nH), *A2 = malloc(sizeof(double) * nH);
    double *O2 = malloc(sizeof(double) * nK);
    gcheck r = {0};
    r.weights = -1;
    graph *g = X && T && W1 && W2 && Z && A && O && E && mx && Z2 && A2 && O2 ? graph_new() : NULL;
    if (!g) {
        free(X); free(T); free(W1); free(W2); free(Z); free(A); free(O); free(E); free(mx);
        free(Z2); free(A2); free(O2);
        *out = r;
        return -1;
    }
    r.weights = 0;
    for (int b = 0; b < n; b++) {
        for (int i = 0; i < D; i++) X[b * R + i] = x[(size_t)b * D + i];
        X[b * R + D] = 1;                         // the bias trick's constant input
        T[b * K + y[b]] = 1;
    }
    for (int i = 0; i < R * H; i++) W1[i] = m->W[0][i];
    for (int i = 0; i < H * K; i++) W2[i] = m->W[1][i];

    /* analytic: one reverse sweep of the graph, in double */
    node nx = graph_leaf(g, n, R, X), nw1 = graph_leaf(g, R, H, W1);
    node nw2 = graph_leaf(g, H, K, W2), nt = graph_leaf(g, n, K, T);
    node z = op_matmul(g, nx, nw1);
    node a = m->cfg.act == ACT_SIGMOID ? op_sigmoid(g, z) : op_stanh(g, z);
    node loss = op_softmax_ce(g, op_matmul(g, a, nw2), nt);
    graph_backward(g, loss);
    const double *g1 = graph_grad(g, nw1), *g2 = graph_grad(g, nw2);

    pass p = {n, H, m->cfg.act, X, W2, y, Z, A, O, E, mx};
    r.loss = forward_d(X, y, n, W1, W2, H, p.act, Z, A, O);
    for (int b = 0; b < n; b++) {
        mx[b] = O[b * K];
        for (int c = 1; c < K; c++) if (O[b * K + c] > mx[b]) mx[b] = O[b * K + c];
        for (int c = 0; c < K; c++) E[b * K + c] = exp(O[b * K + c] - mx[b]);
    }

    /* the fast path's analytic gradient, float32, from the same weights */
    mlp_forward(m, x, y, n, 0);
    mlp_zero_grad(m);
    mlp_backward(m);
    for (int i = 0; i < R * H; i++) r.vs_fast = fmax(r.vs_fast, fabs(g1[i] - m->dW[0][i]));
    for (int i = 0; i < H * K; i++) r.vs_fast = fmax(r.vs_fast, fabs(g2[i] - m->dW[1][i]));

    /* numeric, every weight of W1 (a column at a time) then W2 */
    double Lp[D + 1], Lm[D + 1];
    for (int j = 0; j < H; j++) {
        nudged_w1_column(&p, j, eps, x0, Lp, Lm);
        for (int i = 0; i < R; i++) {
            double num = (Lp[i] - Lm[i]) / (2 * eps);
            double diff = fabs(num - g1[i * H + j]);
            if (!(diff <= r.worst)) r.worst = diff;     // NaN stays: never agreement
            r.weights++;
        }
    }
    for (int j = 0; j < H; j++)
        for (int c = 0; c < K; c++) {
            double num = (nudged_w2(&p, j, c, eps) - nudged_w2(&p, j, c, -eps)) / (2 * eps);
            double diff = fabs(num - g2[j * K + c]);
            if (!(diff <= r.worst)) r.worst = diff;
            r.weights++;
        }

    /* the shortcut against full forward passes, on 8 seeded weights of each matrix */
    rng pick;
    rng_seed(&pick, seed);
    for (int t = 0; t < 8; t++) {
        int first = t < 4;
        int i = (int)rng_below(&pick, (uint32_t)(first ? R : H));
        int j = (int)rng_below(&pick, (uint32_t)(first ? H : K));
        double *w = first ? &W1[i * H + j] : &W2[i * K + j], keep = *w;
        *w = keep + eps;
        double full = forward_d(X, y, n, W1, W2, H, p.act, Z2, A2, O2);
        *w = keep;
        double quick = first ? nudged_w1(&p, i, j, eps) : nudged_w2(&p, i, j, eps);
        r.shortcut = fmax(r.shortcut, fabs(quick - full));
        if (first) {   // the column pass reuses row losses: it must give the same bits
            nudged_w1_column(&p, j, eps, x0, Lp, Lm);
            if (Lp[i] != quick) r.shortcut = INFINITY;
        }
    }
    r.ok = r.worst <= eps * eps && isfinite(r.vs_fast) && r.shortcut <= 1e-12;

    graph_free(g);
    free(X); free(T); free(W1); free(W2); free(Z); free(A); free(O); free(E); free(mx);
    free(Z2); free(A2); free(O2);
    *out = r;
    return 0;
}

