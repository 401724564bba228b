package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ggufs/ggufs/cache"
	"github.com/ggufs/ggufs/share"
	"github.com/ggufs/ggufs/synth"
)

// mountStats is the part of stats.json the sharing tests read.
type mountStats struct {
	Cache   cache.Stats  `json:"cache"`
	Sharing *share.Stats `json:"sharing"`
}

func readMountStats(t *testing.T, m *mountProc) mountStats {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(m.dir, "stats.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s mountStats
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("stats.json: %v\n%s", err, b)
	}
	if s.Sharing == nil {
		t.Fatalf("stats.json has no sharing section:\n%s", b)
	}
	return s
}

// socketOf is the mount's sharing socket, as stats.json names it.
func socketOf(t *testing.T, m *mountProc) string {
	t.Helper()
	return readMountStats(t, m).Sharing.Socket
}

// consumer is this test binary run as a sharing consumer (share_consumer_test.go).
func consumer(t *testing.T, exe, mode, socket, model string, env ...string) *exec.Cmd {
	t.Helper()
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), consumerEnv+"="+mode, consumerSocketEnv+"="+socket, consumerModelEnv+"="+model)
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// waitHolders polls stats.json until the tensor has n holders: a dead
// consumer's holds end when the mount reads its closed connection.
func waitHolders(t *testing.T, m *mountProc, name string, n int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		got := readMountStats(t, m).Sharing.Holders[name]
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d holders after %s, want %d", name, got, waitLimit, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestShareGoConsumerSeesEveryByte(t *testing.T) {
	mdl := genModel(t, synth.Options{Preset: "tiny", Seed: 91})
	m := startMount(t, mdl.path)
	out, err := consumer(t, "", "verify", socketOf(t, m), mdl.path).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok "+strconv.Itoa(len(mdl.tensors)) {
		t.Fatalf("consumer: %v: %s", err, out)
	}
}

// python finds a Python 3 with numpy (Debian's python3-numpy in CI).
func python(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import numpy").Run() == nil {
			return p
		}
	}
	unavailable(t, "no python3 with numpy")
	return ""
}

// pythonCheck attaches every tensor with the client in python/ and compares
// each array's bytes with the file at the tensor's offset.
const pythonCheck = `
import os, sys, ggufs
mnt, model = sys.argv[1], sys.argv[2]
raw = open(model, "rb").read()
with ggufs.attach(mnt) as tensors:
    for name, arr in tensors.items():
        d = os.path.join(mnt, "tensors", name)
        off = int(os.getxattr(d, "user.ggufs.offset"))
        n = int(os.getxattr(d, "user.ggufs.nbytes"))
        assert arr.nbytes == n, (name, arr.nbytes, n)
        assert not arr.flags.writeable, name
        assert arr.tobytes() == raw[off:off + n], name
    try:
        tensors[name][...] = 0
        sys.exit("a consumer wrote a shared tensor")
    except ValueError:
        pass
    print("ok", len(tensors))
try:
    ggufs.attach(mnt, ["no.such.tensor"])
    sys.exit("an unknown tensor attached")
except KeyError:
    pass
try:
    ggufs.attach(os.path.dirname(model))
    sys.exit("a plain directory attached")
except ggufs.GgufsError:
    pass
`

func TestSharePythonConsumerSeesEveryByte(t *testing.T) {
	py := python(t)
	mdl := genModel(t, synth.Options{Preset: "tiny", Seed: 92})
	m := startMount(t, mdl.path)
	cmd := exec.Command(py, "-B", "-c", pythonCheck, m.dir, mdl.path)
	_, self, _, _ := runtime.Caller(0)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(filepath.Dir(self), "..", "..", "python"))
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok "+strconv.Itoa(len(mdl.tensors)) {
		t.Fatalf("python consumer: %v: %s", err, out)
	}
	if s := readMountStats(t, m).Sharing; s.Holds != 0 {
		t.Fatalf("%d holds left after the Python consumer closed", s.Holds)
	}
}

func TestShareKilledConsumerReleasesItsHolds(t *testing.T) {
	needTools(t, "setfattr")
	mdl := genModel(t, synth.Options{Preset: "tiny", Seed: 93})
	m := startMount(t, mdl.path)
	name := mdl.tensors[1].Name
	cmd := consumer(t, "", "hold", socketOf(t, m), mdl.path, consumerNamesEnv+"="+name)
	stdin, err := cmd.StdinPipe() // kept open: the consumer holds until killed
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "held\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("consumer said %q, want held", line)
	}
	waitHolders(t, m, name, 1)

	_, stderr, code := run(t, "setfattr", "-n", "user.ggufs.evict", "-v", "1", tensorDir(m.dir, name))
	if code == 0 || !strings.Contains(stderr, "busy") {
		t.Fatalf("evicting a held tensor: exit %d, %q; want EBUSY", code, stderr)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	waitHolders(t, m, name, 0)
	mustRun(t, "setfattr", "-n", "user.ggufs.evict", "-v", "1", tensorDir(m.dir, name))
	if got := strings.TrimSpace(mustRun(t, "cat", filepath.Join(tensorDir(m.dir, name), "status"))); got != "evicted" {
		t.Fatalf("status after evicting the released tensor: %q", got)
	}
}

// 32 consumer processes hold and release random tensors while the mount
// evicts (reads of other tensors under a budget of a few, and explicit
// evictions): every byte each consumer maps must be its tensor's.
func TestShareConsumersUnderEvictionNeverSeeWrongBytes(t *testing.T) {
	mdl := genModel(t, synth.Options{Preset: "tiny", Seed: 94})
	var largest uint64
	for _, ti := range mdl.tensors {
		largest = max(largest, ti.Size)
	}
	m := startMount(t, mdl.path, "--cache-size", strconv.FormatUint(6*largest, 10))
	socket := socketOf(t, m)

	stop := make(chan struct{})
	var churn sync.WaitGroup
	churn.Add(1)
	go func() { // the mount's own readers and evictions, until the consumers end
		defer churn.Done()
		rng := rand.New(rand.NewPCG(7, 7))
		buf := make([]byte, 4096)
		for {
			select {
			case <-stop:
				return
			default:
			}
			dir := tensorDir(m.dir, mdl.tensors[rng.IntN(len(mdl.tensors))].Name)
			if rng.IntN(3) == 0 {
				syscall.Setxattr(dir, "user.ggufs.evict", []byte("1"), 0) // EBUSY while held: fine
				continue
			}
			if f, err := os.Open(filepath.Join(dir, "data")); err == nil {
				f.Read(buf)
				f.Close()
			}
		}
	}()

	const consumers, rounds = 32, 15
	var wg sync.WaitGroup
	outs := make([][]byte, consumers)
	errs := make([]error, consumers)
	for i := range consumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = consumer(t, "", "churn", socket, mdl.path,
				consumerRoundsEnv+"="+strconv.Itoa(rounds), consumerSeedEnv+"="+strconv.Itoa(i)).CombinedOutput()
		}()
	}
	wg.Wait()
	close(stop)
	churn.Wait()
	verified := 0
	for i := range consumers {
		var r, v int
		if _, err := fmt.Sscanf(string(outs[i]), "ok %d %d", &r, &v); errs[i] != nil || err != nil {
			t.Errorf("consumer %d: %v: %s", i, errs[i], outs[i])
		}
		verified += v
	}
	if verified < consumers*rounds/2 {
		t.Fatalf("the consumers verified only %d holds of %d rounds: too few to mean anything", verified, consumers*rounds)
	}
	t.Logf("%d consumers verified %d tensors", consumers, verified)
	s := readMountStats(t, m)
	if s.Cache.Evictions == 0 {
		t.Fatal("nothing was evicted: the test did not test eviction")
	}
	if s.Sharing.Holds != 0 || s.Sharing.ConnectionsTotal < consumers {
		t.Fatalf("sharing after the consumers: %+v", s.Sharing)
	}
}

// runnableByAll copies this test binary where uid 65534 may run it.
func runnableByAll(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("running a consumer as another user needs root")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	exe := filepath.Join(dir, "consumer")
	src, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(exe, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return exe
}

func consumerAsNobody(cmd *exec.Cmd) *exec.Cmd {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	return cmd
}

func TestShareRefusesAnotherUserWithoutAllowOther(t *testing.T) {
	exe := runnableByAll(t)
	mdl := genModel(t, synth.Options{Preset: "tiny", Seed: 95})

	m := startMount(t, mdl.path)
	out, err := consumerAsNobody(consumer(t, exe, "try", socketOf(t, m), "")).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "refused") {
		t.Fatalf("another user without --allow-other: %v: %s", err, out)
	}
	if s := readMountStats(t, m).Sharing; s.Holds != 0 {
		t.Fatalf("a refused user holds %d", s.Holds)
	}

	m = startMount(t, mdl.path, "--allow-other")
	out, err = consumerAsNobody(consumer(t, exe, "try", socketOf(t, m), "")).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "held" {
		t.Fatalf("another user with --allow-other: %v: %s", err, out)
	}
}

func TestShareBadRequestsLeaveTheMountServing(t *testing.T) {
	mdl := genModel(t, synth.Options{Preset: "tiny", Seed: 96})
	m := startMount(t, mdl.path)
	socket := socketOf(t, m)
	frame := func(s string) []byte {
		return append([]byte{byte(len(s)), byte(len(s) >> 8), 0, 0}, s...)
	}
	for _, req := range [][]byte{
		[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),                 // garbage
		{0xff, 0xff, 0xff, 0x7f},                                    // huge
		append([]byte{200, 0, 0, 0}, `{"version":1,"op":"hold"`...), // truncated
		frame(`{"version":1,"op":"hold","tensors":["no.such.tensor"]}`),
		frame(`{"version":1,"op":"hold","tensors":[1,2,3]}`),
	} {
		c, err := net.Dial("unix", socket)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(req)
		c.(*net.UnixConn).CloseWrite()
		c.SetReadDeadline(time.Now().Add(waitLimit))
		var hdr [4]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			t.Fatalf("request %q: no reply: %v", req, err)
		}
		body := make([]byte, int(hdr[0])|int(hdr[1])<<8|int(hdr[2])<<16)
		if _, err := io.ReadFull(c, body); err != nil {
			t.Fatalf("request %q: short reply: %v", req, err)
		}
		var rep share.Reply
		if err := json.Unmarshal(body, &rep); err != nil || rep.OK || rep.Error == nil || rep.Error.Message == "" {
			t.Fatalf("request %q: reply %s, want an error with a reason", req, body)
		}
		c.Close()
	}
	out, err := consumer(t, "", "verify", socket, mdl.path).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "ok ") {
		t.Fatalf("a consumer after bad requests: %v: %s", err, out)
	}
	if _, err := os.ReadFile(filepath.Join(tensorDir(m.dir, mdl.tensors[0].Name), "data")); err != nil {
		t.Fatalf("reading data after bad requests: %v", err)
	}
	if s := readMountStats(t, m).Sharing; s.Holds != 0 {
		t.Fatalf("%d holds left", s.Holds)
	}
}

// The filesystem's descriptors are snapshots: a hold that passes the
// generation a descriptor showed succeeds while the tensor stays resident,
// and is refused as stale once the tensor was evicted and loaded again.
func TestShareDescriptorGenerationsAreChecked(t *testing.T) {
	needTools(t, "setfattr")
	mdl := genModel(t, synth.Options{Preset: "tiny", Seed: 97})
	m := startMount(t, mdl.path)
	name := mdl.tensors[2].Name
	descriptor := func() share.DescribedTensor {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(tensorDir(m.dir, name), "ipc"))
		if err != nil {
			t.Fatal(err)
		}
		var d share.Descriptor
		if err := json.Unmarshal(b, &d); err != nil || len(d.Tensors) != 1 {
			t.Fatalf("tensors/%s/ipc: %v\n%s", name, err, b)
		}
		if d.Socket != socketOf(t, m) || len(d.Allocations) != 1 || d.Allocations[0].Mechanism != "memfd" {
			t.Fatalf("tensors/%s/ipc: %s", name, b)
		}
		return d.Tensors[0]
	}
	before := descriptor()
	if before.Status != "resident" || before.Allocation == 0 || before.NBytes != mdl.tensor(t, name).Size {
		t.Fatalf("descriptor after reading ipc: %+v, want the tensor resident", before)
	}
	c, err := share.Dial(socketOf(t, m))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Hold([]string{name}, map[string]uint64{name: before.Generation}); err != nil {
		t.Fatalf("hold with the descriptor's generation: %v", err)
	}
	if _, err := c.Release(nil); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "setfattr", "-n", "user.ggufs.evict", "-v", "1", tensorDir(m.dir, name))
	after := descriptor() // loads it again
	if after.Generation == before.Generation {
		t.Fatalf("generation %d unchanged after an eviction and a reload", after.Generation)
	}
	_, err = c.Hold([]string{name}, map[string]uint64{name: before.Generation})
	var ref *share.RefusedError
	if !errors.As(err, &ref) || ref.Code != share.CodeStale {
		t.Fatalf("hold with a generation from before the eviction: %v, want %s", err, share.CodeStale)
	}

	b, err := os.ReadFile(filepath.Join(m.dir, "ipc.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all share.Descriptor
	if err := json.Unmarshal(b, &all); err != nil || len(all.Tensors) != len(mdl.tensors) {
		t.Fatalf("ipc.json: %v, %d tensors, want %d", err, len(all.Tensors), len(mdl.tensors))
	}
	for _, d := range all.Tensors {
		if d.Status != "resident" {
			t.Fatalf("ipc.json: %s is %s, want every tensor loaded", d.Name, d.Status)
		}
	}
}
