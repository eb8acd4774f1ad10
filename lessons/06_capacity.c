/* 06_capacity.c — capacity and activations on Fashion-MNIST: one hidden
 * layer of 16, 64, 128 or 512 units, sigmoid against ReLU, Keras's
 * defaults; the best model on validation is retrained on train+validation
 * and tested, with its confusion matrix.
 *
 * Everything runs on the fast path (models/train.h). Not a tuning study:
 * one seed, one optimiser per run (--opt). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lesson.h"
#include "say.h"

enum { D = 784, K = 10, NSIZE = 4, NACT = 2, MAXE = 200 };

static const int hidden[NSIZE] = {16, 64, 128, 512};
static const act_kind acts[NACT] = {ACT_SIGMOID, ACT_RELU};

static mlp *model_new(int H, act_kind act, uint64_t seed)
{
    const int sizes[3] = {D, H, K};
    return lesson_model(sizes, 2, act, INIT_GLOROT_UNIFORM, seed);   // Keras's default; biases 0
}

static train_cfg fit_cfg(opt_kind opt, const lesson_args *a, int epochs, uint64_t seed,
                         const char *name)
{
    train_cfg c = train_defaults();
    c.epochs = epochs;
    c.batch = a->batch;
    c.shuffle = 1;        // a fresh order every epoch, as Keras's fit()
    c.seed = seed;
    c.opt = optim_defaults(opt);
    if (a->lr_given) c.opt.lr = a->lr;
    c.val_every = 0;      // once per epoch
    c.eval_train = 0;     // the mean over the epoch's steps, as Keras reports it
    c.name = name;
    return c;
}

typedef struct {
    double val_loss[MAXE], val_acc[MAXE], train_acc[MAXE];
    int epochs;
} curve;

/* One model trained for e_long epochs on tr, validated on va each epoch. */
static void fit(curve *v, int H, act_kind act, opt_kind opt, const lesson_args *a, int e_long,
                const mlp_data *tr, const mlp_data *va)
{
    mlp *m = model_new(H, act, (uint64_t)a->seed);
    char name[64];
    snprintf(name, sizeof name, "%d %s %s", H, act_name(act), optim_name(opt));
    train_cfg c = fit_cfg(opt, a, e_long, (uint64_t)a->seed, name);
    train_result r;
    cli_train_status(train_run(m, tr, va, &c, &r), r.err);
    memset(v, 0, sizeof *v);
    for (int i = 0; i < r.n_hist && v->epochs < MAXE; i++) {
        if (r.hist[i].step == 0) continue;   // a check before training, if any
        v->val_loss[v->epochs] = r.hist[i].val_loss;
        v->val_acc[v->epochs] = r.hist[i].val_acc;
        v->train_acc[v->epochs] = r.hist[i].train_acc;
        v->epochs++;
    }
    if (v->epochs < e_long) cli_fail("%s: %d epochs recorded, expected %d", name, v->epochs, e_long);
    train_result_free(&r);
    mlp_free(m);
}

/* The curves, one table per hidden size for the plot. */
static void write_curves(curve cv[NSIZE][NACT], opt_kind opt, int e_long)
{
    for (int s = 0; s < NSIZE; s++) {
        char file[64];
        snprintf(file, sizeof file, "06_capacity_h%d.dat", hidden[s]);
        FILE *f = cli_data_file(file);
        fprintf(f, "# 06 capacity: %d hidden units, %s, validation per epoch\n", hidden[s], optim_name(opt));
        fprintf(f, "# epoch sigmoid_val_loss sigmoid_val_acc relu_val_loss relu_val_acc\n");
        for (int e = 0; e < e_long; e++)
            fprintf(f, "%d %.6f %.6f %.6f %.6f\n", e + 1, cv[s][0].val_loss[e], cv[s][0].val_acc[e],
                    cv[s][1].val_loss[e], cv[s][1].val_acc[e]);
        cli_data_close(f, file);
    }
}

/* The confusion matrix table; returns the hardest class and (in *confused)
 * the class it is most often taken for. */
static int write_confusion(const long *conf, int H, act_kind act, int epochs, double *worst_acc, int *confused)
{
    FILE *f = cli_data_file("06_capacity_confusion.dat");
    fprintf(f, "# 06 capacity: test confusion matrix of %d hidden, %s, %d epochs; rows true, columns predicted\n",
            H, act_name(act), epochs);
    fprintf(f, "# true predicted count fraction_of_true_class\n");
    int worst = 0;
    *worst_acc = 2;
    for (int i = 0; i < K; i++) {
        long row = 0;
        for (int j = 0; j < K; j++) row += conf[i * K + j];
        for (int j = 0; j < K; j++)
            fprintf(f, "%d %d %ld %.6f\n", i, j, conf[i * K + j], row ? (double)conf[i * K + j] / row : 0.0);
        fprintf(f, "\n");
        double acc = row ? (double)conf[i * K + i] / row : 0;
        if (acc < *worst_acc) *worst_acc = acc, worst = i;
    }
    cli_data_close(f, "06_capacity_confusion.dat");
    *confused = worst == 0 ? 1 : 0;
    for (int j = 0; j < K; j++)
        if (j != worst && conf[worst * K + j] > conf[worst * K + *confused]) *confused = j;
    return worst;
}

/* How many sizes each activation wins on validation accuracy after e epochs. */
static int relu_wins(curve cv[NSIZE][NACT], int e)
{
    int n = 0;
    for (int s = 0; s < NSIZE; s++) n += cv[s][1].val_acc[e - 1] > cv[s][0].val_acc[e - 1];
    return n;
}

/* The findings, each sentence chosen by this run's numbers. */
static void summarise_findings(curve cv[NSIZE][NACT], const curve cmp[NACT], opt_kind opt,
                               opt_kind other, int e_long, int full, const long *conf)
{
    int e = e_long - 1;
    for (int k = 0; k < NACT; k++) {
        int best = 0, rising = 1;
        for (int s = 1; s < NSIZE; s++) {
            if (cv[s][k].val_acc[e] > cv[best][k].val_acc[e]) best = s;
            if (cv[s][k].val_acc[e] < cv[s - 1][k].val_acc[e]) rising = 0;
        }
        say(stdout, 2, "%s: validation accuracy %s with the size%s%d hidden units (%.2f%%).",
            k ? "ReLU" : "Sigmoid", rising ? "never falls" : "does not grow steadily",
            rising ? ", highest at " : "; highest at ", hidden[best], 100 * cv[best][k].val_acc[e]);
    }
    int wins = relu_wins(cv, e_long);
    double here = cv[2][1].val_acc[e] - cv[2][0].val_acc[e];      /* 128 units, ReLU − sigmoid */
    double there = cmp[1].val_acc[e] - cmp[0].val_acc[e];
    const char *why;
    if ((here >= 0) != (there >= 0)) {
        opt_kind sgd_side = opt == OPT_SGD ? opt : other;
        double relu_sgd = sgd_side == opt ? here : there;
        why = relu_sgd > 0
            ? "the finding flips with the optimiser. Plain SGD steps by the raw gradient, which the "
              "sigmoid's slope (at most 1/4, vanishing where it saturates) shrinks, while ReLU passes it "
              "whole where a unit is active. RMSprop divides every step by the running size of its own "
              "gradient, so small gradients take full-sized steps and the sigmoid's handicap is gone."
            : "the finding flips with the optimiser. Here plain SGD favours the sigmoid: its small slope "
              "did not hold it back in this run (one seed; a few points can be noise).";
    } else
        why = "the same winner under both optimisers in this run.";
    say(stdout, 2, "Under %s ReLU beats the sigmoid at %d of %d sizes. At 128 units ReLU is %.2f points %s "
        "under %s and %.2f points %s under %s: %s", optim_name(opt), wins, NSIZE,
        100 * fabs(here), here >= 0 ? "ahead" : "behind", optim_name(opt), 100 * fabs(there),
        there >= 0 ? "ahead" : "behind", optim_name(other), why);
    int turned = 0;
    for (int s = 0; s < NSIZE; s++)
        for (int k = 0; k < NACT; k++) {
            const curve *v = &cv[s][k];
            int emin = 0;
            for (int q = 1; q < e_long; q++) if (v->val_loss[q] < v->val_loss[emin]) emin = q;
            if (emin + 1 < e_long) {
                if (!turned) printf("  Overfitting: the validation loss turns up while training goes on:\n");
                printf("    %d %s has its lowest validation loss after epoch %d of %d\n",
                       hidden[s], act_name(acts[k]), emin + 1, e_long);
                turned++;
            }
        }
    if (!turned)
        say(stdout, 2, "No validation loss has turned up yet within %d epochs%s.", e_long,
            full ? "" : " (--full runs 30)");
    long errors = 0, silhouette = 0;
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++)
            if (i != j) {
                errors += conf[i * K + j];
                /* T-shirt/top 0, Pullover 2, Coat 4, Shirt 6: tops of one silhouette */
                if ((i == 0 || i == 2 || i == 4 || i == 6) && (j == 0 || j == 2 || j == 4 || j == 6))
                    silhouette += conf[i * K + j];
            }
    if (errors)
        say(stdout, 2, "Of the %ld test errors, %ld (%.0f%%) confuse two of T-shirt/top, pullover, coat "
            "and shirt, the classes that share a silhouette.", errors, silhouette,
            100.0 * (double)silhouette / (double)errors);
}

int main(int argc, char **argv)
{
    lesson_spec spec = {
        .flags = LESSON_TRAIN | LESSON_OPT,
        .seed_help = "the split, the weights and the shuffles",
        .quick_help = "the 100-image slice, 4 epochs (seconds, for tests)",
        .full_help = "the assignment's budget: 15 and 30 epochs (about 10 minutes)",
        .data_help = "fashion-mnist/", .epochs = {4, 5, 30}, .max_epochs = MAXE, .batch = 32,
        .opt = "rmsprop", .opts_allowed = "sgd|adam|rmsprop"};
    lesson_args a;
    lesson_parse(argc, argv,
        "06 capacity and activations — Fashion-MNIST with one hidden layer of 16 to 512\n"
        "units, sigmoid against ReLU; the best model tested, with its confusion matrix.",
        &spec, NULL, &a);
    opt_kind opt = (opt_kind)a.opt, other = opt == OPT_SGD ? OPT_RMSPROP : OPT_SGD;
    /* The assignment reads the curves at 15 and at 30 epochs: one run of the
     * longer budget gives both (the first 15 epochs are the same run). */
    int e_long = a.epochs, e_short = e_long / 2 > 0 ? e_long / 2 : 1;

    printf("06 capacity and activations (Fashion-MNIST)\n\n");
    printf("How big must a network be, and which activation? One hidden layer of 16, 64,\n"
           "128 or 512 units, sigmoid or ReLU, Glorot-uniform weights, zero biases,\n"
           "batch 32 reshuffled every epoch, softmax + cross-entropy: Keras's defaults,\n"
           "and the assignment's optimiser, RMSprop. The 60,000 training images are split\n"
           "at random into 40,000 to train and 20,000 to validate; the model with the\n"
           "best validation accuracy is trained again on all 60,000 and tested once on\n"
           "the 10,000 test images. Which activation wins depends on the optimiser, so\n"
           "128 units are trained once more with the other one (%s). Our choices:\n"
           "one run of %d epochs per model, read at %d and at %d epochs; the train\n"
           "accuracy is the mean over each epoch's steps (as Keras reports it); one seed.\n\n",
           optim_name(other), e_long, e_short, e_long);

    const char *const *names = data_class_names("fashion-mnist");
    dataset all, test, train, val;
    data_expect want_train = DATA_EXPECT_28X28(a.quick ? 2 : 40001), want_test = DATA_EXPECT_28X28(1);
    lesson_load(a.root, "fashion-mnist", "train", &want_train, &all);
    lesson_load(a.root, "fashion-mnist", "test", &want_test, &test);
    if (a.quick && all.n > 100) {          /* --quick with a full data root: its first 100 */
        dataset head;
        if (data_split_first(&all, 100, &head, NULL)) cli_fail("out of memory");
        dataset_free(&all);
        all = head;
    }
    int n_tr = a.quick ? all.n * 2 / 3 : 40000;
    if (all.n < n_tr + 1) cli_fail("%s/fashion-mnist: %d training images, need more than %d", a.root, all.n, n_tr);
    if (a.batch > n_tr) cli_fail("--batch: %d is more than the %d training images", a.batch, n_tr);
    if (data_split_random(&all, n_tr, (uint64_t)a.seed, &train, &val) != 0) cli_fail("out of memory");
    data_scale(&all, 255);
    data_scale(&train, 255);
    data_scale(&val, 255);
    data_scale(&test, 255);
    mlp_data tr = lesson_view(&train), va = lesson_view(&val), te = lesson_view(&test), trva = lesson_view(&all);
    printf("data: Fashion-MNIST, %d train / %d validation (seeded shuffle, seed %d), %d test%s\n",
           train.n, val.n, a.seed, test.n, a.quick ? " (--quick: the 100-image slice)" : "");
    printf("optimiser: %s (Keras's defaults%s), batch %d; budget: %d epochs per model%s\n",
           optim_name(opt), a.lr_given ? ", rate from --lr" : "", a.batch, e_long, lesson_budget_note(&a));
    if (!a.quick && !a.full && !a.epochs_given)
        printf("  (the assignment reads 15 and 30 epochs: --full; by default %d and %d, so that\n"
               "  every lesson runs in minutes)\n", e_short, e_long);
    printf("\n");

    static curve cv[NSIZE][NACT], cmp[NACT];
    printf("accuracy per model, train (mean over the epoch) / validation, and validation loss\n");
    char h1[32], h2[32];
    snprintf(h1, sizeof h1, "after %d epochs", e_short);
    snprintf(h2, sizeof h2, "after %d epochs", e_long);
    printf("  %-6s %-8s %-8s %8s  %-26s %-26s\n", "hidden", "act", "opt", "params", h1, h2);
    int best_s = 0, best_a = 0, best_e = e_short;
    double best_acc = -1;
    for (int s = 0; s < NSIZE + 1; s++)
        for (int k = 0; k < NACT; k++) {
            int H = s < NSIZE ? hidden[s] : 128;
            opt_kind o = s < NSIZE ? opt : other;
            curve *v = s < NSIZE ? &cv[s][k] : &cmp[k];
            if (s == NSIZE && k == 0) printf("  -- the same 128 units under %s\n", optim_name(other));
            fit(v, H, acts[k], o, &a, e_long, &tr, &va);
            printf("  %-6d %-8s %-8s %8d  %6.2f%% / %6.2f%% (%.4f)  %6.2f%% / %6.2f%% (%.4f)\n", H,
                   act_name(acts[k]), optim_name(o), (H + 1) * K + (D + 1) * H,
                   100 * v->train_acc[e_short - 1], 100 * v->val_acc[e_short - 1], v->val_loss[e_short - 1],
                   100 * v->train_acc[e_long - 1], 100 * v->val_acc[e_long - 1], v->val_loss[e_long - 1]);
            const int ends[2] = {e_short, e_long};
            for (int q = 0; q < 2 && s < NSIZE; q++)
                if (v->val_acc[ends[q] - 1] > best_acc) {
                    best_acc = v->val_acc[ends[q] - 1];
                    best_s = s, best_a = k, best_e = ends[q];
                }
        }
    write_curves(cv, opt, e_long);
    int top_s = 0, top_a = 0;                // the assignment ranks by train accuracy
    for (int s = 0; s < NSIZE; s++)
        for (int k = 0; k < NACT; k++)
            if (cv[s][k].train_acc[e_long - 1] > cv[top_s][top_a].train_acc[e_long - 1]) top_s = s, top_a = k;

    printf("\nbest on validation: %d hidden, %s, %d epochs (%.2f%%)\n", hidden[best_s],
           act_name(acts[best_a]), best_e, 100 * best_acc);
    printf("retrained from scratch on train + validation (%d images) for %d epochs\n", all.n, best_e);
    mlp *m = model_new(hidden[best_s], acts[best_a], (uint64_t)a.seed);
    train_cfg c = fit_cfg(opt, &a, best_e, (uint64_t)a.seed, "retrain");
    train_result r;
    cli_train_status(train_run(m, &trva, NULL, &c, &r), r.err);
    train_result_free(&r);
    long conf[K * K] = {0};
    eval_result tr_all = train_evaluate(m, &trva, 1000, NULL);
    eval_result t = train_evaluate(m, &te, 1000, conf);
    printf("  train + validation: loss %.4f, accuracy %.2f%%\n", tr_all.loss, 100 * tr_all.acc);
    printf("  test:               loss %.4f, accuracy %.2f%%\n\n", t.loss, 100 * t.acc);
    printf("confusion matrix on the test set (rows: true class, columns: predicted)\n");
    train_print_confusion(stdout, conf, K, names);
    double worst_acc;
    int confused, worst = write_confusion(conf, hidden[best_s], acts[best_a], best_e, &worst_acc, &confused);

    printf("\nsummary\n");
    printf("  validation accuracy after %d epochs (sigmoid / ReLU, %s):\n   ", e_long, optim_name(opt));
    for (int s = 0; s < NSIZE; s++) printf(" %d: %.2f%% / %.2f%%%s", hidden[s], 100 * cv[s][0].val_acc[e_long - 1],
                                          100 * cv[s][1].val_acc[e_long - 1], s < NSIZE - 1 ? "," : "\n");
    say_item(stdout, 2, 4, "best on validation: %d hidden, %s, %d epochs; retrained on %d images: test "
             "accuracy %.2f%%", hidden[best_s], act_name(acts[best_a]), best_e, all.n, 100 * t.acc);
    say_item(stdout, 2, 4, "highest train accuracy (the assignment's ranking): %d hidden, %s, %.2f%%%s",
             hidden[top_s], act_name(acts[top_a]), 100 * cv[top_s][top_a].train_acc[e_long - 1],
             top_s == best_s && top_a == best_a ? " — the same model" : " — not the best on validation");
    say_item(stdout, 2, 4, "hardest class: %s (%.1f%% right), most often taken for %s", names[worst],
             100 * worst_acc, names[confused]);
    summarise_findings(cv, cmp, opt, other, e_long, a.full, conf);

    mlp_free(m);
    dataset_free(&all);
    dataset_free(&train);
    dataset_free(&val);
    dataset_free(&test);
    return 0;
}
