package hip

import (
	"fmt"
	"sync"
	"testing"
)

// fakeRuntime simulates the runtime API in host memory so the GPU backend's
// pipeline runs under the race detector without a GPU. Asynchronous copies
// are queued per stream and only performed when an event or the stream is
// synchronised, so a staging buffer reused too early corrupts the result.
type fakeRuntime struct {
	mu         sync.Mutex
	capacity   uint64
	used       uint64
	mem        map[uintptr][]byte // device allocations and pinned host memory, kept alive
	nextHandle uintptr
	queues     map[uintptr][]func() // stream -> queued copies
	events     map[uintptr]uintptr  // event -> stream it was recorded on
	registered map[uintptr]uint64   // host register start -> length

	registerCode   int32                       // nonzero: every hostRegister fails with it
	memcpyAsyncHit func(n int) int32           // called with the call's ordinal; nonzero fails it
	onMemcpyAsync  func()                      // hook run on every async copy
	calls          map[string]int              // calls by name
	registerFlags  map[uint32]int              // flags hostRegister saw
	failMalloc     func(size uint64) bool      // true: malloc fails with out of memory
	onRegister     func(ptr uintptr, n uint64) // hook
}

func newFakeGPU(t *testing.T, cfg UploadConfig) (*GPU, *fakeRuntime) {
	t.Helper()
	f := &fakeRuntime{capacity: 1 << 30, mem: map[uintptr][]byte{}, queues: map[uintptr][]func(){},
		events: map[uintptr]uintptr{}, registered: map[uintptr]uint64{}, calls: map[string]int{},
		registerFlags: map[uint32]int{}, nextHandle: 0x1000}
	rt := &runtimeAPI{fl: &cudaFlavor, path: "fake"}
	f.install(rt)
	c, err := cfg.withDefaults("cuda")
	if err != nil {
		t.Fatal(err)
	}
	g := &GPU{rt: rt, cfg: c}
	t.Cleanup(func() {
		if err := g.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return g, f
}

func (f *fakeRuntime) count(name string) {
	f.calls[name]++
}

func (f *fakeRuntime) alloc(n uint64) uintptr {
	b := make([]byte, n+1) // +1: a distinct address even for neighbours
	p := addressOf(b)
	f.mem[p] = b
	return p
}

func (f *fakeRuntime) flush(stream uintptr) {
	for _, do := range f.queues[stream] {
		do()
	}
	delete(f.queues, stream)
}

func (f *fakeRuntime) pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, q := range f.queues {
		n += len(q)
	}
	return n
}

func (f *fakeRuntime) liveRegistrations() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.registered)
}

func (f *fakeRuntime) install(rt *runtimeAPI) {
	lock := func(name string) func() {
		f.mu.Lock()
		f.count(name)
		return f.mu.Unlock
	}
	rt.getDeviceCount = func(n *int32) int32 { *n = 1; return 0 }
	rt.setDevice = func(int32) int32 { return 0 }
	rt.deviceGetAttribute = func(v *int32, _, _ int32) int32 { *v = 9; return 0 }
	rt.memGetInfo = func(free, total *uint64) int32 {
		defer lock("memGetInfo")()
		*free, *total = f.capacity-f.used, f.capacity
		return 0
	}
	rt.malloc = func(p *uintptr, n uint64) int32 {
		defer lock("malloc")()
		if n > f.capacity-f.used || (f.failMalloc != nil && f.failMalloc(n)) {
			return codeOutOfMemory
		}
		f.used += n
		*p = f.alloc(n)
		return 0
	}
	rt.free = func(p uintptr) int32 {
		defer lock("free")()
		b, ok := f.mem[p]
		if !ok {
			return codeInvalidValue
		}
		f.used -= uint64(len(b) - 1)
		delete(f.mem, p)
		return 0
	}
	rt.memcpy = func(dst, src uintptr, n uint64, kind int32) int32 {
		defer lock("memcpy")()
		copy(bytesAt(dst, int(n)), bytesAt(src, int(n)))
		return 0
	}
	rt.memcpyAsync = func(dst, src uintptr, n uint64, kind int32, stream uintptr) int32 {
		f.mu.Lock()
		f.count("memcpyAsync")
		hit, hook := f.memcpyAsyncHit, f.onMemcpyAsync
		ord := f.calls["memcpyAsync"]
		f.mu.Unlock()
		if hook != nil {
			hook()
		}
		if hit != nil {
			if code := hit(ord); code != 0 {
				return code
			}
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.queues[stream] = append(f.queues[stream], func() {
			copy(bytesAt(dst, int(n)), bytesAt(src, int(n)))
		})
		return 0
	}
	newHandle := func(p *uintptr) {
		f.nextHandle += 8
		*p = f.nextHandle
	}
	rt.streamCreateWithFlags = func(s *uintptr, _ uint32) int32 { defer lock("streamCreate")(); newHandle(s); return 0 }
	rt.streamSynchronize = func(s uintptr) int32 { defer lock("streamSynchronize")(); f.flush(s); return 0 }
	rt.streamDestroy = func(s uintptr) int32 { defer lock("streamDestroy")(); f.flush(s); return 0 }
	rt.eventCreateWithFlags = func(e *uintptr, _ uint32) int32 { defer lock("eventCreate")(); newHandle(e); return 0 }
	rt.eventRecord = func(e, s uintptr) int32 { defer lock("eventRecord")(); f.events[e] = s; return 0 }
	rt.eventSynchronize = func(e uintptr) int32 {
		defer lock("eventSynchronize")()
		f.flush(f.events[e])
		return 0
	}
	rt.eventElapsedTime = func(ms *float32, _, _ uintptr) int32 { *ms = 1; return 0 }
	rt.eventDestroy = func(uintptr) int32 { return 0 }
	rt.hostRegister = func(p uintptr, n uint64, flags uint32) int32 {
		f.mu.Lock()
		f.count("hostRegister")
		f.registerFlags[flags]++
		code, hook := f.registerCode, f.onRegister
		f.mu.Unlock()
		if hook != nil {
			hook(p, n)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if code != 0 {
			return code
		}
		page := uintptr(pageSize)
		lo, hi := p&^(page-1), (p+uintptr(n)+page-1)&^(page-1)
		for q, m := range f.registered {
			qlo, qhi := q&^(page-1), (q+uintptr(m)+page-1)&^(page-1)
			if lo < qhi && qlo < hi {
				return codeHostAlreadyRegist
			}
		}
		f.registered[p] = n
		return 0
	}
	rt.hostUnregister = func(p uintptr) int32 {
		defer lock("hostUnregister")()
		if _, ok := f.registered[p]; !ok {
			return 713
		}
		delete(f.registered, p)
		return 0
	}
	rt.hostAlloc = func(p *uintptr, n uint64, _ uint32) int32 {
		defer lock("hostAlloc")()
		*p = f.alloc(n)
		return 0
	}
	rt.freeHost = func(p uintptr) int32 {
		defer lock("freeHost")()
		if _, ok := f.mem[p]; !ok {
			return codeInvalidValue
		}
		delete(f.mem, p)
		return 0
	}
	rt.ipcGetMemHandle = func(h *[ipcHandleSize]byte, p uintptr) int32 { h[0] = 1; return 0 }
	rt.getErrorName = func(code int32) string { return fmt.Sprintf("fakeError%d", code) }
	rt.getErrorString = func(code int32) string { return fmt.Sprintf("fake error %d", code) }
	rt.runtimeGetVersion = func(v *int32) int32 { *v = 13000; return 0 }
	rt.driverGetVersion = func(v *int32) int32 { *v = 13000; return 0 }
	rt.deviceSynchronize = func() int32 {
		defer lock("deviceSynchronize")()
		for s := range f.queues {
			f.flush(s)
		}
		return 0
	}
}
