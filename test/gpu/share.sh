#!/usr/bin/env bash
# GPU check of sharing (docs/sharing.md): a llama-7b-shaped model mounted on
# CUDA with --prefetch; a separate PyTorch process attaches all its tensors,
# times the attach, compares them with the file on the GPU and tries a write;
# four consumers at once beside nvidia-smi; a consumer killed with SIGKILL
# releases its holds.
# usage: share.sh BIN LOGDIR [--runtime-lib PATH]
set -euo pipefail
bin=$1 logs=$2
shift 2
rt=("$@")
here=$(cd "$(dirname "$0")" && pwd)
tmp=${TMPDIR:-/tmp}
preset=${GGUFS_GPU_PRESET:-llama-7b}
model=$tmp/ggufs-$preset-q4_K.gguf
log=$logs/share.txt
[ -c /dev/fuse ] || { echo "== no /dev/fuse: sharing check not run" | tee "$log"; exit 0; }
[ -f "$model" ] || "$bin" gen -o "$model" --preset "$preset" --dtype q4_K --seed 7 >/dev/null
"$bin" inspect --json "$model" >"$tmp/ggufs-share-inspect.json"
mnt=$tmp/ggufs-share-mnt
mkdir -p "$mnt"
echo "== sharing: mount on cuda with --prefetch" | tee "$log"
"$bin" mount --backend cuda "${rt[@]}" --prefetch "$model" "$mnt" >>"$log" 2>&1 &
mpid=$!
trap 'kill $mpid 2>/dev/null; wait $mpid 2>/dev/null || true' EXIT
for _ in $(seq 500); do mountpoint -q "$mnt" && break; sleep 0.02; done
n=$(python3 -c "import json;print(len([t for t in json.load(open('$tmp/ggufs-share-inspect.json'))['tensors'] if t['known']]))")
for _ in $(seq 600); do
	r=$(python3 -c "import json;print(json.load(open('$mnt/stats.json'))['cache']['resident_tensors'])" 2>/dev/null || echo 0)
	[ "$r" = "$n" ] && break
	sleep 0.05
done
echo "resident: $r of $n tensors" | tee -a "$log"
check() { python3 "$here/share_check.py" "$mnt" "$model" "$tmp/ggufs-share-inspect.json" "$@"; }
# A backgrounded consumer runs as python itself (exec), so that its pid is the
# process that holds the tensors and SIGKILL reaches the holder.
check_bg() { exec python3 "$here/share_check.py" "$mnt" "$model" "$tmp/ggufs-share-inspect.json" "$@"; }
fail=0

echo "== one consumer" | tee -a "$log"
check verify 2>&1 | tee -a "$log" || true

echo "== four consumers at once" | tee -a "$log"
pids=()
for i in 1 2 3 4; do (check_bg hold) >"$tmp/ggufs-share-hold-$i.txt" 2>&1 & pids+=($!); done
for _ in $(seq 600); do
	[ "$(cat "$tmp"/ggufs-share-hold-*.txt 2>/dev/null | grep -c '^held')" = 4 ] && break
	sleep 0.05
done
cat "$tmp"/ggufs-share-hold-*.txt | tee -a "$log"
nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv 2>&1 | tee -a "$log" || true
python3 -c "import json;s=json.load(open('$mnt/stats.json'))['sharing'];print('holds', s['holds'], 'connections', s['connections'])" | tee -a "$log"

echo "== a consumer killed with SIGKILL" | tee -a "$log"
kill -9 "${pids[0]}"
for _ in $(seq 200); do
	h=$(python3 -c "import json;print(json.load(open('$mnt/stats.json'))['sharing']['connections'])")
	[ "$h" = 3 ] && break
	sleep 0.02
done
echo "connections after the kill: $h (want 3)" | tee -a "$log"
[ "$h" = 3 ] || fail=1
kill -9 "${pids[@]:1}" 2>/dev/null || true
wait "${pids[@]}" 2>/dev/null || true
sleep 0.2
left=$(python3 -c "import json;s=json.load(open('$mnt/stats.json'))['sharing'];print(s['holds'], s['connections'])")
echo "after all consumers died: holds and connections $left (want 0 0)" | tee -a "$log"
[ "$left" = "0 0" ] || fail=1
"$bin" unmount "$mnt"
wait $mpid || true
trap - EXIT
grep -q '^ok$' "$log" && [ $fail = 0 ] || { echo "== sharing check FAILED" | tee -a "$log"; exit 1; }
echo "== sharing check passed" | tee -a "$log"
