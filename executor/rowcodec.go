package executor

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/sluicedb/sluice/types"
)

// The row codec turns the values of some columns of a row into a byte string
// and back. Group keys, join keys and the rows of materialized views and
// tables are kept in this form: it hashes and compares as a Go string, and
// decodes straight into Arrow builders.
//
// Layout per value: one byte 0 for NULL, or 1 followed by the value: fixed
// little-endian bytes for numbers, dates and times (8 bytes for all integers,
// so that equal values of different widths do not collide by accident within
// one column), 16 for intervals, a uvarint length and the bytes for strings.

// storage is the physical layout of a column, chosen once per column so that
// the per-row loops switch on a small integer rather than on interfaces.
type storage uint8

const (
	stBool storage = iota
	stInt16
	stInt32
	stInt64
	stFloat32
	stFloat64
	stString
	stBinary
	stInterval
	stNull
)

func storageOf(t types.T) storage {
	switch t.Physical() { // the catalog types share an original type's storage
	case types.Bool:
		return stBool
	case types.Int2:
		return stInt16
	case types.Int4, types.Date:
		return stInt32
	case types.Int8, types.Time, types.Timestamp, types.TimestampTZ:
		return stInt64
	case types.Float4:
		return stFloat32
	case types.Float8, types.Numeric:
		return stFloat64
	case types.Text, types.Varchar, types.JSONB, types.Unknown:
		return stString
	case types.Bytea:
		return stBinary
	case types.Interval:
		return stInterval
	case types.Null:
		return stNull
	}
	panic(fmt.Sprintf("executor: no storage for type %v", t))
}

// RowEncoder encodes chosen columns of each row of a record.
type RowEncoder struct {
	cols     []int
	storages []storage
	// exact keeps every bit of a value. A key encoder (the default) maps
	// values SQL considers equal to one encoding (-0 and 0, every NaN); a row
	// that is stored to be read back must keep -0 as it was.
	exact   bool
	arena   []byte
	offsets []int
	cursor  []int // each row's length, then where its next value goes
	keys    [][]byte
}

// allColumns lists the columns 0 to n-1: a whole row, for an encoder.
func allColumns(n int) []int {
	cols := make([]int, n)
	for i := range cols {
		cols[i] = i
	}
	return cols
}

// NewRowEncoder encodes columns cols, whose types are ts.
func NewRowEncoder(cols []int, ts []types.T) *RowEncoder {
	e := &RowEncoder{cols: cols, storages: make([]storage, len(ts))}
	for i, t := range ts {
		e.storages[i] = storageOf(t)
	}
	return e
}

// NewExactRowEncoder encodes columns cols for storage: decoding gives back
// exactly the values encoded.
func NewExactRowEncoder(cols []int, ts []types.T) *RowEncoder {
	e := NewRowEncoder(cols, ts)
	e.exact = true
	return e
}

// Encode returns one key per row of rec. The keys are valid until the next
// call; copy one (string(key)) to keep it.
//
// It works a column at a time, so that the type of a column is looked at
// once per batch rather than once per value: a first pass adds up each
// row's length, a second writes each column's values into every row's
// place.
func (e *RowEncoder) Encode(rec arrow.Record) [][]byte {
	n := int(rec.NumRows())
	e.cursor = grow(e.cursor, n)
	clear(e.cursor)
	for j, c := range e.cols {
		addLengths(e.cursor, rec.Column(c), e.storages[j])
	}
	e.offsets = grow(e.offsets, n+1)
	total := 0
	for i, l := range e.cursor {
		e.offsets[i] = total
		e.cursor[i] = total
		total += l
	}
	e.offsets[n] = total
	e.arena = grow(e.arena, total)
	for j, c := range e.cols {
		e.writeColumn(rec.Column(c), e.storages[j])
	}
	e.keys = grow(e.keys, n)
	for i := 0; i < n; i++ {
		e.keys[i] = e.arena[e.offsets[i]:e.offsets[i+1]:e.offsets[i+1]]
	}
	return e.keys
}

// fixedWidth is the size of a non-NULL value of st after its marker byte,
// or -1 for values whose size varies.
func fixedWidth(st storage) int {
	switch st {
	case stBool:
		return 1
	case stInt16, stInt32, stInt64, stFloat64:
		return 8
	case stFloat32:
		return 4
	case stInterval:
		return 16
	case stNull:
		return 0
	}
	return -1
}

// addLengths adds to lens[i] the encoded size of row i's value of a.
func addLengths(lens []int, a arrow.Array, st storage) {
	if w := fixedWidth(st); w >= 0 {
		if a.NullN() == 0 {
			for i := range lens {
				lens[i] += 1 + w
			}
			return
		}
		for i := range lens {
			if a.IsNull(i) {
				lens[i]++
			} else {
				lens[i] += 1 + w
			}
		}
		return
	}
	// Strings and bytes, each with a loop of its own so that the calls are
	// direct.
	switch a := a.(type) {
	case *array.String:
		for i := range lens {
			if a.IsNull(i) {
				lens[i]++
			} else {
				lens[i] += varLength(a.ValueLen(i))
			}
		}
	case *array.Binary:
		for i := range lens {
			if a.IsNull(i) {
				lens[i]++
			} else {
				lens[i] += varLength(a.ValueLen(i))
			}
		}
	default:
		panic(fmt.Sprintf("executor: %T stored as variable-length bytes", a))
	}
}

// varLength is the encoded size of a string or bytes value of l bytes.
func varLength(l int) int { return 1 + uvarintLen(uint64(l)) + l }

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// writeInts writes integers of any width as the row codec stores them: 8
// bytes, so that equal values of different widths encode alike.
func writeInts[T ~int64 | ~int32 | ~int16](buf []byte, cur []int, a arrow.Array, vals []T) {
	nulls := a.NullN() > 0
	for i := range cur {
		p := cur[i]
		if nulls && a.IsNull(i) {
			buf[p] = 0
			cur[i] = p + 1
			continue
		}
		buf[p] = 1
		binary.LittleEndian.PutUint64(buf[p+1:], uint64(int64(vals[i])))
		cur[i] = p + 9
	}
}

// writeColumn writes row i's value of a at e.arena[e.cursor[i]] for every
// row, advancing the cursors.
func (e *RowEncoder) writeColumn(a arrow.Array, st storage) {
	buf, cur := e.arena, e.cursor
	nulls := a.NullN() > 0
	// null writes row i's NULL and reports whether it did.
	null := func(i int) bool {
		if nulls && a.IsNull(i) {
			buf[cur[i]] = 0
			cur[i]++
			return true
		}
		return false
	}
	switch st {
	case stInt64, stInt32, stInt16:
		switch a := a.(type) {
		case *array.Int64:
			writeInts(buf, cur, a, a.Int64Values())
		case *array.Timestamp:
			writeInts(buf, cur, a, a.TimestampValues())
		case *array.Time64:
			writeInts(buf, cur, a, a.Time64Values())
		case *array.Int32:
			writeInts(buf, cur, a, a.Int32Values())
		case *array.Date32:
			writeInts(buf, cur, a, a.Date32Values())
		case *array.Int16:
			writeInts(buf, cur, a, a.Int16Values())
		}
	case stFloat64:
		vals := a.(*array.Float64).Float64Values()
		for i := range cur {
			if null(i) {
				continue
			}
			f := vals[i]
			if !e.exact {
				f = normFloat64(f)
			}
			p := cur[i]
			buf[p] = 1
			binary.LittleEndian.PutUint64(buf[p+1:], math.Float64bits(f))
			cur[i] = p + 9
		}
	case stFloat32:
		vals := a.(*array.Float32).Float32Values()
		for i := range cur {
			if null(i) {
				continue
			}
			f := vals[i]
			if !e.exact {
				f = normFloat32(f)
			}
			p := cur[i]
			buf[p] = 1
			binary.LittleEndian.PutUint32(buf[p+1:], math.Float32bits(f))
			cur[i] = p + 5
		}
	case stBool:
		b := a.(*array.Boolean)
		for i := range cur {
			if null(i) {
				continue
			}
			p := cur[i]
			buf[p] = 1
			buf[p+1] = 0
			if b.Value(i) {
				buf[p+1] = 1
			}
			cur[i] = p + 2
		}
	case stString:
		s := a.(*array.String)
		for i := range cur {
			if null(i) {
				continue
			}
			v := s.Value(i)
			p := cur[i]
			buf[p] = 1
			p = 1 + p + binary.PutUvarint(buf[p+1:], uint64(len(v)))
			cur[i] = p + copy(buf[p:], v)
		}
	case stBinary:
		bin := a.(*array.Binary)
		for i := range cur {
			if null(i) {
				continue
			}
			v := bin.Value(i)
			p := cur[i]
			buf[p] = 1
			p = 1 + p + binary.PutUvarint(buf[p+1:], uint64(len(v)))
			cur[i] = p + copy(buf[p:], v)
		}
	case stInterval:
		iv := a.(*array.MonthDayNanoInterval)
		for i := range cur {
			if null(i) {
				continue
			}
			v := iv.Value(i)
			p := cur[i]
			buf[p] = 1
			binary.LittleEndian.PutUint32(buf[p+1:], uint32(v.Months))
			binary.LittleEndian.PutUint32(buf[p+5:], uint32(v.Days))
			binary.LittleEndian.PutUint64(buf[p+9:], uint64(v.Nanoseconds))
			cur[i] = p + 17
		}
	case stNull:
		for i := range cur {
			buf[cur[i]] = 0
			cur[i]++
		}
	}
}

func appendValue(buf []byte, a arrow.Array, i int, st storage, exact bool) []byte {
	if a.IsNull(i) {
		return append(buf, 0)
	}
	buf = append(buf, 1)
	switch st {
	case stBool:
		if a.(*array.Boolean).Value(i) {
			return append(buf, 1)
		}
		return append(buf, 0)
	case stInt16:
		return binary.LittleEndian.AppendUint64(buf, uint64(int64(a.(*array.Int16).Value(i))))
	case stInt32:
		var v int32
		switch a := a.(type) {
		case *array.Int32:
			v = a.Value(i)
		case *array.Date32:
			v = int32(a.Value(i))
		}
		return binary.LittleEndian.AppendUint64(buf, uint64(int64(v)))
	case stInt64:
		var v int64
		switch a := a.(type) {
		case *array.Int64:
			v = a.Value(i)
		case *array.Timestamp:
			v = int64(a.Value(i))
		case *array.Time64:
			v = int64(a.Value(i))
		}
		return binary.LittleEndian.AppendUint64(buf, uint64(v))
	case stFloat32:
		f := a.(*array.Float32).Value(i)
		if !exact {
			f = normFloat32(f)
		}
		return binary.LittleEndian.AppendUint32(buf, math.Float32bits(f))
	case stFloat64:
		f := a.(*array.Float64).Value(i)
		if !exact {
			f = normFloat64(f)
		}
		return binary.LittleEndian.AppendUint64(buf, math.Float64bits(f))
	case stString:
		s := a.(*array.String).Value(i)
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		return append(buf, s...)
	case stBinary:
		b := a.(*array.Binary).Value(i)
		buf = binary.AppendUvarint(buf, uint64(len(b)))
		return append(buf, b...)
	case stInterval:
		v := a.(*array.MonthDayNanoInterval).Value(i)
		buf = binary.LittleEndian.AppendUint32(buf, uint32(v.Months))
		buf = binary.LittleEndian.AppendUint32(buf, uint32(v.Days))
		return binary.LittleEndian.AppendUint64(buf, uint64(v.Nanoseconds))
	}
	return buf
}

// normFloat64 makes values that SQL considers equal encode the same: -0 and
// 0, and every NaN (PostgreSQL treats NaN as equal to itself).
func normFloat64(f float64) float64 {
	if f == 0 {
		return 0
	}
	if f != f {
		return math.NaN()
	}
	return f
}

func normFloat32(f float32) float32 {
	if f == 0 {
		return 0
	}
	if f != f {
		return float32(math.NaN())
	}
	return f
}

// RowDecoder appends encoded rows to Arrow builders.
type RowDecoder struct {
	storages []storage
	cursor   []int    // where each row's next value starts
	valid    []bool   // the current column's validity, one per row
	scratch  []uint64 // the current column's values (uint64 keeps them aligned)
	views    [][]byte // string rows seen as bytes
}

// NewRowDecoder decodes rows whose columns have types ts.
func NewRowDecoder(ts []types.T) *RowDecoder {
	d := &RowDecoder{storages: make([]storage, len(ts))}
	for i, t := range ts {
		d.storages[i] = storageOf(t)
	}
	return d
}

// AppendStrings is AppendRows for rows kept as strings, which it reads in
// place.
func (d *RowDecoder) AppendStrings(builders []array.Builder, rows []string) {
	d.views = grow(d.views, len(rows))
	for i, r := range rows {
		d.views[i] = unsafe.Slice(unsafe.StringData(r), len(r))
	}
	d.AppendRows(builders, d.views)
	clear(d.views)
}

// AppendRows decodes rows into builders, one per column. An empty row
// stands for a row of NULLs (the padding of an outer join).
//
// It works a column at a time, as the encoder does: a column's type is
// looked at once per call, its values are gathered from every row (each
// row's cursor remembers where its next value starts) and handed to the
// builder in one AppendValues.
func (d *RowDecoder) AppendRows(builders []array.Builder, rows [][]byte) {
	n := len(rows)
	d.cursor = grow(d.cursor, n)
	clear(d.cursor)
	d.valid = grow(d.valid, n)
	for j, st := range d.storages {
		switch b := builders[j].(type) {
		case *array.BooleanBuilder:
			b.AppendValues(decodeBools(d, rows))
		case *array.Int16Builder:
			b.AppendValues(decodeInts[int16](d, rows))
		case *array.Int32Builder:
			b.AppendValues(decodeInts[int32](d, rows))
		case *array.Date32Builder:
			b.AppendValues(decodeInts[arrow.Date32](d, rows))
		case *array.Int64Builder:
			b.AppendValues(decodeInts[int64](d, rows))
		case *array.TimestampBuilder:
			b.AppendValues(decodeInts[arrow.Timestamp](d, rows))
		case *array.Time64Builder:
			b.AppendValues(decodeInts[arrow.Time64](d, rows))
		case *array.Float32Builder:
			b.AppendValues(decodeFloat32s(d, rows))
		case *array.Float64Builder:
			b.AppendValues(decodeFloat64s(d, rows))
		case *array.MonthDayNanoIntervalBuilder:
			b.AppendValues(decodeIntervals(d, rows))
		case *array.StringBuilder:
			d.appendBytes(b.BinaryBuilder, rows)
		case *array.BinaryBuilder:
			d.appendBytes(b, rows)
		case *array.NullBuilder:
			for i := range rows {
				d.skipNull(rows, i)
			}
			b.AppendNulls(n)
		default:
			panic(fmt.Sprintf("executor: no decoding of %v (storage %d) into %T", b.Type(), st, b))
		}
	}
}

// int64Field reads column col of an encoded row whose columns are laid out
// as storages, if it is an integer (or a time) and not NULL. The columns
// before it are stepped over.
func int64Field(storages []storage, row []byte, col int) (int64, bool) {
	p := 0
	for _, st := range storages[:col] {
		if row[p] == 0 {
			p++
			continue
		}
		p++
		switch st {
		case stBool:
			p++
		case stFloat32:
			p += 4
		case stString, stBinary:
			l, w := binary.Uvarint(row[p:])
			p += w + int(l)
		case stInterval:
			p += 16
		case stNull:
		default: // integers and float64: 8 bytes
			p += 8
		}
	}
	switch storages[col] {
	case stInt16, stInt32, stInt64:
	default:
		return 0, false
	}
	if row[p] == 0 {
		return 0, false
	}
	return int64(binary.LittleEndian.Uint64(row[p+1:])), true
}

// start reads the NULL flag of row i's next value. It returns where the
// value starts, or -1 for a NULL (whose flag it then steps over).
func (d *RowDecoder) start(rows [][]byte, i int) int {
	r := rows[i]
	if len(r) == 0 {
		return -1
	}
	p := d.cursor[i]
	if r[p] == 0 {
		d.cursor[i] = p + 1
		return -1
	}
	return p + 1
}

func (d *RowDecoder) skipNull(rows [][]byte, i int) {
	if len(rows[i]) > 0 {
		d.cursor[i]++
	}
}

// scratchOf is the decoder's scratch space seen as n values of T, which
// holds no pointers.
func scratchOf[T any](d *RowDecoder, n int) []T {
	size := int(unsafe.Sizeof(*new(T)))
	d.scratch = grow(d.scratch, (n*size+7)/8)
	if n == 0 {
		return nil
	}
	vals := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(d.scratch))), n)
	// A NULL's slot is handed to the builder too: it must hold a valid T
	// (a bool of any byte but 0 or 1 would corrupt the packed bits).
	clear(vals)
	return vals
}

// The decode functions gather a fixed-width column of rows into the
// scratch space, with its validity. Each has its own loop: a function value
// or a method of a type parameter would be an indirect call per value.

// decodeInts reads integers, which the encoder writes in 8 bytes whatever
// their width.
func decodeInts[T ~int16 | ~int32 | ~int64](d *RowDecoder, rows [][]byte) ([]T, []bool) {
	vals, valid := scratchOf[T](d, len(rows)), d.valid[:len(rows)]
	for i := range rows {
		p := d.start(rows, i)
		if valid[i] = p >= 0; valid[i] {
			vals[i] = T(int64(binary.LittleEndian.Uint64(rows[i][p:])))
			d.cursor[i] = p + 8
		}
	}
	return vals, valid
}

func decodeFloat64s(d *RowDecoder, rows [][]byte) ([]float64, []bool) {
	vals, valid := scratchOf[float64](d, len(rows)), d.valid[:len(rows)]
	for i := range rows {
		p := d.start(rows, i)
		if valid[i] = p >= 0; valid[i] {
			vals[i] = math.Float64frombits(binary.LittleEndian.Uint64(rows[i][p:]))
			d.cursor[i] = p + 8
		}
	}
	return vals, valid
}

func decodeFloat32s(d *RowDecoder, rows [][]byte) ([]float32, []bool) {
	vals, valid := scratchOf[float32](d, len(rows)), d.valid[:len(rows)]
	for i := range rows {
		p := d.start(rows, i)
		if valid[i] = p >= 0; valid[i] {
			vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(rows[i][p:]))
			d.cursor[i] = p + 4
		}
	}
	return vals, valid
}

func decodeBools(d *RowDecoder, rows [][]byte) ([]bool, []bool) {
	vals, valid := scratchOf[bool](d, len(rows)), d.valid[:len(rows)]
	for i := range rows {
		p := d.start(rows, i)
		if valid[i] = p >= 0; valid[i] {
			vals[i] = rows[i][p] == 1
			d.cursor[i] = p + 1
		}
	}
	return vals, valid
}

func decodeIntervals(d *RowDecoder, rows [][]byte) ([]arrow.MonthDayNanoInterval, []bool) {
	vals, valid := scratchOf[arrow.MonthDayNanoInterval](d, len(rows)), d.valid[:len(rows)]
	for i := range rows {
		p := d.start(rows, i)
		if valid[i] = p >= 0; valid[i] {
			v := rows[i][p:]
			vals[i] = arrow.MonthDayNanoInterval{
				Months:      int32(binary.LittleEndian.Uint32(v)),
				Days:        int32(binary.LittleEndian.Uint32(v[4:])),
				Nanoseconds: int64(binary.LittleEndian.Uint64(v[8:])),
			}
			d.cursor[i] = p + 16
		}
	}
	return vals, valid
}

// appendBytes appends a string or binary column: a first pass finds each
// value and their total size, so that the builder grows once.
func (d *RowDecoder) appendBytes(b *array.BinaryBuilder, rows [][]byte) {
	d.scratch = grow(d.scratch, len(rows))
	starts := d.scratch // where each value starts, or ^0 for a NULL
	total := 0
	for i, r := range rows {
		p := d.start(rows, i)
		if p < 0 {
			starts[i] = ^uint64(0)
			continue
		}
		l, k := binary.Uvarint(r[p:])
		starts[i] = uint64(p + k)
		d.cursor[i] = p + k + int(l)
		total += int(l)
	}
	b.Reserve(len(rows))
	if b.DataLen()+total > b.DataCap() {
		// ReserveData grows to exactly what it is asked for: ask for at
		// least double, or appending rows one by one would copy the data
		// over and over.
		b.ReserveData(max(total, b.DataLen()))
	}
	for i, r := range rows {
		if starts[i] == ^uint64(0) {
			b.AppendNull()
			continue
		}
		b.UnsafeAppend(r[starts[i]:d.cursor[i]])
	}
}
