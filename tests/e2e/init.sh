#!/usr/bin/env bash
# init.sh SHARDWAVE: `shardwave init` on the public config.json of seven models (tests/init/):
# every generated file checks at full size, compiles and runs validated at a tiny size (-D);
# exact local names and shapes on a few ranks; the DSL output is the YAML output's twin;
# refusals (unknown model_type, sizes a framework rejects, bad flags) with their exact text.
set -euo pipefail
sw=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cfg=tests/init

fail() { echo "init.sh: $*" >&2; exit 1; }

# tiny sizes per model (let constants of the generated files)
declare -A tiny=(
  [llama3.1-8b]="hidden=64 heads=8 kv_heads=4 ffn=128 layers=4 vocab=1000"
  [qwen2.5-7b]="hidden=64 heads=8 kv_heads=4 ffn=128 layers=4 vocab=1000"
  [qwen2.5-0.5b]="hidden=64 heads=8 kv_heads=4 ffn=128 layers=4 vocab=1000"
  [qwen3-8b]="hidden=64 heads=8 kv_heads=4 head_dim=8 ffn=128 layers=4 vocab=1000"
  [qwen3-30b-a3b]="hidden=64 heads=4 kv_heads=2 head_dim=16 layers=4 vocab=1000 experts=8 moe_ffn=32"
  [mixtral-8x7b]="hidden=64 heads=4 kv_heads=2 layers=4 vocab=1000 experts=8 moe_ffn=32"
  [deepseek-v3]="hidden=64 layers=5 dense=1 experts=8 moe_ffn=32 ffn=64 heads=4 q_lora=32 kv_lora=16 nope=8 rope=8 v_head=8 vocab=1000 block_n=8 block_k=8"
)
dflags() { for kv in ${tiny[$1]} $2; do printf -- '-D %s ' "$kv"; done; }

# model | --from | --to ... | extra -D for the tiny run
cases=(
  "llama3.1-8b|megatron:tp=4,pp=2,dp=2|vllm:tp=2,dp=4|"
  "llama3.1-8b|megatron:tp=2,pp=4,vpp=2|vllm:tp=8|layers=16 heads=8"
  "llama3.1-8b|fsdp2:shard=8,replicate=2|vllm:tp=4 sglang:tp=2,dp=2|"
  "qwen2.5-7b|megatron:tp=4,pp=2|vllm:tp=2|"
  "qwen2.5-7b|megatron:tp=2,pp=4,first_stage_layers=6,last_stage_layers=6|vllm:tp=4,dp=2|layers=8 train_first_stage_layers=2 train_last_stage_layers=2"
  "qwen2.5-0.5b|megatron:tp=2,pp=2,vocab_pad=0|vllm:tp=2 sglang:tp=2|"
  "qwen2.5-0.5b|fsdp2:shard=4|vllm:tp=2,first_rank=0,rank_base=0|"
  "qwen3-8b|megatron:tp=8,pp=2,dp=2|vllm:tp=4,dp=2|heads=8 kv_heads=8"
  "qwen3-30b-a3b|megatron:tp=2,pp=2,dp=4,ep=8,etp=1|vllm:tp=2,dp=2 vllm:tp=4,ep=1|"
  "qwen3-30b-a3b|megatron:tp=1,pp=2,dp=8,ep=8,grouped_gemm=0|vllm:tp=4 sglang:tp=4,ep=2|"
  "mixtral-8x7b|megatron:tp=2,pp=2,dp=2,ep=2|vllm:tp=2,ep=1 sglang:tp=2|"
  "mixtral-8x7b|fsdp2:shard=3,replicate=2|vllm:tp=2|"
  "qwen3-30b-a3b|fsdp2:shard=3|vllm:tp=2,dp=2,ep=1 vllm:tp=2|"
  "qwen3-30b-a3b|fsdp2:shard=2,transformers=4|sglang:tp=2|"
  "deepseek-v3|megatron:tp=1,pp=2,dp=4,ep=4,first_stage_layers=2|vllm:tp=2,dp=2,ep=1|train_first_stage_layers=2"
  "deepseek-v3|megatron:tp=2,pp=1,dp=2,ep=4,etp=1|vllm:tp=2,dp=2|"
)
n=0
for c in "${cases[@]}"; do
  IFS='|' read -r model from tos extra <<< "$c"
  args=(init --hf "$cfg/$model.json" --from "$from")
  for t in $tos; do args+=(--to "$t"); done
  f="$tmp/case$n.yaml"
  "$sw" "${args[@]}" -o "$f" || fail "init failed: ${args[*]}"
  "$sw" check "$f" > "$tmp/check.txt" || fail "check failed at full size: ${args[*]}"
  # tiny: every sync compiles and runs validated on the local backend
  D=$(dflags "$model" "$extra")
  k=0
  for t in $tos; do
    sync=refit; [ $k -gt 0 ] && sync=refit$k
    # shellcheck disable=SC2086
    "$sw" compile "$f" $D --sync $sync -o "$tmp/p.swp" > /dev/null || fail "compile failed: ${args[*]} ($sync) $D"
    "$sw" run "$tmp/p.swp" --backend local --validate > "$tmp/run.txt" || fail "run --validate failed: ${args[*]} ($sync)"
    grep -q "all match" "$tmp/run.txt" || fail "validation did not match: ${args[*]}"
    k=$((k + 1))
  done
  n=$((n + 1))
done
[ $n -eq ${#cases[@]} ]

# ---- exact contents ------------------------------------------------------------------------
# Qwen2.5-7B, Megatron TP4 PP2 -> vLLM TP2 (the issue's example)
"$sw" init --hf $cfg/qwen2.5-7b.json --from megatron:tp=4,pp=2 --to vllm:tp=2 -o "$tmp/q.yaml"
"$sw" check "$tmp/q.yaml" > "$tmp/c.txt"
grep -q "model qwen2.5-7b: 339 logical tensors" "$tmp/c.txt" || fail "qwen2.5-7b tensor count: $(cat "$tmp/c.txt")"
grep -q "layout train: 8 ranks (0..7) on 1 host, mesh pp=2 x dp=1 x tp=4" "$tmp/c.txt" || fail "train mesh"
grep -q "layout infer: 2 ranks (8..9) on 1 host, mesh dp=1 x tp=2" "$tmp/c.txt" || fail "infer mesh"
grep -q "sync refit: train -> infer, 339 tensors covered" "$tmp/c.txt" || fail "refit coverage"
grep -q "^    hidden: 3584 .*# hidden_size$" "$tmp/q.yaml" || fail "let hidden"
grep -q "^    ffn: 18944 .*# intermediate_size$" "$tmp/q.yaml" || fail "let ffn"
grep -q "^    vocab: 152064 .*# vocab_size$" "$tmp/q.yaml" || fail "let vocab"
# rank 3 = pp 0, tp 3: 152064 is a multiple of 128 x 4, no padding rows
"$sw" layout "$tmp/q.yaml" --layout train --rank 3 --json > "$tmp/r3.json"
grep -q '"name": "embedding.word_embeddings.weight", "dtype": "bf16", "shape": \[38016, 3584\]' "$tmp/r3.json" || fail "rank 3 embedding"
grep -q '"start": \[114048, 0\], "size": \[38016, 3584\]' "$tmp/r3.json" || fail "rank 3 embedding piece"
grep -q '"name": "decoder.layers.13.self_attention.linear_qkv.bias", "dtype": "bf16", "shape": \[1152\]' "$tmp/r3.json" || fail "qkv bias shape"
# rank 4 = pp 1: layer 14 is local layer 0, output layer there
"$sw" layout "$tmp/q.yaml" --layout train --rank 4 --json > "$tmp/r4.json"
grep -q '"name": "decoder.layers.0.mlp.linear_fc1.weight", "dtype": "bf16", "shape": \[9472, 3584\]' "$tmp/r4.json" || fail "fc1 shape"
grep -q '"tensor": "model.layers.14.mlp.gate_proj.weight", "start": \[0, 0\], "size": \[4736, 3584\]' "$tmp/r4.json" || fail "fc1 gate piece"
grep -q '"name": "output_layer.weight"' "$tmp/r4.json" || fail "output layer on the last stage"
if grep -q 'embedding.word_embeddings' "$tmp/r4.json"; then fail "embedding on the last stage"; fi
# vLLM rank 9 = tp 1: qkv_proj [q 14 heads; k 2 heads; v 2 heads] x 128
"$sw" layout "$tmp/q.yaml" --layout infer --rank 9 --json > "$tmp/r9.json"
grep -q '"name": "model.layers.0.self_attn.qkv_proj.weight", "dtype": "bf16", "shape": \[2304, 3584\]' "$tmp/r9.json" || fail "qkv_proj shape"
grep -q '"local_offset": \[1792, 0\], "tensor": "model.layers.0.self_attn.k_proj.weight", "start": \[256, 0\], "size": \[256, 3584\]' "$tmp/r9.json" || fail "qkv_proj k piece"
grep -q '"name": "model.embed_tokens.weight", "dtype": "bf16", "shape": \[76032, 3584\]' "$tmp/r9.json" || fail "vllm embedding"

# Llama-3.1-8B at Megatron TP4: 128256 -> 128512 rows (multiple of 128 x 4); tp rank 3 holds
# 31872 real rows and 256 padding rows; vLLM TP8: 128256 is a multiple of 64, 16032 per rank
"$sw" init --hf $cfg/llama3.1-8b.json --from megatron:tp=4 --to vllm:tp=8 -o "$tmp/l.yaml"
"$sw" layout "$tmp/l.yaml" --layout train --rank 3 --json > "$tmp/l3.json"
grep -q '"name": "embedding.word_embeddings.weight", "dtype": "bf16", "shape": \[32128, 4096\]' "$tmp/l3.json" || fail "llama padded embedding"
grep -q '"local_offset": \[0, 0\], "tensor": "model.embed_tokens.weight", "start": \[96384, 0\], "size": \[31872, 4096\]' "$tmp/l3.json" || fail "llama embedding piece"
"$sw" layout "$tmp/l.yaml" --layout infer --rank 11 --json > "$tmp/l11.json"
# vLLM TP8 with 8 kv heads: one kv head per rank; rank 11 = tp 7
grep -q '"name": "model.layers.0.self_attn.qkv_proj.weight", "dtype": "bf16", "shape": \[768, 4096\]' "$tmp/l11.json" || fail "llama qkv tp8"
grep -q '"name": "model.embed_tokens.weight", "dtype": "bf16", "shape": \[16032, 4096\]' "$tmp/l11.json" || fail "llama vllm embedding"

# Qwen3-30B-A3B to vLLM 0.33 (RoutedExperts names) and to the older names
"$sw" init --hf $cfg/qwen3-30b-a3b.json --from megatron:tp=1,pp=2,dp=8,ep=8 --to vllm:tp=4,dp=2 --to vllm:tp=4,dp=2,ep=1,version=0.23 -o "$tmp/m.yaml"
"$sw" layout "$tmp/m.yaml" --layout infer --rank 16 --json > "$tmp/m16.json"
grep -q '"name": "model.layers.0.mlp.experts.routed_experts.w13_weight", "dtype": "bf16", "shape": \[128, 192, 2048\]' "$tmp/m16.json" || fail "w13 (no EP, moe tp over dp x tp = 8)"
"$sw" layout "$tmp/m.yaml" --layout infer1 --rank 25 --json > "$tmp/m25.json"
grep -q '"name": "model.layers.0.mlp.experts.w2_weight", "dtype": "bf16", "shape": \[16, 2048, 768\]' "$tmp/m25.json" || fail "w2 (EP over dp x tp = 8: 16 whole experts)"
grep -q '"local_offset": \[0, 0, 0\], "tensor": "model.layers.0.mlp.experts.16.down_proj.weight"' "$tmp/m25.json" || fail "rank 25 = ep rank 1 holds experts 16.."
# Megatron rank 9 = pp 1, ep 1: TEGroupedMLP local expert 0 is global expert 16, layer 24 is local 0
"$sw" layout "$tmp/m.yaml" --layout train --rank 9 --json > "$tmp/t9.json"
grep -q '"name": "decoder.layers.0.mlp.experts.linear_fc1.weight0", "dtype": "bf16", "shape": \[1536, 2048\]' "$tmp/t9.json" || fail "grouped fc1"
grep -q '"tensor": "model.layers.24.mlp.experts.16.gate_proj.weight", "start": \[0, 0\]' "$tmp/t9.json" || fail "grouped fc1 expert 16"

# DeepSeek-V3: vLLM fused_qkv_a_proj (q_a_proj ; kv_a_proj_with_mqa), fp8 scales beside weights
"$sw" init --hf $cfg/deepseek-v3.json --from megatron:tp=1,pp=16,dp=64,ep=64,first_stage_layers=1 --to vllm:tp=8,dp=32,ep=1 -o "$tmp/d.yaml"
"$sw" check "$tmp/d.yaml" > "$tmp/dc.txt"
grep -q "model DeepSeek-V3\|model deepseek-v3" "$tmp/dc.txt" || fail "deepseek name: $(cat "$tmp/dc.txt")"
grep -q "90427 logical tensors" "$tmp/dc.txt" || fail "deepseek tensor count: $(cat "$tmp/dc.txt")"
"$sw" layout "$tmp/d.yaml" --layout infer --rank 1024 --json > "$tmp/d0.json"
grep -q '"name": "model.layers.0.self_attn.fused_qkv_a_proj.weight", "dtype": "fp8_e4m3", "shape": \[2112, 7168\]' "$tmp/d0.json" || fail "fused_qkv_a_proj"
grep -q '"name": "model.layers.0.self_attn.fused_qkv_a_proj.weight_scale_inv", "dtype": "fp32", "shape": \[17, 56\]' "$tmp/d0.json" || fail "fused_qkv_a_proj scale"
grep -q '"name": "model.layers.3.mlp.experts.routed_experts.w13_weight", "dtype": "fp8_e4m3", "shape": \[1, 4096, 7168\]' "$tmp/d0.json" || fail "one whole expert per rank (256 over dp x tp = 256)"
grep -q '"name": "model.layers.3.mlp.shared_experts.gate_up_proj.weight", "dtype": "fp8_e4m3", "shape": \[4096, 7168\]' "$tmp/d0.json" || fail "shared experts replicated with EP, tp > 1, dp > 1"

# FSDP2 on transformers 5: MoE experts are two 3D parameters, Shard(0) cuts whole experts like
# torch.chunk (128 over 3: 43, 43, 42); transformers=4 keeps the per-expert modules
"$sw" init --hf $cfg/qwen3-30b-a3b.json --from fsdp2:shard=3 --to vllm:tp=2 -o "$tmp/f.yaml"
"$sw" layout "$tmp/f.yaml" --layout train --rank 0 --json > "$tmp/f0.json"
"$sw" layout "$tmp/f.yaml" --layout train --rank 2 --json > "$tmp/f2.json"
grep -q '"name": "model.layers.0.mlp.experts.gate_up_proj", "dtype": "bf16", "shape": \[43, 1536, 2048\]' "$tmp/f0.json" || fail "fsdp2 gate_up_proj rank 0"
grep -q '"local_offset": \[0, 768, 0\], "tensor": "model.layers.0.mlp.experts.0.up_proj.weight", "start": \[0, 0\], "size": \[768, 2048\]' "$tmp/f0.json" || fail "fsdp2 gate_up_proj: [gate; up] per expert"
grep -q '"name": "model.layers.0.mlp.experts.down_proj", "dtype": "bf16", "shape": \[42, 2048, 768\]' "$tmp/f2.json" || fail "fsdp2 down_proj rank 2"
grep -q '"local_offset": \[0, 0, 0\], "tensor": "model.layers.0.mlp.experts.86.down_proj.weight"' "$tmp/f2.json" || fail "fsdp2 rank 2 starts at expert 86"
if grep -q 'experts.0.gate_proj.weight", "dtype"' "$tmp/f0.json"; then fail "per-expert local tensors with transformers 5"; fi
"$sw" init --hf $cfg/qwen3-30b-a3b.json --from fsdp2:shard=3,transformers=4 --to vllm:tp=2 -o "$tmp/f4.yaml"
"$sw" layout "$tmp/f4.yaml" --layout train --rank 0 --json > "$tmp/f40.json"
grep -q '"name": "model.layers.0.mlp.experts.5.gate_proj.weight", "dtype": "bf16", "shape": \[256, 2048\]' "$tmp/f40.json" || fail "transformers 4 per-expert"
# Mixtral's block_sparse_moe is mlp in transformers 5; DeepSeek-V3 (bf16 checkpoint) router bias
# is a buffer, whole on every rank
"$sw" init --hf $cfg/mixtral-8x7b.json --from fsdp2:shard=2 --to vllm:tp=2 -o "$tmp/fx.yaml"
"$sw" layout "$tmp/fx.yaml" --layout train --rank 1 --json > "$tmp/fx1.json"
grep -q '"name": "model.layers.0.mlp.gate.weight", "dtype": "bf16", "shape": \[4, 4096\]' "$tmp/fx1.json" || fail "mixtral router renamed"
grep -q '"name": "model.layers.0.mlp.experts.gate_up_proj", "dtype": "bf16", "shape": \[4, 28672, 4096\]' "$tmp/fx1.json" || fail "mixtral fused experts"
sed '/"quantization_config": {/,/},/d' $cfg/deepseek-v3.json > "$tmp/ds-bf16.json"
"$sw" init --hf "$tmp/ds-bf16.json" --from fsdp2:shard=3 --to vllm:tp=8,dp=2,ep=1 -o "$tmp/fd.yaml"
"$sw" layout "$tmp/fd.yaml" --layout train --rank 2 --json > "$tmp/fd2.json"
grep -q '"name": "model.layers.3.mlp.gate.e_score_correction_bias", "dtype": "fp32", "shape": \[256\]' "$tmp/fd2.json" || fail "router bias buffer whole"
grep -q '"name": "model.layers.3.mlp.gate.weight", "dtype": "bf16", "shape": \[84, 7168\]' "$tmp/fd2.json" || fail "router weight Shard(0)"
D="-D hidden=64 -D layers=5 -D dense=1 -D experts=16 -D moe_ffn=32 -D ffn=64 -D heads=8 -D q_lora=32 -D kv_lora=16 -D nope=8 -D rope=8 -D v_head=8 -D vocab=1000"
# shellcheck disable=SC2086
"$sw" compile "$tmp/fd.yaml" $D -o "$tmp/fd.swp" > /dev/null
"$sw" run "$tmp/fd.swp" --backend local --validate | grep -q "all match" || fail "deepseek bf16 fsdp2 -> vllm ep validated"

# ---- the shipped examples are what init writes -------------------------------------------------
# Each example names the init command that writes its layouts (its header); the local tensors
# of every listed rank (names, shapes, pieces) must be identical, so that a preset and an
# example cannot drift apart.  same FILE1 'DEFS1' FILE2 'DEFS2' LAYOUT1 LAYOUT2 RANKS...
same() {
  local f1=$1 d1=$2 f2=$3 d2=$4 l1=$5 l2=$6; shift 6
  for r in "$@"; do
    # shellcheck disable=SC2086
    "$sw" layout "$f1" --layout "$l1" --rank "$r" --json $d1 | tail -n +2 > "$tmp/s1.json"
    # shellcheck disable=SC2086
    "$sw" layout "$f2" --layout "$l2" --rank "$r" --json $d2 | tail -n +2 > "$tmp/s2.json"
    [ -s "$tmp/s1.json" ] || fail "$f1 $l1 rank $r: no output"
    cmp -s "$tmp/s1.json" "$tmp/s2.json" || fail "$f1 $l1 rank $r differs from init's $l2: $(diff "$tmp/s1.json" "$tmp/s2.json" | head -4)"
  done
}
"$sw" init --hf $cfg/llama3.1-8b.json --from megatron:tp=4,pp=2,dp=2 --to vllm:tp=2,dp=4 -o "$tmp/e8.yaml"
E="-D hidden=256 -D layers=2 -D vocab=1000 -D multiple_of=64"
I="-D hidden=256 -D layers=2 -D vocab=1000 -D ffn=896"
same examples/llama3-8b.yaml "$E" "$tmp/e8.yaml" "$I" train train $(seq 0 15)
same examples/llama3-8b.yaml "$E" "$tmp/e8.yaml" "$I" infer infer $(seq 16 23)
"$sw" init --hf $cfg/llama3.1-8b.json --from megatron:tp=8,pp=4,dp=4 --to vllm:tp=4,dp=8 -o "$tmp/e70.yaml"
E="-D hidden=256 -D layers=4 -D vocab=1000 -D multiple_of=64"
I="-D hidden=256 -D layers=4 -D vocab=1000 -D ffn=896 -D heads=64"
same examples/llama3-70b.yaml "$E" "$tmp/e70.yaml" "$I" train train 0 7 8 31 32 63 64 100 127
same examples/llama3-70b.yaml "$E" "$tmp/e70.yaml" "$I" infer infer 128 131 132 159
"$sw" init --hf $cfg/qwen3-30b-a3b.json --from megatron:tp=1,pp=2,dp=8,ep=8,grouped_gemm=0 --to vllm:tp=4 \
  --to vllm:tp=4,dp=2,first_rank=24 -o "$tmp/eq.yaml"
E="-D hidden=64 -D head_dim=8 -D layers=2 -D experts=16 -D moe_ffn=16 -D vocab=1000"
same examples/qwen3-30b-a3b.yaml "$E" "$tmp/eq.yaml" "$E" train train $(seq 0 15)
same examples/qwen3-30b-a3b.yaml "$E" "$tmp/eq.yaml" "$E" infer infer $(seq 16 19)
same examples/qwen3-30b-a3b.sw "$E" "$tmp/eq.yaml" "$E" infer_dp2 infer1 $(seq 24 31)
# DeepSeek-V3 at full size (the mesh sizes are numbers in init's output): a few ranks
"$sw" init --hf $cfg/deepseek-v3.json --from megatron:tp=1,pp=16,dp=64,ep=64,last_stage_layers=1,grouped_gemm=0 \
  --to vllm:tp=8,dp=32,ep=1 -o "$tmp/ed.yaml"
same examples/deepseek-v3.yaml "" "$tmp/ed.yaml" "" train train 0 63 64 1023
same examples/deepseek-v3.sw "" "$tmp/ed.yaml" "" infer infer 1024 1279

# ---- the DSL output is the same file ---------------------------------------------------------
"$sw" init --hf $cfg/mixtral-8x7b.json --from megatron:tp=2,pp=2,dp=2,ep=2 --to vllm:tp=2,ep=1 -o "$tmp/x.yaml"
"$sw" init --hf $cfg/mixtral-8x7b.json --from megatron:tp=2,pp=2,dp=2,ep=2 --to vllm:tp=2,ep=1 --dsl -o "$tmp/x.sw"
grep -q '^# Written by `shardwave init`' "$tmp/x.sw" || fail "DSL header comment"
"$sw" fmt "$tmp/x.sw" --to yaml > "$tmp/x1.yaml"
"$sw" fmt "$tmp/x.yaml" --to yaml > "$tmp/x2.yaml"
cmp "$tmp/x1.yaml" "$tmp/x2.yaml" || fail "DSL and YAML outputs differ"
# stdout when no -o
"$sw" init --hf $cfg/llama3.1-8b.json --from fsdp2:shard=2 --to vllm:tp=2 > "$tmp/stdout.yaml"
grep -q "uneven: true" "$tmp/stdout.yaml" || fail "fsdp2 uneven shards"

# ---- refusals ------------------------------------------------------------------------------------
expect() { # expect RC 'exact first line of stderr' ARGS...
  local rc=$1 msg=$2; shift 2
  set +e
  "$sw" "$@" > /dev/null 2> "$tmp/err"
  local got=$?
  set -e
  [ "$got" -eq "$rc" ] || fail "exit $got, expected $rc: $* ($(cat "$tmp/err"))"
  [ "$(head -1 "$tmp/err")" = "$msg" ] || fail "message for $*: got '$(head -1 "$tmp/err")', expected '$msg'"
}
printf '{\n  "model_type": "gpt2",\n  "n_embd": 768\n}\n' > "$tmp/gpt2.json"
expect 1 "$tmp/gpt2.json:2:17: error: unknown model_type 'gpt2' (shardwave init knows llama, qwen2, qwen3, qwen3_moe, mixtral, deepseek_v3)" \
  init --hf "$tmp/gpt2.json" --from megatron:tp=2 --to vllm:tp=2
printf '{\n  "model_type": "llama",\n  "hidden_size": 64,\n' > "$tmp/broken.json"
expect 1 "$tmp/broken.json:4:1: error: not valid JSON: string or '}' expected near end of file" \
  init --hf "$tmp/broken.json" --from megatron:tp=2 --to vllm:tp=2
expect 1 "shardwave: error: cannot open '$cfg/nope.json'" init --hf $cfg/nope.json --from megatron --to vllm
expect 2 "shardwave: error: --to vllm:tp=3: num_attention_heads (28) must be divisible by tp (3) (vLLM 0.33.0)" \
  init --hf $cfg/qwen2.5-7b.json --from megatron:tp=4 --to vllm:tp=3
expect 2 "shardwave: error: --from megatron:tp=8: num_key_value_heads (4) must be divisible by tp (8) (Megatron-Core num_query_groups; the layout language needs whole query groups per rank)" \
  init --hf $cfg/qwen3-30b-a3b.json --from megatron:tp=8 --to vllm:tp=2
expect 2 "shardwave: error: --from megatron:pp=3: num_hidden_layers (32) must be divisible by pp (3) (Megatron-Core); give first_stage_layers= or last_stage_layers= for uneven stages" \
  init --hf $cfg/llama3.1-8b.json --from megatron:pp=3 --to vllm:tp=2
expect 2 "shardwave: error: --to vllm:tp=8,dp=4,ep=1: 8 experts over dp x tp = 32 expert-parallel ranks is uneven (vLLM's linear expert map gives the first ranks one more; the layout language chunks like torch.chunk)" \
  init --hf $cfg/mixtral-8x7b.json --from megatron:tp=2,ep=2,dp=2 --to vllm:tp=8,dp=4,ep=1
expect 2 "shardwave: error: --from fsdp2:shard=2: FSDP2 shards the parameters of the transformers model, which trains without fp8 block scales; give the config.json of the bf16 checkpoint (without quantization_config)" \
  init --hf $cfg/deepseek-v3.json --from fsdp2:shard=2 --to vllm:tp=8
expect 2 "shardwave: error: --from fsdp2:transformers=3: fsdp2: transformers=3: expected an integer >= 4" \
  init --hf $cfg/llama3.1-8b.json --from fsdp2:transformers=3 --to vllm:tp=2
expect 2 "shardwave: error: --to tgi:tp=2: 'tgi' is not a framework (megatron, fsdp2, vllm, sglang)" \
  init --hf $cfg/llama3.1-8b.json --from megatron --to tgi:tp=2
expect 2 "shardwave: error: --from megatron:tp=2,zp=1: megatron: unknown key 'zp' (keys: tp, pp, dp, ep, etp, vpp, first_stage_layers, last_stage_layers, vocab_pad, grouped_gemm, first_rank, gpus_per_host, rank_base)" \
  init --hf $cfg/llama3.1-8b.json --from megatron:tp=2,zp=1 --to vllm:tp=2
expect 2 "shardwave: error: --to vllm:ep=2: vllm: ep must be 0 or 1 (enable_expert_parallel), not 2" \
  init --hf $cfg/llama3.1-8b.json --from megatron --to vllm:ep=2
expect 2 "shardwave: error: init: missing --hf CONFIG.json (see shardwave init --help)" init --from megatron --to vllm
expect 2 "shardwave: error: init: missing --to FW:key=val,... (see shardwave init --help)" init --hf $cfg/llama3.1-8b.json --from megatron
echo ok
