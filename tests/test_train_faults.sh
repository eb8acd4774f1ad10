#!/usr/bin/env bash
# test_train_faults.sh BUILD — training faults say what happened: a run
# whose loss stops being finite (lesson 05 at learning rate 1000 on the
# float32 fast path, lesson 04 at 1.7e308 on the double graph) stops with
# one line naming the epoch and step, the last finite loss and a hint,
# exits 3 (the README's status for a training fault), and keeps what it
# printed before. A sane rate still exits 0.
B=${1:-build}
pass=0 fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }
has() { printf '%s\n' "$1" | grep -qE -- "$2"; }
Q=(--quick --data tests/data)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

"$B/lessons/05_mnist" "${Q[@]}" --lr 1000 >"$tmp/out" 2>"$tmp/err"; st=$?
out=$(cat "$tmp/out"); err=$(cat "$tmp/err")
ok "05 --lr 1000 exits 3 (got $st)" '[ $st -eq 3 ]'
ok "05 --lr 1000: one line on stderr" '[ "$(printf "%s\n" "$err" | grep -c .)" -eq 1 ]'
ok "05 --lr 1000 names epoch and step" 'has "$err" "^05_mnist: training fault at epoch 1, step [0-9]+ of [0-9]+ \(step [0-9]+ in all\): the loss is infinite in float32"'
ok "05 --lr 1000 gives the last finite loss" 'has "$err" "; last finite loss [0-9.e+-]+ at step [0-9]+;"'
ok "05 --lr 1000 gives a hint" 'has "$err" "is the learning rate \(1000\) too high, or are the inputs not scaled"'
ok "05 --lr 1000 keeps what it printed (the cross-check)" 'has "$out" "^largest relative difference: .* agree"'
ok "05 --lr 1000 prints no nan" '! has "$out" "nan"'

"$B/lessons/05_mnist" "${Q[@]}" --lr abc >/dev/null 2>"$tmp/err"; st=$?
ok "05 --lr abc exits 2" '[ $st -eq 2 ] && has "$(cat "$tmp/err")" "--lr: .abc. is not a number"'
"$B/lessons/05_mnist" "${Q[@]}" --lr -1 >/dev/null 2>"$tmp/err"; st=$?
ok "05 --lr -1 exits 2" '[ $st -eq 2 ] && has "$(cat "$tmp/err")" "--lr: -1 is not positive"'

"$B/lessons/04_synthetic" --quick --lr 1.7e308 >"$tmp/out" 2>"$tmp/err"; st=$?
err=$(grep -v "^04_synthetic: training, " "$tmp/err")
ok "04 --lr 1.7e308 exits 3 (got $st)" '[ $st -eq 3 ]'
ok "04 --lr 1.7e308 names epoch, step, last loss, hint" 'has "$err" "^04_synthetic: training fault at epoch 1, step [0-9]+ of 2000: the loss is (NaN|infinite)|a gradient is not finite; last finite loss [0-9.e+-]+ at step [0-9]+; is the learning rate \(1.7e\+308\) too high"'
ok "04 --lr 1.7e308 keeps the epoch-0 row" 'has "$(cat "$tmp/out")" "^    0   1.1709217"'

# --save writes a model predict reads; a rate off the sweep still tests a model
"$B/lessons/05_mnist" "${Q[@]}" --lr 0.02 --save "$tmp/m.bin" >"$tmp/out" 2>/dev/null; st=$?
ok "05 --lr 0.02 --save exits 0" '[ $st -eq 0 ]'
ok "05 --save says where" 'has "$(cat "$tmp/out")" "^model saved to $tmp/m.bin "'
ok "05 --save leaves no temporary" '[ -s "$tmp/m.bin" ] && ! compgen -G "$tmp/m.bin*.tmp" >/dev/null'
ok "05 --save: the test line names rate 0.02" 'has "$(cat "$tmp/out")" "test set \(100 images\), per-sample SGD, rate 0.02"'
"$B/lessons/05_mnist" "${Q[@]}" --save /nonexistent/dir/m.bin >/dev/null 2>"$tmp/err"; st=$?
ok "05 --save to a bad path exits 2 naming it" '[ $st -eq 2 ] && has "$(cat "$tmp/err")" "/nonexistent/dir/m.bin\.[0-9]+\.tmp: cannot write"'

echo "test_train_faults: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
