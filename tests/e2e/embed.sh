#!/usr/bin/env bash
# examples/embed: the embedding example (build/shardwave_embed, next to the CLI) loads a
# plan, binds its own memory, syncs 3 times and checks every destination element; with
# the local backend, and with mpi (each process binds its own rank) when built with MPI.
set -u
SW=$1
EMBED=$(dirname "$SW")/shardwave_embed
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
bad() { fail=1; echo "FAIL: $*"; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

"$SW" compile examples/pipeline_tiny.sw --sync pp2_to_pp3 -o "$T/pp.swp" >/dev/null || bad "compile pipeline_tiny"
"$SW" compile examples/llama3-8b.yaml --sync refit -o "$T/ll.swp" \
    -D hidden=64 -D layers=2 -D vocab=1000 -D multiple_of=64 >/dev/null || bad "compile llama3-8b"
for plan in "$T/pp.swp" "$T/ll.swp"; do
    if "$EMBED" "$plan" >"$T/out" 2>&1 && grep -q "all match" "$T/out"; then cat "$T/out"; else bad "local $plan: $(tail -3 "$T/out")"; fi
done
# usage and error handling: a missing plan is an error message and exit 1, not a crash
if "$EMBED" "$T/missing.swp" >"$T/out" 2>&1; then bad "a missing plan succeeded"; fi
grep -q "embed: .*error" "$T/out" || bad "a missing plan: no error message: $(cat "$T/out")"
if "$EMBED" >/dev/null 2>&1; then bad "no arguments succeeded"; fi

if command -v mpirun >/dev/null && ! "$EMBED" "$T/pp.swp" --mpi 2>&1 | grep -q "no MPI"; then
    # pipeline_tiny pp2 -> pp3 uses global ranks 0..6
    # (ASAN_OPTIONS: under AddressSanitizer, OpenMPI's own allocations at exit read as leaks)
    if ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} timeout 120 mpirun --oversubscribe -np 7 "$EMBED" "$T/pp.swp" --mpi >"$T/out" 2>&1 && grep -q "all match" "$T/out"; then
        cat "$T/out"
    else
        bad "mpi -np 7: $(tail -5 "$T/out")"
    fi
fi
[ $fail = 0 ] && echo "embed: ok"
exit $fail
