package executor

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

func sortAsc(col int) plan.SortKey  { return plan.SortKey{Col: col} }
func sortDesc(col int) plan.SortKey { return plan.SortKey{Col: col, Desc: true, NullsFirst: true} }

func TestSortOrdersLikePostgres(t *testing.T) {
	nan := math.NaN()
	negZero := math.Copysign(0, -1)
	tests := []struct {
		name string
		cols []types.T
		keys []plan.SortKey
		in   [][]any
		want [][]any
	}{
		{
			name: "ASC puts NULLs last by default",
			cols: []types.T{types.Int8},
			keys: []plan.SortKey{sortAsc(0)},
			in:   [][]any{{3}, {nil}, {1}, {2}},
			want: [][]any{{1}, {2}, {3}, {nil}},
		},
		{
			name: "DESC puts NULLs first by default",
			cols: []types.T{types.Int8},
			keys: []plan.SortKey{sortDesc(0)},
			in:   [][]any{{3}, {nil}, {1}, {2}},
			want: [][]any{{nil}, {3}, {2}, {1}},
		},
		{
			name: "ASC NULLS FIRST",
			cols: []types.T{types.Int4},
			keys: []plan.SortKey{{Col: 0, NullsFirst: true}},
			in:   [][]any{{3}, {nil}, {1}, {nil}},
			want: [][]any{{nil}, {nil}, {1}, {3}},
		},
		{
			name: "DESC NULLS LAST",
			cols: []types.T{types.Int2},
			keys: []plan.SortKey{{Col: 0, Desc: true}},
			in:   [][]any{{3}, {nil}, {-1}, {2}},
			want: [][]any{{3}, {2}, {-1}, {nil}},
		},
		{
			name: "later keys break ties of earlier ones",
			cols: []types.T{types.Text, types.Int4},
			keys: []plan.SortKey{sortAsc(0), sortDesc(1)},
			in:   [][]any{{"b", 1}, {"a", 1}, {"b", 2}, {"a", nil}, {"a", 3}},
			want: [][]any{{"a", nil}, {"a", 3}, {"a", 1}, {"b", 2}, {"b", 1}},
		},
		{
			name: "text compares bytewise (C collation)",
			cols: []types.T{types.Text},
			keys: []plan.SortKey{sortAsc(0)},
			in:   [][]any{{"b"}, {"ä"}, {"B"}, {""}, {"ab"}, {"a"}, {"Z"}},
			want: [][]any{{""}, {"B"}, {"Z"}, {"a"}, {"ab"}, {"b"}, {"ä"}},
		},
		{
			name: "NaN is greater than every number and -0 equals 0",
			cols: []types.T{types.Float8, types.Int4},
			keys: []plan.SortKey{sortAsc(0)},
			in: [][]any{{nan, 1}, {1.5, 2}, {math.Inf(1), 3}, {0.0, 4}, {nil, 5},
				{math.Inf(-1), 6}, {negZero, 7}, {-2.0, 8}, {nan, 9}},
			want: [][]any{{math.Inf(-1), 6}, {-2.0, 8}, {0.0, 4}, {negZero, 7}, {1.5, 2},
				{math.Inf(1), 3}, {nan, 1}, {nan, 9}, {nil, 5}},
		},
		{
			name: "DESC puts NaN first among numbers",
			cols: []types.T{types.Float4},
			keys: []plan.SortKey{sortDesc(0)},
			in:   [][]any{{float32(1)}, {float32(nan)}, {nil}, {float32(-1)}},
			want: [][]any{{nil}, {float32(nan)}, {float32(1)}, {float32(-1)}},
		},
		{
			name: "numeric sorts as its float64 storage",
			cols: []types.T{types.Numeric},
			keys: []plan.SortKey{sortAsc(0)},
			in:   [][]any{{10.5}, {nan}, {-3.25}},
			want: [][]any{{-3.25}, {10.5}, {nan}},
		},
		{
			name: "false sorts before true",
			cols: []types.T{types.Bool},
			keys: []plan.SortKey{sortAsc(0)},
			in:   [][]any{{true}, {nil}, {false}, {true}},
			want: [][]any{{false}, {true}, {true}, {nil}},
		},
		{
			name: "bytea compares bytewise",
			cols: []types.T{types.Bytea},
			keys: []plan.SortKey{sortAsc(0)},
			in:   [][]any{{[]byte{0xff}}, {[]byte{}}, {[]byte{0, 1}}, {[]byte{0}}},
			want: [][]any{{[]byte{}}, {[]byte{0}}, {[]byte{0, 1}}, {[]byte{0xff}}},
		},
		{
			name: "dates, times and timestamps sort as numbers",
			cols: []types.T{types.Date, types.Time, types.TimestampTZ},
			keys: []plan.SortKey{sortAsc(0), sortAsc(1), sortDesc(2)},
			in:   [][]any{{10, 5, 1}, {-3, 7, 1}, {10, 2, 8}, {10, 2, 9}},
			want: [][]any{{-3, 7, 1}, {10, 2, 9}, {10, 2, 8}, {10, 5, 1}},
		},
		{
			name: "intervals compare with 30-day months and 24-hour days",
			cols: []types.T{types.Interval, types.Int4},
			keys: []plan.SortKey{sortAsc(0)},
			in: [][]any{
				{types.IntervalValue{Months: 1}, 1},
				{types.IntervalValue{Days: 30}, 2}, // equal to 1 month: keeps input order
				{types.IntervalValue{Micros: 25 * 3600 * 1e6}, 3},
				{types.IntervalValue{Days: 1}, 4},
				{types.IntervalValue{Days: 1, Micros: -1}, 5},
				{types.IntervalValue{Months: math.MaxInt32, Days: math.MaxInt32, Micros: math.MaxInt64 / 1000}, 6},
				{types.IntervalValue{Months: math.MaxInt32}, 7},
				{types.IntervalValue{Months: math.MinInt32, Days: math.MinInt32, Micros: math.MinInt64 / 1000}, 8},
				{types.IntervalValue{Months: -1, Micros: 1}, 9},
				{types.IntervalValue{Micros: math.MaxInt64 / 1000}, 10}, // 106751.99 days
				{types.IntervalValue{Days: 106752}, 11},
				{types.IntervalValue{Days: 106751}, 12},
			},
			want: [][]any{
				{types.IntervalValue{Months: math.MinInt32, Days: math.MinInt32, Micros: math.MinInt64 / 1000}, 8},
				{types.IntervalValue{Months: -1, Micros: 1}, 9},
				{types.IntervalValue{Days: 1, Micros: -1}, 5},
				{types.IntervalValue{Days: 1}, 4},
				{types.IntervalValue{Micros: 25 * 3600 * 1e6}, 3},
				{types.IntervalValue{Months: 1}, 1},
				{types.IntervalValue{Days: 30}, 2},
				{types.IntervalValue{Days: 106751}, 12},
				{types.IntervalValue{Micros: math.MaxInt64 / 1000}, 10},
				{types.IntervalValue{Days: 106752}, 11},
				{types.IntervalValue{Months: math.MaxInt32}, 7},
				{types.IntervalValue{Months: math.MaxInt32, Days: math.MaxInt32, Micros: math.MaxInt64 / 1000}, 6},
			},
		},
		{
			name: "equal keys keep their input order (stable)",
			cols: []types.T{types.Int8, types.Text},
			keys: []plan.SortKey{sortAsc(0)},
			in:   [][]any{{2, "a"}, {1, "b"}, {2, "c"}, {1, "d"}, {nil, "e"}, {2, "f"}, {nil, "g"}},
			want: [][]any{{1, "b"}, {1, "d"}, {2, "a"}, {2, "c"}, {2, "f"}, {nil, "e"}, {nil, "g"}},
		},
		{
			name: "a column of the NULL type sorts as all NULLs",
			cols: []types.T{types.Null, types.Int8},
			keys: []plan.SortKey{sortAsc(0), sortDesc(1)},
			in:   [][]any{{nil, 1}, {nil, 3}, {nil, 2}},
			want: [][]any{{nil, 3}, {nil, 2}, {nil, 1}},
		},
		{
			name: "no keys keeps the input",
			cols: []types.T{types.Int8},
			in:   [][]any{{2}, {1}},
			want: [][]any{{2}, {1}},
		},
	}
	for _, tt := range tests {
		// Each case runs with the input in one record and split in records
		// of one and two rows, which exercises concatenation.
		for _, split := range []int{0, 1, 2} {
			t.Run(fmt.Sprintf("%s/split=%d", tt.name, split), func(t *testing.T) {
				mem := checkedAlloc(t)
				ctx := compute.WithAllocator(context.Background(), mem)
				s := NewSort(tt.keys, tt.cols)
				for _, rec := range splitRecords(t, mem, tt.cols, tt.in, split) {
					if err := s.Process(ctx, 0, Chunk{Rec: rec}, nil); err != nil {
						t.Fatal(err)
					}
					rec.Release()
				}
				var got rowCollector
				if err := s.Finish(ctx, got.emit); err != nil {
					t.Fatal(err)
				}
				assertRows(t, got.rows, tt.want)
			})
		}
	}
}

func TestSortAgreesWithAReferenceSort(t *testing.T) {
	// Random rows with many ties, NULLs, NaNs and strings that share long
	// prefixes, under random keys, checked against a stable sort of Go
	// values written from the definition.
	rng := rand.New(rand.NewPCG(5, 8))
	ts := []types.T{types.Int8, types.Float8, types.Text, types.Int2}
	value := func(col int) any {
		if rng.IntN(7) == 0 {
			return nil
		}
		switch col {
		case 0:
			return rng.IntN(9) - 4
		case 1:
			return []float64{math.NaN(), math.Inf(-1), -1.5, 0, 2, math.Inf(1)}[rng.IntN(6)]
		case 2:
			return strings.Repeat("ab", rng.IntN(6)) + string(rune('a'+rng.IntN(3)))
		}
		return rng.IntN(3)
	}
	for round := range 30 {
		rows := make([][]any, 1+rng.IntN(500))
		for i := range rows {
			rows[i] = []any{value(0), value(1), value(2), i}
		}
		keys := make([]plan.SortKey, 1+rng.IntN(3))
		for k := range keys {
			keys[k] = plan.SortKey{Col: rng.IntN(3), Desc: rng.IntN(2) == 0, NullsFirst: rng.IntN(2) == 0}
		}
		t.Run(fmt.Sprintf("round=%d/keys=%v", round, keys), func(t *testing.T) {
			mem := checkedAlloc(t)
			ctx := compute.WithAllocator(context.Background(), mem)
			s := NewSort(keys, ts)
			for _, rec := range splitRecords(t, mem, ts, rows, 1+rng.IntN(100)) {
				if err := s.Process(ctx, 0, Chunk{Rec: rec}, nil); err != nil {
					t.Fatal(err)
				}
				rec.Release()
			}
			var got rowCollector
			if err := s.Finish(ctx, got.emit); err != nil {
				t.Fatal(err)
			}
			want := slices.Clone(rows)
			slices.SortStableFunc(want, func(a, b []any) int {
				for _, k := range keys {
					if c := referenceCompare(a[k.Col], b[k.Col], k); c != 0 {
						return c
					}
				}
				return 0
			})
			assertRows(t, got.rows, want)
		})
	}
}

// referenceCompare is ORDER BY's comparison of two values of one key.
func referenceCompare(a, b any, k plan.SortKey) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil && k.NullsFirst, b == nil && !k.NullsFirst:
		return -1
	case a == nil, b == nil:
		return 1
	}
	var c int
	switch a := a.(type) {
	case int:
		c = cmp.Compare(a, b.(int))
	case string:
		c = strings.Compare(a, b.(string))
	case float64:
		b := b.(float64)
		switch {
		case math.IsNaN(a) && math.IsNaN(b):
			c = 0
		case math.IsNaN(a):
			c = 1
		case math.IsNaN(b):
			c = -1
		default:
			c = cmp.Compare(a, b)
		}
	}
	if k.Desc {
		return -c
	}
	return c
}

func TestSortEmitsBoundedChunks(t *testing.T) {
	mem := checkedAlloc(t)
	ctx := compute.WithAllocator(context.Background(), mem)
	const n = 3*outputChunkRows + 17
	ts := []types.T{types.Int8, types.Text}
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{(i * 7919) % 1000, fmt.Sprint(i)}
	}
	s := NewSort([]plan.SortKey{sortDesc(0)}, ts)
	for _, rec := range splitRecords(t, mem, ts, rows, 1000) {
		if err := s.Process(ctx, 0, Chunk{Rec: rec}, nil); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	var got rowCollector
	if err := s.Finish(ctx, got.emit); err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(rows)
	slices.SortStableFunc(want, func(a, b []any) int { return b[0].(int) - a[0].(int) })
	assertRows(t, got.rows, want)
	if !slices.Equal(got.sizes, []int{outputChunkRows, outputChunkRows, outputChunkRows, 17}) {
		t.Errorf("chunk sizes %v", got.sizes)
	}
}

func TestSortOfSlicedRecord(t *testing.T) {
	// A record with an offset (what LIMIT or a filter upstream may pass)
	// must be read from its offset, including its validity bitmap and its
	// string offsets.
	mem := checkedAlloc(t)
	ctx := compute.WithAllocator(context.Background(), mem)
	ts := []types.T{types.Text, types.Int4}
	rec := recordOf(t, mem, ts, [][]any{
		{"z", 0}, {nil, 1}, {"y", 2}, {"c", 3}, {nil, 4}, {"a", 5}, {"b", 6}, {"x", 7}, {nil, 8}, {"w", 9},
	})
	sliced := rec.NewSlice(2, 8)
	rec.Release()
	s := NewSort([]plan.SortKey{sortAsc(0)}, ts)
	if err := s.Process(ctx, 0, Chunk{Rec: sliced}, nil); err != nil {
		t.Fatal(err)
	}
	sliced.Release()
	var got rowCollector
	if err := s.Finish(ctx, got.emit); err != nil {
		t.Fatal(err)
	}
	assertRows(t, got.rows, [][]any{{"a", 5}, {"b", 6}, {"c", 3}, {"x", 7}, {"y", 2}, {nil, 4}})
}

func TestSortRefusesChangelogs(t *testing.T) {
	mem := checkedAlloc(t)
	rec := recordOf(t, mem, []types.T{types.Int8}, [][]any{{1}})
	defer rec.Release()
	s := NewSort([]plan.SortKey{sortAsc(0)}, []types.T{types.Int8})
	err := s.Process(context.Background(), 0, Chunk{Rec: rec, Ops: []Op{Delete}}, nil)
	if err == nil || !strings.Contains(err.Error(), "batch-only") {
		t.Fatalf("got %v, want a batch-only error", err)
	}
}

func TestSortWithoutInputEmitsNothing(t *testing.T) {
	s := NewSort([]plan.SortKey{sortAsc(0)}, []types.T{types.Int8})
	var got rowCollector
	if err := s.Finish(context.Background(), got.emit); err != nil {
		t.Fatal(err)
	}
	if len(got.sizes) != 0 {
		t.Fatalf("emitted %v", got.sizes)
	}
}

func TestSortCloseReleasesInput(t *testing.T) {
	mem := checkedAlloc(t)
	rec := recordOf(t, mem, []types.T{types.Int8}, [][]any{{1}, {2}})
	s := NewSort([]plan.SortKey{sortAsc(0)}, []types.T{types.Int8})
	if err := s.Process(context.Background(), 0, Chunk{Rec: rec}, nil); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	s.Close() // the checked allocator fails the test if a buffer is left
}

func BenchmarkSort(b *testing.B) {
	const rows = 1 << 20
	ts := []types.T{types.Int8, types.Int8}
	rng := rand.New(rand.NewPCG(1, 2))
	recs := int64Records(rows, func(int) int64 { return rng.Int64() }, func(i int) int64 { return int64(i) })
	defer releaseRecords(recs)
	ctx := context.Background()
	discard := func(context.Context, Chunk) error { return nil }
	b.ResetTimer()
	for b.Loop() {
		s := NewSort([]plan.SortKey{sortAsc(0)}, ts)
		for _, r := range recs {
			if err := s.Process(ctx, 0, Chunk{Rec: r}, nil); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Finish(ctx, discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
}

// The helpers below are shared by the tests of the batch operators (sort,
// limit, hash join).

// checkedAlloc returns an allocator that fails the test if anything it
// allocated is still referenced when the test ends.
func checkedAlloc(t *testing.T) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// recordOf builds a record of columns ts from rows of Go values: nil for
// NULL, int for every integer, date, time and timestamp column, float64 (or
// float32 for REAL), string, []byte, bool, types.IntervalValue.
func recordOf(t testing.TB, mem memory.Allocator, ts []types.T, rows [][]any) arrow.Record {
	t.Helper()
	fields := make([]arrow.Field, len(ts))
	for j, typ := range ts {
		fields[j] = arrow.Field{Name: fmt.Sprintf("c%d", j), Type: typ.Arrow(), Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for _, row := range rows {
		if len(row) != len(ts) {
			t.Fatalf("row %v has %d values for %d columns", row, len(row), len(ts))
		}
		for j, v := range row {
			appendTestValue(t, b.Field(j), v)
		}
	}
	return b.NewRecordBatch()
}

func appendTestValue(t testing.TB, b array.Builder, v any) {
	if v == nil {
		b.AppendNull()
		return
	}
	switch b := b.(type) {
	case *array.Int16Builder:
		b.Append(int16(v.(int)))
	case *array.Int32Builder:
		b.Append(int32(v.(int)))
	case *array.Int64Builder:
		b.Append(int64(v.(int)))
	case *array.Date32Builder:
		b.Append(arrow.Date32(v.(int)))
	case *array.Time64Builder:
		b.Append(arrow.Time64(v.(int)))
	case *array.TimestampBuilder:
		b.Append(arrow.Timestamp(v.(int)))
	case *array.Float32Builder:
		b.Append(v.(float32))
	case *array.Float64Builder:
		b.Append(v.(float64))
	case *array.StringBuilder:
		b.Append(v.(string))
	case *array.BinaryBuilder:
		b.Append(v.([]byte))
	case *array.BooleanBuilder:
		b.Append(v.(bool))
	case *array.MonthDayNanoIntervalBuilder:
		iv := v.(types.IntervalValue)
		b.Append(arrow.MonthDayNanoInterval{Months: iv.Months, Days: iv.Days, Nanoseconds: iv.Micros * 1000})
	default:
		t.Fatalf("no test conversion for %T", b)
	}
}

// splitRecords builds records of at most size rows each (all rows in one
// record when size is 0).
func splitRecords(t testing.TB, mem memory.Allocator, ts []types.T, rows [][]any, size int) []arrow.Record {
	if size == 0 {
		size = max(len(rows), 1)
	}
	var recs []arrow.Record
	for lo := 0; lo < len(rows); lo += size {
		recs = append(recs, recordOf(t, mem, ts, rows[lo:min(lo+size, len(rows))]))
	}
	return recs
}

// rowsOf converts a record back to Go values, as recordOf takes them.
func rowsOf(rec arrow.Record) [][]any {
	rows := make([][]any, rec.NumRows())
	for i := range rows {
		rows[i] = make([]any, rec.NumCols())
		for j, col := range rec.Columns() {
			// A column of the Null type has no validity bitmap, and
			// arrow-go's IsNull reports its values as valid.
			if col.IsNull(i) || col.DataType().ID() == arrow.NULL {
				continue
			}
			var v any
			switch a := col.(type) {
			case *array.Int16:
				v = int(a.Value(i))
			case *array.Int32:
				v = int(a.Value(i))
			case *array.Int64:
				v = int(a.Value(i))
			case *array.Date32:
				v = int(a.Value(i))
			case *array.Time64:
				v = int(a.Value(i))
			case *array.Timestamp:
				v = int(a.Value(i))
			case *array.Float32:
				v = a.Value(i)
			case *array.Float64:
				v = a.Value(i)
			case *array.String:
				v = a.Value(i)
			case *array.Binary:
				v = slices.Clone(a.Value(i))
			case *array.Boolean:
				v = a.Value(i)
			case *array.MonthDayNanoInterval:
				iv := a.Value(i)
				v = types.IntervalValue{Months: iv.Months, Days: iv.Days, Micros: iv.Nanoseconds / 1000}
			default:
				v = fmt.Sprintf("<%s>", a.DataType())
			}
			rows[i][j] = v
		}
	}
	return rows
}

// rowCollector is an Emit that keeps the rows it is given (not the records,
// which its caller releases) and the size of each chunk.
type rowCollector struct {
	rows  [][]any
	sizes []int
}

func (c *rowCollector) emit(_ context.Context, ch Chunk) error {
	if ch.Ops != nil {
		return fmt.Errorf("batch operator emitted ops %v", ch.Ops)
	}
	c.rows = append(c.rows, rowsOf(ch.Rec)...)
	c.sizes = append(c.sizes, ch.Len())
	return nil
}

// formatRow renders a row so that rows can be compared and diffed as
// strings: NaN equals NaN, and -0 is told apart from 0.
func formatRow(row []any) string {
	parts := make([]string, len(row))
	for j, v := range row {
		switch v := v.(type) {
		case nil:
			parts[j] = "NULL"
		case float64:
			parts[j] = fmt.Sprintf("%v", v)
			if v == 0 && math.Signbit(v) {
				parts[j] = "-0"
			}
		case float32:
			parts[j] = fmt.Sprintf("%v", v)
		default:
			parts[j] = fmt.Sprintf("%v", v)
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func formatRows(rows [][]any) []string {
	s := make([]string, len(rows))
	for i, r := range rows {
		s[i] = formatRow(r)
	}
	return s
}

// assertRows checks rows against want, in order.
func assertRows(t testing.TB, got, want [][]any) {
	t.Helper()
	g, w := formatRows(got), formatRows(want)
	if !slices.Equal(g, w) {
		t.Errorf("got rows\n  %s\nwant\n  %s", strings.Join(g, "\n  "), strings.Join(w, "\n  "))
	}
}

// assertRowSet checks rows against want in any order (a join's output has
// none).
func assertRowSet(t testing.TB, got, want [][]any) {
	t.Helper()
	g, w := formatRows(got), formatRows(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("got rows\n  %s\nwant\n  %s", strings.Join(g, "\n  "), strings.Join(w, "\n  "))
	}
}

// int64Records builds records of outputChunkRows rows with one Int64 column
// per generator, for benchmarks.
func int64Records(rows int, cols ...func(i int) int64) []arrow.Record {
	fields := make([]arrow.Field, len(cols))
	for j := range cols {
		fields[j] = arrow.Field{Name: fmt.Sprintf("c%d", j), Type: arrow.PrimitiveTypes.Int64}
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))
	defer b.Release()
	var recs []arrow.Record
	for lo := 0; lo < rows; lo += outputChunkRows {
		hi := min(lo+outputChunkRows, rows)
		for j, gen := range cols {
			cb := b.Field(j).(*array.Int64Builder)
			for i := lo; i < hi; i++ {
				cb.Append(gen(i))
			}
		}
		recs = append(recs, b.NewRecordBatch())
	}
	return recs
}

func releaseRecords(recs []arrow.Record) {
	for _, r := range recs {
		r.Release()
	}
}
