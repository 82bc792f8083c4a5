package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/jackc/pgx/v5"

	"github.com/sluicedb/sluice/connectors/kafka"
)

// The recovery check, in a short form: a Kafka topic that keeps
// receiving events while a Sluice process reading it is killed with SIGKILL
// again and again at random moments; after the last restart every view equals
// the answer computed here over every event, with nothing lost and nothing
// counted twice. The broker lives in the test process, so it outlives the
// kills.
func TestKafkaViewsSurviveRepeatedSIGKILL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	broker := ln.Addr().String()
	ln.Close()
	stop, err := kafka.StartBroker(ctx, broker, 3, "events")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	// Events one second apart per partition, out of order by up to 3 s
	// (within the 5 s watermark delay), so none is late.
	const partitions, perPartition, rounds = 3, 3000, 6
	r := rand.New(rand.NewPCG(3, 4))
	base := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var msgs []*sarama.ProducerMessage
	type windowKey struct {
		start string
		k     int
	}
	windows := map[windowKey]int{}
	totals := map[int][2]int64{} // count, sum
	for i := 0; i < perPartition; i++ {
		for p := int32(0); p < partitions; p++ {
			ts := base.Add(time.Duration(i)*time.Second - time.Duration(r.IntN(3000))*time.Millisecond)
			k, v := r.IntN(8), int64(r.IntN(1000))
			msgs = append(msgs, &sarama.ProducerMessage{Topic: "events", Partition: p,
				Value: sarama.StringEncoder(fmt.Sprintf(`{"k": %d, "v": %d, "ts": "%s"}`, k, v, ts.Format("2006-01-02 15:04:05.000")))})
			c := totals[k]
			totals[k] = [2]int64{c[0] + 1, c[1] + v}
			windows[windowKey{ts.Truncate(10 * time.Second).Format("2006-01-02 15:04:05"), k}]++
		}
	}
	// Windows that close for certain: each partition's last event is at
	// least perPartition-4 s past base, so the watermark passes these.
	closedBefore := base.Add((perPartition - 20) * time.Second).Truncate(10 * time.Second)

	cfg := sarama.NewConfig()
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	producer, err := sarama.NewSyncProducer([]string{broker}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	produced := 0
	produce := func(n int) {
		t.Helper()
		end := min(produced+n, len(msgs))
		if err := producer.SendMessages(msgs[produced:end]); err != nil {
			t.Fatal(err)
		}
		produced = end
	}

	dataDir := t.TempDir() + "/data"
	flags := []string{"--checkpoint-interval", "50ms"}
	child, addr := startChild(t, dataDir, flags...)
	conn, err := pgx.Connect(ctx, "postgres://u@"+addr+"/d?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		`CREATE SOURCE events (k INT, v BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)
		 WITH (connector = 'kafka', topic = 'events', properties.bootstrap.server = '` + broker + `') FORMAT PLAIN ENCODE JSON`,
		`CREATE MATERIALIZED VIEW per_window AS SELECT window_start, k, count(*) AS n
		 FROM TUMBLE(events, ts, INTERVAL '10' SECOND) GROUP BY window_start, k EMIT ON WINDOW CLOSE`,
		`CREATE MATERIALIZED VIEW per_key AS SELECT k, count(*) AS n, sum(v) AS total FROM events GROUP BY k`,
		`CREATE MATERIALIZED VIEW overall AS SELECT sum(n) AS n, sum(total) AS total FROM per_key`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	conn.Close(ctx)

	// Kill it while events keep arriving; each round produces a share of
	// them, lets the process run a random while, and kills it.
	for round := 0; round < rounds; round++ {
		produce(len(msgs) / rounds)
		time.Sleep(time.Duration(100+r.IntN(400)) * time.Millisecond) // a random moment to kill at, not a synchronisation
		if err := child.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = child.Wait()
		child, addr = startChild(t, dataDir, flags...)
	}
	produce(len(msgs))

	conn, err = pgx.Connect(ctx, "postgres://u@"+addr+"/d?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	query := func(sql string) []string {
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
	// Once the last event is counted, the views are complete: a view never
	// counts more than it was given unless it counts something twice, which
	// the comparison below reports.
	for {
		got := query("SELECT n FROM overall")
		if len(got) == 1 {
			if n, err := strconv.Atoi(got[0]); err == nil && n >= len(msgs) {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("overall = %v, want n = %d", got, len(msgs))
		}
		time.Sleep(20 * time.Millisecond) // a child process's view: poll it
	}
	var wantTotals []string
	var all [2]int64
	for k := 0; k < 8; k++ {
		wantTotals = append(wantTotals, fmt.Sprintf("%d %d %d", k, totals[k][0], totals[k][1]))
		all[0] += totals[k][0]
		all[1] += totals[k][1]
	}
	if got := query("SELECT k, n, total FROM per_key ORDER BY k"); strings.Join(got, "; ") != strings.Join(wantTotals, "; ") {
		t.Errorf("per_key after %d kills:\n got %v\nwant %v", rounds, got, wantTotals)
	}
	if got, w := query("SELECT n, total FROM overall"), fmt.Sprintf("%d %d", all[0], all[1]); len(got) != 1 || got[0] != w {
		t.Errorf("overall after %d kills = %v, want %s", rounds, got, w)
	}
	var wantWindows []string
	for w, n := range windows {
		if start, _ := time.Parse("2006-01-02 15:04:05", w.start); start.Before(closedBefore) {
			wantWindows = append(wantWindows, fmt.Sprintf("%s %d %d", w.start, w.k, n))
		}
	}
	sort.Strings(wantWindows)
	for {
		got := query("SELECT window_start, k, n FROM per_window WHERE window_start < '" + closedBefore.Format("2006-01-02 15:04:05") + "' ORDER BY 1, 2")
		sort.Strings(got)
		if strings.Join(got, "\n") == strings.Join(wantWindows, "\n") {
			break
		}
		if len(got) >= len(wantWindows) || ctx.Err() != nil {
			t.Fatalf("per_window after %d kills: %d rows, want %d; first differences:\n%s", rounds, len(got), len(wantWindows), firstDifferences(got, wantWindows))
		}
		time.Sleep(20 * time.Millisecond) // windows close as the watermark moves: poll
	}
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
