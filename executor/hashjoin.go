package executor

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/expr"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

// Join inputs: the probe side is the plan's left input, the build side its
// right input.
const (
	probeInput = 0
	buildInput = 1
)

// HashJoin is a batch equi-join. All of the build side (input 1, the right
// input) arrives first and is retained; BuildDone marks its end. The first
// probe chunk (input 0, the left input) or Finish then concatenates the
// build side and indexes it by key; each probe chunk is joined as it comes.
// Rows whose right side did not match (right and full joins) are emitted by
// Finish.
//
// Output rows are the left columns followed by the right ones, assembled by
// gathering whole columns with index arrays; an unmatched outer row takes a
// NULL index, which Arrow's take turns into NULL values.
//
// NULL keys never match, as in SQL. A row failing the residual predicate
// does not match either, so an outer join emits it as unmatched.
type HashJoin struct {
	typ                   plan.JoinType
	leftKeys, rightKeys   []int
	leftTypes, rightTypes []types.T
	residual              *expr.Program
	ectx                  *expr.EvalContext
	schema                *arrow.Schema
	err                   error // an inconsistent plan, reported by Process

	probeEnc *RowEncoder
	buildEnc *RowEncoder

	buildRecs []arrow.Record // the build input, until it is indexed
	buildRows int64
	buildDone bool
	indexed   bool
	finished  bool

	right   []arrow.Array    // the build side, one array per column
	table   map[string]int32 // key → first build row with that key
	next    []int32          // next build row with the same key, or -1
	matched []bool           // build rows matched so far (right, full)

	out         joinPairs // output rows waiting to be emitted
	candidates  joinPairs // rows that match on keys, for the residual
	leftMatched []bool    // probe rows of the current chunk that matched
	nullKey     []bool
	cols        []arrow.Array
}

var (
	_ Operator = (*HashJoin)(nil)
	_ Finisher = (*HashJoin)(nil)
)

// NewHashJoin joins the rows of j's inputs, whose column types are leftTypes
// and rightTypes. residual, if not nil, is j.Residual compiled; it is
// evaluated with ectx over the concatenated row.
//
// Arrays are allocated with ectx.Alloc, or with compute.GetAllocator(ctx) of
// the calls' context when ectx is nil.
func NewHashJoin(j *plan.Join, leftTypes, rightTypes []types.T, residual *expr.Program, ectx *expr.EvalContext) *HashJoin {
	h := &HashJoin{
		typ:        j.Type,
		leftKeys:   j.LeftKeys,
		rightKeys:  j.RightKeys,
		leftTypes:  leftTypes,
		rightTypes: rightTypes,
		residual:   residual,
		ectx:       ectx,
		schema:     j.Cols.Arrow(),
	}
	h.err = h.check(j)
	if h.err != nil {
		return h
	}
	leftKeyTypes := make([]types.T, len(j.LeftKeys))
	rightKeyTypes := make([]types.T, len(j.RightKeys))
	for i := range j.LeftKeys {
		leftKeyTypes[i] = leftTypes[j.LeftKeys[i]]
		rightKeyTypes[i] = rightTypes[j.RightKeys[i]]
	}
	h.probeEnc = NewRowEncoder(j.LeftKeys, leftKeyTypes)
	h.buildEnc = NewRowEncoder(j.RightKeys, rightKeyTypes)
	return h
}

// check verifies what the join relies on: keys in range, and key pairs
// whose encodings are comparable. The row codec encodes every integer width
// alike, but the planner must cast other mixed-type keys to a common type.
func (h *HashJoin) check(j *plan.Join) error {
	if len(j.Cols) != len(h.leftTypes)+len(h.rightTypes) {
		return fmt.Errorf("hash join: %d output columns for %d left and %d right columns",
			len(j.Cols), len(h.leftTypes), len(h.rightTypes))
	}
	if len(j.LeftKeys) != len(j.RightKeys) {
		return fmt.Errorf("hash join: %d left keys but %d right keys", len(j.LeftKeys), len(j.RightKeys))
	}
	if h.residual != nil && h.ectx == nil {
		return fmt.Errorf("hash join: a residual predicate needs an evaluation context")
	}
	for i, l := range j.LeftKeys {
		r := j.RightKeys[i]
		if l < 0 || l >= len(h.leftTypes) || r < 0 || r >= len(h.rightTypes) {
			return fmt.Errorf("hash join: key %d (#%d = #%d) out of range", i, l, r)
		}
		lt, rt := h.leftTypes[l], h.rightTypes[r]
		ls, rs := storageOf(lt), storageOf(rt)
		if ls != rs && !(isIntegerStorage(ls) && isIntegerStorage(rs)) {
			return fmt.Errorf("hash join: key %d compares %v with %v", i, lt, rt)
		}
	}
	return nil
}

func isIntegerStorage(s storage) bool { return s == stInt16 || s == stInt32 || s == stInt64 }

// BuildDone signals that the whole build side (input 1) has arrived.
func (h *HashJoin) BuildDone() { h.buildDone = true }

// Process takes build rows from input 1 before BuildDone, and probe rows
// from input 0 after it.
func (h *HashJoin) Process(ctx context.Context, input int, c Chunk, emit Emit) error {
	if h.err != nil {
		return h.err
	}
	if c.Ops != nil {
		return errBatchOnly("hash join")
	}
	if h.finished {
		return fmt.Errorf("hash join: input %d after Finish", input)
	}
	switch input {
	case buildInput:
		if h.buildDone {
			return fmt.Errorf("hash join: build input after BuildDone")
		}
		if c.Len() == 0 {
			return nil
		}
		c.Rec.Retain()
		h.buildRecs = append(h.buildRecs, c.Rec)
		h.buildRows += c.Rec.NumRows()
		return nil
	case probeInput:
		if c.Len() == 0 {
			return nil
		}
		if err := h.index(ctx); err != nil {
			return err
		}
		return h.probe(ctx, c.Rec, emit)
	}
	return fmt.Errorf("hash join: no input %d", input)
}

// Finish emits the build rows that matched nothing (right and full joins)
// and releases the join's state.
func (h *HashJoin) Finish(ctx context.Context, emit Emit) error {
	defer h.Close()
	if h.err != nil {
		return h.err
	}
	if h.finished {
		return nil
	}
	if err := h.index(ctx); err != nil {
		return err
	}
	h.finished = true
	if h.typ != plan.RightJoin && h.typ != plan.FullJoin {
		return nil
	}
	h.out.reset()
	for r, m := range h.matched {
		if m {
			continue
		}
		h.out.addRight(int32(r))
		if h.out.len() >= outputChunkRows {
			if err := h.flush(ctx, nil, emit); err != nil {
				return err
			}
		}
	}
	return h.flush(ctx, nil, emit)
}

// Close releases the retained build side. Finish calls it; a driver that
// abandons the join calls it directly.
func (h *HashJoin) Close() {
	for _, r := range h.buildRecs {
		r.Release()
	}
	h.buildRecs = nil
	releaseAll(h.right)
	h.right = nil
	h.table, h.next, h.matched = nil, nil, nil
	h.finished = true
}

func (h *HashJoin) alloc(ctx context.Context) memory.Allocator {
	if h.ectx != nil && h.ectx.Alloc != nil {
		return h.ectx.Alloc
	}
	return compute.GetAllocator(ctx)
}

// index concatenates the build side and builds the hash table, once.
func (h *HashJoin) index(ctx context.Context) error {
	if h.indexed {
		return nil
	}
	if !h.buildDone {
		return fmt.Errorf("hash join: the build side is not complete (no BuildDone)")
	}
	if h.buildRows > math.MaxInt32 {
		return pgerror.New(pgerror.ProgramLimitExceeded, "hash join build side of %d rows is too large", h.buildRows)
	}
	mem := h.alloc(ctx)
	n := int(h.buildRows)
	if n == 0 {
		h.right = make([]arrow.Array, len(h.rightTypes))
		for j := range h.right {
			h.right[j] = array.MakeArrayOfNull(mem, h.schema.Field(len(h.leftTypes)+j).Type, 0)
		}
		h.indexed = true
		return nil
	}
	cols, err := concatColumns(h.buildRecs, mem)
	if err != nil {
		return fmt.Errorf("hash join build: %w", err)
	}
	rec := array.NewRecordBatch(h.buildRecs[0].Schema(), cols, int64(n))
	defer rec.Release()
	h.right = cols
	for _, r := range h.buildRecs {
		r.Release()
	}
	h.buildRecs = nil

	// All keys go into one string, and the map's keys are substrings of it:
	// one allocation instead of one per distinct key.
	keys := h.buildEnc.Encode(rec)
	var size int
	for _, k := range keys {
		size += len(k)
	}
	var sb strings.Builder
	sb.Grow(size)
	ends := make([]int, n)
	for i, k := range keys {
		sb.Write(k)
		ends[i] = sb.Len()
	}
	arena := sb.String()
	h.buildEnc = nil // its scratch holds a copy of every key

	nullKey := nullKeyRows(rec, h.rightKeys, nil)
	h.table = make(map[string]int32)
	h.next = make([]int32, n)
	// Inserting at the head of each chain, last row first, leaves every
	// chain in input order.
	for i := n - 1; i >= 0; i-- {
		h.next[i] = -1
		if nullKey != nil && nullKey[i] {
			continue
		}
		start := 0
		if i > 0 {
			start = ends[i-1]
		}
		k := arena[start:ends[i]]
		if head, ok := h.table[k]; ok {
			h.next[i] = head
		}
		h.table[k] = int32(i)
	}
	if h.typ == plan.RightJoin || h.typ == plan.FullJoin {
		h.matched = make([]bool, n)
	}
	h.indexed = true
	return nil
}

// probe joins one chunk of the probe side.
func (h *HashJoin) probe(ctx context.Context, rec arrow.Record, emit Emit) error {
	n := int(rec.NumRows())
	keys := h.probeEnc.Encode(rec)
	h.nullKey = nullKeyRows(rec, h.leftKeys, h.nullKey)
	nullKey := h.nullKey
	outerLeft := h.typ == plan.LeftJoin || h.typ == plan.FullJoin
	h.out.reset()
	h.candidates.reset()
	if h.residual != nil {
		h.leftMatched = slices.Grow(h.leftMatched[:0], n)[:n]
		clear(h.leftMatched)
	}
	for i := 0; i < n; i++ {
		r := int32(-1)
		if nullKey == nil || !nullKey[i] {
			if head, ok := h.table[string(keys[i])]; ok {
				r = head
			}
		}
		if h.residual != nil {
			for ; r >= 0; r = h.next[r] {
				h.candidates.add(int32(i), r)
				if h.candidates.len() >= outputChunkRows {
					if err := h.filterCandidates(ctx, rec, emit); err != nil {
						return err
					}
				}
			}
			continue
		}
		if r < 0 && outerLeft {
			h.out.addLeft(int32(i))
		}
		for ; r >= 0; r = h.next[r] {
			h.out.add(int32(i), r)
			if h.matched != nil {
				h.matched[r] = true
			}
			if h.out.len() >= outputChunkRows {
				if err := h.flush(ctx, rec, emit); err != nil {
					return err
				}
			}
		}
		if h.out.len() >= outputChunkRows {
			if err := h.flush(ctx, rec, emit); err != nil {
				return err
			}
		}
	}
	if h.residual != nil {
		if err := h.filterCandidates(ctx, rec, emit); err != nil {
			return err
		}
		if outerLeft {
			for i, m := range h.leftMatched[:n] {
				if m {
					continue
				}
				h.out.addLeft(int32(i))
				if h.out.len() >= outputChunkRows {
					if err := h.flush(ctx, rec, emit); err != nil {
						return err
					}
				}
			}
		}
	}
	return h.flush(ctx, rec, emit)
}

// filterCandidates evaluates the residual over the pending key matches and
// moves those that pass to the output.
func (h *HashJoin) filterCandidates(ctx context.Context, rec arrow.Record, emit Emit) error {
	c := &h.candidates
	if c.len() == 0 {
		return nil
	}
	defer c.reset()
	joined, err := h.assemble(ctx, rec, c)
	if err != nil {
		return err
	}
	defer joined.Release()
	res, err := h.residual.Eval(h.ectx, joined)
	if err != nil {
		return fmt.Errorf("join condition: %w", err)
	}
	defer res.Release()
	pass, ok := res.(*array.Boolean)
	if !ok || pass.Len() != c.len() {
		return fmt.Errorf("join condition: got %d values of %v for %d rows", res.Len(), res.DataType(), c.len())
	}
	kept := 0
	for k := range c.len() {
		if pass.IsValid(k) && pass.Value(k) {
			kept++
			h.leftMatched[c.left[k]] = true
			if h.matched != nil {
				h.matched[c.right[k]] = true
			}
		}
	}
	if kept == 0 {
		return nil
	}
	if kept == c.len() && h.out.len() == 0 {
		// Every candidate passed: the joined record is the output.
		return emit(ctx, Chunk{Rec: joined})
	}
	for k := range c.len() {
		if pass.IsValid(k) && pass.Value(k) {
			h.out.add(c.left[k], c.right[k])
		}
	}
	if h.out.len() >= outputChunkRows {
		return h.flush(ctx, rec, emit)
	}
	return nil
}

// flush emits the pending output rows; probe is nil for rows without a
// left side.
func (h *HashJoin) flush(ctx context.Context, probe arrow.Record, emit Emit) error {
	if h.out.len() == 0 {
		return nil
	}
	defer h.out.reset()
	out, err := h.assemble(ctx, probe, &h.out)
	if err != nil {
		return err
	}
	defer out.Release()
	return emit(ctx, Chunk{Rec: out})
}

// assemble gathers the rows p into a record of the join's output schema.
// probe is nil when p has no left side.
func (h *HashJoin) assemble(ctx context.Context, probe arrow.Record, p *joinPairs) (arrow.Record, error) {
	mem := h.alloc(ctx)
	ctx = compute.WithAllocator(ctx, mem)
	n := p.len()
	nl := len(h.leftTypes)
	h.cols = slices.Grow(h.cols[:0], nl+len(h.rightTypes))[:nl+len(h.rightTypes)]
	clear(h.cols)
	var err error
	if probe == nil {
		h.nullColumns(mem, h.cols[:nl], 0, n)
	} else {
		err = takeColumns(ctx, probe.Columns(), p.left, nil, 0, h.cols[:nl])
	}
	if err == nil {
		if p.rightNulls == n {
			h.nullColumns(mem, h.cols[nl:], nl, n)
		} else {
			err = takeColumns(ctx, h.right, p.right, p.rightValid, p.rightNulls, h.cols[nl:])
		}
	}
	if err != nil {
		releaseAll(h.cols)
		return nil, fmt.Errorf("hash join: %w", err)
	}
	rec := array.NewRecordBatch(h.schema, h.cols, int64(n))
	releaseAll(h.cols)
	return rec, nil
}

// nullColumns fills dst with all-NULL arrays of n rows for the output
// columns from first on.
func (h *HashJoin) nullColumns(mem memory.Allocator, dst []arrow.Array, first, n int) {
	for j := range dst {
		dst[j] = array.MakeArrayOfNull(mem, h.schema.Field(first+j).Type, n)
	}
}

// takeColumns gathers rows idx of cols into dst. A run of consecutive
// indices without NULLs, the usual shape of a key–foreign-key join, is a
// zero-copy slice instead.
func takeColumns(ctx context.Context, cols []arrow.Array, idx []int32, valid []byte, nulls int, dst []arrow.Array) error {
	if nulls == 0 && isRun(idx) {
		lo := int64(idx[0])
		for j, c := range cols {
			dst[j] = array.NewSlice(c, lo, lo+int64(len(idx)))
		}
		return nil
	}
	var pad []byte
	if nulls > 0 {
		pad = valid
	}
	mem := compute.GetAllocator(ctx)
	for j, c := range cols {
		t, err := expr.Take(mem, c, idx, pad)
		if err != nil {
			releaseAll(dst[:j])
			return fmt.Errorf("gather column %d: %w", j, err)
		}
		dst[j] = t
	}
	return nil
}

func isRun(idx []int32) bool {
	if len(idx) == 0 {
		return false
	}
	first := idx[0]
	for k, i := range idx {
		if i != first+int32(k) {
			return false
		}
	}
	return true
}

// joinPairs lists output rows as a probe row index and a build row index,
// the latter possibly NULL (an unmatched probe row of an outer join).
type joinPairs struct {
	left       []int32
	right      []int32
	rightValid []byte // validity bitmap of right
	rightNulls int
}

func (p *joinPairs) len() int { return len(p.right) }

func (p *joinPairs) reset() {
	p.left, p.right, p.rightValid, p.rightNulls = p.left[:0], p.right[:0], p.rightValid[:0], 0
}

func (p *joinPairs) add(l, r int32) {
	p.left = append(p.left, l)
	p.addRight(r)
}

// addRight adds a row with only a right side (its left side is NULL).
func (p *joinPairs) addRight(r int32) {
	k := len(p.right)
	p.right = append(p.right, r)
	if k%8 == 0 {
		p.rightValid = append(p.rightValid, 0)
	}
	bitutil.SetBit(p.rightValid, k)
}

// addLeft adds a row with only a left side (its right side is NULL).
func (p *joinPairs) addLeft(l int32) {
	k := len(p.right)
	p.left = append(p.left, l)
	p.right = append(p.right, 0)
	if k%8 == 0 {
		p.rightValid = append(p.rightValid, 0)
	}
	p.rightNulls++
}

// nullKeyRows marks the rows of rec with a NULL in any of cols, reusing dst;
// it returns nil when no row has one.
func nullKeyRows(rec arrow.Record, cols []int, dst []bool) []bool {
	n := int(rec.NumRows())
	found := false
	for _, c := range cols {
		if rec.Column(c).NullN() > 0 {
			found = true
			break
		}
	}
	if !found {
		return nil
	}
	dst = slices.Grow(dst[:0], n)[:n]
	clear(dst)
	for _, c := range cols {
		a := rec.Column(c)
		if a.NullN() == 0 {
			continue
		}
		valid := a.NullBitmapBytes()
		if valid == nil { // every value is NULL (the Null type)
			for i := range dst {
				dst[i] = true
			}
			continue
		}
		off := a.Data().Offset()
		for i := range dst {
			if !bitutil.BitIsSet(valid, off+i) {
				dst[i] = true
			}
		}
	}
	return dst
}
