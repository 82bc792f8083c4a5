package kafka

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/types"
)

var bidSchema = types.Schema{
	{Name: "auction", Type: types.Int8},
	{Name: "bidder", Type: types.Int8},
	{Name: "price", Type: types.Int8},
	{Name: "channel", Type: types.Varchar},
	{Name: "url", Type: types.Varchar},
	{Name: "date_time", Type: types.Timestamp},
	{Name: "extra", Type: types.Varchar},
}

// bid is a Nexmark bid as JSON, about 250 bytes.
func bid(i int) []byte {
	return fmt.Appendf(nil, `{"auction":%d,"bidder":%d,"price":%d,"channel":"Google",`+
		`"url":"https://www.nexmark.com/xzct/bv_c/wbmf/item.htm?query=1&channel_id=1275068416",`+
		`"date_time":"2015-07-15 00:00:%02d.123","extra":"xthzfkqhgsnhnkrnjpdmvmkufsrrdcdyouqsnwhwtq"}`,
		1000+i%1000, 2000+i%5000, 100+i, i%60)
}

// BenchmarkKafkaSourceJSON measures rows per second from an in-process
// broker through the source's readers, one per partition of four, to
// decoded Arrow batches. The messages are produced before the timer starts.
func BenchmarkKafkaSourceJSON(b *testing.B) {
	const partitions = 4
	_, addr := startCluster(b, partitions, []string{"bids"})
	cl := kclient(b, addr, kgo.ProducerLinger(5*time.Millisecond), kgo.ProducerBatchMaxBytes(1<<20))
	var perr error
	var mu sync.Mutex
	for i := 0; i < b.N; i++ {
		cl.Produce(context.Background(), &kgo.Record{Topic: "bids", Partition: int32(i % partitions), Value: bid(i)},
			func(_ *kgo.Record, err error) {
				if err != nil {
					mu.Lock()
					perr = err
					mu.Unlock()
				}
			})
	}
	if err := cl.Flush(testContext(b)); err != nil || perr != nil {
		b.Fatal(err, perr)
	}
	cfg := sourceConfig(b, addr, "bids", nil)
	cfg.Schema = bidSchema
	cfg.Alloc = memory.NewGoAllocator()
	s := newSource(b, cfg)

	b.SetBytes(int64(len(bid(0))))
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, partitions)
	for p := 0; p < partitions; p++ {
		want := b.N / partitions
		if p < b.N%partitions {
			want++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := testContext(b)
			r, err := s.Open(ctx, connectors.Split{ID: fmt.Sprint(p)}, "")
			if err != nil {
				errs <- err
				return
			}
			defer r.Close()
			for n := 0; n < want; {
				batch, err := r.Next(ctx)
				if err != nil {
					errs <- err
					return
				}
				if len(batch.Errors) > 0 {
					errs <- batch.Errors[0].Err
					return
				}
				if batch.Record != nil {
					n += int(batch.Record.NumRows())
					batch.Record.Release()
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "rows/s")
}

// BenchmarkKafkaSinkJSON measures rows per second from Arrow batches of
// 1024 rows through the sink's encoder and producer until acknowledged.
func BenchmarkKafkaSinkJSON(b *testing.B) {
	_, addr := startCluster(b, 4, []string{"bids"})
	cfg := sinkConfig(b, addr, "bids", typeAppendOnly, nil, "JSON", nil)
	cfg.Schema = bidSchema
	s := newSink(b, cfg)
	bb := array.NewRecordBuilder(memory.NewGoAllocator(), bidSchema.Arrow())
	for i := 0; i < 1024; i++ {
		row := []types.Datum{int64(1000 + i), int64(2000 + i), int64(100 + i), "Google",
			"https://www.nexmark.com/xzct/bv_c/wbmf/item.htm?query=1&channel_id=1275068416",
			ws + int64(i)*1000, "xthzfkqhgsnhnkrnjpdmvmkufsrrdcdyouqsnwhwtq"}
		for c, d := range row {
			types.Put(bb.Field(c), d, bidSchema[c].Type)
		}
	}
	rec := bb.NewRecordBatch()
	bb.Release()
	defer rec.Release()
	ctx := testContext(b)

	b.ResetTimer()
	start := time.Now()
	for n := 0; n < b.N; n += 1024 {
		batch := rec
		if b.N-n < 1024 {
			batch = rec.NewSlice(0, int64(b.N-n))
		}
		if err := s.Write(ctx, connectors.SinkBatch{Record: batch}); err != nil {
			b.Fatal(err)
		}
		if batch != rec {
			batch.Release()
		}
		if (n/1024)%16 == 15 { // an epoch every 16 batches
			if err := s.Commit(ctx, uint64(n)); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := s.Commit(ctx, uint64(b.N)); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
}
