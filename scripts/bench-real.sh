#!/bin/sh
# Keystroke latency on real files (crates/dsr-cli/benches/real_files): every .go/.rs/.ts file under DIR
# (default /work/corpora/latency; scripts/latency-corpus.sh extracts docs/latency-corpus.tsv there), edited
# through the release binary over stdio with several typing patterns; per-file and per-language median/p99 of
# the first and final diagnostics per pattern, and the ratio to a from-scratch analysis. DSR_BENCH_EDITS,
# DSR_BENCH_ONLY, DSR_BENCH_PATTERNS: see the module.
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
