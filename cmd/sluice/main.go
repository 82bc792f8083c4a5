package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/sluicedb/sluice/catalog"
	"github.com/sluicedb/sluice/connectors/all"
	httpconn "github.com/sluicedb/sluice/connectors/http"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/pgwire"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

const usage = `Sluice is a streaming SQL engine: continuous queries over streams, served
over the PostgreSQL wire protocol.

Usage:
  sluice [serve] [flags]   run the server (the default command)
  sluice playground        run the server with an in-process Kafka broker and live data
  sluice bench nexmark     run a Nexmark query to completion and report its throughput
  sluice nexmark produce   write Nexmark events into Kafka topics
  sluice version           print the version
  sluice help              show this help

Connect with: psql -h 127.0.0.1 -p 7432 -U sluice -d sluice
Run 'sluice serve --help' for the server's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args, stdout, stderr)
	case "playground":
		return playground(args, stdout, stderr)
	case "bench":
		return bench(args, stdout, stderr)
	case "nexmark":
		return nexmarkCommand(args, stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "sluice %s\n", version)
		return 0
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "sluice: unknown command %q\n\n%s", cmd, usage)
	return 2
}

type serveConfig struct {
	pgListen        string
	httpListen      string
	dataDir         string
	barrierInterval time.Duration
	checkpointEvery time.Duration
	memoryLimit     byteSize
	logLevel        string
}

func serve(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sluice serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg serveConfig
	fs.StringVar(&cfg.pgListen, "pg-listen", "127.0.0.1:7432", "address for PostgreSQL clients (psql, drivers, BI tools)")
	fs.StringVar(&cfg.httpListen, "http-listen", "127.0.0.1:7480", "address for HTTP: GET /healthz, GET /metrics (Prometheus), GET /debug/pprof/ (Go's profiler), and POST /ingest/<source> for the rows of sources WITH (connector = 'http')")
	fs.StringVar(&cfg.dataDir, "data-dir", "./sluice-data", "directory for Sluice's data (created if missing)")
	fs.DurationVar(&cfg.barrierInterval, "barrier-interval", 10*time.Millisecond, "how often an epoch closes: the freshness of reads")
	fs.DurationVar(&cfg.checkpointEvery, "checkpoint-interval", time.Second, "how often the state of every view and the position of every source are written to --data-dir; a restart resumes from the last checkpoint")
	fs.Var(&cfg.memoryLimit, "memory-limit", "memory the process may use, e.g. 4GiB (0: no limit): aggregation groups and view rows beyond about half of it stay in --data-dir, where a checkpoint wrote them, and are read back when needed; it is also the Go runtime's soft memory limit")
	fs.StringVar(&cfg.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: sluice serve [flags]\n\nRuns Sluice. Listens on 127.0.0.1 only unless told otherwise.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sluice serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	logger, err := newLogger(cfg.logLevel, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "sluice serve: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runServer(ctx, cfg, logger, stdout); err != nil {
		logger.Error("sluice stopped", "err", err)
		return 1
	}
	return 0
}

func runServer(ctx context.Context, cfg serveConfig, logger *slog.Logger, stdout io.Writer) error {
	if err := os.MkdirAll(cfg.dataDir, 0o755); err != nil {
		return fmt.Errorf("create data directory %s: %w (choose another with --data-dir)", cfg.dataDir, err)
	}
	pgLn, err := net.Listen("tcp", cfg.pgListen)
	if err != nil {
		return fmt.Errorf("listen for PostgreSQL clients on %s: %w (is another server running? choose another address with --pg-listen)", cfg.pgListen, err)
	}
	httpLn, err := net.Listen("tcp", cfg.httpListen)
	if err != nil {
		pgLn.Close()
		return fmt.Errorf("listen for HTTP on %s: %w (choose another address with --http-listen)", cfg.httpListen, err)
	}

	// The hub receives POST /ingest/<source> for the http sources, which
	// register with it when created. It asks the catalog whether a source
	// still exists, since a dropped source is not told; eng is set before
	// the HTTP server starts, and so before the first request.
	var eng *engine.Engine
	hub := httpconn.NewIngest(httpconn.IngestOptions{Exists: func(name string) bool {
		o, ok := eng.Catalog().Get(name)
		return ok && (o.Kind == catalog.Source || o.Kind == catalog.Table) && strings.EqualFold(o.Connector, "http")
	}})
	if cfg.memoryLimit > 0 {
		// The collector works harder as the heap nears the limit, rather
		// than letting garbage double it.
		debug.SetMemoryLimit(int64(cfg.memoryLimit))
	}
	// The engine outlives ctx (the signal) so that stopping can take a last
	// checkpoint; Shutdown below stops it.
	eng, err = engine.Open(context.WithoutCancel(ctx), engine.Options{
		Connectors:         all.Registry(all.WithIngest(hub)),
		BarrierInterval:    cfg.barrierInterval,
		Logger:             logger,
		Version:            version,
		DataDir:            cfg.dataDir,
		CheckpointInterval: cfg.checkpointEvery,
		MemoryLimit:        int64(cfg.memoryLimit),
	})
	if err != nil {
		pgLn.Close()
		httpLn.Close()
		return err
	}
	defer func() {
		// A last checkpoint: a restart resumes exactly here, and rows
		// accepted over HTTP since the previous one are kept.
		stopping, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := eng.Shutdown(stopping); err != nil {
			logger.Warn("the last checkpoint failed; a restart resumes from the one before", "err", err)
		}
	}()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", metricsHandler(eng))
	// Go's profiler, for finding where the time goes in a running server
	// (go tool pprof http://127.0.0.1:7480/debug/pprof/profile). Like the
	// rest of this listener it is on 127.0.0.1 unless --http-listen says
	// otherwise.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	// Every method, so that the hub answers a GET with its own 405.
	mux.Handle(httpconn.IngestPath, hub)
	httpSrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := httpSrv.Serve(httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("http server", "err", err)
		}
	}()
	defer func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = httpSrv.Shutdown(shutdown)
	}()

	fmt.Fprintf(stdout, "Sluice %s is ready.\n  PostgreSQL: psql -h %s -p %s -U sluice -d sluice\n  HTTP:       http://%s/healthz\n  Ingest:     POST http://%s/ingest/<source>\n  Data:       %s\nPress Ctrl-C to stop.\n",
		version, host(pgLn.Addr()), port(pgLn.Addr()), httpLn.Addr(), httpLn.Addr(), cfg.dataDir)
	srv := pgwire.NewServer(eng, pgwire.Options{Logger: logger})
	err = srv.Serve(ctx, pgLn)
	logger.Info("shutting down")
	return err
}

func host(a net.Addr) string {
	h, _, _ := net.SplitHostPort(a.String())
	return h
}

func port(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}

// newLogger logs text lines at level (debug, info, warn or error) to w.
func newLogger(level string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
