#!/usr/bin/env bash
# Runs each libFuzzer harness for SECONDS: fuzz/run.sh BUILD_DIR SECONDS [HARNESS...]
# (default: fuzz_yaml fuzz_dsl fuzz_plan).  Each starts from its committed seeds
# (fuzz/corpus/<kind>) plus what earlier runs found (BUILD_DIR/fuzz-corpus/<kind>, where
# new inputs go: the committed corpus is not changed), with ASan+UBSan, a 10 s limit per
# input and 2 GiB of memory.  A crash, leak, timeout or oracle failure leaves its input in
# BUILD_DIR/fuzz-artifacts/ and makes this exit non-zero.  Prints the executions of each.
set -u
B=$(realpath "$1")
S=$2
shift 2
HARNESSES=${*:-fuzz_yaml fuzz_dsl fuzz_plan}
SRC=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$B/fuzz-artifacts"
status=0
total=0
for h in $HARNESSES; do
    kind=${h#fuzz_}
    work="$B/fuzz-corpus/$kind"
    mkdir -p "$work"
    dict=()
    [ "$kind" != plan ] && dict=(-dict="$SRC/layout.dict")
    log="$B/fuzz-$kind.log"
    "$B/$h" -max_total_time="$S" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$B/fuzz-artifacts/$kind-" "${dict[@]}" "$work" "$SRC/corpus/$kind" >"$log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
    total=$((total + ${execs:-0}))
    if [ $rc != 0 ]; then
        status=1
        echo "fuzz $kind: FAILED (exit $rc) after ${execs:-?} executions; the input is in $B/fuzz-artifacts/; log $log:"
        grep -E "ERROR|fuzz oracle|SUMMARY|Test unit written|runtime error" "$log" | head -8
    else
        echo "fuzz $kind: ${execs:-?} executions in $S s, no failure ($cov)"
    fi
done
echo "fuzz: $total executions in all"
exit $status
