/* verify_bench.c — how fast verify checks claims (goals of issues 6, 10):
 *   a claim over a 10×10 Jacobian at 20 points in ≤ 20 ms,
 *   the same written in LaTeX at most 10 % slower than in plain text,
 *   a 100-claim file (parse + check, 20 points each) in ≤ 1 s,
 *   a batch's weight gradients written as matrices (X^T D) as fast as indexed,
 *   a class of 200 submissions × 10 claims graded (as verify --defs does:
 *   the assignment's text, then the student's, parsed and checked) ≤ 2 s.
 * Prints key=value lines; the best of a few repetitions, wall clock. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "expr.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Parses src and checks every claim at 20 points; returns the claims that
 * hold (or −1 on a parse error). */
static int run(const char *src, int *nclaims)
{
    expr_error e;
    expr_prog *p = expr_parse(src, strlen(src), &e);
    if (!p) { fprintf(stderr, "bench: %d:%d: %s\n", e.line, e.col, e.msg); return -1; }
    expr_options o = expr_defaults();
    int held = 0;
    *nclaims = expr_claims(p);
    for (int c = 0; c < *nclaims; c++) {
        expr_verdict v;
        if (expr_check(p, c, &o, &v) == 0) { held += v.holds; expr_verdict_free(&v); }
    }
    expr_free(p);
    return held;
}

static double best_of(const char *src, int reps, int *held, int *nclaims)
{
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_ms();
        *held = run(src, nclaims);
        double t = now_ms() - t0;
        if (t < best) best = t;
    }
    return best;
}

static const char jac10[] =
    "given o[10]\n"
    "let y[i] = exp(o[i]) / sum(k, exp(o[k]))\n"
    "claim d y[i] / d o[j] = y[i]*(delta(i,j) - y[j])\n";

static const char jac10_latex[] =
    "given o[10]\n"
    "let y[i] = \\frac{e^{o_i}}{\\sum_k e^{o_k}}\n"
    "claim $\\frac{\\partial y_i}{\\partial o_j} = y_i \\left(\\delta_{ij} - y_j\\right)$\n";

/* a batch's weight gradients, as matrices and as the indexed sums they stand for */
#define BATCH \
    "given X[8][6], W1[6][5], W2[5][4], T[8][4] onehot\n" \
    "let A = X W1\n" \
    "let H = tanh(A)\n" \
    "let Z = H W2\n" \
    "let P[n][k] = exp(Z[n][k]) / sum(q, exp(Z[n][q]))\n" \
    "let J = -sum(n, sum(k, T[n][k]*log(P[n][k]))) / 8\n" \
    "let Do = (P - T) / 8\n"
static const char batch_matrix[] = BATCH
    "let Dh = (Do W2^T) .* (1 - H .* H)\n"
    "claim d J / d W2 = H^T Do\n"
    "claim d J / d W1 = X^T Dh\n";
static const char batch_indexed[] = BATCH
    "let Dh[n][j] = sum(k, Do[n][k]*W2[j][k])*(1 - H[n][j]*H[n][j])\n"
    "claim d J / d W2[j][k] = sum(n, H[n][j]*Do[n][k])\n"
    "claim d J / d W1[i][j] = sum(n, X[n][i]*Dh[n][j])\n";

/* the 2-3-2 network of lesson 03 and the softmax of lesson 02 */
static const char head[] =
    "given x[2], W[2][3], b[3], V[3][2], c[2]\n"
    "given t[2] onehot\n"
    "let k[j] = sum(i, x[i]*W[i][j]) + b[j]\n"
    "let h[j] = sigmoid(k[j])\n"
    "let o[j] = sum(i, h[i]*V[i][j]) + c[j]\n"
    "let y[j] = exp(o[j]) / sum(m, exp(o[m]))\n"
    "let L = -sum(j, t[j]*log(y[j]))\n"
    "let dout[j] = y[j] - t[j]\n"
    "let dh[i] = sum(j, V[i][j]*dout[j])\n"
    "let dhid[j] = dh[j]*h[j]*(1 - h[j])\n"
    "given z[4], u in (-5, 5)\n"
    "let s[i] = exp(z[i]) / sum(q, exp(z[q]))\n"
    "let f = 1.7159*tanh(2*u/3)\n";
static const char *const claims[] = {
    "claim d L / d o[j] = dout[j]\n",
    "claim d L / d V[i][j] = h[i]*dout[j]\n",
    "claim d L / d c[j] = dout[j]\n",
    "claim d L / d h[i] = dh[i]\n",
    "claim d L / d k[j] = dhid[j]\n",
    "claim d L / d W[i][j] = x[i]*dhid[j]\n",
    "claim d L / d b[j] = dhid[j]\n",
    "claim d L / d x[i] = sum(j, W[i][j]*dhid[j])\n",
    "claim d s[i] / d z[j] = s[i]*(delta(i,j) - s[j])\n",
    "claim d f / d u = 2/3*(1.7159 - f^2/1.7159)\n",
};

/* 200 submissions of 10 claims each, every one parsed after the
 * assignment's text and checked at 20 points; returns the claims that hold. */
static int grade_class(const char *assignment, int students, int *nclaims)
{
    size_t cap = strlen(assignment) + 4096;
    char *src = malloc(cap);
    int held = 0, n = 0;
    if (!src) return -1;
    for (int s = 0; s < students; s++) {
        strcpy(src, assignment);
        int nc = (int)(sizeof claims / sizeof claims[0]);
        for (int c = 0; c < 10; c++) strcat(src, claims[(s + c) % nc]);
        int k, h = run(src, &k);
        if (h < 0) { free(src); return -1; }
        held += h;
        n += k;
    }
    free(src);
    *nclaims = n;
    return held;
}

int main(int argc, char **argv)
{
    cli_opt opts[] = {{0}};
    cli_no_positional(cli_parse(argc, argv, "verify_bench — how fast verify checks a claim, a 100-claim file and a class.", opts),
                      argc, argv);
    int held, n, bad = 0;
    double t = best_of(jac10, 5, &held, &n);
    printf("verify_jacobian_10x10_20pts_ms=%.3f\n", t);
    printf("verify_jacobian_10x10_goal_ms=20\n");
    printf("verify_jacobian_10x10_holds=%d\n", held == 1);
    bad |= held != 1;
    int lheld;
    double tl = best_of(jac10_latex, 5, &lheld, &n);
    printf("verify_jacobian_10x10_latex_ms=%.3f\n", tl);
    printf("verify_latex_over_plain=%.3f\n", tl / t);
    printf("verify_latex_over_plain_goal=1.10\n");
    printf("verify_jacobian_10x10_latex_holds=%d\n", lheld == 1);
    bad |= lheld != 1;

    int mheld, iheld;
    double tm = best_of(batch_matrix, 5, &mheld, &n), ti = best_of(batch_indexed, 5, &iheld, &n);
    printf("verify_batch_matrix_claims_ms=%.3f\n", tm);
    printf("verify_batch_indexed_claims_ms=%.3f\n", ti);
    printf("verify_matrix_over_indexed=%.3f\n", tm / ti);
    printf("verify_batch_claims_hold=%d\n", mheld == 2 && iheld == 2);
    bad |= mheld != 2 || iheld != 2;

    size_t cap = sizeof head + 100 * 64;
    char *src = malloc(cap);
    if (!src) return 2;
    strcpy(src, head);
    int nc = (int)(sizeof claims / sizeof claims[0]);
    for (int i = 0; i < 100; i++) strcat(src, claims[i % nc]);
    t = best_of(src, 3, &held, &n);
    printf("verify_100_claims_ms=%.3f\n", t);
    printf("verify_100_claims_goal_ms=1000\n");
    printf("verify_100_claims_count=%d\n", n);
    printf("verify_100_claims_hold=%d\n", held);
    bad |= held != 100;
    free(src);

    double best = 1e30;
    for (int r = 0; r < 3; r++) {
        double t0 = now_ms();
        held = grade_class(head, 200, &n);
        double dt = now_ms() - t0;
        if (dt < best) best = dt;
    }
    printf("verify_class_200x10_ms=%.1f\n", best);
    printf("verify_class_200x10_goal_ms=2000\n");
    printf("verify_class_200x10_claims=%d\n", n);
    printf("verify_class_200x10_hold=%d\n", held);
    bad |= held != 2000;
    return bad;
}
