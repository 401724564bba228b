package ctl

import (
	"fmt"
	"io"
	"strings"

	"github.com/ggufs/ggufs/internal/units"
)

// StatusReport is a snapshot of a mount: what `ggufs status --json` prints.
type StatusReport struct {
	Stats   Stats          `json:"stats"`
	Tensors []TensorStatus `json:"tensors"`
}

// Status reads the mount's stats and the status of its tensors: those that
// are not unloaded, or every one with all.
func (c *Client) Status(all bool) (StatusReport, error) {
	rep := StatusReport{Tensors: []TensorStatus{}}
	var err error
	if rep.Stats, err = c.Stats(); err != nil {
		return rep, err
	}
	tensors, err := c.Tensors()
	if err != nil {
		return rep, err
	}
	for _, t := range tensors {
		if all || t.Status != StatusUnloaded {
			rep.Tensors = append(rep.Tensors, t)
		}
	}
	return rep, nil
}

// WriteText writes the report as `ggufs status` prints it.
func (rep StatusReport) WriteText(w io.Writer) {
	s, k := rep.Stats, rep.Stats.Cache
	fmt.Fprintf(w, "%s on device %s: %d of %d tensors resident (%s of a %s cache)\n", s.Model, s.Device,
		k.ResidentTensors, s.Tensors, units.Text(k.ResidentBytes), units.Text(k.BudgetBytes))
	fmt.Fprintf(w, "reads: %d hits, %d misses; uploads: %d (%s, %.2f GB/s); evictions: %d; failures: %d\n",
		k.Hits, k.Misses, k.Uploads, units.Text(k.UploadedBytes), s.UploadGBps, k.Evictions, k.Failures)
	if sh := s.Sharing; sh != nil {
		fmt.Fprintf(w, "sharing: %d consumers connected, %d holds on %d tensors (socket %s)\n",
			sh.Connections, sh.Holds, len(sh.Holders), sh.Socket)
	}
	if l := s.LoadAll; l != nil {
		state := "done"
		switch {
		case l.Running:
			state = "running"
		case l.Error != "":
			state = "failed: " + l.Error
		}
		fmt.Fprintf(w, "load of every tensor: %s, %s of %s in %.2fs (%.2f GB/s)\n", state,
			units.Text(l.BytesDone), units.Text(l.BytesTotal), l.ElapsedSeconds, l.GBPerSecond)
	}
	for _, t := range rep.Tensors {
		status := strings.TrimSpace(t.Status)
		if s.Sharing != nil && s.Sharing.Holders[t.Name] > 0 {
			status += fmt.Sprintf(" (%d holders)", s.Sharing.Holders[t.Name])
		}
		fmt.Fprintf(w, "  %-40s %-8s %10s  %s\n", t.Name, t.Dtype, units.Text(t.Nbytes), status)
	}
}
