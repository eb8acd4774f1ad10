/* check.h — the test harness: CHECK, CHECK_NEAR, and a report that ends
 * with "name: N passed, N failed" and fails the program on any failure. */
#ifndef CHAINRULE_TEST_CHECK_H
#define CHAINRULE_TEST_CHECK_H

#include <math.h>
#include <stdio.h>

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

static inline int check_report(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
