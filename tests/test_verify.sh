#!/usr/bin/env bash
# test_verify.sh BUILD_DIR — build/verify end to end: verdicts and exit codes
# on the derivation files, the typical mistakes against their expected
# output, malformed input and usage errors (exit 2, located message).
set -u
cd "$(dirname "$0")/.." || exit 2
B=${1:-build}
V="$B/verify"
D=lessons/verify/derivations
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run NAME ARGS…: stdout in $tmp/out, stderr in $tmp/err, status in $st
run() { "$V" "$@" >"$tmp/out" 2>"$tmp/err"; st=$?; }
expect_status() { [ "$st" -eq "$1" ] && ok || bad "$2: exit $st, want $1"; }
count() { grep -c "^$1 " "$tmp/out"; }

# every derivation holds, claim by claim
for f in "$D"/0*.txt; do
    claims=$(grep -c '^claim' "$f")
    run "$f"
    expect_status 0 "$f"
    [ "$(count HOLDS)" -eq "$claims" ] && [ "$(count FAILS)" -eq 0 ] && ok \
        || bad "$f: $(count HOLDS) HOLDS, $(count FAILS) FAILS of $claims claims"
    [ ! -s "$tmp/err" ] && ok || bad "$f: wrote to stderr"
done

# every mistake fails, each with a counterexample a student can follow
claims=$(grep -c '^claim' "$D/mistakes.txt")
run "$D/mistakes.txt"
expect_status 1 mistakes
[ "$(count FAILS)" -eq "$claims" ] && [ "$(count HOLDS)" -eq 0 ] && ok \
    || bad "mistakes: $(count HOLDS) HOLDS, $(count FAILS) FAILS of $claims claims"
# a counterexample per failing link (a chain of three links with two wrong
# counts twice)
links=$((claims + 1))
[ "$(grep '^       at ' "$tmp/out" | grep -vc ': claimed ')" -eq "$links" ] && ok || bad "mistakes: an 'at' line per failing link"
[ "$(grep -c ': claimed .*, \(engine\|left side\) ' "$tmp/out")" -eq "$links" ] && ok || bad "mistakes: claimed vs engine per failing link"
grep -q '^FAILS  d L / d o\[i\] = sum(j, .*(link 2 of 3 is the first wrong one; max rel. error 2; ' "$tmp/out" && ok \
    || bad "mistakes: the chain names its first wrong link"
grep -q '^       link 1: .*  HOLDS  ' "$tmp/out" && [ "$(grep -c '^       link [23]: .*  FAILS  ' "$tmp/out")" -eq 2 ] && ok \
    || bad "mistakes: a verdict per link"
if diff "$tmp/out" tests/golden/verify_mistakes.expected >"$tmp/diff"; then ok
else bad "mistakes output differs from tests/golden/verify_mistakes.expected"; head -n 20 "$tmp/diff"; fi

# the issue's example, verbatim, through -e
example='# comments start with '"'"'#'"'"'
given x in (-4, 4)            # scalar sampled uniformly in a range
given o[3]                    # vector, entries sampled from N(0, 1)
given W[2][3], t[3] onehot    # matrix; a one-hot vector (random class)
given p[4] simplex            # positive entries summing to 1
let f = 1/(1 + exp(-x))
let y[i] = exp(o[i]) / sum(k, exp(o[k]))      # index ranges inferred from use
let L = -sum(k, t[k]*log(y[k]))
claim d f / d x = f*(1 - f)
claim d y[i] / d o[j] = y[i]*(delta(i,j) - y[j])
claim d y[i] / d o[i] = y[i]*(1 - y[i])        # same letter twice: the diagonal
claim for i != j: d y[i] / d o[j] = -y[i]*y[j]
claim d L / d o[i] = y[i] - t[i]'
run -e "$example"
expect_status 0 "issue example"
[ "$(count HOLDS)" -eq 5 ] && ok || bad "issue example: $(count HOLDS) of 5 hold"
grep -q '^5 claims: 5 hold, 0 fail$' "$tmp/out" && ok || bad "issue example: summary line"

# a failing -e; stdin; determinism; another seed gives other points, same verdicts
run -e 'given x
let f = sigmoid(x)
claim d f / d x = f*(1 + f)'
expect_status 1 "-e fails"
grep -q '^FAILS  d f / d x = f\*(1 + f)  (max rel. error' "$tmp/out" && ok || bad "-e: FAILS line"
"$V" - <"$D/03_scalar_backprop.txt" >"$tmp/a"; st=$?
expect_status 0 "stdin"
"$V" "$D/03_scalar_backprop.txt" | sed 's/; lessons\/verify\/derivations\/03_scalar_backprop.txt:/; -:/' | cmp -s - "$tmp/a" \
    && ok || bad "stdin output differs from the file's"
"$V" "$D/mistakes.txt" >"$tmp/b"; "$V" "$D/mistakes.txt" >"$tmp/c"
cmp -s "$tmp/b" "$tmp/c" && ok || bad "two runs differ"
"$V" --seed 7 --points 5 "$D/mistakes.txt" >"$tmp/d"
! cmp -s "$tmp/b" "$tmp/d" && [ "$(grep -c '^FAILS' "$tmp/d")" -eq "$claims" ] && ok || bad "--seed 7"
run --tol 1e-5 -e 'given x in (-2, 2)
let f = 1.7159*tanh(2*x/3)
claim d f / d x = 1.14393*(1 - tanh(2*x/3)^2)'
expect_status 0 "--tol 1e-5 accepts a rounded constant"

# a claim that holds by the absolute floor alone says so; a claim of 0 that
# the engine meets within rounding does not
run -e 'given x
let f = 1e-13*x
claim d f / d x = 0'
expect_status 0 "vacuous claim"
grep -q '^       warning: every value compared is below 0.001 .* the check was vacuous' "$tmp/out" && ok \
    || bad "vacuous claim: warning"
run "$D/02_local_derivatives.txt"
! grep -q 'vacuous' "$tmp/out" && ok || bad "02: a true zero called vacuous"
# a non-finite claimed value is never agreement
for rhs in 'x/0' 'log(-1 - x^2)' 'exp(1000)'; do
    run -e "given x
let f = x
claim d f / d x = $rhs"
    expect_status 1 "non-finite claim $rhs"
    grep -q '^FAILS' "$tmp/out" && ok || bad "non-finite claim $rhs: verdict"
done

# literal inputs: checked at that point only; a claimed decimal at its
# printed precision, and a truncated one is called truncated
run -e 'given x = 2, u[2] = [1, -1], W[2][3] = [[1, 1, 1], [-1, -1, -1]]
let s = sigmoid(x)
let g = tanh(-x/4)
let k[j] = sum(i, u[i]*W[i][j])
claim g = -0.4403985
claim s = 0.8807971
claim k[j] = 2
claim d s / d x = s*(1 - s)'
expect_status 1 "literal inputs"
grep -q '^HOLDS  s = 0.8807971 ' "$tmp/out" && grep -q '^HOLDS  k\[j\] = 2 ' "$tmp/out" && ok || bad "literal inputs: holds"
grep -q '^FAILS  g = -0.4403985 ' "$tmp/out" && ok || bad "literal inputs: tanh(-1/2) = -0.46211716 is not -0.4403985"
grep -q '(1 points)' "$tmp/out" && ! grep -q '(20 points)' "$tmp/out" && ok || bad "literal inputs: one point"
run -e 'given x = 2
let s = sigmoid(x)
claim s = 0.8807970'
expect_status 1 "a truncated decimal"
grep -q "hint: claimed = the engine's 0.880797078 cut after 7 decimals, not rounded: rounded it is 0.8807971" "$tmp/out" \
    && ok || bad "a truncated decimal: hint"
run -e 'given o[3] = [1, 2]'
expect_status 2 "too few values"
grep -q 'the list opened at 1:14 has 2 values; index 1 of o has 3' "$tmp/err" && ok || bad "too few values: message"

# max and min (ReLU' and the like), with their kink resampled
run -e 'given x in (-3, 3), y in (-2, 2)
let r = max(0, x)
claim d r / d x = step(x)
claim max(x, y) = (x + y + abs(x - y))/2
claim min(x, y) = -max(-x, -y)'
expect_status 0 "max and min"
[ "$(count HOLDS)" -eq 3 ] && ok || bad "max and min: $(count HOLDS) of 3 hold"
run -e 'given x, y
claim min(x, y) = max(x, y)'
expect_status 1 "min = max fails"
run -e 'given x
let f = max(x)'
expect_status 2 "max with one argument"
grep -q "',' between the two arguments of max" "$tmp/err" && ok || bad "max with one argument: message"

# malformed input: exit 2, file:line:col, the line, a caret; nothing on stdout
printf 'given o[3]\nlet y[i] = exp(o[i]) / sum(k, exp(o[j]))\n' >"$tmp/bad.txt"
run "$tmp/bad.txt"
expect_status 2 malformed
printf '%s:2:37: index '"'"'j'"'"' is not bound: put it on the left side (y[j]) or sum over it (sum(j, ...))\nlet y[i] = exp(o[i]) / sum(k, exp(o[j]))\n                                    ^\n' \
    "$tmp/bad.txt" | cmp -s - "$tmp/err" && ok || { bad "malformed: message"; cat "$tmp/err"; }
[ ! -s "$tmp/out" ] && ok || bad "malformed: wrote to stdout"
# a good file next to a bad one: the good one is still checked, exit 2
run "$D/03_scalar_backprop.txt" "$tmp/bad.txt"
expect_status 2 "good and bad file"
[ "$(count HOLDS)" -eq "$(grep -c '^claim' "$D/03_scalar_backprop.txt")" ] && ok || bad "good and bad: good file checked"
# binary junk, an empty file, 1 MB of nesting
head -c 4096 /dev/urandom >"$tmp/junk"
run "$tmp/junk"; expect_status 2 "binary junk"
: >"$tmp/empty"
run "$tmp/empty"; expect_status 2 "empty file"
grep -q "empty: no claims" "$tmp/err" && ok || bad "empty file: 'no claims'"
printf 'given x\nlet f = x^2   # a derivation without a claim\n' >"$tmp/noclaim"
run "$tmp/noclaim"; expect_status 2 "no claim"
grep -q "noclaim: no claims" "$tmp/err" && [ ! -s "$tmp/out" ] && ok || bad "no claim: message"
# the work of a run is bounded: refused at once, with the --points that fit
{ printf 'given o[30]\nlet y[i] = exp(o[i]) / sum(k, exp(o[k]))\n'
  for c in 1 2 3 4 5 6 7 8 9 10; do echo 'claim d y[i] / d o[j] = y[i]*(delta(i,j) - y[j])'; done; } >"$tmp/big"
st=0; timeout 10 "$V" --points 10000 "$tmp/big" >"$tmp/out" 2>"$tmp/err" || st=$?
expect_status 2 "--points 10000 on a big file"
grep -q -- "--points 10000: these claims need about .* the limit for a run is 2e+08 (--points [0-9]* or fewer fit)" "$tmp/err" \
    && ok || { bad "--points 10000: message"; cat "$tmp/err"; }
# 199 nested parentheses on a 64 KB main stack (128 KB under ASan, whose
# frames are several times larger): a located error, never a crash
{ printf 'given x\nlet f = '; head -c 199 /dev/zero | tr '\0' '('; printf x; head -c 199 /dev/zero | tr '\0' ')'
  printf '\nclaim d f / d x = 1\n'; } >"$tmp/nest"
stack=64; case "$B" in *asan*) stack=128 ;; esac
st=0; (ulimit -s $stack; exec "$V" "$tmp/nest") >"$tmp/out" 2>"$tmp/err" || st=$?
expect_status 2 "199 nested parentheses, ${stack} KB stack"
grep -q 'nested too deeply' "$tmp/err" && ok || bad "199 nested parentheses: message"
python3 -c 'print("given x\nlet f = x" + "+x"*999 + "\nclaim d f / d x = 1000")' >"$tmp/chain" 2>/dev/null \
    || { printf 'given x\nlet f = x'; for i in $(seq 999); do printf '+x'; done; printf '\nclaim d f / d x = 1000\n'; } >"$tmp/chain"
st=0; (ulimit -s $stack; exec "$V" "$tmp/chain") >"$tmp/out" 2>"$tmp/err" || st=$?
expect_status 0 "a chain of 1000 additions, ${stack} KB stack"
{ printf 'given x\nlet f = '; head -c 1048576 /dev/zero | tr '\0' '('; echo x; } >"$tmp/deep"
run "$tmp/deep"; expect_status 2 "1 MB of nesting"
grep -q 'nested too deeply' "$tmp/err" && ok || bad "1 MB of nesting: message"

# a let that holds a derivative d A / d B: its value claims are checked; a
# derivative through it (the engine has no second derivatives) is refused,
# located, naming the let and its line
run -e 'given y[3]
let s = sum(i, y[i]*y[i])
let g = d s / d y[0]
let h = 3*g
let u = g + d s / d y[1] + d s / d y[2]
claim g = 2*y[0]
claim u = 2*(y[0] + y[1] + y[2])
claim d h / d g = 3'
expect_status 0 "a let holding a derivative: value claims"
[ "$(count HOLDS)" -eq 3 ] && ok || bad "a let holding a derivative: $(count HOLDS) of 3 hold"
for c in 'd g / d y[1] = 0' 'd h / d y[0] = 6' 'd g / d y[0] = 0'; do
    run -e "given y[3]
let s = sum(i, y[i])
let g = d s / d y[0]
let h = 3*g
claim $c"
    expect_status 2 "second derivative: $c"
    grep -q '^-e:5:7: d [gh] / d y goes through g, which holds a derivative (d s / d y, line 3): verify cannot differentiate it again; write g.s formula out' "$tmp/err" \
        && ok || { bad "second derivative: $c: message"; cat "$tmp/err"; }
done
run -e 'given x[2], W[2][2]
let L = sum(i, sum(j, W[i][j]*x[j])^2)
let G = d L / d W
let n = sum(i, sum(j, G[i][j]))
claim d n / d x[0] = 0'
expect_status 2 "second derivative through a matrix let"
grep -q 'goes through G, which holds a derivative (d L / d W, line 3)' "$tmp/err" && ok || bad "matrix let: message"
# a let's derivatives count in the claim's work: a sweep per entry of A
{ printf 'given x[1000]\nlet t = sum(k, x[k])\nlet s[i] = t * x[i]\nlet u[i] = s[i]'
  for i in $(seq 900); do printf '*s[i]'; done; printf '\nlet g[i] = d u[i] / d x[i]\nclaim g[i] = 1\n'; } >"$tmp/lwork"
run --points 1 "$tmp/lwork"
expect_status 2 "a let's derivatives: work"
grep -q '^.*:6:1: this claim needs about 9.09e+08 node visits per point' "$tmp/err" && ok || bad "a let's derivatives: work message"
# a derivative of another input does not go through it
run -e 'given x, y
let s = y*y
let g = d s / d y
let h = g*x
claim d h / d x = 2*y'
expect_status 0 "a derivative let off the path"
# the built-ins' derivatives f'(x) in a let are differentiated: against
# central differences (h = 1e-4: error of order h^2)
for f in sigmoid tanh stanh exp log sqrt sin cos sinh cosh relu abs; do
    run --tol 1e-6 -e "given x in (0.3, 2)
let y = $f'(x)
claim d y / d x = ($f'(x + 1e-4) - $f'(x - 1e-4)) / 2e-4"
    expect_status 0 "$f'' against central differences"
done

# usage
run; expect_status 2 "no arguments"
run --points 0 "$D/mistakes.txt"; expect_status 2 "--points 0"
run --tol abc "$D/mistakes.txt"; expect_status 2 "--tol abc"
run --tol 2 "$D/mistakes.txt"; expect_status 2 "--tol 2"
run --frobnicate "$D/mistakes.txt"; expect_status 2 "unknown option"
run "$tmp/does-not-exist"; expect_status 2 "missing file"
grep -q "cannot read" "$tmp/err" && ok || bad "missing file: message"
run -e; expect_status 2 "-e without text"
run --help; expect_status 0 "--help"
grep -q 'claim for i != j' "$tmp/out" && grep -q 'at most 1000' "$tmp/out" && ok || bad "--help documents the language"

echo "test_verify.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
