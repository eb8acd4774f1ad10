#!/usr/bin/env bash
# tests/test_plots_sh.sh BUILD_DIR — `make plots` (plots/render.sh) never
# replaces a picture by a worse one: lesson 02's table is written by the
# lesson (in a scratch directory) and drawn; then cut mid-table (an
# interrupted run) — render.sh fails naming the table and the old picture
# stays byte for byte; then complete but unreadable to gnuplot — it fails
# and the old picture stays; no temporary directory is left behind.
set -u
cd "$(dirname "$0")/.." || exit 2
B=${1:-build}
pass=0 fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }
t="$B/tmp/test_plots_sh"
rm -rf "$t" && mkdir -p "$t/work" || exit 2
repo=$PWD

if ! command -v gnuplot >/dev/null 2>&1; then
    out=$(bash plots/render.sh "$t/data" "$t/plots" 2>&1); st=$?
    ok "without gnuplot: exit 2 naming the package" '[ $st = 2 ] && printf "%s" "$out" | grep -q "apt-get install gnuplot-nox"'
    echo "note: gnuplot is missing; the rendering cases need it (apt-get install gnuplot-nox)"
    echo "test_plots_sh: $pass passed, $fail failed"
    [ "$fail" = 0 ]; exit
fi

(cd "$t/work" && "$repo/$B/lessons/02_local_derivatives" >/dev/null 2>&1)
data="$t/work/build/data" plots="$t/plots" tab="$t/work/build/data/02_local_derivatives.dat"
png="$plots/02_local_derivatives.png"
ok "the lesson's table ends with '# end'" '[ "$(tail -n 1 "$tab")" = "# end" ]'
out=$(bash plots/render.sh "$data" "$plots" 2>&1); st=$?
ok "a complete table is drawn (exit 0)" '[ $st = 0 ] && [ -s "$png" ]'
cp "$png" "$t/before.png"

# an interrupted run: the table cut in the middle of a line
cp "$tab" "$t/whole.dat"
head -c $(($(wc -c <"$tab") / 2)) "$t/whole.dat" > "$tab"
err=$(bash plots/render.sh "$data" "$plots" 2>&1 >/dev/null); st=$?
ok "a cut table: exit 1" '[ $st = 1 ]'
ok "a cut table is named" 'printf "%s" "$err" | grep -q "incomplete table(s) $tab "'
ok "a cut table leaves the old picture" 'cmp -s "$png" "$t/before.png"'

# complete (it ends with "# end") but nothing gnuplot can draw
printf '# 02 table\nnot numbers at all\n# end\n' > "$tab"
err=$(bash plots/render.sh "$data" "$plots" 2>&1 >/dev/null); st=$?
ok "gnuplot failing: exit 1 naming the script" '[ $st = 1 ] && printf "%s" "$err" | grep -q "gnuplot failed on plots/02_local_derivatives.gp"'
ok "gnuplot failing leaves the old picture" 'cmp -s "$png" "$t/before.png"'
ok "no temporary directory left" '[ -z "$(ls -A "$plots" | grep "^\.render-")" ]'

# lesson 05's rate picture labels the rates the lesson ran (--lr 0.005
# adds a fifth to the four of the comparison), read from its table
(cd "$t/work" && "$repo/$B/lessons/05_mnist" --quick --lr 0.005 --data "$repo/tests/data" >/dev/null 2>&1)
q="$t/work/build/data/quick"
mkdir -p "$t/p05"
got=$(gnuplot -e "datadir='$q'; outdir='$t/p05'" plots/05_mnist.gp -e 'print nr; print rlist' 2>&1 | tr '\n' ' ')
ok "lesson 05's picture names each rate of its table (got: $got)" '[ "$got" = "5 0.001 0.003 0.005 0.01 0.03 " ]'
ok "lesson 05's rate picture is drawn" '[ -s "$t/p05/05_mnist_rates.png" ]'

rm -rf "$t"
echo "test_plots_sh: $pass passed, $fail failed"
[ "$fail" = 0 ]
