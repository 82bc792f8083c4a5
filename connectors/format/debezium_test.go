package format

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/types"
)

func TestDebeziumDecoderTurnsEventsIntoKeyedChanges(t *testing.T) {
	alloc := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer alloc.AssertSize(t, 0)
	schema := types.Schema{{Name: "id", Type: types.Int4}, {Name: "name", Type: types.Text}}
	d, err := NewDebeziumDecoder(schema, alloc)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Release()
	events := []string{
		`{"before": null, "after": {"id": 1, "name": "ann"}, "op": "r", "ts_ms": 1}`,
		`{"op": "c", "after": {"id": 2, "name": "bob"}, "source": {"table": "people"}}`,
		`{"schema": {"type": "struct"}, "payload": {"before": {"id": 2, "name": "bob"}, "after": {"id": 2, "name": "cy"}, "op": "u"}}`,
		`{"before": {"id": 1}, "after": null, "op": "d"}`,
	}
	for _, e := range events {
		if err := d.Append([]byte(e)); err != nil {
			t.Fatalf("%s: %v", e, err)
		}
	}
	for _, bad := range []string{
		`{"after": {"id": 3}}`,                 // no op
		`{"op": "x", "after": {"id": 3}}`,      // unknown op
		`{"op": "d", "after": {"id": 3}}`,      // a delete without before
		`{"op": "c", "after": {"id": "four"}}`, // a bad value
		`not json`,
	} {
		if err := d.Append([]byte(bad)); err == nil {
			t.Errorf("%s was accepted", bad)
		}
	}
	deletes := append([]bool(nil), d.Deletes()...)
	rec := d.Finish()
	defer rec.Release()
	var got []string
	for i := 0; i < int(rec.NumRows()); i++ {
		got = append(got, rec.Column(0).ValueStr(i)+" "+rec.Column(1).ValueStr(i))
	}
	if want := "1 ann; 2 bob; 2 cy; 1 (null)"; strings.Join(got, "; ") != want {
		t.Errorf("rows %q, want %q", strings.Join(got, "; "), want)
	}
	if want := []bool{false, false, false, true}; len(deletes) != 4 || deletes[3] != want[3] || deletes[0] || deletes[1] || deletes[2] {
		t.Errorf("deletes %v, want %v", deletes, want)
	}
}
