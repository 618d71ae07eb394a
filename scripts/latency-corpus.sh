#!/bin/sh
# Extracts the real-file latency corpus (docs/latency-corpus.tsv: repository, commit, path, lines) into DIR
# (default /work/corpora/latency), as DIR/<owner>+<name>/<path>. Each repository must already be a bare git
# directory under MIRRORS (default /work/.mirror/<owner>+<name>/repo, what the session's `fetch` tool makes;
# `git clone --bare https://github.com/<owner>/<name> …` does as well). Never commit the extracted files.
set -eu
cd "$(dirname "$0")/.."
dir=${1:-/work/corpora/latency}
mirrors=${MIRRORS:-/work/.mirror}
grep -v '^#' docs/latency-corpus.tsv | while IFS="$(printf '\t')" read -r repo commit path _lines; do
    key=$(echo "$repo" | tr / +)
    out="$dir/$key/$path"
    mkdir -p "$(dirname "$out")"
    git --git-dir="$mirrors/$key/repo" show "$commit:$path" > "$out"
done
echo "$(grep -vc '^#' docs/latency-corpus.tsv) files in $dir"
