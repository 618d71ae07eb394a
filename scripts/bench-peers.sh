#!/usr/bin/env bash
# distsys-review beside ast-grep and Semgrep on the same public trees: wall time and peak RSS, 1 and 2 jobs,
# median of N interleaved runs, and the ratios, written to docs/performance.md (the "Peers" section).
#
#   scripts/bench-peers.sh [--runs N] [--root DIR] [--peers DIR] [--no-doc] [NAME...]
#
# NAME: corpora of docs/performance-corpus.tsv (default all: etcd, nats-server, playwright, vector), checked
# out under ROOT (default /work/corpora) by `scripts/precision.sh checkout --corpus docs/performance-corpus.tsv`
# (never committed). The peers are installed into PEERS (default target/peers, outside version control):
# @ast-grep/cli from npm and semgrep from PyPI, at the versions below. Only this script installs them; no test
# or CI job does.
#
# Each tool gets a small rule set of equal intent (scripts/peers/: HTTP calls without a timeout, response bodies,
# unbounded channels, per language); distsys-review runs its whole default catalog with its models, without the
# result cache. Every run writes its report to /dev/null. Times are wall clock of the whole process (startup,
# walk, parse, rules); RSS is GNU time's maximum resident set size.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
runs=5
root=/work/corpora
peers="$repo/target/peers"
write_doc=1
names=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --root) root="$2"; shift 2 ;;
    --peers) peers="$2"; shift 2 ;;
    --no-doc) write_doc=0; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) names+=("$1"); shift ;;
  esac
done
AST_GREP_VERSION=0.51.1
SEMGREP_VERSION=1.187.0
[ "${#names[@]}" -gt 0 ] || names=(etcd nats-server playwright vector)

# --- install the peers (idempotent) ---------------------------------------------------------------------------
mkdir -p "$peers"
if [ ! -x "$peers/npm/node_modules/.bin/ast-grep" ]; then
  echo "installing @ast-grep/cli@$AST_GREP_VERSION into $peers/npm" >&2
  npm install --silent --no-audit --no-fund --prefix "$peers/npm" "@ast-grep/cli@$AST_GREP_VERSION" >&2
fi
if [ ! -x "$peers/venv/bin/semgrep" ]; then
  echo "installing semgrep==$SEMGREP_VERSION into $peers/venv" >&2
  python3 -m venv "$peers/venv"
  "$peers/venv/bin/pip" install --quiet "semgrep==$SEMGREP_VERSION" >&2
fi
ast_grep="$peers/npm/node_modules/.bin/ast-grep"
semgrep="$peers/venv/bin/semgrep"

# DSR_BIN: a binary built already (skips the build).
if [ -z "${DSR_BIN:-}" ]; then cargo build --release --quiet -p dsr-cli --manifest-path "$repo/Cargo.toml"; fi
dsr="${DSR_BIN:-$repo/target/release/distsys-review}"

# --- one timed run: prints "seconds max_rss_kb" ------------------------------------------------------------------
timed() {
  local out
  out=$(/usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -n 1)
  echo "$out"
}
run_tool() { # tool jobs dir
  local tool=$1 jobs=$2 dir=$3
  case "$tool" in
    dsr) timed "$dsr" check "$dir" --no-cache --fail-on none --format json --output /dev/null --jobs "$jobs" ;;
    ast-grep) timed "$ast_grep" scan --rule "$repo/scripts/peers/ast-grep.yml" --json=compact --threads "$jobs" "$dir" ;;
    semgrep) timed env SEMGREP_SEND_METRICS=off "$semgrep" scan --config "$repo/scripts/peers/semgrep.yml" \
      --metrics off --disable-version-check --jobs "$jobs" --quiet --json --max-target-bytes 2000000 \
      --no-git-ignore "$dir" ;;
  esac
}
median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for name in "${names[@]}"; do
  dir="$root/$name"
  [ -d "$dir" ] || { echo "$name: no tree at $dir (scripts/precision.sh checkout --corpus docs/performance-corpus.tsv)" >&2; exit 1; }
  # Warm the page cache once, so the first tool does not pay for reading the disk.
  "$dsr" check "$dir" --no-cache --fail-on none --format json --output /dev/null >/dev/null 2>&1 || true
  for run in $(seq "$runs"); do
    for jobs in 1 2; do
      for tool in dsr ast-grep semgrep; do
        read -r seconds rss < <(run_tool "$tool" "$jobs" "$dir")
        printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$tool" "$jobs" "$seconds" "$rss" >> "$results"
        echo "$name run $run: $tool -j$jobs ${seconds}s ${rss}KB" >&2
      done
    done
  done
done

# --- the table -------------------------------------------------------------------------------------------------
stat() { # name tool jobs column(4 time, 5 rss)
  awk -F'\t' -v n="$1" -v t="$2" -v j="$3" -v c="$4" '$1==n && $2==t && $3==j {print $c}' "$results" | median
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "-" }'; }
table=$(
  echo "| corpus | distsys-review 1 / 2 jobs | ast-grep 1 / 2 jobs | Semgrep 1 / 2 jobs | ast-grep ÷ dsr (1 / 2 jobs) | Semgrep ÷ dsr (1 / 2 jobs) | peak RSS dsr / ast-grep / Semgrep (1 job) |"
  echo "|---|---|---|---|---|---|---|"
  for name in "${names[@]}"; do
    d1=$(stat "$name" dsr 1 4); d2=$(stat "$name" dsr 2 4)
    a1=$(stat "$name" ast-grep 1 4); a2=$(stat "$name" ast-grep 2 4)
    s1=$(stat "$name" semgrep 1 4); s2=$(stat "$name" semgrep 2 4)
    dm=$(stat "$name" dsr 1 5); am=$(stat "$name" ast-grep 1 5); sm=$(stat "$name" semgrep 1 5)
    printf '| %s | %s / %s s | %s / %s s | %s / %s s | %s / %s | %s / %s | %d / %d / %d MB |\n' \
      "$name" "$d1" "$d2" "$a1" "$a2" "$s1" "$s2" \
      "$(ratio "$d1" "$a1")" "$(ratio "$d2" "$a2")" "$(ratio "$d1" "$s1")" "$(ratio "$d2" "$s2")" \
      $((${dm%.*} / 1024)) $((${am%.*} / 1024)) $((${sm%.*} / 1024))
  done
)
load=$(cut -d' ' -f1-3 /proc/loadavg)
section=$(
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load average at the end $load; median of $runs interleaved runs."
  echo "Versions: distsys-review $(git -C "$repo" rev-parse --short HEAD), ast-grep $AST_GREP_VERSION, Semgrep $SEMGREP_VERSION."
  echo "A ratio above 1 means distsys-review is that many times faster."
  echo
  echo "$table"
  echo
  echo "Reproduce: \`scripts/bench-peers.sh\` (add \`--runs N\`, corpus names)."
)
echo "$section"
if [ "$write_doc" = 1 ]; then
  "$repo/scripts/doc-section.sh" "$repo/docs/performance.md" peers <<< "$section"
fi
