package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ggufs/ggufs/synth"
)

// BenchmarkMountReady times the exec of `ggufs mount` to the mountpoint
// serving (stats.json answers), against the exec of `ggufs --version` to its
// exit in the same run: the process start every command pays. A tiny model
// and a sparse llama-7b-shaped one show the time does not grow with the
// model; auto shows the GPU runtimes tried (and failing, on a machine
// without them) in the background. The GPU backend's figure comes from
// test/gpu/stream.sh (make gpu-test).
//
//	go test ./test/e2e -run '^$' -bench MountReady -benchtime 20x
func BenchmarkMountReady(b *testing.B) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		b.Skip("no /dev/fuse")
	}
	dir := b.TempDir()
	tiny := filepath.Join(dir, "tiny.gguf")
	big := filepath.Join(dir, "llama-7b.gguf")
	for path, o := range map[string]synth.Options{tiny: {Preset: "tiny"}, big: {Preset: "llama-7b", Sparse: true}} {
		if _, err := synth.GenerateFile(path, o); err != nil {
			b.Fatal(err)
		}
	}
	var baseline time.Duration
	b.Run("exec-version", func(b *testing.B) {
		var total time.Duration
		for range b.N {
			t0 := time.Now()
			if out, err := exec.Command(bin, "--version").CombinedOutput(); err != nil {
				b.Fatalf("ggufs --version: %v: %s", err, out)
			}
			total += time.Since(t0)
		}
		baseline = total / time.Duration(b.N)
		b.ReportMetric(baseline.Seconds()*1e3, "ms/exec")
	})
	for _, c := range []struct{ name, backend, model string }{
		{"host/tiny", "host", tiny},
		{"host/llama-7b", "host", big},
		{"auto/llama-7b", "auto", big},
	} {
		b.Run(c.name, func(b *testing.B) {
			var total time.Duration
			for range b.N {
				total += mountReady(b, c.backend, c.model)
			}
			ready := total / time.Duration(b.N)
			b.ReportMetric(ready.Seconds()*1e3, "ms/ready")
			if baseline > 0 {
				b.ReportMetric(float64(ready)/float64(baseline), "x-exec")
			}
		})
	}
}

// mountReady starts `ggufs mount`, returns how long after its exec the
// mountpoint served stats.json, and ends the mount.
func mountReady(b *testing.B, backend, model string) time.Duration {
	b.Helper()
	mnt := b.TempDir()
	cmd := exec.Command(bin, "mount", "--backend", backend, model, mnt)
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // ends with the process, below
	var ready time.Duration
	for deadline := t0.Add(waitLimit); ready == 0; {
		if _, err := os.Stat(filepath.Join(mnt, "stats.json")); err == nil {
			ready = time.Since(t0)
			break
		}
		select {
		case err := <-exited:
			b.Fatalf("ggufs mount exited before serving: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			b.Fatalf("no mount at %s after %s", mnt, waitLimit)
		}
		time.Sleep(100 * time.Microsecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := <-exited; err != nil && !errors.Is(err, os.ErrProcessDone) {
		b.Fatalf("ggufs mount after SIGTERM: %v", err)
	}
	return ready
}
