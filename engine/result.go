package engine

import (
	"context"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/types"
)

// result is a statement's outcome: buffered records and a command tag.
type result struct {
	cols    []types.Column
	recs    []arrow.Record
	next    int
	tag     string
	notices []error
}

func (r *result) Columns() []types.Column { return r.cols }

func (r *result) Next(ctx context.Context) (arrow.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if r.next >= len(r.recs) {
		return nil, nil
	}
	r.next++
	return r.recs[r.next-1], nil
}

func (r *result) Tag() string      { return r.tag }
func (r *result) Notices() []error { return r.notices }

func (r *result) Close() {
	for _, rec := range r.recs {
		rec.Release()
	}
	r.recs = nil
}

func tagOnly(tag string) *result { return &result{tag: tag} }

// rowsResult builds a small result from Go values (for SHOW, DESCRIBE,
// EXPLAIN).
func rowsResult(cols types.Schema, rows [][]types.Datum) *result {
	schema := cols.Arrow()
	bs := make([]array.Builder, len(cols))
	for i, f := range schema.Fields() {
		bs[i] = array.NewBuilder(memory.DefaultAllocator, f.Type)
	}
	for _, row := range rows {
		for i, v := range row {
			types.Put(bs[i], v, cols[i].Type)
		}
	}
	arrs := make([]arrow.Array, len(bs))
	for i, b := range bs {
		arrs[i] = b.NewArray()
		b.Release()
	}
	rec := array.NewRecord(schema, arrs, int64(len(rows)))
	for _, a := range arrs {
		a.Release()
	}
	return &result{cols: cols, recs: []arrow.Record{rec}, tag: "SELECT " + strconv.Itoa(len(rows))}
}
