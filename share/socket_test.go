package share

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultSocketPathIsPerMountpoint(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	a, err := DefaultSocketPath("/mnt/a", false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := DefaultSocketPath("/mnt/b", false)
	if err != nil {
		t.Fatal(err)
	}
	if a == b || !strings.HasPrefix(a, os.Getenv("XDG_RUNTIME_DIR")) {
		t.Fatalf("socket paths %q and %q: want distinct, in the runtime directory", a, b)
	}
	if o, err := DefaultSocketPath("/mnt/a", true); err != nil || strings.HasPrefix(o, os.Getenv("XDG_RUNTIME_DIR")) {
		t.Fatalf("a socket for every user at %q (%v): not in the private runtime directory", o, err)
	}
	t.Setenv("XDG_RUNTIME_DIR", "/"+strings.Repeat("d", 120))
	t.Setenv("TMPDIR", "/"+strings.Repeat("t", 120))
	if p, err := DefaultSocketPath("/mnt/a", true); err == nil {
		t.Fatalf("a socket path of %d bytes was accepted", len(p))
	}
}

func TestPrepareSocketDirModes(t *testing.T) {
	base := t.TempDir()
	sock := filepath.Join(base, "ggufs", "s.sock")
	if err := PrepareSocketDir(sock, false); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Dir(sock)); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("private socket directory: %v, %v; want 0700", st.Mode(), err)
	}
	if err := PrepareSocketDir(sock, true); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Dir(sock)); err != nil || st.Mode().Perm() != 0o711 {
		t.Fatalf("socket directory for every user: %v, %v; want 0711", st.Mode(), err)
	}
	// A symbolic link where the directory should be is refused: it could
	// lead to another user's directory.
	link := filepath.Join(base, "link")
	if err := os.Symlink(base, link); err != nil {
		t.Fatal(err)
	}
	if err := PrepareSocketDir(filepath.Join(link, "s.sock"), false); err == nil {
		t.Fatal("a symbolic link as the socket directory was accepted")
	}
}

func TestListenRefusesALiveSocketAndReplacesAStaleOne(t *testing.T) {
	f := newFixture(t, 1<<20, 4096)
	if _, err := Listen(Config{Cache: f.cache, SocketPath: f.srv.SocketPath()}); err == nil {
		t.Fatal("a second server on a live socket started")
	}
	path := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(Config{Cache: f.cache, SocketPath: path}); err == nil {
		t.Fatal("a server replaced a plain file")
	}
	if err := f.srv.Close(); err != nil {
		t.Fatal(err)
	}
	// Close removed the socket; a crashed server leaves one behind.
	stale := filepath.Join(t.TempDir(), "stale.sock")
	s1, err := Listen(Config{Cache: f.cache, SocketPath: stale})
	if err != nil {
		t.Fatal(err)
	}
	s1.ln.SetUnlinkOnClose(false)
	s1.Close()
	s2, err := Listen(Config{Cache: f.cache, SocketPath: stale})
	if err != nil {
		t.Fatalf("a stale socket was not replaced: %v", err)
	}
	s2.Close()
}
