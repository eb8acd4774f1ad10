/* verify_bench.c — how fast verify checks claims (goals of issue 6):
 *   a claim over a 10×10 Jacobian at 20 points in ≤ 20 ms,
 *   a 100-claim file (parse + check, 20 points each) in ≤ 1 s.
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

int main(int argc, char **argv)
{
    cli_opt opts[] = {{0}};
    cli_no_positional(cli_parse(argc, argv, "verify_bench — how fast verify checks a claim and a 100-claim file.", opts),
                      argc, argv);
    int held, n;
    double t = best_of(jac10, 5, &held, &n);
    printf("verify_jacobian_10x10_20pts_ms=%.3f\n", t);
    printf("verify_jacobian_10x10_goal_ms=20\n");
    printf("verify_jacobian_10x10_holds=%d\n", held == 1);

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
    free(src);
    return held == 100 ? 0 : 1;
}
