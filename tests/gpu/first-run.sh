#!/usr/bin/env bash
# tests/gpu/first-run.sh - the nccl backend's first GPU run, in the order of the review's
# "First GPU run" (../shared/reviews/nccl-backend.md, docs/nccl.md): one summary line
# per step, full logs in $SW_GPU_LOGS (default build-gpu/first-run/), exit 1 when a step
# fails, 0 when none did (steps that cannot run here say SKIP and why).  Without a GPU it
# prints one line and exits 77.
#
#   0 probe       F1 on this driver (cudaEventQuery's cudaErrorNotReady left as the
#                 thread's last error?), the runtime's and the headers' NCCL versions
#   1 build       cmake -B build-gpu (CUDA archs of this GPU), nccl backend ON
#   2 ctest gpu   ctest -L gpu: test_nccl (F1 launch probe, kernels vs CPU on the
#                 conformance and mixed-dtype plans, self send, colocated session),
#                 bench_nccl_pack
#   3 sanitizers  compute-sanitizer memcheck, racecheck, synccheck on test_nccl
#   4 single GPU  shardwave run colocated_1gpu --backend nccl --validate (e2e_nccl_backend)
#   5 mixed F2    the mixed-dtype plans' kernels against the CPU (test_nccl kernels_vs_cpu)
#   6 CUDA IPC    2 and 8 processes on one GPU (review_f2.sw, llama_tiny.sw), validated:
#                 same-GPU messages through CUDA IPC, no NCCL (F3)
#   7 NCCL 1 GPU  4 NCCL ranks on one GPU, each its own NCCL_HOSTID (fp8_scales.sw),
#                 validated: pack -> ncclSend -> ncclRecv -> unpack with real messages
#                 (F12), then one rank stopped: the others time out naming it (F5/F8)
#   8 bench       bench_nccl_pack, then again with CUDA_MODULE_LOADING=EAGER (F6)
#
# Usage: tests/gpu/first-run.sh [BUILD_DIR]   (from the repository root; default build-gpu)
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${1:-build-gpu}
LOGS=${SW_GPU_LOGS:-$B/first-run}
SECONDS=0

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
    echo "first-run: SKIP: no GPU here (nvidia-smi finds none)"
    exit 77
fi
mkdir -p "$LOGS"
fails=0
summary() { # summary STEP NAME STATUS DETAIL
    printf '%-2s %-12s %-4s %s\n' "$1" "$2" "$3" "$4"
    [ "$3" = FAIL ] && fails=$((fails + 1))
    return 0
}
tmo() { timeout --kill-after=10 "$@"; }
echo "first-run: $(nvidia-smi -L | head -1); $(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1) driver; logs in $LOGS"

# ---- 0: the F1 probe and the NCCL versions ------------------------------------------
NVCC=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
cat >"$LOGS/probe.cu" <<'EOF'
#include <cstdio>
#include <cuda_runtime.h>
#include <nccl.h>
__global__ void spin(long long cycles) { long long t = clock64(); while (clock64() - t < cycles) {} }
int main() {
    cudaEvent_t ev;
    cudaEventCreateWithFlags(&ev, cudaEventDisableTiming);
    spin<<<1, 1>>>(1LL << 31); /* ~1 s */
    cudaEventRecord(ev, 0);
    cudaError_t q = cudaEventQuery(ev);
    cudaError_t last = cudaGetLastError();
    int v = 0;
    ncclGetVersion(&v);
    printf("cudaEventQuery while a kernel runs: %d (%s); then cudaGetLastError: %d (%s)\n", (int)q, cudaGetErrorName(q),
           (int)last, cudaGetErrorName(last));
    printf("NCCL runtime %d, headers %d\n", v, NCCL_VERSION_CODE);
    cudaDeviceSynchronize();
    return 0;
}
EOF
if "$NVCC" -O1 -o "$LOGS/probe" "$LOGS/probe.cu" -lnccl >"$LOGS/0-probe.log" 2>&1 && tmo 60 "$LOGS/probe" >>"$LOGS/0-probe.log" 2>&1; then
    q=$(grep -o "then cudaGetLastError: [0-9]*" "$LOGS/0-probe.log" | grep -o "[0-9]*$")
    f1="F1 confirmed on this driver (NotReady stays the last error: the fixes matter)"
    [ "$q" = 0 ] && f1="NotReady not left as the last error on this driver"
    summary 0 probe PASS "$f1; $(grep -o 'NCCL runtime.*' "$LOGS/0-probe.log")"
else
    summary 0 probe FAIL "see $LOGS/0-probe.log"
fi

# ---- 1: build ---------------------------------------------------------------------------
JOBS=$(nproc 2>/dev/null || echo 8)
if tmo 900 cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CUDA_ARCHITECTURES=native >"$LOGS/1-build.log" 2>&1 &&
    tmo 900 cmake --build "$B" -j "$JOBS" >>"$LOGS/1-build.log" 2>&1; then
    if grep -q "nccl backend ON" "$LOGS/1-build.log" || grep -q "SW_HAVE_NCCL" "$B/CMakeCache.txt" 2>/dev/null ||
        [ -f "$B/libshardwave-nccl.so" ]; then
        summary 1 build PASS "$B (nccl backend ON), $SECONDS s so far"
    else
        summary 1 build FAIL "the nccl backend is OFF (CUDA or NCCL not found): $LOGS/1-build.log"
        echo "first-run: $fails step(s) failed"
        exit 1
    fi
else
    summary 1 build FAIL "see $LOGS/1-build.log"
    echo "first-run: $fails step(s) failed"
    exit 1
fi
SW=$B/shardwave

# ---- 2: ctest -L gpu ------------------------------------------------------------------
if tmo 600 ctest --test-dir "$B" -L gpu --output-on-failure >"$LOGS/2-ctest-gpu.log" 2>&1; then
    summary 2 "ctest gpu" PASS "$(grep -E 'tests passed' "$LOGS/2-ctest-gpu.log" | tail -1)"
else
    summary 2 "ctest gpu" FAIL "$(grep -E 'tests passed|Failed|FAILED' "$LOGS/2-ctest-gpu.log" | tail -2 | tr '\n' ' ')"
fi

# ---- 3: compute-sanitizer -------------------------------------------------------------
CS=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
if [ -x "$CS" ]; then
    for tool in memcheck racecheck synccheck; do
        # racecheck and synccheck: the kernels' shared-memory descriptor and barriers; the
        # self send and the session need NCCL, which these tools do not follow: kernels only
        filter=""
        [ $tool != memcheck ] && filter=test_kernels_vs_cpu
        if TEST_FILTER=$filter tmo 900 "$CS" --tool $tool --error-exitcode 9 "$B/test_nccl" >"$LOGS/3-$tool.log" 2>&1; then
            summary 3 "$tool" PASS "$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$LOGS/3-$tool.log" | tail -1)"
        else
            summary 3 "$tool" FAIL "$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY|Invalid|error' "$LOGS/3-$tool.log" | head -2 | tr '\n' ' ')"
        fi
    done
else
    summary 3 sanitizers SKIP "no compute-sanitizer"
fi

# ---- 4: a validated single-GPU run through the command --------------------------------
if tmo 300 ctest --test-dir "$B" -R e2e_nccl_backend --output-on-failure >"$LOGS/4-single.log" 2>&1; then
    summary 4 "single GPU" PASS "$(grep -E 'validated|SKIP' "$LOGS/4-single.log" | head -1)"
else
    summary 4 "single GPU" FAIL "see $LOGS/4-single.log"
fi

# ---- 5: mixed dtypes, kernels against the CPU (F2) ------------------------------------
if TEST_FILTER=test_kernels_vs_cpu tmo 600 "$B/test_nccl" >"$LOGS/5-mixed.log" 2>&1; then
    summary 5 "mixed F2" PASS "kernels = CPU on tests/mixed (fp8 + fp32 scales, fp32 norms among bf16, odd sizes)"
else
    summary 5 "mixed F2" FAIL "$(grep -E 'differs|misaligned|ERROR' "$LOGS/5-mixed.log" | head -2 | tr '\n' ' ')"
fi

MPIRUN=$(command -v mpirun || true)
mpi() { "$MPIRUN" --allow-run-as-root --oversubscribe "$@"; }

# ---- 6: processes sharing one GPU: CUDA IPC (F3) --------------------------------------
if [ -n "$MPIRUN" ]; then
    ok=1
    for spec in "tests/mixed/review_f2.sw:2" "examples/llama_tiny.sw:8"; do
        f=${spec%%:*}
        n=${spec##*:}
        "$SW" compile "$f" -o "$LOGS/ipc.swp" >>"$LOGS/6-ipc.log" 2>&1
        # every process on device 0 (CUDA_VISIBLE_DEVICES): the plan's GPU sharing, for real
        if ! CUDA_VISIBLE_DEVICES=0 tmo 300 mpi -np "$n" "$SW" run "$LOGS/ipc.swp" --backend nccl --validate --iters 5 \
            --timeout 60 >>"$LOGS/6-ipc.log" 2>&1 || ! tail -1 "$LOGS/6-ipc.log" | grep -q "all match"; then
            ok=0
        fi
    done
    if [ $ok = 1 ]; then
        summary 6 "CUDA IPC" PASS "2 and 8 processes on one GPU validated; $(grep 'steady state' "$LOGS/6-ipc.log" | tail -1 | sed 's/^ *//')"
    else
        summary 6 "CUDA IPC" FAIL "see $LOGS/6-ipc.log"
    fi
else
    summary 6 "CUDA IPC" SKIP "no mpirun"
fi

# ---- 7: NCCL ranks on one GPU (NCCL_HOSTID), real messages, a stopped peer -------------
# nccl_args TIMEOUT PIDFILE ITERS: 4 ranks, each its own NCCL_HOSTID (NCCL's duplicate-GPU check
# and shardwave's see 4 hosts), all on device 0; with PIDFILE, rank 3 runs under a shell
# that writes its process id there (to stop exactly that process)
nccl_args() {
    args=()
    for r in 0 1 2 3; do
        [ $r -gt 0 ] && args+=(":")
        args+=(-np 1 env "NCCL_HOSTID=h$r" NCCL_P2P_DISABLE=1 NCCL_SHM_DISABLE=1 NCCL_DEBUG=WARN CUDA_VISIBLE_DEVICES=0)
        if [ $r = 3 ] && [ -n "$2" ]; then
            args+=(sh -c 'echo $$ > "$0"; exec "$@"' "$2")
        fi
        args+=("$SW" run "$LOGS/nccl.swp" --backend nccl --validate --iters "${3:-5}" --timeout "$1")
    done
}
if [ -n "$MPIRUN" ]; then
    "$SW" compile tests/mixed/fp8_scales.sw -o "$LOGS/nccl.swp" >"$LOGS/7-nccl.log" 2>&1
    nccl_args 60 ""
    if tmo 300 mpi "${args[@]}" >>"$LOGS/7-nccl.log" 2>&1 && grep -q "all match" "$LOGS/7-nccl.log"; then
        st="4 NCCL ranks validated; $(grep 'steady state' "$LOGS/7-nccl.log" | tail -1 | sed 's/^ *//')"
        # the timeout: rank 3 stopped (SIGSTOP, by its process id) while the others sync
        rm -f "$LOGS/rank3.pid"
        nccl_args 5 "$LOGS/rank3.pid" 1000000 # syncs until the stop
        (tmo 120 mpi "${args[@]}" >"$LOGS/7-timeout.log" 2>&1) &
        bg=$!
        for _ in $(seq 50); do [ -s "$LOGS/rank3.pid" ] && break; sleep 0.1; done
        sleep 3 # its session is open (the warm-up) before it stops
        pid=$(cat "$LOGS/rank3.pid" 2>/dev/null || true)
        [ -n "$pid" ] && kill -STOP "$pid" 2>/dev/null
        wait $bg
        [ -n "$pid" ] && { kill -CONT "$pid" 2>/dev/null; kill -KILL "$pid" 2>/dev/null; }
        if grep -q "not done after 5 s (NCCL communicator aborted)" "$LOGS/7-timeout.log"; then
            summary 7 "NCCL 1 GPU" PASS "$st; a stopped rank named by the others after 5 s"
        else
            summary 7 "NCCL 1 GPU" FAIL "$st; with rank 3 stopped nobody said 'not done after 5 s': $LOGS/7-timeout.log"
        fi
    else
        summary 7 "NCCL 1 GPU" FAIL "see $LOGS/7-nccl.log"
    fi
else
    summary 7 "NCCL 1 GPU" SKIP "no mpirun"
fi

# ---- 8: bench_nccl_pack, lazy and eager module loading (F6) ----------------------------
if tmo 300 "$B/bench_nccl_pack" >"$LOGS/8-bench.log" 2>&1 &&
    CUDA_MODULE_LOADING=EAGER tmo 300 "$B/bench_nccl_pack" >"$LOGS/8-bench-eager.log" 2>&1; then
    low=$(grep -c "below the 0.8 goal" "$LOGS/8-bench.log")
    summary 8 bench PASS "$(grep -c ratio "$LOGS/8-bench.log") cases, $low below the 0.8 goal (see $LOGS/8-bench.log)"
else
    summary 8 bench FAIL "$(tail -1 "$LOGS/8-bench.log")"
fi

echo "first-run: $fails step(s) failed, $SECONDS s"
[ $fails -eq 0 ]
