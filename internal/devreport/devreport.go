// Package devreport writes the text `ggufs devices` prints of the GPU
// runtimes tried (hip.Report).
package devreport

import (
	"fmt"
	"io"
	"strings"

	"github.com/ggufs/ggufs/hip"
)

// WriteText writes rep for people: each runtime tried, chosen, available or
// skipped and why, its library, versions and upload path, and each device's
// name, compute capability, PCI bus and memory.
func WriteText(w io.Writer, rep *hip.Report) {
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
