// Package ctl is the control protocol of a ggufs mount, defined once: the
// extended attribute names and the values they accept, the schemas of
// stats.json and of a tensor's status, and a Go client that drives a mount
// through them. The filesystem serves what this package names; programs in
// other languages follow docs/protocol.md, which describes the same.
package ctl

import (
	"strings"

	"github.com/ggufs/ggufs/cache"
	"github.com/ggufs/ggufs/hip"
	"github.com/ggufs/ggufs/share"
)

// The extended attributes of a tensor directory and its data files.
const (
	XattrPrefix = "user.ggufs."
	XattrShape  = XattrPrefix + "shape"  // ggml order, ne0 first, comma separated
	XattrDtype  = XattrPrefix + "dtype"  // ggml type name, "q4_K"
	XattrStatus = XattrPrefix + "status" // a Status value
	XattrNbytes = XattrPrefix + "nbytes" // data size in bytes, decimal
	XattrOffset = XattrPrefix + "offset" // absolute offset of the data in its file, decimal
	XattrDevice = XattrPrefix + "device" // "cuda:0", "hip:1", "host"
	XattrShard  = XattrPrefix + "shard"  // the file holding the data (a split model's shard)
	XattrName   = XattrPrefix + "name"   // the tensor's name in the file (its directory entry may be escaped)

	// Control names: write-only, not listed. Accepted values: Accepts.
	XattrLoad  = XattrPrefix + "load"  // on a tensor: make it resident, waiting; on the root: load every tensor in the background
	XattrEvict = XattrPrefix + "evict" // on a tensor: drop it from the device and the kernel's page cache
	// XattrCancel on the root cancels the running load of every tensor;
	// what has landed stays resident.
	XattrCancel = XattrPrefix + "cancel"
)

// Listed is what listxattr returns on a tensor directory or data file, in
// this order.
var Listed = []string{XattrShape, XattrDtype, XattrStatus, XattrNbytes, XattrOffset, XattrDevice, XattrShard, XattrName}

// Accepts reports whether a control attribute may carry value: nothing or
// "1", with or without a trailing newline (setfattr -n NAME sends an empty
// value; -v 1 sends "1"). Anything else is refused with EINVAL, so that a
// future value cannot be mistaken for today's.
func Accepts(value []byte) bool {
	s := strings.TrimSuffix(string(value), "\n")
	return s == "" || s == "1"
}

// Status values (user.ggufs.status and the status file); a failure reads
// StatusErrorPrefix followed by the reason.
const (
	StatusUnloaded    = "unloaded"
	StatusLoading     = "loading"
	StatusResident    = "resident"
	StatusEvicted     = "evicted"
	StatusErrorPrefix = "error: "
)

// StatsFile is the mount's counters, at the mount's root.
const StatsFile = "stats.json"

// TensorsDir holds one directory per tensor.
const TensorsDir = "tensors"

// BackendStats is the device backend's counters in stats.json.
type BackendStats = hip.Stats

// Stats is stats.json. Fields may be added; none are removed.
type Stats struct {
	Model   string `json:"model"` // the file mounted (a split model's first shard)
	Device  string `json:"device"`
	Tensors int    `json:"tensors"`
	// UploadGBps is the cache's upload rate so far: bytes over the time
	// spent in uploads.
	UploadGBps float64       `json:"upload_gb_per_s"`
	Cache      cache.Stats   `json:"cache"`
	Backend    *BackendStats `json:"backend,omitempty"`
	// LoadAll reports the load that user.ggufs.load on the root started
	// last; nil when none was.
	LoadAll *LoadAll `json:"load_all,omitempty"`
	// Sharing reports the sharing socket's connections and each held
	// tensor's holders; nil when the mount does not share.
	Sharing *share.Stats `json:"sharing,omitempty"`
	// ReadPool is the host memory of the open data files' read-ahead
	// windows, one pool with a cap for the whole mount.
	ReadPool ReadPool `json:"read_pool"`
}

// ReadPool is the read-ahead pool's counters in stats.json.
type ReadPool struct {
	CapBytes   int64  `json:"cap_bytes"`    // the most the pool hands out and keeps, together
	InUseBytes int64  `json:"in_use_bytes"` // held by open files' windows now
	IdleBytes  int64  `json:"idle_bytes"`   // kept for the next window
	PeakBytes  int64  `json:"peak_bytes"`   // the most ever in use and idle together
	Grants     uint64 `json:"grants"`       // windows handed out
	Refusals   uint64 `json:"refusals"`     // windows refused at the cap: those reads went without
}

// LoadAll is the whole-model load's progress in stats.json. BytesDone
// counts this load's bytes only, from zero, as they land on the device.
type LoadAll struct {
	Running    bool   `json:"running"`
	BytesDone  uint64 `json:"bytes_done"`
	BytesTotal uint64 `json:"bytes_total"`
	// Skipped counts the tensors left out: their type has no known
	// layout, so no device can hold them.
	Skipped int    `json:"skipped"`
	Error   string `json:"error,omitempty"` // empty when every tensor loaded
	// ElapsedSeconds and GBPerSecond time the load so far (to its end once
	// it has ended).
	ElapsedSeconds float64 `json:"elapsed_seconds"`
	GBPerSecond    float64 `json:"gb_per_s"`
	// Result is how the load ended: nil while it runs.
	Result *cache.LoadAllResult `json:"result,omitempty"`
}

// TensorStatus is what `ggufs status` reports of one tensor, read from its
// extended attributes.
type TensorStatus struct {
	Name   string `json:"name"`  // as in the file
	Entry  string `json:"entry"` // its directory under tensors/
	Status string `json:"status"`
	Dtype  string `json:"dtype"`
	Shape  string `json:"shape"`
	Nbytes uint64 `json:"nbytes"`
	Device string `json:"device"`
}
