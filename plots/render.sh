#!/usr/bin/env bash
# make plots — renders plots/NN_topic.gp for every lesson that has written
# its data (build/data/NN_topic*.dat) into build/plots/NN_topic*.png, and
# every tape a lesson has written (build/data/NN_topic_graph.dot) into
# build/plots/NN_topic_graph.png and .svg with Graphviz.
#
#   bash plots/render.sh [DATA_DIR [OUT_DIR]]    (default build/data build/plots)
#
# A picture is only ever replaced by a complete one: a script whose tables
# are not all complete (each ends with the line "# end" that the lessons'
# cli_data_close writes last; a run interrupted mid-table leaves none) is not
# drawn and is named, and each script renders into a temporary directory
# whose pictures are renamed into OUT_DIR only when gnuplot succeeds. So an
# interrupted lesson, a failing gnuplot or two renders at once leave the
# previous pictures in place.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
data=${1:-build/data}
out=${2:-build/plots}

# ---- the tapes (lessons 01-03): Graphviz dot, each picture written to a
# temporary name and renamed on success; no dot is a note, not a failure.
dot_status=0
if compgen -G "$data/[0-9][0-9]_*_graph.dot" >/dev/null; then
    if command -v dot >/dev/null 2>&1; then
        mkdir -p "$out"
        drawn_dot=0
        for src in "$data"/[0-9][0-9]_*_graph.dot; do
            name=$(basename "$src" .dot)
            for fmt in png svg; do
                pic="$out/$name.$fmt"
                if dot "-T$fmt" "$src" -o "$pic.tmp.$$" 2>"$pic.err.$$"; then
                    mv -f "$pic.tmp.$$" "$pic"; drawn_dot=$((drawn_dot + 1))
                else
                    echo "plots: dot failed on $src: $(head -n 1 "$pic.err.$$")" >&2
                    rm -f "$pic.tmp.$$"; dot_status=1
                fi
                rm -f "$pic.err.$$"
            done
        done
        echo "plots: $drawn_dot graph pictures rendered into $out/"
    else
        echo "plots: Graphviz dot is missing, so the lessons' graphs are not drawn (apt-get install graphviz)"
    fi
fi
if ! command -v gnuplot >/dev/null 2>&1; then
    echo "make plots: gnuplot is missing; install it with: apt-get install gnuplot-nox" >&2
    exit 2
fi
mkdir -p "$out" || { echo "make plots: $out: cannot create the directory" >&2; exit 2; }
work=""
trap '[ -n "$work" ] && rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# incomplete NAME: prints the tables of NAME whose last line is not "# end"
incomplete() {
    local f
    for f in "$data/$1"*.dat; do
        [ -f "$f" ] || continue
        [ "$(tail -n 1 "$f" 2>/dev/null)" = "# end" ] || printf ' %s' "$f"
    done
}

status=0 drawn=0
for gp in plots/[0-9][0-9]_*.gp; do
    [ -f "$gp" ] || continue
    name=$(basename "$gp" .gp)
    if ! compgen -G "$data/$name*.dat" >/dev/null; then
        echo "plots: no data for $name yet (run build/lessons/$name first)"
        continue
    fi
    bad=$(incomplete "$name")
    if [ -n "$bad" ]; then
        echo "plots: $name not drawn, its pictures left as they were: incomplete table(s)$bad" \
             "(no final '# end' line: the run was interrupted or is still writing); run build/lessons/$name again" >&2
        status=1
        continue
    fi
    work=$(mktemp -d "$out/.render-$name.XXXXXX") || { echo "plots: $out: cannot write" >&2; exit 2; }
    if gnuplot -e "datadir='$data'; outdir='$work'" "$gp" 2>"$work/gnuplot.err" &&
       compgen -G "$work/*.png" >/dev/null; then
        moved=1
        for png in "$work"/*.png; do
            [ -s "$png" ] && mv -f "$png" "$out/" || moved=0
        done
        [ -s "$work/gnuplot.err" ] && cat "$work/gnuplot.err" >&2
        if [ "$moved" = 1 ]; then drawn=$((drawn + 1))
        else echo "plots: could not put $name's pictures into $out" >&2; status=1; fi
    else
        sed 's/^/  /' "$work/gnuplot.err" >&2
        echo "plots: gnuplot failed on $gp; its pictures left as they were" >&2
        status=1
    fi
    rm -rf "$work"
    work=""
done
echo "plots: $drawn scripts rendered into $out/"
[ "$dot_status" -eq 0 ] || status=1
exit $status
