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

#endif
