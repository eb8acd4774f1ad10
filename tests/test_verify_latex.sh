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
[ "$pass" -ge 60 ] && ok || bad "fewer than 60 LaTeX checks"

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
# the forms of reports.txt, malformed: file:line:col, the line, a caret
check_error 'given x
let r = \begin{cases} 1 & x > 0 \\ 0 & \text{otherwise}
claim r = 1' 'the \\begin{cases} at 2:9 is not closed'
check_error 'given x
let r = \begin{cases} 1 & x > 0 \\ 0 & \end{cases}' 'this case has no condition'
check_error 'given x
let r = \begin{cases} 1 & x > 0 \\ 0 \end{cases}' "expected '&' and the condition of this case (1 & x > 0, 0 & .text{otherwise}), found .end{cases}"
check_error 'given x
let r = \begin{cases} 0 & \text{otherwise} \\ 1 & x > 0 \end{cases}' "the case 'otherwise' comes last"
check_error 'given x
let r = x \end{cases}' '\\end{cases} closes no \\begin{cases}'
check_error 'given x
claim g'"'"'(x) = 1' "'g' is not a function: define it first (let g(x) = ...)"
check_error 'given x
let f(x) = x^2
let g = f'"'"'(x)' "f'(x) is the engine's derivative at a point, for claims"
check_error 'given x, w
let f(x) = w x' "the body of f uses only its parameters and numbers: 'w' is a quantity"
check_error 'given x
let g(a, b) = a b
claim g'"'"'(x) = 1' "'g' has 2 parameters"
check_error 'given x[4]
let K = 3
let s = \sum_{k=1}^{K} x_k' "this sum stops at K = 3, but 'k' runs over 4 entries (x at 3:26)"
check_error 'given x
let s = \sum_{k=1}^{N} x' 'declare its upper limit: let N = 3'
check_error 'given W[2][2]
let s = \begin{pmatrix} W_{11} & W_{12} \end{pmatrix}' "'\\\\begin{pmatrix}' is not read"
check_error 'given w[3]
let L = w_1^2
claim \nabla L = 2 w_1' "'\\\\nabla' is not read: write the gradient entry by entry"
check_error 'given w[3]
claim \frac{\partial}{\partial w_i} (w_i^2) = 2 w_i' 'the operator form takes an expression of no index of the claim'
check_error 'given x
let h = |x' "expected '|' to close the '|' at 2:9"

# a boundary is a kink: a fixed point on x > 0's boundary cannot be checked
printf '%s\n' 'given x[1] = [0]' 'let r = \begin{cases} x_1 & x_1 > 0 \\ 0 & \text{otherwise} \end{cases}' \
    'claim \frac{dr}{dx_1} = 1' >"$tmp/edge.txt"
"$V" "$tmp/edge.txt" >"$tmp/out" 2>&1; st=$?
[ "$st" -eq 1 ] && grep -q 'cannot be checked' "$tmp/out" && grep -q 'is on its boundary (both sides 0): a kink' "$tmp/out" \
    && ok || { bad "boundary at a fixed point: exit $st"; cat "$tmp/out"; }
# ... and at random points the draws on no side are kept: a claim 'when x > 0'
# is compared only where x > 0 (a wrong value for x < 0 is not seen)
"$V" -e 'given x
let r = \max(0, x)
claim \frac{dr}{dx} = 1 \quad \text{when } x > 0
claim \frac{dr}{dx} = 1' >"$tmp/out" 2>&1
[ "$(verdicts "$tmp/out" | tr '\n' ' ')" = "HOLDS FAILS " ] && grep -q 'draws resampled, e.g. the claim.s condition holds at no entry' "$tmp/out" \
    && ok || { bad "a condition on values"; cat "$tmp/out"; }
# a condition on values per entry: only the entries where it holds are compared
"$V" -e 'given o[4]
let r[i] = \max(0, o_i)
claim \frac{\partial r_i}{\partial o_i} = 1 \quad \text{when } o_i > 0' >"$tmp/out" 2>&1
grep -q '^HOLDS' "$tmp/out" && ok || { bad "per-entry condition"; cat "$tmp/out"; }
# the same claims in plain text give the same verdicts (let f(x), f'(x))
"$V" -e "given u in (-2, 2)
let f(x) = 1.7159*tanh(2*x/3) + 0.01*x
let y = f(u)
claim d y / d u = f'(u)
claim d y / d u = 1.7159*(2/3)*(1 - tanh(2*u/3)^2) + 0.01
claim d y / d u = f'(2*u)" >"$tmp/out" 2>&1
[ "$(verdicts "$tmp/out" | tr '\n' ' ')" = "HOLDS HOLDS FAILS " ] && ok || { bad "plain functions"; cat "$tmp/out"; }
# a declared name wins over the built-in: sigma is the softmax, not the sigmoid
"$V" -e 'given o[3]
let \sigma_i = \frac{e^{o_i}}{\sum_j e^{o_j}}
claim \sum_i \sigma_i = 1
claim sigmoid(o_1) = \frac{1}{1 + e^{-o_1}}
claim \sigma_1 = \frac{1}{1 + e^{-o_1}}' >"$tmp/out" 2>&1; st=$?
[ "$st" -eq 1 ] && [ "$(verdicts "$tmp/out" | tr '\n' ' ')" = "HOLDS HOLDS FAILS " ] && ok || { bad "declared sigma: exit $st"; cat "$tmp/out"; }

# a number in a LaTeX condition on an index counts from 1, as the
# subscripts do (j = 1 is y_1, y[0]); the plain 'for j == 1' from 0
"$V" -e 'given y[3]
let s = \sum_i y_i^2
claim $\frac{\partial s}{\partial y_j} = 2 y_1 \quad \text{for } j = 1$
claim \text{for } j = 3: \frac{\partial s}{\partial y_j} = 2 y_3
claim d s / d y[j] = 2*y[1] for j == 1
let m[i] = \begin{cases} y_i & \text{if } i = 1 \\ 0 & \text{otherwise} \end{cases}
claim m[i] = y[0]*delta(i, 0)
claim $\frac{\partial s}{\partial y_j} = 2 y_2 \quad \text{when } j = 2$
claim $\frac{\partial s}{\partial y_j} = 2 y_2 \quad \text{for } j = 1$' >"$tmp/out" 2>&1; st=$?
[ "$st" -eq 1 ] && [ "$(verdicts "$tmp/out" | tr '\n' ' ')" = "HOLDS HOLDS HOLDS HOLDS HOLDS FAILS " ] && ok \
    || { bad "1-based numbers in LaTeX conditions: exit $st"; cat "$tmp/out"; }
"$V" -e 'given y[3]
claim y_j = y_j \quad \text{for } j = 0' >"$tmp/out" 2>"$tmp/err"; st=$?
[ "$st" -eq 2 ] && grep -q '^-e:2:39: expected an index letter or a whole number (from 1 in LaTeX, as y_1), found number .0.$' "$tmp/err" \
    && ok || { bad "a LaTeX condition j = 0: exit $st"; cat "$tmp/err"; }
"$V" -e 'given y[3]
claim for j == 0: d y[j] / d y[j] = 1' >"$tmp/out" 2>&1 && ok || bad "plain for j == 0"

# δ and Δ name quantities (a declared name wins over the Kronecker delta),
# in Unicode and LaTeX, also right after ∂ and \partial
"$V" -e 'given \delta[3], x, W[3][2]
let y[k] = \delta_k * x
let \Delta[n][j] = \delta_n * W_{nj}
claim ∂δ_k/∂x = 0
claim ∂y_k/∂δ_k = x
claim $\frac{\partial\delta_k}{\partial x} = 0$
claim $\frac{\partial y_k}{\partial \delta_k} = x$
claim $\frac{\partial \Delta_{nj}}{\partial W_{nj}} = \delta_n$
claim ∂Δ_{nj}/∂δ_n = W_{nj}
claim δ_2 = \delta[1]
claim ∂Δ_{nj}/∂δ_n = 2 W_{nj}' >"$tmp/out" 2>&1; st=$?
[ "$st" -eq 1 ] && [ "$(verdicts "$tmp/out" | tr '\n' ' ')" = "HOLDS HOLDS HOLDS HOLDS HOLDS HOLDS HOLDS FAILS " ] && ok \
    || { bad "declared delta and Delta: exit $st"; cat "$tmp/out"; }
"$V" -e 'given δ[3], Δ, x
let \delta^{(o)}_k = δ_k Δ x
claim \frac{\partial \delta^{(o)}_k}{\partial Δ} = δ_k x
claim ∂δ_k/∂Δ = 0' >"$tmp/out" 2>&1; st=$?
[ "$st" -eq 0 ] && [ "$(verdicts "$tmp/out" | tr '\n' ' ')" = "HOLDS HOLDS " ] && ok \
    || { bad "delta^{(o)} and Unicode Delta: exit $st"; cat "$tmp/out"; }
# a derivative through a let that holds one, in the operator form
"$V" -e 'given y[3]
let s = \sum_i y_i
let g = \frac{\partial s}{\partial y_1}
claim g = 1
claim $\frac{\partial}{\partial y_2}(3 g) = 0$' >"$tmp/out" 2>"$tmp/err"; st=$?
[ "$st" -eq 2 ] && grep -q 'goes through g, which holds a derivative (d s / d y, line 3)' "$tmp/err" && ok \
    || { bad "operator form through a derivative let: exit $st"; cat "$tmp/err"; }

# the operator form of a derivative (d A / d B, f'(x)) is refused as such
for inner in "f'(x)" '\frac{\partial s}{\partial y_1}'; do
    "$V" -e "given x, y[2]
let s = y[0]*y[1]
let f(u) = u^3
claim \\frac{\\partial}{\\partial x}($inner) = 0" >"$tmp/out" 2>"$tmp/err"; st=$?
    [ "$st" -eq 2 ] && grep -q '^-e:4:.*: \\frac{\\partial}{\\partial x} of a derivative: verify cannot differentiate it again' "$tmp/err" \
        && ok || { bad "operator form of $inner: exit $st"; cat "$tmp/err"; }
done

# deep LaTeX nesting ends in an error, not a crash
{ printf 'given x\nlet f = '; for i in $(seq 300); do printf '\\frac{1}{'; done; printf x; for i in $(seq 300); do printf '}'; done; echo; } >"$tmp/deep.txt"
"$V" "$tmp/deep.txt" >"$tmp/out" 2>"$tmp/err"; st=$?
[ "$st" -eq 2 ] && grep -q 'nested too deeply' "$tmp/err" && ok || { bad "deep \\frac: exit $st"; head -2 "$tmp/err"; }

echo "test_verify_latex.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
