/* kernels_isa.h — private to the kernels: the one table of the routines
 * whose code depends on the instruction set, and what its two copies share.
 * kernels.c holds the portable copies and chooses the table once at start-
 * up; kernels_avx2.c holds the AVX2/FMA twins and kernels_avx512.c the
 * AVX-512 ones (compiled for their targets by function attributes, so the
 * rest of the build stays plain -O2). Each twin must give the bits of its
 * portable copy: tests/test_isa.sh runs the tests with CHAINRULE_ISA set to
 * each narrower set against the same naive references.
 */
#ifndef CHAINRULE_KERNELS_ISA_H
#define CHAINRULE_KERNELS_ISA_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define MR 6
#define NR 16
#define KC 256

/* Cache lines that a kernel (kern, kern_rows, kern2, kern_rows2) fetches
 * for its caller while it multiplies: of the lines p + r·stride + 64·c
 * (rows r of `lines` lines c, p 64-byte aligned), taken row by row, the
 * `count` from the first-th on, one every kc / count steps of k (or every
 * step), so that the caller's next reads from memory overlap this
 * kernel's multiply-adds. Fetched into L2 (prefetcht1); no result changes. */
typedef struct { const char *p; size_t stride; int lines, first, count; } prefetch_run;
/* the kernels' bookkeeping: PF_SETUP before the k loop, PF_STEP(k) in it */
#define PF_SETUP(pf, kc)                                                                   \
    const prefetch_run *pf_ = (pf) && (pf)->count > 0 && (pf)->lines > 0 ? (pf) : NULL;     \
    int pf_every_ = pf_ && (kc) / pf_->count > 0 ? (kc) / pf_->count : 1, pf_done_ = 0;     \
    int pf_r_ = pf_ ? pf_->first / pf_->lines : 0, pf_c_ = pf_ ? pf_->first % pf_->lines : 0; \
    int pf_next_ = pf_ ? 0 : INT_MAX
#define PF_STEP(k) do {                                                                    \
        if ((k) == pf_next_) {                                                              \
            __builtin_prefetch(pf_->p + pf_->stride * (size_t)pf_r_ + (size_t)64 * pf_c_, 0, 2); \
            if (++pf_c_ == pf_->lines) { pf_c_ = 0; pf_r_++; }                              \
            pf_next_ = ++pf_done_ < pf_->count ? pf_next_ + pf_every_ : INT_MAX;            \
        }                                                                                   \
    } while (0)

/* The run of rows r0…r0+nr, columns c0…c0+nc of a row-major float array
 * (rows ld floats apart), all its lines from the first. */
static inline prefetch_run pf_block(const float *base, size_t ld, long r0, int nr, long c0, int nc)
{
    prefetch_run pf = {NULL, 0, 0, 0, 0};
    if (nr <= 0 || nc <= 0) return pf;
    uintptr_t a = (uintptr_t)(base + (size_t)r0 * ld + c0), a0 = a & ~(uintptr_t)63;
    pf.p = (const char *)a0;
    pf.stride = ld * sizeof(float);
    pf.lines = (int)((a + (size_t)nc * sizeof(float) - a0 + 63) / 64);
    pf.count = pf.lines * nr;
    return pf;
}

/* The next share of run *all: at most `per` of its lines from where the
 * last share ended (none once all are taken), for one kernel call of
 * several that fetch it between them. */
static inline prefetch_run pf_take(prefetch_run *all, int per)
{
    prefetch_run pf = *all;
    pf.count = all->count - all->first < per ? all->count - all->first : per;
    all->first += pf.count;
    return pf;
}

typedef struct {
    const char *name;   /* "portable", "avx2" */
    /* tout (MR×NR) = tin (or 0) + ap (kc×MR packed) · bp (kc×NR packed), one fma per term */
    void (*kern)(int kc, const float *ap, const float *bp, const float *tin, float *tout,
                 const prefetch_run *pf);
    /* tout (MR×NR) = a · bp from 0, row i of A read in place at a[i][0…kc)
     * (bp packed kc×NR), one fma per term in k order; fetching pf's lines
     * meanwhile (NULL: none) */
    void (*kern_rows)(int kc, const float *const *a, const float *bp, float *tout, const prefetch_run *pf);
    /* Two tiles side by side, where the ISA has the registers for both
     * (NULL otherwise: the callers then call kern, kern_rows twice):
     * tout0, tout1 as kern and kern_rows give them for the panels bp0, bp1
     * with the same A, each sum formed the same way (tin0, tin1 both NULL
     * or both not). kern2 stores row i of a tile at tout + i·ldo (tin's
     * rows are NR apart), and 0 + each sum when pz (the bits of a zeroed
     * gradient plus the sum: +0 for a sum that underflowed to −0).
     * All four fetch pf's lines meanwhile (NULL: none). */
    void (*kern2)(int kc, const float *ap, const float *bp0, const float *bp1,
                  const float *tin0, const float *tin1, float *tout0, float *tout1, size_t ldo, int pz,
                  const prefetch_run *pf);
    void (*kern_rows2)(int kc, const float *const *a, const float *bp0, const float *bp1,
                       float *tout0, float *tout1, const prefetch_run *pf);
    /* y = 1/(1 + e^−x), n values */
    void (*sigmoid)(float *y, const float *x, size_t n);
    /* y += a·x (fmaf each), and Σ x·y in order (fmaf) */
    void (*axpy)(float *y, const float *x, float a, int n);
    float (*dot)(const float *x, const float *y, int n);
    /* acc[0..H) = Σ_q val[q]·w[idx[q]][·] in q order (fmaf), from 0 */
    void (*sparse_rows)(float *acc, const float *w, int H, const int *idx, const float *val, int nnz);
    /* w −= lr·fmaf(a, g, 0) */
    void (*sgd_row1)(float *w, const float *g, float a, float lr, int n);
    /* train.h's Adam on n weights (kernels.h: adam_apply) */
    void (*adam)(float *w, const float *g, float *v, float *s, size_t n, float b1, float b2,
                 float lr_t, float eps, float lam);
    /* kernels.h's first-order steps (STEP_SGD, _MOMENTUM, _CLASSICAL) on n
     * weights, L2 where lam ≠ 0 */
    void (*first)(int kind, float *p, const float *g, float *v, size_t n, float lam, float lr, float mu);
    /* train.h's RMSprop on n weights (kernels.h: STEP_RMSPROP) */
    void (*rmsprop)(float *w, const float *g, float *v, size_t n, float lr, float rho, float eps, float lam);
} kernels_isa_table;

extern const kernels_isa_table kernels_portable;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define HAVE_X86 1
extern const kernels_isa_table kernels_avx2;
/* *t = the AVX2 table with the AVX-512 twins in place (kernels_avx512.c) */
void kernels_avx512_table(kernels_isa_table *t);
#endif

/* train.h's Adam step on weight i (kernels.h: adam_apply), each operation
 * rounded as written, left to right: adam_portable's loop body and the
 * vector twins' tail (w, g, v, s, b1, b2, lr_t, eps, lam in scope). */
#define ADAM_ONE(i) do {                                                   \
        float gi_ = lam != 0.0f ? g[i] + lam * w[i] : g[i];                  \
        v[i] = b1 * v[i] + (1.0f - b1) * gi_;                                \
        s[i] = b2 * s[i] + (1.0f - b2) * gi_ * gi_;                          \
        w[i] -= lr_t * v[i] / (sqrtf(s[i]) + eps);                           \
    } while (0)
/* The twins' vector loop over i (from its value, while L lanes remain):
 * ADAM_ONE's operations lane by lane (IEEE multiply, add, divide and
 * square root round alike in every width). V is the vector type, P the
 * intrinsics' prefix (_mm256, _mm512). */
#define ADAM_VEC(V, P, L) do {                                                                  \
        const V B1 = P##_set1_ps(b1), B2 = P##_set1_ps(b2), C1 = P##_set1_ps(1.0f - b1);        \
        const V C2 = P##_set1_ps(1.0f - b2), LR = P##_set1_ps(lr_t), EPS = P##_set1_ps(eps);    \
        const V LAM = P##_set1_ps(lam);                                                          \
        for (; i + (L) <= n; i += (L)) {                                                        \
            V wi = P##_loadu_ps(w + i), gi = P##_loadu_ps(g + i);                                \
            if (lam != 0.0f) gi = P##_add_ps(gi, P##_mul_ps(LAM, wi));                           \
            V vi = P##_add_ps(P##_mul_ps(B1, P##_loadu_ps(v + i)), P##_mul_ps(C1, gi));          \
            V si = P##_add_ps(P##_mul_ps(B2, P##_loadu_ps(s + i)), P##_mul_ps(P##_mul_ps(C2, gi), gi)); \
            V d = P##_div_ps(P##_mul_ps(LR, vi), P##_add_ps(P##_sqrt_ps(si), EPS));             \
            P##_storeu_ps(v + i, vi);                                                            \
            P##_storeu_ps(s + i, si);                                                            \
            P##_storeu_ps(w + i, P##_sub_ps(wi, d));                                             \
        }                                                                                        \
    } while (0)

/* The first-order steps (kernels.h's first_kind k: 0 SGD, 1 momentum, 2
 * classical) on weight i, each operation rounded as written (p, g, v,
 * lam, lr, mu in scope; G = g + λp where lam ≠ 0): first_portable's and
 * the twins' tail; and the twins' loop over weights i…n, L lanes at a
 * time, then FIRST_ONE, FIRST_ONE's operations lane by lane. */
#define FIRST_G1(i) (lam != 0.0f ? g[i] + lam * p[i] : g[i])
#define FIRST_ONE(k, i) do {                                                                    \
        if ((k) == 0) p[i] -= lr * FIRST_G1(i);                                                  \
        else if ((k) == 1) { v[i] = FIRST_G1(i) + mu * v[i]; p[i] -= lr * v[i]; }                \
        else { v[i] = mu * v[i] - lr * FIRST_G1(i); p[i] += v[i]; }                              \
    } while (0)
#define FIRST_VEC(V, P, L, k) do {                                                              \
        const V LR = P##_set1_ps(lr), MU = P##_set1_ps(mu), LAM = P##_set1_ps(lam);             \
        for (; i + (L) <= n; i += (L)) {                                                        \
            V pi = P##_loadu_ps(p + i), gi = P##_loadu_ps(g + i);                                \
            if (lam != 0.0f) gi = P##_add_ps(gi, P##_mul_ps(LAM, pi));                           \
            if ((k) == 0) { P##_storeu_ps(p + i, P##_sub_ps(pi, P##_mul_ps(LR, gi))); continue; } \
            V vi = (k) == 1 ? P##_add_ps(gi, P##_mul_ps(MU, P##_loadu_ps(v + i)))                \
                            : P##_sub_ps(P##_mul_ps(MU, P##_loadu_ps(v + i)), P##_mul_ps(LR, gi)); \
            P##_storeu_ps(v + i, vi);                                                            \
            P##_storeu_ps(p + i, (k) == 1 ? P##_sub_ps(pi, P##_mul_ps(LR, vi)) : P##_add_ps(pi, vi)); \
        }                                                                                        \
        for (; i < n; i++) FIRST_ONE(k, i);                                                      \
    } while (0)
/* a twin's body: FIRST_VEC with k a constant in each branch */
#define FIRST_TWIN(V, P, L) do {                                                                \
        size_t i = 0;                                                                            \
        if (kind == 0) FIRST_VEC(V, P, L, 0);                                                    \
        else if (kind == 1) FIRST_VEC(V, P, L, 1);                                               \
        else FIRST_VEC(V, P, L, 2);                                                              \
    } while (0)

/* RMSprop's step on weight i (kernels.h: STEP_RMSPROP), as ADAM_ONE:
 * rmsprop_portable's loop body and the twins' tail (w, g, v, n, lr, rho,
 * eps, lam in scope), and the twins' vector loop, as ADAM_VEC. */
#define RMSPROP_ONE(i) do {                                                \
        float gi_ = lam != 0.0f ? g[i] + lam * w[i] : g[i];                  \
        v[i] = rho * v[i] + (1.0f - rho) * gi_ * gi_;                        \
        w[i] -= lr * gi_ / (sqrtf(v[i]) + eps);                              \
    } while (0)
#define RMSPROP_VEC(V, P, L) do {                                                               \
        const V RHO = P##_set1_ps(rho), R1 = P##_set1_ps(1.0f - rho), LR = P##_set1_ps(lr);     \
        const V EPS = P##_set1_ps(eps), LAM = P##_set1_ps(lam);                                  \
        for (; i + (L) <= n; i += (L)) {                                                        \
            V wi = P##_loadu_ps(w + i), gi = P##_loadu_ps(g + i);                                \
            if (lam != 0.0f) gi = P##_add_ps(gi, P##_mul_ps(LAM, wi));                           \
            V vi = P##_add_ps(P##_mul_ps(RHO, P##_loadu_ps(v + i)), P##_mul_ps(P##_mul_ps(R1, gi), gi)); \
            V d = P##_div_ps(P##_mul_ps(LR, gi), P##_add_ps(P##_sqrt_ps(vi), EPS));             \
            P##_storeu_ps(v + i, vi);                                                            \
            P##_storeu_ps(w + i, P##_sub_ps(wi, d));                                             \
        }                                                                                        \
    } while (0)

/* e^x of the sigmoid (kernels.c: glibc's algorithm in plain double ops),
 * its table of 2^(j/32) and constants, shared with the AVX2 twin. */
float kernels_exp_f(float x);
extern const uint64_t kernels_exp_tab[32];
#define EXP_INVLN2N (0x1.71547652b82fep+0 * 32)        /* 32/ln 2 */
#define EXP_SHIFT 0x1.8p+52                            /* z + SHIFT rounds z to an integer */
#define EXP_C0 (0x1.c6af84b912394p-5 / (32.0 * 32 * 32))
#define EXP_C1 (0x1.ebfce50fac4f3p-3 / (32.0 * 32))
#define EXP_C2 (0x1.62e42ff0c52d6p-1 / 32)
#define EXP_HI 0x1.62e42ep6f                           /* above: e^x overflows a float */
#define EXP_LO (-0x1.9fe368p6f)                        /* below: e^x rounds to 0 */

#endif
