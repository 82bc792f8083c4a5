package format

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/types"
)

// slot holds one column's value of the record being decoded, until the whole
// record is known to be good. Which field is meaningful depends on the
// column's type; a slot that is not set is NULL.
type slot struct {
	set   bool
	i     int64   // bool (0/1), integers, date, time, timestamps
	f     float64 // floating point and numeric
	bytes []byte  // text, jsonb, bytea: into the input or the stage buffer
	iv    types.IntervalValue
}

// rowBuilder stages one record's values per column and appends them to the
// Arrow builders only once every column has decoded: a bad record never
// leaves a partial row behind.
type rowBuilder struct {
	schema types.Schema
	rb     *array.RecordBuilder
	cols   []colBuilder
	slots  []slot
	// buf holds bytes that do not exist verbatim in the input (unescaped
	// strings). Slots keep slices into it; growing it leaves earlier slices
	// pointing at the old array, which stays valid.
	buf  []byte
	rows int
	// lastRows is the size of the last batch, which the next one reserves
	// room for, with each string column's bytes per row of that batch.
	lastRows int
}

// colBuilder is a column's concrete Arrow builder, resolved once so that
// appending is a switch on the type rather than an interface call per value.
type colBuilder struct {
	typ  types.T
	name string
	b    bool
	i16  *array.Int16Builder
	i32  *array.Int32Builder
	i64  *array.Int64Builder
	f32  *array.Float32Builder
	f64  *array.Float64Builder
	str  *array.StringBuilder
	bin  *array.BinaryBuilder
	bl   *array.BooleanBuilder
	d32  *array.Date32Builder
	t64  *array.Time64Builder
	ts   *array.TimestampBuilder
	ivb  *array.MonthDayNanoIntervalBuilder
	bldr array.Builder
	// bytesPerRow is the string data per row of the last batch, plus one.
	bytesPerRow int
}

func newRowBuilder(schema types.Schema, alloc memory.Allocator) (*rowBuilder, error) {
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	r := &rowBuilder{
		schema: schema,
		rb:     array.NewRecordBuilder(alloc, schema.Arrow()),
		cols:   make([]colBuilder, len(schema)),
		slots:  make([]slot, len(schema)),
	}
	for i, c := range schema {
		cb := colBuilder{typ: c.Type, name: c.Name, bldr: r.rb.Field(i)}
		switch c.Type {
		case types.Bool:
			cb.bl = cb.bldr.(*array.BooleanBuilder)
		case types.Int2:
			cb.i16 = cb.bldr.(*array.Int16Builder)
		case types.Int4:
			cb.i32 = cb.bldr.(*array.Int32Builder)
		case types.Int8:
			cb.i64 = cb.bldr.(*array.Int64Builder)
		case types.Float4:
			cb.f32 = cb.bldr.(*array.Float32Builder)
		case types.Float8, types.Numeric:
			cb.f64 = cb.bldr.(*array.Float64Builder)
		case types.Text, types.Varchar, types.JSONB:
			cb.str = cb.bldr.(*array.StringBuilder)
		case types.Bytea:
			cb.bin = cb.bldr.(*array.BinaryBuilder)
		case types.Date:
			cb.d32 = cb.bldr.(*array.Date32Builder)
		case types.Time:
			cb.t64 = cb.bldr.(*array.Time64Builder)
		case types.Timestamp, types.TimestampTZ:
			cb.ts = cb.bldr.(*array.TimestampBuilder)
		case types.Interval:
			cb.ivb = cb.bldr.(*array.MonthDayNanoIntervalBuilder)
		default:
			r.rb.Release()
			return nil, unsupportedType(c)
		}
		r.cols[i] = cb
	}
	return r, nil
}

// begin starts a record: every column NULL until set.
func (r *rowBuilder) begin() {
	for i := range r.slots {
		r.slots[i].set = false
	}
	r.buf = r.buf[:0]
}

// commit appends the staged record as one row.
func (r *rowBuilder) commit() {
	if r.rows == 0 && r.lastRows > 0 {
		r.reserve()
	}
	for i := range r.cols {
		c, s := &r.cols[i], &r.slots[i]
		if !s.set {
			c.bldr.AppendNull()
			continue
		}
		switch c.typ {
		case types.Bool:
			c.bl.Append(s.i != 0)
		case types.Int2:
			c.i16.Append(int16(s.i))
		case types.Int4:
			c.i32.Append(int32(s.i))
		case types.Int8:
			c.i64.Append(s.i)
		case types.Float4:
			c.f32.Append(float32(s.f))
		case types.Float8, types.Numeric:
			c.f64.Append(s.f)
		case types.Text, types.Varchar, types.JSONB:
			c.str.BinaryBuilder.Append(s.bytes)
		case types.Bytea:
			c.bin.Append(s.bytes)
		case types.Date:
			c.d32.Append(arrow.Date32(s.i))
		case types.Time:
			c.t64.Append(arrow.Time64(s.i))
		case types.Timestamp, types.TimestampTZ:
			c.ts.Append(arrow.Timestamp(s.i))
		case types.Interval:
			c.ivb.Append(arrow.MonthDayNanoInterval{
				Months: s.iv.Months, Days: s.iv.Days, Nanoseconds: s.iv.Micros * 1000,
			})
		}
	}
	r.rows++
}

// finish returns the committed rows as a record and starts a new batch.
func (r *rowBuilder) finish() arrow.Record {
	if r.rows > 0 {
		for i := range r.cols {
			if b := r.binary(i); b != nil {
				r.cols[i].bytesPerRow = b.DataLen()/r.rows + 1
			}
		}
		r.lastRows = r.rows
	}
	r.rows = 0
	return r.rb.NewRecordBatch()
}

// reserve makes room for a batch the size of the last one, so that the
// builders do not grow (and copy) their buffers a few times per batch.
func (r *rowBuilder) reserve() {
	for i := range r.cols {
		r.cols[i].bldr.Reserve(r.lastRows)
		if b := r.binary(i); b != nil {
			b.ReserveData(r.lastRows * r.cols[i].bytesPerRow)
		}
	}
}

// binary is column i's builder if it holds strings or bytes, else nil.
func (r *rowBuilder) binary(i int) *array.BinaryBuilder {
	switch c := &r.cols[i]; {
	case c.str != nil:
		return c.str.BinaryBuilder
	case c.bin != nil:
		return c.bin
	}
	return nil
}

func (r *rowBuilder) release() { r.rb.Release() }

// stage copies b into the stage buffer and returns the copy.
func (r *rowBuilder) stage(b []byte) []byte {
	start := len(r.buf)
	r.buf = append(r.buf, b...)
	return r.buf[start:len(r.buf):len(r.buf)]
}
