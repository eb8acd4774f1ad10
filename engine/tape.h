/* tape.h — the tape's inside, shared by graph.c and ops.c only. */
#ifndef CHAINRULE_TAPE_H
#define CHAINRULE_TAPE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "graph.h"
#include "arith.h"

#define NO_NODE UINT32_MAX

/* Every operation a node can record. Private: a program asks a node for
 * its name (graph_op_name), never for its number. To add an op: a case
 * here, its name in ops.c's table, its forward/backward function and its
 * case in ops.c's run(), and its constructor in ops.h / ops.c. */
typedef enum {
    OP_LEAF,
    OP_ADD, OP_SUB, OP_MUL, OP_DIV,
    OP_NEG, OP_SCALE, OP_POW,
    OP_EXP, OP_LOG, OP_SQRT, OP_ABS, OP_SIN, OP_COS, OP_SINH, OP_COSH,
    OP_TANH, OP_SIGMOID, OP_RELU, OP_STANH,
    OP_MATMUL, OP_TRANSPOSE,
    OP_SUM, OP_SUM_ROWS, OP_SUM_COLS, OP_MEAN,
    OP_SOFTMAX, OP_LOG_SOFTMAX, OP_SOFTMAX_CE, OP_MSE,
    OP_RESHAPE, OP_CONV2D, OP_MAXPOOL2D, OP_BN_TRAIN, OP_BN_INFER,
    OP_COUNT
} op_kind;

typedef struct {
    uint32_t off;        /* first element in g->val and g->grad */
    uint32_t rows, cols;
    uint32_t a, b;       /* operands: older nodes, or NO_NODE */
    uint8_t op;          /* op_kind */
    double k;            /* the op's constant: scale factor, exponent */
} nrec;                  /* 32 bytes; a scalar node costs 32 + 2·8 */

struct graph {
    nrec *nodes;         /* the tape, in creation order; owned */
    double *val, *grad;  /* element arenas, same offsets; owned */
    uint32_t n, cap;     /* nodes used / allocated */
    uint32_t ne, ecap;   /* elements used / allocated */
    uint32_t dirty;      /* nodes below this may hold inner gradients from
                            an earlier sweep; above it all are still zero */
    char **names;        /* names[i]: node i's name (graph_name) or NULL;
                            a side table so a node stays 32 bytes; NULL
                            until the first name; owned, like each name */
    uint32_t names_cap;  /* entries allocated in names */
    uint32_t names_end;  /* no name at or above this node: rewind stops here */
    uint32_t *aux;       /* side array of per-op shape parameters (conv,
                            pool: H, W, C, k, …), so the node record stays
                            32 bytes; a node's k holds its first index; owned */
    uint32_t na, acap;   /* aux entries used / allocated; rewound with the tape */
};

#include "fail.h"       /* ASSERT / FAIL: programmer errors, file:line */

/* Make room for one more node of `size` elements (out of line: rare). */
void tape_grow(graph *g, uint64_t size);

/* Appends a node of rows × cols with zeroed gradient; its values are left
 * for the caller to fill. Returns its index. Inline: it runs once per node
 * and is most of the cost of a scalar node. */
static inline uint32_t tape_push(graph *g, int op, uint32_t rows, uint32_t cols,
                                 uint32_t a, uint32_t b, double k)
{
    uint64_t size = (uint64_t)rows * cols;
    if (g->n == g->cap || g->ne + size > g->ecap || size == 0) tape_grow(g, size);
    uint32_t i = g->n++;
    nrec *r = &g->nodes[i];
    r->off = g->ne;
    r->rows = rows;
    r->cols = cols;
    r->a = a;
    r->b = b;
    r->op = (uint8_t)op;
    r->k = k;
    if (size == 1) g->grad[g->ne] = 0.0;
    else memset(g->grad + g->ne, 0, size * sizeof *g->grad);
    g->ne += (uint32_t)size;
    return i;
}

/* The op's name as printed ("add", "softmax_ce", …), "?" for no op. */
const char *tape_op_name(unsigned op);

/* Forward value of node i from its operands, and node r's backward step:
 * add its gradient into its operands' (gradients accumulate, +=). Both in
 * ops.c, one switch over every op. */
void ops_forward(graph *g, uint32_t i);
void ops_backward(graph *g, const nrec *r);

static inline nrec *tape_rec(const graph *g, node n)
{
    if (n.id >= g->n) FAIL("node %u is not on the tape (%u nodes; rewound?)", n.id, g->n);
    return &g->nodes[n.id];
}

/* One node's step of the reverse sweep (graph.c's loop): a leaf passes
 * nothing on; every other node adds dL/d(node) · d(node)/d(operand) into
 * each operand's gradient. A 1×1 add, sub, mul or div — most of a scalar
 * graph — applies its derivative from arith.h right here; that inline fast
 * path exists only for speed and gives the same bits as ops_backward. */
static inline void backward_node(graph *g, uint32_t i)
{
    const nrec *r = &g->nodes[i];
    if (r->op == OP_LEAF) return;
    if (r->rows == 1 && r->cols == 1 && r->op <= OP_DIV) {
        double *gr = g->grad, *v = g->val;
        uint32_t oa = g->nodes[r->a].off, ob = g->nodes[r->b].off;
        double gy = gr[r->off], a = v[oa], b = v[ob], y = v[r->off];
        switch ((op_kind)r->op) {
        case OP_ADD: add_d(gy, a, b, y, &gr[oa], &gr[ob]); return;
        case OP_SUB: sub_d(gy, a, b, y, &gr[oa], &gr[ob]); return;
        case OP_MUL: mul_d(gy, a, b, y, &gr[oa], &gr[ob]); return;
        case OP_DIV: div_d(gy, a, b, y, &gr[oa], &gr[ob]); return;
        default: break;
        }
    }
    ops_backward(g, r);
}

#endif
