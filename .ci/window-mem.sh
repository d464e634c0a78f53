#!/usr/bin/env bash
# window-mem.sh: the desktop window's memory, for BENCHMARKS.md.
#
#   .ci/window-mem.sh BINARY            print the figures
#   .ci/window-mem.sh BINARY --write    also replace the "Window memory"
#                                       section of BENCHMARKS.md
#
# BINARY is the desktop build (bin/patchbay, `make desktop`). The app runs
# under Xvfb with a private keyring and 10 connectors, all connected to a
# real server-everything; once it is idle on the Connectors screen, the
# proportional set size (PSS, /proc/PID/smaps_rollup) of the app and of its
# WebKit processes is summed. PSS splits shared pages between the processes
# that map them, so the sum counts every page once.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:?usage: $0 BINARY [--write]}
write=${2:-}
target_mb=220
out=$(mktemp -d "${TMPDIR:-/tmp}/patchbay-window-mem.XXXXXX")
trap 'rm -rf "$out"' EXIT

load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")
WINDOW_MEM=1 WINDOW_CONNECTORS=${WINDOW_CONNECTORS:-10} WINDOW_SHOT=${WINDOW_SHOT:-$PWD/.artifacts/window-mem.png} \
	.ci/window-test.sh "$bin" >"$out/run.txt" 2>&1 || {
	cat "$out/run.txt" >&2
	echo "window-mem: the measurement failed" >&2
	exit 1
}
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")

grep '^WINDOW_MEM ' "$out/run.txt" >"$out/procs.txt" || { cat "$out/run.txt" >&2; exit 1; }
total_kb=$(sed -n 's/^WINDOW_PSS_KB=//p' "$out/run.txt")
mb() { awk "BEGIN { printf \"%.0f\", $1 / 1024 }"; }
total=$(mb "$total_kb")
llvm=$(mb "$(awk '{s += $6} END {print s}' "$out/procs.txt")")
n=${WINDOW_CONNECTORS:-10}
verdict=$(awk "BEGIN { print ($total <= $target_mb) ? \"met\" : \"**missed**\" }")

rows=$(awk '{
	name = $2
	if (name == "patchbay") name = "patchbay (Go backend, GTK, WebKit UI process)"
	else if (name ~ /^WebKitWebProces/) name = "WebKitWebProcess (the page)"
	else if (name ~ /^WebKitNetworkPr/) name = "WebKitNetworkProcess"
	printf "| %s | %.0f MB | %.0f MB | %.0f MB |\n", name, $3/1024, $4/1024, $5/1024
}' "$out/procs.txt")

echo "window-mem: ${total} MB PSS (target ≤ ${target_mb} MB: ${verdict//\*/}), of which ${llvm} MB is Mesa's libLLVM"
cat "$out/procs.txt"

[[ $write == --write ]] || exit 0

section=$(cat <<MD
<!-- bench:window:begin -->
## Window memory

Measured $(date -u '+%Y-%m-%d %H:%M UTC') at $(git rev-parse --short HEAD 2>/dev/null || echo '?') by \`.ci/window-mem.sh\`
on $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.1f GiB", $2/1048576 }' /proc/meminfo), $(uname -sr), WebKitGTK $(dpkg-query -W -f='${Version}' libwebkit2gtk-4.1-0 2>/dev/null || echo '?').
Load average before/after: $load_before / $load_after.

**How:** the desktop build (\`make desktop\`) runs under Xvfb (1280×860, software rendering) with a private
keyring and $n connectors, all connected to a real server-everything. Once it has been idle on the Connectors
screen for 15 s, the PSS (\`/proc/PID/smaps_rollup\`) of the app and of every process it started is summed; PSS
splits shared pages between the processes that map them, so nothing is counted twice.

| Measure | Target | Result | |
|---|---|---|---|
| Window memory, idle on Connectors, $n connectors (PSS, all processes) | ≤ $target_mb MB | **$total MB** | $verdict |

| Process | PSS | anonymous | file-backed |
|---|---|---|---|
$rows

Details:
- **Where it goes.** Most of it is WebKitGTK itself: its code and data pages (file-backed) and the page's
  DOM, style and JavaScript heap (anonymous). The UI bundle is small (about 160 KB of JavaScript) and the Go
  backend's live heap is a few MB.
- **Mesa's software GL: $llvm MB.** Without a GPU (as under Xvfb) GTK and WebKit initialise GL through Mesa's
  llvmpipe, whose libLLVM is mapped by both the app and the page process even though the window asks for no
  GPU acceleration. On a desktop with a GPU driver this share is the driver's instead.
- **Trimming in place:** JavaScriptCore runs without its JIT and WebKit's DMA-BUF renderer is off (each unless
  the environment sets otherwise), and the Go heap is returned to the system after 10 s without tool calls
  (app/window.go, \`lightweight\` and \`trimWhenIdle\`); the high GOGC that keeps calls fast stays.

Reproduce: \`make desktop && .ci/window-mem.sh bin/patchbay\` (add \`--write\` to update this section).
<!-- bench:window:end -->
MD
)

printf '%s\n' "$section" >"$out/section.md"
.ci/bench-section.sh window "$out/section.md"
echo "window-mem: wrote the Window memory section of BENCHMARKS.md" >&2
