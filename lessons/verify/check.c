/* check.c — a claim at seeded random points: draw the inputs, build the
 * lets on one tape (one scalar node per entry), take the engine's Jacobian
 * entries by one reverse sweep per entry of A, and compare each with the
 * claimed expression evaluated on the same tape. A draw where a value is
 * undefined or at a kink is thrown away and drawn again (max_tries in a
 * row, then "cannot be checked").
 *
 * Not here: the text of the verdict (report.c). A non-finite claimed value
 * is an error of infinite size, never agreement.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "expr_impl.h"
#include "ops.h"

/* The quantities a counterexample shows: the inputs, then (in definition
 * order) the defined quantities the claim names. */
static int check_shown(checker *k)
{
    expr_prog *p = k->p;
    const claim *c = k->c;
    k->shown = malloc((size_t)(c->nclosure + 1) * sizeof *k->shown);
    if (!k->shown) return -1;
    for (int i = 0; i < c->nclosure; i++)
        if (p->q[c->closure[i]].kind == Q_GIVEN) {
            k->shown[k->nshown++] = c->closure[i];
            k->nsnap += (size_t)p->q[c->closure[i]].size;
        }
    int nrefs = ast_count_refs(c->rhs) + 2;
    int *refs = malloc((size_t)nrefs * sizeof *refs), nr = 0;
    int mark = -3 - p->nq - (int)(c - p->c);        /* a stamp no let or claim uses */
    if (!refs) return -1;
    refs[nr++] = c->aq;
    p->stamp[c->aq] = mark;
    if (p->stamp[c->bq] != mark) { refs[nr++] = c->bq; p->stamp[c->bq] = mark; }
    ast_refs(p, c->rhs, mark, refs, &nr);
    for (int i = 0; i < c->nclosure; i++)
        if (p->q[c->closure[i]].kind == Q_LET && p->stamp[c->closure[i]] == mark) {
            k->shown[k->nshown++] = c->closure[i];
            k->nsnap += (size_t)p->q[c->closure[i]].size;
        }
    for (int i = 0; i < nr; i++) p->stamp[refs[i]] = -1;
    free(refs);
    return 0;
}

/* Sizes the program's scratch for this claim and allocates the checker's. */
static int check_alloc(checker *k)
{
    expr_prog *p = k->p;
    const claim *c = k->c;
    if (!p->base && !(p->base = malloc((size_t)(p->nq ? p->nq : 1) * sizeof *p->base))) return -1;
    size_t entries = 0, inputs = 0;
    k->maxslots = c->nslots;
    for (int i = 0; i < c->nclosure; i++) {
        const qty *q = &p->q[c->closure[i]];
        p->base[c->closure[i]] = (int)entries;
        entries += (size_t)q->size;
        if (q->kind == Q_GIVEN) inputs += (size_t)q->size;
        if (q->nslots > k->maxslots) k->maxslots = q->nslots;
    }
    if (entries > p->tabcap) {
        uint32_t *t = realloc(p->tab, entries * sizeof *t);
        if (!t) return -1;
        p->tab = t;
        p->tabcap = entries;
    }
    if (check_shown(k) != 0) return -1;
    size_t npairs = (size_t)c->pairs;
    k->x = malloc((inputs ? inputs : 1) * sizeof *k->x);
    k->snap = malloc((k->nsnap ? k->nsnap : 1) * sizeof *k->snap);
    k->jac = malloc((npairs ? npairs : 1) * sizeof *k->jac);
    k->env = calloc((size_t)(k->maxslots ? k->maxslots : 1), sizeof *k->env);
    k->spine = malloc((EXPR_MAX_DEPTH + 1) * sizeof *k->spine);
    k->g = graph_new();
    return k->x && k->snap && k->jac && k->env && k->spine && k->g ? 0 : -1;
}

/* The inputs (one leaf per entry), then the definitions entry by entry. */
static void check_build(checker *k)
{
    expr_prog *p = k->p;
    const claim *c = k->c;
    graph *g = k->g;
    double *xp = k->x;
    for (int i = 0; i < c->nclosure; i++) {
        const qty *q = &p->q[c->closure[i]];
        if (q->kind != Q_GIVEN) continue;
        sample(&k->r, q, xp);
        for (int e = 0; e < q->size; e++)
            p->tab[p->base[c->closure[i]] + e] = graph_scalar(g, xp[e]).id;
        xp += q->size;
    }
    for (int i = 0; i < c->nclosure && !k->E.bad; i++) {
        const qty *q = &p->q[c->closure[i]];
        if (q->kind != Q_LET) continue;
        k->E.slots = q->slots;
        for (int f = 0; f < q->size && !k->E.bad; f++) {
            for (int rest = f, d = q->rank; d-- > 0;) { k->env[d] = rest % q->dim[d]; rest /= q->dim[d]; }
            uint32_t start = (uint32_t)graph_count(g);
            node n = ev(&k->E, q->rhs);
            /* a let that only names an older node gets its own,
             * so d L / d (this let) means the path through it */
            if (n.id < start) n = op_scale(g, n, 1.0);
            p->tab[p->base[c->closure[i]] + f] = n.id;
        }
    }
}

/* The engine's Jacobian entries the claim names, in odometer order: one
 * sweep per entry of A. A non-finite derivative makes the draw unusable. */
static void check_jacobian(checker *k)
{
    expr_prog *p = k->p;
    const claim *c = k->c;
    const qty *A = k->A, *B = k->B;
    graph *g = k->g;
    const double one = 1.0;
    int started = 0, prev = -1;
    uint32_t an = 0;
    size_t n = 0;
    memset(k->env, 0, (size_t)k->maxslots * sizeof *k->env);
    while (pairs_next(c, k->env, &started)) {
        int af = flat_index(A, c->as, k->env), bf = flat_index(B, c->bs, k->env);
        if (af != prev) {
            an = p->tab[p->base[c->aq] + af];
            for (int e = 0; e < B->size; e++) *graph_grad(g, (node){p->tab[p->base[c->bq] + e]}) = 0.0;
            graph_backward_seed(g, (node){an}, &one);
            prev = af;
        }
        uint32_t bn = p->tab[p->base[c->bq] + bf];
        double dv = bn <= an ? *graph_grad(g, (node){bn}) : 0.0;
        if (!isfinite(dv)) {
            sbuf nb = {0};
            sb_printf(&nb, "the derivative d ");
            sb_ref(&nb, A, c->as, k->env);
            sb_printf(&nb, " / d ");
            sb_ref(&nb, B, c->bs, k->env);
            note_bad(&k->E, "%s is %s there", nb.s ? nb.s : "", nonfinite(dv));
            free(nb.s);
            return;
        }
        k->jac[n++] = dv;
    }
}

/* Draws until the point is usable; 0, or −1 after max_tries draws. */
static int check_draw(checker *k, expr_verdict *v)
{
    for (int tries = 0; tries < k->max_tries; tries++) {
        graph_rewind(k->g, k->empty);
        k->E.bad = 0;
        k->E.watch = 1;
        check_build(k);
        if (!k->E.bad) check_jacobian(k);
        if (!k->E.bad) return 0;
        v->resampled++;
        memcpy(k->last_why, k->E.why, sizeof k->last_why);
    }
    return -1;
}

/* Records one compared entry: counts, the ratio the hints read, the worst. */
static void check_entry(checker *k, expr_verdict *v, int pt, double cv, double e)
{
    const claim *c = k->c;
    double err = cv == e ? 0.0 : fabs(cv - e) / fmax(fmax(fabs(cv), fabs(e)), EXPR_FLOOR);
    if (!isfinite(err)) err = INFINITY;
    int diag = 1;
    for (int l = 1; l < c->nletters; l++) diag &= k->env[l] == k->env[0];
    v->entries++;
    if (diag) k->checked_diag++; else k->checked_off++;
    if (fabs(cv) < EXPR_FLOOR && fabs(e) < EXPR_FLOOR) k->tiny++;
    if (cv != 0 || e != 0) {
        if (cv == 0 || e == 0 || !isfinite(cv)) k->ratio_ok = 0;
        else if (!k->ratio_set) { k->ratio = cv / e; k->ratio_set = 1; }
        else if (fabs(cv / e - k->ratio) > 1e-9 * fabs(k->ratio)) k->ratio_ok = 0;
    }
    if (err > k->tol) {
        v->failed++;
        if (diag) k->failed_diag++; else k->failed_off++;
    }
    if (!(err > v->max_err || (!k->have_worst && err > k->tol))) return;
    v->max_err = err;
    if (!(err > k->tol)) return;
    k->have_worst = 1;
    v->claimed = cv;
    v->engine = e;
    k->worst_point = pt;
    memcpy(k->worst_env, k->env, (size_t)c->nletters * sizeof *k->env);
    double *sp = k->snap;
    for (int s = 0; s < k->nshown; s++) {
        const qty *q = &k->p->q[k->shown[s]];
        for (int f = 0; f < q->size; f++)
            *sp++ = graph_get(k->g, (node){k->p->tab[k->p->base[k->shown[s]] + f]}, 0);
    }
}

/* The claimed expression at each entry, on the same tape as the engine's. */
static void check_compare(checker *k, expr_verdict *v, int pt)
{
    const claim *c = k->c;
    k->E.watch = 0;
    k->E.slots = c->slots;
    graph_mark_t m = graph_mark(k->g);
    int started = 0;
    size_t n = 0;
    memset(k->env, 0, (size_t)k->maxslots * sizeof *k->env);
    while (pairs_next(c, k->env, &started)) {
        double cv = graph_get(k->g, ev(&k->E, c->rhs), 0);
        graph_rewind(k->g, m);
        check_entry(k, v, pt, cv, k->jac[n++]);
    }
}

static void check_release(checker *k)
{
    free(k->shown);
    free(k->x);
    free(k->snap);
    free(k->jac);
    free(k->env);
    free(k->spine);
    graph_free(k->g);
}

int expr_check(expr_prog *p, int ci, const expr_options *o, expr_verdict *v)
{
    memset(v, 0, sizeof *v);
    expr_options d = expr_defaults();
    if (!o) o = &d;
    checker k;
    memset(&k, 0, sizeof k);
    k.p = p;
    k.c = &p->c[ci];
    k.A = &p->q[k.c->aq];
    k.B = &p->q[k.c->bq];
    k.points = o->points > 0 ? o->points : 1;
    k.max_tries = o->max_tries > 0 ? o->max_tries : 1;
    /* a big graph gets fewer draws, so giving up stays cheap */
    if (k.c->nodes > 0 && k.max_tries > 3 && k.max_tries * k.c->nodes > 2e7)
        k.max_tries = k.c->nodes * 3 > 2e7 ? 3 : (int)(2e7 / k.c->nodes);
    k.tol = o->tol > 0 ? o->tol : EXPR_TOL;
    k.worst_point = -1;
    k.ratio_ok = 1;
    if (check_alloc(&k) != 0) { check_release(&k); return -1; }
    rng_seed(&k.r, o->seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(ci + 1)));
    k.E = (evctx){p, k.g, p->tab, p->base, k.env, NULL, 0, 0, "", k.spine, 0};
    k.empty = graph_mark(k.g);
    int pt;
    for (pt = 0; pt < k.points; pt++) {
        if (check_draw(&k, v) != 0) break;
        v->points++;
        check_compare(&k, v, pt);
    }
    v->checked = pt == k.points;
    v->holds = v->checked && v->failed == 0;
    int rc = report_verdict(&k, v);
    check_release(&k);
    return rc;
}

void expr_verdict_free(expr_verdict *v)
{
    if (!v) return;
    free(v->detail);
    v->detail = NULL;
}
