#!/usr/bin/env bash
# tests/test_lessons_data.sh BUILD_DIR — every program that takes --data
# turns bad data into exit status 2 and one line on stderr naming the file
# and the problem, with nothing on stdout. Data roots are made from the
# committed slices in tests/data, each broken one way.
set -u
cd "$(dirname "$0")/.." || exit 2
B=${1:-build}
prog="$B/lessons/00_data"
pass=0 fail=0
t="$B/tmp/test_lessons_data"
rm -rf "$t" && mkdir -p "$t" || exit 2

# fresh ROOT NAME: a copy of tests/data at $t/NAME
fresh() { rm -rf "${t:?}/$1"; cp -r tests/data "$t/$1"; rm -f "$t/$1/make_slices.sh"; }

# expect NAME PATTERN ARGS…: exit 2, exactly one stderr line matching PATTERN
expect() {
    local name=$1 pat=$2; shift 2
    local out err st
    out=$("$prog" "$@" 2>"$t/stderr"); st=$?
    err=$(cat "$t/stderr")
    if [ "$st" = 2 ] && [ -z "$out" ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] &&
       printf '%s\n' "$err" | grep -qE -- "$pat"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $name: exit $st, stdout ${#out} bytes, stderr:"; printf '%s\n' "$err" | sed 's/^/    /'
    fi
}

m=mnist/train-images-idx3-ubyte
expect "missing root" "^00_data: $t/none/$m: no such file" --data "$t/none" --quick

fresh trunc; head -c 5000 tests/data/$m > "$t/trunc/$m"
expect "truncated" "^00_data: $t/trunc/$m: header promises 78400 bytes of pixels, file holds 4984$" --data "$t/trunc"

fresh gz; gzip -c tests/data/$m > "$t/gz/$m"
expect "gzip" "^00_data: $t/gz/$m: file is still gzip-compressed; gunzip it first$" --data "$t/gz"

fresh magic; { printf 'JUNK'; tail -c +5 tests/data/$m; } > "$t/magic/$m"
expect "wrong magic" "^00_data: $t/magic/$m: wrong magic number 0x4A554E4B: not an IDX file$" --data "$t/magic"

fresh swapped; cp tests/data/mnist/t10k-labels-idx1-ubyte "$t/swapped/mnist/t10k-images-idx3-ubyte"
expect "labels for images" "t10k-images-idx3-ubyte: wrong magic number 0x00000801: a 1-dimensional file where images" --data "$t/swapped"

fresh empty; : > "$t/empty/fashion-mnist/t10k-labels-idx1-ubyte"
expect "empty" "^00_data: $t/empty/fashion-mnist/t10k-labels-idx1-ubyte: file is empty$" --data "$t/empty"

fresh dir; rm "$t/dir/$m"; mkdir "$t/dir/$m"
expect "directory" "$t/dir/$m: is a directory" --data "$t/dir"

fresh trailing; printf 'xyz' >> "$t/trailing/$m"
expect "trailing" "$t/trailing/$m: 3 bytes of trailing garbage" --data "$t/trailing"

fresh count; { printf '\0\0\10\1\0\0\0\143'; tail -c +9 tests/data/mnist/train-labels-idx1-ubyte | head -c 99; } > "$t/count/mnist/train-labels-idx1-ubyte"
expect "count mismatch" "train-labels-idx1-ubyte: 99 labels for the 100 images of $t/count/$m$" --data "$t/count"

fresh label; printf '\17' | dd of="$t/label/mnist/t10k-labels-idx1-ubyte" bs=1 seek=20 conv=notrunc 2>/dev/null
expect "label out of range" "t10k-labels-idx1-ubyte: label 12 is 15, outside 0..9$" --data "$t/label"

# $CHAINRULE_DATA is the root when --data is not given
out=$(CHAINRULE_DATA="$t/none" "$prog" --quick 2>&1); st=$?
if [ "$st" = 2 ] && printf '%s\n' "$out" | grep -q "$t/none/$m: no such file"; then pass=$((pass + 1))
else fail=$((fail + 1)); echo "FAIL: CHAINRULE_DATA not honoured: $out"; fi

# bad flags
expect "bad flag" "^00_data: " --bogus
expect "bad seed" "--seed" --seed x

# lesson 04: its check values for the other variant, and its bad flags
out=$("$B/lessons/04_synthetic" --quick --variant 2021 2>/dev/null); st=$?
if [ "$st" = 0 ] && printf '%s\n' "$out" | grep -q "first point  *(1.764052345967664, 0.4001572083672233)" &&
   printf '%s\n' "$out" | grep -q "train class counts  *\[26506, 33494\]" &&
   printf '%s\n' "$out" | grep -q "validation class counts  *\[4378, 5622\]"; then pass=$((pass + 1))
else fail=$((fail + 1)); echo "FAIL: 04_synthetic --variant 2021 check values (exit $st)"; fi
prog="$B/lessons/04_synthetic"
expect "04 bad variant" "^04_synthetic: --variant: 2019 is not 2020 or 2021$" --variant 2019
expect "04 bad lr" "^04_synthetic: --lr: " --lr 0
expect "04 bad epochs" "^04_synthetic: --epochs: " --epochs 0

rm -rf "$t"
echo "test_lessons_data: $pass passed, $fail failed"
[ "$fail" = 0 ]
