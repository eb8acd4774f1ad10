/* idx.h — the IDX file reader (the format of MNIST and Fashion-MNIST).
 *
 * An IDX file is a 4-byte magic (0, 0, element type, number of dimensions),
 * one big-endian uint32 per dimension, then the elements in row-major order.
 * We read two kinds, both with unsigned-byte elements (type 0x08):
 *   images  idx3, magic 0x00000803, N × rows × cols pixels 0…255
 *   labels  idx1, magic 0x00000801, N class numbers 0…classes−1
 *
 * The reader trusts nothing in the file: every size is checked against the
 * bytes actually present before anything is allocated or read, so a file can
 * make it fail but never read out of bounds or allocate more than the file
 * size justifies (pixels become 4-byte floats: at most 4 × the file size).
 * Loading reads the file in cache-sized pieces straight into the floats
 * (60,000 MNIST images in well under 0.2 s).
 *
 * Not here: file names, data roots, splits, scaling (data.h). The reader
 * never prints; a failure returns a status and writes a one-line message
 * naming the file and the problem into err, e.g.
 *   data/mnist/train-images-idx3-ubyte: header promises 47040000 bytes of
 *   pixels, file holds 1000
 */
#ifndef CHAINRULE_IDX_H
#define CHAINRULE_IDX_H

#include <stddef.h>
#include <stdint.h>

/* A message buffer of this size always holds the whole message for paths
 * up to a few hundred bytes; longer ones are cut, never overrun. */
/* Room for two file paths of up to PATH_MAX (4096 here) and the reason. */
#define IDX_ERR_LEN 8448

typedef enum {
    IDX_OK = 0,
    IDX_NOT_FOUND,       /* no such file or directory */
    IDX_NO_PERMISSION,   /* the file (or a directory above it) may not be read */
    IDX_IS_DIRECTORY,    /* a directory, FIFO, socket or device where a file belongs */
    IDX_READ_ERROR,      /* an I/O error while reading */
    IDX_EMPTY,           /* zero bytes */
    IDX_GZIP,            /* still gzip-compressed: gunzip it first */
    IDX_BAD_MAGIC,       /* not an IDX file, or the wrong kind (labels for images) */
    IDX_BAD_TYPE,        /* elements are not unsigned bytes */
    IDX_BAD_DIMS,        /* a dimension is 0 */
    IDX_OVERFLOW,        /* the dimensions' product does not fit in memory sizes */
    IDX_TRUNCATED,       /* the header promises more bytes than the file holds */
    IDX_TRAILING,        /* bytes after the last element */
    IDX_COUNT_MISMATCH,  /* label count ≠ image count */
    IDX_BAD_LABEL,       /* a label ≥ classes */
    IDX_BAD_NAME,        /* an unknown data set or split name (data.h) */
    IDX_BAD_SHAPE,       /* images are not rows × cols as the caller expects (data.h) */
    IDX_TOO_FEW,         /* fewer images than the caller expects (data.h) */
    IDX_NO_MEMORY,
    IDX_STATUS_COUNT
} idx_status;

/* A short phrase for a status ("wrong magic number"); never NULL. The full
 * message with the file name and the numbers is the one written to err. */
const char *idx_strerror(idx_status s);

/* Images from the file at path: on IDX_OK, *x is a new array of
 * n × rows·cols floats holding the pixel values 0…255 (not scaled), image i
 * at x + i·rows·cols, row-major; the caller frees it with free(). On failure
 * *x is NULL, the counts are 0 and err (IDX_ERR_LEN bytes, or NULL) holds
 * "path: problem". n, rows and cols are each ≥ 1, and n·rows·cols fits in
 * an int (a header claiming more is IDX_OVERFLOW, refused before anything is
 * allocated). */
idx_status idx_load_images(const char *path, float **x, int *n, int *rows, int *cols,
                           char *err);

/* Labels from the file at path: on IDX_OK, *labels is a new array of n
 * bytes, each < classes (a larger one is IDX_BAD_LABEL, naming its index);
 * the caller frees it with free(). On failure *labels is NULL, *n is 0. */
idx_status idx_load_labels(const char *path, int classes, uint8_t **labels, int *n,
                           char *err);

/* The same checks and conversions on a whole file's bytes already in memory
 * (buf, len), sharing the loaders' header check; what the fuzzer drives.
 * name stands for the file in messages. */
idx_status idx_parse_images(const uint8_t *buf, size_t len, const char *name,
                            float **x, int *n, int *rows, int *cols, char *err);
idx_status idx_parse_labels(const uint8_t *buf, size_t len, const char *name,
                            int classes, uint8_t **labels, int *n, char *err);

/* Writes an IDX file of unsigned bytes (ndims 1 or 3; dims[ndims]) — for
 * the test slices and the tests' own files. Returns 0, or −1 with errno set. */
int idx_write(const char *path, int ndims, const uint32_t *dims, const uint8_t *data);

#endif
