#!/usr/bin/env bash
# make plots — renders plots/NN_topic.gp for every lesson that has written
# its data (build/data/NN_topic*.dat) into build/plots/NN_topic*.png, and
# every tape a lesson has written (build/data/NN_topic_graph.dot) into
# build/plots/NN_topic_graph.png and .svg with Graphviz.
set -uo pipefail
cd "$(dirname "$0")/.."

# ---- the tapes (lessons 01-03): Graphviz dot, each picture written to a
# temporary name and renamed on success; no dot is a note, not a failure.
dot_status=0
if compgen -G "build/data/[0-9][0-9]_*_graph.dot" >/dev/null; then
    if command -v dot >/dev/null 2>&1; then
        mkdir -p build/plots
        drawn_dot=0
        for src in build/data/[0-9][0-9]_*_graph.dot; do
            name=$(basename "$src" .dot)
            for fmt in png svg; do
                out="build/plots/$name.$fmt"
                if dot "-T$fmt" "$src" -o "$out.tmp.$$" 2>"$out.err.$$"; then
                    mv -f "$out.tmp.$$" "$out"; drawn_dot=$((drawn_dot + 1))
                else
                    echo "plots: dot failed on $src: $(head -n 1 "$out.err.$$")" >&2
                    rm -f "$out.tmp.$$"; dot_status=1
                fi
                rm -f "$out.err.$$"
            done
        done
        echo "plots: $drawn_dot graph pictures rendered into build/plots/"
    else
        echo "plots: Graphviz dot is missing, so the lessons' graphs are not drawn (apt-get install graphviz)"
    fi
fi
if ! command -v gnuplot >/dev/null 2>&1; then
    echo "make plots: gnuplot is missing; install it with: apt-get install gnuplot-nox" >&2
    exit 2
fi
mkdir -p build/plots
status=0 drawn=0
for gp in plots/[0-9][0-9]_*.gp; do
    [ -f "$gp" ] || continue
    name=$(basename "$gp" .gp)
    if ! compgen -G "build/data/$name*.dat" >/dev/null; then
        echo "plots: no data for $name yet (run build/lessons/$name first)"
        continue
    fi
    if gnuplot -e "datadir='build/data'; outdir='build/plots'" "$gp"; then
        drawn=$((drawn + 1))
    else
        echo "plots: gnuplot failed on $gp" >&2; status=1
    fi
done
echo "plots: $drawn scripts rendered into build/plots/"
[ "$dot_status" -eq 0 ] || status=1
exit $status
