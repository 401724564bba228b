package share

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/ggufs/ggufs/hip"
)

// Client is a consumer's connection to a mount's socket. The Go client maps
// memfd allocations (the host backend) itself; for device mechanisms it
// returns the reply and the received files to the caller. Every hold ends
// with Close.
type Client struct {
	conn *net.UnixConn

	mu   sync.Mutex
	maps map[uint64][]byte // allocation ID -> this process's read-only mapping
}

// RefusedError is a request the mount refused: Code is one of the Code
// constants.
type RefusedError struct {
	Code, Message string
}

func (e *RefusedError) Error() string { return "share: refused (" + e.Code + "): " + e.Message }

// Dial connects to a mount's socket.
func Dial(socketPath string) (*Client, error) {
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: socketPath, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("share: connecting to %s: %w", socketPath, err)
	}
	return &Client{conn: c, maps: map[uint64][]byte{}}, nil
}

// Hold holds the named tensors (nil: every tensor) and maps the memfd
// allocations they live in; generations, when not nil, must match. The
// reply says where each tensor is; Bytes gives its bytes.
func (c *Client) Hold(names []string, generations map[string]uint64) (*Reply, error) {
	rep, fds, err := c.Do(Request{Version: ProtocolVersion, Op: OpHold, Tensors: names, Generations: generations})
	defer closeAll(fds)
	if err != nil {
		return nil, err
	}
	if err := c.mapAllocations(rep, fds); err != nil {
		return nil, err
	}
	return rep, nil
}

// Release ends the holds of the named tensors (nil: all) and returns how
// many it ended. Bytes of released tensors must not be used any more.
func (c *Client) Release(names []string) (int, error) {
	rep, fds, err := c.Do(Request{Version: ProtocolVersion, Op: OpRelease, Tensors: names})
	closeAll(fds)
	if err != nil {
		return 0, err
	}
	if rep.Released == nil {
		return 0, errors.New("share: release reply without a count")
	}
	return *rep.Released, nil
}

// Bytes is a held tensor's bytes in this process's read-only mapping of its
// allocation (nil for a zero-byte tensor). Writing them faults.
func (c *Client) Bytes(t Tensor) ([]byte, error) {
	if t.NBytes == 0 {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.maps[t.Allocation]
	if !ok {
		return nil, fmt.Errorf("share: tensor %.200q: allocation %d is not mapped", t.Name, t.Allocation)
	}
	if t.Offset > uint64(len(m)) || t.NBytes > uint64(len(m))-t.Offset {
		return nil, fmt.Errorf("share: tensor %.200q: [%d, +%d) lies outside its allocation of %d bytes", t.Name, t.Offset, t.NBytes, len(m))
	}
	return m[t.Offset : t.Offset+t.NBytes : t.Offset+t.NBytes], nil
}

// mapAllocations maps each memfd allocation of rep once per client.
func (c *Client) mapAllocations(rep *Reply, fds []int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range rep.Allocations {
		if a.Mechanism != hip.MechanismMemfd {
			continue
		}
		if _, ok := c.maps[a.ID]; ok {
			continue
		}
		if a.FD < 0 || a.FD >= len(fds) {
			return fmt.Errorf("share: allocation %d names descriptor %d of %d received", a.ID, a.FD, len(fds))
		}
		if a.Size == 0 || a.Size > uint64(maxInt) {
			return fmt.Errorf("share: allocation %d has an impossible size %d", a.ID, a.Size)
		}
		m, err := unix.Mmap(fds[a.FD], 0, int(a.Size), unix.PROT_READ, unix.MAP_SHARED)
		if err != nil {
			return fmt.Errorf("share: mapping allocation %d (%d bytes): %w", a.ID, a.Size, err)
		}
		c.maps[a.ID] = m
	}
	return nil
}

const maxInt = int(^uint(0) >> 1)

// Do sends one request and returns its reply and the file descriptors that
// came with it (the caller closes them). A refused request is a
// *RefusedError.
func (c *Client) Do(req Request) (*Reply, []int, error) {
	frame, err := encodeFrame(req)
	if err != nil {
		return nil, nil, err
	}
	_, werr := c.conn.Write(frame)
	// A mount that refuses a peer (permission_denied, busy) replies at
	// once and closes, so the write may fail: its reply says why.
	body, fds, err := c.readReply()
	if err != nil {
		if werr != nil {
			return nil, fds, fmt.Errorf("share: sending a request: %w", werr)
		}
		return nil, fds, err
	}
	var rep Reply
	if err := json.Unmarshal(body, &rep); err != nil {
		return nil, fds, fmt.Errorf("share: reply is not JSON: %w", err)
	}
	if !rep.OK {
		if rep.Error == nil {
			return nil, fds, errors.New("share: refused without a reason")
		}
		return nil, fds, &RefusedError{Code: rep.Error.Code, Message: rep.Error.Message}
	}
	return &rep, fds, nil
}

// readReply reads one frame; descriptors arrive with its first bytes.
func (c *Client) readReply() ([]byte, []int, error) {
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(MaxFDsPerReply*4))
	n, oobn, _, _, err := c.conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, nil, fmt.Errorf("share: reading a reply: %w", err)
	}
	fds, err := parseRights(oob[:oobn])
	if err != nil {
		return nil, fds, err
	}
	if n == 0 {
		return nil, fds, fmt.Errorf("share: reading a reply: %w", io.EOF)
	}
	body, err := readFrame(io.MultiReader(bytes.NewReader(buf[:n]), c.conn), MaxReplyBytes)
	if err != nil {
		return nil, fds, fmt.Errorf("share: reading a reply: %w", err)
	}
	return body, fds, nil
}

func parseRights(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("share: reply's control message: %w", err)
	}
	var fds []int
	for i := range msgs {
		if msgs[i].Header.Level != unix.SOL_SOCKET || msgs[i].Header.Type != unix.SCM_RIGHTS {
			continue
		}
		got, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			return fds, fmt.Errorf("share: reply's descriptors: %w", err)
		}
		for _, fd := range got {
			unix.CloseOnExec(fd)
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// Close ends every hold (by closing the connection) and unmaps every
// allocation: no Bytes of this client may be used after it.
func (c *Client) Close() error {
	err := c.conn.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, m := range c.maps {
		unix.Munmap(m)
		delete(c.maps, id)
	}
	return err
}

// lengthPrefix is the frame header of n bytes, for tests and tools that
// write frames by hand.
func lengthPrefix(n uint32) []byte {
	return binary.LittleEndian.AppendUint32(nil, n)
}
