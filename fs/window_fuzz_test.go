package fs

import (
	"bytes"
	"sync"
	"testing"
)

// FuzzReadWindow: any sequence of reads (sequential runs, jumps, odd
// lengths) with evictions and read-pool exhaustion interleaved returns
// exactly the tensor's bytes, through both read paths, and gives every
// byte of window memory back to the pool once the file is closed.
//
// Each op is 4 bytes: kind, then offset and length parameters.
func FuzzReadWindow(f *testing.F) {
	f.Add(uint16(1000), uint8(64), []byte{0, 0, 8, 0, 0, 1, 8, 0, 0, 2, 8, 0, 1, 0, 0, 0, 0, 3, 8, 0})
	f.Add(uint16(300), uint8(32), []byte{2, 10, 40, 0, 0, 0, 33, 0, 3, 0, 0, 0, 0, 1, 200, 1})
	f.Add(uint16(4096), uint8(255), []byte{0, 0, 255, 0, 0, 1, 255, 0, 4, 0, 0, 0, 0, 2, 255, 0})
	f.Fuzz(func(t *testing.T, size uint16, limit uint8, ops []byte) {
		if size == 0 || limit == 0 || len(ops) > 4*256 {
			return
		}
		ft := newFakeTensor(int(size))
		// Room for a window and a half: read-aheads and refills compete
		// for it, and some go without.
		pool := newReadPool(int(limit), int64(limit)*3/2)
		var bg sync.WaitGroup
		w := newReadWindow(int64(size), int(limit), pool, ft.fetch, func() bool { return !ft.gone.Load() }, &bg)
		var hogs [][]byte // the pool's memory another file holds
		next := 0         // where a sequential reader would read next
		for i := 0; i+4 <= len(ops); i += 4 {
			kind, a, b := ops[i]%5, int(ops[i+1])|int(ops[i+2])<<8, int(ops[i+3])
			switch kind {
			case 0, 1, 2: // a sequential read, a jump, a read via readInto
				off := next
				if kind == 1 {
					off = a % int(size)
				}
				if off >= int(size) {
					off = 0
				}
				n := min(1+int(ops[i+2])+b, int(size)-off)
				p := make([]byte, n)
				var got []byte
				if kind == 2 {
					if err := w.readInto(p, int64(off)); err != nil {
						t.Fatalf("readInto(%d, %d): %v", off, n, err)
					}
					got = p
				} else {
					data, ref, err := w.read(p, int64(off))
					if err != nil {
						t.Fatalf("read(%d, %d): %v", off, n, err)
					}
					got = append([]byte(nil), data...)
					if ref != nil {
						w.unref(ref)
					}
				}
				if !bytes.Equal(got, ft.data[off:off+n]) {
					t.Fatalf("read(%d, %d): wrong bytes", off, n)
				}
				next = off + n
			case 3: // the device copy is evicted, or comes back
				ft.gone.Store(!ft.gone.Load())
			case 4: // another file takes the pool's memory for a while
				if hog := pool.get(int(limit)); hog != nil {
					hogs = append(hogs, hog)
				}
			}
		}
		bg.Wait()
		w.close()
		bg.Wait()
		for _, h := range hogs {
			pool.put(h)
		}
		if s := pool.snapshot(); s.InUseBytes != 0 || s.PeakBytes > s.CapBytes {
			t.Fatalf("after close: %+v", s)
		}
	})
}
