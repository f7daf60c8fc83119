#!/usr/bin/env bash
# Fault injection for `run --backend mpi`: one rank's plan missing, corrupt or another
# plan, the wrong number of processes, a rank that never opens its session (stopped), and
# a rank killed or stopped in the middle of the syncs.  Every case must end with a
# non-zero exit of the job within --timeout + 30 s, say which rank had which problem
# (where one process can know it), and leave no process behind.  $1 is the shardwave
# binary.  Skips (exit 0, says so) when this build or machine has no MPI.
set -u
SW=$(realpath "$1")
T=$(mktemp -d)
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
leftovers() { pgrep -f "$T/" 2>/dev/null | grep -v "^$$\$" || true; }
cleanup() {
    for p in $(leftovers); do kill -9 "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
if ! command -v mpirun >/dev/null || "$SW" run /dev/null --backend mpi 2>&1 | grep -q "no MPI"; then
    echo "faults: skipped (no MPI in this build or on this machine)"
    exit 0
fi
TMO=5          # --timeout of every run
LIMIT=$((TMO + 30))

# Two plans of the same layouts (4 ranks): another bucket makes another plan.
cat >"$T/m.yaml" <<'EOF'
shardwave: 1
model:
  name: m
  dtype: fp32
  let: {h: 64}
  tensors:
    - {name: w, shape: [h, h]}
    - {name: v, shape: [h]}
layouts:
  a:
    mesh: {tp: 2}
    place: [{tensor: w, split: {0: tp}}, {tensor: v}]
  b:
    first_rank: 2
    mesh: {tp: 2}
    place: [{tensor: w, split: {1: tp}}, {tensor: v, split: {0: tp}}]
syncs:
  - {name: s, from: a, to: b, bucket: 8KiB}
EOF
sed 's/bucket: 8KiB/bucket: 4KiB/' "$T/m.yaml" >"$T/m2.yaml"
"$SW" compile "$T/m.yaml" -o "$T/p.swp" >/dev/null || { bad "compile"; exit 1; }
"$SW" compile "$T/m2.yaml" -o "$T/other.swp" >/dev/null || { bad "compile 2"; exit 1; }
cmp -s "$T/p.swp" "$T/other.swp" && bad "the two plans are the same bytes"
cp "$T/p.swp" "$T/corrupt.swp"
printf '\x55' | dd of="$T/corrupt.swp" bs=1 seek=300 conv=notrunc 2>/dev/null

# A process that initialises MPI and then never opens a session (stuck elsewhere).
STUCK=""
if command -v mpicc >/dev/null; then
    cat >"$T/stuck.c" <<'EOF'
#include <mpi.h>
#include <unistd.h>
int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    for (;;) pause();
}
EOF
    mpicc -o "$T/stuck" "$T/stuck.c" 2>/dev/null && STUCK="$T/stuck"
fi

# Each process runs this: the plan of its rank (PLAN_<k>, else PLAN); STUCK_RANK runs the
# stuck process instead.
cat >"$T/rank.sh" <<EOF
#!/usr/bin/env bash
r=\$OMPI_COMM_WORLD_RANK
v=PLAN_\$r
[ "\${STUCK_RANK:-x}" = "\$r" ] && exec "$STUCK"
exec "$SW" run "\${!v:-\$PLAN}" --backend mpi --timeout $TMO "\$@"
EOF
chmod +x "$T/rank.sh"

# run_case LABEL EXPECT_REGEX NP [env...] -- [run args]: the job must fail in time,
# print EXPECT_REGEX (if not empty), leave nothing behind.
run_case() {
    local label=$1 expect=$2 np=$3
    shift 3
    local envs=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    local start end rc
    start=$(date +%s)
    env PLAN="$T/p.swp" "${envs[@]}" timeout $((LIMIT + 30)) mpirun --oversubscribe -np "$np" "$T/rank.sh" "$@" \
        >"$T/out" 2>&1
    rc=$?
    end=$(date +%s)
    sleep 1
    local left
    left=$(leftovers)
    if [ "$rc" = 0 ]; then bad "$label: exit 0"; return; fi
    if [ $((end - start)) -gt $LIMIT ]; then bad "$label: took $((end - start)) s (limit $LIMIT)"; return; fi
    if [ -n "$expect" ] && ! grep -Eq "$expect" "$T/out"; then
        bad "$label: no '$expect' in: $(grep -v '^\[\|^-\|^$' "$T/out" | head -3)"
        return
    fi
    if [ -n "$left" ]; then bad "$label: processes left: $left"; return; fi
    echo "ok: $label: exit $rc after $((end - start)) s"
    ok
}

# a healthy run first: the harness itself works
if PLAN="$T/p.swp" timeout 60 mpirun --oversubscribe -np 4 "$T/rank.sh" --validate >"$T/out" 2>&1 &&
    grep -q "all match" "$T/out"; then ok; else bad "healthy run: $(tail -3 "$T/out")"; fi

run_case "rank 2's plan missing" "rank 2 cannot open its session: cannot open plan '.*nope.swp'" 4 \
    PLAN_2="$T/nope.swp" --
run_case "rank 1's plan corrupt" "rank 1 cannot open its session: .*checksum mismatch" 4 PLAN_1="$T/corrupt.swp" --
run_case "rank 3 has another plan" "rank 3 opened another plan than rank 0" 4 PLAN_3="$T/other.swp" --
run_case "rank 0 has another plan" "rank [123] opened another plan than rank 0" 4 PLAN_0="$T/other.swp" --
run_case "every rank's plan corrupt" "rank 0 cannot open its session: .*checksum mismatch.*\(ranks 1, 2, 3 failed too\)" 4 \
    PLAN="$T/corrupt.swp" --
run_case "-np 3 (too few)" "launch 4 processes" 3 --
run_case "-np 6 (too many)" "launch 4 processes" 6 --
if [ -n "$STUCK" ]; then
    run_case "rank 1 never opens its session" "not every process of the communicator took part within $TMO s" 4 \
        STUCK_RANK=1 --
else
    echo "faults: no mpicc: the case of a rank that never opens is not run"
fi
mkfifo "$T/fifo"
run_case "a FIFO as the plan on rank 3" "rank 3 cannot open its session: .*not a regular file" 4 PLAN_3="$T/fifo" --
run_case "a directory as the plan on rank 2" "rank 2 cannot open its session: .*not a regular file" 4 PLAN_2="$T" --

# in the middle of the syncs: kill -9 or stop one rank (after its first syncs)
mid_case() { # LABEL SIGNAL
    local label=$1 sig=$2 victim="" start end rc
    PLAN="$T/p.swp" mpirun --oversubscribe -np 4 "$T/rank.sh" --iters 1000000 >"$T/out" 2>&1 &
    local job=$!
    for _ in $(seq 1 150); do
        victim=$(pgrep -f "shardwave run $T/p.swp" | sort -n | sed -n 3p)
        [ -n "$victim" ] && grep -q "^run " "$T/out" 2>/dev/null && break
        sleep 0.2
    done
    sleep 0.5
    start=$(date +%s)
    [ -n "$victim" ] && kill "-$sig" "$victim"
    ( sleep $((LIMIT + 30)); kill -9 $job 2>/dev/null ) &
    local guard=$!
    wait $job
    rc=$?
    end=$(date +%s)
    kill $guard 2>/dev/null
    wait $guard 2>/dev/null
    sleep 1
    local left
    left=$(leftovers)
    if [ -z "$victim" ]; then bad "$label: no victim found: $(tail -3 "$T/out")"; return; fi
    if [ "$rc" = 0 ]; then bad "$label: exit 0"; return; fi
    if [ $((end - start)) -gt $LIMIT ]; then bad "$label: took $((end - start)) s (limit $LIMIT)"; return; fi
    if grep -q "all match" "$T/out"; then bad "$label: reported success"; return; fi
    if [ -n "$left" ]; then bad "$label: processes left: $left"; return; fi
    echo "ok: $label: exit $rc after $((end - start)) s"
    ok
}
mid_case "rank killed mid-run (SIGKILL)" KILL
mid_case "rank stopped mid-run (SIGSTOP)" STOP

# a sub-second --timeout is said as given (was: "not done after 0 s")
run_case "rank 2 stopped, --timeout 0.5" "(after|within) 0.5 s" 4 STUCK_RANK=2 -- --timeout 0.5

# the launcher itself goes: SIGTERM (what `timeout` sends) and SIGKILL to mpirun in the
# middle of the syncs; no rank may stay behind (a rank re-parented notices within 1 s)
launcher_case() { # LABEL SIGNAL
    local label=$1 sig=$2 start end rc
    PLAN="$T/p.swp" mpirun --oversubscribe -np 4 "$T/rank.sh" --iters 1000000 >"$T/out" 2>&1 &
    local job=$!
    for _ in $(seq 1 150); do
        grep -q "^run " "$T/out" 2>/dev/null && break
        sleep 0.2
    done
    sleep 0.5
    start=$(date +%s)
    kill "-$sig" $job
    wait $job
    rc=$?
    for _ in $(seq 1 20); do
        [ -z "$(leftovers)" ] && break
        sleep 0.5
    done
    end=$(date +%s)
    local left
    left=$(leftovers)
    if [ "$rc" = 0 ]; then bad "$label: exit 0"; return; fi
    if [ -n "$left" ]; then bad "$label: processes left after $((end - start)) s: $left"; return; fi
    echo "ok: $label: exit $rc, no process left after $((end - start)) s"
    ok
}
launcher_case "mpirun terminated mid-run (SIGTERM)" TERM
launcher_case "mpirun killed mid-run (SIGKILL)" KILL

# the C API: sw_session_open agrees (another plan on one rank, a rank without its plan:
# sw_session_fail_open); every process gets the same error
BUILD=$(dirname "$SW")
if command -v mpicc >/dev/null && [ -f "$BUILD/libshardwave-runtime.so" ]; then
    cat >"$T/api.c" <<'EOF'
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include "shardwave.h"
int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int me;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    char var[32];
    snprintf(var, sizeof var, "PLAN_%d", me);
    const char *path = getenv(var) ? getenv(var) : getenv("PLAN");
    sw_plan *p = NULL;
    sw_session *s = NULL;
    sw_error err, why;
    sw_session_opts so = {.struct_size = sizeof so, .timeout_s = 5};
    int rc = sw_plan_load(&p, path, &why) ? sw_session_fail_open(me, SW_BACKEND_MPI, &so, &why, &err)
                                           : sw_session_open(&s, p, me, SW_BACKEND_MPI, &so, &err);
    char buf[2200];
    printf("api rank %d: %d %s\n", me, rc, rc ? sw_error_format(&err, buf, sizeof buf) : "open");
    sw_session_close(s);
    sw_plan_free(p);
    MPI_Finalize();
    return rc ? 1 : 0;
}
EOF
    if mpicc -I"$(dirname "$0")/../../include" -o "$T/api" "$T/api.c" -L"$BUILD" -lshardwave-runtime \
        -Wl,-rpath,"$BUILD" 2>"$T/cc"; then
        api_case() { # LABEL REGEX env...
            local label=$1 re=$2
            shift 2
            env PLAN="$T/p.swp" "$@" timeout $LIMIT mpirun --oversubscribe -np 4 "$T/api" >"$T/out" 2>&1
            local same
            same=$(grep "^api rank" "$T/out" | sed 's/^api rank [0-9]*: //' | sort -u | wc -l)
            if [ "$(grep -c "^api rank" "$T/out")" = 4 ] && [ "$same" = 1 ] && grep -Eq "$re" "$T/out"; then
                echo "ok: C API, $label: the same error on the 4 processes"
                ok
            else
                bad "C API, $label: $(grep "^api rank" "$T/out" | head -4)"
            fi
        }
        api_case "rank 3 has another plan" "rank 3 opened another plan than rank 0" PLAN_3="$T/other.swp"
        api_case "rank 2's plan missing" "rank 2 cannot open its session: cannot open plan" PLAN_2="$T/nope.swp"
        env PLAN="$T/p.swp" timeout $LIMIT mpirun --oversubscribe -np 4 "$T/api" >"$T/out" 2>&1 &&
            [ "$(grep -c ": 0 open" "$T/out")" = 4 ] && ok || bad "C API, same plan: $(grep "^api" "$T/out")"
    else
        bad "cannot build the C API program: $(head -3 "$T/cc")"
    fi
fi

echo "faults: $pass passed, $fail failed"
[ $fail = 0 ]
