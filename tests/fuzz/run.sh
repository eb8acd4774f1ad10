#!/usr/bin/env bash
# make fuzz — builds every tests/fuzz/fuzz_NAME.c as a libFuzzer target with
# clang (ASan + UBSan) and runs it from its seed corpus tests/fuzz/NAME/.
#   FUZZ_RUNS (default 1000000) executions per target; FUZZ_ONLY=NAME for one.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v clang >/dev/null 2>&1; then
    echo "make fuzz: clang is missing; install it with: apt-get install clang libclang-rt-14-dev" >&2
    exit 2
fi
runs=${FUZZ_RUNS:-1000000}
mkdir -p build/fuzz
flags="-std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Wno-unknown-pragmas -Iengine -Imodels -Ilessons -Ilessons/verify"
for src in tests/fuzz/fuzz_*.c; do
    [ -f "$src" ] || continue
    name=$(basename "$src" .c); name=${name#fuzz_}
    [ -n "${FUZZ_ONLY:-}" ] && [ "$FUZZ_ONLY" != "$name" ] && continue
    echo "== fuzz $name: building"
    # shellcheck disable=SC2086
    clang $flags "$src" engine/*.c models/*.c lessons/cli.c $(ls lessons/verify/*.c | grep -v main.c) -lpng -lm -o "build/fuzz/$name"
    work="build/fuzz/$name-corpus"
    mkdir -p "$work"
    [ -d "tests/fuzz/$name" ] && cp -n "tests/fuzz/$name"/* "$work"/ 2>/dev/null || true
    # the expr corpus: the one copy of the example derivations (their
    # languages' every feature) plus the error seeds kept in tests/fuzz/expr/
    if [ "$name" = expr ]; then
        for f in lessons/verify/derivations/*.txt lessons/verify/derivations/*/*.txt; do
            [ -f "$f" ] && cp -n "$f" "$work/derivation-$(echo "$f" | tr / _)"
        done
    fi
    echo "== fuzz $name: $runs runs"
    "build/fuzz/$name" -runs="$runs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 "$work" 2>&1 | tail -n 12
done
