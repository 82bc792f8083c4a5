package postgrescdc

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/types"
)

// rowBuilder collects changes as rows of the Sluice table's schema, each
// with its kind. Values arrive as PostgreSQL text and are parsed with
// types.ParseText, so every Sluice type reads what PostgreSQL prints for it
// (with the session settings of setSessionParams).
type rowBuilder struct {
	schema types.Schema
	rb     *array.RecordBuilder
	kinds  []connectors.RowKind
}

func newRowBuilder(schema types.Schema, alloc memory.Allocator) *rowBuilder {
	return &rowBuilder{schema: schema, rb: array.NewRecordBuilder(alloc, schema.Arrow())}
}

// add appends one row; vals has a Datum per column (nil is NULL) that
// types.ParseText produced for that column's type.
func (b *rowBuilder) add(kind connectors.RowKind, vals []types.Datum) {
	for i, d := range vals {
		types.Put(b.rb.Field(i), d, b.schema[i].Type)
	}
	b.kinds = append(b.kinds, kind)
}

func (b *rowBuilder) len() int { return len(b.kinds) }

// finish returns the rows added since the last finish; nil when none.
func (b *rowBuilder) finish() (arrow.Record, []connectors.RowKind) {
	if len(b.kinds) == 0 {
		return nil, nil
	}
	rec := b.rb.NewRecordBatch()
	kinds := b.kinds
	b.kinds = nil
	return rec, kinds
}

// discard drops the rows added since the last finish.
func (b *rowBuilder) discard() {
	if len(b.kinds) > 0 {
		b.rb.NewRecordBatch().Release()
		b.kinds = nil
	}
}

func (b *rowBuilder) release() { b.rb.Release() }

// parseValue parses a column's text value for column c of the table.
func parseValue(c types.Column, text []byte) (types.Datum, error) {
	d, err := types.ParseText(string(text), c.Type)
	if err != nil {
		return nil, columnError{c.Name, err}
	}
	return d, nil
}

// columnError names the column whose value could not be read.
type columnError struct {
	column string
	err    error
}

func (e columnError) Error() string { return "column " + quote(e.column) + ": " + e.err.Error() }
func (e columnError) Unwrap() error { return e.err }

func quote(s string) string { return `"` + s + `"` }
