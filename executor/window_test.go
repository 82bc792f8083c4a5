package executor

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

func TestWindowStartAlignsToEpochPlusOffset(t *testing.T) {
	for _, c := range []struct{ t, slide, offset, want int64 }{
		{t: 0, slide: 10, want: 0},
		{t: 9, slide: 10, want: 0},
		{t: 10, slide: 10, want: 10},
		{t: -1, slide: 10, want: -10}, // before 1970 still rounds down
		{t: -10, slide: 10, want: -10},
		{t: 12, slide: 10, offset: 3, want: 3},
		{t: 2, slide: 10, offset: 3, want: -7},
	} {
		if got := windowStart(c.t, c.slide, c.offset); got != c.want {
			t.Errorf("windowStart(%d, %d, %d) = %d, want %d", c.t, c.slide, c.offset, got, c.want)
		}
	}
}

var events = types.Schema{{Name: "k", Type: types.Text}, {Name: "ts", Type: types.Timestamp}}

func windowPlan(kind plan.WindowKind, size, slide, offset int64) *plan.Window {
	cols := append(append(types.Schema{}, events...),
		types.Column{Name: "window_start", Type: types.Timestamp}, types.Column{Name: "window_end", Type: types.Timestamp})
	return &plan.Window{Input: &plan.Scan{Cols: events}, Func: kind, TimeCol: 1, Size: size, Slide: slide, Offset: offset, Cols: cols}
}

func TestWindowAssign(t *testing.T) {
	const sec = 1_000_000
	for _, c := range []struct {
		name string
		n    *plan.Window
		want string
	}{
		{"tumble", windowPlan(plan.Tumble, 10*sec, 10*sec, 0),
			"+ a 2026-01-01 00:00:05 2026-01-01 00:00:00 2026-01-01 00:00:10\n" +
				"+ b NULL NULL NULL"},
		{"tumble with offset", windowPlan(plan.Tumble, 10*sec, 10*sec, 3*sec),
			"+ a 2026-01-01 00:00:05 2026-01-01 00:00:03 2026-01-01 00:00:13\n" +
				"+ b NULL NULL NULL"},
		{"hop puts a row in size/slide windows and drops NULL times", windowPlan(plan.Hop, 10*sec, 5*sec, 0),
			"+ a 2026-01-01 00:00:05 2026-01-01 00:00:00 2026-01-01 00:00:10\n" +
				"+ a 2026-01-01 00:00:05 2026-01-01 00:00:05 2026-01-01 00:00:15"},
		{"hop gives NULLs for columns nothing reads", unread(windowPlan(plan.Hop, 10*sec, 5*sec, 0), 0),
			"+ NULL 2026-01-01 00:00:05 2026-01-01 00:00:00 2026-01-01 00:00:10\n" +
				"+ NULL 2026-01-01 00:00:05 2026-01-01 00:00:05 2026-01-01 00:00:15"},
		{"tumble passes every column on as it is", unread(windowPlan(plan.Tumble, 10*sec, 10*sec, 0), 0),
			"+ a 2026-01-01 00:00:05 2026-01-01 00:00:00 2026-01-01 00:00:10\n" +
				"+ b NULL NULL NULL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			alloc := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer alloc.AssertSize(t, 0)
			// Windows are half-open: with a 5s slide, :05 belongs to
			// [:00, :10) and [:05, :15) but not to [-:05, :05).
			rec := record(t, alloc, events, []types.Datum{"a", ts("2026-01-01 00:00:05")}, []types.Datum{"b", nil})
			defer rec.Release()
			out := &collector{schema: c.n.Cols}
			if err := NewWindowAssign(c.n, alloc).Process(context.Background(), 0, Chunk{Rec: rec}, out.emit); err != nil {
				t.Fatal(err)
			}
			if got := out.take(); got != c.want {
				t.Fatalf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

// unread marks columns of n's input as read by nothing above it.
func unread(n *plan.Window, cols ...int) *plan.Window {
	n.Unread = make([]bool, len(n.Input.Schema()))
	for _, c := range cols {
		n.Unread[c] = true
	}
	return n
}
