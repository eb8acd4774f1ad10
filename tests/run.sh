#!/usr/bin/env bash
# tests/run.sh BUILD_DIR… — runs the whole suite once per build directory:
#   - every test program $B/tests/test_*  (each ends "name: N passed, N failed")
#   - every script tests/test_*.sh, given $B (same last line)
#   - every golden output tests/golden/NAME.txt: the output of the command in
#     tests/golden/NAME.args (a path under $B, then its arguments), or of
#     `$B/lessons/NAME --quick` when there is no .args file, byte for byte.
# and ends with one line "N passed, N failed"; exits 1 on any failure.
set -u
cd "$(dirname "$0")/.." || exit 2
export UBSAN_OPTIONS=print_stacktrace=1
total_pass=0 total_fail=0

count() {  # count NAME STATUS OUTPUT: adds the last "N passed, N failed" line
    local name=$1 status=$2 out=$3 line p f
    line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    if [ -z "$line" ]; then
        printf '%s\n' "$out" | tail -n 20
        echo "$name: no result line (exit $status): 0 passed, 1 failed" | sed 's/^/  /'
        total_fail=$((total_fail + 1)); return
    fi
    p=$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
    f=$(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
    if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    [ "$f" -ne 0 ] && printf '%s\n' "$out" | grep -E 'FAIL|ERROR|Sanitizer|runtime error' | head -n 30
    echo "  $name: $p passed, $f failed"
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
}

for B in "$@"; do
    echo "== $B"
    for t in "$B"/tests/test_*; do
        [ -x "$t" ] || continue
        out=$(BUILD="$B" timeout 900 "$t" 2>&1); st=$?
        count "$(basename "$t")" "$st" "$out"
    done
    for s in tests/test_*.sh; do
        [ -f "$s" ] || continue
        out=$(BUILD="$B" timeout 900 bash "$s" "$B" 2>&1); st=$?
        count "$(basename "$s")" "$st" "$out"
    done
    gp=0 gf=0
    for want in tests/golden/*.txt; do
        [ -f "$want" ] || continue
        name=$(basename "$want" .txt)
        if [ -f "tests/golden/$name.args" ]; then
            read -r cmd args < "tests/golden/$name.args"
        else
            cmd="lessons/$name"; args="--quick"
        fi
        # shellcheck disable=SC2086
        got=$(timeout 900 "$B/$cmd" $args 2>/dev/null); st=$?
        if [ "$st" -eq 0 ] && [ "$got" == "$(cat "$want")" ]; then gp=$((gp + 1))
        else
            gf=$((gf + 1))
            echo "FAIL: golden $name (exit $st): $B/$cmd $args differs from $want:"
            diff <(printf '%s\n' "$got") "$want" | head -n 20
        fi
    done
    echo "  golden: $gp passed, $gf failed"
    total_pass=$((total_pass + gp)); total_fail=$((total_fail + gf))
done
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
