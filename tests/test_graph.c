/* test_graph.c — the tape: accumulation, repeat sweeps, determinism,
 * mark/rewind, deep chains, Jacobians, programmer-error stops, and the
 * random streams. */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "check_stops.h"
#include "gradcheck.h"
#include "ops.h"
#include "rng.h"
#include "tape.h"

/* A small two-layer network on the tape; returns its loss. */
static node tiny_net(graph *g, node W, node b, node V, node c)
{
    double xv[6] = {0.3, -1.2, 0.8, 2.0, -0.4, 0.1}, tv[4] = {1, 0, 0, 1};
    node x = graph_leaf(g, 2, 3, xv), t = graph_leaf(g, 2, 2, tv);
    node h = op_tanh(g, op_add_row(g, op_matmul(g, x, W), b));
    return op_softmax_ce(g, op_add_row(g, op_matmul(g, h, V), c), t);
}

/* Runs fn in a child and checks that it stops by abort() with a message
 * containing want on stderr. */
static void check_stops(void (*fn)(void), const char *want)
{
    check_stops_in(fn, want, "ops.c:", "graph.c:");
}

static void bad_matmul(void)
{
    graph *g = graph_new();
    op_matmul(g, graph_leaf(g, 2, 3, NULL), graph_leaf(g, 2, 3, NULL));
}
static void bad_add(void)
{
    graph *g = graph_new();
    op_add(g, graph_leaf(g, 2, 3, NULL), graph_leaf(g, 3, 2, NULL));
}
static void bad_backward(void)
{
    graph *g = graph_new();
    graph_backward(g, op_exp(g, graph_leaf(g, 1, 4, NULL)));
}

int main(void)
{
    /* every op has its printed name (the table is indexed by op_kind) */
    for (unsigned k = 0; k < OP_COUNT; k++) CHECK(strcmp(tape_op_name(k), "?") != 0);
    CHECK(strcmp(tape_op_name(OP_COUNT), "?") == 0);

    /* a node used twice accumulates: b = a + a, c = a·a → db/da = 2, dc/da = 2a */
    graph *g = graph_new();
    node a = graph_scalar(g, 3.0);
    node b = op_add(g, a, a);
    graph_backward(g, b);
    CHECK_NEAR(graph_grad_get(g, a, 0), 2.0, 0);
    graph_zero_grad(g);
    graph_backward(g, op_mul(g, a, a));
    CHECK_NEAR(graph_grad_get(g, a, 0), 6.0, 0);
    /* leaves accumulate across sweeps until zeroed; inner nodes do not */
    node e = op_exp(g, a), f = op_scale(g, e, 2.0);
    graph_zero_grad(g);
    graph_backward(g, f);
    graph_backward(g, f);
    CHECK_NEAR(graph_grad_get(g, a, 0), 4.0 * exp(3.0), 1e-12);
    CHECK_NEAR(graph_grad_get(g, e, 0), 2.0, 0);
    graph_free(g);

    /* the lesson-01 example: a=2, b=−3, c=10, e=a·b, d=e+c, f=−2, L=d·f */
    g = graph_new();
    node la = graph_scalar(g, 2), lb = graph_scalar(g, -3), lc = graph_scalar(g, 10), lf = graph_scalar(g, -2);
    node le = op_mul(g, la, lb), ld = op_add(g, le, lc), L = op_mul(g, ld, lf);
    graph_backward(g, L);
    CHECK_NEAR(graph_get(g, L, 0), -8.0, 0);
    CHECK_NEAR(graph_grad_get(g, la, 0), 6.0, 0);
    CHECK_NEAR(graph_grad_get(g, lb, 0), -4.0, 0);
    CHECK_NEAR(graph_grad_get(g, lc, 0), -2.0, 0);
    CHECK_NEAR(graph_grad_get(g, lf, 0), 4.0, 0);
    CHECK_NEAR(graph_grad_get(g, ld, 0), -2.0, 0);
    graph_free(g);

    /* zero, sweep again: the same bits; two fresh tapes: the same bits */
    double Wv[6] = {0.1, -0.2, 0.3, 0.4, 0.5, -0.6}, Vv[4] = {0.7, -0.8, 0.9, 1.0};
    double grads[2][2][6];
    for (int run = 0; run < 2; run++) {
        g = graph_new();
        node W = graph_leaf(g, 3, 2, Wv), bb = graph_leaf(g, 1, 2, NULL);
        node V = graph_leaf(g, 2, 2, Vv), c = graph_leaf(g, 1, 2, NULL);
        node loss = tiny_net(g, W, bb, V, c);
        for (int sweep = 0; sweep < 2; sweep++) {
            graph_zero_grad(g);
            graph_backward(g, loss);
            memcpy(grads[run][sweep], graph_grad(g, W), sizeof grads[run][sweep]);
        }
        node leaves[4] = {W, bb, V, c};
        gradcheck_report r = gradcheck(g, loss, leaves, 4, 1e-6, 1e-6);
        CHECK(r.ok);
        CHECK(r.checked == 6 + 2 + 4 + 2);
        graph_free(g);
    }
    CHECK(memcmp(grads[0][0], grads[0][1], sizeof grads[0][0]) == 0);
    CHECK(memcmp(grads[0][0], grads[1][0], sizeof grads[0][0]) == 0);

    /* a gradient check that must fail: a wrong gradient is caught */
    g = graph_new();
    node x = graph_scalar(g, 0.3);
    node y = op_relu(g, op_scale(g, x, -1.0));     /* flat at 0.3: gradient 0 */
    node z = op_add(g, y, op_pow(g, x, 2.0));
    gradcheck_report ok = gradcheck(g, z, &x, 1, 1e-6, 1e-6);
    CHECK(ok.ok);
    graph_val(g, x)[0] = 1e-9;   /* at the ReLU kink finite differences lie */
    graph_forward(g);
    gradcheck_report bad = gradcheck(g, z, &x, 1, 1e-6, 1e-6);
    CHECK(!bad.ok && bad.worst_index == 0 && bad.worst_rel > 0.1);
    graph_free(g);

    /* the Jacobian of softmax by sweeps equals y_i(δ_ij − y_j), and the
     * finite-difference Jacobian agrees */
    g = graph_new();
    double ov[4] = {0.5, -1.0, 2.0, 0.25};
    node o = graph_leaf(g, 1, 4, ov);
    node ys = op_softmax_composite(g, o);
    double J[16], Jf[16];
    gradcheck_jacobian(g, ys, o, J);
    gradcheck_jacobian_fd(g, ys, o, 1e-6, Jf);
    double worst = 0, worst_fd = 0;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            double yi = graph_get(g, ys, i), yj = graph_get(g, ys, j);
            worst = fmax(worst, fabs(J[i * 4 + j] - yi * ((i == j) - yj)));
            worst_fd = fmax(worst_fd, fabs(Jf[i * 4 + j] - J[i * 4 + j]));
        }
    CHECK(worst < 1e-15);
    CHECK(worst_fd < 1e-9);
    graph_free(g);

    /* mark/rewind: 10⁴ training steps allocate nothing once warm */
    g = graph_new();
    node W = graph_leaf(g, 3, 2, Wv), bb = graph_leaf(g, 1, 2, NULL);
    node V = graph_leaf(g, 2, 2, Vv), c = graph_leaf(g, 1, 2, NULL);
    graph_mark_t m = graph_mark(g);
    size_t bytes0 = 0, nodes0 = 0;
    double first = 0, last = 0;
    for (int step = 0; step < 10000; step++) {
        node loss = tiny_net(g, W, bb, V, c);
        if (step == 0) first = graph_get(g, loss, 0);
        last = graph_get(g, loss, 0);
        graph_zero_grad(g);
        graph_backward(g, loss);
        node ps[4] = {W, bb, V, c};
        for (int p = 0; p < 4; p++)
            for (int k = 0; k < graph_size(g, ps[p]); k++)
                graph_val(g, ps[p])[k] -= 0.1 * graph_grad(g, ps[p])[k];
        if (step == 0) { bytes0 = graph_bytes(g); nodes0 = graph_count(g); }
        graph_rewind(g, m);
    }
    CHECK(graph_bytes(g) == bytes0);
    CHECK(graph_count(g) == 4 && nodes0 > 4);
    CHECK(last < 0.01 * first);          /* and it learned */
    graph_free(g);

    /* a chain of 10⁷ nodes builds and sweeps: y = x·1.0000001 … 10⁷ times */
    g = graph_new();
    x = graph_scalar(g, 1.0);
    node v = x;
    for (int i = 0; i < 10000000 - 1; i++) v = op_scale(g, v, 1.0000001);
    CHECK(graph_count(g) == 10000000);
    graph_backward(g, v);
    CHECK_NEAR(graph_grad_get(g, x, 0), pow(1.0000001, 1e7 - 1), 1e-6);
    CHECK_NEAR(graph_get(g, v, 0), graph_grad_get(g, x, 0), 1e-9);
    graph_free(g);

    /* programmer errors stop with file:line and both shapes */
    check_stops(bad_matmul, "op_matmul: shapes 2x3 and 2x3");
    check_stops(bad_add, "op_add: shapes 2x3 and 3x2 do not broadcast");
    check_stops(bad_backward, "the loss must be 1x1, got 1x4");
    graph_free(NULL);

    /* numpy's legacy stream: np.random.seed(0); np.random.randn(4) */
    mt19937 mt;
    mt_seed(&mt, 0);
    double n0 = mt_normal(&mt), n1 = mt_normal(&mt), n2 = mt_normal(&mt), n3 = mt_normal(&mt);
    CHECK(n0 == 1.764052345967664);
    CHECK(n1 == 0.4001572083672233);
    CHECK(n2 == 0.9787379841057392);
    CHECK(n3 == 2.240893199201458);
    mt_seed(&mt, 0);
    CHECK(mt_double(&mt) == 0.5488135039273248);    /* np.random.rand() */

    /* the house generator: same seed, same stream; shuffle is a permutation */
    rng r1, r2;
    rng_seed(&r1, 42);
    rng_seed(&r2, 42);
    int same = 1;
    for (int i = 0; i < 1000; i++) same &= rng_next(&r1) == rng_next(&r2);
    CHECK(same);
    double sum = 0, sq = 0;
    for (int i = 0; i < 100000; i++) { double u = rng_normal(&r1); sum += u; sq += u * u; }
    CHECK(fabs(sum / 1e5) < 0.02 && fabs(sq / 1e5 - 1) < 0.02);
    uint32_t idx[100], seen[100] = {0};
    for (uint32_t i = 0; i < 100; i++) idx[i] = i;
    rng_shuffle(&r1, idx, 100);
    int moved = 0;
    for (uint32_t i = 0; i < 100; i++) { seen[idx[i]]++; moved += idx[i] != i; }
    int perm = 1;
    for (int i = 0; i < 100; i++) perm &= seen[i] == 1;
    CHECK(perm && moved > 50);
    int in_range = 1, hit[7] = {0};
    for (int i = 0; i < 7000; i++) { uint32_t k = rng_below(&r1, 7); in_range &= k < 7; if (k < 7) hit[k]++; }
    CHECK(in_range);
    for (int k = 0; k < 7; k++) CHECK(hit[k] > 800 && hit[k] < 1200);
    /* rng_keep_*: the draws and answers of the rng_uniform(r) < p loop,
     * at the edges of p too, and the generator left where that loop leaves it */
    {
        const double ps[] = {0.5, 0.9, 0.25, 1.0, 0.0, -1.0, NAN, 1e-300, 0x1.fffffffffffffp-1, 0x1.0000000000001p-53,
                             1.0 / 3.0};
        enum { NK = 1001 };
        uint8_t u8[NK];
        float f32[NK];
        for (size_t q = 0; q < sizeof ps / sizeof *ps; q++) {
            rng ra, rb, rc;
            rng_seed(&ra, 7 + q); rng_seed(&rb, 7 + q); rng_seed(&rc, 7 + q);
            rng_keep_u8(&rb, u8, NK, ps[q]);
            rng_keep_f32(&rc, f32, NK, ps[q], 2.5f);
            int eq8 = 1, eqf = 1, kept = 0;
            for (int i = 0; i < NK; i++) {
                int k = rng_uniform(&ra) < ps[q];
                kept += k;
                eq8 &= u8[i] == k;
                float w = k ? 2.5f : 0.0f;
                eqf &= memcmp(&w, &f32[i], sizeof w) == 0;
            }
            uint64_t na = rng_next(&ra);
            CHECK(eq8 && eqf);
            CHECK(rng_next(&rb) == na && rng_next(&rc) == na);
            if (ps[q] == 0.5) CHECK(kept > 430 && kept < 570);
        }
        /* draws one below and one above p·2^53 = 3002399751580330.67 (p = 1/3),
         * made by setting the state so that the next output is a << 11
         * (the output depends on s[1] only: rotl(s[1]·5, 7)·9) */
        uint64_t inv5 = 5, inv9 = 9;
        for (int it = 0; it < 6; it++) { inv5 *= 2 - 5 * inv5; inv9 *= 2 - 9 * inv9; }   /* Newton, mod 2^64 */
        double third = 1.0 / 3.0;
        for (int up = 0; up < 2; up++) {
            uint64_t a53 = (uint64_t)floor(third * 0x1.0p53) + (uint64_t)up, yo = (a53 << 11) * inv9;
            rng rk = {{1, ((yo >> 7) | (yo << 57)) * inv5, 2, 3}}, ru = rk;
            rng_keep_u8(&rk, u8, 1, third);
            int want = rng_uniform(&ru) < third;
            CHECK(want == !up);
            CHECK(u8[0] == want);
        }
    }

    return check_report("test_graph");
}
