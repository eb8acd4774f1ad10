#!/usr/bin/env bash
# tests/test_data_sh.sh BUILD_DIR — `make data` (models/fetch_data.sh) offline: a
# corrupt file is detected and named, a missing one too, a bad package copy
# never lands in the data root, bad options exit 2; installing from a
# package made of the slices works, and fails with the real reason (never
# "ok", never advice to install a source that worked, no .part left) for a
# root that is a file, a directory in a file's place, a read-only root and a
# full disk; and, when the real data is present, a second run does nothing.
set -u
cd "$(dirname "$0")/.." || exit 2
B=${1:-build}
pass=0 fail=0
ok() { pass=$((pass + 1)); }
no() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect() {  # expect WANT_STATUS PATTERN DESCRIPTION -- command…
    local want=$1 pat=$2 what=$3; shift 4
    local out st
    out=$("$@" 2>&1); st=$?
    if [ "$st" = "$want" ] && printf '%s\n' "$out" | grep -qE -- "$pat"; then ok
    else no "$what: exit $st (want $want), output:"; printf '%s\n' "$out" | sed 's/^/    /' | head -n 12; fi
}

t="$B/tmp/test_data_sh"
rm -rf "$t" && mkdir -p "$t/root/mnist" "$t/debian" || exit 2

# a corrupt file: right name, right size of header, wrong bytes
printf '\0\0\10\3garbage' > "$t/root/mnist/train-images-idx3-ubyte"
expect 1 "$t/root/mnist/train-images-idx3-ubyte: sha256 mismatch" "corrupt file named" -- \
    env CHAINRULE_DATA="$t/root" bash models/fetch_data.sh --verify --only mnist
expect 1 "$t/root/mnist/t10k-labels-idx1-ubyte: missing" "missing file named" -- \
    env CHAINRULE_DATA="$t/root" bash models/fetch_data.sh --verify --only mnist
expect 1 "$t/root/fashion-mnist: bad or missing: train-images" "empty set reported" -- \
    env CHAINRULE_DATA="$t/root" bash models/fetch_data.sh --verify --only fashion-mnist

# a bad packaged copy: one file not gzip at all, the others gzip of wrong bytes
printf 'not gzip' > "$t/debian/train-images-idx3-ubyte.gz"
for f in train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    printf 'wrong bytes' | gzip -c > "$t/debian/$f.gz"
done
expect 1 "train-images-idx3-ubyte.gz: not a valid gzip file" "bad gzip named" -- \
    env CHAINRULE_DATA="$t/root" CHAINRULE_FASHION_DIR="$t/debian" bash models/fetch_data.sh --offline --only fashion-mnist
expect 1 "t10k-labels-idx1-ubyte: sha256 mismatch" "bad package file named" -- \
    env CHAINRULE_DATA="$t/root" CHAINRULE_FASHION_DIR="$t/debian" bash models/fetch_data.sh --offline --only fashion-mnist
expect 1 "could not get fashion-mnist: .*To fix: install the package" "one clear message when all fail" -- \
    env CHAINRULE_DATA="$t/root" CHAINRULE_FASHION_DIR="$t/debian" bash models/fetch_data.sh --offline --only fashion-mnist
if [ -e "$t/root/fashion-mnist/t10k-labels-idx1-ubyte" ]; then no "a file failing its checksum was installed"; else ok; fi

# ---- installing: a "Debian package" made of the shipped Fashion-MNIST
# slices, gzipped, with their sums in $CHAINRULE_SUMS (instead of the pinned
# sums of the full files), so that every install path runs offline.
pkg="$t/pkg" sums="$t/sums"
mkdir -p "$pkg" && : > "$sums"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    gzip -c "tests/data/fashion-mnist/$f" > "$pkg/$f.gz"
    echo "$(sha256sum < "tests/data/fashion-mnist/$f" | cut -d' ' -f1)  fashion-mnist/$f" >> "$sums"
done
fetch() {  # fetch ROOT: make data --offline for fashion-mnist from the package into ROOT
    env CHAINRULE_SUMS="$sums" CHAINRULE_FASHION_DIR="$pkg" CHAINRULE_DATA="$1" \
        bash models/fetch_data.sh --offline --only fashion-mnist
}
no_part() {  # no_part DIR WHAT: no .part file anywhere under DIR
    if [ -z "$(find "$1" -name '*.part' 2>/dev/null)" ]; then ok; else no "$2: a .part file was left"; fi
}
expect 0 "fashion-mnist: complete and verified" "installs from the package" -- fetch "$t/good"
expect 0 "already complete and verified, nothing to do" "a second install does nothing" -- fetch "$t/good"
no_part "$t/good" "install"

: > "$t/afile"
expect 2 "^make data: $t/afile: not a directory" "CHAINRULE_DATA naming a file" -- fetch "$t/afile"
out=$(fetch "$t/afile" 2>&1)
if printf '%s\n' "$out" | grep -qE ': ok$|install (npm|the package)'; then no "a root that is a file: said ok or gave source advice"; else ok; fi

mkdir -p "$t/dirroot/fashion-mnist/t10k-images-idx3-ubyte"
expect 2 "^make data: $t/dirroot/fashion-mnist/t10k-images-idx3-ubyte: is a directory where the data file belongs" \
    "a directory where a file belongs" -- fetch "$t/dirroot"
if [ -z "$(ls "$t/dirroot/fashion-mnist/t10k-images-idx3-ubyte")" ]; then ok; else no "something was moved into the directory in the way"; fi
no_part "$t/dirroot" "directory in the way"

# A read-only data root and a full disk need a file system of their own: a
# small tmpfs in a private mount namespace (unshare -m as root, unshare -rm
# otherwise). Without one, the read-only case uses chmod (not as root) and
# the full disk is skipped with a note.
ns=""
if unshare -m true 2>/dev/null; then ns="unshare -m"; elif unshare -rm true 2>/dev/null; then ns="unshare -rm"; fi
if [ -n "$ns" ] && $ns bash -c 'mount -t tmpfs -o size=64k tmpfs "$1"' _ "$t" 2>/dev/null; then
    mkdir -p "$t/ro" "$t/full"
    # read-only: the set's directory exists, the file system is mounted ro
    out=$($ns bash -c 'mount -t tmpfs -o size=1m tmpfs "$1" && mkdir "$1/fashion-mnist" &&
        mount -o remount,ro "$1" && shift && "$@"' _ "$t/ro" env CHAINRULE_SUMS="$sums" \
        CHAINRULE_FASHION_DIR="$pkg" CHAINRULE_DATA="$t/ro" bash models/fetch_data.sh --offline --only fashion-mnist 2>&1); st=$?
    if [ "$st" = 2 ] && printf '%s\n' "$out" | grep -q "^make data: $t/ro/fashion-mnist: cannot write there: Read-only file system" &&
       ! printf '%s\n' "$out" | grep -qE ': ok$|install (npm|the package)'; then ok
    else no "read-only root: exit $st:"; printf '%s\n' "$out" | sed 's/^/    /'; fi
    # full: 100 KB holds the first images file but not the second
    out=$($ns bash -c 'mount -t tmpfs -o size=100k tmpfs "$1" && shift && "$@"; echo "left: $(cd "'"$t/full"'" && find . -name "*.part")"' \
        _ "$t/full" env CHAINRULE_SUMS="$sums" CHAINRULE_FASHION_DIR="$pkg" CHAINRULE_DATA="$t/full" \
        bash models/fetch_data.sh --offline --only fashion-mnist 2>&1); st=$?
    if printf '%s\n' "$out" | grep -q "t10k-images-idx3-ubyte: cannot write: No space left on device" &&
       printf '%s\n' "$out" | grep -q "could not install fashion-mnist: t10k-images-idx3-ubyte: writing into $t/full/fashion-mnist failed" &&
       ! printf '%s\n' "$out" | grep -qE 't10k-images-idx3-ubyte: ok$|install (npm|the package)' &&
       printf '%s\n' "$out" | grep -q "^left: $"; then ok
    else no "full disk:"; printf '%s\n' "$out" | sed 's/^/    /'; fi
    echo "note: read-only root and full disk simulated with tmpfs ($ns)"
elif [ "$(id -u)" != 0 ]; then
    mkdir -p "$t/ro/fashion-mnist" && chmod 555 "$t/ro/fashion-mnist"
    expect 2 "^make data: $t/ro/fashion-mnist: cannot write there: Permission denied" "read-only root" -- fetch "$t/ro"
    chmod 755 "$t/ro/fashion-mnist"
    echo "note: no mount namespace here; read-only root by chmod, full disk not simulated"
else
    echo "note: root without a mount namespace: read-only root and full disk not simulated"
fi

expect 2 "unknown option '--bogus'" "bad option" -- bash models/fetch_data.sh --bogus
expect 2 "'cifar' is not mnist or fashion-mnist" "bad --only" -- bash models/fetch_data.sh --only cifar

# idempotent: with the real data in place, a second run has nothing to do
real=${CHAINRULE_DATA:-data}
if CHAINRULE_DATA="$real" bash models/fetch_data.sh --verify >/dev/null 2>&1; then
    expect 0 "mnist: already complete and verified, nothing to do" "second run does nothing" -- \
        env CHAINRULE_DATA="$real" bash models/fetch_data.sh --offline
else
    echo "note: $real has no verified data (make data); idempotence not checked"
fi

rm -rf "$t"
echo "test_data_sh: $pass passed, $fail failed"
[ "$fail" = 0 ]
