#!/usr/bin/env bash
# fmt_dsl.sh SHARDWAVE: `shardwave fmt` both ways, and a DSL parse error with a caret.
set -euo pipefail
sw=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case09=tests/conformance/cases/09_pipeline_stages_let.yaml
[ -f "$case09" ] || case09=examples/pipeline_tiny.sw
"$sw" fmt "$case09" --to dsl -o "$tmp/a.sw"
"$sw" fmt "$tmp/a.sw" --to yaml > "$tmp/a.yaml"
"$sw" fmt "$tmp/a.yaml" --to dsl > "$tmp/b.sw"
cmp "$tmp/a.sw" "$tmp/b.sw"
"$sw" check "$tmp/a.sw" > /dev/null
# a DSL file without the .sw extension is recognised by its first line
cp "$tmp/a.sw" "$tmp/layout.txt"
"$sw" check "$tmp/layout.txt" > /dev/null
"$sw" layout "$tmp/a.sw" --layout mcore_pp2 --rank 1 --json > "$tmp/a.json"
"$sw" layout "$case09" --layout mcore_pp2 --rank 1 --json > "$tmp/b.json"
cmp "$tmp/a.json" "$tmp/b.json"
# a parse error: FILE:LINE:COL: error, the line and a caret; exit 1
printf 'shardwave 1\nmodel m {\n  tensor "w" shape [8 *]\n}\n' > "$tmp/bad.sw"
set +e
"$sw" check "$tmp/bad.sw" 2> "$tmp/err"
rc=$?
set -e
[ $rc -eq 1 ]
grep -q "^$tmp/bad.sw:3:24: error: unexpected ']'" "$tmp/err"
grep -q '^      |                        \^$' "$tmp/err"
# usage errors exit 2
set +e
"$sw" fmt "$tmp/a.sw" --to json 2> /dev/null
[ $? -eq 2 ] || exit 1
"$sw" fmt "$tmp/a.sw" --to yaml -D no_such_constant=1 2> /dev/null
[ $? -eq 2 ] || exit 1
set -e
# -D writes the constant: the formatted file elaborates like the original with -D
"$sw" fmt examples/llama3-8b.yaml --to dsl -D layers=2 -D hidden=256 > "$tmp/d.sw"
grep -q "layers = 2" "$tmp/d.sw"
"$sw" layout "$tmp/d.sw" -D vocab=1000 -D multiple_of=64 --layout infer --rank 17 --json > "$tmp/d1.json"
"$sw" layout examples/llama3-8b.yaml -D layers=2 -D hidden=256 -D vocab=1000 -D multiple_of=64 --layout infer \
    --rank 17 --json > "$tmp/d2.json"
cmp "$tmp/d1.json" "$tmp/d2.json"
echo ok
