package types

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/pgerror"
)

// catalogTextCases specify the text input and output of the system catalog
// types and of arrays, as PostgreSQL 15 parses and prints them.
// TestCatalogTextCasesAgainstPostgres re-checks them when SLUICE_TEST_PG_URL
// is set.
var catalogTextCases = map[T][]textCase{
	Oid: {
		{in: "  42 ", out: "42"}, {in: "-1", out: "4294967295"}, {in: "4294967295", out: "4294967295"},
		{in: "-2147483648", out: "2147483648"}, {in: "0", out: "0"},
		{in: "4294967296", code: "22003"}, {in: "-2147483649", code: "22003"},
		{in: "x", code: "22P02"}, {in: "", code: "22P02"}, {in: "1.5", code: "22P02"},
	},
	Xid: {{in: "12", out: "12"}, {in: "-1", out: "4294967295"}},
	Name: {
		{in: "abc", out: "abc"}, {in: "", out: ""}, {in: "Mixed Case", out: "Mixed Case"},
		{in: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
			out: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
	},
	Char: {
		{in: "ab", out: "a"}, {in: "r", out: "r"}, {in: "", out: ""}, {in: `\101`, out: "A"},
		{in: "é", out: `\303`}, {in: " ", out: " "},
	},
	Int2Vector: {
		{in: "1  2 3", out: "1 2 3"}, {in: "", out: ""}, {in: " 7 ", out: "7"},
		{in: "1 x", code: "22P02"}, {in: "{1,2}", code: "22P02"}, {in: "40000", code: "22003"},
	},
	OidVector: {{in: "1 2", out: "1 2"}, {in: "-1", out: "4294967295"}},
	ACLItem:   {{in: "=c/postgres", out: "=c/postgres"}, {in: "postgres=CTc/postgres", out: "postgres=CTc/postgres"}},
	ArrayOf(Int4): {
		{in: "{1, 02,NULL}", out: "{1,2,NULL}"}, {in: "[0:1]={1,2}", out: "[0:1]={1,2}"},
		{in: "{{1,2},{3,4}}", out: "{{1,2},{3,4}}"}, {in: "{}", out: "{}"}, {in: "{ }", out: "{}"},
		{in: "  {1,2}  ", out: "{1,2}"}, {in: "[1:1]={1}", out: "{1}"}, {in: "[-2:-1]={1,2}", out: "[-2:-1]={1,2}"},
		{in: "{1,{2}}", code: "22P02"}, {in: "{1", code: "22P02"}, {in: "[1:2]={1}", code: "22P02"},
		{in: "{{1},{2,3}}", code: "22P02"}, {in: "1", code: "22P02"}, {in: "{x}", code: "22P02"},
		{in: "{1}x", code: "22P02"},
	},
	ArrayOf(Text): {
		{in: `{"a b","",NULL,"NULL",c,"q\"x", "b\\s", " d " , e f}`, out: `{"a b","",NULL,"NULL",c,"q\"x","b\\s"," d ","e f"}`},
		{in: `{a,  b  ,"c"}`, out: `{a,b,c}`}, {in: `{"NuLL"}`, out: `{"NuLL"}`}, {in: `{nUlL}`, out: `{NULL}`},
		{in: `{"{","}",","}`, out: `{"{","}",","}`}, {in: `{"a"b}`, code: "22P02"},
	},
	ArrayOf(Char):   {{in: "{ab,c}", out: "{a,c}"}},
	ArrayOf(Oid):    {{in: "{0}", out: "{0}"}, {in: "{1, -1}", out: "{1,4294967295}"}},
	ArrayOf(Int2):   {{in: "{1,2}", out: "{1,2}"}},
	ArrayOf(Bool):   {{in: "{t,false}", out: "{t,f}"}},
	ArrayOf(Float8): {{in: "{1.5,NaN}", out: "{1.5,NaN}"}},
}

func TestCatalogTextCases(t *testing.T) {
	for typ, cases := range catalogTextCases {
		for _, c := range cases {
			d, err := ParseText(c.in, typ)
			if c.code != "" {
				if pgerror.Code(err) != c.code {
					t.Errorf("%s %q: got %#v, %v; want error %s", typ, c.in, d, err, c.code)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s %q: unexpected error %v", typ, c.in, err)
				continue
			}
			if got := string(AppendDatum(nil, d, typ)); got != c.out {
				t.Errorf("%s %q: printed %q, want %q", typ, c.in, got, c.out)
			}
			// Storage, printing from an array, and the binary format.
			b := array.NewBuilder(memory.DefaultAllocator, typ.Arrow())
			Put(b, d, typ)
			arr := b.NewArray()
			if got := Value(arr, 0, typ); !datumEqual(got, d) {
				t.Errorf("%s %q: Value %#v, want %#v", typ, c.in, got, d)
			}
			if got := string(AppendText(nil, arr, 0, typ)); got != c.out {
				t.Errorf("%s %q: AppendText %q, want %q", typ, c.in, got, c.out)
			}
			bin := AppendBinary(nil, arr, 0, typ)
			if want := AppendDatumBinary(nil, d, typ); !bytes.Equal(bin, want) {
				t.Errorf("%s %q: AppendBinary %x, AppendDatumBinary %x", typ, c.in, bin, want)
			}
			back, err := ParseBinary(bin, typ)
			if err != nil || !datumEqual(back, d) {
				t.Errorf("%s %q: through binary %#v, %v; want %#v", typ, c.in, back, err, d)
			}
			arr.Release()
			b.Release()
		}
	}
}

func TestCatalogTextCasesAgainstPostgres(t *testing.T) {
	conn := connectPostgres(t)
	for typ, cases := range catalogTextCases {
		for _, c := range cases {
			out, code, err := postgresCast(conn, c.in, typ, 0)
			if err != nil {
				t.Fatalf("%s %q: %v", typ, c.in, err)
			}
			if code != c.code || (code == "" && string(out) != c.out) {
				t.Errorf("%s %q: PostgreSQL gives %q (error %q), the case says %q (error %q)", typ, c.in, out, code, c.out, c.code)
			}
			if code != "" || typ == ACLItem {
				continue // aclitem has no binary output
			}
			bin, _, err := postgresCast(conn, c.in, typ, 1)
			if err != nil {
				t.Fatalf("%s %q binary: %v", typ, c.in, err)
			}
			d, _ := ParseText(c.in, typ)
			if got := AppendDatumBinary(nil, d, typ); !bytes.Equal(got, bin) {
				t.Errorf("%s %q: binary %x, PostgreSQL sends %x", typ, c.in, got, bin)
			}
		}
	}
}

func TestCatalogTypeIdentity(t *testing.T) {
	for _, c := range []struct {
		typ  T
		name string
		oid  uint32
		len  int16
		phys T
	}{
		{Oid, "oid", 26, 4, Int8},
		{RegClass, "regclass", 2205, 4, Int8},
		{Name, "name", 19, 64, Text},
		{Char, `"char"`, 18, 1, Text},
		{Int2Vector, "int2vector", 22, -1, Text},
		{ArrayOf(Int4), "integer[]", 1007, -1, Text},
		{ArrayOf(Char), `"char"[]`, 1002, -1, Text},
		{ArrayOf(ACLItem), "aclitem[]", 1034, -1, Text},
		{ArrayOf(Varchar), "character varying[]", 1015, -1, Text},
		{Int4, "integer", 23, 4, Int4},
	} {
		if c.typ.String() != c.name || c.typ.OID() != c.oid || c.typ.Len() != c.len || c.typ.Physical() != c.phys {
			t.Errorf("%s: got (%q, %d, %d, %s), want (%q, %d, %d, %s)", c.name, c.typ.String(), c.typ.OID(), c.typ.Len(), c.typ.Physical(), c.name, c.oid, c.len, c.phys)
		}
		if got, ok := FromOID(c.oid); !ok || got != c.typ {
			t.Errorf("FromOID(%d) = %s, %v; want %s", c.oid, got, ok, c.typ)
		}
	}
	if PgNodeTree.HasArray() || !Int4.HasArray() || !ArrayOf(Int4).IsArray() || Int4.IsArray() {
		t.Error("HasArray or IsArray is wrong")
	}
	if ArrayOf(Int2).Elem() != Int2 || Int2Vector.Elem() != Int2 || OidVector.Elem() != Oid || Int4.Elem() != Unknown {
		t.Error("Elem is wrong")
	}
}

func TestParseArrayBinaryErrors(t *testing.T) {
	for _, c := range []struct {
		typ  T
		hex  string
		code string
	}{
		{ArrayOf(Int4), "00000001", codeInvalidBinaryRepresentation},
		{ArrayOf(Int4), "000000010000000000000014" + "0000000100000001" + "0000000400000001", pgerror.DatatypeMismatch},
		{ArrayOf(Int4), "000000010000000000000017" + "0000000200000001" + "0000000400000001", codeInvalidBinaryRepresentation},
		{Int2Vector, "000000010000000100000015" + "0000000100000000" + "ffffffff", pgerror.NullValueNotAllowed},
	} {
		b, _ := hex.DecodeString(c.hex)
		if _, err := ParseBinary(b, c.typ); pgerror.Code(err) != c.code {
			t.Errorf("%s %s: error %v, want code %s", c.typ, c.hex, err, c.code)
		}
	}
}

func TestArrayValue(t *testing.T) {
	a, err := ParseArray("1 2", Int2Vector)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(a.Append(nil, ArrayOf(Int2))); got != "[0:1]={1,2}" {
		t.Errorf("int2vector as int2[]: %q", got)
	}
	a, err = ParseArray("{a,NULL,b}", ArrayOf(Text))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Elems) != 3 || !a.IsNull(1) || a.IsNull(0) || a.Elems[2] != "b" || a.Dims[0] != 3 || a.Lower[0] != 1 {
		t.Errorf("parsed %+v", a)
	}
}
