package executor

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// outputChunkRows bounds the rows of the chunks that the batch operators
// (sort, join) produce, so that one large input does not turn into one
// record too large to stream to the client or to the next operator.
const outputChunkRows = 4096

// Sort orders a bounded input the way PostgreSQL's ORDER BY does. It buffers
// every input record and emits the sorted rows in Finish.
//
// The order is stable: rows that compare equal on every key keep their input
// order. Rows are compared on their values, never on an encoding, so NaN,
// -0 and intervals follow PostgreSQL's rules (see compareFloat and
// intervalSpan).
type Sort struct {
	keys []plan.SortKey
	ts   []types.T
	recs []arrow.Record
	rows int64
}

var (
	_ Operator = (*Sort)(nil)
	_ Finisher = (*Sort)(nil)
)

// NewSort sorts rows by keys; ts are the types of the input columns.
//
// Arrays are allocated with compute.GetAllocator(ctx) of the context given to
// Finish, the allocator the Arrow kernels use.
func NewSort(keys []plan.SortKey, ts []types.T) *Sort {
	return &Sort{keys: keys, ts: ts}
}

// Process buffers a chunk of input.
func (s *Sort) Process(_ context.Context, _ int, c Chunk, _ Emit) error {
	if c.Ops != nil {
		return errBatchOnly("sort")
	}
	if c.Len() == 0 {
		return nil
	}
	c.Rec.Retain()
	s.recs = append(s.recs, c.Rec)
	s.rows += c.Rec.NumRows()
	return nil
}

// Finish sorts the buffered rows and emits them in chunks of at most
// outputChunkRows rows. The buffered input is released whatever happens.
func (s *Sort) Finish(ctx context.Context, emit Emit) error {
	defer s.Close()
	if s.rows == 0 {
		return nil
	}
	if s.rows > math.MaxInt32 {
		return pgerror.New(pgerror.ProgramLimitExceeded, "cannot sort %d rows in memory", s.rows)
	}
	mem := compute.GetAllocator(ctx)
	n := int(s.rows)
	schema := s.recs[0].Schema()
	cols, err := concatColumns(s.recs, mem)
	if err != nil {
		return fmt.Errorf("sort: %w", err)
	}
	defer releaseAll(cols)
	// The concatenated columns are all Finish needs: free the input now
	// rather than holding both copies until the end.
	s.Close()

	perm, err := s.permutation(cols, n)
	if err != nil {
		return err
	}
	out := make([]arrow.Array, len(cols))
	for lo := 0; lo < len(perm); lo += outputChunkRows {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(lo+outputChunkRows, len(perm))
		if err := takeColumns(ctx, cols, perm[lo:hi], nil, 0, out); err != nil {
			return fmt.Errorf("sort: %w", err)
		}
		rec := array.NewRecordBatch(schema, out, int64(hi-lo))
		releaseAll(out)
		err = emit(ctx, Chunk{Rec: rec})
		rec.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// Close releases the buffered input. Finish calls it; a driver that abandons
// the operator before Finish calls it directly.
func (s *Sort) Close() {
	for _, r := range s.recs {
		r.Release()
	}
	s.recs = nil
	s.rows = 0
}

// rowCompare compares two rows by their positions in the concatenated input.
type rowCompare func(a, b int32) int

// sortEntry is a row to sort with an order-preserving 64-bit image of its
// first key. Most comparisons are settled by the prefixes, which lie next to
// each other in memory, instead of by loading two values from random places
// of a column.
type sortEntry struct {
	prefix uint64
	row    int32
}

// permutation returns the input positions of the n rows in sorted order.
//
// Rows are split on whether their first key is NULL: the NULLs form one
// block, placed first or last as the key says. The others are radix-sorted
// on their prefixes, then runs of equal prefixes are sorted by the rest of
// the keys. Ties left after every key are broken on the input position,
// which makes the whole sort stable.
func (s *Sort) permutation(cols []arrow.Array, n int) ([]int32, error) {
	if len(s.keys) == 0 {
		perm := make([]int32, n)
		for i := range perm {
			perm[i] = int32(i)
		}
		return perm, nil
	}
	cmps := make([]rowCompare, len(s.keys))
	for i, k := range s.keys {
		if k.Col < 0 || k.Col >= len(cols) || k.Col >= len(s.ts) {
			return nil, fmt.Errorf("sort: key column %d out of range (%d columns)", k.Col, len(cols))
		}
		c, err := keyComparator(cols[k.Col], s.ts[k.Col], k)
		if err != nil {
			return nil, err
		}
		cmps[i] = c
	}
	first := s.keys[0]
	firstCol := cols[first.Col]
	entries := make([]sortEntry, n)
	exact := keyPrefixes(firstCol, entries)

	// Rows whose first keys have equal prefixes are told apart by the rest:
	// the whole first key unless the prefix is the value, then the other keys.
	rest := cmps[1:]
	if !exact {
		rest = cmps
	}
	tieBreak := func(a, b int32) int {
		for _, c := range rest {
			if r := c(a, b); r != 0 {
				return r
			}
		}
		return cmp.Compare(a, b)
	}

	// Move the NULLs out, and flip the prefixes of a descending key.
	var nulls []int32
	nullN := firstCol.NullN()
	valid := firstCol.NullBitmapBytes()
	off := firstCol.Data().Offset()
	kept := 0
	for i := range entries {
		if nullN > 0 && (nullN == n || !bitutil.BitIsSet(valid, off+i)) {
			nulls = append(nulls, int32(i))
			continue
		}
		p := entries[i].prefix
		if first.Desc {
			p = ^p
		}
		entries[kept] = sortEntry{prefix: p, row: int32(i)}
		kept++
	}
	entries = entries[:kept]
	entries = radixSort(entries, make([]sortEntry, len(entries)))
	if !exact || len(s.keys) > 1 {
		// The radix sort is stable, so rows with equal prefixes are in
		// input order; the tie-break decides between them.
		for lo := 0; lo < len(entries); {
			hi := lo + 1
			for hi < len(entries) && entries[hi].prefix == entries[lo].prefix {
				hi++
			}
			if hi-lo > 1 {
				slices.SortFunc(entries[lo:hi], func(a, b sortEntry) int { return tieBreak(a.row, b.row) })
			}
			lo = hi
		}
	}
	if len(nulls) > 0 {
		// Every first key in this block is NULL: only the others count.
		byOthers := func(a, b int32) int {
			for _, c := range cmps[1:] {
				if r := c(a, b); r != 0 {
					return r
				}
			}
			return cmp.Compare(a, b)
		}
		slices.SortFunc(nulls, byOthers)
	}
	perm := make([]int32, 0, n)
	if first.NullsFirst {
		perm = append(perm, nulls...)
	}
	for _, e := range entries {
		perm = append(perm, e.row)
	}
	if !first.NullsFirst {
		perm = append(perm, nulls...)
	}
	return perm, nil
}

// radixSort sorts entries by prefix, stably, with a least-significant-digit
// radix sort on bytes; scratch has the length of entries. It returns the
// sorted slice, which is either entries or scratch. A byte that is the same
// in every prefix (the high bytes of small integers) costs one counting pass
// and no move.
func radixSort(entries, scratch []sortEntry) []sortEntry {
	if len(entries) < 2 {
		return entries
	}
	var counts [8][256]int
	for _, e := range entries {
		p := e.prefix
		for d := range counts {
			counts[d][byte(p>>(8*d))]++
		}
	}
	src, dst := entries, scratch
	for d := range counts {
		c := &counts[d]
		shift := 8 * d
		if c[byte(src[0].prefix>>shift)] == len(src) {
			continue
		}
		sum := 0
		for b, n := range c {
			c[b] = sum
			sum += n
		}
		for _, e := range src {
			b := byte(e.prefix >> shift)
			dst[c[b]] = e
			c[b]++
		}
		src, dst = dst, src
	}
	return src
}

// keyPrefixes sets dst[i].prefix, for each non-NULL row i of a, to an
// unsigned integer whose order is the ascending order of the values, and
// reports whether equal prefixes mean equal values. The type is switched on
// once per column.
func keyPrefixes(a arrow.Array, dst []sortEntry) (exact bool) {
	switch a := a.(type) {
	case *array.Boolean:
		for i := range dst {
			if a.Value(i) {
				dst[i].prefix = 1
			}
		}
		return true
	case *array.Int16:
		intPrefixes(a.Int16Values(), dst)
		return true
	case *array.Int32:
		intPrefixes(a.Int32Values(), dst)
		return true
	case *array.Date32:
		intPrefixes(a.Date32Values(), dst)
		return true
	case *array.Int64:
		intPrefixes(a.Int64Values(), dst)
		return true
	case *array.Time64:
		intPrefixes(a.Time64Values(), dst)
		return true
	case *array.Timestamp:
		intPrefixes(a.TimestampValues(), dst)
		return true
	case *array.Float32:
		for i, f := range a.Float32Values() {
			dst[i].prefix = floatPrefix(float64(f))
		}
		return true
	case *array.Float64:
		for i, f := range a.Float64Values() {
			dst[i].prefix = floatPrefix(f)
		}
		return true
	case *array.String:
		bytesPrefixes(a.ValueOffsets(), a.Data(), dst)
		return false
	case *array.Binary:
		bytesPrefixes(a.ValueOffsets(), a.Data(), dst)
		return false
	}
	// Intervals and the Null type: no prefix, every comparison is a full one.
	return false
}

// intPrefixes flips the sign bit, which maps two's complement order to
// unsigned order.
func intPrefixes[T ~int16 | ~int32 | ~int64](v []T, dst []sortEntry) {
	for i, x := range v {
		dst[i].prefix = uint64(int64(x)) ^ (1 << 63)
	}
}

// floatPrefix maps a float to an unsigned integer in PostgreSQL's order:
// -0 is 0 and every NaN is one value above +Inf.
func floatPrefix(f float64) uint64 {
	b := math.Float64bits(normFloat64(f))
	if b&(1<<63) != 0 {
		return ^b
	}
	return b | 1<<63
}

// bytesPrefixes maps each value to its first 8 bytes, big-endian and
// zero-padded: bytewise order up to ties.
func bytesPrefixes(offsets []int32, d arrow.ArrayData, dst []sortEntry) {
	var data []byte
	if buf := d.Buffers()[2]; buf != nil {
		data = buf.Bytes()
	}
	for i := range dst {
		v := data[offsets[i]:offsets[i+1]]
		if len(v) >= 8 {
			dst[i].prefix = binary.BigEndian.Uint64(v)
			continue
		}
		var b [8]byte
		copy(b[:], v)
		dst[i].prefix = binary.BigEndian.Uint64(b[:])
	}
}

// keyComparator compares the values of column a for one sort key, NULLs
// placed where the key says whatever the direction.
func keyComparator(a arrow.Array, t types.T, k plan.SortKey) (rowCompare, error) {
	values, err := valueComparator(a, t)
	if err != nil {
		return nil, fmt.Errorf("sort on column %d: %w", k.Col, err)
	}
	if k.Desc {
		asc := values
		values = func(x, y int32) int { return asc(y, x) }
	}
	switch a.NullN() {
	case 0:
		return values, nil
	case a.Len():
		// Every value is NULL (and a column of the Null type has no
		// validity bitmap to read).
		return func(int32, int32) int { return 0 }, nil
	}
	valid := a.NullBitmapBytes()
	off := int32(a.Data().Offset())
	nullFirst := 1 // the result when only the first row is NULL
	if k.NullsFirst {
		nullFirst = -1
	}
	return func(x, y int32) int {
		xv := bitutil.BitIsSet(valid, int(off+x))
		yv := bitutil.BitIsSet(valid, int(off+y))
		switch {
		case xv && yv:
			return values(x, y)
		case xv:
			return -nullFirst
		case yv:
			return nullFirst
		}
		return 0
	}, nil
}

// valueComparator compares the (non-NULL) values of a in ascending order.
func valueComparator(a arrow.Array, t types.T) (rowCompare, error) {
	switch a := a.(type) {
	case *array.Null:
		return func(int32, int32) int { return 0 }, nil
	case *array.Boolean:
		return func(x, y int32) int {
			xv, yv := a.Value(int(x)), a.Value(int(y))
			switch {
			case xv == yv:
				return 0
			case yv:
				return -1
			}
			return 1
		}, nil
	case *array.Int16:
		return compareOrdered(a.Int16Values()), nil
	case *array.Int32:
		return compareOrdered(a.Int32Values()), nil
	case *array.Date32:
		return compareOrdered(a.Date32Values()), nil
	case *array.Int64:
		return compareOrdered(a.Int64Values()), nil
	case *array.Time64:
		return compareOrdered(a.Time64Values()), nil
	case *array.Timestamp:
		return compareOrdered(a.TimestampValues()), nil
	case *array.Float32:
		v := a.Float32Values()
		return func(x, y int32) int { return compareFloat(v[x], v[y]) }, nil
	case *array.Float64:
		v := a.Float64Values()
		return func(x, y int32) int { return compareFloat(v[x], v[y]) }, nil
	case *array.String:
		return compareBytes(a.ValueOffsets(), a.Data()), nil
	case *array.Binary:
		return compareBytes(a.ValueOffsets(), a.Data()), nil
	case *array.MonthDayNanoInterval:
		// Each span is computed once per row rather than once per
		// comparison: it is a 128-bit multiply-add.
		v := a.MonthDayNanoIntervalValues()
		hi := make([]int64, len(v))
		lo := make([]uint64, len(v))
		for i, iv := range v {
			hi[i], lo[i] = intervalSpan(iv)
		}
		return func(x, y int32) int {
			if c := cmp.Compare(hi[x], hi[y]); c != 0 {
				return c
			}
			return cmp.Compare(lo[x], lo[y])
		}, nil
	}
	return nil, fmt.Errorf("cannot order type %v stored as %v", t, a.DataType())
}

func compareOrdered[T cmp.Ordered](v []T) rowCompare {
	return func(x, y int32) int { return cmp.Compare(v[x], v[y]) }
}

// compareFloat orders floats as PostgreSQL does: NaN equals NaN and is
// greater than every number, -0 equals 0. (cmp.Compare puts NaN first.)
func compareFloat[T float32 | float64](x, y T) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	case x == y:
		return 0
	}
	xNaN, yNaN := x != x, y != y
	switch {
	case xNaN && yNaN:
		return 0
	case xNaN:
		return 1
	}
	return -1
}

// compareBytes compares variable-length values bytewise (text in the C
// collation, bytea). offsets index the whole data buffer, not the slice that
// ValueBytes returns for an array with an offset.
func compareBytes(offsets []int32, d arrow.ArrayData) rowCompare {
	var data []byte
	if buf := d.Buffers()[2]; buf != nil {
		data = buf.Bytes()
	}
	return func(x, y int32) int {
		return bytes.Compare(data[offsets[x]:offsets[x+1]], data[offsets[y]:offsets[y+1]])
	}
}

const nanosPerDay = 86_400_000_000_000

// intervalSpan is the interval's length in nanoseconds as PostgreSQL
// compares intervals (a month is 30 days, a day 24 hours), as a signed
// 128-bit integer hi:lo. The span of the largest intervals does not fit in
// 64 bits.
func intervalSpan(iv arrow.MonthDayNanoInterval) (hi int64, lo uint64) {
	days := int64(iv.Months)*30 + int64(iv.Days)
	magnitude := uint64(days)
	if days < 0 {
		magnitude = uint64(-days)
	}
	h, l := bits.Mul64(magnitude, nanosPerDay)
	if days < 0 {
		// Two's complement negation of the 128-bit product.
		h, l = ^h, ^l+1
		if l == 0 {
			h++
		}
	}
	// Add the nanoseconds, sign-extended to 128 bits.
	l, carry := bits.Add64(l, uint64(iv.Nanoseconds), 0)
	h += uint64(iv.Nanoseconds>>63) + carry
	return int64(h), l
}

// concatColumns concatenates the records column by column. A single record's
// columns are shared, not copied. The caller releases the result.
func concatColumns(recs []arrow.Record, mem memory.Allocator) ([]arrow.Array, error) {
	ncols := int(recs[0].NumCols())
	cols := make([]arrow.Array, ncols)
	if len(recs) == 1 {
		for j := range cols {
			cols[j] = recs[0].Column(j)
			cols[j].Retain()
		}
		return cols, nil
	}
	parts := make([]arrow.Array, len(recs))
	for j := range cols {
		for i, r := range recs {
			parts[i] = r.Column(j)
		}
		c, err := array.Concatenate(parts, mem)
		if err != nil {
			releaseAll(cols[:j])
			return nil, fmt.Errorf("concatenate column %d: %w", j, err)
		}
		cols[j] = c
	}
	return cols, nil
}

// releaseAll releases the arrays and clears the slice's entries.
func releaseAll(as []arrow.Array) {
	for i, a := range as {
		if a != nil {
			a.Release()
			as[i] = nil
		}
	}
}

func errBatchOnly(op string) error {
	return fmt.Errorf("%s is a batch-only operator: it cannot process a changelog chunk (with deletes)", op)
}
