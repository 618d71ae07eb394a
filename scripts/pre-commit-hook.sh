#!/usr/bin/env bash
# The entry of the pre-commit hooks (.pre-commit-hooks.yaml): `distsys-review check [--fix] FILE...` on the files
# pre-commit passes. The binary is, in order: $DISTSYS_REVIEW_BIN; `distsys-review` on PATH; else the one built
# from this checkout of the repository (pre-commit keeps it in its cache, so the build happens once per hook
# revision; it needs cargo).
set -euo pipefail

bin="${DISTSYS_REVIEW_BIN:-}"
if [[ -z "$bin" ]]; then
  if command -v distsys-review >/dev/null 2>&1; then
    bin="distsys-review"
  else
    repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    bin="$repo/target/release/distsys-review"
    if [[ ! -x "$bin" ]]; then
      echo "distsys-review: not on PATH; building it once from $repo (cargo build --release)..." >&2
      cargo build --release --locked --quiet --manifest-path "$repo/Cargo.toml" -p dsr-cli >&2
    fi
  fi
fi
exec "$bin" check "$@"
