#!/bin/sh
# Replaces the section NAME of a Markdown FILE — the lines between `<!-- NAME:begin -->` and `<!-- NAME:end -->`
# — with standard input, appending the markers and the section at the end when the file has none. The benchmark
# scripts write their figures into docs/performance.md with it.
#
#   scripts/doc-section.sh FILE NAME < text
set -eu
file=$1
name=$2
new=$(mktemp)
trap 'rm -f "$new" "$new.out"' EXIT
cat > "$new"
touch "$file"
if grep -q "^<!-- $name:begin -->\$" "$file"; then
  awk -v name="$name" -v new="$new" '
    $0 == "<!-- " name ":begin -->" { print; while ((getline line < new) > 0) print line; skipping = 1; next }
    $0 == "<!-- " name ":end -->" { skipping = 0 }
    !skipping { print }
  ' "$file" > "$new.out"
else
  { cat "$file"; echo; echo "<!-- $name:begin -->"; cat "$new"; echo "<!-- $name:end -->"; } > "$new.out"
fi
cat "$new.out" > "$file"
