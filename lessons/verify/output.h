/* output.h — the verdicts in the forms an instructor needs: JSON (one
 * object per claim), Gradescope's results.json, and a class's CSV. The
 * writers take a FILE*; out_replace writes a file under a temporary name
 * and renames it into place, so a reader never sees half a file.
 */
#ifndef CHAINRULE_VERIFY_OUTPUT_H
#define CHAINRULE_VERIFY_OUTPUT_H

#include <stdio.h>
#include "expr.h"

/* s as a JSON string, quotes included (control characters escaped). */
void out_json_string(FILE *f, const char *s);
/* A number, or null when it is not finite (JSON has no inf or nan). */
void out_json_number(FILE *f, double x);
/* One claim: file, line, claim text, verdict, the links with theirs, the
 * largest relative error, the first wrong link, the counterexample. */
void out_json_claim(FILE *f, const expr_prog *p, int c, const char *file, const expr_verdict *v);
/* One Gradescope test for the claim: name, score, max_score, status, output. */
void out_gradescope_test(FILE *f, const expr_prog *p, int c, const char *file, const expr_verdict *v);
/* s as one CSV field (quoted when it holds a comma, a quote or a newline). */
void out_csv_field(FILE *f, const char *s);

/* Opens a temporary file beside path for writing; out_commit checks the
 * writes, closes it and renames it to path (0), or removes it and returns
 * −1 with errno set. */
FILE *out_begin(const char *path, char *tmp, size_t ntmp);
int out_commit(FILE *f, const char *tmp, const char *path);

#endif
