package postgrescdc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/types"
)

// reader reads the one split: the snapshot first when there is one to read,
// then the stream of changes.
type reader struct {
	src   *Source
	info  tableInfo
	rows  *rowBuilder
	where string
	// first holds notes for the first batch (Sluice columns that are gone
	// upstream).
	first []connectors.RecordError

	snap *snapshot // non-nil while the snapshot is read

	pump    *pump
	side    *pgx.Conn     // for fetchUnchanged, opened when first needed
	startAt pglogrepl.LSN // where streaming starts
	rels    map[uint32]*relation
	inTxn   bool
	txnLSN  pglogrepl.LSN // the open transaction's final LSN, for messages
	pos     pglogrepl.LSN // the end of the last complete transaction
	emitted pglogrepl.LSN // the position of the last batch returned
	// serverEnd is the end of the server's WAL as last heard: how far
	// PostgreSQL is ahead of what was read is the backlog.
	serverEnd pglogrepl.LSN
	errs      []connectors.RecordError
	bytes     int64
	// failed is the error that stopped the pump, returned once the
	// complete transactions before it have been.
	failed error
	closed bool
}

// relation is how a pgoutput relation's columns map onto the table.
type relation struct {
	ours bool
	name string
	cols []int // per upstream column: its Sluice column, or -1
	key  []int // the upstream positions of the primary key's columns
	// keyGone names a primary key column the relation lacks: its changes
	// cannot be keyed and are skipped.
	keyGone string
}

// columnNotes reports Sluice columns that are no longer upstream, or whose
// upstream type changed to one they cannot read, once per source.
func (r *reader) columnNotes() []connectors.RecordError {
	var out []connectors.RecordError
	for _, c := range r.src.schema {
		up, ok := r.info.column(c.Name)
		var msg string
		switch {
		case !ok:
			msg = fmt.Sprintf("column %q is not in the upstream table any more; its values are NULL", c.Name)
		case compatible(up, c) != nil:
			msg = compatible(up, c).Error() + "; rows whose value does not read are skipped"
		default:
			continue
		}
		if n := r.src.note("relation "+r.src.set.table, msg); n != nil {
			out = append(out, *n)
		}
	}
	return out
}

// Next returns the next page of the snapshot, or the next complete
// transactions of the stream: it waits for one, then takes those already
// received, up to about batchRows changes, never ending inside a
// transaction. Its Position is the end LSN of the last transaction in it.
// A keepalive received between transactions advances the position too, so
// that the slot can release WAL while the table is idle; the batch then has
// no rows.
func (r *reader) Next(ctx context.Context) (connectors.Batch, error) {
	if r.closed {
		return connectors.Batch{}, errors.New("postgres-cdc: reader is closed")
	}
	if r.snap != nil {
		b, err := r.nextSnapshot(ctx)
		r.addFirst(&b)
		return b, err
	}
	if r.pump == nil {
		// The snapshot has just been returned whole: stream from the
		// slot's consistent point.
		if err := r.startStream(ctx); err != nil {
			return connectors.Batch{}, err
		}
	}
	for {
		pending := r.rows.len() > 0 || len(r.errs) > 0 || len(r.first) > 0 || r.pos != r.emitted
		if r.failed != nil && (!pending || r.inTxn) {
			r.discard()
			return connectors.Batch{}, r.failed
		}
		wait := !pending || r.inTxn
		if !wait && (r.rows.len() >= r.src.batchRows || r.failed != nil) {
			return r.emit(), nil
		}
		it, ok, err := r.pump.next(ctx, wait)
		if err != nil {
			return connectors.Batch{}, err
		}
		if !ok {
			return r.emit(), nil
		}
		if it.err != nil {
			r.failed = it.err
			continue
		}
		r.handle(ctx, it)
	}
}

func (r *reader) emit() connectors.Batch {
	b := connectors.Batch{Position: position{lsn: r.pos}.encode(), Errors: r.errs, Bytes: r.bytes}
	b.Record, b.Kinds = r.rows.finish()
	r.addFirst(&b)
	r.emitted, r.errs, r.bytes = r.pos, nil, 0
	return b
}

func (r *reader) addFirst(b *connectors.Batch) {
	if len(r.first) > 0 {
		b.Errors = append(r.first, b.Errors...)
		r.first = nil
	}
}

// discard drops the changes of an incomplete batch: the reader is failing
// and its replacement reads them again from the last position returned.
func (r *reader) discard() {
	r.rows.discard()
	r.errs, r.bytes = nil, 0
}

// handle applies one message to the batch being built.
func (r *reader) handle(ctx context.Context, it item) {
	r.serverEnd = max(r.serverEnd, it.serverEnd)
	if it.msg == nil { // a keepalive: all before its WAL end has been sent
		if !r.inTxn && it.keepalive > r.pos {
			r.pos = it.keepalive
		}
		return
	}
	r.bytes += int64(it.size)
	switch m := it.msg.(type) {
	case *pglogrepl.BeginMessage:
		r.inTxn, r.txnLSN = true, m.FinalLSN
	case *pglogrepl.CommitMessage:
		r.inTxn = false
		if m.TransactionEndLSN > r.pos {
			r.pos = m.TransactionEndLSN
		}
	case *pglogrepl.RelationMessage:
		r.relation(m)
	case *pglogrepl.InsertMessage:
		if rel := r.ours(m.RelationID); rel != nil {
			r.change(it, rel, func() error { return r.upsert(ctx, rel, m.Tuple, nil) })
		}
	case *pglogrepl.UpdateMessage:
		if rel := r.ours(m.RelationID); rel != nil {
			r.change(it, rel, func() error { return r.update(ctx, rel, m) })
		}
	case *pglogrepl.DeleteMessage:
		if rel := r.ours(m.RelationID); rel != nil {
			r.change(it, rel, func() error { return r.delete(ctx, rel, m.OldTuple) })
		}
	case *pglogrepl.TruncateMessage:
		for _, id := range m.RelationIDs {
			if rel := r.ours(id); rel != nil {
				r.errs = append(r.errs, connectors.RecordError{
					Where: r.at(it),
					Err:   fmt.Errorf("TRUNCATE of %s upstream is not applied: the table keeps its rows", rel.name),
				})
			}
		}
	}
	// Type, origin and logical decoding messages say nothing about rows.
}

func (r *reader) at(it item) string {
	return fmt.Sprintf("relation %s lsn %s", r.src.set.table, it.walStart)
}

// ours returns the relation if it is the captured table.
func (r *reader) ours(id uint32) *relation {
	if rel := r.rels[id]; rel != nil && rel.ours {
		return rel
	}
	return nil
}

// change runs one change, skipping it with a RecordError when it fails:
// the rows already added for it stay only if it succeeded.
func (r *reader) change(it item, rel *relation, apply func() error) {
	var err error
	if rel.keyGone != "" {
		err = fmt.Errorf("primary key column %q is not in the upstream table any more: the change cannot be keyed", rel.keyGone)
	} else {
		err = apply()
	}
	if err != nil {
		r.errs = append(r.errs, connectors.RecordError{Where: r.at(it), Err: err})
	}
}

// relation records how an upstream relation's columns map onto the table.
// pgoutput sends one before the first change to each relation in a
// session, and again after its definition changed (ALTER TABLE).
func (r *reader) relation(m *pglogrepl.RelationMessage) {
	if r.rels == nil {
		r.rels = map[uint32]*relation{}
	}
	rel := &relation{name: m.Namespace + "." + m.RelationName}
	r.rels[m.RelationID] = rel
	if m.Namespace != r.src.set.schema || m.RelationName != r.src.set.table {
		return // another table of the publication
	}
	rel.ours = true
	where := "relation " + r.src.set.table
	seen := make([]bool, len(r.src.schema))
	rel.cols = make([]int, len(m.Columns))
	for i, c := range m.Columns {
		j := r.src.schema.Index(c.Name)
		rel.cols[i] = j
		if j < 0 {
			r.noteOnce(where, fmt.Sprintf("upstream column %q is not in the table; ignored", c.Name))
			continue
		}
		seen[j] = true
		up := upstreamColumn{name: c.Name, typeOID: c.DataType, typeName: fmt.Sprintf("OID %d", c.DataType)}
		if err := compatible(up, r.src.schema[j]); err != nil {
			r.noteOnce(where, err.Error()+"; rows whose value does not read are skipped")
		}
	}
	for j, ok := range seen {
		if !ok {
			r.noteOnce(where, fmt.Sprintf("column %q is not in the upstream table any more; its values are NULL", r.src.schema[j].Name))
		}
	}
	for _, k := range r.info.key {
		pos := -1
		for i, c := range m.Columns {
			if c.Name == k {
				pos = i
			}
		}
		if pos < 0 {
			rel.keyGone = k
			r.noteOnce(where, fmt.Sprintf("primary key column %q is not in the upstream table any more; its changes are skipped", k))
			break
		}
		rel.key = append(rel.key, pos)
	}
}

func (r *reader) noteOnce(where, msg string) {
	if n := r.src.note(where, msg); n != nil {
		r.errs = append(r.errs, *n)
	}
}

// values parses a tuple into a row of the table. Columns the relation does
// not have are NULL. An unchanged TOASTed value ('u': PostgreSQL did not
// send it) is taken from old, the old row that REPLICA IDENTITY FULL sends,
// or else read from the table upstream by fetchUnchanged.
func (r *reader) values(ctx context.Context, rel *relation, t, old *pglogrepl.TupleData) ([]types.Datum, error) {
	vals := make([]types.Datum, len(r.src.schema))
	if t == nil {
		return nil, errors.New("the change carries no row")
	}
	var unchanged []int
	for i, c := range t.Columns {
		if i >= len(rel.cols) || rel.cols[i] < 0 {
			continue
		}
		j := rel.cols[i]
		col := r.src.schema[j]
		switch c.DataType {
		case pglogrepl.TupleDataTypeNull:
		case pglogrepl.TupleDataTypeText:
			d, err := parseValue(col, c.Data)
			if err != nil {
				return nil, err
			}
			vals[j] = d
		case pglogrepl.TupleDataTypeToast:
			if old == nil || i >= len(old.Columns) || old.Columns[i].DataType != pglogrepl.TupleDataTypeText {
				unchanged = append(unchanged, j)
				continue
			}
			d, err := parseValue(col, old.Columns[i].Data)
			if err != nil {
				return nil, err
			}
			vals[j] = d
		default:
			return nil, fmt.Errorf("column %q: unexpected tuple data kind %q", col.Name, c.DataType)
		}
	}
	if len(unchanged) > 0 {
		if err := r.fetchUnchanged(ctx, rel, t, unchanged, vals); err != nil {
			return nil, err
		}
	}
	return vals, nil
}

// fetchUnchanged fills the columns cols of vals, whose values an update
// left unchanged and PostgreSQL did not send because they are TOASTed, with
// the row's current values upstream, read by its key on a side connection.
// The current row is at least as new as the change (which has committed),
// and a later change to those columns sends them in full: so the table may
// show a newer value of such a column a little early, never a wrong one
// for long. A row deleted upstream meanwhile reads NULL there, until the
// delete that follows removes it.
func (r *reader) fetchUnchanged(ctx context.Context, rel *relation, t *pglogrepl.TupleData, cols []int, vals []types.Datum) error {
	var sel, keys, params []string
	args := []any{pgx.QueryExecModeSimpleProtocol}
	for _, j := range cols {
		sel = append(sel, pgx.Identifier{r.src.schema[j].Name}.Sanitize())
	}
	for n, k := range rel.key {
		if k >= len(t.Columns) || t.Columns[k].DataType != pglogrepl.TupleDataTypeText {
			return fmt.Errorf("an unchanged TOASTed value was not sent and the row's key is not known to read it")
		}
		keys = append(keys, pgx.Identifier{r.info.key[n]}.Sanitize())
		params = append(params, fmt.Sprintf("$%d", n+1))
		args = append(args, string(t.Columns[k].Data))
	}
	if r.side == nil {
		conn, err := connect(ctx, r.src.set)
		if err != nil {
			return fmt.Errorf("reading an unchanged TOASTed value: %w", err)
		}
		r.side = conn
	}
	query := fmt.Sprintf("SELECT %s FROM %s WHERE (%s) = (%s)", strings.Join(sel, ", "),
		pgx.Identifier{r.src.set.schema, r.src.set.table}.Sanitize(), strings.Join(keys, ", "), strings.Join(params, ", "))
	rows, err := r.side.Query(ctx, query, args...)
	if err != nil {
		r.closeSide()
		return fmt.Errorf("reading an unchanged TOASTed value: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		for i, v := range rows.RawValues() {
			if v == nil {
				continue
			}
			j := cols[i]
			d, err := parseValue(r.src.schema[j], v)
			if err != nil {
				return err
			}
			vals[j] = d
		}
	}
	if err := rows.Err(); err != nil {
		r.closeSide()
		return fmt.Errorf("reading an unchanged TOASTed value: %w", err)
	}
	return nil
}

func (r *reader) closeSide() {
	if r.side != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = r.side.Close(ctx)
		r.side = nil
	}
}

func (r *reader) upsert(ctx context.Context, rel *relation, t, old *pglogrepl.TupleData) error {
	vals, err := r.values(ctx, rel, t, old)
	if err != nil {
		return err
	}
	r.rows.add(connectors.RowInsert, vals)
	return nil
}

func (r *reader) delete(ctx context.Context, rel *relation, old *pglogrepl.TupleData) error {
	vals, err := r.values(ctx, rel, old, nil)
	if err != nil {
		return err
	}
	r.rows.add(connectors.RowDelete, vals)
	return nil
}

// update is an upsert of the new row, preceded by a delete of the old key
// when the primary key changed: pgoutput then sends the old key ('K'), or
// the old row with REPLICA IDENTITY FULL ('O').
func (r *reader) update(ctx context.Context, rel *relation, m *pglogrepl.UpdateMessage) error {
	var old *pglogrepl.TupleData
	if m.OldTupleType == pglogrepl.UpdateMessageTupleTypeOld {
		old = m.OldTuple
	}
	if m.OldTuple != nil && keyChanged(rel, m.OldTuple, m.NewTuple) {
		del, err := r.values(ctx, rel, m.OldTuple, nil)
		if err != nil {
			return err
		}
		ins, err := r.values(ctx, rel, m.NewTuple, old)
		if err != nil {
			return err
		}
		r.rows.add(connectors.RowDelete, del)
		r.rows.add(connectors.RowInsert, ins)
		return nil
	}
	return r.upsert(ctx, rel, m.NewTuple, old)
}

// keyChanged compares the primary key's values in the old and new rows.
func keyChanged(rel *relation, old, new *pglogrepl.TupleData) bool {
	if new == nil {
		return false
	}
	for _, k := range rel.key {
		if k >= len(old.Columns) || k >= len(new.Columns) {
			return true
		}
		o, n := old.Columns[k], new.Columns[k]
		if n.DataType == pglogrepl.TupleDataTypeToast {
			continue // unchanged
		}
		if o.DataType != n.DataType || !bytes.Equal(o.Data, n.Data) {
			return true
		}
	}
	return false
}

// Close ends the reader: the snapshot's transaction is rolled back, the
// replication connection closed after reporting the last acknowledgement.
// Closing again does nothing.
func (r *reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.snap != nil {
		r.snap.close()
	}
	if r.pump != nil {
		r.src.setLive(nil, r.pump)
		r.pump.close()
	}
	r.closeSide()
	r.rows.release()
	return nil
}

var _ connectors.BacklogReader = (*reader)(nil)

// Backlog is how many bytes of WAL the server has written beyond the last
// complete transaction read (which counts every change in the database, not
// only this table's).
func (r *reader) Backlog() (int64, bool) {
	if r.snap != nil || r.serverEnd == 0 {
		return 0, false
	}
	return int64(max(r.serverEnd, r.pos) - r.pos), true
}
