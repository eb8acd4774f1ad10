/* mlp.h — the fast-path multilayer perceptron: dense layers over float32
 * matrices, softmax + cross-entropy on top, hand-derived backward (the δ
 * recursion of lesson 03), llm.c style.
 *
 * One allocation holds every parameter, in layer order W[0], b[0], W[1],
 * b[1], …; named pointers point into it, and the gradients mirror it
 * exactly (grads[i] is ∂loss/∂params[i]), so an optimiser can walk both as
 * flat arrays. Activation buffers are sized for the largest batch seen and
 * reused: a training loop allocates nothing per step.
 *
 * Shapes (B = batch, D = sizes[0] inputs, K = sizes[L] classes):
 *   x            (B, D)          the batch, row-major
 *   W[l]         (n_l, m_l)      n_l = sizes[l] (+1 for l = 0 with the bias
 *                                trick), m_l = sizes[l+1]; row-major
 *   b[l]         (m_l) or NULL   NULL for every layer with the bias trick
 *   h[l]         (B, m_l)        output of layer l after its activation
 *                                (and dropout); h[L−1] holds the softmax
 *
 * The bias trick: a constant 1 appended to every input (D+1 wide) and no
 * other bias anywhere. It is stored as the last row of W[0] (row D), which
 * is the bias of layer 0 in all but name; the products treat it as such, so
 * the fast path never copies the input to append the 1.
 *
 * Hidden layers share one activation; the output layer is linear into the
 * softmax. Dropout (keep probability p, inverted: kept units ×1/p) acts on
 * the hidden layers' outputs in training mode only, masks drawn from the
 * model's own seeded rng in a fixed order (same bits any thread count).
 *
 * Not here: optimisers, training loops, metrics, logs (train.h); the graph
 * version of the same network (mlp_graph.h).
 */
#ifndef CHAINRULE_MLP_H
#define CHAINRULE_MLP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "kernels.h"
#include "rng.h"

#define MLP_MAX_LAYERS 64

typedef enum {
    INIT_ZEROS,           /* all 0 */
    INIT_UNIFORM,         /* U[a, b) */
    INIT_NORMAL,          /* N(0, a²): a is σ */
    INIT_LECUN_NORMAL,    /* N(0, 1/fan_in): σ = 1/√fan_in (the course's N(0, 1/√n)) */
    INIT_GLOROT_UNIFORM,  /* U[−r, r), r = √(6/(fan_in + fan_out))  (Keras default) */
    INIT_GLOROT_NORMAL,   /* N(0, 2/(fan_in + fan_out))  (Xavier normal) */
    INIT_HE,              /* N(0, 2/fan_in)  (He / Kaiming normal) */
    INIT_TORCH,           /* PyTorch nn.Linear's default: weights and biases U[−1/√fan_in, 1/√fan_in) */
    INIT_COUNT
} init_kind;

/* Weights are drawn with this rule; biases are 0 (except INIT_TORCH). fan_in
 * counts the real inputs of a layer (D, not D+1, with the bias trick); the
 * bias row of the trick is drawn like a bias (0; U for INIT_TORCH).
 * Draw order: layer by layer, W row-major, then b — fixed, from `seed`. */
typedef struct {
    init_kind kind;
    double a, b;          /* U[a, b) for INIT_UNIFORM; σ = a for INIT_NORMAL */
} mlp_init;

typedef struct {
    int n_layers;                        /* L ≥ 1 dense layers, counting the output */
    int sizes[MLP_MAX_LAYERS + 1];       /* sizes[0] = D … sizes[L] = K classes (≤ 256) */
    act_kind act;                        /* activation of every hidden layer */
    int bias_trick;                      /* 1: constant-1 input, no biases (see above) */
    mlp_init init;
    uint64_t seed;                       /* seeds the initial weights */
} mlp_config;

typedef struct mlp {
    mlp_config cfg;                      /* as given to mlp_new */
    int L;                               /* cfg.n_layers */
    size_t n_params;                     /* total, = mlp_num_params */
    float *params;                       /* one block of n_params; owned */
    float *grads;                        /* mirrors params; owned */
    float *W[MLP_MAX_LAYERS], *b[MLP_MAX_LAYERS];     /* into params; do not free */
    float *dW[MLP_MAX_LAYERS], *db[MLP_MAX_LAYERS];   /* into grads; b/db NULL without bias */
    int rows[MLP_MAX_LAYERS];            /* n_l: rows of W[l] (D+1 for l = 0 with the trick) */

    /* After mlp_forward (valid until the next forward): */
    int B;                               /* rows of the last batch */
    const float *x;                      /* the last batch (B, D): the caller's, not copied */
    const uint8_t *labels;               /* its labels, or NULL */
    float *h[MLP_MAX_LAYERS];            /* (B, m_l) layer outputs; h[L−1] = softmax probabilities */
    double loss;                         /* mean cross-entropy of the batch (0 without labels) */
    int correct;                         /* rows whose argmax is the label (0 without labels) */

    /* dropout */
    double keep;                         /* keep probability p, 1 = off */
    rng drop_rng;                        /* draws the masks */
    int dropped;                         /* 1 when the last forward applied dropout */

    /* private: scratch buffers, sized for B_cap rows */
    int B_cap;
    float *buf;                          /* one block for all of the below */
    float *y[MLP_MAX_LAYERS];            /* f(z) before dropout (= h without dropout) */
    float *z[MLP_MAX_LAYERS];            /* pre-activations, only where act_needs_input */
    float *mask[MLP_MAX_LAYERS];         /* dropout masks (0 or 1/p) */
    float *hdrop[MLP_MAX_LAYERS];        /* y ⊙ mask: h[l] points here in a dropout forward */
    float *delta[2];                     /* δ of the current layer and the one below */
    int *cols[MLP_MAX_LAYERS];           /* the non-zero columns of layer l's input (one block) */
    int ncols[MLP_MAX_LAYERS];           /* (found by the forward, read again by the backward) */
} mlp;

/* A new network with initialised parameters, zero gradients, dropout off.
 * NULL when out of memory. A bad config (L outside 1…MLP_MAX_LAYERS, a size
 * < 1, K > 256) stops with a message: a programmer error. */
mlp *mlp_new(const mlp_config *cfg);
/* Releases everything. mlp_free(NULL) is a no-op. */
void mlp_free(mlp *m);

/* Parameters of the network (weights + biases, the trick row counted). */
size_t mlp_num_params(const mlp *m);
/* Parameters of layer l: rows[l]·m_l + (bias ? m_l : 0). */
size_t mlp_layer_params(const mlp *m, int l);

/* Dropout on the hidden layers with keep probability keep ∈ (0, 1]
 * (1 = off); masks are drawn from seed, a fresh mask per training forward. */
void mlp_set_dropout(mlp *m, double keep, uint64_t seed);

/* Forward pass over a batch. x is (B, D), row-major; labels (B) or NULL.
 * train = 1 applies dropout (when on), 0 is evaluation.
 * Sets m->h, and with labels m->loss (batch mean cross-entropy, summed in
 * double) and m->correct; returns m->loss. For B = 1 the first layer touches
 * only the rows of W[0] where x is non-zero (MNIST: ~80% of pixels are 0)
 * — same bits as the dense product. */
double mlp_forward(mlp *m, const float *x, const uint8_t *labels, int B, int train);

/* The class probabilities of the last forward, (B, K); do not free. */
static inline const float *mlp_probs(const mlp *m) { return m->h[m->L - 1]; }

/* grads = 0. */
void mlp_zero_grad(mlp *m);

/* grads += ∂(batch mean loss)/∂params for the last forward (which must have
 * had labels). The δ recursion, from the top:
 *   δ_L = (y − t) / B                                  (B, K)
 *   dW[l] += h[l−1]^T · δ_l,  db[l] += Σ_b δ_l          (n_l, m_l), (m_l)
 *   δ_{l−1} = (δ_l · W[l]^T) ⊙ f′(z_{l−1}) ⊙ mask       (B, m_{l−1})
 * with h[−1] = x. The product for the input gradient of layer 0 is not
 * formed (nothing needs it). */
void mlp_backward(mlp *m);

/* Plain SGD: params −= lr · grads. */
void mlp_update(mlp *m, float lr);

/* Backward and plain SGD in one sweep, the weight-gradient products applied
 * straight to the weights (grads untouched). Bit-identical to
 * mlp_zero_grad + mlp_backward + mlp_update(lr) — and faster. */
void mlp_backward_sgd(mlp *m, float lr);

/* Backward and a first-order step (kernels.h: first_step; s->v the
 * velocities of the whole parameter block, at params' offsets, or NULL
 * for STEP_SGD) in one sweep: each weight matrix's sums applied as they
 * are formed (matmul_backward_weight_first), each bias from its gradient
 * (left in grads; no L2 on a bias, the trick row has it). The weight
 * gradients in grads are untouched. Bit-identical to mlp_zero_grad +
 * mlp_backward + train.c's optim_step with the same step. */
void mlp_backward_first(mlp *m, const first_step *s);

/* Keras-style summary: one row per layer (name, output shape, parameters),
 * then the total:
 *   Layer (type)            Output Shape              Param #
 *   dense_1 (Dense)         (None, 300)               235500
 *   …
 *   Total params: 238510                                                */
void mlp_summary(const mlp *m, FILE *f);

/* Saves parameters to path: a header (magic "CHRMLP2\n", layer count,
 * bias trick, sizes, parameter count, a 64-bit FNV-1a checksum of the
 * parameter bytes, the hidden activation) then the floats, little-endian. Written to
 * path.PID.tmp, then renamed: a crash never leaves a half-written model at
 * path, two saves at once never mix their bytes. A model with a non-finite
 * parameter is refused (it could never be loaded).
 * Returns 0, or −1 with a one-line message in err (naming the file). */
int mlp_save(const mlp *m, const char *path, char *err, size_t errlen);
/* Loads parameters saved by mlp_save into m. Refuses (−1, message in err
 * naming the file and the problem: unreadable, not a regular file, not a
 * model, truncated, trailing bytes, checksum mismatch, a non-finite
 * parameter, or shapes that differ from m's, both printed) and then leaves
 * m unchanged. The header is checked before the body is read, and the body
 * read is exactly m's parameters: /dev/zero, a FIFO or a huge file costs
 * nothing. */
int mlp_load(mlp *m, const char *path, char *err, size_t errlen);
/* The network a file saved by mlp_save holds (layers, sizes, bias trick,
 * activation; init zeros), read from its header, so that a program can
 * mlp_new it and mlp_load it without knowing the shape. Returns 0, or −1
 * with a one-line message in err naming the file (unreadable, not an MLP
 * model, a corrupt or truncated header). The parameters are checked by
 * mlp_load. */
int mlp_read_config(const char *path, mlp_config *cfg, char *err, size_t errlen);

#endif
