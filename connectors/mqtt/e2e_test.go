package mqtt_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/jackc/pgx/v5"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/connectors/mqtt"
	"github.com/sluicedb/sluice/internal/sqllogictest"
	"github.com/sluicedb/sluice/internal/testserver"
)

const brokerAddr = "127.0.0.1:1883"

// Through SQL: 25,000 QoS 1 messages from four devices, a few
// malformed, into a source with INCLUDE topic and a tumbling-window view;
// the view converges to the aggregate computed here, and error_rows counts
// the malformed messages.
func TestSQLTumblingWindowOverMQTT(t *testing.T) {
	sqllogictest.RequireService(t, "Mosquitto", brokerAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv := testserver.Start(t, connectors.NewRegistry(mqtt.Connector()))
	conn, err := srv.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())

	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	base := "sluice-test/e2e/" + hex.EncodeToString(suffix[:])
	for _, sql := range []string{
		`CREATE SOURCE readings (device INT, v BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)
		 INCLUDE topic AS topic
		 WITH (connector = 'mqtt', url = 'tcp://` + brokerAddr + `', topic = '` + base + `/+/reading', qos = '1')
		 FORMAT PLAIN ENCODE JSON`,
		`CREATE MATERIALIZED VIEW per_window AS
		 SELECT window_start, topic, count(*) AS n, sum(v) AS total
		 FROM TUMBLE(readings, ts, INTERVAL '10' SECOND) GROUP BY window_start, topic`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	// MQTT does not replay: publish only once the view's reader has
	// subscribed. The test publishes a malformed message until one is
	// counted in error_rows: from then on the subscription is in place
	// (SHOW SOURCES' status "running" says the reader opened, which for
	// this connector is the same moment, but the count is the proof).
	pub := dial(t, ctx)
	topic0 := base + "/dev0/reading"
	warmups := 0
	waitFor(t, ctx, "the reader to subscribe", func() (bool, string) {
		if _, err := pub.Publish(ctx, &paho.Publish{Topic: topic0, QoS: 1, Payload: []byte("warming up")}); err != nil {
			t.Fatal(err)
		}
		warmups++
		bad := sourceCounter(t, ctx, conn, "readings", "error_rows")
		return bad > 0, fmt.Sprint(bad, " error rows")
	})

	const n = 25_000
	start := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	type key struct{ window, topic string }
	want := map[key][2]int64{}
	var goodIDs []int
	malformed := 0
	for i := range n {
		device := i % 4
		topic := fmt.Sprintf("%s/dev%d/reading", base, device)
		var payload string
		if i%997 == 500 {
			payload = fmt.Sprintf(`{"device": %d, "v": "oops", "ts": "2026-05-01 00:00:00"}`, device)
			malformed++
		} else {
			ts := start.Add(time.Duration(i) * 100 * time.Millisecond)
			v := int64(i % 37)
			payload = fmt.Sprintf(`{"device": %d, "v": %d, "ts": "%s"}`, device, v, ts.Format("2006-01-02 15:04:05.000"))
			goodIDs = append(goodIDs, i)
			k := key{ts.Truncate(10 * time.Second).Format("2006-01-02 15:04:05"), topic}
			c := want[k]
			want[k] = [2]int64{c[0] + 1, c[1] + v}
		}
		if _, err := pub.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: []byte(payload)}); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	var wantRows []string
	for k, c := range want {
		wantRows = append(wantRows, fmt.Sprintf("%s|%s|%d|%d", k.window, k.topic, c[0], c[1]))
	}
	slices.Sort(wantRows)

	waitFor(t, ctx, "the view to equal the aggregate", func() (bool, string) {
		got := queryRows(t, ctx, conn, "SELECT window_start, topic, n, total FROM per_window ORDER BY window_start, topic")
		return slices.Equal(got, wantRows), fmt.Sprintf("%d of %d rows; source: rows %s, error_rows %s, late_rows %s, status %s",
			len(got), len(wantRows), sourceField(t, ctx, conn, "readings", "rows"), sourceField(t, ctx, conn, "readings", "error_rows"),
			sourceField(t, ctx, conn, "readings", "late_rows"), sourceField(t, ctx, conn, "readings", "status"))
	})
	// The warm-up messages published before the subscription was in place
	// are gone (MQTT does not replay); the others count as bad records.
	if bad := sourceCounter(t, ctx, conn, "readings", "error_rows"); bad < int64(malformed+1) || bad > int64(malformed+warmups) {
		t.Errorf("error_rows = %d, want the %d malformed messages and 1 to %d warm-up messages", bad, malformed, warmups)
	}
	if rows := sourceCounter(t, ctx, conn, "readings", "rows"); rows != int64(len(goodIDs)) {
		t.Errorf("rows = %d, want %d", rows, len(goodIDs))
	}
}

func dial(t *testing.T, ctx context.Context) *paho.Client {
	t.Helper()
	c, err := net.Dial("tcp", brokerAddr)
	if err != nil {
		t.Fatal(err)
	}
	id := "sluice-test-e2e-pub-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	cli := paho.NewClient(paho.ClientConfig{Conn: c, ClientID: id})
	if _, err := cli.Connect(ctx, &paho.Connect{ClientID: id, CleanStart: true, KeepAlive: 30}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Disconnect(&paho.Disconnect{}) })
	return cli
}

// waitFor polls cond until it holds or ctx ends; cond says where it stands.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() (bool, string)) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, state := cond()
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v (%s)", what, ctx.Err(), state)
		case <-tick.C:
		}
	}
}

// queryRows runs sql and renders each row as "v1|v2|...", in text form.
func queryRows(t *testing.T, ctx context.Context, conn *pgx.Conn, sql string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	rows, err := conn.Query(ctx, sql, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var vals []string
		for _, v := range rows.RawValues() {
			vals = append(vals, string(v))
		}
		out = append(out, strings.Join(vals, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// sourceField returns a column of SHOW SOURCES for source.
func sourceField(t *testing.T, ctx context.Context, conn *pgx.Conn, source, column string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	rows, err := conn.Query(ctx, "SHOW SOURCES", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	idx := -1
	for i, f := range rows.FieldDescriptions() {
		if f.Name == column {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatalf("SHOW SOURCES has no column %q", column)
	}
	for rows.Next() {
		if vals := rows.RawValues(); string(vals[0]) == source {
			return string(vals[idx])
		}
	}
	t.Fatalf("SHOW SOURCES has no source %q", source)
	return ""
}

func sourceCounter(t *testing.T, ctx context.Context, conn *pgx.Conn, source, column string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(sourceField(t, ctx, conn, source, column), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
