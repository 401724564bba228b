package share

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/ggufs/ggufs/cache"
)

func TestHoldMapsEveryTensor(t *testing.T) {
	f := newFixture(t, 1<<20, 4096, 10000, 1, 70000)
	c := f.dial(t)
	rep, err := c.Hold(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Tensors) != len(f.names) {
		t.Fatalf("hold of every tensor returned %d, want %d", len(rep.Tensors), len(f.names))
	}
	for _, tn := range rep.Tensors {
		b, err := c.Bytes(tn)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, f.data[tn.Name]) {
			t.Fatalf("%s: mapped bytes differ from the tensor's", tn.Name)
		}
		if tn.Generation == 0 || tn.NBytes != uint64(len(f.data[tn.Name])) {
			t.Fatalf("%s: descriptor %+v", tn.Name, tn)
		}
		if n := f.cache.Holders(tn.Name); n != 1 {
			t.Fatalf("%s has %d holders, want 1", tn.Name, n)
		}
		if err := f.cache.Evict(tn.Name); !errors.Is(err, cache.ErrPinned) {
			t.Fatalf("evicting held %s: %v, want ErrPinned", tn.Name, err)
		}
	}
	if st := f.srv.Stats(); st.Holds != len(f.names) || st.Connections != 1 {
		t.Fatalf("stats %+v, want %d holds on 1 connection", st, len(f.names))
	}
	// Holding again on the same connection adds no hold.
	if _, err := c.Hold([]string{"t0"}, nil); err != nil {
		t.Fatal(err)
	}
	if n := f.cache.Holders("t0"); n != 1 {
		t.Fatalf("t0 has %d holders after a second hold on one connection, want 1", n)
	}
}

func TestHoldsEndWithTheConnection(t *testing.T) {
	f := newFixture(t, 1<<20, 4096, 8192)
	c := f.dial(t)
	if _, err := c.Hold([]string{"t1"}, nil); err != nil {
		t.Fatal(err)
	}
	other := f.dial(t)
	if _, err := other.Hold([]string{"t1"}, nil); err != nil {
		t.Fatal(err)
	}
	f.waitHolders(t, "t1", 2)
	c.Close()
	f.waitHolders(t, "t1", 1)
	other.Close()
	f.waitHolders(t, "t1", 0)
	if err := f.cache.Evict("t1"); err != nil {
		t.Fatalf("evict after every holder left: %v", err)
	}
}

func TestReleaseEndsNamedHolds(t *testing.T) {
	f := newFixture(t, 1<<20, 4096, 8192, 100)
	c := f.dial(t)
	if _, err := c.Hold(nil, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Release([]string{"t0", "t2"}); err != nil || n != 2 {
		t.Fatalf("release of two = %d, %v", n, err)
	}
	if f.cache.Holders("t0") != 0 || f.cache.Holders("t1") != 1 {
		t.Fatal("release ended the wrong holds")
	}
	if n, err := c.Release(nil); err != nil || n != 1 {
		t.Fatalf("release of the rest = %d, %v", n, err)
	}
	if f.cache.Holders("t1") != 0 {
		t.Fatal("release of all left a hold")
	}
}

func TestStaleGenerationHoldsNothing(t *testing.T) {
	f := newFixture(t, 1<<20, 4096, 8192)
	c := f.dial(t)
	rep, err := c.Hold([]string{"t0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	gen := rep.Tensors[0].Generation
	c.Release(nil)
	if err := f.cache.Evict("t0"); err != nil {
		t.Fatal(err)
	}
	_, err = c.Hold([]string{"t0", "t1"}, map[string]uint64{"t0": gen})
	var ref *RefusedError
	if !errors.As(err, &ref) || ref.Code != CodeStale {
		t.Fatalf("hold with the generation before an eviction: %v, want %s", err, CodeStale)
	}
	if f.cache.Holders("t0")+f.cache.Holders("t1") != 0 {
		t.Fatal("a refused hold left holds")
	}
	// The current generation is accepted.
	rep, err = c.Hold([]string{"t0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Hold([]string{"t0"}, map[string]uint64{"t0": rep.Tensors[0].Generation}); err != nil {
		t.Fatalf("hold with the current generation: %v", err)
	}
}

// rawConn is a connection that writes whatever a test gives it.
func rawConn(t *testing.T, f *fixture) *net.UnixConn {
	t.Helper()
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: f.srv.SocketPath(), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readError reads one reply and returns its error code ("" for success).
func readError(t *testing.T, c io.Reader) string {
	t.Helper()
	body, err := readFrame(c, MaxReplyBytes)
	if err != nil {
		t.Fatalf("no reply: %v", err)
	}
	var rep Reply
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatalf("reply is not JSON: %v: %q", err, body)
	}
	if rep.OK {
		return ""
	}
	if rep.Error == nil || rep.Error.Message == "" {
		t.Fatalf("refusal without a reason: %s", body)
	}
	return rep.Error.Code
}

func frame(body string) []byte { return append(lengthPrefix(uint32(len(body))), body...) }

func TestBadRequestsGetErrorReplies(t *testing.T) {
	f := newFixture(t, 1<<20, 4096, 8192)
	// Requests that keep the stream in step: the connection stays usable.
	inStep := []struct{ body, code string }{
		{`not json`, CodeBadRequest},
		{`[1,2]`, CodeBadRequest},
		{`{"version":1,"op":"hold","tensors":"t0"}`, CodeBadRequest},
		{`{"version":2,"op":"hold"}`, CodeUnsupportedVersion},
		{`{"op":"hold"}`, CodeUnsupportedVersion},
		{`{"version":1,"op":"explode"}`, CodeUnknownOp},
		{`{"version":1,"op":"hold","tensors":["t0","nope"]}`, CodeUnknownTensor},
		{`{"version":1,"op":"hold","tensors":["t0"],"generations":{"nope":1}}`, CodeUnknownTensor},
		{`{"version":1,"op":"release","tensors":["nope"]}`, CodeUnknownTensor},
		{``, CodeBadRequest},
	}
	c := rawConn(t, f)
	for _, tc := range inStep {
		if _, err := c.Write(frame(tc.body)); err != nil {
			t.Fatal(err)
		}
		if got := readError(t, c); got != tc.code {
			t.Errorf("request %q: code %q, want %q", tc.body, got, tc.code)
		}
	}
	if f.cache.Holders("t0") != 0 {
		t.Fatal("a refused hold left t0 held")
	}
	if _, err := c.Write(frame(`{"version":1,"op":"hold","tensors":["t0"]}`)); err != nil {
		t.Fatal(err)
	}
	if got := readError(t, c); got != "" {
		t.Fatalf("a good request after bad ones: %q", got)
	}

	// Requests after which the stream cannot be trusted: a reply, then the
	// connection ends.
	closing := []struct {
		name  string
		bytes []byte
		code  string
	}{
		{"http", []byte("GET / HTTP/1.0\r\n\r\n"), CodeTooLarge},
		{"huge", lengthPrefix(1 << 31), CodeTooLarge},
		{"truncated body", append(lengthPrefix(100), `{"version":1`...), CodeTruncated},
		{"truncated header", []byte{7, 0}, CodeTruncated},
	}
	for _, tc := range closing {
		c := rawConn(t, f)
		if _, err := c.Write(tc.bytes); err != nil {
			t.Fatal(err)
		}
		c.CloseWrite()
		if got := readError(t, c); got != tc.code {
			t.Errorf("%s: code %q, want %q", tc.name, got, tc.code)
		}
		// Closing with unread bytes resets the connection instead.
		if _, err := readFrame(c, MaxReplyBytes); !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("%s: the connection stayed open (%v)", tc.name, err)
		}
	}
	// The server still serves.
	ok := f.dial(t)
	if _, err := ok.Hold(nil, nil); err != nil {
		t.Fatalf("hold after bad requests: %v", err)
	}
}

func TestNoSpaceHoldsNothing(t *testing.T) {
	// Two tensors of 48 KiB cannot be held at once under a 64 KiB budget.
	f := newFixture(t, 64<<10, 48<<10, 48<<10)
	c := f.dial(t)
	_, err := c.Hold(nil, nil)
	var ref *RefusedError
	if !errors.As(err, &ref) || ref.Code != CodeNoSpace {
		t.Fatalf("hold of more than fits: %v, want %s", err, CodeNoSpace)
	}
	if f.cache.Holders("t0")+f.cache.Holders("t1") != 0 {
		t.Fatal("a refused hold left holds")
	}
	if _, err := c.Hold([]string{"t1"}, nil); err != nil {
		t.Fatalf("hold of one that fits: %v", err)
	}
}

func TestCloseEndsConnectionsAndHolds(t *testing.T) {
	f := newFixture(t, 1<<20, 4096)
	c := f.dial(t)
	if _, err := c.Hold(nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if n := f.cache.Holders("t0"); n != 0 {
		t.Fatalf("%d holders after the server closed", n)
	}
	if _, err := c.Hold(nil, nil); err == nil {
		t.Fatal("a hold after the server closed succeeded")
	}
}
