#!/usr/bin/env bash
# test_readme.sh BUILD — the README's engine example compiles against the
# library and prints what its comment says; the README gives both commands.
B=${1:-build}
pass=0 fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
awk '/^## The engine in ten lines/{on=1} on&&/^```c/{grab=1;next} grab&&/^```/{exit} grab' README.md > "$dir/body.c"
ok "README has the C example" '[ -s "$dir/body.c" ]'
{ echo '#include <stdio.h>'; grep '^#include' "$dir/body.c"; echo 'int main(void) {'; grep -v '^#include' "$dir/body.c"; echo 'return 0; }'; } > "$dir/ex.c"
san=""; case "$B" in *asan*) san="-fsanitize=address,undefined";; esac
ok "the example compiles" 'cc -std=c11 -Wall -Wextra -Werror $san -Iengine "$dir/ex.c" "$B/libengine.a" -lm -o "$dir/ex"'
want=$(grep -o '/\* -8 6 \*/' README.md | head -1 | sed 's|/\* \(.*\) \*/|\1|')
ok "the example prints what its comment says ($want)" '[ "$("$dir/ex")" = "$want" ]'
ok "README gives make run" 'grep -q "make run" README.md'
ok "README gives make test" 'grep -q "make test" README.md'
echo "test_readme: $pass passed, $fail failed"
[ $fail -eq 0 ]
