#!/usr/bin/env bash
# install-deps.sh: install what building and testing Patchbay needs on a
# Debian or Ubuntu machine, skipping whatever is already there.
#
#   .ci/install-deps.sh            everything: apt packages and npm packages
#   .ci/install-deps.sh apt        only the apt packages
#   .ci/install-deps.sh npm        only the npm packages
#
# apt packages: the desktop build (GTK 3, WebKitGTK 4.1), the keychain tests
# (gnome-keyring, dbus, libsecret-tools), the window test (xvfb) and the
# browser tests (chromium). npm packages are pinned by the lock files in
# frontend/ and backend/internal/testpeer/node/.
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-all}

apt_packages=(
	gcc pkg-config libgtk-3-dev libwebkit2gtk-4.1-dev
	gnome-keyring dbus dbus-x11 libsecret-tools
	xvfb xauth chromium fonts-dejavu-core
	xdotool x11-utils x11-apps netpbm
)

install_apt() {
	local missing=()
	for p in "${apt_packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		missing+=(nodejs npm)
	fi
	((${#missing[@]})) || return 0
	echo "install-deps: installing ${missing[*]}"
	local sudo=()
	if [[ $(id -u) != 0 ]]; then
		command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
		sudo=(sudo)
	fi
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# npm_ci DIR: install DIR's locked packages when node_modules is missing or
# older than the lock file.
npm_ci() {
	local dir=$1
	[[ -f $dir/package-lock.json ]] || return 0
	if [[ ! -d $dir/node_modules || $dir/package-lock.json -nt $dir/node_modules/.package-lock.json ]]; then
		echo "install-deps: npm ci in $dir"
		(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
	fi
}

install_npm() {
	npm_ci frontend
	npm_ci backend/internal/testpeer/node
}

command -v go >/dev/null 2>&1 || { echo "install-deps: Go is not installed; install Go 1.26 from https://go.dev/dl/ and put it on PATH" >&2; exit 1; }

case $what in
all) install_apt; install_npm ;;
apt) install_apt ;;
npm) install_npm ;;
*) echo "usage: $0 [all|apt|npm]" >&2; exit 2 ;;
esac
