#!/usr/bin/env bash
# Cost against file size: time per KB of parse, facts, each shared model and each rule on generated files of
# 1k, 10k and 50k lines per language (the rule fixtures put together) and on prefixes of real large files, in
# thread CPU time (least of several rounds). Fails (exit 1) when an item's time per KB at the largest size is
# more than 2x its time per KB at the smallest: the "no superlinear path" check of issue 18. A script, not a
# test: its figures are times.
#
#   scripts/bench-scale.sh [--doc] [FILE...]     default FILEs: the largest real files of the corpora, if present
#
# --doc also writes the table of the largest file set to docs/performance.md ("Scaling with file size").
set -euo pipefail
cd "$(dirname "$0")/.."
write_doc=0
if [ "${1:-}" = --doc ]; then write_doc=1; shift; fi
if [ "$#" -eq 0 ]; then
  for f in /work/corpora/nats-server/server/jetstream_test.go \
           /work/corpora/nats-server/server/filestore.go \
           /work/corpora/playwright/packages/playwright-core/types/types.d.ts \
           /work/corpora/playwright/tests/playwright-test/reporter-html.spec.ts \
           /work/corpora/vector/src/sources/splunk_hec/mod.rs; do
    [ -f "$f" ] && set -- "$@" "$f"
  done
fi
args=(check)
for f in "$@"; do args+=(real "$f"); done
# The generated files too (the bench adds them when no language is named and no real file is given).
args+=(go rust ts)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
cargo bench -q -p dsr-cli --bench scale -- "${args[@]}" | tee "$out" || status=$?
if [ "$write_doc" = 1 ]; then
  {
    echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) (thread CPU time, least of several rounds; only ratios within the run are compared)."
    echo
    echo '```'
    cat "$out"
    echo '```'
    echo
    echo 'Reproduce: `scripts/bench-scale.sh --doc` (exit 1 when an item fails the check).'
  } | scripts/doc-section.sh docs/performance.md scaling
fi
exit "$status"
