/* gradcheck.c — gradient checks by central differences, Jacobians by sweeps. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "gradcheck.h"

/* Relative error with an absolute floor: below 1e-3 the difference is
 * measured against 1e-3, because a central difference of an exactly-zero
 * gradient still carries rounding noise of ~1e-10. A non-finite value on
 * either side is an infinite error: (∞ − ∞)/∞ would be NaN, and NaN slips
 * through every `>` a caller might compare with. */
static double rel_err(double a, double n)
{
    if (!isfinite(a) || !isfinite(n)) return INFINITY;
    double scale = fmax(fmax(fabs(a), fabs(n)), 1e-3);
    return fabs(a - n) / scale;
}

gradcheck_report gradcheck(graph *g, node loss, const node *leaves, int nleaves,
                        double eps, double tol)
{
    gradcheck_report rep = {1, 0, -1, -1, 0.0, 0.0, 0.0};
    int nonfinite = 0;    /* the first non-finite element stays the reported worst */
    graph_zero_grad(g);
    graph_forward(g);
    graph_backward(g, loss);
    for (int l = 0; l < nleaves; l++) {
        int n = graph_size(g, leaves[l]);
        for (int e = 0; e < n; e++) {
            double *x = graph_val(g, leaves[l]) + e, x0 = *x;
            *x = x0 + eps;
            graph_forward(g);
            double up = graph_get(g, loss, 0);
            x = graph_val(g, leaves[l]) + e;
            *x = x0 - eps;
            graph_forward(g);
            double down = graph_get(g, loss, 0);
            graph_val(g, leaves[l])[e] = x0;
            double num = (up - down) / (2.0 * eps);
            double ana = graph_grad_get(g, leaves[l], e);
            double r = rel_err(ana, num);
            rep.checked++;
            if (rep.worst_leaf < 0 || (!nonfinite && r > rep.worst_rel)) {
                nonfinite = !isfinite(r);
                rep.worst_rel = r;
                rep.worst_leaf = l;
                rep.worst_index = e;
                rep.analytic = ana;
                rep.numeric = num;
            }
            if (!(r <= tol)) rep.ok = 0;
        }
    }
    if (rep.checked == 0) rep.ok = 0;    /* comparing nothing proves nothing */
    graph_forward(g);
    return rep;
}

void gradcheck_jacobian(graph *g, node out, node in, double *J)
{
    int m = graph_size(g, out), n = graph_size(g, in);
    double *seed = calloc((size_t)m, sizeof *seed);
    if (!seed) abort();
    for (int i = 0; i < m; i++) {
        graph_zero_grad(g);
        seed[i] = 1.0;
        graph_backward_seed(g, out, seed);
        seed[i] = 0.0;
        memcpy(J + (size_t)i * n, graph_grad(g, in), (size_t)n * sizeof *J);
    }
    graph_zero_grad(g);
    free(seed);
}

void gradcheck_jacobian_fd(graph *g, node out, node in, double eps, double *J)
{
    int m = graph_size(g, out), n = graph_size(g, in);
    for (int j = 0; j < n; j++) {
        double x0 = graph_val(g, in)[j];
        graph_val(g, in)[j] = x0 + eps;
        graph_forward(g);
        for (int i = 0; i < m; i++) J[(size_t)i * n + j] = graph_get(g, out, i);
        graph_val(g, in)[j] = x0 - eps;
        graph_forward(g);
        for (int i = 0; i < m; i++)
            J[(size_t)i * n + j] = (J[(size_t)i * n + j] - graph_get(g, out, i)) / (2.0 * eps);
        graph_val(g, in)[j] = x0;
    }
    graph_forward(g);
}
