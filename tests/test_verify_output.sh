#!/usr/bin/env bash
# test_verify_output.sh BUILD_DIR — verify for the instructor: --json parses
# and says what the text says; --gradescope writes results.json in
# Gradescope's schema (atomically); the batch mode's CSV (its golden is
# tests/golden/verify_class.txt) and its errors.
set -u
cd "$(dirname "$0")/.." || exit 2
B=${1:-build}
V="$B/verify"
D=lessons/verify/derivations
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 || true)

"$V" --json "$D/mistakes.txt" "$D/05_chain_rule_steps.txt" >"$tmp/json"; st=$?
[ "$st" -eq 1 ] && ok || bad "--json: exit $st, want 1"
"$V" "$D/mistakes.txt" "$D/05_chain_rule_steps.txt" >"$tmp/text"
if [ -n "$PY" ]; then
    "$PY" - "$tmp/json" "$tmp/text" <<'PYEOF' && ok || bad "--json: the document"
import json, sys
d = json.load(open(sys.argv[1]))
text = [l for l in open(sys.argv[2]) if l.startswith(("HOLDS  ", "FAILS  "))]
claims = d["claims"]
assert len(claims) == len(text) == d["total"], (len(claims), len(text))
assert d["hold"] + d["fail"] == d["total"]
for c, t in zip(claims, text):
    assert set(c) >= {"file", "line", "claim", "verdict", "links", "max_relative_error", "counterexample"}
    assert t.startswith(c["verdict"] + "  " + c["claim"] + "  "), (t, c["claim"])
    assert t.rstrip().endswith("%s:%d)" % (c["file"], c["line"]))
    assert (c["counterexample"] is None) == (c["verdict"] == "HOLDS")
    assert all(l["verdict"] in ("HOLDS", "FAILS") for l in c["links"])
    assert (c["verdict"] == "HOLDS") == all(l["verdict"] == "HOLDS" for l in c["links"])
chain = [c for c in claims if len(c["links"]) == 3 and c["verdict"] == "FAILS"][0]
assert [l["verdict"] for l in chain["links"]] == ["HOLDS", "FAILS", "FAILS"] and chain["first_wrong_link"] == 2
PYEOF
else
    grep -q '^{"claims": \[' "$tmp/json" && tail -1 "$tmp/json" | grep -q '"total": 20' && ok || bad "--json: shape (no python3)"
fi

# Gradescope: tests with name, score, max_score, status, output; the total
"$V" --gradescope "$tmp/results.json" "$D/mistakes.txt" "$D/03_scalar_backprop.txt" >"$tmp/out"; st=$?
[ "$st" -eq 1 ] && [ -s "$tmp/out" ] && ok || bad "--gradescope: exit $st"
ls "$tmp" | grep -q 'results.json.tmp' && bad "--gradescope: a temporary file left" || ok
holds=$(grep -c '^HOLDS' "$tmp/out")
if [ -n "$PY" ]; then
    "$PY" - "$tmp/results.json" "$holds" <<'PYEOF' && ok || bad "--gradescope: schema"
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d["score"], (int, float)) and d["score"] == int(sys.argv[2])
assert len(d["tests"]) == 21
for t in d["tests"]:
    assert set(t) == {"name", "score", "max_score", "status", "output"}, t.keys()
    assert t["status"] in ("passed", "failed") and t["max_score"] == 1
    assert t["score"] == (1 if t["status"] == "passed" else 0)
    assert t["output"].startswith("HOLDS" if t["score"] else "FAILS")
assert sum(t["score"] for t in d["tests"]) == d["score"]
PYEOF
fi
"$V" --gradescope "$tmp/no/such/dir/results.json" "$D/mistakes.txt" >/dev/null 2>"$tmp/err"; st=$?
[ "$st" -eq 2 ] && grep -q "^verify: --gradescope: cannot write '$tmp/no/such/dir/results.json'" "$tmp/err" && ok \
    || bad "--gradescope into a missing directory: exit $st"

# batch: the class CSV, a row per student; errors
C="$D/class"
"$V" --defs "$C/assignment.txt" "$C"/submissions/*.txt >"$tmp/csv" 2>"$tmp/err"; st=$?
[ "$st" -eq 0 ] && cmp -s "$tmp/csv" tests/golden/verify_class.txt && ok || bad "batch: exit $st or CSV differs"
[ "$(wc -l <"$tmp/csv")" -eq $(( $(ls "$C"/submissions/*.txt | wc -l) + 1 )) ] && ok || bad "batch: a row per student"
grep -q '^verify: .*dave.txt:3:41: .* (scored 0)$' "$tmp/err" && [ "$(wc -l <"$tmp/err")" -eq 1 ] && ok \
    || { bad "batch: the malformed submission named"; cat "$tmp/err"; }
"$V" --defs "$C/assignment.txt" >/dev/null 2>"$tmp/err"; st=$?
[ "$st" -eq 2 ] && grep -q 'no submissions' "$tmp/err" && ok || bad "batch without submissions: exit $st"
"$V" --defs "$C/assignment.txt" --json "$C/submissions/bob.txt" >/dev/null 2>&1; st=$?
[ "$st" -eq 2 ] && ok || bad "batch with --json: exit $st"
printf 'given x\n' >"$tmp/noclaim.txt"
"$V" --defs "$tmp/noclaim.txt" "$C/submissions/bob.txt" >/dev/null 2>"$tmp/err"; st=$?
[ "$st" -eq 2 ] && grep -q 'no claims' "$tmp/err" && ok || bad "batch, an assignment without claims: exit $st"
"$V" --defs "$tmp/missing.txt" "$C/submissions/bob.txt" >/dev/null 2>"$tmp/err"; st=$?
[ "$st" -eq 2 ] && grep -q "cannot read" "$tmp/err" && ok || bad "batch, a missing assignment: exit $st"
# output that cannot be written is an error
if [ -w /dev/full ]; then
    "$V" "$D/03_scalar_backprop.txt" >/dev/full 2>"$tmp/err"; st=$?
    [ "$st" -eq 2 ] && grep -q 'cannot write' "$tmp/err" && ok || bad "stdout on /dev/full: exit $st"
fi

echo "test_verify_output.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
