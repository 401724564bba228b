#!/usr/bin/env bash
# Generate a small llama-shaped model, mount it, read a tensor through the
# filesystem, show its attributes, prefetch everything, then unmount.
set -euo pipefail
bin=${1:-bin/ggufs}
dir=${2:-/tmp/ggufs-demo}
mkdir -p "$dir/mnt"
model=$dir/tiny.gguf

"$bin" gen -o "$model" --preset tiny --seed 1
"$bin" inspect "$model" | head -40

"$bin" mount "$model" "$dir/mnt" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do mountpoint -q "$dir/mnt" && break; sleep 0.05; done
mountpoint -q "$dir/mnt" || { echo "demo: mount did not appear" >&2; exit 1; }

ls "$dir/mnt" "$dir/mnt/tensors" | head -20
t=$(ls "$dir/mnt/tensors" | head -1)
echo "== tensors/$t"
cat "$dir/mnt/tensors/$t/status"
getfattr -d "$dir/mnt/tensors/$t" || true
dd if="$dir/mnt/tensors/$t/data" of=/dev/null bs=1M status=none
cat "$dir/mnt/tensors/$t/status"
"$bin" load "$dir/mnt"
cat "$dir/mnt/stats.json"; echo
"$bin" unmount "$dir/mnt"
wait $pid
trap - EXIT
echo "demo: ok"
