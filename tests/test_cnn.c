/* test_cnn.c — the CNN fast path: each kernel against its naive reference
 * (bit for bit where the contract says so), the network's gradients against
 * central differences at a small size, 1 vs 2 threads bit-identical, save /
 * load round trip and the refusals of corrupt files, bad configurations
 * stopping with file:line and both shapes. With CHAINRULE_ISA=portable
 * or avx2 (test_isa.sh) the same checks cover the other kernels. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "check.h"
#include "cnn.h"
#include "kernels.h"
#include "rng.h"
#include "train.h"

static float *rnd(rng *r, size_t n, double zero_frac)
{
    float *p = malloc(n * sizeof *p + 4);
    for (size_t i = 0; i < n; i++)
        p[i] = rng_uniform(r) < zero_frac ? 0.0f : (float)rng_range(r, -1.0, 1.0);
    return p;
}

static int same(const float *a, const float *b, size_t n) { return memcmp(a, b, n * sizeof *a) == 0; }

static double max_diff(const float *a, const float *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= m)) m = d;          /* NaN sticks */
    }
    return m;
}

static void set_threads(int t)
{
#ifdef _OPENMP
    omp_set_num_threads(t);
#else
    (void)t;
#endif
}

/* A few special values where they test a contract: ties, −0, a NaN. */
static void sprinkle(float *p, size_t n, int nan)
{
    for (size_t i = 0; i < n; i += 7) p[i] = p[i / 2];
    for (size_t i = 3; i < n; i += 11) p[i] = -0.0f;
    if (nan && n > 5) p[n / 2] = NAN;
}

/* conv forward and weight/bias/input gradients against the direct loops,
 * with 1, 2 and 3 threads, bit for bit (the input gradient to a tolerance:
 * a different summation order). */
static void conv_shape(int B, int H, int W, int C, int k, int pad_same, int F, uint64_t seed)
{
    rng r; rng_seed(&r, seed);
    int p = pad_same ? (k - 1) / 2 : 0, Ho = H + 2 * p - k + 1, Wo = W + 2 * p - k + 1;
    size_t nx = (size_t)B * H * W * C, nw = (size_t)k * k * C * F, no = (size_t)B * Ho * Wo * F;
    size_t nxp = (size_t)B * (H + 2 * p) * (W + 2 * p) * C;
    float *x = rnd(&r, nx, 0.3), *w = rnd(&r, nw, 0), *bias = rnd(&r, (size_t)F, 0), *g = rnd(&r, no, 0.2);
    float *out = malloc(no * 4), *ref = malloc(no * 4), *refr = malloc(no * 4), *xp = malloc(nxp * 4);
    float *dw0 = rnd(&r, nw, 0.5), *db0 = rnd(&r, (size_t)F, 0.5);   /* dw and dbias are added to */
    float *dw = malloc(nw * 4), *dw2 = malloc(nw * 4), *db = malloc((size_t)F * 4), *db2 = malloc((size_t)F * 4);
    float *dx = malloc(nx * 4), *dx2 = malloc(nx * 4), *dcols = malloc((size_t)B * Ho * Wo * k * k * C * 4);
    conv2d_forward_naive(ref, x, w, bias, B, H, W, C, k, p, F, Ho, Wo);
    for (size_t i = 0; i < no; i++) refr[i] = ref[i] > 0.0f ? ref[i] : 0.0f;
    memcpy(dw2, dw0, nw * 4); memcpy(db2, db0, (size_t)F * 4);
    conv2d_backward_naive(dx2, dw2, db2, x, g, w, B, H, W, C, k, p, F, Ho, Wo);
    for (int t = 1; t <= 3; t++) {
        set_threads(t);
        conv2d_forward(out, xp, x, w, bias, B, H, W, C, k, p, F, Ho, Wo, ACT_IDENTITY);
        CHECK(same(out, ref, no));
        conv2d_forward(out, xp, x, w, bias, B, H, W, C, k, p, F, Ho, Wo, ACT_RELU);
        CHECK(same(out, refr, no));
        memcpy(dw, dw0, nw * 4); memcpy(db, db0, (size_t)F * 4);
        conv2d_backward_weight(dw, db, xp, g, B, H, W, C, k, p, F, Ho, Wo);
        CHECK(same(dw, dw2, nw));
        CHECK(same(db, db2, (size_t)F));
        memcpy(dw, dw0, nw * 4);
        conv2d_backward_weight(dw, NULL, xp, g, B, H, W, C, k, p, F, Ho, Wo);
        CHECK(same(dw, dw2, nw));
    }
    /* without a bias */
    conv2d_forward_naive(ref, x, w, NULL, B, H, W, C, k, p, F, Ho, Wo);
    conv2d_forward(out, xp, x, w, NULL, B, H, W, C, k, p, F, Ho, Wo, ACT_IDENTITY);
    CHECK(same(out, ref, no));
    conv2d_backward_input(dx, dcols, g, w, B, H, W, C, k, p, F, Ho, Wo);
    /* a different summation order: rounding grows with the k·k·F terms of a pixel */
    CHECK(max_diff(dx, dx2, nx) <= 1e-5 * fmax(1.0, k * k * F / 256.0));
    set_threads(2);
    free(x); free(w); free(bias); free(g); free(out); free(ref); free(refr); free(xp); free(dw0); free(db0);
    free(dw); free(dw2); free(db); free(db2); free(dx); free(dx2); free(dcols);
}

/* max-pool forward and backward against the naive loops, bit for bit, on
 * awkward shapes (remainder rows and columns, channels not a multiple of 8,
 * ties, −0, a NaN), with 1, 2 and 3 threads. */
static void pool_shape(int B, int H, int W, int C, int pool, uint64_t seed)
{
    rng r; rng_seed(&r, seed);
    int Hp = H / pool, Wp = W / pool;
    size_t n = (size_t)B * H * W * C, no = (size_t)B * Hp * Wp * C;
    float *x = rnd(&r, n, 0.3), *g = rnd(&r, no, 0.1), *out = malloc(no * 4), *ref = malloc(no * 4);
    float *din = malloc(n * 4), *dref = malloc(n * 4);
    int32_t *am = malloc(no * 4);
    sprinkle(x, n, 1);
    sprinkle(g, no, 0);
    maxpool_forward_naive(ref, x, B, H, W, C, pool);
    for (int t = 1; t <= 3; t++) {
        set_threads(t);
        maxpool_forward(out, am, x, B, H, W, C, pool);
        CHECK(same(out, ref, no));
        int ok = 1;
        for (size_t o = 0; o < no; o++) ok &= memcmp(&x[am[o]], &out[o], 4) == 0;
        CHECK(ok);
        maxpool_backward_naive(dref, g, am, n, no);
        for (size_t i = 0; i < n; i++) din[i] = 1234.0f;
        maxpool_backward(din, g, am, B, H, W, C, pool);
        CHECK(same(din, dref, n));
    }
    set_threads(2);
    free(x); free(g); free(out); free(ref); free(din); free(dref); free(am);
}

/* batch norm forward (train and inference, with and without γ/β and the
 * running values) and backward (train and inference, with and without dγ,
 * the ReLU mask, in place) against the column-by-column references, bit for
 * bit, with 1, 2 and 3 threads; and training mode against the all-double
 * reference to a tolerance. */
static void bn_shape(int R, int C, int affine, uint64_t seed)
{
    rng r; rng_seed(&r, seed);
    size_t n = (size_t)R * C;
    float *x = rnd(&r, n, 0.1), *gm = rnd(&r, (size_t)C, 0), *bt = rnd(&r, (size_t)C, 0), *dy = rnd(&r, n, 0.2);
    float *relu = rnd(&r, n, 0.2);
    sprinkle(dy, n, 0);
    float *o1 = malloc(n * 4), *o2 = malloc(n * 4), *xh1 = malloc(n * 4), *xh2 = malloc(n * 4);
    float *d1 = malloc(n * 4), *d2 = malloc(n * 4), *dd = malloc(n * 4);
    float *m1 = malloc((size_t)C * 4), *m2 = malloc((size_t)C * 4), *s1 = malloc((size_t)C * 4), *s2 = malloc((size_t)C * 4);
    float *rm1 = malloc((size_t)C * 4), *rv1 = malloc((size_t)C * 4), *rm2 = malloc((size_t)C * 4), *rv2 = malloc((size_t)C * 4);
    float *dg1 = malloc((size_t)C * 4), *db1 = malloc((size_t)C * 4), *dg2 = malloc((size_t)C * 4), *db2 = malloc((size_t)C * 4);
    double *scratch = malloc((size_t)C * 2 * sizeof(double));
    const float *G = affine ? gm : NULL, *Bt = affine ? bt : NULL;
    for (int t = 1; t <= 3; t++) {
        set_threads(t);
        for (int train = 1; train >= 0; train--) {
            for (int c = 0; c < C; c++) rm1[c] = rm2[c] = 0.1f * (float)c, rv1[c] = rv2[c] = 1.0f + 0.01f * (float)c;
            batchnorm_forward_f32_naive(o1, xh1, m1, s1, x, G, Bt, R, C, 1e-3, rm1, rv1, train);
            batchnorm_forward(o2, xh2, m2, s2, x, G, Bt, R, C, 1e-3, rm2, rv2, train, scratch);
            CHECK(same(o1, o2, n) && same(xh1, xh2, n) && same(m1, m2, (size_t)C) && same(s1, s2, (size_t)C));
            CHECK(same(rm1, rm2, (size_t)C) && same(rv1, rv2, (size_t)C));
            if (train) {   /* without running values, as per feature */
                batchnorm_forward_f32_naive(o1, xh1, m1, s1, x, G, Bt, R, C, 1e-9, NULL, NULL, 1);
                batchnorm_forward(o2, xh2, m2, s2, x, G, Bt, R, C, 1e-9, NULL, NULL, 1, scratch);
                CHECK(same(o1, o2, n) && same(xh1, xh2, n) && same(s1, s2, (size_t)C));
            }
            for (int mode = 0; mode < 4; mode++) {   /* bit 0: the ReLU mask; bit 1: dγ, dβ */
                const float *ry = mode & 1 ? relu : NULL;
                float *pg1 = mode & 2 ? dg1 : NULL, *pg2 = mode & 2 ? dg2 : NULL;
                batchnorm_backward_naive(d1, pg1, db1, dy, xh1, s1, G, ry, R, C, train);
                batchnorm_backward(d2, pg2, db2, dy, xh1, s1, G, ry, R, C, train, scratch);
                CHECK(same(d1, d2, n));
                if (mode & 2) CHECK(same(dg1, dg2, (size_t)C) && same(db1, db2, (size_t)C));
                memcpy(dd, dy, n * 4);   /* in place, as the network calls it */
                batchnorm_backward(dd, pg2, db2, dd, xh1, s1, G, ry, R, C, train, scratch);
                CHECK(same(d1, dd, n));
            }
        }
    }
    batchnorm_forward_naive(o1, x, G, Bt, R, C, 1e-3);
    batchnorm_forward(o2, xh2, m2, s2, x, G, Bt, R, C, 1e-3, NULL, NULL, 1, scratch);
    CHECK(max_diff(o1, o2, n) <= 1e-4);
    set_threads(2);
    free(x); free(gm); free(bt); free(dy); free(relu); free(o1); free(o2); free(xh1); free(xh2);
    free(d1); free(d2); free(dd); free(m1); free(m2); free(s1); free(s2); free(rm1); free(rv1); free(rm2); free(rv2);
    free(dg1); free(db1); free(dg2); free(db2); free(scratch);
}

/* The per-channel batch norm fused with its max-pool, forward and backward,
 * against batchnorm_forward then maxpool_forward and maxpool_backward_naive
 * then batchnorm_backward_naive, bit for bit (train and inference, with and
 * without γ and dγ and the ReLU mask, remainder rows and columns, channels
 * not a multiple of 8), with 1, 2 and 3 threads. */
static void bn_pool_shape(int B, int H, int W, int C, int pool, uint64_t seed)
{
    rng r; rng_seed(&r, seed);
    int Hp = H / pool, Wp = W / pool, R = B * H * W;
    size_t n = (size_t)R * C, no = (size_t)B * Hp * Wp * C;
    float *x = rnd(&r, n, 0.3), *gm = rnd(&r, (size_t)C, 0), *bt = rnd(&r, (size_t)C, 0), *gp = rnd(&r, no, 0.1);
    sprinkle(x, n, 0);
    sprinkle(gp, no, 0);
    float *o1 = malloc(n * 4), *xh1 = malloc(n * 4), *p1 = malloc(no * 4), *p2 = malloc(no * 4), *dref = malloc(n * 4);
    float *d1 = malloc(n * 4), *d2 = malloc(n * 4);
    int32_t *a1 = malloc(no * 4), *a2 = malloc(no * 4);
    float *m1 = malloc((size_t)C * 4), *m2 = malloc((size_t)C * 4), *s1 = malloc((size_t)C * 4), *s2 = malloc((size_t)C * 4);
    float *rm1 = malloc((size_t)C * 4), *rv1 = malloc((size_t)C * 4), *rm2 = malloc((size_t)C * 4), *rv2 = malloc((size_t)C * 4);
    float *dg1 = malloc((size_t)C * 4), *db1 = malloc((size_t)C * 4), *dg2 = malloc((size_t)C * 4), *db2 = malloc((size_t)C * 4);
    double *scratch = malloc((size_t)C * 2 * sizeof(double));
    for (int t = 1; t <= 3; t++) {
        set_threads(t);
        for (int mode = 0; mode < 8; mode++) {   /* bit 0: train; bit 1: γ, β; bit 2: the ReLU mask and dγ */
            int train = mode & 1, relu = (mode >> 2) & 1;
            const float *G = mode & 2 ? gm : NULL, *Bt = mode & 2 ? bt : NULL;
            for (int c = 0; c < C; c++) rm1[c] = rm2[c] = 0.1f * (float)c, rv1[c] = rv2[c] = 1.0f + 0.01f * (float)c;
            batchnorm_forward(o1, xh1, m1, s1, x, G, Bt, R, C, 1e-3, rm1, rv1, train, scratch);
            maxpool_forward(p1, a1, o1, B, H, W, C, pool);
            batchnorm_pool_forward(p2, a2, m2, s2, x, G, Bt, B, H, W, C, pool, 1e-3, rm2, rv2, train, scratch);
            CHECK(same(p1, p2, no) && memcmp(a1, a2, no * 4) == 0 && same(m1, m2, (size_t)C) && same(s1, s2, (size_t)C));
            CHECK(same(rm1, rm2, (size_t)C) && same(rv1, rv2, (size_t)C));
            maxpool_backward_naive(dref, gp, a1, n, no);
            batchnorm_backward_naive(d1, relu ? dg1 : NULL, db1, dref, xh1, s1, G, relu ? x : NULL, R, C, train);
            for (size_t i = 0; i < n; i++) d2[i] = 1234.0f;
            batchnorm_pool_backward(d2, relu ? dg2 : NULL, db2, gp, a2, x, m2, s2, G, relu, B, H, W, C, pool, train, scratch);
            CHECK(same(d1, d2, n));
            if (relu) CHECK(same(dg1, dg2, (size_t)C) && same(db1, db2, (size_t)C));
        }
    }
    set_threads(2);
    free(x); free(gm); free(bt); free(gp); free(o1); free(xh1); free(p1); free(p2); free(dref); free(d1); free(d2);
    free(a1); free(a2); free(m1); free(m2); free(s1); free(s2); free(rm1); free(rv1); free(rm2); free(rv2);
    free(dg1); free(db1); free(dg2); free(db2); free(scratch);
}

static void pool_and_bn(void)
{
    rng r; rng_seed(&r, 7);
    int B = 3, H = 7, W = 6, C = 5, pool = 2, Hp = H / pool, Wp = W / pool;
    size_t n = (size_t)B * H * W * C, no = (size_t)B * Hp * Wp * C;
    float *x = rnd(&r, n, 0.3), *out = malloc(no * 4), *ref = malloc(no * 4), *din = malloc(n * 4);
    int32_t *am = malloc(no * 4);
    maxpool_forward_naive(ref, x, B, H, W, C, pool);
    maxpool_forward(out, am, x, B, H, W, C, pool);
    CHECK(same(out, ref, no));
    int ok = 1;
    for (size_t o = 0; o < no; o++) ok &= x[am[o]] == out[o];
    CHECK(ok);
    /* ties: the first maximum of the window in row-major order gets the gradient */
    float t[8] = {1, 5, 5, 5, 2, 5, 0, 0};   /* (1, 2, 2, 2): channel 1 ties at all four */
    float to[2], dt[8], g1[2] = {1.0f, 2.0f};
    int32_t ta[2];
    maxpool_forward(to, ta, t, 1, 2, 2, 2, 2);
    maxpool_backward(dt, g1, ta, 1, 2, 2, 2, 2);
    CHECK(to[0] == 5.0f && to[1] == 5.0f && ta[0] == 2 && ta[1] == 1);
    CHECK(dt[2] == 1.0f && dt[1] == 2.0f && dt[3] == 0.0f && dt[5] == 0.0f && dt[0] == 0.0f);
    /* batch norm, training mode, against the all-double reference */
    int R = 40, Cb = 21;
    float *bx = rnd(&r, (size_t)R * Cb, 0.1), *gm = rnd(&r, (size_t)Cb, 0), *bt = rnd(&r, (size_t)Cb, 0);
    float *bo = malloc((size_t)R * Cb * 4), *bref = malloc((size_t)R * Cb * 4), *xh = malloc((size_t)R * Cb * 4);
    float mean[21], istd[21], rm[21], rv[21];
    double scratch[42];
    for (int c = 0; c < Cb; c++) rm[c] = 0.0f, rv[c] = 1.0f;
    batchnorm_forward_naive(bref, bx, gm, bt, R, Cb, 1e-3);
    batchnorm_forward(bo, xh, mean, istd, bx, gm, bt, R, Cb, 1e-3, rm, rv, 1, scratch);
    CHECK(max_diff(bo, bref, (size_t)R * Cb) <= 1e-5);
    double s = 0, q = 0;                       /* the running values of column 0 */
    for (int i = 0; i < R; i++) s += bx[i * Cb];
    for (int i = 0; i < R; i++) q += (bx[i * Cb] - s / R) * (bx[i * Cb] - s / R);
    CHECK_NEAR(rm[0], 0.1 * s / R, 1e-6);
    CHECK_NEAR(rv[0], 0.9 + 0.1 * q / (R - 1), 1e-6);
    /* inference mode uses the running values */
    batchnorm_forward(bo, xh, mean, istd, bx, NULL, NULL, R, Cb, 1e-3, rm, rv, 0, scratch);
    CHECK_NEAR(bo[5], (bx[5] - rm[5]) / sqrt(rv[5] + 1e-3), 1e-5);
    free(x); free(out); free(ref); free(din); free(am); free(bx); free(gm); free(bt); free(bo); free(bref); free(xh);
}

static cnn_cfg small_cfg(cnn_bn bn, cnn_pad pad, double keep)
{
    cnn_cfg c = {8, 8, 2, 3, 4, pad, bn, 1e-3, 2, 12, 3, keep, 5};
    return c;
}

static void batch(rng *r, float *x, uint8_t *y, int B, int n, int K)
{
    for (int i = 0; i < B * n; i++) x[i] = rng_uniform(r) < 0.2 ? 0.0f : (float)rng_uniform(r);
    for (int b = 0; b < B; b++) y[b] = (uint8_t)rng_below(r, (uint32_t)K);
}

/* Central differences of the mean loss (summed in double by cnn_forward),
 * against cnn_backward, for a sample of every parameter block. The running
 * statistics are put back after each forward so every evaluation sees the
 * same state. */
static void gradcheck(cnn_bn bn, cnn_pad pad, double keep)
{
    cnn_cfg c = small_cfg(bn, pad, keep);
    cnn *m = cnn_new(&c);
    rng r; rng_seed(&r, 11 + (uint64_t)bn);
    enum { B = 3 };
    int n = c.H * c.W * c.C_in;
    float *x = malloc(sizeof(float) * B * n);
    uint8_t y[B];
    batch(&r, x, y, B, n, c.classes);
    rng keep_rng = m->drop_rng;               /* the same dropout mask at every evaluation */
    cnn_forward(m, x, y, B, 1);
    cnn_backward(m);
    float *g = malloc(m->n_params * 4);
    memcpy(g, m->grads, m->n_params * 4);
    int bad = 0, tried = 0;
    for (size_t i = 0; i < m->n_params; i += 1 + m->n_params / 150) {
        float p0 = m->params[i];
        const float h = 1e-3f;
        m->params[i] = p0 + h; m->drop_rng = keep_rng;
        double lp = cnn_forward(m, x, y, B, 1);
        m->params[i] = p0 - h; m->drop_rng = keep_rng;
        double lm = cnn_forward(m, x, y, B, 1);
        m->params[i] = p0;
        double num = (lp - lm) / (2.0 * (double)h), an = g[i];
        tried++;
        if (!(fabs(num - an) <= 2e-3 + 3e-2 * fabs(an))) {
            if (bad < 5) printf("  gradcheck bn %d pad %d keep %g: param %zu analytic %.6g numeric %.6g\n",
                                (int)bn, (int)pad, keep, i, an, num);
            bad++;
        }
    }
    /* kinks (ReLU at 0, a max changing hands) can spoil a difference: allow 2% */
    CHECK(tried > 100 && bad * 50 <= tried);
    free(x); free(g);
    cnn_free(m);
}

/* The same training steps with 1 and 2 threads: the same bits. */
static void threads_same(void)
{
#ifdef _OPENMP
    cnn_cfg c = {28, 28, 1, 3, 8, CNN_PAD_SAME, CNN_BN_CHANNEL, 1e-3, 2, 64, 10, 0.75, 3};
    enum { B = 9 };
    float *x = malloc(sizeof(float) * B * 784);
    uint8_t y[B];
    rng r; rng_seed(&r, 2);
    batch(&r, x, y, B, 784, 10);
    float *g[2];
    double loss[2];
    for (int t = 0; t < 2; t++) {
        omp_set_num_threads(t + 1);
        cnn *m = cnn_new(&c);
        loss[t] = cnn_forward(m, x, y, B, 1);
        cnn_backward(m);
        g[t] = malloc(m->n_params * 4);
        memcpy(g[t], m->grads, m->n_params * 4);
        CHECK(t == 0 || same(g[0], g[1], m->n_params));
        cnn_free(m);
    }
    CHECK(loss[0] == loss[1] && isfinite(loss[0]));
    omp_set_num_threads(2);
    free(g[0]); free(g[1]); free(x);
#endif
}

static void save_load(void)
{
    cnn_cfg c = small_cfg(CNN_BN_CHANNEL, CNN_PAD_SAME, 1.0);
    cnn *m = cnn_new(&c);
    for (int f = 0; f < c.filters; f++) m->bn_run_mean[f] = 0.25f * (float)f;
    char path[] = "build/test_cnn_model.bin";
    CHECK(cnn_save(m, path) == CNN_OK);
    int st = -1;
    cnn *l = cnn_load(path, &st);
    CHECK(st == CNN_OK && l != NULL);
    if (l) {
        CHECK(l->n_params == m->n_params && same(l->params, m->params, m->n_params));
        CHECK(same(l->bn_run_mean, m->bn_run_mean, (size_t)c.filters) && l->cfg.bn == CNN_BN_CHANNEL);
        cnn_free(l);
    }
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    unsigned char *bytes = malloc((size_t)len);
    CHECK(fread(bytes, 1, (size_t)len, f) == (size_t)len);
    fclose(f);
    struct { long at; int mode; int want; } cases[] = {   /* mode 0: flip the byte; 1: cut there; 2: append */
        {len - 3, 0, CNN_ERR_CHECKSUM}, {len - 1, 1, CNN_ERR_TRUNCATED}, {20, 1, CNN_ERR_TRUNCATED},
        {0, 0, CNN_ERR_MAGIC}, {len, 2, CNN_ERR_TRAILING}, {8 + 4 * 4, 0, CNN_ERR_CFG}, {4, 1, CNN_ERR_MAGIC},
    };
    char bad[] = "build/test_cnn_bad.bin";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f = fopen(bad, "wb");
        unsigned char b = bytes[cases[i].at < len ? cases[i].at : 0] ^ 0x5a;
        if (cases[i].mode == 0) {
            fwrite(bytes, 1, (size_t)cases[i].at, f); fwrite(&b, 1, 1, f);
            fwrite(bytes + cases[i].at + 1, 1, (size_t)(len - cases[i].at - 1), f);
        } else if (cases[i].mode == 1) fwrite(bytes, 1, (size_t)cases[i].at, f);
        else { fwrite(bytes, 1, (size_t)len, f); fwrite(&b, 1, 1, f); }
        fclose(f);
        st = -1;
        l = cnn_load(bad, &st);
        CHECK(l == NULL && st == cases[i].want);
        if (st != cases[i].want) printf("  case %zu: status %d (%s), want %d\n", i, st, cnn_status_msg(st), cases[i].want);
    }
    /* a NaN parameter with a valid checksum is still refused */
    m->W1[3] = NAN;
    CHECK(cnn_save(m, bad) == CNN_OK);
    l = cnn_load(bad, &st);
    CHECK(l == NULL && st == CNN_ERR_NONFINITE);
    /* a directory, a FIFO, a missing file */
    CHECK(cnn_load("build", &st) == NULL && st == CNN_ERR_NOTFILE);
    remove(bad);
    CHECK(mkfifo(bad, 0600) == 0);
    CHECK(cnn_load(bad, &st) == NULL && st == CNN_ERR_NOTFILE);
    remove(bad);
    CHECK(cnn_load("build/no/such/model", &st) == NULL && st == CNN_ERR_OPEN);
    CHECK(cnn_save(m, "build/no/such/dir/model") == CNN_ERR_WRITE);
    CHECK(strcmp(cnn_status_msg(CNN_ERR_CHECKSUM), "checksum mismatch (corrupt file)") == 0);
    remove(path);
    free(bytes);
    cnn_free(m);
}

/* train.c's optimisers over the cnn's block: L2 reaches conv_w, W1, W2
 * only; Adam moves every parameter with a gradient. */
static void optimisers(void)
{
    cnn_cfg c = small_cfg(CNN_BN_CHANNEL, CNN_PAD_SAME, 1.0);
    cnn *m = cnn_new(&c);
    float *p0 = malloc(m->n_params * 4);
    memcpy(p0, m->params, m->n_params * 4);
    memset(m->grads, 0, m->n_params * 4);
    optim_cfg oc = optim_defaults(OPT_SGD);
    oc.lr = 0.5; oc.l2 = 0.1;
    optim *o = optim_new_cnn(&oc, m);
    optim_step_cnn(o, m);
    size_t iw = (size_t)(m->W1 - m->params) + 5, ib = (size_t)(m->b1 - m->params) + 2;
    size_t ic = (size_t)(m->conv_w - m->params), ig = (size_t)(m->bn_gamma - m->params), i2 = (size_t)(m->W2 - m->params);
    CHECK(m->params[iw] == p0[iw] - 0.5f * (0.1f * p0[iw]));
    CHECK(m->params[ic] == p0[ic] - 0.5f * (0.1f * p0[ic]) && m->params[i2] != p0[i2]);
    CHECK(m->params[ib] == p0[ib] && m->params[ig] == p0[ig] && m->b2[0] == p0[m->b2 - m->params]);
    optim_free(o);
    oc = optim_defaults(OPT_ADAM);
    o = optim_new_cnn(&oc, m);
    for (size_t i = 0; i < m->n_params; i++) m->grads[i] = 1.0f;
    memcpy(p0, m->params, m->n_params * 4);
    optim_step_cnn(o, m);
    int moved = 1;
    for (size_t i = 0; i < m->n_params; i++) moved &= fabsf(m->params[i] - (p0[i] - 0.001f)) < 1e-6f;
    CHECK(moved);
    optim_free(o);
    free(p0);
    cnn_free(m);
}

/* Adam fused into W1's weight-gradient product: the bits of cnn_backward
 * then optim_step_cnn, over a few steps, with and without L2. */
static void fused_adam(double l2)
{
    cnn_cfg c = small_cfg(CNN_BN_CHANNEL, CNN_PAD_SAME, 0.8);
    cnn *a = cnn_new(&c), *b = cnn_new(&c);
    optim_cfg oc = optim_defaults(OPT_ADAM);
    oc.l2 = l2;
    optim *oa = optim_new_cnn(&oc, a), *ob = optim_new_cnn(&oc, b);
    enum { B = 7 };
    float x[B * 128];
    uint8_t y[B];
    rng r; rng_seed(&r, 9);
    for (int step = 0; step < 4; step++) {
        batch(&r, x, y, B, 128, c.classes);
        cnn_forward(a, x, y, B, 1);
        cnn_backward(a);
        optim_step_cnn(oa, a);
        cnn_forward(b, x, y, B, 1);
        optim_backward_step_cnn(ob, b);
    }
    CHECK(same(a->params, b->params, a->n_params));
    CHECK(same(a->dconv_w, b->dconv_w, (size_t)(a->dW1 - a->dconv_w)));
    optim_free(oa); optim_free(ob);
    cnn_free(a); cnn_free(b);
}

/* cnn_new on c in a child: it must stop (abort) with file:line and `want`. */
static void refuses(cnn_cfg c, const char *want)
{
    int fd[2];
    if (pipe(fd) != 0) { CHECK(0); return; }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 2);
        close(fd[0]);
        cnn_new(&c);
        _exit(0);
    }
    close(fd[1]);
    char buf[1024] = {0};
    size_t got = 0;
    ssize_t k;
    while (got < sizeof buf - 1 && (k = read(fd[0], buf + got, sizeof buf - 1 - got)) > 0) got += (size_t)k;
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    CHECK(strstr(buf, "cnn.c:") != NULL && strstr(buf, want) != NULL);
    if (!strstr(buf, want)) printf("  refusal said: %s", buf);
}

int main(void)
{
    conv_shape(3, 8, 8, 1, 3, 1, 4, 1);
    conv_shape(2, 7, 9, 3, 3, 1, 17, 2);
    conv_shape(2, 7, 9, 3, 3, 0, 5, 3);
    conv_shape(1, 6, 5, 2, 5, 1, 33, 4);
    conv_shape(4, 28, 28, 1, 3, 1, 32, 5);     /* the lesson's layer, threaded */
    conv_shape(3, 9, 7, 1, 3, 1, 40, 6);       /* 32 + 8 filters, an odd width */
    conv_shape(2, 5, 6, 2, 1, 0, 67, 7);       /* 1×1, 64 + 3 filters */
    conv_shape(2, 6, 6, 8, 5, 1, 32, 8);       /* 200 terms × 32 filters: past the blocked kernel's buffer */
    conv_shape(1, 2, 3, 1, 3, 1, 8, 9);        /* fewer output rows than threads */
    conv_shape(6, 12, 11, 3, 3, 1, 45, 10);    /* threaded: 45 filters in blocks of 8 (the last 5 one by one) */
    conv_shape(8, 10, 10, 2, 3, 0, 24, 11);    /* threaded, VALID, 24 filters */
    pool_shape(3, 7, 9, 5, 2, 1);
    pool_shape(2, 8, 8, 32, 2, 2);
    pool_shape(4, 9, 10, 19, 3, 3);
    pool_shape(1, 5, 5, 8, 1, 4);
    pool_shape(5, 4, 6, 35, 2, 5);
    bn_shape(40, 21, 1, 1);
    bn_shape(3 * 28 * 28, 32, 1, 2);           /* per channel */
    bn_shape(32, 14 * 14 * 8 + 3, 0, 3);       /* per feature: several chunks of columns, a ragged end */
    bn_shape(1, 37, 1, 4);
    bn_shape(7, 3, 0, 5);
    bn_pool_shape(3, 28, 28, 32, 2, 1);        /* the network's, at a small batch */
    bn_pool_shape(2, 7, 9, 5, 2, 2);
    bn_pool_shape(3, 8, 7, 40, 3, 3);          /* 16 + 16 + 8 channels, remainder rows and columns */
    bn_pool_shape(1, 4, 4, 19, 1, 4);
    bn_pool_shape(2, 6, 6, 48, 2, 5);          /* 16 + 16 + 16 channels */
    pool_and_bn();
    gradcheck(CNN_BN_NONE, CNN_PAD_SAME, 1.0);
    gradcheck(CNN_BN_FEATURE, CNN_PAD_SAME, 1.0);
    gradcheck(CNN_BN_CHANNEL, CNN_PAD_SAME, 1.0);
    gradcheck(CNN_BN_CHANNEL, CNN_PAD_VALID, 0.7);
    threads_same();
    save_load();
    optimisers();
    fused_adam(0.0);
    fused_adam(1e-3);
    cnn_cfg c = small_cfg(CNN_BN_NONE, CNN_PAD_VALID, 1.0);
    c.ksize = 9;
    refuses(c, "kernel 9×9×2 is larger than the input 8×8×2");
    c = small_cfg(CNN_BN_NONE, CNN_PAD_VALID, 1.0);
    c.pool = 7;
    refuses(c, "pool 7×7 does not fit the conv output 6×6×4");
    c = small_cfg(CNN_BN_NONE, CNN_PAD_SAME, 1.0);
    c.C_in = 0;
    refuses(c, "input 8×8×0");
    return check_report("test_cnn");
}
