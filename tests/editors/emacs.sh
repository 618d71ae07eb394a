#!/usr/bin/env bash
# Emacs 28 + eglot 1.9 (Debian's emacs-nox and elpa-eglot), in batch mode, configured with the eglot snippet of
# docs/editors.md (read from the page, so the documented snippet is the one tested), on a scratch copy of
# examples/shop: the SQL migration's OPS001 diagnostic through flymake, a hover, the code actions.
# Needs DISTSYS_REVIEW_BIN and DSR_ARTIFACTS (set by run.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/dsr-emacs.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp -r "$repo/examples/shop" "$work/shop"
git -C "$work/shop" init -q .  # project.el finds the project by its VCS root
# The ```elisp block of docs/editors.md's eglot section, with the binary under test on PATH.
python3 - "$repo/docs/editors.md" "$work/snippet.el" <<'PY'
import re, sys
doc = open(sys.argv[1]).read()
section = doc[doc.index("### eglot"):]
block = re.search(r"```elisp\n(.*?)```", section, re.S).group(1)
open(sys.argv[2], "w").write(block)
PY
status=0
PATH="$(dirname "$DISTSYS_REVIEW_BIN"):$PATH" HOME="$work" \
DSR_SNIPPET="$work/snippet.el" DSR_FILE="$work/shop/migrations/0003_cleanup.sql" \
  timeout 120 emacs --batch -Q -l "$here/emacs/test.el" >"$DSR_ARTIFACTS/emacs-eglot.log" 2>&1 || status=$?
grep -E '^(  ok|  FAIL|emacs)' "$DSR_ARTIFACTS/emacs-eglot.log" || true
((status == 0)) || { echo "emacs: exit $status (see $DSR_ARTIFACTS/emacs-eglot.log)" >&2; tail -20 "$DSR_ARTIFACTS/emacs-eglot.log" >&2; }
exit "$status"
