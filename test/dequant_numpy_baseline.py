#!/usr/bin/python3
"""Same-run baseline for BenchmarkDequantize: q8_0, q4_0 and q4_K dequantized
the way gguf-py's gguf.quants does it (vectorized numpy, one core), in GB/s of
float32 output over 1 Mi elements (written from the block layouts, not copied).
Usage: /usr/bin/python3 test/dequant_numpy_baseline.py (Debian's python3-numpy)."""
import time
import numpy as np

N = 1 << 20
rng = np.random.default_rng(1)


def blocks(bs, bb):
    b = rng.integers(0, 256, size=(N // bs, bb), dtype=np.uint8)
    b[:, 0:4] = np.frombuffer(np.float16(0.01).tobytes() * 2, dtype=np.uint8)  # finite d (and dmin)
    return b


def q8_0(b):
    d = b[:, :2].copy().view(np.float16).astype(np.float32)
    return (d * b[:, 2:].copy().view(np.int8).astype(np.float32)).reshape(-1)


def q4_0(b):
    d = b[:, :2].copy().view(np.float16).astype(np.float32)
    qs = b[:, 2:].reshape((-1, 1, 16)) >> np.array([0, 4], dtype=np.uint8).reshape((1, 2, 1))
    qs = (qs & np.uint8(0x0F)).reshape((-1, 32)).astype(np.int8) - np.int8(8)
    return (d * qs.astype(np.float32)).reshape(-1)


def q4_k(b):
    n = b.shape[0]
    d = b[:, 0:2].copy().view(np.float16).astype(np.float32)
    dmin = b[:, 2:4].copy().view(np.float16).astype(np.float32)
    sc = b[:, 4:16].reshape((n, 3, 4))
    s0, s1, s2 = sc[:, 0], sc[:, 1], sc[:, 2]
    scale = np.concatenate([s0 & 0x3F, (s2 & 0x0F) | ((s0 >> 2) & 0x30)], axis=-1).astype(np.float32)
    mins = np.concatenate([s1 & 0x3F, (s2 >> 4) | ((s1 >> 2) & 0x30)], axis=-1).astype(np.float32)
    qs = b[:, 16:].reshape((n, 4, 1, 32)) >> np.array([0, 4], dtype=np.uint8).reshape((1, 1, 2, 1))
    qs = (qs & np.uint8(0x0F)).reshape((n, 8, 32)).astype(np.float32)
    return ((d * scale).reshape((n, 8, 1)) * qs - (dmin * mins).reshape((n, 8, 1))).reshape(-1)


for name, fn, bs, bb in [("q8_0", q8_0, 32, 34), ("q4_0", q4_0, 32, 18), ("q4_K", q4_k, 256, 144)]:
    b = blocks(bs, bb)
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        out = fn(b)
        best = min(best, time.perf_counter() - t)
    assert out.size == N
    print(f"numpy {name}: {4 * N / best / 1e9:.3f} GB/s of float32 output")
