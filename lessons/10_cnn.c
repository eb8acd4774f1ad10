/* 10_cnn.c — convolutional networks: the course's CNN (3×3 conv, 32 filters
 * → ReLU → batch norm → 2×2 max-pool → dense 784 → dropout → ReLU → dense
 * 10) trained with Adam on lesson 09's split, with the L2 and dropout
 * sweeps and their early-stopping epochs, beside lesson 09's MLP; the fast
 * path checked against the graph first; the learned filters and one test
 * image's feature maps written for plots/10_cnn.gp.
 *
 * Everything trains on the fast path (models/cnn.h); the graph
 * (models/cnn_graph.h) is the reference for the cross-check and draws the
 * feature maps in double. Not a tuning study: one seed, the assignment's
 * settings. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cnn.h"
#include "cnn_graph.h"
#include "data.h"
#include "mlp.h"
#include "ops.h"
#include "say.h"
#include "train.h"

enum { SIDE = 28, D_IN = SIDE * SIDE, EVAL_B = 100, MAPS = 8 };

typedef struct {
    const char *tag;     /* build/data/10_cnn_<tag>.dat */
    char label[32];
    double l2, keep;
} setting;

typedef struct {
    int best_epoch, epochs;
    double tr_loss, tr_acc, va_loss, va_acc, te_loss, te_acc;   /* at the best epoch */
    double last_va_loss;
} outcome;

typedef struct {
    const dataset *tr, *va, *te;
    cnn_bn bn;
    int epochs;
    uint64_t seed;
    float *best_params, *best_run;   /* the baseline's best weights (and running stats), or NULL */
    cnn *keep_model;                 /* the baseline model, kept for the pictures */
} plan;

/* Mean cross-entropy and accuracy of m on d, in eval mode, batches of
 * EVAL_B (the per-feature batch norm normalises with each batch's own
 * statistics, as the assignment's code does). */
static void evaluate(cnn *m, const dataset *d, double *loss, double *acc)
{
    double sl = 0;
    long right = 0;
    for (int i = 0; i < d->n; i += EVAL_B) {
        int b = d->n - i < EVAL_B ? d->n - i : EVAL_B;
        sl += b * cnn_forward(m, d->x + (size_t)i * d->d, d->labels + i, b, 0);
        right += m->correct;
    }
    *loss = sl / d->n;
    *acc = (double)right / d->n;
}

static cnn_cfg network(cnn_bn bn, double keep, uint64_t seed)
{
    cnn_cfg c = cnn_defaults();   /* 28×28×1, 3×3×32 SAME, 2×2 pool, 784, 10 */
    c.bn = bn;
    c.bn_eps = bn == CNN_BN_CHANNEL ? 1e-3 : 1e-9;
    c.keep = keep;
    c.seed = seed;
    return c;
}

static optim_cfg adam(double l2)
{
    optim_cfg o = optim_defaults(OPT_ADAM);
    o.lr = 1e-4;          /* the assignment's AdamOptimizer(1e-4): β 0.9 / 0.999, ε 1e-8 */
    o.beta1 = 0.9;
    o.beta2 = 0.999;
    o.eps = 1e-8;
    o.l2 = l2;            /* g += λw on conv_w, W1, W2: the gradient of λ·Σ ½w² */
    return o;
}

/* One epoch of Adam steps over tr in shuffled batches of 32; the mean
 * training loss and accuracy over its steps (Keras's train columns). */
static void train_epoch(cnn *m, optim *o, data_order *it, const dataset *tr, float *bx, uint8_t *by,
                        double *loss, double *acc)
{
    double sl = 0;
    long right = 0, n = 0;
    data_order_epoch(it);
    for (long s = 0; s < data_order_steps(it); s++) {
        int b = data_order_gather(it, s, tr->x, tr->labels, tr->d, bx, by);
        sl += b * cnn_forward(m, bx, by, b, 1);
        right += m->correct;
        n += b;
        cnn_backward(m);
        optim_step_cnn(o, m);
    }
    *loss = sl / (double)n;
    *acc = (double)right / (double)n;
}

static outcome run(const setting *s, plan *p)
{
    cnn_cfg c = network(p->bn, s->keep, p->seed);
    cnn *m = cnn_new(&c);
    optim_cfg oc = adam(s->l2);
    optim *o = m ? optim_new_cnn(&oc, m) : NULL;
    data_order it;
    float *bx = malloc(32 * (size_t)p->tr->d * sizeof *bx);
    uint8_t *by = malloc(32);
    if (!m || !o || !bx || !by || data_order_init(&it, p->tr->n, 32, 1, 0, p->seed) != 0) cli_fail("out of memory");
    char file[64];
    snprintf(file, sizeof file, "10_cnn_%s.dat", s->tag);
    FILE *f = cli_data_file(file);
    fprintf(f, "# 10 cnn: %s\n# epoch train_loss train_acc val_loss val_acc test_loss test_acc\n", s->label);
    outcome r = {0};
    double best = INFINITY;
    printf("  %s\n", s->label);
    for (int e = 1; e <= p->epochs; e++) {
        double tl, ta, vl, va, el, ea;
        train_epoch(m, o, &it, p->tr, bx, by, &tl, &ta);
        evaluate(m, p->va, &vl, &va);
        evaluate(m, p->te, &el, &ea);
        fprintf(f, "%d %.6f %.6f %.6f %.6f %.6f %.6f\n", e, tl, ta, vl, va, el, ea);
        printf("    epoch %3d   train %.4f %6.2f%%   val %.4f %6.2f%%   test %.4f %6.2f%%\n",
               e, tl, 100 * ta, vl, 100 * va, el, 100 * ea);
        if (vl < best) {
            best = vl;
            r = (outcome){e, 0, tl, ta, vl, va, el, ea, 0};
            if (p->best_params) {
                memcpy(p->best_params, m->params, m->n_params * sizeof *m->params);
                if (m->bn_run_mean) {
                    memcpy(p->best_run, m->bn_run_mean, (size_t)c.filters * sizeof(float));
                    memcpy(p->best_run + c.filters, m->bn_run_var, (size_t)c.filters * sizeof(float));
                }
            }
        }
        r.last_va_loss = vl;
    }
    r.epochs = p->epochs;
    cli_data_close(f, file);
    data_order_free(&it);
    free(bx);
    free(by);
    optim_free(o);
    if (p->best_params) {   /* the baseline: keep it, at its best epoch's weights */
        memcpy(m->params, p->best_params, m->n_params * sizeof *m->params);
        if (m->bn_run_mean) {
            memcpy(m->bn_run_mean, p->best_run, (size_t)c.filters * sizeof(float));
            memcpy(m->bn_run_var, p->best_run + c.filters, (size_t)c.filters * sizeof(float));
        }
        p->keep_model = m;
    } else {
        cnn_free(m);
    }
    return r;
}

/* Lesson 09's MLP as lesson 09 trains it (784 → 1000 ReLU → 10, Xavier
 * normal, Keras momentum 0.9 at rate 0.05, batch 32), on the same split. */
static outcome run_mlp(const dataset *tr, const dataset *va, const dataset *te, int epochs, uint64_t seed)
{
    mlp_config cfg = {0};
    cfg.n_layers = 2;
    cfg.sizes[0] = D_IN;
    cfg.sizes[1] = 1000;
    cfg.sizes[2] = 10;
    cfg.act = ACT_RELU;
    cfg.init = (mlp_init){INIT_GLOROT_NORMAL, 0, 0};
    cfg.seed = seed;
    mlp *m = mlp_new(&cfg);
    if (!m) cli_fail("out of memory");
    train_cfg c = train_defaults();
    c.epochs = epochs;
    c.batch = 32;
    c.seed = seed;
    c.opt = optim_defaults(OPT_CLASSICAL);
    c.opt.momentum = 0.9;
    c.opt.lr = 0.05;
    c.restore_best = 1;
    c.eval_train = 0;
    c.name = "lesson 09's MLP";
    mlp_data dtr = {tr->x, tr->labels, tr->n, tr->d}, dva = {va->x, va->labels, va->n, va->d};
    mlp_data dte = {te->x, te->labels, te->n, te->d};
    train_result r;
    cli_train_status(train_run(m, &dtr, &dva, &c, &r), r.err);
    outcome o = {0};
    if (r.best >= 0) {
        const train_point *b = &r.hist[r.best];
        o.best_epoch = b->epoch_i;
        o.tr_loss = b->train_loss;
        o.tr_acc = b->train_acc;
        o.va_loss = b->val_loss;
        o.va_acc = b->val_acc;
    }
    o.epochs = epochs;
    o.last_va_loss = r.hist[r.n_hist - 1].val_loss;
    eval_result t = train_evaluate(m, &dte, 1000, NULL);
    o.te_loss = t.loss;
    o.te_acc = t.acc;
    train_result_free(&r);
    mlp_free(m);
    return o;
}

/* The fast path's gradients against the graph's on 8 training images, the
 * lesson's network with dropout on (keep 0.5) so the mask is checked too. */
static double crosscheck(const dataset *tr, cnn_bn bn, uint64_t seed, double eps, char *where, size_t wlen,
                         int *used)
{
    cnn_cfg c = network(bn, 0.5, seed);
    if (eps > 0) c.bn_eps = eps;
    cnn *m = cnn_new(&c);
    if (!m) cli_fail("out of memory");
    int B = tr->n < 8 ? tr->n : 8;
    *used = B;
    double dl = 0;
    double err = cnn_graph_check(m, tr->x, tr->labels, B, 1, &dl, where, wlen);
    if (isnan(err)) cli_fail("out of memory");
    cnn_free(m);
    return isfinite(dl) ? err : INFINITY;
}

/* The cross-check's tolerance (its text prints the literal: one source),
 * and the two larger ε the check is repeated at when it is exceeded:
 * ε·EPS_GROW and ε·EPS_GROW² (100 and 10,000 times). */
#define CHECK_TOL 1e-4
#define CHECK_TOL_S STR_OF(CHECK_TOL)
#define STR_OF(x) STR_OF_(x)
#define STR_OF_(x) #x
static const double EPS_GROW = 1e2;

/* The whole number n ≥ 0 with its digits grouped in threes ("10,000"),
 * into buf (len ≥ 32) */
static const char *grouped(char *buf, size_t len, double n)
{
    char d[32];
    int nd = snprintf(d, sizeof d, "%.0f", n), k = 0;
    for (int i = 0; i < nd && (size_t)k + 2 < len; i++) {
        if (i > 0 && (nd - i) % 3 == 0) buf[k++] = ',';
        buf[k++] = d[i];
    }
    buf[k] = '\0';
    return buf;
}

/* Whether the cross-check's verdict needs the same check at EPS_GROW and
 * EPS_GROW² times the batch norm's ε: a difference above CHECK_TOL (finite)
 * with a batch norm whose ε can grow that much. Float32's rounding,
 * magnified by 1/σ where a feature barely varies (σ near √ε), falls as ε
 * grows; a wrong derivative would not. */
static int verdict_needs_eps(double err, double eps, cnn_bn bn)
{
    return err > CHECK_TOL && isfinite(err) && bn != CNN_BN_NONE && eps * EPS_GROW * EPS_GROW < 1.0;
}

/* The cross-check's paragraph: the largest relative difference err (in
 * the gradient where) over n training images at the network's ε, and
 * what it means; d1, d2: the
 * same check at 100 and 10,000 times ε where verdict_needs_eps (else
 * unused). tests/test_lesson10_text.c runs each branch. */
static void crosscheck_verdict(FILE *f, int n, double err, const char *where, double eps, cnn_bn bn,
                               double d1, double d2)
{
    fprintf(f, "\n2. cross-check: the fast path's float32 gradients against the graph's (double),\n"
               "   same weights, %d training image%s, dropout keep 0.5 with the same mask:\n"
               "   largest relative difference %.2g (in %s),\n", n, n == 1 ? "" : "s", err, where);
    if (err <= CHECK_TOL) {
        fprintf(f, "   within " CHECK_TOL_S ": the hand-derived backward agrees.\n\n");
        return;
    }
    if (!verdict_needs_eps(err, eps, bn)) {
        fprintf(f, "   %s: the fast path and the graph disagree.\n\n",
                isfinite(err) ? "above " CHECK_TOL_S : "not finite");
        return;
    }
    double e1 = eps * EPS_GROW, e2 = e1 * EPS_GROW;
    fprintf(f, "   above " CHECK_TOL_S ". With eps = %g a feature that barely varies over %d image%s\n"
               "   has sigma near sqrt(eps), and 1/sigma magnifies float32's rounding.\n"
               "   The same check at eps %g: %.2g; at eps %g: %.2g", eps, n, n == 1 ? "" : "s", e1, d1, e2, d2);
    if (isfinite(d2) && d1 < err && d2 < d1) {
        char fold[32] = "to 0", grow[32], pred[32];   /* (err / 0 would print inf) */
        if (d2 > 0) snprintf(fold, sizeof fold, "%.0f-fold", err / d2);
        /* 1/√ε predicts a fall of √(e2/ε) = EPS_GROW */
        fprintf(f, ",\n   falling %s while eps grows %s-fold (1/sqrt(eps) would give\n"
                   "   %s-fold): the mark of rounding, not of a wrong derivative%s.\n\n", fold,
                grouped(grow, sizeof grow, EPS_GROW * EPS_GROW), grouped(pred, sizeof pred, EPS_GROW),
                d2 <= CHECK_TOL ? "" : ",\n   though still above " CHECK_TOL_S " at the larger eps");
    }
    else
        fprintf(f, ":\n   not falling as eps grows, so rounding does not explain the difference.\n\n");
}

/* The 32 learned 3×3 filters as one matrix: 4 rows of 8 filters, a blank
 * (NaN) line between them; filter f's (dy, dx) is conv_w[(dy·3 + dx)·32 + f]. */
static void write_filters(const cnn *m)
{
    const cnn_cfg *c = &m->cfg;
    int k = c->ksize, F = c->filters, per = 8, rows = (F + per - 1) / per;
    FILE *f = cli_data_file("10_cnn_filters.dat");
    fprintf(f, "# 10 cnn: the %d learned %dx%d filters (input channel 0), %d per row, NaN between\n", F, k, k, per);
    for (int R = 0; R < rows * (k + 1) - 1; R++) {
        for (int C = 0; C < per * (k + 1) - 1; C++) {
            int fr = R / (k + 1), dy = R % (k + 1), fc = C / (k + 1), dx = C % (k + 1), fi = fr * per + fc;
            if (dy == k || dx == k || fi >= F) fprintf(f, " nan");
            else fprintf(f, " %.6f", c->C_in ? m->conv_w[((size_t)(dy * k + dx) * c->C_in) * F + fi] : 0.0);
        }
        fprintf(f, "\n");
    }
    cli_data_close(f, "10_cnn_filters.dat");
}

/* One test image's feature maps after conv, ReLU, batch norm and pooling
 * (channels 0…MAPS−1), from the graph of the model on the first test batch
 * (the per-feature batch norm needs the batch): one matrix, a row of maps
 * per stage scaled to [0, 1] by the stage's range, the image itself first
 * in the top row, NaN between. */
static void write_feature_maps(const cnn *m, const dataset *te)
{
    int B = te->n < 32 ? te->n : 32;
    cnn_graph cg;
    if (cnn_graph_build(&cg, m, te->x, te->labels, B, 0, NULL) != 0) cli_fail("out of memory");
    const cnn_cfg *c = &m->cfg;
    int F = c->filters, S = SIDE, G = S + 1, W = (MAPS + 1) * G - 1, H = 4 * G - 1;
    double *pic = malloc((size_t)W * H * sizeof *pic);
    if (!pic) cli_fail("out of memory");
    for (size_t i = 0; i < (size_t)W * H; i++) pic[i] = NAN;
    node stage[4] = {cg.conv, cg.relu, cg.bn, cg.pool};
    for (int s = 0; s < 4; s++) {
        const double *v = graph_val(cg.g, stage[s]);
        int side = s == 3 ? m->Hp : m->Ho, up = S / side;
        double lo = INFINITY, hi = -INFINITY;   /* one range per stage, over its maps */
        for (int i = 0; i < side * side; i++)
            for (int ch = 0; ch < MAPS; ch++) {
                lo = fmin(lo, v[(size_t)i * F + ch]);
                hi = fmax(hi, v[(size_t)i * F + ch]);
            }
        for (int ch = s == 0 ? -1 : 0; ch < MAPS; ch++)   /* −1: the input image, first row */
            for (int y = 0; y < side * up; y++)
                for (int x = 0; x < side * up; x++) {
                    int i = (y / up) * side + x / up;
                    double a = ch < 0 ? te->x[i] : (v[(size_t)i * F + ch] - lo) / (hi > lo ? hi - lo : 1.0);
                    pic[(size_t)(s * G + y) * W + (ch + 1) * G + x] = a;
                }
    }
    FILE *f = cli_data_file("10_cnn_maps.dat");
    fprintf(f, "# 10 cnn: test image 0 (label %d) and its feature maps 0-%d, rows: conv, ReLU, batch norm, pool; one range per row\n",
            te->labels[0], MAPS - 1);
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            double a = pic[(size_t)y * W + x];
            if (isnan(a)) fprintf(f, " nan");
            else fprintf(f, " %.4f", a);
        }
        fprintf(f, "\n");
    }
    cli_data_close(f, "10_cnn_maps.dat");
    free(pic);
    cnn_graph_free(&cg);
}

static void print_outcome(const char *label, const outcome *o)
{
    printf("  %-22s %3d of %3d   %6.2f%% %6.2f%% %6.2f%%   %.4f -> %.4f\n", label, o->best_epoch, o->epochs,
           100 * o->tr_acc, 100 * o->va_acc, 100 * o->te_acc, o->va_loss, o->last_va_loss);
}

/* The setting of o[lo…hi) chosen on the validation images: the highest
 * validation accuracy at its early-stopping epoch, a tie going to the lower
 * validation loss, then to the earlier setting. The test images choose
 * nothing: a test score that picked the setting would overstate it. */
static int pick_on_validation(const outcome *o, int lo, int hi)
{
    int b = lo;
    for (int i = lo + 1; i < hi; i++)
        if (o[i].va_acc > o[b].va_acc || (o[i].va_acc == o[b].va_acc && o[i].va_loss < o[b].va_loss)) b = i;
    return b;
}

/* the first of o[lo…hi) with the highest test accuracy */
static int best_on_test(const outcome *o, int lo, int hi)
{
    int b = lo;
    for (int i = lo + 1; i < hi; i++) if (o[i].te_acc > o[b].te_acc) b = i;
    return b;
}

/* The closing sentences, each computed from the numbers above it: o[0] is
 * no regularisation, o[1…nl] the L2 settings, the rest dropout. */
static void conclude(FILE *f, const setting *s, const outcome *o, int n, int nl, const outcome *om,
                     int n_test)
{
    int best = pick_on_validation(o, 0, n), bt = best_on_test(o, 0, n);
    char g1[64], g2[64];          /* labels kept whole on their lines */
    say(f, 2, "Chosen on the validation images (the highest accuracy there at its early-stopping "
        "epoch, %.2f%%), the best CNN setting is %s; on the test images it reaches %.2f%%, and "
        "lesson 09's MLP %.2f%% on the same split (%+.2f points for the CNN).",
        100 * o[best].va_acc, say_glued(g1, sizeof g1, s[best].label), 100 * o[best].te_acc,
        100 * om->te_acc, 100 * (o[best].te_acc - om->te_acc));
    if (o[bt].te_acc > o[best].te_acc)
        say(f, 2, "The test images alone would have named %s (%.2f%%): a test score that chose the "
            "setting overstates it, so here they only report.",
            say_glued(g2, sizeof g2, s[bt].label), 100 * o[bt].te_acc);
    /* how finely n_test images measure an accuracy: one standard error of
     * the chosen setting's, Agresti and Coull's (two right and two wrong
     * added), which stays above 0 when every image is right */
    double pa = o[best].te_acc, right = round(pa * n_test), pt = (right + 2) / (n_test + 4);
    double se = sqrt(pt * (1 - pt) / (n_test + 4));
    say(f, 2, "One test image is %.2f points here (%d of them), and an accuracy of %.2f%% measured "
        "on that many is uncertain by about %.2f points (one standard error): a gap between two "
        "settings smaller than that can be chance.", 100.0 / n_test, n_test, 100 * pa, 100 * se);
    if (o[0].best_epoch < o[0].epochs)
        say(f, 2, "Without regularisation the validation loss was lowest after epoch %d of %d and "
            "rose by %.4f afterwards: the network had begun to overfit.",
            o[0].best_epoch, o[0].epochs, o[0].last_va_loss - o[0].va_loss);
    else
        say(f, 2, "Without regularisation the validation loss was still falling at the last epoch "
            "(%d): within this budget the network has not yet overfit, so early stopping would not "
            "have stopped it.", o[0].epochs);
    const char *kind[2] = {"L2", "dropout"};
    int fam[2] = {pick_on_validation(o, 1, 1 + nl), pick_on_validation(o, 1 + nl, n)};
    for (int k = 0; k < 2; k++) {
        const outcome *w = &o[fam[k]];
        double g = 100 * (w->te_acc - o[0].te_acc);
        if (g > 0)
            say(f, 2, "Of the %s settings, %s did best on the validation images (%.2f%%, none: "
                "%.2f%%); on the test images it gained %.2f points over none.", kind[k],
                say_glued(g2, sizeof g2, s[fam[k]].label), 100 * w->va_acc, 100 * o[0].va_acc, g);
        else
            say(f, 2, "Of the %s settings, %s did best on the validation images (%.2f%%, none: "
                "%.2f%%); on the test images it did not beat none (%.2f%% against %.2f%%).", kind[k],
                say_glued(g2, sizeof g2, s[fam[k]].label), 100 * w->va_acc, 100 * o[0].va_acc,
                100 * w->te_acc, 100 * o[0].te_acc);
    }
}

static void load_split(const char *root, const char *set, int quick, int n_tr, int n_va, int n_te,
                       uint64_t seed, dataset *tr, dataset *va, dataset *te)
{
    dataset all, rest, tail, t2;
    char err[IDX_ERR_LEN];
    if (data_load(root, set, "train", &all, err) != IDX_OK) cli_fail("%s", err);
    /* lesson 09's split: a seeded shuffle, 10,000 / 6,000 / 2,724 (the
     * 100-image slice with --quick); the default trains on its first part */
    int s_tr = quick ? 50 : 10000, s_va = quick ? 30 : 6000, s_te = quick ? 20 : 2724;
    if (all.n < s_tr + s_va + s_te) cli_fail("%s/%s: %d training images, need %d", root, set, all.n, s_tr + s_va + s_te);
    if (data_split_random(&all, s_tr, seed, &t2, &rest) != 0 || data_split_first(&t2, n_tr, tr, NULL) != 0)
        cli_fail("out of memory");
    dataset_free(&t2);
    if (data_split_first(&rest, s_va, &t2, &tail) != 0 || data_split_first(&t2, n_va, va, NULL) != 0)
        cli_fail("out of memory");
    dataset_free(&t2);
    if (data_split_first(&tail, s_te, &t2, NULL) != 0 || data_split_first(&t2, n_te, te, NULL) != 0)
        cli_fail("out of memory");
    dataset_free(&t2);
    dataset_free(&tail);
    dataset_free(&rest);
    dataset_free(&all);
    data_scale(tr, 255);
    data_scale(va, 255);
    data_scale(te, 255);
}

static void intro(const dataset *tr, const dataset *va, const dataset *te, cnn_bn bn, int epochs,
                  uint64_t seed, int quick, int full, const char *set)
{
    printf("10 convolutional networks\n\n");
    printf("The course's CNN: 28x28x1 pixels/255 -> 3x3 convolution, 32 filters, stride 1,\n"
           "SAME padding, + bias -> ReLU -> batch norm -> 2x2 max-pool -> flatten (6,272)\n"
           "-> dense 784 -> dropout (keep p, off unless a setting asks) -> ReLU -> dense 10\n"
           "-> softmax cross-entropy, Xavier (Glorot) uniform for every weight and bias,\n"
           "Adam at 1e-4 on batches of 32, reshuffled every epoch. The epoch of the lowest\n"
           "validation loss is the early-stopping point; the accuracies there are reported.\n\n");
    printf("batch norm: %s\n", bn == CNN_BN_FEATURE
           ? "per feature over the batch, tf.nn.moments(h, axes=[0]): biased variance,\n"
             "  no scale or shift, eps 1e-9; evaluation uses each evaluated batch's own statistics"
           : bn == CNN_BN_CHANNEL
           ? "per channel over batch, rows and columns (BatchNorm2d): gamma, beta,\n"
             "  eps 1e-3, running averages (momentum 0.1) for evaluation"
           : "none");
    printf("data: %s training images shuffled (seed %llu): %d train, %d validation, %d test%s\n",
           strcmp(set, "mnist") ? "Fashion-MNIST" : "MNIST", (unsigned long long)seed, tr->n, va->n, te->n,
           quick ? " (--quick: the 100-image slice)" : full ? "" : " (of lesson 09's 10,000 / 6,000 / 2,724)");
    printf("budget: %d epochs per setting%s\n\n", epochs, full || quick ? "" : " (--full: 50 on the whole split)");
}

static int lesson(const dataset *tr, const dataset *va, const dataset *te, cnn_bn bn, int epochs,
                  uint64_t seed, int quick, int full, const char *set, const char *save)
{
    intro(tr, va, te, bn, epochs, seed, quick, full, set);
    cnn_cfg c0 = network(bn, 1.0, seed);
    cnn *m0 = cnn_new(&c0);
    if (!m0) cli_fail("out of memory");
    printf("1. the network\n");
    cnn_summary(m0, stdout);
    char where[32] = "";
    int nimg = 0;
    double err = crosscheck(tr, bn, seed, 0, where, sizeof where, &nimg), d1 = NAN, d2 = NAN;
    if (verdict_needs_eps(err, c0.bn_eps, bn)) {
        char w[32];
        d1 = crosscheck(tr, bn, seed, c0.bn_eps * EPS_GROW, w, sizeof w, &nimg);
        d2 = crosscheck(tr, bn, seed, c0.bn_eps * EPS_GROW * EPS_GROW, w, sizeof w, &nimg);
    }
    crosscheck_verdict(stdout, nimg, err, where, c0.bn_eps, bn, d1, d2);
    plan p = {tr, va, te, bn, epochs, seed, NULL, NULL, NULL};
    p.best_params = malloc(m0->n_params * sizeof *p.best_params);
    p.best_run = malloc(2 * (size_t)c0.filters * sizeof *p.best_run);
    float *best_params = p.best_params;
    if (!p.best_params || !p.best_run) cli_fail("out of memory");
    cnn_free(m0);
    setting s[] = {{"none", "no regularisation", 0, 1},
                   {"l2_0.01", "L2 lambda = 0.01", 0.01, 1}, {"l2_0.1", "L2 lambda = 0.1", 0.1, 1},
                   {"l2_0.5", "L2 lambda = 0.5", 0.5, 1},
                   {"keep_0.9", "dropout keep p = 0.9", 0, 0.9}, {"keep_0.75", "dropout keep p = 0.75", 0, 0.75},
                   {"keep_0.5", "dropout keep p = 0.5", 0, 0.5}};
    enum { NSET = 7, NL2 = 3 };
    outcome o[NSET];
    printf("3. training, per epoch (train: the mean over the epoch's steps)\n");
    for (int i = 0; i < NSET; i++) {
        o[i] = run(&s[i], &p);
        p.best_params = NULL;   /* only the first (unregularised) model is kept */
    }
    int mlp_epochs = quick ? 4 : full ? 50 : 10;
    outcome om = run_mlp(tr, va, te, mlp_epochs, seed);
    printf("\n4. early stopping: each setting at its epoch of lowest validation loss\n");
    printf("  %-22s %10s   %7s %7s %7s   %s\n", "setting", "epoch", "train", "val", "test", "val loss best -> last");
    for (int i = 0; i < NSET; i++) print_outcome(s[i].label, &o[i]);
    print_outcome("lesson 09's MLP", &om);
    printf("  (lesson 09's MLP: 784-1000-10 ReLU, momentum 0.9 at 0.05, %d epochs, same split)\n\n", mlp_epochs);
    conclude(stdout, s, o, NSET, NL2, &om, te->n);
    printf("\nOur choices: MNIST stands in for the assignment's notMNIST letters, which\n"
           "cannot be obtained here; the split sizes 10,000 / 6,000 / 2,724 are notMNIST's.\n"
           "%s"
           "The train columns are the mean over each epoch's steps (with dropout, the\n"
           "thinned network's); L2 adds lambda * sum w^2 / 2 over the conv and both dense\n"
           "weight matrices (TensorFlow's l2_loss) to the loss, not to the numbers shown;\n"
           "evaluation runs in batches of %d. Settings are compared on the validation\n"
           "images (accuracy, then loss); the test images only report. One seed.\n",
           full ? "" : "Budget: the default trains on 1,000 of the 10,000 images and validates and\n"
                       "tests on 500 of the others each, 3 epochs per setting, to stay within 90 s\n"
                       "on 2 cores (an epoch of the whole 10,000 takes ten times one of these);\n"
                       "--full runs the assignment's whole split for 50 epochs.\n", EVAL_B);
    cnn *best = p.keep_model;
    write_filters(best);
    write_feature_maps(best, te);
    printf("\nplot data: %s/10_cnn_*.dat (curves per setting, the 32 filters, the feature\n"
           "maps of test image 0); make plots draws them.\n", cli_data_dir());
    if (save) {
        int st = cnn_save(best, save);
        if (st != CNN_OK) cli_fail("%s: %s", save, cnn_status_msg(st));
        printf("saved the unregularised model at its best epoch to %s (for predict)\n", save);
    }
    cnn_free(best);
    free(best_params);
    free(p.best_run);
    return 0;
}

int main(int argc, char **argv)
{
    int quick = 0, full = 0, seed = 1, epochs_opt = -1, train_opt = -1;
    const char *data = NULL, *bn_name = "feature", *set = "mnist", *save = NULL;
    cli_opt opts[] = {
        {"--quick", CLI_FLAG, &quick, NULL, "the 100-image slice, 2 epochs (seconds, for tests)"},
        {"--full", CLI_FLAG, &full, NULL, "the assignment: 10,000 / 6,000 / 2,724 images, 50 epochs per setting (hours here)"},
        {"--epochs", CLI_INT, &epochs_opt, "N", "epochs per setting (default 3; --full 50)"},
        {"--train", CLI_INT, &train_opt, "N", "training images used of the 10,000 (default 1,000; --full all)"},
        {"--bn", CLI_STRING, &bn_name, "MODE", "feature (the assignment's, default), channel (BatchNorm2d) or none"},
        {"--set", CLI_STRING, &set, "NAME", "mnist (default) or fashion"},
        {"--save", CLI_STRING, &save, "FILE", "keep the unregularised model at its best epoch, for predict"},
        {"--data", CLI_STRING, &data, "DIR", "data root (default data/, or $CHAINRULE_DATA)"},
        {"--seed", CLI_INT, &seed, "N", "seed of the split, weights, shuffles and dropout (default 1)"},
        {0}};
    cli_no_positional(cli_parse(argc, argv,
        "10 convolutional networks — the course's CNN (conv 3x3x32, ReLU, batch norm,\n"
        "max-pool, dense 784, dropout, dense 10) with Adam on lesson 09's split; L2 and\n"
        "dropout sweeps with early stopping, beside lesson 09's MLP. --full takes about\n"
        "3 hours on 2 cores at the fast path's present speed.", opts), argc, argv);
    if (quick && full) cli_fail("--quick and --full exclude each other");
    cnn_bn bn = !strcmp(bn_name, "feature") ? CNN_BN_FEATURE : !strcmp(bn_name, "channel") ? CNN_BN_CHANNEL
              : !strcmp(bn_name, "none") ? CNN_BN_NONE : CNN_BN_COUNT;
    if (bn == CNN_BN_COUNT) cli_fail("--bn: '%s' is not feature, channel or none", bn_name);
    if (strcmp(set, "mnist") && strcmp(set, "fashion")) cli_fail("--set: '%s' is not mnist or fashion", set);
    if (epochs_opt != -1 && (epochs_opt < 1 || epochs_opt > 1000)) cli_fail("--epochs: %d is not in 1..1000", epochs_opt);
    int pool = quick ? 50 : 10000;
    if (train_opt != -1 && (train_opt < 1 || train_opt > pool)) cli_fail("--train: %d is not in 1..%d", train_opt, pool);
    int epochs = epochs_opt != -1 ? epochs_opt : quick ? 2 : full ? 50 : 3;
    int n_tr = train_opt != -1 ? train_opt : quick ? 50 : full ? 10000 : 1000;
    int n_va = quick ? 30 : full ? 6000 : 500, n_te = quick ? 20 : full ? 2724 : 500;
    const char *setdir = strcmp(set, "mnist") ? "fashion-mnist" : "mnist";
    dataset tr, va, te;
    load_split(cli_data_root(data), setdir, quick, n_tr, n_va, n_te, (uint64_t)seed, &tr, &va, &te);
    int rc = lesson(&tr, &va, &te, bn, epochs, (uint64_t)seed, quick, full, setdir, save);
    dataset_free(&tr);
    dataset_free(&va);
    dataset_free(&te);
    if (fflush(stdout) != 0 || ferror(stdout)) cli_fail("error writing the output");
    return rc;
}
