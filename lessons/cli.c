/* cli.c — option parsing for the lessons, verify and the benchmarks. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"
#include "train.h"

static const char *prog = "chainrule";
static int quick_run;   /* the program was given --quick */

const char *cli_prog(void) { return prog; }

_Noreturn void cli_fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

/* --version: one line in the GNU form, "verify (chainrule) 0.2.0". The
 * number comes from the file VERSION, passed in by the Makefile. */
#ifndef CHAINRULE_VERSION
#error "CHAINRULE_VERSION is not defined: the Makefile passes it from the file VERSION"
#endif
static _Noreturn void version(void)
{
    printf("%s (chainrule) %s\n", prog, CHAINRULE_VERSION);
    if (fflush(stdout) != 0 || ferror(stdout)) exit(2);
    exit(0);
}

void cli_train_status(int rc, const char *err)
{
    if (rc == 0) return;
    fflush(stdout);
    if (rc != TRAIN_FAULT) cli_fail("%s", err);
    fprintf(stderr, "%s: %s\n", prog, err);
    exit(CLI_EXIT_FAULT);
}

static void usage(const char *about, const cli_opt *opts)
{
    printf("%s\n\nusage: %s [options]\n\noptions:\n", about, prog);
    for (const cli_opt *o = opts; o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        printf("  %-22s %s\n", left, o->help);
    }
    printf("  %-22s %s\n", "--help", "this text");
    printf("  %-22s %s\n", "--version", "the program's version, one line");
}

static void set_value(const cli_opt *o, const char *v)
{
    char *end;
    if (o->kind == CLI_INT) {
        errno = 0;
        long x = strtol(v, &end, 10);
        if (*v == '\0' || *end != '\0' || errno || x < INT_MIN || x > INT_MAX)
            cli_fail("%s: '%s' is not a whole number", o->name, v);
        *(int *)o->dst = (int)x;
    } else if (o->kind == CLI_DOUBLE) {
        errno = 0;
        double x = strtod(v, &end);
        if (*v == '\0' || *end != '\0' || errno || !isfinite(x))
            cli_fail("%s: '%s' is not a finite number", o->name, v);
        *(double *)o->dst = x;
    } else {
        *(const char **)o->dst = v;
    }
}

int cli_parse(int argc, char **argv, const char *about, const cli_opt *opts)
{
    if (argc > 0 && argv[0]) {
        const char *slash = strrchr(argv[0], '/');
        prog = slash ? slash + 1 : argv[0];
    }
    /* Positional arguments are moved, in order, behind the options. */
    int npos = 0;
    char **pos = malloc((size_t)(argc + 1) * sizeof *pos);
    if (!pos) cli_fail("out of memory");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (++i < argc) pos[npos++] = argv[i];
            break;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') { pos[npos++] = argv[i]; continue; }
        if (strcmp(a, "--help") == 0) { usage(about, opts); free(pos); exit(0); }
        if (strcmp(a, "--version") == 0) { free(pos); version(); }
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        const cli_opt *o = opts;
        while (o->name && !(strlen(o->name) == len && strncmp(o->name, a, len) == 0)) o++;
        if (!o->name) {
            free(pos);
            cli_fail("unknown option '%.*s' (try --help)", (int)len, a);
        }
        if (o->kind == CLI_FLAG) {
            if (eq) { free(pos); cli_fail("%s takes no value", o->name); }
            *(int *)o->dst = 1;
            continue;
        }
        const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!v) { free(pos); cli_fail("%s needs a value (%s)", o->name, o->arg ? o->arg : "value"); }
        set_value(o, v);
    }
    int first = argc - npos;
    for (int k = 0; k < npos; k++) argv[first + k] = pos[k];
    free(pos);
    for (const cli_opt *o = opts; o->name; o++)
        if (o->kind == CLI_FLAG && strcmp(o->name, "--quick") == 0) quick_run = *(int *)o->dst;
    return first;
}

void cli_no_positional(int first, int argc, char **argv)
{
    if (first < argc) cli_fail("unexpected argument '%s' (try --help)", argv[first]);
}

const char *cli_data_root(const char *flag_value)
{
    if (flag_value) return flag_value;
    const char *env = getenv("CHAINRULE_DATA");
    return env && *env ? env : "data";
}

const char *cli_data_dir(void) { return quick_run ? "build/data/quick" : "build/data"; }

static void make_dir(const char *path)
{
    if (mkdir(path, 0777) != 0 && errno != EEXIST) cli_fail("%s: cannot create: %s", path, strerror(errno));
}

const char *cli_data_path(const char *name)
{
    static char path[512];
    make_dir("build");
    make_dir("build/data");
    if (quick_run) make_dir("build/data/quick");
    if ((size_t)snprintf(path, sizeof path, "%s/%s", cli_data_dir(), name) >= sizeof path)
        cli_fail("%s: data file name too long", name);
    return path;
}

FILE *cli_data_file(const char *name)
{
    const char *path = cli_data_path(name);
    FILE *f = fopen(path, "w");
    if (!f) cli_fail("%s: cannot write: %s", path, strerror(errno));
    return f;
}

void cli_data_close(FILE *f, const char *name)
{
    /* The last line says the table is whole: make plots refuses one without it. */
    size_t n = strlen(name);
    if (n >= 4 && strcmp(name + n - 4, ".dat") == 0) fputs("# end\n", f);
    if (ferror(f) | (fclose(f) != 0)) cli_fail("%s/%s: write failed", cli_data_dir(), name);
}
