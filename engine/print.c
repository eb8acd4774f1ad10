/* print.c — the lesson number format. */
#include <string.h>
#include "print.h"

char *print_fmt(char *buf, double x, int decimals)
{
    snprintf(buf, 64, "%.*f", decimals, x);
    /* −0.0 and tiny negatives that round to zero print as a plain zero */
    if (buf[0] == '-' && strspn(buf + 1, "0.") == strlen(buf + 1)) memmove(buf, buf + 1, strlen(buf));
    return buf;
}

void print_num(FILE *f, double x)
{
    char b[64];
    fputs(print_fmt(b, x, 7), f);
}

void print_vec(FILE *f, const double *v, int n)
{
    fputc('[', f);
    for (int i = 0; i < n; i++) {
        if (i) fputs(", ", f);
        print_num(f, v[i]);
    }
    fputc(']', f);
}

void print_mat(FILE *f, const double *m, int rows, int cols)
{
    fputc('[', f);
    for (int i = 0; i < rows; i++) {
        if (i) fputs(", ", f);
        print_vec(f, m + (size_t)i * cols, cols);
    }
    fputc(']', f);
}

static void print_data(FILE *f, const double *v, int rows, int cols)
{
    if (rows == 1 && cols == 1) print_num(f, v[0]);
    else if (rows == 1 || cols == 1) print_vec(f, v, rows * cols);
    else print_mat(f, v, rows, cols);
}

void print_value(FILE *f, const graph *g, node n)
{
    print_data(f, graph_val(g, n), graph_rows(g, n), graph_cols(g, n));
}

void print_gradient(FILE *f, const graph *g, node n)
{
    print_data(f, graph_grad(g, n), graph_rows(g, n), graph_cols(g, n));
}

void print_labeled(FILE *f, const char *label, int width, const graph *g, node n)
{
    fprintf(f, "%-*s ", width, label);
    print_value(f, g, n);
    fputc('\n', f);
}
