/* fuzz_image.c — libFuzzer target for the image readers (models/image.h).
 * Each input is read from memory as a PGM and as a PNG (libpng's in-memory
 * read); a reader either refuses it with a status and a message naming
 * the input, or returns a sane image, which then goes through MNIST's
 * preprocessing; the digit it gives must have its ink within a 20-px box.
 * Anything else aborts, which libFuzzer reports. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "image.h"

static void check(image_status s, const image *im, const char *err)
{
    if (s != IMAGE_OK) {
        if (s >= IMAGE_STATUS_COUNT || strncmp(err, "in: ", 4) != 0 || im->px) abort();
        return;
    }
    if (im->w < 1 || im->h < 1 || (long)im->w * im->h > IMAGE_MAX_PIXELS || !im->px) abort();
    uint8_t d[MNIST_SIDE * MNIST_SIDE];
    char e[IMAGE_ERR_LEN];
    image_status t = image_to_mnist(im, "in", d, e);
    if (t == IMAGE_NO_INK) return;
    if (t != IMAGE_OK) abort();
    double m = 0;
    int x0 = 28, x1 = -1, y0 = 28, y1 = -1;
    for (int i = 0; i < 784; i++) {
        if (!d[i]) continue;
        int x = i % 28, y = i / 28;
        m += d[i];
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
    }
    if (m == 0) return;                      /* ink too faint to survive rounding */
    if (x1 - x0 + 1 > MNIST_BOX || y1 - y0 + 1 > MNIST_BOX) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    image im;
    char err[IMAGE_ERR_LEN] = "";
    check(image_read_pgm(data, size, "in", &im, err), &im, err);
    image_free(&im);
    err[0] = '\0';
    check(image_read_png(data, size, "in", &im, err), &im, err);
    image_free(&im);
    return 0;
}
