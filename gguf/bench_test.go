package gguf

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// llama70bHeader is a llama-3-70B-shaped file: 723 tensors (80 layers of 9
// plus embeddings, output norm and output), a 128,256-token vocabulary
// with scores and token types, and 280,147 merges (~8.6 MB of header).
func llama70bHeader() tfile {
	const (
		layers, hidden, ffn, kv, vocab, merges = 80, 8192, 28672, 1024, 128256, 280147
	)
	tokens := make([]string, vocab)
	scores := make([]float32, vocab)
	types := make([]int32, vocab)
	for i := range tokens {
		tokens[i] = pseudoWord(i, 2+i%9)
		scores[i] = -float32(i)
		types[i] = 1
	}
	mergeStrs := make([]string, merges)
	for i := range mergeStrs {
		mergeStrs[i] = pseudoWord(i, 3+i%6) + " " + pseudoWord(i*7+3, 2+i%8)
	}
	tok, _ := NewStringArray(tokens)
	mrg, _ := NewStringArray(mergeStrs)
	kvs := []KV{
		{"general.architecture", NewString("llama")},
		{"general.name", NewString("llama 3 70b (benchmark)")},
		{"llama.block_count", NewUint32(layers)},
		{"llama.context_length", NewUint32(8192)},
		{"llama.embedding_length", NewUint32(hidden)},
		{"llama.feed_forward_length", NewUint32(ffn)},
		{"llama.attention.head_count", NewUint32(64)},
		{"llama.attention.head_count_kv", NewUint32(8)},
		{"llama.rope.freq_base", NewFloat32(500000)},
		{"llama.attention.layer_norm_rms_epsilon", NewFloat32(1e-5)},
		{"general.file_type", NewUint32(15)},
		{"tokenizer.ggml.model", NewString("gpt2")},
		{"tokenizer.ggml.tokens", tok},
		{"tokenizer.ggml.scores", NewFloat32Array(scores)},
		{"tokenizer.ggml.token_type", NewInt32Array(types)},
		{"tokenizer.ggml.merges", mrg},
		{"tokenizer.ggml.bos_token_id", NewUint32(128000)},
		{"general.quantization_version", NewUint32(2)},
	}
	ts := []tspec{{name: "token_embd.weight", dims: []uint64{hidden, vocab}, typ: TypeQ4_K}}
	for l := 0; l < layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		ts = append(ts,
			tspec{name: p + "attn_norm.weight", dims: []uint64{hidden}, typ: TypeF32},
			tspec{name: p + "attn_q.weight", dims: []uint64{hidden, hidden}, typ: TypeQ4_K},
			tspec{name: p + "attn_k.weight", dims: []uint64{hidden, kv}, typ: TypeQ4_K},
			tspec{name: p + "attn_v.weight", dims: []uint64{hidden, kv}, typ: TypeQ6_K},
			tspec{name: p + "attn_output.weight", dims: []uint64{hidden, hidden}, typ: TypeQ4_K},
			tspec{name: p + "ffn_norm.weight", dims: []uint64{hidden}, typ: TypeF32},
			tspec{name: p + "ffn_gate.weight", dims: []uint64{hidden, ffn}, typ: TypeQ4_K},
			tspec{name: p + "ffn_up.weight", dims: []uint64{hidden, ffn}, typ: TypeQ4_K},
			tspec{name: p + "ffn_down.weight", dims: []uint64{ffn, hidden}, typ: TypeQ6_K},
		)
	}
	ts = append(ts,
		tspec{name: "output_norm.weight", dims: []uint64{hidden}, typ: TypeF32},
		tspec{name: "output.weight", dims: []uint64{hidden, vocab}, typ: TypeQ6_K},
	)
	return tfile{align: 32, kvs: kvs, tensors: sequential(32, ts...)}
}

// pseudoWord is a deterministic lowercase word of n letters.
func pseudoWord(seed, n int) string {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = 'a' + byte(x%26)
	}
	return string(b)
}

// encodeHeader encodes tf's header (v3, little-endian), padded to the
// default alignment: where its data section starts.
func encodeHeader(tf tfile) *enc {
	e := &enc{order: binary.LittleEndian}
	e.header(3, uint64(len(tf.tensors)), uint64(len(tf.kvs)))
	for _, kv := range tf.kvs {
		e.kv(kv.Key, kv.Value)
	}
	for _, t := range tf.tensors {
		e.tensorInfo(t)
	}
	e.pad(32)
	return e
}

// writeSparse writes tf's header and extends the file to dataSize bytes of
// data section without writing them (a hole), or to the laid-out size.
func writeSparse(tb testing.TB, dir string, tf tfile, dataSize uint64) string {
	tb.Helper()
	e := encodeHeader(tf)
	if dataSize == 0 {
		dataSize = tf.laidOutSize()
	}
	path := filepath.Join(dir, "bench.gguf")
	if err := os.WriteFile(path, e.b, 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.Truncate(path, int64(len(e.b))+int64(dataSize)); err != nil {
		tb.Fatal(err)
	}
	return path
}

// readHeaderOnce is the floor: open, read the header bytes in one read, close.
func readHeaderOnce(path string, buf []byte) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.ReadAt(buf, 0)
	return err
}

// interleavedMedians runs a and b alternately n times each and returns
// their median times.
func interleavedMedians(n int, a, b func()) (time.Duration, time.Duration) {
	da, db := make([]time.Duration, n), make([]time.Duration, n)
	for i := 0; i < n; i++ {
		t0 := time.Now()
		a()
		t1 := time.Now()
		b()
		da[i], db[i] = t1.Sub(t0), time.Since(t1)
	}
	slices.Sort(da)
	slices.Sort(db)
	return da[n/2], db[n/2]
}

// BenchmarkOpen opens a llama-70b-shaped sparse file (~37 GiB of data
// section at q4_K/q6_K, never read) and reports, beside ns/op, the floor
// measured in the same run (reading the header bytes in one read into a
// reused buffer), the median open, and their ratio (x-floor). The second variant adds a 64 GiB hole after the
// data: the time and allocations must not change with the file's size.
//
// GGUFS_BENCH_FILE=path adds a run on that file (e.g. from ggufs gen).
func BenchmarkOpen(b *testing.B) {
	tf := llama70bHeader()
	cases := []struct {
		name  string
		extra uint64
		path  string
	}{{"llama70b", 0, ""}, {"llama70b+64GiB-hole", 64 << 30, ""}}
	if p := os.Getenv("GGUFS_BENCH_FILE"); p != "" {
		cases = append(cases, struct {
			name  string
			extra uint64
			path  string
		}{"file", 0, p})
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			path := c.path
			if path == "" {
				path = writeSparse(b, b.TempDir(), tf, tf.laidOutSize()+c.extra)
			}
			f, err := Open(path)
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, f.HeaderSize)
			f.Close()
			// The ratio comes from medians of interleaved runs, so both
			// see the same load on a shared machine.
			floor, open := interleavedMedians(21, func() {
				if err := readHeaderOnce(path, buf); err != nil {
					b.Fatal(err)
				}
			}, func() {
				f, err := Open(path)
				if err != nil {
					b.Fatal(err)
				}
				f.Close()
			})
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				f, err := Open(path)
				if err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
			b.StopTimer()
			b.ReportMetric(float64(floor.Nanoseconds()), "floor-ns")
			b.ReportMetric(float64(open.Nanoseconds()), "open-median-ns")
			b.ReportMetric(float64(open)/float64(floor), "x-floor")
			b.ReportMetric(float64(len(buf)), "header-bytes")
		})
	}
}

// TestLlama70bShape checks the benchmark's file is what it claims.
func TestLlama70bShape(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 9 MB header")
	}
	tf := llama70bHeader()
	path := writeSparse(t, t.TempDir(), tf, 0)
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if len(f.Tensors) != 723 || f.HeaderSize < 8<<20 {
		t.Errorf("%d tensors, header %d bytes", len(f.Tensors), f.HeaderSize)
	}
	checkMetadata(t, f, tf.kvs)
	toks, _ := f.Metadata.Array("tokenizer.ggml.tokens")
	if toks.Len() != 128256 {
		t.Errorf("%d tokens", toks.Len())
	}
	// Through pread the header crosses many read windows, strings and
	// arrays straddling their edges.
	st, _ := os.Stat(path)
	g, err := NewReader(f.ra, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	checkMetadata(t, g, tf.kvs)
	if len(g.Tensors) != 723 || g.DataOffset != f.DataOffset {
		t.Errorf("pread parse: %d tensors, data at %d (mapped: %d)", len(g.Tensors), g.DataOffset, f.DataOffset)
	}
}

// TestWriteBenchFile writes the benchmark's llama-70b-shaped file (280k
// merges) to $GGUFS_WRITE_BENCH_FILE, for `ggufs bench open`.
func TestWriteBenchFile(t *testing.T) {
	dst := os.Getenv("GGUFS_WRITE_BENCH_FILE")
	if dst == "" {
		t.Skip("set GGUFS_WRITE_BENCH_FILE=path to write the file")
	}
	tf := llama70bHeader()
	src := writeSparse(t, t.TempDir(), tf, 0)
	st, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hdr := make([]byte, f.DataOffset)
	if _, err := f.ra.ReadAt(hdr, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, hdr, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(dst, st.Size()); err != nil {
		t.Fatal(err)
	}
}
