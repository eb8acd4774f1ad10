/* image.c — the PGM reader and writer and MNIST's preprocessing (contracts
 * and the recipe in image.h). The PNG reader is image_png.c (libpng). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "image.h"

static const char *const status_names[IMAGE_STATUS_COUNT] = {
    [IMAGE_OK] = "ok", [IMAGE_UNREADABLE] = "unreadable", [IMAGE_NOT_IMAGE] = "not an image",
    [IMAGE_BAD_HEADER] = "bad header", [IMAGE_TRUNCATED] = "truncated", [IMAGE_EMPTY] = "empty",
    [IMAGE_TOO_LARGE] = "too large", [IMAGE_CORRUPT] = "corrupt", [IMAGE_NO_INK] = "no ink",
    [IMAGE_NO_MEMORY] = "out of memory",
};

const char *image_strerror(image_status s)
{
    return (s >= 0 && s < IMAGE_STATUS_COUNT && status_names[s]) ? status_names[s] : "?";
}

void image_free(image *im)
{
    if (!im) return;
    free(im->px);
    memset(im, 0, sizeof *im);
}

/* Writes "name: message" into err (when not NULL) and returns s. */
static image_status fail(image_status s, char *err, const char *name, const char *fmt, ...)
{
    if (!err) return s;
    int n = snprintf(err, IMAGE_ERR_LEN, "%s: ", name);
    if (n < 0 || n >= IMAGE_ERR_LEN) return s;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, IMAGE_ERR_LEN - (size_t)n, fmt, ap);
    va_end(ap);
    return s;
}

/* ------------------------------------------------------------ PGM */

/* Skips whitespace and '#' comments (to the end of the line). */
static size_t skip_space(const unsigned char *b, size_t len, size_t i)
{
    while (i < len) {
        if (b[i] == '#') { while (i < len && b[i] != '\n' && b[i] != '\r') i++; }
        else if (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r' || b[i] == '\v' || b[i] == '\f') i++;
        else break;
    }
    return i;
}

/* A decimal number at b[*i] (after whitespace); −1 if there is none, −2 if
 * it exceeds `max`. */
static long read_number(const unsigned char *b, size_t len, size_t *i, long max)
{
    size_t j = skip_space(b, len, *i);
    if (j >= len || b[j] < '0' || b[j] > '9') { *i = j; return -1; }
    long v = 0;
    while (j < len && b[j] >= '0' && b[j] <= '9') {
        v = v * 10 + (b[j] - '0');
        if (v > max) { *i = j; return -2; }
        j++;
    }
    *i = j;
    return v;
}

image_status image_read_pgm(const unsigned char *b, size_t len, const char *name, image *out, char *err)
{
    memset(out, 0, sizeof *out);
    if (len < 2 || b[0] != 'P' || (b[1] != '2' && b[1] != '5'))
        return fail(IMAGE_NOT_IMAGE, err, name, "not a PGM image (no P2/P5 magic)");
    int raw = b[1] == '5';
    size_t i = 2;
    static const char *const what[3] = {"width", "height", "maxval"};
    long v[3];
    for (int k = 0; k < 3; k++) {
        v[k] = read_number(b, len, &i, k < 2 ? 1L << 30 : 65535);
        if (v[k] == -1) return fail(i >= len ? IMAGE_TRUNCATED : IMAGE_BAD_HEADER, err, name,
                                    "PGM header: %s %s", what[k], i >= len ? "missing (file ends)" : "is not a number");
        if (v[k] == -2) return fail(k < 2 ? IMAGE_TOO_LARGE : IMAGE_BAD_HEADER, err, name,
                                    "PGM header: %s is too large", what[k]);
    }
    long w = v[0], h = v[1], maxval = v[2];
    if (w == 0 || h == 0) return fail(IMAGE_EMPTY, err, name, "%ld × %ld pixels: an empty image", w, h);
    if (maxval == 0) return fail(IMAGE_BAD_HEADER, err, name, "PGM header: maxval is 0");
    if (w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE || w * h > IMAGE_MAX_PIXELS)
        return fail(IMAGE_TOO_LARGE, err, name, "%ld × %ld pixels: too large (at most %d per side and %ld in all)",
                    w, h, IMAGE_MAX_SIDE, IMAGE_MAX_PIXELS);
    size_t n = (size_t)w * (size_t)h, bytes = maxval > 255 ? 2 : 1;
    if (raw) {   /* exactly one whitespace byte after maxval, then the samples */
        if (i >= len || !(b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'))
            return fail(i >= len ? IMAGE_TRUNCATED : IMAGE_BAD_HEADER, err, name,
                        "PGM header: no whitespace after maxval");
        i++;
        if (len - i < n * bytes)
            return fail(IMAGE_TRUNCATED, err, name, "truncated: %zu of %zu pixel bytes", len - i, n * bytes);
    }
    uint8_t *px = malloc(n);
    if (!px) return fail(IMAGE_NO_MEMORY, err, name, "out of memory for %ld × %ld pixels", w, h);
    for (size_t p = 0; p < n; p++) {
        long s;
        if (raw) s = bytes == 2 ? (long)b[i + 2 * p] << 8 | b[i + 2 * p + 1] : b[i + p];
        else {
            s = read_number(b, len, &i, 65535);
            if (s == -1) {
                free(px);
                return i >= len ? fail(IMAGE_TRUNCATED, err, name, "truncated: %zu of %zu pixels", p, n)
                                : fail(IMAGE_CORRUPT, err, name, "pixel %zu is not a number", p);
            }
        }
        if (s > maxval || s < 0) {
            free(px);
            return fail(IMAGE_CORRUPT, err, name, "pixel %zu is %ld, above maxval %ld", p, s, maxval);
        }
        px[p] = (uint8_t)((s * 255 + maxval / 2) / maxval);    /* round(s · 255 / maxval) */
    }
    out->w = (int)w;
    out->h = (int)h;
    out->px = px;
    return IMAGE_OK;
}

int image_write_pgm(const char *path, const uint8_t *px, int w, int h, char *err)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
        fail(IMAGE_UNREADABLE, err, path, "path too long");
        return -1;
    }
    FILE *f = fopen(tmp, "wb");
    if (!f) { fail(IMAGE_UNREADABLE, err, tmp, "cannot write (%s)", strerror(errno)); return -1; }
    int ok = fprintf(f, "P5\n%d %d\n255\n", w, h) > 0 && fwrite(px, 1, (size_t)w * h, f) == (size_t)w * h;
    if (fclose(f) != 0) ok = 0;
    if (!ok) { fail(IMAGE_UNREADABLE, err, tmp, "write error"); remove(tmp); return -1; }
    if (rename(tmp, path) != 0) {
        fail(IMAGE_UNREADABLE, err, path, "cannot rename %s into place (%s)", tmp, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ MNIST's recipe */

/* Steps 2 and 3: lut[v] is the ink of grey v (0 paper … 255 the darkest
 * ink, background level removed); box its bounding box. 0 when there is
 * no ink. One pass for the histograms, one for the box: no copy. */
static int ink_box(const image *im, float lut[256], int box[4])
{
    int w = im->w, h = im->h;
    long hist[256] = {0}, all[256] = {0}, nb = 0, half = 0;   /* the border's median: ink touching it is ignored */
    for (int x = 0; x < w; x++) { hist[im->px[x]]++; hist[im->px[(size_t)(h - 1) * w + x]]++; nb += 2; }
    for (int y = 0; y < h; y++) { hist[im->px[(size_t)y * w]]++; hist[im->px[(size_t)y * w + w - 1]]++; nb += 2; }
    int border = 0;
    while (border < 255 && (half += hist[border]) * 2 < nb) border++;
    int light = border > 127;                           /* paper lighter than mid-grey: invert */
    int bg = light ? 255 - border : border;
    for (size_t i = 0; i < (size_t)w * h; i++) all[im->px[i]]++;
    int mx = 0;                                         /* the darkest ink becomes 255 */
    for (int v = 0; v < 256; v++) {
        int ink = (light ? 255 - v : v) - bg;
        if (all[v] && ink > mx) mx = ink;
    }
    if (mx == 0) return 0;
    for (int v = 0; v < 256; v++) {
        int ink = (light ? 255 - v : v) - bg;
        lut[v] = ink > 0 ? (float)ink * 255.0f / (float)mx : 0.0f;
    }
    box[0] = w; box[1] = h; box[2] = -1; box[3] = -1;   /* x0, y0, x1, y1 (inclusive) */
    for (int y = 0; y < h; y++) {
        const uint8_t *row = im->px + (size_t)y * w;
        int first = -1, last = -1;
        for (int x = 0; x < w; x++) if (lut[row[x]] > 0) { if (first < 0) first = x; last = x; }
        if (first < 0) continue;
        if (first < box[0]) box[0] = first;
        if (last > box[2]) box[2] = last;
        if (y < box[1]) box[1] = y;
        box[3] = y;
    }
    return 1;
}

/* Area weights of a 1-D resize: source pixel i (0 … n−1) covers [i, i+1);
 * output pixel o covers [o/s, (o+1)/s) of the source. Adds into out[o]
 * (m outputs) the overlap-weighted values of src (stride `stride`), or of
 * lut[grey[…]] when src is NULL. */
static void resize_line(float *out, int m, const float *src, const uint8_t *grey, const float *lut,
                        int n, size_t stride, double s)
{
    for (int o = 0; o < m; o++) {
        double a = o / s, b = (o + 1) / s, sum = 0;
        int i0 = (int)floor(a), i1 = (int)ceil(b);
        if (i1 > n) i1 = n;
        for (int i = i0 < 0 ? 0 : i0; i < i1; i++) {
            double lo = i > a ? i : a, hi = i + 1 < b ? i + 1 : b;
            float v = src ? src[(size_t)i * stride] : lut[grey[(size_t)i * stride]];
            if (hi > lo) sum += (hi - lo) * v;
        }
        out[o] = (float)(sum * s);          /* mean over the covered length 1/s */
    }
}

image_status image_to_mnist(const image *im, const char *name, uint8_t *out, char *err)
{
    int box[4];
    float lut[256];
    if (!ink_box(im, lut, box))
        return fail(IMAGE_NO_INK, err, name, "no ink: the image is one flat colour (no digit to crop)");
    int bw = box[2] - box[0] + 1, bh = box[3] - box[1] + 1, L = bw > bh ? bw : bh;
    double s = (double)MNIST_BOX / L;                    /* step 4: the longer side to 20 px */
    int ow = (int)ceil(bw * s - 1e-9), oh = (int)ceil(bh * s - 1e-9);
    if (ow < 1) ow = 1;
    if (oh < 1) oh = 1;
    float *rows = malloc((size_t)bh * ow * sizeof *rows);   /* (bh, ow): columns resized */
    float small[MNIST_BOX * MNIST_BOX], col[MNIST_BOX];
    if (!rows) return fail(IMAGE_NO_MEMORY, err, name, "out of memory");
    const uint8_t *crop = im->px + (size_t)box[1] * im->w + box[0];
    for (int y = 0; y < bh; y++) resize_line(rows + (size_t)y * ow, ow, NULL, crop + (size_t)y * im->w, lut, bw, 1, s);
    for (int x = 0; x < ow; x++) {
        resize_line(col, oh, rows + x, NULL, NULL, bh, (size_t)ow, s);
        for (int y = 0; y < oh; y++) small[y * ow + x] = col[y];
    }
    free(rows);
    /* step 5: the centre of mass of the scaled digit, moved to (14, 14) */
    double m = 0, cx = 0, cy = 0;
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) { double v = small[y * ow + x]; m += v; cx += v * x; cy += v * y; }
    cx /= m; cy /= m;
    int dx = (int)floor(MNIST_COM - cx + 0.5), dy = (int)floor(MNIST_COM - cy + 0.5);
    memset(out, 0, MNIST_SIDE * MNIST_SIDE);
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            int X = x + dx, Y = y + dy;
            if (X < 0 || Y < 0 || X >= MNIST_SIDE || Y >= MNIST_SIDE) continue;   /* MNIST clipped too */
            long v = lround(small[y * ow + x]);
            out[Y * MNIST_SIDE + X] = (uint8_t)(v > 255 ? 255 : v);
        }
    return IMAGE_OK;
}
