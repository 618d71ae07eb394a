#!/bin/sh
# Keystroke latency on real files (crates/dsr-cli/benches/real_files): every .go/.rs/.ts file under DIR
# (default /work/corpora/latency; scripts/latency-corpus.sh extracts docs/latency-corpus.tsv there), edited
# through the release binary over stdio with several typing patterns; per-file and per-language median/p99 of
# the first and final diagnostics per pattern. Each file's final p99 is set against the same edits through a
# second server that analyses every edit as the whole file (DISTSYS_REVIEW_INCREMENTAL=0; the list "(a)") and
# against as many from-scratch analyses in process (median and p99; the list "(b)"). DSR_BENCH_EDITS,
# DSR_BENCH_ONLY, DSR_BENCH_PATTERNS, DSR_BENCH_WHOLE=0 (no second server): see the module.
#
# First, the exactness check on the same files (incremental analysis equals whole-file analysis, from an empty
# cache and after random typing edits: crates/dsr-rules/tests/incremental.rs); DSR_BENCH_SKIP_EXACTNESS=1
# skips it.
set -eu
cd "$(dirname "$0")/.."
DSR_BENCH_CORPUS=$(realpath "${1:-/work/corpora/latency}")
export DSR_BENCH_CORPUS
if [ -z "${DSR_BENCH_SKIP_EXACTNESS:-}" ]; then
    DSR_INCREMENTAL_CORPUS=$DSR_BENCH_CORPUS cargo test --release --locked -p dsr-rules --test incremental \
        incremental_analysis_equals_whole_file_analysis_on_a_corpus -- --nocapture
fi
exec cargo bench --locked -p dsr-cli --bench lsp -- real
