/* print.h — the number format of the lessons: 7 decimals, vectors as
 * [0.8807971, 0.8807971], matrices as [[…], […]], and a signed zero (or
 * anything that rounds to −0.0000000) printed as 0.0000000.
 *
 * The only printing the engine does, and only when asked.
 */
#ifndef CHAINRULE_PRINT_H
#define CHAINRULE_PRINT_H

#include <stdio.h>
#include "graph.h"

/* Formats x with `decimals` places into buf (at least 64 bytes); returns buf. */
char *print_fmt(char *buf, double x, int decimals);

void print_num(FILE *f, double x);                         /* 0.6931472 */
void print_vec(FILE *f, const double *v, int n);           /* [a, b, c] */
void print_mat(FILE *f, const double *m, int rows, int cols);   /* [[…], […]] */

/* A node's value (or gradient): a number if 1×1, a vector if one row or
 * one column, a matrix otherwise. No newline. */
void print_value(FILE *f, const graph *g, node n);
void print_gradient(FILE *f, const graph *g, node n);

/* "label  value\n", the label padded to `width`. */
void print_labeled(FILE *f, const char *label, int width, const graph *g, node n);

#endif
