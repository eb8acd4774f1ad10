/* 00_data.c — lesson 00: meet the data. MNIST and Fashion-MNIST as the
 * reader sees them: how many images, how many per class, the pixel
 * statistics that later lessons normalise with, a few images drawn in the
 * terminal, and build/data/00_data_{mnist,fashion-mnist}.dat, a 10 × 10
 * picture of the first ten images of every class, for plots/00_data.gp.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "cli.h"
#include "draw.h"
#include "data.h"
#include "print.h"
#include "rng.h"

#define SIDE 28              /* MNIST images are 28 × 28 */
#define K 10                 /* classes */

/* `count` images side by side under their class names (draw.h). */
static void draw(const dataset *ds, const int *which, int count, const char *const *names)
{
    const float *img[8];
    const char *title[8];
    for (int k = 0; k < count && k < 8; k++) {
        img[k] = ds->x + (size_t)which[k] * ds->d;
        title[k] = names[ds->labels[which[k]]];
    }
    draw_images(stdout, img, title, count < 8 ? count : 8, SIDE);
}

/* A 280 × 280 matrix of pixels 0…255: row block i holds the first ten
 * training images of class i, left to right; a class with fewer than ten
 * images in the set leaves the rest of its row blank (0). */
static int write_grid(const dataset *ds, const char *name)
{
    char file[64];
    snprintf(file, sizeof file, "00_data_%s.dat", name);
    FILE *f = cli_data_file(file);
    int pick[K][K], have[K] = {0};
    for (int i = 0; i < ds->n; i++) {
        int c = ds->labels[i];
        if (have[c] < K) pick[c][have[c]++] = i;
    }
    fprintf(f, "# %s: the first ten training images of each class, a %d x %d pixel matrix\n",
            name, K * SIDE, K * SIDE);
    fprintf(f, "# (gnuplot: matrix with image); row block i = class i; 0 = paper, 255 = ink\n");
    for (int c = 0; c < K; c++)
        for (int r = 0; r < SIDE; r++)
            for (int k = 0; k < K; k++)
                for (int j = 0; j < SIDE; j++) {
                    int v = k < have[c] ? (int)ds->x[(size_t)pick[c][k] * ds->d + r * SIDE + j] : 0;
                    fprintf(f, "%d%c", v, k == K - 1 && j == SIDE - 1 ? '\n' : ' ');
                }
    cli_data_close(f, file);
    return 0;
}

static void first_n(dataset *ds, int n)
{
    if (ds->n <= n) return;
    dataset head;
    if (data_split_first(ds, n, &head, NULL)) cli_fail("out of memory");
    dataset_free(ds);
    *ds = head;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Loads name's two sets or stops with one line naming the file; returns
 * the seconds the training set took. */
static double load(const char *root, const char *name, dataset *train, dataset *test, int quick)
{
    char err[IDX_ERR_LEN];
    double t0 = now();
    data_expect want_train = {SIDE, SIDE, 3}, want_test = {SIDE, SIDE, 1};   /* draws #0, #1, #2 */
    if (data_load_expect(root, name, "train", &want_train, train, err)) cli_fail("%s", err);
    double secs = now() - t0;
    if (data_load_expect(root, name, "test", &want_test, test, err)) { dataset_free(train); cli_fail("%s", err); }
    if (quick) {
        first_n(train, 100);
        first_n(test, 100);
    }
    return secs;    /* the time to load the training set */
}

/* Prints one data set's numbers and pictures, writes its grid, frees it. */
static int show(dataset *train, dataset *test, const char *name, const char *title, uint64_t seed)
{
    const char *const *names = data_class_names(name);

    printf("%s\n", title);
    printf("  %-26s %d train, %d test, each %d x %d = %d pixels\n", "images", train->n, test->n, SIDE,
           SIDE, train->d);
    int ct[K] = {0}, cs[K] = {0};
    for (int i = 0; i < train->n; i++) ct[train->labels[i]]++;
    for (int i = 0; i < test->n; i++) cs[test->labels[i]]++;
    printf("  %-14s %8s %8s\n", "class", "train", "test");
    for (int c = 0; c < K; c++) {
        char label[32];
        /* digits are their own names; Fashion-MNIST's get their number too */
        if (names[c][0] == '0' + c && names[c][1] == '\0') snprintf(label, sizeof label, "%d", c);
        else snprintf(label, sizeof label, "%d %s", c, names[c]);
        printf("  %-14s %8d %8d\n", label, ct[c], cs[c]);
    }

    /* The numbers lesson 07 normalises with: one mean and one standard
     * deviation over every pixel of the training set. */
    double m, s, mt, st;
    char b[4][64];
    data_mean_std(train, &m, &s);
    data_mean_std(test, &mt, &st);
    printf("  %-26s train %s, %s   test %s, %s\n", "pixel mean, std (0..255)", print_fmt(b[0], m, 4),
           print_fmt(b[1], s, 4), print_fmt(b[2], mt, 4), print_fmt(b[3], st, 4));
    printf("  %-26s train %s, %s   test %s, %s\n", "pixel mean, std (/255)", print_fmt(b[0], m / 255, 7),
           print_fmt(b[1], s / 255, 7), print_fmt(b[2], mt / 255, 7), print_fmt(b[3], st / 255, 7));
    size_t zeros = 0, pixels = (size_t)train->n * (size_t)train->d;
    for (size_t i = 0; i < pixels; i++) zeros += train->x[i] == 0.0f;
    printf("  %-26s %s of the training pixels\n\n", "blank (0) pixels", print_fmt(b[0], (double)zeros / (double)pixels, 4));

    printf("  the first three training images (#0, #1, #2):\n");
    int first[3] = {0, 1, 2};
    draw(train, first, 3, names);
    rng r;
    rng_seed(&r, seed);
    int pick[3];
    for (int k = 0; k < 3; k++) pick[k] = (int)rng_below(&r, (uint32_t)train->n);
    printf("\n  three at random (--seed %llu: #%d, #%d, #%d):\n", (unsigned long long)seed,
           pick[0], pick[1], pick[2]);
    draw(train, pick, 3, names);
    printf("\n");

    int ok = write_grid(train, name) == 0;
    dataset_free(train);
    dataset_free(test);
    return ok;
}

int main(int argc, char **argv)
{
    int seed = 1, quick = 0;
    const char *data = NULL;
    cli_opt opts[] = {
        {"--data", CLI_STRING, &data, "DIR", "data root holding mnist/ and fashion-mnist/ (default data/, or $CHAINRULE_DATA)"},
        {"--seed", CLI_INT, &seed, "N", "seed of the three random images shown (default 1)"},
        {"--quick", CLI_FLAG, &quick, NULL, "only the first 100 images of each set (for tests)"},
        {0}};
    cli_no_positional(cli_parse(argc, argv,
        "00 meet the data: MNIST and Fashion-MNIST, counted, measured and drawn.", opts), argc, argv);
    const char *root = cli_data_root(data);
    /* Everything is loaded before anything is printed, so bad data gives
     * one line on stderr and nothing on stdout. */
    dataset mtrain, mtest, ftrain, ftest;
    double tm = load(root, "mnist", &mtrain, &mtest, quick);
    double tf = load(root, "fashion-mnist", &ftrain, &ftest, quick);
    /* the reader's speed, on stderr so stdout stays the same every run */
    fprintf(stderr, "00_data: training sets loaded: MNIST in %.3f s, Fashion-MNIST in %.3f s\n", tm, tf);

    printf("00 meet the data\n\n");
    printf("Two data sets of 28 x 28 grey images, 60,000 to train and 10,000 to test,\n"
           "ten classes each: MNIST's handwritten digits and Fashion-MNIST's clothes.\n"
           "Every later lesson reads them through the same IDX reader; here we count\n"
           "them, measure their pixels (0 = paper, 255 = ink) and look at a few.%s\n\n",
           quick ? "\n(--quick: the first 100 images of each set only.)" : "");

    int ok = show(&mtrain, &mtest, "mnist", "MNIST: handwritten digits", (uint64_t)seed);
    ok &= show(&ftrain, &ftest, "fashion-mnist", "Fashion-MNIST: Zalando's article images", (uint64_t)seed);
    if (ok)
        printf("plot data: %s/00_data_{mnist,fashion-mnist}.dat, the first ten images of every\n"
               "class; draw them with `make plots` (needs gnuplot: apt-get install gnuplot-nox)\n"
               "into build/plots/00_data.png\n", cli_data_dir());
    return 0;
}
