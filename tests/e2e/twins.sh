#!/usr/bin/env bash
# twins.sh SHARDWAVE: every example ships as examples/X.yaml and examples/X.sw; both
# compile (every sync) to byte-identical plans.  The big examples compile at a tiny size
# (-D), the small ones as they are.
set -uo pipefail
sw=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

defines() {
    case "$1" in
        llama3-8b)     echo "-D hidden=256 -D layers=2 -D vocab=1000 -D multiple_of=64" ;;
        llama3-70b)    echo "-D hidden=512 -D layers=4 -D vocab=1000 -D multiple_of=64" ;;
        qwen3-30b-a3b) echo "-D hidden=64 -D head_dim=8 -D layers=2 -D experts=16 -D moe_ffn=16 -D vocab=1000" ;;
        deepseek-v3)   echo "-D hidden=64 -D layers=4 -D dense=1 -D experts=64 -D moe_ffn=16 -D ffn=64 -D heads=8" \
                            "-D q_lora=32 -D kv_lora=16 -D nope=8 -D rope=8 -D v_head=8 -D vocab=1024" \
                            "-D pp_train=2 -D ep_train=4 -D ep_inf=2 -D tp_inf=2 -D block=8" ;;
        deepseek-v3-bf16) echo "-D hidden=64 -D layers=4 -D dense=1 -D experts=16 -D moe_ffn=16 -D ffn=64 -D heads=8" \
                            "-D q_lora=32 -D kv_lora=16 -D nope=8 -D rope=8 -D v_head=8 -D vocab=1024" \
                            "-D pp_train=2 -D ep_train=4 -D dp_inf=4 -D tp_inf=2" ;;
        *)             echo "" ;;
    esac
}

pass=0
fail=0
for yaml in examples/*.yaml; do
    x=$(basename "$yaml" .yaml)
    dsl=examples/$x.sw
    if [ ! -f "$dsl" ]; then
        echo "FAIL $x: no DSL twin $dsl"
        fail=$((fail + 1))
        continue
    fi
    syncs=$(sed -n 's/^sync \([A-Za-z_][A-Za-z0-9_]*\).*/\1/p' "$dsl")
    [ -n "$syncs" ] || syncs=-
    for s in $syncs; do
        opt=()
        [ "$s" = - ] || opt=(--sync "$s")
        # shellcheck disable=SC2046
        if "$sw" compile "$yaml" "${opt[@]}" $(defines "$x") -o "$tmp/a.swp" > "$tmp/a.out" 2>&1 &&
           "$sw" compile "$dsl" "${opt[@]}" $(defines "$x") -o "$tmp/b.swp" > "$tmp/b.out" 2>&1 &&
           cmp "$tmp/a.swp" "$tmp/b.swp"; then
            pass=$((pass + 1))
        else
            echo "FAIL $x sync $s:"
            cat "$tmp/a.out" "$tmp/b.out"
            fail=$((fail + 1))
        fi
    done
done
for dsl in examples/*.sw; do
    x=$(basename "$dsl" .sw)
    if [ ! -f "examples/$x.yaml" ]; then
        echo "FAIL $x: no YAML twin examples/$x.yaml"
        fail=$((fail + 1))
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -ge 6 ]
