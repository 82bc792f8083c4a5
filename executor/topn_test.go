package executor

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// bids are the rows of the TopN tests: (auction, price, channel).
var bidsSchema = types.Schema{{Name: "auction", Type: types.Int8}, {Name: "price", Type: types.Int8}, {Name: "channel", Type: types.Text}}

func topNPlan(limit int64, rankCol, appendOnly bool) *plan.TopN {
	cols := append(types.Schema(nil), bidsSchema...)
	if rankCol {
		cols = append(cols, types.Column{Name: "rn", Type: types.Int8})
	}
	return &plan.TopN{
		Input:       &plan.Scan{Cols: bidsSchema, AppendOnlyInput: appendOnly, EventTime: -1},
		PartitionBy: []int{0},
		Order:       []plan.SortKey{{Col: 1, Desc: true, NullsFirst: true}},
		Limit:       limit,
		RankCol:     rankCol,
		Cols:        cols,
		WindowPart:  -1,
	}
}

// bid is a row of bids; a nil price is NULL.
func bid(op Op, auction int64, price any, channel string) topNInput {
	if p, ok := price.(int); ok {
		price = int64(p)
	}
	return topNInput{op: op, row: []types.Datum{auction, price, channel}}
}

type topNInput struct {
	op  Op
	row []types.Datum
}

func TestTopNChangelog(t *testing.T) {
	type epoch struct {
		in   []topNInput
		want string // the changes emitted at the barrier, deletes first
	}
	tests := []struct {
		name       string
		limit      int64
		rankCol    bool
		appendOnly bool
		epochs     []epoch
		keptRows   int
	}{
		{
			name: "an insert above the top shifts the ranks", limit: 2, rankCol: true,
			epochs: []epoch{
				{in: []topNInput{bid(Insert, 1, 100, "a"), bid(Insert, 1, 300, "b"), bid(Insert, 1, 50, "c"), bid(Insert, 2, 7, "d")},
					want: "+ 1 100 a 2\n+ 1 300 b 1\n+ 2 7 d 1"},
				{in: []topNInput{bid(Insert, 1, 200, "e")},
					want: "- 1 100 a 2\n+ 1 200 e 2"},
				{in: []topNInput{bid(Insert, 1, 400, "f")},
					want: "- 1 200 e 2\n- 1 300 b 1\n+ 1 300 b 2\n+ 1 400 f 1"},
			},
			keptRows: 6, // a retracting input keeps every row
		},
		{
			name: "a deleted top row promotes the next", limit: 2, rankCol: true,
			epochs: []epoch{
				{in: []topNInput{bid(Insert, 1, 100, "a"), bid(Insert, 1, 300, "b"), bid(Insert, 1, 50, "c")},
					want: "+ 1 100 a 2\n+ 1 300 b 1"},
				{in: []topNInput{bid(Delete, 1, 300, "b")},
					want: "- 1 100 a 2\n- 1 300 b 1\n+ 1 100 a 1\n+ 1 50 c 2"},
				{in: []topNInput{bid(Delete, 1, 100, "a"), bid(Delete, 1, 50, "c")},
					want: "- 1 100 a 1\n- 1 50 c 2"},
			},
			keptRows: 0,
		},
		{
			name: "without the rank a move inside the top is no change", limit: 2,
			epochs: []epoch{
				{in: []topNInput{bid(Insert, 1, 100, "a"), bid(Insert, 1, 300, "b")},
					want: "+ 1 100 a\n+ 1 300 b"},
				{in: []topNInput{bid(Delete, 1, 300, "b"), bid(Insert, 1, 50, "b")},
					want: "- 1 300 b\n+ 1 50 b"},
				{in: []topNInput{bid(Insert, 1, 10, "c"), bid(Delete, 1, 10, "c")}, want: ""},
			},
			keptRows: 2,
		},
		{
			name: "NULL sorts first in descending order; ties rank by the whole row", limit: 3, rankCol: true,
			epochs: []epoch{
				{in: []topNInput{bid(Insert, 1, 5, "b"), bid(Insert, 1, nil, "x"), bid(Insert, 1, 5, "a"), bid(Insert, 1, 1, "z")},
					want: "+ 1 5 a 2\n+ 1 5 b 3\n+ 1 NULL x 1"},
			},
			keptRows: 4,
		},
		{
			name: "identical rows take one rank each", limit: 3, rankCol: true,
			epochs: []epoch{
				{in: []topNInput{bid(Insert, 1, 5, "a"), bid(Insert, 1, 5, "a")},
					want: "+ 1 5 a 1\n+ 1 5 a 2"},
				{in: []topNInput{bid(Delete, 1, 5, "a")},
					want: "- 1 5 a 2"},
			},
			keptRows: 1,
		},
		{
			name: "an append-only input keeps only the top", limit: 1, appendOnly: true,
			epochs: []epoch{
				{in: []topNInput{bid(Insert, 1, 1, "a"), bid(Insert, 1, 3, "b"), bid(Insert, 1, 2, "c"), bid(Insert, 2, 9, "d")},
					want: "+ 1 3 b\n+ 2 9 d"},
				{in: []topNInput{bid(Insert, 1, 2, "e"), bid(Insert, 2, 10, "f")},
					want: "- 2 9 d\n+ 2 10 f"},
			},
			keptRows: 2,
		},
		{
			name: "a limit of zero keeps nothing", limit: 0, rankCol: true,
			epochs: []epoch{{in: []topNInput{bid(Insert, 1, 1, "a")}, want: ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			alloc := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer alloc.AssertSize(t, 0)
			n := topNPlan(tt.limit, tt.rankCol, tt.appendOnly)
			op, err := NewTopN(n, alloc, tt.appendOnly)
			if err != nil {
				t.Fatal(err)
			}
			op.TrackChanges()
			stored := map[string][]byte{} // what incremental checkpoints hold
			out := &collector{schema: n.Cols}
			for e, ep := range tt.epochs {
				for _, in := range ep.in {
					rec := record(t, alloc, bidsSchema, in.row)
					c := Chunk{Rec: rec}
					if in.op == Delete {
						c.Ops = []Op{Delete}
					}
					err := op.Process(ctx, 0, c, out.emit)
					rec.Release()
					if err != nil {
						t.Fatal(err)
					}
				}
				if got := out.take(); got != "" {
					t.Fatalf("epoch %d: emitted before the barrier:\n%s", e+1, got)
				}
				if err := op.Barrier(ctx, Barrier{Epoch: uint64(e + 1)}, out.emit); err != nil {
					t.Fatal(err)
				}
				if got := out.take(); got != ep.want {
					t.Errorf("epoch %d:\ngot\n%s\nwant\n%s", e+1, got, ep.want)
				}
				// The checkpoint, loaded into a new operator, holds what
				// this one holds.
				d := &StateDelta{}
				d.reset(uint64(e+1), false)
				op.SaveChanges(d, false)
				_ = d.Each(func(key, value []byte) error {
					if value == nil {
						delete(stored, string(key))
					} else {
						stored[string(key)] = bytes.Clone(value)
					}
					return nil
				})
				restored, err := NewTopN(n, alloc, tt.appendOnly)
				if err != nil {
					t.Fatal(err)
				}
				for key, value := range stored {
					if err := restored.LoadEntry([]byte(key), value); err != nil {
						t.Fatal(err)
					}
				}
				if restored.Partitions() != op.Partitions() || restored.Rows() != op.Rows() {
					t.Errorf("epoch %d: the checkpoint restores %d partitions of %d rows, the operator holds %d of %d",
						e+1, restored.Partitions(), restored.Rows(), op.Partitions(), op.Rows())
				}
			}
			if got := op.Rows(); got != tt.keptRows {
				t.Errorf("rows kept: got %d, want %d", got, tt.keptRows)
			}
		})
	}
}

// TestOrderEncoderMatchesOrderBy checks that bytewise order of the encoded
// keys is PostgreSQL's ORDER BY order, for each direction and NULL placement.
func TestOrderEncoderMatchesOrderBy(t *testing.T) {
	tests := []struct {
		typ    types.T
		values []types.Datum // ascending, NULL apart; equal values adjacent
	}{
		{types.Int8, []types.Datum{int64(math.MinInt64), int64(-2), int64(0), int64(3), int64(math.MaxInt64)}},
		{types.Int4, []types.Datum{int32(-5), int32(0), int32(7)}},
		{types.Float8, []types.Datum{math.Inf(-1), -1.5, math.Copysign(0, -1), 0.0, 0.25, math.Inf(1), math.NaN()}},
		{types.Text, []types.Datum{"", "A", "a", "ab", "b", "é"}},
		{types.Bytea, []types.Datum{[]byte{}, []byte{0}, []byte{0, 0}, []byte{0, 1}, []byte{1}}},
		{types.Bool, []types.Datum{false, true}},
	}
	alloc := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer alloc.AssertSize(t, 0)
	for _, tt := range tests {
		for _, key := range []plan.SortKey{{}, {Desc: true, NullsFirst: true}, {NullsFirst: true}, {Desc: true}} {
			schema := types.Schema{{Name: "x", Type: tt.typ}}
			rows := [][]types.Datum{{nil}}
			for _, v := range tt.values {
				rows = append(rows, []types.Datum{v})
			}
			rec := record(t, alloc, schema, rows...)
			keys := newOrderEncoder([]plan.SortKey{key}, schema.Types()).encode(rec)
			// want: position in ORDER BY order of each input row.
			order := make([]int, 0, len(rows))
			for i := range tt.values {
				order = append(order, i+1)
			}
			if key.Desc {
				for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
					order[i], order[j] = order[j], order[i]
				}
			}
			if key.NullsFirst {
				order = append([]int{0}, order...)
			} else {
				order = append(order, 0)
			}
			for i := 1; i < len(order); i++ {
				a, b := keys[order[i-1]], keys[order[i]]
				equal := tt.typ == types.Float8 && isZero(tt.values, order[i-1], order[i])
				if c := bytes.Compare(a, b); c > 0 || (c == 0) != equal {
					t.Errorf("%v %+v: %v encodes %x, then %v encodes %x", tt.typ, key, rows[order[i-1]][0], a, rows[order[i]][0], b)
				}
			}
			// Prefix-freedom: what follows a key cannot change how it compares.
			for i, x := range keys {
				for j, y := range keys {
					if i != j && len(x) < len(y) && bytes.HasPrefix(y, x) {
						t.Errorf("%v %+v: key %x is a prefix of %x", tt.typ, key, x, y)
					}
				}
			}
			rec.Release()
		}
	}
}

// isZero reports whether rows i and j (1-based into values) are -0 and 0,
// which ORDER BY considers equal.
func isZero(values []types.Datum, i, j int) bool {
	if i == 0 || j == 0 {
		return false
	}
	return values[i-1].(float64) == 0 && values[j-1].(float64) == 0
}

func TestTopNPerWindowFreesClosedWindows(t *testing.T) {
	ctx := context.Background()
	schema := types.Schema{{Name: "window_end", Type: types.Timestamp}, {Name: "price", Type: types.Int8}}
	n := &plan.TopN{Input: &plan.Scan{Cols: schema, AppendOnlyInput: true, EventTime: -1}, PartitionBy: []int{0},
		Order: []plan.SortKey{{Col: 1, Desc: true, NullsFirst: true}}, Limit: 1, Cols: schema, WindowPart: 0}
	top, err := NewTopN(n, memory.DefaultAllocator, true)
	if err != nil {
		t.Fatal(err)
	}
	out := &collector{schema: schema}
	rec := record(t, memory.DefaultAllocator, schema,
		[]types.Datum{ts("2026-01-01 00:00:10"), int64(5)}, []types.Datum{ts("2026-01-01 00:00:20"), int64(7)})
	defer rec.Release()
	if err := top.Process(ctx, 0, Chunk{Rec: rec}, out.emit); err != nil {
		t.Fatal(err)
	}
	// The watermark closes the first window before any barrier: its row
	// goes out first, then its state is freed.
	if err := top.Watermark(ctx, ts("2026-01-01 00:00:10").(int64), out.emit); err != nil {
		t.Fatal(err)
	}
	if got := out.take(); !strings.Contains(got, "+ 2026-01-01 00:00:10 5") {
		t.Fatalf("emitted %q before freeing, want the closed window's row", got)
	}
	if top.Partitions() != 1 {
		t.Fatalf("partitions held = %d, want 1", top.Partitions())
	}
}
