#!/usr/bin/env bash
# make bench — runs every benchmark workload listed below and prints one
# line per workload (the run with the median time of REPS runs), then the
# comparison of the fast path with PyTorch and numpy measured in this run.
#
# To add a program: build it from tests/bench/NAME.c (the Makefile does) and
# add one line `bench LABEL REPS "$B/bench/NAME" ARGS…` below. A program
# prints key=value lines; the last line of a run is kept, and the median is
# taken over the first key ending in _s (e.g. epoch_s=).
#
# Environment: B (build dir, default build), CHAINRULE_DATA (data root,
# default data), REPS (repetitions of the cheap workloads, default 3),
# CNN_REPS (of the CNN runs, default 3), CNN_TRAIN, TORCH_CNN_TRAIN (images
# each CNN run times), PAIRS and CNN_PAIRS (back-to-back 1- and 2-thread
# rounds, default 7 and 5), CNN_PAIR_TRAIN (images each of those times).
set -u
cd "$(dirname "$0")/../.." || exit 2
B=${B:-build}
DATA=${CHAINRULE_DATA:-data}
REPS=${REPS:-3}
PY=/usr/bin/python3
declare -A RESULT EXTRA

# result_line: a run's output on stdin → its result line, the last
# key=value line that is not a per-layer figure
result_line() { grep '=' | grep -vE '^(layer|peak_[a-z_]+)=' | tail -n 1; }
# value_of KEY: a result line on stdin → KEY's value, or empty
value_of() { tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }

# bench LABEL REPS COMMAND…
bench() {
    local label=$1 reps=$2; shift 2
    local lines=() i out line
    for ((i = 0; i < reps; i++)); do
        out=$("$@" 2>&1) || { echo "$label: failed: $(printf '%s\n' "$out" | tail -n 1)"; return; }
        line=$(printf '%s\n' "$out" | result_line)
        lines+=("$line")
    done
    # the run whose first *_s value is the median
    line=$(printf '%s\n' "${lines[@]}" |
        awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^[a-z_]+_s=/) { split($i, kv, "="); print kv[2], NR; break } }' |
        sort -g | awk -v n="${#lines[@]}" 'NR == int((n + 1) / 2) { print $2 }')
    line=${lines[$((line - 1))]}
    RESULT[$label]=$line
    printf '%-16s %s\n' "$label" "$line"
    # further lines of the last run (per-layer figures): indented, after it,
    # and kept for the summaries (EXTRA)
    EXTRA[$label]=$(printf '%s\n' "$out" | grep -E '^(layer|peak_[a-z_]+)=')
    if [ -n "${EXTRA[$label]}" ]; then printf '%s\n' "${EXTRA[$label]}" | sed 's/^/                 /'; fi
}

# paired LABEL ROUNDS KEY COMMAND1… -- COMMAND2…: ROUNDS rounds of COMMAND1
# then COMMAND2 back to back, and the median of the rounds' ratios of KEY
# (COMMAND1's / COMMAND2's) with their range. A virtual core here changes
# speed from minute to minute; medians taken minutes apart, as above, can
# compare a fast spell with a slow one, two runs a second apart much less.
paired() {
    local label=$1 rounds=$2 key=$3; shift 3
    local one=() two=() side=1 x i o1 o2 t1 t2 ratios=()
    for x in "$@"; do
        if [ "$x" = -- ]; then side=2; elif [ $side = 1 ]; then one+=("$x"); else two+=("$x"); fi
    done
    for ((i = 0; i < rounds; i++)); do
        o1=$("${one[@]}" 2>&1) || { echo "  $label: failed: $(printf '%s\n' "$o1" | tail -n 1)"; return; }
        o2=$("${two[@]}" 2>&1) || { echo "  $label: failed: $(printf '%s\n' "$o2" | tail -n 1)"; return; }
        t1=$(printf '%s\n' "$o1" | result_line | value_of "$key")
        t2=$(printf '%s\n' "$o2" | result_line | value_of "$key")
        ratios+=("$(ratio "$t1" "$t2")")
    done
    printf '%s\n' "${ratios[@]}" | sort -g | awk -v n="$rounds" -v l="$label" '
        { r[NR] = $1 } $1 == "n/a" { bad = 1 }
        END { if (bad || NR != n) { printf "  %s: n/a\n", l; exit }
              printf "  %s: %.3f, the median of %d back-to-back pairs (%.3f-%.3f)\n", l, r[int((n + 1) / 2)], n, r[1], r[n] }'
}

field() {  # field LABEL KEY → value or empty
    printf '%s\n' "${RESULT[$1]:-}" | value_of "$2"
}

# ---- the tape and verify: no data needed ----------------------------------
echo "== the scalar tape (engine/), one core; each line the median of 21 runs"
"$B/bench/scalar_graph" | tee "$B/bench/scalar_graph.txt"
if $PY -c 'import sys' 2>/dev/null; then
    py=$($PY tests/bench/scalar_graph.py 3)
    echo "$py"
    c=$(sed -n 's/^workload=micrograd.* nodes_per_s=\([^ ]*\).*/\1/p' "$B/bench/scalar_graph.txt")
    p=$(printf '%s\n' "$py" | sed -n 's/.* nodes_per_s=\([^ ]*\).*/\1/p')
    awk -v c="$c" -v p="$p" 'BEGIN { if (c > 0 && p > 0) printf "   tape vs a Python scalar engine of micrograd'"'"'s design, same workload, this run: %.0fx\n", c / p }'
fi
echo
echo "== verify (lessons/verify/main.c): one claim over a 10x10 Jacobian at 20 points; a 100-claim file"
"$B/bench/verify_bench"
echo

# A fair reference: Debian's numpy and torch call the system BLAS, and
# netlib's reference BLAS is many times slower than OpenBLAS.
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null)
case "$blas" in */blas/libblas*)
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bench: installing libopenblas0-pthread so numpy and torch run at their usual speed"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q libopenblas0-pthread >/dev/null 2>&1 ||
            echo "bench: could not install libopenblas0-pthread; the python figures will be slow" >&2
    fi;;
esac

if [ ! -f "$DATA/mnist/train-images-idx3-ubyte" ]; then
    echo "bench: no MNIST under $DATA/mnist for the fast-path workloads (run make data, or set CHAINRULE_DATA)" >&2
    exit 2
fi
echo "== make bench: MNIST 784-300 sigmoid-10, softmax+CE, SGD lr 0.1, float32, one epoch of 60,000"
echo "   (medians of $REPS runs where cheap; nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
echo "   load average before: $(cut -d' ' -f1-3 /proc/loadavg) — on a shared machine wall times include waiting for a core; cpu_s does not"

# ---- workloads: one line each --------------------------------------------
bench mlp_b100_t1   "$REPS" "$B/bench/mnist_mlp" --batch 100 --threads 1 --data "$DATA"
bench mlp_b100_t2   "$REPS" "$B/bench/mnist_mlp" --batch 100 --threads 2 --data "$DATA"
# one thread pinned to each of the first two cores: on a shared VM they can
# differ by 1.5x, and which is slower changes from minute to minute
PINNED=0
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null 2>&1; then
    PINNED=1
    bench mlp_b100_cpu0 "$REPS" taskset -c 0 "$B/bench/mnist_mlp" --batch 100 --threads 1 --data "$DATA"
    bench mlp_b100_cpu1 "$REPS" taskset -c 1 "$B/bench/mnist_mlp" --batch 100 --threads 1 --data "$DATA"
fi
bench mlp_b1_t1     1       "$B/bench/mnist_mlp" --batch 1 --threads 1 --data "$DATA"
bench mlp_b100_e5   1       "$B/bench/mnist_mlp" --batch 100 --threads 1 --epochs 5 --data "$DATA"
if $PY -c 'import numpy' 2>/dev/null; then
    if $PY -c 'import torch' 2>/dev/null; then
        bench torch_b100    "$REPS" $PY tests/bench/mnist_ref.py --impl torch --batch 100 --data "$DATA"
        bench torch_b1      1       $PY tests/bench/mnist_ref.py --impl torch --batch 1 --limit 3000 --data "$DATA"
    else echo "torch: python3-torch is not installed; skipped"; fi
    bench numpy_b100    "$REPS" $PY tests/bench/mnist_ref.py --impl numpy --batch 100 --data "$DATA"
    bench numpy_b1      1       $PY tests/bench/mnist_ref.py --impl numpy --batch 1 --limit 3000 --data "$DATA"
else echo "numpy/torch: python3-numpy is not installed; skipped"; fi
# The CNN (lesson 10's network, per-channel batch norm, Adam 1e-4, batch 32):
# a quarter of an epoch for the fast path and a tenth for PyTorch, each
# scaled to 60,000 images (full_epoch_s; the lines say scaled=1 train=N).
# Each the median of CNN_REPS runs (default 3: on a shared machine one run
# of either can be 20% off).
CNN_TRAIN=${CNN_TRAIN:-15000}
TORCH_CNN_TRAIN=${TORCH_CNN_TRAIN:-6000}
CNN_REPS=${CNN_REPS:-3}
bench cnn_t1        "$CNN_REPS" "$B/bench/mnist_cnn" --threads 1 --train "$CNN_TRAIN" --data "$DATA"
bench cnn_t2        "$CNN_REPS" "$B/bench/mnist_cnn" --threads 2 --train "$CNN_TRAIN" --data "$DATA"
if $PY -c 'import torch' 2>/dev/null; then
    bench torch_cnn     "$CNN_REPS" $PY tests/bench/cnn_ref.py --train "$TORCH_CNN_TRAIN" --data "$DATA"
else echo "torch_cnn: python3-torch is not installed; skipped"; fi
# (add further programs here, one line each)

# ---- the comparison ---------------------------------------------------------
echo
echo "== side by side (epoch seconds; ratio = fast path / reference, lower is better)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.3f", a / b }'; }
row() {  # row WHAT FAST_LABEL REF_LABEL
    local f r
    f=$(field "$2" epoch_s); r=$(field "$3" epoch_s)
    printf '  %-34s fast %7ss   %-10s %7ss   ratio %s\n' "$1" "${f:-n/a}" "$3" "${r:-n/a}" "$(ratio "$f" "$r")"
}
row "batch 100, 1 thread"  mlp_b100_t1 torch_b100
row "batch 100, 1 thread"  mlp_b100_t1 numpy_b100
row "batch 100, 2 threads" mlp_b100_t2 torch_b100
row "batch 1 (per-sample)" mlp_b1_t1   torch_b1
row "batch 1 (per-sample)" mlp_b1_t1   numpy_b1
echo "  GFLOP/s (57.5 GFLOP/epoch): 1 thread $(field mlp_b100_t1 gflops), 2 threads $(field mlp_b100_t2 gflops)"
echo "  batch 100, 2 threads speed-up over 1: $(ratio "$(field mlp_b100_t1 epoch_s)" "$(field mlp_b100_t2 epoch_s)") (goal >= 1.7)"
PAIRS=${PAIRS:-7}
paired "batch 100, 2 threads speed-up over 1" "$PAIRS" epoch_s \
    "$B/bench/mnist_mlp" --batch 100 --threads 1 --data "$DATA" -- "$B/bench/mnist_mlp" --batch 100 --threads 2 --data "$DATA"
if [ "$PINNED" = 1 ]; then
    c0=$(field mlp_b100_cpu0 epoch_s); c1=$(field mlp_b100_cpu1 epoch_s)
    echo "  1 thread pinned to core 0: ${c0:-n/a}s, to core 1: ${c1:-n/a}s; 2 threads' speed-up over each: $(ratio "$c0" "$(field mlp_b100_t2 epoch_s)"), $(ratio "$c1" "$(field mlp_b100_t2 epoch_s)")"
fi
echo "  fast path CPU seconds per epoch: batch 100 1 thread $(field mlp_b100_t1 cpu_s), 2 threads (sum) $(field mlp_b100_t2 cpu_s), batch 1 $(field mlp_b1_t1 cpu_s)"
b1=$(field mlp_b100_t1 loss_bits); b2=$(field mlp_b100_t2 loss_bits)
if [ -n "$b1" ] && [ "$b1" = "$b2" ]; then same=yes; else same=NO; fi
echo "  1 vs 2 threads, mean training loss bit-identical: $same ($b1 / $b2)"
echo "  test accuracy: 1 epoch $(field mlp_b100_t1 test_acc), 5 epochs $(field mlp_b100_e5 test_acc); torch 1 epoch $(field torch_b100 test_acc), numpy $(field numpy_b100 test_acc)"
echo "  peak RSS MB: fast $(field mlp_b100_t1 peak_rss_mb), torch $(field torch_b100 peak_rss_mb), numpy $(field numpy_b100 peak_rss_mb)"
echo "  (torch/numpy batch 1: timed on 3,000 images and scaled to 60,000)"
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null)
echo "  BLAS behind numpy (and torch's non-MKLDNN paths): ${blas:-unknown}"
case "$blas" in */blas/libblas*) echo "  note: that is netlib's reference BLAS, not OpenBLAS: the python figures here are far slower than usual";; esac
echo
echo "== the CNN: one epoch of 60,000 at batch 32 (scaled from --train; ratio = fast path / PyTorch, lower is better; goal <= 0.2)"
rowf() {  # rowf WHAT FAST_LABEL REF_LABEL, on full_epoch_s
    local f r
    f=$(field "$2" full_epoch_s); r=$(field "$3" full_epoch_s)
    printf '  %-34s fast %7ss   %-10s %7ss   ratio %s\n' "$1" "${f:-n/a}" "$3" "${r:-n/a}" "$(ratio "$f" "$r")"
}
rowf "CNN batch 32, 1 thread"  cnn_t1 torch_cnn
rowf "CNN batch 32, 2 threads" cnn_t2 torch_cnn
f1=$(field cnn_t1 full_epoch_s); f2=$(field cnn_t2 full_epoch_s)
echo "  CNN 2 threads speed-up over 1: $(ratio "$f1" "$f2") (goal >= 1.7)"
CNN_PAIRS=${CNN_PAIRS:-5}
CNN_PAIR_TRAIN=${CNN_PAIR_TRAIN:-3200}
paired "CNN 2 threads speed-up over 1 ($CNN_PAIR_TRAIN images a run)" "$CNN_PAIRS" full_epoch_s \
    "$B/bench/mnist_cnn" --threads 1 --train "$CNN_PAIR_TRAIN" --data "$DATA" -- \
    "$B/bench/mnist_cnn" --threads 2 --train "$CNN_PAIR_TRAIN" --data "$DATA"
b1=$(field cnn_t1 loss_bits); b2=$(field cnn_t2 loss_bits)
if [ -n "$b1" ] && [ "$b1" = "$b2" ]; then same=yes; else same=NO; fi
echo "  CNN 1 vs 2 threads, mean training loss bit-identical: $same ($b1 / $b2)"
echo "  CNN GFLOP/s: 1 thread $(field cnn_t1 gflops), 2 threads $(field cnn_t2 gflops), torch $(field torch_cnn gflops)"
# FC1's step on one thread against its two floors, from cnn_t1's last run:
# the bytes it must move (the forward reads w; the fused backward reads w,
# v and s and writes all three: 7 passes of D × H floats) at the rate
# Adam's step alone reaches over arrays that size, and its multiply-adds
# (three products of batch × D × H) at the measured FMA peak
layer_ms() { printf '%s\n' "${EXTRA[$1]:-}" | sed -n "s/^layer=$2 .*med_ms=\([0-9.]*\).*/\1/p" | head -n 1; }
peak_val() { printf '%s\n' "${EXTRA[$1]:-}" | sed -n "s/^$2=\([0-9.]*\).*/\1/p" | head -n 1; }
f1f=$(layer_ms cnn_t1 fc1_fwd); f1b=$(layer_ms cnn_t1 fc1_bwd)
gbs=$(peak_val cnn_t1 peak_adam_gbs); pk=$(peak_val cnn_t1 peak_gflops)
dims=$(printf '%s\n' "${EXTRA[cnn_t1]:-}" | sed -n "s/^peak_adam_gbs=.*FC1's \([0-9]*\) x \([0-9]*\) weights.*/\1 \2/p")
tce=$(field torch_cnn full_epoch_s); cb=$(field cnn_t1 batch)
if [ -n "$f1f" ] && [ -n "$f1b" ] && [ -n "$gbs" ] && [ -n "$pk" ] && [ -n "$dims" ] && [ -n "$cb" ]; then
    awk -v f="$f1f" -v b="$f1b" -v g="$gbs" -v p="$pk" -v dims="$dims" -v t="$tce" -v B="$cb" 'BEGIN {
        split(dims, d, " "); n = d[1] * d[2]; mb = 7 * n * 4 / 1e6; flop = 3 * 2 * B * n
        printf "  CNN FC1 a step, 1 thread: forward + backward %.1f ms (the medians of its last run); floors: memory %.1f ms (%.1f MB at Adam'"'"'s %s GB/s), multiply-adds %.1f ms (%.0f MFLOP at %s GFLOP/s)\n", f + b, mb / g, mb, g, flop / p / 1e6, flop / 1e6, p
        # full_epoch_s is an epoch of 60,000 images: 60,000 / B steps
        if (t != "") printf "  (the goal, 0.2 x PyTorch'"'"'s %s s, leaves %.1f ms a step of %d for the whole network)\n", t, 0.2 * t / (60000 / B) * 1000, B
    }'
fi
echo "  CNN peak RSS MB: fast $(field cnn_t1 peak_rss_mb) (goal <= 400), torch $(field torch_cnn peak_rss_mb)"
echo "  CNN test accuracy after the timed part: fast $(field cnn_t1 test_acc), torch $(field torch_cnn test_acc)"
