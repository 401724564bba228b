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
package cache
