package synth

import "io"

// fillChunk is how much of a tensor is generated at a time.
const fillChunk = 4 << 20

// fillBuffers are the two chunks a tensorReader alternates between; one set
// serves every tensor of a Write.
type fillBuffers [2][]byte

func newFillBuffers() *fillBuffers {
	return &fillBuffers{make([]byte, fillChunk), make([]byte, fillChunk)}
}

// WriteTo writes the rest of the tensor to dst, generating the next chunk
// while the current one is written, so generation and I/O overlap.
func (r *tensorReader) WriteTo(dst io.Writer) (int64, error) {
	if r.bufs == nil {
		r.bufs = newFillBuffers()
	}
	var total int64
	cur := 0
	n := r.fillAt(r.bufs[cur], r.off)
	for n > 0 {
		nextOff := r.off + uint64(n)
		done := make(chan int, 1)
		go func(buf []byte, off uint64) { done <- r.fillAt(buf, off) }(r.bufs[1-cur], nextOff)
		written, err := dst.Write(r.bufs[cur][:n])
		next := <-done // the goroutine must be done with its buffer before we return
		total += int64(written)
		r.off += uint64(written)
		if err != nil {
			return total, err
		}
		cur, n = 1-cur, next
	}
	return total, nil
}

// fillAt generates up to a buffer's worth of the tensor from off and says how much.
func (r *tensorReader) fillAt(buf []byte, off uint64) int {
	if off >= r.end {
		return 0
	}
	n := min(uint64(len(buf)), r.end-off)
	r.s.fill(buf[:n], off)
	return int(n)
}
