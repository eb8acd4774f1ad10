/* ops.h — the operations of the tape. Each makes one node from older nodes
 * and computes its value at once; its derivative lives beside the forward
 * code in ops.c.
 *
 * Element-wise binary operations broadcast like numpy in two dimensions: a
 * dimension of 1 on either side stretches to the other (a scalar, a row
 * (1 × C) or a column (R × 1)); any other mismatch stops with file:line and
 * both shapes. Gradients of a stretched operand are summed back.
 */
#ifndef CHAINRULE_OPS_H
#define CHAINRULE_OPS_H

#include <stdint.h>
#include "graph.h"

node op_add(graph *g, node a, node b);   /* a + b (broadcast) */
node op_sub(graph *g, node a, node b);   /* a − b */
node op_mul(graph *g, node a, node b);   /* a ⊙ b, element-wise */
node op_div(graph *g, node a, node b);   /* a / b, element-wise */
node op_neg(graph *g, node a);           /* −a */
node op_scale(graph *g, node a, double k);   /* k·a */
node op_pow(graph *g, node a, double p);     /* a^p, constant p */
node op_exp(graph *g, node a);
node op_log(graph *g, node a);
node op_sqrt(graph *g, node a);
node op_abs(graph *g, node a);
node op_sin(graph *g, node a);
node op_cos(graph *g, node a);
node op_sinh(graph *g, node a);
node op_cosh(graph *g, node a);
node op_tanh(graph *g, node a);
node op_sigmoid(graph *g, node a);       /* σ(a) = 1 / (1 + e^−a) */
node op_relu(graph *g, node a);          /* max(0, a); derivative 0 at 0 */
node op_stanh(graph *g, node a);         /* LeCun's 1.7159·tanh(2a/3) */

node op_matmul(graph *g, node a, node b);    /* (R×K)·(K×C) → R×C */
node op_transpose(graph *g, node a);         /* R×C → C×R */
node op_add_row(graph *g, node x, node b);   /* x (R×C) + bias row b (1×C) */

node op_sum(graph *g, node a);           /* all entries → 1×1 */
node op_sum_rows(graph *g, node a);      /* each row summed → R×1 */
node op_sum_cols(graph *g, node a);      /* each column summed → 1×C */
node op_mean(graph *g, node a);          /* mean of all entries → 1×1 */

/* Row-wise softmax, fused: one node, backward the hand-derived
 * Jacobian-vector product dL/do = y ⊙ (g − Σ_j g_j y_j). */
node op_softmax(graph *g, node o);
/* The same softmax built from explicit nodes: exp, row sums, divide. */
node op_softmax_composite(graph *g, node o);
/* Row-wise log-softmax: o − log Σ_j e^{o_j}. */
node op_log_softmax(graph *g, node o);
/* Fused softmax + cross-entropy, the mean over rows of −Σ_j t_j log y_j,
 * with y = softmax(o); backward (y − t) / R. t has o's shape. */
node op_softmax_ce(graph *g, node o, node t);
/* The same loss from explicit nodes (log_softmax, mul, sums, scale). */
node op_softmax_ce_composite(graph *g, node o, node t);
/* Mean squared error: mean of (a − b)² over all entries → 1×1. */
node op_mse(graph *g, node a, node b);

/* ---- convolutional layers ---------------------------------------------
 * Images are NHWC rows: a batch of B images of H × W pixels with C channels
 * is a B × (H·W·C) node; row b is image b, element ((y·W + x)·C + c). Each
 * op is given the image shape and records it for its backward (in the
 * tape's side array, so scalar nodes stay 32 bytes). Flatten is free: a
 * row already is the flattened image, index ((y·W + x)·C + c), as
 * TensorFlow's reshape of an NHWC tensor. Dropout is op_mul by a mask leaf
 * (0 or 1/keep per element, inverted dropout). Bad shapes stop with
 * file:line and both shapes. */
typedef struct { int h, w, c; } op_shape;   /* one image: rows, columns, channels */
typedef enum { PAD_SAME, PAD_VALID } op_pad;
#define NODE_NONE ((node){UINT32_MAX})      /* an absent optional operand */

/* The same elements, row-major, as rows × cols. */
node op_reshape(graph *g, node x, int rows, int cols);
/* The output shape of a conv: SAME keeps H × W (p = (k−1)/2 each side,
 * k odd), VALID gives (H−k+1) × (W−k+1); F channels. */
op_shape op_conv2d_shape(op_shape in, int k, int F, op_pad pad);
/* Cross-correlation as TensorFlow and PyTorch compute it, stride 1:
 *   y[b][y][x][f] = bias[f] + Σ_{dy,dx,c} x[b][y+dy−p][x+dx−p][c] · w[dy][dx][c][f]
 * (outside the image counts as 0). x is (B, H·W·C) of shape in; w is
 * (k, k, C, F) row-major = TensorFlow's HWIO, i.e. the (k·k·C) × F matrix
 * of an im2col product; bias (1 × F) or NODE_NONE. → (B, Ho·Wo·F). */
node op_conv2d(graph *g, node x, op_shape in, node w, int k, node bias, op_pad pad);
/* k × k max-pool, stride k (windows that do not fit are dropped): → (B,
 * (H/k)·(W/k)·C). The gradient goes to the FIRST maximum of each window in
 * row-major window order. */
node op_maxpool2d(graph *g, node x, op_shape in, int k);

/* Batch norm, training mode (batch statistics). x is (B, S·C), read as C
 * channels: channel c is every x[b][s·C + c], normalised by its mean and
 * BIASED variance over those B·S entries, x̂ = (x − μ)/√(var + ε), then
 * y = γ·x̂ + β (gamma, beta 1 × C, or NODE_NONE for 1 and 0).
 *   C = cols (S = 1): per feature over the batch — tf.nn.moments(h, axes=[0]);
 *   C = channels of an NHWC image (S = H·W): PyTorch's BatchNorm2d.
 * Fused: one node whose backward is the hand-derived
 *   dL/dx = γ/(Nσ) · (N·g − Σg − x̂·Σ(g·x̂)), N = B·S. */
node op_batchnorm(graph *g, node x, int C, node gamma, node beta, double eps);
/* The same from explicit nodes: column sums, subtract, square, sqrt, divide. */
node op_batchnorm_composite(graph *g, node x, int C, node gamma, node beta, double eps);
/* Inference mode: given statistics, stats (2 × C: row 0 the running mean,
 * row 1 the running variance), y = γ·(x − μ)/√(v + ε) + β. Gradients flow to
 * stats too (they are usually constant leaves). Fused and composite. */
node op_batchnorm_infer(graph *g, node x, int C, node stats, node gamma, node beta, double eps);
node op_batchnorm_infer_composite(graph *g, node x, int C, node stats, node gamma, node beta, double eps);

#endif
