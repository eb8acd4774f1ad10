/* scalar_graph.c — how fast is the tape on scalar nodes? One line per
 * workload of key=value fields:
 *   (a) micrograd's demo: MLP 2→16→16→1 (ReLU) over 100 points, hinge loss
 *       + 1e-4·Σw², one forward + backward, every number a scalar node;
 *   (b) a 784→32→10 MLP on one sample, every weight a scalar node;
 *   (c) bytes per scalar node on a long chain.
 * Times are medians over --reps runs on one core. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "cli.h"
#include "dot.h"
#include "ops.h"
#include "rng.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    int nin, nout;
    node *w, *b;         /* w[o * nin + i], b[o] */
} layer;

static layer layer_new(graph *g, rng *r, int nin, int nout)
{
    layer L = {nin, nout, malloc(sizeof(node) * (size_t)(nin * nout)), malloc(sizeof(node) * (size_t)nout)};
    if (!L.w || !L.b) cli_fail("out of memory");
    for (int k = 0; k < nin * nout; k++) L.w[k] = graph_scalar(g, rng_range(r, -1, 1));
    for (int o = 0; o < nout; o++) L.b[o] = graph_scalar(g, 0.0);
    return L;
}

/* out_o = act(b_o + Σ_i w_oi · x_i), one scalar node per product and sum */
static void layer_forward(graph *g, const layer *L, const node *x, node *out, int relu)
{
    for (int o = 0; o < L->nout; o++) {
        node s = L->b[o];
        for (int i = 0; i < L->nin; i++) s = op_add(g, s, op_mul(g, L->w[o * L->nin + i], x[i]));
        out[o] = relu ? op_relu(g, s) : s;
    }
}

static void layer_free(layer *L) { free(L->w); free(L->b); }

/* Runs build+backward reps times from the mark; returns the median seconds. */
typedef node (*workload)(graph *g, void *ctx);

static double measure(graph *g, workload w, void *ctx, int reps, size_t *nodes)
{
    double *t = malloc(sizeof(double) * (size_t)reps);
    if (!t) cli_fail("out of memory");
    graph_mark_t m = graph_mark(g);
    for (int k = -1; k < reps; k++) {         /* k = −1 warms the arena */
        double t0 = now();
        node loss = w(g, ctx);
        graph_backward(g, loss);
        double t1 = now();
        if (k >= 0) t[k] = t1 - t0;
        *nodes = graph_count(g) - m.nodes;
        graph_zero_grad(g);
        graph_rewind(g, m);
    }
    qsort(t, (size_t)reps, sizeof *t, cmp);
    double med = t[reps / 2];
    free(t);
    return med;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* graph_dot of the tape built by w, median CPU milliseconds over reps runs
 * (CPU time: on a shared machine wall time is mostly waiting), written to
 * /dev/null (the cost is formatting, not the disk): with the default
 * limit (a summary) and with every node drawn. */
static void dot_time(graph *g, workload w, void *ctx, int reps)
{
    FILE *f = fopen("/dev/null", "w");
    if (!f) cli_fail("/dev/null: cannot open");
    double *t = malloc(sizeof(double) * (size_t)reps * 2);
    if (!t) cli_fail("out of memory");
    graph_mark_t m = graph_mark(g);
    graph_backward(g, w(g, ctx));
    int kind[2] = {0, 0};
    for (int full = 0; full < 2; full++) {
        graph_dot_opts o = {.max_nodes = full ? 1 << 30 : 0};
        for (int k = 0; k < reps; k++) {
            double t0 = cpu_now();
            kind[full] = graph_dot(g, f, &o);
            t[full * reps + k] = cpu_now() - t0;
        }
        qsort(t + full * reps, (size_t)reps, sizeof *t, cmp);
    }
    if (kind[0] == GRAPH_DOT_WRITE_ERROR || kind[1] == GRAPH_DOT_WRITE_ERROR) cli_fail("/dev/null: write failed");
    printf("workload=dot_micrograd_mlp nodes=%zu summary=%s summary_cpu_ms=%.3f full_cpu_ms=%.3f\n",
           graph_count(g) - m.nodes, kind[0] == GRAPH_DOT_SUMMARY ? "yes" : "no",
           1e3 * t[reps / 2], 1e3 * t[reps + reps / 2]);
    free(t);
    fclose(f);
    graph_zero_grad(g);
    graph_rewind(g, m);
}

typedef struct {
    layer l1, l2, l3;
    double x[100][2];
    double y[100];
} moons;

static node micrograd(graph *g, void *ctx)
{
    moons *d = ctx;
    node total = graph_scalar(g, 0.0), one = graph_scalar(g, 1.0);
    for (int p = 0; p < 100; p++) {
        node in[2] = {graph_scalar(g, d->x[p][0]), graph_scalar(g, d->x[p][1])}, h1[16], h2[16], s;
        layer_forward(g, &d->l1, in, h1, 1);
        layer_forward(g, &d->l2, h1, h2, 1);
        layer_forward(g, &d->l3, h2, &s, 0);
        // hinge: relu(1 − y·score)
        node m = op_relu(g, op_sub(g, one, op_mul(g, graph_scalar(g, d->y[p]), s)));
        total = op_add(g, total, m);
    }
    node data_loss = op_scale(g, total, 1.0 / 100);
    node reg = graph_scalar(g, 0.0);
    layer *ls[3] = {&d->l1, &d->l2, &d->l3};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < ls[k]->nin * ls[k]->nout; i++)
            reg = op_add(g, reg, op_mul(g, ls[k]->w[i], ls[k]->w[i]));
    return op_add(g, data_loss, op_scale(g, reg, 1e-4));
}

typedef struct { layer l1, l2; double x[784]; } mnist_one;

static node mlp784(graph *g, void *ctx)
{
    mnist_one *d = ctx;
    node in[784], h[32], o[10];
    for (int i = 0; i < 784; i++) in[i] = graph_scalar(g, d->x[i]);
    layer_forward(g, &d->l1, in, h, 1);
    layer_forward(g, &d->l2, h, o, 0);
    /* softmax + CE over the 10 scalar logits, from scalar nodes */
    node sum = op_exp(g, o[0]);
    for (int k = 1; k < 10; k++) sum = op_add(g, sum, op_exp(g, o[k]));
    node loss = op_sub(g, op_log(g, sum), o[3]);
    return loss;
}

int main(int argc, char **argv)
{
    int reps = 21;
    cli_opt opts[] = {{"--reps", CLI_INT, &reps, "N", "runs per workload; the median is reported (default 21)"}, {0}};
    cli_no_positional(cli_parse(argc, argv, "scalar_graph — nodes per second of the tape on scalar nodes.", opts),
                      argc, argv);
    if (reps < 1) cli_fail("--reps: must be at least 1");
    rng r;
    rng_seed(&r, 1);

    graph *g = graph_new();
    if (!g) cli_fail("out of memory");
    moons d;
    d.l1 = layer_new(g, &r, 2, 16);
    d.l2 = layer_new(g, &r, 16, 16);
    d.l3 = layer_new(g, &r, 16, 1);
    for (int p = 0; p < 100; p++) {
        d.x[p][0] = rng_normal(&r);
        d.x[p][1] = rng_normal(&r);
        d.y[p] = d.x[p][0] * d.x[p][1] > 0 ? 1.0 : -1.0;
    }
    size_t n = 0;
    double t = measure(g, micrograd, &d, reps, &n);
    printf("workload=micrograd_mlp_2_16_16_1 nodes=%zu seconds=%.6f ns_per_node=%.2f nodes_per_s=%.4g\n",
           n, t, 1e9 * t / n, n / t);
    dot_time(g, micrograd, &d, reps < 5 ? reps : 5);
    layer_free(&d.l1); layer_free(&d.l2); layer_free(&d.l3);
    graph_free(g);

    g = graph_new();
    if (!g) cli_fail("out of memory");
    mnist_one *m = malloc(sizeof *m);
    if (!m) cli_fail("out of memory");
    m->l1 = layer_new(g, &r, 784, 32);
    m->l2 = layer_new(g, &r, 32, 10);
    for (int i = 0; i < 784; i++) m->x[i] = rng_uniform(&r) < 0.2 ? rng_uniform(&r) : 0.0;
    t = measure(g, mlp784, m, reps, &n);
    printf("workload=mlp_784_32_10_one_sample nodes=%zu seconds=%.6f ns_per_node=%.2f nodes_per_s=%.4g\n",
           n, t, 1e9 * t / n, n / t);
    layer_free(&m->l1); layer_free(&m->l2);
    free(m);
    graph_free(g);

    /* bytes per node: a chain of 2^20 scalar nodes, all arena bytes counted */
    g = graph_new();
    if (!g) cli_fail("out of memory");
    node v = graph_scalar(g, 1.0);
    for (int i = 1; i < (1 << 20); i++) v = op_scale(g, v, 1.0);
    printf("workload=bytes_per_scalar_node nodes=%zu bytes_per_node=%.1f\n",
           graph_count(g), (double)graph_bytes(g) / graph_count(g));
    graph_free(g);
    return 0;
}
