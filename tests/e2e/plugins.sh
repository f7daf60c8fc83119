#!/usr/bin/env bash
# plugins.sh SHARDWAVE - the mpi and nccl backends are plugins loaded when asked for
# (runtime/plugin.h), and when one cannot be loaded the message says which backend, where
# it looked and what is missing:
#   - the command itself needs neither MPI nor CUDA nor NCCL (ldd);
#   - SHARDWAVE_PLUGIN_DIR at an empty folder: "needs its plugin libshardwave-mpi.so,
#     which is not installed", naming the folder, exit 3;
#   - a plugin that needs a library that is not there: the loader's reason ("libX.so:
#     cannot open shared object file") and what to install, exit 3;
#   - a plugin of another version: refused, saying so, exit 3;
#   - the local backend needs no plugin at all.
# A build without MPI or CUDA says that instead (exit 2).  Run from the repository root.
set -u
SW=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
CC=${CC:-cc}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

deps=$(ldd "$SW" | grep -E 'libmpi|libcudart|libnccl|libshardwave')
[ -z "$deps" ] && ok || bad "the command needs: $deps"
"$SW" compile examples/pipeline_tiny.sw --sync pp2_to_pp3 -o "$T/pp.swp" >/dev/null || { echo "FAIL: compile"; exit 1; }
mkdir -p "$T/empty" "$T/dep" "$T/old"
SHARDWAVE_PLUGIN_DIR=$T/empty "$SW" run "$T/pp.swp" --backend local --validate >"$T/out" 2>&1 && grep -q "all match" "$T/out" \
    && ok || bad "local backend with no plugins: $(tail -2 "$T/out")"

# a plugin that needs a library that is not there: built against a libswgone.so, removed
printf 'int sw_gone(void) { return 0; }\n' >"$T/gone.c"
printf 'int sw_gone(void);\nconst void *sw_plugin_entry_v1(void) { return (const void *)(long)sw_gone(); }\n' >"$T/needs.c"
$CC -shared -fPIC -o "$T/libswgone.so" "$T/gone.c" || bad "cc gone"
# a plugin of another version: this build's table, another version string
cat >"$T/old.c" <<'C'
#include "plugin.h"
static const sw_plugin table = {SW_PLUGIN_HEADER("BACKEND"), .version = "0.0.1"};
const sw_plugin *sw_plugin_entry_v1(void) { return &table; }
C
for b in mpi nccl; do
    SHARDWAVE_PLUGIN_DIR=$T/empty "$SW" run "$T/pp.swp" --backend $b >"$T/out" 2>&1; rc=$?
    if grep -q "has no" "$T/out"; then
        # this build leaves the backend out: a usage error, and nothing more to check
        [ $rc = 2 ] && ok || bad "$b not built: exit $rc, want 2"
        continue
    fi
    if [ $b = nccl ] && grep -q "no CUDA device" "$T/out"; then bad "$b: the device was checked before the plugin loaded"; fi
    [ $rc = 3 ] && grep -q "the $b backend needs its plugin libshardwave-$b.so, which is not installed: not in $T/empty/libshardwave-$b.so (SHARDWAVE_PLUGIN_DIR), nor on the loader path" "$T/out" \
        && ok || bad "$b, no plugin: exit $rc: $(cat "$T/out")"

    $CC -shared -fPIC -o "$T/dep/libshardwave-$b.so" "$T/needs.c" -L"$T" -lswgone || bad "cc needs"
    SHARDWAVE_PLUGIN_DIR=$T/dep "$SW" run "$T/pp.swp" --backend $b >"$T/out" 2>&1; rc=$?
    [ $rc = 3 ] && grep -q "the $b backend needs libswgone.so: cannot open shared object file.* (loading $T/dep/libshardwave-$b.so): install" "$T/out" \
        && ok || bad "$b, a library missing: exit $rc: $(cat "$T/out")"

    sed "s/BACKEND/$b/" "$T/old.c" >"$T/old_$b.c"
    $CC -std=c11 -shared -fPIC -o "$T/old/libshardwave-$b.so" "$T/old_$b.c" -Iinclude -Ibase -Iplan -Iruntime || bad "cc old"
    SHARDWAVE_PLUGIN_DIR=$T/old "$SW" run "$T/pp.swp" --backend $b >"$T/out" 2>&1; rc=$?
    [ $rc = 3 ] && grep -q "the $b backend's plugin $T/old/libshardwave-$b.so cannot be used: it is another version" "$T/out" \
        && ok || bad "$b, another version: exit $rc: $(cat "$T/out")"
done
# the embedding API says the same (examples/embed links libshardwave-runtime.so; its own
# MPI_Init then a session of the mpi backend)
EMBED=$(dirname "$SW")/shardwave_embed
if [ -x "$EMBED" ] && "$SW" compile tests/gpu/colocated_1gpu.sw -o "$T/one.swp" >/dev/null 2>&1 \
    && ! SHARDWAVE_PLUGIN_DIR=$T/empty "$EMBED" "$T/one.swp" --mpi 2>&1 | grep -q "no MPI"; then
    SHARDWAVE_PLUGIN_DIR=$T/empty "$EMBED" "$T/one.swp" --mpi >"$T/out" 2>&1; rc=$?
    [ $rc != 0 ] && grep -q "the mpi backend needs its plugin libshardwave-mpi.so" "$T/out" && ok \
        || bad "embed --mpi without the plugin: exit $rc: $(cat "$T/out")"
fi
# A machine without CUDA: where this user may make a private mount namespace (root), hide
# the folders the nccl plugin finds libcudart and libnccl in; the command still runs
# plans locally, and the nccl backend names the library it misses.
NCCL_PLUGIN=$(dirname "$SW")/libshardwave-nccl.so
if [ -f "$NCCL_PLUGIN" ] && unshare -m true 2>/dev/null; then
    hide=$(ldd "$NCCL_PLUGIN" | awk '/libcudart|libnccl/ {print $3}' | xargs -r -n1 realpath | xargs -r -n1 dirname | sort -u | tr '\n' ' ')
    # shellcheck disable=SC2016
    unshare -m bash -c 'for d in $1; do mount -t tmpfs none "$d" || exit 9; done
        "$2" run "$3" --backend local --validate >"$4/local" 2>&1; echo $? >"$4/local.rc"
        "$2" run "$3" --backend nccl --validate >"$4/out" 2>&1; echo $? >"$4/rc"' _ "$hide" "$SW" "$T/pp.swp" "$T"
    grep -q "all match" "$T/local" 2>/dev/null && [ "$(cat "$T/local.rc")" = 0 ] && ok \
        || bad "without CUDA ($hide hidden): local run: $(cat "$T/local" 2>/dev/null)"
    [ "$(cat "$T/rc" 2>/dev/null)" = 3 ] && grep -Eq "the nccl backend needs lib(cudart|nccl)[^ ]*: cannot open shared object file.*\(loading [^)]*/libshardwave-nccl\.so\): install the CUDA runtime and NCCL" "$T/out" \
        && { ok; echo "without CUDA: $(cat "$T/out")"; } || bad "without CUDA ($hide hidden): $(cat "$T/out" 2>/dev/null)"
fi
echo "plugins: $pass passed, $fail failed"
[ $fail = 0 ]
