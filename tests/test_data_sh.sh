#!/usr/bin/env bash
# tests/test_data_sh.sh BUILD_DIR — `make data` (models/fetch_data.sh) offline: a
# corrupt file is detected and named, a missing one too, a bad package copy
# never lands in the data root, bad options exit 2; and, when the real data
# is present, a second run does nothing.
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
