#!/usr/bin/env bash
# Precision harness (issue 13, item 9): scan pinned public codebases with the release binary and write a
# seeded random sample of findings per rule to a judgement file for a human to fill in.
#
#   scripts/precision.sh checkout [--corpus FILE] [--root DIR] [--mirrors DIR]
#       Extract each corpus entry's pinned commit from a bare git dir (what the `fetch` tool leaves in
#       MIRRORS/<owner>+<name>/repo) into ROOT/<name>. Blobs absent from a partial snapshot (its largest files,
#       usually fonts and images) are skipped. Nothing is written inside this repository.
#
#   scripts/precision.sh scan [--corpus FILE] [--root DIR] [--seed N] [--per-rule N] [--jobs N]
#                             [--out FILE] [--volumes FILE] [--reuse] [--bin PATH]
#       Build `dsr-cli` (release), run `check . --format json --fail-on none --jobs N` in each ROOT/<name>
#       (raw JSON kept in ROOT/.results/<name>.json, outside the repo), then write
#         OUT      the judgement file (TSV): the sample with `verdict` and `reason` empty, and
#         VOLUMES  finding volumes per codebase and rule (total / in tests by path convention), Markdown.
#       --reuse reads the JSON of an earlier scan instead of scanning again.
#
#   scripts/precision.sh report FILE.tsv
#       The per-rule table (sampled, true / false / debatable, precision) of a judged file, Markdown; a rule
#       reported at several severities also gets a row per severity.
#
# Defaults: corpus docs/precision/corpus.tsv, root /work/corpora, mirrors /work/.mirror, seed 13, 15 per rule,
# jobs 1, out docs/precision/<today>-baseline.tsv, volumes docs/precision/<today>-volumes.md.
#
# Sampling is deterministic for a seed and independent of scan order: every finding gets the key
# sha256("<seed>|<codebase>|<path>|<line>|<column>|<rule>|<title>") and, per rule, the N findings with the
# smallest keys (hex order) are taken (all of them when the rule has N or fewer). Adding a codebase or a
# finding elsewhere never changes whether an existing finding is drawn, only whether it is still among the N
# smallest for its rule. The sample is drawn from every finding a user sees with the default configuration,
# tests included; the `role` column is the scanner's code role of the finding (by path convention when the output has
# none), and the volumes count findings in test code by path convention.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cmd="${1:-}"
[ -n "$cmd" ] && shift || true

corpus="$repo/docs/precision/corpus.tsv"
root="/work/corpora"
mirrors="/work/.mirror"
seed=13
per_rule=15
jobs=1
today="$(date -u +%Y-%m-%d)"
out="$repo/docs/precision/$today-baseline.tsv"
volumes="$repo/docs/precision/$today-volumes.md"
reuse=0
bin=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --corpus) corpus="$2"; shift 2 ;;
    --root) root="$2"; shift 2 ;;
    --mirrors) mirrors="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --per-rule) per_rule="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --volumes) volumes="$2"; shift 2 ;;
    --reuse) reuse=1; shift ;;
    --bin) bin="$2"; shift 2 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) if [ "$cmd" = report ] && [ -z "${report_file:-}" ]; then report_file="$1"; shift;
       else echo "unknown argument: $1" >&2; exit 2; fi ;;
  esac
done

# Corpus entries: name, owner/repo, commit, language (tab-separated; '#' comments and blank lines ignored).
entries() { grep -v '^[[:space:]]*#' "$corpus" | grep -v '^[[:space:]]*$' | grep -v '^name	'; }

case "$cmd" in
checkout)
  mkdir -p "$root"
  entries | while IFS=$'\t' read -r name gh commit lang; do
    git_dir="$mirrors/${gh/\//+}/repo"
    dest="$root/$name"
    if [ -f "$dest/.precision-commit" ] && [ "$(cat "$dest/.precision-commit")" = "$commit" ]; then
      echo "$name: already at $commit"; continue
    fi
    [ -d "$git_dir" ] || { echo "$name: no mirror at $git_dir (fetch github:$gh first)" >&2; exit 1; }
    rm -rf "$dest"; mkdir -p "$dest"
    python3 - "$git_dir" "$commit" "$dest" <<'PY'
import os, subprocess, sys
git_dir, commit, dest = sys.argv[1:4]
ls = subprocess.run(["git", "--git-dir", git_dir, "ls-tree", "-r", "-z", commit],
                    check=True, capture_output=True).stdout.split(b"\0")
blobs = []
for entry in ls:
    if not entry:
        continue
    meta, path = entry.split(b"\t", 1)
    mode, typ, oid = meta.split()
    if typ == b"blob" and mode != b"120000":  # symlinks are left out
        blobs.append((oid, path.decode("utf-8", "surrogateescape")))
proc = subprocess.Popen(["git", "--git-dir", git_dir, "cat-file", "--batch"],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
written = missing = 0
for oid, path in blobs:
    proc.stdin.write(oid + b"\n"); proc.stdin.flush()
    header = proc.stdout.readline().split()
    if len(header) < 2 or header[1] == b"missing":
        missing += 1
        continue
    size = int(header[2])
    data = proc.stdout.read(size); proc.stdout.read(1)
    full = os.path.join(dest, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as f:
        f.write(data)
    written += 1
proc.stdin.close(); proc.wait()
print(f"{os.path.basename(dest)}: {written} files written, {missing} absent from the snapshot")
PY
    echo "$commit" > "$dest/.precision-commit"
  done
  ;;
scan)
  if [ -z "$bin" ]; then
    (cd "$repo" && cargo build --release --quiet -p dsr-cli)
    bin="$repo/target/release/distsys-review"
  fi
  # Each codebase is scanned from its own folder: a relative --bin is taken from where the script was started.
  case "$bin" in /*) ;; *) bin="$PWD/$bin" ;; esac
  if [ ! -x "$bin" ]; then echo "no executable at $bin (--bin)" >&2; exit 2; fi
  mkdir -p "$root/.results" "$(dirname "$out")" "$(dirname "$volumes")"
  # Never overwrite judgements: refuse when OUT already has a verdict filled in.
  if [ -f "$out" ] && awk -F'\t' 'NR > 1 && $9 != "" { found = 1 } END { exit !found }' "$out"; then
    echo "$out already holds verdicts; pass another --out" >&2; exit 1
  fi
  entries | while IFS=$'\t' read -r name gh commit lang; do
    dest="$root/$name"
    [ -d "$dest" ] || { echo "$name: not checked out in $dest (run: $0 checkout)" >&2; exit 1; }
    if [ -f "$dest/.precision-commit" ] && [ "$(cat "$dest/.precision-commit")" != "$commit" ]; then
      echo "$name: $dest is at $(cat "$dest/.precision-commit"), corpus pins $commit" >&2; exit 1
    fi
    json="$root/.results/$name.json"
    if [ "$reuse" = 1 ] && [ -s "$json" ]; then echo "$name: reusing $json"; continue; fi
    start=$(date +%s)
    (cd "$dest" && "$bin" check . --format json --fail-on none --jobs "$jobs" --output "$json" 2>/dev/null)
    echo "$name: scanned in $(( $(date +%s) - start )) s"
  done
  python3 - "$corpus" "$root" "$seed" "$per_rule" "$out" "$volumes" "$(cd "$repo" && git rev-parse --short HEAD)" <<'PY'
import hashlib, json, os, re, sys
corpus, root, seed, per_rule, out, volumes, tool_rev = sys.argv[1:8]
per_rule = int(per_rule)

def entries():
    with open(corpus) as f:
        for line in f:
            if not line.strip() or line.lstrip().startswith("#") or line.startswith("name\t"):
                continue
            yield line.rstrip("\n").split("\t")[:4]

# Role by path convention (documented in docs/precision.md). Rust `#[cfg(test)]` modules are found in the
# file: a finding at or after the first `#[cfg(test)]` followed by an inline `mod … {` is in tests.
TEST_PATH = re.compile(
    r"(^|/)(tests?|__tests__|__mocks__|testdata|testutils?|testutil|testing|test-?utils?|e2e|integration|integration-tests?|"
    r"benches|fixtures?|mocks?|fakes?|playwright|cypress)(/|$)"
    r"|_test\.go$|(^|/)[^/]*test[^/]*/[^/]*\.go$"
    r"|\.(test|spec|e2e|bench)\.[cm]?[jt]sx?$|(^|/)tests?\.rs$|_tests?\.rs$"
)
EXAMPLE_PATH = re.compile(r"(^|/)(examples?|demos?|demo_[^/]*|samples?|docs?|documentation)(/|$)")
cfg_test_line = {}
def rust_test_start(path):
    if path not in cfg_test_line:
        start = None
        try:
            lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
            for i, l in enumerate(lines):
                if l.strip().startswith("#[cfg(") and "test" in l and "not(test)" not in l:
                    # An inline module (`mod tests {`), not a declaration of one in another file (`mod tests;`).
                    if any(re.match(r"\s*(pub(\(.*\))?\s+)?mod\s+\w+\s*\{", x) for x in lines[i + 1:i + 4]):
                        start = i + 1; break
        except OSError:
            pass
        cfg_test_line[path] = start
    return cfg_test_line[path]

def role(base, path, line):
    if TEST_PATH.search(path):
        return "test"
    if path.endswith(".rs"):
        s = rust_test_start(os.path.join(base, path))
        if s is not None and line >= s:
            return "test"
    if EXAMPLE_PATH.search(path):
        return "example"
    return "prod"

rows, vol, files, order = [], {}, {}, []
for name, gh, commit, lang in entries():
    order.append((name, gh, commit, lang))
    doc = json.load(open(os.path.join(root, ".results", name + ".json")))
    files[name] = doc["summary"]["files_scanned"]
    for f in doc["findings"]:
        line, col = f["range"]["start"]["line"], f["range"]["start"]["column"]
        r = role(os.path.join(root, name), f["path"], line)
        key = hashlib.sha256(f"{seed}|{name}|{f['path']}|{line}|{col}|{f['rule']}|{f['title']}".encode()).hexdigest()
        # The sample's role column is the scanner's own code role when the output has one (production, tool,
        # frontend, migration, …); the volumes' "in tests" count stays by path convention, a check on it.
        rows.append(dict(codebase=name, commit=commit[:12], rule=f["rule"], severity=f["severity"],
                         kind=f["kind"], where=f"{f['path']}:{line}", role=f.get("role") or r,
                         title=f["title"], key=key))
        v = vol.setdefault((name, f["rule"]), [0, 0])
        v[0] += 1
        v[1] += r == "test"

by_rule = {}
for r in rows:
    by_rule.setdefault(r["rule"], []).append(r)
sample = []
for rule in sorted(by_rule):
    sample += sorted(sorted(by_rule[rule], key=lambda r: r["key"])[:per_rule],
                     key=lambda r: (r["codebase"], r["where"]))
# Plain TSV, no quoting: tabs and newlines in titles become spaces.
with open(out, "w") as f:
    f.write("\t".join(["codebase", "commit", "rule", "severity", "kind", "file:line", "role", "title", "verdict",
                       "reason"]) + "\n")
    for r in sample:
        f.write("\t".join([r["codebase"], r["commit"], r["rule"], r["severity"], r["kind"], r["where"], r["role"],
                           re.sub(r"[\t\n\r]", " ", r["title"]), "", ""]) + "\n")

rules = sorted(by_rule)
with open(volumes, "w") as f:
    f.write(f"# Finding volumes (seed {seed}, {per_rule} per rule, distsys-review at {tool_rev})\n\n")
    f.write("Per codebase: files scanned, findings (open questions included), how many in test code by path "
            "convention.\n\n| codebase | repo@commit | language | files | findings | in tests | % in tests |\n"
            "|---|---|---|---|---|---|---|\n")
    for name, gh, commit, lang in order:
        t = sum(v[0] for (n, _), v in vol.items() if n == name)
        te = sum(v[1] for (n, _), v in vol.items() if n == name)
        f.write(f"| {name} | {gh}@{commit[:10]} | {lang} | {files[name]} | {t} | {te} | "
                f"{(100 * te / t if t else 0):.0f}% |\n")
    f.write("\nPer rule and codebase: total / in tests.\n\n| rule | " + " | ".join(n for n, *_ in order) +
            " | total | in tests |\n|---|" + "---|" * (len(order) + 2) + "\n")
    for rule in rules:
        cells = [f"{vol[(n, rule)][0]} / {vol[(n, rule)][1]}" if (n, rule) in vol else "0" for n, *_ in order]
        t = sum(vol[(n, rule)][0] for n, *_ in order if (n, rule) in vol)
        te = sum(vol[(n, rule)][1] for n, *_ in order if (n, rule) in vol)
        f.write(f"| {rule} | " + " | ".join(cells) + f" | {t} | {te} |\n")
print(f"{len(rows)} findings, {len(sample)} sampled over {len(rules)} rules -> {out}; volumes -> {volumes}")
PY
  ;;
report)
  [ -n "${report_file:-}" ] || { echo "usage: $0 report FILE.tsv" >&2; exit 2; }
  python3 - "$report_file" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t", quoting=csv.QUOTE_NONE))
def line(label, rs):
    t = sum(r["verdict"] == "true" for r in rs); fa = sum(r["verdict"] == "false" for r in rs)
    d = sum(r["verdict"] == "debatable" for r in rs); j = t + fa + d
    nt = [r for r in rs if r["role"] != "test"]; ntt = sum(r["verdict"] == "true" for r in nt)
    ntj = sum(r["verdict"] in ("true", "false", "debatable") for r in nt)
    p = f"{100 * t / j:.0f}%" if j else "–"; q = f"{100 * ntt / ntj:.0f}% ({ntt}/{ntj})" if ntj else "–"
    sev = "/".join(sorted({r["severity"] + ("?" if r["kind"] == "open-question" else "") for r in rs}))
    print(f"| {label} | {sev} | {len(rs)} | {j} | {t} | {fa} | {d} | {p} | {q} |")
print("| rule | severity | sampled | judged | true | false | debatable | precision | outside tests |")
print("|---|---|---|---|---|---|---|---|---|")
# A rule reported at several severities (low in tools and frontends, high in services) also gets a row per
# severity: the thresholds are per severity.
label = lambda r: r["severity"] + ("?" if r["kind"] == "open-question" else "")
for rule in sorted({r["rule"] for r in rows}):
    of_rule = [r for r in rows if r["rule"] == rule]
    line(rule, of_rule)
    severities = sorted({label(r) for r in of_rule})
    if len(severities) > 1:
        for severity in severities:
            line(f"{rule} ({severity})", [r for r in of_rule if label(r) == severity])
for label, pred in (("Critical/High", lambda r: r["kind"] == "finding" and r["severity"] in ("critical", "high")),
                    ("Medium/Low", lambda r: r["kind"] == "finding" and r["severity"] in ("medium", "low")),
                    ("open questions", lambda r: r["kind"] == "open-question"), ("all", lambda r: True)):
    line(f"**{label}**", [r for r in rows if pred(r)])
PY
  ;;
*)
  sed -n '2,30p' "$0"; exit 2 ;;
esac
