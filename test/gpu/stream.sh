#!/usr/bin/env bash
# Streaming-load figures, run by run.sh after model.sh (whose model it reuses):
# - exec of `ggufs mount --prefetch` to every tensor resident, beside the
#   whole load's own rate; exec of `ggufs mount` to the mountpoint serving;
# - a demand read of the last tensor during a whole load, against the same
#   read when the mount is idle (its upload included);
# - from a cold page cache, the whole load against a raw sequential read of
#   the same file in the same run.
# usage: stream.sh BIN LOGDIR [--runtime-lib PATH]
set -euo pipefail
bin=$1 logs=$2
shift 2
rt=("$@")
tmp=${TMPDIR:-/tmp}
preset=${GGUFS_GPU_PRESET:-llama-7b}
model=${GGUFS_STREAM_MODEL:-$tmp/ggufs-$preset-q4_K.gguf}
backend=${GGUFS_STREAM_BACKEND:-cuda}
out=$logs/stream.txt
[ -f "$model" ] || "$bin" gen -o "$model" --preset "$preset" --dtype q4_K --seed 7 >/dev/null
[ -c /dev/fuse ] || { echo "== no /dev/fuse: streaming figures not measured" | tee "$out"; exit 0; }
mnt=$tmp/ggufs-stream-mnt
mkdir -p "$mnt"
# A failed step must not leave the mount behind for the next run.
trap 'mountpoint -q "$mnt" && "$bin" unmount "$mnt"' EXIT
last=$("$bin" inspect --json "$model" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tensors"][-1]["name"])')

# timed_mount ARGS...: starts `ggufs mount ARGS... MODEL MNT` from one Python
# process and prints ms from its exec to the mountpoint appearing and to
# every tensor resident (stats.json polled every millisecond); the mount is
# left running. waitvisible waits for a mount started otherwise.
timed_mount() {
	python3 - "$bin" "$model" "$mnt" "$@" <<'EOF2'
import json, os, subprocess, sys, time
bin, model, mnt, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
t0 = time.perf_counter()
subprocess.Popen([bin, "mount", *args, model, mnt], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
vis = None
while time.perf_counter() - t0 < 120:
    if vis is None and os.path.ismount(mnt):
        vis = time.perf_counter() - t0
    if vis is not None:
        try:
            s = json.load(open(os.path.join(mnt, "stats.json")))
            if s["cache"]["resident_tensors"] == s["tensors"]:
                print(f"{1e3*vis:.1f} {1e3*(time.perf_counter()-t0):.1f}")
                sys.exit(0)
        except (OSError, ValueError, KeyError):
            pass
    time.sleep(0.001)
sys.exit(1)
EOF2
}
waitvisible() { for _ in $(seq 2000); do mountpoint -q "$mnt" && return 0; sleep 0.005; done; return 1; }
unmount_wait() { "$bin" unmount "$mnt"; while mountpoint -q "$mnt"; do sleep 0.01; done; }

echo "== exec of mount --prefetch to every tensor resident (warm page cache)" | tee "$out"
cat "$model" >/dev/null
for rep in 1 2 3; do
	read -r vis all < <(timed_mount --prefetch --backend "$backend" "${rt[@]}")
	echo "rep $rep: mountpoint after ${vis} ms, every tensor resident after ${all} ms (from exec)" | tee -a "$out"
	unmount_wait
done

echo "== exec of mount to the mountpoint serving, the device opening in the background" | tee -a "$out"
for rep in 1 2 3; do
	python3 - "$bin" "$model" "$mnt" --backend "$backend" "${rt[@]}" <<'EOF2' | tee -a "$out"
import os, subprocess, sys, time
bin, model, mnt, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
t0 = time.perf_counter()
p = subprocess.Popen([bin, "mount", *args, model, mnt], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
while not os.path.exists(os.path.join(mnt, "stats.json")):
    if time.perf_counter() - t0 > 60 or p.poll() is not None:
        sys.exit(1)
    time.sleep(0.0001)
vis = time.perf_counter() - t0
# the mount's stderr then says which device opened and when, or why not
said = ""
for line in p.stderr:
    said = line.decode().strip()
    if said.startswith(("ggufs: device ", "ggufs: opening the device")):
        break
print(f"mountpoint serving {1e3*vis:.1f} ms after exec; {said}")
EOF2
	unmount_wait
done

echo "== demand read of $last during a whole load, against idle" | tee -a "$out"
"$bin" mount --backend "$backend" "${rt[@]}" "$model" "$mnt" >/dev/null 2>&1 &
waitvisible
readlast() {
	python3 - "$mnt/tensors/$last/data" <<'EOF'
import sys, time
t0 = time.perf_counter()
with open(sys.argv[1], "rb", buffering=0) as f:
    f.read(1 << 20)
    t1 = time.perf_counter()
    while f.read(16 << 20):
        pass
t2 = time.perf_counter()
print(f"first MiB after {1e3*(t1-t0):.2f} ms, whole tensor after {1e3*(t2-t0):.2f} ms")
EOF
}
echo -n "idle (upload included): " | tee -a "$out"; readlast | tee -a "$out"
python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.ggufs.evict", b"1")' "$mnt/tensors/$last" # no attr package needed
"$bin" load "$mnt" >"$tmp/ggufs-load.out" 2>/dev/null &
loader=$!
sleep 0.02
echo -n "during ggufs load: " | tee -a "$out"; readlast | tee -a "$out"
wait $loader || true
tail -1 "$tmp/ggufs-load.out" | tee -a "$out"
unmount_wait
wait

echo "== cold page cache: whole load against a raw sequential read" | tee -a "$out"
if sync && echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; then
	dd if="$model" of=/dev/null bs=16M 2>&1 | tail -1 | sed 's/^/raw dd: /' | tee -a "$out"
	sync && echo 3 >/proc/sys/vm/drop_caches
	read -r vis all < <(timed_mount --prefetch --backend "$backend" "${rt[@]}")
	bytes=$(stat -c %s "$model")
	echo "mount --prefetch from cold: every tensor resident after ${all} ms from exec: $(python3 -c "print(f'{$bytes/$all/1e6:.2f}')") GB/s over the file" | tee -a "$out"
	unmount_wait
else
	echo "cannot drop the page cache here: not measured" | tee -a "$out"
fi
