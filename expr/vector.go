package expr

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/types"
)

// vec is the value of a subexpression over a batch: an array of one value
// per row, or, when scalar is set, an array of length one whose value stands
// for every row (a constant, or a computation on constants). Whoever holds a
// vec owns one reference to arr.
type vec struct {
	arr    arrow.Array
	scalar bool
}

func (v vec) release() {
	if v.arr != nil {
		v.arr.Release()
	}
}

// nullScalar reports whether v is the constant NULL.
func (v vec) nullScalar() bool { return v.scalar && v.arr.IsNull(0) }

// idxMask turns a row number into an index of v: row i itself, or 0 for a
// scalar. Kernels index with i&mask so that one loop serves both shapes.
func (v vec) idxMask() int {
	if v.scalar {
		return 0
	}
	return -1
}

// bits is read access to a validity bitmap: nil bytes mean every row is
// valid.
type bits struct {
	bytes []byte
	off   int
	mask  int
}

func validityOf(v vec) bits {
	if v.arr.NullN() == 0 {
		return bits{}
	}
	return bits{bytes: v.arr.NullBitmapBytes(), off: v.arr.Data().Offset(), mask: v.idxMask()}
}

func (b bits) valid(i int) bool {
	return b.bytes == nil || bitutil.BitIsSet(b.bytes, b.off+(i&b.mask))
}

// fixedValues returns the values of a fixed-width vec as a []T; scalars have
// length one.
func fixedValues[T arrow.FixedWidthType](v vec) []T {
	vals := arrow.GetValues[T](v.arr.Data(), 1)
	if vals == nil {
		// An array of length 0, or all null without a values buffer.
		return make([]T, v.arr.Len())
	}
	return vals
}

// binaryValues gives access to the values of a string or binary vec without
// copying.
type binaryValues struct {
	offs []int32
	data []byte
	mask int
}

func binaryOf(v vec) binaryValues {
	d := v.arr.Data()
	b := binaryValues{mask: v.idxMask()}
	if d.Len() == 0 {
		return b
	}
	b.offs = arrow.GetOffsets[int32](d, 1)
	if buf := d.Buffers()[2]; buf != nil {
		b.data = buf.Bytes()
	}
	return b
}

func (b binaryValues) at(i int) []byte {
	i &= b.mask
	return b.data[b.offs[i]:b.offs[i+1]]
}

// validityOut is the validity bitmap of a result under construction. It
// starts as the intersection of the inputs' validity; kernels clear the bits
// of rows that fail in lenient mode or are not needed.
type validityOut struct {
	buf  *memory.Buffer // nil while every row is valid
	n    int
	mask int // 0 when the result is a scalar
}

// newValidity returns the validity of a result of n rows that is NULL where
// any of args is NULL.
func (st *evalState) newValidity(n int, args ...vec) validityOut {
	out := validityOut{n: n, mask: -1}
	if n == 1 && allScalar(args) {
		out.mask = 0
	}
	for _, a := range args {
		if a.arr.NullN() == 0 {
			continue
		}
		src := a.arr.NullBitmapBytes()
		off := a.arr.Data().Offset()
		if out.buf == nil {
			out.buf = st.allocBitmap(n)
			if a.scalar {
				bitutil.SetBitsTo(out.buf.Bytes(), 0, int64(n), bitutil.BitIsSet(src, off))
			} else {
				bitutil.CopyBitmap(src, off, n, out.buf.Bytes(), 0)
			}
			continue
		}
		if a.scalar {
			if !bitutil.BitIsSet(src, off) {
				bitutil.SetBitsTo(out.buf.Bytes(), 0, int64(n), false)
			}
			continue
		}
		dst := out.buf.Bytes()
		bitutil.BitmapAnd(dst, src, 0, int64(off), dst, 0, int64(n))
	}
	return out
}

func allScalar(args []vec) bool {
	for _, a := range args {
		if !a.scalar {
			return false
		}
	}
	return true
}

func (v *validityOut) valid(i int) bool {
	return v.buf == nil || bitutil.BitIsSet(v.buf.Bytes(), i)
}

func (v *validityOut) setNull(st *evalState, i int) {
	if v.buf == nil {
		v.buf = st.allocBitmap(v.n)
		bitutil.SetBitsTo(v.buf.Bytes(), 0, int64(v.n), true)
	}
	bitutil.ClearBit(v.buf.Bytes(), i)
}

// release drops the bitmap, for results abandoned on an error or built
// with a builder that keeps its own validity.
func (v *validityOut) release() {
	if v.buf != nil {
		v.buf.Release()
		v.buf = nil
	}
}

// nulls counts the NULL rows and releases the bitmap when there are none.
func (v *validityOut) nulls() int {
	if v.buf == nil {
		return 0
	}
	n := v.n - bitutil.CountSetBits(v.buf.Bytes(), 0, v.n)
	if n == 0 {
		v.buf.Release()
		v.buf = nil
	}
	return n
}

// allocBitmap returns a zeroed bitmap of n bits from the batch's allocator.
func (st *evalState) allocBitmap(n int) *memory.Buffer {
	buf := memory.NewResizableBuffer(st.mem)
	buf.Resize(int(bitutil.BytesForBits(int64(n))))
	clear(buf.Bytes())
	return buf
}

// allocFixed returns a buffer for n values of T.
func allocFixed[T arrow.FixedWidthType](st *evalState, n int) (*memory.Buffer, []T) {
	buf := memory.NewResizableBuffer(st.mem)
	var zero T
	buf.Resize(n * sizeOfT(zero))
	return buf, arrow.GetData[T](buf.Bytes())[:n]
}

// finishFixed wraps values and validity into an array of type t, as a
// scalar when the inputs all were.
func (st *evalState) finishFixed(t types.T, vals *memory.Buffer, v *validityOut) vec {
	nulls := v.nulls()
	data := array.NewData(t.Arrow(), v.n, []*memory.Buffer{v.buf, vals}, nil, nulls, 0)
	arr := array.MakeFromData(data)
	data.Release()
	vals.Release()
	if v.buf != nil {
		v.buf.Release()
	}
	return vec{arr: arr, scalar: v.mask == 0}
}

// finishBool wraps a values bitmap into a boolean array.
func (st *evalState) finishBool(vals *memory.Buffer, v *validityOut) vec {
	return st.finishFixed(types.Bool, vals, v)
}

// rowError handles the failure of row i (of every row, when the result is a
// scalar) while computing a result whose validity is out. A row that is NULL
// anyway, or whose value is not needed (the untaken arm of a CASE), is
// ignored. In lenient mode the row is counted as failed and becomes NULL.
// Otherwise err is returned and the statement fails.
func (st *evalState) rowError(out *validityOut, i int, err error) error {
	if !out.valid(i) {
		return nil
	}
	scalar := out.mask == 0
	if !st.needed(i, scalar) {
		out.setNull(st, i)
		return nil
	}
	if !st.ctx.Lenient {
		return err
	}
	if st.ctx.FirstErr == nil {
		st.ctx.FirstErr = err
	}
	st.markFailed(i, scalar)
	out.setNull(st, i)
	return nil
}

// needed reports whether row i (any row, for a scalar) must be computed.
func (st *evalState) needed(i int, scalar bool) bool {
	if st.live == nil {
		return !scalar || st.n > 0 // a constant fails no row of an empty batch
	}
	if scalar {
		return bitutil.CountSetBits(st.live, 0, st.n) > 0
	}
	return bitutil.BitIsSet(st.live, i)
}

func (st *evalState) markFailed(i int, scalar bool) {
	if st.failed == nil {
		st.failed = make([]byte, bitutil.BytesForBits(int64(st.n)))
	}
	if !scalar {
		bitutil.SetBit(st.failed, i)
		return
	}
	if st.live == nil {
		bitutil.SetBitsTo(st.failed, 0, int64(st.n), true)
		return
	}
	bitutil.BitmapOr(st.failed, st.live, 0, 0, st.failed, 0, int64(st.n))
}

// resultLen is the number of values a kernel computes for args: one when
// they are all scalars, the batch's row count otherwise.
func (st *evalState) resultLen(args []vec) int {
	if allScalar(args) {
		return 1
	}
	return st.n
}

// stringBuilder starts a string (or binary, for bytea) result of n values.
func (st *evalState) stringBuilder(t types.T, n, dataHint int) *array.BinaryBuilder {
	b := array.NewBinaryBuilder(st.mem, t.Arrow().(arrow.BinaryDataType))
	b.Reserve(n)
	if dataHint > 0 {
		b.ReserveData(dataHint)
	}
	return b
}

// finishString turns a builder into a result vec.
func finishString(b *array.BinaryBuilder, scalar bool) vec {
	// The builder makes *array.Binary whatever its type; MakeFromData
	// gives the array type that matches the data type (*array.String).
	bin := b.NewBinaryArray()
	b.Release()
	arr := array.MakeFromData(bin.Data())
	bin.Release()
	return vec{arr: arr, scalar: scalar}
}

// nullVec returns the constant NULL of type t.
func (st *evalState) nullVec(t types.T) vec {
	return vec{arr: array.MakeArrayOfNull(st.mem, t.Arrow(), 1), scalar: true}
}

func sizeOfT[T any](v T) int { return int(unsafe.Sizeof(v)) }
