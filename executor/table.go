package executor

import (
	"context"
	"encoding/binary"
	"fmt"
	"sort"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// TableStore holds the rows of a table, keyed by its primary key (or by a
// hidden row id when it has none), and sends every change, in order, to the
// dataflows of the views defined on it.
type TableStore struct {
	name   string
	schema types.Schema
	pk     []int
	keyEnc *RowEncoder
	rowEnc *RowEncoder
	dec    *RowDecoder

	mu          sync.Mutex
	rows        map[string]string // key -> encoded row
	order       []string          // keys in insertion order, compacted lazily
	nextRowID   uint64
	log         TableLog
	subscribers []*Dataflow
	// version counts changes, so that a checkpoint saves the rows again
	// only when they changed since the last one.
	version      uint64
	savedVersion uint64
	saved        []byte
}

// NewTableStore returns an empty table. pk lists the primary-key columns;
// nil means the table has no primary key.
func NewTableStore(name string, schema types.Schema, pk []int) *TableStore {
	all := make([]int, len(schema))
	for i := range all {
		all[i] = i
	}
	t := &TableStore{name: name, schema: schema, pk: pk,
		rowEnc: NewExactRowEncoder(all, schema.Types()),
		dec:    NewRowDecoder(schema.Types()),
		rows:   make(map[string]string)}
	if pk != nil {
		ts := make([]types.T, len(pk))
		for i, c := range pk {
			ts[i] = schema[c].Type
		}
		t.keyEnc = NewRowEncoder(pk, ts)
	}
	return t
}

// Insert adds the rows of rec. A primary-key conflict (with an existing row
// or within rec) fails the whole insert, as in PostgreSQL, and nothing is
// added.
func (t *TableStore) Insert(ctx context.Context, rec arrow.Record) error {
	n := int(rec.NumRows())
	if n == 0 {
		return nil
	}
	for i, c := range t.schema {
		if c.NotNull && rec.Column(i).NullN() > 0 {
			return pgerror.New(pgerror.NotNullViolation, "null value in column %q of relation %q violates not-null constraint", c.Name, t.name)
		}
	}
	rows := t.rowEnc.Encode(rec)
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]string, n)
	if t.keyEnc != nil {
		seen := make(map[string]bool, n)
		for i, k := range t.keyEnc.Encode(rec) {
			ks := string(k)
			if _, ok := t.rows[ks]; ok || seen[ks] {
				return pgerror.New(pgerror.UniqueViolation, "duplicate key value violates unique constraint %q", t.name+"_pkey")
			}
			seen[ks] = true
			keys[i] = ks
		}
	} else {
		for i := range keys {
			keys[i] = t.newRowID()
		}
	}
	if t.log != nil {
		put := make([][2]string, len(keys))
		for i, k := range keys {
			put[i] = [2]string{k, string(rows[i])}
		}
		if err := t.log.Apply(nil, put); err != nil {
			return fmt.Errorf("store rows of %s: %w", t.name, err)
		}
	}
	for i, k := range keys {
		t.rows[k] = string(rows[i])
		t.order = append(t.order, k)
	}
	return t.broadcast(ctx, Chunk{Rec: rec})
}

// TableLog makes a table's changes durable: Apply returns once the rows
// with keys deleted are gone and the (key, row) pairs put are stored.
// ApplyAt also stores, in the same write, the position of the connector
// split the changes came from.
type TableLog interface {
	Apply(deleted []string, put [][2]string) error
	ApplyAt(deleted []string, put [][2]string, split, pos string) error
}

// ApplyChanges applies a batch read by the connector that feeds the table:
// ops[i] == Insert sets the row of row i's primary key (an insert, or the new
// image of an update), Delete removes the row of that key; a table without a
// primary key takes only inserts. A change that changes nothing is dropped.
// The rows and pos, the position of split after the batch, are made durable
// together before the views see the changes, which go out in the order of
// the batch (an update as the old row's delete, then the new row).
//
// rec may be nil: the batch only moves the position (its records were bad).
func (t *TableStore) ApplyChanges(ctx context.Context, alloc memory.Allocator, rec arrow.Record, ops []Op, split, pos string) error {
	n := 0
	var rows, keys [][]byte
	if rec != nil {
		n = int(rec.NumRows())
		rows = t.rowEnc.Encode(rec)
	}
	if t.keyEnc != nil {
		if rec != nil {
			keys = t.keyEnc.Encode(rec)
		}
	} else {
		for _, op := range ops {
			if op == Delete {
				return pgerror.New(pgerror.FeatureNotSupported, "table %q has no primary key: its connector can only insert rows", t.name)
			}
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	// The batch's effect, key by key, over the current rows: after holds
	// the new row of each touched key, or "" once deleted.
	after := map[string]string{}
	current := func(k string) (string, bool) {
		if r, ok := after[k]; ok {
			return r, r != ""
		}
		r, ok := t.rows[k]
		return r, ok
	}
	var outRows []string
	var outOps []Op
	var order []string // touched keys in first-touch order
	for i := 0; i < n; i++ {
		var k string
		if keys != nil {
			k = string(keys[i])
		} else {
			k = t.newRowID()
		}
		old, exists := current(k)
		row := string(rows[i])
		if _, touched := after[k]; !touched {
			order = append(order, k)
		}
		if ops != nil && ops[i] == Delete {
			if exists {
				outRows, outOps = append(outRows, old), append(outOps, Delete)
			}
			after[k] = ""
			continue
		}
		if exists && old == row {
			after[k] = row
			continue
		}
		if exists {
			outRows, outOps = append(outRows, old), append(outOps, Delete)
		}
		outRows, outOps = append(outRows, row), append(outOps, Insert)
		after[k] = row
	}
	var gone []string
	var put [][2]string
	for _, k := range order {
		if r := after[k]; r == "" {
			if _, ok := t.rows[k]; ok {
				gone = append(gone, k)
			}
		} else if t.rows[k] != r {
			put = append(put, [2]string{k, r})
		}
	}
	if t.log != nil {
		if err := t.log.ApplyAt(gone, put, split, pos); err != nil {
			return fmt.Errorf("store changes of %s: %w", t.name, err)
		}
	}
	for _, k := range gone {
		delete(t.rows, k)
	}
	for _, kv := range put {
		if _, ok := t.rows[kv[0]]; !ok {
			t.order = append(t.order, kv[0])
		}
		t.rows[kv[0]] = kv[1]
	}
	if len(outRows) == 0 {
		return nil
	}
	out := t.decode(alloc, outRows)
	defer out.Release()
	c := Chunk{Rec: out}
	for _, op := range outOps {
		if op == Delete {
			c.Ops = outOps
			break
		}
	}
	return t.broadcast(ctx, c)
}

// SetLog makes every later change durable in log before it is visible.
func (t *TableStore) SetLog(log TableLog) { t.log = log }

// Load adds a stored row while the table is recovered, before any view
// reads it.
func (t *TableStore) Load(key, row string) {
	t.rows[key] = row
	t.order = append(t.order, key)
	if t.keyEnc == nil && len(key) == 8 {
		t.nextRowID = max(t.nextRowID, binary.BigEndian.Uint64([]byte(key)))
	}
}

// newRowID is the key of a row of a table without a primary key: a number
// whose byte order is its numeric order, so stored rows load back in
// insertion order.
func (t *TableStore) newRowID() string {
	t.nextRowID++
	return string(binary.BigEndian.AppendUint64(nil, t.nextRowID))
}

// Change says what an UPDATE or DELETE does to one record of a table's rows:
// which rows it touches and, for an UPDATE, their new values (in the order
// of the touched rows). New is nil for a DELETE.
type Change struct {
	Touched []bool
	New     arrow.Record
}

// Modify applies an UPDATE or DELETE atomically: decide is called for each
// record of the current rows, under the table's lock, and the result is
// applied only if every new row is valid (no NULL in a NOT NULL column, no
// duplicate primary key), so a failing statement changes nothing. It returns
// how many rows were touched.
func (t *TableStore) Modify(ctx context.Context, alloc memory.Allocator, decide func(rec arrow.Record) (Change, error)) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	recs, keys := t.scanLocked(alloc)
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	var gone []string // keys of the touched rows
	var newRecs []arrow.Record
	defer func() {
		for _, r := range newRecs {
			r.Release()
		}
	}()
	for i, rec := range recs {
		ch, err := decide(rec)
		if err != nil {
			return 0, err
		}
		for j, touched := range ch.Touched {
			if touched {
				gone = append(gone, keys[i][j])
			}
		}
		if ch.New != nil {
			newRecs = append(newRecs, ch.New)
		}
	}
	if len(gone) == 0 {
		return 0, nil
	}
	// Validate the new rows before changing anything.
	removed := make(map[string]bool, len(gone))
	for _, k := range gone {
		removed[k] = true
	}
	type newRow struct{ key, row string }
	var inserts []newRow
	seen := map[string]bool{}
	for _, rec := range newRecs {
		for i, c := range t.schema {
			if c.NotNull && rec.Column(i).NullN() > 0 {
				return 0, pgerror.New(pgerror.NotNullViolation, "null value in column %q of relation %q violates not-null constraint", c.Name, t.name)
			}
		}
		rows := t.rowEnc.Encode(rec)
		var ks [][]byte
		if t.keyEnc != nil {
			ks = t.keyEnc.Encode(rec)
		}
		for i, r := range rows {
			var k string
			if ks != nil {
				k = string(ks[i])
				if _, exists := t.rows[k]; (exists && !removed[k]) || seen[k] {
					return 0, pgerror.New(pgerror.UniqueViolation, "duplicate key value violates unique constraint %q", t.name+"_pkey")
				}
				seen[k] = true
			} else {
				k = t.newRowID()
			}
			inserts = append(inserts, newRow{key: k, row: string(r)})
		}
	}
	if t.log != nil {
		put := make([][2]string, len(inserts))
		for i, in := range inserts {
			put[i] = [2]string{in.key, in.row}
		}
		if err := t.log.Apply(gone, put); err != nil {
			return 0, fmt.Errorf("store changes of %s: %w", t.name, err)
		}
	}
	old := make([]string, 0, len(gone))
	for _, k := range gone {
		old = append(old, t.rows[k])
		delete(t.rows, k)
	}
	for _, in := range inserts {
		t.rows[in.key] = in.row
		t.order = append(t.order, in.key)
	}
	del := t.decode(alloc, old)
	err := t.broadcast(ctx, Chunk{Rec: del, Ops: deletes(len(old))})
	del.Release()
	if err != nil {
		return 0, err
	}
	for _, rec := range newRecs {
		if rec.NumRows() > 0 {
			if err := t.broadcast(ctx, Chunk{Rec: rec}); err != nil {
				return 0, err
			}
		}
	}
	return len(gone), nil
}

func (t *TableStore) decode(alloc memory.Allocator, rows []string) arrow.Record {
	schema := t.schema.Arrow()
	bs := newBuilders(alloc, schema)
	t.dec.AppendStrings(bs, rows)
	return finishRecord(schema, bs)
}

// Scan returns the table's rows in insertion order, with the key of each.
func (t *TableStore) Scan(alloc memory.Allocator) ([]arrow.Record, [][]string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.scanLocked(alloc)
}

func (t *TableStore) scanLocked(alloc memory.Allocator) ([]arrow.Record, [][]string) {
	live := t.order[:0]
	for _, k := range t.order {
		if _, ok := t.rows[k]; ok {
			live = append(live, k)
		}
	}
	// Drop keys of deleted rows and duplicates left by a re-insert.
	seen := make(map[string]bool, len(live))
	compact := live[:0]
	for _, k := range live {
		if !seen[k] {
			seen[k] = true
			compact = append(compact, k)
		}
	}
	t.order = compact
	var recs []arrow.Record
	var keys [][]string
	for start := 0; start < len(compact); start += batchRows {
		end := min(start+batchRows, len(compact))
		rows := make([]string, 0, end-start)
		for _, k := range compact[start:end] {
			rows = append(rows, t.rows[k])
		}
		recs = append(recs, t.decode(alloc, rows))
		keys = append(keys, append([]string(nil), compact[start:end]...))
	}
	return recs, keys
}

// Subscribe attaches a view's dataflow: it receives the current rows, then
// every change.
func (t *TableStore) Subscribe(ctx context.Context, d *Dataflow) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	recs, _ := t.scanLocked(memory.DefaultAllocator)
	for _, rec := range recs {
		if err := d.Send(ctx, Message{Chunk: Chunk{Rec: rec}}); err != nil {
			return err
		}
	}
	t.subscribers = append(t.subscribers, d)
	return nil
}

// SubscribeSince attaches a dataflow restored from a checkpoint whose rows of
// this table were saved (by SaveRows): catchUp sends it the difference
// between those rows and the current ones (deletes, then inserts), and it
// receives every change after that. This is how a change acknowledged after
// the checkpoint reaches a view restored to it. The engine calls catchUp
// once every view is restored and attached, before the table can change,
// so that views over this dataflow's view see what the difference changes.
func (t *TableStore) SubscribeSince(d *Dataflow, saved []byte) (catchUp func(context.Context) error, err error) {
	r := NewStateReader(saved)
	n := 0
	if len(saved) > 0 { // nothing saved: the table was empty
		n = r.Len()
	}
	then := make(map[string]string, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		k := r.String()
		then[k] = r.String()
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("rows of table %s in the checkpoint: %w", t.name, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.subscribers = append(t.subscribers, d)
	return func(ctx context.Context) error {
		t.mu.Lock()
		defer t.mu.Unlock()
		var gone, added []string
		for k, row := range then {
			if now, ok := t.rows[k]; !ok || now != row {
				gone = append(gone, row)
			}
		}
		for k, row := range t.rows {
			if old, ok := then[k]; !ok || old != row {
				added = append(added, row)
			}
		}
		for len(gone) > 0 {
			part := gone[:min(len(gone), batchRows)]
			gone = gone[len(part):]
			rec := t.decode(memory.DefaultAllocator, part)
			if err := d.Send(ctx, Message{Chunk: Chunk{Rec: rec, Ops: deletes(len(part))}}); err != nil {
				return err
			}
		}
		for len(added) > 0 {
			part := added[:min(len(added), batchRows)]
			added = added[len(part):]
			if err := d.Send(ctx, Message{Chunk: Chunk{Rec: t.decode(memory.DefaultAllocator, part)}}); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// saveRowsLocked returns the rows as SubscribeSince reads them, encoding
// them again only if they changed since the last call.
func (t *TableStore) saveRowsLocked() []byte {
	if t.saved != nil && t.savedVersion == t.version {
		return t.saved
	}
	keys := make([]string, 0, len(t.rows))
	for k := range t.rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var w StateWriter
	w.Uint(uint64(len(keys)))
	for _, k := range keys {
		w.String(k)
		w.String(t.rows[k])
	}
	t.saved, t.savedVersion = w.Bytes(), t.version
	return t.saved
}

// Unsubscribe detaches a dataflow.
func (t *TableStore) Unsubscribe(d *Dataflow) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, s := range t.subscribers {
		if s == d {
			t.subscribers = append(t.subscribers[:i], t.subscribers[i+1:]...)
			return
		}
	}
}

// InjectBarrier passes a barrier to every subscriber after the changes
// before it; the coordinator calls it.
// A checkpoint barrier takes the rows as of the barrier, under the same lock
// that orders changes and barriers.
func (t *TableStore) InjectBarrier(ctx context.Context, b Barrier) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if b.Checkpoint != nil && len(t.subscribers) > 0 {
		b.Checkpoint.Add(TableStatePrefix+t.name, t.saveRowsLocked())
	}
	for _, d := range t.subscribers {
		if err := d.Send(ctx, Message{Kind: MsgBarrier, Barrier: b}); err != nil {
			return err
		}
	}
	return nil
}

// Len is the number of rows.
func (t *TableStore) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.rows)
}

// TableStatePrefix precedes a table's name in a checkpoint's parts.
const TableStatePrefix = "table:"

func (t *TableStore) broadcast(ctx context.Context, c Chunk) error {
	t.version++
	for _, d := range t.subscribers {
		c.Rec.Retain()
		if err := d.Send(ctx, Message{Chunk: c}); err != nil {
			return err
		}
	}
	return nil
}

// Touch evaluates an UPDATE or DELETE over one record of a table: the rows
// where `where` is true (all rows when it is nil) are touched, and set (nil
// for a DELETE) computes their new values.
func Touch(ctx context.Context, rec arrow.Record, where *expr.Program, set *Project, ectx *expr.EvalContext) (Change, error) {
	n := int(rec.NumRows())
	touched := make([]bool, n)
	if where == nil {
		for i := range touched {
			touched[i] = true
		}
	} else {
		res, err := where.Eval(ectx, rec)
		if err != nil {
			return Change{}, err
		}
		mask := res.(*array.Boolean)
		for i := range touched {
			touched[i] = mask.IsValid(i) && mask.Value(i)
		}
		res.Release()
	}
	ch := Change{Touched: touched}
	if set == nil {
		return ch, nil
	}
	var idx []int32
	sub, err := filterRecord(ctx, rec, touched, ectx.Alloc, &idx)
	if err != nil {
		return Change{}, err
	}
	defer sub.Release()
	if ch.New, err = set.apply(sub); err != nil {
		return Change{}, err
	}
	return ch, nil
}
