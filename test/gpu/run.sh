#!/usr/bin/env bash
# GPU check for the hip package, for a machine with an NVIDIA GPU and the CUDA
# runtime but no Go: run it with a ggufs built elsewhere by
#   CGO_ENABLED=0 go build -o bin/ggufs ./cmd/ggufs
#   test/gpu/run.sh bin/ggufs            (or: make gpu-test)
# It lists the devices, uploads random bytes of many sizes (1 KiB to 4 GiB,
# odd sizes and offsets) from a file mapping by every path, downloads and
# compares every byte, then times each path beside a pinned-memory copy.
# Logs go to $OUT (or $GGUFS_GPU_LOGS, default ./gpu-test-logs).
# GGUFS_GPU_SIZE sets the timed size (default 4GiB); extra arguments after the
# binary are passed to the timing run (e.g. --variant register,chunk=32MiB).
set -euo pipefail

bin=${1:-bin/ggufs}
shift || true
logs=${OUT:-${GGUFS_GPU_LOGS:-gpu-test-logs}}
size=${GGUFS_GPU_SIZE:-4GiB}
mkdir -p "$logs"
[ -x "$bin" ] || { echo "run.sh: $bin is not an executable ggufs" >&2; exit 2; }

echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -r)" | tee "$logs/env.txt"
nvidia-smi --query-gpu=name,driver_version,memory.total,pci.bus_id --format=csv 2>&1 | tee -a "$logs/env.txt" || true

echo "== libcudart found on this machine:" | tee -a "$logs/env.txt"
found=$(find / -xdev \( -path /proc -o -path /sys \) -prune -o -name 'libcudart.so*' -print 2>/dev/null | sort | head -20 || true)
echo "${found:-none}" | tee -a "$logs/env.txt"

# Let ggufs search as it would for a user; if it finds no CUDA runtime, name
# the first one find saw.
rt=()
if ! "$bin" devices --backend cuda >/dev/null 2>&1; then
	lib=$(echo "$found" | grep -m1 'libcudart.so.1[0-9]*$' || true)
	[ -n "$lib" ] && rt=(--runtime-lib "$lib")
fi

echo "== ggufs devices" | tee "$logs/devices.txt"
"$bin" devices "${rt[@]}" | tee -a "$logs/devices.txt"
"$bin" devices --json "${rt[@]}" >"$logs/devices.json"
"$bin" devices --backend cuda "${rt[@]}" >/dev/null # fails the script if CUDA is unusable

tmp=${TMPDIR:-/tmp}
echo "== correctness: many sizes and odd offsets, every path" | tee "$logs/verify.txt"
"$bin" bench upload --backend cuda "${rt[@]}" --dir "$tmp" --size 1KiB \
	--sizes 1KiB,1KiB+1,4095,4097,65537,1048575,1MiB+3,3MiB+7,17MiB+11,64MiB+1,100MiB+13,257MiB+17,1GiB+5,4GiB \
	2>&1 | tee -a "$logs/verify.txt"

echo "== upload speed, $size from a warm page cache" | tee "$logs/bench.txt"
"$bin" bench upload --backend cuda "${rt[@]}" --dir "$tmp" --size "$size" "$@" 2>&1 | tee -a "$logs/bench.txt"
"$(dirname "$0")/model.sh" "$bin" "$logs" cuda "${rt[@]}"
"$(dirname "$0")/stream.sh" "$bin" "$logs" "${rt[@]}"
"$(dirname "$0")/share.sh" "$bin" "$logs" "${rt[@]}"
echo "== gpu-test passed"
