package executor

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/types"
)

// record builds a record of schema from rows of Datums.
func record(t testing.TB, alloc memory.Allocator, schema types.Schema, rows ...[]types.Datum) arrow.Record {
	t.Helper()
	as := schema.Arrow()
	bs := newBuilders(alloc, as)
	for _, r := range rows {
		if len(r) != len(schema) {
			t.Fatalf("row %v has %d values, schema has %d columns", r, len(r), len(schema))
		}
		for i, v := range r {
			types.Put(bs[i], v, schema[i].Type)
		}
	}
	return finishRecord(as, bs)
}

// formatChunk renders each row as "+ a b c" or "- a b c".
func formatChunk(c Chunk, schema types.Schema) []string {
	var out []string
	for i := 0; i < c.Len(); i++ {
		var b strings.Builder
		b.WriteString(c.OpAt(i).String())
		for j := range schema {
			b.WriteByte(' ')
			col := c.Rec.Column(j)
			if col.IsNull(i) {
				b.WriteString("NULL")
				continue
			}
			b.Write(types.AppendText(nil, col, i, schema[j].Type))
		}
		out = append(out, b.String())
	}
	return out
}

// collector is an Emit that keeps what it is given as text.
type collector struct {
	schema types.Schema
	rows   []string
}

func (c *collector) emit(_ context.Context, ch Chunk) error {
	c.rows = append(c.rows, formatChunk(ch, c.schema)...)
	return nil
}

// take returns and forgets the rows collected so far, sorted within each op
// so that tests do not depend on hash order.
func (c *collector) take() string {
	rows := c.rows
	c.rows = nil
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i][0] != rows[j][0] {
			return rows[i][0] == '-' // retractions first, as emitted
		}
		return rows[i] < rows[j]
	})
	return strings.Join(rows, "\n")
}

func ts(s string) types.Datum {
	v, err := types.ParseText(s, types.Timestamp)
	if err != nil {
		panic(fmt.Sprintf("bad timestamp %q: %v", s, err))
	}
	return v
}

var _ = array.NewBuilder
