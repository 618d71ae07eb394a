#!/usr/bin/env bash
# Scan throughput of the release binary: files, bytes, parse-only time and full-analysis time, and MB/s for
# both, once on one thread and once on every CPU (`check --timings`; the report goes to /dev/null).
#
#   scripts/bench-scan.sh [PATH...]          default: this repository's crates/
#   scripts/bench-scan.sh --doc [PATH...]    default: the corpora of docs/performance-corpus.tsv under
#                                            /work/corpora; writes the table to docs/performance.md
#
# Every rule runs (`--select ALL`) whatever the scanned tree's config says; files up to 10 MB are read.
# "parse only" is tree-sitter alone over the same in-memory files; "analysis" is parse + facts + rules +
# suppressions, i.e. what `check` does per file (the result cache is not used with --timings). DESIGN.md §8 asks
# for analysis within 1.3x of parse only. Per language, the figures are per-file CPU time summed (one core's
# work, whatever the number of jobs); the speed-up is the analysis phase's wall time on 1 job over all CPUs.
set -euo pipefail
cd "$(dirname "$0")/.."
write_doc=0
if [ "${1:-}" = --doc ]; then write_doc=1; shift; fi
# DSR_BIN: a binary built already (skips the build).
if [ -z "${DSR_BIN:-}" ]; then cargo build --release --quiet -p dsr-cli; fi
bin="${DSR_BIN:-$PWD/target/release/distsys-review}"
if [ "$#" -eq 0 ]; then
  if [ "$write_doc" = 1 ]; then
    for name in etcd nats-server playwright vector; do set -- "$@" "/work/corpora/$name"; done
  else
    set -- crates
  fi
fi
cpus="$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)"
rows=$(mktemp)
trap 'rm -f "$rows" "$rows.out"' EXIT
for path in "$@"; do
  for jobs in 1 "$cpus"; do
    # Skipped-file warnings are counted in the timings line; the list itself is noise here.
    /usr/bin/time -f 'peak-rss %M' "$bin" check "$path" --select ALL --fail-on none --format json \
      --output /dev/null --max-file-size 10M --jobs "$jobs" --timings 2> "$rows.out" || true
    grep -v '^warning: ' "$rows.out" || true
    # One record per run: path, jobs, analysis wall ms, parse-only wall ms, peak RSS KB, then per language
    # "name|files|MB|parse MB/s|analysis MB/s".
    awk -v path="$(basename "$path")" -v jobs="$jobs" '
      /^  parse only/ { parse = $3 }
      /^  analysis  / { analysis = $2 }
      /^    / && /parse/ { langs = langs sprintf("%s|%s|%s %s|%s|%s;", $1, $2, $4, $5, $(NF-4), $(NF-1)) }
      /^peak-rss/ { rss = $2 }
      END { printf "%s\t%s\t%s\t%s\t%s\t%s\n", path, jobs, analysis, parse, rss, langs }
    ' "$rows.out" >> "$rows"
    [ "$cpus" -gt 1 ] || break
  done
done
if [ "$write_doc" = 1 ]; then
  table=$(awk -F'\t' -v cpus="$cpus" '
    BEGIN {
      print "| corpus | language | files | size | parse only, MB/s (1 core) | analysis, MB/s (1 core) | analysis ÷ parse only | analysis wall 1 / " cpus " jobs | speed-up | peak RSS (" cpus " jobs) |"
      print "|---|---|---|---|---|---|---|---|---|---|"
    }
    $2 == 1 { one[$1] = $3; langs[$1] = $6; order[++n] = $1 }
    $2 != 1 { many[$1] = $3; rss[$1] = $5 }
    END {
      for (i = 1; i <= n; i++) {
        c = order[i]; m = split(langs[c], ls, ";")
        for (j = 1; j < m; j++) {
          split(ls[j], f, "|")
          ratio = (f[5] > 0) ? sprintf("%.2f×", f[4] / f[5]) : "-"
          if (j == 1) {
            speed = (many[c] > 0) ? sprintf("%.2f×", one[c] / many[c]) : "-"
            printf "| %s | %s | %s | %s | %s | %s | %s | %.0f / %.0f ms | %s | %d MB |\n", c, f[1], f[2], f[3], f[4], f[5], ratio, one[c], many[c], speed, rss[c] / 1024
          } else {
            printf "| | %s | %s | %s | %s | %s | %s | | | |\n", f[1], f[2], f[3], f[4], f[5], ratio
          }
        }
      }
    }' "$rows")
  {
    echo "Measured $(date -u +%Y-%m-%d) on $cpus cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load average at the end $(cut -d' ' -f1-3 /proc/loadavg), distsys-review $(git rev-parse --short HEAD)."
    echo
    echo "$table"
    echo
    echo 'Reproduce: `scripts/bench-scan.sh --doc` (the corpora: `scripts/precision.sh checkout --corpus docs/performance-corpus.tsv`).'
  } | scripts/doc-section.sh docs/performance.md scan
  echo "$table"
fi
