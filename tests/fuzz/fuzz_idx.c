/* fuzz_idx.c — libFuzzer target for the IDX reader. Each input is parsed
 * from memory as images and as labels, then written to a file and loaded
 * through the file path; the two paths must agree on the status, the
 * message and the data (they share the header check but read differently).
 * Any disagreement aborts, which libFuzzer reports as a crash, and so does
 * a loaded set whose pixel count does not fit an int. */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "idx.h"

static char path[64];

static int same(idx_status a, idx_status b, const char *ea, const char *eb)
{
    return a == b && (a == IDX_OK || strcmp(ea, eb) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0]) snprintf(path, sizeof path, "/tmp/fuzz_idx.%ld", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    if (size) fwrite(data, 1, size, f);
    fclose(f);

    char err[IDX_ERR_LEN], ferr[IDX_ERR_LEN];
    float *x, *fx;
    int n, r, c, fn, fr, fc;
    idx_status s = idx_parse_images(data, size, path, &x, &n, &r, &c, err);
    idx_status fs = idx_load_images(path, &fx, &fn, &fr, &fc, ferr);
    if (!same(s, fs, err, ferr)) abort();
    if (s == IDX_OK) {
        size_t count = (size_t)n * (size_t)r * (size_t)c;
        if (n != fn || r != fr || c != fc || count != size - 16) abort();
        if (count > INT_MAX) abort();    /* the reader's promise: every count fits an int */
        if (memcmp(x, fx, count * sizeof *x)) abort();
        for (size_t i = 0; i < count; i++)
            if (x[i] != (float)data[16 + i]) abort();
    } else if (x || fx || n || fn) {
        abort();
    }
    free(x);
    free(fx);

    uint8_t *l, *fl;
    s = idx_parse_labels(data, size, path, 10, &l, &n, err);
    fs = idx_load_labels(path, 10, &fl, &fn, ferr);
    if (!same(s, fs, err, ferr)) abort();
    if (s == IDX_OK) {
        if (n != fn || (size_t)n != size - 8 || memcmp(l, fl, (size_t)n) || memcmp(l, data + 8, (size_t)n))
            abort();
        for (int i = 0; i < n; i++)
            if (l[i] >= 10) abort();
    } else if (l || fl || n || fn) {
        abort();
    }
    free(l);
    free(fl);
    return 0;
}
