#!/usr/bin/env bash
# test_lesson10.sh BUILD — lesson 10 (the CNN) on the 100-image slice in
# tests/data: the parameter count of the assignment's network, the
# cross-check line, the same output and plot tables twice and for 1 and 2
# threads (against the golden file), --save writing a model, and bad command
# lines (exit 2, one line naming the problem).
B=${1:-build}
pass=0 fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }
has() { printf '%s\n' "$1" | grep -qE -- "$2"; }
exe="$B/lessons/10_cnn"
Q=(--quick --data tests/data)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

out=$(OMP_NUM_THREADS=1 "$exe" "${Q[@]}" --save "$tmp/m.cnn" 2>/dev/null); st=$?
ok "10 exits 0" '[ $st -eq 0 ]'
ok "10 counts 4,926,202 parameters" 'has "$out" "^Total params: 4926202$"'
ok "10 conv layer has 320" 'has "$out" "^ conv2d \(Conv2D\) +\(None, 28, 28, 32\) +320 "'
ok "10 prints the cross-check" 'has "$out" "largest relative difference [0-9.e-]+ \(in d"'
ok "10 saved the model" '[ -s "$tmp/m.cnn" ] && [ ! -e "$tmp/m.cnn.tmp" ]'
ok "10 says where it saved" 'has "$out" "^saved the unregularised model at its best epoch to $tmp/m.cnn"'
ok "10 with 1 thread matches its golden" '[ "$(sed "/^saved /d" <<<"$out")" == "$(cat tests/golden/10_cnn.txt)" ]'
mkdir -p "$tmp/t1"
cp build/data/quick/10_cnn_*.dat "$tmp/t1/" 2>/dev/null
out2=$(OMP_NUM_THREADS=2 "$exe" "${Q[@]}" 2>/dev/null)
ok "10 with 2 threads gives the same output" '[ "$out2" == "$(cat tests/golden/10_cnn.txt)" ]'
same=1
for f in "$tmp"/t1/*.dat; do cmp -s "$f" "build/data/quick/$(basename "$f")" || same=0; done
ok "10 with 2 threads writes the same plot tables" '[ $same -eq 1 ] && [ -s "$tmp/t1/10_cnn_maps.dat" ] && [ -s "$tmp/t1/10_cnn_filters.dat" ]'
ok "10 --bn channel golden counts gamma, beta and the running buffers" \
   'grep -q "^Non-trainable params: 64$" tests/golden/10_cnn_bn_channel.txt'

ok "10 --help exits 0" '"$exe" --help >/dev/null'
for args in "--bogus" "--seed x" "stray" "--quick --full" "--bn batch" "--set letters" \
            "--epochs 0" "--train 0" "--quick --train 51" "--data /nonexistent"; do
    # shellcheck disable=SC2086
    err=$("$exe" $args 2>&1 >/dev/null); st=$?
    ok "10 $args exits 2 with one line" \
       '[ $st -eq 2 ] && [ $(printf "%s\n" "$err" | wc -l) -eq 1 ] && printf "%s" "$err" | grep -q "^10_cnn: "'
done
err=$("$exe" --bn batch 2>&1 >/dev/null)
ok "10 names the bad --bn" '[ "$err" = "10_cnn: --bn: '"'"'batch'"'"' is not feature, channel or none" ]'
echo "test_lesson10: $pass passed, $fail failed"
[ $fail -eq 0 ]
