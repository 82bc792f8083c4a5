package difftest

import (
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// StreamTable is the name of the append-only table every stream case reads,
// in Sluice and in PostgreSQL.
const StreamTable = "ev"

// Row is one row of the stream table ev (k INT, g TEXT, v BIGINT,
// f DOUBLE PRECISION, ts TIMESTAMP). The event time is never NULL: how a NULL
// event time windows is not part of the contract the harness checks.
type Row struct {
	K  sql.NullInt32
	G  sql.NullString
	V  sql.NullInt64
	F  sql.NullFloat64
	TS time.Time
}

// StreamParams describe one seeded stream. Everything about the stream
// follows from them, so printing them is enough to understand a failure and
// the seed is enough to replay it.
type StreamParams struct {
	Seed uint64
	Rows int
	// Delay is d in WATERMARK FOR ts AS ts - INTERVAL 'd' SECOND.
	Delay time.Duration
	// Keys and Texts are the cardinalities of k and g (before NULLs).
	Keys, Texts int
	// Step is the mean event-time distance between two arrivals.
	Step time.Duration
	// Start is the event time of the first row; some seeds start just before
	// the Unix epoch so that window arithmetic meets negative timestamps.
	Start time.Time
}

func (p StreamParams) String() string {
	return fmt.Sprintf("seed=%d rows=%d delay=%s keys=%d texts=%d step=%s start=%s",
		p.Seed, p.Rows, p.Delay, p.Keys, p.Texts, p.Step, FormatTimestamp(p.Start))
}

// CreateTableSQL is the Sluice statement that creates the stream table.
func (p StreamParams) CreateTableSQL() string {
	return fmt.Sprintf("CREATE TABLE %s (k INT, g TEXT, v BIGINT, f DOUBLE PRECISION, ts TIMESTAMP, "+
		"WATERMARK FOR ts AS ts - INTERVAL '%s' SECOND) APPEND ONLY", StreamTable, seconds(p.Delay))
}

// The choices a seed draws its stream parameters from: small, larger and
// mostly-unique key cardinalities, a watermark delay of zero (every
// out-of-order row is late), fractional, whole and long delays (windows stay
// open and change many times), dense and sparse event times.
var (
	delayChoices = []time.Duration{0, time.Second, 2500 * time.Millisecond, 5 * time.Second, 30 * time.Second}
	keyChoices   = []int{3, 40, 500}
	textChoices  = []int{3, len(textVocabulary)}
	stepChoices  = []time.Duration{2 * time.Millisecond, 50 * time.Millisecond, 250 * time.Millisecond, 700 * time.Millisecond}
	startChoices = []time.Time{
		time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 58, 30, 0, time.UTC),
	}
)

// textVocabulary holds the values of g: the empty string, a quote, a
// multi-byte letter, upper case that sorts before lower case in byte order.
var textVocabulary = []string{"a", "b", "ab", "", "B", "o'k", "é", "z z", "A", "ba", "aa", "Zeta"}

// ParamsForSeed draws the stream parameters of a seed.
func ParamsForSeed(seed uint64, rows int) StreamParams {
	r := rand.New(rand.NewPCG(seed, 0x9a7a))
	pick := func(n int) int { return r.IntN(n) }
	return StreamParams{
		Seed:  seed,
		Rows:  rows,
		Delay: delayChoices[pick(len(delayChoices))],
		Keys:  keyChoices[pick(len(keyChoices))],
		Texts: textChoices[pick(len(textChoices))],
		Step:  stepChoices[pick(len(stepChoices))],
		Start: startChoices[pick(len(startChoices))],
	}
}

// Boundaries of the windows in the matrix: every TUMBLE and HOP size and slide
// is a multiple of windowGrid, and every offset is one of windowOffsets.
const windowGrid = 5 * time.Second

var windowOffsets = []time.Duration{0, 2 * time.Second, 3 * time.Second}

// Generate returns the rows of a stream in arrival order. Event times follow
// a clock that advances by about Step per row; a row's time is drawn from a
// mix meant to hit every edge of the watermark and of window boundaries:
// in order, out of order within the delay, exactly at the watermark (not
// late), one microsecond below it (late), far behind (late), a duplicate of an
// earlier time, exactly on a window boundary, or ahead of the clock (which
// raises the watermark and makes rows behind it late).
func Generate(p StreamParams) []Row {
	r := rand.New(rand.NewPCG(p.Seed, 0x57e4))
	wm := NewWatermark(p.Delay)
	clock := p.Start
	rows := make([]Row, 0, p.Rows)
	for i := 0; i < p.Rows; i++ {
		if i > 0 {
			// A step of 0 to 2*Step in whole milliseconds: Step on average,
			// and sometimes two rows at the same clock.
			clock = clock.Add(time.Duration(r.Int64N(2*p.Step.Milliseconds()+1)) * time.Millisecond)
		}
		ts := clock
		current, hasWM := wm.Value()
		switch x := r.IntN(100); {
		case x < 50:
			// in order
		case x < 68:
			if p.Delay > 0 {
				ts = clock.Add(-time.Duration(r.Int64N(p.Delay.Milliseconds()+1)) * time.Millisecond)
			}
		case x < 73:
			if hasWM {
				ts = current
			}
		case x < 76:
			if hasWM {
				ts = current.Add(-time.Microsecond)
			}
		case x < 80:
			ts = clock.Add(-p.Delay - time.Duration(1+r.Int64N(20000))*time.Millisecond)
		case x < 86:
			// A recent time, so that the duplicate is usually not late.
			if len(rows) > 0 {
				ts = rows[len(rows)-1-r.IntN(min(len(rows), 8))].TS
			}
		case x < 95:
			// The boundary at or below the clock, or else the first one at
			// or above the watermark, unless that is far ahead.
			off := windowOffsets[r.IntN(len(windowOffsets))]
			ts = floorTime(clock.Add(-off), windowGrid).Add(off)
			if hasWM && ts.Before(current) && r.IntN(4) != 0 {
				if next := ts.Add(windowGrid); !next.After(clock.Add(time.Second)) {
					ts = next
				}
			}
		case x < 96:
			ts = clock.Add(p.Delay + time.Duration(r.Int64N(1500))*time.Millisecond)
		default:
			ts = clock.Add(time.Duration(1+r.IntN(999)) * time.Microsecond)
		}
		wm.Arrive(ts)
		rows = append(rows, randomValues(r, p, ts))
	}
	return rows
}

func randomValues(r *rand.Rand, p StreamParams, ts time.Time) Row {
	row := Row{TS: ts}
	if r.IntN(20) != 0 {
		// Keys start at -1 so that a negative key is common.
		row.K = sql.NullInt32{Int32: int32(r.IntN(p.Keys) - 1), Valid: true}
	}
	if r.IntN(10) != 0 {
		row.G = sql.NullString{String: textVocabulary[r.IntN(p.Texts)], Valid: true}
	}
	if r.IntN(10) != 0 {
		v := int64(r.IntN(2001) - 1000)
		if r.IntN(10) == 0 {
			// Large values stress sums; |sum| stays far below 2^53 for any
			// sensible row count, where Sluice's NUMERIC is exact.
			v = r.Int64N(2_000_000_000_000) - 1_000_000_000_000
		}
		row.V = sql.NullInt64{Int64: v, Valid: true}
	}
	if r.IntN(10) != 0 {
		// Multiples of 1/256: sums are exact in any order, so only avg
		// depends on the floating-point tolerance.
		f := float64(r.IntN(512001)-256000) / 256
		if x := r.IntN(1000); x < len(specialFloats)*specialFloatPerMille {
			f = specialFloats[x/specialFloatPerMille]
		}
		row.F = sql.NullFloat64{Float64: f, Valid: true}
	}
	return row
}

// specialFloats are the values of DOUBLE PRECISION that arithmetic and
// comparisons treat apart, each drawn specialFloatPerMille times in a
// thousand. (-0 is left out: it is produced by f * 0 in the matrix.)
var specialFloats = []float64{math.NaN(), math.Inf(1), math.Inf(-1)}

const specialFloatPerMille = 4

// floorTime rounds t down to a multiple of d since the Unix epoch, also
// before 1970 (where integer division would round up).
func floorTime(t time.Time, d time.Duration) time.Time {
	us := t.UnixMicro()
	step := d.Microseconds()
	q := us / step
	if us%step != 0 && us < 0 {
		q--
	}
	return time.UnixMicro(q * step).UTC()
}

// Watermark follows a stream's watermark exactly as dialect.md defines it:
// row by row in arrival order, the watermark is the largest event time seen
// minus the delay; a row whose time is below the watermark when it arrives is
// late (a row at the watermark is not); the first row is never late.
type Watermark struct {
	delay time.Duration
	value time.Time
	set   bool
}

// NewWatermark returns the watermark of WATERMARK FOR ts AS ts - delay before
// any row.
func NewWatermark(delay time.Duration) *Watermark { return &Watermark{delay: delay} }

// Value returns the current watermark, and false before the first row.
func (w *Watermark) Value() (time.Time, bool) { return w.value, w.set }

// Arrive processes one row's event time and reports whether the row is late.
// A late row does not move the watermark (its candidate is below it anyway).
func (w *Watermark) Arrive(ts time.Time) (late bool) {
	if w.set && ts.Before(w.value) {
		return true
	}
	if c := ts.Add(-w.delay); !w.set || c.After(w.value) {
		w.value, w.set = c, true
	}
	return false
}

// Outcome is what the watermark does to a stream.
type Outcome struct {
	// Kept are the rows that are not late, in arrival order.
	Kept []Row
	// Late are the arrival indexes of the late rows.
	Late []int
	// Watermark is the final watermark; HasWatermark is false for an empty
	// stream.
	Watermark    time.Time
	HasWatermark bool
}

// Simulate runs the watermark over rows in arrival order.
func Simulate(rows []Row, delay time.Duration) Outcome {
	wm := NewWatermark(delay)
	var out Outcome
	for i, row := range rows {
		if wm.Arrive(row.TS) {
			out.Late = append(out.Late, i)
			continue
		}
		out.Kept = append(out.Kept, row)
	}
	out.Watermark, out.HasWatermark = wm.Value()
	return out
}

// Batches cuts rows into consecutive INSERT batches of 1 to 200 rows. Since
// the watermark advances row by row, the cut must not change any result.
func Batches(seed uint64, rows []Row) [][]Row {
	r := rand.New(rand.NewPCG(seed, 0xba7c))
	var out [][]Row
	for len(rows) > 0 {
		n := min(1+r.IntN(200), len(rows))
		out = append(out, rows[:n])
		rows = rows[n:]
	}
	return out
}

// InsertSQL renders one INSERT of rows into the stream table.
func InsertSQL(rows []Row) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + StreamTable + " (k, g, v, f, ts) VALUES ")
	for i, row := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		b.WriteString(nullOr(row.K.Valid, strconv.FormatInt(int64(row.K.Int32), 10)))
		b.WriteString(", ")
		b.WriteString(nullOr(row.G.Valid, QuoteString(row.G.String)))
		b.WriteString(", ")
		b.WriteString(nullOr(row.V.Valid, strconv.FormatInt(row.V.Int64, 10)))
		b.WriteString(", ")
		b.WriteString(nullOr(row.F.Valid, FloatLiteral(row.F.Float64)))
		b.WriteString(", ")
		b.WriteString(TimestampLiteral(row.TS))
		b.WriteByte(')')
	}
	return b.String()
}

// copyValues is the row as pgx's CopyFrom takes it.
func (row Row) copyValues() []any {
	vals := []any{nil, nil, nil, nil, row.TS}
	if row.K.Valid {
		vals[0] = row.K.Int32
	}
	if row.G.Valid {
		vals[1] = row.G.String
	}
	if row.V.Valid {
		vals[2] = row.V.Int64
	}
	if row.F.Valid {
		vals[3] = row.F.Float64
	}
	return vals
}

func nullOr(valid bool, literal string) string {
	if !valid {
		return "NULL"
	}
	return literal
}

// FloatLiteral renders f as an SQL literal that reads back as exactly f,
// NaN and the infinities included.
func FloatLiteral(f float64) string {
	switch {
	case math.IsNaN(f):
		return "'NaN'"
	case math.IsInf(f, 1):
		return "'Infinity'"
	case math.IsInf(f, -1):
		return "'-Infinity'"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// QuoteString renders s as an SQL string literal.
func QuoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// FormatTimestamp renders t as PostgreSQL prints a TIMESTAMP.
func FormatTimestamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.999999") }

// TimestampLiteral renders t as an SQL TIMESTAMP literal.
func TimestampLiteral(t time.Time) string { return "TIMESTAMP '" + FormatTimestamp(t) + "'" }

// seconds renders d as the number in INTERVAL '<n>' SECOND.
func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }
