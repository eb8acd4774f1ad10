/* check.h — the test harness: CHECK, CHECK_NEAR, and a report that ends
 * with "name: N passed, N failed" and fails the program on any failure. */
#ifndef CHAINRULE_TEST_CHECK_H
#define CHAINRULE_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (cond) check_passed++;                                             \
        else { check_failed++; printf("%s:%d: FAIL: %s\n", __FILE__, __LINE__, #cond); } \
    } while (0)

/* |got − want| ≤ tol, both printed in full on failure; NaN never passes. */
#define CHECK_NEAR(got, want, tol)                                            \
    do {                                                                      \
        double g_ = (got), w_ = (want);                                       \
        if (fabs(g_ - w_) <= (tol)) check_passed++;                           \
        else { check_failed++;                                                \
            printf("%s:%d: FAIL: %s = %.17g, want %.17g (tol %g)\n",          \
                   __FILE__, __LINE__, #got, g_, w_, (double)(tol)); }        \
    } while (0)

/* A scratch file for a routine that writes text (tmpfile; exit 1 when
 * there is none), then what was written into it, in buf (n bytes, cut
 * short and NUL-terminated; the file closed): as written, or where
 * one_line is set its words joined by single spaces, for a test of the
 * wording rather than of the line breaks. */
static inline FILE *check_sink(void)
{
    FILE *f = tmpfile();
    if (!f) { puts("check_sink: tmpfile failed"); exit(1); }
    return f;
}
static inline const char *check_collect(FILE *f, char *buf, size_t n, int one_line)
{
    rewind(f);
    size_t got = fread(buf, 1, n - 1, f);
    buf[got] = '\0';
    fclose(f);
    if (one_line) {
        char *q = buf;
        for (const char *p = buf;; p++) {
            if (*p == '\n' || *p == ' ') { if (q > buf && q[-1] != ' ') *q++ = ' '; }
            else *q++ = *p;
            if (!*p) break;
        }
    }
    return buf;
}

static inline int check_report(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
