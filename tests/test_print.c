#define _POSIX_C_SOURCE 200809L
/* test_print.c — the lesson number format. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "print.h"

static void fmt_is(double x, const char *want)
{
    char b[64];
    print_fmt(b, x, 7);
    if (strcmp(b, want) != 0) printf("print_fmt(%.17g) = \"%s\", want \"%s\"\n", x, b, want);
    CHECK(strcmp(b, want) == 0);
}

int main(void)
{
    fmt_is(0.6931471805599453, "0.6931472");
    fmt_is(-0.8807970779778823, "-0.8807971");
    fmt_is(0.0, "0.0000000");
    fmt_is(-0.0, "0.0000000");              /* signed zero prints as 0 */
    fmt_is(-4e-8, "0.0000000");             /* so does what rounds to −0 */
    fmt_is(-5.1e-8, "-0.0000001");
    fmt_is(12345.5, "12345.5000000");

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    double v[3] = {2, -0.0, 0.8807971}, m[4] = {1, -1, 0.5, -0.25};
    print_vec(f, v, 3);
    fputc('|', f);
    print_mat(f, m, 2, 2);
    fputc('|', f);
    print_num(f, -0.0);
    fclose(f);
    const char *want = "[2.0000000, 0.0000000, 0.8807971]|[[1.0000000, -1.0000000], [0.5000000, -0.2500000]]|0.0000000";
    if (strcmp(buf, want) != 0) printf("got  %s\nwant %s\n", buf, want);
    CHECK(strcmp(buf, want) == 0);
    free(buf);
    return check_report("test_print");
}
