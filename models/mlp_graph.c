/* mlp_graph.c — the MLP on the graph, for cross-checks (see mlp_graph.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mlp_graph.h"
#include "ops.h"

node mlp_graph_leaf(graph *g, int rows, int cols, const float *src)
{
    size_t n = (size_t)rows * cols;
    double *d = malloc((n ? n : 1) * sizeof *d);
    if (!d) return NODE_NONE;
    for (size_t i = 0; i < n; i++) d[i] = src ? src[i] : 0.0;
    node r = graph_leaf(g, rows, cols, d);
    free(d);
    return r;
}

static node activation(graph *g, node z, act_kind a)
{
    switch (a) {
    case ACT_IDENTITY: return z;
    case ACT_SIGMOID: return op_sigmoid(g, z);
    case ACT_TANH: return op_tanh(g, z);
    case ACT_RELU: return op_relu(g, z);
    case ACT_STANH: return op_stanh(g, z);
    case ACT_STANH_LIN: return op_add(g, op_stanh(g, z), op_scale(g, z, 0.01));
    default: return z;
    }
}

int mlp_graph_build(mlp_graph *mg, const mlp *m, const float *x, const uint8_t *labels,
                    int B, int use_mask)
{
    memset(mg, 0, sizeof *mg);
    graph *g = graph_new();
    if (!g) return -1;
    mg->g = g;
    mg->L = m->L;
    mg->has_b = !m->cfg.bias_trick;
    int D = m->cfg.sizes[0], K = m->cfg.sizes[m->L], Dx = D + (m->cfg.bias_trick ? 1 : 0);
    double *xd = malloc((size_t)B * Dx * sizeof *xd), *td = calloc((size_t)B * K, sizeof *td);
    if (!xd || !td) { free(xd); free(td); return -1; }
    for (int r = 0; r < B; r++) {
        for (int d = 0; d < D; d++) xd[(size_t)r * Dx + d] = x[(size_t)r * D + d];
        if (m->cfg.bias_trick) xd[(size_t)r * Dx + D] = 1.0;   /* the constant input */
        td[(size_t)r * K + labels[r]] = 1.0;
    }
    mg->x = graph_leaf(g, B, Dx, xd);
    mg->t = graph_leaf(g, B, K, td);
    free(xd); free(td);
    for (int l = 0; l < m->L; l++) {
        mg->W[l] = mlp_graph_leaf(g, m->rows[l], m->cfg.sizes[l + 1], m->W[l]);
        if (mg->has_b) mg->b[l] = mlp_graph_leaf(g, 1, m->cfg.sizes[l + 1], m->b[l]);
    }
    node h = mg->x;
    for (int l = 0; l < m->L; l++) {
        node z = op_matmul(g, h, mg->W[l]);              /* (B, n)·(n, o) */
        if (mg->has_b) z = op_add_row(g, z, mg->b[l]);   /* + b, one row per sample */
        if (l == m->L - 1) { h = z; break; }
        h = activation(g, z, m->cfg.act);
        if (use_mask) h = op_mul(g, h, mlp_graph_leaf(g, B, m->cfg.sizes[l + 1], m->mask[l]));
    }
    mg->loss = op_softmax_ce(g, h, mg->t);               /* mean over the B rows */
    graph_backward(g, mg->loss);
    return 0;
}

void mlp_graph_free(mlp_graph *mg)
{
    if (!mg) return;
    graph_free(mg->g);
    mg->g = NULL;
}

double mlp_graph_loss(const mlp_graph *mg) { return graph_get(mg->g, mg->loss, 0); }

/* max |fast − graph| / max |graph| over one tensor; +∞ when any entry on
 * either side is not finite, so that NaN can never pass for agreement (a
 * comparison `d > diff` is false for NaN and would skip it). */
double mlp_graph_err(const graph *g, node n, const float *fast)
{
    const double *gr = graph_grad(g, n);
    int cnt = graph_size(g, n);
    double big = 0.0, diff = 0.0;
    for (int i = 0; i < cnt; i++) {
        if (!isfinite(gr[i]) || !isfinite(fast[i])) return INFINITY;
        if (fabs(gr[i]) > big) big = fabs(gr[i]);
        double d = fabs((double)fast[i] - gr[i]);
        if (d > diff) diff = d;
    }
    return big > 0.0 ? diff / big : diff;
}

double mlp_graph_compare(const mlp_graph *mg, const mlp *m, char *where, size_t wlen)
{
    double worst = -1.0;    /* below every error, so the first tensor names `where` */
    for (int l = 0; l < m->L; l++) {
        double e = mlp_graph_err(mg->g, mg->W[l], m->dW[l]);
        if (e > worst) { worst = e; if (where) snprintf(where, wlen, "dW[%d]", l); }
        if (mg->has_b) {
            e = mlp_graph_err(mg->g, mg->b[l], m->db[l]);
            if (e > worst) { worst = e; if (where) snprintf(where, wlen, "db[%d]", l); }
        }
    }
    return worst;
}
