#!/usr/bin/env bash
# test_version.sh BUILD — every program built in BUILD (the lessons,
# verify, predict, the benchmarks) answers --version with one line in the
# GNU form "NAME (chainrule) VERSION", VERSION the file's, and exit 0.
B=${1:-build}
pass=0 fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }
version=$(cat VERSION)
n=0
for exe in "$B"/lessons/[0-9][0-9]_* "$B/verify" "$B/predict" "$B"/bench/*; do
    [ -x "$exe" ] && [ -f "$exe" ] || continue
    n=$((n + 1))
    name=$(basename "$exe")
    out=$("$exe" --version); st=$?
    ok "$name --version: '$out' (exit $st)" '[ $st -eq 0 ] && [ "$out" = "$name (chainrule) $version" ]'
done
ok "found the lessons, verify and the benchmarks ($n programs)" '[ $n -ge 12 ]'
ok "--help lists --version" '"$B/lessons/01_chain_rule" --help | grep -q -- "--version"'
echo "test_version: $pass passed, $fail failed"
[ $fail -eq 0 ]
