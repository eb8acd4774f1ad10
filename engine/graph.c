/* graph.c — the tape: node storage, leaves, the reverse sweep
 * (graph_backward_seed) and its watched twin (graph_backward_trace),
 * forward replay, mark/rewind, node names. What each operation computes,
 * forward and backward, is in ops.c. */
#include <stdarg.h>
#include <string.h>
#include "tape.h"

graph *graph_new(void)
{
    graph *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->cap = 1024;
    g->ecap = 4096;
    g->nodes = malloc(g->cap * sizeof *g->nodes);
    g->val = malloc(g->ecap * sizeof *g->val);
    g->grad = malloc(g->ecap * sizeof *g->grad);
    if (!g->nodes || !g->val || !g->grad) { graph_free(g); return NULL; }
    return g;
}

/* Frees the names of nodes from..names_end. */
static void drop_names(graph *g, uint32_t from)
{
    for (uint32_t i = from; i < g->names_end; i++) {
        free(g->names[i]);
        g->names[i] = NULL;
    }
    if (g->names_end > from) g->names_end = from;
}

void graph_free(graph *g)
{
    if (!g) return;
    drop_names(g, 0);
    free(g->names);
    free(g->nodes);
    free(g->val);
    free(g->grad);
    free(g->aux);
    free(g);
}

static void grow_nodes(graph *g)
{
    uint32_t cap = g->cap * 2;
    ASSERT(cap > g->cap, "tape full (%u nodes)", g->n);
    nrec *p = realloc(g->nodes, (size_t)cap * sizeof *p);
    ASSERT(p, "out of memory growing the tape to %u nodes", cap);
    g->nodes = p;
    g->cap = cap;
}

static void grow_elems(graph *g, uint64_t need)
{
    uint64_t cap = g->ecap;
    while (cap < need) cap *= 2;
    ASSERT(cap <= UINT32_MAX, "tape full (%llu elements)", (unsigned long long)need);
    double *v = realloc(g->val, cap * sizeof *v);
    ASSERT(v, "out of memory growing the tape to %llu elements", (unsigned long long)cap);
    g->val = v;
    double *d = realloc(g->grad, cap * sizeof *d);
    ASSERT(d, "out of memory growing the tape to %llu elements", (unsigned long long)cap);
    g->grad = d;
    g->ecap = (uint32_t)cap;
}

void tape_grow(graph *g, uint64_t size)
{
    ASSERT(size > 0, "empty shape: a node needs at least one element");
    if (g->n == g->cap) grow_nodes(g);
    if (g->ne + size > g->ecap) grow_elems(g, g->ne + size);
}

node graph_leaf(graph *g, int rows, int cols, const double *data)
{
    ASSERT(rows > 0 && cols > 0, "graph_leaf: bad shape %dx%d", rows, cols);
    uint32_t i = tape_push(g, OP_LEAF, (uint32_t)rows, (uint32_t)cols, NO_NODE, NO_NODE, 0);
    double *v = g->val + g->nodes[i].off;
    size_t size = (size_t)rows * (size_t)cols;
    if (data) memcpy(v, data, size * sizeof *v);
    else memset(v, 0, size * sizeof *v);
    return (node){i};
}

node graph_scalar(graph *g, double v)
{
    uint32_t i = tape_push(g, OP_LEAF, 1, 1, NO_NODE, NO_NODE, 0);
    g->val[g->nodes[i].off] = v;
    return (node){i};
}

int graph_rows(const graph *g, node n) { return (int)tape_rec(g, n)->rows; }
int graph_cols(const graph *g, node n) { return (int)tape_rec(g, n)->cols; }
int graph_size(const graph *g, node n)
{
    const nrec *r = tape_rec(g, n);
    return (int)(r->rows * r->cols);
}
int graph_is_leaf(const graph *g, node n) { return tape_rec(g, n)->op == OP_LEAF; }
const char *graph_op_name(const graph *g, node n) { return tape_op_name(tape_rec(g, n)->op); }
size_t graph_count(const graph *g) { return g->n; }
size_t graph_bytes(const graph *g)
{
    return sizeof *g + (size_t)g->cap * sizeof *g->nodes + 2 * (size_t)g->ecap * sizeof(double);
}
node graph_node(const graph *g, size_t i)
{
    ASSERT(i < g->n, "graph_node: index %zu past the tape's %u nodes", i, g->n);
    return (node){(uint32_t)i};
}
int graph_operands(const graph *g, node n, node out[2])
{
    const nrec *r = tape_rec(g, n);
    int k = 0;
    if (r->a != NO_NODE) out[k++] = (node){r->a};
    if (r->b != NO_NODE) out[k++] = (node){r->b};
    return k;
}

double *graph_val(const graph *g, node n) { return g->val + tape_rec(g, n)->off; }
double *graph_grad(const graph *g, node n) { return g->grad + tape_rec(g, n)->off; }

double graph_get(const graph *g, node n, int i)
{
    const nrec *r = tape_rec(g, n);
    ASSERT(i >= 0 && (uint32_t)i < r->rows * r->cols,
                "graph_get: element %d of a %ux%u node", i, r->rows, r->cols);
    return g->val[r->off + (uint32_t)i];
}

double graph_grad_get(const graph *g, node n, int i)
{
    const nrec *r = tape_rec(g, n);
    ASSERT(i >= 0 && (uint32_t)i < r->rows * r->cols,
                "graph_grad_get: element %d of a %ux%u node", i, r->rows, r->cols);
    return g->grad[r->off + (uint32_t)i];
}

/* Non-leaf gradients of the nodes before `end` are set to zero before a
 * sweep, so a second sweep gives the same bits as the first and the
 * intermediate gradients stay readable afterwards; leaves accumulate.
 * Only nodes below g->dirty can hold old gradients (a node is born with a
 * zero gradient), so the usual build-sweep-rewind step skips this pass. */
static void zero_inner(graph *g, uint32_t end)
{
    for (uint32_t i = 0; i < end; i++) {
        const nrec *r = &g->nodes[i];
        if (r->op == OP_LEAF) continue;
        uint32_t size = r->rows * r->cols;
        if (size == 1) g->grad[r->off] = 0.0;
        else memset(g->grad + r->off, 0, size * sizeof(double));
    }
}

void graph_backward(graph *g, node loss)
{
    const nrec *r = tape_rec(g, loss);
    ASSERT(r->rows == 1 && r->cols == 1,
                "graph_backward: the loss must be 1x1, got %ux%u (a %s node)",
                r->rows, r->cols, tape_op_name(r->op));
    double one = 1.0;
    graph_backward_seed(g, loss, &one);
}

/* Zeroes what an earlier sweep left and seeds dL/dout; returns 0 when out
 * is a leaf (the seed is all there is to the sweep). */
static int sweep_begin(graph *g, node out, const double *seed)
{
    const nrec *r = tape_rec(g, out);
    uint32_t size = r->rows * r->cols;
    zero_inner(g, out.id < g->dirty ? out.id : g->dirty);
    if (out.id >= g->dirty) g->dirty = out.id + 1;
    if (r->op == OP_LEAF) {          /* dL/dL: a leaf accumulates */
        for (uint32_t j = 0; j < size; j++) g->grad[r->off + j] += seed[j];
        return 0;
    }
    memcpy(g->grad + r->off, seed, size * sizeof(double));
    return 1;
}

void graph_backward_seed(graph *g, node out, const double *seed)
{
    if (!sweep_begin(g, out, seed)) return;
    /* The backward pass. Creation order is a topological order (a node only
     * points to older nodes), so by the time the loop reaches a node every
     * node that uses it has already added its share: its gradient is
     * complete, and it can pass it on to its own operands. */
    for (uint32_t i = out.id + 1; i-- > 0;)
        backward_node(g, i);
}

/* Node i's step, reported. For an all-1×1 node the local derivatives are
 * found by running the step once with dL/dn = 1 on zeroed operand
 * gradients (every step is linear in dL/dn), then the real step runs on
 * the restored gradients, so the sweep's bits are those of graph_backward.
 * When both operands are one node (x·x) both local[] hold its total
 * derivative (2x). */
static void trace_node(graph *g, uint32_t i, graph_trace_fn fn, void *ctx)
{
    const nrec *r = &g->nodes[i];
    graph_trace_step s = {.n = {i}};
    s.nops = graph_operands(g, s.n, s.op);
    s.scalar = r->rows * r->cols == 1;
    for (int k = 0; k < s.nops; k++) s.scalar &= graph_size(g, s.op[k]) == 1;
    double *gr = g->grad;
    uint32_t off[2] = {0, 0};
    for (int k = 0; k < s.nops; k++) off[k] = g->nodes[s.op[k].id].off;
    if (s.scalar) {
        s.grad = gr[r->off];
        for (int k = 0; k < s.nops; k++) s.before[k] = gr[off[k]];
        if (s.nops > 0) {
            gr[r->off] = 1.0;
            for (int k = 0; k < s.nops; k++) gr[off[k]] = 0.0;
            backward_node(g, i);
            for (int k = 0; k < s.nops; k++) s.local[k] = gr[off[k]];
            for (int k = 0; k < s.nops; k++) gr[off[k]] = s.before[k];
            gr[r->off] = s.grad;
        }
    }
    backward_node(g, i);
    if (s.scalar)
        for (int k = 0; k < s.nops; k++) s.after[k] = gr[off[k]];
    fn(g, &s, ctx);
}

void graph_backward_trace(graph *g, node loss, graph_trace_fn fn, void *ctx)
{
    const nrec *r = tape_rec(g, loss);
    ASSERT(r->rows == 1 && r->cols == 1,
           "graph_backward_trace: the loss must be 1x1, got %ux%u (a %s node)",
           r->rows, r->cols, tape_op_name(r->op));
    ASSERT(fn, "graph_backward_trace: no callback");
    double one = 1.0;
    if (!sweep_begin(g, loss, &one)) {
        trace_node(g, loss.id, fn, ctx);
        return;
    }
    /* graph_backward_seed's loop, with the report after each step */
    for (uint32_t i = loss.id + 1; i-- > 0;)
        trace_node(g, i, fn, ctx);
}

void graph_zero_grad(graph *g)
{
    memset(g->grad, 0, (size_t)g->ne * sizeof(double));
    g->dirty = 0;
}

void graph_forward(graph *g)
{
    for (uint32_t i = 0; i < g->n; i++)
        if (g->nodes[i].op != OP_LEAF) ops_forward(g, i);
}

graph_mark_t graph_mark(const graph *g)
{
    return (graph_mark_t){g->n, g->ne, g->na};
}

void graph_rewind(graph *g, graph_mark_t m)
{
    ASSERT(m.nodes <= g->n && m.elems <= g->ne,
                "graph_rewind: mark (%u nodes) is ahead of the tape (%u nodes)", m.nodes, g->n);
    g->n = m.nodes;
    g->ne = m.elems;
    g->na = m.aux;
    if (g->dirty > m.nodes) g->dirty = m.nodes;
    drop_names(g, m.nodes);
}

int graph_name(graph *g, node n, const char *name)
{
    tape_rec(g, n);
    if (n.id >= g->names_cap) {
        if (!name) return 0;
        uint64_t cap = g->names_cap ? g->names_cap : 64;
        while (cap <= n.id) cap *= 2;
        if (cap > g->cap) cap = g->cap;   /* never more names than nodes fit */
        char **p = realloc(g->names, (size_t)cap * sizeof *p);
        if (!p) return -1;
        memset(p + g->names_cap, 0, (size_t)(cap - g->names_cap) * sizeof *p);
        g->names = p;
        g->names_cap = (uint32_t)cap;
    }
    char *copy = NULL;
    if (name) {
        size_t len = strlen(name) + 1;
        copy = malloc(len);
        if (!copy) return -1;
        memcpy(copy, name, len);
    }
    free(g->names[n.id]);
    g->names[n.id] = copy;
    if (copy && n.id >= g->names_end) g->names_end = n.id + 1;
    return 0;
}

const char *graph_node_name(const graph *g, node n)
{
    tape_rec(g, n);
    return n.id < g->names_cap ? g->names[n.id] : NULL;
}
