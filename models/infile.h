/* infile.h — opening a file the program reads (a data set, a saved model)
 * only when it is a regular file.
 *
 * fopen() on a FIFO waits for a writer, forever if none comes; on a
 * directory it succeeds and the first read fails with a puzzling message;
 * /dev/zero never ends. infile_open opens without blocking, checks what it
 * opened (not what the name pointed to a moment before), and only then hands
 * back an ordinary blocking stream with the file's size — which every reader
 * bounds its allocations and reads by.
 *
 * Not here: messages. The caller names the file and the problem in its own
 * words (idx.c, mlp.c); infile_open only says which problem it was.
 */
#ifndef CHAINRULE_INFILE_H
#define CHAINRULE_INFILE_H

#include <stdint.h>
#include <stdio.h>

typedef enum {
    INFILE_OK = 0,
    INFILE_NOT_FOUND,      /* no such file, or a path component is not a directory */
    INFILE_NO_PERMISSION,  /* the file or a directory above it may not be read */
    INFILE_DIRECTORY,      /* a directory where a file belongs */
    INFILE_NOT_REGULAR,    /* a FIFO, socket or device where a file belongs */
    INFILE_ERROR,          /* any other failure; *sys_errno says which */
} infile_status;

/* Opens path for reading ("rb") if it is a regular file. On INFILE_OK *fp is
 * the stream (the caller fcloses it) and *size the file's size in bytes. On
 * failure *fp is NULL and *sys_errno (when not NULL) holds the errno of the
 * failing call, or 0 for INFILE_DIRECTORY / INFILE_NOT_REGULAR. Never blocks
 * on a FIFO. */
infile_status infile_open(const char *path, FILE **fp, uint64_t *size, int *sys_errno);

#endif
