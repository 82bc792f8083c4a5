package postgres

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/types"
)

var benchSchema = types.Schema{
	{Name: "k", Type: types.Int8},
	{Name: "name", Type: types.Text},
	{Name: "price", Type: types.Float8},
	{Name: "at", Type: types.TimestampTZ},
}

// benchRecord is n rows with keys from first on.
func benchRecord(first, n int) arrow.Record {
	b := array.NewRecordBuilder(memory.NewGoAllocator(), benchSchema.Arrow())
	defer b.Release()
	for i := first; i < first+n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("name %d", i%977))
		b.Field(2).(*array.Float64Builder).Append(float64(i) / 7)
		b.Field(3).(*array.TimestampBuilder).Append(arrow.Timestamp(1767323045000000 + int64(i)*1000))
	}
	return b.NewRecordBatch()
}

// BenchmarkSink writes epochs of 16 batches of 1024 rows; an upsert epoch
// updates the rows of the epoch before.
func BenchmarkSink(b *testing.B) {
	conn := requirePG(b)
	for _, typ := range []string{typeAppendOnly, typeUpsert} {
		b.Run(typ, func(b *testing.B) {
			table := tableName(b, conn)
			var pk []int
			if typ == typeUpsert {
				pk = []int{0}
			}
			s := newSink(b, sinkConfig(b, benchSchema, typ, pk, table, map[string]string{optAutoCreate: "true"}))
			const batches, rows = 16, 1024
			recs := make([]arrow.Record, batches)
			for i := range recs {
				recs[i] = benchRecord(i*rows, rows)
				defer recs[i].Release()
			}
			ctx := testContext(b)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, rec := range recs {
					if err := s.Write(ctx, connectors.SinkBatch{Record: rec}); err != nil {
						b.Fatal(err)
					}
				}
				if err := s.Commit(ctx, uint64(i+1)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batches*rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
