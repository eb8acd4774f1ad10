/* lesson.c — the flags, data and helpers every lesson shares (lesson.h). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lesson.h"

double lesson_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The help line of a standard flag, with the lesson's defaults in it. */
static char help_buf[8][192];

void lesson_parse(int argc, char **argv, const char *about, const lesson_spec *spec,
                  const cli_opt *extra, lesson_args *a)
{
    memset(a, 0, sizeof *a);
    const char *data = NULL, *opt = spec->opt ? spec->opt : "sgd";
    a->seed = 1;
    a->epochs = spec->epochs[1];
    a->lr = spec->lr;
    a->batch = spec->batch;
    int max_e = spec->max_epochs ? spec->max_epochs : 10000;
    unsigned f = spec->flags;

    cli_opt t[48];
    int n = 0, h = 0;
    snprintf(help_buf[h], sizeof help_buf[h], "seed of %s (default 1)",
             spec->seed_help ? spec->seed_help : "the run");
    t[n++] = (cli_opt){"--seed", CLI_INT, &a->seed, "N", help_buf[h++]};
    t[n++] = (cli_opt){"--quick", CLI_FLAG, &a->quick, NULL,
                       spec->quick_help ? spec->quick_help : "seconds, for tests"};
    if (f & LESSON_FULL) t[n++] = (cli_opt){"--full", CLI_FLAG, &a->full, NULL, spec->full_help};
    if (f & LESSON_EPOCHS) {
        snprintf(help_buf[h], sizeof help_buf[h], "epochs (default %d; --quick %d%s%.0d; 1..%d)",
                 spec->epochs[1], spec->epochs[0], f & LESSON_FULL ? "; --full " : "",
                 f & LESSON_FULL ? spec->epochs[2] : 0, max_e);
        t[n++] = (cli_opt){"--epochs", CLI_INT, &a->epochs, "N", help_buf[h++]};
    }
    if (f & LESSON_LR) {
        if (spec->lr > 0)
            snprintf(help_buf[h], sizeof help_buf[h], "learning rate%s%s (default %g)",
                     spec->lr_help ? " " : "", spec->lr_help ? spec->lr_help : "", spec->lr);
        else
            snprintf(help_buf[h], sizeof help_buf[h], "learning rate%s%s (default: the optimiser's own)",
                     spec->lr_help ? " " : "", spec->lr_help ? spec->lr_help : "");
        t[n++] = (cli_opt){"--lr", CLI_DOUBLE, &a->lr, "RATE", help_buf[h++]};
    }
    if (f & LESSON_BATCH) {
        snprintf(help_buf[h], sizeof help_buf[h], "rows per step%s%s (default %d)",
                 spec->batch_help ? " " : "", spec->batch_help ? spec->batch_help : "", spec->batch);
        t[n++] = (cli_opt){"--batch", CLI_INT, &a->batch, "N", help_buf[h++]};
    }
    if (f & LESSON_OPT) {
        snprintf(help_buf[h], sizeof help_buf[h], "optimiser: %s, Keras's settings (default %s)",
                 spec->opts_allowed, opt);
        t[n++] = (cli_opt){"--opt", CLI_STRING, &opt, "NAME", help_buf[h++]};
    }
    if (f & LESSON_DATA) {
        snprintf(help_buf[h], sizeof help_buf[h],
                 "data root holding %s (default data/, or $CHAINRULE_DATA; --quick: tests/data)",
                 spec->data_help ? spec->data_help : "mnist/");
        t[n++] = (cli_opt){"--data", CLI_STRING, &data, "DIR", help_buf[h++]};
    }
    for (const cli_opt *o = extra; o && o->name && n < 47; o++) t[n++] = *o;
    t[n] = (cli_opt){0};
    cli_no_positional(cli_parse(argc, argv, about, t), argc, argv);

    a->epochs_given = cli_given(&a->epochs);
    a->lr_given = cli_given(&a->lr);
    a->batch_given = cli_given(&a->batch);
    a->data_given = cli_given(&data);
    if (a->quick && a->full) cli_fail("--quick and --full: choose one");
    if (a->epochs_given) {
        if (a->epochs < 1 || a->epochs > max_e)
            cli_fail("--epochs: %d is not in 1..%d", a->epochs, max_e);
    } else {
        a->epochs = spec->epochs[a->quick ? 0 : a->full ? 2 : 1];
    }
    /* any positive rate: one too large for the data diverges, and training
     * stops with a training fault that says so (exit CLI_EXIT_FAULT) */
    if (a->lr_given && !(a->lr > 0))
        cli_fail("--lr: %g is not positive", a->lr);
    if (a->batch_given && (a->batch < 1 || a->batch > 60000))
        cli_fail("--batch: %d is not in 1..60000", a->batch);
    if (f & LESSON_OPT) {
        a->opt = optim_parse(opt);
        char want[64];
        snprintf(want, sizeof want, "|%s|", spec->opts_allowed);
        char name[32];
        snprintf(name, sizeof name, "|%.29s|", opt);
        if (a->opt < 0 || !strstr(want, name))
            cli_fail("--opt: '%.100s' is not one of %s", opt, spec->opts_allowed);
    }
    const char *env = getenv("CHAINRULE_DATA");
    a->root = data ? data : env && *env ? env : a->quick ? "tests/data" : "data";
}

const char *lesson_budget_note(const lesson_args *a)
{
    return a->epochs_given ? " (--epochs)" : a->quick ? " (--quick)" : a->full ? " (--full)" : "";
}

double lesson_maxdiff(const double *a, const double *b, int n)
{
    double m = 0;
    for (int i = 0; i < n; i++) {
        double d = fabs(a[i] - b[i]);
        if (!isfinite(d)) return NAN;
        if (d > m) m = d;
    }
    return m;
}

void lesson_load(const char *root, const char *set, const char *split, const data_expect *want,
                 dataset *out)
{
    char err[IDX_ERR_LEN];
    if (data_load_expect(root, set, split, want, out, err) != IDX_OK) cli_fail("%s", err);
}

mlp_data lesson_view(const dataset *s)
{
    return (mlp_data){s->x, s->labels, s->n, s->d};
}

mlp *lesson_model(const int *sizes, int L, act_kind act, init_kind init, uint64_t seed)
{
    mlp_config cfg = {0};
    cfg.n_layers = L;
    for (int l = 0; l <= L; l++) cfg.sizes[l] = sizes[l];
    cfg.act = act;
    cfg.init = (mlp_init){init, 0, 0};
    cfg.seed = seed;
    mlp *m = mlp_new(&cfg);
    if (!m) cli_fail("out of memory");
    return m;
}
