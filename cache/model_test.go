package cache

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/ggufs/ggufs/hip"
	"pgregory.net/rapid"
)

// cacheModel is what the cache should do with tensors of one size in one
// arena of room for slots of them: plain LRU over the tensors nobody holds.
type cacheModel struct {
	slots   int
	lru     []int // resident tensors, least recently used first
	state   []State
	handles [][]*Handle
	unpins  [][]func()
}

func (m *cacheModel) resident(i int) bool { return slices.Contains(m.lru, i) }
func (m *cacheModel) busy(i int) bool     { return len(m.handles[i]) > 0 || len(m.unpins[i]) > 0 }
func (m *cacheModel) touch(i int) {
	m.lru = slices.DeleteFunc(m.lru, func(x int) bool { return x == i })
	m.lru = append(m.lru, i)
}

// TestCacheMatchesLRUModel runs random Get/Release/Evict/Pin/Unpin sequences
// under a small budget and compares every tensor's state with the model
// after each step.
func TestCacheMatchesLRUModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 8).Draw(t, "tensors")
		slots := rapid.IntRange(1, 4).Draw(t, "slots")
		const size = 3 * allocAlign
		sizes := make([]uint64, n)
		for i := range sizes {
			sizes[i] = size
		}
		tm := newTestModel(uint64(n*10+slots), sizes...)
		h := hip.NewHost(hip.HostOptions{Capacity: 1 << 20})
		defer h.Close()
		budget := uint64(slots * size)
		c, err := New(h, tm.tensors, Options{Budget: budget, ArenaSize: budget})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		m := &cacheModel{slots: slots, state: make([]State, n), handles: make([][]*Handle, n), unpins: make([][]func(), n)}
		pick := rapid.IntRange(0, n-1)
		ctx := context.Background()

		// get does a Get; hold keeps the Handle, else it is released at once.
		get := func(t *rapid.T, i int, hold bool) {
			hd, err := c.Get(ctx, tm.name(i))
			wantOK := m.resident(i) || len(m.lru) < slots || slices.ContainsFunc(m.lru, func(x int) bool { return !m.busy(x) })
			if (err == nil) != wantOK {
				t.Fatalf("Get(%d) = %v; model expects success %v (lru %v)", i, err, wantOK, m.lru)
			}
			if err != nil {
				if !errors.Is(err, ErrNoSpace) {
					t.Fatalf("Get(%d) = %v; want ErrNoSpace", i, err)
				}
				// Want of memory leaves it as it was (Unloaded or
				// Evicted): the next Get may succeed.
				return
			}
			if !m.resident(i) && len(m.lru) == slots {
				v := slices.IndexFunc(m.lru, func(x int) bool { return !m.busy(x) })
				m.state[m.lru[v]] = Evicted
				m.lru = slices.Delete(m.lru, v, v+1)
			}
			m.touch(i)
			m.state[i] = Resident
			got := make([]byte, size)
			if _, err := hd.ReadAt(got, 0); err != nil || !bytes.Equal(got, tm.data[tm.name(i)]) {
				t.Fatalf("tensor %d: read %v or bytes differ", i, err)
			}
			if hold {
				m.handles[i] = append(m.handles[i], hd)
			} else {
				hd.Release()
			}
		}

		t.Repeat(map[string]func(*rapid.T){
			"get":  func(t *rapid.T) { get(t, pick.Draw(t, "i"), true) },
			"read": func(t *rapid.T) { get(t, pick.Draw(t, "i"), false) },
			"release": func(t *rapid.T) {
				i := pick.Draw(t, "i")
				if len(m.handles[i]) == 0 {
					t.Skip("nothing held")
				}
				m.handles[i][0].Release()
				m.handles[i] = m.handles[i][1:]
			},
			"evict": func(t *rapid.T) {
				i := pick.Draw(t, "i")
				err := c.Evict(tm.name(i))
				switch {
				case m.resident(i) && m.busy(i):
					if !errors.Is(err, ErrPinned) {
						t.Fatalf("Evict(%d) of a held tensor = %v; want ErrPinned", i, err)
					}
				case err != nil:
					t.Fatalf("Evict(%d) = %v", i, err)
				case m.resident(i):
					m.lru = slices.DeleteFunc(m.lru, func(x int) bool { return x == i })
					m.state[i] = Evicted
				}
			},
			"pin": func(t *rapid.T) {
				i := pick.Draw(t, "i")
				unpin, err := c.Pin(tm.name(i))
				if err != nil {
					t.Fatal(err)
				}
				m.unpins[i] = append(m.unpins[i], unpin)
			},
			"unpin": func(t *rapid.T) {
				i := pick.Draw(t, "i")
				if len(m.unpins[i]) == 0 {
					t.Skip("not pinned")
				}
				m.unpins[i][0]()
				m.unpins[i] = m.unpins[i][1:]
			},
			"": func(t *rapid.T) {
				for i := range n {
					if got := c.Status(tm.name(i)).State; got != m.state[i] {
						t.Fatalf("tensor %d: state %v; model %v", i, got, m.state[i])
					}
				}
				s := c.Stats()
				if s.ResidentTensors != len(m.lru) || s.ResidentBytes != uint64(len(m.lru)*size) {
					t.Fatalf("stats %+v; model has %d resident", s, len(m.lru))
				}
				if s.DeviceBytes > budget || s.DeviceBytes != h.Allocated() {
					t.Fatalf("cache holds %d (budget %d), device %d", s.DeviceBytes, budget, h.Allocated())
				}
			},
		})
		for i := range n {
			for _, hd := range m.handles[i] {
				hd.Release()
			}
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if h.Allocated() != 0 {
			t.Fatalf("device holds %d bytes after Close", h.Allocated())
		}
	})
}

// TestCacheInvariantsWithMixedSizes runs random operations on tensors of
// random sizes, some larger than an arena, and checks what must hold
// whatever the placement: held and pinned tensors stay resident, a Get
// fails for lack of space only when every resident tensor is held, bytes
// read match the source, and the accounting matches the device.
func TestCacheInvariantsWithMixedSizes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 10).Draw(t, "tensors")
		sizes := rapid.SliceOfN(rapid.Uint64Range(0, 20_000), n, n).Draw(t, "sizes")
		budget := rapid.Uint64Range(4_000, 60_000).Draw(t, "budget")
		arena := rapid.Uint64Range(1_000, 30_000).Draw(t, "arena")
		tm := newTestModel(uint64(n)+budget, sizes...)
		h := hip.NewHost(hip.HostOptions{Capacity: 1 << 20})
		defer h.Close()
		c, err := New(h, tm.tensors, Options{Budget: budget, ArenaSize: arena})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		handles := make([][]*Handle, n)
		unpins := make([][]func(), n)
		busy := func(i int) bool { return len(handles[i]) > 0 || len(unpins[i]) > 0 }
		pick := rapid.IntRange(0, n-1)
		ctx := context.Background()

		t.Repeat(map[string]func(*rapid.T){
			"get": func(t *rapid.T) {
				i := pick.Draw(t, "i")
				hd, err := c.Get(ctx, tm.name(i))
				if errors.Is(err, ErrNoSpace) {
					if need, _ := alignUp(sizes[i]); need > budget {
						return // hopeless: nothing is evicted for it
					}
					for j := range n {
						if c.IsResident(tm.name(j)) && !busy(j) && sizes[j] > 0 {
							t.Fatalf("Get(%d) found no space while tensor %d could have been evicted", i, j)
						}
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				handles[i] = append(handles[i], hd)
				off := rapid.Uint64Range(0, sizes[i]).Draw(t, "off")
				got := make([]byte, sizes[i]-off)
				if _, err := hd.ReadAt(got, int64(off)); err != nil || !bytes.Equal(got, tm.data[tm.name(i)][off:]) {
					t.Fatalf("tensor %d at %d: read %v or bytes differ", i, off, err)
				}
			},
			"release": func(t *rapid.T) {
				i := pick.Draw(t, "i")
				if len(handles[i]) == 0 {
					t.Skip("nothing held")
				}
				handles[i][0].Release()
				handles[i] = handles[i][1:]
			},
			"evict": func(t *rapid.T) {
				i := pick.Draw(t, "i")
				err := c.Evict(tm.name(i))
				if busy(i) && c.IsResident(tm.name(i)) != errors.Is(err, ErrPinned) {
					t.Fatalf("Evict(%d) of a held tensor = %v", i, err)
				}
				if !busy(i) && (err != nil || c.IsResident(tm.name(i))) {
					t.Fatalf("Evict(%d) = %v", i, err)
				}
			},
			"pin": func(t *rapid.T) {
				i := pick.Draw(t, "i")
				unpin, err := c.Pin(tm.name(i))
				if err != nil {
					t.Fatal(err)
				}
				unpins[i] = append(unpins[i], unpin)
			},
			"unpin": func(t *rapid.T) {
				i := pick.Draw(t, "i")
				if len(unpins[i]) == 0 {
					t.Skip("not pinned")
				}
				unpins[i][0]()
				unpins[i] = unpins[i][1:]
			},
			"loadall": func(t *rapid.T) {
				err := c.LoadAll(ctx, nil, nil)
				if err != nil && !errors.Is(err, ErrNoSpace) {
					t.Fatal(err)
				}
			},
			"": func(t *rapid.T) {
				var resident, placed uint64
				for i := range n {
					r := c.IsResident(tm.name(i))
					if len(handles[i]) > 0 && !r {
						t.Fatalf("held tensor %d is %v", i, c.Status(tm.name(i)))
					}
					if r {
						resident += sizes[i]
						a, _ := alignUp(sizes[i])
						placed += a
					}
				}
				c.mu.Lock()
				poolPlaced := c.pool.placed
				c.mu.Unlock()
				if poolPlaced != placed {
					t.Fatalf("pool counts %d bytes placed; resident tensors take %d", poolPlaced, placed)
				}
				s := c.Stats()
				if s.ResidentBytes != resident {
					t.Fatalf("resident bytes %d; tensors add up to %d", s.ResidentBytes, resident)
				}
				if s.DeviceBytes > budget || s.DeviceBytes != h.Allocated() || int64(s.DeviceAllocations) != h.Stats().LiveAllocations {
					t.Fatalf("cache %+v; device %d bytes, %d allocations", s, h.Allocated(), h.Stats().LiveAllocations)
				}
			},
		})
		for i := range n {
			for _, hd := range handles[i] {
				hd.Release()
			}
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if h.Allocated() != 0 {
			t.Fatalf("device holds %d bytes after Close", h.Allocated())
		}
	})
}
