package format

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// rowsOf renders a record as one string per row, "v1|v2|...", NULL for null.
func rowsOf(t *testing.T, rec arrow.Record) []string {
	t.Helper()
	defer rec.Release()
	out := make([]string, rec.NumRows())
	for i := range out {
		var cells []string
		for _, col := range rec.Columns() {
			if col.IsNull(i) {
				cells = append(cells, "NULL")
			} else {
				cells = append(cells, col.ValueStr(i))
			}
		}
		out[i] = strings.Join(cells, "|")
	}
	return out
}

func checkedAlloc(t *testing.T) *memory.CheckedAllocator {
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { alloc.AssertSize(t, 0) })
	return alloc
}

// decodeAll appends every record and returns the rows and the error (or "")
// of each record.
func decodeAll(t *testing.T, d Decoder, records []string) ([]string, []string) {
	t.Helper()
	errs := make([]string, len(records))
	for i, r := range records {
		if err := d.Append([]byte(r)); err != nil {
			errs[i] = err.Error()
		}
	}
	return rowsOf(t, d.Finish()), errs
}

func TestJSONDecode(t *testing.T) {
	schema := types.Schema{
		{Name: "id", Type: types.Int8},
		{Name: "small", Type: types.Int2},
		{Name: "price", Type: types.Float8},
		{Name: "name", Type: types.Text},
		{Name: "ok", Type: types.Bool},
		{Name: "ts", Type: types.Timestamp},
		{Name: "doc", Type: types.JSONB},
	}
	tests := []struct {
		name string
		in   string
		want string // the row, or the error when it starts with "error: "
	}{
		{"all columns", `{"id":1,"small":2,"price":3.5,"name":"x","ok":true,"ts":"2015-07-15 00:00:01.5","doc":{"a":[1,2]}}`,
			`1|2|3.5|x|true|2015-07-15T00:00:01.5|{"a":[1,2]}`},
		{"missing keys are NULL", `{"id":1}`, `1|NULL|NULL|NULL|NULL|NULL|NULL`},
		{"empty object", `{}`, `NULL|NULL|NULL|NULL|NULL|NULL|NULL`},
		{"explicit null", `{"id":null,"name":null}`, `NULL|NULL|NULL|NULL|NULL|NULL|NULL`},
		{"extra keys are ignored", `{"zzz":{"deep":[1,{"x":null}]},"id":7,"other":"s"}`, `7|NULL|NULL|NULL|NULL|NULL|NULL`},
		{"keys match ignoring case", `{"ID":5,"Name":"n"}`, `5|NULL|NULL|n|NULL|NULL|NULL`},
		{"whitespace and CRLF", " { \"id\" : 9 , \"name\" : \"a b\" } \r\n", `9|NULL|NULL|a b|NULL|NULL|NULL`},
		{"integral float into integer", `{"id":12.0,"small":1e3}`, `12|1000|NULL|NULL|NULL|NULL|NULL`},
		{"fraction into integer", `{"id":12.5}`, `error: column "id": 12.5 is not an integer`},
		{"smallint overflow", `{"small":40000}`, `error: column "small": value 40000 is out of range for type smallint`},
		{"bigint overflow", `{"id":9223372036854775808}`, `error: column "id": value 9223372036854775808 is out of range for type bigint`},
		{"bigint extremes", `{"id":-9223372036854775808}`, `-9223372036854775808|NULL|NULL|NULL|NULL|NULL|NULL`},
		{"numeric strings", `{"id":"42","price":"12.5"}`, `42|NULL|12.5|NULL|NULL|NULL|NULL`},
		{"bad numeric string", `{"price":"abc"}`, `error: column "price": invalid input syntax for type double precision: "abc"`},
		{"epoch milliseconds", `{"ts":1436918400123}`, `NULL|NULL|NULL|NULL|NULL|2015-07-15T00:00:00.123|NULL`},
		{"number into text", `{"name":-1.5e3}`, `NULL|NULL|NULL|-1.5e3|NULL|NULL|NULL`},
		{"bool into text", `{"name":false}`, `NULL|NULL|NULL|false|NULL|NULL|NULL`},
		{"object into text", `{"name":{"k": "v"}}`, `NULL|NULL|NULL|{"k": "v"}|NULL|NULL|NULL`},
		{"array into jsonb", `{"doc":[1, "two", null]}`, `NULL|NULL|NULL|NULL|NULL|NULL|[1, "two", null]`},
		{"string into jsonb", `{"doc":"s\"q"}`, `NULL|NULL|NULL|NULL|NULL|NULL|"s\"q"`},
		{"number into jsonb", `{"doc":3.25}`, `NULL|NULL|NULL|NULL|NULL|NULL|3.25`},
		{"escapes", `{"name":"a\"b\\c\/d\n\u00e9\ud83d\ude00"}`, "NULL|NULL|NULL|a\"b\\c/d\n\u00e9\U0001F600|NULL|NULL|NULL"},
		{"boolean strings", `{"ok":"yes"}`, `NULL|NULL|NULL|NULL|true|NULL|NULL`},
		{"object into integer", `{"id":{}}`, `error: column "id": cannot store a JSON object in a column of type bigint`},
		{"number into boolean", `{"ok":1}`, `error: column "ok": cannot store a JSON number in a column of type boolean`},
		{"not an object", `[1,2]`, `error: expected a JSON object`},
		{"truncated", `{"id":1`, `error: invalid JSON: expected ',' or '}' at end of input`},
		{"trailing data", `{"id":1} x`, `error: invalid JSON: unexpected data after the JSON object at offset 9`},
		{"bad skipped value", `{"extra":[1,},"id":1}`, `error: invalid JSON: unexpected character at offset 12`},
		{"control character", "{\"name\":\"a\tb\"}", `error: invalid JSON: control character in string at offset 10`},
		{"invalid UTF-8", "{\"name\":\"\xff\"}", `error: invalid JSON: string is not valid UTF-8`},
		{"NUL escape", `{"name":"\u0000"}`, `error: unsupported Unicode escape \u0000`},
		{"leading zero", `{"id":01}`, `error: invalid JSON: expected ',' or '}' at offset 7`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewJSONDecoder(schema, checkedAlloc(t))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Release()
			rows, errs := decodeAll(t, d, []string{tc.in})
			if want, ok := strings.CutPrefix(tc.want, "error: "); ok {
				if errs[0] != want || len(rows) != 0 {
					t.Errorf("got error %q, rows %q; want error %q", errs[0], rows, want)
				}
				return
			}
			if errs[0] != "" || len(rows) != 1 || rows[0] != tc.want {
				t.Errorf("got rows %q, error %q; want %q", rows, errs[0], tc.want)
			}
		})
	}
}

func TestJSONKeyMatchingPrefersExactCase(t *testing.T) {
	schema := types.Schema{{Name: "a", Type: types.Int4}, {Name: "A", Type: types.Int4}, {Name: "B", Type: types.Int4}}
	d, err := NewJSONDecoder(schema, checkedAlloc(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Release()
	rows, _ := decodeAll(t, d, []string{`{"A":1,"a":2,"b":3}`})
	if want := "2|1|3"; rows[0] != want {
		t.Errorf("got %q, want %q", rows[0], want)
	}
}

// A record that fails in its last column must not leave values behind in the
// columns before it.
func TestJSONFailedRecordLeavesNoPartialRow(t *testing.T) {
	schema := types.Schema{{Name: "a", Type: types.Int8}, {Name: "s", Type: types.Text}, {Name: "b", Type: types.Int2}}
	d, err := NewJSONDecoder(schema, checkedAlloc(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Release()
	rows, errs := decodeAll(t, d, []string{
		`{"a":1,"s":"one","b":1}`,
		`{"a":2,"s":"two\n","b":99999}`,
		`{"a":3,"s":"three","b":3}`,
	})
	if errs[1] == "" {
		t.Fatal("the second record decoded")
	}
	want := []string{"1|one|1", "3|three|3"}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("got %q, want %q", rows, want)
	}
}

func TestJSONTemporalAndOtherTypes(t *testing.T) {
	schema := types.Schema{
		{Name: "d", Type: types.Date},
		{Name: "tz", Type: types.TimestampTZ},
		{Name: "r", Type: types.Float4},
		{Name: "n", Type: types.Numeric},
	}
	d, err := NewJSONDecoder(schema, checkedAlloc(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Release()
	rows, errs := decodeAll(t, d, []string{
		`{"d":"2015-07-15","tz":1436918400000,"r":1.5,"n":"2.25"}`,
		`{"r":1e300}`,
		`{"d":"not a date"}`,
	})
	if errs[0] != "" || rows[0] != "2015-07-15|2015-07-15T00:00:00Z|1.5|2.25" {
		t.Errorf("row 0: got %q (error %q)", rows, errs[0])
	}
	if !strings.Contains(errs[1], "out of range for type real") {
		t.Errorf("1e300 into real: got error %q", errs[1])
	}
	if !strings.HasPrefix(errs[2], `column "d": `) {
		t.Errorf("bad date: got error %q", errs[2])
	}
}

func TestCSVDecode(t *testing.T) {
	schema := types.Schema{
		{Name: "id", Type: types.Int4},
		{Name: "name", Type: types.Varchar},
		{Name: "price", Type: types.Float8},
	}
	tests := []struct {
		name    string
		opts    map[string]string
		records []string
		want    []string // rows
		errs    []string // per record, "" for none
	}{
		{
			name:    "by position",
			records: []string{"1,apple,0.5\n", "2,pear,1\r\n"},
			want:    []string{"1|apple|0.5", "2|pear|1"},
			errs:    []string{"", ""},
		},
		{
			name:    "empty fields: NULL except text",
			records: []string{",,", `"",""," "`},
			want:    []string{"NULL||NULL"},
			errs:    []string{"", `column "price": invalid input syntax for type double precision: " "`},
		},
		{
			name:    "quoted fields",
			records: []string{`3,"a, ""quoted"" name",2`, "4,\"two\nlines\",3"},
			want:    []string{`3|a, "quoted" name|2`, "4|two\nlines|3"},
			errs:    []string{"", ""},
		},
		{
			name:    "wrong field count",
			records: []string{"1,a", "1,a,2,3", "garbage"},
			errs:    []string{"expected 3 fields, found 2", "expected 3 fields, found 4", "expected 3 fields, found 1"},
		},
		{
			name:    "bad values",
			records: []string{"x,a,1", `1,"unterminated,2`, `1,"a"b,2`},
			errs: []string{
				`column "id": invalid input syntax for type integer: "x"`,
				"unterminated quoted field",
				`unexpected character 'b' after a quoted field`,
			},
		},
		{
			name:    "not UTF-8",
			records: []string{"1,caf\xe9,2"},
			errs:    []string{`invalid byte sequence for encoding "UTF8"`},
		},
		{
			name:    "custom delimiter",
			opts:    map[string]string{"delimiter": ";"},
			records: []string{"5;a,b;1.5"},
			want:    []string{"5|a,b|1.5"},
			errs:    []string{""},
		},
		{
			name:    "tab delimiter",
			opts:    map[string]string{"delimiter": `\t`},
			records: []string{"6\tx\t2"},
			want:    []string{"6|x|2"},
			errs:    []string{""},
		},
		{
			name:    "header matches by name",
			opts:    map[string]string{"header": "true"},
			records: []string{"\xEF\xBB\xBFPrice,unused,id", "1.5,zzz,7", "2.5,,8"},
			want:    []string{"7|NULL|1.5", "8|NULL|2.5"},
			errs:    []string{"", "", ""},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewDecoder("csv", tc.opts, schema, checkedAlloc(t))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Release()
			records := tc.records
			errs := make([]string, len(records))
			if hd, ok := d.(HeaderDecoder); ok && hd.WantsHeader() {
				if err := hd.SetHeader([]byte(records[0])); err != nil {
					t.Fatal(err)
				}
				records = records[1:]
				errs = errs[1:]
			}
			rows, got := decodeAll(t, d, records)
			if fmt.Sprint(rows) != fmt.Sprint(tc.want) {
				t.Errorf("rows: got %q, want %q", rows, tc.want)
			}
			want := tc.errs[len(tc.errs)-len(got):]
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("errors: got %q, want %q", got, want)
			}
		})
	}
}

func TestCSVFrame(t *testing.T) {
	d, err := NewCSVDecoder(types.Schema{{Name: "a", Type: types.Text}}, CSVOptions{}, checkedAlloc(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Release()
	tests := []struct {
		data string
		want int
	}{
		{"a,b\nc", 4},
		{"a,b", -1},
		{"\"x\ny\",z\nnext", 8},
		{"\"x\ny", -1},
		{`"say ""hi""",1` + "\n", 15},
		{"ab\"c\nd", 5}, // a bare quote inside an unquoted field does not open a quote
		{"\"\"\"\n\"\n", 6},
	}
	for _, tc := range tests {
		if got := d.Frame([]byte(tc.data)); got != tc.want {
			t.Errorf("Frame(%q) = %d, want %d", tc.data, got, tc.want)
		}
	}
}

func TestDecoderOptionErrors(t *testing.T) {
	schema := types.Schema{{Name: "a", Type: types.Int4}}
	tests := []struct {
		encode string
		opts   map[string]string
		code   string
		msg    string
	}{
		{"CSV", map[string]string{"separator": ";"}, pgerror.InvalidParameterValue, `unknown ENCODE CSV option "separator" (known options: delimiter, header)`},
		{"CSV", map[string]string{"delimiter": ";;"}, pgerror.InvalidParameterValue, `invalid value for ENCODE CSV option "delimiter": ";;" is not a single character other than a quote or newline`},
		{"CSV", map[string]string{"header": "maybe"}, pgerror.InvalidParameterValue, `invalid value for ENCODE CSV option "header": "maybe" is not a boolean`},
		{"JSON", map[string]string{"x": "1"}, pgerror.InvalidParameterValue, `unknown ENCODE JSON option "x" (ENCODE JSON takes no options)`},
		{"AVRO", nil, pgerror.FeatureNotSupported, `ENCODE AVRO is not supported (supported: JSON, CSV)`},
	}
	for _, tc := range tests {
		_, err := NewDecoder(tc.encode, tc.opts, schema, memory.NewGoAllocator())
		if err == nil || pgerror.Code(err) != tc.code || err.Error() != tc.msg {
			t.Errorf("NewDecoder(%s, %v): got %v (%s), want %s: %s", tc.encode, tc.opts, err, pgerror.Code(err), tc.code, tc.msg)
		}
	}
}

func TestParseISOTimestamp(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1970-01-01 00:00:00", 0, true},
		{"2015-07-15T00:00:00.1", 1436918400100000, true},
		{"2000-02-29 23:59:59.999999", 951868799999999, true},
		{"1969-12-31 23:59:59", -1000000, true},
		{"2001-02-29 00:00:00", 0, false},
		{"2015-07-15 00:00:00+02", 0, false},
		{"2015-07-15 24:00:00", 0, false},
		{"2015-07-15 00:00:00.1234567", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseISOTimestamp([]byte(tc.in))
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseISOTimestamp(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// The fast path must agree with the general parser wherever it applies.
func TestISOTimestampAgreesWithParseTimestamp(t *testing.T) {
	for _, s := range []string{
		"1970-01-01 00:00:00", "2015-07-15 00:00:04.123", "2015-07-15T12:34:56.000001",
		"1969-07-20 20:17:40", "2000-02-29 23:59:59.999999", "0001-01-01 00:00:00", "9999-12-31 23:59:59.5",
	} {
		fast, ok := parseISOTimestamp([]byte(s))
		slow, err := types.ParseTimestamp(s)
		if !ok || err != nil || fast != slow {
			t.Errorf("%q: fast path %d (%v), ParseTimestamp %d (%v)", s, fast, ok, slow, err)
		}
	}
}
