package kafka

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/types"
)

func TestStartBroker(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	stop, err := StartBroker(testContext(t), addr, 3, "bids", "stats")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	// Its topics are there with their partitions; the sink writes one and
	// the source reads it back.
	s := newSource(t, sourceConfig(t, addr, "bids", nil))
	splits, err := s.Splits(testContext(t))
	if err != nil || len(splits) != 3 {
		t.Fatalf("splits %v, %v; want 3", splits, err)
	}
	sink := newSink(t, sinkConfig(t, addr, "stats", typeUpsert, []int{1}, "JSON", nil))
	rec := statRecord(t, memory.NewGoAllocator(), []types.Datum{ws, int64(7), int64(3), 12.5, "Google"})
	defer rec.Release()
	ctx := testContext(t)
	if err := sink.Write(ctx, connectors.SinkBatch{Record: rec}); err != nil {
		t.Fatal(err)
	}
	if err := sink.Commit(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if got := consumeAll(t, addr, "stats", 1); len(got) != 1 || string(got[0].Key) != `{"auction":7}` {
		t.Errorf("read back %v", got)
	}
	// Clients may create topics.
	cl := kclient(t, addr, kgo.AllowAutoTopicCreation())
	values, rows := events(0, 2)
	produce(t, cl, "new_topic", 2, values...)
	if got := read(t, open(t, newSource(t, sourceConfig(t, addr, "new_topic", nil)), 2, ""), 2); !slices.Equal(got.rows, rows) {
		t.Errorf("new topic: %v, want %v", got.rows, rows)
	}

	// The address is taken now.
	if stop2, err := StartBroker(testContext(t), addr, 1); err == nil {
		stop2()
		t.Error("a second broker started on the same address")
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := StartBroker(cancelled, "127.0.0.1:0", 1); err == nil {
		t.Error("StartBroker ignored a cancelled context")
	}
}
