// Package progress shows how many bytes of a known total are done: a bar
// with rate and ETA on a terminal, a plain line a second in a log.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/ggufs/ggufs/internal/units"
)

// progressLineEvery is how often plain progress lines are written when the
// output is not a terminal (a log, a pipe).
const progressLineEvery = time.Second

// Bar shows bytes done so far: a bar with rate and ETA on a
// terminal, a plain line a second otherwise. Safe for concurrent use.
type Bar struct {
	mu       sync.Mutex
	w        io.Writer
	label    string
	total    uint64
	start    time.Time
	lastLine time.Time
	done     uint64
	bar      *progressbar.ProgressBar // nil when w is not a terminal
	finished bool
}

func New(w io.Writer, label string, total uint64) *Bar {
	p := &Bar{w: w, label: label, total: total, start: time.Now()}
	if IsTerminal(w) {
		p.bar = progressbar.NewOptions64(int64(total),
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(label),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowTotalBytes(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionUseIECUnits(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionFullWidth(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)
	}
	return p
}

// IsTerminal reports whether w is a terminal, where a bar can redraw itself.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Update records that done bytes of the total are uploaded. Progress never
// goes backwards: a smaller done than before is ignored.
func (p *Bar) Update(done uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.update(done)
}

// Progress records done bytes of total, which may be learnt only as the
// work starts (a cache.Load progress callback).
func (p *Bar) Progress(done, total uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if total != p.total && !p.finished {
		p.total = total
		if p.bar != nil {
			p.bar.ChangeMax64(int64(total))
		}
	}
	p.update(done)
}

// Add records n more bytes uploaded.
func (p *Bar) Add(n uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.update(p.done + n)
}

// Done is the bytes recorded so far.
func (p *Bar) Done() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// update needs p.mu held.
func (p *Bar) update(done uint64) {
	if p.finished || done < p.done {
		return
	}
	p.done = done
	if p.bar != nil {
		p.bar.Set64(int64(done))
		return
	}
	if now := time.Now(); now.Sub(p.lastLine) >= progressLineEvery {
		p.lastLine = now
		p.line("")
	}
}

// Finish writes the last state: the bar completed or a final line.
func (p *Bar) Finish(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.finished = true
	if p.bar != nil {
		if err == nil {
			p.bar.Finish()
		} else {
			p.bar.Exit()
			fmt.Fprintln(p.w)
		}
		return
	}
	if err != nil {
		p.line(" (stopped)")
	} else {
		p.line(" done")
	}
}

// line writes "LABEL: 1.20 GiB of 3.80 GiB (31%), 5.10 GB/s, ETA 1s".
func (p *Bar) line(suffix string) {
	elapsed := time.Since(p.start).Seconds()
	pct := 100.0
	if p.total > 0 {
		pct = float64(p.done) * 100 / float64(p.total)
	}
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.done) / elapsed
	}
	eta := ""
	if rate > 0 && p.done < p.total {
		eta = fmt.Sprintf(", ETA %s", (time.Duration(float64(p.total-p.done)/rate*1e9) + time.Second/2).Truncate(time.Second))
	}
	fmt.Fprintf(p.w, "%s: %s of %s (%.0f%%), %.2f GB/s%s%s\n",
		p.label, units.Text(p.done), units.Text(p.total), pct, rate/1e9, eta, suffix)
}
