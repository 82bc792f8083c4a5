package executor

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// Values come out earliest end first, whatever the order they went in, also
// when adds and removals interleave.
func TestByEndReleasesEarliestFirst(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var h byEnd[int]
	var held, released []int64
	for round := 0; round < 50; round++ {
		for i := r.IntN(40); i > 0; i-- {
			end := r.Int64N(1000)
			h.add(end, int(end))
			held = append(held, end)
		}
		wm := r.Int64N(1000)
		for h.endsBy(wm) {
			e := h.next()
			if int64(e.v) != e.end {
				t.Fatalf("value %d came out with end %d", e.v, e.end)
			}
			released = append(released, e.end)
		}
		slices.Sort(held)
		n, _ := slices.BinarySearch(held, wm+1)
		if want := held[:n]; !slices.Equal(released, want) {
			t.Fatalf("round %d, watermark %d: released %v, want %v", round, wm, released, want)
		}
		held, released = held[n:], released[:0]
		if h.Len() != len(held) {
			t.Fatalf("round %d: %d held, want %d", round, h.Len(), len(held))
		}
	}
}
