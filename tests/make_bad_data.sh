#!/usr/bin/env bash
# tests/make_bad_data.sh OUT — makes the hostile and unusual data roots that
# tests/test_hostile.sh feeds to the lessons: each OUT/CASE/ is a copy of the
# shipped slices (tests/data, 100 images per file) with one file replaced by
# a well-formed but unusual one, or by something that is not a file at all.
#
#   few2     mnist train: 2 images (lesson 00 draws #0, #1, #2)
#   few9     mnist train: 9 images (lesson 05's cross-check reads 10)
#   few12    mnist train: 12 images, the fewest 05 --quick takes (it keeps a
#            fifth to validate, 12 − 2 = 10 to cross-check): must run
#   px1x1    mnist train and test: 100 images of 1 × 1 pixel
#   test27   mnist and fashion-mnist test: 100 images of 27 × 28
#   train27  mnist train: 100 images of 27 × 28
#   row784   mnist train: 100 "images" of 1 × 784 (784 pixels, not 28 × 28)
#   tall56   mnist train: 100 images of 56 × 14
#   blank    mnist train: 100 images, every pixel 0 (standard deviation 0)
#   fifo     mnist train images: a FIFO with no writer
#   dir      mnist test images: a directory
#   huge     mnist train: a header claiming 2,740,000 × 28 × 28 = 2.15 G pixels
#            over 100 images' worth of bytes
#   labels   fashion-mnist train labels: label 10 among 0…9
# The IDX files are made with printf and head/tail from the slices, so the
# script needs nothing but bash and coreutils.
set -eu    # no pipefail: `tail | head` ends tail with SIGPIPE by design
cd "$(dirname "$0")/.."
out=${1:?usage: tests/make_bad_data.sh OUT}
src=tests/data
m=mnist f=fashion-mnist
TI=train-images-idx3-ubyte TL=train-labels-idx1-ubyte
EI=t10k-images-idx3-ubyte EL=t10k-labels-idx1-ubyte

be32() {  # four big-endian bytes of $1
    printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) \
        $(($1 >> 8 & 255)) $(($1 & 255)))"
}
# images FILE N ROWS COLS [PIXELS]: an idx3 file of N × ROWS × COLS pixels
# taken from the file PIXELS (default the slice's training images; /dev/zero
# for blank ones), its body exactly N·ROWS·COLS bytes.
images() {
    local pix=${5:-$src/$m/$TI}
    { printf '\0\0\10\3'; be32 "$2"; be32 "$3"; be32 "$4"
      if [ "$pix" = /dev/zero ]; then head -c $(($2 * $3 * $4)) /dev/zero
      else tail -c +17 "$pix" | head -c $(($2 * $3 * $4)); fi; } > "$1"
}
# labels FILE N [FROM]: an idx1 file of the first N labels of FROM
labels() {
    { printf '\0\0\10\1'; be32 "$2"; tail -c +9 "${3:-$src/$m/$TL}" | head -c "$2"; } > "$1"
}
fresh() {  # fresh CASE: a copy of the slices at $out/CASE
    rm -rf "${out:?}/$1"
    mkdir -p "$out/$1"
    cp -r "$src/$m" "$src/$f" "$out/$1/"
}

mkdir -p "$out"
for n in 2 9 12; do
    fresh "few$n"
    images "$out/few$n/$m/$TI" "$n" 28 28
    labels "$out/few$n/$m/$TL" "$n"
done

fresh px1x1
images "$out/px1x1/$m/$TI" 100 1 1
images "$out/px1x1/$m/$EI" 100 1 1

fresh test27
images "$out/test27/$m/$EI" 100 27 28 "$src/$m/$EI"
images "$out/test27/$f/$EI" 100 27 28 "$src/$f/$EI"

fresh train27
images "$out/train27/$m/$TI" 100 27 28

fresh row784
images "$out/row784/$m/$TI" 100 1 784

fresh tall56
images "$out/tall56/$m/$TI" 100 56 14

fresh blank
images "$out/blank/$m/$TI" 100 28 28 /dev/zero

fresh fifo
rm "$out/fifo/$m/$TI"
mkfifo "$out/fifo/$m/$TI"

fresh dir
rm "$out/dir/$m/$EI"
mkdir "$out/dir/$m/$EI"

fresh huge
{ printf '\0\0\10\3'; be32 2740000; be32 28; be32 28; tail -c +17 "$src/$m/$TI"; } > "$out/huge/$m/$TI"

fresh labels
{ printf '\0\0\10\1'; be32 100; tail -c +9 "$src/$f/$TL" | head -c 50; printf '\12'
  tail -c +9 "$src/$f/$TL" | tail -c 49; } > "$out/labels/$f/$TL"
