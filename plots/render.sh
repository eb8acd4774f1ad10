#!/usr/bin/env bash
# make plots — renders plots/NN_topic.gp for every lesson that has written
# its data (build/data/NN_topic*.dat) into build/plots/NN_topic*.png.
set -uo pipefail
cd "$(dirname "$0")/.."
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
exit $status
