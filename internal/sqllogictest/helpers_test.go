package sqllogictest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

const (
	postgresAddr = "127.0.0.1:5432"
	postgresURL  = "postgres://postgres@" + postgresAddr + "/test?sslmode=disable"
)

// postgresConnector returns a connect function for the local PostgreSQL whose
// connections all work in a schema of their own, dropped when the test ends,
// so that tests running at the same time never see each other's tables.
func postgresConnector(t *testing.T) func(ctx context.Context) (*pgx.Conn, error) {
	t.Helper()
	RequireService(t, "PostgreSQL", postgresAddr)
	admin, err := pgx.Connect(t.Context(), postgresURL)
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	schema := fmt.Sprintf("slt_test_%016x", rand.Uint64())
	if _, err := admin.Exec(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		// t.Context is already cancelled when cleanups run.
		ctx := context.Background()
		if _, err := admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		_ = admin.Close(ctx)
	})
	return func(ctx context.Context) (*pgx.Conn, error) {
		cfg, err := pgx.ParseConfig(postgresURL)
		if err != nil {
			return nil, err
		}
		cfg.RuntimeParams["search_path"] = schema
		return pgx.ConnectConfig(ctx, cfg)
	}
}

// recordingTB stands in for a test so that the runner's own failures can be
// asserted on. Like testing.T, it ends the calling goroutine on Fatal and Skip.
type recordingTB struct {
	testing.TB
	failures []string
	fatal    bool
	skipped  string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.fatal = true
	runtime.Goexit()
}

func (r *recordingTB) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recordingTB) report() string {
	return strings.Join(r.failures, "\n---\n")
}

// recordRun runs body against a recordingTB on a goroutine of its own, since
// Fatal and Skip end that goroutine, and returns what body reported.
func recordRun(t *testing.T, body func(tb testing.TB)) *recordingTB {
	rec := &recordingTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		body(rec)
	}()
	<-done
	return rec
}

// writeFile writes content to name inside dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// unreachableConnect fails the test if called: parse errors must be reported
// before any connection is opened.
func unreachableConnect(t *testing.T) func(ctx context.Context) (*pgx.Conn, error) {
	return func(ctx context.Context) (*pgx.Conn, error) {
		t.Error("connect called for a file that does not parse")
		return nil, fmt.Errorf("no server in this test")
	}
}
