#!/usr/bin/env bash
# cli_basics.sh SHARDWAVE - the command-line contract of spec section 7: exit codes
# (0 ok, 1 bad input, 2 bad usage), --help / --version, the error line format,
# `layout --json` keys, and check/layout on the conformance cases with -D.
# Run from the repository root; prints "N passed, N failed" and exits non-zero on any
# failure.
set -u
if [ $# -ne 1 ]; then
    echo "usage: $0 SHARDWAVE" >&2
    exit 2
fi
SW=$1
CASES=tests/conformance/cases
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); }
bad() {
    fail=$((fail + 1))
    echo "FAIL: $*"
}

# expect_rc WANT DESCRIPTION -- CMD...: runs CMD (stdout to $tmp/out, stderr to $tmp/err).
expect_rc() {
    local want=$1 what=$2
    shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then
        ok
    else
        bad "$what: exit $rc, expected $want (stderr: $(head -c 300 "$tmp/err"))"
    fi
}

# expect_grep PATTERN FILE DESCRIPTION
expect_grep() {
    if grep -Eq -- "$1" "$2"; then ok; else bad "$3: '$1' not in $(basename "$2"): $(head -c 300 "$2")"; fi
}

# ---- a small valid file and a bad one ------------------------------------------------
cat >"$tmp/good.yaml" <<'EOF'
shardwave: 1
model:
  name: tiny
  let: {hidden: 4, layers: 2}
  tensors:
    - name: layers.{i}.w
      for: {i: layers}
      shape: [hidden, 2]
layouts:
  train:
    mesh: {tp: 2}
    place:
      - {tensor: "layers.{i}.w", for: {i: layers}, split: {0: tp}}
  infer:
    first_rank: 2
    mesh: {tp: 1}
    place:
      - {tensor: "layers.{i}.w", for: {i: layers}}
EOF
cat >"$tmp/bad.yaml" <<'EOF'
shardwave: 1
model:
  name: tiny
  tensors:
    - {name: w, shape: [4, 2]}
layouts:
  train:
    mesh: {tp: 2}
    place:
      - {tensor: w, split: {0: tpp}}
EOF

# ---- version and help ------------------------------------------------------------------
expect_rc 0 "--version" -- "$SW" --version
expect_grep '[0-9]+\.[0-9]+\.[0-9]+' "$tmp/out" "--version prints a version"
expect_rc 0 "--help" -- "$SW" --help
expect_grep 'usage' "$tmp/out" "--help prints usage"
for cmd in check layout; do
    expect_rc 0 "$cmd --help" -- "$SW" $cmd --help
    expect_grep "usage: shardwave $cmd" "$tmp/out" "$cmd --help prints its usage"
    expect_rc 0 "$cmd -h" -- "$SW" $cmd -h
done

# ---- exit codes ------------------------------------------------------------------------
expect_rc 0 "check a good file" -- "$SW" check "$tmp/good.yaml"
expect_rc 0 "layout a good file" -- "$SW" layout "$tmp/good.yaml" --layout train --rank 1 --json
expect_rc 0 "layout (table) a good file" -- "$SW" layout "$tmp/good.yaml" --layout infer --rank 2
expect_rc 1 "check a bad file" -- "$SW" check "$tmp/bad.yaml"
expect_grep "^$tmp/bad.yaml:10:32: error: " "$tmp/err" "error line FILE:LINE:COL: error:"
expect_rc 1 "layout on a bad file" -- "$SW" layout "$tmp/bad.yaml" --layout train --rank 0 --json
expect_grep "^$tmp/bad.yaml:10:32: error: " "$tmp/err" "layout: error line FILE:LINE:COL: error:"
# The path is printed as given (relative here).
(cd "$tmp" && "$SW" check ./bad.yaml >/dev/null 2>err2)
expect_grep '^\./bad\.yaml:10:32: error: ' "$tmp/err2" "FILE is the path as given"

expect_rc 2 "no command" -- "$SW"
expect_rc 2 "unknown command" -- "$SW" frobnicate
expect_grep '^shardwave: error: ' "$tmp/err" "usage error format"
expect_rc 2 "check: unknown option" -- "$SW" check --bogus "$tmp/good.yaml"
expect_grep '^shardwave: error: ' "$tmp/err" "usage error format (option)"
expect_rc 2 "layout: unknown option" -- "$SW" layout "$tmp/good.yaml" --layout train --rank 0 --frob
expect_rc 2 "check: missing FILE" -- "$SW" check
expect_rc 2 "check: two FILEs" -- "$SW" check "$tmp/good.yaml" "$tmp/good.yaml"
expect_rc 2 "layout: missing FILE" -- "$SW" layout --layout train --rank 0
expect_rc 2 "layout: missing --layout" -- "$SW" layout "$tmp/good.yaml" --rank 0
expect_rc 2 "layout: missing --rank" -- "$SW" layout "$tmp/good.yaml" --layout train
expect_rc 2 "layout: --rank without value" -- "$SW" layout "$tmp/good.yaml" --layout train --rank
expect_rc 2 "layout: --rank not a number" -- "$SW" layout "$tmp/good.yaml" --layout train --rank one
expect_rc 2 "layout: --rank not in the layout (above)" -- "$SW" layout "$tmp/good.yaml" --layout train --rank 2
expect_rc 2 "layout: --rank not in the layout (below)" -- "$SW" layout "$tmp/good.yaml" --layout infer --rank 1
expect_rc 2 "layout: --rank negative" -- "$SW" layout "$tmp/good.yaml" --layout train --rank -1
expect_rc 2 "layout: unknown layout" -- "$SW" layout "$tmp/good.yaml" --layout nope --rank 0
expect_rc 2 "check: -D unknown name" -- "$SW" check "$tmp/good.yaml" -D nope=3
expect_grep '^shardwave: error: .*nope' "$tmp/err" "-D unknown name message"
expect_rc 2 "check: -D without =" -- "$SW" check "$tmp/good.yaml" -D layers
expect_rc 2 "check: -D non-integer" -- "$SW" check "$tmp/good.yaml" -D layers=two
expect_rc 2 "check: -D missing argument" -- "$SW" check "$tmp/good.yaml" -D
expect_rc 2 "layout: -D unknown name" -- "$SW" layout "$tmp/good.yaml" --layout train --rank 0 -D nope=1
expect_rc 1 "check: missing file is not a crash" -- "$SW" check "$tmp/does-not-exist.yaml"
if [ "$("$SW" check "$tmp/does-not-exist.yaml" 2>&1 >/dev/null | wc -l)" -ge 1 ]; then ok; else bad "missing file: no message"; fi

# -D changes the model (both spellings).
expect_rc 0 "check -D layers=5" -- "$SW" check "$tmp/good.yaml" -D layers=5
expect_grep '5 logical tensors' "$tmp/out" "-D layers=5 gives 5 tensors"
expect_rc 0 "check -Dlayers=3" -- "$SW" check "$tmp/good.yaml" -Dlayers=3
expect_grep '3 logical tensors' "$tmp/out" "-Dlayers=3 gives 3 tensors"
# -D that makes the split uneven is an input error.
expect_rc 1 "check -D hidden=3 (split no longer even)" -- "$SW" check "$tmp/good.yaml" -D hidden=3
expect_grep "^$tmp/good.yaml:13:" "$tmp/err" "-D error points at the split"

# ---- layout --json: exactly the keys of spec section 7 ----------------------------------
# keys.py FILE LAYOUT RANK [FILE LAYOUT RANK]...: checks each output, prints one line
# per bad file and then the number of bad files.
cat >"$tmp/keys.py" <<'EOF'
import json, sys

def check(path, layout, rank):
    d = json.load(open(path))
    want_top = {"layout", "rank", "coords", "host", "device", "tensors"}
    assert set(d) == want_top, "top keys %r" % sorted(d)
    assert d["layout"] == layout and d["rank"] == int(rank), "layout/rank"
    assert isinstance(d["host"], int) and isinstance(d["device"], int)
    assert isinstance(d["coords"], dict) and all(isinstance(v, int) for v in d["coords"].values())
    names = [t["name"] for t in d["tensors"]]
    assert names == sorted(names, key=lambda s: s.encode()), "tensors not sorted"
    for t in d["tensors"]:
        assert set(t) == {"name", "dtype", "shape", "pieces"}, "tensor keys %r" % sorted(t)
        offs = []
        for p in t["pieces"]:
            assert set(p) == {"local_offset", "tensor", "start", "size"}, "piece keys %r" % sorted(p)
            assert len(p["local_offset"]) == len(t["shape"])
            assert len(p["start"]) == len(p["size"])
            offs.append(p["local_offset"])
        assert offs == sorted(offs), "pieces not sorted"

nbad = 0
args = sys.argv[1:]
for i in range(0, len(args), 3):
    try:
        check(*args[i:i + 3])
    except Exception as e:
        nbad += 1
        print("FAIL: %s (%s rank %s): %r" % tuple(args[i:i + 3] + [e]), file=sys.stderr)
print(nbad)
EOF
json_ok() { # FILE LAYOUT RANK DESCRIPTION
    if [ "$(python3 "$tmp/keys.py" "$1" "$2" "$3" 2>"$tmp/pyerr")" = 0 ]; then ok; else bad "$4: $(tail -1 "$tmp/pyerr")"; fi
}

"$SW" layout "$tmp/good.yaml" --layout train --rank 1 --json >"$tmp/j.json" 2>/dev/null
json_ok "$tmp/j.json" train 1 "layout --json keys (good.yaml)"
if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["coords"] == {"tp": 1}, d["coords"]
assert [t["shape"] for t in d["tensors"]] == [[2, 2], [2, 2]]
assert d["tensors"][0]["pieces"] == [{"local_offset": [0, 0], "tensor": "layers.0.w", "start": [2, 0], "size": [2, 2]}]
' "$tmp/j.json" 2>"$tmp/pyerr"; then ok; else bad "layout --json content: $(tail -1 "$tmp/pyerr")"; fi
# --json before the file and the options in another order.
expect_rc 0 "options in another order" -- "$SW" layout --json --rank 1 --layout train "$tmp/good.yaml"
if cmp -s "$tmp/out" "$tmp/j.json"; then ok; else bad "option order changes the output"; fi

# ---- the conformance cases -------------------------------------------------------------
if [ -d "$CASES" ]; then
    for f in "$CASES"/*.yaml; do
        expect_rc 0 "check $(basename "$f")" -- "$SW" check "$f"
        # Every rank of every layout: the JSON keys (the values are compare.sh's job).
        layouts=$(python3 -c '
import re, sys
# layout names: the keys under "layouts:" at 2 spaces of indent
inl = False
for line in open(sys.argv[1]):
    if re.match(r"^layouts:", line): inl = True; continue
    if inl and re.match(r"^\S", line): break
    m = re.match(r"^  ([A-Za-z_][A-Za-z0-9_]*):", line)
    if inl and m: print(m.group(1))
' "$f")
        for L in $layouts; do
            exp=tests/conformance/expected/$(basename "$f" .yaml)
            for e in "$exp/$L".*.json; do
                [ -e "$e" ] || continue
                r=${e##*/$L.}
                r=${r%.json}
                mkdir -p "$tmp/conf"
                if "$SW" layout "$f" --layout "$L" --rank "$r" --json >"$tmp/conf/$(basename "$f" .yaml)@$L@$r.json" 2>"$tmp/err"; then
                    ok
                else
                    bad "layout $(basename "$f") $L $r failed: $(head -c 300 "$tmp/err")"
                fi
            done
        done
    done
    # The keys of every output above, in one python run (one check per file).
    njson=$(ls "$tmp/conf" | wc -l)
    if [ "$njson" -lt 10 ]; then bad "too few conformance layouts found ($njson)"; fi
    set --
    for j in "$tmp"/conf/*.json; do
        n=$(basename "$j" .json)
        IFS=@ read -r _ L r <<<"$n"
        set -- "$@" "$j" "$L" "$r"
    done
    nbad=$(python3 "$tmp/keys.py" "$@")
    pass=$((pass + njson - nbad))
    fail=$((fail + nbad))
    # -D on conformance cases: bigger or smaller models still check and lay out.
    c05=$CASES/05_gate_up_fused.yaml
    expect_rc 0 "05 -D layers=4" -- "$SW" check "$c05" -D layers=4
    expect_grep ' 12 logical tensors' "$tmp/out" "05 -D layers=4: 3 tensors per layer, 4 layers"
    c08=$CASES/08_moe_stacked_experts.yaml
    expect_rc 0 "08 -D experts=12 -D layers=2" -- "$SW" check "$c08" -D experts=12 -D layers=2
    expect_rc 0 "08 -D experts=12 layout" -- "$SW" layout "$c08" --layout vllm --rank 2 --json -D experts=12
    cp "$tmp/out" "$tmp/m.json"
    json_ok "$tmp/m.json" vllm 2 "08 -D experts=12 layout keys"
    if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
w13 = [t for t in d["tensors"] if t["name"].endswith("w13_weight")][0]
assert w13["shape"][0] == 4, w13["shape"]   # 12 experts over ep 3
' "$tmp/m.json" 2>"$tmp/pyerr"; then ok; else bad "08 -D experts=12: w13 shape: $(tail -1 "$tmp/pyerr")"; fi
    expect_rc 1 "08 -D experts=5 (ep no longer divides)" -- "$SW" check "$c08" -D experts=5
    expect_grep "08_moe_stacked_experts.yaml:[0-9]+:[0-9]+: error: " "$tmp/err" "08 -D experts=5 error line"
    c07=$CASES/07_qkv_groups.yaml
    expect_rc 0 "07 -D kv_heads=2 -D heads=6" -- "$SW" layout "$c07" --layout mcore_tp2 --rank 1 --json -D kv_heads=2 -D heads=6
    expect_rc 2 "07 -D unknown" -- "$SW" check "$c07" -D not_a_let=1
else
    bad "conformance cases not found at $CASES"
fi

# Progress: on stderr only, after SHARDWAVE_PROGRESS_AFTER seconds (1 by default), never
# with --quiet; stdout keeps the summary alone.
tiny=examples/llama_tiny.yaml
expect_rc 0 "compile with progress" -- env SHARDWAVE_PROGRESS_AFTER=0 "$SW" compile "$tiny" --sync refit -o "$tmp/t.swp"
expect_grep '^shardwave compile: needs \([0-9.]+ s\)$' "$tmp/err" "compile progress: a stage line"
expect_grep '^shardwave compile: write ' "$tmp/err" "compile progress: the last stage"
if grep -q '^shardwave compile:' "$tmp/out"; then bad "compile progress on stdout"; else ok; fi
expect_rc 0 "compile --quiet" -- env SHARDWAVE_PROGRESS_AFTER=0 "$SW" compile "$tiny" --sync refit --quiet -o "$tmp/t.swp"
if [ -s "$tmp/err" ]; then bad "compile --quiet wrote to stderr: $(head -c 200 "$tmp/err")"; else ok; fi
expect_rc 0 "compile without progress (quick)" -- "$SW" compile "$tiny" --sync refit -o "$tmp/t.swp"
if [ -s "$tmp/err" ]; then bad "a quick compile wrote progress: $(head -c 200 "$tmp/err")"; else ok; fi
expect_rc 0 "run with progress" -- env SHARDWAVE_PROGRESS_AFTER=0 "$SW" run "$tmp/t.swp" --backend local --validate --iters 3
expect_grep '^shardwave run: syncs [0-9]+/3 ' "$tmp/err" "run progress: syncs"
expect_grep '^shardwave run: check the destinations' "$tmp/err" "run progress: validation"
expect_rc 0 "run --quiet" -- env SHARDWAVE_PROGRESS_AFTER=0 "$SW" run "$tmp/t.swp" --backend local --iters 3 --quiet
if [ -s "$tmp/err" ]; then bad "run --quiet wrote to stderr: $(head -c 200 "$tmp/err")"; else ok; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
