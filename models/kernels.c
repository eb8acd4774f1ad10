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
 * block). Two tile orders (gemm, gemm_rows): column panel by column
 * panel, the tiles cut into one contiguous range per thread; or, for the
 * short sums of the weight gradient (K = the batch ≤ KC), row blocks cut
 * into one range per thread, each thread with its own copy of Bm, so that
 * a thread finishes whole rows of C (and of Adam's moments) and shares
 * nothing. Either way each output is summed by one thread, in one kernel
 * call sequence over k: same bits for any order and thread count.
 * Products and scans too small to pay for a parallel region run on one
 * thread (PAR_WORK, PAR_SCAN).
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
 *
 * The instruction set: the routines whose code depends on it (micro-kernel,
 * sigmoid, axpy/dot, sparse rows, the per-sample SGD row, Adam) are one
 * table (kernels_isa.h), chosen once at start-up; their portable copies are
 * here, their AVX2/FMA twins in kernels_avx2.c, the AVX-512 ones (the
 * micro-kernels, two-tile kernels that hold twelve sums in flight, Adam)
 * in kernels_avx512.c. Nothing else here branches on the instruction set.
 * The naive references come first.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernels.h"
#ifdef _OPENMP
#include <omp.h>
#endif
#include "kernels_isa.h"

#include "fail.h"
#include "vec4.h"

/* ------------------------------------------------------------ naive references
 * First, as the definition each fast kernel must match bit for bit: the
 * triple loop, one fmaf per term in index order. */

void matmul_forward_naive(float *c, const float *a, const float *b, int M, int K, int N)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float acc = 0.0f;
            for (int k = 0; k < K; k++) acc = fmaf(a[(size_t)i * K + k], b[(size_t)k * N + j], acc);
            c[(size_t)i * N + j] = acc;
        }
}

void matmul_backward_weight_naive(float *c, const float *a, const float *b, int M, int K, int N)
{
    for (int i = 0; i < K; i++)
        for (int j = 0; j < N; j++) {
            float acc = 0.0f;
            for (int m = 0; m < M; m++) acc = fmaf(a[(size_t)m * K + i], b[(size_t)m * N + j], acc);
            c[(size_t)i * N + j] += acc;
        }
}

void matmul_backward_input_naive(float *c, const float *a, const float *b, int M, int K, int N)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < K; j++) {
            float acc = 0.0f;
            for (int n = 0; n < N; n++) acc = fmaf(a[(size_t)i * N + n], b[(size_t)j * N + n], acc);
            c[(size_t)i * K + j] = acc;
        }
}


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

/* The instruction set (kernels.h: kernels_isa_choice), read once: the
 * first call decides, before main (the constructors below), so no call can
 * race inside a parallel region. */
static const char *const level_names[] = {"portable", "avx2", "avx512"};

static kernels_isa_level level_choose(void)
{
    kernels_isa_level best = KERNELS_ISA_PORTABLE;
#ifdef HAVE_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) best = KERNELS_ISA_AVX2;
    if (best == KERNELS_ISA_AVX2 && __builtin_cpu_supports("avx512f")) best = KERNELS_ISA_AVX512;
#endif
    const char *force = getenv("CHAINRULE_ISA"), *port = getenv("CHAINRULE_PORTABLE");
    if (force && *force) {
        int want = -1;
        for (int i = 0; i < 3; i++)
            if (strcmp(force, level_names[i]) == 0) want = i;
        if (want < 0) {
            fprintf(stderr, "CHAINRULE_ISA=%.40s%s: not one of portable, avx2, avx512\n", force,
                    strlen(force) > 40 ? "..." : "");
            exit(2);
        }
        if (want > (int)best) {
            fprintf(stderr, "CHAINRULE_ISA=%s: this CPU cannot run it (the widest it runs is %s)\n",
                    force, level_names[best]);
            exit(2);
        }
        return (kernels_isa_level)want;
    }
    if (port && strcmp(port, "1") == 0) return KERNELS_ISA_PORTABLE;
    return best;
}

static int level = -1;
kernels_isa_level kernels_isa_choice(void)
{
    if (level < 0) level = (int)level_choose();
    return (kernels_isa_level)level;
}

/* The table of ISA-dependent routines (kernels_isa.h) for that set. */
static const kernels_isa_table *isa_table;

static const kernels_isa_table *isa_choose(void)
{
#ifdef HAVE_X86
    static kernels_isa_table avx512;
    switch (kernels_isa_choice()) {
    case KERNELS_ISA_AVX512: kernels_avx512_table(&avx512); return &avx512;
    case KERNELS_ISA_AVX2: return &kernels_avx2;
    case KERNELS_ISA_PORTABLE: break;
    }
#endif
    return &kernels_portable;
}

/* Before main: no first call can race inside a parallel region. */
__attribute__((constructor)) static void isa_init(void) { isa_table = isa_choose(); }

static const kernels_isa_table *isa(void) { return isa_table ? isa_table : (isa_table = isa_choose()); }

/* e^x in float for the sigmoid, by the algorithm of glibc's expf (from
 * ARM's optimized-routines): x·32/ln 2 = k + r with k an integer and
 * |r| ≤ 1/2, e^x = 2^(k/32) · 2^(r/32), 2^(j/32) (j = k mod 32) from a
 * table and 2^(r/32) from a cubic, all in double, rounded once to float
 * (error ≤ 0.502 ulp). Our own copy, with plain multiplies and adds, so the
 * sigmoid has the same bits on every machine and libm, and an AVX2 twin
 * (exp4_avx2) that does the same operations lane by lane. */

const uint64_t kernels_exp_tab[32] = {   /* bits of 2^(j/32), less j << 47 */
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
    0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
    0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
    0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
    0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
    0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
    0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
};

/* e^xd before the rounding to float: x·32/ln 2 = k + r, as above
 * (|xd| within exp_f's range) */
static inline double exp_core(double xd)
{
    double z = EXP_INVLN2N * xd, kd = z + EXP_SHIFT;
    uint64_t ki, t;
    memcpy(&ki, &kd, sizeof ki);
    kd -= EXP_SHIFT;
    double r = z - kd;
    t = kernels_exp_tab[ki % 32] + (ki << 47);                 /* 2^(k/32): table × 2^((k − j)/32) */
    double sc, p = EXP_C0 * r + EXP_C1, r2 = r * r, y = EXP_C2 * r + 1.0;
    memcpy(&sc, &t, sizeof sc);
    y = p * r2 + y;
    return y * sc;
}

float kernels_exp_f(float x)
{
    if (!(x <= EXP_HI)) return x > 0.0f ? INFINITY : x + x;   /* overflow, or NaN */
    if (x < EXP_LO) return 0.0f;
    return (float)exp_core(x);
}

/* tanh in float, our own: libm's tanhf is up to 2.2 ulp from the true
 * value and takes 23 ns a call (Intel Xeon, glibc 2.36); this is within
 * 0.51 ulp and takes 8 ns, and its bits are the same with any libm. In
 * double, t = |x| capped at 20 (tanh rounds to 1 in float from 9.01):
 *     t < 1/4:  tanh t = t − t³/3 + 2t⁵/15 − 17t⁷/315 + …, through t¹⁵
 *               (the next term is under 2⁻³⁷ of t);
 *     else:     tanh t = 1 − 2/(e^2t + 1), e^2t from exp_core (relative
 *               error about 2⁻³³; no cancellation to speak of from t = 1/4);
 * then x's sign, and one rounding to float. NaN stays NaN, ±∞ → ±1. */
float kernels_tanh_f(float x)
{
    double t = fabs((double)x), y;
    if (!(t <= 20.0)) {
        if (isnan(x)) return x + x;
        t = 20.0;
    }
    if (t < 0.25) {
        double t2 = t * t;
        y = t + t * t2 * (-1.0 / 3 + t2 * (2.0 / 15 + t2 * (-17.0 / 315 + t2 * (62.0 / 2835 +
            t2 * (-1382.0 / 155925 + t2 * (21844.0 / 6081075 + t2 * (-929569.0 / 638512875)))))));
    } else y = 1.0 - 2.0 / (exp_core(2.0 * t) + 1.0);
    return (float)(signbit(x) ? -y : y);
}

void act_forward(float *y, const float *x, size_t n, act_kind a)
{
    switch (a) {
    case ACT_IDENTITY: if (y != x) memmove(y, x, n * sizeof *y); break;
    // y = σ(x) = 1 / (1 + e^−x)
    case ACT_SIGMOID: {
        isa()->sigmoid(y, x, n);
        break;
    }
    case ACT_TANH:    for (size_t i = 0; i < n; i++) y[i] = kernels_tanh_f(x[i]); break;
    case ACT_RELU: {  /* x where x > 0, else +0 (also for −0 and NaN): x's bits under a mask */
        size_t i = 0;
        for (; i + 4 <= n; i += 4) { v4f xi = ld4(x + i); st4(y + i, (v4f)((v4i)xi & (xi > 0.0f))); }
        for (; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
        break;
    }
    // y = 1.7159·tanh(2x/3)
    case ACT_STANH:   for (size_t i = 0; i < n; i++) y[i] = STANH_A * kernels_tanh_f(STANH_B * x[i]); break;
    // y = 1.7159·tanh(2x/3) + 0.01·x
    case ACT_STANH_LIN:
        for (size_t i = 0; i < n; i++) y[i] = STANH_A * kernels_tanh_f(STANH_B * x[i]) + 0.01f * x[i];
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
    case ACT_SIGMOID: {
        size_t i = 0;
        for (; i + 4 <= n; i += 4) { v4f yi = ld4(y + i); st4(dx + i, ld4(dy + i) * (yi * (1.0f - yi))); }
        for (; i < n; i++) dx[i] = dy[i] * (y[i] * (1.0f - y[i]));
        break;
    }
    // dL/dx = dL/dy · (1 − y²)
    case ACT_TANH: {
        size_t i = 0;
        for (; i + 4 <= n; i += 4) { v4f yi = ld4(y + i); st4(dx + i, ld4(dy + i) * (1.0f - yi * yi)); }
        for (; i < n; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
        break;
    }
    // dL/dx = dL/dy · [y > 0]
    case ACT_RELU: {  /* dy's bits where y > 0, else +0 */
        size_t i = 0;
        for (; i + 4 <= n; i += 4) st4(dx + i, (v4f)((v4i)ld4(dy + i) & (ld4(y + i) > 0.0f)));
        for (; i < n; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
        break;
    }
    // y = A·tanh(Bx): dy/dx = A·B·(1 − tanh²) = B·(A − y²/A)
    case ACT_STANH:
        for (size_t i = 0; i < n; i++) dx[i] = dy[i] * (STANH_B * (STANH_A - y[i] * y[i] / STANH_A));
        break;
    // y = A·tanh(Bx) + 0.01x: dy/dx = A·B·(1 − tanh²(Bx)) + 0.01, from x
    case ACT_STANH_LIN:
        ASSERT(x, "stanh_lin needs the pre-activation");
        for (size_t i = 0; i < n; i++) {
            float t = kernels_tanh_f(STANH_B * x[i]);
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
static scratch ws, ws_idx, ws_any, ws_rest;

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
 * libm's correctly rounded emulation elsewhere.) Fetches pf's lines
 * meanwhile (kernels_isa.h). */
static void kern_portable(int kc, const float *restrict ap, const float *restrict bp,
                          const float *tin, float *tout, const prefetch_run *pf)
{
    float c[MR][NR];
    if (tin) memcpy(c, tin, sizeof c);
    else memset(c, 0, sizeof c);
    PF_SETUP(pf, kc);
    for (int k = 0; k < kc; k++) {
        PF_STEP(k);
        const float *ak = ap + (size_t)k * MR, *b = bp + (size_t)k * NR;
        for (int i = 0; i < MR; i++) {
            float ai = ak[i];
            for (int j = 0; j < NR; j++) c[i][j] = fmaf(ai, b[j], c[i][j]);
        }
    }
    memcpy(tout, c, sizeof c);
}

/* tout (MR×NR) = A · bp from 0, with row i of A read in place from a[i]
 * (kc values), bp packed (kc×NR): the same loop, fetching pf's lines. */
static void kern_rows_portable(int kc, const float *const *a, const float *restrict bp, float *tout,
                               const prefetch_run *pf)
{
    float c[MR][NR];
    memset(c, 0, sizeof c);
    PF_SETUP(pf, kc);
    for (int k = 0; k < kc; k++) {
        PF_STEP(k);
        const float *b = bp + (size_t)k * NR;
        for (int i = 0; i < MR; i++) {
            float ai = a[i][k];
            for (int j = 0; j < NR; j++) c[i][j] = fmaf(ai, b[j], c[i][j]);
        }
    }
    memcpy(tout, c, sizeof c);
}

typedef void (*kern_fn)(int, const float *, const float *, const float *, float *, const prefetch_run *);

/* The tiles of panels bp0 and bp1 with the same A (kernels_isa.h: kern2):
 * one call where the ISA has the registers for both, else two. */
static inline void kern_pair(const kernels_isa_table *t, int kc, const float *ap, const float *bp0,
                             const float *bp1, const float *tin0, const float *tin1, float *tout0,
                             float *tout1, const prefetch_run *pf)
{
    if (t->kern2) { t->kern2(kc, ap, bp0, bp1, tin0, tin1, tout0, tout1, NR, 0, pf); return; }
    t->kern(kc, ap, bp0, tin0, tout0, pf);
    t->kern(kc, ap, bp1, tin1, tout1, NULL);
}

static inline void kern_rows_pair(const kernels_isa_table *t, int kc, const float *const *a,
                                  const float *bp0, const float *bp1, float *tout0, float *tout1,
                                  const prefetch_run *pf)
{
    if (t->kern_rows2) { t->kern_rows2(kc, a, bp0, bp1, tout0, tout1, pf); return; }
    t->kern_rows(kc, a, bp0, tout0, pf);
    t->kern_rows(kc, a, bp1, tout1, NULL);
}

const char *kernels_isa(void) { return isa()->name; }

/* ------------------------------------------------------------ Adam */

/*   g ← g + λw (λ ≠ 0);  v ← b1·v + (1−b1)·g;  s ← b2·s + (1−b2)·g·g;
 *   w ← w − (lr_t·v) / (√s + eps)
 * each operation rounded as written, left to right. */
static void adam_portable(float *restrict w, const float *restrict g, float *restrict v,
                          float *restrict s, size_t n, float b1, float b2, float lr_t, float eps, float lam)
{
    for (size_t i = 0; i < n; i++) ADAM_ONE(i);
}


void adam_apply(float *w, const float *g, size_t n, const adam_step *a)
{
    isa()->adam(w, g, a->v, a->s, n, a->b1, a->b2, a->lr_t, a->eps, a->lam);
}

/* The portable copy of the ISA table's first (its twins: FIRST_VEC in
 * kernels_isa.h, 8 or 16 lanes): four at a time, then FIRST_ONE, with the
 * L2 term (decay = 1) or without: inlined with decay constant, so that
 * each loop is branch-free. Each lane does the scalar operations in their
 * order: the scalar loop's bits. */
static inline __attribute__((always_inline)) void
first_order(int kind, float *restrict p, const float *restrict g, float *restrict v, size_t n,
            int decay, float lam, float lr, float mu)
{
#define G4 (decay ? ld4(g + i) + lam * ld4(p + i) : ld4(g + i))  /* ∂(loss + λ/2·Σw²)/∂w */
    size_t i = 0;
    switch (kind) {
    case STEP_SGD:                                          // w ← w − αg
        for (; i + 4 <= n; i += 4) st4(p + i, ld4(p + i) - lr * G4);
        for (; i < n; i++) FIRST_ONE(0, i);
        break;
    case STEP_MOMENTUM:                                     // Δw ← g + γΔw;  w ← w − αΔw
        for (; i + 4 <= n; i += 4) {
            v4f vi = G4 + mu * ld4(v + i);
            st4(v + i, vi);
            st4(p + i, ld4(p + i) - lr * vi);
        }
        for (; i < n; i++) FIRST_ONE(1, i);
        break;
    case STEP_CLASSICAL:                                    // v ← γv − αg;  w ← w + v
        for (; i + 4 <= n; i += 4) {
            v4f vi = mu * ld4(v + i) - lr * G4;
            st4(v + i, vi);
            st4(p + i, ld4(p + i) + vi);
        }
        for (; i < n; i++) FIRST_ONE(2, i);
        break;
    }
#undef G4
}
static void first_portable(int kind, float *restrict p, const float *restrict g, float *restrict v, size_t n,
                           float lam, float lr, float mu)
{
    if (lam != 0.0f) first_order(kind, p, g, v, n, 1, lam, lr, mu);
    else first_order(kind, p, g, v, n, 0, 0.0f, lr, mu);
}

void first_step_apply(float *w, const float *g, size_t n, const first_step *s)
{
    switch (s->kind) {
    case STEP_SGD: case STEP_MOMENTUM: case STEP_CLASSICAL:
        isa()->first((int)s->kind, w, g, s->v, n, s->lam, s->lr, s->mu);
        break;
    case STEP_RMSPROP: isa()->rmsprop(w, g, s->v, n, s->lr, s->rho, s->eps, s->lam); break;
    default: FAIL("first_step_apply: %d is not a first-order kind", (int)s->kind);
    }
}

/* One step (Adam's or a first-order one) on the n weights at offset off
 * of e->c (its moments at the same offset), gradients g. */
typedef struct epilogue epilogue;
static void step_at(const epilogue *e, size_t off, const float *g, size_t n);

/* ------------------------------------------------------------ the product */

/* EP_WSTEP: the weight gradient applied as a step, Adam's (adam) or a
 * first-order one (first), to each weight of c */
typedef enum { EP_FORWARD, EP_WGRAD, EP_WSGD, EP_WSTEP, EP_IGRAD } ep_kind;

struct epilogue {
    ep_kind kind;
    float *c;               /* out / dw / w / dinp, row-major with N columns */
    float *z;               /* forward: pre-activations or NULL */
    const float *bias;      /* forward: (N) or NULL */
    act_kind act;
    float lr;
    const adam_step *adam;  /* EP_WSTEP: the moments (same layout as c) and constants, */
    const first_step *first;/* or the first-order step (one of the two NULL) */
    /* EP_IGRAD: c ⊙= mask where mask, then act_backward(c, c, x, y, ·, act)
     * (the δ of the layer below; all NULL and ACT_IDENTITY: c as summed) */
    const float *x, *y, *mask;
};

static void step_at(const epilogue *e, size_t off, const float *g, size_t n)
{
    if (e->adam) {
        adam_step a = *e->adam;
        a.v = e->adam->v + off; a.s = e->adam->s + off;
        adam_apply(e->c + off, g, n, &a);
    } else {
        first_step f = *e->first;
        if (f.v) f.v += off;
        first_step_apply(e->c + off, g, n, &f);
    }
}

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
    if (n == NR) memcpy(dst, src, NR * sizeof *dst);     /* a constant size: inlined moves */
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
        /* all rows: padding rows are finite, unused; a whole tile four at
         * a time, without the clamp of the bias's index (which kept the
         * loop scalar; gcc -O2 left it scalar even without) */
        if (bias && nr == NR)
            for (int ii = 0; ii < MR; ii++)
                for (int jj = 0; jj < NR; jj += 4)
                    st4(zz + ii * NR + jj, ld4(t + ii * NR + jj) + ld4(bias + jj));
        else
            for (int ii = 0; ii < MR; ii++)
                for (int jj = 0; jj < NR; jj++)
                    zz[ii * NR + jj] = bias ? t[ii * NR + jj] + bias[jj < nr ? jj : 0] : t[ii * NR + jj];
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
    case EP_WSTEP: {
        /* train.c's step on each weight, its gradient g = 0 + Σ (the bits
         * of a zeroed dw plus the sum) */
        float g[NR];
        for (int ii = 0; ii < mr; ii++) {
            for (int jj = 0; jj < nr; jj++) g[jj] = 0.0f + t[ii * NR + jj];
            step_at(e, (size_t)(rows[ii] - e->c), g, (size_t)nr);
        }
        break;
    }
    case EP_IGRAD:
        for (int ii = 0; ii < mr; ii++) copy_row(rows[ii], t + ii * NR, nr);
        break;
    }
}

/* Packs row block ib of A into dst (K×MR, k-major), rows past M as zeros.
 * k outermost, so that dst is written in order (row by row, with dst's
 * stores a row apart, took 2.8× as long: 183 against 66 µs for six full
 * blocks of K = 6272, FC1's, on Intel AVX-512); where A is
 * inpᵀ and the block's rows are adjacent floats of each row of inp, one
 * copy of MR floats per k. Data movement only: no bits depend on it. */
static void pack_a(float *restrict dst, const operands *o, int ib, int M, int K)
{
    int i0 = ib * MR, mr = M - i0 < MR ? M - i0 : MR;
    const int *ri = o->ri, *kk = o->kk;
    if (mr < MR) memset(dst, 0, (size_t)K * MR * sizeof *dst);
    if (o->acs == 1) {          /* rows of A contiguous: MR reads a row apart per k */
        const float *s[MR];
        for (int ii = 0; ii < mr; ii++) s[ii] = o->a + (size_t)(ri ? ri[i0 + ii] : i0 + ii) * o->ars;
        if (mr == MR && MR == 6) {     /* six pointers in registers, both loops unswitched */
            const float *s0 = s[0], *s1 = s[1], *s2 = s[2], *s3 = s[3], *s4 = s[4], *s5 = s[5];
#define PACK6(q) d[0] = s0[q]; d[1] = s1[q]; d[2] = s2[q]; d[3] = s3[q]; d[4] = s4[q]; d[5] = s5[q];
            float *restrict d = dst;
            if (kk) for (int k = 0; k < K; k++, d += MR) { int q = kk[k]; PACK6(q) }
            else    for (int k = 0; k < K; k++, d += MR) { PACK6(k) }
#undef PACK6
        } else
            for (int k = 0; k < K; k++) {
                int q = kk ? kk[k] : k;
                for (int ii = 0; ii < mr; ii++) dst[(size_t)k * MR + ii] = s[ii][q];
            }
    } else {                    /* columns of A contiguous (A = inp^T) */
        size_t off[MR];
        for (int ii = 0; ii < mr; ii++) off[ii] = (size_t)(ri ? ri[i0 + ii] : i0 + ii) * o->ars;
        int adjacent = mr == MR && o->ars == 1;
        for (int ii = 1; ii < mr; ii++) adjacent &= off[ii] == off[0] + (size_t)ii;
        for (int k = 0; k < K; k++) {
            const float *src = o->a + (size_t)(kk ? kk[k] : k) * o->acs;
            if (adjacent) memcpy(dst + (size_t)k * MR, src + off[0], MR * sizeof *dst);
            else for (int ii = 0; ii < mr; ii++) dst[(size_t)k * MR + ii] = src[off[ii]];
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
            copy_row(dst, src, nr);
        }
    } else {                    /* columns of Bm contiguous (brs == 1): a transpose */
        int jj = 0;
        for (; !kk && jj + 4 <= nr; jj += 4) {   /* 4 columns × 4 k at a time */
            const float *s0 = o->b + (size_t)(j0 + jj) * o->bcs + k0, *s1 = s0 + o->bcs;
            const float *s2 = s1 + o->bcs, *s3 = s2 + o->bcs;
            int k = 0;
            for (; k + 4 <= kc; k += 4) {
                v4f r0 = ld4(s0 + k), r1 = ld4(s1 + k), r2 = ld4(s2 + k), r3 = ld4(s3 + k);
                for (int q = 0; q < 4; q++)
                    st4(bp + (size_t)(k + q) * NR + jj, (v4f){r0[q], r1[q], r2[q], r3[q]});
            }
            for (; k < kc; k++) {
                float *d = bp + (size_t)k * NR + jj;
                d[0] = s0[k]; d[1] = s1[k]; d[2] = s2[k]; d[3] = s3[k];
            }
        }
        for (; jj < nr; jj++) {
            const float *src = o->b + (size_t)(j0 + jj) * o->bcs;
            for (int k = 0; k < kc; k++) bp[(size_t)k * NR + jj] = src[kk ? kk[k0 + k] : k0 + k];
        }
    }
}

/* gemm: column panels per group (packed together, each A block used on
 * all of them while in cache), as many as keep the group's partial tiles
 * within PT_BUDGET bytes, at most PG_MAX and at least 2 (so that a tall A,
 * a test set's 1000 rows or more, still gets the two-panel kernel: 1000 ×
 * 784 · 784 × 300 went from 48-53 to 47-66 GFLOP/s on 1 thread, 10,000
 * rows from 28-32 to 37-45, in five alternating pairs; on 2 threads 76-91
 * → 84-107 and 50-64 → 72-84 in four); pack_bg reads each row of Bm
 * PF_ROWS rows ahead into cache (the rows of a group are a row of w apart:
 * the hardware does not prefetch them), and k blocks are KC deep.
 * A Bm that streams from memory (over BM_STREAM bytes: FC1's 19.6 MB) is
 * read in order instead: one group of all of a thread's panels (partial
 * tiles within PT_BUDGET_STREAM), k blocks of GKC_STREAM, no software
 * prefetch. Each k block of Bm is then read row by row in runs as long as
 * the thread's columns, where the hardware's prefetch keeps up; the
 * software prefetch stalled, out of line-fill buffers, on a core that
 * streams 12 GB/s (FC1's forward per step, Intel AVX-512, seven paired
 * runs: 7.7-9.0 → 7.3-7.5 ms, each pair better; the MLP's 940 KB w, in
 * L2, keeps the groups of 8, which were faster there in three pairs).
 * Not packing at all was slower: a two-tile kernel that read Bm's rows in
 * place, 784 floats apart, took 1.29-1.33× as long on FC1's forward
 * (three runs of 40 alternating calls), since the packing reads w in
 * order and the in-place kernel a line from each of kc rows. A copy of w
 * packed once ran the forward 14-19% (about 1.2 ms) faster in three such
 * runs, w unchanged between calls; kept up to date by the backward's
 * step, it would cost a second write of w (19.6 MB, about 1.1 ms at the
 * step's 18-19 GB/s), so it was not kept. */
#define PT_BUDGET (32 * 1024)
#define PG_MAX 8
#define PF_ROWS 16
#define BM_STREAM (4u << 20)
#define PT_BUDGET_STREAM (256 * 1024)
#define PG_MAX_STREAM 64
#define GKC_STREAM 128

/* Packs panels jg…jg+ng of Bm (columns jg·NR…, k0…k0+kc) into bp, one
 * panel every pstride floats: where the rows of Bm are contiguous, row by
 * row across all ng panels (ng·NR floats read in one run per row, not
 * NR floats of each row once per panel). */
static void pack_bg(float *restrict bp, size_t pstride, const operands *o, int jg, int ng, int N,
                    int K, int k0, int kc, int pf)
{
    int full = N - (jg + ng - 1) * NR >= NR;           /* the last panel full? */
    if (o->bcs != 1 || ng == 1 || !full) {
        for (int p = 0; p < ng; p++) {
            int j0 = (jg + p) * NR;
            pack_b(bp + (size_t)p * pstride, o, j0, N - j0 < NR ? N - j0 : NR, k0, kc);
        }
        return;
    }
    const int *kk = o->kk;
    for (int k = 0; k < kc; k++) {
        const float *src = o->b + (size_t)(kk ? kk[k0 + k] : k0 + k) * o->brs + (size_t)jg * NR;
        float *dst = bp + (size_t)k * NR;
        if (pf && k0 + k + PF_ROWS < K) {      /* the row PF_ROWS ahead, into cache */
            const char *q = (const char *)(o->b + (size_t)(kk ? kk[k0 + k + PF_ROWS] : k0 + k + PF_ROWS) * o->brs + (size_t)jg * NR);
            for (int p = 0; p < ng * NR * 4; p += 64) __builtin_prefetch(q + p);
        }
        for (int p = 0; p < ng; p++) memcpy(dst + (size_t)p * pstride, src + p * NR, NR * sizeof *dst);
    }
}

/* kernels.h: zeroed, cache-line-aligned memory for the big arrays. Each
 * 16-float panel row of a weight matrix whose rows are whole lines (784
 * columns: 49 lines) is then one line, not two: FC1's forward went from
 * 3.17-3.25 to 2.80-2.82 ms per step against calloc's 16-byte alignment
 * (three paired runs). Touched here, so that the first page faults are not
 * the first training step's. */
void *kernels_zalloc(size_t bytes)
{
    if (bytes > SIZE_MAX - 64) return NULL;
    size_t n = bytes ? (bytes + 63) / 64 * 64 : 64;
    void *p = aligned_alloc(64, n);
    if (p) memset(p, 0, n);
    return p;
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

/* Products with fewer multiply-adds than this (~3 µs on one core) run on
 * one thread: a parallel region costs about a microsecond to start and end. */
#define PAR_WORK 1e5
/* and scans of fewer values than this (a scan does ~4 values a cycle;
 * the MLP's hidden layer, 100 × 300, stays on one thread) */
#define PAR_SCAN 5e4

/* The next of n units for thread t of two, shared through *claimed
 * (atomically): thread 0 takes them from the front and thread 1 from the
 * back until they meet, so that a slower core does fewer — a shared
 * machine's two cores can differ by 1.7× in speed, and which one is slower
 * changes from minute to minute — while with equal speeds each keeps about
 * the same half from call to call (its rows stay in its cache). *mine counts
 * the thread's units so far; −1 when none is left. Which thread sums an
 * output changes nothing in its bits. */
static int claim_unit(int *claimed, int n, int t, int *mine)
{
    int c;
#pragma omp atomic capture
    c = (*claimed)++;
    if (c >= n) return -1;
    int u = t == 0 ? *mine : n - 1 - *mine;
    (*mine)++;
    return u;
}
/* the fewest units worth sharing from the two ends (with fewer, the fixed
 * halves are better balanced: cut at a tile or a row block) */
#define TWO_ENDS_MIN 8

/* gemm's blocking of one product: row blocks, column panels, the regime,
 * k blocks of kcb (nkb of them), groups of pg panels */
typedef struct {
    int nib, njp, stream, kcb, pg, nkb;
} gemm_plan;

/* The floats from one packed panel of a group to the next: kcb·NR plus
 * a line, so that a pack's stores into the group's panels (one line per
 * panel per row of Bm) do not all fall in the same set of L1 (panels a
 * multiple of 4 KB apart alias). Measured with the fetching ahead below
 * on FC1's forward (32 × 6272 · 6272 × 784, one thread, Intel AVX-512,
 * the four ways alternating in one process): neither 5.26-7.69 ms, the
 * line alone 1.02×, the fetching alone 1.09-1.12×, both 1.23-1.30×
 * faster; on two threads both 1.36×. In bench/mnist_cnn's training,
 * alternate steps: FC1's forward 1.18-1.20× faster on one thread, 1.15×
 * on two. With CHAINRULE_ISA=avx2 (kern's two calls a pair, the first
 * fetching): 1.21× from the fetching. */
static size_t panel_stride(int kcb) { return (size_t)kcb * NR + 16; }
/* Tiles lo…hi of gemm (numbered panel by panel) on one thread: A packed in
 * apk, its own buffers bp (a group's panels) and pt (their partial tiles). */
static void gemm_tiles(const gemm_plan *g, int M, int N, int K, const operands *o, const epilogue *e,
                       const float *apk, float *bp, float *pt, long lo, long hi)
{
    const kernels_isa_table *tab = isa();
    kern_fn kf = tab->kern;
    int nib = g->nib, kcb = g->kcb, pg = g->pg, nkb = g->nkb, stream = g->stream;
    size_t pstride = panel_stride(kcb);
    int jpe = hi > lo ? (int)((hi - 1) / nib) + 1 : 0;
    for (int jg = (int)(lo / nib); jg < jpe; jg += pg) {
        int ng = jpe - jg < pg ? jpe - jg : pg;        /* panels jg…jg+ng */
        for (int kb = 0; kb < nkb; kb++) {
            int k0 = kb * kcb, kc = K - k0 < kcb ? K - k0 : kcb;
            pack_bg(bp, pstride, o, jg, ng, N, K, k0, kc, !stream);
            /* the next k block of the group's panels of Bm (streaming from
             * memory), fetched by this block's two-tile kernels meanwhile,
             * a share of its lines each: its pack then reads from L2 */
            prefetch_run nx = {NULL, 0, 0, 0, 0};
            int nx_per = 0;
            if (stream && kb + 1 < nkb && o->bcs == 1 && !o->kk) {
                int kn = K - k0 - kc < kcb ? K - k0 - kc : kcb, c0 = jg * NR;
                nx = pf_block(o->b, o->brs, k0 + kc, kn, c0, (jg + ng) * NR < N ? ng * NR : N - c0);
                int calls = ((ng + 1) / 2) * nib;
                nx_per = (nx.count + calls - 1) / calls;
            }
            for (int p = 0; p < ng;) {
                int jp = jg + p, j0 = jp * NR, nr = N - j0 < NR ? N - j0 : NR;
                int ib0 = lo > (long)jp * nib ? (int)(lo - (long)jp * nib) : 0;
                int ib1 = hi < (long)(jp + 1) * nib ? (int)(hi - (long)jp * nib) : nib;
                const float *bpp = bp + (size_t)p * pstride;
                /* two panels at once where this thread has all of both
                 * (only the ends of its range are partial) */
                int two = p + 1 < ng && ib0 == 0 && ib1 == nib && hi >= (long)(jp + 2) * nib;
                for (int ib = ib0; ib < ib1; ib++) {
                    int i0 = ib * MR, mr = M - i0 < MR ? M - i0 : MR;
                    const float *apb = apk + (size_t)ib * K * MR + (size_t)k0 * MR;
                    float *tile = pt + ((size_t)p * nib + ib) * MR * NR;
                    if (!two) {
                        kf(kc, apb, bpp, kb ? tile : NULL, tile, NULL);
                        if (kb + 1 == nkb) ep_apply(e, tile, o->ri, i0, mr, j0, nr, N);
                        continue;
                    }
                    float *tile1 = tile + (size_t)nib * MR * NR;
                    prefetch_run pf = pf_take(&nx, nx_per);
                    kern_pair(tab, kc, apb, bpp, bpp + pstride, kb ? tile : NULL,
                              kb ? tile1 : NULL, tile, tile1, &pf);
                    if (kb + 1 == nkb) {
                        int nr1 = N - j0 - NR < NR ? N - j0 - NR : NR;
                        ep_apply(e, tile, o->ri, i0, mr, j0, nr, N);
                        ep_apply(e, tile1, o->ri, i0, mr, j0 + NR, nr1, N);
                    }
                }
                p += two ? 2 : 1;
            }
        }
    }
}

/* C = epilogue(A · Bm); see the top of the file. A is packed whole (row
 * blocks of MR, shared by the threads); the tiles MR×NR, numbered column
 * panel by column panel, are cut into one contiguous range per thread, so
 * the split is even for any shape and each output is summed by one
 * thread — or, on two threads, into units of whole panels taken from the
 * two ends (claim_unit). A thread walks its panels in groups of pg: per k
 * block it packs the group's panels (KC×NR each, pack_bg) into its own
 * buffer (in L2), runs every tile of the group over that k block, and
 * keeps the partial tiles between k blocks. For a short A (the forward of a batch of 32:
 * 6 row blocks) the packing of Bm is most of the cost beyond the kernel:
 * groups read each row of Bm in runs of pg·NR floats, and A's k block is
 * used pg times per pass from cache (measured on FC1, 32×6272 · 6272×784:
 * 5.7 ms → 5.0 ms with groups of 8, → 4.1–4.6 ms with pack_bg's prefetch). */
static void gemm(int M, int N, int K, const operands *o, const epilogue *e)
{
    gemm_plan g;
    g.nib = (M + MR - 1) / MR; g.njp = (N + NR - 1) / NR;
    g.stream = (double)K * N * sizeof(float) > BM_STREAM;
    g.kcb = g.stream ? GKC_STREAM : KC;
    int pgmax = g.stream ? PG_MAX_STREAM : PG_MAX;
    g.pg = (int)((g.stream ? PT_BUDGET_STREAM : PT_BUDGET) / ((size_t)g.nib * MR * NR * sizeof(float)));
    if (g.pg > pgmax) g.pg = pgmax;
    if (g.pg < 2) g.pg = 2;
    g.nkb = (K + g.kcb - 1) / g.kcb;
    int nib = g.nib, njp = g.njp;
    int tmax = M * (double)N * K > PAR_WORK ? kernels_threads((long)nib * njp) : 1;
    size_t ap_sz = ((size_t)nib * K * MR + 15) / 16 * 16;
    size_t bp_sz = (size_t)g.pg * panel_stride(g.kcb);     /* per thread */
    size_t pt_sz = (size_t)g.pg * nib * MR * NR;           /* per thread */
    float *base = ws_get(ap_sz + (size_t)tmax * (bp_sz + pt_sz));
    float *apk = base, *bpk = apk + ap_sz, *ptk = bpk + (size_t)tmax * bp_sz;
    /* two threads share units of whole panels from the two ends (at most pg
     * panels each, at least TWO_ENDS_MIN units), except where Bm streams
     * from memory (each thread then reads its columns of each row in one run) */
    int nu = (njp + g.pg - 1) / g.pg;
    if (nu < TWO_ENDS_MIN) nu = njp < TWO_ENDS_MIN ? njp : TWO_ENDS_MIN;
    int two_ends = tmax == 2 && !g.stream && nu >= TWO_ENDS_MIN, claimed = 0;

#pragma omp parallel num_threads(tmax)
    {
#pragma omp for schedule(static)
        for (int ib = 0; ib < nib; ib++) pack_a(apk + (size_t)ib * K * MR, o, ib, M, K);
        /* (the implicit barrier: A is packed) */
        int t = THREAD_NUM(), nt = THREAD_COUNT();
        float *bp = bpk + (size_t)t * bp_sz, *pt = ptk + (size_t)t * pt_sz;
        if (two_ends && nt == 2)
            for (int mine = 0, u; (u = claim_unit(&claimed, nu, t, &mine)) >= 0;)
                gemm_tiles(&g, M, N, K, o, e, apk, bp, pt, (long)njp * u / nu * nib,
                           (long)njp * (u + 1) / nu * nib);
        else {
            long tiles = (long)nib * njp;
            gemm_tiles(&g, M, N, K, o, e, apk, bp, pt, tiles * t / nt, tiles * (t + 1) / nt);
        }
    }
}

/* Row blocks per group in gemm_rows: the group's packed A (RG·K·MR) and
 * its strip of C (RG·MR rows × N) stay in cache while the panels pass. */
#define RG 4
/* gemm_rows's largest copy of Bm per thread, in floats (256 KB: in L2) */
#define ROWS_BP_MAX (64 * 1024)

/* The step epilogue of a finished strip: rows i0…i0+m of C (rows ri(i)),
 * all N columns, gradients g (m×N, row-major: 0 + each sum). One call per
 * row, or one for the whole strip when its rows are adjacent in C. */
static void strip_step(const epilogue *e, const float *g, const int *ri, int i0, int m, int N)
{
    int step = ri ? 1 : m;
    for (int ii = 0; ii < m; ii += step)
        step_at(e, (size_t)(ri ? ri[i0 + ii] : i0 + ii) * N, g + (size_t)ii * N, (size_t)step * N);
}

/* EP_IGRAD's last step on rows i0…i0+m of C (N columns, adjacent): the
 * dropout mask, then the activation's derivative, element by element as
 * mlp.c applied them after the product (the same operations: same bits). */
static void igrad_finish(const epilogue *e, int i0, int m, int N)
{
    size_t off = (size_t)i0 * N, n = (size_t)m * N;
    float *restrict c = e->c + off;
    if (e->mask) {
        const float *restrict mk = e->mask + off;
        for (size_t i = 0; i < n; i++) c[i] *= mk[i];
    }
    if (e->act != ACT_IDENTITY)
        act_backward(c, c, e->x ? e->x + off : NULL, e->y ? e->y + off : NULL, n, e->act);
}

/* One strip of gemm_rows: row blocks g0…g1 of A (packed here into ap),
 * all of Bm (packed in bp, K × N by panels), the tiles' epilogue or, for
 * a step (Adam's or a first-order one), the strip's sums gathered in st
 * (rows of N) and one pass of the step;
 * an input gradient's strip then goes through igrad_finish. */
static void rows_strip(const kernels_isa_table *tab, int M, int N, int K, const operands *o,
                       const epilogue *e, const float *bp, float *ap, float *st, int g0, int g1)
{
    int njp = (N + NR - 1) / NR, wstep = e->kind == EP_WSTEP, igrad = e->kind == EP_IGRAD;
    _Alignas(64) float tile[2 * MR * NR];
    /* a forward reads A's rows in place where they are contiguous and
     * whole (no kk), as igrad_rows reads w's: for the output layer's 10
     * columns, one panel, packing A took as long as the product */
    int inplace = e->kind == EP_FORWARD && o->acs == 1 && !o->kk;
    if (!inplace) for (int ib = g0; ib < g1; ib++) pack_a(ap + (size_t)(ib - g0) * K * MR, o, ib, M, K);
    for (int jp = 0; jp < njp; jp += 2) {     /* two panels at a time, the last alone */
        int two = jp + 1 < njp;
        const float *bpj = bp + (size_t)jp * K * NR;
        /* a step's sums straight into the strip where the ISA's two-tile
         * kernel stores them (0 + each, two whole panels; rows past M land
         * in the strip's spare rows, unused); an input gradient's straight
         * into C where the row block is whole (its sums as they are: the
         * epilogue's copy of each tile cost more than the short product) */
        int whole = two && tab->kern2 && (jp + 2) * NR <= N;
        for (int ib = g0; ib < g1; ib++) {
            int i0 = ib * MR, mr = M - i0 < MR ? M - i0 : MR;
            const float *apb = ap + (size_t)(ib - g0) * K * MR;
            if (wstep && whole) {
                float *g = st + (size_t)(i0 - g0 * MR) * N + (size_t)jp * NR;
                tab->kern2(K, apb, bpj, bpj + (size_t)K * NR, NULL, NULL, g, g + NR, (size_t)N, 1, NULL);
                continue;
            }
            if (igrad && whole && mr == MR && !o->ri) {      /* (C's rows are A's) */
                float *c = e->c + (size_t)i0 * N + (size_t)jp * NR;
                tab->kern2(K, apb, bpj, bpj + (size_t)K * NR, NULL, NULL, c, c + NR, (size_t)N, 0, NULL);
                continue;
            }
            if (inplace) {
                const float *rows[MR];
                for (int ii = 0; ii < MR; ii++)      /* rows past M: the last (sums dropped) */
                    rows[ii] = o->a + (size_t)(i0 + (ii < mr ? ii : mr - 1)) * o->ars;
                if (two) kern_rows_pair(tab, K, rows, bpj, bpj + (size_t)K * NR, tile, tile + MR * NR, NULL);
                else tab->kern_rows(K, rows, bpj, tile, NULL);
            } else if (two) kern_pair(tab, K, apb, bpj, bpj + (size_t)K * NR, NULL, NULL, tile, tile + MR * NR, NULL);
            else tab->kern(K, apb, bpj, NULL, tile, NULL);
            for (int q = 0; q <= two; q++) {
                int j0 = (jp + q) * NR, nr = N - j0 < NR ? N - j0 : NR;
                const float *tq = tile + q * MR * NR;
                if (!wstep) { ep_apply(e, tq, o->ri, i0, mr, j0, nr, N); continue; }
                /* the bits of a zeroed dw plus the sum */
                float *g = st + (size_t)(i0 - g0 * MR) * N + j0;
                for (int ii = 0; ii < mr; ii++) {
                    float *restrict gr = g + (size_t)ii * N;
                    const float *restrict tr = tq + ii * NR;
                    if (nr == NR) for (int jj = 0; jj < NR; jj++) gr[jj] = 0.0f + tr[jj];
                    else for (int jj = 0; jj < nr; jj++) gr[jj] = 0.0f + tr[jj];
                }
            }
        }
    }
    if (wstep) strip_step(e, st, o->ri, g0 * MR, (g1 * MR < M ? g1 * MR : M) - g0 * MR, N);
    if (igrad) igrad_finish(e, g0 * MR, (g1 * MR < M ? g1 * MR : M) - g0 * MR, N);
}

/* Bm (K × N) packed whole, by panels of NR columns: its floats, and as a
 * buffer (a multiple of 16 floats). gemm_rows's other buffers per thread:
 * a strip of A, and for a step a strip of sums. */
static size_t panels_floats(int N, int K) { return (size_t)((N + NR - 1) / NR) * K * NR; }
static size_t rows_bp_size(int N, int K) { return (panels_floats(N, K) + 15) / 16 * 16; }
static size_t rows_ap_size(int K) { return ((size_t)RG * K * MR + 15) / 16 * 16; }
static size_t rows_st_size(int N, int wstep) { return wstep ? ((size_t)RG * MR * N + 15) / 16 * 16 : 0; }
static void rows_pack_b(float *bp, const operands *o, int N, int K)
{
    for (int jp = 0; jp < (N + NR - 1) / NR; jp++)
        pack_b(bp + (size_t)jp * K * NR, o, jp * NR, N - jp * NR < NR ? N - jp * NR : NR, 0, K);
}

/* C = epilogue(A · Bm) for a small Bm (the weight gradient's short sum,
 * K = the batch ≤ KC; the forward of a narrow layer) in row-block order:
 * each thread takes one contiguous range of row blocks, packs all of Bm
 * into its own buffer (K × N, ≤ ROWS_BP_MAX floats) and its own row blocks
 * of A, and finishes strips of RG·MR full rows
 * of C one after another (two threads take the strips from the two ends,
 * claim_unit, where there are TWO_ENDS_MIN of them), so it shares nothing
 * with the other threads
 * (no barrier) and writes C, and a step's moments, in long contiguous runs
 * instead of NR floats per row a row apart. Each tile is one kernel call
 * over all of k, so the sums are those of gemm. */
static void gemm_rows(int M, int N, int K, const operands *o, const epilogue *e)
{
    const kernels_isa_table *tab = isa();
    int nib = (M + MR - 1) / MR, wstep = e->kind == EP_WSTEP;
    int tmax = M * (double)N * K > PAR_WORK ? kernels_threads(nib) : 1;
    size_t bp_sz = rows_bp_size(N, K), ap_sz = rows_ap_size(K), st_sz = rows_st_size(N, wstep);
    size_t per = bp_sz + ap_sz + st_sz;                    /* per thread */
    float *base = ws_get((size_t)tmax * per);

    int nstrips = (nib + RG - 1) / RG, claimed = 0;
#pragma omp parallel num_threads(tmax)
    {
        int t = THREAD_NUM(), nt = THREAD_COUNT();
        float *bp = base + (size_t)t * per, *ap = bp + bp_sz, *st = ap + ap_sz;
        if (nt == 2 && nstrips >= TWO_ENDS_MIN) {
            rows_pack_b(bp, o, N, K);
            for (int mine = 0, u; (u = claim_unit(&claimed, nstrips, t, &mine)) >= 0;) {
                int g1 = (u + 1) * RG < nib ? (u + 1) * RG : nib;
                rows_strip(tab, M, N, K, o, e, bp, ap, st, u * RG, g1);
            }
        } else {
            int lo = (int)((long)nib * t / nt), hi = (int)((long)nib * (t + 1) / nt);
            if (lo < hi) rows_pack_b(bp, o, N, K);
            for (int g0 = lo; g0 < hi; g0 += RG)
                rows_strip(tab, M, N, K, o, e, bp, ap, st, g0, g0 + RG < hi ? g0 + RG : hi);
        }
    }
}

/* The weight-gradient products: gemm_rows where its per-thread copy of Bm
 * (K × N, padded) is small, gemm otherwise. */
static int rows_fit(int N, int K) { return K <= KC && panels_floats(N, K) <= ROWS_BP_MAX; }
static void gemm_wgrad(int M, int N, int K, const operands *o, const epilogue *e)
{
    if (rows_fit(N, K)) gemm_rows(M, N, K, o, e);
    else gemm(M, N, K, o, e);
}


/* Bit j of mask[g] = column 16·g + j of x (B rows, ld floats apart) holds
 * a value other than ±0 (NaN included) in some row, for ng groups of 16
 * columns. One group at a time, four v4i flags down the rows in registers
 * (flags kept in memory were a load and a store per chunk and row),
 * stopping after rows 1, 2, 4, 8, … once all 16 are found (dense inputs).
 * (An AVX-512 twin of this and of finite_run scanned no faster: MNIST's
 * batch and w's rows come from memory.) */
static void nonzero16(uint16_t *mask, const float *x, size_t ld, int B, int ng)
{
    for (int g = 0; g < ng; g++) {
        const float *xg = x + 16 * (size_t)g;
        v4i f0 = {0, 0, 0, 0}, f1 = f0, f2 = f0, f3 = f0;
        for (int r = 0; r < B; r++) {
            const float *xr = xg + (size_t)r * ld;
            f0 |= ld4(xr) != 0.0f; f1 |= ld4(xr + 4) != 0.0f;
            f2 |= ld4(xr + 8) != 0.0f; f3 |= ld4(xr + 12) != 0.0f;
            if ((r & (r + 1)) == 0) {
                v4i all = f0 & f1 & f2 & f3;
                if (all[0] & all[1] & all[2] & all[3]) break;
            }
        }
        v4i f[4] = {f0, f1, f2, f3};
        unsigned m = 0;
        for (int j = 0; j < 16; j++) m |= (unsigned)(f[j / 4][j % 4] & 1) << j;
        mask[g] = (uint16_t)m;
    }
}

/* 1 when all n values are finite (x − x is 0 for them, NaN otherwise). */
static int finite_run(const float *x, size_t n)
{
    v4i bad = {0};
    size_t i = 0;
    for (; i + 4 <= n; i += 4) { v4f v = ld4(x + i); bad |= v - v != 0.0f; }
    int b = bad[0] | bad[1] | bad[2] | bad[3];
    for (; i < n; i++) b |= !(x[i] - x[i] == 0.0f);
    return !b;
}

/* The columns d of x (B, D) that hold a non-zero in some row, in order, into
 * idx (room for D); returns their count. A
 * term a·b with a = ±0 and b finite is ±0, and adding ±0 leaves a sum that
 * starts at +0 unchanged (such a sum is never −0 under round-to-nearest),
 * so dropping those terms keeps every bit — for finite b, which the
 * callers check. Threads split the rows (each scans its rows of every
 * group of 16 columns with nonzero16, into masks of its own, or-ed after):
 * a batch's rows are where the threads that copied them left them (split
 * the same way), and taking the columns instead, each thread read half its
 * floats from the other core's cache (MNIST, B = 100, Intel AVX-512 at 2
 * threads: 27-34 µs against 10-15 at 1). The D mod 16 columns left, here. */
static int nonzero_cols(int *idx, const float *x, int B, int D)
{
    int ng = D / 16, n = 0;
    uint16_t *mask = scratch_get(&ws_any, (size_t)KERNELS_MAX_THREADS * (ng + 1) * sizeof(uint16_t));
    int nt = 1, want = (double)B * D > PAR_SCAN ? kernels_threads(B) : 1;   /* (the threads the region had) */
    if (want == 1) nonzero16(mask, x, (size_t)D, B, ng);   /* (no region: a per-sample step makes four scans) */
    else {
#pragma omp parallel num_threads(want)
        {
            int t = THREAD_NUM(), n_t = THREAD_COUNT();
            int r0 = (int)((long)B * t / n_t), r1 = (int)((long)B * (t + 1) / n_t);
            if (t == 0) nt = n_t;
            nonzero16(mask + (size_t)t * (ng + 1), x + (size_t)r0 * D, (size_t)D, r1 - r0, ng);
        }
    }
    for (int t = 1; t < nt; t++)
        for (int g = 0; g < ng; g++) mask[g] |= mask[(size_t)t * (ng + 1) + g];
    for (int g = 0; g < ng; g++)
        for (unsigned m = mask[g]; m; m &= m - 1) idx[n++] = 16 * g + __builtin_ctz(m);
    for (int d = 16 * ng; d < D; d++) {
        int nz = 0;
        for (int r = 0; r < B; r++) nz |= x[(size_t)r * D + d] != 0.0f;
        if (nz) idx[n++] = d;
    }
    return n;
}

/* The rows r0…r1 of rows_finite's check: 1 when one of them is not finite. */
static int rows_bad(const float *x, size_t n, const int *idx, int nidx, long r0, long r1)
{
    int q = 0, bad = 0;
    for (int hi = nidx; idx && q < hi;) {      /* q: the first listed row ≥ r0 */
        int m = (q + hi) / 2;
        if (idx[m] < r0) q = m + 1;
        else hi = m;
    }
    for (long r = r0; r < r1 && !bad; r++) {
        if (idx && q < nidx && idx[q] == r) { q++; continue; }
        bad = !finite_run(x + (size_t)r * n, n);
    }
    return bad;
}

/* 1 when the rows of x (rows × n, row-major) that are not listed in idx
 * (nidx rows, ascending; NULL = none listed) hold only finite values:
 * the rows a product may drop. Threads split the rows. */
static int rows_finite(const float *x, size_t rows, size_t n, const int *idx, int nidx)
{
    long nr = (long)rows;
    int want = (double)rows * n > PAR_SCAN ? kernels_threads(nr) : 1, bad = 0;
    if (want == 1) return !rows_bad(x, n, idx, nidx, 0, nr);      /* (no region for a small check) */
#pragma omp parallel num_threads(want) reduction(|: bad)
    {
        int t = THREAD_NUM(), nt = THREAD_COUNT();
        bad = rows_bad(x, n, idx, nidx, nr * t / nt, nr * (t + 1) / nt);
    }
    return !bad;
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
#undef AXPY_BODY
#undef DOT_BODY

static void axpy(float *restrict y, const float *restrict x, float a, int n) { isa()->axpy(y, x, a, n); }
static float dot(const float *restrict x, const float *restrict y, int n) { return isa()->dot(x, y, n); }

/* w −= lr·fma(a, g, 0): one SGD row for a batch of one (the sum of one
 * term that starts at zero, with its bits). */
static void sgd_row1(float *restrict w, const float *restrict g, float a, float lr, int n)
{
    for (int i = 0; i < n; i++) w[i] -= lr * fmaf(a, g[i], 0.0f);
}

/* acc (H) = Σ_r inp[r][d]·dout[r][·], each sum from +0 in row order (axpy):
 * the per-sample weight gradient's row d. */
static void row_sum(float *acc, const float *inp, const float *dout, int B, int D, int H, int d)
{
    memset(acc, 0, (size_t)H * sizeof *acc);
    for (int r = 0; r < B; r++) axpy(acc, dout + (size_t)r * H, inp[(size_t)r * D + d], H);
}

/* acc[0..H) = Σ_q val[q]·w[idx[q]][·] over the non-zero inputs, in order. */
static void sparse_rows_portable(float *restrict acc, const float *restrict w, int H,
                                 const int *restrict idx, const float *restrict val, int nnz)
{
    memset(acc, 0, (size_t)H * sizeof *acc);
    for (int q = 0; q < nnz; q++) axpy_portable(acc, w + (size_t)idx[q] * H, val[q], H);
}

/*   g ← g + λw (λ ≠ 0);  v ← ρ·v + (1−ρ)·g·g;  w ← w − (lr·g) / (√v + eps)
 * each operation rounded as written, left to right. */
static void rmsprop_portable(float *restrict w, const float *restrict g, float *restrict v, size_t n,
                             float lr, float rho, float eps, float lam)
{
    for (size_t i = 0; i < n; i++) RMSPROP_ONE(i);
}

static void sigmoid_portable(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + kernels_exp_f(-x[i]));
}

const kernels_isa_table kernels_portable = {
    "portable", kern_portable, kern_rows_portable, NULL, NULL, sigmoid_portable, axpy_portable, dot_portable, sparse_rows_portable,
    sgd_row1, adam_portable, first_portable, rmsprop_portable,
};


static void forward_rows(float *out, float *zout, const float *inp, const float *w,
                         const float *bias, int B, int D, int H, act_kind act)
{
    float *acc = ws_get((size_t)H + 2 * (size_t)D + 32);
    int *idx = (int *)(acc + H + 16);
    float *val = acc + H + 16 + D + 8;
    for (int r = 0; r < B; r++) {
        const float *x = inp + (size_t)r * D;
        int nnz = 0;
        for (int d = 0; d < D; d++) if (x[d] != 0.0f) { idx[nnz] = d; val[nnz++] = x[d]; }
        isa()->sparse_rows(acc, w, H, idx, val, nnz);
        if (bias) for (int h = 0; h < H; h++) acc[h] += bias[h];
        if (zout) memcpy(zout + (size_t)r * H, acc, (size_t)H * sizeof *acc);
        act_forward(out + (size_t)r * H, acc, (size_t)H, act);
    }
}

static void wgrad_rows(float *w, const float *inp, const float *dout, int B, int D, int H,
                       int sgd, float lr)
{
    float *acc = ws_get((size_t)H);
    int skip = rows_finite(dout, (size_t)B, (size_t)H, NULL, 0);     /* (0·∞ is NaN) */
    for (int d = 0; d < D; d++) {
        int any = !skip;
        for (int r = 0; r < B; r++) any |= inp[(size_t)r * D + d] != 0.0f;
        if (!any) continue;
        float *wr = w + (size_t)d * H;
        if (B == 1 && sgd) {
            isa()->sgd_row1(wr, dout, inp[d], lr, H);
            continue;
        }
        row_sum(acc, inp, dout, B, D, H, d);
        if (sgd) for (int h = 0; h < H; h++) wr[h] -= lr * acc[h];
        else     for (int h = 0; h < H; h++) wr[h] += acc[h];
    }
}

/* ------------------------------------------------------------ public products */

int matmul_nonzero_cols(int *cols, const float *x, int B, int D)
{
    ASSERT(B >= 0 && D >= 0 && (cols || D == 0) && (x || B == 0 || D == 0),
           "matmul_nonzero_cols: B=%d D=%d", B, D);
    return B > 0 ? nonzero_cols(cols, x, B, D) : 0;
}

/* matmul_forward with inp's non-zero columns given (cols, K) or, with
 * cols NULL, found here. */
static void forward(float *out, float *zout, const float *inp, const float *w, const float *bias,
                    int B, int D, int H, act_kind act, const int *cols, int K)
{
    ASSERT(B >= 0 && D >= 0 && H >= 0, "negative size B=%d D=%d H=%d", B, D, H);
    if (B == 0 || H == 0) return;
    if (B < MR || D == 0) { forward_rows(out, zout, inp, w, bias, B, D, H, act); return; }
    epilogue e = {EP_FORWARD, out, zout, bias, act, 0.0f, NULL, NULL, NULL, NULL, NULL};
    operands o = {inp, (size_t)D, 1, w, (size_t)H, 1, NULL, NULL};
    /* Drop the inputs d that are zero in every row (MNIST's borders and
     * more: about a third of the pixels of a batch of 100), when the rows
     * of w they would multiply are finite. */
    if (!cols) {
        int *kk = scratch_get(&ws_idx, (size_t)D * sizeof(int));
        K = nonzero_cols(kk, inp, B, D);
        cols = kk;
    }
    if (K > 0 && K < D && rows_finite(w, (size_t)D, (size_t)H, cols, K)) o.kk = cols;
    else K = D;
    /* a narrow w (the output layer): row-block order, each thread with
     * its own copy of the packed w and no barrier (gemm_rows) */
    if (panels_floats(H, K) <= ROWS_BP_MAX) gemm_rows(B, H, K, &o, &e);
    else gemm(B, H, K, &o, &e);
}

void matmul_forward(float *out, float *zout, const float *inp, const float *w,
                    const float *bias, int B, int D, int H, act_kind act)
{
    forward(out, zout, inp, w, bias, B, D, H, act, NULL, 0);
}

void matmul_forward_cols(float *out, float *zout, const float *inp, const float *w, const float *bias,
                         int B, int D, int H, act_kind act, const int *cols, int ncols)
{
    ASSERT(cols && ncols >= 0 && ncols <= D, "matmul_forward_cols: %d columns of %d", ncols, D);
    forward(out, zout, inp, w, bias, B, D, H, act, cols, ncols);
}

/* db[h] += Σ_r dout[r][h] (or db[h] −= lr·that), each sum from 0 in r
 * order: rows outer, 16 or 4 columns inner (the same sums, vectorised). */
static void bias_grad(float *dbias, const float *dout, int B, int H, int sgd, float lr)
{
    int h = 0;
    for (; h + 16 <= H; h += 16) {        /* four independent sums in flight */
        v4f a0 = {0.0f, 0.0f, 0.0f, 0.0f}, a1 = a0, a2 = a0, a3 = a0;
        for (int r = 0; r < B; r++) {
            const float *dr = dout + (size_t)r * H + h;
            a0 += ld4(dr); a1 += ld4(dr + 4); a2 += ld4(dr + 8); a3 += ld4(dr + 12);
        }
        v4f acc[4] = {a0, a1, a2, a3};
        for (int q = 0; q < 4; q++) {
            v4f d = ld4(dbias + h + 4 * q);
            d = sgd ? d - lr * acc[q] : d + acc[q];
            st4(dbias + h + 4 * q, d);
        }
    }
    for (; h + 4 <= H; h += 4) {
        v4f acc = {0.0f, 0.0f, 0.0f, 0.0f};
        for (int r = 0; r < B; r++) acc += ld4(dout + (size_t)r * H + h);
        v4f d = ld4(dbias + h);
        d = sgd ? d - lr * acc : d + acc;
        st4(dbias + h, d);
    }
    for (; h < H; h++) {
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
                        ep_kind kind, float lr, const int *cols, int M)
{
    epilogue e = {kind, w, NULL, NULL, ACT_IDENTITY, lr, NULL, NULL, NULL, NULL, NULL};
    operands o = {inp, 1, (size_t)D, dout, (size_t)H, 1, NULL, NULL};
    if (!cols) {
        int *ri = scratch_get(&ws_idx, (size_t)D * sizeof(int));
        M = nonzero_cols(ri, inp, B, D);
        cols = ri;
    }
    if (M < D && rows_finite(dout, (size_t)B, (size_t)H, NULL, 0)) o.ri = cols;
    else M = D;
    if (M > 0) gemm_wgrad(M, H, B, &o, &e);
}

/* The weight gradient's two forms (sgd: the step), inp's non-zero columns
 * given (cols, M) or found (cols NULL). */
static void backward_weight(float *w, float *bias, const float *inp, const float *dout, int B, int D,
                            int H, int sgd, float lr, const int *cols, int M)
{
    if (B == 0 || H == 0) return;
    if (bias) bias_grad(bias, dout, B, H, sgd, lr);
    if (D == 0) return;
    if (B < MR) { wgrad_rows(w, inp, dout, B, D, H, sgd, lr); return; }
    weight_grad(w, inp, dout, B, D, H, sgd ? EP_WSGD : EP_WGRAD, lr, cols, M);
}

void matmul_backward_weight(float *dw, float *dbias, const float *inp,
                            const float *dout, int B, int D, int H)
{
    backward_weight(dw, dbias, inp, dout, B, D, H, 0, 0.0f, NULL, 0);
}

void matmul_backward_weight_sgd(float *w, float *bias, const float *inp,
                                const float *dout, int B, int D, int H, float lr)
{
    backward_weight(w, bias, inp, dout, B, D, H, 1, lr, NULL, 0);
}

void matmul_backward_weight_cols(float *dw, float *dbias, const float *inp, const float *dout,
                                 int B, int D, int H, const int *cols, int ncols)
{
    ASSERT(cols && ncols >= 0 && ncols <= D, "matmul_backward_weight_cols: %d columns of %d", ncols, D);
    backward_weight(dw, dbias, inp, dout, B, D, H, 0, 0.0f, cols, ncols);
}

void matmul_backward_weight_sgd_cols(float *w, float *bias, const float *inp, const float *dout,
                                     int B, int D, int H, float lr, const int *cols, int ncols)
{
    ASSERT(cols && ncols >= 0 && ncols <= D, "matmul_backward_weight_sgd_cols: %d columns of %d", ncols, D);
    backward_weight(w, bias, inp, dout, B, D, H, 1, lr, cols, ncols);
}

void matmul_backward_weight_adam(float *w, const float *inp, const float *dout,
                                 int B, int D, int H, const adam_step *a)
{
    if (B == 0 || H == 0 || D == 0) return;
    /* every row: a zero gradient still moves a weight under Adam */
    epilogue e = {EP_WSTEP, w, NULL, NULL, ACT_IDENTITY, 0.0f, a, NULL, NULL, NULL, NULL};
    operands o = {inp, 1, (size_t)D, dout, (size_t)H, 1, NULL, NULL};
    gemm_wgrad(D, H, B, &o, &e);
}

/* The first-order step of the rows of w (D, H) not listed in cols (M,
 * ascending): their gradient is +0 (a zeroed dw the product left alone).
 * Threads split those rows, where there are PAR_STEP_ROWS floats or more. */
#define PAR_STEP_ROWS (64 * 1024)
static void step_zero_rows(float *w, int D, int H, const first_step *s, const int *cols, int M)
{
    if (M >= D) return;
    int *rest = scratch_get(&ws_rest, (size_t)D * sizeof(int)), nr = 0;
    float *zero = scratch_get(&ws_any, (size_t)H * sizeof(float));
    memset(zero, 0, (size_t)H * sizeof(float));
    for (int d = 0, q = 0; d < D; d++) {
        if (q < M && cols[q] == d) { q++; continue; }
        rest[nr++] = d;
    }
#pragma omp parallel for schedule(static) \
    num_threads((double)nr * H >= PAR_STEP_ROWS ? kernels_threads((long)nr) : 1)
    for (int i = 0; i < nr; i++) {
        first_step f = *s;
        size_t off = (size_t)rest[i] * H;
        if (f.v) f.v += off;
        first_step_apply(w + off, zero, (size_t)H, &f);
    }
}

void matmul_backward_weight_first(float *w, const float *inp, const float *dout, int B, int D, int H,
                                  const first_step *s, const int *cols, int M)
{
    ASSERT(B >= 0 && D >= 0 && H >= 0 && s, "matmul_backward_weight_first: B=%d D=%d H=%d", B, D, H);
    ASSERT(!cols || (M >= 0 && M <= D), "matmul_backward_weight_first: %d columns of %d", M, D);
    if (D == 0 || H == 0) return;
    if (!cols) {
        int *ri = scratch_get(&ws_idx, (size_t)D * sizeof(int));
        M = B > 0 ? nonzero_cols(ri, inp, B, D) : 0;
        cols = ri;
    }
    if (B >= MR) {
        /* the rows with a non-zero input: summed, stepped in the epilogue
         * (every row, when dout is not finite: 0·∞ is NaN) */
        epilogue e = {EP_WSTEP, w, NULL, NULL, ACT_IDENTITY, 0.0f, NULL, s, NULL, NULL, NULL};
        operands o = {inp, 1, (size_t)D, dout, (size_t)H, 1, NULL, NULL};
        if (M < D && rows_finite(dout, (size_t)B, (size_t)H, NULL, 0)) o.ri = cols;
        else M = D;
        if (M > 0) gemm_wgrad(M, H, B, &o, &e);
    } else {
        /* wgrad_rows's sums (each from +0, axpy in row order), then 0 + each;
         * every row when dout is not finite */
        float *acc = ws_get((size_t)H);
        int all = !rows_finite(dout, (size_t)B, (size_t)H, NULL, 0);
        if (all) M = D;
        for (int q = 0; q < M; q++) {
            int d = all ? q : cols[q];
            row_sum(acc, inp, dout, B, D, H, d);
            for (int h = 0; h < H; h++) acc[h] = 0.0f + acc[h];
            first_step f = *s;
            if (f.v) f.v += (size_t)d * H;
            first_step_apply(w + (size_t)d * H, acc, (size_t)H, &f);
        }
    }
    step_zero_rows(w, D, H, s, cols, M);
}

/* Row blocks ib0…ib1 of w in igrad_rows: dinpᵀ rows d0…d0+MR for every
 * batch row, doutᵀ packed whole in bp (H × B by panels). While a block's
 * first two tiles are summed, their kernel fetches the rows of w of the
 * block after it (ib + 1, or `next` after ib1 − 1: the block this thread
 * likely takes next, −1 for none). Measured on FC1 (batch 32, 6272 × 784,
 * Intel AVX-512), with and without in alternation in one process: its
 * input gradient alone, w from memory, one thread, 1.33-1.36× faster
 * (4.7-5.0 ms against 6.2-6.8, medians of 31); its pass with Adam
 * (matmul_backward_input_weight_adam) 1.09-1.12×; the same pass in
 * bench/mnist_cnn's training, alternate steps, 1.12-1.14× on one thread
 * and 1.10× on two. Fetching the block's Adam moments as well (for the
 * step after the strip's weight gradient) made that pass only 1.03-1.08×
 * faster than no fetching at all: they are left to the hardware. */
static void igrad_blocks(const kernels_isa_table *tab, float *dinp, const float *bp, const float *w,
                         int B, int D, int H, int ib0, int ib1, int next)
{
    int njp = (B + NR - 1) / NR, nib = (D + MR - 1) / MR;
    _Alignas(64) float tile[2 * MR * NR];
    for (int ib = ib0; ib < ib1; ib++) {
        int d0 = ib * MR, md = D - d0 < MR ? D - d0 : MR;
        const float *rows[MR];
        for (int i = 0; i < MR; i++) rows[i] = w + (size_t)(d0 + (i < md ? i : md - 1)) * H;
        int nb = ib + 1 < ib1 ? ib + 1 : next;
        prefetch_run pf = {NULL, 0, 0, 0, 0};
        if (nb >= 0 && nb < nib) pf = pf_block(w, (size_t)H, (long)nb * MR, D - nb * MR < MR ? D - nb * MR : MR, 0, H);
        for (int jp = 0; jp < njp; jp += 2) {     /* two panels at a time, the last alone */
            int two = jp + 1 < njp;
            const float *bpj = bp + (size_t)jp * H * NR;
            const prefetch_run *pj = jp == 0 ? &pf : NULL;
            if (two) kern_rows_pair(tab, H, rows, bpj, bpj + (size_t)H * NR, tile, tile + MR * NR, pj);
            else tab->kern_rows(H, rows, bpj, tile, pj);
            for (int q = 0; q <= two; q++) {
                int b0 = (jp + q) * NR, nb0 = B - b0 < NR ? B - b0 : NR;
                const float *tq = tile + q * MR * NR;
                for (int j = 0; j < nb0; j++)
                    for (int i = 0; i < md; i++) dinp[(size_t)(b0 + j) * D + d0 + i] = tq[i * NR + j];
            }
        }
    }
}

/* matmul_backward_input's sums this short or shorter go the way of a
 * forward product (gemm_rows on wᵀ), not igrad_rows */
#define IGRAD_SHORT 32
/* igrad_rows's Bm = doutᵀ (H × B), read in place through strides */
static operands igrad_operands(const float *dout, int H)
{
    return (operands){dout, (size_t)H, 1, dout, 1, (size_t)H, NULL, NULL};   /* Bm[h][b] = dout[b][h] */
}
/* igrad_rows applies: doutᵀ small, at least one row block of w */
static int igrad_rows_fit(int B, int D, int H) { return panels_floats(B, H) <= ROWS_BP_MAX && D >= MR; }

/* dinp (B×D) = dout (B×H) · wᵀ as its transpose, dinpᵀ = w · doutᵀ, for a
 * small doutᵀ (≤ ROWS_BP_MAX floats, padded): A = w read in place (rows
 * contiguous along h, no packing of the big operand), Bm = doutᵀ (H × B) packed whole by each thread into
 * its own buffer, tiles of MR rows of w × NR batch rows, each one kernel
 * call over all of h from 0: each sum Σ_h dout[b][h]·w[d][h] in h order,
 * the naive loop's. Threads take contiguous ranges of row blocks of w and
 * share nothing. Rows past D in the last block read row D − 1 (their sums
 * are dropped). */
static void igrad_rows(float *dinp, const float *dout, const float *w, int B, int D, int H)
{
    int nib = (D + MR - 1) / MR;
    int tmax = B * (double)D * H > PAR_WORK ? kernels_threads(nib) : 1;
    size_t bp_sz = rows_bp_size(B, H);
    float *base = ws_get((size_t)tmax * bp_sz);
    const kernels_isa_table *tab = isa();
    operands ot = igrad_operands(dout, H);

#pragma omp parallel num_threads(tmax)
    {
        int t = THREAD_NUM(), nt = THREAD_COUNT();
        int lo = (int)((long)nib * t / nt), hi = (int)((long)nib * (t + 1) / nt);
        float *bp = base + (size_t)t * bp_sz;
        if (lo < hi) rows_pack_b(bp, &ot, B, H);
        igrad_blocks(tab, dinp, bp, w, B, D, H, lo, hi, -1);
    }
}

void matmul_backward_input(float *dinp, const float *dout, const float *w,
                           int B, int D, int H)
{
    matmul_backward_input_act(dinp, dout, w, B, D, H, NULL, NULL, NULL, ACT_IDENTITY);
}

void matmul_backward_input_act(float *dinp, const float *dout, const float *w, int B, int D, int H,
                               const float *mask, const float *x, const float *y, act_kind act)
{
    if (B == 0 || D == 0) return;
    epilogue e = {EP_IGRAD, dinp, NULL, NULL, act, 0.0f, NULL, NULL, x, y, mask};
    if (B < MR || H < 4) {
        /* dinp[b][d] = Σ_h dout[b][h] · w[d][h]: short dot products */
        for (int r = 0; r < B; r++)
            for (int d = 0; d < D; d++)
                dinp[(size_t)r * D + d] = dot(dout + (size_t)r * H, w + (size_t)d * H, H);
        igrad_finish(&e, 0, B, D);
        return;
    }
    operands o = {dout, (size_t)H, 1, w, 1, (size_t)H, NULL, NULL};
    /* a short sum (an output layer's 10 classes): the tiles are rows of
     * dinp as they are, wᵀ packed whole by each thread; igrad_rows would
     * store each tile transposed, one float at a time (the MLP's output
     * layer, 100 × 10 · 10 × 300: 25-37 µs that way, 19-21 µs this way) */
    if (H <= IGRAD_SHORT && rows_fit(D, H)) {
        gemm_rows(B, D, H, &o, &e);           /* (each strip finished in rows_strip) */
        return;
    }
    if (igrad_rows_fit(B, D, H)) igrad_rows(dinp, dout, w, B, D, H);
    else gemm(B, D, H, &o, &e);
    igrad_finish(&e, 0, B, D);
}

/* Both products of a dense layer's backward under Adam in one pass over w
 * (kernels.h): each thread takes one range of row blocks of w (the split
 * of igrad_rows and of gemm_rows alike) and, strip by strip, first sums
 * the strip's columns of dinp with its rows of w as they are, then its
 * weight gradients and their Adam step, so that the rows are read from
 * memory once (then from cache) and no thread reads a row another
 * changes. Every sum is the separate products' own: same bits.
 * What did not pay on FC1 (6272 × 784, batch 32, one thread, Intel
 * AVX-512, 40 alternating calls a run): each strip's Adam step carried
 * into the next strip's input-gradient kernel, one vector of it every
 * few k so that its loads overlap the multiply-adds (from 4% slower to
 * 2% faster in five runs; still only 5% faster with its divide and
 * square root taken out, as an experiment), and the next strip's rows of
 * w, v and s prefetched into L2 in a loop of their own (6% faster, 1%
 * slower, 2% faster in three runs; perf finds the prefetches stalled for
 * line-fill buffers); and each 6 × 32 tile of weight gradients stepped
 * by Adam straight from the kernel's registers, instead of the strip's
 * sums stored and stepped in one pass (a replica of both loops on FC1's
 * shapes: 1.10-1.13× slower, its w, v and s then eighteen strided streams
 * instead of three contiguous ones). Adam's step itself, in cache, takes
 * 0.53 ns a weight on that core, its divide and square root: 2.6 ms of
 * FC1's 4.9 M weights a step. What did pay: the next row block of w
 * fetched from inside the input gradient's kernel, spread over its k loop
 * (igrad_blocks).
 * The pass moves 118 MB a step (w, v and s read, all three
 * written): 6.3 ms of its 16 at the 18-19 GB/s that Adam's step alone
 * reaches over arrays that size, and overlapping that traffic with the
 * products is what these tries did not achieve. */
void matmul_backward_input_weight_adam(float *dinp, float *w, const float *inp, const float *dout,
                                       int B, int D, int H, const adam_step *a)
{
    if (B < MR || H < 4 || !igrad_rows_fit(B, D, H) || !rows_fit(H, B)) {
        matmul_backward_input(dinp, dout, w, B, D, H);
        matmul_backward_weight_adam(w, inp, dout, B, D, H, a);
        return;
    }
    const kernels_isa_table *tab = isa();
    int nib = (D + MR - 1) / MR;
    int tmax = B * (double)D * H > PAR_WORK ? kernels_threads(nib) : 1;
    epilogue e = {EP_WSTEP, w, NULL, NULL, ACT_IDENTITY, 0.0f, a, NULL, NULL, NULL, NULL};
    operands o = {inp, 1, (size_t)D, dout, (size_t)H, 1, NULL, NULL};
    operands ot = igrad_operands(dout, H);
    size_t ig_sz = rows_bp_size(B, H), bp_sz = rows_bp_size(H, B), ap_sz = rows_ap_size(B);
    size_t per = ig_sz + bp_sz + ap_sz + rows_st_size(H, 1);
    float *base = ws_get((size_t)tmax * per);

    int nstrips = (nib + RG - 1) / RG, claimed = 0;
#pragma omp parallel num_threads(tmax)
    {
        int t = THREAD_NUM(), nt = THREAD_COUNT();
        int lo = (int)((long)nib * t / nt), hi = (int)((long)nib * (t + 1) / nt);
        int ends = nt == 2 && nstrips >= TWO_ENDS_MIN;     /* strips from the two ends */
        float *ig = base + (size_t)t * per, *bp = ig + ig_sz, *ap = bp + bp_sz, *st = ap + ap_sz;
        if (ends || lo < hi) { rows_pack_b(ig, &ot, B, H); rows_pack_b(bp, &o, H, B); }
        /* strip by strip: strip u of all the row blocks, or this thread's
         * range lo…hi in steps of RG */
        int end = ends ? nib : hi;
        for (int mine = 0, g0 = lo, u = 0; ends || g0 < hi; g0 += RG) {
            if (ends && (u = claim_unit(&claimed, nstrips, t, &mine)) < 0) break;
            int s0 = ends ? u * RG : g0, s1 = s0 + RG < end ? s0 + RG : end;
            /* the block it likely takes next: thread 0 walks up, thread 1
             * of two ends down (a wrong guess costs a fetch, no result) */
            int next = ends && t == 1 ? s0 - RG : s1 < end ? s1 : -1;
            igrad_blocks(tab, dinp, ig, w, B, D, H, s0, s1, next);
            rows_strip(tab, D, H, B, &o, &e, bp, ap, st, s0, s1);
        }
    }
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
