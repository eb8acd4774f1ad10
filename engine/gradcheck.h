/* gradcheck.h — is the gradient right? Central differences against the tape's
 * reverse sweep, with a verdict; and full Jacobians by repeated sweeps.
 *
 * The checks replay the tape (graph_forward), so they work on any graph
 * already built, without a callback: nudge a leaf, replay, read the loss.
 */
#ifndef CHAINRULE_GRADCHECK_H
#define CHAINRULE_GRADCHECK_H

#include "graph.h"

typedef struct {
    int ok;              /* 1 when every element is within tolerance */
    int checked;         /* how many elements were compared */
    int worst_leaf;      /* index into the leaves array of the worst element */
    int worst_index;     /* element of that leaf, row-major */
    double worst_rel;    /* its relative error |a − n| / max(|a|, |n|, 1e-3) */
    double analytic;     /* the sweep's gradient there */
    double numeric;      /* the central difference there */
} gradcheck_report;

/* Compares dL/dleaf from one reverse sweep with (L(x+ε) − L(x−ε)) / 2ε for
 * every element of every leaf in leaves[0..nleaves). An element passes when
 * |a − n| ≤ tol·max(|a|, |n|, 1e-3); a NaN or ±∞ on either side fails
 * (worst_rel = +∞, the first such element reported), and a check of no
 * elements at all is not ok. The leaves' values are
 * restored and their gradients left as one sweep made them (zeroed first).
 * Typical: eps = 1e-6, tol = 1e-6. */
gradcheck_report gradcheck(graph *g, node loss, const node *leaves, int nleaves,
                        double eps, double tol);

/* The Jacobian ∂out/∂in by one reverse sweep per element of out:
 * J is (size(out) × size(in)), row-major. Gradients are zeroed. */
void gradcheck_jacobian(graph *g, node out, node in, double *J);

/* The same Jacobian by central differences on in (replaying the tape). */
void gradcheck_jacobian_fd(graph *g, node out, node in, double eps, double *J);

#endif
