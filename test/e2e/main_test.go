// Package e2e runs the built ggufs binary: it generates models, mounts them
// with FUSE on the host backend and drives the mounts with the tools a user
// has (ls, stat, cat, dd, getfattr, setfattr) and from Go.
//
// Where FUSE is missing the tests skip, except with GGUFS_REQUIRE_FUSE=1 (CI),
// where they fail.
package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bin is the ggufs binary TestMain built.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ggufs-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "ggufs")
	code := 1
	if err := build(bin); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: building ggufs: %v\n", err)
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func build(out string) error {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	cmd := exec.Command(goTool, "build", "-o", out, "../../cmd/ggufs")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v\n%s", err, b)
	}
	return nil
}

// required reports whether the environment promises FUSE and the tools.
func required() bool { return os.Getenv("GGUFS_REQUIRE_FUSE") == "1" }

// unavailable skips the test, or fails it where FUSE is required.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if required() {
		t.Fatalf("GGUFS_REQUIRE_FUSE=1 but "+format, args...)
	}
	t.Skipf(format, args...)
}

// needFuse skips (or fails, in CI) when this machine cannot mount FUSE.
func needFuse(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		unavailable(t, "no FUSE device: %v", err)
	}
	if os.Geteuid() != 0 {
		if _, err := exec.LookPath("fusermount3"); err != nil {
			unavailable(t, "not root and no fusermount3")
		}
	}
}

// needTools skips (or fails, in CI) when a command-line tool is missing.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable(t, "%s is not installed", tool)
		}
	}
}

// syncBuffer collects a process's output while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// mountProc is a running `ggufs mount`.
type mountProc struct {
	dir            string
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	exited         chan struct{}
	err            error // set when exited closes
}

// waitLimit guards against hangs; nothing here is meant to take long.
const waitLimit = 30 * time.Second

// startMount runs `ggufs mount --backend host ARGS... MODEL DIR` and waits
// until the kernel lists the mount. The mount is ended (SIGTERM) when the
// test ends, and the test fails if a stale mount is left.
func startMount(t *testing.T, model string, args ...string) *mountProc {
	t.Helper()
	needFuse(t)
	m := &mountProc{dir: t.TempDir(), exited: make(chan struct{})}
	argv := append([]string{"mount", "--backend", "host"}, args...)
	m.cmd = exec.Command(bin, append(argv, model, m.dir)...)
	m.cmd.Stdout, m.cmd.Stderr = &m.stdout, &m.stderr
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		m.err = m.cmd.Wait()
		close(m.exited)
	}()
	t.Cleanup(func() { m.stop(t) })
	deadline := time.Now().Add(waitLimit)
	// The mount appears in the table a moment before mount prints its line.
	for !isMounted(t, m.dir) || !strings.Contains(m.stdout.String(), "\n") {
		select {
		case <-m.exited:
			if required() || !strings.Contains(m.stderr.String(), "fuse") {
				t.Fatalf("ggufs mount exited (%v) before mounting: %s", m.err, m.stderr.String())
			}
			unavailable(t, "mounting failed: %s", m.stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mount at %s after %s; stderr: %s", m.dir, waitLimit, m.stderr.String())
		}
	}
	return m
}

// stop sends SIGTERM unless the process has exited, waits for it, and
// checks that nothing stays mounted.
func (m *mountProc) stop(t *testing.T) {
	t.Helper()
	select {
	case <-m.exited:
	default:
		m.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-m.exited:
		case <-time.After(waitLimit):
			m.cmd.Process.Kill()
			<-m.exited
			syscall.Unmount(m.dir, syscall.MNT_DETACH)
			t.Errorf("ggufs mount did not exit on SIGTERM; stderr: %s", m.stderr.String())
		}
	}
	if isMounted(t, m.dir) {
		syscall.Unmount(m.dir, syscall.MNT_DETACH)
		t.Errorf("%s is still mounted after ggufs mount exited", m.dir)
	}
}

// wait waits for the process to exit and returns its exit code.
func (m *mountProc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-m.exited:
	case <-time.After(waitLimit):
		t.Fatalf("ggufs mount still running after %s; stderr: %s", waitLimit, m.stderr.String())
	}
	var ee *exec.ExitError
	if errors.As(m.err, &ee) {
		return ee.ExitCode()
	}
	if m.err != nil {
		t.Fatal(m.err)
	}
	return 0
}

// isMounted reports whether /proc/self/mountinfo lists a ggufs mount on dir.
func isMounted(t *testing.T, dir string) bool {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		before, after, ok := strings.Cut(sc.Text(), " - ")
		fields, tail := strings.Fields(before), strings.Fields(after)
		if ok && len(fields) >= 5 && len(tail) >= 1 && fields[4] == dir && tail[0] == "fuse.ggufs" {
			return true
		}
	}
	return false
}

// run runs a command and returns its stdout, stderr and exit code.
func run(t *testing.T, name string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", name, err)
	}
	return o.String(), e.String(), code
}

// mustRun runs a command that must succeed and returns its stdout.
func mustRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	o, e, code := run(t, name, args...)
	if code != 0 {
		t.Fatalf("%s %s: exit %d: %s", name, strings.Join(args, " "), code, e)
	}
	return o
}
