#!/usr/bin/env bash
# install.sh SHARDWAVE - `cmake --install` into a fresh prefix and use it from outside:
#   - the files: shardwave.h, both libraries (versioned, SONAME with the version), the
#     plugins this build made, the command, shardwave.pc / shardwave-runtime.pc, the CMake
#     package;
#   - what the libraries export: exactly the SW_API functions of include/shardwave.h
#     (libshardwave-runtime: all but sw_compile_*), read from the header; the plugins
#     their entry point only;
#   - what they need: no libyaml, libmpi, libcudart, libnccl in the runtime library, no
#     libmpi/libcudart/libnccl in libshardwave or the command;
#   - consumers: examples/embed/embed.c built with `pkg-config shardwave-runtime` and
#     tests/install/consumer.c with `pkg-config shardwave`, then both again through
#     find_package(shardwave) (tests/install/CMakeLists.txt), run on a plan compiled by
#     the installed command, validated element for element; the installed command runs
#     it too (local, and mpi through the installed plugin when this build has it).
# The build folder is the one of SHARDWAVE ($1).  Run from the repository root.
set -u
SW=$1
BUILD=$(cd "$(dirname "$SW")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
P=$T/prefix
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
unset SHARDWAVE_PLUGIN_DIR

if cmake --install "$BUILD" --prefix "$P" >"$T/install.log" 2>&1; then ok; else bad "cmake --install: $(tail -3 "$T/install.log")"; exit 1; fi
export PKG_CONFIG_PATH=$(dirname "$(find "$P" -name shardwave-runtime.pc | head -1)")
LIB=$(pkg-config --variable=libdir shardwave-runtime 2>/dev/null)
INC=$(pkg-config --variable=includedir shardwave-runtime 2>/dev/null)
[ -n "$LIB" ] && [ "$(cd "$LIB" 2>/dev/null && pwd -P)" = "$(cd "$(dirname "$PKG_CONFIG_PATH")" && pwd -P)" ] && ok \
    || bad "shardwave-runtime.pc: libdir '$LIB' is not the installed lib folder ($PKG_CONFIG_PATH)"
LIB=$(cd "$LIB" && pwd -P) # the .pc files say PREFIX/lib/pkgconfig/../../lib: relocatable

# ---- the files ----
maj=$(awk '/#define SW_VERSION_MAJOR/ {print $3}' include/shardwave.h)
min=$(awk '/#define SW_VERSION_MINOR/ {print $3}' include/shardwave.h)
pat=$(awk '/#define SW_VERSION_PATCH/ {print $3}' include/shardwave.h)
if [ "$maj" = 0 ]; then sov=$maj.$min; else sov=$maj; fi
for f in "$INC/shardwave.h" "$P/bin/shardwave" "$LIB/pkgconfig/shardwave.pc" "$LIB/pkgconfig/shardwave-runtime.pc" \
    "$LIB/cmake/shardwave/shardwaveConfig.cmake" "$LIB/cmake/shardwave/shardwaveConfigVersion.cmake" \
    "$LIB/cmake/shardwave/shardwaveTargets.cmake"; do
    [ -f "$f" ] && ok || bad "not installed: ${f#$P/}"
done
cmp -s "$INC/shardwave.h" include/shardwave.h && ok || bad "installed shardwave.h differs from include/shardwave.h"
for l in shardwave shardwave-runtime; do
    real=$LIB/lib$l.so.$maj.$min.$pat
    [ -f "$real" ] && [ -L "$LIB/lib$l.so" ] && [ -L "$LIB/lib$l.so.$sov" ] && ok || bad "lib$l.so.$maj.$min.$pat and its links"
    son=$(readelf -d "$real" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
    [ "$son" = "lib$l.so.$sov" ] && ok || bad "lib$l SONAME '$son', want lib$l.so.$sov"
done
plugins=""
for b in mpi nccl; do
    if [ -f "$BUILD/libshardwave-$b.so" ]; then
        plugins="$plugins $b"
        pl=$LIB/libshardwave-$b.so
        [ -f "$pl" ] && ok || bad "plugin libshardwave-$b.so built but not installed"
        syms=$(nm -D --defined-only "$pl" 2>/dev/null | awk '{print $3}' | tr '\n' ' ')
        [ "$syms" = "sw_plugin_entry_v1 " ] && ok || bad "libshardwave-$b.so exports '$syms', want sw_plugin_entry_v1 only"
    fi
done

# ---- exports: the SW_API functions of the header, nothing else ----
grep -E '^SW_API ' include/shardwave.h | sed -E 's/\(.*//; s/.*[ *]//' | sort -u >"$T/api"
grep -v '^sw_compile_' "$T/api" >"$T/api_rt"
nm -D --defined-only "$LIB/libshardwave.so" | awk '{print $3}' | sort -u >"$T/exp_all"
nm -D --defined-only "$LIB/libshardwave-runtime.so" | awk '{print $3}' | sort -u >"$T/exp_rt"
napi=$(wc -l <"$T/api")
[ "$napi" -ge 20 ] && grep -qx sw_sync "$T/api" && grep -qx sw_compile_file "$T/api" && ok \
    || bad "could not read the SW_API functions of shardwave.h ($napi)"
if cmp -s "$T/api" "$T/exp_all"; then ok; else bad "libshardwave exports differ from shardwave.h's SW_API: $(diff "$T/api" "$T/exp_all" | grep '^[<>]' | tr '\n' ' ')"; fi
if cmp -s "$T/api_rt" "$T/exp_rt"; then ok; else bad "libshardwave-runtime exports differ: $(diff "$T/api_rt" "$T/exp_rt" | grep '^[<>]' | tr '\n' ' ')"; fi
[ "$(nm -D --defined-only "$LIB/libshardwave-runtime.so" | grep -vc ' T ')" = 0 ] && ok || bad "runtime exports non-function symbols"
echo "exports: libshardwave $(wc -l <"$T/exp_all") functions, libshardwave-runtime $(wc -l <"$T/exp_rt") (shardwave.h declares $napi)"

# ---- what they need ----
deps=$(ldd "$LIB/libshardwave-runtime.so" | grep -E 'libyaml|libmpi|libcudart|libnccl')
[ -z "$deps" ] && ok || bad "libshardwave-runtime needs: $deps"
deps=$(ldd "$LIB/libshardwave.so" | grep -E 'libmpi|libcudart|libnccl')
[ -z "$deps" ] && ok || bad "libshardwave needs: $deps"
ldd "$LIB/libshardwave.so" | grep -q libyaml && ok || bad "libshardwave does not need libyaml? $(ldd "$LIB/libshardwave.so")"
deps=$(ldd "$P/bin/shardwave" | grep -E 'libmpi|libcudart|libnccl|libshardwave')
[ -z "$deps" ] && ok || bad "the installed command needs: $deps"

# ---- a plan from the installed command, run by it ----
ISW=$P/bin/shardwave
"$ISW" --version >/dev/null 2>&1 && ok || bad "installed shardwave --version"
"$ISW" compile examples/pipeline_tiny.sw --sync pp2_to_pp3 -o "$T/pp.swp" >/dev/null 2>&1 && ok || bad "installed compile"
"$ISW" run "$T/pp.swp" --backend local --validate --iters 2 >"$T/out" 2>&1 && grep -q "all match" "$T/out" && ok \
    || bad "installed run local: $(tail -2 "$T/out")"
if [[ " $plugins " == *" mpi "* ]] && command -v mpirun >/dev/null; then
    # pipeline_tiny pp2 -> pp3 uses global ranks 0..6; the plugin comes from $P/lib
    if timeout 120 mpirun --oversubscribe -np 7 "$ISW" run "$T/pp.swp" --backend mpi --validate >"$T/out" 2>&1 \
        && grep -q "all match" "$T/out"; then ok; else bad "installed run mpi: $(tail -3 "$T/out")"; fi
fi

# ---- consumers: pkg-config ----
CC=${CC:-cc}
LAYOUT=examples/llama3-8b.yaml
DEFS="hidden=64 layers=2 vocab=1000 multiple_of=64"
"$ISW" compile $LAYOUT --sync refit -o "$T/ll.swp" $(printf -- '-D %s ' $DEFS) >/dev/null 2>&1 || bad "installed compile llama3-8b"
# shellcheck disable=SC2046
if $CC -std=c11 -Wall -Werror -o "$T/embed_pc" examples/embed/embed.c $(pkg-config --cflags --libs shardwave-runtime) \
    -Wl,-rpath,"$LIB" 2>"$T/cc"; then ok; else bad "embed with pkg-config shardwave-runtime: $(head -3 "$T/cc")"; fi
# shellcheck disable=SC2046
if $CC -std=c11 -Wall -Werror -o "$T/consumer_pc" tests/install/consumer.c $(pkg-config --cflags --libs shardwave) \
    -Wl,-rpath,"$LIB" 2>"$T/cc"; then ok; else bad "consumer with pkg-config shardwave: $(head -3 "$T/cc")"; fi
readelf -d "$T/embed_pc" 2>/dev/null | grep -q "NEEDED.*\[libshardwave-runtime.so.$sov\]" && ok \
    || bad "embed_pc does not need libshardwave-runtime.so.$sov"
for plan in "$T/pp.swp" "$T/ll.swp"; do
    "$T/embed_pc" "$plan" >"$T/out" 2>&1 && grep -q "all match" "$T/out" && ok || bad "embed_pc $plan: $(tail -2 "$T/out")"
done
"$T/consumer_pc" $LAYOUT refit $DEFS >"$T/out" 2>&1 && grep -q "all match" "$T/out" && ok \
    || bad "consumer_pc: $(tail -2 "$T/out")"
cat "$T/out"

# ---- consumers: find_package(shardwave) ----
if cmake -S tests/install -B "$T/cb" -DCMAKE_PREFIX_PATH="$P" -DCMAKE_BUILD_TYPE=Release >"$T/cfg" 2>&1 \
    && cmake --build "$T/cb" >"$T/bld" 2>&1; then ok
else bad "find_package consumer: $(tail -5 "$T/cfg" "$T/bld" 2>/dev/null)"; fi
grep -q "^shardwave_DIR:PATH=$LIB/cmake/shardwave$" "$T/cb/CMakeCache.txt" 2>/dev/null && ok \
    || bad "find_package found another shardwave: $(grep shardwave_DIR "$T/cb/CMakeCache.txt")"
"$T/cb/embed" "$T/ll.swp" >"$T/out" 2>&1 && grep -q "all match" "$T/out" && ok || bad "find_package embed: $(tail -2 "$T/out")"
"$T/cb/consumer" $LAYOUT refit $DEFS >"$T/out" 2>&1 && grep -q "all match" "$T/out" && ok \
    || bad "find_package consumer: $(tail -2 "$T/out")"
# a consumer asking for another minor version is refused (0.x: SameMinorVersion)
sed 's/find_package(shardwave 0.1 REQUIRED)/find_package(shardwave 0.99 REQUIRED)/' tests/install/CMakeLists.txt >"$T/CMakeLists.txt"
mkdir -p "$T/c99" && cp "$T/CMakeLists.txt" tests/install/consumer.c "$T/c99/"
sed -i 's|${CMAKE_CURRENT_SOURCE_DIR}/../../examples/embed/embed.c|consumer.c|' "$T/c99/CMakeLists.txt"
if cmake -S "$T/c99" -B "$T/c99b" -DCMAKE_PREFIX_PATH="$P" >"$T/cfg" 2>&1; then bad "find_package(shardwave 0.99) succeeded"
else grep -q "version" "$T/cfg" && ok || bad "find_package(shardwave 0.99): $(tail -3 "$T/cfg")"; fi

echo "install: $pass passed, $fail failed"
[ $fail = 0 ]
