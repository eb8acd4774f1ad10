/* test_crosscheck.c — the fast path against the graph: from the same
 * weights and batch, every gradient within 1e-4 (relative to the tensor's
 * largest gradient) for every activation, 1/2/3 hidden layers, with and
 * without the bias trick; per-sample SGD and minibatch steps give the
 * graph's loss; a dropout forward too. */
#include <stdlib.h>
#include "check.h"
#include "mlp.h"
#include "mlp_graph.h"

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
    printf("largest relative difference fast vs graph: %.3g\n", worst_seen);
    return check_report("test_crosscheck");
}
