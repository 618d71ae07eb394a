#!/bin/sh
# Keystroke latency on real files (crates/dsr-cli/benches/real_files): every .go/.rs/.ts file under DIR
# (default /work/corpora/latency; scripts/latency-corpus.sh extracts docs/latency-corpus.tsv there), edited
# through the release binary over stdio with several typing patterns; per-file and per-language median/p99 and
# the ratio to a from-scratch analysis. DSR_BENCH_EDITS, DSR_BENCH_ONLY, DSR_BENCH_PATTERNS: see the module.
set -eu
cd "$(dirname "$0")/.."
DSR_BENCH_CORPUS=$(realpath "${1:-/work/corpora/latency}")
export DSR_BENCH_CORPUS
exec cargo bench -p dsr-cli --bench lsp -- real
