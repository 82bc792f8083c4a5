// Package testserver runs a Sluice engine behind a real PostgreSQL wire
// server on a free loopback port, for tests that drive Sluice as a client
// would: through SQL over pgwire.
package testserver

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/pgwire"
)

// Server is a running engine and the address its wire server listens on.
type Server struct {
	Engine *engine.Engine
	Addr   string
	stop   func()
}

// Stop stops the wire server and closes the engine, as a clean shutdown
// does; the test's cleanup then has nothing left to do.
func (s *Server) Stop() { s.stop() }

// Connect opens a client connection to the server.
func (s *Server) Connect(ctx context.Context) (*pgx.Conn, error) {
	return pgx.Connect(ctx, "postgres://sluice@"+s.Addr+"/sluice?sslmode=disable")
}

// Start runs an in-memory engine knowing the connectors of registry; the
// test's cleanup stops it.
func Start(t testing.TB, registry *connectors.Registry) *Server {
	t.Helper()
	return StartWith(t, engine.Options{Connectors: registry})
}

// StartWith runs an engine opened with opts (a Logger and Version are
// filled in when unset); the test's cleanup stops it.
func StartWith(t testing.TB, opts engine.Options) *Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Version == "" {
		opts.Version = "test"
	}
	eng, err := engine.Open(ctx, opts)
	if err != nil {
		cancel()
		t.Fatalf("opening the engine: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		eng.Close()
		t.Fatal(err)
	}
	srv := pgwire.NewServer(eng, pgwire.Options{Logger: opts.Logger})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Error("server did not stop within 10s of cancellation")
			}
			eng.Close()
		})
	}
	t.Cleanup(stop)
	return &Server{Engine: eng, Addr: ln.Addr().String(), stop: stop}
}
