/* 08_depth.c — depth and vanishing gradients: stacks of 5, 20 and 40 dense
 * layers of 32 units with ReLU, tanh, sigmoid and LeCun's tanh, trained
 * briefly on MNIST; then the gradient of the mean training loss, layer by
 * layer, shows where learning stalls.
 *
 * Everything runs on the fast path (models/mlp.h, models/train.h). Not a
 * study of how to train deep networks well: the assignment's plain SGD at
 * 0.01 for 3 epochs, one seed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "lesson.h"
#include "say.h"

enum { D = 784, K = 10, WIDTH = 32, NDEPTH = 3, NACT = 4, MAXL = 40, MAXE = 100 };
/* below CHANCE_PCT% validation accuracy a network counts as at chance
 * level; its gradient vanished where layer 1's largest |dW| is under
 * 1/VANISH_DIV of the output layer's */
enum { CHANCE_PCT = 20, VANISH_DIV = 100 };

static const int depths[NDEPTH] = {5, 20, 40};
static const act_kind acts[NACT] = {ACT_RELU, ACT_TANH, ACT_SIGMOID, ACT_STANH_LIN};
static const char *const act_label[NACT] = {"relu", "tanh", "sigmoid", "lecun_tanh"};

static void load(const char *root, const char *split, int n, dataset *out)
{
    dataset all;
    data_expect want = DATA_EXPECT_28X28(1);
    lesson_load(root, "mnist", split, &want, &all);
    if (n > all.n) n = all.n;
    if (data_split_first(&all, n, out, NULL) != 0) cli_fail("out of memory");
    dataset_free(&all);
    data_scale(out, 255);
}

static mlp *model_new(int L, act_kind act, uint64_t seed)
{
    int sizes[MAXL + 1];
    sizes[0] = D;
    for (int l = 1; l < L; l++) sizes[l] = WIDTH;
    sizes[L] = K;
    return lesson_model(sizes, L, act, INIT_GLOROT_UNIFORM, seed);   // Keras's default; biases 0
}

typedef struct {
    double train_acc[MAXE], val_acc[MAXE], val_loss;
    int epochs;
    double gW[MAXL], gb[MAXL];   /* largest |∂loss/∂W[l]|, |∂loss/∂b[l]| after training */
} outcome;

static outcome run(int L, int a, const mlp_data *tr, const mlp_data *va, const lesson_args *args)
{
    uint64_t seed = (uint64_t)args->seed;
    mlp *m = model_new(L, acts[a], seed);
    train_cfg c = train_defaults();
    c.epochs = args->epochs;
    c.batch = args->batch;
    c.shuffle = 1;
    c.seed = seed;
    c.opt = optim_defaults(OPT_SGD);
    c.opt.lr = args->lr;
    c.val_every = 0;       // at the end of every epoch, as Keras's fit()
    c.eval_train = 0;      // Keras's train accuracy: the mean over the epoch's steps
    char name[64];
    snprintf(name, sizeof name, "L=%d %s", L, act_label[a]);
    c.name = name;
    train_result r;
    int rc = train_run(m, tr, va, &c, &r);
    if (rc != TRAIN_FAULT) cli_train_status(rc, r.err);
    outcome o = {0};
    for (int i = 0; i < r.n_hist && o.epochs < MAXE; i++) {
        if (r.hist[i].step == 0) continue;   // a check before training, if any
        o.train_acc[o.epochs] = r.hist[i].train_acc;
        o.val_acc[o.epochs] = r.hist[i].val_acc;
        o.val_loss = r.hist[i].val_loss;
        o.epochs++;
    }
    if (rc == TRAIN_FAULT) {
        /* One model of the twelve diverged: a finding of the comparison, not
         * the end of the lesson. Its line says where; the epochs it did not
         * finish, and its gradients, are not numbers (nan). */
        printf("  %s: %s\n", name, r.err);
        for (; o.epochs < args->epochs && o.epochs < MAXE; o.epochs++) o.train_acc[o.epochs] = o.val_acc[o.epochs] = NAN;
        o.val_loss = NAN;
        for (int l = 0; l < L; l++) o.gW[l] = o.gb[l] = NAN;
    } else {
        train_full_gradient(m, tr, 1000);
        for (int l = 0; l < L; l++) o.gW[l] = train_grad_max(m, l, &o.gb[l]);
    }
    train_result_free(&r);
    mlp_free(m);
    return o;
}

/* layer 1's largest |dW| over the output layer's (0 when that is 0) */
static double down_ratio(const outcome *o, int L) { return o->gW[L - 1] > 0 ? o->gW[0] / o->gW[L - 1] : 0; }

/* What the gradients and accuracies of this run show, model by model:
 * dead layers, chance-level networks, how much the gradient shrinks.
 * Each sentence is formatted whole and wrapped by say(). */
static void summarise(FILE *f, outcome out[NDEPTH][NACT], int epochs)
{
    say(f, 2, "Backprop multiplies, layer by layer, the weights and the activation's slope, so "
        "the error signal can shrink (or die) on its way down to layer 1.");
    for (int d = 0; d < NDEPTH; d++)
        for (int k = 0; k < NACT; k++) {
            const outcome *o = &out[d][k];
            int L = depths[d], dead = -1;
            for (int l = L - 1; l >= 0 && dead < 0; l--)
                if (o->gW[l] == 0 && o->gb[l] == 0) dead = l;
            double acc = o->val_acc[o->epochs - 1];
            if (!isfinite(o->val_loss)) {
                say(f, 2, "%s at L = %d diverged: training stopped at a loss that is not a finite "
                    "number (the rate is too large), so it has no accuracy or gradients to show.",
                    act_label[k], L);
            } else if (dead == L - 1) {
                say(f, 2, "%s at L = %d: the output layer gets exactly zero gradient: the softmax "
                    "saturated (float32 probabilities exactly 0 or 1), so nothing flows back at all; "
                    "validation %.2f%%.", act_label[k], L, 100 * acc);
            } else if (dead >= 0) {
                char above[160] = "";
                if (o->gW[dead + 1] == 0 && o->gb[dead + 1] > 0)
                    snprintf(above, sizeof above, " Layer %d above it still gets a bias gradient (%.1e) "
                             "but no weight gradient: its inputs are all 0.", dead + 2, o->gb[dead + 1]);
                say(f, 2, "%s at L = %d: layer %d gets exactly zero gradient, weights and biases: "
                    "%s for every training image, so no error passes through it, and the %d layer%s "
                    "below it get%s none either.%s One dead layer cuts off everything below it; "
                    "validation %.2f%%.", act_label[k], L, dead + 1,
                    acts[k] == ACT_RELU ? "every unit there is off (ReLU 0)"
                                        : "every unit there is saturated (slope exactly 0 in float32)",
                    dead, dead == 1 ? "" : "s", dead == 1 ? "s" : "", above, 100 * acc);
            }
        }
    /* chance-level networks without a dead layer, by whether the gradient reached layer 1 */
    for (int vanished = 1; vanished >= 0; vanished--) {
        char list[1024] = "", item[64], glued[128];
        size_t len = 0;
        int n = 0;
        for (int d = 0; d < NDEPTH; d++)
            for (int k = 0; k < NACT; k++) {
                const outcome *o = &out[d][k];
                int L = depths[d], dead = 0;
                for (int l = 0; l < L; l++) dead |= o->gW[l] == 0 && o->gb[l] == 0;
                double ratio = down_ratio(o, L);
                if (dead || !isfinite(o->val_loss) || o->val_acc[o->epochs - 1] >= CHANCE_PCT / 100.0 ||
                    (ratio < 1.0 / VANISH_DIV) != vanished) continue;
                snprintf(item, sizeof item, "%s L=%d (%.0f%%, %.0e)", act_label[k], L,
                         100 * o->val_acc[o->epochs - 1], ratio);
                int w = snprintf(list + len, sizeof list - len, "%s%s", n++ ? "; " : "",
                                 say_glued(glued, sizeof glued, item));
                if (w > 0 && (size_t)w < sizeof list - len) len += (size_t)w;
            }
        if (n)
            say(f, 2, vanished ? "At chance level (below %d%%), the gradient vanished on the way down "
                                      "(layer 1 gets less than 1/%d of the output layer's largest |dW|): %s."
                                    : "At chance level (below %d%%) although the gradient reaches layer 1 "
                                      "(1/%d of the output layer's or more), which points to too small a "
                                      "budget rather than a vanished gradient: %s.", CHANCE_PCT, VANISH_DIV, list);
    }
    int L40 = depths[NDEPTH - 1];
    const outcome *s40 = &out[NDEPTH - 1][2], *t40 = &out[NDEPTH - 1][1];
    double rs = down_ratio(s40, L40), rt = down_ratio(t40, L40);
    if (!isfinite(s40->val_loss) || !isfinite(t40->val_loss))
        say(f, 2, "At L = %d the %s diverged, so its gradients cannot be set beside the %s's.", L40,
            !isfinite(s40->val_loss) ? "sigmoid" : "tanh", !isfinite(s40->val_loss) ? "tanh" : "sigmoid");
    else if (rs == 0 || rt == 0)
        say(f, 2, "At L = %d no gradient reaches layer 1 for %s (a layer above it is dead), so "
            "how fast the sigmoid's and tanh's gradients shrink cannot be compared here.", L40,
            rs == 0 && rt == 0 ? "the sigmoid or tanh" : rs == 0 ? "the sigmoid" : "tanh");
    else
        say(f, 2, "At L = %d the largest |dW| of layer 1 is %.1e of the last layer's for the "
            "sigmoid (slope at most 1/4 per layer) and %.1e for tanh (slope 1 at 0)%s", L40, rs, rt,
            rs < rt ? ": the sigmoid's gradient vanishes faster." : "; here the sigmoid's does not vanish faster.");
    say(f, 2, "One seed and %d epoch%s: whether a deep ReLU stack dies depends on its initial "
        "weights (try --seed); He's initialisation (twice Glorot's variance) keeps ReLU layers from "
        "halving the signal each.", epochs, epochs == 1 ? "" : "s");
}

int main(int argc, char **argv)
{
    lesson_spec spec = {
        .flags = LESSON_TRAIN,
        .seed_help = "the weights and the shuffles",
        .quick_help = "the 100-image slice (seconds, for tests)",
        .full_help = "the assignment's budget, 3 epochs: the default already is",
        .epochs = {3, 3, 3}, .max_epochs = MAXE, .lr = 0.01, .lr_help = "of plain SGD", .batch = 32};
    lesson_args a;
    lesson_parse(argc, argv,
        "08 depth and vanishing gradients — 5, 20, 40 layers of 32 with four activations;\n"
        "the per-layer gradient after training.", &spec, NULL, &a);

    printf("08 depth and vanishing gradients\n\n");
    printf("Stacks of L = 5, 20 and 40 dense layers (counting the softmax output layer;\n"
           "every hidden layer 32 wide) with ReLU, tanh, sigmoid or LeCun's tanh\n"
           "1.7159 tanh(2x/3) + 0.01x, Glorot-uniform weights, zero biases, trained\n"
           "with plain SGD (the assignment's rate 0.01, batch 32) for 3 epochs on MNIST\n"
           "(pixels /255). After training, the gradient of the mean loss over the whole\n"
           "training set is taken once more and its largest entry printed for every\n"
           "layer (layer 1 takes the pixels, layer L is the softmax output).\n"
           "Our choices: the test set serves as the validation set (as Keras's\n"
           "validation_data); train accuracy is the mean over each epoch's steps, as\n"
           "Keras reports it; one seed.\n\n");

    dataset train, test;
    load(a.root, "train", a.quick ? 100 : 60000, &train);
    load(a.root, "test", a.quick ? 100 : 10000, &test);
    mlp_data tr = lesson_view(&train), va = lesson_view(&test);
    if (a.batch > tr.n) cli_fail("--batch: %d is more than the %d training images", a.batch, tr.n);
    int epochs = a.epochs;
    printf("data: MNIST, %d training images, %d validation (test) images%s\n", train.n, test.n,
           a.quick ? " (--quick: the 100-image slice)" : "");
    printf("budget: %d epochs per model, rate %g, batch %d%s\n\n", epochs, a.lr, a.batch,
           a.epochs_given || a.lr_given || a.batch_given ? " (from the command line)"
                                                         : " (the assignment's)");

    static outcome out[NDEPTH][NACT];
    for (int d = 0; d < NDEPTH; d++) {
        int L = depths[d];
        mlp *m = model_new(L, ACT_RELU, (uint64_t)a.seed);
        printf("L = %d: model summary (the same for every activation)\n", L);
        mlp_summary(m, stdout);
        printf("\n");
        mlp_free(m);

        printf("L = %d: accuracy per epoch (train = mean over the epoch, validation = after it)\n", L);
        for (int k = 0; k < NACT; k++) {
            outcome *o = &out[d][k];
            *o = run(L, k, &tr, &va, &a);
            printf("  %-10s train", act_label[k]);
            for (int e = 0; e < o->epochs; e++) printf(" %6.2f%%", 100 * o->train_acc[e]);
            printf("   validation");
            for (int e = 0; e < o->epochs; e++) printf(" %6.2f%%", 100 * o->val_acc[e]);
            printf("\n");
        }
        printf("\n");

        printf("L = %d: largest |gradient| per layer after training (mean loss over the training set)\n", L);
        printf("  %5s", "layer");
        for (int k = 0; k < NACT; k++) printf("  %9s W %7s b", act_label[k], "");
        printf("\n");
        char file[64];
        snprintf(file, sizeof file, "08_depth_L%d.dat", L);
        FILE *f = cli_data_file(file);
        fprintf(f, "# 08 depth: L = %d, largest |dloss/dW| and |dloss/db| per layer after %d epochs\n",
                L, epochs);
        fprintf(f, "# layer");
        for (int k = 0; k < NACT; k++) fprintf(f, " %s_W %s_b", act_label[k], act_label[k]);
        fprintf(f, "\n");
        for (int l = 0; l < L; l++) {
            printf("  %5d", l + 1);
            fprintf(f, "%d", l + 1);
            for (int k = 0; k < NACT; k++) {
                printf("  %11.3e %9.3e", out[d][k].gW[l], out[d][k].gb[l]);
                fprintf(f, " %.6e %.6e", out[d][k].gW[l], out[d][k].gb[l]);
            }
            printf("\n");
            fprintf(f, "\n");
        }
        cli_data_close(f, file);
        printf("\n");
    }

    FILE *f = cli_data_file("08_depth_accuracy.dat");
    fprintf(f, "# 08 depth: validation accuracy after %d epochs\n# L", epochs);
    for (int k = 0; k < NACT; k++) fprintf(f, " %s", act_label[k]);
    fprintf(f, "\n");
    for (int d = 0; d < NDEPTH; d++) {
        fprintf(f, "%d", depths[d]);
        for (int k = 0; k < NACT; k++) fprintf(f, " %.6f", out[d][k].val_acc[out[d][k].epochs - 1]);
        fprintf(f, "\n");
    }
    cli_data_close(f, "08_depth_accuracy.dat");

    printf("summary\n");
    printf("  validation accuracy after %d epochs\n  %-10s", epochs, "");
    for (int d = 0; d < NDEPTH; d++) printf("   L = %-3d", depths[d]);
    printf("\n");
    for (int k = 0; k < NACT; k++) {
        printf("  %-10s", act_label[k]);
        for (int d = 0; d < NDEPTH; d++) printf("  %6.2f%%", 100 * out[d][k].val_acc[out[d][k].epochs - 1]);
        printf("\n");
    }
    printf("  first-layer / last-layer largest |dW| (how much the gradient shrinks on the way down)\n  %-10s", "");
    for (int d = 0; d < NDEPTH; d++) printf("   L = %-3d", depths[d]);
    printf("\n");
    for (int k = 0; k < NACT; k++) {
        printf("  %-10s", act_label[k]);
        for (int d = 0; d < NDEPTH; d++) {
            const outcome *o = &out[d][k];
            double last = o->gW[depths[d] - 1];
            if (last > 0) printf("  %8.1e", o->gW[0] / last);
            else printf("  %8s", "-");
        }
        printf("\n");
    }
    summarise(stdout, out, epochs);

    dataset_free(&train);
    dataset_free(&test);
    return 0;
}
