package share

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ProtocolVersion is the "version" of every message.
const ProtocolVersion = 1

// Limits on what crosses the socket.
const (
	// MaxRequestBytes bounds a request's JSON: the longest request names
	// every tensor of a large model (a few thousand names of at most a few
	// hundred bytes each) in far less; a larger frame is refused unread.
	MaxRequestBytes = 1 << 20
	// MaxReplyBytes bounds a reply the Go client accepts.
	MaxReplyBytes = 64 << 20
	// MaxFDsPerReply is the most file descriptors one reply carries: the
	// kernel's limit for one SCM_RIGHTS message (SCM_MAX_FD) is 253.
	MaxFDsPerReply = 250
	// frameHeaderBytes: every message starts with its JSON length as a
	// little-endian uint32.
	frameHeaderBytes = 4
)

// Ops a request can name.
const (
	OpHold    = "hold"
	OpRelease = "release"
)

// Request is what a consumer sends.
type Request struct {
	Version int    `json:"version"`
	Op      string `json:"op"`
	// Tensors names the tensors to hold or release; absent (null) means
	// every tensor of the mount.
	Tensors []string `json:"tensors"`
	// Generations, optional in a hold, are the generations the consumer
	// expects (from an earlier reply or an ipc descriptor): when a tensor's
	// differs, the hold fails with CodeStale and holds nothing.
	Generations map[string]uint64 `json:"generations,omitempty"`
}

// Error codes of a refused request.
const (
	CodeBadRequest         = "bad_request"         // not a JSON request object, or a field of the wrong type
	CodeTooLarge           = "too_large"           // the frame is longer than MaxRequestBytes
	CodeTruncated          = "truncated"           // the connection ended inside a frame
	CodeUnsupportedVersion = "unsupported_version" // version is not ProtocolVersion
	CodeUnknownOp          = "unknown_op"
	CodeUnknownTensor      = "unknown_tensor"
	CodeStale              = "stale"                // a tensor's generation is not the one expected
	CodeNoSpace            = "no_space"             // the tensors do not fit on the device together
	CodeUnavailable        = "unavailable"          // a tensor could not be made resident (see message)
	CodeTooManyAllocations = "too_many_allocations" // more allocations than one reply can carry
	CodePermissionDenied   = "permission_denied"    // the peer's user may not use this mount
	CodeBusy               = "busy"                 // too many connections
	CodeNotExportable      = "not_exportable"       // the device cannot share its memory
	CodeShuttingDown       = "shutting_down"
)

// Reply answers one request.
type Reply struct {
	Version int  `json:"version"`
	OK      bool `json:"ok"`
	// Error is set when OK is false; nothing was held or released then.
	Error *ErrorInfo `json:"error,omitempty"`
	// Device, Allocations and Tensors answer a hold.
	Device      *Device      `json:"device,omitempty"`
	Allocations []Allocation `json:"allocations,omitempty"`
	Tensors     []Tensor     `json:"tensors,omitempty"`
	// Released counts the holds a release ended.
	Released *int `json:"released,omitempty"`
}

// ErrorInfo says why a request was refused.
type ErrorInfo struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Device is where the memory lives, so that a consumer that numbers its
// devices differently (CUDA_VISIBLE_DEVICES) still finds it.
type Device struct {
	Kind     string `json:"kind"`  // "host", "cuda", "hip"
	Name     string `json:"name"`  // "cuda:0"
	Index    int    `json:"index"` // in the mounting process's numbering
	PCIBusID string `json:"pci_bus_id,omitempty"`
	UUID     string `json:"uuid,omitempty"`
}

// Allocation is one device allocation that a reply's tensors live in.
type Allocation struct {
	// ID identifies the allocation for the mount's lifetime (never reused).
	ID        uint64 `json:"id"`
	Mechanism string `json:"mechanism"` // hip.MechanismMemfd, ...
	Size      uint64 `json:"size"`
	// FD is the index, in the reply's SCM_RIGHTS descriptors, of the file
	// descriptor that maps the allocation (memfd, cuda_vmm); -1 otherwise.
	FD int `json:"fd"`
	// Handle is a legacy IPC handle in hex (cuda_ipc, hip_ipc).
	Handle string `json:"handle,omitempty"`
}

// Tensor is one held tensor: its bytes are [Offset, Offset+NBytes) of
// allocation Allocation.
type Tensor struct {
	Name       string   `json:"name"`
	Allocation uint64   `json:"allocation"` // 0: a zero-byte tensor, no allocation
	Offset     uint64   `json:"offset"`
	NBytes     uint64   `json:"nbytes"`
	Dtype      string   `json:"dtype"`       // ggml's name: "f32", "q4_K"
	Shape      []uint64 `json:"shape"`       // ggml order, ne0 first
	NumpyShape []uint64 `json:"numpy_shape"` // row-major order, ne0 last
	Generation uint64   `json:"generation"`
}

// errFrameTooLarge and errFrameTruncated classify frame read failures.
var (
	errFrameTooLarge  = errors.New("share: frame too large")
	errFrameTruncated = errors.New("share: connection ended inside a frame")
)

// readFrame reads one message of at most limit bytes. io.EOF means the peer
// closed between messages.
func readFrame(r io.Reader, limit int) ([]byte, error) {
	var hdr [frameHeaderBytes]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errFrameTruncated
		}
		return nil, err
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if uint64(n) > uint64(limit) {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", errFrameTooLarge, n, limit)
	}
	body := make([]byte, n)
	if got, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: %d of %d bytes", errFrameTruncated, got, n)
		}
		return nil, err
	}
	return body, nil
}

// encodeFrame is msg as a frame: length, then JSON.
func encodeFrame(msg any) ([]byte, error) {
	body, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("share: encoding a message: %w", err)
	}
	if len(body) > MaxReplyBytes {
		return nil, fmt.Errorf("share: message of %d bytes is over the limit of %d", len(body), MaxReplyBytes)
	}
	frame := make([]byte, frameHeaderBytes, frameHeaderBytes+len(body))
	binary.LittleEndian.PutUint32(frame, uint32(len(body)))
	return append(frame, body...), nil
}

// parseRequest decodes and checks one request.
func parseRequest(body []byte) (Request, *ErrorInfo) {
	var req Request
	if err := json.Unmarshal(body, &req); err != nil {
		return Request{}, &ErrorInfo{Code: CodeBadRequest, Message: "request is not a JSON object of the protocol: " + err.Error()}
	}
	if req.Version != ProtocolVersion {
		return Request{}, &ErrorInfo{Code: CodeUnsupportedVersion,
			Message: fmt.Sprintf("protocol version %d is not supported (this mount speaks %d)", req.Version, ProtocolVersion)}
	}
	switch req.Op {
	case OpHold, OpRelease:
	default:
		return Request{}, &ErrorInfo{Code: CodeUnknownOp, Message: fmt.Sprintf("unknown op %.64q (want %q or %q)", req.Op, OpHold, OpRelease)}
	}
	return req, nil
}
