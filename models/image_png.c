/* image_png.c — the PNG reader (libpng's simplified API, from memory) and
 * image_load, which reads a file and picks PGM or PNG by its magic.
 * Contracts in image.h. This file alone needs libpng: the Makefile keeps
 * it out of libmodels.a and links it, with -lpng, only where it is used.
 */
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "image.h"

#define MAX_FILE (1L << 30)      /* bytes read at most: more is refused as too large */

static image_status fail(image_status s, char *err, const char *name, const char *msg, const char *detail)
{
    if (!err) return s;
    size_t n = (size_t)snprintf(err, IMAGE_ERR_LEN, "%s: %s", name, msg);
    if (detail && n + 2 < IMAGE_ERR_LEN) {
        memcpy(err + n, ": ", 3);
        n += 2;
        strncat(err + n, detail, IMAGE_ERR_LEN - n - 1);
    }
    return s;
}

image_status image_read_png(const unsigned char *buf, size_t len, const char *name, image *out, char *err)
{
    memset(out, 0, sizeof *out);
    if (len < 8 || png_sig_cmp(buf, 0, 8) != 0) return fail(IMAGE_NOT_IMAGE, err, name, "not a PNG image", NULL);
    /* the size, from IHDR (the first chunk), before libpng allocates anything */
    if (len >= 24 && memcmp(buf + 12, "IHDR", 4) == 0) {
        long w = (long)buf[16] << 24 | (long)buf[17] << 16 | buf[18] << 8 | buf[19];
        long h = (long)buf[20] << 24 | (long)buf[21] << 16 | buf[22] << 8 | buf[23];
        if (w == 0 || h == 0) return fail(IMAGE_EMPTY, err, name, "an empty (0-pixel) PNG", NULL);
        if (w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE || w * h > IMAGE_MAX_PIXELS) {
            char d[96];
            snprintf(d, sizeof d, "%ld × %ld pixels (at most %d per side and %ld in all)", w, h, IMAGE_MAX_SIDE, IMAGE_MAX_PIXELS);
            return fail(IMAGE_TOO_LARGE, err, name, "too large", d);
        }
    }
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&im, buf, len)) {
        /* libpng names the problem; a cut-off file is its own status */
        int cut = strstr(im.message, "EOF") || strstr(im.message, "truncat") || strstr(im.message, "Not enough") ||
                  strstr(im.message, "beyond end");
        int zero = strstr(im.message, "width is zero") || strstr(im.message, "height is zero");
        image_status s = zero ? IMAGE_EMPTY : cut ? IMAGE_TRUNCATED : IMAGE_CORRUPT;
        char msg[96];
        snprintf(msg, sizeof msg, "%s PNG", zero ? "an empty (0-pixel)" : cut ? "a truncated" : "a corrupt");
        png_image_free(&im);
        return fail(s, err, name, msg, im.message);
    }
    long w = (long)im.width, h = (long)im.height;
    if (w == 0 || h == 0) { png_image_free(&im); return fail(IMAGE_EMPTY, err, name, "an empty (0-pixel) PNG", NULL); }
    if (w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE || w * h > IMAGE_MAX_PIXELS) {
        png_image_free(&im);
        char d[96];
        snprintf(d, sizeof d, "%ld × %ld pixels (at most %d per side and %ld in all)", w, h, IMAGE_MAX_SIDE, IMAGE_MAX_PIXELS);
        return fail(IMAGE_TOO_LARGE, err, name, "too large", d);
    }
    /* grey + alpha, 8 bits, sRGB-encoded: libpng converts colour, palette
     * and 16-bit samples itself; the alpha is composited over white below */
    im.format = PNG_FORMAT_GA;
    uint8_t *ga = malloc((size_t)w * h * 2), *px = malloc((size_t)w * h);
    if (!ga || !px) {
        free(ga); free(px); png_image_free(&im);
        return fail(IMAGE_NO_MEMORY, err, name, "out of memory", NULL);
    }
    if (!png_image_finish_read(&im, NULL, ga, 0, NULL)) {
        int cut = strstr(im.message, "EOF") || strstr(im.message, "truncat") || strstr(im.message, "Not enough") ||
                  strstr(im.message, "beyond end");
        image_status s = cut ? IMAGE_TRUNCATED : IMAGE_CORRUPT;
        char msg[sizeof im.message];
        memcpy(msg, im.message, sizeof msg);
        free(ga); free(px); png_image_free(&im);
        return fail(s, err, name, cut ? "a truncated PNG" : "a corrupt PNG", msg);
    }
    for (size_t i = 0; i < (size_t)w * h; i++) {
        unsigned g = ga[2 * i], a = ga[2 * i + 1];
        px[i] = (uint8_t)((g * a + 255u * (255u - a) + 127u) / 255u);   /* over white paper */
    }
    free(ga);
    png_image_free(&im);
    out->w = (int)w;
    out->h = (int)h;
    out->px = px;
    return IMAGE_OK;
}

image_status image_load(const char *path, image *out, char *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return fail(IMAGE_UNREADABLE, err, path, "cannot open", strerror(errno));
    unsigned char *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            if (cap >= (size_t)MAX_FILE) { free(data); fclose(f); return fail(IMAGE_TOO_LARGE, err, path, "too large (over 1 GiB)", NULL); }
            cap = cap ? 2 * cap : 1 << 16;
            unsigned char *d = realloc(data, cap);
            if (!d) { free(data); fclose(f); return fail(IMAGE_NO_MEMORY, err, path, "out of memory", NULL); }
            data = d;
        }
        size_t got = fread(data + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    image_status s;
    if (bad) s = fail(IMAGE_UNREADABLE, err, path, "read error", NULL);
    else if (len == 0) s = fail(IMAGE_NOT_IMAGE, err, path, "an empty file, not an image", NULL);
    else if (len >= 8 && png_sig_cmp(data, 0, 8) == 0) s = image_read_png(data, len, path, out, err);
    else if (len >= 2 && data[0] == 'P' && (data[1] == '2' || data[1] == '5')) s = image_read_pgm(data, len, path, out, err);
    else s = fail(IMAGE_NOT_IMAGE, err, path, "not an image (neither PGM P2/P5 nor PNG)", NULL);
    free(data);
    return s;
}
