/* expr_impl.h — what the files of the derivation language share: the
 * program (quantities, claims, their ASTs), the parser's state, the
 * evaluation context and the text buffer. Private to lessons/verify/;
 * callers use expr.h.
 *
 *   lex.c        characters → tokens; the arena; located errors (lex_fail)
 *   names.c      quantities and index letters: lookup, definition, ranges
 *   parse.c      tokens → the AST of one expression, its cost, its references
 *   shape.c      matrix expressions: shapes, checked while parsing; rewritten indexed
 *   statements.c given / let / claim, and the whole file (expr_parse)
 *   eval.c       AST → scalar graph nodes at one point; sampling the inputs
 *   check.c      a claim at seeded points against reverse-mode Jacobians
 *   report.c     the verdict's text and hints; located error messages
 */
#ifndef CHAINRULE_EXPR_IMPL_H
#define CHAINRULE_EXPR_IMPL_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include "expr.h"
#include "graph.h"
#include "rng.h"

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define NOINLINE __attribute__((noinline))   /* keeps big frames off the parser's recursive path */
#else
#define PRINTF_LIKE(f, a)
#define NOINLINE
#endif

/* ---- the program ------------------------------------------------------------ */

typedef struct chunk {       /* one block of the program's arena */
    struct chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} chunk;

/* E_DERIV: d A[..] / d B[..], the engine's derivative at the point. */
enum { E_NUM, E_REF, E_NEG, E_ADD, E_SUB, E_MUL, E_DIV, E_POW, E_FN, E_DELTA, E_SUM, E_PROD, E_DERIV,
       E_WHOLE, E_T, E_HAD,   /* matrix expressions (shape.c): a whole quantity, ^T, ⊙; lowered
                                 to the kinds before them once a statement is parsed */
       /* latex.c: piecewise values and user functions */
       E_CASE,     /* a: the value, b: its E_WHEN */
       E_WHEN,     /* a: the condition (E_COND, E_ICOND; E_NUM for otherwise), b: the next E_CASE or NULL */
       E_COND,     /* a op b on values (fn: C_*) */
       E_ICOND,    /* s[0] op s[1] on indices (fn: C_*) */
       E_CALL,     /* q: the function, a: its first E_ARG */
       E_FDERIV,   /* f'(x): q: the function, a: its E_ARG; the engine's derivative at x */
       E_ARG,      /* a: the argument, b: the next E_ARG */
       E_PARAM };  /* slot: which parameter of the function being defined */

enum { F_EXP, F_LOG, F_SQRT, F_ABS, F_SIN, F_COS, F_TANH, F_SINH, F_COSH, F_SECH,
       F_SIGMOID, F_RELU, F_STANH, F_STEP, F_SIGN, F_MAX, F_MIN,   /* max, min: two arguments */
       F_DEXP, F_DLOG, F_DSQRT, F_DABS, F_DSIN, F_DCOS, F_DTANH, F_DSINH, F_DCOSH,   /* f'(x): sigma'(z) */
       F_DSIGMOID, F_DRELU, F_DSTANH, F_COUNT };
extern const char *const fn_names[F_COUNT];

typedef struct { int lit, v; } sub;

typedef struct ast {
    unsigned char kind, fn, konst, nsub;   /* konst: depends on no input */
    int line, col;
    int depth;                             /* height of this subtree */
    double num;                            /* E_NUM */
    int q;                                 /* E_REF: quantity; E_DERIV: A */
    int dq, dterm;                         /* E_DERIV: B, its number in the claim (a let's: MAX_DTERMS + k,
                                              k its number in the program's ldterm) */
    sub ds[EXPR_MAX_RANK];                 /* E_DERIV: B's subscripts */
    sub s[EXPR_MAX_RANK];                  /* E_REF subscripts; E_DELTA: s[0], s[1] */
    int slot;                              /* E_SUM, E_PROD: the bound index */
    int rows, cols;                        /* a matrix expression's shape (shape.c); 0: a scalar */
    unsigned char whole;                   /* E_DERIV: 1 A, 2 B used whole (d L / d W) */
    unsigned from, to;                     /* its text: source bytes from … to */
    struct ast *a, *b;
} ast;

/* An index letter of one statement: its name, where it was bound, and its
 * range with the place that fixed it (for shape-conflict messages). */
typedef struct {
    const char *name;
    int nlen, line, col;
    int range;               /* entries 0 … range−1; 0 = not known yet */
    int rline, rcol, rq;     /* where the range came from: position, quantity */
} slot;

enum { Q_GIVEN, Q_LET, Q_FN };     /* Q_FN: let f(x) = ... (rhs the body, nparams) */
enum { D_NORMAL, D_UNIFORM, D_ONEHOT, D_SIMPLEX, D_LITERAL };

typedef struct {
    const char *name;        /* into the source, nlen bytes */
    int nlen, kind, rank, dim[EXPR_MAX_RANK], size, line, col;
    int dist;                /* given: D_* */
    double lo, hi;           /* given in (lo, hi) */
    double *lit;             /* given x[2] = [1, -1]: the values (arena) */
    ast *rhs;                /* let: the definition, slots 0…rank−1 the left side */
    slot *slots;             /* let: its index letters (arena) */
    int nslots, konst;
    double cost;             /* let: graph nodes per point for all entries */
    int *deps, ndeps;        /* quantities the definition uses directly */
    int nparams, nest;       /* Q_FN: parameters; nesting of the body, calls included */
    double kval;             /* a let of one fixed value: the value (K in \sum_{k=1}^{K}), else NAN */
    const struct ast *deriv; /* let: the first d A / d B of its definition (never differentiated again) */
    int dterm0, nlderiv;     /* … its d A / d B: ldterm[dterm0 …], for the claims' work */
} qty;

enum { C_EQ, C_NE, C_LT, C_GT, C_LE, C_GE };
#define MAX_COND 8
#define MAX_LETTERS (2 * EXPR_MAX_RANK)
#define MAX_SIDES (EXPR_MAX_LINKS + 1)
#define MAX_DTERMS 32            /* d A / d B terms in one claim */

/* A claim: sides 0…nsides−1 joined by '=', each link (side l = side l+1)
 * checked at every entry of the claim's index letters. The old form
 * d A / d B = rhs is side 0 an E_DERIV, side 1 the right-hand side. */
typedef struct {
    char *text;
    int line, col;
    ast *side[MAX_SIDES];
    char *side_text[MAX_SIDES];  /* each side as written */
    int nsides;
    int letter[MAX_LETTERS];     /* slots of the claim's index letters */
    int nletters;
    int ndterms;                 /* E_DERIV nodes, numbered 0…ndterms−1 */
    const ast *dterm[MAX_DTERMS];
    slot *slots;
    int nslots;
    int ncond;
    struct { sub x, y; int op; } cond[MAX_COND];
    int nvcond;                  /* conditions on values ('for x > 0'): an entry is checked where all hold */
    struct ast *vcond;           /* … as a list of E_WHEN, their E_CONDs in a */
    int *closure, nclosure;  /* quantities to build, in definition order */
    double nodes, work, pairs;
} claim;

struct expr_prog {
    chunk *arena;
    qty *q; int nq, capq;
    claim *c; int nc, capc;
    int *hash; int hcap;     /* open addressing over quantity ids, −1 empty */
    int *stamp, capstamp;    /* per quantity, for closure walks; −1 unmarked */
    int inputs;              /* entries of all givens */
    double file_work;
    const ast **ldterm; int nldterm, capldterm;   /* the lets' d A / d B, numbered MAX_DTERMS + k */
    /* scratch for expr_check, sized on demand */
    uint32_t *tab; size_t tabcap;   /* node ids of the closure's entries */
    int *base;                      /* per quantity: first entry in tab */
    graph *g;                       /* the tape, kept from claim to claim (no heap churn per claim) */
    graph_mark_t gempty;
};

/* ---- tokens and the parser ---------------------------------------------------- */

enum { T_EOF, T_NL, T_NAME, T_NUM, T_OP };
/* T_OP carries c: one of + - * / ^ ( ) [ ] , : = < > ' |, or N (!=), E (==),
 * L (<=), G (>=), O (⊙ .* \odot: entry by entry), t (ᵀ); inside
 * \begin{cases}, & and R (the \\ between rows). */

typedef struct {
    int kind, c;
    const char *s;           /* the token's text */
    int n;                   /* its length in bytes */
    int line, col;
    size_t at, end;          /* byte offsets of its start and just after it (t->s
                                may be a canonical name: \partial is "d") */
    double num;
    const char *raw;         /* a Greek command read as a built-in (\sigma, \delta): its own */
    int rawn;                /* name, which a declared quantity may take */
} tok;

typedef struct {
    size_t pos;
    int line, col, depth;    /* depth: open ( [ { — newlines inside are spaces */
    int pend2;               /* x²: the 2 comes next */
    size_t skip_at, skip_end;  /* a layer label ^{(o)} already read into the name before it */
    unsigned char env[8];    /* open \begin{...}: newlines inside are spaces */
    int nenv, eline, ecol;   /* … and where the outermost opened */
    int display, dline, dcol;  /* inside $$ … $$ (and where it opened) */
} lexstate;

typedef struct {
    expr_prog *p;
    const char *src;
    size_t len;
    lexstate lx;
    tok t;                   /* the current token */
    size_t prev_end;         /* end of the token before t */
    int prev_line;           /* and its line */
    expr_error *err;
    jmp_buf jb;
    int nest;                /* parser recursion depth */
    /* the statement being parsed */
    slot *slots; int nslots, capslots;
    int scope[EXPR_MAX_NESTING + 2 * EXPR_MAX_RANK + 8]; int nscope;
    int defining_q;          /* name being defined (−1): for "let y = y" */
    const char *defining; int defining_n;
    int claim_mode;          /* parsing a claim's side 0: new letters become its letters */
    int letter[MAX_LETTERS], nletters;   /* … here */
    int dterm_first;         /* the next primary starts side 0: dL/dx is d L / d x */
    int side0_dterm;         /* side 0 was a bare d A / d B (for messages) */
    const ast *dterm[MAX_DTERMS]; int ndterms;
    const tok *fparams; int nfparams;   /* the function being defined: its parameters */
    int maxnest;             /* deepest nesting seen (a function's body) */
    int cond_from1;          /* conditions after \text{for } or in cases: a number counts from 1, as y_1 */
} parser;

/* lex.c */
void *arena_alloc(expr_prog *p, size_t n);          /* NULL when out of memory */
_Noreturn void lex_fail(parser *P, int line, int col, const char *fmt, ...) PRINTF_LIKE(4, 5);
#define FAIL_TOK(P, ...) lex_fail((P), (P)->t.line, (P)->t.col, __VA_ARGS__)
void *palloc(parser *P, size_t n);                  /* zeroed; fails located when out of memory */
const char *tok_desc(const tok *t, char *buf, size_t n);
void lex_next(parser *P);
const char *lex_unicode_name(const char *s, size_t n, int *len);   /* δ σ Δ: their names, or NULL */
int is_op(const parser *P, int c);
int is_name(const parser *P, const char *w);
int name_is(const char *s, int n, const char *w);
void expect_op(parser *P, int c, const char *what);

/* names.c */
int find_qty(const expr_prog *p, const char *s, int n);
int fn_lookup(const char *s, int n);
void check_new_name(parser *P, const tok *t, const char *what);
int add_qty(parser *P, const tok *name, int kind);
int new_slot(parser *P, const tok *t);
int find_scope(const parser *P, const char *s, int n);
void check_index_name(parser *P, const tok *t);
void range_slot(parser *P, int s, int q, int pos, const tok *at);

/* parse.c */
ast *parse_expr(parser *P);
ast *parse_term(parser *P);
ast *mk(parser *P, int kind, int line, int col, ast *a, ast *b);
int qty_of(const parser *P, const tok *t, int *u);
void ref_subs(parser *P, int q, const tok *nm, int u, sub *out, int *nout);
void parse_delta_arg_tok(parser *P, const tok *it, sub *s);
int latex_items(parser *P, const qty *Q, const tok *nm, int u, tok *items);
void parse_subs(parser *P, int q, const tok *nm, sub *out, int *nout);
double ast_cost(const parser *P, const ast *e);
void ast_refs(expr_prog *p, const ast *e, int mark, int *list, int *n);
int ast_count_refs(const ast *e);

/* shape.c: matrix expressions, whole quantities with a shape (rows × cols),
 * rewritten into the indexed form once the statement is parsed */
void shape_node(parser *P, ast *e);
int mat_whole_ok(const parser *P, int q, int u);
ast *mat_ref(parser *P, const tok *t, int q);
int mat_transpose_next(const parser *P, const ast *base);
ast *mat_transpose(parser *P, ast *base);
void mat_dterm(parser *P, ast *e, const tok *a);
int mat_let(parser *P, ast **rhs, int rank, const tok *nm);
void mat_claim(parser *P, ast **side, char **text, int nsides);
void subs_missing(parser *P, int q, const tok *nm, int n);
int fn_prime(parser *P, const tok *nm, int f);

/* latex.c: the LaTeX of reports beyond the plain language */
int latex_cond_number(parser *P, const tok *it);    /* a whole number of an index condition, from 0 */
int latex_text_for(const parser *P);                 /* the current 'for' is \text{for } (if, when) */
ast *latex_name(parser *P, tok *t);                 /* a name's LaTeX forms, or NULL */
ast *latex_sum(parser *P, const tok *nm);           /* \sum_{k=1}^{K}, \sum_{k,j} */
ast *latex_bars(parser *P);                          /* |x| */
ast *latex_cond(parser *P, int line, int col);       /* x > 0 (E_COND) or i != j (E_ICOND) */
int latex_index_like(parser *P, const tok *t);       /* a condition on indices starts here */
int latex_name_args(parser *P);                      /* skips (\mathbf{t}, \mathbf{s}) after a name */
ast *latex_dop(parser *P);                           /* \frac{\partial}{\partial x}(expr) */
ast *latex_partial(parser *P, ast *value);           /* value \text{for } x > 0: undefined elsewhere */
void latex_fn_def(parser *P, const tok *nm);         /* let f(x) = ... */
int latex_let_subs(parser *P);                       /* let \sigma_i = ...: the letters, their count */
double latex_cost(const parser *P, const ast *e);    /* ast_cost of the kinds above */
double latex_const(const expr_prog *p, const ast *e);  /* a fixed value, or NAN */

/* statements.c */
int cond_true(int op, double x, double y);   /* x op y, op one of C_* */
int *stamp_array(parser *P);                 /* p->stamp, grown with the quantities */
int pairs_next(const claim *c, int *env, int *started);
int claim_pure_dterm(const claim *c, int s);   /* side s is a bare d A / d B */

/* ---- evaluation (eval.c) --------------------------------------------------------- */

typedef struct {
    expr_prog *p;
    graph *g;
    const uint32_t *tab;     /* node of each entry of the closure */
    const int *base;         /* first entry of quantity q in tab */
    int *env;                /* values of the statement's index slots */
    const slot *slots;
    int watch;               /* note undefined values and kinks */
    int bad;                 /* this draw cannot be used */
    char why[200];           /* … and why */
    const struct ast **spine;  /* EXPR_MAX_DEPTH slots: chains in evaluation */
    int top;
    /* E_DERIV: the engine's derivative at this point (check.c) */
    double (*deriv)(void *ctx, const struct ast *e, const int *env);
    void *dctx;
    const node *args;        /* the parameters of the function being evaluated */
    graph *fg;               /* f'(x): a tape of its own (created on demand, freed by the checker) */
    graph_mark_t fgm;
} evctx;

void note_bad(evctx *c, const char *fmt, ...) PRINTF_LIKE(2, 3);
int flat_index(const qty *q, const sub *s, const int *env);
const char *nonfinite(double v);
node ev(evctx *c, const ast *e);
/* latex.c */
node ev_latex(evctx *c, const ast *e);               /* E_CASE … E_PARAM */
int ev_vconds(evctx *c, const claim *cl);            /* the claim's value conditions hold here */
void sample(rng *r, const qty *q, double *x);

/* ---- text (report.c) -------------------------------------------------------------- */

typedef struct { char *s; size_t n, cap; int oom; } sbuf;
void sb_printf(sbuf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
void sb_num(sbuf *b, double x, int prec);
void sb_values(sbuf *b, const double *x, const int *dim, int rank);
void sb_ref(sbuf *b, const qty *q, const sub *s, const int *env);

/* ---- the check (check.c), read by the report (report.c) --------------------------- */

/* What one link's comparison found: the worst entry and the facts the
 * hints read. */
typedef struct {
    int *worst_env;          /* the index environment at the worst entry */
    int worst_point, have_worst;
    double *snap;            /* the shown values at the worst entry */
    double ratio;            /* right / left, when the same at every entry */
    int ratio_ok, ratio_set;
    long failed_diag, failed_off, checked_diag, checked_off;
    long tiny;               /* entries where both values are below EXPR_FLOOR */
    double floor_gap;        /* the largest |right − left| among them */
    long failed_neg, failed_recip; /* failing entries where claimed = −engine / 1/engine */
    int decimals;            /* the claimed side is a number with this many decimals … */
    double half;             /* … compared at its printed precision: half a unit of the last */
    long truncated;          /* failing entries where the claim is the engine's value truncated */
    long failed_swapped;     /* failing entries [i][j] where claimed = engine at [j][i] */
    long failed_zero_off;    /* failing entries off the diagonal where claimed = 0 */
    double fratio;           /* claimed / engine, when the same at every failing entry */
    int fratio_ok, fratio_set;
    unsigned char *dep;      /* per input entry of snap: does the worst entry depend on it (or NULL) */
} link_facts;

typedef struct {
    expr_prog *p;
    const claim *c;
    int points, max_tries, maxslots;
    double tol;
    int *shown, nshown;      /* quantities a counterexample shows */
    size_t nsnap;            /* their entries together */
    double *x;               /* the inputs at this draw */
    int *env;                /* the claim's index letters */
    const struct ast **spine;  /* evaluation's stack of chains */
    graph *g;
    graph_mark_t empty;
    rng r;
    evctx E;
    double *vals;            /* side s at entry n: vals[s * pairs + n] */
    size_t npairs;
    unsigned gen;            /* the draw; the derivative cache's stamp */
    struct dcache { unsigned *stamp; double **row; int na; } *dc;   /* per E_DERIV (the claim's, then
                                                                       the lets'), per entry of A (na) */
    int ndc;
    int oom;
    link_facts link[EXPR_MAX_LINKS];
    int worst_point;         /* of the first failing link */
    char last_why[200];      /* why the last draw was thrown away */
    unsigned char *mask;     /* per entry: the claim's value conditions hold there */
} checker;

/* Fills v->detail (the counterexample, the hints, notes); 0, or −1 when
 * out of memory. */
int report_verdict(const checker *k, expr_verdict *v);

#endif
