/* test_lesson10_text.c — lesson 10's cross-check paragraph, branch by
 * branch. Its goldens run the branches real data reaches (within 1e-4:
 * --bn channel; falling with ε and within 1e-4 at the larger ε: the
 * assignment's ε = 1e-9); the others need numbers no sane build gives, so
 * here crosscheck_verdict gets them directly. The lesson's source is
 * compiled in whole, its main renamed. */
#define main lesson10_main
#include "../lessons/10_cnn.c"
#undef main
#include "check.h"

/* crosscheck_verdict's paragraph as a string (static buffer) */
static const char *verdict_n(int n, double err, double eps, cnn_bn bn, double d1, double d2)
{
    static char buf[2048];
    FILE *f = tmpfile();
    if (!f) { puts("test_lesson10_text: tmpfile failed"); exit(1); }
    crosscheck_verdict(f, n, err, "dconv_b", eps, bn, d1, d2);
    rewind(f);
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

static const char *verdict(double err, double eps, cnn_bn bn, double d1, double d2)
{
    return verdict_n(8, err, eps, bn, d1, d2);
}

static int has(const char *s, const char *part) { return strstr(s, part) != NULL; }

int main(void)
{
    const char *s;
    /* every paragraph opens with the difference and where it is */
    s = verdict(6.5e-5, 1e-3, CNN_BN_CHANNEL, NAN, NAN);
    CHECK(has(s, "largest relative difference 6.5e-05 (in dconv_b),\n"));
    CHECK(has(s, "within 1e-4: the hand-derived backward agrees."));
    CHECK(verdict_needs_eps(1e-4, 1e-9, CNN_BN_FEATURE) == 0);     /* 1e-4 itself is within */

    /* above, falling, within 1e-4 at the larger ε (the assignment's case) */
    CHECK(verdict_needs_eps(9e-4, 1e-9, CNN_BN_FEATURE));
    s = verdict(9e-4, 1e-9, CNN_BN_FEATURE, 4e-5, 1.1e-5);
    CHECK(has(s, "The same check at eps 1e-07: 4e-05; at eps 1e-05: 1.1e-05,"));
    CHECK(has(s, "falling 82-fold while eps grows 10,000-fold"));
    CHECK(has(s, "the mark of rounding, not of a wrong derivative.\n"));
    CHECK(!has(s, "still above"));
    CHECK(has(s, "same weights, 8 training images,"));
    CHECK(has(s, "barely varies over 8 images\n"));
    /* the images the check used, not a number typed in (--train 3; one) */
    s = verdict_n(3, 9e-4, 1e-9, CNN_BN_FEATURE, 4e-5, 1.1e-5);
    CHECK(has(s, "same weights, 3 training images,"));
    CHECK(has(s, "barely varies over 3 images\n"));
    s = verdict_n(1, 6.5e-5, 1e-9, CNN_BN_FEATURE, NAN, NAN);
    CHECK(has(s, "same weights, 1 training image,"));

    /* falling but still above 1e-4 at the larger ε */
    s = verdict(0.05, 1e-9, CNN_BN_FEATURE, 0.01, 0.002);
    CHECK(has(s, "falling 25-fold"));
    CHECK(has(s, "though still above 1e-4 at the larger eps."));

    /* falling to exactly 0: no "inf-fold" */
    s = verdict(9e-4, 1e-9, CNN_BN_FEATURE, 1e-6, 0.0);
    CHECK(has(s, "falling to 0 while eps grows"));
    CHECK(!has(s, "inf"));

    /* not falling: rounding does not explain it (flat, rising, or NaN) */
    s = verdict(9e-4, 1e-9, CNN_BN_FEATURE, 9e-4, 9e-4);
    CHECK(has(s, "not falling as eps grows, so rounding does not explain the difference."));
    CHECK(!has(s, "mark of rounding"));
    s = verdict(9e-4, 1e-9, CNN_BN_FEATURE, 1e-4, 2e-4);
    CHECK(has(s, "not falling as eps grows"));
    s = verdict(9e-4, 1e-9, CNN_BN_FEATURE, 1e-5, NAN);
    CHECK(has(s, "not falling as eps grows"));

    /* no batch norm, or an ε that cannot grow 10,000-fold: plain disagreement */
    CHECK(verdict_needs_eps(3e-4, 1e-9, CNN_BN_NONE) == 0);
    s = verdict(3e-4, 1e-9, CNN_BN_NONE, NAN, NAN);
    CHECK(has(s, "above 1e-4: the fast path and the graph disagree."));
    CHECK(verdict_needs_eps(3e-4, 1e-3, CNN_BN_CHANNEL) == 0);
    s = verdict(3e-4, 1e-3, CNN_BN_CHANNEL, NAN, NAN);
    CHECK(has(s, "above 1e-4: the fast path and the graph disagree."));

    /* a non-finite difference is never agreement */
    CHECK(verdict_needs_eps(INFINITY, 1e-9, CNN_BN_FEATURE) == 0);
    s = verdict(INFINITY, 1e-9, CNN_BN_FEATURE, NAN, NAN);
    CHECK(has(s, "not finite: the fast path and the graph disagree."));
    s = verdict(NAN, 1e-9, CNN_BN_FEATURE, NAN, NAN);
    CHECK(has(s, "not finite: the fast path and the graph disagree."));
    CHECK(!has(s, "agrees"));
    /* the fold factors the text prints, from EPS_GROW */
    char b[32];
    CHECK(strcmp(grouped(b, sizeof b, EPS_GROW * EPS_GROW), "10,000") == 0);
    CHECK(strcmp(grouped(b, sizeof b, 100), "100") == 0);
    CHECK(strcmp(grouped(b, sizeof b, 1234567), "1,234,567") == 0);
    CHECK(strcmp(grouped(b, sizeof b, 0), "0") == 0);
    return check_report("test_lesson10_text");
}
