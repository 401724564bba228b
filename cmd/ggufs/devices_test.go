package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ggufs/ggufs/hip"
)

// runApp runs the CLI with args and returns what it wrote and its error.
func runApp(t *testing.T, args ...string) (string, error) {
	t.Helper()
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	app.ErrWriter = &out
	err := app.Run(append([]string{"ggufs"}, args...))
	return out.String(), err
}

func TestDevicesHostJSON(t *testing.T) {
	out, err := runApp(t, "devices", "--backend", "host", "--json")
	if err != nil {
		t.Fatalf("devices: %v\n%s", err, out)
	}
	var rep hip.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not a report: %v\n%s", err, out)
	}
	if rep.Chosen != "host" || len(rep.Attempts) != 1 || len(rep.Attempts[0].Devices) != 1 {
		t.Fatalf("report %+v", rep)
	}
}

func TestDevicesAutoNamesEveryBackend(t *testing.T) {
	out, err := runApp(t, "devices")
	if err != nil {
		t.Fatalf("devices: %v\n%s", err, out)
	}
	for _, want := range []string{"hip:", "cuda:", "using "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestDevicesRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"devices", "--backend", "tpu"},
		{"devices", "--device", "-1"},
		{"devices", "extra"},
	} {
		if _, err := runApp(t, args...); exitCode(err) != exitUsage {
			t.Errorf("%v: exit %d (%v), want %d", args, exitCode(err), err, exitUsage)
		}
	}
}

// A runtime named explicitly that is not there fails, never falls back.
func TestDevicesExplicitRuntimeMissing(t *testing.T) {
	_, err := runApp(t, "devices", "--backend", "cuda", "--runtime-lib", t.TempDir()+"/libcudart.so.13")
	if err == nil || exitCode(err) != exitError {
		t.Fatalf("devices --backend cuda with a missing library: %v", err)
	}
}
