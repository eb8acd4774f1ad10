/* 04_synthetic.c — lesson 04: the course's synthetic data, learned by the
 * 2-3-2 network of lesson 03 with per-sample SGD on the scalar graph.
 *
 * The parameters are graph leaves made once; each step marks the tape,
 * builds the forward pass for one sample, sweeps backward, updates the
 * leaf values and rewinds — the tape never grows, nothing is allocated.
 * Writes build/data/04_synthetic_{curve,grid,points}.dat for
 * plots/04_synthetic.gp.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lesson.h"
#include "say.h"
#include "graph.h"
#include "ops.h"
#include "print.h"
#include "rng.h"
#include "synth.h"

#define H 3                  /* hidden units */

typedef struct {
    graph *g;
    node x, t;               /* this sample: input (1, 2), one-hot target (1, 2) */
    node W1, b1, W2, b2;     /* W1 (2, 3), b1 (1, 3), W2 (3, 2), b2 (1, 2) */
    graph_mark_t mark;       /* everything above it is one step's activations */
} net;

/* Forward for the sample already in x and t: returns the loss node and
 * the logits o (1, 2). Nodes made here live until the next rewind. */
static node forward(net *m, node *o)
{
    graph *g = m->g;
    node k1 = op_add_row(g, op_matmul(g, m->x, m->W1), m->b1);   // k1 = xW1 + b1   (1, 3)
    node h = op_sigmoid(g, k1);                                  // h = σ(k1)
    *o = op_add_row(g, op_matmul(g, h, m->W2), m->b2);           // o = hW2 + b2    (1, 2)
    return op_softmax_ce(g, *o, m->t);                           // −log softmax(o)_label
}

static void set_sample(net *m, const double *x, int label)
{
    double *xv = graph_val(m->g, m->x), *tv = graph_val(m->g, m->t);
    xv[0] = x[0];
    xv[1] = x[1];
    tv[0] = label == 0;
    tv[1] = label == 1;
}

/* One forward pass; returns the loss, *right = 1 when the argmax is the
 * label (a tie counts for class 0). */
static double eval_one(net *m, const double *x, int label, int *right)
{
    node o;
    set_sample(m, x, label);
    double loss = graph_get(m->g, forward(m, &o), 0);
    const double *ov = graph_val(m->g, o);
    *right = (ov[1] > ov[0]) == label;
    graph_rewind(m->g, m->mark);
    return loss;
}

/* Mean loss and accuracy over n samples. */
static void evaluate(net *m, const double *x, const uint8_t *y, int n, double *loss, double *acc)
{
    double sum = 0;
    int right = 0, r;
    for (int i = 0; i < n; i++) {
        sum += eval_one(m, x + 2 * i, y[i], &r);
        right += r;
    }
    *loss = sum / n;
    *acc = (double)right / n;
}

/* A loss or gradient that is no longer finite: one line naming where, then
 * exit CLI_EXIT_FAULT (what was printed stays). */
static _Noreturn void fault(const char *why, int epoch, int step, int n, double last, int last_step,
                            double lr)
{
    char l[64] = "no finite loss before it";
    if (last_step > 0) snprintf(l, sizeof l, "last finite loss %.6g at step %d", last, last_step);
    fflush(stdout);
    fprintf(stderr, "%s: training fault at epoch %d, step %d of %d: %s; %s; "
            "is the learning rate (%g) too high, or are the inputs not scaled?\n",
            cli_prog(), epoch, step, n, why, l, lr);
    exit(CLI_EXIT_FAULT);
}

/* One epoch of SGD over the samples in order, `batch` samples per step
 * (1: per-sample, the course's); returns the mean loss and accuracy seen
 * along the way (each before its own update). The gradients of a step's
 * samples accumulate on the leaves; the step divides by their count. */
static void train_epoch(net *m, const double *x, const uint8_t *y, int n, double lr, int batch, int epoch,
                        double *loss, double *acc)
{
    graph *g = m->g;
    node params[4] = {m->W1, m->b1, m->W2, m->b2};
    double sum = 0, last = NAN;
    int right = 0;
    for (int i = 0; i < n; i++) {
        node o;
        set_sample(m, x + 2 * i, y[i]);
        node l = forward(m, &o);
        const double *ov = graph_val(g, o);
        double li = graph_get(g, l, 0);
        if (!isfinite(li)) fault(isnan(li) ? "the loss is NaN" : "the loss is infinite", epoch, i + 1, n, last, i, lr);
        sum += li;
        last = li;
        right += (ov[1] > ov[0]) == y[i];
        graph_backward(g, l);              // adds this sample's dL/dw to the leaves
        graph_rewind(g, m->mark);
        int in_step = i % batch + 1;
        if (in_step < batch && i + 1 < n) continue;
        for (int p = 0; p < 4; p++) {
            // w ← w − lr · (1/B) Σ_b dL_b/dw
            double *w = graph_val(g, params[p]);
            const double *dw = graph_grad(g, params[p]);
            for (int j = 0, s = graph_size(g, params[p]); j < s; j++) {
                if (!isfinite(dw[j])) fault("a gradient is not finite", epoch, i + 1, n, last, i + 1, lr);
                w[j] -= lr * dw[j] / in_step;
            }
        }
        graph_zero_grad(g);
    }
    *loss = sum / n;
    *acc = (double)right / n;
}

/* Mean σ'(k) = h(1 − h) of the hidden units over n samples: how much of
 * the gradient the sigmoids pass back (at most 1/4). */
static double mean_slope(net *m, const double *x, int n)
{
    double sum = 0;
    for (int i = 0; i < n; i++) {
        set_sample(m, x + 2 * i, 0);
        node k1 = op_add_row(m->g, op_matmul(m->g, m->x, m->W1), m->b1);
        node h = op_sigmoid(m->g, k1);
        const double *hv = graph_val(m->g, h);
        for (int j = 0; j < H; j++) sum += hv[j] * (1 - hv[j]);
        graph_rewind(m->g, m->mark);
    }
    return sum / ((double)n * H);
}

static void net_init(net *m, int seed, double scale)
{
    m->g = graph_new();
    if (!m->g) cli_fail("out of memory");
    rng r;
    rng_seed(&r, (uint64_t)seed);
    double w1[2 * H], w2[H * 2];
    for (int i = 0; i < 2 * H; i++) w1[i] = scale * rng_normal(&r);    // W ~ N(0, S²)
    for (int i = 0; i < H * 2; i++) w2[i] = scale * rng_normal(&r);
    m->W1 = graph_leaf(m->g, 2, H, w1);
    m->b1 = graph_leaf(m->g, 1, H, NULL);                              // b = 0
    m->W2 = graph_leaf(m->g, H, 2, w2);
    m->b2 = graph_leaf(m->g, 1, 2, NULL);
    m->x = graph_leaf(m->g, 1, 2, NULL);
    m->t = graph_leaf(m->g, 1, 2, NULL);
    m->mark = graph_mark(m->g);
}

/* The decision boundary: p(class 1) on a grid, and q − 0.6 (the true
 * boundary is its zero line), for a contour plot; and the points. */
static void write_plots(net *m, double q01, double q11, const double *xv, const uint8_t *yv, int nval)
{
    FILE *grid = cli_data_file("04_synthetic_grid.dat");
    fprintf(grid, "# x0 x1 p1 q-0.6   (grid blocks by x0, for gnuplot splot)\n");
    const int steps = 120;
    const double lo = -4, hi = 4;
    for (int i = 0; i <= steps; i++) {
        for (int j = 0; j <= steps; j++) {
            double p[2] = {lo + (hi - lo) * i / steps, lo + (hi - lo) * j / steps};
            node o;
            set_sample(m, p, 0);
            forward(m, &o);
            const double *ov = graph_val(m->g, o);
            double p1 = 1.0 / (1.0 + exp(ov[0] - ov[1]));    // softmax(o)_1
            double q = p[0] * p[0] + q01 * p[0] * p[1] + q11 * p[1] * p[1];
            fprintf(grid, "%.6g %.6g %.6g %.6g\n", p[0], p[1], p1, q - 0.6);
            graph_rewind(m->g, m->mark);
        }
        fputc('\n', grid);
    }
    cli_data_close(grid, "04_synthetic_grid.dat");
    FILE *pts = cli_data_file("04_synthetic_points.dat");
    int np = nval < 2000 ? nval : 2000;
    fprintf(pts, "# x0 x1 label   (the first %d validation points)\n", np);
    for (int i = 0; i < np; i++) fprintf(pts, "%.6g %.6g %d\n", xv[2 * i], xv[2 * i + 1], yv[i]);
    cli_data_close(pts, "04_synthetic_points.dat");
}

/* What this run's numbers show, in words chosen by the numbers. */
static void summarise(double loss0, double tl, double vl, double va, double major, int major_class,
                      double slope0, double slope1, double scale, int epochs)
{
    const double ln2 = log(2.0);
    printf("\nsummary\n");
    printf("  validation accuracy %.4f (always answering class %d would score %.4f);\n"
           "  validation loss %.4f after %d epoch%s (%.4f before training; ln 2 = %.4f)\n",
           va, major_class, major, vl, epochs, epochs > 1 ? "s" : "", loss0, ln2);
    say_item(stdout, 2, 4, "mean hidden slope sigma'(k)\xc2\xa0=\xc2\xa0h(1\xc2\xa0-\xc2\xa0h): %.4f before "
             "training, %.4f after (at most 0.25)", slope0, slope1);
    int at_ln2 = fabs(tl - ln2) < 0.01 && va < major + 0.02;
    if (at_ln2)
        printf("  The run has not started to learn: the training loss sits at ln 2 = %.4f, the\n"
               "  loss of answering 1/2 for both classes. The sigmoids are not saturated (slope\n"
               "  %.4f), but with weights N(0, %g^2) every output is near 0 and so is every\n"
               "  gradient that multiplies through them: the first steps are tiny. More epochs\n"
               "  or larger initial weights (--init-scale 1) get it going.\n",
               ln2, slope1, scale);
    else if (va < major + 0.10)
        printf("  The network is %s always guessing class %d (%.1f points %s it)%s\n"
               "  More epochs or another rate (--epochs, --lr) may get it further.\n",
               va < major + 0.02 ? "no better than" : "only a little better than", major_class,
               100 * fabs(va - major), va < major ? "below" : "above",
               vl > ln2 + 0.05 ? ", and its\n  loss is above ln 2, the loss of answering 1/2: it is confidently wrong." : ".");
    else
        printf("  The network learned the curved boundary q = 0.6 far beyond the class\n"
               "  balance: %.1f points above always guessing class %d. Three sigmoid units\n"
               "  bend the boundary only so far, so points close to it stay wrong.\n",
               100 * (va - major), major_class);
    if (slope1 < 0.05 && !at_ln2 && va < major + 0.10)
        printf("  Its hidden sigmoids are saturated (mean slope %.4f, against 0.25 at 0): little\n"
               "  gradient reaches W1, so the hidden layer learns slowly (weights N(0, %g^2)).\n",
               slope1, scale);
}

int main(int argc, char **argv)
{
    int variant = 2020;
    double scale = 1;
    cli_opt extra[] = {
        {"--variant", CLI_INT, &variant, "YEAR", "the course's data: 2020 (default) or 2021"},
        {"--init-scale", CLI_DOUBLE, &scale, "S", "initial weights N(0, S^2) (default 1; try 10)"},
        {0}};
    lesson_spec spec = {
        .flags = LESSON_FULL | LESSON_EPOCHS | LESSON_LR | LESSON_BATCH,
        .seed_help = "the initial weights",
        .quick_help = "the first 2,000 training and 1,000 validation points, 2 epochs (for tests)",
        .full_help = "the assignment's budget: 50 epochs over 60,000 points (a few seconds)",
        .epochs = {2, 10, 50}, .max_epochs = 100000, .lr = 0.01, .batch = 1,
        .batch_help = "(1: per-sample SGD, the course's)"};
    lesson_args a;
    lesson_parse(argc, argv,
        "04 synthetic data: the course's load_synth, learned by a 2-3-2 network\n"
        "with per-sample SGD on the scalar graph.", &spec, extra, &a);
    double q01, q11;
    if (synth_q(variant, &q01, &q11)) cli_fail("--variant: %d is not 2020 or 2021", variant);
    if (!(scale > 0 && scale <= 1000)) cli_fail("--init-scale: %g is not in (0, 1000]", scale);

    static double x[SYNTH_N * 2];
    static uint8_t y[SYNTH_N];
    synth_generate(variant, 0, SYNTH_N, x, y);
    const double *xv = x + 2 * SYNTH_TRAIN;
    const uint8_t *yv = y + SYNTH_TRAIN;
    int ntrain = a.quick ? 2000 : SYNTH_TRAIN, nval = a.quick ? 1000 : SYNTH_N - SYNTH_TRAIN;
    if (a.batch > ntrain) cli_fail("--batch: %d is more than the %d training points", a.batch, ntrain);

    printf("04 synthetic data — SGD on the scalar graph\n\n");
    printf("The course's load_synth: 70,000 points drawn from numpy's Mersenne Twister\n"
           "(seed 0); a point is class 1 when the quadratic form q = xᵀQx exceeds 0.6.\n"
           "The first 60,000 train, the last 10,000 validate. A 2-3-2 sigmoid/softmax\n"
           "network learns them one sample at a time: each step builds a fresh graph on\n"
           "the tape, sweeps it backward, moves every weight against its gradient and\n"
           "rewinds the tape.\n\n");

    int cnt[4] = {0};
    for (int i = 0; i < SYNTH_N; i++) cnt[(i >= SYNTH_TRAIN) * 2 + y[i]]++;
    printf("data (variant %d: Q = [[1, %g], [1, %g]])\n", variant, q01 - 1.0, q11);
    printf("  %-24s (%.16g, %.16g)\n", "first point", x[0], x[1]);
    printf("  %-24s [%d, %d]\n", "train class counts", cnt[0], cnt[1]);
    printf("  %-24s [%d, %d]\n\n", "validation class counts", cnt[2], cnt[3]);

    net m;
    net_init(&m, a.seed, scale);
    printf("network 2-%d-2, sigmoid then softmax; weights N(0, %g^2) (seed %d), biases 0\n", H, scale, a.seed);
    if (a.batch == 1) printf("per-sample SGD: ");
    else printf("minibatch SGD, %d samples per step: ", a.batch);
    printf("learning rate %g, %d epochs of %d samples%s%s\n", a.lr, a.epochs, ntrain,
           lesson_budget_note(&a),
           a.quick ? "\n  (--quick: the first 2,000 training and 1,000 validation points)" : "");
    printf("(train: mean over the epoch's steps, each before its update; validation: after the epoch)\n\n");
    printf("%5s  %10s  %9s  %10s  %9s\n", "epoch", "train loss", "train acc", "val loss", "val acc");

    FILE *curve = cli_data_file("04_synthetic_curve.dat");
    fprintf(curve, "# epoch train_loss train_acc val_loss val_acc\n");
    double vl, va, tl, ta;
    evaluate(&m, xv, yv, nval, &vl, &va);
    evaluate(&m, x, y, ntrain, &tl, &ta);
    double loss0 = tl, slope0 = mean_slope(&m, xv, nval);
    char b1[64], b2[64], b3[64], b4[64];
    printf("%5d  %10s  %9s  %10s  %9s   (before training)\n", 0, print_fmt(b1, tl, 7),
           print_fmt(b2, ta, 4), print_fmt(b3, vl, 7), print_fmt(b4, va, 4));
    fprintf(curve, "%d %.9g %.9g %.9g %.9g\n", 0, tl, ta, vl, va);
    double secs = 0;
    for (int e = 1; e <= a.epochs; e++) {
        double t0 = lesson_now();
        train_epoch(&m, x, y, ntrain, a.lr, a.batch, e, &tl, &ta);
        secs += lesson_now() - t0;
        evaluate(&m, xv, yv, nval, &vl, &va);
        printf("%5d  %10s  %9s  %10s  %9s\n", e, print_fmt(b1, tl, 7), print_fmt(b2, ta, 4),
               print_fmt(b3, vl, 7), print_fmt(b4, va, 4));
        fprintf(curve, "%d %.9g %.9g %.9g %.9g\n", e, tl, ta, vl, va);
    }
    cli_data_close(curve, "04_synthetic_curve.dat");
    fprintf(stderr, "04_synthetic: training, %d epochs x %d samples: %.2f s (%.2f us per sample)\n",
            a.epochs, ntrain, secs, 1e6 * secs / ((double)a.epochs * ntrain));

    printf("\nlearned parameters\n");
    print_labeled(stdout, "  W1", 4, m.g, m.W1);
    print_labeled(stdout, "  b1", 4, m.g, m.b1);
    print_labeled(stdout, "  W2", 4, m.g, m.W2);
    print_labeled(stdout, "  b2", 4, m.g, m.b2);
    write_plots(&m, q01, q11, xv, yv, nval);

    int v1 = 0;
    for (int i = 0; i < nval; i++) v1 += yv[i];
    int major_class = v1 * 2 > nval;
    double major = (double)(major_class ? v1 : nval - v1) / nval;
    summarise(loss0, tl, vl, va, major, major_class, slope0, mean_slope(&m, xv, nval), scale, a.epochs);
    printf("\nplot data: %s/04_synthetic_{curve,grid,points}.dat; draw them with `make plots`\n"
           "(needs gnuplot: apt-get install gnuplot-nox) into build/plots/04_synthetic_*.png\n",
           cli_data_dir());
    graph_free(m.g);
    return 0;
}
