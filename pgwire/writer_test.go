package pgwire

import (
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/sluicedb/sluice/types"
)

func testBatch() (arrow.RecordBatch, []types.Column) {
	cols := []types.Column{{Name: "n", Type: types.Int8}, {Name: "s", Type: types.Text}, {Name: "i", Type: types.Int4}}
	rows := make([]types.Datum, 0, 3)
	rows = append(rows, int64(1)<<40, "some text", nil)
	return buildRecord(cols, rows), cols
}

// TestDataRowEncoding checks the hand-rolled DataRow encoder against
// pgproto3's.
func TestDataRowEncoding(t *testing.T) {
	rec, cols := testBatch()
	defer rec.Release()
	tests := []struct {
		name    string
		formats []int16
		want    pgproto3.DataRow
	}{
		{"text", nil, pgproto3.DataRow{Values: [][]byte{[]byte("1099511627776"), []byte("some text"), nil}}},
		{"binary", []int16{1, 1, 1}, pgproto3.DataRow{Values: [][]byte{{0, 0, 1, 0, 0, 0, 0, 0}, []byte("some text"), nil}}},
		{"mixed", []int16{1, 0, 0}, pgproto3.DataRow{Values: [][]byte{{0, 0, 1, 0, 0, 0, 0, 0}, []byte("some text"), nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w writer
			w.dataRows(rec, 0, 1, cols, tt.formats)
			want, err := tt.want.Encode(nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(w.buf) != string(want) {
				t.Fatalf("encoded\n%x\nwant\n%x", w.buf, want)
			}
		})
	}
}

func TestDataRowsDoNotAllocate(t *testing.T) {
	rec, cols := testBatch()
	defer rec.Release()
	w := writer{w: io.Discard}
	for _, formats := range [][]int16{nil, {1, 1, 1}} {
		allocs := testing.AllocsPerRun(100, func() {
			w.dataRows(rec, 0, 1, cols, formats)
			w.flush()
		})
		if allocs != 0 {
			t.Errorf("formats %v: %v allocations per row", formats, allocs)
		}
	}
}

func BenchmarkDataRows(b *testing.B) {
	rec, cols := testBatch()
	defer rec.Release()
	w := writer{w: io.Discard}
	for b.Loop() {
		w.dataRows(rec, 0, 1, cols, nil)
		if len(w.buf) > flushThreshold/2 {
			w.flush()
		}
	}
}
