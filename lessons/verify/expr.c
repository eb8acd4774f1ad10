/* expr.c — the derivation language: tokenizer, recursive-descent parser
 * with index-range inference, evaluation into scalar graph nodes, and the
 * check of each claim against reverse-mode Jacobians.
 *
 * Deliberately not here: a general tensor language. Every entry of every
 * quantity is its own scalar node, which is slow for big tensors and exactly
 * right for derivations a student writes by hand (and it lets a claim be
 * about any single entry). Limits in expr.h keep the work bounded.
 *
 * Errors while parsing longjmp back to expr_parse; every allocation of the
 * program lives in its arena or in arrays the program owns, so nothing
 * leaks on the way out.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "expr.h"
#include "graph.h"
#include "ops.h"
#include "rng.h"

/* ---- arena ---------------------------------------------------------------- */

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} chunk;

/* ---- the program ------------------------------------------------------------ */

enum { E_NUM, E_REF, E_NEG, E_ADD, E_SUB, E_MUL, E_DIV, E_POW, E_FN, E_DELTA, E_SUM, E_PROD };

enum { F_EXP, F_LOG, F_SQRT, F_ABS, F_SIN, F_COS, F_TANH, F_SINH, F_COSH, F_SECH,
       F_SIGMOID, F_RELU, F_STANH, F_STEP, F_SIGN, F_COUNT };
static const char *const fn_names[F_COUNT] = {
    [F_EXP] = "exp", [F_LOG] = "log", [F_SQRT] = "sqrt", [F_ABS] = "abs",
    [F_SIN] = "sin", [F_COS] = "cos", [F_TANH] = "tanh", [F_SINH] = "sinh",
    [F_COSH] = "cosh", [F_SECH] = "sech", [F_SIGMOID] = "sigmoid", [F_RELU] = "relu",
    [F_STANH] = "stanh", [F_STEP] = "step", [F_SIGN] = "sign",
};
_Static_assert(sizeof fn_names / sizeof fn_names[0] == F_COUNT, "one name per function");

/* A subscript: a literal entry number, or a slot (an index letter). */
typedef struct { int lit, v; } sub;

typedef struct ast {
    unsigned char kind, fn, konst, nsub;   /* konst: depends on no input */
    int line, col;
    int depth;                             /* height of this subtree */
    double num;                            /* E_NUM */
    int q;                                 /* E_REF: quantity */
    sub s[EXPR_MAX_RANK];                  /* E_REF subscripts; E_DELTA: s[0], s[1] */
    int slot;                              /* E_SUM, E_PROD: the bound index */
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

enum { Q_GIVEN, Q_LET };
enum { D_NORMAL, D_UNIFORM, D_ONEHOT, D_SIMPLEX };

typedef struct {
    const char *name;        /* into the source, nlen bytes */
    int nlen, kind, rank, dim[EXPR_MAX_RANK], size, line, col;
    int dist;                /* given: D_* */
    double lo, hi;           /* given in (lo, hi) */
    ast *rhs;                /* let: the definition, slots 0…rank−1 the left side */
    slot *slots;             /* let: its index letters (arena) */
    int nslots, konst;
    double cost;             /* let: graph nodes per point for all entries */
    int *deps, ndeps;        /* quantities the definition uses directly */
} qty;

enum { C_EQ, C_NE, C_LT, C_GT, C_LE, C_GE };
#define MAX_COND 8
#define MAX_LETTERS (2 * EXPR_MAX_RANK)

typedef struct {
    char *text;
    int line, col;
    int aq, bq;              /* d A / d B */
    sub as[EXPR_MAX_RANK], bs[EXPR_MAX_RANK];
    int nletters;            /* slots 0…nletters−1: the claim's index letters */
    slot *slots;
    int nslots;
    ast *rhs;
    int ncond;
    struct { sub x, y; int op; } cond[MAX_COND];
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
    /* scratch for expr_check, sized on demand */
    uint32_t *tab; size_t tabcap;   /* node ids of the closure's entries */
    int *base;                      /* per quantity: first entry in tab */
};

static void *arena_alloc(expr_prog *p, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    chunk *c = p->arena;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->next = p->arena;
        c->used = 0;
        c->cap = cap;
        p->arena = c;
    }
    void *r = c->data + c->used;
    c->used += n;
    return r;
}

void expr_free(expr_prog *p)
{
    if (!p) return;
    for (chunk *c = p->arena, *n; c; c = n) { n = c->next; free(c); }
    free(p->q);
    free(p->c);
    free(p->hash);
    free(p->stamp);
    free(p->tab);
    free(p->base);
    free(p);
}

/* ---- tokens ------------------------------------------------------------------ */

enum { T_EOF, T_NL, T_NAME, T_NUM, T_OP };
/* T_OP carries c: one of + - * / ^ ( ) [ ] , : = < >, or N (!=), E (==),
 * L (<=), G (>=). */

typedef struct {
    int kind, c;
    const char *s;           /* the token's text */
    int n;                   /* its length in bytes */
    int line, col;
    size_t end;              /* byte offset just after it */
    double num;
} tok;

typedef struct {
    size_t pos;
    int line, col, depth;    /* depth: open ( and [ — newlines inside are spaces */
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
    int claim_mode;          /* parsing d A / d B: new letters become slots */
} parser;

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static _Noreturn void fail_at(parser *P, int line, int col, const char *fmt, ...)
{
    va_list ap;
    P->err->line = line;
    P->err->col = col;
    va_start(ap, fmt);
    vsnprintf(P->err->msg, sizeof P->err->msg, fmt, ap);
    va_end(ap);
    longjmp(P->jb, 1);
}

#define FAIL_TOK(P, ...) fail_at((P), (P)->t.line, (P)->t.col, __VA_ARGS__)

static void *palloc(parser *P, size_t n)
{
    void *r = arena_alloc(P->p, n);
    if (!r) fail_at(P, P->t.line, P->t.col, "out of memory");
    memset(r, 0, n);
    return r;
}

/* A readable name for a token in messages: 'x', '(', number 2, end of line. */
static const char *tok_desc(const tok *t, char *buf, size_t n)
{
    switch (t->kind) {
    case T_EOF: return "end of file";
    case T_NL: return "end of line";
    case T_NUM: snprintf(buf, n, "number '%.*s'", t->n > 40 ? 40 : t->n, t->s); return buf;
    case T_NAME: snprintf(buf, n, "'%.*s'", t->n > 40 ? 40 : t->n, t->s); return buf;
    default: snprintf(buf, n, "'%.*s'", t->n, t->s); return buf;
    }
}

static void lx_advance(parser *P, size_t n)
{
    for (size_t k = 0; k < n && P->lx.pos < P->len; k++) {
        unsigned char ch = (unsigned char)P->src[P->lx.pos++];
        if (ch == '\n') { P->lx.line++; P->lx.col = 1; }
        else if ((ch & 0xC0) != 0x80) P->lx.col++;
    }
}

static int is_alpha(int ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_'; }
static int is_digit(int ch) { return ch >= '0' && ch <= '9'; }

/* Unicode a student may paste from notes: some are read as ASCII, the
 * others are refused with the ASCII to write instead. */
static const struct { const char *utf8, *ascii; int op; } unicode[] = {
    {"\xE2\x88\x92", "-", '-'}, {"\xC2\xB7", "*", '*'}, {"\xC3\x97", "*", '*'},
    {"\xE2\x8B\x85", "*", '*'}, {"\xE2\x88\x82", "d", 0}, {"\xCE\xA3", "sum(k, ...)", 0},
    {"\xE2\x88\x91", "sum(k, ...)", 0}, {"\xCE\xB4", "delta(i, j)", 0},
    {"\xCF\x83", "sigmoid(x)", 0}, {"\xE2\x89\xA0", "!=", 0}, {"\xE2\x80\x93", "-", '-'},
};

static void next(parser *P)
{
    const char *s = P->src;
    P->prev_end = P->t.end;
    P->prev_line = P->t.line;
    for (;;) {
        if (P->lx.pos >= P->len) break;
        char ch = s[P->lx.pos];
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v') lx_advance(P, 1);
        else if (ch == '#') {
            while (P->lx.pos < P->len && s[P->lx.pos] != '\n') lx_advance(P, 1);
        } else if (ch == '\\') {             /* a line continued with a backslash */
            size_t k = P->lx.pos + 1;
            while (k < P->len && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r')) k++;
            if (k < P->len && s[k] == '\n') lx_advance(P, k + 1 - P->lx.pos);
            else break;
        } else if (ch == '\n' && P->lx.depth > 0) lx_advance(P, 1);
        else break;
    }
    tok *t = &P->t;
    memset(t, 0, sizeof *t);
    t->line = P->lx.line;
    t->col = P->lx.col;
    t->s = s + P->lx.pos;
    if (P->lx.pos >= P->len) { t->kind = T_EOF; t->end = P->len; return; }
    size_t st = P->lx.pos;
    unsigned char ch = (unsigned char)s[st];
    if (ch == '\n') {
        t->kind = T_NL; t->n = 1;
        lx_advance(P, 1);
    } else if (is_alpha(ch)) {
        size_t k = st;
        while (k < P->len && (is_alpha((unsigned char)s[k]) || is_digit((unsigned char)s[k]))) k++;
        if (k - st > 64) FAIL_TOK(P, "name too long (more than 64 characters)");
        t->kind = T_NAME; t->n = (int)(k - st);
        lx_advance(P, k - st);
    } else if (is_digit(ch) || (ch == '.' && st + 1 < P->len && is_digit((unsigned char)s[st + 1]))) {
        size_t k = st;
        while (k < P->len && is_digit((unsigned char)s[k])) k++;
        if (k < P->len && s[k] == '.') { k++; while (k < P->len && is_digit((unsigned char)s[k])) k++; }
        if (k < P->len && (s[k] == 'e' || s[k] == 'E')) {
            size_t e = k + 1;
            if (e < P->len && (s[e] == '+' || s[e] == '-')) e++;
            if (e < P->len && is_digit((unsigned char)s[e])) {
                while (e < P->len && is_digit((unsigned char)s[e])) e++;
                k = e;
            } else {
                fail_at(P, t->line, t->col, "malformed number '%.*s': expected digits after the exponent",
                        (int)(e - st > 40 ? 40 : e - st), s + st);
            }
        }
        if (k < P->len && (is_alpha((unsigned char)s[k]) || s[k] == '.'))
            fail_at(P, t->line, t->col, "malformed number '%.*s' (write 2*x for a product)",
                    (int)(k + 1 - st > 40 ? 40 : k + 1 - st), s + st);
        if (k - st > 100) FAIL_TOK(P, "number too long (more than 100 characters)");
        char buf[128];
        memcpy(buf, s + st, k - st);
        buf[k - st] = '\0';
        t->num = strtod(buf, NULL);
        if (!isfinite(t->num)) FAIL_TOK(P, "number '%s' is too large", buf);
        t->kind = T_NUM; t->n = (int)(k - st);
        lx_advance(P, k - st);
    } else if (ch >= 0x80) {
        for (size_t u = 0; u < sizeof unicode / sizeof unicode[0]; u++) {
            size_t ul = strlen(unicode[u].utf8);
            if (st + ul <= P->len && memcmp(s + st, unicode[u].utf8, ul) == 0) {
                if (!unicode[u].op)
                    FAIL_TOK(P, "unexpected character '%.*s': write %s", (int)ul, s + st, unicode[u].ascii);
                t->kind = T_OP; t->c = unicode[u].op; t->n = (int)ul;
                lx_advance(P, ul);
                t->end = P->lx.pos;
                return;
            }
        }
        FAIL_TOK(P, "unexpected byte 0x%02X: only ASCII is understood here", ch);
    } else {
        static const char two[][3] = {"!=", "==", "<=", ">="};
        static const char code[] = "NELG";
        for (int k = 0; k < 4; k++)
            if (st + 1 < P->len && s[st] == two[k][0] && s[st + 1] == two[k][1]) {
                t->kind = T_OP; t->c = code[k]; t->n = 2;
                lx_advance(P, 2);
                t->end = P->lx.pos;
                return;
            }
        if (!strchr("+-*/^()[],:=<>", ch) || ch == '\0') {
            if (ch >= 0x20 && ch < 0x7F) FAIL_TOK(P, "unexpected character '%c'", ch);
            FAIL_TOK(P, "unexpected byte 0x%02X", ch);
        }
        if (ch == '(' || ch == '[') P->lx.depth++;
        if ((ch == ')' || ch == ']') && P->lx.depth > 0) P->lx.depth--;
        t->kind = T_OP; t->c = ch; t->n = 1;
        lx_advance(P, 1);
    }
    t->end = P->lx.pos;
}

static int is_op(const parser *P, int c) { return P->t.kind == T_OP && P->t.c == c; }
static int is_name(const parser *P, const char *w)
{
    return P->t.kind == T_NAME && (size_t)P->t.n == strlen(w) && memcmp(P->t.s, w, (size_t)P->t.n) == 0;
}
static int name_is(const char *s, int n, const char *w)
{
    return (size_t)n == strlen(w) && memcmp(s, w, (size_t)n) == 0;
}

static void expect_op(parser *P, int c, const char *what)
{
    char b[64];
    if (!is_op(P, c)) FAIL_TOK(P, "expected %s, found %s", what, tok_desc(&P->t, b, sizeof b));
    next(P);
}

/* ---- names --------------------------------------------------------------------- */

static unsigned hash_name(const char *s, int n)
{
    unsigned h = 2166136261u;
    for (int i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static int find_qty(const expr_prog *p, const char *s, int n)
{
    if (!p->hcap) return -1;
    for (unsigned h = hash_name(s, n) & (unsigned)(p->hcap - 1);; h = (h + 1) & (unsigned)(p->hcap - 1)) {
        int id = p->hash[h];
        if (id < 0) return -1;
        if (p->q[id].nlen == n && memcmp(p->q[id].name, s, (size_t)n) == 0) return id;
    }
}

static void hash_insert(expr_prog *p, int id)
{
    for (unsigned h = hash_name(p->q[id].name, p->q[id].nlen) & (unsigned)(p->hcap - 1);;
         h = (h + 1) & (unsigned)(p->hcap - 1))
        if (p->hash[h] < 0) { p->hash[h] = id; return; }
}

static int fn_lookup(const char *s, int n)
{
    for (int f = 0; f < F_COUNT; f++)
        if (name_is(s, n, fn_names[f])) return f;
    return -1;
}

static const char *const keywords[] = {"given", "let", "claim", "for", "in", "onehot", "simplex",
                                       "sum", "prod", "delta"};

/* Refuses names a quantity or an index may not take. */
static void check_new_name(parser *P, const tok *t, const char *what)
{
    for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++)
        if (name_is(t->s, t->n, keywords[k]))
            fail_at(P, t->line, t->col, "'%s' is a word of the language; pick another name for the %s",
                    keywords[k], what);
    if (fn_lookup(t->s, t->n) >= 0)
        fail_at(P, t->line, t->col, "'%.*s' is a function; pick another name for the %s", t->n, t->s, what);
}

static int add_qty(parser *P, const tok *name, int kind)
{
    expr_prog *p = P->p;
    int old = find_qty(p, name->s, name->n);
    if (old >= 0)
        fail_at(P, name->line, name->col, "'%.*s' is already defined at %d:%d", name->n, name->s,
                p->q[old].line, p->q[old].col);
    if (p->nq == p->capq) {
        int cap = p->capq ? 2 * p->capq : 16;
        qty *q = realloc(p->q, (size_t)cap * sizeof *q);
        if (!q) FAIL_TOK(P, "out of memory");
        p->q = q;
        p->capq = cap;
    }
    if (2 * (p->nq + 1) > p->hcap) {
        int cap = p->hcap ? 2 * p->hcap : 64;
        int *h = malloc((size_t)cap * sizeof *h);
        if (!h) FAIL_TOK(P, "out of memory");
        free(p->hash);
        p->hash = h;
        p->hcap = cap;
        for (int i = 0; i < cap; i++) h[i] = -1;
        for (int i = 0; i < p->nq; i++) hash_insert(p, i);
    }
    int id = p->nq++;
    qty *q = &p->q[id];
    memset(q, 0, sizeof *q);
    q->name = name->s;
    q->nlen = name->n;
    q->kind = kind;
    q->line = name->line;
    q->col = name->col;
    q->size = 1;
    hash_insert(p, id);
    return id;
}

/* ---- index letters ------------------------------------------------------------- */

static int new_slot(parser *P, const tok *t)
{
    if (P->nslots == P->capslots) {
        int cap = P->capslots ? 2 * P->capslots : 16;
        slot *s = palloc(P, (size_t)cap * sizeof *s);
        if (P->nslots) memcpy(s, P->slots, (size_t)P->nslots * sizeof *s);
        P->slots = s;
        P->capslots = cap;
    }
    slot *s = &P->slots[P->nslots];
    memset(s, 0, sizeof *s);
    s->name = t->s;
    s->nlen = t->n;
    s->line = t->line;
    s->col = t->col;
    return P->nslots++;
}

static int find_scope(const parser *P, const char *s, int n)
{
    for (int k = P->nscope; k-- > 0;) {
        const slot *sl = &P->slots[P->scope[k]];
        if (sl->nlen == n && memcmp(sl->name, s, (size_t)n) == 0) return P->scope[k];
    }
    return -1;
}

static void check_index_name(parser *P, const tok *t)
{
    check_new_name(P, t, "index");
    int q = find_qty(P->p, t->s, t->n);
    if (q >= 0)
        fail_at(P, t->line, t->col, "'%.*s' is a quantity (defined at %d:%d); an index needs a name of its own",
                t->n, t->s, P->p->q[q].line, P->p->q[q].col);
    if (name_is(t->s, t->n, "e") || name_is(t->s, t->n, "pi"))
        fail_at(P, t->line, t->col, "'%.*s' is a constant; pick another letter for the index", t->n, t->s);
}

/* Slot s indexes position pos of quantity q here: its range is q's size
 * there; a different size seen earlier is a shape conflict. */
static void range_slot(parser *P, int s, int q, int pos, const tok *at)
{
    slot *sl = &P->slots[s];
    const qty *Q = &P->p->q[q];
    int n = Q->dim[pos];
    if (!sl->range) {
        sl->range = n;
        sl->rline = at->line;
        sl->rcol = at->col;
        sl->rq = q;
        return;
    }
    if (sl->range != n) {
        const qty *R = &P->p->q[sl->rq];
        fail_at(P, at->line, at->col,
                "shape conflict: index '%.*s' runs over %d entries here (%.*s has %d) but over %d at %d:%d (%.*s)",
                sl->nlen, sl->name, n, Q->nlen, Q->name, n, sl->range, sl->rline, sl->rcol, R->nlen, R->name);
    }
}

/* ---- expressions ------------------------------------------------------------------- */

static ast *mk(parser *P, int kind, int line, int col, ast *a, ast *b)
{
    ast *e = palloc(P, sizeof *e);
    e->kind = (unsigned char)kind;
    e->line = line;
    e->col = col;
    e->a = a;
    e->b = b;
    int d = 0;
    if (a && a->depth > d) d = a->depth;
    if (b && b->depth > d) d = b->depth;
    e->depth = d + 1;
    e->konst = (unsigned char)((!a || a->konst) && (!b || b->konst));
    if (e->depth > EXPR_MAX_DEPTH)
        fail_at(P, line, col, "expression too long: more than %d operations in one chain (split it with let)",
                EXPR_MAX_DEPTH);
    return e;
}

static ast *parse_expr(parser *P);
static ast *parse_unary(parser *P);

static void enter(parser *P)
{
    if (++P->nest > EXPR_MAX_NESTING)
        FAIL_TOK(P, "expression nested too deeply (more than %d levels)", EXPR_MAX_NESTING);
}

/* Parses the subscripts of quantity q after its name (token nm). In claim
 * mode a new letter becomes an index of the claim. */
static void parse_subs(parser *P, int q, const tok *nm, sub *out, int *nout)
{
    const qty *Q = &P->p->q[q];
    int n = 0;
    char b[64];
    while (is_op(P, '[')) {
        tok open = P->t;
        next(P);
        if (n == Q->rank) {
            if (Q->rank == 0)
                fail_at(P, open.line, open.col, "'%.*s' is a scalar: it takes no index", Q->nlen, Q->name);
            fail_at(P, open.line, open.col, "'%.*s' has %d ind%s, not more", Q->nlen, Q->name, Q->rank,
                    Q->rank == 1 ? "ex" : "ices");
        }
        tok it = P->t;
        if (it.kind == T_NUM) {
            if (it.num != floor(it.num) || it.num < 0 || it.num >= Q->dim[n])
                fail_at(P, it.line, it.col, "index %.*s is out of range: %.*s has entries 0 to %d here",
                        it.n > 40 ? 40 : it.n, it.s, Q->nlen, Q->name, Q->dim[n] - 1);
            out[n].lit = 1;
            out[n].v = (int)it.num;
        } else if (it.kind == T_NAME) {
            int s = find_scope(P, it.s, it.n);
            if (s < 0 && P->claim_mode) {
                check_index_name(P, &it);
                s = new_slot(P, &it);
                P->scope[P->nscope++] = s;
            }
            if (s < 0) {
                if (find_qty(P->p, it.s, it.n) >= 0)
                    fail_at(P, it.line, it.col,
                            "'%.*s' is a quantity; an index is a letter (bound by the left side, a sum or the claim) "
                            "or a whole number", it.n, it.s);
                if (P->defining)
                    fail_at(P, it.line, it.col,
                            "index '%.*s' is not bound: put it on the left side (%.*s[%.*s]) or sum over it "
                            "(sum(%.*s, ...))", it.n, it.s, P->defining_n, P->defining, it.n, it.s, it.n, it.s);
                fail_at(P, it.line, it.col,
                        "index '%.*s' is not bound: use it in d A / d B or sum over it (sum(%.*s, ...))",
                        it.n, it.s, it.n, it.s);
            }
            range_slot(P, s, q, n, &it);
            out[n].lit = 0;
            out[n].v = s;
        } else {
            FAIL_TOK(P, "expected an index (a letter or a whole number), found %s", tok_desc(&P->t, b, sizeof b));
        }
        next(P);
        if (!is_op(P, ']'))
            FAIL_TOK(P, "expected ']' after the index (an index is a letter or a whole number), found %s",
                     tok_desc(&P->t, b, sizeof b));
        next(P);
        n++;
    }
    if (n < Q->rank)
        fail_at(P, nm->line, nm->col, "'%.*s' has %d ind%s%s%.0d: write %.*s%s", Q->nlen, Q->name, Q->rank,
                Q->rank == 1 ? "ex" : "ices", n ? ", here " : "", n, Q->nlen, Q->name,
                Q->rank == 1 ? "[i]" : Q->rank == 2 ? "[i][j]" : Q->rank == 3 ? "[i][j][k]" : "[i][j][k][l]");
    *nout = n;
}

static void parse_delta_arg(parser *P, sub *s)
{
    char b[64];
    tok it = P->t;
    if (it.kind == T_NUM) {
        if (it.num != floor(it.num) || it.num < 0 || it.num > EXPR_MAX_ENTRIES)
            FAIL_TOK(P, "expected an index letter or a whole number in delta, found %s",
                     tok_desc(&it, b, sizeof b));
        s->lit = 1;
        s->v = (int)it.num;
    } else if (it.kind == T_NAME) {
        int k = find_scope(P, it.s, it.n);
        if (k < 0)
            FAIL_TOK(P, "delta takes index letters bound here, and '%.*s' is not one", it.n, it.s);
        s->lit = 0;
        s->v = k;
    } else {
        FAIL_TOK(P, "expected an index letter in delta, found %s", tok_desc(&it, b, sizeof b));
    }
    next(P);
}

static ast *parse_call(parser *P, const tok *nm)
{
    char b[64];
    next(P);                                   /* '(' */
    if (name_is(nm->s, nm->n, "sum") || name_is(nm->s, nm->n, "prod")) {
        int kind = nm->s[0] == 's' ? E_SUM : E_PROD;
        tok k = P->t;
        if (k.kind != T_NAME)
            FAIL_TOK(P, "expected an index letter as the first argument of %.*s, found %s", nm->n, nm->s,
                     tok_desc(&k, b, sizeof b));
        check_index_name(P, &k);
        int prev = find_scope(P, k.s, k.n);
        if (prev >= 0)
            fail_at(P, k.line, k.col, "index '%.*s' is already bound at %d:%d; pick another letter", k.n, k.s,
                    P->slots[prev].line, P->slots[prev].col);
        next(P);
        expect_op(P, ',', "',' after the index of the sum");
        int s = new_slot(P, &k);
        P->scope[P->nscope++] = s;
        ast *body = parse_expr(P);
        P->nscope--;
        if (!is_op(P, ')'))
            FAIL_TOK(P, "expected ')' to close %.*s( at %d:%d, found %s", nm->n, nm->s, nm->line, nm->col,
                     tok_desc(&P->t, b, sizeof b));
        next(P);
        if (!P->slots[s].range)
            fail_at(P, k.line, k.col, "cannot infer the range of index '%.*s': no quantity is indexed by it in "
                    "the %.*s", k.n, k.s, nm->n, nm->s);
        ast *e = mk(P, kind, nm->line, nm->col, body, NULL);
        e->slot = s;
        return e;
    }
    if (name_is(nm->s, nm->n, "delta")) {
        ast *e = mk(P, E_DELTA, nm->line, nm->col, NULL, NULL);
        parse_delta_arg(P, &e->s[0]);
        expect_op(P, ',', "',' between the two indices of delta");
        parse_delta_arg(P, &e->s[1]);
        if (!is_op(P, ')'))
            FAIL_TOK(P, "expected ')' to close delta( at %d:%d, found %s", nm->line, nm->col,
                     tok_desc(&P->t, b, sizeof b));
        next(P);
        return e;
    }
    int f = fn_lookup(nm->s, nm->n);
    if (f < 0) {
        if (find_qty(P->p, nm->s, nm->n) >= 0)
            fail_at(P, nm->line, nm->col, "'%.*s' is a quantity, not a function (write %.*s*(...) for a product)",
                    nm->n, nm->s, nm->n, nm->s);
        fail_at(P, nm->line, nm->col, "unknown function '%.*s' (try --help for the list)", nm->n, nm->s);
    }
    ast *x = parse_expr(P);
    if (is_op(P, ','))
        FAIL_TOK(P, "%s takes one argument", fn_names[f]);
    if (!is_op(P, ')'))
        FAIL_TOK(P, "expected ')' to close %s( at %d:%d, found %s", fn_names[f], nm->line, nm->col,
                 tok_desc(&P->t, b, sizeof b));
    next(P);
    ast *e = mk(P, E_FN, nm->line, nm->col, x, NULL);
    e->fn = (unsigned char)f;
    return e;
}

static ast *parse_primary(parser *P)
{
    char b[64];
    tok t = P->t;
    if (t.kind == T_NUM) {
        next(P);
        ast *e = mk(P, E_NUM, t.line, t.col, NULL, NULL);
        e->num = t.num;
        return e;
    }
    if (is_op(P, '(')) {
        next(P);
        ast *e = parse_expr(P);
        if (!is_op(P, ')'))
            FAIL_TOK(P, "expected ')' to close '(' at %d:%d, found %s", t.line, t.col, tok_desc(&P->t, b, sizeof b));
        next(P);
        return e;
    }
    if (t.kind != T_NAME)
        FAIL_TOK(P, "expected a number, a name or '(', found %s", tok_desc(&t, b, sizeof b));
    next(P);
    if (is_op(P, '(')) return parse_call(P, &t);
    int q = find_qty(P->p, t.s, t.n);
    if (q >= 0) {
        ast *e = mk(P, E_REF, t.line, t.col, NULL, NULL);
        int n;
        parse_subs(P, q, &t, e->s, &n);
        e->nsub = (unsigned char)n;
        e->q = q;
        e->konst = (unsigned char)P->p->q[q].konst;
        return e;
    }
    if (find_scope(P, t.s, t.n) >= 0)
        fail_at(P, t.line, t.col, "'%.*s' is an index, not a value: use it inside [ ] or delta(%.*s, ...)",
                t.n, t.s, t.n, t.s);
    if (name_is(t.s, t.n, "e") || name_is(t.s, t.n, "pi")) {
        ast *e = mk(P, E_NUM, t.line, t.col, NULL, NULL);
        e->num = t.s[0] == 'e' ? 2.718281828459045 : 3.141592653589793;
        return e;
    }
    if (fn_lookup(t.s, t.n) >= 0 || name_is(t.s, t.n, "sum") || name_is(t.s, t.n, "prod") ||
        name_is(t.s, t.n, "delta"))
        fail_at(P, t.line, t.col, "'%.*s' is a function: write %.*s(...)", t.n, t.s, t.n, t.s);
    if (P->defining && t.n == P->defining_n &&
        memcmp(t.s, P->defining, (size_t)t.n) == 0)
        fail_at(P, t.line, t.col, "'%.*s' is being defined here: a let can only use quantities defined before it",
                t.n, t.s);
    fail_at(P, t.line, t.col, "unknown name '%.*s' (define it with given or let first)", t.n, t.s);
}

/* power := primary ['^' unary]: right-associative, and -x^2 = -(x^2). */
static ast *parse_power(parser *P)
{
    ast *base = parse_primary(P);
    if (!is_op(P, '^')) return base;
    tok op = P->t;
    next(P);
    ast *ex = parse_unary(P);
    return mk(P, E_POW, op.line, op.col, base, ex);
}

static ast *parse_unary(parser *P)
{
    enter(P);
    ast *e;
    if (is_op(P, '-') || is_op(P, '+')) {
        tok op = P->t;
        next(P);
        ast *x = parse_unary(P);
        e = op.c == '-' ? mk(P, E_NEG, op.line, op.col, x, NULL) : x;
    } else {
        e = parse_power(P);
    }
    P->nest--;
    return e;
}

static ast *parse_term(parser *P)
{
    ast *e = parse_unary(P);
    for (;;) {
        if (is_op(P, '*') || is_op(P, '/')) {
            tok op = P->t;
            next(P);
            ast *r = parse_unary(P);
            e = mk(P, op.c == '*' ? E_MUL : E_DIV, op.line, op.col, e, r);
        } else if ((P->t.kind == T_NAME || P->t.kind == T_NUM || is_op(P, '(')) && P->t.line == P->prev_line &&
                   !is_name(P, "for")) {
            char b[64];
            FAIL_TOK(P, "expected an operator before %s (write a*b for a product)", tok_desc(&P->t, b, sizeof b));
        } else {
            return e;
        }
    }
}

/* Every way down (parentheses, calls, signs, ^) passes parse_unary, which
 * counts the levels: deep input is an error, not a stack overflow. */
static ast *parse_expr(parser *P)
{
    ast *e = parse_term(P);
    while (is_op(P, '+') || is_op(P, '-')) {
        tok op = P->t;
        next(P);
        ast *r = parse_term(P);
        e = mk(P, op.c == '+' ? E_ADD : E_SUB, op.line, op.col, e, r);
    }
    return e;
}

/* Graph nodes to evaluate e once (an estimate: a reference costs none). */
static double ast_cost(const parser *P, const ast *e)
{
    switch (e->kind) {
    case E_REF: return 0;
    case E_NUM: case E_DELTA: return 1;
    case E_SUM: case E_PROD: {
        double n = P->slots[e->slot].range;
        return n * (ast_cost(P, e->a) + 1);
    }
    case E_POW: return 3 + ast_cost(P, e->a) + ast_cost(P, e->b);
    case E_FN: return 2 + ast_cost(P, e->a);
    default: return 1 + (e->a ? ast_cost(P, e->a) : 0) + (e->b ? ast_cost(P, e->b) : 0);
    }
}

/* Records each quantity e uses once into list (stamp marks the seen). */
static void ast_refs(expr_prog *p, const ast *e, int mark, int *list, int *n)
{
    if (!e) return;
    if (e->kind == E_REF && p->stamp[e->q] != mark) {
        p->stamp[e->q] = mark;
        list[(*n)++] = e->q;
    }
    ast_refs(p, e->a, mark, list, n);
    ast_refs(p, e->b, mark, list, n);
}

static int ast_count_refs(const ast *e)
{
    if (!e) return 0;
    return (e->kind == E_REF) + ast_count_refs(e->a) + ast_count_refs(e->b);
}

/* The stamp array, grown with the quantities. A let marks with −2 − id and
 * a claim with its number, so marks never need clearing. */
static int *stamp_array(parser *P)
{
    expr_prog *p = P->p;
    if (p->capstamp < p->capq) {
        int *s = realloc(p->stamp, (size_t)p->capq * sizeof *s);
        if (!s) FAIL_TOK(P, "out of memory");
        for (int i = p->capstamp; i < p->capq; i++) s[i] = -1;
        p->stamp = s;
        p->capstamp = p->capq;
    }
    return p->stamp;
}

static int cmp_int(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    return (a > b) - (a < b);
}

/* ---- statements ----------------------------------------------------------------- */

static void parse_bound(parser *P, double *v)
{
    char b[64];
    int neg = 0;
    if (is_op(P, '-') || is_op(P, '+')) { neg = P->t.c == '-'; next(P); }
    if (P->t.kind == T_NUM) *v = P->t.num;
    else if (is_name(P, "pi")) *v = 3.141592653589793;
    else if (is_name(P, "e")) *v = 2.718281828459045;
    else FAIL_TOK(P, "expected a number for the range, found %s", tok_desc(&P->t, b, sizeof b));
    if (neg) *v = -*v;
    next(P);
}

static void parse_given(parser *P)
{
    char b[64];
    expr_prog *p = P->p;
    for (;;) {
        tok nm = P->t;
        if (nm.kind != T_NAME) FAIL_TOK(P, "expected a name after given, found %s", tok_desc(&nm, b, sizeof b));
        check_new_name(P, &nm, "quantity");
        next(P);
        int rank = 0, dim[EXPR_MAX_RANK] = {0};
        long size = 1;
        while (is_op(P, '[')) {
            tok open = P->t;
            next(P);
            if (rank == EXPR_MAX_RANK)
                fail_at(P, open.line, open.col, "at most %d indices per quantity", EXPR_MAX_RANK);
            if (P->t.kind != T_NUM)
                FAIL_TOK(P, "expected the number of entries (a whole number), found %s", tok_desc(&P->t, b, sizeof b));
            double n = P->t.num;
            if (n != floor(n) || n < 1 || n > EXPR_MAX_ENTRIES)
                FAIL_TOK(P, "size %.*s is out of range: sizes are whole numbers from 1 to %d", P->t.n > 40 ? 40 : P->t.n,
                         P->t.s, EXPR_MAX_ENTRIES);
            dim[rank++] = (int)n;
            size *= (long)n;
            if (size > EXPR_MAX_ENTRIES)
                FAIL_TOK(P, "'%.*s' would have %ld entries; the limit is %d per quantity", nm.n, nm.s, size,
                         EXPR_MAX_ENTRIES);
            next(P);
            expect_op(P, ']', "']' after the size");
        }
        int id = add_qty(P, &nm, Q_GIVEN);
        qty *q = &p->q[id];
        q->rank = rank;
        memcpy(q->dim, dim, sizeof dim);
        q->size = (int)size;
        p->inputs += q->size;
        if (p->inputs > EXPR_MAX_INPUTS)
            fail_at(P, nm.line, nm.col, "too many inputs: the givens have more than %d entries together",
                    EXPR_MAX_INPUTS);
        q->dist = D_NORMAL;
        if (is_name(P, "in")) {
            next(P);
            tok open = P->t;
            if (!is_op(P, '(') && !is_op(P, '['))
                FAIL_TOK(P, "expected '(' after in: given x in (-4, 4)");
            next(P);
            parse_bound(P, &q->lo);
            expect_op(P, ',', "',' between the ends of the range");
            parse_bound(P, &q->hi);
            if (!is_op(P, ')') && !is_op(P, ']'))
                FAIL_TOK(P, "expected ')' to close the range opened at %d:%d, found %s", open.line, open.col,
                         tok_desc(&P->t, b, sizeof b));
            next(P);
            if (!(q->lo < q->hi))
                fail_at(P, open.line, open.col, "empty range: the lower end must be below the upper end");
            q->dist = D_UNIFORM;
        } else if (is_name(P, "onehot") || is_name(P, "simplex")) {
            if (rank == 0)
                FAIL_TOK(P, "%.*s needs a vector or a matrix (given t[3] %.*s)", P->t.n, P->t.s, P->t.n, P->t.s);
            q->dist = is_name(P, "onehot") ? D_ONEHOT : D_SIMPLEX;
            next(P);
        }
        if (!is_op(P, ',')) break;
        next(P);
    }
}

static void parse_let(parser *P)
{
    char b[64];
    expr_prog *p = P->p;
    tok nm = P->t;
    if (nm.kind != T_NAME) FAIL_TOK(P, "expected a name after let, found %s", tok_desc(&nm, b, sizeof b));
    check_new_name(P, &nm, "quantity");
    int old = find_qty(p, nm.s, nm.n);
    if (old >= 0)
        fail_at(P, nm.line, nm.col, "'%.*s' is already defined at %d:%d", nm.n, nm.s, p->q[old].line, p->q[old].col);
    next(P);
    int rank = 0;
    while (is_op(P, '[')) {
        tok open = P->t;
        next(P);
        if (rank == EXPR_MAX_RANK) fail_at(P, open.line, open.col, "at most %d indices per quantity", EXPR_MAX_RANK);
        tok it = P->t;
        if (it.kind != T_NAME)
            FAIL_TOK(P, "expected an index letter on the left side (let y[i] = ...), found %s", tok_desc(&it, b, sizeof b));
        check_index_name(P, &it);
        int prev = find_scope(P, it.s, it.n);
        if (prev >= 0)
            FAIL_TOK(P, "index '%.*s' appears twice on the left side", it.n, it.s);
        P->scope[P->nscope++] = new_slot(P, &it);
        next(P);
        expect_op(P, ']', "']' after the index");
        rank++;
    }
    if (!is_op(P, '=')) FAIL_TOK(P, "expected '=' after let %.*s, found %s", nm.n, nm.s, tok_desc(&P->t, b, sizeof b));
    next(P);
    P->defining = nm.s;
    P->defining_n = nm.n;
    ast *rhs = parse_expr(P);
    P->defining = NULL;
    long size = 1;
    int dim[EXPR_MAX_RANK] = {0};
    for (int k = 0; k < rank; k++) {
        slot *s = &P->slots[k];
        if (!s->range)
            fail_at(P, s->line, s->col, "cannot infer the range of index '%.*s': no quantity is indexed by it in "
                    "the definition of %.*s", s->nlen, s->name, nm.n, nm.s);
        dim[k] = s->range;
        size *= s->range;
        if (size > EXPR_MAX_ENTRIES)
            fail_at(P, nm.line, nm.col, "'%.*s' would have %ld entries; the limit is %d per quantity", nm.n, nm.s,
                    size, EXPR_MAX_ENTRIES);
    }
    double cost = (double)size * (ast_cost(P, rhs) + 1);
    if (cost > EXPR_MAX_NODES)
        fail_at(P, nm.line, nm.col, "'%.*s' needs about %.0f graph nodes per point; the limit is %d", nm.n, nm.s,
                cost, EXPR_MAX_NODES);
    int id = add_qty(P, &nm, Q_LET);
    qty *q = &p->q[id];
    q->rank = rank;
    memcpy(q->dim, dim, sizeof dim);
    q->size = (int)size;
    q->rhs = rhs;
    q->konst = rhs->konst;
    q->slots = P->slots;
    q->nslots = P->nslots;
    q->cost = cost;
    int nrefs = ast_count_refs(rhs);
    stamp_array(P);
    if (nrefs) {
        q = &p->q[id];
        q->deps = palloc(P, (size_t)nrefs * sizeof *q->deps);
        ast_refs(p, rhs, -2 - id, q->deps, &q->ndeps);
    }
}

static void parse_conds(parser *P, claim *c, tok *names, int *nnames)
{
    char b[64];
    for (;;) {
        if (c->ncond == MAX_COND) FAIL_TOK(P, "at most %d conditions per claim", MAX_COND);
        tok x = P->t;
        if (x.kind != T_NAME) FAIL_TOK(P, "expected an index letter in the condition, found %s", tok_desc(&x, b, sizeof b));
        next(P);
        int op;
        if (is_op(P, 'N')) op = C_NE;
        else if (is_op(P, 'E') || is_op(P, '=')) op = C_EQ;
        else if (is_op(P, '<')) op = C_LT;
        else if (is_op(P, '>')) op = C_GT;
        else if (is_op(P, 'L')) op = C_LE;
        else if (is_op(P, 'G')) op = C_GE;
        else FAIL_TOK(P, "expected '!=', '==', '<', '>', '<=' or '>=' in the condition, found %s",
                      tok_desc(&P->t, b, sizeof b));
        next(P);
        tok y = P->t;
        if (y.kind == T_NUM) {
            if (y.num != floor(y.num) || y.num < 0 || y.num >= EXPR_MAX_ENTRIES)
                FAIL_TOK(P, "expected an index letter or a whole number, found %s", tok_desc(&y, b, sizeof b));
            c->cond[c->ncond].y.lit = 1;
            c->cond[c->ncond].y.v = (int)y.num;
        } else if (y.kind != T_NAME) {
            FAIL_TOK(P, "expected an index letter or a whole number, found %s", tok_desc(&y, b, sizeof b));
        }
        next(P);
        c->cond[c->ncond].op = op;
        names[(*nnames)++] = x;
        names[(*nnames)++] = y;
        c->ncond++;
        if (!is_op(P, ',') && !is_name(P, "and")) return;
        next(P);
    }
}

/* 'd' then a quantity (or the shorthand dL): the quantity's name token. */
static tok parse_d(parser *P, const char *where)
{
    char b[64];
    tok t = P->t;
    if (t.kind == T_NAME && name_is(t.s, t.n, "d")) {
        next(P);
        tok q = P->t;
        if (q.kind != T_NAME)
            FAIL_TOK(P, "expected a quantity after 'd', found %s", tok_desc(&q, b, sizeof b));
        next(P);
        return q;
    }
    if (t.kind == T_NAME && t.n > 1 && t.s[0] == 'd' && find_qty(P->p, t.s + 1, t.n - 1) >= 0) {
        next(P);
        tok q = t;
        q.s++; q.n--; q.col++;
        return q;
    }
    FAIL_TOK(P, "expected 'd' and a quantity %s (claim d A / d B = ...), found %s", where, tok_desc(&t, b, sizeof b));
}

static int claim_qty(parser *P, const tok *t)
{
    int q = find_qty(P->p, t->s, t->n);
    if (q < 0)
        fail_at(P, t->line, t->col, "unknown quantity '%.*s': a claim is about quantities defined before it "
                "(with given or let)", t->n, t->s);
    return q;
}

static int cond_true(int op, int x, int y)
{
    switch (op) {
    case C_EQ: return x == y;
    case C_NE: return x != y;
    case C_LT: return x < y;
    case C_GT: return x > y;
    case C_LE: return x <= y;
    default: return x >= y;
    }
}

static int conds_hold(const claim *c, const int *env)
{
    for (int k = 0; k < c->ncond; k++) {
        int x = c->cond[k].x.lit ? c->cond[k].x.v : env[c->cond[k].x.v];
        int y = c->cond[k].y.lit ? c->cond[k].y.v : env[c->cond[k].y.v];
        if (!cond_true(c->cond[k].op, x, y)) return 0;
    }
    return 1;
}

/* The odometer over the claim's letters, the last fastest; skips entries the
 * conditions exclude. Returns 0 when done. env must start all zero with
 * *started = 0. */
static int pairs_next(const claim *c, int *env, int *started)
{
    for (;;) {
        if (*started) {
            int k = c->nletters;
            while (k-- > 0) {
                if (++env[k] < c->slots[k].range) break;
                env[k] = 0;
            }
            if (k < 0) return 0;
        }
        *started = 1;
        if (conds_hold(c, env)) return 1;
    }
}

static char *claim_text(parser *P, size_t from, size_t to)
{
    char *t = palloc(P, to - from + 1);
    size_t n = 0;
    int space = 0, nl = 0;
    for (size_t k = from; k < to; k++) {
        char ch = P->src[k];
        if (ch == '#') { while (k < to && P->src[k] != '\n') k++; nl = 1; space = 1; continue; }
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\\') {
            if (ch == '\n' || ch == '\\') nl = 1;
            space = 1;
            continue;
        }
        if (space) {
            if (nl) t[n++] = ' ';
            else {                                 /* keep the author's spacing */
                size_t s = k;
                while (s > from && (P->src[s - 1] == ' ' || P->src[s - 1] == '\t')) s--;
                memcpy(t + n, P->src + s, k - s);
                n += k - s;
            }
        }
        space = nl = 0;
        t[n++] = ch;
    }
    t[n] = '\0';
    return t;
}

static void parse_claim(parser *P, const tok *kw)
{
    char b[64];
    expr_prog *p = P->p;
    if (p->nc == p->capc) {
        int cap = p->capc ? 2 * p->capc : 16;
        claim *c = realloc(p->c, (size_t)cap * sizeof *c);
        if (!c) FAIL_TOK(P, "out of memory");
        p->c = c;
        p->capc = cap;
    }
    claim cl;
    memset(&cl, 0, sizeof cl);
    cl.line = kw->line;
    cl.col = kw->col;
    size_t text_from = (size_t)(P->t.s - P->src);
    tok cnames[2 * MAX_COND];
    int ncnames = 0;
    if (is_name(P, "for")) {
        next(P);
        parse_conds(P, &cl, cnames, &ncnames);
        expect_op(P, ':', "':' after the conditions (claim for i != j: d y[i] / d o[j] = ...)");
    }
    P->claim_mode = 1;
    tok a = parse_d(P, "to differentiate");
    cl.aq = claim_qty(P, &a);
    int n;
    parse_subs(P, cl.aq, &a, cl.as, &n);
    expect_op(P, '/', "'/' between d A and d B");
    tok bt = parse_d(P, "after '/'");
    cl.bq = claim_qty(P, &bt);
    parse_subs(P, cl.bq, &bt, cl.bs, &n);
    P->claim_mode = 0;
    cl.nletters = P->nslots;
    if (!is_op(P, '='))
        FAIL_TOK(P, "expected '=' and the claimed derivative, found %s", tok_desc(&P->t, b, sizeof b));
    next(P);
    cl.rhs = parse_expr(P);
    if (is_name(P, "for")) {
        if (cl.ncond) FAIL_TOK(P, "conditions are given once, before or after the claim");
        next(P);
        parse_conds(P, &cl, cnames, &ncnames);
    }
    cl.text = claim_text(P, text_from, P->prev_end);
    for (int k = 0; k < cl.ncond; k++) {
        for (int side = 0; side < 2; side++) {
            const tok *t = &cnames[2 * k + side];
            sub *s = side ? &cl.cond[k].y : &cl.cond[k].x;
            if (t->kind == T_NUM) continue;
            int sl = -1;
            for (int l = 0; l < cl.nletters; l++)
                if (P->slots[l].nlen == t->n && memcmp(P->slots[l].name, t->s, (size_t)t->n) == 0) sl = l;
            if (sl < 0)
                fail_at(P, t->line, t->col, "'%.*s' in the condition is not an index of d A / d B", t->n, t->s);
            s->lit = 0;
            s->v = sl;
        }
    }
    cl.slots = P->slots;
    cl.nslots = P->nslots;

    /* the closure: every quantity the claim needs, found by a walk over
     * the definitions, then put in definition order */
    int mark = p->nc;
    int *stamp = p->stamp;
    int *stack = malloc((size_t)p->nq * sizeof *stack);   /* each quantity is pushed once */
    int *list = malloc((size_t)p->nq * sizeof *list);
    if (!stack || !list) { free(stack); free(list); FAIL_TOK(P, "out of memory"); }
    int ns = 0, nl = 0;
    ast_refs(p, cl.rhs, mark, stack, &ns);
    if (stamp[cl.aq] != mark) { stamp[cl.aq] = mark; stack[ns++] = cl.aq; }
    if (stamp[cl.bq] != mark) { stamp[cl.bq] = mark; stack[ns++] = cl.bq; }
    while (ns) {
        int q = stack[--ns];
        list[nl++] = q;
        for (int d = 0; d < p->q[q].ndeps; d++) {
            int r = p->q[q].deps[d];
            if (stamp[r] != mark) { stamp[r] = mark; stack[ns++] = r; }
        }
    }
    free(stack);
    qsort(list, (size_t)nl, sizeof *list, cmp_int);
    cl.closure = arena_alloc(p, (size_t)nl * sizeof *cl.closure);
    if (!cl.closure) { free(list); FAIL_TOK(P, "out of memory"); }
    memcpy(cl.closure, list, (size_t)nl * sizeof *list);
    cl.nclosure = nl;
    free(list);

    /* the work: a forward pass, one sweep per entry of A, one evaluation of
     * the claimed expression per entry pair */
    double nodes = 0;
    for (int k = 0; k < nl; k++) {
        const qty *q = &p->q[cl.closure[k]];
        nodes += q->kind == Q_GIVEN ? q->size : q->cost;
    }
    double pairs = 1;
    for (int l = 0; l < cl.nletters; l++) pairs *= P->slots[l].range;
    double asize = p->q[cl.aq].size < pairs ? p->q[cl.aq].size : pairs;
    cl.nodes = nodes;
    cl.pairs = pairs;
    cl.work = nodes + asize * (nodes + p->q[cl.bq].size) + pairs * (ast_cost(P, cl.rhs) + 2);
    if (nodes > EXPR_MAX_NODES)
        fail_at(P, kw->line, kw->col, "this claim needs about %.0f graph nodes per point; the limit is %d", nodes,
                EXPR_MAX_NODES);
    if (cl.work > EXPR_MAX_WORK)
        fail_at(P, kw->line, kw->col, "this claim needs about %.3g node visits per point; the limit is %.3g",
                cl.work, EXPR_MAX_WORK);
    p->file_work += cl.work;
    if (p->file_work > EXPR_MAX_FILE_WORK)
        fail_at(P, kw->line, kw->col, "the claims up to here need about %.3g node visits per point; the limit "
                "for a file is %.3g", p->file_work, EXPR_MAX_FILE_WORK);
    int env[MAX_LETTERS] = {0}, started = 0;
    if (!pairs_next(&cl, env, &started))
        fail_at(P, kw->line, kw->col, "no entry of d %.*s / d %.*s satisfies the conditions", a.n, a.s, bt.n, bt.s);
    p->c[p->nc++] = cl;
}

expr_options expr_defaults(void)
{
    expr_options o = {20, 1, EXPR_TOL, 100};
    return o;
}

/* The statements, one per line. A parse error longjmps back here. */
static int parse_all(parser *P)
{
    if (setjmp(P->jb)) return -1;
    next(P);
    for (;;) {
        char b[64];
        if (P->t.kind == T_EOF) break;
        if (P->t.kind == T_NL) { next(P); continue; }
        tok kw = P->t;
        P->nslots = 0;
        P->capslots = 0;
        P->slots = NULL;
        P->nscope = 0;
        P->nest = 0;
        P->lx.depth = 0;
        if (is_name(P, "given")) { next(P); parse_given(P); }
        else if (is_name(P, "let")) { next(P); parse_let(P); }
        else if (is_name(P, "claim")) {
            next(P);
            if (P->t.kind == T_NL || P->t.kind == T_EOF)
                FAIL_TOK(P, "expected d A / d B = ... after claim, found %s", tok_desc(&P->t, b, sizeof b));
            stamp_array(P);
            parse_claim(P, &kw);
        } else {
            FAIL_TOK(P, "expected given, let or claim at the start of a statement, found %s",
                     tok_desc(&P->t, b, sizeof b));
        }
        if (P->t.kind != T_NL && P->t.kind != T_EOF)
            FAIL_TOK(P, "expected the end of the line, found %s", tok_desc(&P->t, b, sizeof b));
    }
    return 0;
}

expr_prog *expr_parse(const char *src, size_t len, expr_error *err)
{
    expr_error dummy;
    if (!err) err = &dummy;
    memset(err, 0, sizeof *err);
    expr_prog *p = calloc(1, sizeof *p);
    if (!p) { snprintf(err->msg, sizeof err->msg, "out of memory"); err->line = err->col = 1; return NULL; }
    parser *P = calloc(1, sizeof *P);
    if (!P) { free(p); snprintf(err->msg, sizeof err->msg, "out of memory"); err->line = err->col = 1; return NULL; }
    P->p = p;
    P->src = src ? src : "";
    P->len = src ? len : 0;
    P->lx.line = 1;
    P->lx.col = 1;
    P->err = err;
    int bad = parse_all(P);
    free(P);
    if (bad) { expr_free(p); return NULL; }
    return p;
}


int expr_claims(const expr_prog *p) { return p ? p->nc : 0; }
const char *expr_claim_text(const expr_prog *p, int c) { return p->c[c].text; }
int expr_claim_line(const expr_prog *p, int c) { return p->c[c].line; }
double expr_claim_work(const expr_prog *p, int c) { return p->c[c].work; }

/* ---- evaluation into graph nodes ----------------------------------------------- */

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
} evctx;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void note_bad(evctx *c, const char *fmt, ...)
{
    if (c->bad) return;
    c->bad = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof c->why, fmt, ap);
    va_end(ap);
}

static int flat_index(const qty *q, const sub *s, const int *env)
{
    int f = 0;
    for (int k = 0; k < q->rank; k++) f = f * q->dim[k] + (s[k].lit ? s[k].v : env[s[k].v]);
    return f;
}

static const char *nonfinite(double v) { return isnan(v) ? "nan" : v > 0 ? "inf" : "-inf"; }

/* Evaluates e in the current index environment into a new scalar node
 * (or the node of the entry it refers to). Operands are evaluated one
 * statement at a time so the tape's order never depends on the compiler. */
static node ev(evctx *c, const ast *e)
{
    graph *g = c->g;
    node r, x, y;
    switch (e->kind) {
    case E_NUM:
        return graph_scalar(g, e->num);
    case E_REF:
        return (node){c->tab[c->base[e->q] + flat_index(&c->p->q[e->q], e->s, c->env)]};
    case E_DELTA: {
        int i = e->s[0].lit ? e->s[0].v : c->env[e->s[0].v];
        int j = e->s[1].lit ? e->s[1].v : c->env[e->s[1].v];
        return graph_scalar(g, i == j ? 1.0 : 0.0);
    }
    case E_NEG:
        r = op_neg(g, ev(c, e->a));
        break;
    case E_ADD: case E_SUB: case E_MUL: case E_DIV:
        x = ev(c, e->a);
        y = ev(c, e->b);
        r = e->kind == E_ADD ? op_add(g, x, y) : e->kind == E_SUB ? op_sub(g, x, y)
          : e->kind == E_MUL ? op_mul(g, x, y) : op_div(g, x, y);
        if (c->watch && e->kind == E_DIV && graph_get(g, y, 0) == 0.0)
            note_bad(c, "division by zero at %d:%d", e->line, e->col);
        break;
    case E_POW:
        x = ev(c, e->a);
        y = ev(c, e->b);
        if (e->b->konst) r = op_pow(g, x, graph_get(g, y, 0));   /* x^p, p fixed */
        else r = op_exp(g, op_mul(g, y, op_log(g, x)));          /* x^y = e^(y log x) */
        if (c->watch && !isfinite(graph_get(g, r, 0)))
            note_bad(c, "%.3g^%.3g at %d:%d is %s", graph_get(g, x, 0), graph_get(g, y, 0), e->line, e->col,
                     nonfinite(graph_get(g, r, 0)));
        break;
    case E_FN: {
        x = ev(c, e->a);
        double v = graph_get(g, x, 0);
        int kinked = e->fn == F_RELU || e->fn == F_ABS || e->fn == F_STEP || e->fn == F_SIGN;
        if (c->watch && kinked && v == 0.0 && !e->a->konst)
            note_bad(c, "%s(0) at %d:%d is at its kink", fn_names[e->fn], e->line, e->col);
        switch (e->fn) {
        case F_EXP: r = op_exp(g, x); break;
        case F_LOG: r = op_log(g, x); break;
        case F_SQRT: r = op_sqrt(g, x); break;
        case F_ABS: r = op_abs(g, x); break;
        case F_SIN: r = op_sin(g, x); break;
        case F_COS: r = op_cos(g, x); break;
        case F_TANH: r = op_tanh(g, x); break;
        case F_SINH: r = op_sinh(g, x); break;
        case F_COSH: r = op_cosh(g, x); break;
        case F_SECH: y = graph_scalar(g, 1.0); r = op_div(g, y, op_cosh(g, x)); break;
        case F_SIGMOID: r = op_sigmoid(g, x); break;
        case F_RELU: r = op_relu(g, x); break;
        case F_STANH: r = op_stanh(g, x); break;
        /* piecewise constant: the derivative is 0 away from the jump */
        case F_STEP: r = graph_scalar(g, v > 0 ? 1.0 : 0.0); break;
        default: r = graph_scalar(g, (double)((v > 0) - (v < 0))); break;
        }
        if (c->watch && !isfinite(graph_get(g, r, 0)))
            note_bad(c, "%s(%.3g) at %d:%d is %s", fn_names[e->fn], v, e->line, e->col,
                     nonfinite(graph_get(g, r, 0)));
        return r;
    }
    default: {                                   /* E_SUM, E_PROD */
        int s = e->slot, n = c->slots[s].range, keep = c->env[s];
        c->env[s] = 0;
        r = ev(c, e->a);
        for (int k = 1; k < n; k++) {
            c->env[s] = k;
            x = ev(c, e->a);
            r = e->kind == E_SUM ? op_add(g, r, x) : op_mul(g, r, x);
        }
        c->env[s] = keep;
        break;
    }
    }
    if (c->watch && !isfinite(graph_get(g, r, 0))) {
        static const char *const sym[] = {[E_NEG] = "-", [E_ADD] = "+", [E_SUB] = "-", [E_MUL] = "*",
                                          [E_DIV] = "/", [E_SUM] = "sum", [E_PROD] = "prod"};
        note_bad(c, "'%s' at %d:%d gives %s", sym[e->kind] ? sym[e->kind] : "?", e->line, e->col,
                 nonfinite(graph_get(g, r, 0)));
    }
    return r;
}

/* ---- sampling ------------------------------------------------------------------- */

static void sample(rng *r, const qty *q, double *x)
{
    int n = q->size, row = q->rank ? q->dim[q->rank - 1] : 1;
    switch (q->dist) {
    case D_UNIFORM:
        for (int k = 0; k < n; k++) x[k] = rng_range(r, q->lo, q->hi);
        break;
    case D_ONEHOT:                 /* one 1 per row (along the last index) */
        for (int s = 0; s < n; s += row) {
            uint32_t hot = rng_below(r, (uint32_t)row);
            for (int k = 0; k < row; k++) x[s + k] = (uint32_t)k == hot ? 1.0 : 0.0;
        }
        break;
    case D_SIMPLEX:                /* exponentials normalised: uniform on the simplex */
        for (int s = 0; s < n; s += row) {
            double sum = 0;
            for (int k = 0; k < row; k++) { x[s + k] = -log(1.0 - rng_uniform(r)); sum += x[s + k]; }
            if (!(sum > 0)) { for (int k = 0; k < row; k++) x[s + k] = 1.0; sum = row; }
            for (int k = 0; k < row; k++) x[s + k] /= sum;
        }
        break;
    default:
        for (int k = 0; k < n; k++) x[k] = rng_normal(r);
    }
}

/* ---- text of the verdict ---------------------------------------------------------- */

typedef struct { char *s; size_t n, cap; int oom; } sbuf;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) { b->oom = 1; return; }
        if (b->s && b->n + (size_t)k < b->cap) { b->n += (size_t)k; return; }
        size_t cap = b->cap ? b->cap : 256;
        while (cap <= b->n + (size_t)k) cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) { b->oom = 1; return; }
        b->s = s;
        b->cap = cap;
    }
}

static void sb_num(sbuf *b, double x, int prec)
{
    if (x == 0) sb_printf(b, "0");          /* no "-0" */
    else sb_printf(b, "%.*g", prec, x);
}

/* Values of a quantity, nested like its indices: [a, b] or [[a, b], [c, d]]. */
static void sb_values(sbuf *b, const double *x, const int *dim, int rank)
{
    if (rank == 0) { sb_num(b, *x, 6); return; }
    int stride = 1;
    for (int k = 1; k < rank; k++) stride *= dim[k];
    sb_printf(b, "[");
    for (int i = 0; i < dim[0]; i++) {
        if (i) sb_printf(b, ", ");
        sb_values(b, x + (size_t)i * stride, dim + 1, rank - 1);
    }
    sb_printf(b, "]");
}

static void sb_ref(sbuf *b, const qty *q, const sub *s, const int *env)
{
    sb_printf(b, "%.*s", q->nlen, q->name);
    for (int k = 0; k < q->rank; k++) sb_printf(b, "[%d]", s[k].lit ? s[k].v : env[s[k].v]);
}

/* ---- the check -------------------------------------------------------------------- */

#define INDENT "       "

int expr_check(expr_prog *p, int ci, const expr_options *o, expr_verdict *v)
{
    memset(v, 0, sizeof *v);
    expr_options d = expr_defaults();
    if (!o) o = &d;
    const claim *c = &p->c[ci];
    const qty *A = &p->q[c->aq], *B = &p->q[c->bq];
    int points = o->points > 0 ? o->points : 1;
    int max_tries = o->max_tries > 0 ? o->max_tries : 1;
    /* a big graph gets fewer draws, so giving up stays cheap */
    if (c->nodes > 0 && max_tries > 3 && max_tries * c->nodes > 2e7)
        max_tries = c->nodes * 3 > 2e7 ? 3 : (int)(2e7 / c->nodes);
    double tol = o->tol > 0 ? o->tol : EXPR_TOL;

    if (!p->base && !(p->base = malloc((size_t)(p->nq ? p->nq : 1) * sizeof *p->base))) return -1;
    size_t entries = 0, inputs = 0;
    int maxslots = c->nslots;
    for (int k = 0; k < c->nclosure; k++) {
        const qty *q = &p->q[c->closure[k]];
        p->base[c->closure[k]] = (int)entries;
        entries += (size_t)q->size;
        if (q->kind == Q_GIVEN) inputs += (size_t)q->size;
        if (q->nslots > maxslots) maxslots = q->nslots;
    }
    if (entries > p->tabcap) {
        uint32_t *t = realloc(p->tab, entries * sizeof *t);
        if (!t) return -1;
        p->tab = t;
        p->tabcap = entries;
    }
    /* the quantities a counterexample shows: the inputs, then the defined
     * quantities the claim names */
    int *shown = malloc((size_t)(c->nclosure + 1) * sizeof *shown);
    int nshown = 0;
    size_t nsnap = 0;
    if (!shown) return -1;
    for (int k = 0; k < c->nclosure; k++)
        if (p->q[c->closure[k]].kind == Q_GIVEN) { shown[nshown++] = c->closure[k]; nsnap += (size_t)p->q[c->closure[k]].size; }
    int nrefs = ast_count_refs(c->rhs) + 2;
    int *refs = malloc((size_t)nrefs * sizeof *refs), nr = 0;
    int mark = -3 - p->nq - ci;                    /* a stamp no let or claim uses */
    if (!refs) { free(shown); return -1; }
    refs[nr++] = c->aq;
    p->stamp[c->aq] = mark;
    if (p->stamp[c->bq] != mark) { refs[nr++] = c->bq; p->stamp[c->bq] = mark; }
    ast_refs(p, c->rhs, mark, refs, &nr);
    for (int k = 0; k < c->nclosure; k++)          /* in definition order */
        if (p->q[c->closure[k]].kind == Q_LET && p->stamp[c->closure[k]] == mark) {
            shown[nshown++] = c->closure[k];
            nsnap += (size_t)p->q[c->closure[k]].size;
        }
    for (int k = 0; k < nr; k++) p->stamp[refs[k]] = -1;
    free(refs);

    size_t npairs = (size_t)c->pairs;
    double *x = malloc((inputs ? inputs : 1) * sizeof *x);
    double *snap = malloc((nsnap ? nsnap : 1) * sizeof *snap);
    double *jac = malloc((npairs ? npairs : 1) * sizeof *jac);
    int *env = calloc((size_t)(maxslots ? maxslots : 1), sizeof *env);
    graph *g = graph_new();
    if (!x || !snap || !jac || !env || !g) {
        free(shown); free(x); free(snap); free(jac); free(env); graph_free(g);
        return -1;
    }
    rng r;
    rng_seed(&r, o->seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(ci + 1)));
    evctx E = {p, g, p->tab, p->base, env, NULL, 0, 0, ""};
    graph_mark_t empty = graph_mark(g);
    const double one = 1.0;

    /* the worst entry and facts for the hints */
    int worst_env[MAX_LETTERS] = {0}, worst_point = -1, have_worst = 0;
    double ratio = 0;
    int ratio_ok = 1, ratio_set = 0;
    long failed_diag = 0, failed_off = 0, checked_off = 0, checked_diag = 0;
    char last_why[200] = "";

    for (int pt = 0; pt < points; pt++) {
        int tries = 0;
        for (;;) {
            if (tries++ == max_tries) goto give_up;
            graph_rewind(g, empty);
            E.bad = 0;
            E.watch = 1;
            /* the inputs: one leaf per entry */
            double *xp = x;
            for (int k = 0; k < c->nclosure; k++) {
                const qty *q = &p->q[c->closure[k]];
                if (q->kind != Q_GIVEN) continue;
                sample(&r, q, xp);
                for (int e = 0; e < q->size; e++)
                    p->tab[p->base[c->closure[k]] + e] = graph_scalar(g, xp[e]).id;
                xp += q->size;
            }
            /* the definitions, entry by entry */
            for (int k = 0; k < c->nclosure && !E.bad; k++) {
                const qty *q = &p->q[c->closure[k]];
                if (q->kind != Q_LET) continue;
                E.slots = q->slots;
                for (int f = 0; f < q->size && !E.bad; f++) {
                    for (int rest = f, i = q->rank; i-- > 0;) { env[i] = rest % q->dim[i]; rest /= q->dim[i]; }
                    uint32_t start = (uint32_t)graph_count(g);
                    node n = ev(&E, q->rhs);
                    /* a let that only names an older node gets its own,
                     * so d L / d (this let) means the path through it */
                    if (n.id < start) n = op_scale(g, n, 1.0);
                    p->tab[p->base[c->closure[k]] + f] = n.id;
                }
            }
            /* the engine's Jacobian: one sweep per entry of A */
            if (!E.bad) {
                int started = 0, prev = -1;
                uint32_t an = 0;
                size_t k = 0;
                memset(env, 0, (size_t)maxslots * sizeof *env);
                while (pairs_next(c, env, &started)) {
                    int af = flat_index(A, c->as, env), bf = flat_index(B, c->bs, env);
                    if (af != prev) {
                        an = p->tab[p->base[c->aq] + af];
                        for (int e = 0; e < B->size; e++)
                            *graph_grad(g, (node){p->tab[p->base[c->bq] + e]}) = 0.0;
                        graph_backward_seed(g, (node){an}, &one);
                        prev = af;
                    }
                    uint32_t bn = p->tab[p->base[c->bq] + bf];
                    double dv = bn <= an ? *graph_grad(g, (node){bn}) : 0.0;
                    if (!isfinite(dv)) {
                        sbuf nb = {0};
                        sb_printf(&nb, "the derivative d ");
                        sb_ref(&nb, A, c->as, env);
                        sb_printf(&nb, " / d ");
                        sb_ref(&nb, B, c->bs, env);
                        note_bad(&E, "%s is %s there", nb.s ? nb.s : "", nonfinite(dv));
                        free(nb.s);
                        break;
                    }
                    jac[k++] = dv;
                }
            }
            if (!E.bad) break;
            v->resampled++;
            memcpy(last_why, E.why, sizeof last_why);
        }
        /* the claimed expression at each entry, on the same tape */
        v->points++;
        E.watch = 0;
        E.slots = c->slots;
        graph_mark_t m = graph_mark(g);
        int started = 0;
        size_t k = 0;
        memset(env, 0, (size_t)maxslots * sizeof *env);
        while (pairs_next(c, env, &started)) {
            double cv = graph_get(g, ev(&E, c->rhs), 0);
            graph_rewind(g, m);
            double e = jac[k++];
            double err = cv == e ? 0.0 : fabs(cv - e) / fmax(fmax(fabs(cv), fabs(e)), EXPR_FLOOR);
            if (!isfinite(err)) err = INFINITY;
            int diag = 1;
            for (int l = 1; l < c->nletters; l++) diag &= env[l] == env[0];
            v->entries++;
            if (diag) checked_diag++; else checked_off++;
            if (cv != 0 || e != 0) {
                if (cv == 0 || e == 0 || !isfinite(cv)) ratio_ok = 0;
                else if (!ratio_set) { ratio = cv / e; ratio_set = 1; }
                else if (fabs(cv / e - ratio) > 1e-9 * fabs(ratio)) ratio_ok = 0;
            }
            if (err > tol) {
                v->failed++;
                if (diag) failed_diag++; else failed_off++;
            }
            if (err > v->max_err || (!have_worst && err > tol)) {
                v->max_err = err;
                if (err > tol) {
                    have_worst = 1;
                    v->claimed = cv;
                    v->engine = e;
                    worst_point = pt;
                    memcpy(worst_env, env, sizeof worst_env < (size_t)c->nletters * sizeof *env
                           ? sizeof worst_env : (size_t)c->nletters * sizeof *env);
                    double *sp = snap;
                    for (int s = 0; s < nshown; s++) {
                        const qty *q = &p->q[shown[s]];
                        for (int f = 0; f < q->size; f++)
                            *sp++ = graph_get(g, (node){p->tab[p->base[shown[s]] + f]}, 0);
                    }
                }
            }
        }
    }
    v->checked = 1;
    v->holds = v->failed == 0;

give_up:;
    sbuf b = {0};
    if (!v->checked) {
        v->holds = 0;
        sb_printf(&b, INDENT "cannot be checked: %d draws in a row found no point where it is defined and smooth",
                  max_tries);
        if (v->points) sb_printf(&b, " (after %d good points)", v->points);
        sb_printf(&b, "\n" INDENT "the last: %s\n", last_why);
    } else if (!v->holds) {
        char cb[64], eb[64];
        int prec = v->max_err > 0 && isfinite(v->max_err) ? (int)ceil(-log10(v->max_err)) + 2 : 6;
        if (prec < 6) prec = 6;
        if (prec > 17) prec = 17;
        sb_printf(&b, INDENT "fails at %ld of %ld entries (%d points); the worst, at point %d:\n",
                  v->failed, v->entries, v->points, worst_point + 1);
        const double *sp = snap;
        int first_let = 1;
        sb_printf(&b, INDENT "at ");
        for (int s = 0; s < nshown; s++) {
            const qty *q = &p->q[shown[s]];
            if (q->kind == Q_LET && first_let) {
                sb_printf(&b, s ? "\n" INDENT "where " : "where ");
                first_let = 0;
            } else if (s) {
                sb_printf(&b, ", ");
            }
            sb_printf(&b, "%.*s = ", q->nlen, q->name);
            sb_values(&b, sp, q->dim, q->rank);
            sp += q->size;
        }
        sb_printf(&b, "\n" INDENT "d ");
        sb_ref(&b, A, c->as, worst_env);
        sb_printf(&b, " / d ");
        sb_ref(&b, B, c->bs, worst_env);
        snprintf(cb, sizeof cb, "%.*g", prec, v->claimed);
        snprintf(eb, sizeof eb, "%.*g", prec, v->engine);
        sb_printf(&b, ": claimed %s, engine %s\n", v->claimed == 0 ? "0" : cb, v->engine == 0 ? "0" : eb);
        if (ratio_ok && ratio_set && fabs(ratio + 1) <= 1e-9)
            sb_printf(&b, INDENT "hint: claimed = -engine at every entry: a sign slip?\n");
        else if (ratio_ok && ratio_set && fabs(ratio - 1) < 1e-3)
            sb_printf(&b, INDENT "hint: claimed = %.9g x engine at every entry: looks like rounding "
                      "(a constant written with too few digits?)\n", ratio);
        else if (ratio_ok && ratio_set)
            sb_printf(&b, INDENT "hint: claimed = %.6g x engine at every entry: a missing or extra factor?\n",
                      ratio);
        else if (v->max_err < 1e-4)
            sb_printf(&b, INDENT "hint: every error is below 1e-4: looks like rounding (a constant written "
                      "with too few digits?)\n");
        else if (c->nletters > 1 && checked_diag > 0 && failed_diag == 0 && failed_off > 0)
            sb_printf(&b, INDENT "hint: right where the indices are equal, wrong where they differ: "
                      "a transposed or swapped index?\n");
        else if (c->nletters > 1 && failed_off == 0 && checked_off > 0)
            sb_printf(&b, INDENT "hint: wrong only where the indices are equal: a missing delta term?\n");
    } else if (v->resampled) {
        sb_printf(&b, INDENT "note: %d draw%s resampled, e.g. %s\n", v->resampled, v->resampled == 1 ? "" : "s",
                  last_why);
    }
    v->detail = b.s;
    free(shown); free(x); free(snap); free(jac); free(env);
    graph_free(g);
    return b.oom ? -1 : 0;
}

void expr_verdict_free(expr_verdict *v)
{
    if (!v) return;
    free(v->detail);
    v->detail = NULL;
}

/* ---- located errors --------------------------------------------------------------- */

size_t expr_format_error(char *buf, size_t n, const char *name,
                         const char *src, size_t len, const expr_error *e)
{
    size_t ls = 0;
    if (!src) len = 0;
    for (int line = 1; line < e->line && ls < len; ls++)
        if (src[ls] == '\n') line++;
    size_t le = ls;
    while (le < len && src[le] != '\n') le++;
    /* byte offset of the column (columns count characters) */
    size_t at = ls;
    for (int col = 1; col < e->col && at < le; col++) {
        at++;
        while (at < le && ((unsigned char)src[at] & 0xC0) == 0x80) at++;
    }
    /* a window of about 100 characters around the column */
    size_t ws = ls, we = le;
    int cut_left = 0, cut_right = 0;
    {
        size_t k = at;
        for (int back = 0; back < 60 && k > ls; back++) {
            k--;
            while (k > ls && ((unsigned char)src[k] & 0xC0) == 0x80) k--;
        }
        if (k > ls) { ws = k; cut_left = 1; }
        k = at;
        for (int fwd = 0; fwd < 60 && k < le; fwd++) {
            k++;
            while (k < le && ((unsigned char)src[k] & 0xC0) == 0x80) k++;
        }
        if (k < le) { we = k; cut_right = 1; }
    }
    sbuf b = {0};
    sb_printf(&b, "%s:%d:%d: %s\n", name ? name : "<input>", e->line, e->col, e->msg);
    sb_printf(&b, "%s", cut_left ? "..." : "");
    for (size_t k = ws; k < we; k++) {
        unsigned char ch = (unsigned char)src[k];
        if (ch == '\t' || ch >= 0x80 || (ch >= 0x20 && ch < 0x7F)) sb_printf(&b, "%c", ch);
        else sb_printf(&b, "?");
    }
    sb_printf(&b, "%s\n%s", cut_right ? "..." : "", cut_left ? "   " : "");
    for (size_t k = ws; k < at; k++) {
        unsigned char ch = (unsigned char)src[k];
        if (ch == '\t') sb_printf(&b, "\t");
        else if ((ch & 0xC0) != 0x80) sb_printf(&b, " ");
    }
    sb_printf(&b, "^\n");
    size_t need = b.n;
    if (n > 0) {
        size_t k = need < n - 1 ? need : n - 1;
        if (b.s) memcpy(buf, b.s, k);
        buf[k] = '\0';
    }
    free(b.s);
    return need;
}
