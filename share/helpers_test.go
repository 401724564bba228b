package share

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/ggufs/ggufs/cache"
	"github.com/ggufs/ggufs/hip"
)

// fixture is a server over a host-backend cache of pseudo-random tensors.
type fixture struct {
	srv   *Server
	cache *cache.Cache
	dev   *hip.Host
	data  map[string][]byte
	names []string
}

// newFixture serves tensors of the given sizes (named t0, t1, ...) under a
// cache budget.
func newFixture(t testing.TB, budget uint64, sizes ...int) *fixture {
	t.Helper()
	return newFixtureWith(t, budget, nil, sizes...)
}

// newFixtureWith lets the test change the server's Config before it listens.
func newFixtureWith(t testing.TB, budget uint64, change func(*Config), sizes ...int) *fixture {
	t.Helper()
	f := &fixture{data: map[string][]byte{}, dev: hip.NewHost(hip.HostOptions{Capacity: 64 << 20})}
	t.Cleanup(func() { f.dev.Close() })
	rng := rand.New(rand.NewPCG(uint64(len(sizes)), 1))
	var tensors []cache.Tensor
	var infos []TensorInfo
	for i, n := range sizes {
		name := fmt.Sprintf("t%d", i)
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		f.data[name] = b
		f.names = append(f.names, name)
		tensors = append(tensors, cache.Tensor{Name: name, Size: uint64(n), Source: func() (hip.Source, error) { return hip.Memory(b), nil }})
		infos = append(infos, TensorInfo{Name: name, Dtype: "i8", Shape: []uint64{uint64(n)}})
	}
	c, err := cache.New(f.dev, tensors, cache.Options{Budget: budget, ArenaSize: budget / 2})
	if err != nil {
		t.Fatal(err)
	}
	f.cache = c
	t.Cleanup(func() { c.Close() })
	cfg := Config{Cache: c, Exporter: f.dev, Device: Device{Kind: "host", Name: "host"}, Tensors: infos,
		SocketPath: filepath.Join(t.TempDir(), "s.sock"), Owner: 0}
	if change != nil {
		change(&cfg)
	}
	srv, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	return f
}

func (f *fixture) dial(t *testing.T) *Client {
	t.Helper()
	c, err := Dial(f.srv.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitHolders waits until the tensor has n holders: a closed connection
// ends its holds when the server reads its end, a moment later.
func (f *fixture) waitHolders(t *testing.T, name string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for f.cache.Holders(name) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d holders, want %d", name, f.cache.Holders(name), n)
		}
		time.Sleep(time.Millisecond)
	}
}
