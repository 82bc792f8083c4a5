package kafka

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicedb/sluice/connectors"
	"github.com/sluicedb/sluice/types"
)

// requireBinary returns the path of the command name, or skips the test
// when it is not installed, unless SLUICE_TEST_SERVICES=required (as CI
// sets it), which makes its absence a failure: the rule
// internal/sqllogictest.RequireService applies to services.
func requireBinary(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("SLUICE_TEST_SERVICES") == "required" {
		t.Fatalf("%s is required (SLUICE_TEST_SERVICES=required) but not installed: %v", name, err)
	}
	t.Skipf("skipping: %s is not installed (%v); set SLUICE_TEST_SERVICES=required to make this a failure", name, err)
	return ""
}

// kcat runs kcat against the broker at addr with stdin as input and
// returns what it printed.
func kcat(t *testing.T, addr, stdin string, args ...string) string {
	t.Helper()
	path := requireBinary(t, "kcat")
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, append([]string{"-b", addr, "-q"}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kcat %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// kcat, a librdkafka client, produces JSON lines that the source reads.
func TestKcatProducesSourceReads(t *testing.T) {
	requireBinary(t, "kcat")
	_, addr := startCluster(t, 2, []string{"events"})
	values, rows := events(0, 100)
	// -K: splits each line into key:value.
	var in strings.Builder
	for i, v := range values {
		in.WriteString([]string{"a", "b"}[i%2] + ":" + v + "\n")
	}
	in.WriteString("k:this is not JSON\n")
	kcat(t, addr, in.String(), "-P", "-t", "events", "-p", "1", "-K:")

	cfg := sourceConfig(t, addr, "events", nil)
	cfg.Schema = append(slices.Clone(eventSchema), types.Column{Name: "k", Type: types.Text})
	cfg.Includes = []connectors.Include{{What: "key", Column: "k"}}
	got := read(t, open(t, newSource(t, cfg), 1, ""), 101)
	want := make([]string, len(rows))
	for i, r := range rows {
		want[i] = r + "|" + []string{"a", "b"}[i%2]
	}
	if !slices.Equal(got.rows, want) {
		t.Errorf("got %v, want %v", got.rows, want)
	}
	if len(got.errors) != 1 || got.errors[0].Where != "partition 1 offset 100" {
		t.Errorf("bad records %v, want the last message", got.errors)
	}
}

// kcat consumes what the upsert sink wrote, tombstone included.
func TestKcatConsumesSinkOutput(t *testing.T) {
	requireBinary(t, "kcat")
	_, addr := startCluster(t, 1, []string{"stats"})
	s := newSink(t, sinkConfig(t, addr, "stats", typeUpsert, []int{1}, "JSON", map[string]string{optCompression: "lz4"}))
	alloc := memory.NewGoAllocator()
	ctx := testContext(t)
	rec := statRecord(t, alloc,
		[]types.Datum{ws, int64(7), int64(3), 12.5, "Google"},
		[]types.Datum{ws, int64(7), int64(3), 12.5, "Google"})
	err := s.Write(ctx, connectors.SinkBatch{Record: rec, Kinds: []connectors.RowKind{connectors.RowInsert, connectors.RowDelete}})
	rec.Release()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// -Z prints a null value as NULL; -e exits at the end of the topic.
	out := kcat(t, addr, "", "-C", "-t", "stats", "-o", "beginning", "-e", "-Z", "-f", "%k => %s\n")
	want := `{"auction":7} => {"window_start":"2026-01-02 03:04:05.000000","auction":7,"bids":3,"avg_price":12.5,"channel":"Google"}` + "\n" +
		`{"auction":7} => NULL` + "\n"
	if out != want {
		t.Errorf("kcat read\n%s\nwant\n%s", out, want)
	}
}
