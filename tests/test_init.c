/* test_init.c - `shardwave init` below the CLI: config.json reading, framework specs, and
 * generated files that elaborate (the same check the CLI's `check` does). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "elab.h"
#include "load.h"
#include "hfconfig.h"
#include "init.h"

static const char qwen3_moe[] =
    "{\n"
    "  \"architectures\": [\"Qwen3MoeForCausalLM\"],\n"
    "  \"decoder_sparse_step\": 1, \"head_dim\": 128, \"hidden_size\": 2048,\n"
    "  \"intermediate_size\": 6144, \"mlp_only_layers\": [], \"model_type\": \"qwen3_moe\",\n"
    "  \"moe_intermediate_size\": 768, \"num_attention_heads\": 32, \"num_experts\": 128,\n"
    "  \"num_experts_per_tok\": 8, \"num_hidden_layers\": 48, \"num_key_value_heads\": 4,\n"
    "  \"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\", \"vocab_size\": 151936\n"
    "}\n";

static void test_config_fields(void **state) {
    (void)state;
    sw_hf_config c;
    sw_error e;
    assert_int_equal(sw_hf_config_parse("Qwen3-30B-A3B/config.json", qwen3_moe, strlen(qwen3_moe), &c, &e), SW_OK);
    assert_int_equal(c.family, SW_HF_QWEN3_MOE);
    assert_string_equal(c.name, "Qwen3-30B-A3B");
    assert_string_equal(c.arch, "Qwen3MoeForCausalLM");
    assert_int_equal(c.hidden, 2048);
    assert_int_equal(c.head_dim, 128);
    assert_int_equal(c.head_dim_given, 1);
    assert_int_equal(c.kv_heads, 4);
    assert_int_equal(c.experts, 128);
    assert_int_equal(c.moe_ffn, 768);
    assert_int_equal(c.qk_norm, 1);
    assert_int_equal(c.tied, 0);
    assert_string_equal(c.dtype, "bf16");
}

static void test_config_errors(void **state) {
    (void)state;
    sw_hf_config c;
    sw_error e;
    char buf[2048];
    const char *t1 = "{\n  \"model_type\": \"bert\"\n}\n";
    assert_int_equal(sw_hf_config_parse("c.json", t1, strlen(t1), &c, &e), SW_INPUT);
    assert_string_equal(sw_error_format(&e, buf, sizeof buf),
                        "c.json:2:17: error: unknown model_type 'bert' (shardwave init knows llama, qwen2, qwen3, "
                        "qwen3_moe, mixtral, deepseek_v3)");
    const char *t2 = "{\"model_type\": \"llama\", \"hidden_size\": 64, \"num_hidden_layers\": 2,\n"
                     " \"num_attention_heads\": 4, \"vocab_size\": 10}";
    assert_int_equal(sw_hf_config_parse("c.json", t2, strlen(t2), &c, &e), SW_INPUT);
    assert_string_equal(sw_error_format(&e, buf, sizeof buf), "c.json:1:1: error: config has no 'intermediate_size'");
    const char *t3 = "{\"model_type\": \"qwen3_moe\", \"hidden_size\": 64, \"num_hidden_layers\": 2,\n"
                     " \"num_attention_heads\": 4, \"vocab_size\": 10, \"num_experts\": 4,\n"
                     " \"moe_intermediate_size\": 8, \"mlp_only_layers\": [1]}";
    assert_int_equal(sw_hf_config_parse("c.json", t3, strlen(t3), &c, &e), SW_INPUT);
    assert_string_equal(sw_error_format(&e, buf, sizeof buf),
                        "c.json:3:49: error: mlp_only_layers (dense layers in a MoE model) is not supported: only every "
                        "layer MoE");
    const char *t4 = "{\"model_type\": \"llama\", \"hidden_size\": \"big\"}";
    assert_int_equal(sw_hf_config_parse("c.json", t4, strlen(t4), &c, &e), SW_INPUT);
    assert_string_equal(e.msg, "'hidden_size' must be an integer");
}

static void test_spec_parse(void **state) {
    (void)state;
    sw_fw_spec s;
    sw_error e;
    assert_int_equal(sw_fw_spec_parse("megatron:tp=4,pp=2,ep=8,etp=1,vocab_pad=0,first_rank=8", &s, &e), SW_OK);
    assert_int_equal(s.fw, SW_FW_MEGATRON);
    assert_int_equal(s.tp, 4);
    assert_int_equal(s.pp, 2);
    assert_int_equal(s.dp, 1);
    assert_int_equal(s.ep, 8);
    assert_int_equal(s.etp, 1);
    assert_int_equal(s.vocab_pad, 0);
    assert_int_equal(s.has_first_rank, 1);
    assert_int_equal(s.first_rank, 8);
    assert_int_equal(sw_fw_spec_ranks(&s), 8);
    assert_int_equal(sw_fw_spec_parse("megatron:tp=2", &s, &e), SW_OK);
    assert_int_equal(s.etp, 2); /* etp defaults to tp */
    assert_int_equal(s.vocab_pad, 128);
    assert_int_equal(sw_fw_spec_parse("vllm", &s, &e), SW_OK);
    assert_int_equal(s.ep, 0);
    assert_string_equal(s.version, "0.33");
    assert_int_equal(sw_fw_spec_parse("vllm:version=0.11.2", &s, &e), SW_OK);
    assert_string_equal(s.version, "0.11");
    assert_int_equal(sw_fw_spec_parse("vllm:tp=0", &s, &e), SW_USAGE);
    assert_string_equal(e.msg, "vllm: tp=0: expected an integer >= 1");
    assert_int_equal(sw_fw_spec_parse("fsdp2:tp=2", &s, &e), SW_USAGE);
    assert_string_equal(e.msg, "fsdp2: unknown key 'tp' (keys: shard, replicate, transformers, first_rank, gpus_per_host, rank_base)");
    assert_int_equal(sw_fw_spec_parse("fsdp2:shard=4", &s, &e), SW_OK);
    assert_int_equal(s.transformers, 5); /* fused MoE experts by default */
    assert_int_equal(sw_fw_spec_parse("fsdp2:shard=4,replicate=2,transformers=4", &s, &e), SW_OK);
    assert_int_equal(s.transformers, 4);
    assert_int_equal(sw_fw_spec_ranks(&s), 8);
    assert_int_equal(sw_fw_spec_parse("fsdp2:transformers=6", &s, &e), SW_USAGE);
    assert_string_equal(e.msg, "fsdp2: transformers=6: the presets know transformers 4 and 5");
    assert_int_equal(sw_fw_spec_parse("sglang:tp", &s, &e), SW_USAGE);
    assert_string_equal(e.msg, "sglang: 'tp' is not key=value");
    assert_int_equal(sw_fw_spec_parse("vllm:version=1.0", &s, &e), SW_USAGE);
}

/* The generated text elaborates, in both syntaxes, to the same IR summary. */
static void test_generate_elaborates(void **state) {
    (void)state;
    sw_hf_config c;
    sw_error e;
    assert_int_equal(sw_hf_config_parse("q.json", qwen3_moe, strlen(qwen3_moe), &c, &e), SW_OK);
    sw_fw_spec from, to[2];
    assert_int_equal(sw_fw_spec_parse("megatron:tp=2,pp=2,dp=4,ep=8,etp=1", &from, &e), SW_OK);
    assert_int_equal(sw_fw_spec_parse("vllm:tp=4,dp=2", &to[0], &e), SW_OK);
    assert_int_equal(sw_fw_spec_parse("sglang:tp=4,ep=2", &to[1], &e), SW_OK);
    for (int dsl = 0; dsl < 2; dsl++) {
        sw_init_opts o = {"q.json", NULL, dsl};
        char *text = NULL;
        assert_int_equal(sw_init_generate(&c, &from, to, 2, &o, &text, &e), SW_OK);
        assert_non_null(strstr(text, dsl ? "layout infer1 first_rank 24 mesh(dp = 1, ep = 2, moe_tp = 2)"
                                         : "  infer1:\n    first_rank: 24\n    mesh: {dp: 1, ep: 2, moe_tp: 2}"));
        /* Megatron mesh: experts over ep = [dp, tp] (etp 1): dp 4 x tp 2 */
        assert_non_null(strstr(text, dsl ? "mesh(pp = 2, dp = 4, tp = 2)" : "mesh: {pp: 2, dp: 4, tp: 2}"));
        sw_define d[] = {{"layers", 4}, {"hidden", 64}, {"experts", 16}, {"moe_ffn", 32}, {"vocab", 1000}, {"head_dim", 16}};
        sw_load_opts lo = {d, 6};
        sw_ir ir;
        int rc = sw_load_text(dsl ? "gen.sw" : "gen.yaml", text, strlen(text), &lo, &ir, &e);
        free(text);
        if (rc) fail_msg("%s: %s", dsl ? "DSL" : "YAML", e.msg);
        sw_ir_free(&ir);
    }
    /* a size vLLM rejects */
    assert_int_equal(sw_fw_spec_parse("vllm:tp=3", &to[0], &e), SW_OK);
    sw_init_opts o = {"q.json", NULL, 0};
    char *text = NULL;
    assert_int_equal(sw_init_generate(&c, &from, to, 1, &o, &text, &e), SW_USAGE);
    assert_string_equal(e.msg, "--to vllm:tp=3: num_attention_heads (32) must be divisible by tp (3) (vLLM 0.33.0)");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_fields),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_spec_parse),
        cmocka_unit_test(test_generate_elaborates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
