#!/usr/bin/env bash
# test_install.sh BUILD — the library as a user gets it: `make install
# PREFIX=$tmp` from BUILD, then the README's engine example compiled with
# `cc example.c $(pkg-config --cflags --libs chainrule)` against the staged
# copy only, and run; the shared library's soname; verify's man page
# renders (man-db); `make uninstall` leaves no chainrule file in $tmp.
B=${1:-build}
pass=0 fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }
tmp=$(mktemp -d); work=$(mktemp -d); trap 'rm -rf "$tmp" "$work"' EXIT
san=""; sanmake=""
case "$B" in *asan*) san="-fsanitize=address,undefined"; sanmake="SAN=1";; esac
version=$(cat VERSION)

out=$(make --no-print-directory -s install B="$B" $sanmake PREFIX="$tmp" 2>&1); st=$?
ok "make install PREFIX=\$tmp succeeds" '[ $st -eq 0 ]' || printf '%s\n' "$out" | tail -n 5
for f in lib/libchainrule.a "lib/libchainrule.so.$version" lib/libchainrule.so lib/pkgconfig/chainrule.pc \
         include/chainrule/chainrule.h include/chainrule/graph.h include/chainrule/ops.h bin/verify; do
    ok "installs $f" '[ -e "$tmp/$f" ]'
done
[ -x "$B/predict" ] && ok "installs bin/predict (built)" '[ -x "$tmp/bin/predict" ]'
soname=$(objdump -p "$tmp/lib/libchainrule.so.$version" 2>/dev/null | awk '/SONAME/ { print $2 }')
ok "the shared library's soname is libchainrule.so.${version%%.*} ($soname)" '[ "$soname" = "libchainrule.so.${version%%.*}" ]'
ok "libchainrule.so.${version%%.*} links to the versioned file" '[ "$(readlink "$tmp/lib/libchainrule.so.${version%%.*}")" = "libchainrule.so.$version" ]'

# the README's example, against the installed copy only (no -Iengine)
awk '/^## The engine in ten lines/{on=1} on&&/^```c/{grab=1;next} grab&&/^```/{exit} grab' README.md > "$work/body.c"
{ echo '#include <stdio.h>'; grep '^#include' "$work/body.c"; echo 'int main(void) {'; grep -v '^#include' "$work/body.c"; echo 'return 0; }'; } > "$work/example.c"
export PKG_CONFIG_PATH="$tmp/lib/pkgconfig"
flags=$(pkg-config --cflags --libs chainrule 2>&1); st=$?
ok "pkg-config finds chainrule $version" '[ $st -eq 0 ] && [ "$(pkg-config --modversion chainrule)" = "$version" ]'
# shellcheck disable=SC2086
ok "cc example.c \$(pkg-config --cflags --libs chainrule) builds" '(cd "$work" && cc -std=c11 -Wall -Wextra -Werror $san example.c $flags -o example)'
want=$(grep -o '/\* -8 6 \*/' README.md | head -1 | sed 's|/\* \(.*\) \*/|\1|')
ok "the example runs on the installed shared library and prints $want" '[ "$(LD_LIBRARY_PATH="$tmp/lib" "$work/example")" = "$want" ]'
ok "the example needs libchainrule.so.${version%%.*}" 'objdump -p "$work/example" | grep -q "NEEDED *libchainrule.so.${version%%.*}"'
# shellcheck disable=SC2086
ok "the static library links too" '(cd "$work" && cc -std=c11 $san example.c $(pkg-config --cflags chainrule) "$tmp/lib/libchainrule.a" -lm -o example_static) && [ "$("$work/example_static")" = "$want" ]'

if command -v help2man >/dev/null 2>&1; then
    ok "installs share/man/man1/verify.1" '[ -f "$tmp/share/man/man1/verify.1" ]'
    if command -v man >/dev/null 2>&1; then
        page=$(MANWIDTH=80 man -l "$tmp/share/man/man1/verify.1" 2>/dev/null)
        ok "man -l verify.1 renders, with the version and the options" 'printf "%s\n" "$page" | grep -q "chainrule $version" && printf "%s\n" "$page" | grep -q -- "--points"'
    else
        echo "note: man (Debian man-db) is not installed: the check that verify.1 renders is skipped"
    fi
else
    echo "note: help2man is not installed: no man pages to check (apt-get install help2man)"
fi

out=$(make --no-print-directory -s uninstall B="$B" $sanmake PREFIX="$tmp" 2>&1); st=$?
ok "make uninstall succeeds" '[ $st -eq 0 ]'
left=$(find "$tmp" ! -type d)
ok "make uninstall leaves no file in \$tmp${left:+ (left: $left)}" '[ -z "$left" ]'
ok "make uninstall removes include/chainrule/" '[ ! -e "$tmp/include/chainrule" ]'
out=$(make --no-print-directory -s install B="$B" $sanmake PREFIX=/usr/local DESTDIR="$tmp/stage" 2>&1); st=$?
ok "DESTDIR stages under \$DESTDIR\$PREFIX" '[ $st -eq 0 ] && [ -f "$tmp/stage/usr/local/lib/libchainrule.a" ] && grep -qx "prefix=/usr/local" "$tmp/stage/usr/local/lib/pkgconfig/chainrule.pc"'
make --no-print-directory -s uninstall B="$B" $sanmake PREFIX=/usr/local DESTDIR="$tmp/stage" >/dev/null 2>&1
ok "and uninstall with the same DESTDIR removes it" '[ -z "$(find "$tmp/stage" ! -type d)" ]'
echo "test_install: $pass passed, $fail failed"
[ $fail -eq 0 ]
