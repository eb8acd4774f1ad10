/* test_model_file.c — mlp_load and mlp_save on hostile files: things that
 * are not files (a FIFO with no writer, /dev/zero, a directory), headers
 * that claim more than the file holds, a well-formed model whose
 * parameters are NaN or infinite, and saves that cannot succeed. Each is
 * refused with one line naming the file, the model in memory unchanged, no
 * hang (an alarm ends the test if a read blocks), no temporary file left.
 * The files are made here, in $BUILD/tmp/test_model_file/. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "mlp.h"

static char dir[256];

static const char *path_of(const char *name)
{
    static char p[2][512];
    static int k;
    k ^= 1;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static mlp *small(uint64_t seed)
{
    mlp_config c = {.n_layers = 2, .sizes = {5, 4, 3}, .act = ACT_TANH,
                    .init = {INIT_GLOROT_UNIFORM, 0, 0}, .seed = seed};
    return mlp_new(&c);
}

/* mlp_load(path) must fail with a one-line message naming path and holding
 * phrase, and leave m's parameters as they were. */
static void refused(mlp *m, const char *path, const char *phrase)
{
    char err[1024] = "";
    float *before = malloc(m->n_params * sizeof *before);
    memcpy(before, m->params, m->n_params * sizeof *before);
    CHECK(mlp_load(m, path, err, sizeof err) == -1);
    CHECK(strstr(err, path) == err && strstr(err, phrase) != NULL && strchr(err, '\n') == NULL);
    if (!strstr(err, phrase)) printf("  %s: message '%s' lacks '%s'\n", path, err, phrase);
    CHECK(memcmp(before, m->params, m->n_params * sizeof *before) == 0);
    free(before);
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 1099511628211ull; }
    return h;
}

/* A saved model's bytes with every parameter replaced by v and the
 * checksum made right again: a well-formed file of non-finite numbers. */
static void poison(const char *path, float v, int all)
{
    FILE *f = fopen(path, "rb");
    static unsigned char b[1 << 12];
    size_t len = fread(b, 1, sizeof b, f);
    fclose(f);
    size_t hlen = 8 + 4 + 4 + 4 * 3 + 8 + 8 + 4, n = (len - hlen) / 4;   /* …, checksum, activation */
    uint32_t u;
    memcpy(&u, &v, 4);
    for (size_t i = all ? 0 : n / 2; i < (all ? n : n / 2 + 1); i++)
        for (int k = 0; k < 4; k++) b[hlen + 4 * i + k] = (unsigned char)(u >> (8 * k));
    uint64_t sum = fnv1a(b + hlen, n * 4);
    for (int k = 0; k < 8; k++) b[hlen - 12 + k] = (unsigned char)(sum >> (8 * k));
    f = fopen(path, "wb");
    fwrite(b, 1, len, f);
    fclose(f);
}

static int temporaries_left(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL) n += strstr(e->d_name, ".tmp") != NULL;
    closedir(d);
    return n;
}

static void not_files(mlp *m)
{
    const char *fifo = path_of("fifo");
    CHECK(mkfifo(fifo, 0644) == 0);
    alarm(20);
    refused(m, fifo, "not a regular file");
    alarm(0);
    refused(m, "/dev/zero", "not a regular file");
    refused(m, dir, "is a directory");
    refused(m, path_of("none"), "cannot open (No such file or directory)");
}

static void bad_headers(mlp *m)
{
    /* the magic of a model, then a claim of 2^60 parameters in 4 layers */
    unsigned char h[64] = "CHRMLP2\n";
    h[8] = 4;
    for (int l = 0; l <= 4; l++) h[16 + 4 * l] = 200;
    h[16 + 4 * 5 + 7] = 0x10;
    const char *p = path_of("claims");
    FILE *f = fopen(p, "wb");
    fwrite(h, 1, 16 + 4 * 5 + 16 + 4, f);
    fclose(f);
    refused(m, p, "model is 200-200-200-200-200, this network is 5-4-3");
    f = fopen(p, "wb");
    fwrite(h, 1, 12, f);                      /* the magic, then nothing whole */
    fclose(f);
    refused(m, p, "not a chainrule model file");
    h[8] = 200;                               /* 200 layers */
    f = fopen(p, "wb");
    fwrite(h, 1, 64, f);
    fclose(f);
    refused(m, p, "corrupt header (200 layers");
}

static void nonfinite(mlp *m)
{
    char err[1024];
    mlp *a = small(3);
    const char *p = path_of("model.bin");
    static const float vals[3] = {NAN, INFINITY, -INFINITY};
    for (int k = 0; k < 3; k++)
        for (int all = 0; all <= 1; all++) {
            CHECK(mlp_save(a, p, err, sizeof err) == 0);
            poison(p, vals[k], all);
            refused(m, p, "not a finite number");
        }
    /* trailing bytes after a good model */
    CHECK(mlp_save(a, p, err, sizeof err) == 0);
    FILE *f = fopen(p, "ab");
    fputs("xyz", f);
    fclose(f);
    refused(m, p, "trailing bytes");

    /* a model with a NaN parameter is not saved, and the one in place stays */
    CHECK(mlp_save(a, p, err, sizeof err) == 0);
    float keep = a->params[7];
    a->params[7] = NAN;
    CHECK(mlp_save(a, p, err, sizeof err) == -1);
    CHECK(strstr(err, p) == err && strstr(err, "parameter 7 is nan") != NULL);
    a->params[7] = keep;
    mlp *b = small(4);
    CHECK(mlp_load(b, p, err, sizeof err) == 0);
    CHECK(memcmp(a->params, b->params, a->n_params * sizeof *a->params) == 0);
    CHECK(temporaries_left() == 0);

    /* saves that cannot land: a directory that does not exist, a directory
     * in the way; nothing left behind */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/no-such-dir/model.bin", dir);
    CHECK(mlp_save(a, bad, err, sizeof err) == -1 && strstr(err, "cannot write") != NULL);
    CHECK(mkdir(path_of("in-the-way"), 0755) == 0);
    CHECK(mlp_save(a, path_of("in-the-way"), err, sizeof err) == -1 && strstr(err, "cannot rename") != NULL);
    CHECK(temporaries_left() == 0);
    mlp_free(a);
    mlp_free(b);
}

int main(void)
{
    const char *b = getenv("BUILD");
    snprintf(dir, sizeof dir, "%s/tmp/test_model_file", b && *b ? b : "build");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0) { printf("cannot make %s\n", dir); return 1; }
    mlp *m = small(1);
    not_files(m);
    bad_headers(m);
    nonfinite(m);
    mlp_free(m);
    return check_report("test_model_file");
}
