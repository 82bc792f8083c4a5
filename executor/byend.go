package executor

import "container/heap"

// byEnd orders values by the event time at which they end (a window's end, a
// session's end), so that a watermark releases exactly the state it has
// passed, earliest first, without scanning the rest.
type byEnd[T any] []ending[T]

type ending[T any] struct {
	end int64
	v   T
}

func (h byEnd[T]) Len() int           { return len(h) }
func (h byEnd[T]) Less(i, j int) bool { return h[i].end < h[j].end }
func (h byEnd[T]) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *byEnd[T]) Push(x any)        { *h = append(*h, x.(ending[T])) }
func (h *byEnd[T]) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// add records that v ends at end.
func (h *byEnd[T]) add(end int64, v T) { heap.Push(h, ending[T]{end: end, v: v}) }

// endsBy reports whether some value ends at or before wm.
func (h byEnd[T]) endsBy(wm int64) bool { return len(h) > 0 && h[0].end <= wm }

// next removes and returns the value that ends first.
func (h *byEnd[T]) next() ending[T] { return heap.Pop(h).(ending[T]) }
