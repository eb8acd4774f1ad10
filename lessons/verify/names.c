/* names.c — the names of a derivation: quantities (a hash over their
 * names, definition with the checks a new name needs), the built-in
 * functions, and the index letters of one statement with the ranges
 * inferred from the quantities they index.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "expr_impl.h"

const char *const fn_names[F_COUNT] = {
    [F_EXP] = "exp", [F_LOG] = "log", [F_SQRT] = "sqrt", [F_ABS] = "abs",
    [F_SIN] = "sin", [F_COS] = "cos", [F_TANH] = "tanh", [F_SINH] = "sinh",
    [F_COSH] = "cosh", [F_SECH] = "sech", [F_SIGMOID] = "sigmoid", [F_RELU] = "relu",
    [F_STANH] = "stanh", [F_STEP] = "step", [F_SIGN] = "sign", [F_MAX] = "max", [F_MIN] = "min",
    /* f'(x), read after a function's name (never matched as a name: no name has a ') */
    [F_DEXP] = "exp'", [F_DLOG] = "log'", [F_DSQRT] = "sqrt'", [F_DABS] = "abs'", [F_DSIN] = "sin'",
    [F_DCOS] = "cos'", [F_DTANH] = "tanh'", [F_DSINH] = "sinh'", [F_DCOSH] = "cosh'",
    [F_DSIGMOID] = "sigmoid'", [F_DRELU] = "relu'", [F_DSTANH] = "stanh'",
};
_Static_assert(sizeof fn_names / sizeof fn_names[0] == F_COUNT, "one name per function");

/* ---- names --------------------------------------------------------------------- */

static unsigned hash_name(const char *s, int n)
{
    unsigned h = 2166136261u;
    for (int i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

int find_qty(const expr_prog *p, const char *s, int n)
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

int fn_lookup(const char *s, int n)
{
    for (int f = 0; f < F_COUNT; f++)
        if (name_is(s, n, fn_names[f])) return f;
    return -1;
}

static const char *const keywords[] = {"given", "let", "claim", "for", "in", "onehot", "simplex",
                                       "sum", "prod", "delta"};

/* Refuses names a quantity or an index may not take. */
void check_new_name(parser *P, const tok *t, const char *what)
{
    for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++)
        if (name_is(t->s, t->n, keywords[k]))
            lex_fail(P, t->line, t->col, "'%s' is a word of the language; pick another name for the %s",
                    keywords[k], what);
    if (fn_lookup(t->s, t->n) >= 0)
        lex_fail(P, t->line, t->col, "'%.*s' is a function; pick another name for the %s", t->n, t->s, what);
}

int add_qty(parser *P, const tok *name, int kind)
{
    expr_prog *p = P->p;
    int old = find_qty(p, name->s, name->n);
    if (old >= 0)
        lex_fail(P, name->line, name->col, "'%.*s' is already defined at %d:%d", name->n, name->s,
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

int new_slot(parser *P, const tok *t)
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

int find_scope(const parser *P, const char *s, int n)
{
    for (int k = P->nscope; k-- > 0;) {
        const slot *sl = &P->slots[P->scope[k]];
        if (sl->nlen == n && memcmp(sl->name, s, (size_t)n) == 0) return P->scope[k];
    }
    for (int k = 0; k < P->nletters; k++) {        /* a claim's letters hold on every side */
        const slot *sl = &P->slots[P->letter[k]];
        if (sl->nlen == n && memcmp(sl->name, s, (size_t)n) == 0) return P->letter[k];
    }
    return -1;
}

void check_index_name(parser *P, const tok *t)
{
    check_new_name(P, t, "index");
    int q = find_qty(P->p, t->s, t->n);
    if (q >= 0)
        lex_fail(P, t->line, t->col, "'%.*s' is a quantity (defined at %d:%d); an index needs a name of its own",
                t->n, t->s, P->p->q[q].line, P->p->q[q].col);
    if (name_is(t->s, t->n, "e") || name_is(t->s, t->n, "pi"))
        lex_fail(P, t->line, t->col, "'%.*s' is a constant; pick another letter for the index", t->n, t->s);
}

/* Slot s indexes position pos of quantity q here: its range is q's size
 * there; a different size seen earlier is a shape conflict. */
void range_slot(parser *P, int s, int q, int pos, const tok *at)
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
        lex_fail(P, at->line, at->col,
                "shape conflict: index '%.*s' runs over %d entries here (%.*s has %d) but over %d at %d:%d (%.*s)",
                sl->nlen, sl->name, n, Q->nlen, Q->name, n, sl->range, sl->rline, sl->rcol, R->nlen, R->name);
    }
}
