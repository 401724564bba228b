package share

import (
	"context"
	"encoding/json"
	"fmt"
)

// Descriptor is the JSON of a mount's ipc.json and of tensors/<name>/ipc: a
// snapshot of where tensors are, for discovery. Only a hold's reply is
// authoritative: map nothing from a descriptor without holding it first
// (a hold can check that the generation is still the one seen here).
type Descriptor struct {
	Version     int               `json:"version"`
	Socket      string            `json:"socket"`
	Device      Device            `json:"device"`
	Allocations []Allocation      `json:"allocations"`
	Tensors     []DescribedTensor `json:"tensors"`
	Note        string            `json:"note"`
}

// DescribedTensor is a Tensor as a descriptor shows it; a tensor that is
// not resident has no allocation, and its status says why.
type DescribedTensor struct {
	Tensor
	Status  string `json:"status"`
	Holders int    `json:"holders"`
}

const descriptorNote = "a snapshot: hold tensors over the socket (see docs/sharing.md) and map what the hold's reply names; pass these generations to have the hold check them"

// TensorDescriptor makes the tensor resident and renders its descriptor.
func (s *Server) TensorDescriptor(ctx context.Context, name string) ([]byte, error) {
	if _, ok := s.byName[name]; !ok {
		return nil, fmt.Errorf("share: no tensor %.200q", name)
	}
	h, err := s.cfg.Cache.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	h.Release()
	return s.render([]string{name})
}

// ModelDescriptor makes every tensor resident that fits and renders them
// all; tensors that could not be loaded are listed with their status.
func (s *Server) ModelDescriptor(ctx context.Context) ([]byte, error) {
	if err := s.cfg.Cache.LoadAll(ctx, s.all, nil); err != nil && ctx.Err() != nil {
		return nil, err
	}
	return s.render(s.all)
}

func (s *Server) render(names []string) ([]byte, error) {
	d := Descriptor{Version: ProtocolVersion, Socket: s.cfg.SocketPath, Device: s.device(),
		Allocations: []Allocation{}, Tensors: make([]DescribedTensor, 0, len(names)), Note: descriptorNote}
	seen := map[uint64]bool{}
	for _, name := range names {
		info := s.byName[name]
		dt := DescribedTensor{Tensor: Tensor{Name: name, Dtype: info.Dtype, Shape: info.Shape, NumpyShape: numpyShape(info.Shape)},
			Holders: s.cfg.Cache.Holders(name)}
		h, ok := s.cfg.Cache.Resident(name)
		if !ok {
			dt.Status = s.cfg.Cache.Status(name).String()
			d.Tensors = append(d.Tensors, dt)
			continue
		}
		p := h.Placement()
		dt.Tensor = s.describe(name, h, p)
		dt.Status = "resident"
		h.Release()
		d.Tensors = append(d.Tensors, dt)
		if p.Allocation == 0 || seen[p.Allocation] {
			continue
		}
		seen[p.Allocation] = true
		a := Allocation{ID: p.Allocation, Size: p.Size, FD: -1}
		if s.cfg.Exporter != nil {
			if ex, f, err := s.export(p); err == nil {
				// The mechanism only: what maps the allocation comes with
				// a hold, never from a snapshot.
				a.Mechanism = ex.Mechanism
				if f != nil {
					f.Close()
				}
			}
		}
		d.Allocations = append(d.Allocations, a)
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("share: rendering a descriptor: %w", err)
	}
	return append(b, '\n'), nil
}
