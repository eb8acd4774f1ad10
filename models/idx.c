/* idx.c — the IDX reader: the header checked against the file's size
 * before anything is allocated, then the elements read and converted to
 * float (images) or range-checked (labels). Loading from a file and parsing
 * bytes in memory share the one header check. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "idx.h"
#include "infile.h"

static const char *const phrases[] = {
    [IDX_OK] = "ok",
    [IDX_NOT_FOUND] = "no such file",
    [IDX_NO_PERMISSION] = "permission denied",
    [IDX_IS_DIRECTORY] = "not a regular file",
    [IDX_READ_ERROR] = "read error",
    [IDX_EMPTY] = "empty file",
    [IDX_GZIP] = "still gzip-compressed",
    [IDX_BAD_MAGIC] = "wrong magic number",
    [IDX_BAD_TYPE] = "wrong element type",
    [IDX_BAD_DIMS] = "a dimension is zero",
    [IDX_OVERFLOW] = "dimensions too large",
    [IDX_TRUNCATED] = "file shorter than its header promises",
    [IDX_TRAILING] = "trailing bytes after the data",
    [IDX_COUNT_MISMATCH] = "label count differs from image count",
    [IDX_BAD_LABEL] = "label out of range",
    [IDX_BAD_NAME] = "unknown data set or split",
    [IDX_BAD_SHAPE] = "images of another shape than the program reads",
    [IDX_TOO_FEW] = "fewer images than the program reads",
    [IDX_NO_MEMORY] = "out of memory",
};
_Static_assert(sizeof phrases / sizeof phrases[0] == IDX_STATUS_COUNT, "one phrase per status");

const char *idx_strerror(idx_status s)
{
    return (unsigned)s < IDX_STATUS_COUNT && phrases[s] ? phrases[s] : "unknown status";
}

/* Writes "name: message" into err (when given) and returns s. */
static idx_status fail(idx_status s, char *err, const char *name, const char *fmt, ...)
{
    if (!err) return s;
    int k = snprintf(err, IDX_ERR_LEN, "%s: ", name);
    if (k < 0 || k >= IDX_ERR_LEN) return s;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + k, (size_t)(IDX_ERR_LEN - k), fmt, ap);
    va_end(ap);
    return s;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char *type_name(uint8_t t)
{
    switch (t) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "unknown";
    }
}

/* Checks the header of an unsigned-byte IDX file of `want` dimensions and
 * that the file, len bytes in all, holds exactly the elements it promises.
 * buf holds the file's first min(len, 4 + 4·want) bytes at least; nothing
 * past them is read. On IDX_OK dims[] holds the sizes and *count their
 * product. `what` is "pixels" or "labels", for messages. */
static idx_status check_header(const uint8_t *buf, size_t len, const char *name, int want,
                               const char *what, uint32_t dims[3], size_t *count, char *err)
{
    if (len == 0) return fail(IDX_EMPTY, err, name, "file is empty");
    if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b)
        return fail(IDX_GZIP, err, name, "file is still gzip-compressed; gunzip it first");
    if (len < 4)
        return fail(IDX_TRUNCATED, err, name, "file holds %zu bytes, too short for an IDX header", len);
    uint32_t magic = be32(buf);
    if (buf[0] != 0 || buf[1] != 0)
        return fail(IDX_BAD_MAGIC, err, name, "wrong magic number 0x%08X: not an IDX file", magic);
    if (buf[2] != 0x08)
        return fail(IDX_BAD_TYPE, err, name,
                    "element type 0x%02X (%s); only 0x08 (unsigned byte) is read",
                    buf[2], type_name(buf[2]));
    if (buf[3] != want)
        return fail(IDX_BAD_MAGIC, err, name,
                    "wrong magic number 0x%08X: a %u-dimensional file where %s (magic 0x%08X) belong",
                    magic, buf[3], want == 3 ? "images" : "labels", 0x800u | (unsigned)want);
    size_t header = 4 + 4 * (size_t)want;
    if (len < header)
        return fail(IDX_TRUNCATED, err, name,
                    "file holds %zu bytes, too short for its %zu-byte header", len, header);
    char shape[48];    /* "60000 x 28 x 28", for messages */
    int k = 0;
    for (int i = 0; i < want; i++) {
        dims[i] = be32(buf + 4 + 4 * i);
        k += snprintf(shape + k, sizeof shape - (size_t)k, "%s%u", i ? " x " : "", dims[i]);
    }
    for (int i = 0; i < want; i++)
        if (dims[i] == 0) return fail(IDX_BAD_DIMS, err, name, "dimension %d of %s is 0", i + 1, shape);
    /* The product in 64 bits, then four bytes of float per element must fit
     * in size_t and each item count in an int. Sizes print as unsigned long
     * long so the messages never depend on size_t. */
    unsigned long long n = 1;
    for (int i = 0; i < want; i++) {
        if (n > ULLONG_MAX / dims[i] || n * dims[i] > SIZE_MAX / sizeof(float))
            return fail(IDX_OVERFLOW, err, name,
                        "dimensions %s overflow: more elements than memory can address", shape);
        n *= dims[i];
    }
    /* Every count downstream (images, pixels per image, pixels in all) is
     * an int: refuse here, before anything is allocated or read. */
    if (n > INT_MAX)
        return fail(IDX_OVERFLOW, err, name, "dimensions %s: %llu %s, more than %d can be indexed",
                    shape, n, what, INT_MAX);
    size_t body = len - header;
    if (n > body)
        return fail(IDX_TRUNCATED, err, name, "header promises %llu bytes of %s, file holds %zu",
                    n, what, body);
    if (n < body)
        return fail(IDX_TRAILING, err, name, "%zu bytes of trailing garbage after %llu bytes of %s",
                    body - (size_t)n, n, what);
    *count = (size_t)n;
    return IDX_OK;
}

/* out[i] = p[i] as float: pixels 0…255, exact. */
static void to_float(float *restrict out, const uint8_t *restrict p, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = (float)p[i];
}

idx_status idx_parse_images(const uint8_t *buf, size_t len, const char *name,
                            float **x, int *n, int *rows, int *cols, char *err)
{
    *x = NULL;
    *n = *rows = *cols = 0;
    uint32_t dims[3];
    size_t count;
    idx_status s = check_header(buf, len, name, 3, "pixels", dims, &count, err);
    if (s) return s;
    float *out = malloc(count * sizeof *out);    /* ≤ 4 × len: checked above */
    if (!out) return fail(IDX_NO_MEMORY, err, name, "out of memory for %zu pixels", count);
    to_float(out, buf + 16, count);
    *x = out;
    *n = (int)dims[0];
    *rows = (int)dims[1];
    *cols = (int)dims[2];
    return IDX_OK;
}

idx_status idx_parse_labels(const uint8_t *buf, size_t len, const char *name,
                            int classes, uint8_t **labels, int *n, char *err)
{
    *labels = NULL;
    *n = 0;
    uint32_t dims[3];
    size_t count;
    idx_status s = check_header(buf, len, name, 1, "labels", dims, &count, err);
    if (s) return s;
    const uint8_t *p = buf + 8;
    for (size_t i = 0; i < count; i++)
        if (p[i] >= classes)
            return fail(IDX_BAD_LABEL, err, name, "label %zu is %u, outside 0..%d",
                        i, p[i], classes - 1);
    uint8_t *out = malloc(count);
    if (!out) return fail(IDX_NO_MEMORY, err, name, "out of memory for %zu labels", count);
    memcpy(out, p, count);
    *labels = out;
    *n = (int)count;
    return IDX_OK;
}

/* Opens path for reading and returns its size; a missing file, a
 * directory, a FIFO or device, an unreadable or empty one is named in err.
 * Never blocks (infile.h): a FIFO is refused, not waited on. */
static idx_status open_file(const char *path, FILE **fp, size_t *size, char *err)
{
    *size = 0;
    uint64_t bytes;
    int e;
    switch (infile_open(path, fp, &bytes, &e)) {
    case INFILE_OK: break;
    case INFILE_NOT_FOUND:
        return fail(IDX_NOT_FOUND, err, path, "no such file (run `make data`, or pass --data DIR)");
    case INFILE_NO_PERMISSION: return fail(IDX_NO_PERMISSION, err, path, "permission denied");
    case INFILE_DIRECTORY: return fail(IDX_IS_DIRECTORY, err, path, "is a directory, not an IDX file");
    case INFILE_NOT_REGULAR:
        return fail(IDX_IS_DIRECTORY, err, path, "not a regular file (a FIFO, socket or device)");
    default: return fail(IDX_READ_ERROR, err, path, "cannot open: %s", strerror(e));
    }
    idx_status s = IDX_OK;
    if (bytes == 0) s = fail(IDX_EMPTY, err, path, "file is empty");
    else if (bytes > SIZE_MAX / 4) s = fail(IDX_OVERFLOW, err, path, "file too large to load");
    if (s) {
        fclose(*fp);
        *fp = NULL;
        return s;
    }
    *size = (size_t)bytes;
    return IDX_OK;
}

/* Reads exactly n bytes; a short read is an error naming the file. */
static idx_status read_exact(FILE *f, void *dst, size_t n, const char *path, char *err)
{
    size_t got = fread(dst, 1, n, f);
    if (got == n) return IDX_OK;
    if (ferror(f)) return fail(IDX_READ_ERROR, err, path, "read error: %s", strerror(errno));
    return fail(IDX_READ_ERROR, err, path, "file shrank while being read");
}

/* Opens path and checks its header against its size: on IDX_OK the stream
 * is positioned at the first element, dims and count filled. */
static idx_status open_idx(const char *path, int want, const char *what, FILE **fp,
                           uint32_t dims[3], size_t *count, char *err)
{
    size_t size;
    idx_status s = open_file(path, fp, &size, err);
    if (s) return s;
    uint8_t head[16];
    size_t have = 4 + 4 * (size_t)want;
    if (have > size) have = size;
    s = read_exact(*fp, head, have, path, err);
    if (!s) s = check_header(head, size, path, want, what, dims, count, err);
    if (s) {
        fclose(*fp);
        *fp = NULL;
    }
    return s;
}

idx_status idx_load_images(const char *path, float **x, int *n, int *rows, int *cols,
                           char *err)
{
    *x = NULL;
    *n = *rows = *cols = 0;
    FILE *f;
    uint32_t dims[3];
    size_t count;
    idx_status s = open_idx(path, 3, "pixels", &f, dims, &count, err);
    if (s) return s;
    float *out = malloc(count * sizeof *out);    /* ≤ 4 × the file size: checked */
    if (!out) {
        fclose(f);
        return fail(IDX_NO_MEMORY, err, path, "out of memory for %zu pixels", count);
    }
    /* Read in cache-sized pieces and convert each at once: the bytes never
     * leave the cache, and the only fresh memory touched is `out` (on a
     * 60,000-image file, first touches of fresh pages are most of the time).
     * The piece lives on the heap: 64 KB is a whole stack under `ulimit -s 64`. */
    enum { CHUNK = 1 << 16 };
    uint8_t *chunk = malloc(CHUNK);
    if (!chunk) {
        free(out);
        fclose(f);
        return fail(IDX_NO_MEMORY, err, path, "out of memory for a %d-byte read buffer", CHUNK);
    }
    for (size_t done = 0; done < count && !s; ) {
        size_t k = count - done < CHUNK ? count - done : CHUNK;
        s = read_exact(f, chunk, k, path, err);
        if (!s) to_float(out + done, chunk, k);
        done += k;
    }
    free(chunk);
    fclose(f);
    if (s) {
        free(out);
        return s;
    }
    *x = out;
    *n = (int)dims[0];
    *rows = (int)dims[1];
    *cols = (int)dims[2];
    return IDX_OK;
}

idx_status idx_load_labels(const char *path, int classes, uint8_t **labels, int *n,
                           char *err)
{
    *labels = NULL;
    *n = 0;
    FILE *f;
    uint32_t dims[3];
    size_t count;
    idx_status s = open_idx(path, 1, "labels", &f, dims, &count, err);
    if (s) return s;
    uint8_t *out = malloc(count);    /* ≤ the file size: checked */
    if (!out) {
        fclose(f);
        return fail(IDX_NO_MEMORY, err, path, "out of memory for %zu labels", count);
    }
    s = read_exact(f, out, count, path, err);
    fclose(f);
    for (size_t i = 0; i < count && !s; i++)
        if (out[i] >= classes)
            s = fail(IDX_BAD_LABEL, err, path, "label %zu is %u, outside 0..%d", i, out[i], classes - 1);
    if (s) {
        free(out);
        return s;
    }
    *labels = out;
    *n = (int)count;
    return IDX_OK;
}

int idx_write(const char *path, int ndims, const uint32_t *dims, const uint8_t *data)
{
    if (ndims < 1 || ndims > 3) { errno = EINVAL; return -1; }
    uint8_t head[16] = {0, 0, 0x08, (uint8_t)ndims};
    size_t count = 1;
    for (int i = 0; i < ndims; i++) {
        head[4 + 4 * i] = (uint8_t)(dims[i] >> 24);
        head[5 + 4 * i] = (uint8_t)(dims[i] >> 16);
        head[6 + 4 * i] = (uint8_t)(dims[i] >> 8);
        head[7 + 4 * i] = (uint8_t)dims[i];
        count *= dims[i];
    }
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t hl = 4 + 4 * (size_t)ndims;
    int ok = fwrite(head, 1, hl, f) == hl && fwrite(data, 1, count, f) == count;
    if (fclose(f) != 0) ok = 0;
    return ok ? 0 : -1;
}
