// Package share lets other processes use a mount's device copy of its
// tensors without copying them: a unix socket server hands out holds.
//
// A consumer connects to the mount's socket and asks to hold tensors. The
// server pins each one (cache.Hold), and its reply names, for every tensor,
// the device allocation that holds it, the tensor's offset inside it and
// the tensor's residency generation, and carries what maps each allocation:
// a read-only file descriptor (SCM_RIGHTS) for memfd and CUDA VMM arenas, a
// legacy IPC handle otherwise. Allocations are exported whole, never per
// tensor; the consumer adds the offset. A hold lasts until the consumer
// releases it or its connection closes (the kernel closes it when the
// process dies), so a consumer never maps memory that the cache has given to
// another tensor while it holds. docs/sharing.md describes the protocol
// byte for byte.
package share
