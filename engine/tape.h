/* tape.h — the tape's inside, shared by graph.c and ops.c only. */
#ifndef CHAINRULE_TAPE_H
#define CHAINRULE_TAPE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "graph.h"

#define NO_NODE UINT32_MAX

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

/* Forward value of node i from its operands; the reverse loop from node
 * `top` down to node 0, each node adding its gradient into its operands.
 * Both in ops.c, where every op is inlined into one switch. */
void ops_forward(graph *g, uint32_t i);
void ops_sweep(graph *g, uint32_t top);

static inline nrec *tape_rec(const graph *g, node n)
{
    if (n.id >= g->n) FAIL("node %u is not on the tape (%u nodes; rewound?)", n.id, g->n);
    return &g->nodes[n.id];
}

#endif
