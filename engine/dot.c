/* dot.c — the tape as a Graphviz picture, and a traced sweep as text.
 * Reads the tape's records directly (tape.h) so that a 65,000-node graph
 * is summarised in one pass with no allocation. */
#include <math.h>
#include "tape.h"
#include "dot.h"
#include "print.h"

/* Writes s into a record label: the characters DOT's record shape treats
 * as structure are escaped, a newline becomes a space. */
static void put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (strchr("{}|<>\"\\", *s)) fputc('\\', f);
        fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
    }
}

/* n with thousands separators: 65,314. buf holds at least 32 bytes. */
static const char *thousands(char *buf, unsigned long long n)
{
    char raw[32];
    int len = snprintf(raw, sizeof raw, "%llu", n), k = 0;
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0) buf[k++] = ',';
        buf[k++] = raw[i];
    }
    buf[k] = '\0';
    return buf;
}

/* A value or gradient: the number of a 1×1 node, else the first `entries`
 * entries in row-major order, "…" when there are more. */
static void put_numbers(FILE *f, const double *x, uint32_t size, int entries)
{
    char b[64];
    if (size == 1) { fputs(print_fmt(b, x[0], 7), f); return; }
    uint32_t shown = size < (uint32_t)entries ? size : (uint32_t)entries;
    fputc('[', f);
    for (uint32_t e = 0; e < shown; e++) fprintf(f, "%s%s", e ? ", " : "", print_fmt(b, x[e], 4));
    fputs(shown < size ? ", …]" : "]", f);
}

static void dot_node(FILE *f, const graph *g, uint32_t i, int entries)
{
    const nrec *r = &g->nodes[i];
    const char *name = graph_node_name(g, (node){i});
    /* with rankdir=LR, fields without braces stack top to bottom */
    fprintf(f, "  n%u [label=\"#%u", i, i);
    if (name) { fputs("  ", f); put_escaped(f, name); }
    fprintf(f, "  %s", tape_op_name(r->op));
    if (r->rows * r->cols != 1) fprintf(f, "  %u×%u", r->rows, r->cols);
    fputs("|value ", f);
    put_numbers(f, g->val + r->off, r->rows * r->cols, entries);
    fputs("|grad ", f);
    put_numbers(f, g->grad + r->off, r->rows * r->cols, entries);
    fprintf(f, "\"%s];\n", r->op == OP_LEAF ? ", style=filled, fillcolor=\"#e8eef7\"" : "");
    if (r->a != NO_NODE) fprintf(f, "  n%u -> n%u;\n", r->a, i);
    if (r->b != NO_NODE) fprintf(f, "  n%u -> n%u;\n", r->b, i);
}

/* The summary: one box per op that occurs (in order of first use), with
 * its node and element counts, and one edge per pair of ops that feed each
 * other, labelled with how many operand links it stands for. */
static void dot_summary(FILE *f, const graph *g, int max_nodes)
{
    unsigned long long nodes[OP_COUNT] = {0}, elems[OP_COUNT] = {0};
    unsigned long long links[OP_COUNT][OP_COUNT] = {{0}};   /* operand op → result op */
    uint32_t first[OP_COUNT];
    for (int k = 0; k < OP_COUNT; k++) first[k] = UINT32_MAX;
    for (uint32_t i = 0; i < g->n; i++) {
        const nrec *r = &g->nodes[i];
        nodes[r->op]++;
        elems[r->op] += (unsigned long long)r->rows * r->cols;
        if (first[r->op] == UINT32_MAX) first[r->op] = i;
        if (r->a != NO_NODE) links[g->nodes[r->a].op][r->op]++;
        if (r->b != NO_NODE) links[g->nodes[r->b].op][r->op]++;
    }
    char b1[32], b2[32];
    fprintf(f, "  summary [shape=note, label=\"%s nodes: more than the %d drawn one by one,\\n"
               "so one box per op (nodes, elements); edges count operand links\"];\n",
            thousands(b1, g->n), max_nodes);
    for (uint32_t i = 0; i < g->n; i++) {           /* boxes in order of first use */
        unsigned op = g->nodes[i].op;
        if (first[op] != i) continue;
        fprintf(f, "  op_%s [label=\"%s|%s nodes|%s elements\"%s];\n", tape_op_name(op),
                tape_op_name(op), thousands(b1, nodes[op]), thousands(b2, elems[op]),
                op == OP_LEAF ? ", style=filled, fillcolor=\"#e8eef7\"" : "");
    }
    for (int a = 0; a < OP_COUNT; a++)
        for (int r = 0; r < OP_COUNT; r++)
            if (links[a][r])
                fprintf(f, "  op_%s -> op_%s [label=\"%s\"];\n", tape_op_name((unsigned)a),
                        tape_op_name((unsigned)r), thousands(b1, links[a][r]));
}

int graph_dot(const graph *g, FILE *out, const graph_dot_opts *opts)
{
    graph_dot_opts o = {200, 4, NULL};
    if (opts) {
        if (opts->max_nodes > 0) o.max_nodes = opts->max_nodes;
        if (opts->entries > 0) o.entries = opts->entries;
        o.title = opts->title;
    }
    int summary = g->n > (uint32_t)o.max_nodes;
    fputs("digraph tape {\n  rankdir=LR;\n  fontname=\"Helvetica\";\n"
          "  node [shape=record, fontname=\"Helvetica\", fontsize=11];\n"
          "  edge [color=\"#555555\"];\n", out);
    if (o.title) {
        fputs("  labelloc=t;\n  label=\"", out);
        put_escaped(out, o.title);
        fputs("\";\n", out);
    }
    if (summary) dot_summary(out, g, o.max_nodes);
    else
        for (uint32_t i = 0; i < g->n; i++) dot_node(out, g, i, o.entries);
    fputs("}\n", out);
    if (ferror(out)) return GRAPH_DOT_WRITE_ERROR;
    return summary ? GRAPH_DOT_SUMMARY : GRAPH_DOT_NODES;
}

/* ---- the traced sweep as text ------------------------------------------ */

/* The local derivative ∂n/∂(operand k) as a formula in the tape's terms
 * (v#5 is node 5's value), for the ops whose derivative is one short term;
 * "∂#n/∂#a" otherwise. */
static void local_formula(char *buf, size_t len, const graph *g, const graph_trace_step *s, int k)
{
    const nrec *r = &g->nodes[s->n.id];
    uint32_t n = s->n.id, a = s->op[0].id, other = s->nops == 2 ? s->op[1 - k].id : a;
    if (s->nops == 2 && s->op[0].id == s->op[1].id) {      /* x∘x: the total */
        snprintf(buf, len, "∂#%u/∂#%u", n, a);
        return;
    }
    switch ((op_kind)r->op) {
    case OP_ADD: snprintf(buf, len, "1"); break;
    case OP_SUB: snprintf(buf, len, k == 0 ? "1" : "(-1)"); break;
    case OP_MUL: snprintf(buf, len, "v#%u", other); break;
    case OP_DIV:
        if (k == 0) snprintf(buf, len, "1/v#%u", s->op[1].id);
        else snprintf(buf, len, "(-v#%u/v#%u)", n, s->op[1].id);
        break;
    case OP_NEG: snprintf(buf, len, "(-1)"); break;
    case OP_SCALE: snprintf(buf, len, "%g", r->k); break;
    case OP_EXP: snprintf(buf, len, "v#%u", n); break;
    case OP_LOG: snprintf(buf, len, "1/v#%u", a); break;
    case OP_SIGMOID: snprintf(buf, len, "v#%u(1-v#%u)", n, n); break;
    case OP_TANH: snprintf(buf, len, "(1-v#%u²)", n); break;
    case OP_RELU: snprintf(buf, len, "[v#%u>0]", a); break;
    default: snprintf(buf, len, "∂#%u/∂#%u", n, s->op[k].id); break;
    }
}

/* "  (#6 = L, #4 = d)": the names of the node and of the operand, those
 * that have one. */
static void put_names(FILE *f, const graph *g, node n, const node *operand)
{
    const char *nn = graph_node_name(g, n), *on = operand ? graph_node_name(g, *operand) : NULL;
    if (!nn && !on) return;
    fputs("  (", f);
    if (nn) fprintf(f, "#%u = %s", n.id, nn);
    if (on) fprintf(f, "%s#%u = %s", nn ? ", " : "", operand->id, on);
    fputc(')', f);
}

void graph_trace_print(FILE *f, const graph *g, const graph_trace_step *s)
{
    const char *op = graph_op_name(g, s->n);
    char b1[64], b2[64], b3[64], b4[64], formula[64];
    uint32_t n = s->n.id;
    if (s->nops == 0) {
        fprintf(f, "#%u %-7s dL/d#%u = %s  complete: a leaf passes nothing on", n, op, n,
                s->scalar ? print_fmt(b1, graph_grad_get(g, s->n, 0), 7) : "(tensor)");
        put_names(f, g, s->n, NULL);
        fputc('\n', f);
        return;
    }
    if (!s->scalar) {
        fprintf(f, "#%u %-7s %d×%d: adds dL/d#%u · ∂#%u/∂#%u", n, op, graph_rows(g, s->n),
                graph_cols(g, s->n), n, n, s->op[0].id);
        if (s->nops == 2) fprintf(f, " and · ∂#%u/∂#%u", n, s->op[1].id);
        fputs(" (tensors: see the gradients in the picture)", f);
        put_names(f, g, s->n, NULL);
        fputc('\n', f);
        return;
    }
    int nk = s->nops == 2 && s->op[0].id == s->op[1].id ? 1 : s->nops;
    for (int k = 0; k < nk; k++) {
        local_formula(formula, sizeof formula, g, s, k);
        fprintf(f, "#%u %-7s dL/d#%u += dL/d#%u · %s = %s · %s = %s  → dL/d#%u = %s", n, op,
                s->op[k].id, n, formula, print_fmt(b1, s->grad, 7), print_fmt(b2, s->local[k], 7),
                print_fmt(b3, s->after[k] - s->before[k], 7), s->op[k].id,
                print_fmt(b4, s->after[k], 7));
        put_names(f, g, s->n, &s->op[k]);
        fputc('\n', f);
    }
}
