/* tapeview.c — the tape's picture and the traced sweep for lessons 01–03. */
#define _POSIX_C_SOURCE 200809L   /* isatty */
#include <stdio.h>
#include <unistd.h>
#include "cli.h"
#include "dot.h"
#include "tapeview.h"

const char *tapeview_dot(const graph *g, const char *name, const char *title)
{
    FILE *f = cli_data_file(name);
    graph_dot_opts o = {.title = title};
    if (graph_dot(g, f, &o) == GRAPH_DOT_WRITE_ERROR) cli_fail("%s: write failed", cli_data_path(name));
    cli_data_close(f, name);
    return cli_data_path(name);
}

typedef struct { int pause; } trace_ctx;

static void on_step(const graph *g, const graph_trace_step *s, void *ctx)
{
    trace_ctx *t = ctx;
    graph_trace_print(stdout, g, s);
    if (!t->pause || s->n.id == 0) return;   /* node 0 ends the sweep */
    fputs("  [Enter: next node] ", stdout);
    fflush(stdout);
    int c;
    while ((c = getchar()) != '\n' && c != EOF) {}
    if (c == EOF) t->pause = 0;   /* stdin closed: run to the end */
}

void tapeview_backward(graph *g, node loss, int trace, int step)
{
    if (!trace) { graph_backward(g, loss); return; }
    trace_ctx t = {step && isatty(STDIN_FILENO)};
    graph_backward_trace(g, loss, on_step, &t);
}
