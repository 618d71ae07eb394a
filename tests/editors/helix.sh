#!/usr/bin/env bash
# Helix cannot be installed here: check only that the shipped snippet parses and wires the server into every
# language it names.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python3 - "$here/../../editors/helix/languages.toml" <<'PY'
import sys, tomllib
d = tomllib.load(open(sys.argv[1], "rb"))
server = d["language-server"]["distsys-review"]
assert server["command"] == "distsys-review" and server["args"] == ["lsp"], server
langs = {l["name"]: l["language-servers"] for l in d["language"]}
for name in ("go", "rust", "typescript", "tsx"):
    assert "distsys-review" in langs.get(name, []), f"{name} lacks distsys-review"
    assert len(langs[name]) > 1, f"{name} drops Helix's default servers"
print(f"helix: snippet parses; distsys-review in {', '.join(sorted(langs))}")
PY
