#!/bin/sh
# LSP keystroke latency (5,000-line Go/Rust/TypeScript files) and memory (200 open documents) through the
# release binary over stdio. Optional argument: `latency` or `memory` to run one part; `index` runs the workspace
# index benchmark instead (a generated Go workspace: keystrokes with the index on, callee edit to caller republish).
set -eu
cd "$(dirname "$0")/.."
exec cargo bench -p dsr-cli --bench lsp -- "$@"
