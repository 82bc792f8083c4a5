package difftest

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Emit is a view's emit mode.
type Emit int

const (
	// Incremental views show open windows with partial results.
	Incremental Emit = iota
	// OnWindowClose views emit each window once, when the watermark reaches
	// its end: EMIT ON WINDOW CLOSE.
	OnWindowClose
)

// Feature names what a case needs beyond the stream table. Features that
// may not exist yet are probed once per run (see Probes); a case whose
// feature is missing is skipped, so it switches on by itself when the
// feature lands.
type Feature string

const (
	// Streams are the APPEND ONLY table with a watermark, TUMBLE and HOP:
	// always there.
	Streams Feature = ""
	// SessionWindows is SESSION(rel, time_col, gap) in FROM.
	SessionWindows Feature = "SESSION windows"
	// TableUpdates is UPDATE and DELETE on a keyed table.
	TableUpdates Feature = "UPDATE and DELETE on tables"
)

// Case is one continuous query of the matrix and its batch equivalent.
type Case struct {
	// Name is also the view's name, so views on views refer to it.
	Name string
	// Sluice is the view's SELECT, without the EMIT clause.
	Sluice string
	// Postgres computes the view's expected contents in PostgreSQL over the
	// tables ev (the rows that were not late) and kv. Two tokens are replaced
	// before it runs: {watermark} by the stream's final watermark, as a
	// TIMESTAMP literal, and {view:name} by the expected contents of the case
	// named name, as a subquery aliased name.
	Postgres string
	Emit     Emit
	Needs    Feature
	// KnownBug, when set, describes a Sluice bug this case finds: the case is
	// skipped with that description until the bug is fixed.
	KnownBug string
}

// CreateSQL is the statement that creates the case's view in Sluice.
func (c Case) CreateSQL() string {
	s := "CREATE MATERIALIZED VIEW " + c.Name + " AS " + c.Sluice
	if c.Emit == OnWindowClose {
		s += " EMIT ON WINDOW CLOSE"
	}
	return s
}

var viewToken = regexp.MustCompile(`\{view:([a-z0-9_]+)\}`)

// DependsOn lists the cases whose views this case reads.
func (c Case) DependsOn() []string {
	var deps []string
	for _, m := range viewToken.FindAllStringSubmatch(c.Postgres, -1) {
		deps = append(deps, m[1])
	}
	return deps
}

// ReadsKeyedTable reports whether the case reads the keyed table kv rather
// than the stream.
func (c Case) ReadsKeyedTable() bool { return c.Needs == TableUpdates }

// ResolvePostgres returns the case's PostgreSQL query with its tokens
// replaced; byName finds the cases that views refer to.
func (c Case) ResolvePostgres(byName map[string]Case, watermark time.Time) (string, error) {
	var err error
	out := viewToken.ReplaceAllStringFunc(c.Postgres, func(tok string) string {
		name := viewToken.FindStringSubmatch(tok)[1]
		dep, ok := byName[name]
		if !ok {
			err = fmt.Errorf("case %s reads view %s, which is not in the matrix", c.Name, name)
			return tok
		}
		sub, subErr := dep.ResolvePostgres(byName, watermark)
		if subErr != nil {
			err = subErr
			return tok
		}
		return "(" + sub + ") AS " + name
	})
	if err != nil {
		return "", err
	}
	return strings.ReplaceAll(out, "{watermark}", TimestampLiteral(watermark)), nil
}

// window is a window function in FROM, written for Sluice and as the
// equivalent subquery for PostgreSQL; both end up named w.
type window struct {
	sluice, postgres string
}

// interval renders d as an interval literal both dialects read.
func interval(d time.Duration) string { return "INTERVAL '" + seconds(d) + "' SECOND" }

// origin is where windows with an offset are aligned.
func origin(offset time.Duration) string {
	return "TIMESTAMP '1970-01-01 00:00:00' + " + interval(offset)
}

// relation is what a window function reads: its name in Sluice and the
// matching relation in PostgreSQL's query.
type relation struct{ sluice, postgres string }

// evRelation is the stream table.
var evRelation = relation{StreamTable, StreamTable}

// tumble is TUMBLE(rel, ts, size [, offset]). In PostgreSQL a row's window
// starts at date_bin(size, ts, epoch + offset).
func tumble(rel relation, size, offset time.Duration) window {
	args := interval(size)
	if offset != 0 {
		args += ", " + interval(offset)
	}
	start := fmt.Sprintf("date_bin(%s, ts, %s)", interval(size), origin(offset))
	return window{
		sluice:   fmt.Sprintf("TUMBLE(%s, ts, %s) AS w", rel.sluice, args),
		postgres: fmt.Sprintf("(SELECT *, %s AS window_start, %s + %s AS window_end FROM %s) AS w", start, start, interval(size), rel.postgres),
	}
}

// hop is HOP(rel, ts, slide, size [, offset]). In PostgreSQL a row belongs to
// the size/slide windows that start at the slide boundaries from
// date_bin(slide, ts, epoch + offset) - (size - slide) to
// date_bin(slide, ts, epoch + offset): exactly those [start, start + size)
// that contain ts.
func hop(rel relation, slide, size, offset time.Duration) window {
	args := interval(slide) + ", " + interval(size)
	if offset != 0 {
		args += ", " + interval(offset)
	}
	last := fmt.Sprintf("date_bin(%s, ts, %s)", interval(slide), origin(offset))
	return window{
		sluice: fmt.Sprintf("HOP(%s, ts, %s) AS w", rel.sluice, args),
		postgres: fmt.Sprintf("(SELECT *, h.window_start + %s AS window_end FROM %s CROSS JOIN LATERAL "+
			"generate_series(%s - %s, %s, %s) AS h(window_start)) AS w",
			interval(size), rel.postgres, last, interval(size-slide), last, interval(slide)),
	}
}

// session is SESSION(rel, ts, gap) for a query grouped by keys besides the
// window. In PostgreSQL, per key in time order, a row whose time is at least
// gap after the previous row's starts a new session (lag); a running sum of
// those starts numbers the sessions. The running sum's default frame takes
// rows with equal times together, so ties never split a session.
func session(rel relation, gap time.Duration, keys ...string) window {
	partition := ""
	if len(keys) > 0 {
		partition = "PARTITION BY " + strings.Join(keys, ", ")
	}
	sessionKeys := strings.Join(append(append([]string(nil), keys...), "session_id"), ", ")
	return window{
		sluice: fmt.Sprintf("SESSION(%s, ts, %s) AS w", rel.sluice, interval(gap)),
		postgres: fmt.Sprintf("(SELECT *, min(ts) OVER (PARTITION BY %[1]s) AS window_start, "+
			"max(ts) OVER (PARTITION BY %[1]s) + %[2]s AS window_end FROM "+
			"(SELECT *, sum(starts) OVER (%[3]s ORDER BY ts) AS session_id FROM "+
			"(SELECT *, CASE WHEN ts - lag(ts) OVER (%[3]s ORDER BY ts) < %[2]s THEN 0 ELSE 1 END AS starts FROM %[4]s) AS s1) AS s2) AS w",
			sessionKeys, interval(gap), partition, rel.postgres),
	}
}

// windowed builds a case whose query has the token {from} where the window
// goes. With OnWindowClose, PostgreSQL keeps only the windows that end at or
// before the final watermark: those Sluice has emitted.
func windowed(name string, w window, emit Emit, needs Feature, query string) Case {
	pg := w.postgres
	if emit == OnWindowClose {
		pg = fmt.Sprintf("(SELECT * FROM %s WHERE window_end <= {watermark}) AS w", pg)
	}
	return Case{
		Name:     name,
		Sluice:   strings.ReplaceAll(query, "{from}", w.sluice),
		Postgres: strings.ReplaceAll(query, "{from}", pg),
		Emit:     emit,
		Needs:    needs,
	}
}

// same builds a case whose query reads the same in both dialects (no window
// function); views it reads are written {view:name} and become name in Sluice.
func same(name string, needs Feature, query string) Case {
	return Case{
		Name:     name,
		Sluice:   viewToken.ReplaceAllString(query, "$1"),
		Postgres: query,
		Needs:    needs,
	}
}

// Sluice bugs the matrix finds are marked on their case with withBug until
// fixed. (Fixed so far: sum/avg of floats and min/max with NaN or infinities
// that are later retracted; -0 in stored rows.)

// withBug marks a case with a known Sluice bug.
func withBug(c Case, bug string) Case {
	c.KnownBug = bug
	return c
}

const (
	second = time.Second
	// allAggregates are the aggregates of the issue over every type of ev.
	allAggregates = "count(*) AS n, count(v) AS nv, count(DISTINCT g) AS texts, sum(v) AS total, sum(f) AS total_f, " +
		"avg(v) AS mean, avg(f) AS mean_f, min(v) AS lo, max(v) AS hi, min(g) AS first_g, max(g) AS last_g, " +
		"min(ts) AS first_ts, max(ts) AS last_ts"
)

// Matrix returns the continuous queries every seed runs, in an order where a
// view comes after the views it reads.
func Matrix() []Case {
	tumble10 := tumble(evRelation, 10*second, 0)
	tumble10off3 := tumble(evRelation, 10*second, 3*second)
	tumble5 := tumble(evRelation, 5*second, 0)
	tumble60off2 := tumble(evRelation, 60*second, 2*second)
	hop5x15 := hop(evRelation, 5*second, 15*second, 0)
	hop5x15off2 := hop(evRelation, 5*second, 15*second, 2*second)
	hop5x15off7 := hop(evRelation, 5*second, 15*second, 7*second)
	hop10x10 := hop(evRelation, 10*second, 10*second, 0)
	hop5x10off3 := hop(evRelation, 5*second, 10*second, 3*second)

	return []Case{
		// Windows grouped by window and key, window only, window end only.
		windowed("tumble_all_aggregates", tumble10, Incremental, Streams,
			"SELECT window_start, window_end, k, "+allAggregates+" FROM {from} GROUP BY window_start, window_end, k"),
		windowed("tumble_default_names", tumble10, Incremental, Streams,
			"SELECT window_start, k, count(*), sum(v), avg(f), max(g) FROM {from} GROUP BY window_start, k"),
		windowed("tumble_window_only", tumble10, Incremental, Streams,
			"SELECT window_start, window_end, count(*) AS n, count(DISTINCT k) AS keys, sum(v) AS total, min(ts) AS first_ts, max(ts) AS last_ts FROM {from} GROUP BY window_start, window_end"),
		windowed("tumble_offset_by_text", tumble10off3, Incremental, Streams,
			"SELECT window_start, window_end, g, count(*) AS n, sum(f) AS total_f, min(v) AS lo, max(ts) AS last_ts FROM {from} GROUP BY window_start, window_end, g"),
		windowed("tumble_by_end", tumble5, Incremental, Streams,
			"SELECT window_end, k, count(v) AS nv, avg(f) AS mean_f, max(ts) AS last_ts FROM {from} GROUP BY window_end, k"),
		windowed("tumble_minute_offset", tumble60off2, Incremental, Streams,
			"SELECT window_start, count(*) AS n, count(DISTINCT g) AS texts, avg(v) AS mean, min(g) AS first_g FROM {from} GROUP BY window_start"),
		windowed("tumble_day", tumble(evRelation, 24*time.Hour, 0), Incremental, Streams,
			"SELECT window_start, window_end, count(*) AS n, sum(v) AS total FROM {from} GROUP BY window_start, window_end"),
		windowed("tumble_negative_offset", tumble(evRelation, time.Hour, -15*time.Minute), Incremental, Streams,
			"SELECT window_start, k, count(*) AS n FROM {from} GROUP BY window_start, k"),
		windowed("tumble_offset_beyond_size", tumble(evRelation, 10*second, 12*second), Incremental, Streams,
			"SELECT window_start, window_end, count(*) AS n, max(v) AS hi FROM {from} GROUP BY window_start, window_end"),
		windowed("hop_by_key", hop5x15, Incremental, Streams,
			"SELECT window_start, window_end, k, count(*) AS n, count(v) AS nv, sum(v) AS total, min(v) AS lo, max(v) AS hi, avg(v) AS mean FROM {from} GROUP BY window_start, window_end, k"),
		windowed("hop_offset_by_text", hop5x15off2, Incremental, Streams,
			"SELECT window_start, g, count(*) AS n, sum(f) AS total_f, min(ts) AS first_ts, max(ts) AS last_ts, count(DISTINCT k) AS keys FROM {from} GROUP BY window_start, g"),
		windowed("hop_offset_beyond_slide", hop5x15off7, Incremental, Streams,
			"SELECT window_end, count(*) AS n, max(g) AS last_g, min(v) AS lo FROM {from} GROUP BY window_end"),
		windowed("hop_size_equals_slide", hop10x10, Incremental, Streams,
			"SELECT window_start, window_end, k, count(*) AS n, sum(v) AS total FROM {from} GROUP BY window_start, window_end, k"),

		// No window: by key, by text, and no GROUP BY at all.
		same("by_key", Streams, "SELECT k, "+allAggregates+" FROM ev GROUP BY k"),
		same("interval_self_join", Streams, "SELECT a.k, count(*) AS pairs, sum(b.v) AS total FROM ev a JOIN ev b ON a.k = b.k AND b.ts BETWEEN a.ts AND a.ts + INTERVAL '2' SECOND GROUP BY a.k"),
		{
			Name:   "window_self_join",
			Sluice: "SELECT a.window_start, a.k, count(*) AS pairs FROM TUMBLE(ev, ts, INTERVAL '10' SECOND) a JOIN TUMBLE(ev, ts, INTERVAL '10' SECOND) b ON a.k = b.k AND a.window_start = b.window_start GROUP BY a.window_start, a.k",
			Postgres: "SELECT a.ws AS window_start, a.k, count(*) AS pairs FROM (SELECT *, date_bin('10 seconds', ts, TIMESTAMP '1970-01-01') AS ws FROM ev) a " +
				"JOIN (SELECT *, date_bin('10 seconds', ts, TIMESTAMP '1970-01-01') AS ws FROM ev) b ON a.k = b.k AND a.ws = b.ws GROUP BY a.ws, a.k",
			Needs: Streams,
		},
		same("spread_by_key", Streams, "SELECT k, stddev(v) AS sd, var_pop(v) AS vp, stddev_pop(f) AS sdf, variance(f) AS vf, bool_and(v > 0) AS all_pos, bool_or(v > 5000) AS any_big FROM ev GROUP BY k"),
		same("kv_spread", TableUpdates, "SELECT k, stddev_samp(v) AS sd, var_samp(v) AS vs, bool_and(v >= 0) AS all_nonneg, every(f < 500) AS all_small FROM kv GROUP BY k"),
		same("union_all_by_key", Streams, "SELECT k, count(*) AS n, sum(v) AS total FROM (SELECT k, v FROM ev UNION ALL SELECT k, v * 2 FROM ev WHERE v > 0) u GROUP BY k"),
		same("union_distinct", Streams, "SELECT k FROM ev WHERE v > 100 UNION SELECT k FROM ev WHERE v < -100"),
		same("kv_join_ev", TableUpdates, "SELECT e.k, count(*) AS n, sum(e.v) AS ev_total, sum(kv.v) AS kv_total FROM ev e JOIN kv ON e.k = kv.k GROUP BY e.k"),
		same("kv_left_join_ev", TableUpdates, "SELECT kv.id, kv.g, count(e.v) AS matches, max(e.ts) AS last_ts FROM kv LEFT JOIN ev e ON e.k = kv.k GROUP BY kv.id, kv.g"),
		same("kv_full_join_rows", TableUpdates, "SELECT a.id AS a_id, b.id AS b_id FROM kv a FULL JOIN kv b ON a.k = b.id"),
		same("kv_semi_join_ev", TableUpdates, "SELECT id, g, v FROM kv WHERE k IN (SELECT k FROM ev WHERE v > 0) AND v IS NOT NULL"),
		same("kv_exists_ev", TableUpdates, "SELECT id, k FROM kv WHERE EXISTS (SELECT 1 FROM ev e WHERE e.k = kv.k AND e.v > 0)"),
		same("kv_not_exists_ev", TableUpdates, "SELECT id, k FROM kv WHERE NOT EXISTS (SELECT 1 FROM ev e WHERE e.k = kv.k AND e.v > 1000)"),
		same("kv_scalar_aggregates", TableUpdates, "SELECT id, (SELECT count(*) FROM ev e WHERE e.k = kv.k) AS n, (SELECT max(e.v) FROM ev e WHERE e.k = kv.k) AS top FROM kv"),
		same("kv_union_all", TableUpdates, "SELECT g, count(*) AS n, sum(v) AS total FROM (SELECT g, v FROM kv UNION ALL SELECT g, v FROM kv WHERE k % 2 = 0) u GROUP BY g"),
		same("by_text", Streams, "SELECT g, count(*) AS n, sum(v) AS total, max(ts) AS last_ts, avg(f) AS mean_f FROM ev GROUP BY g"),
		same("by_key_expression", Streams, "SELECT k % 3 AS bucket, count(*) AS n, sum(v) AS total FROM ev GROUP BY k % 3"),
		same("by_minute_expression", Streams,
			"SELECT date_trunc('minute', ts) AS minute, count(*) AS n, max(g) AS last_g FROM ev GROUP BY 1"),
		same("subquery_in_from", Streams,
			"SELECT k, count(*) AS n, sum(v) AS total FROM (SELECT k, v FROM ev WHERE v > 0) AS s GROUP BY k"),
		same("global", Streams, "SELECT count(DISTINCT k) AS keys, "+allAggregates+" FROM ev"),
		same("global_nothing_matches", Streams, "SELECT count(*) AS n, sum(v) AS total, max(ts) AS last_ts FROM ev WHERE v > 5000000000000"),

		// Filters, including ones that drop NULLs, and HAVING.
		windowed("where_not_null", tumble10, Incremental, Streams,
			"SELECT window_start, k, count(*) AS n, min(g) AS first_g, sum(v) AS total FROM {from} WHERE v IS NOT NULL AND g IS NOT NULL GROUP BY window_start, k"),
		windowed("where_modulo", hop5x15, Incremental, Streams,
			"SELECT window_start, window_end, count(*) AS n, sum(v) AS total, count(DISTINCT k) AS keys FROM {from} WHERE v % 3 = 0 GROUP BY window_start, window_end"),
		same("where_boolean_mix", Streams,
			"SELECT k, count(*) AS n, sum(f) AS total_f, max(g) AS last_g FROM ev WHERE (f > 0 AND g <> 'a') OR k IN (-1, 1) GROUP BY k"),
		windowed("where_text", tumble10, Incremental, Streams,
			"SELECT window_start, count(*) AS n, max(g) AS last_g FROM {from} WHERE g LIKE 'a%' OR g = '' GROUP BY window_start"),
		windowed("having_window", tumble10, Incremental, Streams,
			"SELECT window_start, k, count(*) AS n, sum(v) AS total FROM {from} GROUP BY window_start, k HAVING count(*) > 2 AND sum(v) > 0"),
		same("global_having", Streams, "SELECT count(*) AS n, sum(f) AS total_f FROM ev HAVING count(*) > 1"),
		windowed("window_first_half", tumble10, Incremental, Streams,
			"SELECT window_start, k, count(*) AS n FROM {from} WHERE ts - window_start < INTERVAL '5' SECOND GROUP BY 1, 2"),
		same("having_by_text", Streams,
			"SELECT g, count(*) AS n, avg(f) AS mean_f FROM ev GROUP BY g HAVING count(v) >= 5 OR max(v) < 0"),

		// Expressions over aggregates and over group keys.
		windowed("aggregate_expressions", tumble10, Incremental, Streams,
			"SELECT window_start, k, sum(v) * 2 AS doubled, max(v) - min(v) AS spread, count(*) + count(v) AS counts, "+
				"sum(f) / count(*) AS mean_f, coalesce(sum(v), 0) AS total, "+
				"CASE WHEN count(v) = count(*) THEN 'full' ELSE 'gaps' END AS fill, max(ts) - min(ts) AS span "+
				"FROM {from} GROUP BY window_start, k"),
		windowed("group_by_boolean", tumble10, Incremental, Streams,
			"SELECT window_start, v > 0 AS positive, count(*) AS n FROM {from} GROUP BY window_start, v > 0"),

		// Without aggregation: every row counts, duplicates included.
		same("projection", Streams, "SELECT k, g, v * 2 AS v2, f, ts FROM ev WHERE v > 0"),
		same("projection_expressions", Streams,
			"SELECT k, coalesce(g, '?') AS g, nullif(v, 0) AS nv, greatest(v, 0) AS gv, least(f, 0) AS lf, "+
				"v BETWEEN -10 AND 10 AS small, g ILIKE 'A%' AS a, length(g) AS lg, substr(g, 2) AS tail, "+
				"ts + INTERVAL '1' HOUR AS later, date_trunc('second', ts) AS sec, extract(epoch FROM ts) AS epoch, "+
				"v / 7 AS q, v % 7 AS r, f / 3 AS fq, CAST(v AS TEXT) || g AS cat FROM ev"),
		windowed("window_projection", tumble10, Incremental, Streams,
			"SELECT window_start, window_end, k, ts FROM {from} WHERE k = 1"),
		same("negative_zero", Streams, "SELECT k, f * 0 AS z, -f AS minus_f, f FROM ev WHERE f <= 0"),
		same("distinct_pairs", Streams, "SELECT DISTINCT k, g FROM ev"),

		// EMIT ON WINDOW CLOSE.
		windowed("close_tumble", tumble10, OnWindowClose, Streams,
			"SELECT window_start, k, count(*) AS n, sum(v) AS total, max(g) AS last_g FROM {from} GROUP BY window_start, k"),
		windowed("close_tumble_offset_by_end", tumble10off3, OnWindowClose, Streams,
			"SELECT window_end, count(*) AS n, avg(v) AS mean FROM {from} GROUP BY window_end"),
		windowed("close_hop", hop5x15, OnWindowClose, Streams,
			"SELECT window_start, window_end, count(*) AS n, min(ts) AS first_ts, max(ts) AS last_ts FROM {from} GROUP BY window_start, window_end"),
		windowed("close_having", tumble5, OnWindowClose, Streams,
			"SELECT window_start, g, count(*) AS n FROM {from} GROUP BY window_start, g HAVING count(*) > 1"),
		windowed("close_where", hop5x10off3, OnWindowClose, Streams,
			"SELECT window_start, k, sum(v) AS total, min(v) AS lo FROM {from} WHERE v IS NOT NULL GROUP BY window_start, k"),

		// Views on views.
		same("windows_per_key", Streams,
			"SELECT k, count(*) AS windows, sum(n) AS n, max(total) AS best FROM {view:hop_by_key} GROUP BY k"),
		same("closed_windows_per_key", Streams,
			"SELECT k, count(*) AS windows, sum(n) AS n, min(window_start) AS first_window FROM {view:close_tumble} GROUP BY k"),
		windowed("having_floats", tumble10, Incremental, Streams,
			"SELECT window_start, k, sum(f) AS total_f, max(f) AS hi_f FROM {from} GROUP BY window_start, k HAVING sum(v) > 0"),
		same("counts_of_having", Streams,
			"SELECT count(*) AS groups, count(total_f) AS with_f, count(DISTINCT hi_f) AS distinct_hi FROM {view:having_floats}"),
		same("float_sums_of_having", Streams,
			"SELECT sum(total_f) AS total_f, avg(total_f) AS mean_f FROM {view:having_floats}"),
		same("float_extremes_of_having", Streams,
			"SELECT max(hi_f) AS hi_f, min(hi_f) AS lo_f FROM {view:having_floats}"),
		same("having_summary", Streams,
			"SELECT count(*) AS groups, sum(n) AS n, max(total) AS best FROM {view:having_window}"),
		same("filter_on_view", Streams,
			"SELECT window_start, k, doubled, spread FROM {view:aggregate_expressions} WHERE spread > 100"),
		same("aggregates_of_windows", Streams,
			"SELECT count(DISTINCT n) AS sizes, avg(n) AS mean, sum(total) AS total, min(lo) AS lo, max(hi) AS hi FROM {view:hop_by_key}"),
		same("key_count_histogram", Streams,
			"SELECT n, count(*) AS keys FROM {view:by_key} GROUP BY n"),
		windowed("tumble_on_view", tumble(relation{"projection", "{view:projection}"}, 10*second, 0), Incremental, Streams,
			"SELECT window_start, count(*) AS n, sum(v2) AS total FROM {from} GROUP BY window_start"),

		// SESSION windows.
		windowed("session_by_key", session(evRelation, 3*second, "k"), Incremental, SessionWindows,
			"SELECT window_start, window_end, k, count(*) AS n, sum(v) AS total, min(ts) AS first_ts, max(ts) AS last_ts, max(g) AS last_g FROM {from} GROUP BY window_start, window_end, k"),
		windowed("session_global", session(evRelation, 1500*time.Millisecond), Incremental, SessionWindows,
			"SELECT window_start, window_end, count(*) AS n, count(DISTINCT k) AS keys FROM {from} GROUP BY window_start, window_end"),
		windowed("session_start_only", session(evRelation, 3*second, "k"), Incremental, SessionWindows,
			"SELECT window_start, k, count(*) AS n FROM {from} GROUP BY window_start, k"),
		windowed("close_session_by_text", session(evRelation, 2*second, "g"), OnWindowClose, SessionWindows,
			"SELECT window_start, window_end, g, count(*) AS n, avg(f) AS mean_f FROM {from} GROUP BY window_start, window_end, g"),
		same("sessions_per_key", SessionWindows,
			"SELECT k, count(*) AS sessions, max(n) AS longest FROM {view:session_by_key} GROUP BY k"),

		// Top-N per group and deduplication. Every output column is a
		// PARTITION BY or ORDER BY column, so rows that tie in the order are
		// equal in the output and the unspecified order among ties of
		// ROW_NUMBER() cannot make the results differ.
		same("top3_per_key", Streams,
			"SELECT k, v, ts, g, rn FROM (SELECT k, v, ts, g, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC, ts, g) AS rn FROM ev) AS t WHERE rn <= 3"),
		same("first_per_key", Streams,
			"SELECT k, ts, g, v FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts, g NULLS FIRST, v) AS rn FROM ev) AS t WHERE rn = 1"),
		same("top_keys_by_count", Streams,
			"SELECT k, n, rn FROM (SELECT k, count(*) AS n, ROW_NUMBER() OVER (ORDER BY count(*) DESC, k) AS rn FROM ev GROUP BY k) AS t WHERE rn < 4"),
		same("kv_top3_per_key", TableUpdates,
			"SELECT id, k, v, rn FROM (SELECT id, k, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC NULLS LAST, id) AS rn FROM kv) AS t WHERE rn <= 3"),
		same("kv_lowest_five", TableUpdates,
			"SELECT id, v FROM (SELECT id, v, ROW_NUMBER() OVER (ORDER BY v, id) AS rn FROM kv) AS t WHERE rn <= 5"),
		// RANK() and DENSE_RANK() keep every tied row, so any output is
		// deterministic; ties are frequent in these small value ranges.
		same("rank_top2_per_key", Streams,
			"SELECT k, v, ts, g FROM (SELECT k, v, ts, g, RANK() OVER (PARTITION BY k ORDER BY v DESC) AS r FROM ev) AS t WHERE r <= 2"),
		same("dense_rank_per_group", Streams,
			"SELECT g, v, d FROM (SELECT g, v, DENSE_RANK() OVER (PARTITION BY g ORDER BY v) AS d FROM ev) AS t WHERE d < 3"),
		same("kv_rank_top3_per_key", TableUpdates,
			"SELECT id, k, v, r FROM (SELECT id, k, v, RANK() OVER (PARTITION BY k ORDER BY v DESC NULLS LAST) AS r FROM kv) AS t WHERE r <= 3"),
		same("kv_dense_lowest_two", TableUpdates,
			"SELECT id, v, r FROM (SELECT id, v, DENSE_RANK() OVER (ORDER BY v) AS r FROM kv) AS t WHERE r <= 2"),

		// Window functions over whole partitions: an ORDER BY that is total
		// (id is unique) makes row_number, lag and lead deterministic; over
		// the stream, only values that peers share (running sums with the
		// default RANGE frame, ranks, counts) are in the output.
		same("kv_lag_lead", TableUpdates,
			"SELECT id, k, v, lag(v) OVER (PARTITION BY k ORDER BY id) AS prev, lead(v, 1, -1) OVER (PARTITION BY k ORDER BY id) AS next, "+
				"row_number() OVER (PARTITION BY k ORDER BY id) AS rn, first_value(g) OVER (PARTITION BY k ORDER BY id) AS first_g FROM kv"),
		same("kv_running", TableUpdates,
			"SELECT id, k, sum(v) OVER (PARTITION BY k ORDER BY id) AS running, count(v) OVER (PARTITION BY k ORDER BY id) AS nv, "+
				"min(v) OVER (PARTITION BY k ORDER BY id) AS lo, max(g) OVER (PARTITION BY k ORDER BY id) AS hi_g, avg(v) OVER (PARTITION BY k ORDER BY id) AS mean FROM kv"),
		same("kv_partition_totals", TableUpdates,
			"SELECT id, k, count(*) OVER (PARTITION BY k) AS n, sum(v) OVER (PARTITION BY k) AS total FROM kv"),
		same("ev_running_by_value", Streams,
			"SELECT k, v, sum(v) OVER (PARTITION BY k ORDER BY v) AS s, rank() OVER (PARTITION BY k ORDER BY v) AS r, "+
				"dense_rank() OVER (PARTITION BY k ORDER BY v) AS d, count(*) OVER (PARTITION BY k ORDER BY v) AS c FROM ev"),
		same("ev_global_running_count", Streams,
			"SELECT g, count(*) OVER (ORDER BY g) AS c, dense_rank() OVER (ORDER BY g) AS d FROM ev"),

		// ANY and ALL over a subquery, as comparisons with its aggregates
		// (NULLs in the subquery included).
		same("kv_above_any", TableUpdates, "SELECT id, v FROM kv WHERE v > ANY (SELECT v FROM kv WHERE k = 0)"),
		same("kv_at_most_any", TableUpdates, "SELECT id, v FROM kv WHERE v <= ANY (SELECT v FROM kv WHERE k = 1) AND k <> 1"),
		same("kv_not_any", TableUpdates, "SELECT id FROM kv WHERE v <> ANY (SELECT v FROM kv WHERE k = 2)"),
		same("kv_above_all", TableUpdates, "SELECT id, v FROM kv WHERE v >= ALL (SELECT v FROM kv WHERE k = 1)"),
		same("kv_below_all", TableUpdates, "SELECT id, v FROM kv WHERE v < ALL (SELECT v FROM kv WHERE k = 2 AND v IS NOT NULL)"),
		same("kv_equal_all", TableUpdates, "SELECT id FROM kv WHERE v = ALL (SELECT v FROM kv WHERE k = 0 AND id < 3)"),

		// Joins without an equality: every row of one side meets every row
		// of the other, and the condition decides.
		same("kv_theta_join", TableUpdates,
			"SELECT a.id AS a_id, b.id AS b_id, a.v AS av, b.v AS bv FROM kv a JOIN kv b ON a.v + 5 < b.v WHERE a.k = 0 AND b.k = 1"),
		// An INT column joined with a BIGINT one: a hash key all the same.
		same("kv_mixed_width_join", TableUpdates,
			"SELECT a.id AS a_id, b.id AS b_id FROM kv a JOIN (SELECT id, v / 500 AS w FROM kv) b ON a.k = b.w"),
		same("kv_cross_join", TableUpdates,
			"SELECT a.id AS a_id, b.g AS b_g FROM kv a CROSS JOIN kv b WHERE a.k = 2 AND b.k = 0"),

		// A keyed table under INSERT, UPDATE and DELETE.
		same("kv_by_key", TableUpdates,
			"SELECT k, count(*) AS n, count(v) AS nv, sum(v) AS total, min(v) AS lo, max(v) AS hi, avg(v) AS mean, "+
				"count(DISTINCT g) AS texts, min(g) AS first_g, max(g) AS last_g FROM kv GROUP BY k"),
		same("kv_global", TableUpdates, "SELECT count(*) AS n, sum(v) AS total, min(v) AS lo, max(v) AS hi, min(g) AS first_g FROM kv"),
		same("kv_filter", TableUpdates, "SELECT id, k, v * 2 AS v2, g FROM kv WHERE v % 2 = 0 OR g IS NULL"),
		same("kv_having", TableUpdates, "SELECT g, count(*) AS n, max(v) AS hi FROM kv GROUP BY g HAVING count(*) > 1"),
		same("kv_min_max_by_text", TableUpdates, "SELECT g, min(v) AS lo, max(v) AS hi, min(id) AS first_id, max(id) AS last_id FROM kv GROUP BY g"),
		same("kv_float_counts", TableUpdates, "SELECT k, count(f) AS nf, count(DISTINCT f) AS distinct_f FROM kv GROUP BY k"),
		same("kv_float_sums", TableUpdates, "SELECT k, sum(f) AS total_f, avg(f) AS mean_f FROM kv GROUP BY k"),
		same("kv_float_extremes", TableUpdates, "SELECT k, min(f) AS lo_f, max(f) AS hi_f FROM kv GROUP BY k"),
		same("kv_count_histogram", TableUpdates, "SELECT n, count(*) AS keys FROM {view:kv_by_key} GROUP BY n"),
	}
}
