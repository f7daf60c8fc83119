#!/usr/bin/env bash
# sim.sh SHARDWAVE: compile (every scheduler), sim, sim --json, sim --svg on a tiny llama3-8b.
set -euo pipefail
sw=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tiny=(-D hidden=64 -D layers=2 -D vocab=1000 -D multiple_of=64)
for s in optimal greedy naive broadcast; do
    "$sw" compile examples/llama3-8b.yaml "${tiny[@]}" --scheduler $s -o "$tmp/$s.swp" > /dev/null
    "$sw" verify "$tmp/$s.swp" > /dev/null
    "$sw" sim "$tmp/$s.swp" > "$tmp/$s.txt"
    grep -q "^predicted .*lower bound .*ratio" "$tmp/$s.txt"
    "$sw" sim "$tmp/$s.swp" --json --svg "$tmp/$s.svg" > "$tmp/$s.json"
    python3 - "$tmp/$s.json" "$tmp/$s.svg" "$tmp/$s.swp" "$sw" <<'PY'
import json, subprocess, sys
import xml.etree.ElementTree as ET
d = json.load(open(sys.argv[1]))
for k in ("waves", "predicted_s", "lower_bound_s", "bytes", "per_wave"):
    assert k in d, k
assert set(d["bytes"]) >= {"device", "host", "network"}
assert d["waves"] == len(d["per_wave"]) > 0
assert 0 < d["lower_bound_s"] <= d["predicted_s"] * (1 + 1e-9)
assert abs(sum(w["time_s"] for w in d["per_wave"]) - d["predicted_s"]) <= 1e-6 * d["predicted_s"]
assert sum(w["bytes"] for w in d["per_wave"]) == sum(d["bytes"].values())
root = ET.parse(sys.argv[2]).getroot()
assert root.tag.endswith("svg"), root.tag
assert len(root.findall(".//{http://www.w3.org/2000/svg}rect")) > 10
show = json.loads(subprocess.run([sys.argv[4], "show", sys.argv[3], "--json"], check=True,
                                 capture_output=True, text=True).stdout)
assert abs(show["stats"]["predicted_s"] - d["predicted_s"]) <= 1e-6 * d["predicted_s"]
PY
done
# aggregated lanes, and the communication-only model
"$sw" sim "$tmp/optimal.swp" --lanes 2 --no-pack --svg "$tmp/agg.svg" > /dev/null
python3 -c "import sys, xml.etree.ElementTree as ET; ET.parse(sys.argv[1])" "$tmp/agg.svg"
grep -q "one lane per" "$tmp/agg.svg"
# usage errors exit 2, a missing plan 1 or 3
set +e
"$sw" sim > /dev/null 2>&1; [ $? -eq 2 ] || exit 1
"$sw" sim "$tmp/optimal.swp" --bogus > /dev/null 2>&1; [ $? -eq 2 ] || exit 1
"$sw" sim "$tmp/nonexistent.swp" > /dev/null 2>&1; rc=$?; [ $rc -ne 0 ] || exit 1
set -e
echo ok
