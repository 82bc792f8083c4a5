package engine

import (
	"context"
	"maps"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/pgcatalog"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/plan"
)

// The system catalog in queries: the rows of pg_catalog and
// information_schema relations, and the catalog the system information
// functions read (expr.EvalContext.Catalog), both from one
// pgcatalog.Snapshot per statement, made only when the statement uses
// them.

// sessionKey is the context key of the session a statement runs for.
type sessionKey struct{}

// withSession records in ctx the session a statement runs for, whose user,
// database and settings the system catalog shows.
func withSession(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// systemCatalog is the statement's pgcatalog.Snapshot, made on first use.
type systemCatalog struct {
	once sync.Once
	make func() *pgcatalog.Snapshot
	snap *pgcatalog.Snapshot
}

func (c *systemCatalog) get() *pgcatalog.Snapshot {
	c.once.Do(func() { c.snap = c.make() })
	return c.snap
}

var _ expr.SystemCatalog = (*systemCatalog)(nil)

func (c *systemCatalog) Setting(name string) (string, bool) { return c.get().Setting(name) }
func (c *systemCatalog) User() string                       { return c.get().User() }
func (c *systemCatalog) Database() string                   { return c.get().Database() }
func (c *systemCatalog) ObjectName(class string, oid int64) (string, bool) {
	return c.get().ObjectName(class, oid)
}
func (c *systemCatalog) ObjectOID(class, name string) (int64, error) {
	return c.get().ObjectOID(class, name)
}
func (c *systemCatalog) Visible(class string, oid int64) bool { return c.get().Visible(class, oid) }
func (c *systemCatalog) Definition(kind string, oid int64) (string, bool) {
	return c.get().Definition(kind, oid)
}
func (c *systemCatalog) Description(class string, oid int64, subid int32) (string, bool) {
	return c.get().Description(class, oid, subid)
}

// systemCatalogFor returns the system catalog of a statement running with
// ctx: its session's (see withSession), or a session of the engine's
// defaults for statements that run on behalf of no client.
func (e *Engine) systemCatalogFor(ctx context.Context) *systemCatalog {
	info := pgcatalog.Session{User: "sluice", Database: "sluice", Settings: defaultSettings(e.opts.Version)}
	if s, ok := ctx.Value(sessionKey{}).(*Session); ok {
		info.Settings = maps.Clone(s.settings)
		if s.client.User != "" {
			info.User = s.client.User
		}
		if s.client.Database != "" {
			info.Database = s.client.Database
		}
	}
	return &systemCatalog{make: func() *pgcatalog.Snapshot { return pgcatalog.NewSnapshot(e.cat.All(), info) }}
}

// systemRows returns the rows of a system relation.
func (e *Engine) systemRows(sys *systemCatalog, scan *plan.Scan) ([]arrow.Record, error) {
	for _, r := range pgcatalog.Relations() {
		if r.QualifiedName() == scan.Relation {
			return []arrow.Record{sys.get().Record(e.alloc, r)}, nil
		}
	}
	return nil, pgerror.New(pgerror.UndefinedTable, "relation %q does not exist", scan.Relation)
}
