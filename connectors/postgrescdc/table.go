package postgrescdc

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// upstreamColumn is a column of the captured table, as the catalog says.
type upstreamColumn struct {
	name     string
	typeOID  uint32 // the column's type, or a domain's base type
	typeName string // format_type's name, for messages
}

// tableInfo is what the catalog says about the captured table.
type tableInfo struct {
	columns []upstreamColumn
	key     []string // the primary key's columns, in index order
}

// connect opens a normal connection with the session settings that make
// PostgreSQL's text output read back as types.ParseText expects.
func connect(ctx context.Context, s settings) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(s.dsn)
	if err != nil {
		return nil, err
	}
	setSessionParams(cfg.RuntimeParams)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, connectError(s, err)
	}
	return conn, nil
}

// connectReplication opens a replication connection (replication=database)
// with the same session settings; pgoutput prints values with them.
func connectReplication(ctx context.Context, s settings) (*pgconn.PgConn, error) {
	cfg, err := pgconn.ParseConfig(s.dsn)
	if err != nil {
		return nil, err
	}
	setSessionParams(cfg.RuntimeParams)
	cfg.RuntimeParams["replication"] = "database"
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, connectError(s, err)
	}
	return conn, nil
}

func setSessionParams(p map[string]string) {
	p["TimeZone"] = "UTC"
	p["DateStyle"] = "ISO, MDY"
	p["IntervalStyle"] = "postgres"
	p["extra_float_digits"] = "3"
	p["bytea_output"] = "hex"
	p["application_name"] = "sluice postgres-cdc"
}

func connectError(s settings, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgerror.New(pgErr.Code, "postgres-cdc: connecting to %s: %s", s.where, pgErr.Message)
	}
	return pgerror.New(pgerror.ConnectionException, "postgres-cdc: cannot connect to %s: %s", s.where, redact(err))
}

// checkWALLevel refuses a server that cannot decode changes.
func checkWALLevel(ctx context.Context, conn *pgx.Conn, s settings) error {
	var level string
	if err := conn.QueryRow(ctx, "SHOW wal_level").Scan(&level); err != nil {
		return fmt.Errorf("postgres-cdc: %s: SHOW wal_level: %w", s.where, err)
	}
	if level != "logical" {
		return pgerror.New(pgerror.ObjectNotInPrerequisiteState,
			"postgres-cdc: %s has wal_level = %s; logical replication needs wal_level = logical", s.where, level).
			WithHint("Run ALTER SYSTEM SET wal_level = logical on the server and restart it.")
	}
	return nil
}

// describe reads the table's columns and primary key from the catalog and
// checks that changes to it can be captured: it exists, is a plain table,
// has a primary key and a replica identity that sends that key.
func describe(ctx context.Context, conn *pgx.Conn, s settings) (tableInfo, error) {
	var info tableInfo
	name := s.schema + "." + s.table
	var (
		oid       uint32
		replident string
		relkind   string
	)
	err := conn.QueryRow(ctx, `SELECT c.oid, c.relreplident::text, c.relkind::text
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relname = $2`, s.schema, s.table).Scan(&oid, &replident, &relkind)
	if errors.Is(err, pgx.ErrNoRows) {
		return info, pgerror.New(pgerror.UndefinedTable,
			"postgres-cdc: table %s does not exist in database %s", name, s.where).
			WithHint("Check the options %s and %s; names are case-sensitive here.", optSchema, optTable)
	}
	if err != nil {
		return info, fmt.Errorf("postgres-cdc: %s: reading the catalog: %w", s.where, err)
	}
	if relkind != "r" {
		return info, pgerror.New(pgerror.WrongObjectType,
			"postgres-cdc: %s is not a plain table (relkind %s); only plain tables can be captured", name, relkind)
	}
	rows, err := conn.Query(ctx, `SELECT a.attname,
			CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END,
			format_type(a.atttypid, a.atttypmod)
		FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
		WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, oid)
	if err != nil {
		return info, fmt.Errorf("postgres-cdc: %s: reading the columns of %s: %w", s.where, name, err)
	}
	for rows.Next() {
		var c upstreamColumn
		if err := rows.Scan(&c.name, &c.typeOID, &c.typeName); err != nil {
			return info, err
		}
		info.columns = append(info.columns, c)
	}
	if err := rows.Err(); err != nil {
		return info, fmt.Errorf("postgres-cdc: %s: reading the columns of %s: %w", s.where, name, err)
	}
	rows, err = conn.Query(ctx, `SELECT a.attname
		FROM pg_index i
		CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
		WHERE i.indrelid = $1 AND i.indisprimary
		ORDER BY k.ord`, oid)
	if err != nil {
		return info, fmt.Errorf("postgres-cdc: %s: reading the primary key of %s: %w", s.where, name, err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return info, err
		}
		info.key = append(info.key, k)
	}
	if err := rows.Err(); err != nil {
		return info, fmt.Errorf("postgres-cdc: %s: reading the primary key of %s: %w", s.where, name, err)
	}
	if len(info.key) == 0 {
		return info, pgerror.New(pgerror.ObjectNotInPrerequisiteState,
			"postgres-cdc: table %s has no primary key; change data capture needs one to identify rows", name).
			WithHint("Add a primary key to the table upstream.")
	}
	// DEFAULT sends the primary key of deleted and re-keyed rows, FULL the
	// whole old row; NOTHING and USING INDEX may not send the primary key.
	if replident != "d" && replident != "f" {
		return info, pgerror.New(pgerror.ObjectNotInPrerequisiteState,
			"postgres-cdc: table %s has a replica identity that does not send its primary key", name).
			WithHint("Run ALTER TABLE %s REPLICA IDENTITY DEFAULT (or FULL).", name)
	}
	return info, nil
}

func (t tableInfo) column(name string) (upstreamColumn, bool) {
	for _, c := range t.columns {
		if c.name == name {
			return c, true
		}
	}
	return upstreamColumn{}, false
}

// check matches the Sluice table's columns with the upstream table's: every
// primary key column upstream must be a column of the Sluice table, and
// every Sluice column must exist upstream with a type whose text form it
// can read.
func (t tableInfo) check(schema types.Schema, s settings) error {
	if err := t.checkKey(schema, s); err != nil {
		return err
	}
	name := s.schema + "." + s.table
	for _, c := range schema {
		up, ok := t.column(c.Name)
		if !ok {
			return pgerror.New(pgerror.UndefinedColumn,
				"postgres-cdc: column %q does not exist in %s", c.Name, name)
		}
		if err := compatible(up, c); err != nil {
			return err
		}
	}
	return nil
}

// checkKey checks that the upstream primary key's columns are columns of
// the Sluice table, so that every change can be keyed.
func (t tableInfo) checkKey(schema types.Schema, s settings) error {
	name := s.schema + "." + s.table
	for _, k := range t.key {
		if schema.Index(k) < 0 {
			return pgerror.New(pgerror.UndefinedColumn,
				"postgres-cdc: column %q of the primary key of %s is not a column of the table", k, name).
				WithHint("Declare the upstream primary key (%s) as the table's primary key.", strings.Join(t.key, ", "))
		}
	}
	return nil
}

// compatible reports whether values of an upstream column, in PostgreSQL's
// text form, can be read into a Sluice column: any type into TEXT or
// VARCHAR (its text form), the same type, or a lossless widening.
func compatible(up upstreamColumn, c types.Column) error {
	if c.Type == types.Text || c.Type == types.Varchar {
		return nil
	}
	nat, ok := upstreamType(up.typeOID)
	if !ok {
		return pgerror.New(pgerror.FeatureNotSupported,
			"postgres-cdc: upstream column %q has type %s, which can only be read into a TEXT or VARCHAR column, not %s",
			up.name, up.typeName, c.Type)
	}
	if nat == c.Type || widens(nat, c.Type) {
		return nil
	}
	return pgerror.New(pgerror.DatatypeMismatch,
		"postgres-cdc: upstream column %q has type %s, which cannot be read into a column of type %s",
		up.name, up.typeName, c.Type)
}

// upstreamType is the Sluice type that holds values of an upstream type.
func upstreamType(oid uint32) (types.T, bool) {
	switch oid {
	case 1042, 19: // bpchar, name
		return types.Text, true
	case 2950: // uuid
		return types.Text, true
	}
	t, ok := types.FromOID(oid)
	if ok && t.IsCatalog() && !t.IsArray() {
		return types.Unknown, false // system catalog types stay upstream
	}
	return t, ok
}

// widens reports whether every value of from is exactly a value of to.
// NUMERIC is stored as a double in Sluice, so the two read each other.
func widens(from, to types.T) bool {
	switch from {
	case types.Int2:
		return to == types.Int4 || to == types.Int8 || to == types.Numeric || to == types.Float8 || to == types.Float4
	case types.Int4:
		return to == types.Int8 || to == types.Numeric || to == types.Float8
	case types.Int8:
		return to == types.Numeric
	case types.Float4:
		return to == types.Float8 || to == types.Numeric
	case types.Float8:
		return to == types.Numeric
	case types.Numeric:
		return to == types.Float8
	}
	return false
}

// ensurePublication checks that the publication exists and publishes the
// table's inserts, updates and deletes, creating it when allowed.
func ensurePublication(ctx context.Context, conn *pgx.Conn, s settings) error {
	name := s.schema + "." + s.table
	for attempt := 0; ; attempt++ {
		var exists, hasTable, publishes bool
		err := conn.QueryRow(ctx, `SELECT
				EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1),
				EXISTS (SELECT 1 FROM pg_publication_tables WHERE pubname = $1 AND schemaname = $2 AND tablename = $3),
				COALESCE((SELECT pubinsert AND pubupdate AND pubdelete FROM pg_publication WHERE pubname = $1), false)`,
			s.publication, s.schema, s.table).Scan(&exists, &hasTable, &publishes)
		if err != nil {
			return fmt.Errorf("postgres-cdc: %s: reading publication %s: %w", s.where, s.publication, err)
		}
		switch {
		case exists && !hasTable:
			return pgerror.New(pgerror.ObjectNotInPrerequisiteState,
				"postgres-cdc: publication %s exists but does not publish %s", s.publication, name).
				WithHint("Run ALTER PUBLICATION %s ADD TABLE %s, or name another publication.",
					pgx.Identifier{s.publication}.Sanitize(), pgx.Identifier{s.schema, s.table}.Sanitize())
		case exists && !publishes:
			return pgerror.New(pgerror.ObjectNotInPrerequisiteState,
				"postgres-cdc: publication %s does not publish all of inserts, updates and deletes", s.publication).
				WithHint("Run ALTER PUBLICATION %s SET (publish = 'insert, update, delete').",
					pgx.Identifier{s.publication}.Sanitize())
		case exists:
			return nil
		case !s.createPub:
			return pgerror.New(pgerror.UndefinedObject,
				"postgres-cdc: publication %s does not exist and %s is false", s.publication, optPublicationCreate).
				WithHint("Run CREATE PUBLICATION %s FOR TABLE %s.",
					pgx.Identifier{s.publication}.Sanitize(), pgx.Identifier{s.schema, s.table}.Sanitize())
		}
		// TRUNCATE is not published: a table fed by key-wise changes
		// cannot apply it (see the package documentation).
		_, err = conn.Exec(ctx, fmt.Sprintf("CREATE PUBLICATION %s FOR TABLE %s WITH (publish = 'insert, update, delete')",
			pgx.Identifier{s.publication}.Sanitize(), pgx.Identifier{s.schema, s.table}.Sanitize()))
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == pgerror.DuplicateObject && attempt == 0 {
			continue // created meanwhile by another reader: check it
		}
		if err != nil {
			return fmt.Errorf("postgres-cdc: %s: creating publication %s: %w", s.where, s.publication, err)
		}
		return nil
	}
}

// slotState is a replication slot as pg_replication_slots shows it.
type slotState struct {
	exists    bool
	active    bool
	plugin    string
	database  string
	confirmed pglogrepl.LSN // confirmed_flush_lsn, 0 when null
}

func readSlot(ctx context.Context, conn *pgx.Conn, s settings) (slotState, error) {
	var st slotState
	var plugin, database *string
	var confirmed *string
	err := conn.QueryRow(ctx, `SELECT active, plugin, database, confirmed_flush_lsn::text
		FROM pg_replication_slots WHERE slot_name = $1`, s.slot).Scan(&st.active, &plugin, &database, &confirmed)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("postgres-cdc: %s: reading replication slot %s: %w", s.where, s.slot, err)
	}
	st.exists = true
	if plugin != nil {
		st.plugin = *plugin
	}
	if database != nil {
		st.database = *database
	}
	if confirmed != nil {
		lsn, err := pglogrepl.ParseLSN(*confirmed)
		if err != nil {
			return st, fmt.Errorf("postgres-cdc: slot %s: %w", s.slot, err)
		}
		st.confirmed = lsn
	}
	return st, nil
}
