package kafka

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

func TestSourceStartupModes(t *testing.T) {
	const partitions = 4
	// Before opening, each partition holds 5 events stamped at 1000 s and 5
	// at 2000 s; after opening, 3 more arrive.
	tests := []struct {
		name    string
		opts    map[string]string
		brokers int
		want    func(p int) []int // the ids partition p yields, in order
	}{
		{"earliest reads everything", nil, 3,
			func(p int) []int { return ids(p, 0, 13) }},
		{"latest reads what comes after opening", map[string]string{optStartupMode: "latest"}, 1,
			func(p int) []int { return ids(p, 10, 13) }},
		{"timestamp starts at the first message at or after it",
			map[string]string{optStartupMode: "timestamp", optStartupMillis: "2000000"}, 1,
			func(p int) []int { return ids(p, 5, 13) }},
		{"the timestamp alone implies the mode", map[string]string{optStartupMillis: "1500000"}, 2,
			func(p int) []int { return ids(p, 5, 13) }},
		{"a timestamp after every message starts at the end", map[string]string{optStartupMillis: "9000000"}, 1,
			func(p int) []int { return ids(p, 10, 13) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, addr := startCluster(t, partitions, []string{"events"}, kfake.NumBrokers(tt.brokers))
			cl := kclient(t, addr)
			for p := int32(0); p < partitions; p++ {
				for i := 0; i < 10; i++ {
					id := int(p)*100 + i
					ts := time.UnixMilli(1_000_000)
					if i >= 5 {
						ts = time.UnixMilli(2_000_000)
					}
					produceRecords(t, cl, &kgo.Record{Topic: "events", Partition: p, Timestamp: ts,
						Value: fmt.Appendf(nil, `{"id":%d,"name":"e%d"}`, id, id)})
				}
			}
			s := newSource(t, sourceConfig(t, addr, "events", tt.opts))
			splits, err := s.Splits(testContext(t))
			if err != nil {
				t.Fatal(err)
			}
			if want := []connectors.Split{{ID: "0"}, {ID: "1"}, {ID: "2"}, {ID: "3"}}; !slices.Equal(splits, want) {
				t.Fatalf("splits %v, want %v", splits, want)
			}
			readers := make([]connectors.Reader, partitions)
			for p := range readers {
				readers[p] = open(t, s, int32(p), "")
				// The first batch carries the start position, at once.
				b, err := readers[p].Next(testContext(t))
				if err != nil || b.Record != nil || b.Position == "" {
					t.Fatalf("first batch: %+v, %v; want only a position", b, err)
				}
			}
			for p := int32(0); p < partitions; p++ {
				for i := 10; i < 13; i++ {
					id := int(p)*100 + i
					produce(t, cl, "events", p, fmt.Sprintf(`{"id":%d,"name":"e%d"}`, id, id))
				}
			}
			for p, r := range readers {
				want := rowsFor(tt.want(p))
				got := read(t, r, len(want))
				if !slices.Equal(got.rows, want) {
					t.Errorf("partition %d: got %v, want %v", p, got.rows, want)
				}
				if got.position != "13" { // the end: nothing more to read
					t.Errorf("partition %d: position %q, want 13", p, got.position)
				}
			}
		})
	}
}

// ids are the event ids of partition p from index i to j (excluded).
func ids(p, i, j int) []int {
	var out []int
	for k := i; k < j; k++ {
		out = append(out, p*100+k)
	}
	return out
}

func rowsFor(ids []int) []string {
	rows := make([]string, len(ids))
	for i, id := range ids {
		rows[i] = fmt.Sprintf("%d|e%d", id, id)
	}
	return rows
}

func TestSourceResumesExactlyAtItsPosition(t *testing.T) {
	_, addr := startCluster(t, 1, []string{"events"})
	cl := kclient(t, addr)
	values, rows := events(0, 50)
	produce(t, cl, "events", 0, values...)
	s := newSource(t, sourceConfig(t, addr, "events", map[string]string{optBatchSize: "7"}))

	r := open(t, s, 0, "")
	first := read(t, r, 20) // whole batches of at most 7: 20 or a few more
	if len(first.rows) < 20 || len(first.rows) > 27 {
		t.Fatalf("read %d rows in batches of 7", len(first.rows))
	}
	if first.position != connectors.Position(fmt.Sprint(len(first.rows))) {
		t.Fatalf("position %q after %d rows", first.position, len(first.rows))
	}
	r.Close()

	r2 := open(t, s, 0, first.position)
	rest := read(t, r2, 50-len(first.rows))
	if got := append(first.rows, rest.rows...); !slices.Equal(got, rows) {
		t.Errorf("got %v, want %v", got, rows)
	}
	if rest.position != "50" {
		t.Errorf("final position %q, want 50", rest.position)
	}
}

func TestSourceBadRecordsAndDeadLetters(t *testing.T) {
	_, addr := startCluster(t, 2, []string{"events", "events_bad"})
	cl := kclient(t, addr)
	produce(t, cl, "events", 1,
		`{"id":1,"name":"a"}`,
		`{"id":2,"name":`, // truncated
		`not json at all`,
		`{"id":"three"}`, // wrong type
		``,               // empty: skipped, not an error
		`{"id":5,"name":"e"}`,
	)
	produceRecords(t, cl, &kgo.Record{Topic: "events", Partition: 1, Key: []byte("k7"), Value: []byte(`[1,2]`),
		Headers: []kgo.RecordHeader{{Key: "origin", Value: []byte("test")}}})

	s := newSource(t, sourceConfig(t, addr, "events", map[string]string{optDeadLetter: "events_bad"}))
	r := open(t, s, 1, "")
	got := read(t, r, 6)
	if want := []string{"1|a", "5|e"}; !slices.Equal(got.rows, want) {
		t.Errorf("rows %v, want %v", got.rows, want)
	}
	wantErrs := []struct{ where, raw, err string }{
		{"partition 1 offset 1", `{"id":2,"name":`, ""},
		{"partition 1 offset 2", `not json at all`, ""},
		{"partition 1 offset 3", `{"id":"three"}`, `column "id"`},
		{"partition 1 offset 6", `[1,2]`, "expected a JSON object"},
	}
	if len(got.errors) != len(wantErrs) {
		t.Fatalf("bad records %v, want %d", got.errors, len(wantErrs))
	}
	for i, w := range wantErrs {
		e := got.errors[i]
		if e.Where != w.where || string(e.Raw) != w.raw || !strings.Contains(e.Err.Error(), w.err) {
			t.Errorf("bad record %d: %s %q %v; want %s %q containing %q", i, e.Where, e.Raw, e.Err, w.where, w.raw, w.err)
		}
	}
	if got.position != "7" {
		t.Errorf("position %q, want 7", got.position)
	}

	// The dead-letter topic has two partitions: order by source offset.
	dead := consumeAll(t, addr, "events_bad", len(wantErrs))
	headersOf := func(r *kgo.Record) map[string]string {
		headers := map[string]string{}
		for _, h := range r.Headers {
			headers[h.Key] = string(h.Value)
		}
		return headers
	}
	slices.SortFunc(dead, func(a, b *kgo.Record) int {
		oa, _ := strconv.Atoi(headersOf(a)[headerOffset])
		ob, _ := strconv.Atoi(headersOf(b)[headerOffset])
		return cmp.Compare(oa, ob)
	})
	for i, d := range dead {
		headers := headersOf(d)
		w := wantErrs[i]
		if string(d.Value) != w.raw || headers[headerSource] != "src" || headers[headerTopic] != "events" ||
			headers[headerPartition] != "1" || "partition 1 offset "+headers[headerOffset] != w.where ||
			headers[headerError] != got.errors[i].Err.Error() {
			t.Errorf("dead letter %d: value %q headers %v; want %q from %s", i, d.Value, headers, w.raw, w.where)
		}
	}
	if last := dead[len(dead)-1]; string(last.Key) != "k7" || last.Headers[0].Key != "origin" {
		t.Errorf("the dead letter lost the original key or headers: %q %v", last.Key, last.Headers)
	}
}

func TestSourceIncludeColumns(t *testing.T) {
	_, addr := startCluster(t, 3, []string{"events"})
	cl := kclient(t, addr)
	at := time.UnixMilli(1767323045123)
	produceRecords(t, cl,
		&kgo.Record{Topic: "events", Partition: 2, Key: []byte("k1"), Timestamp: at, Value: []byte(`{"id":1,"name":"a"}`)},
		&kgo.Record{Topic: "events", Partition: 2, Timestamp: at.Add(time.Second), Value: []byte(`{"id":2,"name":"b"}`)},
	)
	tests := []struct {
		name     string
		includes []connectors.Include
		columns  types.Schema
		want     []string
	}{
		{"every include, default types",
			[]connectors.Include{{What: "key", Column: "_rw_kafka_key"}, {What: "partition", Column: "_rw_kafka_partition"},
				{What: "offset", Column: "_rw_kafka_offset"}, {What: "timestamp", Column: "ts"}},
			types.Schema{{Name: "_rw_kafka_key", Type: types.Bytea}, {Name: "_rw_kafka_partition", Type: types.Int4},
				{Name: "_rw_kafka_offset", Type: types.Int8}, {Name: "ts", Type: types.TimestampTZ}},
			[]string{`1|a|\x6b31|2|0|2026-01-02 03:04:05.123+00`, `2|b|NULL|2|1|2026-01-02 03:04:06.123+00`}},
		{"key as text, in another order, and the topic",
			[]connectors.Include{{What: "offset", Column: "o"}, {What: "KEY", Column: "k"}, {What: "topic", Column: "t"}},
			types.Schema{{Name: "o", Type: types.Int8}, {Name: "k", Type: types.Text}, {Name: "t", Type: types.Text}},
			[]string{`1|a|0|k1|events`, `2|b|1|NULL|events`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := sourceConfig(t, addr, "events", nil)
			cfg.Schema = append(slices.Clone(eventSchema), tt.columns...)
			cfg.Includes = tt.includes
			r := open(t, newSource(t, cfg), 2, "")
			got := read(t, r, 2)
			if !slices.Equal(got.rows, tt.want) {
				t.Errorf("got %v, want %v", got.rows, tt.want)
			}
		})
	}
}

func TestSourceFindsPartitionsAddedLater(t *testing.T) {
	_, addr := startCluster(t, 2, []string{"events"})
	s := newSource(t, sourceConfig(t, addr, "events", map[string]string{optDiscovery: "250ms"}))
	if d := s.DiscoveryInterval(); d != 250*time.Millisecond {
		t.Errorf("DiscoveryInterval %v, want 250ms", d)
	}
	admin := clusterAdmin(t, addr)
	if err := admin.CreatePartitions("events", 5, nil, false); err != nil {
		t.Fatal(err)
	}
	splits, err := s.Splits(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(splits) != 5 || splits[4].ID != "4" {
		t.Fatalf("splits %v, want 5", splits)
	}
	cl := kclient(t, addr)
	values, rows := events(0, 3)
	produce(t, cl, "events", 4, values...)
	if got := read(t, open(t, s, 4, ""), 3); !slices.Equal(got.rows, rows) {
		t.Errorf("new partition: got %v, want %v", got.rows, rows)
	}
}

func clusterAdmin(t testing.TB, addr string) sarama.ClusterAdmin {
	t.Helper()
	a, err := sarama.NewClusterAdmin(strings.Split(addr, ","), sarama.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// A broker that goes away makes Next fail rather than hang; a reader opened
// at the last position once the broker is back loses and repeats nothing.
func TestSourceSurvivesBrokerRestart(t *testing.T) {
	dir, port := t.TempDir(), freePort(t)
	start := func() *kfake.Cluster {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.DataDir(dir), kfake.SeedTopics(1, "events"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	cluster := start()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	values, rows := events(0, 40)
	func() {
		cl := kclient(t, addr)
		defer cl.Close()
		produce(t, cl, "events", 0, values[:20]...)
	}()
	s := newSource(t, sourceConfig(t, addr, "events", nil))
	r := open(t, s, 0, "")
	before := read(t, r, 20)

	cluster.Close()
	ctx := testContext(t)
	for {
		b, err := r.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatal("Next hung after the broker went away")
			}
			t.Logf("Next after the broker went away: %v", err)
			break
		}
		if b.Record != nil {
			t.Fatalf("rows from a stopped broker: %v", render(b.Record))
		}
	}
	r.Close()
	if _, err := s.Open(testContext(t), connectors.Split{ID: "0"}, before.position); err == nil {
		t.Fatal("Open succeeded with the broker down")
	}

	start()
	cl := kclient(t, addr)
	produce(t, cl, "events", 0, values[20:]...)
	after := read(t, open(t, s, 0, before.position), 20)
	if got := append(before.rows, after.rows...); !slices.Equal(got, rows) {
		t.Errorf("got %v, want %v", got, rows)
	}
}

func TestSourceCommitsToConsumerGroup(t *testing.T) {
	_, addr := startCluster(t, 2, []string{"events"})
	cl := kclient(t, addr)
	values, _ := events(0, 6)
	produce(t, cl, "events", 1, values...)
	s := newSource(t, sourceConfig(t, addr, "events", map[string]string{optGroupID: "sluice-test"}))
	r := open(t, s, 1, "")
	read(t, r, 6)
	if err := r.Close(); err != nil { // commits what was read
		t.Fatal(err)
	}
	offsets, err := clusterAdmin(t, addr).ListConsumerGroupOffsets("sluice-test", map[string][]int32{"events": {1}})
	if err != nil {
		t.Fatal(err)
	}
	if b := offsets.GetBlock("events", 1); b == nil || b.Offset != 6 {
		t.Errorf("committed offset %+v, want 6", b)
	}
}

func TestSourceSkipsOffsetsDeletedByRetention(t *testing.T) {
	_, addr := startCluster(t, 1, []string{"events"})
	cl := kclient(t, addr)
	values, rows := events(0, 10)
	produce(t, cl, "events", 0, values...)
	if err := clusterAdmin(t, addr).DeleteRecords("events", map[int32]int64{0: 4}); err != nil {
		t.Fatal(err)
	}
	s := newSource(t, sourceConfig(t, addr, "events", nil))
	got := read(t, open(t, s, 0, "1"), 7)
	if !slices.Equal(got.rows, rows[4:]) {
		t.Errorf("rows %v, want %v", got.rows, rows[4:])
	}
	if len(got.errors) != 1 || got.errors[0].Where != "partition 0 offsets 1 to 3" {
		t.Errorf("errors %v, want one for offsets 1 to 3", got.errors)
	}

	if _, err := s.Open(testContext(t), connectors.Split{ID: "0"}, "11"); err == nil ||
		!strings.Contains(err.Error(), "past the partition's end") {
		t.Errorf("a position past the end: %v", err)
	}
}

func TestNewSourceErrors(t *testing.T) {
	_, addr := startCluster(t, 1, []string{"events"})
	tests := []struct {
		name     string
		topic    string
		opts     map[string]string
		format   *connectors.Format // nil: FORMAT PLAIN ENCODE JSON
		includes []connectors.Include
		extra    types.Schema
		code     string
		want     string
	}{
		{"missing topic", "nope", nil, nil, nil, nil,
			pgerror.UndefinedObject, `Kafka topic "nope" does not exist`},
		{"missing dead-letter topic", "events", map[string]string{optDeadLetter: "nope"}, nil, nil, nil,
			pgerror.UndefinedObject, `Kafka topic "nope" does not exist`},
		{"unreachable broker", "events", map[string]string{optBootstrap: fmt.Sprintf("127.0.0.1:%d", freePort(t))}, nil, nil, nil,
			pgerror.ConnectionException, "could not connect to Kafka at 127.0.0.1:"},
		{"timestamp mode without a time", "events", map[string]string{optStartupMode: "timestamp"}, nil, nil, nil,
			pgerror.InvalidParameterValue, "needs option"},
		{"a time with latest", "events", map[string]string{optStartupMode: "latest", optStartupMillis: "5"}, nil, nil, nil,
			pgerror.InvalidParameterValue, "needs scan.startup.mode = 'timestamp'"},
		{"no FORMAT", "events", nil, &connectors.Format{}, nil, nil,
			pgerror.InvalidParameterValue, "needs FORMAT PLAIN ENCODE JSON"},
		{"CSV header", "events", nil, &connectors.Format{Encode: "CSV", Options: map[string]string{"header": "true"}}, nil, nil,
			pgerror.FeatureNotSupported, "header"},
		{"FORMAT UPSERT", "events", nil, &connectors.Format{Format: "UPSERT", Encode: "JSON"}, nil, nil,
			pgerror.FeatureNotSupported, "FORMAT PLAIN and DEBEZIUM"},
		{"INCLUDE header", "events", nil, nil, []connectors.Include{{What: "header", Column: "h"}},
			types.Schema{{Name: "h", Type: types.Text}}, pgerror.FeatureNotSupported, "cannot INCLUDE header"},
		{"INCLUDE of the wrong type", "events", nil, nil, []connectors.Include{{What: "offset", Column: "o"}},
			types.Schema{{Name: "o", Type: types.Text}}, pgerror.DatatypeMismatch, "must be of type bigint"},
		{"SASL options without SASL", "events", map[string]string{optSASLUser: "u"}, nil, nil, nil,
			pgerror.InvalidParameterValue, "need properties.security.protocol"},
		{"SASL without a user", "events", map[string]string{optSecurityProtocol: "sasl_plaintext"}, nil, nil, nil,
			pgerror.InvalidParameterValue, "needs properties.sasl.username"},
		{"TLS options without TLS", "events", map[string]string{optSSLCA: "/x"}, nil, nil, nil,
			pgerror.InvalidParameterValue, "need properties.security.protocol"},
		{"missing CA file", "events", map[string]string{optSecurityProtocol: "SSL", optSSLCA: "/nonexistent/ca.pem"}, nil, nil, nil,
			pgerror.UndefinedFile, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := sourceConfig(t, addr, tt.topic, tt.opts)
			if tt.format != nil {
				cfg.Format = *tt.format
			}
			cfg.Schema = append(slices.Clone(eventSchema), tt.extra...)
			cfg.Includes = tt.includes
			_, err := NewSource(testContext(t), cfg)
			if pgerror.Code(err) != tt.code || !strings.Contains(fmt.Sprint(err), tt.want) {
				t.Fatalf("got %v (%s), want %s containing %q", err, pgerror.Code(err), tt.code, tt.want)
			}
		})
	}
}

func TestNextReturnsWhenCancelled(t *testing.T) {
	_, addr := startCluster(t, 1, []string{"events"})
	r := open(t, newSource(t, sourceConfig(t, addr, "events", nil)), 0, "")
	if _, err := r.Next(testContext(t)); err != nil { // the start position
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next with a cancelled context: %v", err)
	}
}

// A batch whose dead letters cannot be stored is not returned: the reader
// fails, and a reader opened at the last position reads it again.
func TestSourceDeadLetterFailureRereadsTheBatch(t *testing.T) {
	_, addr := startCluster(t, 1, []string{"events", "events_bad"})
	cl := kclient(t, addr)
	s := newSource(t, sourceConfig(t, addr, "events", map[string]string{optDeadLetter: "events_bad"}))
	admin := clusterAdmin(t, addr)
	if err := admin.DeleteTopic("events_bad"); err != nil {
		t.Fatal(err)
	}
	produce(t, cl, "events", 0, `{"id":1,"name":"a"}`, `bad`)
	r := open(t, s, 0, "")
	ctx := testContext(t)
	start, err := r.Next(ctx) // the start position
	if err != nil || start.Position != "0" {
		t.Fatalf("first batch %+v, %v", start, err)
	}
	for err == nil {
		var b connectors.Batch
		b, err = r.Next(ctx)
		if b.Record != nil || len(b.Errors) > 0 {
			t.Fatalf("a batch whose dead letters were not stored was returned: %+v", b)
		}
	}
	if !strings.Contains(err.Error(), "dead-letter topic events_bad") {
		t.Errorf("Next: %v", err)
	}
	if _, err := r.Next(ctx); err == nil {
		t.Error("the reader went on after a lost batch")
	}

	if err := admin.CreateTopic("events_bad", &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, false); err != nil {
		t.Fatal(err)
	}
	got := read(t, open(t, s, 0, start.Position), 2)
	if !slices.Equal(got.rows, []string{"1|a"}) || len(got.errors) != 1 {
		t.Errorf("read again: %v, %v", got.rows, got.errors)
	}
	if dead := consumeAll(t, addr, "events_bad", 1); string(dead[0].Value) != "bad" {
		t.Errorf("dead letter %q", dead[0].Value)
	}
}

// FORMAT DEBEZIUM: each message is a change event; creates, snapshot reads
// and updates set their key's row, deletes remove it (Batch.Kinds).
func TestDebeziumMessagesCarryKinds(t *testing.T) {
	_, addr := startCluster(t, 1, []string{"events"})
	cl := kclient(t, addr)
	for _, v := range []string{
		`{"op": "c", "after": {"id": 1, "name": "ann"}}`,
		`{"schema": {}, "payload": {"op": "u", "before": {"id": 1, "name": "ann"}, "after": {"id": 1, "name": "anna"}}}`,
		`{"op": "d", "before": {"id": 1}, "after": null}`,
	} {
		produce(t, cl, "events", 0, v)
	}
	cfg := sourceConfig(t, addr, "events", nil)
	cfg.Format = connectors.Format{Format: "DEBEZIUM", Encode: "JSON"}
	r := open(t, newSource(t, cfg), 0, "")
	defer r.Close()
	var rows []string
	var kinds []connectors.RowKind
	for len(rows) < 3 {
		b, err := r.Next(testContext(t))
		if err != nil {
			t.Fatal(err)
		}
		if b.Record == nil {
			continue
		}
		rows = append(rows, render(b.Record)...)
		k := b.Kinds
		if k == nil {
			k = make([]connectors.RowKind, b.Record.NumRows())
		}
		kinds = append(kinds, k...)
		b.Record.Release()
	}
	want := []connectors.RowKind{connectors.RowInsert, connectors.RowInsert, connectors.RowDelete}
	if !slices.Equal(kinds, want) {
		t.Errorf("kinds %v of rows %v, want %v", kinds, rows, want)
	}
}
