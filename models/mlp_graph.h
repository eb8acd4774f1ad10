/* mlp_graph.h — the fast-path MLP rebuilt on the graph (double precision),
 * node by node, from the same weights and the same batch: the reference the
 * hand-derived float32 backward is checked against.
 *
 * The graph does literally what the fast path does by shortcut: the bias
 * trick appends a column of ones to x and multiplies by the whole (D+1)×H
 * matrix; dropout multiplies by the last forward's mask as a constant.
 *
 * Not here: training on the graph (lesson 04 does that for scalars).
 */
#ifndef CHAINRULE_MLP_GRAPH_H
#define CHAINRULE_MLP_GRAPH_H

#include "graph.h"
#include "mlp.h"

typedef struct {
    graph *g;                        /* owned: mlp_graph_free */
    int L;
    node x, t;                       /* the batch (B × D, or D+1 with the trick), one-hot targets */
    node W[MLP_MAX_LAYERS], b[MLP_MAX_LAYERS];   /* leaves; b[l] unset without biases */
    int has_b;                       /* 0 with the bias trick */
    node loss;                       /* the batch mean cross-entropy, 1 × 1 */
} mlp_graph;

/* Builds the graph of m's network on the batch x (B, D) with labels, using
 * m's current parameters, and runs backward from the loss. When use_mask is
 * 1, the hidden layers are multiplied by the masks of m's last forward (which
 * must have been a dropout forward on this batch). Returns 0, or −1 when out
 * of memory. */
int mlp_graph_build(mlp_graph *mg, const mlp *m, const float *x, const uint8_t *labels,
                    int B, int use_mask);
void mlp_graph_free(mlp_graph *mg);

/* The loss the graph computed. */
double mlp_graph_loss(const mlp_graph *mg);

/* Compares m->grads with the graph's gradients, tensor by tensor: for each
 * parameter tensor the error is max |fast − graph| / max |graph| (relative
 * to its largest gradient, so tiny entries do not dominate). Returns the
 * worst over all tensors; *where (if not NULL) gets "dW[1]" etc. A
 * non-finite gradient on either side makes the error +∞: never below any
 * tolerance, and larger than every finite error a caller keeps the max of. */
double mlp_graph_compare(const mlp_graph *mg, const mlp *m, char *where, size_t wlen);

/* Shared by the graph twins of the fast path (this file and cnn_graph.h).
 * A leaf of rows × cols doubles copied from float src (NULL: zeros), or
 * NODE_NONE when out of memory. */
node mlp_graph_leaf(graph *g, int rows, int cols, const float *src);
/* max |fast − graph| / max |graph| over the gradient of node n against the
 * fast path's float gradient; +∞ when any entry on either side is not
 * finite, so that NaN can never pass for agreement. */
double mlp_graph_err(const graph *g, node n, const float *fast);

#endif
