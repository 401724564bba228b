package genmodel

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// removeOnSignal removes path and exits (128 + the signal, as shells do) if
// gen is interrupted (Ctrl-C, SIGTERM, SIGHUP) while path is being written:
// a half-written model may be gigabytes, hidden behind a dot. The returned
// stop ends the watch; call it once the file is renamed or removed.
func removeOnSignal(path string) (stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	done, ended := make(chan struct{}), make(chan struct{})
	go func() { // ends at stop, or ends the process on a signal
		defer close(ended)
		select {
		case s := <-sigs:
			os.Remove(path)
			fmt.Fprintf(os.Stderr, "ggufs: gen: %v: removed the unfinished %s\n", s, path)
			code := 130
			if n, ok := s.(syscall.Signal); ok {
				code = 128 + int(n)
			}
			os.Exit(code)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
		<-ended
	}
}
