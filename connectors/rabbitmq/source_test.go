package rabbitmq

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/pgerror"
)

func TestReadsEveryGoodMessageOnceAndCountsMalformed(t *testing.T) {
	requireBroker(t)
	queue := uniqueName(t)
	b := newBroker(t)
	b.deleteQueueLater(queue)
	s := mustSource(t, sourceOpts{options: map[string]string{"url": brokerURL, "queue": queue, "queue.durable": "false"}})
	var want []string
	bad := 0
	for i := range 500 {
		switch i % 40 {
		case 3:
			b.publish("", queue, fmt.Sprintf(`{"id": %d, "name": `, i))
			bad++
		case 4:
			b.publish("", queue, `{"id": "seven"}`)
			bad++
		case 5:
			b.publish("", queue, "  ")
		default:
			b.publish("", queue, jsonRow(i, fmt.Sprint("n", i)))
			want = append(want, fmt.Sprintf("%d|n%d", i, i))
		}
	}
	r := openReader(t, s)
	got := readUntil(t, r, len(want), bad)
	settle(t, r)
	slices.Sort(got.rows)
	slices.Sort(want)
	if !slices.Equal(got.rows, want) {
		t.Errorf("got %d rows, want %d", len(got.rows), len(want))
	}
	for _, e := range got.errors {
		if !strings.HasPrefix(e.Where, "queue "+queue+" delivery ") || e.Err == nil || len(e.Raw) == 0 {
			t.Errorf("bad record %+v", e)
		}
	}
	r.Close()
	b.waitConsumers(queue, 0)
	if n := b.ready(queue); n != 0 {
		t.Errorf("%d messages back in the queue after every batch was taken: good and bad ones must be acknowledged", n)
	}
}

func TestExchangeBindingAndCSV(t *testing.T) {
	requireBroker(t)
	queue, exchange := uniqueName(t), uniqueName(t)+"-x"
	b := newBroker(t)
	b.deleteQueueLater(queue)
	if err := b.ch.ExchangeDeclare(exchange, "topic", false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	s := mustSource(t, sourceOpts{encode: "CSV", options: map[string]string{
		"url": brokerURL, "queue": queue, "queue.durable": "false", "exchange": exchange, "routing.key": "orders.*"}})
	r := openReader(t, s)
	defer r.Close()
	b.publish(exchange, "orders.eu", "1,eu")
	b.publish(exchange, "invoices.eu", "2,invoice")
	b.publish(exchange, "orders.us", "3,\"us, east\"")
	b.publish(exchange, "orders.eu.x", "4,deeper")
	got := readUntil(t, r, 2, 0)
	settle(t, r)
	if want := []string{"1|eu", "3|us, east"}; !slices.Equal(got.rows, want) {
		t.Errorf("rows %q, want %q", got.rows, want)
	}
}

// A batch is acknowledged when Next is called after it; one returned last
// and not followed by Next is delivered again to the next reader, and one
// acknowledged is not.
func TestUnacknowledgedBatchIsDeliveredAgain(t *testing.T) {
	requireBroker(t)
	queue := uniqueName(t)
	b := newBroker(t)
	b.deleteQueueLater(queue)
	s := mustSource(t, sourceOpts{options: map[string]string{"url": brokerURL, "queue": queue, "queue.durable": "false",
		"prefetch": "50", "batch.size": "20", "batch.linger": "0"}})
	for i := range 100 {
		b.publish("", queue, jsonRow(i, "r"))
	}
	r1 := openReader(t, s)
	first := readUntil(t, r1, 1, 0)
	second := readUntil(t, r1, 1, 0) // acknowledges first
	r1.Close()
	b.waitConsumers(queue, 0)
	if n, want := b.ready(queue), 100-len(first.rows); n != want {
		t.Errorf("%d messages in the queue after the reader closed, want %d (all but the acknowledged batch)", n, want)
	}

	r2 := openReader(t, s)
	defer r2.Close()
	again := readUntil(t, r2, 100-len(first.rows), 0)
	settle(t, r2)
	seen := map[string]int{}
	for _, row := range again.rows {
		seen[row]++
	}
	for _, row := range first.rows {
		if seen[row] > 0 {
			t.Errorf("row %s was acknowledged but delivered again", row)
		}
	}
	for _, row := range second.rows {
		if seen[row] != 1 {
			t.Errorf("row %s was not acknowledged; delivered again %d times, want once", row, seen[row])
		}
	}
	all := append(slices.Clone(first.rows), again.rows...)
	slices.Sort(all)
	var want []string
	for i := range 100 {
		want = append(want, fmt.Sprintf("%d|r", i))
	}
	slices.Sort(want)
	if !slices.Equal(all, want) {
		t.Errorf("first reader's acknowledged rows and second reader's rows: %d, want each of %d once", len(all), len(want))
	}
}

// A connection RabbitMQ closes makes Next fail with its reason; the batch
// that was not acknowledged comes again to the next reader, as the runtime
// opens it after backoff.
func TestConnectionClosedByTheBroker(t *testing.T) {
	requireBroker(t)
	queue := uniqueName(t)
	b := newBroker(t)
	b.deleteQueueLater(queue)
	s := mustSource(t, sourceOpts{options: map[string]string{"url": brokerURL, "queue": queue, "queue.durable": "false"}})
	r1 := openReader(t, s)
	defer r1.Close()
	for i := range 10 {
		b.publish("", queue, jsonRow(i, "c"))
	}
	before := readUntil(t, r1, 10, 0) // not acknowledged: no Next after it
	closeFromServer(t, r1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := r1.Next(ctx); err == nil || !strings.Contains(err.Error(), "connection lost") {
		t.Fatalf("Next after the connection was closed: %v", err)
	}
	r1.Close()

	r2 := openReader(t, s)
	defer r2.Close()
	for i := 10; i < 20; i++ {
		b.publish("", queue, jsonRow(i, "c"))
	}
	after := readUntil(t, r2, 20, 0)
	settle(t, r2)
	slices.Sort(after.rows)
	want := slices.Clone(before.rows)
	for i := 10; i < 20; i++ {
		want = append(want, fmt.Sprintf("%d|c", i))
	}
	slices.Sort(want)
	if !slices.Equal(after.rows, want) {
		t.Errorf("rows after reconnecting %q, want %q", after.rows, want)
	}
}

func TestDeadLetterExchange(t *testing.T) {
	requireBroker(t)
	queue, dlx, dlq := uniqueName(t), uniqueName(t)+"-dlx", uniqueName(t)+"-dlq"
	b := newBroker(t)
	b.deleteQueueLater(queue)
	b.deleteQueueLater(dlq)
	if err := b.ch.ExchangeDeclare(dlx, "fanout", false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ch.QueueDeclare(dlq, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.ch.QueueBind(dlq, "", dlx, false, nil); err != nil {
		t.Fatal(err)
	}
	s := mustSource(t, sourceOpts{options: map[string]string{"url": brokerURL, "queue": queue, "queue.durable": "false", "dead_letter.exchange": dlx}})
	b.publish("", queue, jsonRow(1, "ok"))
	b.publish("", queue, "not json")
	b.publish("", queue, jsonRow(2, "ok"))
	r := openReader(t, s)
	defer r.Close()
	got := readUntil(t, r, 2, 1)
	settle(t, r)
	if !slices.Equal(got.rows, []string{"1|ok", "2|ok"}) {
		t.Errorf("rows %q", got.rows)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, ok, err := b.ch.Get(dlq, true)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			if string(d.Body) != "not json" {
				t.Errorf("dead letter %q", d.Body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the bad message did not reach the dead-letter queue")
		}
		time.Sleep(10 * time.Millisecond) // polling the dead-letter queue
	}
	if n := b.ready(queue); n != 0 {
		t.Errorf("%d messages left in the queue", n)
	}
}

// Two readers of one queue would share its messages out: the second is
// refused while the first is open.
func TestOneReaderAtATime(t *testing.T) {
	requireBroker(t)
	queue := uniqueName(t)
	b := newBroker(t)
	b.deleteQueueLater(queue)
	s := mustSource(t, sourceOpts{options: map[string]string{"url": brokerURL, "queue": queue, "queue.durable": "false"}})
	r1 := openReader(t, s)
	if r, err := s.Open(context.Background(), connectors.Split{ID: splitID}, ""); err == nil {
		r.Close()
		t.Fatal("a second reader was opened")
	} else if !strings.Contains(err.Error(), "already read") {
		t.Errorf("error %v", err)
	}
	r1.Close()
	openReader(t, s).Close()
}

func TestCreateSourceErrors(t *testing.T) {
	requireBroker(t)
	missing := uniqueName(t)
	cases := []struct {
		name string
		opts map[string]string
		code string
		msg  string
	}{
		{"bad url", map[string]string{"url": "http://x", "queue": "q"}, pgerror.InvalidParameterValue, "amqp://"},
		{"missing queue", map[string]string{"url": brokerURL, "queue": missing, "queue.declare": "false"}, pgerror.UndefinedObject, missing},
		{"missing exchange", map[string]string{"url": brokerURL, "queue": missing, "queue.durable": "false", "exchange": missing + "-x"}, pgerror.UndefinedObject, missing + "-x"},
		{"routing key alone", map[string]string{"url": brokerURL, "queue": "q", "routing.key": "a"}, pgerror.InvalidParameterValue, "exchange"},
		{"prefetch", map[string]string{"url": brokerURL, "queue": "q", "prefetch": "0"}, pgerror.InvalidParameterValue, "between"},
		{"tls without amqps", map[string]string{"url": brokerURL, "queue": "q", "tls.ca": "/x.pem"}, pgerror.InvalidParameterValue, "amqps"},
		{"unreachable", map[string]string{"url": "amqp://guest:guest@127.0.0.1:1/", "queue": "q"}, pgerror.ConnectionException, "127.0.0.1:1"},
		{"bad password", map[string]string{"url": "amqp://guest:wrong@" + brokerAddr + "/", "queue": "q"}, pgerror.ConnectionException, "password"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := newSource(t, sourceOpts{options: c.opts})
			if err == nil {
				t.Fatal("no error")
			}
			if pgerror.Code(err) != c.code || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %v (code %s), want code %s containing %q", err, pgerror.Code(err), c.code, c.msg)
			}
		})
	}
	b := newBroker(t)
	b.deleteQueueLater(missing) // in case a case declared it
}
