package executor

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The fixed-key table answers as a Go map does through a long run of puts,
// overwrites and deletes that grows it, fills it with deletion marks and
// rehashes it.
func TestFixedTableAgreesWithAMap(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	table := newFixedTable(0)
	want := map[fixedKey]int32{}
	key := func() fixedKey { return fixedKey{r.Int64N(3000) - 1500, r.Int64N(3)} }
	for step := 0; step < 200_000; step++ {
		k := key()
		switch r.IntN(3) {
		case 0, 1:
			g := r.Int32N(1 << 20)
			table.put(k, g)
			want[k] = g
		case 2:
			table.del(k)
			delete(want, k)
		}
		if step%1000 == 0 {
			probe := key()
			got, ok := table.get(probe)
			w, wok := want[probe]
			if ok != wok || got != w {
				t.Fatalf("step %d: get(%v) = %d, %v; want %d, %v", step, probe, got, ok, w, wok)
			}
		}
	}
	if table.live != len(want) {
		t.Fatalf("the table holds %d keys, the map %d", table.live, len(want))
	}
	for k, w := range want {
		if got, ok := table.get(k); !ok || got != w {
			t.Fatalf("get(%v) = %d, %v; want %d", k, got, ok, w)
		}
	}
}

// Integer keys read from the columns are those the row codec encodes.
func TestFixedKeysMatchTheEncodedKeys(t *testing.T) {
	rec := bidBatch(t, 500, 50, time.Unix(1700000000, 0))
	defer rec.Release()
	h, err := NewHashAgg(aggPlan(bids, []int{0, 4}, kvAggs[:1], true), memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	if h.fixedCols != 2 || !h.readFixedKeys(rec) {
		t.Fatalf("a BIGINT and a TIMESTAMP key should be read as fixed keys (fixedCols %d)", h.fixedCols)
	}
	for i, k := range h.keyEnc.Encode(rec) {
		if fk, ok := fixedKeyOf(string(k), 2); !ok || fk != h.fixedBuf[i] {
			t.Fatalf("row %d: the columns give %v, the encoded key %v (%v)", i, h.fixedBuf[i], fk, ok)
		}
	}
}
