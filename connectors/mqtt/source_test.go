package mqtt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/pgerror"
	"github.com/sluicedb/sluice/types"
)

// The sentinel is published last on a subscribed topic; MQTT keeps the
// order of one publisher's messages to one subscriber, so once it is read
// everything published before it has been delivered, and anything extra
// (a duplicate, a message of a topic not subscribed) would show.
const sentinelID = -1

// readToSentinel reads until the sentinel row and returns what came before.
func readToSentinel(t *testing.T, r connectors.Reader) collected {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got collected
	for {
		b, err := r.Next(ctx)
		if err != nil {
			t.Fatalf("Next after %d rows and %d bad records: %v", len(got.rows), len(got.errors), err)
		}
		got.add(b)
		for i, row := range got.rows {
			if strings.HasPrefix(row, strconv.Itoa(sentinelID)+"|") {
				if i != len(got.rows)-1 {
					t.Fatalf("rows after the sentinel: %q", got.rows[i+1:])
				}
				got.rows = got.rows[:i]
				return got
			}
		}
	}
}

func TestReadsEveryGoodMessageOnceAndCountsMalformed(t *testing.T) {
	requireBroker(t)
	base := uniqueTopic(t)
	s := mustSource(t, sourceOpts{
		options:  map[string]string{"url": "tcp://" + brokerAddr, "topic": base + "/+/data"},
		schema:   append(slices.Clone(testSchema), types.Column{Name: "topic", Type: types.Text}),
		includes: []connectors.Include{{What: "topic", Column: "topic"}},
	})
	r := openReader(t, s)
	defer r.Close()

	pub := newPublisher(t, "sluice-test-pub-"+strconv.Itoa(time.Now().Nanosecond()))
	var want, wantBad []string
	for i := range 600 {
		topic := fmt.Sprintf("%s/dev%d/data", base, i%3)
		switch {
		case i%50 == 7:
			pub.publish(topic, 1, fmt.Sprintf(`{"id": %d, "name": `, i)) // truncated
			wantBad = append(wantBad, "topic "+topic)
		case i%50 == 8:
			pub.publish(topic, 1, fmt.Sprintf(`{"id": "x%d"}`, i)) // not a number
			wantBad = append(wantBad, "topic "+topic)
		case i%50 == 9:
			pub.publish(topic, 1, "") // no record
		default:
			pub.publish(topic, 1, jsonRow(i, "n"+strconv.Itoa(i)))
			want = append(want, fmt.Sprintf("%d|n%d|%s", i, i, topic))
		}
		if i%100 == 0 {
			// Not matched by base/+/data: one level too many, or another
			// last level.
			pub.publish(base+"/dev0/data/x", 1, jsonRow(100000+i, "deeper"))
			pub.publish(base+"/dev0/other", 1, jsonRow(200000+i, "other"))
		}
	}
	pub.publish(base+"/dev0/data", 1, jsonRow(sentinelID, "end"))

	got := readToSentinel(t, r)
	slices.Sort(got.rows)
	slices.Sort(want)
	if !slices.Equal(got.rows, want) {
		t.Errorf("got %d rows, want %d; first differences:\n%s", len(got.rows), len(want), diff(got.rows, want))
	}
	var where []string
	for _, e := range got.errors {
		where = append(where, e.Where)
		if e.Err == nil || len(e.Raw) == 0 {
			t.Errorf("bad record %+v lacks its error or raw bytes", e)
		}
	}
	if !slices.Equal(where, wantBad) {
		t.Errorf("bad records at %q, want %q", where, wantBad)
	}
}

func TestQoSLevels(t *testing.T) {
	requireBroker(t)
	for _, qos := range []string{"0", "at_least_once", "2"} {
		t.Run(qos, func(t *testing.T) {
			topic := uniqueTopic(t)
			s := mustSource(t, sourceOpts{options: map[string]string{
				"url": "tcp://" + brokerAddr, "topic": topic, "qos": qos}})
			r := openReader(t, s)
			defer r.Close()
			pub := newPublisher(t, "sluice-test-pub-qos-"+strconv.Itoa(time.Now().Nanosecond()))
			var want []string
			for i := range 200 {
				pub.publish(topic, s.qos, jsonRow(i, "q"))
				want = append(want, fmt.Sprintf("%d|q", i))
			}
			pub.publish(topic, s.qos, jsonRow(sentinelID, "end"))
			got := readToSentinel(t, r)
			slices.Sort(got.rows)
			slices.Sort(want)
			if !slices.Equal(got.rows, want) {
				t.Errorf("QoS %s: got %d rows, want %d:\n%s", qos, len(got.rows), len(want), diff(got.rows, want))
			}
		})
	}
}

func TestSeveralFiltersAndMultiLevelWildcard(t *testing.T) {
	requireBroker(t)
	base := uniqueTopic(t)
	s := mustSource(t, sourceOpts{
		options:  map[string]string{"url": "mqtt://" + brokerAddr, "topic": base + "/x/#, " + base + "/y"},
		schema:   append(slices.Clone(testSchema), types.Column{Name: "t", Type: types.Varchar}),
		includes: []connectors.Include{{What: "TOPIC", Column: "t"}},
	})
	r := openReader(t, s)
	defer r.Close()
	pub := newPublisher(t, "sluice-test-pub-filters-"+strconv.Itoa(time.Now().Nanosecond()))
	var want []string
	for i, topic := range []string{base + "/x", base + "/x/1", base + "/x/1/2", base + "/y", base + "/y/z", base + "/z", base + "/xx"} {
		pub.publish(topic, 1, jsonRow(i, "f"))
		if i < 4 { // x/# matches x itself and everything below; y only y
			want = append(want, fmt.Sprintf("%d|f|%s", i, topic))
		}
	}
	pub.publish(base+"/y", 1, jsonRow(sentinelID, "end"))
	got := readToSentinel(t, r)
	slices.Sort(got.rows)
	if !slices.Equal(got.rows, want) {
		t.Errorf("got %q, want %q", got.rows, want)
	}
}

func TestCSV(t *testing.T) {
	requireBroker(t)
	topic := uniqueTopic(t)
	s := mustSource(t, sourceOpts{encode: "CSV", options: map[string]string{"url": "tcp://" + brokerAddr, "topic": topic}})
	r := openReader(t, s)
	defer r.Close()
	pub := newPublisher(t, "sluice-test-pub-csv-"+strconv.Itoa(time.Now().Nanosecond()))
	pub.publish(topic, 1, "1,alice")
	pub.publish(topic, 1, "two,bob")
	pub.publish(topic, 1, "3,\"carol, jr\"\n")
	pub.publish(topic, 1, "-1,end")
	got := readToSentinel(t, r)
	if want := []string{"1|alice", `3|carol, jr`}; !slices.Equal(got.rows, want) {
		t.Errorf("rows %q, want %q", got.rows, want)
	}
	if len(got.errors) != 1 || got.errors[0].Where != "topic "+topic {
		t.Errorf("bad records %+v, want one at topic %s", got.errors, topic)
	}
}

// A reader that does not call Next makes the broker hold messages back
// (inflight_messages unacknowledged at most) instead of losing them.
func TestSlowReaderLosesNothing(t *testing.T) {
	requireBroker(t)
	topic := uniqueTopic(t)
	s := mustSource(t, sourceOpts{options: map[string]string{
		"url": "tcp://" + brokerAddr, "topic": topic, "inflight_messages": "50", "batch.size": "20"}})
	r := openReader(t, s)
	defer r.Close()
	pub := newPublisher(t, "sluice-test-pub-slow-"+strconv.Itoa(time.Now().Nanosecond()))
	// Mosquitto queues up to 1000 messages per client (max_queued_messages)
	// beyond those in flight, and drops more: stay within that.
	const n = 900
	var want []string
	for i := range n {
		pub.publish(topic, 1, jsonRow(i, "s"))
		want = append(want, fmt.Sprintf("%d|s", i))
	}
	pub.publish(topic, 1, jsonRow(sentinelID, "end"))
	got := readToSentinel(t, r)
	slices.Sort(got.rows)
	slices.Sort(want)
	if !slices.Equal(got.rows, want) {
		t.Errorf("got %d rows, want %d:\n%s", len(got.rows), len(want), diff(got.rows, want))
	}
}

// With clean_start = false, a batch returned by Next but not acknowledged
// (Next was not called again) is delivered again to the next reader, and
// messages published while no reader was connected are kept by the broker.
func TestPersistentSessionRedeliversWhatWasNotAcknowledged(t *testing.T) {
	requireBroker(t)
	topic := uniqueTopic(t)
	clientID := "sluice-test-persist-" + strconv.Itoa(time.Now().Nanosecond())
	s := mustSource(t, sourceOpts{options: map[string]string{
		"url": "tcp://" + brokerAddr, "topic": topic, "client.id": clientID,
		"clean_start": "false", "session.expiry.interval": "60s", "batch.size": "10", "batch.linger": "0"}})
	pub := newPublisher(t, "sluice-test-pub-persist-"+strconv.Itoa(time.Now().Nanosecond()))

	r1 := openReader(t, s)
	for i := range 20 {
		pub.publish(topic, 1, jsonRow(i, "p"))
	}
	// The first batch is acknowledged by the second call; the second
	// batch is never acknowledged.
	first := readUntil(t, r1, 1, 0, 30*time.Second)
	second := readUntil(t, r1, 1, 0, 30*time.Second)
	r1.Close()
	for i := 20; i < 40; i++ {
		pub.publish(topic, 1, jsonRow(i, "p"))
	}
	pub.publish(topic, 1, jsonRow(sentinelID, "end"))

	r2 := openReader(t, s)
	defer r2.Close()
	again := readToSentinel(t, r2)
	seen := map[string]int{}
	for _, row := range again.rows {
		seen[row]++
	}
	for _, row := range second.rows {
		if seen[row] == 0 {
			t.Errorf("row %s was returned but not acknowledged, and was not delivered again", row)
		}
	}
	all := map[string]bool{}
	for _, rows := range [][]string{first.rows, second.rows, again.rows} {
		for _, row := range rows {
			all[row] = true
		}
	}
	for i := range 40 {
		if row := fmt.Sprintf("%d|p", i); !all[row] {
			t.Errorf("row %s was lost", row)
		}
	}
	for row, n := range seen {
		if n > 1 {
			t.Errorf("row %s delivered %d times to one reader", row, n)
		}
	}
}

// A connection the broker drops (here: another client takes over the
// client identifier) makes Next fail with the reason; a new
// reader, as the runtime opens after backoff, reads on.
func TestConnectionLossIsReportedAndANewReaderReadsOn(t *testing.T) {
	requireBroker(t)
	topic := uniqueTopic(t)
	clientID := "sluice-test-takeover-" + strconv.Itoa(time.Now().Nanosecond())
	s := mustSource(t, sourceOpts{options: map[string]string{
		"url": "tcp://" + brokerAddr, "topic": topic, "client.id": clientID}})
	r1 := openReader(t, s)
	defer r1.Close()
	pub := newPublisher(t, "sluice-test-pub-takeover-"+strconv.Itoa(time.Now().Nanosecond()))
	pub.publish(topic, 1, jsonRow(1, "before"))
	if got := readUntil(t, r1, 1, 0, 30*time.Second); !slices.Equal(got.rows, []string{"1|before"}) {
		t.Fatalf("rows %q", got.rows)
	}

	intruder := newPublisher(t, clientID) // same identifier: the broker drops r1
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := r1.Next(ctx)
	if err == nil || errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "lost") {
		t.Fatalf("Next after the session was taken over: %v, want an error saying so", err)
	}
	r1.Close()
	_ = intruder.c.Disconnect(&paho.Disconnect{})

	r2 := openReader(t, s)
	defer r2.Close()
	pub.publish(topic, 1, jsonRow(2, "after"))
	pub.publish(topic, 1, jsonRow(sentinelID, "end"))
	if got := readToSentinel(t, r2); !slices.Equal(got.rows, []string{"2|after"}) {
		t.Errorf("rows after reconnecting %q", got.rows)
	}
}

// Two readers of one source with a fixed client.id (two views) connect as
// client.id and client.id-2, and both get every message.
func TestTwoReadersWithOneClientID(t *testing.T) {
	requireBroker(t)
	topic := uniqueTopic(t)
	s := mustSource(t, sourceOpts{options: map[string]string{
		"url": "tcp://" + brokerAddr, "topic": topic, "client.id": "sluice-test-two-" + strconv.Itoa(time.Now().Nanosecond())}})
	r1, r2 := openReader(t, s), openReader(t, s)
	defer r1.Close()
	defer r2.Close()
	pub := newPublisher(t, "sluice-test-pub-two-"+strconv.Itoa(time.Now().Nanosecond()))
	pub.publish(topic, 1, jsonRow(5, "both"))
	pub.publish(topic, 1, jsonRow(sentinelID, "end"))
	for _, r := range []connectors.Reader{r1, r2} {
		if got := readToSentinel(t, r); !slices.Equal(got.rows, []string{"5|both"}) {
			t.Errorf("rows %q", got.rows)
		}
	}
}

func TestCreateSourceErrors(t *testing.T) {
	url := "tcp://" + brokerAddr
	cases := []struct {
		name string
		o    sourceOpts
		code string
		msg  string
	}{
		{"scheme", sourceOpts{options: map[string]string{"url": "http://x:1", "topic": "a"}}, pgerror.InvalidParameterValue, "unsupported scheme"},
		{"no host", sourceOpts{options: map[string]string{"url": "127.0.0.1", "topic": "a"}}, pgerror.InvalidParameterValue, "not a broker URL"},
		{"hash inside", sourceOpts{options: map[string]string{"url": url, "topic": "a/#/b"}}, pgerror.InvalidParameterValue, "not a topic filter"},
		{"plus in level", sourceOpts{options: map[string]string{"url": url, "topic": "a/b+"}}, pgerror.InvalidParameterValue, "not a topic filter"},
		{"empty topic", sourceOpts{options: map[string]string{"url": url, "topic": " , "}}, pgerror.InvalidParameterValue, "names no topic"},
		{"qos", sourceOpts{options: map[string]string{"url": url, "topic": "a", "qos": "3"}}, pgerror.InvalidParameterValue, "qos"},
		{"session without id", sourceOpts{options: map[string]string{"url": url, "topic": "a", "clean_start": "false"}}, pgerror.InvalidParameterValue, "client.id"},
		{"inflight", sourceOpts{options: map[string]string{"url": url, "topic": "a", "inflight_messages": "70000"}}, pgerror.InvalidParameterValue, "between 1 and 65535"},
		{"tls without ssl", sourceOpts{options: map[string]string{"url": url, "topic": "a", "tls.ca": "/nonexistent.pem"}}, pgerror.InvalidParameterValue, "TLS URL"},
		{"missing ca", sourceOpts{options: map[string]string{"url": "ssl://127.0.0.1:8883", "topic": "a", "tls.ca": "/nonexistent.pem"}}, pgerror.UndefinedFile, "no such file"},
		{"include key", sourceOpts{options: map[string]string{"url": url, "topic": "a"},
			schema: append(slices.Clone(testSchema), types.Column{Name: "k", Type: types.Bytea}), includes: []connectors.Include{{What: "key", Column: "k"}}},
			pgerror.FeatureNotSupported, "cannot INCLUDE key"},
		{"include topic type", sourceOpts{options: map[string]string{"url": url, "topic": "a"},
			schema: append(slices.Clone(testSchema), types.Column{Name: "t", Type: types.Int4}), includes: []connectors.Include{{What: "topic", Column: "t"}}},
			pgerror.DatatypeMismatch, "must be of type"},
		{"csv header", sourceOpts{options: map[string]string{"url": url, "topic": "a"}, encode: "CSV"}, "", ""},
		{"unreachable", sourceOpts{options: map[string]string{"url": "tcp://127.0.0.1:1", "topic": "a"}}, pgerror.ConnectionException, "127.0.0.1:1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "csv header" {
				// Checked without a broker: the format is refused first.
				if err := checkFormat(connectors.Format{Format: "PLAIN", Encode: "CSV", Options: map[string]string{"header": "true"}}); pgerror.Code(err) != pgerror.FeatureNotSupported {
					t.Errorf("CSV header: %v", err)
				}
				return
			}
			_, err := newSource(t, c.o)
			if err == nil {
				t.Fatal("no error")
			}
			if pgerror.Code(err) != c.code || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %v (code %s), want code %s containing %q", err, pgerror.Code(err), c.code, c.msg)
			}
		})
	}
}

// diff shows the first rows missing from got and the first unexpected ones.
func diff(got, want []string) string {
	count := map[string]int{}
	for _, w := range want {
		count[w]++
	}
	var extra []string
	for _, g := range got {
		if count[g] > 0 {
			count[g]--
		} else {
			extra = append(extra, g)
		}
	}
	var missing []string
	for _, w := range want {
		if count[w] > 0 {
			missing = append(missing, w)
			count[w]--
		}
	}
	return fmt.Sprintf("missing %d %q\nunexpected %d %q", len(missing), head(missing), len(extra), head(extra))
}

func head(s []string) []string { return s[:min(len(s), 10)] }
