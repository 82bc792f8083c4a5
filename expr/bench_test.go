package expr

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/types"
)

const benchRows = 4096

// benchBatch has two int64 columns (a, b), with every 16th b NULL, and a
// float64 column c.
func benchBatch() arrow.Record {
	mem := memory.DefaultAllocator
	a := array.NewInt64Builder(mem)
	b := array.NewInt64Builder(mem)
	c := array.NewFloat64Builder(mem)
	for i := 0; i < benchRows; i++ {
		a.Append(int64(i))
		if i%16 == 0 {
			b.AppendNull()
		} else {
			b.Append(int64(i * 3))
		}
		c.Append(float64(i) / 7)
	}
	cols := []arrow.Array{a.NewArray(), b.NewArray(), c.NewArray()}
	schema := types.Schema{{Name: "a", Type: types.Int8}, {Name: "b", Type: types.Int8}, {Name: "c", Type: types.Float8}}.Arrow()
	rec := array.NewRecord(schema, cols, benchRows)
	for _, col := range cols {
		col.Release()
	}
	return rec
}

func mustCompile(b *testing.B, e Expr, err error) *Program {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
	p, err := Compile(e)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func reportPerRow(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRows, "ns/row")
}

// BenchmarkEvalArith is a*3 + b over int64 columns (with overflow checks and
// NULLs in b).
func BenchmarkEvalArith(b *testing.B) {
	batch := benchBatch()
	defer batch.Release()
	colA := &ColumnRef{Index: 0, T: types.Int8}
	colB := &ColumnRef{Index: 1, T: types.Int8}
	mul, err := Operator("*", colA, &Const{Value: int64(3), T: types.Int8})
	if err != nil {
		b.Fatal(err)
	}
	sum, err := Operator("+", mul, colB)
	p := mustCompile(b, sum, err)
	ctx := &EvalContext{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		arr, err := p.Eval(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		arr.Release()
	}
	reportPerRow(b)
}

// BenchmarkFilter keeps the rows where a % 2 = 0 AND c > 100.
func BenchmarkFilter(b *testing.B) {
	batch := benchBatch()
	defer batch.Release()
	colA := &ColumnRef{Index: 0, T: types.Int8}
	colC := &ColumnRef{Index: 2, T: types.Float8}
	mod, err := Operator("%", colA, &Const{Value: int32(2), T: types.Int4})
	if err != nil {
		b.Fatal(err)
	}
	even, err := Operator("=", mod, &Const{Value: int32(0), T: types.Int4})
	if err != nil {
		b.Fatal(err)
	}
	big, err := Operator(">", colC, &Const{Value: int32(100), T: types.Int4})
	if err != nil {
		b.Fatal(err)
	}
	p := mustCompile(b, &And{Args: []Expr{even, big}}, nil)
	ctx := &EvalContext{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := Filter(ctx, batch, p)
		if err != nil {
			b.Fatal(err)
		}
		out.Release()
	}
	reportPerRow(b)
}

// BenchmarkFilterSimple keeps the rows where a > 1000.
func BenchmarkFilterSimple(b *testing.B) {
	batch := benchBatch()
	defer batch.Release()
	pred, err := Operator(">", &ColumnRef{Index: 0, T: types.Int8}, &Const{Value: int32(1000), T: types.Int4})
	p := mustCompile(b, pred, err)
	ctx := &EvalContext{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := Filter(ctx, batch, p)
		if err != nil {
			b.Fatal(err)
		}
		out.Release()
	}
	reportPerRow(b)
}
