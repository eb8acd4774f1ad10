/* graph.h — the tape: an append-only arena of nodes in double precision.
 *
 * A node is a rows × cols tensor (a scalar is 1 × 1) made by a leaf
 * constructor or an operation (ops.h). A node only points to older nodes, so
 * creation order is already a topological order and backward is one loop
 * from the loss down to node 0: no recursion, no sort, no hash set, and the
 * gradients are summed in the same order on every run.
 *
 * Not here: the operations themselves (ops.h), gradient checks (gradcheck.h),
 * printing (print.h), the tape as a picture and the traced sweep as text
 * (dot.h). The library never prints and never exits; programmer
 * errors (shape mismatch, backward from a non-scalar) stop with file:line.
 */
#ifndef CHAINRULE_GRAPH_H
#define CHAINRULE_GRAPH_H

#include <stddef.h>
#include <stdint.h>

typedef struct graph graph;

/* A stable handle to a node: an index into the tape, so it stays valid when
 * the arena grows (pointers into values do not; see graph_val). */
typedef struct { uint32_t id; } node;

typedef struct { uint32_t nodes, elems, aux; } graph_mark_t;

/* A new empty tape, or NULL when out of memory. Pair with graph_free. */
graph *graph_new(void);
/* Releases the tape and every node in it. graph_free(NULL) is a no-op. */
void graph_free(graph *g);

/* Leaves: inputs, parameters and constants. data (rows*cols values,
 * row-major) is copied; NULL means zeros. Gradients of leaves accumulate
 * across backward calls until graph_zero_grad. */
node graph_leaf(graph *g, int rows, int cols, const double *data);
node graph_scalar(graph *g, double v);

int graph_rows(const graph *g, node n);
int graph_cols(const graph *g, node n);
int graph_size(const graph *g, node n);            /* rows * cols */
int graph_is_leaf(const graph *g, node n);
const char *graph_op_name(const graph *g, node n);  /* "leaf", "mul", … */
size_t graph_count(const graph *g);                  /* nodes on the tape */
size_t graph_bytes(const graph *g);                  /* bytes the tape holds */
/* The i-th node on the tape (0 ≤ i < graph_count), for walking it. */
node graph_node(const graph *g, size_t i);
/* The operands of n (how many: 0, 1 or 2), for printing the tape. */
int graph_operands(const graph *g, node n, node out[2]);

/* Values and gradients, row-major. The pointer is valid until the next node
 * is created (the arena may move); do not free. */
double *graph_val(const graph *g, node n);
double *graph_grad(const graph *g, node n);
/* The single value / gradient of a 1 × 1 node, or element i of any node. */
double graph_get(const graph *g, node n, int i);
double graph_grad_get(const graph *g, node n, int i);

/* Reverse sweep from the 1 × 1 node loss: seeds dL/dL = 1, sets every
 * non-leaf gradient up to the loss afresh and adds into the leaves.
 * Stops with a message when loss is not 1 × 1. */
void graph_backward(graph *g, node loss);
/* The same sweep seeded with dL/dout = seed (graph_size(out) values), used
 * for Jacobians: one sweep per output element. */
void graph_backward_seed(graph *g, node out, const double *seed);
/* Sets every gradient on the tape to zero. */
void graph_zero_grad(graph *g);

/* Recomputes every non-leaf value in tape order from the current leaf
 * values — a replay of the forward pass, e.g. after nudging a parameter. */
void graph_forward(graph *g);

/* mark/rewind: graph_rewind(g, m) drops every node made after m was taken
 * and keeps the ones before (the parameters), and their gradients. Memory
 * is kept for reuse, so a training loop allocates nothing per step.
 * Handles made after the mark become invalid. */
graph_mark_t graph_mark(const graph *g);
void graph_rewind(graph *g, graph_mark_t m);

/* Names, for pictures and traces (dot.h): graph_name gives node n a name
 * ("k1", copied; NULL removes it; renaming replaces). Names live in a side
 * table, not in the node, so an unnamed tape costs nothing; graph_rewind
 * drops the names of the nodes it drops. Returns 0, or -1 when out of
 * memory (the node keeps its old name). graph_node_name: the name, or NULL;
 * valid until the node is renamed, rewound or freed; do not free. */
int graph_name(graph *g, node n, const char *name);
const char *graph_node_name(const graph *g, node n);

/* The backward sweep, watched: the same sweep as graph_backward (same
 * bits), calling fn once per node from the loss down to node 0, right
 * after that node's step. graph_backward itself never calls anything, so
 * tracing costs nothing when unused. For a 1×1 node with 1×1 operands the
 * step tells the local derivatives and what was added; for larger nodes
 * only which node ran (scalar = 0). */
typedef struct {
    node n;              /* the node whose step just ran */
    int nops;            /* operands: 0 (a leaf), 1 or 2 */
    node op[2];          /* the operands */
    int scalar;          /* 1: n and its operands are 1×1, the numbers below hold */
    double grad;         /* dL/dn, what the step passed on */
    double local[2];     /* ∂n/∂op[k] at the current values */
    double before[2], after[2];   /* dL/dop[k] before and after the step */
} graph_trace_step;
typedef void (*graph_trace_fn)(const graph *g, const graph_trace_step *s, void *ctx);
void graph_backward_trace(graph *g, node loss, graph_trace_fn fn, void *ctx);

#endif
