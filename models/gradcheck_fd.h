/* gradcheck_fd.h — the assignment's finite-difference gradient check of a
 * 785-H-10 network (lesson 07: the bias trick's constant 1, one hidden
 * layer, sigmoid or scaled tanh): central differences on every weight
 * against the analytic gradient of one reverse sweep of the graph, in
 * double, with a verdict.
 *
 * A nudge of W1[i][j] changes only hidden unit j, a nudge of W2[j][c] only
 * logit c, so each nudged loss is recomputed from one stored forward pass
 * (that unit, the logits, the softmax) instead of the whole n × 785 × H
 * product: the same function, thousands of times cheaper — and the check
 * holds the shortcut against full forward passes on sampled weights.
 *
 * Not here: training, printing (the lesson prints the verdict).
 */
#ifndef CHAINRULE_GRADCHECK_FD_H
#define CHAINRULE_GRADCHECK_FD_H

#include <stdint.h>
#include "mlp.h"

typedef struct {
    int weights;          /* how many were checked */
    double worst;         /* largest |numeric − analytic| (NaN when any is not finite) */
    double vs_fast;       /* largest |graph − fast path| of the analytic gradients */
    double shortcut;      /* largest |shortcut − full forward| over the sampled nudges */
    double loss;          /* the mean loss of the n images */
    int ok;               /* every weight within ε², every number finite, the shortcut exact */
} gcheck;

/* Checks m (2 layers, bias_trick, act ACT_SIGMOID or ACT_STANH, 784 inputs,
 * 10 outputs) on the first n rows of x (n × 784, float, as the network
 * sees them) with labels y: (L(w + ε) − L(w − ε)) / 2ε on the mean loss.
 * x0 is the value a 0 pixel has in x (rows share it, so its row losses are
 * computed once per image); seed picks the 8 weights the shortcut is
 * checked on. Leaves m's activations and gradients as a forward/backward of
 * the n rows made them. Returns 0, or −1 when out of memory (out->weights
 * is then −1). */
int gradcheck_fd(gcheck *out, mlp *m, const float *x, const uint8_t *y, int n, double eps,
                 double x0, uint64_t seed);

#endif
