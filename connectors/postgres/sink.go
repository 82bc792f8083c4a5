package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// maxParams is the most parameters PostgreSQL takes in one statement.
const maxParams = 65535

// maxPendingBytes bounds the text held for one statement, whatever
// batch.rows says, so that wide rows do not make huge statements.
const maxPendingBytes = 4 << 20

// Sink writes a view's changes into a PostgreSQL table, an epoch per
// transaction. See the package documentation.
type Sink struct {
	name      string
	target    target
	schema    types.Schema
	escape    []bool // per column: its text may need COPY escaping
	upsert    bool
	key       []int
	batchRows int

	conn *pgx.Conn
	tx   pgx.Tx // the open epoch's transaction; nil before its first row
	// failed is the error that ended the open epoch's transaction; every
	// call but Close returns it until the sink is closed and opened again.
	failed error

	// Append-only: COPY text of the rows not sent yet.
	copySQL  string
	copyBuf  []byte
	copyRows int
	reader   bytes.Reader

	// Upsert: the run of same-kind changes not sent yet, and the keys of
	// its inserts (a statement must not upsert one key twice).
	run        run
	seen       map[uint64]struct{}
	seed       maphash.Seed
	hash       maphash.Hash
	params     [][]byte
	insertRows int // rows per INSERT: batch.rows within maxParams
	deleteRows int
	insertHead string // INSERT INTO t (cols) VALUES
	insertTail string // ON CONFLICT ...
	deleteHead string // DELETE FROM t WHERE (key) IN (
	fullInsert string // the statement for a full run, built once
	fullDelete string

	progressSQL string
}

var (
	_ connectors.Sink          = (*Sink)(nil)
	_ connectors.EpochRecorder = (*Sink)(nil)
)

// run is a sequence of changes of one kind, as PostgreSQL text: vals holds
// one span per value (every column for an insert, the key columns for a
// delete), each a slice of buf.
type run struct {
	kind connectors.RowKind
	rows int
	buf  []byte
	vals []span
}

// span is buf[start:end]; start < 0 is NULL.
type span struct{ start, end int }

func (r *run) reset() {
	r.rows, r.buf, r.vals = 0, r.buf[:0], r.vals[:0]
}

// NewSink checks the configuration, connects, and checks the target table
// against the sink's columns, creating it with auto.create. An unreachable
// server is an error here (08000), as for the Kafka sink: CREATE SINK fails,
// while at start-up the engine retries.
func NewSink(ctx context.Context, cfg connectors.SinkConfig) (*Sink, error) {
	o := cfg.Options
	s := &Sink{name: cfg.Name, schema: cfg.Schema, seed: maphash.MakeSeed()}
	switch cfg.Type {
	case typeAppendOnly:
	case typeUpsert:
		s.upsert = true
		if len(cfg.PrimaryKey) == 0 {
			return nil, pgerror.New(pgerror.InvalidParameterValue,
				"an upsert sink needs a primary key: set primary_key to the columns that identify a row")
		}
		s.key = cfg.PrimaryKey
	default:
		return nil, pgerror.New(pgerror.InvalidParameterValue,
			"connector postgres supports sink types %s and %s, not %q", typeAppendOnly, typeUpsert, cfg.Type)
	}
	if len(cfg.Schema) == 0 {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "a postgres sink needs at least one column")
	}
	seen := make(map[string]bool, len(cfg.Schema))
	s.escape = make([]bool, len(cfg.Schema))
	for i, c := range cfg.Schema {
		if c.Type == types.Null {
			return nil, pgerror.New(pgerror.DatatypeMismatch,
				"column %q of the sink has no type (a bare NULL): cast it in the sink's query", c.Name)
		}
		if seen[c.Name] {
			return nil, pgerror.New(pgerror.DuplicateColumn,
				"the sink has two columns named %q: name them apart in its query", c.Name)
		}
		seen[c.Name] = true
		switch c.Type.Physical() {
		case types.Text, types.Varchar, types.JSONB, types.Unknown, types.Bytea:
			s.escape[i] = true
		}
	}
	table := o.String(optTable)
	if table == "" {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q is required for connector postgres", optTable)
	}
	schemaName := o.String(optSchema)
	if schemaName == "" {
		schemaName = "public"
	}
	s.target = newTarget(schemaName, table)
	autoCreate := false
	if o.String(optAutoCreate) != "" {
		var err error
		if autoCreate, err = o.Bool(optAutoCreate); err != nil {
			return nil, err
		}
	}
	s.batchRows = 1000
	if o.String(optBatchRows) != "" {
		n, err := o.Int(optBatchRows)
		if err != nil {
			return nil, err
		}
		if n < 1 || n > 1_000_000 {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must be between 1 and 1000000", optBatchRows)
		}
		s.batchRows = int(n)
	}
	connStr, err := connString(o)
	if err != nil {
		return nil, err
	}
	pcfg, err := pgx.ParseConfig(connStr)
	if err != nil {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "postgres connection options: %v", err)
	}
	// Values go as PostgreSQL's text forms, which these settings make
	// unambiguous whatever the server's defaults are.
	pcfg.RuntimeParams["timezone"] = "UTC"
	pcfg.RuntimeParams["datestyle"] = "ISO, MDY"
	pcfg.RuntimeParams["intervalstyle"] = "postgres"
	if pcfg.RuntimeParams["application_name"] == "" {
		pcfg.RuntimeParams["application_name"] = "sluice"
	}
	if s.conn, err = pgx.ConnectConfig(ctx, pcfg); err != nil {
		return nil, connectError(ctx, where(connStr), err)
	}
	if err := s.prepare(ctx, autoCreate); err != nil {
		s.conn.Close(context.Background())
		return nil, err
	}
	s.statements()
	return s, nil
}

// prepare checks (or creates) the target table and the progress table.
func (s *Sink) prepare(ctx context.Context, autoCreate bool) error {
	cols, ok, err := s.target.columns(ctx, s.conn)
	if err != nil {
		return err
	}
	if !ok {
		if !autoCreate {
			return pgerror.New(pgerror.UndefinedTable, "table %s does not exist", s.target).
				WithHint("Create it, or set auto.create = 'true' to have the sink create it from its columns.")
		}
		if err := s.target.create(ctx, s.conn, s.schema, s.key); err != nil {
			return err
		}
		if cols, ok, err = s.target.columns(ctx, s.conn); err != nil {
			return err
		} else if !ok {
			return pgerror.New(pgerror.UndefinedTable, "table %s does not exist after creating it", s.target)
		}
	}
	if err := s.target.check(ctx, s.conn, s.schema, s.key, cols); err != nil {
		return err
	}
	// Creating a table needs the CREATE privilege on the schema even when
	// it exists: look first.
	var exists bool
	if err := s.conn.QueryRow(ctx, "SELECT pg_catalog.to_regclass($1) IS NOT NULL", s.target.progressIdent()).Scan(&exists); err != nil {
		return serverError(err, "look up the progress table")
	}
	if !exists {
		return s.target.createProgress(ctx, s.conn)
	}
	return nil
}

// statements builds the SQL the sink runs.
func (s *Sink) statements() {
	names := make([]string, len(s.schema))
	for i, c := range s.schema {
		names[i] = c.Name
	}
	cols := identList(names)
	s.copySQL = fmt.Sprintf("COPY %s (%s) FROM STDIN", s.target.ident, cols)
	s.progressSQL = fmt.Sprintf(`INSERT INTO %[1]s AS p (sink_name, table_name, epoch) VALUES ($1, $2, $3)
		ON CONFLICT (sink_name, table_name) DO UPDATE SET epoch = excluded.epoch, committed_at = now()
		WHERE p.epoch < excluded.epoch`, s.target.progressIdent())
	if !s.upsert {
		return
	}
	keyNames := make([]string, len(s.key))
	isKey := make([]bool, len(s.schema))
	for i, k := range s.key {
		keyNames[i] = s.schema[k].Name
		isKey[k] = true
	}
	s.insertHead = fmt.Sprintf("INSERT INTO %s (%s) VALUES ", s.target.ident, cols)
	var set []string
	for i, c := range s.schema {
		if !isKey[i] {
			id := pgx.Identifier{c.Name}.Sanitize()
			set = append(set, id+" = excluded."+id)
		}
	}
	if len(set) == 0 {
		s.insertTail = fmt.Sprintf(" ON CONFLICT (%s) DO NOTHING", identList(keyNames))
	} else {
		s.insertTail = fmt.Sprintf(" ON CONFLICT (%s) DO UPDATE SET %s", identList(keyNames), strings.Join(set, ", "))
	}
	if len(s.key) == 1 {
		s.deleteHead = fmt.Sprintf("DELETE FROM %s WHERE %s IN (", s.target.ident, identList(keyNames))
	} else {
		s.deleteHead = fmt.Sprintf("DELETE FROM %s WHERE (%s) IN (", s.target.ident, identList(keyNames))
	}
	s.insertRows = min(s.batchRows, maxParams/len(s.schema))
	s.deleteRows = min(s.batchRows, maxParams/len(s.key))
	s.seen = make(map[uint64]struct{})
}

// Write adds the batch's changes to the open epoch's transaction, sending
// them as full statements accumulate.
func (s *Sink) Write(ctx context.Context, b connectors.SinkBatch) error {
	if s.failed != nil {
		return s.failed
	}
	rec := b.Record
	if rec == nil || rec.NumRows() == 0 {
		return nil
	}
	n := int(rec.NumRows())
	if int(rec.NumCols()) != len(s.schema) {
		return fmt.Errorf("postgres sink %s: a batch of %d columns for %d", s.name, rec.NumCols(), len(s.schema))
	}
	if b.Kinds != nil && len(b.Kinds) != n {
		return fmt.Errorf("postgres sink %s: %d kinds for %d rows", s.name, len(b.Kinds), n)
	}
	if s.tx == nil {
		tx, err := s.conn.Begin(ctx)
		if err != nil {
			return s.fail(serverError(err, "postgres sink %s: begin", s.name))
		}
		s.tx = tx
	}
	cols := rec.Columns()
	for i := 0; i < n; i++ {
		kind := connectors.RowInsert
		if b.Kinds != nil {
			kind = b.Kinds[i]
		}
		var err error
		switch {
		case !s.upsert && kind == connectors.RowDelete:
			return s.fail(fmt.Errorf("postgres sink %s: an append-only sink received a delete (row %d)", s.name, i))
		case !s.upsert:
			err = s.addCopy(ctx, cols, i)
		default:
			err = s.addChange(ctx, kind, cols, i)
		}
		if err != nil {
			return s.fail(err)
		}
	}
	return nil
}

// addCopy appends row i to the COPY text, sending it when full.
func (s *Sink) addCopy(ctx context.Context, cols []arrow.Array, i int) error {
	buf := s.copyBuf
	for c, arr := range cols {
		if c > 0 {
			buf = append(buf, '\t')
		}
		if arr.IsNull(i) {
			buf = append(buf, '\\', 'N')
			continue
		}
		start := len(buf)
		buf = types.AppendText(buf, arr, i, s.schema[c].Type)
		if s.escape[c] {
			buf = escapeCopy(buf, start)
		}
	}
	s.copyBuf = append(buf, '\n')
	s.copyRows++
	if s.copyRows >= s.batchRows || len(s.copyBuf) >= maxPendingBytes {
		return s.flushCopy(ctx)
	}
	return nil
}

func (s *Sink) flushCopy(ctx context.Context) error {
	if s.copyRows == 0 {
		return nil
	}
	s.reader.Reset(s.copyBuf)
	if _, err := s.tx.Conn().PgConn().CopyFrom(ctx, &s.reader, s.copySQL); err != nil {
		return serverError(err, "postgres sink %s: copy %d rows into %s", s.name, s.copyRows, s.target)
	}
	s.copyBuf, s.copyRows = s.copyBuf[:0], 0
	return nil
}

// addChange appends row i, an insert or a delete, to the run of changes,
// sending the run first when the change cannot join it: it is of the other
// kind, the run is full, or it inserts a key the run already inserts.
func (s *Sink) addChange(ctx context.Context, kind connectors.RowKind, cols []arrow.Array, i int) error {
	r := &s.run
	limit := s.insertRows
	if kind == connectors.RowDelete {
		limit = s.deleteRows
	}
	if r.rows > 0 && (r.kind != kind || r.rows >= limit || len(r.buf) >= maxPendingBytes) {
		if err := s.flushRun(ctx); err != nil {
			return err
		}
	}
	r.kind = kind
	if kind == connectors.RowDelete {
		for _, k := range s.key {
			s.appendValue(cols[k], i, k)
		}
		r.rows++
		return nil
	}
	bufLen, valsLen := len(r.buf), len(r.vals)
	for c, arr := range cols {
		s.appendValue(arr, i, c)
	}
	h := s.keyHash(r.vals[valsLen:])
	if _, dup := s.seen[h]; dup {
		// Send the run without this row, then start the next with it.
		r.buf, r.vals = r.buf[:bufLen], r.vals[:valsLen]
		if err := s.flushRun(ctx); err != nil {
			return err
		}
		r.kind = kind
		for c, arr := range cols {
			s.appendValue(arr, i, c)
		}
	}
	s.seen[h] = struct{}{}
	r.rows++
	return nil
}

// appendValue appends the text of row i of arr, column c, to the run.
func (s *Sink) appendValue(arr arrow.Array, i, c int) {
	r := &s.run
	if arr.IsNull(i) {
		r.vals = append(r.vals, span{-1, -1})
		return
	}
	start := len(r.buf)
	r.buf = types.AppendText(r.buf, arr, i, s.schema[c].Type)
	r.vals = append(r.vals, span{start, len(r.buf)})
}

// keyHash hashes the key columns of an insert's values. Equal keys hash
// equal; a collision only sends a run early.
func (s *Sink) keyHash(vals []span) uint64 {
	h := &s.hash
	h.SetSeed(s.seed)
	var n [9]byte
	for _, k := range s.key {
		v := vals[k]
		if v.start < 0 {
			h.WriteByte(0)
			continue
		}
		n[0] = 1
		binary.LittleEndian.PutUint64(n[1:], uint64(v.end-v.start))
		h.Write(n[:])
		h.Write(s.run.buf[v.start:v.end])
	}
	return h.Sum64()
}

// flushRun sends the run as one INSERT ... ON CONFLICT or one DELETE.
func (s *Sink) flushRun(ctx context.Context) error {
	r := &s.run
	if r.rows == 0 {
		return nil
	}
	params := s.params[:0]
	for _, v := range r.vals {
		if v.start < 0 {
			params = append(params, nil)
		} else {
			params = append(params, r.buf[v.start:v.end:v.end])
		}
	}
	s.params = params
	var sql, what string
	if r.kind == connectors.RowDelete {
		sql, what = s.deleteSQL(r.rows), "delete"
	} else {
		sql, what = s.insertSQL(r.rows), "upsert"
	}
	_, err := s.tx.Conn().PgConn().ExecParams(ctx, sql, params, nil, nil, nil).Close()
	if err != nil {
		return serverError(err, "postgres sink %s: %s %d rows in %s", s.name, what, r.rows, s.target)
	}
	clear(s.params)
	r.reset()
	clear(s.seen)
	return nil
}

func (s *Sink) insertSQL(rows int) string {
	if rows == s.insertRows && s.fullInsert != "" {
		return s.fullInsert
	}
	var b strings.Builder
	b.WriteString(s.insertHead)
	p := 1
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range s.schema {
			if c > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "$%d", p)
			p++
		}
		b.WriteByte(')')
	}
	b.WriteString(s.insertTail)
	sql := b.String()
	if rows == s.insertRows {
		s.fullInsert = sql
	}
	return sql
}

func (s *Sink) deleteSQL(rows int) string {
	if rows == s.deleteRows && s.fullDelete != "" {
		return s.fullDelete
	}
	var b strings.Builder
	b.WriteString(s.deleteHead)
	p := 1
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		if len(s.key) > 1 {
			b.WriteByte('(')
		}
		for c := range s.key {
			if c > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "$%d", p)
			p++
		}
		if len(s.key) > 1 {
			b.WriteByte(')')
		}
	}
	b.WriteByte(')')
	sql := b.String()
	if rows == s.deleteRows {
		s.fullDelete = sql
	}
	return sql
}

// Commit sends what is pending, records epoch in the progress table and
// commits the transaction. An epoch at or below the recorded one was
// committed before (the engine delivers it again after a failure or a
// restart): its transaction is rolled back and nothing changes.
func (s *Sink) Commit(ctx context.Context, epoch uint64) error {
	if s.failed != nil {
		return fmt.Errorf("epoch %d: %w", epoch, s.failed)
	}
	if s.tx == nil {
		return nil // no rows in this epoch: nothing to commit or record
	}
	if epoch > math.MaxInt64 {
		return s.fail(fmt.Errorf("postgres sink %s: epoch %d does not fit a bigint", s.name, epoch))
	}
	var err error
	if s.upsert {
		err = s.flushRun(ctx)
	} else {
		err = s.flushCopy(ctx)
	}
	if err != nil {
		return s.fail(err)
	}
	tag, err := s.tx.Exec(ctx, s.progressSQL, s.name, s.target.table, int64(epoch))
	if err != nil {
		return s.fail(serverError(err, "postgres sink %s: record epoch %d", s.name, epoch))
	}
	tx := s.tx
	s.tx = nil
	if tag.RowsAffected() == 0 {
		// Already committed: drop this copy of it.
		if err := tx.Rollback(ctx); err != nil {
			return s.fail(serverError(err, "postgres sink %s: roll back epoch %d, committed before", s.name, epoch))
		}
		return nil
	}
	if err := tx.Commit(ctx); err != nil {
		return s.fail(serverError(err, "postgres sink %s: commit epoch %d", s.name, epoch))
	}
	return nil
}

// LastCommitted returns the epoch the progress table records for the sink.
func (s *Sink) LastCommitted(ctx context.Context) (uint64, error) {
	var epoch int64
	err := s.conn.QueryRow(ctx,
		fmt.Sprintf("SELECT epoch FROM %s WHERE sink_name = $1 AND table_name = $2", s.target.progressIdent()),
		s.name, s.target.table).Scan(&epoch)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, serverError(err, "postgres sink %s: read the last committed epoch", s.name)
	}
	return uint64(epoch), nil
}

// fail ends the open epoch: its transaction is rolled back, and the sink
// refuses further work until it is closed and opened again, as the engine
// does after a failed delivery.
func (s *Sink) fail(err error) error {
	if s.tx != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.tx.Rollback(ctx) // the error that made us roll back is the one to report
		cancel()
		s.tx = nil
	}
	s.copyBuf, s.copyRows = s.copyBuf[:0], 0
	s.run.reset()
	clear(s.seen)
	s.failed = err
	return err
}

// Close rolls back an epoch left open and disconnects.
func (s *Sink) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if s.tx != nil {
		_ = s.tx.Rollback(ctx) // closing the connection ends it anyway
		s.tx = nil
	}
	return s.conn.Close(ctx)
}

// escapeCopy escapes buf[start:] in place for COPY's text format: a
// backslash, a tab, a newline or a carriage return in a value would end the
// field or the row.
func escapeCopy(buf []byte, start int) []byte {
	n := 0
	for _, c := range buf[start:] {
		switch c {
		case '\\', '\t', '\n', '\r':
			n++
		}
	}
	if n == 0 {
		return buf
	}
	end := len(buf)
	buf = append(buf, make([]byte, n)...)
	w := len(buf)
	for r := end - 1; r >= start; r-- {
		c := buf[r]
		var e byte
		switch c {
		case '\\':
			e = '\\'
		case '\t':
			e = 't'
		case '\n':
			e = 'n'
		case '\r':
			e = 'r'
		default:
			w--
			buf[w] = c
			continue
		}
		w -= 2
		buf[w], buf[w+1] = '\\', e
	}
	return buf
}

// connectError turns a failure to connect into the error CREATE SINK
// reports: the server's own SQLSTATE when it answered (a wrong password, a
// database that does not exist), 08000 when it could not be reached.
func connectError(ctx context.Context, where string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("connect to PostgreSQL at %s: %w", where, ctx.Err())
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return serverError(err, "connect to PostgreSQL at %s", where)
	}
	return pgerror.New(pgerror.ConnectionException, "could not connect to PostgreSQL at %s: %v", where, err)
}
