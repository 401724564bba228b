//go:build race

package inspect

// raceBuild: under the race detector sync.Pool drops what it holds at
// random, so encoding/json allocates its buffers anew now and then.
const raceBuild = true
