package main

import (
	"encoding/json"
	"fmt"

	"github.com/ggufs/ggufs/hip"
	"github.com/ggufs/ggufs/internal/devreport"
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
		devreport.WriteText(w, rep)
	}
	if err != nil {
		return fmt.Errorf("devices: %w", err)
	}
	return nil
}
