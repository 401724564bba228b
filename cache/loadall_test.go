package cache

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ggufs/ggufs/hip"
)

func TestLoadAllBatchesAndReportsProgress(t *testing.T) {
	sizes := make([]uint64, 40)
	var total uint64
	for i := range sizes {
		sizes[i] = uint64(1000 + 97*i)
		total += sizes[i]
	}
	m := newTestModel(20, sizes...)
	dev := newGatedDevice(newHost(t, 4<<20))
	dev.open()
	c := newTestCache(t, dev, m, Options{Budget: 4 << 20, LoadGroupBytes: 16 << 10})

	var calls int
	var last uint64
	err := c.LoadAll(context.Background(), nil, func(done, tot uint64) {
		calls++
		if tot != total || done < last || done > total {
			t.Errorf("progress(%d, %d) after %d; total is %d", done, tot, last, total)
		}
		last = done
	})
	if err != nil {
		t.Fatal(err)
	}
	if last != total {
		t.Fatalf("progress ended at %d of %d", last, total)
	}
	// One streamed upload for all of them, progress once a tensor (and
	// once at the start).
	if n := dev.calls.Load(); n != 1 {
		t.Fatalf("%d upload calls for %d tensors; want one stream", n, len(sizes))
	}
	if calls != len(sizes)+1 {
		t.Fatalf("progress called %d times for %d tensors", calls, len(sizes))
	}
	for i := range sizes {
		if !c.IsResident(m.name(i)) {
			t.Fatalf("tensor %d not resident after LoadAll", i)
		}
		checkTensor(t, c, m, m.name(i))
	}
	s := c.Stats()
	if s.Uploads != int64(len(sizes)) || s.UploadedBytes != total || s.Hits != int64(len(sizes)) {
		t.Fatalf("stats = %+v", s)
	}
	// A second LoadAll finds everything resident and uploads nothing.
	before := dev.Host.Stats().UploadedBytes
	if err := c.LoadAll(context.Background(), nil, nil); err != nil {
		t.Fatal(err)
	}
	if dev.Host.Stats().UploadedBytes != before || c.Stats().Uploads != int64(len(sizes)) {
		t.Fatal("LoadAll of resident tensors uploaded again")
	}
}

func TestLastArenaIsNoBiggerThanWhatIsLeft(t *testing.T) {
	sizes := make([]uint64, 10)
	for i := range sizes {
		sizes[i] = 10 * allocAlign
	}
	m := newTestModel(25, sizes...)
	h := newHost(t, 1<<20)
	arena := uint64(40 * allocAlign)
	c := newTestCache(t, h, m, Options{Budget: 1 << 20, ArenaSize: arena})
	if err := c.LoadAll(context.Background(), nil, nil); err != nil {
		t.Fatal(err)
	}
	// 100 units of tensors in arenas of 40: 40 + 40 + 20, not 40 + 40 + 40.
	if s := c.Stats(); s.DeviceAllocations != 3 || s.DeviceBytes != 100*allocAlign || h.Allocated() != s.DeviceBytes {
		t.Fatalf("stats = %+v; want 3 allocations holding exactly the model", s)
	}
}

func TestLoadAllOfChosenNames(t *testing.T) {
	m := newTestModel(21, 100, 200, 300, 400)
	c := newTestCache(t, newHost(t, 1<<20), m, Options{Budget: 1 << 20})
	var done uint64
	err := c.LoadAll(context.Background(), []string{m.name(3), m.name(1), m.name(3)}, func(d, total uint64) {
		if total != 600 {
			t.Errorf("total = %d; want 600", total)
		}
		done = d
	})
	if err != nil || done != 600 {
		t.Fatalf("LoadAll = %v, %d bytes done", err, done)
	}
	if c.IsResident(m.name(0)) || !c.IsResident(m.name(1)) || c.IsResident(m.name(2)) || !c.IsResident(m.name(3)) {
		t.Fatal("LoadAll loaded the wrong set")
	}
	if err := c.LoadAll(context.Background(), []string{"nope"}, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LoadAll(unknown) = %v", err)
	}
}

// A load larger than the budget loads what fits in file order, then stops
// and says so; it never evicts what it loaded to load the next.
func TestLoadAllAboveBudgetStopsAndSaysWhatIsResident(t *testing.T) {
	sizes := make([]uint64, 20)
	for i := range sizes {
		sizes[i] = 4 * allocAlign
	}
	m := newTestModel(22, sizes...)
	h := newHost(t, 1<<20)
	budget := uint64(5 * 4 * allocAlign)
	c := newTestCache(t, h, m, Options{Budget: budget, ArenaSize: budget})
	res, err := c.Load(context.Background(), nil, LoadOptions{})
	if !errors.Is(err, ErrNoSpace) {
		t.Fatalf("Load above the budget = %v; want ErrNoSpace", err)
	}
	for i := range 20 {
		if want := i < 5; c.IsResident(m.name(i)) != want {
			t.Fatalf("tensor %d resident = %v; want %v", i, !want, want)
		}
	}
	for i := range 5 {
		checkTensor(t, c, m, m.name(i))
	}
	if res.Resident != 5 || len(res.NotLoaded) != 15 || res.NotLoaded[0] != m.name(5) || len(res.Failed) != 0 ||
		len(res.Evicted) != 0 || res.Stopped == "" || res.Complete() {
		t.Fatalf("result = %+v", res)
	}
	if s := c.Stats(); s.DeviceBytes > budget || h.Allocated() != s.DeviceBytes || s.Evictions != 0 {
		t.Fatalf("stats = %+v", s)
	}
}

// A failed upload mid-load fails only its own tensor; the load goes on.
func TestLoadAllUploadFailureMarksOnlyItsTensor(t *testing.T) {
	m := newTestModel(23, 1000, 1000, 1000, 1000)
	h := newHost(t, 1<<20)
	c := newTestCache(t, h, m, Options{Budget: 1 << 20})
	h.FailUpload(2) // the second tensor streamed
	res, err := c.Load(context.Background(), nil, LoadOptions{})
	if !errors.Is(err, hip.ErrInjected) {
		t.Fatalf("Load with a failed upload = %v", err)
	}
	for i := range 4 {
		if st := c.Status(m.name(i)).State; (st == Failed) != (i == 1) || (st != Resident) != (i == 1) {
			t.Fatalf("tensor %d is %v", i, st)
		}
	}
	if len(res.Failed) != 1 || res.Failed[0] != m.name(1) || res.Resident != 3 {
		t.Fatalf("result = %+v", res)
	}
	if s := c.Stats(); s.Failures != 1 || s.Uploads != 3 {
		t.Fatalf("stats = %+v", s)
	}
	if err := c.LoadAll(context.Background(), nil, nil); err != nil {
		t.Fatalf("second LoadAll: %v", err)
	}
	for i := range 4 {
		checkTensor(t, c, m, m.name(i))
	}
}

func TestLoadAllCancelledLeavesCleanStates(t *testing.T) {
	m := newTestModel(24, 1000, 1000, 1000)
	dev := newGatedDevice(newHost(t, 1<<20))
	c := newTestCache(t, dev, m, Options{Budget: 1 << 20})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.LoadAll(ctx, nil, nil) }()
	<-dev.started
	cancel()
	dev.open()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("LoadAll = %v; want context.Canceled", err)
	}
	for i := range 3 {
		if st := c.Status(m.name(i)); st.State == Failed || st.State == Loading {
			t.Fatalf("tensor %d after a cancelled LoadAll: %v", i, st)
		}
	}
	if s := c.Stats(); s.Failures != 0 {
		t.Fatalf("a cancelled LoadAll counted failures: %+v", s)
	}
	for i := range 3 {
		checkTensor(t, c, m, m.name(i))
	}
}

// llama7bShapes lists the tensor sizes of a llama-7b model quantized to
// q4_K (output in q6_K, norms in f32): 291 tensors, 3.8 GB.
func llama7bShapes() []Tensor {
	const (
		embd, ff, vocab = 4096, 11008, 32000
		q4K             = 144.0 / 256 // bytes per weight
		q6K             = 210.0 / 256
	)
	var out []Tensor
	add := func(name string, n uint64) { out = append(out, Tensor{Name: name, Size: n}) }
	add("token_embd.weight", uint64(vocab*embd*q4K))
	for i := range 32 {
		b := fmt.Sprintf("blk.%d.", i)
		add(b+"attn_norm.weight", embd*4)
		for _, w := range []string{"attn_q", "attn_k", "attn_v", "attn_output"} {
			add(b+w+".weight", uint64(embd*embd*q4K))
		}
		add(b+"ffn_norm.weight", embd*4)
		for _, w := range []string{"ffn_gate", "ffn_up", "ffn_down"} {
			add(b+w+".weight", uint64(embd*ff*q4K))
		}
	}
	add("output_norm.weight", embd*4)
	add("output.weight", uint64(vocab*embd*q6K))
	return out
}

func TestLoadAllOfLlama7bTakesFewAllocations(t *testing.T) {
	tensors := llama7bShapes()
	var total, biggest uint64
	for _, t := range tensors {
		total += t.Size
		biggest = max(biggest, t.Size)
	}
	// One zeroed buffer serves every source; the counting device never
	// reads it, so its pages are never touched.
	src := make([]byte, biggest)
	for i := range tensors {
		n := tensors[i].Size
		tensors[i].Source = memorySource(src[:n])
	}
	if len(tensors) != 291 || total < 3_700_000_000 || total > 3_900_000_000 {
		t.Fatalf("model shape: %d tensors, %d bytes", len(tensors), total)
	}
	dev := newCountingDevice(80 << 30)
	c, err := New(dev, tensors, Options{Budget: 70 << 30})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.LoadAll(context.Background(), nil, nil); err != nil {
		t.Fatal(err)
	}
	s := c.Stats()
	t.Logf("%d tensors, %d bytes: %d device allocations, %d Upload calls", len(tensors), total, dev.mallocs, dev.uploadCalls)
	if dev.mallocs > 10 || s.DeviceAllocationsTotal != int64(dev.mallocs) {
		t.Fatalf("%d device allocations (cache counts %d); want at most 10", dev.mallocs, s.DeviceAllocationsTotal)
	}
	if dev.copies != 291 || dev.bytes != total || s.ResidentBytes != total {
		t.Fatalf("device got %d copies, %d bytes; cache resident %d; want 291, %d", dev.copies, dev.bytes, s.ResidentBytes, total)
	}
	if dev.uploadCalls > 20 {
		t.Fatalf("%d Upload calls; want a few large groups", dev.uploadCalls)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if dev.used != 0 || len(dev.live) != 0 {
		t.Fatalf("device holds %d bytes in %d allocations after Close", dev.used, len(dev.live))
	}
}
