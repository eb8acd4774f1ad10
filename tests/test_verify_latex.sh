#!/usr/bin/env bash
# test_verify_latex.sh BUILD_DIR — course material as students write it in
# LaTeX (lessons/verify/derivations/latex/): every claim gets the verdict its
# "# expect:" line names, link by link for a chain; and the LaTeX verify
# does not read is refused with a located message naming the construct.
set -u
cd "$(dirname "$0")/.." || exit 2
B=${1:-build}
V="$B/verify"
D=lessons/verify/derivations/latex
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The verdicts verify printed, one line per claim: the claim's, or for a
# chain its links' in order.
verdicts() {
    awk '/^(HOLDS|FAILS)  / { if (n) print line; line = $1; n = 1; links = 0; next }
         /^       link [0-9]+: / { v = ($0 ~ /  HOLDS  \(/) ? "HOLDS" : "FAILS"
                                  line = links ? line " " v : v; links = 1 }
         END { if (n) print line }' "$1"
}

for f in "$D"/*.txt; do
    "$V" "$f" >"$tmp/out" 2>"$tmp/err"; st=$?
    [ ! -s "$tmp/err" ] && ok || { bad "$f: stderr"; head -3 "$tmp/err"; }
    sed -n 's/^# expect: //p' "$f" >"$tmp/want"
    [ "$(wc -l <"$tmp/want")" -eq "$(grep -c '^claim' "$f")" ] && ok || bad "$f: an expect line per claim"
    verdicts "$tmp/out" >"$tmp/got"
    n=0
    while IFS= read -r want && IFS= read -r got <&3; do
        n=$((n + 1))
        [ "$want" = "$got" ] && ok || bad "$f: claim $n: got '$got', want '$want'"
    done <"$tmp/want" 3<"$tmp/got"
    [ "$n" -eq "$(wc -l <"$tmp/want")" ] && [ "$(wc -l <"$tmp/got")" -eq "$n" ] && ok || bad "$f: $n verdicts compared"
    if grep -q FAILS "$tmp/want"; then want_st=1; else want_st=0; fi
    [ "$st" -eq "$want_st" ] && ok || bad "$f: exit $st, want $want_st"
done
[ "$pass" -ge 40 ] && ok || bad "fewer than 40 LaTeX checks"

# the hints a student needs on these mistakes
"$V" "$D/mistakes.txt" >"$tmp/out" 2>&1
grep -q 'claimed = -engine at the 240 failing entries, right at the other 80' "$tmp/out" && ok \
    || bad "off-diagonal sign slip: hint"
grep -q 'claimed = 1/engine at every failing entry: the reciprocal' "$tmp/out" && ok || bad "reciprocal: hint"
grep -q 'wrong only where the indices are equal: a missing delta term' "$tmp/out" && ok || bad "missing delta: hint"

# LaTeX that is not read: file:line:col, the line, a caret, the construct named
check_error() {   # TEXT WANT-SUBSTRING
    printf '%s\n' "$1" >"$tmp/bad.txt"
    "$V" "$tmp/bad.txt" >"$tmp/out" 2>"$tmp/err"; st=$?
    [ "$st" -eq 2 ] && grep -q -- "$2" "$tmp/err" && [ "$(wc -l <"$tmp/err")" -eq 3 ] && tail -1 "$tmp/err" | grep -q '^ *^$' \
        && ok || { bad "error for '$1': exit $st"; cat "$tmp/err"; }
}
check_error 'given o[3]
claim $\frac{\partial o_i}{\partial o_j} = \mathbb{1}$' "'\\\\mathbb' is not read"
check_error 'given y
claim $y_i = 1$' "'y' is a scalar, so it takes no subscript"
check_error 'given x
let f = y_i' "did you mean y\[i\]"
check_error 'given o[3]
let s = \sum_{k=2}^{3} o_k' "a sum runs from 1"
check_error 'given o[3]
let s = \sum_{k=1}^{2} o_k' "only sums over the whole range are read"
check_error 'given W[2][2]
let s = W_{ijk}' "'W' has 2 indices, and this subscript gives"
check_error 'given x
let f = \frac{x}{2' "expected '}' to close the denominator"
check_error "given x
let f = x′" "is not read: write the derivative as d f / d x"
# deep LaTeX nesting ends in an error, not a crash
{ printf 'given x\nlet f = '; for i in $(seq 300); do printf '\\frac{1}{'; done; printf x; for i in $(seq 300); do printf '}'; done; echo; } >"$tmp/deep.txt"
"$V" "$tmp/deep.txt" >"$tmp/out" 2>"$tmp/err"; st=$?
[ "$st" -eq 2 ] && grep -q 'nested too deeply' "$tmp/err" && ok || { bad "deep \\frac: exit $st"; head -2 "$tmp/err"; }

echo "test_verify_latex.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
