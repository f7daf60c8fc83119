#!/usr/bin/env bash
# Bad inputs end in a clear error (issue 14, items 3-9 and 11): no crash, no hang, no
# runaway memory, no silent success.  Every case runs under a 2 GiB address-space limit
# and a 20 s timeout, and must exit with the expected status and print the expected
# message (with FILE:LINE:COL where the input caused it).  The inputs are generated here:
# 60,000 parentheses, 200,000 minus signs, 120,000 keys, a 100,000,000-iteration `for`, a
# mesh of 8.4 M ranks, a 33 MiB file, /dev/zero, a tiny bucket, an int64 overflow in `pad`,
# unsupported dtype conversions, a NUL byte and invalid UTF-8, a quoted version, outputs
# that cannot be written.  $1 is the shardwave binary.
set -u
SW=$(realpath "$1")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
pass=0 fail=0

# expect LABEL RC REGEX CMD...: CMD exits with RC within the limits and its stderr (or
# stdout) matches the extended regex REGEX.
expect() {
    local label=$1 want=$2 re=$3
    shift 3
    local start end rc
    start=$(date +%s%N)
    (
        ulimit -v 2097152
        exec timeout 20 "$@"
    ) >out.txt 2>err.txt
    rc=$?
    end=$(date +%s%N)
    local ms=$(((end - start) / 1000000))
    if [ "$rc" != "$want" ]; then
        fail=$((fail + 1))
        echo "FAIL: $label: exit $rc, expected $want ($ms ms): $(head -c 300 err.txt)"
    elif ! grep -Eq -- "$re" err.txt out.txt; then
        fail=$((fail + 1))
        echo "FAIL: $label: no /$re/ in: $(head -c 300 err.txt)"
    else
        pass=$((pass + 1))
        echo "ok: $label: exit $rc in $ms ms: $(head -1 err.txt | cut -c1-160)"
    fi
}

rep() { head -c "$2" /dev/zero | tr '\0' "$1"; }

# A small valid file; $1: the shape's first entry, $2: the tensor name.
yaml() {
    cat <<EOF
shardwave: 1
model:
  name: m
  dtype: fp32
  tensors:
    - {name: "${2:-w}", shape: ["$1", 4]}
layouts:
  a: {mesh: {tp: 2}, place: [{tensor: "${2:-w}", split: {1: tp}}]}
  b: {first_rank: 2, mesh: {tp: 1}, place: [{tensor: "${2:-w}"}]}
syncs:
  - {name: s, from: a, to: b}
EOF
}
dsl() {
    cat <<EOF
shardwave 1
model "m" dtype fp32 {
  tensor "w" shape [$1, 4]
}
layout a mesh(tp = 2) { place "w" split 1 over tp }
layout b first_rank 2 mesh(tp = 1) { place "w" }
sync s from a to b
EOF
}
yaml "4" >ok.yaml
expect "a valid file" 0 "ok.yaml: ok" "$SW" check ok.yaml

# ---- 3: nesting (was: SIGSEGV, or bison's bare "memory exhausted") ----
yaml "$(rep '(' 60000)4$(rep ')' 60000)" >parens.yaml
expect "YAML: 60,000 parentheses" 1 "^parens.yaml:6:27: error: expression nested more than 256 deep at character 258" \
    "$SW" check parens.yaml
yaml "$(rep '-' 200000)4" >minus.yaml
expect "YAML: 200,000 unary minus signs" 1 "^minus.yaml:6:27: error: expression nested more than 256 deep" \
    "$SW" compile minus.yaml -o x.swp
yaml "4" "w{$(rep '(' 60000)0$(rep ')' 60000)}" >tmpl.yaml
expect "YAML: nesting inside a name template" 1 "^tmpl.yaml:6:14: error: in name template 'w\{\(+\.\.\.': expression nested" \
    "$SW" check tmpl.yaml
{ echo "shardwave: 1"; echo "x: $(rep '[' 100000)$(rep ']' 100000)"; } >nest.yaml
expect "YAML: 100,000 nested lists" 1 "^nest.yaml:2:67: error: mappings and lists nested more than 64 deep" \
    "$SW" check nest.yaml
dsl "$(rep '(' 60000)4$(rep ')' 60000)" >parens.sw
expect "DSL: 60,000 parentheses" 1 "^parens.sw:3:275: error: brackets nested more than 256 deep" "$SW" check parens.sw
dsl "$(rep '-' 200000)4" >minus.sw
expect "DSL: 200,000 unary minus signs (bison's stack)" 1 \
    "^minus.sw:3:[0-9]+: error: the input nests too deeply here: more than 10000 pending tokens" "$SW" check minus.sw
dsl "$(rep '-' 300)4" >minus300.sw
expect "DSL: 300 unary minus signs (the expression's depth)" 1 "^minus300.sw:3:[0-9]+: error: expression nested more than 256" \
    "$SW" check minus300.sw
dsl "- - (4)" >minus4.sw
expect "DSL: a few signs are fine" 0 "minus4.sw: ok" "$SW" check minus4.sw

# ---- 4: keys of one mapping (was: quadratic, 8 s for 40,000 keys) ----
keys() { # keys N [DUP]: a `let` of N keys, the last one a duplicate of k$DUP when given
    awk -v n="$1" -v dup="${2:-}" 'BEGIN {
        printf "shardwave: 1\nmodel:\n  name: m\n  dtype: fp32\n  let: {"
        for (i = 0; i < n; i++) printf "%sk%d: 1", (i ? ", " : ""), (dup != "" && i == n - 1 ? dup : i)
        printf "}\n  tensors: [{name: w, shape: [4]}]\nlayouts:\n  a: {mesh: {tp: 1}, place: [{tensor: w}]}\n"
    }'
}
keys 120000 >keys.yaml
expect "YAML: 120,000 keys in one mapping" 1 "^keys.yaml:5:39859: error: more than 4096 keys in one mapping \(the input limit\)" \
    "$SW" check keys.yaml
keys 4000 17 >dup.yaml
expect "YAML: a duplicate key among 4,000 (hashed lookup)" 1 "^dup.yaml:5:[0-9]+: error: duplicate key 'k17' in this mapping" \
    "$SW" check dup.yaml
awk 'BEGIN { printf "shardwave 1\nmodel \"m\" dtype fp32 {\n  let "
    for (i = 0; i < 120000; i++) printf "%sk%d = 1", (i ? ", " : ""), i
    printf "\n  tensor \"w\" shape [4]\n}\n" }' >keys.sw
expect "DSL: 120,000 let entries" 1 "^keys.sw:3:[0-9]+: error: more than 4096 entries in this list \(the input limit\)" \
    "$SW" check keys.sw

# ---- 5: sizes refused before the work (was: gigabytes, then "out of memory") ----
cat >for.yaml <<'EOF'
shardwave: 1
model:
  name: m
  dtype: fp32
  tensors:
    - {name: "w{i}", for: {i: 100000000}, shape: [4]}
layouts:
  a: {mesh: {tp: 1}, place: [{tensor: "w{i}", for: {i: 100000000}}]}
syncs: []
EOF
expect "for: {i: 100000000}" 1 "^for.yaml:6:27: error: this 'for' runs 100000000 iterations; at most 4000000 instances" \
    "$SW" check for.yaml
sed 's/{i: 100000000}, shape/{i: 1001, j: 1000}, shape/; s/w{i}", for/w{i}_{j}", for/' for.yaml | sed '/^layouts/,$d' \
    >tensors.yaml
echo "layouts: {}" >>tensors.yaml
expect "1,001,000 tensors" 1 "^tensors.yaml:6:14: error: more than 1000000 logical tensors \(the input limit\)" \
    "$SW" check tensors.yaml
cat >mesh.yaml <<'EOF'
shardwave: 1
model:
  name: m
  dtype: fp32
  tensors:
    - {name: w, shape: [4096]}
layouts:
  a: {mesh: {dp: 2048, tp: 4096}, place: [{tensor: w}]}
  b: {first_rank: 8388608, mesh: {tp: 1}, place: [{tensor: w}]}
syncs:
  - {name: s, from: a, to: b}
EOF
expect "check: a mesh of 8.4 M ranks" 1 "^mesh.yaml:8:28: error: the mesh has more than 131072 ranks \(the input limit\)" \
    "$SW" check mesh.yaml
expect "compile: a mesh of 8.4 M ranks" 1 "^mesh.yaml:8:28: error: the mesh has more than 131072 ranks" \
    "$SW" compile mesh.yaml -o x.swp
sed 's/{dp: 2048, tp: 4096}/{tp: 1}/; s/first_rank: 8388608/first_rank: 131072/' mesh.yaml >far.yaml
expect "a layout past global rank 131071" 1 "^far.yaml:9:19: error: the layout's ranks go past rank 131071" \
    "$SW" check far.yaml
cat >quad.yaml <<'EOF'
shardwave: 1
model:
  name: m
  dtype: fp32
  tensors:
    - {name: w, shape: [4096, 4096]}
layouts:
  a: {mesh: {tp: 4096}, place: [{tensor: w, split: {0: tp}}]}
  b: {first_rank: 4096, mesh: {tp: 4096}, place: [{tensor: w, split: {1: tp}}]}
syncs:
  - {name: s, from: a, to: b}
EOF
expect "check: rows over 4096 ranks into columns over 4096" 1 \
    "^quad.yaml:11:5: error: sync 's' would make about 16777216 transfers: more than the 4000000 a plan may have" \
    "$SW" check quad.yaml
expect "compile refuses it before building it" 1 "^quad.yaml:11:5: error: sync 's' would make about 16777216 transfers" \
    "$SW" compile quad.yaml -o x.swp
expect "check /dev/zero" 1 "cannot read '/dev/zero': not a regular file" "$SW" check /dev/zero
mkfifo fifo.yaml
expect "check a FIFO (nobody writes)" 1 "cannot read 'fifo.yaml': not a regular file" "$SW" check fifo.yaml
expect "check a directory" 1 "cannot read '.': it is a directory" "$SW" check .
cp ok.yaml big.yaml && truncate -s 33M big.yaml
expect "a 33 MiB file" 1 "'big.yaml' has 34603008 bytes: a layout file has at most 33554432 \(32 MiB, the input limit\)" \
    "$SW" check big.yaml
expect "fmt reads the same way" 1 "cannot read '/dev/zero': not a regular file" "$SW" fmt /dev/zero --to yaml
sed 's/shape: \[4096\]/shape: [5000]/; s/{dp: 2048, tp: 4096}, place: \[{tensor: w}\]/{tp: 5000}, place: [{tensor: w, split: {0: tp}}]/; s/first_rank: 8388608/first_rank: 5000/' \
    mesh.yaml >ranks.yaml
"$SW" compile ranks.yaml -o ranks.swp >/dev/null || echo "FAIL: compile ranks.yaml"
expect "a local run of a 5,001-rank plan" 2 "this plan has 5001 ranks, at most 4096 are run that way \(use the mpi or nccl" \
    "$SW" run ranks.swp --backend local

# ---- 6: the bucket floor (was: 32 s and 5.4 GB, then "a compiler bug") ----
for b in 1B 3B 4095B; do
    sed "s/- {name: s, from: a, to: b}/- {name: s, from: a, to: b, bucket: $b}/" ok.yaml >bucket.yaml
    expect "bucket: $b" 1 "^bucket.yaml:11:39: error: bucket '$b' is below the minimum of 4096 bytes" "$SW" check bucket.yaml
done
expect "compile refuses it too" 1 "^bucket.yaml:11:39: error: bucket '4095B' is below" "$SW" compile bucket.yaml -o x.swp
sed "s/- {name: s, from: a, to: b}/- {name: s, from: a, to: b, bucket: 4KiB}/" ok.yaml >bucket.yaml
expect "bucket: 4KiB is fine" 0 "bucket.yaml: ok" "$SW" check bucket.yaml

# ---- 7: int64 overflow (was: negative bytes, exit 0; UBSan: signed overflow) ----
sed 's/place: \[{tensor: "w", split: {1: tp}}\]/place: [{tensor: "w", pad: {0: 4611686018427387904}, split: {1: tp}}]/' \
    ok.yaml >pad.yaml
expect "pad: {0: 2^62}" 1 "^pad.yaml:8:49: error: local tensor 'w' would be larger than 2\^63 bytes after padding" \
    "$SW" check pad.yaml
cat >sum.yaml <<'EOF'
shardwave: 1
model:
  name: m
  dtype: fp32
  tensors:
    - {name: "w{i}", for: {i: 8}, shape: [576460752303423488]}
layouts:
  a: {mesh: {tp: 1}, place: [{tensor: w0}]}
EOF
expect "the model's bytes past 2^63" 1 "^sum.yaml:6:14: error: the model's tensors hold more than 2\^63 bytes with 'w3'" \
    "$SW" check sum.yaml
# 4 tensors of 2^60 bytes (2^62 in the model) on every rank of a mesh of 4
sed 's/place: \[{tensor: w0}\]/place: [{tensor: "w{i}", for: {i: 4}}]/; s/for: {i: 8}, shape: \[576460752303423488\]/for: {i: 4}, shape: [288230376151711744]/; s/mesh: {tp: 1}/mesh: {tp: 4}/' \
    sum.yaml >lsum.yaml
expect "a layout's bytes past 2^63" 1 "^lsum.yaml:8:39: error: layout 'a' would hold more than 2\^63 bytes" \
    "$SW" check lsum.yaml

# ---- 8: dtype conversions the runtime cannot do (was: refused only at run) ----
cat >dtype.yaml <<'EOF'
shardwave: 1
model:
  name: m
  dtype: int64
  tensors:
    - {name: w, shape: [4, 4]}
    - {name: v, shape: [4], dtype: fp32}
layouts:
  a: {mesh: {tp: 1}, place: [{tensor: w}, {tensor: v}]}
  b:
    first_rank: 1
    mesh: {tp: 1}
    place:
      - {tensor: w, dtype: int8}
      - {tensor: v, dtype: int32}
syncs:
  - {name: s, from: a, to: b}
EOF
expect "int64 -> int8" 1 "^dtype.yaml:14:18: error: sync 's': 'w' is int64 in layout 'a' and int8 in layout 'b': converting int64 to int8 is not supported" \
    "$SW" check dtype.yaml
sed -i 's/{tensor: w, dtype: int8}/{tensor: w}/' dtype.yaml
expect "fp32 -> int32" 1 "^dtype.yaml:15:18: error: sync 's': 'v' is fp32 in layout 'a' and int32 in layout 'b'" \
    "$SW" compile dtype.yaml -o x.swp
sed -i 's/dtype: int64/dtype: int8/; s/{tensor: w}/{tensor: w, dtype: int32}/; s/{tensor: v, dtype: int32}/{tensor: v, dtype: bf16}/' dtype.yaml
expect "int8 -> int32 and fp32 -> bf16 are fine" 0 "dtype.yaml: ok" "$SW" check dtype.yaml

# ---- 9: positions of the YAML reader's errors (was: 1:1) ----
printf 'shardwave: 1\nmodel:\n  name: m\n  dt\0ype: fp32\n' >nul.yaml
expect "a NUL byte" 1 "^nul.yaml:4:5: error: YAML syntax error: control characters are not allowed \(byte 0x00\)" \
    "$SW" check nul.yaml
printf 'shardwave: 1\nmodel:\n  name: m\xff\xfe\n  dtype: fp32\n' >utf8.yaml
expect "invalid UTF-8" 1 "^utf8.yaml:3:10: error: YAML syntax error: invalid leading UTF-8 octet \(byte 0xff\)" \
    "$SW" check utf8.yaml

# ---- 11: messages ----
sed 's/^shardwave: 1/shardwave: "1"/' ok.yaml >version.yaml
expect "shardwave: \"1\"" 1 "^version.yaml:1:12: error: the format version must be the integer 1, not the string \"1\"" \
    "$SW" check version.yaml
sed 's/^shardwave: 1/shardwave: 2/' ok.yaml >version.yaml
expect "shardwave: 2" 1 "^version.yaml:1:12: error: unsupported format version '2': this shardwave reads version 1" \
    "$SW" check version.yaml
"$SW" compile ok.yaml -o ok.swp >/dev/null || echo "FAIL: compile ok.yaml"
expect "compile: an unwritable output" 1 "cannot write plan '/nonexistent/x.swp'" "$SW" compile ok.yaml -o /nonexistent/x.swp
expect "sim: an unwritable output" 1 "cannot write '/nonexistent/x.svg'" "$SW" sim ok.swp --svg /nonexistent/x.svg
expect "dot: an unwritable output" 1 "cannot write '/nonexistent/x.dot'" "$SW" dot ok.swp -o /nonexistent/x.dot
expect "fmt: an unwritable output" 1 "cannot write '/nonexistent/x.sw'" "$SW" fmt ok.yaml --to dsl -o /nonexistent/x.sw

echo "bad_inputs: $pass passed, $fail failed"
[ "$fail" = 0 ]
