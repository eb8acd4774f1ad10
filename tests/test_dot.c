/* test_dot.c — node names (the side table, rewind, rename), graph_dot (a
 * record per node, escaping, the summary above the limit, write errors),
 * and the traced sweep (same bits as graph_backward, the local derivatives
 * it reports, tensors, a leaf loss). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "dot.h"
#include "ops.h"

/* graph_dot into a string (caller frees). */
static char *dot_string(const graph *g, const graph_dot_opts *o, int *kind)
{
    FILE *f = tmpfile();
    if (!f) return NULL;
    *kind = graph_dot(g, f, o);
    long n = ftell(f);
    rewind(f);
    char *s = calloc((size_t)n + 1, 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) { free(s); s = NULL; }
    fclose(f);
    return s;
}

static int count(const char *s, const char *what)
{
    int k = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what)) k++;
    return k;
}

static void test_names(void)
{
    graph *g = graph_new();
    node a = graph_scalar(g, 1.0), b = graph_scalar(g, 2.0);
    CHECK(graph_node_name(g, a) == NULL);
    CHECK(graph_name(g, a, "a") == 0);
    CHECK(strcmp(graph_node_name(g, a), "a") == 0);
    CHECK(graph_name(g, a, "alpha") == 0);             /* rename replaces */
    CHECK(strcmp(graph_node_name(g, a), "alpha") == 0);
    CHECK(graph_name(g, b, NULL) == 0 && graph_node_name(g, b) == NULL);
    graph_mark_t m = graph_mark(g);
    node c = op_add(g, a, b);
    for (int i = 0; i < 300; i++) c = op_mul(g, c, b);   /* grows the table */
    CHECK(graph_name(g, c, "c") == 0);
    graph_rewind(g, m);                                  /* c's name goes */
    node d = op_add(g, a, b);
    for (int i = 0; i < 300; i++) d = op_mul(g, d, b);
    CHECK(d.id == c.id && graph_node_name(g, d) == NULL);
    CHECK(strcmp(graph_node_name(g, a), "alpha") == 0);  /* a survives */
    CHECK(graph_name(g, a, NULL) == 0 && graph_node_name(g, a) == NULL);
    graph_free(g);
}

static void test_dot(void)
{
    graph *g = graph_new();
    double v[6] = {1, 2, 3, 4, 5, 6};
    node x = graph_leaf(g, 2, 3, v), s = op_sum(g, op_tanh(g, x));
    graph_name(g, x, "x{1}|<in>\"q\"");
    graph_backward(g, s);
    int kind;
    char *out = dot_string(g, NULL, &kind);
    CHECK(out && kind == GRAPH_DOT_NODES);
    if (out) {
        CHECK(strncmp(out, "digraph tape {", 14) == 0);
        CHECK(count(out, " [label=") == 3);              /* a record per node */
        CHECK(count(out, " -> ") == 2);                  /* operand → result */
        CHECK(strstr(out, "x\\{1\\}\\|\\<in\\>\\\"q\\\"") != NULL);   /* escaped */
        CHECK(strstr(out, "leaf  2×3") != NULL);
        CHECK(strstr(out, "value [1.0000, 2.0000, 3.0000, 4.0000, …]") != NULL);
        CHECK(strstr(out, "tanh  2×3") != NULL);
        CHECK(strstr(out, "sum|value ") != NULL);
        CHECK(strstr(out, "n0 -> n1;") && strstr(out, "n1 -> n2;"));
        free(out);
    }
    graph_dot_opts six = {.entries = 6};
    out = dot_string(g, &six, &kind);
    CHECK(out && strstr(out, "value [1.0000, 2.0000, 3.0000, 4.0000, 5.0000, 6.0000]|"));
    free(out);

    /* above the limit: one box per op, the links counted, said so */
    for (int i = 0; i < 50; i++) s = op_add(g, s, op_mul(g, s, s));
    graph_dot_opts small = {.max_nodes = 20, .title = "big"};
    out = dot_string(g, &small, &kind);
    CHECK(out && kind == GRAPH_DOT_SUMMARY);
    if (out) {
        CHECK(strstr(out, "103 nodes: more than the 20 drawn one by one") != NULL);
        CHECK(strstr(out, "op_mul [label=\"mul|50 nodes|50 elements\"]") != NULL);
        CHECK(strstr(out, "op_add -> op_mul [label=\"98\"]") != NULL);   /* 49 adds, each used twice */
        CHECK(strstr(out, "label=\"big\"") != NULL);
        CHECK(count(out, " elements\"") == 5);               /* leaf tanh sum mul add */
        free(out);
    }
    FILE *full = fopen("/dev/full", "w");
    if (full) {
        setvbuf(full, NULL, _IONBF, 0);
        CHECK(graph_dot(g, full, NULL) == GRAPH_DOT_WRITE_ERROR);
        fclose(full);
    }
    graph_free(g);
}

typedef struct { int calls; uint32_t last; graph_trace_step steps[16]; } seen;

static void record(const graph *g, const graph_trace_step *s, void *ctx)
{
    (void)g;
    seen *w = ctx;
    if (w->calls < 16) w->steps[w->calls] = *s;
    w->calls++;
    w->last = s->n.id;
}

static void test_trace(void)
{
    /* L = (a·b + c)·f, lesson 01's graph: traced and untraced, same bits */
    graph *g = graph_new();
    node a = graph_scalar(g, 2.0), b = graph_scalar(g, -3.0), c = graph_scalar(g, 10.0);
    node f = graph_scalar(g, -2.0);
    node e = op_mul(g, a, b), d = op_div(g, op_add(g, e, c), f), L = op_mul(g, d, d);
    graph_backward(g, L);
    double want[9];
    for (size_t i = 0; i < graph_count(g); i++) want[i] = graph_grad_get(g, graph_node(g, i), 0);
    graph_zero_grad(g);
    seen w = {0};
    graph_backward_trace(g, L, record, &w);
    CHECK(w.calls == (int)graph_count(g) && w.last == 0);
    for (size_t i = 0; i < graph_count(g); i++)
        CHECK(memcmp(&want[i], &graph_grad(g, graph_node(g, i))[0], sizeof(double)) == 0);
    const graph_trace_step *sL = &w.steps[0], *sd = &w.steps[1];
    CHECK(sL->n.id == L.id && sL->scalar && sL->nops == 2 && sL->grad == 1.0);
    CHECK_NEAR(sL->local[0], 2 * graph_get(g, d, 0), 0);      /* d·d: the total, 2d */
    CHECK(sd->n.id == d.id && sd->nops == 2);
    CHECK_NEAR(sd->local[0], 1 / -2.0, 1e-15);                  /* ∂(x/f)/∂x = 1/f */
    CHECK_NEAR(sd->local[1], -graph_get(g, d, 0) / -2.0, 1e-15); /* ∂(x/f)/∂f = −d/f */
    CHECK_NEAR(sd->after[1] - sd->before[1], sd->grad * sd->local[1], 1e-12);
    /* a tensor step reports which node ran, not numbers */
    graph *h = graph_new();
    double v[3] = {1, -2, 3};
    node x = graph_leaf(h, 1, 3, v), s = op_sum(h, op_mul(h, x, x));
    seen t = {0};
    graph_backward_trace(h, s, record, &t);
    CHECK(t.calls == 3 && !t.steps[0].scalar && !t.steps[1].scalar && t.steps[2].nops == 0);
    CHECK(graph_grad(h, x)[1] == -4.0);
    /* a leaf loss: one step, the seed */
    seen l = {0};
    graph_free(h);
    h = graph_new();
    node only = graph_scalar(h, 5.0);
    graph_backward_trace(h, only, record, &l);
    CHECK(l.calls == 1 && graph_grad_get(h, only, 0) == 1.0);
    /* the printed line of the spec */
    FILE *out = tmpfile();
    if (out) {
        graph *k = graph_new();
        node p = graph_scalar(k, 4.0), q = graph_scalar(k, -2.0), r = op_mul(k, p, q);
        seen z = {0};
        graph_backward_trace(k, r, record, &z);
        graph_trace_print(out, k, &z.steps[0]);
        char line[256] = "";
        rewind(out);
        CHECK(fgets(line, sizeof line, out) != NULL);
        CHECK(strstr(line, "#2 mul     dL/d#0 += dL/d#2 · v#1 = 1.0000000 · -2.0000000 = -2.0000000") == line);
        fclose(out);
        graph_free(k);
    }
    graph_free(h);
    graph_free(g);
}

int main(void)
{
    test_names();
    test_dot();
    test_trace();
    return check_report("test_dot");
}
