"""Attach the tensors of a ggufs mount without copying them.

    import ggufs
    with ggufs.attach("/mnt/m") as model:
        q = model["blk.0.attn_q.weight"]

On the host backend each tensor is a read-only numpy array over the mount's
shared memory. While attached, the tensors are held: the mount never evicts
or moves them. close(), leaving the with block, or the process ending
(however it ends) releases them; arrays must not be used after that.
"""

import collections.abc
import json
import mmap
import os

from ._protocol import (
    VERSION,
    Connection,
    GgufsError,
    PermissionRefused,
    Refused,
    UnknownTensor,
    close_fds,
)

__all__ = ["attach", "Attachment", "GgufsError", "Refused", "PermissionRefused", "UnknownTensor"]

# numpy dtypes of the ggml types numpy has; every other type is its raw bytes (uint8).
_NUMPY_DTYPES = {
    "f32": "<f4", "f16": "<f2", "f64": "<f8",
    "i8": "i1", "i16": "<i2", "i32": "<i4", "i64": "<i8",
}


def _socket_of(mountpoint):
    """Find the mount's socket in its stats.json (which loads nothing)."""
    if not os.path.isdir(os.path.join(mountpoint, "tensors")):
        raise GgufsError(f"{mountpoint} is not a ggufs mount (no tensors/ directory)")
    path = os.path.join(mountpoint, "stats.json")
    try:
        with open(path, "rb") as f:
            stats = json.load(f)
    except PermissionError as e:
        raise PermissionRefused("permission_denied", f"cannot read {path}: {e.strerror}") from None
    except (OSError, ValueError) as e:
        raise GgufsError(f"{mountpoint} is not a ggufs mount: {path}: {e}") from None
    sharing = stats.get("sharing") if isinstance(stats, dict) else None
    if not sharing or not sharing.get("socket"):
        raise GgufsError(f"{mountpoint} does not share its tensors (mounted with --no-share?)")
    return sharing["socket"]


class Attachment(collections.abc.Mapping):
    """Held tensors of one mount, by name. A context manager."""

    def __init__(self, mountpoint, names=None, socket_path=None):
        names = list(names) if names is not None else None
        self.mountpoint = mountpoint
        self.socket_path = socket_path or _socket_of(mountpoint)
        self._conn = Connection(self.socket_path)
        self._maps = {}  # allocation id -> mmap, one per allocation (host)
        self._ptrs = {}  # allocation id -> device pointer, one per allocation (CUDA)
        self._driver = None
        self._ordinal = 0
        self._arrays = {}
        self.tensors = {}  # name -> the hold reply's entry (offset, generation, ...)
        try:
            reply, fds = self._conn.request({"version": VERSION, "op": "hold", "tensors": names})
            try:
                self.device = reply.get("device", {})
                self._map_allocations(reply.get("allocations", []), fds)
            finally:
                close_fds(fds)
            for t in reply.get("tensors", []):
                self.tensors[t["name"]] = t
                self._arrays[t["name"]] = self._cuda_array(t) if self._ptrs else self._array(t)
        except BaseException:
            self.close()
            raise

    def _map_allocations(self, allocations, fds):
        if any(a.get("mechanism") == "cuda_ipc" for a in allocations):
            return self._open_cuda(allocations)
        for a in allocations:
            mech = a.get("mechanism")
            if mech != "memfd":
                raise GgufsError(
                    f"allocation {a.get('id')} is shared as {mech!r}: this client maps the host backend's "
                    "memfd allocations (see docs/sharing.md for the device mechanisms)")
            if a["id"] in self._maps:
                continue
            fd = a.get("fd", -1)
            if not 0 <= fd < len(fds):
                raise GgufsError(f"allocation {a['id']} names descriptor {fd} of {len(fds)} received")
            self._maps[a["id"]] = mmap.mmap(fds[fd], a["size"], flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)

    def _open_cuda(self, allocations):
        from . import _cuda

        self._driver = _cuda.driver()
        self._ordinal = self._driver.device_of(self.device)
        self._driver.ensure_context(self._ordinal)
        for a in allocations:
            if a.get("mechanism") != "cuda_ipc":
                raise GgufsError(f"allocation {a.get('id')}: mechanism {a.get('mechanism')!r} beside cuda_ipc")
            if a["id"] not in self._ptrs:
                self._ptrs[a["id"]] = _Opened(a["handle"], a["size"])

    def _cuda_array(self, t):
        from . import _cuda

        opened = self._ptrs.get(t["allocation"])
        if opened is None or t["offset"] + t["nbytes"] > opened.size:
            raise GgufsError(f"tensor {t['name']!r} is not inside an opened allocation")
        arr = _cuda.CudaArray(opened.ptr + t["offset"], t)  # the consumer adds the offset
        tensor = _cuda.as_torch(arr, self._ordinal)
        return arr if tensor is None else tensor  # a torch tensor has no truth value

    def _array(self, t):
        import numpy as np

        nbytes, off = t["nbytes"], t["offset"]
        if nbytes == 0:
            return np.empty(0, dtype=np.uint8)
        m = self._maps.get(t["allocation"])
        if m is None or off + nbytes > len(m):
            raise GgufsError(f"tensor {t['name']!r}: [{off}, +{nbytes}) is not inside a mapped allocation")
        dt = _NUMPY_DTYPES.get(t["dtype"])
        if dt is None:  # quantized, bf16, ...: the raw bytes
            return np.frombuffer(m, dtype=np.uint8, count=nbytes, offset=off)
        dt = np.dtype(dt)
        a = np.frombuffer(m, dtype=dt, count=nbytes // dt.itemsize, offset=off)
        return a.reshape(t["numpy_shape"]) if t["numpy_shape"] else a

    def __getitem__(self, name):
        if self._conn is None:
            raise GgufsError("the attachment is closed")
        return self._arrays[name]

    def __iter__(self):
        return iter(self._arrays)

    def __len__(self):
        return len(self._arrays)

    def release(self):
        """Release every hold now: the mount may evict the tensors again."""
        self.close()

    def close(self):
        """Release the holds and unmap what no array still uses."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._arrays = {}
        for m in self._maps.values():
            try:
                m.close()
            except BufferError:
                pass  # an array the caller kept still points here; it goes with it
        self._maps = {}
        self._ptrs = {}  # each closes its handle when the last tensor over it goes

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class _Opened:
    """One attachment's use of an opened IPC allocation; the process closes
    the handle when its last user goes."""

    def __init__(self, handle, size):
        from . import _cuda

        self.handle, self.size = handle, size
        self.ptr = _cuda.open_shared(handle)

    def __del__(self):
        from . import _cuda

        try:
            _cuda.close_shared(self.handle)
        except Exception:
            pass


def attach(mountpoint, names=None):
    """Hold the named tensors (all when names is None) of the ggufs mount at
    mountpoint and return them as a read-only mapping name -> array."""
    return Attachment(mountpoint, names)
