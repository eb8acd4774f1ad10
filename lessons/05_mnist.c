/* 05_mnist.c — lesson 05: MNIST on the vectorised fast path.
 *
 * 784 → 300 sigmoid → 10 softmax, the network of lesson 03 with matrices.
 * First the fast float32 path is held against the double-precision graph on
 * the same images; then per-sample SGD (batch 1, as the course ran it) and
 * minibatch SGD (batch 100), three seeds each with mean ± std per epoch, the
 * learning-rate comparison, and the test accuracy with a confusion matrix.
 * Data for the plots go to build/data/05_mnist_*.dat (plots/05_mnist.gp).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "data.h"
#include "mlp.h"
#include "mlp_graph.h"
#include "train.h"

#define SEEDS 3
#define NRATES 4
#define MAXEP 64

static const double rates[NRATES] = {0.001, 0.003, 0.01, 0.03};

/* per-epoch metrics of one run: train loss, train acc, val loss, val acc */
typedef struct { int epochs; double v[MAXEP][4]; } curve;

static void collect(const train_point *p, void *ctx)
{
    curve *c = ctx;
    if (p->epoch_i < 1 || p->epoch_i > MAXEP) return;
    double *v = c->v[p->epoch_i - 1];
    v[0] = p->train_loss; v[1] = p->train_acc; v[2] = p->val_loss; v[3] = p->val_acc;
    c->epochs = p->epoch_i;
}

static mlp *network(uint64_t seed)
{
    mlp_config c = {.n_layers = 2, .sizes = {784, 300, 10}, .act = ACT_SIGMOID,
                    .init = {INIT_LECUN_NORMAL, 0, 0}, .seed = seed};
    mlp *m = mlp_new(&c);
    if (!m) cli_fail("out of memory");
    return m;
}

static void train_one(mlp *m, const mlp_data *tr, const mlp_data *va, int batch, double lr,
                      int epochs, uint64_t seed, curve *out, const char *name)
{
    train_cfg c = train_defaults();
    c.epochs = epochs;
    c.batch = batch;
    c.opt.lr = lr;
    c.seed = seed;
    c.name = name;
    c.on_check = collect;
    c.ctx = out;
    train_result r;
    memset(out, 0, sizeof *out);
    cli_train_status(train_run(m, tr, va, &c, &r), r.err);
    train_result_free(&r);
}

static void mean_std(const curve *runs, int n, int e, int k, double *mean, double *sd)
{
    double s = 0, s2 = 0;
    for (int i = 0; i < n; i++) s += runs[i].v[e][k];
    *mean = s / n;
    for (int i = 0; i < n; i++) s2 += (runs[i].v[e][k] - *mean) * (runs[i].v[e][k] - *mean);
    *sd = n > 1 ? sqrt(s2 / (n - 1)) : 0.0;
}

/* Prints the mean ± std table of n runs and appends it to the curves file. */
static void report(const char *title, const curve *runs, int n, FILE *dat)
{
    printf("\n%s — mean ± std over %d seeds\n", title, n);
    printf("%-6s %-19s %-19s %-19s %-19s\n", "epoch", "train loss", "train acc", "val loss", "val acc");
    fprintf(dat, "# %s\n# epoch train_loss sd train_acc sd val_loss sd val_acc sd\n", title);
    for (int e = 0; e < runs[0].epochs; e++) {
        printf("%-6d", e + 1);
        fprintf(dat, "%d", e + 1);
        for (int k = 0; k < 4; k++) {
            double mu, sd;
            mean_std(runs, n, e, k, &mu, &sd);
            char cell[40];
            snprintf(cell, sizeof cell, "%.4f ± %.4f", mu, sd);
            printf(" %-19s", cell);
            fprintf(dat, " %.6f %.6f", mu, sd);
        }
        printf("\n");
        fprintf(dat, "\n");
    }
    fprintf(dat, "\n\n");
}

int main(int argc, char **argv)
{
    int seed = 1, quick = 0, full = 0, final = 0;
    const char *data = NULL, *save = NULL;
    double sample_lr = 0.01;
    cli_opt opts[] = {
        {"--seed", CLI_INT, &seed, "N", "first seed of the three runs (default 1)"},
        {"--quick", CLI_FLAG, &quick, NULL, "the 100-image slice, 5 epochs (seconds, for tests)"},
        {"--full", CLI_FLAG, &full, NULL, "10 epochs per run (the default is 3, to stay near 90 s)"},
        {"--final", CLI_FLAG, &final, NULL, "train on all 60,000 images (no validation set)"},
        {"--data", CLI_STRING, &data, "DIR", "data root holding mnist/ (default data/, or $CHAINRULE_DATA)"},
        {"--lr", CLI_DOUBLE, &sample_lr, "RATE", "learning rate of the per-sample runs (default 0.01)"},
        {"--save", CLI_STRING, &save, "FILE", "save the tested model (per-sample, first seed) for predict"},
        {0}};
    cli_no_positional(cli_parse(argc, argv,
        "05 mnist — the vectorised fast path: 784-300-10 on MNIST, cross-checked against the graph", opts),
        argc, argv);
    if (seed < 0) cli_fail("--seed: %d is negative", seed);
    if (!(sample_lr > 0)) cli_fail("--lr: %g is not positive", sample_lr);
    const char *root = cli_data_root(data);

    dataset all, test, tr_set, va_set;
    char err[IDX_ERR_LEN];
    /* the cross-check reads the first 10 training images, after the
     * validation images (5,000, or a fifth with --quick) are split off */
    data_expect want_train = DATA_EXPECT_28X28(final ? 10 : quick ? 12 : 5010), want_test = DATA_EXPECT_28X28(1);
    if (data_load_expect(root, "mnist", "train", &want_train, &all, err)) cli_fail("%s", err);
    if (data_load_expect(root, "mnist", "test", &want_test, &test, err)) cli_fail("%s", err);
    data_scale(&all, 255.0f);
    data_scale(&test, 255.0f);
    int n_val = final ? 0 : quick ? all.n / 5 : 5000;
    if (n_val >= all.n) cli_fail("%s/mnist: only %d training images", root, all.n);
    if (data_split_first(&all, all.n - n_val, &tr_set, &va_set)) cli_fail("out of memory");
    dataset_free(&all);                      /* the split holds its own copies */
    int epochs = quick ? 5 : full ? 10 : 3;
    int mini = quick ? 10 : 100;
    double mini_lr = 0.1;
    mlp_data tr = {tr_set.x, tr_set.labels, tr_set.n, tr_set.d};
    mlp_data va = {va_set.x, va_set.labels, va_set.n, va_set.d};
    mlp_data te = {test.x, test.labels, test.n, test.d};
    const mlp_data *vp = n_val ? &va : NULL;

    printf("05 mnist — the vectorised fast path\n\n");
    printf("The network of lesson 03 grown to MNIST: 784 inputs (pixels / 255) → 300 sigmoid\n"
           "units → 10 softmax outputs, batch-mean cross-entropy, weights normal with\n"
           "σ = 1/√fan_in (our choice of σ), biases 0. The fast path computes in float32 with\n"
           "hand-derived kernels (forward, then δ_out = y − t and the δ recursion); the graph\n"
           "in double, node by node. They must agree before any training is trusted.\n");
    printf("\ndata: %d train / %d validation images%s, %d test images%s\n", tr.n, va.n,
           final ? " (--final: all training images)" : "", te.n, quick ? " (the --quick slice)" : "");
    printf("budget: %d epochs per run%s\n", epochs,
           quick ? " (--quick)" : full ? " (--full)" : " (default, smaller than the course's: --full runs 10)");

    /* ---- the cross-check */
    printf("\n== cross-check: fast path (float32) against the graph (double), same weights\n");
    double worst = 0.0;
    int sizes_b[2] = {1, 10};
    for (int i = 0; i < 2; i++) {
        mlp *m = network((uint64_t)seed);
        int B = sizes_b[i];
        double loss = mlp_forward(m, tr.x, tr.y, B, 0);
        mlp_zero_grad(m);
        mlp_backward(m);
        mlp_graph g;
        if (mlp_graph_build(&g, m, tr.x, tr.y, B, 0)) cli_fail("out of memory");
        char where[32] = "";
        double d = mlp_graph_compare(&g, m, where, sizeof where);
        printf("first %2d image%s: loss fast %.7f graph %.7f; largest relative gradient difference %.1e (%s)\n",
               B, B > 1 ? "s" : " ", loss, mlp_graph_loss(&g), d, where);
        if (d > worst) worst = d;
        mlp_graph_free(&g);
        mlp_free(m);
    }
    printf("largest relative difference: %.1e — %s\n", worst,
           worst <= 1e-4 ? "agree (≤ 1e-4)" : "DISAGREE (> 1e-4)");

    /* ---- training */
    FILE *dat = cli_data_file("05_mnist_curves.dat");
    fprintf(dat, "# lesson 05: per-epoch mean and std over %d seeds\n", SEEDS);
    curve per[SEEDS], mb[SEEDS], lrc[NRATES];
    for (int s = 0; s < SEEDS; s++) {
        mlp *m = network((uint64_t)(seed + s));
        train_one(m, &tr, vp, 1, sample_lr, epochs, (uint64_t)(seed + 100 + s), &per[s], "per-sample");
        mlp_free(m);
    }
    char title[128];
    snprintf(title, sizeof title, "per-sample SGD (batch 1), learning rate %g", sample_lr);
    report(title, per, SEEDS, dat);
    for (int s = 0; s < SEEDS; s++) {
        mlp *m = network((uint64_t)(seed + s));
        train_one(m, &tr, vp, mini, mini_lr, epochs, (uint64_t)(seed + 100 + s), &mb[s], "minibatch");
        mlp_free(m);
    }
    snprintf(title, sizeof title, "minibatch SGD (batch %d), learning rate %g", mini, mini_lr);
    report(title, mb, SEEDS, dat);
    cli_data_close(dat, "05_mnist_curves.dat");

    /* ---- learning rates (per-sample, first seed) */
    dat = cli_data_file("05_mnist_rates.dat");
    printf("\nlearning rates, per-sample SGD, seed %d — %s loss / accuracy per epoch\n", seed,
           n_val ? "validation" : "training");
    printf("%-8s", "rate");
    for (int e = 0; e < epochs; e++) printf("   epoch %-12d", e + 1);
    printf("\n");
    mlp *best = NULL;
    for (int r = 0; r < NRATES; r++) {
        mlp *m = network((uint64_t)seed);
        train_one(m, &tr, vp, 1, rates[r], epochs, (uint64_t)(seed + 100), &lrc[r], "rate");
        fprintf(dat, "# learning rate %g\n# epoch train_loss train_acc val_loss val_acc\n", rates[r]);
        printf("%-8g", rates[r]);
        int k = n_val ? 2 : 0;
        for (int e = 0; e < lrc[r].epochs; e++) {
            printf("   %.4f / %.4f    ", lrc[r].v[e][k], lrc[r].v[e][k + 1]);
            fprintf(dat, "%d %.6f %.6f %.6f %.6f\n", e + 1, lrc[r].v[e][0], lrc[r].v[e][1], lrc[r].v[e][2], lrc[r].v[e][3]);
        }
        printf("\n");
        fprintf(dat, "\n\n");
        if (rates[r] == sample_lr) best = m;
        else mlp_free(m);
    }
    cli_data_close(dat, "05_mnist_rates.dat");
    if (!best) {                             /* --lr off the table: train the tested model alone */
        best = network((uint64_t)seed);
        train_one(best, &tr, vp, 1, sample_lr, epochs, (uint64_t)(seed + 100), &lrc[0], "rate");
    }

    /* ---- the test set */
    long conf[100] = {0};
    eval_result e = train_evaluate(best, &te, 1000, conf);
    printf("\ntest set (%d images), per-sample SGD, rate %g, seed %d, %d epochs: loss %.4f, accuracy %.4f\n",
           te.n, sample_lr, seed, epochs, e.loss, e.acc);
    printf("confusion matrix (rows: true digit, columns: predicted)\n");
    train_print_confusion(stdout, conf, 10, NULL);
    double mu, sd;
    int last = per[0].epochs - 1, k = n_val ? 3 : 1;
    printf("\nsummary\n");
    printf("  cross-check, largest relative gradient difference   %.1e\n", worst);
    mean_std(per, SEEDS, last, k, &mu, &sd);
    printf("  per-sample SGD, %s accuracy after %d epochs  %.4f ± %.4f\n", n_val ? "validation" : "training", epochs, mu, sd);
    mean_std(mb, SEEDS, last, k, &mu, &sd);
    printf("  batch-%d SGD, %s accuracy after %d epochs   %.4f ± %.4f\n", mini, n_val ? "validation" : "training", epochs, mu, sd);
    printf("  test accuracy (per-sample, rate %g)                %.4f\n", sample_lr, e.acc);
    printf("plots: gnuplot -e \"datadir='build/data'; outdir='build/plots'\" plots/05_mnist.gp\n");
    if (save) {
        if (mlp_save(best, save, err, sizeof err)) cli_fail("%s", err);
        printf("model saved to %s (predict: build/predict --model %s IMAGE…)\n", save, save);
    }
    mlp_free(best);
    dataset_free(&test); dataset_free(&tr_set); dataset_free(&va_set);
    return 0;
}
