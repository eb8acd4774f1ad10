/* mlp.c — the fast-path MLP (contracts in mlp.h). Layer l maps
 * h[l−1] (B, n_l) to h[l] (B, m_l); h[−1] is the input x. The code is the
 * derivation of lesson 03 with matrices: forward is one fused product per
 * layer, backward is the δ recursion, each product a kernel of kernels.h.
 *
 * Not here: optimisers other than plain SGD, loops, metrics (train.c).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "infile.h"
#include "mlp.h"

#include "fail.h"

static float *falloc(size_t n) { return kernels_zalloc(n * sizeof(float)); }

/* The bias of layer l as the kernels see it: b[l], or the trick row of W[0]. */
static float *bias_of(const mlp *m, int l, int grad)
{
    if (m->cfg.bias_trick)
        return l == 0 ? (grad ? m->dW[0] : m->W[0]) + (size_t)m->cfg.sizes[0] * m->cfg.sizes[1] : NULL;
    return grad ? m->db[l] : m->b[l];
}

size_t mlp_layer_params(const mlp *m, int l)
{
    size_t out = (size_t)m->cfg.sizes[l + 1];
    return (size_t)m->rows[l] * out + (m->cfg.bias_trick ? 0 : out);
}

size_t mlp_num_params(const mlp *m) { return m->n_params; }

static void init_params(mlp *m, mlp_init init, uint64_t seed);

mlp *mlp_new(const mlp_config *cfg)
{
    if (cfg->n_layers < 1 || cfg->n_layers > MLP_MAX_LAYERS)
        FAIL("mlp_new: %d layers (want 1 … %d)", cfg->n_layers, MLP_MAX_LAYERS);
    for (int l = 0; l <= cfg->n_layers; l++)
        if (cfg->sizes[l] < 1) FAIL("mlp_new: sizes[%d] = %d (want ≥ 1)", l, cfg->sizes[l]);
    if (cfg->sizes[cfg->n_layers] > 256) FAIL("mlp_new: %d classes (at most 256)", cfg->sizes[cfg->n_layers]);
    if ((int)cfg->act < 0 || cfg->act >= ACT_COUNT) FAIL("mlp_new: unknown activation %d", (int)cfg->act);
    if ((int)cfg->init.kind < 0 || cfg->init.kind >= INIT_COUNT) FAIL("mlp_new: unknown init %d", (int)cfg->init.kind);

    mlp *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->cfg = *cfg;
    m->L = cfg->n_layers;
    m->keep = 1.0;
    size_t n = 0;
    for (int l = 0; l < m->L; l++) {
        m->rows[l] = cfg->sizes[l] + (l == 0 && cfg->bias_trick);
        n += mlp_layer_params(m, l);
    }
    m->n_params = n;
    m->params = falloc(n);
    m->grads = falloc(n);
    size_t nc = 0;
    for (int l = 0; l < m->L; l++) nc += (size_t)cfg->sizes[l];
    m->cols[0] = malloc(nc * sizeof(int));
    if (!m->params || !m->grads || !m->cols[0]) { mlp_free(m); return NULL; }
    for (int l = 1; l < m->L; l++) m->cols[l] = m->cols[l - 1] + cfg->sizes[l - 1];
    size_t off = 0;
    for (int l = 0; l < m->L; l++) {
        size_t out = (size_t)cfg->sizes[l + 1], w = (size_t)m->rows[l] * out;
        m->W[l] = m->params + off; m->dW[l] = m->grads + off; off += w;
        if (!cfg->bias_trick) { m->b[l] = m->params + off; m->db[l] = m->grads + off; off += out; }
    }
    ASSERT(off == n, "parameter layout: %zu of %zu placed", off, n);
    init_params(m, cfg->init, cfg->seed);
    return m;
}

void mlp_free(mlp *m)
{
    if (!m) return;
    free(m->params);
    free(m->grads);
    free(m->buf);
    free(m->cols[0]);
    free(m);
}

/* Draws every parameter with `init` from `seed` (the order in mlp.h). */
static void init_params(mlp *m, mlp_init init, uint64_t seed)
{
    rng r;
    rng_seed(&r, seed);
    m->cfg.init = init;
    m->cfg.seed = seed;
    for (int l = 0; l < m->L; l++) {
        int fi = m->cfg.sizes[l], fo = m->cfg.sizes[l + 1];
        size_t nw = (size_t)fi * fo;       /* real weights; the trick row is a bias */
        double s = 0.0;
        switch (init.kind) {
        case INIT_LECUN_NORMAL:   s = 1.0 / sqrt(fi); break;
        case INIT_GLOROT_UNIFORM: s = sqrt(6.0 / (fi + fo)); break;
        case INIT_GLOROT_NORMAL:  s = sqrt(2.0 / (fi + fo)); break;
        case INIT_HE:             s = sqrt(2.0 / fi); break;
        case INIT_TORCH:          s = 1.0 / sqrt(fi); break;
        default: break;
        }
        float *w = m->W[l];
        for (size_t i = 0; i < nw; i++) {
            double v = 0.0;
            switch (init.kind) {
            case INIT_ZEROS: v = 0.0; break;
            case INIT_UNIFORM: v = rng_range(&r, init.a, init.b); break;
            case INIT_NORMAL: v = init.a * rng_normal(&r); break;
            case INIT_LECUN_NORMAL: case INIT_GLOROT_NORMAL: case INIT_HE:
                v = s * rng_normal(&r); break;
            case INIT_GLOROT_UNIFORM: case INIT_TORCH: v = rng_range(&r, -s, s); break;
            default: break;
            }
            w[i] = (float)v;
        }
        float *b = bias_of(m, l, 0);
        if (b)
            for (int j = 0; j < fo; j++)
                b[j] = init.kind == INIT_TORCH ? (float)rng_range(&r, -s, s) : 0.0f;
    }
}

void mlp_set_dropout(mlp *m, double keep, uint64_t seed)
{
    if (!(keep > 0.0 && keep <= 1.0)) FAIL("mlp_set_dropout: keep probability %g not in (0, 1]", keep);
    m->keep = keep;
    rng_seed(&m->drop_rng, seed);
}

/* Sizes the activation buffers for B rows; 0, or −1 when out of memory. */
static int reserve(mlp *m, int B)
{
    if (B <= m->B_cap) return 0;
    size_t widest = 0, total = 0;
    for (int l = 0; l < m->L; l++) {
        size_t o = (size_t)B * m->cfg.sizes[l + 1];
        if (o > widest) widest = o;
        total += o;                                       /* y */
        if (l < m->L - 1) {
            total += 2 * o;                               /* mask, hdrop */
            if (act_needs_input(m->cfg.act)) total += o;  /* z */
        }
        total += 4 * 16;                                  /* keep each buffer 64-byte aligned */
    }
    total += 2 * (widest + 16);
    float *buf = falloc(total);
    if (!buf) return -1;
    free(m->buf);
    m->buf = buf;
    m->B_cap = B;
    float *p = buf;
#define TAKE(n) (p += ((n) + 15) / 16 * 16, p - ((n) + 15) / 16 * 16)
    for (int l = 0; l < m->L; l++) {
        size_t o = (size_t)B * m->cfg.sizes[l + 1];
        m->y[l] = TAKE(o);
        m->mask[l] = l < m->L - 1 ? TAKE(o) : NULL;
        m->hdrop[l] = l < m->L - 1 ? TAKE(o) : NULL;
        m->z[l] = l < m->L - 1 && act_needs_input(m->cfg.act) ? TAKE(o) : NULL;
        m->h[l] = m->y[l];
    }
    m->delta[0] = TAKE(widest);
    m->delta[1] = TAKE(widest);
#undef TAKE
    return 0;
}

double mlp_forward(mlp *m, const float *x, const uint8_t *labels, int B, int train)
{
    ASSERT(B >= 1 && x, "mlp_forward: batch %d, x %p", B, (const void *)x);
    if (reserve(m, B) != 0) FAIL("mlp_forward: out of memory for a batch of %d", B);
    int drop = train && m->keep < 1.0;
    m->B = B;
    m->x = x;
    m->labels = labels;
    m->dropped = drop;
    const float *in = x;
    for (int l = 0; l < m->L; l++) {
        int n = m->cfg.sizes[l], o = m->cfg.sizes[l + 1];
        int top = l == m->L - 1;
        // z = h[l−1]·W[l] + b[l]  (B, o);  y = f(z)
        // (the products skip the inputs that are zero in every row: found
        // once here, for the weight gradient too)
        m->ncols[l] = matmul_nonzero_cols(m->cols[l], in, B, n);
        matmul_forward_cols(m->y[l], m->z[l], in, m->W[l], bias_of(m, l, 0), B, n, o,
                            top ? ACT_IDENTITY : m->cfg.act, m->cols[l], m->ncols[l]);
        m->h[l] = m->y[l];
        if (drop && !top) {
            // inverted dropout: h = y ⊙ mask, mask ∈ {0, 1/p} drawn in order; y kept for f′
            size_t cnt = (size_t)B * o;
            float *mk = m->mask[l], *h = m->hdrop[l], inv = (float)(1.0 / m->keep);
            rng_keep_f32(&m->drop_rng, mk, cnt, m->keep, inv);
            for (size_t i = 0; i < cnt; i++) h[i] = m->y[l][i] * mk[i];
            m->h[l] = h;
        }
        in = m->h[l];
    }
    int K = m->cfg.sizes[m->L];
    float *logits = m->y[m->L - 1];
    // y = softmax(o);  δ_L = (y − t)/B  (B, K), kept in delta[0] for backward
    double total = softmax_ce_forward(logits, labels ? m->delta[0] : NULL, logits, labels,
                                      B, K, 1.0f / (float)B, &m->correct);
    m->loss = labels ? total / B : 0.0;
    if (!labels) m->correct = 0;
    return m->loss;
}

/* The δ recursion shared by mlp_backward (sgd = 0, fs NULL),
 * mlp_backward_sgd (sgd = 1) and mlp_backward_first (fs). */
static void backward(mlp *m, int sgd, float lr, const first_step *fs)
{
    if (!m->labels) FAIL("mlp_backward: the last forward had no labels");
    int B = m->B;
    float *d = m->delta[0], *dprev = m->delta[1];
    for (int l = m->L - 1; l >= 0; l--) {
        int n = m->cfg.sizes[l], o = m->cfg.sizes[l + 1];
        const float *in = l == 0 ? m->x : m->h[l - 1];
        if (l > 0) {
            // dh[l−1] = δ_l · W[l]^T  (B, n), with the weights before this step's update;
            // through dropout: dL/dy = dL/dh ⊙ mask;  δ_{l−1} = dL/dy ⊙ f′(z)
            // (one call: each strip of rows finished while in cache)
            matmul_backward_input_act(dprev, d, m->W[l], B, n, o, m->dropped ? m->mask[l - 1] : NULL,
                                      m->z[l - 1], m->y[l - 1], m->cfg.act);
        }
        // dW[l] += h[l−1]^T · δ_l  (n, o);  db[l] += Σ_b δ_l
        if (fs) {
            // or the step of each weight from its sum, as it is formed; the
            // bias's from db = 0 + Σ_b δ_l (no L2 on a bias; the trick row
            // is part of W[0] and has it, as in optim_step)
            first_step ws = *fs;
            if (ws.v) ws.v += m->W[l] - m->params;
            matmul_backward_weight_first(m->W[l], in, d, B, n, o, &ws, m->cols[l], m->ncols[l]);
            float *b = bias_of(m, l, 0), *db = bias_of(m, l, 1);
            if (b) {
                memset(db, 0, (size_t)o * sizeof *db);
                matmul_backward_weight(NULL, db, in, d, B, 0, o);
                first_step bs = *fs;
                if (bs.v) bs.v += b - m->params;
                if (!m->cfg.bias_trick) bs.lam = 0.0f;
                first_step_apply(b, db, (size_t)o, &bs);
            }
        } else if (sgd) matmul_backward_weight_sgd_cols(m->W[l], bias_of(m, l, 0), in, d, B, n, o, lr,
                                                        m->cols[l], m->ncols[l]);
        else matmul_backward_weight_cols(m->dW[l], bias_of(m, l, 1), in, d, B, n, o,
                                         m->cols[l], m->ncols[l]);
        float *t = d; d = dprev; dprev = t;
    }
}

/* 256 K gradients or more are cut between the threads, a contiguous part
 * each (a core writes about 20 GB/s: 1 MB takes 50 µs). */
void mlp_zero_grad(mlp *m)
{
    size_t n = m->n_params;
#pragma omp parallel num_threads(n >= (256u << 10) ? kernels_threads((long)(n >> 17)) : 1)
    {
        int t = kernels_thread_num(), nt = kernels_thread_count();
        size_t c = (n + 15) / 16, lo = c * t / nt * 16, hi = c * (t + 1) / nt * 16;
        if (hi > n) hi = n;
        if (lo < hi) memset(m->grads + lo, 0, (hi - lo) * sizeof *m->grads);
    }
}
void mlp_backward(mlp *m) { backward(m, 0, 0.0f, NULL); }
void mlp_backward_sgd(mlp *m, float lr) { backward(m, 1, lr, NULL); }
void mlp_backward_first(mlp *m, const first_step *s) { backward(m, 0, 0.0f, s); }

void mlp_update(mlp *m, float lr)
{
    float *restrict p = m->params;
    const float *restrict g = m->grads;
    for (size_t i = 0; i < m->n_params; i++) p[i] -= lr * g[i];
}

/* ------------------------------------------------------------ summary */

static void commas(char *buf, size_t n, size_t v)
{
    char tmp[32];
    int len = snprintf(tmp, sizeof tmp, "%zu", v), j = 0;
    for (int i = 0; i < len && (size_t)j + 2 < n; i++) {
        buf[j++] = tmp[i];
        if ((len - i - 1) % 3 == 0 && i != len - 1) buf[j++] = ',';
    }
    buf[j] = '\0';
}

void mlp_summary(const mlp *m, FILE *f)
{
    const char *rule = "_________________________________________________________________";
    const char *dbl = "=================================================================";
    fprintf(f, "Model: \"mlp\"\n%s\n %-27s %-25s %-10s\n%s\n", rule, "Layer (type)", "Output Shape", "Param #", dbl);
    for (int l = 0; l < m->L; l++) {
        char name[48], shape[32];
        if (l == 0) snprintf(name, sizeof name, "dense (Dense)");
        else snprintf(name, sizeof name, "dense_%d (Dense)", l);
        snprintf(shape, sizeof shape, "(None, %d)", m->cfg.sizes[l + 1]);
        fprintf(f, " %-27s %-25s %-10zu\n", name, shape, mlp_layer_params(m, l));
        if (l + 1 < m->L) fprintf(f, "\n");
    }
    char tot[32];
    commas(tot, sizeof tot, m->n_params);
    fprintf(f, "%s\nTotal params: %s\nTrainable params: %s\nNon-trainable params: 0\n%s\n", dbl, tot, tot, rule);
}

/* ------------------------------------------------------------ save / load */

#define MAGIC "CHRMLP2\n"   /* 2: the hidden activation follows the checksum */

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 1099511628211ull; }
    return h;
}

static void put_u32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void put_u64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static uint32_t get_u32(const unsigned char *p) { uint32_t v = 0; for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i); return v; }
static uint64_t get_u64(const unsigned char *p) { uint64_t v = 0; for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i); return v; }

/* The parameters as little-endian bytes (4 per float). */
static unsigned char *param_bytes(const float *p, size_t n)
{
    unsigned char *b = malloc(n * 4 + 1);
    if (!b) return NULL;
    for (size_t i = 0; i < n; i++) { uint32_t u; memcpy(&u, &p[i], 4); put_u32(b + 4 * i, u); }
    return b;
}

static void describe(char *buf, size_t n, int L, const uint32_t *sizes, int trick)
{
    int j = 0;
    for (int l = 0; l <= L && (size_t)j < n; l++)
        j += snprintf(buf + j, n - (size_t)j, "%s%u", l ? "-" : "", sizes[l]);
    if ((size_t)j < n) snprintf(buf + j, n - (size_t)j, "%s", trick ? " (bias trick)" : "");
}

/* The first non-finite parameter's index, or n when all are finite. */
static size_t first_nonfinite(const float *p, size_t n)
{
    size_t i = 0;
    while (i < n && isfinite(p[i])) i++;
    return i;
}

int mlp_save(const mlp *m, const char *path, char *err, size_t errlen)
{
    size_t bad = first_nonfinite(m->params, m->n_params);
    if (bad < m->n_params) {
        snprintf(err, errlen, "%s: not saved: parameter %zu is %g (training diverged?)", path, bad,
                 (double)m->params[bad]);
        return -1;
    }
    size_t hlen = 8 + 4 + 4 + 4 * (size_t)(m->L + 1) + 8 + 8 + 4;
    unsigned char *h = calloc(1, hlen), *body = param_bytes(m->params, m->n_params);
    char tmp[4096];
    if (!h || !body) { free(h); free(body); snprintf(err, errlen, "%s: out of memory", path); return -1; }
    memcpy(h, MAGIC, 8);
    put_u32(h + 8, (uint32_t)m->L);
    put_u32(h + 12, (uint32_t)m->cfg.bias_trick);
    for (int l = 0; l <= m->L; l++) put_u32(h + 16 + 4 * l, (uint32_t)m->cfg.sizes[l]);
    put_u64(h + 16 + 4 * (m->L + 1), (uint64_t)m->n_params);
    put_u64(h + 24 + 4 * (m->L + 1), fnv1a(body, m->n_params * 4));
    put_u32(h + 32 + 4 * (m->L + 1), (uint32_t)m->cfg.act);
    /* A temporary name of this process's own: two saves at once never
     * write into the same file, and the rename puts one whole model in place. */
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid()) >= sizeof tmp) {
        free(h); free(body); snprintf(err, errlen, "%s: path too long", path); return -1;
    }
    errno = 0;
    FILE *f = fopen(tmp, "wb");
    int ok = f != NULL, e = errno;
    if (ok) {
        ok = fwrite(h, 1, hlen, f) == hlen && fwrite(body, 1, m->n_params * 4, f) == m->n_params * 4;
        if (!ok) e = errno;
        if (fclose(f) != 0 && ok) { ok = 0; e = errno; }
    }
    free(h); free(body);
    if (!ok) {
        snprintf(err, errlen, "%s: cannot write (%s)", tmp, strerror(e ? e : EIO));
        remove(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: cannot rename %s into place (%s)", path, tmp, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

/* Reads exactly n bytes at the stream's position; 0, or −1 with the reason
 * in err (a read error, or a file that shrank while being read). */
static int read_all(FILE *f, unsigned char *dst, size_t n, const char *path, char *err, size_t errlen)
{
    if (fread(dst, 1, n, f) == n) return 0;
    if (ferror(f)) snprintf(err, errlen, "%s: read error (%s)", path, strerror(errno ? errno : EIO));
    else snprintf(err, errlen, "%s: file shrank while being read", path);
    return -1;
}

/* Opens path, a regular file (never waits on a FIFO, never reads a
 * device), and returns its size; NULL with the reason in err. */
static FILE *open_model(const char *path, uint64_t *size, char *err, size_t errlen)
{
    FILE *f;
    int e;
    switch (infile_open(path, &f, size, &e)) {
    case INFILE_OK: return f;
    case INFILE_DIRECTORY: snprintf(err, errlen, "%s: is a directory, not a model file", path); break;
    case INFILE_NOT_REGULAR:
        snprintf(err, errlen, "%s: not a regular file (a FIFO, socket or device)", path);
        break;
    default: snprintf(err, errlen, "%s: cannot open (%s)", path, strerror(e)); break;
    }
    return NULL;
}

/* The file is read in the order it can be refused: the magic and the layer
 * count, the rest of the header, its shapes against m's, its size against
 * the header; only then the body, whose size is now m's parameter count. */
int mlp_load(mlp *m, const char *path, char *err, size_t errlen)
{
    uint64_t size;
    FILE *f = open_model(path, &size, err, errlen);
    if (!f) return -1;
    unsigned char head[16 + 4 * (MLP_MAX_LAYERS + 1) + 16 + 4], *data = NULL;
    float *p = NULL;
    int rc = -1;
    if (size >= 16 && read_all(f, head, 16, path, err, errlen) != 0) goto out;
    if (size < 16 || memcmp(head, MAGIC, 8) != 0) {
        snprintf(err, errlen, "%s: not a chainrule model file (bad magic)", path);
        goto out;
    }
    uint32_t L = get_u32(head + 8), trick = get_u32(head + 12);
    if (L < 1 || L > MLP_MAX_LAYERS || trick > 1) {
        snprintf(err, errlen, "%s: corrupt header (%u layers, bias trick %u)", path, L, trick); goto out;
    }
    size_t hlen = 8 + 4 + 4 + 4 * (size_t)(L + 1) + 8 + 8 + 4;
    if (size < hlen) { snprintf(err, errlen, "%s: truncated header (%llu bytes)", path, (unsigned long long)size); goto out; }
    if (read_all(f, head + 16, hlen - 16, path, err, errlen) != 0) goto out;
    uint32_t sizes[MLP_MAX_LAYERS + 1];
    for (uint32_t l = 0; l <= L; l++) sizes[l] = get_u32(head + 16 + 4 * l);
    uint64_t n = get_u64(head + 16 + 4 * (L + 1)), sum = get_u64(head + 24 + 4 * (L + 1));
    uint32_t act = get_u32(head + 32 + 4 * (L + 1));
    int same = (int)L == m->L && (int)trick == m->cfg.bias_trick && n == m->n_params &&
               act == (uint32_t)m->cfg.act;
    for (uint32_t l = 0; same && l <= L; l++) same = (int)sizes[l] == m->cfg.sizes[l];
    if (!same) {
        char have[512], want[512];
        uint32_t ms[MLP_MAX_LAYERS + 1];
        for (int l = 0; l <= m->L; l++) ms[l] = (uint32_t)m->cfg.sizes[l];
        describe(have, sizeof have, (int)L, sizes, (int)trick);
        describe(want, sizeof want, m->L, ms, m->cfg.bias_trick);
        snprintf(err, errlen, "%s: model is %s, this network is %s", path, have, want);
        goto out;
    }
    /* n is m's own parameter count now, so the body is bounded by it */
    if (size - hlen != n * 4) {
        snprintf(err, errlen, "%s: %s (%llu parameter bytes, want %llu)", path,
                 size - hlen < n * 4 ? "truncated" : "trailing bytes", (unsigned long long)(size - hlen),
                 (unsigned long long)(n * 4));
        goto out;
    }
    data = malloc(n * 4 + 1);
    p = malloc(n * sizeof *p + 1);
    if (!data || !p) { snprintf(err, errlen, "%s: out of memory", path); goto out; }
    if (read_all(f, data, n * 4, path, err, errlen) != 0) goto out;
    if (fgetc(f) != EOF) { snprintf(err, errlen, "%s: file grew while being read", path); goto out; }
    if (fnv1a(data, n * 4) != sum) { snprintf(err, errlen, "%s: checksum mismatch (corrupt file)", path); goto out; }
    for (size_t i = 0; i < n; i++) {
        uint32_t u = get_u32(data + 4 * i);
        memcpy(&p[i], &u, 4);
    }
    size_t bad = first_nonfinite(p, n);
    if (bad < n) {
        snprintf(err, errlen, "%s: parameter %zu is %g, not a finite number", path, bad, (double)p[bad]);
        goto out;
    }
    memcpy(m->params, p, n * sizeof *p);
    rc = 0;
out:
    fclose(f);
    free(data);
    free(p);
    return rc;
}

int mlp_read_config(const char *path, mlp_config *cfg, char *err, size_t errlen)
{
    unsigned char h[8 + 4 + 4 + 4 * (MLP_MAX_LAYERS + 1) + 8 + 8 + 4];
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(err, errlen, "%s: cannot open (%s)", path, strerror(errno)); return -1; }
    size_t len = fread(h, 1, sizeof h, f);
    fclose(f);
    if (len < 16 || memcmp(h, MAGIC, 8) != 0) {
        snprintf(err, errlen, "%s: not a chainrule MLP model file (bad magic)", path); return -1;
    }
    uint32_t L = get_u32(h + 8), trick = get_u32(h + 12);
    if (L < 1 || L > MLP_MAX_LAYERS || trick > 1) {
        snprintf(err, errlen, "%s: corrupt header (%u layers, bias trick %u)", path, L, trick); return -1;
    }
    if (len < 36 + 4 * (size_t)(L + 1)) { snprintf(err, errlen, "%s: truncated header (%zu bytes)", path, len); return -1; }
    memset(cfg, 0, sizeof *cfg);
    cfg->n_layers = (int)L;
    cfg->bias_trick = (int)trick;
    for (uint32_t l = 0; l <= L; l++) {
        uint32_t v = get_u32(h + 16 + 4 * l);
        if (v < 1 || v > (l == L ? 256u : 1u << 24)) {
            snprintf(err, errlen, "%s: corrupt header (layer size %u)", path, v); return -1;
        }
        cfg->sizes[l] = (int)v;
    }
    uint32_t act = get_u32(h + 32 + 4 * (L + 1));
    if (act >= ACT_COUNT) { snprintf(err, errlen, "%s: corrupt header (activation %u)", path, act); return -1; }
    cfg->act = (act_kind)act;
    cfg->init = (mlp_init){INIT_ZEROS, 0, 0};
    return 0;
}
