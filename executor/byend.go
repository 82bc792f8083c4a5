package executor

// byEnd orders values by the event time at which they end (a window's end, a
// session's end), so that a watermark releases exactly the state it has
// passed, earliest first, without scanning the rest.
//
// It is a binary min-heap of its own rather than container/heap, whose
// Push and Pop take an interface and so allocate for every value added.
type byEnd[T any] []ending[T]

type ending[T any] struct {
	end int64
	v   T
}

// add records that v ends at end.
func (h *byEnd[T]) add(end int64, v T) {
	*h = append(*h, ending[T]{end: end, v: v})
	s := *h
	for i := len(s) - 1; i > 0; {
		parent := (i - 1) / 2
		if s[parent].end <= s[i].end {
			break
		}
		s[parent], s[i] = s[i], s[parent]
		i = parent
	}
}

// endsBy reports whether some value ends at or before wm.
func (h byEnd[T]) endsBy(wm int64) bool { return len(h) > 0 && h[0].end <= wm }

// next removes and returns the value that ends first.
func (h *byEnd[T]) next() ending[T] {
	s := *h
	first := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s[last] = ending[T]{} // drop the reference the value may hold
	s = s[:last]
	for i := 0; ; {
		least, l, r := i, 2*i+1, 2*i+2
		if l < len(s) && s[l].end < s[least].end {
			least = l
		}
		if r < len(s) && s[r].end < s[least].end {
			least = r
		}
		if least == i {
			break
		}
		s[i], s[least] = s[least], s[i]
		i = least
	}
	*h = s
	return first
}

// Len is the number of values held.
func (h byEnd[T]) Len() int { return len(h) }
