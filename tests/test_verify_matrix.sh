#!/usr/bin/env bash
# test_verify_matrix.sh BUILD_DIR — matrix-level claims as students write
# them (whole vectors and matrices, ^T, products, .* / ⊙): the verdict of
# each, right ones and wrong ones, and for a shape error the located
# message naming both shapes; the sharper hints; the work of a batch run
# bounded over all its submissions.
set -u
cd "$(dirname "$0")/.." || exit 2
B=${1:-build}
V="$B/verify"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# a layer for one sample (x is a column), and a batch (a row per sample)
layer='given x[3], W[3][2], b[2], t[2]
let z = W^T x + b
let y = sigmoid(z)
let L = sum(j, (y[j] - t[j])^2) / 2
let dz = (y - t) .* y .* (1 - y)'
batch='given X[4][3], W1[3][5], W2[5][2], T[4][2] onehot
let A = X W1
let H = tanh(A)
let Z = H W2
let P[n][k] = exp(Z[n][k]) / sum(q, exp(Z[n][q]))
let J = -sum(n, sum(k, T[n][k]*log(P[n][k]))) / 4
let Do = (P - T) / 4'

# verdict NAME WANT TEXT: the one claim of TEXT gets WANT (HOLDS or FAILS)
verdict() {
    "$V" -e "$3" >"$tmp/out" 2>"$tmp/err"; local st=$?
    local want_st=0; [ "$2" = FAILS ] && want_st=1
    if [ "$st" -eq "$want_st" ] && grep -q "^$2  " "$tmp/out"; then ok
    else bad "$1: exit $st, want $2"; head -n 5 "$tmp/out" "$tmp/err"; fi
}
# refused NAME 'MESSAGE' TEXT: exit 2 and stderr starting -e:LINE:COL: MESSAGE
refused() {
    "$V" -e "$3" >"$tmp/out" 2>"$tmp/err"; local st=$?
    if [ "$st" -eq 2 ] && [ "$(head -n 1 "$tmp/err")" = "$2" ] && [ ! -s "$tmp/out" ]; then ok
    else bad "$1: exit $st"; echo "  got:  $(head -n 1 "$tmp/err")"; echo "  want: $2"; fi
}

# right ones
verdict "dL/dW = x dz^T (outer product)" HOLDS "$layer
claim dL/dW = x dz^T"
verdict "dL/db = dz" HOLDS "$layer
claim d L / d b = dz"
verdict "dL/dx = W dz" HOLDS "$layer
claim d L / d x = W dz"
verdict "dL/dz = (y - t) ⊙ σ'(z) in Unicode" HOLDS "$layer
claim ∂L/∂z = (y − t) ⊙ y ⊙ (1 − y)"
verdict "dL/dz = (y - t) .* sigmoid'(z)" HOLDS "$layer
claim d L / d z = (y - t) .* sigmoid'(z)"
verdict "LaTeX: (y - t) \\odot \\sigma'(z)" HOLDS "$layer
claim \$\\frac{\\partial L}{\\partial z} = (y - t) \\odot \\sigma'(z)\$"
verdict "tanh' and relu'" HOLDS 'given x in (-2, 2)
let f = tanh(x) + relu(x)
claim d f / d x = tanh'"'"'(x) + relu'"'"'(x)'
verdict "sigma' where sigma is meant" FAILS "$layer
claim d L / d z = (y - t) .* sigmoid'(y)"
refused "step' is not read" "-e:2:9: step' is not read (write the derivative out, or d f / d x)" 'given x
let f = step'"'"'(x)'
verdict "LaTeX: x dz^\\top" HOLDS "$layer
claim \$\\frac{\\partial L}{\\partial W} = x \\, dz^{\\top}\$"
verdict "Unicode transpose: x dzᵀ" HOLDS "$layer
claim d L / d W = x dzᵀ"
verdict "batch: dL/dW2 = H^T Delta" HOLDS "$batch
claim d J / d W2 = H^T Do"
verdict "batch: dL/dH = Delta W2^T" HOLDS "$batch
claim d J / d H = Do W2^T"
verdict "the delta recursion as lets" HOLDS "$batch
let Dh = (Do W2^T) .* (1 - H .* H)
claim d J / d W1 = X^T Dh"
verdict "a value claim of a matrix expression" HOLDS "$layer
claim z = W^T x + b"
verdict "the Jacobian of two vectors" HOLDS 'given u[3], M[2][3]
let v = M u
claim d v / d u = M'

# wrong ones: a missing transpose, a product in the wrong order, ⊙ where a
# product is meant, a product where ⊙ is meant — each a located shape error
refused "missing transpose" \
    "-e:6:15: x dz: cannot multiply (3×1) by (2×1) (they fit with the right one transposed)" "$layer
claim dL/dW = x dz"
refused "x^T dz with x a column" \
    "-e:6:19: x^T dz: cannot multiply (1×3) by (2×1) (they fit in the other order or both transposed)" "$layer
claim d L / d W = x^T dz"
refused "product in the wrong order" \
    "-e:8:20: the sides of this claim differ in shape: d J / d W2 is (5×2), Do^T H is (2×5)" "$batch
claim d J / d W2 = Do^T H"
refused "⊙ where a product is meant" \
    "-e:6:19: W .* dz: cannot multiply entry by entry (3×2) and (2×1)" "$layer
claim d L / d x = W .* dz"
refused "a product where ⊙ is meant" \
    "-e:6:10: (y - t) y: cannot multiply (2×1) by (2×1) (entry by entry is .* or ⊙)" "$layer
let e2 = (y - t) y"
refused "an entry on one side, the whole on the other" \
    "-e:6:22: the sides of this claim differ in shape: d L / d b[j] is (1×1), dz is (2×1) (index both sides, or neither)" "$layer
claim d L / d b[j] = dz"
refused "a column plus a row" \
    "-e:6:11: x^T W + b: cannot add (1×2) and (2×1) (a transpose missing?)" "$layer
claim z = x^T W + b"
refused "an indexed let of a matrix" \
    "-e:6:12: W^T x is (2×1): an indexed let defines one entry, so write it with indices, or define the whole: let q = ..." "$layer
let q[i] = W^T x"
# a product in the wrong order whose shapes fit (square): FAILS, the
# counterexample names the entry [i][j], the hint says transposed
verdict "square product in the wrong order" FAILS 'given x[3], W[3][3]
let z = W x
let L = sum(i, sigmoid(z[i]))
let dz = sigmoid(z) .* (1 - sigmoid(z))
claim d L / d W = x dz^T'
grep -q '^       d L / d W\[[0-2]\]\[[0-2]\]: claimed .*, engine ' "$tmp/out" && ok || bad "wrong order: the entry [i][j]"
grep -q 'hint: right on the diagonal, and off it claimed \[i\]\[j\] = engine \[j\]\[i\] at every failing entry: a transposed index' "$tmp/out" \
    && ok || bad "wrong order: the transposed hint"
# a batch mean forgotten: a factor at every entry
verdict "batch without 1/B" FAILS "$batch
claim d J / d W2 = H^T (P - T)"
grep -q 'hint: claimed = 4 x engine at every entry: a missing or extra factor?' "$tmp/out" && ok || bad "1/B: the factor hint"
# the delta recursion without the derivative of tanh
verdict "delta without tanh'" FAILS "$batch
claim d J / d A = Do W2^T"

# a course that writes x^T d: x declared as a row, x[1][3]
verdict "x^T dz with x a row" HOLDS 'given x[1][3], W[3][2], t[1][2]
let z = x W
let L = sum(j, (z[0][j] - t[0][j])^2) / 2
let dz = z - t
claim d L / d W = x^T dz'
# --help documents matrix claims
"$V" --help >"$tmp/out"
grep -q '^Matrix claims: a vector or a matrix used whole' "$tmp/out" && grep -q 'X^\\top, X^{T}, X' "$tmp/out" \
    && grep -q 'column (3x1)' "$tmp/out" && ok || bad "--help: matrix claims"

# the sharper hints, each on its own
verdict "off-diagonal missing" FAILS 'given o[3]
let y[i] = exp(o[i]) / sum(k, exp(o[k]))
claim d y[i] / d o[j] = y[i]*(1 - y[i])*delta(i,j)'
grep -q 'hint: right on the diagonal, claimed 0 off it: the off-diagonal entries are missing (a delta term?)$' "$tmp/out" \
    && ok || bad "off-diagonal missing: hint"
! grep -q 'transposed' "$tmp/out" && ok || bad "off-diagonal missing: not called transposed"
verdict "reciprocal" FAILS 'given x in (1, 2)
let f = log(x)
claim d f / d x = x'
grep -q 'hint: claimed = 1/engine at every failing entry: the reciprocal of the derivative?' "$tmp/out" && ok || bad "reciprocal: hint"
verdict "a sign slip in one case" FAILS 'given x[4]
let f[i] = x[i]^2
claim d f[i] / d x[i] = 2*abs(x[i])'
grep -q 'hint: claimed = -engine at the [0-9]* failing entries, right at the other [0-9]*: a sign slip in one case?' "$tmp/out" \
    && ok || bad "a sign slip in one case: hint"
verdict "a factor in one case" FAILS 'given x[4]
let f[i] = x[i]^2
claim d f[i] / d x[i] = 2*x[i] + 2*x[i]*step(-x[i])'
grep -q 'hint: claimed = 2 x engine at the [0-9]* failing entries, right at the other [0-9]*: a factor in one case?' "$tmp/out" \
    && ok || bad "a factor in one case: hint"
n_fail=$(sed -n 's/.*fails at \([0-9]*\) of 80 entries.*/\1/p' "$tmp/out")
grep -q "at the $n_fail failing entries, right at the other $((80 - n_fail))" "$tmp/out" && ok || bad "a factor in one case: the counts"

# a long 'at' line shows only the inputs the worst entry depends on (h[i]
# reads row i of W and all of x); a short one shows every input
verdict "a long 'at' line" FAILS 'given x[8], W[8][8]
let z = W x
let h = tanh(z)
claim d h[i] / d z[i] = 1 - h[i]'
row=$(sed -n 's/^       d h\[\([0-7]\)\] \/ d z.*/\1/p' "$tmp/out")
grep -q "^       at x = \[[^]]*\], W\[$row\] = \[[^],]*\(, [^],]*\)\{7\}\] (the inputs this entry depends on; 56 others left out)\$" "$tmp/out" \
    && ok || { bad "a long 'at' line: only what the entry depends on"; grep '^       at ' "$tmp/out"; }
verdict "a short 'at' line" FAILS 'given x[2], W[2][2]
let z = W x
let h = tanh(z)
claim d h[i] / d z[i] = 1 - h[i]'
grep -q '^       at x = \[[^]]*\], W = \[\[.*\]\]$' "$tmp/out" && ok || bad "a short 'at' line: every input"

# batch: a student's matrix claim is graded against the assignment's
# indexed one
printf '%s\nclaim d L / d W[i][j] = x[i]*dz[j]\nclaim d L / d b[j] = dz[j]\n' "$layer" >"$tmp/asg.txt"
printf 'claim dL/dW = x dz^T\nclaim dL/db = dz .* dz\n' >"$tmp/ann.txt"
"$V" --defs "$tmp/asg.txt" "$tmp/ann.txt" >"$tmp/out" 2>"$tmp/err"; st=$?
[ "$st" -eq 0 ] && [ "$(tail -n 1 "$tmp/out")" = "ann,1,0,1" ] && ok || { bad "batch: matrix claims graded"; cat "$tmp/out" "$tmp/err"; }

# the work of a batch run is bounded over all its submissions: many large
# ones are refused at once, with how many fit; a few are graded
printf 'given o[100]\nlet y[i] = exp(o[i]) / sum(k, exp(o[k]))\nclaim d y[i] / d o[j] = y[i]*(delta(i,j) - y[j])\n' >"$tmp/big.txt"
mkdir "$tmp/subs"
for i in $(seq 1 60); do echo 'claim d y[i] / d o[j] = y[i]*(delta(i,j) - y[j])' >"$tmp/subs/s$i.txt"; done
st=0; timeout 10 "$V" --defs "$tmp/big.txt" "$tmp/subs"/*.txt >"$tmp/out" 2>"$tmp/err" || st=$?
[ "$st" -eq 2 ] && ok || bad "batch of 60 large submissions: exit $st, want 2"
grep -q -- "--defs: grading these 60 submissions needs about .* node visits in all (--points 20); the limit for a run is 2e+08: the first [0-9]* fit" "$tmp/err" \
    && [ ! -s "$tmp/out" ] && ok || { bad "batch of 60: message"; cat "$tmp/err"; }
fit=$(sed -n 's/.*the first \([0-9]*\) fit.*/\1/p' "$tmp/err")
[ -n "$fit" ] && [ "$fit" -ge 1 ] && [ "$fit" -lt 60 ] && ok || bad "batch of 60: how many fit ($fit)"
subs=$(for i in $(seq 1 "$fit"); do printf '%s ' "$tmp/subs/s$i.txt"; done)
# shellcheck disable=SC2086
st=0; timeout 60 "$V" --defs "$tmp/big.txt" $subs >"$tmp/out" 2>"$tmp/err" || st=$?
[ "$st" -eq 0 ] && [ "$(grep -c ',1,1$' "$tmp/out")" -eq "$fit" ] && ok || bad "batch of the $fit that fit: exit $st"

# a condition compares numbers: a matrix in one is refused, located (it
# reached the evaluator unlowered: a null dereference, found by make fuzz)
refused "a matrix in a claim's condition" "-e:3:11: a condition compares numbers: this side is a 2-by-2 matrix; compare one entry (b[i][j] > 0, b_{ij} > 0)" 'given a[2][2]
let b = 2 a
claim for b < 9: d b[0][1] / d a[0][1] = 2'
refused "a matrix in a case's condition" "-e:3:29: a condition compares numbers: this side is a 2-by-2 matrix; compare one entry (b[i][j] > 0, b_{ij} > 0)" 'given a[2][2]
let b = 2 a
claim \begin{cases} 1 & 0 < b \\ 0 & \text{otherwise} \end{cases} = 1'
verdict "an entry in a condition" HOLDS 'given a[2][2]
let b = 2 a
claim b[i][j] = 2*a[i][j] \quad \text{when } b_{ij} > 0'

echo "test_verify_matrix.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
