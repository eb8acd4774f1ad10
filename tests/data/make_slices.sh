#!/usr/bin/env bash
# tests/data/make_slices.sh — remakes the small real slices the tests use:
# the first 100 training and the first 100 test images and labels of MNIST
# and Fashion-MNIST, as IDX files in tests/data/{mnist,fashion-mnist}/, from
# the verified full files of `make data` (data root: $CHAINRULE_DATA or data/).
# The slices are committed; run this only to remake them.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=${CHAINRULE_DATA:-data}
n=100
bash models/fetch_data.sh --verify >/dev/null || { echo "make_slices: run make data first" >&2; exit 2; }
for set in mnist fashion-mnist; do
    mkdir -p "tests/data/$set"
    for part in train t10k; do
        src="$root/$set/$part-images-idx3-ubyte" dst="tests/data/$set/$part-images-idx3-ubyte"
        # header: magic 0x00000803, count n (big-endian), then rows and cols
        # copied from the source; then the first n·rows·cols pixels
        rows=$(od -An -tu1 -j8 -N4 "$src" | awk '{print $1*16777216+$2*65536+$3*256+$4}')
        cols=$(od -An -tu1 -j12 -N4 "$src" | awk '{print $1*16777216+$2*65536+$3*256+$4}')
        { printf '\000\000\010\003\000\000\000\144'; head -c 16 "$src" | tail -c 8
          head -c $((16 + n * rows * cols)) "$src" | tail -c +17; } > "$dst"
        src="$root/$set/$part-labels-idx1-ubyte" dst="tests/data/$set/$part-labels-idx1-ubyte"
        { printf '\000\000\010\001\000\000\000\144'; head -c $((8 + n)) "$src" | tail -c +9; } > "$dst"
    done
done
ls -l tests/data/*/
