/* tape.h — the tape's inside, shared by graph.c and ops.c only. */
#ifndef CHAINRULE_TAPE_H
#define CHAINRULE_TAPE_H

#include <stdio.h>
#include <stdlib.h>
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
};

/* Programmer errors: print file:line and the reason, then abort, also under
 * NDEBUG. The only printing the library does, on its way down. */
#define TAPE_FAIL(...) tape_fail(__FILE__, __LINE__, __VA_ARGS__)
#define TAPE_ASSERT(cond, ...) do { if (!(cond)) TAPE_FAIL(__VA_ARGS__); } while (0)
_Noreturn void tape_fail(const char *file, int line, const char *fmt, ...);

/* Appends a node of rows × cols with zeroed gradient; its values are left
 * for the caller to fill. Returns its index. */
uint32_t tape_push(graph *g, int op, uint32_t rows, uint32_t cols,
                   uint32_t a, uint32_t b, double k);

/* Forward value of node i from its operands; backward: adds node i's
 * gradient into its operands. Both in ops.c. */
void ops_forward(graph *g, uint32_t i);
void ops_backward(graph *g, uint32_t i);

static inline nrec *tape_rec(const graph *g, node n)
{
    if (n.id >= g->n) TAPE_FAIL("node %u is not on the tape (%u nodes; rewound?)", n.id, g->n);
    return &g->nodes[n.id];
}

#endif
