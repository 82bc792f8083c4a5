package executor

import (
	"context"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

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
	subscribers []*Dataflow
}

// NewTableStore returns an empty table. pk lists the primary-key columns;
// nil means the table has no primary key.
func NewTableStore(name string, schema types.Schema, pk []int) *TableStore {
	all := make([]int, len(schema))
	for i := range all {
		all[i] = i
	}
	t := &TableStore{name: name, schema: schema, pk: pk,
		rowEnc: NewRowEncoder(all, schema.Types()),
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
			t.nextRowID++
			keys[i] = fmt.Sprint(t.nextRowID)
		}
	}
	for i, k := range keys {
		t.rows[k] = string(rows[i])
		t.order = append(t.order, k)
	}
	return t.broadcast(ctx, Chunk{Rec: rec})
}

// Replace deletes the rows with keys and inserts rec in their place (rec
// may be empty: a DELETE). Keys come from Scan.
func (t *TableStore) Replace(ctx context.Context, keys []string, rec arrow.Record) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := make([]string, 0, len(keys))
	for _, k := range keys {
		if r, ok := t.rows[k]; ok {
			old = append(old, r)
			delete(t.rows, k)
		}
	}
	if len(old) > 0 {
		rec := t.decode(memory.DefaultAllocator, old)
		err := t.broadcast(ctx, Chunk{Rec: rec, Ops: deletes(len(old))})
		rec.Release()
		if err != nil {
			return err
		}
	}
	if rec == nil || rec.NumRows() == 0 {
		return nil
	}
	rows := t.rowEnc.Encode(rec)
	var newKeys [][]byte
	if t.keyEnc != nil {
		newKeys = t.keyEnc.Encode(rec)
	}
	for i := range rows {
		var k string
		if newKeys != nil {
			k = string(newKeys[i])
			if _, dup := t.rows[k]; dup {
				return pgerror.New(pgerror.UniqueViolation, "duplicate key value violates unique constraint %q", t.name+"_pkey")
			}
		} else {
			t.nextRowID++
			k = fmt.Sprint(t.nextRowID)
		}
		t.rows[k] = string(rows[i])
		t.order = append(t.order, k)
	}
	return t.broadcast(ctx, Chunk{Rec: rec})
}

func (t *TableStore) decode(alloc memory.Allocator, rows []string) arrow.Record {
	schema := t.schema.Arrow()
	bs := newBuilders(alloc, schema)
	for _, r := range rows {
		t.dec.Append(bs, []byte(r))
	}
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
func (t *TableStore) InjectBarrier(ctx context.Context, b Barrier) error {
	t.mu.Lock()
	defer t.mu.Unlock()
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

func (t *TableStore) broadcast(ctx context.Context, c Chunk) error {
	for _, d := range t.subscribers {
		c.Rec.Retain()
		if err := d.Send(ctx, Message{Chunk: c}); err != nil {
			return err
		}
	}
	return nil
}
