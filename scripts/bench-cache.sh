#!/usr/bin/env bash
# The result cache: a cold scan (no cache), the first run that fills the cache, and re-scans of the unchanged
# tree that read it, wall time of the whole process, median of N runs each, 1 job and all CPUs. Issue 18 asks for
# a re-scan of an unchanged tree within 10% of a cold scan.
#
#   scripts/bench-cache.sh [--doc] [--runs N] [PATH...]   default PATHs: the corpora of docs/performance-corpus.tsv
#
# --doc writes the table to docs/performance.md ("Result cache"). The cache lives in a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
write_doc=0
runs=5
while [ "$#" -gt 0 ]; do
  case "$1" in
    --doc) write_doc=1; shift ;;
    --runs) runs="$2"; shift 2 ;;
    *) break ;;
  esac
done
if [ "$#" -eq 0 ]; then
  for name in etcd nats-server playwright vector; do set -- "$@" "/work/corpora/$name"; done
fi
# DSR_BIN: a binary built already (skips the build).
if [ -z "${DSR_BIN:-}" ]; then cargo build --release --quiet -p dsr-cli; fi
bin="${DSR_BIN:-$PWD/target/release/distsys-review}"
cpus="$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)"
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
check_args() { printf '%s\0' check "$1" --fail-on none --format json --output /dev/null --jobs "$2" "${@:3}"; }
check() { local args; mapfile -d '' args < <(check_args "$@"); "$bin" "${args[@]}"; }
# The wall time of one `check` (`/usr/bin/time` runs programs, not shell functions, so it gets the binary).
wall_check() { local args; mapfile -d '' args < <(check_args "$@"); /usr/bin/time -f '%e' "$bin" "${args[@]}" 2>&1 >/dev/null | tail -n 1; }
table="| corpus | jobs | cold (--no-cache) | first run, filling the cache | re-scan, unchanged | re-scan ÷ cold |
|---|---|---|---|---|---|"
for path in "$@"; do
  for jobs in 1 "$cpus"; do
    rm -rf "${cache:?}"/*
    check "$path" "$jobs" --no-cache >/dev/null 2>&1 || true # warm the page cache
    cold=$(for _ in $(seq "$runs"); do wall_check "$path" "$jobs" --no-cache; done | median)
    fill=$(wall_check "$path" "$jobs" --cache-dir "$cache")
    warm=$(for _ in $(seq "$runs"); do wall_check "$path" "$jobs" --cache-dir "$cache"; done | median)
    ratio=$(awk -v a="$warm" -v b="$cold" 'BEGIN { printf "%.1f%%", 100 * a / b }')
    row="| $(basename "$path") | $jobs | $cold s | $fill s | $warm s | $ratio |"
    echo "$row"
    table="$table
$row"
    [ "$cpus" -gt 1 ] || break
  done
done
if [ "$write_doc" = 1 ]; then
  {
    echo "Measured $(date -u +%Y-%m-%d) on $cpus cores, load average at the end $(cut -d' ' -f1-3 /proc/loadavg), distsys-review $(git rev-parse --short HEAD); wall time of the whole process, median of $runs runs."
    echo
    echo "$table"
    echo
    echo 'Reproduce: `scripts/bench-cache.sh --doc`.'
  } | scripts/doc-section.sh docs/performance.md cache
fi
