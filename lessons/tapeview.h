/* tapeview.h — lessons 01–03 show their tape: the Graphviz picture written
 * next to their plot tables, and the backward sweep one node at a time
 * (--trace), waiting for Enter between nodes (--step) on a terminal.
 * Built on the engine's graph_dot and graph_backward_trace (dot.h). */
#ifndef CHAINRULE_TAPEVIEW_H
#define CHAINRULE_TAPEVIEW_H

#include "graph.h"

/* Writes graph_dot of g to cli_data_path(name) (e.g.
 * "01_chain_rule_graph.dot"; plots/render.sh draws it) with `title` as its
 * caption; on a write error one line naming the file, exit 2. Returns the
 * path written (cli_data_path's buffer). */
const char *tapeview_dot(const graph *g, const char *name, const char *title);

/* The backward sweep from loss: graph_backward when trace is 0; otherwise
 * the same sweep with each node's step printed on stdout from the loss
 * down, and with step set, a pause for Enter after each node when stdin
 * is a terminal (no pause otherwise). */
void tapeview_backward(graph *g, node loss, int trace, int step);

#endif
