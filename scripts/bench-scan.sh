#!/usr/bin/env bash
# Scan throughput of the release binary: files, bytes, parse-only time and full-analysis time, and MB/s for
# both, once on one thread and once on every CPU (`check --timings`; the report goes to /dev/null).
#
#   scripts/bench-scan.sh [PATH...]        default: this repository's crates/
#
# Every rule runs (`--select ALL`) whatever the scanned tree's config says; files up to 10 MB are read.
# "parse only" is tree-sitter alone over the same in-memory files; "analysis" is parse + facts + rules +
# suppressions, i.e. what `check` does per file. DESIGN.md §8 asks for analysis within 1.5x of parse only.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p dsr-cli
bin="$PWD/target/release/distsys-review"
if [ "$#" -eq 0 ]; then
  set -- crates
fi
cpus="$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)"
for jobs in 1 "$cpus"; do
  # Skipped-file warnings are counted in the timings line; the list itself is noise here.
  "$bin" check "$@" --select ALL --fail-on none --format json --output /dev/null \
    --max-file-size 10M --jobs "$jobs" --timings 2>&1 | grep -v '^warning: ' || true
  [ "$cpus" -gt 1 ] || break
done
