#!/usr/bin/env bash
# test_threads.sh BUILD — hostile thread counts (issue 13, item 4): a team
# far larger than the work, or a count past INT_MAX (which OpenMP reads as
# a negative maximum), from OMP_NUM_THREADS or a benchmark's --threads, runs
# to the end with the same output as a sane count — one bound
# (kernels_threads) sizes every team and every per-thread buffer. Each run
# under timeout.
B=${1:-build}
pass=0 fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }
lesson() { timeout 120 "$B/lessons/05_mnist" --quick --data tests/data 2>/dev/null; }
mlp() { timeout 120 "$B/bench/mnist_mlp" --limit 600 --data tests/data "$@" 2>&1 | sed 's/ epoch_s=[^ ]*//; s/ gflops=[^ ]*//; s/ cpu_s=[^ ]*//; s/ peak_rss_mb=[^ ]*//; s/ threads=[^ ]*//'; }
cnn() { timeout 300 "$B/bench/mnist_cnn" --train 96 --data tests/data "$@" 2>&1 | grep '^epoch=' | sed 's/ epoch_s=[^ ]*//; s/ full_epoch_s=[^ ]*//; s/ gflops=[^ ]*//; s/ peak_rss_mb=[^ ]*//; s/ threads=[^ ]*//'; }
for n in 100000 2147483648 4294967297; do
    out=$(OMP_NUM_THREADS=$n lesson); st=$?
    ok "OMP_NUM_THREADS=$n: lesson 05 --quick exits 0 with its golden output" '[ $st -eq 0 ] && [ "$out" == "$(cat tests/golden/05_mnist.txt)" ]'
done
want=$(mlp --threads 2)
ok "mnist_mlp --threads 2 runs" '[ -n "$want" ] && printf "%s" "$want" | grep -q "^epoch=1 "'
for n in 100000 2147483647; do
    got=$(mlp --threads $n)
    ok "mnist_mlp --threads $n: the same losses as 2 threads" '[ "$got" == "$want" ]'
    got=$(OMP_NUM_THREADS=$n mlp --threads 1)
    ok "OMP_NUM_THREADS=$n mnist_mlp --threads 1: the same losses" '[ "$got" == "$want" ]'
done
want=$(cnn --threads 1)
ok "mnist_cnn --threads 1 runs" 'printf "%s" "$want" | grep -q "^epoch=1 .*loss_bits="'
for n in 2 100000 2147483647; do
    got=$(cnn --threads $n)
    ok "mnist_cnn --threads $n: the same losses as 1 thread" '[ "$got" == "$want" ]'
done
got=$(OMP_NUM_THREADS=2147483648 cnn --threads 1)
ok "OMP_NUM_THREADS=2147483648 mnist_cnn: the same losses" '[ "$got" == "$want" ]'
out=$(timeout 60 "$B/bench/mnist_cnn" --threads 0 --data tests/data 2>&1); st=$?
ok "mnist_cnn --threads 0: exit 2 with one line" '[ $st -eq 2 ] && [ $(printf "%s\n" "$out" | wc -l) -eq 1 ]'
echo "test_threads: $pass passed, $fail failed"
[ $fail -eq 0 ]
