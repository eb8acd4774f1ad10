#!/usr/bin/env bash
# test_portable.sh BUILD — the portable kernels (CHAINRULE_PORTABLE=1, which
# forces them where the CPU has AVX2) pass the kernel tests, so they equal
# the naive loops bit for bit as the vector kernels do (and the CNN's
# kernels theirs); and the lesson 05
# golden run prints the same bytes with either.
B=${1:-build}
pass=0 fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }
out=$(CHAINRULE_PORTABLE=1 "$B/tests/test_kernels" 2>&1); st=$?
ok "test_kernels passes with the portable kernels" '[ $st -eq 0 ] && printf "%s\n" "$out" | grep -q " 0 failed"'
out=$(CHAINRULE_PORTABLE=1 "$B/tests/test_cnn" 2>&1); st=$?
ok "test_cnn passes with the portable kernels" '[ $st -eq 0 ] && printf "%s\n" "$out" | grep -q " 0 failed"'
ok "lesson 05 prints its golden output with the portable kernels" \
   'CHAINRULE_PORTABLE=1 "$B/lessons/05_mnist" --quick --data tests/data 2>/dev/null | cmp -s - tests/golden/05_mnist.txt'
echo "test_portable: $pass passed, $fail failed"
[ $fail -eq 0 ]
