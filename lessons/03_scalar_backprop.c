/* 03_scalar_backprop.c — the hand-computed 0.693: a 2-3-2 network with
 * every weight its own scalar node, its gradients from the engine, and the
 * δ recursion written out the way a student does it on paper, side by side
 * with the engine and with finite differences. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "gradcheck.h"
#include "ops.h"
#include "print.h"
#include "rng.h"
#include "tapeview.h"

enum { I = 2, H = 3, K = 2 };   /* inputs, hidden units, classes */

typedef struct {
    double x[I], W[I][H], b[H], V[H][K], c[K];
    int target;
} example;

typedef struct {
    node x[I], W[I][H], b[H], V[H][K], c[K];
    node k1[H], h[H], k2[K], y[K], loss;
} net;

/* k1 = xW + b, h = σ(k1), k2 = hV + c, y = softmax(k2), loss = −log y_t,
 * one scalar node per number. */
static void build(graph *g, const example *ex, net *n)
{
    for (int i = 0; i < I; i++) n->x[i] = graph_scalar(g, ex->x[i]);
    for (int i = 0; i < I; i++)
        for (int j = 0; j < H; j++) n->W[i][j] = graph_scalar(g, ex->W[i][j]);
    for (int j = 0; j < H; j++) n->b[j] = graph_scalar(g, ex->b[j]);
    for (int i = 0; i < H; i++)
        for (int j = 0; j < K; j++) n->V[i][j] = graph_scalar(g, ex->V[i][j]);
    for (int j = 0; j < K; j++) n->c[j] = graph_scalar(g, ex->c[j]);

    for (int j = 0; j < H; j++) {          // k1_j = b_j + Σ_i x_i W_ij
        node s = n->b[j];
        for (int i = 0; i < I; i++) s = op_add(g, s, op_mul(g, n->x[i], n->W[i][j]));
        n->k1[j] = s;
        n->h[j] = op_sigmoid(g, s);        // h_j = σ(k1_j)
    }
    for (int j = 0; j < K; j++) {          // k2_j = c_j + Σ_i h_i V_ij
        node s = n->c[j];
        for (int i = 0; i < H; i++) s = op_add(g, s, op_mul(g, n->h[i], n->V[i][j]));
        n->k2[j] = s;
    }
    node e[K], sum;                        // y_j = e^{k2_j} / Σ_k e^{k2_k}
    for (int j = 0; j < K; j++) e[j] = op_exp(g, n->k2[j]);
    sum = e[0];
    for (int j = 1; j < K; j++) sum = op_add(g, sum, e[j]);
    for (int j = 0; j < K; j++) n->y[j] = op_div(g, e[j], sum);
    n->loss = op_neg(g, op_log(g, n->y[ex->target]));   // loss = −log y_t
}

/* ---- the tape shown: names, --trace / --step, the picture (tapeview.h) --- */

static int trace_on, step_on;                /* --trace, --step */
static char drawn_path[512];                 /* the picture of example 1, once written */

static void name_one(graph *g, node n, const char *fmt, int i, int j)
{
    char buf[32];
    snprintf(buf, sizeof buf, fmt, i, j);
    if (graph_name(g, n, buf) != 0) cli_fail("out of memory");
}

static void name_nodes(graph *g, const net *n)
{
    for (int i = 0; i < I; i++) name_one(g, n->x[i], "x%d", i, 0);
    for (int i = 0; i < I; i++) for (int j = 0; j < H; j++) name_one(g, n->W[i][j], "W%d%d", i, j);
    for (int j = 0; j < H; j++) name_one(g, n->b[j], "b%d", j, 0);
    for (int i = 0; i < H; i++) for (int j = 0; j < K; j++) name_one(g, n->V[i][j], "V%d%d", i, j);
    for (int j = 0; j < K; j++) name_one(g, n->c[j], "c%d", j, 0);
    for (int j = 0; j < H; j++) name_one(g, n->k1[j], "k1_%d", j, 0);
    for (int j = 0; j < H; j++) name_one(g, n->h[j], "h%d", j, 0);
    for (int j = 0; j < K; j++) name_one(g, n->k2[j], "k2_%d", j, 0);
    for (int j = 0; j < K; j++) name_one(g, n->y[j], "y%d", j, 0);
    name_one(g, n->loss, "loss", 0, 0);
}

/* The sweep of one example, traced when asked; the first example's tape
 * is also written as a picture. */
static void backward(graph *g, const net *n, const char *title)
{
    name_nodes(g, n);
    if (trace_on) printf("the backward sweep of %s, one node at a time, from the loss down:\n", title);
    tapeview_backward(g, n->loss, trace_on, step_on);
    if (trace_on) printf("\n");
    if (!drawn_path[0])
        snprintf(drawn_path, sizeof drawn_path, "%s",
                 tapeview_dot(g, "03_scalar_backprop_graph.dot", "the 2-3-2 network of example 1, every weight a scalar node"));
}

static void vals(const graph *g, const node *v, int n, int grad, double *out)
{
    for (int i = 0; i < n; i++) out[i] = grad ? graph_grad_get(g, v[i], 0) : graph_get(g, v[i], 0);
}

/* The label padded to 6 columns, counting characters, not UTF-8 bytes. */
static void label6(const char *label)
{
    int w = 0;
    for (const char *p = label; *p; p++) w += ((unsigned char)*p & 0xC0) != 0x80;
    printf("%s%*s ", label, w < 6 ? 6 - w : 0, "");
}

static void row(const char *label, const double *v, int n)
{
    label6(label);
    print_vec(stdout, v, n);
    putchar('\n');
}

static void mat(const char *label, const double *m, int r, int c)
{
    label6(label);
    print_mat(stdout, m, r, c);
    putchar('\n');
}

static double maxdiff(const double *a, const double *b, int n)
{
    double w = 0;
    for (int i = 0; i < n; i++) w = fmax(w, fabs(a[i] - b[i]));
    return w;
}

/* Runs one example: the table, then the δ recursion beside the engine. */
static double lesson(const example *ex, const char *title)
{
    graph *g = graph_new();
    if (!g) cli_fail("out of memory");
    net n;
    build(g, ex, &n);
    backward(g, &n, title);

    double k1[H], h[H], k2[K], y[K], dW[I * H], db[H], dV[H * K], dc[K];
    vals(g, n.k1, H, 0, k1);
    vals(g, n.h, H, 0, h);
    vals(g, n.k2, K, 0, k2);
    vals(g, n.y, K, 0, y);
    vals(g, &n.W[0][0], I * H, 1, dW);
    vals(g, n.b, H, 1, db);
    vals(g, &n.V[0][0], H * K, 1, dV);
    vals(g, n.c, K, 1, dc);

    printf("%s\n", title);
    row("x", ex->x, I);
    mat("W", &ex->W[0][0], I, H);
    row("b", ex->b, H);
    mat("V", &ex->V[0][0], H, K);
    row("c", ex->c, K);
    printf("target class %d\n\n", ex->target);
    row("k1", k1, H);
    row("h", h, H);
    row("k2", k2, K);
    row("y", y, K);
    label6("loss");
    print_num(stdout, graph_get(g, n.loss, 0));
    putchar('\n');
    mat("dW", dW, I, H);
    row("db", db, H);
    mat("dV", dV, H, K);
    row("dc", dc, K);

    /* The δ recursion, in plain C on the forward values. */
    double d_out[K], dV_hand[H * K], dh[H], d_hid[H], dW_hand[I * H];
    for (int j = 0; j < K; j++) d_out[j] = y[j] - (j == ex->target);   // δ_out = y − t
    for (int i = 0; i < H; i++)
        for (int j = 0; j < K; j++) dV_hand[i * K + j] = h[i] * d_out[j];     // dV_ij = h_i δ_j
    for (int i = 0; i < H; i++) {                                        // dh_i = Σ_j V_ij δ_j
        dh[i] = 0;
        for (int j = 0; j < K; j++) dh[i] += ex->V[i][j] * d_out[j];
        d_hid[i] = dh[i] * h[i] * (1 - h[i]);                            // δ_hid = dh ⊙ h(1 − h)
    }
    for (int i = 0; i < I; i++)
        for (int j = 0; j < H; j++) dW_hand[i * H + j] = ex->x[i] * d_hid[j]; // dW_ij = x_i δ_hid_j

    printf("\nthe δ recursion by hand, beside the engine:\n");
    row("δ_out", d_out, K);
    printf("        = y − t: dL/dk2 for softmax + cross-entropy\n");
    mat("h δᵀ", dV_hand, H, K);
    printf("        engine dV, largest difference %.1e\n", maxdiff(dV_hand, dV, H * K));
    row("dc = δ_out", d_out, K);
    printf("        engine dc, largest difference %.1e\n", maxdiff(d_out, dc, K));
    row("dh", dh, H);
    printf("        = V δ_out: the error sent back through V\n");
    row("δ_hid", d_hid, H);
    printf("        = dh ⊙ h(1 − h): the sigmoid′ term; engine db, largest difference %.1e\n",
           maxdiff(d_hid, db, H));
    mat("x δᵀ", dW_hand, I, H);
    printf("        engine dW, largest difference %.1e\n", maxdiff(dW_hand, dW, I * H));

    /* and the engine against central differences on every weight */
    node leaves[I * H + H + H * K + K];
    int nl = 0;
    for (int i = 0; i < I; i++) for (int j = 0; j < H; j++) leaves[nl++] = n.W[i][j];
    for (int j = 0; j < H; j++) leaves[nl++] = n.b[j];
    for (int i = 0; i < H; i++) for (int j = 0; j < K; j++) leaves[nl++] = n.V[i][j];
    for (int j = 0; j < K; j++) leaves[nl++] = n.c[j];
    gradcheck_report r = gradcheck(g, n.loss, leaves, nl, 1e-6, 1e-6);
    printf("\nfinite differences (ε = 1e-6) on all %d weights: %s, worst relative error %.1e\n",
           r.checked, r.ok ? "agree" : "DISAGREE", r.worst_rel);
    double worst = fmax(fmax(maxdiff(dV_hand, dV, H * K), maxdiff(d_out, dc, K)),
                        fmax(maxdiff(d_hid, db, H), maxdiff(dW_hand, dW, I * H)));
    graph_free(g);
    printf("\n");
    return r.ok ? worst : INFINITY;
}

int main(int argc, char **argv)
{
    int quick = 0, seed = 3;
    cli_opt opts[] = {
        {"--seed", CLI_INT, &seed, "N", "seed of the second example's random weights (default 3)"},
        {"--quick", CLI_FLAG, &quick, NULL, "accepted for symmetry; this lesson is instant"},
        {"--trace", CLI_FLAG, &trace_on, NULL, "print each backward sweep one node at a time"},
        {"--step", CLI_FLAG, &step_on, NULL, "--trace, waiting for Enter after each node (on a terminal)"},
        {0}};
    cli_no_positional(cli_parse(argc, argv,
        "03 scalar backprop — the hand-computed 0.693, then the δ recursion beside the engine.",
        opts), argc, argv);
    trace_on |= step_on;

    printf("03 scalar backprop — the hand-computed 0.693\n\n");
    printf("The classic exercise: x = (1, -1) through a 2-3-2 network with sigmoid hidden\n"
           "units and a softmax output, loss = -log y_0. Every weight is its own scalar\n"
           "node. With these symmetric weights both outputs get the same logit, so y is\n"
           "(0.5, 0.5), the loss is log 2, and dW is exactly zero (the two hidden-to-\n"
           "output paths cancel). A second example with random weights shows dW ≠ 0.\n\n");

    example a = {
        .x = {1, -1},
        .W = {{1, 1, 1}, {-1, -1, -1}},
        .b = {0, 0, 0},
        .V = {{1, 1}, {-1, -1}, {-1, -1}},
        .c = {0, 0},
        .target = 0,
    };
    double w1 = lesson(&a, "example 1: the course's numbers");

    /* example 2: weights N(0, 1) and biases N(0, 0.5²) from the seed */
    example b2 = {.x = {0.5, -1.5}, .target = 1};
    rng r;
    rng_seed(&r, (uint64_t)seed);
    for (int i = 0; i < I; i++) for (int j = 0; j < H; j++) b2.W[i][j] = rng_normal(&r);
    for (int j = 0; j < H; j++) b2.b[j] = 0.5 * rng_normal(&r);
    for (int i = 0; i < H; i++) for (int j = 0; j < K; j++) b2.V[i][j] = rng_normal(&r);
    for (int j = 0; j < K; j++) b2.c[j] = 0.5 * rng_normal(&r);
    char title[80];
    snprintf(title, sizeof title, "example 2: random weights (seed %d), target class 1", seed);
    double w2 = lesson(&b2, title);

    printf("wrote %s (example 1's tape as a picture: make plots)\n\n", drawn_path);
    printf("summary: largest |hand − engine| over both examples %.1e; finite differences %s.\n",
           fmax(w1, w2), isfinite(w1) && isfinite(w2) ? "agree" : "DISAGREE");
    printf("Check your own derivation of these gradients with build/verify "
           "lessons/verify/derivations/03_scalar_backprop.txt.\n");
    return isfinite(w1) && isfinite(w2) ? 0 : 1;
}
