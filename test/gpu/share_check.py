#!/usr/bin/env python3
"""A PyTorch consumer of a ggufs mount's shared device memory (test/gpu/share.sh).

usage: share_check.py MOUNTPOINT MODEL INSPECT_JSON MODE
  verify  attach every tensor, time the attach after the CUDA context exists,
          compare every tensor with the file on the GPU, try to write one, and
          time loading the same bytes in this process (file -> torch -> GPU)
  hold    attach every tensor, print "held", sleep until killed"""
import json, os, sys, time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "python"))
import torch
import ggufs

mnt, model, inspect_path, mode = sys.argv[1:5]
torch.zeros(1, device="cuda")  # the consumer's CUDA context exists from here
torch.cuda.synchronize()

if mode == "hold":
    a = ggufs.attach(mnt)
    print("held", len(a), flush=True)
    time.sleep(3600)

t0 = time.perf_counter()
a = ggufs.attach(mnt)
t1 = time.perf_counter()
print(f"attach: {len(a)} tensors in {(t1 - t0) * 1e3:.2f} ms after the CUDA context exists "
      f"(allocations opened: {len({t['allocation'] for t in a.tensors.values()})})")
t0 = time.perf_counter()
b = ggufs.attach(mnt)  # a second attachment in the same process shares the opened handles
print(f"second attach in the same process: {(time.perf_counter() - t0) * 1e3:.2f} ms")
b.close()

info = {t["name"]: t for t in json.load(open(inspect_path))["tensors"] if t["known"]}
import numpy as np
raw = np.memmap(model, dtype=np.uint8, mode="r")
bad = 0
for name, t in a.items():
    want = torch.from_numpy(np.array(raw[info[name]["file_offset"]:][: info[name]["nbytes"]])).cuda()
    got = t.reshape(-1).view(torch.uint8)
    if got.numel() != want.numel() or not torch.equal(got, want):
        bad += 1
        print("MISMATCH", name)
torch.cuda.synchronize()
print(f"compared {len(a)} tensors with the file on the GPU: {bad} mismatches")

name = next(iter(a))
before = a[name].reshape(-1).view(torch.uint8)[:16].clone()
try:
    a[name].reshape(-1).view(torch.uint8)[:16].add_(1)
    torch.cuda.synchronize()
    print("write to a shared tensor: ALLOWED (legacy IPC mappings are writable; only VMM mappings can be read-only)")
    a[name].reshape(-1).view(torch.uint8)[:16].copy_(before)  # put the bytes back
    torch.cuda.synchronize()
except Exception as e:
    print("write to a shared tensor: refused:", type(e).__name__, e)

# The same weights loaded by this process itself: read the file, copy to the GPU.
t0 = time.perf_counter()
own = {}
with open(model, "rb") as f:
    for name in a:
        f.seek(info[name]["file_offset"])
        own[name] = torch.frombuffer(bytearray(f.read(info[name]["nbytes"])), dtype=torch.uint8).cuda()
torch.cuda.synchronize()
load = time.perf_counter() - t0
print(f"loading the same {len(own)} tensors in this process (warm page cache): {load * 1e3:.1f} ms")
a.close()
print("ok" if bad == 0 else "FAILED")
