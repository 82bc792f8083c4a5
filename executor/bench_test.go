package executor

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// bids is the shape of Nexmark's bids as the hot operators see them.
var bids = types.Schema{
	{Name: "auction", Type: types.Int8}, {Name: "bidder", Type: types.Int8},
	{Name: "price", Type: types.Int8}, {Name: "channel", Type: types.Text},
	{Name: "date_time", Type: types.Timestamp},
}

// bidBatch builds a batch of n bids over auctions auctions, one millisecond
// apart from base.
func bidBatch(b testing.TB, n, auctions int, base time.Time) arrow.Record {
	r := rand.New(rand.NewPCG(1, 2))
	channels := []string{"apple", "google", "facebook", "baidu"}
	rows := make([][]types.Datum, n)
	for i := range rows {
		rows[i] = []types.Datum{int64(1000 + r.IntN(auctions)), int64(r.IntN(100000)), int64(r.IntN(10000000)),
			channels[r.IntN(len(channels))], base.Add(time.Duration(i) * time.Millisecond).UnixMicro()}
	}
	return record(b, memory.DefaultAllocator, bids, rows...)
}

const benchBatch = 4096

// BenchmarkRowEncoder encodes the keys a GROUP BY auction, bidder and a
// GROUP BY channel, auction would hash.
func BenchmarkRowEncoder(b *testing.B) {
	rec := bidBatch(b, benchBatch, 10000, time.Unix(0, 0))
	defer rec.Release()
	for _, c := range []struct {
		name string
		cols []int
	}{{"int64x2", []int{0, 1}}, {"text+int64", []int{3, 0}}} {
		b.Run(c.name, func(b *testing.B) {
			ts := make([]types.T, len(c.cols))
			for i, col := range c.cols {
				ts[i] = bids[col].Type
			}
			enc := NewRowEncoder(c.cols, ts)
			b.SetBytes(benchBatch)
			for b.Loop() {
				enc.Encode(rec)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/row")
		})
	}
}

// BenchmarkRowDecoder decodes stored bids back into Arrow, as a join does
// for the matching rows of its other side and a view for a SELECT.
func BenchmarkRowDecoder(b *testing.B) {
	rec := bidBatch(b, benchBatch, 10000, time.Unix(0, 0))
	defer rec.Release()
	all := []int{0, 1, 2, 3, 4}
	var rows []string
	for _, r := range NewExactRowEncoder(all, bids.Types()).Encode(rec) {
		rows = append(rows, string(r))
	}
	dec := NewRowDecoder(bids.Types())
	schema := bids.Arrow()
	for b.Loop() {
		bs := newBuilders(memory.DefaultAllocator, schema)
		dec.AppendStrings(bs, rows)
		finishRecord(schema, bs).Release()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/row")
}

// BenchmarkTake gathers every other row of a batch of bids, as a filter
// keeping half of them does.
func BenchmarkTake(b *testing.B) {
	rec := bidBatch(b, benchBatch, 10000, time.Unix(0, 0))
	defer rec.Release()
	idx := make([]int32, 0, benchBatch/2)
	for i := 0; i < benchBatch; i += 2 {
		idx = append(idx, int32(i))
	}
	ctx := context.Background()
	for b.Loop() {
		out, err := takeRecord(ctx, rec, idx, memory.DefaultAllocator)
		if err != nil {
			b.Fatal(err)
		}
		out.Release()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(idx)), "ns/row")
}

// BenchmarkHashAgg folds bids into count, max(price) and sum(price) per
// auction, as Nexmark's aggregations do, over 10,000 groups.
func BenchmarkHashAgg(b *testing.B) {
	benchmarkAggregation(b, []plan.AggCall{
		{Func: "count_star", Arg: -1, Ret: types.Int8},
		{Func: "max", Arg: 2, ArgType: types.Int8, Ret: types.Int8},
		{Func: "sum", Arg: 2, ArgType: types.Int8, Ret: types.Numeric},
	})
}

// BenchmarkCountDistinct counts the distinct bidders per auction, as
// Nexmark q15 and q16 do (eight times per row in q16).
func BenchmarkCountDistinct(b *testing.B) {
	benchmarkAggregation(b, []plan.AggCall{
		{Func: "count", Arg: 1, ArgType: types.Int8, Ret: types.Int8, Distinct: true},
	})
}

// benchmarkAggregation folds bids into aggs per auction.
func benchmarkAggregation(b *testing.B, aggs []plan.AggCall) {
	rec := bidBatch(b, benchBatch, 10000, time.Unix(0, 0))
	defer rec.Release()
	n := aggPlan(bids, []int{0}, aggs, true)
	h, err := NewHashAgg(n, memory.DefaultAllocator)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	discard := func(context.Context, Chunk) error { return nil }
	epoch := uint64(0)
	for b.Loop() {
		if err := h.Process(ctx, 0, Chunk{Rec: rec}, discard); err != nil {
			b.Fatal(err)
		}
		epoch++
		if epoch%16 == 0 { // an epoch of 64k rows, as at 10 ms barriers under load
			if err := h.Barrier(ctx, Barrier{Epoch: epoch}, discard); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/row")
}

// BenchmarkWindowAssign assigns bids to 10-second TUMBLE windows and to
// HOP windows of 10 seconds sliding by 2 (five windows a row).
func BenchmarkWindowAssign(b *testing.B) {
	rec := bidBatch(b, benchBatch, 10000, time.Unix(0, 0))
	defer rec.Release()
	sec := int64(time.Second / time.Microsecond)
	for _, c := range []struct {
		name        string
		kind        plan.WindowKind
		size, slide int64
	}{{"tumble", plan.Tumble, 10 * sec, 10 * sec}, {"hop", plan.Hop, 10 * sec, 2 * sec}} {
		b.Run(c.name, func(b *testing.B) {
			cols := append(append(types.Schema{}, bids...),
				types.Column{Name: "window_start", Type: types.Timestamp}, types.Column{Name: "window_end", Type: types.Timestamp})
			w := NewWindowAssign(&plan.Window{Input: &plan.Scan{Cols: bids}, Func: c.kind, TimeCol: 4,
				Size: c.size, Slide: c.slide, Cols: cols}, memory.DefaultAllocator)
			discard := func(context.Context, Chunk) error { return nil }
			ctx := context.Background()
			for b.Loop() {
				if err := w.Process(ctx, 0, Chunk{Rec: rec}, discard); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/row")
		})
	}
}
