/* output.c — JSON, Gradescope's results.json and CSV for the verdicts of
 * verify (see output.h). Gradescope's schema: {"tests": [{"name", "score",
 * "max_score", "status": "passed" | "failed", "output"}], "score"}.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "output.h"

void out_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p == '\n') fputs("\\n", f);
        else if (*p == '\t') fputs("\\t", f);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

void out_json_number(FILE *f, double x)
{
    if (isfinite(x)) fprintf(f, "%.17g", x);
    else fputs("null", f);
}

static const char *verdict_word(const expr_verdict *v)
{
    return !v->checked ? "NOT CHECKED" : v->holds ? "HOLDS" : "FAILS";
}

void out_json_claim(FILE *f, const expr_prog *p, int c, const char *file, const expr_verdict *v)
{
    fputs("{\"file\": ", f);
    out_json_string(f, file);
    fprintf(f, ", \"line\": %d, \"claim\": ", expr_claim_line(p, c));
    out_json_string(f, expr_claim_text(p, c));
    fprintf(f, ", \"verdict\": \"%s\", \"vacuous\": %s, \"points\": %d, \"max_relative_error\": ", verdict_word(v),
            v->vacuous ? "true" : "false", v->points);
    out_json_number(f, v->max_err);
    fputs(", \"first_wrong_link\": ", f);
    if (v->first_failed >= 0) fprintf(f, "%d", v->first_failed + 1);
    else fputs("null", f);
    fputs(", \"links\": [", f);
    for (int l = 0; l < v->nlinks; l++) {
        const expr_link *k = &v->link[l];
        fprintf(f, "%s{\"left\": ", l ? ", " : "");
        out_json_string(f, expr_claim_side(p, c, l));
        fputs(", \"right\": ", f);
        out_json_string(f, expr_claim_side(p, c, l + 1));
        fprintf(f, ", \"verdict\": \"%s\", \"entries\": %ld, \"failed\": %ld, \"max_relative_error\": ",
                !v->checked ? "NOT CHECKED" : k->holds ? "HOLDS" : "FAILS", k->entries, k->failed);
        out_json_number(f, k->max_err);
        fputs("}", f);
    }
    fputs("], \"counterexample\": ", f);
    if (!v->holds && v->detail) out_json_string(f, v->detail);
    else fputs("null", f);
    fputs("}", f);
}

void out_gradescope_test(FILE *f, const expr_prog *p, int c, const char *file, const expr_verdict *v)
{
    char name[512];
    snprintf(name, sizeof name, "%s:%d: %s", file, expr_claim_line(p, c), expr_claim_text(p, c));
    fputs("{\"name\": ", f);
    out_json_string(f, name);
    fprintf(f, ", \"score\": %d, \"max_score\": 1, \"status\": \"%s\", \"output\": ", v->holds ? 1 : 0,
            v->holds ? "passed" : "failed");
    char head[128];
    snprintf(head, sizeof head, "%s (max relative error %.2g)\n", verdict_word(v), v->max_err);
    size_t n = strlen(head) + (v->detail ? strlen(v->detail) : 0) + 1;
    char *out = malloc(n);
    if (out) {
        snprintf(out, n, "%s%s", head, v->detail ? v->detail : "");
        out_json_string(f, out);
        free(out);
    } else {
        out_json_string(f, head);
    }
    fputs("}", f);
}

void out_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) { fputs(s, f); return; }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

FILE *out_begin(const char *path, char *tmp, size_t ntmp)
{
    int n = snprintf(tmp, ntmp, "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= ntmp) { errno = ENAMETOOLONG; return NULL; }
    return fopen(tmp, "wb");
}

int out_commit(FILE *f, const char *tmp, const char *path)
{
    int bad = fflush(f) != 0 || ferror(f);
    int err = errno;
    if (fclose(f) != 0 && !bad) { bad = 1; err = errno; }
    if (!bad && rename(tmp, path) != 0) { bad = 1; err = errno; }
    if (bad) { remove(tmp); errno = err ? err : EIO; return -1; }
    return 0;
}
