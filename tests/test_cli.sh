#!/usr/bin/env bash
# tests/test_cli.sh BUILD_DIR — the command line every lesson shares
# (lessons/cli.c, lessons/lesson.c): flag ranges refused with one line naming
# the flag and exit 2, lost standard output reported, plot tables written
# atomically, --quick quick without --data. Every run under `timeout`.
set -u
cd "$(dirname "$0")/.." || exit 2
B=${1:-build}
L="$B/lessons"
pass=0 fail=0
t="$B/tmp/test_cli"
rm -rf "$t" && mkdir -p "$t" || exit 2
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }

# refuse PROG PATTERN ARGS…: exit 2, nothing on stdout, one stderr line matching PATTERN
refuse() {
    local prog=$1 pat=$2; shift 2
    local out st err
    out=$(timeout 60 "$L/$prog" "$@" 2>"$t/err"); st=$?
    err=$(cat "$t/err")
    if [ "$st" = 2 ] && [ -z "$out" ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] &&
       printf '%s\n' "$err" | grep -qE -- "$pat"; then pass=$((pass + 1))
    else fail=$((fail + 1)); echo "FAIL: $prog $*: exit $st, stdout ${#out} bytes, stderr: $err"; fi
}

refuse 00_data "^00_data: --seed: -1 is negative" --seed -1
refuse 05_mnist "^05_mnist: --seed: '2147483648' is out of range" --seed 2147483648
for p in 04_synthetic 05_mnist 06_capacity 07_tricks 08_depth 09_regularisation; do
    refuse $p "^$p: --quick and --full: choose one" --quick --full
    refuse $p "^$p: --epochs: 0 is not in 1\.\." --epochs 0
    refuse $p "^$p: --epochs: -1 is not in 1\.\." --epochs -1
    refuse $p "^$p: --lr: '1e-320' is too small" --lr 1e-320
    refuse $p "^$p: --lr: '1e999' is too large" --lr 1e999
    refuse $p "^$p: --lr: 0 is not positive" --lr 0
    refuse $p "^$p: --batch: 0 is not in 1\.\." --batch 0
    refuse $p "^$p: --lr: 'x' is not a number" --lr x
done
refuse 06_capacity "^06_capacity: --opt: 'momentum' is not one of sgd\|adam\|rmsprop" --opt momentum
refuse 04_synthetic "^04_synthetic: --init-scale: 0 is not in" --init-scale 0

# a seed near INT_MAX is a valid seed (no signed overflow: the ASan build has UBSan)
out=$(timeout 120 "$L/05_mnist" --quick --seed 2147483647 2>&1); st=$?
ok "05 --seed 2147483647 runs (exit $st)" '[ $st = 0 ]'

# lost standard output is an error, for every program that uses cli
err=$(timeout 60 "$L/01_chain_rule" 2>&1 >/dev/full); st=$?
ok "01 > /dev/full fails with one line (exit $st: $err)" \
   '[ $st = 2 ] && [ "$err" = "01_chain_rule: error writing standard output: No space left on device" ]'
err=$(timeout 60 "$L/04_synthetic" --quick 2>&1 >/dev/full); st=$?
ok "04 > /dev/full fails, the error last (exit $st)" \
   '[ $st = 2 ] && printf "%s\n" "$err" | tail -n 1 | grep -q "^04_synthetic: error writing standard output"'
err=$(timeout 60 "$L/01_chain_rule" 2>&1 >&-); st=$?
ok "01 with stdout closed fails (exit $st)" '[ $st = 2 ] && printf "%s\n" "$err" | grep -q "error writing standard output"'

# --quick without --data reads the shipped slices, even when data/ is elsewhere
out=$(cd "$t" && mkdir -p tests && ln -sf "$OLDPWD/tests/data" tests/data && \
      CHAINRULE_DATA= timeout 120 "$OLDPWD/$L/05_mnist" --quick 2>/dev/null); st=$?
ok "05 --quick reads tests/data (exit $st)" '[ $st = 0 ] && printf "%s\n" "$out" | grep -q "^data: 80 train / 20 validation images"'

# plot tables: written to a temporary name, renamed on close; a failed run leaves the old table
rm -rf "$t/run" && mkdir -p "$t/run" && cd "$t/run" || exit 2
timeout 60 "$OLDPWD/$L/04_synthetic" --quick >/dev/null 2>&1
cd "$OLDPWD" || exit 2
d="$t/run/build/data/quick"
ok "04 writes its curve" '[ -s "$d/04_synthetic_curve.dat" ]'
ok "no temporary tables left" '[ -z "$(ls "$d" | grep "\.tmp\.")" ]'
before=$(cat "$d/04_synthetic_curve.dat")
chmod a-w "$d"
if [ ! -w "$d" ]; then   # not as root: permissions do not stop root
    (cd "$t/run" && timeout 60 "$OLDPWD/$L/04_synthetic" --quick --epochs 3 >/dev/null 2>&1); st=$?
    ok "unwritable table dir: exit 2 ($st)" '[ $st = 2 ]'
    ok "the old table survives" '[ "$(cat "$d/04_synthetic_curve.dat")" = "$before" ]'
fi
chmod u+w "$d"
# interrupted: SIGKILL mid-run leaves the previous complete table
(cd "$t/run" && timeout 60 "$OLDPWD/$L/04_synthetic" --epochs 1 >/dev/null 2>&1)
full="$t/run/build/data/04_synthetic_curve.dat"
before=$(cat "$full" 2>/dev/null)
(cd "$t/run" && timeout -s KILL 1 "$OLDPWD/$L/04_synthetic" --epochs 100000 >/dev/null 2>&1) 2>/dev/null
ok "killed run leaves the previous complete table" '[ -n "$before" ] && [ "$(cat "$full")" = "$before" ]'

# the elapsed time is the last line, on stderr
err=$(timeout 60 "$L/04_synthetic" --quick 2>&1 >/dev/null | tail -n 1)
ok "04 ends with its elapsed time ($err)" 'printf "%s\n" "$err" | grep -qE "^04_synthetic: [0-9]+\.[0-9] s$"'

rm -rf "$t"
echo "test_cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
