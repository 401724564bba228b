#!/usr/bin/env bash
# Model-level GPU check, run by run.sh after the upload checks: a
# llama-7b-shaped q4_K model is loaded into the cache (bench load, against a
# pinned copy measured in the same run), then mounted on the GPU backend,
# loaded with `ggufs load`, and every tensor read through the filesystem
# (served from the device) and compared with the file.
# usage: model.sh BIN LOGDIR BACKEND [--runtime-lib PATH]
set -euo pipefail
bin=$1 logs=$2 backend=$3
shift 3
rt=("$@")
here=$(cd "$(dirname "$0")" && pwd)
tmp=${TMPDIR:-/tmp}
preset=${GGUFS_GPU_PRESET:-llama-7b}
model=$tmp/ggufs-$preset-q4_K.gguf

echo "== gen $preset q4_K" | tee "$logs/model.txt"
"$bin" gen -o "$model" --preset "$preset" --dtype q4_K --seed 7 2>&1 | tail -3 | tee -a "$logs/model.txt"
# Time loads from a warm page cache, not against the writeback of the file just written.
sync

echo "== bench load (LoadAll of every tensor, warm page cache)" | tee -a "$logs/model.txt"
"$bin" bench load --backend "$backend" "${rt[@]}" --reps 3 "$model" 2>&1 | tee -a "$logs/model.txt"

if [ ! -c /dev/fuse ]; then
	echo "== no /dev/fuse on this machine: mounted check not run" | tee -a "$logs/model.txt"
	exit 0
fi
mnt=$tmp/ggufs-gpu-mnt
mkdir -p "$mnt"
"$bin" inspect --json "$model" >"$tmp/ggufs-inspect.json"
echo "== mount on $backend, read every tensor through the filesystem" | tee -a "$logs/model.txt"
start=$(date +%s%N)
"$bin" mount --backend "$backend" "${rt[@]}" "$model" "$mnt" 2>&1 | tee -a "$logs/model.txt" &
for _ in $(seq 200); do mountpoint -q "$mnt" && break; sleep 0.01; done
mountpoint -q "$mnt" || { echo "mount did not appear" | tee -a "$logs/model.txt"; exit 1; }
echo "mount visible after $(( ($(date +%s%N) - start) / 1000000 )) ms (process start included)" | tee -a "$logs/model.txt"
echo "== ggufs load: every tensor through the mount in one batched upload" | tee -a "$logs/model.txt"
"$bin" load "$mnt" 2>&1 | tail -1 | tee -a "$logs/model.txt"
status=0
python3 "$here/check_mount.py" "$tmp/ggufs-inspect.json" "$model" "$mnt" 2>&1 | tee -a "$logs/model.txt" || status=1
"$bin" unmount "$mnt"
wait
exit $status
