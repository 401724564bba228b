// Package synth makes synthetic GGUF models: realistic tensor names, shapes
// and metadata (tokenizer vocabulary included) with deterministic
// pseudo-random data, or with the data section left as a hole. `ggufs gen`,
// the demo, tests and benchmarks use it.
//
//	f, _ := os.Create("m.gguf")
//	st, err := synth.Generate(f, synth.Options{Preset: "llama-7b", DType: "q4_K", Seed: 1})
package synth

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ggufs/ggufs/gguf"
)

// Options says what to generate. The zero value is the tiny preset,
// little-endian GGUF v3, alignment 32, seed 0, with data.
type Options struct {
	Preset string // a name from Presets(); "" means "tiny"
	// DType is the type of the 2-D weight matrices, as ggml names it
	// ("q4_K", "f16", …); "" means the preset's default. Norms stay f32.
	DType string
	// Sparse leaves the data section as a hole (zeros, no disk blocks);
	// Generate's destination must then be an *os.File or otherwise seekable.
	Sparse    bool
	Seed      uint64
	Version   uint32           // 1, 2 or 3; 0 means 3
	ByteOrder binary.ByteOrder // nil means little-endian
	Alignment uint64           // 0 means 32
	// Split > 1 makes a split model of that many shards (GenerateFile only;
	// see Model.Split and ShardPaths).
	Split int
}

// Keys every synthetic model carries, so that a file says how it was made
// (and gen knows it may overwrite it).
const (
	KeyPreset = "ggufs.synthetic.preset"
	KeySeed   = "ggufs.synthetic.seed"
)

// ErrOptions marks invalid Options (unknown preset, unusable dtype).
var ErrOptions = errors.New("synth: invalid options")

// Model is a planned synthetic model: everything but the data, which
// TensorData produces on demand.
type Model struct {
	Metadata []gguf.KV
	Tensors  []gguf.TensorSpec
	opts     Options
	order    binary.ByteOrder
	base     int // index of Tensors[0] in the whole model (a shard's first tensor)
}

// Plan builds the model opts describes without writing anything.
func Plan(opts Options) (*Model, error) {
	if opts.Preset == "" {
		opts.Preset = "tiny"
	}
	p, ok := findPreset(opts.Preset)
	if !ok {
		return nil, fmt.Errorf("%w: unknown preset %q (have %s)", ErrOptions, opts.Preset, presetNames())
	}
	m := &Model{opts: opts, order: opts.ByteOrder}
	if m.order == nil {
		m.order = binary.LittleEndian
	}
	if p.llama == nil {
		if opts.DType != "" {
			return nil, fmt.Errorf("%w: preset %q has fixed tensor types; --dtype does not apply", ErrOptions, p.name)
		}
		m.Metadata, m.Tensors = zooModel()
		m.Metadata = append(m.Metadata, m.origin()...)
		return m, nil
	}
	matrix := p.llama.matrixType
	if opts.DType != "" {
		t, err := gguf.ParseType(opts.DType)
		if err != nil {
			return nil, fmt.Errorf("%w: dtype %q: not a ggml type with a layout", ErrOptions, opts.DType)
		}
		matrix = t
	}
	tensors, err := llamaTensors(p.llama, matrix)
	if err != nil {
		return nil, err
	}
	m.Metadata, m.Tensors = append(llamaMetadata(p.llama, matrix), m.origin()...), tensors
	return m, nil
}

// origin is the metadata that marks the model as synthetic.
func (m *Model) origin() []gguf.KV {
	return []gguf.KV{
		{Key: KeyPreset, Value: gguf.NewString(m.opts.Preset)},
		{Key: KeySeed, Value: gguf.NewUint64(m.opts.Seed)},
	}
}

// IsSynthetic reports whether path is a GGUF file that synth wrote (every
// shard of a split model is marked).
func IsSynthetic(path string) bool {
	f, err := gguf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	_, ok := f.Metadata.Get(KeyPreset)
	return ok
}

func presetNames() string {
	s := ""
	for i, p := range presets {
		if i > 0 {
			s += ", "
		}
		s += p.name
	}
	return s
}

// TensorData fills dst with tensor i's bytes starting at byte off of the
// tensor, as Generate writes them (zeros when the model is sparse). It lets
// a test check any range of a generated file without reading the rest.
func (m *Model) TensorData(i int, off uint64, dst []byte) {
	if m.opts.Sparse {
		clear(dst)
		return
	}
	newStream(m.opts.Seed, m.base+i, m.Tensors[i].Type, m.order).fill(dst, off)
}

// Stats describes what Generate wrote.
type Stats struct {
	Tensors    int
	DataOffset uint64 // start of the data section
	DataBytes  uint64 // tensor bytes, padding excluded
	FileBytes  uint64 // the whole file
	Layout     []gguf.TensorInfo
}

// Generate plans the model and writes it to dst, which should be empty
// and positioned at its start.
func Generate(dst io.Writer, opts Options) (Stats, error) {
	if opts.Split > 1 {
		return Stats{}, fmt.Errorf("%w: a split model needs file names: use GenerateFile", ErrOptions)
	}
	m, err := Plan(opts)
	if err != nil {
		return Stats{}, err
	}
	return m.Write(dst)
}

// GenerateFile writes the model to path (created or truncated). With
// opts.Split > 1 it writes the shards ShardPaths(path, opts.Split) names
// instead, and the Stats add up all shards.
func GenerateFile(path string, opts Options) (Stats, error) {
	m, err := Plan(opts)
	if err != nil {
		return Stats{}, err
	}
	shards := []*Model{m}
	if opts.Split > 1 {
		if shards, err = m.Split(opts.Split); err != nil {
			return Stats{}, err
		}
	}
	var total Stats
	for k, p := range ShardPaths(path, len(shards)) {
		st, err := shards[k].WriteFile(p)
		if err != nil {
			return total, err
		}
		total.add(st)
	}
	return total, nil
}

// WriteFile writes the planned model to path (created or truncated).
func (m *Model) WriteFile(path string) (Stats, error) {
	f, err := os.Create(path)
	if err != nil {
		return Stats{}, fmt.Errorf("synth: %w", err)
	}
	st, err := m.Write(f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("synth: %w", cerr)
	}
	return st, err
}

// add accumulates another shard's stats (DataOffset stays the first's).
func (s *Stats) add(o Stats) {
	if s.Tensors == 0 && s.FileBytes == 0 {
		s.DataOffset = o.DataOffset
	}
	s.Tensors += o.Tensors
	s.DataBytes += o.DataBytes
	s.FileBytes += o.FileBytes
	s.Layout = append(s.Layout, o.Layout...)
}

// Write writes the planned model to dst.
func (m *Model) Write(dst io.Writer) (Stats, error) {
	w, err := gguf.NewWriter(dst, m.Metadata, m.Tensors, gguf.WriterOptions{
		Version: m.opts.Version, ByteOrder: m.order, Alignment: m.opts.Alignment,
	})
	if err != nil {
		return Stats{}, fmt.Errorf("synth: %w", err)
	}
	layout := w.Tensors()
	st := Stats{Tensors: len(layout), DataOffset: w.DataOffset(), FileBytes: w.Size(), Layout: layout}
	var bufs *fillBuffers
	if !m.opts.Sparse {
		bufs = newFillBuffers()
	}
	for i, t := range layout {
		st.DataBytes += t.Size
		if m.opts.Sparse {
			err = w.SkipTensor(t.Name)
		} else {
			err = w.WriteTensor(t.Name, &tensorReader{s: newStream(m.opts.Seed, m.base+i, t.Type, m.order), end: t.Size, bufs: bufs})
		}
		if err != nil {
			return st, fmt.Errorf("synth: %w", err)
		}
	}
	if err := w.Close(); err != nil {
		return st, fmt.Errorf("synth: %w", err)
	}
	return st, nil
}

// WriteSparse writes a model of exactly this metadata and these tensors to
// path, the tensor data left as holes: the header is what matters (parser,
// listing and memory tests of crafted shapes). Nothing marks it synthetic.
func WriteSparse(path string, md []gguf.KV, tensors []gguf.TensorSpec) (Stats, error) {
	m := &Model{Metadata: md, Tensors: tensors, opts: Options{Sparse: true}, order: binary.LittleEndian}
	return m.WriteFile(path)
}
