#!/usr/bin/env bash
# layers.sh - the floors of docs/architecture.md, checked on the sources: every
# `#include "X"` of a folder must resolve inside the folders that floor may see.  The
# build enforces the same through per-floor include paths; this test names the offending
# line.  Usage: layers.sh [SHARDWAVE] (the argument is ignored; run from the repo root).
set -u
cd "$(dirname "$0")/../.."

# folder -> the folders its includes may resolve to (itself first)
declare -A allowed=(
  [base]="base include"
  [dsl]="dsl base include"
  [elab]="elab dsl base include"
  [plan]="plan base include"
  [compiler]="compiler plan base include elab:ir.h elab:place.h elab:coverage.h"
  [runtime]="runtime plan base include"
  [runtime/mpi]="runtime/mpi runtime plan base include"
  [runtime/nccl]="runtime/nccl runtime plan base include"
  [api]="api compiler elab dsl plan base include"
)
all="base dsl elab plan compiler runtime runtime/mpi runtime/nccl api include cli"
generated="parser.h lexer.h"
bad=0 checked=0
declare -A edges=() # "from to" folder pairs actually included, for the loop check
for dir in "${!allowed[@]}"; do
  for f in "$dir"/*.[chly] "$dir"/*.cu; do
    [ -f "$f" ] || continue
    while IFS= read -r line; do
      inc=$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)".*/\1/' <<<"${line#*:}")
      lineno=${line%%:*}
      base=$(basename "$inc")
      checked=$((checked + 1))
      if [ "$dir" = dsl ] && [[ " $generated " == *" $base "* ]]; then continue; fi
      ok=0
      for a in ${allowed[$dir]}; do
        case "$a" in
          *:*) [ "$base" = "${a#*:}" ] && [ -f "${a%%:*}/$base" ] && ok=1 ;;
          *) [ -f "$a/$base" ] || [ -f "$(dirname "$f")/$inc" ] && [ -f "$a/$base" ] && ok=1 ;;
        esac
        [ $ok = 1 ] && break
      done
      for d in $all; do
        if [ "$d" != "$dir" ] && [ -f "$d/$base" ] && { [ "$d" = "$(dirname "$f")" ] || [[ " ${allowed[$dir]} " == *" $d "* ]] || [[ " ${allowed[$dir]} " == *" $d:$base "* ]]; }; then
          edges["$dir $d"]=1
        fi
      done
      if [ $ok = 0 ]; then
        where=""
        for d in $all; do [ -f "$d/$base" ] && where="$d/$base"; done
        echo "layers: $f:$lineno includes \"$inc\" ($where), not allowed for $dir/ (may see: ${allowed[$dir]})"
        bad=$((bad + 1))
      fi
    done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
  done
done
echo "layers: $checked includes checked, $bad not allowed"

# No loop between folders: the graph of the includes found above, sorted topologically
# (tsort names a cycle when there is one).  The table allows none, but a folder that
# may see another one (runtime/ and runtime/mpi, say) must not be seen back.
pairs=""
for e in "${!edges[@]}"; do pairs+="$e"$'\n'; done
if ! order=$(printf '%s' "$pairs" | tsort 2>"${TMPDIR:-/tmp}/layers_tsort.$$"); then
  echo "layers: the folders include each other in a loop: $(cat "${TMPDIR:-/tmp}/layers_tsort.$$")"
  bad=$((bad + 1))
elif grep -q "loop" "${TMPDIR:-/tmp}/layers_tsort.$$"; then
  echo "layers: the folders include each other in a loop: $(cat "${TMPDIR:-/tmp}/layers_tsort.$$")"
  bad=$((bad + 1))
else
  echo "layers: ${#edges[@]} folder edges, no loop (from the top: $(echo $order))"
fi
rm -f "${TMPDIR:-/tmp}/layers_tsort.$$"
[ $bad = 0 ]
