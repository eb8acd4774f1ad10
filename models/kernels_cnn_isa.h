/* kernels_cnn_isa.h — private to the CNN kernels: their own small table of
 * the routines whose code depends on the instruction set, on the pattern of
 * kernels_isa.h (and apart from it). kernels_cnn.c holds the portable copies
 * (plain C, fmaf where a product is summed) and chooses the table once at
 * start-up; kernels_cnn_avx2.c holds the AVX2/FMA twins and
 * kernels_cnn_avx512.c the AVX-512 twins of two of them (the convolution's
 * rows and the batch norm + pool forward; an AVX-512 CPU uses the AVX2
 * twins for the rest), compiled for their targets by function attributes.
 * Each twin does the same operations in the same order for every output,
 * so it gives the bits of its portable copy: tests/test_cnn.c checks them
 * (test_isa.sh runs it with CHAINRULE_ISA set to each narrower set)
 * against the naive references. Every routine works on
 * a range of outputs; kernels_cnn.c splits the ranges between threads.
 *
 * Shapes as in kernels.h; xp is the zero-padded input (B, Hq, Wq, C) with
 * Hq = H + 2p, Wq = W + 2p, so that output (y, x) reads rows y…y+k−1 and
 * columns x…x+k−1 of it, and j = (dy·k + dx)·C + c numbers a patch's terms.
 */
#ifndef CHAINRULE_KERNELS_CNN_ISA_H
#define CHAINRULE_KERNELS_CNN_ISA_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name;   /* "portable", "avx2" */
    /* Output rows r = b·Ho + y in [r0, r1): out[b][y][x][f] = bias[f] +
     * Σ_j xp(b, y, x; j)·w[j][f] (fmaf from 0 in j order, then + bias[f]
     * when bias ≠ NULL), then y > 0 ? y : 0 when relu. */
    void (*conv_rows)(float *out, const float *xp, const float *w, const float *bias, int Hq, int Wq,
                      int C, int k, int F, int Ho, int Wo, long r0, long r1, int relu);
    /* Filters f in [f0, f1): dw[j][f] += Σ_rows fmaf chain of xp(row; j)·dout[row][f]
     * from 0 in row order; dbias[f] += the float sum of dout[·][f] from 0 in
     * row order (dbias may be NULL). rows = B·Ho·Wo. */
    void (*conv_wgrad)(float *dw, float *dbias, const float *xp, const float *dout, int B, int Hq,
                       int Wq, int C, int k, int F, int Ho, int Wo, int f0, int f1);
    /* Columns c in [c0, c1) of in (R, C), in double, rows in order from 0:
     * s[c] = Σ in[r][c];  q[c] = Σ (in[r][c] − mean[c])², the square a
     * multiply then an add. */
    void (*col_sum)(double *s, const float *in, int R, int C, int c0, int c1);
    void (*col_sqdev)(double *q, const double *mean, const float *in, int R, int C, int c0, int c1);
    /* xh = (in − mean[c])·istd[c];  xhat = xh;  out = gamma ? gamma[c]·xh + beta[c] : xh */
    void (*bn_apply)(float *out, float *xhat, const float *in, const float *mean, const float *istd,
                     const float *gamma, const float *beta, int R, int C, int c0, int c1);
    /* sg[c] = Σ dout[r][c],  sgx[c] = Σ dout[r][c]·xhat[r][c] (exact products), double */
    void (*bn_grad_sums)(double *sg, double *sgx, const float *dout, const float *xhat, int R, int C,
                         int c0, int c1);
    /* d = sc[c]·((dout − mg[c]) − xhat·mgx[c]) (train) or sc[c]·dout (mg NULL);
     * dx = relu_y ? (relu_y > 0 ? d : 0) : d. dx may alias dout. sc, mg, mgx
     * are indexed from c0 (sc[c − c0]). */
    void (*bn_grad_dx)(float *dx, const float *dout, const float *xhat, const float *sc, const float *mg,
                       const float *mgx, const float *relu_y, int R, int C, int c0, int c1);
    /* Images [b0, b1): maxpool_forward / maxpool_backward of kernels.h. */
    void (*pool_fwd)(float *out, int32_t *argmax, const float *in, int H, int W, int C, int pool,
                     int b0, int b1);
    void (*pool_bwd)(float *din, const float *dout, const int32_t *argmax, int H, int W, int C,
                     int pool, int b0, int b1);
    /* Per-channel batch norm fused with the max-pool after it, on NHWC (B, H,
     * W, C) whose rows are the pixels; channels [c0, c1).
     * bnp_fwd and bnp_grad_dx work on images [b0, b1) only.
     * bnp_fwd: pool_fwd over v = γ·x̂ + β (x̂ when gamma is NULL), x̂ = (in −
     * mean)·istd computed as bn_apply does, v never stored. */
    void (*bnp_fwd)(float *pooled, int32_t *argmax, const float *in, const float *mean, const float *istd,
                    const float *gamma, const float *beta, int B, int H, int W, int C, int pool, int b0, int b1,
                    int c0, int c1);
    /* bn_grad_sums over dy = pool_bwd's value at each pixel (0 + dpooled at
     * its window's argmax, else 0) and x̂ recomputed from in as above. */
    void (*bnp_grad_sums)(double *sg, double *sgx, const float *dpooled, const int32_t *argmax, const float *in,
                          const float *mean, const float *istd, int B, int H, int W, int C, int pool, int c0, int c1);
    /* bn_grad_dx over that dy and x̂, with relu_y = in when relu. */
    void (*bnp_grad_dx)(float *dx, const float *dpooled, const int32_t *argmax, const float *in, const float *mean,
                        const float *istd, const float *sc, const float *mg, const float *mgx, int relu,
                        int B, int H, int W, int C, int pool, int b0, int b1, int c0, int c1);
} cnn_isa_table;

extern const cnn_isa_table cnn_portable;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define HAVE_CNN_X86 1
extern const cnn_isa_table cnn_avx2;
/* *t = the AVX2 table with the AVX-512 twins in place (kernels_cnn_avx512.c) */
void cnn_avx512_table(cnn_isa_table *t);
#endif

#endif
