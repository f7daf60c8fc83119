/*
 * test_place.c - what one rank stores, against hand-computed expectations.
 *
 * Every test loads a small inline YAML with sw_load_text, builds the rank views with
 * sw_rank_view_build and compares a canonical text rendering of the whole rank (every
 * local tensor with its dtype and shape, then every piece: logical tensor, local offset,
 * start and size) with the expectation written out by hand.  The arithmetic behind each
 * expectation is in the comment above it.
 *
 * Also: sw_coverage_boxes, and the expression evaluator (elab/expr.h) on its own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coverage.h"
#include "load.h"
#include "expr.h"
#include "place.h"

/* ---- helpers ------------------------------------------------------------------- */

static void load_opts(sw_ir *ir, const char *yaml, const sw_load_opts *opts) {
    sw_error err;
    int rc = sw_load_text("inline.yaml", yaml, strlen(yaml), opts, ir, &err);
    if (rc) {
        char buf[2200];
        fail_msg("load failed: %s", sw_error_format(&err, buf, sizeof buf));
    }
}

static void load(sw_ir *ir, const char *yaml) { load_opts(ir, yaml, NULL); }

static void put_dims(char *buf, size_t cap, const int64_t *v, int n) {
    size_t l = strlen(buf);
    snprintf(buf + l, cap - l, "[");
    for (int k = 0; k < n; k++) {
        l = strlen(buf);
        snprintf(buf + l, cap - l, "%s%lld", k ? "," : "", (long long)v[k]);
    }
    l = strlen(buf);
    snprintf(buf + l, cap - l, "]");
}

/*
 * One rank as text:
 *   "@host H dev D\n" then for each local tensor
 *   "NAME DTYPE [shape]\n" and for each of its pieces
 *   "  TENSOR off[..] start[..] size[..]\n"   (with " perm[..]" appended when the
 *                                               piece's perm is not the identity)
 */
static char *rank_str(const sw_ir *ir, const char *layout, int64_t rank) {
    int li = sw_ir_layout(ir, layout);
    if (li < 0) fail_msg("no layout %s", layout);
    const sw_layout *L = &ir->layouts[li];
    sw_rank_view v;
    sw_error err;
    if (sw_rank_view_build(L, rank, &v, &err)) fail_msg("rank view of %s/%lld failed: %s", layout, (long long)rank, err.msg);
    size_t cap = 1 << 16;
    char *buf = calloc(cap, 1);
    assert_non_null(buf);
    snprintf(buf, cap, "@host %lld dev %lld\n", (long long)v.host, (long long)v.device);
    for (size_t i = 0; i < v.nlocals; i++) {
        const sw_local *lo = &v.locals[i];
        size_t l = strlen(buf);
        snprintf(buf + l, cap - l, "%s %s ", lo->inst->name, sw_dtype_name(lo->inst->dtype));
        put_dims(buf, cap, lo->shape, lo->inst->ndim);
        l = strlen(buf);
        snprintf(buf + l, cap - l, "\n");
        for (size_t p = lo->first; p < lo->first + lo->npieces; p++) {
            const sw_piece *pc = &v.pieces.v[p];
            l = strlen(buf);
            snprintf(buf + l, cap - l, "  %s off", ir->tensors[pc->tensor].name);
            put_dims(buf, cap, pc->off, lo->inst->ndim);
            l = strlen(buf);
            snprintf(buf + l, cap - l, " start");
            put_dims(buf, cap, pc->start, pc->ndim);
            l = strlen(buf);
            snprintf(buf + l, cap - l, " size");
            put_dims(buf, cap, pc->size, pc->ndim);
            int ident = 1;
            for (int k = 0; k < pc->ndim; k++)
                if (pc->perm[k] != k) ident = 0;
            if (!ident) {
                int64_t pm[SW_MAXDIM];
                for (int k = 0; k < pc->ndim; k++) pm[k] = pc->perm[k];
                l = strlen(buf);
                snprintf(buf + l, cap - l, " perm");
                put_dims(buf, cap, pm, pc->ndim);
            }
            l = strlen(buf);
            snprintf(buf + l, cap - l, "\n");
        }
    }
    sw_rank_view_free(&v);
    return buf;
}

static void expect_rank(const sw_ir *ir, const char *layout, int64_t rank, const char *want) {
    char *got = rank_str(ir, layout, rank);
    int same = !strcmp(got, want);
    if (!same) print_error("layout %s rank %lld:\n--- expected\n%s--- got\n%s", layout, (long long)rank, want, got);
    free(got); /* once: fail() is not known to return */
    if (!same) fail();
}

/* ---- group-major GQA QKV (Megatron-Core linear_qkv) -------------------------------- */

static const char gqa_yaml[] =
    "shardwave: 1\n"
    "model:\n"
    "  name: gqa\n"
    "  let: {hidden: 2, heads: 8, kv_heads: 4, head_dim: 1}\n"
    "  tensors:\n"
    "    - {name: q, shape: [heads * head_dim, hidden]}\n"
    "    - {name: k, shape: [kv_heads * head_dim, hidden]}\n"
    "    - {name: v, shape: [kv_heads * head_dim, hidden]}\n"
    "layouts:\n"
    "  tp2:\n"
    "    mesh: {tp: 2}\n"
    "    place:\n"
    "      - as: qkv\n"
    "        fuse: {dim: 0, parts: [q, k, v], groups: kv_heads}\n"
    "        split: {0: tp}\n"
    "  tp4:\n"
    "    first_rank: 2\n"
    "    mesh: {tp: 4}\n"
    "    place:\n"
    "      - as: qkv\n"
    "        fuse: {dim: 0, parts: [q, k, v], groups: kv_heads}\n"
    "        split: {0: tp}\n";

static void test_gqa_group_major(void **state) {
    (void)state;
    sw_ir ir;
    load(&ir, gqa_yaml);
    /* q 8 rows, k 4, v 4; G = 4 groups: per group q 2 rows, k 1, v 1 (4 fused rows).
     * Fused order: q[0,2) k[0] v[0] | q[2,4) k[1] v[1] | q[4,6) k[2] v[2] | q[6,8) k[3] v[3].
     * tp=2: rank t holds groups 2t, 2t+1 -> local [8, 2]:
     *   off 0: q rows [4t, 4t+2); off 2: k row 2t; off 3: v row 2t;
     *   off 4: q rows [4t+2, 4t+4); off 6: k row 2t+1; off 7: v row 2t+1.
     * rank 0: q0 k0 v0 q2 k1 v1; rank 1 (t=1): q4 k2 v2 q6 k3 v3.
     * Default hosts: gpus_per_host 8, p = g. */
    expect_rank(&ir, "tp2", 0,
                "@host 0 dev 0\n"
                "qkv bf16 [8,2]\n"
                "  q off[0,0] start[0,0] size[2,2]\n"
                "  k off[2,0] start[0,0] size[1,2]\n"
                "  v off[3,0] start[0,0] size[1,2]\n"
                "  q off[4,0] start[2,0] size[2,2]\n"
                "  k off[6,0] start[1,0] size[1,2]\n"
                "  v off[7,0] start[1,0] size[1,2]\n");
    expect_rank(&ir, "tp2", 1,
                "@host 0 dev 1\n"
                "qkv bf16 [8,2]\n"
                "  q off[0,0] start[4,0] size[2,2]\n"
                "  k off[2,0] start[2,0] size[1,2]\n"
                "  v off[3,0] start[2,0] size[1,2]\n"
                "  q off[4,0] start[6,0] size[2,2]\n"
                "  k off[6,0] start[3,0] size[1,2]\n"
                "  v off[7,0] start[3,0] size[1,2]\n");
    /* tp=4 (ranks 2..5): rank index t holds group t -> local [4, 2]:
     *   off 0: q rows [2t, 2t+2); off 2: k row t; off 3: v row t.
     * t=1 (rank 3): q[2,4) k1 v1; t=3 (rank 5): q[6,8) k3 v3. */
    expect_rank(&ir, "tp4", 3,
                "@host 0 dev 3\n"
                "qkv bf16 [4,2]\n"
                "  q off[0,0] start[2,0] size[2,2]\n"
                "  k off[2,0] start[1,0] size[1,2]\n"
                "  v off[3,0] start[1,0] size[1,2]\n");
    expect_rank(&ir, "tp4", 5,
                "@host 0 dev 5\n"
                "qkv bf16 [4,2]\n"
                "  q off[0,0] start[6,0] size[2,2]\n"
                "  k off[2,0] start[3,0] size[1,2]\n"
                "  v off[3,0] start[3,0] size[1,2]\n");
    sw_ir_free(&ir);
}

/* Group-major interleaves even without a split (rule 7); with G = 2 and one rank:
 * q 8 rows -> 4 per group, k 4 -> 2, v 4 -> 2: q[0,4) k[0,2) v[0,2) q[4,8) k[2,4) v[2,4). */
static void test_gqa_unsplit_interleaves(void **state) {
    (void)state;
    sw_ir ir;
    load(&ir,
         "shardwave: 1\n"
         "model:\n"
         "  name: gqa\n"
         "  let: {hidden: 2, heads: 8, kv_heads: 2}\n"
         "  tensors:\n"
         "    - {name: q, shape: [heads, hidden]}\n"
         "    - {name: k, shape: [2 * kv_heads, hidden]}\n"
         "    - {name: v, shape: [2 * kv_heads, hidden]}\n"
         "layouts:\n"
         "  one:\n"
         "    mesh: {tp: 1}\n"
         "    place:\n"
         "      - as: qkv\n"
         "        fuse: {dim: 0, parts: [q, k, v], groups: kv_heads}\n");
    expect_rank(&ir, "one", 0,
                "@host 0 dev 0\n"
                "qkv bf16 [16,2]\n"
                "  q off[0,0] start[0,0] size[4,2]\n"
                "  k off[4,0] start[0,0] size[2,2]\n"
                "  v off[6,0] start[0,0] size[2,2]\n"
                "  q off[8,0] start[4,0] size[4,2]\n"
                "  k off[12,0] start[2,0] size[2,2]\n"
                "  v off[14,0] start[2,0] size[2,2]\n");
    sw_ir_free(&ir);
}

/* ---- part-major QKV with units; kv heads replicated (vLLM QKVParallelLinear) ------- */

static void test_qkv_units_kv_replicated(void **state) {
    (void)state;
    sw_ir ir;
    load(&ir,
         "shardwave: 1\n"
         "model:\n"
         "  name: qkv\n"
         "  dtype: fp16\n"
         "  let: {hidden: 2, heads: 4, kv_heads: 2, head_dim: 2}\n"
         "  tensors:\n"
         "    - {name: q, shape: [heads * head_dim, hidden]}\n"
         "    - {name: k, shape: [kv_heads * head_dim, hidden]}\n"
         "    - {name: v, shape: [kv_heads * head_dim, hidden]}\n"
         "layouts:\n"
         "  vllm:\n"
         "    mesh: {tp: 4}\n"
         "    place:\n"
         "      - as: qkv_proj\n"
         "        fuse:\n"
         "          dim: 0\n"
         "          parts:\n"
         "            - {tensor: q, unit: head_dim}\n"
         "            - {tensor: k, unit: head_dim}\n"
         "            - {tensor: v, unit: head_dim}\n"
         "        split: {0: tp}\n");
    /* q: 8 rows = 4 units of 2; units % T == 0 -> rank t holds q unit t = rows [2t, 2t+2).
     * k, v: 4 rows = 2 units < T = 4, 4 % 2 == 0 -> rank t holds unit t*2/4 = t/2,
     * rows [2*(t/2), 2*(t/2)+2).  Local [2+2+2, 2] = [6, 2], part-major:
     *   off 0: q; off 2: k; off 4: v.
     * t=0: q[0,2) k[0,2) v[0,2);  t=1: q[2,4) k[0,2) v[0,2);
     * t=2: q[4,6) k[2,4) v[2,4);  t=3: q[6,8) k[2,4) v[2,4). */
    static const int64_t qs[4] = {0, 2, 4, 6}, ks[4] = {0, 0, 2, 2};
    for (int t = 0; t < 4; t++) {
        char want[512];
        snprintf(want, sizeof want,
                 "@host 0 dev %d\n"
                 "qkv_proj fp16 [6,2]\n"
                 "  q off[0,0] start[%lld,0] size[2,2]\n"
                 "  k off[2,0] start[%lld,0] size[2,2]\n"
                 "  v off[4,0] start[%lld,0] size[2,2]\n",
                 t, (long long)qs[t], (long long)ks[t], (long long)ks[t]);
        expect_rank(&ir, "vllm", t, want);
    }
    sw_ir_free(&ir);
}

/* ---- uneven splits and an empty chunk ---------------------------------------------- */

static void test_uneven_and_empty(void **state) {
    (void)state;
    sw_ir ir;
    load(&ir,
         "shardwave: 1\n"
         "model:\n"
         "  name: uneven\n"
         "  tensors:\n"
         "    - {name: ten, shape: [10, 2]}\n"
         "    - {name: five, shape: [5, 3], dtype: fp32}\n"
         "layouts:\n"
         "  u:\n"
         "    mesh: {tp: 4}\n"
         "    place:\n"
         "      - {tensor: ten, split: {0: tp}, uneven: true}\n"
         "      - {tensor: five, split: {0: tp}, uneven: true}\n");
    /* ten: n = 10, T = 4, c = cdiv(10, 4) = 3: [0,3) [3,6) [6,9) [9,10) -> 3,3,3,1.
     * five: n = 5, c = cdiv(5, 4) = 2: [0,2) [2,4) [4,5) [5,5) -> 2,2,1,0.
     * Tensors sorted by name: "five" < "ten". */
    expect_rank(&ir, "u", 0,
                "@host 0 dev 0\n"
                "five fp32 [2,3]\n"
                "  five off[0,0] start[0,0] size[2,3]\n"
                "ten bf16 [3,2]\n"
                "  ten off[0,0] start[0,0] size[3,2]\n");
    expect_rank(&ir, "u", 1,
                "@host 0 dev 1\n"
                "five fp32 [2,3]\n"
                "  five off[0,0] start[2,0] size[2,3]\n"
                "ten bf16 [3,2]\n"
                "  ten off[0,0] start[3,0] size[3,2]\n");
    expect_rank(&ir, "u", 2,
                "@host 0 dev 2\n"
                "five fp32 [1,3]\n"
                "  five off[0,0] start[4,0] size[1,3]\n"
                "ten bf16 [3,2]\n"
                "  ten off[0,0] start[6,0] size[3,2]\n");
    /* rank 3: five's chunk [5,5) is empty: the local tensor exists, [0, 3], no pieces. */
    expect_rank(&ir, "u", 3,
                "@host 0 dev 3\n"
                "five fp32 [0,3]\n"
                "ten bf16 [1,2]\n"
                "  ten off[0,0] start[9,0] size[1,2]\n");
    sw_ir_free(&ir);
}

/* ---- vocabulary padding ------------------------------------------------------------ */

static void test_vocab_padding(void **state) {
    (void)state;
    sw_ir ir;
    load(&ir,
         "shardwave: 1\n"
         "model:\n"
         "  name: pad\n"
         "  let: {vocab: 10, hidden: 2}\n"
         "  tensors:\n"
         "    - {name: embed, shape: [vocab, hidden]}\n"
         "layouts:\n"
         "  mcore:\n"
         "    mesh: {tp: 2}\n"
         "    place:\n"
         "      - {tensor: embed, pad: {0: 4 * tp}, split: {0: tp}}\n"
         "  four:\n"
         "    first_rank: 2\n"
         "    mesh: {tp: 4}\n"
         "    place:\n"
         "      - {tensor: embed, pad: {0: 16}, split: {0: tp}}\n"
         "  nosplit:\n"
         "    first_rank: 6\n"
         "    mesh: {tp: 1}\n"
         "    place:\n"
         "      - {tensor: embed, pad: {1: 4}}\n"
         "syncs:\n"
         "  - {name: a, from: mcore, to: four}\n");
    /* mcore: pad to a multiple of 4*2 = 8 -> 16 rows, 8 per rank.
     * rank 0 rows [0,8): all logical.  rank 1 rows [8,16): logical 8, 9, then 6 padding
     * rows -> one piece of 2 rows; the local tensor is still [8, 2]. */
    expect_rank(&ir, "mcore", 0,
                "@host 0 dev 0\n"
                "embed bf16 [8,2]\n"
                "  embed off[0,0] start[0,0] size[8,2]\n");
    expect_rank(&ir, "mcore", 1,
                "@host 0 dev 1\n"
                "embed bf16 [8,2]\n"
                "  embed off[0,0] start[8,0] size[2,2]\n");
    /* four: pad 10 -> 16, 4 rows per rank: [0,4) [4,8) [8,12) [12,16).
     * index 2 (rank 4): logical rows 8, 9 + 2 padding; index 3 (rank 5): padding only. */
    expect_rank(&ir, "four", 4,
                "@host 0 dev 4\n"
                "embed bf16 [4,2]\n"
                "  embed off[0,0] start[8,0] size[2,2]\n");
    expect_rank(&ir, "four", 5,
                "@host 0 dev 5\n"
                "embed bf16 [4,2]\n");
    /* nosplit: dim 1 padded 2 -> 4 (not split): local [10, 4], one piece [10, 2]. */
    expect_rank(&ir, "nosplit", 6,
                "@host 0 dev 6\n"
                "embed bf16 [10,4]\n"
                "  embed off[0,0] start[0,0] size[10,2]\n");
    sw_ir_free(&ir);
}

/* ---- perm [1, 0] with a split on (stored) dim 1 ------------------------------------ */

static void test_perm_split(void **state) {
    (void)state;
    sw_ir ir;
    load(&ir,
         "shardwave: 1\n"
         "model:\n"
         "  name: perm\n"
         "  tensors:\n"
         "    - {name: w, shape: [4, 6]}\n"
         "layouts:\n"
         "  jax:\n"
         "    mesh: {tp: 2}\n"
         "    place:\n"
         "      - {tensor: w, as: wt, perm: [1, 0], split: {1: tp}, dtype: fp32}\n");
    /* Logical w [4, 6]; stored order (perm [1,0]) is [6, 4]; stored dim 1 = logical dim 0
     * (4 rows) split over tp = 2: local [6, 2]; rank t holds logical rows [2t, 2t+2).
     * start/size in stored order: start [0, 2t], size [6, 2]. */
    expect_rank(&ir, "jax", 0,
                "@host 0 dev 0\n"
                "wt fp32 [6,2]\n"
                "  w off[0,0] start[0,0] size[6,2] perm[1,0]\n");
    expect_rank(&ir, "jax", 1,
                "@host 0 dev 1\n"
                "wt fp32 [6,2]\n"
                "  w off[0,0] start[0,2] size[6,2] perm[1,0]\n");
    sw_ir_free(&ir);
}

/* ---- stack + fuse + split {0: ep, 1: tp} (vLLM FusedMoE w13) ------------------------- */

static void test_stack_fuse_split(void **state) {
    (void)state;
    sw_ir ir;
    load(&ir,
         "shardwave: 1\n"
         "model:\n"
         "  name: moe\n"
         "  let: {hidden: 2, moe_ffn: 4, experts: 4}\n"
         "  tensors:\n"
         "    - name: gate.{e}\n"
         "      for: {e: experts}\n"
         "      shape: [moe_ffn, hidden]\n"
         "    - name: up.{e}\n"
         "      for: {e: experts}\n"
         "      shape: [moe_ffn, hidden]\n"
         "layouts:\n"
         "  vllm:\n"
         "    mesh: {ep: 2, tp: 2}\n"
         "    place:\n"
         "      - as: w13\n"
         "        stack:\n"
         "          over: {e: experts}\n"
         "          item:\n"
         "            fuse:\n"
         "              dim: 0\n"
         "              parts: [\"gate.{e}\", \"up.{e}\"]\n"
         "        split: {0: ep, 1: tp}\n");
    /* Stacked [4, 8, 2]; dim 0 (4 experts) over ep = 2 -> 2 experts per rank: 2e, 2e+1;
     * dim 1 (gate 4 | up 4, part-major) over tp = 2: gate rows [2t, 2t+2) at local 0,
     * up rows [2t, 2t+2) at local 2.  Local [2, 4, 2].  rank = 2e + t.
     * rank 3 (e=1, t=1): experts 2, 3; gate/up rows [2, 4). */
    expect_rank(&ir, "vllm", 0,
                "@host 0 dev 0\n"
                "w13 bf16 [2,4,2]\n"
                "  gate.0 off[0,0,0] start[0,0] size[2,2]\n"
                "  up.0 off[0,2,0] start[0,0] size[2,2]\n"
                "  gate.1 off[1,0,0] start[0,0] size[2,2]\n"
                "  up.1 off[1,2,0] start[0,0] size[2,2]\n");
    expect_rank(&ir, "vllm", 3,
                "@host 0 dev 3\n"
                "w13 bf16 [2,4,2]\n"
                "  gate.2 off[0,0,0] start[2,0] size[2,2]\n"
                "  up.2 off[0,2,0] start[2,0] size[2,2]\n"
                "  gate.3 off[1,0,0] start[2,0] size[2,2]\n"
                "  up.3 off[1,2,0] start[2,0] size[2,2]\n");
    sw_ir_free(&ir);
}

/* ---- a dim split over two axes, both orders ------------------------------------------ */

static void test_two_axis_split(void **state) {
    (void)state;
    sw_ir ir;
    load(&ir,
         "shardwave: 1\n"
         "model:\n"
         "  name: two\n"
         "  tensors:\n"
         "    - {name: x, shape: [8, 2]}\n"
         "layouts:\n"
         "  m:\n"
         "    mesh: {a: 2, b: 2}\n"
         "    place:\n"
         "      - {tensor: x, as: x_ab, split: {0: [a, b]}}\n"
         "      - {tensor: x, as: x_ba, split: {0: [b, a]}}\n");
    /* rank = 2a + b.  T = 4, 2 rows each.  [a, b]: coordinate 2a + b; [b, a]: 2b + a.
     * rank 1 (a=0, b=1): x_ab chunk 1 -> rows [2,4); x_ba chunk 2 -> rows [4,6).
     * rank 2 (a=1, b=0): x_ab chunk 2 -> rows [4,6); x_ba chunk 1 -> rows [2,4).
     * rank 3: both chunk 3 -> rows [6,8). */
    expect_rank(&ir, "m", 1,
                "@host 0 dev 1\n"
                "x_ab bf16 [2,2]\n"
                "  x off[0,0] start[2,0] size[2,2]\n"
                "x_ba bf16 [2,2]\n"
                "  x off[0,0] start[4,0] size[2,2]\n");
    expect_rank(&ir, "m", 2,
                "@host 0 dev 2\n"
                "x_ab bf16 [2,2]\n"
                "  x off[0,0] start[4,0] size[2,2]\n"
                "x_ba bf16 [2,2]\n"
                "  x off[0,0] start[2,0] size[2,2]\n");
    expect_rank(&ir, "m", 3,
                "@host 0 dev 3\n"
                "x_ab bf16 [2,2]\n"
                "  x off[0,0] start[6,0] size[2,2]\n"
                "x_ba bf16 [2,2]\n"
                "  x off[0,0] start[6,0] size[2,2]\n");
    sw_ir_free(&ir);
}

/* ---- rule let using a loop variable; where on pp ------------------------------------ */

static void test_let_where_pp(void **state) {
    (void)state;
    sw_ir ir;
    load(&ir,
         "shardwave: 1\n"
         "model:\n"
         "  name: pp\n"
         "  let: {layers: 4}\n"
         "  tensors:\n"
         "    - name: layers.{i}.w\n"
         "      for: {i: layers}\n"
         "      shape: [2, 2]\n"
         "layouts:\n"
         "  train:\n"
         "    mesh: {pp: 2, tp: 2}\n"
         "    place:\n"
         "      - tensor: layers.{i}.w\n"
         "        for: {i: layers}\n"
         "        let: {per: layers / pp, stage: i / per}\n"
         "        as: dec.{i - stage * per}.w\n"
         "        where: {pp: stage}\n"
         "        split: {1: tp}\n");
    /* per = 4 / 2 = 2; layer i on stage i / 2 as dec.{i % 2}; rank = 2 pp + tp.
     * rank 3 (pp 1, tp 1): dec.0.w <- layers.2.w, dec.1.w <- layers.3.w, columns [1, 2).
     * rank 0 (pp 0, tp 0): layers 0 and 1, column 0. */
    expect_rank(&ir, "train", 0,
                "@host 0 dev 0\n"
                "dec.0.w bf16 [2,1]\n"
                "  layers.0.w off[0,0] start[0,0] size[2,1]\n"
                "dec.1.w bf16 [2,1]\n"
                "  layers.1.w off[0,0] start[0,0] size[2,1]\n");
    expect_rank(&ir, "train", 3,
                "@host 0 dev 3\n"
                "dec.0.w bf16 [2,1]\n"
                "  layers.2.w off[0,0] start[0,1] size[2,1]\n"
                "dec.1.w bf16 [2,1]\n"
                "  layers.3.w off[0,0] start[0,1] size[2,1]\n");
    sw_ir_free(&ir);
}

/* ---- hosts: gpus_per_host, rank_base, devices ---------------------------------------- */

static void test_hosts(void **state) {
    (void)state;
    sw_ir ir;
    load(&ir,
         "shardwave: 1\n"
         "model:\n"
         "  name: hosts\n"
         "  tensors:\n"
         "    - {name: w, shape: [4]}\n"
         "layouts:\n"
         "  a:\n"
         "    first_rank: 4\n"
         "    mesh: {tp: 4}\n"
         "    hosts: {gpus_per_host: 2}\n"
         "    place: [{tensor: w}]\n"
         "  b:\n"
         "    first_rank: 8\n"
         "    mesh: {tp: 4}\n"
         "    hosts: {gpus_per_host: 2, rank_base: 0}\n"
         "    place: [{tensor: w}]\n"
         "  c:\n"
         "    first_rank: 12\n"
         "    mesh: {tp: 2}\n"
         "    hosts: {gpus_per_host: 4, devices: [[1, 3], [0, 2]]}\n"
         "    place: [{tensor: w}]\n"
         "  d:\n"
         "    first_rank: 14\n"
         "    mesh: {tp: 2}\n"
         "    place: [{tensor: w}]\n");
    /* a: p = g; host = g / 2, device = g % 2: rank 4 -> (2, 0), rank 7 -> (3, 1).
     * b: p = 0 + (g - 8): rank 9 -> p 1 -> (0, 1); rank 11 -> p 3 -> (1, 1).
     * c: explicit: rank 12 -> (1, 3), rank 13 -> (0, 2).
     * d: default gpus_per_host 8, p = g: rank 15 -> (1, 7). */
    const char *tail = "w bf16 [4]\n  w off[0] start[0] size[4]\n";
    static const struct {
        const char *layout;
        int rank, host, dev;
    } cases[] = {{"a", 4, 2, 0}, {"a", 7, 3, 1}, {"b", 9, 0, 1}, {"b", 11, 1, 1},
                 {"c", 12, 1, 3}, {"c", 13, 0, 2}, {"d", 15, 1, 7}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char want[256];
        snprintf(want, sizeof want, "@host %d dev %d\n%s", cases[i].host, cases[i].dev, tail);
        expect_rank(&ir, cases[i].layout, cases[i].rank, want);
    }
    /* A rank outside the layout is a usage error. */
    sw_rank_view v;
    sw_error err;
    assert_int_equal(sw_rank_view_build(&ir.layouts[0], 3, &v, &err), SW_USAGE);
    assert_int_equal(sw_rank_view_build(&ir.layouts[0], 8, &v, &err), SW_USAGE);
    sw_ir_free(&ir);
}

/* ---- -D overriding a let constant ---------------------------------------------------- */

static const char big_yaml[] =
    "shardwave: 1\n"
    "model:\n"
    "  name: big\n"
    "  let: {hidden: 4096, layers: 32, ffn: hidden * 4}\n"
    "  tensors:\n"
    "    - name: layers.{i}.w\n"
    "      for: {i: layers}\n"
    "      shape: [ffn, hidden]\n"
    "layouts:\n"
    "  t:\n"
    "    mesh: {tp: 2}\n"
    "    place:\n"
    "      - {tensor: \"layers.{i}.w\", for: {i: layers}, split: {0: tp}}\n";

static void test_define_shrinks(void **state) {
    (void)state;
    sw_ir ir;
    load(&ir, big_yaml);
    assert_int_equal(ir.ntensors, 32);
    assert_int_equal(ir.tensors[0].shape[0], 16384);
    sw_ir_free(&ir);
    /* -D hidden=2 -D layers=2: ffn = 2 * 4 = 8 (later lets use the override);
     * tensors layers.0.w, layers.1.w [8, 2]; tp 2 -> local [4, 2], rank 1 rows [4, 8). */
    sw_define defs[] = {{"hidden", 2}, {"layers", 2}};
    sw_load_opts o = {defs, 2};
    load_opts(&ir, big_yaml, &o);
    assert_int_equal(ir.ntensors, 2);
    assert_string_equal(ir.tensors[1].name, "layers.1.w");
    assert_int_equal(ir.tensors[1].shape[0], 8);
    assert_int_equal(ir.tensors[1].shape[1], 2);
    expect_rank(&ir, "t", 1,
                "@host 0 dev 1\n"
                "layers.0.w bf16 [4,2]\n"
                "  layers.0.w off[0,0] start[4,0] size[4,2]\n"
                "layers.1.w bf16 [4,2]\n"
                "  layers.1.w off[0,0] start[4,0] size[4,2]\n");
    sw_ir_free(&ir);
    /* -D naming no let constant is a usage error. */
    sw_define bad[] = {{"nope", 1}};
    sw_load_opts ob = {bad, 1};
    sw_error err;
    assert_int_equal(sw_load_text("inline.yaml", big_yaml, strlen(big_yaml), &ob, &ir, &err), SW_USAGE);
    assert_non_null(strstr(err.msg, "nope"));
}

/* ---- sw_coverage_boxes ------------------------------------------------------------------ */

static int box_disjoint(const sw_box *a, const sw_box *b, int ndim) {
    for (int k = 0; k < ndim; k++)
        if (a->start[k] + a->size[k] <= b->start[k] || b->start[k] + b->size[k] <= a->start[k]) return 1;
    return 0;
}

static void check_missing(const sw_box *boxes, size_t n, int ndim, const int64_t *shape, const sw_box *m) {
    for (int k = 0; k < ndim; k++) {
        assert_true(m->size[k] > 0);
        assert_true(m->start[k] >= 0);
        assert_true(m->start[k] + m->size[k] <= shape[k]);
    }
    for (size_t i = 0; i < n; i++) assert_true(box_disjoint(m, &boxes[i], ndim));
}

static void test_boxes_cover(void **state) {
    (void)state;
    sw_box m;
    int64_t s44[2] = {4, 4};
    /* Two halves of [4, 4]: covered. */
    sw_box halves[2] = {{{0, 0}, {2, 4}}, {{2, 0}, {2, 4}}};
    assert_int_equal(sw_coverage_boxes(halves, 2, 2, s44, &m), 1);
    /* Overlapping boxes: [0,3)x[0,4), [1,4)x[0,4): covered. */
    sw_box overlap[2] = {{{0, 0}, {3, 4}}, {{1, 0}, {3, 4}}};
    assert_int_equal(sw_coverage_boxes(overlap, 2, 2, s44, &m), 1);
    /* Four quadrants given in a scrambled order: covered. */
    sw_box quads[4] = {{{2, 2}, {2, 2}}, {{0, 0}, {2, 2}}, {{2, 0}, {2, 2}}, {{0, 2}, {2, 2}}};
    assert_int_equal(sw_coverage_boxes(quads, 4, 2, s44, &m), 1);
    /* Three quadrants: the hole is exactly [0,2)x[2,4) (rows 0..1, columns 2..3). */
    assert_int_equal(sw_coverage_boxes(quads, 3, 2, s44, &m), 0);
    check_missing(quads, 3, 2, s44, &m);
    assert_true(m.start[0] >= 0 && m.start[0] + m.size[0] <= 2);
    assert_true(m.start[1] >= 2 && m.start[1] + m.size[1] <= 4);
    /* L-shape: [0,4)x[0,2) and [0,2)x[2,4): hole [2,4)x[2,4). */
    sw_box ell[2] = {{{0, 0}, {4, 2}}, {{0, 2}, {2, 2}}};
    assert_int_equal(sw_coverage_boxes(ell, 2, 2, s44, &m), 0);
    check_missing(ell, 2, 2, s44, &m);
    assert_true(m.start[0] >= 2 && m.start[1] >= 2);
    /* 1-D: [0,3) and [5,10) of 10: hole [3,5). */
    int64_t s10[1] = {10};
    sw_box one[2] = {{{5}, {5}}, {{0}, {3}}};
    assert_int_equal(sw_coverage_boxes(one, 2, 1, s10, &m), 0);
    check_missing(one, 2, 1, s10, &m);
    assert_true(m.start[0] >= 3 && m.start[0] + m.size[0] <= 5);
    /* No boxes at all: the whole tensor is missing. */
    assert_int_equal(sw_coverage_boxes(NULL, 0, 1, s10, &m), 0);
    check_missing(NULL, 0, 1, s10, &m);
    /* 3-D with one missing cell [1,1,1]. */
    int64_t s222[3] = {2, 2, 2};
    sw_box cells[8];
    size_t nc = 0;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 2; c++) {
                if (a == 1 && b == 1 && c == 1) continue;
                cells[nc] = (sw_box){{a, b, c}, {1, 1, 1}};
                nc++;
            }
    assert_int_equal(sw_coverage_boxes(cells, nc, 3, s222, &m), 0);
    check_missing(cells, nc, 3, s222, &m);
    assert_int_equal(m.start[0], 1);
    assert_int_equal(m.start[1], 1);
    assert_int_equal(m.start[2], 1);
    cells[nc] = (sw_box){{1, 1, 1}, {1, 1, 1}};
    assert_int_equal(sw_coverage_boxes(cells, nc + 1, 3, s222, &m), 1);
}

/* ---- expressions ----------------------------------------------------------------------- */

static int ev(const char *text, int64_t *v, sw_error *err) {
    sw_arena a;
    sw_arena_init(&a);
    static const char *const names[] = {"n", "big"};
    static const int64_t vals[] = {7, INT64_MAX};
    sw_scope s = {NULL, 2, names, vals};
    sw_loc loc = {"e.yaml", 5, 9};
    sw_expr *e;
    int rc = sw_expr_parse(&a, text, loc, &e, err);
    if (!rc) rc = sw_expr_eval(e, &s, loc, v, err);
    sw_arena_free(&a);
    return rc;
}

static void expect_val(const char *text, int64_t want) {
    int64_t v = 0;
    sw_error err;
    int rc = ev(text, &v, &err);
    if (rc) fail_msg("'%s': %s", text, err.msg);
    if (v != want) fail_msg("'%s' = %lld, expected %lld", text, (long long)v, (long long)want);
}

static void expect_err(const char *text, const char *substr) {
    int64_t v = 0;
    sw_error err;
    memset(&err, 0, sizeof err);
    int rc = ev(text, &v, &err);
    if (rc != SW_INPUT) fail_msg("'%s': expected an input error, got rc %d value %lld", text, rc, (long long)v);
    assert_string_equal(err.file, "e.yaml");
    assert_int_equal(err.line, 5);
    assert_true(err.col >= 9);
    if (substr && !strstr(err.msg, substr)) fail_msg("'%s': message '%s' lacks '%s'", text, err.msg, substr);
}

static void test_expr_values(void **state) {
    (void)state;
    /* Floor division and modulo (rule 1). */
    expect_val("-7 / 2", -4);
    expect_val("-7 % 3", 2);
    expect_val("-7 % 2", 1);
    expect_val("7 % -3", -2); /* floor: 7 = -3 * -3 + -2 */
    expect_val("7 / -2", -4);
    expect_val("-8 / 2", -4);
    expect_val("7 / 2", 3);
    /* Unary minus binds tighter than * / %: -7 / 2 is (-7) / 2 = -4, not -(7 / 2) = -3;
     * -7 % 3 is (-7) % 3 = 2, not -(7 % 3) = -1. */
    expect_val("-n / 2", -4);
    expect_val("-n % 3", 2);
    expect_val("- -3", 3);
    expect_val("2 - -3", 5);
    expect_val("-2 * -3", 6);
    expect_val("1 + 2 * 3", 7);
    expect_val("(1 + 2) * 3", 9);
    expect_val("10 - 4 - 3", 3);   /* left-associative */
    expect_val("100 / 10 / 5", 2); /* left-associative */
    expect_val("-(2 + 3) * 2", -10);
    /* Functions: cdiv(a,b) = -((-a) / b); round_up(a,b) = cdiv(a,b) * b. */
    expect_val("cdiv(7, 2)", 4);
    expect_val("cdiv(8, 2)", 4);
    expect_val("cdiv(-7, 2)", -3);
    expect_val("cdiv(0, 5)", 0);
    expect_val("round_up(5, 4)", 8);
    expect_val("round_up(8, 4)", 8);
    expect_val("round_up(n, 64)", 64);
    expect_val("min(3, -2)", -2);
    expect_val("max(3, -2)", 3);
    expect_val("min(max(1, 5), 4)", 4);
    expect_val("n", 7);
    expect_val("big", INT64_MAX);
    expect_val("9223372036854775807", INT64_MAX);
    expect_val("-9223372036854775807 - 1", INT64_MIN);
    /* The raw helpers. */
    int64_t q;
    assert_int_equal(sw_floordiv(-7, 2, &q), 0);
    assert_int_equal(q, -4);
    assert_int_equal(sw_floormod(-7, 3, &q), 0);
    assert_int_equal(q, 2);
    assert_int_equal(sw_cdiv(7, 2, &q), 0);
    assert_int_equal(q, 4);
    assert_int_equal(sw_floordiv(1, 0, &q), -1);
    assert_int_equal(sw_floormod(1, 0, &q), -1);
    assert_int_equal(sw_cdiv(1, 0, &q), -1);
    assert_int_equal(sw_floordiv(INT64_MIN, -1, &q), -1);
}

static void test_expr_errors(void **state) {
    (void)state;
    /* Overflow. */
    expect_err("9223372036854775807 + 1", "overflow");
    expect_err("big + 1", "overflow");
    expect_err("big * 2", "overflow");
    expect_err("-big - 2", "overflow");
    expect_err("(-big - 1) / -1", "overflow");
    expect_err("round_up(big, 2)", "overflow");
    expect_err("9223372036854775808", NULL);
    /* A zero divisor, in every form. */
    expect_err("5 / (2 - 2)", "zero");
    expect_err("5 % 0", "zero");
    expect_err("cdiv(1, 0)", "zero");
    expect_err("round_up(3, 0)", "zero");
    /* Undefined names and syntax. */
    expect_err("m + 1", "m");
    expect_err("1 +", NULL);
    expect_err("(1 + 2", NULL);
    expect_err("1 2", NULL);
    expect_err("min(1)", NULL);
    expect_err("foo(1, 2)", NULL);
    expect_err("", NULL);
    expect_err("3 ** 2", NULL);
}

static void test_expr_division_by_zero_location(void **state) {
    (void)state;
    sw_error err;
    int64_t v;
    memset(&err, 0, sizeof err);
    assert_int_equal(ev("n / (n - 7)", &v, &err), SW_INPUT);
    assert_string_equal(err.file, "e.yaml");
    assert_int_equal(err.line, 5);
    assert_int_equal(err.col, 9);
    assert_non_null(strstr(err.msg, "zero"));
}

static void test_template(void **state) {
    (void)state;
    sw_arena a;
    sw_arena_init(&a);
    static const char *const names[] = {"i"};
    static const int64_t vals[] = {17};
    sw_scope s = {NULL, 1, names, vals};
    sw_loc loc = {"t.yaml", 2, 3};
    sw_error err;
    sw_tmpl *t;
    char buf[64];
    assert_int_equal(sw_tmpl_parse(&a, "layers.{i - 16}.w{i % 4}", loc, &t, &err), 0);
    assert_false(sw_tmpl_is_literal(t));
    assert_int_equal(sw_tmpl_eval(t, &s, loc, buf, sizeof buf, &err), 0);
    assert_string_equal(buf, "layers.1.w1");
    assert_int_equal(sw_tmpl_parse(&a, "plain.name", loc, &t, &err), 0);
    assert_true(sw_tmpl_is_literal(t));
    /* Undefined name in a template: an error at its location. */
    assert_int_equal(sw_tmpl_parse(&a, "layers.{j}.w", loc, &t, &err), 0);
    assert_int_equal(sw_tmpl_eval(t, &s, loc, buf, sizeof buf, &err), SW_INPUT);
    assert_int_equal(err.line, 2);
    /* A result longer than the buffer is an error, not a truncation. */
    assert_int_equal(sw_tmpl_parse(&a, "aaaaaaaaaa{i}", loc, &t, &err), 0);
    assert_int_equal(sw_tmpl_eval(t, &s, loc, buf, 8, &err), SW_INPUT);
    sw_arena_free(&a);
}

/* ---- more of the precise rules --------------------------------------------------------- */

/* Rule 8: segments that continue one logical tensor contiguously merge.  A group-major
 * fuse of a single part q (8 rows) with G = 4 over tp = 2: rank t holds groups 2t, 2t+1
 * = q rows [4t, 4t+2) and [4t+2, 4t+4), which continue each other: one piece of 4 rows.
 * A part-major fuse [a, a] of the same tensor does not merge (a restarts at row 0). */
static void test_canonical_merge(void **state) {
    (void)state;
    sw_ir ir;
    load(&ir,
         "shardwave: 1\n"
         "model:\n"
         "  name: merge\n"
         "  tensors:\n"
         "    - {name: q, shape: [8, 2]}\n"
         "layouts:\n"
         "  m:\n"
         "    mesh: {tp: 2}\n"
         "    place:\n"
         "      - {as: g, fuse: {dim: 0, parts: [q], groups: 4}, split: {0: tp}}\n"
         "      - {as: twice, fuse: {dim: 0, parts: [q, q]}, split: {0: tp}}\n");
    /* twice: part-major, each q split over 2: rank 1 holds q[4,8) at 0 and q[4,8) at 4. */
    expect_rank(&ir, "m", 1,
                "@host 0 dev 1\n"
                "g bf16 [4,2]\n"
                "  q off[0,0] start[4,0] size[4,2]\n"
                "twice bf16 [8,2]\n"
                "  q off[0,0] start[4,0] size[4,2]\n"
                "  q off[4,0] start[4,0] size[4,2]\n");
    sw_ir_free(&ir);
}

/* Rule 6 with uneven: k has 6 rows = 3 units of 2; T = 4; 3 < 4 but 4 % 3 != 0, so with
 * uneven the whole units are chunked like rule 4: c = cdiv(3, 4) = 1, rank t holds units
 * [min(t, 3), min(t+1, 3)): ranks 0..2 one unit (2 rows), rank 3 none ([0, 2], no piece).
 * q (8 rows, 4 units) splits evenly: rank t holds rows [2t, 2t+2).
 * Local: q part then k part: rank 1 [4, 2]: q[2,4) at 0, k[2,4) at 2; rank 3 [2, 2]: q[6,8). */
static void test_units_uneven(void **state) {
    (void)state;
    sw_ir ir;
    load(&ir,
         "shardwave: 1\n"
         "model:\n"
         "  name: units\n"
         "  tensors:\n"
         "    - {name: q, shape: [8, 2]}\n"
         "    - {name: k, shape: [6, 2]}\n"
         "layouts:\n"
         "  m:\n"
         "    mesh: {tp: 4}\n"
         "    place:\n"
         "      - as: qk\n"
         "        fuse: {dim: 0, parts: [{tensor: q, unit: 2}, {tensor: k, unit: 2}]}\n"
         "        uneven: true\n"
         "        split: {0: tp}\n");
    expect_rank(&ir, "m", 1,
                "@host 0 dev 1\n"
                "qk bf16 [4,2]\n"
                "  q off[0,0] start[2,0] size[2,2]\n"
                "  k off[2,0] start[2,0] size[2,2]\n");
    expect_rank(&ir, "m", 3,
                "@host 0 dev 3\n"
                "qk bf16 [2,2]\n"
                "  q off[0,0] start[6,0] size[2,2]\n");
    sw_ir_free(&ir);
}

/* Rule 9: perm on a fuse part and on the rule.  a is [2, 4] with part perm [1, 0] -> [4, 2];
 * b is [3, 2]; fuse dim 0 (after the parts' perms) -> [7, 2]; the rule's perm [1, 0] ->
 * local [2, 7].  Stored dim k of the local tensor: for a, local dim 0 = fused dim 1 = a's
 * part dim 1 = a's logical dim 0, local dim 1 = a's logical dim 1: a's perm is the
 * identity, piece off [0, 0] start [0, 0] size [2, 4].  For b, local dim 0 = b dim 1 and
 * local dim 1 = b dim 0: perm [1, 0], off [0, 4], start [0, 0], size (stored order) [2, 3]. */
static void test_perm_fuse_parts(void **state) {
    (void)state;
    sw_ir ir;
    load(&ir,
         "shardwave: 1\n"
         "model:\n"
         "  name: pf\n"
         "  tensors:\n"
         "    - {name: a, shape: [2, 4]}\n"
         "    - {name: b, shape: [3, 2]}\n"
         "layouts:\n"
         "  m:\n"
         "    mesh: {tp: 1}\n"
         "    place:\n"
         "      - as: ab\n"
         "        fuse: {dim: 0, parts: [{tensor: a, perm: [1, 0]}, b]}\n"
         "        perm: [1, 0]\n");
    expect_rank(&ir, "m", 0,
                "@host 0 dev 0\n"
                "ab bf16 [2,7]\n"
                "  a off[0,0] start[0,0] size[2,4]\n"
                "  b off[0,4] start[0,0] size[2,3] perm[1,0]\n");
    sw_ir_free(&ir);
}

/* A stack split unevenly: 5 experts over ep = 2: c = cdiv(5, 2) = 3: rank 0 items [0, 3)
 * (local [3, 2]), rank 1 items [3, 5) (local [2, 2]: e3 at [0, 0], e4 at [1, 0]).
 * Over ep = 4 with 3 items (stack over [0, 3)): c = 1, ranks 0..2 one item each, the
 * last rank an empty [0, 2] with no pieces.  Pieces of a stacked tensor: local_offset
 * includes the stacked dim, start/size only the item's own dims (rule 8). */
static void test_stack_uneven(void **state) {
    (void)state;
    sw_ir ir;
    load(&ir,
         "shardwave: 1\n"
         "model:\n"
         "  name: su\n"
         "  let: {experts: 5}\n"
         "  tensors:\n"
         "    - {name: \"e{i}\", for: {i: experts}, shape: [2], dtype: fp32}\n"
         "layouts:\n"
         "  two:\n"
         "    mesh: {ep: 2}\n"
         "    place:\n"
         "      - {as: w, stack: {over: {i: experts}, item: {tensor: \"e{i}\"}}, split: {0: ep}, uneven: true}\n"
         "  four:\n"
         "    first_rank: 2\n"
         "    mesh: {ep: 4}\n"
         "    place:\n"
         "      - {as: w, stack: {over: {i: [0, 3]}, item: {tensor: \"e{i}\"}}, split: {0: ep}, uneven: true}\n"
         "syncs: []\n");
    expect_rank(&ir, "two", 1,
                "@host 0 dev 1\n"
                "w fp32 [2,2]\n"
                "  e3 off[0,0] start[0] size[2]\n"
                "  e4 off[1,0] start[0] size[2]\n");
    expect_rank(&ir, "four", 4,
                "@host 0 dev 4\n"
                "w fp32 [1,2]\n"
                "  e2 off[0,0] start[0] size[2]\n");
    expect_rank(&ir, "four", 5,
                "@host 0 dev 5\n"
                "w fp32 [0,2]\n");
    sw_ir_free(&ir);
}

/* Padding on a dim of a fuse rule that is not the fused one (allowed; rule 5 forbids it
 * only on the fused or stacked dim): gate/up [3, 3] fused on dim 0 -> [6, 3]; pad {1: 4}
 * pads dim 1 from 3 to 4; split over tp = 2: rank 0 columns [0, 2), rank 1 columns
 * [2, 4) = logical column 2 and one padding column.  Local [6, 2];
 * rank 1: gate off [0, 0] start [0, 2] size [3, 1], up off [3, 0] start [0, 2] size [3, 1]. */
static void test_pad_unfused_dim_of_fuse(void **state) {
    (void)state;
    sw_ir ir;
    load(&ir,
         "shardwave: 1\n"
         "model:\n"
         "  name: pu\n"
         "  tensors:\n"
         "    - {name: gate, shape: [3, 3]}\n"
         "    - {name: up, shape: [3, 3]}\n"
         "layouts:\n"
         "  m:\n"
         "    mesh: {tp: 2}\n"
         "    place:\n"
         "      - {as: fc1, fuse: {dim: 0, parts: [gate, up]}, pad: {1: 4}, split: {1: tp}}\n");
    expect_rank(&ir, "m", 0,
                "@host 0 dev 0\n"
                "fc1 bf16 [6,2]\n"
                "  gate off[0,0] start[0,0] size[3,2]\n"
                "  up off[3,0] start[0,0] size[3,2]\n");
    expect_rank(&ir, "m", 1,
                "@host 0 dev 1\n"
                "fc1 bf16 [6,2]\n"
                "  gate off[0,0] start[0,2] size[3,1]\n"
                "  up off[3,0] start[0,2] size[3,1]\n");
    sw_ir_free(&ir);
}

/* Rule 2, scopes innermost first: loop variable, rule let, mesh axis size, model let; and
 * -D replaces a let before it is evaluated (z = 1 / 0 is never evaluated).
 * Model: tp = 7 -> tensors t0..t6 of [z] = [4].  In layout x, tp is the mesh size 2:
 * the first rule places t0, t1 split over 2 (rank 1: [2, 4)); the second has a rule let
 * tp = 1, so its range is 0 .. 0: only one0 <- t0, whole. */
static void test_scopes_and_define_before_eval(void **state) {
    (void)state;
    static const char y[] =
        "shardwave: 1\n"
        "model:\n"
        "  name: m\n"
        "  let: {z: 1 / 0, tp: 7}\n"
        "  tensors:\n"
        "    - {name: \"t{i}\", for: {i: tp}, shape: [z]}\n"
        "layouts:\n"
        "  x:\n"
        "    mesh: {tp: 2}\n"
        "    place:\n"
        "      - {tensor: \"t{i}\", for: {i: tp}, split: {0: tp}}\n"
        "      - {tensor: \"t{i}\", for: {i: tp}, let: {tp: 1}, as: \"one{i}\"}\n";
    sw_define defs[] = {{"z", 4}};
    sw_load_opts o = {defs, 1};
    sw_ir ir;
    load_opts(&ir, y, &o);
    assert_int_equal(ir.ntensors, 7);
    expect_rank(&ir, "x", 1,
                "@host 0 dev 1\n"
                "one0 bf16 [4]\n"
                "  t0 off[0] start[0] size[4]\n"
                "t0 bf16 [2]\n"
                "  t0 off[0] start[2] size[2]\n"
                "t1 bf16 [2]\n"
                "  t1 off[0] start[2] size[2]\n");
    sw_ir_free(&ir);
    /* Without the -D, z = 1 / 0 is an error at its value (4:12). */
    sw_error err;
    assert_int_equal(sw_load_text("inline.yaml", y, strlen(y), NULL, &ir, &err), SW_INPUT);
    assert_int_equal(err.line, 4);
    assert_int_equal(err.col, 12);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gqa_group_major),
        cmocka_unit_test(test_gqa_unsplit_interleaves),
        cmocka_unit_test(test_qkv_units_kv_replicated),
        cmocka_unit_test(test_uneven_and_empty),
        cmocka_unit_test(test_vocab_padding),
        cmocka_unit_test(test_perm_split),
        cmocka_unit_test(test_stack_fuse_split),
        cmocka_unit_test(test_two_axis_split),
        cmocka_unit_test(test_let_where_pp),
        cmocka_unit_test(test_hosts),
        cmocka_unit_test(test_define_shrinks),
        cmocka_unit_test(test_boxes_cover),
        cmocka_unit_test(test_expr_values),
        cmocka_unit_test(test_expr_errors),
        cmocka_unit_test(test_expr_division_by_zero_location),
        cmocka_unit_test(test_template),
        cmocka_unit_test(test_canonical_merge),
        cmocka_unit_test(test_units_uneven),
        cmocka_unit_test(test_perm_fuse_parts),
        cmocka_unit_test(test_stack_uneven),
        cmocka_unit_test(test_pad_unfused_dim_of_fuse),
        cmocka_unit_test(test_scopes_and_define_before_eval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
