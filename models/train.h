/* train.h — training the fast-path MLP: optimisers, L2, dropout, the
 * training loop with validation checks and early stopping, metrics, the
 * confusion matrix, opening log tables for the plots, a progress line, and
 * stopping with a fault report when the loss stops being finite.
 *
 * A lesson is meant to read like the assignment:
 *
 *   mlp_data tr = {x, y, 55000, 784}, va = {…};
 *   train_cfg c = train_defaults();           // SGD, batch 32, 10 epochs …
 *   c.epochs = 5; c.batch = 100; c.opt.lr = 0.1;
 *   c.on_check = print_row;                   // a row per validation check
 *   train_result r;
 *   int rc = train_run(m, &tr, &va, &c, &r);  // 0, TRAIN_FAULT (diverged) or −1
 *   if (rc != 0) cli_fail("%s", r.err);
 *   for (int i = 0; i < r.n_hist; i++) printf("%d %.4f\n", r.hist[i].epoch_i, r.hist[i].val_acc);
 *   train_result_free(&r);
 *
 * Determinism: the shuffle and the dropout masks come from cfg.seed, the
 * weights from the model's own seed; same seeds ⇒ same bits for any number
 * of threads. Nothing here reads the clock except the progress line on a
 * terminal, which never goes to stdout.
 *
 * Not here: the network itself (mlp.h), data loading (data.h).
 */
#ifndef CHAINRULE_TRAIN_H
#define CHAINRULE_TRAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "cnn.h"
#include "mlp.h"

/* A data set as the training loop sees it: a view, nothing owned.
 * x is (n, d) row-major float32 (d = the model's D, without the trick's 1);
 * y (n) class labels < K. */
typedef struct {
    const float *x;
    const uint8_t *y;
    int n, d;
} mlp_data;

/* ---------------------------------------------------------------- optimisers */

typedef enum {
    OPT_SGD,          /* w ← w − α(g + λw) */
    OPT_MOMENTUM,     /* the assignment's: Δw ← g + γΔw;  w ← w − αΔw  (PyTorch's form) */
    OPT_CLASSICAL,    /* classical / Keras: v ← γv − αg;  w ← w + v */
    OPT_ADAM,         /* Keras: m ← β1 m + (1−β1)g;  v ← β2 v + (1−β2)g²;
                         α_t = α √(1−β2^t) / (1−β1^t);  w ← w − α_t m / (√v + ε) */
    OPT_RMSPROP,      /* Keras: v ← ρv + (1−ρ)g²;  w ← w − α g / (√v + ε) */
    OPT_COUNT
} opt_kind;

typedef struct {
    opt_kind kind;
    double lr;        /* α */
    double momentum;  /* γ for OPT_MOMENTUM / OPT_CLASSICAL */
    double beta1, beta2, rho, eps;   /* Adam, RMSprop */
    double l2;        /* λ: the loss gains (λ/2)·Σ w² over the weights W (not the biases b;
                         the bias trick's row is part of W[0] and is decayed), so g += λw */
} optim_cfg;

/* Keras's defaults for each kind: SGD α 0.01; momentum γ 0.9 (α 0.01);
 * Adam α 0.001, β1 0.9, β2 0.999, ε 1e-7; RMSprop α 0.001, ρ 0.9, ε 1e-7;
 * λ 0. */
optim_cfg optim_defaults(opt_kind kind);
/* "sgd", "momentum", "classical", "adam", "rmsprop"; and back (−1 if unknown). */
const char *optim_name(opt_kind kind);
int optim_parse(const char *name);

/* Optimiser state (velocities, moments, step count) for one model. */
typedef struct optim optim;
/* NULL when out of memory. Pair with optim_free; optim_free(NULL) is a no-op. */
optim *optim_new(const optim_cfg *cfg, const mlp *m);
void optim_free(optim *o);
/* One step from m->grads (the batch mean gradient, L2 not included: the
 * step adds λw itself). Leaves the grads as they were. */
void optim_step(optim *o, mlp *m);
/* mlp_zero_grad + mlp_backward + optim_step, bit for bit; for the
 * first-order kinds and RMSprop in one sweep (mlp_backward_first: each
 * weight stepped as its gradient is summed, the weight gradients never
 * stored); Adam: the three calls. */
void optim_backward_step(optim *o, mlp *m);

/* The same optimisers over any parameter block (params and a grads block
 * that mirrors it): the state is for n_params floats, and a step walks the
 * spans in order, each with L2 (decay = 1: the weight matrices) or without
 * (biases, batch-norm scale and shift). optim_step is this with the mlp's
 * W[l] (decayed) and b[l] spans. */
typedef struct { size_t off, n; int decay; } optim_span;
optim *optim_new_n(const optim_cfg *cfg, size_t n_params);
void optim_step_spans(optim *o, float *params, const float *grads, size_t n_params,
                      const optim_span *spans, int n_spans);
/* For a cnn (cnn.h): L2 on conv_w, W1 and W2 only. */
optim *optim_new_cnn(const optim_cfg *cfg, const cnn *m);
void optim_step_cnn(optim *o, cnn *m);
/* cnn_backward then optim_step_cnn, with Adam's update of W1 fused into
 * W1's weight-gradient product (4.9 M of its 4.9 M + 8 K parameters:
 * w, v, s are read and written once, the gradient never stored; dW1 is
 * left untouched). The same bits as the two calls; other kinds: the two
 * calls. */
void optim_backward_step_cnn(optim *o, cnn *m);

/* ---------------------------------------------------------------- metrics */

typedef struct {
    double loss;      /* mean cross-entropy over the set (double sums) */
    double acc;       /* fraction classified right */
    int n;            /* rows evaluated */
} eval_result;

/* Evaluates m on d in batches of `batch` rows (eval mode: no dropout).
 * conf (K×K, row = true class, column = predicted) is added to when not
 * NULL. Leaves m->h etc. as the last batch made them. */
eval_result train_evaluate(mlp *m, const mlp_data *d, int batch, long *conf);

/* Prints a K×K confusion matrix with row/column headers (names[k], or the
 * digit when names is NULL) and per-class accuracy at the right. */
void train_print_confusion(FILE *f, const long *conf, int K, const char *const *names);

/* The gradient of the mean loss over all of d (eval mode), left in
 * m->grads; computed in batches of `batch`, each batch's mean gradient
 * weighted by its share of rows. For "gradient magnitude per layer after
 * training" (lesson 08). */
void train_full_gradient(mlp *m, const mlp_data *d, int batch);

/* Largest |entry| of W[l] (and of b[l] into *bmax, 0 without bias) in the
 * gradients: m->dW / m->db; NaN when an entry is NaN (infinity when one is
 * infinite). */
double train_grad_max(const mlp *m, int l, double *bmax);

/* ---------------------------------------------------------------- the loop */

typedef struct train_point train_point;   /* one validation check, below */

typedef struct {
    int epochs;        /* upper bound; early stopping may end sooner */
    int batch;         /* rows per step; 1 = per-sample SGD */
    int drop_last;     /* 1: drop the last partial batch of an epoch */
    int shuffle;       /* 1: a fresh seeded order every epoch; 0: data order */
    uint64_t seed;     /* shuffle and dropout masks */
    optim_cfg opt;
    double keep;       /* dropout keep probability on hidden layers; 1 = off */
    int val_every;     /* validate every N steps; 0 = at the end of every epoch */
    int patience;      /* stop after this many checks without a lower validation
                          loss; 0 = never stop early */
    int restore_best;  /* 1: at the end, put back the parameters of the best check */
    int eval_train;    /* 1: the train columns are a full pass over the training set
                          in eval mode; 0: the mean over the steps since the last
                          check (cheap; with dropout on, the dropout loss) */
    int eval_batch;    /* rows per evaluation batch (default 1000) */
    const char *name;      /* shown in the progress line */
    int progress;      /* 1: one-line progress on stderr, only when it is a terminal */
    /* Called after each check (e.g. to print a row); may be NULL. */
    void (*on_check)(const train_point *p, void *ctx);
    void *ctx;
} train_cfg;

/* One validation check. */
struct train_point {
    int check;         /* 0, 1, … */
    long step;         /* optimiser steps so far */
    int epoch_i;       /* epochs completed at this check */
    double epoch;      /* fractional epochs: step / steps per epoch */
    double train_loss, train_acc;  /* see cfg.eval_train */
    double val_loss, val_acc;      /* NaN when there is no validation set */
};

typedef struct {
    train_point *hist; /* one per check, in order; owned: train_result_free */
    int n_hist;
    int best;          /* index of the check with the lowest validation loss (−1: none) */
    int stopped_early; /* 1 when patience ran out */
    long steps;        /* optimiser steps taken */
    int epochs_run;    /* epochs started */
    int fault;         /* 1 when train_run returned TRAIN_FAULT; then: */
    int fault_epoch;   /*   the epoch (1-based) and the step in all (1-based) */
    long fault_step;   /*   where the loss or a parameter stopped being finite */
    double last_loss;  /*   the last finite batch loss before it (NaN: none) */
    char err[384];     /* why train_run returned −1 or TRAIN_FAULT: one line */
} train_result;

/* train_run's status besides 0 and −1 (a user error: bad data, no memory). */
#define TRAIN_FAULT 1

/* SGD α 0.01, batch 32, 10 epochs, shuffle on, drop_last off, keep 1,
 * validate every epoch, no early stopping, eval_batch 1000, progress on,
 * seed 1. */
train_cfg train_defaults(void);

/* Trains m on tr (validating on va, which may be NULL) as cfg says.
 * It batches on its own (the one batcher): row order 0 … N−1, reshuffled
 * every epoch (cfg.shuffle) by one rng stream seeded with cfg.seed, batches
 * of cfg.batch rows in that order, the last one partial unless drop_last.
 * Plain SGD without L2 takes the fused path (mlp_backward_sgd); every other
 * optimiser: zero_grad, backward, optim_step. Returns 0; −1 with a message
 * in res->err (out of memory, data whose width is not the model's); or
 * TRAIN_FAULT when a step's loss is not finite (NaN, ∞, or a true class
 * given probability 0 in float32) or a parameter stopped being finite:
 * training stops there, res->err names the epoch and step, the last finite
 * loss and a hint, and m keeps the broken parameters. res->hist holds the
 * checks made before, either way. */
int train_run(mlp *m, const mlp_data *tr, const mlp_data *va,
              const train_cfg *cfg, train_result *res);
void train_result_free(train_result *res);

/* Opens path for writing a log table, creating missing directories.
 * NULL (and a message in err naming the path) on failure. */
FILE *train_open_log(const char *path, char *err, size_t errlen);

#endif
