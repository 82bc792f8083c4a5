package cqltest

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind is a CQL type's option id in the native protocol.
type Kind uint16

// The CQL types the server knows.
const (
	Custom    Kind = 0x0000
	ASCII     Kind = 0x0001
	Bigint    Kind = 0x0002
	Blob      Kind = 0x0003
	Boolean   Kind = 0x0004
	Counter   Kind = 0x0005
	Decimal   Kind = 0x0006
	Double    Kind = 0x0007
	Float     Kind = 0x0008
	Int       Kind = 0x0009
	Timestamp Kind = 0x000B
	UUID      Kind = 0x000C
	Varchar   Kind = 0x000D
	Varint    Kind = 0x000E
	Timeuuid  Kind = 0x000F
	Inet      Kind = 0x0010
	Date      Kind = 0x0011
	Time      Kind = 0x0012
	Smallint  Kind = 0x0013
	Tinyint   Kind = 0x0014
	// Duration has option id 0x0015 only from protocol v5; v4 sends it
	// as the custom type durationClass.
	Duration Kind = 0x0015
	List     Kind = 0x0020
	Map      Kind = 0x0021
	Set      Kind = 0x0022
)

const durationClass = "org.apache.cassandra.db.marshal.DurationType"

var kindNames = map[Kind]string{
	ASCII: "ascii", Bigint: "bigint", Blob: "blob", Boolean: "boolean", Counter: "counter",
	Decimal: "decimal", Double: "double", Float: "float", Int: "int", Timestamp: "timestamp",
	UUID: "uuid", Varchar: "text", Varint: "varint", Timeuuid: "timeuuid", Inet: "inet",
	Date: "date", Time: "time", Smallint: "smallint", Tinyint: "tinyint", Duration: "duration",
}

// Type is a CQL type.
type Type struct {
	Kind   Kind
	Elems  []*Type // list and set: the element; map: key and value
	Frozen bool
}

// String is the type as system_schema.columns spells it.
func (t *Type) String() string {
	var s string
	switch t.Kind {
	case List, Set:
		s = fmt.Sprintf("%s<%s>", map[Kind]string{List: "list", Set: "set"}[t.Kind], t.Elems[0])
	case Map:
		s = fmt.Sprintf("map<%s, %s>", t.Elems[0], t.Elems[1])
	default:
		s = kindNames[t.Kind]
	}
	if t.Frozen {
		return "frozen<" + s + ">"
	}
	return s
}

// ParseType parses a CQL type name such as "int" or "frozen<list<text>>".
func ParseType(s string) (*Type, error) {
	p := typeParser{s: strings.TrimSpace(s)}
	t, err := p.parse()
	if err != nil {
		return nil, err
	}
	if p.s != "" {
		return nil, fmt.Errorf("unexpected %q after type", p.s)
	}
	return t, nil
}

type typeParser struct{ s string }

func (p *typeParser) word() string {
	p.s = strings.TrimLeft(p.s, " ")
	i := 0
	for i < len(p.s) && (isIdentChar(p.s[i])) {
		i++
	}
	w := strings.ToLower(p.s[:i])
	p.s = p.s[i:]
	return w
}

func (p *typeParser) expect(c byte) error {
	p.s = strings.TrimLeft(p.s, " ")
	if p.s == "" || p.s[0] != c {
		return fmt.Errorf("expected %q in type", c)
	}
	p.s = p.s[1:]
	return nil
}

func (p *typeParser) parse() (*Type, error) {
	w := p.word()
	switch w {
	case "frozen":
		if err := p.expect('<'); err != nil {
			return nil, err
		}
		t, err := p.parse()
		if err != nil {
			return nil, err
		}
		t.Frozen = true
		return t, p.expect('>')
	case "list", "set", "map":
		if err := p.expect('<'); err != nil {
			return nil, err
		}
		t := &Type{Kind: map[string]Kind{"list": List, "set": Set, "map": Map}[w]}
		n := 1
		if t.Kind == Map {
			n = 2
		}
		for i := 0; i < n; i++ {
			if i > 0 {
				if err := p.expect(','); err != nil {
					return nil, err
				}
			}
			e, err := p.parse()
			if err != nil {
				return nil, err
			}
			t.Elems = append(t.Elems, e)
		}
		return t, p.expect('>')
	case "varchar":
		return &Type{Kind: Varchar}, nil
	}
	for k, name := range kindNames {
		if name == w {
			return &Type{Kind: k}, nil
		}
	}
	return nil, fmt.Errorf("unknown type %q", w)
}

// writeOption writes the type as a protocol [option].
func (f *frame) option(t *Type) {
	if t.Kind == Duration {
		f.short(uint16(Custom))
		f.string(durationClass)
		return
	}
	f.short(uint16(t.Kind))
	for _, e := range t.Elems {
		f.option(e)
	}
}

// fixedSize is the size of a value of a fixed-width type, 0 for others.
func fixedSize(k Kind) int {
	switch k {
	case Bigint, Counter, Timestamp, Double, Time:
		return 8
	case Int, Float, Date:
		return 4
	case Smallint:
		return 2
	case Tinyint, Boolean:
		return 1
	case UUID, Timeuuid:
		return 16
	}
	return 0
}

// validate checks that v is a well-formed serialised value of t, as
// Cassandra's type validators do, so that a client sending a wrong encoding
// gets an Invalid error rather than stored garbage.
func validate(t *Type, v []byte) error {
	if len(v) == 0 {
		return nil // the "empty" value, which Cassandra accepts for every type
	}
	if n := fixedSize(t.Kind); n > 0 && len(v) != n {
		return fmt.Errorf("expected %d or 0 byte %s (%d)", n, t, len(v))
	}
	switch t.Kind {
	case ASCII:
		for _, c := range v {
			if c >= 0x80 {
				return fmt.Errorf("invalid byte for ascii: %d", c)
			}
		}
	case Varchar:
		if !utf8.Valid(v) {
			return fmt.Errorf("invalid UTF-8 bytes %x", v)
		}
	case Time:
		if n := int64(binary.BigEndian.Uint64(v)); n < 0 || n >= 86400*1e9 {
			return fmt.Errorf("time %d out of range", n)
		}
	case Decimal:
		if len(v) < 5 {
			return fmt.Errorf("decimal of %d bytes", len(v))
		}
	case Inet:
		if len(v) != 4 && len(v) != 16 {
			return fmt.Errorf("inet of %d bytes", len(v))
		}
	case Duration:
		d, err := decodeDuration(v)
		if err != nil {
			return err
		}
		if (d.Months < 0 || d.Days < 0 || d.Nanos < 0) && (d.Months > 0 || d.Days > 0 || d.Nanos > 0) {
			return fmt.Errorf("the duration months, days and nanoseconds must be all of the same sign (%d, %d, %d)", d.Months, d.Days, d.Nanos)
		}
	case List, Set, Map:
		_, err := splitCollection(t, v, func(e *Type, b []byte) error {
			if b == nil {
				return fmt.Errorf("null is not supported inside collections")
			}
			return validate(e, b)
		})
		return err
	}
	return nil
}

// splitCollection walks the elements of a v4 collection value, calling fn
// for each element (and, for a map, each key and value).
func splitCollection(t *Type, v []byte, fn func(*Type, []byte) error) (int, error) {
	r := reader{b: v}
	n := int(r.int())
	if r.err != nil || n < 0 {
		return 0, fmt.Errorf("malformed %s", t)
	}
	for i := 0; i < n; i++ {
		for _, e := range t.Elems {
			b, unset := r.value()
			if r.err != nil || unset {
				return 0, fmt.Errorf("malformed %s", t)
			}
			if err := fn(e, b); err != nil {
				return 0, err
			}
		}
	}
	if len(r.b) != 0 {
		return 0, fmt.Errorf("%d bytes left after a %s", len(r.b), t)
	}
	return n, nil
}

// DurationValue is a CQL duration.
type DurationValue struct {
	Months, Days int32
	Nanos        int64
}

func (d DurationValue) String() string { return fmt.Sprintf("%dmo%dd%dns", d.Months, d.Days, d.Nanos) }

func decodeDuration(v []byte) (DurationValue, error) {
	var out [3]int64
	for i := range out {
		x, n, err := readVint(v)
		if err != nil {
			return DurationValue{}, err
		}
		out[i], v = x, v[n:]
	}
	if len(v) != 0 {
		return DurationValue{}, fmt.Errorf("malformed duration")
	}
	if out[0] != int64(int32(out[0])) || out[1] != int64(int32(out[1])) {
		return DurationValue{}, fmt.Errorf("duration months or days out of range")
	}
	return DurationValue{Months: int32(out[0]), Days: int32(out[1]), Nanos: out[2]}, nil
}

// readVint reads CQL's [vint]: a zigzag-encoded integer whose first byte's
// leading one bits count the extra bytes that follow.
func readVint(v []byte) (int64, int, error) {
	if len(v) == 0 {
		return 0, 0, fmt.Errorf("malformed vint")
	}
	first := v[0]
	extra := 0
	for extra < 8 && first&(0x80>>extra) != 0 {
		extra++
	}
	if len(v) < 1+extra {
		return 0, 0, fmt.Errorf("malformed vint")
	}
	var u uint64
	if extra < 8 {
		u = uint64(first & (0xFF >> (extra + 1)))
	}
	for i := 1; i <= extra; i++ {
		u = u<<8 | uint64(v[i])
	}
	return int64(u>>1) ^ -int64(u&1), 1 + extra, nil
}

// appendVint appends x as CQL's [vint].
func appendVint(buf []byte, x int64) []byte {
	u := uint64(x<<1) ^ uint64(x>>63)
	n := 64 - bits.LeadingZeros64(u)
	extra := (n - 1) / 7
	if n == 0 {
		extra = 0
	}
	if extra > 8 {
		extra = 8
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

// DecimalValue is a CQL decimal: Unscaled × 10^-Scale.
type DecimalValue struct {
	Unscaled *big.Int
	Scale    int32
}

// String prints the decimal in plain notation.
func (d DecimalValue) String() string {
	r := new(big.Rat).SetInt(d.Unscaled)
	if d.Scale > 0 {
		r.Quo(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale)), nil)))
		return strings.TrimRight(strings.TrimRight(r.FloatString(int(d.Scale)), "0"), ".")
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-d.Scale)), nil)))
	return r.FloatString(0)
}

// decodeVarint decodes a two's complement big-endian integer.
func decodeVarint(v []byte) *big.Int {
	x := new(big.Int).SetBytes(v)
	if len(v) > 0 && v[0]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(v))))
	}
	return x
}

// encodeVarint encodes x as a minimal two's complement big-endian integer.
func encodeVarint(x *big.Int) []byte {
	if x.Sign() >= 0 {
		b := x.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	n := (x.BitLen() + 8) / 8
	m := new(big.Int).Add(x, new(big.Int).Lsh(big.NewInt(1), uint(8*n)))
	b := m.Bytes()
	for len(b) < n {
		b = append([]byte{0xFF}, b...)
	}
	for len(b) > 1 && b[0] == 0xFF && b[1]&0x80 != 0 {
		b = b[1:]
	}
	return b
}

// Decode turns a stored value of type t into a Go value: nil for null;
// string (ascii, text), int8, int16, int32, int64 (bigint, counter),
// float32, float64, bool, []byte (blob), *big.Int (varint), DecimalValue,
// time.Time (timestamp in UTC, date at midnight UTC), time.Duration (time
// of day), DurationValue, string (uuid, timeuuid, inet), []any (list,
// set) and [][2]any (map, in stored order).
func Decode(t *Type, v []byte) (any, error) {
	if v == nil {
		return nil, nil
	}
	if err := validate(t, v); err != nil {
		return nil, err
	}
	if len(v) == 0 && t.Kind != ASCII && t.Kind != Varchar && t.Kind != Blob {
		return nil, nil
	}
	switch t.Kind {
	case ASCII, Varchar:
		return string(v), nil
	case Blob:
		return bytes.Clone(v), nil
	case Boolean:
		return v[0] != 0, nil
	case Tinyint:
		return int8(v[0]), nil
	case Smallint:
		return int16(binary.BigEndian.Uint16(v)), nil
	case Int:
		return int32(binary.BigEndian.Uint32(v)), nil
	case Bigint, Counter:
		return int64(binary.BigEndian.Uint64(v)), nil
	case Float:
		return math.Float32frombits(binary.BigEndian.Uint32(v)), nil
	case Double:
		return math.Float64frombits(binary.BigEndian.Uint64(v)), nil
	case Varint:
		return decodeVarint(v), nil
	case Decimal:
		return DecimalValue{Scale: int32(binary.BigEndian.Uint32(v)), Unscaled: decodeVarint(v[4:])}, nil
	case Timestamp:
		return time.UnixMilli(int64(binary.BigEndian.Uint64(v))).UTC(), nil
	case Date:
		days := int64(binary.BigEndian.Uint32(v)) - 1<<31
		return time.Unix(days*86400, 0).UTC(), nil
	case Time:
		return time.Duration(binary.BigEndian.Uint64(v)), nil
	case Duration:
		return decodeDuration(v)
	case UUID, Timeuuid:
		h := hex.EncodeToString(v)
		return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
	case Inet:
		return net.IP(v).String(), nil
	case List, Set:
		var out []any
		_, err := splitCollection(t, v, func(e *Type, b []byte) error {
			d, err := Decode(e, b)
			out = append(out, d)
			return err
		})
		return out, err
	case Map:
		var out [][2]any
		var key any
		i := 0
		_, err := splitCollection(t, v, func(e *Type, b []byte) error {
			d, err := Decode(e, b)
			if i%2 == 0 {
				key = d
			} else {
				out = append(out, [2]any{key, d})
			}
			i++
			return err
		})
		return out, err
	}
	return nil, fmt.Errorf("cannot decode %s", t)
}

// encodeLiteral serialises a literal of the query text as a value of t.
func encodeLiteral(t *Type, l *literal) ([]byte, error) {
	if l.kind == litNull {
		return nil, nil
	}
	bad := func() error { return fmt.Errorf("invalid literal %s for type %s", l, t) }
	switch t.Kind {
	case ASCII, Varchar:
		if l.kind != litString {
			return nil, bad()
		}
		return []byte(l.text), nil
	case Boolean:
		if l.kind != litBool {
			return nil, bad()
		}
		if l.text == "true" {
			return []byte{1}, nil
		}
		return []byte{0}, nil
	case Tinyint, Smallint, Int, Bigint, Counter, Varint:
		if l.kind != litInt {
			return nil, bad()
		}
		x, ok := new(big.Int).SetString(l.text, 10)
		if !ok {
			return nil, bad()
		}
		if t.Kind == Varint {
			return encodeVarint(x), nil
		}
		n := fixedSize(t.Kind)
		if x.BitLen() > 8*n-1 && !(x.Sign() < 0 && new(big.Int).Add(x, big.NewInt(1)).BitLen() <= 8*n-1) {
			return nil, fmt.Errorf("literal %s out of range for %s", l.text, t)
		}
		b := make([]byte, 8)
		binary.BigEndian.PutUint64(b, uint64(x.Int64()))
		return b[8-n:], nil
	case Float, Double:
		if l.kind != litInt && l.kind != litFloat {
			return nil, bad()
		}
		f, err := strconv.ParseFloat(l.text, 64)
		if err != nil {
			return nil, bad()
		}
		if t.Kind == Float {
			return binary.BigEndian.AppendUint32(nil, math.Float32bits(float32(f))), nil
		}
		return binary.BigEndian.AppendUint64(nil, math.Float64bits(f)), nil
	case Decimal:
		if l.kind != litInt && l.kind != litFloat {
			return nil, bad()
		}
		r, ok := new(big.Rat).SetString(l.text)
		if !ok {
			return nil, bad()
		}
		scale := int32(0)
		for !r.IsInt() {
			r.Mul(r, big.NewRat(10, 1))
			scale++
		}
		return append(binary.BigEndian.AppendUint32(nil, uint32(scale)), encodeVarint(r.Num())...), nil
	case Blob:
		if l.kind != litBlob {
			return nil, bad()
		}
		return hex.DecodeString(l.text[2:])
	case UUID, Timeuuid:
		if l.kind != litUUID {
			return nil, bad()
		}
		return hex.DecodeString(strings.ReplaceAll(l.text, "-", ""))
	case Inet:
		ip := net.ParseIP(l.text)
		if l.kind != litString || ip == nil {
			return nil, bad()
		}
		if v4 := ip.To4(); v4 != nil {
			return v4, nil
		}
		return ip, nil
	case Timestamp:
		switch l.kind {
		case litInt:
			ms, err := strconv.ParseInt(l.text, 10, 64)
			if err != nil {
				return nil, bad()
			}
			return binary.BigEndian.AppendUint64(nil, uint64(ms)), nil
		case litString:
			for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
				if tm, err := time.Parse(layout, l.text); err == nil {
					return binary.BigEndian.AppendUint64(nil, uint64(tm.UnixMilli())), nil
				}
			}
		}
		return nil, bad()
	case Date:
		if l.kind != litString {
			return nil, bad()
		}
		tm, err := time.Parse("2006-01-02", l.text)
		if err != nil {
			return nil, bad()
		}
		return binary.BigEndian.AppendUint32(nil, uint32(tm.Unix()/86400+1<<31)), nil
	case Time:
		if l.kind == litInt {
			n, err := strconv.ParseInt(l.text, 10, 64)
			if err != nil {
				return nil, bad()
			}
			return binary.BigEndian.AppendUint64(nil, uint64(n)), nil
		}
		tm, err := time.Parse("15:04:05.999999999", l.text)
		if l.kind != litString || err != nil {
			return nil, bad()
		}
		n := int64(tm.Hour())*3600e9 + int64(tm.Minute())*60e9 + int64(tm.Second())*1e9 + int64(tm.Nanosecond())
		return binary.BigEndian.AppendUint64(nil, uint64(n)), nil
	case List, Set, Map:
		want := map[Kind]litKind{List: litList, Set: litSet, Map: litMap}[t.Kind]
		if l.kind == litSet && len(l.elems) == 0 && t.Kind == Map {
			l = &literal{kind: litMap} // {} is an empty map too
		}
		if l.kind != want {
			return nil, bad()
		}
		out := binary.BigEndian.AppendUint32(nil, uint32(len(l.elems)/len(t.Elems)))
		for i, e := range l.elems {
			b, err := encodeLiteral(t.Elems[i%len(t.Elems)], e)
			if err != nil {
				return nil, err
			}
			if b == nil {
				return nil, fmt.Errorf("null is not supported inside collections")
			}
			out = binary.BigEndian.AppendUint32(out, uint32(len(b)))
			out = append(out, b...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("literals of type %s are not supported by the test server", t)
}
