/* mnist_mlp.c — the fast-path benchmark: MNIST 784 → 300 sigmoid → 10,
 * softmax + cross-entropy, plain SGD, float32, one line per epoch:
 *   epoch=1 epoch_s=… gflops=… train_loss=… test_acc=… peak_rss_mb=…
 * epoch_s times the training steps only (shuffle, batch copy — split
 * between the threads —, forward, backward, update) on the wall clock; cpu_s is the CPU time of the same
 * span, summed over threads. The test pass after it is not timed.
 * GFLOP per epoch counts the matrix products: per sample 2·2·(784·300 +
 * 300·10) for the forward and weight-gradient products, plus 2·300·10 for
 * the input gradient of the output layer (none for the first): 57.5.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "cli.h"
#include "data.h"
#include "mlp.h"

static double clock_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
static double now(void) { return clock_s(CLOCK_MONOTONIC); }
/* CPU seconds of the process (all threads): on a shared, loaded machine the
 * wall time of a run counts time spent waiting for a core; this does not. */
static double cpu(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

int main(int argc, char **argv)
{
    int batch = 100, threads = 1, epochs = 1, seed = 1, limit = 0;
    double lr = 0.1;
    const char *data = NULL, *init = "torch";
    cli_opt opts[] = {
        {"--batch", CLI_INT, &batch, "B", "rows per SGD step (default 100; 1 = per-sample)"},
        {"--threads", CLI_INT, &threads, "N", "OpenMP threads (default 1)"},
        {"--epochs", CLI_INT, &epochs, "N", "epochs (default 1)"},
        {"--lr", CLI_DOUBLE, &lr, "A", "learning rate (default 0.1)"},
        {"--init", CLI_STRING, &init, "KIND", "torch (PyTorch's default) or normal (σ 0.01)"},
        {"--seed", CLI_INT, &seed, "N", "weights and shuffle seed (default 1)"},
        {"--limit", CLI_INT, &limit, "N", "train on the first N images only (default all)"},
        {"--data", CLI_STRING, &data, "DIR", "data root holding mnist/ (default data/, or $CHAINRULE_DATA)"},
        {0}};
    cli_no_positional(cli_parse(argc, argv, "mnist_mlp — the fast-path MNIST benchmark", opts), argc, argv);
    if (batch < 1) cli_fail("--batch: %d is not ≥ 1", batch);
    if (threads < 1) cli_fail("--threads: %d is not ≥ 1", threads);
    if (epochs < 1) cli_fail("--epochs: %d is not ≥ 1", epochs);
    if (!(lr > 0)) cli_fail("--lr: %g is not > 0", lr);
    mlp_init in;
    if (strcmp(init, "torch") == 0) in = (mlp_init){INIT_TORCH, 0, 0};
    else if (strcmp(init, "normal") == 0) in = (mlp_init){INIT_NORMAL, 0.01, 0};
    else cli_fail("--init: '%s' is not torch or normal", init);
#ifdef _OPENMP
    omp_set_num_threads(threads);
#endif
    const char *root = cli_data_root(data);
    dataset tr, te;
    char err[IDX_ERR_LEN];
    data_expect want = DATA_EXPECT_28X28(1);    /* the network's 784 inputs */
    if (data_load_expect(root, "mnist", "train", &want, &tr, err)) cli_fail("%s", err);
    if (data_load_expect(root, "mnist", "test", &want, &te, err)) cli_fail("%s", err);
    data_scale(&tr, 255.0f);
    data_scale(&te, 255.0f);
    int N = limit > 0 && limit < tr.n ? limit : tr.n, D = tr.d;
    mlp_config cfg = {.n_layers = 2, .sizes = {784, 300, 10}, .act = ACT_SIGMOID, .init = in, .seed = (uint64_t)seed};
    mlp *m = mlp_new(&cfg);
    uint32_t *order = malloc((size_t)N * sizeof *order);
    float *bx = malloc((size_t)batch * D * sizeof *bx);
    uint8_t *by = malloc((size_t)batch);
    if (!m || !order || !bx || !by) cli_fail("out of memory");
    double gflop = (double)N * (4.0 * (784.0 * 300 + 300.0 * 10) + 2.0 * 300 * 10) / 1e9;
    rng r;
    rng_seed(&r, (uint64_t)seed + 1000);
    for (int i = 0; i < N; i++) order[i] = (uint32_t)i;
    for (int ep = 1; ep <= epochs; ep++) {
        double t0 = now(), c0 = cpu(), loss = 0.0;
        rng_shuffle(&r, order, (size_t)N);
        for (int i = 0; i < N; i += batch) {
            int nb = N - i < batch ? N - i : batch;
            const float *x;
            if (nb == 1) { x = tr.x + (size_t)order[i] * D; by[0] = tr.labels[order[i]]; }
            else {
                /* rows from all over the set: waits on memory, which two threads halve */
#pragma omp parallel for num_threads(kernels_threads(nb / 16)) schedule(static)
                for (int q = 0; q < nb; q++) {
                    memcpy(bx + (size_t)q * D, tr.x + (size_t)order[i + q] * D, (size_t)D * sizeof *bx);
                    by[q] = tr.labels[order[i + q]];
                }
                x = bx;
            }
            loss += mlp_forward(m, x, by, nb, 1) * nb;
            mlp_backward_sgd(m, (float)lr);
        }
        double secs = now() - t0, csecs = cpu() - c0;
        long right = 0;
        for (int i = 0; i < te.n; i += 1000) {
            int nb = te.n - i < 1000 ? te.n - i : 1000;
            mlp_forward(m, te.x + (size_t)i * D, te.labels + i, nb, 0);
            right += m->correct;
        }
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("epoch=%d epoch_s=%.3f gflops=%.1f train_loss=%.4f test_acc=%.4f peak_rss_mb=%.1f "
               "batch=%d threads=%d isa=%s cpu_s=%.3f loss_bits=%a\n",
               ep, secs, gflop / secs, loss / N, (double)right / te.n, ru.ru_maxrss / 1024.0, batch, threads,
               kernels_isa(), csecs, loss / N);
        fflush(stdout);
    }
    free(order); free(bx); free(by);
    mlp_free(m);
    dataset_free(&tr);
    dataset_free(&te);
    return 0;
}
