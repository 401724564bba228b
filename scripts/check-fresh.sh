#!/usr/bin/env bash
# Runs the README's set-up and test commands on a fresh Debian 12 made with
# debootstrap (a chroot with the host's /dev for /dev/fuse), from a clean clone
# of this checkout's HEAD: first as root without sudo, then, with --sudo, the
# set-up again as a user who has sudo (Go removed first, so that sudo installs it).
#
# Usage (as root): scripts/check-fresh.sh [--sudo] [--keep] [DIR]
#   DIR     where the chroot lives (default /var/tmp/ggufs-fresh); reused if it exists
#   --keep  leave the chroot's mounts in place afterwards
# Machines whose HTTPS goes through a proxy with its own CA: the host's
# /usr/local/share/ca-certificates are copied in, as a machine there would have them.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
sudo_too=0 keep=0 root=/var/tmp/ggufs-fresh
for arg in "$@"; do
	case $arg in
	--sudo) sudo_too=1 ;;
	--keep) keep=1 ;;
	-*) echo "check-fresh: unknown option $arg" >&2; exit 2 ;;
	*) root=$arg ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "check-fresh: run as root (debootstrap, chroot, mounts)" >&2; exit 1; }
command -v debootstrap >/dev/null || apt-get install -y debootstrap

if [ ! -x "$root/bin/bash" ]; then
	mkdir -p "$root"
	debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
	mkdir -p "$root/usr/local/share/ca-certificates"
	cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi
# The chroot's root is a mount of its own, as a machine's is: unshare(1), which
# the tests use, cannot change mount propagation otherwise.
mountpoint -q "$root" || mount --bind "$root" "$root"
for m in proc dev sys; do
	mountpoint -q "$root/$m" || mount --rbind "/$m" "$root/$m"
done
if [ $keep = 0 ]; then
	trap 'for m in sys dev proc; do umount -R "$root/$m" 2>/dev/null || true; done; umount "$root" 2>/dev/null || true' EXIT
fi

rm -rf "$root/root/ggufs"
git clone -q "$repo" "$root/root/ggufs"
in_chroot() {
	chroot "$root" env -i HOME=/root TERM=dumb PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}
echo "check-fresh: README set-up as root, no sudo: scripts/setup.sh && make demo"
in_chroot bash -c 'cd /root/ggufs && { ! command -v sudo || echo "(sudo is here from an earlier --sudo run)"; } && scripts/setup.sh && make demo'
if [ $sudo_too = 1 ]; then
	echo "check-fresh: README set-up as a user with sudo"
	# Stock Debian makes /dev/fuse 0666; some containers keep it root's alone,
	# and then no user's mount can work, whatever the set-up did.
	[ "$(stat -c %a /dev/fuse)" = 666 ] ||
		echo "check-fresh: warning: /dev/fuse is $(stat -c %a /dev/fuse) here, not 0666: the user's demo cannot mount" >&2
	in_chroot bash -c 'apt-get install -y sudo >/dev/null && (id dev >/dev/null 2>&1 || useradd -m dev) &&
		echo "dev ALL=(ALL) NOPASSWD:ALL" > /etc/sudoers.d/dev && rm -rf /home/dev/ggufs &&
		cp -r /root/ggufs /home/dev/ggufs && chown -R dev: /home/dev/ggufs &&
		rm -rf /usr/local/go /usr/local/bin/go /usr/local/bin/gofmt /tmp/ggufs-demo'
	in_chroot su - dev -c 'cd ~/ggufs && scripts/setup.sh && make demo'
fi
echo "check-fresh: README test command: make test"
in_chroot bash -c 'cd /root/ggufs && make test'

echo "check-fresh: ok"
