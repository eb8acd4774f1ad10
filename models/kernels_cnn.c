/* kernels_cnn.c — the float32 kernels of the convolutional network (see
 * kernels.h for the contracts): convolution as im2col + the packed product
 * of kernels.c, max-pooling, batch norm, dropout. The naive references come
 * first, each named after the kernel it checks.
 *
 * Nothing here depends on the instruction set: the products go through
 * kernels.c's seam, and the rest is plain C whose bits do not depend on
 * vector width. Threads split outputs (rows of an im2col, columns of a
 * batch norm), never a sum: same bits for any thread count.
 */
#include <math.h>
#include <string.h>
#include "fail.h"
#include "kernels.h"

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

/* ------------------------------------------------------------ convolution */

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
                if (yy < 0 || yy >= H || xx < 0 || xx >= W) memset(d, 0, (size_t)C * sizeof *d);
                else memcpy(d, x + (((size_t)b * H + yy) * W + xx) * C, (size_t)C * sizeof *d);
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

void conv2d_forward(float *out, float *cols, const float *x, const float *w, const float *bias,
                    int B, int H, int W, int C, int k, int p, int F, int Ho, int Wo, act_kind act)
{
    im2col(cols, x, B, H, W, C, k, p, Ho, Wo);
    // out (B·Ho·Wo, F) = f(cols (B·Ho·Wo, k·k·C) · w (k·k·C, F) + bias)
    matmul_forward(out, NULL, cols, w, bias, B * Ho * Wo, k * k * C, F, act);
}

void conv2d_backward_weight(float *dw, float *dbias, const float *cols, const float *dout,
                            int B, int Ho, int Wo, int kkC, int F)
{
    // dw (k·k·C, F) += cols^T · dout;  dbias += Σ_rows dout
    matmul_backward_weight(dw, dbias, cols, dout, B * Ho * Wo, kkC, F);
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
    int Hp = H / pool, Wp = W / pool;
    ASSERT((long)B * H * W * C <= INT32_MAX, "maxpool_forward: %d×%d×%d×%d does not fit int32 indices", B, H, W, C);
    int nt = kernels_threads(B);
    (void)nt;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int b = 0; b < B; b++)
        for (int y = 0; y < Hp; y++)
            for (int x = 0; x < Wp; x++)
                for (int c = 0; c < C; c++) {
                    /* the first maximum in row-major window order wins: strict > */
                    int32_t bi = (int32_t)((((size_t)b * H + y * pool) * W + x * pool) * C + c);
                    float best = in[bi];
                    for (int i = 0; i < pool; i++)
                        for (int j = 0; j < pool; j++) {
                            int32_t idx = (int32_t)((((size_t)b * H + y * pool + i) * W + x * pool + j) * C + c);
                            if (in[idx] > best) { best = in[idx]; bi = idx; }
                        }
                    size_t o = (((size_t)b * Hp + y) * Wp + x) * C + c;
                    out[o] = best;
                    argmax[o] = bi;
                }
}

void maxpool_backward(float *din, const float *dout, const int32_t *argmax, size_t n_in, size_t n_out)
{
    // dL/din[i] = dL/dout[o] where i is the window's first maximum, else 0
    memset(din, 0, n_in * sizeof *din);
    for (size_t o = 0; o < n_out; o++) din[argmax[o]] += dout[o];
}

/* ------------------------------------------------------------ batch norm */

/* Statistics per column c of in (R, C) over its R rows, in row order, in
 * double: mean, and the biased variance (two passes). Columns [c0, c1). */
static void column_stats(double *mean, double *var, const float *in, int R, int C, int c0, int c1)
{
    for (int c = c0; c < c1; c++) mean[c] = 0.0, var[c] = 0.0;
    for (int r = 0; r < R; r++) {
        const float *row = in + (size_t)r * C;
        for (int c = c0; c < c1; c++) mean[c] += row[c];
    }
    for (int c = c0; c < c1; c++) mean[c] /= R;
    for (int r = 0; r < R; r++) {
        const float *row = in + (size_t)r * C;
        for (int c = c0; c < c1; c++) { double d = row[c] - mean[c]; var[c] += d * d; }
    }
    for (int c = c0; c < c1; c++) var[c] /= R;
}

/* The columns of thread t of nt, cut in blocks of 16. */
static void col_range(int C, int t, int nt, int *c0, int *c1)
{
    int nb = (C + 15) / 16;
    *c0 = (int)((long)nb * t / nt) * 16;
    *c1 = (int)((long)nb * (t + 1) / nt) * 16;
    if (*c1 > C) *c1 = C;
    if (*c0 > C) *c0 = C;
}

void batchnorm_forward(float *out, float *xhat, float *mean, float *istd, const float *in,
                       const float *gamma, const float *beta, int R, int C, double eps,
                       float *run_mean, float *run_var, int train, double *scratch)
{
    int nt = kernels_threads((C + 15) / 16);
    (void)nt;
#pragma omp parallel num_threads(nt)
    {
        int c0, c1;
        col_range(C, kernels_thread_num(), kernels_thread_count(), &c0, &c1);
        if (train) {
            double *m = scratch, *v = scratch + C;
            column_stats(m, v, in, R, C, c0, c1);
            for (int c = c0; c < c1; c++) {
                mean[c] = (float)m[c];
                istd[c] = (float)(1.0 / sqrt(v[c] + eps));
                if (run_mean) {   /* PyTorch: momentum 0.1, the unbiased variance */
                    double unb = R > 1 ? v[c] * R / (R - 1) : v[c];
                    run_mean[c] = 0.9f * run_mean[c] + 0.1f * (float)m[c];
                    run_var[c] = 0.9f * run_var[c] + 0.1f * (float)unb;
                }
            }
        } else {
            ASSERT(run_mean && run_var, "batchnorm_forward: inference needs the running statistics");
            for (int c = c0; c < c1; c++) {
                mean[c] = run_mean[c];
                istd[c] = (float)(1.0 / sqrt((double)run_var[c] + eps));
            }
        }
        // x̂ = (x − μ)/√(σ² + ε);  y = γ·x̂ + β  (y = x̂ without γ, β)
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
}

void batchnorm_backward(float *dx, float *dgamma, float *dbeta, const float *dout, const float *xhat,
                        const float *istd, const float *gamma, int R, int C, int train, double *scratch)
{
    int nt = kernels_threads((C + 15) / 16);
    (void)nt;
#pragma omp parallel num_threads(nt)
    {
        int c0, c1;
        col_range(C, kernels_thread_num(), kernels_thread_count(), &c0, &c1);
        double *sg = scratch, *sgx = scratch + C;      /* Σ dy, Σ dy·x̂ per column */
        for (int c = c0; c < c1; c++) sg[c] = 0.0, sgx[c] = 0.0;
        for (int r = 0; r < R; r++) {
            const float *g = dout + (size_t)r * C, *xh = xhat + (size_t)r * C;
            for (int c = c0; c < c1; c++) { sg[c] += g[c]; sgx[c] += (double)g[c] * xh[c]; }
        }
        // dγ = Σ dy·x̂,  dβ = Σ dy
        if (dgamma) for (int c = c0; c < c1; c++) { dgamma[c] = (float)sgx[c]; dbeta[c] = (float)sg[c]; }
        // training: dx = γ/(Nσ)·(N·dy − Σdy − x̂·Σ(dy·x̂));  inference: dx = γ·dy/σ
        for (int r = 0; r < R; r++) {
            const float *g = dout + (size_t)r * C, *xh = xhat + (size_t)r * C;
            float *d = dx + (size_t)r * C;
            for (int c = c0; c < c1; c++) {
                float s = gamma ? gamma[c] * istd[c] : istd[c];
                if (train) d[c] = s * (g[c] - (float)(sg[c] / R) - xh[c] * (float)(sgx[c] / R));
                else d[c] = s * g[c];
            }
        }
    }
}
