#!/usr/bin/env bash
# Runs tests/editors/neovim/test.lua in one headless Neovim through editors/neovim's setup().
#   tests/editors/neovim.sh NVIM_BINARY LABEL [MODE]   (MODE: setup's mode, default auto; `lspconfig`: the
#   standalone editors/neovim/lspconfig file instead of setup())
# Needs DISTSYS_REVIEW_BIN and DSR_ARTIFACTS (set by run.sh).
set -euo pipefail
nvim_bin="$1" label="$2" mode="${3:-auto}"
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/dsr-nvim-$label.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# A scratch copy: the test edits buffers and must never touch the repo's files.
cp -r "$here/project" "$work/project"
# The bundled sample service (Go API, Rust worker, TypeScript gateway), copied so that applying a fix edits the
# copy, not the repository.
cp -r "$repo/examples/shop" "$work/project/shop"
for d in state cache data config; do mkdir -p "$work/xdg/$d"; done
# MODE lspconfig: the standalone nvim-lspconfig file, on 'runtimepath' under lsp/ as nvim-lspconfig ships it.
mkdir -p "$work/lspconfig/lsp"
cp "$repo/editors/neovim/lspconfig/distsys_review.lua" "$work/lspconfig/lsp/"

status=0
XDG_STATE_HOME="$work/xdg/state" XDG_CACHE_HOME="$work/xdg/cache" XDG_DATA_HOME="$work/xdg/data" \
XDG_CONFIG_HOME="$work/xdg/config" \
DSR_NVIM_MODE="$mode" DSR_LSPCONFIG_RTP="$work/lspconfig" DSR_PLUGIN="$repo/editors/neovim" DSR_PROJECT="$work/project" DSR_EXPECT="$here/expect.json" \
DSR_RESULT="$DSR_ARTIFACTS/nvim-$label.json" \
  timeout 120 "$nvim_bin" --headless --clean -n -i NONE -u NONE -c "luafile $here/neovim/test.lua" </dev/null \
  2>"$DSR_ARTIFACTS/nvim-$label.stderr" || status=$?
if ((status == 124)); then
  echo "nvim $label: timed out (see $DSR_ARTIFACTS/nvim-$label.stderr)" >&2
fi
# The LSP client log, for a failure's post-mortem.
find "$work/xdg" -name 'lsp.log' -exec cp {} "$DSR_ARTIFACTS/nvim-$label-lsp.log" \; 2>/dev/null || true
exit "$status"
