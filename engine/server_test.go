package engine_test

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicedb/sluice/connectors/all"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/internal/sqllogictest"
	"github.com/sluicedb/sluice/internal/testserver"
)

// startServer runs an engine behind a real wire server on a free port and
// returns a function that opens client connections to it.
func startServer(t testing.TB) (connect func(ctx context.Context) (*pgx.Conn, error), eng *engine.Engine) {
	t.Helper()
	srv := testserver.Start(t, all.Registry())
	return srv.Connect, srv.Engine
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
