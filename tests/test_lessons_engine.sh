#!/usr/bin/env bash
# test_lessons_engine.sh BUILD — lessons 01–03: the table of LESSONS.md for
# lesson 03 line by line, exit statuses, and bad command lines (exit 2, one
# line naming the flag).
B=${1:-build}
pass=0 fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }

out=$("$B/lessons/03_scalar_backprop"); st=$?
ok "03 exits 0" '[ $st -eq 0 ]'
# the course's hand-computed numbers, as LESSONS.md gives them
while IFS= read -r want; do
    ok "03 prints: $want" 'printf "%s\n" "$out" | grep -qxF -- "$want"'
done <<'TABLE'
k1     [2.0000000, 2.0000000, 2.0000000]
h      [0.8807971, 0.8807971, 0.8807971]
k2     [-0.8807971, -0.8807971]
y      [0.5000000, 0.5000000]
loss   0.6931472
dW     [[0.0000000, 0.0000000, 0.0000000], [0.0000000, 0.0000000, 0.0000000]]
db     [0.0000000, 0.0000000, 0.0000000]
dV     [[-0.4403985, 0.4403985], [-0.4403985, 0.4403985], [-0.4403985, 0.4403985]]
dc     [-0.5000000, 0.5000000]
TABLE
ok "03 finite differences agree twice" '[ $(printf "%s\n" "$out" | grep -c "weights: agree") -eq 2 ]'
ok "03 --seed changes example 2" '[ "$("$B/lessons/03_scalar_backprop" --seed 9 | grep -m1 "^loss" )" = "$(printf "%s\n" "$out" | grep -m1 "^loss")" ] && ! diff -q <("$B/lessons/03_scalar_backprop" --seed 9) <(printf "%s\n" "$out") >/dev/null'

for l in 01_chain_rule 02_local_derivatives 03_scalar_backprop; do
    exe="$B/lessons/$l"
    ok "$l --help exits 0" '"$exe" --help >/dev/null'
    for args in "--bogus" "--seed" "--seed x" "--seed 99999999999" "--quick=1" "stray"; do
        # shellcheck disable=SC2086
        err=$("$exe" $args 2>&1 >/dev/null); st=$?
        ok "$l $args exits 2 with one line" '[ $st -eq 2 ] && [ $(printf "%s\n" "$err" | wc -l) -eq 1 ] && printf "%s" "$err" | grep -q "^$l: "'
    done
done
err=$("$B/lessons/03_scalar_backprop" --seed 2>&1 >/dev/null)
ok "missing value names the flag" '[ "$err" = "03_scalar_backprop: --seed needs a value (N)" ]'
err=$("$B/lessons/03_scalar_backprop" --sed 1 2>&1 >/dev/null)
ok "unknown flag named" '[ "$err" = "03_scalar_backprop: unknown option '"'"'--sed'"'"' (try --help)" ]'
echo "test_lessons_engine: $pass passed, $fail failed"
[ $fail -eq 0 ]
