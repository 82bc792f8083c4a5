package executor

import (
	"context"
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/expr"
)

// Typed views of Arrow columns for the per-row loops of operators. Each
// returns the column's values as a plain slice once per batch, so loops index
// a slice instead of calling through an interface per value. Integer-like
// columns of narrower widths are widened into scratch.

// int64s returns the values of an integer, date, time or timestamp column as
// int64s (days for dates, microseconds for times and timestamps).
func int64s(a arrow.Array, scratch []int64) []int64 {
	switch a := a.(type) {
	case *array.Int64:
		return a.Int64Values()
	case *array.Timestamp:
		v := a.TimestampValues()
		return unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(v))), len(v))
	case *array.Time64:
		v := a.Time64Values()
		return unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(v))), len(v))
	case *array.Int32:
		scratch = grow(scratch, a.Len())
		for i, x := range a.Int32Values() {
			scratch[i] = int64(x)
		}
		return scratch
	case *array.Date32:
		scratch = grow(scratch, a.Len())
		for i, x := range a.Date32Values() {
			scratch[i] = int64(x)
		}
		return scratch
	case *array.Int16:
		scratch = grow(scratch, a.Len())
		for i, x := range a.Int16Values() {
			scratch[i] = int64(x)
		}
		return scratch
	}
	panic("executor: int64s on a " + a.DataType().String() + " column")
}

// int64At returns row i of an integer, date, time or timestamp column.
func int64At(a arrow.Array, i int) int64 {
	switch a := a.(type) {
	case *array.Int64:
		return a.Value(i)
	case *array.Timestamp:
		return int64(a.Value(i))
	case *array.Time64:
		return int64(a.Value(i))
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Date32:
		return int64(a.Value(i))
	case *array.Int16:
		return int64(a.Value(i))
	}
	panic("executor: int64At on a " + a.DataType().String() + " column")
}

// float64s returns the values of a float column as float64s.
func float64s(a arrow.Array, scratch []float64) []float64 {
	switch a := a.(type) {
	case *array.Float64:
		return a.Float64Values()
	case *array.Float32:
		scratch = grow(scratch, a.Len())
		for i, x := range a.Float32Values() {
			scratch[i] = float64(x)
		}
		return scratch
	}
	panic("executor: float64s on a " + a.DataType().String() + " column")
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// takeRecord gathers rows idx of rec (an index may repeat) into a new record.
// Columns are taken one after another on the calling goroutine (arrow's
// record-level kernels would fan out to goroutines) and intervals, which
// arrow's take kernel lacks, are handled by takeArray.
func takeRecord(ctx context.Context, rec arrow.Record, idx []int32, alloc memory.Allocator) (arrow.Record, error) {
	out, err := expr.TakeRecord(alloc, rec, idx)
	if err != nil {
		return nil, fmt.Errorf("take rows: %w", err)
	}
	return out, nil
}

// filterRecord keeps the rows of rec where keep is true.
func filterRecord(ctx context.Context, rec arrow.Record, keep []bool, alloc memory.Allocator, scratch *[]int32) (arrow.Record, error) {
	idx := (*scratch)[:0]
	for i, k := range keep {
		if k {
			idx = append(idx, int32(i))
		}
	}
	*scratch = idx
	return takeRecord(ctx, rec, idx, alloc)
}
