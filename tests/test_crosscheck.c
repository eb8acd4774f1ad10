/* test_crosscheck.c — the fast path against the graph: from the same
 * weights and batch, every gradient within 1e-4 (relative to the tensor's
 * largest gradient) for every activation, 1/2/3 hidden layers, with and
 * without the bias trick; per-sample SGD and minibatch steps give the
 * graph's loss; a dropout forward too. And the verdicts on non-finite
 * values: NaN or ±∞ anywhere is a failure, in mlp_graph_compare and in
 * gradcheck. */
#include <math.h>
#include <stdlib.h>
#include "check.h"
#include "gradcheck.h"
#include "mlp.h"
#include "mlp_graph.h"
#include "ops.h"

static void batch(rng *r, float *x, uint8_t *y, int B, int D, int K)
{
    for (int i = 0; i < B * D; i++) x[i] = rng_uniform(r) < 0.5 ? 0.0f : (float)rng_uniform(r);
    for (int i = 0; i < B; i++) y[i] = (uint8_t)rng_below(r, (uint32_t)K);
}

static double worst_seen;

static void config(act_kind act, int hidden, int trick, int B)
{
    enum { D = 23, K = 7 };
    mlp_config c = {.n_layers = hidden + 1, .act = act, .bias_trick = trick,
                    .init = {INIT_GLOROT_UNIFORM, 0, 0}, .seed = (uint64_t)(act * 10 + hidden)};
    c.sizes[0] = D;
    for (int l = 1; l <= hidden; l++) c.sizes[l] = 9 + 4 * l;
    c.sizes[hidden + 1] = K;
    mlp *m = mlp_new(&c);
    /* non-zero biases, so their gradients matter in the products too */
    for (int l = 0; l < m->L; l++) if (m->b[l]) for (int j = 0; j < c.sizes[l + 1]; j++) m->b[l][j] = 0.1f * (float)(j % 3) - 0.1f;
    rng r; rng_seed(&r, 99);
    float x[16 * D]; uint8_t y[16];
    batch(&r, x, y, B, D, K);
    double loss = mlp_forward(m, x, y, B, 0);
    mlp_zero_grad(m);
    mlp_backward(m);
    mlp_graph mg;
    CHECK(mlp_graph_build(&mg, m, x, y, B, 0) == 0);
    char where[32] = "";
    double err = mlp_graph_compare(&mg, m, where, sizeof where);
    if (err > worst_seen) worst_seen = err;
    if (!(err <= 1e-4))
        printf("crosscheck %s, %d hidden, trick %d, B %d: %s off by %.3g\n", act_name(act), hidden, trick, B, where, err);
    CHECK(err <= 1e-4);
    CHECK_NEAR(loss, mlp_graph_loss(&mg), 1e-5 * fabs(mlp_graph_loss(&mg)) + 1e-7);
    mlp_graph_free(&mg);
    mlp_free(m);
}

/* A few SGD steps (fused path), each step's fast loss against the graph's
 * loss on the weights before the step. */
static void sgd_steps(int B)
{
    enum { D = 30, K = 10 };
    mlp_config c = {.n_layers = 2, .sizes = {D, 12, K}, .act = ACT_SIGMOID,
                    .init = {INIT_NORMAL, 0.3, 0}, .seed = 5};
    mlp *m = mlp_new(&c);
    rng r; rng_seed(&r, 3);
    float x[8 * D]; uint8_t y[8];
    for (int s = 0; s < 6; s++) {
        batch(&r, x, y, B, D, K);
        mlp_graph mg;
        CHECK(mlp_graph_build(&mg, m, x, y, B, 0) == 0);
        double want = mlp_graph_loss(&mg);
        double got = mlp_forward(m, x, y, B, 1);
        CHECK_NEAR(got, want, 1e-5 * fabs(want));
        mlp_backward_sgd(m, 0.5f);
        mlp_graph_free(&mg);
    }
    mlp_free(m);
}

/* Dropout: the graph multiplies by the same masks. */
static void dropout(void)
{
    enum { D = 15, K = 4, B = 6 };
    mlp_config c = {.n_layers = 3, .sizes = {D, 11, 9, K}, .act = ACT_RELU,
                    .init = {INIT_HE, 0, 0}, .seed = 8};
    mlp *m = mlp_new(&c);
    mlp_set_dropout(m, 0.6, 21);
    rng r; rng_seed(&r, 4);
    float x[B * D]; uint8_t y[B];
    batch(&r, x, y, B, D, K);
    double loss = mlp_forward(m, x, y, B, 1);
    CHECK(m->dropped == 1);
    mlp_zero_grad(m);
    mlp_backward(m);
    mlp_graph mg;
    CHECK(mlp_graph_build(&mg, m, x, y, B, 1) == 0);
    CHECK(mlp_graph_compare(&mg, m, NULL, 0) <= 1e-4);
    CHECK_NEAR(loss, mlp_graph_loss(&mg), 1e-5 * fabs(loss));
    mlp_graph_free(&mg);
    mlp_free(m);
}

/* Non-finite gradients are never agreement: a NaN weight (both sides NaN),
 * a NaN or an infinity in the fast path's gradient alone, in W and in b. */
static void nonfinite(void)
{
    enum { D = 6, K = 3, B = 4 };
    static const float bad[3] = {NAN, INFINITY, -INFINITY};
    for (int trick = 0; trick <= 1; trick++)
        for (int k = 0; k < 3; k++)
            for (int where = 0; where < 3; where++) {   /* a weight; dW[1]; db[0] */
                mlp_config c = {.n_layers = 2, .sizes = {D, 5, K}, .act = ACT_TANH, .bias_trick = trick,
                                .init = {INIT_GLOROT_UNIFORM, 0, 0}, .seed = 7};
                mlp *m = mlp_new(&c);
                rng r; rng_seed(&r, 11);
                float x[B * D]; uint8_t y[B];
                batch(&r, x, y, B, D, K);
                if (where == 0) m->W[0][2] = bad[k];
                mlp_forward(m, x, y, B, 0);
                mlp_zero_grad(m);
                mlp_backward(m);
                mlp_graph mg;
                CHECK(mlp_graph_build(&mg, m, x, y, B, 0) == 0);
                if (where == 1) m->dW[1][1] = bad[k];
                if (where == 2 && !trick) m->db[0][0] = bad[k];
                double err = mlp_graph_compare(&mg, m, NULL, 0);
                if (where == 2 && trick) CHECK(err <= 1e-4);          /* nothing was spoilt */
                else {
                    CHECK(!(err <= 1e-4));
                    CHECK(isinf(err) && err > 0);
                }
                mlp_graph_free(&mg);
                mlp_free(m);
            }
}

/* gradcheck's verdict on non-finite values: a NaN or infinite leaf, an
 * infinite analytic gradient (sqrt at 0), a NaN after a finite element —
 * each fails, with the non-finite element reported; nothing checked fails. */
static void gradcheck_nonfinite(void)
{
    static const double vals[3] = {NAN, INFINITY, -INFINITY};
    for (int k = 0; k < 3; k++) {
        graph *g = graph_new();
        node x = graph_scalar(g, vals[k]);
        node z = op_mul(g, x, x);
        gradcheck_report r = gradcheck(g, z, &x, 1, 1e-6, 1e-6);
        CHECK(!r.ok && r.checked == 1 && isinf(r.worst_rel));
        graph_free(g);
    }
    graph *g = graph_new();
    node x = graph_scalar(g, 0.0);
    node z = op_sqrt(g, x);                 /* dz/dx = 1/(2√x): +∞ at 0 */
    gradcheck_report r = gradcheck(g, z, &x, 1, 1e-6, 1e-6);
    CHECK(!r.ok && isinf(r.worst_rel));
    graph_free(g);

    double v[3] = {1.0, 0.0, 4.0};          /* fine, +∞ at √0, fine: the second is the worst */
    g = graph_new();
    node xv = graph_leaf(g, 1, 3, v);
    node s = op_sum(g, op_sqrt(g, xv));
    r = gradcheck(g, s, &xv, 1, 1e-6, 1e-6);
    CHECK(!r.ok && r.checked == 3 && r.worst_index == 1 && isinf(r.worst_rel));
    r = gradcheck(g, s, &xv, 0, 1e-6, 1e-6);
    CHECK(!r.ok && r.checked == 0);
    graph_free(g);
}

int main(void)
{
    for (int a = 0; a < ACT_COUNT; a++)
        for (int hidden = 1; hidden <= 3; hidden++)
            for (int trick = 0; trick <= 1; trick++) {
                config((act_kind)a, hidden, trick, 1);
                config((act_kind)a, hidden, trick, 8);
            }
    sgd_steps(1);
    sgd_steps(8);
    dropout();
    nonfinite();
    gradcheck_nonfinite();
    printf("largest relative difference fast vs graph: %.3g\n", worst_seen);
    return check_report("test_crosscheck");
}
