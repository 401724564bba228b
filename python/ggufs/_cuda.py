"""Opening a mount's legacy CUDA IPC allocations in this process, through
libcuda with ctypes (no extra dependency). Each allocation is opened once
per process and shared by its tensors: CUDA refuses a second open of one
handle in one context."""

import ctypes

from ._protocol import GgufsError

_CU_IPC_MEM_LAZY_ENABLE_PEER_ACCESS = 1


class _IpcHandle(ctypes.Structure):
    _fields_ = [("reserved", ctypes.c_char * 64)]


class Driver:
    """The CUDA driver API functions the client uses."""

    def __init__(self):
        try:
            self.lib = ctypes.CDLL("libcuda.so.1")
        except OSError as e:
            raise GgufsError(f"the mount shares CUDA memory, but libcuda.so.1 does not load here: {e}") from None
        self._check(self.lib.cuInit(0), "cuInit")
        self.open_handle = getattr(self.lib, "cuIpcOpenMemHandle_v2", None) or self.lib.cuIpcOpenMemHandle
        self.open_handle.argtypes = [ctypes.POINTER(ctypes.c_uint64), _IpcHandle, ctypes.c_uint]
        self.lib.cuIpcCloseMemHandle.argtypes = [ctypes.c_uint64]

    def _check(self, code, call):
        if code != 0:
            name = ctypes.c_char_p()
            self.lib.cuGetErrorName(code, ctypes.byref(name))
            raise GgufsError(f"{call}: {(name.value or b'error').decode()} ({code})")

    def device_of(self, device):
        """This process's ordinal of the mount's device, found by PCI bus id."""
        bus = device.get("pci_bus_id") or ""
        if not bus:
            return int(device.get("index", 0))
        ordinal = ctypes.c_int()
        code = self.lib.cuDeviceGetByPCIBusId(ctypes.byref(ordinal), bus.encode())
        if code != 0:
            raise GgufsError(
                f"the mount's GPU ({device.get('name')}, PCI {bus}) is not visible in this process "
                "(CUDA_VISIBLE_DEVICES?)")
        return ordinal.value

    def ensure_context(self, ordinal):
        """Make a context of the device current (torch's when torch made one)."""
        ctx = ctypes.c_void_p()
        self._check(self.lib.cuCtxGetCurrent(ctypes.byref(ctx)), "cuCtxGetCurrent")
        if ctx.value:
            dev = ctypes.c_int()
            self._check(self.lib.cuCtxGetDevice(ctypes.byref(dev)), "cuCtxGetDevice")
            if dev.value == ordinal:
                return
        dev = ctypes.c_int()
        self._check(self.lib.cuDeviceGet(ctypes.byref(dev), ordinal), "cuDeviceGet")
        self._check(self.lib.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), dev), "cuDevicePrimaryCtxRetain")
        self._check(self.lib.cuCtxSetCurrent(ctx), "cuCtxSetCurrent")

    def open(self, handle_hex):
        raw = bytes.fromhex(handle_hex)
        if len(raw) != 64:
            raise GgufsError(f"an IPC handle of {len(raw)} bytes, not 64")
        h = _IpcHandle.from_buffer_copy(raw)  # (h.reserved would be a copy)
        ptr = ctypes.c_uint64()
        self._check(self.open_handle(ctypes.byref(ptr), h, _CU_IPC_MEM_LAZY_ENABLE_PEER_ACCESS), "cuIpcOpenMemHandle")
        return ptr.value

    def close(self, ptr):
        self.lib.cuIpcCloseMemHandle(ptr)


# CUDA refuses a second open of one handle in one process's context, so
# opened handles are shared by every attachment of the process, counted.
_opened = {}  # handle hex -> [pointer, users]
_driver = None


def driver():
    global _driver
    if _driver is None:
        _driver = Driver()
    return _driver


def open_shared(handle_hex):
    """The device pointer of an IPC handle, opened once per process."""
    entry = _opened.get(handle_hex)
    if entry is None:
        entry = _opened[handle_hex] = [driver().open(handle_hex), 0]
    entry[1] += 1
    return entry[0]


def close_shared(handle_hex):
    entry = _opened.get(handle_hex)
    if entry is None:
        return
    entry[1] -= 1
    if entry[1] == 0:
        del _opened[handle_hex]
        driver().close(entry[0])


# __cuda_array_interface__ type strings of the ggml types; others are raw bytes.
_TYPESTR = {"f32": "<f4", "f16": "<f2", "f64": "<f8", "bf16": "<i2",
            "i8": "|i1", "i16": "<i2", "i32": "<i4", "i64": "<i8"}


class CudaArray:
    """A tensor in device memory, exposed through __cuda_array_interface__,
    for torch.as_tensor, cupy.asarray or numba. Not flagged read-only:
    torch refuses the flag, and a legacy IPC mapping is writable anyway."""

    def __init__(self, ptr, t):
        typestr = _TYPESTR.get(t["dtype"])
        if typestr is None:
            shape, typestr = (t["nbytes"],), "|u1"
        else:
            shape = tuple(t["numpy_shape"]) or (t["nbytes"] // int(typestr[2:]),)
        self.dtype = t["dtype"]
        self.__cuda_array_interface__ = {
            "shape": shape, "typestr": typestr, "data": (ptr, False), "version": 3, "strides": None}


def as_torch(arr, ordinal):
    """A torch tensor over arr's memory (no copy), or None without torch."""
    try:
        import torch
    except ImportError:
        return None
    t = torch.as_tensor(arr, device=f"cuda:{ordinal}")
    return t.view(torch.bfloat16) if arr.dtype == "bf16" else t
