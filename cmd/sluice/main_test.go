package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestCommandLine(t *testing.T) {
	for _, c := range []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"help"}, 0, "sluice [serve] [flags]"},
		{[]string{"version"}, 0, "sluice " + version},
		{[]string{"serve", "--help"}, 0, "-pg-listen"},
		{[]string{"--help"}, 0, "-data-dir"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"serve", "--no-such-flag"}, 2, "flag provided but not defined"},
		{[]string{"serve", "--log-level", "loud"}, 2, "--log-level"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(c.args, &out, &errOut); code != c.code {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, c.code, errOut.String())
			}
			if got := out.String() + errOut.String(); !strings.Contains(got, c.contains) {
				t.Fatalf("output does not mention %q:\n%s", c.contains, got)
			}
		})
	}
}

func TestServerAnswersAndStopsOnCancel(t *testing.T) {
	pgAddr, httpAddr := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- runServer(ctx, serveConfig{pgListen: pgAddr, httpListen: httpAddr, dataDir: t.TempDir(),
			barrierInterval: 10 * time.Millisecond}, slog.New(slog.NewTextHandler(io.Discard, nil)), &out)
	}()
	var conn *pgx.Conn
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if conn, err = pgx.Connect(ctx, "postgres://u@"+pgAddr+"/d?sslmode=disable"); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond) // polling the listener: there is no event to await from outside
	}
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT 40 + 2").Scan(&n); err != nil || n != 42 {
		t.Fatalf("SELECT 40 + 2 = %d, %v", n, err)
	}
	// Prometheus metrics of the objects, read at the scrape.
	for _, sql := range []string{
		"CREATE SOURCE bids (auction BIGINT, price BIGINT) WITH (connector = 'nexmark', nexmark.table.type = 'bid', nexmark.event.rate = '0', nexmark.max.events = '500')",
		"CREATE MATERIALIZED VIEW top AS SELECT max(price) AS hi FROM bids",
		"FLUSH",
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`sluice_source_rows_total{connector="nexmark",source="bids"}`, `sluice_view_rows{view="top"} 1`,
		"sluice_checkpoints_total", "go_goroutines"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s:\n%s", want, body)
		}
	}
	// Go's profiler, for a running server.
	resp, err = http.Get("http://" + httpAddr + "/debug/pprof/heap?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "heap profile") {
		t.Errorf("/debug/pprof/heap answered %s:\n%.200s", resp.Status, body)
	}
	conn.Close(context.Background())
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("server stopped with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop within 10s of cancellation")
	}
}

func TestServerRefusesABusyAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = runServer(context.Background(), serveConfig{pgListen: ln.Addr().String(), httpListen: freeAddr(t), dataDir: t.TempDir()},
		slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--pg-listen") {
		t.Fatalf("err = %v, want one that suggests --pg-listen", err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
