package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/connectors/kafka"
	"github.com/sluicedb/sluice/connectors/nexmark"
)

// `sluice nexmark produce` writes each event, once, to its type's topic, in
// event-id order.
func TestNexmarkProduceWritesTheStream(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	addr := freeAddr(t)
	stop, err := kafka.StartBroker(ctx, addr, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	const events = 5000
	var stdout, stderr bytes.Buffer
	code := run([]string{"nexmark", "produce", "--bootstrap-server", addr, "--events", "5000", "--seed", "3", "--topic-prefix", "nx-"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "wrote 5000 events to nx-person, nx-auction and nx-bid") {
		t.Errorf("stdout: %q", stdout.String())
	}

	want := map[string][]string{}
	stream := nexmark.NewStream(3, 0)
	for range events {
		table, doc := stream.Next()
		want["nx-"+table] = append(want["nx-"+table], string(doc))
	}
	if len(want["nx-person"]) != 100 || len(want["nx-auction"]) != 300 || len(want["nx-bid"]) != 4600 {
		t.Fatalf("unexpected proportions: %d %d %d", len(want["nx-person"]), len(want["nx-auction"]), len(want["nx-bid"]))
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("nx-person", "nx-auction", "nx-bid"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := map[string][]string{}
	for n := 0; n < events; {
		fetches := cl.PollFetches(ctx)
		if err := fetches.Err0(); err != nil {
			t.Fatalf("after %d records: %v", n, err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			got[r.Topic] = append(got[r.Topic], string(r.Value))
			n++
		})
	}
	for topic, docs := range want {
		if len(got[topic]) != len(docs) {
			t.Fatalf("%s: %d records, want %d", topic, len(got[topic]), len(docs))
		}
		for i := range docs {
			if got[topic][i] != docs[i] {
				t.Fatalf("%s record %d:\ngot  %s\nwant %s", topic, i, got[topic][i], docs[i])
			}
		}
	}
}

func TestNexmarkProduceErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"nexmark"}, 2, "the only subcommand is produce"},
		{[]string{"nexmark", "produce", "--events", "10"}, 2, "--bootstrap-server is required"},
		{[]string{"nexmark", "produce", "--bootstrap-server", "127.0.0.1:1"}, 2, "--events must be positive"},
		{[]string{"nexmark", "produce", "--bootstrap-server", "127.0.0.1:1", "--events", "5", "--rate", "-1"}, 2, "--rate must not be negative"},
		// Port 1 refuses connections: the error says what to check.
		{[]string{"nexmark", "produce", "--bootstrap-server", "127.0.0.1:1", "--events", "5"}, 1, "cannot reach Kafka at 127.0.0.1:1"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr.String(), tc.code, tc.msg)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"nexmark", "--help"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "sluice nexmark produce") {
		t.Errorf("--help: exit %d, %q", code, stdout.String())
	}
}
