// Package bench is the benchmark suite behind `ggufs bench`: each benchmark
// measures ggufs against a baseline timed in the same run (a pread of the
// header, a pinned-memory copy, a bare go-fuse server, the file itself) and
// prints the ratio, so that numbers from different machines and loads
// compare. BENCHMARKS.md holds the measured numbers and the commands.
package bench
