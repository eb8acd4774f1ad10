/* 07_tricks.c — tricks of the trade: the assignment that adds LeCun's
 * tricks to a 784(+1)-64-10 network one at a time (weight scale, scaled
 * tanh, momentum), then varies width and depth, with early stopping on the
 * validation loss and the assignment's finite-difference gradient check.
 *
 * Training runs on the fast path (float32, models/train.h); the gradient
 * check in double (models/gradcheck_fd.h). Not a benchmark and not a
 * tuning study: one seed, the assignment's rates.
 *
 * main reads as the lesson: the data, the parameter counts, the gradient
 * check, the runs, the summary — one function each. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gradcheck_fd.h"
#include "lesson.h"
#include "rng.h"
#include "say.h"


enum { D = 784, K = 10, NCHECK = 100 };

/* ------------------------------------------------------------ the networks */

/* The parameter count as the assignment counts it: every layer has a bias,
 * so layer l holds (n_l + 1)·n_{l+1} numbers. */
static long count_assignment(const int *sizes, int L)
{
    long n = 0;
    for (int l = 0; l < L; l++) n += (long)(sizes[l] + 1) * sizes[l + 1];
    return n;
}

typedef struct {
    const char *tag;      /* build/data/07_tricks_<tag>.dat */
    const char *label;    /* printed and in the plot legends */
    int depth, width;     /* hidden layers, units in each */
    act_kind act;         /* ACT_SIGMOID or ACT_STANH */
    int lecun_init;       /* 0: U[−1, 1]; 1: N(0, 1/√fan_in) */
    int momentum;         /* 0: SGD α 0.1; 1: momentum γ 0.9, α 0.02 */
} spec;

static int spec_sizes(const spec *s, int *sizes)
{
    sizes[0] = D;
    for (int l = 1; l <= s->depth; l++) sizes[l] = s->width;
    sizes[s->depth + 1] = K;
    return s->depth + 1;
}

static void sizes_str(char *buf, size_t len, const int *sizes, int L)
{
    size_t at = 0;
    for (int l = 0; l <= L && at < len; l++)
        at += (size_t)snprintf(buf + at, len - at, l ? "-%d" : "%d", sizes[l]);
}

/* The assignment's network: a 785-wide input (the constant 1 appended), no
 * other bias. Every weight, the bias row of W[0] included, is drawn as the
 * assignment draws its whole matrix: U[−1, 1], or N(0, 1/√fan_in) with
 * fan_in = the rows of the matrix (785 for the first layer). */
static mlp *spec_new(const spec *s, uint64_t seed)
{
    mlp_config cfg = {0};
    cfg.n_layers = spec_sizes(s, cfg.sizes);
    cfg.act = s->act;
    cfg.bias_trick = 1;
    cfg.init = (mlp_init){INIT_ZEROS, 0, 0};
    cfg.seed = seed;
    mlp *m = mlp_new(&cfg);
    if (!m) cli_fail("out of memory");
    rng r;
    rng_seed(&r, seed);
    for (int l = 0; l < m->L; l++) {
        size_t n = (size_t)m->rows[l] * (size_t)cfg.sizes[l + 1];
        double sd = 1 / sqrt((double)m->rows[l]);
        for (size_t i = 0; i < n; i++)
            m->W[l][i] = (float)(s->lecun_init ? sd * rng_normal(&r) : rng_range(&r, -1, 1));
    }
    return m;
}

/* ------------------------------------------------------------ training */

typedef struct {
    long params_assign;   /* the assignment's count */
    size_t params;        /* what the fast path trains (bias trick: no hidden biases) */
    train_point best;     /* the check with the lowest validation loss */
    train_point stop;     /* the last check, where training ended */
    long stop_step;       /* the step training ended at */
    int stopped_early;
    eval_result tr, va;   /* full passes with the best check's weights */
} outcome;

typedef struct {
    int epochs, val_every, patience, batch, steps_per_epoch;
    double lr;            /* plain SGD's; the momentum runs use lr / 5 (0.02) */
    uint64_t seed;
} budget;

static void write_curve(const spec *s, const train_result *r, const char *sizes)
{
    char file[128];
    snprintf(file, sizeof file, "07_tricks_%s.dat", s->tag);
    FILE *f = cli_data_file(file);
    fprintf(f, "# 07 tricks: %s (%s); validation every check, train = mean over the steps since the last check\n",
            s->label, sizes);
    fprintf(f, "# step epoch train_loss train_acc val_loss val_acc\n");
    for (int i = 0; i < r->n_hist; i++) {
        const train_point *p = &r->hist[i];
        fprintf(f, "%ld %.4f %.6f %.6f %.6f %.6f\n", p->step, p->epoch, p->train_loss,
                p->train_acc, p->val_loss, p->val_acc);
    }
    cli_data_close(f, file);
}

static outcome run(const spec *s, const mlp_data *tr, const mlp_data *va, const budget *b)
{
    mlp *m = spec_new(s, b->seed);
    int sizes[MLP_MAX_LAYERS + 1];
    int L = spec_sizes(s, sizes);
    char sz[256];
    sizes_str(sz, sizeof sz, sizes, L);

    train_cfg c = train_defaults();
    c.epochs = b->epochs;
    c.batch = b->batch;
    c.drop_last = 1;
    c.shuffle = 1;
    c.seed = b->seed;
    if (s->momentum) {
        c.opt = optim_defaults(OPT_MOMENTUM);   // Δw ← g + γΔw;  w ← w − αΔw
        c.opt.momentum = 0.9;
        c.opt.lr = b->lr / 5;
    } else {
        c.opt = optim_defaults(OPT_SGD);
        c.opt.lr = b->lr;
    }
    c.val_every = b->val_every;
    c.patience = b->patience;
    c.restore_best = 1;
    c.eval_train = 0;
    c.name = s->label;
    train_result r;
    cli_train_status(train_run(m, tr, va, &c, &r), r.err);
    write_curve(s, &r, sz);

    outcome o = {0};
    o.params_assign = count_assignment(sizes, L);
    o.params = mlp_num_params(m);
    if (r.best >= 0) o.best = r.hist[r.best];
    if (r.n_hist > 0) o.stop = r.hist[r.n_hist - 1];
    o.stop_step = r.steps;
    o.stopped_early = r.stopped_early;
    o.tr = train_evaluate(m, tr, 1000, NULL);
    o.va = train_evaluate(m, va, 1000, NULL);
    train_result_free(&r);
    mlp_free(m);
    return o;
}

/* ------------------------------------------------------------ the lesson's sections */

/* The data exactly as the assignment handles it: the first n training
 * images, the test set as validation, one scalar mean and std. */
static void section_data(const lesson_args *a, dataset *train, dataset *test, double *mean, double *sd)
{
    dataset all;
    data_expect want_train = DATA_EXPECT_28X28(a->quick ? 1 : 20000), want_test = DATA_EXPECT_28X28(1);
    lesson_load(a->root, "mnist", "train", &want_train, &all);
    lesson_load(a->root, "mnist", "test", &want_test, test);
    int n_train = a->quick ? (all.n < 100 ? all.n : 100) : 20000;
    if (all.n < n_train) cli_fail("%s/mnist: %d training images, need %d", a->root, all.n, n_train);
    if (data_split_first(&all, n_train, train, NULL) != 0) cli_fail("out of memory");
    dataset_free(&all);
    data_mean_std(train, mean, sd);
    if (data_normalize(train, *mean, *sd) || data_normalize(test, *mean, *sd))
        cli_fail("%s/mnist/train-images-idx3-ubyte: the first %d images have every pixel %g: "
                 "no spread to normalise by", a->root, train->n, *mean);
}

/* Two equal hidden layers with the parameter count closest to 784-64-10's. */
static int two_layer_width(void)
{
    int s1[] = {D, 64, K}, two = 1;
    long target = count_assignment(s1, 2), bestd = -1;
    for (int w = 1; w <= D; w++) {
        int s2[] = {D, w, w, K};
        long d = labs(count_assignment(s2, 3) - target);
        if (bestd < 0 || d < bestd) { bestd = d; two = w; }
    }
    return two;
}

static void section_counts(const spec *specs, int two)
{
    printf("parameter counts, a bias on every layer as the assignment counts them\n");
    printf("  %-38s %10s %12s\n", "network", "assignment", "trained here");
    spec s6464 = {"", "", 2, 64, ACT_STANH, 1, 1};
    const spec *shown[] = {&specs[0], &s6464, &specs[4], &specs[5], &specs[6], &specs[7]};
    for (size_t k = 0; k < sizeof shown / sizeof shown[0]; k++) {
        int sizes[MLP_MAX_LAYERS + 1];
        int L = spec_sizes(shown[k], sizes);
        char sz[256];
        sizes_str(sz, sizeof sz, sizes, L);
        mlp *m = spec_new(shown[k], 1);
        printf("  %-38s %10ld %12zu\n", sz, count_assignment(sizes, L), mlp_num_params(m));
        mlp_free(m);
    }
    printf("  (two equal hidden layers of %d come closest to 784-64-10's count)\n\n", two);
}

/* The assignment's check on the baseline (and, unless --quick, the
 * scaled-tanh network); returns 1 when every check passed. */
static int section_gradcheck(const spec *specs, const mlp_data *tr, double mean, double sd,
                             const lesson_args *a, double *worst)
{
    int nc = tr->n < NCHECK ? tr->n : NCHECK;
    double eps = 1e-3;
    printf("gradient check (the assignment's): central differences, eps = %g, on the mean\n"
           "loss of the first %d training images, every weight of 784(+1)-64-10 at its\n"
           "initial values; pass when every |numeric - analytic| <= eps^2 = %g.\n"
           "Analytic gradient: the graph, in double. Numeric: a double forward pass.\n",
           eps, nc, eps * eps);
    printf("  %-30s %8s %9s %12s %8s\n", "network", "weights", "loss", "worst diff", "verdict");
    int ok = 1, nchecks = a->quick ? 1 : 2;   // --quick: the assignment's baseline only
    gcheck gc[2] = {{0}};
    *worst = 0;
    for (int k = 0; k < nchecks; k++) {
        const spec *s = k == 0 ? &specs[0] : &specs[3];
        mlp *m = spec_new(s, (uint64_t)a->seed);
        if (gradcheck_fd(&gc[k], m, tr->x, tr->y, nc, eps, (float)((0 - mean) / sd), (uint64_t)a->seed))
            cli_fail("out of memory");
        mlp_free(m);
        printf("  %-30s %8d %9.5f %12.3e %8s\n", k == 0 ? "sigmoid, U[-1,1]" : "scaled tanh, N(0,1/sqrt(n))",
               gc[k].weights, gc[k].loss, gc[k].worst, gc[k].ok ? "pass" : "FAIL");
        ok &= gc[k].ok;
        *worst = !(gc[k].worst <= *worst) ? gc[k].worst : *worst;
    }
    printf("  the fast path's float32 gradient beside the graph's: largest difference %.1e\n",
           fmax(gc[0].vs_fast, gc[1].vs_fast));
    printf("  nudged losses by the one-unit shortcut beside a full forward pass: largest\n"
           "  difference %.1e (8 sampled weights)\n\n", fmax(gc[0].shortcut, gc[1].shortcut));
    return ok;
}

static void section_runs(const spec *specs, int n, outcome *out, const mlp_data *tr, const mlp_data *va,
                         const budget *b)
{
    printf("training (batch %d, up to %d epochs, early stopping; both ends shown)\n", b->batch, b->epochs);
    printf("  %-30s %7s %7s %7s %7s %7s %6s %7s\n", "", "", "at the", "best check:", "", "", "at the", "stop:");
    printf("  %-30s %7s %7s %7s %7s %7s %6s %7s\n", "run", "params", "step", "trAcc", "vaLoss", "vaAcc",
           "epochs", "vaAcc");
    for (int k = 0; k < n; k++) {
        if (k == 0) printf("  -- the tricks, one at a time\n");
        if (k == 4) printf("  -- width and depth, every trick on\n");
        out[k] = run(&specs[k], tr, va, b);
        const outcome *o = &out[k];
        printf("  %-30s %7ld %7ld %6.2f%% %7.4f %6.2f%% %6.1f %6.2f%%\n", specs[k].label, o->params_assign,
               o->best.step, 100 * o->tr.acc, o->va.loss, 100 * o->va.acc,
               (double)o->stop_step / b->steps_per_epoch, 100 * o->stop.val_acc);
    }
    printf("  (params: the assignment's count; best check: the lowest validation loss, the\n"
           "   early-stopping point, its weights restored and measured in full passes; stop:\n"
           "   where training ended, %s)\n\n",
           "the validation accuracy of the last check");
}

static void section_summary(const spec *specs, const outcome *out, int check_ok, double worst,
                            int two, int ntrain, int epochs, double lr)
{
    printf("summary\n");
    printf("  gradient check: %s (worst |numeric - analytic| %.1e <= %.0e)\n",
           check_ok ? "passed" : "FAILED", worst, 1e-6);
    for (int k = 0; k < 4; k++)
        printf("  %-30s validation %6.2f%% at its best check (step %ld), %6.2f%% at the stop%s\n",
               specs[k].label, 100 * out[k].va.acc, out[k].best.step, 100 * out[k].stop.val_acc,
               out[k].stopped_early ? " (stopped early)" : "");
    /* (\xc2\xa0: a non-breaking space, say.h: a formula kept on one line) */
    say(stdout, 2, "The assignment stops and reports the network as it is at the stop; restoring the "
        "best check's weights is our choice, so both are shown.");
    const outcome *base = &out[0], *init = &out[1];
    say(stdout, 2, "U[-1,1] weights (variance 1/3) on 785 inputs of unit variance give each sigmoid a "
        "pre-activation of standard deviation sqrt(785/3) = %.1f: the units saturate and sigma'\xc2\xa0~\xc2\xa0" "0 %s: "
        "the baseline reaches %.2f%% train and %.2f%% validation accuracy, against %.2f%% / %.2f%% with "
        "N(0,\xc2\xa0" "1/sqrt(n)), whose pre-activations have standard deviation 1, near 0 where the slope is "
        "largest.", sqrt((D + 1) / 3.0),
        base->va.acc < init->va.acc ? "slows learning without stopping it" : "does not hold it back here",
        100 * base->tr.acc, 100 * base->va.acc, 100 * init->tr.acc, 100 * init->va.acc);
    say(stdout, 2, "The scaled tanh is centred on 0 with slope ~1 there, so the next layer sees zero-mean "
        "inputs: %.2f%% validation against the sigmoid's %.2f%%.", 100 * out[2].va.acc, 100 * out[1].va.acc);
    say(stdout, 2, "Momentum averages the noisy minibatch gradients; its effective step alpha/(1\xc2\xa0-\xc2\xa0gamma) "
        "= %.2f against plain SGD's %.2f. %s step %ld against %ld.", lr / 5 / (1 - 0.9), lr,
        out[3].best.step < out[2].best.step ? "It reaches its best check sooner:"
                                             : "Here it does not reach its best check sooner:",
        out[3].best.step, out[2].best.step);
    say(stdout, 2, "width: 32 / 64 / 128 hidden reach %.2f%% / %.2f%% / %.2f%%; two hidden of %d: %.2f%%; "
        "ten hidden of 64: %.2f%%.", 100 * out[4].va.acc, 100 * out[3].va.acc,
        100 * out[5].va.acc, two, 100 * out[6].va.acc, 100 * out[7].va.acc);
    const outcome *ten = &out[7], *one = &out[3];
    if (ten->va.acc < one->va.acc)
        say(stdout, 2, "Ten layers do worse than one: every layer the error passes through multiplies it "
            "by its weights and slopes, so the lower layers learn more slowly%s, and %d images do not "
            "need the depth.", ten->stopped_early ? "" : "; it had not stopped within the budget", ntrain);
    else
        say(stdout, 2, "Ten layers do no worse than one here: with the scaled tanh and N(0,\xc2\xa0" "1/sqrt(n)) the "
            "signal keeps its scale through the stack.");
    int stopped = 0;
    for (int k = 0; k < 8; k++) stopped += out[k].stopped_early;
    say(stdout, 2, "%d of 8 runs stopped early within %d epochs; the others ran to the budget%s.", stopped,
        epochs, epochs < 50 ? " (--full: 50)" : "");
}

int main(int argc, char **argv)
{
    lesson_spec ls = {
        .flags = LESSON_TRAIN,
        .seed_help = "the weights and the shuffles",
        .quick_help = "the 100-image slice, a few epochs (seconds, for tests)",
        .full_help = "the assignment's budget: up to 50 epochs for every run (a few minutes)",
        .epochs = {8, 15, 50}, .max_epochs = 1000, .lr = 0.1,
        .lr_help = "of plain SGD (momentum runs: a fifth of it)", .batch = 32};
    lesson_args a;
    lesson_parse(argc, argv,
        "07 tricks of the trade — LeCun's tricks one at a time, width and depth, early\n"
        "stopping, and the assignment's finite-difference gradient check.", &ls, NULL, &a);

    printf("07 tricks of the trade\n\n");
    printf("The assignment trains 784(+1)-64-10 on MNIST and adds LeCun's tricks one at a\n"
           "time, each run keeping the previous ones: small initial weights N(0, 1/sqrt(n))\n"
           "instead of U[-1, 1]; the scaled tanh 1.7159 tanh(2x/3) instead of the sigmoid;\n"
           "momentum (dw <- g + 0.9 dw, w <- w - 0.02 dw) instead of plain SGD at 0.1\n"
           "(--lr sets plain SGD's rate; momentum then takes a fifth of it).\n"
           "Then, with every trick on, 32 and 128 hidden units, two hidden layers of\n"
           "equal width with about the same parameter count, and ten hidden layers of 64.\n"
           "Batch 32 (the last partial batch dropped), validation every 125 steps, early\n"
           "stopping after 50 checks without a lower validation loss. Our choices: the\n"
           "train columns of the curves are the mean over the 125 steps before each check;\n"
           "the best check's weights are restored and measured in full passes; the hidden\n"
           "layers have no biases (the assignment's bias trick feeds a constant 1 to the\n"
           "first layer only), so the trained networks have fewer parameters than the\n"
           "assignment's count, which puts a bias on every layer. One seed per run.\n\n");

    dataset train, test;
    double mean, sd;
    section_data(&a, &train, &test, &mean, &sd);
    mlp_data tr = lesson_view(&train), va = lesson_view(&test);
    if (a.batch > tr.n) cli_fail("--batch: %d is more than the %d training images", a.batch, tr.n);
    budget b = {a.epochs, a.quick ? 1 : 125, a.quick ? 4 : 50, a.batch, train.n / a.batch, a.lr,
                (uint64_t)a.seed};
    printf("data: MNIST, training = the first %d training images, validation = the %d test images\n",
           train.n, test.n);
    printf("  one mean and std over every training pixel: mean %.4f, std %.4f (pixels 0..255)\n", mean, sd);
    printf("  every set normalised with them; a constant 1 appended to each input (785 wide)\n");
    printf("  batch %d, drop last: %d steps per epoch; up to %d epochs%s; validation every %d step(s);\n"
           "  early stopping after %d checks without improvement\n", b.batch, b.steps_per_epoch,
           b.epochs, lesson_budget_note(&a), b.val_every, b.patience);
    if (a.quick) printf("  (--quick: the 100-image slice and a smaller budget)\n");
    else if (!a.full && !a.epochs_given)
        printf("  (the assignment allows 50 epochs: --full; by default at most %d, which\n"
               "  cuts the slow runs short of their early-stopping point)\n", b.epochs);
    printf("\n");

    int two = two_layer_width();
    spec specs[] = {
        {"baseline", "baseline: sigmoid, U[-1,1]", 1, 64, ACT_SIGMOID, 0, 0},
        {"init", "+ init N(0,1/sqrt(n))", 1, 64, ACT_SIGMOID, 1, 0},
        {"stanh", "+ scaled tanh", 1, 64, ACT_STANH, 1, 0},
        {"momentum", "+ momentum 0.9, lr / 5", 1, 64, ACT_STANH, 1, 1},
        {"h32", "all tricks, 32 hidden", 1, 32, ACT_STANH, 1, 1},
        {"h128", "all tricks, 128 hidden", 1, 128, ACT_STANH, 1, 1},
        {"two", "all tricks, two hidden", 2, two, ACT_STANH, 1, 1},
        {"ten", "all tricks, ten hidden of 64", 10, 64, ACT_STANH, 1, 1},
    };
    enum { NSPEC = sizeof specs / sizeof specs[0] };
    section_counts(specs, two);
    double worst;
    int check_ok = section_gradcheck(specs, &tr, mean, sd, &a, &worst);
    outcome out[NSPEC];
    section_runs(specs, NSPEC, out, &tr, &va, &b);
    section_summary(specs, out, check_ok, worst, two, train.n, b.epochs, b.lr);

    dataset_free(&train);
    dataset_free(&test);
    return check_ok ? 0 : 1;
}
