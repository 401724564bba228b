package share

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"sync"
	"time"

	"github.com/ggufs/ggufs/cache"
	"github.com/ggufs/ggufs/hip"
)

// TensorInfo is what the server tells consumers of a tensor besides where
// it is.
type TensorInfo struct {
	Name  string
	Dtype string   // ggml's name
	Shape []uint64 // ggml order, ne0 first
}

// Config is what a Server shares.
type Config struct {
	Cache *cache.Cache
	// Exporter exports the device's allocations; nil when the device has no
	// way to share memory (holds are then refused with not_exportable).
	Exporter hip.Exporter
	Device   Device
	// DeviceOf, when set, replaces Device and is asked at each reply: the
	// device may still be opening when the server starts.
	DeviceOf func() Device
	// Tensors lists what the server offers, in the order "every tensor"
	// means; names the cache does not have are refused as unknown.
	Tensors []TensorInfo
	// SocketPath is where to listen (see DefaultSocketPath).
	SocketPath string
	// Owner is the uid that may connect besides root; AllowOther lets
	// every user connect.
	Owner      int
	AllowOther bool
	// Logger receives what goes wrong on connections (nil: log.Default()).
	Logger *log.Logger
}

// Limits of the server.
const (
	// maxConnections bounds the goroutines and holds that consumers can make
	// the mount keep; a connection beyond it gets a busy reply.
	maxConnections = 1024
	// frameTimeout is how long a peer may take to finish a message once it
	// has begun one, or to take a reply: a stalled peer costs only its own
	// connection, and this ends even that.
	frameTimeout = 10 * time.Second
)

// Server answers consumers on a unix socket. Its goroutines end with Close.
type Server struct {
	cfg    Config
	byName map[string]*TensorInfo
	all    []string // every tensor, for a request that names none
	ln     *net.UnixListener
	log    *log.Logger

	ctx    context.Context // cancelled by Close: loads for requests stop waiting
	cancel context.CancelFunc
	wg     sync.WaitGroup // the accept loop and every connection

	mu     sync.Mutex
	conns  map[*net.UnixConn]struct{}
	closed bool
	served int64 // connections accepted so far
}

// Listen starts serving cfg on cfg.SocketPath. Its directory must exist
// (PrepareSocketDir makes it); a stale socket left by a dead mount is
// replaced, a live one is an error.
func Listen(cfg Config) (*Server, error) {
	if cfg.Cache == nil || cfg.SocketPath == "" {
		return nil, errors.New("share: a cache and a socket path are required")
	}
	s := &Server{cfg: cfg, byName: make(map[string]*TensorInfo, len(cfg.Tensors)), log: cfg.Logger,
		conns: make(map[*net.UnixConn]struct{})}
	if s.log == nil {
		s.log = log.Default()
	}
	for i := range cfg.Tensors {
		t := &cfg.Tensors[i]
		if _, dup := s.byName[t.Name]; dup {
			continue
		}
		s.byName[t.Name] = t
		s.all = append(s.all, t.Name)
	}
	if err := removeStaleSocket(cfg.SocketPath); err != nil {
		return nil, err
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: cfg.SocketPath, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("share: listening on %s: %w", cfg.SocketPath, err)
	}
	// connect(2) needs write permission on the socket: the owner only,
	// unless every user may come (their credentials are checked anyway).
	mode := os.FileMode(0o600)
	if cfg.AllowOther {
		mode = 0o666
	}
	if err := os.Chmod(cfg.SocketPath, mode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("share: %w", err)
	}
	s.ln = ln
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

// removeStaleSocket removes a socket at path that nobody serves.
func removeStaleSocket(path string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("share: %w", err)
	}
	if st.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("share: %s exists and is not a socket", path)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("share: %s is served by another process", path)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("share: removing stale socket: %w", err)
	}
	return nil
}

// SocketPath is where the server listens.
func (s *Server) SocketPath() string { return s.cfg.SocketPath }

// device is where the shared memory lives, as of now.
func (s *Server) device() Device {
	if s.cfg.DeviceOf != nil {
		return s.cfg.DeviceOf()
	}
	return s.cfg.Device
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// EMFILE and the like: wait a little rather than spin.
			s.log.Printf("share: accept: %v", err)
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		open, ok := s.track(c)
		if !ok {
			c.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			if open > maxConnections {
				s.refuse(c, &ErrorInfo{Code: CodeBusy,
					Message: fmt.Sprintf("the mount serves %d connections already", maxConnections)})
				return
			}
			s.serveConn(c)
		}()
	}
}

// track registers a connection and returns how many are open with it;
// false once the server is closed.
func (s *Server) track(c *net.UnixConn) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, false
	}
	s.conns[c] = struct{}{}
	s.served++
	return len(s.conns), true
}

func (s *Server) untrack(c *net.UnixConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	c.Close()
}

// connections is how many connections are open now.
func (s *Server) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Close stops accepting, ends every connection (releasing its holds) and
// waits for the server's goroutines; the socket file is removed.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	err := s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("share: closing %s: %w", s.cfg.SocketPath, err)
	}
	return nil
}

// Stats is what stats.json shows of the sharing.
type Stats struct {
	Socket      string `json:"socket"`
	Connections int    `json:"connections"`
	// ConnectionsTotal counts every connection accepted so far.
	ConnectionsTotal int64 `json:"connections_total"`
	// Holds is the number of tensor holds now; Holders how many each held
	// tensor has (tensors without holders are left out).
	Holds   int            `json:"holds"`
	Holders map[string]int `json:"holders"`
}

// Stats reports connections and holds now.
func (s *Server) Stats() Stats {
	st := Stats{Socket: s.cfg.SocketPath, Holders: map[string]int{}}
	s.mu.Lock()
	st.Connections, st.ConnectionsTotal = len(s.conns), s.served
	s.mu.Unlock()
	for _, name := range s.all {
		if n := s.cfg.Cache.Holders(name); n > 0 {
			st.Holders[name] = n
			st.Holds += n
		}
	}
	return st
}
