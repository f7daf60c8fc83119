/* shardwave init --hf CONFIG.json --from FW:k=v,... --to FW:k=v,... [--to ...] [-o FILE] [--dsl]:
 * a layout file for a Hugging Face model and framework presets (init/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "diag.h"
#include "hfconfig.h"
#include "init.h"

static const char init_help[] =
    "usage: shardwave init --hf CONFIG.json --from FW:key=val,... --to FW:key=val,... [--to ...]\n"
    "                      [-o FILE] [--dsl]\n"
    "\n"
    "Writes a layout file for a Hugging Face model (its config.json) and framework presets:\n"
    "layout `train` from --from, `infer` (then `infer1`, ...) from each --to, and the syncs\n"
    "`refit` (`refit1`, ...).  The model's let constants are the config's numbers.\n"
    "\n"
    "  FW  megatron  tp pp dp ep etp vpp first_stage_layers last_stage_layers\n"
    "                vocab_pad (128: Megatron-LM make_vocab_size_divisible_by, 0: none)\n"
    "                grouped_gemm (1: TEGroupedMLP weight{j}, 0: SequentialMLP)\n"
    "      fsdp2     shard replicate (HSDP) transformers (5, default: fused MoE experts; 4: per-expert modules)\n"
    "      vllm      tp dp ep (0|1: enable_expert_parallel) version (0.33, default; below 0.24: older MoE names)\n"
    "      sglang    tp dp ep\n"
    "      every FW  first_rank gpus_per_host rank_base (colocation)\n"
    "\n"
    "Models (config.json model_type): llama, qwen2, qwen3, qwen3_moe, mixtral, deepseek_v3.\n"
    "\n"
    "  -o FILE   write to FILE instead of standard output\n"
    "  --dsl     write the textual DSL instead of YAML\n";

int cmd_init(int argc, char **argv) {
    const char *hf = NULL, *from = NULL, *outp = NULL;
    const char *tos[8];
    size_t nto = 0;
    int dsl = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(init_help, stdout);
            return 0;
        } else if (!strcmp(a, "--dsl")) {
            dsl = 1;
        } else if (!strcmp(a, "--hf") || !strcmp(a, "--from") || !strcmp(a, "--to") || !strcmp(a, "-o")) {
            if (i + 1 >= argc) return cli_usage_error("init: %s needs a value", a);
            const char *v = argv[++i];
            if (!strcmp(a, "--hf")) hf = v;
            else if (!strcmp(a, "--from")) {
                if (from) return cli_usage_error("init: one --from only");
                from = v;
            } else if (!strcmp(a, "-o")) outp = v;
            else {
                if (nto == 7) return cli_usage_error("init: at most 7 --to");
                tos[nto++] = v;
            }
        } else {
            return cli_usage_error("init: unknown argument '%s' (see shardwave init --help)", a);
        }
    }
    if (!hf) return cli_usage_error("init: missing --hf CONFIG.json (see shardwave init --help)");
    if (!from) return cli_usage_error("init: missing --from FW:key=val,... (see shardwave init --help)");
    if (!nto) return cli_usage_error("init: missing --to FW:key=val,... (see shardwave init --help)");

    sw_error err;
    sw_fw_spec fs, ts[7];
    if (sw_fw_spec_parse(from, &fs, &err)) return cli_usage_error("--from %s: %s", from, err.msg);
    for (size_t k = 0; k < nto; k++)
        if (sw_fw_spec_parse(tos[k], &ts[k], &err)) return cli_usage_error("--to %s: %s", tos[k], err.msg);

    sw_hf_config cfg;
    if (sw_hf_config_load(hf, &cfg, &err)) return cli_fail(&err);

    char cmd[1024];
    size_t n = (size_t)snprintf(cmd, sizeof cmd, "shardwave init --hf %s --from %s", hf, from);
    for (size_t k = 0; k < nto && n < sizeof cmd; k++) n += (size_t)snprintf(cmd + n, sizeof cmd - n, " --to %s", tos[k]);
    if (dsl && n < sizeof cmd) snprintf(cmd + n, sizeof cmd - n, " --dsl");
    sw_init_opts opts = {hf, cmd, dsl};
    char *text = NULL;
    if (sw_init_generate(&cfg, &fs, ts, nto, &opts, &text, &err)) return cli_fail(&err);

    int rc = 0;
    FILE *f = outp ? fopen(outp, "wb") : stdout;
    if (!f) {
        rc = sw__err(&err, SW_IO, "cannot write '%s'", outp);
    } else {
        size_t len = strlen(text);
        if (fwrite(text, 1, len, f) != len) rc = sw__err(&err, SW_IO, "cannot write the output");
        if (outp && fclose(f) && !rc) rc = sw__err(&err, SW_IO, "cannot write '%s'", outp);
    }
    free(text);
    return rc ? cli_fail(&err) : 0;
}
