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
    "  --help       this text\n"
    "\n"
    "Prints one line per claim, HOLDS or FAILS, the claim as written and its largest\n"
    "error; under a FAILS, the worst counterexample: the sampled inputs (at ...), the\n"
    "quantities the claim names (where ...), the entry, claimed vs engine value, and a\n"
    "hint when the error has a telling shape (a sign slip, a constant factor, rounding,\n"
    "a transposed index). Exit 0 when every claim holds, 1 when any fails, 2 on a\n"
    "malformed file, a file with no claim or a bad command line (with\n"
    "file:line:col and a caret).\n"
    "\n",
           VERIFY_MAX_POINTS, EXPR_MAX_RUN_WORK, EXPR_FLOOR);
    fputs(
    "THE LANGUAGE — one statement per line; '#' starts a comment; inside ( ) or [ ]\n"
    "a statement may go on over several lines, elsewhere end a line with \\ to go on.\n"
    "\n"
    "  given x in (-4, 4)          a scalar input, uniform in the range\n"
    "  given o[3]                  a vector input, entries drawn from N(0, 1)\n"
    "  given W[2][3], t[3] onehot  a matrix; a one-hot vector (a random class)\n"
    "  given p[4] simplex          positive entries summing to 1\n"
    "                              (onehot and simplex apply per row of a matrix)\n"
    "  let f = 1/(1 + exp(-x))     a defined quantity, from earlier ones\n"
    "  let y[i] = exp(o[i]) / sum(k, exp(o[k]))\n"
    "                              indexed: evaluated for every i; the range of an\n"
    "                              index is inferred from the quantities it indexes\n"
    "  claim d f / d x = f*(1 - f)\n"
    "  claim d y[i] / d o[j] = y[i]*(delta(i,j) - y[j])    every entry i, j\n"
    "  claim d y[i] / d o[i] = y[i]*(1 - y[i])             same letter twice: the diagonal\n"
    "  claim for i != j: d y[i] / d o[j] = -y[i]*y[j]      only the entries with i != j\n"
    "  claim d y[0] / d o[2] = -y[0]*y[2]                  one entry\n"
    "\n"
    "Expressions: numbers (1, 0.5, 1e-3), e, pi; + - * / ^ with the usual precedence\n"
    "(-x^2 = -(x^2); ^ groups to the right), parentheses; exp log sqrt abs sin cos\n"
    "tanh sinh cosh sech sigmoid relu; stanh(x) = 1.7159*tanh(2x/3); step(x) (1 for\n"
    "x > 0, else 0) and sign(x), the derivatives of relu and abs; delta(i, j);\n"
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
        if (strcmp(argv[i], "--help") == 0) { print_help(); exit(0); }
        if (strcmp(argv[i], "-e") == 0 && ++i == argc) cli_fail("-e needs the text of a derivation (try --help)");
    }
    R->src = calloc((size_t)argc + 1, sizeof *R->src);
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!R->src || !rest) cli_fail("out of memory");
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
        {0}};
    int first = cli_parse(nrest, rest, "verify — check a derivation (try --help)", opts);
    if (R->points < 1 || R->points > VERIFY_MAX_POINTS)
        cli_fail("--points: %d is out of range (1 to %d)", R->points, VERIFY_MAX_POINTS);
    if (!(R->tol > 0 && R->tol < 1)) cli_fail("--tol: %g is out of range (between 0 and 1)", R->tol);
    for (int i = first; i < nrest; i++) read_source(R, rest[i]);
    free(rest);
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

/* Checks every claim of every parsed source; one line per claim, the
 * counterexample under a FAILS, a summary line. */
static void check_sources(run *R)
{
    expr_options o = expr_defaults();
    o.points = R->points;
    o.seed = (uint64_t)(int64_t)R->seed;
    o.tol = R->tol;
    long total = 0, held = 0;
    for (int k = 0; k < R->nsrc; k++) {
        source *s = &R->src[k];
        for (int c = 0; s->prog && c < expr_claims(s->prog); c++) {
            expr_verdict v;
            if (expr_check(s->prog, c, &o, &v) != 0) {
                fprintf(stderr, "verify: out of memory checking %s:%d\n", s->name, expr_claim_line(s->prog, c));
                R->status = 2;
                continue;
            }
            if (v.checked && v.first_failed >= 0 && v.nlinks > 1)
                printf("FAILS  %s  (link %d of %d is the first wrong one; max error %.2g; %s:%d)\n",
                       expr_claim_text(s->prog, c), v.first_failed + 1, v.nlinks, v.max_err, s->name,
                       expr_claim_line(s->prog, c));
            else if (v.checked)
                printf("%s  %s  (max error %.2g; %s:%d)\n", v.holds ? "HOLDS" : "FAILS",
                       expr_claim_text(s->prog, c), v.max_err, s->name, expr_claim_line(s->prog, c));
            else
                printf("FAILS  %s  (not checked; %s:%d)\n", expr_claim_text(s->prog, c), s->name,
                       expr_claim_line(s->prog, c));
            if (v.detail) fputs(v.detail, stdout);
            total++;
            held += v.holds;
            if (!v.holds && R->status == 0) R->status = 1;
            expr_verdict_free(&v);
        }
    }
    if (total)
        printf("%ld claim%s: %ld hold%s, %ld fail%s\n", total, total == 1 ? "" : "s", held, held == 1 ? "s" : "",
               total - held, total - held == 1 ? "s" : "");
}

int main(int argc, char **argv)
{
    run R = {NULL, 0, 20, 1, EXPR_TOL, 0};
    parse_args(&R, argc, argv);
    parse_sources(&R);
    check_budget(&R);
    check_sources(&R);
    for (int k = 0; k < R.nsrc; k++) {
        expr_free(R.src[k].prog);
        free(R.src[k].text);
    }
    free(R.src);
    /* output that did not reach its file is an error, not a verdict */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "verify: cannot write the verdicts to stdout: %s\n", strerror(errno));
        return 2;
    }
    return R.status;
}
