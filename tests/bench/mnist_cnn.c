/* mnist_cnn.c — the CNN fast-path benchmark: lesson 10's network with the
 * usual per-channel batch norm (PyTorch's BatchNorm2d, ε = 1e-3), MNIST
 * 28×28×1 → conv 3×3×32 SAME → ReLU → BN → 2×2 max-pool → 6272 → 784 ReLU →
 * 10, softmax + cross-entropy, Adam α = 1e-4, float32. One line per epoch:
 *   epoch=1 epoch_s=… gflops=… train_loss=… test_acc=… peak_rss_mb=… loss_bits=…
 * then one line per stage of the last epoch (layer=… s=… med_ms=… gflops=…
 * peak_pct=…) against the FMA peak of one core measured here (peak_gflops=);
 * med_ms is the stage's median over the epoch's steps, in milliseconds (on a
 * shared machine the sum s counts every preemption, the median few).
 * epoch_s times the training steps (shuffle, batch copy, forward, backward,
 * Adam) on the wall clock over --train images; full_epoch_s scales it to
 * 60,000 when --train is smaller (said as scaled=1). The test pass is not
 * timed. GFLOP counts the products: per image 2·784·9·32 (conv) + 2·6272·784
 * (FC1) + 2·784·10 (FC2) forward, the same again for each weight gradient,
 * and once more for the input gradients of FC2 and FC1 (none for the conv).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#endif
#include "cli.h"
#include "cnn.h"
#include "data.h"
#include "kernels.h"
#include "train.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of n values (sorted in place); 0 when n = 0. */
static double median(double *v, size_t n)
{
    if (n == 0) return 0.0;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The FMA peak of one core in GFLOP/s, measured at the width the kernels
 * use (8 lanes for AVX2, 16 for AVX-512): twelve independent FMA chains,
 * each its own named variable so that all twelve live in registers (an
 * array of twelve stayed in memory: a load and a store per FMA, about 40%
 * of the peak), 20 million rounds, the best of 5. Twelve cover 2 FMA pipes
 * × 4 cycles of latency with room to spare. */
#if defined(__GNUC__) && defined(__x86_64__)
#define PEAK_BODY(V, SET1, FMADD, ADD, FIRST, LANES)                                          \
    double best = 0.0;                                                                       \
    for (int rep = 0; rep < 5; rep++) {                                                      \
        V x = SET1(0.999999f), y = SET1(1e-7f);                                              \
        V a0 = SET1(0.0f), a1 = SET1(1.0f), a2 = SET1(2.0f), a3 = SET1(3.0f);                 \
        V a4 = SET1(4.0f), a5 = SET1(5.0f), a6 = SET1(6.0f), a7 = SET1(7.0f);                 \
        V a8 = SET1(8.0f), a9 = SET1(9.0f), a10 = SET1(10.0f), a11 = SET1(11.0f);             \
        long n = 20000000;                                                                   \
        double t0 = now();                                                                   \
        for (long k = 0; k < n; k++) {                                                       \
            a0 = FMADD(a0, x, y); a1 = FMADD(a1, x, y); a2 = FMADD(a2, x, y);                \
            a3 = FMADD(a3, x, y); a4 = FMADD(a4, x, y); a5 = FMADD(a5, x, y);                \
            a6 = FMADD(a6, x, y); a7 = FMADD(a7, x, y); a8 = FMADD(a8, x, y);                \
            a9 = FMADD(a9, x, y); a10 = FMADD(a10, x, y); a11 = FMADD(a11, x, y);            \
        }                                                                                    \
        double s = now() - t0;                                                               \
        V t = ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7)));             \
        t = ADD(t, ADD(ADD(a8, a9), ADD(a10, a11)));                                         \
        if (FIRST(t) == 12345.0f) puts("");   /* keeps the chains */                         \
        double g = (double)n * 12 * 2 * (LANES) / s / 1e9;                                   \
        if (g > best) best = g;                                                              \
    }                                                                                        \
    return best;

__attribute__((target("avx2,fma"))) static double fma_peak8(void)
{
    PEAK_BODY(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, _mm256_cvtss_f32, 8)
}
__attribute__((target("avx512f"))) static double fma_peak16(void)
{
    PEAK_BODY(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_cvtss_f32, 16)
}
#undef PEAK_BODY
static int peak_lanes;     /* the width fma_peak measured */
static double fma_peak(void)
{
    switch (kernels_isa_choice()) {
    case KERNELS_ISA_AVX512: peak_lanes = 16; return fma_peak16();
    case KERNELS_ISA_AVX2: peak_lanes = 8; return fma_peak8();
    case KERNELS_ISA_PORTABLE: break;
    }
    return NAN;
}
#else
static int peak_lanes;
static double fma_peak(void) { return NAN; }
#endif

/* The rate of Adam's step alone over as many weights as FC1 has (D × H),
 * row by row with one row of gradients in cache, the way the fused
 * backward applies it: w, v and s read and written, 24 bytes a weight. GB/s,
 * the best of 5 passes after one that faults the pages in; NaN when out of
 * memory. FC1's traffic at this rate bounds its step from below
 * (tests/bench/run.sh: the floor line). */
#define ADAM_BYTES (6 * sizeof(float))     /* w, v, s: each read and written */
static double adam_rate(size_t D, size_t H)
{
    size_t n = D * H;
    float *w = kernels_zalloc(n * sizeof *w), *v = kernels_zalloc(n * sizeof *v);
    float *s = kernels_zalloc(n * sizeof *s), *g = kernels_zalloc(H * sizeof *g);
    double best = NAN;
    if (w && v && s && g) {
        for (size_t j = 0; j < H; j++) g[j] = 1e-3f * (float)(j % 7 + 1);
        best = 0.0;
        for (int rep = 0; rep < 6; rep++) {
            double t0 = now();
            for (size_t d = 0; d < D; d++) {
                adam_step a = {v + d * H, s + d * H, 0.9f, 0.999f, 1e-4f, 1e-8f, 0.0f};
                adam_apply(w + d * H, g, H, &a);
            }
            double gbs = (double)ADAM_BYTES * (double)n / (now() - t0) / 1e9;
            if (rep > 0 && gbs > best) best = gbs;
        }
    }
    free(w); free(v); free(s); free(g);
    return best;
}

int main(int argc, char **argv)
{
    int batch = 32, threads = 1, epochs = 1, seed = 1, ntrain = 0;
    const char *data = NULL;
    cli_opt opts[] = {
        {"--threads", CLI_INT, &threads, "N", "OpenMP threads (default 1; the kernels use at most what the work can)"},
        {"--epochs", CLI_INT, &epochs, "E", "epochs (default 1)"},
        {"--batch", CLI_INT, &batch, "B", "rows per Adam step (default 32)"},
        {"--train", CLI_INT, &ntrain, "N", "time the first N shuffled images of each epoch (default all 60,000)"},
        {"--seed", CLI_INT, &seed, "N", "weights, shuffle and dropout seed (default 1)"},
        {"--data", CLI_STRING, &data, "DIR", "data root holding mnist/ (default data/, or $CHAINRULE_DATA)"},
        {0}};
    cli_no_positional(cli_parse(argc, argv, "mnist_cnn — the CNN fast-path MNIST benchmark", opts), argc, argv);
    if (batch < 1 || batch > 60000) cli_fail("--batch: %d is not in 1…60000", batch);
    if (threads < 1) cli_fail("--threads: %d is not ≥ 1", threads);
    if (epochs < 1 || epochs > 1000) cli_fail("--epochs: %d is not in 1…1000", epochs);
    if (ntrain < 0) cli_fail("--train: %d is not ≥ 0", ntrain);
    if (seed < 0) cli_fail("--seed: %d is not ≥ 0", seed);
#ifdef _OPENMP
    omp_set_num_threads(threads);
#endif
    const char *root = cli_data_root(data);
    dataset tr, te;
    char err[IDX_ERR_LEN];
    data_expect want = DATA_EXPECT_28X28(1);    /* the convolutions read 28 rows of 28 */
    if (data_load_expect(root, "mnist", "train", &want, &tr, err)) cli_fail("%s", err);
    if (data_load_expect(root, "mnist", "test", &want, &te, err)) cli_fail("%s", err);
    data_scale(&tr, 255.0f);
    data_scale(&te, 255.0f);
    int N = ntrain > 0 && ntrain < tr.n ? ntrain : tr.n, D = tr.d;
    cnn_cfg cfg = cnn_defaults();
    cfg.bn = CNN_BN_CHANNEL;
    cfg.bn_eps = 1e-3;
    cfg.seed = (uint64_t)seed;
    cnn *m = cnn_new(&cfg);
    optim_cfg oc = optim_defaults(OPT_ADAM);
    oc.lr = 1e-4;
    oc.eps = 1e-8;              /* PyTorch's Adam */
    optim *o = m ? optim_new_cnn(&oc, m) : NULL;
    uint32_t *order = malloc((size_t)tr.n * sizeof *order);
    float *bx = malloc((size_t)batch * D * sizeof *bx);
    uint8_t *by = malloc((size_t)batch);
    size_t max_steps = ((size_t)tr.n + (size_t)batch - 1) / (size_t)batch, steps = 0;
    double *per_step = malloc(max_steps * CNN_STAGE_COUNT * sizeof *per_step);   /* [stage][step] */
    if (!m || !o || !order || !bx || !by || !per_step) cli_fail("out of memory");
    m->profile = 1;
    double per_img[CNN_STAGE_COUNT] = {0};
    double conv = 2.0 * 784 * 9 * 32, fc1 = 2.0 * 6272 * 784, fc2 = 2.0 * 784 * 10;
    per_img[CNN_STAGE_CONV_F] = conv; per_img[CNN_STAGE_FC1_F] = fc1; per_img[CNN_STAGE_FC2_F] = fc2;
    per_img[CNN_STAGE_FC2_B] = 2 * fc2; per_img[CNN_STAGE_FC1_B] = 2 * fc1; per_img[CNN_STAGE_CONV_B] = conv;
    double flop_img = 0.0;
    for (int s = 0; s < CNN_STAGE_COUNT; s++) flop_img += per_img[s];
    double peak = fma_peak();
    rng r;
    rng_seed(&r, (uint64_t)seed + 1000);
    for (int i = 0; i < tr.n; i++) order[i] = (uint32_t)i;
    double opt_s = 0.0;
    for (int ep = 1; ep <= epochs; ep++) {
        memset(m->stage_s, 0, sizeof m->stage_s);
        double last[CNN_STAGE_COUNT] = {0};
        opt_s = 0.0;
        steps = 0;
        double t0 = now(), loss = 0.0;
        rng_shuffle(&r, order, (size_t)tr.n);
        for (int i = 0; i < N; i += batch) {
            int nb = N - i < batch ? N - i : batch;
            for (int q = 0; q < nb; q++) {
                memcpy(bx + (size_t)q * D, tr.x + (size_t)order[i + q] * D, (size_t)D * sizeof *bx);
                by[q] = tr.labels[order[i + q]];
            }
            loss += cnn_forward(m, bx, by, nb, 1) * nb;
            double ts = now();
            optim_backward_step_cnn(o, m);      /* Adam's W1 update inside fc1_bwd */
            opt_s += now() - ts;
            for (int s = CNN_STAGE_FC2_B; s <= CNN_STAGE_CONV_B; s++) opt_s -= m->stage_s[s] - last[s];
            for (int s = 0; s < CNN_STAGE_COUNT; s++) per_step[(size_t)s * max_steps + steps] = m->stage_s[s] - last[s];
            steps++;
            memcpy(last, m->stage_s, sizeof last);
        }
        double secs = now() - t0;
        long right = 0;
        m->profile = 0;                       /* the stages are the training steps' */
        for (int i = 0; i < te.n; i += 100) {
            int nb = te.n - i < 100 ? te.n - i : 100;
            cnn_forward(m, te.x + (size_t)i * D, te.labels + i, nb, 0);
            right += m->correct;
        }
        m->profile = 1;
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        double full = secs * 60000.0 / N;
        printf("epoch=%d epoch_s=%.3f full_epoch_s=%.2f scaled=%d train=%d gflops=%.1f train_loss=%.4f "
               "test_acc=%.4f peak_rss_mb=%.1f batch=%d threads=%d isa=%s loss_bits=%a\n",
               ep, secs, full, N < 60000, N, flop_img * N / secs / 1e9, loss / N, (double)right / te.n,
               ru.ru_maxrss / 1024.0, batch, threads, kernels_isa(), loss / N);
        if (fflush(stdout) != 0 || ferror(stdout)) cli_fail("stdout: write error");
    }
    if (peak_lanes) printf("peak_gflops=%.1f (one core, %d-wide FMA, measured)\n", peak, peak_lanes);
    else printf("peak_gflops=nan (the %s kernels: no vector FMA peak to measure)\n", kernels_isa());
    /* (after the epochs: its 59 MB are not in their peak_rss_mb) */
    printf("peak_adam_gbs=%.1f (Adam's step alone over FC1's %d x %d weights, w, v and s read and "
           "written: %zu bytes a weight, one thread, the best of 5)\n",
           adam_rate((size_t)m->D, (size_t)cfg.hidden), m->D, cfg.hidden, ADAM_BYTES);
    for (int s = 0; s <= CNN_STAGE_COUNT; s++) {
        double t = s < CNN_STAGE_COUNT ? m->stage_s[s] : opt_s, g = s < CNN_STAGE_COUNT ? per_img[s] * N / t / 1e9 : 0.0;
        printf("layer=%s s=%.3f", s < CNN_STAGE_COUNT ? cnn_stage_name(s) : "adam_rest", t);
        if (s < CNN_STAGE_COUNT) printf(" med_ms=%.3f", 1e3 * median(per_step + (size_t)s * max_steps, steps));
        if (s < CNN_STAGE_COUNT && per_img[s] > 0) printf(" gflops=%.1f peak_pct=%.0f", g, 100.0 * g / peak / threads);
        printf("\n");
    }
    if (fflush(stdout) != 0 || ferror(stdout)) cli_fail("stdout: write error");
    free(order); free(bx); free(by); free(per_step);
    optim_free(o);
    cnn_free(m);
    dataset_free(&tr);
    dataset_free(&te);
    return 0;
}
