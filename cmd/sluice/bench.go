package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/sluicedb/sluice/connectors/all"
	"github.com/sluicedb/sluice/connectors/kafka"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/parser"
	"github.com/sluicedb/sluice/pgwire"
	"github.com/sluicedb/sluice/planner"
)

const benchUsage = `Usage: sluice bench nexmark --query qN [flags]

Runs one Nexmark query to completion in an in-memory Sluice and reports its
throughput. The query is read from <queries-dir>/<qN>.sql (a single SELECT
over the sources person, auction and bid; see testdata/nexmark in Sluice's
repository), or from the file named by --query if it ends in .sql.

The run creates the three nexmark sources, each bounded to --events events
(Person, Auction and Bid events together, 1:3:46, as the Nexmark generator
numbers them) and unpaced (nexmark.event.rate = '0': as fast as the query
reads them), with a watermark 4 seconds behind date_time as in RisingWave's
Nexmark setup. Only the sources the query reads generate anything. The query
runs as a sink into the blackhole connector: append-only when its result
only grows, upsert keyed by all its columns otherwise, so that what is
measured is the query and not the storage of its result. The run ends when
every source read has delivered all its events and an epoch has committed
after them (FLUSH).

With --source kafka the events are first written into Kafka (not timed) as
'sluice nexmark produce' does, into a broker started in-process (one
partition per topic) or the one given by --bootstrap-server, and the
sources are Kafka sources over JSON. The in-process broker serves the
reads from the same process, so its CPU counts in events/s per core.

It prints, on stdout:
  events                 the Nexmark events of the run (--events); a query over
                         bids alone reads the 46 of every 50 that are bids
  seconds                wall-clock time from the sink's creation to the end
  events/s               events / seconds
  events/s per core      events / CPU seconds of the whole process (user +
                         system, getrusage): the throughput one core would give
  freshness p50/p99      per epoch, the time from the moment its oldest event was
                         read from a source to the moment the epoch was visible
                         in every view (null with --json when no epoch had data);
                         an unpaced run measures mostly queueing under load
  checkpoints            how many were taken, and the size of the last
  spilled state          with --memory-limit: aggregation groups and view rows
                         dropped from memory once a checkpoint held them, and
                         those read back
  peak RSS               the process's maximum resident set size

With --json, one JSON object instead: query, events, seconds,
events_per_second, events_per_core_second, p50_ms, p99_ms, peak_rss_bytes,
checkpoints, checkpoint_bytes, evicted_entries and reloaded_entries. Progress goes to stderr, a line per second.

Checkpoints are on, as in sluice serve: the run keeps its state in a
temporary data directory, removed at the end (--checkpoint-interval 0 runs
without). --cores bounds the cores the process runs on; a view runs as one
dataflow per input, so one query uses about one core for its operators.

Flags:
`

// benchConfig is one run of sluice bench nexmark.
type benchConfig struct {
	query      string
	queriesDir string
	events     int64
	json       bool
	barrier    time.Duration
	progress   time.Duration
	// source is "generator" (the nexmark connector) or "kafka": the events
	// are first written into Kafka, then read from it.
	source    string
	bootstrap string // with source kafka: the broker; "" starts one in-process
	// checkpoint is the checkpoint interval; 0 runs without checkpoints
	// (and without a data directory).
	checkpoint time.Duration
	// memoryLimit bounds the run's memory; state beyond it spills.
	memoryLimit byteSize
	// cores bounds the cores the process may run on at once (GOMAXPROCS);
	// 0 leaves the Go runtime's default (every core).
	cores int
	// cpuProfile, when set, is where the run's CPU profile is written.
	cpuProfile string
	// memProfile, when set, is where a heap profile is written once the
	// events are through, with the state still held.
	memProfile string
}

// benchResult is what a run measured; its JSON form is the --json output.
type benchResult struct {
	Query               string   `json:"query"`
	Events              int64    `json:"events"`
	Seconds             float64  `json:"seconds"`
	EventsPerSecond     float64  `json:"events_per_second"`
	EventsPerCoreSecond float64  `json:"events_per_core_second"`
	P50Millis           *float64 `json:"p50_ms"`
	P99Millis           *float64 `json:"p99_ms"`
	PeakRSSBytes        int64    `json:"peak_rss_bytes"`
	Checkpoints         int64    `json:"checkpoints"`
	CheckpointBytes     int64    `json:"checkpoint_bytes"`
	EvictedEntries      int64    `json:"evicted_entries"`
	ReloadedEntries     int64    `json:"reloaded_entries"`

	rowsRead   int64
	cpuSeconds float64
}

func bench(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "nexmark" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-help" || args[0] == "-h") {
			fmt.Fprint(stdout, benchUsage)
			return 0
		}
		fmt.Fprintf(stderr, "sluice bench: the only benchmark is nexmark\n\n%s", benchUsage)
		return 2
	}
	fs := flag.NewFlagSet("sluice bench nexmark", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := benchConfig{progress: time.Second}
	fs.StringVar(&cfg.query, "query", "", "the query: q0, q1, ... (a file in --queries-dir) or a path ending in .sql")
	fs.StringVar(&cfg.queriesDir, "queries-dir", filepath.Join("testdata", "nexmark"), "where the qN.sql files are")
	fs.Int64Var(&cfg.events, "events", 1_000_000, "Nexmark events to generate (all three types together)")
	fs.BoolVar(&cfg.json, "json", false, "print one JSON object instead of text")
	fs.DurationVar(&cfg.barrier, "barrier-interval", 10*time.Millisecond, "how often an epoch closes, as for sluice serve")
	fs.StringVar(&cfg.source, "source", "generator", "where events come from: generator (the nexmark connector) or kafka")
	fs.StringVar(&cfg.bootstrap, "bootstrap-server", "", "with --source kafka: the Kafka broker to use; empty starts one in-process")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the timed part of the run to this file (go tool pprof reads it)")
	fs.StringVar(&cfg.memProfile, "memprofile", "", "write a heap profile to this file once the events are through, the view's state still held (go tool pprof reads it)")
	fs.IntVar(&cfg.cores, "cores", 0, "how many cores Sluice may run on at once (GOMAXPROCS); 0 means all of them")
	fs.Var(&cfg.memoryLimit, "memory-limit", "as for sluice serve: memory the run may use, e.g. 2GiB (0: no limit); state beyond about half of it stays in the checkpoints' data directory")
	fs.DurationVar(&cfg.checkpoint, "checkpoint-interval", time.Second, "how often to checkpoint, into a temporary data directory, as sluice serve does; 0 runs without checkpoints")
	fs.Usage = func() {
		fmt.Fprint(stderr, benchUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "sluice bench nexmark: unexpected argument %q\n", fs.Arg(0))
		return 2
	case cfg.query == "":
		fmt.Fprintf(stderr, "sluice bench nexmark: --query is required (q0, q1, ...)\n")
		return 2
	case cfg.events <= 0:
		fmt.Fprintf(stderr, "sluice bench nexmark: --events must be positive\n")
		return 2
	case cfg.memoryLimit > 0 && cfg.checkpoint <= 0:
		fmt.Fprintf(stderr, "sluice bench nexmark: --memory-limit keeps state beyond it in the checkpoints: give a positive --checkpoint-interval\n")
		return 2
	case cfg.source != "generator" && cfg.source != "kafka":
		fmt.Fprintf(stderr, "sluice bench nexmark: --source must be generator or kafka, not %q\n", cfg.source)
		return 2
	case cfg.bootstrap != "" && cfg.source != "kafka":
		fmt.Fprintf(stderr, "sluice bench nexmark: --bootstrap-server needs --source kafka\n")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := runNexmark(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "sluice bench nexmark: %v\n", err)
		return 1
	}
	if cfg.json {
		b, err := json.Marshal(res)
		if err != nil {
			fmt.Fprintf(stderr, "sluice bench nexmark: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s\n", b)
		return 0
	}
	fmt.Fprintf(stdout, "query              %s\n", res.Query)
	fmt.Fprintf(stdout, "events             %d (%d rows read from the sources)\n", res.Events, res.rowsRead)
	fmt.Fprintf(stdout, "seconds            %.3f\n", res.Seconds)
	fmt.Fprintf(stdout, "events/s           %.0f\n", res.EventsPerSecond)
	fmt.Fprintf(stdout, "events/s per core  %.0f (%.2f CPU seconds)\n", res.EventsPerCoreSecond, res.cpuSeconds)
	if res.P50Millis != nil {
		fmt.Fprintf(stdout, "freshness p50/p99  %.1f ms / %.1f ms (read from the source to visible, per epoch)\n", *res.P50Millis, *res.P99Millis)
	} else {
		fmt.Fprintf(stdout, "freshness p50/p99  no epoch made data visible\n")
	}
	fmt.Fprintf(stdout, "checkpoints        %d (the last %.1f KB)\n", res.Checkpoints, float64(res.CheckpointBytes)/1024)
	if cfg.memoryLimit > 0 {
		fmt.Fprintf(stdout, "spilled state      %d entries evicted, %d read back (--memory-limit %s)\n", res.EvictedEntries, res.ReloadedEntries, &cfg.memoryLimit)
	}
	fmt.Fprintf(stdout, "peak RSS           %.1f MB\n", float64(res.PeakRSSBytes)/(1<<20))
	return 0
}

// nexmarkTable is one of the three Nexmark event types as a source.
type nexmarkTable struct {
	name, tableType, columns string
	// first and count place the type in every 50 event ids: ids 50k+first
	// up to 50k+first+count-1 are of this type.
	first, count int64
}

var nexmarkTables = []nexmarkTable{
	{"person", "Person", "id BIGINT, name VARCHAR, email_address VARCHAR, credit_card VARCHAR, city VARCHAR, state VARCHAR, date_time TIMESTAMP, extra VARCHAR", 0, 1},
	{"auction", "Auction", "id BIGINT, item_name VARCHAR, description VARCHAR, initial_bid BIGINT, reserve BIGINT, date_time TIMESTAMP, expires TIMESTAMP, seller BIGINT, category BIGINT, extra VARCHAR", 1, 3},
	{"bid", "Bid", "auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, date_time TIMESTAMP, extra VARCHAR, p_time TIMESTAMPTZ AS PROCTIME()", 4, 46},
}

// createSQL declares the table's source, bounded to events event ids.
func (t nexmarkTable) createSQL(events int64) string {
	return fmt.Sprintf("CREATE SOURCE %s (%s, WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND) "+
		"WITH (connector = 'nexmark', nexmark.table.type = '%s', nexmark.event.rate = '0', nexmark.max.events = '%d');",
		t.name, t.columns, t.tableType, events)
}

// rows is how many of the event ids 0..events-1 are of this type.
func (t nexmarkTable) rows(events int64) int64 {
	full, rest := events/50, events%50
	return full*t.count + min(max(rest-t.first, 0), t.count)
}

// nexmarkSourcesSQL creates the three sources. A source no query reads
// generates nothing, so all three are always declared.
func nexmarkSourcesSQL(events int64) string {
	var b strings.Builder
	for _, t := range nexmarkTables {
		b.WriteString(t.createSQL(events))
		b.WriteByte('\n')
	}
	return b.String()
}

// kafkaSourcesSQL creates the three sources over the topics prefix+name.
func kafkaSourcesSQL(addr, prefix string) string {
	var b strings.Builder
	for _, t := range nexmarkTables {
		fmt.Fprintf(&b, "CREATE SOURCE %s (%s, WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND) "+
			"WITH (connector = 'kafka', topic = '%s%s', properties.bootstrap.server = '%s', scan.startup.mode = 'earliest') "+
			"FORMAT PLAIN ENCODE JSON;\n", t.name, t.columns, prefix, t.name, addr)
	}
	return b.String()
}

// fillKafka writes the run's events into Kafka, before anything is timed,
// and returns the broker's address and the topics' prefix. Without
// --bootstrap-server it starts a broker in-process (stopped by stop); on a
// broker given, the topics are new for each run so that nothing older is
// read with them.
func fillKafka(ctx context.Context, cfg benchConfig, progress io.Writer) (addr, prefix string, stop func(), err error) {
	addr, prefix, stop = cfg.bootstrap, fmt.Sprintf("sluice-bench-%d-", time.Now().UnixNano()), func() {}
	if addr == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", "", nil, fmt.Errorf("find a port for the Kafka broker: %w", err)
		}
		addr = ln.Addr().String()
		ln.Close()
		if stop, err = kafka.StartBroker(ctx, addr, 1); err != nil {
			return "", "", nil, err
		}
		prefix = "nexmark-"
	}
	fmt.Fprintf(progress, "writing %d events into Kafka at %s (not timed)\n", cfg.events, addr)
	err = produceNexmark(ctx, produceConfig{bootstrap: addr, events: cfg.events, topicPrefix: prefix, progress: cfg.progress}, progress)
	if err != nil {
		stop()
		return "", "", nil, err
	}
	return addr, prefix, stop, nil
}

// readQuery returns the query's name and its SELECT, without its comments.
func readQuery(query, dir string) (name, sql string, err error) {
	path := query
	if !strings.HasSuffix(query, ".sql") {
		path = filepath.Join(dir, query+".sql")
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("read the query: %w (run from the repository's root, or give --queries-dir)", err)
	}
	var lines []string
	for _, l := range strings.Split(string(text), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			lines = append(lines, l)
		}
	}
	sql = strings.TrimRight(strings.TrimSpace(strings.Join(lines, "\n")), ";")
	if sql == "" {
		return "", "", fmt.Errorf("%s holds no query", path)
	}
	return strings.TrimSuffix(filepath.Base(path), ".sql"), sql, nil
}

// blackholeSinkSQL is the statement that runs query into a blackhole sink:
// append-only if the query's result only grows, otherwise upsert keyed by
// every column (the blackhole keeps nothing, so the key only has to be
// accepted).
func blackholeSinkSQL(eng *engine.Engine, name, query string) (string, error) {
	stmts, err := parser.Parse("CREATE SINK s AS " + query + " WITH (connector = 'blackhole')")
	if err != nil {
		return "", fmt.Errorf("parse the query: %w", err)
	}
	cs, ok := stmts[0].(*parser.CreateSink)
	if !ok || len(stmts) != 1 {
		return "", fmt.Errorf("the query must be a single SELECT")
	}
	v, err := planner.New(eng.Catalog()).PlanView(cs.Query.GetSelectStmt(), false)
	if err != nil {
		return "", fmt.Errorf("plan the query: %w", err)
	}
	with := "connector = 'blackhole', type = 'append-only'"
	if !v.Plan.Kind().IsAppendOnly() {
		cols := make([]string, len(v.Schema))
		for i, c := range v.Schema {
			cols[i] = c.Name
		}
		with = fmt.Sprintf("connector = 'blackhole', type = 'upsert', primary_key = '%s'", strings.Join(cols, ","))
	}
	return fmt.Sprintf("CREATE SINK nexmark_%s AS %s WITH (%s)", name, query, with), nil
}

// runNexmark runs one query to completion, writing progress to progress.
func runNexmark(ctx context.Context, cfg benchConfig, progress io.Writer) (benchResult, error) {
	if cfg.cores < 0 {
		return benchResult{}, fmt.Errorf("--cores %d: give a positive number of cores, or 0 for all", cfg.cores)
	}
	if cfg.cores > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(cfg.cores))
	}
	name, query, err := readQuery(cfg.query, cfg.queriesDir)
	if err != nil {
		return benchResult{}, err
	}
	logger, err := newLogger("warn", progress)
	if err != nil {
		return benchResult{}, err
	}
	opts := engine.Options{Connectors: all.Registry(), BarrierInterval: cfg.barrier, Logger: logger, Version: version}
	if cfg.checkpoint > 0 {
		dir, err := os.MkdirTemp("", "sluice-bench-")
		if err != nil {
			return benchResult{}, fmt.Errorf("a data directory for the checkpoints: %w", err)
		}
		defer os.RemoveAll(dir)
		opts.DataDir, opts.CheckpointInterval = dir, cfg.checkpoint
	}
	if cfg.memoryLimit > 0 {
		opts.MemoryLimit = int64(cfg.memoryLimit)
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(int64(cfg.memoryLimit)))
	}
	eng, err := engine.Open(ctx, opts)
	if err != nil {
		return benchResult{}, err
	}
	defer eng.Close()
	s := eng.NewSession(pgwire.ClientInfo{User: "bench", Database: "sluice"})
	defer s.Close()
	sourcesSQL := nexmarkSourcesSQL(cfg.events)
	if cfg.source == "kafka" {
		addr, prefix, stop, err := fillKafka(ctx, cfg, progress)
		if err != nil {
			return benchResult{}, err
		}
		defer stop()
		sourcesSQL = kafkaSourcesSQL(addr, prefix)
	}
	if err := execAll(ctx, s, sourcesSQL); err != nil {
		return benchResult{}, fmt.Errorf("create the sources: %w", err)
	}
	sinkSQL, err := blackholeSinkSQL(eng, name, query)
	if err != nil {
		return benchResult{}, err
	}

	cpuStart, err := cpuTime()
	if err != nil {
		return benchResult{}, err
	}
	checkpointsBefore := eng.Checkpoints().Taken
	eng.Freshness().Reset()
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return benchResult{}, fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return benchResult{}, fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	if err := execAll(ctx, s, sinkSQL); err != nil {
		return benchResult{}, fmt.Errorf("create the sink: %w", err)
	}
	read, err := awaitSources(ctx, s, cfg, start, progress)
	if err != nil {
		return benchResult{}, err
	}
	if err := execAll(ctx, s, "FLUSH"); err != nil {
		return benchResult{}, err
	}
	wall := time.Since(start).Seconds()
	cpuEnd, err := cpuTime()
	if err != nil {
		return benchResult{}, err
	}
	if cfg.memProfile != "" {
		if err := writeHeapProfile(cfg.memProfile); err != nil {
			return benchResult{}, fmt.Errorf("--memprofile: %w", err)
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return benchResult{}, fmt.Errorf("getrusage: %w", err)
	}
	cpu := cpuEnd - cpuStart
	cps := eng.Checkpoints()
	res := benchResult{
		Query: name, Events: cfg.events, Seconds: wall,
		EventsPerSecond: float64(cfg.events) / wall,
		PeakRSSBytes:    int64(ru.Maxrss) * 1024, // Linux reports kilobytes
		Checkpoints:     cps.Taken - checkpointsBefore, CheckpointBytes: cps.LastBytes,
		rowsRead: read, cpuSeconds: cpu,
		EvictedEntries: eng.Spill().Evicted, ReloadedEntries: eng.Spill().Reloaded,
	}

	if ps, n := eng.Freshness().Percentiles(50, 99); n > 0 {
		res.P50Millis, res.P99Millis = &ps[0], &ps[1]
	}
	if cpu > 0 {
		res.EventsPerCoreSecond = float64(cfg.events) / cpu
	}
	return res, nil
}

// writeHeapProfile writes the live heap, as of a collection now, to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// execAll runs sql (one or more statements) and discards their results.
func execAll(ctx context.Context, s *engine.Session, sql string) error {
	r, err := s.Exec(ctx, sql)
	if err != nil {
		return err
	}
	r.Close()
	return nil
}

// cpuTime is the user and system CPU seconds the process has used.
func cpuTime() (float64, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds(), nil
}

// sourceReading is one row of SHOW SOURCES.
type sourceReading struct {
	rows   int64
	status string
}

// awaitSources polls SHOW SOURCES until every source that is read has
// delivered all its rows, printing progress every cfg.progress, and returns
// the rows read. SHOW SOURCES is the only view of the readers from outside
// the engine; polling it is how a client would watch a run too.
func awaitSources(ctx context.Context, s *engine.Session, cfg benchConfig, start time.Time, progress io.Writer) (int64, error) {
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	lastReport := start
	for {
		readings, err := showSources(ctx, s)
		if err != nil {
			return 0, err
		}
		var read, want int64
		done := true
		for _, t := range nexmarkTables {
			r, ok := readings[t.name]
			if !ok || strings.HasPrefix(r.status, "idle") {
				continue // no query reads it
			}
			if strings.HasPrefix(r.status, "retrying") {
				return 0, fmt.Errorf("source %s failed: %s", t.name, r.status)
			}
			read += r.rows
			want += t.rows(cfg.events)
			if r.rows < t.rows(cfg.events) {
				done = false
			}
		}
		if done && want > 0 {
			return read, nil
		}
		if now := time.Now(); now.Sub(lastReport) >= cfg.progress {
			lastReport = now
			elapsed := now.Sub(start).Seconds()
			fmt.Fprintf(progress, "%6.1fs  %d of %d rows read (%.0f rows/s)\n", elapsed, read, want, float64(read)/elapsed)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-poll.C:
		}
	}
}

// showSources reads SHOW SOURCES: each source's rows and status.
func showSources(ctx context.Context, s *engine.Session) (map[string]sourceReading, error) {
	r, err := s.Exec(ctx, "SHOW SOURCES")
	if err != nil {
		return nil, err
	}
	defer r.Close()
	cols := r.Columns()
	nameCol, rowsCol, statusCol := -1, -1, -1
	for i, c := range cols {
		switch c.Name {
		case "name":
			nameCol = i
		case "rows":
			rowsCol = i
		case "status":
			statusCol = i
		}
	}
	if nameCol < 0 || rowsCol < 0 || statusCol < 0 {
		return nil, fmt.Errorf("SHOW SOURCES lacks the columns name, rows and status")
	}
	out := map[string]sourceReading{}
	for {
		rec, err := r.Next(ctx)
		if err != nil {
			return nil, fmt.Errorf("read SHOW SOURCES: %w", err)
		}
		if rec == nil {
			return out, nil
		}
		names, ok1 := rec.Column(nameCol).(*array.String)
		rows, ok2 := rec.Column(rowsCol).(*array.Int64)
		statuses, ok3 := rec.Column(statusCol).(*array.String)
		if !ok1 || !ok2 || !ok3 {
			return nil, fmt.Errorf("SHOW SOURCES has unexpected column types")
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			out[names.Value(i)] = sourceReading{rows: rows.Value(i), status: statuses.Value(i)}
		}
	}
}
