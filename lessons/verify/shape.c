/* shape.c — matrix expressions: quantities used whole, without indices, as
 * vectors and matrices (claim d L / d W = x δ^T). Every node of such an
 * expression gets a shape, rows × cols, while it is parsed, so a product
 * whose sizes do not fit is a located error naming both shapes; once the
 * statement is read, the expression is rewritten into the indexed form
 * (x δ^T at entry [i][j] is x[i]*δ[j], X^T D is sum(n, X[n][i]*D[n][j])),
 * which the rest of the pipeline evaluates, checks and reports as it
 * does everything else — a counterexample names the entry [i][j].
 *
 * The rules (also in verify --help):
 *   x[n] is a column (n×1), W[r][c] is r×c, a scalar is 1×1;
 *   ^T (^\top, ᵀ) transposes; * · juxtaposition between two non-scalars is
 *   the matrix product, ⊙ \odot \circ .* the product entry by entry;
 *   + - / and ^ apply entry by entry to operands of the same shape, and a
 *   scalar with a matrix applies to every entry; functions apply entry by
 *   entry; d L / d W has W's shape, d y / d x of two vectors is the
 *   Jacobian (rows: y, columns: x); a let without indices whose right side
 *   is a matrix defines a quantity of that shape (n×1: a vector x[n]).
 *
 * Not here: parsing itself (parse.c calls in through small hooks).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "expr_impl.h"

#define MAT_MAX_DEPTH 200        /* operations in one matrix expression (its rewriting recurses) */
#define TIMES "\xC3\x97"         /* × */

static const sub LIT0 = {1, 0};

static int rows_of(const ast *e) { return e->rows ? e->rows : 1; }
static int cols_of(const ast *e) { return e->rows ? e->cols : 1; }
static int one_by_one(const ast *e) { return rows_of(e) == 1 && cols_of(e) == 1; }

/* The shape of quantity Q used whole: x[n] is a column, n×1. */
static void qty_shape(const qty *Q, int *r, int *c)
{
    *r = Q->rank >= 1 ? Q->dim[0] : 1;
    *c = Q->rank == 2 ? Q->dim[1] : 1;
}

/* e's text for a message: its source bytes, blanks folded, cut at 60. */
static const char *span(const parser *P, const ast *e, char *buf, size_t n)
{
    size_t k = 0;
    int space = 0;
    for (size_t i = e->from; i < e->to && i < P->len && k + 4 < n; i++) {
        char ch = P->src[i];
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') { space = k > 0; continue; }
        if (space) buf[k++] = ' ';
        space = 0;
        buf[k++] = ch;
        if (k >= 60 && i + 1 < e->to) { memcpy(buf + k, "...", 3); k += 3; break; }
    }
    buf[k] = '\0';
    return k ? buf : "this expression";
}

/* Fails at the start of e's text: line and column counted as the lexer does. */
_Noreturn static void fail_at(parser *P, const ast *e, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void fail_at(parser *P, const ast *e, const char *fmt, ...)
{
    char msg[sizeof P->err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = 1, col = 1;
    for (size_t k = 0; k < e->from && k < P->len; k++) {
        unsigned char ch = (unsigned char)P->src[k];
        if (ch == '\n') { line++; col = 1; }
        else if ((ch & 0xC0) != 0x80) col++;
    }
    if (e->from >= e->to) { line = e->line; col = e->col; }
    lex_fail(P, line, col, "%s", msg);
}

static void set_shape(ast *e, int r, int c) { e->rows = r; e->cols = c; }

/* a ⊙ b, a + b, a / b, a ^ b …: the same shape, or one is 1×1. */
static void shape_entrywise(parser *P, ast *e)
{
    static const char *const verb[] = {[E_ADD] = "add", [E_SUB] = "subtract", [E_DIV] = "divide",
                                       [E_POW] = "raise", [E_HAD] = "multiply entry by entry", [E_FN] = "compare"};
    const ast *a = e->a, *b = e->b;
    char t[80];
    if (one_by_one(a)) { set_shape(e, rows_of(b), cols_of(b)); return; }
    if (one_by_one(b) || (rows_of(a) == rows_of(b) && cols_of(a) == cols_of(b))) {
        set_shape(e, rows_of(a), cols_of(a));
        return;
    }
    fail_at(P, e, "%s: cannot %s (%d" TIMES "%d) and (%d" TIMES "%d)%s", span(P, e, t, sizeof t),
             verb[e->kind] ? verb[e->kind] : "combine", rows_of(a), cols_of(a), rows_of(b), cols_of(b),
             rows_of(a) == cols_of(b) && cols_of(a) == rows_of(b) ? " (a transpose missing?)" : "");
}

/* a * b: the matrix product of two non-scalars, a scalar times a matrix. */
static void shape_product(parser *P, ast *e)
{
    const ast *a = e->a, *b = e->b;
    int ar = rows_of(a), ac = cols_of(a), br = rows_of(b), bc = cols_of(b);
    char t[80];
    if (one_by_one(a)) { set_shape(e, br, bc); return; }
    if (one_by_one(b)) { set_shape(e, ar, ac); return; }
    if (ac == br) { set_shape(e, ar, bc); return; }
    /* what would fit: the other order (b a, or a^T b^T), one transposed */
    const char *fix[3];
    int nfix = 0;
    if (bc == ar) fix[nfix++] = "in the other order or both transposed";
    if (ar == br) fix[nfix++] = "with the left one transposed";
    if (ac == bc) fix[nfix++] = "with the right one transposed";
    char why[200] = "";
    if (ar == br && ac == bc) snprintf(why, sizeof why, " (entry by entry is .* or \xE2\x8A\x99)");
    else
        for (int i = 0; i < nfix; i++)
            snprintf(why + strlen(why), sizeof why - strlen(why), "%s%s%s", i ? (i + 1 == nfix ? " or " : ", ")
                     : " (they fit ", fix[i], i + 1 == nfix ? ")" : "");
    fail_at(P, e, "%s: cannot multiply (%d" TIMES "%d) by (%d" TIMES "%d)%s", span(P, e, t, sizeof t),
             ar, ac, br, bc, why);
}

/* The shape of a new node e with a matrix among its operands (from mk). */
void shape_node(parser *P, ast *e)
{
    if (e->depth > MAT_MAX_DEPTH)
        lex_fail(P, e->line, e->col, "matrix expression too long: more than %d operations (split it with let)",
                 MAT_MAX_DEPTH);
    switch (e->kind) {
    case E_ADD: case E_SUB: case E_HAD: case E_DIV: case E_POW:
        shape_entrywise(P, e);
        break;
    case E_MUL:
        shape_product(P, e);
        break;
    case E_FN:
        if (e->b) shape_entrywise(P, e);
        else set_shape(e, rows_of(e->a), cols_of(e->a));
        break;
    case E_T:
        set_shape(e, cols_of(e->a), rows_of(e->a));
        break;
    default:                                       /* E_NEG, E_SUM, E_PROD */
        set_shape(e, rows_of(e->a), cols_of(e->a));
    }
}

/* ---- the leaves: whole quantities, transposes, d L / d W ------------------------- */

/* Is quantity q (a vector or a matrix) used whole here: no subscript
 * follows (u: an inline LaTeX subscript, as in y_i, or −1)? */
int mat_whole_ok(const parser *P, int q, int u)
{
    const qty *Q = &P->p->q[q];
    return u < 0 && Q->rank >= 1 && Q->rank <= 2 && !is_op(P, '[') && !is_op(P, '_');
}

ast *mat_ref(parser *P, const tok *t, int q)
{
    const qty *Q = &P->p->q[q];
    ast *e = palloc(P, sizeof *e);
    e->kind = E_WHOLE;
    e->line = t->line;
    e->col = t->col;
    e->depth = 1;
    e->q = q;
    e->konst = (unsigned char)Q->konst;
    e->from = (unsigned)t->at;
    e->to = (unsigned)t->end;
    qty_shape(Q, &e->rows, &e->cols);
    return e;
}

/* Does ^T (^{T}, ^\top, ^{\top}, ^\intercal) or ᵀ follow? After a vector or a matrix
 * it is a transpose even when a quantity is named T; after a scalar only
 * when none is (then it changes nothing). */
int mat_transpose_next(const parser *P, const ast *base)
{
    if (is_op(P, 't')) return 1;
    if (!is_op(P, '^') || P->lx.pend2) return 0;
    const char *s = P->src;
    size_t k = P->t.end, n = P->len;
    int braced = 0, top = 0;
    while (k < n && (s[k] == ' ' || s[k] == '\t')) k++;
    if (k < n && s[k] == '{') { braced = 1; k++; while (k < n && (s[k] == ' ' || s[k] == '\t')) k++; }
    if (k + 4 <= n && memcmp(s + k, "\\top", 4) == 0) { top = 1; k += 4; }
    else if (k + 9 <= n && memcmp(s + k, "\\intercal", 9) == 0) { top = 1; k += 9; }
    else if (k < n && s[k] == 'T') k++;
    else return 0;
    if (k < n && ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') || s[k] == '_' ||
                  (!top && s[k] >= '0' && s[k] <= '9')))
        return 0;                                  /* ^Tx, ^\topic: another name */
    if (braced) {
        while (k < n && (s[k] == ' ' || s[k] == '\t')) k++;
        if (k >= n || s[k] != '}') return 0;
    }
    return base->rows > 0 || top || find_qty(P->p, "T", 1) < 0;
}

/* Reads the transpose mat_transpose_next found: base^T. */
ast *mat_transpose(parser *P, ast *base)
{
    if (is_op(P, 't')) lex_next(P);
    else {
        lex_next(P);                               /* '^' */
        int braced = is_op(P, '{');
        if (braced) lex_next(P);
        lex_next(P);                               /* T or \top */
        if (braced) expect_op(P, '}', "'}' after T");
    }
    if (!base->rows) return base;                  /* a scalar is its own transpose */
    ast *e = palloc(P, sizeof *e);
    e->kind = E_T;
    e->line = base->line;
    e->col = base->col;
    e->a = base;
    e->depth = base->depth + 1;
    e->konst = base->konst;
    e->from = base->from;
    e->to = (unsigned)P->prev_end;
    shape_node(P, e);
    return e;
}

/* d A / d B with A or B used whole (e->whole): the shape of the result —
 * B's for a scalar A (the gradient), A's for a scalar B, the Jacobian
 * (A's entries × B's) for two vectors. a is A's name, for messages. */
void mat_dterm(parser *P, ast *e, const tok *a)
{
    const qty *A = &P->p->q[e->q], *B = &P->p->q[e->dq];
    int aw = e->whole & 1, bw = e->whole & 2;
    if (aw && !bw && B->rank > 0) subs_missing(P, e->q, a, 0);   /* d o / d o[j]: o needs its index too */
    if (aw && bw && (A->rank > 1 || B->rank > 1))
        lex_fail(P, e->line, e->col, "d %.*s / d %.*s would have %d indices: write it with indices, "
                 "d %.*s[..] / d %.*s[..] (whole, d A / d B takes a vector by a vector)", A->nlen, A->name,
                 B->nlen, B->name, A->rank + B->rank, A->nlen, A->name, B->nlen, B->name);
    if (aw && bw) set_shape(e, A->dim[0], B->dim[0]);
    else qty_shape(aw ? A : B, &e->rows, &e->cols);
}

/* ---- rewriting into the indexed form --------------------------------------------- */

static ast *lower(parser *P, const ast *e, sub R, sub C);

/* A new index of this statement with a known range: the letters of a
 * matrix claim, the summed index of a product. */
static int range_new(parser *P, const char *name, int range, const ast *at)
{
    tok t = {0};
    t.s = name;
    t.n = (int)strlen(name);
    t.line = at->line;
    t.col = at->col;
    int s = new_slot(P, &t);
    P->slots[s].range = range;
    P->slots[s].rline = at->line;
    P->slots[s].rcol = at->col;
    return s;
}

/* A scalar node of the rewritten form (its operands rewritten already). */
static ast *node_new(parser *P, int kind, const ast *at, ast *a, ast *b)
{
    ast *e = palloc(P, sizeof *e);
    e->kind = (unsigned char)kind;
    e->line = at->line;
    e->col = at->col;
    e->a = a;
    e->b = b;
    e->depth = 1 + (a->depth > (b ? b->depth : 0) ? a->depth : b->depth);
    e->konst = (unsigned char)(a->konst && (!b || b->konst));
    return e;
}

/* a (r×k) times b (k×c) at entry [R][C]: sum over k of a[R][k]*b[k][C]
 * in index order (an outer product, k = 1, has no sum). */
static ast *lower_product(parser *P, const ast *e, sub R, sub C)
{
    int k = cols_of(e->a);
    if (k == 1) return node_new(P, E_MUL, e, lower(P, e->a, R, LIT0), lower(P, e->b, LIT0, C));
    int s = range_new(P, "k", k, e);
    sub S = {0, s};
    ast *m = node_new(P, E_MUL, e, lower(P, e->a, R, S), lower(P, e->b, S, C));
    ast *sum = node_new(P, E_SUM, e, m, NULL);
    sum->slot = s;
    return sum;
}

/* d A / d B used whole, at entry [R][C]. */
static void lower_dterm(parser *P, ast *n, sub R, sub C)
{
    const qty *A = &P->p->q[n->q], *B = &P->p->q[n->dq];
    if ((n->whole & 3) == 3) {
        n->s[0] = R;
        n->ds[0] = C;
        n->nsub = 1;
    } else if (n->whole & 1) {
        n->s[0] = R;
        if (A->rank == 2) n->s[1] = C;
        n->nsub = (unsigned char)A->rank;
    } else {
        n->ds[0] = R;
        if (B->rank == 2) n->ds[1] = C;
    }
    n->whole = 0;
    P->dterm[n->dterm] = n;                        /* the claim's d A / d B is this node now */
}

/* e at entry [R][C] (a letter or a fixed 0 each) as a scalar expression;
 * a scalar part is returned as it is. */
static ast *lower(parser *P, const ast *e, sub R, sub C)
{
    if (!e->rows) return (ast *)e;
    if (rows_of(e) == 1) R = LIT0;
    if (cols_of(e) == 1) C = LIT0;
    if (e->kind == E_T) return lower(P, e->a, C, R);
    if (e->kind == E_MUL && !one_by_one(e->a) && !one_by_one(e->b)) return lower_product(P, e, R, C);
    ast *n = palloc(P, sizeof *n);
    *n = *e;
    n->rows = n->cols = 0;
    if (e->kind == E_WHOLE) {
        const qty *Q = &P->p->q[e->q];
        n->kind = E_REF;
        n->s[0] = R;
        n->s[1] = C;
        n->nsub = (unsigned char)Q->rank;
        return n;
    }
    if (e->kind == E_DERIV) { lower_dterm(P, n, R, C); return n; }
    if (e->kind == E_HAD) n->kind = E_MUL;
    n->a = e->a ? lower(P, e->a, R, C) : NULL;
    n->b = e->b ? lower(P, e->b, R, C) : NULL;
    int d = n->a ? n->a->depth : 0;
    if (n->b && n->b->depth > d) d = n->b->depth;
    n->depth = d + 1;
    n->konst = (unsigned char)((!n->a || n->a->konst) && (!n->b || n->b->konst));
    return n;
}

/* ---- statements: a let of a matrix, a matrix claim ------------------------------ */

/* Every index of e (not yet rewritten) moves up by k: the let's own
 * indices take the first k. Loops down the left spine as parse.c's walks. */
static void shift_slots(ast *e, int k)
{
    for (; e; e = e->a) {
        for (int i = 0; i < EXPR_MAX_RANK; i++) {
            if (!e->s[i].lit) e->s[i].v += k;
            if (!e->ds[i].lit) e->ds[i].v += k;
        }
        if (e->kind == E_SUM || e->kind == E_PROD) e->slot += k;
        if (e->b) shift_slots(e->b, k);
    }
}

/* let h = (d W^T) ⊙ g: *rhs a matrix. Rewrites it for the let's own
 * indices (slots 0 … rank−1) and returns the let's rank: 1 for n×1 (a
 * vector h[n]), 2 otherwise, 0 for 1×1. An indexed let takes one entry. */
int mat_let(parser *P, ast **rhs, int rank, const tok *nm)
{
    ast *e = *rhs;
    char t[80];
    int r = rows_of(e), c = cols_of(e);
    if (rank > 0)
        fail_at(P, e, "%s is (%d" TIMES "%d): an indexed let defines one entry, so write it with "
                 "indices, or define the whole: let %.*s = ...", span(P, e, t, sizeof t), r, c, nm->n, nm->s);
    int k = c > 1 ? 2 : r > 1 ? 1 : 0, n = P->nslots;
    for (int i = 0; i < k; i++) new_slot(P, nm);
    if (k && n) memmove(&P->slots[k], &P->slots[0], (size_t)n * sizeof *P->slots);
    for (int i = 0; i < k; i++) {
        memset(&P->slots[i], 0, sizeof *P->slots);
        P->slots[i].name = i ? "col" : "row";
        P->slots[i].nlen = 3;
        P->slots[i].line = P->slots[i].rline = nm->line;
        P->slots[i].col = P->slots[i].rcol = nm->col;
        P->slots[i].range = i ? c : r;
    }
    shift_slots(e, k);
    sub R = k >= 1 ? (sub){0, 0} : LIT0, C = k == 2 ? (sub){0, 1} : LIT0;
    *rhs = lower(P, e, R, C);
    return k;
}

/* claim d L / d W = x δ^T (= …): every side of one shape (a number may
 * stand for every entry), checked at every entry: the claim's letters are
 * the rows and the columns. */
void mat_claim(parser *P, ast **side, char **text, int nsides)
{
    int any = 0, ref = -1;
    for (int s = 0; s < nsides; s++) {
        any |= side[s]->rows > 0;
        if (ref < 0 && !(side[s]->konst && !side[s]->rows)) ref = s;
    }
    if (!any) return;
    int r = rows_of(side[ref]), c = cols_of(side[ref]);
    for (int s = 0; s < nsides; s++) {
        const ast *e = side[s];
        if ((e->konst && !e->rows) || (rows_of(e) == r && cols_of(e) == c)) continue;
        fail_at(P, e, "the sides of this claim differ in shape: %s is (%d" TIMES "%d), %s is "
                 "(%d" TIMES "%d)%s", text[ref], r, c, text[s], rows_of(e), cols_of(e),
                 r * c == 1 || rows_of(e) * cols_of(e) == 1 ? " (index both sides, or neither)" : "");
    }
    sub R = LIT0, C = LIT0;
    if (P->nletters + (r > 1) + (c > 1) > MAX_LETTERS)
        lex_fail(P, side[0]->line, side[0]->col, "at most %d index letters per claim", MAX_LETTERS);
    if (r > 1) { R.lit = 0; R.v = range_new(P, "row", r, side[ref]); P->letter[P->nletters++] = R.v; }
    if (c > 1) { C.lit = 0; C.v = range_new(P, "col", c, side[ref]); P->letter[P->nletters++] = C.v; }
    for (int s = 0; s < nsides; s++) side[s] = lower(P, side[s], R, C);
}
