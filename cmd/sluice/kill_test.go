package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pqfile "github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/jackc/pgx/v5"

	"github.com/sluicedb/sluice/connectors/kafka"
	"github.com/sluicedb/sluice/internal/sqllogictest"
)

// killRun is a Kafka topic that keeps receiving events while a Sluice
// process reading it is killed with SIGKILL again and again at random
// moments. The broker lives in the test process, so it outlives the kills.
type killRun struct {
	t      *testing.T
	ctx    context.Context
	broker string
	msgs   []*sarama.ProducerMessage
	// The batch answer over every event.
	windows    map[windowKey]int // EOWC counts per 10 s window and key
	totals     map[int][2]int64  // count and sum per key
	closedFrom time.Time         // windows before this have certainly closed
	flags      []string          // more flags for sluice serve
	pace       time.Duration     // between two batches of events
}

type windowKey struct {
	start string
	k     int
}

const (
	killPartitions   = 3
	killPerPartition = 3000
	killRounds       = 6
	killKeys         = 8
)

// newKillRun starts the broker and generates the events: one second apart
// per partition, out of order by up to 3 s (within the 5 s watermark
// delay), so none is late.
func newKillRun(t *testing.T, ctx context.Context) *killRun {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k := &killRun{t: t, ctx: ctx, broker: ln.Addr().String(), windows: map[windowKey]int{}, totals: map[int][2]int64{},
		pace: 5 * time.Millisecond}
	ln.Close()
	stop, err := kafka.StartBroker(ctx, k.broker, killPartitions, "events", "totals_out")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	r := rand.New(rand.NewPCG(3, 4))
	base := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < killPerPartition; i++ {
		for p := int32(0); p < killPartitions; p++ {
			ts := base.Add(time.Duration(i)*time.Second - time.Duration(r.IntN(3000))*time.Millisecond)
			key, v := r.IntN(killKeys), int64(r.IntN(1000))
			k.msgs = append(k.msgs, &sarama.ProducerMessage{Topic: "events", Partition: p,
				Value: sarama.StringEncoder(fmt.Sprintf(`{"k": %d, "v": %d, "ts": "%s"}`, key, v, ts.Format("2006-01-02 15:04:05.000")))})
			c := k.totals[key]
			k.totals[key] = [2]int64{c[0] + 1, c[1] + v}
			k.windows[windowKey{ts.Truncate(10 * time.Second).Format("2006-01-02 15:04:05"), key}]++
		}
	}
	// Each partition's last event is at least killPerPartition-4 s past
	// base, so the watermark passes the windows before this.
	k.closedFrom = base.Add((killPerPartition - 20) * time.Second).Truncate(10 * time.Second)
	return k
}

const killSourceSQL = `CREATE SOURCE events (k INT, v BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)
	WITH (connector = 'kafka', topic = 'events', properties.bootstrap.server = '%s') FORMAT PLAIN ENCODE JSON`

// run creates the pipeline of statements on a child Sluice, then produces
// the events in rounds, killing the child with SIGKILL after each at a
// random moment and starting it again; it returns a connection to the last
// child, once every event is produced.
func (k *killRun) run(dataDir string, statements []string) *pgx.Conn {
	t, ctx := k.t, k.ctx
	cfg := sarama.NewConfig()
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	producer, err := sarama.NewSyncProducer([]string{k.broker}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The producer outlives this function: the test's cleanup closes it.
	t.Cleanup(func() { producer.Close() })
	// Events arrive all the time, in small batches, so that kills fall while
	// data flows through the views and into the sinks.
	produced := make(chan error, 1)
	startProducing := func() {
		go func() {
			const batch = 30
			for i := 0; i < len(k.msgs); i += batch {
				if err := producer.SendMessages(k.msgs[i:min(i+batch, len(k.msgs))]); err != nil {
					produced <- err
					return
				}
				time.Sleep(k.pace) // pacing the load, not a synchronisation
			}
			produced <- nil
		}()
	}
	flags := append([]string{"--checkpoint-interval", "50ms"}, k.flags...)
	child, addr := startChild(t, dataDir, flags...)
	conn, err := pgx.Connect(ctx, "postgres://u@"+addr+"/d?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range append([]string{fmt.Sprintf(killSourceSQL, k.broker)}, statements...) {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	conn.Close(ctx)
	startProducing()
	r := rand.New(rand.NewPCG(7, 8))
	for round := 0; round < killRounds; round++ {
		time.Sleep(time.Duration(100+r.IntN(400)) * time.Millisecond) // a random moment to kill at, not a synchronisation
		if err := child.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = child.Wait()
		child, addr = startChild(t, dataDir, flags...)
	}
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	conn, err = pgx.Connect(ctx, "postgres://u@"+addr+"/d?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// query returns the rows of sql, each as its values joined by spaces.
func query(t *testing.T, ctx context.Context, conn *pgx.Conn, sql string) []string {
	t.Helper()
	rows, err := conn.Query(ctx, sql, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var vals []string
		for _, v := range rows.RawValues() {
			vals = append(vals, string(v))
		}
		out = append(out, strings.Join(vals, " "))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// awaitAll polls until the view overall has counted every event.
func (k *killRun) awaitAll(conn *pgx.Conn) {
	for {
		got := query(k.t, k.ctx, conn, "SELECT n FROM overall")
		if len(got) == 1 {
			if n, err := strconv.Atoi(got[0]); err == nil && n >= len(k.msgs) {
				return
			}
		}
		if k.ctx.Err() != nil {
			k.t.Fatalf("overall = %v, want n = %d", got, len(k.msgs))
		}
		time.Sleep(20 * time.Millisecond) // a child process's view: poll it
	}
}

func (k *killRun) wantTotals() []string {
	var out []string
	for key := 0; key < killKeys; key++ {
		out = append(out, fmt.Sprintf("%d %d %d", key, k.totals[key][0], k.totals[key][1]))
	}
	return out
}

// wantWindows lists the windows that have certainly closed, as
// "start key n", sorted.
func (k *killRun) wantWindows() []string {
	var out []string
	for w, n := range k.windows {
		if start, _ := time.Parse("2006-01-02 15:04:05", w.start); start.Before(k.closedFrom) {
			out = append(out, fmt.Sprintf("%s %d %d", w.start, w.k, n))
		}
	}
	sort.Strings(out)
	return out
}

// awaitRows polls fetch until it returns want (sorted), failing with the
// differences once it returns as many rows or more.
func (k *killRun) awaitRows(what string, fetch func() []string, want []string) {
	for {
		got := fetch()
		sort.Strings(got)
		if strings.Join(got, "\n") == strings.Join(want, "\n") {
			return
		}
		if len(got) >= len(want) || k.ctx.Err() != nil {
			k.t.Fatalf("%s after %d kills: %d rows, want %d; first differences:\n%s", what, killRounds, len(got), len(want), firstDifferences(got, want))
		}
		time.Sleep(20 * time.Millisecond) // a child process's results: poll them
	}
}

var killViews = []string{
	`CREATE MATERIALIZED VIEW per_window AS SELECT window_start, k, count(*) AS n
	 FROM TUMBLE(events, ts, INTERVAL '10' SECOND) GROUP BY window_start, k EMIT ON WINDOW CLOSE`,
	`CREATE MATERIALIZED VIEW per_key AS SELECT k, count(*) AS n, sum(v) AS total FROM events GROUP BY k`,
	`CREATE MATERIALIZED VIEW overall AS SELECT sum(n) AS n, sum(total) AS total FROM per_key`,
}

// The recovery check, in a short form: after six kills at random
// moments while events arrive, every view equals the answer over every
// event, with nothing lost and nothing counted twice.
func TestKafkaViewsSurviveRepeatedSIGKILL(t *testing.T) {
	testViewsSurviveKills(t, 5*time.Millisecond)
}

// The same with a memory limit of one byte: every checkpoint is followed by
// an eviction of every group and view row it holds, so the kills fall on
// state that lives in Pebble and is read back on demand, and each restart
// starts without loading it.
func TestKafkaViewsWithSpilledStateSurviveRepeatedSIGKILL(t *testing.T) {
	metricsAddr := freeAddr(t) // the same for every child
	// Events arrive for longer than the kills last, so that the last child
	// too reads state back.
	testViewsSurviveKills(t, 20*time.Millisecond, "--memory-limit", "1", "--http-listen", metricsAddr)
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, counter := range []string{"sluice_state_evicted_entries_total", "sluice_state_reloaded_entries_total"} {
		m := regexp.MustCompile(`(?m)^` + counter + ` (\S+)$`).FindSubmatch(body)
		if m == nil || string(m[1]) == "0" {
			t.Errorf("the last child's %s is %q: its state should have spilled and been read back\n%s", counter, m,
				regexp.MustCompile(`(?m)^sluice_(state|checkpoint).*$`).FindAll(body, -1))
		}
	}
}

func testViewsSurviveKills(t *testing.T, pace time.Duration, flags ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	k := newKillRun(t, ctx)
	k.flags, k.pace = flags, pace
	conn := k.run(t.TempDir()+"/data", killViews)
	k.awaitAll(conn)
	if got := query(t, ctx, conn, "SELECT k, n, total FROM per_key ORDER BY k"); strings.Join(got, "; ") != strings.Join(k.wantTotals(), "; ") {
		t.Errorf("per_key after %d kills:\n got %v\nwant %v", killRounds, got, k.wantTotals())
	}
	var all [2]int64
	for _, c := range k.totals {
		all[0], all[1] = all[0]+c[0], all[1]+c[1]
	}
	if got, w := query(t, ctx, conn, "SELECT n, total FROM overall"), fmt.Sprintf("%d %d", all[0], all[1]); len(got) != 1 || got[0] != w {
		t.Errorf("overall after %d kills = %v, want %s", killRounds, got, w)
	}
	cutoff := k.closedFrom.Format("2006-01-02 15:04:05")
	k.awaitRows("per_window", func() []string {
		return query(t, ctx, conn, "SELECT window_start, k, n FROM per_window WHERE window_start < '"+cutoff+"'")
	}, k.wantWindows())
}

// The same kills with sinks: the windows into JSON files and a PostgreSQL
// table (append-only), the totals into a PostgreSQL table (upsert) and a
// Kafka topic (exactly-once, read committed). Every sink must end with
// exactly the answer: no row lost, none written twice, no partial file.
func TestKafkaSinksSurviveRepeatedSIGKILL(t *testing.T) {
	sqllogictest.RequireService(t, "PostgreSQL", "127.0.0.1:5432")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pg, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(context.Background())
	suffix := strconv.FormatInt(time.Now().UnixNano()%1_000_000_000, 10)
	windowsTable, totalsTable := "kill_windows_"+suffix, "kill_totals_"+suffix
	t.Cleanup(func() {
		for _, tbl := range []string{windowsTable, totalsTable} {
			_, _ = pg.Exec(context.Background(), "DROP TABLE IF EXISTS "+tbl)
		}
		_, _ = pg.Exec(context.Background(), "DELETE FROM sluice_sink_progress WHERE table_name IN ($1, $2)", windowsTable, totalsTable)
	})
	dir := t.TempDir()
	files, parquets := filepath.Join(dir, "windows"), filepath.Join(dir, "parquet")
	hook := newWebhook(t)
	k := newKillRun(t, ctx)
	const pgURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	statements := append(append([]string(nil), killViews...),
		`CREATE SINK windows_files FROM per_window WITH (connector = 'file', path = '`+files+`') FORMAT PLAIN ENCODE JSON`,
		`CREATE SINK windows_parquet FROM per_window WITH (connector = 'file', path = '`+parquets+`') FORMAT PLAIN ENCODE PARQUET`,
		`CREATE SINK windows_hook FROM per_window WITH (connector = 'http', url = '`+hook.url+`') FORMAT PLAIN ENCODE JSON`,
		`CREATE SINK windows_pg FROM per_window WITH (connector = 'postgres', url = '`+pgURL+`', table = '`+windowsTable+`', auto.create = 'true')`,
		`CREATE SINK totals_pg FROM per_key WITH (connector = 'postgres', url = '`+pgURL+`', table = '`+totalsTable+`',
		 type = 'upsert', primary_key = 'k', auto.create = 'true')`,
		`CREATE SINK totals_kafka FROM per_key WITH (connector = 'kafka', topic = 'totals_out',
		 properties.bootstrap.server = '`+k.broker+`', type = 'upsert', primary_key = 'k') FORMAT PLAIN ENCODE JSON`,
	)
	conn := k.run(dir+"/data", statements)
	k.awaitAll(conn)
	cutoff := k.closedFrom.Format("2006-01-02 15:04:05")

	k.awaitRows("the PostgreSQL upsert sink", func() []string {
		return query(t, ctx, pg, "SELECT k, n, total FROM "+totalsTable)
	}, k.wantTotals())
	k.awaitRows("the Kafka upsert sink", func() []string { return k.readTotalsTopic() }, k.wantTotals())
	k.awaitRows("the PostgreSQL append-only sink", func() []string {
		return query(t, ctx, pg, "SELECT window_start, k, n FROM "+windowsTable+" WHERE window_start < '"+cutoff+"'")
	}, k.wantWindows())
	k.awaitRows("the webhook receiver (batches deduplicated by sink, epoch and batch)", func() []string {
		return hook.rows(cutoff)
	}, k.wantWindows())
	if hook.failures() == 0 {
		t.Error("the webhook receiver never failed a request; the test meant it to")
	}
	k.awaitRows("the Parquet file sink", func() []string { return readParquetWindows(t, parquets, cutoff) }, k.wantWindows())
	// The same files through an independent reader: parquetjs.
	if got, ok := readParquetWithParquetjs(t, parquets, cutoff); ok {
		sort.Strings(got)
		if want := k.wantWindows(); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("parquetjs reads %d rows from the Parquet files, want %d; first differences:\n%s", len(got), len(want), firstDifferences(got, want))
		}
	}
	k.awaitRows("the file sink", func() []string {
		var rows []string
		err := filepath.WalkDir(files, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if strings.HasPrefix(d.Name(), ".") {
				return nil // a file being written, never a published one
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				var row struct {
					WindowStart string `json:"window_start"`
					K, N        int
				}
				if err := json.Unmarshal([]byte(line), &row); err != nil {
					return fmt.Errorf("%s: %q: %w", path, line, err)
				}
				if ws := strings.TrimSuffix(row.WindowStart, ".000000"); ws < cutoff {
					rows = append(rows, fmt.Sprintf("%s %d %d", ws, row.K, row.N))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}, k.wantWindows())
}

// webhook receives the http sink's batches, failing every seventh request
// with a 500, and keeps each batch once by its idempotency key.
type webhook struct {
	url     string
	mu      sync.Mutex
	calls   int
	failed  int
	batches map[string][]byte // by sink, epoch and batch
}

func newWebhook(t *testing.T) *webhook {
	h := &webhook{batches: map[string][]byte{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		h.calls++
		if h.calls%7 == 0 {
			h.failed++
			http.Error(w, "failing on purpose", http.StatusInternalServerError)
			return
		}
		key := r.Header.Get("X-Sluice-Sink") + "/" + r.Header.Get("X-Sluice-Epoch") + "/" + r.Header.Get("X-Sluice-Batch")
		if old, seen := h.batches[key]; seen && string(old) != string(body) {
			t.Errorf("batch %s delivered twice with different rows:\n%s\n%s", key, old, body)
		}
		h.batches[key] = body
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL + "/hook"
	return h
}

func (h *webhook) failures() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.failed
}

// rows returns the rows of every batch kept, of the windows before cutoff.
func (h *webhook) rows(cutoff string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for key, body := range h.batches {
		var rows []struct {
			WindowStart string `json:"window_start"`
			K, N        int
		}
		if err := json.Unmarshal(body, &rows); err != nil {
			panic(fmt.Sprintf("batch %s: %v", key, err))
		}
		for _, r := range rows {
			if ws := strings.TrimSuffix(r.WindowStart, ".000000"); ws < cutoff {
				out = append(out, fmt.Sprintf("%s %d %d", ws, r.K, r.N))
			}
		}
	}
	return out
}

// readParquetWindows reads every published Parquet file under dir with
// arrow-go's reader, as "window_start k n" rows before cutoff.
func readParquetWindows(t *testing.T, dir, cutoff string) []string {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		rdr, err := pqfile.OpenParquetFile(path, false)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer rdr.Close()
		fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.NewGoAllocator())
		if err != nil {
			return err
		}
		tbl, err := fr.ReadTable(context.Background())
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer tbl.Release()
		tr := array.NewTableReader(tbl, 1024)
		defer tr.Release()
		for tr.Next() {
			rec := tr.Record()
			starts := rec.Column(0).(*array.Timestamp)
			keys, counts := rec.Column(1).(*array.Int32), rec.Column(2).(*array.Int64)
			for i := 0; i < int(rec.NumRows()); i++ {
				ws := starts.Value(i).ToTime(arrow.Microsecond).Format("2006-01-02 15:04:05")
				if ws < cutoff {
					out = append(out, fmt.Sprintf("%s %d %d", ws, keys.Value(i), counts.Value(i)))
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readParquetWithParquetjs reads every published Parquet file under dir with
// parquetjs (testdata/clients/parquet, installed by .ci/run), an
// implementation independent of arrow-go's, as "window_start k n" rows
// before cutoff. ok is false when node or parquetjs is missing (a failure
// under SLUICE_TEST_SERVICES=required).
func readParquetWithParquetjs(t *testing.T, dir, cutoff string) (rows []string, ok bool) {
	t.Helper()
	reader, err := filepath.Abs("../../testdata/clients/parquet")
	if err != nil {
		t.Fatal(err)
	}
	_, nodeErr := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(reader, "node_modules", "@dsnp", "parquetjs"))
	if nodeErr != nil || modErr != nil {
		msg := "node and parquetjs are needed to read the Parquet files independently (cd testdata/clients/parquet && npm ci)"
		if os.Getenv("SLUICE_TEST_SERVICES") == "required" {
			t.Fatalf("%s (SLUICE_TEST_SERVICES=required)", msg)
		}
		t.Logf("skipping the independent read: %s", msg)
		return nil, false
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.parquet"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Parquet files in %s (%v)", dir, err)
	}
	out, err := exec.Command("node", append([]string{filepath.Join(reader, "read.js")}, files...)...).Output()
	if err != nil {
		t.Fatalf("parquetjs: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var row struct {
			WindowStart string `json:"window_start"`
			K           int
			N           json.Number
		}
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("parquetjs row %q: %v", line, err)
		}
		ts, err := time.Parse(time.RFC3339Nano, row.WindowStart)
		if err != nil {
			t.Fatalf("parquetjs row %q: %v", line, err)
		}
		if ws := ts.UTC().Format("2006-01-02 15:04:05"); ws < cutoff {
			rows = append(rows, fmt.Sprintf("%s %d %s", ws, row.K, row.N))
		}
	}
	return rows, true
}

// readTotalsTopic reads the totals_out topic as a read_committed consumer
// (up to an end marker appended to each partition: transaction markers take
// offsets but are never delivered) and returns each key's last row. A key
// whose count does not grow from one message to the next got an epoch twice,
// which fails the test.
func (k *killRun) readTotalsTopic() []string {
	t, ctx := k.t, k.ctx
	cfg := sarama.NewConfig()
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	client, err := sarama.NewClient([]string{k.broker}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	parts, err := client.Partitions("totals_out")
	if err != nil {
		t.Fatal(err)
	}
	marker := fmt.Sprintf("end %d", time.Now().UnixNano())
	last := map[int][2]int64{}
	for _, p := range parts {
		if _, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: "totals_out", Partition: p, Value: sarama.StringEncoder(marker)}); err != nil {
			t.Fatal(err)
		}
		pc, err := consumer.ConsumePartition("totals_out", p, sarama.OffsetOldest)
		if err != nil {
			t.Fatal(err)
		}
		for done := false; !done; {
			select {
			case m := <-pc.Messages():
				if strings.HasPrefix(string(m.Value), "end ") {
					done = string(m.Value) == marker
					continue
				}
				var row struct {
					K        int
					N, Total int64
				}
				if err := json.Unmarshal(m.Value, &row); err != nil {
					t.Fatalf("totals_out: %q: %v", m.Value, err)
				}
				if prev, seen := last[row.K]; seen && row.N <= prev[0] {
					t.Fatalf("totals_out: key %d went from n = %d to n = %d: an epoch was written twice", row.K, prev[0], row.N)
				}
				last[row.K] = [2]int64{row.N, row.Total}
			case <-ctx.Done():
				t.Fatalf("reading totals_out: %v", ctx.Err())
			}
		}
		pc.Close()
	}
	var rows []string
	for key, v := range last {
		rows = append(rows, fmt.Sprintf("%d %d %d", key, v[0], v[1]))
	}
	return rows
}

// firstDifferences lists a few rows that are in one list and not the other.
func firstDifferences(got, want []string) string {
	in := func(list []string) map[string]int {
		m := map[string]int{}
		for _, s := range list {
			m[s]++
		}
		return m
	}
	g, w := in(got), in(want)
	var out []string
	for s, n := range g {
		if w[s] != n && len(out) < 10 {
			out = append(out, fmt.Sprintf("  got %dx %s (want %d)", n, s, w[s]))
		}
	}
	for s, n := range w {
		if g[s] != n && len(out) < 20 {
			out = append(out, fmt.Sprintf("  want %dx %s (got %d)", n, s, g[s]))
		}
	}
	return strings.Join(out, "\n")
}
