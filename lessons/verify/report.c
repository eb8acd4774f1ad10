/* report.c — text: a growable buffer, values nested like their indices,
 * the verdict's counterexample and hints, and located error messages
 * ("file:line:col: message", the line, a caret).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "expr_impl.h"

void sb_printf(sbuf *b, const char *fmt, ...)
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

void sb_num(sbuf *b, double x, int prec)
{
    if (x == 0) sb_printf(b, "0");          /* no "-0" */
    else sb_printf(b, "%.*g", prec, x);
}

/* Values of a quantity, nested like its indices: [a, b] or [[a, b], [c, d]]. */
void sb_values(sbuf *b, const double *x, const int *dim, int rank)
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

void sb_ref(sbuf *b, const qty *q, const sub *s, const int *env)
{
    sb_printf(b, "%.*s", q->nlen, q->name);
    for (int k = 0; k < q->rank; k++) sb_printf(b, "[%d]", s[k].lit ? s[k].v : env[s[k].v]);
}

/* ---- the verdict ----------------------------------------------------------------- */

#define INDENT "       "

/* The entry of link l that a counterexample names, by its left side: the
 * derivative or the quantity's entry, else the claim's letters. Returns
 * whether the left side is the engine's (a derivative or a quantity). */
static int report_entry(sbuf *b, const checker *k, int l)
{
    const expr_prog *p = k->p;
    const claim *c = k->c;
    const ast *L = c->side[l];
    const int *env = k->link[l].worst_env;
    if (L->kind == E_DERIV) {
        sb_printf(b, "d ");
        sb_ref(b, &p->q[L->q], L->s, env);
        sb_printf(b, " / d ");
        sb_ref(b, &p->q[L->dq], L->ds, env);
        return 1;
    }
    if (L->kind == E_REF) { sb_ref(b, &p->q[L->q], L->s, env); return 1; }
    if (c->nletters == 0) { sb_printf(b, "the values"); return 0; }
    sb_printf(b, "at ");
    for (int i = 0; i < c->nletters; i++) {
        const slot *s = &c->slots[c->letter[i]];
        sb_printf(b, "%s%.*s = %d", i ? ", " : "", s->nlen, s->name, env[c->letter[i]]);
    }
    return 0;
}

#define AT_LONG 200          /* characters: a longer 'at' line shows only what the entry depends on */

/* The inputs the worst entry depends on (f->dep), when the 'at' line with
 * all of them is long: a quantity all of whose entries count is shown
 * whole, one with some as its entries. Returns 0 when nothing is left out. */
static int report_at_depends(sbuf *b, const checker *k, const link_facts *f)
{
    const expr_prog *p = k->p;
    size_t off = 0, left = 0;
    int first = 1;
    for (int s = 0; s < k->nshown; s++) {
        const qty *q = &p->q[k->shown[s]];
        int n = 0;
        for (int i = 0; q->kind == Q_GIVEN && i < q->size; i++) n += f->dep[off + i];
        if (q->kind == Q_GIVEN && n == q->size) {
            sb_printf(b, "%s%.*s = ", first ? "" : ", ", q->nlen, q->name);
            sb_values(b, f->snap + off, q->dim, q->rank);
            first = 0;
        }
        int row = q->rank == 2 ? q->dim[1] : 0;   /* a matrix: a whole row as W[i] = [...] */
        for (int i = 0; q->kind == Q_GIVEN && n < q->size && i < q->size; i++) {
            if (!f->dep[off + i]) { left++; continue; }
            if (row && i % row == 0 && memchr(f->dep + off + i, 0, (size_t)row) == NULL) {
                sb_printf(b, "%s%.*s[%d] = ", first ? "" : ", ", q->nlen, q->name, i / row);
                sb_values(b, f->snap + off + i, q->dim + 1, 1);
                first = 0;
                i += row - 1;
                continue;
            }
            sb_printf(b, "%s%.*s", first ? "" : ", ", q->nlen, q->name);
            for (int d = 0, rest = i, st = q->size; d < q->rank; d++) {
                st /= q->dim[d];
                sb_printf(b, "[%d]", rest / st);
                rest %= st;
            }
            sb_printf(b, " = ");
            sb_num(b, f->snap[off + i], 6);
            first = 0;
        }
        off += (size_t)q->size;
    }
    if (left) sb_printf(b, " (the inputs this entry depends on; %zu other%s left out)", left, left == 1 ? "" : "s");
    return left > 0;
}

/* The 'at' line (the inputs) and the 'where' line (the lets the claim
 * names) of a counterexample. */
static void report_at(sbuf *b, const checker *k, const link_facts *f)
{
    const expr_prog *p = k->p;
    sbuf at = {0};
    const double *sp = f->snap;
    int s = 0;
    for (; s < k->nshown && p->q[k->shown[s]].kind == Q_GIVEN; s++) {
        const qty *q = &p->q[k->shown[s]];
        sb_printf(&at, "%s%.*s = ", s ? ", " : "", q->nlen, q->name);
        sb_values(&at, sp, q->dim, q->rank);
        sp += q->size;
    }
    sb_printf(b, INDENT "at ");
    sbuf cut = {0};
    if (f->dep && at.n > AT_LONG && !at.oom && report_at_depends(&cut, k, f) && !cut.oom) sb_printf(b, "%s", cut.s);
    else sb_printf(b, "%s", at.s ? at.s : "");
    if (at.oom || cut.oom) b->oom = 1;
    free(at.s);
    free(cut.s);
    for (int first = 1; s < k->nshown; s++, first = 0) {
        const qty *q = &p->q[k->shown[s]];
        sb_printf(b, first ? (s ? "\n" INDENT "where " : "where ") : ", ");
        sb_printf(b, "%.*s = ", q->nlen, q->name);
        sb_values(b, sp, q->dim, q->rank);
        sp += q->size;
    }
}

/* The worst counterexample of link l: where it fails, the inputs and the
 * quantities the claim names at that point, the entry, claimed vs engine. */
static void report_counterexample(sbuf *b, const checker *k, const expr_link *lv, int points, int l)
{
    const link_facts *f = &k->link[l];
    char cb[64], eb[64];
    int prec = lv->max_err > 0 && isfinite(lv->max_err) ? (int)ceil(-log10(lv->max_err)) + 2 : 6;
    if (prec < 6) prec = 6;
    if (prec < f->decimals + 2) prec = f->decimals + 2;   /* a claimed decimal: show the digits it needs */
    if (prec > 17) prec = 17;
    sb_printf(b, INDENT "fails at %ld of %ld entries (%d points); the worst, at point %d:\n",
              lv->failed, lv->entries, points, f->worst_point + 1);
    report_at(b, k, f);
    sb_printf(b, "\n" INDENT);
    int engine = report_entry(b, k, l);
    snprintf(cb, sizeof cb, "%.*g", prec, lv->claimed);
    snprintf(eb, sizeof eb, "%.*g", prec, lv->engine);
    sb_printf(b, ": claimed %s, %s %s\n", lv->claimed == 0 ? "0" : cb, engine ? "engine" : "left side",
              lv->engine == 0 ? "0" : eb);
}

/* Right on the diagonal, wrong off it: transposed (claimed [i][j] is the
 * engine's [j][i]), or the off-diagonal entries left out (claimed 0). */
static void report_hint_diagonal(sbuf *b, const link_facts *f, const char *E)
{
    if (f->failed_swapped == f->failed_off)
        sb_printf(b, INDENT "hint: right on the diagonal, and off it claimed [i][j] = %s [j][i] at every "
                  "failing entry: a transposed index (W^T for W, x[j] for x[i], the product in the other "
                  "order?)\n", E);
    else if (f->failed_zero_off == f->failed_off)
        sb_printf(b, INDENT "hint: right on the diagonal, claimed 0 off it: the off-diagonal entries are "
                  "missing (a delta term?)\n");
    else
        sb_printf(b, INDENT "hint: right where the indices are equal, wrong where they differ: the "
                  "off-diagonal entries are missing (a delta term?) or an index is swapped\n");
}

/* A hint when the error of link l has a telling shape. */
static void report_hint(sbuf *b, const checker *k, const expr_link *lv, int l)
{
    const claim *c = k->c;
    const link_facts *f = &k->link[l];
    const char *E = c->side[l]->kind == E_DERIV || c->side[l]->kind == E_REF ? "engine" : "left side";
    int same = f->ratio_ok && f->ratio_set;
    if (f->half > 0 && f->truncated == lv->failed)
        sb_printf(b, INDENT "hint: claimed = the engine's %.*f cut after %d decimals, not rounded: "
                  "rounded it is %.*f\n", f->decimals + 2, lv->engine, f->decimals, f->decimals, lv->engine);
    else if (same && fabs(f->ratio + 1) <= 1e-9)
        sb_printf(b, INDENT "hint: claimed = -%s at every entry: a sign slip?\n", E);
    else if (same && fabs(f->ratio - 1) < 1e-3)
        sb_printf(b, INDENT "hint: claimed = %.9g x %s at every entry: looks like rounding "
                  "(a constant written with too few digits?)\n", f->ratio, E);
    else if (same)
        sb_printf(b, INDENT "hint: claimed = %.6g x %s at every entry: a missing or extra factor?\n",
                  f->ratio, E);
    else if (f->failed_recip == lv->failed)
        sb_printf(b, INDENT "hint: claimed = 1/%s at every failing entry: the reciprocal of the derivative?\n", E);
    else if (f->failed_neg == lv->failed && lv->failed < lv->entries)
        sb_printf(b, INDENT "hint: claimed = -%s at the %ld failing entries, right at the other %ld: "
                  "a sign slip in one case?\n", E, lv->failed, lv->entries - lv->failed);
    else if (f->fratio_ok && f->fratio_set && lv->failed < lv->entries && lv->max_err >= 1e-4)
        sb_printf(b, INDENT "hint: claimed = %.6g x %s at the %ld failing entries, right at the other %ld: "
                  "a factor in one case?\n", f->fratio, E, lv->failed, lv->entries - lv->failed);
    else if (lv->max_err < 1e-4)
        sb_printf(b, INDENT "hint: every error is below 1e-4: looks like rounding (a constant written "
                  "with too few digits?)\n");
    else if (c->nletters > 1 && f->checked_diag > 0 && f->failed_diag == 0 && f->failed_off > 0)
        report_hint_diagonal(b, f, E);
    else if (c->nletters > 1 && f->failed_off == 0 && f->checked_off > 0)
        sb_printf(b, INDENT "hint: wrong only where the indices are equal: a missing delta term?\n");
}

/* A link that holds: a warning when it holds by the floor alone. */
static void report_vacuous(sbuf *b, const checker *k, const expr_link *lv, int l)
{
    if (lv->vacuous)
        sb_printf(b, INDENT "warning: every value compared is below %g and they agree only within "
                  "%.2g, so it holds by the absolute floor alone: the check was vacuous (scale the "
                  "quantities up?)\n", EXPR_FLOOR, k->link[l].floor_gap);
}

int report_verdict(const checker *k, expr_verdict *v)
{
    sbuf b = {0};
    const claim *c = k->c;
    if (!v->checked) {
        sb_printf(&b, INDENT "cannot be checked: %d draws in a row found no point where it is defined and smooth",
                  k->max_tries);
        if (v->points) sb_printf(&b, " (after %d good points)", v->points);
        sb_printf(&b, "\n" INDENT "the last: %s\n", k->last_why);
        v->detail = b.s;
        return b.oom ? -1 : 0;
    }
    for (int l = 0; l < v->nlinks; l++) {
        const expr_link *lv = &v->link[l];
        if (v->nlinks > 1)
            sb_printf(&b, INDENT "link %d: %s = %s  %s  (max rel. error %.2g)\n", l + 1, c->side_text[l],
                      c->side_text[l + 1], lv->holds ? "HOLDS" : "FAILS", lv->max_err);
        if (!lv->holds) {
            report_counterexample(&b, k, lv, v->points, l);
            report_hint(&b, k, lv, l);
        } else {
            report_vacuous(&b, k, lv, l);
        }
    }
    if (v->holds && v->resampled)
        sb_printf(&b, INDENT "note: %d draw%s resampled, e.g. %s\n", v->resampled, v->resampled == 1 ? "" : "s",
                  k->last_why);
    v->detail = b.s;
    return b.oom ? -1 : 0;
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

