/* kernels_cnn.c — the float32 kernels of the convolutional network (see
 * kernels.h for the contracts): a direct convolution over a zero-padded
 * copy of the input and its weight gradient, max-pooling, batch norm. The
 * naive references come first, each named after the kernel it checks; then
 * the portable copies of the routines whose code depends on the instruction
 * set (kernels_cnn_isa.h; the AVX2/FMA twins are in kernels_cnn_avx2.c);
 * then the public kernels, which split the outputs between threads.
 *
 * Threads split outputs (rows of a convolution, filters of its weight
 * gradient, images of a pooling, columns of a batch norm), never a sum:
 * same bits for any thread count, and each twin has its portable copy's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "fail.h"
#include "kernels.h"
#include "kernels_cnn_isa.h"

/* ------------------------------------------------------------ naive references */

void conv2d_forward_naive(float *out, const float *x, const float *w, const float *bias,
                          int B, int H, int W, int C, int k, int p, int F, int Ho, int Wo)
{
    for (int b = 0; b < B; b++)
        for (int y = 0; y < Ho; y++)
            for (int xo = 0; xo < Wo; xo++)
                for (int f = 0; f < F; f++) {
                    float acc = 0.0f;
                    for (int dy = 0; dy < k; dy++)
                        for (int dx = 0; dx < k; dx++)
                            for (int c = 0; c < C; c++) {
                                int yy = y + dy - p, xx = xo + dx - p;
                                float v = (yy < 0 || yy >= H || xx < 0 || xx >= W) ? 0.0f
                                          : x[(((size_t)b * H + yy) * W + xx) * C + c];
                                acc = fmaf(v, w[(((size_t)dy * k + dx) * C + c) * F + f], acc);
                            }
                    out[(((size_t)b * Ho + y) * Wo + xo) * F + f] = bias ? acc + bias[f] : acc;
                }
}

void conv2d_backward_naive(float *dx, float *dw, float *dbias, const float *x, const float *dout,
                           const float *w, int B, int H, int W, int C, int k, int p, int F,
                           int Ho, int Wo)
{
    if (dx) memset(dx, 0, sizeof(float) * (size_t)B * H * W * C);
    for (int dy = 0; dy < k; dy++)
        for (int ddx = 0; ddx < k; ddx++)
            for (int c = 0; c < C; c++)
                for (int f = 0; f < F; f++) {
                    float acc = 0.0f;
                    for (int b = 0; b < B; b++)
                        for (int y = 0; y < Ho; y++)
                            for (int xo = 0; xo < Wo; xo++) {
                                int yy = y + dy - p, xx = xo + ddx - p;
                                if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                                float g = dout[(((size_t)b * Ho + y) * Wo + xo) * F + f];
                                size_t xi = (((size_t)b * H + yy) * W + xx) * C + c;
                                acc = fmaf(x[xi], g, acc);
                                if (dx) dx[xi] += g * w[(((size_t)dy * k + ddx) * C + c) * F + f];
                            }
                    if (dw) dw[(((size_t)dy * k + ddx) * C + c) * F + f] += acc;
                }
    if (dbias)
        for (int f = 0; f < F; f++) {
            float acc = 0.0f;
            for (size_t r = 0; r < (size_t)B * Ho * Wo; r++) acc += dout[r * F + f];
            dbias[f] += acc;
        }
}

void maxpool_forward_naive(float *out, const float *in, int B, int H, int W, int C, int pool)
{
    int Hp = H / pool, Wp = W / pool;
    for (int b = 0; b < B; b++)
        for (int y = 0; y < Hp; y++)
            for (int x = 0; x < Wp; x++)
                for (int c = 0; c < C; c++) {
                    float best = -INFINITY;
                    for (int i = 0; i < pool; i++)
                        for (int j = 0; j < pool; j++) {
                            float v = in[(((size_t)b * H + y * pool + i) * W + x * pool + j) * C + c];
                            if (v > best || (i == 0 && j == 0)) best = v;
                        }
                    out[(((size_t)b * Hp + y) * Wp + x) * C + c] = best;
                }
}

void batchnorm_forward_naive(float *out, const float *in, const float *gamma, const float *beta,
                             int R, int C, double eps)
{
    for (int c = 0; c < C; c++) {
        double s = 0.0, q = 0.0;
        for (int r = 0; r < R; r++) s += in[(size_t)r * C + c];
        double mean = s / R;
        for (int r = 0; r < R; r++) { double d = in[(size_t)r * C + c] - mean; q += d * d; }
        double istd = 1.0 / sqrt(q / R + eps);
        for (int r = 0; r < R; r++) {
            double xh = (in[(size_t)r * C + c] - mean) * istd;
            out[(size_t)r * C + c] = (float)(gamma ? gamma[c] * xh + beta[c] : xh);
        }
    }
}

/* The bit-for-bit references of the kernels below whose fast copies are
 * not naive loops: the same float and double operations, column by column
 * (batch norm) or output by output (max-pool backward), in plain order. */
void maxpool_backward_naive(float *din, const float *dout, const int32_t *argmax, size_t n_in, size_t n_out)
{
    memset(din, 0, n_in * sizeof *din);
    for (size_t o = 0; o < n_out; o++) din[argmax[o]] += dout[o];
}

void batchnorm_forward_f32_naive(float *out, float *xhat, float *mean, float *istd, const float *in,
                                 const float *gamma, const float *beta, int R, int C, double eps,
                                 float *run_mean, float *run_var, int train)
{
    for (int c = 0; c < C; c++) {
        if (train) {
            double m = 0.0, v = 0.0;
            for (int r = 0; r < R; r++) m += in[(size_t)r * C + c];
            m /= R;
            for (int r = 0; r < R; r++) { double d = in[(size_t)r * C + c] - m; v += d * d; }
            v /= R;
            mean[c] = (float)m;
            istd[c] = (float)(1.0 / sqrt(v + eps));
            if (run_mean) {
                double unb = R > 1 ? v * R / (R - 1) : v;
                run_mean[c] = 0.9f * run_mean[c] + 0.1f * (float)m;
                run_var[c] = 0.9f * run_var[c] + 0.1f * (float)unb;
            }
        } else {
            mean[c] = run_mean[c];
            istd[c] = (float)(1.0 / sqrt((double)run_var[c] + eps));
        }
        for (int r = 0; r < R; r++) {
            size_t i = (size_t)r * C + c;
            float xh = (in[i] - mean[c]) * istd[c];
            xhat[i] = xh;
            out[i] = gamma ? gamma[c] * xh + beta[c] : xh;
        }
    }
}

void batchnorm_backward_naive(float *dx, float *dgamma, float *dbeta, const float *dout, const float *xhat,
                              const float *istd, const float *gamma, const float *relu_y, int R, int C,
                              int train)
{
    for (int c = 0; c < C; c++) {
        double sg = 0.0, sgx = 0.0;
        for (int r = 0; r < R; r++) {
            size_t i = (size_t)r * C + c;
            sg += dout[i];
            sgx += (double)dout[i] * xhat[i];
        }
        if (dgamma) { dgamma[c] = (float)sgx; dbeta[c] = (float)sg; }
        float s = gamma ? gamma[c] * istd[c] : istd[c];
        for (int r = 0; r < R; r++) {
            size_t i = (size_t)r * C + c;
            float d = train ? s * (dout[i] - (float)(sg / R) - xhat[i] * (float)(sgx / R)) : s * dout[i];
            dx[i] = relu_y && !(relu_y[i] > 0.0f) ? 0.0f : d;
        }
    }
}

/* ------------------------------------------------------------ the ISA table */

/* Chosen once at start-up, for the instruction set kernels.c chose
 * (kernels_isa_choice): the AVX2/FMA twins on an AVX2 CPU, with two
 * AVX-512 ones in their place on an AVX-512 CPU. */
static const cnn_isa_table *cnn_table;

static const cnn_isa_table *cnn_choose(void)
{
#ifdef HAVE_CNN_X86
    static cnn_isa_table avx512;
    switch (kernels_isa_choice()) {
    case KERNELS_ISA_AVX512: cnn_avx512_table(&avx512); return &avx512;
    case KERNELS_ISA_AVX2: return &cnn_avx2;
    case KERNELS_ISA_PORTABLE: break;
    }
#endif
    return &cnn_portable;
}

/* Before main: no first call can race inside a parallel region. */
__attribute__((constructor)) static void cnn_isa_init(void) { cnn_table = cnn_choose(); }

static const cnn_isa_table *cisa(void) { return cnn_table ? cnn_table : (cnn_table = cnn_choose()); }

const char *cnn_kernels_isa(void) { return cisa()->name; }

/* ------------------------------------------------------------ portable copies */

static void conv_rows_portable(float *out, const float *xp, const float *w, const float *bias, int Hq,
                               int Wq, int C, int k, int F, int Ho, int Wo, long r0, long r1, int relu)
{
    for (long r = r0; r < r1; r++) {
        int b = (int)(r / Ho), y = (int)(r % Ho);
        const float *row = xp + ((size_t)b * Hq + y) * Wq * C;
        float *o = out + (size_t)r * Wo * F;
        for (int x = 0; x < Wo; x++)
            for (int f = 0; f < F; f++) {
                float acc = 0.0f;
                const float *wj = w + f;
                for (int dy = 0; dy < k; dy++)
                    for (int dx = 0; dx < k; dx++) {
                        const float *s = row + ((size_t)dy * Wq + x + dx) * C;
                        for (int c = 0; c < C; c++, wj += F) acc = fmaf(s[c], *wj, acc);
                    }
                float z = bias ? acc + bias[f] : acc;
                o[(size_t)x * F + f] = relu ? (z > 0.0f ? z : 0.0f) : z;
            }
    }
}

static void conv_wgrad_portable(float *dw, float *dbias, const float *xp, const float *dout, int B,
                                int Hq, int Wq, int C, int k, int F, int Ho, int Wo, int f0, int f1)
{
    size_t rows = (size_t)B * Ho * Wo;
    for (int f = f0; f < f1; f++) {
        if (dbias) {
            float acc = 0.0f;
            for (size_t r = 0; r < rows; r++) acc += dout[r * F + f];
            dbias[f] += acc;
        }
        for (int dy = 0; dy < k; dy++)
            for (int dx = 0; dx < k; dx++)
                for (int c = 0; c < C; c++) {
                    float acc = 0.0f;
                    size_t r = 0;
                    for (int b = 0; b < B; b++)
                        for (int y = 0; y < Ho; y++)
                            for (int x = 0; x < Wo; x++, r++)
                                acc = fmaf(xp[(((size_t)b * Hq + y + dy) * Wq + x + dx) * C + c], dout[r * F + f], acc);
                    dw[((size_t)(dy * k + dx) * C + c) * F + f] += acc;
                }
    }
}

static void col_sum_portable(double *s, const float *in, int R, int C, int c0, int c1)
{
    for (int c = c0; c < c1; c++) s[c] = 0.0;
    for (int r = 0; r < R; r++) {
        const float *row = in + (size_t)r * C;
        for (int c = c0; c < c1; c++) s[c] += row[c];
    }
}

static void col_sqdev_portable(double *q, const double *mean, const float *in, int R, int C, int c0, int c1)
{
    for (int c = c0; c < c1; c++) q[c] = 0.0;
    for (int r = 0; r < R; r++) {
        const float *row = in + (size_t)r * C;
        for (int c = c0; c < c1; c++) { double d = row[c] - mean[c]; q[c] += d * d; }
    }
}

static void bn_apply_portable(float *out, float *xhat, const float *in, const float *mean, const float *istd,
                              const float *gamma, const float *beta, int R, int C, int c0, int c1)
{
    for (int r = 0; r < R; r++) {
        const float *row = in + (size_t)r * C;
        float *xr = xhat + (size_t)r * C, *o = out + (size_t)r * C;
        for (int c = c0; c < c1; c++) {
            float xh = (row[c] - mean[c]) * istd[c];
            xr[c] = xh;
            o[c] = gamma ? gamma[c] * xh + beta[c] : xh;
        }
    }
}

static void bn_grad_sums_portable(double *sg, double *sgx, const float *dout, const float *xhat, int R, int C,
                                  int c0, int c1)
{
    for (int c = c0; c < c1; c++) sg[c] = 0.0, sgx[c] = 0.0;
    for (int r = 0; r < R; r++) {
        const float *g = dout + (size_t)r * C, *xh = xhat + (size_t)r * C;
        for (int c = c0; c < c1; c++) { sg[c] += g[c]; sgx[c] += (double)g[c] * xh[c]; }
    }
}

static void bn_grad_dx_portable(float *dx, const float *dout, const float *xhat, const float *sc, const float *mg,
                                const float *mgx, const float *relu_y, int R, int C, int c0, int c1)
{
    for (int r = 0; r < R; r++) {
        size_t o = (size_t)r * C;
        for (int c = c0; c < c1; c++) {
            float d = mg ? sc[c - c0] * (dout[o + c] - mg[c - c0] - xhat[o + c] * mgx[c - c0]) : sc[c - c0] * dout[o + c];
            dx[o + c] = relu_y && !(relu_y[o + c] > 0.0f) ? 0.0f : d;
        }
    }
}

static void pool_fwd_portable(float *out, int32_t *argmax, const float *in, int H, int W, int C, int pool,
                              int b0, int b1)
{
    int Hp = H / pool, Wp = W / pool;
    for (int b = b0; b < b1; b++)
        for (int y = 0; y < Hp; y++)
            for (int x = 0; x < Wp; x++) {
                /* the window's top-left pixel, then the others in row-major
                 * order; the first maximum wins (strict >), channel by channel */
                int32_t base = (int32_t)((((size_t)b * H + y * pool) * W + x * pool) * C);
                size_t o = (((size_t)b * Hp + y) * Wp + x) * C;
                float *restrict ob = out + o;
                int32_t *restrict ab = argmax + o;
                for (int c = 0; c < C; c++) { ob[c] = in[base + c]; ab[c] = base + c; }
                for (int i = 0; i < pool; i++)
                    for (int j = 0; j < pool; j++) {
                        if (i == 0 && j == 0) continue;
                        int32_t off = base + (int32_t)(((size_t)i * W + j) * C);
                        const float *restrict src = in + off;
                        for (int c = 0; c < C; c++)
                            if (src[c] > ob[c]) { ob[c] = src[c]; ab[c] = off + c; }
                    }
            }
}

/* Each pixel of din once, in order: 0 + the window's gradient at the
 * window's argmax (the bits of zeroing then adding), 0 elsewhere and in a
 * dropped remainder row or column. */
static void pool_bwd_portable(float *din, const float *dout, const int32_t *argmax, int H, int W, int C,
                              int pool, int b0, int b1)
{
    int Hp = H / pool, Wp = W / pool;
    for (int b = b0; b < b1; b++)
        for (int yy = 0, y = 0, i = 0; yy < H; yy++, i = i + 1 == pool ? 0 : i + 1, y += i == 0) {   /* y = yy / pool */
            for (int xx = 0, x = 0, j = 0; xx < W; xx++, j = j + 1 == pool ? 0 : j + 1, x += j == 0) {
                int32_t i0 = (int32_t)((((size_t)b * H + yy) * W + xx) * C);
                float *d = din + i0;
                if (y >= Hp || x >= Wp) { for (int c = 0; c < C; c++) d[c] = 0.0f; continue; }
                size_t o = (((size_t)b * Hp + y) * Wp + x) * C;
                for (int c = 0; c < C; c++) d[c] = argmax[o + c] == i0 + c ? 0.0f + dout[o + c] : 0.0f;
            }
        }
}

static void bnp_fwd_portable(float *pooled, int32_t *argmax, const float *in, const float *mean, const float *istd,
                             const float *gamma, const float *beta, int B, int H, int W, int C, int pool, int b0, int b1,
                             int c0, int c1)
{
    (void)B;
    int Hp = H / pool, Wp = W / pool;
    for (int b = b0; b < b1; b++)
        for (int y = 0; y < Hp; y++)
            for (int x = 0; x < Wp; x++) {
                int32_t base = (int32_t)((((size_t)b * H + y * pool) * W + x * pool) * C);
                size_t o = (((size_t)b * Hp + y) * Wp + x) * C;
                for (int c = c0; c < c1; c++) {
                    float bv = 0.0f;
                    int32_t ba = 0;
                    for (int i = 0; i < pool; i++)
                        for (int j = 0; j < pool; j++) {
                            int32_t at = base + (int32_t)(((size_t)i * W + j) * C) + c;
                            float xh = (in[at] - mean[c]) * istd[c];
                            float v = gamma ? gamma[c] * xh + beta[c] : xh;
                            if ((i == 0 && j == 0) || v > bv) { bv = v; ba = at; }
                        }
                    pooled[o + c] = bv;
                    argmax[o + c] = ba;
                }
            }
}

static void bnp_grad_sums_portable(double *sg, double *sgx, const float *dpooled, const int32_t *argmax, const float *in,
                                   const float *mean, const float *istd, int B, int H, int W, int C, int pool, int c0, int c1)
{
    int Hp = H / pool, Wp = W / pool;
    for (int c = c0; c < c1; c++) sg[c] = 0.0, sgx[c] = 0.0;
    for (int b = 0; b < B; b++)
        for (int yy = 0, wy = 0, wi = 0; yy < H; yy++, wi = wi + 1 == pool ? 0 : wi + 1, wy += wi == 0)   /* wy = yy / pool */
            for (int xx = 0, wx = 0, wj = 0; xx < W; xx++, wj = wj + 1 == pool ? 0 : wj + 1, wx += wj == 0) {
                int32_t i0 = (int32_t)((((size_t)b * H + yy) * W + xx) * C);
                int win = wy < Hp && wx < Wp;
                size_t o = win ? (((size_t)b * Hp + wy) * Wp + wx) * C : 0;
                for (int c = c0; c < c1; c++) {
                    float g = win && argmax[o + c] == i0 + c ? 0.0f + dpooled[o + c] : 0.0f;
                    float xh = (in[i0 + c] - mean[c]) * istd[c];
                    sg[c] += g;
                    sgx[c] += (double)g * xh;
                }
            }
}

static void bnp_grad_dx_portable(float *dx, const float *dpooled, const int32_t *argmax, const float *in, const float *mean,
                                 const float *istd, const float *sc, const float *mg, const float *mgx, int relu,
                                 int B, int H, int W, int C, int pool, int b0, int b1, int c0, int c1)
{
    (void)B;
    int Hp = H / pool, Wp = W / pool;
    for (int b = b0; b < b1; b++)
        for (int yy = 0, wy = 0, wi = 0; yy < H; yy++, wi = wi + 1 == pool ? 0 : wi + 1, wy += wi == 0)   /* wy = yy / pool */
            for (int xx = 0, wx = 0, wj = 0; xx < W; xx++, wj = wj + 1 == pool ? 0 : wj + 1, wx += wj == 0) {
                int32_t i0 = (int32_t)((((size_t)b * H + yy) * W + xx) * C);
                int win = wy < Hp && wx < Wp;
                size_t o = win ? (((size_t)b * Hp + wy) * Wp + wx) * C : 0;
                for (int c = c0; c < c1; c++) {
                    float g = win && argmax[o + c] == i0 + c ? 0.0f + dpooled[o + c] : 0.0f;
                    float xh = (in[i0 + c] - mean[c]) * istd[c];
                    float d = mg ? sc[c - c0] * (g - mg[c - c0] - xh * mgx[c - c0]) : sc[c - c0] * g;
                    dx[i0 + c] = relu && !(in[i0 + c] > 0.0f) ? 0.0f : d;
                }
            }
}

const cnn_isa_table cnn_portable = {
    "portable", conv_rows_portable, conv_wgrad_portable, col_sum_portable, col_sqdev_portable,
    bn_apply_portable, bn_grad_sums_portable, bn_grad_dx_portable, pool_fwd_portable, pool_bwd_portable,
    bnp_fwd_portable, bnp_grad_sums_portable, bnp_grad_dx_portable,
};

/* [lo, hi) of n units for thread t of nt, each bound a multiple of `step`
 * (but hi ≤ n): contiguous, in order, none shared. */
static void share(long n, long step, int t, int nt, long *lo, long *hi)
{
    long nb = (n + step - 1) / step;
    *lo = nb * t / nt * step;
    *hi = nb * (t + 1) / nt * step;
    if (*hi > n) *hi = n;
    if (*lo > n) *lo = n;
}

/* ------------------------------------------------------------ convolution */

void conv2d_pad(float *xp, const float *x, int B, int H, int W, int C, int p)
{
    int Hq = H + 2 * p, Wq = W + 2 * p;
    for (int b = 0; b < B; b++) {
        float *img = xp + (size_t)b * Hq * Wq * C;
        if (p > 0) {
            memset(img, 0, sizeof(float) * (size_t)p * Wq * C);
            memset(img + (size_t)(p + H) * Wq * C, 0, sizeof(float) * (size_t)p * Wq * C);
        }
        for (int y = 0; y < H; y++) {
            float *row = img + (size_t)(y + p) * Wq * C;
            memset(row, 0, sizeof(float) * (size_t)p * C);
            memcpy(row + (size_t)p * C, x + ((size_t)b * H + y) * W * C, sizeof(float) * (size_t)W * C);
            memset(row + (size_t)(p + W) * C, 0, sizeof(float) * (size_t)p * C);
        }
    }
}

void conv2d_forward(float *out, float *xp, const float *x, const float *w, const float *bias,
                    int B, int H, int W, int C, int k, int p, int F, int Ho, int Wo, act_kind act)
{
    ASSERT(Ho == H + 2 * p - k + 1 && Wo == W + 2 * p - k + 1,
           "conv2d_forward: output %d×%d for input %d×%d, kernel %d, padding %d", Ho, Wo, H, W, k, p);
    conv2d_pad(xp, x, B, H, W, C, p);
    long rows = (long)B * Ho;
    double work = (double)rows * Wo * F * k * k * C;   /* threads only where it pays */
    int nt = kernels_threads(work > 2e5 ? rows : 1), relu = act == ACT_RELU;
    (void)nt;
#pragma omp parallel num_threads(nt)
    {
        long r0, r1;
        share(rows, 1, kernels_thread_num(), kernels_thread_count(), &r0, &r1);
        // out (B, Ho, Wo, F) = f(Σ_{dy,dx,c} xp[b][y+dy][x+dx][c] · w[dy][dx][c][f] + bias)
        cisa()->conv_rows(out, xp, w, bias, H + 2 * p, W + 2 * p, C, k, F, Ho, Wo, r0, r1, relu);
        if (act != ACT_IDENTITY && !relu && r1 > r0)
            act_forward(out + (size_t)r0 * Wo * F, out + (size_t)r0 * Wo * F, (size_t)(r1 - r0) * Wo * F, act);
    }
}

void conv2d_backward_weight(float *dw, float *dbias, const float *xp, const float *dout,
                            int B, int H, int W, int C, int k, int p, int F, int Ho, int Wo)
{
    double work = (double)B * Ho * Wo * F * k * k * C;
    int nt = kernels_threads(work > 2e5 ? (F + 7) / 8 : 1);
    (void)nt;
#pragma omp parallel num_threads(nt)
    {
        long f0, f1;   /* threads split the filters in blocks of 8: each sum is one thread's */
        share(F, 8, kernels_thread_num(), kernels_thread_count(), &f0, &f1);
        // dw (k·k·C, F) += Σ_rows patch^T · dout;  dbias += Σ_rows dout
        if (f1 > f0) cisa()->conv_wgrad(dw, dbias, xp, dout, B, H + 2 * p, W + 2 * p, C, k, F, Ho, Wo, (int)f0, (int)f1);
    }
}

/* cols (B·Ho·Wo, k·k·C): row (b, y, x) holds the k×k×C patch under output
 * (y, x), in (dy, dx, c) order, 0 outside the image. Threads split rows. */
void im2col(float *cols, const float *x, int B, int H, int W, int C, int k, int p, int Ho, int Wo)
{
    long rows = (long)B * Ho * Wo;
    size_t kc = (size_t)k * C;
    int nt = kernels_threads(rows / 256 + 1);
    (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (long r = 0; r < rows; r++) {
        int xo = (int)(r % Wo), y = (int)(r / Wo % Ho), b = (int)(r / ((long)Wo * Ho));
        float *dst = cols + (size_t)r * k * kc;
        for (int dy = 0; dy < k; dy++) {
            int yy = y + dy - p;
            for (int dx = 0; dx < k; dx++) {
                int xx = xo + dx - p;
                float *d = dst + ((size_t)dy * k + dx) * C;
                int in = yy >= 0 && yy < H && xx >= 0 && xx < W;
                const float *s = in ? x + (((size_t)b * H + yy) * W + xx) * C : x;
                for (int c = 0; c < C; c++) d[c] = in ? s[c] : 0.0f;   /* C is small: no call */
            }
        }
    }
}

/* dx (B, H, W, C) = Σ over the patches that hold each pixel of dcols, in
 * row order of dcols; threads split images (each pixel belongs to one). */
void col2im(float *dx, const float *dcols, int B, int H, int W, int C, int k, int p, int Ho, int Wo)
{
    int nt = kernels_threads(B);
    (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int b = 0; b < B; b++) {
        float *img = dx + (size_t)b * H * W * C;
        memset(img, 0, sizeof(float) * (size_t)H * W * C);
        for (int y = 0; y < Ho; y++)
            for (int xo = 0; xo < Wo; xo++) {
                const float *src = dcols + (((size_t)b * Ho + y) * Wo + xo) * k * k * C;
                for (int dy = 0; dy < k; dy++)
                    for (int ddx = 0; ddx < k; ddx++) {
                        int yy = y + dy - p, xx = xo + ddx - p;
                        if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                        float *d = img + ((size_t)yy * W + xx) * C;
                        const float *s = src + ((size_t)dy * k + ddx) * C;
                        for (int c = 0; c < C; c++) d[c] += s[c];
                    }
            }
    }
}

void conv2d_backward_input(float *dx, float *dcols, const float *dout, const float *w,
                           int B, int H, int W, int C, int k, int p, int F, int Ho, int Wo)
{
    // dcols (B·Ho·Wo, k·k·C) = dout · w^T, then each pixel gathers its patches
    matmul_backward_input(dcols, dout, w, B * Ho * Wo, k * k * C, F);
    col2im(dx, dcols, B, H, W, C, k, p, Ho, Wo);
}


/* ------------------------------------------------------------ max-pooling */

void maxpool_forward(float *out, int32_t *argmax, const float *in, int B, int H, int W, int C, int pool)
{
    ASSERT((long)B * H * W * C <= INT32_MAX, "maxpool_forward: %d×%d×%d×%d does not fit int32 indices", B, H, W, C);
    int nt = kernels_threads(B);
    (void)nt;
#pragma omp parallel num_threads(nt)
    {
        long b0, b1;   /* threads split images */
        share(B, 1, kernels_thread_num(), kernels_thread_count(), &b0, &b1);
        cisa()->pool_fwd(out, argmax, in, H, W, C, pool, (int)b0, (int)b1);
    }
}

void maxpool_backward(float *din, const float *dout, const int32_t *argmax, int B, int H, int W, int C, int pool)
{
    ASSERT((long)B * H * W * C <= INT32_MAX, "maxpool_backward: %d×%d×%d×%d does not fit int32 indices", B, H, W, C);
    int nt = kernels_threads(B);
    (void)nt;
#pragma omp parallel num_threads(nt)
    {
        long b0, b1;
        share(B, 1, kernels_thread_num(), kernels_thread_count(), &b0, &b1);
        // dL/din[i] = dL/dout[o] where i is the window's first maximum, else 0
        cisa()->pool_bwd(din, dout, argmax, H, W, C, pool, (int)b0, (int)b1);
    }
}

/* ------------------------------------------------------------ batch norm */

/* Columns per pass: a thread's columns go in chunks of BN_CHUNK, each read
 * for its statistics and then normalised while it is still in cache (per
 * feature: 32 rows × 256 columns = 32 KB). A multiple of 16. */
#define BN_CHUNK 256

/* mean and istd of columns [c0, c1) of in (R, C): the batch's (and the
 * running values updated) when training, else the running values. */
static void bn_stats(const cnn_isa_table *t, float *mean, float *istd, const float *in, int R, int C, int c0, int c1,
                     double eps, float *run_mean, float *run_var, int train, double *scratch)
{
    if (!train) {
        for (int c = c0; c < c1; c++) {
            mean[c] = run_mean[c];
            istd[c] = (float)(1.0 / sqrt((double)run_var[c] + eps));
        }
        return;
    }
    // μ = Σ x / R, σ² = Σ (x − μ)² / R per column, in double, rows in order
    double *m = scratch, *v = scratch + C;
    t->col_sum(m, in, R, C, c0, c1);
    for (int c = c0; c < c1; c++) m[c] /= R;
    t->col_sqdev(v, m, in, R, C, c0, c1);
    for (int c = c0; c < c1; c++) {
        v[c] /= R;
        mean[c] = (float)m[c];
        istd[c] = (float)(1.0 / sqrt(v[c] + eps));
        if (run_mean) {   /* PyTorch: momentum 0.1, the unbiased variance */
            double unb = R > 1 ? v[c] * R / (R - 1) : v[c];
            run_mean[c] = 0.9f * run_mean[c] + 0.1f * (float)m[c];
            run_var[c] = 0.9f * run_var[c] + 0.1f * (float)unb;
        }
    }
}

void batchnorm_forward(float *out, float *xhat, float *mean, float *istd, const float *in,
                       const float *gamma, const float *beta, int R, int C, double eps,
                       float *run_mean, float *run_var, int train, double *scratch)
{
    ASSERT(train || (run_mean && run_var), "batchnorm_forward: inference needs the running statistics");
    int nt = kernels_threads((C + 15) / 16);
    const cnn_isa_table *t = cisa();
    (void)nt;
#pragma omp parallel num_threads(nt)
    {
        long lo, hi;   /* threads split the columns in blocks of 16 */
        share(C, 16, kernels_thread_num(), kernels_thread_count(), &lo, &hi);
        for (int c0 = (int)lo; c0 < hi; c0 += BN_CHUNK) {
            int c1 = hi - c0 < BN_CHUNK ? (int)hi : c0 + BN_CHUNK;
            bn_stats(t, mean, istd, in, R, C, c0, c1, eps, run_mean, run_var, train, scratch);
            // x̂ = (x − μ)/√(σ² + ε);  y = γ·x̂ + β  (y = x̂ without γ, β)
            t->bn_apply(out, xhat, in, mean, istd, gamma, beta, R, C, c0, c1);
        }
    }
}

void batchnorm_pool_forward(float *pooled, int32_t *argmax, float *mean, float *istd, const float *in,
                            const float *gamma, const float *beta, int B, int H, int W, int C, int pool,
                            double eps, float *run_mean, float *run_var, int train, double *scratch)
{
    ASSERT(train || (run_mean && run_var), "batchnorm_pool_forward: inference needs the running statistics");
    ASSERT((long)B * H * W * C <= INT32_MAX, "batchnorm_pool_forward: %d×%d×%d×%d does not fit int32 indices", B, H, W, C);
    int nt = kernels_threads(B > (C + 15) / 16 ? B : (C + 15) / 16), R = B * H * W;
    const cnn_isa_table *t = cisa();
    (void)nt;
#pragma omp parallel num_threads(nt)
    {
        int tn = kernels_thread_num(), tc = kernels_thread_count();
        long lo, hi;   /* the statistics: threads split the channels in blocks of 16 */
        share(C, 16, tn, tc, &lo, &hi);
        for (int c0 = (int)lo; c0 < hi; c0 += BN_CHUNK)
            bn_stats(t, mean, istd, in, R, C, c0, hi - c0 < BN_CHUNK ? (int)hi : c0 + BN_CHUNK, eps,
                     run_mean, run_var, train, scratch);
#pragma omp barrier
        // pooled = the max of each window of γ·x̂ + β, x̂ = (x − μ)/√(σ² + ε):
        // threads split the images (each reads whole cache lines)
        share(B, 1, tn, tc, &lo, &hi);
        if (hi > lo) t->bnp_fwd(pooled, argmax, in, mean, istd, gamma, beta, B, H, W, C, pool, (int)lo, (int)hi, 0, C);
    }
}

void batchnorm_backward(float *dx, float *dgamma, float *dbeta, const float *dout, const float *xhat,
                        const float *istd, const float *gamma, const float *relu_y, int R, int C,
                        int train, double *scratch)
{
    int nt = kernels_threads((C + 15) / 16);
    const cnn_isa_table *t = cisa();
    (void)nt;
#pragma omp parallel num_threads(nt)
    {
        long lo, hi;
        share(C, 16, kernels_thread_num(), kernels_thread_count(), &lo, &hi);
        float sc[BN_CHUNK], mg[BN_CHUNK], mgx[BN_CHUNK];
        for (int c0 = (int)lo; c0 < hi; c0 += BN_CHUNK) {
            int c1 = hi - c0 < BN_CHUNK ? (int)hi : c0 + BN_CHUNK;
            double *sg = scratch, *sgx = scratch + C;      /* Σ dy, Σ dy·x̂ per column */
            if (train || dgamma) t->bn_grad_sums(sg, sgx, dout, xhat, R, C, c0, c1);
            // dγ = Σ dy·x̂,  dβ = Σ dy
            if (dgamma) for (int c = c0; c < c1; c++) { dgamma[c] = (float)sgx[c]; dbeta[c] = (float)sg[c]; }
            // training: dx = γ/(Nσ)·(N·dy − Σdy − x̂·Σ(dy·x̂));  inference: dx = γ·dy/σ
            for (int c = c0; c < c1; c++) {
                sc[c - c0] = gamma ? gamma[c] * istd[c] : istd[c];
                if (train) { mg[c - c0] = (float)(sg[c] / R); mgx[c - c0] = (float)(sgx[c] / R); }
            }
            // then through the ReLU before the batch norm (relu_y = its output): dx · [relu_y > 0]
            t->bn_grad_dx(dx, dout, xhat, sc, train ? mg : NULL, mgx, relu_y, R, C, c0, c1);
        }
    }
}

void batchnorm_pool_backward(float *dx, float *dgamma, float *dbeta, const float *dpooled, const int32_t *argmax,
                             const float *in, const float *mean, const float *istd, const float *gamma, int relu,
                             int B, int H, int W, int C, int pool, int train, double *scratch)
{
    int nt = kernels_threads(B > (C + 15) / 16 ? B : (C + 15) / 16), R = B * H * W;
    const cnn_isa_table *t = cisa();
    (void)nt;
#pragma omp parallel num_threads(nt)
    {
        int tn = kernels_thread_num(), tc = kernels_thread_count();
        long lo, hi;   /* the sums: threads split the channels in blocks of 16 */
        share(C, 16, tn, tc, &lo, &hi);
        // dy = the pooled gradient at each window's first maximum, 0 elsewhere;
        // x̂ = (x − μ)·istd again, as the forward computed it
        double *sg = scratch, *sgx = scratch + C;
        if ((train || dgamma) && hi > lo)
            t->bnp_grad_sums(sg, sgx, dpooled, argmax, in, mean, istd, B, H, W, C, pool, (int)lo, (int)hi);
        if (dgamma) for (long c = lo; c < hi; c++) { dgamma[c] = (float)sgx[c]; dbeta[c] = (float)sg[c]; }
#pragma omp barrier
        // training: dx = γ/(Nσ)·(N·dy − Σdy − x̂·Σ(dy·x̂));  inference: dx = γ·dy/σ;
        // then · [in > 0] when relu. Threads split the images.
        share(B, 1, tn, tc, &lo, &hi);
        float sc[BN_CHUNK], mg[BN_CHUNK], mgx[BN_CHUNK];
        for (int c0 = 0; c0 < C && hi > lo; c0 += BN_CHUNK) {
            int c1 = C - c0 < BN_CHUNK ? C : c0 + BN_CHUNK;
            for (int c = c0; c < c1; c++) {
                sc[c - c0] = gamma ? gamma[c] * istd[c] : istd[c];
                if (train) { mg[c - c0] = (float)(sg[c] / R); mgx[c - c0] = (float)(sgx[c] / R); }
            }
            t->bnp_grad_dx(dx, dpooled, argmax, in, mean, istd, sc, train ? mg : NULL, mgx, relu, B, H, W, C, pool,
                           (int)lo, (int)hi, c0, c1);
        }
    }
}
