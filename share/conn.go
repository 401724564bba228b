package share

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ggufs/ggufs/cache"
	"github.com/ggufs/ggufs/hip"
)

// holdSet is one connection's holds, by tensor name.
type holdSet map[string]*cache.Handle

func (h holdSet) releaseAll() {
	for name, hd := range h {
		hd.Release()
		delete(h, name)
	}
}

// serveConn answers one consumer until it disconnects or the server closes;
// its holds end with it.
func (s *Server) serveConn(c *net.UnixConn) {
	held := holdSet{}
	defer held.releaseAll()
	if info := s.checkPeer(c); info != nil {
		s.refuse(c, info)
		return
	}
	for {
		body, err := readRequest(c)
		if err != nil {
			switch {
			case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
			case errors.Is(err, errFrameTooLarge):
				// The rest of the frame is unread: the stream cannot be
				// trusted any further.
				s.refuse(c, &ErrorInfo{Code: CodeTooLarge, Message: err.Error()})
			case errors.Is(err, errFrameTruncated), errors.Is(err, os.ErrDeadlineExceeded):
				s.refuse(c, &ErrorInfo{Code: CodeTruncated, Message: err.Error()})
			default:
				s.log.Printf("share: reading a request: %v", err)
			}
			return
		}
		rep, files := s.answer(held, body)
		err = writeReply(c, rep, files)
		for _, f := range files {
			f.Close()
		}
		if err != nil {
			if !errors.Is(err, net.ErrClosed) && !errors.Is(err, unix.EPIPE) {
				s.log.Printf("share: writing a reply: %v", err)
			}
			return
		}
	}
}

// readRequest reads one request frame: the peer may wait as long as it
// likes before a frame, but must finish it within frameTimeout.
func readRequest(c *net.UnixConn) ([]byte, error) {
	var first [1]byte
	if _, err := io.ReadFull(c, first[:]); err != nil {
		return nil, err
	}
	if err := c.SetReadDeadline(time.Now().Add(frameTimeout)); err != nil {
		return nil, err
	}
	body, err := readFrame(io.MultiReader(bytes.NewReader(first[:]), c), MaxRequestBytes)
	if errors.Is(err, io.EOF) {
		err = fmt.Errorf("%w: the header ends after 1 byte", errFrameTruncated)
	}
	if err != nil {
		return nil, err
	}
	return body, c.SetReadDeadline(time.Time{})
}

// refuse sends a last error reply before the connection is closed.
func (s *Server) refuse(c *net.UnixConn, info *ErrorInfo) {
	_ = writeReply(c, errorReply(info), nil) // the peer may be gone already
}

func errorReply(info *ErrorInfo) Reply {
	return Reply{Version: ProtocolVersion, OK: false, Error: info}
}

// writeReply sends one reply, with files as SCM_RIGHTS on its first bytes.
func writeReply(c *net.UnixConn, rep Reply, files []*os.File) error {
	frame, err := encodeFrame(rep)
	if err != nil {
		frame, _ = encodeFrame(errorReply(&ErrorInfo{Code: CodeTooManyAllocations, Message: err.Error()}))
		files = nil
	}
	var oob []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			fds[i] = int(f.Fd())
		}
		oob = unix.UnixRights(fds...)
	}
	if err := c.SetWriteDeadline(time.Now().Add(frameTimeout)); err != nil {
		return err
	}
	n, _, err := c.WriteMsgUnix(frame, oob, nil)
	runtime.KeepAlive(files)
	if err != nil {
		return err
	}
	// A stream socket may take less than the whole frame at once; the
	// descriptors went with the first part.
	if n < len(frame) {
		if _, err := c.Write(frame[n:]); err != nil {
			return err
		}
	}
	return c.SetWriteDeadline(time.Time{})
}

// checkPeer refuses a peer whose user may not use the mount: the mounting
// user and root may, anyone with AllowOther.
func (s *Server) checkPeer(c *net.UnixConn) *ErrorInfo {
	raw, err := c.SyscallConn()
	if err != nil {
		return &ErrorInfo{Code: CodePermissionDenied, Message: "cannot read the peer's credentials: " + err.Error()}
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		credErr = err
	}
	if credErr != nil {
		return &ErrorInfo{Code: CodePermissionDenied, Message: "cannot read the peer's credentials: " + credErr.Error()}
	}
	if s.cfg.AllowOther || cred.Uid == 0 || int(cred.Uid) == s.cfg.Owner {
		return nil
	}
	return &ErrorInfo{Code: CodePermissionDenied, Message: fmt.Sprintf(
		"uid %d may not use this mount: only uid %d and root (the mount was not made with --allow-other)", cred.Uid, s.cfg.Owner)}
}

// answer handles one request and returns its reply and the files the reply
// carries (the caller closes them).
func (s *Server) answer(held holdSet, body []byte) (Reply, []*os.File) {
	req, info := parseRequest(body)
	if info != nil {
		return errorReply(info), nil
	}
	switch req.Op {
	case OpHold:
		rep, files, info := s.hold(s.ctx, held, req)
		if info != nil {
			return errorReply(info), nil
		}
		return rep, files
	default: // OpRelease
		n, info := s.release(held, req.Tensors)
		if info != nil {
			return errorReply(info), nil
		}
		return Reply{Version: ProtocolVersion, OK: true, Released: &n}, nil
	}
}

// names resolves a request's tensor list: every tensor when absent, each
// name once, all of them known.
func (s *Server) names(list []string) ([]string, *ErrorInfo) {
	if list == nil {
		return s.all, nil
	}
	seen := make(map[string]bool, len(list))
	out := make([]string, 0, len(list))
	for _, name := range list {
		if _, ok := s.byName[name]; !ok {
			return nil, &ErrorInfo{Code: CodeUnknownTensor, Message: fmt.Sprintf("no tensor named %.200q in this mount", name)}
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out, nil
}

// hold pins every named tensor for this connection, checks the expected
// generations, and exports each allocation they live in. All or nothing:
// on an error no new hold stays.
func (s *Server) hold(ctx context.Context, held holdSet, req Request) (_ Reply, _ []*os.File, info *ErrorInfo) {
	if s.cfg.Exporter == nil {
		return Reply{}, nil, &ErrorInfo{Code: CodeNotExportable, Message: fmt.Sprintf("device %s cannot share its memory with other processes", s.device().Name)}
	}
	names, info := s.names(req.Tensors)
	if info != nil {
		return Reply{}, nil, info
	}
	for name := range req.Generations {
		if _, ok := s.byName[name]; !ok {
			return Reply{}, nil, &ErrorInfo{Code: CodeUnknownTensor, Message: fmt.Sprintf("generation given for %.200q, which is not in this mount", name)}
		}
	}
	var missing []string
	for _, name := range names {
		if held[name] == nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 1 {
		// One pipelined batch for what is not resident yet; Hold below
		// reports whatever this could not do.
		_ = s.cfg.Cache.LoadAll(ctx, missing, nil)
	}
	fresh := holdSet{}
	var files []*os.File
	defer func() {
		if info != nil {
			fresh.releaseAll()
			for _, f := range files {
				f.Close()
			}
			files = nil
		}
	}()
	for _, name := range missing {
		h, err := s.cfg.Cache.Hold(ctx, name)
		if err != nil {
			return Reply{}, nil, holdError(name, err)
		}
		fresh[name] = h
	}
	handle := func(name string) *cache.Handle {
		if h := fresh[name]; h != nil {
			return h
		}
		return held[name]
	}
	for name, want := range req.Generations {
		if h := handle(name); h != nil && h.Placement().Generation != want {
			return Reply{}, nil, &ErrorInfo{Code: CodeStale, Message: fmt.Sprintf(
				"tensor %.200q is at generation %d, not %d: it was evicted and loaded again since; map it from this hold's reply, not from an older descriptor",
				name, h.Placement().Generation, want)}
		}
	}
	dev := s.device()
	rep := Reply{Version: ProtocolVersion, OK: true, Device: &dev, Tensors: make([]Tensor, 0, len(names))}
	exported := map[uint64]bool{}
	for _, name := range names {
		h := handle(name)
		if h == nil {
			continue // cannot happen: every name is held by now
		}
		p := h.Placement()
		rep.Tensors = append(rep.Tensors, s.describe(name, h, p))
		if p.Allocation == 0 || exported[p.Allocation] {
			continue
		}
		exported[p.Allocation] = true
		a, f, err := s.export(p)
		if err != nil {
			return Reply{}, nil, &ErrorInfo{Code: CodeNotExportable, Message: err.Error()}
		}
		if f != nil {
			if len(files) == MaxFDsPerReply {
				f.Close()
				return Reply{}, nil, &ErrorInfo{Code: CodeTooManyAllocations, Message: fmt.Sprintf(
					"the tensors live in more than %d device allocations; hold fewer at once", MaxFDsPerReply)}
			}
			a.FD = len(files)
			files = append(files, f)
		}
		rep.Allocations = append(rep.Allocations, a)
	}
	for name, h := range fresh {
		held[name] = h
	}
	return rep, files, nil
}

// export describes one allocation, with the file that maps it if any.
func (s *Server) export(p cache.Placement) (Allocation, *os.File, error) {
	ex, err := s.cfg.Exporter.Export(p.Base)
	if err != nil {
		return Allocation{}, nil, fmt.Errorf("exporting device allocation %d: %w", p.Allocation, err)
	}
	a := Allocation{ID: p.Allocation, Mechanism: ex.Mechanism, Size: p.Size, FD: -1}
	if len(ex.Handle) > 0 {
		a.Handle = hex.EncodeToString(ex.Handle)
	}
	return a, ex.File, nil
}

// describe is one held tensor as a reply lists it.
func (s *Server) describe(name string, h *cache.Handle, p cache.Placement) Tensor {
	info := s.byName[name]
	return Tensor{
		Name: name, Allocation: p.Allocation, Offset: p.Offset, NBytes: h.Size(),
		Dtype: info.Dtype, Shape: info.Shape, NumpyShape: numpyShape(info.Shape), Generation: p.Generation,
	}
}

func numpyShape(shape []uint64) []uint64 {
	out := make([]uint64, len(shape))
	for i, d := range shape {
		out[len(shape)-1-i] = d
	}
	return out
}

// holdError turns a failed Hold into the reply's error.
func holdError(name string, err error) *ErrorInfo {
	code := CodeUnavailable
	switch {
	case errors.Is(err, cache.ErrNotFound):
		code = CodeUnknownTensor
	case errors.Is(err, cache.ErrNoSpace), errors.Is(err, hip.ErrOutOfMemory):
		code = CodeNoSpace
	case errors.Is(err, cache.ErrClosed), errors.Is(err, context.Canceled):
		code = CodeShuttingDown
	}
	return &ErrorInfo{Code: code, Message: fmt.Sprintf("holding %.200q: %v", name, err)}
}

// release ends this connection's holds of the named tensors (all of them
// when none are named) and says how many it ended.
func (s *Server) release(held holdSet, list []string) (int, *ErrorInfo) {
	if list == nil {
		n := len(held)
		held.releaseAll()
		return n, nil
	}
	names, info := s.names(list)
	if info != nil {
		return 0, info
	}
	n := 0
	for _, name := range names {
		if h := held[name]; h != nil {
			h.Release()
			delete(held, name)
			n++
		}
	}
	return n, nil
}
