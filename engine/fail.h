/* fail.h — the one stop for programmer errors, in every build.
 *
 * ASSERT(cond, fmt, …) and FAIL(fmt, …) print "file:line: chainrule: …" on
 * stderr and abort, also under NDEBUG: a shape mismatch or an index past the
 * tape is a bug in the calling code, and carrying on would compute nonsense.
 * They are for programmer errors only. Anything a user can cause (a file, a
 * flag, a data set of an unexpected shape) is a status the caller turns into
 * one line and exit status 2; it never reaches these.
 */
#ifndef CHAINRULE_FAIL_H
#define CHAINRULE_FAIL_H

_Noreturn void chainrule_fail(const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#define FAIL(...) chainrule_fail(__FILE__, __LINE__, __VA_ARGS__)
#define ASSERT(cond, ...) do { if (!(cond)) FAIL(__VA_ARGS__); } while (0)

#endif
