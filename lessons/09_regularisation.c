/* 09_regularisation.c — regularisation and early stopping: an over-sized
 * 784-H-10 ReLU network on 10,000 MNIST images overfits; the epoch of the
 * lowest validation loss is the early-stopping point; L2 weight decay and
 * dropout on H = 1000 change how soon and how badly it overfits.
 *
 * Everything runs on the fast path (models/train.h). Not a tuning study:
 * one seed, the optimiser's default rate. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "lesson.h"
#include "say.h"

enum { D = 784, K = 10 };

typedef struct {
    const char *tag;   /* build/data/09_regularisation_<tag>.dat */
    char label[48];
    int H;
    double l2, keep;
} setting;

typedef struct {
    int best_epoch, epochs;
    train_point best, last;
    eval_result test;   /* at the best epoch's weights */
} outcome;

static outcome run(const setting *s, const mlp_data *tr, const mlp_data *va, const mlp_data *te,
                   const lesson_args *a)
{
    const int sizes[3] = {D, s->H, K};
    uint64_t seed = (uint64_t)a->seed;
    mlp *m = lesson_model(sizes, 2, ACT_RELU, INIT_GLOROT_NORMAL, seed);   // Xavier normal, biases 0

    train_cfg c = train_defaults();
    c.epochs = a->epochs;
    c.batch = a->batch;
    c.shuffle = 1;
    c.seed = seed;
    c.opt = optim_defaults(OPT_CLASSICAL);   // v ← 0.9v − αg;  w ← w + v
    c.opt.momentum = 0.9;
    c.opt.lr = a->lr;
    c.opt.l2 = s->l2;
    c.keep = s->keep;
    c.val_every = 0;
    c.patience = 0;          // train on to see the overfitting; the best epoch is read off
    c.restore_best = 1;      // …and its weights are the ones tested
    c.eval_train = 0;        // the mean over the epoch's steps, as Keras reports it
    c.name = s->label;
    train_result r;
    cli_train_status(train_run(m, tr, va, &c, &r), r.err);

    char file[96];
    snprintf(file, sizeof file, "09_regularisation_%s.dat", s->tag);
    FILE *f = cli_data_file(file);
    fprintf(f, "# 09 regularisation: %s (784-%d-10 ReLU)\n", s->label, s->H);
    fprintf(f, "# epoch train_loss train_acc val_loss val_acc\n");
    outcome o = {0};
    double best = INFINITY;
    for (int i = 0; i < r.n_hist; i++) {
        const train_point *p = &r.hist[i];
        fprintf(f, "%.4f %.6f %.6f %.6f %.6f\n", p->epoch, p->train_loss, p->train_acc,
                p->val_loss, p->val_acc);
        if (p->step == 0) continue;
        if (p->val_loss < best) { best = p->val_loss; o.best = *p; }
        o.last = *p;
    }
    cli_data_close(f, file);
    o.best_epoch = o.best.epoch_i;
    o.epochs = o.last.epoch_i;
    o.test = train_evaluate(m, te, 1000, NULL);
    train_result_free(&r);
    mlp_free(m);
    return o;
}

static void print_row(const setting *s, const outcome *o)
{
    printf("  %-16s %5d   %6.2f%% %6.2f%% %6.2f%%   %7.4f %7.4f   %6.2f%% %6.2f%%\n", s->label,
           o->best_epoch, 100 * o->best.train_acc, 100 * o->best.val_acc, 100 * o->test.acc,
           o->best.val_loss, o->last.val_loss, 100 * o->last.train_acc, 100 * o->last.val_acc);
}

static void print_head(void)
{
    printf("  %-16s %5s   %7s %7s %7s   %7s %7s   %7s %7s\n", "", "best", "train", "val",
           "test", "valLoss", "valLoss", "train", "val");
    printf("  %-16s %5s   %23s   %7s %7s   %15s\n", "setting", "epoch", "at the best epoch",
           "best", "last", "at the last epoch");
}

/* L2 and dropout against H = 1000 with nothing added: each sentence is
 * chosen by the numbers. */
static void summarise(const setting *l2s, const outcome *o_l2, int nl, const setting *drops,
                      const outcome *o_drop, int nd, const outcome *ref, const lesson_args *a,
                      int steps_per_epoch, int ntrain)
{
    const double gamma = 0.9;
    char tail[400], lab[64], glued[128];
    if (ref->best_epoch < ref->epochs && ref->last.train_loss < ref->best.train_loss)
        snprintf(tail, sizeof tail, ", then it rose by %.4f while the training loss kept falling (%.4f -> %.4f): "
                 "the network memorises its %d images, and stopping at the validation minimum keeps the "
                 "better model.", ref->last.val_loss - ref->best.val_loss, ref->best.train_loss,
                 ref->last.train_loss, ntrain);
    else if (ref->best_epoch < ref->epochs)
        snprintf(tail, sizeof tail, ", then it rose by %.4f and so did the training loss: the rate is too large "
                 "to settle.", ref->last.val_loss - ref->best.val_loss);
    else
        snprintf(tail, sizeof tail, ": it has not turned up yet (more epochs: --epochs, --full).");
    say(stdout, 2, "H = 1000, nothing added: lowest validation loss after epoch %d of %d%s", ref->best_epoch,
        ref->epochs, tail);
    double gap_ref = ref->last.train_acc - ref->last.val_acc;
    say(stdout, 2, "L2 pulls every weight towards 0: each step removes lr·lambda·w, and momentum repeats a "
        "steady pull about 1/(1\xc2\xa0-\xc2\xa0gamma) = %.0f times, so the decay per step is about "
        "lr·lambda/(1\xc2\xa0-\xc2\xa0gamma):", 1 / (1 - gamma));
    for (int i = 0; i < nl; i++) {
        const outcome *o = &o_l2[i];
        double d = a->lr * l2s[i].l2 / (1 - gamma);
        double per_epoch = d < 1 ? pow(1 - d, steps_per_epoch) : 0;
        double gap = o->last.train_acc - o->last.val_acc;
        snprintf(lab, sizeof lab, "lambda = %-5g", l2s[i].l2);     /* (its padding kept: glued) */
        say_item(stdout, 4, 6, "%s %.4f per step (x%.2g per epoch without the gradient's pull); best epoch %d "
                 "(%s), test %.2f%% (%s %.2f%%)%s%s", say_glued(glued, sizeof glued, lab), d, per_epoch,
                 o->best_epoch, o->best_epoch < ref->best_epoch ? "earlier than without"
                                : o->best_epoch > ref->best_epoch ? "later than without" : "as without",
                 100 * o->test.acc, o->test.acc < ref->test.acc ? "below" : "not below", 100 * ref->test.acc,
                 o->best.val_acc < 0.5 ? ": it does not learn" : "; gap ",
                 o->best.val_acc < 0.5 ? "" : gap < gap_ref ? "narrower" : "not narrower");
    }
    int worse = 0;
    for (int i = 0; i < nl; i++) worse += o_l2[i].test.acc < ref->test.acc;
    if (worse == nl)
        say(stdout, 2, "Every lambda here lowers the test accuracy: the decay is strong enough to hold the "
            "weights below what fitting the digits needs (it underfits), not only what memorising needs. "
            "Smaller lambdas or rates weaken it.");
    else if (worse)
        say(stdout, 2, "%d of %d lambdas lower the test accuracy here.", worse, nl);
    else
        say(stdout, 2, "No lambda here lowers the test accuracy.");
    say(stdout, 2, "Dropout makes each hidden unit unreliable, so no unit can lean on a few others:");
    for (int i = 0; i < nd; i++) {
        const outcome *o = &o_drop[i];
        double gap = o->last.train_acc - o->last.val_acc;
        snprintf(lab, sizeof lab, "keep p = %-5g", drops[i].keep);
        say_item(stdout, 4, 6, "%s best epoch %d (%s), test %.2f%% (%s %.2f%%), gap %s",
                 say_glued(glued, sizeof glued, lab),
                 o->best_epoch, o->best_epoch < ref->best_epoch ? "earlier than without"
                                : o->best_epoch > ref->best_epoch ? "later than without" : "as without",
                 100 * o->test.acc, o->test.acc < ref->test.acc ? "below" : "not below", 100 * ref->test.acc,
                 gap < gap_ref ? "narrower" : "not narrower");
    }
    say(stdout, 2, "(gap: train minus validation accuracy at the last epoch, %.2f points without; with dropout "
        "the train column is the thinned network's)", 100 * gap_ref);
}

int main(int argc, char **argv)
{
    lesson_spec spec = {
        .flags = LESSON_TRAIN,
        .seed_help = "the split, the weights, shuffles and dropout",
        .quick_help = "the 100-image slice, 4 epochs (seconds, for tests)",
        .full_help = "the assignment's 200 epochs per setting (10 settings: about an hour)",
        .epochs = {4, 9, 200}, .max_epochs = 1000, .lr = 0.05,
        .lr_help = "of momentum descent", .batch = 32};
    lesson_args a;
    lesson_parse(argc, argv,
        "09 regularisation and early stopping — an over-sized ReLU network on 10,000\n"
        "MNIST images; hidden sizes, L2 weight decay and dropout.", &spec, NULL, &a);

    printf("09 regularisation and early stopping\n\n");
    printf("A network far larger than its data: 784 -> H ReLU -> 10 softmax with\n"
           "Xavier-normal weights, trained with momentum 0.9 on 10,000 images and\n"
           "validated on 6,000 others; 2,724 more are held out as a test set. The\n"
           "validation loss falls, bottoms out, then rises while the training loss keeps\n"
           "falling: the epoch of its minimum is where early stopping would stop, and\n"
           "the weights of that epoch are the ones tested. Then, on H = 1000, L2 weight\n"
           "decay and dropout.\n"
           "What was changed: the assignment used the notMNIST letters A-J (18,720\n"
           "images; the 10,000 / 6,000 / 2,724 split is theirs) and 200 epochs; notMNIST\n"
           "cannot be fetched here, so MNIST digits stand in, with the same split sizes.\n"
           "Our choices: Keras's form of momentum, v <- 0.9v - lr·g, w <- w + v, at a rate\n"
           "of %g (Keras's 0.01 needs about twice the epochs to overfit); batch %d; %d\n"
           "epochs by default (--full: 200); the split is a seeded shuffle of the 60,000\n"
           "training images; L2 adds (lambda/2) sum w^2 over the weights (not the biases)\n"
           "to the loss, so the gradient gains lambda w (Keras's l2(lambda) adds lambda\n"
           "sum w^2, twice that); dropout keeps each hidden unit with probability p and\n"
           "scales the kept ones by 1/p; the train columns are the mean over each epoch's\n"
           "steps, as Keras reports them (with dropout, the thinned network's); one seed.\n\n",
           a.lr, a.batch, spec.epochs[1]);

    dataset all, tr_set, rest, va_set, te_set;
    int n_tr = a.quick ? 50 : 10000, n_va = a.quick ? 30 : 6000, n_te = a.quick ? 20 : 2724;
    data_expect want = DATA_EXPECT_28X28(n_tr + n_va + n_te);
    lesson_load(a.root, "mnist", "train", &want, &all);
    if (all.n < n_tr + n_va + n_te)
        cli_fail("%s/mnist: %d training images, need %d", a.root, all.n, n_tr + n_va + n_te);
    if (a.batch > n_tr) cli_fail("--batch: %d is more than the %d training images", a.batch, n_tr);
    dataset tail;
    if (a.quick && all.n > 100) {          /* --quick with a full data root: its first 100 */
        dataset head;
        if (data_split_first(&all, 100, &head, NULL)) cli_fail("out of memory");
        dataset_free(&all);
        all = head;
    }
    if (data_split_random(&all, n_tr, (uint64_t)a.seed, &tr_set, &rest) != 0 ||
        data_split_first(&rest, n_va, &va_set, &tail) != 0 ||
        data_split_first(&tail, n_te, &te_set, NULL) != 0)
        cli_fail("out of memory");
    dataset_free(&tail);
    dataset_free(&rest);
    dataset_free(&all);
    data_scale(&tr_set, 255);
    data_scale(&va_set, 255);
    data_scale(&te_set, 255);
    mlp_data tr = lesson_view(&tr_set), va = lesson_view(&va_set), te = lesson_view(&te_set);
    printf("data: MNIST training images shuffled (seed %d): %d train, %d validation, %d test%s\n",
           a.seed, tr_set.n, va_set.n, te_set.n, a.quick ? " (--quick: the 100-image slice)" : "");
    printf("budget: %d epochs per setting, rate %g, batch %d%s\n\n", a.epochs, a.lr, a.batch,
           lesson_budget_note(&a));

    setting sizes[] = {{"h100", "", 100, 0, 1}, {"h500", "", 500, 0, 1},
                       {"h1000", "", 1000, 0, 1}, {"h2000", "", 2000, 0, 1}};
    setting l2s[] = {{"l2_0.01", "", 1000, 0.01, 1}, {"l2_0.1", "", 1000, 0.1, 1},
                     {"l2_0.5", "", 1000, 0.5, 1}};
    setting drops[] = {{"keep_0.9", "", 1000, 0, 0.9}, {"keep_0.75", "", 1000, 0, 0.75},
                       {"keep_0.5", "", 1000, 0, 0.5}};
    enum { NS = 4, NL = 3, ND = 3 };
    outcome o_size[NS], o_l2[NL], o_drop[ND];

    printf("1. hidden size, no regularisation\n");
    print_head();
    for (int i = 0; i < NS; i++) {
        snprintf(sizes[i].label, sizeof sizes[i].label, "H = %d", sizes[i].H);
        o_size[i] = run(&sizes[i], &tr, &va, &te, &a);
        print_row(&sizes[i], &o_size[i]);
    }
    printf("\n2. H = 1000 with L2 weight decay\n");
    print_head();
    for (int i = 0; i < NL; i++) {
        snprintf(l2s[i].label, sizeof l2s[i].label, "lambda = %g", l2s[i].l2);
        o_l2[i] = run(&l2s[i], &tr, &va, &te, &a);
        print_row(&l2s[i], &o_l2[i]);
    }
    printf("\n3. H = 1000 with dropout on the hidden layer\n");
    print_head();
    for (int i = 0; i < ND; i++) {
        snprintf(drops[i].label, sizeof drops[i].label, "keep p = %g", drops[i].keep);
        o_drop[i] = run(&drops[i], &tr, &va, &te, &a);
        print_row(&drops[i], &o_drop[i]);
    }

    const outcome *ref = &o_size[2];   // H = 1000, nothing added
    printf("\nsummary (H = 1000 unless named; test accuracy at the best epoch)\n");
    for (int i = 0; i < NS; i++)
        printf("  %-16s best epoch %3d  test %6.2f%%  validation loss %.4f -> %.4f at the end\n",
               sizes[i].label, o_size[i].best_epoch, 100 * o_size[i].test.acc,
               o_size[i].best.val_loss, o_size[i].last.val_loss);
    int steps = (tr.n + a.batch - 1) / a.batch;
    summarise(l2s, o_l2, NL, drops, o_drop, ND, ref, &a, steps, tr.n);

    dataset_free(&tr_set);
    dataset_free(&va_set);
    dataset_free(&te_set);
    return 0;
}
