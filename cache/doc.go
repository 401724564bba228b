// Package cache decides which tensors are resident on the device.
//
// A Cache owns a memory budget on one device. Get makes a tensor resident
// (uploading it once however many callers ask at the same time) and pins it
// until the returned Handle is released; when the budget is full, the least
// recently used tensor that nobody holds is evicted. Device memory comes from a
// few large allocations (arenas) carved up by an offset allocator, so loading a
// whole model costs a handful of device allocations, not one per tensor.
//
// The cache knows nothing of files or paths: it is given a list of Tensors,
// each able to produce its host bytes, and a Device to move them to.
//
// # Design
//
// Memory: arenaAlloc (alloc.go) is a pure first-fit allocator of 256-byte
// aligned blocks within one arena, with coalescing free spans. The pool
// (pool.go) holds the device allocations: arenas (1 GiB by default, never
// more than the budget or than the tensors still unplaced) and dedicated
// allocations for tensors larger than an arena. The budget counts every byte
// the pool holds, used or not.
//
// Locking: one mutex guards all mutable state; it is never held during an
// upload or a download, only while bookkeeping (and while a device
// allocation is made or freed). Each tensor's Status is also published
// through an atomic pointer, so Status and IsResident never wait.
//
// Loading: a tensor to load gets its block reserved under the lock and goes
// to Loading with a flight (a channel closed when its upload ends); Gets of a
// Loading tensor wait on the flight or on their own context. Uploads started
// by Get run under the cache's context, not the caller's, so a caller who
// gives up does not cancel the upload for the others. Load streams its tensors
// through the device's pipeline (hip.Streamer), reserving each only when the
// pipeline has room for it: each is resident the moment its own bytes land,
// a Get of one not reached yet uploads it beside the load at once, and while
// the load runs none of its tensors is evicted for another (it stops when the
// budget is full instead of thrashing). A cancelled Load keeps what landed
// and returns the rest to their previous state.
//
// Eviction: when no arena has room and the budget (or the device, reporting
// hip.ErrOutOfMemory) allows no new allocation, empty allocations are
// returned first, then resident tensors with no Handle and no Pin are
// evicted, least recently used first, until the block fits. When none is
// left, the load fails with ErrNoSpace and the tensor is Unloaded (Evicted
// if it was ever resident) again, its Status.LastErr saying why: the next Get
// may well succeed, so its status claims no error. A tensor larger than the
// whole budget, or one whose upload failed otherwise, reads as
// "error: <reason>" until a later Get succeeds.
//
// Errors: what the device or a tensor's source returns reaches callers
// wrapped as ErrNoSpace, ErrDevice or ErrSourceFault (errors.go), the
// original kept in the chain, so the layers above map errors without knowing
// the device's own. What goes wrong outside any caller's request (a broken
// invariant, ErrInternal; memory the device would not free) is kept for
// Close, which returns all of it.
package cache
