package expr

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Row selection, for Filter here and for the executor's joins, sorts and
// windows. The layouts of Sluice's types are gathered here, in about half
// the time of Arrow's Take kernel (which also has no 128-bit values, our
// intervals): fixed-width values by element size, booleans bit by bit,
// strings and binaries through their offsets with the data sized first.
// Other layouts fall back to Arrow's Take.

// selectedRows lists the rows set in the selection bitmap sel.
func selectedRows(sel []byte, n, count int) []int32 {
	idx := make([]int32, 0, count)
	for i := 0; i < n; i++ {
		if sel[i>>3] == 0 && i&7 == 0 {
			i += 7
			continue
		}
		if bitutil.BitIsSet(sel, i) {
			idx = append(idx, int32(i))
		}
	}
	return idx
}

// TakeRecord returns the rows idx of batch (an index may repeat).
func TakeRecord(mem memory.Allocator, batch arrow.Record, idx []int32) (arrow.Record, error) {
	cols := make([]arrow.Array, batch.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, col := range batch.Columns() {
		c, err := Take(mem, col, idx, nil)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", batch.ColumnName(i), err)
		}
		cols[i] = c
	}
	return array.NewRecord(batch.Schema(), cols, int64(len(idx))), nil
}

// Take returns the rows idx of arr (an index may repeat). With pad, a
// bitmap over idx, the rows whose bit is clear are NULL whatever their
// index (the NULL side of an outer join's padded rows).
func Take(mem memory.Allocator, arr arrow.Array, idx []int32, pad []byte) (arrow.Array, error) {
	dt := arr.DataType()
	switch dt.ID() {
	case arrow.NULL:
		return array.MakeArrayOfNull(mem, dt, len(idx)), nil
	case arrow.BOOL:
		return takeBool(mem, arr, idx, pad), nil
	case arrow.STRING, arrow.BINARY:
		return takeBinary(mem, arr, idx, pad), nil
	}
	if fw, ok := dt.(arrow.FixedWidthDataType); ok {
		switch fw.BitWidth() {
		case 8:
			return takeFixed[int8](mem, arr, idx, pad), nil
		case 16:
			return takeFixed[int16](mem, arr, idx, pad), nil
		case 32:
			return takeFixed[int32](mem, arr, idx, pad), nil
		case 64:
			return takeFixed[int64](mem, arr, idx, pad), nil
		case 128:
			return takeFixed[arrow.MonthDayNanoInterval](mem, arr, idx, pad), nil
		}
	}
	// Not a layout of a Sluice type; let Arrow do it, on one goroutine. A
	// NULL index gives a NULL.
	b := array.NewInt32Builder(mem)
	b.AppendValues(idx, nil)
	indices := b.NewArray()
	b.Release()
	defer indices.Release()
	if pad != nil {
		d := indices.Data()
		valid := memory.NewBufferBytes(pad)
		nd := array.NewData(d.DataType(), d.Len(), []*memory.Buffer{valid, d.Buffers()[1]}, nil, array.UnknownNullCount, 0)
		masked := array.MakeFromData(nd)
		nd.Release()
		defer masked.Release()
		indices = masked
	}
	ec := compute.DefaultExecCtx()
	ec.NumParallel = 1
	ctx := compute.WithAllocator(compute.SetExecCtx(context.Background(), ec), mem)
	return compute.TakeArray(ctx, arr, indices)
}

// takeValidity gathers the validity of idx from arr, cleared where pad is;
// nil when all are valid.
func takeValidity(mem memory.Allocator, arr arrow.Array, idx []int32, pad []byte) (*memory.Buffer, int) {
	if arr.NullN() == 0 && pad == nil {
		return nil, 0
	}
	src, off := arr.NullBitmapBytes(), arr.Data().Offset()
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(int(bitutil.BytesForBits(int64(len(idx)))))
	dst := buf.Bytes()
	clear(dst)
	nulls := 0
	for j, i := range idx {
		if (pad == nil || bitutil.BitIsSet(pad, j)) && (src == nil || bitutil.BitIsSet(src, off+int(i))) {
			bitutil.SetBit(dst, j)
		} else {
			nulls++
		}
	}
	if nulls == 0 {
		buf.Release()
		return nil, 0
	}
	return buf, nulls
}

func takeFixed[T arrow.FixedWidthType](mem memory.Allocator, arr arrow.Array, idx []int32, pad []byte) arrow.Array {
	valid, nulls := takeValidity(mem, arr, idx, pad)
	vals := arrow.GetValues[T](arr.Data(), 1)
	buf := memory.NewResizableBuffer(mem)
	var zero T
	buf.Resize(len(idx) * sizeOfT(zero))
	out := arrow.GetData[T](buf.Bytes())[:len(idx)]
	if vals != nil {
		for j, i := range idx {
			out[j] = vals[i]
		}
	}
	return newArray(arr.DataType(), len(idx), []*memory.Buffer{valid, buf}, nulls)
}

func takeBool(mem memory.Allocator, arr arrow.Array, idx []int32, pad []byte) arrow.Array {
	valid, nulls := takeValidity(mem, arr, idx, pad)
	d := arr.Data()
	src, off := d.Buffers()[1].Bytes(), d.Offset()
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(int(bitutil.BytesForBits(int64(len(idx)))))
	dst := buf.Bytes()
	clear(dst)
	for j, i := range idx {
		if bitutil.BitIsSet(src, off+int(i)) {
			bitutil.SetBit(dst, j)
		}
	}
	return newArray(arr.DataType(), len(idx), []*memory.Buffer{valid, buf}, nulls)
}

func takeBinary(mem memory.Allocator, arr arrow.Array, idx []int32, pad []byte) arrow.Array {
	valid, nulls := takeValidity(mem, arr, idx, pad)
	src := binaryOf(vec{arr: arr})
	size := 0
	for _, i := range idx {
		if src.offs != nil {
			size += int(src.offs[i+1] - src.offs[i])
		}
	}
	offBuf := memory.NewResizableBuffer(mem)
	offBuf.Resize((len(idx) + 1) * 4)
	offs := arrow.GetData[int32](offBuf.Bytes())[:len(idx)+1]
	dataBuf := memory.NewResizableBuffer(mem)
	dataBuf.Resize(size)
	data := dataBuf.Bytes()
	pos := 0
	for j, i := range idx {
		offs[j] = int32(pos)
		if src.offs != nil {
			pos += copy(data[pos:], src.at(int(i)))
		}
	}
	offs[len(idx)] = int32(pos)
	return newArray(arr.DataType(), len(idx), []*memory.Buffer{valid, offBuf, dataBuf}, nulls)
}

// newArray wraps buffers into an array and drops this function's references
// to them.
func newArray(dt arrow.DataType, n int, bufs []*memory.Buffer, nulls int) arrow.Array {
	d := array.NewData(dt, n, bufs, nil, nulls, 0)
	arr := array.MakeFromData(d)
	d.Release()
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	return arr
}
