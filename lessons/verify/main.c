/* main.c — verify, the student's bench: check a derivation written in text.
 *
 *   build/verify lessons/verify/derivations/02_local_derivatives.txt
 *   build/verify -e 'given x
 *                    let f = sigmoid(x)
 *                    claim d f / d x = f*(1 - f)'
 *
 * Each claim is checked at seeded random points against the Jacobian the
 * engine computes by reverse mode (lessons/verify/expr.h); one line per claim,
 * HOLDS or FAILS, and for FAILS a counterexample to follow by hand.
 * Exit 0 when every claim holds, 1 when any fails, 2 on a malformed file,
 * a file with no claim, a run too big, or a bad command line.
 *
 * Not here: the language (the other files of lessons/verify/, behind expr.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "expr.h"
#include "output.h"

#define VERIFY_MAX_POINTS 10000

/* --help: the language, with every limit printed from its constant. */
static void print_help(void)
{
    printf(
    "verify — check a derivation against the engine, with a counterexample when it is wrong\n"
    "\n"
    "usage: verify [options] FILE...\n"
    "       verify [options] -e 'TEXT'     (several -e and FILEs may be mixed; FILE - reads stdin)\n"
    "\n"
    "options:\n"
    "  --points N   points per claim (default 20, at most %d; a run is refused beyond\n"
    "               %.3g node visits in all: points x claims x graph size)\n"
    "  --seed N     seed of the sampled points (default 1); same seed, same output\n"
    "  --tol X      an entry agrees when |claimed - engine| <= X * max(|claimed|, |engine|, %g)\n"
    "               (default 1e-9: a constant rounded to 6 digits is caught)\n"
    "  --json       the verdicts as one JSON document: a claim per object, a verdict per link\n"
    "  --gradescope FILE   also write Gradescope's results.json (a test per claim)\n"
    "  --defs FILE  batch: FILE is the assignment (givens, lets, a claim per question);\n"
    "               each FILE after it is a student's submission, read after the\n"
    "               assignment; a question scores 1 when the student's first claim\n"
    "               about the same derivative (or value) holds. Prints a CSV\n"
    "               student,question...,score (a malformed submission scores 0);\n"
    "               the whole batch's work is bounded as a run's (refused beyond it)\n"
    "  --help       this text\n"
    "  --version    the version, one line\n"
    "\n"
    "Prints one line per claim, HOLDS or FAILS, the claim as written and its largest\n"
    "relative error (max rel. error); under a FAILS, the worst counterexample: the\n"
    "sampled inputs (at ...; on a long line only those the entry depends on), the\n"
    "quantities the claim names (where ...), the entry, claimed vs engine value, and a\n"
    "hint when the error has a telling shape (a sign slip, a constant factor, rounding,\n"
    "a reciprocal, a transposed index or missing off-diagonal entries, a missing\n"
    "delta term, a sign or a factor on the failing entries only). A chain A = B = C\n"
    "gets a verdict per link and names the first wrong one. Exit 0 when every claim\n"
    "holds, 1 when any fails, 2 on a malformed file, a file with no claim or a bad\n"
    "command line (with file:line:col and a caret).\n"
    "\n",
           VERIFY_MAX_POINTS, EXPR_MAX_RUN_WORK, EXPR_FLOOR);
}

/* --help, the language: statements, expressions, claims, checking. */
static void print_help_language(void)
{
    fputs(
    "THE LANGUAGE — one statement per line; '#' starts a comment; inside ( ) or [ ]\n"
    "a statement may go on over several lines, elsewhere end a line with \\ to go on.\n"
    "\n"
    "  given x in (-4, 4)          a scalar input, uniform in the range\n"
    "  given o[3]                  a vector input, entries drawn from N(0, 1)\n"
    "  given W[2][3], t[3] onehot  a matrix; a one-hot vector (a random class)\n"
    "  given p[4] simplex          positive entries summing to 1\n"
    "                              (onehot and simplex apply per row of a matrix)\n"
    "  given u[2] = [1, -1]        a fixed input (also W[2][3] = [[...], [...]]): a claim\n"
    "                              on fixed inputs only is checked at that point, and a\n"
    "                              claimed decimal (claim s = 0.8807971) at its printed\n"
    "                              precision: right when the engine's value rounds to it\n"
    "  let f = 1/(1 + exp(-x))     a defined quantity, from earlier ones\n"
    "  let y[i] = exp(o[i]) / sum(k, exp(o[k]))\n"
    "                              indexed: evaluated for every i; the range of an\n"
    "                              index is inferred from the quantities it indexes\n"
    "  claim d f / d x = f*(1 - f)\n"
    "  claim d y[i] / d o[j] = y[i]*(delta(i,j) - y[j])    every entry i, j\n"
    "  claim d y[i] / d o[i] = y[i]*(1 - y[i])             same letter twice: the diagonal\n"
    "  claim for i != j: d y[i] / d o[j] = -y[i]*y[j]      only the entries with i != j\n"
    "  claim d y[0] / d o[2] = -y[0]*y[2]                  one entry\n"
    "  claim d l / d o[i] = sum(j, d l / d y[j] * d y[j] / d o[i]) = y[i] - t[i]\n"
    "                              a chain: each '=' is a link with its own verdict;\n"
    "                              d A / d B on the right is the engine's derivative\n"
    "  claim sum(k, y[k]) = 1      a value claim: both sides compared as values\n"
    "  let s[i] = sum(j != i, y[j])   a sum over every j but i\n"
    "\n"
    "Expressions: numbers (1, 0.5, 1e-3), e, pi; + - * / ^ with the usual precedence\n"
    "(-x^2 = -(x^2); ^ groups to the right), parentheses; exp log sqrt abs sin cos\n"
    "tanh sinh cosh sech sigmoid relu; stanh(x) = 1.7159*tanh(2x/3); step(x) (1 for\n"
    "x > 0, else 0) and sign(x), the derivatives of relu and abs; max(a, b), min(a, b);\n"
    "delta(i, j); f'(x) (also f\xE2\x80\xB2) for those of one argument but step and sign:\n"
    "sigmoid'(z) = sigmoid(z)*(1 - sigmoid(z)), tanh'(x) = 1 - tanh(x)^2, relu'(x) =\n"
    "step(x), ...;\n"
    "sum(k, expr) and prod(k, expr) over every value of the index k. Indices are\n"
    "letters or whole numbers from 0: v[i], W[i][j], y[0]; at most 4 per quantity.\n"
    "x^p with p fixed is a power (x may be negative for whole p); x^y with y\n"
    "depending on inputs is exp(y*log(x)) and needs x > 0. The characters − · ×\n"
    "pasted from notes read as - * *. Names are letters, digits and _; the words\n"
    "given let claim for in onehot simplex sum prod delta and the function names\n"
    "are reserved (e and pi may be redefined by a given or a let).\n"
    "\n",
          stdout);
    printf(
    "Claims: d A / d B (or dA/dB) where A is a given or defined quantity and B a\n"
    "given or defined one. With B defined (a let), the derivative is taken through\n"
    "B with everything else held fixed — the delta of backpropagation, e.g.\n"
    "d L / d h[j]. Conditions 'for i != j, j == 2:' (== != < > <= >=, joined by ','\n"
    "or 'and'; also written after the claim: '... = -y[i]*y[j] for i != j') restrict\n"
    "the entries checked. The right side may use any quantity defined before the\n"
    "claim, such as helpers: let dout[j] = y[j] - t[j]; claim d L / d c[j] = dout[j].\n"
    "\n"
    "Checking: at each point every input is drawn afresh, the engine builds the\n"
    "graph of the lets (one scalar node per entry), takes the Jacobian by one\n"
    "reverse sweep per entry of A, and compares it entry by entry with the claimed\n"
    "expression at the same point. A draw where some value is undefined (nan, inf:\n"
    "log of a negative number, division by 0) or at a kink (relu, abs, step, sign\n"
    "of exactly 0) is thrown away and drawn again; after %d such draws in a row\n"
    "the claim FAILS as 'cannot be checked', with the reason.\n"
    "\n",
           expr_defaults().max_tries);
}

/* --help, the language: matrix claims. */
static void print_help_matrix(void)
{
    fputs(
    "Matrix claims: a vector or a matrix used whole, without indices. x[3] is a\n"
    "column (3x1), W[3][2] is 3x2, a scalar 1x1.\n"
    "  let z = W^T x + b           ^T transposes; a let of a matrix has its shape\n"
    "                              (here z[2])\n"
    "  let dz = (y - t) .* y .* (1 - y)    .* is the product entry by entry\n"
    "  claim d L / d W = x dz^T    d L / d W has W's shape; a column times a row is the\n"
    "                              outer product (a course writing x^T d takes x as a\n"
    "                              row: declare it x[1][3])\n"
    "  claim d L / d x = W dz      * or juxtaposition between two non-scalars is the\n"
    "                              matrix product (summed in index order)\n"
    "  claim d J / d W = X^T D     a batch: X[B][D], D[B][H], one row per sample\n"
    "  claim d v / d u = M         the Jacobian of two vectors: a row per entry of v\n"
    "+ - / and powers apply entry by entry to operands of one shape, a scalar with\n"
    "a matrix to every entry, functions to every entry. Shapes are checked while\n"
    "parsing: 'x^T dz: cannot multiply (1x3) by (2x1)' with the place. The sides of\n"
    "a claim have one shape (a number stands for every entry); it is checked entry\n"
    "by entry, and a counterexample names the entry, d L / d W[1][0].\n"
    "\n",
          stdout);
}

/* --help, LaTeX and Unicode as reports write them, and the limits. */
static void print_help_latex(void)
{
    fputs(
    "FROM LaTeX — paste an equation as it stands (inside $...$, $$...$$ or bare):\n"
    "\n"
    "  LaTeX or Unicode                     reads as\n"
    "  \\frac{a}{b}                          (a)/(b)\n"
    "  \\frac{\\partial L}{\\partial o_i}, dL/do_i, ∂L/∂o_i   d L / d o[i]\n"
    "  y_i, w_{hk}, W_{i,j}, y_1             y[i], w[h][k], W[i][j], y[0]: a subscript\n"
    "                                       indexes a name declared with indices\n"
    "                                       (numbers in subscripts count from 1)\n"
    "  \\text{for } j = 1, & \\text{if } i = 2  a number compared with an index in a\n"
    "                                       LaTeX condition counts from 1 too: j = 1 is\n"
    "                                       y_1, y[0] (the plain for j == 1 is y[1])\n"
    "  \\sum_k, \\sum_{k=1}^{K}, Σ_k          sum(k, ...) over the product that follows;\n"
    "                                       K a number or a constant (let K = 3) that must\n"
    "                                       equal the index's range (or gives it, when the\n"
    "                                       body does not use k: \\sum_{k=1}^{K} x = Kx)\n"
    "  \\sum_{k,j}, \\sum_{kj}, \\sum_{k\\mu}    sum(k, sum(j, ...)): several indices\n"
    "  \\sum_{j \\neq i}                     sum(j != i, ...): every j but i\n"
    "  \\prod_k, Π_k                         prod(k, ...)\n"
    "  \\delta_{ij}, δ_{ij}                  delta(i, j)\n"
    "  e^{x}, x^{2}, x²                     exp(x), x^2\n"
    "  \\exp \\log \\ln \\tanh \\sinh \\cosh    exp log log tanh sinh cosh; \\log y_k\n"
    "  \\sin \\cos \\sqrt{x}                   without parentheses takes what follows\n"
    "  \\max(a, b) \\min(a, b), |x|           max min abs (also \\lvert x \\rvert)\n"
    "  \\sigma(x), σ(x)                      sigmoid(x)\n"
    "  \\sigma'(z), σ′(z), \\tanh'(x)          sigmoid'(z), tanh'(x): the derivatives\n"
    "  \\tanh^2 x                            tanh(x)^2\n"
    "  \\cdot \\times · × −                   * * * * -\n"
    "  \\left( \\right) \\, \\quad & \\\\        layout, ignored (\\\\ and \\ at a line's end go on)\n"
    "  $$ ... $$, \\begin{aligned} ... \\end{aligned}   layout over several lines: the\n"
    "                                       lines make one statement (a chain: &= ... \\\\);\n"
    "                                       also align, split, equation, gather\n"
    "  \\tag{7}, \\quad (7) at a line's end   an equation number, ignored\n"
    "  other \\text{...}                     words between formulas, ignored\n"
    "  \\mathbf{x} \\boldsymbol{x} \\mathrm{x}  x (also \\boldsymbol{\\delta}: delta)\n"
    "  \\hat{y} \\bar{x} \\tilde{x}             the names yhat xbar xtilde\n"
    "  W^{(o)}, s_j^{(h)}, \\delta^{(2)}_k    a layer label is part of the name: W_o,\n"
    "                                       s_h[j], delta_2[k] (declare W_o or W^{(o)})\n"
    "  \\alpha \\nu \\Sigma \\Delta ...        names: given \\lambda in (0, 1)\n"
    "  \\sigma_i, \\delta_k, σ, δ, Δ          a quantity when one is declared with that name\n"
    "                                       (let \\sigma_i = ..., let sigma[i] = ...),\n"
    "                                       else sigmoid and the Kronecker delta; also\n"
    "                                       after ∂: ∂δ_k/∂x, \\frac{\\partial \\delta_k}{...}\n"
    "  let \\sigma_i = ..., let y_{ij} = ...  a let's indices as a subscript\n"
    "  H(\\mathbf{t}, \\mathbf{s})             H, for a declared H: the arguments a report\n"
    "                                       writes (two or more names, or one \\mathbf)\n"
    "  2x, y_i(1 - y_i), \\delta_k a_j, Kx    products (a number after a name, x 2, is\n"
    "                                       refused; Kx is K*x for scalars K, x when no\n"
    "                                       name Kx is declared)\n"
    "  X^\\top, X^{T}, X\xE1\xB5\x80                 X^T, the transpose (matrix claims)\n"
    "  \\odot \\circ \xE2\x8A\x99 \xE2\x88\x98                   .* .* .* .*: the product entry by entry\n"
    "  \\frac{\\partial}{\\partial x} (expr)    d (expr) / d x in a claim (expr of no index\n"
    "                                       of the claim: else define it with let)\n"
    "\n",
          stdout);
}

/* --help: LaTeX conditions, cases and functions; what is not read; the limits. */
static void print_help_conditions(void)
{
    fputs(
    "Conditions and piecewise values:\n"
    "  \\text{for } i \\neq j, \\text{if }, \\text{when }   for ... (a condition); \\neq \\ne\n"
    "                                       \\le \\leq \\ge \\geq < > = ≠ ≤ ≥\n"
    "  claim ... \\quad \\text{for } i \\neq j  on indices: only those entries are checked\n"
    "  claim ... \\quad \\text{when } x < 0   on values: only the entries (and points)\n"
    "                                       where it holds are checked\n"
    "  \\begin{cases} 1 & \\text{if } x > 0 \\\\ 0 & \\text{otherwise} \\end{cases}\n"
    "                                       the first case whose condition holds (on\n"
    "                                       values or on indices, one per case; 'else'\n"
    "                                       too); where none holds the value is undefined\n"
    "  let g = x^2 \\quad \\text{for } x > 0  a let on part of the inputs: undefined elsewhere\n"
    "  A point exactly on a boundary (x > 0 at x = 0) is a kink: the draw is thrown\n"
    "  away and drawn again, as at relu(0); a draw where no case applies, or where a\n"
    "  claim's condition holds at no entry, too.\n"
    "\n"
    "Functions (plain or LaTeX):\n"
    "  let f(x) = 1.7159 \\tanh(2x/3) + 0.01x   a function: its body uses its parameters,\n"
    "  let g(a, b) = a*b + \\sin(a)           numbers and earlier functions (no quantity)\n"
    "  f(u), f(2*h[j]), g(x, y)             the body at those arguments, on the tape\n"
    "  f'(x), f′(x), f^{\\prime}(x)           the engine's derivative of f at x (f of one\n"
    "                                       parameter; in claims: claim d y / d x = f'(x))\n"
    "\n"
    "Not read (refused with the place and what to write): other commands (\\mathbb,\n"
    "\\nabla, \\begin{pmatrix}, ...), sums over part of a range or from another lower\n"
    "limit, f' in a let, x' of a quantity, a derivative through a let that holds one\n"
    "(let g = d s / d y[0], then d g / d y[1]: no second derivatives; claim g = ...\n"
    "is checked); y_i for a name not declared with indices says 'did you mean\n"
    "y[i]?'; an unclosed \\begin{cases}, a case without a condition and f' of an\n"
    "undefined f are located errors.\n"
    "\n",
          stdout);
    printf(
    "Limits (a bigger file is refused with a message, never hangs): at most %d\n"
    "entries per quantity (sizes 1 to %d), %d input entries in all, %d\n"
    "graph nodes per point for a claim, %.3g node visits per point for one claim and\n"
    "%.3g for a file, %.3g for a whole run (points included); nesting deeper than %d\n"
    "levels and chains of more than %d operations are errors.\n"
    "\n"
    "Example:\n"
    "  verify -e 'given x in (-4, 4)\n"
    "             let f = sigmoid(x)\n"
    "             claim d f / d x = f*(1 + f)'\n"
    "prints FAILS with the point, claimed and engine values; fix the sign and it HOLDS.\n",
           EXPR_MAX_ENTRIES, EXPR_MAX_ENTRIES, EXPR_MAX_INPUTS, EXPR_MAX_NODES, EXPR_MAX_WORK,
           EXPR_MAX_FILE_WORK, EXPR_MAX_RUN_WORK, EXPR_MAX_NESTING, EXPR_MAX_DEPTH);
}

typedef struct {
    const char *name;        /* file name, "-" or "-e" */
    char *text;              /* owned */
    size_t len;
    expr_prog *prog;         /* NULL until parsed, or when it did not parse */
} source;

typedef struct {
    source *src;
    int nsrc;
    int points, seed;
    double tol;
    int json;                /* --json: one JSON document on stdout instead of text */
    const char *gradescope;  /* --gradescope FILE: Gradescope's results.json */
    const char *defs;        /* --defs FILE: batch mode, the assignment */
    char **rest;             /* the arguments that were not -e (owned) */
    char **subs; int nsubs;  /* … of them the submissions */
    int status;              /* the exit status so far */
} run;

/* Reads all of f (at most 64 MB). Returns NULL and sets *why on failure. */
static char *read_all(FILE *f, size_t *len, const char **why)
{
    size_t cap = 65536, n = 0;
    char *s = malloc(cap);
    if (!s) { *why = "out of memory"; return NULL; }
    for (;;) {
        if (n == cap) {
            if (cap >= ((size_t)64 << 20)) { free(s); *why = "file too large (more than 64 MB)"; return NULL; }
            char *t = realloc(s, cap * 2);
            if (!t) { free(s); *why = "out of memory"; return NULL; }
            s = t;
            cap *= 2;
        }
        size_t k = fread(s + n, 1, cap - n, f);
        n += k;
        if (k == 0) break;
    }
    if (ferror(f)) { free(s); *why = strerror(errno); return NULL; }
    *len = n;
    return s;
}

/* Reads FILE (or stdin for "-") into the next source; on failure one line
 * naming the file and status 2. */
static void read_source(run *R, const char *name)
{
    const char *why = NULL;
    source *s = &R->src[R->nsrc];
    s->name = name;
    if (strcmp(name, "-") == 0) {
        s->text = read_all(stdin, &s->len, &why);
    } else {
        FILE *f = fopen(name, "rb");
        if (!f) why = strerror(errno);
        else { s->text = read_all(f, &s->len, &why); fclose(f); }
    }
    if (!s->text) {
        fprintf(stderr, "verify: cannot read '%s': %s\n", name, why);
        R->status = 2;
        return;
    }
    R->nsrc++;
}

/* The command line: -e TEXT pairs are taken out first, cli_parse sees the
 * rest; then the files are read. */
static void parse_args(run *R, int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            print_help();
            print_help_language();
            print_help_matrix();
            print_help_latex();
            print_help_conditions();
            exit(0);
        }
        if (strcmp(argv[i], "-e") == 0 && ++i == argc) cli_fail("-e needs the text of a derivation (try --help)");
    }
    R->src = calloc((size_t)argc + 1, sizeof *R->src);
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!R->src || !rest) cli_fail("out of memory");
    R->rest = rest;                           /* reachable when a bad option ends the run (cli_fail) */
    int nrest = 0, dashdash = 0;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && !dashdash && strcmp(argv[i], "--") == 0) dashdash = 1;
        if (i > 0 && !dashdash && strcmp(argv[i], "-e") == 0) {
            source *s = &R->src[R->nsrc++];
            s->name = "-e";
            s->len = strlen(argv[i + 1]);
            s->text = malloc(s->len + 1);
            if (!s->text) cli_fail("out of memory");
            memcpy(s->text, argv[++i], s->len + 1);
            continue;
        }
        rest[nrest++] = argv[i];
    }
    cli_opt opts[] = {
        {"--points", CLI_INT, &R->points, "N", "points per claim (default 20)"},
        {"--seed", CLI_INT, &R->seed, "N", "seed of the sampled points (default 1)"},
        {"--tol", CLI_DOUBLE, &R->tol, "X", "relative tolerance (default 1e-9)"},
        {"--json", CLI_FLAG, &R->json, NULL, "the verdicts as JSON"},
        {"--gradescope", CLI_STRING, &R->gradescope, "FILE", "also write Gradescope's results.json"},
        {"--defs", CLI_STRING, &R->defs, "FILE", "batch: the assignment; a CSV of the class"},
        {0}};
    int first = cli_parse(nrest, rest, "verify — check a derivation (try --help)", opts);
    if (R->points < 1 || R->points > VERIFY_MAX_POINTS)
        cli_fail("--points: %d is out of range (1 to %d)", R->points, VERIFY_MAX_POINTS);
    if (!(R->tol > 0 && R->tol < 1)) cli_fail("--tol: %g is out of range (between 0 and 1)", R->tol);
    if (R->defs && (R->json || R->gradescope || R->nsrc))
        cli_fail("--defs grades submission FILEs into a CSV: it takes no -e, --json or --gradescope");
    if (R->defs) {                            /* the FILEs are submissions, read one at a time */
        R->subs = rest + first;
        R->nsubs = nrest - first;
        return;
    }
    for (int i = first; i < nrest; i++) read_source(R, rest[i]);
    if (R->nsrc == 0 && R->status == 0) cli_fail("no derivation to check: give a FILE or -e 'TEXT' (try --help)");
}

/* Parses every source; a located error, or a file with no claim, is one
 * message on stderr and status 2 (the other files are still checked). */
static void parse_sources(run *R)
{
    for (int k = 0; k < R->nsrc; k++) {
        source *s = &R->src[k];
        expr_error err;
        s->prog = expr_parse(s->text, s->len, &err);
        if (!s->prog) {
            char buf[1024];
            expr_format_error(buf, sizeof buf, s->name, s->text, s->len, &err);
            fputs(buf, stderr);
            R->status = 2;
        } else if (expr_claims(s->prog) == 0) {
            fprintf(stderr, "verify: %s: no claims: nothing to verify (a claim reads: claim d f / d x = ...)\n",
                    s->name);
            R->status = 2;
        }
    }
}

/* The work of the whole run is bounded, not only each claim's: points ×
 * the node visits of every claim. Beyond EXPR_MAX_RUN_WORK the run is
 * refused before any check starts, with the --points that would fit. */
static void check_budget(const run *R)
{
    double per_point = 0;
    for (int k = 0; k < R->nsrc; k++)
        for (int c = 0; R->src[k].prog && c < expr_claims(R->src[k].prog); c++)
            per_point += expr_claim_work(R->src[k].prog, c);
    if (per_point * R->points <= EXPR_MAX_RUN_WORK) return;
    long fit = (long)(EXPR_MAX_RUN_WORK / per_point);
    if (fit >= 1)
        cli_fail("--points %d: these claims need about %.3g node visits in all; the limit for a run is %.3g "
                 "(--points %ld or fewer fit)", R->points, per_point * R->points, EXPR_MAX_RUN_WORK, fit);
    cli_fail("these claims need about %.3g node visits per point in all; the limit for a run is %.3g "
             "(check fewer files at once)", per_point, EXPR_MAX_RUN_WORK);
}

static expr_options run_options(const run *R)
{
    expr_options o = expr_defaults();
    o.points = R->points;
    o.seed = (uint64_t)(int64_t)R->seed;
    o.tol = R->tol;
    return o;
}

/* One claim's verdict as text: the line, then the counterexample. */
static void print_text(const source *s, int c, const expr_verdict *v)
{
    const char *text = expr_claim_text(s->prog, c);
    int line = expr_claim_line(s->prog, c);
    if (v->checked && v->first_failed >= 0 && v->nlinks > 1)
        printf("FAILS  %s  (link %d of %d is the first wrong one; max rel. error %.2g; %s:%d)\n", text,
               v->first_failed + 1, v->nlinks, v->max_err, s->name, line);
    else if (v->checked)
        printf("%s  %s  (max rel. error %.2g; %s:%d)\n", v->holds ? "HOLDS" : "FAILS", text, v->max_err, s->name, line);
    else
        printf("FAILS  %s  (not checked; %s:%d)\n", text, s->name, line);
    if (v->detail) fputs(v->detail, stdout);
}

/* Checks every claim of every parsed source: text (or JSON) on stdout, a
 * Gradescope test per claim into gs when it is open, a summary. */
static void check_sources(run *R, FILE *gs)
{
    expr_options o = run_options(R);
    long total = 0, held = 0;
    if (R->json) fputs("{\"claims\": [", stdout);
    if (gs) fputs("{\"tests\": [", gs);
    for (int k = 0; k < R->nsrc; k++) {
        source *s = &R->src[k];
        for (int c = 0; s->prog && c < expr_claims(s->prog); c++) {
            expr_verdict v;
            if (expr_check(s->prog, c, &o, &v) != 0) {
                fprintf(stderr, "verify: out of memory checking %s:%d\n", s->name, expr_claim_line(s->prog, c));
                R->status = 2;
                continue;
            }
            if (R->json) {
                fputs(total ? ",\n  " : "\n  ", stdout);
                out_json_claim(stdout, s->prog, c, s->name, &v);
            } else {
                print_text(s, c, &v);
            }
            if (gs) {
                fputs(total ? ",\n  " : "\n  ", gs);
                out_gradescope_test(gs, s->prog, c, s->name, &v);
            }
            total++;
            held += v.holds;
            if (!v.holds && R->status == 0) R->status = 1;
            expr_verdict_free(&v);
        }
    }
    if (R->json) printf("\n], \"total\": %ld, \"hold\": %ld, \"fail\": %ld}\n", total, held, total - held);
    else if (total)
        printf("%ld claim%s: %ld hold%s, %ld fail%s\n", total, total == 1 ? "" : "s", held, held == 1 ? "s" : "",
               total - held, total - held == 1 ? "s" : "");
    if (gs) fprintf(gs, "\n], \"score\": %ld}\n", held);
}

/* The name of a submission in the CSV: its file name without directory
 * and extension. */
static void student_name(const char *path, char *out, size_t n)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(out, n, "%s", b);
    char *dot = strrchr(out, '.');
    if (dot && dot != out) *dot = '\0';
}

/* A submission read after the assignment's text, as one derivation:
 * its program, or NULL (unreadable, or a located error; quiet: only
 * reports it on stderr). *text is the joined text, to free after. */
static expr_prog *parse_submission(run *R, const source *defs, const char *path, char **text, int quiet)
{
    source sub = {0};
    run one = *R;
    one.src = &sub;
    one.nsrc = 0;
    if (quiet) {                              /* the budget's pass: the grading pass says what is wrong */
        FILE *f = strcmp(path, "-") == 0 ? NULL : fopen(path, "rb");
        const char *why;
        if (f) { sub.text = read_all(f, &sub.len, &why); fclose(f); }
    } else {
        read_source(&one, path);
    }
    size_t len = defs->len + 1 + sub.len;
    *text = sub.text ? malloc(len + 1) : NULL;
    expr_prog *p = NULL;
    if (*text) {
        memcpy(*text, defs->text, defs->len);
        (*text)[defs->len] = '\n';
        memcpy(*text + defs->len + 1, sub.text, sub.len);
        expr_error err;
        if (!(p = expr_parse(*text, len, &err)) && !quiet) {
            int dl = 1;
            for (size_t k = 0; k < defs->len; k++) dl += defs->text[k] == '\n';
            fprintf(stderr, "verify: %s:%d:%d: %s (scored 0)\n", err.line > dl ? path : defs->name,
                    err.line > dl ? err.line - dl : err.line, err.col, err.msg);
        }
    }
    free(sub.text);
    return p;
}

/* The student's claim graded for question a: the first about the same
 * derivative (or value), or −1. */
static int graded_claim(const expr_prog *p, int nask, int a)
{
    for (int c = nask; c < expr_claims(p); c++)
        if (expr_claim_same_target(p, a, c)) return c;
    return -1;
}

/* One submission: each of the assignment's claims scores 1 when the
 * student's first claim about the same derivative (or value) holds. */
static void grade_one(run *R, const source *defs, int nask, const char *path, const expr_options *o)
{
    char who[256], *text = NULL;
    student_name(path, who, sizeof who);
    int *score = calloc((size_t)nask + 1, sizeof *score), total = 0;
    expr_prog *p = score ? parse_submission(R, defs, path, &text, 0) : NULL;
    for (int a = 0; p && a < nask; a++) {
        int c = graded_claim(p, nask, a);
        expr_verdict v;
        if (c >= 0 && expr_check(p, c, o, &v) == 0) { score[a] = v.holds; expr_verdict_free(&v); }
    }
    out_csv_field(stdout, who);
    for (int a = 0; a < nask; a++) { printf(",%d", score ? score[a] : 0); total += score ? score[a] : 0; }
    printf(",%d\n", total);
    expr_free(p);
    free(text);
    free(score);
}

/* The whole batch's work is bounded as one run's: points × the node
 * visits of every claim graded, over all the submissions. Beyond
 * EXPR_MAX_RUN_WORK the run is refused before anything is graded, with
 * how many of the submissions would fit. */
static void batch_budget(run *R, const source *defs, int nask, char **argv, int argc)
{
    double total = 0;
    int fit = -1;
    for (int i = 0; i < argc; i++) {
        char *text = NULL;
        expr_prog *p = parse_submission(R, defs, argv[i], &text, 1);
        for (int a = 0; p && a < nask; a++) {
            int c = graded_claim(p, nask, a);
            if (c >= 0) total += expr_claim_work(p, c) * R->points;
        }
        expr_free(p);
        free(text);
        if (total > EXPR_MAX_RUN_WORK && fit < 0) fit = i;
    }
    if (fit < 0) return;
    cli_fail("--defs: grading these %d submissions needs about %.3g node visits in all (--points %d); the limit "
             "for a run is %.3g: the first %d fit (grade the rest in another run, or lower --points)", argc, total,
             R->points, EXPR_MAX_RUN_WORK, fit);
}

/* verify --defs assignment.txt submissions…: a CSV, student,claim…,score. */
static void run_batch(run *R, char **argv, int argc)
{
    source defs = {0};
    run one = *R;
    one.src = &defs;
    one.nsrc = 0;
    read_source(&one, R->defs);
    if (one.status) exit(2);
    expr_error err;
    expr_prog *p = expr_parse(defs.text, defs.len, &err);
    if (!p) {
        char buf[1024];
        expr_format_error(buf, sizeof buf, defs.name, defs.text, defs.len, &err);
        fputs(buf, stderr);
        exit(2);
    }
    int nask = expr_claims(p);
    if (nask == 0) cli_fail("%s: no claims: the assignment names what is to be proved with claims", R->defs);
    if (argc == 0) cli_fail("--defs: no submissions to grade (give the students' FILEs)");
    batch_budget(R, &defs, nask, argv, argc);
    fputs("student", stdout);
    for (int a = 0; a < nask; a++) { fputc(',', stdout); out_csv_field(stdout, expr_claim_side(p, a, 0)); }
    fputs(",score\n", stdout);
    expr_options o = run_options(R);
    for (int i = 0; i < argc; i++) grade_one(R, &defs, nask, argv[i], &o);
    expr_free(p);
    free(defs.text);
}

int main(int argc, char **argv)
{
    static run R = {NULL, 0, 20, 1, EXPR_TOL, 0, NULL, NULL, NULL, NULL, 0, 0};   /* static: what it owns
                                                                                  stays reachable at exit */
    parse_args(&R, argc, argv);
    if (R.defs) {
        run_batch(&R, R.subs, R.nsubs);
    } else {
        parse_sources(&R);
        check_budget(&R);
        char tmp[4096];
        FILE *gs = R.gradescope ? out_begin(R.gradescope, tmp, sizeof tmp) : NULL;
        if (R.gradescope && !gs) cli_fail("--gradescope: cannot write '%s': %s", R.gradescope, strerror(errno));
        check_sources(&R, gs);
        if (gs && out_commit(gs, tmp, R.gradescope) != 0)
            cli_fail("--gradescope: cannot write '%s': %s", R.gradescope, strerror(errno));
    }
    for (int k = 0; k < R.nsrc; k++) {
        expr_free(R.src[k].prog);
        free(R.src[k].text);
    }
    free(R.src);
    free(R.rest);
    /* output that did not reach its file is an error, not a verdict */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "verify: cannot write to stdout: %s\n", strerror(errno));
        return 2;
    }
    return R.status;
}
