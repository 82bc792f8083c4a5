package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	nethttp "net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedb/sluice/catalog"
	"github.com/sluicedb/sluice/connectors"
	httpconn "github.com/sluicedb/sluice/connectors/http"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/internal/testserver"
)

// ingestClient posts to one source as a well-behaved client: it retries a
// 429 or 503 answer (after a short pause, as Retry-After asks it to wait)
// and reports the final answer.
type ingestClient struct {
	url, token string

	mu       sync.Mutex
	statuses map[int]int // every answer, retried ones included
}

type ingestAnswer struct {
	status int
	body   httpconn.Response
}

func (c *ingestClient) post(t *testing.T, contentType, body string, retry bool) ingestAnswer {
	for {
		req, err := nethttp.NewRequest(nethttp.MethodPost, c.url, strings.NewReader(body))
		if err != nil {
			t.Error(err)
			return ingestAnswer{}
		}
		req.Header.Set("Content-Type", contentType)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := nethttp.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return ingestAnswer{}
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		a := ingestAnswer{status: resp.StatusCode}
		if err := json.Unmarshal(raw, &a.body); err != nil {
			t.Errorf("answer %d is not JSON: %q", resp.StatusCode, raw)
		}
		c.mu.Lock()
		c.statuses[a.status]++
		c.mu.Unlock()
		busy := a.status == nethttp.StatusTooManyRequests || a.status == nethttp.StatusServiceUnavailable
		if busy && resp.Header.Get("Retry-After") == "" {
			t.Errorf("answer %d without Retry-After", a.status)
		}
		if !busy || !retry {
			return a
		}
		time.Sleep(2 * time.Millisecond) // the client's back-off, not synchronisation
	}
}

// click is one event as the test sends it.
type click struct {
	user int
	url  string
	ts   time.Time
}

var ingestBase = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// tally is the expected content of the view: per window and url, the count
// and the sum of user_id.
type tally map[string]*[2]int64

func (ta tally) add(c click) {
	k := line(c.ts.Truncate(time.Second), c.url)
	if ta[k] == nil {
		ta[k] = new([2]int64)
	}
	ta[k][0]++
	ta[k][1] += int64(c.user)
}

func (ta tally) lines() []string {
	var out []string
	for k, v := range ta {
		out = append(out, k+" "+line(v[0], v[1]))
	}
	slices.Sort(out)
	return out
}

// TestSQLIngestCountsEveryAcceptedRowOnce posts thousands of events from
// several clients, some records malformed, through a queue small enough
// that clients are told to retry, and checks that a TUMBLE view ends up
// with exactly the rows answered 200, and error_rows with exactly the
// records reported bad.
func TestSQLIngestCountsEveryAcceptedRowOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var srv *testserver.Server
	hub := httpconn.NewIngest(httpconn.IngestOptions{Exists: func(name string) bool {
		o, ok := srv.Engine.Catalog().Get(name)
		return ok && o.Kind == catalog.Source && o.Connector == "http"
	}})
	srv = testserver.Start(t, connectors.NewRegistry(httpconn.Connector(hub)))
	web := httptest.NewServer(hub)
	t.Cleanup(web.Close) // after the engine stops: cleanups run last first
	conn, err := srv.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())

	execSQL(t, ctx, conn, `CREATE SOURCE clicks (user_id INT, url TEXT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)
		WITH (connector = 'http', auth.token = 'tok', max.pending.requests = '2', accept.timeout = '1ms')
		FORMAT PLAIN ENCODE JSON`)
	client := &ingestClient{url: web.URL + "/ingest/clicks", token: "tok", statuses: map[int]int{}}

	// Before any view reads the source its rows would go nowhere: 503,
	// and the row is not used later either.
	if a := client.post(t, "application/json", `{"user_id": 1, "url": "/never", "ts": "2026-03-01 12:00:00"}`, false); a.status != 503 {
		t.Fatalf("answer %d %+v before any view, want 503", a.status, a.body)
	}
	stranger := &ingestClient{url: client.url, statuses: map[int]int{}}
	if a := stranger.post(t, "application/json", `{"user_id": 1, "url": "/never", "ts": "2026-03-01 12:00:00"}`, false); a.status != 401 {
		t.Fatalf("answer %d %+v without the token, want 401", a.status, a.body)
	}

	execSQL(t, ctx, conn, `CREATE MATERIALIZED VIEW per_second AS
		SELECT window_start, url, count(*) AS n, sum(user_id) AS users
		FROM TUMBLE(clicks, ts, INTERVAL '1' SECOND) GROUP BY window_start, url`)

	var (
		mu       sync.Mutex
		want     = tally{}
		accepted int64
		rejected int64
		wg       sync.WaitGroup
	)
	const clients, requests = 6, 40
	for g := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for range requests {
				var (
					recs []string
					good []click
					bad  []int
				)
				n := 1 + rng.IntN(50)
				allBad := rng.IntN(40) == 0
				for i := range n {
					// Timestamps within 4s of each other: with a 5s
					// watermark delay no row is ever late.
					c := click{user: rng.IntN(1000), url: fmt.Sprintf("/p%d", rng.IntN(5)),
						ts: ingestBase.Add(time.Duration(rng.IntN(4000)) * time.Millisecond)}
					switch {
					case allBad || rng.IntN(20) == 0:
						bad = append(bad, i)
						recs = append(recs, []string{
							fmt.Sprintf(`{"user_id": "u%d", "url": %q}`, c.user, c.url),
							fmt.Sprintf(`{"user_id": %d, "url": %q, "ts": "not a time"}`, c.user, c.url),
							fmt.Sprintf(`{"user_id": %d, "url": %q, `, c.user, c.url),
						}[rng.IntN(3)])
					default:
						good = append(good, c)
						recs = append(recs, fmt.Sprintf(`{"user_id": %d, "url": %q, "ts": %q}`, c.user, c.url, c.ts.Format("2006-01-02 15:04:05.000")))
					}
				}
				contentType, body := "application/x-ndjson", strings.Join(recs, "\n")+"\n"
				if rng.IntN(2) == 0 && !slices.ContainsFunc(recs, func(r string) bool { return strings.HasSuffix(r, ", ") }) {
					// An array cannot hold a record cut short: its
					// brackets would no longer match.
					contentType, body = "application/json", "["+strings.Join(recs, ",")+"]"
				}
				a := client.post(t, contentType, body, true)
				wantStatus := 200
				if len(good) == 0 {
					wantStatus = 400
				}
				var got []int
				for _, e := range a.body.Errors {
					got = append(got, e.Index)
				}
				if a.status != wantStatus || a.body.Accepted != len(good) || a.body.Rejected != len(bad) || !slices.Equal(got, bad) {
					t.Errorf("answer %d %+v, want %d with %d accepted and errors at %v", a.status, a.body, wantStatus, len(good), bad)
					return
				}
				mu.Lock()
				for _, c := range good {
					want.add(c)
				}
				accepted += int64(len(good))
				rejected += int64(len(bad))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("%d rows accepted, %d records rejected; answers %v", accepted, rejected, client.statuses)
	if t.Failed() {
		return
	}

	wantLines := want.lines()
	for {
		got := query(t, ctx, conn, `SELECT window_start, url, n, users FROM per_second`)
		if slices.Equal(got, wantLines) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the view has:\n%s\nthe accepted rows make:\n%s", strings.Join(got, "\n"), strings.Join(wantLines, "\n"))
		case <-time.After(20 * time.Millisecond): // polling the view
		}
	}
	if got := showSources(t, ctx, conn, "clicks"); got["rows"] != accepted || got["error_rows"] != rejected || got["late_rows"] != 0 {
		t.Errorf("SHOW SOURCES has %v, want %d rows and %d error_rows", got, accepted, rejected)
	}

	// Without a view reading it the source answers 503 again; dropped, 404.
	execSQL(t, ctx, conn, `DROP MATERIALIZED VIEW per_second`)
	if a := client.post(t, "application/json", `{"user_id": 1, "url": "/late", "ts": 0}`, false); a.status != 503 {
		t.Errorf("answer %d %+v with no view, want 503", a.status, a.body)
	}
	execSQL(t, ctx, conn, `DROP SOURCE clicks`)
	if a := client.post(t, "application/json", `{"user_id": 1, "url": "/late", "ts": 0}`, false); a.status != 404 {
		t.Errorf("answer %d %+v for a dropped source, want 404", a.status, a.body)
	}
}

// showSources returns the counters SHOW SOURCES has for source.
func showSources(t *testing.T, ctx context.Context, conn *pgx.Conn, source string) map[string]int64 {
	t.Helper()
	rows, err := conn.Query(ctx, "SHOW SOURCES", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		vals := rows.RawValues()
		if string(vals[0]) != source {
			continue
		}
		for i, f := range rows.FieldDescriptions() {
			if n, err := strconv.ParseInt(string(vals[i]), 10, 64); err == nil {
				out[f.Name] = n
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// With a data directory, a request is answered 200 only once a checkpoint
// holds its rows: an engine that stops right after (with no checkpoint of
// its own, as a crash would) comes back with every row it answered 200.
func TestSQLIngestAnswersOnceTheRowsAreDurable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dataDir := t.TempDir()
	open := func() (*testserver.Server, *httptest.Server) {
		var srv *testserver.Server
		hub := httpconn.NewIngest(httpconn.IngestOptions{Exists: func(name string) bool {
			o, ok := srv.Engine.Catalog().Get(name)
			return ok && o.Kind == catalog.Source && o.Connector == "http"
		}})
		// Checkpoints only when asked: the requests ask.
		srv = testserver.StartWith(t, engine.Options{Connectors: connectors.NewRegistry(httpconn.Connector(hub)),
			DataDir: dataDir, CheckpointInterval: time.Hour})
		web := httptest.NewServer(hub)
		t.Cleanup(web.Close)
		return srv, web
	}
	srv, web := open()
	conn, err := srv.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	execSQL(t, ctx, conn, `CREATE SOURCE clicks (user_id INT, url TEXT) WITH (connector = 'http') FORMAT PLAIN ENCODE JSON`,
		`CREATE MATERIALIZED VIEW per_url AS SELECT url, count(*) AS n, sum(user_id) AS users FROM clicks GROUP BY url`)
	conn.Close(ctx)
	client := &ingestClient{url: web.URL + "/ingest/clicks", statuses: map[int]int{}}
	want := map[string][2]int64{}
	for i := 0; i < 20; i++ {
		url := fmt.Sprintf("/p%d", i%3)
		a := client.post(t, "application/json", fmt.Sprintf(`{"user_id": %d, "url": %q}`, i, url), true)
		if a.status != 200 {
			t.Fatalf("answer %d %+v", a.status, a.body)
		}
		w := want[url]
		want[url] = [2]int64{w[0] + 1, w[1] + int64(i)}
	}
	srv.Stop() // no last checkpoint: only what the answers waited for is kept

	srv, _ = open()
	conn, err = srv.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var wantRows []string
	for url, w := range want {
		wantRows = append(wantRows, line(url, w[0], w[1]))
	}
	sort.Strings(wantRows)
	got := query(t, ctx, conn, "SELECT url, n, users FROM per_url ORDER BY url")
	if strings.Join(got, "\n") != strings.Join(wantRows, "\n") {
		t.Errorf("after the restart the view has\n%s\nwant every row answered 200:\n%s", strings.Join(got, "\n"), strings.Join(wantRows, "\n"))
	}
}
