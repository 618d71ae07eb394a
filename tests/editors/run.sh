#!/usr/bin/env bash
# Editor integration tests: the real server in real clients.
#   Neovim 0.7.2 (Debian) and 0.11.4 (PyPI wheel), headless, through editors/neovim's setup();
#   Emacs 28 with eglot 1.9 (Debian), batch mode, through docs/editors.md's eglot snippet;
#   VS Code (code-server 4.100.3) with the packaged .vsix, driven in Debian's Chromium.
#
# Env:  DISTSYS_REVIEW_BIN   the server (default target/release/distsys-review, else target/debug); never built here
#       DSR_EDITOR_CACHE     installs (default ~/.cache/distsys-review-editors)
#       DSR_ARTIFACTS        results, logs, screenshots (default target/editor-artifacts)
#       DSR_EDITORS          which suites (default "helix nvim-0.7 nvim-0.11 nvim-0.11-start nvim-0.11-lspconfig
#                            emacs-eglot vscode")
#       DSR_UPDATE_SCREENSHOTS=1  also write the README screenshots to editors/vscode/images/
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
CACHE="${DSR_EDITOR_CACHE:-$HOME/.cache/distsys-review-editors}"
export DSR_EDITOR_CACHE="$CACHE"

bin="${DISTSYS_REVIEW_BIN:-}"
if [[ -z "$bin" ]]; then
  for candidate in "$repo/target/release/distsys-review" "$repo/target/debug/distsys-review"; do
    [[ -x "$candidate" ]] && { bin="$candidate"; break; }
  done
fi
if [[ -z "$bin" || ! -x "$bin" ]]; then
  echo "editors: no server binary (set DISTSYS_REVIEW_BIN or build target/{release,debug}/distsys-review)" >&2
  exit 2
fi
export DISTSYS_REVIEW_BIN="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
export DSR_ARTIFACTS="${DSR_ARTIFACTS:-$repo/target/editor-artifacts}"
rm -rf "$DSR_ARTIFACTS" && mkdir -p "$DSR_ARTIFACTS"
if [[ "${DSR_UPDATE_SCREENSHOTS:-}" == 1 ]]; then
  export DSR_SCREENSHOTS="$repo/editors/vscode/images"
fi

t=$SECONDS
bash "$here/install.sh"
echo "editors: installs ready in $((SECONDS - t)) s"

passed=0 failed=0 failed_names=()
suite() {
  local name="$1"; shift
  local t0=$SECONDS
  echo "== $name"
  if "$@"; then
    passed=$((passed + 1)); echo "== $name: ok ($((SECONDS - t0)) s)"
  else
    failed=$((failed + 1)); failed_names+=("$name"); echo "== $name: FAILED ($((SECONDS - t0)) s)"
  fi
}

for s in ${DSR_EDITORS:-helix nvim-0.7 nvim-0.11 nvim-0.11-start nvim-0.11-lspconfig emacs-eglot vscode}; do
  case "$s" in
    nvim-0.7) suite "neovim 0.7" "$here/neovim.sh" /usr/bin/nvim 0.7 ;;
    nvim-0.11) suite "neovim 0.11" "$here/neovim.sh" "$CACHE/nvim-0.11/bin/nvim" 0.11 ;;
    # The 0.8-0.10 path (vim.lsp.start from a FileType autocmd), exercised on 0.11: no 0.8-0.10 binary here.
    nvim-0.11-start) suite "neovim 0.11, vim.lsp.start path" "$here/neovim.sh" "$CACHE/nvim-0.11/bin/nvim" 0.11-start start ;;
    nvim-0.11-lspconfig) suite "neovim 0.11, nvim-lspconfig file" "$here/neovim.sh" "$CACHE/nvim-0.11/bin/nvim" 0.11-lspconfig lspconfig ;;
    vscode) suite "vscode (code-server)" "$here/vscode.sh" ;;
    helix) suite "helix snippet (syntax only)" "$here/helix.sh" ;;
    emacs-eglot) suite "emacs 28 + eglot (docs/editors.md's snippet)" "$here/emacs.sh" ;;
    *) echo "editors: unknown suite $s" >&2; exit 2 ;;
  esac
done

echo "editors: total $((SECONDS - t)) s; artifacts in $DSR_ARTIFACTS"
((failed == 0)) || echo "editors: failed: ${failed_names[*]}"
echo "editors: $passed passed, $failed failed"
((failed == 0))
