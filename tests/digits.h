/* digits.h — making test images for test_image.c and test_predict.c:
 * hand-made digits (thick strokes on white paper), MNIST digits blown up
 * and placed off-centre, and writers for PGM (P2, P5) and PNG in each kind
 * predict reads (grey 8 and 16 bits, palette, alpha, RGB; libpng's
 * simplified write API). Also the centre of mass and the ink box of a
 * 28 × 28 digit, to check where the preprocessing put it.
 */
#ifndef CHAINRULE_TEST_DIGITS_H
#define CHAINRULE_TEST_DIGITS_H

#include <math.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PNG_GREY8, PNG_GREY16, PNG_PALETTE, PNG_ALPHA, PNG_RGB, PNG_KINDS };
static const char *const png_kind_names[PNG_KINDS] = {"grey8", "grey16", "palette", "alpha", "rgb"};

/* w × h grey pixels (0 black … 255 white) as a PNG of the given kind, into
 * a malloc'd buffer (*len bytes); NULL on failure. The alpha kind draws
 * black ink whose opacity is the darkness, on transparent paper; the
 * 16-bit kind stores the linear light of each sRGB value. */
static unsigned char *png_encode(const uint8_t *px, int w, int h, int kind, size_t *len)
{
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    im.width = (png_uint_32)w;
    im.height = (png_uint_32)h;
    size_t n = (size_t)w * h;
    void *buf = NULL;
    uint8_t cmap[256 * 3];
    int ch = 1;
    if (kind == PNG_GREY8) { im.format = PNG_FORMAT_GRAY; buf = malloc(n); if (buf) memcpy(buf, px, n); }
    else if (kind == PNG_GREY16) {
        im.format = PNG_FORMAT_LINEAR_Y;
        uint16_t *b = malloc(n * 2);
        for (size_t i = 0; b && i < n; i++) {
            double l = pow(px[i] / 255.0, 2.2);   /* libpng: sRGB as gamma 1/2.2 */
            b[i] = (uint16_t)lround(l * 65535);
        }
        buf = b;
    } else if (kind == PNG_PALETTE) {
        im.format = PNG_FORMAT_RGB_COLORMAP;
        im.colormap_entries = 256;
        for (int i = 0; i < 256; i++) cmap[3 * i] = cmap[3 * i + 1] = cmap[3 * i + 2] = (uint8_t)i;
        buf = malloc(n);
        if (buf) memcpy(buf, px, n);
    } else if (kind == PNG_ALPHA) {
        im.format = PNG_FORMAT_GA;
        ch = 2;
        uint8_t *b = malloc(n * 2);
        for (size_t i = 0; b && i < n; i++) { b[2 * i] = 0; b[2 * i + 1] = (uint8_t)(255 - px[i]); }
        buf = b;
    } else {
        im.format = PNG_FORMAT_RGB;
        ch = 3;
        uint8_t *b = malloc(n * 3);
        for (size_t i = 0; b && i < n; i++) b[3 * i] = b[3 * i + 1] = b[3 * i + 2] = px[i];
        buf = b;
    }
    if (!buf) return NULL;
    int stride = kind == PNG_PALETTE ? w : w * ch;
    png_alloc_size_t size = 0;
    const void *cm = kind == PNG_PALETTE ? cmap : NULL;
    unsigned char *out = NULL;
    if (png_image_write_to_memory(&im, NULL, &size, 0, buf, stride, cm) && (out = malloc(size)) &&
        !png_image_write_to_memory(&im, out, &size, 0, buf, stride, cm)) { free(out); out = NULL; }
    free(buf);
    *len = size;
    return out;
}

static inline int file_put(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(data, 1, len, f) == len;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

static inline int png_write(const char *path, const uint8_t *px, int w, int h, int kind)
{
    size_t len;
    unsigned char *b = png_encode(px, w, h, kind, &len);
    int rc = b ? file_put(path, b, len) : -1;
    free(b);
    return rc;
}

/* A PGM, plain (P2, with a comment) or raw (P5). */
static inline int pgm_write(const char *path, const uint8_t *px, int w, int h, int plain)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    if (plain) {
        fprintf(f, "P2\n# a test digit\n%d %d\n255\n", w, h);
        for (int i = 0; i < w * h; i++) fprintf(f, "%d%c", px[i], (i + 1) % w ? ' ' : '\n');
    } else {
        fprintf(f, "P5\n%d %d\n255\n", w, h);
        fwrite(px, 1, (size_t)w * h, f);
    }
    return fclose(f);
}

/* Paints black every pixel within r of the segment (x0, y0)–(x1, y1). */
static inline void stroke(uint8_t *px, int w, int h, double x0, double y0, double x1, double y1, double r)
{
    double dx = x1 - x0, dy = y1 - y0, L2 = dx * dx + dy * dy;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double t = L2 > 0 ? ((x - x0) * dx + (y - y0) * dy) / L2 : 0;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            double ex = x - (x0 + t * dx), ey = y - (y0 + t * dy);
            if (ex * ex + ey * ey <= r * r) px[(size_t)y * w + x] = 0;
        }
}

/* A hand-made digit on a w × h white page: `digit` 1, 7 or 0, drawn in a
 * box of height s at (ox, oy) (top left) with strokes s/7 thick. */
static inline void hand_digit(uint8_t *px, int w, int h, int digit, double ox, double oy, double s)
{
    memset(px, 255, (size_t)w * h);
    double r = s / 14, W = 0.6 * s;
    if (digit == 1) stroke(px, w, h, ox + W / 2, oy, ox + W / 2, oy + s, r);
    else if (digit == 7) {
        stroke(px, w, h, ox, oy, ox + W, oy, r);
        stroke(px, w, h, ox + W, oy, ox + W / 3, oy + s, r);
    } else {
        for (int k = 0; k < 64; k++) {       /* an ellipse from 64 segments */
            double a = 2 * 3.14159265358979323846 * k / 64, b = 2 * 3.14159265358979323846 * (k + 1) / 64;
            stroke(px, w, h, ox + W / 2 + W / 2 * cos(a), oy + s / 2 + s / 2 * sin(a),
                   ox + W / 2 + W / 2 * cos(b), oy + s / 2 + s / 2 * sin(b), r);
        }
    }
}

/* An MNIST digit (0 paper … 255 ink) blown up k times (each pixel a k × k
 * block), black on a white w × h page at (ox, oy). */
static inline void blow_up(uint8_t *px, int w, int h, const uint8_t *digit, int k, int ox, int oy)
{
    memset(px, 255, (size_t)w * h);
    for (int y = 0; y < 28 * k; y++)
        for (int x = 0; x < 28 * k; x++)
            if (oy + y < h && ox + x < w) px[(size_t)(oy + y) * w + ox + x] = (uint8_t)(255 - digit[(y / k) * 28 + x / k]);
}

/* Centre of mass (x, y) of a 28 × 28 digit. */
static inline void digit_com(const uint8_t *d, double *cx, double *cy)
{
    double m = 0, x = 0, y = 0;
    for (int i = 0; i < 784; i++) { m += d[i]; x += (double)d[i] * (i % 28); y += (double)d[i] * (i / 28); }
    *cx = m > 0 ? x / m : NAN;
    *cy = m > 0 ? y / m : NAN;
}

/* Width and height of the ink's bounding box. */
static inline void digit_box(const uint8_t *d, int *bw, int *bh)
{
    int x0 = 28, y0 = 28, x1 = -1, y1 = -1;
    for (int i = 0; i < 784; i++)
        if (d[i]) {
            int x = i % 28, y = i / 28;
            if (x < x0) x0 = x;
            if (x > x1) x1 = x;
            if (y < y0) y0 = y;
            if (y > y1) y1 = y;
        }
    *bw = x1 - x0 + 1;
    *bh = y1 - y0 + 1;
}

static inline uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xffffffffu;
}

static inline void be32(unsigned char *p, uint32_t v) { p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16); p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v; }

/* A PNG signature and an IHDR chunk of w × h, 8-bit grey: no pixels. */
static inline size_t png_header_only(unsigned char *b, uint32_t w, uint32_t h)
{
    memcpy(b, "\x89PNG\r\n\x1a\n", 8);
    be32(b + 8, 13);
    memcpy(b + 12, "IHDR", 4);
    be32(b + 16, w);
    be32(b + 20, h);
    memcpy(b + 24, "\x08\x00\x00\x00\x00", 5);
    be32(b + 29, crc32_of(b + 12, 17));
    return 33;
}

#endif
