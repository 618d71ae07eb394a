#!/usr/bin/env bash
# VS Code for real: packages editors/vscode into a .vsix with the server bundled, installs it into code-server
# 4.100.3 and drives the workbench with playwright-core in Debian's Chromium (tests/editors/vscode/e2e.cjs).
# Needs DISTSYS_REVIEW_BIN, DSR_ARTIFACTS and the installs of install.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
CACHE="${DSR_EDITOR_CACHE:-$HOME/.cache/distsys-review-editors}"
export npm_config_cache="$CACHE/npm-cache" npm_config_update_notifier=false
CODE_SERVER="$CACHE/code-server/node_modules/.bin/code-server"
work="$(mktemp -d "${TMPDIR:-/tmp}/dsr-vscode.XXXXXX")"
pgids=()

cleanup() {
  # code-server's extension host and the language server outlive the browser unless the whole group goes.
  for g in "${pgids[@]}"; do
    kill -TERM -- "-$g" 2>/dev/null || true
  done
  sleep 0.5
  for g in "${pgids[@]}"; do
    kill -KILL -- "-$g" 2>/dev/null || true
  done
  if [[ -d "$work/user/logs" ]]; then
    mkdir -p "$DSR_ARTIFACTS/code-server-logs" && cp -r "$work/user/logs/." "$DSR_ARTIFACTS/code-server-logs/" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

t0=$SECONDS
# --- package the extension in a scratch copy, with the server bundled ----------------------------------------
mkdir -p "$work/ext"
tar -C "$repo/editors/vscode" --exclude=./node_modules --exclude=./out --exclude=./server --exclude='*.vsix' -cf - . |
  tar -C "$work/ext" -xf -
# A debug build carries ~100 MB of debug info; the .vsix gets a stripped copy.
cp "$DISTSYS_REVIEW_BIN" "$work/distsys-review"
strip "$work/distsys-review" 2>/dev/null || true
VSCE="$CACHE/tools/node_modules/.bin/vsce" "$work/ext/scripts/package.sh" \
  --bundle "$work/distsys-review" --out "$work/distsys-review.vsix" >"$DSR_ARTIFACTS/vsce.log" 2>&1 ||
  { tail -30 "$DSR_ARTIFACTS/vsce.log" >&2; exit 1; }
echo "vscode: packaged .vsix ($(du -k "$work/distsys-review.vsix" | cut -f1) KiB) in $((SECONDS - t0)) s"

# --- code-server, its own dirs, the extension installed --------------------------------------------------------
cp -r "$here/project" "$work/project"
# The bundled sample service (Go API, Rust worker, TypeScript gateway), copied so that applying a fix edits the
# copy, not the repository.
cp -r "$repo/examples/shop" "$work/project/shop"
mkdir -p "$work/user/User" "$work/ext-dir" "$work/xdg/config" "$work/xdg/data"
cat >"$work/user/User/settings.json" <<'JSON'
{
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "extensions.ignoreRecommendations": true,
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "editor.hover.delay": 200,
  "editor.minimap.enabled": false,
  "window.zoomLevel": 0,
  "chat.disableAIFeatures": true,
  "git.enabled": false,
  "distsysReview.trace.server": "messages"
}
JSON
export XDG_CONFIG_HOME="$work/xdg/config" XDG_DATA_HOME="$work/xdg/data"
cs_args=(--extensions-dir "$work/ext-dir" --user-data-dir "$work/user" --config /dev/null)
"$CODE_SERVER" "${cs_args[@]}" --install-extension "$work/distsys-review.vsix" >"$DSR_ARTIFACTS/install-extension.log" 2>&1 ||
  { cat "$DSR_ARTIFACTS/install-extension.log" >&2; exit 1; }

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export DISTSYS_REVIEW_TEST_OUT="$work/state.json"
setsid "$CODE_SERVER" --bind-addr "127.0.0.1:$port" --auth none --disable-telemetry --disable-update-check \
  --disable-workspace-trust --disable-getting-started-override "${cs_args[@]}" "$work/project" \
  >"$DSR_ARTIFACTS/code-server.log" 2>&1 &
pgids+=($!)
disown # its group is killed in cleanup; no "Killed" job report
for _ in $(seq 1 150); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || { tail -20 "$DSR_ARTIFACTS/code-server.log" >&2; exit 1; }
echo "vscode: code-server up on port $port after $((SECONDS - t0)) s"

# --- the scenario ----------------------------------------------------------------------------------------------
status=0
DSR_PROJECT="$work/project" DSR_URL="http://127.0.0.1:$port/?folder=$work/project" DSR_STATE="$work/state.json" DSR_EXPECT="$here/expect.json" \
DSR_TOOLS="$CACHE/tools" DSR_SCREENSHOTS="${DSR_SCREENSHOTS:-}" \
  setsid timeout 420 node "$here/vscode/e2e.cjs" &
pgids+=($!)
wait "${pgids[-1]}" || status=$?
echo "vscode: done in $((SECONDS - t0)) s"
exit "$status"
