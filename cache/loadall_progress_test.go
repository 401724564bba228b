package cache

import (
	"context"
	"testing"
)

// Tensors already resident when LoadAll starts count toward its progress:
// the last report is the whole total, and done never goes back.
func TestLoadAllProgressCountsTensorsAlreadyResident(t *testing.T) {
	m := newTestModel(61, 3000, 5000, 7000, 11000)
	c := newTestCache(t, newHost(t, 1<<20), m, Options{Budget: 1 << 20})
	checkTensor(t, c, m, m.name(1))
	checkTensor(t, c, m, m.name(3))

	var calls, last, total uint64
	err := c.LoadAll(context.Background(), nil, func(done, tot uint64) {
		calls++
		if done < last {
			t.Errorf("progress went back from %d to %d", last, done)
		}
		last, total = done, tot
	})
	if err != nil {
		t.Fatal(err)
	}
	var want uint64
	for _, tn := range m.tensors {
		want += tn.Size
	}
	if calls == 0 || total != want || last != want {
		t.Fatalf("last progress %d of %d after %d calls; want %d of %d", last, total, calls, want, want)
	}
}
