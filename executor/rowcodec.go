package executor

import (
	"encoding/binary"
	"fmt"
	"math"

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
	keys    [][]byte
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
func (e *RowEncoder) Encode(rec arrow.Record) [][]byte {
	n := int(rec.NumRows())
	e.arena = e.arena[:0]
	e.offsets = append(e.offsets[:0], 0)
	arrs := make([]arrow.Array, len(e.cols))
	for j, c := range e.cols {
		arrs[j] = rec.Column(c)
	}
	for i := 0; i < n; i++ {
		for j, a := range arrs {
			e.arena = appendValue(e.arena, a, i, e.storages[j], e.exact)
		}
		e.offsets = append(e.offsets, len(e.arena))
	}
	if cap(e.keys) < n {
		e.keys = make([][]byte, n)
	}
	e.keys = e.keys[:n]
	for i := 0; i < n; i++ {
		e.keys[i] = e.arena[e.offsets[i]:e.offsets[i+1]:e.offsets[i+1]]
	}
	return e.keys
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
}

// NewRowDecoder decodes rows whose columns have types ts.
func NewRowDecoder(ts []types.T) *RowDecoder {
	d := &RowDecoder{storages: make([]storage, len(ts))}
	for i, t := range ts {
		d.storages[i] = storageOf(t)
	}
	return d
}

// Append decodes row into builders, one per column, and returns the bytes
// that follow the row.
func (d *RowDecoder) Append(builders []array.Builder, row []byte) []byte {
	for j, st := range d.storages {
		b := builders[j]
		if row[0] == 0 {
			b.AppendNull()
			row = row[1:]
			continue
		}
		row = row[1:]
		switch st {
		case stBool:
			b.(*array.BooleanBuilder).Append(row[0] == 1)
			row = row[1:]
		case stInt16:
			b.(*array.Int16Builder).Append(int16(binary.LittleEndian.Uint64(row)))
			row = row[8:]
		case stInt32:
			v := int32(binary.LittleEndian.Uint64(row))
			switch b := b.(type) {
			case *array.Int32Builder:
				b.Append(v)
			case *array.Date32Builder:
				b.Append(arrow.Date32(v))
			}
			row = row[8:]
		case stInt64:
			v := int64(binary.LittleEndian.Uint64(row))
			switch b := b.(type) {
			case *array.Int64Builder:
				b.Append(v)
			case *array.TimestampBuilder:
				b.Append(arrow.Timestamp(v))
			case *array.Time64Builder:
				b.Append(arrow.Time64(v))
			}
			row = row[8:]
		case stFloat32:
			b.(*array.Float32Builder).Append(math.Float32frombits(binary.LittleEndian.Uint32(row)))
			row = row[4:]
		case stFloat64:
			b.(*array.Float64Builder).Append(math.Float64frombits(binary.LittleEndian.Uint64(row)))
			row = row[8:]
		case stString:
			n, k := binary.Uvarint(row)
			b.(*array.StringBuilder).Append(string(row[k : k+int(n)]))
			row = row[k+int(n):]
		case stBinary:
			n, k := binary.Uvarint(row)
			b.(*array.BinaryBuilder).Append(row[k : k+int(n)])
			row = row[k+int(n):]
		case stInterval:
			b.(*array.MonthDayNanoIntervalBuilder).Append(arrow.MonthDayNanoInterval{
				Months:      int32(binary.LittleEndian.Uint32(row)),
				Days:        int32(binary.LittleEndian.Uint32(row[4:])),
				Nanoseconds: int64(binary.LittleEndian.Uint64(row[8:])),
			})
			row = row[16:]
		case stNull:
			b.AppendNull()
		}
	}
	return row
}
