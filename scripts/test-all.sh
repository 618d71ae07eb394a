#!/usr/bin/env bash
# Installs what the tests need (idempotent; caches live outside the repository) and runs every test:
# the Rust workspace (unit, fixture, docs, CLI and LSP end-to-end tests), then the integrations with CI tools
# (scripts/test-integrations.sh) and the real-editor tests (Neovim 0.7 and 0.11, VS Code through code-server)
# against the binary that build produced.
set -euo pipefail
cd "$(dirname "$0")/.."

# Builds land where cargo puts them: CARGO_TARGET_DIR when set (scripts/fresh-check.sh sets it), else ./target.
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"

# The randomized tests (proptest, the stable fuzz runner) start from fixed seeds here, so a run is reproducible and
# a red build means the change broke something. Exploring new seeds is the job of runs without them and of the
# long local runs (docs/fuzzing.md); set either variable to explore from here.
export PROPTEST_RNG_SEED="${PROPTEST_RNG_SEED:-1126}"

# Everything Cargo.lock names, for every target, before any test runs: the security test reads the dependency
# tree of all shipped targets offline (`cargo tree --offline --target all`), and a fresh machine's registry holds
# only what the host build downloaded. A no-op when all of it is already cached.
echo "==> cargo fetch --locked"
cargo fetch --locked

echo "==> cargo test --workspace"
cargo test --workspace --locked

# The edit-sequence fuzz target's stable runner, briefly (docs/fuzzing.md has the long local run). It shares the
# workspace's target directory, so the libraries it needs are already built.
echo "==> fuzz: edit_sequence_stable for ${DSR_FUZZ_SECONDS:-30}s"
cargo run --locked --manifest-path fuzz/Cargo.toml --target-dir "$target_dir" --no-default-features \
  --bin edit_sequence_stable -- --seconds "${DSR_FUZZ_SECONDS:-30}" --seed "${DSR_FUZZ_SEED:-1126}"

echo "==> build the binary the integration and editor tests run"
cargo build --locked -p dsr-cli

# Report formats, the config schema, action.yml and docs/ci.md's setups, the pre-commit hooks, each with the
# real tools (installed by the script, cached in $DSR_CI_CACHE).
echo "==> integrations"
DISTSYS_REVIEW_BIN="$target_dir/debug/distsys-review" scripts/test-integrations.sh

if [ -x tests/editors/run.sh ]; then
  echo "==> editor tests"
  DISTSYS_REVIEW_BIN="$target_dir/debug/distsys-review" tests/editors/run.sh
fi
