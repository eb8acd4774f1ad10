/* test_predict.c — build/predict end to end. Trains a small MLP on the
 * MNIST slice in tests/data (train.h) and saves it (mlp_save); writes the
 * slice's test digits out as PGM (P5 and P2) and PNG (every kind: grey 8
 * and 16 bits, palette, alpha, RGB), and blown up on white pages off-centre;
 * predict must give each the class the network gives the digit itself.
 * Hand-made digits (thick strokes, several sizes, off-centre) come out
 * centred (--show), the 1s and 0s classified right. Every bad image and model exits 2 with one line naming
 * the file. Prints the time per image, model load included.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "check.h"
#include "data.h"
#include "digits.h"
#include "image.h"
#include "train.h"

#define NT 100                     /* test digits in the slice */
static char dir[512], prog[512], model[600];

/* Runs `predict args` with stderr into dir/stderr; stdout into out (cap
 * bytes). Returns the exit status. */
static int run(const char *args, char *out, size_t cap)
{
    char cmd[1 << 16];
    snprintf(cmd, sizeof cmd, "%s %s 2>%s/stderr", prog, args, dir);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = out ? fread(out, 1, cap - 1, p) : 0;
    if (out) out[n] = '\0';
    else { char sink[4096]; while (fread(sink, 1, sizeof sink, p) > 0) {} }
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void read_stderr(char *buf, size_t cap)
{
    char path[600];
    snprintf(path, sizeof path, "%s/stderr", dir);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f) fclose(f);
}

/* The top classes predict printed, in order ("FILE: top class N (…)"). */
static int classes(const char *out, int *cls, int max)
{
    int n = 0;
    for (const char *p = strstr(out, ": top class "); p && n < max; p = strstr(p + 1, ": top class "))
        cls[n++] = atoi(p + 12);
    return n;
}

static mlp *train_model(const dataset *tr)
{
    mlp_config c = {.n_layers = 2, .sizes = {784, 64, 10}, .act = ACT_SIGMOID,
                    .init = {INIT_LECUN_NORMAL, 0, 0}, .seed = 1};
    mlp *m = mlp_new(&c);
    mlp_data d = {tr->x, tr->labels, tr->n, tr->d};
    train_cfg tc = train_defaults();
    tc.epochs = 30; tc.batch = 10; tc.opt.lr = 0.5; tc.progress = 0;
    train_result res;
    CHECK(train_run(m, &d, NULL, &tc, &res) == 0);
    train_result_free(&res);
    char err[512];
    CHECK(mlp_save(m, model, err, sizeof err) == 0);
    return m;
}

/* MNIST digits as files of every kind, and blown up: the network's classes. */
static void same_classes(mlp *m, const dataset *te)
{
    static char args[1 << 15], out[1 << 22];
    int want[NT], got[4 * NT], n = 0, len = 0;
    mlp_forward(m, te->x, NULL, NT, 0);
    for (int i = 0; i < NT; i++) {
        const float *p = mlp_probs(m) + i * 10;
        want[i] = 0;
        for (int k = 1; k < 10; k++) if (p[k] > p[want[i]]) want[i] = k;
    }
    static uint8_t page[205 * 210];
    for (int i = 0; i < NT; i++) {
        uint8_t d[784], inv[784];
        for (int p = 0; p < 784; p++) { d[p] = (uint8_t)lroundf(te->x[i * 784 + p] * 255); inv[p] = (uint8_t)(255 - d[p]); }
        char f[3][700];
        snprintf(f[0], sizeof f[0], "%s/d%03d.pgm", dir, i);
        snprintf(f[1], sizeof f[1], "%s/d%03d-%s.png", dir, i, png_kind_names[i % PNG_KINDS]);
        snprintf(f[2], sizeof f[2], "%s/d%03d-big.png", dir, i);
        CHECK(pgm_write(f[0], i % 2 ? inv : d, 28, 28, i % 2) == 0);   /* white on black, and black on white */
        CHECK(png_write(f[1], inv, 28, 28, i % PNG_KINDS) == 0);
        int k = i % 2 ? 7 : 3, ox = 5 + i % 7, oy = 9;                 /* 196 or 84 px, off-centre */
        blow_up(page, 210, 196 + 9, d, k, ox, oy);
        CHECK(png_write(f[2], page, 210, 196 + 9, PNG_GREY8) == 0);
        for (int j = 0; j < 3; j++) len += snprintf(args + len, sizeof args - (size_t)len, " %s", f[j]);
    }
    static char a[1 << 16];
    snprintf(a, sizeof a, "--model %s%s", model, args);
    CHECK(run(a, out, sizeof out) == 0);
    n = classes(out, got, 3 * NT);
    CHECK(n == 3 * NT);
    int agree[3] = {0, 0, 0}, right = 0;
    for (int i = 0; i < NT && n == 3 * NT; i++)
        for (int j = 0; j < 3; j++) {
            agree[j] += got[3 * i + j] == want[i];
            if (got[3 * i + j] != want[i]) printf("  digit %d (file kind %d): predict says %d, the network %d\n", i, j, got[3 * i + j], want[i]);
        }
    for (int i = 0; i < NT; i++) right += want[i] == te->labels[i];
    printf("  predict agrees with the network on %d/%d PGM, %d/%d PNG, %d/%d blown-up digits (the network: %d/%d right)\n",
           agree[0], NT, agree[1], NT, agree[2], NT, right, NT);
    for (int j = 0; j < 3; j++) CHECK(agree[j] == NT);
    CHECK(strstr(out, "probabilities:\n  0: ") != NULL);
}

/* Hand-made digits land centred in the 28 × 28 input (--show). */
static void hand_made(void)
{
    static const int H[3] = {50, 300, 900};
    static const int digit[3] = {1, 7, 0};
    for (int s = 0; s < 3; s++)
        for (int d = 0; d < 3; d++) {
            int W = H[s] * 4 / 3;
            uint8_t *px = malloc((size_t)W * H[s]);
            hand_digit(px, W, H[s], digit[d], 0.55 * W, 0.3 * H[s], 0.5 * H[s]);   /* right of centre, low */
            char f[700], show[700], a[4096], out[1 << 14], err[IMAGE_ERR_LEN];
            snprintf(f, sizeof f, "%s/hand-%d-%d.png", dir, digit[d], H[s]);
            snprintf(show, sizeof show, "%s/hand-%d-%d-28.pgm", dir, digit[d], H[s]);
            CHECK(png_write(f, px, W, H[s], PNG_GREY8) == 0);
            free(px);
            snprintf(a, sizeof a, "--model %s --show %s %s", model, show, f);
            int cls[1];
            CHECK(run(a, out, sizeof out) == 0 && classes(out, cls, 1) == 1);
            image im;
            CHECK(image_load(show, &im, err) == IMAGE_OK && im.w == 28 && im.h == 28);
            if (!im.px) continue;
            double cx, cy;
            int bw, bh;
            digit_com(im.px, &cx, &cy);
            digit_box(im.px, &bw, &bh);
            CHECK(fabs(cx - 14) <= 1 && fabs(cy - 14) <= 1 && bh == 20);
            /* the slice's 100-image model knows a 1 and a 0 when it sees one; its 7s
             * it calls 9 (a model trained on the full set: see the README) */
            if (digit[d] != 7) CHECK(cls[0] == digit[d]);
            printf("  hand-made %d, %d px high: centre of mass (%.2f, %.2f), box %d × %d, predict says %d\n",
                   digit[d], H[s], cx, cy, bw, bh, cls[0]);
            image_free(&im);
            char tmp[710];
            snprintf(tmp, sizeof tmp, "%s.tmp", show);
            struct stat st;
            CHECK(stat(tmp, &st) != 0);                 /* renamed into place */
        }
}

static void put(const char *name, const void *b, size_t n, char *path)
{
    sprintf(path, "%s/%s", dir, name);
    CHECK(file_put(path, b, n) == 0);
}

/* One bad file: exit 2, one line on stderr naming it and the reason. */
static void bad(const char *name, const void *b, size_t n, const char *why)
{
    char path[700], a[4096], err[4096];
    if (b) put(name, b, n, path);
    else sprintf(path, "%s/%s", dir, name);
    snprintf(a, sizeof a, "--model %s %s", model, path);
    int st = run(a, NULL, 0);
    read_stderr(err, sizeof err);
    char want[1500];
    snprintf(want, sizeof want, "predict: %s: ", path);
    int one_line = strchr(err, '\n') == err + strlen(err) - 1;
    CHECK(st == 2 && strncmp(err, want, strlen(want)) == 0 && strstr(err, why) && one_line);
    if (!(st == 2 && strstr(err, why))) printf("  %s: exit %d, stderr '%s', want '%s'\n", name, st, err, why);
}

static void bad_inputs(void)
{
    uint8_t px[30 * 30];
    hand_digit(px, 30, 30, 7, 5, 5, 20);
    size_t len;
    unsigned char *png = png_encode(px, 30, 30, PNG_GREY8, &len), h[64];
    bad("text.png", "hello, world\n", 13, "not an image (neither PGM P2/P5 nor PNG)");
    bad("empty.pgm", "", 0, "an empty file, not an image");
    bad("missing.png", NULL, 0, "cannot open");
    if (png) bad("cut.png", png, len / 2, "a truncated PNG");
    bad("cut.pgm", "P5 30 30 255\n\xff\xff", 15, "truncated: 2 of 900 pixel bytes");
    bad("zero.pgm", "P5 0 0 255\n", 11, "0 × 0 pixels: an empty image");
    bad("zero.png", h, png_header_only(h, 0, 0), "an empty (0-pixel) PNG");
    bad("huge.pgm", "P5 100000 100000 255\n", 21, "100000 × 100000 pixels: too large");
    bad("huge.png", h, png_header_only(h, 100000, 100000), "too large: 100000 × 100000 pixels");
    bad("bad-maxval.pgm", "P2 2 1 9\n1 99\n", 14, "pixel 1 is 99, above maxval 9");
    memset(px, 255, sizeof px);
    unsigned char *blank = png_encode(px, 30, 30, PNG_GREY8, &len);
    if (blank) bad("blank.png", blank, len, "no ink");
    free(png);
    free(blank);

    /* a good image and a bad one: the good one is still classified, exit 2 */
    char a[4096], out[1 << 14], err[4096];
    snprintf(a, sizeof a, "--model %s %s/d000.pgm %s/text.png", model, dir, dir);
    int cls[2];
    CHECK(run(a, out, sizeof out) == 2 && classes(out, cls, 2) == 1);
    /* bad models and flags */
    char path[700];
    put("not-a-model.bin", "CHRMLP1\nold", 11, path);
    snprintf(a, sizeof a, "--model %s %s/d000.pgm", path, dir);
    CHECK(run(a, NULL, 0) == 2);
    read_stderr(err, sizeof err);
    CHECK(strstr(err, "not a chainrule model this predict reads") != NULL);
    FILE *f = fopen(model, "rb");
    static unsigned char mb[1 << 20];
    size_t mn = f ? fread(mb, 1, sizeof mb, f) : 0;
    if (f) fclose(f);
    put("cut-model.bin", mb, mn / 2, path);
    snprintf(a, sizeof a, "--model %s %s/d000.pgm", path, dir);
    CHECK(run(a, NULL, 0) == 2);
    read_stderr(err, sizeof err);
    CHECK(strstr(err, "truncated") != NULL);
    snprintf(a, sizeof a, "%s/d000.pgm", dir);
    CHECK(run(a, NULL, 0) == 2);
    read_stderr(err, sizeof err);
    CHECK(strstr(err, "--model FILE is required") != NULL);
    snprintf(a, sizeof a, "--model %s --show %s/x.pgm %s/d000.pgm %s/d001.pgm", model, dir, dir, dir);
    CHECK(run(a, NULL, 0) == 2);
    CHECK(run("--help", out, sizeof out) == 0 && strstr(out, "save it as PNG, run predict") != NULL);
}

/* Time per image, model load included: one predict per image. */
static void timing(void)
{
    char a[4096];
    snprintf(a, sizeof a, "--model %s %s/d000-grey8.png >/dev/null", model, dir);
    struct timespec t0, t1;
    enum { RUNS = 20 };
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int ok = 1;
    for (int i = 0; i < RUNS; i++) ok &= run(a, NULL, 0) == 0;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(ok);
    double ms = ((double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6) / RUNS;
    printf("  predict, one image with the model load (and the shell popen starts): %.1f ms per run, mean of %d\n", ms, RUNS);
}

int main(void)
{
    const char *b = getenv("BUILD") ? getenv("BUILD") : "build";
    snprintf(prog, sizeof prog, "%s/predict", b);
    snprintf(dir, sizeof dir, "%s/tests/predict", b);
    mkdir(dir, 0777);
    snprintf(model, sizeof model, "%s/mlp.bin", dir);
    dataset tr, te;
    char e[IDX_ERR_LEN];
    CHECK(data_load("tests/data", "mnist", "train", &tr, e) == 0);
    CHECK(data_load("tests/data", "mnist", "test", &te, e) == 0);
    if (tr.n < 1 || te.n < NT) return check_report("test_predict");
    data_scale(&tr, 255);
    data_scale(&te, 255);
    mlp *m = train_model(&tr);
    same_classes(m, &te);
    hand_made();
    bad_inputs();
    timing();
    mlp_free(m);
    dataset_free(&tr);
    dataset_free(&te);
    return check_report("test_predict");
}
