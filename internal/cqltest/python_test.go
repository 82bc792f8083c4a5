package cqltest

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	osexec "os/exec"
	"reflect"
	"testing"
)

// TestPythonDriver drives the server with the DataStax Python driver, an
// implementation of the protocol independent of gocql, so that the server
// is not merely bug-compatible with the driver the sink uses. It skips when
// python3-cassandra is not installed, unless SLUICE_TEST_SERVICES=required.
func TestPythonDriver(t *testing.T) {
	py := "/usr/bin/python3"
	if err := osexec.Command(py, "-c", "import cassandra.cluster").Run(); err != nil {
		msg := "python3-cassandra is not installed (apt-get install python3-cassandra; .ci/run installs it)"
		if os.Getenv("SLUICE_TEST_SERVICES") == "required" {
			t.Fatalf("%s: %v (SLUICE_TEST_SERVICES=required)", msg, err)
		}
		t.Skipf("skipping: %s; set SLUICE_TEST_SERVICES=required to make this a failure", msg)
	}
	srv := Start(t, Options{})
	host, port, _ := net.SplitHostPort(srv.Addr())
	cmd := osexec.CommandContext(testContext(t), py, "testdata/python_driver.py", host, port)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("python driver: %v\nstderr:\n%s", err, stderr.String())
	}
	var got map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("output %q: %v\nstderr:\n%s", stdout.String(), err, stderr.String())
	}
	want := map[string]any{
		"protocol_version":    4.0,
		"routing_key_indexes": []any{0.0},
		"rows": []any{
			[]any{2.0, "bob", nil, 2.5}, // an empty list reads back as null, as in Cassandra
			[]any{3.0, "cy", nil, nil},
		},
		"partition_key":  []any{"day"},
		"clustering_key": []any{"seq"},
		"column_types": map[string]any{
			"day": "text", "seq": "int", "name": "text", "tags": "list<text>", "amount": "double",
		},
		"unknown_table": "InvalidRequest",
	}
	for k, w := range want {
		if !reflect.DeepEqual(got[k], w) {
			t.Errorf("%s: got %#v, want %#v", k, got[k], w)
		}
	}
	rows, err := srv.Rows("py", "events")
	if err != nil || len(rows) != 2 {
		t.Errorf("the server holds %v, %v", rows, err)
	}
}
