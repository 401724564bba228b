package cache

// lruList is the resident entries in order of use, least recent first. It is
// intrusive (the links live in the entries), so no lookup or allocation is
// needed to move an entry. Guarded by Cache.mu.
type lruList struct {
	front, back *entry
}

// lruLinks are an entry's place in the list.
type lruLinks struct {
	prev, next *entry
	listed     bool
}

func (l *lruList) pushBack(e *entry) {
	e.lru = lruLinks{prev: l.back, listed: true}
	if l.back != nil {
		l.back.lru.next = e
	} else {
		l.front = e
	}
	l.back = e
}

func (l *lruList) remove(e *entry) {
	if !e.lru.listed {
		return
	}
	if e.lru.prev != nil {
		e.lru.prev.lru.next = e.lru.next
	} else {
		l.front = e.lru.next
	}
	if e.lru.next != nil {
		e.lru.next.lru.prev = e.lru.prev
	} else {
		l.back = e.lru.prev
	}
	e.lru = lruLinks{}
}

// moveToBack marks a listed entry as the most recently used.
func (l *lruList) moveToBack(e *entry) {
	if e.lru.listed && l.back != e {
		l.remove(e)
		l.pushBack(e)
	}
}
