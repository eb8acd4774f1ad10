/* expr.h — the derivation language behind `verify`: a student writes the
 * quantities of a derivation (`given`, `let`) and what they claim about
 * them (`claim …`), in plain text or in LaTeX pasted from a report; each
 * claim is checked at seeded random points against the Jacobian the tape
 * computes by reverse mode.
 *
 *   given o[3]                                   # entries ~ N(0, 1)
 *   let y[i] = exp(o[i]) / sum(k, exp(o[k]))     # i ranges over o's 3 entries
 *   claim d y[i] / d o[j] = y[i]*(delta(i,j) - y[j])
 *   claim $\frac{\partial y_i}{\partial o_i} = y_i \sum_{j \neq i} y_j$
 *   claim d l / d o[i] = sum(j, d l / d y[j] * d y[j] / d o[i]) = y[i] - t[i]
 *   given x[3], W[3][2]                          # x is a column (3×1), W is 3×2
 *   claim d L / d W = x dz^T                     # whole: checked entry by entry
 *
 * A claim is a chain of sides joined by '=', each link checked on its own;
 * d A / d B inside a side is the engine's derivative at the point.
 * Pipeline: text or LaTeX → tokens (lex.c) → AST, ranges of index letters
 * inferred while parsing (parse.c, statements.c), matrix expressions
 * shape-checked and rewritten into the indexed form (shape.c) → per
 * point, one scalar graph node per entry of each quantity (eval.c) →
 * every side at every entry of the claim's letters, derivatives by one
 * reverse sweep per entry of A → compared link by link (check.c) → the
 * verdict's text (report.c).
 *
 * Not here: printing, files, the command line (main.c, output.c). The
 * library never prints; errors come back as an expr_error that
 * expr_format_error turns into "file:line:col: message", the line, a caret.
 * Work is bounded (EXPR_MAX_*): any input, of any size, ends in a verdict
 * or a located error, never a crash, a stack overflow or a hang.
 */
#ifndef CHAINRULE_EXPR_H
#define CHAINRULE_EXPR_H

#include <stddef.h>
#include <stdint.h>

#define EXPR_MAX_RANK 4            /* indices per quantity: W[i][j]… */
#define EXPR_MAX_ENTRIES 1000      /* entries per quantity (product of sizes) */
#define EXPR_MAX_INPUTS 100000     /* entries of all `given`s together */
#define EXPR_MAX_NESTING 64        /* parentheses / calls / unary signs (a 64 KB stack suffices) */
#define EXPR_MAX_LINKS 8           /* links of a chain A = B = C = … */
#define EXPR_MAX_DEPTH 1000        /* operations in one chain (a+b+c+…) */
#define EXPR_MAX_NODES 1000000     /* graph nodes per point for one claim */
#define EXPR_MAX_WORK 5000000.0    /* node visits per point for one claim */
#define EXPR_MAX_FILE_WORK 10000000.0 /* the same, summed over a file */
#define EXPR_MAX_RUN_WORK 200000000.0 /* node visits of a whole run, points × claims: 20 points of a
                                         file at EXPR_MAX_FILE_WORK (verify refuses more) */

/* A located error: 1-based line and column (columns count characters,
 * not bytes) and what was expected. */
typedef struct {
    int line, col;
    char msg[240];
} expr_error;

typedef struct expr_prog expr_prog;

typedef struct {
    int points;          /* points per claim (default 20) */
    uint64_t seed;       /* the rng seed; claim c uses its own stream */
    double tol;          /* entry passes: |c − e| ≤ tol·max(|c|, |e|, EXPR_FLOOR) */
    int max_tries;       /* draws per point before giving up (default 100) */
} expr_options;

#define EXPR_FLOOR 1e-3
#define EXPR_TOL 1e-9
/* Defaults: 20 points, seed 1, tol 1e-9, 100 tries. */
expr_options expr_defaults(void);

/* One link A = B of a claim: B (the claimed side) against A (the engine's
 * side, e.g. d A / d B) at every entry. */
typedef struct {
    int holds;           /* every entry within tol (or the printed precision) */
    long entries;        /* entries compared, over all points */
    long failed;         /* of them out of tolerance */
    double max_err;      /* largest relative error |c − e| / max(|c|, |e|, EXPR_FLOOR) */
    double claimed, engine;  /* at the worst failing entry */
    int vacuous;         /* holds by the absolute floor alone (see below) */
} expr_link;

typedef struct {
    int holds;           /* 1: every link holds at every entry of every point */
    int checked;         /* 0: no point where the function is defined and
                            smooth was found (then holds = 0) */
    int points;          /* points compared */
    int resampled;       /* draws thrown away: undefined or at a kink */
    long entries;        /* entries compared, over all points and links */
    long failed;         /* of them out of tolerance */
    double max_err;      /* the largest link's max_err */
    double claimed, engine;  /* at the worst entry of the first failing link */
    int vacuous;         /* holds, but only by the absolute floor: every
                            value compared was below EXPR_FLOOR and they
                            differ by more than rounding */
    int nlinks;          /* links of the claim (1 for A = B) */
    int first_failed;    /* the first link that fails, or −1 */
    expr_link link[EXPR_MAX_LINKS];
    char *detail;        /* FAILS: the counterexample, lines indented by 7
                            spaces, each ending '\n' (a chain: a line per
                            link first); a note or a warning when it holds;
                            or NULL. Owned by the verdict. */
} expr_verdict;

/* Parses and checks the whole text (len bytes, need not end in NUL): names,
 * index ranges, shapes, work limits. Returns NULL with *err set on the first
 * error, or when out of memory. Pair with expr_free. */
expr_prog *expr_parse(const char *src, size_t len, expr_error *err);
void expr_free(expr_prog *p);    /* expr_free(NULL) is a no-op */

int expr_claims(const expr_prog *p);                 /* how many claims */
/* Claim c as written (`d f / d x = f*(1 - f)`, without `claim` and the
 * comment) and its line. Pointer valid until expr_free; do not free. */
const char *expr_claim_text(const expr_prog *p, int c);
int expr_claim_line(const expr_prog *p, int c);
/* A claim A = B = C has 2 links; side s (0 … links) as written. */
int expr_claim_links(const expr_prog *p, int c);
const char *expr_claim_side(const expr_prog *p, int c, int s);
/* Are claims c1 and c2 about the same thing: both d A / d B of the same
 * quantities (any subscripts), or both the value of the same quantity?
 * (How a class's claims are matched to an assignment's.) */
int expr_claim_same_target(const expr_prog *p, int c1, int c2);
/* Estimated node visits per point for checking claim c (for callers that
 * want a smaller budget than EXPR_MAX_WORK, e.g. a fuzzer). */
double expr_claim_work(const expr_prog *p, int c);

/* Checks claim c at o->points seeded points. Returns 0 and fills *v (free
 * with expr_verdict_free), or −1 when out of memory. Deterministic: the
 * same program, options and claim give the same verdict, bit for bit. */
int expr_check(expr_prog *p, int c, const expr_options *o, expr_verdict *v);
void expr_verdict_free(expr_verdict *v);

/* "name:line:col: msg\n<the line>\n<caret>\n" into buf (always
 * NUL-terminated when n > 0; a long line is cut to a window around the
 * column). Returns the length it needed, like snprintf. */
size_t expr_format_error(char *buf, size_t n, const char *name,
                         const char *src, size_t len, const expr_error *e);

#endif
