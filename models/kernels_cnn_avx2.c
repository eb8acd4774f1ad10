/* kernels_cnn_avx2.c — the AVX2/FMA twins of the CNN kernels' ISA-dependent
 * routines (the table in kernels_cnn_isa.h). Each is commented with the
 * portable copy in kernels_cnn.c whose bits it must give: the same
 * operations in the same order for every output, lanes running across
 * filters or columns (never across the terms of one sum), one fused
 * multiply-add where the portable copy calls fmaf, a multiply then an add
 * where it writes a·b + c. Compiled for the target by function attributes;
 * kernels_cnn.c uses this table only where the CPU has AVX2 and FMA.
 */
#include <math.h>
#include <string.h>
#include "kernels_cnn_isa.h"
#ifdef HAVE_CNN_X86
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

/* ------------------------------------------------------------ convolution */

/* z = acc + bias (when bias), then z > 0 ? z : 0 (when relu: a NaN gives 0,
 * as the comparison is false), stored at o. */
INLINE AVX2 void conv_store(float *o, __m256 acc, const float *bias, int relu)
{
    if (bias) acc = _mm256_add_ps(acc, _mm256_loadu_ps(bias));
    if (relu) acc = _mm256_and_ps(acc, _mm256_cmp_ps(acc, _mm256_setzero_ps(), _CMP_GT_OQ));
    _mm256_storeu_ps(o, acc);
}

/* Twin of conv_rows_portable: for each output pixel and filter the fmaf
 * chain over j = (dy, dx, c) from 0, the filters in the lanes. Two pixels
 * × 32 filters at a time (eight chains, each weight row loaded once for
 * both), then one pixel × 32, then one pixel × 8, then filter by filter. */
AVX2 static void conv_rows_avx2(float *out, const float *xp, const float *w, const float *bias, int Hq,
                                int Wq, int C, int k, int F, int Ho, int Wo, long r0, long r1, int relu)
{
    for (long r = r0; r < r1; r++) {
        int b = (int)(r / Ho), y = (int)(r % Ho);
        const float *row = xp + ((size_t)b * Hq + y) * Wq * C;
        float *o = out + (size_t)r * Wo * F;
        int f = 0;
        for (; f + 32 <= F; f += 32) {
            const float *bf = bias ? bias + f : NULL;
            int x = 0;
            for (; x + 2 <= Wo; x += 2) {
                __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
                __m256 b0 = a0, b1 = a0, b2 = a0, b3 = a0;
                const float *wj = w + f;
                for (int dy = 0; dy < k; dy++)
                    for (int dx = 0; dx < k; dx++) {
                        const float *s = row + ((size_t)dy * Wq + x + dx) * C;
                        for (int c = 0; c < C; c++, wj += F) {
                            __m256 w0 = _mm256_loadu_ps(wj), w1 = _mm256_loadu_ps(wj + 8);
                            __m256 w2 = _mm256_loadu_ps(wj + 16), w3 = _mm256_loadu_ps(wj + 24);
                            __m256 u = _mm256_broadcast_ss(s + c), v = _mm256_broadcast_ss(s + C + c);
                            a0 = _mm256_fmadd_ps(u, w0, a0); a1 = _mm256_fmadd_ps(u, w1, a1);
                            a2 = _mm256_fmadd_ps(u, w2, a2); a3 = _mm256_fmadd_ps(u, w3, a3);
                            b0 = _mm256_fmadd_ps(v, w0, b0); b1 = _mm256_fmadd_ps(v, w1, b1);
                            b2 = _mm256_fmadd_ps(v, w2, b2); b3 = _mm256_fmadd_ps(v, w3, b3);
                        }
                    }
                float *o0 = o + (size_t)x * F + f, *o1 = o0 + F;
                conv_store(o0, a0, bf, relu); conv_store(o0 + 8, a1, bf ? bf + 8 : NULL, relu);
                conv_store(o0 + 16, a2, bf ? bf + 16 : NULL, relu); conv_store(o0 + 24, a3, bf ? bf + 24 : NULL, relu);
                conv_store(o1, b0, bf, relu); conv_store(o1 + 8, b1, bf ? bf + 8 : NULL, relu);
                conv_store(o1 + 16, b2, bf ? bf + 16 : NULL, relu); conv_store(o1 + 24, b3, bf ? bf + 24 : NULL, relu);
            }
            for (; x < Wo; x++) {
                __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
                const float *wj = w + f;
                for (int dy = 0; dy < k; dy++)
                    for (int dx = 0; dx < k; dx++) {
                        const float *s = row + ((size_t)dy * Wq + x + dx) * C;
                        for (int c = 0; c < C; c++, wj += F) {
                            __m256 u = _mm256_broadcast_ss(s + c);
                            a0 = _mm256_fmadd_ps(u, _mm256_loadu_ps(wj), a0);
                            a1 = _mm256_fmadd_ps(u, _mm256_loadu_ps(wj + 8), a1);
                            a2 = _mm256_fmadd_ps(u, _mm256_loadu_ps(wj + 16), a2);
                            a3 = _mm256_fmadd_ps(u, _mm256_loadu_ps(wj + 24), a3);
                        }
                    }
                float *o0 = o + (size_t)x * F + f;
                conv_store(o0, a0, bf, relu); conv_store(o0 + 8, a1, bf ? bf + 8 : NULL, relu);
                conv_store(o0 + 16, a2, bf ? bf + 16 : NULL, relu); conv_store(o0 + 24, a3, bf ? bf + 24 : NULL, relu);
            }
        }
        for (; f + 8 <= F; f += 8)
            for (int x = 0; x < Wo; x++) {
                __m256 a0 = _mm256_setzero_ps();
                const float *wj = w + f;
                for (int dy = 0; dy < k; dy++)
                    for (int dx = 0; dx < k; dx++) {
                        const float *s = row + ((size_t)dy * Wq + x + dx) * C;
                        for (int c = 0; c < C; c++, wj += F)
                            a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(s + c), _mm256_loadu_ps(wj), a0);
                    }
                conv_store(o + (size_t)x * F + f, a0, bias ? bias + f : NULL, relu);
            }
        for (; f < F; f++)
            for (int x = 0; x < Wo; x++) {
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

/* Rows per block of the weight gradient: the block of dout (≤ 128 rows ×
 * F) stays in L1 while every filter block and term group walks it. */
#define WG_RB 128
#define WG_MAXACC 4096   /* the partial sums kept between blocks: terms × filters */
#define WG_MAXJ 1024

/* One group of n ≤ 10 terms j (their offsets in off) × 8 filters over the
 * rows of a block (their pixel offsets in base): the n chains continue from
 * acc (n rows of stride nf), one FMA per term in row order; with_bias, the
 * float sum of dout's 8 columns continues in accb. */
INLINE AVX2 void wg_group(const int n, const int with_bias, float *acc, int nf, float *accb,
                          const float *xp, const size_t *base, const int *off, const float *g, int F, int rows)
{
    __m256 a[10], ab = with_bias ? _mm256_loadu_ps(accb) : _mm256_setzero_ps();
    #pragma GCC unroll 10
    for (int q = 0; q < n; q++) a[q] = _mm256_loadu_ps(acc + (size_t)q * nf);
    for (int i = 0; i < rows; i++) {
        __m256 gv = _mm256_loadu_ps(g + (size_t)i * F);
        const float *px = xp + base[i];
        if (with_bias) ab = _mm256_add_ps(ab, gv);
        #pragma GCC unroll 10
        for (int q = 0; q < n; q++) a[q] = _mm256_fmadd_ps(_mm256_broadcast_ss(px + off[q]), gv, a[q]);
    }
    #pragma GCC unroll 10
    for (int q = 0; q < n; q++) _mm256_storeu_ps(acc + (size_t)q * nf, a[q]);
    if (with_bias) _mm256_storeu_ps(accb, ab);
}

#define WG_CASE(N) case N: { if (wb) wg_group(N, 1, A, nf, AB, xp, base, off + j0, g, F, n); \
                             else wg_group(N, 0, A, nf, AB, xp, base, off + j0, g, F, n); } break;

/* Twin of conv_wgrad_portable: the same chains — for each weight the fmaf
 * chain over the rows in order from 0, then added to dw; for each bias the
 * float sum over the rows from 0 — with 8 filters in the lanes, the rows in
 * blocks (each chain continues from where the last block left it). */
AVX2 static void conv_wgrad_avx2(float *dw, float *dbias, const float *xp, const float *dout, int B,
                                 int Hq, int Wq, int C, int k, int F, int Ho, int Wo, int f0, int f1)
{
    int kkC = k * k * C, nf = f1 - f0, nv = nf / 8;
    if ((long)kkC * nf > WG_MAXACC || kkC > WG_MAXJ || nf > 256) {   /* a larger layer than the course's */
        cnn_portable.conv_wgrad(dw, dbias, xp, dout, B, Hq, Wq, C, k, F, Ho, Wo, f0, f1);
        return;
    }
    _Alignas(32) float acc[WG_MAXACC], accb[256];
    int off[WG_MAXJ];
    size_t base[WG_RB];
    for (int dy = 0, j = 0; dy < k; dy++)
        for (int dx = 0; dx < k; dx++)
            for (int c = 0; c < C; c++, j++) off[j] = (dy * Wq + dx) * C + c;
    memset(acc, 0, sizeof(float) * (size_t)kkC * nf);
    memset(accb, 0, sizeof(float) * (size_t)nf);
    long rows = (long)B * Ho * Wo;
    int b = 0, y = 0, x = 0;                     /* the pixel of row rb */
    for (long rb = 0; rb < rows; rb += WG_RB) {
        int n = rows - rb < WG_RB ? (int)(rows - rb) : WG_RB;
        for (int i = 0; i < n; i++) {
            base[i] = (((size_t)b * Hq + y) * Wq + x) * C;
            if (++x == Wo) { x = 0; if (++y == Ho) { y = 0; b++; } }
        }
        for (int v = 0; v < nv; v++) {
            const float *g = dout + (size_t)rb * F + f0 + 8 * v;
            float *AB = accb + 8 * v;
            for (int j0 = 0; j0 < kkC; j0 += 10) {
                int jn = kkC - j0 < 10 ? kkC - j0 : 10, wb = dbias && j0 == 0;
                float *A = acc + (size_t)j0 * nf + 8 * v;
                switch (jn) {
                    WG_CASE(1) WG_CASE(2) WG_CASE(3) WG_CASE(4) WG_CASE(5)
                    WG_CASE(6) WG_CASE(7) WG_CASE(8) WG_CASE(9) WG_CASE(10)
                }
            }
        }
        for (int fi = 8 * nv; fi < nf; fi++) {   /* the last filters, one at a time */
            const float *g = dout + (size_t)rb * F + f0 + fi;
            if (dbias) {
                float s = accb[fi];
                for (int i = 0; i < n; i++) s += g[(size_t)i * F];
                accb[fi] = s;
            }
            for (int j = 0; j < kkC; j++) {
                float s = acc[(size_t)j * nf + fi];
                for (int i = 0; i < n; i++) s = fmaf(xp[base[i] + off[j]], g[(size_t)i * F], s);
                acc[(size_t)j * nf + fi] = s;
            }
        }
    }
    for (int j = 0; j < kkC; j++)
        for (int fi = 0; fi < nf; fi++) dw[(size_t)j * F + f0 + fi] += acc[(size_t)j * nf + fi];
    if (dbias) for (int fi = 0; fi < nf; fi++) dbias[f0 + fi] += accb[fi];
}
#undef WG_CASE

/* ------------------------------------------------------------ batch norm */

INLINE AVX2 __m256d lo4(__m256 v) { return _mm256_cvtps_pd(_mm256_castps256_ps128(v)); }
INLINE AVX2 __m256d hi4(__m256 v) { return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)); }

/* Twin of col_sum_portable: per column the double sum over rows in order
 * from 0; 16 columns (four chains of four) at a time, then 4, then 1. */
AVX2 static void col_sum_avx2(double *s, const float *in, int R, int C, int c0, int c1)
{
    int c = c0;
    for (; c + 16 <= c1; c += 16) {
        __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
        const float *p = in + c;
        for (int r = 0; r < R; r++, p += C) {
            __m256 u = _mm256_loadu_ps(p), v = _mm256_loadu_ps(p + 8);
            a0 = _mm256_add_pd(a0, lo4(u)); a1 = _mm256_add_pd(a1, hi4(u));
            a2 = _mm256_add_pd(a2, lo4(v)); a3 = _mm256_add_pd(a3, hi4(v));
        }
        _mm256_storeu_pd(s + c, a0); _mm256_storeu_pd(s + c + 4, a1);
        _mm256_storeu_pd(s + c + 8, a2); _mm256_storeu_pd(s + c + 12, a3);
    }
    for (; c + 4 <= c1; c += 4) {
        __m256d a = _mm256_setzero_pd();
        const float *p = in + c;
        for (int r = 0; r < R; r++, p += C) a = _mm256_add_pd(a, _mm256_cvtps_pd(_mm_loadu_ps(p)));
        _mm256_storeu_pd(s + c, a);
    }
    for (; c < c1; c++) {
        double a = 0.0;
        for (int r = 0; r < R; r++) a += in[(size_t)r * C + c];
        s[c] = a;
    }
}

/* Twin of col_sqdev_portable: d = x − mean (double), q += d·d (a multiply,
 * then an add), rows in order from 0. */
AVX2 static void col_sqdev_avx2(double *q, const double *mean, const float *in, int R, int C, int c0, int c1)
{
    int c = c0;
    for (; c + 16 <= c1; c += 16) {
        __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
        __m256d m0 = _mm256_loadu_pd(mean + c), m1 = _mm256_loadu_pd(mean + c + 4);
        __m256d m2 = _mm256_loadu_pd(mean + c + 8), m3 = _mm256_loadu_pd(mean + c + 12);
        const float *p = in + c;
        for (int r = 0; r < R; r++, p += C) {
            __m256 u = _mm256_loadu_ps(p), v = _mm256_loadu_ps(p + 8);
            __m256d d0 = _mm256_sub_pd(lo4(u), m0), d1 = _mm256_sub_pd(hi4(u), m1);
            __m256d d2 = _mm256_sub_pd(lo4(v), m2), d3 = _mm256_sub_pd(hi4(v), m3);
            a0 = _mm256_add_pd(a0, _mm256_mul_pd(d0, d0)); a1 = _mm256_add_pd(a1, _mm256_mul_pd(d1, d1));
            a2 = _mm256_add_pd(a2, _mm256_mul_pd(d2, d2)); a3 = _mm256_add_pd(a3, _mm256_mul_pd(d3, d3));
        }
        _mm256_storeu_pd(q + c, a0); _mm256_storeu_pd(q + c + 4, a1);
        _mm256_storeu_pd(q + c + 8, a2); _mm256_storeu_pd(q + c + 12, a3);
    }
    for (; c + 4 <= c1; c += 4) {
        __m256d a = _mm256_setzero_pd(), m = _mm256_loadu_pd(mean + c);
        const float *p = in + c;
        for (int r = 0; r < R; r++, p += C) {
            __m256d d = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(p)), m);
            a = _mm256_add_pd(a, _mm256_mul_pd(d, d));
        }
        _mm256_storeu_pd(q + c, a);
    }
    for (; c < c1; c++) {
        double a = 0.0;
        for (int r = 0; r < R; r++) { double d = in[(size_t)r * C + c] - mean[c]; a += d * d; }
        q[c] = a;
    }
}

/* Twin of bn_apply_portable: xh = (x − mean)·istd, out = γ·xh + β (a
 * multiply, then an add), in float, 8 columns at a time. */
AVX2 static void bn_apply_avx2(float *out, float *xhat, const float *in, const float *mean, const float *istd,
                               const float *gamma, const float *beta, int R, int C, int c0, int c1)
{
    for (int r = 0; r < R; r++) {
        size_t o = (size_t)r * C;
        int c = c0;
        for (; c + 8 <= c1; c += 8) {
            __m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(in + o + c), _mm256_loadu_ps(mean + c)),
                                      _mm256_loadu_ps(istd + c));
            _mm256_storeu_ps(xhat + o + c, xh);
            if (gamma) xh = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(gamma + c), xh), _mm256_loadu_ps(beta + c));
            _mm256_storeu_ps(out + o + c, xh);
        }
        for (; c < c1; c++) {
            float xh = (in[o + c] - mean[c]) * istd[c];
            xhat[o + c] = xh;
            out[o + c] = gamma ? gamma[c] * xh + beta[c] : xh;
        }
    }
}

/* Twin of bn_grad_sums_portable: sg += dy, sgx += dy·x̂ (the product of two
 * floats, exact in double), double, rows in order from 0. */
AVX2 static void bn_grad_sums_avx2(double *sg, double *sgx, const float *dout, const float *xhat, int R, int C,
                                   int c0, int c1)
{
    int c = c0;
    for (; c + 8 <= c1; c += 8) {
        __m256d s0 = _mm256_setzero_pd(), s1 = s0, t0 = s0, t1 = s0;
        const float *g = dout + c, *xh = xhat + c;
        for (int r = 0; r < R; r++, g += C, xh += C) {
            __m256 u = _mm256_loadu_ps(g), v = _mm256_loadu_ps(xh);
            __m256d u0 = lo4(u), u1 = hi4(u);
            s0 = _mm256_add_pd(s0, u0); s1 = _mm256_add_pd(s1, u1);
            t0 = _mm256_add_pd(t0, _mm256_mul_pd(u0, lo4(v))); t1 = _mm256_add_pd(t1, _mm256_mul_pd(u1, hi4(v)));
        }
        _mm256_storeu_pd(sg + c, s0); _mm256_storeu_pd(sg + c + 4, s1);
        _mm256_storeu_pd(sgx + c, t0); _mm256_storeu_pd(sgx + c + 4, t1);
    }
    for (; c < c1; c++) {
        double s = 0.0, t = 0.0;
        for (int r = 0; r < R; r++) {
            float g = dout[(size_t)r * C + c];
            s += g;
            t += (double)g * xhat[(size_t)r * C + c];
        }
        sg[c] = s, sgx[c] = t;
    }
}

/* Twin of bn_grad_dx_portable: d = sc·((dy − mg) − x̂·mgx) or sc·dy, in
 * float, then 0 where relu_y is not > 0. */
AVX2 static void bn_grad_dx_avx2(float *dx, const float *dout, const float *xhat, const float *sc, const float *mg,
                                 const float *mgx, const float *relu_y, int R, int C, int c0, int c1)
{
    const __m256 zero = _mm256_setzero_ps();
    for (int r = 0; r < R; r++) {
        size_t o = (size_t)r * C;
        int c = c0;
        for (; c + 8 <= c1; c += 8) {
            __m256 g = _mm256_loadu_ps(dout + o + c), s = _mm256_loadu_ps(sc + c - c0), d;
            if (mg) {
                __m256 t = _mm256_sub_ps(g, _mm256_loadu_ps(mg + c - c0));
                t = _mm256_sub_ps(t, _mm256_mul_ps(_mm256_loadu_ps(xhat + o + c), _mm256_loadu_ps(mgx + c - c0)));
                d = _mm256_mul_ps(s, t);
            } else d = _mm256_mul_ps(s, g);
            if (relu_y) d = _mm256_and_ps(d, _mm256_cmp_ps(_mm256_loadu_ps(relu_y + o + c), zero, _CMP_GT_OQ));
            _mm256_storeu_ps(dx + o + c, d);
        }
        for (; c < c1; c++) {
            float d = mg ? sc[c - c0] * (dout[o + c] - mg[c - c0] - xhat[o + c] * mgx[c - c0]) : sc[c - c0] * dout[o + c];
            dx[o + c] = relu_y && !(relu_y[o + c] > 0.0f) ? 0.0f : d;
        }
    }
}

/* ------------------------------------------------------------ max-pooling */

/* Twin of pool_fwd_portable: the window's top-left value, then each other
 * in row-major order replacing it where strictly greater (an ordered
 * comparison: a NaN never replaces, as `>` in C), 8 channels at a time. */
AVX2 static void pool_fwd_avx2(float *out, int32_t *argmax, const float *in, int H, int W, int C, int pool,
                               int b0, int b1)
{
    int Hp = H / pool, Wp = W / pool;
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int b = b0; b < b1; b++)
        for (int y = 0; y < Hp; y++)
            for (int x = 0; x < Wp; x++) {
                int32_t base = (int32_t)((((size_t)b * H + y * pool) * W + x * pool) * C);
                size_t o = (((size_t)b * Hp + y) * Wp + x) * C;
                int c = 0;
                for (; c + 8 <= C; c += 8) {
                    __m256 best = _mm256_loadu_ps(in + base + c);
                    __m256i at = _mm256_add_epi32(_mm256_set1_epi32(base + c), iota);
                    for (int i = 0; i < pool; i++)
                        for (int j = 0; j < pool; j++) {
                            if (i == 0 && j == 0) continue;
                            int32_t off = base + (int32_t)(((size_t)i * W + j) * C) + c;
                            __m256 v = _mm256_loadu_ps(in + off);
                            __m256 gt = _mm256_cmp_ps(v, best, _CMP_GT_OQ);
                            best = _mm256_blendv_ps(best, v, gt);
                            at = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(at),
                                     _mm256_castsi256_ps(_mm256_add_epi32(_mm256_set1_epi32(off), iota)), gt));
                        }
                    _mm256_storeu_ps(out + o + c, best);
                    _mm256_storeu_si256((__m256i *)(argmax + o + c), at);
                }
                for (; c < C; c++) {
                    float bv = in[base + c];
                    int32_t ba = base + c;
                    for (int i = 0; i < pool; i++)
                        for (int j = 0; j < pool; j++) {
                            if (i == 0 && j == 0) continue;
                            int32_t off = base + (int32_t)(((size_t)i * W + j) * C) + c;
                            if (in[off] > bv) { bv = in[off]; ba = off; }
                        }
                    out[o + c] = bv;
                    argmax[o + c] = ba;
                }
            }
}

/* Twin of pool_bwd_portable: each pixel once, 0 + dout where it is its
 * window's argmax, else 0, 8 channels at a time. */
AVX2 static void pool_bwd_avx2(float *din, const float *dout, const int32_t *argmax, int H, int W, int C,
                               int pool, int b0, int b1)
{
    int Hp = H / pool, Wp = W / pool;
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256 zero = _mm256_setzero_ps();
    for (int b = b0; b < b1; b++)
        for (int yy = 0, y = 0, i = 0; yy < H; yy++, i = i + 1 == pool ? 0 : i + 1, y += i == 0) {   /* y = yy / pool */
            for (int xx = 0, x = 0, j = 0; xx < W; xx++, j = j + 1 == pool ? 0 : j + 1, x += j == 0) {
                int32_t i0 = (int32_t)((((size_t)b * H + yy) * W + xx) * C);
                float *d = din + i0;
                if (y >= Hp || x >= Wp) { memset(d, 0, sizeof(float) * (size_t)C); continue; }
                size_t o = (((size_t)b * Hp + y) * Wp + x) * C;
                int c = 0;
                for (; c + 8 <= C; c += 8) {
                    __m256i at = _mm256_loadu_si256((const __m256i *)(argmax + o + c));
                    __m256i me = _mm256_add_epi32(_mm256_set1_epi32(i0 + c), iota);
                    __m256 g = _mm256_add_ps(zero, _mm256_loadu_ps(dout + o + c));
                    _mm256_storeu_ps(d + c, _mm256_and_ps(g, _mm256_castsi256_ps(_mm256_cmpeq_epi32(at, me))));
                }
                for (; c < C; c++) d[c] = argmax[o + c] == i0 + c ? 0.0f + dout[o + c] : 0.0f;
            }
        }
}

/* ------------------------------------------------------------ batch norm + max-pool */

/* v = γ·((x − mean)·istd) + β (or without γ, β) on 8 channels: bn_apply's operations. */
INLINE AVX2 __m256 bn_value8(const float *x, __m256 m, __m256 s, const float *gamma, __m256 g, __m256 be)
{
    __m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x), m), s);
    return gamma ? _mm256_add_ps(_mm256_mul_ps(g, xh), be) : xh;
}

/* Twin of bnp_fwd_portable: pool_fwd_avx2's comparisons over bn_apply's values. */
AVX2 static void bnp_fwd_avx2(float *pooled, int32_t *argmax, const float *in, const float *mean, const float *istd,
                              const float *gamma, const float *beta, int B, int H, int W, int C, int pool, int b0, int b1,
                              int c0, int c1)
{
    (void)B;
    int Hp = H / pool, Wp = W / pool;
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    int cv = c0 + (c1 - c0) / 8 * 8;   /* channels [cv, c1): the portable copy, after */
    for (int b = b0; b < b1; b++)
        for (int y = 0; y < Hp; y++)
            for (int x = 0; x < Wp; x++) {
                int32_t base = (int32_t)((((size_t)b * H + y * pool) * W + x * pool) * C);
                size_t o = (((size_t)b * Hp + y) * Wp + x) * C;
                for (int c = c0; c < cv; c += 8) {
                    __m256 m = _mm256_loadu_ps(mean + c), s = _mm256_loadu_ps(istd + c);
                    __m256 g = gamma ? _mm256_loadu_ps(gamma + c) : m, be = gamma ? _mm256_loadu_ps(beta + c) : m;
                    __m256 best = bn_value8(in + base + c, m, s, gamma, g, be);
                    __m256i at = _mm256_add_epi32(_mm256_set1_epi32(base + c), iota);
                    for (int i = 0; i < pool; i++)
                        for (int j = 0; j < pool; j++) {
                            if (i == 0 && j == 0) continue;
                            int32_t off = base + (int32_t)(((size_t)i * W + j) * C) + c;
                            __m256 v = bn_value8(in + off, m, s, gamma, g, be);
                            __m256 gt = _mm256_cmp_ps(v, best, _CMP_GT_OQ);
                            best = _mm256_blendv_ps(best, v, gt);
                            at = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(at),
                                     _mm256_castsi256_ps(_mm256_add_epi32(_mm256_set1_epi32(off), iota)), gt));
                        }
                    _mm256_storeu_ps(pooled + o + c, best);
                    _mm256_storeu_si256((__m256i *)(argmax + o + c), at);
                }
            }
    if (cv < c1) cnn_portable.bnp_fwd(pooled, argmax, in, mean, istd, gamma, beta, B, H, W, C, pool, b0, b1, cv, c1);
}

/* The pooled gradient landing on 8 channels of pixel index i0 (+ c): 0 +
 * dpooled where the window's argmax is this pixel, else 0 (pool_bwd_avx2). */
INLINE AVX2 __m256 pool_grad8(const float *dp, const int32_t *am, int32_t i0, __m256i iota)
{
    __m256i me = _mm256_add_epi32(_mm256_set1_epi32(i0), iota);
    __m256 g = _mm256_add_ps(_mm256_setzero_ps(), _mm256_loadu_ps(dp));
    return _mm256_and_ps(g, _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_loadu_si256((const __m256i *)am), me)));
}

/* dy and x̂ of 8 channels c of pixel (b, yy, xx), i0 its index + c. */
INLINE AVX2 void bnp_dy_xh8(__m256 *g, __m256 *xh, const float *dpooled, const int32_t *argmax, const float *in,
                            const float *mean, const float *istd, int32_t i0, size_t o, int win, __m256i iota)
{
    *g = win ? pool_grad8(dpooled + o, argmax + o, i0, iota) : _mm256_setzero_ps();
    *xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(in + i0), _mm256_loadu_ps(mean)), _mm256_loadu_ps(istd));
}

/* Twin of bnp_grad_sums_portable: bn_grad_sums_avx2's sums, pixel by pixel
 * in order, over dy from pool_grad8 (0 outside every window) and x̂
 * recomputed; 16 channels (a cache line of each pixel) at a time, then 8,
 * the rest with the portable copy. */
AVX2 static void bnp_grad_sums_avx2(double *sg, double *sgx, const float *dpooled, const int32_t *argmax,
                                    const float *in, const float *mean, const float *istd, int B, int H, int W,
                                    int C, int pool, int c0, int c1)
{
    int Hp = H / pool, Wp = W / pool;
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    int c = c0;
    for (; c + 8 <= c1; c += c + 16 <= c1 ? 16 : 8) {
        int two = c + 16 <= c1;
        __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0, t0 = s0, t1 = s0, t2 = s0, t3 = s0;
        for (int b = 0; b < B; b++)
            for (int yy = 0, wy = 0, wi = 0; yy < H; yy++, wi = wi + 1 == pool ? 0 : wi + 1, wy += wi == 0)   /* wy = yy / pool */
                for (int xx = 0, wx = 0, wj = 0; xx < W; xx++, wj = wj + 1 == pool ? 0 : wj + 1, wx += wj == 0) {
                    int32_t i0 = (int32_t)((((size_t)b * H + yy) * W + xx) * C) + c;
                    int win = wy < Hp && wx < Wp;
                    size_t o = win ? (((size_t)b * Hp + wy) * Wp + wx) * C + c : 0;
                    __m256 g, xh;
                    bnp_dy_xh8(&g, &xh, dpooled, argmax, in, mean + c, istd + c, i0, o, win, iota);
                    __m256d u0 = lo4(g), u1 = hi4(g);
                    s0 = _mm256_add_pd(s0, u0); s1 = _mm256_add_pd(s1, u1);
                    t0 = _mm256_add_pd(t0, _mm256_mul_pd(u0, lo4(xh))); t1 = _mm256_add_pd(t1, _mm256_mul_pd(u1, hi4(xh)));
                    if (two) {
                        bnp_dy_xh8(&g, &xh, dpooled, argmax, in, mean + c + 8, istd + c + 8, i0 + 8, o + 8, win, iota);
                        u0 = lo4(g), u1 = hi4(g);
                        s2 = _mm256_add_pd(s2, u0); s3 = _mm256_add_pd(s3, u1);
                        t2 = _mm256_add_pd(t2, _mm256_mul_pd(u0, lo4(xh))); t3 = _mm256_add_pd(t3, _mm256_mul_pd(u1, hi4(xh)));
                    }
                }
        _mm256_storeu_pd(sg + c, s0); _mm256_storeu_pd(sg + c + 4, s1);
        _mm256_storeu_pd(sgx + c, t0); _mm256_storeu_pd(sgx + c + 4, t1);
        if (two) {
            _mm256_storeu_pd(sg + c + 8, s2); _mm256_storeu_pd(sg + c + 12, s3);
            _mm256_storeu_pd(sgx + c + 8, t2); _mm256_storeu_pd(sgx + c + 12, t3);
        }
    }
    if (c < c1) cnn_portable.bnp_grad_sums(sg, sgx, dpooled, argmax, in, mean, istd, B, H, W, C, pool, c, c1);
}

/* Twin of bnp_grad_dx_portable: bn_grad_dx_avx2's operations over that dy
 * and x̂, the ReLU mask from in. */
AVX2 static void bnp_grad_dx_avx2(float *dx, const float *dpooled, const int32_t *argmax, const float *in,
                                  const float *mean, const float *istd, const float *sc, const float *mg,
                                  const float *mgx, int relu, int B, int H, int W, int C, int pool, int b0, int b1,
                                  int c0, int c1)
{
    (void)B;
    int Hp = H / pool, Wp = W / pool;
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256 zero = _mm256_setzero_ps();
    for (int b = b0; b < b1; b++)
        for (int yy = 0, wy = 0, wi = 0; yy < H; yy++, wi = wi + 1 == pool ? 0 : wi + 1, wy += wi == 0)   /* wy = yy / pool */
            for (int xx = 0, wx = 0, wj = 0; xx < W; xx++, wj = wj + 1 == pool ? 0 : wj + 1, wx += wj == 0) {
                int32_t p0 = (int32_t)((((size_t)b * H + yy) * W + xx) * C);
                int win = wy < Hp && wx < Wp;
                size_t o = win ? (((size_t)b * Hp + wy) * Wp + wx) * C : 0;
                int c = c0;
                for (; c + 8 <= c1; c += 8) {
                    __m256 g = win ? pool_grad8(dpooled + o + c, argmax + o + c, p0 + c, iota) : zero;
                    __m256 x = _mm256_loadu_ps(in + p0 + c);
                    __m256 xh = _mm256_mul_ps(_mm256_sub_ps(x, _mm256_loadu_ps(mean + c)), _mm256_loadu_ps(istd + c));
                    __m256 s = _mm256_loadu_ps(sc + c - c0), d;
                    if (mg) {
                        __m256 t = _mm256_sub_ps(g, _mm256_loadu_ps(mg + c - c0));
                        t = _mm256_sub_ps(t, _mm256_mul_ps(xh, _mm256_loadu_ps(mgx + c - c0)));
                        d = _mm256_mul_ps(s, t);
                    } else d = _mm256_mul_ps(s, g);
                    if (relu) d = _mm256_and_ps(d, _mm256_cmp_ps(x, zero, _CMP_GT_OQ));
                    _mm256_storeu_ps(dx + p0 + c, d);
                }
                for (; c < c1; c++) {
                    float g = win && argmax[o + c] == p0 + c ? 0.0f + dpooled[o + c] : 0.0f;
                    float xh = (in[p0 + c] - mean[c]) * istd[c];
                    float d = mg ? sc[c - c0] * (g - mg[c - c0] - xh * mgx[c - c0]) : sc[c - c0] * g;
                    dx[p0 + c] = relu && !(in[p0 + c] > 0.0f) ? 0.0f : d;
                }
            }
}

const cnn_isa_table cnn_avx2 = {
    "avx2", conv_rows_avx2, conv_wgrad_avx2, col_sum_avx2, col_sqdev_avx2, bn_apply_avx2,
    bn_grad_sums_avx2, bn_grad_dx_avx2, pool_fwd_avx2, pool_bwd_avx2, bnp_fwd_avx2, bnp_grad_sums_avx2,
    bnp_grad_dx_avx2,
};

#endif
