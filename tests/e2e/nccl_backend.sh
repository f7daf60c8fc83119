#!/usr/bin/env bash
# nccl_backend.sh SHARDWAVE - `run --backend nccl` says what it can do on this machine:
#   a build without CUDA/NCCL: "has no CUDA/NCCL", exit 2;
#   a CUDA build on a machine without a GPU: "no CUDA device", exit 3 (a clear skip);
#   with a GPU: the colocated one-rank plan (tests/gpu/colocated_1gpu.sw) validated on
#   the device, one process (an MPI singleton).
# Run from the repository root.
set -u
if [ $# -ne 1 ]; then
    echo "usage: $0 SHARDWAVE" >&2
    exit 2
fi
SW=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$SW" compile tests/gpu/colocated_1gpu.sw -o "$tmp/c1.swp" >/dev/null || { echo "FAIL: compile"; exit 1; }
"$SW" run "$tmp/c1.swp" --backend nccl --validate --iters 3 >"$tmp/out" 2>"$tmp/err"
rc=$?
if grep -q "has no CUDA/NCCL" "$tmp/err"; then
    [ $rc -eq 2 ] || { echo "FAIL: no-CUDA build: exit $rc, want 2"; exit 1; }
    echo "nccl backend: not in this build (exit 2, as it should say): ok"
elif grep -q "no CUDA device" "$tmp/err"; then
    [ $rc -eq 3 ] || { echo "FAIL: no device: exit $rc, want 3"; exit 1; }
    echo "SKIP: nccl backend built, but $(cat "$tmp/err")"
else
    if [ $rc -ne 0 ] || ! grep -q "all match" "$tmp/out"; then
        echo "FAIL: run --backend nccl --validate on one GPU: exit $rc"
        cat "$tmp/out" "$tmp/err"
        exit 1
    fi
    grep -q "warm-up at session open" "$tmp/out" || { echo "FAIL: no warm-up line"; exit 1; }
    echo "nccl backend: colocated plan validated on the device: ok"
fi
echo "1 passed, 0 failed"
