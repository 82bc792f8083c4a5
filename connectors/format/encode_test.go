package format

import (
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/types"
)

// recordOf builds a one-column-per-type record from rows of Datums.
func recordOf(t *testing.T, alloc memory.Allocator, schema types.Schema, rows ...[]types.Datum) arrow.Record {
	t.Helper()
	b := array.NewRecordBuilder(alloc, schema.Arrow())
	defer b.Release()
	for _, row := range rows {
		for i, d := range row {
			types.Put(b.Field(i), d, schema[i].Type)
		}
	}
	return b.NewRecordBatch()
}

// encodeAll encodes every row of rec, one string per row.
func encodeAll(e *Encoder, rec arrow.Record) []string {
	e.Bind(rec)
	out := make([]string, rec.NumRows())
	var buf []byte
	for i := range out {
		buf = e.AppendRow(buf[:0], i)
		out[i] = string(buf)
	}
	return out
}

// micros is 2026-01-02 03:04:05.123456 UTC.
const micros = 1767323045123456

func TestEncodeValues(t *testing.T) {
	tests := []struct {
		name     string
		typ      types.T
		value    types.Datum
		json     string // the value in a JSON object
		csv      string // the CSV field
		noDecode bool   // the decoders do not read this form back
	}{
		{"null", types.Int4, nil, `null`, ``, false},
		{"true", types.Bool, true, `true`, `t`, false},
		{"false", types.Bool, false, `false`, `f`, false},
		{"smallint", types.Int2, int16(-32768), `-32768`, `-32768`, false},
		{"integer", types.Int4, int32(42), `42`, `42`, false},
		{"bigint", types.Int8, int64(math.MaxInt64), `9223372036854775807`, `9223372036854775807`, false},
		{"real", types.Float4, float32(1.5), `1.5`, `1.5`, false},
		{"double", types.Float8, 0.1, `0.1`, `0.1`, false},
		{"double with exponent", types.Float8, 1e300, `1e+300`, `1e+300`, false},
		{"NaN", types.Float8, math.NaN(), `"NaN"`, `NaN`, false},
		{"infinity", types.Float8, math.Inf(1), `"Infinity"`, `Infinity`, false},
		{"minus infinity", types.Float4, float32(math.Inf(-1)), `"-Infinity"`, `-Infinity`, false},
		{"numeric", types.Numeric, 12.25, `12.25`, `12.25`, false},
		{"numeric without exponent", types.Numeric, 1e20, `100000000000000000000`, `100000000000000000000`, false},
		{"text", types.Text, "plain", `"plain"`, `plain`, false},
		{"empty text", types.Text, "", `""`, `""`, false},
		{"text to escape", types.Varchar, "a\"b\\c\nd\te\x01", `"a\"b\\c\nd\te\u0001"`, "\"a\"\"b\\c\nd\te\x01\"", false},
		{"text with delimiter", types.Text, "x,y", `"x,y"`, `"x,y"`, false},
		{"unicode", types.Text, "Zoë ☃", `"Zoë ☃"`, `Zoë ☃`, false},
		{"jsonb is embedded", types.JSONB, `{"a": [1, 2]}`, `{"a": [1, 2]}`, `"{""a"": [1, 2]}"`, false},
		{"timestamp", types.Timestamp, int64(micros), `"2026-01-02 03:04:05.123456"`, `2026-01-02 03:04:05.123456`, false},
		{"timestamp whole second", types.Timestamp, int64(micros - 123456), `"2026-01-02 03:04:05.000000"`, `2026-01-02 03:04:05.000000`, false},
		{"timestamp before 1970", types.Timestamp, int64(-1), `"1969-12-31 23:59:59.999999"`, `1969-12-31 23:59:59.999999`, false},
		{"timestamptz in UTC without zone", types.TimestampTZ, int64(micros), `"2026-01-02 03:04:05.123456"`, `2026-01-02 03:04:05.123456`, false},
		{"timestamp infinity", types.Timestamp, int64(math.MaxInt64), `"infinity"`, `infinity`, false},
		{"date", types.Date, int32(20455), `"2026-01-02"`, `2026-01-02`, false},
		{"time", types.Time, int64(3*3600e6 + 4*60e6 + 5.5e6), `"03:04:05.5"`, `03:04:05.5`, false},
		{"interval", types.Interval, types.IntervalValue{Months: 14, Days: 3, Micros: 3600e6}, `"1 year 2 mons 3 days 01:00:00"`, `1 year 2 mons 3 days 01:00:00`, false},
		{"bytea", types.Bytea, []byte{0x0a, 0xff}, `"\\x0aff"`, `\x0aff`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alloc := checkedAlloc(t)
			schema := types.Schema{{Name: "v", Type: tt.typ}}
			rec := recordOf(t, alloc, schema, []types.Datum{tt.value})
			defer rec.Release()

			je, err := NewEncoder("json", nil, schema, nil)
			if err != nil {
				t.Fatal(err)
			}
			gotJSON := encodeAll(je, rec)[0]
			if want := `{"v":` + tt.json + `}`; gotJSON != want {
				t.Errorf("JSON: got %s, want %s", gotJSON, want)
			}
			ce, err := NewEncoder("CSV", nil, schema, nil)
			if err != nil {
				t.Fatal(err)
			}
			gotCSV := encodeAll(ce, rec)[0]
			if gotCSV != tt.csv {
				t.Errorf("CSV: got %q, want %q", gotCSV, tt.csv)
			}
			if tt.noDecode {
				return
			}
			// What is written reads back as the same value.
			want := rowsOf(t, recordOf(t, alloc, schema, []types.Datum{tt.value}))
			for _, enc := range []struct {
				name, record string
			}{{"JSON", gotJSON}, {"CSV", gotCSV}} {
				d, err := NewDecoder(enc.name, nil, schema, alloc)
				if err != nil {
					t.Fatal(err)
				}
				got, errs := decodeAll(t, d, []string{enc.record})
				d.Release()
				if errs[0] != "" {
					t.Errorf("%s %q does not decode: %s", enc.name, enc.record, errs[0])
				} else if got[0] != want[0] && !(tt.value == nil || (tt.typ.IsString() && tt.value == "")) {
					t.Errorf("%s %q decodes as %s, want %s", enc.name, enc.record, got[0], want[0])
				}
			}
		})
	}
}

func TestEncodeRows(t *testing.T) {
	alloc := checkedAlloc(t)
	schema := types.Schema{
		{Name: "id", Type: types.Int8},
		{Name: "name", Type: types.Text},
		{Name: "weird \"key\"", Type: types.Int4},
	}
	rec := recordOf(t, alloc, schema,
		[]types.Datum{int64(1), "ada", int32(7)},
		[]types.Datum{int64(2), nil, nil},
	)
	defer rec.Release()

	tests := []struct {
		name   string
		encode string
		opts   map[string]string
		cols   []int
		want   []string
		header string
	}{
		{"json, every column", "JSON", nil, nil,
			[]string{`{"id":1,"name":"ada","weird \"key\"":7}`, `{"id":2,"name":null,"weird \"key\"":null}`}, ""},
		{"json, a key's columns in key order", "JSON", nil, []int{1, 0},
			[]string{`{"name":"ada","id":1}`, `{"name":null,"id":2}`}, ""},
		{"json, no columns", "JSON", nil, []int{},
			[]string{`{}`, `{}`}, ""},
		{"csv", "CSV", nil, nil,
			[]string{`1,ada,7`, `2,,`}, `id,name,"weird ""key"""`},
		{"csv with a delimiter", "CSV", map[string]string{"delimiter": `\t`}, []int{0, 1},
			[]string{"1\tada", "2\t"}, "id\tname"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewEncoder(tt.encode, tt.opts, schema, tt.cols)
			if err != nil {
				t.Fatal(err)
			}
			got := encodeAll(e, rec)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if h := string(e.AppendHeader(nil)); h != tt.header {
				t.Errorf("header %q, want %q", h, tt.header)
			}
		})
	}
}

func TestNewEncoderErrors(t *testing.T) {
	schema := types.Schema{{Name: "id", Type: types.Int8}}
	tests := []struct {
		name   string
		encode string
		opts   map[string]string
		cols   []int
		want   string
	}{
		{"unknown encoding", "AVRO", nil, nil, "ENCODE AVRO is not supported (supported: JSON, CSV)"},
		{"json options", "JSON", map[string]string{"x": "1"}, nil, `unknown ENCODE JSON option "x" (ENCODE JSON takes no options)`},
		{"bad delimiter", "CSV", map[string]string{"delimiter": "ab"}, nil, "delimiter"},
		{"column out of range", "JSON", nil, []int{3}, "column 3 is not in the schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewEncoder(tt.encode, tt.opts, schema, tt.cols)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestEncodeAllocatesNothingPerRow(t *testing.T) {
	alloc := memory.NewGoAllocator()
	schema := bidSchema
	rec := recordOf(t, alloc, schema,
		[]types.Datum{int64(1007), int64(2001), int64(1783290), "Google", "https://www.nexmark.com/item.htm?query=1", int64(micros), "xthzfkqhg"})
	defer rec.Release()
	e, err := NewEncoder("JSON", nil, schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.Bind(rec)
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { buf = e.AppendRow(buf[:0], 0) }); n != 0 {
		t.Errorf("AppendRow allocates %v times per row", n)
	}
}

func BenchmarkJSONEncode(b *testing.B) {
	alloc := memory.NewGoAllocator()
	bb := array.NewRecordBuilder(alloc, bidSchema.Arrow())
	for i := 0; i < 1024; i++ {
		row := []types.Datum{int64(1007 + i), int64(2001), int64(1783290 + i), "Google",
			"https://www.nexmark.com/xzct/bv_c/wbmf/item.htm?query=1&channel_id=1275068416",
			int64(micros + int64(i)*1000), "xthzfkqhgsnhnkrnjpdmvmkufsrrdcdyouqsnwhwtq"}
		for c, d := range row {
			types.Put(bb.Field(c), d, bidSchema[c].Type)
		}
	}
	rec := bb.NewRecordBatch()
	bb.Release()
	defer rec.Release()
	e, err := NewEncoder("JSON", nil, bidSchema, nil)
	if err != nil {
		b.Fatal(err)
	}
	e.Bind(rec)
	buf := e.AppendRow(nil, 0)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = e.AppendRow(buf[:0], i%1024)
	}
}
