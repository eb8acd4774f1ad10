/* kernels.h — the float32 kernels of the fast path: the three matrix products
 * of a dense layer, the activations and their derivatives, softmax +
 * cross-entropy with its fused gradient.
 *
 * Every product sums over its inner dimension in plain index order, one
 * fused multiply-add per term (a·b + acc rounded once; no split of the
 * sum), so each output holds exactly the bits of the naive triple loop
 *     acc = 0; for k in 0..K: acc = fmaf(a[i][k], b[k][j], acc)
 * whatever the blocking, the vector width or the number of threads. OpenMP
 * threads split the outputs (tiles, or row blocks), never a sum: results are
 * bit-identical for any thread count. The speed comes from register tiles
 * (6 rows × 16 columns of accumulators), packed panels that stay in L1, and
 * AVX2/FMA and AVX-512 twins of the ISA-dependent routines
 * (kernels_avx2.c, kernels_avx512.c; one table chosen once at start-up,
 * kernels_isa.h) where the CPU has them, with the bits of the portable
 * copies; CHAINRULE_ISA forces one set (kernels_isa_choice below). Inputs that are zero in every row of a
 * batch are skipped where that provably keeps the bits (see kernels.c).
 *
 * Not here: the network (mlp.h), optimisers (train.h). No allocation in the
 * products' callers' loops: the packing buffers are per thread and grow once.
 */
#ifndef CHAINRULE_KERNELS_H
#define CHAINRULE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    ACT_IDENTITY,   /* y = x */
    ACT_SIGMOID,    /* y = 1 / (1 + e^−x) */
    ACT_TANH,       /* y = tanh x */
    ACT_RELU,       /* y = max(0, x); derivative 0 at 0 */
    ACT_STANH,      /* LeCun: y = 1.7159·tanh(2x/3) */
    ACT_STANH_LIN,  /* LeCun with a linear leak: y = 1.7159·tanh(2x/3) + 0.01·x */
    ACT_COUNT
} act_kind;

/* "identity", "sigmoid", "tanh", "relu", "stanh", "stanh_lin". */
const char *act_name(act_kind a);
/* The activation called `name` (as act_name prints it), or −1. */
int act_parse(const char *name);
/* 1 when the derivative needs the pre-activation x (not only y = f(x)). */
int act_needs_input(act_kind a);

/* y = f(x), n values; y may alias x. */
void act_forward(float *y, const float *x, size_t n, act_kind a);
/* dx = dy ⊙ f′: from y = f(x) where that suffices, from x otherwise (x may
 * be NULL unless act_needs_input). dx may alias dy. */
void act_backward(float *dx, const float *dy, const float *x, const float *y,
                  size_t n, act_kind a);
/* tanh(x) in float, the activations' own (kernels.c): within 0.51 ulp,
 * the same bits with any libm. */
float kernels_tanh_f(float x);

/* Dense forward, fused: for each row b and column h
 *     z[b][h] = Σ_d inp[b][d] · w[d][h]   (+ bias[h] when bias ≠ NULL)
 *     out[b][h] = f(z[b][h])
 * inp is (B, D), w is (D, H), bias is (H) or NULL, out is (B, H); zout (B, H)
 * receives z when not NULL. out must not alias inp. Inputs that are zero
 * in every row are skipped (their terms are ±0) where the rows of w they
 * would multiply are finite; under 6 rows (the per-sample path) each row
 * skips its zero inputs without looking at w, so an infinity or NaN in
 * such a row of w does not reach out (reading all of w for every sample
 * would cost more than the product). */
void matmul_forward(float *out, float *zout, const float *inp, const float *w,
                    const float *bias, int B, int D, int H, act_kind act);

/* The columns d of x (B, D) that hold a value other than ±0 in some row,
 * ascending, into cols (room for D); returns their count. The products
 * above and below find them on every call, to skip the zero inputs; a
 * caller that multiplies the same x twice (a layer's forward and its
 * weight gradient) can find them once and pass them to the _cols forms,
 * which give the same bits. cols must be what this gave for x as it is
 * when the product reads it. */
int matmul_nonzero_cols(int *cols, const float *x, int B, int D);
void matmul_forward_cols(float *out, float *zout, const float *inp, const float *w, const float *bias,
                         int B, int D, int H, act_kind act, const int *cols, int ncols);

/* Weight gradient: dw (D, H) += inp^T · dout, i.e.
 *     dw[d][h] += Σ_b inp[b][d] · dout[b][h]      (the sum formed first)
 * and dbias (H) += Σ_b dout[b][h] when dbias ≠ NULL. inp is (B, D), dout is
 * (B, H). Rows d where inp[·][d] is zero for every b are skipped (their
 * sum is +0; not skipped when dout holds an infinity or NaN), which is what
 * makes per-sample SGD on MNIST cheap. */
void matmul_backward_weight(float *dw, float *dbias, const float *inp,
                            const float *dout, int B, int D, int H);

/* The same sums applied as a plain SGD step without storing them:
 *     w[d][h] −= lr · Σ_b inp[b][d] · dout[b][h],  bias[h] −= lr · Σ_b dout[b][h]
 * Bit-identical to zeroing dw, matmul_backward_weight, then w −= lr · dw. */
void matmul_backward_weight_sgd(float *w, float *bias, const float *inp,
                                const float *dout, int B, int D, int H, float lr);
/* The two with inp's non-zero columns given (matmul_nonzero_cols). */
void matmul_backward_weight_cols(float *dw, float *dbias, const float *inp, const float *dout,
                                 int B, int D, int H, const int *cols, int ncols);
void matmul_backward_weight_sgd_cols(float *w, float *bias, const float *inp, const float *dout,
                                     int B, int D, int H, float lr, const int *cols, int ncols);

/* The sums applied as an Adam step (train.h's OPT_ADAM) without storing
 * them: for each weight, g = Σ_b inp[b][d]·dout[b][h] (+ λ·w with lam ≠ 0),
 *     v ← b1·v + (1−b1)·g;  s ← b2·s + (1−b2)·g²;  w ← w − lr_t·v / (√s + eps)
 * v and s are (D, H) like w. Bit-identical to zeroing dw,
 * matmul_backward_weight, then train.c's Adam step on w. */
typedef struct { float *v, *s; float b1, b2, lr_t, eps, lam; } adam_step;
void matmul_backward_weight_adam(float *w, const float *inp, const float *dout,
                                 int B, int D, int H, const adam_step *a);
/* Both of a dense layer's backward products under Adam: dinp (B, D) =
 * dout · wᵀ with the weights before the step (matmul_backward_input), then
 * matmul_backward_weight_adam's step on w. Bit-identical to those two calls
 * in that order; one pass over w instead of two. */
void matmul_backward_input_weight_adam(float *dinp, float *w, const float *inp, const float *dout,
                                       int B, int D, int H, const adam_step *a);
/* One Adam step on n weights w from gradients g (moments a->v, a->s at
 * the same offsets as w), as above with g in place of the sum. */
void adam_apply(float *w, const float *g, size_t n, const adam_step *a);

/* The first-order steps of train.h, on each weight w with gradient g
 * (G = g + λ·w where lam ≠ 0, else g), each operation rounded as written:
 *     STEP_SGD        w ← w − lr·G
 *     STEP_MOMENTUM   v ← G + mu·v;   w ← w − lr·v
 *     STEP_CLASSICAL  v ← mu·v − lr·G;  w ← w + v
 *     STEP_RMSPROP    v ← rho·v + (1−rho)·G²;  w ← w − lr·G / (√v + eps)
 * v (unused by STEP_SGD) at the same offsets as w; rho and eps are
 * RMSprop's only (the others' only mu). */
typedef enum { STEP_SGD, STEP_MOMENTUM, STEP_CLASSICAL, STEP_RMSPROP } first_kind;
typedef struct { first_kind kind; float *v; float lr, mu, lam, rho, eps; } first_step;
void first_step_apply(float *w, const float *g, size_t n, const first_step *s);
/* The weight gradient's sums applied as that step without storing them:
 * g = Σ_b inp[b][d]·dout[b][h] for each weight of w (D, H), every row
 * stepped (a zero gradient still moves a weight under momentum or L2,
 * and RMSprop's v).
 * Bit-identical to zeroing dw, matmul_backward_weight, then
 * first_step_apply on w with dw. cols (ncols): inp's non-zero columns
 * (matmul_nonzero_cols), or NULL to find them here. */
void matmul_backward_weight_first(float *w, const float *inp, const float *dout, int B, int D, int H,
                                  const first_step *s, const int *cols, int ncols);

/* Input gradient: dinp (B, D) = dout · w^T, i.e.
 *     dinp[b][d] = Σ_h dout[b][h] · w[d][h]
 * dout is (B, H), w is (D, H) (only its first D rows are read). Overwrites. */
void matmul_backward_input(float *dinp, const float *dout, const float *w,
                           int B, int D, int H);
/* matmul_backward_input, then dinp ⊙= mask where mask is not NULL, then
 * act_backward(dinp, dinp, x, y, B·D, act): the δ of the layer below
 * (mask, x, y of shape (B, D)). Bit-identical to those three steps; each
 * strip of rows is finished while it is in cache, by the thread that
 * summed it. */
void matmul_backward_input_act(float *dinp, const float *dout, const float *w, int B, int D, int H,
                               const float *mask, const float *x, const float *y, act_kind act);

/* Softmax + cross-entropy over rows of logits (B, K) with integer labels:
 *     probs[b] = softmax(logits[b]),  loss_b = −log probs[b][label[b]]
 * Returns Σ_b loss_b in double (the caller divides by B for the mean).
 * When dlogits ≠ NULL it receives the gradient of (scale · Σ_b loss_b):
 *     dlogits[b][k] = scale · (probs[b][k] − [k = label[b]])     (y − t)
 * *correct (if not NULL) gets how many rows have argmax = label (ties: the
 * first index). probs may alias logits; dlogits may alias probs. labels
 * must be < K (checked: programmer error). */
double softmax_ce_forward(float *probs, float *dlogits, const float *logits,
                          const uint8_t *labels, int B, int K, float scale,
                          int *correct);

/* The argmax of each row of x (B, K) into pred (B). */
void argmax_rows(uint8_t *pred, const float *x, int B, int K);

/* Naive reference products (triple loops of fmaf, same summation order), for tests
 * and for anyone reading the fast ones. */
void matmul_forward_naive(float *c, const float *a, const float *b, int M, int K, int N);
void matmul_backward_weight_naive(float *c, const float *a, const float *b, int M, int K, int N); /* c (K,N) += a^T (K,M)·b (M,N) */
void matmul_backward_input_naive(float *c, const float *a, const float *b, int M, int K, int N); /* c (M,K) = a (M,N)·b^T, b (K,N) */

/* Which inner kernel the products use on this CPU: "avx512", "avx2" or
 * "portable". */
const char *kernels_isa(void);

/* The instruction set of every table of the fast path (the products' and
 * the CNN kernels'), chosen once at start-up: the widest the CPU runs,
 * unless the environment forces one. CHAINRULE_ISA=portable|avx2|avx512
 * forces that set (the tests run each one the CPU has; all give the same
 * bits); a name that is none of these, or a set this CPU cannot run, stops
 * the program with one line naming the variable and exit status 2.
 * CHAINRULE_PORTABLE=1 means CHAINRULE_ISA=portable (kept from before
 * CHAINRULE_ISA); CHAINRULE_ISA wins when both are set. */
typedef enum { KERNELS_ISA_PORTABLE, KERNELS_ISA_AVX2, KERNELS_ISA_AVX512 } kernels_isa_level;
kernels_isa_level kernels_isa_choice(void);

/* Zeroed memory for the big arrays (weights, gradients, optimiser moments,
 * workspaces): `bytes` bytes (rounded up to a whole cache line), aligned to
 * a 64-byte line, every page touched before it returns; NULL when out of
 * memory; free() releases it. */
void *kernels_zalloc(size_t bytes);

/* ---------------------------------------------------------------- threads */

/* The one place that decides a team size: the OpenMP maximum (which
 * OMP_NUM_THREADS or omp_set_num_threads set; a value < 1, as a count past
 * INT_MAX reads, counts as 1), bounded by KERNELS_MAX_THREADS and by
 * `units`, the pieces of work there are to share (< 1 counts as 1). Every
 * parallel region and every per-thread buffer of the fast path is sized by
 * it, never by an unchecked count. */
#define KERNELS_MAX_THREADS 64
int kernels_threads(long units);
/* The calling thread's number in its team, and the team's size (0 and 1
 * outside a parallel region or without OpenMP). */
int kernels_thread_num(void);
int kernels_thread_count(void);

/* ---------------------------------------------------------------- CNN kernels
 * (kernels_cnn.c). Images are NHWC row-major: x (B, H, W, C); conv weights
 * (k, k, C, F) = HWIO, the (k·k·C) × F matrix of an im2col product; p the
 * padding (SAME: (k−1)/2, VALID: 0), Ho = H + 2p − k + 1, Wo likewise. Every
 * sum of products has the naive loop's bits: one fmaf per term, from 0, in
 * the documented order. AVX2/FMA twins (kernels_cnn_avx2.c) where the CPU
 * has them (AVX-512 CPUs included), with the portable copies' bits
 * (CHAINRULE_ISA=portable forces those, as for the products). */

/* Which copies the CNN kernels use on this CPU: "avx2" or "portable". */
const char *cnn_kernels_isa(void);

/* xp (B, H+2p, W+2p, C) = x with p zero rows and columns on each side. */
void conv2d_pad(float *xp, const float *x, int B, int H, int W, int C, int p);
/* out (B, Ho, Wo, F) = f(bias[f] + Σ_{dy,dx,c} x[b][y+dy−p][x+dx−p][c]·w[dy][dx][c][f]),
 * the sum in (dy, dx, c) order, one fmaf per term from 0 (outside the image
 * counts as 0, and is summed like any term), then + bias (when not NULL),
 * then f. Direct: each output is one thread's. xp (B, H+2p, W+2p, C)
 * receives conv2d_pad's copy of x, kept for the weight gradient. */
void conv2d_forward(float *out, float *xp, const float *x, const float *w, const float *bias,
                    int B, int H, int W, int C, int k, int p, int F, int Ho, int Wo, act_kind act);
/* dw (k·k·C, F) += Σ_rows patch^T·dout: for each weight the fmaf chain from
 * 0 over the rows (b, y, x) in order (padding terms included), then added;
 * dbias (F) += the float sum of dout's column from 0 in row order, when not
 * NULL. xp is conv2d_forward's padded copy. */
void conv2d_backward_weight(float *dw, float *dbias, const float *xp, const float *dout,
                            int B, int H, int W, int C, int k, int p, int F, int Ho, int Wo);
/* cols (B·Ho·Wo, k·k·C): the patch under each output, (dy, dx, c) order,
 * 0 outside the image. */
void im2col(float *cols, const float *x, int B, int H, int W, int C, int k, int p, int Ho, int Wo);
/* dx (B, H, W, C) = for each pixel the sum of its entries in dcols, in
 * dcols' row order (overwrites). */
void col2im(float *dx, const float *dcols, int B, int H, int W, int C, int k, int p, int Ho, int Wo);
/* dx (B, H, W, C) = the input gradient, through dcols (B·Ho·Wo, k·k·C) =
 * dout·w^T and col2im. Overwrites dx. (The network does not differentiate
 * its input: for the tests and the graph's contract.) */
void conv2d_backward_input(float *dx, float *dcols, const float *dout, const float *w,
                           int B, int H, int W, int C, int k, int p, int F, int Ho, int Wo);
/* out (B, H/pool, W/pool, C): the max of each pool×pool window (stride
 * pool; a remainder row/column is dropped); argmax the index into `in` of
 * the window's FIRST maximum in row-major window order. Threads split images. */
void maxpool_forward(float *out, int32_t *argmax, const float *in, int B, int H, int W, int C, int pool);
/* din (B, H, W, C) = 0 + dout[o] at argmax[o] of each window o, 0 elsewhere
 * (the bits of maxpool_backward_naive's zeroing then adding); argmax from
 * maxpool_forward of the same shape. */
void maxpool_backward(float *din, const float *dout, const int32_t *argmax, int B, int H, int W, int C, int pool);
/* Batch norm per column c of in (R, C) over its R rows (per feature: R = B
 * and C = H·W·F; per channel: R = B·H·W and C = F):
 *   train: μ, σ² the column's mean and BIASED variance (double sums in row
 *          order); run_mean/run_var (when not NULL) ← 0.9·run + 0.1·batch,
 *          run_var from the unbiased variance σ²·R/(R−1)
 *   inference: μ, σ² = run_mean, run_var
 *   x̂ = (x − μ)·istd, istd = 1/√(σ² + ε);  out = γ·x̂ + β (x̂ when gamma is NULL)
 * xhat (R, C) and mean, istd (C) are kept for the backward; scratch holds
 * 2·C doubles. The bits of batchnorm_forward_f32_naive; threads split columns. */
void batchnorm_forward(float *out, float *xhat, float *mean, float *istd, const float *in,
                       const float *gamma, const float *beta, int R, int C, double eps,
                       float *run_mean, float *run_var, int train, double *scratch);
/* The gradient of batchnorm_forward: dγ = Σ dy·x̂, dβ = Σ dy (SET, when
 * dgamma ≠ NULL); train: dx = γ·istd·(dy − mean(dy) − x̂·mean(dy·x̂)),
 * inference: dx = γ·istd·dy; then, when relu_y ≠ NULL (the output of a ReLU
 * that fed the batch norm, (R, C)), dx = 0 where relu_y ≤ 0. dx may alias
 * dout; scratch 2·C doubles. The bits of batchnorm_backward_naive. */
void batchnorm_backward(float *dx, float *dgamma, float *dbeta, const float *dout, const float *xhat,
                        const float *istd, const float *gamma, const float *relu_y, int R, int C,
                        int train, double *scratch);

/* Per-channel batch norm (R = B·H·W rows, the pixels of in (B, H, W, C))
 * fused with the max-pool after it: pooled, argmax, mean, istd (and the
 * running values) get the bits of batchnorm_forward then maxpool_forward,
 * but the normalised values are never stored (two arrays of in's size
 * less to write and read). Threads split channels. */
void batchnorm_pool_forward(float *pooled, int32_t *argmax, float *mean, float *istd, const float *in,
                            const float *gamma, const float *beta, int B, int H, int W, int C, int pool,
                            double eps, float *run_mean, float *run_var, int train, double *scratch);
/* Its gradient: dx (B, H, W, C) = batchnorm_backward (relu_y = in when relu)
 * of maxpool_backward of dpooled, bit for bit, with x̂ recomputed from in,
 * mean and istd as the forward did and the pooled gradient read where it
 * lands; dγ, dβ SET when dgamma ≠ NULL. dx must not alias in. */
void batchnorm_pool_backward(float *dx, float *dgamma, float *dbeta, const float *dpooled, const int32_t *argmax,
                             const float *in, const float *mean, const float *istd, const float *gamma, int relu,
                             int B, int H, int W, int C, int pool, int train, double *scratch);

/* Naive references for the tests: direct loops, the same summation order. */
void conv2d_forward_naive(float *out, const float *x, const float *w, const float *bias,
                          int B, int H, int W, int C, int k, int p, int F, int Ho, int Wo);
/* dx = input gradient (overwritten, when not NULL), dw += weight gradient,
 * dbias += bias gradient (each when not NULL). */
void conv2d_backward_naive(float *dx, float *dw, float *dbias, const float *x, const float *dout,
                           const float *w, int B, int H, int W, int C, int k, int p, int F,
                           int Ho, int Wo);
void maxpool_forward_naive(float *out, const float *in, int B, int H, int W, int C, int pool);
/* din (n_in) = 0, then din[argmax[o]] += dout[o] for the n_out outputs. */
void maxpool_backward_naive(float *din, const float *dout, const int32_t *argmax, size_t n_in, size_t n_out);
/* Training-mode batch norm entirely in double (the tolerance reference). */
void batchnorm_forward_naive(float *out, const float *in, const float *gamma, const float *beta,
                             int R, int C, double eps);
/* batchnorm_forward's float and double operations column by column, and
 * batchnorm_backward's: the bit-for-bit references. */
void batchnorm_forward_f32_naive(float *out, float *xhat, float *mean, float *istd, const float *in,
                                 const float *gamma, const float *beta, int R, int C, double eps,
                                 float *run_mean, float *run_var, int train);
void batchnorm_backward_naive(float *dx, float *dgamma, float *dbeta, const float *dout, const float *xhat,
                              const float *istd, const float *gamma, const float *relu_y, int R, int C,
                              int train);

#endif
