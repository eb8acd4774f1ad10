/* fail.c — the programmer-error stop (fail.h): the only printing the engine
 * does on its own, on its way down. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "fail.h"

_Noreturn void chainrule_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);                       /* keep what the program printed so far */
    fprintf(stderr, "%s:%d: chainrule: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}
