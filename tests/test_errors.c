/*
 * test_errors.c - one test per kind of input error: each inline YAML has exactly one
 * defect, and the test asserts the status (SW_INPUT, or SW_USAGE for a -D naming no let
 * constant), the exact line and column (spec rule 17: at the offending value, an
 * unknown key at the key, a duplicate local tensor at the later rule's `as`, incomplete
 * coverage at the sync entry), and a substring of the message.
 *
 * Cases marked `spec_fails` are where the implementation contradicts the spec: they are
 * written as the spec demands and skipped (see the SPEC comment at each); set
 * SW_RUN_SPEC_FAILS=1 in the environment to run them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

typedef struct err_case {
    const char *name;
    const char *yaml;
    int status;
    int line, col;
    const char *substr;
    const char *define; /* -D NAME=1 when not NULL */
    int spec_fails;     /* 1: the implementation contradicts the spec; skipped */
} err_case;

/* A valid prefix shared by most cases: lines 1..11; rules start on line 12 with
 * "      - {" ('-' at column 7, '{' at column 9, the first key at column 10). */
#define HEAD                                           \
    "shardwave: 1\n"                          /*  1 */ \
    "model:\n"                                /*  2 */ \
    "  name: m\n"                             /*  3 */ \
    "  let: {h: 4, n: 2}\n"                   /*  4 */ \
    "  tensors:\n"                            /*  5 */ \
    "    - {name: a, shape: [h, 2]}\n"        /*  6 */ \
    "    - {name: b, shape: [h, 2], dtype: fp32}\n" /* 7 */ \
    "layouts:\n"                              /*  8 */ \
    "  x:\n"                                  /*  9 */ \
    "    mesh: {tp: 2, dp: 2}\n"              /* 10 */ \
    "    place:\n"                            /* 11 */

/* A second layout and the rest, after the rules of x. */
#define TAIL_Y                     \
    "  y:\n"                       \
    "    first_rank: 4\n"          \
    "    mesh: {tp: 1}\n"          \
    "    place:\n"                 \
    "      - {tensor: a}\n"        \
    "      - {tensor: b}\n"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const err_case cases[] = {
    /* Unknown keys, at the key. */
    {"unknown_key_rule",
     HEAD "      - {tensor: a, splitt: {0: tp}}\n", /* "splitt" at col 21 */
     SW_INPUT, 12, 21, "unknown key"},
    {"unknown_key_model",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  tensor:\n" /* 4:3 */
     "    - {name: a, shape: [2]}\n"
     "layouts: {x: {mesh: {tp: 1}, place: [{tensor: a}]}}\n",
     SW_INPUT, 4, 3, "unknown key"},
    {"unknown_key_top",
     HEAD "      - {tensor: a}\n"
          "      - {tensor: b}\n"
          "sync: []\n", /* 14:1 */
     SW_INPUT, 14, 1, "unknown key"},
    /* Wrong format version, at the value. */
    {"wrong_version",
     "shardwave: 2\n"
     "model: {name: m, tensors: [{name: a, shape: [2]}]}\n"
     "layouts: {x: {mesh: {tp: 1}, place: [{tensor: a}]}}\n",
     SW_INPUT, 1, 12, "version"},
    /* Bad types. */
    {"shape_not_a_list",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  tensors:\n"
     "    - {name: a, shape: 4}\n" /* value "4" at col 24 */
     "layouts: {x: {mesh: {tp: 1}, place: [{tensor: a}]}}\n",
     SW_INPUT, 5, 24, "shape"},
    {"boolean_for_integer_let",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  let: {h: true}\n" /* "true" at col 12 */
     "  tensors:\n"
     "    - {name: a, shape: [2]}\n"
     "layouts: {x: {mesh: {tp: 1}, place: [{tensor: a}]}}\n",
     SW_INPUT, 4, 12, "boolean"},
    {"boolean_for_integer_shape",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  tensors:\n"
     "    - {name: a, shape: [2, false]}\n" /* "false" at col 28 */
     "layouts: {x: {mesh: {tp: 1}, place: [{tensor: a}]}}\n",
     SW_INPUT, 5, 28, "boolean"},
    {"boolean_for_integer_mesh",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  tensors:\n"
     "    - {name: a, shape: [2]}\n"
     "layouts:\n"
     "  x:\n"
     "    mesh: {tp: true}\n" /* "true" at col 16 */
     "    place: [{tensor: a}]\n",
     SW_INPUT, 8, 16, "boolean"},
    /* Undefined names. */
    {"undefined_name_expr",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  let: {h: 4}\n"
     "  tensors:\n"
     "    - {name: a, shape: [hh, 2]}\n" /* "hh" at col 25 */
     "layouts: {x: {mesh: {tp: 1}, place: [{tensor: a}]}}\n",
     SW_INPUT, 6, 25, "undefined"},
    {"undefined_name_template",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  let: {h: 4}\n"
     "  tensors:\n"
     "    - name: a.{k}.w\n" /* the template at col 13 */
     "      shape: [h]\n"
     "layouts: {x: {mesh: {tp: 1}, place: [{tensor: a.0.w}]}}\n",
     SW_INPUT, 6, 13, "undefined"},
    {"undefined_name_rule_template",
     HEAD "      - tensor: a\n"
          "        as: loc.{j}\n" /* 13:13 */
     ,
     SW_INPUT, 13, 13, "undefined"},
    /* Expression syntax. */
    {"bad_expression_syntax",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  let: {h: 4}\n"
     "  tensors:\n"
     "    - name: a\n"
     "      shape: [h *, 2]\n" /* "h *" at col 15 */
     "layouts: {x: {mesh: {tp: 1}, place: [{tensor: a}]}}\n",
     SW_INPUT, 7, 15, "h *"},
    {"bad_template_syntax",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  let: {h: 4}\n"
     "  tensors:\n"
     "    - name: a.{h\n" /* unclosed hole: the template at col 13 */
     "      shape: [h]\n"
     "layouts: {x: {mesh: {tp: 1}, place: [{tensor: a}]}}\n",
     SW_INPUT, 6, 13, NULL},
    /* Arithmetic errors, at the let value. */
    {"division_by_zero",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  let: {h: 4, n: 2, z: h / (n - 2)}\n" /* value of z at col 24 */
     "  tensors:\n"
     "    - {name: a, shape: [z]}\n"
     "layouts: {x: {mesh: {tp: 1}, place: [{tensor: a}]}}\n",
     SW_INPUT, 4, 24, "zero"},
    {"integer_overflow",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  let: {h: 4, n: 2, z: 9223372036854775807 * n}\n" /* col 24 */
     "  tensors:\n"
     "    - {name: a, shape: [h]}\n"
     "layouts: {x: {mesh: {tp: 1}, place: [{tensor: a}]}}\n",
     SW_INPUT, 4, 24, "overflow"},
    /* A negative for-count, at the count. */
    {"negative_for_count",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  let: {h: 4}\n"
     "  tensors:\n"
     "    - name: a.{i}\n"
     "      for: {i: 2 - h}\n" /* "2 - h" at col 16 */
     "      shape: [h]\n"
     "layouts: {x: {mesh: {tp: 1}, place: [{tensor: a.0}]}}\n",
     SW_INPUT, 7, 16, "negative"},
    {"negative_for_range",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  let: {h: 4}\n"
     "  tensors:\n"
     "    - name: a.{i}\n"
     "      for: {i: [3, 1]}\n" /* the range at col 16 */
     "      shape: [h]\n"
     "layouts: {x: {mesh: {tp: 1}, place: [{tensor: a.0}]}}\n",
     SW_INPUT, 7, 16, "negative"},
    /* Splits. */
    {"split_not_dividing",
     HEAD "      - {tensor: a, split: {1: [tp, dp]}}\n", /* dim 1 = 2 over 4; value '[' at col 32 */
     SW_INPUT, 12, 32, "split evenly"},
    {"split_not_dividing_block",
     HEAD "      - tensor: a\n"
          "        split:\n"
          "          1: dp\n" /* 2 % 2 == 0: fine */
          "      - tensor: b\n"
          "        as: b3\n"
          "        split:\n"
          "          0: [dp, tp]\n" /* 4 % 4 == 0: fine */
          "      - tensor: b\n"
          "        as: b4\n"
          "        split: {1: [dp, tp]}\n", /* 2 % 4: value at col 20 */
     SW_INPUT, 21, 20, "split evenly"},
    {"axis_used_twice_where_split",
     HEAD "      - {tensor: a, where: {tp: 0}, split: {0: tp}}\n", /* split value "tp" at col 48 */
     SW_INPUT, 12, 48, "tp"},
    {"axis_used_twice_two_splits",
     HEAD "      - {tensor: a, split: {0: tp, 1: tp}}\n", /* second "tp" at col 39 */
     SW_INPUT, 12, 39, "tp"},
    {"axis_not_in_mesh",
     HEAD "      - {tensor: a, split: {0: pp}}\n", /* "pp" at col 32 */
     SW_INPUT, 12, 32, "pp"},
    {"where_axis_not_in_mesh",
     HEAD "      - {tensor: a, where: {pp: 0}}\n", /* the key "pp" at col 29 */
     SW_INPUT, 12, 29, "pp"},
    {"where_value_outside_mesh",
     HEAD "      - {tensor: a, where: {tp: 2}}\n", /* "2" at col 33 */
     SW_INPUT, 12, 33, "tp"},
    {"where_value_negative",
     HEAD "      - {tensor: a, where: {dp: -1}}\n", /* "-1" at col 33 */
     SW_INPUT, 12, 33, "dp"},
    /* Fuses: groups. */
    {"groups_not_dividing_part",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  tensors:\n"
     "    - {name: q, shape: [8, 2]}\n"
     "    - {name: k, shape: [2, 2]}\n"
     "layouts:\n"
     "  x:\n"
     "    mesh: {tp: 1}\n"
     "    place:\n"
     "      - as: qk\n"
     "        fuse:\n"
     "          dim: 0\n"
     "          parts: [q, k]\n"
     "          groups: 4\n", /* k has 2 rows: 15:19 */
     SW_INPUT, 15, 19, "groups"},
    {"groups_not_multiple_of_tp",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  tensors:\n"
     "    - {name: q, shape: [6, 2]}\n"
     "    - {name: k, shape: [3, 2]}\n"
     "layouts:\n"
     "  x:\n"
     "    mesh: {tp: 2}\n"
     "    place:\n"
     "      - as: qk\n"
     "        fuse: {dim: 0, parts: [q, k], groups: 3}\n"
     "        uneven: true\n"
     "        split: {0: tp}\n", /* the split value "tp" at 14:20 */
     SW_INPUT, 14, 20, "groups"},
    {"groups_with_unit",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  tensors:\n"
     "    - {name: q, shape: [8, 2]}\n"
     "    - {name: k, shape: [4, 2]}\n"
     "layouts:\n"
     "  x:\n"
     "    mesh: {tp: 1}\n"
     "    place:\n"
     "      - as: qk\n"
     "        fuse:\n"
     "          dim: 0\n"
     "          parts:\n"
     "            - q\n"
     "            - {tensor: k, unit: 2}\n" /* 16:15 */
     "          groups: 2\n",
     SW_INPUT, 16, 15, "unit"},
    /* Fuses: units, shapes, dtypes, pad; perm on a stack. */
    {"unit_not_dividing_part",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  tensors:\n"
     "    - {name: q, shape: [8, 2]}\n"
     "    - {name: k, shape: [4, 2]}\n"
     "layouts:\n"
     "  x:\n"
     "    mesh: {tp: 2}\n"
     "    place:\n"
     "      - as: qk\n"
     "        fuse:\n"
     "          dim: 0\n"
     "          parts:\n"
     "            - {tensor: q, unit: 2}\n"
     "            - {tensor: k, unit: 3}\n" /* the part at col 15 */
     "        split: {0: tp}\n",
     SW_INPUT, 16, 15, "unit"},
    {"fuse_parts_shape_disagree",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  tensors:\n"
     "    - {name: q, shape: [8, 2]}\n"
     "    - {name: k, shape: [4, 3]}\n"
     "layouts:\n"
     "  x:\n"
     "    mesh: {tp: 1}\n"
     "    place:\n"
     "      - as: qk\n"
     "        fuse:\n"
     "          dim: 0\n"
     "          parts:\n"
     "            - q\n"
     "            - k\n", /* the part "k" at 16:15 */
     SW_INPUT, 16, 15, "k"},
    {"fuse_parts_dtype_differ",
     HEAD "      - as: ab\n"
          "        fuse:\n"
          "          dim: 0\n"
          "          parts:\n"
          "            - a\n"
          "            - b\n", /* b is fp32, a bf16: at the part 17:15 */
     SW_INPUT, 17, 15, "dtype"},
    {"pad_on_fused_dim",
     HEAD "      - as: ab\n"
          "        fuse: {dim: 0, parts: [a, b]}\n"
          "        dtype: bf16\n"
          "        pad: {0: 16}\n", /* the pad key "0" at 15:15 */
     SW_INPUT, 15, 15, "pad"},
    {"pad_on_stacked_dim",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  tensors:\n"
     "    - {name: \"e{i}\", for: {i: 3}, shape: [2]}\n"
     "layouts:\n"
     "  x:\n"
     "    mesh: {tp: 1}\n"
     "    place:\n"
     "      - as: st\n"
     "        stack: {over: {i: 3}, item: {tensor: \"e{i}\"}}\n"
     "        pad: {0: 4}\n", /* 12:15 */
     SW_INPUT, 12, 15, "pad"},
    {"perm_on_stack_rule",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  tensors:\n"
     "    - {name: \"e{i}\", for: {i: 3}, shape: [2, 2]}\n"
     "layouts:\n"
     "  x:\n"
     "    mesh: {tp: 1}\n"
     "    place:\n"
     "      - as: st\n"
     "        stack: {over: {i: 3}, item: {tensor: \"e{i}\"}}\n"
     "        perm: [1, 0]\n", /* the key "perm" at 12:9 */
     SW_INPUT, 12, 9, "perm"},
    {"as_missing_on_fuse",
     HEAD "      - fuse: {dim: 0, parts: [a, a]}\n", /* the rule at 12:9 */
     SW_INPUT, 12, 9, "as"},
    /* Duplicates. */
    {"duplicate_local_tensor",
     HEAD "      - {tensor: a, as: z}\n"
          "      - {tensor: b, as: z}\n", /* the later `as` value at 13:25 */
     SW_INPUT, 13, 25, "twice"},
    {"duplicate_local_tensor_default_name",
     HEAD "      - {tensor: a}\n"
          "      - tensor: a\n" /* no `as`: at `tensor`'s value 13:17 */
          "        where: {tp: 1}\n",
     SW_INPUT, 13, 17, "twice"},
    {"duplicate_logical_tensor",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  tensors:\n"
     "    - {name: a, shape: [2]}\n"
     "    - name: a\n" /* 6:13 */
     "      shape: [3]\n"
     "layouts: {x: {mesh: {tp: 1}, place: [{tensor: a}]}}\n",
     SW_INPUT, 6, 13, "twice"},
    /* Layouts sharing a rank on different devices. */
    {"shared_rank_different_device",
     HEAD "      - {tensor: a}\n"
          "  y:\n"
          "    first_rank: 2\n" /* ranks 2, 3 are also x's; x: (0,2), (0,3) */
          "    mesh: {tp: 2}\n"
          "    hosts: {gpus_per_host: 8, rank_base: 0}\n" /* y: (0,0), (0,1) */
          "    place: [{tensor: a}]\n"
          "syncs: []\n",
     /* The spec names no position for this one: at the later layout's name (13:3). */
     SW_INPUT, 13, 3, "different devices"},
    /* Coverage, at the sync entry. */
    {"incomplete_coverage",
     HEAD "      - {tensor: a}\n" TAIL_Y
          "syncs:\n"
          "  - {name: s, from: x, to: y}\n", /* b is missing in x: the entry at 20:5 */
     SW_INPUT, 20, 5, "not fully available"},
    {"incomplete_coverage_block_sync",
     HEAD "      - {tensor: a, where: {tp: 0}, split: {0: dp}}\n" TAIL_Y
          "syncs:\n"
          "  - name: s\n" /* a only on tp 0: covered; b missing: the entry at 20:5 */
          "    from: x\n"
          "    to: y\n",
     SW_INPUT, 20, 5, "not fully available"},
    {"incomplete_coverage_second_sync",
     HEAD "      - {tensor: a}\n"
          "      - {tensor: b}\n"
          "  y:\n"
          "    first_rank: 4\n"
          "    mesh: {tp: 1}\n"
          "    place:\n"
          "      - {tensor: a}\n"
          "syncs:\n"
          "  - {name: s, from: x, to: y}\n" /* fine: y places a only */
          "  - {name: t, from: y, to: x}\n", /* b is not in y: the entry at 21:5 */
     SW_INPUT, 21, 5, "not fully available"},
    {"skip_unknown_tensor",
     HEAD "      - {tensor: a}\n" TAIL_Y
          "syncs:\n"
          "  - {name: s, from: x, to: y, skip: [b, c]}\n", /* "c" at 20:41 */
     SW_INPUT, 20, 41, "c"},
    {"sync_unknown_layout",
     HEAD "      - {tensor: a}\n"
          "      - {tensor: b}\n" TAIL_Y
          "syncs:\n"
          "  - {name: s, from: x, to: z}\n", /* "z" at 21:28 */
     SW_INPUT, 21, 28, "z"},
    /* YAML. */
    {"yaml_syntax_error",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  tensors: [{name: a, shape: [2]}\n" /* unclosed flow sequence: libyaml's problem
                                              * mark is the next token, "layouts" at 5:1
                                              * (PyYAML, the same parser, agrees) */
     "layouts: {x: {mesh: {tp: 1}, place: [{tensor: a}]}}\n",
     SW_INPUT, 5, 1, "YAML"},
    {"yaml_syntax_error_mapping_value",
     "shardwave: 1\n"
     "model:\n"
     "  name: a: b\n" /* libyaml: mapping values are not allowed here, at the second ':' (3:10) */
     "  tensors: [{name: a, shape: [2]}]\n"
     "layouts: {x: {mesh: {tp: 1}, place: [{tensor: a}]}}\n",
     SW_INPUT, 3, 10, "YAML"},
    {"duplicate_yaml_key",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  tensors: [{name: a, shape: [2]}]\n"
     "  name: n\n" /* the second key at 5:3 */
     "layouts: {x: {mesh: {tp: 1}, place: [{tensor: a}]}}\n",
     SW_INPUT, 5, 3, "duplicate"},
    {"duplicate_yaml_key_flow",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  tensors: [{name: a, shape: [2], name: b}]\n" /* second "name" at 4:35 */
     "layouts: {x: {mesh: {tp: 1}, place: [{tensor: a}]}}\n",
     SW_INPUT, 4, 35, "duplicate"},
    /* More of the precise rules. */
    {"let_uses_later_let",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  let: {a: b + 1, b: 2}\n" /* later entries may use earlier ones, not the reverse: 4:12 */
     "  tensors: [{name: t, shape: [a]}]\n"
     "layouts: {x: {mesh: {tp: 1}, place: [{tensor: t}]}}\n",
     SW_INPUT, 4, 12, "undefined"},
    {"range_uses_loop_dependent_let",
     HEAD "      - tensor: a\n"
          "        for: {i: k}\n" /* k depends on i: not usable in the range, 13:18 */
          "        let: {k: i + 1}\n",
     SW_INPUT, 13, 18, "k"},
    {"units_vs_ranks",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  tensors:\n"
     "    - {name: q, shape: [8, 2]}\n"
     "    - {name: k, shape: [6, 2]}\n"
     "layouts:\n"
     "  x:\n"
     "    mesh: {tp: 4}\n"
     "    place:\n"
     "      - as: qk\n"
     "        fuse:\n"
     "          dim: 0\n"
     "          parts:\n"
     "            - {tensor: q, unit: 2}\n"
     "            - {tensor: k, unit: 2}\n" /* 3 units over 4 ranks: 4 % 3 != 0 */
     "        split: {0: tp}\n",
     /* The spec names no position: the split value (17:20), like groups vs tp. */
     SW_INPUT, 17, 20, "units"},
    {"unknown_dtype",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  tensors: [{name: t, shape: [2], dtype: bf17}]\n" /* 4:42 */
     "layouts: {x: {mesh: {tp: 1}, place: [{tensor: t}]}}\n",
     SW_INPUT, 4, 42, "bf17"},
    {"as_missing_on_stack",
     HEAD "      - stack: {over: {e: 2}, item: {tensor: a}}\n", /* the rule at 12:9 */
     SW_INPUT, 12, 9, "as"},
    {"fuse_dim_out_of_range",
     HEAD "      - as: aa\n"
          "        fuse: {dim: 2, parts: [a, a]}\n", /* "2" at 13:21 */
     SW_INPUT, 13, 21, "dim"},
    {"split_dim_out_of_range",
     HEAD "      - {tensor: a, split: {2: tp}}\n", /* the key "2" at 12:29 */
     SW_INPUT, 12, 29, "2"},
    {"unknown_logical_tensor",
     HEAD "      - {tensor: c}\n", /* 12:18 */
     SW_INPUT, 12, 18, "c"},
    {"sync_to_itself",
     HEAD "      - {tensor: a}\n"
          "syncs: [{name: s, from: x, to: x}]\n", /* "x" at 13:32 */
     SW_INPUT, 13, 32, "itself"},
    {"version_quoted",
     "shardwave: \"1\"\n" /* a string, not the integer 1 */
     "model: {name: m, tensors: [{name: a, shape: [2]}]}\n"
     "layouts: {x: {mesh: {tp: 1}, place: [{tensor: a}]}}\n",
     SW_INPUT, 1, 12, "version"},
    /* Valid inputs near the edges (status SW_OK). */
    {"ok_range_uses_loop_independent_let",
     HEAD "      - tensor: a\n"
          "        for: {i: k}\n"
          "        let: {k: tp - 1}\n"
          "        as: \"a{i}\"\n",
     SW_OK, 0, 0, NULL},
    {"ok_expression_split_key_and_where",
     HEAD "      - {tensor: a, split: {\"h / 4 - 1\": tp}, where: {dp: \"min(n, 7) - 1\"}}\n",
     SW_OK, 0, 0, NULL},
    {"ok_uneven_units",
     "shardwave: 1\n"
     "model:\n"
     "  name: m\n"
     "  tensors:\n"
     "    - {name: k, shape: [6, 2]}\n"
     "layouts:\n"
     "  x:\n"
     "    mesh: {tp: 4}\n"
     "    place:\n"
     "      - as: kk\n"
     "        fuse: {dim: 0, parts: [{tensor: k, unit: 2}]}\n"
     "        uneven: true\n"
     "        split: {0: tp}\n",
     SW_OK, 0, 0, NULL},
    /* Section 3 names the keys of `hosts`: gpus_per_host, rank_base and devices; any
     * other (here an alias some tools use) is an unknown key, at the key. */
    {"unknown_key_hosts_first_device",
     "shardwave: 1\n"
     "model: {name: m, tensors: [{name: a, shape: [4]}]}\n"
     "layouts:\n"
     "  x:\n"
     "    mesh: {tp: 2}\n"
     "    hosts: {first_device: 0}\n" /* the key at 6:13 */
     "    place: [{tensor: a}]\n",
     SW_INPUT, 6, 13, "unknown key", NULL},
    /* topology's one extension to section 6: gpus_per_nic (devices sharing a NIC, for the
     * cost model); its value is checked like any other. */
    {"topology_gpus_per_nic_not_positive",
     "shardwave: 1\n"
     "model: {name: m, tensors: [{name: a, shape: [4]}]}\n"
     "layouts: {x: {mesh: {tp: 1}, place: [{tensor: a}]}}\n"
     "topology: {gpus_per_nic: 0}\n", /* the value at 4:26 */
     SW_INPUT, 4, 26, "at least 1", NULL},
    /* -D naming no let constant: a usage error without a position. */
    {"define_unknown_name",
     HEAD "      - {tensor: a}\n", SW_USAGE, 0, 0, "nope", "nope"},
};
#pragma GCC diagnostic pop

/* The skip-fixes-coverage counterpart of incomplete_coverage. */
static const char coverage_skipped[] =
    HEAD "      - {tensor: a}\n" TAIL_Y
         "syncs:\n"
         "  - {name: s, from: x, to: y, skip: [b]}\n";

static void run_case(void **state) {
    const err_case *c = *state;
    if (c->spec_fails && !getenv("SW_RUN_SPEC_FAILS")) skip(); /* set it to run them anyway */
    sw_ir ir;
    sw_error err;
    memset(&err, 0, sizeof err);
    sw_define d = {c->define, 1};
    sw_load_opts o = {&d, 1};
    int rc = sw_load_text("case.yaml", c->yaml, strlen(c->yaml), c->define ? &o : NULL, &ir, &err);
    if (rc == SW_OK) sw_ir_free(&ir);
    char buf[2200];
    sw_error_format(&err, buf, sizeof buf);
    if (getenv("SW_TEST_VERBOSE")) print_message("%s: %s\n", c->name, buf);
    if (rc != c->status || err.line != c->line || err.col != c->col || (c->substr && !strstr(err.msg, c->substr)) ||
        (c->line && strcmp(err.file, "case.yaml")))
        fail_msg("%s: expected status %d at %d:%d containing \"%s\"; got status %d: %s", c->name, c->status, c->line,
                 c->col, c->substr ? c->substr : "", rc, buf);
    if (c->status != SW_OK) assert_true(err.msg[0] != '\0');
}

static void test_skip_fixes_coverage(void **state) {
    (void)state;
    sw_ir ir;
    sw_error err;
    int rc = sw_load_text("case.yaml", coverage_skipped, strlen(coverage_skipped), NULL, &ir, &err);
    if (rc) fail_msg("skip should fix coverage: %s", err.msg);
    assert_int_equal(ir.nsyncs, 1);
    assert_int_equal(ir.syncs[0].nskip, 1);
    sw_ir_free(&ir);
}

/* Every base input of the table minus its defect is not checked here; this one checks
 * that HEAD + TAIL_Y itself is valid, so the defects above are the only ones. */
static void test_head_is_valid(void **state) {
    (void)state;
    static const char ok[] = HEAD "      - {tensor: a}\n      - {tensor: b}\n" TAIL_Y;
    sw_ir ir;
    sw_error err;
    int rc = sw_load_text("case.yaml", ok, strlen(ok), NULL, &ir, &err);
    if (rc) fail_msg("base input: %s", err.msg);
    assert_int_equal(ir.nsyncs, 1); /* implicit default sync x -> y */
    assert_true(ir.implicit_sync);
    sw_ir_free(&ir);
}

int main(void) {
    enum { N = sizeof cases / sizeof *cases };
    struct CMUnitTest tests[N + 2];
    memset(tests, 0, sizeof tests);
    for (size_t i = 0; i < N; i++) {
        tests[i].name = cases[i].name;
        tests[i].test_func = run_case;
        tests[i].initial_state = (void *)&cases[i];
    }
    tests[N] = (struct CMUnitTest)cmocka_unit_test(test_skip_fixes_coverage);
    tests[N + 1] = (struct CMUnitTest)cmocka_unit_test(test_head_is_valid);
    return _cmocka_run_group_tests("test_errors", tests, N + 2, NULL, NULL);
}
