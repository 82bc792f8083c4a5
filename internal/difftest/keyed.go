package difftest

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
)

// KeyedTable is the name of the keyed table the UPDATE/DELETE cases read.
const KeyedTable = "kv"

// KeyedCreateSQL creates the keyed table in Sluice.
const KeyedCreateSQL = "CREATE TABLE " + KeyedTable + " (id INT PRIMARY KEY, k INT, g TEXT, v BIGINT, f DOUBLE PRECISION)"

// keyedIDs bounds the primary keys, so that deleted keys come back and
// updates often hit a row.
const keyedIDs = 60

type keyedRow struct {
	k sql.NullInt32
	g sql.NullString
	v sql.NullInt64
	f sql.NullFloat64
}

// keyedModel is the table as the statements leave it, kept only to avoid
// primary-key conflicts; PostgreSQL, running the same statements, is the
// oracle of the final contents.
type keyedModel map[int]keyedRow

// KeyedWorkload returns the INSERT, UPDATE and DELETE statements of a seed's
// keyed table, in order. They run unchanged on Sluice and on PostgreSQL, so
// both end with the same table; updates move rows between groups, set and
// clear NULLs, turn NaN and infinities into ordinary numbers and back, and
// change many rows at once; deletes remove single rows and whole groups, and
// deleted keys are inserted again.
func KeyedWorkload(seed uint64, statements int) []string {
	r := rand.New(rand.NewPCG(seed, 0x4b7e))
	model := keyedModel{}
	var out []string
	out = append(out, model.insert(r, 20))
	for len(out) < statements {
		id := 1 + r.IntN(keyedIDs)
		k := randomKey(r)
		n := r.IntN(400) - 200
		switch r.IntN(10) {
		case 0, 1:
			out = append(out, model.insert(r, 1+r.IntN(8)))
		case 2:
			row := keyedRow{g: randomText(r), v: randomBigint(r)}
			out = append(out, fmt.Sprintf("UPDATE %s SET v = %s, g = %s WHERE id = %d", KeyedTable, bigintLiteral(row.v), textLiteral(row.g), id))
			model.update(func(id2 int, _ keyedRow) bool { return id2 == id }, func(old keyedRow) keyedRow {
				old.v, old.g = row.v, row.g
				return old
			})
		case 3:
			out = append(out, fmt.Sprintf("UPDATE %s SET v = v + %d WHERE k = %s", KeyedTable, n, intLiteral(k)))
			model.update(func(_ int, row keyedRow) bool { return sameKey(row.k, k) }, func(old keyedRow) keyedRow {
				old.v.Int64 += int64(n) // NULL stays NULL
				return old
			})
		case 4:
			out = append(out, fmt.Sprintf("UPDATE %s SET k = %s WHERE id = %d", KeyedTable, intLiteral(k), id))
			model.update(func(id2 int, _ keyedRow) bool { return id2 == id }, func(old keyedRow) keyedRow {
				old.k = k
				return old
			})
		case 5:
			out = append(out, fmt.Sprintf("UPDATE %s SET v = -v, g = 'neg' WHERE v > %d", KeyedTable, n))
			model.update(func(_ int, row keyedRow) bool { return row.v.Valid && row.v.Int64 > int64(n) }, func(old keyedRow) keyedRow {
				old.v.Int64, old.g = -old.v.Int64, sql.NullString{String: "neg", Valid: true}
				return old
			})
		case 6:
			out = append(out, fmt.Sprintf("DELETE FROM %s WHERE id = %d", KeyedTable, id))
			model.remove(func(id2 int, _ keyedRow) bool { return id2 == id })
		case 7:
			out = append(out, fmt.Sprintf("DELETE FROM %s WHERE v < %d", KeyedTable, n-150))
			model.remove(func(_ int, row keyedRow) bool { return row.v.Valid && row.v.Int64 < int64(n-150) })
		case 9:
			f := randomDouble(r)
			out = append(out, fmt.Sprintf("UPDATE %s SET f = %s WHERE id = %d", KeyedTable, doubleLiteral(f), id))
			model.update(func(id2 int, _ keyedRow) bool { return id2 == id }, func(old keyedRow) keyedRow {
				old.f = f
				return old
			})
		case 8:
			out = append(out, fmt.Sprintf("DELETE FROM %s WHERE g IS NULL OR k = %s", KeyedTable, intLiteral(k)))
			model.remove(func(_ int, row keyedRow) bool {
				return !row.g.Valid || sameKey(row.k, k)
			})
		}
	}
	return out
}

// insert adds up to n rows under keys that are free.
func (m keyedModel) insert(r *rand.Rand, n int) string {
	var values []string
	for tries := 0; len(values) < n && tries < 4*n; tries++ {
		id := 1 + r.IntN(keyedIDs)
		if _, taken := m[id]; taken {
			continue
		}
		row := keyedRow{k: randomKey(r), g: randomText(r), v: randomBigint(r), f: randomDouble(r)}
		m[id] = row
		values = append(values, fmt.Sprintf("(%d, %s, %s, %s, %s)", id, intLiteral(row.k), textLiteral(row.g), bigintLiteral(row.v), doubleLiteral(row.f)))
	}
	if len(values) == 0 {
		// Every key is taken: a statement that changes nothing keeps the
		// statement count predictable.
		return fmt.Sprintf("DELETE FROM %s WHERE id < 0", KeyedTable)
	}
	return "INSERT INTO " + KeyedTable + " (id, k, g, v, f) VALUES " + strings.Join(values, ", ")
}

func (m keyedModel) update(match func(int, keyedRow) bool, change func(keyedRow) keyedRow) {
	for id, row := range m {
		if match(id, row) {
			m[id] = change(row)
		}
	}
}

func (m keyedModel) remove(match func(int, keyedRow) bool) {
	for id, row := range m {
		if match(id, row) {
			delete(m, id)
		}
	}
}

// sameKey is SQL's k = K in a WHERE clause: NULL never matches.
func sameKey(a, b sql.NullInt32) bool { return a.Valid && b.Valid && a.Int32 == b.Int32 }

func randomKey(r *rand.Rand) sql.NullInt32 {
	if r.IntN(10) == 0 {
		return sql.NullInt32{}
	}
	return sql.NullInt32{Int32: int32(r.IntN(5) - 1), Valid: true}
}

func randomText(r *rand.Rand) sql.NullString {
	if r.IntN(8) == 0 {
		return sql.NullString{}
	}
	return sql.NullString{String: textVocabulary[r.IntN(6)], Valid: true}
}

func randomBigint(r *rand.Rand) sql.NullInt64 {
	if r.IntN(8) == 0 {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: int64(r.IntN(2001) - 1000), Valid: true}
}

// randomDouble is NULL, NaN, an infinity or a multiple of 1/4, so that sums
// are exact whatever the order.
func randomDouble(r *rand.Rand) sql.NullFloat64 {
	switch x := r.IntN(20); {
	case x == 0:
		return sql.NullFloat64{}
	case x <= len(specialFloats):
		return sql.NullFloat64{Float64: specialFloats[x-1], Valid: true}
	default:
		return sql.NullFloat64{Float64: float64(r.IntN(4001)-2000) / 4, Valid: true}
	}
}

func doubleLiteral(v sql.NullFloat64) string {
	return nullOr(v.Valid, FloatLiteral(v.Float64))
}

func intLiteral(v sql.NullInt32) string {
	return nullOr(v.Valid, fmt.Sprint(v.Int32))
}

func bigintLiteral(v sql.NullInt64) string {
	return nullOr(v.Valid, fmt.Sprint(v.Int64))
}

func textLiteral(v sql.NullString) string {
	return nullOr(v.Valid, QuoteString(v.String))
}
