package share

import (
	"bytes"
	"testing"
)

// FuzzRequest feeds request frames to the server's reader and answerer:
// whatever comes, a reply names an error or a success, nothing panics, and
// no hold outlives the connection.
func FuzzRequest(f *testing.F) {
	for _, s := range []string{
		`{"version":1,"op":"hold"}`,
		`{"version":1,"op":"hold","tensors":["t0","t1"],"generations":{"t0":1}}`,
		`{"version":1,"op":"release","tensors":null}`,
		`{"version":1,"op":"hold","tensors":["t0","t0","nope"]}`,
		`{"version":1e3,"op":"hold"}`,
		"not json",
	} {
		f.Add(frame(s))
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{3, 0, 0})
	fx := newFixture(f, 1<<20, 4096, 100)
	f.Fuzz(func(t *testing.T, data []byte) {
		held := holdSet{}
		r := bytes.NewReader(data)
		for {
			body, err := readFrame(r, MaxRequestBytes)
			if err != nil {
				break
			}
			rep, files := fx.srv.answer(held, body)
			for _, f := range files {
				f.Close()
			}
			if rep.OK == (rep.Error != nil) {
				t.Fatalf("reply %+v: ok and error disagree", rep)
			}
			if rep.Error != nil && (rep.Error.Code == "" || rep.Error.Message == "") {
				t.Fatalf("refusal without a code or reason: %+v", rep.Error)
			}
		}
		held.releaseAll()
		for _, name := range fx.names {
			if n := fx.cache.Holders(name); n != 0 {
				t.Fatalf("%s held %d times after the connection ended", name, n)
			}
		}
	})
}
