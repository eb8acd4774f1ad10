/* kernels_avx512.c — the AVX-512 twins of the product's routines (the table
 * in kernels_isa.h): the micro-kernels, the sigmoid and Adam, 16 lanes
 * wide. Where the CPU runs 512-bit fused multiply-adds at full rate
 * (measured on this project's machines, AMD Zen 5: 222 GFLOP/s on one core
 * against 113 with 8-wide AVX2), one 16-float row of a tile is one register;
 * the sigmoid of 96 floats takes 178 ns against the AVX2 twin's 278 (Intel
 * Xeon, model 167).
 *
 * Each routine is commented with the portable copy in kernels.c whose bits
 * it must give: the same operations in the same order, lane by lane, one
 * fused multiply-add where the portable copy calls fmaf. The rest of the
 * table (axpy, dot, the sparse rows, the per-sample SGD row) is
 * the AVX2 table's: kernels_avx512_table copies it and replaces these.
 * Sixteen-lane twins of the sparse rows and of the per-sample SGD row
 * (the same bits) made lesson 05 slower: 58.1 and 60.2 s against 49.6 and
 * 51.9 s, alternating runs on the Xeon. The rows of its 300-wide layer
 * are 1200 bytes apart, so three rows in four start inside a cache line
 * and each of their 64-byte loads spans two lines.
 */
#include <math.h>
#include <string.h>
#include "kernels_isa.h"
#ifdef HAVE_X86
#include <immintrin.h>

#define T512 __attribute__((target("avx512f")))

/* Twin of kern_portable (kernels.c): the 6×16 tile in six registers, one
 * per row; per k, one load of bp's row and six broadcasts of A. */
T512 static void kern_avx512(int kc, const float *restrict ap, const float *restrict bp,
                             const float *tin, float *tout, const prefetch_run *pf)
{
    __m512 c0, c1, c2, c3, c4, c5;
    if (tin) {
        c0 = _mm512_loadu_ps(tin + 0);  c1 = _mm512_loadu_ps(tin + 16);
        c2 = _mm512_loadu_ps(tin + 32); c3 = _mm512_loadu_ps(tin + 48);
        c4 = _mm512_loadu_ps(tin + 64); c5 = _mm512_loadu_ps(tin + 80);
    } else c0 = c1 = c2 = c3 = c4 = c5 = _mm512_setzero_ps();
    PF_SETUP(pf, kc);
    for (int k = 0; k < kc; k++) {
        PF_STEP(k);
        __m512 b = _mm512_loadu_ps(bp);
        c0 = _mm512_fmadd_ps(_mm512_set1_ps(ap[0]), b, c0);
        c1 = _mm512_fmadd_ps(_mm512_set1_ps(ap[1]), b, c1);
        c2 = _mm512_fmadd_ps(_mm512_set1_ps(ap[2]), b, c2);
        c3 = _mm512_fmadd_ps(_mm512_set1_ps(ap[3]), b, c3);
        c4 = _mm512_fmadd_ps(_mm512_set1_ps(ap[4]), b, c4);
        c5 = _mm512_fmadd_ps(_mm512_set1_ps(ap[5]), b, c5);
        ap += MR; bp += NR;
    }
    _mm512_storeu_ps(tout + 0, c0);  _mm512_storeu_ps(tout + 16, c1);
    _mm512_storeu_ps(tout + 32, c2); _mm512_storeu_ps(tout + 48, c3);
    _mm512_storeu_ps(tout + 64, c4); _mm512_storeu_ps(tout + 80, c5);
}

/* Twin of kern_rows_portable (kernels.c): kern_avx512's loop with the six
 * values of A broadcast from six rows read in place. */
T512 static void kern_rows_avx512(int kc, const float *const *a, const float *restrict bp, float *tout,
                                 const prefetch_run *pf)
{
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
    __m512 c0, c1, c2, c3, c4, c5;
    c0 = c1 = c2 = c3 = c4 = c5 = _mm512_setzero_ps();
    PF_SETUP(pf, kc);
    for (int k = 0; k < kc; k++) {
        PF_STEP(k);
        __m512 b = _mm512_loadu_ps(bp);
        c0 = _mm512_fmadd_ps(_mm512_set1_ps(a0[k]), b, c0);
        c1 = _mm512_fmadd_ps(_mm512_set1_ps(a1[k]), b, c1);
        c2 = _mm512_fmadd_ps(_mm512_set1_ps(a2[k]), b, c2);
        c3 = _mm512_fmadd_ps(_mm512_set1_ps(a3[k]), b, c3);
        c4 = _mm512_fmadd_ps(_mm512_set1_ps(a4[k]), b, c4);
        c5 = _mm512_fmadd_ps(_mm512_set1_ps(a5[k]), b, c5);
        bp += NR;
    }
    _mm512_storeu_ps(tout + 0, c0);  _mm512_storeu_ps(tout + 16, c1);
    _mm512_storeu_ps(tout + 32, c2); _mm512_storeu_ps(tout + 48, c3);
    _mm512_storeu_ps(tout + 64, c4); _mm512_storeu_ps(tout + 80, c5);
}

/* The two tiles' rows (c of tout0, d of tout1) at tout + i·ldo, each 0 +
 * its sum when pz (kernels_isa.h: kern2). */
static inline __attribute__((always_inline)) T512 void
store2(float *tout0, float *tout1, size_t ldo, int pz, __m512 c0, __m512 c1, __m512 c2, __m512 c3,
       __m512 c4, __m512 c5, __m512 d0, __m512 d1, __m512 d2, __m512 d3, __m512 d4, __m512 d5)
{
    if (pz) {
        const __m512 z = _mm512_setzero_ps();
        c0 = _mm512_add_ps(z, c0); c1 = _mm512_add_ps(z, c1); c2 = _mm512_add_ps(z, c2);
        c3 = _mm512_add_ps(z, c3); c4 = _mm512_add_ps(z, c4); c5 = _mm512_add_ps(z, c5);
        d0 = _mm512_add_ps(z, d0); d1 = _mm512_add_ps(z, d1); d2 = _mm512_add_ps(z, d2);
        d3 = _mm512_add_ps(z, d3); d4 = _mm512_add_ps(z, d4); d5 = _mm512_add_ps(z, d5);
    }
    _mm512_storeu_ps(tout0, c0);           _mm512_storeu_ps(tout0 + ldo, c1);
    _mm512_storeu_ps(tout0 + 2 * ldo, c2); _mm512_storeu_ps(tout0 + 3 * ldo, c3);
    _mm512_storeu_ps(tout0 + 4 * ldo, c4); _mm512_storeu_ps(tout0 + 5 * ldo, c5);
    _mm512_storeu_ps(tout1, d0);           _mm512_storeu_ps(tout1 + ldo, d1);
    _mm512_storeu_ps(tout1 + 2 * ldo, d2); _mm512_storeu_ps(tout1 + 3 * ldo, d3);
    _mm512_storeu_ps(tout1 + 4 * ldo, d4); _mm512_storeu_ps(tout1 + 5 * ldo, d5);
}

/* Two tiles of kern_portable side by side (kernels_isa.h: kern2): twelve
 * registers, two loads of B and six broadcasts of A per k, so that twelve
 * sums are in flight where one tile has six (a multiply-add's latency is
 * four cycles and two issue per cycle: six chains reach 3/4 of the peak). */
T512 static void kern2_avx512(int kc, const float *restrict ap, const float *restrict bp0,
                              const float *restrict bp1, const float *tin0, const float *tin1,
                              float *tout0, float *tout1, size_t ldo, int pz, const prefetch_run *pf)
{
    __m512 c0, c1, c2, c3, c4, c5, d0, d1, d2, d3, d4, d5;
    if (tin0) {
        c0 = _mm512_loadu_ps(tin0 + 0);  c1 = _mm512_loadu_ps(tin0 + 16);
        c2 = _mm512_loadu_ps(tin0 + 32); c3 = _mm512_loadu_ps(tin0 + 48);
        c4 = _mm512_loadu_ps(tin0 + 64); c5 = _mm512_loadu_ps(tin0 + 80);
        d0 = _mm512_loadu_ps(tin1 + 0);  d1 = _mm512_loadu_ps(tin1 + 16);
        d2 = _mm512_loadu_ps(tin1 + 32); d3 = _mm512_loadu_ps(tin1 + 48);
        d4 = _mm512_loadu_ps(tin1 + 64); d5 = _mm512_loadu_ps(tin1 + 80);
    } else c0 = c1 = c2 = c3 = c4 = c5 = d0 = d1 = d2 = d3 = d4 = d5 = _mm512_setzero_ps();
    PF_SETUP(pf, kc);
    for (int k = 0; k < kc; k++) {
        PF_STEP(k);
        __m512 b = _mm512_loadu_ps(bp0), e = _mm512_loadu_ps(bp1), x;
#define ROW(i, ci, di) x = _mm512_set1_ps(ap[i]); ci = _mm512_fmadd_ps(x, b, ci); di = _mm512_fmadd_ps(x, e, di);
        ROW(0, c0, d0) ROW(1, c1, d1) ROW(2, c2, d2) ROW(3, c3, d3) ROW(4, c4, d4) ROW(5, c5, d5)
#undef ROW
        ap += MR; bp0 += NR; bp1 += NR;
    }
    store2(tout0, tout1, ldo, pz, c0, c1, c2, c3, c4, c5, d0, d1, d2, d3, d4, d5);
}

/* Two tiles of kern_rows_portable side by side (kern_rows2): as kern2_avx512
 * with the six values of A broadcast from six rows read in place. */
T512 static void kern_rows2_avx512(int kc, const float *const *a, const float *restrict bp0,
                                   const float *restrict bp1, float *tout0, float *tout1,
                                   const prefetch_run *pf)
{
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
    __m512 c0, c1, c2, c3, c4, c5, d0, d1, d2, d3, d4, d5;
    c0 = c1 = c2 = c3 = c4 = c5 = d0 = d1 = d2 = d3 = d4 = d5 = _mm512_setzero_ps();
    PF_SETUP(pf, kc);
    for (int k = 0; k < kc; k++) {
        PF_STEP(k);
        __m512 b = _mm512_loadu_ps(bp0), e = _mm512_loadu_ps(bp1), x;
#define ROW(ai, ci, di) x = _mm512_set1_ps(ai[k]); ci = _mm512_fmadd_ps(x, b, ci); di = _mm512_fmadd_ps(x, e, di);
        ROW(a0, c0, d0) ROW(a1, c1, d1) ROW(a2, c2, d2) ROW(a3, c3, d3) ROW(a4, c4, d4) ROW(a5, c5, d5)
#undef ROW
        bp0 += NR; bp1 += NR;
    }
    store2(tout0, tout1, NR, 0, c0, c1, c2, c3, c4, c5, d0, d1, d2, d3, d4, d5);
}

/* exp_f on eight lanes: exp4_avx2's operations (kernels_avx2.c) in the
 * same order, on eight doubles at a time. */
T512 static inline __m256 exp8_avx512(__m256 x)
{
    __m256 xc = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(EXP_LO)), _mm256_set1_ps(EXP_HI));
    __m512d xd = _mm512_cvtps_pd(xc), shift = _mm512_set1_pd(EXP_SHIFT);
    __m512d z = _mm512_mul_pd(_mm512_set1_pd(EXP_INVLN2N), xd);
    __m512d kd = _mm512_add_pd(z, shift);
    __m512i ki = _mm512_castpd_si512(kd);
    kd = _mm512_sub_pd(kd, shift);
    __m512d r = _mm512_sub_pd(z, kd);
    __m512i t = _mm512_i64gather_epi64(_mm512_and_si512(ki, _mm512_set1_epi64(31)),
                                       (const long long *)kernels_exp_tab, 8);
    t = _mm512_add_epi64(t, _mm512_slli_epi64(ki, 47));
    __m512d p = _mm512_add_pd(_mm512_mul_pd(_mm512_set1_pd(EXP_C0), r), _mm512_set1_pd(EXP_C1));
    __m512d r2 = _mm512_mul_pd(r, r);
    __m512d y = _mm512_add_pd(_mm512_mul_pd(_mm512_set1_pd(EXP_C2), r), _mm512_set1_pd(1.0));
    y = _mm512_add_pd(_mm512_mul_pd(p, r2), y);
    __m256 e = _mm512_cvtpd_ps(_mm512_mul_pd(y, _mm512_castsi512_pd(t)));
    e = _mm256_blendv_ps(e, _mm256_set1_ps(INFINITY), _mm256_cmp_ps(x, _mm256_set1_ps(EXP_HI), _CMP_GT_OS));
    e = _mm256_blendv_ps(e, _mm256_setzero_ps(), _mm256_cmp_ps(x, _mm256_set1_ps(EXP_LO), _CMP_LT_OS));
    return _mm256_blendv_ps(e, _mm256_add_ps(x, x), _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

/* Twin of sigmoid_portable (kernels.c): y = 1 / (1 + e^−x), sixteen at a
 * time through exp8_avx512, then its loop for the tail. */
T512 static void sigmoid_avx512(float *y, const float *x, size_t n)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512i sign = _mm512_set1_epi32((int)0x80000000u);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 nx = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(_mm512_loadu_ps(x + i)), sign));
        __m256 lo = _mm512_castps512_ps256(nx);
        __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(nx), 1));
        __m512d e2 = _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(exp8_avx512(lo))),
                                        _mm256_castps_pd(exp8_avx512(hi)), 1);
        _mm512_storeu_ps(y + i, _mm512_div_ps(one, _mm512_add_ps(one, _mm512_castpd_ps(e2))));
    }
    for (; i < n; i++) y[i] = 1.0f / (1.0f + kernels_exp_f(-x[i]));
}

/* Twin of adam_portable (kernels.c): sixteen at a time, the same operations
 * in the same order (IEEE multiply, add, divide and square root round
 * alike in both), then its loop for the tail. */
T512 static void adam_avx512(float *restrict w, const float *restrict g, float *restrict v,
                             float *restrict s, size_t n, float b1, float b2, float lr_t, float eps, float lam)
{
    size_t i = 0;
    ADAM_VEC(__m512, _mm512, 16);
    for (; i < n; i++) ADAM_ONE(i);      /* the tail: adam_portable's loop */
}

/* Twin of first_order's loops (kernels.c): sixteen lanes, then its scalar tail. */
T512 static void first_avx512(int kind, float *restrict p, const float *restrict g, float *restrict v, size_t n,
                              float lam, float lr, float mu)
{
    FIRST_TWIN(__m512, _mm512, 16);
}

/* Twin of rmsprop_portable (kernels.c), as adam_avx512 is of adam_portable. */
T512 static void rmsprop_avx512(float *restrict w, const float *restrict g, float *restrict v, size_t n,
                                float lr, float rho, float eps, float lam)
{
    size_t i = 0;
    RMSPROP_VEC(__m512, _mm512, 16);
    for (; i < n; i++) RMSPROP_ONE(i);   /* the tail: rmsprop_portable's loop */
}

void kernels_avx512_table(kernels_isa_table *t)
{
    *t = kernels_avx2;
    t->name = "avx512";
    t->kern = kern_avx512;
    t->kern_rows = kern_rows_avx512;
    t->kern2 = kern2_avx512;
    t->kern_rows2 = kern_rows2_avx512;
    t->adam = adam_avx512;
    t->first = first_avx512;
    t->rmsprop = rmsprop_avx512;
    t->sigmoid = sigmoid_avx512;
}
#else
typedef int kernels_avx512_unused;   /* (ISO C: no empty translation unit) */
#endif
