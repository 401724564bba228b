package hip

import "syscall"

// madvPopulateRead is MADV_POPULATE_READ (Linux 5.14): map the range's pages
// now, reading them in where needed, in one call instead of a fault a page.
const madvPopulateRead = 22

// populateMin: below this the call costs more than the faults it saves.
const populateMin = 1 << 20

// populate asks the kernel to map src's pages. It is only a hint: an old
// kernel, anonymous memory or a truncated file make it fail, and the copy
// that follows then faults (and reports a truncated file) as it would have.
func populate(src []byte) {
	if len(src) == 0 {
		return
	}
	start := addressOf(src) &^ uintptr(pageSize-1)
	end := addressOf(src) + uintptr(len(src))
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, start, end-start, madvPopulateRead)
}
