"""The wire protocol of a ggufs mount's sharing socket (docs/sharing.md).

Every message is a 4-byte little-endian length, then that many bytes of
JSON. A reply's file descriptors arrive as one SCM_RIGHTS message with its
first bytes.
"""

import array
import json
import socket
import struct

VERSION = 1
MAX_FDS = 250
MAX_REPLY = 64 << 20


class GgufsError(Exception):
    """Something about a ggufs mount or its socket went wrong."""


class Refused(GgufsError):
    """The mount refused a request; code is the protocol's error code."""

    def __init__(self, code, message):
        super().__init__(f"{message} ({code})")
        self.code = code
        self.message = message


class PermissionRefused(Refused, PermissionError):
    """The mount does not let this process's user in."""


class UnknownTensor(Refused, KeyError):
    """A tensor named in the request is not in the mount."""

    def __str__(self):
        return Exception.__str__(self)


def _refused(err):
    code = str(err.get("code", "")) if isinstance(err, dict) else ""
    msg = str(err.get("message", "refused")) if isinstance(err, dict) else "refused"
    if code == "permission_denied":
        return PermissionRefused(code, msg)
    if code == "unknown_tensor":
        return UnknownTensor(code, msg)
    return Refused(code, msg)


class Connection:
    """One connection to a mount's socket; its holds end when it closes."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.connect(path)
        except PermissionError as e:
            self.sock.close()
            raise PermissionRefused(
                "permission_denied",
                f"cannot connect to {path}: {e.strerror}: the mount lets only its user and root in "
                "(mount with --allow-other for every user)") from None
        except OSError as e:
            self.sock.close()
            raise GgufsError(f"cannot connect to the mount's socket {path}: {e.strerror or e}") from None

    def request(self, req):
        """Send req; return (reply, fds). The caller closes the fds."""
        body = json.dumps(req).encode()
        try:
            self.sock.sendall(struct.pack("<I", len(body)) + body)
        except OSError:
            pass  # a mount that refuses this peer replied and closed: the reply says why
        fds = array.array("i")
        try:
            data, anc, _flags, _addr = self.sock.recvmsg(1 << 16, socket.CMSG_SPACE(MAX_FDS * fds.itemsize))
        except OSError as e:
            raise GgufsError(f"reading the mount's reply on {self.path}: {e}") from None
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(cdata[: len(cdata) - (len(cdata) % fds.itemsize)])
        fds = list(fds)
        try:
            buf = bytearray(data)
            while len(buf) < 4:
                buf += self._recv(4 - len(buf))
            (n,) = struct.unpack("<I", bytes(buf[:4]))
            if n > MAX_REPLY:
                raise GgufsError(f"reply of {n} bytes is over the limit of {MAX_REPLY}")
            while len(buf) < 4 + n:
                buf += self._recv(4 + n - len(buf))
            reply = json.loads(bytes(buf[4 : 4 + n]))
        except BaseException:
            close_fds(fds)
            raise
        if not isinstance(reply, dict) or not reply.get("ok"):
            close_fds(fds)
            raise _refused(reply.get("error") if isinstance(reply, dict) else None)
        return reply, fds

    def _recv(self, n):
        try:
            chunk = self.sock.recv(n)
        except OSError as e:
            raise GgufsError(f"reading the mount's reply on {self.path}: {e}") from None
        if not chunk:
            raise GgufsError("the mount closed the connection inside a reply")
        return chunk

    def close(self):
        self.sock.close()


def close_fds(fds):
    import os

    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
