#!/usr/bin/env bash
# Installs what ggufs, its demo and its tests need on a Debian or Ubuntu machine,
# run as root (no sudo needed) or as a user with sudo:
#
#   apt packages  make, git, curl, unzip, ca-certificates; gcc and libc6-dev (the
#                 race detector of `make test` needs cgo); fuse3 (fusermount3,
#                 mount.fuse3); attr (getfattr/setfattr); libamdhip64-5 and
#                 libamdhip64-dev (a real HIP runtime, no GPU needed, and its
#                 headers for the binding's checks); nodejs and npm (the
#                 @huggingface/gguf cross-check); python3-numpy (the Python
#                 sharing client's end-to-end test)
#   Go            when `go` is missing or older than go.mod needs (Debian 12's
#                 golang-go is 1.19): the newest patch release of go.mod's minor
#                 version. Go's toolchains are published as the module
#                 golang.org/toolchain on the Go module proxy; its zip is fetched
#                 with curl and unpacked into $GGUFS_GO_ROOT (default /usr/local/go,
#                 where go.dev's instructions put it).
#
# Usage: scripts/setup.sh [--no-apt] [--no-go]
# When the go on PATH is not new enough, the installed one is linked into
# /usr/local/bin, so `make` finds it without a change to PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

apt=1 go=1
for arg in "$@"; do
	case $arg in
	--no-apt) apt=0 ;;
	--no-go) go=0 ;;
	-h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "setup: unknown option $arg (want --no-apt, --no-go)" >&2; exit 2 ;;
	esac
done

# as_root runs a command as root: directly when we are root, else through sudo.
as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		echo "setup: need root for: $* (run as root, or install sudo)" >&2
		return 1
	fi
}

if [ $apt = 1 ]; then
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		make git curl unzip ca-certificates gcc libc6-dev fuse3 attr libamdhip64-5 libamdhip64-dev python3-numpy
	# Keep a newer Node.js where the machine has one (the cross-check wants >= 20 and
	# tolerates Debian 12's 18); otherwise Debian's.
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm
	fi
fi

# want_go is the least Go that go.mod accepts: its toolchain line, else its go line.
want_go() {
	local v
	v=$(awk '$1 == "toolchain" { sub(/^go/, "", $2); print $2; exit }' go.mod)
	[ -n "$v" ] || v=$(awk '$1 == "go" { print $2; exit }' go.mod)
	echo "$v"
}

# version_ge A B: is dotted version A at least B?
version_ge() {
	[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]
}

# go_version TOOL prints the version of that go binary, or nothing. GOTOOLCHAIN=local
# asks the binary itself, never a toolchain it would switch to.
go_version() {
	[ -n "$1" ] && [ -x "$1" ] || return 0
	GOTOOLCHAIN=local "$1" env GOVERSION 2>/dev/null | sed 's/^go//' || true
}

# good VERSION: is it set and at least what go.mod wants?
good() { [ -n "$1" ] && version_ge "$1" "$want"; }

# install_go fetches the newest patch release of go.mod's minor version (same
# language, its security fixes) from the module proxy and unpacks it into $go_root.
install_go() {
	local arch proxy minor version tmp root
	case $(uname -m) in
	x86_64) arch=amd64 ;;
	aarch64) arch=arm64 ;;
	*) echo "setup: no Go toolchain known for $(uname -m)" >&2; return 1 ;;
	esac
	proxy=${GOPROXY:-https://proxy.golang.org}
	proxy=${proxy%%,*}
	case $proxy in direct | off | "") proxy=https://proxy.golang.org ;; esac
	minor=$(echo "$want" | cut -d. -f1,2)
	version=$(curl -fsSL --retry 3 "$proxy/golang.org/toolchain/@v/list" |
		sed -n "s/^v0\.0\.1-go\($minor\(\.[0-9]*\)\{0,1\}\)\.linux-$arch\$/\1/p" | sort -V | tail -1)
	good "$version" || version=$want
	echo "setup: installing go $version into $go_root from $proxy (golang.org/toolchain)"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	curl -fsSL --retry 3 -o "$tmp/go.zip" "$proxy/golang.org/toolchain/@v/v0.0.1-go$version.linux-$arch.zip" ||
		{ echo "setup: downloading go $version from $proxy failed" >&2; return 1; }
	# The module zip holds golang.org/toolchain@VERSION/{bin,pkg,src,...}.
	unzip -q "$tmp/go.zip" -d "$tmp/unpacked"
	root=$(echo "$tmp"/unpacked/golang.org/toolchain@*)
	[ -x "$root/bin/go" ] || chmod a+x "$root/bin/go" 2>/dev/null ||
		{ echo "setup: the go $version zip holds no bin/go" >&2; return 1; }
	# Module zips keep no file modes: make the tools executable as cmd/go does.
	chmod -R a+rX "$root"
	find "$root/bin" "$root/pkg/tool" -type f -exec chmod a+x {} +
	as_root rm -rf "$go_root"
	as_root mkdir -p "$(dirname "$go_root")"
	as_root cp -R "$root" "$go_root"
	rm -rf "$tmp"
	trap - EXIT
}

go_root=${GGUFS_GO_ROOT:-/usr/local/go}
if [ $go = 1 ]; then
	want=$(want_go)
	path_go=$(go_version "$(command -v go || true)")
	if good "$path_go"; then
		echo "setup: go $path_go on PATH is new enough (go.mod needs $want)"
	else
		good "$(go_version "$go_root/bin/go")" || install_go
		# make's and the tests' `go` is the first on PATH: link the good one into
		# /usr/local/bin, which Debian's PATH (and sudo's secure_path) puts before /usr/bin.
		as_root ln -sf "$go_root/bin/go" "$go_root/bin/gofmt" /usr/local/bin/
		hash -r
		path_go=$(go_version "$(command -v go || true)")
		if ! good "$path_go"; then
			echo "setup: the go on PATH is ${path_go:-missing}, go.mod needs $want: put $go_root/bin first (export PATH=$go_root/bin:\$PATH)" >&2
			exit 1
		fi
		echo "setup: go $path_go, linked into /usr/local/bin"
	fi
fi
echo "setup: done"
