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
#include "cli.h"
#include "data.h"
#include "mlp.h"
#include "train.h"

enum { D = 784, K = 10 };

/* Our choice: Keras's 0.01 needs ~20 epochs to reach the turn of the
 * validation loss on H = 1000; 0.05 reaches it in ~8. */
#define LR 0.05

static mlp_data view(const dataset *s)
{
    return (mlp_data){s->x, s->labels, s->n, s->d};
}

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
                   int epochs, uint64_t seed)
{
    mlp_config cfg = {0};
    cfg.n_layers = 2;
    cfg.sizes[0] = D;
    cfg.sizes[1] = s->H;
    cfg.sizes[2] = K;
    cfg.act = ACT_RELU;
    cfg.init = (mlp_init){INIT_GLOROT_NORMAL, 0, 0};   // Xavier normal, biases 0
    cfg.seed = seed;
    mlp *m = mlp_new(&cfg);
    if (!m) cli_fail("out of memory");

    train_cfg c = train_defaults();
    c.epochs = epochs;
    c.batch = 32;
    c.shuffle = 1;
    c.seed = seed;
    c.opt = optim_defaults(OPT_CLASSICAL);   // v ← 0.9v − αg;  w ← w + v
    c.opt.momentum = 0.9;
    c.opt.lr = LR;
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

int main(int argc, char **argv)
{
    int quick = 0, full = 0, seed = 1, epochs_opt = -1;
    const char *data = NULL;
    cli_opt opts[] = {
        {"--quick", CLI_FLAG, &quick, NULL, "the 100-image slice (seconds, for tests)"},
        {"--full", CLI_FLAG, &full, NULL, "the whole budget: 50 epochs per setting"},
        {"--epochs", CLI_INT, &epochs_opt, "N", "epochs per setting (default 10; --full 50)"},
        {"--data", CLI_STRING, &data, "DIR", "data root holding mnist/ (default data/, or $CHAINRULE_DATA)"},
        {"--seed", CLI_INT, &seed, "N", "seed of the split, the weights, shuffles and dropout (default 1)"},
        {0}};
    cli_no_positional(cli_parse(argc, argv,
        "09 regularisation and early stopping — an over-sized ReLU network on 10,000\n"
        "MNIST images; hidden sizes, L2 weight decay and dropout.", opts), argc, argv);
    if (quick && full) cli_fail("--quick and --full exclude each other");
    if (epochs_opt != -1 && (epochs_opt < 1 || epochs_opt > 1000))
        cli_fail("--epochs: %d is not in 1..1000", epochs_opt);
    int epochs = epochs_opt != -1 ? epochs_opt : quick ? 4 : full ? 50 : 10;
    const char *root = cli_data_root(data);

    printf("09 regularisation and early stopping\n\n");
    printf("A network far larger than its data: 784 -> H ReLU -> 10 softmax with\n"
           "Xavier-normal weights, trained with momentum 0.9 on 10,000 MNIST images and\n"
           "validated on 6,000 others; 2,724 more are held out as a test set. The\n"
           "validation loss falls, bottoms out, then rises while the training loss keeps\n"
           "falling: the epoch of its minimum is where early stopping would stop, and\n"
           "the weights of that epoch are the ones tested. Then, on H = 1000, L2 weight\n"
           "decay and dropout. Our choices: Keras's form of momentum, v <- 0.9v - 0.05g,\n"
           "w <- w + v, at a rate of 0.05 (Keras's 0.01 needs twice the epochs to\n"
           "overfit); batch 32; the split is a seeded shuffle of the 60,000 training\n"
           "images; L2 adds (lambda/2) sum w^2 over the weights (not the biases) to the\n"
           "loss, so the gradient gains lambda w (Keras's l2(lambda) adds lambda sum w^2,\n"
           "twice that); dropout keeps each hidden unit with probability p and scales\n"
           "the kept ones by 1/p; the train columns are the mean over each epoch's\n"
           "steps, as Keras reports them (with dropout, the thinned network's); one\n"
           "seed.\n\n");

    dataset all, tr_set, rest, va_set, te_set;
    char err[IDX_ERR_LEN];
    int n_tr = quick ? 50 : 10000, n_va = quick ? 30 : 6000, n_te = quick ? 20 : 2724;
    data_expect want = DATA_EXPECT_28X28(n_tr + n_va + n_te);
    if (data_load_expect(root, "mnist", "train", &want, &all, err) != IDX_OK) cli_fail("%s", err);
    if (all.n < n_tr + n_va + n_te)
        cli_fail("%s/mnist: %d training images, need %d", root, all.n, n_tr + n_va + n_te);
    dataset tail;
    if (data_split_random(&all, n_tr, (uint64_t)seed, &tr_set, &rest) != 0 ||
        data_split_first(&rest, n_va, &va_set, &tail) != 0 ||
        data_split_first(&tail, n_te, &te_set, NULL) != 0)
        cli_fail("out of memory");
    dataset_free(&tail);
    dataset_free(&rest);
    dataset_free(&all);
    data_scale(&tr_set, 255);
    data_scale(&va_set, 255);
    data_scale(&te_set, 255);
    mlp_data tr = view(&tr_set), va = view(&va_set), te = view(&te_set);
    printf("data: MNIST training images shuffled (seed %d): %d train, %d validation, %d test%s\n",
           seed, tr_set.n, va_set.n, te_set.n, quick ? " (--quick: the 100-image slice)" : "");
    printf("budget: %d epochs per setting%s\n\n", epochs,
           full || quick || epochs_opt != -1 ? "" : " (--full: 50; the minimum of the validation loss comes early)");

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
        o_size[i] = run(&sizes[i], &tr, &va, &te, epochs, (uint64_t)seed);
        print_row(&sizes[i], &o_size[i]);
    }
    printf("\n2. H = 1000 with L2 weight decay\n");
    print_head();
    for (int i = 0; i < NL; i++) {
        snprintf(l2s[i].label, sizeof l2s[i].label, "lambda = %g", l2s[i].l2);
        o_l2[i] = run(&l2s[i], &tr, &va, &te, epochs, (uint64_t)seed);
        print_row(&l2s[i], &o_l2[i]);
    }
    printf("\n3. H = 1000 with dropout on the hidden layer\n");
    print_head();
    for (int i = 0; i < ND; i++) {
        snprintf(drops[i].label, sizeof drops[i].label, "keep p = %g", drops[i].keep);
        o_drop[i] = run(&drops[i], &tr, &va, &te, epochs, (uint64_t)seed);
        print_row(&drops[i], &o_drop[i]);
    }

    const outcome *ref = &o_size[2];   // H = 1000, nothing added
    printf("\nsummary (H = 1000 unless named; test accuracy at the best epoch)\n");
    for (int i = 0; i < NS; i++)
        printf("  %-16s best epoch %3d  test %6.2f%%  validation loss %.4f -> %.4f at the end\n",
               sizes[i].label, o_size[i].best_epoch, 100 * o_size[i].test.acc,
               o_size[i].best.val_loss, o_size[i].last.val_loss);
    for (int i = 0; i < NL; i++)
        printf("  %-16s best epoch %3d  test %6.2f%%  validation loss %.4f -> %.4f at the end\n",
               l2s[i].label, o_l2[i].best_epoch, 100 * o_l2[i].test.acc, o_l2[i].best.val_loss,
               o_l2[i].last.val_loss);
    for (int i = 0; i < ND; i++)
        printf("  %-16s best epoch %3d  test %6.2f%%  validation loss %.4f -> %.4f at the end\n",
               drops[i].label, o_drop[i].best_epoch, 100 * o_drop[i].test.acc,
               o_drop[i].best.val_loss, o_drop[i].last.val_loss);
    double gap_ref = ref->last.train_acc - ref->last.val_acc;
    double gap_l2 = o_l2[NL - 1].last.train_acc - o_l2[NL - 1].last.val_acc;
    double gap_dr = o_drop[ND - 1].last.train_acc - o_drop[ND - 1].last.val_acc;
    printf("  train - validation accuracy at the last epoch: %.2f points with nothing added,\n"
           "  %.2f with lambda = %g, %.2f with keep p = %g.\n",
           100 * gap_ref, 100 * gap_l2, l2s[NL - 1].l2, 100 * gap_dr, drops[ND - 1].keep);
    printf("  H = 1000, nothing added: lowest validation loss after epoch %d of %d", ref->best_epoch,
           ref->epochs);
    if (ref->best_epoch < ref->epochs)
        printf(", then it rose by %.4f\n  while the training loss kept falling.\n",
               ref->last.val_loss - ref->best.val_loss);
    else
        printf(": it has not turned\n  up yet (--full runs 50 epochs).\n");
    printf("  With 10,000 images and up to 1.6 million weights the network can memorise\n"
           "  the training set: its loss goes on falling while the validation loss turns\n"
           "  up. Stopping at the validation minimum keeps the best model. L2 pulls every\n"
           "  weight towards 0, so the network cannot grow the large weights that\n"
           "  memorising needs (too large a lambda underfits); dropout makes every hidden\n"
           "  unit unreliable, so no unit can depend on a few others. Both narrow the gap\n"
           "  between train and validation and delay the turn.\n");

    dataset_free(&tr_set);
    dataset_free(&va_set);
    dataset_free(&te_set);
    return 0;
}
