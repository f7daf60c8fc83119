#!/usr/bin/env bash
# e2e: shardwave verify / show / show --json / dot on plan files.
#  - the fixture plan that test_plan_io leaves at build/tiny_plan.swp (when present);
#  - a plan compiled from conformance case 01 (when `shardwave compile` exists).
# usage: plan_tools.sh PATH/TO/shardwave
set -euo pipefail
SW=$1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ran=0

check_plan() { # PLAN
  local plan=$1
  "$SW" verify "$plan" | grep -q '^plan OK: '
  "$SW" show "$plan" > "$TMP/show.txt"
  grep -q '^wave 0' "$TMP/show.txt"
  "$SW" show "$plan" --json > "$TMP/show.json"
  python3 - "$TMP/show.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("sync", "from", "to", "scheduler", "waves", "tasks", "transfers", "locals", "stats"):
    assert k in d, k
assert d["rank"] is None
for t in d["tasks"]:
    assert 0 <= t["wave"] < d["waves"]
    assert t["class"] in ("device", "host", "network")
    for s in t["segments"]:
        x = d["transfers"][s["xfer"]]
        assert s["elem0"] + s["nelem"] <= x["nelem"]
        assert x["src"]["rank"] == t["src"] and x["dst"]["rank"] == t["dst"]
PY
  # one rank's part: every task involves that rank
  local r
  r=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["tasks"][0]["dst"] if d["tasks"] else d["ranks"][0]["rank"])' "$TMP/show.json")
  "$SW" show "$plan" --rank "$r" --json > "$TMP/rank.json"
  python3 - "$TMP/rank.json" "$r" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); r = int(sys.argv[2])
assert d["rank"] == r
assert all(t["src"] == r or t["dst"] == r for t in d["tasks"])
PY
  "$SW" show "$plan" --rank "$r" | grep -q "rank $r:"
  "$SW" dot "$plan" -o "$TMP/plan.dot"
  grep -q 'subgraph cluster_w0' "$TMP/plan.dot"
  dot -Tsvg "$TMP/plan.dot" -o "$TMP/plan.svg"
  grep -q '<svg' "$TMP/plan.svg"
  "$SW" dot "$plan" --aggregate | dot -Tsvg > /dev/null
  # a truncated copy is a corrupt plan: exit 1, no crash
  head -c 100 "$plan" > "$TMP/trunc.swp"
  set +e
  "$SW" verify "$TMP/trunc.swp" 2> "$TMP/err.txt"; rc=$?
  set -e
  [ "$rc" = 1 ] || { echo "verify of a truncated plan: exit $rc"; exit 1; }
  grep -q 'truncated' "$TMP/err.txt"
  ran=$((ran + 1))
}

FIX=$(dirname "$SW")/tiny_plan.swp
if [ -f "$FIX" ]; then
  check_plan "$FIX"
else
  echo "plan_tools: no fixture plan at $FIX (run test_plan_io first): skipped"
fi

CASE=tests/conformance/cases/01_col_row_parallel.yaml
if "$SW" compile --help > /dev/null 2>&1 && [ -f "$CASE" ]; then
  "$SW" compile "$CASE" --sync refit -o "$TMP/p.swp"
  check_plan "$TMP/p.swp"
else
  echo "plan_tools: shardwave compile not available: compiled-plan checks skipped"
fi
echo "plan_tools: $ran plan(s) checked"
