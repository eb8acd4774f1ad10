/* test_lesson10_text.c — lesson 10's cross-check paragraph and closing
 * sentences, branch by branch. Its goldens run the branches real data reaches (within 1e-4:
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
    FILE *f = check_sink();
    crosscheck_verdict(f, n, err, "dconv_b", eps, bn, d1, d2);
    return check_collect(f, buf, sizeof buf, 0);
}

static const char *verdict(double err, double eps, cnn_bn bn, double d1, double d2)
{
    return verdict_n(8, err, eps, bn, d1, d2);
}

static int has(const char *s, const char *part) { return strstr(s, part) != NULL; }

/* conclude's sentences for seven settings (none, three L2, three dropout)
 * with these validation and test accuracies, as a string (static buffer);
 * every validation loss is 1.0 unless vl is given */
static const char *conclusion(const double va[7], const double te[7], const double *vl)
{
    static char buf[4096];
    setting s[7] = {{"none", "no regularisation", 0, 1}, {"a", "L2 lambda = 0.01", 0.01, 1},
                    {"b", "L2 lambda = 0.1", 0.1, 1}, {"c", "L2 lambda = 0.5", 0.5, 1},
                    {"d", "dropout keep p = 0.9", 0, 0.9}, {"e", "dropout keep p = 0.75", 0, 0.75},
                    {"f", "dropout keep p = 0.5", 0, 0.5}};
    outcome o[7], om = {0};
    for (int i = 0; i < 7; i++) {
        o[i] = (outcome){0};
        o[i].best_epoch = o[i].epochs = 3;
        o[i].va_acc = va[i];
        o[i].te_acc = te[i];
        o[i].va_loss = o[i].last_va_loss = vl ? vl[i] : 1.0;
    }
    om.te_acc = 0.5;
    FILE *f = check_sink();
    conclude(f, s, o, 7, 3, &om, 400);
    return check_collect(f, buf, sizeof buf, 1);    /* (the wrapping is say's: test_say) */
}

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
    /* the setting is chosen on validation, never on test */
    const double va1[7] = {0.60, 0.70, 0.65, 0.50, 0.55, 0.58, 0.40};
    const double te1[7] = {0.80, 0.75, 0.90, 0.70, 0.85, 0.60, 0.70};
    s = conclusion(va1, te1, NULL);
    CHECK(has(s, "(the highest accuracy there at its early-stopping epoch, 70.00%), the best CNN "
                 "setting is L2 lambda = 0.01; on the test images it reaches 75.00%, and lesson 09's "
                 "MLP 50.00% on the same split (+25.00 points for the CNN)."));
    CHECK(has(s, "The test images alone would have named L2 lambda = 0.1 (90.00%)"));
    /* the resolution of the test accuracy, from 300 of 400 right:
     * p = 302/404, sqrt(p (1 − p) / 404) */
    CHECK(has(s, "One test image is 0.25 points here (400 of them), and an accuracy of 75.00% "
                 "measured on that many is uncertain by about 2.16 points (one standard error)"));
    /* per family too: L2's pick is 0.01 (validation 70%), below none on test */
    CHECK(has(s, "Of the L2 settings, L2 lambda = 0.01 did best on the validation images (70.00%, "
                 "none: 60.00%); on the test images it did not beat none (75.00% against 80.00%)."));
    /* dropout's is 0.75 (58%), though 0.9 did better on test */
    CHECK(has(s, "Of the dropout settings, dropout keep p = 0.75 did best"));
    CHECK(has(s, "it did not beat none (60.00% against 80.00%)."));
    /* the chosen setting also best on test: no second sentence; gains */
    const double te2[7] = {0.80, 0.95, 0.90, 0.70, 0.85, 0.90, 0.70};
    s = conclusion(va1, te2, NULL);
    CHECK(!has(s, "would have named"));
    CHECK(has(s, "L2 lambda = 0.01 did best on the validation images (70.00%, none: 60.00%); on the "
                 "test images it gained 15.00 points over none."));
    CHECK(has(s, "dropout keep p = 0.75 did best on the validation images (58.00%, none: 60.00%); "
                 "on the test images it gained 10.00 points over none."));
    /* a tie on the test images is no gain, and names no other setting */
    const double te3[7] = {0.75, 0.75, 0.75, 0.75, 0.75, 0.75, 0.75};
    s = conclusion(va1, te3, NULL);
    CHECK(!has(s, "would have named"));
    CHECK(!has(s, "gained"));
    CHECK(has(s, "did not beat none (75.00% against 75.00%)."));
    /* every test image right: still a nonzero uncertainty, sqrt(402 · 2) / 404^1.5 */
    const double te5[7] = {1, 1, 1, 1, 1, 1, 1};
    s = conclusion(va1, te5, NULL);
    CHECK(has(s, "an accuracy of 100.00% measured on that many is uncertain by about 0.35 points"));
    /* a tie on validation accuracy goes to the lower validation loss, then
     * to the earlier setting */
    const double va4[7] = {0.60, 0.60, 0.60, 0.60, 0.60, 0.60, 0.60};
    const double vl4[7] = {1.0, 1.0, 0.9, 1.1, 1.0, 1.0, 1.0};
    s = conclusion(va4, te1, vl4);
    CHECK(has(s, "the best CNN setting is L2 lambda = 0.1;"));
    CHECK(!has(s, "would have named"));
    CHECK(has(s, "Of the dropout settings, dropout keep p = 0.9 did best"));
    s = conclusion(va4, te1, NULL);
    CHECK(has(s, "the best CNN setting is no regularisation;"));
    CHECK(has(s, "The test images alone would have named L2 lambda = 0.1 (90.00%)"));

    /* the fold factors the text prints, from EPS_GROW */
    char b[32];
    CHECK(strcmp(grouped(b, sizeof b, EPS_GROW * EPS_GROW), "10,000") == 0);
    CHECK(strcmp(grouped(b, sizeof b, 100), "100") == 0);
    CHECK(strcmp(grouped(b, sizeof b, 1234567), "1,234,567") == 0);
    CHECK(strcmp(grouped(b, sizeof b, 0), "0") == 0);
    return check_report("test_lesson10_text");
}
