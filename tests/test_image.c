/* test_image.c — models/image.h: the PGM and PNG readers (every kind of
 * good and bad file, each with its status and message), and MNIST's
 * preprocessing: MNIST digits come back unchanged, hand-made digits of
 * several sizes and places land centred in a 20-px box, light and dark
 * paper give the same digit. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "data.h"
#include "digits.h"
#include "image.h"

/* Reads buf with `rd`; checks the status and that err holds `want`. */
static void expect(image_status (*rd)(const unsigned char *, size_t, const char *, image *, char *),
                   const void *buf, size_t len, image_status st, const char *want)
{
    image im;
    char err[IMAGE_ERR_LEN] = "";
    image_status s = rd(buf, len, "t.img", &im, err);
    CHECK(s == st);
    CHECK(strncmp(err, "t.img: ", 7) == 0 && strstr(err, want) != NULL);
    if (s != st || !strstr(err, want)) printf("  status %s, message '%s', want '%s'\n", image_strerror(s), err, want);
    CHECK(im.px == NULL && im.w == 0);
}

static void test_pgm(void)
{
    image im;
    char err[IMAGE_ERR_LEN];
    const char p2[] = "P2\n# comment\n3 2\n# another\n4\n0 1 2\n3 4 0\n";
    CHECK(image_read_pgm((const unsigned char *)p2, sizeof p2 - 1, "a", &im, err) == IMAGE_OK);
    CHECK(im.w == 3 && im.h == 2 && im.px[0] == 0 && im.px[1] == 64 && im.px[2] == 128 && im.px[4] == 255);
    image_free(&im);
    image_free(&im);
    image_free(NULL);
    unsigned char p5[11 + 4] = "P5 2 2 255\n";
    memcpy(p5 + 11, "\x00\x10\x80\xff", 4);
    CHECK(image_read_pgm(p5, sizeof p5, "a", &im, err) == IMAGE_OK);
    CHECK(im.w == 2 && im.px[1] == 0x10 && im.px[3] == 0xff);
    image_free(&im);
    unsigned char p16[13 + 4] = "P5 2 1 65535\n";
    memcpy(p16 + 13, "\xff\xff\x80\x00", 4);                 /* big-endian: 65535, 32768 */
    CHECK(image_read_pgm(p16, sizeof p16, "a", &im, err) == IMAGE_OK);
    CHECK(im.px[0] == 255 && im.px[1] == 128);
    image_free(&im);

    expect(image_read_pgm, "GIF89a", 6, IMAGE_NOT_IMAGE, "not a PGM");
    expect(image_read_pgm, "P5 28", 5, IMAGE_TRUNCATED, "height missing");
    expect(image_read_pgm, "P5 28 x 255\n", 12, IMAGE_BAD_HEADER, "height is not a number");
    expect(image_read_pgm, "P5 0 0 255\n", 11, IMAGE_EMPTY, "0 × 0 pixels: an empty image");
    expect(image_read_pgm, "P5 100000 100000 255\n", 21, IMAGE_TOO_LARGE, "100000 × 100000 pixels: too large");
    expect(image_read_pgm, "P5 99999999999 1 255\n", 21, IMAGE_TOO_LARGE, "width is too large");
    expect(image_read_pgm, "P5 2 2 255\n\x01\x02", 13, IMAGE_TRUNCATED, "truncated: 2 of 4 pixel bytes");
    expect(image_read_pgm, "P2 2 2 255\n1 2 3", 16, IMAGE_TRUNCATED, "truncated: 3 of 4 pixels");
    expect(image_read_pgm, "P2 2 1 9\n1 10\n", 14, IMAGE_CORRUPT, "pixel 1 is 10, above maxval 9");
    expect(image_read_pgm, "P2 2 1 9\n1 x\n", 13, IMAGE_CORRUPT, "pixel 1 is not a number");
    expect(image_read_pgm, "P5 2 1 0\n", 9, IMAGE_BAD_HEADER, "maxval is 0");
    expect(image_read_pgm, "P5 2 1 70000\n", 13, IMAGE_BAD_HEADER, "maxval is too large");
}

/* ---- PNG */

static void test_png(void)
{
    uint8_t px[40 * 30];
    hand_digit(px, 40, 30, 7, 10, 3, 24);
    for (int i = 0; i < 40; i++) px[i] = (uint8_t)(i * 6);    /* some greys on the first row */
    for (int k = 0; k < PNG_KINDS; k++) {
        size_t len;
        unsigned char *b = png_encode(px, 40, 30, k, &len);
        CHECK(b != NULL);
        if (!b) continue;
        image im;
        char err[IMAGE_ERR_LEN];
        CHECK(image_read_png(b, len, "k.png", &im, err) == IMAGE_OK);
        int worst = 0;
        for (int i = 0; im.px && i < 40 * 30; i++) {
            int d = abs((int)im.px[i] - px[i]);
            if (d > worst) worst = d;
        }
        /* each kind converted to the same grey; 16-bit linear light comes back
         * through libpng's sRGB table, which rounds near-black greys (≤ 19)
         * by up to 8 levels */
        CHECK(im.w == 40 && im.h == 30 && worst <= (k == PNG_GREY16 ? 8 : 1));
        if (worst > (k == PNG_GREY16 ? 8 : 1)) printf("  %s: largest difference %d\n", png_kind_names[k], worst);
        image_free(&im);
        /* cut short: truncated (libpng names the problem) */
        expect(image_read_png, b, len / 2, IMAGE_TRUNCATED, "a truncated PNG");
        b[len / 2] ^= 0x55;                                 /* a flipped byte: corrupt */
        image_status s = image_read_png(b, len, "k.png", &im, err);
        CHECK(s == IMAGE_CORRUPT || s == IMAGE_TRUNCATED);
        CHECK(strncmp(err, "k.png: a ", 9) == 0);
        image_free(&im);
        free(b);
    }
    unsigned char h[64];
    size_t n = png_header_only(h, 100000, 100000);
    expect(image_read_png, h, n, IMAGE_TOO_LARGE, "too large: 100000 × 100000 pixels");
    n = png_header_only(h, 0, 0);
    expect(image_read_png, h, n, IMAGE_EMPTY, "an empty (0-pixel) PNG");
    expect(image_read_png, "P5 1 1 255\n\x00", 12, IMAGE_NOT_IMAGE, "not a PNG");
    expect(image_read_png, "\x89PNG", 4, IMAGE_NOT_IMAGE, "not a PNG");
}

/* ---- MNIST's recipe */

static image wrap(uint8_t *px, int w, int h) { image im = {w, h, px}; return im; }

static void test_mnist_roundtrip(void)
{
    dataset te;
    char e[IDX_ERR_LEN];
    CHECK(data_load("tests/data", "mnist", "test", &te, e) == 0);
    int same = 0, boxed = 0;
    for (int i = 0; i < te.n; i++) {
        uint8_t d[784], out[784], page[784];
        for (int p = 0; p < 784; p++) { d[p] = (uint8_t)te.x[(size_t)i * 784 + p]; page[p] = (uint8_t)(255 - d[p]); }
        int bw, bh;
        digit_box(d, &bw, &bh);
        image im = wrap(page, 28, 28);                   /* as a scan would be: black on white */
        char err[IMAGE_ERR_LEN];
        CHECK(image_to_mnist(&im, "m", out, err) == IMAGE_OK);
        double cx, cy;
        digit_com(out, &cx, &cy);
        CHECK(fabs(cx - 14) <= 0.5 + 1e-9 && fabs(cy - 14) <= 0.5 + 1e-9);
        int ow, oh;
        digit_box(out, &ow, &oh);
        CHECK((ow > oh ? ow : oh) == 20);
        if ((bw > bh ? bw : bh) == 20) {                 /* MNIST's own 20-px box: unchanged */
            boxed++;
            int mx = 0;                                  /* (but for the ink stretched to 255) */
            for (int p = 0; p < 784; p++) if (d[p] > mx) mx = d[p];
            for (int p = 0; p < 784; p++) d[p] = (uint8_t)lround(d[p] * 255.0f / mx);
            int eq = memcmp(out, d, 784) == 0;
            if (!eq) {
                double ax, ay;
                digit_com(d, &ax, &ay);
                printf("  MNIST test digit %d changed: its centre of mass (%.3f, %.3f)\n", i, ax, ay);
            }
            same += eq;
            CHECK(eq);
        }
    }
    printf("  MNIST test slice: %d of %d digits have a 20-px box; %d of those come back unchanged\n",
           boxed, te.n, same);
    CHECK(boxed >= te.n / 2);
    dataset_free(&te);
}

static void test_hand_digits(void)
{
    static const int sizes[4] = {40, 120, 400, 1000};
    static const int digits[3] = {1, 7, 0};
    for (int si = 0; si < 4; si++)
        for (int di = 0; di < 3; di++) {
            int W = sizes[si] * 3 / 2, H = sizes[si];
            uint8_t *px = malloc((size_t)W * H), out[784], out2[784];
            double s = 0.6 * H;                          /* off-centre: top left quarter */
            hand_digit(px, W, H, digits[di], 0.1 * W, 0.1 * H, s);
            image im = wrap(px, W, H);
            char err[IMAGE_ERR_LEN];
            CHECK(image_to_mnist(&im, "hand", out, err) == IMAGE_OK);
            double cx, cy;
            digit_com(out, &cx, &cy);
            CHECK(fabs(cx - 14) <= 1 && fabs(cy - 14) <= 1);   /* centred ± 1 px */
            if (!(fabs(cx - 14) <= 1 && fabs(cy - 14) <= 1)) printf("  digit %d at %d px: com (%.2f, %.2f)\n", digits[di], H, cx, cy);
            int bw, bh, mx = 0;
            digit_box(out, &bw, &bh);
            for (int i = 0; i < 784; i++) if (out[i] > mx) mx = out[i];
            CHECK(bh == 20 && bw <= 20 && mx == 255);          /* taller than wide: height 20 */
            if (bh != 20) printf("  digit %d at %d px: box %d × %d\n", digits[di], H, bw, bh);
            /* white ink on black paper is the same digit */
            for (size_t i = 0; i < (size_t)W * H; i++) px[i] = (uint8_t)(255 - px[i]);
            CHECK(image_to_mnist(&im, "hand", out2, err) == IMAGE_OK && memcmp(out, out2, 784) == 0);
            /* grey paper (200) and grey ink (40): the same digit within rounding */
            for (size_t i = 0; i < (size_t)W * H; i++) px[i] = px[i] ? 40 : 200;
            CHECK(image_to_mnist(&im, "hand", out2, err) == IMAGE_OK);
            int worst = 0;
            for (int i = 0; i < 784; i++) { int d = abs(out[i] - out2[i]); if (d > worst) worst = d; }
            CHECK(worst <= 1);
            free(px);
        }
    /* a thin bar keeps its aspect ratio: 10 × 100 → 2 × 20 */
    uint8_t bar[200 * 200];
    memset(bar, 255, sizeof bar);
    for (int y = 50; y < 150; y++) for (int x = 30; x < 40; x++) bar[y * 200 + x] = 0;
    image im = wrap(bar, 200, 200);
    uint8_t out[784];
    char err[IMAGE_ERR_LEN];
    CHECK(image_to_mnist(&im, "bar", out, err) == IMAGE_OK);
    int bw, bh;
    digit_box(out, &bw, &bh);
    CHECK(bw == 2 && bh == 20);
    /* blank pages have no digit */
    memset(bar, 255, sizeof bar);
    CHECK(image_to_mnist(&im, "blank.png", out, err) == IMAGE_NO_INK && strstr(err, "blank.png: no ink") == err);
    memset(bar, 0, sizeof bar);
    CHECK(image_to_mnist(&im, "black.png", out, err) == IMAGE_NO_INK);
    uint8_t one = 0;
    im = wrap(&one, 1, 1);
    CHECK(image_to_mnist(&im, "dot", out, err) == IMAGE_NO_INK);
}

static void test_write(void)
{
    uint8_t d[784];
    for (int i = 0; i < 784; i++) d[i] = (uint8_t)i;
    char err[IMAGE_ERR_LEN];
    const char *path = "build/tests/test_image_show.pgm";
    CHECK(image_write_pgm(path, d, 28, 28, err) == 0);
    image im;
    CHECK(image_load(path, &im, err) == IMAGE_OK && im.w == 28 && memcmp(im.px, d, 784) == 0);
    image_free(&im);
    FILE *f = fopen("build/tests/test_image_show.pgm.tmp", "rb");
    CHECK(f == NULL);                                    /* renamed into place */
    if (f) fclose(f);
    remove(path);
    CHECK(image_write_pgm("build/no/such/dir/x.pgm", d, 28, 28, err) == -1 && strstr(err, "cannot write"));
    CHECK(image_load("build/no/such.png", &im, err) == IMAGE_UNREADABLE && strstr(err, "build/no/such.png: cannot open"));
}

int main(void)
{
    test_pgm();
    test_png();
    test_mnist_roundtrip();
    test_hand_digits();
    test_write();
    return check_report("test_image");
}
