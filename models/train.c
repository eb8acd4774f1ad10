/* train.c — optimisers, metrics and the training loop of the fast path
 * (contracts in train.h). Every update is element-wise over the flat
 * parameter block, in index order: the same bits for any thread count.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "data.h"
#include "train.h"

#include "fail.h"
#include "kernels.h"

/* ------------------------------------------------------------ optimisers */

static const char *opt_names[OPT_COUNT] = {
    [OPT_SGD] = "sgd", [OPT_MOMENTUM] = "momentum", [OPT_CLASSICAL] = "classical",
    [OPT_ADAM] = "adam", [OPT_RMSPROP] = "rmsprop",
};
_Static_assert(OPT_COUNT == 5, "opt_names covers every optimiser");

const char *optim_name(opt_kind k) { return (k >= 0 && k < OPT_COUNT) ? opt_names[k] : "?"; }

int optim_parse(const char *name)
{
    for (int k = 0; k < OPT_COUNT; k++)
        if (strcmp(name, opt_names[k]) == 0) return k;
    return -1;
}

optim_cfg optim_defaults(opt_kind kind)
{
    optim_cfg c = {kind, 0.01, 0.0, 0.9, 0.999, 0.9, 1e-7, 0.0};
    if (kind == OPT_MOMENTUM || kind == OPT_CLASSICAL) c.momentum = 0.9;
    if (kind == OPT_ADAM || kind == OPT_RMSPROP) c.lr = 0.001;
    return c;
}

struct optim {
    optim_cfg c;
    size_t n;
    float *v;       /* velocity (momentum) or first moment (Adam) or mean square (RMSprop) */
    float *s;       /* second moment (Adam) */
    long t;         /* steps taken */
};

optim *optim_new_n(const optim_cfg *cfg, size_t n_params)
{
    optim *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->c = *cfg;
    o->n = n_params;
    if (cfg->kind != OPT_SGD) o->v = kernels_zalloc(o->n * sizeof *o->v);
    if (cfg->kind == OPT_ADAM) o->s = kernels_zalloc(o->n * sizeof *o->s);
    if ((cfg->kind != OPT_SGD && !o->v) || (cfg->kind == OPT_ADAM && !o->s)) { optim_free(o); return NULL; }
    return o;
}

optim *optim_new(const optim_cfg *cfg, const mlp *m) { return optim_new_n(cfg, m->n_params); }
optim *optim_new_cnn(const optim_cfg *cfg, const cnn *m) { return optim_new_n(cfg, m->n_params); }

void optim_free(optim *o)
{
    if (!o) return;
    free(o->v);
    free(o->s);
    free(o);
}

/* The first-order kinds and RMSprop as kernels.h's steps (learning rate,
 * momentum, L2 λ; RMSprop's ρ and ε). */
static first_step first_of(const optim *o, float *v, float lam)
{
    opt_kind c = o->c.kind;
    first_kind k = c == OPT_SGD ? STEP_SGD : c == OPT_MOMENTUM ? STEP_MOMENTUM
                 : c == OPT_CLASSICAL ? STEP_CLASSICAL : STEP_RMSPROP;
    return (first_step){k, v, (float)o->c.lr, (float)o->c.momentum, lam, (float)o->c.rho, (float)o->c.eps};
}

/* One step on params[0..n) with L2 coefficient lam (0 for biases); the
 * same operations in the same order for every kind as the formulas in
 * train.h. */
static void step_range(optim *o, float *restrict p, const float *restrict g,
                       float *restrict v, float *restrict s, size_t n, float lam, float lr_t)
{
    const float eps = (float)o->c.eps, b1 = (float)o->c.beta1, b2 = (float)o->c.beta2;
    switch (o->c.kind) {
    case OPT_SGD: case OPT_MOMENTUM: case OPT_CLASSICAL:   // kernels.h: first_step_apply
    case OPT_RMSPROP: {                                     // (RMSprop: w ← w − α g / (√v + ε))
        first_step f = first_of(o, v, lam);
        first_step_apply(p, g, n, &f);
        break;
    }
    case OPT_ADAM: {                                        // w ← w − α_t m / (√v + ε)
        /* m ← β1 m + (1−β1)g;  v ← β2 v + (1−β2)g²  (kernels.h, vectorised) */
        adam_step a = {v, s, b1, b2, lr_t, eps, lam};
        adam_apply(p, g, n, &a);
        break;
    }
    default: FAIL("optim_step: unknown optimiser %d", (int)o->c.kind);
    }
}

/* α_t = α·√(1 − β2^t) / (1 − β1^t) for step t (Adam; 0 otherwise). */
static float adam_lr(const optim *o, long t)
{
    if (o->c.kind != OPT_ADAM) return 0.0f;
    return (float)(o->c.lr * sqrt(1.0 - pow(o->c.beta2, (double)t)) / (1.0 - pow(o->c.beta1, (double)t)));
}

/* weights in a step below which one thread takes them all (a parallel
 * region costs a few microseconds; 64 K weights take about 40 µs) */
#define PAR_STEP (64 * 1024)

void optim_step_spans(optim *o, float *params, const float *grads, size_t n_params,
                      const optim_span *spans, int n_spans)
{
    if (o->n != n_params) FAIL("optim_step: optimiser made for %zu parameters, model has %zu", o->n, n_params);
    o->t++;
    float lr_t = adam_lr(o, o->t);
    float lam = (float)o->c.l2;
    size_t total = 0;
    for (int i = 0; i < n_spans; i++) {
        size_t off = spans[i].off, n = spans[i].n;
        ASSERT(off <= n_params && n <= n_params - off, "optim_step: span %zu+%zu past %zu parameters", off, n, n_params);
        total += n;
    }
    /* A span of PAR_STEP or more weights is cut into one contiguous part per
     * thread (each weight's step is its own: the bits of one thread); the
     * smaller spans, the biases, go to thread 0. */
#pragma omp parallel num_threads(total >= PAR_STEP ? kernels_threads((long)(total / (PAR_STEP / 2))) : 1)
    {
        int t = kernels_thread_num(), nt = kernels_thread_count();
        for (int i = 0; i < n_spans; i++) {
            size_t n = spans[i].n, lo = 0, hi = t == 0 ? n : 0;
            if (n >= PAR_STEP) {
                size_t c = (n + 15) / 16;          /* whole lines of 16 floats per thread */
                lo = c * t / nt * 16; hi = c * (t + 1) / nt * 16;
                if (hi > n) hi = n;
            }
            if (lo >= hi) continue;
            size_t off = spans[i].off + lo;
            step_range(o, params + off, grads + off, o->v ? o->v + off : NULL, o->s ? o->s + off : NULL,
                       hi - lo, spans[i].decay ? lam : 0.0f, lr_t);
        }
    }
}

void optim_step(optim *o, mlp *m)
{
    optim_span sp[2 * MLP_MAX_LAYERS];
    int k = 0;
    for (int l = 0; l < m->L; l++) {
        sp[k++] = (optim_span){(size_t)(m->W[l] - m->params), (size_t)m->rows[l] * m->cfg.sizes[l + 1], 1};
        if (m->b[l]) sp[k++] = (optim_span){(size_t)(m->b[l] - m->params), (size_t)m->cfg.sizes[l + 1], 0};
    }
    optim_step_spans(o, m->params, m->grads, m->n_params, sp, k);
}

void optim_backward_step(optim *o, mlp *m)
{
    opt_kind k = o->c.kind;
    if (k == OPT_ADAM) {
        mlp_zero_grad(m); mlp_backward(m); optim_step(o, m);
        return;
    }
    if (o->n != m->n_params) FAIL("optim_step: optimiser made for %zu parameters, model has %zu", o->n, m->n_params);
    o->t++;
    first_step f = first_of(o, o->v, (float)o->c.l2);
    mlp_backward_first(m, &f);
}

/* The cnn's block in order: L2 on conv_w, W1, W2 only. */
static int cnn_spans(const cnn *m, optim_span *sp)
{
    const float *p[] = {m->conv_w, m->conv_b, m->bn_gamma, m->bn_beta, m->W1, m->b1, m->W2, m->b2};
    const int decay[] = {1, 0, 0, 0, 1, 0, 1, 0};
    int k = 0;
    for (int i = 0; i < 8; i++) {
        if (!p[i]) continue;
        size_t off = (size_t)(p[i] - m->params);
        if (k) sp[k - 1].n = off - sp[k - 1].off;
        sp[k++] = (optim_span){off, 0, decay[i]};
    }
    sp[k - 1].n = m->n_params - sp[k - 1].off;
    return k;
}

void optim_step_cnn(optim *o, cnn *m)
{
    optim_span sp[8];
    int k = cnn_spans(m, sp);
    optim_step_spans(o, m->params, m->grads, m->n_params, sp, k);
}

void optim_backward_step_cnn(optim *o, cnn *m)
{
    if (o->c.kind != OPT_ADAM) { cnn_backward(m); optim_step_cnn(o, m); return; }
    if (o->n != m->n_params) FAIL("optim_step: optimiser made for %zu parameters, model has %zu", o->n, m->n_params);
    size_t w1 = (size_t)(m->W1 - m->params);
    adam_step a = {o->v + w1, o->s + w1, (float)o->c.beta1, (float)o->c.beta2, adam_lr(o, o->t + 1),
                   (float)o->c.eps, (float)o->c.l2};
    cnn_backward_adam(m, &a);
    /* the step of every other span, as optim_step_cnn takes it (t + 1) */
    optim_span sp[8], rest[8];
    int k = cnn_spans(m, sp), n = 0;
    for (int i = 0; i < k; i++) if (sp[i].off != w1) rest[n++] = sp[i];
    optim_step_spans(o, m->params, m->grads, m->n_params, rest, n);
}

/* ------------------------------------------------------------ metrics */

eval_result train_evaluate(mlp *m, const mlp_data *d, int batch, long *conf)
{
    eval_result r = {0.0, 0.0, d->n};
    if (d->n <= 0) { r.loss = r.acc = NAN; return r; }
    if (batch < 1) batch = 1000;
    int K = m->cfg.sizes[m->L];
    double loss = 0.0;
    long right = 0;
    uint8_t pred[1024];
    for (int i = 0; i < d->n; i += batch) {
        int nb = d->n - i < batch ? d->n - i : batch;
        mlp_forward(m, d->x + (size_t)i * d->d, d->y + i, nb, 0);
        loss += m->loss * nb;
        right += m->correct;
        if (conf)
            for (int j = 0; j < nb; j += 1024) {
                int c = nb - j < 1024 ? nb - j : 1024;
                argmax_rows(pred, mlp_probs(m) + (size_t)j * K, c, K);
                for (int q = 0; q < c; q++) conf[(size_t)d->y[i + j + q] * K + pred[q]]++;
            }
    }
    r.loss = loss / d->n;
    r.acc = (double)right / d->n;
    return r;
}

void train_print_confusion(FILE *f, const long *conf, int K, const char *const *names)
{
    int w = 9;   /* wide enough for the corner label */
    if (names) for (int k = 0; k < K; k++) { int n = (int)strlen(names[k]); if (n + 1 > w) w = n + 1; }
    fprintf(f, "%*s", w, "true\\pred");
    for (int k = 0; k < K; k++) fprintf(f, " %6d", k);
    fprintf(f, "   accuracy\n");
    for (int t = 0; t < K; t++) {
        long row = 0;
        for (int k = 0; k < K; k++) row += conf[(size_t)t * K + k];
        if (names) fprintf(f, "%*s", w, names[t]);
        else fprintf(f, "%*d", w, t);
        for (int k = 0; k < K; k++) fprintf(f, " %6ld", conf[(size_t)t * K + k]);
        fprintf(f, "   %.4f\n", row ? (double)conf[(size_t)t * K + t] / row : 0.0);
    }
}

void train_full_gradient(mlp *m, const mlp_data *d, int batch)
{
    if (batch < 1) batch = 1000;
    size_t n = m->n_params;
    double *acc = calloc(n ? n : 1, sizeof *acc);
    if (!acc) FAIL("train_full_gradient: out of memory");
    for (int i = 0; i < d->n; i += batch) {
        int nb = d->n - i < batch ? d->n - i : batch;
        mlp_forward(m, d->x + (size_t)i * d->d, d->y + i, nb, 0);
        mlp_zero_grad(m);
        mlp_backward(m);
        double wgt = (double)nb / d->n;          /* batch mean × its share of rows */
        for (size_t j = 0; j < n; j++) acc[j] += wgt * m->grads[j];
    }
    for (size_t j = 0; j < n; j++) m->grads[j] = (float)acc[j];
    free(acc);
}

/* max |x[i]| over n floats, 0 for none; NaN as soon as one is NaN (fabs(NaN)
 * > v is false: a NaN would be skipped, and a layer of NaN read as dead) */
static double largest_abs(const float *x, size_t n)
{
    double v = 0.0;
    for (size_t i = 0; i < n && !isnan(v); i++) {
        double a = fabs(x[i]);
        if (a > v || isnan(a)) v = a;
    }
    return v;
}

double train_grad_max(const mlp *m, int l, double *bmax)
{
    size_t nw = (size_t)m->rows[l] * m->cfg.sizes[l + 1];
    if (m->cfg.bias_trick && l == 0) nw -= (size_t)m->cfg.sizes[1];   /* the trick row is a bias */
    const float *db = m->db[l] ? m->db[l] : (m->cfg.bias_trick && l == 0 ? m->dW[0] + nw : NULL);
    if (bmax) *bmax = db ? largest_abs(db, (size_t)m->cfg.sizes[l + 1]) : 0.0;
    return largest_abs(m->dW[l], nw);
}

/* ------------------------------------------------------------ logs */

FILE *train_open_log(const char *path, char *err, size_t errlen)
{
    char dir[4096];
    if (strlen(path) >= sizeof dir) { snprintf(err, errlen, "%s: path too long", path); return NULL; }
    strcpy(dir, path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "%s: cannot create directory %s (%s)", path, dir, strerror(errno));
            return NULL;
        }
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    if (!f) snprintf(err, errlen, "%s: cannot write (%s)", path, strerror(errno));
    return f;
}

/* ------------------------------------------------------------ the loop */

train_cfg train_defaults(void)
{
    train_cfg c;
    memset(&c, 0, sizeof c);
    c.epochs = 10;
    c.batch = 32;
    c.shuffle = 1;
    c.seed = 1;
    c.opt = optim_defaults(OPT_SGD);
    c.keep = 1.0;
    c.eval_batch = 1000;
    c.progress = 1;
    return c;
}

void train_result_free(train_result *res)
{
    if (!res) return;
    free(res->hist);
    res->hist = NULL;
    res->n_hist = 0;
}

static int push_point(train_result *res, int *cap, const train_point *p)
{
    if (res->n_hist == *cap) {
        int nc = *cap ? 2 * *cap : 64;
        train_point *h = realloc(res->hist, (size_t)nc * sizeof *h);
        if (!h) return -1;
        res->hist = h;
        *cap = nc;
    }
    res->hist[res->n_hist++] = *p;
    return 0;
}

/* Why the step just taken is a training fault, or NULL: the batch loss is
 * not finite, or the float32 softmax gave some row's true class probability
 * exactly 0, so that row's cross-entropy −ln p is +∞ in the precision the
 * network trains in (the double log-sum-exp would still print a finite
 * number past ~103 nats: a run that has diverged, not one that learns). */
static const char *step_fault(const mlp *m, const uint8_t *y, int B)
{
    if (isnan(m->loss)) return "the loss is NaN";
    if (!isfinite(m->loss)) return "the loss is infinite";
    int K = m->cfg.sizes[m->L];
    const float *p = mlp_probs(m);
    for (int q = 0; q < B; q++)
        if (!(p[(size_t)q * K + y[q]] > 0.0f))
            return "the loss is infinite in float32 (a true class got probability 0)";
    return NULL;
}

static int params_finite(const mlp *m)
{
    for (size_t i = 0; i < m->n_params; i++)
        if (!isfinite(m->params[i])) return 0;
    return 1;
}

/* Fills res for a fault at step s (0-based) of epoch ep (0-based); the
 * message is one line for the program to print. */
static int fault(train_result *res, const train_cfg *cfg, const char *why, int ep, long s,
                 long per_epoch, long step, double last_loss)
{
    res->fault = 1;
    res->fault_epoch = ep + 1;
    res->fault_step = step + 1;
    res->last_loss = last_loss;
    char last[64];
    if (isfinite(last_loss)) snprintf(last, sizeof last, "last finite loss %.6g at step %ld", last_loss, step);
    else snprintf(last, sizeof last, "no finite loss before it");
    snprintf(res->err, sizeof res->err,
             "training fault at epoch %d, step %ld of %ld (step %ld in all): %s; %s; "
             "is the learning rate (%g) too high, or are the inputs not scaled (pixels / 255)?",
             ep + 1, s + 1, per_epoch, step + 1, why, last, cfg->opt.lr);
    return TRAIN_FAULT;
}

int train_run(mlp *m, const mlp_data *tr, const mlp_data *va, const train_cfg *cfg, train_result *res)
{
    memset(res, 0, sizeof *res);
    res->best = -1;
    int D = m->cfg.sizes[0], K = m->cfg.sizes[m->L];
    if (tr->d != D || (va && va->n > 0 && va->d != D)) {
        snprintf(res->err, sizeof res->err, "data are %d wide, the network takes %d inputs",
                 tr->d != D ? tr->d : va->d, D);
        return -1;
    }
    for (int i = 0; i < tr->n; i++)
        if (tr->y[i] >= K) {
            snprintf(res->err, sizeof res->err, "training label %d of row %d is not < %d classes", tr->y[i], i, K);
            return -1;
        }
    int B = cfg->batch < 1 ? 1 : cfg->batch;
    if (tr->n < 1 || (cfg->drop_last && tr->n < B)) {
        snprintf(res->err, sizeof res->err, "%d training rows: not enough for one batch of %d", tr->n, B);
        return -1;
    }
    long per_epoch = cfg->drop_last ? tr->n / B : (tr->n + B - 1) / B;
    int fused = cfg->opt.kind == OPT_SGD && cfg->opt.l2 == 0.0;
    optim *opt = fused ? NULL : optim_new(&cfg->opt, m);
    data_order ord;
    int ord_ok = data_order_init(&ord, tr->n, B, cfg->shuffle, cfg->drop_last, cfg->seed) == 0;
    float *bx = B > 1 ? malloc((size_t)B * D * sizeof *bx) : NULL;
    uint8_t *by = malloc((size_t)B);
    float *best = cfg->restore_best ? malloc(m->n_params * sizeof *best) : NULL;
    int cap = 0, rc = 0;
    if ((!fused && !opt) || !ord_ok || (B > 1 && !bx) || !by || (cfg->restore_best && !best)) {
        snprintf(res->err, sizeof res->err, "out of memory");
        rc = -1; goto out;
    }
    mlp_set_dropout(m, cfg->keep, cfg->seed ^ 0x9e3779b97f4a7c15ull);
    int tty = cfg->progress && isatty(2);
    double run_loss = 0.0, best_loss = INFINITY, last_loss = NAN;
    long run_right = 0, run_n = 0, since_best = 0, step = 0;
    int stop = 0;
    for (int ep = 0; ep < cfg->epochs && !stop; ep++) {
        res->epochs_run = ep + 1;
        data_order_epoch(&ord);
        for (long s = 0; s < per_epoch && !stop; s++) {
            int nb = 1;
            const float *x;
            /* batch 1 reads its row in place; larger batches are gathered */
            if (B == 1) { x = tr->x + (size_t)ord.order[s] * D; by[0] = tr->y[ord.order[s]]; }
            else { nb = data_order_gather(&ord, s, tr->x, tr->y, D, bx, by); x = bx; }
            mlp_forward(m, x, by, nb, 1);
            const char *why = step_fault(m, by, nb);
            if (why) { rc = fault(res, cfg, why, ep, s, per_epoch, step, last_loss); goto end; }
            last_loss = m->loss;
            run_loss += m->loss * nb;
            run_right += m->correct;
            run_n += nb;
            if (fused) mlp_backward_sgd(m, (float)cfg->opt.lr);
            else optim_backward_step(opt, m);
            step++;
            int at_end = s + 1 == per_epoch;
            if (tty && (step % 50 == 0 || at_end))
                fprintf(stderr, "\r%s epoch %d/%d  step %ld/%ld  loss %.4f   ", cfg->name ? cfg->name : "train",
                        ep + 1, cfg->epochs, s + 1, per_epoch, run_n ? run_loss / run_n : 0.0);
            if (!(cfg->val_every > 0 ? step % cfg->val_every == 0 : at_end)) continue;
            if (!params_finite(m)) {   /* a gradient overflowed; the next forward would say NaN */
                rc = fault(res, cfg, "a parameter is no longer finite (a gradient overflowed)",
                           ep, s, per_epoch, step, last_loss);
                goto end;
            }
            train_point p = {res->n_hist, step, ep + (at_end ? 1 : 0), (double)step / per_epoch,
                             NAN, NAN, NAN, NAN};
            if (cfg->eval_train) {
                eval_result e = train_evaluate(m, tr, cfg->eval_batch, NULL);
                p.train_loss = e.loss; p.train_acc = e.acc;
            } else if (run_n) {
                p.train_loss = run_loss / run_n; p.train_acc = (double)run_right / run_n;
            }
            run_loss = 0.0; run_right = 0; run_n = 0;
            if (va && va->n > 0) {
                eval_result e = train_evaluate(m, va, cfg->eval_batch, NULL);
                p.val_loss = e.loss; p.val_acc = e.acc;
                if (e.loss < best_loss) {
                    best_loss = e.loss; res->best = p.check; since_best = 0;
                    if (best) memcpy(best, m->params, m->n_params * sizeof *best);
                } else if (cfg->patience > 0 && ++since_best >= cfg->patience) {
                    stop = 1; res->stopped_early = 1;
                }
            }
            if (push_point(res, &cap, &p) != 0) { snprintf(res->err, sizeof res->err, "out of memory"); rc = -1; goto out; }
            if (cfg->on_check) cfg->on_check(&p, cfg->ctx);
        }
    }
    if (best && res->best >= 0) memcpy(m->params, best, m->n_params * sizeof *best);
end:
    if (tty) fprintf(stderr, "\r\033[K");
    res->steps = step;
out:
    optim_free(opt);
    data_order_free(&ord); free(bx); free(by); free(best);
    return rc;
}
