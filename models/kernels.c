/* kernels.c — float32 kernels of the fast path (see kernels.h for the
 * contracts). One packed, register-blocked matrix product serves the three
 * shapes of a dense layer; what differs is how its operands are read
 * (strides) and what happens to a finished tile (the epilogue).
 *
 *   C (M×N) = A (M×K) · Bm (K×N), A[i][k] = a[i·ars + k·acs], Bm[k][j] = b[k·brs + j·bcs]
 *   forward:        A = inp (B×D),     Bm = w (D×H)          epilogue z = acc + bias, y = f(z)
 *   weight grad:    A = inp^T (D×B),   Bm = dout (B×H)       epilogue dw += acc  or  w −= lr·acc
 *   input grad:     A = dout (B×H),    Bm = w^T (H×D)        epilogue dinp = acc
 *
 * Layout: A is packed whole into row blocks of MR = 6 (k-major: 6 values
 * per k); Bm is packed per column panel of NR = 16 and per k block of KC
 * into a panel that stays in L1. The micro-kernel keeps a 6×16 tile of sums
 * in twelve 8-wide registers and walks k in order: acc = fma(a, b, acc),
 * a·b + acc rounded once, so each sum is formed exactly as the naive loop
 * forms it
 * (partial sums between k blocks are stored and reloaded, never added as a
 * block). The tiles are cut into one contiguous range per thread: each
 * output is summed by one thread, same bits for any count.
 *
 * Sparse inputs: an input that is zero in every row of the batch adds only
 * ±0 terms to its sums, which leave them unchanged (exact, for finite
 * partners; checked). The forward drops those k (packing gathers the rest),
 * the weight gradient drops those rows of A and of C. On a batch of 100
 * MNIST images about a third of the 784 pixels are such inputs.
 *
 * Every term is one explicit fused multiply-add (fmaf, _mm256_fmadd_ps),
 * never one the compiler chose (-ffp-contract=off): the bits are fixed by
 * the code. Deliberately not here: threading of the per-sample path (too
 * little work).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernels.h"
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#define HAVE_X86 1
#endif

#define MR 6
#define NR 16
#define KC 256

#include "fail.h"

/* ------------------------------------------------------------ activations */

static const char *act_names[ACT_COUNT] = {
    [ACT_IDENTITY] = "identity", [ACT_SIGMOID] = "sigmoid", [ACT_TANH] = "tanh",
    [ACT_RELU] = "relu", [ACT_STANH] = "stanh", [ACT_STANH_LIN] = "stanh_lin",
};
_Static_assert(ACT_COUNT == 6, "act_names covers every activation");

const char *act_name(act_kind a) { return (a >= 0 && a < ACT_COUNT) ? act_names[a] : "?"; }

int act_parse(const char *name)
{
    for (int a = 0; a < ACT_COUNT; a++)
        if (strcmp(name, act_names[a]) == 0) return a;
    return -1;
}

int act_needs_input(act_kind a) { return a == ACT_STANH_LIN; }

#define STANH_A 1.7159f
#define STANH_B (2.0f / 3.0f)

/* 1 when the AVX2 copies of the kernels run here: the CPU has AVX2 and FMA, and
 * CHAINRULE_PORTABLE is unset or "0" (set, it tests that the portable
 * copies give the same bits). Checked once. */
static int isa_avx2(void)
{
    static int v = -1;
    if (v < 0) {
        int ok = 0;
#ifdef HAVE_X86
        const char *force = getenv("CHAINRULE_PORTABLE");
        __builtin_cpu_init();
        ok = !(force && *force && strcmp(force, "0") != 0) && __builtin_cpu_supports("avx2")
             && __builtin_cpu_supports("fma");
#endif
        v = ok;
    }
    return v;
}

/* e^x in float for the sigmoid, by the algorithm of glibc's expf (from
 * ARM's optimized-routines): x·32/ln 2 = k + r with k an integer and
 * |r| ≤ 1/2, e^x = 2^(k/32) · 2^(r/32), 2^(j/32) (j = k mod 32) from a
 * table and 2^(r/32) from a cubic, all in double, rounded once to float
 * (error ≤ 0.502 ulp). Our own copy, with plain multiplies and adds, so the
 * sigmoid has the same bits on every machine and libm, and an AVX2 twin
 * (exp4_avx2) that does the same operations lane by lane. */
static const uint64_t exp_tab[32] = {   /* bits of 2^(j/32), less j << 47 */
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
    0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
    0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
    0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
    0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
    0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
    0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
};
#define EXP_INVLN2N (0x1.71547652b82fep+0 * 32)        /* 32/ln 2 */
#define EXP_SHIFT 0x1.8p+52                            /* z + SHIFT rounds z to an integer */
#define EXP_C0 (0x1.c6af84b912394p-5 / (32.0 * 32 * 32))
#define EXP_C1 (0x1.ebfce50fac4f3p-3 / (32.0 * 32))
#define EXP_C2 (0x1.62e42ff0c52d6p-1 / 32)
#define EXP_HI 0x1.62e42ep6f                           /* above: e^x overflows a float */
#define EXP_LO (-0x1.9fe368p6f)                        /* below: e^x rounds to 0 */

static float exp_f(float x)
{
    if (!(x <= EXP_HI)) return x > 0.0f ? INFINITY : x + x;   /* overflow, or NaN */
    if (x < EXP_LO) return 0.0f;
    double xd = x, z = EXP_INVLN2N * xd, kd = z + EXP_SHIFT;
    uint64_t ki, t;
    memcpy(&ki, &kd, sizeof ki);
    kd -= EXP_SHIFT;
    double r = z - kd;
    t = exp_tab[ki % 32] + (ki << 47);                 /* 2^(k/32): table × 2^((k − j)/32) */
    double sc, p = EXP_C0 * r + EXP_C1, r2 = r * r, y = EXP_C2 * r + 1.0;
    memcpy(&sc, &t, sizeof sc);
    y = p * r2 + y;
    return (float)(y * sc);
}

#ifdef HAVE_X86
/* exp_f on four lanes: the same operations in the same order. */
__attribute__((target("avx2")))
static inline __m128 exp4_avx2(__m128 x)
{
    __m128 xc = _mm_min_ps(_mm_max_ps(x, _mm_set1_ps(EXP_LO)), _mm_set1_ps(EXP_HI));
    __m256d xd = _mm256_cvtps_pd(xc), shift = _mm256_set1_pd(EXP_SHIFT);
    __m256d z = _mm256_mul_pd(_mm256_set1_pd(EXP_INVLN2N), xd);
    __m256d kd = _mm256_add_pd(z, shift);
    __m256i ki = _mm256_castpd_si256(kd);
    kd = _mm256_sub_pd(kd, shift);
    __m256d r = _mm256_sub_pd(z, kd);
    __m256i t = _mm256_i64gather_epi64((const long long *)exp_tab, _mm256_and_si256(ki, _mm256_set1_epi64x(31)), 8);
    t = _mm256_add_epi64(t, _mm256_slli_epi64(ki, 47));
    __m256d p = _mm256_add_pd(_mm256_mul_pd(_mm256_set1_pd(EXP_C0), r), _mm256_set1_pd(EXP_C1));
    __m256d r2 = _mm256_mul_pd(r, r);
    __m256d y = _mm256_add_pd(_mm256_mul_pd(_mm256_set1_pd(EXP_C2), r), _mm256_set1_pd(1.0));
    y = _mm256_add_pd(_mm256_mul_pd(p, r2), y);
    __m128 e = _mm256_cvtpd_ps(_mm256_mul_pd(y, _mm256_castsi256_pd(t)));
    e = _mm_blendv_ps(e, _mm_set1_ps(INFINITY), _mm_cmpgt_ps(x, _mm_set1_ps(EXP_HI)));
    e = _mm_blendv_ps(e, _mm_setzero_ps(), _mm_cmplt_ps(x, _mm_set1_ps(EXP_LO)));
    return _mm_blendv_ps(e, _mm_add_ps(x, x), _mm_cmpunord_ps(x, x));
}

/* y = 1 / (1 + e^−x), eight at a time; n a multiple of 8. */
__attribute__((target("avx2")))
static void sigmoid_avx2(float *y, const float *x, size_t n)
{
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    for (size_t i = 0; i < n; i += 8) {
        __m256 nx = _mm256_xor_ps(_mm256_loadu_ps(x + i), sign);
        __m256 e = _mm256_set_m128(exp4_avx2(_mm256_extractf128_ps(nx, 1)), exp4_avx2(_mm256_castps256_ps128(nx)));
        _mm256_storeu_ps(y + i, _mm256_div_ps(one, _mm256_add_ps(one, e)));
    }
}
#endif

void act_forward(float *y, const float *x, size_t n, act_kind a)
{
    switch (a) {
    case ACT_IDENTITY: if (y != x) memmove(y, x, n * sizeof *y); break;
    // y = σ(x) = 1 / (1 + e^−x)
    case ACT_SIGMOID: {
        size_t i = 0;
#ifdef HAVE_X86
        if (isa_avx2()) { i = n / 8 * 8; sigmoid_avx2(y, x, i); }
#endif
        for (; i < n; i++) y[i] = 1.0f / (1.0f + exp_f(-x[i]));
        break;
    }
    case ACT_TANH:    for (size_t i = 0; i < n; i++) y[i] = tanhf(x[i]); break;
    case ACT_RELU:    for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f; break;
    // y = 1.7159·tanh(2x/3)
    case ACT_STANH:   for (size_t i = 0; i < n; i++) y[i] = STANH_A * tanhf(STANH_B * x[i]); break;
    // y = 1.7159·tanh(2x/3) + 0.01·x
    case ACT_STANH_LIN:
        for (size_t i = 0; i < n; i++) y[i] = STANH_A * tanhf(STANH_B * x[i]) + 0.01f * x[i];
        break;
    default: FAIL("act_forward: unknown activation %d", (int)a);
    }
}

void act_backward(float *dx, const float *dy, const float *x, const float *y,
                  size_t n, act_kind a)
{
    switch (a) {
    // dL/dx = dL/dy
    case ACT_IDENTITY: if (dx != dy) memmove(dx, dy, n * sizeof *dx); break;
    // dL/dx = dL/dy · y(1 − y)
    case ACT_SIGMOID: for (size_t i = 0; i < n; i++) dx[i] = dy[i] * (y[i] * (1.0f - y[i])); break;
    // dL/dx = dL/dy · (1 − y²)
    case ACT_TANH:    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]); break;
    // dL/dx = dL/dy · [y > 0]
    case ACT_RELU:    for (size_t i = 0; i < n; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f; break;
    // y = A·tanh(Bx): dy/dx = A·B·(1 − tanh²) = B·(A − y²/A)
    case ACT_STANH:
        for (size_t i = 0; i < n; i++) dx[i] = dy[i] * (STANH_B * (STANH_A - y[i] * y[i] / STANH_A));
        break;
    // y = A·tanh(Bx) + 0.01x: dy/dx = A·B·(1 − tanh²(Bx)) + 0.01, from x
    case ACT_STANH_LIN:
        ASSERT(x, "stanh_lin needs the pre-activation");
        for (size_t i = 0; i < n; i++) {
            float t = tanhf(STANH_B * x[i]);
            dx[i] = dy[i] * (STANH_A * STANH_B * (1.0f - t * t) + 0.01f);
        }
        break;
    default: FAIL("act_backward: unknown activation %d", (int)a);
    }
}

/* ------------------------------------------------------------ workspace */

/* Growing scratch blocks: one for the packed operands and partial sums, one
 * for the index lists of the sparse products. Grown only outside parallel
 * regions. Not for concurrent calls from several user threads (chainrule's
 * programs make none). */
typedef struct { void *p; size_t cap; } scratch;
static scratch ws, ws_idx, ws_any;

static void *scratch_get(scratch *s, size_t bytes)
{
    if (bytes > s->cap) {
        free(s->p);
        bytes = (bytes + 63) / 64 * 64;
        s->p = aligned_alloc(64, bytes);
        if (!s->p) FAIL("kernels: out of memory (%zu bytes of workspace)", bytes);
        s->cap = bytes;
    }
    return s->p;
}

static float *ws_get(size_t n) { return scratch_get(&ws, n * sizeof(float)); }

/* ------------------------------------------------------------ micro-kernels */

/* tout (MR×NR, row-major) = tin (or 0 when tin is NULL) + ap · bp, where ap
 * is a packed block of A (kc×MR, k-major: MR values per k) and bp a packed
 * panel of Bm (kc×NR, k-major). k in order, one fused multiply-add per
 * term, so each sum is formed exactly as the naive loop forms it. (fmaf is
 * exact by the C standard: a hardware instruction where the target has one,
 * libm's correctly rounded emulation elsewhere.) */
static void kern_portable(int kc, const float *restrict ap, const float *restrict bp,
                          const float *tin, float *tout)
{
    float c[MR][NR];
    if (tin) memcpy(c, tin, sizeof c);
    else memset(c, 0, sizeof c);
    for (int k = 0; k < kc; k++) {
        const float *ak = ap + (size_t)k * MR, *b = bp + (size_t)k * NR;
        for (int i = 0; i < MR; i++) {
            float ai = ak[i];
            for (int j = 0; j < NR; j++) c[i][j] = fmaf(ai, b[j], c[i][j]);
        }
    }
    memcpy(tout, c, sizeof c);
}

#ifdef HAVE_X86
/* The same sums with 8-wide AVX registers: twelve accumulators, two panel
 * rows, one broadcast at a time, one FMA per term, so the bits equal
 * kern_portable's and the naive loop's. (Measured on this Zen 3: the FMA
 * kernel makes the MNIST epoch ~17% faster than a multiply then an add,
 * which have the same peak on paper: half the instructions to issue.) */
__attribute__((target("avx2,fma")))
static void kern_avx2(int kc, const float *restrict ap, const float *restrict bp,
                      const float *tin, float *tout)
{
    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
    if (tin) {
        c00 = _mm256_loadu_ps(tin + 0);  c01 = _mm256_loadu_ps(tin + 8);
        c10 = _mm256_loadu_ps(tin + 16); c11 = _mm256_loadu_ps(tin + 24);
        c20 = _mm256_loadu_ps(tin + 32); c21 = _mm256_loadu_ps(tin + 40);
        c30 = _mm256_loadu_ps(tin + 48); c31 = _mm256_loadu_ps(tin + 56);
        c40 = _mm256_loadu_ps(tin + 64); c41 = _mm256_loadu_ps(tin + 72);
        c50 = _mm256_loadu_ps(tin + 80); c51 = _mm256_loadu_ps(tin + 88);
    } else {
        c00 = c01 = c10 = c11 = c20 = c21 = _mm256_setzero_ps();
        c30 = c31 = c40 = c41 = c50 = c51 = _mm256_setzero_ps();
    }
    for (int k = 0; k < kc; k++) {
        __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8), x;
#define ROW(i, x0, x1) x = _mm256_broadcast_ss(ap + i); \
        x0 = _mm256_fmadd_ps(x, b0, x0); x1 = _mm256_fmadd_ps(x, b1, x1);
        ROW(0, c00, c01) ROW(1, c10, c11) ROW(2, c20, c21)
        ROW(3, c30, c31) ROW(4, c40, c41) ROW(5, c50, c51)
#undef ROW
        ap += MR; bp += NR;
    }
    _mm256_storeu_ps(tout + 0, c00);  _mm256_storeu_ps(tout + 8, c01);
    _mm256_storeu_ps(tout + 16, c10); _mm256_storeu_ps(tout + 24, c11);
    _mm256_storeu_ps(tout + 32, c20); _mm256_storeu_ps(tout + 40, c21);
    _mm256_storeu_ps(tout + 48, c30); _mm256_storeu_ps(tout + 56, c31);
    _mm256_storeu_ps(tout + 64, c40); _mm256_storeu_ps(tout + 72, c41);
    _mm256_storeu_ps(tout + 80, c50); _mm256_storeu_ps(tout + 88, c51);
}
#endif

typedef void (*kern_fn)(int, const float *, const float *, const float *, float *);
static kern_fn kern;
static const char *kern_isa = "portable";

/* The AVX2 copy where isa_avx2 says so. */
static kern_fn kern_pick(void)
{
    if (!kern) {
        kern_fn k = kern_portable;
#ifdef HAVE_X86
        if (isa_avx2()) { k = kern_avx2; kern_isa = "avx2"; }
#endif
        kern = k;
    }
    return kern;
}

const char *kernels_isa(void) { kern_pick(); return kern_isa; }

/* ------------------------------------------------------------ the product */

typedef enum { EP_FORWARD, EP_WGRAD, EP_WSGD, EP_IGRAD } ep_kind;

typedef struct {
    ep_kind kind;
    float *c;               /* out / dw / w / dinp, row-major with N columns */
    float *z;               /* forward: pre-activations or NULL */
    const float *bias;      /* forward: (N) or NULL */
    act_kind act;
    float lr;
} epilogue;

/* The operands of C = A · Bm, read in place through strides and optional
 * index lists (NULL = the identity):
 *     A[i][k] = a[ri(i)·ars + kk(k)·acs],   Bm[k][j] = b[kk(k)·brs + j·bcs]
 * and row i of C is row ri(i) of e->c. ri drops rows of A that are zero
 * (the weight gradient), kk drops terms whose A column is zero (the
 * forward); see nonzero_cols for why that keeps the bits. */
typedef struct {
    const float *a; size_t ars, acs;
    const float *b; size_t brs, bcs;
    const int *ri, *kk;
} operands;

/* dst[0…n) = src[0…n), n ≤ NR: a loop the compiler unrolls when n = NR
 * (a call to memcpy per row of a tile costs more than the copy). */
static inline void copy_row(float *restrict dst, const float *restrict src, int n)
{
    if (n == NR) for (int j = 0; j < NR; j++) dst[j] = src[j];
    else for (int j = 0; j < n; j++) dst[j] = src[j];
}

/* Applies the epilogue to rows i0…i0+mr (rows ri(i) of C), columns j0…j0+nr
 * of a finished tile t (MR×NR). Written so the compiler vectorises the
 * full-width case. */
static void ep_apply(const epilogue *e, const float *restrict t, const int *ri, int i0, int mr,
                     int j0, int nr, int N)
{
    float *rows[MR];
    for (int ii = 0; ii < mr; ii++) rows[ii] = e->c + (size_t)(ri ? ri[i0 + ii] : i0 + ii) * N + j0;
    switch (e->kind) {
    case EP_FORWARD: {
        _Alignas(64) float zz[MR * NR];
        const float *restrict bias = e->bias ? e->bias + j0 : NULL;
        for (int ii = 0; ii < MR; ii++)   /* all rows: padding rows are finite, unused */
            for (int jj = 0; jj < NR; jj++) zz[ii * NR + jj] = bias ? t[ii * NR + jj] + bias[jj < nr ? jj : 0] : t[ii * NR + jj];
        float *restrict z = e->z ? e->z + (size_t)i0 * N + j0 : NULL;   /* (no ri in the forward) */
        if (z) for (int ii = 0; ii < mr; ii++) copy_row(z + (size_t)ii * N, zz + ii * NR, nr);
        act_forward(zz, zz, (size_t)MR * NR, e->act);
        for (int ii = 0; ii < mr; ii++) copy_row(rows[ii], zz + ii * NR, nr);
        break;
    }
    case EP_WGRAD:
        for (int ii = 0; ii < mr; ii++) {
            float *restrict cr = rows[ii];
            const float *restrict tr = t + ii * NR;
            if (nr == NR) for (int jj = 0; jj < NR; jj++) cr[jj] += tr[jj];
            else for (int jj = 0; jj < nr; jj++) cr[jj] += tr[jj];
        }
        break;
    case EP_WSGD: {
        const float lr = e->lr;
        for (int ii = 0; ii < mr; ii++) {
            float *restrict cr = rows[ii];
            const float *restrict tr = t + ii * NR;
            if (nr == NR) for (int jj = 0; jj < NR; jj++) cr[jj] -= lr * tr[jj];
            else for (int jj = 0; jj < nr; jj++) cr[jj] -= lr * tr[jj];
        }
        break;
    }
    case EP_IGRAD:
        for (int ii = 0; ii < mr; ii++) copy_row(rows[ii], t + ii * NR, nr);
        break;
    }
}

/* Packs row block ib of A into dst (K×MR, k-major), rows past M as zeros. */
static void pack_a(float *restrict dst, const operands *o, int ib, int M, int K)
{
    int i0 = ib * MR, mr = M - i0 < MR ? M - i0 : MR;
    const int *ri = o->ri, *kk = o->kk;
    if (mr < MR) memset(dst, 0, (size_t)K * MR * sizeof *dst);
    if (o->acs == 1) {          /* rows of A contiguous: read each row along k */
        for (int ii = 0; ii < mr; ii++) {
            const float *src = o->a + (size_t)(ri ? ri[i0 + ii] : i0 + ii) * o->ars;
            if (kk) for (int k = 0; k < K; k++) dst[(size_t)k * MR + ii] = src[kk[k]];
            else    for (int k = 0; k < K; k++) dst[(size_t)k * MR + ii] = src[k];
        }
    } else {                    /* columns of A contiguous (A = inp^T) */
        size_t off[MR];
        for (int ii = 0; ii < mr; ii++) off[ii] = (size_t)(ri ? ri[i0 + ii] : i0 + ii) * o->ars;
        for (int k = 0; k < K; k++) {
            const float *src = o->a + (size_t)(kk ? kk[k] : k) * o->acs;
            for (int ii = 0; ii < mr; ii++) dst[(size_t)k * MR + ii] = src[off[ii]];
        }
    }
}

/* Packs the panel of Bm at columns j0…j0+nr, k0…k0+kc into bp (kc×NR,
 * k-major), zero-padded to NR columns. */
static void pack_b(float *restrict bp, const operands *o, int j0, int nr, int k0, int kc)
{
    const int *kk = o->kk;
    if (nr < NR) memset(bp, 0, (size_t)kc * NR * sizeof *bp);
    if (o->bcs == 1) {          /* rows of Bm contiguous */
        for (int k = 0; k < kc; k++) {
            const float *src = o->b + (size_t)(kk ? kk[k0 + k] : k0 + k) * o->brs + j0;
            float *dst = bp + (size_t)k * NR;
            if (nr == NR) for (int jj = 0; jj < NR; jj++) dst[jj] = src[jj];
            else for (int jj = 0; jj < nr; jj++) dst[jj] = src[jj];
        }
    } else {                    /* columns of Bm contiguous (brs == 1): a transpose */
        for (int jj = 0; jj < nr; jj++) {
            const float *src = o->b + (size_t)(j0 + jj) * o->bcs;
            for (int k = 0; k < kc; k++) bp[(size_t)k * NR + jj] = src[kk ? kk[k0 + k] : k0 + k];
        }
    }
}

int kernels_threads(long units)
{
#ifdef _OPENMP
    long t = omp_get_max_threads();
#else
    long t = 1;
#endif
    if (t < 1) t = 1;                       /* OMP_NUM_THREADS past INT_MAX reads negative */
    if (t > KERNELS_MAX_THREADS) t = KERNELS_MAX_THREADS;
    if (units < t) t = units < 1 ? 1 : units;
    return (int)t;
}

#ifdef _OPENMP
int kernels_thread_num(void) { return omp_get_thread_num(); }
int kernels_thread_count(void) { return omp_get_num_threads(); }
#else
int kernels_thread_num(void) { return 0; }
int kernels_thread_count(void) { return 1; }
#endif
#define THREAD_NUM() kernels_thread_num()
#define THREAD_COUNT() kernels_thread_count()

/* C = epilogue(A · Bm); see the top of the file. A is packed whole (row
 * blocks of MR, shared by the threads); the tiles MR×NR, numbered column
 * panel by column panel, are cut into one contiguous range per thread, so
 * the split is even for any shape and each output is summed by one
 * thread. A thread packs the B panel block (KC×NR) it works on into its
 * own buffer (in L1) and keeps partial tiles between k blocks. */
static void gemm(int M, int N, int K, const operands *o, const epilogue *e)
{
    kern_fn kf = kern_pick();
    int nib = (M + MR - 1) / MR, njp = (N + NR - 1) / NR, nkb = (K + KC - 1) / KC;
    double work = (double)M * N * K;   /* threads only where it pays */
    int tmax = work > 4e5 ? kernels_threads((long)nib * njp) : 1;
    size_t ap_sz = ((size_t)nib * K * MR + 15) / 16 * 16;
    size_t bp_sz = (size_t)KC * NR;                        /* per thread */
    size_t pt_sz = (size_t)nib * MR * NR;                  /* per thread */
    float *base = ws_get(ap_sz + (size_t)tmax * (bp_sz + pt_sz));
    float *apk = base, *bpk = apk + ap_sz, *ptk = bpk + (size_t)tmax * bp_sz;

#pragma omp parallel num_threads(tmax)
    {
#pragma omp for schedule(static)
        for (int ib = 0; ib < nib; ib++) pack_a(apk + (size_t)ib * K * MR, o, ib, M, K);
        /* (the implicit barrier: A is packed) */
        int t = THREAD_NUM(), nt = THREAD_COUNT();
        long tiles = (long)nib * njp, lo = tiles * t / nt, hi = tiles * (t + 1) / nt;
        float *bp = bpk + (size_t)t * bp_sz, *pt = ptk + (size_t)t * pt_sz;
        for (int jp = (int)(lo / nib); (long)jp * nib < hi; jp++) {
            int j0 = jp * NR, nr = N - j0 < NR ? N - j0 : NR;
            int ib0 = lo > (long)jp * nib ? (int)(lo - (long)jp * nib) : 0;
            int ib1 = hi < (long)(jp + 1) * nib ? (int)(hi - (long)jp * nib) : nib;
            for (int kb = 0; kb < nkb; kb++) {
                int k0 = kb * KC, kc = K - k0 < KC ? K - k0 : KC;
                pack_b(bp, o, j0, nr, k0, kc);
                for (int ib = ib0; ib < ib1; ib++) {
                    float *tile = pt + (size_t)ib * MR * NR;
                    kf(kc, apk + (size_t)ib * K * MR + (size_t)k0 * MR, bp, kb ? tile : NULL, tile);
                    if (kb + 1 == nkb) ep_apply(e, tile, o->ri, ib * MR, M - ib * MR < MR ? M - ib * MR : MR, j0, nr, N);
                }
            }
        }
    }
}

/* 4-wide vectors (GCC/Clang vector extensions; SSE on x86-64) for the
 * scans below: masks, not sums, so no bits are at stake. */
typedef float v4f __attribute__((vector_size(16)));
typedef int v4i __attribute__((vector_size(16)));

static inline v4f ld4(const float *p) { v4f v; memcpy(&v, p, sizeof v); return v; }

/* The columns d of x (B, D) that hold a non-zero in some row, in order, into
 * idx (room for D); returns their count. A
 * term a·b with a = ±0 and b finite is ±0, and adding ±0 leaves a sum that
 * starts at +0 unchanged (such a sum is never −0 under round-to-nearest),
 * so dropping those terms keeps every bit — for finite b, which the
 * callers check. */
static int nonzero_cols(int *idx, const float *x, int B, int D)
{
    int D4 = D / 4 * 4, n = 0;
    v4i *any = (v4i *)scratch_get(&ws_any, (size_t)(D4 / 4 + 1) * sizeof(v4i));
    memset(any, 0, (size_t)(D4 / 4) * sizeof *any);
    for (int r = 0; r < B; r++) {
        const float *xr = x + (size_t)r * D;
        for (int d = 0; d < D4; d += 4) any[d / 4] |= ld4(xr + d) != 0.0f;
    }
    for (int d = 0; d < D4; d++)
        if (any[d / 4][d % 4]) idx[n++] = d;
    for (int d = D4; d < D; d++) {
        int nz = 0;
        for (int r = 0; r < B; r++) nz |= x[(size_t)r * D + d] != 0.0f;
        if (nz) idx[n++] = d;
    }
    return n;
}

/* 1 when all n values are finite (x − x is 0 for them, NaN otherwise). */
static int all_finite(const float *x, size_t n)
{
    v4i bad = {0};
    size_t i = 0;
    for (; i + 4 <= n; i += 4) { v4f v = ld4(x + i); bad |= v - v != 0.0f; }
    int b = bad[0] | bad[1] | bad[2] | bad[3];
    for (; i < n; i++) b |= !(x[i] - x[i] == 0.0f);
    return !b;
}

/* ------------------------------------------------------------ small batches */

/* Row by row, for B < MR: the per-sample path. Each row's sums walk k in
 * order and skip zero inputs (an MNIST image is ~80% zeros), one fused
 * multiply-add per term as in the products; AVX2 copies where the CPU has
 * them, element-wise, so the bits are those of the scalar loops. */

/* y += a·x, each element fmaf(a, x, y); and Σ_i x[i]·y[i] in order. The
 * loops are written once and compiled twice: with the FMA instruction
 * (fmaf inline) and without (fmaf may be a call to libm) — same bits. */
#define AXPY_BODY for (int i = 0; i < n; i++) y[i] = fmaf(a, x[i], y[i]);
#define DOT_BODY float acc = 0.0f; for (int i = 0; i < n; i++) acc = fmaf(x[i], y[i], acc); return acc;
static void axpy_portable(float *restrict y, const float *restrict x, float a, int n) { AXPY_BODY }
static float dot_portable(const float *restrict x, const float *restrict y, int n) { DOT_BODY }
#ifdef HAVE_X86
__attribute__((target("avx2,fma")))
static void axpy_fma(float *restrict y, const float *restrict x, float a, int n) { AXPY_BODY }
__attribute__((target("avx2,fma")))
static float dot_fma(const float *restrict x, const float *restrict y, int n) { DOT_BODY }
#endif
#undef AXPY_BODY
#undef DOT_BODY

static void axpy(float *restrict y, const float *restrict x, float a, int n)
{
#ifdef HAVE_X86
    if (isa_avx2()) { axpy_fma(y, x, a, n); return; }
#endif
    axpy_portable(y, x, a, n);
}

static float dot(const float *restrict x, const float *restrict y, int n)
{
#ifdef HAVE_X86
    if (isa_avx2()) return dot_fma(x, y, n);
#endif
    return dot_portable(x, y, n);
}

/* w −= lr·fma(a, g, 0): one SGD row for a batch of one (the sum of one
 * term that starts at zero, with its bits). */
static void sgd_row1(float *restrict w, const float *restrict g, float a, float lr, int n)
{
    for (int i = 0; i < n; i++) w[i] -= lr * fmaf(a, g[i], 0.0f);
}

#ifdef HAVE_X86
/* acc[0..H) = Σ_q val[q]·w[idx[q]][·] over the non-zero inputs, in order:
 * 64 outputs at a time held in eight 8-wide registers while the rows stream
 * by (one FMA per term, the bits of the scalar loop). */
__attribute__((target("avx2,fma")))
static void sparse_rows_avx2(float *restrict acc, const float *restrict w, int H,
                             const int *restrict idx, const float *restrict val, int nnz)
{
    int h = 0;
    for (; h + 64 <= H; h += 64) {
        __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        for (int q = 0; q < nnz; q++) {
            const float *r = w + (size_t)idx[q] * H + h;
            __m256 v = _mm256_set1_ps(val[q]);
            c0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(r), c0);
            c1 = _mm256_fmadd_ps(v, _mm256_loadu_ps(r + 8), c1);
            c2 = _mm256_fmadd_ps(v, _mm256_loadu_ps(r + 16), c2);
            c3 = _mm256_fmadd_ps(v, _mm256_loadu_ps(r + 24), c3);
            c4 = _mm256_fmadd_ps(v, _mm256_loadu_ps(r + 32), c4);
            c5 = _mm256_fmadd_ps(v, _mm256_loadu_ps(r + 40), c5);
            c6 = _mm256_fmadd_ps(v, _mm256_loadu_ps(r + 48), c6);
            c7 = _mm256_fmadd_ps(v, _mm256_loadu_ps(r + 56), c7);
        }
        _mm256_storeu_ps(acc + h, c0);      _mm256_storeu_ps(acc + h + 8, c1);
        _mm256_storeu_ps(acc + h + 16, c2); _mm256_storeu_ps(acc + h + 24, c3);
        _mm256_storeu_ps(acc + h + 32, c4); _mm256_storeu_ps(acc + h + 40, c5);
        _mm256_storeu_ps(acc + h + 48, c6); _mm256_storeu_ps(acc + h + 56, c7);
    }
    for (; h + 8 <= H; h += 8) {
        __m256 c0 = _mm256_setzero_ps();
        for (int q = 0; q < nnz; q++)
            c0 = _mm256_fmadd_ps(_mm256_set1_ps(val[q]), _mm256_loadu_ps(w + (size_t)idx[q] * H + h), c0);
        _mm256_storeu_ps(acc + h, c0);
    }
    for (; h < H; h++) {
        float c = 0.0f;
        for (int q = 0; q < nnz; q++) c = fmaf(val[q], w[(size_t)idx[q] * H + h], c);
        acc[h] = c;
    }
}

/* w −= lr·fma(a, g, 0), 8 at a time. */
__attribute__((target("avx2,fma")))
static void sgd_row1_avx2(float *restrict w, const float *restrict g, float a, float lr, int n)
{
    int i = 0;
    __m256 va = _mm256_set1_ps(a), vl = _mm256_set1_ps(lr), z = _mm256_setzero_ps();
    for (; i + 8 <= n; i += 8) {
        __m256 t = _mm256_fmadd_ps(va, _mm256_loadu_ps(g + i), z);
        _mm256_storeu_ps(w + i, _mm256_sub_ps(_mm256_loadu_ps(w + i), _mm256_mul_ps(vl, t)));
    }
    for (; i < n; i++) w[i] -= lr * fmaf(a, g[i], 0.0f);
}
#endif

static void forward_rows(float *out, float *zout, const float *inp, const float *w,
                         const float *bias, int B, int D, int H, act_kind act)
{
    kern_pick();
    float *acc = ws_get((size_t)H + 2 * (size_t)D + 32);
    int *idx = (int *)(acc + H + 16);
    float *val = acc + H + 16 + D + 8;
    for (int r = 0; r < B; r++) {
        const float *x = inp + (size_t)r * D;
#ifdef HAVE_X86
        if (kern == kern_avx2) {
            int nnz = 0;
            for (int d = 0; d < D; d++) if (x[d] != 0.0f) { idx[nnz] = d; val[nnz++] = x[d]; }
            sparse_rows_avx2(acc, w, H, idx, val, nnz);
        } else
#endif
        {
            (void)idx; (void)val;
            memset(acc, 0, (size_t)H * sizeof *acc);
            for (int d = 0; d < D; d++) {
                float v = x[d];
                if (v == 0.0f) continue;
                axpy(acc, w + (size_t)d * H, v, H);
            }
        }
        if (bias) for (int h = 0; h < H; h++) acc[h] += bias[h];
        if (zout) memcpy(zout + (size_t)r * H, acc, (size_t)H * sizeof *acc);
        act_forward(out + (size_t)r * H, acc, (size_t)H, act);
    }
}

static void wgrad_rows(float *w, const float *inp, const float *dout, int B, int D, int H,
                       int sgd, float lr)
{
    float *acc = ws_get((size_t)H);
    kern_pick();
    for (int d = 0; d < D; d++) {
        int any = 0;
        for (int r = 0; r < B; r++) any |= inp[(size_t)r * D + d] != 0.0f;
        if (!any) continue;
        float *wr = w + (size_t)d * H;
        if (B == 1 && sgd) {
#ifdef HAVE_X86
            if (kern == kern_avx2) { sgd_row1_avx2(wr, dout, inp[d], lr, H); continue; }
#endif
            sgd_row1(wr, dout, inp[d], lr, H);
            continue;
        }
        memset(acc, 0, (size_t)H * sizeof *acc);
        for (int r = 0; r < B; r++) axpy(acc, dout + (size_t)r * H, inp[(size_t)r * D + d], H);
        if (sgd) for (int h = 0; h < H; h++) wr[h] -= lr * acc[h];
        else     for (int h = 0; h < H; h++) wr[h] += acc[h];
    }
}

/* ------------------------------------------------------------ public products */

void matmul_forward(float *out, float *zout, const float *inp, const float *w,
                    const float *bias, int B, int D, int H, act_kind act)
{
    ASSERT(B >= 0 && D >= 0 && H >= 0, "negative size B=%d D=%d H=%d", B, D, H);
    if (B == 0 || H == 0) return;
    if (B < MR || D == 0) { forward_rows(out, zout, inp, w, bias, B, D, H, act); return; }
    epilogue e = {EP_FORWARD, out, zout, bias, act, 0.0f};
    operands o = {inp, (size_t)D, 1, w, (size_t)H, 1, NULL, NULL};
    /* Drop the inputs d that are zero in every row (MNIST's borders and
     * more: about a third of the pixels of a batch of 100), when the rows
     * of w they would multiply are finite. */
    int *kk = scratch_get(&ws_idx, (size_t)D * sizeof(int));
    int K = nonzero_cols(kk, inp, B, D), ok = K > 0 && K < D;
    for (int q = 0, d = 0; ok && d < D; d++) {
        if (q < K && kk[q] == d) { q++; continue; }
        ok = all_finite(w + (size_t)d * H, (size_t)H);
    }
    if (ok) o.kk = kk;
    else K = D;
    gemm(B, H, K, &o, &e);
}

static void bias_grad(float *dbias, const float *dout, int B, int H, int sgd, float lr)
{
    for (int h = 0; h < H; h++) {
        float acc = 0.0f;
        for (int r = 0; r < B; r++) acc += dout[(size_t)r * H + h];
        if (sgd) dbias[h] -= lr * acc;
        else dbias[h] += acc;
    }
}

/* w += Σ_b inp[b][·]ᵀ dout[b][·] or w −= lr·(that sum), as one product with
 * A = inp^T. Rows d of w whose input is zero in every row have all their
 * sums +0 and are left untouched (they are skipped), when dout is finite. */
static void weight_grad(float *w, const float *inp, const float *dout, int B, int D, int H,
                        ep_kind kind, float lr)
{
    epilogue e = {kind, w, NULL, NULL, ACT_IDENTITY, lr};
    operands o = {inp, 1, (size_t)D, dout, (size_t)H, 1, NULL, NULL};
    int *ri = scratch_get(&ws_idx, (size_t)D * sizeof(int));
    int M = nonzero_cols(ri, inp, B, D);
    if (M < D && all_finite(dout, (size_t)B * H)) o.ri = ri;
    else M = D;
    if (M > 0) gemm(M, H, B, &o, &e);
}

void matmul_backward_weight(float *dw, float *dbias, const float *inp,
                            const float *dout, int B, int D, int H)
{
    if (B == 0 || H == 0) return;
    if (dbias) bias_grad(dbias, dout, B, H, 0, 0.0f);
    if (D == 0) return;
    if (B < MR) { wgrad_rows(dw, inp, dout, B, D, H, 0, 0.0f); return; }
    weight_grad(dw, inp, dout, B, D, H, EP_WGRAD, 0.0f);
}

void matmul_backward_weight_sgd(float *w, float *bias, const float *inp,
                                const float *dout, int B, int D, int H, float lr)
{
    if (B == 0 || H == 0) return;
    if (bias) bias_grad(bias, dout, B, H, 1, lr);
    if (D == 0) return;
    if (B < MR) { wgrad_rows(w, inp, dout, B, D, H, 1, lr); return; }
    weight_grad(w, inp, dout, B, D, H, EP_WSGD, lr);
}

void matmul_backward_input(float *dinp, const float *dout, const float *w,
                           int B, int D, int H)
{
    if (B == 0 || D == 0) return;
    if (B < MR || H < 4) {
        /* dinp[b][d] = Σ_h dout[b][h] · w[d][h]: short dot products */
        for (int r = 0; r < B; r++)
            for (int d = 0; d < D; d++)
                dinp[(size_t)r * D + d] = dot(dout + (size_t)r * H, w + (size_t)d * H, H);
        return;
    }
    epilogue e = {EP_IGRAD, dinp, NULL, NULL, ACT_IDENTITY, 0.0f};
    operands o = {dout, (size_t)H, 1, w, 1, (size_t)H, NULL, NULL};
    gemm(B, D, H, &o, &e);
}

/* ------------------------------------------------------------ softmax + CE */

double softmax_ce_forward(float *probs, float *dlogits, const float *logits,
                          const uint8_t *labels, int B, int K, float scale, int *correct)
{
    double total = 0.0;
    int right = 0;
    for (int r = 0; r < B; r++) {
        const float *o = logits + (size_t)r * K;
        float *p = probs + (size_t)r * K;
        int best = 0;
        float mx = o[0];
        for (int k = 1; k < K; k++) if (o[k] > mx) { mx = o[k]; best = k; }
        /* y_k = e^{o_k − max} / Σ_j e^{o_j − max};  loss = log Σ − (o_t − max) */
        int t = labels ? labels[r] : -1;
        if (t >= K) FAIL("softmax_ce_forward: label %d of row %d is not < K = %d", t, r, K);
        float ot = t >= 0 ? o[t] : 0.0f;      /* read before p (which may be o) is written */
        double sum = 0.0;
        for (int k = 0; k < K; k++) { p[k] = expf(o[k] - mx); sum += p[k]; }
        if (labels) {
            total += log(sum) - ((double)ot - (double)mx);
            right += best == t;
        }
        for (int k = 0; k < K; k++) p[k] = (float)(p[k] / sum);
        // dL/do_k = scale · (y_k − t_k)
        if (dlogits && labels) {
            float *g = dlogits + (size_t)r * K;
            for (int k = 0; k < K; k++) g[k] = scale * (p[k] - (k == t ? 1.0f : 0.0f));
        }
    }
    if (correct) *correct = right;
    return total;
}

void argmax_rows(uint8_t *pred, const float *x, int B, int K)
{
    for (int r = 0; r < B; r++) {
        const float *o = x + (size_t)r * K;
        int best = 0;
        for (int k = 1; k < K; k++) if (o[k] > o[best]) best = k;
        pred[r] = (uint8_t)best;
    }
}

/* ------------------------------------------------------------ naive references */

void matmul_naive(float *c, const float *a, const float *b, int M, int K, int N)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float acc = 0.0f;
            for (int k = 0; k < K; k++) acc = fmaf(a[(size_t)i * K + k], b[(size_t)k * N + j], acc);
            c[(size_t)i * N + j] = acc;
        }
}

void matmul_tn_naive(float *c, const float *a, const float *b, int M, int K, int N)
{
    for (int i = 0; i < K; i++)
        for (int j = 0; j < N; j++) {
            float acc = 0.0f;
            for (int m = 0; m < M; m++) acc = fmaf(a[(size_t)m * K + i], b[(size_t)m * N + j], acc);
            c[(size_t)i * N + j] += acc;
        }
}

void matmul_nt_naive(float *c, const float *a, const float *b, int M, int K, int N)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < K; j++) {
            float acc = 0.0f;
            for (int n = 0; n < N; n++) acc = fmaf(a[(size_t)i * N + n], b[(size_t)j * N + n], acc);
            c[(size_t)i * K + j] = acc;
        }
}
