package mqtt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/eclipse/paho.golang/paho"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/internal/sqllogictest"
	"github.com/sluicedb/sluice/types"
)

const brokerAddr = "127.0.0.1:1883"

func requireBroker(t *testing.T) {
	t.Helper()
	sqllogictest.RequireService(t, "Mosquitto", brokerAddr)
}

// uniqueTopic returns a topic prefix no other test run uses.
func uniqueTopic(t *testing.T) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	return "sluice-test/" + name + "/" + hex.EncodeToString(b[:])
}

// publisher is an independent client that publishes test messages.
type publisher struct {
	t *testing.T
	c *paho.Client
}

func newPublisher(t *testing.T, clientID string) *publisher {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := net.Dial("tcp", brokerAddr)
	if err != nil {
		t.Fatal(err)
	}
	c := paho.NewClient(paho.ClientConfig{Conn: conn, ClientID: clientID})
	if _, err := c.Connect(ctx, &paho.Connect{ClientID: clientID, CleanStart: true, KeepAlive: 30}); err != nil {
		t.Fatalf("publisher connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}) })
	return &publisher{t: t, c: c}
}

func (p *publisher) publish(topic string, qos byte, payload string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := p.c.Publish(ctx, &paho.Publish{Topic: topic, QoS: qos, Payload: []byte(payload)}); err != nil {
		p.t.Fatalf("publish to %s: %v", topic, err)
	}
}

// testSchema is the declared columns of the test sources.
var testSchema = types.Schema{
	{Name: "id", Type: types.Int8},
	{Name: "name", Type: types.Text},
}

type sourceOpts struct {
	options  map[string]string
	encode   string
	schema   types.Schema
	includes []connectors.Include
}

// newSource validates options as CREATE SOURCE does and builds the source.
func newSource(t *testing.T, o sourceOpts) (*Source, error) {
	t.Helper()
	c := Connector()
	opts, err := c.Validate(o.options)
	if err != nil {
		return nil, err
	}
	if o.encode == "" {
		o.encode = "JSON"
	}
	if o.schema == nil {
		o.schema = testSchema
	}
	alloc := memory.NewCheckedAllocator(memory.DefaultAllocator)
	t.Cleanup(func() { alloc.AssertSize(t, 0) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return NewSource(ctx, connectors.SourceConfig{
		Name: "test", Schema: o.schema, Options: opts,
		Format: connectors.Format{Format: "PLAIN", Encode: o.encode},
		Alloc:  alloc, Includes: o.includes,
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

func openReader(t *testing.T, s *Source) connectors.Reader {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := s.Open(ctx, connectors.Split{ID: splitID}, "")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// collected is what a reader returned: rows as text, and bad records.
type collected struct {
	rows   []string
	errors []connectors.RecordError
}

// readUntil calls Next until want rows and bad records have arrived, or the
// deadline passes.
func readUntil(t *testing.T, r connectors.Reader, rows, bad int, timeout time.Duration) collected {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var got collected
	for len(got.rows) < rows || len(got.errors) < bad {
		b, err := r.Next(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("after %v: %d of %d rows and %d of %d bad records", timeout, len(got.rows), rows, len(got.errors), bad)
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		got.add(b)
	}
	return got
}

func (c *collected) add(b connectors.Batch) {
	c.errors = append(c.errors, b.Errors...)
	if b.Record != nil {
		c.rows = append(c.rows, rowStrings(b.Record)...)
		b.Record.Release()
	}
}

// rowStrings renders each row as "v1|v2|...".
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
