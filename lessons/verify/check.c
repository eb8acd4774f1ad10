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

#define ROUNDOFF 1e-14       /* |claimed − engine| of double rounding on values of order 1 */

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
    int nrefs = 2;
    for (int s = 0; s < c->nsides; s++) nrefs += ast_count_refs(c->side[s]);
    int *refs = malloc((size_t)nrefs * sizeof *refs), nr = 0;
    int mark = -3 - p->nq - (int)(c - p->c);        /* a stamp no let or claim uses */
    if (!refs) return -1;
    for (int s = 0; s < c->nsides; s++) ast_refs(p, c->side[s], mark, refs, &nr);
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
    k->npairs = (size_t)c->pairs;
    size_t ms = (size_t)(k->maxslots ? k->maxslots : 1);
    k->x = malloc((inputs ? inputs : 1) * sizeof *k->x);
    k->vals = malloc((size_t)c->nsides * (k->npairs ? k->npairs : 1) * sizeof *k->vals);
    k->env = calloc(ms, sizeof *k->env);
    k->ndc = c->ndterms + p->nldterm;        /* the claim's derivatives, then the lets' */
    k->dc = calloc((size_t)(k->ndc ? k->ndc : 1), sizeof *k->dc);
    k->spine = malloc((EXPR_MAX_DEPTH + 1) * sizeof *k->spine);
    if (!p->g && (p->g = graph_new())) p->gempty = graph_mark(p->g);
    else if (p->g) graph_rewind(p->g, p->gempty);
    k->g = p->g;
    if (c->nvcond && !(k->mask = malloc(k->npairs ? k->npairs : 1))) return -1;
    if (!k->x || !k->vals || !k->env || !k->dc || !k->spine || !k->g) return -1;
    for (int l = 0; l < c->nsides - 1; l++) {
        link_facts *f = &k->link[l];
        f->worst_env = calloc(ms, sizeof *f->worst_env);
        f->snap = malloc((k->nsnap ? k->nsnap : 1) * sizeof *f->snap);
        f->worst_point = -1;
        f->ratio_ok = f->fratio_ok = 1;
        if (!f->worst_env || !f->snap) return -1;
    }
    return 0;
}

/* The inputs (one leaf per entry: drawn, or taken from inputs when not
 * NULL), then the definitions entry by entry. */
static void check_build(checker *k, const double *inputs)
{
    expr_prog *p = k->p;
    const claim *c = k->c;
    graph *g = k->g;
    double *xp = k->x;
    for (int i = 0; i < c->nclosure; i++) {
        const qty *q = &p->q[c->closure[i]];
        if (q->kind != Q_GIVEN) continue;
        if (inputs) memcpy(xp, inputs + (xp - k->x), (size_t)q->size * sizeof *xp);
        else sample(&k->r, q, xp);
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

/* E_DERIV: d A[af] / d B[bf] at this draw. One reverse sweep per entry of
 * A (seeded there), kept for every entry of B until the next draw. */
static double check_deriv(void *ctx, const ast *e, const int *env)
{
    checker *k = ctx;
    expr_prog *p = k->p;
    const qty *A = &p->q[e->q], *B = &p->q[e->dq];
    int af = flat_index(A, e->s, env), bf = flat_index(B, e->ds, env);
    /* a let's own derivative has its own cache, after the claim's */
    struct dcache *d = &k->dc[e->dterm < MAX_DTERMS ? e->dterm : k->c->ndterms + e->dterm - MAX_DTERMS];
    if (!d->stamp) {
        d->stamp = calloc((size_t)A->size, sizeof *d->stamp);
        d->row = calloc((size_t)A->size, sizeof *d->row);
        if (!d->stamp || !d->row) { free(d->stamp); free(d->row); d->stamp = NULL; d->row = NULL; k->oom = 1; return 0; }
        d->na = A->size;
    }
    if (d->stamp[af] != k->gen) {
        if (!d->row[af] && !(d->row[af] = malloc((size_t)B->size * sizeof **d->row))) { k->oom = 1; return 0; }
        const double one = 1.0;
        uint32_t an = p->tab[p->base[e->q] + af];
        for (int i = 0; i < B->size; i++) *graph_grad(k->g, (node){p->tab[p->base[e->dq] + i]}) = 0.0;
        graph_backward_seed(k->g, (node){an}, &one);
        for (int i = 0; i < B->size; i++) {
            uint32_t bn = p->tab[p->base[e->dq] + i];
            d->row[af][i] = bn <= an ? *graph_grad(k->g, (node){bn}) : 0.0;   /* B after A: no path */
        }
        d->stamp[af] = k->gen;
    }
    return d->row[af][bf];
}

/* Every side at every entry of the claim's letters, on the tape of this
 * draw. A non-finite derivative makes the draw unusable; a non-finite
 * side is kept (it fails). */
static void check_sides(checker *k)
{
    const claim *c = k->c;
    k->E.watch = 0;
    k->E.slots = c->slots;
    graph_mark_t m = graph_mark(k->g);
    if (c->nvcond) {                         /* 'for x > 0': the entries where the conditions hold */
        int started = 0;
        size_t n = 0, any = 0;
        memset(k->env, 0, (size_t)k->maxslots * sizeof *k->env);
        while (!k->E.bad && pairs_next(c, k->env, &started)) {
            any += k->mask[n++] = (unsigned char)ev_vconds(&k->E, c);
            graph_rewind(k->g, m);
        }
        if (!any) note_bad(&k->E, "the claim's condition holds at no entry");
    }
    for (int s = 0; s < c->nsides && !k->E.bad; s++) {
        int started = 0;
        size_t n = 0;
        memset(k->env, 0, (size_t)k->maxslots * sizeof *k->env);
        while (!k->E.bad && pairs_next(c, k->env, &started)) {
            k->vals[(size_t)s * k->npairs + n++] = graph_get(k->g, ev(&k->E, c->side[s]), 0);
            graph_rewind(k->g, m);
        }
    }
}

/* Draws until the point is usable; 0, or −1 after max_tries draws. */
static int check_draw(checker *k, expr_verdict *v)
{
    for (int tries = 0; tries < k->max_tries; tries++) {
        graph_rewind(k->g, k->empty);
        k->gen++;
        k->E.bad = 0;
        k->E.watch = 1;
        check_build(k, NULL);
        if (!k->E.bad) check_sides(k);
        if (!k->E.bad) return 0;
        v->resampled++;
        memcpy(k->last_why, k->E.why, sizeof k->last_why);
    }
    return -1;
}

/* The facts of a failing entry the hints read: is claimed the engine's
 * value at the transposed entry (swapped, or nan), 0 off the diagonal,
 * the same multiple of the engine's as at the other failing entries? */
static void check_failing(const checker *k, link_facts *f, int diag, double cv, double e, double swapped)
{
    if (isfinite(swapped) && fabs(cv - swapped) <= k->tol * fmax(fmax(fabs(cv), fabs(swapped)), EXPR_FLOOR))
        f->failed_swapped++;
    if (!diag && cv == 0) f->failed_zero_off++;
    if (cv == 0 || e == 0 || !isfinite(cv) || !isfinite(e)) f->fratio_ok = 0;
    else if (!f->fratio_set) { f->fratio = cv / e; f->fratio_set = 1; }
    else if (fabs(cv / e - f->fratio) > 1e-9 * fabs(f->fratio)) f->fratio_ok = 0;
}

/* Records one compared entry of link l: counts, the facts the hints read,
 * the worst. cv is the claimed (right) side, e the engine's (left). */
static void check_entry(checker *k, int l, expr_link *lv, int pt, double cv, double e, double swapped)
{
    const claim *c = k->c;
    link_facts *f = &k->link[l];
    /* a non-finite value is never agreement, not even inf against inf */
    double err = !isfinite(cv) || !isfinite(e) ? INFINITY
               : cv == e ? 0.0 : fabs(cv - e) / fmax(fmax(fabs(cv), fabs(e)), EXPR_FLOOR);
    if (!isfinite(err)) err = INFINITY;
    int diag = 1;
    for (int i = 1; i < c->nletters; i++) diag &= k->env[c->letter[i]] == k->env[c->letter[0]];
    lv->entries++;
    if (diag) f->checked_diag++; else f->checked_off++;
    if (fabs(cv) < EXPR_FLOOR && fabs(e) < EXPR_FLOOR) {
        f->tiny++;
        if (fabs(cv - e) > f->floor_gap) f->floor_gap = fabs(cv - e);
    }
    if (cv != 0 || e != 0) {
        if (cv == 0 || e == 0 || !isfinite(cv)) f->ratio_ok = 0;
        else if (!f->ratio_set) { f->ratio = cv / e; f->ratio_set = 1; }
        else if (fabs(cv / e - f->ratio) > 1e-9 * fabs(f->ratio)) f->ratio_ok = 0;
    }
    /* a claimed decimal is right when the engine's value rounds to it */
    int fails = f->half > 0 ? !(fabs(cv - e) <= f->half * (1 + 1e-9)) : err > k->tol;
    if (fails) {
        lv->failed++;
        if (diag) f->failed_diag++; else f->failed_off++;
        if (fabs(cv + e) <= 1e-9 * fmax(fabs(cv), fabs(e))) f->failed_neg++;
        if (fabs(cv * e - 1) <= 1e-9) f->failed_recip++;
        double scale = pow(10, f->decimals), cut = trunc(e * scale) / scale;
        if (f->half > 0 && isfinite(e) && fabs(cut - cv) <= 1e-6 * f->half) f->truncated++;
        check_failing(k, f, diag, cv, e, swapped);
    }
    if (!(err > lv->max_err || (!f->have_worst && fails))) return;
    lv->max_err = err;
    if (!fails) return;
    f->have_worst = 1;
    lv->claimed = cv;
    lv->engine = e;
    f->worst_point = pt;
    memcpy(f->worst_env, k->env, (size_t)k->maxslots * sizeof *k->env);
    double *sp = f->snap;
    for (int s = 0; s < k->nshown; s++) {
        const qty *q = &k->p->q[k->shown[s]];
        for (int i = 0; i < q->size; i++)
            *sp++ = graph_get(k->g, (node){k->p->tab[k->p->base[k->shown[s]] + i]}, 0);
    }
}

/* Each link at each entry: side l+1 (claimed) against side l. */
static void check_compare(checker *k, expr_verdict *v, int pt)
{
    const claim *c = k->c;
    /* two letters of one range and no condition: entry [j][i] is
     * left[j * range + i], for the transposed-index hint */
    int l0 = c->letter[0], l1 = c->letter[1];
    int square = c->nletters == 2 && c->ncond == 0 && c->slots[l0].range == c->slots[l1].range;
    for (int l = 0; l + 1 < c->nsides; l++) {
        const double *left = k->vals + (size_t)l * k->npairs, *right = left + k->npairs;
        int started = 0;
        size_t n = 0;
        memset(k->env, 0, (size_t)k->maxslots * sizeof *k->env);
        while (pairs_next(c, k->env, &started)) {
            if (!k->mask || k->mask[n]) {
                double sw = square ? left[(size_t)k->env[l1] * (size_t)c->slots[l0].range + (size_t)k->env[l0]] : NAN;
                check_entry(k, l, &v->link[l], pt, right[n], left[n], sw);
            }
            n++;
        }
    }
}

/* The claim's verdict from its links'. */
static void check_sum_up(checker *k, expr_verdict *v)
{
    v->nlinks = k->c->nsides - 1;
    v->first_failed = -1;
    for (int l = 0; l < v->nlinks; l++) {
        expr_link *lv = &v->link[l];
        const link_facts *f = &k->link[l];
        lv->holds = v->checked && lv->failed == 0;
        /* vacuous: every value below the floor, and the agreement is not at
         * the level of rounding (d(1e-13 x)/dx = 0 holds only by the floor,
         * d(sum of softmax)/do = 0 within 1e-17 does not) */
        lv->vacuous = lv->holds && f->tiny == lv->entries && f->floor_gap > ROUNDOFF;
        v->entries += lv->entries;
        v->failed += lv->failed;
        v->vacuous |= lv->vacuous;
        if (lv->max_err > v->max_err) v->max_err = lv->max_err;
        if (!lv->holds && v->first_failed < 0 && v->checked) {
            v->first_failed = l;
            v->claimed = lv->claimed;
            v->engine = lv->engine;
        }
    }
    v->holds = v->checked && v->failed == 0;
}

/* Which inputs the worst entry of link l depends on: its point rebuilt
 * from the inputs it showed, the entry's nodes on both sides, and every
 * leaf that reaches them (a walk down the tape: a node only points to
 * older ones). For the counterexample's 'at' line when it is long. */
static void check_depends(checker *k, int l)
{
    expr_prog *p = k->p;
    const claim *c = k->c;
    link_facts *f = &k->link[l];
    graph *g = k->g;
    graph_rewind(g, k->empty);
    k->gen++;
    k->E.bad = 0;
    k->E.watch = 0;
    check_build(k, f->snap);
    if (k->E.bad) return;                        /* not rebuilt (cannot happen: it was a good draw) */
    memcpy(k->env, f->worst_env, (size_t)k->maxslots * sizeof *k->env);
    k->E.slots = c->slots;
    node seed[2];
    for (int s = 0; s < 2; s++) {
        const ast *e = c->side[l + s];
        seed[s] = e->kind == E_DERIV ? (node){p->tab[p->base[e->q] + flat_index(&p->q[e->q], e->s, k->env)]}
                                     : ev(&k->E, e);
    }
    size_t n = graph_count(g);
    if (k->E.bad || seed[0].id >= n || seed[1].id >= n) return;
    unsigned char *mark = calloc(n ? n : 1, 1);
    f->dep = calloc(k->nsnap ? k->nsnap : 1, 1);
    if (!mark || !f->dep) { free(mark); k->oom = 1; return; }
    mark[seed[0].id] = mark[seed[1].id] = 1;
    for (size_t id = n; id-- > 0;) {
        node ops[2];
        if (!mark[id]) continue;
        int no = graph_operands(g, graph_node(g, id), ops);
        for (int o = 0; o < no; o++) mark[ops[o].id] = 1;
    }
    size_t off = 0;
    for (int s = 0; s < k->nshown; s++) {
        const qty *q = &p->q[k->shown[s]];
        for (int i = 0; q->kind == Q_GIVEN && i < q->size; i++) f->dep[off + i] = mark[p->tab[p->base[k->shown[s]] + i]];
        off += (size_t)q->size;
    }
    free(mark);
}

static void check_release(checker *k)
{
    for (int d = 0; k->dc && d < k->ndc; d++) {
        for (int i = 0; k->dc[d].row && i < k->dc[d].na; i++) free(k->dc[d].row[i]);
        free(k->dc[d].row);
        free(k->dc[d].stamp);
    }
    for (int l = 0; l < EXPR_MAX_LINKS; l++) {
        free(k->link[l].worst_env);
        free(k->link[l].snap);
        free(k->link[l].dep);
    }
    free(k->dc);
    free(k->shown);
    free(k->x);
    free(k->vals);
    free(k->env);
    free(k->spine);
    free(k->mask);
    graph_free(k->E.fg);                     /* k->g is the program's, freed with it */
}

/* What the claim fixes: a claimed side that is a decimal number is
 * compared at its printed precision; a claim whose inputs are all literal
 * (given x[2] = [1, -1]) has one point to check, once. */
static void check_fixed(checker *k)
{
    const claim *c = k->c;
    for (int l = 0; l + 1 < c->nsides; l++) {
        const ast *s = c->side[l + 1];
        if (s->kind == E_NEG) s = s->a;
        if (s->kind == E_NUM && s->nsub > 0) {
            k->link[l].decimals = s->nsub - 1;
            k->link[l].half = 0.5 * pow(10, -(s->nsub - 1));
        }
    }
    int literal = 1;
    for (int i = 0; i < c->nclosure; i++) {
        const qty *q = &k->p->q[c->closure[i]];
        if (q->kind == Q_GIVEN && q->dist != D_LITERAL) literal = 0;
    }
    if (literal) k->points = k->max_tries = 1;
}

/* Input entries a counterexample shows; beyond AT_FEW its 'at' line may
 * be cut to those the worst entry depends on (report.c decides). */
#define AT_FEW 20
static size_t check_inputs(const checker *k)
{
    size_t n = 0;
    for (int s = 0; s < k->nshown; s++)
        if (k->p->q[k->shown[s]].kind == Q_GIVEN) n += (size_t)k->p->q[k->shown[s]].size;
    return n;
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
    k.points = o->points > 0 ? o->points : 1;
    k.max_tries = o->max_tries > 0 ? o->max_tries : 1;
    /* a big graph gets fewer draws, so giving up stays cheap */
    if (k.c->nodes > 0 && k.max_tries > 3 && k.max_tries * k.c->nodes > 2e7)
        k.max_tries = k.c->nodes * 3 > 2e7 ? 3 : (int)(2e7 / k.c->nodes);
    k.tol = o->tol > 0 ? o->tol : EXPR_TOL;
    if (check_alloc(&k) != 0) { check_release(&k); return -1; }
    check_fixed(&k);
    rng_seed(&k.r, o->seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(ci + 1)));
    k.E = (evctx){p, k.g, p->tab, p->base, k.env, NULL, 0, 0, "", k.spine, 0, check_deriv, &k, NULL, NULL, {0, 0, 0}};
    k.empty = graph_mark(k.g);
    int pt;
    for (pt = 0; pt < k.points && !k.oom; pt++) {
        if (check_draw(&k, v) != 0) break;
        v->points++;
        check_compare(&k, v, pt);
    }
    v->checked = pt == k.points;
    check_sum_up(&k, v);
    for (int l = 0; v->checked && l < v->nlinks && !k.oom; l++)
        if (!v->link[l].holds && k.link[l].have_worst && check_inputs(&k) > AT_FEW) check_depends(&k, l);
    int rc = k.oom ? -1 : report_verdict(&k, v);
    check_release(&k);
    return rc;
}

void expr_verdict_free(expr_verdict *v)
{
    if (!v) return;
    free(v->detail);
    v->detail = NULL;
}
