package postgrescdc

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/types"
)

// snapshot reads the table in a REPEATABLE READ transaction on a normal
// connection, a page of pageRows rows at a time in primary key order, each
// page starting after the last key of the one before: the key is the
// snapshot's position, so a reader reopened mid-snapshot goes on from
// there.
type snapshot struct {
	conn  *pgx.Conn
	at    position
	cols  []int // per selected column: its column in the table
	keyAt []int // the select-list positions of the primary key's columns
	first string
	next  string
}

// startSnapshot prepares to read from p (a snapshot position) on conn,
// whose REPEATABLE READ transaction is open.
func (r *reader) startSnapshot(conn *pgx.Conn, p position) error {
	s := r.src
	sn := &snapshot{conn: conn, at: p}
	var sel []string
	for j, c := range s.schema {
		if _, ok := r.info.column(c.Name); ok {
			sel = append(sel, pgx.Identifier{c.Name}.Sanitize())
			sn.cols = append(sn.cols, j)
		}
	}
	var keys, params []string
	for _, k := range r.info.key {
		for i, j := range sn.cols {
			if s.schema[j].Name == k {
				sn.keyAt = append(sn.keyAt, i)
			}
		}
		keys = append(keys, pgx.Identifier{k}.Sanitize())
		params = append(params, fmt.Sprintf("$%d", len(params)+1))
	}
	if len(sn.keyAt) != len(r.info.key) {
		return fmt.Errorf("postgres-cdc: the primary key of %s is not among the table's columns", r.where)
	}
	if p.key != nil && len(p.key) != len(keys) {
		return fmt.Errorf("postgres-cdc: position %s has %d key values, the primary key of %s has %d columns",
			p.encode(), len(p.key), r.where, len(keys))
	}
	table := pgx.Identifier{s.set.schema, s.set.table}.Sanitize()
	order := strings.Join(keys, ", ")
	sn.first = fmt.Sprintf("SELECT %s FROM %s ORDER BY %s LIMIT %d", strings.Join(sel, ", "), table, order, s.pageRows)
	sn.next = fmt.Sprintf("SELECT %s FROM %s WHERE (%s) > (%s) ORDER BY %s LIMIT %d",
		strings.Join(sel, ", "), table, order, strings.Join(params, ", "), order, s.pageRows)
	r.snap = sn
	return nil
}

// nextSnapshot returns the next page as inserts. Its position is the last
// key read; after the last page it is the slot's LSN, and the reader
// streams from there on.
func (r *reader) nextSnapshot(ctx context.Context) (connectors.Batch, error) {
	sn := r.snap
	args := []any{pgx.QueryExecModeSimpleProtocol} // text values; keys as literals
	query := sn.first
	if sn.at.key != nil {
		query = sn.next
		for _, k := range sn.at.key {
			args = append(args, k)
		}
	}
	rows, err := sn.conn.Query(ctx, query, args...)
	if err != nil {
		return connectors.Batch{}, fmt.Errorf("postgres-cdc: snapshot of %s: %w", r.where, err)
	}
	var (
		b    connectors.Batch
		n    int
		last = sn.at.key
	)
	for rows.Next() {
		raw := rows.RawValues()
		n++
		key := make([]string, len(sn.keyAt))
		for i, k := range sn.keyAt {
			key[i] = string(raw[k])
		}
		last = key
		vals := make([]types.Datum, len(r.src.schema))
		var bad error
		for i, v := range raw {
			b.Bytes += int64(len(v))
			if v == nil || bad != nil {
				continue
			}
			j := sn.cols[i]
			vals[j], bad = parseValue(r.src.schema[j], v)
		}
		if bad != nil {
			b.Errors = append(b.Errors, connectors.RecordError{
				Where: fmt.Sprintf("snapshot of %s key (%s)", r.where, strings.Join(key, ", ")),
				Err:   bad,
			})
			continue
		}
		r.rows.add(connectors.RowInsert, vals)
	}
	if err := rows.Err(); err != nil {
		r.rows.discard()
		return connectors.Batch{}, fmt.Errorf("postgres-cdc: snapshot of %s: %w", r.where, err)
	}
	b.Record, b.Kinds = r.rows.finish()
	if n == r.src.pageRows {
		sn.at.key = last
		b.Position = sn.at.encode()
		return b, nil
	}
	// The snapshot is whole: the changes after it come from the slot.
	if _, err := sn.conn.Exec(ctx, "COMMIT"); err != nil {
		if b.Record != nil {
			b.Record.Release()
		}
		return connectors.Batch{}, fmt.Errorf("postgres-cdc: snapshot of %s: %w", r.where, err)
	}
	sn.close()
	r.snap = nil
	r.startAt, r.pos, r.emitted = sn.at.lsn, sn.at.lsn, sn.at.lsn
	b.Position = position{lsn: sn.at.lsn}.encode()
	return b, nil
}

func (sn *snapshot) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = sn.conn.Close(ctx) // an open transaction is rolled back
}
