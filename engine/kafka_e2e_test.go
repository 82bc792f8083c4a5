package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/sluicedb/sluice/connectors/kafka"
)

// The acceptance check, in miniature: a 4-partition topic filled by
// an independent producer with JSON events, some malformed; a source, an
// EMIT ON WINDOW CLOSE view into an append-only Kafka sink, and an upsert
// sink; the sinks' topics, read by an independent consumer, equal the batch
// answer, and error_rows equals the malformed records.
func TestKafkaPipelineEqualsTheBatchAnswer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	stop, err := kafka.StartBroker(ctx, addr, 4, "events", "windows", "totals")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	// Events: one second apart per partition, out of order by up to 3 s
	// (within the 5 s watermark delay), so none is late.
	const perPartition = 2500
	r := rand.New(rand.NewPCG(7, 7))
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	type key struct {
		window string
		k      int
	}
	wantWindows := map[key][2]int64{} // count, sum
	wantTotals := map[int]int64{}
	var msgs []*sarama.ProducerMessage
	malformed := 0
	lastWindowEnd := base.Add(perPartition * time.Second).Truncate(10 * time.Second)
	for p := int32(0); p < 4; p++ {
		for i := 0; i < perPartition; i++ {
			if r.IntN(100) == 0 {
				msgs = append(msgs, &sarama.ProducerMessage{Topic: "events", Partition: p, Value: sarama.StringEncoder(`{"k": 1, "v": "not a number"`)})
				malformed++
				continue
			}
			ts := base.Add(time.Duration(i)*time.Second - time.Duration(r.IntN(3000))*time.Millisecond)
			k, v := r.IntN(10), int64(r.IntN(1000))
			msgs = append(msgs, &sarama.ProducerMessage{Topic: "events", Partition: p,
				Value: sarama.StringEncoder(fmt.Sprintf(`{"k": %d, "v": %d, "ts": "%s"}`, k, v, ts.Format("2006-01-02 15:04:05.000")))})
			wantTotals[k] += v
			ws := ts.Truncate(10 * time.Second)
			if !ws.Before(lastWindowEnd.Add(-10 * time.Second)) {
				continue // windows at the end may not have closed
			}
			kw := key{ws.Format("2006-01-02 15:04:05"), k}
			c := wantWindows[kw]
			wantWindows[kw] = [2]int64{c[0] + 1, c[1] + v}
		}
	}
	cfg := sarama.NewConfig()
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	producer, err := sarama.NewSyncProducer([]string{addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	if err := producer.SendMessages(msgs); err != nil {
		t.Fatal(err)
	}

	connect, _ := startServer(t)
	conn, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, sql := range []string{
		`CREATE SOURCE events (k INT, v BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)
		 WITH (connector = 'kafka', topic = 'events', properties.bootstrap.server = '` + addr + `') FORMAT PLAIN ENCODE JSON`,
		`CREATE MATERIALIZED VIEW per_window AS SELECT window_start, k, count(*) AS n, sum(v) AS total
		 FROM TUMBLE(events, ts, INTERVAL '10' SECOND) GROUP BY window_start, k EMIT ON WINDOW CLOSE`,
		`CREATE SINK windows_out FROM per_window WITH (connector = 'kafka', topic = 'windows',
		 properties.bootstrap.server = '` + addr + `', type = 'append-only') FORMAT PLAIN ENCODE JSON`,
		`CREATE MATERIALIZED VIEW per_key AS SELECT k, sum(v) AS total FROM events GROUP BY k`,
		`CREATE SINK totals_out FROM per_key WITH (connector = 'kafka', topic = 'totals',
		 properties.bootstrap.server = '` + addr + `', type = 'upsert', primary_key = 'k') FORMAT PLAIN ENCODE JSON`,
	} {
		exec(t, conn, sql)
	}
	waitForSource(t, ctx, conn, "events", int64(4*perPartition-malformed))
	exec(t, conn, "FLUSH")
	if got := sourceCounter(t, ctx, conn, "events", "backlog"); got != 0 {
		t.Errorf("backlog = %d once every message is read, want 0", got)
	}
	if got := sourceCounter(t, ctx, conn, "events", "error_rows"); got != int64(malformed) {
		t.Errorf("error_rows = %d, want the %d malformed records", got, malformed)
	}

	// Read the sinks' topics with an independent consumer, as a consumer of
	// an exactly-once sink must: read_committed. Transaction markers take
	// offsets but are never delivered, so each read first appends an end
	// marker to every partition and reads up to it.
	ccfg := sarama.NewConfig()
	ccfg.Consumer.IsolationLevel = sarama.ReadCommitted
	consumer, err := sarama.NewConsumer([]string{addr}, ccfg)
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	reads := 0
	readTopic := func(topic string, atLeast int) []*sarama.ConsumerMessage {
		t.Helper()
		parts, err := consumer.Partitions(topic)
		if err != nil {
			t.Fatal(err)
		}
		reads++
		marker := fmt.Sprintf("end of read %d", reads)
		for _, p := range parts {
			if _, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: topic, Partition: p, Value: sarama.StringEncoder(marker)}); err != nil {
				t.Fatal(err)
			}
		}
		var out []*sarama.ConsumerMessage
		for _, p := range parts {
			pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
			if err != nil {
				t.Fatal(err)
			}
			for done := false; !done; {
				select {
				case m := <-pc.Messages():
					switch {
					case string(m.Value) == marker:
						done = true
					case strings.HasPrefix(string(m.Value), "end of read "):
					default:
						out = append(out, m)
					}
				case <-ctx.Done():
					t.Fatalf("reading %s partition %d: %v", topic, p, ctx.Err())
				}
			}
			pc.Close()
		}
		return out
	}
	var got map[key][2]int64
	for {
		msgs := readTopic("windows", len(wantWindows))
		got = map[key][2]int64{}
		for _, m := range msgs {
			var row struct {
				WindowStart string `json:"window_start"`
				K           int    `json:"k"`
				N           int64  `json:"n"`
				Total       int64  `json:"total"`
			}
			if err := json.Unmarshal(m.Value, &row); err != nil {
				t.Fatalf("windows message %s: %v", m.Value, err)
			}
			kw := key{strings.TrimSuffix(row.WindowStart, ".000000"), row.K}
			if _, dup := got[kw]; dup {
				t.Fatalf("window %v written twice", kw)
			}
			got[kw] = [2]int64{row.N, row.Total}
		}
		complete := true
		for kw := range wantWindows {
			if _, ok := got[kw]; !ok {
				complete = false
			}
		}
		if complete {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the windows topic has %d of %d expected windows", len(got), len(wantWindows))
		case <-time.After(50 * time.Millisecond):
		}
	}
	for kw, want := range wantWindows {
		if got[kw] != want {
			t.Errorf("window %v: sink has %v, batch answer %v", kw, got[kw], want)
		}
	}
	// The upsert topic, compacted by key (the last message wins), equals
	// the per-key totals.
	latest := map[string]string{}
	for _, m := range readTopic("totals", 0) {
		latest[string(m.Key)] = string(m.Value)
	}
	var gotTotals, wantLines []string
	for k, v := range latest {
		gotTotals = append(gotTotals, k+"="+v)
	}
	for k, total := range wantTotals {
		wantLines = append(wantLines, fmt.Sprintf(`{"k":%d}={"k":%d,"total":%d}`, k, k, total))
	}
	sort.Strings(gotTotals)
	sort.Strings(wantLines)
	if strings.Join(gotTotals, "\n") != strings.Join(wantLines, "\n") {
		t.Errorf("upsert topic:\n%s\nwant:\n%s", strings.Join(gotTotals, "\n"), strings.Join(wantLines, "\n"))
	}
}
