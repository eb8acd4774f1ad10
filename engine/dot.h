/* dot.h — the tape shown: as a Graphviz picture (graph_dot) and the
 * backward sweep as text, one line per gradient it adds (graph_trace_print,
 * for graph_backward_trace). Both write only to the FILE the caller passes;
 * the engine never prints on its own.
 *
 * Not here: running Graphviz (plots/render.sh does), the sweep itself
 * (graph.h), the lesson number format (print.h, which these use).
 */
#ifndef CHAINRULE_DOT_H
#define CHAINRULE_DOT_H

#include <stdio.h>
#include "graph.h"

typedef struct {
    int max_nodes;       /* more nodes than this: a summary, not node by node (default 200) */
    int entries;         /* entries of a tensor's value and gradient shown (default 4) */
    const char *title;   /* a caption above the picture, or NULL */
} graph_dot_opts;

enum { GRAPH_DOT_NODES = 0, GRAPH_DOT_SUMMARY = 1, GRAPH_DOT_WRITE_ERROR = -1 };

/* Writes the tape as a DOT digraph: one record per node in tape order
 * (number, name if any, op, shape, value, gradient; a tensor shows its
 * shape and its first `entries` entries), an edge from each operand to its
 * result, leaves shaded. Above max_nodes it draws one box per op instead
 * (how many nodes and elements) with the edges between ops counted, and
 * says so in the caption. opts may be NULL (the defaults). Returns
 * GRAPH_DOT_NODES or GRAPH_DOT_SUMMARY, or GRAPH_DOT_WRITE_ERROR when
 * `out` reports an error. */
int graph_dot(const graph *g, FILE *out, const graph_dot_opts *opts);

/* One step of a traced sweep as text, for a graph_trace_fn. A 1×1 step
 * prints one line per operand, the loss-side gradient times the local
 * derivative with its formula and numbers, and the operand's gradient
 * after it:
 *   #6 mul     dL/d#4 += dL/d#6 · v#5 = 1.0000000 · -2.0000000 = -2.0000000  → dL/d#4 = -2.0000000  (#6 = L, #4 = d)
 * a leaf one line with its complete gradient, a tensor step one line
 * naming its operands. */
void graph_trace_print(FILE *f, const graph *g, const graph_trace_step *s);

#endif
