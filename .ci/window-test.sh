#!/usr/bin/env bash
# window-test.sh: start the desktop app under a virtual X display and prove
# the window works; save a screenshot of its Connectors screen.
#
#   .ci/window-test.sh BINARY        (make test-window)
#
# With a private keyring (.ci/with-keyring) and Xvfb (xvfb-run) it:
#   1. adds connectors (pointing at a real server-everything) with the CLI,
#   2. starts BINARY and fails unless its window appears and draws the UI,
#   3. saves .artifacts/window-connectors.png (override: WINDOW_SHOT=path)
#      and, for the README, frontend/screenshots/window-connectors.png,
#   4. closes the window (Ctrl+W): the close hint appears once, the window
#      hides and the MCP endpoint keeps answering,
#   5. while hidden, a tool call that needs approval raises a native
#      notification (a test notification server, .ci/notifyd, records it and
#      clicks it): the window comes back; the call is denied with the CLI,
#   6. hides the window again (no hint the second time): another such call
#      raises a notification nobody clicks; denying the call with the CLI
#      withdraws it, and the window stays hidden,
#   7. launches BINARY again: the second launch exits and the first window
#      comes back,
#   8. quits with Ctrl+Q (the app menu's Quit): the process exits 0 and
#      removes its instance record.
#
# WINDOW_CONNECTORS=N adds N connectors (default 3); WINDOW_MEM=1 also
# prints the memory (PSS) of the app and its WebKit processes once idle on
# the Connectors screen (.ci/window-mem.sh uses it) and skips steps 4-8.
set -euo pipefail

me=window-test
die() {
	echo "$me: $*" >&2
	exit 1
}

bin=${1:-}
[[ -n $bin ]] || die "usage: $0 BINARY"
[[ -x $bin ]] || die "$bin is not an executable; build it with \`make desktop\`"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
root=$(cd "$(dirname "$0")/.." && pwd)

# Outer layers: a private keyring (the admin token and connector secrets
# live in the keychain), then a virtual display.
if [[ ${PATCHBAY_PRIVATE_KEYRING:-} != 1 ]]; then
	exec "$root/.ci/with-keyring" "$0" "$@"
fi
if [[ -z ${WINDOW_TEST_INNER:-} ]]; then
	missing=()
	for pair in xvfb-run:xvfb Xvfb:xvfb xauth:xauth xdotool:xdotool xwininfo:x11-utils xwd:x11-apps \
		xwdtopnm:netpbm pnmtopng:netpbm ppmhist:netpbm node:nodejs; do
		command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
	done
	((${#missing[@]} == 0)) || die "missing tools; install them with: sudo apt-get install ${missing[*]}  (or run \`make test-deps\`)"
	export WINDOW_TEST_INNER=1
	exec xvfb-run -a -s "-screen 0 1280x860x24 -nolisten tcp" "$0" "$@"
fi

# Inner: we have a keyring and $DISPLAY.
work=$(mktemp -d "${TMPDIR:-/tmp}/patchbay-window.XXXXXX")
app_pid='' peer_pid='' call_pid='' notifyd_pid=''
# stop_pid PID: SIGTERM, up to 10 s to exit, then SIGKILL; returns 0 when
# the process exited by itself with status 0.
stop_pid() {
	local p=$1 i
	kill "$p" 2>/dev/null || return 0
	for i in $(seq 100); do
		if ! kill -0 "$p" 2>/dev/null; then
			wait "$p" 2>/dev/null
			return
		fi
		sleep 0.1
	done
	kill -9 "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	return 99
}
# retry N CMD...: runs CMD every 0.1 s until it succeeds, at most N times.
retry() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
cleanup() {
	for p in $app_pid $peer_pid $call_pid $notifyd_pid; do stop_pid "$p" || true; done
	rm -rf "$work"
}
trap cleanup EXIT
fail() {
	echo "$me: FAIL: $*" >&2
	if [[ -f $work/app.log ]]; then
		echo "$me: app log (tail):" >&2
		tail -n 40 "$work/app.log" | sed "s/^/$me:   /" >&2
	fi
	exit 1
}

export PATCHBAY_HOME=$work/home HOME=$work/user XDG_CONFIG_HOME=$work/user/.config
mkdir -p "$PATCHBAY_HOME" "$HOME"
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
port=$(free_port)

# A real upstream for the connectors, so that they connect.
peer_dir=$root/backend/internal/testpeer/node
peer_js=$peer_dir/node_modules/@modelcontextprotocol/server-everything/dist/index.js
[[ -f $peer_js ]] || die "$peer_js is missing: run \`make test-deps\`"
peer_port=$(free_port)
(cd "$peer_dir" && PORT=$peer_port exec node "$peer_js" streamableHttp >"$work/peer.log" 2>&1) &
peer_pid=$!

"$bin" settings set "port=$port" >/dev/null || fail "could not set the port with the CLI"
retry 100 port_open "$peer_port" || true
n=${WINDOW_CONNECTORS:-3}
words=(Everything Docs Calendar Tickets Wiki Search Files Mail CRM Analytics Billing Support)
names=()
for ((i = 0; i < n; i++)); do
	name=${words[i % ${#words[@]}]}
	((i >= ${#words[@]})) && name="$name $i"
	names+=("$name")
	"$bin" connector add --name "$name" --url "http://127.0.0.1:$peer_port/mcp" \
		--description "Test connector $((i + 1)) of $n (server-everything)." >/dev/null ||
		fail "could not add connector $name with the CLI"
done

# A notification server on the private session bus, recording what the app
# shows and clicking the first one a moment later, as a person would.
if [[ ${WINDOW_MEM:-} != 1 ]]; then
	(cd "$root" && go build -o "$work/notifyd" ./.ci/notifyd) || fail "could not build .ci/notifyd"
	"$work/notifyd" -log "$work/notifications.jsonl" -click 1s -max-clicks 1 >"$work/notifyd.out" 2>&1 &
	notifyd_pid=$!
	retry 50 grep -qs ready "$work/notifyd.out" || fail "the test notification server did not start: $(cat "$work/notifyd.out")"
fi

"$bin" >"$work/app.log" 2>&1 &
app_pid=$!

# The window must appear (title "Patchbay") within 30 s.
wid=''
for _ in $(seq 300); do
	kill -0 "$app_pid" 2>/dev/null || fail "the app exited before its window appeared"
	wid=$(xdotool search --onlyvisible --name '^Patchbay$' 2>/dev/null | head -n1 || true)
	[[ -n $wid ]] && break
	sleep 0.1
done
[[ -n $wid ]] || fail "no window titled Patchbay appeared within 30 s"
echo "$me: window $wid appeared"

curl_health() { (exec 3<>"/dev/tcp/127.0.0.1/$port" && printf 'GET /api/v1/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 && grep -q '"status":"ok"' <&3) 2>/dev/null; }
retry 100 curl_health || fail "the endpoint on port $port does not answer"

# mapped STATE: the window's map state is STATE (IsViewable, IsUnMapped).
mapped() { xwininfo -id "$wid" 2>/dev/null | grep -q "$1"; }
# focus ID: gives window ID the keyboard, for xdotool key.
focus() { xdotool windowactivate --sync "$1" 2>/dev/null || xdotool windowfocus --sync "$1" 2>/dev/null || true; }
shot() { xwd -silent -id "$wid" | xwdtopnm 2>/dev/null | pnmtopng >"$1" 2>/dev/null; }
colours() { xwd -silent -id "$wid" | xwdtopnm 2>/dev/null | ppmhist -noheader 2>/dev/null | wc -l; }

# Connect the connectors through the running app (the CLI talks to it):
# their status reaches the window as live events.
for name in "${names[@]}"; do
	"$bin" tools refresh "$name" >/dev/null 2>"$work/refresh.log" || fail "could not connect $name: $(cat "$work/refresh.log")"
done

# The UI has drawn when the window shows text and colour, not one flat
# background: wait for that, then for the connectors to connect.
drawn=0
for _ in $(seq 60); do
	if (($(colours) > 40)); then drawn=1; break; fi
	sleep 0.5
done
((drawn)) || { shot "$work/blank.png"; fail "the window stayed blank (no UI drawn within 30 s)"; }
sleep "${WINDOW_SETTLE:-4}"

out=${WINDOW_SHOT:-$root/.artifacts/window-connectors.png}
mkdir -p "$(dirname "$out")"
shot "$out" && [[ -s $out ]] || fail "could not take a screenshot"
echo "$me: screenshot saved to $out"
if [[ ${WINDOW_MEM:-} != 1 && -d $root/frontend/screenshots ]]; then
	# The README shows the window as the tests last saw it.
	cp "$out" "$root/frontend/screenshots/window-connectors.png"
fi

if [[ ${WINDOW_MEM:-} == 1 ]]; then
	# PSS of the app and every process below it (WebKitWebProcess,
	# WebKitNetworkProcess), idle on the Connectors screen. One line per
	# process (WINDOW_MEM name pss_kb anon_kb file_kb llvm_kb), then the
	# total; .ci/window-mem.sh turns them into BENCHMARKS.md's section.
	sleep "${WINDOW_IDLE:-15}"
	descendants() {
		local c
		for c in $(ps -o pid= --ppid "$1" | tr -d ' '); do
			echo "$c"
			descendants "$c"
		done
	}
	total=0
	for p in $app_pid $(descendants "$app_pid"); do
		read -r pss anon file < <(awk '/^Pss:/ {p=$2} /^Pss_Anon:/ {a=$2} /^Pss_File:/ {f=$2} END {print p+0, a+0, f+0}' "/proc/$p/smaps_rollup")
		# Mesa's software GL (llvmpipe) links libLLVM; under Xvfb every
		# process that initialises GL maps it.
		llvm=$(awk '/^[0-9a-f]+-[0-9a-f]+ / {name = $6} /^Pss:/ && name ~ /libLLVM/ {s += $2} END {print s+0}' "/proc/$p/smaps")
		echo "WINDOW_MEM $(tr -d '\0 ' <"/proc/$p/comm") $pss $anon $file $llvm"
		total=$((total + pss))
	done
	echo "$me: window memory (PSS, $n connectors, idle on Connectors): $((total / 1024)) MB"
	echo "WINDOW_PSS_KB=$total"
	rc=0
	stop_pid "$app_pid" || rc=$?
	app_pid=''
	[[ $rc == 0 ]] || fail "the app did not stop cleanly on SIGTERM (status $rc)"
	exit 0
fi

# Closing hides the window (telling the person once) and keeps serving.
focus "$wid"
xdotool key --clearmodifiers ctrl+w
hint=''
find_hint() { hint=$(xdotool search --onlyvisible --name 'Patchbay keeps running' 2>/dev/null | head -n1) && [[ -n $hint ]]; }
retry 50 find_hint || fail "closing the window did not explain that Patchbay keeps running"
focus "$hint"
xdotool key --clearmodifiers Return
retry 50 mapped IsUnMapped || fail "the window did not hide after closing"
kill -0 "$app_pid" 2>/dev/null || fail "closing the window stopped the app"
curl_health || fail "the endpoint stopped answering while the window is hidden"
echo "$me: closing hid the window; the endpoint keeps serving"

# While the window is hidden, a call that needs approval raises a native
# notification; clicking it brings the window up.
"$bin" tools policy Everything needs_approval echo >/dev/null || fail "could not set echo to needs_approval"
token=$("$bin" token create window-test --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).token))') ||
	fail "could not issue a client token"
cat >"$work/call.mjs" <<'JS'
// Calls everything_echo through Patchbay with the TypeScript SDK client.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
const sdk = process.env.SDK;
const { Client } = await import(pathToFileURL(join(sdk, 'client/index.js')).href);
const { StreamableHTTPClientTransport } = await import(pathToFileURL(join(sdk, 'client/streamableHttp.js')).href);
const client = new Client({ name: 'window-test-client', version: '1.0.0' });
await client.connect(new StreamableHTTPClientTransport(new URL(process.env.URL), {
  requestInit: { headers: { Authorization: `Bearer ${process.env.TOKEN}` } },
}));
const res = await client.callTool({ name: 'everything_echo', arguments: { message: 'from the window test' } }, undefined, { timeout: 120000 });
console.log(JSON.stringify(res));
await client.close();
JS
# start_call calls everything_echo in the background; deny_call denies the
# request it waits on and checks that the call ends denied.
start_call() {
	SDK=$peer_dir/node_modules/@modelcontextprotocol/sdk/dist/esm URL=http://127.0.0.1:$port/mcp TOKEN=$token \
		node "$work/call.mjs" >"$work/call.out" 2>&1 &
	call_pid=$!
}
deny_call() {
	local id
	id=$("$bin" approvals list --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[0]?.id ?? ""))')
	[[ -n $id ]] || fail "the approval request is not pending"
	"$bin" approvals deny "$id" >/dev/null || fail "could not deny the approval request"
	wait "$call_pid" 2>/dev/null || true
	call_pid=''
	grep -qi 'denied\|isError' "$work/call.out" || fail "the denied call did not end as denied: $(cat "$work/call.out")"
}
start_call
retry 150 grep -qs '"summary":"Approval needed"' "$work/notifications.jsonl" || fail "no notification for the approval request while the window was hidden (call: $(cat "$work/call.out"))"
grep -q 'window-test-client wants to call Echo Tool on Everything' "$work/notifications.jsonl" ||
	fail "the notification does not say who calls what: $(cat "$work/notifications.jsonl")"
retry 50 mapped IsViewable || fail "clicking the notification did not bring the window back"
echo "$me: the approval request raised a notification; clicking it brought the window back"
deny_call

# Hidden again: a request answered elsewhere (here with the CLI) withdraws
# its notification, which nobody clicked (notifyd clicks only the first).
focus "$wid"
xdotool key --clearmodifiers ctrl+w
retry 50 mapped IsUnMapped || fail "the window did not hide the second time (no hint expected now)"
start_call
retry 150 grep -qs '"id":2,' "$work/notifications.jsonl" || fail "no notification for the second approval request (call: $(cat "$work/call.out"))"
deny_call
retry 50 grep -qs '"closed":2}' "$work/notifications.jsonl" ||
	fail "denying the request did not withdraw its notification: $(cat "$work/notifications.jsonl")"
mapped IsUnMapped || fail "the window came back though nobody clicked the notification"
echo "$me: answering a request elsewhere withdrew its notification"

# A second launch shows the first window and exits.
"$bin" >"$work/second.log" 2>&1 &
second_pid=$!
exited() { ! kill -0 "$1" 2>/dev/null; }
retry 100 exited "$second_pid" || { kill "$second_pid" 2>/dev/null; fail "a second launch kept running instead of handing over to the first"; }
retry 50 mapped IsViewable || fail "a second launch did not bring the window back"
echo "$me: a second launch brought the window back"

# Quit from the app menu (Ctrl+Q) stops everything cleanly.
focus "$wid"
xdotool key --clearmodifiers ctrl+q
retry 100 exited "$app_pid" || fail "Quit (Ctrl+Q) did not stop the app within 10 s"
status=0
wait "$app_pid" || status=$?
app_pid=''
[[ $status == 0 ]] || fail "the app exited with status $status after Quit"
[[ ! -e $PATCHBAY_HOME/instance.json ]] || fail "the app left its instance record behind after Quit"
echo "$me: Quit stopped the app cleanly"
echo "$me: ok"
