package engine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A source of two files, one of which never gets a line: without the idle
// timeout its split would hold the watermark at its start forever and no
// window would ever close.
func TestAnIdleSplitDoesNotStallWindows(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dir := t.TempDir()
	lines := ""
	for i := 0; i < 30; i++ {
		lines += fmt.Sprintf(`{"k": %d, "ts": "2026-01-01 00:00:%02d"}`+"\n", i%3, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.jsonl"), []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b.jsonl"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	connect, _ := startServer(t)
	conn, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	exec(t, conn, fmt.Sprintf(`CREATE SOURCE ev (k INT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
		WITH (connector = 'file', path = '%s', watermark.idle.timeout = '50ms') FORMAT PLAIN ENCODE JSON`, filepath.Join(dir, "*.jsonl")))
	exec(t, conn, `CREATE MATERIALIZED VIEW per_10s AS SELECT window_start, count(*) AS n
		FROM TUMBLE(ev, ts, INTERVAL '10' SECOND) GROUP BY window_start EMIT ON WINDOW CLOSE`)
	// The watermark reaches 00:00:28 once b.jsonl is idle: two windows close.
	want := [][]string{{"2026-01-01 00:00:00", "10"}, {"2026-01-01 00:00:10", "10"}}
	for {
		got := queryText(t, ctx, conn, "SELECT * FROM per_10s ORDER BY window_start")
		if len(got) == len(want) {
			compareRows(t, "per_10s", got, want)
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("windows did not close: the view has %v; sources: %v", got, queryText(t, context.Background(), conn, "SHOW SOURCES"))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestUnknownSourceOptionIsRefused(t *testing.T) {
	connect, _ := startServer(t)
	conn, err := connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(context.Background(), `CREATE SOURCE s (x INT) WITH (connector = 'datagen', watermark.idle.timeout = 'soon')`)
	if err == nil {
		t.Fatal("a bad watermark.idle.timeout was accepted")
	}
}
