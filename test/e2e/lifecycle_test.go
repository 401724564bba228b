package e2e

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/ggufs/ggufs/synth"
)

// SIGTERM while readers hold files open: the mount goes away (detached if
// busy), the process exits 0, the directory is usable again, and no reader
// ever got wrong bytes.
func TestSIGTERMDuringReads(t *testing.T) {
	mdl := genModel(t, synth.Options{Preset: "tiny", DType: "f32", Seed: 41})
	m := startMount(t, mdl.path)

	var wg sync.WaitGroup
	var reads atomic.Int64
	started := make(chan struct{}, 8)
	bad := make(chan string, 8)
	for r := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := r; ; i++ {
				ti := mdl.tensors[i%len(mdl.tensors)]
				f, err := os.Open(filepath.Join(tensorDir(m.dir, ti.Name), "data"))
				if err != nil {
					return // unmounted
				}
				buf := make([]byte, ti.Size)
				n, err := readFull(f, buf)
				f.Close()
				if err == nil && !bytes.Equal(buf[:n], mdl.data(ti)) {
					bad <- ti.Name
					return
				}
				if reads.Add(1) == 8 {
					close(started)
				}
				if err != nil {
					return // the server went away mid-read
				}
			}
		}()
	}
	<-started
	if err := m.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := m.wait(t); code != 0 {
		t.Errorf("exit %d after SIGTERM; stderr: %s", code, m.stderr.String())
	}
	wg.Wait()
	close(bad)
	for name := range bad {
		t.Errorf("%s: a reader got bytes that differ from the file", name)
	}
	if isMounted(t, m.dir) {
		t.Errorf("still mounted after SIGTERM")
	}
	if _, err := os.ReadDir(m.dir); err != nil {
		t.Errorf("mountpoint unusable after SIGTERM (stale mount?): %v", err)
	}
	t.Logf("%d reads before and during shutdown", reads.Load())
}

func readFull(f *os.File, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := f.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// `ggufs unmount` and plain `umount` both end the mount process cleanly.
func TestUnmountEndsMount(t *testing.T) {
	mdl := genModel(t, synth.Options{Preset: "tiny"})
	for _, how := range [][]string{{bin, "unmount"}, {"umount"}} {
		t.Run(filepath.Base(how[0]), func(t *testing.T) {
			if how[0] == "umount" && os.Geteuid() != 0 {
				t.Skip("umount needs root")
			}
			m := startMount(t, mdl.path)
			if _, err := os.ReadFile(filepath.Join(tensorDir(m.dir, "output.weight"), "data")); err != nil {
				t.Fatal(err)
			}
			mustRun(t, how[0], append(how[1:], m.dir)...)
			if code := m.wait(t); code != 0 {
				t.Errorf("mount exit %d; stderr: %s", code, m.stderr.String())
			}
		})
	}
}

// A model file truncated under a live mount: reads of the lost data get EIO
// with the reason in status, and the mount keeps serving everything else.
func TestTruncatedFileGivesEIO(t *testing.T) {
	mdl := genModel(t, synth.Options{Preset: "tiny", Seed: 51})
	m := startMount(t, mdl.path)
	first, last := mdl.tensors[0], mdl.tensors[len(mdl.tensors)-1]
	for _, ti := range mdl.tensors {
		if ti.FileOffset < first.FileOffset {
			first = ti
		}
		if ti.FileOffset > last.FileOffset {
			last = ti
		}
	}
	if err := os.Truncate(mdl.path, int64(last.FileOffset)+10); err != nil {
		t.Fatal(err)
	}
	dir := tensorDir(m.dir, last.Name)
	if _, err := os.ReadFile(filepath.Join(dir, "data")); !errors.Is(err, syscall.EIO) {
		t.Errorf("read of truncated data: %v, want EIO", err)
	}
	if s, err := os.ReadFile(filepath.Join(dir, "status")); err != nil || !strings.HasPrefix(string(s), "error: ") {
		t.Errorf("status after a failed read: %q, %v; want error: <reason>", s, err)
	}
	// The file changed under the mount (size and mtime): a tensor before
	// the cut is refused too, rather than trusting that only a truncation
	// happened (cp of a shorter model over it looks the same).
	if _, err := os.ReadFile(filepath.Join(tensorDir(m.dir, first.Name), "data")); !errors.Is(err, syscall.EIO) {
		t.Errorf("a tensor before the cut: %v, want EIO", err)
	}
	if s, err := os.ReadFile(filepath.Join(tensorDir(m.dir, first.Name), "status")); err != nil || !strings.Contains(string(s), "changed since it was opened") {
		t.Errorf("status of a tensor before the cut: %q, %v; want it to say the model changed", s, err)
	}
	if _, err := os.ReadFile(filepath.Join(m.dir, "stats.json")); err != nil {
		t.Errorf("stats.json after EIO: %v", err)
	}
	select {
	case <-m.exited:
		t.Fatalf("ggufs mount died: %v; stderr: %s", m.err, m.stderr.String())
	default:
	}
	m.cmd.Process.Signal(syscall.SIGTERM)
	if code := m.wait(t); code != 0 {
		t.Errorf("exit %d after SIGTERM; stderr: %s", code, m.stderr.String())
	}
}

// SIGINT (Ctrl-C) and SIGHUP (a closed terminal) unmount cleanly too: the
// process exits 0 and leaves no stale mount.
func TestSignalsUnmountCleanly(t *testing.T) {
	mdl := genModel(t, synth.Options{Preset: "tiny"})
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			m := startMount(t, mdl.path)
			if err := m.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := m.wait(t); code != 0 {
				t.Errorf("exit %d after %v; stderr: %s", code, sig, m.stderr.String())
			}
			if isMounted(t, m.dir) {
				t.Errorf("still mounted after %v", sig)
			}
			if _, err := os.ReadDir(m.dir); err != nil {
				t.Errorf("mountpoint unusable after %v (stale mount?): %v", sig, err)
			}
		})
	}
}

// Every signal that ends the process unmounts first: none leaves a stale
// mount behind (SIGKILL cannot be caught; ggufs unmount clears what it leaves).
func TestEndingSignalsUnmount(t *testing.T) {
	mdl := genModel(t, synth.Options{Preset: "tiny"})
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT} {
		t.Run(sig.String(), func(t *testing.T) {
			m := startMount(t, mdl.path)
			if err := m.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := m.wait(t); code != 0 {
				t.Errorf("exit %d after %v; stderr: %s", code, sig, m.stderr.String())
			}
			if isMounted(t, m.dir) {
				t.Errorf("still mounted after %v", sig)
			}
		})
	}
}

// What SIGKILL leaves (a mount whose server is gone) ggufs unmount clears,
// and the mountpoint is usable again.
func TestUnmountClearsWhatSIGKILLLeaves(t *testing.T) {
	mdl := genModel(t, synth.Options{Preset: "tiny"})
	m := startMount(t, mdl.path)
	if err := m.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	m.wait(t)
	if !isMounted(t, m.dir) {
		t.Fatal("no stale mount after SIGKILL")
	}
	mustRun(t, bin, "unmount", m.dir)
	if isMounted(t, m.dir) {
		t.Fatal("ggufs unmount left the stale mount")
	}
	if _, err := os.ReadDir(m.dir); err != nil {
		t.Errorf("mountpoint unusable after ggufs unmount: %v", err)
	}
}
