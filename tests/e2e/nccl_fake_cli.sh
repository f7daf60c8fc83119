#!/usr/bin/env bash
# nccl_fake_cli.sh SHARDWAVE - `shardwave run --backend nccl` on the CPU: the command with
# the nccl plugin built over the fake CUDA runtime and NCCL (build/fake-nccl/, preloaded:
# tests/fake/fake_cuda.h), one process (an MPI singleton), a one-rank plan validated on
# the fake device; and the device the command picks: the launcher's local rank first
# (LOCAL_RANK), modulo the devices.  Skips (exit 0, says so) in a build without the
# fakes (no CUDA/NCCL headers) or without MPI.
# Run from the repository root.
set -u
SW=$1
B=$(cd "$(dirname "$SW")" && pwd)
FAKE=$B/fake-nccl
if [ ! -f "$FAKE/libswfakecuda.so" ] || [ ! -f "$FAKE/libshardwave-nccl.so" ] || [ ! -f "$B/libshardwave-mpi.so" ]; then
    echo "SKIP: no fake nccl plugin or no mpi plugin in $B"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
"$SW" compile tests/gpu/colocated_1gpu.sw -o "$tmp/c1.swp" >/dev/null || { echo "FAIL: compile"; exit 1; }
# the mpi plugin from the build, the nccl one over the fakes
mkdir -p "$tmp/plugins"
ln -s "$B/libshardwave-mpi.so" "$tmp/plugins/"
ln -s "$FAKE/libshardwave-nccl.so" "$tmp/plugins/"
run() { # run ENV... : the command under the fakes
    env SHARDWAVE_PLUGIN_DIR="$tmp/plugins" LD_PRELOAD="$FAKE/libswfakecuda.so" FAKE_TRACE=1 "$@" \
        "$SW" run "$tmp/c1.swp" --backend nccl --validate --iters 3 >"$tmp/out" 2>"$tmp/err"
}
run FAKE_DEVICES=4 LOCAL_RANK=3
rc=$?
if [ $rc -ne 0 ] || ! grep -q "all match" "$tmp/out"; then
    echo "FAIL: run --backend nccl --validate over the fakes: exit $rc"; cat "$tmp/out" "$tmp/err"; fail=1
elif ! grep -q "warm-up at session open" "$tmp/out"; then
    echo "FAIL: no warm-up line"; cat "$tmp/out"; fail=1
elif [ "$(grep -m1 'cudaSetDevice' "$tmp/err")" != "fake cuda: cudaSetDevice(3)" ]; then
    echo "FAIL: LOCAL_RANK=3 of 4 devices: $(grep -m1 cudaSetDevice "$tmp/err")"; fail=1
else
    echo "run --backend nccl over the fakes, LOCAL_RANK=3 of 4 devices: device 3, validated: ok"
fi
run FAKE_DEVICES=2 LOCAL_RANK=5
if [ "$(grep -m1 'cudaSetDevice' "$tmp/err")" != "fake cuda: cudaSetDevice(1)" ]; then
    echo "FAIL: LOCAL_RANK=5 of 2 devices: $(grep -m1 cudaSetDevice "$tmp/err")"; cat "$tmp/err"; fail=1
else
    echo "LOCAL_RANK=5 of 2 devices: device 1: ok"
fi
# no launcher variable: the plan's device of rank 0 (device 0)
run FAKE_DEVICES=2 LOCAL_RANK= OMPI_COMM_WORLD_LOCAL_RANK= MPI_LOCALRANKID=
if [ "$(grep -m1 'cudaSetDevice' "$tmp/err")" != "fake cuda: cudaSetDevice(0)" ]; then
    echo "FAIL: no local rank: $(grep -m1 cudaSetDevice "$tmp/err")"; cat "$tmp/err"; fail=1
else
    echo "no local rank: the plan's device 0: ok"
fi
[ $fail -eq 0 ] && echo "3 passed, 0 failed" || exit 1
