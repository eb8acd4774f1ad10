/* test_idx.c — the IDX reader on good files and on every kind of bad one,
 * each with its expected status and a message naming the file. The bad
 * files are made here, in $BUILD/tmp/test_idx/. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "data.h"
#include "idx.h"

static char dir[256];

static const char *path_of(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static const char *put(const char *name, const void *bytes, size_t n)
{
    const char *p = path_of(name);
    FILE *f = fopen(p, "wb");
    if (!f) { printf("cannot write %s\n", p); exit(1); }
    if (n) fwrite(bytes, 1, n, f);
    fclose(f);
    return p;
}

/* An IDX header of unsigned bytes with the given magic byte 3 (dims) and
 * dims, followed by `body` bytes of value v. */
static size_t make_idx(uint8_t *buf, uint8_t type, uint8_t nd, const uint32_t *dims,
                       size_t body, uint8_t v)
{
    buf[0] = 0; buf[1] = 0; buf[2] = type; buf[3] = nd;
    for (int i = 0; i < nd; i++)
        for (int k = 0; k < 4; k++) buf[4 + 4 * i + k] = (uint8_t)(dims[i] >> (24 - 8 * k));
    size_t h = 4 + 4 * (size_t)nd;
    memset(buf + h, v, body);
    return h + body;
}

static int contains(const char *s, const char *sub) { return strstr(s, sub) != NULL; }

/* Loads path as images and checks the status and that the message names
 * the file and holds `phrase`. */
static void expect_images(const char *path, idx_status want, const char *phrase)
{
    float *x = (float *)1;
    int n = -1, r = -1, c = -1;
    char err[IDX_ERR_LEN] = "";
    idx_status s = idx_load_images(path, &x, &n, &r, &c, err);
    CHECK(s == want);
    if (s != want) printf("  %s: got %s (%s), want %s\n", path, idx_strerror(s), err, idx_strerror(want));
    if (want != IDX_OK) {
        CHECK(x == NULL && n == 0 && r == 0 && c == 0);
        CHECK(contains(err, path) && contains(err, phrase));
        if (!contains(err, phrase)) printf("  message '%s' lacks '%s'\n", err, phrase);
        CHECK(strchr(err, '\n') == NULL);
    }
    free(x == (float *)1 ? NULL : x);
}

static void expect_labels(const char *path, idx_status want, const char *phrase)
{
    uint8_t *l = (uint8_t *)1;
    int n = -1;
    char err[IDX_ERR_LEN] = "";
    idx_status s = idx_load_labels(path, 10, &l, &n, err);
    CHECK(s == want);
    if (s != want) printf("  %s: got %s (%s), want %s\n", path, idx_strerror(s), err, idx_strerror(want));
    if (want != IDX_OK) {
        CHECK(l == NULL && n == 0);
        CHECK(contains(err, path) && contains(err, phrase));
        if (!contains(err, phrase)) printf("  message '%s' lacks '%s'\n", err, phrase);
    }
    free(l == (uint8_t *)1 ? NULL : l);
}

static void test_good(void)
{
    static uint8_t buf[64];
    uint32_t d3[3] = {2, 2, 3};
    size_t n = make_idx(buf, 0x08, 3, d3, 12, 0);
    for (int i = 0; i < 12; i++) buf[16 + i] = (uint8_t)(i * 20 + 15);   /* 15 … 235 */
    const char *p = put("good-images", buf, n);
    float *x;
    int cnt, r, c;
    char err[IDX_ERR_LEN];
    CHECK(idx_load_images(p, &x, &cnt, &r, &c, err) == IDX_OK);
    CHECK(cnt == 2 && r == 2 && c == 3);
    CHECK(x[0] == 15.0f && x[11] == 235.0f && x[6] == 135.0f);
    free(x);
    /* the same bytes from memory, no message buffer */
    CHECK(idx_parse_images(buf, n, "mem", &x, &cnt, &r, &c, NULL) == IDX_OK);
    CHECK(cnt == 2 && x[5] == 115.0f);
    free(x);

    uint32_t d1[1] = {4};
    n = make_idx(buf, 0x08, 1, d1, 4, 9);
    buf[8] = 0;
    p = put("good-labels", buf, n);
    uint8_t *l;
    CHECK(idx_load_labels(p, 10, &l, &cnt, err) == IDX_OK);
    CHECK(cnt == 4 && l[0] == 0 && l[3] == 9);
    free(l);
    /* 9 is out of range for 9 classes */
    CHECK(idx_parse_labels(buf, n, "mem", 9, &l, &cnt, err) == IDX_BAD_LABEL);
    CHECK(l == NULL && contains(err, "mem: label 1 is 9, outside 0..8"));
}

static void test_bad(void)
{
    static uint8_t buf[4096];
    uint32_t d3[3] = {60000, 28, 28}, d1[1] = {5};
    size_t n;

    expect_images(put("empty", "", 0), IDX_EMPTY, "file is empty");
    expect_images(path_of("no-such-file"), IDX_NOT_FOUND, "no such file");
    expect_images(path_of("no-such-dir/train-images-idx3-ubyte"), IDX_NOT_FOUND, "no such file");
    expect_images(dir, IDX_IS_DIRECTORY, "directory");

    /* the brief's own example: a header for 60,000 images over 1000 bytes */
    n = make_idx(buf, 0x08, 3, d3, 1000, 7);
    const char *p = put("truncated", buf, n);
    char want[600];
    snprintf(want, sizeof want, "%s: header promises 47040000 bytes of pixels, file holds 1000", p);
    char err[IDX_ERR_LEN];
    float *x;
    int cnt, r, c;
    CHECK(idx_load_images(p, &x, &cnt, &r, &c, err) == IDX_TRUNCATED);
    CHECK(strcmp(err, want) == 0);
    if (strcmp(err, want)) printf("  got  '%s'\n  want '%s'\n", err, want);

    static const uint8_t gz[] = {0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 3, 1, 2, 3};
    expect_images(put("gzip", gz, sizeof gz), IDX_GZIP, "gzip");
    expect_labels(put("gzip", gz, sizeof gz), IDX_GZIP, "gunzip it first");

    static const uint8_t text[] = "P5 28 28 255\n....";
    expect_images(put("magic", text, sizeof text), IDX_BAD_MAGIC, "wrong magic number 0x50352032");
    uint32_t d1b[1] = {16};
    n = make_idx(buf, 0x08, 1, d1b, 16, 1);
    expect_images(put("labels-as-images", buf, n), IDX_BAD_MAGIC, "a 1-dimensional file where images (magic 0x00000803) belong");
    n = make_idx(buf, 0x08, 3, (uint32_t[]){1, 2, 2}, 4, 1);
    expect_labels(put("images-as-labels", buf, n), IDX_BAD_MAGIC, "3-dimensional file where labels");

    n = make_idx(buf, 0x0D, 3, (uint32_t[]){1, 2, 2}, 16, 0);
    expect_images(put("float-type", buf, n), IDX_BAD_TYPE, "element type 0x0D (float32)");
    n = make_idx(buf, 0x0C, 1, d1, 20, 0);
    expect_labels(put("int-type", buf, n), IDX_BAD_TYPE, "0x0C (int32)");

    n = make_idx(buf, 0x08, 3, (uint32_t[]){0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, 8, 0);
    expect_images(put("overflow", buf, n), IDX_OVERFLOW, "4294967295 x 4294967295 x 4294967295 overflow");
    n = make_idx(buf, 0x08, 3, (uint32_t[]){0x80000000u, 1, 1}, 8, 0);
    expect_images(put("too-many", buf, n), IDX_OVERFLOW, "more than 2147483647 can be indexed");
    /* 2.15 G pixels claimed (more than an int counts), over 100 bytes: refused
     * from the header, before anything is allocated */
    n = make_idx(buf, 0x08, 3, (uint32_t[]){2740000, 28, 28}, 100, 0);
    expect_images(put("2g-pixels", buf, n), IDX_OVERFLOW,
                  "dimensions 2740000 x 28 x 28: 2148160000 pixels, more than 2147483647");
    n = make_idx(buf, 0x08, 3, (uint32_t[]){3, 0, 28}, 8, 0);
    expect_images(put("zero-dim", buf, n), IDX_BAD_DIMS, "dimension 2 of 3 x 0 x 28 is 0");

    n = make_idx(buf, 0x08, 3, (uint32_t[]){2, 2, 2}, 8 + 3, 0);
    expect_images(put("trailing", buf, n), IDX_TRAILING, "3 bytes of trailing garbage after 8 bytes of pixels");
    n = make_idx(buf, 0x08, 1, d1, 5 + 1, 0);
    expect_labels(put("trailing-labels", buf, n), IDX_TRAILING, "1 bytes of trailing garbage");

    make_idx(buf, 0x08, 3, d3, 0, 0);
    expect_images(put("short-header", buf, 10), IDX_TRUNCATED, "too short for its 16-byte header");
    expect_images(put("three-bytes", buf, 3), IDX_TRUNCATED, "holds 3 bytes");
    n = make_idx(buf, 0x08, 1, d1, 4, 0);
    expect_labels(put("short-labels", buf, n), IDX_TRUNCATED, "header promises 5 bytes of labels, file holds 4");

    n = make_idx(buf, 0x08, 1, d1, 5, 3);
    buf[8 + 4] = 10;
    expect_labels(put("bad-label", buf, n), IDX_BAD_LABEL, "label 4 is 10, outside 0..9");
}

/* Permission: a file with mode 000. Root reads it anyway, so as root the
 * check runs in a child that first becomes user nobody (65534). */
static void test_permission(void)
{
    uint8_t buf[32];
    size_t n = make_idx(buf, 0x08, 1, (uint32_t[]){2}, 2, 1);
    const char *p = put("no-permission", buf, n);
    chmod(p, 0);
    if (geteuid() != 0) {
        expect_labels(p, IDX_NO_PERMISSION, "permission denied");
        return;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0) _exit(77);
        uint8_t *l;
        int cnt;
        char err[IDX_ERR_LEN];
        idx_status s = idx_load_labels(p, 10, &l, &cnt, err);
        /* EACCES from the file, or from a directory above it: both are
         * "permission denied" naming the file */
        _exit(s == IDX_NO_PERMISSION && contains(err, p) && contains(err, "permission denied") ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
        printf("note: running as root and cannot drop to nobody; permission case skipped\n");
    else
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Not regular files: a FIFO with no writer (refused at once, not waited
 * on: an alarm ends the test if the reader blocks), a character device
 * that never ends. */
static void test_not_regular(void)
{
    const char *p = path_of("fifo");
    CHECK(mkfifo(p, 0644) == 0);
    alarm(20);
    expect_images(p, IDX_IS_DIRECTORY, "not a regular file");
    expect_labels(p, IDX_IS_DIRECTORY, "not a regular file");
    alarm(0);
    expect_images("/dev/zero", IDX_IS_DIRECTORY, "/dev/zero: not a regular file");
    expect_labels("/dev/null", IDX_IS_DIRECTORY, "/dev/null: not a regular file");
}

/* data_load_expect: each geometry the program does not read is refused
 * naming the images file — rows and cols each, not only their product —
 * and too few images; a set that fits loads. */
static void test_expect(void)
{
    static uint8_t img[100 * 784];
    uint8_t lab[100] = {0};
    char root[300], sub[320], ip[400], lp[400], err[IDX_ERR_LEN];
    snprintf(root, sizeof root, "%s/expect", dir);
    snprintf(sub, sizeof sub, "%s/mnist", root);
    mkdir(root, 0755);
    mkdir(sub, 0755);
    snprintf(ip, sizeof ip, "%s/train-images-idx3-ubyte", sub);
    snprintf(lp, sizeof lp, "%s/train-labels-idx1-ubyte", sub);
    static const struct { uint32_t n, rows, cols; idx_status s; const char *phrase; } cases[] = {
        {100, 27, 28, IDX_BAD_SHAPE, "images are 27 x 28 pixels; this program reads 28 x 28"},
        {100, 28, 27, IDX_BAD_SHAPE, "images are 28 x 27 pixels"},
        {100, 1, 784, IDX_BAD_SHAPE, "images are 1 x 784 pixels"},
        {100, 56, 14, IDX_BAD_SHAPE, "images are 56 x 14 pixels"},
        {100, 1, 1, IDX_BAD_SHAPE, "images are 1 x 1 pixels"},
        {2, 28, 28, IDX_TOO_FEW, "2 images; this program reads at least 3"},
        {1, 28, 28, IDX_TOO_FEW, "1 image; this program reads at least 3"},
        {3, 28, 28, IDX_OK, ""},
        {100, 28, 28, IDX_OK, ""},
    };
    data_expect want = DATA_EXPECT_28X28(3);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        CHECK(idx_write(ip, 3, (uint32_t[]){cases[k].n, cases[k].rows, cases[k].cols}, img) == 0);
        CHECK(idx_write(lp, 1, (uint32_t[]){cases[k].n}, lab) == 0);
        dataset ds;
        idx_status s = data_load_expect(root, "mnist", "train", &want, &ds, err);
        CHECK(s == cases[k].s);
        if (s != IDX_OK) {
            CHECK(ds.x == NULL && ds.n == 0);
            CHECK(contains(err, ip) && contains(err, cases[k].phrase));
            if (!contains(err, cases[k].phrase)) printf("  message '%s' lacks '%s'\n", err, cases[k].phrase);
        } else {
            CHECK(ds.n == (int)cases[k].n && ds.d == 784);
        }
        dataset_free(&ds);
        /* without an expectation every one of them loads */
        CHECK(data_load(root, "mnist", "train", &ds, err) == IDX_OK && ds.n == (int)cases[k].n);
        dataset_free(&ds);
    }
    /* a zero field expects nothing: any width, 1 image */
    data_expect rows_only = {28, 0, 0};
    CHECK(idx_write(ip, 3, (uint32_t[]){1, 28, 5}, img) == 0);
    CHECK(idx_write(lp, 1, (uint32_t[]){1}, lab) == 0);
    dataset ds;
    CHECK(data_load_expect(root, "mnist", "train", &rows_only, &ds, err) == IDX_OK && ds.d == 140);
    dataset_free(&ds);
}

/* data_load on a root whose label file does not match its images. */
static void test_count_mismatch(void)
{
    char root[300], sub[320];
    snprintf(root, sizeof root, "%s/root", dir);
    snprintf(sub, sizeof sub, "%s/mnist", root);
    mkdir(root, 0755);
    mkdir(sub, 0755);
    static uint8_t img[4 * 784];
    uint8_t lab[3] = {1, 2, 3};
    char ip[400], lp[400];
    snprintf(ip, sizeof ip, "%s/t10k-images-idx3-ubyte", sub);
    snprintf(lp, sizeof lp, "%s/t10k-labels-idx1-ubyte", sub);
    CHECK(idx_write(ip, 3, (uint32_t[]){4, 28, 28}, img) == 0);
    CHECK(idx_write(lp, 1, (uint32_t[]){3}, lab) == 0);
    dataset ds;
    char err[IDX_ERR_LEN];
    CHECK(data_load(root, "mnist", "test", &ds, err) == IDX_COUNT_MISMATCH);
    CHECK(ds.x == NULL && ds.n == 0);
    CHECK(contains(err, lp) && contains(err, "3 labels for the 4 images"));
    /* missing train files in the same root */
    CHECK(data_load(root, "mnist", "train", &ds, err) == IDX_NOT_FOUND);
    CHECK(contains(err, "train-images-idx3-ubyte: no such file"));
    CHECK(data_load(root, "cifar", "train", &ds, err) == IDX_BAD_NAME);
    CHECK(data_load(root, "mnist", "valid", &ds, err) == IDX_BAD_NAME);
    CHECK(contains(err, "valid: unknown split"));
}

/* The committed real slices. */
static void test_slices(void)
{
    const char *names[2] = {"mnist", "fashion-mnist"};
    const int first[2] = {5, 9};    /* the first training labels: a 5; an ankle boot */
    for (int k = 0; k < 2; k++) {
        dataset ds;
        char err[IDX_ERR_LEN];
        idx_status s = data_load("tests/data", names[k], "train", &ds, err);
        CHECK(s == IDX_OK);
        if (s) { printf("  %s\n", err); continue; }
        CHECK(ds.n == 100 && ds.d == 784 && ds.classes == 10);
        CHECK(ds.labels[0] == first[k]);
        float lo = 255, hi = 0;
        for (int i = 0; i < ds.n * ds.d; i++) {
            if (ds.x[i] < lo) lo = ds.x[i];
            if (ds.x[i] > hi) hi = ds.x[i];
        }
        CHECK(lo == 0.0f && hi == 255.0f);
        dataset_free(&ds);
        CHECK(ds.x == NULL);
        CHECK(data_load("tests/data", names[k], "test", &ds, err) == IDX_OK && ds.n == 100);
        dataset_free(&ds);
    }
    dataset_free(NULL);
    CHECK(strcmp(data_class_names("fashion-mnist")[9], "Ankle boot") == 0);
    CHECK(strcmp(data_class_names("mnist")[3], "3") == 0);
    CHECK(data_class_names("cifar") == NULL);
}

static void test_strerror(void)
{
    for (int i = 0; i < IDX_STATUS_COUNT; i++)
        for (int j = 0; j < i; j++) CHECK(strcmp(idx_strerror(i), idx_strerror(j)) != 0);
    CHECK(strcmp(idx_strerror(IDX_STATUS_COUNT), "unknown status") == 0);
    CHECK(strcmp(idx_strerror(IDX_GZIP), "still gzip-compressed") == 0);
}

int main(void)
{
    const char *b = getenv("BUILD");
    snprintf(dir, sizeof dir, "%s/tmp/test_idx", b && *b ? b : "build");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0) { printf("cannot make %s\n", dir); return 1; }
    test_good();
    test_bad();
    test_permission();
    test_not_regular();
    test_expect();
    test_count_mismatch();
    test_slices();
    test_strerror();
    return check_report("test_idx");
}
