/* cli.h — the command line of every chainrule program: a table of options,
 * --help generated from it, and the house rule for user errors: one line
 * on stderr naming the flag or file, exit status 2.
 *
 *   int seed = 1, quick = 0; const char *data = NULL;
 *   cli_opt opts[] = {
 *       {"--seed", CLI_INT, &seed, "N", "seed of the initial weights (default 1)"},
 *       {"--quick", CLI_FLAG, &quick, NULL, "small data, seconds (for tests)"},
 *       {"--data", CLI_STRING, &data, "DIR", "data root (default data/, or $CHAINRULE_DATA)"},
 *       {0}};
 *   cli_parse(argc, argv, "03 scalar backprop — …", opts);
 */
#ifndef CHAINRULE_CLI_H
#define CHAINRULE_CLI_H

#include <stdio.h>

typedef enum { CLI_FLAG, CLI_INT, CLI_DOUBLE, CLI_STRING } cli_kind;

typedef struct {
    const char *name;    /* "--seed"; a table ends with {0} */
    cli_kind kind;
    void *dst;           /* int* (FLAG, INT), double*, or const char** */
    const char *arg;     /* the value's placeholder in --help ("N"), or NULL */
    const char *help;    /* one line */
} cli_opt;

/* Parses argv (`--name value` or `--name=value`). --help prints `about`
 * and the table and exits 0; an unknown flag, a missing or malformed value
 * exits 2 with one line naming it: a whole number out of int's range, a
 * negative --seed, a number that is not finite or below the smallest normal
 * double. It also registers, once, a check of standard output at exit: a
 * write that failed (a full disk, /dev/full, a closed descriptor) ends the
 * program with one line "prog: error writing standard output: …" and
 * status 2, and tables never closed are removed. Arguments that do not start with "--"
 * are left in order at argv[first…argc): returns first. A lesson that takes
 * no such arguments passes them to cli_no_positional. */
int cli_parse(int argc, char **argv, const char *about, const cli_opt *opts);
void cli_no_positional(int first, int argc, char **argv);

/* 1 when the command line set the option whose dst is `dst`. */
int cli_given(const void *dst);

/* The program's name as invoked, for messages ("03_scalar_backprop"). */
const char *cli_prog(void);

/* One line "prog: message" on stderr, then exit(2). */
_Noreturn void cli_fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* What a program does with train_run's status (train.h): 0 returns; a
 * training fault (TRAIN_FAULT: the loss stopped being finite) prints
 * "prog: <err>" and exits with CLI_EXIT_FAULT; anything else is cli_fail's
 * one line and exit 2. stdout is flushed first: what was printed stays. */
#define CLI_EXIT_FAULT 3
void cli_train_status(int rc, const char *err);

/* The data root: the --data value if given, else $CHAINRULE_DATA, else "data". */
const char *cli_data_root(const char *flag_value);

/* Where a lesson writes the tables its plots read: build/data, or
 * build/data/quick for a run with --quick (an option of that name in the
 * table), so that the tests' quick runs never overwrite a real run's data. */
const char *cli_data_dir(void);
/* cli_data_dir()/NAME, with the directories made; a static buffer, valid
 * until the next call. On failure one line naming the path, exit 2. */
const char *cli_data_path(const char *name);
/* Opens a temporary file beside cli_data_path(NAME) (NAME.tmp.PID) for
 * writing; on failure one line naming the path, exit 2. cli_data_close
 * checks that the writes reached the disk and renames the file into place,
 * so an interrupted run leaves the previous complete table and two runs
 * at once never interleave. At most 16 open at once. */
FILE *cli_data_file(const char *name);
void cli_data_close(FILE *f, const char *name);

#endif
