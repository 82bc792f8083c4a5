package executor

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// fixedKey is a group key of one or two integer columns (integers of any
// width, dates, times, timestamps) held as two words: a map of them hashes
// and compares 16 bytes instead of the encoded key, and a chunk's keys are
// read straight from its columns without encoding them.
type fixedKey [2]int64

// fixedKeyColumns is the number of key columns a fixedKey holds for keys of
// these storages: their number if it is 1 or 2 and all are integers, else 0.
func fixedKeyColumns(st []storage) int {
	if len(st) == 0 || len(st) > len(fixedKey{}) {
		return 0
	}
	for _, s := range st {
		if s != stInt16 && s != stInt32 && s != stInt64 {
			return 0
		}
	}
	return len(st)
}

// fixedKeyOf reads the fixedKey of a key encoded by the row codec from n
// integer columns; false when a value is NULL.
func fixedKeyOf(k string, n int) (fixedKey, bool) {
	var fk fixedKey
	if len(k) != 9*n {
		return fk, false
	}
	for j := 0; j < n; j++ {
		seg := k[9*j : 9*j+9]
		if seg[0] != 1 {
			return fk, false
		}
		var v uint64
		for b := 8; b >= 1; b-- { // little-endian
			v = v<<8 | uint64(seg[b])
		}
		fk[j] = int64(v)
	}
	return fk, true
}

// readFixedKeys fills h.fixedBuf with the fixed keys of rec's rows and
// reports whether it could: not if a key value is NULL, which the encoded
// keys handle.
func (h *HashAgg) readFixedKeys(rec arrow.Record) bool {
	n := int(rec.NumRows())
	h.fixedBuf = grow(h.fixedBuf, n)
	clear(h.fixedBuf)
	for j, c := range h.node.Keys {
		a := rec.Column(c)
		if a.NullN() > 0 {
			return false
		}
		keys := h.fixedBuf
		switch a := a.(type) {
		case *array.Int64:
			for i, v := range a.Int64Values() {
				keys[i][j] = v
			}
		case *array.Timestamp:
			for i, v := range a.TimestampValues() {
				keys[i][j] = int64(v)
			}
		case *array.Int32:
			for i, v := range a.Int32Values() {
				keys[i][j] = int64(v)
			}
		case *array.Date32:
			for i, v := range a.Date32Values() {
				keys[i][j] = int64(v)
			}
		case *array.Time64:
			for i, v := range a.Time64Values() {
				keys[i][j] = int64(v)
			}
		case *array.Int16:
			for i, v := range a.Int16Values() {
				keys[i][j] = int64(v)
			}
		default:
			return false
		}
	}
	return true
}

// fixedTable maps fixedKeys to group ids with open addressing and linear
// probing: one multiply-and-shift hash and a 16-byte compare per probe,
// where a Go map of the same keys hashes and compares them as memory of any
// type (about half of an aggregation's time on integer keys, per pprof).
type fixedTable struct {
	keys []fixedKey
	// slots hold a group id plus one; 0 is an empty slot and -1 one whose
	// key was deleted (probing goes on past it).
	slots []int32
	live  int // keys held
	used  int // slots not empty: keys and deletion marks
}

const (
	fixedTableMinSize = 1 << 10
	slotEmpty         = 0
	slotDeleted       = -1
)

func newFixedTable(hint int) *fixedTable {
	size := fixedTableMinSize
	for size*3/4 < hint {
		size *= 2
	}
	return &fixedTable{keys: make([]fixedKey, size), slots: make([]int32, size)}
}

// home is the first slot to probe for k.
func (t *fixedTable) home(k fixedKey) int {
	h := uint64(k[0])*0x9e3779b97f4a7c15 ^ uint64(k[1])*0xc2b2ae3d27d4eb4f
	h ^= h >> 32
	return int(h & uint64(len(t.slots)-1))
}

// get returns the group id of k.
func (t *fixedTable) get(k fixedKey) (int32, bool) {
	mask := len(t.slots) - 1
	for i := t.home(k); ; i = (i + 1) & mask {
		switch s := t.slots[i]; {
		case s == slotEmpty:
			return 0, false
		case s > 0 && t.keys[i] == k:
			return s - 1, true
		}
	}
}

// put sets k's group id.
func (t *fixedTable) put(k fixedKey, g int32) {
	if (t.used+1)*4 > len(t.slots)*3 {
		t.resize()
	}
	mask := len(t.slots) - 1
	free := -1
	for i := t.home(k); ; i = (i + 1) & mask {
		s := t.slots[i]
		if s > 0 && t.keys[i] == k {
			t.slots[i] = g + 1
			return
		}
		if s == slotDeleted && free < 0 {
			free = i
		}
		if s == slotEmpty {
			if free < 0 {
				free = i
				t.used++
			}
			t.keys[free], t.slots[free] = k, g+1
			t.live++
			return
		}
	}
}

// del removes k.
func (t *fixedTable) del(k fixedKey) {
	mask := len(t.slots) - 1
	for i := t.home(k); ; i = (i + 1) & mask {
		switch s := t.slots[i]; {
		case s == slotEmpty:
			return
		case s > 0 && t.keys[i] == k:
			t.slots[i] = slotDeleted
			t.live--
			return
		}
	}
}

// resize rehashes into a table twice as large as the live keys need,
// dropping the deletion marks.
func (t *fixedTable) resize() {
	old := *t
	*t = *newFixedTable(2 * max(old.live, 1))
	for i, s := range old.slots {
		if s > 0 {
			t.put(old.keys[i], s-1)
		}
	}
}
