package executor

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// repeatRecord returns rec with every row repeated k times in place (row 0
// k times, then row 1 k times, ...): what a HOP window assignment makes of
// its input. Fixed-width columns and strings are copied value by value
// rather than gathered through a list of indices; other kinds go through
// takeRecord.
func repeatRecord(ctx context.Context, rec arrow.Record, k int, alloc memory.Allocator) (arrow.Record, error) {
	n := int(rec.NumRows())
	cols := make([]arrow.Array, rec.NumCols())
	defer releaseAll(cols)
	var idx []int32 // built once, for the columns that need take
	for j, col := range rec.Columns() {
		if out := repeatArray(col, k, alloc); out != nil {
			cols[j] = out
			continue
		}
		if idx == nil {
			idx = make([]int32, 0, n*k)
			for i := 0; i < n; i++ {
				for r := 0; r < k; r++ {
					idx = append(idx, int32(i))
				}
			}
		}
		single := array.NewRecord(arrow.NewSchema([]arrow.Field{rec.Schema().Field(j)}, nil), []arrow.Array{col}, int64(n))
		one, err := takeRecord(ctx, single, idx, alloc)
		single.Release()
		if err != nil {
			return nil, err
		}
		cols[j] = one.Column(0)
		cols[j].Retain()
		one.Release()
	}
	return array.NewRecord(rec.Schema(), cols, int64(n*k)), nil
}

// repeatArray repeats every value of a k times, or returns nil for a kind
// it does not handle.
func repeatArray(a arrow.Array, k int, alloc memory.Allocator) arrow.Array {
	n := a.Len()
	data := a.Data()
	validity := repeatValidity(a, k, alloc)
	if w := byteWidth(a.DataType()); w > 0 {
		src := data.Buffers()[1].Bytes()[data.Offset()*w : (data.Offset()+n)*w]
		values := memory.NewResizableBuffer(alloc)
		values.Resize(n * k * w)
		dst := values.Bytes()
		for i := 0; i < n; i++ {
			v := src[i*w : (i+1)*w]
			for r := 0; r < k; r++ {
				copy(dst[(i*k+r)*w:], v)
			}
		}
		return finishRepeated(a, k, validity, values, nil)
	}
	s, ok := a.(*array.String)
	if !ok {
		if validity != nil {
			validity.Release()
		}
		return nil
	}
	total := 0
	for i := 0; i < n; i++ {
		total += k * s.ValueLen(i)
	}
	offsets := memory.NewResizableBuffer(alloc)
	offsets.Resize((n*k + 1) * arrow.Int32SizeBytes)
	offs := arrow.Int32Traits.CastFromBytes(offsets.Bytes())
	values := memory.NewResizableBuffer(alloc)
	values.Resize(total)
	dst := values.Bytes()
	pos := 0
	for i := 0; i < n; i++ {
		v := s.Value(i)
		for r := 0; r < k; r++ {
			offs[i*k+r] = int32(pos)
			pos += copy(dst[pos:], v)
		}
	}
	offs[n*k] = int32(pos)
	return finishRepeated(a, k, validity, offsets, values)
}

// repeatValidity repeats a's validity bits k times each; nil when a has no
// NULL.
func repeatValidity(a arrow.Array, k int, alloc memory.Allocator) *memory.Buffer {
	if a.NullN() == 0 {
		return nil
	}
	n := a.Len()
	buf := memory.NewResizableBuffer(alloc)
	buf.Resize(int(bitutil.BytesForBits(int64(n * k))))
	bits := buf.Bytes()
	clear(bits)
	for i := 0; i < n; i++ {
		if a.IsValid(i) {
			for r := 0; r < k; r++ {
				bitutil.SetBit(bits, i*k+r)
			}
		}
	}
	return buf
}

// byteWidth is the width in bytes of the values of the plain fixed-width
// types, 0 for any other.
func byteWidth(t arrow.DataType) int {
	switch t.ID() {
	case arrow.INT8, arrow.UINT8, arrow.INT16, arrow.UINT16, arrow.INT32, arrow.UINT32, arrow.INT64, arrow.UINT64,
		arrow.FLOAT32, arrow.FLOAT64, arrow.DATE32, arrow.DATE64, arrow.TIME32, arrow.TIME64, arrow.TIMESTAMP,
		arrow.DURATION, arrow.INTERVAL_MONTH_DAY_NANO:
		return t.(arrow.FixedWidthDataType).BitWidth() / 8
	}
	return 0
}

// finishRepeated makes the array of a's values repeated k times from the
// buffers, which it takes over.
func finishRepeated(a arrow.Array, k int, validity, first, second *memory.Buffer) arrow.Array {
	buffers := []*memory.Buffer{validity, first}
	if second != nil {
		buffers = append(buffers, second)
	}
	data := array.NewData(a.DataType(), a.Len()*k, buffers, nil, a.NullN()*k, 0)
	for _, b := range buffers {
		if b != nil {
			b.Release()
		}
	}
	defer data.Release()
	return array.MakeFromData(data)
}
