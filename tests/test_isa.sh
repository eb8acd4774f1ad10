#!/usr/bin/env bash
# test_isa.sh BUILD — every instruction set this CPU runs gives the same bits.
# The suite runs with the widest one (kernels.h: kernels_isa_choice); here
# CHAINRULE_ISA forces each narrower one in turn — portable C, AVX2/FMA —
# and the kernel tests must pass against the same naive references, and
# lessons 05 and 10 print their golden output byte for byte. Then the
# variable's bad values: each stops the program with one line naming it and
# exit status 2.
B=${1:-build}
pass=0 fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }

widest=$("$B/tests/test_kernels" --isa 2>/dev/null)
ok "test_kernels --isa names the chosen set" '[[ "$widest" =~ ^(portable|avx2|avx512)$ ]]'
for isa in portable avx2 avx512; do
    [ "$isa" = "$widest" ] && break          # the suite itself runs the widest
    out=$(CHAINRULE_ISA=$isa "$B/tests/test_kernels" 2>&1); st=$?
    ok "test_kernels passes with CHAINRULE_ISA=$isa" '[ $st -eq 0 ] && printf "%s\n" "$out" | grep -q " 0 failed"'
    out=$(CHAINRULE_ISA=$isa "$B/tests/test_cnn" 2>&1); st=$?
    ok "test_cnn passes with CHAINRULE_ISA=$isa" '[ $st -eq 0 ] && printf "%s\n" "$out" | grep -q " 0 failed"'
    ok "lesson 05 prints its golden output with CHAINRULE_ISA=$isa" \
       'CHAINRULE_ISA=$isa "$B/lessons/05_mnist" --quick --data tests/data 2>/dev/null | cmp -s - tests/golden/05_mnist.txt'
    ok "lesson 06 (RMSprop's twins) prints its golden output with CHAINRULE_ISA=$isa" \
       'CHAINRULE_ISA=$isa "$B/lessons/06_capacity" --quick --data tests/data 2>/dev/null | cmp -s - tests/golden/06_capacity.txt'
    # (lesson 10 in portable C takes a minute under the sanitizers: the
    # kernel tests above cover those copies)
    [ "$isa" = portable ] && continue
    ok "lesson 10 prints its golden output with CHAINRULE_ISA=$isa" \
       'CHAINRULE_ISA=$isa "$B/lessons/10_cnn" --quick --data tests/data 2>/dev/null | cmp -s - tests/golden/10_cnn.txt'
done
ok "CHAINRULE_PORTABLE=1 still forces the portable copies" \
   '[ "$(CHAINRULE_PORTABLE=1 "$B/tests/test_kernels" --isa)" = portable ]'
# (only where a set wider than portable C exists: on a CPU without AVX2
# both variables name the same set, and the check could not fail)
if [ "$widest" != portable ]; then
    ok "CHAINRULE_ISA wins over CHAINRULE_PORTABLE" \
       '[ "$(CHAINRULE_PORTABLE=1 CHAINRULE_ISA=$widest "$B/tests/test_kernels" --isa)" = "$widest" ]'
else
    echo "test_isa: this CPU runs portable C only: CHAINRULE_ISA over CHAINRULE_PORTABLE not checked"
fi
ok "an empty CHAINRULE_ISA is ignored" '[ "$(CHAINRULE_ISA= "$B/tests/test_kernels" --isa)" = "$widest" ]'

# bad values: one line on stderr naming the variable, exit 2, no output
bad() {  # bad VALUE WHAT PATTERN
    local err st out want=$3
    out=$(CHAINRULE_ISA=$1 "$B/lessons/05_mnist" --quick --data tests/data 2>/dev/null)
    err=$(CHAINRULE_ISA=$1 "$B/lessons/05_mnist" --quick --data tests/data 2>&1 >/dev/null); st=$?
    ok "CHAINRULE_ISA=$2: exit 2 with one line, nothing on stdout" \
       '[ $st -eq 2 ] && [ -z "$out" ] && [ "$err" = "$want" ]'
}
bad bogus "bogus" "CHAINRULE_ISA=bogus: not one of portable, avx2, avx512"
bad AVX2 "AVX2 (names are lower case)" "CHAINRULE_ISA=AVX2: not one of portable, avx2, avx512"
bad "$(printf 'x%.0s' $(seq 5000))" "5000 characters (the line shows 40)" \
    "CHAINRULE_ISA=$(printf 'x%.0s' $(seq 40))...: not one of portable, avx2, avx512"
case $widest in
portable) bad avx2 "avx2 on a CPU without it" "CHAINRULE_ISA=avx2: this CPU cannot run it (the widest it runs is portable)" ;;
avx2)     bad avx512 "avx512 on a CPU without it" "CHAINRULE_ISA=avx512: this CPU cannot run it (the widest it runs is avx2)" ;;
esac
echo "test_isa: $pass passed, $fail failed"
[ $fail -eq 0 ]
