/* lesson.h — what the lessons share beyond the command line: the standard
 * flags declared and checked once (--seed --quick --full --data --epochs
 * --lr --batch --opt), the data root (--quick reads the slices shipped in
 * tests/data unless --data names another root), loading a set, a view of
 * it for the training loop, a model from a layer list, the elapsed time.
 *
 *   lesson_spec spec = {.flags = LESSON_TRAIN | LESSON_FULL,
 *       .seed_help = "seed of the weights", .epochs = {2, 3, 5}, .lr = 0.01, .batch = 1, …};
 *   lesson_args a;
 *   lesson_parse(argc, argv, "05 mnist — …", &spec, extra_opts, &a);
 *   …  a.epochs, a.lr, a.batch, a.root …
 * (The elapsed time, "05_mnist: 12.3 s", is printed on stderr at exit by cli.)
 *
 * Not here: anything a lesson teaches.
 */
#ifndef CHAINRULE_LESSON_H
#define CHAINRULE_LESSON_H

#include <stdint.h>
#include "cli.h"
#include "data.h"
#include "mlp.h"
#include "train.h"

enum {
    LESSON_DATA = 1,     /* --data DIR */
    LESSON_FULL = 2,     /* --full: the assignment's budget */
    LESSON_EPOCHS = 4,   /* --epochs N */
    LESSON_LR = 8,       /* --lr RATE */
    LESSON_BATCH = 16,   /* --batch N */
    LESSON_OPT = 32,     /* --opt NAME */
    LESSON_TRAIN = LESSON_DATA | LESSON_FULL | LESSON_EPOCHS | LESSON_LR | LESSON_BATCH,
};

typedef struct {
    unsigned flags;            /* LESSON_* beyond --seed, --quick (always there) */
    const char *seed_help;     /* what the seed draws ("the initial weights") */
    const char *quick_help;    /* what --quick runs */
    const char *full_help;     /* the assignment's budget and about how long it takes */
    const char *data_help;     /* which sets the root must hold ("mnist/") */
    int epochs[3];             /* --quick, default, --full */
    int max_epochs;            /* the largest --epochs accepted (0: 10,000) */
    double lr;                 /* the default rate (0: the optimiser's own) */
    const char *lr_help;       /* what the rate applies to, or NULL */
    int batch;                 /* the default batch */
    const char *batch_help;    /* or NULL */
    const char *opt;           /* the default --opt */
    const char *opts_allowed;  /* "sgd|adam|rmsprop": the names --opt takes */
} lesson_spec;

typedef struct {
    int seed;                  /* 0 … INT_MAX; add to it as uint64_t */
    int quick, full;
    int epochs, batch;         /* the budget this run uses */
    double lr;                 /* 0 when the lesson keeps its optimisers' defaults */
    int opt;                   /* an opt_kind (LESSON_OPT) */
    const char *root;          /* the data root */
    int epochs_given, lr_given, batch_given, data_given;
} lesson_args;

/* Parses the standard flags (those in spec->flags) and the lesson's own
 * (`extra`, a table ending with {0}, may be NULL), refuses positional
 * arguments, and checks every value once: --quick with --full, --epochs
 * outside 1 … max_epochs, --lr outside (0, 100], --batch outside
 * 1 … 60000, an unknown --opt — one line naming the flag, exit 2. The data root: --data, else $CHAINRULE_DATA, else
 * tests/data for --quick and data/ otherwise. */
void lesson_parse(int argc, char **argv, const char *about, const lesson_spec *spec,
                  const cli_opt *extra, lesson_args *a);

/* "budget note" for the printed header: "(--quick)", "(--full: …)", "" … */
const char *lesson_budget_note(const lesson_args *a);

/* Seconds on a monotonic clock. */
double lesson_now(void);

/* Largest |a[i] − b[i]|; NaN when any entry is not finite. */
double lesson_maxdiff(const double *a, const double *b, int n);

/* data_load, or one line and exit 2. */
void lesson_load(const char *root, const char *set, const char *split, const data_expect *want,
                 dataset *out);
/* The training loop's view of a set (nothing owned). */
mlp_data lesson_view(const dataset *s);
/* A dense network sizes[0] → … → sizes[L] with activation act and weights
 * init (biases 0), seeded; exits 2 when out of memory. */
mlp *lesson_model(const int *sizes, int L, act_kind act, init_kind init, uint64_t seed);

#endif
