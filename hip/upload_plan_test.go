package hip

import (
	"errors"
	"testing"
)

func TestRegisterPiecesAlignAndCover(t *testing.T) {
	const chunk = 1 << 16
	buf := make([]byte, 10*chunk+12345)
	for _, start := range []int{0, 1, 4095, chunk / 2, chunk - 3} {
		src := buf[start : start+9*chunk+777]
		pieces := registerPieces(src, chunk)
		covered := 0
		for i, p := range pieces {
			if addressOf(p) != addressOf(src)+uintptr(covered) {
				t.Fatalf("start %d: piece %d not contiguous", start, i)
			}
			covered += len(p)
			end := addressOf(p) + uintptr(len(p))
			if i < len(pieces)-1 && end%chunk != 0 {
				t.Errorf("start %d: piece %d ends at %#x, not on a chunk boundary", start, i, end)
			}
			if i < len(pieces)-1 && (len(p) < chunk/2 || len(p) > chunk*3/2) {
				t.Errorf("start %d: piece %d has %d bytes", start, i, len(p))
			}
		}
		if covered != len(src) {
			t.Fatalf("start %d: pieces cover %d of %d bytes", start, covered, len(src))
		}
	}
}

func TestPlanJobsPacksSmallEntriesAndCoversAll(t *testing.T) {
	cfg, _ := UploadConfig{Path: PathRegister, StagingBytes: 1 << 12, SmallBytes: 1 << 12, ChunkBytes: 1 << 14}.withDefaults("cuda")
	src := make([]byte, 1<<16)
	copies := []Copy{
		{Dst: 0x1000, Src: Memory(src[0:100])},
		{Dst: 0x1064, Src: Memory(src[100:300])},          // contiguous with the first
		{Dst: 0x9000, Src: Memory(src[1000 : 1000+5000])}, // large: registered
		{Dst: 0x20000, Src: Memory(src[7000 : 7000+4000])},
		{Dst: 0x30000, Src: Memory(src[12000 : 12000+50])},
	}
	jobs := planJobs(copies, cfg)
	var registered, staged uint64
	for _, j := range jobs {
		var n uint64
		for _, s := range j.segs {
			n += uint64(len(s.src))
		}
		if j.register {
			registered += n
		} else {
			staged += n
			if n > cfg.StagingBytes {
				t.Errorf("a staging job holds %d bytes, more than a buffer", n)
			}
		}
	}
	if registered != 5000 || staged != 100+200+4000+50 {
		t.Fatalf("registered %d, staged %d", registered, staged)
	}
	packedSmall := false
	for _, j := range jobs {
		if !j.register && len(j.segs) >= 3 {
			packedSmall = true
		}
	}
	if !packedSmall {
		t.Fatalf("small entries not packed into one staging job (%d jobs)", len(jobs))
	}
	// The hybrid path plans as the register path does.
	cfg.Path = PathHybrid
	if got := planJobs(copies, cfg); len(got) != len(jobs) {
		t.Fatalf("hybrid planned %d jobs, register %d", len(got), len(jobs))
	}
	// The staged path registers nothing.
	cfg.Path = PathStaged
	for _, j := range planJobs(copies, cfg) {
		if j.register {
			t.Fatal("staged path planned a registration")
		}
	}
}

func TestSplitSegment(t *testing.T) {
	seg := segment{dst: 100, src: make([]byte, 25)}
	parts := splitSegment(seg, 10)
	if len(parts) != 3 || parts[1].dst != 110 || len(parts[2].src) != 5 {
		t.Fatalf("%+v", parts)
	}
}

// populate is a hint: on a truncated mapping it must neither crash nor hide
// the fault from the guarded copy that follows.
func TestPopulateTruncatedMapping(t *testing.T) {
	src, shrink := mappedFile(t, 8*pageSize)
	populate(src)
	shrink()
	populate(src)
	if _, err := copyFromSource(make([]byte, len(src)), src); !errors.Is(err, ErrSourceFault) {
		t.Fatalf("copy after truncation: %v, want ErrSourceFault", err)
	}
}
