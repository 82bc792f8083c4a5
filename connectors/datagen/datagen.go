package datagen

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// Option keys.
const (
	optRate   = "datagen.rows.per.second"
	optSplits = "datagen.split.num"
)

// Defaults of the per-column options, as in RisingWave.
const (
	defaultMin       = 0
	defaultMax       = math.MaxInt16
	defaultStart     = 0
	defaultEnd       = math.MaxInt16
	defaultStrLength = 10
)

// maxBatchRows bounds the rows of one batch.
const maxBatchRows = 1024

// Connector describes the datagen source.
func Connector() connectors.Connector {
	return connectors.Connector{
		Name: "datagen",
		Doc:  "Generated rows: sequences or seeded random values per column, at a given rate.",
		Options: []connectors.Option{
			{Key: optRate, Type: connectors.OptInt, Default: "10",
				Doc: "Rows generated per second, across all splits; 0 generates as fast as the rows are read."},
			{Key: optSplits, Type: connectors.OptInt, Default: "1",
				Doc: "Number of splits; each generates its share of the rate and of every sequence."},
			// The defaults of the fields.* families are applied per column
			// by newField; here they document.
			{Key: "fields.*.kind", Type: connectors.OptEnum, Default: "random", Values: []string{"random", "sequence"},
				Doc: "How column * is generated: random values, or a sequence (numbers only)."},
			{Key: "fields.*.start", Type: connectors.OptFloat, Default: "0",
				Doc: "First value of a sequence."},
			{Key: "fields.*.end", Type: connectors.OptFloat, Default: "32767",
				Doc: "Last value of a sequence; a split ends when its sequence passes it."},
			{Key: "fields.*.min", Type: connectors.OptFloat, Default: "0",
				Doc: "Smallest random number."},
			{Key: "fields.*.max", Type: connectors.OptFloat, Default: "32767",
				Doc: "Largest random number."},
			{Key: "fields.*.length", Type: connectors.OptInt, Default: "10",
				Doc: "Length of random strings (letters and digits)."},
			{Key: "fields.*.seed", Type: connectors.OptInt, Default: "0",
				Doc: "Seed of the column's random values: the same seed gives the same values."},
			{Key: "fields.*.max_past", Type: connectors.OptDuration,
				Doc: "A timestamp column is random within this duration before its base time; without it, the column is the current time."},
			{Key: "fields.*.max_past_mode", Type: connectors.OptEnum, Default: "absolute", Values: []string{"absolute", "relative"},
				Doc: "Base time of max_past: when the split was opened (absolute) or when each row is generated (relative)."},
		},
		NewSource: NewSource,
	}
}

type kind uint8

const (
	kindRandom kind = iota
	kindSequence
	kindNow // a timestamp column without max_past: the current time
)

// field says how one column is generated.
type field struct {
	name string
	typ  types.T
	kind kind
	seed uint64 // mixed with the column name: columns differ even with one seed
	// sequence
	startI, endI int64
	startF, endF float64
	// random numbers
	minI, maxI int64
	minF, maxF float64
	length     int
	// random timestamps
	maxPastMs int64
	relative  bool
}

// Source is a datagen source.
type Source struct {
	schema types.Schema
	fields []field
	rate   int64
	splits int
	alloc  memory.Allocator
}

var _ connectors.Source = (*Source)(nil)

// NewSource checks the per-column options against the declared columns.
func NewSource(ctx context.Context, cfg connectors.SourceConfig) (connectors.Source, error) {
	s := &Source{schema: cfg.Schema, alloc: cfg.Alloc}
	if s.alloc == nil {
		s.alloc = memory.DefaultAllocator
	}
	var err error
	if s.rate, err = cfg.Options.Int(optRate); err != nil {
		return nil, err
	}
	if s.rate < 0 {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must not be negative", optRate)
	}
	n, err := cfg.Options.Int(optSplits)
	if err != nil {
		return nil, err
	}
	if n < 1 || n > 1024 {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "option %q must be between 1 and 1024", optSplits)
	}
	s.splits = int(n)
	if err := checkFieldOptions(cfg); err != nil {
		return nil, err
	}
	for _, c := range cfg.Schema {
		f, err := newField(c, cfg.Options)
		if err != nil {
			return nil, err
		}
		s.fields = append(s.fields, f)
	}
	return s, nil
}

// checkFieldOptions refuses fields.<name>.* options that name no column.
func checkFieldOptions(cfg connectors.SourceConfig) error {
	for key := range cfg.Options {
		rest, ok := strings.CutPrefix(strings.ToLower(key), "fields.")
		if !ok {
			continue
		}
		i := strings.LastIndexByte(rest, '.')
		name := key[len("fields.") : len("fields.")+i]
		found := false
		for _, c := range cfg.Schema {
			if strings.EqualFold(c.Name, name) {
				found = true
			}
		}
		if !found {
			return pgerror.New(pgerror.InvalidParameterValue, "option %q names no column of the source", key)
		}
	}
	return nil
}

func newField(c types.Column, opts connectors.Options) (field, error) {
	f := field{name: c.Name, typ: c.Type, length: defaultStrLength}
	key := func(k string) string { return "fields." + c.Name + "." + k }
	bad := func(format string, args ...any) error {
		return pgerror.New(pgerror.InvalidParameterValue, "column %q: "+format, append([]any{c.Name}, args...)...)
	}
	number := func(k string, def float64) (float64, error) {
		if _, ok := opts.Lookup(key(k)); !ok {
			return def, nil
		}
		v, err := opts.Float(key(k))
		if err != nil {
			return 0, err
		}
		if c.Type.IsInteger() && (v != math.Trunc(v) || !fits(c.Type, v)) {
			return 0, bad("%s %v is not a value of type %s", k, v, c.Type)
		}
		return v, nil
	}

	seed := int64(0)
	if _, ok := opts.Lookup(key("seed")); ok {
		var err error
		if seed, err = opts.Int(key("seed")); err != nil {
			return f, err
		}
	}
	h := fnv.New64a()
	h.Write([]byte(c.Name))
	f.seed = uint64(seed) ^ h.Sum64()

	if strings.EqualFold(opts.String(key("kind")), "sequence") {
		if !c.Type.IsNumeric() {
			return f, pgerror.New(pgerror.FeatureNotSupported,
				"column %q: datagen generates sequences of numbers only, not of type %s", c.Name, c.Type)
		}
		f.kind = kindSequence
		start, err := number("start", defaultStart)
		if err != nil {
			return f, err
		}
		end, err := number("end", defaultEnd)
		if err != nil {
			return f, err
		}
		if start > end {
			return f, bad("sequence start %v is after its end %v", start, end)
		}
		f.startI, f.endI, f.startF, f.endF = int64(start), int64(end), start, end
		return f, nil
	}

	switch {
	case c.Type.IsNumeric():
		lo, err := number("min", defaultMin)
		if err != nil {
			return f, err
		}
		hi, err := number("max", defaultMax)
		if err != nil {
			return f, err
		}
		if lo > hi {
			return f, bad("min %v is larger than max %v", lo, hi)
		}
		f.minI, f.maxI, f.minF, f.maxF = int64(lo), int64(hi), lo, hi
	case c.Type == types.Bool:
	case c.Type == types.Text || c.Type == types.Varchar:
		if _, ok := opts.Lookup(key("length")); ok {
			n, err := opts.Int(key("length"))
			if err != nil {
				return f, err
			}
			if n < 0 || n > 1<<20 {
				return f, bad("length %d is not between 0 and %d", n, 1<<20)
			}
			f.length = int(n)
		}
	case c.Type == types.Timestamp || c.Type == types.TimestampTZ:
		if _, ok := opts.Lookup(key("max_past")); !ok {
			f.kind = kindNow
			break
		}
		d, err := opts.Duration(key("max_past"))
		if err != nil {
			return f, err
		}
		f.maxPastMs = d.Milliseconds()
		f.relative = strings.EqualFold(opts.String(key("max_past_mode")), "relative")
	default:
		return f, pgerror.New(pgerror.FeatureNotSupported,
			"column %q: datagen cannot generate values of type %s", c.Name, c.Type)
	}
	return f, nil
}

func fits(t types.T, v float64) bool {
	switch t {
	case types.Int2:
		return v >= math.MinInt16 && v <= math.MaxInt16
	case types.Int4:
		return v >= math.MinInt32 && v <= math.MaxInt32
	}
	return v >= math.MinInt64 && v < math.MaxInt64
}

// Splits lists datagen.split.num splits named "0", "1", ...
func (s *Source) Splits(ctx context.Context) ([]connectors.Split, error) {
	splits := make([]connectors.Split, s.splits)
	for i := range splits {
		splits[i] = connectors.Split{ID: strconv.Itoa(i)}
	}
	return splits, nil
}

// Open starts generating split at pos, the number of rows the split has
// produced so far ("" is 0).
func (s *Source) Open(ctx context.Context, split connectors.Split, pos connectors.Position) (connectors.Reader, error) {
	index, err := strconv.Atoi(split.ID)
	if err != nil || index < 0 || index >= s.splits {
		return nil, fmt.Errorf("datagen: no split %q", split.ID)
	}
	var offset int64
	if pos != "" {
		if offset, err = strconv.ParseInt(string(pos), 10, 64); err != nil || offset < 0 {
			return nil, fmt.Errorf("datagen: invalid position %q", pos)
		}
	}
	// The split's share of the rate: the first rate%splits splits take one
	// row per second more.
	rate := s.rate / int64(s.splits)
	if s.rate%int64(s.splits) > int64(index) {
		rate++
	}
	now := time.Now()
	r := &reader{
		src:    s,
		index:  int64(index),
		step:   int64(s.splits),
		offset: offset,
		rb:     array.NewRecordBuilder(s.alloc, s.schema.Arrow()),
		base:   now.UnixMicro(),
	}
	r.pace = newPacer(now, rate, s.rate == 0)
	return r, nil
}

// reader generates one split. Row k of split i of n is the (i + k*n)-th
// value of every sequence, and its random values are a function of the
// column's seed, the split and k alone, so a split reopened at k continues
// exactly.
type reader struct {
	src    *Source
	index  int64
	step   int64
	offset int64 // rows produced so far: the position
	rb     *array.RecordBuilder
	base   int64 // when the split was opened, for absolute max_past
	pace   pacer
	done   bool
	buf    []byte
}

// Next generates the rows the rate allows now, waiting for at least one.
func (r *reader) Next(ctx context.Context) (connectors.Batch, error) {
	if r.done || r.remaining() == 0 {
		r.done = true
		return connectors.Batch{}, io.EOF
	}
	n, err := r.pace.take(ctx, maxBatchRows)
	if err != nil {
		return connectors.Batch{}, err
	}
	if limit := r.remaining(); limit < int64(n) {
		n = int(limit)
		r.done = true
	}
	if n == 0 {
		return connectors.Batch{}, io.EOF
	}
	now := time.Now().UnixMicro()
	for i := range r.src.fields {
		r.generate(i, n, now)
	}
	rec := r.rb.NewRecordBatch()
	r.offset += int64(n)
	return connectors.Batch{Record: rec, Position: connectors.Position(strconv.FormatInt(r.offset, 10))}, nil
}

// remaining is how many rows the split may still produce before one of its
// sequences passes its end.
func (r *reader) remaining() int64 {
	left := int64(math.MaxInt64)
	for i := range r.src.fields {
		f := &r.src.fields[i]
		if f.kind != kindSequence {
			continue
		}
		// Row k has value start + index + k*step; the last row is the
		// largest k with that value <= end.
		var last int64
		if f.typ.IsInteger() {
			span := f.endI - f.startI - r.index
			if span < 0 {
				return 0
			}
			last = span / r.step
		} else {
			span := f.endF - f.startF - float64(r.index)
			if span < 0 {
				return 0
			}
			last = int64(min(math.Floor(span/float64(r.step)), math.MaxInt64/2))
		}
		left = min(left, max(last+1-r.offset, 0))
	}
	return left
}

// generate appends n values of field i, a whole column at a time.
func (r *reader) generate(i, n int, now int64) {
	f := &r.src.fields[i]
	b := r.rb.Field(i)
	b.Reserve(n)
	k0 := r.offset
	switch f.kind {
	case kindSequence:
		switch bb := b.(type) {
		case *array.Int16Builder:
			for k := k0; k < k0+int64(n); k++ {
				bb.UnsafeAppend(int16(f.startI + r.index + k*r.step))
			}
		case *array.Int32Builder:
			for k := k0; k < k0+int64(n); k++ {
				bb.UnsafeAppend(int32(f.startI + r.index + k*r.step))
			}
		case *array.Int64Builder:
			for k := k0; k < k0+int64(n); k++ {
				bb.UnsafeAppend(f.startI + r.index + k*r.step)
			}
		case *array.Float32Builder:
			for k := k0; k < k0+int64(n); k++ {
				bb.UnsafeAppend(float32(f.startF + float64(r.index+k*r.step)))
			}
		case *array.Float64Builder:
			for k := k0; k < k0+int64(n); k++ {
				bb.UnsafeAppend(f.startF + float64(r.index+k*r.step))
			}
		}
	case kindNow:
		bb := b.(*array.TimestampBuilder)
		for k := 0; k < n; k++ {
			bb.UnsafeAppend(arrow.Timestamp(now))
		}
	case kindRandom:
		seed := f.seed ^ uint64(r.index)
		switch bb := b.(type) {
		case *array.Int16Builder:
			for k := k0; k < k0+int64(n); k++ {
				bb.UnsafeAppend(int16(randInt(seed, k, f.minI, f.maxI)))
			}
		case *array.Int32Builder:
			for k := k0; k < k0+int64(n); k++ {
				bb.UnsafeAppend(int32(randInt(seed, k, f.minI, f.maxI)))
			}
		case *array.Int64Builder:
			for k := k0; k < k0+int64(n); k++ {
				bb.UnsafeAppend(randInt(seed, k, f.minI, f.maxI))
			}
		case *array.Float32Builder:
			for k := k0; k < k0+int64(n); k++ {
				bb.UnsafeAppend(float32(randFloat(seed, k, f.minF, f.maxF)))
			}
		case *array.Float64Builder:
			for k := k0; k < k0+int64(n); k++ {
				bb.UnsafeAppend(randFloat(seed, k, f.minF, f.maxF))
			}
		case *array.BooleanBuilder:
			for k := k0; k < k0+int64(n); k++ {
				bb.UnsafeAppend(mix(seed, k)&1 == 1)
			}
		case *array.StringBuilder:
			bb.ReserveData(n * f.length)
			for k := k0; k < k0+int64(n); k++ {
				r.buf = randString(r.buf[:0], seed, k, f.length)
				bb.BinaryBuilder.Append(r.buf)
			}
		case *array.TimestampBuilder:
			base := r.base
			if f.relative {
				base = now
			}
			for k := k0; k < k0+int64(n); k++ {
				back := randInt(seed, k, 0, f.maxPastMs)
				bb.UnsafeAppend(arrow.Timestamp(base - back*1000))
			}
		}
	}
}

// Close releases the builders.
func (r *reader) Close() error {
	r.rb.Release()
	return nil
}

// mix returns the k-th pseudo-random word of a stream: the SplitMix64
// finalizer of the seed and k, which is stateless, so that row k can be
// generated without the rows before it.
func mix(seed uint64, k int64) uint64 {
	z := seed + uint64(k+1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// randInt is uniform in [lo, hi].
func randInt(seed uint64, k, lo, hi int64) int64 {
	width := uint64(hi-lo) + 1
	x := mix(seed, k)
	if width == 0 { // the whole int64 range
		return int64(x)
	}
	hiBits, _ := bits.Mul64(x, width)
	return lo + int64(hiBits)
}

// randFloat is uniform in [lo, hi].
func randFloat(seed uint64, k int64, lo, hi float64) float64 {
	u := float64(mix(seed, k)>>11) / (1 << 53)
	return lo + u*(hi-lo)
}

const alphanumeric = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randString appends length random alphanumeric characters, eight from
// each pseudo-random word.
func randString(dst []byte, seed uint64, k int64, length int) []byte {
	var w uint64
	for i := 0; i < length; i++ {
		if i%8 == 0 {
			w = mix(seed+uint64(i)*0xd1b54a32d192ed03, k)
		}
		dst = append(dst, alphanumeric[(w&0xff)*uint64(len(alphanumeric))>>8])
		w >>= 8
	}
	return dst
}
