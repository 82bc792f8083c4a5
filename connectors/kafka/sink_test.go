package kafka

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

var statSchema = types.Schema{
	{Name: "window_start", Type: types.Timestamp},
	{Name: "auction", Type: types.Int8},
	{Name: "bids", Type: types.Int8},
	{Name: "avg_price", Type: types.Numeric},
	{Name: "channel", Type: types.Varchar},
}

// ws is 2026-01-02 03:04:05 in microseconds.
const ws = int64(1767323045000000)

func statRecord(t testing.TB, alloc memory.Allocator, rows ...[]types.Datum) arrow.Record {
	t.Helper()
	b := array.NewRecordBuilder(alloc, statSchema.Arrow())
	defer b.Release()
	for _, row := range rows {
		for i, d := range row {
			types.Put(b.Field(i), d, statSchema[i].Type)
		}
	}
	return b.NewRecordBatch()
}

func sinkConfig(t testing.TB, addr, topic, typ string, pk []int, encode string, extra map[string]string) connectors.SinkConfig {
	t.Helper()
	opts := map[string]string{"connector": "kafka", optTopic: topic, optBootstrap: addr}
	for k, v := range extra {
		opts[k] = v
	}
	return connectors.SinkConfig{
		Name: "out", Schema: statSchema, Type: typ, PrimaryKey: pk,
		Options: options(t, true, opts),
		Format:  connectors.Format{Format: "PLAIN", Encode: encode},
		Alloc:   memory.NewGoAllocator(),
	}
}

func newSink(t testing.TB, cfg connectors.SinkConfig) *Sink {
	t.Helper()
	s, err := NewSink(testContext(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// message renders a Kafka record as key => value, with null for a missing
// key or value.
func message(r *kgo.Record) string {
	str := func(b []byte) string {
		if b == nil {
			return "null"
		}
		return string(b)
	}
	return str(r.Key) + " => " + str(r.Value)
}

func TestSinkWritesAndReadsBack(t *testing.T) {
	rows := [][]types.Datum{
		{ws, int64(7), int64(3), 12.5, "Google"},
		{ws + 10_000_000, int64(8), int64(1), nil, `say "hi"`},
	}
	tests := []struct {
		name   string
		typ    string
		pk     []int
		encode string
		kinds  []connectors.RowKind // of the second batch, which repeats the rows
		want   []string
	}{
		{"append-only JSON without a key", typeAppendOnly, nil, "JSON", nil, []string{
			`null => {"window_start":"2026-01-02 03:04:05.000000","auction":7,"bids":3,"avg_price":12.5,"channel":"Google"}`,
			`null => {"window_start":"2026-01-02 03:04:15.000000","auction":8,"bids":1,"avg_price":null,"channel":"say \"hi\""}`,
		}},
		{"append-only CSV keyed by the primary key", typeAppendOnly, []int{1}, "CSV", nil, []string{
			`7 => 2026-01-02 03:04:05.000000,7,3,12.5,Google`,
			`8 => 2026-01-02 03:04:15.000000,8,1,,"say ""hi"""`,
		}},
		{"upsert JSON with a tombstone", typeUpsert, []int{0, 1}, "JSON",
			[]connectors.RowKind{connectors.RowDelete, connectors.RowInsert}, []string{
				`{"window_start":"2026-01-02 03:04:05.000000","auction":7} => {"window_start":"2026-01-02 03:04:05.000000","auction":7,"bids":3,"avg_price":12.5,"channel":"Google"}`,
				`{"window_start":"2026-01-02 03:04:15.000000","auction":8} => {"window_start":"2026-01-02 03:04:15.000000","auction":8,"bids":1,"avg_price":null,"channel":"say \"hi\""}`,
				`{"window_start":"2026-01-02 03:04:05.000000","auction":7} => null`,
				`{"window_start":"2026-01-02 03:04:15.000000","auction":8} => {"window_start":"2026-01-02 03:04:15.000000","auction":8,"bids":1,"avg_price":null,"channel":"say \"hi\""}`,
			}},
	}
	for _, tt := range tests {
		for _, delivery := range []string{deliveryExactlyOnce, deliveryAtLeastOnce} {
			t.Run(tt.name+" "+delivery, func(t *testing.T) {
				testSinkWritesAndReadsBack(t, rows, tt.typ, tt.pk, tt.encode, tt.kinds, tt.want, delivery)
			})
		}
	}
}

// testSinkWritesAndReadsBack writes rows as epoch 1 and, with kinds, again
// as epoch 2, and checks that a read_committed consumer reads want.
func testSinkWritesAndReadsBack(t *testing.T, rows [][]types.Datum, typ string, pk []int, encode string,
	kinds []connectors.RowKind, want []string, delivery string) {
	_, addr := startCluster(t, 1, []string{"stats"})
	s := newSink(t, sinkConfig(t, addr, "stats", typ, pk, encode, map[string]string{optDelivery: delivery}))
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	ctx := testContext(t)

	rec := statRecord(t, alloc, rows...)
	if err := s.Write(ctx, connectors.SinkBatch{Record: rec}); err != nil {
		t.Fatal(err)
	}
	rec.Release() // the sink must not need it after Write
	if err := s.Commit(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if kinds != nil {
		rec := statRecord(t, alloc, rows...)
		if err := s.Write(ctx, connectors.SinkBatch{Record: rec, Kinds: kinds}); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		if err := s.Commit(ctx, 2); err != nil {
			t.Fatal(err)
		}
	}
	got := readRecords(t, addr, "stats", 1, kgo.ReadCommitted())
	msgs := make([]string, len(got))
	for i, r := range got {
		msgs[i] = message(r)
	}
	if !slices.Equal(msgs, want) {
		t.Errorf("messages:\n%s\nwant:\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
	}
}

// What the sink writes, the source reads back as the same rows.
func TestSinkOutputReadsBackThroughTheSource(t *testing.T) {
	for _, encode := range []string{"JSON", "CSV"} {
		t.Run(encode, func(t *testing.T) {
			_, addr := startCluster(t, 1, []string{"stats"})
			s := newSink(t, sinkConfig(t, addr, "stats", typeAppendOnly, nil, encode, nil))
			alloc := memory.NewGoAllocator()
			rec := statRecord(t, alloc,
				[]types.Datum{ws, int64(7), int64(3), 12.5, "Google, Inc."},
				[]types.Datum{ws + 1, nil, int64(-1), 1e-7, ""})
			want := render(rec)
			ctx := testContext(t)
			if err := s.Write(ctx, connectors.SinkBatch{Record: rec}); err != nil {
				t.Fatal(err)
			}
			rec.Release()
			if err := s.Commit(ctx, 1); err != nil {
				t.Fatal(err)
			}
			cfg := sourceConfig(t, addr, "stats", nil)
			cfg.Schema = statSchema
			cfg.Format.Encode = encode
			got := read(t, open(t, newSource(t, cfg), 0, ""), 2)
			if !slices.Equal(got.rows, want) || len(got.errors) > 0 {
				t.Errorf("read back %v (errors %v), want %v", got.rows, got.errors, want)
			}
		})
	}
}

func TestSinkCommitReturnsDeliveryErrors(t *testing.T) {
	_, addr := startCluster(t, 1, []string{"stats"}) // no auto-creation of topics
	s := newSink(t, sinkConfig(t, addr, "missing", typeAppendOnly, nil, "JSON", nil))
	ctx := testContext(t)
	rec := statRecord(t, memory.NewGoAllocator(), []types.Datum{ws, int64(7), int64(3), 12.5, "Google"})
	defer rec.Release()
	if err := s.Write(ctx, connectors.SinkBatch{Record: rec}); err != nil {
		t.Fatal(err)
	}
	err := s.Commit(ctx, 1)
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("Commit: %v, want a delivery error for topic missing", err)
	}
	t.Logf("Commit: %v", err)
	// The error is reported once; an epoch with nothing written commits.
	if err := s.Commit(ctx, 2); err != nil {
		t.Errorf("second Commit: %v", err)
	}
}

func TestSinkMessageTooLarge(t *testing.T) {
	_, addr := startCluster(t, 1, []string{"stats"})
	s := newSink(t, sinkConfig(t, addr, "stats", typeAppendOnly, nil, "JSON", map[string]string{optMaxMessage: "1000"}))
	ctx := testContext(t)
	rec := statRecord(t, memory.NewGoAllocator(),
		[]types.Datum{ws, int64(1), int64(1), 1.0, "small"},
		[]types.Datum{ws, int64(2), int64(1), 1.0, strings.Repeat("x", 2000)})
	defer rec.Release()
	if err := s.Write(ctx, connectors.SinkBatch{Record: rec}); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, 1); err == nil {
		t.Fatal("Commit of a message over properties.message.max.bytes succeeded")
	}
}

func TestSinkAppendOnlyRefusesDeletes(t *testing.T) {
	_, addr := startCluster(t, 1, []string{"stats"})
	s := newSink(t, sinkConfig(t, addr, "stats", typeAppendOnly, nil, "JSON", nil))
	rec := statRecord(t, memory.NewGoAllocator(), []types.Datum{ws, int64(7), int64(3), 12.5, "Google"})
	defer rec.Release()
	err := s.Write(testContext(t), connectors.SinkBatch{Record: rec, Kinds: []connectors.RowKind{connectors.RowDelete}})
	if err == nil || !strings.Contains(err.Error(), "append-only sink received a delete") {
		t.Fatalf("Write of a delete: %v", err)
	}
}

func TestNewSinkErrors(t *testing.T) {
	_, addr := startCluster(t, 1, []string{"stats"})
	tests := []struct {
		name   string
		typ    string
		pk     []int
		format connectors.Format
		opts   map[string]string
		code   string
		want   string
	}{
		{"upsert without a key", typeUpsert, nil, connectors.Format{Encode: "JSON"}, nil,
			pgerror.InvalidParameterValue, "needs a primary key"},
		{"unknown type", "debezium", nil, connectors.Format{Encode: "JSON"}, nil,
			pgerror.InvalidParameterValue, "not \"debezium\""},
		{"no FORMAT", typeAppendOnly, nil, connectors.Format{}, nil,
			pgerror.InvalidParameterValue, "needs FORMAT PLAIN"},
		{"FORMAT UPSERT of an append-only sink", typeAppendOnly, nil, connectors.Format{Format: "UPSERT", Encode: "JSON"}, nil,
			pgerror.FeatureNotSupported, "FORMAT PLAIN only"},
		{"CSV header", typeAppendOnly, nil, connectors.Format{Encode: "CSV", Options: map[string]string{"header": "true"}}, nil,
			pgerror.FeatureNotSupported, "header"},
		{"negative linger", typeAppendOnly, nil, connectors.Format{Encode: "JSON"}, map[string]string{optLinger: "-1"},
			pgerror.InvalidParameterValue, "properties.linger.ms"},
		{"unreachable broker", typeAppendOnly, nil, connectors.Format{Encode: "JSON"},
			map[string]string{optBootstrap: fmt.Sprintf("127.0.0.1:%d", freePort(t))},
			pgerror.ConnectionException, "could not connect to Kafka"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := sinkConfig(t, addr, "stats", tt.typ, tt.pk, "JSON", tt.opts)
			cfg.Format = tt.format
			s, err := NewSink(testContext(t), cfg)
			if err == nil {
				s.Close()
			}
			if pgerror.Code(err) != tt.code || !strings.Contains(fmt.Sprint(err), tt.want) {
				t.Fatalf("got %v (%s), want %s containing %q", err, pgerror.Code(err), tt.code, tt.want)
			}
		})
	}
}

func TestSinkCommitWaitsForCancelledContext(t *testing.T) {
	_, addr := startCluster(t, 1, []string{"stats"})
	s := newSink(t, sinkConfig(t, addr, "stats", typeAppendOnly, nil, "JSON", map[string]string{optLinger: "1000", optBatchNum: "1000000"}))
	rec := statRecord(t, memory.NewGoAllocator(), []types.Datum{ws, int64(7), int64(3), 12.5, "Google"})
	defer rec.Release()
	if err := s.Write(testContext(t), connectors.SinkBatch{Record: rec}); err != nil {
		t.Fatal(err)
	}
	// The message lingers for a second: Commit waits, until cancelled.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.Commit(ctx, 1); err != context.DeadlineExceeded {
		t.Fatalf("Commit: %v, want the context's error", err)
	}
}

// Messages written while the broker restarts are delivered once it is back:
// Commit waits for them, and none is lost.
func TestSinkRidesOutABrokerRestart(t *testing.T) {
	dir, port := t.TempDir(), freePort(t)
	start := func() *kfake.Cluster {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.DataDir(dir), kfake.SeedTopics(2, "stats"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	cluster := start()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	s := newSink(t, sinkConfig(t, addr, "stats", typeUpsert, []int{1}, "JSON", nil))
	ctx := testContext(t)
	alloc := memory.NewGoAllocator()
	write := func(epoch uint64, auction int64) {
		rec := statRecord(t, alloc, []types.Datum{ws, auction, int64(1), 1.0, "x"})
		defer rec.Release()
		if err := s.Write(ctx, connectors.SinkBatch{Record: rec}); err != nil {
			t.Fatal(err)
		}
	}
	write(1, 1)
	if err := s.Commit(ctx, 1); err != nil {
		t.Fatal(err)
	}

	cluster.Close()
	write(2, 2)
	committed := make(chan error, 1)
	go func() { committed <- s.Commit(ctx, 2) }()
	start()
	if err := <-committed; err != nil {
		t.Fatalf("Commit across the restart: %v", err)
	}
	write(3, 3)
	if err := s.Commit(ctx, 3); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range consumeAll(t, addr, "stats", 3) {
		keys = append(keys, string(r.Key))
	}
	if want := []string{`{"auction":1}`, `{"auction":2}`, `{"auction":3}`}; !slices.Equal(sorted(keys), want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
}
