package engine_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicedb/sluice/connectors/all"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/internal/sqllogictest"
	"github.com/sluicedb/sluice/pgwire"
)

// startServer runs an engine behind a real wire server on a free port and
// returns a function that opens client connections to it.
func startServer(t testing.TB) (connect func(ctx context.Context) (*pgx.Conn, error), eng *engine.Engine) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng = engine.New(ctx, engine.Options{Connectors: all.Registry(), Logger: logger, Version: "test"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := pgwire.NewServer(eng, pgwire.Options{Logger: logger})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("server did not stop within 10s of cancellation")
		}
		eng.Close()
	})
	addr := ln.Addr().String()
	connect = func(ctx context.Context) (*pgx.Conn, error) {
		return pgx.Connect(ctx, "postgres://sluice@"+addr+"/sluice?sslmode=disable")
	}
	return connect, eng
}

// TestSQLLogic runs every testdata/sql/*.slt file through psql's path: a
// client speaking the wire protocol to a running server. Set -rewrite to
// rewrite the expected results in place (and review the diff).
func TestSQLLogic(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	pattern := filepath.Join(filepath.Dir(file), "..", "testdata", "sql", "*.slt")
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no files match %s (%v)", pattern, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			// Each file starts from an empty instance.
			connect, _ := startServer(t)
			sqllogictest.RunFile(t, f, connect, sqllogictest.Options{Rewrite: *rewrite, Engine: "sluice"})
		})
	}
}

func fieldNames(fds []pgconn.FieldDescription) string {
	names := make([]string, len(fds))
	for i, f := range fds {
		names[i] = f.Name
	}
	return strings.Join(names, " ")
}
