package cache

// State is where a tensor is in its life on the device.
type State int

const (
	Unloaded State = iota // never uploaded
	Loading               // an upload is in progress
	Resident              // on the device
	Evicted               // was resident, removed to make room (or on request)
	Failed                // the last upload failed; the next Get retries
)

func (s State) String() string {
	switch s {
	case Unloaded:
		return "unloaded"
	case Loading:
		return "loading"
	case Resident:
		return "resident"
	case Evicted:
		return "evicted"
	case Failed:
		return "error"
	}
	return "unknown"
}

// Status is a tensor's state and, when Failed, why.
type Status struct {
	State State
	Err   error // set when State is Failed
	// LastErr is why the latest upload failed, kept after the state moved
	// on (a tensor refused for want of memory is Unloaded or Evicted again,
	// since the next read may well succeed); nil once it is resident.
	LastErr error
}

// String is what the filesystem shows: "unloaded", "loading", "resident",
// "evicted" or "error: <reason>"; never LastErr, which a read may not
// reproduce.
func (s Status) String() string {
	if s.State == Failed && s.Err != nil {
		return "error: " + s.Err.Error()
	}
	return s.State.String()
}
