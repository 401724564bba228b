package share

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// dialEnv makes the test binary a consumer that holds every tensor of the
// socket it names and prints the outcome: how another user is treated is
// only seen from a process of another user.
const dialEnv = "GGUFS_SHARE_TEST_DIAL"

func TestMain(m *testing.M) {
	if path := os.Getenv(dialEnv); path != "" {
		os.Exit(consumeAndReport(path))
	}
	os.Exit(m.Run())
}

func consumeAndReport(path string) int {
	c, err := Dial(path)
	if err != nil {
		fmt.Println("dial:", err)
		return 1
	}
	defer c.Close()
	_, err = c.Hold(nil, nil)
	var ref *RefusedError
	switch {
	case err == nil:
		fmt.Println("held")
	case errors.As(err, &ref):
		fmt.Println("refused", ref.Code)
	default:
		fmt.Println("error:", err)
	}
	return 0
}

// runAsNobody runs this test binary as uid/gid 65534 against the socket.
func runAsNobody(t *testing.T, socket string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("changing to another user needs root")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The build directory is private to root: run a copy another user may execute.
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} { // the test's directory, then this one
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	exe := filepath.Join(dir, "consumer")
	copyFile(t, self, exe)
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), dialEnv+"="+socket)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("consumer as nobody: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// openToAll lets every user reach the socket, so that the server's own
// credential check is what decides.
func openToAll(t *testing.T, socket string) {
	t.Helper()
	dir := filepath.Dir(socket)
	for _, p := range []string{filepath.Dir(dir), dir, socket} {
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAnotherUserIsRefused(t *testing.T) {
	f := newFixture(t, 1<<20, 4096)
	openToAll(t, f.srv.SocketPath())
	if got := runAsNobody(t, f.srv.SocketPath()); got != "refused "+CodePermissionDenied {
		t.Fatalf("another user's consumer: %q, want refused %s", got, CodePermissionDenied)
	}
	if n := f.cache.Holders("t0"); n != 0 {
		t.Fatalf("a refused user holds %d", n)
	}
}

func TestAllowOtherLetsAnotherUserHold(t *testing.T) {
	f := newFixtureWith(t, 1<<20, func(c *Config) { c.AllowOther = true }, 4096)
	if st, err := os.Stat(f.srv.SocketPath()); err != nil || st.Mode().Perm() != 0o666 {
		t.Fatalf("socket with AllowOther: %v, %v; want mode 0666", st.Mode(), err)
	}
	openToAll(t, f.srv.SocketPath())
	if got := runAsNobody(t, f.srv.SocketPath()); got != "held" {
		t.Fatalf("another user's consumer with AllowOther: %q, want held", got)
	}
}

func TestSocketIsPrivateWithoutAllowOther(t *testing.T) {
	f := newFixture(t, 1<<20, 4096)
	st, err := os.Stat(f.srv.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, want 0600", st.Mode().Perm())
	}
}
