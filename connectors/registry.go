package connectors

import (
	"fmt"
	"sort"
	"strings"
)

// Registry is the explicit list of connectors a server knows. It is built
// once by whoever assembles the server (tests build their own), so that no
// connector registers itself through package state.
type Registry struct {
	byName map[string]Connector // keyed by lower-case name
	sorted []Connector
}

// NewRegistry lists cs. Connector names are compared case-insensitively; an
// empty or repeated name is a mistake in the program, not in user input, so
// it panics.
func NewRegistry(cs ...Connector) *Registry {
	r := &Registry{byName: make(map[string]Connector, len(cs))}
	for _, c := range cs {
		key := strings.ToLower(c.Name)
		if key == "" {
			panic("connectors: connector without a name")
		}
		if _, dup := r.byName[key]; dup {
			panic(fmt.Sprintf("connectors: connector %q listed twice", c.Name))
		}
		r.byName[key] = c
		r.sorted = append(r.sorted, c)
	}
	sort.Slice(r.sorted, func(i, j int) bool { return r.sorted[i].Name < r.sorted[j].Name })
	return r
}

// Lookup returns the connector whose Name is name, ignoring case.
func (r *Registry) Lookup(name string) (Connector, bool) {
	c, ok := r.byName[strings.ToLower(name)]
	return c, ok
}

// All returns every connector, sorted by name. The slice is the caller's.
func (r *Registry) All() []Connector {
	return append([]Connector(nil), r.sorted...)
}

// Names returns the connector names, sorted, for error messages that list the
// known connectors.
func (r *Registry) Names() []string {
	names := make([]string, len(r.sorted))
	for i, c := range r.sorted {
		names[i] = c.Name
	}
	return names
}
