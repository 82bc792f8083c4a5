package kafka

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/types"
)

// testTimeout bounds every wait on the broker: a test that would hang
// fails instead.
const testTimeout = 30 * time.Second

// startCluster starts an in-process Kafka cluster with the topics given, of
// partitions partitions each, and stops it when the test ends.
func startCluster(t testing.TB, partitions int32, topics []string, opts ...kfake.Opt) (*kfake.Cluster, string) {
	t.Helper()
	opts = append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(partitions, topics...)}, opts...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, strings.Join(c.ListenAddrs(), ",")
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// kclient is an independent Kafka client (franz-go) for producing test
// input and reading what the sink wrote.
func kclient(t testing.TB, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	opts = append([]kgo.Opt{kgo.SeedBrokers(strings.Split(addr, ",")...),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0)}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// produce writes values to one partition of topic.
func produce(t testing.TB, cl *kgo.Client, topic string, partition int32, values ...string) {
	t.Helper()
	recs := make([]*kgo.Record, len(values))
	for i, v := range values {
		recs[i] = &kgo.Record{Topic: topic, Partition: partition, Value: []byte(v)}
	}
	produceRecords(t, cl, recs...)
}

func produceRecords(t testing.TB, cl *kgo.Client, recs ...*kgo.Record) {
	t.Helper()
	if err := cl.ProduceSync(testContext(t), recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// consumeAll reads every record of topic from the start until it has n.
func consumeAll(t testing.TB, addr, topic string, n int) []*kgo.Record {
	t.Helper()
	cl := kclient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100*time.Millisecond))
	ctx := testContext(t)
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records of topic %s: %v", len(out), n, topic, ctx.Err())
		}
		for _, e := range fs.Errors() {
			t.Fatalf("consume %s: %v", topic, e.Err)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out
}

// options validates opts as CREATE SOURCE (or CREATE SINK, sink true)
// would, defaults included.
func options(t testing.TB, sink bool, opts map[string]string) connectors.Options {
	t.Helper()
	c := Connector()
	if sink {
		c = c.SinkOptions()
	}
	o, err := c.Validate(opts)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

var eventSchema = types.Schema{
	{Name: "id", Type: types.Int8},
	{Name: "name", Type: types.Text},
}

// sourceConfig is a JSON source of eventSchema on topic at addr, with extra
// options.
func sourceConfig(t testing.TB, addr, topic string, extra map[string]string) connectors.SourceConfig {
	t.Helper()
	opts := map[string]string{"connector": "kafka", optTopic: topic, optBootstrap: addr}
	for k, v := range extra {
		opts[k] = v
	}
	return connectors.SourceConfig{
		Name:    "src",
		Schema:  eventSchema,
		Options: options(t, false, opts),
		Format:  connectors.Format{Format: "PLAIN", Encode: "JSON"},
		Alloc:   checkedAlloc(t),
	}
}

func newSource(t testing.TB, cfg connectors.SourceConfig) *Source {
	t.Helper()
	s, err := NewSource(testContext(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func checkedAlloc(t testing.TB) memory.Allocator {
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { alloc.AssertSize(t, 0) })
	return alloc
}

func open(t testing.TB, s *Source, partition int32, pos connectors.Position) connectors.Reader {
	t.Helper()
	r, err := s.Open(testContext(t), connectors.Split{ID: fmt.Sprint(partition)}, pos)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// readResult is what a reader returned over several batches.
type readResult struct {
	rows     []string // "v1|v2|...", NULL for null
	errors   []connectors.RecordError
	position connectors.Position
}

// read calls Next until n rows and bad records have come, or fails.
func read(t testing.TB, r connectors.Reader, n int) readResult {
	t.Helper()
	ctx := testContext(t)
	var res readResult
	for len(res.rows)+len(res.errors) < n {
		b, err := r.Next(ctx)
		if err != nil {
			t.Fatalf("after %d of %d records: %v", len(res.rows)+len(res.errors), n, err)
		}
		res.add(b)
	}
	return res
}

func (res *readResult) add(b connectors.Batch) {
	if b.Record != nil {
		res.rows = append(res.rows, render(b.Record)...)
		b.Record.Release()
	}
	res.errors = append(res.errors, b.Errors...)
	if b.Position != "" {
		res.position = b.Position
	}
}

// render prints a record as one "v1|v2|..." string per row.
func render(rec arrow.Record) []string {
	schema := types.Schema{}
	for _, f := range rec.Schema().Fields() {
		schema = append(schema, types.Column{Name: f.Name, Type: typeOfArrow(f.Type)})
	}
	out := make([]string, rec.NumRows())
	for i := range out {
		var cells []string
		for c, col := range rec.Columns() {
			if col.IsNull(i) {
				cells = append(cells, "NULL")
				continue
			}
			cells = append(cells, string(types.AppendText(nil, col, i, schema[c].Type)))
		}
		out[i] = strings.Join(cells, "|")
	}
	return out
}

func typeOfArrow(dt arrow.DataType) types.T {
	for _, t := range []types.T{types.Bool, types.Int2, types.Int4, types.Int8, types.Float8, types.Text, types.Bytea, types.TimestampTZ, types.Timestamp} {
		if arrow.TypeEqual(t.Arrow(), dt) {
			return t
		}
	}
	panic("no type for " + dt.String())
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}

// events returns n JSON events {"id":first+i,"name":"e<first+i>"} and the
// rows they decode to.
func events(first, n int) (values, rows []string) {
	for i := first; i < first+n; i++ {
		values = append(values, fmt.Sprintf(`{"id":%d,"name":"e%d"}`, i, i))
		rows = append(rows, fmt.Sprintf("%d|e%d", i, i))
	}
	return values, rows
}

// freePort returns a TCP port nothing listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
