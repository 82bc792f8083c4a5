package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// progressTable records, per sink and target table, the last epoch
// committed; it lives in the target's schema and is written in the same
// transaction as each epoch's rows.
const progressTable = "sluice_sink_progress"

// OIDs of PostgreSQL types that Sluice has no type for but that can take
// one of its columns.
const (
	oidBpchar = 1042 // character(n)
)

// tableColumn is a column of the target table, as the catalog has it.
type tableColumn struct {
	name      string
	typ       uint32 // the type's OID; a domain's base type
	typName   string // format_type, with the modifier
	notNull   bool
	hasDef    bool // a default, an identity or a generated column
	generated bool
}

// target is the table a sink writes, quoted for SQL.
type target struct {
	schema, table string
	ident         string // "schema"."table"
}

func newTarget(schema, table string) target {
	return target{schema: schema, table: table, ident: pgx.Identifier{schema, table}.Sanitize()}
}

func (t target) String() string { return t.schema + "." + t.table }

// columns reads the target table's columns; ok is false when there is no
// such table.
func (t target) columns(ctx context.Context, conn *pgx.Conn) (cols []tableColumn, ok bool, err error) {
	var kind string
	err = conn.QueryRow(ctx, `
		SELECT c.relkind::text FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relname = $2`, t.schema, t.table).Scan(&kind)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, serverError(err, "look up table %s", t)
	}
	switch kind {
	case "r", "p", "f": // a table, a partitioned table, a foreign table
	default:
		return nil, false, pgerror.New(pgerror.WrongObjectType,
			"%s is not a table (pg_class.relkind %q): a postgres sink writes into a table", t, kind)
	}
	rows, err := conn.Query(ctx, `
		SELECT a.attname, CASE WHEN ty.typtype = 'd' THEN ty.typbasetype ELSE a.atttypid END,
		       pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
		       a.atthasdef OR a.attidentity <> '', a.attgenerated <> ''
		FROM pg_catalog.pg_attribute a
		JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
		WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, t.ident)
	if err != nil {
		return nil, false, serverError(err, "read the columns of %s", t)
	}
	for rows.Next() {
		var c tableColumn
		if err := rows.Scan(&c.name, &c.typ, &c.typName, &c.notNull, &c.hasDef, &c.generated); err != nil {
			rows.Close()
			return nil, false, serverError(err, "read the columns of %s", t)
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, false, serverError(err, "read the columns of %s", t)
	}
	return cols, true, nil
}

// check refuses a table that cannot take the sink's rows: a missing column,
// a column whose type cannot hold the sink's values, a NOT NULL column the
// sink does not write, or, for an upsert sink, no unique index on the key.
func (t target) check(ctx context.Context, conn *pgx.Conn, schema types.Schema, key []int, cols []tableColumn) error {
	byName := make(map[string]*tableColumn, len(cols))
	for i := range cols {
		byName[cols[i].name] = &cols[i]
	}
	for _, sc := range schema {
		tc, ok := byName[sc.Name]
		if !ok {
			return pgerror.New(pgerror.UndefinedColumn,
				"column %q of the sink does not exist in table %s", sc.Name, t).
				WithHint("Add it with ALTER TABLE %s ADD COLUMN %s %s.", t.ident, pgx.Identifier{sc.Name}.Sanitize(), columnType(sc.Type))
		}
		if tc.generated {
			return pgerror.New(pgerror.InvalidColumnReference,
				"column %q of table %s is a generated column, which the sink cannot write", sc.Name, t)
		}
		if !accepts(tc.typ, sc.Type) {
			return pgerror.New(pgerror.DatatypeMismatch,
				"column %q of table %s is of type %s, which cannot take the sink's %s", sc.Name, t, tc.typName, sc.Type).
				WithHint("Make the column %s, or cast the sink's column in its query.", columnType(sc.Type))
		}
	}
	for _, tc := range cols {
		if tc.notNull && !tc.hasDef && schema.Index(tc.name) < 0 {
			return pgerror.New(pgerror.NotNullViolation,
				"column %q of table %s is NOT NULL without a default, and the sink has no such column", tc.name, t)
		}
	}
	if len(key) == 0 {
		return nil
	}
	keyNames := make([]string, len(key))
	for i, k := range key {
		keyNames[i] = schema[k].Name
	}
	// ON CONFLICT (key) needs a unique index on exactly those columns, not
	// partial and not deferred (arbiter indexes cannot be).
	var found bool
	err := conn.QueryRow(ctx, `
		SELECT EXISTS (
			SELECT 1 FROM pg_catalog.pg_index i
			WHERE i.indrelid = $1::regclass AND i.indisunique AND i.indimmediate
			  AND i.indpred IS NULL AND i.indexprs IS NULL
			  AND (SELECT array_agg(a.attname::text ORDER BY a.attname)
			       FROM pg_catalog.pg_attribute a
			       WHERE a.attrelid = i.indrelid
			         AND a.attnum = ANY((i.indkey::int2[])[0:i.indnkeyatts - 1]))
			      = (SELECT array_agg(k ORDER BY k) FROM unnest($2::text[]) k)
			  AND i.indnkeyatts = cardinality($2::text[]))`, t.ident, keyNames).Scan(&found)
	if err != nil {
		return serverError(err, "read the indexes of %s", t)
	}
	if !found {
		return pgerror.New(pgerror.InvalidColumnReference,
			"table %s has no unique index or primary key on (%s), which an upsert sink needs", t, strings.Join(keyNames, ", ")).
			WithHint("Add one with ALTER TABLE %s ADD PRIMARY KEY (%s).", t.ident, identList(keyNames))
	}
	return nil
}

// create creates the target table with the sink's columns, and a primary key
// on key when there is one.
func (t target) create(ctx context.Context, conn *pgx.Conn, schema types.Schema, key []int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (", t.ident)
	for i, c := range schema {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", pgx.Identifier{c.Name}.Sanitize(), columnType(c.Type))
	}
	if len(key) > 0 {
		names := make([]string, len(key))
		for i, k := range key {
			names[i] = schema[k].Name
		}
		fmt.Fprintf(&b, ", PRIMARY KEY (%s)", identList(names))
	}
	b.WriteString(")")
	if err := createIfMissing(ctx, conn, b.String()); err != nil {
		return serverError(err, "create table %s", t)
	}
	return nil
}

// createProgress creates the progress table in the target's schema if it
// is missing.
func (t target) createProgress(ctx context.Context, conn *pgx.Conn) error {
	sql := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
		sink_name text NOT NULL,
		table_name text NOT NULL,
		epoch bigint NOT NULL,
		committed_at timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (sink_name, table_name))`, t.progressIdent())
	if err := createIfMissing(ctx, conn, sql); err != nil {
		return serverError(err, "create the progress table %s.%s", t.schema, progressTable)
	}
	return nil
}

func (t target) progressIdent() string {
	return pgx.Identifier{t.schema, progressTable}.Sanitize()
}

// createIfMissing runs a CREATE TABLE IF NOT EXISTS. Two sessions creating
// the same table at once can both pass the IF NOT EXISTS and one then fails
// on a catalog unique index: the table exists, which is all that is asked.
func createIfMissing(ctx context.Context, conn *pgx.Conn, sql string) error {
	_, err := conn.Exec(ctx, sql)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == pgerror.UniqueViolation || pe.Code == pgerror.DuplicateTable) {
		return nil
	}
	return err
}

// columnType is the PostgreSQL type a column of type t is created with.
func columnType(t types.T) string {
	if t == types.Unknown {
		return "text"
	}
	return t.String()
}

// accepts reports whether a column of PostgreSQL type oid can take the text
// form of every value of Sluice type t without loss: the same type, or a
// wider one.
func accepts(oid uint32, t types.T) bool {
	if oid == t.OID() {
		return true
	}
	var ok []uint32
	switch t {
	case types.Int2:
		ok = []uint32{types.OIDInt4, types.OIDInt8, types.OIDNumeric, types.OIDFloat4, types.OIDFloat8}
	case types.Int4:
		ok = []uint32{types.OIDInt8, types.OIDNumeric, types.OIDFloat8}
	case types.Int8:
		ok = []uint32{types.OIDNumeric}
	case types.Float4:
		ok = []uint32{types.OIDFloat8, types.OIDNumeric}
	case types.Float8:
		ok = []uint32{types.OIDNumeric}
	case types.Numeric:
		// Sluice's numeric is a float64, so double precision holds it.
		ok = []uint32{types.OIDFloat8}
	case types.Text, types.Varchar, types.Unknown:
		ok = []uint32{types.OIDText, types.OIDVarchar, oidBpchar}
	case types.JSONB:
		ok = []uint32{types.OIDJSON, types.OIDText, types.OIDVarchar}
	case types.Date:
		ok = []uint32{types.OIDTimestamp}
	}
	return slices.Contains(ok, oid)
}

func identList(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = pgx.Identifier{n}.Sanitize()
	}
	return strings.Join(quoted, ", ")
}

// serverError wraps err, met while doing what the format says, keeping the
// server's SQLSTATE when it sent one.
func serverError(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		e := pgerror.New(pe.Code, "%s: %s", what, pe.Message)
		e.Detail, e.Hint = pe.Detail, pe.Hint
		return e
	}
	var se *pgerror.Error
	if errors.As(err, &se) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return pgerror.New(pgerror.ConnectionException, "%s: %v", what, err)
}
