/* cnn_graph.h — lesson 10's convolutional network rebuilt on the graph
 * (double precision), node by node, from a fast-path cnn's float
 * parameters, on the same batch and with the same dropout mask: the
 * reference that cnn.c's hand-derived float32 backward is checked against.
 *
 * The graph does literally what CNN_API.md writes: op_conv2d (HWIO weight)
 * + bias → ReLU → op_batchnorm (per feature over the batch, or per channel
 * with γ and β; the running statistics in inference mode) → op_maxpool2d
 * → the row is already the flattened NHWC image → W1 + b1 → × the dropout
 * mask (0 or 1/keep) → ReLU → W2 + b2 → softmax cross-entropy, batch mean.
 *
 * Not here: training on the graph — one step of the real network is a few
 * hundred milliseconds in double, enough for a check and no more.
 */
#ifndef CHAINRULE_CNN_GRAPH_H
#define CHAINRULE_CNN_GRAPH_H

#include <stddef.h>
#include <stdint.h>
#include "cnn.h"
#include "graph.h"

typedef struct {
    graph *g;                          /* owned: cnn_graph_free */
    node x, t;                         /* the batch (B, H·W·C_in), one-hot targets (B, classes) */
    node conv_w, conv_b, gamma, beta;  /* leaves; gamma/beta only with CNN_BN_CHANNEL */
    node W1, b1, W2, b2;
    node conv, relu, bn, pool;         /* the feature maps, (B, Ho·Wo·F) / (B, D) */
    node loss;                         /* the batch mean cross-entropy, 1 × 1 */
    int has_bn_params;
} cnn_graph;

/* Builds the graph of m's network on the batch x (B, H·W·C_in) with labels
 * from m's current parameters, and runs backward from the loss. train = 1
 * normalises with batch statistics and, when mask is not NULL, multiplies
 * the first dense layer by it (B × hidden of 0/1, scaled by 1/keep as the
 * fast path does); train = 0 uses m's running statistics (CNN_BN_CHANNEL)
 * and no dropout. Returns 0, or −1 when out of memory. */
int cnn_graph_build(cnn_graph *cg, const cnn *m, const float *x, const uint8_t *labels,
                    int B, int train, const uint8_t *mask);
void cnn_graph_free(cnn_graph *cg);

/* The loss the graph computed. */
double cnn_graph_loss(const cnn_graph *cg);

/* Compares m's gradients with the graph's, tensor by tensor: for each the
 * error is max |fast − graph| / max |graph| (relative to the tensor's
 * largest gradient, so tiny entries do not dominate). Returns the worst
 * over conv_w, conv_b, γ, β (if present), W1, b1, W2, b2, and INFINITY
 * when any gradient on either side is NaN or infinite; *where (if not
 * NULL) names the tensor ("dW1"). */
double cnn_graph_compare(const cnn_graph *cg, const cnn *m, char *where, size_t wlen);

/* The whole check in one call: a forward (train as given) and backward of
 * m on the batch, the graph on the same parameters, batch and dropout mask,
 * and the comparison. Leaves m's gradients set by its backward (parameters
 * untouched; the running statistics move as a training forward moves
 * them). *loss_diff (if not NULL) gets |fast loss − graph loss|. Returns
 * the largest relative difference, or NAN when out of memory. */
double cnn_graph_check(cnn *m, const float *x, const uint8_t *labels, int B, int train,
                       double *loss_diff, char *where, size_t wlen);

#endif
