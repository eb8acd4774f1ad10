#!/usr/bin/env bash
# tests/test_hostile.sh BUILD_DIR — the lessons and the MNIST bench on
# hostile and unusual data (made by tests/make_bad_data.sh from the shipped
# slices): too few images for what a lesson reads, images of another shape
# (27 × 28, 1 × 1, 1 × 784, 56 × 14), blank images, a FIFO and a directory
# where a file belongs, a header claiming 2.15 G pixels, a label out of
# range; and lesson 00 on a 64 KB stack. One check per case: exit status 2,
# exactly one line on stderr naming the file and the problem, nothing on
# stdout unless the lesson printed before loading, and no hang — every run
# is under `timeout`. The suite runs this with the ASan + UBSan build too,
# where a sanitizer report would break the one-line rule.
set -u
cd "$(dirname "$0")/.." || exit 2
B=${1:-build}
L="$B/lessons"
pass=0 fail=0
t="$B/tmp/test_hostile"
rm -rf "$t" && mkdir -p "$t" || exit 2
bash tests/make_bad_data.sh "$t/roots" || { echo "make_bad_data.sh failed"; echo "test_hostile: 0 passed, 1 failed"; exit 1; }
R="$t/roots"
TI=mnist/train-images-idx3-ubyte EI=mnist/t10k-images-idx3-ubyte

# refuse NAME PATTERN [stdout|quiet] -- CMD…: CMD exits 2 within 60 s, with one
# stderr line matching PATTERN (an extended regex); "quiet": nothing on
# stdout; "stdout": the lesson's text printed before loading is kept.
refuse() {
    local name=$1 pat=$2 mode=$3; shift 4
    local st lines
    timeout 60 "$@" >"$t/out" 2>"$t/err"; st=$?
    lines=$(wc -l <"$t/err")
    if [ "$st" = 2 ] && [ "$lines" = 1 ] && grep -qE -- "$pat" "$t/err" &&
       { [ "$mode" = stdout ] || [ ! -s "$t/out" ]; }; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        [ "$st" = 124 ] && echo "FAIL: $name: hung (killed after 60 s)"
        echo "FAIL: $name: exit $st (want 2), $lines stderr lines, stdout $(wc -c <"$t/out") bytes; stderr:"
        head -n 8 "$t/err" | sed 's/^/    /'
    fi
}
# runs NAME PATTERN -- CMD…: CMD exits 0 within 60 s and prints PATTERN
runs() {
    local name=$1 pat=$2; shift 3
    local st
    timeout 60 "$@" >"$t/out" 2>"$t/err"; st=$?
    if [ "$st" = 0 ] && grep -qE -- "$pat" "$t/out"; then pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $name: exit $st (want 0) or no '$pat' in its output; stderr:"
        head -n 8 "$t/err" | sed 's/^/    /'
    fi
}

# ---- too few images for what the lesson reads
refuse "00 draws #0-#2 of 2 images" "^00_data: $R/few2/$TI: 2 images; this program reads at least 3$" quiet -- \
    "$L/00_data" --quick --data "$R/few2"
refuse "05 cross-checks the first 10 of 9 (--quick)" "^05_mnist: $R/few9/$TI: 9 images; this program reads at least 12$" quiet -- \
    "$L/05_mnist" --quick --data "$R/few9"
refuse "05 cross-checks the first 10 of 9 (--final)" "^05_mnist: $R/few9/$TI: 9 images; this program reads at least 10$" quiet -- \
    "$L/05_mnist" --quick --final --data "$R/few9"
runs "05 on 12 images, the fewest it takes" "^largest relative difference: .* agree" -- \
    "$L/05_mnist" --quick --data "$R/few12"

# ---- images of another shape than 28 x 28
refuse "05 on 1x1 images" "^05_mnist: $R/px1x1/$TI: images are 1 x 1 pixels; this program reads 28 x 28$" quiet -- \
    "$L/05_mnist" --quick --data "$R/px1x1"
refuse "00 on 1x1 images" "^00_data: $R/px1x1/$TI: images are 1 x 1 pixels" quiet -- \
    "$L/00_data" --quick --data "$R/px1x1"
refuse "05 evaluates 27x28 test images" "^05_mnist: $R/test27/$EI: images are 27 x 28 pixels; this program reads 28 x 28$" quiet -- \
    "$L/05_mnist" --quick --data "$R/test27"
refuse "06 evaluates 27x28 test images" "^06_capacity: $R/test27/fashion-mnist/t10k-images-idx3-ubyte: images are 27 x 28 pixels" stdout -- \
    "$L/06_capacity" --quick --data "$R/test27"
refuse "07 gradient-checks 27x28 images" "^07_tricks: $R/train27/$TI: images are 27 x 28 pixels" stdout -- \
    "$L/07_tricks" --quick --data "$R/train27"
refuse "00 on 1x784 images" "^00_data: $R/row784/$TI: images are 1 x 784 pixels; this program reads 28 x 28$" quiet -- \
    "$L/00_data" --quick --data "$R/row784"
refuse "00 on 56x14 images" "^00_data: $R/tall56/$TI: images are 56 x 14 pixels" quiet -- \
    "$L/00_data" --quick --data "$R/tall56"
refuse "08 on 1x784 images" "^08_depth: $R/row784/$TI: images are 1 x 784 pixels" stdout -- \
    "$L/08_depth" --quick --data "$R/row784"
refuse "09 on 27x28 images" "^09_regularisation: $R/train27/$TI: images are 27 x 28 pixels" stdout -- \
    "$L/09_regularisation" --quick --data "$R/train27"
if [ -x "$B/bench/mnist_mlp" ]; then
    refuse "bench on 27x28 images" "^mnist_mlp: $R/train27/$TI: images are 27 x 28 pixels" quiet -- \
        "$B/bench/mnist_mlp" --data "$R/train27"
    refuse "bench on 1x784 images" "^mnist_mlp: $R/row784/$TI: images are 1 x 784 pixels" quiet -- \
        "$B/bench/mnist_mlp" --data "$R/row784"
else
    fail=$((fail + 1)); echo "FAIL: $B/bench/mnist_mlp was not built (make test-build builds the benches)"
fi
if [ -x "$B/bench/mnist_cnn" ]; then
    refuse "CNN bench on 1x784 images" "^mnist_cnn: $R/row784/$TI: images are 1 x 784 pixels" quiet -- \
        "$B/bench/mnist_cnn" --data "$R/row784"
    refuse "CNN bench on 56x14 images" "^mnist_cnn: $R/tall56/$TI: images are 56 x 14 pixels" quiet -- \
        "$B/bench/mnist_cnn" --data "$R/tall56"
fi

# ---- blank images: a status, not an abort; what was printed before is kept
refuse "07 on blank images" "^07_tricks: $R/blank/$TI: the first 100 images have every pixel 0: no spread to normalise by$" stdout -- \
    "$L/07_tricks" --quick --data "$R/blank"
if grep -q "^07 tricks of the trade" "$t/out"; then pass=$((pass + 1))
else fail=$((fail + 1)); echo "FAIL: 07 on blank images lost the output it had printed"; fi

# ---- not a file: a FIFO with no writer (must not hang), a directory
refuse "00 on a FIFO" "^00_data: $R/fifo/$TI: not a regular file" quiet -- \
    "$L/00_data" --quick --data "$R/fifo"
refuse "05 on a FIFO" "^05_mnist: $R/fifo/$TI: not a regular file" quiet -- \
    "$L/05_mnist" --quick --data "$R/fifo"
refuse "05 on a directory" "^05_mnist: $R/dir/$EI: is a directory" quiet -- \
    "$L/05_mnist" --quick --data "$R/dir"

# ---- a header claiming 2.15 G pixels: refused from the header, nothing
# allocated (the reference build runs it in 300 MB of address space; ASan
# reserves terabytes of shadow, so there the limit is left off)
lim=""
grep -q __asan_init "$L/00_data" 2>/dev/null || lim="ulimit -v 300000;"
refuse "00 on a 2.15 G-pixel header" "^00_data: $R/huge/$TI: dimensions 2740000 x 28 x 28: 2148160000 pixels, more than 2147483647" quiet -- \
    bash -c "$lim exec \"\$@\"" _ "$L/00_data" --quick --data "$R/huge"

# ---- a label out of range
refuse "06 on label 10" "^06_capacity: $R/labels/fashion-mnist/train-labels-idx1-ubyte: label 50 is 10, outside 0..9$" stdout -- \
    "$L/06_capacity" --quick --data "$R/labels"

# ---- lesson 00 on a 64 KB stack: the same output as on a normal one
want=$(timeout 60 "$L/00_data" --quick --data tests/data 2>/dev/null)
got=$(bash -c 'ulimit -s 64 && exec timeout 60 "$@"' _ "$L/00_data" --quick --data tests/data 2>/dev/null); st=$?
if [ "$st" = 0 ] && [ -n "$got" ] && [ "$got" == "$want" ]; then pass=$((pass + 1))
else fail=$((fail + 1)); echo "FAIL: 00 on a 64 KB stack: exit $st"; fi

# ---- long data roots: a valid 300-character path works; a root too long for
# any file path is refused with its reason intact (not cut off by the path)
long="$t/$(printf 'd%.0s' $(seq 1 150))/$(printf 'e%.0s' $(seq 1 150))"
mkdir -p "$long" && ln -s "$PWD/tests/data/mnist" "$long/mnist" && ln -s "$PWD/tests/data/fashion-mnist" "$long/fashion-mnist"
if timeout 60 "$L/00_data" --quick --data "$long" >/dev/null 2>"$t/err"; then pass=$((pass + 1))
else fail=$((fail + 1)); echo "FAIL: 00 on a 300-character data root:"; head -n 3 "$t/err"; fi
huge_root="$t/$(printf 'x%.0s' $(seq 1 5000))"
refuse "00 on a 5000-character data root" "data root too long \([0-9]+ characters; a file's path holds at most [0-9]+\)$" quiet -- \
    "$L/00_data" --quick --data "$huge_root"

rm -rf "$t"
echo "test_hostile: $pass passed, $fail failed"
[ "$fail" = 0 ]
