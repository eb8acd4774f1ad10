/* fuzz_expr.c — libFuzzer target for the derivation language, plain and
 * LaTeX (the seed corpus is lessons/verify/derivations/, the LaTeX course
 * material and the class example included, plus tests/fuzz/expr/): any
 * bytes are parsed; a parse error must be located and formattable; a
 * program that parses has its claims checked (2 points, small work
 * budget), and a claim's verdict must agree with its links'. Nothing may
 * crash, leak, hang or trip a sanitizer.
 *   FUZZ_ONLY=expr FUZZ_RUNS=1000000 make fuzz
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *src = (const char *)data;
    expr_error e;
    expr_prog *p = expr_parse(src, size, &e);
    if (!p) {
        char buf[1024];
        if (e.line < 1 || e.col < 1 || e.msg[0] == '\0') __builtin_trap();
        size_t need = expr_format_error(buf, sizeof buf, "fuzz", src, size, &e);
        if (need == 0 || strlen(buf) != (need < sizeof buf ? need : sizeof buf - 1)) __builtin_trap();
        return 0;
    }
    expr_options o = expr_defaults();
    o.points = 2;
    o.max_tries = 3;
    int n = expr_claims(p);
    for (int c = 0; c < n && c < 16; c++) {
        if (expr_claim_work(p, c) > 2e5) continue;      /* the parser refuses far more; keep runs fast */
        expr_verdict v;
        if (expr_check(p, c, &o, &v) != 0) continue;
        if (v.holds && v.failed) __builtin_trap();
        if (v.nlinks != expr_claim_links(p, c) || v.nlinks < 1 || v.nlinks > EXPR_MAX_LINKS) __builtin_trap();
        int all = v.checked;
        for (int l = 0; l < v.nlinks; l++) all &= v.link[l].holds;
        if (all != v.holds || (v.checked && (v.first_failed >= 0) == v.holds)) __builtin_trap();
        if (!v.holds && v.checked && !v.detail) __builtin_trap();
        expr_verdict_free(&v);
    }
    if (n > 0 && !expr_claim_text(p, 0)) __builtin_trap();
    expr_free(p);
    return 0;
}
