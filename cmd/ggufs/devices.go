package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/ggufs/ggufs/hip"
	"github.com/urfave/cli/v2"
)

// gpuBackendFlags are the flags every command that opens a GPU backend shares.
func gpuBackendFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "backend", Value: hip.BackendAuto, Usage: "GPU runtime: auto (HIP, then CUDA, then host), hip, cuda or host"},
		&cli.IntFlag{Name: "device", Usage: "device index within the runtime"},
		&cli.StringFlag{Name: "runtime-lib", Usage: "load the runtime from this library (libamdhip64.so or libcudart.so) instead of searching", TakesFile: true},
	}
}

// gpuBackendOptions reads gpuBackendFlags.
func gpuBackendOptions(c *cli.Context) (hip.Options, error) {
	o := hip.Options{Backend: c.String("backend"), Device: c.Int("device"), RuntimeLib: c.String("runtime-lib")}
	switch o.Backend {
	case hip.BackendAuto, hip.BackendHIP, hip.BackendCUDA, hip.BackendHost:
	default:
		return o, usageError{fmt.Sprintf("--backend %q: want auto, hip, cuda or host", o.Backend)}
	}
	if o.Device < 0 {
		return o, usageError{fmt.Sprintf("--device %d: must be 0 or more", o.Device)}
	}
	return o, nil
}

func devicesCommand() *cli.Command {
	return &cli.Command{
		Name:      "devices",
		Usage:     "list the GPU runtimes tried, why any was skipped, and each device",
		ArgsUsage: " ",
		Description: `Tries HIP (libamdhip64), then CUDA (libcudart), then the host backend, as
mount does, and prints what each gave: the library loaded, the runtime and
driver versions, and each device's name, memory and PCI bus id.

Examples:
   ggufs devices
   ggufs devices --json
   ggufs devices --backend cuda --runtime-lib /usr/local/cuda/lib64/libcudart.so.13`,
		Flags: append(gpuBackendFlags(),
			&cli.BoolFlag{Name: "json", Usage: "print the report as JSON"}),
		Action: runDevices,
	}
}

func runDevices(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageError{"devices takes no arguments"}
	}
	opts, err := gpuBackendOptions(c)
	if err != nil {
		return err
	}
	b, rep, err := hip.Open(opts)
	if b != nil {
		defer b.Close()
	}
	w := c.App.Writer
	if c.Bool("json") {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if encErr := enc.Encode(rep); encErr != nil {
			return encErr
		}
	} else {
		printDevices(w, rep)
	}
	if err != nil {
		return fmt.Errorf("devices: %w", err)
	}
	return nil
}

func printDevices(w io.Writer, rep *hip.Report) {
	for _, a := range rep.Attempts {
		status := "chosen"
		if a.Skipped != "" {
			status = "skipped: " + a.Skipped
		} else if rep.Chosen == "" || !strings.HasPrefix(rep.Chosen, a.Backend) {
			status = "available"
		}
		fmt.Fprintf(w, "%s: %s\n", a.Backend, status)
		if a.Library != "" {
			fmt.Fprintf(w, "  library  %s (%d symbols)\n", a.Library, a.Symbols)
		}
		if a.RuntimeVersion != "" || a.DriverVersion != "" {
			fmt.Fprintf(w, "  runtime  %s, driver %s\n", orDash(a.RuntimeVersion), orDash(a.DriverVersion))
		}
		if a.UploadPath != "" && a.Skipped == "" {
			fmt.Fprintf(w, "  upload   %s\n", a.UploadPath)
		}
		for _, d := range a.Devices {
			fmt.Fprintf(w, "  [%d] %s", d.Index, d.Name)
			if d.ComputeCapability != "" {
				fmt.Fprintf(w, " (compute %s)", d.ComputeCapability)
			}
			if d.PCIBusID != "" {
				fmt.Fprintf(w, "  pci %s", d.PCIBusID)
			}
			fmt.Fprintf(w, "  memory %s free of %s\n", gib(d.FreeBytes), gib(d.TotalBytes))
		}
	}
	if rep.Chosen != "" {
		fmt.Fprintf(w, "using %s\n", rep.Chosen)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func gib(n uint64) string { return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30)) }
