package hip

// Stats counts what a backend has done. Fields may be added; none are removed.
type Stats struct {
	LiveAllocations  int64             `json:"live_allocations"`  // Malloc calls not yet freed
	AllocatedBytes   uint64            `json:"allocated_bytes"`   // bytes held by live allocations
	TotalAllocations int64             `json:"total_allocations"` // Malloc calls ever made
	Uploads          int64             `json:"uploads"`           // Copy entries completed
	UploadedBytes    uint64            `json:"uploaded_bytes"`
	Downloads        int64             `json:"downloads"`
	DownloadedBytes  uint64            `json:"downloaded_bytes"`
	PathBytes        map[string]uint64 `json:"path_bytes"` // bytes uploaded by each path ("register", "staged", "plain", "host")
	// Time spent, summed over threads, pinning and unpinning source chunks
	// and copying sources into staging buffers: where an upload's CPU goes.
	RegisterNanos   int64 `json:"register_nanos"`
	UnregisterNanos int64 `json:"unregister_nanos"`
	FillNanos       int64 `json:"fill_nanos"`
}
