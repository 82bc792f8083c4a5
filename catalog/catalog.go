package catalog

import (
	"sort"
	"strings"
	"sync"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// Kind is the kind of a catalog object.
type Kind uint8

const (
	Source Kind = iota
	Table
	MaterializedView
	Sink
)

func (k Kind) String() string {
	return [...]string{"source", "table", "materialized view", "sink"}[k]
}

// Watermark is a source's or table's event-time declaration.
type Watermark struct {
	// Column is the index of the event-time column.
	Column int
	// Expr is the watermark expression as SQL text, e.g. "date_time - '00:00:05'::interval".
	Expr string
}

// Object is a catalog entry.
type Object struct {
	OID    uint32
	Kind   Kind
	Name   string
	Schema types.Schema
	// SQL is the statement that created the object.
	SQL string
	// DependsOn names the objects this one reads.
	DependsOn []string

	// Sources (and tables fed by a connector).
	Connector string
	Options   map[string]string
	Format    string // "PLAIN JSON", "" when none
	Watermark *Watermark

	// Tables. AppendOnly is also set on a materialized view whose rows are
	// never retracted (its plan is append-only: a filter or projection of a
	// source, an EMIT ON WINDOW CLOSE aggregation), so that what reads it
	// (an append-only sink, a view's min/max) may rely on that.
	PrimaryKey []int
	AppendOnly bool

	// Materialized views and sinks.
	Query             string
	EmitOnWindowClose bool

	// Sinks.
	SinkType string // "append-only" or "upsert"
}

// firstOID is where Sluice's object identifiers start: PostgreSQL reserves
// those below 16384 for its own catalog.
const firstOID = 16384

// Catalog is the set of objects of one instance; it is safe for concurrent
// use.
type Catalog struct {
	mu      sync.RWMutex
	objects map[string]*Object
	order   []string
	nextOID uint32
}

// New returns an empty catalog.
func New() *Catalog {
	return &Catalog{objects: make(map[string]*Object), nextOID: firstOID}
}

// Get returns the object named name.
func (c *Catalog) Get(name string) (*Object, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	o, ok := c.objects[name]
	return o, ok
}

// Add adds o, assigning its OID. Every object o depends on must exist.
func (c *Catalog) Add(o *Object) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.objects[o.Name]; ok {
		return pgerror.New(pgerror.DuplicateTable, "relation %q already exists", o.Name)
	}
	for _, d := range o.DependsOn {
		if _, ok := c.objects[d]; !ok {
			return pgerror.New(pgerror.UndefinedTable, "relation %q does not exist", d)
		}
	}
	if o.OID == 0 {
		o.OID = c.nextOID
	}
	// An OID given (an object recovered from storage) keeps its value, and
	// new objects never reuse it.
	c.nextOID = max(c.nextOID, o.OID+1)
	c.objects[o.Name] = o
	c.order = append(c.order, o.Name)
	return nil
}

// Dependents returns the objects that read name directly.
func (c *Catalog) Dependents(name string) []*Object {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.dependentsLocked(name)
}

func (c *Catalog) dependentsLocked(name string) []*Object {
	var out []*Object
	for _, n := range c.order {
		o := c.objects[n]
		for _, d := range o.DependsOn {
			if d == name {
				out = append(out, o)
				break
			}
		}
	}
	return out
}

// Drop removes the object named name. With cascade it also removes, first,
// everything that depends on it, transitively; without, a dependent is an
// error. It returns the removed objects, dependents before what they read.
func (c *Catalog) Drop(name string, kind Kind, cascade bool) ([]*Object, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.objects[name]
	if !ok {
		return nil, pgerror.New(pgerror.UndefinedTable, "%s %q does not exist", kind, name)
	}
	if o.Kind != kind {
		return nil, pgerror.New(pgerror.WrongObjectType, "%q is not a %s", name, kind).
			WithHint("Use DROP %s to remove a %s.", strings.ToUpper(o.Kind.String()), o.Kind)
	}
	var dropped []*Object
	visited := make(map[string]bool)
	var visit func(o *Object) error
	visit = func(o *Object) error {
		if visited[o.Name] {
			return nil
		}
		visited[o.Name] = true
		deps := c.dependentsLocked(o.Name)
		if len(deps) > 0 && !cascade {
			names := make([]string, len(deps))
			for i, d := range deps {
				names[i] = d.Kind.String() + " " + d.Name
			}
			return pgerror.New(pgerror.DependentObjectsStillExist, "cannot drop %s %s because other objects depend on it", o.Kind, o.Name).
				WithDetail("%s depends on %s %s", strings.Join(names, ", "), o.Kind, o.Name).
				WithHint("Use DROP ... CASCADE to drop the dependent objects too.")
		}
		for _, d := range deps {
			if err := visit(d); err != nil {
				return err
			}
		}
		dropped = append(dropped, o)
		return nil
	}
	if err := visit(o); err != nil {
		return nil, err
	}
	for _, d := range dropped {
		delete(c.objects, d.Name)
		for i, n := range c.order {
			if n == d.Name {
				c.order = append(c.order[:i], c.order[i+1:]...)
				break
			}
		}
	}
	return dropped, nil
}

// List returns the objects of kind, sorted by name.
func (c *Catalog) List(kind Kind) []*Object {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []*Object
	for _, o := range c.objects {
		if o.Kind == kind {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// All returns every object in creation order.
func (c *Catalog) All() []*Object {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*Object, len(c.order))
	for i, n := range c.order {
		out[i] = c.objects[n]
	}
	return out
}
