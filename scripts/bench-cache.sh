#!/usr/bin/env bash
# The result cache: a cold scan (no cache), the first run that fills the cache, and re-scans of the unchanged
# tree that read it, wall time of the whole process, median of N runs each, 1 job and all CPUs. Issue 18 asks for
# a re-scan of an unchanged tree within 10% of a cold scan, and that one changed file re-analyses that file and
# its dependents only: the two "one file changed" columns re-scan after a line is put at the top of one file
# (every declaration in it moves) — a helper other files call, and a leaf nothing calls (`helper_and_leaf`
# below; other corpora get neither column) — one run each, with how many files were analysed and how many of
# the index's summaries were made (each a parse; the others are taken from the cache). The corpus is copied to
# a temporary directory for those, so it is never edited in place.
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
# The copies changed one file at a time, and their cache: not under "$cache", whose `.gitignore` of `*` would hide
# them from the walk.
copies=$(mktemp -d)
trap 'rm -rf "$cache" "$copies"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
check_args() { printf '%s\0' check "$1" --fail-on none --format json --output /dev/null --jobs "$2" "${@:3}"; }
check() { local args; mapfile -d '' args < <(check_args "$@"); "$bin" "${args[@]}"; }
# The wall time of one `check` (`/usr/bin/time` runs programs, not shell functions, so it gets the binary).
wall_check() { local args; mapfile -d '' args < <(check_args "$@"); /usr/bin/time -f '%e' "$bin" "${args[@]}" 2>&1 >/dev/null | tail -n 1; }
# A helper file other files call, and a leaf file nothing calls, per corpus (relative to it).
helper_and_leaf() {
  case "$(basename "$1")" in
    etcd) echo "client/pkg/fileutil/fileutil.go etcdctl/main.go" ;;
    nats-server) echo "server/util.go main.go" ;;
    *) echo "" ;;
  esac
}
# Re-scans TREE after a line is put at the top of FILE (relative to it), with the cache in CACHE_DIR:
# "<wall> s, <analysed> of <files> analysed, <made> summaries made"; then puts the file back and refills the cache.
changed() {
  local tree="$1" jobs="$2" file="$1/$3" out args
  cp "$file" "$file.orig"
  { echo "// changed by bench-cache.sh"; cat "$file.orig"; } > "$file"
  mapfile -d '' args < <(check_args "$tree" "$jobs" --cache-dir "$CACHE_DIR")
  out=$(DSR_LOG=dsr_cli=info /usr/bin/time -f 'wall %e' "$bin" "${args[@]}" 2>&1 >/dev/null | sed 's/\x1b\[[0-9;]*m//g')
  mv "$file.orig" "$file"
  check "$tree" "$jobs" --cache-dir "$CACHE_DIR" >/dev/null 2>&1 || true
  awk '/^wall / {w=$2}
       /files analysed|summaries/ {for (i = 1; i <= NF; i++) {n = split($i, kv, "="); if (n == 2) v[kv[1]] = kv[2]}}
       END {printf "%s s, %d of %d analysed, %d summaries made", w, v["analysed"], v["analysed"] + v["from_cache"],
              v["summaries_made"]}' <<<"$out"
}
table="| corpus | jobs | cold (--no-cache) | first run, filling the cache | re-scan, unchanged | re-scan ÷ cold | one helper changed | one leaf changed |
|---|---|---|---|---|---|---|---|"
for path in "$@"; do
  for jobs in 1 "$cpus"; do
    rm -rf "${cache:?}"/*
    check "$path" "$jobs" --no-cache >/dev/null 2>&1 || true # warm the page cache
    cold=$(for _ in $(seq "$runs"); do wall_check "$path" "$jobs" --no-cache; done | median)
    fill=$(wall_check "$path" "$jobs" --cache-dir "$cache")
    warm=$(for _ in $(seq "$runs"); do wall_check "$path" "$jobs" --cache-dir "$cache"; done | median)
    ratio=$(awk -v a="$warm" -v b="$cold" 'BEGIN { printf "%.1f%%", 100 * a / b }')
    helper="–" leaf="–"
    read -r helper_file leaf_file <<<"$(helper_and_leaf "$path")" || true
    if [ -n "${helper_file:-}" ]; then
      tree="$copies/tree/$(basename "$path")"
      if [ ! -d "$tree" ]; then
        mkdir -p "$tree" && (cd "$path" && tar --exclude=.git --exclude=.distsys-review-cache -cf - .) | (cd "$tree" && tar -xf -)
      fi
      rm -rf "${copies:?}/cache"
      check "$tree" "$jobs" --cache-dir "$copies/cache" >/dev/null 2>&1 || true
      helper=$(CACHE_DIR="$copies/cache" changed "$tree" "$jobs" "$helper_file")
      leaf=$(CACHE_DIR="$copies/cache" changed "$tree" "$jobs" "$leaf_file")
    fi
    row="| $(basename "$path") | $jobs | $cold s | $fill s | $warm s | $ratio | $helper | $leaf |"
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
