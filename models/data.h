/* data.h — data sets in memory: loading MNIST and Fashion-MNIST from a data
 * root, splits, scaling and normalisation.
 *
 * A dataset is N examples of D float32 features, row-major, and N uint8
 * labels. Every function that changes a set changes it in place; every split
 * makes new sets with their own memory. All randomness comes from the
 * engine's seeded rng (rng.h): same seed, same order, on every machine.
 *
 *   dataset all, train, val;  char err[IDX_ERR_LEN];
 *   data_expect want = DATA_EXPECT_28X28(55001);     // what the code below reads
 *   if (data_load_expect(root, "mnist", "train", &want, &all, err)) cli_fail("%s", err);
 *   data_split_first(&all, 55000, &train, &val);       // 55,000 / 5,000
 *   data_scale(&train, 255);                            // pixels in [0, 1]
 *   mlp_data tr = {train.x, train.labels, train.n, train.d};
 *   train_run(m, &tr, NULL, &cfg, &res);                // batches, shuffles (train.h)
 *
 * Not here: reading IDX bytes (idx.h), the synthetic set (synth.h), batching
 * and shuffling for training (train_run, train.h: the one batcher).
 */
#ifndef CHAINRULE_DATA_H
#define CHAINRULE_DATA_H

#include <stddef.h>
#include <stdint.h>
#include "idx.h"

typedef struct {
    float *x;          /* N × D features, row-major: example i at x + i·D; owned */
    uint8_t *labels;   /* N class numbers, each < classes; owned */
    int n, d;          /* N examples, D features each */
    int classes;       /* K, the number of classes (10 for MNIST) */
} dataset;

/* ---- loading ------------------------------------------------------------ */

/* What a program will read from a loaded set, so that the loader refuses a
 * set that cannot give it: images of rows × cols pixels (each checked, not
 * only their product: 1 × 784 or 56 × 14 are not 28 × 28) and at least
 * min_n of them. A zero field expects nothing of that kind. */
typedef struct {
    int rows, cols;    /* the image shape the program indexes, or 0 */
    int min_n;         /* the fewest images it reads (0 or 1: at least one) */
} data_expect;

/* MNIST's and Fashion-MNIST's 28 × 28 images, at least `n` of them. */
#define DATA_EXPECT_28X28(n) ((data_expect){28, 28, (n)})

/* Loads a set from root/name/: name is "mnist" or "fashion-mnist", split is
 * "train" (the 60,000 train-images-idx3-ubyte / train-labels-idx1-ubyte) or
 * "test" (the 10,000 t10k-…). Pixels stay 0…255; D = rows·cols (784), and
 * N·D fits in an int (idx.h). want (NULL: expect nothing beyond a readable set) is
 * checked here, once: images of another shape are IDX_BAD_SHAPE, fewer than
 * want->min_n IDX_TOO_FEW, each message naming the images file.
 * On failure *out is all zeros and err (IDX_ERR_LEN bytes, or NULL) holds one
 * line naming the file and the problem (idx.h); an unknown name or split is
 * IDX_BAD_NAME, a label file that does not match its images is
 * IDX_COUNT_MISMATCH. Free with dataset_free. */
idx_status data_load_expect(const char *root, const char *name, const char *split,
                            const data_expect *want, dataset *out, char *err);

/* data_load_expect with no expectation: for callers that only hand the set
 * to code that checks its shape itself (train_run). */
idx_status data_load(const char *root, const char *name, const char *split,
                     dataset *out, char *err);

/* The K class names of a data set: "0" … "9" for "mnist", "T-shirt/top" …
 * "Ankle boot" for "fashion-mnist"; NULL for an unknown name. Static
 * strings; do not free. */
const char *const *data_class_names(const char *name);

/* A new zeroed set of n × d features and n labels (all 0). Returns 0, or −1
 * when out of memory (then *out is all zeros). n may be 0. */
int dataset_alloc(dataset *out, int n, int d, int classes);

/* Frees the set's arrays and zeroes the struct, so a second free is
 * harmless. dataset_free(NULL) is a no-op. */
void dataset_free(dataset *ds);

/* ---- splits: each returns 0, or −1 when out of memory (then both outputs
 * are all zeros). Outputs are new sets; src is unchanged. --------------- */

/* out = the rows of src listed in idx[0..n), in that order. */
int data_subset(const dataset *src, const uint32_t *idx, int n, dataset *out);

/* first = rows 0 … n_first−1, rest = rows n_first … N−1 (the course's
 * "first 55,000 train, last 5,000 validate"). rest may be NULL to keep only
 * the first rows. Needs 0 ≤ n_first ≤ N. */
int data_split_first(const dataset *src, int n_first, dataset *first, dataset *rest);

/* A seeded random split: a Fisher–Yates permutation of 0 … N−1 (rng_shuffle
 * from rng_seed(seed)); first = the rows at its first n_first positions,
 * rest = the others, both in permutation order. rest may be NULL. */
int data_split_random(const dataset *src, int n_first, uint64_t seed,
                      dataset *first, dataset *rest);

/* ---- features, in place ---------------------------------------------- */

/* x ← x / divisor for every feature; data_scale(ds, 255) maps pixels to
 * [0, 1]. A real float division (not a multiply by 1/255), so the scaled
 * pixels are the same bits as numpy's x / 255 in float32. */
void data_scale(dataset *ds, float divisor);

/* One mean and one standard deviation over every feature of every example
 * (population std, ÷ N·D, as numpy's x.mean(), x.std()), summed in double
 * in a fixed order. Compute them on the training set only. */
void data_mean_std(const dataset *ds, double *mean, double *std);

/* x ← (x − mean) / std for every feature, computed in double and stored as
 * float. Apply the training set's numbers to every set. Returns 0, or −1
 * (ds unchanged) when std is not a finite number > 0 or mean is not finite —
 * a set whose pixels are all one value (blank images) is the user's data,
 * not a bug: the caller names the file and stops with status 2. */
int data_normalize(dataset *ds, double mean, double std);

#endif
