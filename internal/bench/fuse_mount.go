package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/ggufs/ggufs/hip"
	"github.com/ggufs/ggufs/mount"
	"github.com/ggufs/ggufs/synth"
)

// mountTimeRuns is how many mounts each mount time is the median of.
const mountTimeRuns = 5

// mountTimes is how long a preset takes to mount.
type mountTimes struct {
	tensors   int
	fileBytes uint64
	inProcess time.Duration // open, parse, build, mount
	command   time.Duration // `ggufs mount` from exec to its line
}

// benchMountTime generates a preset and times mounting it, in this process
// and as a command.
func benchMountTime(work, preset string, sparse bool) (mountTimes, error) {
	path := filepath.Join(work, preset+".gguf")
	st, err := synth.GenerateFile(path, synth.Options{Preset: preset, Sparse: sparse})
	if err != nil {
		return mountTimes{}, err
	}
	defer os.Remove(path)
	dir := filepath.Join(work, "mnt-"+preset)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return mountTimes{}, err
	}
	mt := mountTimes{tensors: st.Tensors, fileBytes: st.FileBytes}
	var inProcess, command []time.Duration
	for range mountTimeRuns {
		d, err := mountInProcess(path, dir)
		if err != nil {
			return mt, err
		}
		inProcess = append(inProcess, d)
		if d, err = mountCommandTime(path, dir); err != nil {
			return mt, err
		}
		command = append(command, d)
	}
	mt.inProcess, mt.command = median(inProcess), median(command)
	return mt, nil
}

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// mountInProcess times what mount does before it serves, then unmounts.
func mountInProcess(path, dir string) (time.Duration, error) {
	start := time.Now()
	m, err := mount.Open(path, dir, mount.Options{Backend: hip.Options{Backend: hip.BackendHost}, Log: io.Discard})
	if err != nil {
		return 0, err
	}
	d := time.Since(start)
	return d, m.Close()
}

// mountCommandTime runs this binary's mount command until it prints its
// line, then stops it with SIGTERM.
func mountCommandTime(path, dir string) (time.Duration, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(exe, "mount", "--backend", "host", path, dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	_, rerr := bufio.NewReader(stdout).ReadString('\n')
	d := time.Since(start)
	cmd.Process.Signal(syscall.SIGTERM)
	werr := cmd.Wait()
	if rerr != nil || werr != nil {
		return 0, fmt.Errorf("ggufs mount %s: %v %v: %s", path, rerr, werr, stderr.String())
	}
	return d, nil
}
