#!/usr/bin/env bash
# make run — on a fresh machine: install what is missing, fetch the data,
# build, run every lesson in order (output to the terminal and to
# build/logs/NN_topic.txt), draw the plots, and list the pictures.
set -uo pipefail
cd "$(dirname "$0")/.."
need=()
command -v gnuplot >/dev/null 2>&1 || need+=(gnuplot-nox)
command -v dot >/dev/null 2>&1 || need+=(graphviz)
printf '#include <png.h>\n' | cc -E -x c - >/dev/null 2>&1 || need+=(libpng-dev)   # predict's PNG input
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "make run: installing ${need[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null ||
            echo "make run: could not install ${need[*]}; the lessons still print their numbers (predict needs libpng-dev)" >&2
    else
        echo "make run: for the pictures install: sudo apt-get install ${need[*]}" >&2
    fi
fi
bash models/fetch_data.sh || exit $?
make --no-print-directory -s all || exit $?
mkdir -p build/logs
declare -a times
for exe in build/lessons/[0-9][0-9]_*; do
    [ -x "$exe" ] || continue
    name=$(basename "$exe")
    echo
    echo "################ $name"
    start=$(date +%s.%N)
    # the log goes to a temporary name and replaces the last one only when complete
    "$exe" 2>&1 | tee "build/logs/$name.txt.tmp"
    st=${PIPESTATUS[0]}
    [ "$st" -eq 0 ] && mv -f "build/logs/$name.txt.tmp" "build/logs/$name.txt"
    end=$(date +%s.%N)
    times+=("$(printf '%-28s %7.1f s' "$name" "$(awk -v a="$start" -v b="$end" 'BEGIN{print b-a}')")")
    if [ "$st" -ne 0 ]; then echo "make run: $name failed (exit $st)" >&2; exit "$st"; fi
done
echo
if command -v gnuplot >/dev/null 2>&1 || command -v dot >/dev/null 2>&1; then bash plots/render.sh; fi
echo
echo "time per lesson:"
printf '  %s\n' "${times[@]}"
echo "pictures:"
ls -1 build/plots/*.png 2>/dev/null | sed 's/^/  /' || echo "  none (install gnuplot-nox, then make plots)"
