#!/usr/bin/env bash
# bench-section.sh NAME FILE: put the Markdown in FILE into BENCHMARKS.md as
# the section NAME, the lines from <!-- bench:NAME:begin --> to
# <!-- bench:NAME:end --> (FILE includes both markers). An existing section
# is replaced in place; a new one is appended. Every script that writes
# figures to BENCHMARKS.md (bench.sh, window-mem.sh) goes through this, so
# that none of them can overwrite another's section.
set -euo pipefail
cd "$(dirname "$0")/.."

name=${1:?usage: $0 NAME FILE}
section=${2:?usage: $0 NAME FILE}
begin="<!-- bench:$name:begin -->"
end="<!-- bench:$name:end -->"
file=BENCHMARKS.md

if [[ ! -f $file ]]; then
	printf '# Benchmarks\n\nFigures measured by `make bench`. Each section is written by the script named in it;\nre-running replaces only that section.\n\n' >"$file"
elif ! grep -qF "$begin" "$file"; then
	printf '\n' >>"$file"
fi
if grep -qF "$begin" "$file"; then
	tmp=$(mktemp "$file.XXXXXX")
	awk -v repl="$section" -v begin="$begin" -v end="$end" '
		$0 == begin { while ((getline line < repl) > 0) print line; skip = 1; next }
		$0 == end { skip = 0; next }
		!skip
	' "$file" >"$tmp"
	mv "$tmp" "$file"
else
	cat "$section" >>"$file"
fi
