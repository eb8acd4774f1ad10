/* test_expr.c — the derivation language: the issue's examples behave as
 * their comments say, every error message (exact located text), verdicts,
 * resampling, limits, determinism. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "expr.h"

static expr_prog *parse(const char *src)
{
    expr_error e;
    expr_prog *p = expr_parse(src, strlen(src), &e);
    if (!p) printf("unexpected parse error: %d:%d: %s\n", e.line, e.col, e.msg);
    return p;
}

/* Checks claim c of src; returns the verdict (caller frees). */
static expr_verdict check1(expr_prog *p, int c, const expr_options *o)
{
    expr_verdict v;
    int rc = expr_check(p, c, o, &v);
    CHECK(rc == 0);
    return v;
}

/* The located message of src, as verify prints it with the name "t". */
static int error_is(const char *src, const char *want, int line)
{
    expr_error e;
    expr_prog *p = expr_parse(src, strlen(src), &e);
    if (p) { expr_free(p); printf("test_expr.c:%d: parsed, want error:\n%s", line, want); return 0; }
    char buf[2048];
    expr_format_error(buf, sizeof buf, "t", src, strlen(src), &e);
    if (strcmp(buf, want) != 0) {
        printf("test_expr.c:%d: error text\n--- got\n%s--- want\n%s---\n", line, buf, want);
        return 0;
    }
    return 1;
}
#define ERROR_IS(src, want) CHECK(error_is((src), (want), __LINE__))

static const char issue_example[] =
    "# comments start with '#'\n"
    "given x in (-4, 4)            # scalar sampled uniformly in a range\n"
    "given o[3]                    # vector, entries sampled from N(0, 1)\n"
    "given W[2][3], t[3] onehot    # matrix; a one-hot vector (random class)\n"
    "given p[4] simplex            # positive entries summing to 1\n"
    "let f = 1/(1 + exp(-x))\n"
    "let y[i] = exp(o[i]) / sum(k, exp(o[k]))      # index ranges inferred from use\n"
    "let L = -sum(k, t[k]*log(y[k]))\n"
    "claim d f / d x = f*(1 - f)\n"
    "claim d y[i] / d o[j] = y[i]*(delta(i,j) - y[j])\n"
    "claim d y[i] / d o[i] = y[i]*(1 - y[i])        # same letter twice: the diagonal\n"
    "claim for i != j: d y[i] / d o[j] = -y[i]*y[j]\n"
    "claim d L / d o[i] = y[i] - t[i]\n";

static void test_issue_example(void)
{
    expr_prog *p = parse(issue_example);
    CHECK(p != NULL);
    if (!p) return;
    CHECK(expr_claims(p) == 5);
    CHECK(strcmp(expr_claim_text(p, 0), "d f / d x = f*(1 - f)") == 0);
    CHECK(strcmp(expr_claim_text(p, 3), "for i != j: d y[i] / d o[j] = -y[i]*y[j]") == 0);
    CHECK(expr_claim_line(p, 4) == 13);
    expr_options o = expr_defaults();
    long want_entries[5] = {20, 9 * 20, 3 * 20, 6 * 20, 3 * 20};   /* diagonal: 3; i != j: 6 */
    for (int c = 0; c < 5; c++) {
        expr_verdict v = check1(p, c, &o);
        CHECK(v.holds && v.checked);
        CHECK(v.points == 20);
        CHECK(v.entries == want_entries[c]);
        CHECK(v.failed == 0);
        CHECK(v.max_err < 1e-12);
        CHECK(v.detail == NULL);
        expr_verdict_free(&v);
    }
    expr_free(p);
}

static void test_fails_with_counterexample(void)
{
    expr_prog *p = parse(
        "given o[3]\ngiven t[3] onehot\n"
        "let y[i] = exp(o[i]) / sum(k, exp(o[k]))\n"
        "let L = -sum(k, t[k]*log(y[k]))\n"
        "claim dL/do[i] = t[i] - y[i]\n"                 /* sign slip, shorthand dL/do */
        "claim d y[i] / d o[j] = -y[i]*y[j]\n"           /* missing delta */
        "claim d y[0] / d o[1] = -y[0]*y[1]\n");         /* one entry, holds */
    CHECK(p != NULL);
    if (!p) return;
    expr_options o = expr_defaults();
    expr_verdict v = check1(p, 0, &o);
    CHECK(!v.holds && v.checked);
    CHECK(v.failed == 60 && v.entries == 60);
    CHECK_NEAR(v.claimed, -v.engine, 1e-15);
    CHECK(v.detail && strstr(v.detail, "a sign slip?"));
    CHECK(v.detail && strstr(v.detail, "       at o = ["));
    CHECK(v.detail && strstr(v.detail, "       where y = ["));
    CHECK(v.detail && strstr(v.detail, ": claimed "));
    expr_verdict_free(&v);
    v = check1(p, 1, &o);
    CHECK(!v.holds);
    CHECK(v.failed == 60 && v.entries == 180);          /* only the diagonal is wrong */
    CHECK(v.detail && strstr(v.detail, "a missing delta term?"));
    expr_verdict_free(&v);
    v = check1(p, 2, &o);
    CHECK(v.holds && v.entries == 20);
    expr_verdict_free(&v);
    expr_free(p);
}

static void test_hints(void)
{
    expr_prog *p = parse(
        "given x in (-2, 2)\n"
        "let f = 1.7159*tanh(2*x/3)\n"
        "claim d f / d x = 1.14393*(1 - tanh(2*x/3)^2)\n"   /* rounded constant */
        "let g = tanh(2*x)\n"
        "claim d g / d x = 1 - g^2\n"                       /* missing factor 2 */
        "given v[3], W[3][3]\n"
        "let z = sum(j, v[j]*sum(i, v[i]*W[i][j]))\n"
        "claim d z / d W[i][j] = v[j]*v[j]\n"              /* only right on the diagonal */
        "claim for i != j: d z / d W[i][j] = v[j]*v[j]\n"); /* no diagonal checked: no such hint */
    CHECK(p != NULL);
    if (!p) return;
    expr_options o = expr_defaults();
    expr_verdict v = check1(p, 0, &o);
    CHECK(!v.holds);
    CHECK(v.max_err > 1e-7 && v.max_err < 1e-5);
    CHECK(v.detail && strstr(v.detail, "looks like rounding"));
    expr_verdict_free(&v);
    o.tol = 1e-5;                                       /* a looser tolerance accepts it */
    v = check1(p, 0, &o);
    CHECK(v.holds);
    expr_verdict_free(&v);
    o = expr_defaults();
    v = check1(p, 1, &o);
    CHECK(v.detail && strstr(v.detail, "claimed = 0.5 x engine at every entry"));
    expr_verdict_free(&v);
    v = check1(p, 2, &o);
    CHECK(!v.holds);
    CHECK(v.detail && strstr(v.detail, "the off-diagonal entries are missing (a delta term?) or an index is swapped"));
    expr_verdict_free(&v);
    v = check1(p, 3, &o);
    CHECK(!v.holds && v.detail && !strstr(v.detail, "hint"));
    expr_verdict_free(&v);
    expr_free(p);
}

static void test_semantics(void)
{
    expr_prog *p = parse(
        "given x in (0.5, 2), o[3]\n"
        "let a = x\n"                               /* a let naming an input: its own node */
        "let L = a*x\n"
        "claim d L / d a = x\n"                     /* through a, x held fixed */
        "claim d L / d x = 2*x\n"                   /* the total derivative */
        "claim d a / d L = 0\n"                     /* a does not depend on L */
        "claim d o[i] / d o[j] = delta(i, j)\n"
        "let y[i] = o[i]^2 + e + pi - pi\n"
        "claim d y[i] / d o[i] = 2*o[i]\n"
        "let q = x^x\n"                             /* a variable exponent */
        "claim d q / d x = q*(log(x) + 1)\n"
        "let w = -x^2\n"                            /* -(x^2) */
        "claim d w / d x = -2*x\n"
        "let u = 2^3^2\n"                           /* right-associative: 2^9 */
        "claim d u / d x = 0\n"
        "let s = sum(i, prod(j, o[j]) * o[i])\n"
        "claim d s / d o[0] = prod(j, o[j]) * (1 + sum(i, o[i]) / o[0])\n"
        "claim d y[i] / d o[j] = 2*o[i]*delta(i,j) for i >= j\n"
        "let h = sinh(x) + cosh(x) + sin(x) + cos(x) + sqrt(x) + abs(x) + sign(x)\n"
        "claim d h / d x = cosh(x) + sinh(x) + cos(x) - sin(x) + 1/(2*sqrt(x)) + 1\n");
    CHECK(p != NULL);
    if (!p) return;
    expr_options o = expr_defaults();
    for (int c = 0; c < expr_claims(p); c++) {
        expr_verdict v = check1(p, c, &o);
        if (!v.holds) printf("claim %d (%s) fails: %s", c, expr_claim_text(p, c), v.detail ? v.detail : "\n");
        CHECK(v.holds);
        expr_verdict_free(&v);
    }
    expr_free(p);
}

static void test_resampling(void)
{
    expr_prog *p = parse(
        "given x in (-1, 1)\n"
        "let f = log(x)\n"                          /* undefined for half the draws */
        "claim d f / d x = 1/x\n"
        "let g = log(-exp(x))\n"                    /* undefined everywhere */
        "claim d g / d x = 1\n"
        "given t[3] onehot\n"
        "let r = relu(t[0] - t[0])\n"               /* always at the kink */
        "claim d r / d t[0] = 0\n");
    CHECK(p != NULL);
    if (!p) return;
    expr_options o = expr_defaults();
    expr_verdict v = check1(p, 0, &o);
    CHECK(v.holds && v.checked && v.points == 20);
    CHECK(v.resampled > 0);
    CHECK(v.detail && strstr(v.detail, "note: ") && strstr(v.detail, "log(-"));
    expr_verdict_free(&v);
    v = check1(p, 1, &o);
    CHECK(!v.holds && !v.checked);
    CHECK(v.detail && strstr(v.detail, "cannot be checked"));
    CHECK(v.detail && strstr(v.detail, "log(-"));
    expr_verdict_free(&v);
    v = check1(p, 2, &o);
    CHECK(!v.holds && !v.checked);
    CHECK(v.detail && strstr(v.detail, "relu(0) at 7:9 is at its kink"));
    expr_verdict_free(&v);
    expr_free(p);
}

static void test_determinism(void)
{
    expr_prog *p = parse(issue_example);
    if (!p) { CHECK(0); return; }
    expr_options o = expr_defaults();
    expr_verdict a = check1(p, 1, &o), b = check1(p, 1, &o);
    CHECK(a.max_err == b.max_err);
    expr_verdict_free(&a);
    expr_verdict_free(&b);
    o.seed = 2;
    b = check1(p, 1, &o);
    CHECK(b.holds);
    expr_verdict_free(&b);
    expr_free(p);
}

static void test_errors(void)
{
    ERROR_IS("given x\nlet f = x $ 2\n",
             "t:2:13: expected an operator before number '2' (write a*b for a product)\nlet f = x $ 2\n            ^\n");
    ERROR_IS("given x\nlet f = x \xE2\x88\x82\n",
             "t:2:11: unknown name 'd' (define it with given or let first)\nlet f = x \xE2\x88\x82\n          ^\n");
    ERROR_IS("given x\nlet y = z + 1\n",
             "t:2:9: unknown name 'z' (define it with given or let first)\nlet y = z + 1\n        ^\n");
    ERROR_IS("given o[3]\nlet y = o[i]\n",
             "t:2:11: index 'i' is not bound: put it on the left side (y[i]) or sum over it (sum(i, ...))\n"
             "let y = o[i]\n          ^\n");
    ERROR_IS("given o[3]\nlet y[i] = 2\n",
             "t:2:7: cannot infer the range of index 'i': no quantity is indexed by it in the definition of y\n"
             "let y[i] = 2\n      ^\n");
    ERROR_IS("given o[3]\nlet s = sum(k, 1)\n",
             "t:2:13: cannot infer the range of index 'k': no quantity is indexed by it in the sum\n"
             "let s = sum(k, 1)\n            ^\n");
    ERROR_IS("given o[3]\nlet y = o[3]\n",
             "t:2:11: index 3 is out of range: o has entries 0 to 2 here\nlet y = o[3]\n          ^\n");
    ERROR_IS("given o[3], p[4]\nlet y[i] = o[i] + p[i]\n",
             "t:2:21: shape conflict: index 'i' runs over 4 entries here (p has 4) but over 3 at 2:14 (o)\n"
             "let y[i] = o[i] + p[i]\n                    ^\n");
    ERROR_IS("given h[3], W[2][3]\nclaim d h[i] / d W[i][j] = 0\n",
             "t:2:20: shape conflict: index 'i' runs over 2 entries here (W has 2) but over 3 at 2:11 (h)\n"
             "claim d h[i] / d W[i][j] = 0\n                   ^\n");
    ERROR_IS("given x\nclaim d z / d x = 1\n",
             "t:2:9: unknown quantity 'z': a claim is about quantities defined before it (with given or let)\n"
             "claim d z / d x = 1\n        ^\n");
    ERROR_IS("given x\nclaim d x / d z = 1\n",
             "t:2:15: unknown quantity 'z': a claim is about quantities defined before it (with given or let)\n"
             "claim d x / d z = 1\n              ^\n");
    /* ∂ before an undeclared Greek letter: the letter is named (it once
     * read as the name 'd'), as in LaTeX */
    ERROR_IS("given x\nclaim ∂δ/∂x = 1\n",
             "t:2:8: unknown quantity 'delta': a claim is about quantities defined before it (with given or let)\n"
             "claim ∂δ/∂x = 1\n       ^\n");
    ERROR_IS("given x\nclaim \\frac{\\partial \\delta}{\\partial x} = 1\n",
             "t:2:22: unknown quantity 'delta': a claim is about quantities defined before it (with given or let)\n"
             "claim \\frac{\\partial \\delta}{\\partial x} = 1\n                     ^\n");
    ERROR_IS("given x\ngiven x\n", "t:2:7: 'x' is already defined at 1:7\ngiven x\n      ^\n");
    ERROR_IS("given x\nlet x = 2\n", "t:2:5: 'x' is already defined at 1:7\nlet x = 2\n    ^\n");
    ERROR_IS("given x\nlet f = x +\n",
             "t:2:12: expected a number, a name or '(', found end of line\nlet f = x +\n           ^\n");
    ERROR_IS("given x\nlet f = exp(x",
             "t:2:14: expected ')' to close exp( at 2:9, found end of file\nlet f = exp(x\n             ^\n");
    ERROR_IS("given x\nlet f = (x + 1\nclaim d f / d x = 1\n",
             "t:3:1: expected ')' to close '(' at 2:9, found 'claim'\nclaim d f / d x = 1\n^\n");
    ERROR_IS("given W[2][3]\nlet a = W[0]\n",
             "t:2:9: 'W' has 2 indices, here 1: write W[i][j]\nlet a = W[0]\n        ^\n");
    ERROR_IS("given x\nlet a = x[0]\n", "t:2:10: 'x' is a scalar: it takes no index\nlet a = x[0]\n         ^\n");
    ERROR_IS("given o[2]\nlet a = o[0][1]\n", "t:2:13: 'o' has 1 index, not more\nlet a = o[0][1]\n            ^\n");
    ERROR_IS("given o[2]\nlet a[i] = o[i+1]\n",
             "t:2:15: expected ']' after the index (an index is a letter or a whole number), found '+'\n"
             "let a[i] = o[i+1]\n              ^\n");
    ERROR_IS("given x\nlet f = 1.2.3\n",
             "t:2:9: malformed number '1.2.'\nlet f = 1.2.3\n        ^\n");
    ERROR_IS("given x\nlet f = x 2\n",
             "t:2:11: expected an operator before number '2' (write a*b for a product)\nlet f = x 2\n          ^\n");
    ERROR_IS("given x\nlet f = 1e999\n", "t:2:9: number '1e999' is too large\nlet f = 1e999\n        ^\n");
    ERROR_IS("given x\nlet f = 1.5e\n",
             "t:2:9: malformed number '1.5e': expected digits after the exponent\nlet f = 1.5e\n        ^\n");
    ERROR_IS("given x[0]\n",
             "t:1:9: size 0 is out of range: sizes are whole numbers from 1 to 1000\ngiven x[0]\n        ^\n");
    ERROR_IS("given x[2.5]\n",
             "t:1:9: size 2.5 is out of range: sizes are whole numbers from 1 to 1000\ngiven x[2.5]\n        ^\n");
    ERROR_IS("given W[100][100]\n",
             "t:1:14: 'W' would have 10000 entries; the limit is 1000 per quantity\ngiven W[100][100]\n             ^\n");
    ERROR_IS("given a[1][1][1][1][1]\n",
             "t:1:20: at most 4 indices per quantity\ngiven a[1][1][1][1][1]\n                   ^\n");
    ERROR_IS("given x in (4, -4)\n",
             "t:1:12: empty range: the lower end must be below the upper end\ngiven x in (4, -4)\n           ^\n");
    ERROR_IS("given x in 4\n", "t:1:12: expected '(' after in: given x in (-4, 4)\ngiven x in 4\n           ^\n");
    ERROR_IS("given x onehot\n",
             "t:1:9: onehot needs a vector or a matrix (given t[3] onehot)\ngiven x onehot\n        ^\n");
    ERROR_IS("given x normal\n", "t:1:9: expected the end of the line, found 'normal'\ngiven x normal\n        ^\n");
    ERROR_IS("given x\nlet f = foo(x)\n",
             "t:2:9: unknown function 'foo' (try --help for the list)\nlet f = foo(x)\n        ^\n");
    ERROR_IS("given x\nlet f = exp(x, 2)\n", "t:2:14: exp takes one argument\nlet f = exp(x, 2)\n             ^\n");
    ERROR_IS("given x\nlet f = exp x\n",
             "t:2:9: 'exp' is a function: write exp(...)\nlet f = exp x\n        ^\n");
    ERROR_IS("given x\nlet f = exp\n", "t:2:9: 'exp' is a function: write exp(...)\nlet f = exp\n        ^\n");
    ERROR_IS("given x\nlet exp = x\n",
             "t:2:5: 'exp' is a function; pick another name for the quantity\nlet exp = x\n    ^\n");
    ERROR_IS("given for\n", "t:1:7: 'for' is a word of the language; pick another name for the quantity\ngiven for\n      ^\n");
    ERROR_IS("given x\nlet y = y\n",
             "t:2:9: 'y' is being defined here: a let can only use quantities defined before it\nlet y = y\n        ^\n");
    ERROR_IS("hello\n",
             "t:1:1: expected given, let or claim at the start of a statement, found 'hello'\nhello\n^\n");
    ERROR_IS("given o[3]\nlet y[i][i] = o[i]\n", "t:2:10: index 'i' appears twice on the left side\nlet y[i][i] = o[i]\n         ^\n");
    ERROR_IS("given o[3]\nlet y[0] = o[0]\n",
             "t:2:7: expected an index letter on the left side (let y[i] = ...), found number '0'\nlet y[0] = o[0]\n      ^\n");
    ERROR_IS("given i\ngiven o[3]\nlet y[i] = o[i]\n",
             "t:3:7: 'i' is a quantity (defined at 1:7); an index needs a name of its own\nlet y[i] = o[i]\n      ^\n");
    ERROR_IS("given o[3]\nlet y[i] = i*o[i]\n",
             "t:2:12: 'i' is an index, not a value: use it inside [ ] or delta(i, ...)\nlet y[i] = i*o[i]\n           ^\n");
    ERROR_IS("given o[3]\nlet s = sum(k, sum(k, o[k]))\n",
             "t:2:20: index 'k' is already bound at 2:13; pick another letter\nlet s = sum(k, sum(k, o[k]))\n                   ^\n");
    ERROR_IS("given o[3]\nlet s = sum(1, o[1])\n",
             "t:2:13: expected an index letter as the first argument of sum, found number '1'\n"
             "let s = sum(1, o[1])\n            ^\n");
    ERROR_IS("given o[3]\nlet s = delta(i, 0)\n",
             "t:2:15: delta and sum(j != i, ...) take index letters bound here, and 'i' is not one\nlet s = delta(i, 0)\n              ^\n");
    ERROR_IS("given o[3]\nlet y[i] = o[i]\nclaim for k != j: d y[i]/d o[j] = 0\n",
             "t:3:11: 'k' in the condition is not an index of d A / d B\nclaim for k != j: d y[i]/d o[j] = 0\n          ^\n");
    ERROR_IS("given o[3]\nlet y[i] = o[i]\nclaim for i != i: d y[i]/d o[j] = 0\n",
             "t:3:1: no entry of d y / d o satisfies the conditions\nclaim for i != i: d y[i]/d o[j] = 0\n^\n");
    ERROR_IS("given o[3]\nclaim for i ~ j: d o[i]/d o[j] = 0\n",
             "t:2:13: unexpected character '~'\nclaim for i ~ j: d o[i]/d o[j] = 0\n            ^\n");
    ERROR_IS("given o[3]\nclaim for i j: d o[i]/d o[j] = 0\n",
             "t:2:13: expected '!=', '==', '<', '>', '<=' or '>=' in the condition, found 'j'\n"
             "claim for i j: d o[i]/d o[j] = 0\n            ^\n");
    ERROR_IS("given o[3]\nclaim d o[i] = 1\n",
             "t:2:14: expected '/' between d A and d B, found '='\nclaim d o[i] = 1\n             ^\n");
    /* a claim may now compare values (claim A = B), so o[i] / d o[j] reads
     * as o[i] divided by a derivative that lacks its '/ d B' */
    ERROR_IS("given o[3]\nclaim o[i] / d o[j] = 1\n",
             "t:2:21: expected '/' between d A and d B, found '='\n"
             "claim o[i] / d o[j] = 1\n                    ^\n");
    ERROR_IS("given o[3]\nclaim d o[i] / d o[j]\n",
             "t:2:22: expected '=' and the claimed derivative, found end of line\nclaim d o[i] / d o[j]\n                     ^\n");
    ERROR_IS("given o[3]\nclaim d o / d o[j] = 1\n",
             "t:2:9: 'o' has 1 index: write o[i]\nclaim d o / d o[j] = 1\n        ^\n");
    ERROR_IS("given o[3]\nclaim d o[e] / d o[j] = 1\n",
             "t:2:11: 'e' is a constant; pick another letter for the index\nclaim d o[e] / d o[j] = 1\n          ^\n");
    ERROR_IS("given o[3]\nclaim d o[i] / d o[j] = o[k]\n",
             "t:2:27: index 'k' is not bound: use it in d A / d B or sum over it (sum(k, ...))\n"
             "claim d o[i] / d o[j] = o[k]\n                          ^\n");
    ERROR_IS("claim\n", "t:1:6: expected d A / d B = ... after claim, found end of line\nclaim\n     ^\n");
    ERROR_IS("given x\n\tlet f = \t x @\n",
             "t:2:14: unexpected character '@'\n\tlet f = \t x @\n\t        \t   ^\n");
    ERROR_IS("given x\nlet f = x\x01\n", "t:2:10: unexpected byte 0x01\nlet f = x?\n         ^\n");
    ERROR_IS("given x\xff\n", "t:1:8: unexpected byte 0xFF: only ASCII, LaTeX and the symbols in --help are understood here\ngiven x\xff\n       ^\n");
}

static void test_limits(void)
{
    /* 1 MB of nesting: an error, not a stack overflow */
    size_t n = 1 << 20;
    char *s = malloc(2 * n + 64);
    if (!s) { CHECK(0); return; }
    strcpy(s, "given x\nlet f = ");
    size_t k = strlen(s);
    memset(s + k, '(', n);
    s[k + n] = 'x';
    memset(s + k + n + 1, ')', n);
    s[k + 2 * n + 1] = '\0';
    expr_error e;
    expr_prog *p = expr_parse(s, strlen(s), &e);
    CHECK(p == NULL);
    CHECK(strstr(e.msg, "nested too deeply") != NULL);
    CHECK(e.line == 2 && e.col == 9 + EXPR_MAX_NESTING);
    /* a 1 MB chain of additions */
    k = strlen("given x\nlet f = x");
    memcpy(s, "given x\nlet f = x", k);
    for (size_t i = 0; i < n / 2; i++) { s[k++] = '+'; s[k++] = 'x'; }
    s[k] = '\0';
    p = expr_parse(s, k, &e);
    CHECK(p == NULL);
    CHECK(strstr(e.msg, "more than 1000 operations") != NULL);
    /* the caret line of a long line is a window */
    char buf[512];
    size_t need = expr_format_error(buf, sizeof buf, "t", s, k, &e);
    CHECK(need < 400);
    CHECK(strstr(buf, "\n...+x+x") != NULL);
    char small[16];                               /* a short buffer: cut, terminated */
    CHECK(expr_format_error(small, sizeof small, "t", s, k, &e) == need);
    CHECK(strlen(small) == sizeof small - 1);
    free(s);

    /* work: nested sums over big ranges are refused, not run */
    ERROR_IS("given a[1000], b[1000]\nlet s = sum(i, sum(j, a[i]*b[j]))\n",
             "t:2:5: 's' needs about 2001001 graph nodes per point; the limit is 1000000\n"
             "let s = sum(i, sum(j, a[i]*b[j]))\n    ^\n");
    ERROR_IS("given a[1000], b[1000]\nlet s[i][j] = a[i]*b[j]\n",
             "t:2:5: 's' would have 1000000 entries; the limit is 1000 per quantity\nlet s[i][j] = a[i]*b[j]\n    ^\n");
    ERROR_IS("given a[500]\nlet s[i] = a[i]*sum(j, a[j])\nclaim d s[i] / d a[j] = 1\n",
             "t:3:1: this claim needs about 1.27e+08 node visits per point; the limit is 5e+06\n"
             "claim d s[i] / d a[j] = 1\n^\n");
    /* the biggest allowed quantity still works */
    p = parse("given a[1000]\nlet s = sum(i, a[i]^2)\nclaim d s / d a[i] = 2*a[i]\n");
    CHECK(p != NULL);
    if (p) {
        expr_options o = expr_defaults();
        o.points = 2;
        expr_verdict v = check1(p, 0, &o);
        CHECK(v.holds && v.entries == 2000);
        expr_verdict_free(&v);
        expr_free(p);
    }
    /* empty input and comments only: no claims, no error */
    p = parse("");
    CHECK(p && expr_claims(p) == 0);
    expr_free(p);
    p = parse("# nothing\n\n   # more\n");
    CHECK(p && expr_claims(p) == 0);
    expr_free(p);
    expr_free(NULL);
}

static void test_syntax_extras(void)
{
    /* continuation inside parentheses and with a backslash; unicode minus
     * and dot; conditions after the claim; literal indices; ranges with pi */
    expr_prog *p = parse(
        "given x in [-pi, pi], o[3]\n"
        "let f = sin(x) *\\\n    cos(x)\n"
        "let g = (x \xE2\x88\x92 1) \xC2\xB7 (x +\n   1)   # x^2 - 1\n"
        "claim d f / d x = cos(x)^2 - sin(x)^2\n"
        "claim d g / d x = 2*x\n"
        "let y[i] = exp(o[i]) / sum(k, exp(o[k]))\n"
        "claim d y[i] / d o[j] = -y[i]*y[j] for i != j\n"
        "claim for i < j, j == 2: d y[i] / d o[j] = -y[i]*y[j]\n"
        "claim d y[0] / d o[0] = y[0]*(1 - y[0])\n"
        "claim d y[i]/d o[j] = y[i]*(delta(i, j) - y[j]) # a comment\n");
    CHECK(p != NULL);
    if (!p) return;
    CHECK(expr_claims(p) == 6);
    CHECK(strcmp(expr_claim_text(p, 2), "d y[i] / d o[j] = -y[i]*y[j] for i != j") == 0);
    CHECK(strcmp(expr_claim_text(p, 5), "d y[i]/d o[j] = y[i]*(delta(i, j) - y[j])") == 0);
    expr_options o = expr_defaults();
    long want[6] = {20, 20, 120, 40, 20, 180};
    for (int c = 0; c < expr_claims(p); c++) {
        expr_verdict v = check1(p, c, &o);
        CHECK(v.holds);
        CHECK(v.entries == want[c]);
        expr_verdict_free(&v);
    }
    expr_free(p);
}

/* Matrix claims: the same verdict, bit for bit, as the indexed claim
 * they stand for (the same entries in the same order at the same points),
 * right and wrong; shape errors located, naming both shapes. */
static void test_matrix(void)
{
    static const char head[] =
        "given x[3], W[3][2], b[2], t[2]\n"
        "let z = W^T x + b\n"
        "let y = sigmoid(z)\n"
        "let L = sum(j, (y[j] - t[j])^2) / 2\n"
        "let dz = (y - t) .* y .* (1 - y)\n";
    static const char *const pairs[][2] = {
        {"claim d L / d W = x dz^T\n", "claim d L / d W[i][j] = x[i]*dz[j]\n"},
        {"claim d L / d x = W dz\n", "claim d L / d x[i] = sum(k, W[i][k]*dz[k])\n"},
        {"claim d L / d W = x (y - t)^T\n", "claim d L / d W[i][j] = x[i]*(y[j] - t[j])\n"},   /* wrong */
        {"claim d z / d x = W^T\n", "claim d z[i] / d x[j] = W[j][i]\n"},
    };
    for (size_t n = 0; n < sizeof pairs / sizeof pairs[0]; n++) {
        char a[512], b[512];
        snprintf(a, sizeof a, "%s%s", head, pairs[n][0]);
        snprintf(b, sizeof b, "%s%s", head, pairs[n][1]);
        expr_prog *pa = parse(a), *pb = parse(b);
        CHECK(pa && pb);
        if (!pa || !pb) { expr_free(pa); expr_free(pb); continue; }
        expr_options o = expr_defaults();
        expr_verdict va = check1(pa, 0, &o), vb = check1(pb, 0, &o);
        CHECK(va.holds == (n != 2) && vb.holds == va.holds);
        CHECK(va.entries == vb.entries && va.failed == vb.failed);
        CHECK(memcmp(&va.max_err, &vb.max_err, sizeof va.max_err) == 0);
        CHECK(memcmp(&va.claimed, &vb.claimed, sizeof va.claimed) == 0);
        CHECK(memcmp(&va.engine, &vb.engine, sizeof va.engine) == 0);
        CHECK(expr_claim_same_target(pa, 0, 0));
        expr_verdict_free(&va);
        expr_verdict_free(&vb);
        expr_free(pa);
        expr_free(pb);
    }
    ERROR_IS("given x[3], d[2]\nlet g = x^T d\n",
             "t:2:9: x^T d: cannot multiply (1\xC3\x97" "3) by (2\xC3\x97" "1) (they fit in the other order or both "
             "transposed)\nlet g = x^T d\n        ^\n");
    ERROR_IS("given x[3], W[3][3]\nlet L = sum(i, x[i])\nclaim d L / d W = x\n",
             "t:3:19: the sides of this claim differ in shape: d L / d W is (3\xC3\x97" "3), x is (3\xC3\x97" "1)\n"
             "claim d L / d W = x\n                  ^\n");
    ERROR_IS("given x[3], W[3][3]\nlet h[i] = W x\n",
             "t:2:12: W x is (3\xC3\x97" "1): an indexed let defines one entry, so write it with indices, or define the "
             "whole: let h = ...\nlet h[i] = W x\n           ^\n");
    ERROR_IS("given W[3][3]\nlet V[i][j] = W[i][j]\nclaim d V / d W = 0\n",
             "t:3:7: d V / d W would have 4 indices: write it with indices, d V[..] / d W[..] (whole, d A / d B "
             "takes a vector by a vector)\nclaim d V / d W = 0\n      ^\n");
}

int main(void)
{
    test_issue_example();
    test_fails_with_counterexample();
    test_hints();
    test_semantics();
    test_resampling();
    test_determinism();
    test_errors();
    test_limits();
    test_syntax_extras();
    test_matrix();
    return check_report("test_expr");
}
