package executor

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sluicedb/sluice/types"
)

func TestLimitWindowsTheInput(t *testing.T) {
	tests := []struct {
		name          string
		count, offset int64
		chunks        []int // sizes of the input chunks, holding rows 0, 1, 2, ...
		want          []int // rows passed, as [from, to)
		wantSizes     []int // sizes of the chunks emitted
		doneAfter     int   // Done becomes true after this many chunks; -1 never
	}{
		{"count within the first chunk", 3, 0, []int{5, 5}, []int{0, 3}, []int{3}, 1},
		{"count ends exactly at a chunk boundary", 5, 0, []int{5, 5}, []int{0, 5}, []int{5}, 1},
		{"count spans chunks", 7, 0, []int{5, 5, 5}, []int{0, 7}, []int{5, 2}, 2},
		{"offset skips whole chunks", 2, 6, []int{3, 3, 3}, []int{6, 8}, []int{2}, 3},
		{"offset and count cut one chunk at both ends", 2, 1, []int{5}, []int{1, 3}, []int{2}, 1},
		{"offset ends at a chunk boundary", 4, 3, []int{3, 3, 3}, []int{3, 7}, []int{3, 1}, 3},
		{"no limit passes everything after the offset", -1, 4, []int{3, 3, 3}, []int{4, 9}, []int{2, 3}, -1},
		{"no limit and no offset passes chunks as they are", -1, 0, []int{2, 3}, []int{0, 5}, []int{2, 3}, -1},
		{"offset beyond the input passes nothing", 10, 20, []int{5, 5}, []int{0, 0}, nil, -1},
		{"count beyond the input passes all of it", 100, 0, []int{5, 5}, []int{0, 10}, []int{5, 5}, -1},
		{"LIMIT 0 is done before any input", 0, 0, []int{5}, []int{0, 0}, nil, 0},
		{"empty chunks change nothing", 2, 1, []int{0, 2, 0, 3}, []int{1, 3}, []int{1, 1}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := checkedAlloc(t)
			ctx := context.Background()
			l := NewLimit(tt.count, tt.offset)
			if got := l.Done(); got != (tt.doneAfter == 0) {
				t.Fatalf("Done() before input = %v", got)
			}
			var got rowCollector
			next := 0
			doneAt := -1
			if l.Done() {
				doneAt = 0
			}
			for i, size := range tt.chunks {
				rows := make([][]any, size)
				for r := range rows {
					rows[r] = []any{next}
					next++
				}
				rec := recordOf(t, mem, []types.T{types.Int8}, rows)
				err := l.Process(ctx, 0, Chunk{Rec: rec}, got.emit)
				rec.Release()
				if err != nil {
					t.Fatal(err)
				}
				if l.Done() && doneAt < 0 {
					doneAt = i + 1
				}
			}
			var want [][]any
			for r := tt.want[0]; r < tt.want[1]; r++ {
				want = append(want, []any{r})
			}
			assertRows(t, got.rows, want)
			if !slices.Equal(got.sizes, tt.wantSizes) {
				t.Errorf("emitted chunks of %v rows, want %v", got.sizes, tt.wantSizes)
			}
			if doneAt != tt.doneAfter {
				t.Errorf("Done() after %d chunks, want %d", doneAt, tt.doneAfter)
			}
		})
	}
}

func TestLimitDropsInputAfterDone(t *testing.T) {
	mem := checkedAlloc(t)
	l := NewLimit(1, 0)
	var got rowCollector
	for i := range 3 {
		rec := recordOf(t, mem, []types.T{types.Text}, [][]any{{fmt.Sprint(i)}})
		err := l.Process(context.Background(), 0, Chunk{Rec: rec}, got.emit)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	assertRows(t, got.rows, [][]any{{"0"}})
}

func TestLimitRefusesChangelogs(t *testing.T) {
	mem := checkedAlloc(t)
	rec := recordOf(t, mem, []types.T{types.Int8}, [][]any{{1}})
	defer rec.Release()
	err := NewLimit(5, 0).Process(context.Background(), 0, Chunk{Rec: rec, Ops: []Op{Insert}}, nil)
	if err == nil || !strings.Contains(err.Error(), "batch-only") {
		t.Fatalf("got %v, want a batch-only error", err)
	}
}
