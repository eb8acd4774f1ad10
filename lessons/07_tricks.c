/* 07_tricks.c — tricks of the trade: the assignment that adds LeCun's
 * tricks to a 784(+1)-64-10 network one at a time (weight scale, scaled
 * tanh, momentum), then varies width and depth, with early stopping on the
 * validation loss and the assignment's finite-difference gradient check.
 *
 * Training runs on the fast path (float32, models/train.h). The gradient
 * check runs in double: the analytic gradient from the graph (engine/), the
 * central differences from a double forward pass written out here. It is
 * not a benchmark and not a tuning study: one seed, the assignment's rates. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "data.h"
#include "graph.h"
#include "mlp.h"
#include "ops.h"
#include "rng.h"
#include "train.h"

enum { D = 784, K = 10, NCHECK = 100 };

/* ------------------------------------------------------------ the data */

static void load(const char *root, const char *split, data_expect want, dataset *out)
{
    char err[IDX_ERR_LEN];
    if (data_load_expect(root, "mnist", split, &want, out, err) != IDX_OK) cli_fail("%s", err);
}

static mlp_data view(const dataset *s)
{
    return (mlp_data){s->x, s->labels, s->n, s->d};
}

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

/* ------------------------------------------------------------ the gradient check */

static double act_d(act_kind a, double x)
{
    return a == ACT_SIGMOID ? 1 / (1 + exp(-x)) : 1.7159 * tanh(2 * x / 3);
}

/* Mean cross-entropy of logits O (n × K) against labels, in double. */
static double ce_rows(const double *O, const uint8_t *y, int n)
{
    double sum = 0;
    for (int b = 0; b < n; b++) {
        const double *o = O + b * K;
        double mx = o[0], s = 0;
        for (int c = 1; c < K; c++) mx = fmax(mx, o[c]);
        for (int c = 0; c < K; c++) s += exp(o[c] - mx);
        sum += mx + log(s) - o[y[b]];
    }
    return sum / n;
}

/* The full double forward pass of 785-H-10: X (n × 785), W1 (785 × H),
 * W2 (H × K); fills Z = X·W1, A = f(Z), O = A·W2 when not NULL. */
static double forward_d(const double *X, const uint8_t *y, int n, const double *W1,
                        const double *W2, int H, act_kind act, double *Z, double *A, double *O)
{
    for (int b = 0; b < n; b++) {
        for (int j = 0; j < H; j++) {
            double s = 0;
            for (int i = 0; i <= D; i++) s += X[b * (D + 1) + i] * W1[i * H + j];
            Z[b * H + j] = s;
            A[b * H + j] = act_d(act, s);
        }
        for (int c = 0; c < K; c++) {
            double s = 0;
            for (int j = 0; j < H; j++) s += A[b * H + j] * W2[j * K + c];
            O[b * K + c] = s;
        }
    }
    return ce_rows(O, y, n);
}

typedef struct {
    int weights;          /* how many were checked */
    double worst;         /* largest |numeric − analytic| */
    double vs_fast;       /* largest |graph − fast path| of the analytic gradients */
    double shortcut;      /* largest |shortcut − full forward| over the sampled nudges */
    double loss;          /* the mean loss of the n images */
    int ok;               /* every weight within ε² */
} gcheck;

/* One forward pass of 785-H-10 in double, kept so that a nudged loss can be
 * recomputed from it. Per image b the logits o_b enter the loss as
 * mx_b + log Σ_c E_bc − o_b,y with E_bc = e^{o_bc − mx_b}. */
typedef struct {
    int n, H;
    act_kind act;
    const double *X, *W2;   /* (n, 785), (H, K) */
    const uint8_t *y;
    double *Z, *A, *O;      /* (n, H), (n, H), (n, K) */
    double *E, *mx;         /* (n, K), (n) */
} pass;

/* Image b's loss after W1[i][j] += d, where x = x_bi: z_bj gains d·x, so
 * a_bj changes by da and every logit c by da·W2[j][c] — a factor
 * e^{da·W2[j][c]} on E_bc. */
static double nudged_row_w1(const pass *p, int b, int j, double x, double d)
{
    const double *w2 = p->W2 + j * K;
    double da = act_d(p->act, p->Z[b * p->H + j] + d * x) - p->A[b * p->H + j];
    double S = 0;
    for (int c = 0; c < K; c++) S += p->E[b * K + c] * exp(da * w2[c]);
    return p->mx[b] + log(S) - (p->O[b * K + p->y[b]] + da * w2[p->y[b]]);
}

/* The mean loss after W1[i][j] += d. */
static double nudged_w1(const pass *p, int i, int j, double d)
{
    double sum = 0;
    for (int b = 0; b < p->n; b++) sum += nudged_row_w1(p, b, j, p->X[b * (D + 1) + i], d);
    return sum / p->n;
}

/* nudged_w1(p, i, j, ±d) for every i of one column j at once, into Lp[i]
 * and Lm[i]. The same sums in the same order — but a pixel that was 0
 * (most of an MNIST image) has one normalised value x0 in every image, so
 * its row loss is computed once per image and reused: 5× less work. */
static void nudged_w1_column(const pass *p, int j, double d, double x0, double *Lp, double *Lm)
{
    for (int i = 0; i <= D; i++) Lp[i] = Lm[i] = 0;
    for (int b = 0; b < p->n; b++) {
        double p0 = nudged_row_w1(p, b, j, x0, d), m0 = nudged_row_w1(p, b, j, x0, -d);
        for (int i = 0; i <= D; i++) {
            double x = p->X[b * (D + 1) + i];
            Lp[i] += x == x0 ? p0 : nudged_row_w1(p, b, j, x, d);
            Lm[i] += x == x0 ? m0 : nudged_row_w1(p, b, j, x, -d);
        }
    }
    for (int i = 0; i <= D; i++) Lp[i] /= p->n, Lm[i] /= p->n;
}

/* The mean loss after W2[j][c] += d: only logit c moves, by d·a_bj. */
static double nudged_w2(const pass *p, int j, int c, double d)
{
    double sum = 0;
    for (int b = 0; b < p->n; b++) {
        double dz = d * p->A[b * p->H + j], S = 0;
        for (int k = 0; k < K; k++) S += k == c ? p->E[b * K + k] * exp(dz) : p->E[b * K + k];
        sum += p->mx[b] + log(S) - (p->O[b * K + p->y[b]] + (c == p->y[b] ? dz : 0));
    }
    return sum / p->n;
}

/* The assignment's check on a 785-H-10 network m (bias trick) and the
 * first n images of x (float, normalised, n × 784): central differences
 * (L(w + ε) − L(w − ε)) / 2ε on the mean loss, every weight, against the
 * analytic gradient of a reverse sweep of the graph. Everything in double.
 *
 * A nudge of W1[i][j] changes only hidden unit j, a nudge of W2[j][c] only
 * logit c; so each nudged loss is recomputed from the stored pass (that
 * unit, the logits, the softmax) instead of the whole 100 × 785 × H
 * product — the same function, thousands of times cheaper. `shortcut`
 * says how well 8 nudged losses agree with full forward passes. x0 is the
 * normalised value of a 0 pixel (see nudged_w1_column). */
static gcheck grad_check(mlp *m, const float *x, const uint8_t *y, int n, double eps,
                         double x0, uint64_t seed)
{
    const int H = m->cfg.sizes[1], R = D + 1;
    size_t nR = (size_t)n * R, nH = (size_t)n * H, nK = (size_t)n * K;
    double *X = malloc(sizeof(double) * nR), *T = calloc(nK, sizeof(double));
    double *W1 = malloc(sizeof(double) * (size_t)R * H), *W2 = malloc(sizeof(double) * (size_t)H * K);
    double *Z = malloc(sizeof(double) * nH), *A = malloc(sizeof(double) * nH);
    double *O = malloc(sizeof(double) * nK), *E = malloc(sizeof(double) * nK);
    double *mx = malloc(sizeof(double) * (size_t)n);
    double *Z2 = malloc(sizeof(double) * nH), *A2 = malloc(sizeof(double) * nH);
    double *O2 = malloc(sizeof(double) * nK);
    if (!X || !T || !W1 || !W2 || !Z || !A || !O || !E || !mx || !Z2 || !A2 || !O2)
        cli_fail("out of memory");
    for (int b = 0; b < n; b++) {
        for (int i = 0; i < D; i++) X[b * R + i] = x[(size_t)b * D + i];
        X[b * R + D] = 1;                         // the bias trick's constant input
        T[b * K + y[b]] = 1;
    }
    for (int i = 0; i < R * H; i++) W1[i] = m->W[0][i];
    for (int i = 0; i < H * K; i++) W2[i] = m->W[1][i];

    /* analytic: one reverse sweep of the graph, in double */
    graph *g = graph_new();
    if (!g) cli_fail("out of memory");
    node nx = graph_leaf(g, n, R, X), nw1 = graph_leaf(g, R, H, W1);
    node nw2 = graph_leaf(g, H, K, W2), nt = graph_leaf(g, n, K, T);
    node z = op_matmul(g, nx, nw1);
    node a = m->cfg.act == ACT_SIGMOID ? op_sigmoid(g, z) : op_stanh(g, z);
    node loss = op_softmax_ce(g, op_matmul(g, a, nw2), nt);
    graph_backward(g, loss);
    const double *g1 = graph_grad(g, nw1), *g2 = graph_grad(g, nw2);

    gcheck r = {0};
    pass p = {n, H, m->cfg.act, X, W2, y, Z, A, O, E, mx};
    r.loss = forward_d(X, y, n, W1, W2, H, p.act, Z, A, O);
    for (int b = 0; b < n; b++) {
        mx[b] = O[b * K];
        for (int c = 1; c < K; c++) if (O[b * K + c] > mx[b]) mx[b] = O[b * K + c];
        for (int c = 0; c < K; c++) E[b * K + c] = exp(O[b * K + c] - mx[b]);
    }

    /* the fast path's analytic gradient, float32, from the same weights */
    mlp_forward(m, x, y, n, 0);
    mlp_zero_grad(m);
    mlp_backward(m);
    for (int i = 0; i < R * H; i++) r.vs_fast = fmax(r.vs_fast, fabs(g1[i] - m->dW[0][i]));
    for (int i = 0; i < H * K; i++) r.vs_fast = fmax(r.vs_fast, fabs(g2[i] - m->dW[1][i]));

    /* numeric, every weight of W1 (a column at a time) then W2 */
    double Lp[D + 1], Lm[D + 1];
    for (int j = 0; j < H; j++) {
        nudged_w1_column(&p, j, eps, x0, Lp, Lm);
        for (int i = 0; i < R; i++) {
            double num = (Lp[i] - Lm[i]) / (2 * eps);
            double diff = fabs(num - g1[i * H + j]);
            if (diff > r.worst) r.worst = diff;
            r.weights++;
        }
    }
    for (int j = 0; j < H; j++)
        for (int c = 0; c < K; c++) {
            double num = (nudged_w2(&p, j, c, eps) - nudged_w2(&p, j, c, -eps)) / (2 * eps);
            double diff = fabs(num - g2[j * K + c]);
            if (diff > r.worst) r.worst = diff;
            r.weights++;
        }

    /* the shortcut against full forward passes, on 8 seeded weights of each matrix */
    rng pick;
    rng_seed(&pick, seed);
    for (int t = 0; t < 8; t++) {
        int first = t < 4;
        int i = (int)rng_below(&pick, (uint32_t)(first ? R : H));
        int j = (int)rng_below(&pick, (uint32_t)(first ? H : K));
        double *w = first ? &W1[i * H + j] : &W2[i * K + j], keep = *w;
        *w = keep + eps;
        double full = forward_d(X, y, n, W1, W2, H, p.act, Z2, A2, O2);
        *w = keep;
        double quick = first ? nudged_w1(&p, i, j, eps) : nudged_w2(&p, i, j, eps);
        r.shortcut = fmax(r.shortcut, fabs(quick - full));
        if (first) {   // the column pass reuses row losses: it must give the same bits
            nudged_w1_column(&p, j, eps, x0, Lp, Lm);
            if (Lp[i] != quick) r.shortcut = INFINITY;
        }
    }
    r.ok = r.worst <= eps * eps;

    graph_free(g);
    free(X); free(T); free(W1); free(W2); free(Z); free(A); free(O); free(E); free(mx);
    free(Z2); free(A2); free(O2);
    return r;
}

/* ------------------------------------------------------------ training */

typedef struct {
    long params_assign;   /* the assignment's count */
    size_t params;        /* what the fast path trains (bias trick: no hidden biases) */
    train_point best;     /* the check with the lowest validation loss */
    long stop_step;       /* the step training ended at */
    int stopped_early;
    eval_result tr, va;   /* full passes with the best check's weights */
} outcome;

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

static outcome run(const spec *s, const mlp_data *tr, const mlp_data *va, int epochs,
                   int val_every, int patience, uint64_t seed)
{
    mlp *m = spec_new(s, seed);
    int sizes[MLP_MAX_LAYERS + 1];
    int L = spec_sizes(s, sizes);
    char sz[256];
    sizes_str(sz, sizeof sz, sizes, L);

    train_cfg c = train_defaults();
    c.epochs = epochs;
    c.batch = 32;
    c.drop_last = 1;
    c.shuffle = 1;
    c.seed = seed;
    if (s->momentum) {
        c.opt = optim_defaults(OPT_MOMENTUM);   // Δw ← g + γΔw;  w ← w − αΔw
        c.opt.momentum = 0.9;
        c.opt.lr = 0.02;
    } else {
        c.opt = optim_defaults(OPT_SGD);
        c.opt.lr = 0.1;
    }
    c.val_every = val_every;
    c.patience = patience;
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
    o.stop_step = r.steps;
    o.stopped_early = r.stopped_early;
    o.tr = train_evaluate(m, tr, 1000, NULL);
    o.va = train_evaluate(m, va, 1000, NULL);
    train_result_free(&r);
    mlp_free(m);
    return o;
}

static void print_row(const spec *s, const outcome *o, int steps_per_epoch)
{
    printf("  %-30s %7ld %7ld %6.1f %7.4f %6.2f%% %7.4f %6.2f%%\n", s->label, o->params_assign,
           o->best.step, (double)o->stop_step / steps_per_epoch, o->tr.loss, 100 * o->tr.acc,
           o->va.loss, 100 * o->va.acc);
}

int main(int argc, char **argv)
{
    int quick = 0, full = 0, seed = 1;
    const char *data = NULL;
    cli_opt opts[] = {
        {"--quick", CLI_FLAG, &quick, NULL, "the 100-image slice, a few epochs (seconds, for tests)"},
        {"--full", CLI_FLAG, &full, NULL, "the assignment's budget: up to 50 epochs for every run"},
        {"--data", CLI_STRING, &data, "DIR", "data root holding mnist/ (default data/, or $CHAINRULE_DATA)"},
        {"--seed", CLI_INT, &seed, "N", "seed of the weights and the shuffles (default 1)"},
        {0}};
    cli_no_positional(cli_parse(argc, argv,
        "07 tricks of the trade — LeCun's tricks one at a time, width and depth, early\n"
        "stopping, and the assignment's finite-difference gradient check.", opts), argc, argv);
    if (quick && full) cli_fail("--quick and --full exclude each other");
    const char *root = cli_data_root(data);

    printf("07 tricks of the trade\n\n");
    printf("The assignment trains 784(+1)-64-10 on MNIST and adds LeCun's tricks one at a\n"
           "time, each run keeping the previous ones: small initial weights N(0, 1/sqrt(n))\n"
           "instead of U[-1, 1]; the scaled tanh 1.7159 tanh(2x/3) instead of the sigmoid;\n"
           "momentum (dw <- g + 0.9 dw, w <- w - 0.02 dw) instead of plain SGD at 0.1.\n"
           "Then, with every trick on, 32 and 128 hidden units, two hidden layers of\n"
           "equal width with about the same parameter count, and ten hidden layers of 64.\n"
           "Batch 32 (the last partial batch dropped), validation every 125 steps, early\n"
           "stopping after 50 checks without a lower validation loss; each model is\n"
           "reported with the weights of its best check. Our choices: the train columns\n"
           "of the curves are the mean over the 125 steps before each check; the final\n"
           "numbers are full passes; the hidden layers have no biases (the assignment's\n"
           "bias trick feeds a constant 1 to the first layer only), so the trained\n"
           "networks have fewer parameters than the assignment's count, which puts a\n"
           "bias on every layer. One seed per run.\n\n");

    /* the data, exactly as the assignment handles it */
    dataset all, test, train;
    load(root, "train", DATA_EXPECT_28X28(quick ? 1 : 20000), &all);
    load(root, "test", DATA_EXPECT_28X28(1), &test);
    int n_train = quick ? (all.n < 100 ? all.n : 100) : 20000;
    if (all.n < n_train) cli_fail("%s/mnist: %d training images, need %d", root, all.n, n_train);
    if (data_split_first(&all, n_train, &train, NULL) != 0) cli_fail("out of memory");
    dataset_free(&all);
    double mean, sd;
    data_mean_std(&train, &mean, &sd);
    if (data_normalize(&train, mean, sd) || data_normalize(&test, mean, sd))
        cli_fail("%s/mnist/train-images-idx3-ubyte: the first %d images have every pixel %g: "
                 "no spread to normalise by", root, train.n, mean);
    mlp_data tr = view(&train), va = view(&test);
    int steps_per_epoch = train.n / 32;
    int max_epochs = quick ? 8 : full ? 50 : 15;
    int val_every = quick ? 1 : 125;
    int patience = quick ? 4 : 50;
    printf("data: MNIST, training = the first %d training images, validation = the %d test images\n",
           train.n, test.n);
    printf("  one mean and std over every training pixel: mean %.4f, std %.4f (pixels 0..255)\n",
           mean, sd);
    printf("  every set normalised with them; a constant 1 appended to each input (785 wide)\n");
    printf("  batch 32, drop last: %d steps per epoch; up to %d epochs; validation every %d step(s);\n"
           "  early stopping after %d checks without improvement\n", steps_per_epoch, max_epochs,
           val_every, patience);
    if (quick) printf("  (--quick: the 100-image slice and a smaller budget)\n");
    else if (!full) printf("  (the assignment allows 50 epochs: --full; by default at most 15, which\n"
                           "  cuts the slow runs short of their early-stopping point)\n");
    printf("\n");

    /* parameter counts */
    int two = 1;
    {
        int s1[] = {D, 64, K};
        long target = count_assignment(s1, 2);
        long bestd = -1;
        for (int w = 1; w <= D; w++) {
            int s2[] = {D, w, w, K};
            long d = labs(count_assignment(s2, 3) - target);
            if (bestd < 0 || d < bestd) { bestd = d; two = w; }
        }
    }
    spec specs[] = {
        {"baseline", "baseline: sigmoid, U[-1,1]", 1, 64, ACT_SIGMOID, 0, 0},
        {"init", "+ init N(0,1/sqrt(n))", 1, 64, ACT_SIGMOID, 1, 0},
        {"stanh", "+ scaled tanh", 1, 64, ACT_STANH, 1, 0},
        {"momentum", "+ momentum 0.9, lr 0.02", 1, 64, ACT_STANH, 1, 1},
        {"h32", "all tricks, 32 hidden", 1, 32, ACT_STANH, 1, 1},
        {"h128", "all tricks, 128 hidden", 1, 128, ACT_STANH, 1, 1},
        {"two", "all tricks, two hidden", 2, two, ACT_STANH, 1, 1},
        {"ten", "all tricks, ten hidden of 64", 10, 64, ACT_STANH, 1, 1},
    };
    enum { NSPEC = sizeof specs / sizeof specs[0] };

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

    /* the gradient check */
    int nc = train.n < NCHECK ? train.n : NCHECK;
    double eps = 1e-3;
    printf("gradient check (the assignment's): central differences, eps = %g, on the mean\n"
           "loss of the first %d training images, every weight of 784(+1)-64-10 at its\n"
           "initial values; pass when every |numeric - analytic| <= eps^2 = %g.\n"
           "Analytic gradient: the graph, in double. Numeric: a double forward pass.\n",
           eps, nc, eps * eps);
    printf("  %-30s %8s %9s %12s %8s\n", "network", "weights", "loss", "worst diff", "verdict");
    int check_ok = 1, nchecks = quick ? 1 : 2;   // --quick: the assignment's baseline only
    gcheck gc[2] = {{0}};
    for (int k = 0; k < nchecks; k++) {
        const spec *s = k == 0 ? &specs[0] : &specs[3];
        mlp *m = spec_new(s, (uint64_t)seed);
        gc[k] = grad_check(m, tr.x, tr.y, nc, eps, (float)((0 - mean) / sd), (uint64_t)seed);
        mlp_free(m);
        printf("  %-30s %8d %9.5f %12.3e %8s\n", k == 0 ? "sigmoid, U[-1,1]" : "scaled tanh, N(0,1/sqrt(n))",
               gc[k].weights, gc[k].loss, gc[k].worst, gc[k].ok ? "pass" : "FAIL");
        check_ok &= gc[k].ok;
    }
    printf("  the fast path's float32 gradient beside the graph's: largest difference %.1e\n",
           fmax(gc[0].vs_fast, gc[1].vs_fast));
    printf("  nudged losses by the one-unit shortcut beside a full forward pass: largest\n"
           "  difference %.1e (8 sampled weights)\n\n", fmax(gc[0].shortcut, gc[1].shortcut));

    /* training */
    outcome out[NSPEC];
    printf("training (batch 32, up to %d epochs, best check restored)\n", max_epochs);
    printf("  %-30s %7s %7s %6s %7s %7s %7s %7s\n", "run", "params", "best@", "epochs",
           "trLoss", "trAcc", "vaLoss", "vaAcc");
    for (int k = 0; k < NSPEC; k++) {
        if (k == 0) printf("  -- the tricks, one at a time\n");
        if (k == 4) printf("  -- width and depth, every trick on\n");
        out[k] = run(&specs[k], &tr, &va, max_epochs, val_every, patience, (uint64_t)seed);
        print_row(&specs[k], &out[k], steps_per_epoch);
    }
    printf("  (params: the assignment's count; best@: the step of the lowest validation loss,\n"
           "   the early-stopping point; epochs: how long training ran)\n\n");

    /* summary */
    printf("summary\n");
    printf("  gradient check: %s (worst |numeric - analytic| %.1e <= %.0e)\n",
           check_ok ? "passed" : "FAILED", fmax(gc[0].worst, gc[1].worst), eps * eps);
    for (int k = 0; k < 4; k++)
        printf("  %-30s validation %6.2f%%, loss %.4f, best at step %ld%s\n", specs[k].label,
               100 * out[k].va.acc, out[k].va.loss, out[k].best.step,
               out[k].stopped_early ? " (stopped early)" : "");
    printf("  U[-1,1] weights (variance 1/3) on 785 inputs of unit variance give each\n"
           "  sigmoid a pre-activation of standard deviation sqrt(785/3) = %.1f: the units\n"
           "  saturate and sigma' ~ 0 stalls learning; N(0, 1/sqrt(n)) gives 1, near 0\n"
           "  where the slope is largest.\n", sqrt((D + 1) / 3.0));
    printf(
           "  The scaled tanh is centred on 0 with slope ~1 there, so the next layer sees\n"
           "  zero-mean inputs. Momentum averages the noisy minibatch gradients; its\n"
           "  effective step alpha/(1 - gamma) = %.2f against plain SGD's %.2f.",
           0.02 / (1 - 0.9), 0.1);
    if (out[3].best.step < out[2].best.step)
        printf(" It reaches its\n  best check sooner: step %ld against %ld.\n", out[3].best.step,
               out[2].best.step);
    else
        printf(" Here it does\n  not reach its best check sooner: step %ld against %ld.\n",
               out[3].best.step, out[2].best.step);
    printf("  width: 32 / 64 / 128 hidden reach %.2f%% / %.2f%% / %.2f%%; two hidden of %d:\n"
           "  %.2f%%; ten hidden of 64: %.2f%%. Early stopping keeps the weights of the\n"
           "  lowest validation loss, so a larger network overfits the %d images only\n"
           "  after its best check; the stopped runs show where that happened.\n",
           100 * out[4].va.acc, 100 * out[3].va.acc, 100 * out[5].va.acc, two,
           100 * out[6].va.acc, 100 * out[7].va.acc, train.n);

    dataset_free(&train);
    dataset_free(&test);
    return check_ok ? 0 : 1;
}
