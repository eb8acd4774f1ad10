/* 01_chain_rule.c — the engine in ten lines: a handful of scalars, their
 * values, their gradients, and the tape the backward sweep walks. */
#include <stdio.h>
#include "cli.h"
#include "ops.h"
#include "print.h"
#include "tapeview.h"

/* A number in the lesson format, right-aligned in 11 columns. */
static const char *num(double x)
{
    static char buf[4][64];
    static int k;
    k = (k + 1) % 4;
    char tmp[64];
    snprintf(buf[k], sizeof buf[k], "%11s", print_fmt(tmp, x, 7));
    return buf[k];
}

static void show(const graph *g, const char *name, node n)
{
    printf("  %-3s value %s   dL/d%-2s %s\n", name, num(graph_get(g, n, 0)), name,
           num(graph_grad_get(g, n, 0)));
}

/* The tape's names for the picture and the trace, and the picture itself,
 * written next to the plot tables (make plots draws it). */
static void draw(graph *g, const char *const *names, const node *nodes, int n)
{
    for (int i = 0; i < n; i++)
        if (graph_name(g, nodes[i], names[i]) != 0) cli_fail("out of memory");
}

static void draw_write(const graph *g)
{
    const char *path = tapeview_dot(g, "01_chain_rule_graph.dot", "L = (a·b + c)·f: value and dL/d(node) of every node");
    printf("wrote %s (the tape as a picture: make plots)\n\n", path);
}

int main(int argc, char **argv)
{
    int quick = 0, seed = 1, trace = 0, step = 0;
    cli_opt opts[] = {
        {"--quick", CLI_FLAG, &quick, NULL, "accepted for symmetry; this lesson is instant"},
        {"--seed", CLI_INT, &seed, "N", "accepted for symmetry; nothing here is random"},
        {"--trace", CLI_FLAG, &trace, NULL, "print the backward sweep one node at a time"},
        {"--step", CLI_FLAG, &step, NULL, "--trace, waiting for Enter after each node (on a terminal)"},
        {0}};
    cli_no_positional(cli_parse(argc, argv,
        "01 chain rule — the engine in ten lines: values, gradients, the tape.", opts), argc, argv);

    printf("01 chain rule — the engine in ten lines\n\n");
    printf("Each line of arithmetic appends a node to the tape. A node only points to\n"
           "older nodes, so the tape is already in topological order, and backward is\n"
           "one loop from the loss down to the first node, adding dL/dnode · local\n"
           "derivative into each operand.\n\n");

    graph *g = graph_new();
    if (!g) cli_fail("out of memory");
    // the ten lines
    node a = graph_scalar(g, 2.0);
    node b = graph_scalar(g, -3.0);
    node c = graph_scalar(g, 10.0);
    node e = op_mul(g, a, b);        // e = a·b
    node d = op_add(g, e, c);        // d = e + c
    node f = graph_scalar(g, -2.0);
    node L = op_mul(g, d, f);        // L = d·f
    const char *names[] = {"a", "b", "c", "e", "d", "f", "L"};
    node nodes[] = {a, b, c, e, d, f, L};
    draw(g, names, nodes, 7);
    if (trace || step) printf("the backward sweep, one node at a time, from the loss down:\n");
    tapeview_backward(g, L, trace || step, step);
    if (trace || step) printf("\n");

    printf("forward and backward of L = (a·b + c)·f:\n");
    for (int i = 0; i < 7; i++) show(g, names[i], nodes[i]);
    /* the same chain rule by hand, from the forward values */
    double va = graph_get(g, a, 0), vb = graph_get(g, b, 0), vd = graph_get(g, d, 0), vf = graph_get(g, f, 0);
    double dd = vf, de = dd * 1.0;
    printf("\nby hand, from the forward values:\n");
    printf("  dL/dd = f          = %s\n", num(dd));
    printf("  dL/de = dL/dd · 1  = %s\n", num(de));
    printf("  dL/da = dL/de · b  = %s\n", num(de * vb));
    printf("  dL/db = dL/de · a  = %s\n", num(de * va));
    printf("  dL/dc = dL/dd · 1  = %s\n", num(dd));
    printf("  dL/df = d          = %s\n\n", num(vd));

    printf("the tape (node: op(operands) = value, gradient):\n");
    for (size_t i = 0; i < graph_count(g); i++) {
        node n = graph_node(g, i), ops[2];
        int k = graph_operands(g, n, ops);
        printf("  #%zu %-5s", i, graph_op_name(g, n));
        if (k == 2) printf("(#%u, #%u)", ops[0].id, ops[1].id);
        else printf("%-8s", "");
        printf("  = %s   grad %s\n", num(graph_get(g, n, 0)), num(graph_grad_get(g, n, 0)));
    }
    printf("\nbackward visits #6, #5, … #0: every node after all of its users.\n\n");
    draw_write(g);

    /* reuse: b = a + a sends two contributions into a */
    graph *h = graph_new();
    if (!h) cli_fail("out of memory");
    node x = graph_scalar(h, 3.0);
    node y = op_add(h, x, x);
    graph_backward(h, y);
    printf("a node used twice: y = x + x with x = 3\n");
    printf("  y = x + x %s   dy/dx %s   (two paths, each adds 1: gradients accumulate, +=)\n",
           num(graph_get(h, y, 0)), num(graph_grad_get(h, x, 0)));
    graph_zero_grad(h);
    node z = op_mul(h, x, x);
    graph_backward(h, z);
    printf("  z = x · x %s   dz/dx %s   (= 2x: the product rule falls out of accumulation)\n",
           num(graph_get(h, z, 0)), num(graph_grad_get(h, x, 0)));

    printf("\nsummary: L = %s, dL/da = %s, %zu nodes on the tape.\n",
           num(graph_get(g, L, 0)), num(graph_grad_get(g, a, 0)), graph_count(g));
    graph_free(g);
    graph_free(h);
    return 0;
}
