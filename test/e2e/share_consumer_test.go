package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"github.com/ggufs/ggufs/gguf"
	"github.com/ggufs/ggufs/share"
)

// The test binary doubles as a sharing consumer: another process, as the
// protocol is meant for. consumerEnv names the mode; the others its inputs.
const (
	consumerEnv       = "GGUFS_E2E_CONSUMER" // verify, hold, churn, try
	consumerSocketEnv = "GGUFS_E2E_SOCKET"
	consumerModelEnv  = "GGUFS_E2E_MODEL"  // the file to compare with
	consumerNamesEnv  = "GGUFS_E2E_NAMES"  // comma separated; empty: every tensor
	consumerRoundsEnv = "GGUFS_E2E_ROUNDS" // churn
	consumerSeedEnv   = "GGUFS_E2E_SEED"
)

// init runs before TestMain: a consumer process does its work and exits.
func init() {
	mode := os.Getenv(consumerEnv)
	if mode == "" {
		return
	}
	if err := consume(mode); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func consume(mode string) error {
	c, err := share.Dial(os.Getenv(consumerSocketEnv))
	if err != nil {
		if mode == "try" {
			fmt.Println("refused dial:", err)
			return nil
		}
		return err
	}
	defer c.Close()
	var names []string
	if s := os.Getenv(consumerNamesEnv); s != "" {
		names = strings.Split(s, ",")
	}
	switch mode {
	case "try":
		_, err := c.Hold(names, nil)
		var ref *share.RefusedError
		switch {
		case errors.As(err, &ref):
			fmt.Println("refused", ref.Code)
		case err != nil:
			fmt.Println("refused", err) // the server may close the connection as it refuses
		default:
			fmt.Println("held")
		}
		return nil
	case "hold":
		if _, err := c.Hold(names, nil); err != nil {
			return err
		}
		fmt.Println("held")
		// Hold until killed (or until the test closes stdin).
		bufio.NewReader(os.Stdin).ReadString('\n')
		return nil
	}
	file, err := newFileBytes(os.Getenv(consumerModelEnv))
	if err != nil {
		return err
	}
	switch mode {
	case "verify":
		rep, err := c.Hold(names, nil)
		if err != nil {
			return err
		}
		if err := file.check(c, rep); err != nil {
			return err
		}
		fmt.Println("ok", len(rep.Tensors))
		return nil
	case "churn":
		rounds, _ := strconv.Atoi(os.Getenv(consumerRoundsEnv))
		seed, _ := strconv.ParseUint(os.Getenv(consumerSeedEnv), 10, 64)
		rng := rand.New(rand.NewPCG(seed, 5))
		verified := 0
		for range rounds {
			pick := make([]string, 1+rng.IntN(3))
			for i := range pick {
				pick[i] = file.names[rng.IntN(len(file.names))]
			}
			rep, err := c.Hold(pick, nil)
			var ref *share.RefusedError
			if errors.As(err, &ref) && ref.Code == share.CodeNoSpace {
				continue // the other consumers hold the budget right now
			}
			if err != nil {
				return err
			}
			if err := file.check(c, rep); err != nil {
				return err
			}
			verified += len(rep.Tensors)
			if _, err := c.Release(nil); err != nil {
				return err
			}
		}
		fmt.Println("ok", rounds, verified)
		return nil
	}
	return fmt.Errorf("unknown consumer mode %q", mode)
}

// fileBytes is the model file's tensors, to compare mappings with.
type fileBytes struct {
	raw    []byte
	offset map[string]uint64
	names  []string
}

func newFileBytes(path string) (*fileBytes, error) {
	m, err := gguf.OpenModel(path)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	f := &fileBytes{offset: map[string]uint64{}}
	for _, t := range m.Tensors {
		f.offset[t.Name] = t.FileOffset
		f.names = append(f.names, t.Name)
	}
	f.raw, err = os.ReadFile(path)
	return f, err
}

// check compares every byte of every tensor of a hold with the file.
func (f *fileBytes) check(c *share.Client, rep *share.Reply) error {
	for _, t := range rep.Tensors {
		b, err := c.Bytes(t)
		if err != nil {
			return err
		}
		off, ok := f.offset[t.Name]
		if !ok || off+t.NBytes > uint64(len(f.raw)) {
			return fmt.Errorf("tensor %q is not in the file", t.Name)
		}
		if !bytes.Equal(b, f.raw[off:off+t.NBytes]) {
			return fmt.Errorf("tensor %q (generation %d, allocation %d +%d): mapped bytes differ from the file",
				t.Name, t.Generation, t.Allocation, t.Offset)
		}
	}
	return nil
}
