package kafka

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/types"
)

// write hands the sink one row per auction (negative: a delete of -auction)
// without committing.
func write(t testing.TB, s *Sink, auctions ...int64) {
	t.Helper()
	if len(auctions) == 0 {
		return
	}
	var rows [][]types.Datum
	kinds := make([]connectors.RowKind, len(auctions))
	for i, a := range auctions {
		if a < 0 {
			a, kinds[i] = -a, connectors.RowDelete
		}
		rows = append(rows, []types.Datum{ws, a, int64(1), 1.5, "c"})
	}
	rec := statRecord(t, memory.NewGoAllocator(), rows...)
	defer rec.Release()
	if err := s.Write(testContext(t), connectors.SinkBatch{Record: rec, Kinds: kinds}); err != nil {
		t.Fatal(err)
	}
}

// commitEpoch writes auctions as epoch and commits it.
func commitEpoch(t testing.TB, s *Sink, epoch uint64, auctions ...int64) error {
	t.Helper()
	write(t, s, auctions...)
	return s.Commit(testContext(t), epoch)
}

// upsertSink is an upsert sink keyed by auction, named out, on topic stats.
func upsertSink(t testing.TB, addr string, extra map[string]string) *Sink {
	t.Helper()
	return newSink(t, sinkConfig(t, addr, "stats", typeUpsert, []int{1}, "JSON", extra))
}

// readTopic returns every message of topic that a consumer of the isolation
// level sees, as "key@epoch" (followed by " tombstone" for a null value),
// in partition order.
func readTopic(t testing.TB, addr, topic string, partitions int32, level kgo.IsolationLevel) []string {
	t.Helper()
	var out []string
	for _, r := range readRecords(t, addr, topic, partitions, level) {
		var epoch, txnID string
		for _, h := range r.Headers {
			switch h.Key {
			case headerEpoch:
				epoch = string(h.Value)
			case headerTransactionalID:
				txnID = string(h.Value)
			}
		}
		m := string(r.Key) + "@" + epoch
		if r.Value == nil {
			m += " tombstone"
		}
		if txnID != "" && txnID != "sluice-sink-out" {
			m += " from " + txnID
		}
		out = append(out, m)
	}
	return out
}

// readRecords returns every message of topic that a consumer of the
// isolation level sees, in partition order. It first produces a marker to
// each of the topic's partitions and reads until it has seen them all, so
// that it returns everything before them; a transaction left open would
// hold a read_committed consumer back and fail the test by its timeout.
func readRecords(t testing.TB, addr, topic string, partitions int32, level kgo.IsolationLevel) []*kgo.Record {
	t.Helper()
	producer := kclient(t, addr)
	for p := int32(0); p < partitions; p++ {
		produceRecords(t, producer, &kgo.Record{Topic: topic, Partition: p, Value: []byte("end"),
			Headers: []kgo.RecordHeader{{Key: "test-end"}}})
	}
	cl := kclient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100*time.Millisecond), kgo.FetchIsolationLevel(level))
	ctx := testContext(t)
	var out []*kgo.Record
	for ends := 0; ends < int(partitions); {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read topic %s: %d of %d partitions read to the end after %d messages: %v", topic, ends, partitions, len(out), ctx.Err())
		}
		for _, e := range fs.Errors() {
			t.Fatalf("consume %s: %v", topic, e.Err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if len(r.Headers) > 0 && r.Headers[0].Key == "test-end" {
				ends++
				return
			}
			out = append(out, r)
		})
	}
	return out
}

func key(auction int64, epoch uint64) string {
	return fmt.Sprintf(`{"auction":%d}@%d`, auction, epoch)
}

func lastCommitted(t testing.TB, s *Sink) uint64 {
	t.Helper()
	e, err := s.LastCommitted(testContext(t))
	if err != nil {
		t.Fatalf("LastCommitted: %v", err)
	}
	return e
}

func TestExactlyOnceSinkCommitsEveryEpochOnce(t *testing.T) {
	_, addr := startCluster(t, 2, []string{"stats"})
	s := upsertSink(t, addr, nil)
	if got := lastCommitted(t, s); got != 0 {
		t.Fatalf("LastCommitted of an empty topic = %d, want 0", got)
	}
	for _, step := range []struct {
		epoch    uint64
		auctions []int64
	}{{1, []int64{1, 2, 3}}, {2, []int64{4, -1}}, {3, nil}, {4, []int64{5}}} {
		if err := commitEpoch(t, s, step.epoch, step.auctions...); err != nil {
			t.Fatalf("Commit(%d): %v", step.epoch, err)
		}
	}
	// Epoch 5 is written but not committed: nothing of it shows.
	write(t, s, 6)
	if got := lastCommitted(t, s); got != 4 {
		t.Errorf("LastCommitted = %d, want 4", got)
	}
	want := []string{key(1, 1), key(2, 1), key(3, 1), key(4, 2), key(1, 2) + " tombstone", key(5, 4)}
	got := readTopic(t, addr, "stats", 2, kgo.ReadCommitted())
	if !slices.Equal(sorted(got), sorted(want)) {
		t.Errorf("read_committed consumer got\n%s\nwant\n%s", strings.Join(sorted(got), "\n"), strings.Join(sorted(want), "\n"))
	}
	s.Close()

	// After a restart: the last epoch is read back from the topic, and
	// epochs at or below it change nothing, whether LastCommitted was
	// asked first or not.
	again := upsertSink(t, addr, nil)
	if err := commitEpoch(t, again, 4, 5); err != nil {
		t.Fatalf("Commit(4) again: %v", err)
	}
	if got := lastCommitted(t, again); got != 4 {
		t.Errorf("LastCommitted after a restart = %d, want 4", got)
	}
	if err := commitEpoch(t, again, 2, 4, -1); err != nil {
		t.Fatalf("Commit(2) again: %v", err)
	}
	if err := commitEpoch(t, again, 6, 6); err != nil {
		t.Fatalf("Commit(6): %v", err)
	}
	want = append(want, key(6, 6))
	got = readTopic(t, addr, "stats", 2, kgo.ReadCommitted())
	if !slices.Equal(sorted(got), sorted(want)) {
		t.Errorf("after the restart, read_committed consumer got\n%s\nwant\n%s", strings.Join(sorted(got), "\n"), strings.Join(sorted(want), "\n"))
	}
}

// A Sluice that dies after its epoch's messages are acknowledged but before
// the transaction commits leaves them in the log; its successor aborts them,
// does not count their epoch as committed and writes it again.
func TestExactlyOnceSinkCrashBeforeCommitIsInvisible(t *testing.T) {
	_, addr := startCluster(t, 1, []string{"stats"})
	crashed := upsertSink(t, addr, nil)
	if err := commitEpoch(t, crashed, 1, 1); err != nil {
		t.Fatal(err)
	}
	write(t, crashed, 2, 3)
	if err := crashed.produceTxn(testContext(t), 2, crashed.pending); err != nil {
		t.Fatal(err)
	}
	// The crashed process's transaction is still open.

	next := upsertSink(t, addr, nil)
	if got := lastCommitted(t, next); got != 1 {
		t.Errorf("LastCommitted after the crash = %d, want 1", got)
	}
	// The aborted messages are in the log, with their epoch header: only
	// read_committed hides them.
	if got, want := readTopic(t, addr, "stats", 1, kgo.ReadUncommitted()), []string{key(1, 1), key(2, 2), key(3, 2)}; !slices.Equal(got, want) {
		t.Errorf("read_uncommitted consumer got %v, want %v", got, want)
	}
	if got, want := readTopic(t, addr, "stats", 1, kgo.ReadCommitted()), []string{key(1, 1)}; !slices.Equal(got, want) {
		t.Errorf("read_committed consumer got %v, want %v", got, want)
	}

	if err := commitEpoch(t, next, 2, 2, 3); err != nil {
		t.Fatalf("Commit(2) after the crash: %v", err)
	}
	if got := lastCommitted(t, next); got != 2 {
		t.Errorf("LastCommitted = %d, want 2", got)
	}
	if got, want := readTopic(t, addr, "stats", 1, kgo.ReadCommitted()), []string{key(1, 1), key(2, 2), key(3, 2)}; !slices.Equal(got, want) {
		t.Errorf("read_committed consumer got %v, want %v", got, want)
	}
}

// A second sink of the same transactional id fences the first: the first's
// commits fail and nothing of them is seen.
func TestExactlyOnceSinkIsFencedByItsSuccessor(t *testing.T) {
	_, addr := startCluster(t, 1, []string{"stats"})
	first := upsertSink(t, addr, nil)
	if err := commitEpoch(t, first, 1, 1); err != nil {
		t.Fatal(err)
	}
	second := upsertSink(t, addr, nil)
	err := commitEpoch(t, first, 2, 2)
	if err == nil {
		t.Fatal("Commit of a fenced sink succeeded")
	}
	t.Logf("fenced Commit: %v", err)
	if err := commitEpoch(t, first, 3, 3); err == nil {
		t.Error("a second Commit of a fenced sink succeeded")
	}
	if err := commitEpoch(t, second, 2, 4); err != nil {
		t.Fatalf("Commit of the successor: %v", err)
	}
	if got, want := readTopic(t, addr, "stats", 1, kgo.ReadCommitted()), []string{key(1, 1), key(4, 2)}; !slices.Equal(got, want) {
		t.Errorf("read_committed consumer got %v, want %v", got, want)
	}
}

// An epoch that fails is aborted whole, and the sink goes on.
func TestExactlyOnceSinkAbortsAFailedEpoch(t *testing.T) {
	_, addr := startCluster(t, 1, []string{"stats"})
	s := upsertSink(t, addr, map[string]string{optMaxMessage: "1000"})
	ctx := testContext(t)

	// A message over the limit fails its epoch before a transaction
	// begins.
	rec := statRecord(t, memory.NewGoAllocator(),
		[]types.Datum{ws, int64(1), int64(1), 1.0, "small"},
		[]types.Datum{ws, int64(2), int64(1), 1.0, strings.Repeat("x", 2000)})
	defer rec.Release()
	if err := s.Write(ctx, connectors.SinkBatch{Record: rec}); err != nil {
		t.Fatal(err)
	}
	err := s.Commit(ctx, 1)
	if err == nil || !strings.Contains(err.Error(), optMaxMessage) {
		t.Fatalf("Commit of a message over %s: %v", optMaxMessage, err)
	}
	if err := commitEpoch(t, s, 2, 3); err != nil {
		t.Fatalf("Commit after a failed epoch: %v", err)
	}

	// An epoch that fails once its messages are in the log is aborted.
	write(t, s, 4)
	if err := s.produceTxn(ctx, 3, s.pending); err != nil {
		t.Fatal(err)
	}
	s.pending = nil
	if err := s.failTxn(3, errors.New("injected")); err == nil || s.broken != nil {
		t.Fatalf("failTxn: %v, broken: %v; want the error and a sink that goes on", err, s.broken)
	}
	if err := commitEpoch(t, s, 4, 5); err != nil {
		t.Fatalf("Commit after an aborted epoch: %v", err)
	}
	if got, want := readTopic(t, addr, "stats", 1, kgo.ReadUncommitted()), []string{key(3, 2), key(4, 3), key(5, 4)}; !slices.Equal(got, want) {
		t.Errorf("read_uncommitted consumer got %v, want %v", got, want)
	}
	if got, want := readTopic(t, addr, "stats", 1, kgo.ReadCommitted()), []string{key(3, 2), key(5, 4)}; !slices.Equal(got, want) {
		t.Errorf("read_committed consumer got %v, want %v", got, want)
	}
	if got := lastCommitted(t, upsertSink(t, addr, nil)); got != 4 {
		t.Errorf("LastCommitted = %d, want 4", got)
	}
}

// LastCommitted finds the sink's last epoch behind many messages of other
// writers, and only its own: another sink's epochs in the same topic do
// not count.
func TestLastCommittedLooksPastOtherWriters(t *testing.T) {
	_, addr := startCluster(t, 2, []string{"stats"})
	s := upsertSink(t, addr, nil)
	if err := commitEpoch(t, s, 7, 1, 2, 3, 4); err != nil {
		t.Fatal(err)
	}
	other := upsertSink(t, addr, map[string]string{optTransactionalID: "another"})
	if err := commitEpoch(t, other, 9, 1, 2, 3, 4); err != nil {
		t.Fatal(err)
	}
	cl := kclient(t, addr)
	var recs []*kgo.Record
	for i := 0; i < 3*tailWindow; i++ {
		recs = append(recs, &kgo.Record{Topic: "stats", Partition: int32(i % 2), Value: []byte("noise")})
	}
	produceRecords(t, cl, recs...)
	if got := lastCommitted(t, upsertSink(t, addr, nil)); got != 7 {
		t.Errorf("LastCommitted = %d, want 7", got)
	}
	if got := lastCommitted(t, other); got != 9 {
		t.Errorf("LastCommitted of the other sink = %d, want 9", got)
	}
}

// At least once, messages are written without transactions or headers, and
// the sink records no epoch.
func TestAtLeastOnceSinkWritesWithoutTransactions(t *testing.T) {
	_, addr := startCluster(t, 1, []string{"stats"})
	s := upsertSink(t, addr, map[string]string{optDelivery: "AT-LEAST-ONCE"})
	if err := commitEpoch(t, s, 1, 1, -1); err != nil {
		t.Fatal(err)
	}
	if s.producer.IsTransactional() {
		t.Error("the at-least-once producer is transactional")
	}
	if got := lastCommitted(t, s); got != 0 {
		t.Errorf("LastCommitted = %d, want 0", got)
	}
	if got, want := readTopic(t, addr, "stats", 1, kgo.ReadCommitted()), []string{`{"auction":1}@`, `{"auction":1}@ tombstone`}; !slices.Equal(got, want) {
		t.Errorf("consumer got %v, want %v", got, want)
	}
}
