//go:build !race

package inspect

const raceBuild = false
