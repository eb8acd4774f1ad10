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
#include "lesson.h"
#include "say.h"
#include "mlp_graph.h"

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

/* The loss of every step of a run (val_every 1, no validation set: the
 * check's train loss is that one batch's mean loss), for the plot. */
static void per_batch(const train_point *p, void *ctx)
{
    FILE *f = ctx;
    if (p->step > 0) fprintf(f, "%ld %.4f %.6f\n", p->step, p->epoch, p->train_loss);
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

/* The fast path against the graph on the first 1 and 10 images; returns
 * the largest relative gradient difference (NaN when any is not finite). */
static double cross_check(const mlp_data *tr, uint64_t seed)
{
    printf("\n== cross-check: fast path (float32) against the graph (double), same weights\n");
    double worst = 0.0;
    int sizes_b[2] = {1, 10};
    for (int i = 0; i < 2; i++) {
        mlp *m = network(seed);
        int B = sizes_b[i] < tr->n ? sizes_b[i] : tr->n;
        double loss = mlp_forward(m, tr->x, tr->y, B, 0);
        mlp_zero_grad(m);
        mlp_backward(m);
        mlp_graph g;
        if (mlp_graph_build(&g, m, tr->x, tr->y, B, 0)) cli_fail("out of memory");
        char where[32] = "";
        double d = mlp_graph_compare(&g, m, where, sizeof where);
        printf("first %2d image%s: loss fast %.7f graph %.7f; largest relative gradient difference %.1e (%s)\n",
               B, B > 1 ? "s" : " ", loss, mlp_graph_loss(&g), d, where);
        if (!(d <= worst)) worst = d;     // NaN stays
        mlp_graph_free(&g);
        mlp_free(m);
    }
    printf("largest relative difference: %.1e — %s\n", worst,
           worst <= 1e-4 ? "agree (≤ 1e-4)" : "DISAGREE (> 1e-4, or not finite)");
    return worst;
}

/* What the run's numbers say, each sentence chosen by them. */
static void summarise(const curve *per, const curve *mb, const curve *lrc, const double *rate,
                      int nrates, int mini, double lr, int has_val, double test_acc, double worst)
{
    int last = per[0].epochs - 1, k = has_val ? 3 : 1;
    double mu_p, sd_p, mu_b, sd_b;
    mean_std(per, SEEDS, last, k, &mu_p, &sd_p);
    mean_std(mb, SEEDS, last, k, &mu_b, &sd_b);
    const char *set = has_val ? "validation" : "training";
    printf("\nsummary\n");
    char label[4][96];       /* the rows' labels, computed, then one column of values */
    snprintf(label[0], sizeof label[0], "cross-check, largest relative gradient difference");
    snprintf(label[1], sizeof label[1], "per-sample SGD, %s accuracy after %d epochs", set, last + 1);
    snprintf(label[2], sizeof label[2], "batch-%d SGD, %s accuracy after %d epochs", mini, set, last + 1);
    snprintf(label[3], sizeof label[3], "test accuracy (per-sample, rate %g, first seed)", lr);
    int wl = 0;
    for (int i = 0; i < 4; i++) if ((int)strlen(label[i]) > wl) wl = (int)strlen(label[i]);
    printf("  %-*s  %.1e\n", wl, label[0], worst);
    printf("  %-*s  %.4f ± %.4f\n", wl, label[1], mu_p, sd_p);
    printf("  %-*s  %.4f ± %.4f\n", wl, label[2], mu_b, sd_b);
    printf("  %-*s  %.4f\n", wl, label[3], test_acc);
    if (has_val) {
        int below = 0;
        for (int e = 0; e <= last; e++) {
            double tl, vl, sd;
            mean_std(per, SEEDS, e, 0, &tl, &sd);
            mean_std(per, SEEDS, e, 2, &vl, &sd);
            below += vl < tl;
        }
        if (below)
            say(stdout, 2, "The train columns are running means over each epoch, every step's loss taken "
                "before its own update, while the validation columns are measured after the epoch with "
                "its final weights. So the train loss lags behind: here the validation loss of "
                "per-sample SGD sits below it in %d of %d epochs. That gap is the lag, not underfitting.",
                below, last + 1);
        else
            say(stdout, 2, "The train columns are running means over each epoch, every step's loss taken "
                "before its own update, while the validation columns are measured after the epoch with "
                "its final weights. So the train loss lags behind: even so, the validation loss of "
                "per-sample SGD never sits below it here (%d epochs).", last + 1);
    }
    double gap = mu_p - mu_b, spread = sd_p + sd_b;
    say(stdout, 2, "± is the standard deviation over %d seeds (other initial weights and sample orders). "
        "Per-sample SGD ends %.2f points %s batch-%d SGD, %s their spreads added (%.2f points): %s",
        SEEDS, 100 * fabs(gap), gap >= 0 ? "above" : "below", mini,
        fabs(gap) > spread ? "more than" : "within", 100 * spread,
        fabs(gap) > spread ? "a real difference for this budget; per-sample SGD takes one step per image, "
                             "batch SGD one per batch (fewer, smoother steps)."
                           : "the seeds cannot tell them apart.");
    int kv = has_val ? 2 : 0, best = -1, diverged = 0;
    for (int r = 0; r < nrates; r++) {
        double v = lrc[r].v[lrc[r].epochs - 1][kv];
        if (!isfinite(v)) { diverged++; continue; }
        if (best < 0 || v < lrc[best].v[lrc[best].epochs - 1][kv]) best = r;
    }
    if (best < 0) { printf("  Every learning rate diverged.\n"); return; }
    const char *verdict = best == nrates - 1
        ? "the largest wins. With few epochs a larger step gets further; the comparison does not show "
          "where a rate becomes too large."
        : best == 0 ? "the smallest wins; the larger ones overshoot the minimum."
        : diverged ? "the smaller rates are still on their way down, the larger overshoot or diverge."
                   : "the smaller rates are still on their way down, the larger overshoot.";
    say(stdout, 2, "Of the learning rates, %g ends with the lowest %s loss after %d epochs: %s", rate[best], set,
        last + 1, verdict);
}

int main(int argc, char **argv)
{
    int final = 0;
    const char *save = NULL;
    cli_opt extra[] = {
        {"--final", CLI_FLAG, &final, NULL, "train on all 60,000 images (no validation set)"},
        {"--save", CLI_STRING, &save, "FILE", "save the tested model (per-sample, first seed) for predict"},
        {0}};
    lesson_spec spec = {
        .flags = LESSON_TRAIN,
        .seed_help = "the first of the three runs (weights; the shuffles use seed+100)",
        .quick_help = "the 100-image slice, 2 epochs (seconds, for tests)",
        .full_help = "the course's analysis: 5 epochs per run (about a minute)",
        .epochs = {2, 3, 5}, .max_epochs = MAXEP, .lr = 0.01,
        .lr_help = "of per-sample SGD (the minibatch runs use 0.1)", .batch = 100,
        .batch_help = "of the minibatch runs", .data_help = "mnist/"};
    lesson_args a;
    lesson_parse(argc, argv,
        "05 mnist — the vectorised fast path: 784-300-10 on MNIST, cross-checked against the graph",
        &spec, extra, &a);
    const uint64_t seed = (uint64_t)a.seed;

    dataset all, test, tr_set, va_set;
    /* the cross-check reads the first 10 training images, after the
     * validation images (5,000, or a fifth with --quick) are split off */
    data_expect want_train = DATA_EXPECT_28X28(final ? 10 : a.quick ? 12 : 5010), want_test = DATA_EXPECT_28X28(1);
    lesson_load(a.root, "mnist", "train", &want_train, &all);
    lesson_load(a.root, "mnist", "test", &want_test, &test);
    if (a.quick && all.n > 100) {          /* --quick with a full data root: its first 100 */
        dataset head;
        if (data_split_first(&all, 100, &head, NULL)) cli_fail("out of memory");
        dataset_free(&all);
        all = head;
    }
    data_scale(&all, 255.0f);
    data_scale(&test, 255.0f);
    int n_val = final ? 0 : a.quick ? all.n / 5 : 5000;
    if (n_val >= all.n || all.n < 10) cli_fail("%s/mnist: only %d training images", a.root, all.n);
    if (data_split_first(&all, all.n - n_val, &tr_set, &va_set)) cli_fail("out of memory");
    dataset_free(&all);                      /* the split holds its own copies */
    int epochs = a.epochs, mini = a.quick && !a.batch_given ? 10 : a.batch;
    double mini_lr = 0.1, sample_lr = a.lr;
    mlp_data tr = lesson_view(&tr_set), va = lesson_view(&va_set), te = lesson_view(&test);
    if (mini > tr.n) cli_fail("--batch: %d is more than the %d training images", mini, tr.n);
    const mlp_data *vp = n_val ? &va : NULL;

    printf("05 mnist — the vectorised fast path\n\n");
    printf("The network of lesson 03 grown to MNIST: 784 inputs (pixels / 255) → 300 sigmoid\n"
           "units → 10 softmax outputs, batch-mean cross-entropy, weights normal with\n"
           "σ = 1/√fan_in (our choice of σ), biases 0. The fast path computes in float32 with\n"
           "hand-derived kernels (forward, then δ_out = y − t and the δ recursion); the graph\n"
           "in double, node by node. They must agree before any training is trusted.\n");
    printf("\ndata: %d train / %d validation images%s, %d test images%s\n", tr.n, va.n,
           final ? " (--final: all training images)" : "", te.n, a.quick ? " (the --quick slice)" : "");
    printf("budget: %d epochs per run%s\n", epochs,
           a.epochs_given || a.quick || a.full ? lesson_budget_note(&a)
                                               : " (default; the course's analysis ran 5: --full)");

    double worst = cross_check(&tr, seed);

    /* ---- training: three seeds each, per-sample and minibatch */
    FILE *dat = cli_data_file("05_mnist_curves.dat");
    fprintf(dat, "# lesson 05: per-epoch mean and std over %d seeds\n", SEEDS);
    curve per[SEEDS], mb[SEEDS], lrc[NRATES + 1];
    mlp *first = NULL;                       /* the first seed's per-sample model, tested below */
    for (int s = 0; s < SEEDS; s++) {
        mlp *m = network(seed + (uint64_t)s);
        train_one(m, &tr, vp, 1, sample_lr, epochs, seed + 100 + (uint64_t)s, &per[s], "per-sample");
        if (s == 0) first = m;
        else mlp_free(m);
    }
    char title[128];
    snprintf(title, sizeof title, "per-sample SGD (batch 1), learning rate %g", sample_lr);
    report(title, per, SEEDS, dat);
    for (int s = 0; s < SEEDS; s++) {
        mlp *m = network(seed + (uint64_t)s);
        train_one(m, &tr, vp, mini, mini_lr, epochs, seed + 100 + (uint64_t)s, &mb[s], "minibatch");
        mlp_free(m);
    }
    snprintf(title, sizeof title, "minibatch SGD (batch %d), learning rate %g", mini, mini_lr);
    report(title, mb, SEEDS, dat);
    cli_data_close(dat, "05_mnist_curves.dat");

    /* ---- the loss per batch of the first minibatch run (the assignment asks for it) */
    dat = cli_data_file("05_mnist_batches.dat");
    fprintf(dat, "# lesson 05: loss of every batch, minibatch SGD (batch %d, rate %g), seed %llu\n"
            "# step epoch batch_loss\n", mini, mini_lr, (unsigned long long)seed);
    {
        mlp *m = network(seed);
        train_cfg c = train_defaults();
        c.epochs = epochs;
        c.batch = mini;
        c.opt.lr = mini_lr;
        c.seed = seed + 100;
        c.val_every = 1;
        c.name = "per batch";
        c.on_check = per_batch;
        c.ctx = dat;
        train_result r;
        cli_train_status(train_run(m, &tr, NULL, &c, &r), r.err);
        train_result_free(&r);
        mlp_free(m);
    }
    cli_data_close(dat, "05_mnist_batches.dat");

    /* ---- learning rates (per-sample, first seed; the run at --lr is per[0]) */
    double rate[NRATES + 1];
    int nrates = 0;
    for (int r = 0; r < NRATES; r++) {
        if (rates[r] > sample_lr && (nrates == 0 || rate[nrates - 1] < sample_lr)) rate[nrates++] = sample_lr;
        if (rates[r] != sample_lr) rate[nrates++] = rates[r];
    }
    if (rate[nrates - 1] < sample_lr) rate[nrates++] = sample_lr;
    dat = cli_data_file("05_mnist_rates.dat");
    printf("\nlearning rates, per-sample SGD, seed %d — %s loss / accuracy per epoch\n", a.seed,
           n_val ? "validation" : "training");
    printf("%-8s", "rate");
    for (int e = 0; e < epochs; e++) printf("   epoch %-12d", e + 1);
    printf("\n");
    for (int r = 0; r < nrates; r++) {
        if (rate[r] == sample_lr) lrc[r] = per[0];
        else {
            mlp *m = network(seed);
            train_one(m, &tr, vp, 1, rate[r], epochs, seed + 100, &lrc[r], "rate");
            mlp_free(m);
        }
        fprintf(dat, "# learning rate %g\n# epoch train_loss train_acc val_loss val_acc\n", rate[r]);
        printf("%-8g", rate[r]);
        int k = n_val ? 2 : 0;
        for (int e = 0; e < lrc[r].epochs; e++) {
            printf("   %.4f / %.4f    ", lrc[r].v[e][k], lrc[r].v[e][k + 1]);
            fprintf(dat, "%d %.6f %.6f %.6f %.6f\n", e + 1, lrc[r].v[e][0], lrc[r].v[e][1], lrc[r].v[e][2], lrc[r].v[e][3]);
        }
        printf("\n");
        fprintf(dat, "\n\n");
    }
    cli_data_close(dat, "05_mnist_rates.dat");

    /* ---- the test set */
    long conf[100] = {0};
    eval_result e = train_evaluate(first, &te, 1000, conf);
    printf("\ntest set (%d images), per-sample SGD, rate %g, seed %d, %d epochs: loss %.4f, accuracy %.4f\n",
           te.n, sample_lr, a.seed, epochs, e.loss, e.acc);
    printf("confusion matrix (rows: true digit, columns: predicted)\n");
    train_print_confusion(stdout, conf, 10, NULL);
    summarise(per, mb, lrc, rate, nrates, mini, sample_lr, n_val > 0, e.acc, worst);
    printf("plot data: %s/05_mnist_{curves,batches,rates}.dat; draw them with `make plots`\n", cli_data_dir());
    if (save) {
        char err[IDX_ERR_LEN];
        if (mlp_save(first, save, err, sizeof err)) cli_fail("%s", err);
        printf("model saved to %s (predict: build/predict --model %s IMAGE…)\n", save, save);
    }
    mlp_free(first);
    dataset_free(&test); dataset_free(&tr_set); dataset_free(&va_set);
    return 0;
}
