/* test_kernels.c — the fast products against the naive triple loops, bit
 * for bit, on odd shapes; 1 vs 2 threads; the portable vs the vector kernel
 * (via the naive loops: both must equal them); activations and their
 * derivatives against central differences; softmax + CE against doubles. */
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "check.h"
#include "kernels.h"
#include "rng.h"

static float *rnd(rng *r, size_t n, double zero_frac)
{
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = rng_uniform(r) < zero_frac ? 0.0f : (float)rng_range(r, -1.0, 1.0);
    return p;
}

/* OpenMP's thread count set to nt; returns the one before */
static int threads_use(int nt)
{
#ifdef _OPENMP
    int saved = omp_get_max_threads();
    omp_set_num_threads(nt);
    return saved;
#else
    (void)nt;
    return 1;
#endif
}
static void threads_restore(int saved)
{
#ifdef _OPENMP
    omp_set_num_threads(saved);
#else
    (void)saved;
#endif
}

static int same(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

/* forward, weight gradient (plain and fused SGD), input gradient vs naive. */
static void shape(int B, int D, int H, double zf, uint64_t seed)
{
    rng r; rng_seed(&r, seed);
    float *x = rnd(&r, (size_t)B * D, zf), *w = rnd(&r, (size_t)D * H, 0), *bias = rnd(&r, (size_t)H, 0);
    float *g = rnd(&r, (size_t)B * H, 0.1);
    float *out = malloc(sizeof(float) * B * H), *ref = malloc(sizeof(float) * B * H);
    float *z = malloc(sizeof(float) * B * H);
    /* forward, identity and sigmoid, with bias */
    matmul_forward_naive(ref, x, w, B, D, H);
    for (int i = 0; i < B * H; i++) ref[i] += bias[i % H];
    matmul_forward(out, z, x, w, bias, B, D, H, ACT_IDENTITY);
    CHECK(same(out, ref, (size_t)B * H));
    CHECK(same(z, ref, (size_t)B * H));
    act_forward(ref, ref, (size_t)B * H, ACT_SIGMOID);
    matmul_forward(out, NULL, x, w, bias, B, D, H, ACT_SIGMOID);
    CHECK(same(out, ref, (size_t)B * H));
    /* weight gradient: dw += x^T g */
    float *dw = rnd(&r, (size_t)D * H, 0), *dw2 = malloc(sizeof(float) * D * H);
    memcpy(dw2, dw, sizeof(float) * D * H);
    float *db = calloc((size_t)H, sizeof *db), *db2 = calloc((size_t)H, sizeof *db2);
    matmul_backward_weight_naive(dw2, x, g, B, D, H);
    for (int h = 0; h < H; h++) { float acc = 0; for (int b = 0; b < B; b++) acc += g[b * H + h]; db2[h] += acc; }
    matmul_backward_weight(dw, db, x, g, B, D, H);
    CHECK(same(dw, dw2, (size_t)D * H));
    CHECK(same(db, db2, (size_t)H));
    /* fused SGD = zero grad, backward, w -= lr·dw */
    float lr = 0.1f;
    float *w1 = malloc(sizeof(float) * D * H), *w2 = malloc(sizeof(float) * D * H);
    float *b1 = malloc(sizeof(float) * H), *b2 = malloc(sizeof(float) * H);
    memcpy(w1, w, sizeof(float) * D * H); memcpy(w2, w, sizeof(float) * D * H);
    memcpy(b1, bias, sizeof(float) * H); memcpy(b2, bias, sizeof(float) * H);
    memset(dw, 0, sizeof(float) * D * H); memset(db, 0, sizeof(float) * H);
    matmul_backward_weight(dw, db, x, g, B, D, H);
    for (int i = 0; i < D * H; i++) w2[i] -= lr * dw[i];
    for (int i = 0; i < H; i++) b2[i] -= lr * db[i];
    matmul_backward_weight_sgd(w1, b1, x, g, B, D, H, lr);
    CHECK(same(w1, w2, (size_t)D * H));
    CHECK(same(b1, b2, (size_t)H));
    /* input gradient: dx = g w^T */
    float *dx = malloc(sizeof(float) * B * D), *dx2 = malloc(sizeof(float) * B * D);
    matmul_backward_input_naive(dx2, g, w, B, D, H);
    matmul_backward_input(dx, g, w, B, D, H);
    CHECK(same(dx, dx2, (size_t)B * D));
    free(x); free(w); free(bias); free(g); free(out); free(ref); free(z);
    free(dw); free(dw2); free(db); free(db2); free(w1); free(w2); free(b1); free(b2);
    free(dx); free(dx2);
}

/* The same products at 1, 2 and 3 threads, bit for bit. */
static void threads(void)
{
#ifdef _OPENMP
    int B = 100, D = 784, H = 300;
    rng r; rng_seed(&r, 7);
    float *x = rnd(&r, (size_t)B * D, 0.8), *w = rnd(&r, (size_t)D * H, 0), *g = rnd(&r, (size_t)B * H, 0);
    float *o1 = malloc(sizeof(float) * B * H), *o2 = malloc(sizeof(float) * B * H);
    float *w1 = malloc(sizeof(float) * D * H), *w2 = malloc(sizeof(float) * D * H);
    float *d1 = malloc(sizeof(float) * B * D), *d2 = malloc(sizeof(float) * B * D);
    int saved = omp_get_max_threads();
    memcpy(w1, w, sizeof(float) * D * H); memcpy(w2, w, sizeof(float) * D * H);
    omp_set_num_threads(1);
    matmul_forward(o1, NULL, x, w, NULL, B, D, H, ACT_TANH);
    matmul_backward_weight_sgd(w1, NULL, x, g, B, D, H, 0.5f);
    matmul_backward_input(d1, g, w, B, D, H);
    omp_set_num_threads(2);
    matmul_forward(o2, NULL, x, w, NULL, B, D, H, ACT_TANH);
    matmul_backward_weight_sgd(w2, NULL, x, g, B, D, H, 0.5f);
    matmul_backward_input(d2, g, w, B, D, H);
    CHECK(same(o1, o2, (size_t)B * H));
    CHECK(same(w1, w2, (size_t)D * H));
    CHECK(same(d1, d2, (size_t)B * D));
    omp_set_num_threads(3);               /* an odd split of every range */
    memcpy(w2, w, sizeof(float) * D * H);
    matmul_forward(o2, NULL, x, w, NULL, B, D, H, ACT_TANH);
    matmul_backward_weight_sgd(w2, NULL, x, g, B, D, H, 0.5f);
    matmul_backward_input(d2, g, w, B, D, H);
    omp_set_num_threads(saved);
    CHECK(same(o1, o2, (size_t)B * H));
    CHECK(same(w1, w2, (size_t)D * H));
    CHECK(same(d1, d2, (size_t)B * D));
    free(x); free(w); free(g); free(o1); free(o2); free(w1); free(w2); free(d1); free(d2);
#endif
}

/* The weight-gradient products (plain, fused SGD, fused Adam) against the
 * naive loop and a scalar Adam, at 1, 2 and 3 threads: shapes on both
 * sides of the row-block order's limits (K ≤ 256, its copy of dout ≤ 64K
 * floats), tall and narrow, K = 1, edges of MR, NR everywhere, Adam with
 * and without weight decay. */
static void scalar_adam(float *w, const float *g, float *v, float *s, size_t n, const adam_step *a)
{
    for (size_t i = 0; i < n; i++) {
        float gi = a->lam != 0.0f ? g[i] + a->lam * w[i] : g[i];
        v[i] = a->b1 * v[i] + (1.0f - a->b1) * gi;
        s[i] = a->b2 * s[i] + (1.0f - a->b2) * gi * gi;
        w[i] -= a->lr_t * v[i] / (sqrtf(s[i]) + a->eps);
    }
}

static void wgrad_shape(int B, int D, int H, double zf, uint64_t seed)
{
    rng r; rng_seed(&r, seed);
    size_t nw = (size_t)D * H;
    float *x = rnd(&r, (size_t)B * D, zf), *g = rnd(&r, (size_t)B * H, 0.1), *w = rnd(&r, nw, 0);
    float *v = rnd(&r, nw, 0), *s = rnd(&r, nw, 0);
    for (size_t i = 0; i < nw; i++) s[i] = s[i] * s[i];           /* second moments ≥ 0 */
    float *dw = calloc(nw, sizeof *dw), *want = malloc(nw * sizeof *want), *got = malloc(nw * sizeof *got);
    float *vw = malloc(nw * sizeof *vw), *sw = malloc(nw * sizeof *sw), *vg = malloc(nw * sizeof *vg), *sg = malloc(nw * sizeof *sg);
    matmul_backward_weight_naive(dw, x, g, B, D, H);               /* dw = 0 + x^T g */
    float *din = malloc(sizeof(float) * B * D), *dref = malloc(sizeof(float) * B * D);
    matmul_backward_input_naive(dref, g, w, B, D, H);              /* with w before any step */
#ifdef _OPENMP
    int saved = omp_get_max_threads();
#endif
    for (int nt = 1; nt <= 3; nt++) {
#ifdef _OPENMP
        omp_set_num_threads(nt);
#endif
        /* dw += x^T g onto w's values */
        memcpy(got, w, nw * sizeof *got);
        matmul_backward_weight(got, NULL, x, g, B, D, H);
        for (size_t i = 0; i < nw; i++) want[i] = w[i] + dw[i];
        int ok = 1;
        for (size_t i = 0; i < nw; i++) ok &= got[i] == want[i];  /* (no ±0 at stake: w ≠ 0) */
        CHECK(ok);
        /* w −= lr·(x^T g) */
        memcpy(got, w, nw * sizeof *got);
        matmul_backward_weight_sgd(got, NULL, x, g, B, D, H, 0.25f);
        for (size_t i = 0; i < nw; i++) want[i] = w[i] - 0.25f * dw[i];
        CHECK(same(got, want, nw));
        for (int decay = 0; decay < 2; decay++) {
            adam_step a = {vw, sw, 0.9f, 0.999f, 1e-3f, 1e-8f, decay ? 0.01f : 0.0f};
            memcpy(want, w, nw * sizeof *want); memcpy(vw, v, nw * sizeof *vw); memcpy(sw, s, nw * sizeof *sw);
            scalar_adam(want, dw, vw, sw, nw, &a);
            memcpy(got, w, nw * sizeof *got); memcpy(vg, v, nw * sizeof *vg); memcpy(sg, s, nw * sizeof *sg);
            a.v = vg; a.s = sg;
            matmul_backward_weight_adam(got, x, g, B, D, H, &a);
            CHECK(same(got, want, nw) && same(vg, vw, nw) && same(sg, sw, nw));
            /* both backward products in one pass: the input gradient with
             * the weights before the step, then the same step */
            memcpy(got, w, nw * sizeof *got); memcpy(vg, v, nw * sizeof *vg); memcpy(sg, s, nw * sizeof *sg);
            for (size_t i = 0; i < (size_t)B * D; i++) din[i] = NAN;
            matmul_backward_input_weight_adam(din, got, x, g, B, D, H, &a);
            CHECK(same(got, want, nw) && same(vg, vw, nw) && same(sg, sw, nw));
            CHECK(same(din, dref, (size_t)B * D));
        }
    }
#ifdef _OPENMP
    omp_set_num_threads(saved);
#endif
    free(x); free(g); free(w); free(v); free(s); free(dw); free(want); free(got);
    free(vw); free(sw); free(vg); free(sg); free(din); free(dref);
}

/* The forward's grouped panels (pack_bg: groups of up to 8 panels of 16
 * columns, the last group short or with a partial panel, rows prefetched
 * ahead up to the end of K, inputs dropped or not) and the input gradient
 * as its transpose (igrad_rows: w read in place, the last row block of w
 * short) against the naive loops at 1, 2 and 3 threads; the forward of a
 * narrow w in row-block order (gemm_rows, w's copy ≤ 64K floats) and just
 * past it; the input gradient past igrad_rows's limit (doutᵀ's copy past
 * 64K floats), in the panel order. */
static void product_paths(int B, int D, int H, double zf, uint64_t seed)
{
    rng r; rng_seed(&r, seed);
    float *x = rnd(&r, (size_t)B * D, zf), *w = rnd(&r, (size_t)D * H, 0), *g = rnd(&r, (size_t)B * H, 0.1);
    float *out = malloc(sizeof(float) * B * H), *ref = malloc(sizeof(float) * B * H);
    float *din = malloc(sizeof(float) * B * D), *dref = malloc(sizeof(float) * B * D);
    matmul_forward_naive(ref, x, w, B, D, H);
    matmul_backward_input_naive(dref, g, w, B, D, H);
    /* the δ below through a dropout mask and sigmoid′ (from y), and through
     * the scaled tanh with its linear term (from the pre-activation x) */
    size_t nd = (size_t)B * D;
    float *zin = rnd(&r, nd, 0), *yin = malloc(sizeof(float) * nd), *mask = rnd(&r, nd, 0.5);
    float *dsig = malloc(sizeof(float) * nd), *dlin = malloc(sizeof(float) * nd);
    act_forward(yin, zin, nd, ACT_SIGMOID);
    for (size_t i = 0; i < nd; i++) { mask[i] = mask[i] != 0.0f ? 2.0f : 0.0f; dsig[i] = dref[i] * mask[i]; }
    act_backward(dsig, dsig, zin, yin, nd, ACT_SIGMOID);
    act_backward(dlin, dref, zin, NULL, nd, ACT_STANH_LIN);
#ifdef _OPENMP
    int saved = omp_get_max_threads();
#endif
    for (int nt = 1; nt <= 3; nt++) {
#ifdef _OPENMP
        omp_set_num_threads(nt);
#endif
        matmul_forward(out, NULL, x, w, NULL, B, D, H, ACT_IDENTITY);
        CHECK(same(out, ref, (size_t)B * H));
        matmul_backward_input(din, g, w, B, D, H);
        CHECK(same(din, dref, (size_t)B * D));
        matmul_backward_input_act(din, g, w, B, D, H, mask, zin, yin, ACT_SIGMOID);
        CHECK(same(din, dsig, nd));
        matmul_backward_input_act(din, g, w, B, D, H, NULL, zin, NULL, ACT_STANH_LIN);
        CHECK(same(din, dlin, nd));
    }
#ifdef _OPENMP
    omp_set_num_threads(saved);
#endif
    free(x); free(w); free(g); free(out); free(ref); free(din); free(dref);
    free(zin); free(yin); free(mask); free(dsig); free(dlin);
}

/* Inputs that are zero in every row are dropped from the sums; that keeps
 * the bits only for finite partners (0·∞ is NaN), so the products must not
 * drop them next to an infinity: then the results are the naive loop's. */
static void nonfinite(int B, int D, int H, int nt)
{
    int saved = threads_use(nt);
    rng r; rng_seed(&r, 11);
    float *x = rnd(&r, (size_t)B * D, 0), *w = rnd(&r, (size_t)D * H, 0), *g = rnd(&r, (size_t)B * H, 0);
    float *o1 = malloc(sizeof(float) * B * H), *o2 = malloc(sizeof(float) * B * H);
    float *w1 = malloc(sizeof(float) * D * H), *w2 = malloc(sizeof(float) * D * H), *dw = calloc((size_t)D * H, sizeof *dw);
    int z1 = 3, z2 = D - 23;     /* inputs zero everywhere; z2 in the last thread's rows of w */
    for (int b = 0; b < B; b++) x[b * D + z1] = x[b * D + z2] = 0.0f;
    w[z2 * H + 5] = INFINITY;                                           /* ∞ in a row the forward could drop */
    int eq = 1;
    if (B >= 6) {       /* (kernels.h: the per-sample forward, B < 6, drops zero inputs whatever w holds) */
        matmul_forward_naive(o2, x, w, B, D, H);
        matmul_forward(o1, NULL, x, w, NULL, B, D, H, ACT_IDENTITY);
        CHECK(isnan(o1[5]) && isnan(o2[5]));
        for (int i = 0; i < B * H; i++) eq &= (isnan(o1[i]) && isnan(o2[i])) || o1[i] == o2[i];
        CHECK(eq);
    }
    w[z2 * H + 5] = 0.5f;
    g[(B - 2) * H + 7] = NAN;                                            /* NaN in dout: 0·NaN rows too */
    memcpy(w1, w, sizeof(float) * D * H); memcpy(w2, w, sizeof(float) * D * H);
    matmul_backward_weight_naive(dw, x, g, B, D, H);
    for (int i = 0; i < D * H; i++) w2[i] -= 0.1f * dw[i];
    matmul_backward_weight_sgd(w1, NULL, x, g, B, D, H, 0.1f);
    CHECK(isnan(w1[z1 * H + 7]) && isnan(w2[z1 * H + 7]));
    eq = 1;
    for (int i = 0; i < D * H; i++) eq &= (isnan(w1[i]) && isnan(w2[i])) || w1[i] == w2[i];
    CHECK(eq);
    free(x); free(w); free(g); free(o1); free(o2); free(w1); free(w2); free(dw);
    threads_restore(saved);
}

/* matmul_nonzero_cols against a plain scan (−0 counts as zero, NaN and
 * subnormals as non-zero), at 1-3 threads (the rows split between them);
 * the _cols products against the plain ones, bit for bit. */
static void nonzero_columns(int B, int D, int H, int nt, uint64_t seed)
{
    int saved = threads_use(nt);
    rng r; rng_seed(&r, seed);
    float *x = rnd(&r, (size_t)B * D, 0.9);
    for (int d = 0; d < D; d += 3)                 /* columns zero in every row but, at times, one */
        for (int b = 0; b < B; b++) x[(size_t)b * D + d] = (d / 3) % 4 == 1 && b == (d * 7) % B ? 0.25f : 0.0f;
    if (D > 5) for (int b = 0; b < B; b++) x[(size_t)b * D + 5] = -0.0f;          /* −0: zero */
    if (D > 9) x[(size_t)(B - 1) * D + 9] = NAN;                                   /* NaN: not */
    if (D > 12) x[(size_t)(B / 2) * D + 12] = 1e-40f;                               /* subnormal: not */
    int *want = malloc(sizeof(int) * (D + 1)), *got = malloc(sizeof(int) * (D + 1)), nw = 0;
    for (int d = 0; d < D; d++) {
        int nz = 0;
        for (int b = 0; b < B; b++) nz |= x[(size_t)b * D + d] != 0.0f;
        if (nz) want[nw++] = d;
    }
    int ng = matmul_nonzero_cols(got, x, B, D);
    CHECK(ng == nw && memcmp(got, want, sizeof(int) * nw) == 0);
    /* the products given the list: the bits of those that find it */
    float *w = rnd(&r, (size_t)D * H, 0), *bias = rnd(&r, (size_t)H, 0), *g = rnd(&r, (size_t)B * H, 0.1);
    if (D > 9) for (int b = 0; b < B; b++) x[(size_t)b * D + 9] = 0.5f;         /* (finite products) */
    ng = matmul_nonzero_cols(got, x, B, D);
    size_t no = (size_t)B * H, nwt = (size_t)D * H;
    float *o1 = malloc(sizeof(float) * no), *o2 = malloc(sizeof(float) * no);
    float *w1 = malloc(sizeof(float) * nwt), *w2 = malloc(sizeof(float) * nwt);
    float *b1 = malloc(sizeof(float) * H), *b2 = malloc(sizeof(float) * H);
    matmul_forward(o1, NULL, x, w, bias, B, D, H, ACT_SIGMOID);
    matmul_forward_cols(o2, NULL, x, w, bias, B, D, H, ACT_SIGMOID, got, ng);
    CHECK(same(o1, o2, no));
    for (int sgd = 0; sgd <= 1; sgd++) {
        memcpy(w1, w, sizeof(float) * nwt); memcpy(w2, w, sizeof(float) * nwt);
        memcpy(b1, bias, sizeof(float) * H); memcpy(b2, bias, sizeof(float) * H);
        if (sgd) {
            matmul_backward_weight_sgd(w1, b1, x, g, B, D, H, 0.1f);
            matmul_backward_weight_sgd_cols(w2, b2, x, g, B, D, H, 0.1f, got, ng);
        } else {
            matmul_backward_weight(w1, b1, x, g, B, D, H);
            matmul_backward_weight_cols(w2, b2, x, g, B, D, H, got, ng);
        }
        CHECK(same(w1, w2, nwt) && same(b1, b2, (size_t)H));
    }
    free(x); free(want); free(got); free(w); free(bias); free(g);
    free(o1); free(o2); free(w1); free(w2); free(b1); free(b2);
    threads_restore(saved);
}

/* matmul_backward_weight_first against zeroing dw, matmul_backward_weight,
 * then first_step_apply: each kind (RMSprop too), with and without L2,
 * the row-block path with rows skipped, the panel path, under one row
 * block, an empty batch, a NaN in dout (no row skipped), the columns given
 * or found. */
static int same_or_nan(const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(a[i] == b[i] || (isnan(a[i]) && isnan(b[i])))) return 0;
    return 1;
}
static void first_steps(int B, int D, int H, double zf, int nan_at, int nt, uint64_t seed)
{
    int saved = threads_use(nt);
    rng r; rng_seed(&r, seed);
    size_t nw = (size_t)D * H;
    float *x = rnd(&r, (size_t)B * D + 1, zf), *g = rnd(&r, (size_t)B * H + 1, 0.1);
    for (int b = 0; b < B; b++) x[(size_t)b * D + D / 2] = 0.0f;     /* a column zero in every row */
    if (nan_at >= 0) g[nan_at] = NAN;
    float *w0 = rnd(&r, nw, 0), *v0 = rnd(&r, nw, 0), *dw = malloc(nw * sizeof *dw);
    float *w1 = malloc(nw * sizeof *w1), *w2 = malloc(nw * sizeof *w2);
    float *v1 = malloc(nw * sizeof *v1), *v2 = malloc(nw * sizeof *v2);
    int *cols = malloc(sizeof(int) * (D + 1));
    const first_kind kinds[] = {STEP_SGD, STEP_MOMENTUM, STEP_CLASSICAL, STEP_RMSPROP};
    for (int k = 0; k < 4; k++)
        for (int l2 = 0; l2 < 2; l2++)
            for (int given = 0; given < 2; given++) {
                memcpy(w1, w0, nw * sizeof *w1); memcpy(w2, w0, nw * sizeof *w2);
                memcpy(v1, v0, nw * sizeof *v1);
                if (kinds[k] == STEP_RMSPROP)       /* a mean of squares */
                    for (size_t i = 0; i < nw; i++) v1[i] = fabsf(v0[i]);
                memcpy(v2, v1, nw * sizeof *v2);
                first_step s1 = {kinds[k], kinds[k] == STEP_SGD ? NULL : v1, 0.05f, 0.9f, l2 ? 0.01f : 0.0f,
                                 0.9f, 1e-7f};
                first_step s2 = s1;
                if (s2.v) s2.v = v2;
                memset(dw, 0, nw * sizeof *dw);
                matmul_backward_weight(dw, NULL, x, g, B, D, H);
                first_step_apply(w1, dw, nw, &s1);
                int nc = given ? matmul_nonzero_cols(cols, x, B, D) : 0;
                matmul_backward_weight_first(w2, x, g, B, D, H, &s2, given ? cols : NULL, nc);
                CHECK(same_or_nan(w1, w2, nw) && (!s1.v || same_or_nan(v1, v2, nw)));
            }
    free(x); free(g); free(w0); free(v0); free(dw); free(w1); free(w2); free(v1); free(v2); free(cols);
    threads_restore(saved);
}

/* The steps of first_step_apply (the ISA's twins: vector loop and tail)
 * = kernels.h's formulas one weight at a time, bit for bit: every kind,
 * with and without L2, at every offset and length mod 16. */
static void step_formulas(void)
{
    enum { N = 103 };
    rng r; rng_seed(&r, 31);
    float w0[N], g[N], v0[N], w[N], v[N], wr[N], vr[N];
    for (int i = 0; i < N; i++) {
        w0[i] = (float)rng_range(&r, -1.0, 1.0); g[i] = (float)rng_range(&r, -0.1, 0.1);
        v0[i] = (float)rng_uniform(&r) * 1e-3f;    /* ≥ 0: RMSprop's mean of squares */
    }
    g[7] = 0.0f; v0[7] = 0.0f;                          /* RMSprop: 0 / (0 + ε) */
    const float lr = 0.001f, mu = 0.9f, rho = 0.9f, eps = 1e-7f;
    const first_kind kinds[] = {STEP_SGD, STEP_MOMENTUM, STEP_CLASSICAL, STEP_RMSPROP};
    for (int k = 0; k < 4; k++) {
        int same = 1;
        for (int l2 = 0; l2 < 2; l2++)
            for (int off = 0; off < 3; off++)
                for (int n = 0; off + n <= N; n += 13) {
                    float lam = l2 ? 0.01f : 0.0f;
                    memcpy(w, w0, sizeof w); memcpy(v, v0, sizeof v);
                    memcpy(wr, w0, sizeof wr); memcpy(vr, v0, sizeof vr);
                    first_step s = {kinds[k], v + off, lr, mu, lam, rho, eps};
                    first_step_apply(w + off, g + off, (size_t)n, &s);
                    for (int i = off; i < off + n; i++) {
                        float gi = l2 ? g[i] + lam * wr[i] : g[i];
                        switch (kinds[k]) {
                        case STEP_SGD: wr[i] -= lr * gi; break;
                        case STEP_MOMENTUM: vr[i] = gi + mu * vr[i]; wr[i] -= lr * vr[i]; break;
                        case STEP_CLASSICAL: vr[i] = mu * vr[i] - lr * gi; wr[i] += vr[i]; break;
                        case STEP_RMSPROP:
                            vr[i] = rho * vr[i] + (1.0f - rho) * gi * gi;
                            wr[i] -= lr * gi / (sqrtf(vr[i]) + eps);
                            break;
                        }
                    }
                    same &= memcmp(w, wr, sizeof w) == 0 && memcmp(v, vr, sizeof v) == 0;
                }
        CHECK(same);
    }
}

/* f′ from act_backward against central differences of act_forward (double). */
static void activations(void)
{
    const float xs[] = {-2.5f, -0.7f, -0.1f, 0.3f, 1.2f, 3.0f};
    for (int a = 0; a < ACT_COUNT; a++) {
        CHECK(act_parse(act_name(a)) == a);
        for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
            float x = xs[i], y, one = 1.0f, d;
            act_forward(&y, &x, 1, a);
            act_backward(&d, &one, &x, &y, 1, a);
            float xp = x + 1e-2f, xm = x - 1e-2f, yp, ym;
            act_forward(&yp, &xp, 1, a); act_forward(&ym, &xm, 1, a);
            CHECK_NEAR(d, (yp - ym) / (xp - xm), 2e-3);
        }
    }
    CHECK(act_parse("nope") == -1);
    /* f′ of the sigmoid and tanh, four at a time and the tail, = the
     * scalar formulas bit for bit */
    {
        enum { NB = 103 };
        float yb[NB], gb[NB], db[NB];
        rng r; rng_seed(&r, 21);
        for (int i = 0; i < NB; i++) { yb[i] = (float)rng_uniform(&r); gb[i] = (float)rng_range(&r, -2.0, 2.0); }
        act_backward(db, gb, NULL, yb, NB, ACT_SIGMOID);
        int eqs = 1, eqt = 1;
        for (int i = 0; i < NB; i++) { float w = gb[i] * (yb[i] * (1.0f - yb[i])); eqs &= memcmp(&w, &db[i], sizeof w) == 0; }
        memcpy(db, gb, sizeof db);
        act_backward(db, db, NULL, yb, NB, ACT_TANH);   /* in place */
        for (int i = 0; i < NB; i++) { float w = gb[i] * (1.0f - yb[i] * yb[i]); eqt &= memcmp(&w, &db[i], sizeof w) == 0; }
        CHECK(eqs);
        CHECK(eqt);
    }
    /* ReLU and its f′, four at a time and the tail, = the scalar formulas
     * bit for bit, −0, NaN and the infinities included (x where x > 0,
     * else +0; dy where y > 0, else +0) */
    {
        const float rx[] = {-1.0f, 2.0f, -0.0f, 0.0f, NAN, -NAN, INFINITY, -INFINITY, 1e-45f, -1e-45f,
                            3.5f, -2.5f, 7.0f};
        enum { NR_ = sizeof rx / sizeof *rx };
        float ry[NR_], rd[NR_], rg[NR_];
        for (int i = 0; i < NR_; i++) rg[i] = i % 3 ? -0.5f * (float)i : -0.0f;
        act_forward(ry, rx, NR_, ACT_RELU);
        act_backward(rd, rg, NULL, ry, NR_, ACT_RELU);
        int eqf = 1, eqb = 1;
        for (int i = 0; i < NR_; i++) {
            float wf = rx[i] > 0.0f ? rx[i] : 0.0f, wb = wf > 0.0f ? rg[i] : 0.0f;
            eqf &= memcmp(&wf, &ry[i], sizeof wf) == 0;
            eqb &= memcmp(&wb, &rd[i], sizeof wb) == 0;
        }
        CHECK(eqf);
        CHECK(eqb);
    }
    /* the sigmoid: eight or sixteen at a time (AVX2, AVX-512) = one at a
     * time (the scalar copy), bit for bit, over a wide range, a quarter of
     * a million random bit patterns and the special values; and e^x within
     * an ulp of libm's (both round a close double) */
    enum { NS = 4001 + (1 << 18) };
    static float sx[NS], sy[NS];
    for (int i = 0; i < 4001; i++) sx[i] = (float)(-120.0 + 240.0 * i / 4000);
    rng sr; rng_seed(&sr, 23);
    for (int i = 4001; i < NS; i++) {
        uint32_t b = (uint32_t)rng_next(&sr);
        if (i % 2) b = (b & 0x807fffffu) | (uint32_t)(119 + (b >> 23) % 16) << 23;   /* |x| in [2^-8, 2^8) */
        memcpy(&sx[i], &b, sizeof b);
    }
    sx[0] = INFINITY; sx[1] = -INFINITY; sx[2] = NAN; sx[3] = -0.0f; sx[4] = 88.5f; sx[5] = -89.0f;
    act_forward(sy, sx, NS, ACT_SIGMOID);
    int eq = 1, close = 1;
    for (int i = 0; i < NS; i++) {
        float one;
        act_forward(&one, &sx[i], 1, ACT_SIGMOID);
        eq &= memcmp(&one, &sy[i], sizeof one) == 0;
        float want = 1.0f / (1.0f + expf(-sx[i]));
        close &= isnan(sx[i]) ? isnan(sy[i]) : fabsf(sy[i] - want) <= 1.2e-7f * fabsf(want) + 1e-45f;
    }
    CHECK(eq);
    CHECK(close);
    /* our tanh (kernels_tanh_f) within 0.51 ulp of the double tanh, over
     * every float in [2^-12, 2^4) a stride apart and the branch's edge at
     * 1/4, odd, with its special values; and what the activations use */
    {
        int odd = 1, used = 1;
        double worst = 0.0;
        for (uint32_t b = 0x39800000u; b < 0x41800000u; b += 97) {
            float t, f = 0.0f;
            memcpy(&t, &b, sizeof t);
            for (int k = 0; k < 2; k++) {
                f = k ? nextafterf(0.25f, (float)b) : t;
                float y = kernels_tanh_f(f), m = kernels_tanh_f(-f);
                double want = tanh((double)f);
                float u = nextafterf((float)want, INFINITY) - (float)want;
                double e = fabs((double)y - want) / u;
                if (e > worst) worst = e;
                odd &= memcmp(&(float){-y}, &m, sizeof m) == 0;
            }
            float ya, yb = kernels_tanh_f(t);
            act_forward(&ya, &t, 1, ACT_TANH);
            used &= memcmp(&ya, &yb, sizeof ya) == 0;
        }
        CHECK(worst <= 0.51);
        CHECK(odd);
        CHECK(used);
        float sp[] = {0.0f, -0.0f, INFINITY, -INFINITY, 9.1f, -30.0f, 1e-30f, -1e-45f};
        float sw[] = {0.0f, -0.0f, 1.0f, -1.0f, 1.0f, -1.0f, 1e-30f, -1e-45f};
        int spec = isnan(kernels_tanh_f(NAN));
        for (size_t i = 0; i < sizeof sp / sizeof *sp; i++) {
            float y = kernels_tanh_f(sp[i]);
            spec &= memcmp(&y, &sw[i], sizeof y) == 0;
        }
        CHECK(spec);
    }
    float x = 0.5f, y;
    act_forward(&y, &x, 1, ACT_STANH);
    CHECK_NEAR(y, 1.7159 * tanh(1.0 / 3.0), 1e-6);
}

static void softmax(void)
{
    const float o[6] = {1.0f, 2.0f, 0.5f, -1.0f, 0.0f, 3.0f};
    const uint8_t t[2] = {1, 0};
    float p[6], g[6];
    int right = -1;
    double loss = softmax_ce_forward(p, g, o, t, 2, 3, 0.5f, &right);
    double want = 0.0;
    for (int r = 0; r < 2; r++) {
        double s = 0; for (int k = 0; k < 3; k++) s += exp(o[r * 3 + k]);
        want += -log(exp(o[r * 3 + t[r]]) / s);
        for (int k = 0; k < 3; k++) {
            double y = exp(o[r * 3 + k]) / s;
            CHECK_NEAR(p[r * 3 + k], y, 1e-7);
            CHECK_NEAR(g[r * 3 + k], 0.5 * (y - (k == t[r])), 1e-7);
        }
    }
    CHECK_NEAR(loss, want, 1e-6);
    CHECK(right == 1);      /* row 0 argmax 1 = label; row 1 argmax 2 ≠ 0 */
}

int main(int argc, char **argv)
{
    /* --isa: the instruction set the kernels chose, for test_isa.sh */
    if (argc == 2 && strcmp(argv[1], "--isa") == 0) { printf("%s\n", kernels_isa()); return 0; }
    if (argc > 1) { fprintf(stderr, "test_kernels: unknown argument %s (only --isa)\n", argv[1]); return 2; }
    shape(1, 1, 1, 0, 1);
    shape(7, 13, 5, 0.3, 2);
    shape(13, 7, 13, 0.3, 3);
    shape(1, 784, 300, 0.8, 4);       /* per-sample path */
    shape(3, 50, 21, 0.5, 5);
    shape(100, 784, 300, 0.8, 6);
    shape(100, 300, 10, 0, 7);
    shape(61, 600, 37, 0.5, 8);       /* several k blocks, edges everywhere */
    threads();
    wgrad_shape(6, 1, 1, 0, 9);           /* one row, one column */
    wgrad_shape(7, 5, 17, 0.3, 10);
    wgrad_shape(13, 61, 33, 0.4, 11);     /* row blocks of 6 split 1/2/3 ways */
    wgrad_shape(32, 6272 / 16, 784 / 4, 0.3, 12);   /* the CNN's FC1 shape, scaled down */
    wgrad_shape(100, 97, 300, 0.8, 13);   /* MNIST-like: many rows dropped */
    wgrad_shape(256, 20, 41, 0.2, 14);    /* K = 256: the largest row-block K */
    wgrad_shape(257, 20, 41, 0.2, 15);    /* K = 257: the panel order */
    wgrad_shape(200, 31, 400, 0.2, 16);   /* dout's copy past 64K floats: the panel order */
    wgrad_shape(1, 40, 30, 0, 17);        /* K = 1 (the per-sample rows) */
    for (int b = 1; b <= 40; b++)          /* K past one and two k blocks, 9…24 panels, partial or not */
        product_paths(b, 250 + 7 * b, 144 + (b % 3 ? b * 6 % 17 : 0) + (b % 4 == 0) * 160, b % 2 ? 0.3 : 0, 100 + b);
    product_paths(32, 6272 / 8, 784 / 2, 0.2, 141);   /* the CNN's FC1, scaled down */
    product_paths(64, 31, 101, 0, 142);
    product_paths(100, 31, 101, 0, 143);             /* 7 panels of batch rows, the last partial */
    product_paths(32, 7, 2049, 0, 144);              /* doutᵀ's copy 2049·32 > 64K floats: the panel order */
    product_paths(37, 300, 10, 0.3, 146);            /* the output layer's forward: row-block order */
    product_paths(37, 300, 10, 0, 152);              /* … with no zero input: A's rows read in place */
    product_paths(100, 300, 10, 0, 153);             /* the MLP's output layer, whole row blocks */
    product_paths(5, 300, 10, 0, 154);               /* under one row block: the short loops */
    product_paths(20, 300, 3, 0, 155);               /* H < 4: the short loops */
    product_paths(19, 4096, 16, 0, 147);             /* w's copy 4096·16 = 64K floats: row-block order */
    product_paths(19, 4097, 16, 0, 148);             /* one row more: the panel order */
    product_paths(19, 2048, 17, 0.5, 149);           /* two panels, 2048·32 = 64K floats, rows dropped */
    product_paths(20, 6, 4, 0, 145);                 /* one row block of w, H = 4 */
    product_paths(601, 400, 200, 0.2, 156);          /* a tall A (101 row blocks: a group's tiles past */
    product_paths(1000, 300, 230, 0, 157);           /* PT_BUDGET), still in groups of two panels */
    product_paths(32, 2100, 520, 0.2, 150);          /* w past 4 MB: gemm reads it in order (a group of all */
    product_paths(7, 1600, 784, 0, 151);             /* of a thread's panels, k blocks of 128, the last partial) */
    nonfinite(12, 40, 20, 1);
    nonfinite(3, 40, 20, 1);          /* under one row block: the per-sample loops */
    for (int nt = 1; nt <= 3; nt++) nonfinite(100, 784, 600, nt);   /* scans split between threads */
    step_formulas();
    for (int nt = 1; nt <= 3; nt++) {
        first_steps(100, 97, 300, 0.8, -1, nt, 170);     /* row blocks, rows skipped */
        first_steps(100, 97, 300, 0.8, 4321, nt, 171);   /* a NaN in dout: no row skipped */
        first_steps(50, 40, 2100, 0.5, -1, nt, 172);     /* the panel order (2100 · 50 past 64 K) */
        first_steps(3, 20, 30, 0.5, -1, nt, 173);        /* under one row block */
        first_steps(3, 20, 30, 0.5, 37, nt, 175);        /* … with a NaN in dout */
        first_steps(0, 5, 7, 0, -1, nt, 174);            /* no rows: every weight stepped with g = 0 */
        nonzero_columns(1, 1, 1, nt, 160);
        nonzero_columns(5, 17, 3, nt, 161);        /* one group of 16 and a column left */
        nonzero_columns(7, 48, 9, nt, 162);        /* whole groups only */
        nonzero_columns(13, 47, 20, nt, 163);
        nonzero_columns(100, 784, 300, nt, 164);   /* MNIST's batch: the rows split at 2, 3 threads */
        nonzero_columns(101, 300, 10, nt, 165);
    }
    activations();
    softmax();
    return check_report("test_kernels");
}
