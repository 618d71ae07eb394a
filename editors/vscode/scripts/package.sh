#!/usr/bin/env bash
# Builds the .vsix. Offline once npm's cache holds the dependencies.
#
#   scripts/package.sh [--bundle PATH/TO/distsys-review] [--out FILE.vsix]
#
# --bundle copies the server binary into server/<platform>-<arch>/ and makes a platform-specific .vsix
# (vsce --target), which the extension prefers over PATH when distsysReview.server.path is empty.
# vsce: $VSCE if set, else `npx @vscode/vsce@3.9.1` (4.x needs Node 22).
set -euo pipefail
cd "$(dirname "$0")/.."

bundle="" out=""
while (($#)); do
  case "$1" in
    --bundle) bundle="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "usage: $0 [--bundle BIN] [--out FILE.vsix]" >&2; exit 2 ;;
  esac
done

npm ci --prefer-offline --no-audit --no-fund --loglevel=error >&2

platform="$(node -p 'process.platform + "-" + process.arch')"
rm -rf server
args=()
if [[ -n "$bundle" ]]; then
  mkdir -p "server/$platform"
  cp "$bundle" "server/$platform/distsys-review"
  chmod +x "server/$platform/distsys-review"
  args+=(--target "$platform")
fi
[[ -n "$out" ]] && args+=(--out "$out")
# README links are relative to editors/vscode in the repository; vsce would resolve them against its root.
repo_url="$(node -p 'require("./package.json").repository.url')"
args+=(--baseContentUrl "$repo_url/blob/HEAD/editors/vscode" --baseImagesUrl "$repo_url/raw/HEAD/editors/vscode")

if [[ -n "${VSCE:-}" ]]; then
  "$VSCE" package "${args[@]}" >&2
else
  npx --yes @vscode/vsce@3.9.1 package "${args[@]}" >&2
fi
