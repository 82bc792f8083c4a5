package executor

import (
	"cmp"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/plan"
	"github.com/sluicedb/sluice/types"
)

func newMinMax(a plan.AggCall, appendOnly bool) (aggregator, error) {
	isMax := a.Func == "max"
	switch storageOf(a.ArgType) {
	case stInt16, stInt32, stInt64:
		return newMinMaxOf[int64](isMax, appendOnly, a.ArgType, func(col arrow.Array, s *[]int64) []int64 {
			v := int64s(col, *s)
			*s = v[:0]
			return v
		}), nil
	case stFloat32, stFloat64:
		return newMinMaxOf[float64](isMax, appendOnly, a.ArgType, func(col arrow.Array, s *[]float64) []float64 {
			v := float64s(col, *s)
			*s = v[:0]
			return v
		}), nil
	case stString:
		return newMinMaxOf[string](isMax, appendOnly, a.ArgType, func(col arrow.Array, s *[]string) []string {
			sa := col.(*array.String)
			v := grow(*s, sa.Len())
			for i := range v {
				v[i] = sa.Value(i)
			}
			*s = v[:0]
			return v
		}), nil
	}
	return nil, pgerror.New(pgerror.UndefinedFunction, "function %s(%s) does not exist", a.Func, a.ArgType)
}

// minMaxOf is min or max over values of one Go type. On an append-only input
// one value per group is enough; a retracting input needs every value with
// its multiplicity, because deleting the current extreme must reveal the next.
type minMaxOf[V cmp.Ordered] struct {
	isMax      bool
	appendOnly bool
	t          types.T
	values     func(arrow.Array, *[]V) []V
	scratch    []V
	best       []V
	has        []bool
	multisets  []map[V]int64
	// nans counts the NaNs of each group of a retracting input apart from
	// the multiset: a NaN is not equal to itself, so as a map key it could
	// never be found again to be deleted.
	nans []int64
}

func newMinMaxOf[V cmp.Ordered](isMax, appendOnly bool, t types.T, values func(arrow.Array, *[]V) []V) *minMaxOf[V] {
	return &minMaxOf[V]{isMax: isMax, appendOnly: appendOnly, t: t, values: values}
}

func (m *minMaxOf[V]) grow(n int) {
	m.best, m.has = growTo(m.best, n), growTo(m.has, n)
	if !m.appendOnly {
		m.multisets = growTo(m.multisets, n)
		m.nans = growTo(m.nans, n)
	}
}

func (m *minMaxOf[V]) better(a, b V) bool {
	if m.isMax {
		return cmpSQL(a, b) > 0
	}
	return cmpSQL(a, b) < 0
}

// cmpSQL orders like PostgreSQL: NaN is greater than every other float.
func cmpSQL[V cmp.Ordered](a, b V) int {
	aNaN, bNaN := a != a, b != b
	switch {
	case aNaN && bNaN:
		return 0
	case aNaN:
		return 1
	case bNaN:
		return -1
	}
	return cmp.Compare(a, b)
}

func (m *minMaxOf[V]) update(col arrow.Array, gids []int32, signs []int8) error {
	vals := m.values(col, &m.scratch)
	noNulls := col.NullN() == 0
	for i, g := range gids {
		if !noNulls && col.IsNull(i) {
			continue
		}
		v := vals[i]
		if m.appendOnly {
			if signs[i] < 0 {
				return pgerror.New(pgerror.InternalError, "min/max on an append-only input received a delete")
			}
			if !m.has[g] || m.better(v, m.best[g]) {
				m.best[g], m.has[g] = v, true
			}
			continue
		}
		if v != v {
			m.nans[g] += int64(signs[i])
			continue
		}
		set := m.multisets[g]
		if set == nil {
			set = make(map[V]int64)
			m.multisets[g] = set
		}
		n := set[v] + int64(signs[i])
		if n <= 0 {
			delete(set, v)
			if m.has[g] && cmpSQL(v, m.best[g]) == 0 {
				m.recompute(g)
			}
			continue
		}
		set[v] = n
		if !m.has[g] || m.better(v, m.best[g]) {
			m.best[g], m.has[g] = v, true
		}
	}
	return nil
}

func (m *minMaxOf[V]) recompute(g int32) {
	m.has[g] = false
	for v := range m.multisets[g] {
		if !m.has[g] || m.better(v, m.best[g]) {
			m.best[g], m.has[g] = v, true
		}
	}
}

func (m *minMaxOf[V]) result(b array.Builder, g int32) error {
	best, has := m.best[g], m.has[g]
	// NaN sorts above every number: it is the max whenever present, and the
	// min only when nothing else is.
	if m.nans != nil && m.nans[g] > 0 && (m.isMax || !has) {
		best, has = nanOf(best), true
	}
	if !has {
		b.AppendNull()
		return nil
	}
	switch v := any(best).(type) {
	case int64:
		switch b := b.(type) {
		case *array.Int64Builder:
			b.Append(v)
		case *array.Int32Builder:
			b.Append(int32(v))
		case *array.Int16Builder:
			b.Append(int16(v))
		case *array.Date32Builder:
			b.Append(arrow.Date32(v))
		case *array.TimestampBuilder:
			b.Append(arrow.Timestamp(v))
		case *array.Time64Builder:
			b.Append(arrow.Time64(v))
		}
	case float64:
		switch b := b.(type) {
		case *array.Float64Builder:
			b.Append(v)
		case *array.Float32Builder:
			b.Append(float32(v))
		}
	case string:
		b.(*array.StringBuilder).Append(v)
	}
	return nil
}

func (m *minMaxOf[V]) reset(g int32) {
	var zero V
	m.best[g], m.has[g] = zero, false
	if m.multisets != nil {
		m.multisets[g] = nil
		m.nans[g] = 0
	}
}

// nanOf returns NaN as a V (only ever called for float64 values).
func nanOf[V cmp.Ordered](v V) V {
	if _, ok := any(v).(float64); ok {
		return any(math.NaN()).(V)
	}
	return v
}

func (m *minMaxOf[V]) save(w *StateWriter, g int32) {
	w.Bool(m.has[g])
	if m.has[g] {
		saveOrdered(w, m.best[g])
	}
	if m.appendOnly {
		return
	}
	w.Int(m.nans[g])
	w.Uint(uint64(len(m.multisets[g])))
	for v, n := range m.multisets[g] {
		saveOrdered(w, v)
		w.Int(n)
	}
}

func (m *minMaxOf[V]) load(r *StateReader, g int32) error {
	if m.has[g] = r.Bool(); m.has[g] {
		m.best[g] = loadOrdered[V](r)
	}
	if m.appendOnly {
		return r.Err()
	}
	m.nans[g] = r.Int()
	if n := r.Len(); n > 0 {
		set := make(map[V]int64, n)
		for i := 0; i < n && r.Err() == nil; i++ {
			v := loadOrdered[V](r)
			set[v] = r.Int()
		}
		m.multisets[g] = set
	}
	return r.Err()
}

// saveOrdered writes a min/max value: V is int64, float64 or string.
func saveOrdered[V cmp.Ordered](w *StateWriter, v V) {
	switch v := any(v).(type) {
	case int64:
		w.Int(v)
	case float64:
		w.Float(v)
	case string:
		w.String(v)
	}
}

func loadOrdered[V cmp.Ordered](r *StateReader) V {
	var v V
	switch p := any(&v).(type) {
	case *int64:
		*p = r.Int()
	case *float64:
		*p = r.Float()
	case *string:
		*p = r.String()
	}
	return v
}
