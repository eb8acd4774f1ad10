/* image.h — reading a picture of a digit and turning it into MNIST's
 * format, the way MNIST was made, for `predict`.
 *
 * Offers: an 8-bit grey image type; readers that return a status and one
 * line naming the file and the problem (PGM P2/P5 here, PNG in image_png.c
 * through libpng); image_load, which picks the reader by the file's magic;
 * image_to_mnist, the preprocessing; image_write_pgm (atomic).
 *
 * The preprocessing (image_to_mnist), MNIST's recipe:
 *   1. grey (the readers give grey; PNG alpha is composited over white);
 *   2. inverted when the background is light, so ink is high, paper 0: the
 *      background is the median of the border pixels; that level is then
 *      subtracted (clamped at 0), so paper is exactly 0, and the ink
 *      stretched so that its darkest pixel is 255 (pencil as dark as pen);
 *   3. cropped to the ink (the bounding box of the pixels above 0);
 *   4. the longer side scaled to 20 px keeping the aspect ratio, by area
 *      averaging (each output pixel the mean of the source area it covers:
 *      anti-aliased; a 20-px crop is copied unchanged);
 *   5. placed in 28 × 28 by an integer shift that puts its centre of mass
 *      within half a pixel of (14, 14) (x, y in pixel indices 0 … 27):
 *      where MNIST's own digits have theirs, so an MNIST digit comes back
 *      unchanged.
 *
 * Not here: the network (mlp.h); drawing in the terminal (lessons/draw.h).
 * The PNG reader needs libpng: only programs that call image_load or
 * image_read_png link image_png.o and -lpng (the Makefile says how).
 */
#ifndef CHAINRULE_IMAGE_H
#define CHAINRULE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define IMAGE_ERR_LEN 512
#define IMAGE_MAX_SIDE 65536               /* pixels per side, refused above */
#define IMAGE_MAX_PIXELS (64L << 20)        /* w · h, refused above (before allocating) */
#define MNIST_SIDE 28
#define MNIST_BOX 20                        /* the longer side of the scaled digit */
#define MNIST_COM 14.0                      /* where MNIST's centres of mass lie (x and y) */

typedef enum {
    IMAGE_OK,
    IMAGE_UNREADABLE,    /* cannot open or read the file */
    IMAGE_NOT_IMAGE,     /* neither PGM nor PNG by its first bytes */
    IMAGE_BAD_HEADER,    /* a malformed header (missing or bad numbers) */
    IMAGE_TRUNCATED,     /* fewer pixels than the header promises */
    IMAGE_EMPTY,         /* 0 pixels wide or high */
    IMAGE_TOO_LARGE,     /* over IMAGE_MAX_SIDE or IMAGE_MAX_PIXELS */
    IMAGE_CORRUPT,       /* the pixel data are wrong (a value above maxval, a bad PNG) */
    IMAGE_NO_INK,        /* nothing but background: no digit to crop */
    IMAGE_NO_MEMORY,
    IMAGE_STATUS_COUNT
} image_status;

/* A short name of the status ("truncated"); static, do not free. */
const char *image_strerror(image_status s);

typedef struct {
    int w, h;            /* pixels */
    uint8_t *px;         /* w · h grey values, row-major, 0 black … 255 white; owned */
} image;

/* Frees the pixels and zeroes the struct. image_free(NULL) is a no-op. */
void image_free(image *im);

/* A PGM (P2 plain or P5 raw; maxval 1 … 65535, 16-bit P5 big-endian, as
 * netpbm writes it) from the len bytes at buf. Values are rescaled to
 * 0 … 255 (round(v · 255 / maxval)). On failure *out is all zeros and err
 * (IMAGE_ERR_LEN bytes, may be NULL) holds "name: problem". */
image_status image_read_pgm(const unsigned char *buf, size_t len, const char *name,
                            image *out, char *err);

/* A PNG of any kind libpng reads (grey, RGB, palette, 1 … 16 bits, with or
 * without alpha) as 8-bit grey, alpha composited over white. In image_png.c
 * (libpng). Same contract as image_read_pgm. */
image_status image_read_png(const unsigned char *buf, size_t len, const char *name,
                            image *out, char *err);

/* Reads the file at path and picks the reader by its first bytes ("P2",
 * "P5", the PNG signature). In image_png.c (libpng). */
image_status image_load(const char *path, image *out, char *err);

/* The 28 × 28 MNIST-style digit of im (the recipe above) into out
 * (784 bytes, 0 paper … 255 ink, row-major). IMAGE_NO_INK for a blank
 * image; IMAGE_NO_MEMORY. err as above, naming `name`. */
image_status image_to_mnist(const image *im, const char *name, uint8_t *out, char *err);

/* Writes w × h grey pixels as a binary PGM (P5, maxval 255) to path.tmp,
 * then renames it to path. Returns 0, or −1 with "path: problem" in err. */
int image_write_pgm(const char *path, const uint8_t *px, int w, int h, char *err);

#endif
