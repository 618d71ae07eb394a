#!/usr/bin/env bash
# Installs what the tests need (idempotent; caches live outside the repository) and runs every test:
# the Rust workspace (unit, fixture, docs, CLI and LSP end-to-end tests), then the real-editor tests
# (Neovim 0.7 and 0.11, VS Code through code-server) against the binary that build produced.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> cargo test --workspace"
cargo test --workspace --locked

# The edit-sequence fuzz target's stable runner, briefly (docs/fuzzing.md has the long local run). It shares the
# workspace's target directory, so the libraries it needs are already built.
echo "==> fuzz: edit_sequence_stable for ${DSR_FUZZ_SECONDS:-30}s"
cargo run --locked --manifest-path fuzz/Cargo.toml --target-dir target --no-default-features \
  --bin edit_sequence_stable -- --seconds "${DSR_FUZZ_SECONDS:-30}"

if [ -x tests/editors/run.sh ]; then
  echo "==> editor tests"
  cargo build --locked -p dsr-cli
  DISTSYS_REVIEW_BIN="$PWD/target/debug/distsys-review" tests/editors/run.sh
fi
