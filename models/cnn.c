/* cnn.c — the fast-path convolutional network (see cnn.h for the layouts
 * and CNN_API.md for the contract with the graph side). Each layer is a
 * kernel of kernels.h; this file owns the parameter block, the workspace,
 * the order of the layers and the file format.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cnn.h"
#include "fail.h"
#include "kernels.h"

cnn_cfg cnn_defaults(void)
{
    cnn_cfg c = {28, 28, 1, 3, 32, CNN_PAD_SAME, CNN_BN_FEATURE, 1e-9, 2, 784, 10, 1.0, 1};
    return c;
}

/* Bounds that keep every size product inside int and size_t arithmetic. */
#define CNN_MAX_SIDE 4096
#define CNN_MAX_UNITS (1 << 16)
#define CNN_MAX_PARAMS ((size_t)1 << 30)

static int pad_of(const cnn_cfg *c) { return c->pad == CNN_PAD_SAME ? (c->ksize - 1) / 2 : 0; }
static int conv_side(const cnn_cfg *c, int n) { return n + 2 * pad_of(c) - c->ksize + 1; }

int cnn_out_dim(const cnn_cfg *c)
{
    return (conv_side(c, c->H) / c->pool) * (conv_side(c, c->W) / c->pool) * c->filters;
}

static size_t count_params(const cnn_cfg *c)
{
    size_t kkc = (size_t)c->ksize * c->ksize * c->C_in, F = (size_t)c->filters;
    size_t D = (size_t)cnn_out_dim(c), h = (size_t)c->hidden, K = (size_t)c->classes;
    return kkc * F + F + (c->bn == CNN_BN_CHANNEL ? 2 * F : 0) + D * h + h + h * K + K;
}

/* What is wrong with cfg (both shapes where two disagree), or NULL. */
static const char *cfg_problem(const cnn_cfg *c, char *buf, size_t n)
{
    if (c->H < 1 || c->W < 1 || c->C_in < 1 || c->H > CNN_MAX_SIDE || c->W > CNN_MAX_SIDE || c->C_in > CNN_MAX_UNITS)
        snprintf(buf, n, "input %d×%d×%d: each side must be 1…%d, channels 1…%d", c->H, c->W, c->C_in, CNN_MAX_SIDE, CNN_MAX_UNITS);
    else if (c->ksize < 1 || c->filters < 1 || c->filters > CNN_MAX_UNITS || c->ksize > CNN_MAX_SIDE)
        snprintf(buf, n, "kernel %d×%d with %d filters: need ≥ 1", c->ksize, c->ksize, c->filters);
    else if (c->ksize > c->H || c->ksize > c->W)
        snprintf(buf, n, "kernel %d×%d×%d is larger than the input %d×%d×%d", c->ksize, c->ksize, c->C_in, c->H, c->W, c->C_in);
    else if (c->pad != CNN_PAD_SAME && c->pad != CNN_PAD_VALID)
        snprintf(buf, n, "unknown padding %d", (int)c->pad);
    else if (c->pad == CNN_PAD_SAME && c->ksize % 2 == 0)
        snprintf(buf, n, "SAME padding needs an odd kernel, not %d×%d", c->ksize, c->ksize);
    else if ((int)c->bn < 0 || c->bn >= CNN_BN_COUNT)
        snprintf(buf, n, "unknown batch norm %d", (int)c->bn);
    else if (c->bn != CNN_BN_NONE && !(c->bn_eps > 0.0 && c->bn_eps < 1.0))
        snprintf(buf, n, "batch-norm epsilon %g is not in (0, 1)", c->bn_eps);
    else if (c->pool < 1 || c->pool > conv_side(c, c->H) || c->pool > conv_side(c, c->W))
        snprintf(buf, n, "pool %d×%d does not fit the conv output %d×%d×%d", c->pool, c->pool,
                 conv_side(c, c->H), conv_side(c, c->W), c->filters);
    else if (c->hidden < 1 || c->hidden > CNN_MAX_UNITS || c->classes < 2 || c->classes > 256)
        snprintf(buf, n, "hidden %d, classes %d: need 1…%d hidden and 2…256 classes", c->hidden, c->classes, CNN_MAX_UNITS);
    else if (!(c->keep > 0.0 && c->keep <= 1.0))
        snprintf(buf, n, "dropout keep probability %g is not in (0, 1]", c->keep);
    else if ((double)cnn_out_dim(c) * c->hidden > (double)CNN_MAX_PARAMS || count_params(c) > CNN_MAX_PARAMS)
        snprintf(buf, n, "%d×%d×%d after pooling into %d hidden units: more than %zu parameters",
                 conv_side(c, c->H) / c->pool, conv_side(c, c->W) / c->pool, c->filters, c->hidden, CNN_MAX_PARAMS);
    else return NULL;
    return buf;
}

/* Glorot uniform, ±√(6/(fan_in + fan_out)), n values row-major. */
static void glorot(float *p, size_t n, double fan_in, double fan_out, rng *r)
{
    double lim = sqrt(6.0 / (fan_in + fan_out));
    for (size_t i = 0; i < n; i++) p[i] = (float)rng_range(r, -lim, lim);
}

/* Points the named pointers of m into params and grads. */
static void bind(cnn *m)
{
    const cnn_cfg *c = &m->cfg;
    size_t off = 0, F = (size_t)c->filters;
    float *P = m->params, *G = m->grads;
#define TAKE(p, dp, n) do { p = P + off; dp = G + off; off += (n); } while (0)
    TAKE(m->conv_w, m->dconv_w, (size_t)c->ksize * c->ksize * c->C_in * F);
    TAKE(m->conv_b, m->dconv_b, F);
    if (c->bn == CNN_BN_CHANNEL) { TAKE(m->bn_gamma, m->dbn_gamma, F); TAKE(m->bn_beta, m->dbn_beta, F); }
    TAKE(m->W1, m->dW1, (size_t)m->D * c->hidden);
    TAKE(m->b1, m->db1, (size_t)c->hidden);
    TAKE(m->W2, m->dW2, (size_t)c->hidden * c->classes);
    TAKE(m->b2, m->db2, (size_t)c->classes);
#undef TAKE
    ASSERT(off == m->n_params, "cnn: bound %zu of %zu parameters", off, m->n_params);
}

/* The network without initial values (params zero). */
static cnn *cnn_alloc(const cnn_cfg *cfg)
{
    cnn *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->cfg = *cfg;
    m->Ho = conv_side(cfg, cfg->H); m->Wo = conv_side(cfg, cfg->W);
    m->Hp = m->Ho / cfg->pool; m->Wp = m->Wo / cfg->pool;
    m->D = cnn_out_dim(cfg);
    m->n_params = count_params(cfg);
    m->params = kernels_zalloc(m->n_params * sizeof *m->params);
    m->grads = kernels_zalloc(m->n_params * sizeof *m->grads);
    if (cfg->bn == CNN_BN_CHANNEL) {
        m->bn_run_mean = calloc((size_t)cfg->filters, sizeof(float));
        m->bn_run_var = calloc((size_t)cfg->filters, sizeof(float));
    }
    if (!m->params || !m->grads || (cfg->bn == CNN_BN_CHANNEL && (!m->bn_run_mean || !m->bn_run_var))) {
        cnn_free(m);
        return NULL;
    }
    bind(m);
    rng_seed(&m->drop_rng, cfg->seed ^ 0x64726f706f7574ull);   /* "dropout": a stream apart from the init */
    m->loss = NAN;
    return m;
}

cnn *cnn_new(const cnn_cfg *cfg)
{
    char why[256];
    if (cfg_problem(cfg, why, sizeof why)) FAIL("cnn_new: %s", why);
    cnn *m = cnn_alloc(cfg);
    if (!m) return NULL;
    rng r;
    rng_seed(&r, cfg->seed);
    double kk = (double)cfg->ksize * cfg->ksize, F = cfg->filters, h = cfg->hidden, K = cfg->classes;
    glorot(m->conv_w, (size_t)(kk * cfg->C_in * F), kk * cfg->C_in, kk * F, &r);
    glorot(m->conv_b, (size_t)F, kk * cfg->C_in, kk * F, &r);
    glorot(m->W1, (size_t)m->D * cfg->hidden, m->D, h, &r);
    glorot(m->b1, (size_t)cfg->hidden, m->D, h, &r);
    glorot(m->W2, (size_t)(h * K), h, K, &r);
    glorot(m->b2, (size_t)K, h, K, &r);
    if (m->bn_gamma)
        for (int f = 0; f < cfg->filters; f++) {
            m->bn_gamma[f] = 1.0f; m->bn_beta[f] = 0.0f;
            m->bn_run_mean[f] = 0.0f; m->bn_run_var[f] = 1.0f;   /* PyTorch's initial buffers */
        }
    return m;
}

void cnn_free(cnn *m)
{
    if (!m) return;
    free(m->params); free(m->grads);
    free(m->bn_run_mean); free(m->bn_run_var);
    free(m->ws);
    free(m);
}

/* The workspace for B rows: one block, carved in 64-byte pieces. */
static int ensure(cnn *m, int B)
{
    if (B <= m->B_cap) return 0;
    const cnn_cfg *c = &m->cfg;
    size_t conv = (size_t)B * m->Ho * m->Wo, F = (size_t)c->filters, p2 = 2 * (size_t)pad_of(c);
    size_t bnc = c->bn == CNN_BN_FEATURE ? conv / B * F : F, feat = c->bn == CNN_BN_FEATURE ? conv * F : 0;
    size_t sizes[] = {(size_t)B * (c->H + p2) * (c->W + p2) * c->C_in, conv * F, feat, feat, bnc, bnc, 2 * bnc * 2,
                      (size_t)B * m->D, (size_t)B * m->D, (size_t)B * c->hidden,
                      (size_t)B * c->classes, (size_t)B * c->classes, (size_t)B * c->hidden,
                      (size_t)B * m->D, conv * F, ((size_t)B * c->hidden + 3) / 4};
    float **ptrs[] = {&m->xpad, &m->a1, &m->xhat, &m->a2, &m->bn_mean, &m->bn_istd, NULL,
                      &m->pooled, (float **)&m->argmax, &m->h1, &m->probs, &m->dlogits, &m->dh1,
                      &m->dpooled, &m->da, (float **)&m->mask};
    enum { NB = sizeof sizes / sizeof sizes[0] };
    _Static_assert(sizeof ptrs / sizeof ptrs[0] == NB, "one pointer per piece");
    size_t total = 0;
    for (int i = 0; i < NB; i++) total += (sizes[i] + 15) / 16 * 16;
    float *ws = kernels_zalloc(total * sizeof(float));   /* every page faulted in here, once */
    if (!ws) return -1;
    free(m->ws);
    m->ws = ws;
    size_t off = 0;
    for (int i = 0; i < NB; i++) {
        if (ptrs[i]) *ptrs[i] = ws + off;
        off += (sizes[i] + 15) / 16 * 16;
    }
    m->B_cap = B;
    return 0;
}

/* The doubles the batch-norm kernels use as scratch: the piece after bn_istd. */
static double *bn_scratch(cnn *m) { return (double *)(m->bn_istd + ((m->cfg.bn == CNN_BN_FEATURE ? (size_t)m->Ho * m->Wo * m->cfg.filters : (size_t)m->cfg.filters) + 15) / 16 * 16); }

/* ------------------------------------------------------------ forward / backward */

static const char *stage_names[CNN_STAGE_COUNT] = {
    [CNN_STAGE_CONV_F] = "conv_fwd", [CNN_STAGE_BN_F] = "bn_fwd", [CNN_STAGE_POOL_F] = "pool_fwd",
    [CNN_STAGE_FC1_F] = "fc1_fwd", [CNN_STAGE_FC2_F] = "fc2_softmax_fwd", [CNN_STAGE_FC2_B] = "fc2_bwd",
    [CNN_STAGE_FC1_B] = "fc1_bwd", [CNN_STAGE_POOL_B] = "pool_bwd", [CNN_STAGE_BN_B] = "bn_bwd",
    [CNN_STAGE_CONV_B] = "relu_conv_bwd",
};
_Static_assert(CNN_STAGE_COUNT == 10, "a name per stage; stage_s has 10 entries");

const char *cnn_stage_name(int s) { return s >= 0 && s < CNN_STAGE_COUNT ? stage_names[s] : "?"; }

/* Adds the seconds since *t to stage st when profiling; *t = now. */
static void stage(cnn *m, int st, double *t)
{
    if (!m->profile) return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    if (st >= 0) m->stage_s[st] += now - *t;
    *t = now;
}

double cnn_forward(cnn *m, const float *x, const uint8_t *labels, int B, int train)
{
    const cnn_cfg *c = &m->cfg;
    ASSERT(B >= 1, "cnn_forward: batch of %d rows", B);
    if (ensure(m, B) != 0) FAIL("cnn_forward: out of memory for a batch of %d", B);
    int F = c->filters, Ho = m->Ho, Wo = m->Wo, H1 = c->hidden, K = c->classes;
    m->B = B; m->train = train; m->labels = labels;
    double t = 0.0;
    stage(m, -1, &t);
    // a1 (B, Ho, Wo, F) = ReLU(conv(x) + conv_b)
    conv2d_forward(m->a1, m->xpad, x, m->conv_w, m->conv_b, B, c->H, c->W, c->C_in, c->ksize,
                   pad_of(c), F, Ho, Wo, ACT_RELU);
    stage(m, CNN_STAGE_CONV_F, &t);
    // a2 = batch norm of a1: per feature (rows B) or per channel (rows B·Ho·Wo)
    if (c->bn == CNN_BN_FEATURE)
        batchnorm_forward(m->a2, m->xhat, m->bn_mean, m->bn_istd, m->a1, NULL, NULL, B, Ho * Wo * F,
                          c->bn_eps, NULL, NULL, 1, bn_scratch(m));
    else if (c->bn == CNN_BN_CHANNEL)   /* with the pooling: the normalised values are never stored */
        batchnorm_pool_forward(m->pooled, m->argmax, m->bn_mean, m->bn_istd, m->a1, m->bn_gamma, m->bn_beta,
                               B, Ho, Wo, F, c->pool, c->bn_eps, m->bn_run_mean, m->bn_run_var, train, bn_scratch(m));
    const float *bn_out = c->bn == CNN_BN_NONE ? m->a1 : m->a2;
    stage(m, CNN_STAGE_BN_F, &t);
    // pooled (B, Hp, Wp, F) = the max of each pool×pool window = (B, D) flattened NHWC
    if (c->bn != CNN_BN_CHANNEL) maxpool_forward(m->pooled, m->argmax, bn_out, B, Ho, Wo, F, c->pool);
    stage(m, CNN_STAGE_POOL_F, &t);
    // h1 (B, hidden) = ReLU(mask ⊙ (pooled · W1 + b1) / keep) = mask ⊙ ReLU(…) / keep (mask ≥ 0)
    matmul_forward(m->h1, NULL, m->pooled, m->W1, m->b1, B, m->D, H1, ACT_RELU);
    m->masked = train && c->keep < 1.0;
    if (m->masked) {
        float s = (float)(1.0 / c->keep);
        rng_keep_u8(&m->drop_rng, m->mask, (size_t)B * H1, c->keep);
        for (size_t i = 0; i < (size_t)B * H1; i++) m->h1[i] = m->mask[i] ? m->h1[i] * s : 0.0f;
    }
    stage(m, CNN_STAGE_FC1_F, &t);
    // probs (B, classes) = softmax(h1 · W2 + b2); dlogits = (probs − onehot)/B
    matmul_forward(m->probs, NULL, m->h1, m->W2, m->b2, B, H1, K, ACT_IDENTITY);
    double total = softmax_ce_forward(m->probs, labels ? m->dlogits : NULL, m->probs, labels, B, K,
                                      1.0f / (float)B, &m->correct);
    m->loss = labels ? total / B : NAN;
    stage(m, CNN_STAGE_FC2_F, &t);
    return m->loss;
}

const float *cnn_probs(const cnn *m) { return m->probs; }

const uint8_t *cnn_dropout_mask(const cnn *m) { return m->masked ? m->mask : NULL; }

/* cnn_backward, or with W1's weight gradient applied as the Adam step a
 * (dW1 then untouched) when a ≠ NULL. */
static void backward(cnn *m, const adam_step *a)
{
    const cnn_cfg *c = &m->cfg;
    ASSERT(m->B > 0 && m->labels, "cnn_backward: the last forward had no labels");
    int B = m->B, F = c->filters, Ho = m->Ho, Wo = m->Wo, H1 = c->hidden, K = c->classes;
    size_t conv = (size_t)B * Ho * Wo;
    double t = 0.0;
    stage(m, -1, &t);
    if (a) {   /* all but dW1, which the fused product never writes */
        memset(m->grads, 0, (size_t)(m->dW1 - m->grads) * sizeof *m->grads);
        memset(m->db1, 0, (m->n_params - (size_t)(m->db1 - m->grads)) * sizeof *m->grads);
    } else memset(m->grads, 0, m->n_params * sizeof *m->grads);
    // dW2 = h1^T · dlogits, db2 = Σ_b dlogits;  dh1 = dlogits · W2^T
    matmul_backward_weight(m->dW2, m->db2, m->h1, m->dlogits, B, H1, K);
    matmul_backward_input(m->dh1, m->dlogits, m->W2, B, H1, K);
    stage(m, CNN_STAGE_FC2_B, &t);
    // through ReLU and dropout: dz = dh1 · s where h1 > 0 (s = 1/keep, or 1), else 0
    float s = m->masked ? (float)(1.0 / c->keep) : 1.0f;
    for (size_t i = 0; i < (size_t)B * H1; i++) m->dh1[i] = m->h1[i] > 0.0f ? (m->masked ? m->dh1[i] * s : m->dh1[i]) : 0.0f;
    // dpooled = dz · W1^T (first: the fused step below changes W1);
    // dW1 = pooled^T · dz, db1 = Σ_b dz
    if (a) {   /* both products and Adam's step on W1 in one pass over W1 */
        matmul_backward_weight(m->dW1, m->db1, m->pooled, m->dh1, B, 0, H1);   /* db1 only */
        matmul_backward_input_weight_adam(m->dpooled, m->W1, m->pooled, m->dh1, B, m->D, H1, a);
    } else {
        matmul_backward_input(m->dpooled, m->dh1, m->W1, B, m->D, H1);
        matmul_backward_weight(m->dW1, m->db1, m->pooled, m->dh1, B, m->D, H1);
    }
    stage(m, CNN_STAGE_FC1_B, &t);
    // to each window's first maximum (per channel: inside the batch norm's backward)
    if (c->bn != CNN_BN_CHANNEL) maxpool_backward(m->da, m->dpooled, m->argmax, B, Ho, Wo, F, c->pool);
    stage(m, CNN_STAGE_POOL_B, &t);
    // through the batch norm, then the conv's ReLU: da · [a1 > 0] (in the same pass)
    if (c->bn == CNN_BN_FEATURE)
        batchnorm_backward(m->da, NULL, NULL, m->da, m->xhat, m->bn_istd, NULL, m->a1, B, Ho * Wo * F, 1,
                           bn_scratch(m));
    else if (c->bn == CNN_BN_CHANNEL)
        batchnorm_pool_backward(m->da, m->dbn_gamma, m->dbn_beta, m->dpooled, m->argmax, m->a1, m->bn_mean,
                                m->bn_istd, m->bn_gamma, 1, B, Ho, Wo, F, c->pool, m->train, bn_scratch(m));
    else
        for (size_t i = 0; i < conv * F; i++) if (!(m->a1[i] > 0.0f)) m->da[i] = 0.0f;
    stage(m, CNN_STAGE_BN_B, &t);
    // dconv_w (k·k·C_in, F) = Σ_rows patch^T · da, dconv_b = Σ da
    conv2d_backward_weight(m->dconv_w, m->dconv_b, m->xpad, m->da, B, c->H, c->W, c->C_in, c->ksize,
                           pad_of(c), F, Ho, Wo);
    stage(m, CNN_STAGE_CONV_B, &t);
}

void cnn_backward(cnn *m) { backward(m, NULL); }

void cnn_backward_adam(cnn *m, const adam_step *w1) { backward(m, w1); }

/* ------------------------------------------------------------ summary */

void cnn_summary(const cnn *m, FILE *f)
{
    const cnn_cfg *c = &m->cfg;
    const char *rule = "_________________________________________________________________";
    const char *dbl = "=================================================================";
    size_t F = (size_t)c->filters, kk = (size_t)c->ksize * c->ksize;
    char shape[64];
    fprintf(f, "Model: \"cnn\"\n%s\n %-27s %-25s %-10s\n%s\n", rule, "Layer (type)", "Output Shape", "Param #", dbl);
#define ROW(name, n, ...) do { snprintf(shape, sizeof shape, __VA_ARGS__); \
        fprintf(f, " %-27s %-25s %-10zu\n", name, shape, (size_t)(n)); } while (0)
    ROW("conv2d (Conv2D)", kk * c->C_in * F + F, "(None, %d, %d, %d)", m->Ho, m->Wo, c->filters);
    if (c->bn != CNN_BN_NONE)
        ROW("batch_normalization", c->bn == CNN_BN_CHANNEL ? 2 * F : 0, "(None, %d, %d, %d)", m->Ho, m->Wo, c->filters);
    ROW("max_pooling2d (MaxPool2D)", 0, "(None, %d, %d, %d)", m->Hp, m->Wp, c->filters);
    ROW("flatten (Flatten)", 0, "(None, %d)", m->D);
    ROW("dense (Dense)", (size_t)m->D * c->hidden + c->hidden, "(None, %d)", c->hidden);
    if (c->keep < 1.0) ROW("dropout (Dropout)", 0, "(None, %d)", c->hidden);
    ROW("dense_1 (Dense)", (size_t)c->hidden * c->classes + c->classes, "(None, %d)", c->classes);
#undef ROW
    size_t buf = c->bn == CNN_BN_CHANNEL ? 2 * F : 0;
    fprintf(f, "%s\nTotal params: %zu\nTrainable params: %zu\nNon-trainable params: %zu\n%s\n",
            dbl, m->n_params + buf, m->n_params, buf, rule);
}

/* ------------------------------------------------------------ save / load */

#define MAGIC "CHRCNN1\n"
enum { HDR_U32 = 10, HDR_LEN = 8 + 4 * HDR_U32 + 8 * 3 + 8 * 2 };   /* magic, ints, eps keep seed, count sum */

static const char *status_msgs[CNN_STATUS_COUNT] = {
    [CNN_OK] = "ok", [CNN_ERR_OPEN] = "cannot open", [CNN_ERR_WRITE] = "cannot write it into place",
    [CNN_ERR_MAGIC] = "not a chainrule CNN file (bad magic)", [CNN_ERR_TRUNCATED] = "truncated",
    [CNN_ERR_TRAILING] = "trailing bytes after the model", [CNN_ERR_CFG] = "corrupt header (an impossible network)",
    [CNN_ERR_CHECKSUM] = "checksum mismatch (corrupt file)", [CNN_ERR_NONFINITE] = "a parameter is NaN or infinite",
    [CNN_ERR_NOMEM] = "out of memory", [CNN_ERR_NOTFILE] = "not a regular file",
};
_Static_assert(CNN_STATUS_COUNT == 11, "a message per status");

const char *cnn_status_msg(int s) { return s >= 0 && s < CNN_STATUS_COUNT ? status_msgs[s] : "unknown status"; }

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 1099511628211ull; }
    return h;
}
#define FNV_START 1469598103934665603ull

static void put_u32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void put_u64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static uint32_t get_u32(const unsigned char *p) { uint32_t v = 0; for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i); return v; }
static uint64_t get_u64(const unsigned char *p) { uint64_t v = 0; for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i); return v; }
static uint64_t dbits(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
static double bitsd(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }

/* The body: params, then the running mean and variance (CNN_BN_CHANNEL). */
static size_t body_floats(const cnn_cfg *c) { return count_params(c) + (c->bn == CNN_BN_CHANNEL ? 2 * (size_t)c->filters : 0); }

static const float *body_part(const cnn *m, size_t i, size_t *n)
{
    size_t F = (size_t)m->cfg.filters;
    if (i == 0) { *n = m->n_params; return m->params; }
    if (m->cfg.bn != CNN_BN_CHANNEL || i > 2) { *n = 0; return NULL; }
    *n = F;
    return i == 1 ? m->bn_run_mean : m->bn_run_var;
}

/* The little-endian bytes of every float of the body, checksummed. */
static unsigned char *body_bytes(const cnn *m, size_t *len, uint64_t *sum)
{
    *len = body_floats(&m->cfg) * 4;
    unsigned char *b = malloc(*len + 1), *p = b;
    if (!b) return NULL;
    for (size_t part = 0, n; part < 3; part++) {
        const float *src = body_part(m, part, &n);
        for (size_t i = 0; i < n; i++, p += 4) { uint32_t u; memcpy(&u, &src[i], 4); put_u32(p, u); }
    }
    *sum = fnv1a(FNV_START, b, *len);
    return b;
}

int cnn_save(const cnn *m, const char *path)
{
    const cnn_cfg *c = &m->cfg;
    unsigned char h[HDR_LEN];
    uint32_t ints[HDR_U32] = {(uint32_t)c->H, (uint32_t)c->W, (uint32_t)c->C_in, (uint32_t)c->ksize,
                              (uint32_t)c->filters, (uint32_t)c->pad, (uint32_t)c->bn, (uint32_t)c->pool,
                              (uint32_t)c->hidden, (uint32_t)c->classes};
    size_t len;
    uint64_t sum;
    unsigned char *body = body_bytes(m, &len, &sum);
    if (!body) return CNN_ERR_NOMEM;
    memcpy(h, MAGIC, 8);
    for (int i = 0; i < HDR_U32; i++) put_u32(h + 8 + 4 * i, ints[i]);
    unsigned char *q = h + 8 + 4 * HDR_U32;
    put_u64(q, dbits(c->bn_eps)); put_u64(q + 8, dbits(c->keep)); put_u64(q + 16, c->seed);
    put_u64(q + 24, len / 4); put_u64(q + 32, sum);
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (!tmp) { free(body); return CNN_ERR_NOMEM; }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    FILE *f = fopen(tmp, "wb");
    int ok = f != NULL;
    if (ok) ok = fwrite(h, 1, HDR_LEN, f) == HDR_LEN && fwrite(body, 1, len, f) == len;
    if (f && fclose(f) != 0) ok = 0;
    free(body);
    if (ok && rename(tmp, path) != 0) ok = 0;
    if (!ok) remove(tmp);
    free(tmp);
    return ok ? CNN_OK : CNN_ERR_WRITE;
}

/* Reads the header of f into cfg, and the float count and checksum. */
static int read_header(FILE *f, cnn_cfg *c, uint64_t *n, uint64_t *sum)
{
    unsigned char h[HDR_LEN];
    size_t got = fread(h, 1, HDR_LEN, f);
    if (got < 8 || memcmp(h, MAGIC, 8) != 0) return CNN_ERR_MAGIC;
    if (got < HDR_LEN) return CNN_ERR_TRUNCATED;
    uint32_t v[HDR_U32];
    for (int i = 0; i < HDR_U32; i++) {
        v[i] = get_u32(h + 8 + 4 * i);
        if (v[i] > (1u << 20)) return CNN_ERR_CFG;
    }
    const unsigned char *q = h + 8 + 4 * HDR_U32;
    *c = (cnn_cfg){(int)v[0], (int)v[1], (int)v[2], (int)v[3], (int)v[4], (cnn_pad)v[5], (cnn_bn)v[6],
                   bitsd(get_u64(q)), (int)v[7], (int)v[8], (int)v[9], bitsd(get_u64(q + 8)), get_u64(q + 16)};
    *n = get_u64(q + 24);
    *sum = get_u64(q + 32);
    char why[256];
    if (cfg_problem(c, why, sizeof why) || *n != body_floats(c)) return CNN_ERR_CFG;
    return CNN_OK;
}

/* The body of f (n floats after the header) into m, checked. */
static int read_body(FILE *f, cnn *m, uint64_t n, uint64_t sum)
{
    size_t len = (size_t)n * 4;
    unsigned char *b = malloc(len + 1);
    if (!b) return CNN_ERR_NOMEM;
    size_t got = fread(b, 1, len + 1, f);
    int st = got < len ? CNN_ERR_TRUNCATED : got > len ? CNN_ERR_TRAILING
             : fnv1a(FNV_START, b, len) != sum ? CNN_ERR_CHECKSUM : CNN_OK;
    const unsigned char *p = b;
    for (size_t part = 0, k; st == CNN_OK && part < 3; part++) {
        float *dst = (float *)body_part(m, part, &k);
        for (size_t i = 0; i < k; i++, p += 4) {
            uint32_t u = get_u32(p);
            memcpy(&dst[i], &u, 4);
            if (!isfinite(dst[i])) st = CNN_ERR_NONFINITE;
        }
    }
    free(b);
    return st;
}

cnn *cnn_load(const char *path, int *status)
{
    struct stat sb;
    int st = CNN_OK;
    cnn *m = NULL;
    FILE *f = NULL;
    if (stat(path, &sb) != 0) st = CNN_ERR_OPEN;            /* before opening: a FIFO would block */
    else if (!S_ISREG(sb.st_mode)) st = CNN_ERR_NOTFILE;
    else if (!(f = fopen(path, "rb"))) st = CNN_ERR_OPEN;
    cnn_cfg c;
    uint64_t n = 0, sum = 0;
    if (st == CNN_OK) st = read_header(f, &c, &n, &sum);
    if (st == CNN_OK && (uint64_t)sb.st_size < HDR_LEN + n * 4) st = CNN_ERR_TRUNCATED;   /* before allocating */
    if (st == CNN_OK && !(m = cnn_alloc(&c))) st = CNN_ERR_NOMEM;
    if (st == CNN_OK) st = read_body(f, m, n, sum);
    if (f) fclose(f);
    if (st != CNN_OK) { cnn_free(m); m = NULL; }
    if (status) *status = st;
    return m;
}
