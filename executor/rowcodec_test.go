package executor

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/types"
)

// every stored type, as a column each.
var codecSchema = types.Schema{
	{Name: "b", Type: types.Bool}, {Name: "i2", Type: types.Int2}, {Name: "i4", Type: types.Int4},
	{Name: "i8", Type: types.Int8}, {Name: "d", Type: types.Date}, {Name: "ts", Type: types.Timestamp},
	{Name: "tm", Type: types.Time}, {Name: "f4", Type: types.Float4}, {Name: "f8", Type: types.Float8},
	{Name: "t", Type: types.Text}, {Name: "by", Type: types.Bytea}, {Name: "iv", Type: types.Interval},
	{Name: "b2", Type: types.Bool}, // after wide values: a decoder's reused space holds their bytes
}

// codecRows are random rows of codecSchema, a fifth of the values NULL,
// with the floats that keys must normalise (-0, NaN).
func codecRows(n int) [][]types.Datum {
	r := rand.New(rand.NewPCG(5, 6))
	rows := make([][]types.Datum, n)
	floats := []float64{0, math.Copysign(0, -1), math.NaN(), 1.5, -2.25, math.Inf(1)}
	for i := range rows {
		row := []types.Datum{r.IntN(2) == 0, int16(r.IntN(1 << 15)), int32(r.Int32()), r.Int64() - math.MaxInt64/2,
			int32(r.IntN(40000)), r.Int64N(1 << 50), r.Int64N(86_400_000_000), float32(floats[r.IntN(len(floats))]),
			floats[r.IntN(len(floats))], string(make([]byte, r.IntN(300))), []byte("xyz"[:r.IntN(4)]),
			types.IntervalValue{Months: int32(r.IntN(24)), Days: int32(r.IntN(60)), Micros: r.Int64N(1 << 40)},
			r.IntN(2) == 0}
		for j := range row {
			if r.IntN(5) == 0 {
				row[j] = nil
			}
		}
		rows[i] = row
	}
	return rows
}

// codecRecord is a record of n codecRows, with its rows, from an allocator
// that fails the test unless the record and all made from it are released
// by its end (the record itself is released then).
func codecRecord(t *testing.T, n int) (arrow.Record, [][]types.Datum, memory.Allocator) {
	alloc := memory.NewCheckedAllocator(memory.DefaultAllocator)
	t.Cleanup(func() { alloc.AssertSize(t, 0) })
	rows := codecRows(n)
	rec := record(t, alloc, codecSchema, rows...)
	t.Cleanup(rec.Release)
	return rec, rows, alloc
}

// The encoder works a column at a time; its keys are byte for byte those of
// encoding each value in turn, the form checkpoints have stored, also for a
// slice of a record (arrays with an offset).
func TestRowEncoderMatchesValueByValueEncoding(t *testing.T) {
	whole, _, _ := codecRecord(t, 500)
	sliced := whole.NewSlice(137, 411)
	defer sliced.Release()
	cols := allColumns(len(codecSchema))
	for _, c := range []struct {
		rec   arrow.Record
		exact bool
	}{{whole, false}, {whole, true}, {sliced, false}} {
		rec, exact := c.rec, c.exact
		enc := NewRowEncoder(cols, codecSchema.Types())
		enc.exact = exact
		keys := enc.Encode(rec)
		for i, key := range keys {
			var want []byte
			for j := range cols {
				want = appendValue(want, rec.Column(j), i, enc.storages[j], exact)
			}
			if !bytes.Equal(key, want) {
				t.Fatalf("exact=%v, %d rows, row %d:\n got %x\nwant %x", exact, rec.NumRows(), i, key, want)
			}
		}
	}
}

// Decoding a record's stored rows gives the record back, every value as it
// was (-0 and NaN too), whether the rows come all at once, as strings or in
// small batches, and again with the same decoder; an empty row decodes as a row of
// NULLs.
func TestRowDecoderGivesBackWhatWasEncoded(t *testing.T) {
	rec, rows, alloc := codecRecord(t, 500)
	cols := allColumns(len(codecSchema))
	var encoded [][]byte
	for _, key := range NewExactRowEncoder(cols, codecSchema.Types()).Encode(rec) {
		encoded = append(encoded, bytes.Clone(key))
	}
	padded := append([]types.Datum(nil), make([]types.Datum, len(codecSchema))...)
	// Each way decodes twice with one decoder, which reuses its space.
	all := append(rows, padded)
	want := record(t, alloc, codecSchema, append(all, all...)...)
	defer want.Release()
	encoded = append(encoded, nil)

	strs := make([]string, len(encoded))
	for i, r := range encoded {
		strs[i] = string(r)
	}
	for name, decode := range map[string]func(*RowDecoder, []array.Builder){
		"rows":    func(d *RowDecoder, bs []array.Builder) { d.AppendRows(bs, encoded) },
		"strings": func(d *RowDecoder, bs []array.Builder) { d.AppendStrings(bs, strs) },
		// Arrow packs fewer than 32 booleans a byte at a time.
		"batches of 12": func(d *RowDecoder, bs []array.Builder) {
			for rest := encoded; len(rest) > 0; rest = rest[min(12, len(rest)):] {
				d.AppendRows(bs, rest[:min(12, len(rest))])
			}
		},
	} {
		bs := newBuilders(alloc, codecSchema.Arrow())
		dec := NewRowDecoder(codecSchema.Types())
		decode(dec, bs)
		decode(dec, bs)
		got := finishRecord(codecSchema.Arrow(), bs)
		for j := range codecSchema {
			if !array.ApproxEqual(got.Column(j), want.Column(j), array.WithNaNsEqual(true)) ||
				!sameFloatBits(got.Column(j), want.Column(j)) {
				t.Errorf("%s: column %s:\n got %v\nwant %v", name, codecSchema[j].Name, got.Column(j), want.Column(j))
			}
		}
		got.Release()
	}
}

// sameFloatBits tells -0 from 0, which ApproxEqual does not.
func sameFloatBits(a, b arrow.Array) bool {
	x, ok := a.(*array.Float64)
	if !ok {
		return true
	}
	y := b.(*array.Float64)
	for i := 0; i < x.Len(); i++ {
		if x.IsValid(i) && math.Signbit(x.Value(i)) != math.Signbit(y.Value(i)) {
			return false
		}
	}
	return true
}

// Repeating every row in place gives what gathering the same rows by index
// gives, for every stored type, with NULLs, on a slice of a record.
func TestRepeatRecordMatchesTake(t *testing.T) {
	whole, _, alloc := codecRecord(t, 300)
	sliced := whole.NewSlice(41, 257)
	defer sliced.Release()
	ctx := context.Background()
	for _, k := range []int{1, 5} {
		got, err := repeatRecord(ctx, sliced, k, alloc)
		if err != nil {
			t.Fatal(err)
		}
		var idx []int32
		for i := 0; i < int(sliced.NumRows()); i++ {
			for r := 0; r < k; r++ {
				idx = append(idx, int32(i))
			}
		}
		want, err := takeRecord(ctx, sliced, idx, alloc)
		if err != nil {
			t.Fatal(err)
		}
		for j := range codecSchema {
			g, w := got.Column(j), want.Column(j)
			// NaN is a value like any other here.
			if !array.ApproxEqual(g, w, array.WithNaNsEqual(true), array.WithAbsTolerance(0)) {
				for i := 0; i < w.Len(); i++ {
					if g.IsNull(i) != w.IsNull(i) || g.ValueStr(i) != w.ValueStr(i) || i == w.Len()-1 {
						t.Errorf("repeating %d times: column %s row %d is %s, take gives %s", k, codecSchema[j].Name, i, g.ValueStr(i), w.ValueStr(i))
						break
					}
				}
			}
		}
		got.Release()
		want.Release()
	}
}

// int64Field reads an integer or time column of a stored row, stepping over
// the values before it, whatever their type or NULL.
func TestInt64FieldReadsOneColumnOfAStoredRow(t *testing.T) {
	rec, _, _ := codecRecord(t, 300)
	cols := allColumns(len(codecSchema))
	enc := NewExactRowEncoder(cols, codecSchema.Types())
	for i, row := range enc.Encode(rec) {
		for col, c := range codecSchema {
			got, ok := int64Field(enc.storages, row, col)
			switch c.Type {
			case types.Int2, types.Int4, types.Int8, types.Date, types.Timestamp, types.Time:
				v := rec.Column(col)
				if ok != v.IsValid(i) || (ok && got != int64At(v, i)) {
					t.Fatalf("row %d, column %s: got %d, %v; want %v", i, c.Name, got, ok, v.GetOneForMarshal(i))
				}
			default:
				if ok {
					t.Fatalf("row %d, column %s: an integer read from a %v", i, c.Name, c.Type)
				}
			}
		}
	}
}

// takeColumns gives row idx[j] of each column at j, NULL where the padding
// bitmap is clear, for every stored type, also from a slice of a record and
// for a run of indices (taken as a slice without copying).
func TestTakeColumnsGathersAndPads(t *testing.T) {
	whole, _, alloc := codecRecord(t, 300)
	ctx := compute.WithAllocator(context.Background(), alloc)
	sliced := whole.NewSlice(37, 237)
	defer sliced.Release()
	r := rand.New(rand.NewPCG(7, 8))
	for _, rec := range []arrow.Record{whole, sliced} {
		n := int(rec.NumRows())
		idx := make([]int32, 150)
		pad := make([]byte, (len(idx)+7)/8)
		padded := 0
		for j := range idx {
			idx[j] = int32(r.IntN(n))
			if r.IntN(4) > 0 {
				pad[j/8] |= 1 << (j % 8)
			} else {
				padded++
			}
		}
		run := []int32{3, 4, 5, 6}
		for _, c := range []struct {
			idx    []int32
			pad    []byte
			padded int
		}{{idx, nil, 0}, {idx, pad, padded}, {run, nil, 0}} {
			out := make([]arrow.Array, rec.NumCols())
			if err := takeColumns(ctx, rec.Columns(), c.idx, c.pad, c.padded, out); err != nil {
				t.Fatal(err)
			}
			for col, a := range out {
				for j, i := range c.idx {
					isPad := c.pad != nil && c.pad[j/8]&(1<<(j%8)) == 0
					want := rec.Column(col).GetOneForMarshal(int(i))
					if isPad {
						want = nil
					}
					if got := a.GetOneForMarshal(j); fmt.Sprint(got) != fmt.Sprint(want) {
						t.Fatalf("column %s, row %d (index %d, padded %v): got %v, want %v", codecSchema[col].Name, j, i, isPad, got, want)
					}
				}
			}
			releaseAll(out)
		}
	}
}
