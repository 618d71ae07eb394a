#!/usr/bin/env bash
# Proves the README's two quick-start commands work on a fresh machine: clones this repository's HEAD into a
# temporary directory and runs both commands there with an empty CARGO_HOME and CARGO_TARGET_DIR (the registry
# reachable, nothing cached) and, unless --keep-editor-cache is given, an empty editor-install cache. Fails if
# either command fails. The commands are read from README.md's "Quick start" section, so this checks what a
# newcomer actually copies. It builds everything from nothing: expect 15–30 minutes on 2 cores (docs/ci.md).
#
#   scripts/fresh-check.sh [--keep-editor-cache] [--keep]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
keep_editor_cache=0 keep=0
for arg in "$@"; do
  case "$arg" in
    --keep-editor-cache) keep_editor_cache=1 ;;
    --keep) keep=1 ;;
    *) echo "usage: $0 [--keep-editor-cache] [--keep]" >&2; exit 2 ;;
  esac
done

# The first two ```sh blocks after the "## Quick start" heading, one command each.
mapfile -t commands < <(awk '
  /^## Quick start/ { in_section = 1; next }
  in_section && /^## / { exit }
  in_section && /^```sh/ { in_block = 1; next }
  in_block && /^```/ { in_block = 0; next }
  in_block && NF { print }
' "$repo/README.md")
if ((${#commands[@]} != 2)); then
  echo "fresh-check: expected two commands in README.md's Quick start, found ${#commands[@]}:" >&2
  printf '  %s\n' "${commands[@]}" >&2
  exit 2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/dsr-fresh.XXXXXX")"
cleanup() { if ((keep)); then echo "fresh-check: kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
git clone --quiet --no-hardlinks "$repo" "$work/clone"
mkdir -p "$work/cargo-home" "$work/target"
# rustup's proxies find the toolchain through RUSTUP_HOME, which stays; only the registry and builds start empty.
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export CARGO_HOME="$work/cargo-home" CARGO_TARGET_DIR="$work/target"
export PATH="$(dirname "$(command -v cargo)"):$PATH"
if ((!keep_editor_cache)); then
  export DSR_EDITOR_CACHE="$work/editor-cache"
fi

status=0
total=$SECONDS
for command in "${commands[@]}"; do
  echo "==> fresh-check: $command"
  start=$SECONDS
  if (cd "$work/clone" && bash -c "$command"); then
    echo "==> fresh-check: passed in $((SECONDS - start)) s: $command"
  else
    echo "==> fresh-check: FAILED after $((SECONDS - start)) s: $command" >&2
    status=1
    break
  fi
done
echo "==> fresh-check: $([ $status = 0 ] && echo passed || echo failed) in $((SECONDS - total)) s"
exit $status
