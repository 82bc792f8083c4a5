package executor

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// The join tests join L(k integer, lv text) with R(k bigint, rv text) on k
// unless they say otherwise: keys of different integer widths match.
var (
	joinLeftTypes  = []types.T{types.Int4, types.Text}
	joinRightTypes = []types.T{types.Int8, types.Text}
)

var joinTypes = []plan.JoinType{plan.InnerJoin, plan.LeftJoin, plan.RightJoin, plan.FullJoin}

func TestHashJoinMatchesLikeSQL(t *testing.T) {
	left := [][]any{{1, "a"}, {2, "b"}, {2, "b2"}, {nil, "n"}, {4, "d"}}
	right := [][]any{{2, "x"}, {2, "y"}, {3, "z"}, {nil, "rn"}, {1, "w"}}
	// Every pair with equal non-NULL keys, whatever the join type.
	matches := [][]any{
		{1, "a", 1, "w"},
		{2, "b", 2, "x"}, {2, "b", 2, "y"},
		{2, "b2", 2, "x"}, {2, "b2", 2, "y"},
	}
	// Left rows without a match: a NULL key never matches, not even NULL.
	leftOnly := [][]any{{nil, "n", nil, nil}, {4, "d", nil, nil}}
	rightOnly := [][]any{{nil, nil, 3, "z"}, {nil, nil, nil, "rn"}}

	tests := []struct {
		typ  plan.JoinType
		want [][]any
	}{
		{plan.InnerJoin, matches},
		{plan.LeftJoin, concatRows(matches, leftOnly)},
		{plan.RightJoin, concatRows(matches, rightOnly)},
		{plan.FullJoin, concatRows(matches, leftOnly, rightOnly)},
	}
	for _, tt := range tests {
		// Each join runs with both sides in one chunk and in chunks of one
		// and two rows: several build records, several probe chunks.
		for _, split := range []int{0, 1, 2} {
			t.Run(fmt.Sprintf("%s/split=%d", tt.typ, split), func(t *testing.T) {
				got := runJoin(t, joinSpec{typ: tt.typ, left: left, right: right, split: split})
				assertRowSet(t, got, tt.want)
			})
		}
	}
}

func TestHashJoinWithAnEmptySide(t *testing.T) {
	some := [][]any{{1, "a"}, {nil, "n"}}
	tests := []struct {
		typ         plan.JoinType
		left, right [][]any
		want        [][]any
	}{
		{plan.InnerJoin, nil, some, nil},
		{plan.InnerJoin, some, nil, nil},
		{plan.LeftJoin, some, nil, [][]any{{1, "a", nil, nil}, {nil, "n", nil, nil}}},
		{plan.LeftJoin, nil, some, nil},
		{plan.RightJoin, nil, some, [][]any{{nil, nil, 1, "a"}, {nil, nil, nil, "n"}}},
		{plan.RightJoin, some, nil, nil},
		{plan.FullJoin, some, nil, [][]any{{1, "a", nil, nil}, {nil, "n", nil, nil}}},
		{plan.FullJoin, nil, some, [][]any{{nil, nil, 1, "a"}, {nil, nil, nil, "n"}}},
		{plan.FullJoin, nil, nil, nil},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s/left=%d/right=%d", tt.typ, len(tt.left), len(tt.right))
		t.Run(name, func(t *testing.T) {
			got := runJoin(t, joinSpec{typ: tt.typ, left: tt.left, right: tt.right})
			assertRowSet(t, got, tt.want)
		})
	}
}

func TestHashJoinOnSeveralKeys(t *testing.T) {
	// L(a int, b text, v int) JOIN R(a bigint, b varchar) ON L.a = R.a AND
	// L.b = R.b: a row matches only if both keys are equal and not NULL.
	ltypes := []types.T{types.Int4, types.Text, types.Int4}
	rtypes := []types.T{types.Int8, types.Varchar}
	left := [][]any{{1, "x", 10}, {1, "y", 11}, {1, nil, 12}, {2, "x", 13}}
	right := [][]any{{1, "x"}, {1, "y"}, {1, nil}, {2, "y"}}
	got := runJoin(t, joinSpec{
		typ: plan.FullJoin, leftTypes: ltypes, rightTypes: rtypes,
		leftKeys: []int{0, 1}, rightKeys: []int{0, 1},
		left: left, right: right,
	})
	assertRowSet(t, got, [][]any{
		{1, "x", 10, 1, "x"},
		{1, "y", 11, 1, "y"},
		{1, nil, 12, nil, nil},
		{2, "x", 13, nil, nil},
		{nil, nil, nil, 1, nil},
		{nil, nil, nil, 2, "y"},
	})
}

func TestHashJoinResidualPredicate(t *testing.T) {
	// L(k int, lv text) JOIN R(k bigint, ok boolean) ON L.k = R.k AND R.ok:
	// a pair whose residual is false or NULL does not match, so an outer
	// join emits its rows as unmatched.
	rtypes := []types.T{types.Int8, types.Bool}
	left := [][]any{{1, "a"}, {2, "b"}, {3, "c"}, {nil, "n"}}
	right := [][]any{{1, true}, {1, false}, {2, false}, {2, nil}, {4, true}}
	okIsTrue := &expr.ColumnRef{Index: 3, T: types.Bool, Name: "ok"}
	matches := [][]any{{1, "a", 1, true}}
	leftOnly := [][]any{{2, "b", nil, nil}, {3, "c", nil, nil}, {nil, "n", nil, nil}}
	rightOnly := [][]any{{nil, nil, 1, false}, {nil, nil, 2, false}, {nil, nil, 2, nil}, {nil, nil, 4, true}}
	tests := []struct {
		typ  plan.JoinType
		want [][]any
	}{
		{plan.InnerJoin, matches},
		{plan.LeftJoin, concatRows(matches, leftOnly)},
		{plan.RightJoin, concatRows(matches, rightOnly)},
		{plan.FullJoin, concatRows(matches, leftOnly, rightOnly)},
	}
	for _, tt := range tests {
		for _, split := range []int{0, 1} {
			t.Run(fmt.Sprintf("%s/split=%d", tt.typ, split), func(t *testing.T) {
				got := runJoin(t, joinSpec{
					typ: tt.typ, rightTypes: rtypes, left: left, right: right,
					residual: okIsTrue, split: split,
				})
				assertRowSet(t, got, tt.want)
			})
		}
	}
}

func TestHashJoinResidualOverBothSides(t *testing.T) {
	// ON L.k = R.k AND NOT L.flag AND R.note IS NOT NULL
	ltypes := []types.T{types.Int4, types.Bool}
	left := [][]any{{1, false}, {1, true}, {2, false}}
	right := [][]any{{1, "x"}, {1, nil}, {2, "y"}}
	residual := &expr.And{Args: []expr.Expr{
		&expr.Not{Arg: &expr.ColumnRef{Index: 1, T: types.Bool, Name: "flag"}},
		&expr.IsNull{Arg: &expr.ColumnRef{Index: 3, T: types.Text, Name: "note"}, Negate: true},
	}}
	got := runJoin(t, joinSpec{typ: plan.LeftJoin, leftTypes: ltypes, left: left, right: right, residual: residual})
	assertRowSet(t, got, [][]any{
		{1, false, 1, "x"},
		{1, true, nil, nil},
		{2, false, 2, "y"},
	})
}

func TestHashJoinCarriesEveryTypeThroughOuterRows(t *testing.T) {
	// Columns of every storage on both sides, gathered for matches and
	// NULL for the missing side of outer rows.
	all := []types.T{types.Int4, types.Bool, types.Int2, types.Float4, types.Numeric, types.Varchar,
		types.Bytea, types.Date, types.Time, types.TimestampTZ, types.Interval, types.Null}
	row := func(k any) []any {
		return []any{k, true, 2, float32(1.5), 2.25, "v", []byte{1}, 3, 4, 5, types.IntervalValue{Months: 1, Days: 2, Micros: 3}, nil}
	}
	nulls := make([]any, len(all))
	left := [][]any{row(1), row(2)}
	right := [][]any{row(1), row(3)}
	got := runJoin(t, joinSpec{typ: plan.FullJoin, leftTypes: all, rightTypes: all, left: left, right: right})
	assertRowSet(t, got, [][]any{
		append(row(1), row(1)...),
		append(row(2), nulls...),
		append(slices.Clone(nulls), row(3)...),
	})
}

func TestHashJoinAgreesWithNestedLoops(t *testing.T) {
	// Random inputs with few distinct keys (many duplicates), NULL keys and
	// random chunking, checked against the definition of each join.
	rtypes := []types.T{types.Int8, types.Bool}
	okIsTrue := &expr.ColumnRef{Index: 3, T: types.Bool, Name: "ok"}
	rng := rand.New(rand.NewPCG(7, 11))
	key := func() any {
		if rng.IntN(8) == 0 {
			return nil
		}
		return rng.IntN(12)
	}
	for round := range 20 {
		left := make([][]any, rng.IntN(60))
		for i := range left {
			left[i] = []any{key(), fmt.Sprint("l", i)}
		}
		right := make([][]any, rng.IntN(60))
		for i := range right {
			var ok any = rng.IntN(2) == 0
			if rng.IntN(6) == 0 {
				ok = nil
			}
			right[i] = []any{key(), ok}
		}
		split := rng.IntN(10)
		for _, typ := range joinTypes {
			for _, withResidual := range []bool{false, true} {
				name := fmt.Sprintf("round=%d/%s/residual=%v", round, typ, withResidual)
				t.Run(name, func(t *testing.T) {
					spec := joinSpec{typ: typ, rightTypes: rtypes, left: left, right: right, split: split}
					pass := func([]any) bool { return true }
					if withResidual {
						spec.residual = okIsTrue
						pass = func(row []any) bool { return row[3] == true }
					}
					want := nestedLoopJoin(typ, left, right, 2, 2, pass)
					assertRowSet(t, runJoin(t, spec), want)
				})
			}
		}
	}
}

func TestHashJoinBoundsItsOutputChunks(t *testing.T) {
	// 150 × 100 rows with one key: one probe chunk yields 15000 rows, which
	// leave in chunks of at most outputChunkRows.
	const nl, nr = 150, 100
	left := make([][]any, nl)
	for i := range left {
		left[i] = []any{7, fmt.Sprint(i)}
	}
	right := make([][]any, nr)
	for i := range right {
		right[i] = []any{7, fmt.Sprint(i)}
	}
	for _, residual := range []expr.Expr{nil, &expr.IsNull{Arg: &expr.ColumnRef{Index: 1, T: types.Text}, Negate: true}} {
		t.Run(fmt.Sprintf("residual=%v", residual != nil), func(t *testing.T) {
			var sizes []int
			got := runJoin(t, joinSpec{typ: plan.FullJoin, left: left, right: right, residual: residual, sizes: &sizes})
			if len(got) != nl*nr {
				t.Fatalf("%d rows, want %d", len(got), nl*nr)
			}
			for _, s := range sizes {
				if s > outputChunkRows {
					t.Fatalf("emitted a chunk of %d rows", s)
				}
			}
		})
	}
}

func TestHashJoinRefusesMisuse(t *testing.T) {
	mem := checkedAlloc(t)
	ctx := context.Background()
	ectx := &expr.EvalContext{Alloc: mem}
	rec := recordOf(t, mem, joinLeftTypes, [][]any{{1, "a"}})
	defer rec.Release()
	newJoin := func(lt, rt []types.T) *HashJoin {
		return NewHashJoin(joinPlan(plan.InnerJoin, lt, rt, []int{0}, []int{0}, nil), lt, rt, nil, ectx)
	}
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"a changelog chunk", func() error {
			return newJoin(joinLeftTypes, joinRightTypes).Process(ctx, 1, Chunk{Rec: rec, Ops: []Op{Insert}}, nil)
		}, "batch-only"},
		{"a probe before BuildDone", func() error {
			return newJoin(joinLeftTypes, joinRightTypes).Process(ctx, 0, Chunk{Rec: rec}, nil)
		}, "build side"},
		{"build input after BuildDone", func() error {
			j := newJoin(joinLeftTypes, joinRightTypes)
			j.BuildDone()
			return j.Process(ctx, 1, Chunk{Rec: rec}, nil)
		}, "after BuildDone"},
		{"keys of incomparable types", func() error {
			ft := []types.T{types.Float8, types.Text}
			j := newJoin(joinLeftTypes, ft)
			j.BuildDone()
			return j.Process(ctx, 0, Chunk{Rec: rec}, nil)
		}, "compares integer with double precision"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error about %q", err, tt.want)
			}
		})
	}
}

func TestHashJoinCloseReleasesTheBuildSide(t *testing.T) {
	mem := checkedAlloc(t)
	ctx := context.Background()
	for _, index := range []bool{false, true} {
		j := NewHashJoin(joinPlan(plan.FullJoin, joinLeftTypes, joinRightTypes, []int{0}, []int{0}, nil),
			joinLeftTypes, joinRightTypes, nil, &expr.EvalContext{Alloc: mem})
		rec := recordOf(t, mem, joinRightTypes, [][]any{{1, "a"}, {2, "b"}})
		if err := j.Process(ctx, 1, Chunk{Rec: rec}, nil); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		j.BuildDone()
		if index {
			probe := recordOf(t, mem, joinLeftTypes, [][]any{{1, "x"}})
			var got rowCollector
			if err := j.Process(ctx, 0, Chunk{Rec: probe}, got.emit); err != nil {
				t.Fatal(err)
			}
			probe.Release()
		}
		j.Close() // the checked allocator fails the test if a buffer is left
	}
}

func BenchmarkHashJoin(b *testing.B) {
	// 100k build rows with distinct keys, 1M probe rows each matching one:
	// the shape of a fact table joined to a dimension.
	const buildRows, probeRows = 100_000, 1 << 20
	rng := rand.New(rand.NewPCG(3, 5))
	keys := rng.Perm(buildRows)
	build := int64Records(buildRows, func(i int) int64 { return int64(keys[i]) }, func(i int) int64 { return int64(i) })
	probe := int64Records(probeRows, func(int) int64 { return rng.Int64N(buildRows) }, func(i int) int64 { return int64(i) })
	defer releaseRecords(build)
	defer releaseRecords(probe)
	ts := []types.T{types.Int8, types.Int8}
	j := joinPlan(plan.InnerJoin, ts, ts, []int{0}, []int{0}, nil)
	ectx := &expr.EvalContext{Alloc: memory.DefaultAllocator}
	ctx := context.Background()
	out := 0
	count := func(_ context.Context, c Chunk) error { out += c.Len(); return nil }
	b.ResetTimer()
	for b.Loop() {
		h := NewHashJoin(j, ts, ts, nil, ectx)
		for _, r := range build {
			if err := h.Process(ctx, 1, Chunk{Rec: r}, nil); err != nil {
				b.Fatal(err)
			}
		}
		h.BuildDone()
		for _, r := range probe {
			if err := h.Process(ctx, 0, Chunk{Rec: r}, count); err != nil {
				b.Fatal(err)
			}
		}
		if err := h.Finish(ctx, count); err != nil {
			b.Fatal(err)
		}
	}
	if out != b.N*probeRows {
		b.Fatalf("%d output rows, want %d", out, b.N*probeRows)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/probeRows, "ns/row")
}

// joinSpec describes one run of a hash join in a test. Zero fields take the
// defaults of the join tests: joinLeftTypes, joinRightTypes, key column 0 on both
// sides, no residual, every input in one chunk.
type joinSpec struct {
	typ                   plan.JoinType
	leftTypes, rightTypes []types.T
	leftKeys, rightKeys   []int
	left, right           [][]any
	residual              expr.Expr
	split                 int    // rows per input chunk; 0 for one chunk
	sizes                 *[]int // if set, receives the sizes of the output chunks
}

// runJoin runs the join over the rows of spec and returns its output rows,
// checking that every buffer is released.
func runJoin(t *testing.T, spec joinSpec) [][]any {
	t.Helper()
	if spec.leftTypes == nil {
		spec.leftTypes = joinLeftTypes
	}
	if spec.rightTypes == nil {
		spec.rightTypes = joinRightTypes
	}
	if spec.leftKeys == nil {
		spec.leftKeys, spec.rightKeys = []int{0}, []int{0}
	}
	mem := checkedAlloc(t)
	ctx := context.Background()
	ectx := &expr.EvalContext{Alloc: mem}
	var prog *expr.Program
	if spec.residual != nil {
		var err error
		if prog, err = expr.Compile(spec.residual); err != nil {
			t.Fatal(err)
		}
	}
	j := NewHashJoin(joinPlan(spec.typ, spec.leftTypes, spec.rightTypes, spec.leftKeys, spec.rightKeys, spec.residual),
		spec.leftTypes, spec.rightTypes, prog, ectx)
	var got rowCollector
	feed := func(input int, ts []types.T, rows [][]any) {
		for _, rec := range splitRecords(t, mem, ts, rows, spec.split) {
			err := j.Process(ctx, input, Chunk{Rec: rec}, got.emit)
			rec.Release()
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	feed(buildInput, spec.rightTypes, spec.right)
	j.BuildDone()
	feed(probeInput, spec.leftTypes, spec.left)
	if err := j.Finish(ctx, got.emit); err != nil {
		t.Fatal(err)
	}
	if spec.sizes != nil {
		*spec.sizes = got.sizes
	}
	return got.rows
}

func joinPlan(typ plan.JoinType, lt, rt []types.T, lk, rk []int, residual expr.Expr) *plan.Join {
	var cols types.Schema
	for i, t := range lt {
		cols = append(cols, types.Column{Name: fmt.Sprint("l", i), Type: t})
	}
	for i, t := range rt {
		cols = append(cols, types.Column{Name: fmt.Sprint("r", i), Type: t})
	}
	return &plan.Join{Type: typ, LeftKeys: lk, RightKeys: rk, Residual: residual, Cols: cols}
}

// nestedLoopJoin is the definition of a join on left[lk] = right[rk] with
// residual pass, for rows with two columns a side.
func nestedLoopJoin(typ plan.JoinType, left, right [][]any, nl, nr int, pass func([]any) bool) [][]any {
	var out [][]any
	rightMatched := make([]bool, len(right))
	for _, l := range left {
		matched := false
		for j, r := range right {
			if l[0] == nil || r[0] == nil || l[0] != r[0] {
				continue
			}
			row := concatRows([][]any{l}, nil)[0]
			row = append(row, r...)
			if !pass(row) {
				continue
			}
			out = append(out, row)
			matched = true
			rightMatched[j] = true
		}
		if !matched && (typ == plan.LeftJoin || typ == plan.FullJoin) {
			out = append(out, append(append([]any{}, l...), make([]any, nr)...))
		}
	}
	if typ == plan.RightJoin || typ == plan.FullJoin {
		for j, r := range right {
			if !rightMatched[j] {
				out = append(out, append(make([]any, nl), r...))
			}
		}
	}
	return out
}

// concatRows returns the rows of all the lists, copied.
func concatRows(lists ...[][]any) [][]any {
	var out [][]any
	for _, l := range lists {
		for _, r := range l {
			out = append(out, append([]any{}, r...))
		}
	}
	return out
}
