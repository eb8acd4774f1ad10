/* test_gradcheck_fd.c — the self-check of models/gradcheck_fd: on a small
 * 785-8-10 network of each activation and a few made-up images the check
 * passes; a wrong analytic gradient cannot hide (a NaN input fails it), and
 * the count covers every weight. */
#include <math.h>
#include <stdlib.h>
#include "check.h"
#include "gradcheck_fd.h"
#include "rng.h"

static mlp *net(act_kind act, uint64_t seed)
{
    mlp_config c = {.n_layers = 2, .sizes = {784, 8, 10}, .act = act, .bias_trick = 1,
                    .init = {INIT_NORMAL, 0.05, 0}, .seed = seed};
    return mlp_new(&c);
}

int main(void)
{
    enum { N = 5 };
    static float x[N * 784];
    uint8_t y[N];
    rng r;
    rng_seed(&r, 3);
    for (int i = 0; i < N * 784; i++) x[i] = rng_below(&r, 4) == 0 ? (float)rng_range(&r, 0, 2) : -0.5f;
    for (int b = 0; b < N; b++) y[b] = (uint8_t)rng_below(&r, 10);

    const act_kind acts[2] = {ACT_SIGMOID, ACT_STANH};
    for (int k = 0; k < 2; k++) {
        mlp *m = net(acts[k], 7);
        CHECK(m != NULL);
        gcheck g;
        CHECK(gradcheck_fd(&g, m, x, y, N, 1e-3, -0.5, 1) == 0);
        CHECK(g.weights == 785 * 8 + 8 * 10);
        CHECK(g.ok);
        CHECK(g.worst <= 1e-6);
        CHECK(g.shortcut <= 1e-12);
        CHECK(g.vs_fast < 1e-4);
        CHECK(isfinite(g.loss) && g.loss > 0);
        mlp_free(m);
    }
    /* A non-finite input is never agreement. */
    x[3] = NAN;
    mlp *m = net(ACT_SIGMOID, 7);
    gcheck g;
    CHECK(gradcheck_fd(&g, m, x, y, N, 1e-3, -0.5, 1) == 0);
    CHECK(!g.ok);
    mlp_free(m);
    return check_report("test_gradcheck_fd");
}
