/* kernels_cnn_avx512.c — the AVX-512 twins of two CNN kernels (the table
 * in kernels_cnn_isa.h): the convolution's forward rows and the fused
 * batch norm + max-pool forward, sixteen filters or channels to a register.
 * The lanes run across filters or channels, never across the terms of one
 * sum, so the width changes nothing in any output: each routine does its
 * portable copy's operations (kernels_cnn.c) in their order, as the AVX2
 * twins do, and the last partial block of 16 is masked rather than left to
 * a scalar loop. The rest of the table is the AVX2 twins'.
 *
 * On the project's Intel AVX-512 machine the two took 1.4 ms each of the
 * CNN's 27 ms step at 1 thread with the AVX2 twins (perf), both bound by
 * instructions: the convolution has one input channel (9 terms a sum) and
 * stores 32 floats a pixel, the pooling compares and blends each value.
 */
#include <string.h>
#include "kernels_cnn_isa.h"
#ifdef HAVE_CNN_X86
#include <immintrin.h>

#define T512 __attribute__((target("avx512f")))
#define INLINE static inline __attribute__((always_inline))

/* The lanes of a block of up to 16 filters or channels from c, of n. */
INLINE __mmask16 lanes(int c, int n) { return n - c >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - c)) - 1); }

/* z = acc + bias (when bias), then z > 0 ? z : 0 (when relu: a NaN gives
 * 0, as the comparison is false), stored at o in the lanes of m
 * (conv_store of the AVX2 twin). */
INLINE T512 void store16(float *o, __m512 acc, const float *bias, int relu, __mmask16 m)
{
    if (bias) acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(m, bias));
    if (relu) acc = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(acc, _mm512_setzero_ps(), _CMP_GT_OQ), acc);
    _mm512_mask_storeu_ps(o, m, acc);
}

/* Twin of conv_rows_portable: for each output pixel and filter the fmaf
 * chain over j = (dy, dx, c) from 0, the filters in the lanes. Blocks of
 * 32 filters (two registers, the last block masked), four pixels at a time
 * (eight chains, each weight row loaded once for the four), then one. */
T512 static void conv_rows_avx512(float *out, const float *xp, const float *w, const float *bias, int Hq,
                                  int Wq, int C, int k, int F, int Ho, int Wo, long r0, long r1, int relu)
{
    for (long r = r0; r < r1; r++) {
        int b = (int)(r / Ho), y = (int)(r % Ho);
        const float *row = xp + ((size_t)b * Hq + y) * Wq * C;
        float *o = out + (size_t)r * Wo * F;
        for (int f = 0; f < F; f += 32) {
            __mmask16 m0 = lanes(f, F), m1 = f + 16 < F ? lanes(f + 16, F) : 0;
            const float *bf = bias ? bias + f : NULL, *bf1 = bias ? bias + f + 16 : NULL;
            int x = 0;
            for (; x + 4 <= Wo; x += 4) {
                __m512 a0 = _mm512_setzero_ps(), a1 = a0, b0 = a0, b1 = a0;
                __m512 c0 = a0, c1 = a0, d0 = a0, d1 = a0;
                const float *wj = w + f;
                for (int dy = 0; dy < k; dy++)
                    for (int dx = 0; dx < k; dx++) {
                        const float *s = row + ((size_t)dy * Wq + x + dx) * C;
                        for (int c = 0; c < C; c++, wj += F) {
                            __m512 w0 = _mm512_maskz_loadu_ps(m0, wj), w1 = _mm512_maskz_loadu_ps(m1, wj + 16);
                            __m512 u = _mm512_set1_ps(s[c]), v = _mm512_set1_ps(s[C + c]);
                            __m512 p = _mm512_set1_ps(s[2 * C + c]), q = _mm512_set1_ps(s[3 * C + c]);
                            a0 = _mm512_fmadd_ps(u, w0, a0); a1 = _mm512_fmadd_ps(u, w1, a1);
                            b0 = _mm512_fmadd_ps(v, w0, b0); b1 = _mm512_fmadd_ps(v, w1, b1);
                            c0 = _mm512_fmadd_ps(p, w0, c0); c1 = _mm512_fmadd_ps(p, w1, c1);
                            d0 = _mm512_fmadd_ps(q, w0, d0); d1 = _mm512_fmadd_ps(q, w1, d1);
                        }
                    }
                float *o0 = o + (size_t)x * F + f;
                store16(o0, a0, bf, relu, m0);                 store16(o0 + 16, a1, bf1, relu, m1);
                store16(o0 + F, b0, bf, relu, m0);             store16(o0 + F + 16, b1, bf1, relu, m1);
                store16(o0 + 2 * (size_t)F, c0, bf, relu, m0); store16(o0 + 2 * (size_t)F + 16, c1, bf1, relu, m1);
                store16(o0 + 3 * (size_t)F, d0, bf, relu, m0); store16(o0 + 3 * (size_t)F + 16, d1, bf1, relu, m1);
            }
            for (; x < Wo; x++) {
                __m512 a0 = _mm512_setzero_ps(), a1 = a0;
                const float *wj = w + f;
                for (int dy = 0; dy < k; dy++)
                    for (int dx = 0; dx < k; dx++) {
                        const float *s = row + ((size_t)dy * Wq + x + dx) * C;
                        for (int c = 0; c < C; c++, wj += F) {
                            __m512 u = _mm512_set1_ps(s[c]);
                            a0 = _mm512_fmadd_ps(u, _mm512_maskz_loadu_ps(m0, wj), a0);
                            a1 = _mm512_fmadd_ps(u, _mm512_maskz_loadu_ps(m1, wj + 16), a1);
                        }
                    }
                float *o0 = o + (size_t)x * F + f;
                store16(o0, a0, bf, relu, m0); store16(o0 + 16, a1, bf1, relu, m1);
            }
        }
    }
}

/* v = γ·((x − mean)·istd) + β (or without γ, β) on the lanes of m:
 * bn_apply's operations, a multiply then an add. */
INLINE T512 __m512 bn_value16(const float *x, __m512 mu, __m512 s, int affine, __m512 g, __m512 be, __mmask16 m)
{
    __m512 xh = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x), mu), s);
    return affine ? _mm512_add_ps(_mm512_mul_ps(g, xh), be) : xh;
}

/* Twin of bnp_fwd_portable: pool_fwd's comparisons (the first maximum of
 * each window: a later value replaces it only when greater) over
 * bn_apply's values, sixteen channels at a time, the last block masked. */
T512 static void bnp_fwd_avx512(float *pooled, int32_t *argmax, const float *in, const float *mean, const float *istd,
                                const float *gamma, const float *beta, int B, int H, int W, int C, int pool, int b0,
                                int b1, int c0, int c1)
{
    (void)B;
    int Hp = H / pool, Wp = W / pool, affine = gamma != NULL;
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int b = b0; b < b1; b++)
        for (int y = 0; y < Hp; y++)
            for (int x = 0; x < Wp; x++) {
                int32_t base = (int32_t)((((size_t)b * H + y * pool) * W + x * pool) * C);
                size_t o = (((size_t)b * Hp + y) * Wp + x) * C;
                for (int c = c0; c < c1; c += 16) {
                    __mmask16 m = lanes(c, c1);
                    __m512 mu = _mm512_maskz_loadu_ps(m, mean + c), s = _mm512_maskz_loadu_ps(m, istd + c);
                    __m512 g = affine ? _mm512_maskz_loadu_ps(m, gamma + c) : mu;
                    __m512 be = affine ? _mm512_maskz_loadu_ps(m, beta + c) : mu;
                    __m512 best = bn_value16(in + base + c, mu, s, affine, g, be, m);
                    __m512i at = _mm512_add_epi32(_mm512_set1_epi32(base + c), iota);
                    for (int i = 0; i < pool; i++)
                        for (int j = 0; j < pool; j++) {
                            if (i == 0 && j == 0) continue;
                            int32_t off = base + (int32_t)(((size_t)i * W + j) * C) + c;
                            __m512 v = bn_value16(in + off, mu, s, affine, g, be, m);
                            __mmask16 gt = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ);
                            best = _mm512_mask_blend_ps(gt, best, v);
                            at = _mm512_mask_blend_epi32(gt, at, _mm512_add_epi32(_mm512_set1_epi32(off), iota));
                        }
                    _mm512_mask_storeu_ps(pooled + o + c, m, best);
                    _mm512_mask_storeu_epi32(argmax + o + c, m, at);
                }
            }
}

void cnn_avx512_table(cnn_isa_table *t)
{
    *t = cnn_avx2;
    t->name = "avx512";
    t->conv_rows = conv_rows_avx512;
    t->bnp_fwd = bnp_fwd_avx512;
}
#else
typedef int kernels_cnn_avx512_unused;   /* (ISO C: no empty translation unit) */
#endif
