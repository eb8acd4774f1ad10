/* cnn.h — the fast-path convolutional network of lesson 10: float32, hand-
 * derived backward, llm.c style (the sibling of mlp.h). The contract with
 * the graph side is CNN_API.md; layouts here are that contract.
 *
 *   x (B, H, W, C_in)  pixels/255, NHWC row-major
 *   → conv k×k, F filters, stride 1, SAME (p = (k−1)/2) or VALID (p = 0), + bias
 *        out[b][y][x][f] = conv_b[f] + Σ_{dy,dx,c} in[b][y+dy−p][x+dx−p][c] · conv_w[dy][dx][c][f]
 *        (cross-correlation; outside the image counts as 0). conv_w is
 *        (k, k, C_in, F) = TensorFlow's HWIO, i.e. the (k·k·C_in) × F matrix
 *        of an im2col product.                              (B, Ho, Wo, F)
 *   → ReLU
 *   → batch norm (cnn_bn below)                             (B, Ho, Wo, F)
 *   → max-pool pool×pool, stride pool; the gradient goes to the FIRST
 *        maximum of each window in row-major window order   (B, Ho/pool, Wo/pool, F)
 *   → flatten NHWC: index ((y·Wp + x)·F + f)                (B, D)
 *   → dense D → hidden: W1 (D, hidden), b1 (hidden)
 *   → dropout, keep probability cfg.keep (1 = off), inverted (kept ×1/keep),
 *        training only, mask from the model's rng seeded with cfg.seed
 *   → ReLU
 *   → dense hidden → classes: W2 (hidden, classes), b2 (classes)
 *   → softmax cross-entropy, mean over the batch
 *
 * One allocation holds every parameter, in the order conv_w, conv_b,
 * [bn_gamma, bn_beta,] W1, b1, W2, b2; the gradients mirror it exactly
 * (grads[i] is ∂loss/∂params[i]), so an optimiser walks both as flat arrays
 * (train.h: optim_new_cnn / optim_step_cnn; L2 on conv_w, W1, W2 only).
 * The batch-norm running mean and variance are buffers, not parameters.
 * Init: Glorot uniform, ±√(6/(fan_in + fan_out)), for every weight AND
 * bias (as the course's assignment does), conv fan_in = k·k·C_in, fan_out =
 * k·k·F, dense fan_in/fan_out its rows/columns; γ = 1, β = 0; draw order
 * conv_w, conv_b, W1, b1, W2, b2, each row-major, from cfg.seed.
 *
 * Threads split outputs, never a sum: same bits for any thread count, and
 * the AVX2 and portable kernels give the same bits (kernels.h).
 * Not here: training loops (train.h), the graph version (cnn_graph.h).
 */
#ifndef CHAINRULE_CNN_H
#define CHAINRULE_CNN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "kernels.h"
#include "rng.h"

typedef enum {
    CNN_BN_NONE,
    CNN_BN_FEATURE,   /* tf.nn.moments(h, axes=[0]): mean and BIASED variance per
                         feature (y, x, f) over the batch; no γ/β; evaluation
                         also uses the evaluated batch's statistics */
    CNN_BN_CHANNEL,   /* PyTorch's BatchNorm2d: per channel f over (b, y, x),
                         biased variance to normalise, learnable γ (1) and β (0);
                         running = 0.9·running + 0.1·batch, running_var from the
                         UNBIASED batch variance; inference uses the running values */
    CNN_BN_COUNT
} cnn_bn;

typedef enum { CNN_PAD_SAME, CNN_PAD_VALID } cnn_pad;

typedef struct {
    int H, W, C_in;     /* 28, 28, 1 */
    int ksize, filters; /* 3, 32 */
    cnn_pad pad;        /* SAME */
    cnn_bn bn;          /* CNN_BN_FEATURE for the assignment */
    double bn_eps;      /* 1e-9 (assignment), 1e-3 (benchmark) */
    int pool;           /* 2 */
    int hidden;         /* 784 */
    int classes;        /* 10 (≤ 256) */
    double keep;        /* dropout keep probability; 1 = off */
    uint64_t seed;      /* init and dropout masks */
} cnn_cfg;

typedef struct cnn {
    cnn_cfg cfg;                        /* as given to cnn_new */
    size_t n_params;                    /* total of the block below */
    float *params, *grads;              /* one block each; grads mirrors params; owned */
    /* named pointers into params (do not free): */
    float *conv_w, *conv_b;             /* (k, k, C_in, F), (F) */
    float *bn_gamma, *bn_beta;          /* (F) each, NULL unless CNN_BN_CHANNEL */
    float *W1, *b1, *W2, *b2;           /* (D, hidden), (hidden), (hidden, classes), (classes) */
    /* their twins in grads: */
    float *dconv_w, *dconv_b, *dbn_gamma, *dbn_beta, *dW1, *db1, *dW2, *db2;
    float *bn_run_mean, *bn_run_var;    /* (F) buffers, CNN_BN_CHANNEL only (else NULL); owned */

    /* Shapes derived from cfg: */
    int Ho, Wo;                         /* conv output rows, columns */
    int Hp, Wp;                         /* after pooling */
    int D;                              /* Hp·Wp·F, the flattened size */

    /* After cnn_forward (valid until the next forward): */
    int B;                              /* rows of the last batch */
    int train;                          /* its mode */
    const uint8_t *labels;              /* its labels (the caller's), or NULL */
    double loss;                        /* mean cross-entropy, NAN without labels */
    int correct;                        /* rows whose argmax is the label */

    /* private: dropout rng, and the workspace sized for B_cap rows */
    rng drop_rng;
    int B_cap;
    float *ws;                          /* one block for every activation below */
    float *xpad;                        /* (B, H+2p, W+2p, C_in) x zero-padded for the conv */
    float *a1;                          /* (B, Ho, Wo, F) ReLU(conv) */
    float *xhat;                        /* (B, Ho, Wo, F) normalised, CNN_BN_FEATURE only */
    float *a2;                          /* (B, Ho, Wo, F) batch-norm output, CNN_BN_FEATURE only
                                           (per channel the batch norm and the pool are one
                                           kernel that stores neither; without BN, a1 is pooled) */
    float *bn_mean, *bn_istd;           /* per feature or channel: mean, 1/√(var+ε) */
    float *pooled;                      /* (B, D) */
    int32_t *argmax;                    /* (B, D) index into a2 of each window's first max */
    float *h1;                          /* (B, hidden) ReLU(dropout(dense 1)) */
    float *probs;                       /* (B, classes) */
    float *dlogits;                     /* (B, classes) */
    float *dh1;                         /* (B, hidden) */
    float *dpooled;                     /* (B, D) */
    float *da;                          /* (B, Ho, Wo, F) gradient buffer */
    uint8_t *mask;                      /* (B, hidden) dropout mask of 0/1 */
    int masked;                         /* 1 when the last forward drew a mask */

    /* Profiling for the benchmark: when profile = 1, forward and backward
     * add each stage's wall seconds to stage_s (results never read it). */
    int profile;
    double stage_s[10];                 /* CNN_STAGE_* below */
} cnn;

/* The stages of stage_s, and their names ("conv_fwd", …) via cnn_stage_name. */
enum { CNN_STAGE_CONV_F, CNN_STAGE_BN_F, CNN_STAGE_POOL_F, CNN_STAGE_FC1_F, CNN_STAGE_FC2_F,
       CNN_STAGE_FC2_B, CNN_STAGE_FC1_B, CNN_STAGE_POOL_B, CNN_STAGE_BN_B, CNN_STAGE_CONV_B,
       CNN_STAGE_COUNT };
const char *cnn_stage_name(int stage);

/* The assignment's network: 28×28×1, 3×3×32 SAME, ReLU, CNN_BN_FEATURE
 * ε = 1e-9, 2×2 pool, 784 hidden, 10 classes, keep 1, seed 1. */
cnn_cfg cnn_defaults(void);

/* A new network with initialised parameters, zero gradients. NULL when out
 * of memory. A bad cfg (a kernel larger than the input, a pool larger than
 * the conv output, a size < 1, classes > 256, keep outside (0, 1], ε ≤ 0)
 * stops with file:line naming both shapes: a programmer error. */
cnn *cnn_new(const cnn_cfg *cfg);
/* Releases everything. cnn_free(NULL) is a no-op. */
void cnn_free(cnn *m);

/* D, the flattened size after pooling (the rows of W1). */
int cnn_out_dim(const cnn_cfg *cfg);

/* Forward over a batch x (B, H·W·C_in). train = 1 uses batch statistics
 * (and updates the running ones) and dropout; 0 is inference. labels may be
 * NULL (then returns NAN), else the mean cross-entropy (summed in double).
 * The workspace grows to the largest B seen; nothing else is allocated. */
double cnn_forward(cnn *m, const float *x, const uint8_t *labels, int B, int train);
/* The class probabilities of the last forward, (B, classes); do not free. */
const float *cnn_probs(const cnn *m);

/* Backward of the last forward (which needs labels): grads are SET (not
 * accumulated) to d(mean loss)/dparams. The input x is not differentiated. */
void cnn_backward(cnn *m);

/* cnn_backward with W1's weight gradient applied straight to W1 as the
 * Adam step w1 (its moments, constants and λ) inside the product, never
 * stored: dW1 is left as it was, every other gradient is set. Used by
 * train.h's optim_backward_step_cnn; the same bits as cnn_backward then
 * the Adam step. */
void cnn_backward_adam(cnn *m, const adam_step *w1);

/* The dropout mask of the last training forward, (B, hidden) of 0/1, so the
 * graph can apply the same one; NULL when keep == 1 or not training. */
const uint8_t *cnn_dropout_mask(const cnn *m);

/* Keras-style summary: one row per layer (name, output shape, parameters),
 * then the total. */
void cnn_summary(const cnn *m, FILE *f);

/* Status of cnn_save / cnn_load: 0 is success; cnn_status_msg names the
 * problem (the caller names the file). */
enum {
    CNN_OK = 0,
    CNN_ERR_OPEN,       /* cannot open the file */
    CNN_ERR_WRITE,      /* cannot write or rename into place */
    CNN_ERR_MAGIC,      /* not a chainrule CNN file */
    CNN_ERR_TRUNCATED,  /* shorter than its header says */
    CNN_ERR_TRAILING,   /* longer than its header says */
    CNN_ERR_CFG,        /* a header whose configuration is impossible */
    CNN_ERR_CHECKSUM,   /* the body does not match its checksum */
    CNN_ERR_NONFINITE,  /* a parameter or buffer is NaN or infinite */
    CNN_ERR_NOMEM,      /* out of memory */
    CNN_ERR_NOTFILE,    /* not a regular file */
    CNN_STATUS_COUNT
};
const char *cnn_status_msg(int status);

/* Saves the configuration, the parameters and the running batch-norm
 * buffers: magic "CHRCNN1\n", the cfg fields, the float count, a 64-bit
 * FNV-1a checksum of the body, then the floats little-endian (the
 * container of mlp_save). Written to path.tmp and renamed: a crash never
 * leaves a half-written model at path. Returns a status. */
int cnn_save(const cnn *m, const char *path);
/* A network rebuilt from a file cnn_save wrote, or NULL with *status set
 * (never a stop: the file is user data). */
cnn *cnn_load(const char *path, int *status);

#endif
