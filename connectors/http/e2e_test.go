package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/connectors/datagen"
	httpconn "github.com/sluicedb/sluice/connectors/http"
	"github.com/sluicedb/sluice/internal/testserver"
)

// collector is a receiver that keeps one copy of each batch, by its
// idempotency key, as a receiver of the sink is told to; every second
// request is first answered with a 503 so that the sink retries.
type collector struct {
	mu      sync.Mutex
	n       int
	batches map[string][]map[string]any
	order   []string
}

func (c *collector) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	if c.n%2 == 0 {
		w.WriteHeader(nethttp.StatusServiceUnavailable)
		return
	}
	key := r.Header.Get(httpconn.HeaderSink) + "/" + r.Header.Get(httpconn.HeaderEpoch) + "/" + r.Header.Get(httpconn.HeaderBatch)
	var rows []map[string]any
	if err := json.Unmarshal(body, &rows); err != nil {
		w.WriteHeader(nethttp.StatusBadRequest)
		return
	}
	if _, dup := c.batches[key]; !dup {
		c.batches[key] = rows
		c.order = append(c.order, key)
	}
	w.WriteHeader(nethttp.StatusNoContent)
}

// rows returns the rows received, in arrival order.
func (c *collector) rows() []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []map[string]any
	for _, k := range c.order {
		out = append(out, c.batches[k]...)
	}
	return out
}

func start(t *testing.T) (context.Context, *pgx.Conn, *collector, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	c := &collector{batches: map[string][]map[string]any{}}
	recv := httptest.NewServer(c)
	srv := testserver.Start(t, connectors.NewRegistry(httpconn.Connector(nil), datagen.Connector()))
	t.Cleanup(recv.Close) // after the server stops: cleanups run last first
	conn, err := srv.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return ctx, conn, c, recv.URL
}

func execSQL(t *testing.T, ctx context.Context, conn *pgx.Conn, sqls ...string) {
	t.Helper()
	for _, sql := range sqls {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

func query(t *testing.T, ctx context.Context, conn *pgx.Conn, sql string) []string {
	t.Helper()
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, line(vals...))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// line prints values separated by spaces.
func line(vals ...any) string {
	s := make([]string, len(vals))
	for i, v := range vals {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, " ")
}

// await polls until render of the received rows equals want or the
// context ends.
func await(t *testing.T, ctx context.Context, want []string, render func() []string) {
	t.Helper()
	for {
		got := render()
		if strings.Join(got, "\n") == strings.Join(want, "\n") {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the receiver has:\n%s\nthe view has:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestSQLAppendOnlySinkPostsEveryRow(t *testing.T) {
	ctx, conn, c, url := start(t)
	execSQL(t, ctx, conn,
		`CREATE TABLE bids (auction BIGINT, price BIGINT, channel TEXT) APPEND ONLY`,
		`CREATE MATERIALIZED VIEW big AS SELECT auction, price, channel FROM bids WHERE price >= 10`,
		`CREATE SINK big_out AS SELECT auction, price, channel FROM bids WHERE price >= 10
		 WITH (connector = 'http', url = '`+url+`', batch.rows = '2', retry.backoff = '1ms',
		       header.Authorization = 'Bearer xyz') FORMAT PLAIN ENCODE JSON`,
		`INSERT INTO bids VALUES (1, 12, 'web'), (2, 5, 'app'), (3, 100, NULL), (4, 10, 'say "hi"'), (5, 11, 'web')`,
		`INSERT INTO bids VALUES (6, 50, 'app'), (7, 1, 'app')`,
		`FLUSH`)
	want := query(t, ctx, conn, `SELECT auction, price, coalesce(channel, '<nil>') FROM big`)
	if len(want) != 5 {
		t.Fatalf("the view has %v", want)
	}
	await(t, ctx, want, func() []string {
		var got []string
		for _, r := range c.rows() {
			ch := r["channel"]
			if ch == nil {
				ch = "<nil>"
			}
			got = append(got, line(r["auction"], r["price"], ch))
		}
		sort.Strings(got)
		return got
	})
}

func TestSQLUpsertSinkConvergesToTheView(t *testing.T) {
	ctx, conn, c, url := start(t)
	execSQL(t, ctx, conn,
		`CREATE TABLE bids (auction BIGINT, price BIGINT, channel TEXT)`,
		`CREATE MATERIALIZED VIEW per_channel AS SELECT channel, count(*) AS n, sum(price) AS total FROM bids GROUP BY channel`,
		`CREATE SINK per_channel_out FROM per_channel WITH (connector = 'http', url = '`+url+`',
		 type = 'upsert', primary_key = 'channel', retry.backoff = '1ms') FORMAT PLAIN ENCODE JSON`,
		`INSERT INTO bids VALUES (1, 12, 'web'), (2, 5, 'app'), (3, 100, 'web')`,
		`FLUSH`,
		`INSERT INTO bids VALUES (4, 7, 'app'), (5, 1, 'tv')`,
		`FLUSH`,
		`DELETE FROM bids WHERE channel = 'tv'`,
		`UPDATE bids SET price = 200 WHERE auction = 1`,
		`FLUSH`)
	want := query(t, ctx, conn, `SELECT channel, n, total::text FROM per_channel`)
	if len(want) != 2 {
		t.Fatalf("the view has %v", want)
	}
	// Applying the received changes in order gives the view's rows.
	await(t, ctx, want, func() []string {
		state := map[any]string{}
		for _, r := range c.rows() {
			switch r["op"] {
			case "insert":
				state[r["channel"]] = line(r["channel"], r["n"], r["total"])
			case "delete":
				delete(state, r["channel"])
			default:
				t.Fatalf("a row without op: %v", r)
			}
		}
		var got []string
		for _, v := range state {
			got = append(got, v)
		}
		sort.Strings(got)
		return got
	})
}
