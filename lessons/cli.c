/* cli.c — option parsing for the lessons, verify and the benchmarks; the
 * check of standard output at exit; the plot tables written atomically. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "train.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

static const char *prog = "chainrule";
static int quick_run;   /* the program was given --quick */
static int quiet_exit;  /* cli_fail or --help: no elapsed-time line */
static double t_start;  /* when cli_parse ran */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The options the command line set, by their destination (cli_given). */
#define MAX_GIVEN 64
static const void *given[MAX_GIVEN];
static int n_given;

/* Plot tables open for writing: the temporary name and the final one. */
#define MAX_OPEN 16
static struct { FILE *f; char tmp[PATH_MAX], path[PATH_MAX]; } open_files[MAX_OPEN];

const char *cli_prog(void) { return prog; }

/* Removes the temporary files of tables never closed (a run that failed). */
static void remove_temporaries(void)
{
    for (int i = 0; i < MAX_OPEN; i++)
        if (open_files[i].f) {
            fclose(open_files[i].f);
            open_files[i].f = NULL;
            remove(open_files[i].tmp);
        }
}

_Noreturn void cli_fail(const char *fmt, ...)
{
    va_list ap;
    quiet_exit = 1;
    fflush(stdout);
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
    quiet_exit = 1;
    fflush(stdout);
    if (rc != TRAIN_FAULT) cli_fail("%s", err);
    fprintf(stderr, "%s: %s\n", prog, err);
    exit(CLI_EXIT_FAULT);
}

/* At exit: output that never reached its destination (a full disk,
 * /dev/full, a closed descriptor) is an error, not a silent success. */
static void check_stdout(void)
{
    remove_temporaries();
    errno = 0;
    int bad = fflush(stdout) != 0 || ferror(stdout);
    int err = errno;
    if (fclose(stdout) != 0 && !bad) { bad = 1; err = errno; }
    if (bad) {
        fprintf(stderr, "%s: error writing standard output%s%s\n", prog, err ? ": " : "",
                err ? strerror(err) : "");
        _exit(2);
    }
    /* A lesson (NN_topic) ends with its elapsed time, on stderr so that the
     * golden outputs stay deterministic. */
    if (!quiet_exit && prog[0] >= '0' && prog[0] <= '9' && prog[1] >= '0' && prog[1] <= '9' && prog[2] == '_')
        fprintf(stderr, "%s: %.1f s\n", prog, now() - t_start);
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
        if (*v == '\0' || *end != '\0')
            cli_fail("%s: '%s' is not a whole number", o->name, v);
        if (errno || x < INT_MIN || x > INT_MAX)
            cli_fail("%s: '%s' is out of range (at most %d)", o->name, v, INT_MAX);
        /* A seed is a count of draws to skip, never negative: one rule for
         * every program, so that no program prints -1 as 2^64 − 1. */
        if (x < 0 && strcmp(o->name, "--seed") == 0)
            cli_fail("--seed: %ld is negative (a seed is 0 .. %d)", x, INT_MAX);
        *(int *)o->dst = (int)x;
    } else if (o->kind == CLI_DOUBLE) {
        errno = 0;
        double x = strtod(v, &end);
        if (*v == '\0' || *end != '\0' || isnan(x))
            cli_fail("%s: '%s' is not a number", o->name, v);
        if (isinf(x))
            cli_fail("%s: '%s' is too large (not a finite number)", o->name, v);
        if (errno == ERANGE || (x != 0 && fabs(x) < DBL_MIN))
            cli_fail("%s: '%s' is too small (below %g, the smallest normal double)", o->name, v, DBL_MIN);
        *(double *)o->dst = x;
    } else {
        *(const char **)o->dst = v;
    }
    if (n_given < MAX_GIVEN) given[n_given++] = o->dst;
}

int cli_given(const void *dst)
{
    for (int i = 0; i < n_given; i++)
        if (given[i] == dst) return 1;
    return 0;
}

int cli_parse(int argc, char **argv, const char *about, const cli_opt *opts)
{
    if (argc > 0 && argv[0]) {
        const char *slash = strrchr(argv[0], '/');
        prog = slash ? slash + 1 : argv[0];
    }
    static int registered;
    if (!registered) { atexit(check_stdout); registered = 1; t_start = now(); }
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
        if (strcmp(a, "--help") == 0) { quiet_exit = 1; usage(about, opts); free(pos); exit(0); }
        if (strcmp(a, "--version") == 0) { quiet_exit = 1; free(pos); version(); }
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        const cli_opt *o = opts;
        while (o->name && !(strlen(o->name) == len && strncmp(o->name, a, len) == 0)) o++;
        if (!o->name) {
            free(pos);
            cli_fail("unknown option '%.*s' (try --help)", (int)(len > 100 ? 100 : len), a);
        }
        if (o->kind == CLI_FLAG) {
            if (eq) { free(pos); cli_fail("%s takes no value", o->name); }
            *(int *)o->dst = 1;
            if (n_given < MAX_GIVEN) given[n_given++] = o->dst;
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
    if (first < argc) cli_fail("unexpected argument '%.200s' (try --help)", argv[first]);
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
    static char path[PATH_MAX];
    make_dir("build");
    make_dir("build/data");
    if (quick_run) make_dir("build/data/quick");
    if ((size_t)snprintf(path, sizeof path, "%s/%s", cli_data_dir(), name) >= sizeof path)
        cli_fail("%.100s…: data file name too long", name);
    return path;
}

FILE *cli_data_file(const char *name)
{
    int slot = 0;
    while (slot < MAX_OPEN && open_files[slot].f) slot++;
    if (slot == MAX_OPEN) cli_fail("%s: more than %d tables open at once", name, MAX_OPEN);
    char *path = open_files[slot].path, *tmp = open_files[slot].tmp;
    const char *final = cli_data_path(name);   /* a static buffer, not open_files */
    snprintf(path, PATH_MAX, "%s", final);
    /* NAME.tmp.PID in the same directory: rename() then replaces the
     * previous table in one step, and two runs at once never share a file. */
    if ((size_t)snprintf(tmp, PATH_MAX, "%s.tmp.%ld", final, (long)getpid()) >= PATH_MAX)
        cli_fail("%.100s…: data file name too long", name);
    FILE *f = fopen(tmp, "w");
    if (!f) cli_fail("%s: cannot write: %s", tmp, strerror(errno));
    open_files[slot].f = f;
    return f;
}

void cli_data_close(FILE *f, const char *name)
{
    int slot = 0;
    while (slot < MAX_OPEN && open_files[slot].f != f) slot++;
    if (slot == MAX_OPEN || !f) cli_fail("%s: closed but never opened by cli_data_file", name);
    open_files[slot].f = NULL;
    const char *tmp = open_files[slot].tmp, *path = open_files[slot].path;
    /* The last line says the table is whole: make plots refuses one without it. */
    size_t n = strlen(name);
    if (n >= 4 && strcmp(name + n - 4, ".dat") == 0) fputs("# end\n", f);
    int bad = ferror(f);
    if (fflush(f) != 0) bad = 1;
    int err = errno;
    if (fclose(f) != 0 && !bad) { bad = 1; err = errno; }
    if (bad) {
        remove(tmp);
        cli_fail("%s: write failed: %s", path, strerror(err));
    }
    if (rename(tmp, path) != 0) {
        err = errno;
        remove(tmp);
        cli_fail("%s: cannot rename into place: %s", path, strerror(err));
    }
}
