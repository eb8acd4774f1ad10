/* data.c — data sets in memory: loading by name, splits, scaling,
 * normalisation. */
#include <limits.h>
#ifndef PATH_MAX
#define PATH_MAX 4096
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "data.h"
#include "rng.h"

#include "fail.h"

static const char *const digit_names[10] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
static const char *const fashion_names[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
};

const char *const *data_class_names(const char *name)
{
    if (name && strcmp(name, "mnist") == 0) return digit_names;
    if (name && strcmp(name, "fashion-mnist") == 0) return fashion_names;
    return NULL;
}

int dataset_alloc(dataset *out, int n, int d, int classes)
{
    memset(out, 0, sizeof *out);
    ASSERT(n >= 0 && d >= 1 && classes >= 1 && classes <= 256, "dataset_alloc: bad sizes");
    size_t nx = (size_t)n * (size_t)d;
    out->x = calloc(nx ? nx : 1, sizeof *out->x);
    out->labels = calloc(n ? (size_t)n : 1, 1);
    if (!out->x || !out->labels) { dataset_free(out); return -1; }
    out->n = n;
    out->d = d;
    out->classes = classes;
    return 0;
}

void dataset_free(dataset *ds)
{
    if (!ds) return;
    free(ds->x);
    free(ds->labels);
    memset(ds, 0, sizeof *ds);
}

static idx_status bad_name(char *err, const char *what, const char *problem)
{
    if (err) snprintf(err, IDX_ERR_LEN, "%s: %s", what ? what : "(null)", problem);
    return IDX_BAD_NAME;
}

/* Checks the loaded images (n of rows × cols, from ipath) against want. */
static idx_status check_expect(const data_expect *want, const char *ipath, int n, int rows,
                               int cols, char *err)
{
    if (!want) return IDX_OK;
    if ((want->rows && rows != want->rows) || (want->cols && cols != want->cols)) {
        if (err) snprintf(err, IDX_ERR_LEN, "%s: images are %d x %d pixels; this program reads %d x %d",
                          ipath, rows, cols, want->rows ? want->rows : rows, want->cols ? want->cols : cols);
        return IDX_BAD_SHAPE;
    }
    if (n < want->min_n) {
        if (err) snprintf(err, IDX_ERR_LEN, "%s: %d image%s; this program reads at least %d",
                          ipath, n, n == 1 ? "" : "s", want->min_n);
        return IDX_TOO_FEW;
    }
    return IDX_OK;
}

idx_status data_load_expect(const char *root, const char *name, const char *split,
                            const data_expect *want, dataset *out, char *err)
{
    memset(out, 0, sizeof *out);
    if (!data_class_names(name)) return bad_name(err, name, "unknown data set (mnist or fashion-mnist)");
    const char *prefix = split && strcmp(split, "train") == 0 ? "train"
                       : split && strcmp(split, "test") == 0 ? "t10k" : NULL;
    if (!prefix) return bad_name(err, split, "unknown split (train or test)");
    /* Each path fits PATH_MAX, and two of them and some words one message
     * of IDX_ERR_LEN; a root too long for that is named by its start only,
     * so the reason is never cut off. */
    char ipath[PATH_MAX], lpath[PATH_MAX];
    int a = snprintf(ipath, sizeof ipath, "%s/%s/%s-images-idx3-ubyte", root, name, prefix);
    int b = snprintf(lpath, sizeof lpath, "%s/%s/%s-labels-idx1-ubyte", root, name, prefix);
    if (a < 0 || b < 0 || (size_t)a >= sizeof ipath || (size_t)b >= sizeof lpath) {
        if (err) snprintf(err, IDX_ERR_LEN, "%.60s…: data root too long (%zu characters; a file's path holds at most %d)",
                          root, strlen(root), PATH_MAX - 1);
        return IDX_BAD_NAME;
    }

    float *x;
    uint8_t *labels;
    int n, rows, cols, nl;
    idx_status s = idx_load_images(ipath, &x, &n, &rows, &cols, err);
    if (s) return s;
    s = check_expect(want, ipath, n, rows, cols, err);
    if (s) { free(x); return s; }
    s = idx_load_labels(lpath, 10, &labels, &nl, err);
    if (s) { free(x); return s; }
    if (nl != n) {
        free(x);
        free(labels);
        if (err) snprintf(err, IDX_ERR_LEN, "%s: %d labels for the %d images of %s",
                          lpath, nl, n, ipath);
        return IDX_COUNT_MISMATCH;
    }
    out->x = x;
    out->labels = labels;
    out->n = n;
    out->d = rows * cols;
    out->classes = 10;
    return IDX_OK;
}

idx_status data_load(const char *root, const char *name, const char *split,
                     dataset *out, char *err)
{
    return data_load_expect(root, name, split, NULL, out, err);
}

/* ---- splits --------------------------------------------------------------- */

int data_subset(const dataset *src, const uint32_t *idx, int n, dataset *out)
{
    if (dataset_alloc(out, n, src->d, src->classes)) return -1;
    size_t d = (size_t)src->d;
    for (int i = 0; i < n; i++) {
        ASSERT(idx[i] < (uint32_t)src->n, "data_subset: row index out of range");
        memcpy(out->x + i * d, src->x + idx[i] * d, d * sizeof *out->x);
        out->labels[i] = src->labels[idx[i]];
    }
    return 0;
}

/* first ← order[0..n_first), rest ← order[n_first..N). */
static int split_by(const dataset *src, const uint32_t *order, int n_first,
                    dataset *first, dataset *rest)
{
    if (rest) memset(rest, 0, sizeof *rest);
    if (data_subset(src, order, n_first, first)) return -1;
    if (rest && data_subset(src, order + n_first, src->n - n_first, rest)) {
        dataset_free(first);
        return -1;
    }
    return 0;
}

static uint32_t *identity(int n)
{
    uint32_t *order = malloc((n ? (size_t)n : 1) * sizeof *order);
    if (order)
        for (int i = 0; i < n; i++) order[i] = (uint32_t)i;
    return order;
}

int data_split_first(const dataset *src, int n_first, dataset *first, dataset *rest)
{
    ASSERT(n_first >= 0 && n_first <= src->n, "data_split_first: n_first outside 0..N");
    uint32_t *order = identity(src->n);
    if (!order) {
        memset(first, 0, sizeof *first);
        if (rest) memset(rest, 0, sizeof *rest);
        return -1;
    }
    int r = split_by(src, order, n_first, first, rest);
    free(order);
    return r;
}

int data_split_random(const dataset *src, int n_first, uint64_t seed,
                      dataset *first, dataset *rest)
{
    ASSERT(n_first >= 0 && n_first <= src->n, "data_split_random: n_first outside 0..N");
    uint32_t *order = identity(src->n);
    if (!order) {
        memset(first, 0, sizeof *first);
        if (rest) memset(rest, 0, sizeof *rest);
        return -1;
    }
    rng r;
    rng_seed(&r, seed);
    rng_shuffle(&r, order, (size_t)src->n);
    int res = split_by(src, order, n_first, first, rest);
    free(order);
    return res;
}

/* ---- features ------------------------------------------------------------- */

void data_scale(dataset *ds, float divisor)
{
    size_t n = (size_t)ds->n * (size_t)ds->d;
    for (size_t i = 0; i < n; i++) ds->x[i] /= divisor;
}

void data_mean_std(const dataset *ds, double *mean, double *std)
{
    size_t n = (size_t)ds->n * (size_t)ds->d;
    if (n == 0) { *mean = 0; *std = 0; return; }
    /* Two passes: the mean, then the squared deviations from it — no
     * cancellation from E[x²] − E[x]². */
    double s = 0;
    for (size_t i = 0; i < n; i++) s += ds->x[i];
    double m = s / (double)n, v = 0;
    for (size_t i = 0; i < n; i++) {
        double e = ds->x[i] - m;
        v += e * e;
    }
    *mean = m;
    *std = sqrt(v / (double)n);
}

int data_normalize(dataset *ds, double mean, double std)
{
    if (!(std > 0) || !isfinite(std) || !isfinite(mean)) return -1;
    size_t n = (size_t)ds->n * (size_t)ds->d;
    for (size_t i = 0; i < n; i++) ds->x[i] = (float)((ds->x[i] - mean) / std);
    return 0;
}

/* ---- batches -------------------------------------------------------------- */

int data_order_init(data_order *o, int n, int batch, int shuffle, int drop_last, uint64_t seed)
{
    ASSERT(n >= 0 && batch >= 1, "data_order_init: %d rows in batches of %d", n, batch);
    memset(o, 0, sizeof *o);
    o->order = malloc((n ? (size_t)n : 1) * sizeof *o->order);
    if (!o->order) return -1;
    for (int i = 0; i < n; i++) o->order[i] = (uint32_t)i;
    o->n = n;
    o->batch = batch;
    o->shuffle = shuffle;
    o->drop_last = drop_last;
    rng_seed(&o->r, seed);
    return 0;
}

void data_order_epoch(data_order *o)
{
    /* each epoch shuffles the previous epoch's order further, on one stream */
    if (o->shuffle) rng_shuffle(&o->r, o->order, (size_t)o->n);
}

long data_order_steps(const data_order *o)
{
    long n = o->n, b = o->batch;
    return o->drop_last ? n / b : (n + b - 1) / b;
}

int data_order_gather(const data_order *o, long s, const float *x, const uint8_t *y, int d,
                      float *bx, uint8_t *by)
{
    long i0 = s * o->batch;
    int nb = o->n - i0 < o->batch ? (int)(o->n - i0) : o->batch;
    ASSERT(s >= 0 && nb > 0, "data_order_gather: step %ld of %ld", s, data_order_steps(o));
    for (int q = 0; q < nb; q++) {
        uint32_t r = o->order[i0 + q];
        memcpy(bx + (size_t)q * d, x + (size_t)r * d, (size_t)d * sizeof *bx);
        by[q] = y[r];
    }
    return nb;
}

void data_order_free(data_order *o)
{
    if (!o) return;
    free(o->order);
    o->order = NULL;
}
