package rabbitmq

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/internal/sqllogictest"
	"github.com/sluicedb/sluice/types"
)

const (
	brokerAddr = "127.0.0.1:5672"
	brokerURL  = "amqp://guest:guest@" + brokerAddr + "/"
)

func requireBroker(t *testing.T) {
	t.Helper()
	sqllogictest.RequireService(t, "RabbitMQ", brokerAddr)
}

// uniqueName returns a queue or exchange name no other test run uses.
func uniqueName(t *testing.T) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "sluice-test-" + strings.ReplaceAll(t.Name(), "/", "-") + "-" + hex.EncodeToString(b[:])
}

// broker is an independent amqp091 client that publishes and inspects.
type broker struct {
	t    *testing.T
	conn *amqp.Connection
	ch   *amqp.Channel
}

func newBroker(t *testing.T) *broker {
	t.Helper()
	conn, err := amqp.Dial(brokerURL)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &broker{t: t, conn: conn, ch: ch}
}

// publish sends body to exchange with key and waits for the broker's
// confirmation.
func (b *broker) publish(exchange, key, body string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conf, err := b.ch.PublishWithDeferredConfirmWithContext(ctx, exchange, key, true, false, amqp.Publishing{Body: []byte(body)})
	if err != nil {
		b.t.Fatal(err)
	}
	if ok, err := conf.WaitContext(ctx); err != nil || !ok {
		b.t.Fatalf("publish to %s %s not confirmed: %v", exchange, key, err)
	}
}

// ready returns the messages of queue ready to be delivered (not counting
// those delivered and not acknowledged).
func (b *broker) ready(queue string) int {
	b.t.Helper()
	q, err := b.ch.QueueDeclarePassive(queue, false, false, false, false, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return q.Messages
}

// waitConsumers waits until queue has n consumers: a closed reader's
// deliveries are back in the queue once its consumer is gone.
func (b *broker) waitConsumers(queue string, n int) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		q, err := b.ch.QueueDeclarePassive(queue, false, false, false, false, nil)
		if err != nil {
			b.t.Fatal(err)
		}
		if q.Consumers == n {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("queue %s has %d consumers, want %d", queue, q.Consumers, n)
		}
		time.Sleep(10 * time.Millisecond) // polling the broker's count
	}
}

func (b *broker) deleteQueueLater(queue string) {
	b.t.Cleanup(func() {
		conn, err := amqp.Dial(brokerURL)
		if err != nil {
			return
		}
		defer conn.Close()
		if ch, err := conn.Channel(); err == nil {
			_, _ = ch.QueueDelete(queue, false, false, false)
		}
	})
}

var testSchema = types.Schema{
	{Name: "id", Type: types.Int8},
	{Name: "name", Type: types.Text},
}

type sourceOpts struct {
	options map[string]string
	encode  string
}

func newSource(t *testing.T, o sourceOpts) (*Source, error) {
	t.Helper()
	opts, err := Connector().Validate(o.options)
	if err != nil {
		return nil, err
	}
	if o.encode == "" {
		o.encode = "JSON"
	}
	alloc := memory.NewCheckedAllocator(memory.DefaultAllocator)
	t.Cleanup(func() { alloc.AssertSize(t, 0) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return NewSource(ctx, connectors.SourceConfig{
		Name: "test", Schema: testSchema, Options: opts,
		Format: connectors.Format{Format: "PLAIN", Encode: o.encode}, Alloc: alloc,
	})
}

func mustSource(t *testing.T, o sourceOpts) *Source {
	t.Helper()
	s, err := newSource(t, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openReader(t *testing.T, s *Source) *reader {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := s.Open(ctx, connectors.Split{ID: splitID}, "")
	if err != nil {
		t.Fatal(err)
	}
	return r.(*reader)
}

type collected struct {
	rows   []string
	errors []connectors.RecordError
}

func (c *collected) add(b connectors.Batch) {
	c.errors = append(c.errors, b.Errors...)
	if b.Record != nil {
		c.rows = append(c.rows, rowStrings(b.Record)...)
		b.Record.Release()
	}
}

// readUntil calls Next until rows rows and bad bad records have arrived.
func readUntil(t *testing.T, r connectors.Reader, rows, bad int) collected {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got collected
	for len(got.rows) < rows || len(got.errors) < bad {
		b, err := r.Next(ctx)
		if err != nil {
			t.Fatalf("Next after %d of %d rows and %d of %d bad records: %v", len(got.rows), rows, len(got.errors), bad, err)
		}
		got.add(b)
	}
	return got
}

// settle calls Next once more, which acknowledges what the last call
// returned, and expects nothing more to arrive.
func settle(t *testing.T, r connectors.Reader) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	b, err := r.Next(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next returned %d rows, %d errors, %v; want nothing more", numRows(b), len(b.Errors), err)
	}
}

func numRows(b connectors.Batch) int64 {
	if b.Record == nil {
		return 0
	}
	defer b.Record.Release()
	return b.Record.NumRows()
}

func rowStrings(rec arrow.Record) []string {
	out := make([]string, rec.NumRows())
	for i := range out {
		vals := make([]string, rec.NumCols())
		for j, col := range rec.Columns() {
			vals[j] = col.ValueStr(i)
		}
		out[i] = strings.Join(vals, "|")
	}
	return out
}

func jsonRow(id int, name string) string {
	return fmt.Sprintf(`{"id": %d, "name": %q}`, id, name)
}

// closeFromServer makes RabbitMQ close the reader's connection, with
// rabbitmqctl when it is at hand, else by closing it under the reader.
func closeFromServer(t *testing.T, r *reader) {
	t.Helper()
	local := r.conn.LocalAddr().String()
	if ctl, err := exec.LookPath("rabbitmqctl"); err == nil {
		out, err := exec.Command(ctl, "-q", "list_connections", "pid", "name").Output()
		if err == nil {
			for _, line := range strings.Split(string(out), "\n") {
				fields := strings.Fields(line)
				if len(fields) >= 2 && strings.Contains(line, local+" ->") {
					if out, err := exec.Command(ctl, "close_connection", fields[0], "closed by the test").CombinedOutput(); err != nil {
						t.Fatalf("rabbitmqctl close_connection: %v: %s", err, out)
					}
					return
				}
			}
		}
		t.Logf("rabbitmqctl did not list connection %s (%v); closing it on the client side", local, err)
	}
	_ = r.conn.Close()
}
