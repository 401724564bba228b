package fs

import "sync"

// statedRender keeps the content a stat of a live file measured until the
// next open takes it: `ls -l stats.json` then `cat stats.json` see one
// snapshot, so the file reads at the size it stated even while the counters
// move. The kernel looks a file up (and so stats it) before it opens it once
// its entry has expired, so what an open takes is never older than the
// lookup just before it; an open with nothing stated renders afresh.
type statedRender struct {
	mu      sync.Mutex
	content []byte
	held    bool
}

// measure renders the content for a stat and keeps it for the next open.
func (s *statedRender) measure(render func() []byte) []byte {
	b := render()
	s.mu.Lock()
	s.content, s.held = b, true
	s.mu.Unlock()
	return b
}

// take gives an open the content the last stat measured, once, or a fresh
// render when no stat came since the last open.
func (s *statedRender) take(render func() []byte) []byte {
	s.mu.Lock()
	b, held := s.content, s.held
	s.content, s.held = nil, false
	s.mu.Unlock()
	if held {
		return b
	}
	return render()
}
