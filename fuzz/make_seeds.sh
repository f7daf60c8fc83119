#!/usr/bin/env bash
# Regenerates the seed corpora of the fuzz harnesses (fuzz/corpus/{yaml,dsl,plan}) from
# the examples at tiny sizes (full-size files elaborate for a second: too slow to mutate),
# the DSL error cases of tests/dsl, the conformance cases (tests/conformance), and
# plans compiled from them.  $1: the shardwave binary.  The corpora are committed and
# regenerated with this script after the inputs or the plan format change.
set -eu
SW=$(realpath "$1")
cd "$(dirname "$0")/.."
C=fuzz/corpus
mkdir -p $C/yaml $C/dsl $C/plan
tiny() { # NAME DEFINES...
    local n=$1
    shift
    "$SW" fmt "examples/$n.yaml" "$@" --to yaml -o "$C/yaml/$n-tiny.yaml"
    "$SW" fmt "examples/$n.sw" "$@" --to dsl -o "$C/dsl/$n-tiny.sw"
}
tiny llama3-8b -D hidden=64 -D layers=2 -D vocab=1000 -D multiple_of=64
tiny llama3-70b -D hidden=64 -D layers=4 -D vocab=1000 -D multiple_of=64
tiny qwen3-30b-a3b -D hidden=32 -D head_dim=8 -D layers=2 -D experts=16 -D moe_ffn=16 -D vocab=500
tiny deepseek-v3 -D layers=4 -D dense=1 -D pp_train=2 -D ep_train=4 -D ep_inf=2 -D tp_inf=2 -D hidden=64 -D heads=4 \
    -D q_lora=32 -D kv_lora=16 -D nope=8 -D rope=8 -D v_head=8 -D experts=8 -D moe_ffn=32 -D ffn=64 -D vocab=300 \
    -D make_vocab_size_divisible_by=8 -D vllm_vocab_padding=8 -D block=16
for n in llama_tiny pipeline_tiny; do
    cp "examples/$n.yaml" "$C/yaml/$n.yaml"
    cp "examples/$n.sw" "$C/dsl/$n.sw"
done
cp tests/dsl/*.sw "$C/dsl/"
if [ -d tests/conformance ]; then
    for f in tests/conformance/cases/*.yaml tests/conformance/bad/*.yaml; do
        cp "$f" "$C/yaml/conformance-$(basename "$(dirname "$f")")-$(basename "$f")"
    done
fi
# plans: every sync of the small files, at a small bucket (more tasks, relays)
for f in $C/yaml/llama_tiny.yaml $C/yaml/pipeline_tiny.yaml $C/yaml/qwen3-30b-a3b-tiny.yaml \
    $C/yaml/conformance-cases-*.yaml; do
    [ -f "$f" ] || continue
    for s in $("$SW" check "$f" | grep -o "sync [A-Za-z0-9_]*:" | sed 's/sync //; s/://'); do
        out="$C/plan/$(basename "$f" .yaml)-$s.swp"
        "$SW" compile "$f" --sync "$s" --bucket 4KiB -o "$out" >/dev/null 2>&1 || rm -f "$out"
        # keep the plan seeds small: libFuzzer mutates a few bytes of a copy per run
        [ -f "$out" ] && [ "$(stat -c %s "$out")" -gt 65536 ] && rm -f "$out"
    done
done
ls $C/yaml | wc -l | xargs echo "yaml seeds:"
ls $C/dsl | wc -l | xargs echo "dsl seeds:"
ls $C/plan | wc -l | xargs echo "plan seeds:"
du -sh $C
