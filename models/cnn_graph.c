/* cnn_graph.c — the CNN on the graph, for cross-checks (see cnn_graph.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cnn_graph.h"
#include "mlp_graph.h"
#include "ops.h"

static int leaves(cnn_graph *cg, const cnn *m, const float *x, const uint8_t *labels, int B)
{
    const cnn_cfg *c = &m->cfg;
    graph *g = cg->g;
    int K = c->classes, kk = c->ksize * c->ksize * c->C_in, F = c->filters;
    double *td = calloc((size_t)B * K, sizeof *td);
    if (!td) return -1;
    for (int r = 0; r < B; r++) td[(size_t)r * K + labels[r]] = 1.0;
    cg->t = graph_leaf(g, B, K, td);
    free(td);
    cg->x = mlp_graph_leaf(g, B, c->H * c->W * c->C_in, x);
    cg->conv_w = mlp_graph_leaf(g, kk, F, m->conv_w);      /* (k·k·C_in, F), HWIO */
    cg->conv_b = mlp_graph_leaf(g, 1, F, m->conv_b);
    cg->has_bn_params = c->bn == CNN_BN_CHANNEL;
    cg->gamma = cg->beta = NODE_NONE;
    if (cg->has_bn_params) {
        cg->gamma = mlp_graph_leaf(g, 1, F, m->bn_gamma);
        cg->beta = mlp_graph_leaf(g, 1, F, m->bn_beta);
    }
    cg->W1 = mlp_graph_leaf(g, m->D, c->hidden, m->W1);     /* (D, hidden) */
    cg->b1 = mlp_graph_leaf(g, 1, c->hidden, m->b1);
    cg->W2 = mlp_graph_leaf(g, c->hidden, K, m->W2);        /* (hidden, classes) */
    cg->b2 = mlp_graph_leaf(g, 1, K, m->b2);
    node all[] = {cg->x, cg->conv_w, cg->conv_b, cg->W1, cg->b1, cg->W2, cg->b2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) if (all[i].id == UINT32_MAX) return -1;
    if (cg->has_bn_params && (cg->gamma.id == UINT32_MAX || cg->beta.id == UINT32_MAX)) return -1;
    return 0;
}

/* The batch-norm layer of m's configuration on a (B, Ho·Wo·F). */
static node batchnorm(cnn_graph *cg, const cnn *m, node a, int train)
{
    graph *g = cg->g;
    const cnn_cfg *c = &m->cfg;
    switch (c->bn) {
    case CNN_BN_FEATURE:   /* tf.nn.moments(h, axes=[0]): every column its own feature, in both modes */
        return op_batchnorm(g, a, graph_cols(g, a), NODE_NONE, NODE_NONE, c->bn_eps);
    case CNN_BN_CHANNEL:
        if (train) return op_batchnorm(g, a, c->filters, cg->gamma, cg->beta, c->bn_eps);
        {
            node st = graph_leaf(g, 2, c->filters, NULL);
            double *s = graph_val(g, st);
            for (int f = 0; f < c->filters; f++) {
                s[f] = m->bn_run_mean[f];
                s[c->filters + f] = m->bn_run_var[f];
            }
            return op_batchnorm_infer(g, a, c->filters, st, cg->gamma, cg->beta, c->bn_eps);
        }
    default:
        return a;
    }
}

int cnn_graph_build(cnn_graph *cg, const cnn *m, const float *x, const uint8_t *labels,
                    int B, int train, const uint8_t *mask)
{
    memset(cg, 0, sizeof *cg);
    const cnn_cfg *c = &m->cfg;
    graph *g = graph_new();
    if (!g) return -1;
    cg->g = g;
    if (leaves(cg, m, x, labels, B) != 0) return -1;
    op_shape in = {c->H, c->W, c->C_in};
    op_pad pad = c->pad == CNN_PAD_SAME ? PAD_SAME : PAD_VALID;
    op_shape co = op_conv2d_shape(in, c->ksize, c->filters, pad);
    cg->conv = op_conv2d(g, cg->x, in, cg->conv_w, c->ksize, cg->conv_b, pad);   /* (B, Ho·Wo·F) */
    cg->relu = op_relu(g, cg->conv);
    cg->bn = batchnorm(cg, m, cg->relu, train);
    cg->pool = op_maxpool2d(g, cg->bn, co, c->pool);        /* (B, D): the flattened NHWC rows */
    node z = op_add_row(g, op_matmul(g, cg->pool, cg->W1), cg->b1);
    if (train && mask) {
        /* inverted dropout: kept units × 1/keep, as a constant leaf */
        node mk = graph_leaf(g, B, c->hidden, NULL);
        double *mv = graph_val(g, mk), s = 1.0 / c->keep;
        for (size_t i = 0; i < (size_t)B * c->hidden; i++) mv[i] = mask[i] ? s : 0.0;
        z = op_mul(g, z, mk);
    }
    node h = op_relu(g, z);
    node o = op_add_row(g, op_matmul(g, h, cg->W2), cg->b2);
    cg->loss = op_softmax_ce(g, o, cg->t);
    graph_backward(g, cg->loss);
    return 0;
}

void cnn_graph_free(cnn_graph *cg)
{
    if (!cg) return;
    graph_free(cg->g);
    cg->g = NULL;
}

double cnn_graph_loss(const cnn_graph *cg) { return graph_get(cg->g, cg->loss, 0); }

double cnn_graph_compare(const cnn_graph *cg, const cnn *m, char *where, size_t wlen)
{
    struct { const char *name; node n; const float *fast; } t[] = {
        {"dconv_w", cg->conv_w, m->dconv_w}, {"dconv_b", cg->conv_b, m->dconv_b},
        {"dW1", cg->W1, m->dW1}, {"db1", cg->b1, m->db1},
        {"dW2", cg->W2, m->dW2}, {"db2", cg->b2, m->db2},
        {"dbn_gamma", cg->gamma, m->dbn_gamma}, {"dbn_beta", cg->beta, m->dbn_beta}};
    int n = cg->has_bn_params ? 8 : 6;
    double worst = -1.0;
    for (int i = 0; i < n; i++) {
        double e = mlp_graph_err(cg->g, t[i].n, t[i].fast);
        if (!(e <= worst)) {
            worst = e;
            if (where) snprintf(where, wlen, "%s", t[i].name);
        }
        if (isinf(e)) break;
    }
    return worst;
}

double cnn_graph_check(cnn *m, const float *x, const uint8_t *labels, int B, int train,
                       double *loss_diff, char *where, size_t wlen)
{
    double loss = cnn_forward(m, x, labels, B, train);
    cnn_backward(m);
    /* the running statistics the forward used are gone after a training
     * forward; only inference reads them, and it does not move them */
    cnn_graph cg;
    if (cnn_graph_build(&cg, m, x, labels, B, train, train ? cnn_dropout_mask(m) : NULL) != 0) {
        cnn_graph_free(&cg);
        return NAN;
    }
    double err = cnn_graph_compare(&cg, m, where, wlen);
    double gl = cnn_graph_loss(&cg);
    if (loss_diff) *loss_diff = isfinite(loss) && isfinite(gl) ? fabs(loss - gl) : INFINITY;
    if (!isfinite(loss) || !isfinite(gl)) err = INFINITY;
    cnn_graph_free(&cg);
    return err;
}
