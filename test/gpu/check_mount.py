#!/usr/bin/env python3
"""Reads every tensor of a mounted model through ggufs and compares it with
the GGUF file's bytes; prints the read rate and the mount's stats.json.

usage: check_mount.py INSPECT_JSON MODEL MOUNTPOINT
(INSPECT_JSON is `ggufs inspect --json MODEL`; the GPU machine has no Go.)"""
import json, os, sys, time

inspect_path, model, mnt = sys.argv[1:4]
info = json.load(open(inspect_path))
tensors = [t for t in info["tensors"] if t["known"]]
total = sum(t["nbytes"] for t in tensors)
bad = 0
with open(model, "rb") as f:
    start = time.monotonic()
    for t in tensors:
        with open(os.path.join(mnt, "tensors", t["name"], "data"), "rb", buffering=0) as d:
            got = d.read()
        f.seek(t["file_offset"])
        want = f.read(t["nbytes"])
        if got != want:
            bad += 1
            print(f"MISMATCH {t['name']}: {len(got)} bytes read, {len(want)} in the file")
    took = time.monotonic() - start
status = {open(os.path.join(mnt, "tensors", t["name"], "status")).read().strip() for t in tensors}
stats = json.load(open(os.path.join(mnt, "stats.json")))
print(f"read {len(tensors)} tensors, {total/1e9:.2f} GB through the mount in {took:.2f} s "
      f"({total/1e9/took:.2f} GB/s: reads through the mount, uploading what is not resident, and the comparison), {bad} mismatches")
print("statuses after reading:", sorted(status))
print("stats.json:", json.dumps(stats))
c = stats.get("cache", {})
if c.get("upload_seconds"):
    print(f"upload rate from stats.json: {c['uploaded_bytes']/1e9/c['upload_seconds']:.2f} GB/s; "
          f"resident bytes {c.get('resident_bytes')}; device allocations {c.get('device_allocations')}")
sys.exit(1 if bad else 0)
