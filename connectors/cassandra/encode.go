package cassandra

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/sluicedb/sluice/types"
)

// cqlType is a column type as system_schema.columns spells it, reduced to
// what the sink can write: a scalar name, or a list of one.
type cqlType struct {
	name string   // "int", "text", "list", ...; "" for a type the sink cannot write
	elem *cqlType // for a list
	text string   // as system_schema has it, for messages
}

// parseCQLType reads a type of system_schema.columns: "int",
// "frozen<list<text>>", "map<text, int>". frozen<> does not change the
// encoding, so it is dropped; sets, maps, tuples and user types are kept as
// names the sink refuses.
func parseCQLType(s string) *cqlType {
	t := &cqlType{text: s}
	s = strings.TrimSpace(strings.ToLower(s))
	for strings.HasPrefix(s, "frozen<") && strings.HasSuffix(s, ">") {
		s = strings.TrimSpace(s[len("frozen<") : len(s)-1])
	}
	if strings.HasPrefix(s, "list<") && strings.HasSuffix(s, ">") {
		t.name = "list"
		t.elem = parseCQLType(s[len("list<") : len(s)-1])
		return t
	}
	if s == "varchar" {
		s = "text"
	}
	t.name = s
	return t
}

// cqlTypeFor is the CQL type a column of Sluice type t is best created
// with, for hints.
func cqlTypeFor(t types.T) string {
	if t.IsArray() {
		return "list<" + cqlTypeFor(t.Elem()) + ">"
	}
	switch t {
	case types.Bool:
		return "boolean"
	case types.Int2:
		return "smallint"
	case types.Int4:
		return "int"
	case types.Float4:
		return "float"
	case types.Float8:
		return "double"
	case types.Numeric:
		return "decimal"
	case types.Bytea:
		return "blob"
	case types.Date:
		return "date"
	case types.Time:
		return "time"
	case types.Timestamp, types.TimestampTZ:
		return "timestamp"
	case types.Interval:
		return "duration"
	}
	switch t.Physical() {
	case types.Int8:
		return "bigint"
	}
	return "text"
}

// accepts reports whether a column of CQL type c can take every value of
// Sluice type t: the type cqlTypeFor names, or a wider one.
func accepts(c *cqlType, t types.T) bool {
	if t.IsArray() {
		return c.name == "list" && accepts(c.elem, t.Elem())
	}
	var ok []string
	switch t.Physical() {
	case types.Bool:
		ok = []string{"boolean"}
	case types.Int2:
		ok = []string{"smallint", "int", "bigint", "varint"}
	case types.Int4:
		ok = []string{"int", "bigint", "varint"}
	case types.Int8:
		ok = []string{"bigint", "varint"}
	case types.Float4:
		ok = []string{"float", "double"}
	case types.Float8:
		ok = []string{"double"}
	case types.Numeric:
		// Sluice's numeric is a float64, so double holds it too.
		ok = []string{"decimal", "double"}
	case types.Text, types.Varchar, types.JSONB, types.Unknown:
		ok = []string{"text"}
	case types.Bytea:
		ok = []string{"blob"}
	case types.Date:
		ok = []string{"date", "timestamp"}
	case types.Time:
		ok = []string{"time"}
	case types.Timestamp, types.TimestampTZ:
		ok = []string{"timestamp"}
	case types.Interval:
		ok = []string{"duration"}
	}
	for _, n := range ok {
		if c.name == n {
			return true
		}
	}
	return false
}

// value is one non-null value of a column, unboxed: the field its Sluice
// type uses is set. Strings and bytes alias the Arrow buffers.
type value struct {
	i  int64 // bool (0 or 1), integers, date (days), time and timestamps (µs)
	f  float64
	s  string
	b  []byte
	iv types.IntervalValue
}

// valueAt reads row i of arr, a column of Sluice type t.
func valueAt(arr arrow.Array, i int, t types.T) value {
	switch t.Physical() {
	case types.Bool:
		if arr.(*array.Boolean).Value(i) {
			return value{i: 1}
		}
		return value{}
	case types.Int2:
		return value{i: int64(arr.(*array.Int16).Value(i))}
	case types.Int4:
		return value{i: int64(arr.(*array.Int32).Value(i))}
	case types.Int8:
		return value{i: arr.(*array.Int64).Value(i)}
	case types.Float4:
		return value{f: float64(arr.(*array.Float32).Value(i))}
	case types.Float8, types.Numeric:
		return value{f: arr.(*array.Float64).Value(i)}
	case types.Text, types.Varchar, types.JSONB, types.Unknown:
		return value{s: arr.(*array.String).Value(i)}
	case types.Bytea:
		return value{b: arr.(*array.Binary).Value(i)}
	case types.Date:
		return value{i: int64(arr.(*array.Date32).Value(i))}
	case types.Time:
		return value{i: int64(arr.(*array.Time64).Value(i))}
	case types.Timestamp, types.TimestampTZ:
		return value{i: int64(arr.(*array.Timestamp).Value(i))}
	case types.Interval:
		v := arr.(*array.MonthDayNanoInterval).Value(i)
		return value{iv: types.IntervalValue{Months: v.Months, Days: v.Days, Micros: v.Nanoseconds / 1000}}
	}
	panic("cassandra: no value for type " + t.String())
}

// valueOf converts a Datum (an array element) of Sluice type t.
func valueOf(d types.Datum, t types.T) value {
	switch v := d.(type) {
	case bool:
		if v {
			return value{i: 1}
		}
		return value{}
	case int16:
		return value{i: int64(v)}
	case int32:
		return value{i: int64(v)}
	case int64:
		return value{i: v}
	case float32:
		return value{f: float64(v)}
	case float64:
		return value{f: v}
	case string:
		return value{s: v}
	case []byte:
		return value{b: v}
	case types.IntervalValue:
		return value{iv: v}
	}
	panic(fmt.Sprintf("cassandra: no value for %T of type %s", d, t))
}

// appendValue appends the CQL serialisation of v, of Sluice type t, as a
// value of CQL type c (which accepts t).
func appendValue(buf []byte, v value, t types.T, c *cqlType) ([]byte, error) {
	switch c.name {
	case "boolean":
		return append(buf, byte(v.i)), nil
	case "smallint":
		return binary.BigEndian.AppendUint16(buf, uint16(v.i)), nil
	case "int":
		return binary.BigEndian.AppendUint32(buf, uint32(v.i)), nil
	case "bigint":
		return binary.BigEndian.AppendUint64(buf, uint64(v.i)), nil
	case "varint":
		return appendVarint(buf, v.i), nil
	case "float":
		return binary.BigEndian.AppendUint32(buf, math.Float32bits(float32(v.f))), nil
	case "double":
		return binary.BigEndian.AppendUint64(buf, math.Float64bits(v.f)), nil
	case "decimal":
		return appendDecimal(buf, v.f)
	case "text":
		return append(buf, v.s...), nil
	case "blob":
		return append(buf, v.b...), nil
	case "date":
		// Days since the epoch, centred on 2^31.
		return binary.BigEndian.AppendUint32(buf, uint32(v.i+1<<31)), nil
	case "timestamp":
		if t == types.Date {
			return binary.BigEndian.AppendUint64(buf, uint64(v.i*86_400_000)), nil
		}
		// Cassandra keeps milliseconds: the microseconds are dropped
		// (rounding down, also before 1970).
		ms := v.i / 1000
		if v.i%1000 < 0 {
			ms--
		}
		return binary.BigEndian.AppendUint64(buf, uint64(ms)), nil
	case "time":
		return binary.BigEndian.AppendUint64(buf, uint64(v.i*1000)), nil
	case "duration":
		return appendDuration(buf, v.iv)
	}
	return nil, fmt.Errorf("no encoding of %s as %s", t, c.text)
}

// appendList appends an array (stored as its PostgreSQL text form) as a
// CQL list.
func appendList(buf []byte, s string, t types.T, c *cqlType) ([]byte, error) {
	a, err := types.ParseArray(s, t)
	if err != nil {
		return nil, err
	}
	if len(a.Dims) > 1 {
		return nil, fmt.Errorf("a %d-dimensional array does not fit a CQL list", len(a.Dims))
	}
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(a.Elems)))
	elem := t.Elem()
	for i, e := range a.Elems {
		if a.IsNull(i) {
			return nil, fmt.Errorf("a CQL list cannot hold NULL (element %d of %s)", i+1, s)
		}
		d, err := types.ParseText(e, elem)
		if err != nil {
			return nil, err
		}
		at := len(buf)
		buf = append(buf, 0, 0, 0, 0)
		if elem.IsArray() {
			return nil, fmt.Errorf("nested arrays are not supported")
		}
		if buf, err = appendValue(buf, valueOf(d, elem), elem, c.elem); err != nil {
			return nil, err
		}
		binary.BigEndian.PutUint32(buf[at:], uint32(len(buf)-at-4))
	}
	return buf, nil
}

// appendVarint appends x as a minimal big-endian two's complement integer.
func appendVarint(buf []byte, x int64) []byte {
	n := 8
	for n > 1 {
		// Drop a leading byte while the next one's sign bit repeats it.
		top := byte(x >> (8 * (n - 1)))
		next := byte(x >> (8 * (n - 2)))
		if (top == 0 && next&0x80 == 0) || (top == 0xFF && next&0x80 != 0) {
			n--
			continue
		}
		break
	}
	for k := n - 1; k >= 0; k-- {
		buf = append(buf, byte(x>>(8*k)))
	}
	return buf
}

// appendDecimal appends f as a CQL decimal (a 32-bit scale, then the
// unscaled value as a varint) holding the shortest decimal that reads back
// as f, which is how Sluice prints a numeric.
func appendDecimal(buf []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("%v does not fit a CQL decimal", f)
	}
	var scratch [32]byte
	s := strconv.AppendFloat(scratch[:0], f, 'e', -1, 64) // -d.ddde±x
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	mant, exp, _ := strings.Cut(string(s), "e")
	e, _ := strconv.Atoi(exp)
	digits := strings.Replace(mant, ".", "", 1)
	unscaled, _ := strconv.ParseInt(digits, 10, 64) // at most 17 digits
	scale := len(digits) - 1 - e
	// Prefer a plain integer to a negative scale (100, not 1E+2) while the
	// unscaled value fits.
	for scale < 0 && unscaled <= math.MaxInt64/10 {
		unscaled *= 10
		scale++
	}
	if neg {
		unscaled = -unscaled
	}
	buf = binary.BigEndian.AppendUint32(buf, uint32(int32(scale)))
	return appendVarint(buf, unscaled), nil
}

// appendDuration appends an interval as a CQL duration: months, days and
// nanoseconds as vints, which Cassandra wants all of one sign.
func appendDuration(buf []byte, iv types.IntervalValue) ([]byte, error) {
	if iv.Micros > math.MaxInt64/1000 || iv.Micros < math.MinInt64/1000 {
		return nil, fmt.Errorf("interval of %d µs overflows a duration's nanoseconds", iv.Micros)
	}
	neg := iv.Months < 0 || iv.Days < 0 || iv.Micros < 0
	pos := iv.Months > 0 || iv.Days > 0 || iv.Micros > 0
	if neg && pos {
		return nil, fmt.Errorf("interval '%s' mixes signs, which a CQL duration cannot hold", types.AppendInterval(nil, iv))
	}
	buf = appendVint(buf, int64(iv.Months))
	buf = appendVint(buf, int64(iv.Days))
	return appendVint(buf, iv.Micros*1000), nil
}

// appendVint appends x as CQL's [vint]: zigzag-encoded, with as many
// leading one bits in the first byte as bytes follow it.
func appendVint(buf []byte, x int64) []byte {
	u := uint64(x<<1) ^ uint64(x>>63)
	n := 64 - bits.LeadingZeros64(u)
	extra := 0
	if n > 0 {
		extra = min((n-1)/7, 8)
	}
	var tmp [9]byte
	for i := extra; i >= 1; i-- {
		tmp[i] = byte(u)
		u >>= 8
	}
	if extra < 8 {
		tmp[0] = byte(u) | ^byte(0xFF>>extra)
	} else {
		tmp[0] = 0xFF
	}
	return append(buf, tmp[:extra+1]...)
}
