package devreport

import (
	"strings"
	"testing"

	"github.com/ggufs/ggufs/hip"
)

func TestWriteTextSaysWhatWasChosenAndWhy(t *testing.T) {
	rep := &hip.Report{Chosen: "cuda:0", Attempts: []hip.Attempt{
		{Backend: hip.BackendHIP, Skipped: "libamdhip64.so: not found"},
		{Backend: hip.BackendCUDA, Library: "/usr/lib/libcudart.so.13", Symbols: 42, RuntimeVersion: "13.0",
			UploadPath: "pinned", Devices: []hip.DeviceInfo{
				{Index: 0, Name: "H200", ComputeCapability: "9.0", PCIBusID: "0000:01:00.0", FreeBytes: 3 << 29, TotalBytes: 4 << 30},
			}},
		{Backend: hip.BackendHost},
	}}
	var b strings.Builder
	WriteText(&b, rep)
	want := `hip: skipped: libamdhip64.so: not found
cuda: chosen
  library  /usr/lib/libcudart.so.13 (42 symbols)
  runtime  13.0, driver -
  upload   pinned
  [0] H200 (compute 9.0)  pci 0000:01:00.0  memory 1.50 GiB free of 4.00 GiB
host: available
using cuda:0
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
