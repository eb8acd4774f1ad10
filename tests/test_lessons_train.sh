#!/usr/bin/env bash
# test_lessons_train.sh BUILD — lessons 06–09 (the training lessons) on the
# 100-image slice in tests/data: the parameter counts of LESSONS.md, the
# lesson-07 gradient check, the same numbers for 1 and 2 threads, and bad
# command lines and data roots (exit 2, one line naming the problem).
# The golden files check the whole --quick output; this checks the parts
# that the specification fixes, so a changed golden cannot hide them.
B=${1:-build}
pass=0 fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }
has() { printf '%s\n' "$1" | grep -qE -- "$2"; }
Q=(--quick --data tests/data)

# 07: the assignment's parameter counts and its gradient check
out=$("$B/lessons/07_tricks" "${Q[@]}" 2>/dev/null); st=$?
ok "07 exits 0" '[ $st -eq 0 ]'
ok "07 counts 784-64-10 as 50890" 'has "$out" "^  784-64-10 +50890 +50880$"'
ok "07 counts 784-64-64-10 as 55050" 'has "$out" "^  784-64-64-10 +55050 "'
ok "07 gradient check passes" 'has "$out" "^  gradient check: passed "'
ok "07 every weight checked" 'has "$out" "^  sigmoid, U\[-1,1\] +50880 .* pass$"'
ok "07 golden matches with 1 thread" '[ "$(OMP_NUM_THREADS=1 "$B/lessons/07_tricks" "${Q[@]}" 2>/dev/null)" == "$out" ]'

# 08: the Keras-style totals of LESSONS.md
out=$("$B/lessons/08_depth" "${Q[@]}" 2>/dev/null); st=$?
ok "08 exits 0" '[ $st -eq 0 ]'
for n in 28,618 44,458 65,578; do
    ok "08 prints Total params: $n" 'has "$out" "^Total params: $n$"'
done

# the same bits for 1 and 2 threads, against the golden files
for l in 06_capacity 09_regularisation; do
    for t in 1 2; do
        ok "$l --quick with $t thread(s) matches its golden" \
           '[ "$(OMP_NUM_THREADS=$t "$B/lessons/$l" "${Q[@]}" 2>/dev/null)" == "$(cat tests/golden/$l.txt)" ]'
    done
done

# bad command lines and data: exit 2, one line on stderr, named after the lesson
for l in 06_capacity 07_tricks 08_depth 09_regularisation; do
    exe="$B/lessons/$l"
    ok "$l --help exits 0" '"$exe" --help >/dev/null'
    for args in "--bogus" "--seed" "--seed x" "--quick=1" "stray" "--quick --full" \
                "--data /nonexistent" "--quick --data /nonexistent"; do
        # shellcheck disable=SC2086
        err=$("$exe" $args 2>&1 >/dev/null); st=$?
        ok "$l $args exits 2 with one line" \
           '[ $st -eq 2 ] && [ $(printf "%s\n" "$err" | wc -l) -eq 1 ] && printf "%s" "$err" | grep -q "^$l: "'
    done
    err=$("$exe" --data /nonexistent 2>&1 >/dev/null)
    ok "$l names the missing file" 'printf "%s" "$err" | grep -q "/nonexistent"'
done
err=$("$B/lessons/06_capacity" --opt momentum 2>&1 >/dev/null); st=$?
ok "06 --opt momentum refused" '[ $st -eq 2 ] && [ "$err" = "06_capacity: --opt: '"'"'momentum'"'"' is not one of sgd|adam|rmsprop" ]'
err=$("$B/lessons/09_regularisation" --epochs 0 2>&1 >/dev/null); st=$?
ok "09 --epochs 0 refused" '[ $st -eq 2 ] && [ $(printf "%s\n" "$err" | wc -l) -eq 1 ]'
echo "test_lessons_train: $pass passed, $fail failed"
[ $fail -eq 0 ]
