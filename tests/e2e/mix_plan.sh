#!/usr/bin/env bash
# quern mix --plan on GPT-3's Table 2.2 (declared sizes, no data): the epochs
# it prints are weight x 300B / size, and max_epochs / --renormalise behave.
source tests/e2e/lib.bash
Q=$QUERN
MIXF=$TESTDATA/mix/gpt3.mix

out=$("$Q" mix --plan --tokens 300B --mix "$MIXF" 2>"$WORK/err")
echo "$out"
# name size weight tokens epochs max val
epochs() { echo "$out" | awk -v n="$1" '$1 == n { print $5 }'; }
assert_eq "$(epochs common_crawl)" 0.44 "Common Crawl epochs"
assert_eq "$(epochs webtext2)" 3.47 "WebText2 epochs"
assert_eq "$(epochs books1)" 2.00 "Books1 epochs"
assert_eq "$(epochs books2)" 0.44 "Books2 epochs"
assert_eq "$(epochs wikipedia)" 3.00 "Wikipedia epochs"
grep -q "weights sum to 1.01" "$WORK/err" || fail "no note that the weights sum to 1.01"

# The same from the command line, as JSON, checked to 4 digits.
"$Q" mix --plan --json --tokens 300B cc=size:410B:0.60 wt2=size:19B:0.22 b1=size:12B:0.08 \
  b2=size:55B:0.08 wiki=size:3B:0.03 >"$WORK/plan.json" 2>/dev/null
"$PYTHON" - "$WORK/plan.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
want = {"cc": 0.60 * 300 / 410, "wt2": 0.22 * 300 / 19, "b1": 0.08 * 300 / 12, "b2": 0.08 * 300 / 55, "wiki": 0.03 * 300 / 3}
for s in p["sources"]:
    assert abs(s["epochs"] - want[s["name"]]) < 1e-4, (s["name"], s["epochs"])
assert p["train_tokens"] == 303_000_000_000, p["train_tokens"]
PY

# --normalise-weights: exactly 300B, each weight divided by 1.01.
"$Q" mix --plan --json --normalise-weights --tokens 300B --mix "$MIXF" | "$PYTHON" -c "
import json, sys
p = json.load(sys.stdin)
assert p['train_tokens'] == 300_000_000_000
cc = [s for s in p['sources'] if s['name'] == 'common_crawl'][0]
assert abs(cc['epochs'] - 0.60 / 1.01 * 300 / 410) < 1e-6"

# Wikipedia limited to 2 epochs: an error saying by how much; --renormalise holds it at 2.
expect_exit 1 "$Q" mix --plan --tokens 300B --mix "$MIXF" wiki2=size:3B:0.03:2 2>"$WORK/err"
grep -q "'wiki2'.*3.000 epochs.*1.000 over its max_epochs 2" "$WORK/err" || { cat "$WORK/err"; fail "max_epochs error"; }
"$Q" mix --plan --json --renormalise --tokens 300B cc=size:410B:0.60 wiki=size:3B:0.03:2 2>/dev/null | "$PYTHON" -c "
import json, sys
p = json.load(sys.stdin)
w = [s for s in p['sources'] if s['name'] == 'wiki'][0]
assert w['capped'] and w['tokens'] == 6_000_000_000 and w['epochs'] == 2, w
assert p['train_tokens'] == round(300e9 * 0.63)"

# Totals from --params (20 N) and from a budget file.
"$Q" mix --plan --json --params 1B --mix "$MIXF" --normalise-weights | "$PYTHON" -c "
import json, sys; assert json.load(sys.stdin)['train_tokens'] == 20_000_000_000"
"$Q" budget --json -N 10B >"$WORK/budget.json"
"$Q" mix --plan --json --budget "$WORK/budget.json" --mix "$MIXF" --normalise-weights | "$PYTHON" -c "
import json, sys; assert json.load(sys.stdin)['train_tokens'] == 200_000_000_000"

# A declared size cannot be mixed for real; bad specs are usage errors.
expect_exit 2 "$Q" mix -o "$WORK/out" --tokens 1M cc=size:410B:0.6
expect_exit 2 "$Q" mix --plan --tokens 1M cc=size:410B
expect_exit 2 "$Q" mix --plan cc=size:410B:0.6
expect_exit 2 "$Q" mix --plan --tokens 1M --params 1B cc=size:410B:0.6
"$Q" mix --help | grep -q -- "--renormalise" || fail "mix --help"
echo ok
