#!/usr/bin/env bash
# Analysis ÷ parse in instructions (callgrind): load-independent, so it can be measured on a busy machine, unlike
# the wall-clock figures of bench-scan.sh. Per tree: the instructions of the per-file analysis
# (`Engine::parse_and_analyze`: parse, facts, models, rules, suppressions), of the tree-sitter parse inside it
# (`dsr_engine::parse::parse`), of the facts pass (`FileFacts::compute`), and their ratio; then the functions
# with the most inclusive instructions below the analysis, for finding what to cut.
#
#   scripts/bench-instructions.sh [--top N] [TREE...]   default: the four trees named in docs/performance.md
#
# A TREE is a path, or NAME=PATH,PATH,... for several paths scanned together under one name. OUT (default
# target/callgrind) is where each tree's callgrind output, annotation, findings and log go.
#
# One job, no index, no cache, every rule (`--select ALL`). The callgrind output of each tree is kept in
# target/callgrind/<name>.out for `callgrind_annotate --inclusive=yes`. Needs valgrind; a release binary built
# with line tables (`CARGO_PROFILE_RELEASE_DEBUG=line-tables-only`) names inlined code better, but plain release
# symbols are enough for the three phases.
set -euo pipefail
cd "$(dirname "$0")/.."
top=0
if [ "${1:-}" = --top ]; then top="$2"; shift 2; fi
if [ -z "${DSR_BIN:-}" ]; then cargo build --release --quiet -p dsr-cli; fi
bin="${DSR_BIN:-$PWD/target/release/distsys-review}"
if [ "$#" -eq 0 ]; then
  nats=/work/corpora/nats-server/server
  set -- /work/corpora/etcd/server/etcdserver \
    "nats-server-5-files=$nats/jetstream_test.go,$nats/filestore.go,$nats/stream.go,$nats/raft.go,$nats/client.go" \
    /work/corpora/playwright/packages/playwright-core/src/server /work/corpora/vector/src/sinks
fi
out_dir="${OUT:-target/callgrind}"
mkdir -p "$out_dir"
# Under valgrind a large file parses 50 times slower: the default 2 s parse deadline would skip it, and the
# counts would compare different sets of files. (The performance corpora have no configuration of their own.)
config="$out_dir/callgrind.toml"
printf '[limits]\nparse-timeout-ms = 60000\n' >"$config"
printf '%-28s %14s %14s %14s %14s %8s\n' tree analysis parse facts beyond-parse 'a÷p'
for tree in "$@"; do
  case "$tree" in
    *=*) name="${tree%%=*}"; IFS=, read -r -a paths <<<"${tree#*=}" ;;
    # /work/corpora/etcd/server/etcdserver → etcd-etcdserver
    *) name="$(sed -E 's|.*/corpora/([^/]+)/(.*/)?([^/]+)/?$|\1-\3|; s|.*/([^/]+)/([^/]+)/?$|\1-\2|' <<<"$tree")"
      paths=("$tree") ;;
  esac
  out="$out_dir/$name.out"
  valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" check "${paths[@]}" --config "$config" --select ALL --no-index \
    --no-cache --fail-on none --format json --output "$out_dir/$name.json" --max-file-size 10M \
    --jobs 1 >/dev/null 2>"$out_dir/$name.log" || true
  callgrind_annotate --inclusive=yes --threshold=100 "$out" 2>/dev/null >"$out_dir/$name.txt" || true
  # The inclusive count of the first line naming a function (callgrind_annotate sorts by count), with or without
  # its binary: a build with line tables splits a function by the source file of its (inlined) code, and only one
  # of those entries carries the binary's name. A name missing from the output (inlined by the compiler) counts
  # 0 instead of stopping the script.
  count() { { grep -m1 -E "[[:space:]][^ ]*$1( \[|$)" "$out_dir/$name.txt" || true; } | awk '{gsub(",", "", $1); print $1}'; }
  analysis=$(count 'dsr_engine::engine::Engine::parse_and_analyze')
  parse=$(count 'dsr_engine::parse::parse')
  # Builds from before `parse` was kept out of line: the tree-sitter parse below it.
  [ -n "$parse" ] || parse=$(count 'dsr_syntax::document::parse_str_bounded')
  facts=$(count 'dsr_semantic::facts::FileFacts::compute')
  awk -v n="$name" -v a="${analysis:-0}" -v p="${parse:-0}" -v f="${facts:-0}" 'BEGIN {
    printf "%-28s %14.0f %14.0f %14.0f %14.0f %7.2f×\n", n, a, p, f, a - p, (p > 0 ? a / p : 0) }'
  if [ "$top" -gt 0 ]; then
    # `head` closes the pipe early: under `pipefail` grep's SIGPIPE would end the script after the first tree.
    { grep -E '^ *[0-9,]+ ' "$out_dir/$name.txt" || true; } | head -n "$top" | sed 's/^/    /' || true
  fi
done
