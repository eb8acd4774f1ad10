/* infile.c — open for reading only a regular file, without blocking: the
 * file is opened with O_NONBLOCK (a FIFO with no writer opens at once instead
 * of waiting), checked with fstat, and switched back to blocking reads. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "infile.h"

infile_status infile_open(const char *path, FILE **fp, uint64_t *size, int *sys_errno)
{
    int dummy;
    if (!sys_errno) sys_errno = &dummy;
    *fp = NULL;
    *size = 0;
    *sys_errno = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int e = *sys_errno = errno;
        if (e == ENOENT || e == ENOTDIR) return INFILE_NOT_FOUND;
        if (e == EACCES || e == EPERM) return INFILE_NO_PERMISSION;
        if (e == EISDIR) return INFILE_DIRECTORY;
        if (e == ENXIO) return INFILE_NOT_REGULAR;    /* a socket, or a device with no driver */
        return INFILE_ERROR;
    }
    struct stat st;
    infile_status s = INFILE_OK;
    int flags;
    if (fstat(fd, &st) != 0) { *sys_errno = errno; s = INFILE_ERROR; }
    else if (S_ISDIR(st.st_mode)) s = INFILE_DIRECTORY;
    else if (!S_ISREG(st.st_mode)) s = INFILE_NOT_REGULAR;
    else if ((flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
        *sys_errno = errno;
        s = INFILE_ERROR;
    }
    FILE *f = s == INFILE_OK ? fdopen(fd, "rb") : NULL;
    if (s == INFILE_OK && !f) { *sys_errno = errno; s = INFILE_ERROR; }
    if (s != INFILE_OK) {
        close(fd);
        return s;
    }
    *fp = f;
    *size = (uint64_t)st.st_size;
    return INFILE_OK;
}
